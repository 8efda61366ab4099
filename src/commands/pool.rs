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
        cmd.settings.worker_count()?
    };
    let context = Context {
        processes,
        concurrency: cmd.settings.concurrency,
    };
    let Plan { job, inputs } = J::plan(args, &context)?;
    let runner = Runner::start(cmd)?;
    let interrupts = match &runner {
        Runner::Pool(pool) => Some(super::signals::Interrupts::watch(pool.stopper())?),
        Runner::Serial(_) => None,
    };
    let context = Context {
        processes: runner.processes(),
        ..context
    };
    let (results, summary) = execute(&runner, &job, &inputs, cmd)?;
    if cmd.output == OutputFormat::Human {
        Stdout::default().print(&J::report(&Report {
            inputs: &inputs,
            results: &results,
            summary: &summary,
            context,
        }));
    }
    runner.finish()?;
    Ok(match interrupts.and_then(|i| i.signal()) {
        Some(sig) => Status(128 + sig as u8),
        None if summary.all_ok() => Status::OK,
        None => Status::SOME_FAILED,
    })
}

/// Runs `job` over `inputs` with the command's mode; prints JSON forms,
/// job-log lines and progress as it goes, draws the timeline at the end,
/// and returns the results for a human report.
#[allow(clippy::type_complexity)]
fn execute<J: Builtin>(
    runner: &Runner,
    job: &J,
    all: &[J::Input],
    cmd: &PoolCommand,
) -> Result<(Vec<ItemResult<J::Output>>, Summary)>
where
    J::Input: Clone,
{
    let shown = |i: usize| serde_json::to_value(&all[i]).unwrap_or(Value::Null);
    let (original, inputs) = select(all, &cmd.observe, &shown)?;
    let start = Instant::now();
    let epoch = runner.epoch();
    let mut joblog = match cmd.observe.joblog.as_ref().or(cmd.observe.resume.as_ref()) {
        Some(path) => Some(JobLog::open(path, SystemTime::now() - epoch.elapsed())?),
        None => None,
    };
    let json = cmd.output != OutputFormat::Human;
    let mut progress = Progress::start(inputs.len() as u64, cmd.observe.progress, json);
    let mut out = Stdout::default();
    let mut summary = Summary {
        processes: runner.processes(),
        ..Summary::default()
    };
    let keep = cmd.output != OutputFormat::Jsonl || cmd.observe.timeline.is_some();
    let mut results = Vec::with_capacity(if keep { inputs.len() } else { 0 });
    // Fields a job adds to its JSON records (see `Builtin::arrived`).
    let mut extras: Vec<Option<Map<String, Value>>> = Vec::new();
    let mut log_error = None;
    let mut take = |mut r: ItemResult<J::Output>| {
        r.index = original[r.index];
        let input = &all[r.index];
        let extra = J::arrived(&mut r, input, cmd.output);
        summary.add(&r);
        if let Some(p) = progress.as_mut() {
            p.item(r.outcome.is_ok());
        }
        if let Some(log) = joblog.as_mut() {
            let host = match runner {
                Runner::Pool(pool) => r
                    .worker
                    .and_then(|w| pool.hosts().get(w).cloned().flatten()),
                Runner::Serial(_) => None,
            };
            if let Err(e) = log.record(&r, &shown(r.index), host.as_deref()) {
                log_error.get_or_insert(e);
            }
        }
        if cmd.output == OutputFormat::Jsonl {
            out.json_line(&with_extra(
                report::record(&r, &shown(r.index)),
                extra.clone(),
            ));
        }
        // Streamed output keeps nothing, so a long run stays flat in memory.
        if keep {
            results.push(r);
            // Only jobs that add fields pay for the list.
            if extra.is_some() || !extras.is_empty() {
                extras.resize(results.len() - 1, None);
                extras.push(extra);
            }
        }
    };
    match (runner, cmd.mode) {
        (Runner::Serial(serial), _) => serial.for_each(job, inputs, &mut take),
        // map and imap give the same ordered results; imap streams them.
        (Runner::Pool(pool), Mode::Map) => pool.imap(job, inputs).for_each(&mut take),
        (Runner::Pool(pool), Mode::Imap) => pool.imap(job, inputs).for_each(&mut take),
        (Runner::Pool(pool), Mode::ImapUnordered) => {
            pool.imap_unordered(job, inputs).for_each(&mut take)
        }
        (Runner::Pool(pool), Mode::Async) => pool
            .map_async(job, inputs)
            .get(None)?
            .into_iter()
            .for_each(&mut take),
    }
    drop(progress);
    if let Some(e) = log_error {
        return Err(e);
    }
    summary.elapsed_ms = start.elapsed().as_millis() as u64;
    #[cfg(feature = "timeline")]
    if let Some(path) = &cmd.observe.timeline {
        draw_timeline(path, runner, J::NAME, &results, &summary)?;
    }
    match cmd.output {
        OutputFormat::Json => {
            let records: Vec<Value> = results
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    with_extra(
                        report::record(r, &shown(r.index)),
                        extras.get(i).cloned().flatten(),
                    )
                })
                .collect();
            out.json_line(&json!({ "results": records, "summary": summary }));
        }
        OutputFormat::Jsonl => out.json_line(&json!({ "summary": summary })),
        OutputFormat::Human => {
            report::log_failures(&results, shown);
            if !summary.all_ok() {
                tracing::warn!("{}", summary.line());
            }
        }
    }
    Ok((results, summary))
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

/// The inputs to run this time, with their indexes in the whole input:
/// all of them, or with `--resume` those an earlier job log does not
/// record as ok (with `--resume-failed`, those it records as not ok).
fn select<T: Clone>(
    all: &[T],
    observe: &Observe,
    shown: &dyn Fn(usize) -> Value,
) -> Result<(Vec<usize>, Vec<T>)> {
    let Some(path) = &observe.resume else {
        return Ok(((0..all.len()).collect(), all.to_vec()));
    };
    let previous = Previous::read(path)?;
    let original: Vec<usize> = (0..all.len())
        .filter(|&i| {
            let input = shown(i);
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
    let inputs = original.iter().map(|&i| all[i].clone()).collect();
    Ok((original, inputs))
}

#[cfg(feature = "timeline")]
fn draw_timeline<O>(
    path: &std::path::Path,
    runner: &Runner,
    job: &str,
    results: &[ItemResult<O>],
    summary: &Summary,
) -> Result<()> {
    let (lanes, starts, hosts) = match runner {
        Runner::Pool(pool) => {
            let starts: Vec<(usize, u32, f64)> = pool
                .worker_events()
                .into_iter()
                .filter(|e| e.3)
                .map(|(lane, pid, at, _)| (lane, pid, at.as_secs_f64()))
                .collect();
            (pool.processes(), starts, pool.hosts().to_vec())
        }
        Runner::Serial(_) => (1, vec![(0, std::process::id(), 0.0)], Vec::new()),
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
    let mut timeline = crate::timeline::Timeline::from_run(&title, lanes, results, &starts);
    timeline.hosts = hosts;
    timeline.write_svg(path)
}
