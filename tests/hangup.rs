//! SIGHUP (a closed terminal, a dropped ssh session) is handled like
//! SIGTERM (issue 22): partial results printed, the job log complete, the
//! spool folder removed, exit 129. Real signals to the real binary.

use std::os::unix::process::CommandExt;
use std::process::Stdio;

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

use crate::support::*;

/// What a terminal's hangup does: the shell signals the job's process
/// group, and the kernel may signal the process itself first.
fn hang_up(pid: u32) {
    let pid = Pid::from_raw(pid as i32);
    kill(pid, Signal::SIGHUP).unwrap();
    let _ = killpg(pid, Signal::SIGHUP);
}

#[test]
fn sighup_prints_partial_results_completes_the_job_log_removes_the_spool_and_exits_129() {
    let dir = temp_dir("sighup");
    let spool = dir.join("tmp");
    std::fs::create_dir(&spool).unwrap();
    let joblog = dir.join("jobs.log");
    let script = format!(
        "if [ {{}} = a ]; then echo done-{{}}; else echo $$ > {}/pid-{{}}; exec sleep 300; fi",
        dir.display()
    );
    let mut child = mproc()
        .args(["pool", "run", "-n", "3", "--joblog"])
        .arg(&joblog)
        .args([script.as_str(), ":::", "a", "b", "c", "d"])
        .env("TMPDIR", &spool)
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let sleepers: Vec<u32> = ["b", "c"]
        .iter()
        .map(|x| {
            wait_for_file(&dir.join(format!("pid-{x}")))
                .trim()
                .parse()
                .unwrap()
        })
        .collect();
    wait_until("item a's line in the job log", || {
        std::fs::read_to_string(&joblog).is_ok_and(|t| t.contains("\ta\t"))
    });
    let spools = || std::fs::read_dir(&spool).unwrap().count();
    assert_eq!(spools(), 1, "the run's spool folder is there while it runs");
    hang_up(child.id());
    let r: Run = wait_bounded(&mut child, 60).into();
    assert_eq!(r.code, 129, "{r:?}");
    assert_eq!(r.stdout, "done-a\n", "{r:?}");
    assert!(r.stderr.contains("interrupted by SIGHUP"), "{r:?}");
    let log = std::fs::read_to_string(&joblog).unwrap();
    let lines: Vec<&str> = log.lines().skip(1).collect();
    assert_eq!(lines.len(), 4, "a line per input: {log}");
    assert!(lines
        .iter()
        .any(|l| l.contains("\ta\t") && l.contains("\tok\t")));
    assert_eq!(spools(), 0, "the spool folder is removed");
    for pid in sleepers {
        assert!(!alive(pid), "command {pid} outlived the hangup");
    }
}

#[test]
fn sighup_to_the_parent_alone_stops_the_pool_and_exits_129() {
    let dir = temp_dir("sighup-pool");
    let hang = format!("hang:{}", dir.join("pid").display());
    let mut child = mproc()
        .args([
            "-q", "pool", "-n", "1", "--json", "chaos", "ok:first", &hang, "ok:last",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_file(&dir.join("pid"));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGHUP).unwrap();
    let r: Run = wait_bounded(&mut child, 60).into();
    assert_eq!(r.code, 129, "{r:?}");
    assert_eq!(outcomes(&r.json()), ["ok", "not_run", "not_run"]);
}
