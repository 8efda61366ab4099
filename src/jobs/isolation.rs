//! [`Isolation`]: shows that a child changes only its own copy of the data.

use serde::{Deserialize, Serialize};

use mproc::{Job, JobError};

/// Appends 4 to the list it is given and returns what it then sees.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub(crate) struct Isolation;

/// What the child saw after changing its copy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Seen {
    /// The child's pid.
    pub pid: u32,
    /// The child's copy after the change.
    pub numbers: Vec<i64>,
}

impl Job for Isolation {
    const NAME: &'static str = "isolation";
    type Input = Vec<i64>;
    type Output = Seen;

    fn run(&self, mut numbers: Vec<i64>) -> Result<Seen, JobError> {
        numbers.push(4);
        Ok(Seen {
            pid: std::process::id(),
            numbers,
        })
    }
}
