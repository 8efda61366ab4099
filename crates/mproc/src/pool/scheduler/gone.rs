//! A worker's end: what happens to the chunks it held, and whether it is
//! replaced (when, on several hosts, is `hosts_down.rs`'s to say).

use std::time::Instant;

use super::{crashed, Live, Scheduler, State, MAX_START_FAILURES};
use crate::error::{Error, ErrorKind};
use crate::outcome::{Exit, Outcome};
use crate::pool::task::{RunInfo, SentChunk};
use crate::progress_page::Running;

/// Times a chunk may come back from a worker that died without any of
/// its items named as running before its next item is blamed.
const MAX_UNNAMED_DEATHS: u32 = 3;

impl Scheduler {
    /// Worker `slot` is gone (reaped, or given up on): settle every chunk
    /// it held, then replace it if there is work left.
    pub(super) fn on_gone(&mut self, slot: usize, exit: Exit, error: Option<Error>) {
        let Some(live) = self.slots[slot].live.take() else {
            return;
        };
        if let Some(pid) = live.pid {
            let _ = self.lifecycle.try_send(super::Lifecycle {
                slot,
                pid,
                at: self.epoch.elapsed(),
                started: false,
            });
        }
        let detail = self.detail(slot, &live, error.as_ref());
        if !live.ready {
            if self.failed_start(slot, &live, exit, error, detail.clone()) {
                return;
            }
        } else {
            self.log_end(slot, &live, exit, detail.as_deref());
        }
        let page = live.conn.has_page();
        let last_report = live.last_report;
        let running = live.conn.running();
        let mut live = live;
        let lanes = std::mem::take(&mut live.window);
        let now = self.now();
        for (position, entry) in live.inflight.drain(..).enumerate() {
            let context = Death {
                exit,
                detail: detail.clone(),
                page,
                running,
                position,
                now,
                last_report,
                any_timed_out: !live.timed_out.is_empty(),
                timed_out: live.timed_out.contains(&entry.seq),
                lanes: lanes.clone(),
            };
            self.settle_chunk(slot, live.pid, entry, &context);
        }
        self.replace(slot);
    }

    /// The one-line reason a worker ended, with its host.
    fn detail(&self, slot: usize, live: &Live, error: Option<&Error>) -> Option<String> {
        let host = self.conn.command(slot).host().map(|h| format!("on {h}"));
        let detail = error
            .map(|e| e.to_string())
            .or_else(|| live.kill_reason.clone());
        match (detail, host) {
            (Some(d), Some(h)) => Some(format!("{d} ({h})")),
            (d, h) => d.or(h),
        }
    }

