//! Ctrl-C, SIGTERM and SIGHUP for pool commands.
//!
//! The first SIGINT, SIGTERM or SIGHUP (a closed terminal, a dropped ssh
//! session) stops the pool: its workers are killed, what
//! did not finish ends `not_run`, and the command prints what did finish
//! and exits with 128 + the signal number. A second signal exits at once,
//! unless it is the same signal within [`SAME_REQUEST`] of the first: GNU
//! `timeout` (and a terminal's Ctrl-C reaching a process group) signals
//! the process and then its group, and those two are one request to stop,
//! whose partial results are printed. Workers ignore SIGINT themselves;
//! the parent decides.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::{Handle, Signals};

use mproc::Stopper;
use mproc::{Error, Result};

/// How soon a repeat of the first signal counts as the same request.
pub(super) const SAME_REQUEST: Duration = Duration::from_secs(1);

/// Watches for SIGINT, SIGTERM and SIGHUP while a pool starts and runs.
pub(super) struct Interrupts {
    received: Arc<AtomicI32>,
    handle: Handle,
    stopper: Arc<std::sync::Mutex<Option<Stopper>>>,
}

impl Interrupts {
    /// Starts watching before the pool exists: a signal while its workers
    /// start exits at once (there is nothing to print yet); once
    /// [`stops`](Interrupts::stops) is given the pool, the first signal
    /// stops it.
    pub(super) fn watch() -> Result<Interrupts> {
        let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])
            .map_err(|e| Error::io("cannot install signal handlers", e))?;
        let handle = signals.handle();
        let received = Arc::new(AtomicI32::new(0));
        let seen = Arc::clone(&received);
        let stopper: Arc<std::sync::Mutex<Option<Stopper>>> = Arc::default();
        let pool = Arc::clone(&stopper);
        std::thread::Builder::new()
            .name("mproc-signals".into())
            .spawn(move || {
                let mut first: Option<(i32, Instant)> = None;
                for sig in signals.forever() {
                    let name = name(sig);
                    let running = pool.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    match (first, running) {
                        (None, None) => {
                            crate::progress::flush_logs();
                            eprintln!("mproc: {name} while the workers were starting: exiting");
                            std::process::exit(128 + sig);
                        }
                        (None, Some(stopper)) => {
                            first = Some((sig, Instant::now()));
                            seen.store(sig, Ordering::SeqCst);
                            tracing::warn!("received {name}: stopping the workers (press Ctrl-C again to exit at once)");
                            stopper.stop(&format!("interrupted by {name}"));
                        }
                        (Some(at), _) if same_request(at, sig, Instant::now()) => {
                            tracing::debug!("{name} again at once: the same request to stop");
                        }
                        (Some(_), _) => {
                            eprintln!("mproc: second signal ({name}): exiting now");
                            std::process::exit(128 + sig);
                        }
                    }
                }
            })
            .map_err(|e| Error::io("cannot start the signal thread", e))?;
        Ok(Interrupts {
            received,
            handle,
            stopper,
        })
    }

    /// From now on the first signal stops the pool through `stopper`.
    pub(super) fn stops(&self, stopper: Stopper) {
        *self.stopper.lock().unwrap_or_else(|e| e.into_inner()) = Some(stopper);
    }

    /// The signal that stopped the run, if one did.
    pub(super) fn signal(&self) -> Option<i32> {
        match self.received.load(Ordering::SeqCst) {
            0 => None,
            sig => Some(sig),
        }
    }
}

/// The name of a signal this module watches.
fn name(sig: i32) -> &'static str {
    match sig {
        SIGINT => "SIGINT",
        SIGHUP => "SIGHUP",
        _ => "SIGTERM",
    }
}

/// True when `sig` at `now` repeats the first signal (`sig`, `at`) within
/// [`SAME_REQUEST`].
fn same_request((first, at): (i32, Instant), sig: i32, now: Instant) -> bool {
    sig == first && now.saturating_duration_since(at) < SAME_REQUEST
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        self.handle.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_signal_at_once_is_one_request() {
        let at = Instant::now();
        let soon = at + Duration::from_millis(20);
        assert!(same_request((SIGTERM, at), SIGTERM, soon));
        assert!(!same_request((SIGTERM, at), SIGINT, soon));
        assert!(!same_request((SIGINT, at), SIGINT, at + SAME_REQUEST));
    }
}
