//! The test jobs: small, and each doing one thing a test needs.

use serde::{Deserialize, Serialize};

use mproc::{Job, JobError};

/// `x * x`.
#[derive(Serialize, Deserialize)]
pub struct Square;

impl Job for Square {
    const NAME: &'static str = "square";
    type Input = u64;
    type Output = u64;

    fn run(&self, x: u64) -> Result<u64, JobError> {
        x.checked_mul(x)
            .ok_or_else(|| format!("{x} squared does not fit").into())
    }
}

/// One scripted action per item: `ok:TEXT`, `sleep:MS`, `fail:TEXT`,
/// `data:TEXT` (fails carrying data), `panic:TEXT`, `kill` (SIGKILL its process), `hang:FILE` (writes its pid
/// to FILE, then sleeps for ever).
#[derive(Serialize, Deserialize)]
pub struct Act;

impl Job for Act {
    const NAME: &'static str = "act";
    type Input = String;
    type Output = String;

    fn run(&self, action: String) -> Result<String, JobError> {
        let (name, arg) = action.split_once(':').unwrap_or((action.as_str(), ""));
        match name {
            "ok" => Ok(arg.to_string()),
            "sleep" => {
                let ms: u64 = arg.parse()?;
                std::thread::sleep(std::time::Duration::from_millis(ms));
                Ok(format!("slept {ms} ms"))
            }
            "fail" => Err(arg.into()),
            // A failure whose message is the text and whose data is the
            // text again with its length, typed.
            "data" => Err(mproc::Failure::new(arg)
                .with_data(&(arg.to_string(), arg.len() as u64))?
                .into()),
            "panic" => panic!("{arg}"),
            "kill" => {
                let _ = nix_kill();
                unreachable!("killed")
            }
            "hang" => {
                if !arg.is_empty() {
                    let tmp = format!("{arg}.tmp");
                    std::fs::write(&tmp, std::process::id().to_string())?;
                    std::fs::rename(&tmp, arg)?;
                }
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(3600));
                }
            }
            other => Err(format!("unknown action {other}").into()),
        }
    }
}

fn nix_kill() -> std::io::Result<()> {
    std::process::Command::new("kill")
        .args(["-KILL", &std::process::id().to_string()])
        .status()
        .map(drop)
}
