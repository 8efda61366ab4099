//! Warm starts (`WarmStart`): workers begun before their pool are the
//! ones the pool runs its items in, and those no pool takes are killed
//! and reaped when the guard is dropped. A test binary of its own: the
//! workers begun ahead wait in this process for any pool, so no other
//! test's pool may start meanwhile.

mod support;

use std::collections::BTreeSet;

use mproc::{Pool, WarmStart};
use support::jobs::Square;
use support::{assert_reaped, children, wait_until};

mproc::enable_test_support!(Square);

#[test]
fn a_pool_runs_in_the_workers_begun_ahead_and_the_guard_reaps_the_rest() {
    let me = std::process::id();
    assert!(children(me).is_empty(), "no child before the warm start");
    let warm = WarmStart::begin(3);
    wait_until("three workers begun", || children(me).len() == 3);
    let begun: BTreeSet<u32> = children(me).into_iter().collect();

    let mut pool = Pool::new(2).expect("pool starts");
    let results = pool.map(&Square, 0..40u64);
    let ran: BTreeSet<u32> = results.iter().filter_map(|r| r.pid).collect();
    let values: Vec<u64> = results
        .into_iter()
        .map(|r| r.outcome.ok().unwrap())
        .collect();
    assert_eq!(values, (0..40).map(|x| x * x).collect::<Vec<_>>());
    assert!(
        !ran.is_empty() && ran.is_subset(&begun),
        "ran in {ran:?}, begun {begun:?}"
    );
    pool.close();
    pool.join().unwrap();
    let left: Vec<u32> = children(me);
    assert_eq!(left.len(), 1, "the one no pool took waits: {left:?}");
    assert!(begun.contains(&left[0]));

    drop(warm);
    for pid in begun {
        assert_reaped(pid, "the warm start");
    }
    assert!(children(me).is_empty());
}
