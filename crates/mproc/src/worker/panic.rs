//! Turning a job's panic into a message and a location, without printing it.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use crate::failure::Failure;
use crate::job::JobError;
use crate::outcome::Outcome;

thread_local! {
    static IN_JOB: Cell<bool> = const { Cell::new(false) };
    static LAST: RefCell<Option<(String, Option<String>)>> = const { RefCell::new(None) };
}

/// Runs one item of a job: its value, its error (a [`Failure`] as the job
/// built it, with its data; any other error by its message), or its panic
/// (message and location), as an [`Outcome`]. The one place a job's
/// result becomes an outcome, in a worker and in [`Serial`](crate::Serial).
pub(crate) fn run_item<T>(f: impl FnOnce() -> Result<T, JobError>) -> Outcome<T> {
    static HOOK: Once = Once::new();
    HOOK.call_once(install_hook);
    match catch(f) {
        Ok(Ok(value)) => Outcome::Ok(value),
        Ok(Err(e)) => Outcome::Failed(match e.downcast::<Failure>() {
            Ok(failure) => *failure,
            Err(e) => Failure::new(e.to_string()),
        }),
        Err((message, location)) => Outcome::Panicked { message, location },
    }
}

/// Installs a hook that records a job's panic for [`catch`] and stays quiet;
/// panics outside jobs print as usual.
fn install_hook() {
    let default = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if !IN_JOB.with(Cell::get) {
            default(info);
            return;
        }
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "Box<dyn Any>".to_string());
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
        LAST.with(|last| *last.borrow_mut() = Some((message, location)));
    }));
}

/// Runs `f`, turning a panic into `Err((message, location))`.
fn catch<T>(f: impl FnOnce() -> T) -> Result<T, (String, Option<String>)> {
    IN_JOB.with(|c| c.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    IN_JOB.with(|c| c.set(false));
    result.map_err(|_| {
        LAST.with(|last| last.borrow_mut().take())
            .unwrap_or_else(|| ("panic".to_string(), None))
    })
}
