//! A simulator for the scheduler (tests only): workers that replay item
//! durations on a virtual clock behind the [`Link`] seam, so the dispatch
//! policy is checked in milliseconds, with no process.
//!
//! A simulated worker behaves as a real one does: it answers its start
//! with a hello after a start-up delay, runs the chunks it is sent in
//! arrival order (each chunk's items in order; with concurrency K > 1,
//! each of its K lanes claims the next item of the oldest chunk that has
//! one, so items of one chunk run at once and end out of order), names
//! its running item on a progress page (with K = 1), and reports a
//! chunk's items when the chunk ends (or each item, when reports are per
//! item). Frames
//! take [`LATENCY`] each way. An item may crash its worker or stall it for
//! ever. The world records when each lane idles while an item that no
//! worker holds waits, and when the last item ends.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::link::{Clock, Link, Starter};
use super::{Event, Scheduler};
use crate::child::WorkerCommand;
use crate::connection::{ConnConfig, ConnEvent, Sink};
use crate::error::Result;
use crate::outcome::Exit;
use crate::pool::task::{Batch, JobSpec, Report};
use crate::pool::Chunks;
use crate::progress_page::Running;
use crate::protocol::{self, Done, Hello, Request};
use crate::settings::PoolSettings;

/// One way of a frame's trip.
pub(crate) const LATENCY: Duration = Duration::from_micros(50);

/// A worker's start-up, until its hello is read.
pub(crate) const STARTUP: Duration = Duration::from_millis(5);

/// What happens to an item in a worker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Fate {
    /// It runs this long and ends ok.
    Runs(Duration),
    /// Its worker dies after this long into it.
    Crashes(Duration),
    /// It never ends.
    Stalls,
}

/// What the simulation saw.
#[derive(Debug)]
pub(crate) struct Seen {
    /// Reports per item (each should be exactly 1).
    pub reports: Vec<u32>,
    /// The longest time one lane of a ready worker idled while an item no
    /// worker held waited.
    pub longest_idle: Duration,
    /// When the last item ended (or was given up on).
    pub makespan: Duration,
}

/// Something due at a virtual time.
enum Action {
    Hello(usize),
    Arrive(usize, Vec<u8>),
    End(usize, usize),
    Deliver(usize, Done),
    Taken(usize, u64, Option<u32>),
    Die(usize, Exit),
}

struct Lane {
    seq: u64,
    items: Vec<u32>,
    /// The offset of `items[0]` in its chunk.
    base: usize,
    next: usize,
    done: Done,
    /// When the running item started (ns).
    since: u64,
}

struct Worker {
    sink: Sink,
    alive: bool,
    ready: bool,
    closed: bool,
    hello_ns: u64,
    /// Chunks not run yet: number, items, and the next item to claim.
    queue: VecDeque<(u64, Vec<u32>, usize)>,
    lanes: Vec<Option<Lane>>,
    page: Option<Running>,
    /// The lane whose item crashes or stalls, once one does.
    stuck: bool,
    /// When each lane last became free.
    free_since: Vec<u64>,
}

struct World {
    now: Arc<AtomicU64>,
    fates: Vec<Fate>,
    concurrency: usize,
    report_each: bool,
    workers: Vec<Worker>,
    due: BTreeMap<(u64, u64), Action>,
    order: u64,
    /// Items that ended, crashed or stalled for good, and items a live
    /// worker holds.
    settled: Vec<bool>,
    held: Vec<u32>,
    last_end: u64,
}

impl World {
    fn at(&mut self, delay: Duration, action: Action) {
        let t = self.now.load(Ordering::Relaxed) + delay.as_nanos() as u64;
        self.order += 1;
        self.due.insert((t, self.order), action);
    }

    fn now(&self) -> u64 {
        self.now.load(Ordering::Relaxed)
    }

    fn apply(&mut self, action: Action) {
        match action {
            Action::Hello(w) => {
                if self.workers[w].alive {
                    self.workers[w].ready = true;
                    self.workers[w].hello_ns = self.now();
                    let hello = Hello::new();
                    (self.workers[w].sink)(ConnEvent::Ready(hello, instant(self.now())));
                }
            }
            Action::Arrive(w, frames) => self.arrive(w, &frames),
            Action::End(w, lane) => self.end(w, lane),
            Action::Deliver(w, done) => {
                if self.workers[w].alive {
                    (self.workers[w].sink)(ConnEvent::Done(vec![done]));
                }
            }
            Action::Taken(w, chunk, from) => {
                if self.workers[w].alive {
                    (self.workers[w].sink)(ConnEvent::Taken { chunk, from });
                }
            }
            Action::Die(w, exit) => self.die(w, exit),
        }
    }

