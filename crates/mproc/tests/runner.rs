//! [`mproc::Runner`]: a pool and a serial run answer the same calls alike.

use mproc::{Outcome, PoolSettings, Runner};

use crate::support::jobs::{Act, Square};

/// A pool of two workers, and this process.
fn both() -> [Runner; 2] {
    let settings = PoolSettings::default().processes(2);
    [
        Runner::pool(settings.clone()).expect("pool starts"),
        Runner::serial(settings),
    ]
}

fn squares(n: u64) -> Vec<u64> {
    (0..n).map(|x| x * x).collect()
}

#[test]
fn a_pool_and_a_serial_run_give_the_same_results_through_every_call() {
    for runner in both() {
        let serial = runner.processes() == 0;
        assert_eq!(runner.hosts().len(), runner.processes());
        let values = |r| mproc::values(r).unwrap();
        assert_eq!(values(runner.map(&Square, 0..20u64)), squares(20));
        assert_eq!(
            values(runner.imap(&Square, 0..20u64).collect()),
            squares(20)
        );
        let mut unordered = values(runner.imap_unordered(&Square, 0..20u64).collect());
        unordered.sort_unstable();
        assert_eq!(unordered, squares(20));
        assert_eq!(
            values(runner.imap_stream(&Square, 0..20u64).collect()),
            squares(20)
        );
        let mut streamed = values(runner.imap_unordered_stream(&Square, 0..20u64).collect());
        streamed.sort_unstable();
        assert_eq!(streamed, squares(20));
        let handle = runner.map_async(&Square, 0..20u64);
        assert_eq!(values(handle.get(None).unwrap()), squares(20));
        let events = runner.worker_events();
        let starts = events.iter().filter(|e| e.3).count();
        assert_eq!(starts, if serial { 1 } else { 2 }, "{events:?}");
        runner.finish().unwrap();
    }
}

#[test]
fn a_stopped_serial_run_ends_a_lists_rest_not_run_and_reads_a_stream_no_further() {
    let runner = Runner::serial(PoolSettings::default());
    let actions = || ["ok:a", "ok:b", "ok:c"].map(String::from);
    let mut results = runner.imap(&Act, actions());
    assert!(results.next().unwrap().outcome.is_ok());
    runner.stopper().stop("enough");
    let rest: Vec<_> = results.map(|r| (r.index, r.outcome)).collect();
    let not_run = |i| (i, Outcome::NotRun("enough".into()));
    assert_eq!(rest, [not_run(1), not_run(2)]);
    // Once stopped, a stream is read no further.
    assert_eq!(runner.imap_stream(&Act, actions()).count(), 0);
}

#[test]
fn a_stopped_pool_ends_what_did_not_run_not_run() {
    let runner = Runner::pool(PoolSettings::default().processes(1)).expect("pool starts");
    runner.stopper().stop("enough");
    let results = runner.map(&Act, ["ok:a".to_string()]);
    assert_eq!(results.len(), 1);
    assert!(!results[0].outcome.is_ok(), "{:?}", results[0].outcome);
}

#[test]
fn values_taken_in_bulk_and_results_taken_one_by_one_cover_every_item_once_in_order() {
    // 3,000 items, every 7th failing: ok runs between failures, reports of
    // many items (chunks), and failures that `next_values` must leave to
    // `next`.
    let actions: Vec<String> = (0..3000)
        .map(|i| match i % 7 {
            3 => format!("fail:{i}"),
            _ => format!("ok:{i}"),
        })
        .collect();
    for runner in both() {
        let mut results = runner.imap(&Act, actions.clone());
        let mut seen: Vec<(usize, Result<String, String>)> = Vec::new();
        let mut bulk = 0;
        loop {
            let mut values = Vec::new();
            let n = results.next_values(|v| values.push(v));
            assert_eq!(n, values.len());
            bulk += n;
            for v in values {
                seen.push((seen.len(), Ok(v)));
            }
            if n > 0 {
                continue;
            }
            let Some(r) = results.next() else {
                break;
            };
            assert_eq!(r.index, seen.len(), "in input order, none skipped");
            let outcome = match r.outcome {
                Outcome::Ok(v) => Ok(v),
                other => Err(other.error().unwrap_or_default()),
            };
            seen.push((r.index, outcome));
        }
        let expected: Vec<(usize, Result<String, String>)> = (0..3000)
            .map(|i| match i % 7 {
                3 => (i, Err(i.to_string())),
                _ => (i, Ok(i.to_string())),
            })
            .collect();
        assert_eq!(seen, expected);
        if runner.processes() > 0 {
            assert!(bulk > 0, "a pool hands ok values in bulk");
        } else {
            assert_eq!(bulk, 0, "a serial run has no values at hand");
        }
        drop(results);
        runner.finish().unwrap();
    }
}
