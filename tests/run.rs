//! `mproc run`: real commands per input, with the pool's guarantees.
//!
//! Tests that must find leftover processes look in /proc for a marker
//! argument of their own (`sleep 1234.51`, ...), so that tests running at
//! the same time cannot confuse each other.

use std::io::Write;
use std::process::Stdio;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::support::{
    mproc, output, run, run_expect, temp_dir, wait_bounded, wait_until, with_marker,
};

/// Runs mproc with `args` and `stdin` bytes, returning the raw output.
fn run_with_stdin(args: &[&str], stdin: &[u8]) -> std::process::Output {
    let mut child = mproc()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mproc runs");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    wait_bounded(&mut child, 120)
}

#[test]
fn output_is_printed_whole_per_item_in_input_order() {
    let inputs: Vec<String> = (1..=24).map(|i| i.to_string()).collect();
    let mut args = vec!["run", "-j", "4", "printf '%s-a\\n%s-b\\n' {} {}", ":::"];
    args.extend(inputs.iter().map(String::as_str));
    let r = run_expect(&args, 0);
    let want: String = inputs.iter().map(|i| format!("{i}-a\n{i}-b\n")).collect();
    assert_eq!(r.stdout, want);

    // As items finish: every item's two lines stay together.
    let mut args = vec!["run", "--mode", "imap-unordered", "-j", "4"];
    args.extend(["printf '%s-a\\n%s-b\\n' {} {}", ":::"]);
    args.extend(inputs.iter().map(String::as_str));
    let r = run_expect(&args, 0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 48, "{}", r.stdout);
    for pair in lines.chunks(2) {
        let item = pair[0].strip_suffix("-a").expect("an item's first line");
        assert_eq!(pair[1], format!("{item}-b"), "{}", r.stdout);
    }
}

