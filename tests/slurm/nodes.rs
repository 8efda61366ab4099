//! Three Slurm nodes (d1, d2, d3, all on this host): workers spread over
//! every node of an allocation and every record names its node; a node
//! that dies mid-run is left out and the others finish the work; a batch
//! job cancelled as at its time limit resumes from its job log.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Child;

use serde_json::Value;

use super::{finished, values, Cluster};
use crate::support::*;

/// How many rows of a job log name each host.
fn rows_per_host(log: &Path) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(log).unwrap();
    let mut per = BTreeMap::new();
    for row in text.lines().skip(1) {
        let host = row.rsplit('\t').next().unwrap().to_string();
        *per.entry(host).or_default() += 1;
    }
    per
}

#[test]
fn an_allocation_of_three_nodes_runs_workers_on_each_and_every_record_names_its_node() {
    let Some(cluster) = Cluster::three() else {
        return;
    };
    let path = |name: &str| cluster.dir.join(name).display().to_string();
    let (log, svg, trace) = (path("jobs.tsv"), path("run.svg"), path("trace.json"));
    let mut salloc = cluster.salloc_with(
        &["-N", "3", "-n", "6"],
        &[
            "-q",
            "pool",
            "--slurm",
            "--joblog",
            &log,
            "--timeline",
            &svg,
            "--trace",
            &trace,
            "--json",
            "square",
            "60",
        ],
    );
    let doc = finished(&mut salloc, 120, 0).json();
    assert_eq!(values(&doc), (0..60).map(|x| x * x).collect::<Vec<_>>());
    assert_eq!(
        doc["summary"]["processes"], 6,
        "-n defaults to SLURM_NTASKS"
    );

    // --json: each record names the node its worker ran on, and the slots
    // are dealt to the nodes in turn, two to each.
    let mut slots: BTreeMap<u64, String> = BTreeMap::new();
    for r in doc["results"].as_array().unwrap() {
        let host = r["host"]
            .as_str()
            .unwrap_or_else(|| panic!("no host in {r}"));
        let worker = r["worker"].as_u64().unwrap();
        let before = slots.insert(worker, host.to_string());
        assert!(
            before.is_none_or(|h| h == host),
            "worker {worker} moved: {r}"
        );
    }
    let nodes: Vec<&str> = slots.values().map(String::as_str).collect();
    assert_eq!(nodes, ["d1", "d2", "d3", "d1", "d2", "d3"], "{slots:?}");

    // The job log's host column, the timeline's lanes and the trace's
    // processes name them too.
    let per = rows_per_host(Path::new(&log));
    assert_eq!(
        per.keys().collect::<Vec<_>>(),
        ["d1", "d2", "d3"],
        "{per:?}"
    );
    assert_eq!(per.values().sum::<usize>(), 60);
    let svg = std::fs::read_to_string(&svg).unwrap();
    let trace: Value = serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap();
    let names: Vec<&str> = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == "process_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    for (lane, node) in nodes.iter().enumerate() {
        let label = format!("worker {lane} · {node} · pid");
        assert!(svg.contains(&label), "no lane labelled {label:?}");
        let process = format!(" on {node}");
        assert!(
            names
                .iter()
                .any(|n| n.starts_with(&format!("worker {lane} ")) && n.ends_with(&process)),
            "no trace process for worker {lane} on {node}: {names:?}"
        );
    }
}

#[test]
fn a_node_killed_mid_run_is_left_out_and_the_other_nodes_finish_every_item() {
    let Some(mut cluster) = Cluster::three() else {
        return;
    };
    let path = |name: &str| cluster.dir.join(name);
    let (log, mproc_log, go) = (path("jobs.tsv"), path("mproc.log"), path("go"));
    // Items of 300 ms, and one that waits until the test has seen d2 left
    // out, so the run lasts until then.
    let wait = format!("wait:{}", go.display());
    let mut items = vec!["sleep:300"; 40];
    items.push(&wait);
    let (log_arg, mproc_log_arg) = (log.display().to_string(), mproc_log.display().to_string());
    let mut args = vec![
        "--log-file",
        &mproc_log_arg,
        "pool",
        "--slurm",
        "--retries",
        "2",
        "--joblog",
        &log_arg,
        "--json",
        "chaos",
    ];
    args.extend(&items);
    let mut salloc: Child = cluster.salloc_with(&["-N", "3", "-n", "6", "--no-kill"], &args);
    wait_long("an item done on d2", 60, || {
        text(&log).lines().any(|l| l.ends_with("\td2"))
    });
    let tasks = cluster.kill_node("d2");
    assert!(!tasks.is_empty(), "no worker ran on d2");
    wait_long("d2 to be left out", 120, || {
        text(&mproc_log).contains("leaving out d2")
    });
    std::fs::write(&go, "go").unwrap();
    let doc = finished(&mut salloc, 120, 0).json();
    let logged = text(&mproc_log);
    assert_eq!(logged.matches("leaving out").count(), 1, "{logged}");
    assert!(logged.contains("failed to start"), "{logged}");

    // Every item ended ok; those that were running on d2 when it died
    // crashed there and ran again on d1 or d3.
    assert_eq!(outcomes(&doc), vec!["ok"; items.len()], "{logged}");
    let rows = text(&log);
    let retried: Vec<&Value> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["attempts"].as_u64() > Some(1))
        .collect();
    assert!(!retried.is_empty(), "no item was running on d2:\n{rows}");
    for r in &retried {
        assert!(r["host"] == "d1" || r["host"] == "d3", "{r}");
        let earlier = r["earlier_attempts"].as_array().unwrap();
        assert_eq!(earlier[0]["outcome"], "crashed", "{r}");
        assert_eq!(earlier[0]["host"], "d2", "{r}");
    }
    // The job log has a row per attempt, each naming its node; after the
    // kill no new worker ran anything on d2.
    let index = |l: &str| l.split('\t').next().unwrap().parse::<usize>().unwrap();
    let crashed: Vec<&str> = rows.lines().filter(|l| l.contains("\tcrashed\t")).collect();
    assert_eq!(crashed.len(), retried.len(), "{rows}");
    assert!(crashed.iter().all(|l| l.ends_with("\td2")), "{rows}");
    let ok_on_d2: std::collections::BTreeSet<&str> = rows
        .lines()
        .filter(|l| l.ends_with("\td2"))
        .map(|l| l.split('\t').nth(3).unwrap())
        .collect();
    assert!(ok_on_d2.len() <= 2, "pids on d2: {ok_on_d2:?}\n{rows}");
    let mut done: Vec<usize> = rows
        .lines()
        .skip(1)
        .filter(|l| l.contains("\tok\t"))
        .map(index)
        .collect();
    done.sort();
    assert_eq!(done, (0..items.len()).collect::<Vec<_>>(), "{rows}");
}

