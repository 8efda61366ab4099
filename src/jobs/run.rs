//! `mproc run COMMAND [ARG...] [::: INPUT...]`: any command per input,
//! GNU parallel's core job, as the [`Run`] job.
//!
//! Each item is one input (from `:::`, `--files-from` or stdin) with its
//! sequence number. The worker builds the command line ([`line`]), runs it
//! as a grandchild in its own process group (`child.rs`), which a
//! watcher (`watcher.rs`) kills if the worker dies, and returns how it ended with its
//! captured output: exit 0 is `ok`, anything else `failed` (`exit 3`,
//! `killed by SIGKILL`, `command not found: foo`). The parent prints each
//! item's stdout whole as it arrives ([`Builtin::arrived`]) and its stderr
//! into the log. See `docs/RUN.md`.

mod child;
mod inputs;
mod line;
mod orphans;
mod output;
mod spool;
mod watcher;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use serde::de::Deserializer;
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use mproc::error::Error;
use mproc::{Failure, ItemResult, Job, JobError, Outcome, Result};

pub use self::child::Captured;
use self::child::{Ended, Finished, StartError};
use self::inputs::{bounded, read_list, split_groups, stream, Item, MAX_INPUT};
use self::line::Template;
pub use self::output::JSON_MAX;
use self::spool::SpoolDir;
use super::{Builtin, Context, Inputs, Plan, Report};
use crate::options::OutputFormat;

/// Runs one command line per input.
#[derive(Debug, Serialize, Deserialize)]
pub struct Run {
    template: Template,
    results: Option<PathBuf>,
    pass_stderr: bool,
    spool: Option<PathBuf>,
    /// The parent's spool folder, removed when the job is dropped there
    /// (never sent to workers).
    #[serde(skip)]
    _spool_guard: Option<SpoolDir>,
}

/// One input: the bytes, and the item's sequence number from 1 (`{#}`).
///
/// In JSON (and so in the job log, and for `--resume`) an input is its
/// text alone, so that an earlier log matches it by input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInput {
    /// `{#}`, `MPROC_SEQ`: the item's position in the whole input, from 1.
    pub seq: u64,
    /// The input itself.
    pub arg: Vec<u8>,
    /// The input's length when it was longer than `MAX_INPUT` (then
    /// `arg` is cut and the item fails).
    pub too_long: Option<u64>,
}

/// How a command ended and what it wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOutput {
    /// The exit code, when it exited.
    pub exit_code: Option<i32>,
    /// The signal that killed it, when one did.
    pub signal: Option<i32>,
    /// What it wrote on stdout.
    pub stdout: Captured,
    /// What it wrote on stderr (empty with `--pass-stderr`).
    pub stderr: Captured,
}

impl Job for Run {
    const NAME: &'static str = "run";
    type Input = RunInput;
    type Output = RunOutput;

    fn run(&self, input: RunInput) -> std::result::Result<RunOutput, JobError> {
        if let Some(len) = input.too_long {
            let why = format!("input is {len} bytes, over the limit of {MAX_INPUT}");
            return Err(failure(why, &RunOutput::default()));
        }
        let argv = self.template.argv(&input.arg, input.seq);
        let program = self.template.program(&input.arg, input.seq);
        let spool = self.spool.as_deref().filter(|d| d.is_dir());
        let finished =
            child::run(&argv, input.seq, self.pass_stderr, spool).map_err(|StartError(e)| {
                failure(start_error(&program, &argv, &e), &RunOutput::default())
            })?;
        let Finished {
            ended,
            stdout,
            stderr,
            lost,
        } = finished;
        let mut output = RunOutput {
            stdout,
            stderr,
            ..RunOutput::default()
        };
        let headline = match ended {
            Ended::Code(0) => None,
            Ended::Code(127) if self.template.shell() && !on_path(&program) => {
                Some(format!("command not found: {program}"))
            }
            Ended::Code(code) => Some(format!("exit {code}")),
            Ended::Signal(sig) => Some(format!("killed by {}", signal_name(sig))),
        };
        match ended {
            Ended::Code(c) => output.exit_code = Some(c),
            Ended::Signal(s) => output.signal = Some(s),
        }
        if let Some(lost) = lost {
            // Never a cut output reported as whole.
            output.release();
            return Err(failure(lost, &output));
        }
        if let Some(dir) = &self.results {
            if let Err(why) = write_results(dir, input.seq, &output) {
                output.release();
                return Err(failure(why, &output));
            }
        }
        match headline {
            None => Ok(output),
            Some(headline) => Err(failure(headline, &output)),
        }
    }
}

