//! `mproc pool ...`: build a pool (or, with `--serial`, none), run a
//! built-in job in the chosen mode, and print its results.

use std::time::{Instant, SystemTime};

use mproc::{ItemResult, Pool, Result, Serial};
use serde_json::{json, Map, Value};

use super::Status;
use crate::joblog::{JobLog, Previous};
use crate::jobs::{Builtin, Context, Plan, Report};
use crate::options::{Mode, Observe, OutputFormat, PoolCommand};
use crate::progress::Progress;
use crate::report::{self, Stdout, Summary};

/// Where items run: a pool of worker processes, or this process.
enum Runner {
    Pool(Pool),
    Serial(Serial),
}

impl Runner {
    fn start(cmd: &PoolCommand) -> Result<Runner> {
        Ok(if cmd.serial {
            Runner::Serial(Serial::new(cmd.settings.clone()))
        } else {
            Runner::Pool(Pool::start(cmd.settings.clone())?)
        })
    }

    /// Worker processes (none when serial).
    fn processes(&self) -> usize {
        match self {
            Runner::Pool(pool) => pool.processes(),
            Runner::Serial(_) => 0,
        }
    }

    fn epoch(&self) -> Instant {
        match self {
            Runner::Pool(pool) => pool.epoch(),
            Runner::Serial(serial) => serial.epoch(),
        }
    }

    fn finish(self) -> Result<()> {
        if let Runner::Pool(mut pool) = self {
            pool.close();
            pool.join()?;
        }
        Ok(())
    }
}

/// Runs built-in job `J` with its parsed `args`: plans it (what can be
/// refused is refused before any worker starts), runs it in the command's
/// mode, prints its results, and gives the exit status.
pub(crate) fn run<J: Builtin>(args: J::Args, cmd: &PoolCommand) -> Result<Status> {
    let processes = if cmd.serial {
        0
    } else {
        super::cpu_count::check_override(&cmd.settings)?;
        cmd.settings.worker_count()?
    };
    let context = Context {
        processes,
        concurrency: cmd.settings.concurrency,
    };
    let Plan { job, inputs } = J::plan(args, &context)?;
    check_outputs(cmd)?;
    let interrupts = if cmd.serial {
        None
    } else {
        Some(super::signals::Interrupts::watch()?)
    };
    let runner = Runner::start(cmd)?;
    if let (Some(interrupts), Runner::Pool(pool)) = (&interrupts, &runner) {
        interrupts.stops(pool.stopper());
    }
    let context = Context {
        processes: runner.processes(),
        ..context
    };
    let mut out = Stdout::default();
    let (results, bars, summary) = execute(&runner, &job, &inputs, cmd, &mut out)?;
    if cmd.output == OutputFormat::Human {
        // The log lines about the run come before its report.
        crate::progress::flush_logs();
        out.print(&J::report(&Report {
            inputs: &inputs,
            results: &results,
            summary: &summary,
            context,
        }));
    }
    // The pictures come after the results: a failed one hides nothing.
    let workers = worker_events(&runner);
    let input = |i: usize| serde_json::to_value(&inputs[i]).unwrap_or(Value::Null);
    #[cfg(feature = "timeline")]
    let picture = match &cmd.observe.timeline {
        Some(path) => draw_timeline(path, &runner, &workers, J::NAME, &bars, &summary, &input),
        None => Ok(()),
    };
    let trace = match &cmd.observe.trace {
        Some(path) => write_trace(path, &runner, &workers, J::NAME, &bars, &input),
        None => Ok(()),
    };
    runner.finish()?;
    // A reader that went away (`| head`) is a quiet success, as in ripgrep.
    let reader_gone = out.closed();
    out.finish()?;
    #[cfg(feature = "timeline")]
    picture?;
    trace?;
    Ok(match interrupts.and_then(|i| i.signal()) {
        Some(sig) => Status(128 + sig as u8),
        None if summary.all_ok() || reader_gone => Status::OK,
        None => Status::SOME_FAILED,
    })
}

