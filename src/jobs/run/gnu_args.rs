//! GNU parallel's options on `mproc run`: what a GNU parallel 20221122 user
//! types does what GNU parallel does, or is refused with one line naming
//! the mproc way ([`super::refused::refusal`]). Nothing is accepted with
//! another meaning.
//!
//! Where mproc's own spellings clash (`-n`, `-j`, `-v`, `-q`, `--resume`,
//! `--halt-on-error`, `--timeout`, `--retries`), `mproc run` takes GNU
//! parallel's meaning; `mproc pool run` keeps mproc's. [`GnuArgs`] is the
//! clap side; [`GnuArgs::resolve`] turns it into plain [`GnuOptions`] for
//! the job and the settings of the pool that runs it.

use std::time::Duration;

use mproc::Error;
use mproc::Result;

use super::groups::Colsep;
use crate::halt::{Count, Halt, Why};

/// GNU parallel's options, as `mproc run` takes them.
// The field docs are the command's help text, written for a terminal.
#[allow(rustdoc::invalid_html_tags)]
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "GNU parallel options")]
pub(crate) struct GnuArgs {
    /// Jobs at once: N, N% of the CPUs, +N or -N CPUs, 0 for as many as
    /// there are jobs [default: usable CPUs].
    #[arg(
        short = 'j',
        short_alias = 'P',
        long = "jobs",
        visible_alias = "max-procs",
        value_name = "N",
        allow_hyphen_values = true
    )]
    pub jobs: Option<String>,
    /// At most N arguments per command line.
    #[arg(short = 'n', long = "max-args", value_name = "N")]
    pub max_args: Option<usize>,
    /// At most N arguments per command line, {1}..{N} for each.
    #[arg(short = 'N', long = "max-replace-args", value_name = "N")]
    pub max_replace_args: Option<usize>,
    /// Several arguments per command line, each word with {} repeated for
    /// each (spread over the job slots).
    #[arg(short = 'X')]
    pub context: bool,
    /// Several arguments per command line (spread over the job slots).
    #[arg(short = 'm')]
    pub multiple: bool,
    /// Print each command line on stdout before its output.
    #[arg(id = "verbose", short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Quote the command: its words are the program and its arguments.
    #[arg(short = 'q', long = "quote")]
    pub quote: bool,
    /// Stands for the global `-q`/`--quiet` here, so that it is not
    /// copied into `run`, where `-q` is GNU parallel's `--quote`: `mproc
    /// -q run ...` is quiet, `mproc run -q ...` quotes.
    #[arg(id = "quiet", long = "mproc-quiet", hide = true)]
    pub global_quiet: bool,
    /// Keep the output in input order (mproc's default).
    #[arg(short = 'k', long = "keep-order")]
    pub keep_order: bool,
    /// Split each input line into columns {1} {2} ... at this string
    /// (`\t` for a tab, `\s+` for blanks).
    #[arg(short = 'C', long = "colsep", value_name = "SEP")]
    pub colsep: Option<String>,
    /// The first line of each input source names its columns: {name}
    /// (REGEXP: `:` or `.*`).
    #[arg(long = "header", value_name = "REGEXP")]
    pub header: Option<String>,
    /// Prefix each output line with the arguments and a tab.
    #[arg(long = "tag")]
    pub tag: bool,
    /// Prefix each output line with STR (replacement strings work) and a
    /// tab.
    #[arg(long = "tagstring", value_name = "STR")]
    pub tagstring: Option<String>,
    /// Print the command lines instead of running them.
    #[arg(long = "dry-run", visible_alias = "dryrun")]
    pub dry_run: bool,
    /// Read the input sources side by side instead of in every
    /// combination (as :::+).
    #[arg(long = "link", visible_alias = "xapply")]
    pub link: bool,
    /// When to stop: never, now,fail=N, now,success=N, now,done=N (N or
    /// N%), soon,fail=1; or 0, 1, 2, -2.
    #[arg(
        long = "halt",
        visible_alias = "halt-on-error",
        value_name = "WHEN",
        allow_hyphen_values = true
    )]
    pub halt: Option<String>,
    /// Skip the jobs that the --joblog file records (by sequence number),
    /// and append to it.
    #[arg(long = "resume", id = "gnu_resume")]
    pub resume: bool,
    /// Run the jobs in a random order.
    #[arg(long = "shuf")]
    pub shuf: bool,
    /// A progress bar on stderr (mproc's).
    #[arg(long = "bar", visible_alias = "eta")]
    pub bar: bool,
    /// STR stands for {} in the command.
    #[arg(short = 'I', value_name = "STR")]
    pub replace: Option<String>,
    /// No job for an input line of blanks only.
    #[arg(short = 'r', long = "no-run-if-empty")]
    pub no_run_if_empty: bool,
    /// Input lines end with DELIM (one byte; `\n`, `\t`, `\0` work), not
    /// a newline.
    #[arg(short = 'd', long = "delimiter", value_name = "DELIM")]
    pub delimiter: Option<String>,
    /// GNU parallel's `--gnu`: nothing to do.
    #[arg(long = "gnu", hide = true)]
    pub gnu: bool,
}

