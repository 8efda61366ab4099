//! How one item ended: [`Outcome`], with the record around it, [`ItemResult`].
//!
//! Every item submitted to a pool ends with exactly one outcome, never a
//! hang: the job's value, its error, its panic, the crash of its worker, a
//! timeout, or "not run" when the pool stopped before reaching it.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::failure::Failure;

/// How a worker process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exit {
    /// It exited with this status code.
    Code(i32),
    /// It was killed by this signal number.
    Signal(i32),
}

impl Exit {
    /// Python's `Process.exitcode`: the code, or minus the signal number.
    pub fn python_code(self) -> i32 {
        match self {
            Exit::Code(c) => c,
            Exit::Signal(s) => -s,
        }
    }

    /// True for exit code 0.
    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }

    pub(crate) fn from_status(status: std::process::ExitStatus) -> Exit {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => Exit::Code(code),
            (None, Some(sig)) => Exit::Signal(sig),
            (None, None) => Exit::Code(-1),
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Exit::Code(c) => write!(f, "exit code {c}"),
            Exit::Signal(s) => match nix::sys::signal::Signal::try_from(s) {
                Ok(sig) => write!(f, "signal {s} ({})", sig.as_str()),
                Err(_) => write!(f, "signal {s}"),
            },
        }
    }
}

/// The kinds of [`Outcome`], without their data: for counting, and for the
/// names that JSON and job logs use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// [`Outcome::Ok`].
    Ok,
    /// [`Outcome::Failed`].
    Failed,
    /// [`Outcome::Panicked`].
    Panicked,
    /// [`Outcome::Crashed`].
    Crashed,
    /// [`Outcome::TimedOut`].
    TimedOut,
    /// [`Outcome::NotRun`].
    NotRun,
}

