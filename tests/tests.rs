//! The integration tests: one binary, driving the real `mproc` executable
//! and real worker processes.

mod support;

mod analyze;
mod cli;
mod fetch;
mod library;
mod observe;
mod pool;
mod process;
mod reliability;
