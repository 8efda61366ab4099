//! The guarantees in docs/RELIABILITY.md, each shown with real processes
//! and real signals.

use std::process::{Child, Stdio};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

use crate::support::*;

fn spawn(args: &[&str]) -> Child {
    mproc()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(pid: u32, sig: Signal) {
    kill(Pid::from_raw(pid as i32), sig).unwrap();
}

fn hang_pids(dir: &std::path::Path, n: usize) -> (Vec<String>, Vec<u32>) {
    let files: Vec<String> = (0..n)
        .map(|i| dir.join(format!("pid{i}")).display().to_string())
        .collect();
    let actions = files.iter().map(|f| format!("hang:{f}")).collect();
    (actions, Vec::new())
}

fn read_pids(files: &[String]) -> Vec<u32> {
    files
        .iter()
        .map(|f| {
            wait_for_file(std::path::Path::new(f.trim_start_matches("hang:")))
                .trim()
                .parse()
                .unwrap()
        })
        .collect()
}

fn interrupt(sig: Signal, code: i32) {
    let dir = temp_dir("interrupt");
    let (hangs, _) = hang_pids(&dir, 2);
    let mut args = vec!["-q", "pool", "-n", "2", "--json", "chaos", "ok:first"];
    args.extend(hangs.iter().map(String::as_str));
    args.extend(["ok:a", "ok:b", "ok:c"]);
    let mut child = spawn(&args);
    let parent = child.id();
    let workers = read_pids(&hangs);
    signal(parent, sig);
    let r: Run = wait_bounded(&mut child, 300).into();
    assert_eq!(r.code, code, "{}", r.stderr);
    let doc = r.json();
    let rs = doc["results"].as_array().unwrap();
    assert_eq!(rs.len(), 6, "every item is reported");
    assert_eq!(rs[0]["outcome"], "ok");
    for item in &rs[1..] {
        assert_eq!(item["outcome"], "not_run", "{item}");
        assert!(
            item["error"]
                .as_str()
                .unwrap()
                .contains("interrupted by SIG"),
            "{item}"
        );
    }
    assert_eq!(doc["summary"]["not_run"], 5);
    for pid in workers {
        assert!(!alive(pid), "worker {pid} outlived the interrupted parent");
    }
}

#[test]
fn sigint_stops_the_run_prints_what_finished_and_exits_130() {
    interrupt(Signal::SIGINT, 130);
}

#[test]
fn sigterm_does_the_same_and_exits_143() {
    interrupt(Signal::SIGTERM, 143);
}

#[test]
fn human_output_names_what_did_not_run() {
    let dir = temp_dir("interrupt-human");
    let (hangs, _) = hang_pids(&dir, 1);
    let mut child = spawn(&[
        "pool", "-n", "1", "chaos", "ok:a", &hangs[0], "ok:b", "ok:c",
    ]);
    let parent = child.id();
    read_pids(&hangs);
    signal(parent, Signal::SIGINT);
    let r: Run = wait_bounded(&mut child, 300).into();
    assert_eq!(r.code, 130);
    assert!(
        r.stderr
            .contains("3 items not run (interrupted by SIGINT): 1-3"),
        "{}",
        r.stderr
    );
}

#[test]
fn workers_die_with_a_sigkilled_parent() {
    let dir = temp_dir("orphans");
    let (hangs, _) = hang_pids(&dir, 2);
    let mut args = vec!["-q", "pool", "-n", "2", "chaos"];
    args.extend(hangs.iter().map(String::as_str));
    let mut child = spawn(&args);
    let workers = read_pids(&hangs);
    signal(child.id(), Signal::SIGKILL);
    child.wait().unwrap();
    for pid in workers {
        wait_until(&format!("worker {pid} to die with its parent"), || {
            !alive(pid)
        });
    }
}

/// One 5000-item map (`seed` picks the victims and the pauses) whose
/// workers are SIGKILLed at random, bounded to 180 s: the results, and the
/// kills made.
fn random_kill_run(seed: u64) -> (std::process::ExitStatus, String, usize, String) {
    let actions: Vec<String> = (0..5000).map(|i| format!("slow-square:{i}")).collect();
    let mut args = vec!["-q", "pool", "-n", "2", "--json", "chaos"];
    args.extend(actions.iter().map(String::as_str));
    // Results go to a file: this test polls the child instead of reading a pipe.
    let dir = temp_dir("random-kills");
    let out = dir.join("out.json");
    let err = dir.join("err.txt");
    let mut child = mproc()
        .args(&args)
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let parent = child.id();
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    let mut rng = mproc_cli::rng::Rng::new(seed);
    let mut kills = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a map whose workers were killed at random did not end within 180 s");
        }
        let workers = children(parent);
        if !workers.is_empty() {
            let victim = workers[rng.below(workers.len() as u64) as usize];
            if kill(Pid::from_raw(victim as i32), Signal::SIGKILL).is_ok() {
                kills += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(15 + rng.below(20)));
    };
    let stderr = std::fs::read_to_string(&err).unwrap();
    (
        status,
        std::fs::read_to_string(&out).unwrap(),
        kills,
        stderr,
    )
}

