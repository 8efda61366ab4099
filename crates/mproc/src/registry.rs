//! The [`Registry`]: which jobs a worker process can run, by name.
//!
//! A worker receives a job's name and encoded value, and must turn them back
//! into something it can call. The registry holds one constructor per job
//! type for that; it erases the job's types behind [`ErasedJob`].

use std::collections::HashMap;

use crate::job::Job;
use crate::outcome::Outcome;
use crate::protocol::{self, WireFailure};
use crate::worker::panic;

/// A job value ready to run encoded inputs (the type-erased side of [`Job`]).
pub(crate) trait ErasedJob: Send + Sync {
    /// Runs the item whose encoded input starts `inputs`, and moves
    /// `inputs` past it. An ok output is appended to `outputs` (`Ok(None)`);
    /// the job's error or panic is `Ok(Some(..))`. `Err` means the input
    /// could not be decoded, so the items after it cannot be found either.
    fn run_one(
        &self,
        inputs: &mut &[u8],
        outputs: &mut Vec<u8>,
    ) -> Result<Option<WireFailure>, String>;

    /// Moves `inputs` past the next item's encoded input without running
    /// it (a worker that runs several items of a chunk at once finds each
    /// one's input this way). `Err` as for [`ErasedJob::run_one`].
    fn skip_one(&self, inputs: &mut &[u8]) -> Result<(), String>;
}

struct Typed<J>(J);

impl<J: Job> ErasedJob for Typed<J> {
    fn run_one(
        &self,
        inputs: &mut &[u8],
        outputs: &mut Vec<u8>,
    ) -> Result<Option<WireFailure>, String> {
        let (input, used) = protocol::decode_prefix::<J::Input>(inputs)
            .map_err(|e| format!("cannot decode the input of job {}: {e}", J::NAME))?;
        *inputs = &inputs[used..];
        Ok(match panic::run_item(|| self.0.run(input)) {
            Outcome::Ok(output) => match protocol::encode_into(&output, outputs) {
                Ok(()) => None,
                Err(e) => Some(WireFailure::message(format!(
                    "cannot encode the output of job {}: {e}",
                    J::NAME
                ))),
            },
            Outcome::Panicked { message, location } => {
                Some(WireFailure::Panicked { message, location })
            }
            Outcome::Failed(failure) => Some(failure.into()),
            other => Some(WireFailure::message(other.error().unwrap_or_default())),
        })
    }

    fn skip_one(&self, inputs: &mut &[u8]) -> Result<(), String> {
        let (_, used) = protocol::decode_prefix::<J::Input>(inputs)
            .map_err(|e| format!("cannot decode the input of job {}: {e}", J::NAME))?;
        *inputs = &inputs[used..];
        Ok(())
    }
}

pub(crate) type Make = fn(&[u8]) -> Result<Box<dyn ErasedJob>, String>;

pub(crate) fn make<J: Job>(config: &[u8]) -> Result<Box<dyn ErasedJob>, String> {
    let job: J =
        protocol::decode(config).map_err(|e| format!("cannot decode job {}: {e}", J::NAME))?;
    Ok(Box::new(Typed(job)))
}

/// The jobs a worker can run. Build one at the top of `main` and pass it to
/// [`serve_if_worker`](crate::serve_if_worker).
#[derive(Default, Clone)]
pub struct Registry {
    jobs: HashMap<&'static str, Make>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Registry::default()
    }

    /// Adds job type `J` under [`Job::NAME`]. A second job of the same name
    /// replaces the first.
    pub fn register<J: Job>(mut self) -> Self {
        self.jobs.insert(J::NAME, make::<J>);
        self
    }

    /// The registered job names, sorted.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.jobs.keys().copied().collect();
        names.sort_unstable();
        names
    }

    /// Builds the runner for job `name` from its encoded value.
    pub(crate) fn instantiate(
        &self,
        name: &str,
        config: &[u8],
    ) -> Result<Box<dyn ErasedJob>, String> {
        match self.jobs.get(name) {
            Some(make) => make(config),
            // A plain function (`Pool::map_fn`) needs no entry.
            None if name == crate::function::NAME => crate::function::instantiate(config),
            None => Err(format!(
                "this worker has no job named '{name}' (it knows: {}); register it in the worker binary's Registry",
                self.names().join(", ")
            )),
        }
    }
}
