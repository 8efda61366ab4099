//! Refilling workers: how many items each worker's pipeline holds, and
//! which chunks go to which worker next.

use std::collections::VecDeque;
use std::time::Instant;

use super::{InFlight, Live, Scheduler, State};
use crate::outcome::Outcome;
use crate::pool::task::{Chunk, RunInfo};
use crate::protocol::{self, Request};

/// Chunks in flight per worker at most.
const MAX_CHUNKS: usize = 64;

impl Scheduler {
    /// How many items to keep in flight per worker: deep while the queue is
    /// long (so tiny items are pipelined), shallow near the end (so slow
    /// items spread evenly). At least two chunks fill the pipe, so a
    /// worker always has its next chunk when one ends.
    pub(super) fn depth(&self) -> usize {
        let workers = self.slots.len().max(1);
        let concurrency = self.concurrency();
        if self.settings.halt_on_error {
            // Nothing waits in a worker's pipe, so a halt stops everything
            // but the items already running.
            return concurrency;
        }
        let queued: usize = self.queue.iter().map(Chunk::count).sum();
        (queued / (2 * workers)).clamp(1, 64).max(concurrency)
    }

    pub(super) fn dispatch(&mut self) {
        if !matches!(self.state, State::Running | State::Closing) {
            return;
        }
        if self.halted.is_some() && self.state == State::Running {
            self.state = State::Closing;
        }
        let depth = self.depth();
        let min_chunks = if self.settings.halt_on_error {
            self.concurrency()
        } else {
            2.max(self.concurrency())
        };
        // Every worker gets work before any gets more.
        let first = self.concurrency().min(min_chunks);
        for index in 0..self.slots.len() {
            self.refill(index, 0, first);
        }
        for index in 0..self.slots.len() {
            self.refill(index, depth, min_chunks);
        }
        self.close_when_idle();
    }

    /// Sends slot `index` chunks until its pipeline is deep enough, in one
    /// write.
    fn refill(&mut self, index: usize, depth: usize, min_chunks: usize) {
        let concurrency = self.concurrency();
        let now = Instant::now();
        let mut frames = Vec::new();
        let slot = &mut self.slots[index];
        let Some(live) = slot.live.as_mut() else {
            return;
        };
        if !live.ready || live.retiring || live.killed_at.is_some() {
            return;
        }
        // Refill at half depth, so one write carries many items.
        let wanted = |live: &Live| {
            let chunks = live.inflight.len();
            chunks < min_chunks || (live.items() < depth && chunks < MAX_CHUNKS)
        };
        let refill = live.inflight.len() < min_chunks || live.items() <= depth / 2;
        while refill && wanted(live) {
            let allowance = self
                .settings
                .max_tasks_per_child
                .map(|m| m.saturating_sub(live.dispatched) as usize);
            if allowance == Some(0) {
                break;
            }
            let Some(chunk) = take_chunk(&mut slot.retry, &mut self.queue, allowance) else {
                break;
            };
            let key = chunk.job_key();
            if live.jobs.insert(key) {
                if let Err(e) = chunk.batch.job.append_setup(&mut frames) {
                    tracing::error!("{e}");
                }
            }
            let seq = self.next_seq;
            self.next_seq += 1;
            let mut chunk = chunk;
            chunk.attempts += 1;
            let run = Request::Run {
                key,
                chunk: seq,
                count: chunk.count() as u32,
                inputs: std::mem::take(&mut chunk.inputs),
            };
            if let Err(e) = protocol::append_frame(&mut frames, &run) {
                tracing::error!("{e}");
            }
            if let Request::Run { inputs, .. } = run {
                chunk.inputs = inputs;
            }
            live.dispatched += chunk.count() as u64;
            live.inflight.push_back(InFlight {
                seq,
                chunk,
                done: 0,
                started: None,
            });
        }
        mark_started(live, concurrency, now);
        if !frames.is_empty() {
            live.conn.send(frames);
        }
        let used_up = self
            .settings
            .max_tasks_per_child
            .is_some_and(|m| live.dispatched >= m);
        if used_up && live.inflight.is_empty() {
            live.retiring = true;
            live.close_input();
        }
    }

    /// In `Closing`, once nothing waits or runs: close every worker's
    /// stdin and move to `Stopping`.
    fn close_when_idle(&mut self) {
        let idle = self.queue.is_empty()
            && self.slots.iter().all(|s| {
                s.retry.is_empty() && s.live.as_ref().is_none_or(|l| l.inflight.is_empty())
            });
        if self.state == State::Closing && idle {
            self.state = State::Stopping;
            for live in self.slots.iter_mut().filter_map(|s| s.live.as_mut()) {
                live.close_input();
            }
        }
    }
}

/// Marks the first `concurrency` chunks as started: the worker runs its
/// chunks in order, so these are the ones running now.
pub(super) fn mark_started(live: &mut Live, concurrency: usize, now: Instant) {
    for f in live.inflight.iter_mut().take(concurrency) {
        f.started.get_or_insert(now);
    }
}

/// The next chunk to send: a retry first, else the queue's front (cut to
/// `allowance` items), skipping chunks nobody waits for.
fn take_chunk(
    retry: &mut VecDeque<Chunk>,
    queue: &mut VecDeque<Chunk>,
    allowance: Option<usize>,
) -> Option<Chunk> {
    let from_retry = !retry.is_empty();
    let source = if from_retry { retry } else { queue };
    loop {
        let chunk = source.pop_front()?;
        if chunk.batch.is_abandoned() {
            chunk.finish(
                Outcome::NotRun("nobody waits for its result".into()),
                RunInfo::default(),
            );
            continue;
        }
        return Some(match allowance {
            Some(n) if n < chunk.count() => {
                let head = chunk.split(0..n);
                source.push_front(chunk.split(n..chunk.count()));
                chunk.consume();
                head
            }
            _ => chunk,
        });
    }
}
