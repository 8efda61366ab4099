//! The core's own tests: pools, processes and the worker protocol, with
//! this test binary as the worker program (`enable_test_support!`), so
//! they need nothing of the `mproc` command line.

mod support;

mod library;
mod refusal;
mod stream;

use support::jobs::{Act, Square};

mproc::enable_test_support!(Square, Act);
