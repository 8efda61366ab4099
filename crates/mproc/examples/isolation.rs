//! Processes do not share memory: a value changed in a child is unchanged
//! in the parent; a child that crashes or panics does not take the parent
//! or the other workers with it; each worker has its own pid and memory.
//!
//! Run with `cargo run -p mproc --example isolation`.

use std::sync::atomic::{AtomicU64, Ordering};

use mproc::{Job, JobError, Pool, Registry};
use serde::{Deserialize, Serialize};

/// A global counter: every process has its own.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Bumps this process's counter, or misbehaves on request.
#[derive(Serialize, Deserialize)]
struct Bump;

impl Job for Bump {
    const NAME: &'static str = "bump";
    type Input = String;
    type Output = String;

    fn run(&self, what: String) -> Result<String, JobError> {
        match what.as_str() {
            "panic" => panic!("this worker panics; the others go on"),
            "segfault" => {
                // A real crash of this process (SIGSEGV), not a Rust panic.
                use nix::sys::signal::{raise, signal, SigHandler, Signal};
                // SAFETY: restoring the default action installs no handler code.
                let _ = unsafe { signal(Signal::SIGSEGV, SigHandler::SigDfl) };
                let _ = raise(Signal::SIGSEGV);
                unreachable!("SIGSEGV ends the process")
            }
            _ => {
                let n = COUNTER.fetch_add(1, Ordering::SeqCst) + 1;
                let rss = std::fs::read_to_string("/proc/self/status")
                    .ok()
                    .and_then(|s| {
                        s.lines()
                            .find(|l| l.starts_with("VmRSS"))
                            .map(str::to_string)
                    })
                    .unwrap_or_default();
                Ok(format!(
                    "pid {} counter {n} {}",
                    std::process::id(),
                    rss.split_whitespace().collect::<Vec<_>>().join(" ")
                ))
            }
        }
    }
}

fn main() -> mproc::Result<()> {
    mproc::serve_if_worker(&Registry::new().register::<Bump>());

    let pool = Pool::new(2)?;
    let work = ["bump", "bump", "panic", "bump", "segfault", "bump"].map(String::from);
    for r in pool.map(&Bump, work.clone()) {
        let what = r
            .outcome
            .as_ok()
            .cloned()
            .or(r.outcome.error())
            .unwrap_or_default();
        println!("{:<8} {:<9} {what}", work[r.index], r.outcome.name());
    }
    println!(
        "parent pid {} counter {}",
        std::process::id(),
        COUNTER.load(Ordering::SeqCst)
    );
    Ok(())
}
