//! Values typed on the command line that several modules parse alike (a
//! leaf: it imports nothing of the crate, so the CLI and the jobs' own
//! argument structs can both use it).

use std::time::Duration;

/// The longest time limit a flag takes: a year.
const MAX_SECONDS: f64 = 366.0 * 24.0 * 3600.0;

/// A positive number of seconds, at most [`MAX_SECONDS`].
pub(crate) fn seconds(s: &str) -> std::result::Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= MAX_SECONDS => Ok(Duration::from_secs_f64(v)),
        Ok(v) if v > MAX_SECONDS => Err(format!(
            "'{s}' seconds is over the limit of {MAX_SECONDS} (a year)"
        )),
        _ => Err(format!("'{s}' is not a positive number of seconds")),
    }
}
