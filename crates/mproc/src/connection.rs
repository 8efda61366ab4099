//! The parent's side of one live worker: its pipes and the threads that
//! serve them.
//!
//! Each worker gets two small threads, so no pipe can fill up unread, and
//! a third only when it needs one:
//! - a reader that checks the handshake, then turns result frames into
//!   [`ConnEvent`]s and log frames into events in the parent's log sink;
//! - a drain for the worker's stderr (which is also where a job's prints
//!   land), re-emitted line by line into the log sink;
//! - for its stdin, none while the pipe has room: frames are written from
//!   the caller's thread, and a writer thread starts the first time the
//!   pipe is full (`worker_input.rs`).
//!
//! The reader reaps the process when its stream ends and reports how it
//! ended, exactly once, as [`ConnEvent::Gone`]. This module knows frames
//! only as typed messages; it decides nothing about items.

use std::io::{BufRead, BufReader, Read};
use std::os::fd::AsFd;
use std::process::{ChildStderr, ChildStdin, ChildStdout};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::Duration;

use crate::child::{ChildGuard, WorkerCommand};
use crate::error::{Error, ErrorKind, Result};
use crate::log_bridge;
use crate::outcome::Exit;
use crate::progress_page::{Page, Running};
use crate::protocol::{self, Done, FrameReader, Hello, Reply, Request};
use crate::settings::PoolSettings;
use crate::worker_input::WorkerInput;

/// What a worker's reader thread reports.
#[derive(Debug)]
pub(crate) enum ConnEvent {
    /// The handshake succeeded; its frame was read at this instant (the
    /// worker's item times count from its hello).
    Ready(Hello, std::time::Instant),
    /// Items finished (every result frame that had already arrived).
    Done(Vec<Done>),
    /// Items `from ..` of chunk `chunk` were given back unrun (`None`:
    /// none was left).
    Taken { chunk: u64, from: Option<u32> },
    /// The worker is gone and reaped; `error` says why the parent gave up
    /// on its stream, if it did.
    Gone { exit: Exit, error: Option<Error> },
}

/// How long the reader pauses after handing over a batch of results.
const COALESCE: Duration = Duration::from_micros(50);

/// Where a connection's events go.
pub(crate) type Sink = Box<dyn Fn(ConnEvent) + Send + 'static>;

/// Settings shared by every worker connection of a pool.
#[derive(Debug, Clone)]
pub(crate) struct ConnConfig {
    /// One command per pool slot (a slot past the end uses the last).
    pub commands: Vec<WorkerCommand>,
    pub max_frame: usize,
    pub log_filter: String,
    pub concurrency: u32,
    /// Workers report every item (see `Request::Configure`), even those
    /// with a progress page.
    pub report_each: bool,
    /// Workers measure each item's own times (see `Request::Configure`).
    pub item_times: bool,
    /// The room each worker pipe is given (see [`pipe_room`]).
    pub pipe_room: usize,
}

/// The most room a pool's pipes take together, out of the user's pipe
/// quota (`/proc/sys/fs/pipe-user-pages-soft`, 64 MiB by default, past
/// which a user's new pipes get one page).
const PIPES_BUDGET: usize = 8 << 20;

/// The room each of the two pipes of `workers` workers is given: up to
/// 512 KiB, so that a report of a few thousand tiny items is written
/// without waiting for the reader (with the default 64 KiB, a 98 KB
/// report's write waited up to 1.2 ms), within [`PIPES_BUDGET`] in all;
/// the default 64 KiB from 64 workers on.
pub(crate) fn pipe_room(workers: usize) -> usize {
    let share = PIPES_BUDGET / (2 * workers.max(1));
    let room = if share.is_power_of_two() {
        share
    } else {
        share.next_power_of_two() / 2
    };
    room.clamp(64 << 10, 512 << 10)
}

