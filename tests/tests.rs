//! The integration tests: one binary, driving the real `mproc` executable
//! and real worker processes.

mod support;

mod analyze;
mod cli;
mod distributed;
mod excel;
mod fetch;
mod newcomer;
mod observe;
mod pool;
mod process;
mod reliability;
mod run;
mod tutorial;
