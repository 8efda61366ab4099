//! A worker that runs `concurrency` K > 1 items at once: [`Items`], the
//! chunks whose items no runner has claimed yet, and [`Work`], the choice
//! between it and the one-runner [`Queue`] (which it leaves untouched).
//!
//! Any free runner thread claims the next unclaimed item of the oldest
//! chunk that still has one, so the K runners share one chunk when only
//! one is here. Claims, and taking items back (`Request::Take`), happen
//! under one lock: the items of a chunk are claimed in order, so what is
//! given back is always its tail, from the reply's `from`. Each item is
//! reported in its own `Done` (`count` 1) as soon as it ends: the items of
//! one chunk may end, and be reported, out of order. No progress page is
//! written: the parent blames a dead worker's first K unreported items.
//!
//! It pays a lock, a decode of the input to find the next one, and a frame
//! per item: it is the path for items that wait (requests, commands), not
//! for a million tiny ones, which take [`Queue`]'s.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use super::queue::Queue;
use super::{micros, Context, SharedJob};
use crate::protocol::{Done, Reply, WireFailure};

/// A chunk with items left to claim.
struct Open {
    runner: SharedJob,
    chunk: u64,
    count: u32,
    inputs: Arc<Vec<u8>>,
    /// The next item to claim.
    next: u32,
    /// Where its input starts in `inputs`.
    cursor: usize,
}

/// What a runner took.
enum Claim {
    /// One item to run: its chunk, offset, and input's bytes.
    Item {
        runner: SharedJob,
        chunk: u64,
        offset: u32,
        inputs: Arc<Vec<u8>>,
        range: std::ops::Range<usize>,
    },
    /// Items `from .. from + count` whose inputs cannot be found: they
    /// fail unrun with `message`.
    Unreadable {
        chunk: u64,
        from: u32,
        count: u32,
        message: String,
    },
}

#[derive(Default)]
struct State {
    open: VecDeque<Open>,
    closed: bool,
    /// Runners waiting for an item.
    sleepers: usize,
}

/// Chunks whose items the runners claim one at a time.
#[derive(Default)]
pub(super) struct Items {
    state: Mutex<State>,
    wake: Condvar,
}

impl Items {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a chunk's items; sleeping runners are woken by
    /// [`Items::wake`].
    fn push(&self, runner: SharedJob, chunk: u64, count: u32, inputs: Vec<u8>) {
        if count == 0 {
            return;
        }
        self.lock().open.push_back(Open {
            runner,
            chunk,
            count,
            inputs: Arc::new(inputs),
            next: 0,
            cursor: 0,
        });
    }

    /// Wakes as many sleeping runners as there are unclaimed items.
    fn wake(&self) {
        let state = self.lock();
        let unclaimed: usize = state
            .open
            .iter()
            .map(|o| o.count.saturating_sub(o.next) as usize)
            .sum();
        match state.sleepers.min(unclaimed) {
            0 => {}
            1 => self.wake.notify_one(),
            _ => self.wake.notify_all(),
        }
    }

    fn close(&self) {
        self.lock().closed = true;
        self.wake.notify_all();
    }

    /// Gives back the unclaimed items of chunk `chunk`: the first one's
    /// offset, or `None` when none is left (or the chunk is not here).
    fn take(&self, chunk: u64) -> Option<u32> {
        let mut state = self.lock();
        let at = state.open.iter().position(|o| o.chunk == chunk)?;
        let open = state.open.remove(at)?;
        (open.next < open.count).then_some(open.next)
    }

    /// The next item to run (`None` once closed and empty); `idle` runs
    /// before waiting for one.
    fn next(&self, idle: impl Fn()) -> Option<Claim> {
        let mut state = self.lock();
        loop {
            if let Some(claim) = claim(&mut state.open) {
                return Some(claim);
            }
            if state.closed {
                return None;
            }
            drop(state);
            idle();
            state = self.lock();
            if state.open.is_empty() && !state.closed {
                state.sleepers += 1;
                state = self.wake.wait(state).unwrap_or_else(|e| e.into_inner());
                state.sleepers -= 1;
            }
        }
    }
}

