//! Every number and every file has a bound (issue 22): values over a limit
//! are usage errors naming it, and a flag that reads a whole file stops at
//! a stated size.

use crate::support::*;

#[test]
fn concurrency_over_the_limit_is_a_usage_error_naming_it() {
    for value in ["4294967295", "1025"] {
        let r = run(&["pool", "--concurrency", value, "square", "3"]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(
            r.stderr.contains("--concurrency") && r.stderr.contains("1..=1024"),
            "{r:?}"
        );
        assert!(!r.stderr.contains("panicked"), "{r:?}");
    }
    let r = run_expect(
        &[
            "-q",
            "pool",
            "-n",
            "1",
            "--concurrency",
            "1024",
            "square",
            "3",
        ],
        0,
    );
    assert_eq!(r.stdout, "[0, 1, 4]\n");
}

#[test]
fn resume_from_an_endless_file_stops_at_its_bound_with_an_error() {
    let r = run(&["pool", "--resume", "/dev/zero", "square", "3"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(
        r.stderr,
        "mproc: --resume /dev/zero: stopped reading at 1 GiB, the most --resume reads\n"
    );
}

#[test]
fn a_hostfile_that_never_ends_stops_at_its_bound_with_an_error() {
    let r = run(&["pool", "--hostfile", "/dev/zero", "square", "3"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(
        r.stderr,
        "mproc: --hostfile /dev/zero: stopped reading at 1 MiB, the most --hostfile reads\n"
    );
}

#[cfg(feature = "fetch")]
#[test]
fn a_cacert_that_never_ends_stops_at_its_bound_with_an_error() {
    let r = run(&["fetch", "--cacert", "/dev/zero", "https://127.0.0.1:9/"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("--cacert /dev/zero: stopped reading at 16 MiB, the most --cacert reads"),
        "{r:?}"
    );
}
