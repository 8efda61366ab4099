//! [`PoolSettings`]: every setting of a pool, in one value.
//!
//! The settings are built once (by the chainable setters here, or by a
//! command line filling the public fields) and handed unchanged to
//! [`Pool`], to its scheduler and connections, and to [`Serial`], which
//! runs the same work in this process. No setting changes type on the way.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::hosts::Placement;
use crate::limits::{MAX_CONCURRENCY, MAX_PROCESSES};
use crate::protocol;
#[cfg(doc)]
use crate::{Outcome, Pool, Serial};

/// Every setting of a pool; build with [`Pool::builder`] and start with
/// [`build`](PoolSettings::build).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PoolSettings {
    /// Worker processes (default: [`cpu_count`](crate::cpu_count)). With
    /// hosts in the placement, their counts decide instead.
    pub processes: Option<usize>,
    /// Items sent to a worker at once, as one chunk: `None` (the default)
    /// cuts chunks by measured time as they are sent (about 2 ms of work,
    /// slow items one at a time, smaller as the queue drains; 1 item with
    /// `halt_on_error`). Costs are paid per chunk; each item keeps its own
    /// measured times either way.
    pub chunksize: Option<usize>,
    /// Replace each worker after it has run this many items.
    pub max_tasks_per_child: Option<u64>,
    /// An item running longer than this is killed with its worker and ends
    /// [`Outcome::TimedOut`].
    pub timeout: Option<Duration>,
    /// Extra attempts for an item that crashed or timed out.
    pub retries: u32,
    /// Also retry items whose job returned an error or panicked.
    pub retry_errors: bool,
    /// Stop dispatching after the first item that is not ok.
    pub halt_on_error: bool,
    /// Items run at once inside each worker, on threads (default 1, at
    /// most [`MAX_CONCURRENCY`]).
    pub concurrency: u32,
    /// Largest result frame accepted from a worker, in bytes (default 64 MiB).
    pub max_frame: usize,
    /// How long a new worker may take to answer the handshake (default 30 s).
    pub start_timeout: Duration,
    /// The worker program, instead of this executable.
    pub program: Option<PathBuf>,
    /// Where workers run: here, behind a launcher, on hosts through ssh.
    pub placement: Placement,
    /// The `tracing` filter workers apply to their own events (default:
    /// `RUST_LOG`, else the level of the parent's subscriber).
    pub log_filter: Option<String>,
    /// Measure each item's own start and run time in its worker (default
    /// on). See [`item_times`](PoolSettings::item_times).
    pub item_times: bool,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            processes: None,
            chunksize: None,
            max_tasks_per_child: None,
            timeout: None,
            retries: 0,
            retry_errors: false,
            halt_on_error: false,
            concurrency: 1,
            max_frame: protocol::DEFAULT_MAX_FRAME,
            start_timeout: Duration::from_secs(30),
            program: None,
            placement: Placement::default(),
            log_filter: None,
            item_times: true,
        }
    }
}

impl PoolSettings {
    /// Number of worker processes (default: [`cpu_count`](crate::cpu_count)).
    pub fn processes(mut self, n: usize) -> Self {
        self.processes = Some(n);
        self
    }

    /// Items sent to a worker at once (default: automatic, see
    /// [`chunksize`](PoolSettings::chunksize)). `1` gives each item its own
    /// frame.
    pub fn chunksize(mut self, n: usize) -> Self {
        self.chunksize = Some(n.clamp(1, protocol::MAX_CHUNK));
        self
    }

    /// Replace each worker after it has run this many items.
    pub fn max_tasks_per_child(mut self, n: u64) -> Self {
        self.max_tasks_per_child = Some(n.max(1));
        self
    }

    /// Kill and replace a worker whose item runs longer than this; the item
    /// ends [`Outcome::TimedOut`].
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// Run an item that crashed or timed out up to `n` more times.
    pub fn retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }

    /// Also retry items whose job returned an error or panicked.
    pub fn retry_errors(mut self, yes: bool) -> Self {
        self.retry_errors = yes;
        self
    }

    /// Stop dispatching after the first item that is not ok; items not yet
    /// sent to a worker end [`Outcome::NotRun`].
    pub fn halt_on_error(mut self, yes: bool) -> Self {
        self.halt_on_error = yes;
        self
    }

    /// Measure each item's own start and run time in its worker (default
    /// on): one clock reading an item, and a few bytes an item on the way
    /// back. Turned off, a worker reads the clock only at the start and
    /// end of each batch of results it sends (its run time still paces the
    /// chunks), and an item of a batch of several gets the batch's start
    /// and a run time of zero, never an average. For tiny items whose
    /// times nobody records (the command line turns it off when it writes
    /// no job log, JSON, trace or timeline).
    pub fn item_times(mut self, yes: bool) -> Self {
        self.item_times = yes;
        self
    }

    /// Items run at once inside each worker, on threads (default 1). Raise
    /// it for I/O-bound jobs. Each free thread takes the next item the
    /// worker holds, from any chunk, so K items of one chunk run together.
    pub fn concurrency(mut self, n: u32) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Largest result frame accepted from a worker (default 64 MiB).
    pub fn max_frame(mut self, bytes: usize) -> Self {
        self.max_frame = bytes;
        self
    }

    /// How long a new worker may take to answer the handshake (default 30 s).
    pub fn start_timeout(mut self, limit: Duration) -> Self {
        self.start_timeout = limit;
        self
    }

    /// Run this program as the worker instead of the current executable. It
    /// must call [`serve_if_worker`](crate::serve_if_worker) (or be `mproc`).
    pub fn program(mut self, path: impl Into<PathBuf>) -> Self {
        self.program = Some(path.into());
        self
    }

    /// Runs the workers where `placement` says: behind a launcher, on
    /// other hosts through ssh. With hosts, their counts replace
    /// [`processes`](PoolSettings::processes).
    pub fn placement(mut self, placement: Placement) -> Self {
        self.placement = placement;
        self
    }

    /// The `tracing` filter directive workers apply to their own events,
    /// as `RUST_LOG` takes it.
    pub fn log_filter(mut self, directive: impl Into<String>) -> Self {
        self.log_filter = Some(directive.into());
        self
    }

    /// How many workers these settings start: the hosts' counts, else
    /// `processes`, else the usable CPUs. Checked against [`MAX_PROCESSES`],
    /// and the concurrency against [`MAX_CONCURRENCY`], before any worker
    /// starts.
    pub fn worker_count(&self) -> Result<usize> {
        if self.concurrency > MAX_CONCURRENCY {
            return Err(Error::usage(format!(
                "a concurrency of {} is over the limit of {MAX_CONCURRENCY} items at once per worker",
                self.concurrency
            )));
        }
        let n = if self.placement.hosts.is_empty() {
            match self.processes {
                Some(0) => return Err(Error::usage("a pool needs at least 1 process")),
                Some(n) => n,
                None => crate::cpu::cpu_count(),
            }
        } else {
            self.placement
                .hosts
                .iter()
                .try_fold(0usize, |sum, h| sum.checked_add(h.processes))
                .unwrap_or(usize::MAX)
        };
        if n > MAX_PROCESSES {
            return Err(Error::usage(format!(
                "{n} worker processes is over the limit of {MAX_PROCESSES} per pool"
            )));
        }
        Ok(n)
    }
}
