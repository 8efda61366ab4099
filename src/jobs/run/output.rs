//! A command's output on its way to the user: carried as a failure's
//! typed data when the command failed (never inside its message), as JSON
//! fields (`exit_code`, `signal`, `stdout`, `stderr`, cut at [`JSON_MAX`]),
//! and printed whole per item.

use std::sync::atomic::{AtomicBool, Ordering};

use serde::de::Deserializer;
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::child::Captured;
use super::{signal_name, RunInput, RunOutput};

/// Bytes of each of stdout and stderr that a JSON record carries; past
/// this the text is cut and ends with a marker.
pub(crate) const JSON_MAX: usize = 1 << 20;

impl Serialize for RunOutput {
    /// In JSON: `exit_code`, `signal` (its name), `stdout`, `stderr` (text,
    /// cut at [`JSON_MAX`] with a marker); between processes, everything.
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if !s.is_human_readable() {
            return (
                self.exit_code,
                self.signal,
                &self.stdout,
                &self.stderr,
                self.gnu_exit,
            )
                .serialize(s);
        }
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("exit_code", &self.exit_code)?;
        map.serialize_entry("signal", &self.signal.map(signal_name))?;
        map.serialize_entry("stdout", &json_text(&self.stdout))?;
        map.serialize_entry("stderr", &json_text(&self.stderr))?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for RunOutput {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let (exit_code, signal, stdout, stderr, gnu_exit) = Deserialize::deserialize(d)?;
        Ok(RunOutput {
            exit_code,
            signal,
            stdout,
            stderr,
            gnu_exit,
        })
    }
}

/// A stream as JSON text: at most [`JSON_MAX`] bytes, then a marker.
fn json_text(c: &Captured) -> String {
    let head = c.head(JSON_MAX);
    let mut text = String::from_utf8_lossy(&head).into_owned();
    if (head.len() as u64) < c.len {
        text.push_str(&format!(
            "\n[mproc: cut at {} of {} bytes]",
            head.len(),
            c.len
        ));
    }
    text
}

impl RunOutput {
    /// Finds the spool files of item `seq`'s streams in `dir` (or this
    /// process's run folder): see [`Captured::resolve`].
    pub(super) fn resolve(
        &mut self,
        dir: Option<&std::path::Path>,
        seq: u64,
    ) -> Result<(), String> {
        let out = self.stdout.resolve(dir, seq);
        let err = self.stderr.resolve(dir, seq);
        out.and(err)
    }

    /// Lets both streams go, removing their spool files.
    pub(super) fn release(&mut self) {
        self.stdout.release();
        self.stderr.release();
    }

    /// Keeps only what a JSON record shows, and removes spool files.
    pub(super) fn keep_for_json(&mut self) {
        for c in [&mut self.stdout, &mut self.stderr] {
            let head = c.head(JSON_MAX);
            c.release();
            c.bytes = head;
        }
    }

    /// Prints stdout whole, logs stderr line by line, then lets both go.
    pub(super) fn show(&mut self, index: usize, input: &RunInput) {
        print_stdout(&self.stdout);
        if self.stderr.len > 0 {
            let text = json_text(&self.stderr);
            let name = short(&input.arg);
            for line in text.lines() {
                tracing::info!(target: crate::logging::OUTPUT_TARGET, "item {index} ({name}): {line}");
            }
        }
        self.stdout.release();
        self.stderr.release();
    }

    pub(super) fn json_fields(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(fields)) => fields,
            _ => Map::new(),
        }
    }
}

/// An input for a log line: its text, cut at 60 characters.
fn short(arg: &[u8]) -> String {
    let text = String::from_utf8_lossy(arg);
    match text.char_indices().nth(60) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.into_owned(),
    }
}

/// Set once stdout's reader is gone (`mproc run ... | head`).
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

fn print_stdout(c: &Captured) {
    if c.len == 0 || STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    if let Err(e) = crate::progress::to_stdout(|out| c.copy_to(out)) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            crate::report::reader_gone();
        } else {
            tracing::error!("cannot write to stdout: {e}");
        }
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
}
