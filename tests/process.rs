//! `mproc process`: one child, its exit code, and isolation.

use crate::support::*;

fn field<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no '{prefix}' in\n{out}"))
}

#[test]
fn a_child_runs_and_exits_0() {
    let r = run_expect(&["-q", "process"], 0);
    let parent = field(&r.stdout, "parent pid ");
    let child = field(&r.stdout, "child pid ");
    assert_ne!(
        parent.split_whitespace().nth(2),
        child.split_whitespace().nth(2)
    );
    assert!(r.stdout.contains("child said: hello from the child"));
    assert!(r.stdout.contains("child exit code 0 (exit code 0)"));
}

#[test]
fn a_failing_child_does_not_harm_the_parent() {
    let r = run_expect(&["-q", "process", "--exit-code", "3"], 0);
    assert!(r.stdout.contains("child exit code 3"), "{}", r.stdout);
    assert!(r.stdout.contains("is still running"));
    let r = run_expect(&["-q", "process", "--crash"], 0);
    assert!(
        r.stdout
            .contains("child exit code -11 (signal 11 (SIGSEGV))"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("is still running"));
}

#[test]
fn what_the_child_changes_stays_in_the_child() {
    let r = run_expect(&["-q", "process"], 0);
    assert!(
        r.stdout.contains("appended 4 and sees [1, 2, 3, 4]"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("still sees [1, 2, 3]"), "{}", r.stdout);
}
