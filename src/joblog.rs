//! The job log (`--joblog FILE`): one tab-separated line per attempt of
//! each item, written as the item ends, and read back by `--resume`.
//!
//! An item that was retried (`--retries`) has a row for each attempt, in
//! order, as GNU parallel's joblog has with its `--retries`: the earlier
//! ones (not ok) first, its last attempt last. The rows of an item are
//! written together, so its last row is how it ended: `--resume` reads
//! the last row of each input.
//!
//! The columns follow GNU parallel's joblog, adapted to items:
//!
//! | column | meaning |
//! |---|---|
//! | `seq` | the item's index in the input (0-based, as `index` in JSON) |
//! | `input` | the input as text (a string as is, anything else as JSON) |
//! | `worker` | the pool slot that ran it, or `-` |
//! | `pid` | the process that ran it, or `-` |
//! | `start` | when it started, Unix seconds with milliseconds, or `-` |
//! | `runtime` | seconds it ran |
//! | `attempts` | which attempt the row records (1 for the first); on an item's last row, the times it was started (0 if never) |
//! | `outcome` | `ok`, `failed`, `panicked`, `crashed`, `timed_out`, `not_run` |
//! | `error` | the one-line error, or empty |
//! | `host` | the host that ran it (`-` for this machine) |
//!
//! Tabs, newlines, carriage returns and backslashes inside fields are
//! written as `\t`, `\n`, `\r` and `\\`, and each byte of an input that is
//! not UTF-8 (a Linux file name need not be) as `\xHH`: every input reads
//! back exactly, so `--resume` never takes `x\xff.txt` for `x\xfe.txt`.
//!
//! `mproc run` writes GNU parallel's format instead (`gnu`), and `-`
//! as the path means stdout. `--resume` reads either format, knowing
//! GNU parallel's by its header.
//!
//! A run killed while writing a line leaves it incomplete (no newline).
//! `--resume` ignores such a last line with a warning, and the next run cuts
//! it off before appending.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use mproc::{Error, Result};
use mproc::{ItemResult, Outcome};

mod exact;
pub(crate) mod gnu;

pub(crate) use exact::input_bytes;

/// The header line.
pub const HEADER: &str = "seq\tinput\tworker\tpid\tstart\truntime\tattempts\toutcome\terror\thost";

/// Which columns a job log has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// mproc's (above), appended to.
    #[default]
    Mproc,
    /// GNU parallel's (`gnu`): a new file each run, unless `append`
    /// (`--resume`, or a path written `+FILE`).
    Gnu {
        /// Append instead of starting the file anew.
        append: bool,
    },
}

/// An open job log.
pub struct JobLog {
    path: PathBuf,
    out: BufWriter<Box<dyn Write + Send>>,
    epoch: f64,
    format: Format,
}

/// The file a `--joblog` value names, and the format to open it with:
/// in GNU parallel's format, `+FILE` appends to FILE.
pub fn resolve(path: &Path, format: Format) -> (PathBuf, Format) {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    match (format, bytes.strip_prefix(b"+")) {
        (Format::Gnu { .. }, Some(rest)) if !rest.is_empty() => (
            Path::new(std::ffi::OsStr::from_bytes(rest)).to_path_buf(),
            Format::Gnu { append: true },
        ),
        _ => (path.to_path_buf(), format),
    }
}

impl JobLog {
    /// Opens `path` for appending (writing the header if it is empty, and
    /// cutting off an incomplete last line). `epoch` is the pool's start:
    /// item start times count from it.
    pub fn open(path: &Path, epoch: SystemTime, format: Format) -> Result<JobLog> {
        let epoch = epoch
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        let header = match format {
            Format::Mproc => HEADER,
            Format::Gnu { .. } => gnu::HEADER,
        };
        if path.as_os_str() == "-" {
            let mut log = JobLog {
                path: path.to_path_buf(),
                out: BufWriter::new(Box::new(std::io::stdout())),
                epoch,
                format,
            };
            log.line(header)?;
            return Ok(log);
        }
        let cannot = |e| Error::io(format!("cannot open --joblog {}", path.display()), e);
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(cannot)?;
        if format == (Format::Gnu { append: false }) {
            file.set_len(0).map_err(cannot)?;
        }
        let complete = complete_length(&mut file).map_err(cannot)?;
        if complete < file.metadata().map_err(cannot)?.len() {
            tracing::warn!(
                "--joblog {}: cutting off an incomplete last line",
                path.display()
            );
            file.set_len(complete).map_err(cannot)?;
        }
        let mut log = JobLog {
            path: path.to_path_buf(),
            out: BufWriter::new(Box::new(file)),
            epoch,
            format,
        };
        if complete == 0 {
            log.line(header)?;
        }
        Ok(log)
    }

