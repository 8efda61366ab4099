//! The arguments of pool jobs (`mproc pool ...`, `mproc fetch ...`) and
//! their conversion into [`PoolCommand`]s.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

use super::{at_least_one, encoding_label, seconds};
use crate::jobs::ExcelSum;
use crate::options::{
    AnalyzeOptions, FetchOptions, JobChoice, Mode, Observe, OutputFormat, PathSource,
    PlacementOptions, PoolCommand, PoolOptions,
};
use crate::progress::ProgressChoice;
use crate::web::Limits;

#[derive(Debug, Args)]
pub(super) struct PoolArgs {
    #[command(flatten)]
    flags: PoolFlags,
    #[command(subcommand)]
    job: JobSub,
}

#[derive(Debug, Args)]
pub(super) struct PoolFlags {
    /// Worker processes [default: usable CPUs, see cpu-count].
    #[arg(short = 'n', long, value_name = "N", value_parser = at_least_one, global = true)]
    processes: Option<usize>,
    /// Items sent to a worker per request.
    #[arg(long, value_name = "N", default_value = "1", value_parser = at_least_one, global = true)]
    chunksize: usize,
    /// Replace each worker after N items.
    #[arg(long, value_name = "N", value_parser = at_least_one, global = true)]
    maxtasksperchild: Option<usize>,
    /// Pool method.
    #[arg(long, value_enum, default_value_t = ModeArg::Map, global = true)]
    mode: ModeArg,
    /// Print one JSON document: results in input order, then a summary.
    #[arg(long, conflicts_with = "jsonl", global = true)]
    json: bool,
    /// Print one JSON object per line as results arrive, then a summary line.
    #[arg(long, global = true)]
    jsonl: bool,
    /// Kill and replace a worker whose item runs longer than SECONDS.
    #[arg(long, value_name = "SECONDS", value_parser = seconds, global = true)]
    timeout: Option<Duration>,
    /// Run an item that crashed or timed out up to R more times.
    #[arg(long, value_name = "R", default_value = "0", global = true)]
    retries: u32,
    /// Also retry items whose job returned an error or panicked.
    #[arg(long, global = true)]
    retry_errors: bool,
    /// Stop dispatching after the first item that is not ok.
    #[arg(long, global = true)]
    halt_on_error: bool,
    /// Run every item in this process, one after another, with no worker
    /// processes (the single-process baseline).
    #[arg(
        long,
        global = true,
        conflicts_with_all = ["processes", "timeout", "maxtasksperchild", "concurrency"]
    )]
    serial: bool,
    /// Draw a progress bar on stderr [default: only when stderr is a terminal, outside CI, without --json].
    #[arg(long, global = true, conflicts_with = "no_progress")]
    progress: bool,
    /// Never draw a progress bar.
    #[arg(long, global = true)]
    no_progress: bool,
    /// Append one tab-separated line per item to FILE (seq, input, worker, pid, start, runtime, attempts, outcome, error).
    #[arg(long, value_name = "FILE", global = true)]
    joblog: Option<PathBuf>,
    /// Skip the items that FILE (an earlier --joblog) records as ok, and append to it.
    #[arg(long, value_name = "FILE", global = true)]
    resume: Option<PathBuf>,
    /// With --resume: run only the items that FILE records as not ok.
    #[arg(long, global = true, requires = "resume")]
    resume_failed: bool,
    /// Draw the run as an SVG picture: one lane per worker, one bar per item.
    #[arg(long, value_name = "FILE.svg", global = true)]
    timeline: Option<PathBuf>,
    /// Items run at once inside each worker (threads), for I/O-bound jobs
    /// [default: 1; 16 for mproc fetch].
    #[arg(long, value_name = "K", value_parser = at_least_one, global = true)]
    concurrency: Option<usize>,
    /// Start each worker behind this command, e.g. 'srun -N1 -n1' or a wrapper script.
    #[arg(long, value_name = "CMD", global = true)]
    launcher: Option<String>,
    /// The mproc binary where workers run [default: this one locally, 'mproc' on remote hosts].
    #[arg(long, value_name = "PATH", global = true)]
    worker_path: Option<PathBuf>,
    /// Spread workers over hosts through ssh: host1:4,host2:8,:2 (':N' = N local workers).
    #[arg(long, value_name = "LIST", global = true, conflicts_with_all = ["processes", "hostfile", "serial"])]
    hosts: Option<String>,
    /// Read the host list from FILE, one HOST:N per line.
    #[arg(long, value_name = "FILE", global = true, conflicts_with_all = ["processes", "serial"])]
    hostfile: Option<PathBuf>,
    /// The ssh command for remote hosts [default: ssh -T -o BatchMode=yes].
    #[arg(long, value_name = "CMD", global = true)]
    ssh: Option<String>,
}

