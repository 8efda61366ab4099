//! Where items run: a pool of worker processes, or this process
//! (`--serial`), and how each `--mode` hands the results back.

use std::time::Instant;

use mproc::{ItemResult, Pool, Result, Serial};

use super::inputs::Feed;
use crate::jobs::Builtin;
use crate::options::{Mode, PoolCommand};

/// Where items run: a pool of worker processes, or this process.
pub(super) enum Runner {
    Pool(Pool),
    Serial(Serial),
}

impl Runner {
    pub(super) fn start(cmd: &PoolCommand) -> Result<Runner> {
        Ok(if cmd.serial {
            Runner::Serial(Serial::new(cmd.pool_settings()))
        } else {
            Runner::Pool(Pool::start(cmd.pool_settings())?)
        })
    }

    /// Worker processes (none when serial).
    pub(super) fn processes(&self) -> usize {
        match self {
            Runner::Pool(pool) => pool.processes(),
            Runner::Serial(_) => 0,
        }
    }

    /// Lanes of a timeline or trace: one per worker slot (one when serial).
    pub(super) fn lanes(&self) -> usize {
        self.processes().max(1)
    }

    /// The host of each worker slot (`None`: this machine).
    pub(super) fn hosts(&self) -> Vec<Option<String>> {
        match self {
            Runner::Pool(pool) => pool.hosts().to_vec(),
            Runner::Serial(_) => Vec::new(),
        }
    }

    pub(super) fn epoch(&self) -> Instant {
        match self {
            Runner::Pool(pool) => pool.epoch(),
            Runner::Serial(serial) => serial.epoch(),
        }
    }

    pub(super) fn finish(self) -> Result<()> {
        if let Runner::Pool(mut pool) = self {
            pool.close();
            pool.join()?;
        }
        Ok(())
    }

    /// The worker starts and ends seen so far (this process as the one
    /// lane when serial). Read once: the pool hands each event out once.
    pub(super) fn worker_events(&self) -> Vec<crate::trace::WorkerEvent> {
        match self {
            Runner::Pool(pool) => pool.worker_events(),
            Runner::Serial(_) => vec![(0, std::process::id(), std::time::Duration::ZERO, true)],
        }
    }
}

/// Runs `job` over `inputs` with the pool method `mode` (or in this
/// process), handing each result to `take` as it comes, with whether
/// more results are ready at once (when none are, buffered output is
/// written before the wait).
pub(super) fn run_mode<J: Builtin>(
    runner: &Runner,
    job: &J,
    feed: Feed<'_, J::Input>,
    mode: Mode,
    mut take: impl FnMut(ItemResult<J::Output>, bool),
) -> Result<()> {
    let pool = match runner {
        Runner::Serial(serial) => {
            // Each item runs here, between two results: output is written
            // in blocks, at least every `Lines::EVERY` (not a write per
            // item).
            serial.for_each(job, feed, |r| take(r, true));
            return Ok(());
        }
        Runner::Pool(pool) => pool,
    };
    let ordered = match mode {
        // map_async takes every input first, and gives every result at once.
        Mode::Async => {
            let results = pool.map_async(job, feed).get(None)?;
            let last = results.len().saturating_sub(1);
            for (i, r) in results.into_iter().enumerate() {
                take(r, i < last);
            }
            return Ok(());
        }
        // map and imap give the same ordered results; imap streams them.
        Mode::Map | Mode::Imap => true,
        Mode::ImapUnordered => false,
    };
    match (feed, ordered) {
        (Feed::List(inputs), true) => drain(pool.imap(job, inputs), take),
        (Feed::List(inputs), false) => drain(pool.imap_unordered(job, inputs), take),
        (Feed::Stream(inputs), true) => drain(pool.imap_stream(job, inputs), take),
        (Feed::Stream(inputs), false) => drain(pool.imap_unordered_stream(job, inputs), take),
    }
    Ok(())
}

/// Hands each of `results` to `take`, with whether more are ready.
fn drain<J: Builtin, I: Iterator<Item = J::Input>>(
    mut results: mproc::IMap<'_, J, I>,
    mut take: impl FnMut(ItemResult<J::Output>, bool),
) {
    while let Some(r) = results.next() {
        let more = results.has_ready();
        take(r, more);
    }
}