    /// True when the log is GNU parallel's format.
    pub fn is_gnu(&self) -> bool {
        matches!(self.format, Format::Gnu { .. })
    }

    /// Appends GNU parallel's line for one finished job: `seq` its `{#}`,
    /// `exit` its `(Exitval, Signal)`, `command` its command line. A job
    /// that never ran has no line, as in GNU parallel.
    pub fn record_gnu<T>(
        &mut self,
        r: &ItemResult<T>,
        seq: u64,
        exit: Option<(i32, i32)>,
        command: &[u8],
        host: Option<&str>,
    ) -> Result<()> {
        let Some(exit) = exit else {
            return Ok(());
        };
        let row = gnu::Row {
            seq,
            host,
            start: self.epoch + r.started.unwrap_or_default().as_secs_f64(),
            runtime: r.elapsed.as_secs_f64(),
            exit,
            command,
        };
        let line = row.line();
        self.line(&line)
    }

    fn line(&mut self, line: &str) -> Result<()> {
        writeln!(self.out, "{line}")
            .and_then(|()| self.out.flush())
            .map_err(|e| Error::io(format!("cannot write --joblog {}", self.path.display()), e))
    }

    /// Appends the lines of one finished item, one per attempt; `input` is
    /// its exact text (`input_bytes`). `hosts` names each pool slot's
    /// host (`None`, or no entry: this machine); an attempt ran on its
    /// slot's host (a retry may run in another slot than the first try).
    pub fn record<T>(
        &mut self,
        r: &ItemResult<T>,
        input: &[u8],
        hosts: &[Option<String>],
    ) -> Result<()> {
        let host_of = |worker: Option<usize>| -> Option<&str> {
            worker.and_then(|w| hosts.get(w)?.as_deref())
        };
        let input = escape(input);
        let mut lines = String::new();
        for (n, a) in r.earlier.iter().enumerate() {
            let run = Run {
                worker: a.worker,
                pid: a.pid,
                started: a.started,
                elapsed: a.elapsed,
                attempt: n as u32 + 1,
            };
            lines.push_str(&self.row(r.index, &input, &run, &a.outcome, host_of(a.worker)));
            lines.push('\n');
        }
        let run = Run {
            worker: r.worker,
            pid: r.pid,
            started: r.started,
            elapsed: r.elapsed,
            attempt: r.attempts,
        };
        lines.push_str(&self.row(r.index, &input, &run, &r.outcome, host_of(r.worker)));
        self.line(&lines)
    }

    /// One attempt's line, without its newline.
    fn row<T>(
        &self,
        index: usize,
        input: &str,
        run: &Run,
        outcome: &Outcome<T>,
        host: Option<&str>,
    ) -> String {
        let dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        [
            index.to_string(),
            input.to_string(),
            dash(run.worker.map(|w| w.to_string())),
            dash(run.pid.map(|p| p.to_string())),
            dash(
                run.started
                    .map(|s| format!("{:.3}", self.epoch + s.as_secs_f64())),
            ),
            format!("{:.3}", run.elapsed.as_secs_f64()),
            run.attempt.to_string(),
            outcome.name().to_string(),
            escape(outcome.error().unwrap_or_default().as_bytes()),
            host.map_or("-".to_string(), |h| escape(h.as_bytes())),
        ]
        .join("\t")
    }
}

/// Where, when and as which attempt one row's attempt ran.
struct Run {
    worker: Option<usize>,
    pid: Option<u32>,
    started: Option<Duration>,
    elapsed: Duration,
    attempt: u32,
}

/// The length of `file` up to and including its last newline.
fn complete_length(file: &mut File) -> std::io::Result<u64> {
    let mut end = file.seek(SeekFrom::End(0))?;
    let mut chunk = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let part = &mut chunk[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(part)?;
        if let Some(i) = part.iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// A field as written: valid UTF-8 as is but for `\\`, `\t`, `\n` and `\r`;
/// every other byte as `\xHH`.
fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// The bytes [`escape`] wrote. An unknown escape stands for its character.
fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        out.extend_from_slice(&rest.as_bytes()[..i]);
        let after = &rest[i + 1..];
        let mut chars = after.chars();
        let (bytes, used): (Vec<u8>, usize) = match chars.next() {
            Some('t') => (vec![b'\t'], 1),
            Some('n') => (vec![b'\n'], 1),
            Some('r') => (vec![b'\r'], 1),
            Some('x') => match after.get(1..3).and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(b) => (vec![b], 3),
                None => (vec![b'x'], 1),
            },
            Some(c) => (c.to_string().into_bytes(), c.len_utf8()),
            None => (vec![b'\\'], 0),
        };
        out.extend(bytes);
        rest = &after[used..];
    }
    out.extend_from_slice(rest.as_bytes());
    out
}

