//! `imap_stream`: inputs pulled on a thread of their own, so a source that
//! blocks never holds back results that are ready.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use mproc::{Outcome, Pool};

use crate::support::jobs::{Act, Square};

/// A bound on a wait that only a hang would reach.
const HANG: Duration = Duration::from_secs(60);

/// Runs `f` on a thread and gives its value, or fails the test if it has
/// not returned within [`HANG`].
fn bounded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(HANG)
        .unwrap_or_else(|_| panic!("{what}: no answer within {HANG:?}"))
}

#[test]
fn a_stream_yields_results_while_its_source_waits() {
    let (inputs, source) = mpsc::channel::<u64>();
    let (results, seen) = mpsc::channel();
    std::thread::spawn(move || {
        let pool = Pool::builder().processes(2).build().expect("pool starts");
        for r in pool.imap_stream(&Square, source) {
            if results.send(r.outcome.ok()).is_err() {
                break;
            }
        }
    });
    for x in 1..=3u64 {
        inputs.send(x).unwrap();
    }
    // The source stays open and sends nothing more: the three results
    // still come.
    for x in 1..=3u64 {
        assert_eq!(seen.recv_timeout(HANG).unwrap(), Some(x * x));
    }
    inputs.send(4).unwrap();
    assert_eq!(seen.recv_timeout(HANG).unwrap(), Some(16));
    drop(inputs);
    assert!(matches!(
        seen.recv_timeout(HANG),
        Err(mpsc::RecvTimeoutError::Disconnected)
    ));
}

#[test]
fn a_stream_reads_an_endless_source_only_as_fast_as_results_are_taken() {
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pulled);
    let endless = (0u64..).inspect(move |_| {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    let taken = bounded("an endless stream", move || {
        let pool = Pool::builder().processes(2).build().expect("pool starts");
        let taken: Vec<u64> = pool
            .imap_stream(&Square, endless)
            .take(100)
            .map(|r| r.outcome.ok().unwrap_or_default())
            .collect();
        taken
    });
    assert_eq!(taken, (0..100u64).map(|x| x * x).collect::<Vec<_>>());
    // The pool's window (1024 items for two workers) bounds what is read
    // ahead of what was taken.
    let pulled = pulled.load(Ordering::Relaxed);
    assert!(pulled <= 100 + 1024 + 1, "{pulled} inputs pulled");
}

#[test]
fn a_stopped_pool_ends_a_stream_whose_source_is_blocked() {
    let (inputs, source) = mpsc::channel::<String>();
    let (results, seen) = mpsc::channel();
    let (stoppers, stopper) = mpsc::channel();
    std::thread::spawn(move || {
        let pool = Pool::builder().processes(2).build().expect("pool starts");
        let _ = stoppers.send(pool.stopper());
        for r in pool.imap_unordered_stream(&Act, source) {
            let _ = results.send(Some(r.outcome.kind()));
        }
        let _ = results.send(None);
    });
    inputs.send("ok:a".into()).unwrap();
    assert!(matches!(seen.recv_timeout(HANG), Ok(Some(k)) if k == mproc::OutcomeKind::Ok));
    stopper
        .recv_timeout(HANG)
        .unwrap()
        .stop("the test stopped it");
    // The source is still open (`inputs` lives) and blocked: the stream
    // ends anyway.
    assert_eq!(seen.recv_timeout(HANG).unwrap(), None);
    drop(inputs);
}

#[test]
fn a_halt_on_error_ends_a_stream_whose_source_is_blocked() {
    let (inputs, source) = mpsc::channel::<String>();
    let (results, seen) = mpsc::channel();
    std::thread::spawn(move || {
        let pool = Pool::builder()
            .processes(1)
            .halt_on_error(true)
            .build()
            .expect("pool starts");
        for r in pool.imap_stream(&Act, source) {
            let _ = results.send(Some(r.outcome));
        }
        let _ = results.send(None);
    });
    inputs.send("ok:a".into()).unwrap();
    inputs.send("fail:bad".into()).unwrap();
    assert!(matches!(seen.recv_timeout(HANG), Ok(Some(Outcome::Ok(_)))));
    assert!(matches!(
        seen.recv_timeout(HANG),
        Ok(Some(Outcome::Failed(_)))
    ));
    assert!(matches!(seen.recv_timeout(HANG), Ok(None)));
    drop(inputs);
}
