//! A [`Task`]: one item on its way through the pool, which reports its
//! outcome exactly once.
//!
//! A task that is dropped without having reported (its pool stopped, a
//! channel closed under it) reports "not run" from its `Drop`, so whoever
//! waits for an item's result always gets one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

use crate::outcome::{ItemResult, Outcome};

/// The encoded result of one item, before the typed layer decodes it.
pub(crate) type RawResult = ItemResult<Vec<u8>>;

/// A job as the scheduler sends it: a key, its name and its encoded value.
#[derive(Debug)]
pub(crate) struct JobSpec {
    pub key: u32,
    pub name: String,
    pub config: Vec<u8>,
}

/// The items of one map call: its job and where their results go.
#[derive(Debug)]
pub(crate) struct Batch {
    pub job: Arc<JobSpec>,
    pub sink: Sender<RawResult>,
    /// Set when nobody listens any more: its queued items are skipped.
    pub abandoned: AtomicBool,
}

impl Batch {
    pub(crate) fn new(job: Arc<JobSpec>, sink: Sender<RawResult>) -> Arc<Batch> {
        Arc::new(Batch {
            job,
            sink,
            abandoned: AtomicBool::new(false),
        })
    }

    pub(crate) fn is_abandoned(&self) -> bool {
        self.abandoned.load(Ordering::Relaxed)
    }
}

/// One item of one batch.
#[derive(Debug)]
pub(crate) struct Task {
    pub batch: Arc<Batch>,
    pub index: usize,
    pub input: Vec<u8>,
    /// Times started so far.
    pub attempts: u32,
    reported: bool,
}

/// Where and when a task ran, for its result.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RunInfo {
    pub worker: Option<usize>,
    pub pid: Option<u32>,
    pub started: Option<Duration>,
    pub elapsed: Duration,
}

impl Task {
    pub(crate) fn new(batch: Arc<Batch>, index: usize, input: Vec<u8>) -> Task {
        Task {
            batch,
            index,
            input,
            attempts: 0,
            reported: false,
        }
    }

    pub(crate) fn job_key(&self) -> u32 {
        self.batch.job.key
    }

    /// Sends this task's result; consumes it.
    pub(crate) fn finish(mut self, outcome: Outcome<Vec<u8>>, run: RunInfo) {
        self.reported = true;
        let result = ItemResult {
            index: self.index,
            outcome,
            worker: run.worker,
            pid: run.pid,
            attempts: self.attempts,
            started: run.started,
            elapsed: run.elapsed,
        };
        if self.batch.sink.send(result).is_err() {
            self.batch.abandoned.store(true, Ordering::Relaxed);
        }
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        if !self.reported {
            let mut result = ItemResult::not_run(self.index, "the pool stopped before running it");
            result.attempts = self.attempts;
            let _ = self.batch.sink.send(result);
        }
    }
}
