//! How a job ended, as GNU parallel's job log records it (`Exitval`,
//! `Signal`) and as its exit status counts it: read from a result in the
//! parent, from the typed output a failure carries (never its message),
//! before [`super::Builtin::arrived`] lets that output go.

use mproc::{ItemResult, Outcome};

use super::RunOutput;

/// `(Exitval, Signal)` of a job that ran: its exit code and 0, or 0 and
/// the signal that killed it; `-1` and 15 when it ran out of
/// `--timeout` (as GNU parallel writes it); 127 and 126 when its program
/// was not found or not executable (as a shell exits). `None` for a job
/// that never ran.
pub(super) fn exit_of(result: &ItemResult<RunOutput>) -> Option<(i32, i32)> {
    match &result.outcome {
        Outcome::Ok(output) => Some(pair(output)),
        Outcome::Failed(failure) => Some(match failure.data::<RunOutput>() {
            Some(Ok(output)) => pair(&output),
            _ => (-1, 0),
        }),
        Outcome::NotRun(_) => None,
        _ => Some((-1, 0)),
    }
}

fn pair(output: &RunOutput) -> (i32, i32) {
    if let Some(gnu) = output.gnu_exit {
        return gnu;
    }
    match (output.exit_code, output.signal) {
        (_, Some(sig)) => (0, sig),
        (Some(code), None) => (code, 0),
        (None, None) => (-1, 0),
    }
}
