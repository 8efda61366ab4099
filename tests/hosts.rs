//! Records name their host, as the job log does: `--jsonl` and `--json`
//! records (and their earlier attempts), the trace's item events and the
//! timeline's tooltips. The "other host" is reached through a stand-in for
//! ssh that runs the worker command here, so the test needs no sshd; the
//! real ssh path is `distributed.rs`'s.

use std::path::Path;

use serde_json::Value;

use crate::support::*;

/// A stand-in for ssh: drops its options and the host (after `--`) and
/// runs the rest here.
fn fake_ssh(path: &Path) {
    executable(
        path,
        "#!/bin/sh\nwhile [ \"$1\" != \"--\" ]; do shift; done\nshift 2\nexec \"$@\"\n",
    );
}

#[test]
fn json_records_the_trace_and_the_timeline_name_the_host() {
    let dir = temp_dir("hosts");
    let ssh = dir.join("fake-ssh");
    fake_ssh(&ssh);
    let (trace, svg, log) = (dir.join("t.json"), dir.join("t.svg"), dir.join("jobs.tsv"));
    let args = [
        "-q",
        "pool",
        "--hosts",
        "node7:2",
        "--ssh",
        ssh.to_str().unwrap(),
        "--worker-path",
        MPROC,
        "--retries",
        "1",
        "--jsonl",
        "--trace",
        trace.to_str().unwrap(),
        "--timeline",
        svg.to_str().unwrap(),
        "--joblog",
        log.to_str().unwrap(),
        "chaos",
        "ok:a",
        "kill",
        "ok:b",
    ];
    let r = run_expect(&args, 1);
    let records: Vec<Value> = r
        .json_lines()
        .into_iter()
        .filter(|l| l.get("index").is_some())
        .collect();
    assert_eq!(records.len(), 3, "{}", r.stdout);
    for record in &records {
        assert_eq!(record["host"], "node7", "{record}");
    }
    // The killed item was retried: its earlier attempt names its host too.
    let killed = &records.iter().find(|r| r["input"] == "kill").unwrap();
    let earlier = killed["earlier_attempts"].as_array().unwrap();
    assert!(!earlier.is_empty(), "{killed}");
    assert!(earlier.iter().all(|a| a["host"] == "node7"), "{killed}");
    // The trace's item events.
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap();
    let items: Vec<&Value> = doc["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "X")
        .collect();
    assert!(items.len() >= 4, "{items:?}");
    assert!(
        items.iter().all(|e| e["args"]["host"] == "node7"),
        "{items:?}"
    );
    // The timeline's tooltips.
    let picture = std::fs::read_to_string(&svg).unwrap();
    let tooltips: Vec<&str> = picture
        .split("<title>item ")
        .skip(1)
        .map(|t| t.split("</title>").next().unwrap_or(""))
        .collect();
    assert!(tooltips.len() >= 4, "{tooltips:?}");
    for tooltip in &tooltips {
        assert!(
            tooltip
                .lines()
                .any(|l| l.starts_with("worker ") && l.ends_with(" · on node7")),
            "{tooltip}"
        );
    }
    // As the job log has it.
    let rows = std::fs::read_to_string(&log).unwrap();
    assert!(
        rows.lines().skip(1).all(|l| l.ends_with("\tnode7")),
        "{rows}"
    );
}

#[test]
fn a_local_record_has_a_null_host() {
    let r = run_expect(&["-q", "pool", "-n", "1", "--json", "square", "2"], 0);
    for record in r.json()["results"].as_array().unwrap() {
        assert_eq!(record["host"], Value::Null, "{record}");
        assert!(record.as_object().unwrap().contains_key("host"));
    }
}
