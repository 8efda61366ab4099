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

/// The items of one map call: its job and where their results go (in
/// bunches, so a burst of results wakes the consumer once).
#[derive(Debug)]
pub(crate) struct Batch {
    pub job: Arc<JobSpec>,
    pub sink: Sender<Vec<RawResult>>,
    /// Set when nobody listens any more: its queued items are skipped.
    pub abandoned: AtomicBool,
}

impl Batch {
    pub(crate) fn new(job: Arc<JobSpec>, sink: Sender<Vec<RawResult>>) -> Arc<Batch> {
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

    /// Sends this task's result at once; consumes it.
    pub(crate) fn finish(self, outcome: Outcome<Vec<u8>>, run: RunInfo) {
        let (batch, result) = self.into_result(outcome, run);
        send(&batch, vec![result]);
    }

    /// Turns this task into its result, to be sent by an [`Outbox`].
    pub(crate) fn into_result(
        mut self,
        outcome: Outcome<Vec<u8>>,
        run: RunInfo,
    ) -> (Arc<Batch>, RawResult) {
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
        (Arc::clone(&self.batch), result)
    }
}

fn send(batch: &Batch, results: Vec<RawResult>) {
    if batch.sink.send(results).is_err() {
        batch.abandoned.store(true, Ordering::Relaxed);
    }
}

/// Results gathered during one scheduler step, sent per batch at its end.
#[derive(Default)]
pub(crate) struct Outbox {
    pending: Vec<(Arc<Batch>, Vec<RawResult>)>,
}

impl Outbox {
    /// Reports `task` (sent at the next [`flush`](Outbox::flush)).
    pub(crate) fn finish(&mut self, task: Task, outcome: Outcome<Vec<u8>>, run: RunInfo) {
        let (batch, result) = task.into_result(outcome, run);
        match self
            .pending
            .iter_mut()
            .find(|(b, _)| Arc::ptr_eq(b, &batch))
        {
            Some((_, results)) => results.push(result),
            None => self.pending.push((batch, vec![result])),
        }
    }

    /// Sends everything gathered.
    pub(crate) fn flush(&mut self) {
        for (batch, results) in self.pending.drain(..) {
            send(&batch, results);
        }
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        if !self.reported {
            let mut result = ItemResult::not_run(self.index, "the pool stopped before running it");
            result.attempts = self.attempts;
            send(&self.batch, vec![result]);
        }
    }
}
