//! `mproc pool load`: the CPU load demo, by draws (`--total`) or by time
//! (`--seconds`), its report of draws per second per process, its JSON
//! totals, and the values `--seconds` refuses.

use std::collections::HashSet;

use serde_json::Value;

use crate::support::*;

/// The fields of load's JSON `totals` (docs/OUTPUT.md, TOTALS).
const TOTALS: [&str; 4] = ["draws", "mean", "parts", "sum"];

#[test]
fn seconds_keeps_each_process_drawing_and_reports_draws_per_second() {
    let r = run_expect(&["-q", "pool", "-n", "2", "load", "--seconds", "0.2"], 0);
    let lines: Vec<Vec<&str>> = r
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["pid", "draws", "draws/s", "sum"], "{}", r.stdout);
    let rows = &lines[1..3];
    let pids: HashSet<&str> = rows.iter().map(|row| row[0]).collect();
    assert_eq!(pids.len(), 2, "two processes:\n{}", r.stdout);
    let mut draws = 0;
    for row in rows {
        let count: u64 = row[1].parse().expect("draws");
        let rate: f64 = row[2].parse().expect("draws/s");
        assert!(count > 0 && rate > 0.0, "{}", r.stdout);
        draws += count;
    }
    assert_eq!(lines[3][0], "total", "{}", r.stdout);
    assert_eq!(lines[3][1], draws.to_string(), "{}", r.stdout);
    assert!(
        r.stdout
            .lines()
            .last()
            .unwrap()
            .contains("with 2 processes"),
        "{}",
        r.stdout
    );
}

#[test]
fn json_totals_are_the_sum_of_the_shares() {
    for args in [
        &["--seconds", "0.2"][..],
        &["--total", "1001", "--parts", "3"][..],
    ] {
        let mut all = vec!["-q", "pool", "-n", "2", "--json", "load"];
        all.extend(args);
        let doc = run_expect(&all, 0).json();
        let results = doc["results"].as_array().unwrap();
        let totals = &doc["totals"];
        let keys: Vec<&str> = totals
            .as_object()
            .unwrap_or_else(|| panic!("no totals in {doc}"))
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, TOTALS, "{totals}");
        for r in results {
            for field in ["pid", "count", "sum", "seconds"] {
                assert!(r.get(field).is_some(), "no {field} in {r}");
            }
        }
        let draws: u64 = results.iter().map(|r| r["count"].as_u64().unwrap()).sum();
        let sum: f64 = results.iter().map(|r| r["sum"].as_f64().unwrap()).sum();
        assert_eq!(totals["parts"], results.len());
        assert_eq!(totals["draws"], draws, "{doc}");
        let got = totals["sum"].as_f64().unwrap();
        assert!((got - sum).abs() <= 1e-9 * sum, "{got} vs {sum}");
        let mean = totals["mean"].as_f64().unwrap();
        assert!((mean - sum / draws as f64).abs() < 1e-12, "{totals}");
        if args[0] == "--total" {
            assert_eq!(draws, 1001);
        }
    }
    let lines = run_expect(
        &["-q", "pool", "-n", "2", "--jsonl", "load", "--total", "10"],
        0,
    )
    .json_lines();
    let last: &Value = lines.last().unwrap();
    assert_eq!(last["summary"]["ok"], 2, "{last}");
    assert_eq!(last["totals"]["draws"], 10, "{last}");
}

#[test]
fn seconds_that_are_not_a_time_are_a_usage_error() {
    for value in ["nan", "-5", "0", "1e300", "inf", "abc", ""] {
        let flag = format!("--seconds={value}");
        let r = run_expect(&["pool", "-n", "1", "load", &flag], 2);
        assert_eq!(r.stderr.lines().count(), 1, "{value}: {}", r.stderr);
        assert!(r.stderr.contains("--seconds"), "{value}: {}", r.stderr);
        assert!(r.stdout.is_empty());
    }
    let r = run_expect(&["pool", "load", "--seconds", "1", "--total", "5"], 2);
    assert!(r.stderr.contains("--total"), "{}", r.stderr);
}
