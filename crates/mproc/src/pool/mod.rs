//! [`Pool`]: a fixed number of worker processes and Python's `Pool` methods
//! over them.
//!
//! The pool's handle encodes inputs and decodes outputs; a scheduler thread
//! (`scheduler.rs`) owns the processes and decides every item's fate. The
//! handle and the scheduler talk through one event channel, so the handle
//! never blocks on a pipe.

mod async_result;
mod expand;
mod feed;
mod imap;
pub(crate) mod scheduler;
pub(crate) mod task;

pub use async_result::AsyncResult;
pub use imap::IMap;

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::child::WorkerCommand;
use crate::connection::ConnConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::job::Job;
use crate::outcome::{ItemResult, Outcome};
use crate::protocol;
use crate::settings::PoolSettings;
use crate::stopper::Stopper;
use scheduler::{Event, Lifecycle, Scheduler};
use task::{Batch, JobSpec, Report, SentChunk, MAX_REQUEST_INPUTS};

/// Worker starts and ends kept between two calls of
/// [`Pool::worker_events`]; later ones are dropped.
const LIFECYCLE_KEPT: usize = 4096;

/// Items outstanding in one map at least (see `IMap::window`), so that a
/// stream is read only a little ahead of the results taken.
const WINDOW: usize = 1024;

/// Items per submitted chunk at most when no chunksize is set: the
/// scheduler cuts pieces off a chunk's front, copying what is left, so a
/// chunk stays small enough for that to be cheap.
const SUBMIT_MAX: usize = 8192;

