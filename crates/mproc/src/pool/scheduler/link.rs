//! The scheduler's seam: what it needs of a worker ([`Link`]), of
//! starting one ([`Starter`]), and of time ([`Clock`]).
//!
//! A pool plugs in real processes ([`Connection`] and [`Spawn`]) and the
//! system clock; the simulator in `sim.rs` plugs in workers and a clock of
//! its own, so the dispatch policy is tested without processes. Nothing
//! here decides anything about items.

use std::cell::{OnceCell, RefCell};
use std::sync::Arc;
use std::time::Instant;

use nix::sys::signal::Signal;

use crate::connection::{ConnConfig, Connection, Sink, Starting};
use crate::error::Result;
use crate::progress_page::Running;

/// The time as the scheduler sees it.
pub(crate) type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// The system clock.
pub(crate) fn system_clock() -> Clock {
    Arc::new(Instant::now)
}

/// The parent's side of one live worker, as the scheduler uses it.
pub(crate) trait Link: Send {
    /// Queues encoded request frames for the worker.
    fn send(&self, frames: Vec<u8>);
    /// Closes the worker's input after what is queued.
    fn close_input(&mut self);
    /// Kills the worker.
    fn kill(&self);
    /// Sends the worker a signal.
    fn signal(&self, signal: Signal);
    /// True when the worker names its running item on a progress page.
    fn has_page(&self) -> bool;
    /// The item the worker's progress page names as running.
    fn running(&self) -> Option<Running>;
}

/// Starts the worker of a pool slot.
pub(crate) trait Starter: Send {
    /// Starts the worker of `slot`; what it reports goes to `sink`.
    fn start(&self, slot: usize, sink: Sink) -> Result<Box<dyn Link>>;

    /// Starts the workers of several slots, side by side where it can;
    /// one result per slot, in order.
    fn start_all(&self, slots: Vec<(usize, Sink)>) -> Vec<Result<Box<dyn Link>>> {
        slots
            .into_iter()
            .map(|(slot, sink)| self.start(slot, sink))
            .collect()
    }
}

impl Link for Connection {
    fn send(&self, frames: Vec<u8>) {
        Connection::send(self, frames);
    }

    fn close_input(&mut self) {
        Connection::close_input(self);
    }

    fn kill(&self) {
        Connection::kill(self);
    }

    fn signal(&self, signal: Signal) {
        Connection::signal(self, signal);
    }

    fn has_page(&self) -> bool {
        Connection::has_page(self)
    }

    fn running(&self) -> Option<Running> {
        Connection::running(self)
    }
}

/// Starts real worker processes.
pub(crate) struct Spawn(pub ConnConfig);

impl Starter for Spawn {
    fn start(&self, slot: usize, sink: Sink) -> Result<Box<dyn Link>> {
        Ok(Box::new(Connection::start(&self.0, slot, sink)?))
    }

    /// Begins every worker, so they start side by side, then waits for
    /// the first one's start to return; a local worker whose
    /// start has not returned by then (its exec waits for a CPU on a busy
    /// machine) joins as [`Pending`], so the pool runs on the others
    /// meanwhile.
    fn start_all(&self, slots: Vec<(usize, Sink)>) -> Vec<Result<Box<dyn Link>>> {
        let begun: Vec<_> = slots
            .into_iter()
            .map(|(slot, sink)| {
                let started = match crate::warm::adopt(self.0.command(slot)) {
                    // Begun ahead by a `WarmStart`: it runs already.
                    Some(spawned) => spawned.attach(&self.0, slot, sink),
                    None => Connection::begin(&self.0, slot, sink),
                };
                (self.0.command(slot).is_local(), started)
            })
            .collect();
        let mut one_runs = false;
        begun
            .into_iter()
            .map(|(local, starting)| {
                let conn = match starting?.try_started() {
                    Ok(started) => started?,
                    Err(starting) if local && one_runs => {
                        return Ok(Box::new(Pending::new(starting)) as Box<dyn Link>);
                    }
                    Err(starting) => starting.started()?,
                };
                one_runs = true;
                Ok(Box::new(conn) as Box<dyn Link>)
            })
            .collect()
    }
}

/// A local worker whose start had not returned when its pool began: it
/// becomes its [`Connection`] at the first use that needs one. No work
/// is sent before a worker's hello, which it writes only once started,
/// so that use does not wait; one whose start failed is reported gone by
/// its thread.
struct Pending {
    starting: RefCell<Option<Starting>>,
    conn: OnceCell<Option<Connection>>,
}

impl Pending {
    fn new(starting: Starting) -> Pending {
        Pending {
            starting: RefCell::new(Some(starting)),
            conn: OnceCell::new(),
        }
    }

    /// The connection, waiting for the start to return if it has not.
    fn conn(&self) -> Option<&Connection> {
        self.conn
            .get_or_init(|| self.starting.borrow_mut().take()?.started().ok())
            .as_ref()
    }
}

impl Link for Pending {
    fn send(&self, frames: Vec<u8>) {
        if let Some(conn) = self.conn() {
            conn.send(frames);
        }
    }

    fn close_input(&mut self) {
        self.conn();
        if let Some(Some(conn)) = self.conn.get_mut() {
            conn.close_input();
        }
    }

    fn kill(&self) {
        if let Some(conn) = self.conn() {
            conn.kill();
        }
    }

    fn signal(&self, signal: Signal) {
        if let Some(conn) = self.conn() {
            conn.signal(signal);
        }
    }

    fn has_page(&self) -> bool {
        match self.conn.get() {
            Some(conn) => conn.as_ref().is_some_and(Connection::has_page),
            None => self
                .starting
                .borrow()
                .as_ref()
                .is_some_and(Starting::has_page),
        }
    }

    fn running(&self) -> Option<Running> {
        match self.conn.get() {
            Some(conn) => conn.as_ref().and_then(Connection::running),
            None => self.starting.borrow().as_ref().and_then(Starting::running),
        }
    }
}