    fn arrive(&mut self, w: usize, mut frames: &[u8]) {
        if !self.workers[w].alive {
            // A dead worker's pipe takes nothing.
            return;
        }
        while frames.len() >= 4 {
            let len = u32::from_le_bytes(frames[..4].try_into().unwrap()) as usize;
            let request: Request = protocol::decode(&frames[4..4 + len]).unwrap();
            frames = &frames[4 + len..];
            if let Request::Take { chunk } = request {
                let from = self.take(w, chunk);
                self.at(LATENCY, Action::Taken(w, chunk, from));
                continue;
            }
            if let Request::Run {
                chunk,
                count,
                inputs,
                ..
            } = request
            {
                let mut rest: &[u8] = &inputs;
                let items: Vec<u32> = (0..count)
                    .map(|_| {
                        let (item, used) = protocol::decode_prefix::<u32>(rest).unwrap();
                        rest = &rest[used..];
                        item
                    })
                    .collect();
                for &item in &items {
                    self.held[item as usize] += 1;
                }
                self.workers[w].queue.push_back((chunk, items, 0));
            }
        }
        self.run_lanes(w);
    }

    /// Gives back the unstarted items of chunk `seq`, as a worker does.
    fn take(&mut self, w: usize, seq: u64) -> Option<u32> {
        let worker = &mut self.workers[w];
        let (from, back) = if let Some(at) = worker.queue.iter().position(|(c, ..)| *c == seq) {
            let (_, mut items, next) = worker.queue.remove(at)?;
            if next >= items.len() {
                return None;
            }
            (next, items.split_off(next))
        } else {
            let lane = worker.lanes.iter_mut().flatten().find(|l| l.seq == seq)?;
            let from = lane.next + 1;
            if from >= lane.items.len() {
                return None;
            }
            (from, lane.items.split_off(from))
        };
        for item in back {
            self.held[item as usize] -= 1;
        }
        Some(from as u32)
    }

    /// Lanes that are free take the next chunks.
    fn run_lanes(&mut self, w: usize) {
        let now = self.now();
        // The lane free the longest takes the next chunk: which thread
        // runs a chunk is arbitrary in a worker, so none is made to wait.
        let mut free: Vec<usize> = (0..self.concurrency).collect();
        free.sort_by_key(|&l| self.workers[w].free_since[l]);
        for lane in free {
            let worker = &mut self.workers[w];
            if !worker.alive || worker.stuck || worker.lanes[lane].is_some() {
                continue;
            }
            let Some((seq, items, base)) = claim(&mut worker.queue, self.concurrency) else {
                break;
            };
            let started = (now - worker.hello_ns) / 1000;
            worker.lanes[lane] = Some(Lane {
                seq,
                items,
                base,
                next: 0,
                done: Done {
                    chunk: seq,
                    from: base as u32,
                    started,
                    ..Done::default()
                },
                since: now,
            });
            self.begin(w, lane);
        }
        let worker = &self.workers[w];
        let idle = worker.lanes.iter().all(Option::is_none) && worker.queue.is_empty();
        if worker.alive && worker.closed && idle {
            self.at(Duration::from_micros(1), Action::Die(w, Exit::Code(0)));
        }
    }

    fn begin(&mut self, w: usize, lane: usize) {
        let now = self.now();
        let running = self.workers[w].lanes[lane].as_mut().unwrap();
        running.since = now;
        let item = running.items[running.next];
        // A worker of K > 1 writes nothing on its page.
        if self.concurrency == 1 {
            self.workers[w].page = Some(Running {
                chunk: running.seq,
                offset: (running.base + running.next) as u32,
            });
        }
        match self.fates[item as usize] {
            Fate::Runs(d) => self.at(d, Action::End(w, lane)),
            Fate::Crashes(d) => {
                self.workers[w].stuck = true;
                self.settled[item as usize] = true;
                self.at(d, Action::Die(w, Exit::Signal(9)));
            }
            Fate::Stalls => {
                self.workers[w].stuck = true;
                self.settled[item as usize] = true;
            }
        }
    }

    fn end(&mut self, w: usize, lane: usize) {
        if !self.workers[w].alive {
            return;
        }
        let now = self.now();
        self.last_end = self.last_end.max(now);
        let report_each = self.report_each;
        let hello_ns = self.workers[w].hello_ns;
        let running = self.workers[w].lanes[lane].as_mut().unwrap();
        let item = running.items[running.next] as usize;
        let took = (now - running.since) / 1000;
        running.done.times.push(took);
        running.done.elapsed += took;
        running.done.ends.push(0);
        running.done.count += 1;
        running.next += 1;
        let finished = running.next == running.items.len();
        let mut sent = None;
        if report_each || finished {
            let next = Done {
                chunk: running.seq,
                from: (running.base + running.next) as u32,
                started: (now - hello_ns) / 1000,
                ..Done::default()
            };
            sent = Some(std::mem::replace(&mut running.done, next));
        }
        self.settled[item] = true;
        self.held[item] -= 1;
        if let Some(done) = sent {
            self.at(LATENCY, Action::Deliver(w, done));
        }
        if finished {
            self.workers[w].lanes[lane] = None;
            self.workers[w].free_since[lane] = now;
            self.workers[w].page = None;
            self.run_lanes(w);
        } else {
            self.begin(w, lane);
        }
    }

