//! [`Runner`]: where items run, a [`Pool`] of worker processes or this
//! process ([`Serial`]), behind one surface.
//!
//! A program that offers both (the `mproc` command's `--serial`) chooses
//! once, when it builds the runner, and from then on asks the same
//! questions of either: how many worker processes there are
//! ([`processes`](Runner::processes): 0 when serial), the host of each slot,
//! when the run began, which workers started and ended, a [`Stopper`], and
//! the pool's calls (`map`, `imap`, `imap_unordered`, their `_stream`
//! forms, `map_async`), then [`finish`](Runner::finish). Every item ends
//! with one [`ItemResult`] either way; what differs is only where it ran.
//!
//! Serial answers: no processes and no hosts; one worker event, this
//! process starting at the epoch; `imap_unordered` gives input order (each
//! item ends before the next starts); `map_async` runs every item before it
//! returns, its handle ready; [`Results::has_ready`] is always true (the
//! next result is computed by the call that asks for it, nothing is waited
//! for).

use std::time::{Duration, Instant};

use crate::error::Result;
use crate::job::Job;
use crate::outcome::ItemResult;
use crate::pool::{AsyncResult, IMap, Pool};
use crate::serial::{Serial, SerialItems};
use crate::settings::PoolSettings;
use crate::stopper::Stopper;

/// A [`Pool`] or a [`Serial`] run, asked the same questions.
///
/// ```no_run
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// fn main() -> mproc::Result<()> {
///     mproc::serve_if_worker(&mproc::Registry::new());
///     let serial = std::env::args().any(|a| a == "--serial");
///     let settings = mproc::PoolSettings::default().processes(2);
///     let runner = if serial {
///         mproc::Runner::serial(settings)
///     } else {
///         mproc::Runner::pool(settings)?
///     };
///     let job = mproc::FnJob::new(square);
///     let squares = mproc::values(runner.imap(&job, 0..4).collect())?;
///     assert_eq!(squares, [0, 1, 4, 9]);
///     println!("on {} worker processes", runner.processes());
///     runner.finish()
/// }
/// ```
pub struct Runner {
    on: On,
}

/// Where a [`Runner`] runs its items.
enum On {
    Pool(Pool),
    Serial(Serial),
}

impl From<Pool> for Runner {
    fn from(pool: Pool) -> Runner {
        Runner { on: On::Pool(pool) }
    }
}

impl From<Serial> for Runner {
    fn from(serial: Serial) -> Runner {
        Runner {
            on: On::Serial(serial),
        }
    }
}

impl Runner {
    /// A pool of worker processes ([`Pool::start`]).
    pub fn pool(settings: PoolSettings) -> Result<Runner> {
        Ok(Pool::start(settings)?.into())
    }

    /// This process, item after item ([`Serial::new`]).
    pub fn serial(settings: PoolSettings) -> Runner {
        Serial::new(settings).into()
    }

    /// The number of worker processes: 0 when serial.
    pub fn processes(&self) -> usize {
        match &self.on {
            On::Pool(pool) => pool.processes(),
            On::Serial(_) => 0,
        }
    }

    /// The host of each worker slot (`None`: this machine); none when
    /// serial.
    pub fn hosts(&self) -> &[Option<String>] {
        match &self.on {
            On::Pool(pool) => pool.hosts(),
            On::Serial(_) => &[],
        }
    }

    /// When the run began; item start times count from here.
    pub fn epoch(&self) -> Instant {
        match &self.on {
            On::Pool(pool) => pool.epoch(),
            On::Serial(serial) => serial.epoch(),
        }
    }

    /// Worker starts and ends, `(slot, pid, time since epoch, started)`: a
    /// pool's since the last call ([`Pool::worker_events`]); when serial,
    /// this process in slot 0, started at the epoch.
    pub fn worker_events(&self) -> Vec<(usize, u32, Duration, bool)> {
        match &self.on {
            On::Pool(pool) => pool.worker_events(),
            On::Serial(_) => vec![(0, std::process::id(), Duration::ZERO, true)],
        }
    }

    /// A handle that stops the run from any thread ([`Stopper::stop`]).
    pub fn stopper(&self) -> Stopper {
        match &self.on {
            On::Pool(pool) => pool.stopper(),
            On::Serial(serial) => serial.stopper(),
        }
    }

    /// Takes no more work: a pool finishes what is queued and its workers
    /// begin to exit, while this thread goes on ([`Pool::close`]). A
    /// program that has all its results closes before it formats them, so
    /// the workers end alongside; [`finish`](Runner::finish) then waits.
    pub fn close(&mut self) {
        if let On::Pool(pool) = &mut self.on {
            pool.close();
        }
    }

    /// Ends the run: a pool takes no more work, finishes what is queued,
    /// and its workers exit ([`Pool::close`], then [`Pool::join`]).
    pub fn finish(self) -> Result<()> {
        match self.on {
            On::Pool(mut pool) => {
                pool.close();
                pool.join()
            }
            On::Serial(_) => Ok(()),
        }
    }

    /// Every result in input order, once all are done ([`Pool::map`]).
    pub fn map<J, I>(&self, job: &J, inputs: I) -> Vec<ItemResult<J::Output>>
    where
        J: Job,
        J::Input: Clone,
        I: IntoIterator<Item = J::Input>,
    {
        match &self.on {
            On::Pool(pool) => pool.map(job, inputs),
            On::Serial(serial) => serial.map(job, inputs),
        }
    }

