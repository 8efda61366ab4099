//! The watcher: one small process per worker that kills the worker's
//! command groups when the worker dies.
//!
//! A worker killed by the pool (`--timeout`, Ctrl-C, `--halt-on-error`, its
//! parent's death) gets SIGKILL and can clean up nothing. Each command has
//! the kernel's death signal, so it dies with the worker, but the command's
//! own children (`sh -c 'sleep 100 & wait'`) would be left behind. So the
//! first command a process runs forks a watcher: it reads the process
//! groups the worker starts and ends (4-byte records on a pipe), and when
//! that pipe closes, which happens only when the worker is gone, it sends
//! SIGKILL to every group still running and exits. It keeps the worker's
//! stderr open until then, so the pool sees the worker end only after the
//! groups are killed.
//!
//! A group is removed before its leader is reaped, so its id cannot have
//! been reused while the watcher still holds it.
//!
//! A worker that exits of its own accord (`exit`, at the end of its
//! stream) tells its watcher so, closes the pipe and reaps the watcher
//! first (`atexit`), so the watcher never becomes an orphan for init to
//! reap (a container whose first process reaps nothing would keep it as a
//! zombie). Told so, the watcher skips its scan for marked processes: the
//! worker swept each item's descendants when the item ended.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::{Mutex, OnceLock};

use nix::libc;

/// The most groups the watcher tracks at once (items running at once in
/// one worker are far fewer).
const MAX_GROUPS: usize = 4096;

/// The worker's end of the watcher's pipe.
#[derive(Debug)]
pub(super) struct Watcher {
    /// `None` once closed at exit.
    pipe: Mutex<Option<OwnedFd>>,
    pid: i32,
}

static WATCHER: OnceLock<Option<Watcher>> = OnceLock::new();

impl Watcher {
    /// This process's watcher, started on first use; `None` if it could
    /// not be started (then only the death signal protects the commands).
    pub(super) fn get() -> Option<&'static Watcher> {
        WATCHER
            .get_or_init(|| match Watcher::start() {
                Ok(w) => Some(w),
                Err(e) => {
                    tracing::warn!("cannot start the command watcher: {e}");
                    None
                }
            })
            .as_ref()
    }

    fn start() -> std::io::Result<Watcher> {
        let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        let limit = open_fd_limit();
        let (read_fd, write_fd) = (read.as_raw_fd(), write.as_raw_fd());
        // What marks this process's commands and their descendants
        // (`orphans.rs`), built before the fork: the child allocates nothing.
        let mut needle = [0u8; NEEDLE_MAX];
        let text = format!("{}={}:", super::orphans::VAR, std::process::id());
        needle[..text.len()].copy_from_slice(text.as_bytes());
        let needle = (needle, text.len());
        // SAFETY: the child branch runs only `watch`, which makes
        // async-signal-safe system calls (signal, close, read, kill,
        // _exit), allocates nothing and takes no lock, as a child forked
        // from a multi-threaded process must.
        match unsafe { nix::unistd::fork() }? {
            nix::unistd::ForkResult::Child => unsafe {
                watch(read_fd, write_fd, limit, &needle.0[..needle.1])
            },
            nix::unistd::ForkResult::Parent { child } => {
                drop(read);
                // SAFETY: registers a plain `extern "C" fn`, once (`start`
                // runs once, under `WATCHER`'s initialisation).
                unsafe { libc::atexit(reap_at_exit) };
                Ok(Watcher {
                    pipe: Mutex::new(Some(write)),
                    pid: child.as_raw(),
                })
            }
        }
    }

    /// The watcher's process id (a child of this process, never an orphan
    /// to sweep).
    pub(super) fn pid(&self) -> i32 {
        self.pid
    }

    /// Tells the watcher that group `pgid` runs.
    pub(super) fn add(&self, pgid: i32) {
        self.send(pgid);
    }

    /// Tells the watcher that group `pgid` ended (call before reaping it).
    pub(super) fn remove(&self, pgid: i32) {
        self.send(-pgid);
    }

    fn send(&self, record: i32) {
        let bytes = record.to_ne_bytes();
        // One write of 4 bytes to a pipe is atomic; if the watcher is gone
        // there is nobody to tell.
        let pipe = self.pipe.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pipe) = pipe.as_ref() {
            let _ = nix::unistd::write(pipe, &bytes);
        }
    }
}

/// The record that tells the watcher its worker ends of its own accord
/// (no group id is 0).
const CLEAN: i32 = 0;

/// At this process's exit: tells the watcher the worker ends of its own
/// accord, closes its pipe, so it does its last round (the groups still
/// listed, none after a clean end) and exits, and reaps it. If another
/// thread holds the pipe right now, the watcher is left to see the pipe
/// close with the process, and to do its whole round.
extern "C" fn reap_at_exit() {
    let Some(Some(watcher)) = WATCHER.get() else {
        return;
    };
    let Ok(mut pipe) = watcher.pipe.try_lock() else {
        return;
    };
    let Some(fd) = pipe.take() else {
        return;
    };
    let _ = nix::unistd::write(&fd, &CLEAN.to_ne_bytes());
    // Closed before the wait: the watcher ends when its pipe does.
    drop(fd);
    let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(watcher.pid), None);
}

fn open_fd_limit() -> RawFd {
    let soft = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map_or(1024, |(soft, _)| soft);
    soft.clamp(256, 1 << 16) as RawFd
}

