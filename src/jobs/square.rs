//! The chapter's `f(x) = x*x`: [`Square`].

use serde::{Deserialize, Serialize};

use crate::job::{Job, JobError};

/// Squares a number and logs `Input X in process PID`, as the chapter's
/// `multiprocess_pool.py` prints.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Square;

impl Job for Square {
    const NAME: &'static str = "square";
    type Input = u64;
    type Output = u64;

    fn run(&self, x: u64) -> Result<u64, JobError> {
        tracing::info!("Input {x} in process {}", std::process::id());
        x.checked_mul(x)
            .ok_or_else(|| format!("{x} squared does not fit in 64 bits").into())
    }
}