impl Pool {
    /// Starts the workers `settings` ask for, and returns once they can
    /// take work: local workers (this program on this machine) once the
    /// first has answered its handshake, the others joining as they
    /// answer; workers on other hosts or behind a launcher once every one
    /// has answered, so a host that cannot start one fails the start,
    /// naming it. A worker
    /// that cannot be spawned fails the start either way.
    pub fn start(settings: PoolSettings) -> Result<Pool> {
        crate::worker::refuse_nested_start("Pool::new");
        let processes = settings.worker_count()?;
        let commands = match &settings.program {
            Some(program) if settings.placement.is_local() => {
                vec![WorkerCommand::program(program); processes]
            }
            _ => settings.placement.commands(processes)?,
        };
        let processes = commands.len();
        let (chunksize, halt_on_error) = (settings.chunksize, settings.halt_on_error);
        let conn = ConnConfig::new(&settings, commands);
        let hosts = conn
            .commands
            .iter()
            .map(|c| c.host().map(str::to_string))
            .collect();
        let (tx, rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        let (life_tx, life_rx) = mpsc::sync_channel(LIFECYCLE_KEPT);
        let epoch = Instant::now();
        let ended = Arc::new(feed::Ended::default());
        let mut scheduler =
            Scheduler::new(settings, conn, rx, tx.clone(), ready_tx, epoch, life_tx);
        scheduler.ended = Arc::clone(&ended);
        // The workers start from this thread (each from its reader thread,
        // see `Connection::begin`), while the scheduler's thread is made.
        scheduler.start_workers();
        let thread = std::thread::Builder::new()
            .name("mproc-scheduler".into())
            .spawn(move || scheduler.run())
            .map_err(|e| Error::io("cannot start the scheduler thread", e))?;
        let started = ready_rx.recv().unwrap_or_else(|_| {
            Err(Error::new(
                ErrorKind::Spawn,
                "the pool's scheduler stopped during startup",
            ))
        });
        let mut pool = Pool {
            hosts,
            events: tx,
            thread: Some(thread),
            processes,
            window: WINDOW.max(processes * 256),
            chunksize,
            halt_on_error,
            jobs: Mutex::new(HashMap::new()),
            lifecycle: Mutex::new(life_rx),
            epoch,
            closed: false,
            ended,
        };
        match started {
            Ok(()) => Ok(pool),
            Err(e) => {
                pool.terminate();
                Err(e)
            }
        }
    }
}

/// A job told apart by its name and encoded value.
type JobKey = (&'static str, Vec<u8>);

/// A pool of worker processes, like Python's `multiprocessing.Pool`.
///
/// Dropping it stops the workers (as Python's `with Pool()` does: idle
/// workers are closed and exit at once, busy ones are terminated) and
/// reaps them: no child process outlives its pool.
pub struct Pool {
    events: Sender<Event>,
    thread: Option<JoinHandle<()>>,
    processes: usize,
    pub(crate) window: usize,
    chunksize: Option<usize>,
    halt_on_error: bool,
    jobs: Mutex<HashMap<JobKey, Arc<JobSpec>>>,
    lifecycle: Mutex<Receiver<Lifecycle>>,
    hosts: Vec<Option<String>>,
    epoch: Instant,
    closed: bool,
    /// Set when the scheduler takes no more work.
    ended: Arc<feed::Ended>,
}

impl PoolSettings {
    /// Starts the workers, and returns once they can take work
    /// ([`Pool::start`]).
    pub fn build(self) -> Result<Pool> {
        Pool::start(self)
    }
}

impl Pool {
    /// A pool of `processes` workers running this executable.
    pub fn new(processes: usize) -> Result<Pool> {
        Pool::builder().processes(processes).build()
    }

    /// Settings with every option at its default, to change with their
    /// chainable setters and start with [`build`](PoolSettings::build).
    pub fn builder() -> PoolSettings {
        PoolSettings::default()
    }

    /// The number of worker processes.
    pub fn processes(&self) -> usize {
        self.processes
    }

    /// The host of each worker slot (`None`: this machine).
    pub fn hosts(&self) -> &[Option<String>] {
        &self.hosts
    }

    /// When the pool started; item start times count from here.
    pub fn epoch(&self) -> Instant {
        self.epoch
    }

    /// Worker starts and ends seen since the last call (the first 4096):
    /// `(slot, pid, time since epoch, started)`; `started` is false when
    /// the worker ended.
    pub fn worker_events(&self) -> Vec<(usize, u32, Duration, bool)> {
        let rx = self.lifecycle.lock().unwrap_or_else(|e| e.into_inner());
        rx.try_iter()
            .map(|l| (l.slot, l.pid, l.at, l.started))
            .collect()
    }

    /// Runs `job` over every input and returns the results in input order,
    /// once all are done (Python's `Pool.map`).
    pub fn map<J, I>(&self, job: &J, inputs: I) -> Vec<ItemResult<J::Output>>
    where
        J: Job,
        I: IntoIterator<Item = J::Input>,
    {
        self.imap(job, inputs).collect()
    }

    /// Like [`map`](Pool::map), but yields each result as soon as it and all
    /// before it are done, keeping a bounded number of items in memory
    /// (Python's `Pool.imap`).
    pub fn imap<J, I>(&self, job: &J, inputs: I) -> IMap<'_, J, I::IntoIter>
    where
        J: Job,
        I: IntoIterator<Item = J::Input>,
    {
        IMap::new(self, job, inputs.into_iter(), true)
    }

    /// Yields results as they finish, in any order; each carries its input
    /// [`index`](ItemResult::index) (Python's `Pool.imap_unordered`).
    pub fn imap_unordered<J, I>(&self, job: &J, inputs: I) -> IMap<'_, J, I::IntoIter>
    where
        J: Job,
        I: IntoIterator<Item = J::Input>,
    {
        IMap::new(self, job, inputs.into_iter(), false)
    }

    /// Like [`imap`](Pool::imap), but the inputs are pulled on a thread of
    /// their own, as Python's `Pool` pulls them: a source that blocks (a
    /// pipe a slow program writes, a socket, a channel) never holds back
    /// results that are ready, and an endless one is read only as fast as
    /// results are taken (at most the pool's window of items is
    /// outstanding). Inputs are sent one item a chunk unless
    /// [`chunksize`](crate::PoolSettings::chunksize) is set.
    ///
    /// When the pool stops taking work (stopped, halted on an error), the
    /// iterator ends once every input pulled so far has its result; a
    /// source blocked at that moment is left to its thread.
    pub fn imap_stream<J, I>(&self, job: &J, inputs: I) -> IMap<'_, J, I::IntoIter>
    where
        J: Job,
        I: IntoIterator<Item = J::Input>,
        I::IntoIter: Send + 'static,
    {
        IMap::stream(self, job, inputs.into_iter(), true)
    }

    /// Like [`imap_unordered`](Pool::imap_unordered), with the inputs
    /// pulled on a thread of their own (see
    /// [`imap_stream`](Pool::imap_stream)).
    pub fn imap_unordered_stream<J, I>(&self, job: &J, inputs: I) -> IMap<'_, J, I::IntoIter>
    where
        J: Job,
        I: IntoIterator<Item = J::Input>,
        I::IntoIter: Send + 'static,
    {
        IMap::stream(self, job, inputs.into_iter(), false)
    }

    /// Submits every input now and returns a handle to the ordered results
    /// (Python's `Pool.map_async`).
    pub fn map_async<J, I>(&self, job: &J, inputs: I) -> AsyncResult<Vec<ItemResult<J::Output>>>
    where
        J: Job,
        I: IntoIterator<Item = J::Input>,
    {
        let (batch, rx) = self.batch(job);
        let inputs = inputs.into_iter();
        let size = self.chunk_size(inputs.size_hint().0);
        let mut chunks = Chunks::new(&batch, size);
        for input in inputs {
            chunks.push(&input);
        }
        let count = chunks.submitted;
        self.submit(chunks.finish());
        drop(batch);
        AsyncResult::collect(rx, count, |results| results)
    }

    /// Runs one input and returns a handle to its result (Python's
    /// `Pool.apply_async`).
    pub fn apply_async<J: Job>(
        &self,
        job: &J,
        input: J::Input,
    ) -> AsyncResult<ItemResult<J::Output>> {
        let (batch, rx) = self.batch(job);
        let mut chunks = Chunks::new(&batch, 1);
        chunks.push(&input);
        self.submit(chunks.finish());
        drop(batch);
        AsyncResult::collect(rx, 1, |mut results: Vec<ItemResult<J::Output>>| {
            results
                .pop()
                .unwrap_or_else(|| ItemResult::not_run(0, "no result"))
        })
    }

    /// Runs one input and waits for it (Python's `Pool.apply`).
    pub fn apply<J: Job>(&self, job: &J, input: J::Input) -> ItemResult<J::Output> {
        match self.apply_async(job, input).get(None) {
            Ok(r) => r,
            Err(e) => ItemResult::not_run(0, e.message()),
        }
    }

    /// Accepts no more work; queued items still run. Then call
    /// [`join`](Pool::join).
    pub fn close(&mut self) {
        if !self.closed {
            self.closed = true;
            let _ = self.events.send(Event::Close);
        }
    }

    /// A handle that stops this pool from another thread (a signal
    /// handler, say), like [`terminate`](Pool::terminate) without waiting.
    pub fn stopper(&self) -> Stopper {
        let events = self.events.clone();
        Stopper::new(move |why| {
            let _ = events.send(Event::Terminate(why.to_string()));
        })
    }

    /// Waits until every worker has exited after [`close`](Pool::close) or
    /// [`terminate`](Pool::terminate).
    pub fn join(&mut self) -> Result<()> {
        if !self.closed {
            return Err(Error::usage("call close() or terminate() before join()"));
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        Ok(())
    }

    /// Kills every worker now and waits until they are reaped; work not
    /// finished ends [`Outcome::NotRun`].
    pub fn terminate(&mut self) {
        self.closed = true;
        let _ = self
            .events
            .send(Event::Terminate("the pool was terminated".into()));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    pub(crate) fn batch<J: Job>(&self, job: &J) -> (Arc<Batch>, Receiver<Vec<Report>>) {
        let config = protocol::encode(job).unwrap_or_default();
        let spec = {
            let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
            let next_key = jobs.len() as u32;
            Arc::clone(jobs.entry((J::NAME, config.clone())).or_insert_with(|| {
                Arc::new(JobSpec {
                    key: next_key,
                    name: J::NAME.to_string(),
                    config,
                })
            }))
        };
        let (tx, rx) = mpsc::channel();
        (
            Batch::new(spec, tx, Some(task::decode_outputs::<J::Output>)),
            rx,
        )
    }

    /// Items per submitted chunk for a map of about `items` items: the
    /// chunksize setting, else Python's default for `map`, `ceil(items /
    /// (4 * processes))`, at most [`SUBMIT_MAX`] (1 when the count is
    /// unknown, or with halt on error, where nothing may wait behind a
    /// failure). Without a chunksize the scheduler cuts these into the
    /// pieces it sends, by measured time.
    pub(crate) fn chunk_size(&self, items: usize) -> usize {
        let size = match self.chunksize {
            Some(n) => n,
            None if self.halt_on_error || items == 0 => 1,
            None => items.div_ceil(4 * self.processes.max(1)).min(SUBMIT_MAX),
        };
        size.clamp(1, protocol::MAX_CHUNK)
    }

    pub(crate) fn submit(&self, chunks: Vec<SentChunk>) {
        self.submitter().submit(chunks);
    }

    /// See [`Submitter::submit_encoded`].
    pub(crate) fn submit_encoded(&self, encode: Box<dyn FnOnce() -> Vec<SentChunk> + Send>) {
        self.submitter().submit_encoded(encode);
    }

    /// What submits chunks to this pool, from any thread.
    pub(crate) fn submitter(&self) -> Submitter {
        Submitter {
            events: self.events.clone(),
            closed: self.closed,
            ended: Arc::clone(&self.ended),
        }
    }
}

/// Submits chunks to a pool's scheduler (from a feeder thread, say).
pub(crate) struct Submitter {
    events: Sender<Event>,
    closed: bool,
    /// Why the pool ended, for chunks that come after its scheduler.
    ended: Arc<feed::Ended>,
}

impl Submitter {
    pub(crate) fn submit(&self, chunks: Vec<SentChunk>) {
        if chunks.is_empty() {
            return;
        }
        if self.closed {
            return self.refuse(chunks, "the pool is closed".into());
        }
        if let Err(mpsc::SendError(Event::Submit(chunks))) = self.events.send(Event::Submit(chunks))
        {
            self.refuse(chunks, self.gone_reason());
        }
    }

    /// Why a chunk that reaches no scheduler does not run.
    fn gone_reason(&self) -> String {
        self.ended
            .why()
            .unwrap_or_else(|| "the pool stopped before running it".into())
    }

    fn refuse(&self, chunks: Vec<SentChunk>, why: String) {
        for chunk in chunks {
            chunk.finish(Outcome::NotRun(why.clone()), Default::default());
        }
    }

    /// Submits the chunks `encode` makes, encoded on the scheduler's
    /// thread rather than this one (the consumer's, which decodes and
    /// reports every result).
    pub(crate) fn submit_encoded(&self, encode: Box<dyn FnOnce() -> Vec<SentChunk> + Send>) {
        if self.closed {
            return self.submit(encode());
        }
        if let Err(mpsc::SendError(Event::Encode(encode))) = self.events.send(Event::Encode(encode))
        {
            self.refuse(encode(), self.gone_reason());
        }
    }
}

impl Drop for Pool {
    /// Stops the workers and waits for them: idle ones have their stdin
    /// closed and exit at once; if any still runs an item, all are
    /// terminated.
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.closed = true;
            let _ = self.events.send(Event::Drop("the pool was dropped".into()));
            let _ = thread.join();
        }
    }
}

/// Inputs cut into chunks of one size as they come.
pub(crate) struct Chunks<'b> {
    batch: &'b Arc<Batch>,
    size: usize,
    current: Option<SentChunk>,
    done: Vec<SentChunk>,
    /// Inputs taken so far (the next one's index).
    pub submitted: usize,
}

impl<'b> Chunks<'b> {
    pub(crate) fn new(batch: &'b Arc<Batch>, size: usize) -> Self {
        Chunks {
            batch,
            size: size.max(1),
            current: None,
            done: Vec::new(),
            submitted: 0,
        }
    }

