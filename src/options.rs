//! Plain values the command line is turned into. Nothing after the CLI
//! module sees clap types; commands and tests take these.

use std::path::PathBuf;

use mproc::PoolSettings;

use crate::logging::LogOptions;

/// How a command ended, as the process exit code: 0 all ok, 1 some items
/// not ok. (Errors, exit 2, are `Err`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Status(pub u8);

impl Status {
    /// Every item ok.
    pub(crate) const OK: Status = Status(0);
    /// Some item not ok.
    pub(crate) const SOME_FAILED: Status = Status(1);
}

/// A job's parsed arguments, ready to run with a pool command's settings:
/// the one value of a parsed command line that is not plain data. The job
/// table makes it (`jobs::Args`); `commands` runs it.
pub(crate) trait Call: Send + std::fmt::Debug {
    /// The job's name, for a test to name.
    #[cfg(test)]
    fn name(&self) -> &'static str;
    /// Plans the job, runs it and prints its results.
    fn run(self: Box<Self>, command: &PoolCommand) -> mproc::Result<Status>;
    /// The arguments, as `jobs::Args<J>`, for a test to look at.
    #[cfg(test)]
    fn as_any(&self) -> &dyn std::any::Any;
}

/// A parsed command line.
#[derive(Debug)]
pub(crate) struct Invocation {
    /// How to log.
    pub log: LogOptions,
    /// What to do.
    pub command: Command,
}

/// What to do.
#[derive(Debug)]
pub(crate) enum Command {
    /// Print the usable CPU count; with `verbose`, every source.
    CpuCount {
        /// Show every source.
        verbose: bool,
        /// Print JSON.
        json: bool,
    },
    /// Run a job over inputs in a pool.
    Pool {
        /// How to run it.
        pool: Box<PoolCommand>,
        /// The job and its arguments (see [`crate::jobs::TABLE`]).
        job: Box<dyn Call>,
    },
    /// Write generated input data.
    Gen(GenCommand),
    /// Start one child process and show what it does.
    Process(ProcessDemo),
    /// Serve the offline demo site until killed.
    #[cfg(feature = "fetch")]
    ServeDemo(crate::web::DemoOptions),
    /// Serve as a worker on stdin and stdout.
    Worker,
}

/// `mproc pool JOB ...` (and `mproc fetch ...`): the pool's settings, and
/// how to run and show the work.
#[derive(Debug, Clone)]
pub(crate) struct PoolCommand {
    /// Every pool setting, built once by the command line and handed to
    /// the pool (or, with `serial`, to [`mproc::Serial`]) unchanged.
    pub settings: PoolSettings,
    /// Which pool method to use.
    pub mode: Mode,
    /// Run every item in this process, one after another, with no pool.
    pub serial: bool,
    /// How to print results.
    pub output: OutputFormat,
    /// Progress bar, job log, resume and timeline.
    pub observe: Observe,
    /// When to stop the run early (GNU parallel's `--halt`), beyond the
    /// pool's own `halt_on_error`.
    pub halt: Option<crate::halt::Halt>,
}

impl PoolCommand {
    /// The settings the pool starts with: these, measuring each item's own
    /// times only when a record carries them (a job log, JSON output, a
    /// trace or a timeline). A human report shows none.
    pub(crate) fn pool_settings(&self) -> PoolSettings {
        let o = &self.observe;
        let recorded = self.output != OutputFormat::Human
            || o.joblog.is_some()
            || o.resume.is_some()
            || o.timeline.is_some()
            || o.trace.is_some();
        self.settings.clone().item_times(recorded)
    }
}

/// How a run can be watched and recorded.
#[derive(Debug, Clone, Default)]
pub(crate) struct Observe {
    /// Whether to draw a progress bar.
    pub progress: crate::progress::ProgressChoice,
    /// Append one line per item to this job log.
    pub joblog: Option<PathBuf>,
    /// Skip the items this job log records as ok (and append to it unless
    /// `joblog` names another file).
    pub resume: Option<PathBuf>,
    /// With `resume`: run only the items the log records as not ok.
    pub resume_failed: bool,
    /// Draw the run as SVG into this file.
    pub timeline: Option<PathBuf>,
    /// Write the run as Chrome trace event JSON into this file.
    pub trace: Option<PathBuf>,
    /// The job log's columns (`mproc run`: GNU parallel's).
    pub joblog_format: crate::joblog::Format,
}

/// Which pool method runs the items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Mode {
    /// `map`: all results at the end, in input order.
    #[default]
    Map,
    /// `imap`: results in input order as they become ready.
    Imap,
    /// `imap_unordered`: results as they finish.
    ImapUnordered,
    /// `map_async` then `get`.
    Async,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum OutputFormat {
    /// The job's own report.
    #[default]
    Human,
    /// One JSON document.
    Json,
    /// One JSON object per line, as results arrive.
    Jsonl,
}

/// `mproc gen ...`: what data to write.
#[derive(Debug, Clone)]
pub(crate) enum GenCommand {
    /// Text files `1.txt` to `N.txt` of random rows.
    Text {
        /// The directory to write them into (created if missing).
        dir: PathBuf,
        /// How many files.
        files: u64,
        /// Rows per file.
        rows: u64,
        /// Random seed.
        seed: u64,
    },
    /// Workbooks `1.xlsx` to `N.xlsx` with random numbers in row 1.
    #[cfg(feature = "excel")]
    Excel {
        /// What to write.
        spec: crate::generate::excel::ExcelSpec,
        /// Print what was written as JSON.
        json: bool,
    },
}

/// `mproc process ...`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProcessDemo {
    /// Make the child exit with this code.
    pub exit_code: Option<i32>,
    /// Make the child crash (SIGSEGV).
    pub crash: bool,
    /// Use this worker program instead of the current executable.
    pub program: Option<PathBuf>,
}
