//! Workers that run `concurrency` K > 1 items at once: which of a
//! worker's items the parent holds to be running, and what becomes of
//! them when it dies. With K = 1 none of this runs.
//!
//! Such a worker's runner threads each claim the next unclaimed item of
//! the oldest chunk that has one, and report every item in its own `Done`
//! as it ends, so the items of a chunk end out of order ([`InFlight`]
//! keeps which were reported). Claims go in the order the items were sent
//! (chunks in order, a chunk's items in order), and a thread claims again
//! as soon as its item ends: so the items running are among the worker's
//! first K unreported ones, and all of them are running while it holds
//! more. Those first K are its [`Lane`]s, each with the time the parent
//! took it to start (when it was sent to a free thread, or when the item
//! before it on that thread was reported): they carry its time limit, and
//! they are the items blamed when the worker dies. The rest of what it
//! held never started and goes back to the queue, its attempt uncounted.
//!
//! A worker is busy while it holds K unreported items (one per thread); it
//! is sent more only ahead, as a worker of K = 1 is.

use std::time::Instant;

use super::{crashed, InFlight, Live, Scheduler, State};
use crate::outcome::Outcome;
use crate::pool::task::{Report, RunInfo};

/// An item a worker of K > 1 is held to be running.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lane {
    /// Its chunk's number.
    pub seq: u64,
    /// Its offset in the chunk.
    pub offset: usize,
    /// When it started, as far as the parent can tell.
    pub started: Instant,
    /// It ran past the time limit.
    pub late: bool,
}

impl InFlight {
    /// True when item `offset` was reported.
    pub(super) fn is_reported(&self, offset: usize) -> bool {
        offset < self.done
            || self
                .reported
                .get(offset / 64)
                .is_some_and(|w| (w >> (offset % 64)) & 1 == 1)
    }

    /// True when any of items `range` was reported.
    pub(super) fn any_reported(&self, range: std::ops::Range<usize>) -> bool {
        range.start < self.done
            || (self.ahead > 0 && range.into_iter().any(|o| self.is_reported(o)))
    }

    /// Items `from .. from + count` were reported. With K = 1 they always
    /// follow the ones before (`from == done`), and this only counts them.
    pub(super) fn record(&mut self, from: usize, count: usize) {
        if from == self.done && self.ahead == 0 {
            self.done += count;
            return;
        }
        let words = self.chunk.count().div_ceil(64);
        if self.reported.len() < words {
            self.reported.resize(words, 0);
        }
        for offset in from..from + count {
            self.reported[offset / 64] |= 1 << (offset % 64);
        }
        self.ahead += count;
        while self.ahead > 0 && self.is_reported(self.done) {
            self.done += 1;
            self.ahead -= 1;
        }
    }

    /// Items not reported yet.
    pub(super) fn unreported(&self) -> usize {
        self.chunk.count() - self.done - self.ahead
    }

    /// The offsets of the items not reported yet, in order.
    fn unreported_offsets(&self) -> impl Iterator<Item = usize> + '_ {
        (self.done..self.chunk.count()).filter(|&o| !self.is_reported(o))
    }
}

impl Live {
    /// Items it holds that it has not reported.
    pub(super) fn unreported(&self) -> usize {
        self.inflight.iter().map(InFlight::unreported).sum()
    }

    /// Its running items in chunk `seq`.
    pub(super) fn lanes_in(&self, seq: u64) -> usize {
        self.window.iter().filter(|l| l.seq == seq).count()
    }
}