/// Checks a random-kill run: every item is there, in order, ok with its
/// value, crashed by SIGKILL, or not run because no worker could start
/// (and then the reason names the signal).
#[track_caller]
fn check_random_kill_run(
    status: std::process::ExitStatus,
    stdout: &str,
    kills: usize,
    stderr: &str,
) {
    if status.code() == Some(2) {
        // Every worker of a slot killed while starting, three times: the
        // pool cannot start, and the one line says what was seen.
        assert!(stderr.contains("killed by signal 9"), "{stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        return;
    }
    assert!(
        matches!(status.code(), Some(0) | Some(1)),
        "{status:?}\n{stderr}"
    );
    let doc: Value = serde_json::from_str(stdout).unwrap();
    let rs = doc["results"].as_array().unwrap();
    assert_eq!(rs.len(), 5000);
    let mut crashed = 0;
    for (i, r) in rs.iter().enumerate() {
        assert_eq!(r["index"], i);
        match r["outcome"].as_str().unwrap() {
            "ok" => assert_eq!(
                r["value"].as_str().unwrap(),
                (i * i).to_string(),
                "item {i}"
            ),
            "crashed" => {
                crashed += 1;
                assert!(r["error"].as_str().unwrap().contains("SIGKILL"), "{r}");
            }
            // Workers killed three times in a row while starting: the
            // pool gives up, and says what it saw.
            "not_run" => {
                let error = r["error"].as_str().unwrap();
                assert!(error.contains("no worker could start"), "{r}");
                assert!(error.contains("killed by signal 9"), "{r}");
            }
            other => panic!("item {i} ended {other}: {r}"),
        }
    }
    assert!(
        crashed <= kills,
        "{crashed} crashed items for {kills} kills"
    );
}

#[test]
fn random_sigkills_during_a_5000_item_map_lose_nothing() {
    let (status, stdout, kills, stderr) = random_kill_run(7);
    assert!(kills > 0, "the run ended before any kill");
    check_random_kill_run(status, &stdout, kills, &stderr);
}

/// Several random-kill maps at once load the machine, so workers are
/// often killed while starting: every run still ends, with every item.
#[test]
fn three_random_kill_maps_at_once_all_end() {
    let runs: Vec<_> = (0..3)
        .map(|seed| std::thread::spawn(move || random_kill_run(100 + seed)))
        .collect();
    for run in runs {
        let (status, stdout, kills, stderr) = run.join().expect("the run ended");
        check_random_kill_run(status, &stdout, kills, &stderr);
    }
}

/// A worker stopped (SIGSTOP) while idle cannot hold the pool's shutdown:
/// it is killed after a grace period and reaped.
#[test]
fn a_stopped_idle_worker_cannot_hold_the_shutdown() {
    let mut pool = mproc::Pool::builder()
        .processes(2)
        .program(MPROC)
        .build()
        .unwrap();
    let results = pool.map(
        &mproc_cli::jobs::Chaos,
        ["ok:a".to_string(), "ok:b".to_string()],
    );
    let pid = results[0].pid.expect("a worker ran it");
    signal(pid, Signal::SIGSTOP);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        pool.close();
        let _ = tx.send(pool.join().is_ok());
    });
    let joined = rx.recv_timeout(Duration::from_secs(60));
    if joined.is_err() {
        let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
    }
    assert_eq!(joined, Ok(true), "join waited on the stopped worker");
    assert!(!alive(pid), "the stopped worker {pid} was left behind");
}