#[derive(Debug, Args)]
pub(super) struct FetchCommandArgs {
    #[command(flatten)]
    pub(super) flags: PoolFlags,
    #[command(flatten)]
    pub(super) fetch: FetchArgs,
}

#[derive(Debug, Args)]
pub(super) struct FetchArgs {
    /// The URLs: a text file (one a line, # comments), a sitemap XML file
    /// (urlset or sitemapindex), either gzipped, - for standard input, or
    /// the http(s) URL of any of these.
    #[arg(value_name = "SOURCE")]
    source: String,
    /// Fetch only the first K URLs.
    #[arg(long, value_name = "K", value_parser = at_least_one)]
    limit: Option<usize>,
    /// Seconds to resolve a host name, and again to connect (TLS included).
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = seconds)]
    connect_timeout: Duration,
    /// Seconds for a whole request: connecting, redirects and reading.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = seconds)]
    request_timeout: Duration,
    /// Redirects to follow before failing with too_many_redirects.
    #[arg(long, value_name = "N", default_value = "10")]
    max_redirects: u32,
    /// Bytes of a page to read at most while looking for its </title>.
    #[arg(long, value_name = "BYTES", default_value = "4194304", value_parser = at_least_one)]
    max_bytes: usize,
}

impl FetchArgs {
    pub(super) fn into_job(self) -> JobChoice {
        JobChoice::Fetch(FetchOptions {
            source: self.source,
            limit: self.limit,
            limits: Limits {
                connect_timeout: self.connect_timeout,
                request_timeout: self.request_timeout,
                max_redirects: self.max_redirects,
                max_bytes: self.max_bytes as u64,
            },
        })
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModeArg {
    Map,
    Imap,
    ImapUnordered,
    Async,
}

#[derive(Debug, Subcommand)]
enum JobSub {
    /// f(x) = x*x over 0..COUNT, printed as Python prints a list.
    Square {
        /// How many numbers (0..COUNT).
        #[arg(value_name = "COUNT")]
        count: u64,
    },
    /// The CPU load demo: TOTAL random draws split over the processes.
    Load {
        /// Random draws in all.
        #[arg(long, default_value = "40000000")]
        total: u64,
        /// Random seed.
        #[arg(long, default_value = "1")]
        seed: u64,
        /// Shares to split the draws into [default: one per process].
        #[arg(long, value_parser = at_least_one)]
        parts: Option<usize>,
    },
    /// Scripted items that sleep, fail, panic, print, exit or crash (see docs).
    Chaos {
        /// Actions: ok:TEXT sleep:MS spin:MS fail:TEXT panic:TEXT exit:CODE abort segv kill hang print:BYTES eprint:BYTES log:TEXT big:BYTES flaky:FILE
        #[arg(value_name = "ACTION", required = true)]
        actions: Vec<String>,
    },
    /// Count each file's characters: every ASCII digit, all digits, letters,
    /// spaces, other, lines, bytes and undecodable bytes.
    Analyze(AnalyzeArgs),
    /// Sum the numbers in row 1 of each workbook (.xlsx .xlsm .xlsb .xls .ods), then all of them.
    Excel {
        /// Workbooks, one item each.
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
        /// Read this sheet: a name, or a position counting from 1 [default: the first sheet].
        #[arg(long, value_name = "NAME|INDEX")]
        sheet: Option<String>,
        /// Read the first row that holds any value instead of row 1.
        #[arg(long)]
        first_nonempty: bool,
        /// Count dates and times as Excel serial numbers (days since 1899-12-30) instead of skipping them.
        #[arg(long)]
        dates_as_numbers: bool,
    },
    /// Fetch each URL and read its title (see also the top-level mproc
    /// fetch, which runs 16 requests at once per process).
    Fetch(FetchArgs),
}

#[derive(Debug, Args)]
struct AnalyzeArgs {
    /// Files to analyze (directories too, with --recursive).
    #[arg(value_name = "FILE", required_unless_present = "files_from")]
    files: Vec<PathBuf>,
    /// Also analyze the paths listed in LIST, one per line (- reads stdin).
    #[arg(long, value_name = "LIST")]
    files_from: Option<PathBuf>,
    /// Analyze every file below each directory, in sorted order (links to
    /// directories are not followed).
    #[arg(short, long)]
    recursive: bool,
    /// Decode files without a byte-order mark with this WHATWG encoding
    /// (utf-8, utf-16le, shift_jis, euc-jp, windows-1252, ...) [default: utf-8].
    #[arg(long, value_name = "LABEL", value_parser = encoding_label)]
    encoding: Option<String>,
}

impl PoolArgs {
    pub(super) fn into_command(self) -> PoolCommand {
        let job = match self.job {
            JobSub::Square { count } => JobChoice::Square { count },
            JobSub::Load { total, seed, parts } => JobChoice::Load {
                total,
                seed,
                parts: parts.map(|p| p as u32),
            },
            JobSub::Chaos { actions } => JobChoice::Chaos { actions },
            JobSub::Excel {
                files,
                sheet,
                first_nonempty,
                dates_as_numbers,
            } => JobChoice::Excel {
                files,
                job: ExcelSum {
                    sheet,
                    first_nonempty,
                    dates_as_numbers,
                },
            },
            JobSub::Analyze(a) => JobChoice::Analyze(AnalyzeOptions {
                files: a.files,
                files_from: a.files_from.map(|p| {
                    if p.as_os_str() == "-" {
                        PathSource::Stdin
                    } else {
                        PathSource::File(p)
                    }
                }),
                recursive: a.recursive,
                encoding: a.encoding,
            }),
            JobSub::Fetch(f) => f.into_job(),
        };
        self.flags.into_command(job, 1)
    }
}

impl PoolFlags {
    /// The pool command for `job`; `concurrency` when `--concurrency` was
    /// not given.
    pub(super) fn into_command(self, job: JobChoice, concurrency: usize) -> PoolCommand {
        let f = self;
        PoolCommand {
            pool: PoolOptions {
                processes: f.processes,
                chunksize: f.chunksize,
                max_tasks_per_child: f.maxtasksperchild.map(|n| n as u64),
                timeout: f.timeout,
                retries: f.retries,
                retry_errors: f.retry_errors,
                halt_on_error: f.halt_on_error,
                placement: PlacementOptions {
                    launcher: f.launcher,
                    worker_path: f.worker_path,
                    hosts: f.hosts,
                    hostfile: f.hostfile,
                    ssh: f.ssh,
                },
                concurrency: f.concurrency.unwrap_or(concurrency) as u32,
            },
            mode: match f.mode {
                ModeArg::Map => Mode::Map,
                ModeArg::Imap => Mode::Imap,
                ModeArg::ImapUnordered => Mode::ImapUnordered,
                ModeArg::Async => Mode::Async,
            },
            serial: f.serial,
            observe: Observe {
                progress: match (f.progress, f.no_progress) {
                    (true, _) => ProgressChoice::Always,
                    (_, true) => ProgressChoice::Never,
                    _ => ProgressChoice::Auto,
                },
                joblog: f.joblog,
                resume: f.resume,
                resume_failed: f.resume_failed,
                timeline: f.timeline,
            },
            output: match (f.json, f.jsonl) {
                (true, _) => OutputFormat::Json,
                (_, true) => OutputFormat::Jsonl,
                _ => OutputFormat::Human,
            },
            job,
        }
    }
}
