//! Helpers of the core's tests: small test jobs, temp folders that remove
//! themselves, and /proc readers.

#![allow(dead_code)]

pub mod jobs;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A fresh, empty directory for one test, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mproc-core-test-{}-{name}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
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

/// Waits (up to 30 s, polling) for `path` to exist and returns its text.
#[track_caller]
pub fn wait_for_file(path: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if !text.is_empty() {
                return text;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(5));
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
    std::fs::write(path, script).unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}