/// A launcher that stays after its worker exits, holding the worker's
/// pipes, cannot hold the run: it is killed after a grace period.
#[test]
fn a_lingering_launcher_cannot_hold_the_run() {
    let dir = temp_dir("linger");
    let launcher = dir.join("linger.sh");
    // The worker keeps the launcher's stdin (a shell gives a background
    // job /dev/null otherwise); the launcher then waits, holding the pipes.
    let script = "#!/bin/sh\nexec 3<&0\n\"$@\" <&3 3<&- &\nexec sleep 1000 3<&-\n";
    executable(&launcher, script);
    let launcher = launcher.display().to_string();
    let r = run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "1",
            "--launcher",
            &launcher,
            "square",
            "3",
        ],
        0,
    );
    assert_eq!(r.stdout, "[0, 1, 4]\n");
}

/// Open descriptors, threads and zombie children of a running mproc, and
/// its resident memory in kB.
fn resources(pid: u32) -> ((usize, usize, usize), u64) {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count();
    let threads = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .count();
    let zombies = children(pid).into_iter().filter(|&c| !alive(c)).count();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    ((fds, threads, zombies), rss)
}

fn resources_after(replacements: usize) -> ((usize, usize, usize), u64) {
    let dir = temp_dir("leaks");
    let pidfile = dir.join("pid").display().to_string();
    let hang = format!("hang:{pidfile}");
    let mut args = vec![
        "-q",
        "pool",
        "-n",
        "1",
        "--maxtasksperchild",
        "1",
        "--jsonl",
        "chaos",
    ];
    let oks = vec!["ok:x"; replacements];
    args.extend(oks.iter().copied());
    args.push(&hang);
    let mut child = spawn(&args);
    wait_for_file(std::path::Path::new(&pidfile));
    let seen = resources(child.id());
    signal(child.id(), Signal::SIGKILL);
    child.wait().unwrap();
    seen
}

#[test]
fn a_thousand_worker_replacements_leak_no_descriptor_thread_zombie_or_memory() {
    let (few, few_rss) = resources_after(3);
    let (many, many_rss) = resources_after(1000);
    assert_eq!(
        few, many,
        "(fds, threads, zombies) after 3 vs 1000 replacements"
    );
    assert_eq!(many.2, 0);
    // A coarse bound: what a leak of a thread, a buffer or a result per
    // replacement would exceed, and allocator noise would not.
    assert!(
        many_rss < few_rss + 2048,
        "resident memory grew from {few_rss} kB to {many_rss} kB"
    );
}

