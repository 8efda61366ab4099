//! Where results go: a failed write is exit 2 with one line, a closed
//! stdout ends the run quietly, and output files are checked before any
//! worker starts; a picture that cannot be written never hides the results.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::support::*;

/// `/dev/full` opened for writing, or `None` (and a `skipped:` line).
fn dev_full() -> Option<std::fs::File> {
    match std::fs::OpenOptions::new().write(true).open("/dev/full") {
        Ok(f) => Some(f),
        Err(e) => {
            println!("skipped: cannot open /dev/full: {e}");
            None
        }
    }
}

#[test]
fn a_failed_write_of_results_is_exit_2_with_one_line() {
    let cases: [&[&str]; 7] = [
        &["pool", "-n", "2", "square", "5"],
        &["pool", "-n", "2", "--json", "square", "5"],
        &["pool", "-n", "2", "--jsonl", "square", "5"],
        &["pool", "--serial", "square", "5"],
        &["man"],
        &["completions", "bash"],
        &["cpu-count"],
    ];
    for args in cases {
        let Some(full) = dev_full() else { return };
        let mut child = mproc()
            .arg("-q")
            .args(args)
            .stdout(full)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let r: Run = wait_bounded(&mut child, 60).into();
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(
            r.stderr, "mproc: cannot write results to stdout: no space left on device\n",
            "{args:?}"
        );
    }
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    let dir = temp_dir("closed-stdout");
    let log = dir.join("log.tsv");
    const ITEMS: usize = 200_000;
    let mut child = mproc()
        // Small chunks: a stop ends the run between chunks.
        .args([
            "-q",
            "pool",
            "-n",
            "2",
            "--chunksize",
            "10",
            "--jsonl",
            "--joblog",
        ])
        .arg(&log)
        .args(["square", &ITEMS.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `| head -1`: read one line, then close the pipe.
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("\"outcome\":\"ok\""), "{first}");
    let r: Run = wait_bounded(&mut child, 120).into();
    assert_eq!(
        r.code, 0,
        "a reader that went away is success: {}",
        r.stderr
    );
    assert_eq!(r.stderr, "", "quietly");
    // The pool stopped: most items never ran.
    let text = std::fs::read_to_string(&log).unwrap();
    let ok = text.lines().filter(|l| l.contains("\tok\t")).count();
    let not_run = text.lines().filter(|l| l.contains("\tnot_run\t")).count();
    assert!(
        ok < ITEMS / 2,
        "{ok} of {ITEMS} items ran after stdout closed"
    );
    assert!(not_run > 0, "the rest end not_run ({not_run})");
    assert!(text.contains("stdout is closed"), "the job log says why");
}

#[test]
fn output_paths_are_checked_before_any_worker_starts() {
    let dir = temp_dir("output-paths");
    let missing = dir.join("missing/t.svg");
    let missing = missing.to_str().unwrap();
    let cases = [
        ("--timeline", missing.to_string()),
        (
            "--joblog",
            dir.join("missing/x").to_str().unwrap().to_string(),
        ),
        ("--joblog", dir.to_str().unwrap().to_string()),
    ];
    for (flag, path) in cases {
        // Without -q: a worker that started would log "Input 0 in process".
        let r = run_expect(&["pool", "-n", "2", flag, &path, "square", "3"], 2);
        assert_eq!(r.stdout, "");
        let line = format!("mproc: cannot write {flag} {path}: ");
        assert!(r.stderr.starts_with(&line), "{}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    }
    let r = run_expect(
        &["pool", "-n", "2", "--timeline", missing, "square", "3"],
        2,
    );
    assert!(r.stderr.contains("no such directory"), "{}", r.stderr);
}

#[test]
fn a_picture_that_cannot_be_written_never_hides_the_results() {
    if dev_full().is_none() {
        return;
    }
    let r = run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "2",
            "--timeline",
            "/dev/full",
            "square",
            "3",
        ],
        2,
    );
    assert_eq!(r.stdout, "[0, 1, 4]\n");
    assert_eq!(
        r.stderr,
        "mproc: cannot draw --timeline /dev/full: no space left on device\n"
    );
    let r = run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "2",
            "--json",
            "--timeline",
            "/dev/full",
            "square",
            "3",
        ],
        2,
    );
    assert_eq!(r.json()["summary"]["ok"], 3);
}
