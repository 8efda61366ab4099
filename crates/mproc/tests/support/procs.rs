//! Helpers of both test suites, the core's (`crates/mproc/tests`) and the
//! command line's (`tests/`, which includes this file by its path): temp
//! folders that remove themselves, children waited on with a bound, /proc
//! readers, and scripts that play a worker.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh, empty directory for one test, removed with everything in it
/// when dropped (also when the test fails).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mproc-test-{}-{name}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for TempDir {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Waits for `child` at most `seconds`, then kills it and fails the test:
/// a hang fails one test instead of stalling the suite.
#[track_caller]
pub fn wait_bounded(child: &mut std::process::Child, seconds: u64) -> Output {
    use std::io::Read;
    let (mut stdout, mut stderr) = (child.stdout.take(), child.stderr.take());
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_end(&mut buf);
        }
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_end(&mut buf);
        }
        buf
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("child {} did not end within {seconds} s", child.id());
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    Output {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    }
}

/// True while `pid` exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

/// When `pid` started (clock ticks after boot), to tell it from a later
/// process that reuses its number; `None` once it is gone.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command's closing parenthesis: state is the 3rd
    // field of the line, start time the 22nd.
    stat.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(19)?
        .parse()
        .ok()
}

/// True while the process `pid` that started at `start` exists and is not
/// a zombie (a new process with the same number does not count).
pub fn still_alive(pid: u32, start: Option<u64>) -> bool {
    alive(pid) && start_time(pid) == start
}

/// Fails the test unless worker `pid` has exited and been reaped (no
/// zombie left); `owner` names what should have stopped it.
#[track_caller]
pub fn assert_reaped(pid: u32, owner: &str) {
    assert!(!alive(pid), "worker {pid} outlived {owner}");
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "worker {pid} not reaped"
    );
}

/// The direct children of `pid`, from /proc.
pub fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for task in tasks.flatten() {
        if let Ok(list) = std::fs::read_to_string(task.path().join("children")) {
            out.extend(
                list.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    out
}

/// Waits (up to 30 s, polling) for `path` to exist with some text, and
/// returns its text.
#[track_caller]
pub fn wait_for_file(path: &Path) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if !text.is_empty() {
                return text;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Waits (up to 10 s, polling) until `cond` holds.
#[track_caller]
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Writes an executable Python script at `path` that answers as an mproc
/// worker of protocol `version` (its hello only), then, if given, waits for
/// a first byte of input and runs `after_hello` (Python, with `out` the
/// binary stdout), and then sleeps.
pub fn fake_worker(path: &Path, version: u32, after_hello: Option<&str>) {
    let after = match after_hello {
        Some(code) => format!("sys.stdin.buffer.read(1)\n{code}\nout.flush()\n"),
        None => String::new(),
    };
    let script = format!(
        "#!/usr/bin/env python3\n\
         import os, struct, sys, time\n\
         out = sys.stdout.buffer\n\
         payload = b'MPRC' + bytes([{version}]) + b'\\xfc' + struct.pack('<I', os.getpid())\n\
         out.write(struct.pack('<I', len(payload)) + payload)\n\
         out.flush()\n\
         {after}\
         time.sleep(30)\n"
    );
    executable(path, &script);
}

/// Writes `text` at `path` as an executable script.
pub fn executable(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}
