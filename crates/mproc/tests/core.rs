//! The core's own tests: pools, processes and the worker protocol, with
//! this test binary as the worker program (`enable_test_support!`), so
//! they need nothing of the `mproc` command line.

mod support;

mod function;
mod library;
mod refusal;
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
