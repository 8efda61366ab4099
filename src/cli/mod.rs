//! The command line: clap types, and their conversion into the plain
//! values of [`options`](crate::options). clap stops here.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{
    ArgAction, ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum,
};
use mproc::{Error, Result};

#[cfg(feature = "excel")]
use crate::generate::excel::ExcelSpec;
use crate::logging::{LogFormat, LogOptions};
use crate::options::{Command, GenCommand, Invocation, ProcessDemo};
pub(crate) use crate::units::seconds;
#[cfg(feature = "fetch")]
use crate::web::DemoOptions;

/// The whole command line: the derived commands, with one `pool`
/// subcommand per entry of the job table.
pub(crate) fn command() -> clap::Command {
    with_jobs(|_| true)
}

/// The command with only the pool jobs whose name `keep` keeps.
fn with_jobs(keep: impl Fn(&str) -> bool) -> clap::Command {
    Cli::command()
        .mut_subcommand("pool", |pool| {
            crate::jobs::TABLE
                .iter()
                .filter(|entry| keep(entry.name()))
                .fold(pool.subcommand_required(true), |pool, entry| {
                    pool.subcommand(entry.command())
                })
        })
        .mut_subcommand("run", gnu_run)
}

/// The job a `pool` command line names: the first word after `pool`
/// that is a job's name.
fn named_job(args: &[OsString]) -> Option<&'static str> {
    let mut words = args.iter().skip(1).map_while(|a| a.to_str());
    words.by_ref().find(|w| *w == "pool")?;
    words.find_map(|w| crate::jobs::find(w).map(|entry| entry.name()))
}

/// `mproc run` takes GNU parallel's meaning where a pool flag's spelling
/// clashes with it (`-n`, `-j`, `--jobs`, `--resume`, `--halt-on-error`,
/// `--timeout`, `--retries`); `mproc pool run` keeps mproc's.
fn gnu_run(run: clap::Command) -> clap::Command {
    // GNU parallel takes a flag given twice (-k --keep-order).
    run.args_override_self(true)
        .mut_arg("processes", |a| {
            a.short(None)
                .short_alias(None)
                .visible_alias(None)
                .help("Worker processes (GNU parallel's -j N is the same) [default: usable CPUs]")
        })
        .mut_arg("resume", |a| a.long("mproc-resume").hide(true))
        .mut_arg("resume_failed", |a| {
            a.help(
                "Run again the jobs the --joblog file records as failed, and those it does \
             not record (GNU parallel's --resume-failed)",
            )
        })
        .mut_arg("halt_on_error", |a| {
            a.long("mproc-halt-on-error").hide(true)
        })
        .mut_arg("timeout", |a| {
            a.value_parser(crate::jobs::run::gnu_args::timeout)
                .value_name("DURATION")
                .help(
                    "Kill a job that runs longer than DURATION (seconds, or 1m, 2h30m), \
                 keeping its output; it fails (GNU parallel's --timeout)",
                )
        })
        .mut_arg("retries", |a| {
            a.value_name("N")
                .default_value("0")
                .help("Try a failed job up to N times in all (GNU parallel's --retries)")
        })
        .mut_arg("retry_errors", |a| a.hide(true))
        .mut_arg("joblog", |a| {
            a.help(
                "Write GNU parallel's job log to FILE (- for stdout; +FILE appends): Seq, \
             Host, Starttime, JobRuntime, Send, Receive, Exitval, Signal, Command",
            )
        })
}

/// What parsing gave: an invocation, or text clap already decided to show
/// (help, version) with its exit code.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// Run this.
    Run(Box<Invocation>),
    /// Print this and exit with the code.
    Show(String, u8),
}

/// Parses a full argv (program name first).
pub(crate) fn parse<I, T>(args: I) -> Result<Parsed>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    // Half of a pool command's parse is building every job's parser and
    // giving each the pool's flags: a line that names its job is first
    // parsed with that job alone. The other jobs only matter where a job's
    // name is looked up, so that parser reads a line it accepts as the
    // whole one does; what it does not accept (a mistake, --help) goes
    // to the whole one, whose message knows every job.
    let alone = named_job(&args).and_then(|job| {
        with_jobs(|name| name == job)
            .try_get_matches_from(&args)
            .ok()
    });
    let matches = match alone.map_or_else(|| command().try_get_matches_from(&args), Ok) {
        Ok(matches) => matches,
        Err(e) => return shown_or_error(e),
    };
    let cli = Cli::from_arg_matches(&matches).map_err(|e| usage(&e))?;
    match cli.command {
        Sub::Completions { shell } => Ok(Parsed::Show(completions(shell), 0)),
        Sub::Man { dir: None } => Ok(Parsed::Show(man::page()?, 0)),
        // The pages are written here, while clap's command is at hand; what
        // is shown is the list of files written.
        Sub::Man { dir: Some(dir) } => Ok(Parsed::Show(man::write_pages(&dir)?, 0)),
        _ => Ok(Parsed::Run(Box::new(cli.into_invocation(&matches)?))),
    }
}

