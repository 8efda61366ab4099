//! The command line: clap types, and their conversion into the plain
//! values of [`options`](crate::options). clap stops here.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::error::{Error, Result};
use crate::generate::excel::ExcelSpec;
use crate::jobs::ExcelSum;
use crate::logging::{LogFormat, LogOptions};
use crate::options::{
    AnalyzeOptions, Command, FetchOptions, GenCommand, Invocation, JobChoice, Mode, Observe,
    OutputFormat, PathSource, PlacementOptions, PoolCommand, PoolOptions, ProcessDemo,
};
use crate::progress::ProgressChoice;
use crate::web::{DemoOptions, Limits};

/// `--concurrency` for `mproc fetch` when not given: requests in flight
/// per worker process.
pub const FETCH_CONCURRENCY: usize = 16;

/// What parsing gave: an invocation, or text clap already decided to show
/// (help, version) with its exit code.
#[derive(Debug)]
pub enum Parsed {
    /// Run this.
    Run(Box<Invocation>),
    /// Print this and exit with the code.
    Show(String, u8),
}

/// Parses a full argv (program name first).
pub fn parse<I, T>(args: I) -> Result<Parsed>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    match Cli::try_parse_from(args) {
        Ok(Cli {
            command: Sub::Completions { shell },
            ..
        }) => Ok(Parsed::Show(completions(shell), 0)),
        Ok(Cli {
            command: Sub::Man, ..
        }) => Ok(Parsed::Show(man_page()?, 0)),
        Ok(cli) => Ok(Parsed::Run(Box::new(cli.into_invocation()))),
        Err(e) => match e.kind() {
            clap::error::ErrorKind::DisplayHelp
            | clap::error::ErrorKind::DisplayVersion
            | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                Ok(Parsed::Show(e.render().to_string(), e.exit_code() as u8))
            }
            _ => Err(Error::usage(one_line(&e.render().to_string()))),
        },
    }
}

/// clap's message on one line: the error (with the indented list under it,
/// such as the missing arguments), then any tip, without the usage.
fn one_line(rendered: &str) -> String {
    let mut parts = Vec::new();
    let mut lines = rendered.lines().peekable();
    while let Some(line) = lines.next().map(str::trim) {
        if let Some(rest) = line.strip_prefix("error: ") {
            let mut part = rest.to_string();
            while let Some(item) = lines.next_if(|l| l.starts_with(' ') && !l.trim().is_empty()) {
                part.push(' ');
                part.push_str(item.trim());
            }
            parts.push(part);
        } else if line.starts_with("tip:") {
            parts.push(line.to_string());
        }
    }
    if parts.is_empty() {
        parts.push(
            rendered
                .lines()
                .next()
                .unwrap_or("invalid usage")
                .to_string(),
        );
    }
    parts.join("; ")
}

