//! `--concurrency K`: K items at once in a worker, taken from any chunk,
//! even when the whole input is one chunk; and a worker that dies while K
//! items run reports each item once, with what it was doing.

use std::collections::HashSet;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

use crate::support::*;

fn results(doc: &Value) -> &Vec<Value> {
    doc["results"].as_array().expect("results array")
}

/// A command that registers itself in DIR, then waits until N have (at
/// most about 20 s, then exits 7): it ends ok only if N such commands
/// ran at once.
const BARRIER: &str = r#"touch "$1/in.$3"
i=0
while [ "$(ls "$1" | grep -c '^in\.')" -lt "$2" ]; do
  i=$((i+1))
  [ "$i" -gt 2000 ] && exit 7
  sleep 0.01
done
echo "passed $3"
"#;

/// Runs 20 barrier commands as one chunk on `workers` workers of
/// `concurrency` threads, the barrier waiting for 4: the pids that ran
/// them, once every command passed it.
#[track_caller]
fn barrier_of_four(name: &str, workers: &str, concurrency: &str) -> HashSet<u64> {
    let dir = temp_dir(name);
    let script = dir.join("barrier.sh");
    std::fs::write(&script, BARRIER).unwrap();
    let seen = dir.join("seen");
    std::fs::create_dir(&seen).unwrap();
    let command = format!("sh {} {} 4 {{}}", script.display(), seen.display());
    let inputs: Vec<String> = (1..=20).map(|i| i.to_string()).collect();
    let mut args = vec![
        "run",
        "-j",
        workers,
        "--concurrency",
        concurrency,
        "--chunksize",
        "20",
        "--json",
        &command,
        ":::",
    ];
    args.extend(inputs.iter().map(String::as_str));
    let r = run_expect(&args, 0);
    let doc = r.json();
    assert_eq!(outcomes(&doc), ["ok"; 20], "{}", r.stdout);
    results(&doc)
        .iter()
        .map(|x| x["pid"].as_u64().unwrap())
        .collect()
}

#[test]
fn four_items_of_one_chunk_run_at_once_in_one_worker() {
    // Every command passed the barrier: the first four were running
    // together (one worker, one chunk of 20).
    let pids = barrier_of_four("conc-barrier", "1", "4");
    assert_eq!(pids.len(), 1, "one worker ran them all: {pids:?}");
}

#[test]
fn a_chunk_held_by_one_worker_is_shared_with_an_idle_one() {
    // One chunk of 20 goes to one worker of two threads; the other
    // worker idles until it is given the chunk's unstarted tail, and
    // only then can four run at once.
    let pids = barrier_of_four("conc-barrier-2", "2", "2");
    assert_eq!(pids.len(), 2, "both workers ran some: {pids:?}");
}

#[test]
fn a_worker_killed_while_four_items_run_reports_each_item_once() {
    let dir = temp_dir("conc-kill");
    let hangs: Vec<String> = (1..=4)
        .map(|i| format!("hang:{}", dir.join(format!("h{i}")).display()))
        .collect();
    // Two items end at once, then four hang (all four threads), then
    // fourteen never start before the kill.
    let mut args = vec![
        "-q",
        "pool",
        "-n",
        "1",
        "--concurrency",
        "4",
        "--chunksize",
        "20",
        "--json",
        "chaos",
        "ok:a",
        "ok:b",
    ];
    args.extend(hangs.iter().map(String::as_str));
    let rest: Vec<String> = (0..14).map(|i| format!("ok:r{i}")).collect();
    args.extend(rest.iter().map(String::as_str));
    let mut child = mproc()
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pids: HashSet<String> = (1..=4)
        .map(|i| wait_for_file(&dir.join(format!("h{i}"))).trim().to_string())
        .collect();
    assert_eq!(pids.len(), 1, "one worker runs the four at once: {pids:?}");
    let pid: i32 = pids.iter().next().unwrap().parse().unwrap();
    kill(Pid::from_raw(pid), Signal::SIGKILL).unwrap();
    let r: Run = wait_bounded(&mut child, 60).into();
    assert_eq!(r.code, 1, "{r:?}");
    let doc = r.json();
    let records = results(&doc);
    let indexes: Vec<u64> = records
        .iter()
        .map(|x| x["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, (0..20).collect::<Vec<u64>>(), "each item once");
    let mut expected = vec!["ok", "ok", "crashed", "crashed", "crashed", "crashed"];
    expected.extend(["ok"; 14]);
    assert_eq!(outcomes(&doc), expected, "{}", r.stdout);
    // The two that ended ran in the killed worker; the fourteen that
    // never started there ran once, in its replacement.
    for (i, record) in records.iter().enumerate() {
        let ran_in_killed = record["pid"].as_u64() == Some(pid as u64);
        assert_eq!(ran_in_killed, i < 6, "item {i}: {record}");
        assert_eq!(record["attempts"].as_u64(), Some(1), "item {i}: {record}");
    }
}

#[test]
fn an_item_past_the_time_limit_among_k_of_one_chunk_times_out_alone() {
    let r = run(&[
        "-q",
        "pool",
        "-n",
        "1",
        "--concurrency",
        "4",
        "--chunksize",
        "6",
        "--timeout",
        "1",
        "--json",
        "chaos",
        "ok:a",
        "hang",
        "ok:b",
        "sleep:50",
        "ok:c",
        "ok:d",
    ]);
    assert_eq!(r.code, 1, "{r:?}");
    let doc = r.json();
    assert_eq!(
        outcomes(&doc),
        ["ok", "timed_out", "ok", "ok", "ok", "ok"],
        "{}",
        r.stdout
    );
    for record in results(&doc) {
        assert_eq!(record["attempts"].as_u64(), Some(1), "{record}");
    }
}

#[test]
fn commands_started_at_once_in_one_worker_are_never_taken_for_orphans() {
    // When an item ends, its worker kills leftover descendants; a command
    // another thread had just started was once among them (before its
    // mark was in its environment), and failed "killed by SIGKILL" or
    // "cannot start true: no child processes": about 1 in 200.
    let inputs: Vec<String> = (1..=1500).map(|i| i.to_string()).collect();
    let mut args = vec![
        "run",
        "-j",
        "2",
        "--concurrency",
        "8",
        "--json",
        "true {}",
        ":::",
    ];
    args.extend(inputs.iter().map(String::as_str));
    let r = run(&args);
    let doc = r.json();
    let failed: Vec<&Value> = results(&doc)
        .iter()
        .filter(|x| x["outcome"] != "ok")
        .collect();
    assert!(
        failed.is_empty(),
        "{} not ok: {:?}",
        failed.len(),
        &failed[..failed.len().min(3)]
    );
    assert_eq!(r.code, 0);
}
