//! The `mproc` command line, on top of the [`mproc`] library: the built-in
//! jobs (`square`, `load`, `chaos`, `analyze`, `excel`, `fetch`), the
//! commands that run them in a pool, and everything a person sees of a run
//! (reports, JSON, the progress bar, the job log, the timeline).
//!
//! A Rust program that wants a pool of worker processes depends on the
//! `mproc` crate (`crates/mproc`), not on this one.
//!
//! # Layers
//!
//! `bin/mproc.rs` → [`run`] → `cli` (clap, and nothing after it) →
//! `options` (plain values, with the pool's one
//! [`PoolSettings`](mproc::PoolSettings)) → `commands` → a
//! `jobs::Builtin` job from `jobs::TABLE` run by the core's
//! [`Runner`](mproc::Runner) (a pool, or this process) → `report`.
//!
//! # Features
//!
//! `excel` (`pool excel`, `gen excel`), `fetch` (`fetch`, `pool fetch`,
//! `serve-demo`) and `timeline` (`--timeline FILE.svg`), all on by default.
#![deny(missing_docs, unreachable_pub)]

mod allocator;
pub(crate) mod cli;
pub(crate) mod commands;
#[cfg(feature = "excel")]
pub(crate) mod decimal_sum;
mod errors;
pub mod generate;
pub(crate) mod halt;
pub(crate) mod inputs;
pub mod joblog;
pub mod jobs;
pub(crate) mod logging;
pub(crate) mod options;
mod paths;
pub(crate) mod progress;
pub(crate) mod report;
pub mod rng;
pub mod text;
#[cfg(feature = "timeline")]
pub mod timeline;
pub(crate) mod trace;
mod units;
#[cfg(feature = "fetch")]
pub mod web;

/// The exit code of a usage or fatal error.
pub const EXIT_ERROR: u8 = 2;

/// Runs the `mproc` command line on `args` (program name first) and returns
/// the process exit code: 0 all ok, 1 some item not ok, 2 usage or fatal
/// error (printed as one line on stderr), 128+N after signal N.
pub fn run<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    allocator::keep_freed_memory();
    // A worker this program started (marker in the environment, `worker`
    // as its one argument) goes straight to its loop: building the command
    // line parser would add to every worker's start-up.
    mproc::serve_if_worker(&jobs::registry());
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    // A pool's workers start while the command line is parsed; those the
    // run does not take are stopped when it ends (`mproc::warm`).
    let _warm = cli::warm::workers(&args).map(mproc::WarmStart::begin);
    let invocation = match cli::parse(args) {
        Ok(cli::Parsed::Run(invocation)) => *invocation,
        Ok(cli::Parsed::Show(text, code)) => {
            return match report::Stdout::print_all(&text) {
                Ok(()) => code,
                Err(e) => fail(&e),
            };
        }
        Err(e) => return fail(&e),
    };
    if !matches!(invocation.command, options::Command::Worker) {
        if let Err(e) = logging::init(&invocation.log) {
            return fail(&e);
        }
    }
    let code = match commands::execute(invocation.command) {
        Ok(status) => status.0,
        Err(e) => fail(&e),
    };
    progress::flush_logs();
    match logging::lost() {
        // A log that lost lines (a command's stderr among them) is a run
        // that did not deliver what it was asked to.
        Some(lost) => {
            eprintln!("mproc: {}", report::escaped(&lost));
            code.max(EXIT_ERROR)
        }
        None => code,
    }
}

fn fail(e: &mproc::Error) -> u8 {
    progress::flush_logs();
    // The message may name a file: one line, nothing for the terminal.
    eprintln!("mproc: {}", report::escaped(&e.to_string()));
    EXIT_ERROR
}
