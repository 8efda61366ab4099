//! The chapter's CPU load demo: [`Load`] draws random numbers and sums
//! them, a given number of draws or for a given time (`--seconds`, long
//! enough to watch every CPU busy in `top`).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use mproc::{ItemResult, Job, JobError, Result};

use super::{Builtin, Context, Plan, Report, Totals};
use crate::rng::Rng;

/// Draws random floats in `[0, 1)` and sums them: pure CPU work.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub(crate) struct Load;

/// One process's share of the draws.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct LoadPart {
    /// Which share (0-based).
    pub part: u32,
    /// How many draws (unused when `seconds` is set).
    pub count: u64,
    /// The random seed of this share.
    pub seed: u64,
    /// Draw for this many seconds instead of `count` times. (Never
    /// skipped when serialized: the workers' wire format is not
    /// self-describing.)
    pub seconds: Option<f64>,
}

/// The result of one share.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct LoadSum {
    /// The process that ran it.
    pub pid: u32,
    /// How many draws.
    pub count: u64,
    /// Their sum.
    pub sum: f64,
    /// Seconds the draws took, in the worker.
    pub seconds: f64,
}

impl LoadSum {
    /// Draws per second, if the time was measurable.
    pub(crate) fn rate(&self) -> Option<f64> {
        (self.seconds > 0.0).then(|| self.count as f64 / self.seconds)
    }
}

/// Draws between two looks at the clock with `--seconds`: a few hundred
/// microseconds of work in a release build, so the clock costs nothing
/// and the time is overrun by less than a millisecond.
const BATCH: u64 = 1 << 16;

impl Load {
    /// Splits `total` draws into `parts` shares as even as possible.
    pub(crate) fn split(total: u64, parts: u32, seed: u64) -> Vec<LoadPart> {
        let parts = parts.max(1);
        (0..parts)
            .map(|p| LoadPart {
                part: p,
                count: total / parts as u64 + u64::from((p as u64) < total % parts as u64),
                seed: seed.wrapping_add(p as u64),
                seconds: None,
            })
            .collect()
    }

    /// `parts` shares that each draw for `seconds`.
    pub(crate) fn timed(seconds: Duration, parts: u32, seed: u64) -> Vec<LoadPart> {
        (0..parts.max(1))
            .map(|p| LoadPart {
                part: p,
                count: 0,
                seed: seed.wrapping_add(p as u64),
                seconds: Some(seconds.as_secs_f64()),
            })
            .collect()
    }
}

/// `count` draws from `rng`, and their sum.
fn draw(rng: &mut Rng, count: u64) -> f64 {
    let mut sum = 0.0;
    for _ in 0..count {
        sum += rng.next_f64();
    }
    sum
}

impl Job for Load {
    const NAME: &'static str = "load";
    type Input = LoadPart;
    type Output = LoadSum;

    fn run(&self, part: LoadPart) -> Result<LoadSum, JobError> {
        let pid = std::process::id();
        let mut rng = Rng::new(part.seed);
        let start = Instant::now();
        let (count, sum) = match part.seconds {
            None => {
                tracing::info!(
                    "Process {pid} drawing {}",
                    crate::report::count(part.count, "random number")
                );
                (part.count, draw(&mut rng, part.count))
            }
            Some(seconds) => {
                // The input is ours, but a float that is not a time must
                // not panic the worker.
                let limit = Duration::try_from_secs_f64(seconds)
                    .map_err(|_| format!("cannot draw for {seconds} seconds: not a time"))?;
                tracing::info!("Process {pid} drawing random numbers for {seconds} s");
                let (mut count, mut sum) = (0u64, 0.0);
                loop {
                    sum += draw(&mut rng, BATCH);
                    count += BATCH;
                    if start.elapsed() >= limit {
                        break (count, sum);
                    }
                }
            }
        };
        Ok(LoadSum {
            pid,
            count,
            sum,
            seconds: start.elapsed().as_secs_f64(),
        })
    }
}

