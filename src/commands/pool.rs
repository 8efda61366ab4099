//! `mproc pool ...`: build a pool (or, with `--serial`, none), run a
//! built-in job in the chosen mode, and print its results.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use mproc::{ItemResult, Pool, Result, Serial};
use serde_json::{json, Map, Value};

use super::Status;
use crate::joblog::{JobLog, Previous};
use crate::jobs::{Builtin, Context, Inputs, Plan, Report, Totals};
use crate::options::{Mode, OutputFormat, PoolCommand};
use crate::progress::Progress;
use crate::report::{self, Stdout, Summary};

/// Where items run: a pool of worker processes, or this process.
enum Runner {
    Pool(Pool),
    Serial(Serial),
}

impl Runner {
    fn start(cmd: &PoolCommand) -> Result<Runner> {
        Ok(if cmd.serial {
            Runner::Serial(Serial::new(cmd.settings.clone()))
        } else {
            Runner::Pool(Pool::start(cmd.settings.clone())?)
        })
    }

    /// Worker processes (none when serial).
    fn processes(&self) -> usize {
        match self {
            Runner::Pool(pool) => pool.processes(),
            Runner::Serial(_) => 0,
        }
    }

    /// Lanes of a timeline or trace: one per worker slot (one when serial).
    fn lanes(&self) -> usize {
        self.processes().max(1)
    }

    /// The host of each worker slot (`None`: this machine).
    fn hosts(&self) -> Vec<Option<String>> {
        match self {
            Runner::Pool(pool) => pool.hosts().to_vec(),
            Runner::Serial(_) => Vec::new(),
        }
    }

    fn epoch(&self) -> Instant {
        match self {
            Runner::Pool(pool) => pool.epoch(),
            Runner::Serial(serial) => serial.epoch(),
        }
    }

    fn finish(self) -> Result<()> {
        if let Runner::Pool(mut pool) = self {
            pool.close();
            pool.join()?;
        }
        Ok(())
    }
}

/// Runs built-in job `J` with its parsed `args`: plans it (what can be
/// refused is refused before any worker starts), runs it in the command's
/// mode, prints its results, and gives the exit status.
pub(crate) fn run<J: Builtin>(args: J::Args, cmd: &PoolCommand) -> Result<Status> {
    let processes = if cmd.serial {
        0
    } else {
        super::cpu_count::check_override(&cmd.settings)?;
        cmd.settings.worker_count()?
    };
    let context = Context {
        processes,
        concurrency: cmd.settings.concurrency,
    };
    let Plan { job, inputs } = J::plan(args, &context)?;
    check_outputs(cmd)?;
    let interrupts = if cmd.serial {
        None
    } else {
        Some(super::signals::Interrupts::watch()?)
    };
    let runner = Runner::start(cmd)?;
    if let (Some(interrupts), Runner::Pool(pool)) = (&interrupts, &runner) {
        interrupts.stops(pool.stopper());
    }
    let context = Context {
        processes: runner.processes(),
        ..context
    };
    let mut out = Stdout::default();
    let Ran {
        inputs,
        rows: results,
        streamed,
        bars,
        summary,
        failure,
        halted_by,
    } = execute(&runner, &job, inputs, cmd, &mut out)?;
    if cmd.output == OutputFormat::Human {
        // The log lines about the run come before its report.
        crate::progress::flush_logs();
        out.print(&J::report(&Report {
            inputs: &inputs,
            results: &results,
            summary: &summary,
            context,
            streamed,
        }));
    }
    // The pictures come after the results: a failed one hides nothing.
    let workers = worker_events(&runner);
    let input = |i: usize| shown(&inputs, i);
    #[cfg(feature = "timeline")]
    let picture = match &cmd.observe.timeline {
        Some(path) => draw_timeline(path, &runner, &workers, J::NAME, &bars, &summary, &input),
        None => Ok(()),
    };
    let trace = match &cmd.observe.trace {
        Some(path) => write_trace(path, &runner, &workers, J::NAME, &bars, &input),
        None => Ok(()),
    };
    runner.finish()?;
    // A reader that went away (`| head`) is a quiet success, as in ripgrep.
    let reader_gone = out.closed();
    out.finish()?;
    #[cfg(feature = "timeline")]
    picture?;
    trace?;
    // A stream that could not be read to its end: what was read ran and
    // is reported above; the run still failed.
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(match interrupts.and_then(|i| i.signal()) {
        Some(sig) => Status(128 + sig as u8),
        None if summary.all_ok() || reader_gone => Status::OK,
        None => J::status(&summary, halted_by).map_or(Status::SOME_FAILED, Status),
    })
}