    /// A worker that ended before its handshake: start another, or give
    /// up (fail the start, or break the pool). In a running pool on
    /// several hosts, its host's count decides instead (`hosts_down.rs`).
    /// True when the start failed.
    fn failed_start(
        &mut self,
        slot: usize,
        live: &Live,
        exit: Exit,
        error: Option<Error>,
        detail: Option<String>,
    ) -> bool {
        let program = self.conn.command(slot).describe();
        // Say what was seen: a signal, an exit code (with what the worker
        // printed, in the log), or the reason the parent gave up on it.
        let closed = error
            .as_ref()
            .is_some_and(|e| e.message().contains("closed its output"));
        let why = match (exit, detail) {
            (Exit::Signal(_), detail)
                if live.kill_reason.is_none() && (closed || detail.is_none()) =>
            {
                format!("{program} was killed by {exit} before its handshake")
            }
            (Exit::Code(code), detail) if closed || detail.is_none() => {
                let hint = match code {
                    127 => " (command not found)",
                    126 => " (not executable)",
                    _ => "",
                };
                format!("{program} exited with {exit}{hint} before its handshake")
            }
            (_, Some(detail)) => detail,
            (_, None) => format!("{program} ended with {exit} before its handshake"),
        };
        // A worker killed by a signal before its handshake may have met
        // bad luck (an OOM kill, a stray kill, a loaded machine); one that
        // exited or answered wrongly will do so again.
        let killed = matches!(exit, Exit::Signal(_)) && live.kill_reason.is_none();
        self.slots[slot].start_failures += 1;
        // On several hosts, it counts against its host (`hosts_down.rs`).
        if matches!(self.state, State::Running | State::Closing) && self.spread() {
            if !self.host_start_failed(slot, &why) {
                tracing::error!("workers keep failing to start on every host: {why}");
                self.break_pool(format!("no worker could start on any host: {why}"));
            }
            return false;
        }
        let given_up = !killed || self.slots[slot].start_failures >= MAX_START_FAILURES;
        if !given_up {
            tracing::warn!("a worker failed to start, starting another: {why}");
            return false;
        }
        if self.state == State::Starting {
            let kind = error.map(|e| e.kind()).unwrap_or(ErrorKind::Spawn);
            self.fail_startup(Error::new(kind, why));
            return true;
        }
        if self.state != State::Stopping {
            tracing::error!("workers keep failing to start: {why}");
            self.break_pool(format!("no worker could start: {why}"));
        }
        // Its chunks (none: it never got any) and the waiting ones end now.
        false
    }

    fn log_end(&self, slot: usize, live: &Live, exit: Exit, detail: Option<&str>) {
        let unexpected =
            !live.inflight.is_empty() || !(exit.success() || self.state == State::Stopping);
        if !unexpected {
            return;
        }
        let pid = live.pid.unwrap_or(0);
        match detail {
            Some(d) => tracing::warn!(worker = slot, "worker {pid} ended ({exit}): {d}"),
            None => tracing::debug!(worker = slot, "worker {pid} ended ({exit})"),
        }
    }

    /// Settles one chunk a dead worker held: its running item crashed (or
    /// timed out), and every other unreported item goes back to the queue,
    /// unless the pool is stopping.
    fn settle_chunk(
        &mut self,
        slot: usize,
        pid: Option<u32>,
        mut entry: super::InFlight,
        d: &Death,
    ) {
        if self.concurrency() > 1 {
            // Its threads ran items of any chunk (`lanes.rs`).
            return self.settle_lanes(slot, pid, entry, d);
        }
        let count = entry.chunk.count();
        let remaining = entry.done..count;
        // A chunk the page names may not have been marked started (its
        // predecessors' results were still gathered in the worker).
        let named = d.running.is_some_and(|r| r.chunk == entry.seq);
        let started = entry.started.or(named.then_some(d.last_report));
        let run = RunInfo {
            worker: Some(slot),
            pid,
            started: started.map(|t| t.saturating_duration_since(self.epoch)),
            elapsed: started
                .map(|t| d.now.saturating_duration_since(t))
                .unwrap_or_default(),
        };
        if self.state == State::Stopping && self.halted.is_none() {
            let why = Outcome::NotRun(self.stop_reason.clone());
            self.outbox.finish_range(&entry.chunk, remaining, why, run);
            entry.chunk.consume();
            return;
        }
        if d.any_timed_out && !d.timed_out {
            // Killed because a sibling item timed out: not its fault.
            self.requeue(&entry.chunk, remaining, d.position < self.concurrency());
            entry.chunk.consume();
            return;
        }
        let blamed = self.blamed(&entry, d);
        let Some(offset) = blamed else {
            // Ran before the running chunk (finished, unreported), or not
            // at all; with no running item named, it comes back unnamed.
            let ran = d.running.is_some_and(|r| r.chunk > entry.seq);
            let before = self.requeued.len();
            self.requeue(&entry.chunk, remaining, ran);
            if d.page && d.running.is_none() {
                if let Some(again) = self.requeued.get_mut(before) {
                    again.returns += 1;
                }
            }
            entry.chunk.consume();
            return;
        };
        let outcome = if d.timed_out {
            Outcome::TimedOut(self.settings.timeout.unwrap_or(run.elapsed))
        } else {
            crashed(Some(d.exit), d.detail.clone())
        };
        self.requeue(&entry.chunk, entry.done..offset, true);
        self.blame(slot, &mut entry, offset, outcome, run);
        self.requeue(&entry.chunk, offset + 1..count, false);
        entry.chunk.consume();
    }

