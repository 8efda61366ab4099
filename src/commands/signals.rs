//! Ctrl-C and SIGTERM for pool commands.
//!
//! The first SIGINT or SIGTERM stops the pool: its workers are killed, what
//! did not finish ends `not_run`, and the command prints what did finish
//! and exits with 128 + the signal number. A second signal exits at once.
//! Workers ignore SIGINT themselves; the parent decides.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::{Handle, Signals};

use mproc::error::{Error, Result};
use mproc::Stopper;

/// Watches for SIGINT and SIGTERM while a pool runs.
pub(super) struct Interrupts {
    received: Arc<AtomicI32>,
    handle: Handle,
}

impl Interrupts {
    /// Starts watching; the first signal stops the pool through `stopper`.
    pub(super) fn watch(stopper: Stopper) -> Result<Interrupts> {
        let mut signals = Signals::new([SIGINT, SIGTERM])
            .map_err(|e| Error::io("cannot install signal handlers", e))?;
        let handle = signals.handle();
        let received = Arc::new(AtomicI32::new(0));
        let seen = Arc::clone(&received);
        std::thread::Builder::new()
            .name("mproc-signals".into())
            .spawn(move || {
                for sig in signals.forever() {
                    let name = if sig == SIGINT { "SIGINT" } else { "SIGTERM" };
                    if seen.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst).is_err() {
                        eprintln!("mproc: second signal ({name}): exiting now");
                        std::process::exit(128 + sig);
                    }
                    tracing::warn!("received {name}: stopping the workers (press Ctrl-C again to exit at once)");
                    stopper.stop(&format!("interrupted by {name}"));
                }
            })
            .map_err(|e| Error::io("cannot start the signal thread", e))?;
        Ok(Interrupts { received, handle })
    }

    /// The signal that stopped the run, if one did.
    pub(super) fn signal(&self) -> Option<i32> {
        match self.received.load(Ordering::SeqCst) {
            0 => None,
            sig => Some(sig),
        }
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        self.handle.close();
    }
}
