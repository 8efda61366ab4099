//! Refilling workers: which items go to which worker next, in what
//! pieces, and how far ahead.
//!
//! The policy is work-conserving and sized by measured time (see
//! `docs/ARCHITECTURE.md`, "Dispatch"):
//! - every worker gets something to run before any worker gets more;
//! - with no `chunksize` set, a piece of the queue's front is cut to
//!   about [`CHUNK_WORK`] of measured work, and to at most a
//!   `1 / (2 × threads)` share of what is queued (guided self-scheduling:
//!   pieces shrink as the queue drains); an item of a job not yet measured
//!   goes alone;
//! - a worker is busy while it holds as many unreported items as it runs
//!   at once (one chunk with concurrency 1; K items, from any chunks,
//!   with concurrency K > 1, whose threads claim items one at a time);
//! - a worker is sent more than it runs at once only when its items are
//!   measured faster than [`SLOW`], and then only about
//!   [`PREFETCH_WORK`] more: enough to hide the round trip, never a
//!   slow item waiting behind another while a worker idles.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{InFlight, Live, Scheduler, State};
use crate::outcome::Outcome;
use crate::pool::task::{RunInfo, SentChunk};
use crate::protocol::{self, Request};

/// Chunks in flight per worker at most.
const MAX_CHUNKS: usize = 256;

/// The work an automatic chunk holds, by its job's measured pace.
pub(crate) const CHUNK_WORK: Duration = Duration::from_millis(2);

/// Items measured at least this slow are never sent ahead of a free
/// thread in the worker.
pub(crate) const SLOW: Duration = Duration::from_millis(1);

/// The work sent ahead of what a worker runs, for items faster than
/// [`SLOW`]: it covers the round trip of the next refill.
pub(crate) const PREFETCH_WORK: Duration = Duration::from_millis(2);

impl Scheduler {
    pub(super) fn dispatch(&mut self) {
        if !matches!(self.state, State::Running | State::Closing) {
            return;
        }
        if self.halted.is_some() && self.state == State::Running {
            self.state = State::Closing;
        }
        let mut queued: usize = self.queue.iter().map(SentChunk::count).sum();
        // Every worker gets work to run before any gets work ahead.
        for index in 0..self.slots.len() {
            self.refill(index, false, &mut queued);
        }
        for index in 0..self.slots.len() {
            self.refill(index, true, &mut queued);
        }
        self.take_back();
        self.close_when_idle();
    }

    /// Whether a worker ready for work has a free thread.
    pub(super) fn has_idle_worker(&self) -> bool {
        let concurrency = self.concurrency();
        self.slots
            .iter()
            .filter_map(|s| s.live.as_ref())
            .any(|l| l.usable() && has_free_lane(l, concurrency))
    }

    /// Items of `key`'s job to cut the next piece to, with `queued` items
    /// waiting; `None` when pieces are not cut (a chunksize was set).
    fn piece(&self, key: u32, queued: usize) -> Option<usize> {
        if self.settings.chunksize.is_some() {
            return None;
        }
        if self.settings.halt_on_error {
            return Some(1);
        }
        let threads = self.slots.len().max(1) * self.concurrency();
        let share = queued.div_ceil(2 * threads).max(1);
        let by_time = self.pace.get(&key).map_or(1, |p| p.items_in(CHUNK_WORK));
        Some(by_time.min(share).max(1))
    }

    /// Items of `key`'s job a worker may hold beyond the chunks it runs:
    /// none unless they are measured fast.
    fn ahead(&self, key: u32) -> usize {
        if self.settings.halt_on_error {
            return 0;
        }
        match self.pace.get(&key) {
            Some(p) if p.is_faster_than(SLOW) => p.items_in(PREFETCH_WORK),
            _ => 0,
        }
    }

