//! The chapter's `f(x) = x*x`: [`Square`].

use std::collections::BTreeMap;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

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

    /// The list in pieces of [`PIECE_VALUES`] values: a million values
    /// are written as they are formatted, not gathered first.
    fn report_to(run: &Report<'_, Square>, print: &mut dyn FnMut(&[u8])) {
        if run.streamed {
            return;
        }
        write_list(run.results, print);
    }
}

/// A value as a row keeps it: plus one.
#[inline(always)]
fn value_row(v: u64) -> Option<NonZeroU64> {
    NonZeroU64::new(v.wrapping_add(1))
}

/// Lists from this many values on are formatted on two threads at once.
const SHARED_FROM: usize = 100_000;

/// Values in one piece of the list (about 50 KB of text for a million
/// squares): small enough that the few buffers in use stay in cache.
const PIECE_VALUES: usize = 4096;

/// Pieces the helper may hand over ahead of the one being written.
const PIECES_AHEAD: usize = 4;

/// Pieces this thread keeps formatted ahead of the one being written, at
/// most, while the helper formats that one.
const PIECES_HELD: usize = 16;

/// Writes Python's printed list of `values` (`[0, 1, None, 9]` and a
/// newline) to `print`, piece by piece. From [`SHARED_FROM`] values on, a
/// helper thread formats pieces too: each thread claims the next piece
/// not yet claimed, so neither waits for the other while pieces are left,
/// and this one writes them in order. The buffers go round between the
/// two threads, so a million values take a few buffers, not a second copy
/// of the text.
fn write_list(values: &[Option<NonZeroU64>], print: &mut dyn FnMut(&[u8])) {
    let pieces = values.len().div_ceil(PIECE_VALUES).max(1);
    let piece = |k: usize| {
        &values[(k * PIECE_VALUES).min(values.len())..((k + 1) * PIECE_VALUES).min(values.len())]
    };
    let format = |k: usize, buf: &mut Vec<u8>| {
        let tail: &[u8] = if k + 1 == pieces { b"]\n" } else { b"" };
        put_piece(piece(k), if k == 0 { b"[" } else { b", " }, tail, buf)
    };
    if values.len() < SHARED_FROM {
        let mut buf = Vec::new();
        for k in 0..pieces {
            let n = format(k, &mut buf);
            print(&buf[..n]);
        }
        return;
    }
    let claimed = AtomicUsize::new(0);
    let claim = || claimed.fetch_add(1, Ordering::Relaxed);
    std::thread::scope(|scope| {
        // The helper's pieces come here formatted, with their number;
        // their buffers go back once written.
        let (full, formatted) = mpsc::sync_channel::<(usize, Vec<u8>, usize)>(PIECES_AHEAD);
        let (back, written) = mpsc::channel::<Vec<u8>>();
        let helper = std::thread::Builder::new()
            .name("mproc-report".into())
            .spawn_scoped(scope, move || loop {
                let k = claim();
                if k >= pieces {
                    return;
                }
                let mut buf = written.try_recv().unwrap_or_default();
                let n = format(k, &mut buf);
                if full.send((k, buf, n)).is_err() {
                    return;
                }
            });
        let formatted = helper.ok().map(|_| formatted);
        // Formatted pieces not written yet: (buffer, length, the helper's).
        let mut ready: BTreeMap<usize, (Vec<u8>, usize, bool)> = BTreeMap::new();
        let mut spare = Vec::new();
        let mut next = 0;
        while next < pieces {
            if let Some((buf, n, helpers)) = ready.remove(&next) {
                print(&buf[..n]);
                if helpers {
                    let _ = back.send(buf);
                } else {
                    spare.push(buf);
                }
                next += 1;
                continue;
            }
            if let Some(Ok((k, buf, n))) = formatted.as_ref().map(mpsc::Receiver::try_recv) {
                ready.insert(k, (buf, n, true));
                continue;
            }
            // The next piece is the helper's: format another meanwhile.
            // Once all are claimed (or enough are held), wait for it; a
            // helper that could not start, or stopped, leaves it here.
            let unclaimed = (ready.len() < PIECES_HELD)
                .then(claim)
                .filter(|&k| k < pieces);
            let k = match unclaimed {
                Some(k) => k,
                None => match formatted.as_ref().map(mpsc::Receiver::recv) {
                    Some(Ok((k, buf, n))) => {
                        ready.insert(k, (buf, n, true));
                        continue;
                    }
                    _ => next,
                },
            };
            let mut buf = spare.pop().unwrap_or_default();
            let n = format(k, &mut buf);
            ready.insert(k, (buf, n, false));
        }
    });
}

