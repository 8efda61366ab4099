//! The chapter's "fetch URLs in parallel" with the library: a pool of 2
//! processes with 8 requests in flight in each, over pages of the offline
//! demo site that each take 100 ms. A URL that fails gives `None`, as in
//! the Python solution.
//!
//! Run with `cargo run --example fetch_titles`.

use std::time::{Duration, Instant};

use mproc::{Pool, Registry};
use mproc_cli::jobs::Fetch;
use mproc_cli::web::{DemoOptions, DemoSite, Limits};

fn main() -> mproc::Result<()> {
    mproc::serve_if_worker(&Registry::new().register::<Fetch>());

    let site = DemoSite::start(DemoOptions {
        pages: 20,
        latency: Duration::from_millis(100),
        ..DemoOptions::default()
    })?;
    let base = site.base_url();
    let mut urls: Vec<String> = (1..=20).map(|i| format!("{base}/page/{i}")).collect();
    urls.push(format!("{base}/status/404"));

    let pool = Pool::builder().processes(2).concurrency(8).build()?;
    let start = Instant::now();
    let results = pool.map(&Fetch::new(Limits::default()), urls.clone());
    for (url, r) in urls.iter().zip(&results) {
        let title = r.outcome.as_ok().and_then(|page| page.title.clone());
        println!("{title:?} {url}");
    }
    println!(
        "{} URLs in {:.2} s; one after another they would take {:.1} s",
        urls.len(),
        start.elapsed().as_secs_f64(),
        urls.len() as f64 * 0.1
    );
    Ok(())
}
