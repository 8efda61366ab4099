//! The scheduler's seam: what it needs of a worker ([`Link`]), of
//! starting one ([`Starter`]), and of time ([`Clock`]).
//!
//! A pool plugs in real processes ([`Connection`] and [`Spawn`]) and the
//! system clock; the simulator in `sim.rs` plugs in workers and a clock of
//! its own, so the dispatch policy is tested without processes. Nothing
//! here decides anything about items.

use std::sync::Arc;
use std::time::Instant;

use nix::sys::signal::Signal;

use crate::connection::{ConnConfig, Connection, Sink};
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

    /// Begins every worker, then waits for each: they start side by side.
    fn start_all(&self, slots: Vec<(usize, Sink)>) -> Vec<Result<Box<dyn Link>>> {
        let begun: Vec<_> = slots
            .into_iter()
            .map(
                |(slot, sink)| match crate::warm::adopt(self.0.command(slot)) {
                    // Begun ahead by a `WarmStart`: it runs already.
                    Some(spawned) => spawned.attach(&self.0, slot, sink),
                    None => Connection::begin(&self.0, slot, sink),
                },
            )
            .collect();
        begun
            .into_iter()
            .map(|b| Ok(Box::new(b?.started()?) as Box<dyn Link>))
            .collect()
    }
}
