//! The scheduler: one thread per pool that owns the worker processes, the
//! queue of chunks, and every item's fate.
//!
//! Everything reaches it as an [`Event`] on one channel: submissions from
//! the pool's handles, and results, handshakes and deaths from the worker
//! connections. It keeps, per worker, the chunks sent to it in order. A
//! worker of concurrency 1 runs its chunks in that order and the items of
//! a chunk in order (one of K > 1 claims items in that order, K at once,
//! and reports each as it ends: `lanes.rs`), so when it dies the parent
//! knows which item was running: a local worker names it on its progress page
//! (`progress.rs`), and a worker that reports each item has reported every
//! item before it. That item crashed (or timed out); the items of its chunk
//! that finished but were not reported, and every later item, go back to
//! the front of the queue, never lost.
//!
//! How items are cut into chunks and spread over workers is `dispatch.rs`
//! (and `take.rs`: items a busy worker has not started come back when they
//! would otherwise wait); `docs/ARCHITECTURE.md` states the policy and its
//! invariants, which `sim.rs` checks without processes.
//!
//! # States
//!
//! | state | leaves on |
//! |---|---|
//! | `Starting` | every worker ready → `Running`; a worker that cannot start → the start fails, `Stopping` |
//! | `Running` | `Close` → `Closing`; `Terminate` → `Stopping`; the pool dropped → `Stopping` (idle workers closed, else as `Terminate`); no worker can start → the pool is broken: waiting items end at once, later ones are refused (on several hosts: only once every host is left out, `hosts_down.rs`) |
//! | `Closing` | nothing queued or in flight → every worker's stdin closed, `Stopping`; `Terminate` → `Stopping` |
//! | `Stopping` | every worker gone → the thread ends. A worker that has not exited [`STOP_GRACE`] after its stdin closed is killed; one whose end is not seen [`KILL_GRACE`] after the kill is given up on. |
//!
//! Every state handles every event, and every wait has a deadline while a
//! worker is stopping, so the scheduler never waits on a worker for ever.
//!
//! It does not know frames' bytes (it asks the protocol module for them) or
//! the types of jobs (inputs and outputs are opaque bytes here).

use std::collections::{HashSet, VecDeque};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod deadlines;
mod dispatch;
mod done;
mod gone;
mod hosts_down;
mod lanes;
pub(crate) mod link;
mod pace;
#[cfg(test)]
mod sim;
mod start;
mod take;

use super::task::{ReportOutbox, RunInfo, SentChunk};
use crate::connection::{ConnConfig, ConnEvent};
use crate::error::Result;
use crate::outcome::{Exit, Outcome};
use crate::settings::PoolSettings;
use link::{Clock, Link, Starter};

/// How long a worker whose stdin was closed may take to exit.
pub(crate) const STOP_GRACE: Duration = Duration::from_secs(2);

/// How long a stopping worker has to write the results it gathered.
pub(crate) const DRAIN: Duration = Duration::from_millis(50);

/// How long after a kill the scheduler waits to see a worker's end before
/// it gives up on it (a launcher's child may hold its pipes open).
pub(crate) const KILL_GRACE: Duration = Duration::from_secs(1);

