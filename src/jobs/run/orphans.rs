//! Descendants that leave their command's process group (`setsid`, a
//! double fork): found and killed when their item ends.
//!
//! A process that runs commands makes itself a child subreaper, so a
//! descendant orphaned by its command's exit becomes its child instead of
//! init's. Each command carries its item's mark in its environment,
//! [`VAR`]`=<pid of this process>:<n>`, which its descendants inherit.
//! When an item ends, [`sweep`] looks at this process's children: one that
//! is not a running item's (by its mark; with no mark, only while no other
//! item runs here) is killed with its process group, and reaped; its own
//! children then come here in turn, until none is left.
//!
//! When the process itself is killed (`--timeout`, Ctrl-C), its watcher
//! finds the marked ones by their environment (`watcher.rs`). What can still
//! escape: a descendant that both leaves its group and clears its
//! environment, while its worker is killed rather than its item ending.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::{getpgid, getpgrp, Pid};

/// The environment variable that marks a command and its descendants.
pub(super) const VAR: &str = "MPROC_ITEM";

/// The marks of the items running in this process.
static RUNNING: Mutex<Vec<u64>> = Mutex::new(Vec::new());

/// Rounds of [`sweep`] at most: each kills one generation.
const ROUNDS: usize = 64;

/// An item's mark, registered as running until [`end`].
pub(super) fn begin() -> (u64, String) {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    static SUBREAPER: std::sync::Once = std::sync::Once::new();
    SUBREAPER.call_once(|| {
        // SAFETY: prctl with plain integer arguments changes only this
        // process's own attribute.
        let set = unsafe { nix::libc::prctl(nix::libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        if set != 0 {
            tracing::warn!("cannot become a child subreaper: descendants that leave their command's group are not found at its end");
        }
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    lock().push(n);
    (n, format!("{}:{n}", std::process::id()))
}

/// Item `n` has ended: kills whatever of it is left among this process's
/// children (see the module docs). `spare` is not touched (the watcher).
pub(super) fn end(n: u64, spare: Option<i32>) {
    lock().retain(|&m| m != n);
    for _ in 0..ROUNDS {
        // Children first, then the running items: an item registers
        // before it starts its command, so every child listed that
        // belongs to a running item is covered by this look, also one
        // that another thread started a moment ago and that has no mark
        // yet (between its clone and its exec). The other way round, a
        // command started between the two looks was killed as an orphan
        // and its item failed "cannot start sh: no child processes".
        let children = children();
        let running: HashSet<u64> = lock().iter().copied().collect();
        let others_running = !running.is_empty();
        let mut killed = false;
        for pid in children {
            if Some(pid) == spare {
                continue;
            }
            match mark_of(pid) {
                Some(m) if running.contains(&m) => continue,
                None if others_running => continue,
                _ => {}
            }
            kill_and_reap(pid);
            killed = true;
        }
        if !killed {
            return;
        }
    }
}

fn lock() -> std::sync::MutexGuard<'static, Vec<u64>> {
    RUNNING.lock().unwrap_or_else(|p| p.into_inner())
}

/// This process's children, from every thread's list (an orphan joins
/// the list of whichever thread the kernel picked).
fn children() -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            out.extend(
                text.split_ascii_whitespace()
                    .filter_map(|p| p.parse::<i32>().ok()),
            );
        }
    }
    out
}

/// The item mark of this process's child `pid`, if it carries one.
fn mark_of(pid: i32) -> Option<u64> {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    let prefix = format!("{VAR}={}:", std::process::id());
    environ
        .split(|&b| b == 0)
        .find_map(|entry| entry.strip_prefix(prefix.as_bytes()))
        .and_then(|n| std::str::from_utf8(n).ok()?.parse().ok())
}

/// Kills `pid` and its process group (unless that group is ours), then
/// reaps it: it is our child, and SIGKILL cannot be ignored.
fn kill_and_reap(pid: i32) {
    let pid = Pid::from_raw(pid);
    if let Ok(group) = getpgid(Some(pid)) {
        if group != getpgrp() && group.as_raw() > 1 {
            let _ = kill(Pid::from_raw(-group.as_raw()), Signal::SIGKILL);
        }
    }
    let _ = kill(pid, Signal::SIGKILL);
    let _ = waitpid(pid, None);
}
