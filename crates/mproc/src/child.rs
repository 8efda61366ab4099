//! Starting worker processes and owning them until they are reaped.
//!
//! [`WorkerCommand`] says what to run: by default this very executable with
//! the hidden `worker` subcommand and nothing of the parent's argv;
//! optionally behind a launcher (`ssh -T host`, `srun -N1 -n1`, a wrapper
//! script) that gives the worker's standard streams from elsewhere.
//! [`ChildGuard`] owns a started child: it can signal it without racing pid
//! reuse, waits with a deadline, and kills and reaps it when dropped, so no
//! handle ever leaves a process behind.
//!
//! A launcher is stopped more gently than a worker: SIGTERM first (`srun`
//! then cancels its job step at once, `ssh` closes its session, which ends
//! the remote worker through its watchdog), SIGKILL after
//! [`LAUNCHER_GRACE`]. Its death signal, should this process die first, is
//! SIGTERM too, set between fork and exec. A worker started directly is
//! started with `posix_spawn` (no fork of this process's memory) and sets
//! its own death signal, SIGKILL, first thing (`worker::bind`).

use std::ffi::OsString;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{self, SigHandler, Signal};
use nix::unistd::Pid;

use crate::error::{Error, ErrorKind, Result};
use crate::outcome::Exit;

/// The environment variable that marks a process as an mproc worker.
pub(crate) const WORKER_ENV: &str = "MPROC_WORKER";

/// The environment variable that gives a local worker the pid of the
/// process that started it (see `worker::bind`).
pub(crate) const PARENT_ENV: &str = "MPROC_PARENT";

/// The argument that starts worker mode.
pub(crate) const WORKER_ARG: &str = "worker";

/// How long a launcher has to exit after SIGTERM before it gets SIGKILL.
pub(crate) const LAUNCHER_GRACE: Duration = Duration::from_secs(1);

/// Pids started behind a launcher, between [`WorkerCommand::spawn`] and
/// [`ChildGuard::new`] (the child is not reaped in between, so its pid
/// cannot be reused).
static LAUNCHED: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// What to execute for a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerCommand {
    launcher: Vec<OsString>,
    program: PathBuf,
    args: Vec<OsString>,
    host: Option<String>,
}

impl WorkerCommand {
    /// This executable (`/proc/self/exe`, else `current_exe()`) with `worker`.
    pub fn current_exe() -> Result<Self> {
        let program = match std::fs::read_link("/proc/self/exe") {
            Ok(p) if p.exists() => PathBuf::from("/proc/self/exe"),
            _ => std::env::current_exe().map_err(|e| {
                Error::new(
                    ErrorKind::Spawn,
                    format!("cannot find this executable: {e}"),
                )
            })?,
        };
        Ok(WorkerCommand::program(program))
    }

    /// Another executable, started with `worker` as its one argument.
    pub fn program(program: impl Into<PathBuf>) -> Self {
        WorkerCommand {
            launcher: Vec::new(),
            program: program.into(),
            args: vec![WORKER_ARG.into()],
            host: None,
        }
    }

    /// Runs the worker behind `launcher` (its words come first), e.g.
    /// `["ssh", "-T", "host2"]` or `["srun", "-N1", "-n1"]`. The program is
    /// then looked up where the launcher runs it.
    pub fn with_launcher(mut self, launcher: Vec<OsString>) -> Self {
        self.launcher = launcher;
        self
    }

    /// Names the host the worker runs on, for messages, job logs and the
    /// timeline.
    pub fn on_host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// The program's path (on the worker's side of any launcher).
    pub fn path(&self) -> &std::path::Path {
        &self.program
    }

    /// The host the worker runs on, if it is not this one.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// How messages name this worker: `worker on HOST`, or `worker PROGRAM`.
    pub fn describe(&self) -> String {
        match &self.host {
            Some(host) => format!("worker on {host}"),
            None => format!("worker {}", self.program.display()),
        }
    }

    /// True for a worker this process starts itself, on this machine
    /// (no launcher, no host): it can be handed a progress page.
    pub(crate) fn is_local(&self) -> bool {
        self.launcher.is_empty() && self.host.is_none()
    }

