//! A run from its inputs to its results: `--resume` skipping, a list
//! handed out whole or a stream pulled as the run goes, and what the
//! report keeps.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use mproc::{ItemResult, Result, Runner};

use super::inputs::{lock, Feed, ListFeed, Lookup, StreamInputs};
use super::mode::run_mode;
use super::shown;
use super::sink::ResultSink;
use crate::joblog::Previous;
use crate::jobs::{Builtin, Inputs};
use crate::options::{OutputFormat, PoolCommand};
use crate::progress::Progress;
use crate::report::{self, Stdout, Summary};

/// What a run leaves for its report.
pub(super) struct Executed<J: Builtin> {
    /// Every input (for a stream, every input read).
    pub(super) inputs: Vec<J::Input>,
    /// The rows for a human report (none for JSON output, which streams).
    pub(super) rows: Vec<J::Row>,
    /// The human lines were printed as results came.
    pub(super) streamed: bool,
    /// The records for the timeline.
    pub(super) bars: Vec<ItemResult<()>>,
    pub(super) summary: Summary,
    /// Why a stream of inputs ended early.
    pub(super) failure: Option<mproc::Error>,
    /// The exit status a `--halt` rule gave, if one fired.
    pub(super) halted_by: Option<i32>,
}

/// Runs `job` over `inputs` with the command's mode; prints JSON forms,
/// job-log lines and progress as it goes, and returns what the report and
/// the timeline need. Once stdout takes no more (its reader has gone, or a
/// write failed), the pool is stopped. A stream of inputs is pulled as the
/// run goes, keeping only the inputs whose results are outstanding (all
/// of them for a human report, which shows every input).
pub(super) fn execute<J: Builtin>(
    runner: &Runner,
    job: &J,
    inputs: Inputs<J::Input>,
    cmd: &PoolCommand,
    out: &mut Stdout,
) -> Result<Executed<J>> {
    let observe = &cmd.observe;
    let previous = match &observe.resume {
        Some(path) => Some(Previous::read(path)?),
        None => None,
    };
    let resume_failed = observe.resume_failed;
    let skip = move |input: &J::Input| {
        previous.as_ref().is_some_and(|previous| {
            previous.skips(&J::log_input(input), J::log_seq(input), resume_failed)
        })
    };
    let human = cmd.output == OutputFormat::Human;
    let (inputs, ran, failure) = match inputs {
        Inputs::List(all) => {
            let ran = run_list(runner, job, &all, &skip, cmd, out)?;
            (all, ran, None)
        }
        Inputs::Stream(stream) => {
            let (items, failure) = stream.split();
            let (seen, ran) = run_stream(runner, job, Box::new(items), skip, cmd, out)?;
            (seen, ran, failure.take())
        }
    };
    let Collected {
        rows,
        streamed,
        failures,
        bars,
        summary,
        halted_by,
    } = ran;
    // A reader that went away (`| head`) wanted no more: a quiet end.
    if human && !out.closed() {
        report::log_failures(&failures, |i| shown(&inputs, i));
        if !summary.all_ok() {
            tracing::warn!("{}", summary.line());
        }
    }
    Ok(Executed {
        inputs,
        rows,
        streamed,
        bars,
        summary,
        failure,
        halted_by,
    })
}

/// A list's run: the inputs `skip` leaves, handed to the pool in order.
fn run_list<J: Builtin>(
    runner: &Runner,
    job: &J,
    all: &[J::Input],
    skip: &dyn Fn(&J::Input) -> bool,
    cmd: &PoolCommand,
    out: &mut Stdout,
) -> Result<Collected<J>> {
    let resume = &cmd.observe.resume;
    let chosen: Option<Vec<usize>> = resume
        .is_some()
        .then(|| (0..all.len()).filter(|&i| !skip(&all[i])).collect());
    let count = chosen.as_ref().map_or(all.len(), Vec::len);
    if let (Some(path), Some(chosen)) = (resume, &chosen) {
        tracing::info!(
            "resuming from {}: running {} of {}",
            path.display(),
            chosen.len(),
            report::count(all.len() as u64, "item")
        );
    }
    let feed = ListFeed {
        all,
        chosen: chosen.as_deref(),
        next: 0,
    };
    let lookup = Lookup::List {
        all,
        chosen: chosen.as_deref(),
    };
    collect::<J>(runner, job, Feed::List(feed), Some(count), lookup, cmd, out)
}

/// A stream's run: inputs pulled on a thread as results are taken, those
/// `skip` leaves handed to the pool; gives every input read too when the
/// report or the pictures name them.
fn run_stream<J: Builtin>(
    runner: &Runner,
    job: &J,
    items: Box<dyn Iterator<Item = J::Input> + Send>,
    skip: impl Fn(&J::Input) -> bool + Send + 'static,
    cmd: &PoolCommand,
    out: &mut Stdout,
) -> Result<(Vec<J::Input>, Collected<J>)> {
    let observe = &cmd.observe;
    // The report and the pictures name every input.
    let keep =
        cmd.output == OutputFormat::Human || observe.timeline.is_some() || observe.trace.is_some();
    let held = Arc::new(Mutex::new(StreamInputs::new(keep)));
    let feed = StreamInputs::feed(Arc::clone(&held), items, skip);
    let lookup = Lookup::Stream(&held);
    let feed = Feed::Stream(Box::new(feed));
    let ran = collect::<J>(runner, job, feed, None, lookup, cmd, out)?;
    let held = std::mem::replace(&mut *lock(&held), StreamInputs::new(false));
    if let Some(path) = &observe.resume {
        tracing::info!(
            "resumed from {}: ran {} of the {} read",
            path.display(),
            held.next,
            report::count(held.read as u64, "item")
        );
    }
    Ok((held.seen, ran))
}

/// What [`collect`] gathered.
struct Collected<J: Builtin> {
    rows: Vec<J::Row>,
    streamed: bool,
    failures: Vec<ItemResult<()>>,
    bars: Vec<ItemResult<()>>,
    summary: Summary,
    halted_by: Option<i32>,
}

/// Runs the job over `feed` and hands each result to a [`Collect`].
fn collect<J: Builtin>(
    runner: &Runner,
    job: &J,
    feed: Feed<'_, J::Input>,
    count: Option<usize>,
    book: Lookup<'_, J::Input>,
    cmd: &PoolCommand,
    out: &mut Stdout,
) -> Result<Collected<J>> {
    let start = Instant::now();
    let mut collect = ResultSink::<J>::new(runner, job, cmd, book, count, out)?;
    // What the parent said before the run comes before the run's output.
    crate::progress::flush_logs();
    run_mode(runner, job, feed, cmd.mode, &mut collect)?;
    let ResultSink {
        mut summary,
        progress,
        log_error,
        lines,
        rows,
        failures,
        bars,
        streamed,
        totals,
        halt,
        ..
    } = collect;
    let halted_by = halt.and_then(|w| w.status());
    // A failure named above the bar is not named again at the end.
    let named = progress.map(Progress::finish).unwrap_or_default();
    let mut failures = failures;
    failures.retain(|r| named.binary_search(&r.index).is_err());
    if let Some(e) = log_error {
        return Err(e);
    }
    summary.elapsed_ms = start.elapsed().as_millis() as u64;
    lines.finish(&summary, totals.map(|t| t.to_json()));
    Ok(Collected {
        rows,
        streamed,
        failures,
        bars,
        summary,
        halted_by,
    })
}