    /// Results in input order as they are ready ([`Pool::imap`]).
    pub fn imap<'r, J, I>(&'r self, job: &'r J, inputs: I) -> Results<'r, J, I::IntoIter>
    where
        J: Job,
        J::Input: Clone,
        I: IntoIterator<Item = J::Input>,
    {
        self.results(job, inputs.into_iter(), Pool::imap, false)
    }

    /// Results as they finish, in any order ([`Pool::imap_unordered`]);
    /// in input order when serial.
    pub fn imap_unordered<'r, J, I>(&'r self, job: &'r J, inputs: I) -> Results<'r, J, I::IntoIter>
    where
        J: Job,
        J::Input: Clone,
        I: IntoIterator<Item = J::Input>,
    {
        self.results(job, inputs.into_iter(), Pool::imap_unordered, false)
    }

    /// [`imap`](Runner::imap) over inputs a pool pulls on a thread of
    /// their own ([`Pool::imap_stream`]); once stopped, they are read no
    /// further.
    pub fn imap_stream<'r, J, I>(&'r self, job: &'r J, inputs: I) -> Results<'r, J, I::IntoIter>
    where
        J: Job,
        J::Input: Clone,
        I: IntoIterator<Item = J::Input>,
        I::IntoIter: Send + 'static,
    {
        self.results(job, inputs.into_iter(), Pool::imap_stream, true)
    }

    /// [`imap_unordered`](Runner::imap_unordered) over a stream of inputs
    /// ([`Pool::imap_unordered_stream`]).
    pub fn imap_unordered_stream<'r, J, I>(
        &'r self,
        job: &'r J,
        inputs: I,
    ) -> Results<'r, J, I::IntoIter>
    where
        J: Job,
        J::Input: Clone,
        I: IntoIterator<Item = J::Input>,
        I::IntoIter: Send + 'static,
    {
        self.results(job, inputs.into_iter(), Pool::imap_unordered_stream, true)
    }

    /// Every input submitted now, and a handle to the ordered results
    /// ([`Pool::map_async`]); when serial, every item has run when this
    /// returns, and the handle is ready.
    pub fn map_async<J, I>(&self, job: &J, inputs: I) -> AsyncResult<Vec<ItemResult<J::Output>>>
    where
        J: Job,
        J::Input: Clone,
        I: IntoIterator<Item = J::Input>,
    {
        match &self.on {
            On::Pool(pool) => pool.map_async(job, inputs),
            On::Serial(serial) => AsyncResult::done(serial.map(job, inputs)),
        }
    }

    /// Results from `imap` (one of the pool's four) on a pool, item after
    /// item when serial (a `stream` is read no further once stopped).
    fn results<'r, J, I>(
        &'r self,
        job: &'r J,
        inputs: I,
        imap: fn(&'r Pool, &'r J, I) -> IMap<'r, J, I>,
        stream: bool,
    ) -> Results<'r, J, I>
    where
        J: Job,
        J::Input: Clone,
        I: Iterator<Item = J::Input>,
    {
        Results {
            source: match &self.on {
                On::Pool(pool) => Source::Pool(imap(pool, job, inputs)),
                On::Serial(serial) => Source::Serial(serial.items(job, inputs, stream)),
            },
        }
    }
}

/// The results of a [`Runner`]'s `imap` calls, as an iterator.
pub struct Results<'r, J: Job, I> {
    source: Source<'r, J, I>,
}

/// Where [`Results`] come from. (One lives per call, on the caller's
/// stack: the serial variant's smaller size costs nothing worth a box.)
#[allow(clippy::large_enum_variant)]
enum Source<'r, J: Job, I> {
    Pool(IMap<'r, J, I>),
    Serial(SerialItems<'r, J, I>),
}

impl<J: Job, I: Iterator<Item = J::Input>> Results<'_, J, I>
where
    J::Input: Clone,
{
    /// Hands `f` the values of the next results, in order, while they are
    /// at hand and ended ok, without making an [`ItemResult`] of each, and
    /// says how many: for a consumer that keeps values alone (a million
    /// tiny results in a few milliseconds). It stops before a result that
    /// is not ok or not yet here, which [`next`](Iterator::next) then
    /// yields (or waits for); 0 means `next` comes first. Always 0 when
    /// serial.
    #[inline(always)]
    pub fn next_values(&mut self, f: impl FnMut(J::Output)) -> usize {
        match &mut self.source {
            Source::Pool(imap) => imap.next_values(f),
            Source::Serial(_) => 0,
        }
    }

    /// Whether [`next`](Iterator::next) would give a result without
    /// waiting for another process ([`IMap::has_ready`]); always true when
    /// serial. A consumer that buffers its output writes it when this says
    /// no.
    #[inline(always)]
    pub fn has_ready(&mut self) -> bool {
        match &mut self.source {
            Source::Pool(imap) => imap.has_ready(),
            Source::Serial(_) => true,
        }
    }
}

impl<J: Job, I: Iterator<Item = J::Input>> Iterator for Results<'_, J, I>
where
    J::Input: Clone,
{
    type Item = ItemResult<J::Output>;

    #[inline(always)]
    fn next(&mut self) -> Option<ItemResult<J::Output>> {
        match &mut self.source {
            Source::Pool(imap) => imap.next(),
            Source::Serial(items) => items.next(),
        }
    }
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.on {
            On::Pool(pool) => f.debug_tuple("Runner").field(pool).finish(),
            On::Serial(serial) => f.debug_tuple("Runner").field(serial).finish(),
        }
    }
}

impl<J: Job, I> std::fmt::Debug for Results<'_, J, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Results")
            .field("job", &J::NAME)
            .field("serial", &matches!(self.source, Source::Serial(_)))
            .finish_non_exhaustive()
    }
}