/// Refuses, before any worker starts, a run whose output files cannot be
/// written.
fn check_outputs(cmd: &PoolCommand) -> Result<()> {
    let observe = &cmd.observe;
    if observe.resume_failed && observe.resume.is_none() {
        return Err(mproc::Error::usage("--resume-failed needs --resume FILE"));
    }
    match (&observe.joblog, &observe.resume) {
        (Some(path), _) if path.as_os_str() == "-" => {}
        (Some(path), _) => {
            let (path, _) = crate::joblog::resolve(path, observe.joblog_format);
            report::check_writable("--joblog", &path)?
        }
        (None, Some(path)) => report::check_writable("--resume", path)?,
        (None, None) => {}
    }
    #[cfg(feature = "timeline")]
    if let Some(path) = &observe.timeline {
        report::check_replaceable("--timeline", path)?;
    }
    if let Some(path) = &observe.trace {
        report::check_replaceable("--trace", path)?;
    }
    Ok(())
}

/// Input `i` as reports and pictures show it (`null` if there is none).
fn shown<T: serde::Serialize>(inputs: &[T], i: usize) -> Value {
    inputs.get(i).map_or(Value::Null, |x| json!(x))
}

/// What a run leaves for its report.
struct Ran<J: Builtin> {
    /// Every input (for a stream, every input read).
    inputs: Vec<J::Input>,
    /// The rows for a human report (none for JSON output, which streams).
    rows: Vec<J::Row>,
    /// The human lines were printed as results came.
    streamed: bool,
    /// The records for the timeline.
    bars: Vec<ItemResult<()>>,
    summary: Summary,
    /// Why a stream of inputs ended early.
    failure: Option<mproc::Error>,
    /// The exit status a `--halt` rule gave, if one fired.
    halted_by: Option<i32>,
}

