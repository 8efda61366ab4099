//! Printing results: JSON documents and lines for every job, the summary,
//! per-item failure lines, and each job's human report.
//!
//! Stdout carries results only; people-facing lines go to the log sink on
//! stderr. A closed stdout (`mproc ... | head`) ends output quietly; any
//! other failed write is an error (exit 2), never a silent success.

mod escape;
mod lines;
mod outputs;
// Its users are the excel and fetch jobs' reports.
#[cfg_attr(not(all(feature = "excel", feature = "fetch")), allow(dead_code))]
pub(crate) mod table;
mod whole_file;

pub(crate) use escape::{escaped, needs_escape};
pub(crate) use lines::JsonLines;
pub(crate) use outputs::{check_replaceable, check_writable};
pub(crate) use whole_file::write_whole;

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::errors::io_message;
use mproc::{Error, ErrorKind, Result};
use mproc::{ItemResult, OutcomeKind};

/// Counts of outcomes over a run.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub(crate) struct Summary {
    /// Items in all.
    pub total: usize,
    /// Items that ended ok.
    pub ok: usize,
    /// Items whose job returned an error.
    pub failed: usize,
    /// Items whose job panicked.
    pub panicked: usize,
    /// Items whose worker crashed.
    pub crashed: usize,
    /// Items that ran past the time limit.
    pub timed_out: usize,
    /// Items never run.
    pub not_run: usize,
    /// Worker processes.
    pub processes: usize,
    /// Wall time of the run, in milliseconds.
    pub elapsed_ms: u64,
}

impl Summary {
    /// Adds one outcome.
    pub(crate) fn add<T>(&mut self, r: &ItemResult<T>) {
        self.total += 1;
        match r.outcome.kind() {
            OutcomeKind::Ok => self.ok += 1,
            OutcomeKind::Failed => self.failed += 1,
            OutcomeKind::Panicked => self.panicked += 1,
            OutcomeKind::Crashed => self.crashed += 1,
            OutcomeKind::TimedOut => self.timed_out += 1,
            OutcomeKind::NotRun => self.not_run += 1,
        }
    }

    /// True when every item ended ok.
    pub(crate) fn all_ok(&self) -> bool {
        self.ok == self.total
    }

    /// `11 items: 10 ok, 1 crashed in 0.052 s` (`1 item: ...`).
    pub(crate) fn line(&self) -> String {
        let mut parts = vec![format!("{} ok", self.ok)];
        for (n, name) in [
            (self.failed, "failed"),
            (self.panicked, "panicked"),
            (self.crashed, "crashed"),
            (self.timed_out, "timed out"),
            (self.not_run, "not run"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {name}"));
            }
        }
        format!(
            "{}: {} in {:.3} s",
            count(self.total as u64, "item"),
            parts.join(", "),
            self.elapsed_ms as f64 / 1000.0
        )
    }
}

/// A count and its noun, singular for one: `1 item`, `2 items`, `0 items`,
/// `2 processes`.
pub(crate) fn count(n: u64, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        _ if noun.ends_with('s') => format!("{n} {noun}es"),
        _ => format!("{n} {noun}s"),
    }
}

