//! Generated input data for the exercises: deterministic for a seed, so a
//! run can be repeated. A generator writes files and returns what it wrote
//! (so tests can check a job's results against it); it prints nothing and
//! knows nothing about the command line, pools or processes.

#[cfg(feature = "excel")]
pub mod excel;
pub(crate) mod text;
