//! The JSON lines of a run, written as results come.

use std::time::Instant;

use serde_json::{json, Value};

use super::{Stdout, Summary};
use crate::options::OutputFormat;

/// JSON results written as they come: `--jsonl` one object a line,
/// `--json` one document whose `results` array is streamed (so neither
/// keeps records in memory). Lines are gathered and written in blocks,
/// at least every 50 ms while results come.
pub(crate) struct JsonLines<'a> {
    /// Human, `--json` or `--jsonl`.
    pub format: OutputFormat,
    /// Where they go.
    pub out: &'a mut Stdout,
    buf: String,
    records: usize,
    written: Instant,
}

impl<'a> JsonLines<'a> {
    const EVERY: std::time::Duration = std::time::Duration::from_millis(50);
    const BLOCK: usize = 64 << 10;

    /// Lines in `format`, written to `out`.
    pub(crate) fn new(format: OutputFormat, out: &'a mut Stdout) -> JsonLines<'a> {
        JsonLines {
            format,
            out,
            buf: String::new(),
            records: 0,
            written: Instant::now(),
        }
    }

    /// One result's record.
    pub(crate) fn record(&mut self, record: &Value) {
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
    pub(crate) fn text(&mut self, line: &str) {
        self.buf.push_str(line);
        if self.buf.len() >= Self::BLOCK {
            self.flush();
        }
    }

    /// Writes what is gathered.
    pub(crate) fn flush(&mut self) {
        if !self.buf.is_empty() {
            self.out.print(&self.buf);
            self.buf.clear();
            self.written = Instant::now();
        }
    }

    /// Ends the output with the summary and the job's totals, if it has
    /// any: `--json` as the document's `summary` and `totals`, `--jsonl`
    /// as one last line `{"summary":...,"totals":...}`.
    pub(crate) fn finish(mut self, summary: &Summary, totals: Option<Value>) {
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
