//! Each built-in job's human report, as text for stdout.

use std::fmt::Write as _;
use std::time::Duration;

use crate::jobs::chaos::ChaosResult;
use crate::jobs::LoadSum;
use crate::outcome::ItemResult;

/// Python's printed list: `[0, 1, 4, 9]`, with `None` for items not ok.
pub fn square(results: &[ItemResult<u64>]) -> String {
    let items: Vec<String> = results
        .iter()
        .map(|r| {
            r.outcome
                .as_ok()
                .map_or_else(|| "None".to_string(), u64::to_string)
        })
        .collect();
    format!("[{}]\n", items.join(", "))
}

/// One row per share: the process, its draws and their sum; then totals.
pub fn load(results: &[ItemResult<LoadSum>], elapsed: Duration, processes: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{:>8} {:>12} {:>16}", "pid", "draws", "sum");
    let (mut count, mut sum) = (0u64, 0.0f64);
    for r in results {
        match r.outcome.as_ok() {
            Some(v) => {
                let _ = writeln!(s, "{:>8} {:>12} {:>16.3}", v.pid, v.count, v.sum);
                count += v.count;
                sum += v.sum;
            }
            None => {
                let _ = writeln!(
                    s,
                    "{:>8} {:>12} {:>16}",
                    r.pid.map_or("-".into(), |p| p.to_string()),
                    "-",
                    "None"
                );
            }
        }
    }
    let mean = if count > 0 { sum / count as f64 } else { 0.0 };
    let _ = writeln!(s, "{:>8} {:>12} {:>16.3}", "total", count, sum);
    let _ = writeln!(
        s,
        "mean {mean:.6}; {:.3} s with {processes} processes",
        elapsed.as_secs_f64()
    );
    s
}

/// One line per action: index, outcome, pid, and value or error.
pub fn chaos(results: &[ItemResult<ChaosResult>], actions: &[String]) -> String {
    let mut s = String::new();
    for r in results {
        let action = actions.get(r.index).map(String::as_str).unwrap_or("?");
        let pid = r.pid.map_or("-".to_string(), |p| p.to_string());
        let what = match r.outcome.as_ok() {
            Some(v) => v.value.clone(),
            None => r.outcome.error().unwrap_or_default(),
        };
        let _ = writeln!(
            s,
            "{:>4} {:<18} {:<9} pid {:<8} {}",
            r.index,
            action,
            r.outcome.name(),
            pid,
            what
        );
    }
    s
}
