//! Starting workers: every slot's first at once, a replacement when one
//! is gone, and the handshakes that end the pool's start.
//!
//! Local workers (this program on this machine) let the pool run as soon
//! as the first answers; the others join as they answer. Workers on other
//! hosts or behind a launcher all answer first, so that a host that
//! cannot start one fails the start, naming it. Each worker reports through a sink of its own
//! generation, so the events of a slot's earlier worker are told apart.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use super::link::Link;
use super::{Event, Lifecycle, Live, Scheduler, Slot, State};
use crate::child::WorkerCommand;
use crate::error::{Error, Result};

impl Scheduler {
    /// Starts every slot's first worker, side by side (each from the
    /// thread that will read its output: see `Connection::begin`). If one
    /// cannot start, the pool fails to start with the first such error,
    /// and the others are stopped.
    pub(crate) fn start_workers(&mut self) {
        let sinks = (0..self.slots.len())
            .map(|slot| (slot, self.sink(slot)))
            .collect();
        let mut failed = None;
        for (slot, started) in self.starter.start_all(sinks).into_iter().enumerate() {
            match started {
                Ok(conn) => self.install(slot, conn),
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        if let Some(e) = failed {
            self.fail_startup(e);
        }
    }

    /// Worker `slot` answered its handshake (pid `pid`, read at `at`).
    pub(super) fn on_ready(&mut self, slot: usize, pid: u32, at: Instant) {
        let now = self.now();
        if let Some(live) = self.slots[slot].live.as_mut() {
            live.ready = true;
            live.hello_at = at;
            live.pid = Some(pid);
            live.last_report = now;
            self.slots[slot].start_failures = 0;
            self.host_up(slot);
            let _ = self.lifecycle.try_send(Lifecycle {
                slot,
                pid,
                at: self.epoch.elapsed(),
                started: true,
            });
        }
        // Local workers run this program on this machine: the pool starts
        // work once one answers, and the others join as they answer (the
        // slowest start no longer holds up the first items). Workers on
        // other hosts or behind a launcher all answer first, so that a host
        // that cannot start one fails the start, naming it.
        let ready = |s: &Slot| s.live.as_ref().is_some_and(|l| l.ready);
        let local = self.conn.commands.iter().all(WorkerCommand::is_local);
        let started = if local {
            self.slots.iter().any(ready)
        } else {
            self.slots.iter().all(ready)
        };
        if self.state == State::Starting && started {
            self.state = State::Running;
            if let Some(tx) = self.startup.take() {
                let _ = tx.send(Ok(()));
            }
        }
    }

    /// Starts a new worker in `slot` (a replacement).
    pub(super) fn spawn(&mut self, slot: usize) -> Result<()> {
        let sink = self.sink(slot);
        let conn = self.starter.start(slot, sink)?;
        self.install(slot, conn);
        Ok(())
    }

    /// Where the next worker of `slot` reports (a new generation: events
    /// of an earlier worker of the slot are ignored).
    fn sink(&mut self, slot: usize) -> crate::connection::Sink {
        let generation = self.slots[slot].generation + 1;
        self.slots[slot].generation = generation;
        let sender = self.sender.clone();
        Box::new(move |event| {
            let _ = sender.send(Event::Worker {
                slot,
                generation,
                event,
            });
        })
    }

    /// `conn` is the live worker of `slot` now.
    fn install(&mut self, slot: usize, conn: Box<dyn Link>) {
        let now = self.now();
        self.slots[slot].live = Some(Live {
            conn,
            clock: Arc::clone(&self.clock),
            pid: None,
            ready: false,
            spawned: now,
            inflight: VecDeque::new(),
            jobs: Vec::new(),
            dispatched: 0,
            retiring: false,
            timed_out: HashSet::new(),
            kill_reason: None,
            closed_at: None,
            killed_at: None,
            draining: None,
            last_report: now,
            hello_at: now,
            asked: HashSet::new(),
            window: Vec::new(),
            page_seen: None,
        });
    }

    /// The pool could not start: says why to `Pool::start`, and stops.
    pub(super) fn fail_startup(&mut self, error: Error) {
        if let Some(tx) = self.startup.take() {
            let _ = tx.send(Err(error));
        }
        self.terminate("the pool could not start".into());
    }
}
