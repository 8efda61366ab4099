//! Logging from worker processes: each worker's `tracing` events reach the
//! parent's one log sink, tagged with the worker's index and pid. Python
//! users build this by hand with QueueHandler and QueueListener. Here the
//! sink is any `tracing` subscriber the parent installs (this one is
//! `tracing-subscriber`'s `fmt`); workers apply the parent's level.
//!
//! Run with `cargo run -p mproc --example logging`.

use mproc::{Job, JobError, Pool, Registry};
use serde::{Deserialize, Serialize};

/// Logs at several levels while it works.
#[derive(Serialize, Deserialize)]
struct Chatty;

impl Job for Chatty {
    const NAME: &'static str = "chatty";
    type Input = u32;
    type Output = u32;

    fn run(&self, n: u32) -> Result<u32, JobError> {
        tracing::info!("working on {n}");
        if n % 2 == 1 {
            tracing::warn!(n, "odd input");
        }
        tracing::debug!("not shown unless the filter says debug");
        Ok(n + 1)
    }
}

fn main() -> mproc::Result<()> {
    mproc::serve_if_worker(&Registry::new().register::<Chatty>());

    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::stderr)
        .init();
    tracing::info!("parent starting a pool of 2");
    let pool = Pool::new(2)?;
    let results = mproc::values(pool.map(&Chatty, 0..4))?;
    tracing::info!("parent got {results:?}");
    Ok(())
}
