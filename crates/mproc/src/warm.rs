//! Warm starts: local workers begun before their pool exists.
//!
//! A worker takes about as long to start as the program that starts it
//! (exec, loading, the runtime): started only once the program has read
//! its arguments and made its pool, that time is spent one after the
//! other. A program that knows early that it will start a pool of local
//! workers (the command line can tell from its arguments before it has
//! parsed them) calls [`WarmStart::begin`]: the workers start while the
//! program goes on. The next pool whose local workers run the same command
//! adopts them: each gets its slot and its configure frame then, as a
//! worker the pool had started itself.
//!
//! A guess that turns out wrong costs the workers' start and nothing
//! else: those no pool adopted are killed and reaped when the
//! [`WarmStart`] is dropped, so none outlives the program.

use std::sync::Mutex;

use crate::child::WorkerCommand;
use crate::connection::{pipe_room, Spawned};
use crate::limits::MAX_PROCESSES;

/// Workers begun by a [`WarmStart`] and not adopted yet.
static WAITING: Mutex<Vec<Spawned>> = Mutex::new(Vec::new());

/// The most workers one warm start begins: a guess costs no more.
const MAX_WARM: usize = 64;

/// Local workers of this program, started ahead of the pool that will use
/// them.
///
/// A worker takes about as long to start as the program that starts it:
/// a program that knows early that it will start a [`Pool`](crate::Pool)
/// of local workers (the `mproc` command line can tell from its words
/// before it parses them) begins them here, and they start while it goes
/// on. The next pool whose local workers run this executable adopts them,
/// each getting its slot and its settings then. Dropping the guard kills
/// and reaps the ones no pool took, so a wrong guess costs their start
/// and nothing else. (Warm starts share one list of waiting workers:
/// dropping any guard stops every worker still waiting.)
///
/// ```no_run
/// let _warm = mproc::WarmStart::begin(4);
/// // ... read the arguments, the inputs ...
/// let pool = mproc::Pool::new(4)?; // adopts the four workers
/// # Ok::<(), mproc::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "the workers are stopped when this is dropped"]
pub struct WarmStart {
    _private: (),
}

impl WarmStart {
    /// Begins starting `workers` local workers of this executable (at most
    /// 64) and returns at once. In a process that is itself a
    /// worker, or if this executable cannot be found, it starts none.
    pub fn begin(workers: usize) -> WarmStart {
        let workers = workers.min(MAX_WARM).min(MAX_PROCESSES);
        let in_worker = std::env::var_os(crate::child::WORKER_ENV).is_some();
        if let (false, Ok(command)) = (in_worker, WorkerCommand::current_exe()) {
            let room = pipe_room(workers);
            let begun = (0..workers).map_while(|_| Spawned::new(command.clone(), room).ok());
            lock().extend(begun);
        }
        WarmStart { _private: () }
    }
}

impl Drop for WarmStart {
    fn drop(&mut self) {
        // Each is killed and reaped by its own thread: all are told
        // first, then waited for.
        let mut left = std::mem::take(&mut *lock());
        for spawned in &mut left {
            spawned.dismiss();
        }
        drop(left);
    }
}

/// A worker begun ahead that runs `command`, if one waits.
pub(crate) fn adopt(command: &WorkerCommand) -> Option<Spawned> {
    let mut waiting = lock();
    let found = waiting.iter().position(|s| s.command() == command)?;
    Some(waiting.swap_remove(found))
}

fn lock() -> std::sync::MutexGuard<'static, Vec<Spawned>> {
    WAITING.lock().unwrap_or_else(|e| e.into_inner())
}
