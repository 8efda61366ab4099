//! Running a job's parsed arguments: the [`Call`] of each job in the table
//! is the pool command, here, so that the jobs never import the commands.

use mproc::Result;

use crate::jobs::{Args, Builtin};
use crate::options::{Call, PoolCommand, Status};

impl<J: Builtin> Call for Args<J> {
    #[cfg(test)]
    fn name(&self) -> &'static str {
        J::NAME
    }

    fn run(self: Box<Self>, command: &PoolCommand) -> Result<Status> {
        super::pool::run::<J>(self.0, command)
    }

    #[cfg(test)]
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
