//! The integration tests: one binary, driving the real `mproc` executable
//! and real worker processes.

mod support;

mod analyze;
mod cli;
mod cmd;
mod concurrency;
mod distributed;
mod doc_names;
mod excel;
mod excel_limits;
mod fetch;
mod fetch_limits;
mod gnu;
mod hangup;
mod hosts;
mod layers;
mod limits;
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
mod screen;
mod slurm;
mod streams;
mod trust;
mod tutorial;
mod words;
mod writes;