/// Claims the next item of the oldest chunk that has one.
fn claim(open: &mut VecDeque<Open>) -> Option<Claim> {
    let front = open.front_mut()?;
    let offset = front.next;
    let mut rest = &front.inputs[front.cursor..];
    let found = match front.runner.as_ref() {
        Err(msg) => Err(msg.clone()),
        Ok(runner) => runner.skip_one(&mut rest),
    };
    let claim = match found {
        Ok(()) => {
            let end = front.inputs.len() - rest.len();
            let range = front.cursor..end;
            front.cursor = end;
            front.next += 1;
            Claim::Item {
                runner: Arc::clone(&front.runner),
                chunk: front.chunk,
                offset,
                inputs: Arc::clone(&front.inputs),
                range,
            }
        }
        // Nothing after an input that cannot be read can be found: the
        // rest fail with it, unrun.
        Err(message) => {
            let count = front.count - offset;
            front.next = front.count;
            Claim::Unreadable {
                chunk: front.chunk,
                from: offset,
                count,
                message,
            }
        }
    };
    if front.next >= front.count {
        open.pop_front();
    }
    Some(claim)
}

/// Runs one claimed item and reports it at once.
fn run(claim: Claim, context: &Context) {
    let done = match claim {
        Claim::Item {
            runner,
            chunk,
            offset,
            inputs,
            range,
        } => {
            let start = Instant::now();
            let mut done = Done {
                chunk,
                from: offset,
                count: 1,
                started: context.since_hello(start),
                ..Done::default()
            };
            let mut input = &inputs[range];
            let result = match runner.as_ref() {
                Err(msg) => Err(msg.clone()),
                Ok(runner) => runner.run_one(&mut input, done.outputs.vec_mut()),
            };
            done.elapsed = micros(start.elapsed());
            if context.item_times {
                done.times.push(done.elapsed);
            }
            match result {
                Ok(None) => done.ends.push(done.outputs.len() as u32),
                Ok(Some(failure)) => done.failures.push((offset, failure)),
                Err(msg) => done.failures.push((offset, WireFailure::message(msg))),
            }
            done
        }
        Claim::Unreadable {
            chunk,
            from,
            count,
            message,
        } => Done {
            chunk,
            from,
            count,
            started: context.since_hello(Instant::now()),
            times: if context.item_times {
                vec![0; count as usize]
            } else {
                Vec::new()
            },
            failures: (from..from + count)
                .map(|o| (o, WireFailure::message(message.clone())))
                .collect(),
            ..Done::default()
        },
    };
    context.outbox.send(&Reply::Done(done));
}

/// How a worker runs its chunks: one runner thread, chunk after chunk
/// ([`Queue`]), or K threads claiming items from any chunk ([`Items`]).
pub(super) enum Work {
    Chunks(Arc<Queue>),
    Items(Arc<Items>),
}

impl Work {
    /// The work of a worker that runs `concurrency` items at once.
    pub(super) fn new(concurrency: u32) -> Work {
        if concurrency > 1 {
            Work::Items(Arc::default())
        } else {
            Work::Chunks(Arc::default())
        }
    }

    /// Sets up `job` under `key` (the single runner looks jobs up by key).
    pub(super) fn set_up(&self, key: u32, job: &SharedJob) {
        if let Work::Chunks(queue) = self {
            queue.set_up(key, job);
        }
    }

    /// Queues chunk `chunk` of `count` items of the job set up under
    /// `key`, whose encoded inputs are `inputs` (read in place from their
    /// frame); runners are woken by [`Work::wake`], once the reading
    /// thread has queued what one read brought. The single runner looks
    /// the job up itself; K threads get it with each chunk.
    pub(super) fn push(
        &self,
        key: u32,
        jobs: &HashMap<u32, SharedJob>,
        chunk: u64,
        count: u32,
        inputs: &[u8],
    ) {
        match self {
            Work::Chunks(queue) => queue.push(key, chunk, count, inputs),
            Work::Items(items) => {
                items.push(super::job_for(jobs, key), chunk, count, inputs.to_vec())
            }
        }
    }

    /// Wakes runners for the chunks pushed since the last call: the
    /// reading thread calls it before it waits for more requests.
    pub(super) fn wake(&self) {
        match self {
            Work::Chunks(queue) => queue.wake(),
            Work::Items(items) => items.wake(),
        }
    }

    /// Takes back chunk `chunk`'s unstarted items: from which one.
    pub(super) fn take(&self, chunk: u64) -> Option<u32> {
        match self {
            Work::Chunks(queue) => queue.take(chunk),
            Work::Items(items) => items.take(chunk),
        }
    }

    /// No more chunks will come.
    pub(super) fn close(&self) {
        match self {
            Work::Chunks(queue) => queue.close(),
            Work::Items(items) => items.close(),
        }
    }

