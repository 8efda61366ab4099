//! `mproc pool ...`: build a pool (or, with `--serial`, none), run a
//! built-in job in the chosen mode, and print its results.
//!
//! - `mode.rs`: how each `--mode` hands results back, from an
//!   [`mproc::Runner`] (a pool, or this process);
//! - `execute.rs`: a run from its inputs to its results (`--resume`
//!   skipping, a list or a stream);
//! - `inputs.rs`: which input a result belongs to (`Feed`, `Lookup`,
//!   `StreamInputs`);
//! - `sink.rs`: where each result goes as it arrives (summary, bar, job
//!   log, JSON lines, what the report keeps);
//! - `pictures.rs`: the timeline and the trace, drawn after the results.

mod execute;
mod inputs;
mod mode;
mod pictures;
mod sink;

use mproc::{Result, Runner};
use serde_json::{json, Value};

use self::execute::{execute, Executed};
use super::Status;
use crate::jobs::{Builtin, Context, Plan, Report};
use crate::options::{OutputFormat, PoolCommand};
use crate::report::{self, Stdout};

/// Runs built-in job `J` with its parsed `args`: plans it (what can be
/// refused is refused before the pool starts), runs it in the command's
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
    let (mut runner, interrupts) = start(cmd)?;
    let context = Context {
        processes: runner.processes(),
        ..context
    };
    let mut out = Stdout::default();
    let Executed {
        inputs,
        rows: results,
        streamed,
        bars,
        summary,
        failure,
        halted_by,
    } = execute(&runner, &job, inputs, cmd, &mut out)?;
    // Every result is in: the workers exit while the report is formatted.
    // (A timeline or trace reads the workers' starts and ends first.)
    if cmd.observe.timeline.is_none() && cmd.observe.trace.is_none() {
        runner.close();
    }
    if cmd.output == OutputFormat::Human {
        // The log lines about the run come before its report.
        crate::progress::flush_logs();
        let report = Report {
            inputs: &inputs,
            results: &results,
            summary: &summary,
            context,
            streamed,
        };
        J::report_to(&report, &mut |piece| out.print_bytes(piece));
    }
    // The pictures come after the results: a failed one hides nothing.
    let workers = runner.worker_events();
    let input = |i: usize| shown(&inputs, i);
    #[cfg(feature = "timeline")]
    let picture = match &cmd.observe.timeline {
        Some(path) => {
            pictures::draw_timeline(path, &runner, &workers, J::NAME, &bars, &summary, &input)
        }
        None => Ok(()),
    };
    let trace = match &cmd.observe.trace {
        Some(path) => pictures::write_trace(path, &runner, &workers, J::NAME, &bars, &input),
        None => Ok(()),
    };
    runner.finish()?;
    // A reader that went away (`| head`) is a quiet success, as in ripgrep.
    let reader_gone = out.closed();
    out.finish()?;
    #[cfg(feature = "timeline")]
    picture?;
    trace?;
    // A stream that could not be read to its end: what was read ran and
    // is reported above; the run still failed.
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(match interrupts.and_then(|i| i.signal()) {
        Some(sig) => Status(128 + sig as u8),
        None if summary.all_ok() || reader_gone => Status::OK,
        None => J::status(&summary, halted_by).map_or(Status::SOME_FAILED, Status),
    })
}

/// Starts where the items run: in this process (`--serial`), or a pool
/// whose workers Ctrl-C and SIGTERM stop.
fn start(cmd: &PoolCommand) -> Result<(Runner, Option<super::signals::Interrupts>)> {
    if cmd.serial {
        return Ok((Runner::serial(cmd.pool_settings()), None));
    }
    let interrupts = super::signals::Interrupts::watch()?;
    let runner = Runner::pool(cmd.pool_settings())?;
    interrupts.stops(runner.stopper());
    Ok((runner, Some(interrupts)))
}

/// Refuses, before the pool starts, a run whose output files cannot be
/// written.
fn check_outputs(cmd: &PoolCommand) -> Result<()> {
    let observe = &cmd.observe;
    if observe.resume_failed && observe.resume.is_none() {
        return Err(mproc::Error::usage("--resume-failed needs --resume FILE"));
    }
    match (&observe.joblog, &observe.resume) {
        (Some(path), _) if path.as_os_str() == "-" => {}
        (Some(path), _) => {
            let (path, _) = crate::joblog::resolve(path, observe.joblog_format);
            report::check_writable("--joblog", &path)?
        }
        (None, Some(path)) => report::check_writable("--resume", path)?,
        (None, None) => {}
    }
    #[cfg(feature = "timeline")]
    if let Some(path) = &observe.timeline {
        report::check_replaceable("--timeline", path)?;
    }
    if let Some(path) = &observe.trace {
        report::check_replaceable("--trace", path)?;
    }
    Ok(())
}

/// Input `i` as reports and pictures show it (`null` if there is none).
fn shown<T: serde::Serialize>(inputs: &[T], i: usize) -> Value {
    inputs.get(i).map_or(Value::Null, |x| json!(x))
}
