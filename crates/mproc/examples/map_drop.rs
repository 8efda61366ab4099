//! A library program as people write one: map `COUNT` squares on `N`
//! workers and drop the pool (Python's `with Pool(N) as p: p.map(f,
//! range(COUNT))`). `bench/core.sh` times it start to exit against the
//! command line's `pool -n 2 square 1000`.
//!
//! Run with `cargo run --release --example map_drop -- 1000 2`.

use mproc::{Job, JobError, Pool, Registry};
use serde::{Deserialize, Serialize};

/// f(x) = x * x.
#[derive(Serialize, Deserialize)]
struct Square;

impl Job for Square {
    const NAME: &'static str = "square";
    type Input = u64;
    type Output = u64;

    fn run(&self, x: u64) -> Result<u64, JobError> {
        Ok(x.wrapping_mul(x))
    }
}

fn main() -> mproc::Result<()> {
    mproc::serve_if_worker(&Registry::new().register::<Square>());
    let mut args = std::env::args().skip(1);
    let count: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let processes: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let pool = Pool::new(processes)?;
    let sum = mproc::values(pool.map(&Square, 0..count))?
        .into_iter()
        .fold(0u64, u64::wrapping_add);
    println!("{sum}");
    Ok(())
}