/// The most bytes `--resume` reads of a job log: 1 GiB, some ten million
/// lines of short inputs.
pub const MAX_RESUME: u64 = 1 << 30;

/// What an earlier run's job log says: the last outcome of each input
/// (mproc's format), or which jobs ran and which of them ended ok (GNU
/// parallel's, by sequence number).
#[derive(Debug, Default)]
pub struct Previous {
    last: HashMap<Vec<u8>, String>,
    gnu: Option<HashMap<u64, bool>>,
}

impl Previous {
    /// Reads a job log of at most [`MAX_RESUME`] bytes; a missing file is
    /// an empty log. An incomplete last
    /// line (no newline, too few fields) is ignored with a warning.
    pub fn read(path: &Path) -> Result<Previous> {
        let Some(bytes) = mproc::bounded::read_if_exists("--resume", path, MAX_RESUME)? else {
            return Ok(Previous::default());
        };
        let text = String::from_utf8_lossy(&bytes);
        if gnu::is_gnu(&text) {
            let jobs = gnu::read(&text).map_err(|n| {
                Error::usage(format!(
                    "--resume {} line {n} is not a GNU parallel job log line (Seq, Host, \
                     Starttime, JobRuntime, Send, Receive, Exitval, Signal, Command)",
                    path.display()
                ))
            })?;
            return Ok(Previous {
                last: HashMap::new(),
                gnu: Some(jobs),
            });
        }
        let complete = text.ends_with('\n');
        let lines: Vec<&str> = text.lines().collect();
        let mut last = HashMap::new();
        for (n, line) in lines.iter().enumerate() {
            if n == 0 && line.starts_with("seq\t") || line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            if fields.len() < 8 {
                if n + 1 == lines.len() && !complete {
                    tracing::warn!(
                        "--resume {}: ignoring the incomplete last line {} (a run killed while writing it?)",
                        path.display(),
                        n + 1
                    );
                    break;
                }
                return Err(Error::usage(format!(
                    "--resume {} line {} is not a job log line (expected 10 tab-separated fields)",
                    path.display(),
                    n + 1
                )));
            }
            last.insert(unescape(fields[1]), fields[7].to_string());
        }
        Ok(Previous { last, gnu: None })
    }

    /// True when `--resume` skips this item: `input` its exact text
    /// (`input_bytes`), `seq` its sequence number if it has one. A GNU
    /// parallel log skips every job it names (with `failed`, the
    /// `--resume-failed` of `mproc run`: those that ended ok); mproc's
    /// skips the inputs whose last run was ok (with `failed`, all but
    /// those that were not ok).
    pub fn skips(&self, input: &[u8], seq: Option<u64>, failed: bool) -> bool {
        match (&self.gnu, seq) {
            (Some(jobs), Some(seq)) => match jobs.get(&seq) {
                Some(ok) => !failed || *ok,
                None => false,
            },
            (Some(_), None) => false,
            (None, _) if failed => !self.was_not_ok(input),
            (None, _) => self.was_ok(input),
        }
    }

    /// True if the input's last run ended ok; `input` is its exact text
    /// (`input_bytes`).
    pub fn was_ok(&self, input: &[u8]) -> bool {
        self.last.get(input).is_some_and(|o| o == "ok")
    }

    /// True if the input ran and its last run did not end ok.
    pub fn was_not_ok(&self, input: &[u8]) -> bool {
        self.last.get(input).is_some_and(|o| o != "ok")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips_any_bytes() {
        let cases: [&[u8]; 9] = [
            b"plain",
            b"a\tb",
            b"line\nbreak\r",
            b"back\\slash\\t",
            b"",
            b"x\xff.txt",
            b"x\xfe.txt",
            b"literal \\xff and \xc3\xa9",
            "日本 \u{202e}".as_bytes(),
        ];
        for bytes in cases {
            let written = escape(bytes);
            assert!(!written.contains(['\t', '\n', '\r']), "{written}");
            assert_eq!(unescape(&written), bytes, "{written}");
        }
        assert_eq!(escape(b"x\xff.txt"), "x\\xff.txt");
        assert_ne!(escape(b"x\xff.txt"), escape(b"x\xfe.txt"));
    }
}