/// Refuses, before any worker starts, a run whose output files cannot be
/// written.
fn check_outputs(cmd: &PoolCommand) -> Result<()> {
    let observe = &cmd.observe;
    match (&observe.joblog, &observe.resume) {
        (Some(path), _) => report::check_writable("--joblog", path)?,
        (None, Some(path)) => report::check_writable("--resume", path)?,
        (None, None) => {}
    }
    #[cfg(feature = "timeline")]
    if let Some(path) = &observe.timeline {
        report::check_writable("--timeline", path)?;
    }
    if let Some(path) = &observe.trace {
        report::check_writable("--trace", path)?;
    }
    Ok(())
}

/// Runs `job` over `inputs` with the command's mode; prints JSON forms,
/// job-log lines and progress as it goes, and returns the rows for a human
/// report (none are kept for JSON output, which streams) and the records
/// for the timeline. Once stdout takes no more (its reader has gone, or a
/// write failed), the pool is stopped.
#[allow(clippy::type_complexity)]
fn execute<J: Builtin>(
    runner: &Runner,
    job: &J,
    all: &[J::Input],
    cmd: &PoolCommand,
    out: &mut Stdout,
) -> Result<(Vec<J::Row>, Vec<ItemResult<()>>, Summary)> {
    let shown = |i: usize| serde_json::to_value(&all[i]).unwrap_or(Value::Null);
    let original = select(all, &cmd.observe, J::log_input)?;
    let count = original.as_ref().map_or(all.len(), Vec::len);
    let inputs: Box<dyn Iterator<Item = J::Input> + '_> = match &original {
        None => Box::new(all.iter().cloned()),
        Some(chosen) => Box::new(chosen.iter().map(|&i| all[i].clone())),
    };
    let start = Instant::now();
    let mut collect = Collect::<J>::new(runner, cmd, all, count, original.as_deref(), &shown, out)?;
    // What the parent said before the run comes before the run's output.
    crate::progress::flush_logs();
    run_mode(runner, job, inputs, cmd.mode, |r| collect.take(r))?;
    let Collect {
        mut summary,
        progress,
        log_error,
        lines,
        rows,
        failures,
        bars,
        ..
    } = collect;
    drop(progress);
    if let Some(e) = log_error {
        return Err(e);
    }
    summary.elapsed_ms = start.elapsed().as_millis() as u64;
    lines.finish(&summary);
    if cmd.output == OutputFormat::Human {
        report::log_failures(&failures, shown);
        if !summary.all_ok() {
            tracing::warn!("{}", summary.line());
        }
    }
    Ok((rows, bars, summary))
}

/// Runs `job` over `inputs` with the pool method `mode` (or in this
/// process), handing each result to `take` as it comes.
fn run_mode<J: Builtin>(
    runner: &Runner,
    job: &J,
    inputs: impl Iterator<Item = J::Input>,
    mode: Mode,
    mut take: impl FnMut(ItemResult<J::Output>),
) -> Result<()> {
    match (runner, mode) {
        (Runner::Serial(serial), _) => serial.for_each(job, inputs, take),
        // map and imap give the same ordered results; imap streams them.
        (Runner::Pool(pool), Mode::Map | Mode::Imap) => pool.imap(job, inputs).for_each(take),
        (Runner::Pool(pool), Mode::ImapUnordered) => {
            pool.imap_unordered(job, inputs).for_each(take)
        }
        (Runner::Pool(pool), Mode::Async) => pool
            .map_async(job, inputs)
            .get(None)?
            .into_iter()
            .for_each(&mut take),
    }
    Ok(())
}

/// Where each result goes as it arrives: the summary, the progress bar,
/// the job log, the JSON output, and what the report, the failure lines
/// and the timeline keep.
struct Collect<'a, J: Builtin> {
    runner: &'a Runner,
    all: &'a [J::Input],
    original: Option<&'a [usize]>,
    shown: &'a dyn Fn(usize) -> Value,
    human: bool,
    timeline: bool,
    summary: Summary,
    progress: Option<Progress>,
    joblog: Option<JobLog>,
    log_error: Option<mproc::Error>,
    lines: Lines<'a>,
    stopper: Option<mproc::Stopper>,
    stopping: bool,
    rows: Vec<J::Row>,
    failures: Vec<ItemResult<()>>,
    bars: Vec<ItemResult<()>>,
}