#[test]
fn exit_codes_and_signals_are_outcomes() {
    let r = run(&["run", "--jsonl", "-j", "2", "exit {}", ":::", "0", "3"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines = r.json_lines();
    assert_eq!(lines[0]["outcome"], "ok");
    assert_eq!(lines[0]["exit_code"], 0);
    assert_eq!(lines[1]["outcome"], "failed");
    assert_eq!(lines[1]["error"], "exit 3");
    assert_eq!(lines[1]["exit_code"], 3);

    let r = run(&[
        "run",
        "--json",
        "echo out {}; echo err >&2; kill -9 $$",
        ":::",
        "x",
    ]);
    assert_eq!(r.code, 1);
    let item = &r.json()["results"][0];
    assert_eq!(item["outcome"], "failed", "{item}");
    assert_eq!(item["error"], "killed by SIGKILL");
    assert_eq!(item["signal"], "SIGKILL");
    assert_eq!(item["exit_code"], serde_json::Value::Null);
    assert_eq!(item["stdout"], "out x\n");
    assert_eq!(item["stderr"], "err\n");
}

#[test]
fn a_missing_command_fails_each_item_and_the_run_goes_on() {
    let r = run(&[
        "run",
        "--jsonl",
        "{}",
        ":::",
        "true",
        "no-such-command-xyz",
        "true",
    ]);
    assert_eq!(r.code, 1);
    let outcomes: Vec<String> = r
        .json_lines()
        .iter()
        .take(3)
        .map(|l| format!("{} {}", l["outcome"], l["error"]))
        .collect();
    assert_eq!(
        outcomes,
        [
            "\"ok\" null",
            "\"failed\" \"command not found: no-such-command-xyz\"",
            "\"ok\" null"
        ]
    );
    // Through the shell too.
    let r = run(&["run", "no-such-command-xyz {} >/dev/null", ":::", "a"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("item 0 (a): command not found: no-such-command-xyz"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_timeout_kills_the_commands_own_children() {
    let r = run(&[
        "run",
        "-j",
        "2",
        "--timeout",
        "0.5",
        "--jsonl",
        "sleep 1234.51 & sleep 1234.51; echo {}",
        ":::",
        "a",
        "b",
    ]);
    // GNU parallel's --timeout: each job fails, its output kept; the exit
    // status counts them.
    assert_eq!(r.code, 2, "{}", r.stderr);
    for line in &r.json_lines()[..2] {
        assert_eq!(line["outcome"], "failed", "{line}");
        assert!(
            line["error"]
                .as_str()
                .unwrap()
                .starts_with("timed out after 0.500 s"),
            "{line}"
        );
    }
    assert_eq!(with_marker("1234.51"), Vec::<u32>::new(), "processes left");
}

#[test]
fn ctrl_c_ends_every_command_group() {
    let mut child = mproc()
        .args([
            "run",
            "-j",
            "2",
            "sleep 1234.52 & sleep 1234.52; echo {}",
            ":::",
            "a",
            "b",
            "c",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Both workers' commands and their children are running.
    wait_until("four sleeps", || with_marker("1234.52").len() >= 4);
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let out = wait_bounded(&mut child, 60);
    assert_eq!(out.status.code(), Some(130));
    assert_eq!(with_marker("1234.52"), Vec::<u32>::new(), "processes left");
}

#[test]
fn the_parents_death_ends_every_command_group() {
    // A parent killed with SIGKILL cannot remove its spool folder: keep it
    // in this test's own folder.
    let tmp = temp_dir("run-parent-death");
    for serial in [false, true] {
        let mut child = mproc()
            .env("TMPDIR", tmp.path())
            .args(["run", if serial { "--serial" } else { "-j2" }])
            .args(["sleep 1234.53 & sleep 1234.53; echo {}", ":::", "a", "b"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let want = if serial { 2 } else { 4 };
        wait_until("the sleeps", || with_marker("1234.53").len() >= want);
        child.kill().unwrap();
        child.wait().unwrap();
        // Nobody waits for the watcher here, so wait for it (bounded).
        wait_until("no sleep left", || with_marker("1234.53").is_empty());
    }
}

#[test]
fn hostile_file_names_stay_one_argument() {
    let dir = temp_dir("run-quoting");
    let names = [
        "a b; touch pwned",
        "it's",
        "$(touch pwned2)",
        "-n",
        "star*",
        "new\nline",
    ];
    for (i, name) in names.iter().enumerate() {
        std::fs::write(dir.join(name), format!("{i}\n")).unwrap();
    }
    let mut args = vec!["run", "cat -- {} | tr 0-9 A-J; echo {.}.x", ":::"];
    args.extend(names);
    let r = output(mproc().current_dir(&dir).args(&args));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "A\na b; touch pwned.x\nB\nit's.x\nC\n$(touch pwned2).x\nD\n-n.x\nE\nstar*.x\nF\nnew\nline.x\n"
    );
    assert!(!dir.join("pwned").exists() && !dir.join("pwned2").exists());
    // Without a shell, the same names reach the program as they are.
    let mut args = vec!["run", "--no-shell", "cat", "--", ":::"];
    args.extend(names);
    let r = output(mproc().current_dir(&dir).args(&args));
    assert_eq!(r.stdout, "0\n1\n2\n3\n4\n5\n");
}

#[test]
fn inputs_come_from_stdin_files_and_nul_separated_streams() {
    let out = run_with_stdin(&["run", "-j", "2", "echo", "[{#}]", "{}"], b"x y\n\nz\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "[1] x y\n[2] \n[3] z\n"
    );

    let out = run_with_stdin(
        &["run", "-0", "--no-shell", "printf", "<%s>\\n"],
        b"two\nlines\0-n\0",
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "<two\nlines>\n<-n>\n");

    // Invalid UTF-8 reaches the command byte for byte.
    let out = run_with_stdin(&["run", "--no-shell", "printf", "%s|"], b"\xff\xfe\n");
    assert_eq!(out.stdout, b"\xff\xfe|");

    let dir = temp_dir("run-files-from");
    let list = dir.join("list");
    std::fs::write(&list, "p\nq\n").unwrap();
    let r = run_expect(
        &[
            "run",
            "-a",
            list.to_str().unwrap(),
            "echo $MPROC_SEQ$PARALLEL_SEQ {}",
        ],
        0,
    );
    assert_eq!(r.stdout, "11 p\n22 q\n");
}

#[test]
fn leading_dashes_are_inputs_not_flags() {
    let r = run_expect(
        &[
            "run",
            "-j2",
            "printf '[%s]\\n'",
            ":::",
            "-n",
            "--help",
            "-0",
        ],
        0,
    );
    assert_eq!(r.stdout, "[-n]\n[--help]\n[-0]\n");
}

#[test]
fn bad_commands_are_refused_before_anything_runs() {
    let r = run_expect(&["run", "echo {= s/a/b/ =}", ":::", "a"], 2);
    assert!(r.stderr.contains("no Perl"), "{}", r.stderr);
    let r = run_expect(&["run", "echo {..}", ":::", "a"], 2);
    assert!(
        r.stderr.contains("unknown replacement string {..}"),
        "{}",
        r.stderr
    );
    let r = run_expect(&["run", "echo", ":::+", "a"], 2);
    assert!(r.stderr.contains(":::+"), "{}", r.stderr);
    let r = run_expect(&["run", "-a", "/no/such/list", "echo"], 2);
    assert!(r.stderr.contains("/no/such/list"), "{}", r.stderr);
}

#[test]
fn results_writes_stdout_stderr_and_exit_per_item() {
    let dir = temp_dir("run-results");
    let results = dir.join("out");
    // mproc pool run: DIR/<seq>/, and the output printed too.
    let r = run(&[
        "pool",
        "run",
        "--results",
        results.to_str().unwrap(),
        "echo {}; echo e{} >&2; exit {}",
        ":::",
        "0",
        "4",
    ]);
    assert_eq!(r.code, 1);
    let read = |p: &str| std::fs::read_to_string(results.join(p)).unwrap();
    assert_eq!(read("1/stdout"), "0\n");
    assert_eq!(read("1/stderr"), "e0\n");
    assert_eq!(read("1/exit"), "0\n");
    assert_eq!(read("2/stdout"), "4\n");
    assert_eq!(read("2/exit"), "4\n");
    // The failed item's output is printed too, and its stderr logged.
    assert_eq!(r.stdout, "0\n4\n");
    assert!(r.stderr.contains("item 1 (4): e4"), "{}", r.stderr);
    // mproc run: GNU parallel's DIR/1/<arg>/, and nothing printed.
    let gnu = dir.join("gnu");
    let r = run(&[
        "run",
        "--results",
        gnu.to_str().unwrap(),
        "echo {}; exit {}",
        ":::",
        "0",
        "a/b",
    ]);
    assert_eq!((r.code, r.stdout.as_str()), (1, ""));
    let read = |p: &str| std::fs::read_to_string(gnu.join(p)).unwrap();
    assert_eq!(read("1/0/stdout"), "0\n");
    assert_eq!(read("1/0/seq"), "1");
    assert_eq!(read("1/a\\_b/seq"), "2");
}

#[test]
fn failed_exits_are_retried_only_with_retry_errors() {
    let dir = temp_dir("run-retries");
    let script = "if [ -e {}.seen ]; then echo second {}; else touch {}.seen; exit 1; fi";
    let r = output(mproc().current_dir(&dir).args([
        "pool",
        "--retries",
        "1",
        "--jsonl",
        "run",
        script,
        ":::",
        "a",
    ]));
    assert_eq!(r.code, 1);
    assert_eq!(r.json_lines()[0]["attempts"], 1);
    std::fs::remove_file(dir.join("a.seen")).unwrap();
    let r = output(mproc().current_dir(&dir).args([
        "pool",
        "--retries",
        "1",
        "--retry-errors",
        "--jsonl",
        "run",
        script,
        ":::",
        "a",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = &r.json_lines()[0];
    assert_eq!(line["attempts"], 2);
    assert_eq!(line["stdout"], "second a\n");
    // mproc run: GNU parallel's --retries N, N tries in all.
    std::fs::remove_file(dir.join("a.seen")).unwrap();
    let r = output(
        mproc()
            .current_dir(&dir)
            .args(["run", "--retries", "2", script, ":::", "a"]),
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "second a\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn resume_runs_only_what_failed_keyed_on_the_input() {
    let dir = temp_dir("run-resume");
    let log = dir.join("jobs.log");
    let log = log.to_str().unwrap();
    // `b c` fails until `ok` exists.
    let script = "[ {} != 'b c' ] || [ -e ok ] && echo ran {}";
    let args = |flag: &'static str| ["pool", flag, log, "run", script, ":::", "a", "b c", "d"];
    let r = output(mproc().current_dir(&dir).args(args("--joblog")));
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "ran a\nran d\n");
    std::fs::write(dir.join("ok"), "").unwrap();
    let r = output(mproc().current_dir(&dir).args(args("--resume")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "ran b c\n");
    let text = std::fs::read_to_string(dir.join("jobs.log")).unwrap();
    assert!(text.contains("\tb c\t"), "{text}");
}

#[test]
fn large_output_is_spooled_printed_whole_and_cut_in_json() {
    let size = 6 << 20;
    let command = format!("head -c {size} /dev/zero | tr '\\0' x; echo {{}} >/dev/null");
    // The spool folder goes in TMPDIR, and is gone with the run.
    let tmp = temp_dir("run-spool");
    let r = output(
        mproc()
            .env("TMPDIR", tmp.path())
            .args(["run", &command, ":::", "a"]),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.len(), size);
    assert!(r.stdout.bytes().all(|b| b == b'x'));
    let r = output(
        mproc()
            .env("TMPDIR", tmp.path())
            .args(["run", "--json", &command, ":::", "a"]),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let stdout = r.json()["results"][0]["stdout"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        stdout.ends_with(&format!("[mproc: cut at 1048576 of {size} bytes]")),
        "{}",
        &stdout[stdout.len() - 60..]
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn commands_do_not_inherit_the_workers_ignored_sigint() {
    let r = run_expect(
        &[
            "run",
            "-j",
            "1",
            "grep",
            "SigIgn",
            ":::",
            "/proc/self/status",
        ],
        0,
    );
    let mask = r.stdout.trim().strip_prefix("SigIgn:").unwrap().trim();
    let mask = u64::from_str_radix(mask, 16).unwrap();
    assert_eq!(mask & (1 << (libc_sigint() - 1)), 0, "{}", r.stdout);
}

fn libc_sigint() -> i32 {
    Signal::SIGINT as i32
}

#[test]
fn pass_stderr_lets_stderr_through_as_the_workers() {
    let r = run_expect(
        &[
            "run",
            "-j",
            "1",
            "--pass-stderr",
            "echo e{} >&2",
            ":::",
            "1",
        ],
        0,
    );
    assert!(r.stderr.contains("] e1"), "{}", r.stderr);
    assert!(!r.stderr.contains("item 0 (1)"), "{}", r.stderr);
    // Local worker slots from --hosts run commands the same way.
    let r = run_expect(
        &[
            "run",
            "--hosts",
            ":2",
            "echo {} $MPROC_SEQ",
            ":::",
            "a",
            "b",
        ],
        0,
    );
    assert_eq!(r.stdout, "a 1\nb 2\n");
}

#[test]
fn pool_run_is_the_same_job() {
    let r = run_expect(&["pool", "-n", "2", "run", "echo", ":::", "a"], 0);
    assert_eq!(r.stdout, "a\n");
}

/// `-q` before `run` is mproc's quiet log; after it, GNU parallel's
/// `--quote` (the command's words are the program and its arguments).
#[test]
fn a_global_quiet_before_run_does_not_quote_the_command() {
    let r = run_expect(&["-q", "run", "-j", "1", "echo {} done", ":::", "x"], 0);
    assert_eq!(r.stdout, "x done\n", "{}", r.stderr);
    assert_eq!(r.stderr, "");
    // Quoted, `echo {} done` is one word: no such command.
    let r = run(&["run", "-q", "-j", "1", "echo {} done", ":::", "x"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("command not found"), "{}", r.stderr);
    let r = run_expect(&["run", "-q", "-j", "1", "echo", "{} done", ":::", "x"], 0);
    assert_eq!(r.stdout, "x done\n", "{}", r.stderr);
}
