//! Deadlines: a worker's handshake and an item's time limit.

use std::time::Instant;

use super::Scheduler;

impl Scheduler {
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let concurrency = self.concurrency();
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n| n.min(t)));
        for live in self.slots.iter().filter_map(|s| s.live.as_ref()) {
            if !live.ready {
                consider(live.spawned + self.settings.start_timeout);
                continue;
            }
            if let Some(limit) = self.settings.timeout {
                for f in live.inflight.iter().take(concurrency) {
                    if let (Some(t), false) = (f.started, live.timed_out.contains(&f.seq)) {
                        consider(t + limit);
                    }
                }
            }
        }
        next
    }

    pub(super) fn check_deadlines(&mut self) {
        let now = Instant::now();
        let concurrency = self.concurrency();
        let start_timeout = self.settings.start_timeout;
        for live in self.slots.iter_mut().filter_map(|s| s.live.as_mut()) {
            if !live.ready {
                if now >= live.spawned + start_timeout && live.kill_reason.is_none() {
                    live.kill_reason = Some(format!(
                        "worker did not answer the handshake within {} s",
                        start_timeout.as_secs_f64()
                    ));
                    live.conn.kill();
                }
                continue;
            }
            let Some(limit) = self.settings.timeout else {
                continue;
            };
            let late: Vec<u64> = live
                .inflight
                .iter()
                .take(concurrency)
                .filter(|f| f.started.is_some_and(|t| now >= t + limit))
                .map(|f| f.seq)
                .collect();
            if !late.is_empty() && live.timed_out.is_empty() {
                live.timed_out.extend(late);
                live.conn.kill();
            }
        }
    }
}
