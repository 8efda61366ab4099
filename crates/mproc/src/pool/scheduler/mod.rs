//! The scheduler: one thread per pool that owns the worker processes, the
//! queue of items, and every item's fate.
//!
//! Everything reaches it as an [`Event`] on one channel: submissions from
//! the pool's handles, and results, handshakes and deaths from the worker
//! connections. It keeps, per worker, the items sent to it in order. A
//! worker runs its items in that order (`concurrency` at a time), so when it
//! dies the first `concurrency` unfinished items are the ones it was running
//! (crashed or timed out) and the rest go back to the front of the queue,
//! never lost.
//!
//! It does not know frames' bytes (it asks the protocol module for them) or
//! the types of jobs (inputs and outputs are opaque bytes here).

use std::collections::{HashSet, VecDeque};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

mod deadlines;
mod dispatch;

use dispatch::mark_started;

use super::task::{Outbox, RunInfo, Task};
use crate::connection::{ConnConfig, ConnEvent, Connection};
use crate::error::{Error, ErrorKind, Result};
use crate::outcome::{Exit, Outcome};
use crate::protocol::Done;
use crate::settings::PoolSettings;

/// Everything the scheduler reacts to.
pub(crate) enum Event {
    /// A worker connection reported something.
    Worker {
        slot: usize,
        generation: u64,
        event: ConnEvent,
    },
    /// New items to run.
    Submit(Vec<Task>),
    /// No more submissions: finish what is queued, then stop the workers.
    Close,
    /// Stop at once: kill the workers; what did not finish is not run,
    /// for the reason given.
    Terminate(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Starting,
    Running,
    Closing,
    Stopping,
}

struct InFlight {
    seq: u64,
    task: Task,
    started: Option<Instant>,
}

struct Live {
    conn: Connection,
    pid: Option<u32>,
    ready: bool,
    spawned: Instant,
    inflight: VecDeque<InFlight>,
    jobs: HashSet<u32>,
    dispatched: u64,
    retiring: bool,
    timed_out: HashSet<u64>,
    kill_reason: Option<String>,
}

#[derive(Default)]
struct Slot {
    generation: u64,
    live: Option<Live>,
    /// Items to retry, run first by this slot's next worker.
    retry: VecDeque<Task>,
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
    events: Receiver<Event>,
    sender: Sender<Event>,
    slots: Vec<Slot>,
    queue: VecDeque<Task>,
    state: State,
    epoch: Instant,
    next_seq: u64,
    startup: Option<Sender<Result<()>>>,
    broken: Option<String>,
    halted: Option<String>,
    stop_reason: String,
    lifecycle: SyncSender<Lifecycle>,
    outbox: Outbox,
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
            lifecycle,
            outbox: Outbox::default(),
        }
    }

    /// Runs until every worker is gone after a close or terminate.
    pub(crate) fn run(mut self) {
        for slot in 0..self.slots.len() {
            if let Err(e) = self.spawn(slot) {
                self.fail_startup(e);
                break;
            }
        }
        loop {
            let wait = self
                .next_deadline()
                .map(|d| d.saturating_duration_since(Instant::now()));
            let event = match wait {
                Some(wait) => match self.events.recv_timeout(wait) {
                    Ok(e) => Some(e),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                },
                None => match self.events.recv() {
                    Ok(e) => Some(e),
                    Err(_) => return,
                },
            };
            if let Some(event) = event {
                self.handle(event);
                while let Ok(more) = self.events.try_recv() {
                    self.handle(more);
                }
            }
            self.check_deadlines();
            self.dispatch();
            self.outbox.flush();
            if self.state == State::Stopping && self.slots.iter().all(|s| s.live.is_none()) {
                break;
            }
        }
        // Submissions still in the channel report "not run" as they drop.
        while let Ok(event) = self.events.try_recv() {
            drop(event);
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
            Event::Submit(tasks) => match self.refusal() {
                None => self.queue.extend(tasks),
                Some(outcome) => {
                    for task in tasks {
                        task.finish(outcome.clone(), RunInfo::default());
                    }
                }
            },
            Event::Close => {
                if self.state == State::Running || self.state == State::Starting {
                    self.state = State::Closing;
                }
            }
            Event::Terminate(why) => self.terminate(why),
        }
    }

    fn on_worker(&mut self, slot: usize, event: ConnEvent) {
        match event {
            ConnEvent::Ready(hello) => {
                if let Some(live) = self.slots[slot].live.as_mut() {
                    live.ready = true;
                    live.pid = Some(hello.pid);
                    self.slots[slot].start_failures = 0;
                    let _ = self.lifecycle.try_send(Lifecycle {
                        slot,
                        pid: hello.pid,
                        at: self.epoch.elapsed(),
                        started: true,
                    });
                }
                if self.state == State::Starting
                    && self
                        .slots
                        .iter()
                        .all(|s| s.live.as_ref().is_some_and(|l| l.ready))
                {
                    self.state = State::Running;
                    if let Some(tx) = self.startup.take() {
                        let _ = tx.send(Ok(()));
                    }
                }
            }
            ConnEvent::Done(batch) => {
                for done in batch {
                    self.on_done(slot, done);
                }
            }
            ConnEvent::Gone { exit, error } => self.on_gone(slot, exit, error),
        }
    }

    fn on_done(&mut self, slot: usize, done: Done) {
        let concurrency = self.concurrency();
        let now = Instant::now();
        let Some(live) = self.slots[slot].live.as_mut() else {
            return;
        };
        let position = live
            .inflight
            .iter()
            .take(concurrency)
            .position(|f| f.seq == done.seq);
        let Some(position) = position else {
            let why = format!(
                "worker sent a result for item {} it was not running",
                done.seq
            );
            live.kill_reason.get_or_insert(why);
            live.conn.kill();
            return;
        };
        let Some(entry) = live.inflight.remove(position) else {
            return;
        };
        let elapsed = Duration::from_micros(done.micros);
        let run = RunInfo {
            worker: Some(slot),
            pid: live.pid,
            started: now
                .checked_sub(elapsed)
                .map(|t| t.saturating_duration_since(self.epoch)),
            elapsed,
        };
        mark_started(live, concurrency, now);
        let outcome = match Outcome::from(done.outcome) {
            // A remote worker's error (a missing file, say) names its host.
            Outcome::Failed(message) => match self.conn.command(slot).host() {
                Some(host) => Outcome::Failed(format!("{message} (on {host})")),
                None => Outcome::Failed(message),
            },
            other => other,
        };
        let retry = !outcome.is_ok()
            && self.settings.retry_errors
            && entry.task.attempts <= self.settings.retries
            && self.halted.is_none();
        if retry {
            self.slots[slot].retry.push_back(entry.task);
        } else {
            self.report(entry.task, outcome, run);
        }
    }

    fn on_gone(&mut self, slot: usize, exit: Exit, error: Option<Error>) {
        let Some(mut live) = self.slots[slot].live.take() else {
            return;
        };
        if let Some(pid) = live.pid {
            let _ = self.lifecycle.try_send(Lifecycle {
                slot,
                pid,
                at: self.epoch.elapsed(),
                started: false,
            });
        }
        let killed_by_us = live.kill_reason.is_some();
        let host = self.conn.command(slot).host().map(|h| format!("on {h}"));
        let detail = error
            .as_ref()
            .map(|e| e.to_string())
            .or(live.kill_reason.take());
        let detail = match (detail, host) {
            (Some(d), Some(h)) => Some(format!("{d} ({h})")),
            (d, h) => d.or(h),
        };
        if !live.ready {
            let why = detail
                .clone()
                .unwrap_or_else(|| format!("worker exited with {exit} before the handshake"));
            // A worker killed by a signal before its handshake may have met
            // bad luck (an OOM kill, a stray kill); one that exited or
            // answered wrongly will do so again.
            let killed = matches!(exit, Exit::Signal(_)) && !killed_by_us;
            self.slots[slot].start_failures += 1;
            let given_up = !killed || self.slots[slot].start_failures >= MAX_START_FAILURES;
            if given_up && self.state == State::Starting {
                let kind = error.map(|e| e.kind()).unwrap_or(ErrorKind::Spawn);
                self.fail_startup(Error::new(kind, why));
                return;
            }
            if given_up {
                tracing::error!("workers keep failing to start: {why}");
                self.break_pool(format!("no worker could start: {why}"));
                return;
            }
            tracing::warn!("a worker failed to start, starting another: {why}");
        } else if !live.inflight.is_empty() || !(exit.success() || self.state == State::Stopping) {
            match &detail {
                Some(d) => tracing::warn!(
                    worker = slot,
                    "worker {} ended ({exit}): {d}",
                    live.pid.unwrap_or(0)
                ),
                None => tracing::debug!(
                    worker = slot,
                    "worker {} ended ({exit})",
                    live.pid.unwrap_or(0)
                ),
            }
        }
        let concurrency = self.concurrency();
        let now = Instant::now();
        let mut requeue = Vec::new();
        for (i, entry) in live.inflight.drain(..).enumerate() {
            if i >= concurrency || entry.started.is_none() {
                requeue.push(entry.task);
                continue;
            }
            let ran = entry
                .started
                .map(|t| now.saturating_duration_since(t))
                .unwrap_or_default();
            let run = RunInfo {
                worker: Some(slot),
                pid: live.pid,
                started: entry
                    .started
                    .map(|t| t.saturating_duration_since(self.epoch)),
                elapsed: ran,
            };
            if self.state == State::Stopping && self.halted.is_none() {
                let why = self.stop_reason.clone();
                self.outbox.finish(entry.task, Outcome::NotRun(why), run);
                continue;
            }
            let timed_out = live.timed_out.contains(&entry.seq);
            if !timed_out && !live.timed_out.is_empty() {
                // Killed because a sibling item timed out: not its fault.
                requeue.push(entry.task);
                continue;
            }
            let outcome = if timed_out {
                Outcome::TimedOut(self.settings.timeout.unwrap_or(ran))
            } else {
                crashed(Some(exit), detail.clone())
            };
            if entry.task.attempts <= self.settings.retries && self.halted.is_none() {
                self.slots[slot].retry.push_back(entry.task);
            } else {
                self.report(entry.task, outcome, run);
            }
        }
        for task in requeue.into_iter().rev() {
            match (&self.halted, self.state) {
                (Some(why), _) => task.finish(Outcome::NotRun(why.clone()), RunInfo::default()),
                (None, State::Stopping) => task.finish(
                    Outcome::NotRun(self.stop_reason.clone()),
                    RunInfo::default(),
                ),
                (None, _) => self.queue.push_front(task),
            }
        }
        if self.state == State::Stopping {
            for task in self.slots[slot].retry.drain(..) {
                task.finish(
                    Outcome::NotRun(self.stop_reason.clone()),
                    RunInfo::default(),
                );
            }
            return;
        }
        let wanted = matches!(self.state, State::Running | State::Starting)
            || !self.queue.is_empty()
            || !self.slots[slot].retry.is_empty()
            || self
                .slots
                .iter()
                .any(|s| s.live.as_ref().is_some_and(|l| !l.inflight.is_empty()));
        if wanted && self.broken.is_none() {
            if let Err(e) = self.spawn(slot) {
                tracing::error!("cannot start a replacement worker: {e}");
                self.break_pool(format!("no worker could start: {e}"));
            }
        }
    }

    fn report(&mut self, task: Task, outcome: Outcome<Vec<u8>>, run: RunInfo) {
        let failed = !outcome.is_ok();
        self.outbox.finish(task, outcome, run);
        if failed && self.settings.halt_on_error && self.halted.is_none() {
            self.halt("an earlier item was not ok (halt on error)".into());
        }
    }

    fn spawn(&mut self, slot: usize) -> Result<()> {
        let generation = self.slots[slot].generation + 1;
        self.slots[slot].generation = generation;
        let sender = self.sender.clone();
        let sink = Box::new(move |event| {
            let _ = sender.send(Event::Worker {
                slot,
                generation,
                event,
            });
        });
        let conn = Connection::start(&self.conn, slot, sink)?;
        self.slots[slot].live = Some(Live {
            conn,
            pid: None,
            ready: false,
            spawned: Instant::now(),
            inflight: VecDeque::new(),
            jobs: HashSet::new(),
            dispatched: 0,
            retiring: false,
            timed_out: HashSet::new(),
            kill_reason: None,
        });
        Ok(())
    }

    fn fail_startup(&mut self, error: Error) {
        if let Some(tx) = self.startup.take() {
            let _ = tx.send(Err(error));
        }
        self.terminate("the pool could not start".into());
    }

    /// Items run by each worker at once.
    fn concurrency(&self) -> usize {
        self.settings.concurrency.max(1) as usize
    }

    /// Why items cannot be queued now, as the outcome they end with; `None`
    /// when they can.
    fn refusal(&self) -> Option<Outcome<Vec<u8>>> {
        if !matches!(self.state, State::Running | State::Starting) {
            return Some(Outcome::NotRun("the pool is closed".into()));
        }
        match (&self.broken, &self.halted) {
            (Some(why), _) => Some(crashed(None, Some(why.clone()))),
            (None, Some(why)) => Some(Outcome::NotRun(why.clone())),
            (None, None) => None,
        }
    }

    /// Ends every item waiting in the queue or a retry list with `outcome`.
    fn finish_waiting(&mut self, outcome: Outcome<Vec<u8>>) {
        let retries = self.slots.iter_mut().flat_map(|slot| slot.retry.drain(..));
        for task in self.queue.drain(..).chain(retries) {
            task.finish(outcome.clone(), RunInfo::default());
        }
    }

    fn break_pool(&mut self, why: String) {
        self.finish_waiting(crashed(None, Some(why.clone())));
        self.broken = Some(why);
    }

    fn halt(&mut self, why: String) {
        self.finish_waiting(Outcome::NotRun(why.clone()));
        self.halted = Some(why);
    }

    fn terminate(&mut self, why: String) {
        if self.state == State::Stopping {
            return;
        }
        self.state = State::Stopping;
        self.halted = None;
        self.stop_reason = why.clone();
        self.finish_waiting(Outcome::NotRun(why));
        for slot in &self.slots {
            if let Some(live) = &slot.live {
                live.conn.signal(Signal::SIGKILL);
            }
        }
    }
}

fn crashed(exit: Option<Exit>, detail: Option<String>) -> Outcome<Vec<u8>> {
    Outcome::Crashed { exit, detail }
}
