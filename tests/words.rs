//! Words that must not mislead: an invalid `MPROC_CPU_COUNT` is refused
//! alike by `cpu-count` and `pool`; docs/OUTPUT.md names every job log
//! column; a count nobody can hold is a usage error, not a panic.

use crate::support::*;

#[test]
fn an_invalid_cpu_count_override_is_refused_alike_everywhere() {
    let line = "mproc: invalid MPROC_CPU_COUNT 'abc': expected a whole number of at least 1\n";
    for args in [
        &["cpu-count"][..],
        &["pool", "square", "3"],
        &["-q", "pool", "square", "3"],
        &["pool", "--json", "analyze", "Cargo.toml"],
    ] {
        let r = output(mproc().env("MPROC_CPU_COUNT", "abc").args(args));
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr, line, "{args:?}");
        assert_eq!(r.stdout, "", "{args:?}");
    }
    // With -n the variable is not consulted.
    let r = output(
        mproc()
            .env("MPROC_CPU_COUNT", "abc")
            .args(["-q", "pool", "-n", "2", "square", "3"]),
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "[0, 1, 4]\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn output_md_lists_every_job_log_column() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/OUTPUT.md")).unwrap();
    let section = doc.split("## Job log").nth(1).unwrap();
    let section = section.split("\n## ").next().unwrap();
    let columns: Vec<&str> = mproc_cli::joblog::HEADER.split('\t').collect();
    assert_eq!(columns.len(), 10);
    assert!(section.contains("Ten columns"), "{section}");
    for c in columns {
        assert!(
            section.contains(&format!("| `{c}` |")),
            "OUTPUT.md misses {c}"
        );
    }
}

#[test]
fn a_square_count_nobody_can_hold_is_a_usage_error() {
    for count in ["18446744073709551615", "10000001"] {
        let r = run_expect(&["pool", "-n", "2", "square", count], 2);
        assert_eq!(
            r.stderr,
            format!("mproc: square COUNT {count} is over the limit of 10000000 numbers (each one and its result is held in memory)\n")
        );
    }
}
