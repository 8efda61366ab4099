//! `mproc process`: start one child, join it, print its exit code, and
//! show that what the child changes stays in the child.

use std::fmt::Write as _;

use super::Status;
use crate::jobs::{Chaos, Isolation};
use crate::options::ProcessDemo;
use crate::report::Stdout;
use mproc::Outcome;
use mproc::Process;
use mproc::Result;

pub(super) fn run(demo: ProcessDemo) -> Result<Status> {
    let mut out = Stdout::default();
    let mut text = String::new();
    let parent = std::process::id();
    let _ = writeln!(text, "parent pid {parent}");

    let action = match (demo.exit_code, demo.crash) {
        (Some(code), _) => format!("exit:{code}"),
        (None, true) => "segv".to_string(),
        (None, false) => "ok:hello from the child".to_string(),
    };
    let mut child = match &demo.program {
        Some(p) => Process::start_program(p, &Chaos, action)?,
        None => Process::start(&Chaos, action)?,
    };
    let _ = writeln!(text, "child pid {} started", child.pid());
    let exit = child.join(None);
    match child.outcome() {
        Some(Outcome::Ok(v)) => {
            let _ = writeln!(text, "child said: {}", v.value);
        }
        Some(other) => {
            let _ = writeln!(text, "child's job: {}", other.error().unwrap_or_default());
        }
        None => {}
    }
    let code = exit.map_or("none".to_string(), |e| e.python_code().to_string());
    let how = exit.map_or("unknown".to_string(), |e| e.to_string());
    let _ = writeln!(text, "child exit code {code} ({how})");
    let _ = writeln!(text, "parent pid {parent} is still running");

    // Isolation: the child gets a copy of the list and changes its copy.
    let numbers = vec![1, 2, 3];
    let mut iso = match &demo.program {
        Some(p) => Process::start_program(p, &Isolation, numbers.clone())?,
        None => Process::start(&Isolation, numbers.clone())?,
    };
    iso.join(None);
    if let Some(Outcome::Ok(seen)) = iso.outcome() {
        let _ = writeln!(
            text,
            "isolation: child {} appended 4 and sees {:?}",
            seen.pid, seen.numbers
        );
    }
    let _ = writeln!(text, "isolation: parent {parent} still sees {numbers:?}");
    out.print(&text);
    out.finish()?;
    Ok(Status::OK)
}
