//! `map_async` returns at once; the parent does other work and collects
//! the results later, with a callback when they are ready.
//!
//! Run with `cargo run -p mproc --example map_async`.

use std::time::Duration;

use mproc::{Job, JobError, Pool, Registry};
use serde::{Deserialize, Serialize};

/// Adds up 0..n, slowly.
#[derive(Serialize, Deserialize)]
struct SlowSum;

impl Job for SlowSum {
    const NAME: &'static str = "slow-sum";
    type Input = u64;
    type Output = u64;

    fn run(&self, n: u64) -> Result<u64, JobError> {
        std::thread::sleep(Duration::from_millis(100));
        Ok((0..n).sum())
    }
}

fn main() -> mproc::Result<()> {
    mproc::serve_if_worker(&Registry::new().register::<SlowSum>());

    let pool = Pool::new(2)?;
    let pending = pool
        .map_async(&SlowSum, vec![10, 100, 1000, 10000])
        .on_ready(|results| println!("callback: {} results are ready", results.len()));
    println!("submitted; ready yet? {}", pending.ready());
    let single = pool.apply_async(&SlowSum, 5);
    println!(
        "apply_async(5) = {:?}",
        single.get(Some(Duration::from_secs(10)))?.outcome
    );
    let sums = mproc::values(pending.get(None)?)?;
    println!("map_async results: {sums:?}");
    Ok(())
}
