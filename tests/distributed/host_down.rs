//! An ssh host that goes down mid-run: two sshd, on 127.0.0.1 and
//! 127.0.0.2, two workers behind each; the one on 127.0.0.2 is killed with
//! its sessions, its workers' items run again on 127.0.0.1, the host is
//! left out once its ssh cannot reconnect, and every item ends ok.

use std::process::Stdio;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::{remote_args, Sshd};
use crate::support::*;

#[test]
fn an_ssh_host_whose_sshd_stops_mid_run_is_left_out_and_the_other_finishes() {
    let Some(first) = Sshd::start_on("127.0.0.1", None) else {
        return;
    };
    let Some(mut second) = Sshd::start_on("127.0.0.2", Some(&first)) else {
        return;
    };
    let ssh = first.ssh();
    let dir = temp_dir("ssh-host-down");
    let (log, mproc_log, go) = (dir.join("jobs.tsv"), dir.join("mproc.log"), dir.join("go"));
    let log_arg = log.display().to_string();
    // Items of 200 ms, and a last one that waits until the test has seen
    // 127.0.0.2 left out, so the run lasts until then.
    let wait = format!("wait:{}", go.display());
    let mut items = vec!["sleep:200"; 30];
    items.push(&wait);
    let mut args = remote_args(&ssh, "127.0.0.1:2,127.0.0.2:2");
    args.retain(|&a| a != "-q");
    args.extend(["--retries", "2", "--joblog", &log_arg, "--json", "chaos"]);
    args.extend(&items);
    let mut child = mproc()
        .arg("--log-file")
        .arg(&mproc_log)
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_long("an item done on 127.0.0.2", 60, || {
        text(&log).lines().any(|l| l.ends_with("\t127.0.0.2"))
    });
    assert!(second.kill_all() > 0, "no session on 127.0.0.2");
    wait_long("127.0.0.2 to be left out", 60, || {
        text(&mproc_log).contains("leaving out 127.0.0.2")
    });
    std::fs::write(&go, "go").unwrap();
    let r: Run = wait_bounded(&mut child, 120).into();
    let logged = text(&mproc_log);
    assert_eq!(r.code, 0, "{}\n{logged}", r.stderr);
    assert_eq!(logged.matches("leaving out").count(), 1, "{logged}");
    let doc = r.json();
    assert_eq!(outcomes(&doc), vec!["ok"; items.len()], "{logged}");
    let rows = text(&log);
    let mut retried = 0;
    for r in doc["results"].as_array().unwrap() {
        if r["attempts"].as_u64() > Some(1) {
            retried += 1;
            assert_eq!(r["host"], "127.0.0.1", "{r}");
            assert_eq!(r["earlier_attempts"][0]["outcome"], "crashed", "{r}");
            assert_eq!(r["earlier_attempts"][0]["host"], "127.0.0.2", "{r}");
        }
    }
    assert!(retried > 0, "no item was running on 127.0.0.2:\n{rows}");
    let crashed: Vec<&str> = rows.lines().filter(|l| l.contains("\tcrashed\t")).collect();
    assert_eq!(crashed.len(), retried, "{rows}");
    assert!(crashed.iter().all(|l| l.ends_with("\t127.0.0.2")), "{rows}");
}

/// The same without sshd, so that it runs anywhere: a fake ssh runs the
/// worker here for host `up`, and for host `down` only the first time;
/// after that it fails as ssh does when it cannot connect (exit 255).
#[test]
fn a_host_that_cannot_start_workers_again_is_left_out_once_and_the_run_ends_ok() {
    let dir = temp_dir("fake-host-down");
    let (log, mproc_log, go) = (dir.join("jobs.tsv"), dir.join("mproc.log"), dir.join("go"));
    let fake_ssh = dir.join("fake-ssh");
    // Called as: fake-ssh -- HOST PROGRAM worker.
    executable(
        &fake_ssh,
        &format!(
            "#!/bin/sh\nshift\nhost=$1; shift\n\
             if [ \"$host\" = down ]; then\n\
               if [ -e {once} ]; then echo \"connect to host down: Connection refused\" >&2; exit 255; fi\n\
               : > {once}\n\
             fi\nexec \"$@\"\n",
            once = dir.join("started-once").display()
        ),
    );
    let ssh = fake_ssh.display().to_string();
    let log_arg = log.display().to_string();
    let wait = format!("wait:{}", go.display());
    let mut items = vec!["sleep:100"; 20];
    items.push(&wait);
    let mut child = mproc()
        .arg("--log-file")
        .arg(&mproc_log)
        .args([
            "pool",
            "--hosts",
            "up:1,down:1",
            "--ssh",
            &ssh,
            "--worker-path",
            MPROC,
        ])
        .args(["--retries", "1", "--joblog", &log_arg, "--json", "chaos"])
        .args(&items)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pid = None;
    wait_long("an item done on host down", 60, || {
        pid = text(&log)
            .lines()
            .find(|l| l.ends_with("\tdown"))
            .map(|l| l.split('\t').nth(3).unwrap().parse::<i32>().unwrap());
        pid.is_some()
    });
    let _ = kill(Pid::from_raw(pid.unwrap()), Signal::SIGKILL);
    wait_long("host down to be left out", 60, || {
        text(&mproc_log).contains("leaving out down")
    });
    std::fs::write(&go, "go").unwrap();
    let r: Run = wait_bounded(&mut child, 120).into();
    let logged = text(&mproc_log);
    assert_eq!(r.code, 0, "{}\n{logged}", r.stderr);
    assert_eq!(logged.matches("leaving out").count(), 1, "{logged}");
    assert_eq!(logged.matches("failed to start (").count(), 2, "{logged}");
    let doc = r.json();
    assert_eq!(outcomes(&doc), vec!["ok"; items.len()], "{logged}");
    for r in doc["results"].as_array().unwrap() {
        if r["attempts"].as_u64() > Some(1) {
            assert_eq!(r["host"], "up", "{r}");
        }
    }
}
