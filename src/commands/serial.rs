//! `--serial`: any job run in this process, item after item, with no
//! worker processes: the single-process baseline a pool is measured
//! against. Each item still ends with an [`ItemResult`] (worker `None`,
//! pid this process's), so every report and output format works unchanged.
//!
//! A panic is caught and becomes `Panicked`; there is no time limit and no
//! crash to survive, since a crash here is the parent's own.

use std::sync::Once;
use std::time::Instant;

use crate::job::Job;
use crate::options::PoolOptions;
use crate::outcome::{ItemResult, Outcome};
use crate::worker::panic;

/// How items are run in this process: the pool settings that still apply.
#[derive(Debug, Clone, Copy)]
pub(super) struct Serial {
    retries: u32,
    retry_errors: bool,
    halt_on_error: bool,
}

impl Serial {
    pub(super) fn new(options: &PoolOptions) -> Serial {
        Serial {
            retries: options.retries,
            retry_errors: options.retry_errors,
            halt_on_error: options.halt_on_error,
        }
    }

    /// Runs `job` on each input in order, handing each result to `take` as
    /// it ends; times are counted from `epoch`.
    pub(super) fn map<J: Job>(
        &self,
        job: &J,
        inputs: Vec<J::Input>,
        epoch: Instant,
        mut take: impl FnMut(ItemResult<J::Output>),
    ) where
        J::Input: Clone,
    {
        static HOOK: Once = Once::new();
        HOOK.call_once(panic::install_hook);
        let mut halted = false;
        for (index, input) in inputs.into_iter().enumerate() {
            if halted {
                take(ItemResult::not_run(
                    index,
                    "an earlier item was not ok (--halt-on-error)",
                ));
                continue;
            }
            let result = self.run_one(job, index, input, epoch);
            halted = self.halt_on_error && !result.outcome.is_ok();
            take(result);
        }
    }

    /// Runs one item, again while it fails and retries are left.
    fn run_one<J: Job>(
        &self,
        job: &J,
        index: usize,
        input: J::Input,
        epoch: Instant,
    ) -> ItemResult<J::Output>
    where
        J::Input: Clone,
    {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let start = Instant::now();
            let outcome = match panic::catch(|| job.run(input.clone())) {
                Ok(Ok(value)) => Outcome::Ok(value),
                Ok(Err(e)) => Outcome::Failed(e.to_string()),
                Err((message, location)) => Outcome::Panicked { message, location },
            };
            let retry = !outcome.is_ok() && self.retry_errors && attempts <= self.retries;
            if !retry {
                return ItemResult {
                    index,
                    outcome,
                    worker: None,
                    pid: Some(std::process::id()),
                    attempts,
                    started: Some(start.saturating_duration_since(epoch)),
                    elapsed: start.elapsed(),
                };
            }
        }
    }
}