/// Runs `job` over `inputs` with the command's mode; prints JSON forms,
/// job-log lines and progress as it goes, and returns what the report and
/// the timeline need. Once stdout takes no more (its reader has gone, or a
/// write failed), the pool is stopped. A stream of inputs is pulled as the
/// run goes, keeping only the inputs whose results are outstanding (all
/// of them for a human report, which shows every input).
fn execute<J: Builtin>(
    runner: &Runner,
    job: &J,
    inputs: Inputs<J::Input>,
    cmd: &PoolCommand,
    out: &mut Stdout,
) -> Result<Ran<J>> {
    let observe = &cmd.observe;
    let previous = match &observe.resume {
        Some(path) => Some(Previous::read(path)?),
        None => None,
    };
    let resume_failed = observe.resume_failed;
    let skip = move |input: &J::Input| {
        previous.as_ref().is_some_and(|previous| {
            previous.skips(&J::log_input(input), J::log_seq(input), resume_failed)
        })
    };
    let human = cmd.output == OutputFormat::Human;
    let (inputs, ran, failure) = match inputs {
        Inputs::List(all) => {
            let chosen: Option<Vec<usize>> = observe
                .resume
                .is_some()
                .then(|| (0..all.len()).filter(|&i| !skip(&all[i])).collect());
            let count = chosen.as_ref().map_or(all.len(), Vec::len);
            if let (Some(path), Some(chosen)) = (&observe.resume, &chosen) {
                tracing::info!(
                    "resuming from {}: running {} of {}",
                    path.display(),
                    chosen.len(),
                    report::count(all.len() as u64, "item")
                );
            }
            let feed: Box<dyn Iterator<Item = J::Input> + '_> = match &chosen {
                None => Box::new(all.iter().cloned()),
                Some(chosen) => Box::new(chosen.iter().map(|&i| all[i].clone())),
            };
            let book = Book::List {
                all: &all,
                chosen: chosen.as_deref(),
            };
            let ran = collect::<J>(runner, job, Feed::List(feed), Some(count), book, cmd, out)?;
            (all, ran, None)
        }
        Inputs::Stream(stream) => {
            let (items, failure) = stream.split();
            // The report and the pictures name every input.
            let keep = human || observe.timeline.is_some() || observe.trace.is_some();
            let held = Arc::new(Mutex::new(Held::new(keep)));
            let feed = Held::feed(Arc::clone(&held), items, skip);
            let book = Book::Stream(&held);
            let ran = collect::<J>(
                runner,
                job,
                Feed::Stream(Box::new(feed)),
                None,
                book,
                cmd,
                out,
            )?;
            let held = std::mem::replace(&mut *lock(&held), Held::new(false));
            if let Some(path) = &observe.resume {
                tracing::info!(
                    "resumed from {}: ran {} of the {} read",
                    path.display(),
                    held.next,
                    report::count(held.read as u64, "item")
                );
            }
            (held.seen, ran, failure.take())
        }
    };
    let Gathered {
        rows,
        streamed,
        failures,
        bars,
        summary,
        halted_by,
    } = ran;
    // A reader that went away (`| head`) wanted no more: a quiet end.
    if human && !out.closed() {
        report::log_failures(&failures, |i| shown(&inputs, i));
        if !summary.all_ok() {
            tracing::warn!("{}", summary.line());
        }
    }
    Ok(Ran {
        inputs,
        rows,
        streamed,
        bars,
        summary,
        failure,
        halted_by,
    })
}

/// What [`collect`] gathered.
struct Gathered<J: Builtin> {
    rows: Vec<J::Row>,
    streamed: bool,
    failures: Vec<ItemResult<()>>,
    bars: Vec<ItemResult<()>>,
    summary: Summary,
    halted_by: Option<i32>,
}

/// Runs the job over `feed` and hands each result to a [`Collect`].
fn collect<J: Builtin>(
    runner: &Runner,
    job: &J,
    feed: Feed<'_, J::Input>,
    count: Option<usize>,
    book: Book<'_, J::Input>,
    cmd: &PoolCommand,
    out: &mut Stdout,
) -> Result<Gathered<J>> {
    let start = Instant::now();
    let mut collect = Collect::<J>::new(runner, job, cmd, book, count, out)?;
    // What the parent said before the run comes before the run's output.
    crate::progress::flush_logs();
    // Serial runs have no pool to stop: their inputs end instead. (A
    // pool's list keeps its exact length, which sizes its chunks.)
    let unread = Arc::clone(&collect.unread);
    let feed = match runner {
        Runner::Pool(_) => feed,
        Runner::Serial(_) => Feed::List(Box::new(
            feed.take_while(move |_| !unread.load(Ordering::Relaxed)),
        )),
    };
    run_mode(runner, job, feed, cmd.mode, |r, more| collect.take(r, more))?;
    let Collect {
        mut summary,
        progress,
        log_error,
        lines,
        rows,
        failures,
        bars,
        streamed,
        totals,
        halt,
        ..
    } = collect;
    let halted_by = halt.and_then(|w| w.status());
    // A failure named above the bar is not named again at the end.
    let named = progress.map(Progress::finish).unwrap_or_default();
    let mut failures = failures;
    failures.retain(|r| named.binary_search(&r.index).is_err());
    if let Some(e) = log_error {
        return Err(e);
    }
    summary.elapsed_ms = start.elapsed().as_millis() as u64;
    lines.finish(&summary, totals.map(|t| t.to_json()));
    Ok(Gathered {
        rows,
        streamed,
        failures,
        bars,
        summary,
        halted_by,
    })
}

