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
//! # Worker mode
//!
//! A pool starts N copies of its own executable (`/proc/self/exe`) with the
//! hidden argument `worker` and never the parent's argv. The binary's
//! `main` calls [`serve_if_worker`] first; in a worker it serves jobs from
//! the [`Registry`] and exits, so the rest of `main` runs only in the
//! parent. Inside a worker, fd 1 carries frames only: it is moved to a
//! private descriptor before any job runs and fd 1 points at stderr, so a
//! job's `println!` shows up as a log line instead of corrupting the stream.
//!
//! # Protocol
//!
//! Length-prefixed frames (`u32` little-endian, then a bincode payload):
//! jobs on the worker's stdin, results and log events on its stdout, after a
//! handshake that carries the protocol version and the worker's pid. Several
//! items are in flight per worker, so an item costs far less than a round
//! trip. See `docs/PROTOCOL.md`.
//!
//! # Failure model
//!
//! Every item ends with exactly one [`Outcome`]: `Ok`, `Failed` (the job's
//! error), `Panicked`, `Crashed` (its worker died: exit code or signal),
//! `TimedOut`, or `NotRun`. A worker that dies is replaced and the map goes
//! on; items it had received but not started go back to the queue. Dropping
//! a [`Pool`] or a [`Process`] kills and reaps its children, and workers die
//! with their parent (`PR_SET_PDEATHSIG`). See `docs/RELIABILITY.md`.
#![deny(missing_docs)]

mod child;
pub mod cli;
mod commands;
mod connection;
pub mod cpu;
pub mod decimal_sum;
mod error;
pub mod file_path;
pub mod generate;
pub mod hosts;
mod job;
pub mod joblog;
pub mod jobs;
pub mod logging;
pub mod options;
mod outcome;
mod paths;
pub mod pool;
mod process;
pub mod progress;
pub mod protocol;
mod registry;
pub mod report;
pub mod rng;
pub mod text;
pub mod timeline;
pub mod web;
mod worker;

pub use child::WorkerCommand;
pub use commands::Status;
pub use cpu::{cpu_count, cpu_info, CpuInfo};
pub use error::{Error, ErrorKind, Result};
pub use file_path::FilePath;
pub use job::{Job, JobError};
pub use outcome::{values, Exit, ItemResult, Outcome};
pub use pool::{AsyncResult, IMap, Pool, PoolBuilder, Stopper};
pub use process::Process;
pub use registry::Registry;
pub use worker::{serve, serve_if_worker};

/// Runs the `mproc` command line on `args` (program name first) and returns
/// the process exit code: 0 all ok, 1 some item not ok, 2 usage or fatal
/// error (printed as one line on stderr).
pub fn run<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let invocation = match cli::parse(args) {
        Ok(cli::Parsed::Run(invocation)) => *invocation,
        Ok(cli::Parsed::Show(text, code)) => {
            report::Stdout::default().print(&text);
            return code;
        }
        Err(e) => return fail(&e),
    };
    if !matches!(invocation.command, options::Command::Worker) {
        if let Err(e) = logging::init(&invocation.log) {
            return fail(&e);
        }
    }
    match commands::execute(invocation.command) {
        Ok(status) => status.0,
        Err(e) => fail(&e),
    }
}

fn fail(e: &Error) -> u8 {
    eprintln!("mproc: {e}");
    2
}
