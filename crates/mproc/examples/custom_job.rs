//! A job defined outside the mproc crate, run in a pool of this program's
//! own processes.
//!
//! Run with `cargo run -p mproc --example custom_job`.

use mproc::{Job, JobError, Pool, Registry};
use serde::{Deserialize, Serialize};

/// Counts the vowels in a word; its configuration says which letters count.
#[derive(Serialize, Deserialize)]
struct Vowels {
    letters: String,
}

impl Job for Vowels {
    const NAME: &'static str = "vowels";
    type Input = String;
    type Output = usize;

    fn run(&self, word: String) -> Result<usize, JobError> {
        if word.is_empty() {
            return Err("empty word".into());
        }
        Ok(word.chars().filter(|c| self.letters.contains(*c)).count())
    }
}

fn main() -> mproc::Result<()> {
    // In a worker this serves jobs and never returns (Python's
    // `if __name__ == '__main__':` guard, the other way round).
    mproc::serve_if_worker(&Registry::new().register::<Vowels>());

    let pool = Pool::new(2)?;
    let job = Vowels {
        letters: "aeiou".into(),
    };
    let words = ["process", "isolation", "", "pool"].map(String::from);
    for r in pool.map(&job, words.clone()) {
        match r.outcome.as_ok() {
            Some(n) => println!(
                "{:<10} {n} vowels (pid {})",
                words[r.index],
                r.pid.unwrap_or(0)
            ),
            None => println!(
                "{:<10} {}",
                words[r.index],
                r.outcome.error().unwrap_or_default()
            ),
        }
    }
    Ok(())
}
