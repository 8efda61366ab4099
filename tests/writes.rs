//! Every write is checked (issue 22): a log file that cannot be written
//! fails the run and says what was lost; trace and timeline files are
//! written whole or not at all.

use std::process::Command;

use crate::support::*;

#[test]
fn a_log_file_that_cannot_be_written_fails_the_run_and_says_what_was_lost() {
    let r = run(&[
        "--log-file",
        "/dev/full",
        "run",
        "-n",
        "1",
        "echo out; echo err >&2",
        ":::",
        "a",
        "b",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(r.stdout, "out\nout\n", "the results are still printed");
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {r:?}");
    assert!(
        lines[0].starts_with("mproc: cannot write --log-file /dev/full: no space left on device: ")
            && lines[0].ends_with("log lines lost (the log is incomplete)"),
        "{r:?}"
    );
}

#[test]
fn a_log_file_that_takes_every_line_changes_nothing() {
    let dir = temp_dir("log-file-ok");
    let log = dir.join("log.txt");
    let r = run(&[
        "--log-file",
        log.to_str().unwrap(),
        "run",
        "echo err >&2",
        ":::",
        "a",
    ]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{r:?}");
    assert!(std::fs::read_to_string(&log).unwrap().contains("err"));
}

/// Runs `mproc -q pool -n 2 square 2000 FLAG FILE` under a file size limit
/// of 4 KiB, so the kernel kills it (SIGXFSZ) in the middle of writing FILE.
fn killed_while_writing(flag: &str, file: &std::path::Path) -> Run {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "ulimit -f 8 && exec \"$0\" \"$@\"", MPROC])
        .args(["-q", "pool", "-n", "2", flag])
        .arg(file)
        .args(["square", "2000"])
        .env_remove("RUST_LOG");
    output(&mut cmd)
}

fn kill_while_writing_keeps_the_previous(flag: &str, name: &str, previous: &str) {
    let dir = temp_dir("killed-writing");
    let file = dir.join(name);
    std::fs::write(&file, previous).unwrap();
    let r = killed_while_writing(flag, &file);
    assert_eq!(r.code, -1, "killed by SIGXFSZ while writing: {r:?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), previous);
    // And with room to write, the new file replaces the old one whole.
    run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "2",
            flag,
            file.to_str().unwrap(),
            "square",
            "2000",
        ],
        0,
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.len() > 4096 && text != previous);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(names, [name]);
}

#[test]
fn a_run_killed_while_writing_its_trace_keeps_the_previous_trace() {
    kill_while_writing_keeps_the_previous("--trace", "t.json", "{\"traceEvents\":[]}\n");
    let dir = temp_dir("trace-whole");
    let file = dir.join("t.json");
    run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "2",
            "--trace",
            file.to_str().unwrap(),
            "square",
            "50",
        ],
        0,
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(doc["traceEvents"].as_array().unwrap().len() >= 50);
}

#[cfg(feature = "timeline")]
#[test]
fn a_run_killed_while_drawing_its_timeline_keeps_the_previous_picture() {
    kill_while_writing_keeps_the_previous("--timeline", "t.svg", "<svg></svg>\n");
}

#[test]
fn a_trace_through_a_symbolic_link_replaces_the_target_and_keeps_the_link() {
    let dir = temp_dir("trace-link");
    let target = dir.join("real.json");
    std::fs::write(&target, "old").unwrap();
    let link = dir.join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    run_expect(
        &[
            "-q",
            "pool",
            "--trace",
            link.to_str().unwrap(),
            "square",
            "3",
        ],
        0,
    );
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(text.starts_with("{\"traceEvents\""), "{text}");
}
