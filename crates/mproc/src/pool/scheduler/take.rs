//! Taking back items a worker has not started, so that no worker idles
//! while an item waits in another worker's pipe.
//!
//! Two cases ask a worker for its unstarted items (`Request::Take`):
//! - items held back by a slow item: the rest of a running chunk whose
//!   item has run [`STUCK`] and twice the job's measured time per item
//!   without a report, and chunks sent ahead behind running chunks that
//!   all have:
//!   they go back to the queue's front, for whichever thread frees first
//!   (when the pool has more than one);
//! - a worker with a free thread while the queue is empty: the chunks
//!   whose unstarted items hold the most work (measured, plus how long
//!   their worker has been silent), each if that is at least
//!   [`TAKE_WORK`], as many as there are free threads: a chunk that waits
//!   whole, or the rest of one that runs.
//!
//! The worker answers with the first item it gave back (`Reply::Taken`);
//! those go back to the front of the queue, their attempt uncounted. One
//! request per chunk is outstanding at a time.

use std::time::{Duration, Instant};

use super::{InFlight, Live, Scheduler, State};
use crate::outcome::Outcome;
use crate::protocol::{self, Request};

/// The least work worth taking back for a worker that idles.
pub(crate) const TAKE_WORK: Duration = Duration::from_millis(1);

/// How long an item must have run (and twice its job's measured time per
/// item) before the items behind it are taken back.
pub(crate) const STUCK: Duration = Duration::from_millis(2);

impl Live {
    /// Since when the worker has been silent: its last report, or when
    /// its first chunk was sent, whichever is later.
    pub(super) fn silent_since(&self) -> Instant {
        let busy = self.inflight.front().and_then(|f| f.started);
        let since = busy.map_or(self.last_report, |b| b.max(self.last_report));
        self.no_earlier_than_page(since)
    }

    /// Looks at the worker's progress page, if it has one: a worker that
    /// moved on to another item since the last look is making progress,
    /// though the results of fast items reach the parent gathered, up to
    /// 10 ms late.
    fn look_at_page(&mut self, now: Instant) {
        if !self.conn.has_page() {
            return;
        }
        self.page_seen = match (self.page_seen, self.conn.running()) {
            (Some((seen, since)), Some(running)) if seen == running => Some((seen, since)),
            (_, Some(running)) => Some((running, now)),
            (_, None) => None,
        };
    }

    /// `t`, or when its progress page began to name the item it names
    /// now, if later: the worker has been making progress until then.
    fn no_earlier_than_page(&self, t: Instant) -> Instant {
        self.page_seen.map_or(t, |(_, since)| since.max(t))
    }

    /// Ready for work: said hello, and neither retiring, killed nor
    /// closed.
    pub(super) fn usable(&self) -> bool {
        self.ready && !self.retiring && self.killed_at.is_none() && self.closed_at.is_none()
    }
}

impl Scheduler {
    /// Asks for items back where that helps (see the module docs).
    pub(super) fn take_back(&mut self) {
        if !matches!(self.state, State::Running | State::Closing) || self.settings.halt_on_error {
            self.take_at = None;
            return;
        }
        // Nothing can be stuck before the time found at the last look (a
        // chunk sent since is stuck [`STUCK`] after it was sent at the
        // earliest), so the look is paid once per such time, not per
        // event. With one worker, nobody else could run them (its own
        // threads, with K > 1, claim them as they free).
        let now = self.now();
        if self.take_at.is_none_or(|t| now >= t) {
            self.take_at = None;
            for live in self.slots.iter_mut().filter_map(|s| s.live.as_mut()) {
                live.look_at_page(now);
            }
            if self.slots.len() > 1 {
                self.take_back_stuck();
            }
        }
        let queue_empty = self.queue.is_empty() && self.slots.iter().all(|s| s.retry.is_empty());
        if queue_empty && self.has_idle_worker() {
            self.take_back_for_idle();
        }
    }

    /// Unstarted items held back by a slow item come back: the rest of a
    /// running chunk whose item has run longer than expected, and chunks
    /// waiting behind running ones that all have.
    fn take_back_stuck(&mut self) {
        let concurrency = self.concurrency();
        let now = self.now();
        let mut wake: Option<Instant> = None;
        let mut asks = Vec::new();
        for (index, slot) in self.slots.iter().enumerate() {
            let Some(live) = slot.live.as_ref().filter(|l| l.usable()) else {
                continue;
            };
            let mut all_stuck = true;
            for (position, f) in live.inflight.iter().enumerate() {
                let runs = running_items(live, f, position, concurrency);
                let running = runs > 0;
                // A running chunk's own last report (another thread's
                // reports say nothing of it).
                let since = if running {
                    live.no_earlier_than_page(f.started.unwrap_or(live.last_report))
                } else {
                    live.silent_since()
                };
                // Its item is slow once it has run [`STUCK`], and twice
                // the job's measured time per item.
                let pace = self.pace.get(&f.chunk.job_key()).map(|p| p.per_item());
                let due = since + STUCK.max(2 * pace.unwrap_or_default());
                let stuck = now >= due;
                let left = f.unreported().saturating_sub(runs);
                let wanted = left > 0 && (running || all_stuck);
                if running {
                    all_stuck &= stuck;
                }
                if !wanted || live.asked.contains(&f.seq) || live.timed_out.contains(&f.seq) {
                    continue;
                }
                if stuck {
                    asks.push((index, f.seq));
                } else {
                    wake = Some(wake.map_or(due, |w| w.min(due)));
                }
            }
        }
        for (index, seq) in asks {
            self.ask(index, seq);
        }
        // Look again when the first chunk may be stuck, and at the latest
        // [`STUCK`] from now (for chunks sent meanwhile) while any runs.
        let running = self
            .slots
            .iter()
            .filter_map(|s| s.live.as_ref())
            .any(|l| !l.inflight.is_empty());
        self.take_at = match (wake, running) {
            (Some(w), _) => Some(w.min(now + STUCK)),
            (None, true) => Some(now + STUCK),
            (None, false) => None,
        };
    }

