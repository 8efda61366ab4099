//! Running a parsed [`Command`]: one file per command.

mod cpu_count;
mod gen;
#[cfg(feature = "excel")]
mod gen_excel;
pub(crate) mod pool;
mod process;
#[cfg(feature = "fetch")]
mod serve_demo;
mod signals;

use mproc::error::Result;
use mproc::WORKER_EXIT_ERROR;

use crate::options::Command;

/// How a command ended, as the process exit code: 0 all ok, 1 some items
/// not ok. (Errors, exit 2, are `Err`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(pub u8);

impl Status {
    /// Every item ok.
    pub const OK: Status = Status(0);
    /// Some item not ok.
    pub const SOME_FAILED: Status = Status(1);
}

/// Runs `command`.
pub fn execute(command: Command) -> Result<Status> {
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
