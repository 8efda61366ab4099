//! The run as a trace: `--trace FILE.json`, in the Chrome trace event
//! format that Perfetto UI (ui.perfetto.dev) and `chrome://tracing` open.
//!
//! One complete event (`"ph":"X"`) per attempt of every item, on the track
//! of the process that ran it (`pid`) and of its pool slot (`tid`), with
//! `ts` and `dur` in microseconds since the pool started; a flow arrow from
//! each failed attempt to its retry; metadata events (`"ph":"M"`) naming
//! each process and slot (worker, pid, host); instant events (`"ph":"i"`)
//! where a worker started or ended during the run.
//!
//! It also holds [`Span`], one attempt as every picture of a run shows it
//! (the timeline draws the same spans). It takes finished results and
//! worker events as plain values and knows nothing about pools.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::errors::io_message;
use mproc::ItemResult;
use mproc::{Error, ErrorKind, Result};

/// One attempt of one item.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Span {
    /// The item's index in the input.
    pub index: usize,
    /// Which attempt this is (1 for the first).
    pub attempt: u32,
    /// The item's attempts in all.
    pub attempts: u32,
    /// The pool slot that ran it (0 in `--serial`).
    pub lane: usize,
    /// The process that ran it.
    pub pid: Option<u32>,
    /// Seconds from the pool's start.
    pub start: f64,
    /// Seconds from the pool's start.
    pub end: f64,
    /// `ok`, `failed`, `panicked`, `crashed`, `timed_out`.
    pub outcome: &'static str,
    /// The one-line error of an attempt that was not ok.
    pub error: Option<String>,
    /// True when another attempt of the item followed this one.
    pub retried: bool,
}

impl Span {
    /// Every attempt that ran of every result, in order: an item's earlier
    /// attempts, then its last. Items that never ran have none.
    pub(crate) fn all<T>(results: &[ItemResult<T>]) -> Vec<Span> {
        let mut spans = Vec::with_capacity(results.len());
        for r in results {
            let earlier = r.earlier.len() as u32;
            let attempts = r.attempts.max(earlier + 1);
            for (n, a) in r.every_attempt().enumerate() {
                let Some(started) = a.started else { continue };
                let last = n == r.earlier.len();
                let start = started.as_secs_f64();
                spans.push(Span {
                    index: r.index,
                    attempt: if last { attempts } else { n as u32 + 1 },
                    attempts,
                    // An item that ran without a worker slot ran in this
                    // process (`--serial`): the one lane.
                    lane: a.worker.unwrap_or(0),
                    pid: a.pid,
                    start,
                    end: start + a.elapsed.as_secs_f64(),
                    outcome: a.outcome.name(),
                    error: a.outcome.error(),
                    retried: !last,
                });
            }
        }
        spans
    }
}

/// A worker process starting (`true`) or ending in a pool slot: `(slot,
/// pid, since the pool's start, started)`, as `Pool::worker_events` gives.
pub(crate) type WorkerEvent = (usize, u32, Duration, bool);

/// What the trace shows besides the results.
#[derive(Debug, Clone, Default)]
pub(crate) struct Run<'a> {
    /// The job's name.
    pub job: &'a str,
    /// Pool slots (1 for `--serial`).
    pub lanes: usize,
    /// The host of each slot, when not this machine.
    pub hosts: &'a [Option<String>],
    /// Ran in this process (`--serial`).
    pub serial: bool,
    /// Worker starts and ends.
    pub workers: &'a [WorkerEvent],
}

