//! Command-line surface: cpu-count, usage errors, exit codes.

use crate::support::*;

#[test]
fn cpu_count_prints_a_positive_number_and_honours_the_override() {
    let r = run_expect(&["cpu-count"], 0);
    let n: usize = r.stdout.trim().parse().unwrap();
    assert!(n >= 1);
    let r: Run = mproc()
        .args(["cpu-count"])
        .env("MPROC_CPU_COUNT", "5")
        .output()
        .unwrap()
        .into();
    assert_eq!(r.stdout, "5\n");
    let r: Run = mproc()
        .args(["cpu-count", "--json"])
        .env("MPROC_CPU_COUNT", "5")
        .output()
        .unwrap()
        .into();
    let doc = r.json();
    assert_eq!(
        (doc["usable"].as_u64(), doc["decided_by"].as_str()),
        (Some(5), Some("override"))
    );
    assert!(doc["logical"].as_u64().unwrap() >= 1);
    let r = run_expect(&["cpu-count", "--verbose"], 0);
    for key in [
        "usable:",
        "decided by:",
        "logical:",
        "physical:",
        "affinity:",
        "quota:",
        "override:",
    ] {
        assert!(r.stdout.contains(key), "{key} missing in\n{}", r.stdout);
    }
}

#[test]
fn a_bad_override_is_a_one_line_error() {
    let r: Run = mproc()
        .args(["cpu-count"])
        .env("MPROC_CPU_COUNT", "lots")
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("MPROC_CPU_COUNT"));
}

#[test]
fn the_pool_uses_the_cpu_count_by_default() {
    let r: Run = mproc()
        .args([
            "-q", "pool", "--json", "chaos", "sleep:50", "sleep:50", "sleep:50", "sleep:50",
            "sleep:50", "sleep:50",
        ])
        .env("MPROC_CPU_COUNT", "3")
        .output()
        .unwrap()
        .into();
    assert_eq!(r.json()["summary"]["processes"], 3);
}

#[test]
fn usage_errors_are_one_line_name_the_flag_and_exit_2() {
    for (args, needle) in [
        (vec!["pool", "-n", "0", "square", "3"], "--processes"),
        (vec!["pool", "-n", "three", "square", "3"], "--processes"),
        (vec!["pool", "--mode", "fast", "square", "3"], "--mode"),
        (vec!["pool", "cube", "3"], "cube"),
        (
            vec!["pool", "--chunksize", "0", "square", "3"],
            "--chunksize",
        ),
        (vec!["pool", "--timeout", "0", "square", "3"], "--timeout"),
    ] {
        let r = run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(r.stdout, "");
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.starts_with("mproc: "), "{}", r.stderr);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
    }
}

#[test]
fn help_and_version_exit_0() {
    let r = run_expect(&["--help"], 0);
    assert!(r.stdout.contains("pool") && r.stdout.contains("cpu-count"));
    assert!(
        !r.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("worker")),
        "the worker subcommand is hidden"
    );
    let r = run_expect(&["--version"], 0);
    assert!(r.stdout.starts_with("mproc "));
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    use std::io::Read;
    let mut child = mproc()
        .args(["-q", "pool", "-n", "2", "--jsonl", "square", "20000"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 10];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn completions_for_every_shell_and_a_man_page() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let r = run_expect(&["completions", shell], 0);
        assert!(
            r.stdout.contains("mproc") && r.stdout.contains("pool"),
            "{shell}"
        );
    }
    let r = run_expect(&["man"], 0);
    assert!(r.stdout.contains(".TH mproc 1"));
    assert!(r.stdout.contains("cpu\\-count") || r.stdout.contains("cpu-count"));
    let r = run(&["completions", "tcsh"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("tcsh"));
}
