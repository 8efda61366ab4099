//! The core's own tests: pools, processes and the worker protocol, with
//! this test binary as the worker program (`enable_test_support!`), so
//! they need nothing of the `mproc` command line.

mod support;

mod function;
mod library;
mod refusal;
mod runner;
mod stream;

use serde::{Deserialize, Serialize};

use mproc::{Job, JobError, Outcome, OutcomeKind, Pool};
use support::jobs::{Act, Square};
use support::TempDir;

mproc::enable_test_support!(Square, Act, Once);

/// `fail:FILE` fails, and `kill:FILE` kills its process, when FILE does not
/// exist yet (creating it); once it exists, both return their pid.
#[derive(Serialize, Deserialize)]
struct Once;

impl Job for Once {
    const NAME: &'static str = "once";
    type Input = String;
    type Output = u32;

    fn run(&self, action: String) -> Result<u32, JobError> {
        let (name, file) = action.split_once(':').ok_or("expected NAME:FILE")?;
        if std::fs::metadata(file).is_err() {
            std::fs::write(file, b"first attempt\n")?;
            match name {
                "fail" => return Err("first attempt fails".into()),
                _ => std::process::abort(),
            }
        }
        Ok(std::process::id())
    }
}

#[test]
fn a_retried_item_carries_each_earlier_attempt() {
    let dir = TempDir::new("attempts");
    let pool = Pool::builder()
        .processes(2)
        .retries(1)
        .retry_errors(true)
        .build()
        .expect("pool starts");
    let fail = format!("fail:{}", dir.join("fail").display());
    let crash = format!("kill:{}", dir.join("crash").display());
    let inputs = vec![fail, crash, format!("fail:{}", dir.join("fail").display())];
    let results = pool.map(&Once, inputs);
    let ok = |r: &mproc::ItemResult<u32>| *r.outcome.as_ok().expect("ok on its retry");

    let failed = &results[0];
    assert_eq!(failed.attempts, 2);
    assert_eq!(failed.earlier.len(), 1, "{failed:?}");
    let first = &failed.earlier[0];
    assert_eq!(first.outcome, Outcome::Failed("first attempt fails".into()));
    assert!(first.worker.is_some() && first.pid.is_some(), "{first:?}");
    assert!(first.started.is_some());
    assert!(first.started <= failed.started, "oldest first");
    assert_eq!(failed.pid, Some(ok(failed)));

    let crashed = &results[1];
    assert_eq!(crashed.attempts, 2);
    assert_eq!(crashed.earlier.len(), 1, "{crashed:?}");
    let first = &crashed.earlier[0];
    assert_eq!(first.outcome.kind(), OutcomeKind::Crashed);
    assert_ne!(first.pid, crashed.pid, "the retry ran in a new process");
    assert_eq!(first.worker, crashed.worker, "on the same slot");
    assert_eq!(crashed.pid, Some(ok(crashed)));

    // Not retried: nothing earlier, and nothing allocated for it.
    // Empty, and nothing allocated for it.
    assert_eq!(results[2].earlier, mproc::Attempts::default());
    let every: Vec<_> = failed.every_attempt().map(|a| a.outcome.kind()).collect();
    assert_eq!(every, [OutcomeKind::Failed, OutcomeKind::Ok]);
    // A record without its value keeps them.
    assert_eq!(failed.unvalued().earlier, failed.earlier);
}

#[test]
fn serial_keeps_each_earlier_attempt_too() {
    let dir = TempDir::new("serial-attempts");
    let serial = mproc::Serial::new(Pool::builder().retries(2).retry_errors(true));
    let results = serial.map(&Act, vec!["fail:y".to_string()]);
    assert_eq!(results[0].attempts, 3);
    assert_eq!(results[0].earlier.len(), 2);
    for a in &results[0].earlier {
        assert_eq!(a.outcome, Outcome::Failed("y".into()));
        assert_eq!((a.worker, a.pid), (None, Some(std::process::id())));
    }
    let once = format!("fail:{}", dir.join("once").display());
    let results = serial.map(&Once, vec![once]);
    assert_eq!(results[0].earlier.len(), 1);
    assert!(results[0].outcome.is_ok());
}

