//! Where each result goes as it arrives: the summary, the progress bar,
//! the job log, the JSON lines, `--halt`, and what the report, the failure
//! lines and the pictures keep.

use std::time::SystemTime;

use mproc::{ItemResult, Result, Runner};
use serde_json::{Map, Value};

use super::inputs::Lookup;
use crate::joblog::JobLog;
use crate::jobs::{Builtin, Totals};
use crate::options::{Mode, OutputFormat, PoolCommand};
use crate::progress::Progress;
use crate::report::{self, JsonLines, Stdout, Summary};

/// Where each result goes as it arrives: the summary, the progress bar,
/// the job log, the JSON output, and what the report, the failure lines
/// and the timeline keep.
pub(super) struct ResultSink<'a, J: Builtin> {
    pub(super) runner: &'a Runner,
    pub(super) job: &'a J,
    /// `--halt`: when the run stops early, and its exit status then.
    pub(super) halt: Option<crate::halt::Watch>,
    pub(super) book: Lookup<'a, J::Input>,
    pub(super) human: bool,
    pub(super) timeline: bool,
    pub(super) summary: Summary,
    pub(super) progress: Option<Progress>,
    pub(super) joblog: Option<JobLog>,
    pub(super) log_error: Option<mproc::Error>,
    pub(super) lines: JsonLines<'a>,
    pub(super) stopper: mproc::Stopper,
    /// Set once stdout takes no more (the run is then stopped).
    pub(super) unread: bool,
    /// Human lines are printed as results arrive (`imap` modes).
    pub(super) streams: bool,
    /// Some were.
    pub(super) streamed: bool,
    pub(super) rows: Vec<J::Row>,
    pub(super) failures: Vec<ItemResult<()>>,
    pub(super) bars: Vec<ItemResult<()>>,
    /// The job's totals, summed for JSON output (a human report sums its rows).
    pub(super) totals: Option<Box<dyn Totals<J::Output>>>,
    /// An ok result needs only counting and its row (see
    /// [`Builtin::VALUE_ROW`]).
    pub(super) plain: bool,
}

impl<'a, J: Builtin> ResultSink<'a, J> {
    pub(super) fn new(
        runner: &'a Runner,
        job: &'a J,
        cmd: &PoolCommand,
        book: Lookup<'a, J::Input>,
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
        let streams = human && matches!(cmd.mode, Mode::Imap | Mode::ImapUnordered);
        let timeline = cmd.observe.timeline.is_some() || cmd.observe.trace.is_some();
        let progress = Progress::start(count.map(|n| n as u64), cmd.observe.progress, !human);
        let plain = J::VALUE_ROW.is_some()
            && human
            && !streams
            && !timeline
            && progress.is_none()
            && joblog.is_none()
            && cmd.halt.is_none()
            && matches!(book, Lookup::List { .. });
        Ok(ResultSink {
            runner,
            job,
            halt: cmd
                .halt
                .map(|rule| crate::halt::Watch::new(rule, count.map(|n| n as u64))),
            book,
            human,
            timeline,
            summary: Summary {
                processes: runner.processes(),
                ..Summary::default()
            },
            progress,
            joblog,
            log_error: None,
            lines: JsonLines::new(cmd.output, out),
            unread: false,
            stopper: runner.stopper(),
            streams,
            streamed: false,
            rows: Vec::with_capacity(if human { count.unwrap_or(0) } else { 0 }),
            failures: Vec::new(),
            bars: Vec::new(),
            totals: if human { None } else { J::totals() },
            plain,
        })
    }

    /// Takes one result: an ok one of a plain run is counted and kept as
    /// its row; every other goes through [`ResultSink::take_each`].
    #[inline(always)]
    pub(super) fn take(&mut self, r: ItemResult<J::Output>, more: bool) {
        if self.plain && r.outcome.is_ok() {
            self.rows.push(J::row(r));
            self.took_values(1, more);
            return;
        }
        self.take_each(r, more);
    }

    /// Counts `n` ok results kept as their rows (by the caller, when taken
    /// in bulk), with whether more results are ready.
    #[inline(always)]
    pub(super) fn took_values(&mut self, n: usize, more: bool) {
        self.summary.total += n;
        self.summary.ok += n;
        if !more {
            self.lines.flush();
            self.stop_if_unread();
        }
    }

    /// Sees one result with everything that watches results.
    fn take_each(&mut self, mut r: ItemResult<J::Output>, more: bool) {
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
        let hosts = self.runner.hosts();
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
            self.stopper.stop("--halt now: its condition was met");
        }
    }

    /// Stops the pool once stdout takes no more: nobody would see the rest.
    fn stop_if_unread(&mut self) {
        let out = &self.lines.out;
        if out.stopped() && !std::mem::replace(&mut self.unread, true) {
            self.stopper.stop(if out.closed() {
                "stdout is closed"
            } else {
                "cannot write to stdout"
            });
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
