//! Deadlines: a worker's handshake, an item's time limit, and a stopping
//! worker's grace periods.

use std::time::Instant;

use super::{Scheduler, State, DRAIN, KILL_GRACE, STOP_GRACE};
use crate::outcome::Exit;

impl Scheduler {
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let concurrency = self.concurrency();
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n| n.min(t)));
        // (Looked at by each dispatch, which runs in these states only.)
        if matches!(self.state, State::Running | State::Closing) {
            if let Some(t) = self.take_at {
                consider(t);
            }
        }
        for live in self.slots.iter().filter_map(|s| s.live.as_ref()) {
            if let Some(t) = live.killed_at {
                consider(t + KILL_GRACE);
                continue;
            }
            if let Some(t) = live.draining {
                consider(t + DRAIN);
            }
            if let Some(t) = live.closed_at {
                consider(t + STOP_GRACE);
            }
            if !live.ready {
                consider(live.spawned + self.settings.start_timeout);
                continue;
            }
            if let (Some(limit), true) = (self.settings.timeout, concurrency > 1) {
                for lane in live.window.iter().filter(|l| !l.late) {
                    consider(lane.started + limit);
                }
            } else if let Some(limit) = self.settings.timeout {
                for f in live.inflight.iter().take(concurrency) {
                    if let (Some(t), false) = (f.started, live.timed_out.contains(&f.seq)) {
                        consider(t + limit);
                    }
                }
            }
        }
        if let Some(t) = self.down.next_respawn() {
            consider(t);
        }
        next
    }

    pub(super) fn check_deadlines(&mut self) {
        let now = self.now();
        let concurrency = self.concurrency();
        let start_timeout = self.settings.start_timeout;
        let mut given_up = Vec::new();
        for (slot, live) in self
            .slots
            .iter_mut()
            .enumerate()
            .filter_map(|(i, s)| s.live.as_mut().map(|l| (i, l)))
        {
            if let Some(t) = live.killed_at {
                if now >= t + KILL_GRACE {
                    // Killed, yet its stream is still open (a launcher's
                    // child may hold it): give up on it.
                    given_up.push(slot);
                }
                continue;
            }
            if live.draining.is_some_and(|t| now >= t + DRAIN) {
                live.kill(None);
                continue;
            }
            if live.closed_at.is_some_and(|t| now >= t + STOP_GRACE) {
                let why = format!(
                    "worker did not exit within {} s of its input closing (stopped?)",
                    STOP_GRACE.as_secs_f64()
                );
                live.kill(Some(why));
                continue;
            }
            if !live.ready {
                if now >= live.spawned + start_timeout {
                    let why = format!("no handshake within {} s", start_timeout.as_secs_f64());
                    live.kill(Some(why));
                }
                continue;
            }
            let Some(limit) = self.settings.timeout else {
                continue;
            };
            if concurrency > 1 {
                // Each of its running items has its own start (`lanes.rs`).
                if live.timed_out.is_empty() {
                    for lane in live.window.iter_mut() {
                        if now >= lane.started + limit {
                            lane.late = true;
                            live.timed_out.insert(lane.seq);
                        }
                    }
                    if !live.timed_out.is_empty() {
                        live.kill(None);
                    }
                }
                continue;
            }
            let late: Vec<u64> = live
                .inflight
                .iter()
                .take(concurrency)
                .filter(|f| f.started.is_some_and(|t| now >= t + limit))
                .map(|f| f.seq)
                .collect();
            if !late.is_empty() && live.timed_out.is_empty() {
                live.timed_out.extend(late);
                live.kill(None);
            }
        }
        for slot in given_up {
            tracing::warn!(
                worker = slot,
                "worker's stream stayed open after it was killed; giving up on it"
            );
            self.on_gone(slot, Exit::Signal(9), None);
        }
        self.respawn_due();
    }
}
