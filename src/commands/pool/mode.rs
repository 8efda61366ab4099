//! How each `--mode` hands the results back, from a pool of worker
//! processes or this process (`--serial`) alike: both are an
//! [`mproc::Runner`].

use mproc::{Result, Runner};

use super::inputs::Feed;
use super::sink::ResultSink;
use crate::jobs::Builtin;
use crate::options::Mode;

/// Runs `job` over `inputs` with the pool method `mode`, handing each
/// result to `sink` as it comes, with whether more results are ready at
/// once (when none are, buffered output is written before the wait; a
/// serial run always has more, so its output is written in blocks, at
/// least every `Lines::EVERY`, not a write per item).
pub(super) fn run_mode<J: Builtin>(
    runner: &Runner,
    job: &J,
    feed: Feed<'_, J::Input>,
    mode: Mode,
    sink: &mut ResultSink<'_, J>,
) -> Result<()> {
    let ordered = match mode {
        // map_async takes every input first, and gives every result at once.
        Mode::Async => {
            let results = runner.map_async(job, feed).get(None)?;
            let last = results.len().saturating_sub(1);
            for (i, r) in results.into_iter().enumerate() {
                sink.take(r, i < last);
            }
            return Ok(());
        }
        // map and imap give the same ordered results; imap streams them.
        Mode::Map | Mode::Imap => true,
        Mode::ImapUnordered => false,
    };
    match (feed, ordered) {
        (Feed::List(inputs), true) => drain(runner.imap(job, inputs), sink),
        (Feed::List(inputs), false) => drain(runner.imap_unordered(job, inputs), sink),
        (Feed::Stream(inputs), true) => drain(runner.imap_stream(job, inputs), sink),
        (Feed::Stream(inputs), false) => drain(runner.imap_unordered_stream(job, inputs), sink),
    }
    Ok(())
}

/// Hands each of `results` to `sink`, with whether more are ready (the
/// loop, the iterator and the sink's short path are one function).
#[inline(always)]
fn drain<J: Builtin, I: Iterator<Item = J::Input>>(
    mut results: mproc::Results<'_, J, I>,
    sink: &mut ResultSink<'_, J>,
) {
    loop {
        // A plain run takes the ok values at hand in bulk.
        if let (true, Some(row)) = (sink.plain, J::VALUE_ROW) {
            let rows = &mut sink.rows;
            let n = results.next_values(|v| rows.push(row(v)));
            if n > 0 {
                let more = results.has_ready();
                sink.took_values(n, more);
                continue;
            }
        }
        let Some(r) = results.next() else {
            break;
        };
        let more = results.has_ready();
        sink.take(r, more);
    }
}