/// Everything the scheduler reacts to.
pub(crate) enum Event {
    /// A worker connection reported something.
    Worker {
        slot: usize,
        generation: u64,
        event: ConnEvent,
    },
    /// New chunks to run.
    Submit(Vec<SentChunk>),
    /// New items to run, still to be encoded into chunks: the consumer's
    /// thread hands them over as they are, and this thread encodes them.
    Encode(Box<dyn FnOnce() -> Vec<SentChunk> + Send>),
    /// No more submissions: finish what is queued, then stop the workers.
    Close,
    /// Stop at once: kill the workers; what did not finish is not run,
    /// for the reason given.
    Terminate(String),
    /// The pool's handle is gone: what waits is not run, for the reason
    /// given; workers that run nothing are closed (they exit at once),
    /// and if any runs something, all are stopped as by `Terminate`.
    Drop(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Starting,
    Running,
    Closing,
    Stopping,
}

/// A chunk sent to a worker.
struct InFlight {
    /// The chunk's number in the `Run` frame.
    seq: u64,
    chunk: SentChunk,
    /// Items already reported: every item before `done`, and those
    /// marked in `reported` (from a worker of K > 1, whose items end out
    /// of order; empty otherwise).
    done: usize,
    /// One bit per item reported past `done`.
    reported: Vec<u64>,
    /// How many items past `done` were reported.
    ahead: usize,
    /// When its current item started (when the worker is known to be on
    /// it).
    started: Option<Instant>,
}

struct Live {
    conn: Box<dyn Link>,
    clock: Clock,
    pid: Option<u32>,
    ready: bool,
    spawned: Instant,
    inflight: VecDeque<InFlight>,
    /// The jobs this worker was set up for (a pool runs a few).
    jobs: Vec<u32>,
    /// Items sent in all (for `max_tasks_per_child`).
    dispatched: u64,
    retiring: bool,
    /// Chunks whose running item ran past the time limit.
    timed_out: HashSet<u64>,
    kill_reason: Option<String>,
    /// When its stdin was closed, for [`STOP_GRACE`].
    closed_at: Option<Instant>,
    /// When it was killed, for [`KILL_GRACE`].
    killed_at: Option<Instant>,
    /// When it was asked to write what it has, before a kill.
    draining: Option<Instant>,
    /// When it last reported something (or became ready): the latest an
    /// item it is running can have started.
    last_report: Instant,
    /// When its hello was read: its item times count from here.
    hello_at: Instant,
    /// Chunks asked for their unstarted items (once each: after the
    /// answer none is left).
    asked: HashSet<u64>,
    /// With K > 1 items at once: the items held to be running
    /// (`lanes.rs`).
    window: Vec<lanes::Lane>,
    /// The item its progress page named at the last look, and since when
    /// it has named that one (see `take.rs`).
    page_seen: Option<(crate::progress_page::Running, Instant)>,
}

impl Live {
    fn kill(&mut self, why: Option<String>) {
        if let Some(why) = why {
            self.kill_reason.get_or_insert(why);
        }
        self.conn.kill();
        let now = (self.clock)();
        self.killed_at.get_or_insert(now);
    }

    fn close_input(&mut self) {
        self.conn.close_input();
        let now = (self.clock)();
        self.closed_at.get_or_insert(now);
    }
}

#[derive(Default)]
struct Slot {
    generation: u64,
    live: Option<Live>,
    /// Chunks to retry, run first by this slot's next worker.
    retry: VecDeque<SentChunk>,
    start_failures: u32,
}

/// A worker start or end, for the timeline. Kept in a bounded channel: a
/// long-lived pool that replaces many workers must not grow with them.
#[derive(Debug, Clone)]
pub(crate) struct Lifecycle {
    pub slot: usize,
    pub pid: u32,
    pub at: Duration,
    pub started: bool,
}

pub(crate) struct Scheduler {
    settings: PoolSettings,
    conn: ConnConfig,
    starter: Box<dyn Starter>,
    clock: Clock,
    /// The time a step began: one clock reading for all it handles (a
    /// step can handle a Done per chunk of thousands).
    step_now: Option<Instant>,
    events: Receiver<Event>,
    sender: Sender<Event>,
    slots: Vec<Slot>,
    queue: VecDeque<SentChunk>,
    state: State,
    epoch: Instant,
    next_seq: u64,
    startup: Option<Sender<Result<()>>>,
    broken: Option<String>,
    halted: Option<String>,
    stop_reason: String,
    /// Stopped by `Terminate` (not by a close): what is left ends with
    /// `stop_reason`.
    terminated: bool,
    lifecycle: SyncSender<Lifecycle>,
    outbox: ReportOutbox,
    /// Chunks a dead worker gives back, in order, before they go to the
    /// front of the queue.
    requeued: Vec<SentChunk>,
    /// Set when this scheduler takes no more work (for streams).
    pub(crate) ended: Arc<super::feed::Ended>,
    /// Hosts that fail to start workers (`hosts_down.rs`).
    down: hosts_down::HostsDown,
    /// Each job's measured time per item, by job key.
    pace: pace::Paces,
    /// When taking items back may become worth it.
    take_at: Option<Instant>,
}

const MAX_START_FAILURES: u32 = 3;

impl Scheduler {
    pub(crate) fn new(
        settings: PoolSettings,
        conn: ConnConfig,
        events: Receiver<Event>,
        sender: Sender<Event>,
        startup: Sender<Result<()>>,
        epoch: Instant,
        lifecycle: SyncSender<Lifecycle>,
    ) -> Scheduler {
        let slots = (0..conn.commands.len()).map(|_| Slot::default()).collect();
        Scheduler {
            settings,
            starter: Box::new(link::Spawn(conn.clone())),
            clock: link::system_clock(),
            step_now: None,
            conn,
            events,
            sender,
            slots,
            queue: VecDeque::new(),
            state: State::Starting,
            epoch,
            next_seq: 0,
            startup: Some(startup),
            broken: None,
            halted: None,
            stop_reason: String::from("the pool was terminated"),
            terminated: false,
            lifecycle,
            outbox: ReportOutbox::default(),
            requeued: Vec::new(),
            ended: Arc::default(),
            down: hosts_down::HostsDown::default(),
            pace: pace::Paces::default(),
            take_at: None,
        }
    }

