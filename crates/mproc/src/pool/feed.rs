//! Inputs pulled on a thread of their own, for
//! [`Pool::imap_stream`](super::Pool::imap_stream) and
//! [`Pool::imap_unordered_stream`](super::Pool::imap_unordered_stream).
//!
//! `imap` pulls its inputs on the caller's thread, between results: fast,
//! but an input source that blocks (a pipe a slow program writes, a
//! socket) then holds back results that are ready. Python's `Pool` pulls
//! every input on a task-handler thread; so does a stream here. The feeder
//! thread keeps at most the pool's window of items outstanding (pulled and
//! not yet yielded), so an endless source is read only as fast as results
//! are taken.
//!
//! The consumer waits on the batch's result channel alone. The feeder
//! wakes it with an empty report list when it has pulled its last input,
//! and so does the pool ([`Ended`]) when it stops taking work (stopped,
//! halted on an error, or unable to start a worker): a feeder blocked in
//! its source can then be left behind without holding the consumer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::task::{Batch, Report};
use super::{Chunks, Submitter};

/// Set once a pool takes no more work; wakes every stream waiting on it.
#[derive(Default)]
pub(crate) struct Ended {
    flag: AtomicBool,
    wakers: Mutex<Vec<Sender<Vec<Report>>>>,
    /// Why, for items submitted after the scheduler is gone.
    why: Mutex<Option<String>>,
}

impl Ended {
    pub(crate) fn is_set(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    /// Why the pool ended (its first reason), once it has.
    pub(crate) fn why(&self) -> Option<String> {
        self.why.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Marks the pool ended for `why` and wakes every stream.
    pub(crate) fn set(&self, why: &str) {
        self.why
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(|| why.to_string());
        let wakers = {
            let mut wakers = self.wakers.lock().unwrap_or_else(|e| e.into_inner());
            self.flag.store(true, Ordering::Release);
            std::mem::take(&mut *wakers)
        };
        for waker in wakers {
            let _ = waker.send(Vec::new());
        }
    }

    /// Wakes `sink` when the pool ends (at once if it has).
    fn watch(&self, sink: Sender<Vec<Report>>) {
        let mut wakers = self.wakers.lock().unwrap_or_else(|e| e.into_inner());
        if self.is_set() {
            let _ = sink.send(Vec::new());
        } else {
            wakers.push(sink);
        }
    }
}

/// What the feeder and the consumer share.
#[derive(Default)]
pub(crate) struct FeedState {
    state: Mutex<Counts>,
    changed: Condvar,
}

/// Items pulled and yielded, and whether the feeder is done.
#[derive(Default, Clone, Copy)]
pub(crate) struct Counts {
    /// Inputs pulled from the source (each reports once).
    pub pulled: usize,
    /// Results the consumer has yielded.
    pub delivered: usize,
    /// The feeder pulls no more.
    pub exhausted: bool,
    /// The consumer is gone: the feeder stops.
    stop: bool,
}

impl FeedState {
    fn lock(&self) -> MutexGuard<'_, Counts> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The counts now.
    pub(crate) fn counts(&self) -> Counts {
        *self.lock()
    }

    /// The consumer has yielded `delivered` results.
    pub(crate) fn delivered(&self, delivered: usize) {
        self.lock().delivered = delivered;
        self.changed.notify_one();
    }

    /// The consumer is gone.
    pub(crate) fn stop(&self) {
        self.lock().stop = true;
        self.changed.notify_one();
    }
}

/// Marks the feed exhausted and wakes the consumer, however the feeder
/// ends (a source that panics too).
struct Finish {
    shared: Arc<FeedState>,
    sink: Sender<Vec<Report>>,
}

impl Drop for Finish {
    fn drop(&mut self) {
        self.shared.lock().exhausted = true;
        let _ = self.sink.send(Vec::new());
    }
}

/// Starts the feeder thread: it pulls `inputs` into chunks of `size`
/// items of `batch` while fewer than `window` items are outstanding.
pub(crate) fn start<T, I>(
    inputs: I,
    batch: Arc<Batch>,
    size: usize,
    window: usize,
    submitter: Submitter,
    ended: Arc<Ended>,
) -> Arc<FeedState>
where
    T: serde::Serialize,
    I: Iterator<Item = T> + Send + 'static,
{
    let shared = Arc::new(FeedState::default());
    ended.watch(batch.sink.clone());
    let finish = Finish {
        shared: Arc::clone(&shared),
        sink: batch.sink.clone(),
    };
    let feeder = move || feed(inputs, &batch, size, window, &submitter, &ended, finish);
    if let Err(e) = std::thread::Builder::new()
        .name("mproc-feeder".into())
        .spawn(feeder)
    {
        // The closure (and its `Finish`) dropped: the stream is empty.
        tracing::error!("cannot start the feeder thread: {e}");
    }
    shared
}

fn feed<T: serde::Serialize>(
    mut inputs: impl Iterator<Item = T>,
    batch: &Arc<Batch>,
    size: usize,
    window: usize,
    submitter: &Submitter,
    ended: &Ended,
    finish: Finish,
) {
    let shared = &finish.shared;
    let mut chunks = Chunks::new(batch, size);
    loop {
        {
            let mut counts = shared.lock();
            while !counts.stop && counts.pulled - counts.delivered >= window {
                counts = shared
                    .changed
                    .wait(counts)
                    .unwrap_or_else(|e| e.into_inner());
            }
            if counts.stop {
                break;
            }
        }
        if ended.is_set() {
            break;
        }
        let Some(input) = inputs.next() else {
            break;
        };
        chunks.push(&input);
        shared.lock().pulled = chunks.submitted;
        submitter.submit(chunks.take_done());
    }
    // The partial chunk too: its items report (as not run, if the pool
    // has ended), so every pulled input has a result.
    submitter.submit(chunks.finish());
    drop(finish);
}
