//! Plain values the command line is turned into. Nothing after the CLI
//! module sees clap types; commands and tests take these.

use std::path::PathBuf;
use std::time::Duration;

use crate::logging::LogOptions;
use crate::pool::PoolBuilder;

/// A parsed command line.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// How to log.
    pub log: LogOptions,
    /// What to do.
    pub command: Command,
}

/// What to do.
#[derive(Debug, Clone)]
pub enum Command {
    /// Print the usable CPU count; with `verbose`, every source.
    CpuCount {
        /// Show every source.
        verbose: bool,
        /// Print JSON.
        json: bool,
    },
    /// Run a job over inputs in a pool.
    Pool(Box<PoolCommand>),
    /// Write generated input data.
    Gen(GenCommand),
    /// Start one child process and show what it does.
    Process(ProcessDemo),
    /// Serve the offline demo site until killed.
    ServeDemo(crate::web::DemoOptions),
    /// Serve as a worker on stdin and stdout.
    Worker,
}

/// `mproc pool ...`.
#[derive(Debug, Clone)]
pub struct PoolCommand {
    /// Pool settings.
    pub pool: PoolOptions,
    /// Which pool method to use.
    pub mode: Mode,
    /// Run every item in this process, one after another, with no pool.
    pub serial: bool,
    /// How to print results.
    pub output: OutputFormat,
    /// Progress bar, job log, resume and timeline.
    pub observe: Observe,
    /// The job and its inputs.
    pub job: JobChoice,
}

/// How a run can be watched and recorded.
#[derive(Debug, Clone, Default)]
pub struct Observe {
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
}

/// Pool settings from the command line.
#[derive(Debug, Clone, Default)]
pub struct PoolOptions {
    /// Worker processes (default: usable CPUs).
    pub processes: Option<usize>,
    /// Items per request frame.
    pub chunksize: usize,
    /// Replace a worker after this many items.
    pub max_tasks_per_child: Option<u64>,
    /// Per-item time limit.
    pub timeout: Option<Duration>,
    /// Extra attempts for crashed or timed-out items.
    pub retries: u32,
    /// Also retry items the job failed.
    pub retry_errors: bool,
    /// Stop dispatching after the first item that is not ok.
    pub halt_on_error: bool,
    /// Items at once inside each worker.
    pub concurrency: u32,
    /// Where workers run.
    pub placement: PlacementOptions,
}

impl PoolOptions {
    /// A [`PoolBuilder`] with these settings (reading `--hostfile` and
    /// splitting launcher commands, which can fail).
    pub fn builder(&self) -> crate::Result<PoolBuilder> {
        let mut b = crate::Pool::builder()
            .chunksize(self.chunksize.max(1))
            .retries(self.retries)
            .retry_errors(self.retry_errors)
            .halt_on_error(self.halt_on_error)
            .concurrency(self.concurrency.max(1));
        if let Some(n) = self.processes {
            b = b.processes(n);
        }
        if let Some(n) = self.max_tasks_per_child {
            b = b.max_tasks_per_child(n);
        }
        if let Some(t) = self.timeout {
            b = b.timeout(t);
        }
        Ok(b.placement(self.placement.resolve()?))
    }
}

/// Where workers run, as the command line gives it.
#[derive(Debug, Clone, Default)]
pub struct PlacementOptions {
    /// `--launcher 'CMD ...'`: a prefix for local workers' command lines.
    pub launcher: Option<String>,
    /// `--worker-path PATH`: the mproc binary where workers run.
    pub worker_path: Option<PathBuf>,
    /// `--hosts host1:4,host2:8,:2`.
    pub hosts: Option<String>,
    /// `--hostfile FILE`.
    pub hostfile: Option<PathBuf>,
    /// `--ssh 'ssh -T ...'`: the ssh command for remote hosts.
    pub ssh: Option<String>,
}

impl PlacementOptions {
    /// Parses and reads what was given into a [`Placement`](crate::hosts::Placement).
    pub fn resolve(&self) -> crate::Result<crate::hosts::Placement> {
        use crate::hosts::{parse_hosts, read_hostfile, split_command};
        let hosts = match (&self.hosts, &self.hostfile) {
            (Some(spec), _) => parse_hosts(spec)?,
            (None, Some(file)) => read_hostfile(file)?,
            (None, None) => Vec::new(),
        };
        Ok(crate::hosts::Placement {
            hosts,
            launcher: match &self.launcher {
                Some(l) => split_command("--launcher", l)?,
                None => Vec::new(),
            },
            ssh: match &self.ssh {
                Some(s) => split_command("--ssh", s)?,
                None => Vec::new(),
            },
            worker_path: self.worker_path.clone(),
        })
    }
}

/// Which pool method runs the items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
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
pub enum OutputFormat {
    /// The job's own report.
    #[default]
    Human,
    /// One JSON document.
    Json,
    /// One JSON object per line, as results arrive.
    Jsonl,
}

/// A built-in job and its inputs.
#[derive(Debug, Clone)]
pub enum JobChoice {
    /// Square 0..count.
    Square {
        /// How many numbers.
        count: u64,
    },
    /// The CPU load demo.
    Load {
        /// Random draws in all.
        total: u64,
        /// Random seed.
        seed: u64,
        /// Shares to split the draws into (default: one per process).
        parts: Option<u32>,
    },
    /// Scripted actions.
    Chaos {
        /// One action per item.
        actions: Vec<String>,
    },
    /// Count the characters of files.
    Analyze(AnalyzeOptions),
    /// Sum one row of each workbook.
    Excel {
        /// The workbooks, one item each.
        files: Vec<PathBuf>,
        /// Which sheet and row, and what counts.
        job: crate::jobs::ExcelSum,
    },
    /// Fetch web pages and read their titles.
    Fetch(FetchOptions),
}

/// `mproc fetch SOURCE` / `mproc pool fetch SOURCE`: which URLs, and the
/// limits of each request.
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    /// A file of URLs, a sitemap (file or http(s) URL), gzipped or not, or
    /// `-` for standard input.
    pub source: String,
    /// Fetch only the first this many URLs.
    pub limit: Option<usize>,
    /// Timeouts, redirects and the body cap.
    pub limits: crate::web::Limits,
}

/// `mproc pool analyze ...`: which files, and how to read them.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    /// Files (or, with `recursive`, directories) named on the command line.
    pub files: Vec<PathBuf>,
    /// More paths, one per line.
    pub files_from: Option<PathSource>,
    /// Walk directories.
    pub recursive: bool,
    /// A WHATWG encoding label for files without a byte-order mark.
    pub encoding: Option<String>,
}

/// Where a list of paths comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSource {
    /// Standard input (`-`).
    Stdin,
    /// A file.
    File(PathBuf),
}

impl std::fmt::Display for PathSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathSource::Stdin => f.write_str("-"),
            PathSource::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// `mproc gen ...`: what data to write.
#[derive(Debug, Clone)]
pub enum GenCommand {
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
    Excel {
        /// What to write.
        spec: crate::generate::excel::ExcelSpec,
        /// Print what was written as JSON.
        json: bool,
    },
}

/// `mproc process ...`.
#[derive(Debug, Clone, Default)]
pub struct ProcessDemo {
    /// Make the child exit with this code.
    pub exit_code: Option<i32>,
    /// Make the child crash (SIGSEGV).
    pub crash: bool,
    /// Use this worker program instead of the current executable.
    pub program: Option<PathBuf>,
}
