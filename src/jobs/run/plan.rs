//! `mproc run`'s plan: the command line and the input sources made into
//! the [`Template`], the jobs and GNU parallel's per-job options, before
//! any worker starts; and the run's exit status as GNU parallel gives it.

use std::io::IsTerminal;
use std::path::PathBuf;

use mproc::Error;
use mproc::Result;

use super::gnu_args::GnuOptions;
use super::gnu_job::GnuJob;
use super::groups::{jobs, Jobs, PerJob, Shape};
use super::inputs::{split_groups, Source, Spec};
use super::line::{LineOptions, Template};
use super::{shell, RunArgs, RunInput};
use crate::jobs::{Context, Inputs};
use crate::report::Summary;

/// What the plan made.
pub(super) struct Planned {
    pub template: Template,
    pub gnu: GnuJob,
    pub results: Option<PathBuf>,
    pub pass_stderr: bool,
    pub inputs: Inputs<RunInput>,
}

/// Reads the sources and parses the command; see the module docs.
pub(super) fn plan(args: RunArgs, context: &Context) -> Result<Planned> {
    let gnu = args.gnu;
    let (words, sources) = split_groups(args.command)?;
    let sources = with_files(sources, args.files_from);
    let shape = shape(&gnu, args.null, context);
    if gnu.gnu {
        warn_gnu_defaults();
    }
    let shell = if gnu.gnu {
        shell::which()
    } else {
        "sh".to_string()
    };
    if shell::foreign(&shell) {
        return Err(Error::usage(format!(
            "the shell is {shell} (from PARALLEL_SHELL, the calling shell or SHELL); mproc run \
             quotes for Bourne shells only: set PARALLEL_SHELL=/bin/sh"
        )));
    }
    let opts = LineOptions {
        no_shell: args.no_shell,
        quote: gnu.quote,
        context: gnu.context,
        replace: gnu.replace.clone(),
        header: Vec::new(),
        shell: shell.clone(),
    };
    // Refuse a bad command before reading any input.
    Template::parse(&words, &opts).map_err(Error::usage)?;
    let Jobs { jobs, header } = jobs(sources, &shape)?;
    let opts = LineOptions { header, ..opts };
    let mut template = Template::parse(&words, &opts).map_err(Error::usage)?;
    if gnu.gnu && !args.no_shell && !gnu.quote {
        // An exported function or alias is no program: the shell runs it.
        if let Some(first) = template.first_word() {
            if !first.contains(&b'/') && !shell::is_program(first) {
                template.use_shell(&shell);
            }
        }
    }
    let tag = match &gnu.tag {
        None => None,
        Some(t) => Some(tag_template(t, &opts)?),
    };
    if let Some(dir) = &args.results {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("cannot create --results {}", dir.display()), e))?;
    }
    let mut seq = 0;
    let inputs = jobs.map(move |(args, too_long)| {
        seq += 1;
        RunInput::new(seq, args, too_long)
    });
    Ok(Planned {
        template,
        gnu: GnuJob {
            verbose: gnu.verbose,
            tag,
            dry_run: gnu.dry_run,
            timeout: gnu.timeout,
            header: opts.header,
            gnu_results: gnu.gnu,
            slots: (context.processes.max(1) * context.concurrency.max(1) as usize) as u64,
        },
        results: args.results,
        pass_stderr: args.pass_stderr,
        inputs,
    })
}

/// GNU parallel reads default options from `$PARALLEL` and
/// `~/.parallel/config`; mproc does not, and says so rather than run
/// without them in silence.
fn warn_gnu_defaults() {
    if std::env::var_os("PARALLEL").is_some_and(|v| !v.is_empty()) {
        tracing::warn!(
            "$PARALLEL is set: mproc run does not read GNU parallel's default options from it; \
             give them on the command line"
        );
    }
    let config = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".parallel/config"));
    if config.as_deref().is_some_and(std::path::Path::is_file) {
        tracing::warn!(
            "~/.parallel/config exists: mproc run does not read GNU parallel's default options \
             from it; give them on the command line"
        );
    }
}

/// The input sources: each `-a FILE` first, then those after the
/// command, as GNU parallel orders them.
fn with_files(sources: Vec<Source>, files: Vec<PathBuf>) -> Vec<Source> {
    if files.is_empty() && sources.is_empty() && std::io::stdin().is_terminal() {
        tracing::info!("reading inputs from stdin, one per line (end with Ctrl-D)");
    }
    let mut all: Vec<Source> = files
        .into_iter()
        .map(|p| Source {
            spec: Spec::File(p),
            linked: false,
        })
        .collect();
    all.extend(sources);
    all
}

/// How the records become jobs.
fn shape(gnu: &GnuOptions, null: bool, context: &Context) -> Shape {
    let per_job = match (gnu.multiple, gnu.per_job) {
        (true, None) => PerJob::Spread {
            slots: context.processes.max(1),
        },
        (_, n) => PerJob::Fixed(n.unwrap_or(1)),
    };
    Shape {
        sep: gnu.delimiter.unwrap_or(if null { b'\0' } else { b'\n' }),
        colsep: gnu.colsep.clone(),
        header: gnu.header,
        skip_empty: gnu.skip_empty,
        link: gnu.link,
        shuf: gnu.shuf,
        per_job,
    }
}

/// `--tag` (no template: the arguments) or `--tagstring STR`.
fn tag_template(tagstring: &[u8], opts: &LineOptions) -> Result<Option<Template>> {
    if tagstring.is_empty() {
        return Ok(None);
    }
    let o = LineOptions {
        no_shell: true,
        ..opts.clone()
    };
    Template::parse(&[tagstring.to_vec()], &o)
        .map(Some)
        .map_err(Error::usage)
}

/// GNU parallel's exit status: the number of jobs that failed, 101 for
/// more than 100; with `--halt`, the exit status of the job that halted
/// the run.
pub(super) fn status(summary: &Summary, halted_by: Option<i32>) -> u8 {
    if let Some(code) = halted_by {
        return u8::try_from(code).unwrap_or(255);
    }
    let failed = summary.total - summary.ok - summary.not_run;
    failed.min(101) as u8
}
