//! `mproc pool`: ordering, outcomes, crash survival, logs and output forms.

use std::collections::HashSet;

use serde_json::Value;

use crate::support::*;

fn results(doc: &Value) -> &Vec<Value> {
    doc["results"].as_array().expect("results array")
}

#[test]
fn square_prints_the_python_list() {
    let r = run_expect(&["-q", "pool", "-n", "3", "square", "11"], 0);
    assert_eq!(r.stdout, "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81, 100]\n");
    assert_eq!(r.stderr, "");
}

#[test]
fn each_worker_logs_through_the_parent_with_index_and_pid() {
    let r = run_expect(&["pool", "-n", "3", "square", "11"], 0);
    let lines: Vec<&str> = r.stderr.lines().filter(|l| l.contains("Input ")).collect();
    assert_eq!(lines.len(), 11, "{}", r.stderr);
    for line in lines {
        // " INFO [worker 1 pid 123] Input 4 in process 123"
        let pid = line
            .split("pid ")
            .nth(1)
            .unwrap()
            .split(']')
            .next()
            .unwrap();
        assert!(line.contains("[worker "), "{line}");
        assert!(line.ends_with(&format!("in process {pid}")), "{line}");
    }
}

#[test]
fn order_holds_under_random_durations_in_every_mode() {
    let mut rng = mproc_cli::rng::Rng::new(42);
    let actions: Vec<String> = (0..24)
        .map(|_| format!("sleep:{}", rng.below(30)))
        .collect();
    for mode in ["map", "imap", "async"] {
        let mut args = vec!["-q", "pool", "-n", "3", "--json", "--mode", mode, "chaos"];
        args.extend(actions.iter().map(String::as_str));
        let doc = run_expect(&args, 0).json();
        let got: Vec<&str> = results(&doc)
            .iter()
            .map(|r| r["input"].as_str().unwrap())
            .collect();
        assert_eq!(
            got,
            actions.iter().map(String::as_str).collect::<Vec<_>>(),
            "mode {mode}"
        );
        let indexes: Vec<u64> = results(&doc)
            .iter()
            .map(|r| r["index"].as_u64().unwrap())
            .collect();
        assert_eq!(indexes, (0..24).collect::<Vec<_>>());
    }
    // imap-unordered: every item exactly once, in whatever order.
    let mut args = vec![
        "-q",
        "pool",
        "-n",
        "3",
        "--json",
        "--mode",
        "imap-unordered",
        "chaos",
    ];
    args.extend(actions.iter().map(String::as_str));
    let doc = run_expect(&args, 0).json();
    let mut seen: Vec<u64> = results(&doc)
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..24).collect::<Vec<_>>());
}

#[test]
fn workers_are_distinct_processes() {
    let doc = run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "3",
            "--json",
            "chaos",
            "sleep:100",
            "sleep:100",
            "sleep:100",
            "sleep:100",
            "sleep:100",
            "sleep:100",
        ],
        0,
    )
    .json();
    let pids: HashSet<u64> = results(&doc)
        .iter()
        .map(|r| r["pid"].as_u64().unwrap())
        .collect();
    assert_eq!(pids.len(), 3, "{doc}");
    assert!(!pids.contains(&u64::from(std::process::id())));
    let workers: HashSet<u64> = results(&doc)
        .iter()
        .map(|r| r["worker"].as_u64().unwrap())
        .collect();
    assert_eq!(workers, HashSet::from([0, 1, 2]));
}

