//! Helpers shared by the integration tests: run the real `mproc` binary,
//! make temp dirs, read /proc.

#![allow(dead_code)]

#[path = "../../crates/mproc/tests/support/procs.rs"]
mod procs;
pub use procs::*;

use std::process::{Command, Output, Stdio};

/// The real binary under test.
pub const MPROC: &str = env!("CARGO_BIN_EXE_mproc");

/// A finished run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Parses stdout as one JSON document.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Parses stdout as JSON lines.
    #[track_caller]
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
            .collect()
    }
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// A `Command` for the binary, with a clean logging environment.
pub fn mproc() -> Command {
    let mut cmd = Command::new(MPROC);
    cmd.env_remove("RUST_LOG")
        .env_remove("MPROC_CPU_COUNT")
        .stdin(Stdio::null());
    cmd
}

/// Runs the binary with `args` and waits for it (at most 5 minutes).
#[track_caller]
pub fn run(args: &[&str]) -> Run {
    output(mproc().args(args))
}

/// Runs `cmd` with piped output and waits for it (at most 5 minutes).
#[track_caller]
pub fn output(cmd: &mut Command) -> Run {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mproc runs");
    wait_bounded(&mut child, 300).into()
}

/// Runs and expects exit code `code`.
#[track_caller]
pub fn run_expect(args: &[&str], code: i32) -> Run {
    let r = run(args);
    assert_eq!(
        r.code, code,
        "mproc {args:?}\nstdout:\n{}\nstderr:\n{}",
        r.stdout, r.stderr
    );
    r
}

/// A fresh, empty directory for one test (see [`TempDir`]).
pub fn temp_dir(name: &str) -> TempDir {
    TempDir::new(name)
}

/// The `outcome` of every record in a `--json` document, in order.
#[track_caller]
pub fn outcomes(doc: &serde_json::Value) -> Vec<&str> {
    doc["results"]
        .as_array()
        .expect("a results array")
        .iter()
        .map(|r| r["outcome"].as_str().expect("an outcome"))
        .collect()
}

/// Waits (up to `seconds`, polling) until `cond` holds, for waits longer
/// than [`wait_until`]'s (a cluster noticing a dead node).
#[track_caller]
pub fn wait_long(what: &str, seconds: u64, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out ({seconds} s) waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The text of `path`, or nothing while it does not exist.
pub fn text(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Pids of live processes whose argv contains `marker` as one word.
pub fn with_marker(marker: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if cmdline.split(|&b| b == 0).any(|w| w == marker.as_bytes()) {
            out.push(pid);
        }
    }
    out
}
