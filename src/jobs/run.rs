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
mod exit;
pub(crate) mod gnu_args;
mod gnu_job;
mod groups;
mod inputs;
mod line;
mod orphans;
mod output;
mod plan;
pub(crate) mod refused;
mod shell;
mod spool;
mod watcher;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::de::Deserializer;
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use mproc::{Failure, ItemResult, Job, JobError, Outcome, Result};

pub(crate) use self::child::Captured;
use self::child::{Ended, Finished, StartError};
use self::exit::exit_of;
use self::gnu_args::GnuOptions;
use self::gnu_job::GnuJob;
use self::inputs::MAX_INPUT;
use self::line::Template;
use self::spool::SpoolDir;
use super::{Builtin, Context, Plan, Report};
use crate::options::OutputFormat;

/// Runs one command line per input.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Run {
    template: Template,
    gnu: GnuJob,
    results: Option<PathBuf>,
    pass_stderr: bool,
    spool: Option<PathBuf>,
    /// The parent's spool folder, removed when the job is dropped there
    /// (never sent to workers).
    #[serde(skip)]
    _spool_guard: Option<SpoolDir>,
}

/// One job: its arguments, and its sequence number from 1 (`{#}`).
///
/// In JSON (and so in mproc's job log, and for its `--resume`) a job is
/// its arguments' text alone, joined by spaces, so that an earlier log
/// matches it by input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RunInput {
    /// `{#}`, `MPROC_SEQ`: the job's position among all jobs, from 1.
    pub seq: u64,
    /// The arguments joined by spaces (the input itself when there is one).
    pub arg: Vec<u8>,
    /// The job's arguments (one per input source and column, times `-N`).
    pub args: Vec<Vec<u8>>,
    /// The input's length when it was longer than `MAX_INPUT` (then
    /// `arg` is cut and the item fails).
    pub too_long: Option<u64>,
}