fn shown_or_error(e: clap::Error) -> Result<Parsed> {
    match e.kind() {
        clap::error::ErrorKind::DisplayHelp
        | clap::error::ErrorKind::DisplayVersion
        | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            Ok(Parsed::Show(e.render().to_string(), e.exit_code() as u8))
        }
        clap::error::ErrorKind::InvalidSubcommand => {
            Err(pool_job_hint(&e).unwrap_or_else(|| usage(&e)))
        }
        clap::error::ErrorKind::UnknownArgument => {
            use clap::error::{ContextKind, ContextValue};
            match e.get(ContextKind::InvalidArg) {
                Some(ContextValue::String(flag)) => {
                    match crate::jobs::run::refused::refusal(flag) {
                        Some(why) => Err(Error::usage(why)),
                        None => Err(usage(&e)),
                    }
                }
                _ => Err(usage(&e)),
            }
        }
        _ => Err(usage(&e)),
    }
}

/// `mproc analyze`: a pool job typed as a top-level subcommand, with a hint
/// at `mproc pool analyze`. `None` for any other unknown subcommand.
fn pool_job_hint(e: &clap::Error) -> Option<Error> {
    use clap::error::{ContextKind, ContextValue};
    let Some(ContextValue::String(name)) = e.get(ContextKind::InvalidSubcommand) else {
        return None;
    };
    let Some(ContextValue::StyledStr(seen)) = e.get(ContextKind::Usage) else {
        return None;
    };
    // Only at the top level: the error's usage line is the top command's.
    let top = command().render_usage();
    if seen.to_string() != top.to_string() || crate::jobs::find(name).is_none() {
        return None;
    }
    Some(Error::usage(format!(
        "unrecognized subcommand '{name}'; did you mean `mproc pool {name}`?"
    )))
}

fn usage(e: &clap::Error) -> Error {
    Error::usage(one_line(&e.render().to_string()))
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

/// The help heading of the options every subcommand takes.
const GLOBAL: &str = "Global options";

#[derive(Debug, Parser)]
#[command(
    name = "mproc",
    version,
    about = "Run work in real OS child processes, the way Python's multiprocessing does",
    propagate_version = true
)]
struct Cli {
    /// More log detail (-v debug, -vv trace).
    #[arg(short, long, action = ArgAction::Count, global = true, help_heading = GLOBAL)]
    verbose: u8,
    /// Only errors in the log.
    #[arg(short, long, global = true, conflicts_with = "verbose", help_heading = GLOBAL)]
    quiet: bool,
    /// Log line format.
    #[arg(long, value_enum, default_value_t = LogFormatArg::Text, global = true, help_heading = GLOBAL)]
    log_format: LogFormatArg,
    /// Write the log to FILE instead of stderr.
    #[arg(long, value_name = "FILE", global = true, help_heading = GLOBAL)]
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
    #[command(
        after_help = "With -v (--verbose): also print every source of the count (logical CPUs, \
                      physical cores, the affinity mask, the cgroup quota, MPROC_CPU_COUNT) and \
                      which one decided it."
    )]
    CpuCount {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a job over many inputs in a pool of worker processes.
    Pool(Box<PoolArgs>),
    /// Fetch web pages in parallel and print their titles (`mproc pool
    /// fetch` with defaults for I/O: usable CPUs x 16 requests in flight).
    #[cfg(feature = "fetch")]
    Fetch(Box<FetchCommandArgs>),
    /// Run COMMAND once per input, N at a time, like GNU parallel
    /// (`mproc pool run`): inputs after :::, from --files-from FILE, or one
    /// per line of stdin; see docs/RUN.md.
    Run(Box<RunCommandArgs>),
    /// Serve the offline demo site on 127.0.0.1 until killed (pages,
    /// sitemaps, slow pages, errors, redirects, many encodings).
    #[cfg(feature = "fetch")]
    ServeDemo(ServeDemoArgs),
    /// Start one child process, join it, and show that it cannot harm the parent.
    Process(ProcessArgs),
    /// Print a shell completion script (e.g. `mproc completions bash > /etc/bash_completion.d/mproc`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `mproc man | man -l -`, or write one
    /// page per subcommand with --dir.
    Man {
        /// Write mproc.1, mproc-pool.1, mproc-pool-analyze.1, ... (one page
        /// per subcommand) into DIR, created if missing, instead of printing
        /// mproc.1.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Write generated input data.
    #[command(subcommand)]
    Gen(GenSub),
    /// Serve as a worker on stdin/stdout (started by mproc itself).
    #[command(hide = true)]
    Worker,
}

fn completions(shell: clap_complete::Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command(), "mproc", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(feature = "fetch")]
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
    #[cfg(feature = "excel")]
    Excel(GenExcelArgs),
}

#[cfg(feature = "excel")]
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

