//! Sample input files for the jobs, the same for the same seed on every
//! machine. A generator writes files and returns what it wrote, so that
//! tests and users can check a job's results against it; it prints nothing
//! and knows nothing of pools or processes.

pub mod excel;
