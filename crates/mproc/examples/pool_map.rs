//! `Pool(3).map(f, range(11))`: results come back in input order, computed
//! by three worker processes.
//!
//! Run with `cargo run -p mproc --example pool_map`.

use mproc::{Job, JobError, Pool, Registry};
use serde::{Deserialize, Serialize};

/// f(x) = x * x, logging which process computed it.
#[derive(Serialize, Deserialize)]
struct Square;

impl Job for Square {
    const NAME: &'static str = "square";
    type Input = u64;
    type Output = u64;

    fn run(&self, x: u64) -> Result<u64, JobError> {
        println!("Input {x} in process {}", std::process::id());
        Ok(x * x)
    }
}

fn main() -> mproc::Result<()> {
    mproc::serve_if_worker(&Registry::new().register::<Square>());

    let pool = Pool::new(3)?;
    let results = pool.map(&Square, 0..11);
    let pids: std::collections::BTreeSet<u32> = results.iter().filter_map(|r| r.pid).collect();
    println!("{:?}", mproc::values(results)?);
    println!("computed by {} processes: {pids:?}", pids.len());
    Ok(())
}
