//! The log bridge: worker `tracing` events and printed lines, re-emitted in
//! the parent.
//!
//! Worker events arrive as `LogRecord` frames and are re-emitted here
//! with `worker` (pool slot) and `pid` fields under [`WORKER_TARGET`]; a
//! job's prints arrive through the worker's stderr and are re-emitted under
//! [`OUTPUT_TARGET`]. Whatever subscriber the parent installed shows them
//! in order of arrival. A parent with no subscriber still sees every line,
//! on stderr, as a Python child's prints reach the terminal.
//!
//! This module owns no sink and no format: the application chooses those.

use std::io::Write;

use tracing::level_filters::LevelFilter;
use tracing::Level;

use crate::protocol::LogRecord;

/// The target of re-emitted worker events.
pub const WORKER_TARGET: &str = "mproc::worker";
/// The target of lines a job printed.
pub const OUTPUT_TARGET: &str = "mproc::output";

static DEFAULT_FILTER: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Sets the filter directive (as `RUST_LOG` takes it) that workers of
/// every pool and [`Process`](crate::Process) of this program apply to
/// their own events, unless a pool's settings name another. The first
/// call wins. A program that installs its own subscriber with a filter
/// calls this with the same directive.
pub fn set_default_filter(directive: impl Into<String>) {
    let _ = DEFAULT_FILTER.set(directive.into());
}

/// The filter directive workers apply to their own events when the pool
/// was given none: [`set_default_filter`]'s, else `RUST_LOG`, else the
/// level the parent's subscriber lets through, else `info` when the parent
/// has no subscriber.
pub(crate) fn default_worker_filter() -> String {
    if let Some(directive) = DEFAULT_FILTER.get() {
        return directive.clone();
    }
    if let Some(directive) = std::env::var("RUST_LOG").ok().filter(|s| !s.is_empty()) {
        return directive;
    }
    if tracing::dispatcher::has_been_set() {
        match LevelFilter::current().into_level() {
            Some(level) => level.as_str().to_ascii_lowercase(),
            None => "off".into(),
        }
    } else {
        "info".into()
    }
}

/// Re-emits one worker event into this process's subscriber.
pub(crate) fn emit_worker(worker: usize, pid: u32, rec: &LogRecord) {
    if !tracing::dispatcher::has_been_set() {
        let level = level_of(rec.level);
        let _ = writeln!(
            std::io::stderr().lock(),
            "{level:>5} [worker {worker} pid {pid}] {}",
            rec.message
        );
        return;
    }
    macro_rules! emit {
        ($level:expr) => {
            tracing::event!(target: "mproc::worker", $level, worker, pid, origin = rec.target.as_str(), "{}", rec.message)
        };
    }
    match rec.level {
        1 => emit!(Level::ERROR),
        2 => emit!(Level::WARN),
        3 => emit!(Level::INFO),
        4 => emit!(Level::DEBUG),
        _ => emit!(Level::TRACE),
    }
}

/// Re-emits one line a job printed (on stdout or stderr) in a worker.
pub(crate) fn emit_output(worker: usize, pid: u32, line: &str) {
    if tracing::dispatcher::has_been_set() {
        tracing::info!(target: "mproc::output", worker, pid, "{line}");
    } else {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

/// The level number a [`LogRecord`] carries.
pub(crate) fn level_number(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

fn level_of(number: u8) -> Level {
    match number {
        1 => Level::ERROR,
        2 => Level::WARN,
        3 => Level::INFO,
        4 => Level::DEBUG,
        _ => Level::TRACE,
    }
}
