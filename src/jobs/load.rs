//! The chapter's CPU load demo: [`Load`] draws random numbers and sums them.

use serde::{Deserialize, Serialize};

use std::fmt::Write as _;

use mproc::{Job, JobError, Result};

use super::{Builtin, Context, Plan, Report};
use crate::rng::Rng;
use mproc::ItemResult;

/// Draws `count` random floats in `[0, 1)` and sums them: pure CPU work.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Load;

/// One process's share of the draws.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct LoadPart {
    /// Which share (0-based).
    pub part: u32,
    /// How many draws.
    pub count: u64,
    /// The random seed of this share.
    pub seed: u64,
}

/// The result of one share.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct LoadSum {
    /// The process that ran it.
    pub pid: u32,
    /// How many draws.
    pub count: u64,
    /// Their sum.
    pub sum: f64,
}

impl Load {
    /// Splits `total` draws into `parts` shares as even as possible.
    pub fn split(total: u64, parts: u32, seed: u64) -> Vec<LoadPart> {
        let parts = parts.max(1);
        (0..parts)
            .map(|p| LoadPart {
                part: p,
                count: total / parts as u64 + u64::from((p as u64) < total % parts as u64),
                seed: seed.wrapping_add(p as u64),
            })
            .collect()
    }
}

impl Job for Load {
    const NAME: &'static str = "load";
    type Input = LoadPart;
    type Output = LoadSum;

    fn run(&self, part: LoadPart) -> Result<LoadSum, JobError> {
        let pid = std::process::id();
        tracing::info!("Process {pid} drawing {} random numbers", part.count);
        let mut rng = Rng::new(part.seed);
        let mut sum = 0.0;
        for _ in 0..part.count {
            sum += rng.next_f64();
        }
        Ok(LoadSum {
            pid,
            count: part.count,
            sum,
        })
    }
}

/// `mproc pool load`.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadArgs {
    /// Random draws in all.
    #[arg(long, default_value = "40000000")]
    pub total: u64,
    /// Random seed.
    #[arg(long, default_value = "1")]
    pub seed: u64,
    /// Shares to split the draws into [default: one per process].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub parts: Option<u32>,
}

impl Builtin for Load {
    type Args = LoadArgs;
    type Row = ItemResult<Self::Output>;
    const ABOUT: &'static str = "The CPU load demo: TOTAL random draws split over the processes";

    fn row(result: ItemResult<Self::Output>) -> Self::Row {
        result
    }

    fn plan(args: LoadArgs, context: &Context) -> Result<Plan<Load>> {
        let parts = args
            .parts
            .unwrap_or(u32::try_from(context.processes.max(1)).unwrap_or(u32::MAX));
        Ok(Plan {
            job: Load,
            inputs: Load::split(args.total, parts, args.seed).into(),
        })
    }

    /// One row per share: the process, its draws and their sum; then totals.
    fn report(run: &Report<'_, Load>) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{:>8} {:>12} {:>16}", "pid", "draws", "sum");
        let (mut count, mut sum) = (0u64, 0.0f64);
        for r in run.results {
            match r.outcome.as_ok() {
                Some(v) => {
                    let _ = writeln!(s, "{:>8} {:>12} {:>16.3}", v.pid, v.count, v.sum);
                    count += v.count;
                    sum += v.sum;
                }
                None => {
                    let pid = r.pid.map_or("-".into(), |p| p.to_string());
                    let _ = writeln!(s, "{pid:>8} {:>12} {:>16}", "-", "None");
                }
            }
        }
        let mean = if count > 0 { sum / count as f64 } else { 0.0 };
        let _ = writeln!(s, "{:>8} {:>12} {:>16.3}", "total", count, sum);
        let with = match run.context.processes {
            0 => "in this process (serial)".to_string(),
            n => format!("with {n} processes"),
        };
        let seconds = run.summary.elapsed_ms as f64 / 1000.0;
        let _ = writeln!(s, "mean {mean:.6}; {seconds:.3} s {with}");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_covers_the_total() {
        let parts = Load::split(10, 3, 0);
        assert_eq!(
            parts.iter().map(|p| p.count).collect::<Vec<_>>(),
            vec![4, 3, 3]
        );
        assert_eq!(
            Load::split(40_000_000, 7, 0)
                .iter()
                .map(|p| p.count)
                .sum::<u64>(),
            40_000_000
        );
    }
}
