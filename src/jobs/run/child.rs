//! One command as a grandchild the worker owns: started in its own process
//! group and registered with the [`Watcher`], which kills the group if the
//! worker dies,
//! its stdout and stderr read as they come (spooled to a file past
//! [`INLINE_MAX`]), then reaped.

use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use serde::{Deserialize, Serialize};

use super::orphans;
use super::spool;
use super::watcher::Watcher;

/// Bytes of one stream kept in memory; past this, the stream goes to a
/// spool file (or, where there is no spool folder, is cut here).
pub(super) const INLINE_MAX: usize = 4 << 20;

/// One captured stream: in memory, or in a spool file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Captured {
    /// The bytes, or the first ones when `len` is larger and there is no
    /// spool file.
    pub bytes: Vec<u8>,
    /// The name (never a path) of the spool file holding all `len` bytes
    /// (then `bytes` is empty), as the worker sent it: read only once
    /// [`resolve`](Captured::resolve) has found it in the run's folder.
    pub spooled: Option<String>,
    /// Bytes the command wrote in all.
    pub len: u64,
    /// The spool file's path, once resolved in this process.
    #[serde(skip)]
    file: Option<PathBuf>,
}

impl Captured {
    /// Captured bytes in memory.
    pub(crate) fn in_memory(bytes: Vec<u8>) -> Captured {
        Captured {
            len: bytes.len() as u64,
            bytes,
            ..Captured::default()
        }
    }

    /// Finds the spool file of item `seq` in `dir` (or in this process's
    /// run folder): the only way a spool file is ever read or removed. A
    /// name that is not this item's file in that folder is refused, and the
    /// stream then reads as empty.
    pub(crate) fn resolve(&mut self, dir: Option<&Path>, seq: u64) -> Result<(), String> {
        let Some(name) = &self.spooled else {
            return Ok(());
        };
        match spool::resolve(dir, name, seq) {
            Ok(path) => {
                self.file = Some(path);
                Ok(())
            }
            Err(why) => {
                self.spooled = None;
                Err(why)
            }
        }
    }

    /// Reads at most `limit` bytes (from memory or the spool file).
    pub(crate) fn head(&self, limit: usize) -> Vec<u8> {
        match &self.file {
            Some(path) => {
                let mut out = Vec::new();
                if let Ok(f) = open_plain(path) {
                    let _ = f.take(limit as u64).read_to_end(&mut out);
                }
                out
            }
            None => self.bytes[..self.bytes.len().min(limit)].to_vec(),
        }
    }

    /// Copies everything into `out`.
    pub(crate) fn copy_to(&self, out: &mut dyn Write) -> std::io::Result<()> {
        match &self.file {
            Some(path) => std::io::copy(&mut open_plain(path)?, out).map(drop),
            None => out.write_all(&self.bytes),
        }
    }

    /// Forgets the bytes and removes the spool file, keeping the length.
    pub(crate) fn release(&mut self) {
        if let Some(path) = self.file.take() {
            let _ = std::fs::remove_file(path);
        }
        self.spooled = None;
        self.bytes = Vec::new();
    }
}