impl OutcomeKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [OutcomeKind; 6] = [
        OutcomeKind::Ok,
        OutcomeKind::Failed,
        OutcomeKind::Panicked,
        OutcomeKind::Crashed,
        OutcomeKind::TimedOut,
        OutcomeKind::NotRun,
    ];

    /// `ok`, `failed`, `panicked`, `crashed`, `timed_out` or `not_run`.
    pub fn name(self) -> &'static str {
        match self {
            OutcomeKind::Ok => "ok",
            OutcomeKind::Failed => "failed",
            OutcomeKind::Panicked => "panicked",
            OutcomeKind::Crashed => "crashed",
            OutcomeKind::TimedOut => "timed_out",
            OutcomeKind::NotRun => "not_run",
        }
    }

    /// The kind named `name`, as [`name`](OutcomeKind::name) gives it.
    pub fn from_name(name: &str) -> Option<OutcomeKind> {
        OutcomeKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How one item ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<T> {
    /// The job returned this value.
    Ok(T),
    /// The job returned an error: its message, and any data the job
    /// attached ([`Failure::with_data`]).
    Failed(Failure),
    /// The job panicked.
    Panicked {
        /// The panic message.
        message: String,
        /// `file:line:column` of the panic, when known.
        location: Option<String>,
    },
    /// The worker process running the item died.
    Crashed {
        /// How the worker ended, when it could be reaped.
        exit: Option<Exit>,
        /// Why the parent gave up on it, when it was not a plain exit
        /// (a malformed frame, for example).
        detail: Option<String>,
    },
    /// The item ran past its time limit; its worker was killed.
    TimedOut(Duration),
    /// The item never ran (the pool was terminated, halted or interrupted).
    NotRun(String),
}

impl<T> Outcome<T> {
    /// Which kind of outcome this is, without its data.
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Ok(_) => OutcomeKind::Ok,
            Outcome::Failed(_) => OutcomeKind::Failed,
            Outcome::Panicked { .. } => OutcomeKind::Panicked,
            Outcome::Crashed { .. } => OutcomeKind::Crashed,
            Outcome::TimedOut(_) => OutcomeKind::TimedOut,
            Outcome::NotRun(_) => OutcomeKind::NotRun,
        }
    }

    /// The lowercase name used in JSON and job logs: `ok`, `failed`,
    /// `panicked`, `crashed`, `timed_out`, `not_run`.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// True for [`Outcome::Ok`].
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok(_))
    }

    /// The value, if the job returned one.
    pub fn ok(self) -> Option<T> {
        match self {
            Outcome::Ok(v) => Some(v),
            _ => None,
        }
    }

    /// A reference to the value, if the job returned one.
    pub fn as_ok(&self) -> Option<&T> {
        match self {
            Outcome::Ok(v) => Some(v),
            _ => None,
        }
    }

    /// A one-line description of a non-ok outcome (`None` for ok).
    pub fn error(&self) -> Option<String> {
        Some(match self {
            Outcome::Ok(_) => return None,
            Outcome::Failed(f) => f.message().to_string(),
            Outcome::Panicked { message, location } => match location {
                Some(l) => format!("panicked at {l}: {message}"),
                None => format!("panicked: {message}"),
            },
            Outcome::Crashed { exit, detail } => {
                let mut s = String::from("worker crashed");
                if let Some(e) = exit {
                    s.push_str(&format!(" ({e})"));
                }
                if let Some(d) = detail {
                    s.push_str(&format!(": {d}"));
                }
                s
            }
            Outcome::TimedOut(d) => format!("timed out after {:.3} s", d.as_secs_f64()),
            Outcome::NotRun(why) => format!("not run: {why}"),
        })
    }

    /// The same outcome without its value: for records that keep only how
    /// items ended.
    pub fn unvalued(&self) -> Outcome<()> {
        match self {
            Outcome::Ok(_) => Outcome::Ok(()),
            Outcome::Failed(f) => Outcome::Failed(f.clone()),
            Outcome::Panicked { message, location } => Outcome::Panicked {
                message: message.clone(),
                location: location.clone(),
            },
            Outcome::Crashed { exit, detail } => Outcome::Crashed {
                exit: *exit,
                detail: detail.clone(),
            },
            Outcome::TimedOut(d) => Outcome::TimedOut(*d),
            Outcome::NotRun(w) => Outcome::NotRun(w.clone()),
        }
    }

    /// Converts the value with `f`, keeping any other outcome.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Outcome<U> {
        match self {
            Outcome::Ok(v) => Outcome::Ok(f(v)),
            Outcome::Failed(f) => Outcome::Failed(f),
            Outcome::Panicked { message, location } => Outcome::Panicked { message, location },
            Outcome::Crashed { exit, detail } => Outcome::Crashed { exit, detail },
            Outcome::TimedOut(d) => Outcome::TimedOut(d),
            Outcome::NotRun(w) => Outcome::NotRun(w),
        }
    }
}

/// One earlier attempt of an item that was run again (`retries`): how it
/// ended, and where and when it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// How this attempt ended (never ok: only a failed attempt is retried).
    pub outcome: Outcome<()>,
    /// The pool slot (worker index) that ran it; `None` in [`Serial`](crate::Serial).
    pub worker: Option<usize>,
    /// The pid of the process that ran it.
    pub pid: Option<u32>,
    /// When it started, counted from the pool's start.
    pub started: Option<Duration>,
    /// How long it ran.
    pub elapsed: Duration,
}

/// An item's earlier attempts, oldest first: a slice (it derefs to
/// `[Attempt]`) that takes one word in [`ItemResult`] and allocates
/// nothing when empty, so that results stay small to move.
#[derive(Debug, Clone, Default, PartialEq)]
// One word instead of a Vec's three: a million results move faster (the
// extra allocation is paid only by items that were retried).
#[allow(clippy::box_collection)]
pub struct Attempts(Option<Box<Vec<Attempt>>>);

impl Attempts {
    /// Adds an attempt after the others.
    pub fn push(&mut self, attempt: Attempt) {
        self.0.get_or_insert_with(Box::default).push(attempt);
    }

    /// The attempts, to change in place (a job's hook reads a failure's
    /// data, then lets it go).
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, Attempt> {
        match self.0.as_deref_mut() {
            Some(attempts) => attempts.iter_mut(),
            None => [].iter_mut(),
        }
    }
}

