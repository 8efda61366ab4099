//! How each `--mode` hands the results back, from a pool of worker
//! processes or this process (`--serial`) alike: both are an
//! [`mproc::Runner`].

use mproc::{ItemResult, Result, Runner};

use super::inputs::Feed;
use crate::jobs::Builtin;
use crate::options::Mode;

/// Runs `job` over `inputs` with the pool method `mode`, handing each
/// result to `take` as it comes, with whether more results are ready at
/// once (when none are, buffered output is written before the wait; a
/// serial run always has more, so its output is written in blocks, at
/// least every `Lines::EVERY`, not a write per item).
pub(super) fn run_mode<J: Builtin>(
    runner: &Runner,
    job: &J,
    feed: Feed<'_, J::Input>,
    mode: Mode,
    mut take: impl FnMut(ItemResult<J::Output>, bool),
) -> Result<()> {
    let ordered = match mode {
        // map_async takes every input first, and gives every result at once.
        Mode::Async => {
            let results = runner.map_async(job, feed).get(None)?;
            let last = results.len().saturating_sub(1);
            for (i, r) in results.into_iter().enumerate() {
                take(r, i < last);
            }
            return Ok(());
        }
        // map and imap give the same ordered results; imap streams them.
        Mode::Map | Mode::Imap => true,
        Mode::ImapUnordered => false,
    };
    match (feed, ordered) {
        (Feed::List(inputs), true) => drain(runner.imap(job, inputs), take),
        (Feed::List(inputs), false) => drain(runner.imap_unordered(job, inputs), take),
        (Feed::Stream(inputs), true) => drain(runner.imap_stream(job, inputs), take),
        (Feed::Stream(inputs), false) => drain(runner.imap_unordered_stream(job, inputs), take),
    }
    Ok(())
}

/// Hands each of `results` to `take`, with whether more are ready.
#[inline(always)]
fn drain<J: Builtin, I: Iterator<Item = J::Input>>(
    mut results: mproc::Results<'_, J, I>,
    mut take: impl FnMut(ItemResult<J::Output>, bool),
) {
    while let Some(r) = results.next() {
        let more = results.has_ready();
        take(r, more);
    }
}