/// One result as a JSON object: `index`, `input`, `outcome`, `worker`,
/// `pid`, `host`, `attempts`, `started_ms`, `elapsed_ms`, then, when it was
/// retried, `earlier_attempts` (each earlier attempt, oldest first, as
/// `outcome`, `error`, `worker`, `pid`, `host`, `started_ms`,
/// `elapsed_ms`), then the job's own fields (an object's fields, or
/// `value`) or `error`. `hosts` names each pool slot's host (`host` is
/// null for this machine), as the job log does.
pub(crate) fn record<T: Serialize>(
    r: &ItemResult<T>,
    input: &Value,
    hosts: &[Option<String>],
) -> Value {
    let host = |worker: Option<usize>| worker.and_then(|w| hosts.get(w).cloned().flatten());
    let mut obj = Map::new();
    obj.insert("index".into(), json!(r.index));
    obj.insert("input".into(), input.clone());
    obj.insert("outcome".into(), json!(r.outcome.name()));
    obj.insert("worker".into(), json!(r.worker));
    obj.insert("pid".into(), json!(r.pid));
    obj.insert("host".into(), json!(host(r.worker)));
    obj.insert("attempts".into(), json!(r.attempts));
    obj.insert("started_ms".into(), json!(r.started.map(ms)));
    obj.insert("elapsed_ms".into(), json!(ms(r.elapsed)));
    if !r.earlier.is_empty() {
        let earlier: Vec<Value> = r
            .earlier
            .iter()
            .map(|a| {
                json!({
                    "outcome": a.outcome.name(),
                    "error": a.outcome.error(),
                    "worker": a.worker,
                    "pid": a.pid,
                    "host": host(a.worker),
                    "started_ms": a.started.map(ms),
                    "elapsed_ms": ms(a.elapsed),
                })
            })
            .collect();
        obj.insert("earlier_attempts".into(), Value::Array(earlier));
    }
    match r.outcome.as_ok() {
        Some(v) => match serde_json::to_value(v) {
            Ok(Value::Object(fields)) => {
                for (k, v) in fields {
                    obj.entry(k).or_insert(v);
                }
            }
            Ok(other) => {
                obj.insert("value".into(), other);
            }
            Err(e) => {
                obj.insert("value".into(), json!(format!("unprintable value: {e}")));
            }
        },
        None => {
            obj.insert("error".into(), json!(r.outcome.error()));
        }
    }
    Value::Object(obj)
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// Set when a job that prints its own output (`mproc run`) finds that
/// stdout's reader has gone; every [`Stdout`] then counts as closed.
static READER_GONE: AtomicBool = AtomicBool::new(false);

/// Notes that stdout's reader has gone (a broken pipe seen outside
/// [`Stdout`]), so that the run stops.
pub(crate) fn reader_gone() {
    READER_GONE.store(true, Ordering::Relaxed);
}

/// Standard output that stops quietly once the reader has gone, and
/// remembers a write that failed for any other reason (a full disk,
/// `> /dev/full`), so that the command can end with exit 2 and one line
/// instead of reporting success.
#[derive(Default)]
pub(crate) struct Stdout {
    /// The reader has gone (broken pipe): nothing more is written.
    closed: bool,
    /// The first write that failed otherwise.
    failed: Option<io::Error>,
}

impl Stdout {
    /// Writes `text` (a whole line or block) to stdout.
    pub(crate) fn print(&mut self, text: &str) {
        self.print_bytes(text.as_bytes());
    }

    /// Writes `bytes` (text, in whole lines or pieces of one) to stdout.
    pub(crate) fn print_bytes(&mut self, bytes: &[u8]) {
        if self.stopped() {
            return;
        }
        if let Err(e) = crate::progress::to_stdout(|out| out.write_all(bytes)) {
            if e.kind() == io::ErrorKind::BrokenPipe {
                self.closed = true;
            } else {
                self.failed = Some(e);
            }
        }
    }

    /// Writes one JSON value and a newline.
    pub(crate) fn json_line(&mut self, value: &Value) {
        self.print(&format!("{value}\n"));
    }

    /// True once nothing more can be written: the reader has gone or a
    /// write failed. A run whose results cannot be delivered should stop.
    pub(crate) fn stopped(&self) -> bool {
        self.closed() || self.failed.is_some()
    }

    /// True when the reader has gone (`mproc ... | head -1`): a quiet end.
    pub(crate) fn closed(&self) -> bool {
        self.closed || READER_GONE.load(Ordering::Relaxed)
    }

    /// Ends the output: an error if any write failed (other than a reader
    /// that went away, which is a quiet success).
    pub(crate) fn finish(self) -> Result<()> {
        match self.failed {
            None => Ok(()),
            Some(e) => Err(Error::new(
                ErrorKind::Io,
                format!("cannot write results to stdout: {}", io_message(&e)),
            )
            .with_source(e)),
        }
    }

    /// Prints `text` and ends the output: [`print`](Self::print), then
    /// [`finish`](Self::finish).
    pub(crate) fn print_all(text: &str) -> Result<()> {
        let mut out = Stdout::default();
        out.print(text);
        out.finish()
    }
}

/// Logs one line per item that failed, panicked, crashed or timed out,
/// naming its input (the first 50; then a count), and one line naming the
/// items that did not run, as ranges.
pub(crate) fn log_failures<T>(results: &[ItemResult<T>], input: impl Fn(usize) -> Value) {
    const SHOWN: usize = 50;
    let bad: Vec<&ItemResult<T>> = results
        .iter()
        .filter(|r| !r.outcome.is_ok() && r.outcome.name() != "not_run")
        .collect();
    for r in bad.iter().take(SHOWN) {
        let error = r.outcome.error().unwrap_or_default();
        tracing::error!("{}", failure_message(r.index, &input(r.index), &error));
    }
    if bad.len() > SHOWN {
        tracing::error!(
            "... and {} not ok",
            count((bad.len() - SHOWN) as u64, "more item")
        );
    }
    let mut not_run: Vec<(usize, String)> = results
        .iter()
        .filter_map(|r| match &r.outcome {
            mproc::Outcome::NotRun(why) => Some((r.index, why.clone())),
            _ => None,
        })
        .collect();
    if !not_run.is_empty() {
        not_run.sort_unstable();
        let why = not_run[0].1.clone();
        let indexes: Vec<usize> = not_run.iter().map(|(i, _)| *i).collect();
        tracing::error!(
            "{} not run ({why}): {}",
            count(indexes.len() as u64, "item"),
            ranges(&indexes)
        );
    }
}

/// `0, 3-7, 9` for sorted indexes.
pub(crate) fn ranges(sorted: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(", ")
}

/// The failure list's message for an item: `item 3 (input): error`, the
/// input cut at 80 characters (as the progress bar names it too).
pub(crate) fn failure_message(index: usize, input: &Value, error: &str) -> String {
    format!("item {index} ({}): {error}", short(input))
}

fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 80 {
        s.chars().take(77).collect::<String>() + "..."
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ranges_compress_runs() {
        assert_eq!(super::ranges(&[0, 3, 4, 5, 6, 7, 9]), "0, 3-7, 9");
        assert_eq!(super::ranges(&[]), "");
        assert_eq!(super::ranges(&[2, 3]), "2-3");
    }
}
