//! Helpers of the core's tests: small test jobs, and (`procs.rs`, shared
//! with the command line's tests) temp folders, bounded waits and /proc
//! readers.

#![allow(dead_code)]

pub mod jobs;

mod procs;
pub use procs::*;