    /// Starts the runner threads: `n` of them.
    pub(super) fn start(
        &self,
        n: usize,
        context: &Arc<Context>,
    ) -> std::io::Result<Vec<std::thread::JoinHandle<()>>> {
        let items = match self {
            Work::Chunks(queue) => return queue.start(n, context),
            Work::Items(items) => items,
        };
        (0..n)
            .map(|i| {
                let (items, context) = (Arc::clone(items), Arc::clone(context));
                std::thread::Builder::new()
                    .name(format!("mproc-run-{i}"))
                    // Jobs get a main thread's stack.
                    .stack_size(8 << 20)
                    .spawn(move || {
                        while let Some(claim) = items.next(|| context.outbox.flush()) {
                            run(claim, &context);
                        }
                    })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::sync::{Condvar, Mutex};
    use std::time::Duration;

    use super::*;
    use crate::protocol::{self, FrameReader};
    use crate::registry::ErasedJob;
    use crate::worker::WorkerOutbox;

    /// A job whose items each wait until `n` of them have started (at
    /// most 10 s; alone, an item fails): they end ok only if `n` ran at
    /// once.
    struct Meet {
        arrived: Mutex<u32>,
        all: Condvar,
        n: u32,
    }

    impl ErasedJob for Arc<Meet> {
        fn run_one(
            &self,
            inputs: &mut &[u8],
            outputs: &mut Vec<u8>,
        ) -> Result<Option<WireFailure>, String> {
            let (value, used) =
                protocol::decode_prefix::<u32>(inputs).map_err(|e| e.to_string())?;
            *inputs = &inputs[used..];
            let mut arrived = self.arrived.lock().unwrap();
            *arrived += 1;
            self.all.notify_all();
            let (arrived, wait) = self
                .all
                .wait_timeout_while(arrived, Duration::from_secs(10), |a| *a < self.n)
                .unwrap();
            drop(arrived);
            if wait.timed_out() {
                return Ok(Some(WireFailure::message("ran alone")));
            }
            protocol::encode_into(&value, outputs).map_err(|e| e.to_string())?;
            Ok(None)
        }

        fn skip_one(&self, inputs: &mut &[u8]) -> Result<(), String> {
            let (_, used) = protocol::decode_prefix::<u32>(inputs).map_err(|e| e.to_string())?;
            *inputs = &inputs[used..];
            Ok(())
        }
    }

    fn inputs(count: u32) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..count {
            protocol::encode_into(&i, &mut out).unwrap();
        }
        out
    }

    fn meet(n: u32) -> SharedJob {
        let meet = Arc::new(Meet {
            arrived: Mutex::new(0),
            all: Condvar::new(),
            n,
        });
        Arc::new(Ok(Box::new(meet)))
    }

    #[test]
    fn k_threads_run_k_items_of_one_chunk_at_once_and_report_each() {
        let (read, write) = nix::unistd::pipe().unwrap();
        let context = Arc::new(Context {
            outbox: WorkerOutbox::new(File::from(write)),
            page: None,
            report_each: true,
            item_times: true,
            hello: Instant::now(),
        });
        let work = Work::new(4);
        work.push(0, &HashMap::from([(0, meet(4))]), 7, 8, &inputs(8));
        work.close();
        for thread in work.start(4, &context).unwrap() {
            thread.join().unwrap();
        }
        // Every frame is in the pipe: read them without blocking.
        nix::fcntl::fcntl(
            &read,
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        )
        .unwrap();
        let mut frames = FrameReader::new(File::from(read), 1 << 20);
        let mut offsets = Vec::new();
        for _ in 0..8 {
            let Some(Reply::Done(done)) = frames.read::<Reply>().unwrap() else {
                panic!("a Done per item");
            };
            assert!(done.is_consistent());
            assert_eq!((done.chunk, done.count), (7, 1));
            assert!(done.failures.is_empty(), "{:?}", done.failures);
            let value: u32 = protocol::decode(&done.outputs).unwrap();
            assert_eq!(value, done.from, "item {} ran its own input", done.from);
            offsets.push(done.from);
        }
        offsets.sort_unstable();
        assert_eq!(offsets, (0..8).collect::<Vec<u32>>());
    }

    #[test]
    fn a_chunks_unclaimed_tail_is_given_back_once() {
        let items = Items::default();
        items.push(meet(1), 5, 3, inputs(3));
        items.push(meet(1), 6, 2, inputs(2));
        let first = claim(&mut items.lock().open);
        assert!(matches!(
            first,
            Some(Claim::Item {
                chunk: 5,
                offset: 0,
                ..
            })
        ));
        assert_eq!(items.take(5), Some(1));
        assert_eq!(items.take(5), None, "nothing is left to give back");
        // The next claim is the next chunk's first item.
        let next = claim(&mut items.lock().open);
        assert!(matches!(
            next,
            Some(Claim::Item {
                chunk: 6,
                offset: 0,
                ..
            })
        ));
        assert_eq!(items.take(6), Some(1));
        assert_eq!(items.take(9), None, "not here");
    }
}
