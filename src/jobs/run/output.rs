//! A command's output on its way to the user: carried inside a failure
//! message when the command failed, as JSON fields (`exit_code`, `signal`,
//! `stdout`, `stderr`, cut at [`JSON_MAX`]), and printed whole per item.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::de::Deserializer;
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::child::Captured;
use super::{signal_name, RunInput, RunOutput};

/// Bytes of each of stdout and stderr that a JSON record carries; past
/// this the text is cut and ends with a marker.
pub const JSON_MAX: usize = 1 << 20;

/// Separates a failure's headline from the output it carries to the parent.
const MARK: char = '\u{1f}';

/// A failure's message: the headline, then the output as JSON, which
/// [`decode_failure`] takes off again in the parent.
pub(super) fn encode_failure(headline: &str, output: &RunOutput) -> String {
    let payload = (
        output.exit_code,
        output.signal,
        Hex(&output.stdout),
        Hex(&output.stderr),
    );
    match serde_json::to_string(&payload) {
        Ok(json) => format!("{headline}{MARK}{json}"),
        Err(_) => headline.to_string(),
    }
}

/// The headline (with anything the pool appended after the output, such
/// as ` (on host2)`) and the output, from an [`encode_failure`] message.
pub(super) fn decode_failure(message: &str) -> Option<(String, RunOutput)> {
    let (headline, rest) = message.split_once(MARK)?;
    let mut values = serde_json::Deserializer::from_str(rest).into_iter::<FailPayload>();
    let payload = values.next()?.ok()?;
    let suffix = &rest[values.byte_offset()..];
    let (exit_code, signal, stdout, stderr) = payload;
    Some((
        format!("{headline}{suffix}"),
        RunOutput {
            exit_code,
            signal,
            stdout: stdout.0,
            stderr: stderr.0,
        },
    ))
}

type FailPayload = (Option<i32>, Option<i32>, Owned, Owned);

/// A captured stream inside a failure message, its bytes as hex.
struct Hex<'a>(&'a Captured);
struct Owned(Captured);

impl Serialize for Hex<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let hex: String = self.0.bytes.iter().map(|b| format!("{b:02x}")).collect();
        (hex, &self.0.spooled, self.0.len).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Owned {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let (hex, spooled, len) = <(String, Option<PathBuf>, u64)>::deserialize(d)?;
        let bytes = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16))
            .collect::<std::result::Result<Vec<u8>, _>>()
            .map_err(serde::de::Error::custom)?;
        Ok(Owned(Captured {
            bytes,
            spooled,
            len,
        }))
    }
}

impl Serialize for RunOutput {
    /// In JSON: `exit_code`, `signal` (its name), `stdout`, `stderr` (text,
    /// cut at [`JSON_MAX`] with a marker); between processes, everything.
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if !s.is_human_readable() {
            return (self.exit_code, self.signal, &self.stdout, &self.stderr).serialize(s);
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
        let (exit_code, signal, stdout, stderr) = Deserialize::deserialize(d)?;
        Ok(RunOutput {
            exit_code,
            signal,
            stdout,
            stderr,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_carries_its_output_past_the_pools_suffix() {
        let output = RunOutput {
            exit_code: Some(3),
            signal: None,
            stdout: Captured {
                bytes: vec![0, 255, b'\n'],
                spooled: None,
                len: 3,
            },
            stderr: Captured::default(),
        };
        let message = format!("{} (on host2)", encode_failure("exit 3", &output));
        let (headline, back) = decode_failure(&message).unwrap();
        assert_eq!(headline, "exit 3 (on host2)");
        assert_eq!(back, output);
        assert!(decode_failure("exit 3").is_none());
    }
}