/// Holds `live`'s first `concurrency` unreported items to be running: an
/// item that already was keeps its start, one that joins starts `now`.
pub(super) fn mark_running(live: &mut Live, concurrency: usize, now: Instant) {
    let old = std::mem::take(&mut live.window);
    let mut old = old.into_iter().peekable();
    let mut window = Vec::with_capacity(concurrency.min(live.unreported()));
    'chunks: for f in live.inflight.iter_mut() {
        for offset in f.unreported_offsets() {
            if window.len() == concurrency {
                break 'chunks;
            }
            // Both lists are in (seq, offset) order: seqs grow with each
            // chunk sent.
            while old
                .next_if(|l| (l.seq, l.offset) < (f.seq, offset))
                .is_some()
            {}
            let kept = old.next_if(|l| (l.seq, l.offset) == (f.seq, offset));
            window.push(kept.unwrap_or(Lane {
                seq: f.seq,
                offset,
                started: now,
                late: false,
            }));
        }
        f.started.get_or_insert(now);
    }
    live.window = window;
}

impl Scheduler {
    /// Settles a chunk a dead worker of K > 1 held: its running items
    /// crashed (or timed out, or, when a sibling timed out, go back as
    /// started), the rest go back to the queue unstarted; when the pool
    /// stops, all of them end for the stop's reason.
    pub(super) fn settle_lanes(
        &mut self,
        slot: usize,
        pid: Option<u32>,
        mut entry: InFlight,
        d: &super::gone::Death,
    ) {
        let lanes: Vec<Lane> = d
            .lanes
            .iter()
            .filter(|l| l.seq == entry.seq)
            .copied()
            .collect();
        let stopping = self.state == State::Stopping && self.halted.is_none();
        let any_late = d.lanes.iter().any(|l| l.late);
        let mut unstarted: Option<std::ops::Range<usize>> = None;
        let offsets: Vec<usize> = entry.unreported_offsets().collect();
        for offset in offsets {
            let lane = lanes.iter().find(|l| l.offset == offset);
            let run = RunInfo {
                worker: Some(slot),
                pid,
                started: lane.map(|l| l.started.saturating_duration_since(self.epoch)),
                elapsed: lane
                    .map(|l| d.now.saturating_duration_since(l.started))
                    .unwrap_or_default(),
            };
            if stopping {
                let why = Outcome::NotRun(self.stop_reason.clone());
                self.outbox
                    .finish_range(&entry.chunk, offset..offset + 1, why, run);
                continue;
            }
            let Some(lane) = lane else {
                // Never started: gathered, and sent back with its
                // neighbours.
                unstarted = match unstarted {
                    Some(r) if r.end == offset => Some(r.start..offset + 1),
                    other => {
                        if let Some(r) = other {
                            self.requeue(&entry.chunk, r, false);
                        }
                        Some(offset..offset + 1)
                    }
                };
                continue;
            };
            if any_late && !lane.late {
                // Killed because a sibling item timed out: not its fault.
                self.requeue(&entry.chunk, offset..offset + 1, true);
                continue;
            }
            let outcome = if lane.late {
                Outcome::TimedOut(self.settings.timeout.unwrap_or(run.elapsed))
            } else {
                crashed(Some(d.exit), d.detail.clone())
            };
            self.blame(slot, &mut entry, offset, outcome, run);
        }
        if let Some(r) = unstarted {
            self.requeue(&entry.chunk, r, false);
        }
        entry.chunk.consume();
    }

    /// Item `offset` of `entry` ended with `outcome`: it is retried, or
    /// reported.
    pub(super) fn blame(
        &mut self,
        slot: usize,
        entry: &mut InFlight,
        offset: usize,
        outcome: Outcome<()>,
        run: RunInfo,
    ) {
        if entry.chunk.attempts <= self.settings.retries && self.halted.is_none() {
            // The retry carries this attempt, reported with its last.
            let mut retry = entry.chunk.split(offset..offset + 1);
            retry.earlier.push(run.attempt(outcome));
            self.slots[slot].retry.push_back(retry);
        } else {
            let batch = std::sync::Arc::clone(&entry.chunk.batch);
            let report = Report::all(
                entry.chunk.first + offset,
                1,
                outcome,
                run,
                entry.chunk.attempts,
            )
            .after(std::mem::take(&mut entry.chunk.earlier));
            self.report(&batch, report, true);
        }
    }
}