#[test]
fn a_failure_carries_typed_data_beside_its_message() {
    // Whatever the message holds (here the bytes that once separated a
    // message from data smuggled inside it), the data is the job's own.
    let text = "x\u{1f}[0,null,[\"\",\"/etc/passwd\",1]]";
    let inputs = vec![format!("data:{text}"), "fail:plain".to_string()];
    let pool = Pool::builder().processes(2).build().expect("pool starts");
    let serial = mproc::Serial::new(Pool::builder());
    for results in [pool.map(&Act, inputs.clone()), serial.map(&Act, inputs)] {
        let Outcome::Failed(failure) = &results[0].outcome else {
            panic!("{:?}", results[0]);
        };
        assert_eq!(failure.message(), text);
        let data: (String, u64) = failure.data().expect("data").expect("decodes");
        assert_eq!(data, (text.to_string(), text.len() as u64));
        let Outcome::Failed(plain) = &results[1].outcome else {
            panic!("{:?}", results[1]);
        };
        assert!(!plain.has_data() && plain.message() == "plain");
    }
}

#[test]
fn each_item_of_a_chunk_has_its_own_times() {
    // One chunk of uneven items in one worker: each record carries the
    // time its item ran, measured in the worker, never the chunk's
    // average.
    let pool = Pool::builder()
        .processes(1)
        .chunksize(4)
        .build()
        .expect("pool starts");
    let inputs = ["sleep:5", "sleep:120", "sleep:5", "sleep:120"].map(String::from);
    let results = pool.map(&Act, inputs);
    let ms = |r: &mproc::ItemResult<String>| r.elapsed.as_secs_f64() * 1e3;
    for r in &results {
        assert!(r.outcome.is_ok(), "{r:?}");
    }
    // Lower bounds only (a sleep never ends early), and not one shared
    // value: the chunk's average would give every item the same.
    for (short, long) in [(0, 1), (2, 3)] {
        assert!(ms(&results[short]) >= 5.0, "{:?}", results[short]);
        assert!(ms(&results[long]) >= 120.0, "{:?}", results[long]);
    }
    assert!(results.iter().any(|r| r.elapsed != results[0].elapsed));
    // Back to back, in order: each starts where the one before ended.
    for pair in results.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let end = a.started.expect("started") + a.elapsed;
        assert_eq!(b.started, Some(end), "{a:?} then {b:?}");
    }
}

#[test]
fn items_behind_a_stuck_item_are_taken_back_by_an_idle_worker() {
    // One chunk of four: the first item never ends. The other worker runs
    // its own chunk, idles, and takes back the three stuck behind it.
    let dir = TempDir::new("take-back");
    let hang = dir.join("hang").display().to_string();
    let pool = Pool::builder()
        .processes(2)
        .chunksize(4)
        .build()
        .expect("pool starts");
    let mut inputs = vec![format!("hang:{hang}")];
    inputs.extend((1..8).map(|i| format!("ok:{i}")));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        let stopper = pool.stopper();
        scope.spawn(|| {
            let mut ok = Vec::new();
            for r in pool.imap_unordered(&Act, inputs) {
                if r.outcome.is_ok() {
                    ok.push((r.index, r.pid));
                    if ok.len() == 7 {
                        let _ = tx.send(ok.clone());
                    }
                }
            }
        });
        let ok = rx.recv_timeout(std::time::Duration::from_secs(60));
        stopper.stop("the test is over");
        let ok = ok.expect("the items behind the stuck one end within 60 s");
        let hung: u32 = support::wait_for_file(std::path::Path::new(&hang))
            .trim()
            .parse()
            .unwrap();
        let elsewhere = ok.iter().filter(|(i, pid)| *i < 4 && *pid != Some(hung));
        assert_eq!(elsewhere.count(), 3, "{ok:?}, stuck in {hung}");
    });
}