impl<'a, J: Builtin> Collect<'a, J> {
    fn new(
        runner: &'a Runner,
        cmd: &PoolCommand,
        all: &'a [J::Input],
        count: usize,
        original: Option<&'a [usize]>,
        shown: &'a dyn Fn(usize) -> Value,
        out: &'a mut Stdout,
    ) -> Result<Self> {
        let epoch = runner.epoch();
        let joblog = match cmd.observe.joblog.as_ref().or(cmd.observe.resume.as_ref()) {
            Some(path) => Some(JobLog::open(path, SystemTime::now() - epoch.elapsed())?),
            None => None,
        };
        let human = cmd.output == OutputFormat::Human;
        Ok(Collect {
            runner,
            all,
            original,
            shown,
            human,
            timeline: cmd.observe.timeline.is_some() || cmd.observe.trace.is_some(),
            summary: Summary {
                processes: runner.processes(),
                ..Summary::default()
            },
            progress: Progress::start(count as u64, cmd.observe.progress, !human),
            joblog,
            log_error: None,
            lines: Lines::new(cmd.output, out),
            stopper: match runner {
                Runner::Pool(pool) => Some(pool.stopper()),
                Runner::Serial(_) => None,
            },
            stopping: false,
            rows: Vec::with_capacity(if human { count } else { 0 }),
            failures: Vec::new(),
            bars: Vec::new(),
        })
    }

    fn take(&mut self, mut r: ItemResult<J::Output>) {
        if let Some(chosen) = self.original {
            r.index = chosen[r.index];
        }
        let input = &self.all[r.index];
        let extra = J::arrived(&mut r, input, self.lines.format);
        self.summary.add(&r);
        if let Some(p) = self.progress.as_mut() {
            p.item(r.outcome.is_ok());
        }
        if let Some(log) = self.joblog.as_mut() {
            let host = match self.runner {
                Runner::Pool(pool) => r
                    .worker
                    .and_then(|w| pool.hosts().get(w).cloned().flatten()),
                Runner::Serial(_) => None,
            };
            let input = J::log_input(&self.all[r.index]);
            if let Err(e) = log.record(&r, &input, host.as_deref()) {
                self.log_error.get_or_insert(e);
            }
        }
        if !self.human {
            let record = with_extra(report::record(&r, &(self.shown)(r.index)), extra);
            self.lines.record(&record);
            self.stop_if_unread();
        }
        if self.human && !r.outcome.is_ok() {
            self.failures.push(r.unvalued());
        }
        if self.timeline {
            self.bars.push(r.unvalued());
        }
        // Streamed output keeps nothing, so a long run stays flat in memory.
        if self.human {
            self.rows.push(J::row(r));
        }
    }

    /// Stops the pool once stdout takes no more: nobody would see the rest.
    fn stop_if_unread(&mut self) {
        let out = &self.lines.out;
        if out.stopped() && !self.stopping {
            self.stopping = true;
            if let Some(stopper) = &self.stopper {
                stopper.stop(if out.closed() {
                    "stdout is closed"
                } else {
                    "cannot write to stdout"
                });
            }
        }
    }
}

/// A JSON record with a job's extra fields added (see `Builtin::arrived`).
fn with_extra(mut record: Value, extra: Option<Map<String, Value>>) -> Value {
    if let (Value::Object(fields), Some(extra)) = (&mut record, extra) {
        for (k, v) in extra {
            fields.entry(k).or_insert(v);
        }
    }
    record
}

/// JSON results written as they come: `--jsonl` one object a line,
/// `--json` one document whose `results` array is streamed (so neither
/// keeps records in memory). Lines are gathered and written in blocks,
/// at least every [`Lines::EVERY`] while results come.
struct Lines<'a> {
    format: OutputFormat,
    out: &'a mut Stdout,
    buf: String,
    records: usize,
    written: Instant,
}

impl<'a> Lines<'a> {
    const EVERY: std::time::Duration = std::time::Duration::from_millis(50);
    const BLOCK: usize = 64 << 10;

