//! The units of work between a pool's handles and its scheduler: a
//! [`SentChunk`] of consecutive items on its way to a worker, which reports
//! every item exactly once, and a [`Report`] of finished items on its way
//! back.
//!
//! A chunk carries its items' inputs encoded one after another in one
//! buffer, so the scheduler's bookkeeping, the frames and the channel hops
//! are paid per chunk, not per item. A chunk that is dropped without having
//! reported (its pool stopped, a channel closed under it) reports its items
//! "not run" from its `Drop`, so whoever waits for an item's result always
//! gets one.

use std::any::Any;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Result;
use crate::outcome::{Attempt, Outcome};
use crate::protocol::{self, Bytes, Ends, Request};

/// The most bytes of encoded inputs one request to a worker carries: what
/// a worker decodes ([`protocol::DECODE_LIMIT`]), less room for the
/// request's own fields.
pub(crate) const MAX_REQUEST_INPUTS: usize = protocol::DECODE_LIMIT - 4096;

/// Why `what` (an input, a job value) of `len` encoded bytes cannot go
/// to any worker, if it cannot: such an item fails in the parent, before
/// a worker sees it.
#[inline]
pub(crate) fn over_request_limit(what: &str, len: usize) -> Option<String> {
    (len > MAX_REQUEST_INPUTS).then(|| over_limit(what, len))
}

#[cold]
fn over_limit(what: &str, len: usize) -> String {
    format!(
        "{what} of {len} bytes once encoded is over the limit of {MAX_REQUEST_INPUTS} bytes a worker accepts"
    )
}

/// A job as the scheduler sends it: a key, its name and its encoded value.
#[derive(Debug)]
pub(crate) struct JobSpec {
    pub key: u32,
    pub name: String,
    pub config: Vec<u8>,
}

impl JobSpec {
    /// Appends the frame that sets this job up in a worker: the one place
    /// a setup frame is made.
    pub(crate) fn append_setup(&self, frames: &mut Vec<u8>) -> Result<()> {
        protocol::append_frame(
            frames,
            &Request::Setup {
                key: self.key,
                job: self.name.clone(),
                config: self.config.clone(),
            },
        )
    }
}

/// Decodes the ok outputs of a report into a `Vec<Result<O, String>>`,
/// boxed: see [`decode_outputs`].
pub(crate) type Decoder = fn(&[u8], &Ends) -> Box<dyn Any + Send>;

/// A report's outputs up to this size are decoded before they reach the
/// consumer (on the scheduler's thread); larger ones as the consumer takes
/// them, so that no long decoding holds up the scheduler.
const PREDECODED_BYTES: usize = 1 << 20;

/// The items of one map call: its job and where their results go (a
/// report at a time, so a chunk of results wakes the consumer once).
#[derive(Debug)]
pub(crate) struct Batch {
    pub job: Arc<JobSpec>,
    pub sink: Sender<Vec<Report>>,
    /// Set when nobody listens any more: its queued items are skipped.
    pub abandoned: AtomicBool,
    /// Decodes its outputs off the consumer's thread, when set.
    pub decode: Option<Decoder>,
}

impl Batch {
    pub(crate) fn new(
        job: Arc<JobSpec>,
        sink: Sender<Vec<Report>>,
        decode: Option<Decoder>,
    ) -> Arc<Batch> {
        Arc::new(Batch {
            job,
            sink,
            abandoned: AtomicBool::new(false),
            decode,
        })
    }

    pub(crate) fn is_abandoned(&self) -> bool {
        self.abandoned.load(Ordering::Relaxed)
    }
}

/// Where and when items ran, for their results.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RunInfo {
    pub worker: Option<usize>,
    pub pid: Option<u32>,
    /// When the first item started, counted from the pool's epoch.
    pub started: Option<Duration>,
    /// How long all the items ran.
    pub elapsed: Duration,
}

impl RunInfo {
    /// An attempt that ended with `outcome` and ran here.
    pub(crate) fn attempt(&self, outcome: Outcome<()>) -> Attempt {
        Attempt {
            outcome,
            worker: self.worker,
            pid: self.pid,
            started: self.started,
            elapsed: self.elapsed,
        }
    }
}

