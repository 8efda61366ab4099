//! The chapter's CPU load demo: [`Load`] draws random numbers and sums them.

use serde::{Deserialize, Serialize};

use crate::job::{Job, JobError};
use crate::rng::Rng;

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
