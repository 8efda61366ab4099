//! `mproc run COMMAND [ARG...] [::: INPUT...]`: any command per input,
//! GNU parallel's core job, as the [`Run`] job.
//!
//! Each item is one input (from `:::`, `--files-from` or stdin) with its
//! sequence number. The worker builds the command line ([`line`]), runs it
//! as a grandchild in its own process group ([`child`]), which a
//! [`watcher`] kills if the worker dies, and returns how it ended with its
//! captured output: exit 0 is `ok`, anything else `failed` (`exit 3`,
//! `killed by SIGKILL`, `command not found: foo`). The parent prints each
//! item's stdout whole as it arrives ([`Builtin::arrived`]) and its stderr
//! into the log. See `docs/RUN.md`.

mod child;
mod line;
mod watcher;

use std::ffi::OsString;
use std::io::{BufRead, IsTerminal, Write};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::de::Deserializer;
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use mproc::error::Error;
use mproc::{ItemResult, Job, JobError, Outcome, Result};

use self::child::{Captured, Ended, Finished, StartError};
use self::line::Template;
use super::{Builtin, Context, Plan, Report};
use crate::options::OutputFormat;

/// The longest input read from stdin or `--files-from` (longer lines are
/// failed items; `exec` itself refuses one argument over 128 KiB).
pub const MAX_INPUT: usize = 1 << 20;

/// Bytes of each of stdout and stderr that a JSON record carries; past
/// this the text is cut and ends with a marker.
pub const JSON_MAX: usize = 1 << 20;

/// Separates a failure's headline from the output it carries to the parent.
const MARK: char = '\u{1f}';

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
    /// The input's length when it was longer than [`MAX_INPUT`] (then
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
            return Err(format!("input is {len} bytes, over the limit of {MAX_INPUT}").into());
        }
        let argv = self.template.argv(&input.arg, input.seq);
        let program = self.template.program(&input.arg, input.seq);
        let spool = self.spool.as_deref().filter(|d| d.is_dir());
        let finished = child::run(&argv, input.seq, self.pass_stderr, spool)
            .map_err(|StartError(e)| start_error(&program, &argv, &e))?;
        let Finished {
            ended,
            stdout,
            stderr,
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
        if let Some(dir) = &self.results {
            write_results(dir, input.seq, &output)?;
        }
        match headline {
            None => Ok(output),
            Some(headline) => Err(encode_failure(&headline, &output).into()),
        }
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

/// A failure's message: the headline, then the output as JSON, which
/// [`decode_failure`] takes off again in the parent.
fn encode_failure(headline: &str, output: &RunOutput) -> String {
    let payload = (
        output.exit_code,
        output.signal,
        Hex(&output.stdout),
        Hex(&output.stderr),
    );
    match serde_json::to_string(&payload) {
        Ok(json) => format!("{headline}{MARK}{json}"),
        Err(_) => headline.to_string(),
    }
}

/// The headline (with anything the pool appended after the output, such
/// as ` (on host2)`) and the output, from an [`encode_failure`] message.
fn decode_failure(message: &str) -> Option<(String, RunOutput)> {
    let (headline, rest) = message.split_once(MARK)?;
    let mut values = serde_json::Deserializer::from_str(rest).into_iter::<FailPayload>();
    let payload = values.next()?.ok()?;
    let suffix = &rest[values.byte_offset()..];
    let (exit_code, signal, stdout, stderr) = payload;
    Some((
        format!("{headline}{suffix}"),
        RunOutput {
            exit_code,
            signal,
            stdout: stdout.0,
            stderr: stderr.0,
        },
    ))
}

type FailPayload = (Option<i32>, Option<i32>, Owned, Owned);

/// A captured stream inside a failure message, its bytes as hex.
struct Hex<'a>(&'a Captured);
struct Owned(Captured);

impl Serialize for Hex<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let hex: String = self.0.bytes.iter().map(|b| format!("{b:02x}")).collect();
        (hex, &self.0.spooled, self.0.len).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Owned {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let (hex, spooled, len) = <(String, Option<PathBuf>, u64)>::deserialize(d)?;
        let bytes = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16))
            .collect::<std::result::Result<Vec<u8>, _>>()
            .map_err(serde::de::Error::custom)?;
        Ok(Owned(Captured {
            bytes,
            spooled,
            len,
        }))
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