/// Consecutive items of one batch, on their way to a worker.
#[derive(Debug)]
pub(crate) struct SentChunk {
    pub batch: Arc<Batch>,
    /// The first item's index in its batch.
    pub first: usize,
    /// The items' inputs, encoded one after another.
    pub inputs: Bytes,
    /// Where each item's input ends in `inputs`.
    ends: Ends,
    /// Times started so far.
    pub attempts: u32,
    /// Times it came back from a worker that died without naming a
    /// running item.
    pub returns: u32,
    /// The earlier attempts of its item, when it is a retry (a retried
    /// chunk holds one item); empty otherwise, and then allocates nothing.
    pub earlier: Vec<Attempt>,
    reported: bool,
}

impl SentChunk {
    /// An empty chunk of `batch` starting at item `first`.
    pub(crate) fn new(batch: Arc<Batch>, first: usize) -> SentChunk {
        SentChunk {
            batch,
            first,
            inputs: Bytes::default(),
            ends: Ends::default(),
            attempts: 0,
            returns: 0,
            earlier: Vec::new(),
            reported: false,
        }
    }

    /// Appends one item's input; an input that cannot be encoded is
    /// reported failed at once (ending this chunk: the next item starts a
    /// new one) and `Err` gives the chunk back.
    #[inline]
    pub(crate) fn push<T: serde::Serialize>(&mut self, input: &T) -> std::result::Result<(), ()> {
        let Bytes::Heap(inputs) = &mut self.inputs else {
            return self.push_first(input);
        };
        if inputs.is_empty() {
            return self.push_first(input);
        }
        let start = inputs.len();
        let result = protocol::encode_into(input, inputs);
        self.check(start, result)
    }

    /// [`SentChunk::push`] of a chunk's first input, kept in place when it
    /// is short (at `--chunksize 1`, every chunk's), or of its second.
    #[inline(never)]
    fn push_first<T: serde::Serialize>(&mut self, input: &T) -> std::result::Result<(), ()> {
        let start = self.inputs.len();
        let result = if start == 0 {
            protocol::encode_bytes(input, &mut self.inputs)
        } else {
            protocol::encode_into(input, self.inputs.vec_mut())
        };
        self.check(start, result)
    }

    /// Keeps the input just encoded from byte `start`, if it fits a
    /// request; else takes it back ([`SentChunk::refuse`]).
    #[inline(always)]
    fn check(&mut self, start: usize, result: Result<()>) -> std::result::Result<(), ()> {
        let end = self.inputs.len();
        if result.is_ok() && end - start <= MAX_REQUEST_INPUTS && end <= u32::MAX as usize {
            self.ends.push(end as u32);
            return Ok(());
        }
        self.refuse(start, result)
    }

    /// Takes back the input pushed from byte `start` on, which could not be
    /// encoded or is too large, and reports its item failed.
    #[cold]
    fn refuse(&mut self, start: usize, result: Result<()>) -> std::result::Result<(), ()> {
        let oversized = over_request_limit("input", self.inputs.len() - start);
        self.inputs.vec_mut().truncate(start);
        let why = match (result, oversized) {
            (Err(e), _) => format!("cannot encode input: {e}"),
            (Ok(()), Some(why)) => why,
            (Ok(()), None) => "cannot encode input: chunk over 4 GiB".to_string(),
        };
        let index = self.first + self.count();
        send(
            &self.batch,
            vec![Report::all(
                index,
                1,
                Outcome::Failed(why.into()),
                RunInfo::default(),
                0,
            )],
        );
        Err(())
    }

    /// When the inputs no longer fit one request to a worker, moves the
    /// last item (whose input starts at byte `at`) into a chunk of its own
    /// and returns it.
    #[inline]
    pub(crate) fn split_if_over(&mut self, at: usize) -> Option<SentChunk> {
        if self.count() < 2 || self.inputs.len() <= MAX_REQUEST_INPUTS {
            return None;
        }
        self.split_last(at)
    }

    /// See [`SentChunk::split_if_over`].
    #[cold]
    fn split_last(&mut self, at: usize) -> Option<SentChunk> {
        let mut last = SentChunk::new(Arc::clone(&self.batch), self.first + self.count() - 1);
        last.inputs = self.inputs.vec_mut().split_off(at).into();
        last.ends.push(last.inputs.len() as u32);
        self.ends.pop();
        Some(last)
    }