#[derive(Debug, Parser)]
#[command(
    name = "mproc",
    version,
    about = "Run work in real OS child processes, the way Python's multiprocessing does",
    propagate_version = true
)]
struct Cli {
    /// More log detail (-v debug, -vv trace); with cpu-count, show every source.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    verbose: u8,
    /// Only errors in the log.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Log line format.
    #[arg(long, value_enum, default_value_t = LogFormatArg::Text, global = true)]
    log_format: LogFormatArg,
    /// Write the log to FILE instead of stderr.
    #[arg(long, value_name = "FILE", global = true)]
    log_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormatArg {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Sub {
    /// Print how many CPUs this process may use (affinity, cgroup quota, MPROC_CPU_COUNT).
    CpuCount {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a job over many inputs in a pool of worker processes.
    Pool(Box<PoolArgs>),
    /// Fetch web pages in parallel and print their titles (`mproc pool
    /// fetch` with defaults for I/O: usable CPUs x 16 requests in flight).
    Fetch(Box<FetchCommandArgs>),
    /// Serve the offline demo site on 127.0.0.1 until killed (pages,
    /// sitemaps, slow pages, errors, redirects, many encodings).
    ServeDemo(ServeDemoArgs),
    /// Start one child process, join it, and show that it cannot harm the parent.
    Process(ProcessArgs),
    /// Print a shell completion script (e.g. `mproc completions bash > /etc/bash_completion.d/mproc`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `mproc man | man -l -`.
    Man,
    /// Write generated input data.
    #[command(subcommand)]
    Gen(GenSub),
    /// Serve as a worker on stdin/stdout (started by mproc itself).
    #[command(hide = true)]
    Worker,
}

fn completions(shell: clap_complete::Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(
        shell,
        &mut <Cli as clap::CommandFactory>::command(),
        "mproc",
        &mut out,
    );
    String::from_utf8_lossy(&out).into_owned()
}

fn man_page() -> Result<String> {
    let mut out = Vec::new();
    clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
        .render(&mut out)
        .map_err(|e| Error::io("cannot render the man page", e))?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[derive(Debug, Args)]
struct PoolArgs {
    #[command(flatten)]
    flags: PoolFlags,
    #[command(subcommand)]
    job: JobSub,
}

#[derive(Debug, Args)]
struct PoolFlags {
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
struct FetchCommandArgs {
    #[command(flatten)]
    flags: PoolFlags,
    #[command(flatten)]
    fetch: FetchArgs,
}

#[derive(Debug, Args)]
struct FetchArgs {
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
    fn into_job(self) -> JobChoice {
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

#[derive(Debug, Args)]
struct ServeDemoArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, value_name = "P", default_value = "8000")]
    port: u16,
    /// Milliseconds each page waits before answering (not the lists and
    /// sitemaps).
    #[arg(long, value_name = "L", default_value = "100")]
    latency_ms: u64,
    /// Numbered pages, /page/1 to /page/N, listed by /sitemap.xml and
    /// /urls.txt.
    #[arg(long, value_name = "N", default_value = "100", value_parser = at_least_one)]
    pages: usize,
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

#[derive(Debug, Subcommand)]
enum GenSub {
    /// Write 1.txt ... N.txt into DIR, each row 0-80 random letters, digits
    /// and spaces.
    Text {
        /// The directory to write into (created if missing).
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// How many files.
        #[arg(long, value_name = "N", value_parser = at_least_one)]
        files: usize,
        /// Rows per file.
        #[arg(long, value_name = "X")]
        rows: u64,
        /// Random seed: the same seed writes the same bytes.
        #[arg(long, value_name = "S", default_value = "1")]
        seed: u64,
    },
    /// Write 1.xlsx ... N.xlsx into DIR, each with random whole numbers 0-999
    /// (or with --decimals places) in row 1 of its sheet.
    Excel(GenExcelArgs),
}

#[derive(Debug, Args)]
struct GenExcelArgs {
    /// Directory to write into (created if missing).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// How many workbooks.
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    files: usize,
    /// Numbers in row 1 of each workbook.
    #[arg(long, value_name = "K", default_value = "10", value_parser = at_least_one)]
    numbers: usize,
    /// Decimal places of each number (0: whole numbers 0-999; 2: 0.00-999.99; at most 6).
    #[arg(long, value_name = "D", default_value = "0")]
    decimals: u32,
    /// Random seed: the same seed writes the same numbers.
    #[arg(long, value_name = "S", default_value = "1")]
    seed: u64,
    /// Print what was written, every number, as one JSON document.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ProcessArgs {
    /// Make the child exit with this code.
    #[arg(long, value_name = "K", conflicts_with = "crash")]
    exit_code: Option<i32>,
    /// Make the child crash with a segmentation fault.
    #[arg(long)]
    crash: bool,
}

fn at_least_one(s: &str) -> std::result::Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{s}' is not a whole number")),
    }
}

fn encoding_label(s: &str) -> std::result::Result<String, String> {
    match crate::text::encoding_for_label(s) {
        Some(_) => Ok(s.to_string()),
        None => Err(format!(
            "unknown encoding label ({})",
            crate::jobs::analyze::LABEL_HINT
        )),
    }
}

fn seconds(s: &str) -> std::result::Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(Duration::from_secs_f64(v)),
        _ => Err(format!("'{s}' is not a positive number of seconds")),
    }
}

impl Cli {
    fn into_invocation(self) -> Invocation {
        let filter = if self.quiet {
            Some("error".to_string())
        } else {
            match self.verbose {
                0 => None,
                1 => Some("debug".to_string()),
                _ => Some("trace".to_string()),
            }
        };
        let log = LogOptions {
            filter,
            format: match self.log_format {
                LogFormatArg::Text => LogFormat::Text,
                LogFormatArg::Json => LogFormat::Json,
            },
            file: self.log_file,
        };
        let command = match self.command {
            Sub::CpuCount { json } => Command::CpuCount {
                verbose: self.verbose > 0,
                json,
            },
            Sub::Pool(args) => Command::Pool(Box::new(args.into_command())),
            Sub::Fetch(args) => Command::Pool(Box::new(
                args.flags
                    .into_command(args.fetch.into_job(), FETCH_CONCURRENCY),
            )),
            Sub::ServeDemo(args) => Command::ServeDemo(DemoOptions {
                port: args.port,
                latency: Duration::from_millis(args.latency_ms),
                pages: args.pages,
            }),
            Sub::Gen(GenSub::Text {
                dir,
                files,
                rows,
                seed,
            }) => Command::Gen(GenCommand::Text {
                dir,
                files: files as u64,
                rows,
                seed,
            }),
            Sub::Process(p) => Command::Process(ProcessDemo {
                exit_code: p.exit_code,
                crash: p.crash,
                program: None,
            }),
            Sub::Gen(GenSub::Excel(g)) => Command::Gen(GenCommand::Excel {
                spec: ExcelSpec {
                    dir: g.dir,
                    files: g.files,
                    numbers: g.numbers,
                    decimals: g.decimals,
                    seed: g.seed,
                },
                json: g.json,
            }),
            Sub::Worker => Command::Worker,
            Sub::Completions { .. } | Sub::Man => unreachable!("handled in parse"),
        };
        Invocation { log, command }
    }
}

impl PoolArgs {
    fn into_command(self) -> PoolCommand {
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
    fn into_command(self, job: JobChoice, concurrency: usize) -> PoolCommand {
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn errors_are_one_line_and_name_the_flag() {
        let e = parse(["mproc", "pool", "-n", "0", "square", "3"]).unwrap_err();
        assert!(e.is_usage());
        assert!(!e.message().contains('\n'));
        assert!(e.message().contains("--processes"), "{e}");
        let e = parse(["mproc", "pool", "-n", "x", "square", "3"]).unwrap_err();
        assert!(e.message().contains("'x' is not a whole number"), "{e}");
        let e = parse(["mproc", "pool", "--mode", "fast", "square", "3"]).unwrap_err();
        assert!(e.message().contains("--mode"), "{e}");
        let e = parse(["mproc", "pool", "cube", "3"]).unwrap_err();
        assert!(e.message().contains("cube"), "{e}");
    }

    #[test]
    fn analyze_and_gen_parse_into_plain_values() {
        let Parsed::Run(inv) = parse([
            "mproc",
            "pool",
            "--serial",
            "analyze",
            "a.txt",
            "--files-from",
            "-",
            "-r",
            "--encoding",
            "sjis",
        ])
        .unwrap() else {
            panic!("expected a run");
        };
        let Command::Pool(p) = inv.command else {
            panic!("expected pool")
        };
        assert!(p.serial);
        let JobChoice::Analyze(a) = p.job else {
            panic!("expected analyze")
        };
        assert_eq!(a.files, [PathBuf::from("a.txt")]);
        assert_eq!(a.files_from, Some(PathSource::Stdin));
        assert!(a.recursive);
        assert_eq!(a.encoding.as_deref(), Some("sjis"));

        let Parsed::Run(inv) =
            parse(["mproc", "gen", "text", "d", "--files", "3", "--rows", "9"]).unwrap()
        else {
            panic!("expected a run");
        };
        assert!(matches!(
            inv.command,
            Command::Gen(GenCommand::Text {
                files: 3,
                rows: 9,
                seed: 1,
                ..
            })
        ));
    }

    #[test]
    fn analyze_usage_errors_are_one_line() {
        let cases: [(&[&str], &[&str]); 3] = [
            (&["pool", "analyze"], &["not provided", "<FILE>"]),
            (
                &["pool", "analyze", "--encoding", "klingon", "a"],
                &["--encoding", "'klingon'"],
            ),
            (
                &["pool", "-n", "2", "--serial", "analyze", "a"],
                &["--serial"],
            ),
        ];
        for (args, words) in cases {
            let e = parse(["mproc"].iter().chain(args)).unwrap_err();
            assert!(!e.message().contains('\n'), "{e}");
            for word in words {
                assert!(e.message().contains(word), "{e}");
            }
        }
    }

    #[test]
    fn fetch_is_a_pool_command_with_io_defaults() {
        let pool = |args: &[&str]| {
            let Parsed::Run(inv) = parse(["mproc"].iter().chain(args)).unwrap() else {
                panic!("expected a run");
            };
            let Command::Pool(p) = inv.command else {
                panic!("expected pool")
            };
            p
        };
        let p = pool(&[
            "fetch",
            "urls.txt",
            "--limit",
            "5",
            "--request-timeout",
            "0.5",
        ]);
        assert_eq!(p.pool.concurrency, FETCH_CONCURRENCY as u32);
        assert_eq!(p.pool.processes, None);
        let JobChoice::Fetch(f) = p.job else {
            panic!("expected fetch")
        };
        assert_eq!((f.source.as_str(), f.limit), ("urls.txt", Some(5)));
        assert_eq!(f.limits.request_timeout, Duration::from_millis(500));
        assert_eq!(f.limits.connect_timeout, Limits::default().connect_timeout);
        assert_eq!(f.limits.max_bytes, Limits::default().max_bytes);
        assert_eq!(f.limits.max_redirects, Limits::default().max_redirects);

        // The pool form keeps the pool's default of one at a time.
        let p = pool(&["pool", "-n", "5", "fetch", "urls.txt"]);
        assert_eq!((p.pool.processes, p.pool.concurrency), (Some(5), 1));
        let p = pool(&["fetch", "-n", "2", "--concurrency", "50", "--json", "u"]);
        assert_eq!((p.pool.processes, p.pool.concurrency), (Some(2), 50));
        assert_eq!(p.output, OutputFormat::Json);

        let e = parse(["mproc", "fetch", "u", "--max-bytes", "0"]).unwrap_err();
        assert!(e.message().contains("--max-bytes"), "{e}");
        let e = parse(["mproc", "fetch"]).unwrap_err();
        assert!(e.message().contains("<SOURCE>"), "{e}");
    }

    #[test]
    fn serve_demo_parses_into_plain_values() {
        let Parsed::Run(inv) =
            parse(["mproc", "serve-demo", "--port", "0", "--latency-ms", "5"]).unwrap()
        else {
            panic!("expected a run");
        };
        let Command::ServeDemo(d) = inv.command else {
            panic!("expected serve-demo")
        };
        assert_eq!(
            (d.port, d.latency, d.pages),
            (0, Duration::from_millis(5), 100)
        );
    }

    #[test]
    fn pool_flags_parse_into_plain_values() {
        let Parsed::Run(inv) = parse([
            "mproc",
            "-q",
            "pool",
            "-n",
            "3",
            "--mode",
            "imap-unordered",
            "--jsonl",
            "square",
            "11",
        ])
        .unwrap() else {
            panic!("expected a run");
        };
        let Command::Pool(p) = inv.command else {
            panic!("expected pool")
        };
        assert_eq!(p.pool.processes, Some(3));
        assert_eq!(p.mode, Mode::ImapUnordered);
        assert_eq!(p.output, OutputFormat::Jsonl);
        assert!(matches!(p.job, JobChoice::Square { count: 11 }));
        assert_eq!(inv.log.filter.as_deref(), Some("error"));
    }

    #[test]
    fn excel_commands_parse_into_plain_values() {
        let Parsed::Run(inv) = parse([
            "mproc",
            "pool",
            "excel",
            "--sheet",
            "2",
            "--first-nonempty",
            "a.xlsx",
            "b.ods",
        ])
        .unwrap() else {
            panic!("expected a run");
        };
        let Command::Pool(p) = inv.command else {
            panic!("expected pool")
        };
        let JobChoice::Excel { files, job } = p.job else {
            panic!("expected excel")
        };
        assert_eq!(files, [PathBuf::from("a.xlsx"), PathBuf::from("b.ods")]);
        assert_eq!(job.sheet.as_deref(), Some("2"));
        assert!(job.first_nonempty && !job.dates_as_numbers);

        let Parsed::Run(inv) = parse([
            "mproc", "gen", "excel", "out", "--files", "3", "--seed", "9",
        ])
        .unwrap() else {
            panic!("expected a run");
        };
        let Command::Gen(GenCommand::Excel { spec, json }) = inv.command else {
            panic!("expected gen excel")
        };
        assert_eq!((spec.files, spec.numbers, spec.decimals), (3, 10, 0));
        assert_eq!((spec.seed, json), (9, false));
        let e = parse(["mproc", "gen", "excel", "out"]).unwrap_err();
        assert!(e.message().contains("--files"), "{e}");
    }
}