/// The last row of each item in a job log, by index: (outcome, host).
fn last_rows(log: &Path) -> BTreeMap<usize, (String, String)> {
    let mut last = BTreeMap::new();
    for row in text(log).lines().skip(1) {
        let fields: Vec<&str> = row.split('\t').collect();
        let index = fields[0].parse().unwrap();
        last.insert(index, (fields[7].to_string(), fields[9].to_string()));
    }
    last
}

/// The JSON lines of `path` from line `from` on, without the summary.
fn records(path: &Path, from: usize) -> Vec<Value> {
    text(path)
        .lines()
        .skip(from)
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r.get("summary").is_none())
        .collect()
}

#[test]
fn a_batch_job_cancelled_with_sigterm_leaves_a_complete_job_log_and_resumes_where_it_stopped() {
    let Some(cluster) = Cluster::three() else {
        return;
    };
    let path = |name: &str| cluster.dir.join(name);
    let (log, out, go, script) = (
        path("jobs.tsv"),
        path("out.jsonl"),
        path("go"),
        path("job.sh"),
    );
    // 20 items that end at once, and 6 that wait for a file the test
    // creates only before the second job: the first is cancelled while
    // they run.
    let wait = format!("wait:{}", go.display());
    let mut items: Vec<String> = (0..20).map(|i| format!("ok:{i}")).collect();
    items.extend(std::iter::repeat_n(wait, 6));
    // The script of docs/DISTRIBUTED.md: `exec`, so that mproc is the
    // batch step's process and gets its signals; the same command line
    // starts and resumes.
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec {MPROC} pool --slurm --resume {} --jsonl chaos {} >> {}\n",
            log.display(),
            items.join(" "),
            out.display()
        ),
    )
    .unwrap();
    let sbatch = |err: &str, wait: bool| {
        let err = format!("--error={}", path(err).display());
        let script = script.display().to_string();
        let mut args = vec!["sbatch", "--parsable", "-N", "3", "-n", "6", "--time=5"];
        args.extend(["--output=/dev/null", &err]);
        if wait {
            args.push("--wait");
        }
        args.push(&script);
        cluster.client(&args, 120)
    };
    let first = sbatch("first.err", false);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let job = first.stdout.trim().to_string();
    wait_long("the 20 quick items in the job log", 60, || {
        text(&log).matches("\tok\t").count() == 20
    });
    // As at the time limit: SIGTERM to the batch shell (mproc) and to
    // every step (its workers).
    let cancel = cluster.client(&["scancel", "--signal=TERM", "--full", &job], 30);
    assert_eq!(cancel.code, 0, "{}", cancel.stderr);
    wait_long("the job to end", 60, || {
        cluster
            .client(&["squeue", "-h", "-j", &job], 10)
            .stdout
            .trim()
            .is_empty()
    });
    let logged = text(&path("first.err"));
    assert!(logged.contains("received SIGTERM"), "{logged}");

    // The job log is complete: a last row for every item, the waiting ones
    // not ok; the JSON lines too.
    let last = last_rows(&log);
    assert_eq!(last.len(), items.len(), "{}\n{logged}", text(&log));
    for (index, (outcome, host)) in &last {
        assert_eq!(
            outcome == "ok",
            *index < 20,
            "item {index}: {outcome}\n{logged}"
        );
        // Where it ran, or `-` for an item the stop found still queued.
        let never_ran = outcome == "not_run" && host == "-";
        assert!(
            never_ran || ["d1", "d2", "d3"].contains(&host.as_str()),
            "item {index}: {outcome} on {host}"
        );
    }
    let printed = records(&out, 0);
    assert_eq!(printed.len(), items.len(), "{}", text(&out));
    let printed_lines = text(&out).lines().count();

    // Resubmitted, the same script runs only what is left.
    std::fs::write(&go, "go").unwrap();
    let second = sbatch("second.err", true);
    let logged = text(&path("second.err"));
    assert_eq!(second.code, 0, "{}\n{logged}", second.stderr);
    assert!(logged.contains("running 6 of 26 items"), "{logged}");
    let again: Vec<u64> = records(&out, printed_lines)
        .iter()
        .map(|r| {
            assert_eq!(r["outcome"], "ok", "{r}");
            r["index"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(again, (20..26).collect::<Vec<_>>());
    assert!(last_rows(&log).values().all(|(outcome, _)| outcome == "ok"));
}
