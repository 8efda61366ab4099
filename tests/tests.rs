//! The integration tests: one binary, driving the real `mproc` executable
//! and real worker processes.

mod support;

mod analyze;
mod cli;
mod cmd;
mod distributed;
mod excel;
mod excel_limits;
mod fetch;
mod gnu;
mod load;
mod names;
mod newcomer;
mod observe;
mod outputs;
mod pool;
mod process;
mod progress;
mod reliability;
mod run;
mod slurm;
mod streams;
mod tutorial;
mod words;
