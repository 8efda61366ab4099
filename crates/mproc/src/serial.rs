//! [`Serial`]: any job run in this process, item after item, with no
//! worker processes: the single-process baseline a pool is measured
//! against. Each item still ends with an [`ItemResult`] (worker `None`,
//! pid this process's), so every report and output format works unchanged.
//!
//! It takes the same [`PoolSettings`] as a pool and applies those that
//! still mean something here: retries of errors and halting on the first
//! error. A panic is caught and becomes `Panicked`; there is no time limit
//! and no crash to survive, since a crash here is the parent's own. Its
//! [`Stopper`] ends the items not yet started `NotRun`, as a pool's does.
//! [`Runner`](crate::Runner) puts it and [`Pool`](crate::Pool) behind one
//! surface.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crate::job::Job;
use crate::outcome::{Attempt, ItemResult};
use crate::settings::PoolSettings;
use crate::stopper::Stopper;
use crate::worker::panic;

/// Runs jobs in this process, one item after another.
#[derive(Debug, Clone)]
pub struct Serial {
    settings: PoolSettings,
    epoch: Instant,
    /// This process's id, read once (a system call per item otherwise).
    pid: u32,
    /// Why the run was stopped, once it is (shared by its clones and its
    /// stoppers).
    stopped: Arc<OnceLock<String>>,
}

impl Serial {
    /// Runs with `settings`; item times count from now.
    pub fn new(settings: PoolSettings) -> Serial {
        Serial {
            settings,
            epoch: Instant::now(),
            pid: std::process::id(),
            stopped: Arc::default(),
        }
    }

    /// A handle that stops this run from any thread: the item running
    /// ends as it ends, every later one ends `NotRun` with the reason
    /// (see [`Stopper::stop`]).
    pub fn stopper(&self) -> Stopper {
        let stopped = Arc::clone(&self.stopped);
        Stopper::new(move |why| {
            let _ = stopped.set(why.to_string());
        })
    }

    /// When this runner started; item start times count from here.
    pub fn epoch(&self) -> Instant {
        self.epoch
    }

    /// Runs `job` on each input in order and returns every result.
    pub fn map<J: Job>(
        &self,
        job: &J,
        inputs: impl IntoIterator<Item = J::Input>,
    ) -> Vec<ItemResult<J::Output>>
    where
        J::Input: Clone,
    {
        let mut out = Vec::new();
        self.for_each(job, inputs, |r| out.push(r));
        out
    }

    /// Runs `job` on each input in order, handing each result to `take` as
    /// it ends.
    pub fn for_each<J: Job>(
        &self,
        job: &J,
        inputs: impl IntoIterator<Item = J::Input>,
        mut take: impl FnMut(ItemResult<J::Output>),
    ) where
        J::Input: Clone,
    {
        for result in self.items(job, inputs.into_iter(), false) {
            take(result);
        }
    }

    /// The results of `job` over `inputs`, each item run when its result
    /// is asked for. Once stopped, a `stream` ends (its inputs are read no
    /// further) and a list's remaining inputs end `NotRun`, as in a pool.
    pub(crate) fn items<'s, J: Job, I: Iterator<Item = J::Input>>(
        &'s self,
        job: &'s J,
        inputs: I,
        stream: bool,
    ) -> SerialItems<'s, J, I> {
        SerialItems {
            serial: self,
            job,
            inputs,
            stream,
            next: 0,
            halted: false,
        }
    }

    /// Runs one item, again while it fails and retries are left.
    fn run_one<J: Job>(&self, job: &J, index: usize, input: J::Input) -> ItemResult<J::Output>
    where
        J::Input: Clone,
    {
        let mut attempts = 0;
        let mut earlier = crate::outcome::Attempts::default();
        loop {
            attempts += 1;
            let start = Instant::now();
            let outcome = panic::run_item(|| job.run(input.clone()));
            let (started, elapsed) = (start.saturating_duration_since(self.epoch), start.elapsed());
            let pid = Some(self.pid);
            let retry =
                !outcome.is_ok() && self.settings.retry_errors && attempts <= self.settings.retries;
            if !retry {
                return ItemResult {
                    index,
                    outcome,
                    worker: None,
                    pid,
                    attempts,
                    started: Some(started),
                    elapsed,
                    earlier,
                };
            }
            earlier.push(Attempt {
                outcome: outcome.unvalued(),
                worker: None,
                pid,
                started: Some(started),
                elapsed,
            });
        }
    }
}

/// The lazy results of [`Serial::items`].
pub(crate) struct SerialItems<'s, J, I> {
    serial: &'s Serial,
    job: &'s J,
    inputs: I,
    stream: bool,
    /// The next input's index.
    next: usize,
    /// An item was not ok and the settings halt on error.
    halted: bool,
}

impl<J: Job, I: Iterator<Item = J::Input>> Iterator for SerialItems<'_, J, I>
where
    J::Input: Clone,
{
    type Item = ItemResult<J::Output>;

    fn next(&mut self) -> Option<ItemResult<J::Output>> {
        let stopped = self.serial.stopped.get();
        if stopped.is_some() && self.stream {
            return None;
        }
        let input = self.inputs.next()?;
        let index = self.next;
        self.next += 1;
        if let Some(why) = stopped {
            return Some(ItemResult::not_run(index, why));
        }
        if self.halted {
            return Some(ItemResult::not_run(
                index,
                "an earlier item was not ok (halt on error)",
            ));
        }
        let result = self.serial.run_one(self.job, index, input);
        self.halted = self.serial.settings.halt_on_error && !result.outcome.is_ok();
        Some(result)
    }
}
