//! Refilling workers: how deep each worker's pipeline is, and which items
//! go to which worker next.

use std::collections::VecDeque;
use std::time::Instant;

use super::{InFlight, Live, Scheduler, State};
use crate::outcome::Outcome;
use crate::pool::task::{RunInfo, Task};
use crate::protocol::{self, Item, Request};

impl Scheduler {
    /// How many items to keep in flight per worker: deep while the queue is
    /// long (so tiny items are pipelined), shallow near the end (so slow
    /// items spread evenly).
    pub(super) fn depth(&self) -> usize {
        let workers = self.slots.len().max(1);
        let concurrency = self.concurrency();
        if self.settings.halt_on_error {
            // Nothing waits in a worker's pipe, so a halt stops everything
            // but the items already running.
            return concurrency.max(self.settings.chunksize);
        }
        let by_queue = (self.queue.len() / (2 * workers)).clamp(1, 64);
        by_queue.max(concurrency).max(self.settings.chunksize)
    }

    pub(super) fn dispatch(&mut self) {
        if !matches!(self.state, State::Running | State::Closing) {
            return;
        }
        if self.halted.is_some() && self.state == State::Running {
            self.state = State::Closing;
        }
        let concurrency = self.concurrency();
        let now = Instant::now();
        for index in 0..self.slots.len() {
            let depth = self.depth();
            let mut frames = Vec::new();
            let slot = &mut self.slots[index];
            let Some(live) = slot.live.as_mut() else {
                continue;
            };
            if !live.ready || live.retiring {
                continue;
            }
            // Refill at half depth, so one write carries many items.
            let refill = live.inflight.len() <= depth / 2;
            while refill && live.inflight.len() < depth {
                if self
                    .settings
                    .max_tasks_per_child
                    .is_some_and(|m| live.dispatched >= m)
                {
                    break;
                }
                let chunk = take_chunk(&mut slot.retry, &mut self.queue, self.settings.chunksize);
                if chunk.is_empty() {
                    break;
                }
                let key = chunk[0].job_key();
                if live.jobs.insert(key) {
                    let job = &chunk[0].batch.job;
                    let setup = Request::Setup {
                        key,
                        job: job.name.clone(),
                        config: job.config.clone(),
                    };
                    if let Err(e) = protocol::append_frame(&mut frames, &setup) {
                        tracing::error!("{e}");
                    }
                }
                let mut items = Vec::with_capacity(chunk.len());
                for mut task in chunk {
                    let seq = self.next_seq;
                    self.next_seq += 1;
                    task.attempts += 1;
                    items.push(Item {
                        seq,
                        input: task.input.clone(),
                    });
                    live.inflight.push_back(InFlight {
                        seq,
                        task,
                        started: None,
                    });
                    live.dispatched += 1;
                }
                if let Err(e) = protocol::append_frame(&mut frames, &Request::Run { key, items }) {
                    tracing::error!("{e}");
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
                live.conn.close_input();
            }
        }
        let idle = self.queue.is_empty()
            && self.slots.iter().all(|s| {
                s.retry.is_empty() && s.live.as_ref().is_none_or(|l| l.inflight.is_empty())
            });
        if self.state == State::Closing && idle {
            self.state = State::Stopping;
            for live in self.slots.iter_mut().filter_map(|s| s.live.as_mut()) {
                live.conn.close_input();
            }
        }
    }
}

/// Marks the first `concurrency` items as started: the worker runs its
/// items in order, so these are the ones running now.
pub(super) fn mark_started(live: &mut Live, concurrency: usize, now: Instant) {
    for f in live.inflight.iter_mut().take(concurrency) {
        f.started.get_or_insert(now);
    }
}

/// Up to `size` tasks of one job: retries first, then the queue.
fn take_chunk(retry: &mut VecDeque<Task>, queue: &mut VecDeque<Task>, size: usize) -> Vec<Task> {
    if let Some(task) = retry.pop_front() {
        return vec![task];
    }
    let mut chunk: Vec<Task> = Vec::new();
    while chunk.len() < size.max(1) {
        let Some(next) = queue.front() else {
            break;
        };
        if next.batch.is_abandoned() {
            if let Some(task) = queue.pop_front() {
                task.finish(
                    Outcome::NotRun("nobody waits for its result".into()),
                    RunInfo::default(),
                );
            }
            continue;
        }
        if chunk.first().is_some_and(|c| c.job_key() != next.job_key()) {
            break;
        }
        chunk.extend(queue.pop_front());
    }
    chunk
}