/// Asks for `room` bytes on the pipe `fd` is an end of (best effort: past
/// the quota the kernel refuses, and the pipe keeps its room).
fn widen_pipe(fd: std::os::fd::BorrowedFd<'_>, room: usize) {
    if room > 64 << 10 {
        let _ = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_SETPIPE_SZ(room as i32));
    }
}

impl ConnConfig {
    /// The connection settings of a pool (or a [`Process`](crate::Process))
    /// with `settings`, whose slots run `commands`. The only place one is
    /// made.
    pub(crate) fn new(settings: &PoolSettings, commands: Vec<WorkerCommand>) -> ConnConfig {
        ConnConfig {
            pipe_room: pipe_room(commands.len()),
            commands,
            max_frame: settings.max_frame.min(protocol::DECODE_LIMIT),
            log_filter: settings
                .log_filter
                .clone()
                .unwrap_or_else(log_bridge::default_worker_filter),
            concurrency: settings.concurrency.max(1),
            // Time limits, retries of errors and halting need each item's
            // end as it happens.
            report_each: settings.timeout.is_some()
                || settings.retry_errors
                || settings.halt_on_error
                || settings.concurrency > 1,
            item_times: settings.item_times,
        }
    }

    /// The command of pool slot `worker`.
    pub(crate) fn command(&self, worker: usize) -> &WorkerCommand {
        &self.commands[worker.min(self.commands.len() - 1)]
    }
}

/// Where a worker's thread says it runs (its process and stdin), or why
/// it could not start it.
type StartedRx = Receiver<Result<(Arc<ChildGuard>, ChildStdin)>>;

/// A worker being started (see [`Connection::begin`]).
pub(crate) struct Starting {
    started: StartedRx,
    /// The configure frame, the first the worker reads.
    first: Vec<u8>,
    page: Option<Page>,
}

impl Starting {
    /// Waits until the worker runs (its program is executing), or for why
    /// it could not be started.
    pub(crate) fn started(self) -> Result<Connection> {
        let answer = self.started.recv().unwrap_or_else(|_| Err(thread_gone()));
        self.connect(answer)
    }

    /// [`Starting::started`] if the worker's start has returned, else
    /// this back.
    pub(crate) fn try_started(self) -> std::result::Result<Result<Connection>, Starting> {
        match self.started.try_recv() {
            Ok(answer) => Ok(self.connect(answer)),
            Err(mpsc::TryRecvError::Empty) => Err(self),
            Err(mpsc::TryRecvError::Disconnected) => Ok(Err(thread_gone())),
        }
    }

    /// True when the worker will name its running item on a progress page.
    pub(crate) fn has_page(&self) -> bool {
        self.page.is_some()
    }

    /// The item the worker's progress page names as running.
    pub(crate) fn running(&self) -> Option<Running> {
        self.page.as_ref().and_then(Page::running)
    }

    fn connect(self, answer: Result<(Arc<ChildGuard>, ChildStdin)>) -> Result<Connection> {
        let (child, stdin) = answer?;
        let input = WorkerInput::new(stdin);
        input.send(self.first);
        Ok(Connection {
            child,
            input: Some(input),
            page: self.page,
        })
    }
}

fn thread_gone() -> Error {
    Error::new(
        ErrorKind::Spawn,
        "a worker's pipe thread ended before starting it",
    )
}

/// A worker process started from a thread of its own, which waits to
/// learn which pool slot it serves before it reads the worker's output
/// ([`Spawned::attach`]). The thread that starts a local worker is its
/// parent for the death signal, so it lives as long as the worker: it
/// reaps it. A worker never attached is killed and reaped when this is
/// dropped (`warm.rs` starts workers before their pool).
pub(crate) struct Spawned {
    command: WorkerCommand,
    page: Option<Page>,
    started: Option<StartedRx>,
    attach: Option<mpsc::SyncSender<Attach>>,
    /// Disconnects once the thread has reaped the worker it started;
    /// `None` once attached (the thread then lives as long as the worker).
    ended: Option<Receiver<()>>,
}

