//! `Debug` for the handles whose fields are threads, channels and pipes:
//! what a user printing one wants to see (its processes, its pid, its job
//! names), never the plumbing.

use std::fmt;

use crate::job::Job;
use crate::pool::{AsyncResult, IMap, Pool};
use crate::process::Process;
use crate::registry::Registry;

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("processes", &self.processes())
            .field("hosts", &self.hosts())
            .finish_non_exhaustive()
    }
}

impl<O: serde::de::DeserializeOwned> fmt::Debug for Process<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.pid())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("jobs", &self.names())
            .finish()
    }
}

impl<J: Job, I> fmt::Debug for IMap<'_, J, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IMap")
            .field("job", &J::NAME)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for AsyncResult<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncResult").finish_non_exhaustive()
    }
}
