//! A worker's stdin as the parent writes it: frames go straight into the
//! pipe from the caller's thread while the pipe has room, and through a
//! writer thread only once it is full.
//!
//! The pipe is non-blocking on the parent's side. [`WorkerInput::send`]
//! writes what fits; the rest, and every later frame until the writer
//! thread has caught up, is queued for that thread, which waits for room.
//! So the order of frames is kept, the caller (the pool's scheduler) never
//! blocks on a worker that does not read, and a pool of tiny items pays
//! no thread hand-over per chunk. The writer thread is started the first
//! time the pipe is full, and ends when the input is closed and drained;
//! the pipe closes when both sides have let it go.

use std::io::Write;
use std::os::fd::AsFd;
use std::process::ChildStdin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, OnceLock};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// The parent's end of one worker's stdin.
pub(crate) struct WorkerInput {
    pipe: Arc<ChildStdin>,
    /// Buffers handed to the writer thread and not yet written.
    queued: Arc<AtomicUsize>,
    writer: OnceLock<Option<Sender<Vec<u8>>>>,
}

impl WorkerInput {
    /// Takes the worker's stdin; makes the parent's end non-blocking.
    pub(crate) fn new(pipe: ChildStdin) -> WorkerInput {
        let flags = fcntl(&pipe, FcntlArg::F_GETFL).map(OFlag::from_bits_truncate);
        if let Ok(flags) = flags {
            let _ = fcntl(&pipe, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK));
        }
        WorkerInput {
            pipe: Arc::new(pipe),
            queued: Arc::new(AtomicUsize::new(0)),
            writer: OnceLock::new(),
        }
    }

    /// Writes `frames` now if the pipe has room and nothing is queued
    /// before them; queues the rest for the writer thread. A worker that
    /// is gone drops them: its reader reports how it ended.
    pub(crate) fn send(&self, frames: Vec<u8>) {
        let mut rest = frames.as_slice();
        if self.queued.load(Ordering::Acquire) == 0 {
            loop {
                match (&*self.pipe).write(rest) {
                    Ok(n) if n == rest.len() => return,
                    Ok(0) => return,
                    Ok(n) => rest = &rest[n..],
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(_) => return,
                }
            }
        }
        let Some(writer) = self.writer() else {
            return;
        };
        self.queued.fetch_add(1, Ordering::AcqRel);
        if writer.send(rest.to_vec()).is_err() {
            self.queued.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// The writer thread's queue, started on first use (`None` if the
    /// thread could not start: the frames are dropped, and the worker,
    /// short of input, is ended by its deadlines).
    fn writer(&self) -> Option<&Sender<Vec<u8>>> {
        self.writer
            .get_or_init(|| {
                let (tx, rx) = mpsc::channel();
                let (pipe, queued) = (Arc::clone(&self.pipe), Arc::clone(&self.queued));
                std::thread::Builder::new()
                    .name("mproc-stdin".into())
                    .stack_size(256 << 10)
                    .spawn(move || write_loop(&pipe, &queued, rx))
                    .ok()
                    .map(|_| tx)
            })
            .as_ref()
    }
}

/// Writes each queued buffer whole, waiting for room in the pipe.
fn write_loop(pipe: &ChildStdin, queued: &AtomicUsize, rx: Receiver<Vec<u8>>) {
    for buf in rx {
        let written = write_all(pipe, &buf);
        queued.fetch_sub(1, Ordering::AcqRel);
        if !written {
            return;
        }
    }
}

/// Writes `buf` to the non-blocking `pipe`, polling for room; false once
/// the pipe is broken.
fn write_all(mut pipe: &ChildStdin, mut buf: &[u8]) -> bool {
    while !buf.is_empty() {
        match pipe.write(buf) {
            Ok(0) => return false,
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                let mut fds = [PollFd::new(pipe.as_fd(), PollFlags::POLLOUT)];
                match poll(&mut fds, PollTimeout::NONE) {
                    Ok(_) | Err(Errno::EINTR) => {}
                    Err(_) => return false,
                }
            }
            Err(_) => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::process::{Command, Stdio};

    /// More than a pipe holds, sent while nothing reads, arrives whole and
    /// in order once the reader reads.
    #[test]
    fn frames_past_a_full_pipe_arrive_in_order() {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let input = WorkerInput::new(child.stdin.take().unwrap());
        let mut stdout = child.stdout.take().unwrap();
        let mut sent = Vec::new();
        for i in 0..64u32 {
            let frame: Vec<u8> = (0..10_000u32).map(|j| (i * 7 + j) as u8).collect();
            sent.extend_from_slice(&frame);
            input.send(frame);
        }
        assert!(
            input.queued.load(Ordering::Acquire) > 0,
            "the pipe filled up"
        );
        drop(input);
        let mut got = Vec::new();
        stdout.read_to_end(&mut got).unwrap();
        assert!(got == sent, "{} bytes arrived of {}", got.len(), sent.len());
        assert!(child.wait().unwrap().success());
    }
}
