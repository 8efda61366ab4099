//! Running a parsed [`Command`]: one file per command.

mod call;
mod cpu_count;
mod gen;
#[cfg(feature = "excel")]
mod gen_excel;
pub(crate) mod pool;
mod process;
#[cfg(feature = "fetch")]
mod serve_demo;
mod signals;

use mproc::Result;
use mproc::WORKER_EXIT_ERROR;

use crate::options::Command;

pub(crate) use crate::options::Status;

/// Runs `command`.
pub(crate) fn execute(command: Command) -> Result<Status> {
    match command {
        Command::CpuCount { verbose, json } => cpu_count::run(verbose, json),
        Command::Pool { pool, job } => job.run(&pool),
        Command::Gen(g) => gen::run(g),
        Command::Process(p) => process::run(p),
        #[cfg(feature = "fetch")]
        Command::ServeDemo(options) => serve_demo::run(options),
        Command::Worker => Ok(match mproc::serve(&crate::jobs::registry()) {
            code if code == std::process::ExitCode::SUCCESS => Status::OK,
            _ => Status(WORKER_EXIT_ERROR),
        }),
    }
}
