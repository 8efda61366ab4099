//! The flags every pool command shares (`mproc pool JOB`, `mproc fetch`),
//! and their conversion into one [`PoolCommand`]: the pool's
//! [`PoolSettings`], built here once, plus how to run and show the work.
//! The job subcommands themselves come from [`crate::jobs::TABLE`].

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use mproc::hosts::{parse_hosts, read_hostfile, split_command, Placement};
use mproc::{PoolSettings, Result};

use super::{at_least_one, processes, seconds};
use crate::options::{Mode, Observe, OutputFormat, PoolCommand};
use crate::progress::ProgressChoice;

/// `mproc pool`: the shared flags; the job is its subcommand.
#[derive(Debug, Args)]
pub(super) struct PoolArgs {
    #[command(flatten)]
    pub(super) flags: PoolFlags,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Pool options")]
pub(super) struct PoolFlags {
    /// Worker processes [default: usable CPUs, see cpu-count].
    #[arg(short = 'n', long, visible_alias = "jobs", short_alias = 'j', value_name = "N", value_parser = processes, global = true)]
    processes: Option<usize>,
    /// Items sent to a worker at once, as one chunk [default: automatic, by
    /// measured time: about 2 ms of work a chunk, slow items one at a time,
    /// smaller as the queue drains; 1 with --halt-on-error]
    #[arg(long, value_name = "N", value_parser = at_least_one, global = true)]
    chunksize: Option<usize>,
    /// Replace each worker after N items.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), global = true)]
    maxtasksperchild: Option<u64>,
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
    /// Append one tab-separated line per item to FILE (seq, input, worker, pid, start, runtime, attempts, outcome, error, host).
    #[arg(long, value_name = "FILE", global = true)]
    joblog: Option<PathBuf>,
    /// Skip the items that FILE (an earlier --joblog) records as ok, and append to it.
    #[arg(long, value_name = "FILE", global = true)]
    resume: Option<PathBuf>,
    /// With --resume: run only the items that FILE records as not ok.
    #[arg(long, global = true)]
    resume_failed: bool,
    /// Draw the run as an SVG picture: one lane per worker, one bar per attempt of each item.
    #[cfg(feature = "timeline")]
    #[arg(long, value_name = "FILE.svg", global = true)]
    timeline: Option<PathBuf>,
    /// Write the run as Chrome trace event JSON, one slice per attempt, for Perfetto UI (ui.perfetto.dev) or chrome://tracing.
    #[arg(long, value_name = "FILE.json", global = true)]
    trace: Option<PathBuf>,
    /// Items run at once inside each worker (threads), for I/O-bound jobs,
    /// at most 1024: each free thread takes the next item the worker holds,
    /// from any chunk, so K items of one chunk run together [default: 1;
    /// 16 for mproc fetch].
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=mproc::MAX_CONCURRENCY as i64), global = true)]
    concurrency: Option<u32>,
    /// Start each worker behind this command, e.g. 'srun -N1 -n1' or a wrapper script (srun gets --unbuffered added).
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
    /// Inside a Slurm allocation (salloc, sbatch): run each worker as a job
    /// step [default -n: SLURM_NTASKS, else SLURM_CPUS_ON_NODE].
    #[arg(long, global = true, conflicts_with_all = ["launcher", "hosts", "hostfile", "ssh", "serial"])]
    slurm: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModeArg {
    Map,
    Imap,
    ImapUnordered,
    Async,
}

impl PoolFlags {
    /// Where the workers run: Slurm's allocation, hosts through ssh, a
    /// launcher, or here. Reads `--hostfile`, so it can fail.
    fn placement(&self) -> Result<Placement> {
        let placement = if self.slurm {
            Placement::slurm()?
        } else {
            Placement::default()
                .hosts(match (&self.hosts, &self.hostfile) {
                    (Some(spec), _) => parse_hosts(spec)?,
                    (None, Some(file)) => read_hostfile(file)?,
                    (None, None) => Vec::new(),
                })
                .launcher(match &self.launcher {
                    Some(l) => split_command("--launcher", l)?,
                    None => Vec::new(),
                })
                .ssh(match &self.ssh {
                    Some(s) => split_command("--ssh", s)?,
                    None => Vec::new(),
                })
        };
        Ok(match &self.worker_path {
            Some(path) => placement.worker_path(path.clone()),
            None => placement,
        })
    }

    /// The pool command that runs `job`; `concurrency` when `--concurrency`
    /// was not given. Reads `--hostfile`, so it can fail.
    pub(super) fn into_command(
        self,
        log_filter: Option<String>,
        concurrency: u32,
    ) -> Result<PoolCommand> {
        let f = self;
        let placement = f.placement()?;
        // Through the setters, which check and clamp as they do for a
        // library user: one way to build settings.
        let processes = f.processes.or(placement.default_processes());
        let mut settings = PoolSettings::default()
            .retries(f.retries)
            .retry_errors(f.retry_errors)
            .halt_on_error(f.halt_on_error)
            .concurrency(f.concurrency.unwrap_or(concurrency))
            .placement(placement);
        if let Some(n) = processes {
            settings = settings.processes(n);
        }
        if let Some(n) = f.chunksize {
            settings = settings.chunksize(n);
        }
        if let Some(n) = f.maxtasksperchild {
            settings = settings.max_tasks_per_child(n);
        }
        if let Some(limit) = f.timeout {
            settings = settings.timeout(limit);
        }
        if let Some(directive) = log_filter {
            settings = settings.log_filter(directive);
        }
        Ok(PoolCommand {
            settings,
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
                #[cfg(feature = "timeline")]
                timeline: f.timeline,
                #[cfg(not(feature = "timeline"))]
                timeline: None,
                trace: f.trace,
                joblog_format: crate::joblog::Format::Mproc,
            },
            halt: None,
            output: match (f.json, f.jsonl) {
                (true, _) => OutputFormat::Json,
                (_, true) => OutputFormat::Jsonl,
                _ => OutputFormat::Human,
            },
        })
    }
}
