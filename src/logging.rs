//! The parent's log sink: one `tracing` subscriber that shows every
//! process's lines in order of arrival, as text or JSON lines, on stderr
//! (above the progress bar) or in a file.
//!
//! Worker events reach it through the core's log bridge
//! ([`mproc::log_bridge`]), with `worker` and `pid` fields. Workers filter
//! with the same directive as the parent ([`LogOptions::directive`]), which
//! the pool settings carry to them.
//!
//! Every write to a `--log-file` is checked: the first one that fails (a
//! full disk, `/dev/full`) is remembered with a count of the lines lost
//! from then on, and [`lost`] turns that into the one line the run ends
//! with, and a nonzero exit.

use std::fmt::{self, Write as _};
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

use mproc::{Error, Result};

/// The target of re-emitted worker events.
pub(crate) const WORKER_TARGET: &str = "mproc::worker";
/// The target of lines a job printed.
pub(crate) const OUTPUT_TARGET: &str = "mproc::output";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum LogFormat {
    /// `LEVEL [who] message key=value`.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Settings of the parent's log sink.
#[derive(Debug, Clone, Default)]
pub(crate) struct LogOptions {
    /// A `tracing` filter directive; `None` means `RUST_LOG`, else `info`.
    pub filter: Option<String>,
    /// Text or JSON lines.
    pub format: LogFormat,
    /// Write to this file instead of stderr.
    pub file: Option<PathBuf>,
}

impl LogOptions {
    /// The filter directive: `filter`, else `RUST_LOG`, else `info`.
    pub(crate) fn directive(&self) -> String {
        self.filter
            .clone()
            .or_else(|| std::env::var("RUST_LOG").ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| "info".into())
    }
}

/// Installs the parent's log sink. Call once, early; a second call is
/// ignored (the first sink stays).
pub(crate) fn init(options: &LogOptions) -> Result<()> {
    let directive = options.directive();
    mproc::log_bridge::set_default_filter(directive.clone());
    let parent_filter = EnvFilter::try_new(format!("{directive},{WORKER_TARGET}=trace"))
        .map_err(|e| Error::usage(format!("invalid log filter '{directive}': {e}")))?;
    let format = LineFormat(options.format);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(parent_filter)
        .log_internal_errors(false)
        .event_format(format);
    let result = match &options.file {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| Error::io(format!("cannot open --log-file {}", path.display()), e))?;
            let sink = LOG_FILE.get_or_init(|| LogFile::new(path, file));
            builder.with_writer(sink).try_init()
        }
        None => builder.with_writer(crate::progress::LogWriter).try_init(),
    };
    drop(result);
    Ok(())
}

/// The `--log-file` of this process, once opened.
static LOG_FILE: OnceLock<LogFile> = OnceLock::new();

/// What a `--log-file` that could not be written lost, as the one line the
/// run ends with (`None` when every line was written, or there is no file).
pub(crate) fn lost() -> Option<String> {
    let sink = LOG_FILE.get()?;
    let state = sink.state.lock().unwrap_or_else(|e| e.into_inner());
    let (error, lines) = state.failed.as_ref()?;
    Some(format!(
        "cannot write --log-file {}: {error}: {} lost (the log is incomplete)",
        sink.path.display(),
        crate::report::count(*lines, "log line"),
    ))
}

/// A log file whose writes are checked: after the first failure, each line
/// is still tried (a disk may get space back) and counted if it is lost.
struct LogFile {
    path: PathBuf,
    state: Mutex<FileState>,
}

struct FileState {
    file: File,
    /// The first write error, and the lines lost since.
    failed: Option<(String, u64)>,
}

impl LogFile {
    fn new(path: &Path, file: File) -> LogFile {
        LogFile {
            path: path.to_path_buf(),
            state: Mutex::new(FileState { file, failed: None }),
        }
    }
}

/// One event's line, written whole when it is dropped.
struct FileLine<'a>(&'a LogFile, Vec<u8>);

impl Write for FileLine<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.1.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for FileLine<'_> {
    fn drop(&mut self) {
        if self.1.is_empty() {
            return;
        }
        let mut state = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = state.file.write_all(&self.1) {
            let lines = self.1.iter().filter(|&&b| b == b'\n').count().max(1) as u64;
            match &mut state.failed {
                Some((_, lost)) => *lost += lines,
                None => state.failed = Some((crate::errors::io_message(&e), lines)),
            }
        }
    }
}

impl<'a> MakeWriter<'a> for &'static LogFile {
    type Writer = FileLine<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        FileLine(self, Vec::with_capacity(128))
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
                // One event, one line: a name cannot forge another line.
                writeln!(w, "{}", crate::report::escaped(&f.flat()))
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