/// The inputs handed to the pool: a list's, pulled between results, or a
/// stream's, pulled on a thread of their own.
enum Feed<'a, T> {
    List(Box<dyn Iterator<Item = T> + 'a>),
    Stream(Box<dyn Iterator<Item = T> + Send>),
}

impl<T> Iterator for Feed<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        match self {
            Feed::List(inputs) => inputs.next(),
            Feed::Stream(inputs) => inputs.next(),
        }
    }
}

/// Where a result finds its input.
enum Book<'a, T> {
    /// A list; `chosen` maps the pool's indexes to the list's (`--resume`).
    List {
        all: &'a [T],
        chosen: Option<&'a [usize]>,
    },
    /// A stream's inputs as they are read.
    Stream(&'a Mutex<Held<T>>),
}

impl<'a, T: Clone> Book<'a, T> {
    /// The input of the pool's item `index`, with its index among all the
    /// inputs.
    fn take(&self, index: usize) -> Option<(usize, Cow<'a, T>)> {
        match self {
            Book::List { all, chosen } => {
                let i = chosen.map_or(Some(index), |c| c.get(index).copied())?;
                Some((i, Cow::Borrowed(all.get(i)?)))
            }
            Book::Stream(held) => {
                let (i, input) = lock(held).outstanding.remove(&index)?;
                Some((i, Cow::Owned(input)))
            }
        }
    }
}

/// A stream's inputs: those whose results are outstanding, and with
/// `keep` every one read (for a human report).
struct Held<T> {
    keep: bool,
    seen: Vec<T>,
    outstanding: HashMap<usize, (usize, T)>,
    /// Inputs read from the stream.
    read: usize,
    /// Inputs handed to the pool.
    next: usize,
}

impl<T: Clone + Send + 'static> Held<T> {
    fn new(keep: bool) -> Held<T> {
        Held {
            keep,
            seen: Vec::new(),
            outstanding: HashMap::new(),
            read: 0,
            next: 0,
        }
    }

    /// The inputs of `items` that `skip` does not skip, each noted in
    /// `held` as it goes to the pool.
    fn feed(
        held: Arc<Mutex<Held<T>>>,
        items: impl Iterator<Item = T> + Send + 'static,
        skip: impl Fn(&T) -> bool + Send + 'static,
    ) -> impl Iterator<Item = T> + Send + 'static {
        items.filter_map(move |input| {
            let mut held = lock(&held);
            let original = held.read;
            held.read += 1;
            if held.keep {
                held.seen.push(input.clone());
            }
            if skip(&input) {
                return None;
            }
            let index = held.next;
            held.next += 1;
            held.outstanding.insert(index, (original, input.clone()));
            Some(input)
        })
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `job` over `inputs` with the pool method `mode` (or in this
/// process), handing each result to `take` as it comes, with whether
/// more results are ready at once (when none are, buffered output is
/// written before the wait).
fn run_mode<J: Builtin>(
    runner: &Runner,
    job: &J,
    feed: Feed<'_, J::Input>,
    mode: Mode,
    mut take: impl FnMut(ItemResult<J::Output>, bool),
) -> Result<()> {
    let pool = match runner {
        Runner::Serial(serial) => {
            // Each item runs here, between two results: output is written
            // in blocks, at least every `Lines::EVERY` (not a write per
            // item).
            serial.for_each(job, feed, |r| take(r, true));
            return Ok(());
        }
        Runner::Pool(pool) => pool,
    };
    let ordered = match mode {
        // map_async takes every input first, and gives every result at once.
        Mode::Async => {
            let results = pool.map_async(job, feed).get(None)?;
            let last = results.len().saturating_sub(1);
            for (i, r) in results.into_iter().enumerate() {
                take(r, i < last);
            }
            return Ok(());
        }
        // map and imap give the same ordered results; imap streams them.
        Mode::Map | Mode::Imap => true,
        Mode::ImapUnordered => false,
    };
    match (feed, ordered) {
        (Feed::List(inputs), true) => drain(pool.imap(job, inputs), take),
        (Feed::List(inputs), false) => drain(pool.imap_unordered(job, inputs), take),
        (Feed::Stream(inputs), true) => drain(pool.imap_stream(job, inputs), take),
        (Feed::Stream(inputs), false) => drain(pool.imap_unordered_stream(job, inputs), take),
    }
    Ok(())
}

/// Hands each of `results` to `take`, with whether more are ready.
fn drain<J: Builtin, I: Iterator<Item = J::Input>>(
    mut results: mproc::IMap<'_, J, I>,
    mut take: impl FnMut(ItemResult<J::Output>, bool),
) {
    while let Some(r) = results.next() {
        let more = results.has_ready();
        take(r, more);
    }
}

/// Where each result goes as it arrives: the summary, the progress bar,
/// the job log, the JSON output, and what the report, the failure lines
/// and the timeline keep.
struct Collect<'a, J: Builtin> {
    runner: &'a Runner,
    job: &'a J,
    /// `--halt`: when the run stops early, and its exit status then.
    halt: Option<crate::halt::Watch>,
    book: Book<'a, J::Input>,
    human: bool,
    timeline: bool,
    summary: Summary,
    progress: Option<Progress>,
    joblog: Option<JobLog>,
    log_error: Option<mproc::Error>,
    lines: Lines<'a>,
    stopper: Option<mproc::Stopper>,
    /// Set once stdout takes no more (the pool is then stopped, and a
    /// serial run's inputs end).
    unread: Arc<AtomicBool>,
    /// Human lines are printed as results arrive (`imap` modes).
    streams: bool,
    /// Some were.
    streamed: bool,
    rows: Vec<J::Row>,
    failures: Vec<ItemResult<()>>,
    bars: Vec<ItemResult<()>>,
    /// The job's totals, summed for JSON output (a human report sums its rows).
    totals: Option<Box<dyn Totals<J::Output>>>,
}

