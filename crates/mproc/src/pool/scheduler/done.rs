//! Results from a worker: a `Done` frame checked against what the worker
//! holds, its items reported (each with its own times, placed on the
//! parent's clock) or, for errors to retry, queued again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{dispatch, Live, Scheduler};
use crate::outcome::Outcome;
use crate::pool::task::{Batch, Report, RunInfo};
use crate::protocol::Done;

impl Scheduler {
    /// Items of a chunk ended in a worker: report them (or retry the ones
    /// that failed, when asked).
    pub(super) fn on_done(&mut self, slot: usize, done: Done) {
        let concurrency = self.concurrency();
        let now = self.now();
        let host = self.conn.command(slot).host().map(str::to_string);
        let Some(live) = self.slots[slot].live.as_mut() else {
            return;
        };
        let Some(position) = locate(live, concurrency, &done) else {
            return;
        };
        live.last_report = now;
        let run = run_info(live, slot, &done, now, self.epoch);
        let elapsed = run.elapsed;
        let entry = &mut live.inflight[position];
        // With K > 1 items at once, a chunk's items end in any order.
        let from = done.from as usize;
        entry.record(from, done.count as usize);
        entry.started = Some(now);
        let key = entry.chunk.job_key();
        let chunk_first = entry.chunk.first;
        let attempts = entry.chunk.attempts;
        let mut retry = Vec::new();
        let mut failures = Vec::with_capacity(done.failures.len());
        for (offset, failure) in done.failures {
            let mut outcome: Outcome<()> = failure.into();
            // A remote worker's error (a missing file, say) names its host.
            if let (Outcome::Failed(failure), Some(host)) = (&mut outcome, &host) {
                failure.append(&format!(" (on {host})"));
            }
            let retried = self.settings.retry_errors
                && attempts <= self.settings.retries
                && self.halted.is_none()
                && done.count == 1;
            if retried {
                // The retry carries this attempt, reported with its last.
                let mut again = entry.chunk.split(offset as usize..offset as usize + 1);
                again.earlier.push(run.attempt(outcome));
                retry.push(again);
            } else {
                failures.push((offset - done.from, outcome));
            }
        }
        // A retried item's chunk holds it alone: its report carries them.
        let earlier = std::mem::take(&mut entry.chunk.earlier);
        let failed = !failures.is_empty();
        if retry.is_empty() {
            // Reported while the chunk still holds its batch: no clone of
            // the batch's reference (a locked instruction) per Done.
            let report = Report {
                first: chunk_first + from,
                count: done.count as usize,
                outputs: done.outputs,
                ends: done.ends,
                failures,
                run,
                times: done.times,
                attempts,
                earlier,
                decoded: None,
            };
            self.outbox.push(&entry.chunk.batch, report);
        }
        if entry.done == entry.chunk.count() {
            if let Some(f) = live.inflight.remove(position) {
                f.chunk.consume();
            }
        }
        dispatch::mark_started(live, concurrency, now);
        self.measured(key, elapsed, done.count);
        if !retry.is_empty() {
            // Retries of errors happen one item at a time (such pools
            // report each item): the retry reports this item later.
            self.slots[slot].retry.extend(retry);
            return;
        }
        self.halt_if_failed(failed);
    }

    pub(super) fn report(&mut self, batch: &Arc<Batch>, report: Report, failed: bool) {
        self.outbox.push(batch, report);
        self.halt_if_failed(failed);
    }

    /// Halts the pool on a failed item when asked to.
    fn halt_if_failed(&mut self, failed: bool) {
        if failed && self.settings.halt_on_error && self.halted.is_none() {
            self.halt("an earlier item was not ok (halt on error)".into());
        }
    }
}

/// Where and when the items of `done` ran: slot `slot`'s worker, from
/// the Done's start placed on the parent's clock, for its `elapsed`.
fn run_info(live: &Live, slot: usize, done: &Done, now: Instant, epoch: Instant) -> RunInfo {
    let elapsed = Duration::from_micros(done.elapsed);
    RunInfo {
        worker: Some(slot),
        pid: live.pid,
        started: Some(on_our_clock(live.hello_at, done.started, elapsed, now))
            .map(|t| t.saturating_duration_since(epoch)),
        elapsed,
    }
}

/// When a worker's items that ran for `elapsed` from `started` (its
/// microseconds after its hello, read by us at `hello_at`) began, on our
/// clock; never so late that they would end after `now`, when their
/// report was read.
fn on_our_clock(hello_at: Instant, started: u64, elapsed: Duration, now: Instant) -> Instant {
    let mapped = hello_at + Duration::from_micros(started.min(u64::from(u32::MAX) << 20));
    let latest = now.checked_sub(elapsed).unwrap_or(now);
    mapped.min(latest)
}

/// Where `done`'s items are in `live`'s pipeline, if the worker runs them
/// and the frame adds up; else the worker is killed for what it sent.
/// With concurrency 1 they follow the chunk's last reported item; with
/// K > 1, any items of a chunk it holds that were not reported yet.
fn locate(live: &mut Live, concurrency: usize, done: &Done) -> Option<usize> {
    let position = if concurrency > 1 {
        live.inflight.iter().position(|f| f.seq == done.chunk)
    } else {
        live.inflight
            .iter()
            .take(concurrency)
            .position(|f| f.seq == done.chunk && f.done == done.from as usize)
    };
    let fits = position.is_some_and(|p| {
        let f = &live.inflight[p];
        let end = done.from as usize + done.count as usize;
        end <= f.chunk.count() && !f.any_reported(done.from as usize..end)
    });
    if fits && done.is_consistent() {
        return position;
    }
    let why = format!(
        "worker sent results for items {}..{} of chunk {} that it was not running or that do not add up",
        done.from,
        u64::from(done.from) + u64::from(done.count),
        done.chunk
    );
    live.kill(Some(why));
    None
}
