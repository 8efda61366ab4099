//! [`IMap`]: the lazy iterator behind `imap`, `imap_unordered` and `map`.
//!
//! It pulls inputs from the caller's iterator only while fewer than the
//! pool's window of items are outstanding, so a ten-million-item input
//! streams in bounded memory. Results arrive as reports of consecutive
//! items and are decoded one at a time as they are yielded. Ordered
//! iteration holds back finished reports until all earlier items are done.
//!
//! A stream ([`Pool::imap_stream`]) pulls its inputs on a feeder thread
//! instead (`feed.rs`); the iterator then only yields.

use std::collections::{BTreeMap, VecDeque};
use std::marker::PhantomData;
use std::sync::mpsc::Receiver;
use std::sync::Arc;

use super::expand::Expand;
use super::feed::{self, FeedState};
use super::task::{Batch, Report, RunInfo};
use super::{Chunks, Pool};
use crate::job::Job;
use crate::outcome::{ItemResult, Outcome};

/// Results of [`Pool::imap`] or [`Pool::imap_unordered`], as an iterator.
pub struct IMap<'p, J: Job, I> {
    pool: &'p Pool,
    batch: Option<Arc<Batch>>,
    results: Receiver<Vec<Report>>,
    /// Reports ready to yield, in order: unordered, as they arrived;
    /// ordered, those that continue the items before them without a gap.
    arrived: VecDeque<Report>,
    /// Ordered: the first item not in `arrived` or before it.
    next_first: usize,
    /// Ordered: reports that came before the ones ahead of them, by their
    /// first item's index (boxed: a B-tree moves its entries as it grows,
    /// and a report is large). Most reports come in order and skip it.
    held: BTreeMap<usize, Box<Report>>,
    /// The report being yielded, and how many of its items are left.
    current: Option<Expand<J::Output>>,
    left: usize,
    inputs: Option<I>,
    /// A stream's feeder: it pulls the inputs.
    feeder: Option<Arc<FeedState>>,
    chunk: usize,
    exhausted: bool,
    submitted: usize,
    delivered: usize,
    ordered: bool,
    job: PhantomData<fn() -> J>,
}

impl<'p, J: Job, I: Iterator<Item = J::Input>> IMap<'p, J, I> {
    pub(super) fn new(pool: &'p Pool, job: &J, inputs: I, ordered: bool) -> Self {
        let chunk = pool.chunk_size(inputs.size_hint().0);
        IMap::empty(pool, job, Some(inputs), chunk, ordered)
    }

    /// A stream: `inputs` are pulled on a feeder thread.
    pub(super) fn stream(pool: &'p Pool, job: &J, inputs: I, ordered: bool) -> Self
    where
        I: Send + 'static,
    {
        let mut imap = IMap::empty(pool, job, None, pool.chunk_size(0), ordered);
        let (window, chunk) = (imap.window(), imap.chunk);
        if let Some(batch) = imap.batch.clone() {
            let ended = Arc::clone(&pool.ended);
            imap.feeder = Some(feed::start(
                inputs,
                batch,
                chunk,
                window,
                pool.submitter(),
                ended,
            ));
        }
        imap
    }

    /// A map of nothing yet, with its batch.
    fn empty(pool: &'p Pool, job: &J, inputs: Option<I>, chunk: usize, ordered: bool) -> Self {
        let (batch, results) = pool.batch(job);
        IMap {
            pool,
            batch: Some(batch),
            results,
            arrived: VecDeque::new(),
            next_first: 0,
            held: BTreeMap::new(),
            current: None,
            left: 0,
            inputs,
            feeder: None,
            chunk,
            exhausted: false,
            submitted: 0,
            delivered: 0,
            ordered,
            job: PhantomData,
        }
    }

    /// Items outstanding at most: the pool's window, and at least four
    /// chunks per worker so every worker has its next chunk ready.
    fn window(&self) -> usize {
        self.pool
            .window
            .max(self.chunk.saturating_mul(4 * self.pool.processes()))
    }

    /// Inputs submitted at once at least: one submission per item taken
    /// would cost the consumer and the scheduler an allocation and a
    /// wake-up per item at `--chunksize 1`.
    fn step(&self) -> usize {
        self.chunk.max(self.window() / 8)
    }

    /// Submits inputs until the window is full or the input ends, in
    /// steps of [`IMap::step`] items or more.
    fn feed(&mut self) {
        if let Some(feeder) = &self.feeder {
            // A stream: its feeder pulls; see how far it is.
            let counts = feeder.counts();
            self.submitted = counts.pulled;
            self.exhausted =
                counts.exhausted || (self.pool.ended.is_set() && self.submitted == self.delivered);
            return;
        }
        let (window, step) = (self.window(), self.step());
        let (Some(batch), Some(inputs)) = (&self.batch, self.inputs.as_mut()) else {
            return;
        };
        while !self.exhausted && self.submitted - self.delivered + step <= window {
            let room = (window - (self.submitted - self.delivered)).min(self.chunk.max(512));
            let mut items: Vec<J::Input> = Vec::with_capacity(room);
            items.extend(inputs.by_ref().take(room));
            self.exhausted = items.len() < room;
            if items.is_empty() {
                break;
            }
            // Encoded on the scheduler's thread: this one has every result
            // to decode and report.
            let (batch, size, first) = (Arc::clone(batch), self.chunk, self.submitted);
            self.submitted += items.len();
            self.pool.submit_encoded(Box::new(move || {
                let mut chunks = Chunks::new(&batch, size);
                chunks.submitted = first;
                for input in &items {
                    chunks.push(input);
                }
                chunks.finish()
            }));
        }
        if self.exhausted {
            // Once every chunk holds its own reference, the batch's sender
            // lives exactly as long as some item is unreported.
            self.batch = None;
        }
    }

    /// Whether [`next`](Iterator::next) would return at once: a result is
    /// ready, or the map is over. A consumer that buffers its output
    /// writes it when this says no, before `next` waits.
    #[inline(always)]
    pub fn has_ready(&mut self) -> bool {
        self.left > 0 || self.has_arrived()
    }

    /// [`IMap::has_ready`] once the current report is taken.
    #[inline(never)]
    fn has_arrived(&mut self) -> bool {
        loop {
            match self.results.try_recv() {
                Ok(reports) => self.receive(reports),
                Err(std::sync::mpsc::TryRecvError::Empty) => break,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => return true,
            }
        }
        !self.arrived.is_empty() || (self.exhausted && self.delivered == self.submitted)
    }

    fn receive(&mut self, reports: Vec<Report>) {
        for report in reports {
            if !self.ordered {
                self.arrived.push_back(report);
            } else if report.first == self.next_first {
                self.next_first += report.count;
                self.arrived.push_back(report);
                // The reports that waited for this one follow it now.
                while let Some(entry) = self
                    .held
                    .first_entry()
                    .filter(|e| *e.key() == self.next_first)
                {
                    let report = *entry.remove();
                    self.next_first += report.count;
                    self.arrived.push_back(report);
                }
            } else {
                self.held.insert(report.first, Box::new(report));
            }
        }
    }

    /// The next report to yield from, if one is ready.
    fn ready(&mut self) -> Option<Report> {
        self.arrived.pop_front()
    }
}

impl<J: Job, I: Iterator<Item = J::Input>> Iterator for IMap<'_, J, I> {
    type Item = ItemResult<J::Output>;