/// Opens a spool file for reading, never through a symbolic link.
fn open_plain(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ended {
    /// It exited with this code.
    Code(i32),
    /// A signal killed it.
    Signal(i32),
}

/// A finished command.
#[derive(Debug)]
pub(super) struct Finished {
    /// How it ended.
    pub ended: Ended,
    /// Its stdout.
    pub stdout: Captured,
    /// Its stderr (empty with `pass_stderr`).
    pub stderr: Captured,
    /// Why what it wrote is not all there (a spool write that failed,
    /// output past the in-memory limit with no spool folder), if so.
    pub lost: Option<String>,
}

/// Why a command could not start.
#[derive(Debug)]
pub(super) struct StartError(pub std::io::Error);

/// Runs `argv` with `MPROC_SEQ`/`PARALLEL_SEQ` set to `seq`, stdin from
/// `/dev/null`, and waits for it and for the end of its output.
pub(super) fn run(
    argv: &[OsString],
    seq: u64,
    pass_stderr: bool,
    spool: Option<&Path>,
) -> Result<Finished, StartError> {
    let watcher = Watcher::get();
    let (item, mark) = orphans::begin();
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .env(orphans::VAR, mark)
        .env("MPROC_SEQ", seq.to_string())
        .env("PARALLEL_SEQ", seq.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(if pass_stderr {
            Stdio::inherit()
        } else {
            Stdio::piped()
        });
    // Its own group, so a timeout or Ctrl-C can end all of it. No
    // `pre_exec`: std then starts it with posix_spawn (vfork-fast), which
    // matters when each item is one short command.
    cmd.process_group(0);
    unignore_sigint();
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            orphans::end(item, watcher.map(Watcher::pid));
            return Err(StartError(e));
        }
    };
    let pid = child.id() as i32;
    if let Some(w) = watcher {
        w.add(pid);
    }
    let mut out = Capture::new(spool, seq, "stdout");
    let mut err = Capture::new(spool, seq, "stderr");
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    pump(pid, stdout, stderr, &mut out, &mut err);
    // Wait without reaping, end what is left of the group (a background
    // child), tell the watcher, then reap: the group's id cannot be reused
    // while its leader is unreaped.
    let _ = nix::sys::wait::waitid(
        nix::sys::wait::Id::Pid(nix::unistd::Pid::from_raw(pid)),
        nix::sys::wait::WaitPidFlag::WEXITED | nix::sys::wait::WaitPidFlag::WNOWAIT,
    );
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(-pid),
        nix::sys::signal::Signal::SIGKILL,
    );
    if let Some(w) = watcher {
        w.remove(pid);
    }
    let status = child.wait();
    // Then what left the group: orphans that came to this process.
    orphans::end(item, watcher.map(Watcher::pid));
    let status = status.map_err(StartError)?;
    let ended = match (status.code(), status.signal()) {
        (Some(code), _) => Ended::Code(code),
        (None, Some(sig)) => Ended::Signal(sig),
        (None, None) => Ended::Code(-1),
    };
    let (stdout, lost_out) = out.finish();
    let (stderr, lost_err) = err.finish();
    Ok(Finished {
        ended,
        stdout,
        stderr,
        lost: lost_out.or(lost_err),
    })
}

/// A worker ignores SIGINT and SIGHUP (the parent decides), and an
/// ignored signal stays ignored across `exec`: commands would inherit that.
/// A handler that does nothing ignores it just as well here, and `exec`
/// resets it to the default. Only an ignored signal is replaced (never a
/// parent's own handler, with `--serial`).
fn unignore_sigint() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    extern "C" fn nothing(_: nix::libc::c_int) {}
    ONCE.call_once(|| {
        use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
        let handler = SigAction::new(
            SigHandler::Handler(nothing),
            SaFlags::SA_RESTART,
            SigSet::empty(),
        );
        for signal in [Signal::SIGINT, Signal::SIGHUP] {
            // SAFETY: installs a handler that does nothing (async-signal-safe
            // trivially), and only to put back an ignored disposition.
            unsafe {
                if let Ok(old) = sigaction(signal, &handler) {
                    if old.handler() != SigHandler::SigIgn {
                        let _ = sigaction(signal, &old);
                    }
                }
            }
        }
    });
}

/// A descriptor that becomes readable when process `pid` exits.
fn pidfd(pid: i32) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open takes two numbers and returns a new descriptor
    // (or -1), which we own from here on.
    let fd = unsafe { nix::libc::syscall(nix::libc::SYS_pidfd_open, pid, 0) };
    (fd >= 0).then(|| unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) })
}

/// Reads both pipes, so neither can fill up unread, until both end or
/// the command itself has exited: then what is already in the pipes is
/// read and the rest ignored (a background child it left may keep them
/// open). Without pidfds (Linux before 5.3), until both end.
fn pump(
    pid: i32,
    stdout: Option<std::process::ChildStdout>,
    stderr: Option<std::process::ChildStderr>,
    out: &mut Capture,
    err: &mut Capture,
) {
    let mut streams: Vec<(Box<dyn ReadFd>, &mut Capture)> = Vec::new();
    if let Some(s) = stdout {
        streams.push((Box::new(s), out));
    }
    if let Some(s) = stderr {
        streams.push((Box::new(s), err));
    }
    let exited = pidfd(pid);
    let mut buf = vec![0u8; 64 << 10];
    while !streams.is_empty() {
        let (ready, gone): (Vec<usize>, bool) = {
            let mut fds: Vec<PollFd<'_>> = streams
                .iter()
                .map(|(s, _)| PollFd::new(s.fd(), PollFlags::POLLIN))
                .collect();
            if let Some(fd) = &exited {
                fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLIN));
            }
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(_) => return,
            }
            let fired = |i: usize| fds[i].revents().is_some_and(|r| !r.is_empty());
            (
                (0..streams.len()).filter(|&i| fired(i)).collect(),
                exited.is_some() && fired(streams.len()),
            )
        };
        if gone {
            drain(&mut streams, &mut buf);
            return;
        }
        // From the last, so removing a finished stream moves no other.
        for i in ready.into_iter().rev() {
            match streams[i].0.read(&mut buf) {
                Ok(0) => drop(streams.remove(i)),
                Ok(n) => streams[i].1.push(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => drop(streams.remove(i)),
            }
        }
    }
}

