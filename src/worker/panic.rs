//! Turning a job's panic into a message and a location, without printing it.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};

thread_local! {
    static IN_JOB: Cell<bool> = const { Cell::new(false) };
    static LAST: RefCell<Option<(String, Option<String>)>> = const { RefCell::new(None) };
}

/// Installs a hook that records a job's panic for [`catch`] and stays quiet;
/// panics outside jobs print as usual.
pub(crate) fn install_hook() {
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
pub(crate) fn catch<T>(f: impl FnOnce() -> T) -> Result<T, (String, Option<String>)> {
    IN_JOB.with(|c| c.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    IN_JOB.with(|c| c.set(false));
    result.map_err(|_| {
        LAST.with(|last| last.borrow_mut().take())
            .unwrap_or_else(|| ("panic".to_string(), None))
    })
}
