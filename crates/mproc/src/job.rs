//! The [`Job`] trait: what a user implements to run work in a worker.
//!
//! A job is a value (its configuration, sent once to each worker) with a
//! `run` method from one input to one output. Inputs, outputs and the job
//! itself cross process boundaries, so all are serde types. A job knows
//! nothing about pipes or processes.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The error a job returns: any error type, or a message
/// (`Err("bad row".into())`). Only its text crosses to the parent.
pub type JobError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A unit of work that runs in a worker process.
///
/// ```
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct Square;
///
/// impl mproc::Job for Square {
///     const NAME: &'static str = "doc-square";
///     type Input = u64;
///     type Output = u64;
///     fn run(&self, x: u64) -> Result<u64, mproc::JobError> {
///         Ok(x * x)
///     }
/// }
/// ```
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The name the worker looks the job up by; unique within a [`Registry`](crate::Registry).
    const NAME: &'static str;
    /// One item of input.
    type Input: Serialize + DeserializeOwned + Send + 'static;
    /// One item of output.
    type Output: Serialize + DeserializeOwned + Send + 'static;

    /// Runs one item. Runs inside a worker process; a panic here becomes a
    /// [`Outcome::Panicked`](crate::Outcome::Panicked), and an `Err` becomes
    /// a [`Outcome::Failed`](crate::Outcome::Failed).
    fn run(&self, input: Self::Input) -> Result<Self::Output, JobError>;
}