    /// Starts one worker with piped stdin, stdout and stderr. A local
    /// worker is handed `page`, a progress page's descriptor in this
    /// process, by number: it opens it through `/proc` (see
    /// `progress_page.rs`).
    pub(crate) fn spawn(&self, page: Option<i32>) -> Result<Child> {
        let mut words = self
            .launcher
            .iter()
            .cloned()
            .chain(std::iter::once(self.program.clone().into_os_string()));
        let first = words.next().unwrap_or_default();
        let mut cmd = Command::new(&first);
        cmd.args(words)
            .args(&self.args)
            .env(WORKER_ENV, "1")
            .env_remove(PARENT_ENV)
            .env_remove(crate::progress_page::PROGRESS_ENV)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if self.is_local() {
            // The worker ties itself to this process (see `worker::bind`):
            // with no `pre_exec` hook, std starts it with `posix_spawn`,
            // which does not copy this process's memory (a fork of a
            // parent with threads and a large binary mapped was most of
            // the time between two workers' starts).
            cmd.env(PARENT_ENV, std::process::id().to_string());
            if let Some(fd) = page {
                cmd.env(crate::progress_page::PROGRESS_ENV, fd.to_string());
            }
        } else {
            before_exec(&mut cmd);
        }
        let child = cmd.spawn().map_err(|e| {
            Error::new(
                ErrorKind::Spawn,
                format!(
                    "cannot start {} ({}): {}",
                    self.describe(),
                    std::path::Path::new(&first).display(),
                    crate::error::lower_first(&e.to_string())
                ),
            )
            .with_source(e)
        })?;
        if !self.launcher.is_empty() {
            LAUNCHED
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(child.id());
        }
        Ok(child)
    }
}

/// What a launcher's child does between fork and exec: get SIGTERM when
/// this process dies (so that `srun` cancels its step and `ssh` closes its
/// session), and ignore SIGINT and SIGHUP (the parent decides). A local
/// worker does the same for itself, with SIGKILL, first thing in
/// `worker::bind`.
fn before_exec(cmd: &mut Command) {
    let parent = nix::unistd::getpid();
    let death = Signal::SIGTERM;
    // SAFETY: the closure runs in the forked child before exec and only
    // makes async-signal-safe system calls (sigaction, prctl, getppid,
    // kill); it allocates nothing and takes no lock.
    unsafe {
        cmd.pre_exec(move || {
            // Die with the parent, even if it is SIGKILLed. This child's
            // parent is this process, never a launcher's thread: what a
            // launcher starts relies on its stream closing instead.
            // Until exec the child still has the parent's handlers: a
            // SIGTERM delivered now would run the parent's handler and be
            // lost, and the launcher would outlive us. So the default
            // action first.
            let _ = signal::signal(death, SigHandler::SigDfl);
            let _ = nix::sys::prctl::set_pdeathsig(death);
            if nix::unistd::getppid() != parent {
                let _ = signal::raise(death);
            }
            // Ctrl-C and a terminal's hangup reach the whole foreground
            // group; the parent decides.
            let _ = signal::signal(Signal::SIGINT, SigHandler::SigIgn);
            let _ = signal::signal(Signal::SIGHUP, SigHandler::SigIgn);
            Ok(())
        });
    }
}

/// Owns a child process until it is reaped. Dropping it kills and reaps.
#[derive(Debug)]
pub(crate) struct ChildGuard {
    inner: Arc<Owned>,
    launcher: bool,
}

#[derive(Debug)]
struct Owned {
    child: Mutex<Child>,
    exit: Mutex<Option<Exit>>,
    pid: u32,
}