    fn new(format: OutputFormat, out: &'a mut Stdout) -> Lines<'a> {
        Lines {
            format,
            out,
            buf: String::new(),
            records: 0,
            written: Instant::now(),
        }
    }

    fn record(&mut self, record: &Value) {
        use std::fmt::Write as _;
        match (self.format, self.records) {
            (OutputFormat::Json, 0) => self.buf.push_str("{\"results\":["),
            (OutputFormat::Json, _) => self.buf.push(','),
            _ => {}
        }
        let _ = write!(self.buf, "{record}");
        if self.format == OutputFormat::Jsonl {
            self.buf.push('\n');
        }
        self.records += 1;
        if self.buf.len() >= Self::BLOCK || self.written.elapsed() >= Self::EVERY {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.buf.is_empty() {
            self.out.print(&self.buf);
            self.buf.clear();
        }
        self.written = Instant::now();
    }

    /// Ends the output with the summary.
    fn finish(mut self, summary: &Summary) {
        match self.format {
            OutputFormat::Human => {}
            OutputFormat::Json => {
                if self.records == 0 {
                    self.buf.push_str("{\"results\":[");
                }
                let summary = serde_json::to_string(summary).unwrap_or_else(|_| "null".into());
                self.buf.push_str(&format!("],\"summary\":{summary}}}\n"));
            }
            OutputFormat::Jsonl => {
                self.buf
                    .push_str(&json!({ "summary": summary }).to_string());
                self.buf.push('\n');
            }
        }
        self.flush();
    }
}

/// The indexes of the inputs to run this time: `None` for all of them, or
/// with `--resume` those an earlier job log does not record as ok (with
/// `--resume-failed`, those it records as not ok).
fn select<T>(
    all: &[T],
    observe: &Observe,
    log_input: impl Fn(&T) -> Vec<u8>,
) -> Result<Option<Vec<usize>>> {
    let Some(path) = &observe.resume else {
        return Ok(None);
    };
    let previous = Previous::read(path)?;
    let original: Vec<usize> = (0..all.len())
        .filter(|&i| {
            let input = log_input(&all[i]);
            if observe.resume_failed {
                previous.was_not_ok(&input)
            } else {
                !previous.was_ok(&input)
            }
        })
        .collect();
    tracing::info!(
        "resuming from {}: running {} of {} items",
        path.display(),
        original.len(),
        all.len()
    );
    Ok(Some(original))
}

/// The worker starts and ends seen so far (this process as the one lane
/// when serial). Read once: the pool hands each event out once.
fn worker_events(runner: &Runner) -> Vec<crate::trace::WorkerEvent> {
    match runner {
        Runner::Pool(pool) => pool.worker_events(),
        Runner::Serial(_) => vec![(0, std::process::id(), std::time::Duration::ZERO, true)],
    }
}

#[cfg(feature = "timeline")]
fn draw_timeline<O>(
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
    let (lanes, hosts) = match runner {
        Runner::Pool(pool) => (pool.processes(), pool.hosts().to_vec()),
        Runner::Serial(_) => (1, Vec::new()),
    };
    let title = format!(
        "mproc pool {job}: {} items on {} {} in {:.2} s",
        summary.total,
        lanes,
        if summary.processes == 0 {
            "thread (serial)"
        } else {
            "processes"
        },
        summary.elapsed_ms as f64 / 1000.0
    );
    let text = |i: usize| crate::trace::input_text(&input(i));
    let mut timeline = crate::timeline::Timeline::from_run(&title, lanes, results, &starts, &text);
    timeline.hosts = hosts;
    timeline.write_svg(path)
}

/// Writes `--trace`: every attempt as Chrome trace event JSON.
fn write_trace<O>(
    path: &std::path::Path,
    runner: &Runner,
    workers: &[crate::trace::WorkerEvent],
    job: &str,
    results: &[ItemResult<O>],
    input: &dyn Fn(usize) -> Value,
) -> Result<()> {
    let (lanes, hosts) = match runner {
        Runner::Pool(pool) => (pool.processes(), pool.hosts().to_vec()),
        Runner::Serial(_) => (1, Vec::new()),
    };
    let run = crate::trace::Run {
        job,
        lanes,
        hosts: &hosts,
        serial: matches!(runner, Runner::Serial(_)),
        workers,
    };
    crate::trace::write(path, &run, results, input)
}
