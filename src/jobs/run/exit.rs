//! How a job ended, as GNU parallel's job log records it (`Exitval`,
//! `Signal`) and as its exit status counts it: read from a result in the
//! parent, before [`super::Builtin::arrived`] rewords a failure.

use mproc::{ItemResult, Outcome};

use super::output::decode_failure;
use super::RunOutput;

/// `(Exitval, Signal)` of a job that ran: its exit code and 0, or 0 and
/// the signal that killed it; `-1` and 15 when it ran out of
/// `--timeout` (as GNU parallel writes it); 127 and 126 when its program
/// was not found or not executable (as a shell exits). `None` for a job
/// that never ran.
pub fn exit_of(result: &ItemResult<RunOutput>) -> Option<(i32, i32)> {
    match &result.outcome {
        Outcome::Ok(output) => Some(pair(output)),
        Outcome::Failed(message) => Some(match decode_failure(message) {
            Some((headline, _)) if headline.starts_with("timed out after") => (-1, 15),
            Some((_, output)) => pair(&output),
            None if message.starts_with("command not found") => (127, 0),
            None if message.starts_with("permission denied") => (126, 0),
            None => (-1, 0),
        }),
        Outcome::NotRun(_) => None,
        _ => Some((-1, 0)),
    }
}

fn pair(output: &RunOutput) -> (i32, i32) {
    match (output.exit_code, output.signal) {
        (_, Some(sig)) => (0, sig),
        (Some(code), None) => (code, 0),
        (None, None) => (-1, 0),
    }
}