    /// The same scheduler with other workers and another clock (the
    /// simulator's).
    #[cfg(test)]
    pub(crate) fn with_seam(mut self, starter: Box<dyn Starter>, clock: Clock) -> Scheduler {
        self.starter = starter;
        self.clock = clock;
        self
    }

    /// Runs until every worker is gone after a close or terminate; the
    /// workers were started by [`Scheduler::start_workers`] before.
    pub(crate) fn run(mut self) {
        loop {
            let Some(event) = self.next_event() else {
                return;
            };
            if self.step(event) {
                break;
            }
        }
        // Anything still queued (items a worker gave back while the pool
        // stopped) ends for the stop's reason, not as a dropped chunk.
        if self.terminated {
            self.finish_waiting(Outcome::NotRun(self.stop_reason.clone()));
            self.outbox.flush();
        }
        // Submissions still in the channel end "not run", for the reason
        // the pool stopped; anything else in it is moot now.
        while let Ok(event) = self.events.try_recv() {
            if matches!(event, Event::Submit(_) | Event::Encode(_)) {
                self.handle(event);
            }
        }
    }

    /// Handles `event` and every event already waiting, then acts: checks
    /// deadlines, dispatches, settles and sends the results. True once
    /// every worker is gone in `Stopping`: the scheduler is done.
    ///
    /// Inputs that an idle worker could take end the handling early: the
    /// rest wait for the next step, so a long list's first submissions
    /// are not all encoded before the first is sent.
    pub(crate) fn step(&mut self, event: Option<Event>) -> bool {
        self.step_now = Some((self.clock)());
        let mut next = event.or_else(|| self.events.try_recv().ok());
        while let Some(event) = next {
            let inputs = matches!(event, Event::Submit(_) | Event::Encode(_));
            self.handle(event);
            if inputs && !self.queue.is_empty() && self.has_idle_worker() {
                break;
            }
            next = self.events.try_recv().ok();
        }
        self.check_deadlines();
        self.dispatch();
        self.settle();
        self.outbox.flush();
        self.step_now = None;
        self.state == State::Stopping && self.slots.iter().all(|s| s.live.is_none())
    }

    /// The time now, by the scheduler's clock.
    fn now(&self) -> Instant {
        self.step_now.unwrap_or_else(|| (self.clock)())
    }

    /// The next event, `Some(None)` when a deadline passed first, `None`
    /// when every sender is gone.
    fn next_event(&mut self) -> Option<Option<Event>> {
        let wait = self
            .next_deadline()
            .map(|d| d.saturating_duration_since(self.now()));
        match wait {
            Some(wait) => match self.events.recv_timeout(wait) {
                Ok(e) => Some(Some(e)),
                Err(RecvTimeoutError::Timeout) => Some(None),
                Err(RecvTimeoutError::Disconnected) => None,
            },
            None => self.events.recv().ok().map(Some),
        }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Worker {
                slot,
                generation,
                event,
            } => {
                if self.slots[slot].generation == generation {
                    self.on_worker(slot, event);
                }
            }
            Event::Encode(encode) => self.handle(Event::Submit(encode())),
            Event::Submit(chunks) => match self.refusal() {
                None => self.queue.extend(chunks),
                Some(outcome) => {
                    for chunk in chunks {
                        chunk.finish(outcome.clone(), RunInfo::default());
                    }
                }
            },
            Event::Close => {
                if self.state == State::Running || self.state == State::Starting {
                    self.state = State::Closing;
                }
            }
            Event::Terminate(why) => self.terminate(why),
            Event::Drop(why) => self.drop_pool(why),
        }
    }