/// A failed item: the headline for people, and the command's output beside
/// it as typed data, never inside the text.
fn failure(headline: String, output: &RunOutput) -> JobError {
    match Failure::new(headline.as_str()).with_data(output) {
        Ok(failure) => failure.into(),
        Err(e) => format!("{headline} (its output could not be kept: {e})").into(),
    }
}

fn start_error(program: &str, argv: &[OsString], e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(nix::libc::ENOENT) => format!("command not found: {program}"),
        Some(nix::libc::EACCES) => format!("permission denied: {program}"),
        Some(nix::libc::E2BIG) => format!(
            "argument list too long: {} bytes",
            argv.iter().map(|a| a.len() + 1).sum::<usize>()
        ),
        _ => format!("cannot start {program}: {}", mproc::error::io_message(e)),
    }
}

/// True when `program` names an executable (a path, or a name on `PATH`).
fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.is_empty() || program.contains(['=', ' ', '\t', '(', '$', '\'', '"']) {
        return true;
    }
    if program.contains('/') {
        return executable(Path::new(program));
    }
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| executable(&dir.join(program))))
}

fn signal_name(sig: i32) -> String {
    match nix::sys::signal::Signal::try_from(sig) {
        Ok(s) => s.as_str().to_string(),
        Err(_) => format!("signal {sig}"),
    }
}

/// `--results DIR`: `DIR/<seq>/stdout`, `stderr` and `exit` (the exit
/// code, or 128 + the signal number, as a shell reports it).
fn write_results(dir: &Path, seq: u64, output: &RunOutput) -> std::result::Result<(), String> {
    let item = dir.join(seq.to_string());
    let fail = |what: &Path, e: std::io::Error| {
        format!(
            "cannot write --results {}: {}",
            what.display(),
            mproc::error::io_message(&e)
        )
    };
    std::fs::create_dir_all(&item).map_err(|e| fail(&item, e))?;
    for (name, captured) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let path = item.join(name);
        std::fs::File::create(&path)
            .and_then(|mut f| captured.copy_to(&mut f))
            .map_err(|e| fail(&path, e))?;
    }
    let code = output
        .exit_code
        .or(output.signal.map(|s| 128 + s))
        .unwrap_or(-1);
    let path = item.join("exit");
    std::fs::write(&path, format!("{code}\n")).map_err(|e| fail(&path, e))
}
/// `mproc run` (also `mproc pool run`).
// The field docs are the command's help text, written for a terminal.
#[allow(rustdoc::invalid_html_tags)]
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Read the inputs from FILE, one per line (with -0: NUL-separated),
    /// instead of stdin (stdin and pipes stream: commands start as lines
    /// arrive).
    #[arg(short = 'a', long = "files-from", value_name = "FILE")]
    pub files_from: Option<PathBuf>,
    /// Inputs on stdin or in --files-from end with a NUL byte, not a newline.
    #[arg(short = '0', long = "null")]
    pub null: bool,
    /// Run the command's words directly, never through `sh -c`.
    #[arg(long)]
    pub no_shell: bool,
    /// Also write DIR/<seq>/stdout, stderr and exit for every item.
    #[arg(long, value_name = "DIR")]
    pub results: Option<PathBuf>,
    /// Let the commands' stderr through as they write it, instead of
    /// logging it per item.
    #[arg(long)]
    pub pass_stderr: bool,
    /// The command and its arguments, then optionally `:::` and the inputs.
    #[arg(
        value_name = "COMMAND",
        required = true,
        num_args = 1..,
        trailing_var_arg = true
    )]
    pub command: Vec<OsString>,
}

impl Builtin for Run {
    /// Nothing: each item's output is printed as it arrives.
    type Row = ();
    type Args = RunArgs;
    const ABOUT: &'static str =
        "Run COMMAND once per input (after :::, in --files-from FILE, or one per line of stdin)";

    fn row(_: ItemResult<RunOutput>) {}

    /// The input's own bytes, so `--resume` is keyed on the input.
    fn log_input(input: &RunInput) -> Vec<u8> {
        input.arg.clone()
    }

