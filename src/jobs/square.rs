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
    const VALUE_ROW: Option<fn(u64) -> Option<NonZeroU64>> = Some(value_row);
    const ABOUT: &'static str = "f(x) = x*x over 0..COUNT, printed as Python prints a list";

    #[inline(always)]
    fn row(result: ItemResult<u64>) -> Option<NonZeroU64> {
        result.outcome.ok().and_then(value_row)
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
        let mut s = Vec::new();
        Square::report_to(run, &mut |piece| s.extend_from_slice(piece));
        String::from_utf8_lossy(&s).into_owned()
    }

    /// The list in pieces of [`PIECE`] bytes or so: a million values are
    /// written as they are formatted, not gathered first. A long list's
    /// second half is formatted on a second thread meanwhile.
    fn report_to(run: &Report<'_, Square>, print: &mut dyn FnMut(&[u8])) {
        if run.streamed {
            return;
        }
        let values = run.results;
        // The first half (or all) here, written as it is formatted.
        let mut here = |buf: Vec<u8>, n: usize| {
            print(&buf[..n]);
            buf
        };
        if values.len() < HALVED_FROM {
            return write_list(values, b"[", b"]\n", &mut here);
        }
        let (first, second) = values.split_at(values.len() / 2);
        std::thread::scope(|scope| {
            // Filled pieces of the second half come here in order; their
            // buffers go back to be filled again.
            let (full, filled) = std::sync::mpsc::sync_channel::<(Vec<u8>, usize)>(PIECES_AHEAD);
            let (back, empty) = std::sync::mpsc::channel::<Vec<u8>>();
            let helper = std::thread::Builder::new()
                .name("mproc-report".into())
                .spawn_scoped(scope, move || {
                    write_list(second, b", ", b"]\n", &mut |buf, n| {
                        let _ = full.send((buf, n));
                        empty.try_recv().unwrap_or_else(|_| piece_buffer(PIECE))
                    });
                });
            write_list(first, b"[", b"", &mut here);
            match helper {
                Ok(_) => {
                    for (buf, n) in filled {
                        let _ = back.send(here(buf, n));
                    }
                }
                // No thread to be had: this one writes the second half too.
                Err(_) => write_list(second, b", ", b"]\n", &mut here),
            }
        });
    }
}

/// A value as a row keeps it: plus one.
#[inline(always)]
fn value_row(v: u64) -> Option<NonZeroU64> {
    NonZeroU64::new(v.wrapping_add(1))
}

/// Lists from this many values on are formatted in two halves at once.
const HALVED_FROM: usize = 100_000;

/// Pieces of the second half that may wait for the first to be written.
const PIECES_AHEAD: usize = 64;

/// A buffer for one piece of the list of `values` values (at most
/// [`PIECE`], with room past it for the number that crosses it): ten
/// values take a few hundred bytes, not a piece's worth.
fn piece_buffer(values: usize) -> Vec<u8> {
    vec![b' '; values.saturating_mul(22).min(PIECE) + 64]
}

/// Writes `lead`, then `values` with `, ` between them, then `tail`, in
/// pieces of about [`PIECE`] bytes: `emit` takes each buffer with the
/// length filled and gives back a buffer to go on with. Each number's
/// digits are written in place, not copied.
fn write_list(
    values: &[Option<NonZeroU64>],
    lead: &[u8],
    tail: &[u8],
    emit: &mut dyn FnMut(Vec<u8>, usize) -> Vec<u8>,
) {
    let mut buf = piece_buffer(values.len());
    buf[..lead.len()].copy_from_slice(lead);
    let mut at = lead.len();
    for (i, r) in values.iter().enumerate() {
        if i > 0 {
            buf[at..at + 2].copy_from_slice(b", ");
            at += 2;
        }
        at += match r {
            Some(v) => put_digits(&mut buf[at..at + 20], v.get() - 1),
            None => {
                buf[at..at + 4].copy_from_slice(b"None");
                4
            }
        };
        if at >= PIECE {
            buf = emit(buf, at);
            at = 0;
        }
    }
    buf[at..at + tail.len()].copy_from_slice(tail);
    at += tail.len();
    if at > 0 {
        emit(buf, at);
    }
}

/// The decimal digits of 0 to 99, two by two.
const PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Writes `v` in decimal at the start of `out` (20 bytes, room for any
/// u64) and says how many bytes it took: four digits a division, from the
/// last, as itoa does, but in place.
#[inline]
fn put_digits(out: &mut [u8], mut v: u64) -> usize {
    let len = v.checked_ilog10().map_or(1, |l| l as usize + 1);
    let mut end = len;
    while v >= 10_000 {
        let rest = (v % 10_000) as usize;
        v /= 10_000;
        let (hi, lo) = (rest / 100 * 2, rest % 100 * 2);
        out[end - 4..end - 2].copy_from_slice(&PAIRS[hi..hi + 2]);
        out[end - 2..end].copy_from_slice(&PAIRS[lo..lo + 2]);
        end -= 4;
    }
    let mut v = v as usize;
    if v >= 100 {
        let lo = v % 100 * 2;
        v /= 100;
        out[end - 2..end].copy_from_slice(&PAIRS[lo..lo + 2]);
        end -= 2;
    }
    if v >= 10 {
        out[end - 2..end].copy_from_slice(&PAIRS[v * 2..v * 2 + 2]);
    } else {
        out[end - 1] = b'0' + v as u8;
    }
    len
}

/// The size of the pieces the list is written in.
const PIECE: usize = 256 << 10;

#[cfg(test)]
mod tests {
    use super::put_digits;

    #[test]
    fn digits_are_written_as_display_writes_them() {
        let mut buf = [0u8; 20];
        let mut values = vec![
            0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 9999, 10_000, 10_001,
        ];
        values.extend([
            99_999,
            100_000,
            12_345_678,
            999_999_999_999,
            u64::MAX / 7,
            u64::MAX,
        ]);
        values.extend((0..20).map(|p| 10u64.pow(p)));
        values.extend((1..20).map(|p| 10u64.pow(p) - 1));
        for v in values {
            let n = put_digits(&mut buf, v);
            assert_eq!(std::str::from_utf8(&buf[..n]).unwrap(), v.to_string());
        }
    }
}
