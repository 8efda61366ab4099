//! Plain functions in pools and processes (`map_fn` and its kin,
//! `Process::start_fn`): no `Job` impl, no registry entry; a worker of
//! another build is refused with a message. And `Process::exit_code` as
//! Python gives it.

use std::collections::BTreeSet;
use std::time::Duration;

use mproc::{Outcome, OutcomeKind, Pool, Process};

use crate::support::jobs::{Act, Square};
use crate::support::TempDir;

fn square(x: u64) -> u64 {
    x * x
}

fn shout(s: String) -> String {
    if s == "boom" {
        panic!("no {s}");
    }
    s.to_uppercase()
}

fn pool(n: usize) -> Pool {
    Pool::builder().processes(n).build().expect("pool starts")
}

#[test]
fn map_fn_and_its_kin_take_a_plain_function() {
    let pool = pool(2);
    let squares = mproc::values(pool.map_fn(square, 0..10u64)).unwrap();
    assert_eq!(squares, (0..10).map(|x| x * x).collect::<Vec<_>>());
    let ordered: Vec<u64> = pool
        .imap_fn(square, 0..100u64)
        .map(|r| r.outcome.ok().unwrap())
        .collect();
    assert_eq!(ordered, (0..100).map(|x| x * x).collect::<Vec<_>>());
    let seen: BTreeSet<usize> = pool
        .imap_unordered_fn(square, 0..20u64)
        .map(|r| r.index)
        .collect();
    assert_eq!(seen, (0..20).collect());
    let all = pool
        .map_async_fn(square, vec![3u64, 4])
        .get(Some(Duration::from_secs(60)))
        .unwrap();
    assert_eq!(mproc::values(all).unwrap(), [9, 16]);
    assert_eq!(pool.apply_fn(square, 12).outcome, Outcome::Ok(144));
    // Two functions of the same types in one pool stay apart.
    fn cube(x: u64) -> u64 {
        x * x * x
    }
    assert_eq!(mproc::values(pool.map_fn(cube, [2u64])).unwrap(), [8]);
    assert_eq!(mproc::values(pool.map_fn(square, [2u64])).unwrap(), [4]);
    // A closure that captures nothing is a plain function too.
    assert_eq!(
        mproc::values(pool.map_fn(|x: u64| x + 1, [1u64, 2])).unwrap(),
        [2, 3]
    );
    // A Job and a function side by side.
    assert_eq!(mproc::values(pool.map(&Square, [5u64])).unwrap(), [25]);
}

#[test]
fn a_function_that_panics_panics_its_item_only() {
    let pool = pool(2);
    let inputs = ["a", "boom", "c"].map(String::from);
    let results = pool.map_fn(shout, inputs);
    let kinds: Vec<OutcomeKind> = results.iter().map(|r| r.outcome.kind()).collect();
    assert_eq!(
        kinds,
        [OutcomeKind::Ok, OutcomeKind::Panicked, OutcomeKind::Ok]
    );
    assert_eq!(results[2].outcome, Outcome::Ok("C".to_string()));
    assert!(
        results[1].outcome.error().unwrap().contains("no boom"),
        "{:?}",
        results[1].outcome
    );
}

#[test]
fn a_process_runs_a_plain_function() {
    let mut p = Process::start_fn(square, 7).unwrap();
    assert!(p.join(Some(Duration::from_secs(60))).is_some());
    assert_eq!(p.exit_code(), Some(0));
    assert_eq!(p.outcome(), Some(Outcome::Ok(49)));
}

fn exit_with(code: i32) -> i32 {
    std::process::exit(code)
}

#[test]
fn exit_code_follows_python() {
    fn ended<O: serde::de::DeserializeOwned>(p: &mut Process<O>) -> bool {
        p.join(Some(Duration::from_secs(60))).is_some()
    }
    // 1 after an error or a panic (Python's 1 after an exception).
    for action in ["fail:no", "panic:boom"] {
        let mut p = Process::start(&Act, action.to_string()).unwrap();
        assert!(ended(&mut p));
        assert_eq!(p.exit_code(), Some(1), "{action}");
    }
    let mut p = Process::start_fn(shout, "boom".to_string()).unwrap();
    assert!(ended(&mut p));
    assert_eq!(p.exit_code(), Some(1));
    // The code passed to exit.
    let mut p = Process::start_fn(exit_with, 3).unwrap();
    assert!(ended(&mut p));
    assert_eq!(p.exit_code(), Some(3));
    // Minus the signal number.
    let mut p = Process::start(&Act, "kill".to_string()).unwrap();
    assert!(ended(&mut p));
    assert_eq!(p.exit_code(), Some(-9));
    // 0 when the job ended ok.
    let mut p = Process::start(&Act, "ok:x".to_string()).unwrap();
    assert!(ended(&mut p));
    assert_eq!(p.exit_code(), Some(0));
}

#[test]
fn a_worker_of_another_build_is_refused_a_plain_function() {
    // A copy of this test binary: the same jobs, another file, so another
    // build as far as a function's address is concerned.
    let dir = TempDir::new("other-build");
    let copy = dir.join("worker-copy");
    std::fs::copy(std::env::current_exe().unwrap(), &copy).unwrap();
    let pool = Pool::builder()
        .processes(1)
        .program(&copy)
        .build()
        .expect("pool starts");
    // A registered Job runs there.
    assert_eq!(mproc::values(pool.map(&Square, [3u64])).unwrap(), [9]);
    // A plain function does not.
    let results = pool.map_fn(square, [3u64]);
    let error = results[0].outcome.error().unwrap_or_default();
    assert_eq!(results[0].outcome.kind(), OutcomeKind::Failed, "{error}");
    assert!(
        error.contains("runs only in workers started from the parent's own executable")
            && error.contains("worker-copy")
            && error.contains("register a Job"),
        "{error}"
    );
    drop(pool);
}
