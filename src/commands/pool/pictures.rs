//! The pictures of a run, drawn after its results: `--timeline FILE.svg`
//! and `--trace FILE.json`.

#[cfg(feature = "timeline")]
use crate::report::{self, Summary};
use mproc::{ItemResult, Result, Runner};
use serde_json::Value;

#[cfg(feature = "timeline")]
pub(super) fn draw_timeline<O>(
    path: &std::path::Path,
    runner: &Runner,
    workers: &[crate::trace::WorkerEvent],
    job: &str,
    results: &[ItemResult<O>],
    summary: &Summary,
    input: &dyn Fn(usize) -> Value,
) -> Result<()> {
    let starts: Vec<(usize, u32, f64)> = workers
        .iter()
        .filter(|e| e.3)
        .map(|&(lane, pid, at, _)| (lane, pid, at.as_secs_f64()))
        .collect();
    let (lanes, hosts) = lanes_and_hosts(runner);
    let title = format!(
        "mproc pool {job}: {} on {} in {:.2} s",
        report::count(summary.total as u64, "item"),
        if summary.processes == 0 {
            "1 thread (serial)".to_string()
        } else {
            report::count(lanes as u64, "process")
        },
        summary.elapsed_ms as f64 / 1000.0
    );
    let text = |i: usize| crate::trace::input_text(&input(i));
    let timeline =
        crate::timeline::Timeline::from_run(&title, lanes, hosts, results, &starts, &text);
    timeline.write_svg(path)
}

/// Writes `--trace`: every attempt as Chrome trace event JSON.
pub(super) fn write_trace<O>(
    path: &std::path::Path,
    runner: &Runner,
    workers: &[crate::trace::WorkerEvent],
    job: &str,
    results: &[ItemResult<O>],
    input: &dyn Fn(usize) -> Value,
) -> Result<()> {
    let (lanes, hosts) = lanes_and_hosts(runner);
    let run = crate::trace::Run {
        job,
        lanes,
        hosts: &hosts,
        serial: runner.processes() == 0,
        workers,
    };
    crate::trace::write(path, &run, results, input)
}

/// Lanes of a timeline or trace, one per worker slot (one, this process,
/// when serial), and the host of each slot.
fn lanes_and_hosts(runner: &Runner) -> (usize, Vec<Option<String>>) {
    (runner.processes().max(1), runner.hosts().to_vec())
}
