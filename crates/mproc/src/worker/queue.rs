//! The worker's chunks between the thread that reads requests and the
//! threads that run items: a [`Queue`] of chunks in arrival order, and a
//! [`ReceivedChunk`]'s run, item after item.
//!
//! Each chunk's items are claimed one at a time ([`Claim`]), so the
//! reading thread can take back the items no runner has started
//! (`Request::Take`): a waiting chunk whole, a running one from its next
//! item. What was taken back is never run here; the reply says where it
//! starts. Its one runner (concurrency 1) takes chunks in arrival order
//! and runs each chunk's items in order; with concurrency K > 1 the
//! worker uses `items.rs` instead.

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::claim::{Claim, Runner};
use super::{micros, Context, SharedJob};
use crate::protocol::{Done, Reply, WireFailure};

/// A chunk that ran at least this long is reported as it ends, not
/// gathered with the next ones.
const EAGER: Duration = Duration::from_micros(500);

/// Outputs of one chunk past which its finished items are reported
/// before the chunk ends, so that no frame grows past the parent's limit.
const DONE_BYTES: usize = 8 << 20;

/// One chunk of items to run.
pub(super) struct ReceivedChunk {
    /// The key of the job it runs (its runner looks the job up).
    pub key: u32,
    pub chunk: u64,
    pub inputs: Vec<u8>,
    /// Which items start here and which were taken back.
    claim: Arc<Claim>,
}

impl ReceivedChunk {
    /// Runs the items in order, publishing each on the progress page and
    /// reporting them in one [`Done`] (or one per item). `spare` lends its
    /// buffers to the report and gets them back: tiny chunks, one after
    /// another, allocate nothing for their reports. The chunk starts at
    /// `start` (read by the caller: the end of the chunk before, when the
    /// runner did not wait in between). Returns the inputs' buffer and the
    /// claim, for the next chunks, and when the chunk ended.
    pub(super) fn run(
        self,
        job: &SharedJob,
        context: &Context,
        spare: &mut Done,
        start: Instant,
    ) -> Ended {
        let mut start = start;
        let mut done = reuse(
            std::mem::take(spare),
            self.chunk,
            context.since_hello(start),
        );
        // Each item ends where the next one starts: one clock reading an
        // item gives each its own start and run time. Without item times
        // (nobody records them) only a report's start and end are read.
        let per_item = context.item_times || context.report_each;
        let mut mark = start;
        let mut rest = self.inputs.as_slice();
        let mut claims = Runner::default();
        while let Some(offset) = claims.next(&self.claim) {
            if let Some(page) = &context.page {
                page.begin(self.chunk, offset);
            }
            let result = match job.as_ref() {
                Err(msg) => Err(msg.clone()),
                Ok(runner) => runner.run_one(&mut rest, done.outputs.vec_mut()),
            };
            if per_item {
                let now = Instant::now();
                if context.item_times {
                    done.times.push(micros(now - mark));
                }
                mark = now;
            }
            done.count += 1;
            match result {
                Ok(None) => done.ends.push(done.outputs.len() as u32),
                Ok(Some(failure)) => done.failures.push((offset, failure)),
                Err(msg) => {
                    // Nothing after an input that cannot be read can be
                    // found: the rest fail with it, unrun.
                    done.failures
                        .push((offset, WireFailure::message(msg.clone())));
                    while let Some(o) = claims.next(&self.claim) {
                        done.failures.push((o, WireFailure::message(msg.clone())));
                        if context.item_times {
                            done.times.push(0);
                        }
                        done.count += 1;
                    }
                    break;
                }
            }
            if context.report_each || done.outputs.len() >= DONE_BYTES {
                let now = if per_item { mark } else { Instant::now() };
                done.elapsed = micros(now - start);
                let next = Done {
                    chunk: self.chunk,
                    from: offset + 1,
                    started: context.since_hello(now),
                    ..Done::default()
                };
                context
                    .outbox
                    .send(&Reply::Done(std::mem::replace(&mut done, next)));
                start = now;
            }
        }
        if let Some(page) = &context.page {
            page.idle();
        }
        let end = if per_item { mark } else { Instant::now() };
        let done = if done.count > 0 {
            report_end(context, done, end - start, end)
        } else {
            done
        };
        // Buffers past a few pages are let go rather than kept idle.
        if done.outputs.capacity() <= SPARE_BYTES {
            *spare = done;
        }
        Ended {
            chunk: self.chunk,
            inputs: self.inputs,
            claim: self.claim,
            at: end,
        }
    }
}

