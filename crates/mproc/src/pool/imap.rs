//! [`IMap`]: the lazy iterator behind `imap`, `imap_unordered` and `map`.
//!
//! It pulls inputs from the caller's iterator only while fewer than the
//! pool's window of items are outstanding, so a ten-million-item input
//! streams in bounded memory. Ordered iteration holds back finished items
//! until all earlier ones are done.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::mpsc::Receiver;
use std::sync::Arc;

use super::task::{Batch, RawResult};
use super::{decode_result, encode_task, Pool};
use crate::job::Job;
use crate::outcome::ItemResult;

/// Results of [`Pool::imap`] or [`Pool::imap_unordered`], as an iterator.
pub struct IMap<'p, J: Job, I> {
    pool: &'p Pool,
    batch: Option<Arc<Batch>>,
    results: Receiver<Vec<RawResult>>,
    /// Received but not yet yielded (unordered: in arrival order).
    arrived: VecDeque<RawResult>,
    inputs: I,
    exhausted: bool,
    submitted: usize,
    delivered: usize,
    ordered: bool,
    /// Ordered mode: slot `i` holds the result of item `delivered + i`.
    held: VecDeque<Option<RawResult>>,
    job: PhantomData<fn() -> J>,
}

impl<'p, J: Job, I: Iterator<Item = J::Input>> IMap<'p, J, I> {
    pub(super) fn new(pool: &'p Pool, job: &J, inputs: I, ordered: bool) -> Self {
        let (batch, results) = pool.batch(job);
        IMap {
            pool,
            batch: Some(batch),
            results,
            arrived: VecDeque::new(),
            inputs,
            exhausted: false,
            submitted: 0,
            delivered: 0,
            ordered,
            held: VecDeque::new(),
            job: PhantomData,
        }
    }

    /// Submits inputs until the window is full or the input ends.
    fn feed(&mut self) {
        let Some(batch) = &self.batch else {
            return;
        };
        while !self.exhausted && self.submitted - self.delivered < self.pool.window {
            let room = (self.pool.window - (self.submitted - self.delivered)).min(512);
            let mut tasks = Vec::with_capacity(room);
            for _ in 0..room {
                match self.inputs.next() {
                    Some(input) => {
                        tasks.extend(encode_task(batch, self.submitted, &input));
                        self.submitted += 1;
                    }
                    None => {
                        self.exhausted = true;
                        break;
                    }
                }
            }
            self.pool.submit(tasks);
        }
        if self.exhausted {
            // Once every task holds its own reference, the batch's sender
            // lives exactly as long as some item is unreported.
            self.batch = None;
        }
    }
}

impl<J: Job, I: Iterator<Item = J::Input>> Iterator for IMap<'_, J, I> {
    type Item = ItemResult<J::Output>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.ordered {
                if let Some(Some(_)) = self.held.front() {
                    self.delivered += 1;
                    return self.held.pop_front().flatten().map(decode_result);
                }
            } else if let Some(r) = self.arrived.pop_front() {
                self.delivered += 1;
                return Some(decode_result(r));
            }
            self.feed();
            if self.exhausted && self.delivered == self.submitted {
                return None;
            }
            // Every submitted task reports exactly once (see task.rs), so
            // this cannot wait for an item that will never come.
            let Ok(bunch) = self.results.recv() else {
                let index = self.delivered;
                self.delivered += 1;
                return Some(ItemResult::not_run(index, "the pool stopped"));
            };
            for r in bunch {
                if self.ordered {
                    let at = r.index - self.delivered;
                    if self.held.len() <= at {
                        self.held.resize_with(at + 1, || None);
                    }
                    self.held[at] = Some(r);
                } else {
                    self.arrived.push_back(r);
                }
            }
        }
    }
}

impl<J: Job, I> Drop for IMap<'_, J, I> {
    fn drop(&mut self) {
        if let Some(batch) = &self.batch {
            batch
                .abandoned
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}
