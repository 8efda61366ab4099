//! Hosts that go down: in a pool whose workers run on several hosts (ssh
//! hosts, Slurm nodes), a worker that cannot start again counts against
//! its host, not against the pool. The slot waits (a back-off that
//! doubles) before it tries again; after [`HOST_START_FAILURES`] failures
//! in a row on one host, the host is left out (said once, in the log) and
//! its slots start no more workers. Their items, and the retries of items
//! that crashed there, go to the front of the queue for the workers on
//! the other hosts. Only when every host is left out is the pool broken.
//!
//! A pool on one host (all local workers, or all on one node) keeps the
//! plain rule of `gone.rs`: a worker that cannot start breaks the pool. So
//! does any pool while it starts: a host that is down at the start is an
//! error the user sees at once.
//!
//! This module decides whether and when a slot starts a worker again; what
//! happens to the chunks of a dead worker is `gone.rs`'s.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use super::{Scheduler, State};

/// Start failures in a row on one host before it is left out.
pub(crate) const HOST_START_FAILURES: u32 = 3;

/// The wait before a slot whose worker failed to start tries again, after
/// the first failure on its host; it doubles with each failure after.
pub(crate) const BACKOFF: Duration = Duration::from_millis(500);

/// A host, as the pool's placement names it (`None`: this machine).
type Host = Option<String>;

/// What the scheduler knows of its hosts' health.
#[derive(Default)]
pub(super) struct HostsDown {
    /// Start failures in a row on each host; a worker that becomes ready
    /// there clears it.
    failures: HashMap<Host, u32>,
    /// Hosts where no worker starts any more.
    left_out: HashSet<Host>,
    /// Slots that wait to start a worker again, and until when.
    respawn: BTreeMap<usize, Instant>,
}

impl HostsDown {
    /// The earliest time a waiting slot starts a worker again.
    pub(super) fn next_respawn(&self) -> Option<Instant> {
        self.respawn.values().min().copied()
    }
}

/// How a log line names a host.
fn shown(host: &Host) -> &str {
    host.as_deref().unwrap_or("this machine")
}

impl Scheduler {
    fn host_of(&self, slot: usize) -> Host {
        self.conn.command(slot).host().map(str::to_string)
    }

    /// True when the pool's slots run on more than one host.
    pub(super) fn spread(&self) -> bool {
        let first = self.conn.command(0).host();
        (1..self.slots.len()).any(|slot| self.conn.command(slot).host() != first)
    }

    /// True unless `slot` waits for its back-off or its host is left out.
    pub(super) fn may_spawn(&self, slot: usize) -> bool {
        let left_out = || self.down.left_out.contains(&self.host_of(slot));
        !self.down.respawn.contains_key(&slot) && (self.down.left_out.is_empty() || !left_out())
    }

    /// A worker on `slot`'s host became ready: the host is up.
    pub(super) fn host_up(&mut self, slot: usize) {
        if !self.down.failures.is_empty() {
            let host = self.host_of(slot);
            self.down.failures.remove(&host);
        }
    }

    /// A worker of a spread pool failed to start while the pool runs:
    /// the slot waits and tries again, or its host is left out. False
    /// when no host is left to run the work (the caller breaks the pool).
    pub(super) fn host_start_failed(&mut self, slot: usize, why: &str) -> bool {
        let host = self.host_of(slot);
        let failures = self.down.failures.entry(host.clone()).or_insert(0);
        *failures += 1;
        let failures = *failures;
        if failures >= HOST_START_FAILURES {
            self.leave_out(&host, failures, why);
        } else if !self.down.left_out.contains(&host) {
            let wait = BACKOFF * 2u32.pow(failures - 1);
            self.down.respawn.insert(slot, Instant::now() + wait);
            tracing::warn!(
                worker = slot,
                "a worker on {} failed to start ({failures} of {HOST_START_FAILURES} in a row there), \
                 trying again in {} s: {why}",
                shown(&host),
                wait.as_secs_f64()
            );
        }
        self.release_retries(slot);
        self.some_host_left()
    }

    /// Starts no more workers on `host`, and says so once.
    fn leave_out(&mut self, host: &Host, failures: u32, why: &str) {
        if !self.down.left_out.insert(host.clone()) {
            return;
        }
        tracing::error!(
            "leaving out {}: workers there failed to start {failures} times in a row \
             (last: {why}); its items run on the other hosts",
            shown(host)
        );
        let slots: Vec<usize> = (0..self.slots.len())
            .filter(|&s| self.host_of(s) == *host)
            .collect();
        for slot in slots {
            self.down.respawn.remove(&slot);
            if self.slots[slot].live.is_none() {
                self.release_retries(slot);
            }
        }
    }

    /// True while some slot can still run work: it has a live worker, or
    /// its host is not left out.
    pub(super) fn some_host_left(&self) -> bool {
        (0..self.slots.len()).any(|slot| {
            self.slots[slot].live.is_some() || !self.down.left_out.contains(&self.host_of(slot))
        })
    }

    /// Puts the retries waiting for `slot`'s next worker at the front of
    /// the queue, for whichever worker is free first.
    pub(super) fn release_retries(&mut self, slot: usize) {
        for chunk in self.slots[slot].retry.drain(..).rev() {
            self.queue.push_front(chunk);
        }
    }

    /// Starts a worker again on each slot whose back-off is over, while
    /// the pool has work for it.
    pub(super) fn respawn_due(&mut self) {
        let now = Instant::now();
        let due: Vec<usize> = self
            .down
            .respawn
            .iter()
            .filter(|(_, &at)| at <= now)
            .map(|(&slot, _)| slot)
            .collect();
        for slot in due {
            self.down.respawn.remove(&slot);
            let running = matches!(self.state, State::Running | State::Closing);
            if !running || self.broken.is_some() || self.slots[slot].live.is_some() {
                continue;
            }
            if let Err(e) = self.spawn(slot) {
                tracing::error!("cannot start a replacement worker: {e}");
                self.break_pool(format!("no worker could start: {e}"));
            }
        }
    }
}
