//! The worker's watcher: one thread that ends the worker when nobody reads
//! its results any more, acts on SIGUSR1 and SIGTERM, and writes gathered
//! results and log records that have waited their delay (one thread for
//! all three: each thread is paid for at every worker's start and exit).
//!
//! - **The parent is gone.** The thread polls the result stream's write
//!   end with no events asked: poll wakes only for an error or a hang-up,
//!   which a pipe reports once its reader is gone (the parent died, or,
//!   through a launcher such as ssh, the connection did). The kernel's
//!   death signal covers a local parent; this covers the rest, even while
//!   a job is stuck in a long computation.
//! - **Signals.** SIGUSR1 (the parent stops the pool: write what is
//!   gathered) and SIGTERM (write it, then end as SIGTERM asks). The
//!   handler only writes the signal's number to a pipe, which is
//!   async-signal-safe; the thread does the rest.
//! - **Gathered frames.** Results of fast chunks and log records wait in
//!   the outbox to be written with the next ones; the watcher writes them
//!   if they are still there after `LOG_DELAY` (a runner stuck in a long
//!   item cannot). While frames keep being gathered, the watcher wakes
//!   every `LOG_DELAY` on its own; only one asleep without a deadline is
//!   poked (a worker of tiny chunks gathers anew hundreds of times a
//!   second, and a poke each time cost a wake-up each time).
//! - **The end.** [`Watcher::stop`] writes a 0 to the same pipe: the
//!   thread returns, one thread fewer for the exit to end.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::fd::{AsFd, IntoRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Instant;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{self, SigHandler, Signal};

use super::WorkerOutbox;

/// The write end of the pipe the signal handler wakes the watcher through
/// (-1 before it exists).
static SIGNAL_PIPE: AtomicI32 = AtomicI32::new(-1);

/// The byte that asks the watcher to return.
const STOP: u8 = 0;

/// The byte that tells the watcher frames were gathered (no signal has
/// this number).
const GATHERED: u8 = 255;

extern "C" fn on_signal(signal: nix::libc::c_int) {
    poke(signal as u8);
}

/// Writes `byte` to the watcher's pipe, if there is one.
fn poke(byte: u8) {
    let fd = SIGNAL_PIPE.load(Ordering::Relaxed);
    if fd >= 0 {
        // SAFETY: write(2) on a pipe is async-signal-safe; the buffer is a
        // live local.
        unsafe {
            nix::libc::write(fd, (&byte as *const u8).cast(), 1);
        }
    }
}

/// The watcher sleeps with no deadline (and must be poked when frames
/// are gathered).
static DEEP: AtomicBool = AtomicBool::new(false);

/// Frames were gathered since the watcher last woke.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Tells the watcher that frames wait in the outbox (nothing happens if
/// it is not running: whatever writes next writes them too). Called with
/// the gathered frames already in the outbox: either the watcher sees
/// them before it sleeps without a deadline, or this sees it asleep.
pub(super) fn flush_soon() {
    ACTIVE.store(true, Ordering::SeqCst);
    if DEEP.load(Ordering::SeqCst) {
        poke(GATHERED);
    }
}

/// How long the watcher may sleep: until gathered frames are due; a
/// `LOG_DELAY` tick while frames keep being gathered; else until poked.
fn sleep_for(outbox: &WorkerOutbox) -> PollTimeout {
    let until = |due: Instant| {
        let ms = due.saturating_duration_since(Instant::now()).as_millis() + 1;
        PollTimeout::from(u16::try_from(ms).unwrap_or(u16::MAX))
    };
    if let Some(due) = outbox.due() {
        return until(due);
    }
    if ACTIVE.swap(false, Ordering::SeqCst) {
        return until(Instant::now() + super::LOG_DELAY);
    }
    DEEP.store(true, Ordering::SeqCst);
    match outbox.due() {
        Some(due) => {
            DEEP.store(false, Ordering::SeqCst);
            until(due)
        }
        None => PollTimeout::NONE,
    }
}

/// The running watcher.
pub(super) struct Watcher;

impl Watcher {
    /// Asks the watcher to return: the worker has written its last results.
    pub(super) fn stop(self) {
        poke(STOP);
    }
}

/// Starts the watcher over `watched` (a copy of the result stream, if one
/// could be made), and installs the handlers of SIGUSR1 and SIGTERM. `None`
/// if the thread could not start: the worker then runs unwatched.
pub(super) fn start(watched: Option<File>, outbox: Arc<WorkerOutbox>) -> Option<Watcher> {
    // Non-blocking: a poke never waits, even with the watcher gone and the
    // pipe full; close-on-exec: what a job starts does not get it.
    let (read, write) = nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC).ok()?;
    std::thread::Builder::new()
        .name("mproc-watch".into())
        .stack_size(64 << 10)
        .spawn(move || watch(watched, read, &outbox))
        .ok()?;
    SIGNAL_PIPE.store(write.into_raw_fd(), Ordering::Relaxed);
    // SAFETY: `on_signal` only loads an atomic and writes to a pipe, both
    // async-signal-safe.
    unsafe {
        let _ = signal::signal(Signal::SIGUSR1, SigHandler::Handler(on_signal));
        let _ = signal::signal(Signal::SIGTERM, SigHandler::Handler(on_signal));
    }
    Some(Watcher)
}

fn watch(watched: Option<File>, signals: OwnedFd, outbox: &WorkerOutbox) {
    let mut signals = File::from(signals);
    let gone = PollFlags::POLLERR | PollFlags::POLLHUP | PollFlags::POLLNVAL;
    loop {
        let mut fds = vec![PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
        if let Some(file) = &watched {
            fds.push(PollFd::new(file.as_fd(), PollFlags::empty()));
        }
        let timeout = sleep_for(outbox);
        let polled = poll(&mut fds, timeout);
        DEEP.store(false, Ordering::SeqCst);
        match polled {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(_) => return,
        }
        if fds
            .get(1)
            .and_then(PollFd::revents)
            .is_some_and(|r| r.intersects(gone))
        {
            std::process::exit(1);
        }
        let readable = fds[0].revents().is_some_and(|r| !r.is_empty());
        drop(fds);
        outbox.flush_due();
        if !readable {
            continue;
        }
        let mut byte = [0u8; 1];
        match signals.read(&mut byte) {
            Ok(1) if byte[0] != STOP => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                continue
            }
            _ => return,
        }
        if byte[0] == GATHERED {
            continue;
        }
        outbox.flush();
        if i32::from(byte[0]) == Signal::SIGTERM as i32 {
            // SAFETY: restoring the default action installs no code.
            unsafe {
                let _ = signal::signal(Signal::SIGTERM, SigHandler::SigDfl);
            }
            let _ = signal::raise(Signal::SIGTERM);
        }
    }
}
