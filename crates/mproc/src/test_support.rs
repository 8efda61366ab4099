//! Pools inside `#[test]` functions (feature `test-support`).
//!
//! A pool starts copies of its own executable, which in a test is the test
//! harness: it would print `running 1 test` onto the frame stream and run
//! tests instead of serving. [`enable_test_support!`](crate::enable_test_support)
//! registers a constructor that runs before the harness's `main`: in a
//! process started as a worker it serves the listed jobs and exits, so the
//! harness never starts there. In the test process itself it does nothing.

use std::process::ExitCode;

use crate::child::WORKER_ENV;
use crate::registry::Registry;
use crate::worker::{serve, WORKER_EXIT_ERROR};

/// Serves as a worker if this process was started as one, and exits; runs
/// before `main` (see [`enable_test_support!`](crate::enable_test_support)).
/// Only the environment is read: `std::env::args` may not be set up yet.
pub fn serve_test_worker(registry: impl FnOnce() -> Registry) {
    if std::env::var_os(WORKER_ENV).is_none() {
        return;
    }
    let code = serve(&registry());
    std::process::exit(if code == ExitCode::SUCCESS {
        0
    } else {
        i32::from(WORKER_EXIT_ERROR)
    });
}

/// Lets pools run inside this test binary's `#[test]` functions: list the
/// jobs the tests run, once per test binary (at the top of `tests/x.rs` or
/// of the crate's `lib.rs` under `#[cfg(test)]`). Plain functions
/// ([`Pool::map_fn`](crate::Pool::map_fn)) need no entry:
/// `enable_test_support!()` is enough for them.
///
/// ```ignore
/// // Cargo.toml: [dev-dependencies] mproc = { version = "0.2", features = ["test-support"] }
/// mproc::enable_test_support!(Square, Sleep);
///
/// #[test]
/// fn squares() {
///     let pool = mproc::Pool::new(2).unwrap();
///     let squares = mproc::values(pool.map(&Square, 0..4)).unwrap();
///     assert_eq!(squares, [0, 1, 4, 9]);
/// }
/// ```
///
/// For plain functions only, list nothing:
///
/// ```no_run
/// mproc::enable_test_support!();
///
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// fn main() {
///     let pool = mproc::Pool::new(2).unwrap();
///     assert_eq!(mproc::values(pool.map_fn(square, 0..4)).unwrap(), [0, 1, 4, 9]);
/// }
/// ```
///
/// The test binary becomes the worker program: a process it starts as a
/// worker serves these jobs before the test harness runs, so the harness
/// prints nothing onto the worker's frame stream.
#[macro_export]
#[cfg_attr(docsrs, doc(cfg(feature = "test-support")))]
macro_rules! enable_test_support {
    ($($job:ty),* $(,)?) => {
        #[$crate::__private::ctor]
        fn __mproc_test_support() {
            $crate::__private::serve_test_worker(|| {
                $crate::Registry::new()$(.register::<$job>())*
            });
        }
    };
}