#[test]
fn hostile_frames_are_crashed_workers_with_a_clear_message() {
    let cases = [
        (
            "garbage",
            "out.write(b'\\x05\\x00\\x00\\x00\\xff\\xff\\xff\\xff\\xff')",
            "malformed frame",
        ),
        (
            "4 GiB length",
            "out.write(b'\\xff\\xff\\xff\\xff' + b'x' * 100)",
            "over the",
        ),
        (
            "truncated",
            "out.write(b'\\x40\\x00\\x00\\x00abc'); out.flush(); sys.exit(0)",
            "truncated frame",
        ),
        (
            "wrong type",
            "out.write(b'\\x01\\x00\\x00\\x00\\x07')",
            "malformed frame",
        ),
        (
            "a log record claiming a 2^40-byte target",
            "p = (1).to_bytes(4, 'little') + b'\\x03' + (1 << 40).to_bytes(8, 'little') + b'abc'; \
             out.write(len(p).to_bytes(4, 'little') + p)",
            "malformed frame",
        ),
    ];
    for (name, bytes, needle) in cases {
        let dir = temp_dir("hostile");
        let script = dir.join("fake-worker");
        fake_worker(&script, mproc::PROTOCOL_VERSION, Some(bytes));
        let pool = mproc::Pool::builder()
            .processes(1)
            .program(&script)
            .build()
            .unwrap();
        let results = pool.map(&mproc_cli::jobs::Square, [1u64, 2]);
        for r in &results {
            match &r.outcome {
                mproc::Outcome::Crashed {
                    detail: Some(d), ..
                } => assert!(d.contains(needle), "{name}: {d}"),
                other => panic!("{name}: expected a crash, got {other:?}"),
            }
        }
    }
}

#[test]
fn megabytes_of_output_cannot_stall_the_pool() {
    let doc = run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "2",
            "--json",
            "chaos",
            "print:8000000",
            "eprint:8000000",
            "ok:done",
        ],
        0,
    )
    .json();
    assert_eq!(doc["summary"]["ok"], 3);
}

#[test]
fn halt_on_error_stops_dispatching_and_reports_what_did_not_run() {
    let r = run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "1",
            "--halt-on-error",
            "--json",
            "chaos",
            "ok:a",
            "fail:bad",
            "ok:b",
            "ok:c",
        ],
        1,
    );
    let doc = r.json();
    assert_eq!(outcomes(&doc), ["ok", "failed", "not_run", "not_run"]);
    assert!(doc["results"][2]["error"]
        .as_str()
        .unwrap()
        .contains("halt on error"));
    // Without the flag, the pool keeps going.
    let doc = run_expect(
        &[
            "-q", "pool", "-n", "1", "--json", "chaos", "ok:a", "fail:bad", "ok:b",
        ],
        1,
    )
    .json();
    assert_eq!(doc["summary"]["ok"], 2);
}

#[test]
fn errors_are_retried_only_when_asked() {
    let doc = run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "1",
            "--retries",
            "2",
            "--json",
            "chaos",
            "fail:no",
        ],
        1,
    )
    .json();
    assert_eq!(doc["results"][0]["attempts"], 1);
    let doc = run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "1",
            "--retries",
            "2",
            "--retry-errors",
            "--json",
            "chaos",
            "fail:no",
        ],
        1,
    )
    .json();
    assert_eq!(doc["results"][0]["attempts"], 3);
    assert_eq!(doc["results"][0]["outcome"], "failed");
}

/// GNU `timeout` sends its signal to the process and then to its process
/// group: the same signal twice at once is one request to stop, and the
/// results that finished are printed.
#[test]
fn a_signal_to_the_process_then_its_group_prints_partial_results() {
    use std::os::unix::process::CommandExt;
    let dir = temp_dir("timeout-group");
    let (hangs, _) = hang_pids(&dir, 2);
    let mut args = vec!["-q", "pool", "-n", "2", "--json", "chaos", "ok:first"];
    args.extend(hangs.iter().map(String::as_str));
    args.extend(["ok:a", "ok:b"]);
    let mut child = mproc()
        .args(&args)
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let parent = child.id();
    read_pids(&hangs);
    signal(parent, Signal::SIGTERM);
    nix::sys::signal::killpg(Pid::from_raw(parent as i32), Signal::SIGTERM).unwrap();
    let r: Run = wait_bounded(&mut child, 60).into();
    assert_eq!(r.code, 143, "{}", r.stderr);
    assert!(!r.stderr.contains("exiting now"), "{}", r.stderr);
    let doc = r.json();
    let rs = doc["results"].as_array().unwrap();
    assert_eq!(rs.len(), 5, "every item is reported");
    assert_eq!(rs[0]["outcome"], "ok");
    assert!(rs[1..].iter().all(|r| r["outcome"] != "ok"), "{doc}");
}