/// An input as a person reads it: a string as is, anything else as JSON.
pub(crate) fn input_text(input: &Value) -> String {
    match input {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// At most `max` characters of `text`, with `…` when cut.
pub(crate) fn shortened(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

fn micros(seconds: f64) -> f64 {
    (seconds * 1e6).round()
}

/// Events written one after another, each on its own line.
struct Events<'w> {
    out: &'w mut dyn Write,
    count: usize,
}

impl Events<'_> {
    fn push(&mut self, event: &Value) -> std::io::Result<()> {
        if self.count > 0 {
            self.out.write_all(b",\n")?;
        }
        self.count += 1;
        serde_json::to_writer(&mut *self.out, event).map_err(std::io::Error::from)
    }
}

/// Writes the trace of a run to `out` as one JSON document (the object
/// form, with `traceEvents`), an event at a time, so a long run's trace
/// is never held in memory whole; `input` gives item `i`'s input as JSON.
pub(crate) fn write_to<T>(
    out: &mut dyn Write,
    run: &Run<'_>,
    results: &[ItemResult<T>],
    input: &dyn Fn(usize) -> Value,
) -> std::io::Result<()> {
    out.write_all(b"{\"traceEvents\":[\n")?;
    let mut events = Events { out, count: 0 };
    // Every process seen, with its slot: from the worker events and the
    // spans (a worker's start can be missing from a long run's events).
    let mut processes: BTreeSet<(u32, usize)> = BTreeSet::new();
    for &(slot, pid, at, started) in run.workers {
        processes.insert((pid, slot));
        let what = if started {
            "worker started"
        } else {
            "worker ended"
        };
        events.push(&json!({
            "name": what, "cat": "worker", "ph": "i", "s": "t",
            "ts": micros(at.as_secs_f64()), "pid": pid, "tid": slot,
            "args": { "worker": slot, "pid": pid },
        }))?;
    }
    let mut flows = 0u64;
    let mut previous: Option<Span> = None;
    for span in Span::all(results) {
        processes.insert((span.pid.unwrap_or(0), span.lane));
        push_span(&mut events, run, &span, input)?;
        // A failed attempt's arrow ends on its retry (the next span).
        if let Some(failed) = previous.filter(|p| p.retried && p.index == span.index) {
            flows += 1;
            push_retry(&mut events, flows, &failed, &span)?;
        }
        previous = Some(span);
    }
    for (pid, slot) in processes {
        push_names(&mut events, run, pid, slot)?;
    }
    let other = json!({
        "producer": format!("mproc {}", env!("CARGO_PKG_VERSION")),
        "job": run.job,
        "lanes": run.lanes,
        "serial": run.serial,
    });
    let out = events.out;
    out.write_all(b"\n],\n\"displayTimeUnit\":\"ms\",\n\"otherData\":")?;
    serde_json::to_writer(&mut *out, &other).map_err(std::io::Error::from)?;
    out.write_all(b"}\n")
}

/// One attempt as a complete ("X") event on its worker's lane, with its
/// item, outcome and host in its args.
fn push_span(
    events: &mut Events<'_>,
    run: &Run<'_>,
    span: &Span,
    input: &dyn Fn(usize) -> Value,
) -> std::io::Result<()> {
    let pid = span.pid.unwrap_or(0);
    let value = input(span.index);
    let name = shortened(&input_text(&value), 60);
    let mut args = json!({
        "index": span.index,
        "input": value,
        "outcome": span.outcome,
        "attempt": span.attempt,
        "attempts": span.attempts,
        "worker": if run.serial { Value::Null } else { json!(span.lane) },
        // The slot's host (null: this machine), as the job log's.
        "host": run.hosts.get(span.lane).cloned().flatten(),
    });
    if let Some(error) = &span.error {
        args["error"] = json!(error);
    }
    let (ts, end) = (micros(span.start), micros(span.end));
    events.push(&json!({
        "name": name,
        "cat": span.outcome,
        "ph": "X",
        "ts": ts,
        "dur": (end - ts).max(0.0),
        "pid": pid,
        "tid": span.lane,
        "cname": match span.outcome { "ok" => "good", "failed" => "bad", _ => "terrible" },
        "args": args,
    }))
}

/// The arrow from a failed attempt to its retry: a flow event pair.
fn push_retry(
    events: &mut Events<'_>,
    id: u64,
    failed: &Span,
    retry: &Span,
) -> std::io::Result<()> {
    events.push(&json!({
        "name": "retry", "cat": "retry", "ph": "s", "id": id,
        "ts": micros(failed.start), "pid": failed.pid.unwrap_or(0), "tid": failed.lane,
    }))?;
    events.push(&json!({
        "name": "retry", "cat": "retry", "ph": "f", "bp": "e", "id": id,
        "ts": micros(retry.start), "pid": retry.pid.unwrap_or(0), "tid": retry.lane,
    }))
}

/// The names Perfetto shows for process `pid` of slot `slot`.
fn push_names(
    events: &mut Events<'_>,
    run: &Run<'_>,
    pid: u32,
    slot: usize,
) -> std::io::Result<()> {
    let host = match run.hosts.get(slot) {
        Some(Some(h)) => format!(" on {h}"),
        _ => String::new(),
    };
    let (process, thread) = if run.serial {
        (
            format!("serial · pid {pid} (this process)"),
            "serial".to_string(),
        )
    } else {
        (
            format!("worker {slot} · pid {pid}{host}"),
            format!("worker {slot}{host}"),
        )
    };
    for (name, args) in [
        ("process_name", json!({ "name": process })),
        ("process_sort_index", json!({ "sort_index": slot })),
        ("thread_name", json!({ "name": thread })),
    ] {
        events.push(&json!({
            "name": name, "ph": "M", "ts": 0, "pid": pid, "tid": slot, "args": args,
        }))?;
    }
    Ok(())
}

/// Writes the trace of a run into `path` (see [`write_to`]), whole or not
/// at all: the previous file stays until the new one is complete.
pub(crate) fn write<T>(
    path: &Path,
    run: &Run<'_>,
    results: &[ItemResult<T>],
    input: &dyn Fn(usize) -> Value,
) -> Result<()> {
    let fail = |e: std::io::Error| {
        Error::new(
            ErrorKind::Io,
            format!(
                "cannot write --trace {}: {}",
                path.display(),
                io_message(&e)
            ),
        )
    };
    crate::report::write_whole(path, |out| write_to(out, run, results, input)).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mproc::{Attempt, Outcome};

    fn result() -> ItemResult<()> {
        let mut r = ItemResult::not_run(3, "");
        r.outcome = Outcome::Ok(());
        r.worker = Some(1);
        r.pid = Some(12);
        r.attempts = 2;
        r.started = Some(Duration::from_millis(300));
        r.elapsed = Duration::from_millis(100);
        r.earlier = vec![Attempt {
            outcome: Outcome::TimedOut(Duration::from_millis(200)),
            worker: Some(1),
            pid: Some(11),
            started: Some(Duration::from_millis(50)),
            elapsed: Duration::from_millis(200),
        }]
        .into();
        r
    }

    #[test]
    fn one_slice_per_attempt_and_an_arrow_to_the_retry() {
        let workers = [
            (1, 11, Duration::ZERO, true),
            (1, 11, Duration::from_millis(260), false),
            (1, 12, Duration::from_millis(280), true),
        ];
        let run = Run {
            job: "chaos",
            lanes: 2,
            hosts: &[],
            serial: false,
            workers: &workers,
        };
        let mut bytes = Vec::new();
        write_to(&mut bytes, &run, &[result()], &|_| json!("sleep:500")).unwrap();
        let doc: Value = serde_json::from_slice(&bytes).unwrap();
        let events = doc["traceEvents"].as_array().unwrap();
        let of = |ph: &str| events.iter().filter(|e| e["ph"] == ph).collect::<Vec<_>>();
        let slices = of("X");
        assert_eq!(slices.len(), 2);
        assert_eq!(slices[0]["args"]["outcome"], "timed_out");
        assert_eq!(slices[0]["args"]["attempt"], 1);
        assert_eq!(slices[0]["ts"], 50_000.0);
        assert_eq!(slices[0]["dur"], 200_000.0);
        assert_eq!(slices[0]["pid"], 11);
        assert_eq!(slices[1]["args"]["attempt"], 2);
        assert_eq!(slices[1]["pid"], 12);
        assert_eq!(slices[1]["tid"], 1);
        assert_eq!(slices[1]["name"], "sleep:500");
        assert_eq!(of("i").len(), 3);
        assert_eq!((of("s").len(), of("f").len()), (1, 1));
        let names: Vec<&str> = of("M")
            .iter()
            .filter(|e| e["name"] == "process_name")
            .map(|e| e["args"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["worker 1 · pid 11", "worker 1 · pid 12"]);
    }

    #[test]
    fn long_inputs_are_shortened_in_names() {
        assert_eq!(shortened("abcdef", 3), "abc…");
        assert_eq!(shortened("日本語", 3), "日本語");
    }
}