impl<'a, J: Builtin> Collect<'a, J> {
    fn new(
        runner: &'a Runner,
        job: &'a J,
        cmd: &PoolCommand,
        book: Book<'a, J::Input>,
        count: Option<usize>,
        out: &'a mut Stdout,
    ) -> Result<Self> {
        let epoch = runner.epoch();
        let joblog = match cmd.observe.joblog.as_ref().or(cmd.observe.resume.as_ref()) {
            Some(path) => {
                let (path, format) = crate::joblog::resolve(path, cmd.observe.joblog_format);
                Some(JobLog::open(
                    &path,
                    SystemTime::now() - epoch.elapsed(),
                    format,
                )?)
            }
            None => None,
        };
        let human = cmd.output == OutputFormat::Human;
        Ok(Collect {
            runner,
            job,
            halt: cmd
                .halt
                .map(|rule| crate::halt::Watch::new(rule, count.map(|n| n as u64))),
            book,
            human,
            timeline: cmd.observe.timeline.is_some() || cmd.observe.trace.is_some(),
            summary: Summary {
                processes: runner.processes(),
                ..Summary::default()
            },
            progress: Progress::start(count.map(|n| n as u64), cmd.observe.progress, !human),
            joblog,
            log_error: None,
            lines: Lines::new(cmd.output, out),
            unread: Arc::default(),
            stopper: match runner {
                Runner::Pool(pool) => Some(pool.stopper()),
                Runner::Serial(_) => None,
            },
            streams: human && matches!(cmd.mode, Mode::Imap | Mode::ImapUnordered),
            streamed: false,
            rows: Vec::with_capacity(if human { count.unwrap_or(0) } else { 0 }),
            failures: Vec::new(),
            bars: Vec::new(),
            totals: if human { None } else { J::totals() },
        })
    }