    /// Items in the chunk.
    pub(crate) fn count(&self) -> usize {
        self.ends.len()
    }

    /// No items.
    pub(crate) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub(crate) fn job_key(&self) -> u32 {
        self.batch.job.key
    }

    /// The bytes of item `offset`'s input.
    fn span(&self, offset: usize) -> Range<usize> {
        let start = if offset == 0 {
            0
        } else {
            self.ends.get(offset - 1) as usize
        };
        start..self.ends.get(offset) as usize
    }

    /// Items `range` as a chunk of their own, with the same attempts (and
    /// earlier attempts).
    pub(crate) fn split(&self, range: Range<usize>) -> SentChunk {
        let bytes = if range.is_empty() {
            0..0
        } else {
            self.span(range.start).start..self.span(range.end - 1).end
        };
        let base = bytes.start as u32;
        SentChunk {
            batch: Arc::clone(&self.batch),
            first: self.first + range.start,
            inputs: Bytes::copy_of(&self.inputs[bytes]),
            ends: self.ends.shifted(range, base),
            attempts: self.attempts,
            returns: self.returns,
            earlier: self.earlier.clone(),
            reported: false,
        }
    }

    /// Marks the chunk reported: whoever calls this reports (or re-queues,
    /// as split chunks) every item itself.
    pub(crate) fn consume(mut self) -> Arc<Batch> {
        self.reported = true;
        // The batch's reference moves out whole: a clone and a drop would
        // be two locked instructions per chunk on a count every chunk of
        // the batch shares. The fields that own memory are freed first.
        drop(std::mem::take(&mut self.inputs));
        drop(std::mem::take(&mut self.ends));
        drop(std::mem::take(&mut self.earlier));
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so the batch is read out of it
        // exactly once; its other fields own nothing now (numbers, a flag
        // and emptied vectors).
        unsafe { std::ptr::read(&this.batch) }
    }

    /// Reports every item now with `outcome`; consumes the chunk.
    pub(crate) fn finish(mut self, outcome: Outcome<()>, run: RunInfo) {
        let (first, count, attempts) = (self.first, self.count(), self.attempts);
        let earlier = std::mem::take(&mut self.earlier);
        let batch = self.consume();
        let report = Report::all(first, count, outcome, run, attempts).after(earlier);
        send(&batch, vec![report]);
    }
}

impl Drop for SentChunk {
    fn drop(&mut self) {
        if !self.reported && !self.is_empty() {
            let why = Outcome::NotRun("the pool stopped before running it".into());
            let report = Report::all(
                self.first,
                self.count(),
                why,
                RunInfo::default(),
                self.attempts,
            )
            .after(std::mem::take(&mut self.earlier));
            send(&self.batch, vec![report]);
        }
    }
}

pub(crate) fn send(batch: &Batch, mut reports: Vec<Report>) {
    if let Some(decode) = batch.decode {
        for r in reports.iter_mut() {
            // One output is decoded where it is read: boxing one value in
            // a list costs this thread more than decoding it costs there
            // (`--chunksize 1` sends a report per item).
            if r.ends.len() > 1 && r.outputs.len() <= PREDECODED_BYTES {
                r.decoded = Some(decode(&r.outputs, &r.ends));
                r.outputs = Bytes::default();
            }
        }
    }
    if batch.sink.send(reports).is_err() {
        batch.abandoned.store(true, Ordering::Relaxed);
    }
}

/// Finished consecutive items of one batch: their outcomes, with the ok
/// outputs still encoded (the consumer decodes them as it yields them).
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// The first item's index in its batch.
    pub first: usize,
    /// Items in the report.
    pub count: usize,
    /// The ok items' outputs, encoded one after another.
    pub outputs: Bytes,
    /// Where each ok item's output ends in `outputs`.
    pub ends: Ends,
    /// The items that are not ok, by offset in the report, ascending.
    pub failures: Vec<(u32, Outcome<()>)>,
    /// Where they ran, when the first started and how long all ran.
    pub run: RunInfo,
    /// Each item's own run time in microseconds, as its worker measured
    /// it (item `i` started when item `i - 1` ended); empty when not
    /// measured (items that never ran, or a worker that died).
    pub times: Vec<u64>,
    /// Times started.
    pub attempts: u32,
    /// The earlier attempts of its first item (a report of a retried item
    /// holds that one item).
    pub earlier: Vec<Attempt>,
    /// The ok outputs already decoded, by its batch's [`Decoder`] (then
    /// `outputs` is empty).
    pub decoded: Option<Box<dyn Any + Send>>,
}

