//! Workers behind launchers and on "other hosts" through a real ssh server
//! started on 127.0.0.1 with throwaway keys.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::support::*;

mod host_down;

/// Says, where `cargo test` shows it even for a passing test, that a test
/// did not run here and why.
pub(crate) fn skipped(why: &str) {
    use std::io::Write;
    // Straight to fd 2: the test harness captures only print! and eprint!.
    let _ = writeln!(std::io::stderr().lock(), "skipped: {why}");
}

#[test]
fn a_launcher_prefixes_the_worker_command_and_gets_no_parent_argv() {
    let dir = temp_dir("launcher");
    let log = dir.join("launched");
    let wrapper = dir.join("wrap");
    executable(
        &wrapper,
        &format!("#!/bin/sh\necho \"$@\" >> {}\nexec \"$@\"\n", log.display()),
    );
    let launcher = wrapper.display().to_string();
    let doc = run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "2",
            "--launcher",
            &launcher,
            "--json",
            "square",
            "10",
        ],
        0,
    )
    .json();
    let values: Vec<u64> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].as_u64().unwrap())
        .collect();
    assert_eq!(values, (0..10).map(|x| x * x).collect::<Vec<_>>());
    let launched = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = launched.lines().collect();
    assert_eq!(lines.len(), 2, "{launched}");
    let exe = std::fs::canonicalize(MPROC).unwrap();
    for line in lines {
        assert_eq!(
            line,
            format!("{} worker", exe.display()),
            "only the worker command, none of the parent's argv"
        );
    }
}

#[test]
fn a_launcher_is_stopped_with_sigterm_first_and_sigkill_if_it_ignores_it() {
    let dir = temp_dir("launcher-stop");
    let log = dir.join("signals");
    // One that passes SIGTERM on (as srun cancels its step), and one that
    // ignores it (its worker inherits that, so only SIGKILL ends them).
    let polite = dir.join("polite");
    executable(
        &polite,
        &format!(
            "#!/bin/sh\ntrap 'echo TERM >> {}; kill $child; exit 143' TERM\n\
             exec 3<&0\n\"$@\" <&3 3<&- &\nchild=$!\nwait $child\n",
            log.display()
        ),
    );
    let deaf = dir.join("deaf");
    executable(&deaf, "#!/bin/sh\ntrap '' TERM\nexec \"$@\"\n");
    for launcher in [&polite, &deaf] {
        let launcher = launcher.display().to_string();
        let r = run(&[
            "-q",
            "pool",
            "-n",
            "1",
            "--launcher",
            &launcher,
            "--timeout",
            "1",
            "--json",
            "chaos",
            "hang",
            "ok:after",
        ]);
        assert_eq!(r.code, 1, "{launcher}: {}", r.stderr);
        assert_eq!(outcomes(&r.json()), ["timed_out", "ok"], "{launcher}");
    }
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "TERM\n");
}

