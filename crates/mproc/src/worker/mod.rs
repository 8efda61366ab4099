//! Worker mode: what a process started by a pool does.
//!
//! A worker first moves its stdout pipe to a private close-on-exec
//! descriptor and points fd 1 at stderr, so nothing a job prints can corrupt
//! the frame stream. It writes its [`Hello`], reads its configure frame,
//! installs a `tracing` layer that forwards events as log frames, and then
//! runs items in the order they arrive until its stdin ends.
//!
//! Each result frame is written (and so in the pipe) before the next item
//! starts: if the worker dies, every item it finished has been reported and
//! the parent knows exactly which item was running. With concurrency K > 1
//! its K threads each claim the next item of the oldest chunk that has one
//! (`items.rs`), and report each item as it ends.

mod claim;
mod items;
mod log_layer;
pub(crate) mod panic;
mod queue;
mod watch;

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Write};
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::fcntl::{fcntl, FcntlArg};
use nix::sys::signal::{self, SigHandler, Signal};

use crate::child::{PARENT_ENV, WORKER_ARG, WORKER_ENV};
use crate::error::{Error, Result};
use crate::progress_page::Page;
use crate::protocol::{self, FrameReader, Hello, Reply, Request};
use crate::registry::{ErasedJob, Registry};
use items::Work;

/// The largest request frame a worker accepts (the parent is trusted).
const MAX_REQUEST: usize = 1 << 30;

/// The exit code of a worker that stopped on an error of its own (a
/// broken stream, a refused start), as opposed to a crash.
pub const WORKER_EXIT_ERROR: u8 = 3;

/// Exits at once, naming the missing call, when a process started as a
/// worker reaches `what` (`Pool::new`, `Process::start`) instead of
/// serving: its `main` did not call [`serve_if_worker`]. Without this, each
/// such worker would start a pool of its own, and so on.
pub(crate) fn refuse_nested_start(what: &str) {
    if std::env::var_os(WORKER_ENV).is_some() {
        eprintln!(
            "mproc: this process was started as a pool worker but reached {what}: \
             call mproc::serve_if_worker(&registry) first thing in main \
             (in tests: mproc::enable_test_support!(...))"
        );
        std::process::exit(i32::from(WORKER_EXIT_ERROR));
    }
}

/// Turns this process into a worker if a pool started it as one, and never
/// returns in that case; otherwise returns at once.
///
/// Call it first thing in `main` of any binary that creates a
/// [`Pool`](crate::Pool) or [`Process`](crate::Process): it is the Rust
/// counterpart of Python's `if __name__ == '__main__':` guard.
pub fn serve_if_worker(registry: &Registry) {
    let started_as_worker = std::env::var_os(WORKER_ENV).is_some()
        && std::env::args_os().nth(1).is_some_and(|a| a == WORKER_ARG);
    if started_as_worker {
        let code = serve(registry);
        std::process::exit(if code == ExitCode::SUCCESS {
            0
        } else {
            i32::from(WORKER_EXIT_ERROR)
        });
    }
}

/// Runs the worker loop on this process's stdin and stdout until stdin ends.
///
/// Call it while this process has one thread: it takes the worker marker
/// out of the environment, so that programs a job starts are not taken
/// for workers.
pub fn serve(registry: &Registry) -> ExitCode {
    std::env::remove_var(WORKER_ENV);
    claim::prepare();
    let parent = bind();
    match serve_inner(registry, parent) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mproc worker {}: {e}", std::process::id());
            ExitCode::from(WORKER_EXIT_ERROR)
        }
    }
}

/// Ties this worker to the process that started it, first thing: a
/// terminal's Ctrl-C and hangup reach the whole foreground group, and the
/// parent decides what they mean; and a local worker dies with the thread
/// that started it (`PR_SET_PDEATHSIG`, which `posix_spawn` in `child.rs`
/// cannot set). A parent that died before this line shows as another
/// parent pid: the worker exits. Returns the parent's pid, for the
/// progress page; `None` behind a launcher (its watchdog covers it).
fn bind() -> Option<i32> {
    // SAFETY: setting a signal to SIG_IGN installs no handler code.
    unsafe {
        let _ = signal::signal(Signal::SIGINT, SigHandler::SigIgn);
        let _ = signal::signal(Signal::SIGHUP, SigHandler::SigIgn);
    }
    let value = std::env::var(PARENT_ENV).ok();
    std::env::remove_var(PARENT_ENV);
    let parent: i32 = value?.parse().ok()?;
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
    if nix::unistd::getppid().as_raw() != parent {
        std::process::exit(i32::from(WORKER_EXIT_ERROR));
    }
    Some(parent)
}

/// A job ready to run, or why it could not be set up.
type SharedJob = Arc<Result<Box<dyn ErasedJob>, String>>;

/// How long a log record may wait in the worker before it is written.
const LOG_DELAY: Duration = Duration::from_millis(10);

/// Buffered bytes past which they are written at once.
const FLUSH_BYTES: usize = 64 << 10;

