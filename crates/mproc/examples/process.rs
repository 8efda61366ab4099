//! One job in one child process: Python's `multiprocessing.Process`.
//!
//! Run with `cargo run -p mproc --example process`.

use mproc::{Job, JobError, Process, Registry};
use serde::{Deserialize, Serialize};

/// Greets someone from the child process.
#[derive(Serialize, Deserialize)]
struct Greet;

impl Job for Greet {
    const NAME: &'static str = "greet";
    type Input = String;
    type Output = String;

    fn run(&self, name: String) -> Result<String, JobError> {
        Ok(format!("hello {name} from process {}", std::process::id()))
    }
}

fn main() -> mproc::Result<()> {
    mproc::serve_if_worker(&Registry::new().register::<Greet>());

    println!("parent pid {}", std::process::id());
    let mut child = Process::start(&Greet, "class".to_string())?;
    println!(
        "child pid {} started, alive: {}",
        child.pid(),
        child.is_alive()
    );
    let exit = child.join(None);
    println!("joined: {exit:?}, exit code {:?}", child.exit_code());
    if let Some(outcome) = child.outcome() {
        println!("the child's job: {outcome:?}");
    }
    Ok(())
}