#[test]
fn local_host_slots_are_plain_workers() {
    let doc = run_expect(
        &["-q", "pool", "--hosts", ":2,:1", "--json", "square", "5"],
        0,
    )
    .json();
    assert_eq!(doc["summary"]["processes"], 3);
    let r = run(&["pool", "--hosts", "a:0", "square", "1"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--hosts entry 'a:0'"), "{}", r.stderr);
}

#[test]
fn a_host_that_looks_like_an_ssh_option_is_refused_before_ssh_runs() {
    let dir = temp_dir("host-option");
    let pwned = dir.join("pwned");
    let record = dir.join("ssh-ran");
    let fake_ssh = dir.join("fake-ssh");
    executable(
        &fake_ssh,
        &format!("#!/bin/sh\necho \"$@\" >> {}\nexit 1\n", record.display()),
    );
    let fake = fake_ssh.display().to_string();
    let hostfile = dir.join("hosts");
    // The command runs in `dir`, so `pwned` lands there if ssh ever sees it.
    for host in [
        "-oProxyCommand=touch${IFS}pwned",
        "bob@-oProxyCommand=touch${IFS}pwned",
    ] {
        let entry = format!("{host}:1");
        std::fs::write(&hostfile, format!("# cluster\nnode1:1\n{entry}\n")).unwrap();
        let from_file = hostfile.display().to_string();
        for (flag, value, named) in [
            (
                "--hosts",
                entry.as_str(),
                format!("--hosts entry '{entry}'"),
            ),
            (
                "--hostfile",
                from_file.as_str(),
                format!("--hostfile {from_file} line 3"),
            ),
        ] {
            // With the real ssh client (if any) and with a recording one.
            for ssh in [None, Some(fake.as_str())] {
                // `--hosts=VALUE`: clap would read a separate '-o...' as a flag.
                let joined = format!("{flag}={value}");
                let mut args = vec!["pool", joined.as_str()];
                if let Some(ssh) = ssh {
                    args.extend(["--ssh", ssh]);
                }
                args.extend(["square", "2"]);
                let r = output(mproc().current_dir(&dir).args(&args));
                assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
                assert!(r.stderr.contains(&named), "{}", r.stderr);
                assert!(r.stderr.contains("starts with '-'"), "{}", r.stderr);
                assert!(!pwned.exists(), "{args:?} ran the host's ProxyCommand");
                assert!(!record.exists(), "{args:?} started ssh");
            }
        }
    }
}

#[test]
fn the_ssh_command_gets_the_host_after_a_double_dash() {
    let dir = temp_dir("ssh-argv");
    let record = dir.join("argv");
    let fake_ssh = dir.join("fake-ssh");
    executable(
        &fake_ssh,
        &format!("#!/bin/sh\necho \"$@\" >> {}\nexit 1\n", record.display()),
    );
    let ssh = format!("{} -p 2222", fake_ssh.display());
    let r = run(&[
        "pool",
        "--hosts",
        "user@node7:1",
        "--ssh",
        &ssh,
        "--worker-path",
        "/opt/mproc",
        "square",
        "1",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let argv = std::fs::read_to_string(&record).unwrap();
    assert_eq!(
        argv.lines().next(),
        Some("-p 2222 -- user@node7 /opt/mproc worker"),
        "{argv}"
    );
}

#[test]
fn a_huge_worker_count_on_a_host_is_a_usage_error() {
    let dir = temp_dir("host-count");
    let hostfile = dir.join("hosts");
    std::fs::write(&hostfile, "node1:99999999999\n").unwrap();
    let file = hostfile.display().to_string();
    for (flag, value, named) in [
        (
            "--hosts",
            "node1:99999999999",
            "--hosts entry 'node1:99999999999'".to_string(),
        ),
        ("--hosts", ":5000", "--hosts entry ':5000'".to_string()),
        (
            "--hostfile",
            file.as_str(),
            format!("--hostfile {file} line 1"),
        ),
    ] {
        let r = run(&["pool", flag, value, "square", "1"]);
        assert_eq!(r.code, 2, "{value}: {}", r.stderr);
        assert!(
            r.stderr.contains(&named) && r.stderr.contains("over the limit of 4096"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn another_version_behind_a_launcher_is_named_by_host() {
    let dir = temp_dir("old-remote");
    let fake_ssh = dir.join("fake-ssh");
    // Whatever it is asked to run, it answers as a worker of version 99.
    fake_worker(&fake_ssh, 99, None);
    let ssh = fake_ssh.display().to_string();
    let r = run(&["pool", "--hosts", "node7:1", "--ssh", &ssh, "square", "3"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("worker on node7 speaks protocol version 99"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains(&format!("this mproc speaks {}", mproc::PROTOCOL_VERSION)),
        "{}",
        r.stderr
    );
}

/// An sshd on one loopback address with a throwaway host key and user key.
pub(crate) struct Sshd {
    child: Child,
    dir: TempDir,
    port: u16,
}

impl Sshd {
    /// Starts one on 127.0.0.1, or says why it cannot (sshd missing
    /// outside CI).
    fn start() -> Option<Sshd> {
        Sshd::start_on("127.0.0.1", None)
    }

    /// Starts one on `address`; `like` gives the port and the user key
    /// (one ssh command then reaches both).
    pub(crate) fn start_on(address: &str, like: Option<&Sshd>) -> Option<Sshd> {
        let sshd = Path::new("/usr/sbin/sshd");
        if !sshd.exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must install openssh-server (see .ci/run)"
            );
            skipped("/usr/sbin/sshd is not installed (apt-get install openssh-server)");
            return None;
        }
        let dir = temp_dir("sshd");
        for key in ["host_key", "user_key"] {
            let status = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(dir.join(key))
                .status()
                .unwrap();
            assert!(status.success());
        }
        let user_key = like.map_or(dir.join("user_key.pub"), |l| l.dir.join("user_key.pub"));
        std::fs::copy(user_key, dir.join("authorized_keys")).unwrap();
        let _ = std::fs::create_dir_all("/run/sshd");
        let port = like.map_or_else(
            || {
                TcpListener::bind("127.0.0.1:0")
                    .unwrap()
                    .local_addr()
                    .unwrap()
                    .port()
            },
            |l| l.port,
        );
        let config = dir.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "ListenAddress {address}\nPort {port}\nHostKey {d}/host_key\nAuthorizedKeysFile {d}/authorized_keys\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n\
                 StrictModes no\nUsePAM no\nPidFile {d}/sshd.pid\nLogLevel ERROR\n",
                d = dir.display()
            ),
        )
        .unwrap();
        let child = Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_until("sshd to listen", || {
            TcpStream::connect((address, port)).is_ok()
        });
        Some(Sshd { child, dir, port })
    }

    pub(crate) fn ssh(&self) -> String {
        format!(
            "ssh -T -p {} -i {}/user_key -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
            self.port,
            self.dir.display()
        )
    }

    /// Stops it as a host that goes down: the server and every session
    /// (and what runs in them) killed at once. Returns how many processes
    /// the sessions held.
    pub(crate) fn kill_all(&mut self) -> usize {
        // Once reaped, its pid may be another process's: leave it alone.
        if !matches!(self.child.try_wait(), Ok(None)) {
            return 0;
        }
        let mut all = Vec::new();
        let mut next = vec![self.child.id()];
        while let Some(pid) = next.pop() {
            let below = children(pid);
            next.extend(&below);
            all.extend(below);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        for &pid in &all {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
        }
        all.len()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.kill_all();
    }
}

pub(crate) fn remote_args<'a>(sshd: &'a str, hosts: &'a str) -> Vec<&'a str> {
    vec![
        "-q",
        "pool",
        "--hosts",
        hosts,
        "--ssh",
        sshd,
        "--worker-path",
        MPROC,
    ]
}

#[test]
fn a_pool_over_real_ssh_matches_a_local_pool() {
    let Some(sshd) = Sshd::start() else { return };
    let ssh = sshd.ssh();
    let dir = temp_dir("ssh-pool");
    let log = dir.join("jobs.tsv").display().to_string();
    let mut args = remote_args(&ssh, "127.0.0.1:2");
    args.extend(["--joblog", &log, "--json", "square", "40"]);
    let remote = run_expect(&args, 0).json();
    let local = run_expect(&["-q", "pool", "-n", "2", "--json", "square", "40"], 0).json();
    let values = |doc: &serde_json::Value| -> Vec<u64> {
        doc["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["value"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(values(&remote), values(&local));
    let rows = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        rows.lines()
            .skip(1)
            .filter(|l| l.ends_with("\t127.0.0.1"))
            .count(),
        40,
        "{rows}"
    );

    // A remote worker's error names its host.
    let mut args = remote_args(&ssh, "127.0.0.1:1");
    args.extend(["--json", "analyze", "/nonexistent/file.txt"]);
    let doc = run_expect(&args, 1).json();
    let error = doc["results"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("/nonexistent/file.txt") && error.contains("(on 127.0.0.1)"),
        "{error}"
    );
}

#[test]
fn a_remote_worker_killed_mid_run_is_a_crash_and_the_run_ends() {
    let Some(sshd) = Sshd::start() else { return };
    let ssh = sshd.ssh();
    let dir = temp_dir("ssh-kill");
    let pidfile = dir.join("pid");
    let hang = format!("hang:{}", pidfile.display());
    let mut args = remote_args(&ssh, "127.0.0.1:2");
    args.extend(["--json", "chaos", "ok:a", &hang, "sleep:20", "ok:b", "ok:c"]);
    let child = mproc()
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid: i32 = wait_for_file(&pidfile).trim().parse().unwrap();
    kill(Pid::from_raw(pid), Signal::SIGKILL).unwrap();
    let r: Run = child.wait_with_output().unwrap().into();
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    assert_eq!(outcomes(&doc), ["ok", "crashed", "ok", "ok", "ok"]);
    assert!(doc["results"][1]["error"]
        .as_str()
        .unwrap()
        .contains("on 127.0.0.1"));
}

#[test]
fn no_remote_worker_outlives_an_interrupted_parent() {
    let Some(sshd) = Sshd::start() else { return };
    let ssh = sshd.ssh();
    let dir = temp_dir("ssh-orphans");
    let files: Vec<PathBuf> = (0..2).map(|i| dir.join(format!("pid{i}"))).collect();
    let hangs: Vec<String> = files
        .iter()
        .map(|f| format!("hang:{}", f.display()))
        .collect();
    let mut args = remote_args(&ssh, "127.0.0.1:2");
    args.push("chaos");
    args.extend(hangs.iter().map(String::as_str));
    let mut child = mproc()
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pids: Vec<u32> = files
        .iter()
        .map(|f| wait_for_file(f).trim().parse().unwrap())
        .collect();
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130));
    for pid in pids {
        wait_until(&format!("remote worker {pid} to exit"), || !alive(pid));
    }
}
