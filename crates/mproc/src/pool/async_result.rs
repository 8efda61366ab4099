//! [`AsyncResult`]: the handle `map_async` and `apply_async` return.
//!
//! A collector thread gathers the batch's results, puts them in input
//! order, runs the callback if one was given, and wakes any waiter.

use std::sync::mpsc::Receiver;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::task::Report;
use crate::error::{Error, ErrorKind, Result};
use crate::outcome::ItemResult;

type Callback<T> = Box<dyn FnOnce(&T) + Send>;

enum State<T> {
    Pending(Option<Callback<T>>),
    Ready(T),
}

struct ResultSlot<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
}

/// A result that will be ready later, like Python's `AsyncResult`.
pub struct AsyncResult<T> {
    shared: Arc<ResultSlot<T>>,
}

impl<T: Send + 'static> AsyncResult<T> {
    pub(super) fn collect<O: serde::de::DeserializeOwned + Send + 'static>(
        results: Receiver<Vec<Report>>,
        count: usize,
        finish: impl FnOnce(Vec<ItemResult<O>>) -> T + Send + 'static,
    ) -> Self {
        let shared = Arc::new(ResultSlot {
            state: Mutex::new(State::Pending(None)),
            ready: Condvar::new(),
        });
        let inner = Arc::clone(&shared);
        let spawned = std::thread::Builder::new()
            .name("mproc-async".into())
            .spawn(move || {
                let mut slots: Vec<Option<ItemResult<O>>> = (0..count).map(|_| None).collect();
                let mut got = 0;
                while got < count {
                    let Ok(reports) = results.recv() else {
                        break;
                    };
                    for r in reports
                        .into_iter()
                        .flat_map(Report::into_decoded_results::<O>)
                    {
                        if let Some(slot) = slots.get_mut(r.index) {
                            got += usize::from(slot.is_none());
                            *slot = Some(r);
                        }
                    }
                }
                let ordered = slots
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| r.unwrap_or_else(|| ItemResult::not_run(i, "the pool stopped")))
                    .collect();
                let value = finish(ordered);
                let mut state = inner.state.lock().unwrap_or_else(|e| e.into_inner());
                if let State::Pending(Some(callback)) =
                    std::mem::replace(&mut *state, State::Pending(None))
                {
                    callback(&value);
                }
                *state = State::Ready(value);
                inner.ready.notify_all();
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start a result collector thread: {e}");
        }
        AsyncResult { shared }
    }

    /// A handle whose result is `value`, ready now (a serial run's).
    pub(crate) fn done(value: T) -> Self {
        AsyncResult {
            shared: Arc::new(ResultSlot {
                state: Mutex::new(State::Ready(value)),
                ready: Condvar::new(),
            }),
        }
    }

    /// Runs `callback` with the result once it is ready (at once if it
    /// already is), like Python's `callback=` argument.
    pub fn on_ready(self, callback: impl FnOnce(&T) + Send + 'static) -> Self {
        {
            let mut state = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
            match &mut *state {
                State::Ready(value) => callback(value),
                State::Pending(slot) => *slot = Some(Box::new(callback)),
            }
        }
        self
    }

    /// True once the result is available.
    pub fn ready(&self) -> bool {
        let state = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        matches!(*state, State::Ready(_))
    }

    /// Waits until the result is ready or `timeout` passes; true if ready.
    pub fn wait(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut state = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if matches!(*state, State::Ready(_)) {
                return true;
            }
            state = match deadline {
                None => self
                    .shared
                    .ready
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return false;
                    }
                    self.shared
                        .ready
                        .wait_timeout(state, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }

    /// Waits for the result (at most `timeout`) and returns it. On timeout
    /// the error's kind is [`ErrorKind::Timeout`]; use [`wait`](Self::wait)
    /// to poll without giving the handle up.
    pub fn get(self, timeout: Option<Duration>) -> Result<T> {
        if !self.wait(timeout) {
            let secs = timeout.unwrap_or_default().as_secs_f64();
            return Err(Error::new(
                ErrorKind::Timeout,
                format!("result not ready after {secs} s"),
            ));
        }
        let mut state = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        match std::mem::replace(&mut *state, State::Pending(None)) {
            State::Ready(value) => Ok(value),
            State::Pending(_) => Err(Error::new(ErrorKind::Closed, "result already taken")),
        }
    }
}