/// The first Ctrl-C while workers are still starting (a launcher that never
/// answers) ends the run at once, not at the 30 s handshake deadline.
#[test]
fn ctrl_c_while_workers_start_exits_at_once() {
    let dir = temp_dir("silent-launcher");
    let launcher = dir.join("silent.sh");
    executable(&launcher, "#!/bin/sh\nexec sleep 100\n");
    let launcher = launcher.display().to_string();
    let mut child = spawn(&[
        "-q",
        "pool",
        "-n",
        "1",
        "--launcher",
        &launcher,
        "square",
        "3",
    ]);
    let parent = child.id();
    wait_until("the launcher to start", || !children(parent).is_empty());
    let launchers: Vec<(u32, Option<u64>)> = children(parent)
        .into_iter()
        .map(|pid| (pid, start_time(pid)))
        .collect();
    assert!(launchers.iter().all(|(_, start)| start.is_some()));
    signal(parent, Signal::SIGINT);
    // Well under the 30 s the handshake may take.
    let r: Run = wait_bounded(&mut child, 20).into();
    assert_eq!(r.code, 130, "{}", r.stderr);
    assert!(
        r.stderr.contains("SIGINT while the workers were starting"),
        "{}",
        r.stderr
    );
    for (pid, start) in launchers {
        wait_until(&format!("launcher {pid} to end"), || {
            !still_alive(pid, start)
        });
    }
}

/// Runs `mproc ARGS` under a Python parent that adopts orphans (a child
/// subreaper): a worker the run left behind would become its child.
/// Returns the run and how many such processes there were.
fn run_reaping_orphans(args: &[&str]) -> (Run, usize) {
    const SUBREAPER: &str = r#"
import ctypes, os, subprocess, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
run = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
left = 0
while True:
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        break
    left += 1
    if pid == 0:
        break
sys.stdout.write(f"{run.returncode} {left}\n")
sys.stderr.buffer.write(run.stderr)
"#;
    let r = output(
        std::process::Command::new("python3")
            .arg("-c")
            .arg(SUBREAPER)
            .arg(MPROC)
            .args(args)
            .env_remove("MPROC_CPU_COUNT")
            .stdin(Stdio::null()),
    );
    let words: Vec<i32> = r
        .stdout
        .split_whitespace()
        .map(|w| w.parse().unwrap())
        .collect();
    let (code, left) = (words[0], words[1] as usize);
    (
        Run {
            code,
            stdout: String::new(),
            stderr: r.stderr,
        },
        left,
    )
}

#[test]
fn workers_begun_before_the_command_line_is_read_never_outlive_the_run() {
    // `pool -n 3` and `run -j 3` start three workers while the rest is
    // parsed: a run that uses them, and runs that turn out not to need
    // them, reap all.
    for (args, code) in [
        (&["-q", "pool", "-n", "3", "square", "10"][..], 0),
        (&["pool", "-n", "3", "cube", "3"][..], 2),
        (&["pool", "-n", "3", "square", "--bogus"][..], 2),
        (
            &["pool", "-n", "3", "--chunksize", "0", "square", "3"][..],
            2,
        ),
        (&["-q", "run", "-j", "3", "true", ":::", "a", "b"][..], 0),
        (&["run", "-j", "3", "--bogus", "true", ":::", "a"][..], 2),
    ] {
        let (r, left) = run_reaping_orphans(args);
        assert_eq!(r.code, code, "mproc {args:?}: {}", r.stderr);
        assert_eq!(left, 0, "mproc {args:?} left {left} processes behind");
        if code == 2 {
            assert_eq!(r.stderr.lines().count(), 1, "one line: {}", r.stderr);
        }
    }
}
