//! A process started as a worker that reaches `Pool::new` instead of
//! serving (its `main` forgot `serve_if_worker`) exits at once with one
//! line that names the missing call: it never starts workers of its own.

use std::process::Command;

use mproc::Pool;

use crate::support::wait_bounded;

/// Set in the child this test starts: the child plays the forgetful
/// worker.
const CHILD: &str = "MPROC_CORE_TEST_FORGETFUL";

#[test]
fn a_worker_that_reaches_pool_new_exits_naming_the_missing_call() {
    if std::env::var_os(CHILD).is_some() {
        // The marker a pool gives its workers, as if this were one.
        std::env::set_var("MPROC_WORKER", "1");
        let pool = Pool::new(2);
        // Not reached: Pool::new exits the process.
        std::process::exit(if pool.is_ok() { 10 } else { 11 });
    }
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "refusal::a_worker_that_reaches_pool_new_exits_naming_the_missing_call",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env_remove("MPROC_WORKER")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_bounded(&mut child, 60);
    let (status, stderr) = (out.status, String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        status.code(),
        Some(i32::from(mproc::WORKER_EXIT_ERROR)),
        "{stderr}"
    );
    assert!(stderr.contains("reached Pool::new"), "{stderr}");
    assert!(stderr.contains("mproc::serve_if_worker"), "{stderr}");
}
