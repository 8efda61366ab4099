//! The library API, with this test binary as the worker program.

use std::time::Duration;

use mproc::{Outcome, Pool, Process};

use crate::support::jobs::{Act as Chaos, Square};
use crate::support::*;

fn pool(n: usize) -> Pool {
    Pool::builder().processes(n).build().expect("pool starts")
}

#[test]
fn map_returns_values_in_order() {
    let pool = pool(2);
    let results = pool.map(&Square, 0..50u64);
    assert_eq!(
        mproc::values(results).unwrap(),
        (0..50).map(|x| x * x).collect::<Vec<_>>()
    );
}

#[test]
fn imap_streams_a_long_input_in_bounded_memory() {
    let pool = pool(2);
    let mut count = 0u64;
    let mut sum = 0u64;
    // The input is lazy; imap pulls it as results are consumed.
    for (i, r) in pool.imap(&Square, 0..200_000u64).enumerate() {
        assert_eq!(r.index, i);
        sum = sum.wrapping_add(r.outcome.ok().unwrap());
        count += 1;
    }
    assert_eq!(count, 200_000);
    assert_eq!(
        sum,
        (0..200_000u64).map(|x| x * x).fold(0u64, u64::wrapping_add)
    );
}

#[test]
fn imap_unordered_yields_every_item_once() {
    let pool = pool(3);
    let actions: Vec<String> = (0..12).map(|i| format!("sleep:{}", (12 - i) * 3)).collect();
    let mut seen: Vec<usize> = pool
        .imap_unordered(&Chaos, actions)
        .map(|r| r.index)
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..12).collect::<Vec<_>>());
}

#[test]
fn map_async_and_apply_async_with_callbacks() {
    let pool = pool(2);
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = pool
        .map_async(&Square, vec![3u64, 4, 5])
        .on_ready(move |rs| {
            let _ = tx.send(
                rs.iter()
                    .map(|r| *r.outcome.as_ok().unwrap())
                    .collect::<Vec<_>>(),
            );
        });
    assert!(handle.wait(Some(Duration::from_secs(30))));
    assert!(handle.ready());
    assert_eq!(rx.recv().unwrap(), vec![9, 16, 25]);
    assert_eq!(
        mproc::values(handle.get(None).unwrap()).unwrap(),
        vec![9, 16, 25]
    );

    let one = pool.apply_async(&Square, 12);
    assert_eq!(
        one.get(Some(Duration::from_secs(30))).unwrap().outcome,
        Outcome::Ok(144)
    );
    assert_eq!(pool.apply(&Square, 7).outcome, Outcome::Ok(49));
}

#[test]
fn get_with_a_timeout_gives_a_timeout_error() {
    let pool = pool(1);
    let slow = pool.apply_async(&Chaos, "sleep:3000".to_string());
    let err = slow.get(Some(Duration::from_millis(20))).unwrap_err();
    assert!(err.is_timeout(), "{err}");
}