#[cfg(feature = "excel")]
impl GenExcelArgs {
    fn into_command(self) -> GenCommand {
        GenCommand::Excel {
            spec: ExcelSpec {
                dir: self.dir,
                files: self.files,
                numbers: self.numbers,
                decimals: self.decimals,
                seed: self.seed,
            },
            json: self.json,
        }
    }
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

/// `-n`/`--processes`: at least 1, at most the pool's limit.
fn processes(s: &str) -> std::result::Result<usize, String> {
    let n = at_least_one(s)?;
    if n > mproc::MAX_PROCESSES {
        return Err(format!(
            "{n} is over the limit of {} worker processes per pool",
            mproc::MAX_PROCESSES
        ));
    }
    Ok(n)
}

impl Cli {
    /// How to log, from `-q`, `-v`, `--log-format` and `--log-file`.
    fn log_options(&mut self) -> LogOptions {
        let filter = if self.quiet {
            Some("error".to_string())
        } else {
            match self.verbose {
                0 => None,
                1 => Some("debug".to_string()),
                _ => Some("trace".to_string()),
            }
        };
        LogOptions {
            filter,
            format: match self.log_format {
                LogFormatArg::Text => LogFormat::Text,
                LogFormatArg::Json => LogFormat::Json,
            },
            file: self.log_file.take(),
        }
    }

    fn into_invocation(mut self, matches: &ArgMatches) -> Result<Invocation> {
        let log = self.log_options();
        let worker_filter = Some(log.directive());
        let command = match self.command {
            Sub::CpuCount { json } => Command::CpuCount {
                verbose: self.verbose > 0,
                json,
            },
            Sub::Pool(args) => Command::Pool {
                job: job_call(matches)?,
                pool: Box::new(args.flags.into_command(worker_filter, 1)?),
            },
            #[cfg(feature = "fetch")]
            Sub::Fetch(args) => {
                use crate::jobs::fetch::{Fetch, FETCH_CONCURRENCY};
                Command::Pool {
                    job: Box::new(crate::jobs::Args::<Fetch>(args.fetch)),
                    pool: Box::new(args.flags.into_command(worker_filter, FETCH_CONCURRENCY)?),
                }
            }
            Sub::Run(args) => {
                let RunCommandArgs {
                    mut run,
                    gnu,
                    flags,
                } = *args;
                let mut pool = flags.into_command(worker_filter, 1)?;
                crate::jobs::run::gnu_args::apply(gnu, &mut run, &mut pool)?;
                Command::Pool {
                    job: Box::new(crate::jobs::Args::<crate::jobs::Run>(run)),
                    pool: Box::new(pool),
                }
            }
            #[cfg(feature = "fetch")]
            Sub::ServeDemo(args) => Command::ServeDemo(DemoOptions {
                port: args.port,
                latency: std::time::Duration::from_millis(args.latency_ms),
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
            #[cfg(feature = "excel")]
            Sub::Gen(GenSub::Excel(g)) => Command::Gen(g.into_command()),
            Sub::Process(p) => Command::Process(ProcessDemo {
                exit_code: p.exit_code,
                crash: p.crash,
                program: None,
            }),
            Sub::Worker => Command::Worker,
            Sub::Completions { .. } | Sub::Man { .. } => {
                return Err(Error::usage("completions and man are shown, not run"))
            }
        };
        Ok(Invocation { log, command })
    }
}

/// The job subcommand of `mproc pool`, read by its table entry.
fn job_call(matches: &ArgMatches) -> Result<Box<dyn crate::jobs::Call>> {
    let pool = matches.subcommand_matches("pool");
    let Some((name, job)) = pool.and_then(ArgMatches::subcommand) else {
        return Err(Error::usage(
            "mproc pool needs a job: see mproc pool --help",
        ));
    };
    let entry = crate::jobs::find(name)
        .ok_or_else(|| Error::usage(format!("mproc pool has no job named '{name}'")))?;
    entry.parse(job).map_err(|e| usage(&e))
}

/// `mproc fetch`: the pool flags and the fetch job's arguments.
#[cfg(feature = "fetch")]
#[derive(Debug, Args)]
struct FetchCommandArgs {
    // The job's own arguments first: the pool flags' help heading
    // ("Pool options") holds for every argument after them.
    #[command(flatten)]
    fetch: crate::jobs::fetch::FetchArgs,
    #[command(flatten)]
    flags: PoolFlags,
}

/// `mproc run`: the pool flags and the run job's arguments.
#[derive(Debug, Args)]
struct RunCommandArgs {
    // The job's own arguments first: the pool flags' help heading
    // ("Pool options") holds for every argument after them.
    #[command(flatten)]
    run: crate::jobs::run::RunArgs,
    #[command(flatten)]
    gnu: crate::jobs::run::gnu_args::GnuArgs,
    #[command(flatten)]
    flags: PoolFlags,
}

mod man;
mod pool_args;
pub(crate) mod warm;

use pool_args::{PoolArgs, PoolFlags};

#[cfg(test)]
mod tests;