/// `mproc pool load`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct LoadArgs {
    /// Random draws in all.
    #[arg(long, default_value = "40000000")]
    pub total: u64,
    /// Each share draws for SECONDS instead (e.g. 30, to watch every CPU
    /// busy in `top`); at most a year.
    #[arg(long, value_name = "SECONDS", conflicts_with = "total", value_parser = crate::units::seconds)]
    pub seconds: Option<Duration>,
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
    const ABOUT: &'static str =
        "The CPU load demo: TOTAL random draws split over the processes, or SECONDS of draws each";

    fn row(result: ItemResult<Self::Output>) -> Self::Row {
        result
    }

    fn plan(args: LoadArgs, context: &Context) -> Result<Plan<Load>> {
        let parts = args
            .parts
            .unwrap_or(u32::try_from(context.processes.max(1)).unwrap_or(u32::MAX));
        Ok(Plan {
            job: Load,
            inputs: match args.seconds {
                Some(seconds) => Load::timed(seconds, parts, args.seed),
                None => Load::split(args.total, parts, args.seed),
            }
            .into(),
        })
    }

    /// One row per share: the process, its draws, how many a second it
    /// drew, and their sum; then the totals ([`LoadTotals`]).
    fn report(run: &Report<'_, Load>) -> String {
        let mut s = String::new();
        let line = |s: &mut String, pid: &str, draws: &str, rate: &str, sum: &str| {
            let _ = writeln!(s, "{pid:>8} {draws:>12} {rate:>12} {sum:>16}");
        };
        line(&mut s, "pid", "draws", "draws/s", "sum");
        for r in run.results {
            match r.outcome.as_ok() {
                Some(v) => {
                    let rate = v.rate().map_or("-".into(), |r| format!("{r:.0}"));
                    let sum = format!("{:.3}", v.sum);
                    line(
                        &mut s,
                        &v.pid.to_string(),
                        &v.count.to_string(),
                        &rate,
                        &sum,
                    );
                }
                None => {
                    let pid = r.pid.map_or("-".into(), |p| p.to_string());
                    line(&mut s, &pid, "-", "-", "None");
                }
            }
        }
        let totals = LoadTotals::of(run.results);
        let sum = format!("{:.3}", totals.sum);
        line(&mut s, "total", &totals.draws.to_string(), "", &sum);
        let with = match run.context.processes {
            0 => "in this process (serial)".to_string(),
            n => format!("with {n} processes"),
        };
        let seconds = run.summary.elapsed_ms as f64 / 1000.0;
        let _ = writeln!(s, "mean {:.6}; {seconds:.3} s {with}", totals.mean());
        s
    }

    fn totals() -> Option<Box<dyn Totals<LoadSum>>> {
        Some(Box::<LoadTotals>::default())
    }
}

/// The run's totals: the report's total row.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LoadTotals {
    /// Shares that ended ok.
    pub parts: u64,
    /// Their draws.
    pub draws: u64,
    /// The sum of their draws.
    pub sum: f64,
}

impl LoadTotals {
    /// The totals of `results`.
    pub(crate) fn of(results: &[ItemResult<LoadSum>]) -> LoadTotals {
        let mut totals = LoadTotals::default();
        results.iter().for_each(|r| totals.add(r));
        totals
    }

    /// The mean draw (0 without draws); about 0.5.
    pub(crate) fn mean(&self) -> f64 {
        if self.draws > 0 {
            self.sum / self.draws as f64
        } else {
            0.0
        }
    }
}

impl Totals<LoadSum> for LoadTotals {
    fn add(&mut self, result: &ItemResult<LoadSum>) {
        if let Some(v) = result.outcome.as_ok() {
            self.parts += 1;
            self.draws += v.count;
            self.sum += v.sum;
        }
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "parts": self.parts,
            "draws": self.draws,
            "sum": self.sum,
            "mean": self.mean(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timed_share_draws_for_its_time_in_batches() {
        let part = Load::timed(Duration::from_millis(20), 1, 3)[0];
        let got = Load.run(part).unwrap();
        assert!(got.count >= BATCH && got.count % BATCH == 0, "{got:?}");
        assert!(got.seconds >= 0.02, "{got:?}");
        assert!(got.sum > 0.0 && got.sum < got.count as f64);
        let bad = LoadPart {
            seconds: Some(f64::NAN),
            ..part
        };
        assert!(Load.run(bad).is_err());
    }

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