#[test]
fn dropping_a_pool_leaves_no_child() {
    let pool = pool(3);
    // Items that are still running when the pool is dropped.
    let dir = TempDir::new("drop");
    let files: Vec<String> = (0..3)
        .map(|i| dir.join(format!("pid{i}")).display().to_string())
        .collect();
    let _pending = pool.map_async(
        &Chaos,
        files
            .iter()
            .map(|f| format!("hang:{f}"))
            .collect::<Vec<_>>(),
    );
    let pids: Vec<u32> = files
        .iter()
        .map(|f| {
            wait_for_file(std::path::Path::new(f))
                .trim()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(pids.iter().all(|&p| alive(p)));
    let kids = children(std::process::id());
    assert!(
        pids.iter().all(|p| kids.contains(p)),
        "workers are this process's children"
    );
    drop(pool);
    for pid in pids {
        assert_reaped(pid, "its pool");
    }
}

#[test]
fn close_then_join_finishes_queued_work() {
    let mut pool = pool(2);
    let handle = pool.map_async(&Chaos, vec!["sleep:30".to_string(); 6]);
    pool.close();
    pool.join().unwrap();
    let results = handle.get(Some(Duration::from_secs(30))).unwrap();
    assert!(results.iter().all(|r| r.outcome.is_ok()));
    assert!(pool.apply(&Square, 2).outcome.name() == "not_run");
}

#[test]
fn terminate_reports_unfinished_work_as_not_run() {
    let mut pool = pool(1);
    let handle = pool.map_async(&Chaos, vec!["hang".to_string(), "ok:a".to_string()]);
    pool.terminate();
    let results = handle.get(Some(Duration::from_secs(30))).unwrap();
    assert!(
        results.iter().all(|r| r.outcome.name() == "not_run"),
        "{results:?}"
    );
}

#[test]
fn a_missing_worker_binary_is_a_spawn_error() {
    let err = Pool::builder()
        .processes(2)
        .program("/nonexistent/mproc")
        .build()
        .err()
        .unwrap();
    assert!(err.is_spawn(), "{err}");
    assert!(err.message().contains("/nonexistent/mproc"), "{err}");
}

#[test]
fn a_program_that_is_not_a_worker_fails_the_handshake() {
    for program in ["/bin/echo", "/bin/true"] {
        let err = Pool::builder()
            .processes(2)
            .program(program)
            .build()
            .err()
            .unwrap();
        assert!(err.is_handshake(), "{program}: {err}");
        assert!(err.message().contains(program), "{err}");
    }
}

#[test]
fn another_protocol_version_is_named_in_the_error() {
    let dir = TempDir::new("version");
    let script = dir.join("old-worker");
    fake_worker(&script, 99, None);
    let err = Pool::builder()
        .processes(1)
        .program(&script)
        .build()
        .err()
        .unwrap();
    assert!(err.is_handshake(), "{err}");
    assert!(err.message().contains("version 99"), "{err}");
    assert!(
        err.message()
            .contains(&format!("speaks {}", mproc::PROTOCOL_VERSION)),
        "{err}"
    );
}

#[test]
fn process_api_mirrors_python() {
    let mut p = Process::start(&Square, 9).unwrap();
    assert!(p.pid() > 0);
    let exit = p.join(Some(Duration::from_secs(30))).expect("child ends");
    assert!(exit.success());
    assert_eq!(p.exit_code(), Some(0));
    assert!(!p.is_alive());
    assert_eq!(p.outcome(), Some(Outcome::Ok(81)));

    let mut hung = Process::start(&Chaos, "hang".to_string()).unwrap();
    assert!(hung.join(Some(Duration::from_millis(50))).is_none());
    assert!(hung.is_alive());
    assert_eq!(hung.exit_code(), None);
    hung.terminate();
    assert_eq!(hung.join(None).map(|e| e.python_code()), Some(-15));
    assert!(matches!(hung.outcome(), Some(Outcome::Crashed { .. })));
}

#[test]
fn a_killed_worker_crashes_only_its_item_and_the_map_goes_on() {
    let pool = pool(2);
    let actions: Vec<String> = ["ok:a", "kill", "ok:b", "fail:no", "panic:boom", "ok:c"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let results = pool.map(&Chaos, actions);
    let names: Vec<&str> = results.iter().map(|r| r.outcome.name()).collect();
    assert_eq!(names, ["ok", "crashed", "ok", "failed", "panicked", "ok"]);
    assert!(matches!(
        &results[1].outcome,
        Outcome::Crashed {
            exit: Some(mproc::Exit::Signal(9)),
            ..
        }
    ));
}

#[test]
fn serial_runs_the_same_job_in_this_process() {
    let serial = mproc::Serial::new(Pool::builder().retries(1).retry_errors(true));
    let results = serial.map(&Chaos, vec!["ok:x".to_string(), "fail:y".to_string()]);
    assert_eq!(results[0].outcome, Outcome::Ok("x".to_string()));
    assert_eq!(results[0].pid, Some(std::process::id()));
    assert_eq!(results[1].attempts, 2);
    assert_eq!(results[1].outcome, Outcome::Failed("y".into()));
}

/// An input larger than a worker accepts fails in the parent with its size
/// and the limit, and no worker is harmed: the next item runs in the same
/// worker.
#[test]
fn an_input_over_the_frame_limit_fails_in_the_parent_naming_size_and_limit() {
    let pool = Pool::builder().processes(1).chunksize(3).build().unwrap();
    let huge = format!("ok:{}", "x".repeat(mproc::DECODE_LIMIT));
    let results = pool.map(&Chaos, vec!["ok:a".to_string(), huge, "ok:b".to_string()]);
    assert_eq!(results[0].outcome, Outcome::Ok("a".to_string()));
    assert_eq!(results[2].outcome, Outcome::Ok("b".to_string()));
    assert_eq!(results[0].pid, results[2].pid, "one worker ran both");
    let Outcome::Failed(why) = &results[1].outcome else {
        panic!("{:?}", results[1].outcome.kind());
    };
    let why = why.message();
    let size = mproc::DECODE_LIMIT + 3 + 8; // the text and its length (a u64)
    assert!(
        why.starts_with(&format!(
            "input of {size} bytes once encoded is over the limit of "
        )),
        "{why}"
    );
    assert!(why.ends_with(" bytes a worker accepts"), "{why}");
}

/// `Process::start` refuses, before any child starts, an input no worker
/// would accept, naming its size and the limit.
#[test]
fn a_process_input_over_the_frame_limit_fails_before_a_child_starts() {
    let huge = format!("ok:{}", "x".repeat(mproc::DECODE_LIMIT));
    let Err(e) = Process::start(&Chaos, huge) else {
        panic!("an input over the limit started a process");
    };
    let size = mproc::DECODE_LIMIT + 3 + 8;
    assert!(
        e.to_string().contains(&format!(
            "input of {size} bytes once encoded is over the limit of "
        )),
        "{e}"
    );
}

/// Inputs that each fit a request to a worker, but not together, go in
/// requests of their own: the worker sees (and here rejects) each one.
#[test]
fn inputs_that_fit_alone_but_not_together_are_sent_apart() {
    let pool = Pool::builder().processes(1).chunksize(2).build().unwrap();
    let big = || format!("big:{}", "x".repeat(mproc::DECODE_LIMIT / 2 + 1));
    let results = pool.map(&Chaos, vec![big(), big()]);
    for r in &results {
        assert_eq!(r.outcome, Outcome::Failed("unknown action big".into()));
    }
}

#[test]
fn the_first_workers_run_the_items_none_is_replaced() {
    // Each first worker lives through the map: none is killed and
    // replaced at start (a worker dies with the thread that started it).
    let pool = pool(2);
    let results = pool.map(&Square, 0..100u64);
    let started: Vec<u32> = pool
        .worker_events()
        .into_iter()
        .filter(|e| e.3)
        .map(|e| e.1)
        .collect();
    assert_eq!(started.len(), 2, "{started:?}");
    assert!(results
        .iter()
        .all(|r| r.pid.is_some_and(|p| started.contains(&p))));
}