impl Serialize for RunOutput {
    /// In JSON: `exit_code`, `signal` (its name), `stdout`, `stderr` (text,
    /// cut at [`JSON_MAX`] with a marker); between processes, everything.
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if !s.is_human_readable() {
            return (self.exit_code, self.signal, &self.stdout, &self.stderr).serialize(s);
        }
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("exit_code", &self.exit_code)?;
        map.serialize_entry("signal", &self.signal.map(signal_name))?;
        map.serialize_entry("stdout", &json_text(&self.stdout))?;
        map.serialize_entry("stderr", &json_text(&self.stderr))?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for RunOutput {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let (exit_code, signal, stdout, stderr) = Deserialize::deserialize(d)?;
        Ok(RunOutput {
            exit_code,
            signal,
            stdout,
            stderr,
        })
    }
}

/// A stream as JSON text: at most [`JSON_MAX`] bytes, then a marker.
fn json_text(c: &Captured) -> String {
    let head = c.head(JSON_MAX);
    let mut text = String::from_utf8_lossy(&head).into_owned();
    if (head.len() as u64) < c.len {
        text.push_str(&format!(
            "\n[mproc: cut at {} of {} bytes]",
            head.len(),
            c.len
        ));
    }
    text
}

impl RunOutput {
    /// Keeps only what a JSON record shows, and removes spool files.
    fn keep_for_json(&mut self) {
        for c in [&mut self.stdout, &mut self.stderr] {
            let head = c.head(JSON_MAX);
            c.release();
            c.bytes = head;
        }
    }

    /// Prints stdout whole, logs stderr line by line, then lets both go.
    fn show(&mut self, index: usize, input: &RunInput) {
        print_stdout(&self.stdout);
        if self.stderr.len > 0 {
            let text = json_text(&self.stderr);
            let name = short(&input.arg);
            for line in text.lines() {
                tracing::info!(target: crate::logging::OUTPUT_TARGET, "item {index} ({name}): {line}");
            }
        }
        self.stdout.release();
        self.stderr.release();
    }

    fn json_fields(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(fields)) => fields,
            _ => Map::new(),
        }
    }
}

/// An input for a log line: its text, cut at 60 characters.
fn short(arg: &[u8]) -> String {
    let text = String::from_utf8_lossy(arg);
    match text.char_indices().nth(60) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.into_owned(),
    }
}

/// Set once stdout's reader is gone (`mproc run ... | head`).
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

fn print_stdout(c: &Captured) {
    if c.len == 0 || STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = c.copy_to(&mut out).and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            tracing::error!("cannot write to stdout: {e}");
        }
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
}

/// The parent's spool folder, removed with everything in it when dropped.
#[derive(Debug)]
struct SpoolDir(PathBuf);

impl Drop for SpoolDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl SpoolDir {
    fn create() -> Option<SpoolDir> {
        use std::os::unix::fs::DirBuilderExt;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path =
            std::env::temp_dir().join(format!("mproc-run-{}-{nanos:08x}", std::process::id()));
        match std::fs::DirBuilder::new().mode(0o700).create(&path) {
            Ok(()) => Some(SpoolDir(path)),
            Err(e) => {
                tracing::warn!(
                    "cannot create a spool folder {} ({e}): output past {} MiB per item is cut",
                    path.display(),
                    child::INLINE_MAX >> 20
                );
                None
            }
        }
    }
}

/// `mproc run` (also `mproc pool run`).
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Read the inputs from FILE, one per line (with -0: NUL-separated),
    /// instead of stdin.
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
    type Args = RunArgs;
    const ABOUT: &'static str =
        "Run COMMAND once per input (after :::, in --files-from FILE, or one per line of stdin)";

    fn plan(args: RunArgs, _: &Context) -> Result<Plan<Run>> {
        let (words, group) = split_groups(args.command)?;
        let template = Template::parse(&words, args.no_shell).map_err(Error::usage)?;
        let sep = if args.null { b'\0' } else { b'\n' };
        let items = match (group, &args.files_from) {
            (Some(_), Some(_)) => {
                return Err(Error::usage(
                    "inputs come from ::: or from --files-from, not both",
                ))
            }
            (Some(group), None) => group.into_iter().map(|a| bounded(a.into_vec())).collect(),
            (None, Some(path)) => {
                let file = std::fs::File::open(path).map_err(|e| {
                    Error::io(format!("cannot open --files-from {}", path.display()), e)
                })?;
                read_items(std::io::BufReader::new(file), sep).map_err(|e| {
                    Error::io(format!("cannot read --files-from {}", path.display()), e)
                })?
            }
            (None, None) => {
                let stdin = std::io::stdin();
                if stdin.is_terminal() {
                    tracing::info!("reading inputs from stdin, one per line (end with Ctrl-D)");
                }
                read_items(stdin.lock(), sep).map_err(|e| Error::io("cannot read stdin", e))?
            }
        };
        let inputs = items
            .into_iter()
            .enumerate()
            .map(|(i, (arg, too_long))| RunInput {
                seq: i as u64 + 1,
                arg,
                too_long,
            })
            .collect();
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
                spool: guard.as_ref().map(|g| g.0.clone()),
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
        let mut failed = None;
        if let Outcome::Failed(message) = &mut result.outcome {
            if let Some((headline, output)) = decode_failure(message) {
                *message = headline;
                failed = Some(output);
            }
        }
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
                    output.stdout.release();
                    output.stderr.release();
                    fields
                })
            }
        }
    }
}