    fn plan(args: RunArgs, _: &Context) -> Result<Plan<Run>> {
        let (words, group) = split_groups(args.command)?;
        let template = Template::parse(&words, args.no_shell).map_err(Error::usage)?;
        let sep = if args.null { b'\0' } else { b'\n' };
        let items: Inputs<Item> = match (group, &args.files_from) {
            (Some(_), Some(_)) => {
                return Err(Error::usage(
                    "inputs come from ::: or from --files-from, not both",
                ))
            }
            (Some(group), None) => group
                .into_iter()
                .map(|a| bounded(a.into_vec()))
                .collect::<Vec<_>>()
                .into(),
            (None, Some(path)) => read_list(path, sep)?,
            (None, None) => {
                let stdin = std::io::stdin();
                if stdin.is_terminal() {
                    tracing::info!("reading inputs from stdin, one per line (end with Ctrl-D)");
                }
                stream(Box::new(stdin), "stdin".into(), sep)
            }
        };
        let mut seq = 0;
        let inputs = items.map(move |(arg, too_long)| {
            seq += 1;
            RunInput { seq, arg, too_long }
        });
        if let Some(dir) = &args.results {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("cannot create --results {}", dir.display()), e))?;
        }
        let guard = SpoolDir::create();
        Ok(Plan {
            job: Run {
                template,
                results: args.results,
                pass_stderr: args.pass_stderr,
                spool: guard.as_ref().map(|g| g.path().to_path_buf()),
                _spool_guard: guard,
            },
            inputs,
        })
    }

    /// Nothing: each item's output was printed as it arrived.
    fn report(_: &Report<'_, Run>) -> String {
        String::new()
    }

    fn arrived(
        result: &mut ItemResult<RunOutput>,
        input: &RunInput,
        format: OutputFormat,
    ) -> Option<Map<String, Value>> {
        // Every attempt's record is read alike: an earlier attempt's output
        // is let go (its spool files removed), and only its headline kept.
        for attempt in result.earlier.iter_mut() {
            if let Outcome::Failed(failure) = &mut attempt.outcome {
                if let Some(mut output) = take_output(failure, input.seq) {
                    output.release();
                }
            }
        }
        let mut failed = match &mut result.outcome {
            Outcome::Failed(failure) => take_output(failure, input.seq),
            Outcome::Ok(output) => {
                if let Err(why) = output.resolve(None, input.seq) {
                    tracing::error!("item {}: {why}", result.index);
                }
                None
            }
            _ => None,
        };
        let index = result.index;
        match format {
            OutputFormat::Human => {
                if let Outcome::Ok(output) = &mut result.outcome {
                    output.show(index, input);
                }
                if let Some(output) = failed.as_mut() {
                    output.show(index, input);
                }
                None
            }
            OutputFormat::Json | OutputFormat::Jsonl => {
                if let Outcome::Ok(output) = &mut result.outcome {
                    output.keep_for_json();
                }
                failed.map(|mut output| {
                    let fields = output.json_fields();
                    output.release();
                    fields
                })
            }
        }
    }
}

/// The command's output that a failure carries as its data, with its spool
/// files found in this run's folder; the failure keeps its message alone.
/// A failure that carries none (a crash, a timeout) gives `None`.
fn take_output(failure: &mut Failure, seq: u64) -> Option<RunOutput> {
    let decoded = failure.data::<RunOutput>();
    failure.clear_data();
    match decoded? {
        Ok(mut output) => {
            if let Err(why) = output.resolve(None, seq) {
                tracing::error!("item {seq}: {why}");
            }
            Some(output)
        }
        Err(e) => {
            tracing::error!("item {seq}: cannot read the output its failure carries: {e}");
            None
        }
    }
}

impl Serialize for RunInput {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&String::from_utf8_lossy(&self.arg))
        } else {
            (self.seq, &self.arg, self.too_long).serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for RunInput {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let (seq, arg, too_long) = <(u64, Vec<u8>, Option<u64>)>::deserialize(d)?;
        Ok(RunInput { seq, arg, too_long })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_is_its_text_in_json() {
        let input = RunInput {
            seq: 4,
            arg: b"a b".to_vec(),
            too_long: None,
        };
        assert_eq!(serde_json::to_value(&input).unwrap(), Value::from("a b"));
    }
}
