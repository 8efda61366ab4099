//! The integration tests: one binary, driving the real `mproc` executable
//! and real worker processes.

mod support;

mod cli;
mod excel;
mod library;
mod pool;
mod process;
mod reliability;