/// Where a started worker's thread sends what it reads.
struct Attach {
    worker: usize,
    max: usize,
    sink: Sink,
}

impl Spawned {
    /// Starts a worker running `command`, its pipes given `room` bytes.
    pub(crate) fn new(command: WorkerCommand, room: usize) -> Result<Spawned> {
        // A local worker publishes its running item on a progress page.
        let page = if command.is_local() {
            Some(Page::create()?)
        } else {
            None
        };
        let (started_tx, started) = mpsc::sync_channel(1);
        let (attach, attached) = mpsc::sync_channel::<Attach>(1);
        let (ended_tx, ended) = mpsc::channel::<()>();
        let page_fd = page.as_ref().map(Page::raw_fd);
        let spawner = command.clone();
        spawn_thread("mproc-stdout", move || {
            let _ended = ended_tx;
            let spawned = spawner.spawn(page_fd).and_then(|mut child| {
                match (child.stdin.take(), child.stdout.take(), child.stderr.take()) {
                    (Some(i), Some(o), Some(e)) => {
                        widen_pipe(i.as_fd(), room);
                        widen_pipe(o.as_fd(), room);
                        Ok((Arc::new(ChildGuard::new(child)), i, o, e))
                    }
                    _ => {
                        drop(ChildGuard::new(child));
                        Err(Error::new(
                            ErrorKind::Spawn,
                            "worker pipes missing after spawn",
                        ))
                    }
                }
            });
            match spawned {
                Err(e) => {
                    let why = e.to_string();
                    let _ = started_tx.send(Err(e));
                    // A pool may have taken it before its start returned
                    // (`Pending` in the scheduler's `link.rs`): it learns
                    // that the worker is gone, as a shell would see a
                    // command it could not run.
                    if let Ok(Attach { sink, .. }) = attached.recv() {
                        sink(ConnEvent::Gone {
                            exit: Exit::Code(127),
                            error: Some(Error::new(ErrorKind::Spawn, why)),
                        });
                    }
                }
                Ok((child, stdin, stdout, stderr)) => {
                    let _ = started_tx.send(Ok((Arc::clone(&child), stdin)));
                    match attached.recv() {
                        Ok(Attach { worker, max, sink }) => {
                            let program = spawner.describe();
                            serve_pipes((stdout, stderr), worker, max, &child, &sink, &program);
                        }
                        // Not wanted after all: killed, and reaped here,
                        // its pipes open until then.
                        Err(_) => {
                            child.kill();
                            child.reap(Duration::ZERO);
                        }
                    }
                }
            }
        })?;
        Ok(Spawned {
            command,
            page,
            started: Some(started),
            attach: Some(attach),
            ended: Some(ended),
        })
    }

    /// The command the worker runs.
    pub(crate) fn command(&self) -> &WorkerCommand {
        &self.command
    }

    /// Makes the worker number `worker` of a pool with `config`, its
    /// events going to `sink`: its configure frame is queued, and its
    /// thread starts reading.
    pub(crate) fn attach(
        mut self,
        config: &ConnConfig,
        worker: usize,
        sink: Sink,
    ) -> Result<Starting> {
        let mut first = Vec::new();
        protocol::append_frame(
            &mut first,
            &Request::Configure {
                worker: worker as u32,
                log_filter: config.log_filter.clone(),
                concurrency: config.concurrency,
                report_each: config.report_each || self.page.is_none(),
                item_times: config.item_times,
            },
        )?;
        if let Some(attach) = self.attach.take() {
            let max = config.max_frame;
            // A thread that could not start the worker is gone: `started`
            // says why.
            let _ = attach.send(Attach { worker, max, sink });
        }
        self.ended = None;
        let Some(started) = self.started.take() else {
            return Err(Error::new(ErrorKind::Spawn, "a worker was attached twice"));
        };
        Ok(Starting {
            started,
            first,
            page: self.page.take(),
        })
    }

