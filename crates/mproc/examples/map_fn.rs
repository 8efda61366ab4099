//! `Pool(3).map(square, range(10))` with a plain function: no `Job` impl
//! and no registry entry (the workers are this same executable).
//!
//! Run with `cargo run -p mproc --example map_fn`.

use mproc::{Pool, Registry};

fn square(x: u64) -> u64 {
    x * x
}

fn main() -> mproc::Result<()> {
    mproc::serve_if_worker(&Registry::new());

    let pool = Pool::new(3)?;
    println!("{:?}", mproc::values(pool.map_fn(square, 0..10))?);
    let first = pool.imap_fn(square, 0..1_000).take(3);
    println!(
        "{:?}",
        first.filter_map(|r| r.outcome.ok()).collect::<Vec<_>>()
    );
    Ok(())
}
