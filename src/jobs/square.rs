//! The chapter's `f(x) = x*x`: [`Square`].

use std::num::NonZeroU64;

use serde::{Deserialize, Serialize};

use mproc::{Error, ItemResult, Job, JobError, Result};

use super::{Builtin, Context, Plan, Report};

/// Squares a number and logs `Input X in process PID`, as the chapter's
/// `multiprocess_pool.py` prints.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Square;

impl Job for Square {
    const NAME: &'static str = "square";
    type Input = u64;
    type Output = u64;

    fn run(&self, x: u64) -> Result<u64, JobError> {
        tracing::info!("Input {x} in process {}", std::process::id());
        x.checked_mul(x)
            .ok_or_else(|| format!("{x} squared does not fit in 64 bits").into())
    }
}

/// The most numbers `square` takes: every input and its result is held in
/// memory (about 100 bytes each), so 10 million is about a gigabyte.
pub(crate) const MAX_COUNT: u64 = 10_000_000;

/// `mproc pool square COUNT`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SquareArgs {
    /// How many numbers (0..COUNT), at most 10000000.
    #[arg(value_name = "COUNT")]
    pub count: u64,
}

impl Builtin for Square {
    type Args = SquareArgs;
    /// The value alone, plus one, so that `None` costs nothing: a million
    /// items keep 8 MB, not 120. (A square is never `u64::MAX`, which is
    /// not a square; a value that were would be kept as `None`.)
    type Row = Option<NonZeroU64>;
    const ROW_ONLY: bool = true;
    const ABOUT: &'static str = "f(x) = x*x over 0..COUNT, printed as Python prints a list";

    #[inline(always)]
    fn row(result: ItemResult<u64>) -> Option<NonZeroU64> {
        result
            .outcome
            .ok()
            .and_then(|v| NonZeroU64::new(v.wrapping_add(1)))
    }

    fn plan(args: SquareArgs, _: &Context) -> Result<Plan<Square>> {
        if args.count > MAX_COUNT {
            return Err(Error::usage(format!(
                "square COUNT {} is over the limit of {MAX_COUNT} numbers (each one and its result is held in memory)",
                args.count
            )));
        }
        Ok(Plan {
            job: Square,
            inputs: (0..args.count).collect::<Vec<_>>().into(),
        })
    }

    /// `print(r)` for each result of `imap`: the value, or `None`.
    fn line(result: &ItemResult<u64>, _: &u64) -> Option<String> {
        Some(match result.outcome.as_ok() {
            Some(v) => format!("{v}\n"),
            None => "None\n".to_string(),
        })
    }

    /// Python's printed list: `[0, 1, 4, 9]`, with `None` for items not ok
    /// (nothing when each value was printed as it came).
    fn report(run: &Report<'_, Square>) -> String {
        let mut s = String::new();
        Square::report_to(run, &mut |piece| s.push_str(piece));
        s
    }

    /// The list in pieces of [`PIECE`] bytes or so: a million values are
    /// written as they are formatted, not gathered first.
    fn report_to(run: &Report<'_, Square>, print: &mut dyn FnMut(&str)) {
        if run.streamed {
            return;
        }
        let mut s = String::with_capacity(PIECE + 64);
        let mut digits = itoa::Buffer::new();
        s.push('[');
        for (i, r) in run.results.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            match r {
                Some(v) => s.push_str(digits.format(v.get() - 1)),
                None => s.push_str("None"),
            }
            if s.len() >= PIECE {
                print(&s);
                s.clear();
            }
        }
        s.push_str("]\n");
        print(&s);
    }
}

/// The size of the pieces the list is written in.
const PIECE: usize = 256 << 10;