/// A chunk that ran: its number, what the next chunks may reuse, and when
/// it ended.
pub(super) struct Ended {
    chunk: u64,
    inputs: Vec<u8>,
    claim: Arc<Claim>,
    at: Instant,
}

/// Sends the report of a chunk's last items, which ran for `took` until
/// `end`, and gives its buffers back.
fn report_end(context: &Context, mut done: Done, took: Duration, end: Instant) -> Done {
    done.elapsed = micros(took);
    let reply = Reply::Done(done);
    if context.report_each || took >= EAGER {
        // A chunk that took a while is reported at once: the parent sends
        // the next work on hearing of it.
        context.outbox.send(&reply);
    } else {
        // The progress page covers a crash before this is written: gather
        // it with the next chunks' results, written when the worker waits
        // for work, or within the watcher's delay.
        context.outbox.send_later_at(&reply, end);
    }
    match reply {
        Reply::Done(done) => done,
        _ => Done::default(),
    }
}

/// The output buffer a runner keeps between chunks, at most.
const SPARE_BYTES: usize = 64 << 10;

/// `spare`'s buffers, emptied, as the report of chunk `chunk`.
fn reuse(spare: Done, chunk: u64, started: u64) -> Done {
    let Done {
        mut times,
        mut outputs,
        mut ends,
        mut failures,
        ..
    } = spare;
    times.clear();
    outputs.vec_mut().clear();
    ends.clear();
    failures.clear();
    Done {
        chunk,
        from: 0,
        count: 0,
        started,
        times,
        elapsed: 0,
        outputs,
        ends,
        failures,
    }
}

/// Chunks waiting and running in this worker.
#[derive(Default)]
pub(super) struct Queue {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    waiting: VecDeque<ReceivedChunk>,
    /// Each running chunk's number and claim.
    running: Vec<(u64, Arc<Claim>)>,
    closed: bool,
    /// Runners waiting for a chunk.
    sleepers: usize,
    /// Inputs' buffers and claims of chunks that ended, for the next
    /// ones: tiny chunks, one after another, allocate nothing here.
    spare_inputs: Vec<Vec<u8>>,
    spare_claims: Vec<Arc<Claim>>,
    /// The jobs set up, by key: the runner takes its own reference, so
    /// the reading thread touches no job's count per chunk.
    jobs: HashMap<u32, SharedJob>,
}

impl State {
    /// The chunk that ended is no longer running; its inputs' buffer and
    /// claim may serve again.
    fn put_away(&mut self, ended: Ended) {
        let Ended {
            chunk,
            mut inputs,
            claim,
            ..
        } = ended;
        self.running.retain(|(c, _)| *c != chunk);
        if inputs.capacity() <= SPARE_BYTES && self.spare_inputs.len() < SPARES {
            inputs.clear();
            self.spare_inputs.push(inputs);
        }
        if Arc::strong_count(&claim) == 1 && self.spare_claims.len() < SPARES {
            self.spare_claims.push(claim);
        }
    }
}