/// Formats `lead`, `values` with `, ` between them, then `tail` into
/// `buf` (grown to fit, never shrunk) and says how many bytes it took.
/// Each number's digits are written in place, not copied.
fn put_piece(values: &[Option<NonZeroU64>], lead: &[u8], tail: &[u8], buf: &mut Vec<u8>) -> usize {
    let room = values.len() * 22 + lead.len() + tail.len();
    if buf.len() < room {
        buf.resize(room, b' ');
    }
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
    }
    buf[at..at + tail.len()].copy_from_slice(tail);
    at + tail.len()
}

/// The decimal digits of 0 to 99, two by two.
const PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Writes `v` in decimal at the start of `out` (20 bytes, room for any
/// u64) and says how many bytes it took: the digits past the first eight
/// or sixteen in blocks of eight, each from one 32-bit number, two digits
/// at a time.
#[inline]
fn put_digits(out: &mut [u8], v: u64) -> usize {
    const E8: u64 = 100_000_000;
    if v < E8 {
        return put_short(out, v as u32);
    }
    if v < E8 * E8 {
        let at = put_short(out, (v / E8) as u32);
        put_eight(&mut out[at..at + 8], (v % E8) as u32);
        return at + 8;
    }
    let rest = v % (E8 * E8);
    let at = put_short(out, (v / (E8 * E8)) as u32);
    put_eight(&mut out[at..at + 8], (rest / E8) as u32);
    put_eight(&mut out[at + 8..at + 16], (rest % E8) as u32);
    at + 16
}

/// Writes `x` (under 10^8) with no leading zeros; says how many bytes.
#[inline]
fn put_short(out: &mut [u8], x: u32) -> usize {
    let len = x.checked_ilog10().map_or(1, |l| l as usize + 1);
    let mut end = len;
    let mut x = x as usize;
    while x >= 100 {
        let pair = x % 100 * 2;
        x /= 100;
        out[end - 2..end].copy_from_slice(&PAIRS[pair..pair + 2]);
        end -= 2;
    }
    if x >= 10 {
        out[end - 2..end].copy_from_slice(&PAIRS[x * 2..x * 2 + 2]);
    } else {
        out[end - 1] = b'0' + x as u8;
    }
    len
}

/// Writes `x` (under 10^8) as exactly eight digits, leading zeros kept.
#[inline]
fn put_eight(out: &mut [u8], x: u32) {
    let (high, low) = ((x / 10_000) as usize, (x % 10_000) as usize);
    for (i, pair) in [high / 100, high % 100, low / 100, low % 100]
        .into_iter()
        .enumerate()
    {
        out[2 * i..2 * i + 2].copy_from_slice(&PAIRS[pair * 2..pair * 2 + 2]);
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU64;

    use super::{put_digits, write_list, PIECE_VALUES, SHARED_FROM};

    /// Python's `print(list)` of `values`, written plainly.
    fn printed(values: &[Option<NonZeroU64>]) -> String {
        let shown: Vec<String> = values
            .iter()
            .map(|v| v.map_or("None".to_string(), |v| (v.get() - 1).to_string()))
            .collect();
        format!("[{}]\n", shown.join(", "))
    }

    #[test]
    fn a_list_is_written_as_python_prints_it_on_one_thread_or_two() {
        let sizes = [
            0,
            1,
            PIECE_VALUES - 1,
            PIECE_VALUES,
            PIECE_VALUES + 1,
            3 * PIECE_VALUES,
            SHARED_FROM,
            SHARED_FROM + 1,
            SHARED_FROM + PIECE_VALUES,
            SHARED_FROM + 7 * PIECE_VALUES + 3,
        ];
        for n in sizes {
            // Squares, with every 1000th item not ok, and the largest
            // value at the end.
            let values: Vec<Option<NonZeroU64>> = (0..n as u64)
                .map(|i| match i {
                    _ if i % 1000 == 999 => None,
                    _ if i + 1 == n as u64 => NonZeroU64::new(u64::MAX),
                    _ => NonZeroU64::new(i * i + 1),
                })
                .collect();
            let mut written = Vec::new();
            let mut writes = 0;
            write_list(&values, &mut |piece| {
                writes += 1;
                written.extend_from_slice(piece);
            });
            assert_eq!(
                String::from_utf8(written).unwrap(),
                printed(&values),
                "{n} values"
            );
            assert_eq!(writes, n.div_ceil(PIECE_VALUES).max(1), "{n} values");
        }
    }

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