/// What the run job takes of GNU parallel's options.
#[derive(Debug, Clone, Default)]
pub(crate) struct GnuOptions {
    /// `mproc run` (GNU parallel's meanings; not `mproc pool run`).
    pub gnu: bool,
    /// Records per job (`-n`, `-N`).
    pub per_job: Option<usize>,
    /// `-X`
    pub context: bool,
    /// `-m` or `-X`
    pub multiple: bool,
    /// `-v`
    pub verbose: bool,
    /// `-q`
    pub quote: bool,
    /// `--colsep`
    pub colsep: Option<Colsep>,
    /// `--header`
    pub header: bool,
    /// `--tag`/`--tagstring`
    pub tag: Option<Vec<u8>>,
    /// `--dry-run`
    pub dry_run: bool,
    /// `--link`
    pub link: bool,
    /// `--shuf`
    pub shuf: bool,
    /// `-I`
    pub replace: Option<Vec<u8>>,
    /// `-r`
    pub skip_empty: bool,
    /// `-d`
    pub delimiter: Option<u8>,
    /// `--timeout`: each job's time limit (the job is killed, its output
    /// kept).
    pub timeout: Option<Duration>,
}

/// What GNU parallel's options change in the pool.
#[derive(Debug, Clone, Default)]
pub(crate) struct PoolChanges {
    /// `-j`: jobs at once.
    pub processes: Option<usize>,
    /// `--halt`
    pub halt: Option<Halt>,
    /// `--resume`
    pub resume: bool,
    /// `--bar`, `--eta`
    pub progress: bool,
    /// `-k`
    pub keep_order: bool,
}

impl GnuArgs {
    /// The job's options and the pool's changes; `cpus` is what `-j N%`
    /// and `-j +N` count from.
    pub(crate) fn resolve(self, cpus: usize) -> Result<(GnuOptions, PoolChanges)> {
        let per_job = self.max_replace_args.or(self.max_args);
        let options = GnuOptions {
            gnu: true,
            per_job,
            context: self.context,
            multiple: self.context || self.multiple,
            verbose: self.verbose > 0,
            quote: self.quote,
            colsep: self.colsep.as_deref().map(colsep).transpose()?,
            header: self.header.as_deref().map(header).transpose()?.is_some(),
            tag: match (self.tagstring, self.tag) {
                // GNU parallel tags nothing with an empty --tagstring.
                (Some(s), false) if s.is_empty() => None,
                (Some(s), _) if s.is_empty() => Some(Vec::new()),
                (Some(s), _) => Some(unescape(&s).into_bytes()),
                (None, true) => Some(Vec::new()),
                (None, false) => None,
            },
            dry_run: self.dry_run,
            link: self.link,
            shuf: self.shuf,
            replace: self.replace.map(String::into_bytes),
            skip_empty: self.no_run_if_empty,
            delimiter: self.delimiter.as_deref().map(delimiter).transpose()?,
            timeout: None,
        };
        let changes = PoolChanges {
            processes: self.jobs.as_deref().map(|j| jobs(j, cpus)).transpose()?,
            halt: match self.halt.as_deref().map(Halt::parse).transpose() {
                Ok(h) => h.flatten(),
                Err(e) => return Err(Error::usage(e)),
            },
            resume: self.resume,
            progress: self.bar,
            keep_order: self.keep_order,
        };
        Ok((options, changes))
    }
}