    fn die(&mut self, w: usize, exit: Exit) {
        let worker = &mut self.workers[w];
        if !worker.alive {
            return;
        }
        worker.alive = false;
        let lanes = worker.lanes.iter_mut().filter_map(Option::take);
        let held: Vec<u32> = lanes
            .flat_map(|l| l.items[l.next..].to_vec())
            .chain(
                worker
                    .queue
                    .drain(..)
                    .flat_map(|(_, items, next)| items[next..].to_vec()),
            )
            .collect();
        for item in held {
            self.held[item as usize] -= 1;
        }
        (worker.sink)(ConnEvent::Gone { exit, error: None });
    }

    /// The lanes of ready workers that idle while an item nobody holds
    /// waits, as (worker, lane).
    fn idle_while_waiting(&self) -> Vec<(usize, usize)> {
        let waiting = (0..self.settled.len()).any(|i| !self.settled[i] && self.held[i] == 0);
        if !waiting {
            return Vec::new();
        }
        let usable = |w: &Worker| w.alive && w.ready && !w.closed && !w.stuck;
        self.workers
            .iter()
            .enumerate()
            .filter(|(_, w)| usable(w))
            .flat_map(|(i, w)| {
                let idle = w.lanes.iter().enumerate().filter(|(_, l)| l.is_none());
                idle.map(move |(lane, _)| (i, lane))
            })
            .collect()
    }
}

/// What a free lane takes: with concurrency 1 the next chunk whole; with
/// K > 1 the next item of the oldest chunk that has one. As (chunk,
/// items, offset of the first).
fn claim(
    queue: &mut VecDeque<(u64, Vec<u32>, usize)>,
    concurrency: usize,
) -> Option<(u64, Vec<u32>, usize)> {
    if concurrency == 1 {
        return queue.pop_front();
    }
    let (seq, items, next) = queue.front_mut()?;
    let claimed = (*seq, vec![items[*next]], *next);
    *next += 1;
    if *next == items.len() {
        queue.pop_front();
    }
    Some(claimed)
}

/// The instant `ns` after the simulation's start.
fn instant(ns: u64) -> Instant {
    base() + Duration::from_nanos(ns)
}