impl std::ops::Deref for Attempts {
    type Target = [Attempt];

    fn deref(&self) -> &[Attempt] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl<'a> IntoIterator for &'a Attempts {
    type Item = &'a Attempt;
    type IntoIter = std::slice::Iter<'a, Attempt>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl From<Vec<Attempt>> for Attempts {
    fn from(attempts: Vec<Attempt>) -> Attempts {
        Attempts((!attempts.is_empty()).then(|| Box::new(attempts)))
    }
}

/// One item's outcome and where and when it ran.
#[derive(Debug, Clone)]
pub struct ItemResult<T> {
    /// The item's position in the input (0-based).
    pub index: usize,
    /// How it ended.
    pub outcome: Outcome<T>,
    /// The pool slot (worker index) of its last attempt, if it ran.
    pub worker: Option<usize>,
    /// The pid of the process that ran its last attempt, if it ran.
    pub pid: Option<u32>,
    /// How many times it was started (1 unless retried; 0 if never run).
    pub attempts: u32,
    /// When its last attempt started, counted from the pool's start.
    pub started: Option<Duration>,
    /// How long its last attempt ran.
    pub elapsed: Duration,
    /// Its earlier attempts, oldest first, each one that ended with an
    /// outcome and was retried (empty, with no allocation, when the first
    /// attempt was the last). `attempts` can be larger: an attempt whose
    /// worker died before sending its finished result has no outcome, and
    /// runs again without a record here.
    pub earlier: Attempts,
}

impl<T> ItemResult<T> {
    /// Converts the value with `f`, keeping the record.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> ItemResult<U> {
        self.map_outcome(|o| o.map(f))
    }

    /// The same record without the value: for keeping how items ended
    /// (failure lines, a timeline) without keeping their outputs.
    pub fn unvalued(&self) -> ItemResult<()> {
        ItemResult {
            index: self.index,
            outcome: self.outcome.unvalued(),
            worker: self.worker,
            pid: self.pid,
            attempts: self.attempts,
            started: self.started,
            elapsed: self.elapsed,
            earlier: self.earlier.clone(),
        }
    }

    /// Converts the outcome with `f`, keeping the record.
    pub fn map_outcome<U>(self, f: impl FnOnce(Outcome<T>) -> Outcome<U>) -> ItemResult<U> {
        ItemResult {
            index: self.index,
            outcome: f(self.outcome),
            worker: self.worker,
            pid: self.pid,
            attempts: self.attempts,
            started: self.started,
            elapsed: self.elapsed,
            earlier: self.earlier,
        }
    }

    /// Every attempt, oldest first, the last one included: the earlier
    /// ones, then this record's own.
    pub fn every_attempt(&self) -> impl Iterator<Item = Attempt> + '_ {
        let last = Attempt {
            outcome: self.outcome.unvalued(),
            worker: self.worker,
            pid: self.pid,
            started: self.started,
            elapsed: self.elapsed,
        };
        self.earlier.iter().cloned().chain(std::iter::once(last))
    }

    /// The record of an item that never ran, for `why`.
    pub fn not_run(index: usize, why: &str) -> Self {
        ItemResult {
            index,
            outcome: Outcome::NotRun(why.to_string()),
            worker: None,
            pid: None,
            attempts: 0,
            started: None,
            elapsed: Duration::ZERO,
            earlier: Attempts::default(),
        }
    }
}

/// Python's `map` semantics over mproc results: every value in order, or an
/// error naming the first item that was not ok.
pub fn values<T>(results: Vec<ItemResult<T>>) -> crate::Result<Vec<T>> {
    let mut out = Vec::with_capacity(results.len());
    for r in results {
        let err = r.outcome.error();
        match r.outcome.ok() {
            Some(v) => out.push(v),
            None => {
                return Err(crate::Error::new(
                    crate::ErrorKind::Item,
                    format!("item {} was not ok: {}", r.index, err.unwrap_or_default()),
                ))
            }
        }
    }
    Ok(out)
}
