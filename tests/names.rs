//! Names that lie: a file name cannot forge a log line or reach the
//! terminal as an escape sequence (`--json` keeps it exact), and the job
//! log keeps every name exactly, bytes that are not UTF-8 included, so
//! `--resume` never takes one file for another. A job log cut short by a
//! killed run does not block `--resume`.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::support::*;

fn text(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_name_cannot_forge_a_log_line_or_reach_the_terminal() {
    let dir = temp_dir("lying-names");
    let forged = dir.join("a\n ERROR [parent] item 0 (fake): forged");
    let colour = dir.join("red\x1b[31m\u{202E}txt.exe");
    std::fs::write(&colour, "12\n").unwrap();
    let r = run_expect(
        &["pool", "-n", "2", "analyze", text(&forged), text(&colour)],
        1,
    );
    for line in r.stderr.lines() {
        assert!(
            !line
                .trim_start()
                .starts_with("ERROR [parent] item 0 (fake)"),
            "a forged line:\n{}",
            r.stderr
        );
    }
    assert!(
        r.stderr.contains("a\\n ERROR [parent] item 0 (fake)"),
        "{}",
        r.stderr
    );
    for out in [&r.stdout, &r.stderr] {
        assert!(!out.contains('\x1b') && !out.contains('\u{202E}'), "{out}");
    }
    assert!(
        r.stdout.contains("red\\x1b[31m\\u{202e}txt.exe"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("red\\x1b[31m\\u{202e}txt.exe"),
        "{}",
        r.stderr
    );
    // The excel table too.
    let book = dir.join("b\x1b[2J.xlsx");
    let r = run_expect(&["pool", "-n", "1", "excel", text(&book)], 1);
    assert!(!r.stdout.contains('\x1b'), "{}", r.stdout);
    assert!(r.stdout.contains("b\\x1b[2J.xlsx"), "{}", r.stdout);
    // A fatal error naming a file: one line too.
    let bad = dir.join("no\n\x1b[2Jdir/log.tsv");
    let r = run_expect(
        &["pool", "-n", "1", "--joblog", text(&bad), "square", "1"],
        2,
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("no\\n\\x1b[2Jdir"), "{}", r.stderr);
    // JSON keeps the exact names.
    let args = [
        "-q",
        "pool",
        "-n",
        "2",
        "--json",
        "analyze",
        text(&forged),
        text(&colour),
    ];
    let doc = run_expect(&args, 1).json();
    assert_eq!(doc["results"][0]["input"], text(&forged));
    assert_eq!(doc["results"][1]["input"], text(&colour));
}

#[test]
fn the_job_log_keeps_names_that_are_not_utf8_apart() {
    let dir = temp_dir("joblog-bytes");
    let ff = dir.join(OsStr::from_bytes(b"x\xff.txt"));
    let fe = dir.join(OsStr::from_bytes(b"x\xfe.txt"));
    std::fs::write(&ff, "1\n").unwrap();
    std::fs::write(&fe, "2\n").unwrap();
    let log = dir.join("log.tsv");
    let (ff, fe, log) = (ff.as_os_str(), fe.as_os_str(), log.as_os_str());
    let run_with = |extra: &[&OsStr], code: i32| -> Run {
        let mut cmd = mproc();
        cmd.args(["-q", "pool", "-n", "2", "--json"]).args(extra);
        let r = output(&mut cmd);
        assert_eq!(r.code, code, "{}", r.stderr);
        r
    };
    run_with(&["--joblog".as_ref(), log, "analyze".as_ref(), ff], 0);
    let written = std::fs::read_to_string(log).unwrap();
    assert!(written.contains("x\\xff.txt\t"), "{written}");
    // x\xfe.txt never ran: --resume runs it, and only it.
    let r = run_with(&["--resume".as_ref(), log, "analyze".as_ref(), ff, fe], 0);
    let results = r.json()["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0]["index"], 1);
    assert_eq!(results[0]["bytes"], 2);
    // Now both are done.
    let r = run_with(&["--resume".as_ref(), log, "analyze".as_ref(), ff, fe], 0);
    assert_eq!(r.json()["results"].as_array().unwrap().len(), 0);
}

#[test]
fn an_incomplete_last_line_of_a_job_log_is_ignored_with_a_warning() {
    let dir = temp_dir("joblog-cut");
    let log = dir.join("log.tsv");
    let log = text(&log);
    run_expect(
        &["-q", "pool", "-n", "2", "--joblog", log, "square", "3"],
        0,
    );
    // A run killed while writing the line of item 3.
    let mut bytes = std::fs::read(log).unwrap();
    bytes.extend_from_slice(b"3\t4\t0\t12");
    std::fs::write(log, &bytes).unwrap();
    let r = run_expect(
        &["pool", "-n", "2", "--resume", log, "--json", "square", "5"],
        0,
    );
    assert!(
        r.stderr.contains("ignoring the incomplete last line 5"),
        "{}",
        r.stderr
    );
    let ran: Vec<u64> = r.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(ran, [3, 4], "what the log does not record as ok runs");
    // The cut line is gone; the log reads cleanly again.
    let text = std::fs::read_to_string(log).unwrap();
    assert!(text.lines().all(|l| l.split('\t').count() == 10), "{text}");
    let r = run_expect(
        &["pool", "-n", "2", "--resume", log, "--json", "square", "5"],
        0,
    );
    assert!(!r.stderr.contains("incomplete"), "{}", r.stderr);
    assert_eq!(r.json()["results"].as_array().unwrap().len(), 0);
}
