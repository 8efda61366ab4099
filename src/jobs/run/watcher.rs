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

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;

use nix::libc;

/// The most groups the watcher tracks at once (items running at once in
/// one worker are far fewer).
const MAX_GROUPS: usize = 4096;

/// The worker's end of the watcher's pipe.
#[derive(Debug)]
pub struct Watcher {
    pipe: OwnedFd,
}

static WATCHER: OnceLock<Option<Watcher>> = OnceLock::new();

impl Watcher {
    /// This process's watcher, started on first use; `None` if it could
    /// not be started (then only the death signal protects the commands).
    pub fn get() -> Option<&'static Watcher> {
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
        // SAFETY: the child branch runs only `watch`, which makes
        // async-signal-safe system calls (signal, close, read, kill,
        // _exit), allocates nothing and takes no lock, as a child forked
        // from a multi-threaded process must.
        match unsafe { nix::unistd::fork() }? {
            nix::unistd::ForkResult::Child => unsafe { watch(read_fd, write_fd, limit) },
            nix::unistd::ForkResult::Parent { .. } => {
                drop(read);
                Ok(Watcher { pipe: write })
            }
        }
    }

    /// Tells the watcher that group `pgid` runs.
    pub fn add(&self, pgid: i32) {
        self.send(pgid);
    }

    /// Tells the watcher that group `pgid` ended (call before reaping it).
    pub fn remove(&self, pgid: i32) {
        self.send(-pgid);
    }

    fn send(&self, record: i32) {
        let bytes = record.to_ne_bytes();
        // One write of 4 bytes to a pipe is atomic; if the watcher is gone
        // there is nobody to tell.
        let _ = nix::unistd::write(&self.pipe, &bytes);
    }
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
unsafe fn watch(read_fd: RawFd, write_fd: RawFd, limit: RawFd) -> ! {
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
                if record > 0 && count < MAX_GROUPS {
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
        libc::_exit(0)
    }
}