    /// Tells the thread of a worker never attached to kill and reap it,
    /// without waiting for that.
    pub(crate) fn dismiss(&mut self) {
        if self.attach.take().is_some() {
            // The worker's stdin comes once it is spawned: dropped here.
            if let Some(started) = self.started.take() {
                drop(started.recv());
            }
        }
    }
}

impl Drop for Spawned {
    /// A worker never attached is killed and reaped by its thread; this
    /// waits until it has been (no process outlives the one that started it).
    fn drop(&mut self) {
        self.dismiss();
        if let Some(ended) = self.ended.take() {
            let _ = ended.recv();
        }
    }
}

/// The worker's parent thread: starts the stderr thread, reads
/// the worker's output until it ends, reaps it, and reports it gone.
fn serve_pipes(
    (stdout, stderr): (ChildStdout, ChildStderr),
    worker: usize,
    max: usize,
    reaper: &ChildGuard,
    sink: &Sink,
    program: &str,
) {
    let pid = reaper.pid();
    let (drained_tx, drained) = mpsc::channel::<()>();
    let started = spawn_thread("mproc-stderr", move || {
        drain_stderr(stderr, worker, pid);
        drop(drained_tx);
    });
    let error = match started {
        Err(e) => Some(e),
        Ok(()) => read_loop(stdout, max, worker, reaper, sink, program).err(),
    };
    let grace = if error.is_some() {
        reaper.kill();
        Duration::ZERO
    } else {
        Duration::from_secs(2)
    };
    let exit = reaper.reap(grace);
    // Forward the worker's last printed lines before reporting it gone; a
    // grandchild holding the pipe open cannot hold us here.
    let _ = drained.recv_timeout(Duration::from_secs(1));
    sink(ConnEvent::Gone { exit, error });
}

/// A live worker process and its pipe threads.
pub(crate) struct Connection {
    child: Arc<ChildGuard>,
    input: Option<WorkerInput>,
    page: Option<Page>,
}

impl Connection {
    /// Starts worker number `worker` and its threads, and waits until it
    /// runs (see [`Connection::begin`]).
    pub(crate) fn start(config: &ConnConfig, worker: usize, sink: Sink) -> Result<Connection> {
        Connection::begin(config, worker, sink)?.started()
    }

    /// Starts worker number `worker` from a thread of its own, which goes
    /// on to read its output, and returns without waiting for it: a pool
    /// begins every worker, then waits for each, so the second does not
    /// wait for the first one's exec (on 2 CPUs it could wait for the first
    /// one's whole start-up). The configure frame is queued at once; the
    /// handshake is checked by the reader.
    pub(crate) fn begin(config: &ConnConfig, worker: usize, sink: Sink) -> Result<Starting> {
        Spawned::new(config.command(worker).clone(), config.pipe_room)?.attach(config, worker, sink)
    }

    /// True when the worker has a progress page.
    pub(crate) fn has_page(&self) -> bool {
        self.page.is_some()
    }

    /// The item the worker's progress page names as running.
    pub(crate) fn running(&self) -> Option<Running> {
        self.page.as_ref().and_then(Page::running)
    }

    /// The worker's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// Queues encoded frames for the worker's stdin. A worker that is gone
    /// drops them; its [`ConnEvent::Gone`] reports that.
    pub(crate) fn send(&self, frames: Vec<u8>) {
        if let Some(input) = &self.input {
            input.send(frames);
        }
    }

    /// Closes the worker's stdin after what is queued: it finishes its
    /// items and exits.
    pub(crate) fn close_input(&mut self) {
        self.input = None;
    }

    /// Sends a signal to the worker (unless it is already reaped).
    pub(crate) fn signal(&self, sig: nix::sys::signal::Signal) {
        self.child.signal(sig);
    }

