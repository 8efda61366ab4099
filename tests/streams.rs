//! Inputs and results as they come: a list on stdin reaches the pool line
//! by line, an endless one stops when stdout's reader goes, and `imap`
//! prints each result when it (and those before it) are ready.
//!
//! Each test holds something back (a line of input, a file an item waits
//! for) and reads an output that can only exist if the run streams; a
//! run that waited for the end would never give it, and the bounded read
//! fails the test instead of hanging.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::support::*;

/// Reads stdout's lines on a thread; [`Lines::next`] waits a bounded time.
struct Lines(mpsc::Receiver<String>);

impl Lines {
    fn of(stdout: ChildStdout) -> Lines {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines(rx)
    }

    /// The next line; fails the test if none comes within 60 s.
    #[track_caller]
    fn next(&self, child: &mut Child) -> String {
        match self.0.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => line,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no line of output ({e:?})");
            }
        }
    }

    /// The lines left once the child has ended.
    fn rest(self) -> Vec<String> {
        self.0.iter().collect()
    }
}

/// Runs mproc with `input` written to its stdin, then closed.
fn with_stdin(args: &[&str], input: &str) -> std::process::Output {
    let mut child = spawn(args);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    wait_bounded(&mut child, 60)
}

fn spawn(args: &[&str]) -> Child {
    mproc()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mproc starts")
}

#[test]
fn a_list_on_stdin_runs_each_path_before_the_list_ends() {
    let dir = temp_dir("stream-list");
    std::fs::write(dir.join("a.txt"), "one 1\n").unwrap();
    std::fs::write(dir.join("b.txt"), "two 22\n").unwrap();
    let mut child = spawn(&[
        "-q",
        "pool",
        "-n",
        "2",
        "analyze",
        "--files-from",
        "-",
        "--jsonl",
    ]);
    let mut stdin = child.stdin.take().unwrap();
    let lines = Lines::of(child.stdout.take().unwrap());
    writeln!(stdin, "{}", dir.join("a.txt").display()).unwrap();
    stdin.flush().unwrap();
    // The list is still open: a.txt's result comes anyway.
    let first: serde_json::Value = serde_json::from_str(&lines.next(&mut child)).unwrap();
    assert_eq!(first["index"], 0);
    assert_eq!(first["outcome"], "ok");
    writeln!(stdin, "{}", dir.join("b.txt").display()).unwrap();
    drop(stdin);
    let out = wait_bounded(&mut child, 60);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rest = lines.rest();
    let second: serde_json::Value = serde_json::from_str(&rest[0]).unwrap();
    assert_eq!(second["index"], 1);
    assert_eq!(second["outcome"], "ok");
    assert!(rest[1].contains("\"summary\""), "{rest:?}");
}

#[test]
fn a_list_in_a_human_report_is_kept_whole() {
    let dir = temp_dir("stream-human");
    std::fs::write(dir.join("a.txt"), "1\n").unwrap();
    let list = format!(
        "{}\n{}\n",
        dir.join("a.txt").display(),
        dir.join("missing.txt").display()
    );
    let out = with_stdin(
        &["-q", "pool", "-n", "2", "analyze", "--files-from", "-"],
        &list,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Both rows, named, and the TOTAL of the one that could be read.
    assert!(stdout.contains("a.txt"), "{stdout}");
    assert!(stdout.contains("missing.txt"), "{stdout}");
    assert!(stdout.contains("TOTAL"), "{stdout}");
    assert_eq!(out.status.code(), Some(1), "one file is missing");
}

#[test]
fn an_endless_list_stops_when_stdouts_reader_goes() {
    endless_list_stops(&["-n", "2"]);
}

/// `yes path | mproc pool POOL analyze --files-from - --jsonl | head -1`:
/// the run stops when the reader goes, quietly (exit 0).
fn endless_list_stops(pool: &[&str]) {
    let dir = temp_dir("stream-endless");
    let path = dir.join("a.txt");
    std::fs::write(&path, "1\n").unwrap();
    let mut args = vec!["-q", "pool"];
    args.extend(pool);
    args.extend(["analyze", "--files-from", "-", "--jsonl"]);
    let mut child = spawn(&args);
    let mut stdin = child.stdin.take().unwrap();
    // `yes path`: written until mproc stops reading.
    let line = format!("{}\n", path.display()).repeat(64);
    let writer = std::thread::spawn(move || while stdin.write_all(line.as_bytes()).is_ok() {});
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("\"ok\""), "{first}");
    drop(stdout);
    let out = wait_bounded(&mut child, 60);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    writer.join().unwrap();
}

#[test]
fn run_takes_stdin_lines_as_they_come() {
    let mut child = spawn(&["-q", "run", "echo", "got {}"]);
    let mut stdin = child.stdin.take().unwrap();
    let lines = Lines::of(child.stdout.take().unwrap());
    writeln!(stdin, "first").unwrap();
    stdin.flush().unwrap();
    assert_eq!(lines.next(&mut child), "got first");
    writeln!(stdin, "second").unwrap();
    drop(stdin);
    let out = wait_bounded(&mut child, 60);
    assert!(out.status.success());
    assert_eq!(lines.rest(), ["got second"]);
}

