//! `imap` yields each result as soon as it and those before it are ready;
//! `imap_unordered` yields them as they finish.
//!
//! Run with `cargo run -p mproc --example imap`.

use std::time::Duration;

use mproc::{Job, JobError, Pool, Registry};
use serde::{Deserialize, Serialize};

/// Sleeps for the given number of milliseconds, then returns it.
#[derive(Serialize, Deserialize)]
struct Nap;

impl Job for Nap {
    const NAME: &'static str = "nap";
    type Input = u64;
    type Output = u64;

    fn run(&self, ms: u64) -> Result<u64, JobError> {
        std::thread::sleep(Duration::from_millis(ms));
        Ok(ms)
    }
}

fn main() -> mproc::Result<()> {
    mproc::serve_if_worker(&Registry::new().register::<Nap>());

    let pool = Pool::new(3)?;
    let naps = [300, 100, 200, 50, 150];
    let ordered: Vec<u64> = pool
        .imap(&Nap, naps)
        .filter_map(|r| r.outcome.ok())
        .collect();
    println!("imap, in input order:       {ordered:?}");
    let finished: Vec<u64> = pool
        .imap_unordered(&Nap, naps)
        .filter_map(|r| r.outcome.ok())
        .collect();
    println!("imap_unordered, as finished: {finished:?}");
    Ok(())
}