    #[inline]
    fn take(&mut self, mut r: ItemResult<J::Output>, more: bool) {
        let Some((index, input)) = self.book.take(r.index) else {
            // Every result the pool gives is of an input it was handed.
            tracing::error!("a result for item {} that was not handed out", r.index);
            return;
        };
        r.index = index;
        let gnu_log = self.joblog.as_ref().is_some_and(JobLog::is_gnu);
        let exit = if gnu_log || self.halt.is_some() {
            J::exit_of(&r)
        } else {
            None
        };
        self.halt_on(&r, exit);
        let extra = J::arrived(&mut r, &input, self.lines.format);
        self.summary.add(&r);
        if let Some(totals) = self.totals.as_mut() {
            totals.add(&r);
        }
        if let Some(p) = self.progress.as_mut() {
            p.item(&r, || serde_json::to_value(&*input).unwrap_or(Value::Null));
        }
        // Each pool slot's host (none for this machine, or serial).
        let hosts: &[Option<String>] = match self.runner {
            Runner::Pool(pool) => pool.hosts(),
            Runner::Serial(_) => &[],
        };
        if let Some(log) = self.joblog.as_mut() {
            let host = r.worker.and_then(|w| hosts.get(w).cloned().flatten());
            let written = if log.is_gnu() {
                let seq = J::log_seq(&input).unwrap_or(index as u64 + 1);
                let command = self.job.command_line(&input).unwrap_or_default();
                log.record_gnu(&r, seq, exit, &command, host.as_deref())
            } else {
                log.record(&r, &J::log_input(&input), hosts)
            };
            if let Err(e) = written {
                self.log_error.get_or_insert(e);
            }
        }
        if !self.human {
            let shown = serde_json::to_value(&*input).unwrap_or(Value::Null);
            let record = with_extra(report::record(&r, &shown, hosts), extra);
            self.lines.record(&record);
        }
        if self.human && !r.outcome.is_ok() {
            self.failures.push(r.unvalued());
        }
        if self.timeline {
            self.bars.push(r.unvalued());
        }
        // Streamed output keeps nothing, so a long run stays flat in memory.
        if self.human {
            match self.streams.then(|| J::line(&r, &input)).flatten() {
                Some(line) => {
                    self.lines.text(&line);
                    self.streamed = true;
                }
                None => self.rows.push(J::row(r)),
            }
        }
        if !more {
            self.lines.flush();
        }
        self.stop_if_unread();
    }

    /// With `--halt`, counts the result, and stops the items still
    /// running when a `now` rule fires.
    fn halt_on(&mut self, r: &ItemResult<J::Output>, exit: Option<(i32, i32)>) {
        let Some(watch) = self.halt.as_mut() else {
            return;
        };
        if watch.see(r.outcome.is_ok(), exit) && watch.when() == crate::halt::When::Now {
            if let Some(stopper) = &self.stopper {
                stopper.stop("--halt now: its condition was met");
            }
        }
    }

    /// Stops the pool once stdout takes no more: nobody would see the rest.
    fn stop_if_unread(&mut self) {
        let out = &self.lines.out;
        if out.stopped() && !self.unread.swap(true, Ordering::Relaxed) {
            if let Some(stopper) = &self.stopper {
                stopper.stop(if out.closed() {
                    "stdout is closed"
                } else {
                    "cannot write to stdout"
                });
            }
        }
    }
}

/// A JSON record with a job's extra fields added (see `Builtin::arrived`).
fn with_extra(mut record: Value, extra: Option<Map<String, Value>>) -> Value {
    if let (Value::Object(fields), Some(extra)) = (&mut record, extra) {
        for (k, v) in extra {
            fields.entry(k).or_insert(v);
        }
    }
    record
}

/// JSON results written as they come: `--jsonl` one object a line,
/// `--json` one document whose `results` array is streamed (so neither
/// keeps records in memory). Lines are gathered and written in blocks,
/// at least every [`Lines::EVERY`] while results come.
struct Lines<'a> {
    format: OutputFormat,
    out: &'a mut Stdout,
    buf: String,
    records: usize,
    written: Instant,
}

impl<'a> Lines<'a> {
    const EVERY: std::time::Duration = std::time::Duration::from_millis(50);
    const BLOCK: usize = 64 << 10;