/// Applies GNU parallel's options to `mproc run`: the job's options into
/// `run`, the rest into the pool command (`-j`, `--timeout` as a job's
/// limit, `--retries` as GNU counts tries, `--halt`, the job log's
/// format, `--resume`, `--bar`, `-k`).
pub(crate) fn apply(
    gnu: GnuArgs,
    run: &mut super::RunArgs,
    pool: &mut crate::options::PoolCommand,
) -> Result<()> {
    use crate::joblog::{resolve, Format};
    let (mut options, changes) = gnu.resolve(mproc::cpu_count())?;
    let settings = &mut pool.settings;
    options.timeout = settings.timeout.take();
    // GNU parallel's --retries N is N tries in all, failed exits included.
    if settings.retries > 1 {
        settings.retries -= 1;
        settings.retry_errors = true;
    } else {
        settings.retries = 0;
    }
    if let Some(n) = changes.processes {
        settings.processes = Some(n);
    }
    if let Some(halt) = changes.halt {
        // The pool stops starting items at the first failure itself.
        settings.halt_on_error = (halt.why, halt.count) == (Why::Fail, Count::Items(1));
        // Each result reaches the parent as its job ends, so a rule fires
        // before the next jobs end.
        settings.chunksize.get_or_insert(1);
        pool.halt = Some(halt);
    }
    let observe = &mut pool.observe;
    let resume = changes.resume || observe.resume_failed;
    if resume {
        let Some(log) = &observe.joblog else {
            return Err(Error::usage(
                "--resume and --resume-failed need --joblog FILE (resuming from a --results \
                 folder, which GNU parallel also does, is not supported)",
            ));
        };
        let (path, _) = resolve(log, Format::Gnu { append: true });
        observe.resume = Some(path.clone());
        observe.joblog = Some(path);
    }
    observe.joblog_format = Format::Gnu { append: resume };
    if options.dry_run {
        // GNU parallel writes no job log for a dry run.
        if resume {
            return Err(Error::usage(
                "--dry-run with --resume: mproc run would not show which jobs the log skips; \
                 run without --dry-run, or without --resume to see every line",
            ));
        }
        observe.joblog = None;
    }
    if changes.progress {
        observe.progress = crate::progress::ProgressChoice::Always;
    }
    if changes.keep_order {
        pool.mode = crate::options::Mode::Map;
    }
    run.gnu = options;
    Ok(())
}

/// `-j`: `N`, `N%`, `+N`, `-N`, `0` (as many as the pool allows, up to
/// 256, as GNU parallel's file-handle limit gives about).
pub(crate) fn jobs(spec: &str, cpus: usize) -> Result<usize> {
    let bad = || {
        Error::usage(format!(
            "-j {spec}: expected N, N%, +N or -N (a file of job counts is not supported: \
             give the number)"
        ))
    };
    let n = if let Some(p) = spec.strip_suffix('%') {
        let p: f64 = p.parse().map_err(|_| bad())?;
        (cpus as f64 * p / 100.0).floor() as i64
    } else if let Some(more) = spec.strip_prefix('+') {
        cpus as i64 + more.parse::<i64>().map_err(|_| bad())?
    } else if let Some(fewer) = spec.strip_prefix('-') {
        cpus as i64 - fewer.parse::<i64>().map_err(|_| bad())?
    } else {
        match spec.parse::<i64>().map_err(|_| bad())? {
            0 => 256,
            n => n,
        }
    };
    Ok(n.clamp(1, mproc::MAX_PROCESSES as i64) as usize)
}

