//! [`Chaos`]: scripted items that behave well or badly on purpose, to show
//! (and test) what the pool does when a job is slow, fails, panics, prints,
//! exits or crashes its process.

use std::io::Write;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use mproc::{Job, JobError, Result};

use super::{Builtin, Context, Plan, Report};
use mproc::ItemResult;

/// Runs one action per item. Actions (`NAME` or `NAME:ARG`):
///
/// | action | what the item does |
/// |---|---|
/// | `ok:TEXT` | returns TEXT |
/// | `sleep:MS` | sleeps MS milliseconds, returns |
/// | `spin:MS` | keeps a CPU busy MS milliseconds, returns |
/// | `fail:TEXT` | returns an error TEXT |
/// | `panic:TEXT` | panics with TEXT |
/// | `exit:CODE` | exits its process with CODE |
/// | `abort` | aborts its process (SIGABRT) |
/// | `segv` | kills its process with SIGSEGV |
/// | `kill` | kills its process with SIGKILL |
/// | `hang` or `hang:FILE` | writes its pid to FILE (if given), then sleeps for ever |
/// | `wait:FILE` | waits until FILE exists (at most 60 s), returns |
/// | `print:BYTES` | prints BYTES bytes to stdout, returns |
/// | `eprint:BYTES` | prints BYTES bytes to stderr, returns |
/// | `log:TEXT` | logs TEXT at info level, returns |
/// | `big:BYTES` | returns a string of BYTES bytes |
/// | `slow-square:N` | sleeps 1 ms, returns N*N as text |
/// | `flaky:FILE` | crashes (SIGKILL) if FILE does not exist yet, creating it; else returns |
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Chaos;

/// How long `wait:FILE` waits.
const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// What an action returned.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChaosResult {
    /// The process that ran it.
    pub pid: u32,
    /// The returned text.
    pub value: String,
}

impl Job for Chaos {
    const NAME: &'static str = "chaos";
    type Input = String;
    type Output = ChaosResult;

    fn run(&self, action: String) -> Result<ChaosResult, JobError> {
        let (name, arg) = action.split_once(':').unwrap_or((action.as_str(), ""));
        let number = || -> Result<u64, JobError> {
            arg.parse::<u64>()
                .map_err(|_| format!("action '{action}' needs a number after ':'").into())
        };
        let value = match name {
            "ok" => arg.to_string(),
            "sleep" => {
                std::thread::sleep(Duration::from_millis(number()?));
                format!("slept {arg} ms")
            }
            "spin" => {
                let end = std::time::Instant::now() + Duration::from_millis(number()?);
                let mut x = 0u64;
                while std::time::Instant::now() < end {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
                format!("spun {arg} ms")
            }
            "fail" => return Err(arg.to_string().into()),
            "panic" => panic!("{arg}"),
            "exit" => std::process::exit(number()? as i32),
            "abort" => std::process::abort(),
            "segv" => raise(nix::sys::signal::Signal::SIGSEGV),
            "kill" => raise(nix::sys::signal::Signal::SIGKILL),
            "hang" => hang(arg)?,
            "wait" => wait_for(arg)?,
            "print" => print(number()? as usize, std::io::stdout().lock())?,
            "eprint" => print(number()? as usize, std::io::stderr().lock())?,
            "log" => {
                tracing::info!("{arg}");
                arg.to_string()
            }
            "big" => "b".repeat(number()? as usize),
            "slow-square" => {
                let n = number()?;
                std::thread::sleep(Duration::from_millis(1));
                n.wrapping_mul(n).to_string()
            }
            "flaky" => {
                if std::fs::metadata(arg).is_err() {
                    std::fs::write(arg, b"crashed once\n")?;
                    raise(nix::sys::signal::Signal::SIGKILL)
                }
                "second try".to_string()
            }
            _ => return Err(format!("unknown chaos action '{action}'").into()),
        };
        Ok(ChaosResult {
            pid: std::process::id(),
            value,
        })
    }
}

/// `hang:FILE`: writes this pid to FILE (whole, by a rename), then sleeps
/// for ever.
fn hang(file: &str) -> std::io::Result<String> {
    if !file.is_empty() {
        let tmp = format!("{file}.tmp");
        std::fs::write(&tmp, std::process::id().to_string())?;
        std::fs::rename(&tmp, file)?;
    }
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// `wait:FILE`: returns once FILE exists, or fails after [`WAIT_LIMIT`].
fn wait_for(file: &str) -> Result<String, JobError> {
    let path = std::path::Path::new(file);
    let end = std::time::Instant::now() + WAIT_LIMIT;
    while !path.exists() {
        if std::time::Instant::now() >= end {
            return Err(format!("{file} did not appear within 60 s").into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(format!("{file} appeared"))
}

/// `print:N`, `eprint:N`: writes N bytes of 100-byte lines to `out`.
fn print(n: usize, mut out: impl Write) -> std::io::Result<String> {
    let line = "x".repeat(99) + "\n";
    let mut left = n;
    while left > 0 {
        let take = left.min(line.len());
        out.write_all(&line.as_bytes()[line.len() - take..])?;
        left -= take;
    }
    out.flush()?;
    Ok(format!(
        "printed {}",
        crate::report::count(n as u64, "byte")
    ))
}

fn raise(sig: nix::sys::signal::Signal) -> ! {
    // SAFETY: restoring the default action installs no handler code.
    unsafe {
        let _ = nix::sys::signal::signal(sig, nix::sys::signal::SigHandler::SigDfl);
    }
    let _ = nix::sys::signal::raise(sig);
    std::process::abort()
}
/// `mproc pool chaos ACTION...`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ChaosArgs {
    /// Actions: ok:TEXT sleep:MS spin:MS fail:TEXT panic:TEXT exit:CODE abort segv kill hang print:BYTES eprint:BYTES log:TEXT big:BYTES flaky:FILE
    #[arg(value_name = "ACTION", required = true)]
    pub actions: Vec<String>,
}

impl Builtin for Chaos {
    type Args = ChaosArgs;
    type Row = ItemResult<Self::Output>;
    const ABOUT: &'static str =
        "Scripted items that sleep, fail, panic, print, exit or crash (see docs)";

    fn row(result: ItemResult<Self::Output>) -> Self::Row {
        result
    }

    fn plan(args: ChaosArgs, _: &Context) -> Result<Plan<Chaos>> {
        Ok(Plan {
            job: Chaos,
            inputs: args.actions.into(),
        })
    }

    /// One line per action: index, outcome, pid, and value or error.
    fn report(run: &Report<'_, Chaos>) -> String {
        let mut s = String::new();
        for r in run.results {
            let action = run.inputs.get(r.index).map(String::as_str).unwrap_or("?");
            s.push_str(&row(r, action));
        }
        s
    }

    fn line(result: &ItemResult<ChaosResult>, action: &String) -> Option<String> {
        Some(row(result, action))
    }
}

/// One result's line: index, action, outcome, pid, and value or error.
fn row(r: &ItemResult<ChaosResult>, action: &str) -> String {
    let pid = r.pid.map_or("-".to_string(), |p| p.to_string());
    let what = match r.outcome.as_ok() {
        Some(v) => v.value.clone(),
        None => r.outcome.error().unwrap_or_default(),
    };
    format!(
        "{:>4} {:<18} {:<9} pid {:<8} {}\n",
        r.index,
        crate::report::escaped(action),
        r.outcome.name(),
        pid,
        crate::report::escaped(&what)
    )
}