    /// If some worker idles while the queue is empty, asks for the
    /// unstarted items that hold the most work: as many chunks as there
    /// are free threads, so that K idle threads are not filled one round
    /// trip after another.
    fn take_back_for_idle(&mut self) {
        let concurrency = self.concurrency();
        let now = self.now();
        let free: usize = self
            .slots
            .iter()
            .filter_map(|s| s.live.as_ref())
            .filter(|l| l.usable())
            .map(|l| super::dispatch::free_lanes(l, concurrency))
            .sum();
        let mut candidates: Vec<(usize, u64, Duration)> = Vec::new();
        // (How long a worker has been silent counts as work its unstarted
        // items wait behind; a progress page that names a new item at
        // each look ends the silence, since a busy worker gathers the
        // results of fast items for a while before it writes them.)
        for (index, slot) in self.slots.iter().enumerate() {
            let Some(live) = slot.live.as_ref().filter(|l| l.usable()) else {
                continue;
            };
            let silent = now.saturating_duration_since(live.silent_since());
            for (position, f) in live.inflight.iter().enumerate() {
                if live.asked.contains(&f.seq) || live.timed_out.contains(&f.seq) {
                    continue;
                }
                // A running chunk's next unreported item may be running.
                let runs = running_items(live, f, position, concurrency);
                let left = f.unreported().saturating_sub(runs);
                if left == 0 {
                    continue;
                }
                let pace = self.pace.get(&f.chunk.job_key()).map(|p| p.per_item());
                let work = pace.unwrap_or_default().saturating_mul(left as u32) + silent;
                candidates.push((index, f.seq, work));
            }
        }
        // The most work first (a stable sort: ties keep their order).
        candidates.sort_by_key(|c| std::cmp::Reverse(c.2));
        let Some(&(_, _, most)) = candidates.first() else {
            return;
        };
        if most < TAKE_WORK {
            // Not worth a round trip yet: look again when it may be.
            let due = now + (TAKE_WORK - most);
            self.take_at = Some(self.take_at.map_or(due, |t| t.min(due)));
            return;
        }
        let worth = candidates.iter().take_while(|c| c.2 >= TAKE_WORK);
        let asks: Vec<(usize, u64)> = worth.take(free.max(1)).map(|c| (c.0, c.1)).collect();
        for (index, seq) in asks {
            self.ask(index, seq);
        }
    }

    /// Sends slot `index`'s worker a request for chunk `seq`'s unstarted
    /// items.
    fn ask(&mut self, index: usize, seq: u64) {
        let mut frame = Vec::new();
        if let Err(e) = protocol::append_frame(&mut frame, &Request::Take { chunk: seq }) {
            tracing::error!("{e}");
            return;
        }
        if let Some(live) = self.slots[index].live.as_mut() {
            live.asked.insert(seq);
            live.conn.send(frame);
        }
    }

    /// Worker `slot` gave back items `from ..` of chunk `seq` (or none):
    /// they go back to the front of the queue, never started.
    pub(super) fn on_taken(&mut self, slot: usize, seq: u64, from: Option<u32>) {
        let concurrency = self.concurrency();
        let now = self.now();
        let Some(live) = self.slots[slot].live.as_mut() else {
            return;
        };
        let Some(from) = from.map(|f| f as usize) else {
            return;
        };
        let Some(position) = live.inflight.iter().position(|f| f.seq == seq) else {
            // Ended (or gone) before the answer: nothing was given back.
            return;
        };
        let entry = &mut live.inflight[position];
        let count = entry.chunk.count();
        if from >= count {
            return;
        }
        if entry.any_reported(from..count) {
            let why = format!(
                "worker gave back items of chunk {seq} from {from}, after reporting {} of them",
                entry.done
            );
            live.kill(Some(why));
            return;
        }
        let mut back = entry.chunk.split(from..count);
        back.attempts = back.attempts.saturating_sub(1);
        let kept = entry.chunk.split(0..from);
        std::mem::replace(&mut entry.chunk, kept).consume();
        live.dispatched = live.dispatched.saturating_sub(back.count() as u64);
        if entry.done == from {
            if let Some(f) = live.inflight.remove(position) {
                f.chunk.consume();
            }
        }
        super::dispatch::mark_started(live, concurrency, now);
        if self.state == super::State::Stopping {
            // A stop came while the answer was on its way: the items end
            // for the stop's reason, as those that waited in the queue did.
            let why = Outcome::NotRun(self.stop_reason.clone());
            back.finish(why, super::RunInfo::default());
            return;
        }
        // Taken back in input order: each goes before what is queued.
        let at = self
            .queue
            .iter()
            .position(|c| c.first > back.first || !std::sync::Arc::ptr_eq(&c.batch, &back.batch))
            .unwrap_or(self.queue.len());
        self.queue.insert(at, back);
    }
}

/// Items of chunk `f`, at `position` in `live`'s pipeline, that may be
/// running: its next unreported one if it is among the first
/// `concurrency` chunks; with K > 1, its items among the worker's lanes.
fn running_items(live: &Live, f: &InFlight, position: usize, concurrency: usize) -> usize {
    if concurrency > 1 {
        live.lanes_in(f.seq)
    } else {
        usize::from(position < concurrency)
    }
}