impl ChildGuard {
    pub(crate) fn new(child: Child) -> Self {
        let pid = child.id();
        let launcher = {
            let mut launched = LAUNCHED.lock().unwrap_or_else(|e| e.into_inner());
            let found = launched.iter().position(|&p| p == pid);
            found.map(|i| launched.swap_remove(i)).is_some()
        };
        ChildGuard {
            inner: Arc::new(Owned {
                child: Mutex::new(child),
                exit: Mutex::new(None),
                pid,
            }),
            launcher,
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.inner.pid
    }

    /// Sends `sig` unless the child was already reaped (so never to a reused
    /// pid). SIGKILL to a launcher goes the way of [`kill`](Self::kill):
    /// only a signal it can catch lets it stop what it started elsewhere.
    pub(crate) fn signal(&self, sig: Signal) {
        if self.launcher && sig == Signal::SIGKILL {
            return self.kill();
        }
        self.inner.signal(sig);
    }

    /// Kills the child unless it was already reaped: SIGKILL for a worker;
    /// for a launcher SIGTERM, then SIGKILL if it is still there after
    /// [`LAUNCHER_GRACE`]. Does not wait.
    pub(crate) fn kill(&self) {
        if !self.launcher {
            return self.inner.signal(Signal::SIGKILL);
        }
        self.inner.signal(Signal::SIGTERM);
        let owned = Arc::clone(&self.inner);
        let escalation = std::thread::Builder::new()
            .name("mproc-launcher-kill".into())
            .stack_size(64 << 10)
            .spawn(move || {
                if owned.wait_timeout(LAUNCHER_GRACE).is_none() {
                    owned.signal(Signal::SIGKILL);
                }
            });
        if escalation.is_err() {
            self.inner.signal(Signal::SIGKILL);
        }
    }

    /// Reaps the child if it has exited.
    pub(crate) fn try_wait(&self) -> Option<Exit> {
        self.inner.try_wait()
    }

    /// Waits up to `limit` for the child to exit; `None` if it is still running.
    pub(crate) fn wait_timeout(&self, limit: Duration) -> Option<Exit> {
        self.inner.wait_timeout(limit)
    }

    /// Waits up to `grace` for a clean exit, then kills (a launcher gets
    /// [`LAUNCHER_GRACE`] after SIGTERM); always reaps.
    pub(crate) fn reap(&self, grace: Duration) -> Exit {
        if let Some(exit) = self.wait_timeout(grace) {
            return exit;
        }
        if self.launcher {
            self.inner.signal(Signal::SIGTERM);
            if let Some(exit) = self.wait_timeout(LAUNCHER_GRACE) {
                return exit;
            }
        }
        self.inner.signal(Signal::SIGKILL);
        let owned = &self.inner;
        let mut child = owned.child.lock().unwrap_or_else(|e| e.into_inner());
        let mut exit = owned.exit.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(exit) = *exit {
            return exit;
        }
        let status = child
            .wait()
            .map(Exit::from_status)
            .unwrap_or(Exit::Code(-1));
        *exit = Some(status);
        status
    }
}

impl Owned {
    fn signal(&self, sig: Signal) {
        let _child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        if self
            .exit
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none()
        {
            let _ = signal::kill(Pid::from_raw(self.pid as i32), sig);
        }
    }

    fn try_wait(&self) -> Option<Exit> {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        let mut exit = self.exit.lock().unwrap_or_else(|e| e.into_inner());
        if exit.is_none() {
            if let Ok(Some(status)) = child.try_wait() {
                *exit = Some(Exit::from_status(status));
            }
        }
        *exit
    }

    fn wait_timeout(&self, limit: Duration) -> Option<Exit> {
        let deadline = Instant::now() + limit;
        if let Some(exit) = self.try_wait() {
            return Some(exit);
        }
        // A process's pidfd turns readable when it exits: the wait ends
        // the moment the child does, with no polling. (The child is not
        // reaped yet, so its pid names it.)
        if let Some(pidfd) = pidfd_open(self.pid) {
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                let ms = u16::try_from(left.as_millis().saturating_add(1)).unwrap_or(u16::MAX);
                let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
                let _ = poll(&mut fds, PollTimeout::from(ms));
                if let Some(exit) = self.try_wait() {
                    return Some(exit);
                }
                if Instant::now() >= deadline {
                    return None;
                }
            }
        }
        let mut pause = Duration::from_micros(50);
        loop {
            if let Some(exit) = self.try_wait() {
                return Some(exit);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }
}

/// A descriptor that turns readable when process `pid` exits (Linux 5.3
/// and later); `None` where the kernel has no `pidfd_open`.
fn pidfd_open(pid: u32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new
    // descriptor or -1; it touches no memory of ours.
    let fd = unsafe { nix::libc::syscall(nix::libc::SYS_pidfd_open, pid as nix::libc::pid_t, 0) };
    let fd = i32::try_from(fd).ok().filter(|&fd| fd >= 0)?;
    // SAFETY: the descriptor was just returned to us and nothing else owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.try_wait().is_none() {
            self.reap(Duration::ZERO);
        }
    }
}