#[test]
fn an_endless_stdin_for_run_stops_when_stdouts_reader_goes() {
    let mut child = spawn(&["-q", "run", "echo", "{}"]);
    let mut stdin = child.stdin.take().unwrap();
    let writer =
        std::thread::spawn(move || while stdin.write_all(&[b'y', b'\n'].repeat(64)).is_ok() {});
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert_eq!(first, "y\n");
    drop(stdout);
    let out = wait_bounded(&mut child, 60);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    writer.join().unwrap();
}

#[test]
fn imap_prints_each_result_when_it_and_those_before_are_ready() {
    let dir = temp_dir("stream-imap");
    let gate = dir.join("gate");
    let wait = format!("wait:{}", gate.display());
    let mut child = spawn(&[
        "-q", "pool", "-n", "2", "--mode", "imap", "chaos", "ok:first", &wait, "ok:third",
    ]);
    let lines = Lines::of(child.stdout.take().unwrap());
    // Item 1 waits for the gate: item 0 is printed before it opens.
    let first = lines.next(&mut child);
    assert!(first.contains("ok:first"), "{first}");
    std::fs::write(&gate, "").unwrap();
    let out = wait_bounded(&mut child, 60);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rest = lines.rest();
    assert_eq!(rest.len(), 2, "{rest:?}");
    assert!(
        rest[0].contains("appeared") && rest[1].contains("ok:third"),
        "{rest:?}"
    );
}

#[test]
fn imap_unordered_prints_results_as_they_finish() {
    let dir = temp_dir("stream-unordered");
    let gate = dir.join("gate");
    let wait = format!("wait:{}", gate.display());
    let mut child = spawn(&[
        "-q",
        "pool",
        "-n",
        "2",
        "--mode",
        "imap-unordered",
        "chaos",
        &wait,
        "ok:quick",
    ]);
    let lines = Lines::of(child.stdout.take().unwrap());
    // Item 0 waits for the gate; item 1 finishes and is printed first.
    let first = lines.next(&mut child);
    assert!(first.trim_start().starts_with("1 ok:quick"), "{first}");
    std::fs::write(&gate, "").unwrap();
    let out = wait_bounded(&mut child, 60);
    assert!(out.status.success());
    let rest = lines.rest();
    assert!(rest[0].trim_start().starts_with("0 wait:"), "{rest:?}");
}

#[test]
fn map_prints_its_list_at_the_end_and_imap_a_line_each() {
    let map = run(&["-q", "pool", "-n", "2", "square", "4"]);
    assert_eq!(map.stdout, "[0, 1, 4, 9]\n");
    let imap = run(&["-q", "pool", "-n", "2", "--mode", "imap", "square", "4"]);
    assert_eq!(imap.stdout, "0\n1\n4\n9\n");
}

#[test]
fn a_line_too_long_for_a_path_is_skipped_by_name_and_the_rest_runs() {
    let dir = temp_dir("stream-long-line");
    std::fs::write(dir.join("a.txt"), "1\n").unwrap();
    let list = format!(
        "{}\n{}\n{}\n",
        "x".repeat(100_000),
        dir.join("a.txt").display(),
        dir.join("a.txt").display()
    );
    let args = ["pool", "-n", "2", "analyze", "--files-from", "-", "--jsonl"];
    let out = with_stdin(&args, &list);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--files-from -: line 1 is 100000 bytes, over the limit of 65536; skipped"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("\"outcome\":\"ok\"").count(), 2, "{stdout}");
}

#[test]
fn a_serial_run_of_an_endless_list_stops_when_stdouts_reader_goes() {
    endless_list_stops(&["--serial"]);
}

#[test]
fn resume_reads_a_streamed_list_against_the_job_log() {
    let dir = temp_dir("stream-resume");
    for name in ["a.txt", "b.txt"] {
        std::fs::write(dir.join(name), "1\n").unwrap();
    }
    let log = dir.join("jobs.tsv");
    let list = |names: &[&str]| -> String {
        names
            .iter()
            .map(|n| format!("{}\n", dir.join(n).display()))
            .collect()
    };
    let log_path = log.to_str().unwrap();
    let args = [
        "pool",
        "-n",
        "2",
        "analyze",
        "--files-from",
        "-",
        "--jsonl",
        "--resume",
        log_path,
    ];
    let run_with = |names: &[&str]| with_stdin(&args, &list(names));
    let first = run_with(&["a.txt"]);
    assert!(first.status.success());
    // a.txt ran; the second run, with b.txt added, runs b.txt alone, as
    // item 1 of the list.
    let second = run_with(&["a.txt", "b.txt"]);
    assert!(second.status.success());
    let stdout = String::from_utf8_lossy(&second.stdout);
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|r: &serde_json::Value| r.get("index").is_some())
        .collect();
    assert_eq!(records.len(), 1, "{stdout}");
    assert_eq!(records[0]["index"], 1);
    assert!(records[0]["input"].as_str().unwrap().ends_with("b.txt"));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("ran 1 of the 2 items read"), "{stderr}");
}
