//! GNU parallel's job log format, which `mproc run --joblog` writes and
//! `--resume` reads, so that GNU parallel and mproc read each other's
//! logs: a header, then a line per job, tab-separated:
//!
//! `Seq  Host  Starttime  JobRuntime  Send  Receive  Exitval  Signal  Command`
//!
//! `Seq` is the job's sequence number (`{#}`), `Host` `:` for this machine,
//! `Starttime` Unix seconds with milliseconds, `JobRuntime` seconds
//! (`%10.3f`), `Send` and `Receive` 0 (no files are transferred),
//! `Exitval` and `Signal` how it ended (`-1` and 15 after `--timeout`),
//! `Command` the command line with each newline written as a NUL byte, as
//! GNU parallel writes it. GNU parallel's `--resume` skips every job the
//! log names; `--resume-failed` only those that exited 0 with no signal.

use std::collections::HashMap;

/// The header line.
pub(crate) const HEADER: &str =
    "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand";

/// One job's line, without its newline.
pub(crate) struct Row<'a> {
    /// `{#}`
    pub seq: u64,
    /// The host that ran it (`None`: this machine).
    pub host: Option<&'a str>,
    /// When it started, Unix seconds.
    pub start: f64,
    /// Seconds it ran.
    pub runtime: f64,
    /// `(Exitval, Signal)`
    pub exit: (i32, i32),
    /// The command line.
    pub command: &'a [u8],
}

impl Row<'_> {
    /// The line as GNU parallel writes it.
    pub(crate) fn line(&self) -> String {
        let command: Vec<u8> = self
            .command
            .iter()
            .map(|&b| if b == b'\n' { 0 } else { b })
            .collect();
        let host = self
            .host
            .map_or(":".to_string(), |h| h.replace(['\t', '\n'], " "));
        format!(
            "{}\t{}\t{:.3}\t{:10.3}\t0\t0\t{}\t{}\t{}",
            self.seq,
            host,
            self.start,
            self.runtime,
            self.exit.0,
            self.exit.1,
            String::from_utf8_lossy(&command)
        )
    }
}

/// True when `first_line` is GNU parallel's job log header.
pub(crate) fn is_gnu(first_line: &str) -> bool {
    first_line.starts_with("Seq\tHost\tStarttime")
}

/// What a GNU parallel job log says: each job's sequence number, and
/// whether it exited 0 with no signal.
pub(crate) fn read(text: &str) -> Result<HashMap<u64, bool>, usize> {
    let mut jobs = HashMap::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.splitn(9, '\t').collect();
        let seq = fields.first().and_then(|s| s.parse::<u64>().ok());
        let (Some(seq), true) = (seq, fields.len() >= 8) else {
            return Err(n + 1);
        };
        let ok = fields[6] == "0" && fields[7] == "0";
        let entry = jobs.entry(seq).or_insert(ok);
        *entry = *entry || ok;
    }
    Ok(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_back_as_gnu_parallel_writes_them() {
        let row = Row {
            seq: 2,
            host: None,
            start: 1700000000.5,
            runtime: 0.25,
            exit: (3, 0),
            command: b"echo a\nb",
        };
        assert_eq!(
            row.line(),
            "2\t:\t1700000000.500\t     0.250\t0\t0\t3\t0\techo a\0b"
        );
        let log = format!(
            "{HEADER}\n{}\n1\t:\t1.0\t0.1\t0\t0\t0\t0\techo x\n",
            row.line()
        );
        assert!(is_gnu(&log));
        let jobs = read(&log).unwrap();
        assert_eq!(jobs.get(&2), Some(&false));
        assert_eq!(jobs.get(&1), Some(&true));
        assert_eq!(read(&format!("{HEADER}\nx\n")).unwrap_err(), 2);
    }
}