    /// Kills the worker with SIGKILL (unless it is already reaped).
    pub(crate) fn kill(&self) {
        self.child.kill();
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // The reader thread reaps; killing here guarantees it gets to.
        if self.child.try_wait().is_none() {
            self.child.kill();
        }
    }
}

fn spawn_thread(name: &str, f: impl FnOnce() + Send + 'static) -> Result<()> {
    std::thread::Builder::new()
        .name(name.into())
        .stack_size(256 << 10)
        .spawn(f)
        .map(drop)
        .map_err(|e| Error::io("cannot start a pipe thread", e))
}

fn read_loop(
    stdout: ChildStdout,
    max: usize,
    worker: usize,
    child: &ChildGuard,
    sink: &Sink,
    program: &str,
) -> Result<()> {
    let mut frames = FrameReader::new(BufReader::with_capacity(64 << 10, stdout), max);
    let hello = read_hello(&mut frames, program)?;
    let at = std::time::Instant::now();
    let pid = hello.pid;
    sink(ConnEvent::Ready(hello, at));
    let mut done = Vec::new();
    while let Some(reply) = frames.read::<Reply>()? {
        match reply {
            Reply::Done(d) => done.push(d),
            Reply::Log(record) => log_bridge::emit_worker(worker, pid, &record),
            Reply::Taken { chunk, from } => {
                // In order: the results read before it go first.
                if !done.is_empty() {
                    sink(ConnEvent::Done(std::mem::take(&mut done)));
                }
                sink(ConnEvent::Taken { chunk, from });
            }
        }
        // Hand over a batch once no more frames are already buffered, so a
        // burst of results wakes the scheduler once.
        if !done.is_empty() && frames.get_mut().buffer().is_empty() {
            sink(ConnEvent::Done(std::mem::take(&mut done)));
            // Let a busy worker's next results pile up, so they are read
            // with one call and one wake-up instead of one each.
            std::thread::sleep(COALESCE);
        }
    }
    if !done.is_empty() {
        sink(ConnEvent::Done(done));
    }
    let _ = child;
    Ok(())
}

fn read_hello<R: Read>(frames: &mut FrameReader<BufReader<R>>, program: &str) -> Result<Hello> {
    let handshake = |msg: String| Error::new(ErrorKind::Handshake, msg);
    if let Ok(first) = frames.get_mut().fill_buf() {
        if let Some(text) = protocol::text_instead_of_frames(first) {
            return Err(handshake(format!("{program} {text}")));
        }
    }
    let bytes = match frames.read_raw() {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return Err(handshake(format!(
                "{program} closed its output before the handshake"
            )))
        }
        Err(e) => return Err(handshake(format!("{program} failed the handshake: {e}"))),
    };
    protocol::decode_hello(bytes).map_err(|e| handshake(format!("{program} {}", e.message())))
}

fn drain_stderr(stderr: ChildStderr, worker: usize, pid: u32) {
    const MAX_LINE: usize = 64 << 10;
    let mut reader = BufReader::with_capacity(64 << 10, stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        match (&mut reader)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut line)
        {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    line.pop();
                }
                log_bridge::emit_output(worker, pid, &String::from_utf8_lossy(&line));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{pipe_room, PIPES_BUDGET};

    #[test]
    fn a_pools_pipes_stay_within_their_budget_of_the_users_quota() {
        for (workers, room) in [(1, 512), (2, 512), (8, 512), (16, 256), (32, 128), (64, 64)] {
            assert_eq!(pipe_room(workers), room << 10, "{workers} workers");
        }
        for workers in 1..=1000 {
            let room = pipe_room(workers);
            assert!(
                room.is_power_of_two() && room >= 64 << 10,
                "{workers}: {room}"
            );
            // Past 64 workers each pipe keeps the default room.
            assert!(
                workers >= 64 || 2 * workers * room <= PIPES_BUDGET,
                "{workers}: {room}"
            );
        }
    }
}