/// A [`Decoder`]: each ok output of a report decoded, in order.
pub(crate) fn decode_outputs<O: serde::de::DeserializeOwned + Send + 'static>(
    outputs: &[u8],
    ends: &Ends,
) -> Box<dyn Any + Send> {
    let mut start = 0;
    let decoded: Vec<std::result::Result<O, String>> = ends
        .iter()
        .map(|end| {
            let bytes = outputs.get(start..end as usize).unwrap_or_default();
            start = end as usize;
            protocol::decode::<O>(bytes).map_err(|e| format!("cannot decode result: {e}"))
        })
        .collect();
    Box::new(decoded)
}

impl Report {
    /// `count` items from `first` that all ended with `outcome`.
    pub(crate) fn all(
        first: usize,
        count: usize,
        outcome: Outcome<()>,
        run: RunInfo,
        attempts: u32,
    ) -> Report {
        Report {
            first,
            count,
            failures: (0..count as u32).map(|o| (o, outcome.clone())).collect(),
            run,
            attempts,
            ..Report::default()
        }
    }

    /// The same report, its item's earlier attempts being `earlier`.
    pub(crate) fn after(mut self, earlier: Vec<Attempt>) -> Report {
        self.earlier = earlier;
        self
    }
}

/// Reports gathered during one scheduler step, sent per batch at its end.
#[derive(Default)]
pub(crate) struct ReportOutbox {
    pending: Vec<(Arc<Batch>, Vec<Report>)>,
}

impl ReportOutbox {
    /// Adds `report` of `batch` (sent at the next [`flush`](ReportOutbox::flush)).
    pub(crate) fn push(&mut self, batch: &Arc<Batch>, report: Report) {
        match self.pending.iter_mut().find(|(b, _)| Arc::ptr_eq(b, batch)) {
            Some((_, reports)) => reports.push(report),
            None => self.pending.push((Arc::clone(batch), vec![report])),
        }
    }

    /// Reports items `range` of `chunk` with `outcome`, without consuming it.
    pub(crate) fn finish_range(
        &mut self,
        chunk: &SentChunk,
        range: Range<usize>,
        outcome: Outcome<()>,
        run: RunInfo,
    ) {
        if range.is_empty() {
            return;
        }
        let report = Report::all(
            chunk.first + range.start,
            range.len(),
            outcome,
            run,
            chunk.attempts,
        )
        .after(chunk.earlier.clone());
        self.push(&chunk.batch, report);
    }

    /// Sends everything gathered.
    pub(crate) fn flush(&mut self) {
        for (batch, reports) in self.pending.drain(..) {
            send(&batch, reports);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Batch, JobSpec, SentChunk};

    #[test]
    fn a_chunk_splits_into_the_inputs_of_its_items() {
        let (sink, _results) = std::sync::mpsc::channel();
        let job = JobSpec {
            key: 0,
            name: "echo".into(),
            config: Vec::new(),
        };
        let batch = Batch::new(std::sync::Arc::new(job), sink, None);
        let mut chunk = SentChunk::new(batch, 10);
        for input in ["a", "bb", "ccc"] {
            chunk.push(&input.to_string()).unwrap();
        }
        assert_eq!(chunk.count(), 3);
        let middle = chunk.split(1..2);
        assert_eq!((middle.first, middle.count()), (11, 1));
        assert_eq!(
            crate::protocol::decode::<String>(&middle.inputs).unwrap(),
            "bb"
        );
        let tail = chunk.split(1..3);
        assert_eq!((tail.first, tail.count()), (11, 2));
        let one = tail.split(1..2);
        assert_eq!(
            crate::protocol::decode::<String>(&one.inputs).unwrap(),
            "ccc"
        );
        for c in [chunk, middle, tail, one] {
            c.consume();
        }
    }
}
