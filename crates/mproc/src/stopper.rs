//! [`Stopper`]: a handle that stops a [`Runner`](crate::Runner) (a
//! [`Pool`](crate::Pool) or a [`Serial`](crate::Serial)) from any thread.

use std::fmt;
use std::sync::Arc;

/// Stops a pool or a serial run from any thread (a signal handler, a
/// consumer that wants no more); see [`Pool::stopper`](crate::Pool::stopper)
/// and [`Serial::stopper`](crate::Serial::stopper).
#[derive(Clone)]
pub struct Stopper(Arc<dyn Fn(&str) + Send + Sync>);

impl Stopper {
    /// A stopper that calls `stop` with the reason.
    pub(crate) fn new(stop: impl Fn(&str) + Send + Sync + 'static) -> Stopper {
        Stopper(Arc::new(stop))
    }

    /// Stops the run: every item not finished ends
    /// [`Outcome::NotRun`](crate::Outcome::NotRun) with `why`, and
    /// iterators and handles over its results then end normally.
    ///
    /// A pool kills its workers now. A [`Serial`](crate::Serial) run cannot
    /// interrupt the item it is running (it runs on the caller's thread):
    /// that item ends as it ends, and the items after it end `NotRun`.
    /// Either way, a stream of inputs (`imap_stream`) is read no further.
    pub fn stop(&self, why: &str) {
        (self.0)(why)
    }
}

impl fmt::Debug for Stopper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stopper").finish_non_exhaustive()
    }
}