/// Reads what is already in each pipe, without waiting for more.
fn drain(streams: &mut [(Box<dyn ReadFd>, &mut Capture)], buf: &mut [u8]) {
    for (stream, capture) in streams.iter_mut() {
        if nix::fcntl::fcntl(
            stream.fd(),
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        )
        .is_err()
        {
            continue;
        }
        loop {
            match stream.read(buf) {
                Ok(0) => break,
                Ok(n) => capture.push(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    }
}

trait ReadFd: Read {
    fn fd(&self) -> std::os::fd::BorrowedFd<'_>;
}

impl ReadFd for std::process::ChildStdout {
    fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.as_fd()
    }
}

impl ReadFd for std::process::ChildStderr {
    fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.as_fd()
    }
}

/// One stream being captured.
struct Capture {
    name: &'static str,
    bytes: Vec<u8>,
    file: Option<(File, PathBuf)>,
    len: u64,
    /// Where the stream goes once it passes [`INLINE_MAX`], if anywhere.
    spool: Option<PathBuf>,
    /// Why the capture stopped keeping bytes: then only `len` counts on.
    lost: Option<String>,
}

impl Capture {
    fn new(dir: Option<&Path>, seq: u64, name: &'static str) -> Capture {
        static N: AtomicU64 = AtomicU64::new(0);
        Capture {
            name,
            bytes: Vec::new(),
            file: None,
            len: 0,
            lost: None,
            spool: dir.map(|d| {
                d.join(spool::file_name(
                    seq,
                    N.fetch_add(1, Ordering::Relaxed),
                    name,
                ))
            }),
        }
    }

    fn push(&mut self, data: &[u8]) {
        self.len += data.len() as u64;
        if self.lost.is_some() {
            return;
        }
        if let Some((file, path)) = &mut self.file {
            if let Err(e) = file.write_all(data) {
                let path = path.clone();
                self.fail(&path, &e);
            }
            return;
        }
        if self.bytes.len() + data.len() <= INLINE_MAX {
            self.bytes.extend_from_slice(data);
            return;
        }
        let Some(path) = self.spool.take() else {
            self.lost = Some(format!(
                "{} passed the {} MiB kept in memory and this worker has no spool folder",
                self.name,
                INLINE_MAX >> 20
            ));
            return;
        };
        let written = create_private(&path).and_then(|mut file| {
            file.write_all(&self.bytes)?;
            file.write_all(data)?;
            Ok(file)
        });
        match written {
            Ok(file) => {
                self.bytes = Vec::new();
                self.file = Some((file, path));
            }
            Err(e) => self.fail(&path, &e),
        }
    }

    /// A spool write failed: nothing of the stream is kept, and the item
    /// fails naming the file and the error.
    fn fail(&mut self, path: &Path, e: &std::io::Error) {
        self.lost = Some(format!(
            "cannot write {} to spool file {}: {}",
            self.name,
            path.display(),
            crate::errors::io_message(e)
        ));
        self.file = None;
        self.bytes = Vec::new();
        let _ = std::fs::remove_file(path);
    }

    /// The captured stream, and why it is not whole, if it is not.
    fn finish(self) -> (Captured, Option<String>) {
        let spooled = self
            .file
            .as_ref()
            .and_then(|(_, path)| path.file_name().map(|n| n.to_string_lossy().into_owned()));
        let captured = Captured {
            bytes: self.bytes,
            file: self.file.map(|(_, path)| path),
            spooled,
            len: self.len,
        };
        (captured, self.lost)
    }
}

/// Creates a new spool file readable by its owner alone; never opens a
/// file that is already there.
fn create_private(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}
