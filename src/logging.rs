//! The parent's log sink, and the bridge that re-emits worker events into it.
//!
//! One subscriber in the parent shows every process's lines in order of
//! arrival. Worker events arrive as [`LogRecord`] frames and are re-emitted
//! here with `worker` (pool index) and `pid` fields; a job's prints arrive
//! through the worker's stderr and are re-emitted as `mproc::output` events.
//! Workers filter with the same directive as the parent, which is passed to
//! them in their configure frame ([`worker_filter`]).

use std::fmt::{self, Write as _};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

use crate::error::{Error, Result};
use crate::protocol::LogRecord;

/// The target of re-emitted worker events.
pub const WORKER_TARGET: &str = "mproc::worker";
/// The target of lines a job printed.
pub const OUTPUT_TARGET: &str = "mproc::output";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// `LEVEL [who] message key=value`.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Settings of the parent's log sink.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// A `tracing` filter directive; `None` means `RUST_LOG`, else `info`.
    pub filter: Option<String>,
    /// Text or JSON lines.
    pub format: LogFormat,
    /// Write to this file instead of stderr.
    pub file: Option<PathBuf>,
}

static FILTER: OnceLock<String> = OnceLock::new();

/// The filter directive workers apply to their own events.
pub fn worker_filter() -> String {
    FILTER
        .get()
        .cloned()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "info".into())
}

/// Installs the parent's log sink. Call once, early; a second call is
/// ignored (the first sink stays).
pub fn init(options: &LogOptions) -> Result<()> {
    let directive = options
        .filter
        .clone()
        .or_else(|| std::env::var("RUST_LOG").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "info".into());
    let parent_filter = EnvFilter::try_new(format!("{directive},{WORKER_TARGET}=trace"))
        .map_err(|e| Error::usage(format!("invalid log filter '{directive}': {e}")))?;
    let _ = FILTER.set(directive);
    let format = LineFormat(options.format);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(parent_filter)
        .event_format(format);
    let result = match &options.file {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| Error::io(format!("cannot open --log-file {}", path.display()), e))?;
            builder.with_writer(Mutex::new(file)).try_init()
        }
        None => builder.with_writer(crate::progress::LogWriter).try_init(),
    };
    drop(result);
    Ok(())
}

/// Re-emits one worker event into this process's subscriber.
pub(crate) fn emit_worker(worker: usize, pid: u32, rec: &LogRecord) {
    macro_rules! emit {
        ($level:expr) => {
            tracing::event!(target: "mproc::worker", $level, worker, pid, origin = rec.target.as_str(), "{}", rec.message)
        };
    }
    match rec.level {
        1 => emit!(Level::ERROR),
        2 => emit!(Level::WARN),
        3 => emit!(Level::INFO),
        4 => emit!(Level::DEBUG),
        _ => emit!(Level::TRACE),
    }
}

/// Re-emits one line a job printed (on stdout or stderr) in a worker. A
/// program without a `tracing` subscriber still sees it, on stderr, as a
/// Python child's prints reach the terminal.
pub(crate) fn emit_output(worker: usize, pid: u32, line: &str) {
    if tracing::dispatcher::has_been_set() {
        tracing::info!(target: "mproc::output", worker, pid, "{line}");
    } else {
        use std::io::Write;
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

/// The level number a [`LogRecord`] carries.
pub(crate) fn level_number(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

/// Collects an event's fields: the message, `worker`, `pid`, and the rest.
#[derive(Default)]
pub(crate) struct Fields {
    pub message: String,
    pub worker: Option<u64>,
    pub pid: Option<u64>,
    pub origin: Option<String>,
    pub rest: Vec<(&'static str, String)>,
}

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "worker" => self.worker = Some(value),
            "pid" => self.pid = Some(value),
            name => self.rest.push((name, value.to_string())),
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        match (field.name(), u64::try_from(value)) {
            ("worker", Ok(v)) => self.worker = Some(v),
            ("pid", Ok(v)) => self.pid = Some(v),
            (name, _) => self.rest.push((name, value.to_string())),
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_string(),
            "origin" => self.origin = Some(value.to_string()),
            name => self.rest.push((name, value.to_string())),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "origin" => self.origin = Some(format!("{value:?}")),
            name => self.rest.push((name, format!("{value:?}"))),
        }
    }
}

impl Fields {
    /// The message followed by ` key=value` for the other fields.
    pub(crate) fn flat(&self) -> String {
        let mut s = self.message.clone();
        for (k, v) in &self.rest {
            let _ = write!(s, " {k}={v}");
        }
        s
    }
}

struct LineFormat(LogFormat);

impl<S, N> FormatEvent<S, N> for LineFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut f = Fields::default();
        event.record(&mut f);
        let meta = event.metadata();
        let (role, pid) = match (f.worker, f.pid) {
            (Some(_), Some(pid)) => ("worker", pid),
            _ => ("parent", u64::from(std::process::id())),
        };
        match self.0 {
            LogFormat::Text => {
                write!(w, "{:>5} ", meta.level())?;
                match f.worker {
                    Some(worker) if role == "worker" => write!(w, "[worker {worker} pid {pid}] ")?,
                    _ => write!(w, "[parent] ")?,
                }
                writeln!(w, "{}", f.flat())
            }
            LogFormat::Json => {
                let mut obj = serde_json::Map::new();
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                obj.insert("time".into(), serde_json::json!(now.as_secs_f64()));
                obj.insert("level".into(), meta.level().as_str().into());
                obj.insert("role".into(), role.into());
                if role == "worker" {
                    obj.insert("worker".into(), f.worker.into());
                }
                obj.insert("pid".into(), pid.into());
                let target = f
                    .origin
                    .clone()
                    .unwrap_or_else(|| meta.target().to_string());
                obj.insert("target".into(), target.into());
                obj.insert("message".into(), f.message.clone().into());
                for (k, v) in &f.rest {
                    obj.insert((*k).into(), v.clone().into());
                }
                writeln!(w, "{}", serde_json::Value::Object(obj))
            }
        }
    }
}