    /// The next item of the current report, inline; at a report's end
    /// `IMap::advance` makes the next one current. (Results come from
    /// one place only, so the consumer's loop builds only what it reads.)
    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(r) = self.current.as_mut().and_then(Iterator::next) {
                self.count_delivered(1);
                return Some(r);
            }
            if !self.advance() {
                return None;
            }
        }
    }
}

impl<J: Job, I: Iterator<Item = J::Input>> IMap<'_, J, I> {
    /// See [`Results::next_values`](crate::Results::next_values).
    #[inline(always)]
    pub(crate) fn next_values(&mut self, f: impl FnMut(J::Output)) -> usize {
        let Some(current) = self.current.as_mut() else {
            return 0;
        };
        let n = current.values(f);
        if n > 0 {
            self.count_delivered(n);
        }
        n
    }

    /// Counts `n` more items yielded (and tells a stream's feeder).
    #[inline(always)]
    fn count_delivered(&mut self, n: usize) {
        self.delivered += n;
        self.left = self.left.saturating_sub(n);
        if let Some(feeder) = &self.feeder {
            feeder.delivered(self.delivered);
        }
    }

    /// Makes the next report current, waiting for one if none is ready;
    /// false once every item was yielded.
    #[inline(never)]
    fn advance(&mut self) -> bool {
        self.current = None;
        // Inputs are topped up while results keep coming, not only when
        // none are ready: a consumer slower than the workers would
        // otherwise let every worker run dry before it feeds again. (A
        // stream's feeder pulls on its own.)
        let outstanding = self.submitted.saturating_sub(self.delivered);
        if self.feeder.is_none() && !self.exhausted && outstanding + self.step() <= self.window() {
            self.feed();
        }
        loop {
            if let Some(report) = self.ready() {
                self.left = report.count;
                self.current = Some(report.into_decoded_results());
                return true;
            }
            self.feed();
            if self.exhausted && self.delivered == self.submitted {
                return false;
            }
            // Every submitted chunk reports each of its items exactly once
            // (see task.rs), so this cannot wait for an item that will
            // never come.
            let Ok(reports) = self.results.recv() else {
                // The pool is gone: the next item is reported not run.
                let why = Outcome::NotRun("the pool stopped".into());
                let report = Report::all(self.delivered, 1, why, RunInfo::default(), 0);
                self.left = 1;
                self.current = Some(report.into_results());
                return true;
            };
            self.receive(reports);
        }
    }
}

impl<J: Job, I> Drop for IMap<'_, J, I> {
    fn drop(&mut self) {
        if let Some(feeder) = &self.feeder {
            feeder.stop();
        }
        if let Some(batch) = &self.batch {
            batch
                .abandoned
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}
