//! [`Serial`]: any job run in this process, item after item, with no
//! worker processes: the single-process baseline a pool is measured
//! against. Each item still ends with an [`ItemResult`] (worker `None`,
//! pid this process's), so every report and output format works unchanged.
//!
//! It takes the same [`PoolSettings`] as a pool and applies those that
//! still mean something here: retries of errors and halting on the first
//! error. A panic is caught and becomes `Panicked`; there is no time limit
//! and no crash to survive, since a crash here is the parent's own.

use std::time::Instant;

use crate::job::Job;
use crate::outcome::{Attempt, ItemResult};
use crate::settings::PoolSettings;
use crate::worker::panic;

/// Runs jobs in this process, one item after another.
#[derive(Debug, Clone)]
pub struct Serial {
    settings: PoolSettings,
    epoch: Instant,
    /// This process's id, read once (a system call per item otherwise).
    pid: u32,
}

impl Serial {
    /// Runs with `settings`; item times count from now.
    pub fn new(settings: PoolSettings) -> Serial {
        Serial {
            settings,
            epoch: Instant::now(),
            pid: std::process::id(),
        }
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
        let mut halted = false;
        for (index, input) in inputs.into_iter().enumerate() {
            if halted {
                take(ItemResult::not_run(
                    index,
                    "an earlier item was not ok (halt on error)",
                ));
                continue;
            }
            let result = self.run_one(job, index, input);
            halted = self.settings.halt_on_error && !result.outcome.is_ok();
            take(result);
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