    /// Adds the next input (one that cannot be encoded is reported failed
    /// at once). The usual case, an input that joins the chunk being
    /// filled and neither fills it nor overflows a request, is inlined in
    /// the caller's loop; the rest is [`Chunks::push_other`].
    #[inline(always)]
    pub(crate) fn push<T: serde::Serialize>(&mut self, input: &T) {
        let Some(chunk) = self.current.as_mut() else {
            return self.push_other(input);
        };
        let at = chunk.inputs.len();
        let refused = chunk.push(input).is_err();
        self.submitted += 1;
        if refused {
            return self.close_current();
        }
        if chunk.inputs.len() > MAX_REQUEST_INPUTS || chunk.count() >= self.size {
            self.cut(at);
        }
    }

    /// [`Chunks::push`] of an input that starts a chunk.
    #[inline(never)]
    fn push_other<T: serde::Serialize>(&mut self, input: &T) {
        let chunk = SentChunk::new(Arc::clone(self.batch), self.submitted);
        let chunk = self.current.insert(chunk);
        self.submitted += 1;
        if chunk.push(input).is_err() {
            return self.close_current();
        }
        self.cut(0);
    }

    /// After an input was added at byte `at` of the current chunk: an
    /// input that fits a request to a worker, but not with the rest of its
    /// chunk, starts the next chunk; a full chunk is closed.
    #[inline(never)]
    fn cut(&mut self, at: usize) {
        let Some(chunk) = self.current.as_mut() else {
            return;
        };
        if let Some(last) = chunk.split_if_over(at) {
            if let Some(c) = self.current.replace(last) {
                self.close(c);
            }
        }
        if self
            .current
            .as_ref()
            .is_some_and(|c| c.count() >= self.size)
        {
            self.close_current();
        }
    }

    /// Closes the chunk being filled, if any.
    fn close_current(&mut self) {
        if let Some(c) = self.current.take() {
            self.close(c);
        }
    }

    fn close(&mut self, chunk: SentChunk) {
        if !chunk.is_empty() {
            self.done.push(chunk);
        } else {
            chunk.consume();
        }
    }

    /// The chunks that are full so far.
    pub(crate) fn take_done(&mut self) -> Vec<SentChunk> {
        std::mem::take(&mut self.done)
    }

    /// Every chunk, the partial one too.
    pub(crate) fn finish(mut self) -> Vec<SentChunk> {
        self.close_current();
        std::mem::take(&mut self.done)
    }
}
