//! The job log (`--joblog FILE`): one tab-separated line per item, written
//! as each item ends, and read back by `--resume`.
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
//! | `attempts` | times it was started |
//! | `outcome` | `ok`, `failed`, `panicked`, `crashed`, `timed_out`, `not_run` |
//! | `error` | the one-line error, or empty |
//! | `host` | the host that ran it (`-` for this machine) |
//!
//! Tabs, newlines and backslashes inside fields are written as `\t`, `\n`
//! and `\\`.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::Value;

use mproc::error::{Error, Result};
use mproc::ItemResult;

/// The header line.
pub const HEADER: &str = "seq\tinput\tworker\tpid\tstart\truntime\tattempts\toutcome\terror\thost";

/// An open job log.
pub struct JobLog {
    path: PathBuf,
    out: BufWriter<File>,
    epoch: f64,
}

impl JobLog {
    /// Opens `path` for appending (writing the header if it is empty).
    /// `epoch` is the pool's start: item start times count from it.
    pub fn open(path: &Path, epoch: SystemTime) -> Result<JobLog> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(format!("cannot open --joblog {}", path.display()), e))?;
        let empty = file.metadata().map(|m| m.len() == 0).unwrap_or(true);
        let mut log = JobLog {
            path: path.to_path_buf(),
            out: BufWriter::new(file),
            epoch: epoch
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs_f64(),
        };
        if empty {
            log.line(HEADER)?;
        }
        Ok(log)
    }

    fn line(&mut self, line: &str) -> Result<()> {
        writeln!(self.out, "{line}")
            .and_then(|()| self.out.flush())
            .map_err(|e| Error::io(format!("cannot write --joblog {}", self.path.display()), e))
    }

    /// Appends the line of one finished item.
    pub fn record<T>(
        &mut self,
        r: &ItemResult<T>,
        input: &Value,
        host: Option<&str>,
    ) -> Result<()> {
        let dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        let line = [
            r.index.to_string(),
            escape(&input_text(input)),
            dash(r.worker.map(|w| w.to_string())),
            dash(r.pid.map(|p| p.to_string())),
            dash(
                r.started
                    .map(|s| format!("{:.3}", self.epoch + s.as_secs_f64())),
            ),
            format!("{:.3}", r.elapsed.as_secs_f64()),
            r.attempts.to_string(),
            r.outcome.name().to_string(),
            escape(&r.outcome.error().unwrap_or_default()),
            host.map_or("-".to_string(), escape),
        ]
        .join("\t");
        self.line(&line)
    }
}

/// An input as the job log writes it: a string as is, anything else as JSON.
pub fn input_text(input: &Value) -> String {
    match input {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// What an earlier run's job log says: the last outcome of each input.
#[derive(Debug, Default)]
pub struct Previous {
    last: HashMap<String, String>,
}

impl Previous {
    /// Reads a job log; a missing file is an empty log.
    pub fn read(path: &Path) -> Result<Previous> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Previous::default()),
            Err(e) => {
                return Err(Error::io(
                    format!("cannot read --resume {}", path.display()),
                    e,
                ))
            }
        };
        let mut last = HashMap::new();
        for (n, line) in BufReader::new(file).lines().enumerate() {
            let line =
                line.map_err(|e| Error::io(format!("cannot read --resume {}", path.display()), e))?;
            if n == 0 && line.starts_with("seq\t") || line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            if fields.len() < 8 {
                return Err(Error::usage(format!(
                    "--resume {} line {} is not a job log line (expected 10 tab-separated fields)",
                    path.display(),
                    n + 1
                )));
            }
            last.insert(unescape(fields[1]), fields[7].to_string());
        }
        Ok(Previous { last })
    }

    /// True if the input's last run ended ok.
    pub fn was_ok(&self, input: &Value) -> bool {
        self.last.get(&input_text(input)).is_some_and(|o| o == "ok")
    }

    /// True if the input ran and its last run did not end ok.
    pub fn was_not_ok(&self, input: &Value) -> bool {
        self.last.get(&input_text(input)).is_some_and(|o| o != "ok")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips() {
        for s in ["plain", "a\tb", "line\nbreak", "back\\slash\\t", ""] {
            assert_eq!(unescape(&escape(s)), s);
        }
    }
}