/// The worker's result stream, shared by the item loop, its threads and
/// the log layer. Results are written when a chunk (or, reporting each
/// item, an item) ends; log records are gathered and written with the
/// next result, or by the watcher thread within [`LOG_DELAY`] (see
/// `watch.rs`). So a busy worker makes one write per chunk, not one per
/// item or log line.
pub(crate) struct WorkerOutbox {
    inner: Mutex<Pending>,
}

struct Pending {
    file: File,
    buf: Vec<u8>,
    since: Option<Instant>,
}

impl WorkerOutbox {
    fn new(file: File) -> Arc<WorkerOutbox> {
        Arc::new(WorkerOutbox {
            inner: Mutex::new(Pending {
                file,
                buf: Vec::with_capacity(FLUSH_BYTES),
                since: None,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes `reply`, and everything gathered before it, now.
    pub(crate) fn send(&self, reply: &Reply) {
        let mut p = self.lock();
        if protocol::append_frame(&mut p.buf, reply).is_err() {
            return;
        }
        p.write();
    }

    /// Writes the reply `make` builds while the outbox is locked (so no
    /// other frame gets between what it saw and the reply), and everything
    /// gathered before it.
    pub(crate) fn send_with(&self, make: impl FnOnce() -> Reply) {
        let mut p = self.lock();
        if protocol::append_frame(&mut p.buf, &make()).is_err() {
            return;
        }
        p.write();
    }

    /// Writes everything gathered.
    pub(crate) fn flush(&self) {
        self.lock().write();
    }

    /// Gathers `reply` to be written soon (a log record).
    pub(crate) fn send_later(&self, reply: &Reply) {
        self.gather(reply, Instant::now);
    }

    /// [`WorkerOutbox::send_later`] of a reply made at `now` (a runner
    /// has just read the clock).
    pub(crate) fn send_later_at(&self, reply: &Reply, now: Instant) {
        self.gather(reply, || now);
    }

    fn gather(&self, reply: &Reply, now: impl FnOnce() -> Instant) {
        let mut p = self.lock();
        if protocol::append_frame(&mut p.buf, reply).is_err() {
            return;
        }
        if p.buf.len() >= FLUSH_BYTES {
            p.write();
        } else if p.since.is_none() {
            p.since = Some(now());
            drop(p);
            watch::flush_soon();
        }
    }

    /// When what is gathered must be written, if anything is.
    fn due(&self) -> Option<Instant> {
        self.lock().since.map(|since| since + LOG_DELAY)
    }

    /// Writes what is gathered if it has waited [`LOG_DELAY`].
    fn flush_due(&self) {
        let mut p = self.lock();
        if p.since.is_some_and(|since| since.elapsed() >= LOG_DELAY) {
            p.write();
        }
    }
}

impl Pending {
    /// Writes the buffer; if the parent is gone there is nothing left to do.
    fn write(&mut self) {
        self.since = None;
        if self.buf.is_empty() {
            return;
        }
        if self.file.write_all(&self.buf).is_err() {
            std::process::exit(0);
        }
        self.buf.clear();
        if self.buf.capacity() > 4 * FLUSH_BYTES {
            self.buf.shrink_to(FLUSH_BYTES);
        }
    }
}

/// What a worker needs to run a chunk: where results go, the progress
/// page, and whether to report each item.
struct Context {
    outbox: Arc<WorkerOutbox>,
    page: Option<Arc<Page>>,
    report_each: bool,
    /// Measure each item's own times (one clock reading an item).
    item_times: bool,
    /// When the hello was written: item times count from here.
    hello: Instant,
}

impl Context {
    /// Microseconds from the hello to `at`.
    fn since_hello(&self, at: Instant) -> u64 {
        micros(at.saturating_duration_since(self.hello))
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn serve_inner(registry: &Registry, parent: Option<i32>) -> Result<()> {
    // A local worker set its death signal in `bind`. Behind a launcher the
    // parent may be a launcher's short-lived thread (srun's slurmstepd),
    // whose end would kill us: there the watcher (`watch.rs`) ends the worker
    // when its stream closes.
    let page = parent.and_then(Page::inherited).map(Arc::new);
    let mut frames = take_stdout()?;
    let watched = frames.try_clone().ok();
    let mut first = Vec::new();
    protocol::append_hello_frame(&mut first, &Hello::new())?;
    let hello = Instant::now();
    frames
        .write_all(&first)
        .and_then(|()| frames.flush())
        .map_err(|e| Error::io("cannot write its hello", e))?;
    let outbox = WorkerOutbox::new(frames);
    // The watcher: the worker ends when nobody reads its results; a
    // stopping parent (SIGUSR1), or a SIGTERM to the whole group (GNU
    // `timeout`), first gets the results gathered here.
    let watcher = watch::start(watched, Arc::clone(&outbox));

    let stdin = std::io::stdin();
    let mut input = FrameReader::new(
        BufReader::with_capacity(64 << 10, stdin.lock()),
        MAX_REQUEST,
    );
    let Some(Configured {
        concurrency,
        report_each,
        item_times,
    }) = configure(&mut input, &outbox)?
    else {
        return Ok(());
    };

    let context = Arc::new(Context {
        outbox,
        report_each: report_each || page.is_none() || concurrency > 1,
        item_times,
        page,
        hello,
    });
    let mut runners: HashMap<u32, SharedJob> = HashMap::new();
    // This thread reads requests; runner threads run the chunks (with
    // concurrency K > 1, K items at once from any chunk), so a request to
    // take items back is answered while an item runs.
    let work = Work::new(concurrency);
    let threads = work
        .start(concurrency as usize, &context)
        .map_err(|e| Error::io("cannot start a runner thread", e))?;
    while let Some(frame) = input.read_raw()? {
        match protocol::decode_run(frame) {
            // The common request, read in place.
            Some(run) => {
                let run = run?;
                work.push(run.key, &runners, run.chunk, run.count, run.inputs);
            }
            None => {
                let request = protocol::decode::<Request>(frame)
                    .map_err(|e| Error::protocol(format!("malformed frame: {}", e.message())))?;
                handle(request, registry, &mut runners, &work, &context)?;
            }
        }
        // Chunks queued from one read are handed over with one wake-up:
        // with tiny chunks, a runner woken for each would sleep again
        // before the next (a system call on each side, per chunk).
        if input.get_mut().buffer().is_empty() {
            work.wake();
        }
    }
    work.close();
    for thread in threads {
        let _ = thread.join();
    }
    context.outbox.flush();
    // Nothing is left to watch for: one thread fewer to end at exit.
    if let Some(watcher) = watcher {
        watcher.stop();
    }
    Ok(())
}

/// What the configure frame asks of this worker.
struct Configured {
    concurrency: u32,
    report_each: bool,
    item_times: bool,
}

/// Reads the configure frame, which comes first, and installs the log
/// layer it asks for; `None` when the parent closed the stream before
/// sending it.
fn configure<R: std::io::Read>(
    input: &mut FrameReader<R>,
    outbox: &Arc<WorkerOutbox>,
) -> Result<Option<Configured>> {
    match input.read::<Request>()? {
        Some(Request::Configure {
            worker,
            log_filter,
            concurrency,
            report_each,
            item_times,
        }) => {
            log_layer::install(&log_filter, Arc::clone(outbox));
            tracing::trace!(worker, concurrency, "worker ready");
            Ok(Some(Configured {
                concurrency: concurrency.max(1),
                report_each,
                item_times,
            }))
        }
        Some(other) => Err(Error::protocol(format!(
            "expected a configure frame first, got {}",
            request_name(&other)
        ))),
        None => Ok(None),
    }
}

/// One request after the configure frame: a job to set up, a chunk to
/// queue for the runner threads, or items to take back.
fn handle(
    request: Request,
    registry: &Registry,
    runners: &mut HashMap<u32, SharedJob>,
    work: &Work,
    context: &Context,
) -> Result<()> {
    match request {
        Request::Setup { key, job, config } => {
            let job: SharedJob = Arc::new(registry.instantiate(&job, &config));
            work.set_up(key, &job);
            runners.insert(key, job);
        }
        Request::Run {
            key,
            chunk,
            count,
            inputs,
        } => {
            work.push(key, runners, chunk, count, &inputs);
        }
        Request::Take { chunk } => {
            // Under the outbox's lock: no result of a later chunk can
            // reach the parent before this answer.
            context.outbox.send_with(|| Reply::Taken {
                chunk,
                from: work.take(chunk),
            });
        }
        Request::Configure { .. } => return Err(Error::protocol("configure frame sent twice")),
    }
    Ok(())
}

/// The job set up under `key` in `jobs`, or why there is none.
fn job_for(jobs: &HashMap<u32, SharedJob>, key: u32) -> SharedJob {
    jobs.get(&key)
        .cloned()
        .unwrap_or_else(|| Arc::new(Err(format!("no job set up under key {key}"))))
}

fn request_name(request: &Request) -> &'static str {
    match request {
        Request::Configure { .. } => "configure",
        Request::Setup { .. } => "setup",
        Request::Run { .. } => "run",
        Request::Take { .. } => "take",
    }
}

/// Moves fd 1 (the frame pipe) to a private close-on-exec descriptor and
/// points fd 1 at stderr.
fn take_stdout() -> Result<File> {
    let _ = std::io::stdout().lock().flush();
    let raw = fcntl(std::io::stdout().as_fd(), FcntlArg::F_DUPFD_CLOEXEC(3))
        .map_err(|e| Error::io("cannot duplicate stdout", e.into()))?;
    // SAFETY: `raw` was just returned by fcntl and is owned by nothing else.
    let private = unsafe { OwnedFd::from_raw_fd(raw) };
    nix::unistd::dup2_stdout(std::io::stderr().as_fd())
        .map_err(|e| Error::io("cannot point stdout at stderr", e.into()))?;
    Ok(File::from(private))
}