/// `--timeout`: seconds, or GNU parallel's units (`1m`, `2h30m`, `1d`);
/// `N%` is refused.
pub(crate) fn timeout(spec: &str) -> std::result::Result<Duration, String> {
    if spec.ends_with('%') {
        return Err(format!(
            "--timeout {spec}: a percentage of the median run time is not supported; \
             give seconds or units (10, 1m, 2h)"
        ));
    }
    let mut total = 0.0;
    let mut number = String::new();
    for c in spec.chars() {
        let unit = match c.to_ascii_lowercase() {
            's' => 1.0,
            'm' => 60.0,
            'h' => 3600.0,
            'd' => 86400.0,
            c if c.is_ascii_digit() || c == '.' => {
                number.push(c);
                continue;
            }
            _ => {
                return Err(format!(
                    "--timeout {spec}: not a duration (10, 1.5, 1m, 2h30m)"
                ))
            }
        };
        total += number
            .parse::<f64>()
            .map_err(|_| format!("--timeout {spec}: not a duration"))?
            * unit;
        number.clear();
    }
    if !number.is_empty() {
        total += number
            .parse::<f64>()
            .map_err(|_| format!("--timeout {spec}: not a duration"))?;
    }
    crate::units::seconds(&total.to_string()).map_err(|e| format!("--timeout {spec}: {e}"))
}

/// `--header`: only the forms that take the first line.
fn header(spec: &str) -> Result<()> {
    match spec {
        ":" | ".*" | ".*\\n" | ".*\n" | "1" => Ok(()),
        _ => Err(Error::usage(format!(
            "--header {spec}: mproc run takes the first line of each source as the header \
             (--header : or --header .*); other regular expressions are not supported"
        ))),
    }
}

/// `--colsep`: a literal string, `\t`, or `\s+`/` +` (blanks); other
/// regular expressions are refused.
fn colsep(spec: &str) -> Result<Colsep> {
    match spec {
        "\\s+" | " +" | "\\s" | "[ \\t]+" => return Ok(Colsep::Blanks),
        "\\t" => return Ok(Colsep::Text(b"\t".to_vec())),
        _ => {}
    }
    let mut out = Vec::new();
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('t') => out.push(b'\t'),
                Some(c) if c.is_ascii_punctuation() => out.push(c as u8),
                _ => return Err(regex_refused(spec)),
            },
            '.' | '*' | '+' | '?' | '[' | ']' | '(' | ')' | '{' | '}' | '^' | '$' | '|' => {
                return Err(regex_refused(spec))
            }
            c => out.extend(c.to_string().into_bytes()),
        }
    }
    Ok(Colsep::Text(out))
}

fn regex_refused(spec: &str) -> Error {
    Error::usage(format!(
        "--colsep {spec}: mproc run splits at a literal string, \\t or \\s+; other regular \
         expressions are not supported (escape the character: --colsep '\\|')"
    ))
}

/// `-d`: one byte, or `\n`, `\t`, `\0`, `\\`.
fn delimiter(spec: &str) -> Result<u8> {
    match unescape(spec).as_bytes() {
        [b] => Ok(*b),
        _ => Err(Error::usage(format!(
            "-d {spec}: mproc run takes a one-byte delimiter (such as , or \\t or \\0)"
        ))),
    }
}

/// `\t`, `\n`, `\0`, `\\` as GNU parallel reads them in `-d` and
/// `--tagstring`.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_counts_as_gnu_parallel_counts() {
        assert_eq!(jobs("3", 4).unwrap(), 3);
        assert_eq!(jobs("50%", 4).unwrap(), 2);
        assert_eq!(jobs("+2", 4).unwrap(), 6);
        assert_eq!(jobs("-1", 4).unwrap(), 3);
        assert_eq!(jobs("-9", 4).unwrap(), 1);
        assert_eq!(jobs("0", 4).unwrap(), 256);
        assert!(jobs("procfile", 4).is_err());
    }

    #[test]
    fn durations_take_units() {
        assert_eq!(timeout("2").unwrap(), Duration::from_secs(2));
        assert_eq!(timeout("1m").unwrap(), Duration::from_secs(60));
        assert_eq!(timeout("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(timeout("0.5s").unwrap(), Duration::from_millis(500));
        assert!(timeout("50%").unwrap_err().contains("percentage"));
        assert!(timeout("x").is_err());
    }

    #[test]
    fn colsep_and_delimiters() {
        assert_eq!(colsep(",").unwrap(), Colsep::Text(b",".to_vec()));
        assert_eq!(colsep("\\t").unwrap(), Colsep::Text(b"\t".to_vec()));
        assert_eq!(colsep("\\|").unwrap(), Colsep::Text(b"|".to_vec()));
        assert!(colsep("a.b").is_err());
        assert_eq!(delimiter("\\0").unwrap(), 0);
        assert!(delimiter("ab").is_err());
    }
}