fn base() -> Instant {
    static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

struct SimLink {
    world: Arc<Mutex<World>>,
    worker: usize,
}

impl Link for SimLink {
    fn send(&self, frames: Vec<u8>) {
        let mut world = self.world.lock().unwrap();
        world.at(LATENCY, Action::Arrive(self.worker, frames));
    }

    fn close_input(&mut self) {
        let mut world = self.world.lock().unwrap();
        // After the frames already on their way.
        world.workers[self.worker].closed = true;
        world.at(LATENCY, Action::Arrive(self.worker, Vec::new()));
    }

    fn kill(&self) {
        let mut world = self.world.lock().unwrap();
        world.at(
            Duration::from_micros(1),
            Action::Die(self.worker, Exit::Signal(9)),
        );
    }

    fn signal(&self, _: Signal) {}

    fn has_page(&self) -> bool {
        true
    }

    fn running(&self) -> Option<Running> {
        self.world.lock().unwrap().workers[self.worker].page
    }
}

struct SimStarter(Arc<Mutex<World>>);

impl Starter for SimStarter {
    fn start(&self, _slot: usize, sink: Sink) -> Result<Box<dyn Link>> {
        let mut world = self.0.lock().unwrap();
        let lanes_n = world.concurrency;
        let lanes = (0..lanes_n).map(|_| None).collect();
        world.workers.push(Worker {
            sink,
            alive: true,
            ready: false,
            closed: false,
            hello_ns: 0,
            queue: VecDeque::new(),
            lanes,
            page: None,
            stuck: false,
            free_since: vec![0; lanes_n],
        });
        let worker = world.workers.len() - 1;
        world.at(STARTUP, Action::Hello(worker));
        Ok(Box::new(SimLink {
            world: Arc::clone(&self.0),
            worker,
        }))
    }
}

impl World {
    fn new(now: Arc<AtomicU64>, fates: &[Fate], concurrency: usize, report_each: bool) -> World {
        World {
            now,
            fates: fates.to_vec(),
            concurrency,
            report_each,
            workers: Vec::new(),
            due: BTreeMap::new(),
            order: 0,
            settled: vec![false; fates.len()],
            held: vec![0; fates.len()],
            last_end: 0,
        }
    }
}

/// How many times each of `count` items was reported.
fn count_reports(results: &mpsc::Receiver<Vec<Report>>, count: usize) -> Vec<u32> {
    let mut reports = vec![0u32; count];
    for report in results.try_iter().flatten() {
        for n in &mut reports[report.first..report.first + report.count] {
            *n += 1;
        }
    }
    reports
}

/// Runs items with `fates` (item `i` is input `i`) through a scheduler
/// with `settings` on simulated workers, as `Pool::map` then `close` do.
pub(crate) fn simulate(settings: PoolSettings, fates: &[Fate]) -> Seen {
    let processes = settings.processes.unwrap_or(2).max(1);
    let concurrency = settings.concurrency.max(1) as usize;
    let now = Arc::new(AtomicU64::new(0));
    let clock_now = Arc::clone(&now);
    let clock: Clock = Arc::new(move || instant(clock_now.load(Ordering::Relaxed)));
    let conn = ConnConfig::new(&settings, vec![WorkerCommand::program("sim"); processes]);
    let world = Arc::new(Mutex::new(World::new(
        Arc::clone(&now),
        fates,
        concurrency,
        conn.report_each,
    )));
    let (tx, rx) = mpsc::channel();
    let (ready_tx, _ready_rx) = mpsc::channel();
    let (life_tx, _life_rx) = mpsc::sync_channel(1 << 16);
    let chunksize = settings.chunksize;
    let mut scheduler = Scheduler::new(
        settings,
        conn,
        rx,
        tx.clone(),
        ready_tx,
        instant(0),
        life_tx,
    )
    .with_seam(Box::new(SimStarter(Arc::clone(&world))), clock);
    let results = submit(&tx, fates.len(), processes, chunksize);
    scheduler.start_workers();
    let mut longest = 0u64;
    let mut idle_since: BTreeMap<(usize, usize), u64> = BTreeMap::new();
    let mut done = scheduler.step(None);
    let mut steps = 0u64;
    while !done {
        steps += 1;
        assert!(steps < 200_000, "the simulation does not end");
        let next_action = world.lock().unwrap().due.keys().next().map(|k| k.0);
        let deadline = scheduler
            .next_deadline()
            .map(|d| d.saturating_duration_since(instant(0)).as_nanos() as u64);
        let t = match (next_action, deadline) {
            (Some(a), Some(d)) => a.min(d),
            (a, d) => a
                .or(d)
                .expect("the simulation stalled: nothing due, nothing to wait for"),
        };
        let current = now.load(Ordering::Relaxed);
        let t = t.max(current);
        let idle = world.lock().unwrap().idle_while_waiting();
        idle_since.retain(|lane, _| idle.contains(lane));
        for lane in idle {
            let since = *idle_since.entry(lane).or_insert(current);
            longest = longest.max(t - since);
        }
        now.store(t, Ordering::Relaxed);
        {
            let mut world = world.lock().unwrap();
            let due = world.due.first_key_value().map(|(k, _)| *k);
            if let Some(key) = due.filter(|k| k.0 <= t) {
                let action = world.due.remove(&key).unwrap();
                world.apply(action);
            }
        }
        done = scheduler.step(None);
    }
    let reports = count_reports(&results, fates.len());
    let last_end = world.lock().unwrap().last_end;
    Seen {
        reports,
        longest_idle: Duration::from_nanos(longest),
        makespan: Duration::from_nanos(last_end),
    }
}

/// Submits items `0..count` as `Pool::map` does, then closes.
fn submit(
    tx: &mpsc::Sender<Event>,
    count: usize,
    processes: usize,
    chunksize: Option<usize>,
) -> Receiver<Vec<Report>> {
    let spec = Arc::new(JobSpec {
        key: 0,
        name: "sim".into(),
        config: Vec::new(),
    });
    let (sink, results) = mpsc::channel();
    let batch = Batch::new(spec, sink, None);
    let size = chunksize.unwrap_or_else(|| count.div_ceil(4 * processes).clamp(1, 1024));
    let mut chunks = Chunks::new(&batch, size);
    for i in 0..count as u32 {
        chunks.push(&i);
    }
    tx.send(Event::Submit(chunks.finish())).unwrap();
    tx.send(Event::Close).unwrap();
    results
}

/// The makespan of an ideal pool of `lanes` with no overhead, handing the
/// next item in input order to whichever lane is free.
pub(crate) fn bound(durations: &[Duration], lanes: usize) -> Duration {
    let mut free = vec![Duration::ZERO; lanes.max(1)];
    for d in durations {
        let lane = (0..free.len()).min_by_key(|&l| free[l]).unwrap();
        free[lane] += *d;
    }
    free.into_iter().max().unwrap_or_default()
}

#[cfg(test)]
mod tests;