#[test]
fn every_kind_of_failure_is_an_outcome_and_the_map_goes_on() {
    let r = run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "2",
            "--json",
            "chaos",
            "ok:a",
            "fail:bad row",
            "panic:boom",
            "exit:7",
            "segv",
            "abort",
            "kill",
            "ok:z",
        ],
        1,
    );
    let doc = r.json();
    let rs = results(&doc);
    let outcome = |i: usize| rs[i]["outcome"].as_str().unwrap();
    let error = |i: usize| rs[i]["error"].as_str().unwrap_or("");
    assert_eq!(outcome(0), "ok");
    assert_eq!(rs[0]["value"], "a");
    assert_eq!((outcome(1), error(1)), ("failed", "bad row"));
    assert_eq!(outcome(2), "panicked");
    assert!(
        error(2).contains("boom") && error(2).contains("chaos.rs"),
        "{}",
        error(2)
    );
    assert_eq!(outcome(3), "crashed");
    assert!(error(3).contains("exit code 7"), "{}", error(3));
    assert!(error(4).contains("SIGSEGV"), "{}", error(4));
    assert!(error(5).contains("SIGABRT"), "{}", error(5));
    assert!(error(6).contains("SIGKILL"), "{}", error(6));
    assert_eq!(outcome(7), "ok");
    let s = &doc["summary"];
    assert_eq!(
        (s["total"].as_u64(), s["ok"].as_u64(), s["failed"].as_u64()),
        (Some(8), Some(2), Some(1))
    );
    assert_eq!(
        (s["panicked"].as_u64(), s["crashed"].as_u64()),
        (Some(1), Some(4))
    );
}

#[test]
fn a_job_that_prints_cannot_corrupt_the_result_stream() {
    let r = run_expect(
        &[
            "pool",
            "-n",
            "2",
            "--json",
            "chaos",
            "print:300000",
            "eprint:300000",
            "ok:after",
            "print:10",
        ],
        0,
    );
    let doc = r.json();
    assert_eq!(results(&doc)[2]["value"], "after");
    // What the job printed shows up in the log, tagged with its worker.
    let printed = r
        .stderr
        .lines()
        .filter(|l| l.contains("[worker ") && l.ends_with("xxxxx"))
        .count();
    assert!(
        printed >= 6000,
        "only {printed} printed lines reached the log"
    );
}

#[test]
fn a_worker_killed_from_outside_mid_map_crashes_only_its_item() {
    let dir = temp_dir("sigkill");
    let pidfile = dir.join("pid");
    let hang = format!("hang:{}", pidfile.display());
    let mut child = mproc()
        .args([
            "-q", "pool", "-n", "2", "--json", "chaos", "sleep:10", &hang, "sleep:10", "ok:x",
            "ok:y", "sleep:20", "ok:z",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid: i32 = wait_for_file(&pidfile).trim().parse().unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let r: Run = wait_bounded(&mut child, 300).into();
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    let rs = results(&doc);
    assert_eq!(rs.len(), 7);
    assert_eq!(rs[1]["outcome"], "crashed");
    assert!(
        rs[1]["error"].as_str().unwrap().contains("signal 9"),
        "{}",
        rs[1]
    );
    assert_eq!(rs[1]["pid"], pid);
    for i in [0, 2, 3, 4, 5, 6] {
        assert_eq!(rs[i]["outcome"], "ok", "item {i}: {}", rs[i]);
    }
}

#[test]
fn maxtasksperchild_gives_each_item_a_fresh_process() {
    let doc = run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "2",
            "--maxtasksperchild",
            "1",
            "--json",
            "square",
            "8",
        ],
        0,
    )
    .json();
    let pids: HashSet<u64> = results(&doc)
        .iter()
        .map(|r| r["pid"].as_u64().unwrap())
        .collect();
    assert_eq!(pids.len(), 8);
    let values: Vec<u64> = results(&doc)
        .iter()
        .map(|r| r["value"].as_u64().unwrap())
        .collect();
    assert_eq!(values, (0..8).map(|x| x * x).collect::<Vec<_>>());
}

#[test]
fn chunksize_keeps_results_in_order() {
    let doc = run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "2",
            "--chunksize",
            "7",
            "--json",
            "square",
            "100",
        ],
        0,
    )
    .json();
    let values: Vec<u64> = results(&doc)
        .iter()
        .map(|r| r["value"].as_u64().unwrap())
        .collect();
    assert_eq!(values, (0..100).map(|x| x * x).collect::<Vec<_>>());
}

