//! `mproc pool ...`: build a pool, run a built-in job in the chosen mode,
//! and print its results.

use std::time::Instant;

use serde_json::{json, Value};

use super::Status;
use crate::error::Result;
use crate::job::Job;
use crate::jobs::{Chaos, Load, Square};
use crate::options::{JobChoice, Mode, OutputFormat, PoolCommand};
use crate::outcome::ItemResult;
use crate::pool::Pool;
use crate::report::{self, human, Stdout, Summary};

/// What a finished run gives the job's human report.
struct Run<O> {
    results: Vec<ItemResult<O>>,
    summary: Summary,
}

pub(super) fn run(cmd: PoolCommand) -> Result<Status> {
    let mut pool = cmd.pool.builder().build()?;
    let interrupts = super::signals::Interrupts::watch(pool.stopper())?;
    let status = match &cmd.job {
        JobChoice::Square { count } => {
            let run = execute(&pool, &Square, (0..*count).collect(), &cmd)?;
            if cmd.output == OutputFormat::Human {
                Stdout::default().print(&human::square(&run.results));
            }
            status(&run.summary)
        }
        JobChoice::Load { total, seed, parts } => {
            let parts = parts.unwrap_or(pool.processes() as u32);
            let run = execute(&pool, &Load, Load::split(*total, parts, *seed), &cmd)?;
            if cmd.output == OutputFormat::Human {
                let elapsed = std::time::Duration::from_millis(run.summary.elapsed_ms);
                Stdout::default().print(&human::load(&run.results, elapsed, pool.processes()));
            }
            status(&run.summary)
        }
        JobChoice::Chaos { actions } => {
            let run = execute(&pool, &Chaos, actions.clone(), &cmd)?;
            if cmd.output == OutputFormat::Human {
                Stdout::default().print(&human::chaos(&run.results, actions));
            }
            status(&run.summary)
        }
        JobChoice::Excel { files, job } => {
            let run = execute(&pool, job, files.clone(), &cmd)?;
            if cmd.output == OutputFormat::Human {
                Stdout::default().print(&human::excel(&run.results, files));
            }
            status(&run.summary)
        }
    };
    pool.close();
    pool.join()?;
    Ok(match interrupts.signal() {
        Some(sig) => Status(128 + sig as u8),
        None => status,
    })
}

fn status(summary: &Summary) -> Status {
    if summary.all_ok() {
        Status::OK
    } else {
        Status::SOME_FAILED
    }
}

/// Runs `job` over `inputs` with the command's mode; prints JSON forms as
/// it goes and returns the results for a human report.
fn execute<J: Job>(
    pool: &Pool,
    job: &J,
    inputs: Vec<J::Input>,
    cmd: &PoolCommand,
) -> Result<Run<J::Output>>
where
    J::Input: Clone,
{
    let kept = inputs.clone();
    let shown = |i: usize| serde_json::to_value(&kept[i]).unwrap_or(Value::Null);
    let start = Instant::now();
    let mut out = Stdout::default();
    let mut summary = Summary {
        processes: pool.processes(),
        ..Summary::default()
    };
    let mut results = Vec::with_capacity(inputs.len());
    let mut take = |r: ItemResult<J::Output>| {
        summary.add(&r);
        if cmd.output == OutputFormat::Jsonl {
            out.json_line(&report::record(&r, &shown(r.index)));
        }
        results.push(r);
    };
    match cmd.mode {
        Mode::Map => pool.map(job, inputs).into_iter().for_each(&mut take),
        Mode::Imap => pool.imap(job, inputs).for_each(&mut take),
        Mode::ImapUnordered => pool.imap_unordered(job, inputs).for_each(&mut take),
        Mode::Async => pool
            .map_async(job, inputs)
            .get(None)?
            .into_iter()
            .for_each(&mut take),
    }
    summary.elapsed_ms = start.elapsed().as_millis() as u64;
    match cmd.output {
        OutputFormat::Json => {
            let records: Vec<Value> = results
                .iter()
                .map(|r| report::record(r, &shown(r.index)))
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
    Ok(Run { results, summary })
}