/// Spare buffers and claims kept, at most, each: more than the chunks
/// the parent sends ahead to a worker (256).
const SPARES: usize = 512;

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues chunk `chunk` of `count` items whose encoded inputs are
    /// `inputs` (read in place from its frame), in a spare buffer with a
    /// spare claim; a sleeping runner is woken by [`Queue::wake`].
    pub(super) fn push(&self, key: u32, chunk: u64, count: u32, inputs: &[u8]) {
        let mut state = self.lock();
        let mut buffer = state.spare_inputs.pop().unwrap_or_default();
        buffer.extend_from_slice(inputs);
        // A spare claim is held by nothing else (see `put_away`).
        let claim = state
            .spare_claims
            .pop()
            .and_then(|mut claim| {
                *Arc::get_mut(&mut claim)? = Claim::new(count);
                Some(claim)
            })
            .unwrap_or_else(|| Arc::new(Claim::new(count)));
        state.waiting.push_back(ReceivedChunk {
            key,
            chunk,
            inputs: buffer,
            claim,
        });
    }

    /// Sets up `job` under `key`, for the chunks that name it.
    pub(super) fn set_up(&self, key: u32, job: &SharedJob) {
        self.lock().jobs.insert(key, Arc::clone(job));
    }

    /// The job set up under `key`, or why there is none.
    fn job(&self, key: u32) -> SharedJob {
        super::job_for(&self.lock().jobs, key)
    }

    /// Wakes a sleeping runner if a chunk waits. A wake-up is a system
    /// call: only when a runner sleeps.
    pub(super) fn wake(&self) {
        let state = self.lock();
        if state.sleepers > 0 && !state.waiting.is_empty() {
            self.wake.notify_one();
        }
    }

    /// No more chunks will come: runners end once the queue is empty.
    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.wake.notify_all();
    }

    /// The next chunk to run (`None` once closed and empty), after the
    /// chunk that `ended` (if any) is put away under the same lock; `idle`
    /// runs before waiting for one.
    fn next(&self, ended: Option<Ended>, idle: impl Fn()) -> Option<ReceivedChunk> {
        let mut state = self.lock();
        if let Some(ended) = ended {
            state.put_away(ended);
        }
        loop {
            if let Some(chunk) = state.waiting.pop_front() {
                let entry = (chunk.chunk, Arc::clone(&chunk.claim));
                state.running.push(entry);
                return Some(chunk);
            }
            if state.closed {
                return None;
            }
            drop(state);
            idle();
            state = self.lock();
            if state.waiting.is_empty() && !state.closed {
                state.sleepers += 1;
                state = self.wake.wait(state).unwrap_or_else(|e| e.into_inner());
                state.sleepers -= 1;
            }
        }
    }

    /// Takes back the items of chunk `chunk` that no runner started: the
    /// offset from which they were taken, or `None` when there were none
    /// (or the chunk is not here).
    pub(super) fn take(&self, chunk: u64) -> Option<u32> {
        let mut state = self.lock();
        if let Some(at) = state.waiting.iter().position(|c| c.chunk == chunk) {
            state.waiting.remove(at);
            return Some(0);
        }
        let (_, claim) = state.running.iter().find(|(c, _)| *c == chunk)?;
        claim.take()
    }

    /// Starts `n` runner threads.
    pub(super) fn start(
        self: &Arc<Self>,
        n: usize,
        context: &Arc<Context>,
    ) -> std::io::Result<Vec<std::thread::JoinHandle<()>>> {
        (0..n)
            .map(|i| {
                let (queue, context) = (Arc::clone(self), Arc::clone(context));
                std::thread::Builder::new()
                    .name(format!("mproc-run-{i}"))
                    // Jobs get a main thread's stack.
                    .stack_size(8 << 20)
                    .spawn(move || {
                        let mut spare = Done::default();
                        let mut ended: Option<Ended> = None;
                        let mut job: Option<(u32, SharedJob)> = None;
                        loop {
                            let waited = Cell::new(false);
                            let idle = || {
                                waited.set(true);
                                context.outbox.flush();
                            };
                            let last = ended.as_ref().map(|e| e.at);
                            let Some(chunk) = queue.next(ended.take(), idle) else {
                                break;
                            };
                            // Back to back, a chunk starts where the last
                            // ended: one clock reading a chunk, not two.
                            let start = match last {
                                Some(at) if !waited.get() => at,
                                _ => Instant::now(),
                            };
                            let job = match job.take() {
                                Some((key, found)) if key == chunk.key => job.insert((key, found)),
                                _ => job.insert((chunk.key, queue.job(chunk.key))),
                            };
                            ended = Some(chunk.run(&job.1, &context, &mut spare, start));
                        }
                    })
            })
            .collect()
    }
}