#[test]
fn jsonl_streams_one_record_per_item_then_a_summary() {
    let lines = run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "2",
            "--jsonl",
            "--mode",
            "imap-unordered",
            "square",
            "20",
        ],
        0,
    )
    .json_lines();
    assert_eq!(lines.len(), 21);
    let mut indexes: Vec<u64> = lines[..20]
        .iter()
        .map(|l| l["index"].as_u64().unwrap())
        .collect();
    indexes.sort_unstable();
    assert_eq!(indexes, (0..20).collect::<Vec<_>>());
    for l in &lines[..20] {
        let i = l["index"].as_u64().unwrap();
        assert_eq!(l["input"].as_u64(), Some(i));
        assert_eq!(l["value"].as_u64(), Some(i * i));
        for field in [
            "outcome",
            "worker",
            "pid",
            "attempts",
            "started_ms",
            "elapsed_ms",
        ] {
            assert!(l.get(field).is_some(), "missing {field} in {l}");
        }
    }
    assert_eq!(lines[20]["summary"]["ok"], 20);
}

#[test]
fn load_demo_reports_each_process_and_the_total() {
    let r = run_expect(&["pool", "-n", "2", "load", "--total", "100000"], 0);
    let rows: Vec<&str> = r.stdout.lines().collect();
    assert!(
        rows[0].contains("pid") && rows[0].contains("draws") && rows[0].contains("sum"),
        "{}",
        r.stdout
    );
    assert!(
        rows.iter()
            .any(|l| l.trim_start().starts_with("total") && l.contains("100000")),
        "{}",
        r.stdout
    );
    assert!(
        rows.last().unwrap().contains("with 2 processes"),
        "{}",
        r.stdout
    );
    let doc = run_expect(
        &[
            "-q", "pool", "-n", "2", "--json", "load", "--total", "1001", "--parts", "4",
        ],
        0,
    )
    .json();
    let counts: Vec<u64> = results(&doc)
        .iter()
        .map(|r| r["count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, vec![251, 250, 250, 250]);
    for r in results(&doc) {
        let (sum, count) = (r["sum"].as_f64().unwrap(), r["count"].as_f64().unwrap());
        assert!(sum > 0.0 && sum < count, "{r}");
    }
}

#[test]
fn a_hung_item_times_out_and_a_crashed_one_is_retried() {
    let dir = temp_dir("retry");
    let flaky = format!("flaky:{}", dir.join("once").display());
    let doc = run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "2",
            "--timeout",
            "0.5",
            "--retries",
            "1",
            "--json",
            "chaos",
            "hang",
            &flaky,
            "ok:a",
        ],
        1,
    )
    .json();
    let rs = results(&doc);
    assert_eq!(rs[0]["outcome"], "timed_out");
    assert_eq!(rs[0]["attempts"], 2);
    assert_eq!(rs[1]["outcome"], "ok");
    assert_eq!(rs[1]["value"], "second try");
    assert_eq!(rs[1]["attempts"], 2);
    assert_eq!(rs[2]["attempts"], 1);
}

#[test]
fn quiet_silences_worker_logs() {
    let r = run_expect(&["-q", "pool", "-n", "2", "square", "5"], 0);
    assert_eq!(r.stderr, "");
}

#[test]
fn json_log_lines_mark_worker_and_parent() {
    let r = run_expect(
        &[
            "--log-format",
            "json",
            "pool",
            "-n",
            "2",
            "chaos",
            "log:hi there",
            "fail:nope",
        ],
        1,
    );
    let lines: Vec<Value> = r
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let worker = lines
        .iter()
        .find(|l| l["message"] == "hi there")
        .expect("worker line");
    assert_eq!(worker["role"], "worker");
    assert!(worker["worker"].is_u64() && worker["pid"].is_u64());
    let parent = lines
        .iter()
        .find(|l| l["role"] == "parent")
        .expect("parent line");
    assert!(parent["pid"].is_u64() && parent.get("worker").is_none());
    assert_ne!(parent["pid"], worker["pid"]);
    assert!(parent["message"].as_str().unwrap().contains("nope"));
}
