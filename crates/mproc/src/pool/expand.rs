//! [`Expand`]: a [`Report`]'s items as [`ItemResult`]s, one at a time, or
//! their ok values in bulk ([`Expand::values`]), each ok output decoded as
//! it goes (or taken from what the scheduler decoded already).
//!
//! Each item gets its own measured times; without them, a report of one
//! item gets the report's, and the items of a longer one get its start
//! and no run time (never an average).

use std::time::Duration;

use super::task::Report;
use crate::outcome::{ItemResult, Outcome};
use crate::protocol;

impl Report {
    /// The items as results, decoding each ok output as it goes. Each item
    /// gets its own measured times; without them, a report of one item
    /// gets the report's, and items of a longer one get its start and no
    /// run time (they did not run: never an average).
    pub(crate) fn into_results<O: serde::de::DeserializeOwned>(self) -> Expand<O> {
        Expand {
            clock: self.run.started,
            decoded: None,
            report: self,
            next: 0,
            failure: 0,
            output: 0,
            start: 0,
            kind: std::marker::PhantomData,
        }
    }

    /// As [`into_results`](Report::into_results), taking the outputs
    /// its batch decoded already, if it did.
    pub(crate) fn into_decoded_results<O: serde::de::DeserializeOwned + 'static>(
        mut self,
    ) -> Expand<O> {
        let decoded = self
            .decoded
            .take()
            .and_then(|d| d.downcast::<Vec<std::result::Result<O, String>>>().ok())
            .map(|d| d.into_iter());
        Expand {
            decoded,
            ..self.into_results()
        }
    }
}

/// The results of a [`Report`], one at a time.
pub(crate) struct Expand<O> {
    report: Report,
    next: usize,
    failure: usize,
    output: usize,
    start: usize,
    /// When the next item started.
    clock: Option<Duration>,
    /// The ok outputs, when decoded before they came.
    decoded: Option<std::vec::IntoIter<std::result::Result<O, String>>>,
    kind: std::marker::PhantomData<fn() -> O>,
}

impl<O> Expand<O> {
    /// When item `offset` started and how long it ran.
    #[inline]
    fn times(&mut self, offset: usize) -> (Option<Duration>, Duration) {
        let r = &self.report;
        match r.times.get(offset) {
            Some(&micros) if r.times.len() == r.count => {
                let took = Duration::from_micros(micros);
                let started = self.clock;
                self.clock = started.map(|s| s + took);
                (started, took)
            }
            _ if r.count == 1 => (r.run.started, r.run.elapsed),
            _ => (r.run.started, Duration::ZERO),
        }
    }
}

impl<O: serde::de::DeserializeOwned> Iterator for Expand<O> {
    type Item = ItemResult<O>;

    /// Inlined into its consumer, so that what the consumer does not read
    /// of a result is never built; a failure, an output decoded here and
    /// item times go through calls.
    #[inline(always)]
    fn next(&mut self) -> Option<ItemResult<O>> {
        let r = &mut self.report;
        if self.next >= r.count {
            return None;
        }
        let offset = self.next;
        self.next += 1;
        let failed_here =
            matches!(r.failures.get(self.failure), Some((o, _)) if *o as usize == offset);
        let outcome = if !failed_here && self.output < r.ends.len() {
            match self.decoded.as_mut().map(Iterator::next) {
                Some(Some(Ok(v))) => {
                    self.output += 1;
                    Outcome::Ok(v)
                }
                taken => self.outcome(false, taken.flatten()),
            }
        } else {
            self.outcome(failed_here, None)
        };
        let r = &mut self.report;
        let (index, worker, pid, attempts) =
            (r.first + offset, r.run.worker, r.run.pid, r.attempts);
        let earlier = std::mem::take(&mut r.earlier).into();
        let (started, elapsed) = self.times(offset);
        Some(ItemResult {
            index,
            outcome,
            worker,
            pid,
            attempts,
            started,
            elapsed,
            earlier,
        })
    }
}

impl<O: serde::de::DeserializeOwned> Expand<O> {
    /// Hands `f` the values of the next items, in order, while they ended
    /// ok and decode; stops before the first that did not (for
    /// [`Iterator::next`] to yield). Says how many it handed.
    #[inline(always)]
    pub(crate) fn values(&mut self, mut f: impl FnMut(O)) -> usize {
        let r = &self.report;
        // The items before the next failure, and with an output.
        let stop = r
            .failures
            .get(self.failure)
            .map_or(r.count, |(o, _)| *o as usize);
        let stop = stop.min(self.next + (r.ends.len() - self.output.min(r.ends.len())));
        let per_item = r.times.len() == r.count;
        let from = self.next;
        while self.next < stop {
            let value = match self.decoded.as_mut() {
                Some(d) => match d.as_slice().first() {
                    Some(Ok(_)) => d.next().and_then(|v| v.ok()),
                    _ => None,
                },
                None => self.decode_next(),
            };
            let Some(value) = value else {
                break;
            };
            if per_item {
                let took = Duration::from_micros(self.report.times[self.next]);
                self.clock = self.clock.map(|c| c + took);
            }
            self.next += 1;
            self.output += 1;
            f(value);
        }
        if self.next > from {
            // The earlier attempts were the first item's.
            self.report.earlier = Vec::new();
        }
        self.next - from
    }

    /// Decodes the next output in place, if it decodes (else leaves it for
    /// [`Expand::outcome`] to report).
    #[inline(always)]
    fn decode_next(&mut self) -> Option<O> {
        let r = &self.report;
        let end = r.ends.try_get(self.output)? as usize;
        let value = protocol::decode::<O>(r.outputs.get(self.start..end)?).ok()?;
        self.start = end;
        Some(value)
    }

    /// Item `offset`'s outcome when it is not a value decoded before it
    /// came: a failure, an output to decode now, or one missing.
    /// `predecoded` is the next predecoded value, already taken.
    #[inline(never)]
    fn outcome(
        &mut self,
        failed_here: bool,
        predecoded: Option<std::result::Result<O, String>>,
    ) -> Outcome<O> {
        let r = &mut self.report;
        if failed_here {
            self.failure += 1;
            return std::mem::replace(
                &mut r.failures[self.failure - 1].1,
                Outcome::NotRun(String::new()),
            )
            .map(|()| unreachable!("a failure carries no value"));
        }
        let Some(end) = r.ends.try_get(self.output) else {
            return Outcome::Failed("the worker sent no output for it".into());
        };
        self.output += 1;
        let decoded = match (self.decoded.is_some(), predecoded) {
            (true, Some(d)) => d,
            (true, None) => Err("no decoded result".into()),
            (false, _) => {
                let bytes = r.outputs.get(self.start..end as usize);
                self.start = end as usize;
                protocol::decode::<O>(bytes.unwrap_or_default())
                    .map_err(|e| format!("cannot decode result: {e}"))
            }
        };
        match decoded {
            Ok(v) => Outcome::Ok(v),
            Err(e) => Outcome::Failed(e.into()),
        }
    }
}