    /// Sends slot `index` chunks until it runs `concurrency` of them (and,
    /// when `prefetch`, holds its measured allowance ahead), in one write.
    fn refill(&mut self, index: usize, prefetch: bool, queued: &mut usize) {
        let concurrency = self.concurrency();
        let mut frames = Vec::new();
        let Some(key) = self.next_key(index) else {
            return;
        };
        let now = self.now();
        let mut ahead = if prefetch { self.ahead(key) } else { 0 };
        let piece = self.piece(key, *queued);
        let slot = &mut self.slots[index];
        let Some(live) = slot.live.as_mut() else {
            return;
        };
        if !live.ready || live.retiring || live.killed_at.is_some() {
            return;
        }
        if now.saturating_duration_since(live.silent_since()) >= super::take::STUCK {
            // Its running items turned out slow: send nothing ahead.
            ahead = 0;
        }
        // Refill ahead at half the allowance, so one write carries more.
        // (`held` is counted once and kept up to date as chunks are sent.)
        let mut held = waiting_items(live, concurrency);
        let wanted = |live: &Live, held: usize| {
            let chunks = live.inflight.len();
            has_free_lane(live, concurrency) || (held < ahead && chunks < MAX_CHUNKS)
        };
        let refill = has_free_lane(live, concurrency) || held <= ahead / 2;
        while refill && wanted(live, held) {
            let allowance = self
                .settings
                .max_tasks_per_child
                .map(|m| m.saturating_sub(live.dispatched) as usize);
            if allowance == Some(0) {
                break;
            }
            let limit = match (allowance, piece) {
                (Some(a), Some(p)) => Some(a.min(p)),
                (a, p) => a.or(p),
            };
            let from_queue = slot.retry.is_empty();
            let Some(chunk) = take_chunk(&mut slot.retry, &mut self.queue, limit) else {
                break;
            };
            if from_queue {
                *queued = queued.saturating_sub(chunk.count());
            }
            let seq = self.next_seq;
            self.next_seq += 1;
            let count = chunk.count();
            send_chunk(live, chunk, seq, &mut frames);
            if live.inflight.len() > concurrency {
                // It waits behind the chunks the worker runs.
                held += count;
            }
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

    /// The job of the chunk slot `index` would be sent next.
    fn next_key(&self, index: usize) -> Option<u32> {
        self.slots[index]
            .retry
            .front()
            .or_else(|| self.queue.front())
            .map(SentChunk::job_key)
    }

    /// Records how long `count` items of job `key` ran.
    pub(super) fn measured(&mut self, key: u32, elapsed: Duration, count: u32) {
        self.pace.entry(key).record(elapsed, count);
    }

    /// In `Closing`, once nothing waits or runs: close every worker's
    /// stdin and move to `Stopping`. A local worker that has not said
    /// hello yet (its exec waited for a CPU while the others ran every
    /// item) has nothing to finish: it is killed rather than waited for
    /// through the rest of its start.
    fn close_when_idle(&mut self) {
        let idle = self.queue.is_empty()
            && self.slots.iter().all(|s| {
                s.retry.is_empty() && s.live.as_ref().is_none_or(|l| l.inflight.is_empty())
            });
        if self.state == State::Closing && idle {
            self.state = State::Stopping;
            for live in self.slots.iter_mut().filter_map(|s| s.live.as_mut()) {
                if !live.ready && live.conn.has_page() {
                    live.kill(Some("the pool closed before this worker started".into()));
                } else {
                    live.close_input();
                }
            }
        }
    }
}

/// True while a worker runs fewer than `concurrency` items: with
/// concurrency 1, while it holds no chunk; with K > 1, while it holds
/// fewer than K unreported items (its threads claim items, not chunks).
pub(super) fn has_free_lane(live: &Live, concurrency: usize) -> bool {
    free_lanes(live, concurrency) > 0
}

/// How many more items a worker could run at once now.
pub(super) fn free_lanes(live: &Live, concurrency: usize) -> usize {
    if concurrency > 1 {
        concurrency.saturating_sub(live.unreported())
    } else {
        concurrency.saturating_sub(live.inflight.len())
    }
}

/// Items a worker holds that wait behind the ones it runs.
fn waiting_items(live: &Live, concurrency: usize) -> usize {
    if concurrency > 1 {
        return live.unreported().saturating_sub(concurrency);
    }
    live.inflight
        .iter()
        .skip(concurrency)
        .map(|f| f.chunk.count() - f.done)
        .sum()
}

/// Marks the first `concurrency` chunks as started: the worker runs its
/// chunks in order, so these are the ones running now. With K > 1, its
/// first K unreported items (`lanes.rs`).
pub(super) fn mark_started(live: &mut Live, concurrency: usize, now: Instant) {
    if concurrency > 1 {
        return super::lanes::mark_running(live, concurrency, now);
    }
    for f in live.inflight.iter_mut().take(concurrency) {
        f.started.get_or_insert(now);
    }
}

/// The next chunk to send: a retry first, else the queue's front (cut to
/// `limit` items), skipping chunks nobody waits for.
fn take_chunk(
    retry: &mut VecDeque<SentChunk>,
    queue: &mut VecDeque<SentChunk>,
    limit: Option<usize>,
) -> Option<SentChunk> {
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
        return Some(match limit {
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

/// Room for a Run frame's length, variant, key, chunk number, count and
/// inputs' length, past its inputs.
const FRAME_FIELDS: usize = 40;

/// Appends `chunk` to `frames` as request `seq` (after its job's setup,
/// the first time this worker meets the job) and puts it in `live`'s
/// pipeline.
fn send_chunk(live: &mut Live, mut chunk: SentChunk, seq: u64, frames: &mut Vec<u8>) {
    let key = chunk.job_key();
    if !live.jobs.contains(&key) {
        live.jobs.push(key);
        if let Err(e) = chunk.batch.job.append_setup(frames) {
            tracing::error!("{e}");
        }
    }
    chunk.attempts += 1;
    // The frame's few fixed fields and the inputs, reserved at once: a
    // frame grown from nothing reallocates three or four times.
    frames.reserve(FRAME_FIELDS + chunk.inputs.len());
    let run = Request::Run {
        key,
        chunk: seq,
        count: chunk.count() as u32,
        inputs: std::mem::take(&mut chunk.inputs),
    };
    if let Err(e) = protocol::append_frame(frames, &run) {
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
        reported: Vec::new(),
        ahead: 0,
        started: None,
    });
}
