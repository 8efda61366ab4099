//! An ssh host that goes down mid-run: two sshd, on 127.0.0.1 and
//! 127.0.0.2, two workers behind each; the one on 127.0.0.2 is killed with
//! its sessions, its workers' items run again on 127.0.0.1, the host is
//! left out once its ssh cannot reconnect, and every item ends ok.

use std::process::Stdio;

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
        }
    }
    assert!(retried > 0, "no item was running on 127.0.0.2:\n{rows}");
    let crashed: Vec<&str> = rows.lines().filter(|l| l.contains("\tcrashed\t")).collect();
    assert_eq!(crashed.len(), retried, "{rows}");
    assert!(crashed.iter().all(|l| l.ends_with("\t127.0.0.2")), "{rows}");
}