    /// The offset of the item the worker was running in this chunk, if it
    /// is known to have been running one.
    fn blamed(&self, entry: &super::InFlight, d: &Death) -> Option<usize> {
        let first_unreported = entry.done;
        if d.timed_out {
            return Some(first_unreported);
        }
        if d.page {
            // The progress page names the item (local workers), or says
            // none was running.
            return match d.running {
                Some(r) if r.chunk == entry.seq && r.offset as usize >= first_unreported => {
                    Some(r.offset as usize)
                }
                // Chunks sent before the running one finished; their
                // results were not written yet. Chunks after it never
                // started. Neither is to blame.
                Some(_) => None,
                None => self.unnamed(entry, d),
            };
        }
        // A worker that reports each item: the first unreported item of a
        // chunk it had started was running.
        (d.position < self.concurrency() && entry.started.is_some()).then_some(first_unreported)
    }

    /// A chunk that keeps coming back from workers whose progress page
    /// named no running item is blamed for its next item.
    fn unnamed(&self, entry: &super::InFlight, d: &Death) -> Option<usize> {
        let repeated = entry.chunk.returns >= MAX_UNNAMED_DEATHS;
        (d.position == 0 && repeated).then_some(entry.done)
    }

    /// Puts items `range` of `chunk` back at the front of the queue (or
    /// ends them, when the pool is halted or broken). Items that never
    /// `started` do not count the attempt.
    pub(super) fn requeue(
        &mut self,
        chunk: &SentChunk,
        range: std::ops::Range<usize>,
        started: bool,
    ) {
        if range.is_empty() {
            return;
        }
        let why = self.halted.clone().or_else(|| self.broken.clone());
        match why {
            Some(why) => {
                self.outbox
                    .finish_range(chunk, range, Outcome::NotRun(why), RunInfo::default());
            }
            None => {
                let mut again = chunk.split(range);
                if !started {
                    again.attempts = again.attempts.saturating_sub(1);
                }
                self.requeued.push(again);
            }
        }
    }

    /// Starts a replacement for `slot` if there is work left (and its host
    /// is not waiting or left out, `hosts_down.rs`).
    fn replace(&mut self, slot: usize) {
        for chunk in self.requeued.drain(..).rev() {
            self.queue.push_front(chunk);
        }
        if self.state == State::Stopping {
            let why = Outcome::NotRun(self.stop_reason.clone());
            for chunk in self.slots[slot].retry.drain(..) {
                chunk.finish(why.clone(), RunInfo::default());
            }
            return;
        }
        if self.spread() {
            // Its host may be down: its retries go to the first free
            // worker, on any host, not only to its replacement.
            self.release_retries(slot);
        }
        if !self.may_spawn(slot) {
            if !self.some_host_left() && self.broken.is_none() {
                tracing::error!("every host was left out");
                self.break_pool("no worker could start: every host was left out".into());
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
}

/// What is known about a worker's death, for settling each of its chunks.
pub(super) struct Death {
    pub exit: Exit,
    pub detail: Option<String>,
    /// The worker had a progress page.
    page: bool,
    /// The item its page named.
    running: Option<Running>,
    /// When the worker last reported: the latest its item can have started.
    last_report: Instant,
    position: usize,
    pub now: Instant,
    any_timed_out: bool,
    timed_out: bool,
    /// With K > 1: the items it was held to be running (`lanes.rs`).
    pub lanes: Vec<super::lanes::Lane>,
}
