//! mproc runs work in real OS child processes, the way Python's
//! `multiprocessing` does: [`cpu_count`], [`Process`], and a [`Pool`] with
//! `map`, `imap`, `imap_unordered`, `map_async` and `apply_async`; and
//! every worker's `tracing` logs reach one sink in the parent.
//!
//! # Example
//!
//! ```no_run
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Square;
//!
//! impl mproc::Job for Square {
//!     const NAME: &'static str = "square";
//!     type Input = u64;
//!     type Output = u64;
//!     fn run(&self, x: u64) -> Result<u64, mproc::JobError> {
//!         Ok(x * x)
//!     }
//! }
//!
//! fn main() -> mproc::Result<()> {
//!     // Turns this process into a worker when a pool started it as one.
//!     mproc::serve_if_worker(&mproc::Registry::new().register::<Square>());
//!
//!     let pool = mproc::Pool::new(3)?;
//!     let squares = mproc::values(pool.map(&Square, 0..10))?;
//!     assert_eq!(squares[3], 9);
//!     Ok(())
//! }
//! ```
//!
//! # Plain functions
//!
//! A non-capturing `fn(I) -> O` needs no [`Job`] impl and no registry
//! entry: [`Pool::map_fn`] (and `imap_fn`, `imap_unordered_fn`,
//! `map_async_fn`, `apply_fn`, [`Process::start_fn`]) run it.
//!
//! ```no_run
//! fn square(x: u64) -> u64 {
//!     x * x
//! }
//!
//! fn main() -> mproc::Result<()> {
//!     mproc::serve_if_worker(&mproc::Registry::new());
//!     let pool = mproc::Pool::new(3)?;
//!     assert_eq!(mproc::values(pool.map_fn(square, 0..4))?, [0, 1, 4, 9]);
//!     Ok(())
//! }
//! ```
//!
//! The function travels by its place in the executable, so only workers
//! started from the parent's own executable file run it ([`FnJob`]); a
//! worker of another build (another copy of the program, another host)
//! refuses it with a message, and needs a registered [`Job`].
//!
//! A job's value, input and output cross process boundaries, so they are
//! serde types. A program adds two lines to its `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! mproc = "0.2"
//! serde = { version = "1", features = ["derive"] }
//! ```
//!
//! (serde's derive macros expand to paths of the `serde` crate, so it must
//! be a direct dependency; mproc re-exports the version it uses as
//! [`mproc::serde`](serde) for `#[serde(crate = "mproc::serde")]`.)
//!
//! # A pool or this process
//!
//! [`Serial`] runs a job in this process, item after item, with the same
//! settings: the baseline a pool is measured against. [`Runner`] holds
//! either behind one surface (processes, hosts, worker events, a
//! [`Stopper`], `map`, `imap`, `map_async`...), so a program that offers
//! both chooses once, when it starts, and never asks again.
//!
//! # Worker mode
//!
//! A pool starts N copies of its own executable (`/proc/self/exe`) with the
//! hidden argument `worker` and never the parent's argv. The binary's
//! `main` calls [`serve_if_worker`] first; in a worker it serves jobs from
//! the [`Registry`] and exits, so the rest of `main` runs only in the
//! parent. A process started as a worker that reaches [`Pool`] or
//! [`Process`] instead (the call was forgotten) exits at once with a
//! message that names the missing call, rather than starting workers of its
//! own. Inside a worker, fd 1 carries frames only: it is moved to a private
//! descriptor before any job runs and fd 1 points at stderr, so a job's
//! `println!` shows up as a log line instead of corrupting the stream.
//!
//! A worker takes about as long to start as its parent. A program that
//! knows early that it will make a pool can begin its workers with
//! [`WarmStart`] and go on with its own start meanwhile; the pool adopts
//! them.
//!
//! # Logging
//!
//! A worker's `tracing` events and printed lines are re-emitted in the
//! parent with `worker` and `pid` fields, into whatever subscriber the
//! parent installed (see [`log_bridge`]). With no subscriber, they are
//! written to the parent's stderr.
//!
//! # Tests
//!
//! With the `test-support` feature, `enable_test_support!` lets pools
//! run inside `#[test]` functions: the test binary serves as its own worker.
//!
//! # Failure model
//!
//! Every item ends with exactly one [`Outcome`]: `Ok`, `Failed` (the job's
//! error), `Panicked`, `Crashed` (its worker died: exit code or signal),
//! `TimedOut`, or `NotRun`. A worker that dies is replaced and the map goes
//! on; items it had received but not started go back to the queue. Dropping
//! a [`Pool`] or a [`Process`] kills and reaps its children, and local
//! workers die with their parent (`PR_SET_PDEATHSIG`).
//!
//! # Platform support
//!
//! Linux only: workers use `prctl(PR_SET_PDEATHSIG)`, and the CPU count
//! reads `/proc` and cgroups. On another target the crate does not compile,
//! with a message that says so.
#![deny(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    unnameable_types
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(not(target_os = "linux"))]
compile_error!("mproc runs on Linux only: it uses prctl(PR_SET_PDEATHSIG), /proc and cgroups");

pub mod bounded;
mod child;
mod connection;
mod cpu;
mod debug;
mod error;
mod failure;
mod file_path;
mod function;
pub mod hosts;
mod job;
mod limits;
pub mod log_bridge;
mod outcome;
mod pool;
mod process;
mod progress_page;
// The wire format is private: job authors see serde types, never frames.
// The fuzz target reaches it through the `fuzz-internals` feature; nothing
// else may.
#[cfg(feature = "fuzz-internals")]
#[doc(hidden)]
pub mod protocol;
// Its `pub` items are the fuzz target's: public with `fuzz-internals`.
// (`From<WireFailure> for Outcome` makes that type reachable, unnamed.)
#[cfg(not(feature = "fuzz-internals"))]
#[allow(unreachable_pub, unnameable_types)]
mod protocol;
mod registry;
mod runner;
mod serial;
mod settings;
mod stopper;
#[cfg(feature = "test-support")]
mod test_support;
mod warm;
mod worker;
mod worker_input;

pub use child::WorkerCommand;
pub use cpu::{cpu_count, cpu_info, CpuInfo, CpuSource, CPU_COUNT_ENV};
pub use error::{Error, ErrorKind, Result};
pub use failure::Failure;
pub use file_path::FilePath;
pub use function::{build_id, FnJob};
pub use job::{Job, JobError};
pub use limits::{MAX_CONCURRENCY, MAX_PROCESSES};
pub use outcome::{values, Attempt, Attempts, Exit, ItemResult, Outcome, OutcomeKind};
pub use pool::{AsyncResult, IMap, Pool};
pub use process::Process;
/// The worker protocol's version, which a worker announces in its handshake,
/// and the most bytes one decoded payload (an input, an output, a job) may
/// take: see `docs/PROTOCOL.md`.
pub use protocol::{DECODE_LIMIT, VERSION as PROTOCOL_VERSION};
pub use registry::Registry;
pub use runner::{Results, Runner};
pub use serde;
pub use serial::Serial;
pub use settings::PoolSettings;
pub use stopper::Stopper;
pub use warm::WarmStart;
pub use worker::{serve, serve_if_worker, WORKER_EXIT_ERROR};

#[cfg(feature = "test-support")]
#[doc(hidden)]
pub mod __private {
    pub use crate::test_support::serve_test_worker;
    pub use ctor::ctor;
}