/// The watcher's whole life, in the forked child.
///
/// # Safety
///
/// Call only in a freshly forked child: it never returns.
unsafe fn watch(read_fd: RawFd, write_fd: RawFd, limit: RawFd, needle: &[u8]) -> ! {
    // SAFETY (whole body): plain system calls on numbers; see `start`.
    unsafe {
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGPIPE] {
            libc::signal(sig, libc::SIG_IGN);
        }
        // Hold nothing of the worker's but stderr: not its frame pipes, not
        // the write end of our own pipe (or it would never close).
        let _ = write_fd;
        for fd in 0..limit {
            if fd != read_fd && fd != libc::STDERR_FILENO {
                libc::close(fd);
            }
        }
        let mut groups = [0i32; MAX_GROUPS];
        let mut count = 0usize;
        // A `CLEAN` record: the worker ends of its own accord.
        let mut clean = false;
        let mut buf = [0u8; 4 * 256];
        let mut have = 0usize;
        loop {
            let n = libc::read(read_fd, buf.as_mut_ptr().add(have).cast(), buf.len() - have);
            if n < 0 && *libc::__errno_location() == libc::EINTR {
                continue;
            }
            if n <= 0 {
                break;
            }
            have += n as usize;
            let whole = have - have % 4;
            let mut at = 0;
            while at < whole {
                let record = i32::from_ne_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
                at += 4;
                if record == CLEAN {
                    clean = true;
                } else if record > 0 && count < MAX_GROUPS {
                    groups[count] = record;
                    count += 1;
                } else if record < 0 {
                    if let Some(i) = groups[..count].iter().position(|&g| g == -record) {
                        count -= 1;
                        groups[i] = groups[count];
                    }
                }
            }
            buf.copy_within(whole..have, 0);
            have -= whole;
        }
        for &pgid in &groups[..count] {
            libc::kill(-pgid, libc::SIGKILL);
        }
        // Then the descendants that left their groups, by their mark; a
        // second and third pass catch what forked during the first. A
        // worker that ends of its own accord has swept each item's at its
        // end (`orphans.rs`): nothing marked is left to look for.
        if !clean {
            for _ in 0..3 {
                if kill_marked(needle) == 0 {
                    break;
                }
            }
        }
        libc::_exit(0)
    }
}

/// The longest mark prefix (`MPROC_ITEM=<pid>:`).
const NEEDLE_MAX: usize = 48;

/// Sends SIGKILL to every process whose environment holds an entry that
/// starts with `needle`; returns how many. Raw system calls on stack
/// buffers only (the caller is a child forked from a threaded process).
///
/// # Safety
///
/// Call only from the watcher's forked child.
unsafe fn kill_marked(needle: &[u8]) -> usize {
    // SAFETY (whole body): open, getdents64, read, close and kill on
    // numbers and stack buffers.
    unsafe {
        let proc_fd = libc::open(c"/proc".as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
        if proc_fd < 0 {
            return 0;
        }
        let mut killed = 0;
        let mut dents = [0u8; 4096];
        loop {
            let n = libc::syscall(
                libc::SYS_getdents64,
                proc_fd,
                dents.as_mut_ptr(),
                dents.len(),
            );
            if n <= 0 {
                break;
            }
            let mut at = 0usize;
            while at + 19 < n as usize {
                let reclen = u16::from_ne_bytes([dents[at + 16], dents[at + 17]]) as usize;
                let name = &dents[at + 19..at + reclen];
                let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
                if let Some(pid) = parse_pid(name) {
                    if pid != libc::getpid() && environ_has(name, needle) {
                        libc::kill(pid, libc::SIGKILL);
                        killed += 1;
                    }
                }
                at += reclen.max(1);
            }
        }
        libc::close(proc_fd);
        killed
    }
}

/// A /proc entry's name as a process id.
fn parse_pid(name: &[u8]) -> Option<i32> {
    if name.is_empty() || name.len() > 9 || !name.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(name.iter().fold(0i32, |n, &d| n * 10 + i32::from(d - b'0')))
}

/// True when `/proc/<pid>/environ` has an entry starting with `needle`.
///
/// # Safety
///
/// As [`kill_marked`].
unsafe fn environ_has(pid: &[u8], needle: &[u8]) -> bool {
    let mut path = [0u8; 32];
    let parts: [&[u8]; 3] = [b"/proc/", pid, b"/environ\0"];
    let mut len = 0;
    for part in parts {
        path[len..len + part.len()].copy_from_slice(part);
        len += part.len();
    }
    // SAFETY (whole body): see `kill_marked`.
    unsafe {
        let fd = libc::open(path.as_ptr().cast(), libc::O_RDONLY);
        if fd < 0 {
            return false;
        }
        // `buf[0]` is the byte before the window: an entry starts after a
        // NUL, or at the very start (a NUL stands in for it there).
        let mut buf = [0u8; 4096 + NEEDLE_MAX + 1];
        let mut have = 1usize;
        let mut found = false;
        loop {
            let n = libc::read(fd, buf.as_mut_ptr().add(have).cast(), buf.len() - have);
            if n <= 0 {
                break;
            }
            have += n as usize;
            found = (1..=have.saturating_sub(needle.len()))
                .any(|i| buf[i - 1] == 0 && buf[i..i + needle.len()] == *needle);
            if found {
                break;
            }
            // Keep the tail that a match across the boundary needs.
            let keep = needle.len().min(have);
            buf.copy_within(have - keep..have, 0);
            have = keep;
        }
        libc::close(fd);
        found
    }
}