    fn new(format: OutputFormat, out: &'a mut Stdout) -> Lines<'a> {
        Lines {
            format,
            out,
            buf: String::new(),
            records: 0,
            written: Instant::now(),
        }
    }

    fn record(&mut self, record: &Value) {
        use std::fmt::Write as _;
        match (self.format, self.records) {
            (OutputFormat::Json, 0) => self.buf.push_str("{\"results\":["),
            (OutputFormat::Json, _) => self.buf.push(','),
            _ => {}
        }
        let _ = write!(self.buf, "{record}");
        if self.format == OutputFormat::Jsonl {
            self.buf.push('\n');
        }
        self.records += 1;
        if self.buf.len() >= Self::BLOCK || self.written.elapsed() >= Self::EVERY {
            self.flush();
        }
    }

    /// Human output: `line` as it is.
    fn text(&mut self, line: &str) {
        self.buf.push_str(line);
        if self.buf.len() >= Self::BLOCK {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.buf.is_empty() {
            self.out.print(&self.buf);
            self.buf.clear();
            self.written = Instant::now();
        }
    }

    /// Ends the output with the summary and the job's totals, if it has
    /// any: `--json` as the document's `summary` and `totals`, `--jsonl`
    /// as one last line `{"summary":...,"totals":...}`.
    fn finish(mut self, summary: &Summary, totals: Option<Value>) {
        let mut end = json!({ "summary": summary });
        if let (Value::Object(end), Some(totals)) = (&mut end, totals) {
            end.insert("totals".into(), totals);
        }
        match self.format {
            OutputFormat::Human => {}
            OutputFormat::Json => {
                if self.records == 0 {
                    self.buf.push_str("{\"results\":[");
                }
                // `end` without its opening brace: the document's last fields.
                let end = end.to_string();
                self.buf.push_str("],");
                self.buf.push_str(&end[1..]);
                self.buf.push('\n');
            }
            OutputFormat::Jsonl => {
                self.buf.push_str(&end.to_string());
                self.buf.push('\n');
            }
        }
        self.flush();
    }
}

/// The worker starts and ends seen so far (this process as the one lane
/// when serial). Read once: the pool hands each event out once.
fn worker_events(runner: &Runner) -> Vec<crate::trace::WorkerEvent> {
    match runner {
        Runner::Pool(pool) => pool.worker_events(),
        Runner::Serial(_) => vec![(0, std::process::id(), std::time::Duration::ZERO, true)],
    }
}

#[cfg(feature = "timeline")]
fn draw_timeline<O>(
    path: &std::path::Path,
    runner: &Runner,
    workers: &[crate::trace::WorkerEvent],
    job: &str,
    results: &[ItemResult<O>],
    summary: &Summary,
    input: &dyn Fn(usize) -> Value,
) -> Result<()> {
    let starts: Vec<(usize, u32, f64)> = workers
        .iter()
        .filter(|e| e.3)
        .map(|&(lane, pid, at, _)| (lane, pid, at.as_secs_f64()))
        .collect();
    let (lanes, hosts) = (runner.lanes(), runner.hosts());
    let title = format!(
        "mproc pool {job}: {} on {} in {:.2} s",
        report::count(summary.total as u64, "item"),
        if summary.processes == 0 {
            "1 thread (serial)".to_string()
        } else {
            report::count(lanes as u64, "process")
        },
        summary.elapsed_ms as f64 / 1000.0
    );
    let text = |i: usize| crate::trace::input_text(&input(i));
    let timeline =
        crate::timeline::Timeline::from_run(&title, lanes, hosts, results, &starts, &text);
    timeline.write_svg(path)
}

/// Writes `--trace`: every attempt as Chrome trace event JSON.
fn write_trace<O>(
    path: &std::path::Path,
    runner: &Runner,
    workers: &[crate::trace::WorkerEvent],
    job: &str,
    results: &[ItemResult<O>],
    input: &dyn Fn(usize) -> Value,
) -> Result<()> {
    let (lanes, hosts) = (runner.lanes(), runner.hosts());
    let run = crate::trace::Run {
        job,
        lanes,
        hosts: &hosts,
        serial: matches!(runner, Runner::Serial(_)),
        workers,
    };
    crate::trace::write(path, &run, results, input)
}