/// How a command ended and what it wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RunOutput {
    /// The exit code, when it exited.
    pub exit_code: Option<i32>,
    /// The signal that killed it, when one did.
    pub signal: Option<i32>,
    /// What it wrote on stdout.
    pub stdout: Captured,
    /// What it wrote on stderr (empty with `--pass-stderr`).
    pub stderr: Captured,
    /// `(Exitval, Signal)` as GNU parallel's job log records them, where
    /// they are not the exit code and signal above: `(-1, 15)` at
    /// `--timeout`, `(127, 0)` or `(126, 0)` for a program that could not
    /// start. Set where it is known, in the worker; never read from a
    /// message.
    pub gnu_exit: Option<(i32, i32)>,
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
        let spool = self.spool.as_deref().filter(|d| d.is_dir());
        let (nums, _slot) = self.gnu.slot(&self.template, &input, spool)?;
        if let Some(output) = self.gnu.dry_run(&self.template, &input, nums) {
            return Ok(output);
        }
        let argv = self.gnu.wrap(self.template.argv(&input.args, nums));
        let program = self.template.program(&input.args, nums);
        let finished =
            child::run(&argv, input.seq, self.pass_stderr, spool).map_err(|StartError(e)| {
                let output = RunOutput {
                    gnu_exit: match e.raw_os_error() {
                        Some(nix::libc::ENOENT) => Some((127, 0)),
                        Some(nix::libc::EACCES) => Some((126, 0)),
                        _ => None,
                    },
                    ..RunOutput::default()
                };
                failure(start_error(&program, &argv, &e), &output)
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
        self.gnu.decorate(&self.template, &input, nums, &mut output);
        let headline = match ended {
            Ended::Code(0) => None,
            Ended::Code(code) if self.gnu.timed_out(code) => {
                output.gnu_exit = Some((-1, 15));
                Some(format!(
                    "timed out after {:.3} s",
                    self.gnu.timeout.unwrap_or_default().as_secs_f64()
                ))
            }
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
            let results = self.gnu.results_dir(dir, &input);
            if let Err(why) = write_results(&results, input.seq, &output) {
                output.release();
                return Err(failure(why, &output));
            }
            self.gnu.results_written(&mut output);
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
        _ => format!("cannot start {program}: {}", crate::errors::io_message(e)),
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

/// `--results DIR`: into `item` (`DIR/1/<arg>/` as GNU parallel's, or
/// `DIR/<seq>/` for `mproc pool run`), `stdout`, `stderr`, `seq` (as GNU
/// parallel's) and `exit` (the exit code, or 128 + the signal number, as
/// a shell reports it).
fn write_results(item: &Path, seq: u64, output: &RunOutput) -> std::result::Result<(), String> {
    let fail = |what: &Path, e: std::io::Error| {
        format!(
            "cannot write --results {}: {}",
            what.display(),
            crate::errors::io_message(&e)
        )
    };
    std::fs::create_dir_all(item).map_err(|e| fail(item, e))?;
    let path = item.join("seq");
    std::fs::write(&path, seq.to_string()).map_err(|e| fail(&path, e))?;
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
pub(crate) struct RunArgs {
    /// Read inputs from FILE, one per line (with -0: NUL-separated),
    /// instead of stdin; several -a are several input sources, as ::::
    /// (stdin and pipes stream: commands start as lines arrive).
    #[arg(
        short = 'a',
        long = "files-from",
        visible_alias = "arg-file",
        value_name = "FILE"
    )]
    pub files_from: Vec<PathBuf>,
    /// Inputs on stdin or in files end with a NUL byte, not a newline.
    #[arg(short = '0', long = "null")]
    pub null: bool,
    /// Run the command's words directly, never through a shell.
    #[arg(long)]
    pub no_shell: bool,
    /// Also write each job's stdout, stderr, seq and exit into DIR
    /// (mproc run: DIR/1/<arg>/..., as GNU parallel; mproc pool run:
    /// DIR/<seq>/...).
    #[arg(long, visible_alias = "res", value_name = "DIR")]
    pub results: Option<PathBuf>,
    /// Let the commands' stderr through as they write it, instead of
    /// logging it per item.
    #[arg(long)]
    pub pass_stderr: bool,
    /// The command and its arguments, then optionally input sources:
    /// `::: ARGS`, `:::+ ARGS` (linked), `:::: FILES`, `::::+ FILES`.
    #[arg(
        value_name = "COMMAND",
        num_args = 0..,
        trailing_var_arg = true
    )]
    pub command: Vec<OsString>,
    /// GNU parallel's options (`mproc run` only; set by the command line).
    #[arg(skip)]
    pub gnu: GnuOptions,
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

    fn plan(args: RunArgs, context: &Context) -> Result<Plan<Run>> {
        let planned = plan::plan(args, context)?;
        let guard = SpoolDir::create();
        Ok(Plan {
            job: Run {
                template: planned.template,
                gnu: planned.gnu,
                results: planned.results,
                pass_stderr: planned.pass_stderr,
                spool: guard.as_ref().map(|g| g.path().to_path_buf()),
                _spool_guard: guard,
            },
            inputs: planned.inputs,
        })
    }

    fn exit_of(result: &ItemResult<RunOutput>) -> Option<(i32, i32)> {
        exit_of(result)
    }

    fn log_seq(input: &RunInput) -> Option<u64> {
        Some(input.seq)
    }

    fn command_line(&self, input: &RunInput) -> Option<Vec<u8>> {
        // The parent does not know the slot a job ran in: {%} reads 0 here.
        let nums = line::Nums {
            seq: input.seq,
            slot: 0,
        };
        Some(self.template.line(&input.args, nums))
    }

    fn status(summary: &crate::report::Summary, halted_by: Option<i32>) -> Option<u8> {
        Some(plan::status(summary, halted_by))
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
            (self.seq, &self.args, self.too_long).serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for RunInput {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let (seq, args, too_long) = <(u64, Vec<Vec<u8>>, Option<u64>)>::deserialize(d)?;
        Ok(RunInput::new(seq, args, too_long))
    }
}

impl RunInput {
    /// Job `seq` with `args` (`too_long`: the length of an input over
    /// the limit).
    pub(crate) fn new(seq: u64, args: Vec<Vec<u8>>, too_long: Option<u64>) -> RunInput {
        RunInput {
            seq,
            arg: args.join(&b' '),
            args,
            too_long,
        }
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
            args: vec![b"a b".to_vec()],
            too_long: None,
        };
        assert_eq!(serde_json::to_value(&input).unwrap(), Value::from("a b"));
    }
}