/// The command words, and the inputs after `:::` if there are any.
fn split_groups(words: Vec<OsString>) -> Result<(Vec<Vec<u8>>, Option<Vec<OsString>>)> {
    let mut words = words.into_iter();
    let mut command = Vec::new();
    let mut group = None;
    for w in words.by_ref() {
        match w.as_encoded_bytes() {
            b":::" => {
                group = Some(Vec::new());
                break;
            }
            b"::::" => {
                return Err(Error::usage(
                    ":::: (inputs from files) is not supported: use --files-from FILE",
                ))
            }
            _ => command.push(w.into_vec()),
        }
    }
    if let Some(group) = group.as_mut() {
        for w in words {
            if w == ":::" || w == "::::" {
                return Err(Error::usage(
                    "mproc run takes one ::: group of inputs; combine several groups \
                     yourself (for example with a loop that prints each pair on a line)",
                ));
            }
            group.push(w);
        }
    }
    Ok((command, group))
}

/// An input, cut at [`MAX_INPUT`] (with its length when it was longer).
fn bounded(mut arg: Vec<u8>) -> (Vec<u8>, Option<u64>) {
    if arg.len() > MAX_INPUT {
        let len = arg.len() as u64;
        arg.truncate(MAX_INPUT);
        (arg, Some(len))
    } else {
        (arg, None)
    }
}

/// Reads inputs ending with `sep` (the last may lack it), never holding
/// more than [`MAX_INPUT`] bytes of one.
fn read_items(mut reader: impl BufRead, sep: u8) -> std::io::Result<Vec<(Vec<u8>, Option<u64>)>> {
    let mut items = Vec::new();
    loop {
        let mut arg = Vec::new();
        let mut len = 0u64;
        let mut ended = false;
        loop {
            let buf = reader.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            let (chunk, found) = match buf.iter().position(|&b| b == sep) {
                Some(at) => (&buf[..at], true),
                None => (buf, false),
            };
            len += chunk.len() as u64;
            let room = (MAX_INPUT + 1).saturating_sub(arg.len());
            arg.extend_from_slice(&chunk[..room.min(chunk.len())]);
            let used = chunk.len() + usize::from(found);
            reader.consume(used);
            if found {
                ended = true;
                break;
            }
        }
        if !ended && len == 0 && arg.is_empty() {
            return Ok(items);
        }
        let too_long = (len > MAX_INPUT as u64).then_some(len);
        arg.truncate(MAX_INPUT);
        items.push((arg, too_long));
        if !ended {
            return Ok(items);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_read_per_line_or_per_nul_and_bounded() {
        let got = read_items(&b"a\nb c\n\nd"[..], b'\n').unwrap();
        let args: Vec<&[u8]> = got.iter().map(|(a, _)| a.as_slice()).collect();
        assert_eq!(args, [&b"a"[..], b"b c", b"", b"d"]);
        let got = read_items(&b"x\ny\0z\0"[..], b'\0').unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, b"x\ny");
        let long = vec![b'x'; MAX_INPUT + 10];
        let got = read_items(&long[..], b'\n').unwrap();
        assert_eq!(got[0].1, Some(MAX_INPUT as u64 + 10));
        assert_eq!(got[0].0.len(), MAX_INPUT);
        assert!(read_items(&b""[..], b'\n').unwrap().is_empty());
    }

    #[test]
    fn a_failure_carries_its_output_past_the_pools_suffix() {
        let output = RunOutput {
            exit_code: Some(3),
            signal: None,
            stdout: Captured {
                bytes: vec![0, 255, b'\n'],
                spooled: None,
                len: 3,
            },
            stderr: Captured::default(),
        };
        let message = format!("{} (on host2)", encode_failure("exit 3", &output));
        let (headline, back) = decode_failure(&message).unwrap();
        assert_eq!(headline, "exit 3 (on host2)");
        assert_eq!(back, output);
        assert!(decode_failure("exit 3").is_none());
    }

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