    /// The handle was dropped: close idle workers rather than signal and
    /// kill them, so a program that is done exits at once.
    fn drop_pool(&mut self, why: String) {
        let busy = self.slots.iter().any(|s| {
            s.live
                .as_ref()
                .is_some_and(|l| !l.ready || !l.inflight.is_empty())
        });
        if busy || self.state == State::Starting {
            self.terminate(why);
            return;
        }
        self.begin_stop(why);
        for live in self.slots.iter_mut().filter_map(|s| s.live.as_mut()) {
            live.close_input();
        }
    }

    fn on_worker(&mut self, slot: usize, event: ConnEvent) {
        match event {
            ConnEvent::Ready(hello, at) => self.on_ready(slot, hello.pid, at),
            ConnEvent::Done(batch) => {
                for done in batch {
                    self.on_done(slot, done);
                }
            }
            ConnEvent::Taken { chunk, from } => self.on_taken(slot, chunk, from),
            ConnEvent::Gone { exit, error } => self.on_gone(slot, exit, error),
        }
    }

    /// Items run by each worker at once.
    fn concurrency(&self) -> usize {
        self.settings.concurrency.max(1) as usize
    }

    /// Why chunks cannot be queued now, as the outcome they end with;
    /// `None` when they can.
    fn refusal(&self) -> Option<Outcome<()>> {
        if self.terminated {
            return Some(Outcome::NotRun(self.stop_reason.clone()));
        }
        if !matches!(self.state, State::Running | State::Starting) {
            return Some(Outcome::NotRun("the pool is closed".into()));
        }
        match (&self.broken, &self.halted) {
            (Some(why), _) => Some(Outcome::NotRun(why.clone())),
            (None, Some(why)) => Some(Outcome::NotRun(why.clone())),
            (None, None) => None,
        }
    }

    /// Ends every chunk waiting in the queue or a retry list with `outcome`.
    fn finish_waiting(&mut self, outcome: Outcome<()>) {
        let retries = self.slots.iter_mut().flat_map(|slot| slot.retry.drain(..));
        for chunk in self.queue.drain(..).chain(retries) {
            chunk.finish(outcome.clone(), RunInfo::default());
        }
    }

    /// A broken or halted pool runs nothing more: what waits ends now, and
    /// a broken pool with no worker left stops.
    fn settle(&mut self) {
        if let Some(why) = self.broken.clone().or_else(|| self.halted.clone()) {
            self.finish_waiting(Outcome::NotRun(why));
        }
        let none_live = self.slots.iter().all(|s| s.live.is_none());
        if self.broken.is_some() && none_live && self.state != State::Stopping {
            self.state = State::Stopping;
        }
    }

    fn break_pool(&mut self, why: String) {
        self.broken = Some(why.clone());
        self.ended.set(&why);
        self.finish_waiting(Outcome::NotRun(why));
    }

    fn halt(&mut self, why: String) {
        self.finish_waiting(Outcome::NotRun(why.clone()));
        self.ended.set(&why);
        self.halted = Some(why);
    }

    /// Enters `Stopping` for `why` (the first reason is the one items keep):
    /// nothing more is taken, and what waits ends "not run" now.
    fn begin_stop(&mut self, why: String) {
        if !self.terminated {
            self.stop_reason = why.clone();
            self.terminated = true;
        }
        self.state = State::Stopping;
        self.halted = None;
        self.ended.set(&self.stop_reason);
        self.finish_waiting(Outcome::NotRun(why));
    }

    /// Kills every worker now; what did not finish ends "not run" for
    /// `why`. Also in `Stopping`: a stop request during shutdown ends it.
    fn terminate(&mut self, why: String) {
        self.begin_stop(why);
        let now = self.now();
        for live in self.slots.iter_mut().filter_map(|s| s.live.as_mut()) {
            // A local worker gathers results before writing them: ask it to
            // write what it has, and kill it [`DRAIN`] later.
            if live.ready && live.conn.has_page() && live.killed_at.is_none() {
                if live.draining.is_none() {
                    live.conn.signal(nix::sys::signal::Signal::SIGUSR1);
                    live.draining = Some(now);
                }
            } else {
                live.kill(None);
            }
        }
    }
}

fn crashed(exit: Option<Exit>, detail: Option<String>) -> Outcome<()> {
    Outcome::Crashed { exit, detail }
}
