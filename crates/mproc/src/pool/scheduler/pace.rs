//! [`Pace`]: how long one job's items take, as measured in the workers,
//! for sizing chunks and deciding what to send ahead.
//!
//! Recent measurements count more than old ones (each new one takes a
//! quarter of the weight), so a job whose items change in length is
//! followed within a few reports. It knows nothing of workers or chunks.

use std::time::Duration;

/// Share of the weight a new measurement takes.
const NEW: f64 = 0.25;

/// Share of the weight the peak keeps at each measurement.
const PEAK_KEPT: f64 = 0.9;

/// The measured time per item of one job.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Pace {
    /// Microseconds per item, once measured.
    micros: Option<f64>,
    /// The slowest recent measurement (fading by a tenth at each one), so
    /// that one slow item among fast ones is not averaged away.
    peak: f64,
}

impl Pace {
    /// Adds a measurement: `count` items ran in `elapsed`.
    pub(crate) fn record(&mut self, elapsed: Duration, count: u32) {
        if count == 0 {
            return;
        }
        let sample = elapsed.as_secs_f64() * 1e6 / f64::from(count);
        self.micros = Some(match self.micros {
            None => sample,
            Some(old) => old * (1.0 - NEW) + sample * NEW,
        });
        self.peak = sample.max(self.peak * PEAK_KEPT);
    }

    /// The measured time per item (zero when not measured).
    pub(crate) fn per_item(&self) -> Duration {
        Duration::from_secs_f64(self.micros.unwrap_or(0.0) / 1e6)
    }

    /// True once measured, and every recent measurement faster than
    /// `limit` per item.
    pub(crate) fn is_faster_than(&self, limit: Duration) -> bool {
        self.micros.is_some() && self.peak < limit.as_secs_f64() * 1e6
    }

    /// Items that fill `work` at this pace (at least one; one when not
    /// measured, or when a recent item alone took longer).
    pub(crate) fn items_in(&self, work: Duration) -> usize {
        match self.micros {
            None => 1,
            Some(_) if self.peak >= work.as_secs_f64() * 1e6 => 1,
            Some(m) => {
                let n = work.as_secs_f64() * 1e6 / m.max(0.01);
                (n as usize).clamp(1, crate::protocol::MAX_CHUNK)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unmeasured_job_goes_one_item_at_a_time() {
        let pace = Pace::default();
        assert_eq!(pace.items_in(Duration::from_millis(2)), 1);
        assert!(!pace.is_faster_than(Duration::from_secs(1)));
    }

    #[test]
    fn fast_items_fill_a_chunk_and_slow_ones_go_alone() {
        let mut pace = Pace::default();
        pace.record(Duration::from_micros(100), 1000);
        assert_eq!(pace.items_in(Duration::from_millis(2)), 20_000);
        assert!(pace.is_faster_than(Duration::from_millis(1)));
        let mut slow = Pace::default();
        slow.record(Duration::from_millis(100), 1);
        assert_eq!(slow.items_in(Duration::from_millis(2)), 1);
        assert!(!slow.is_faster_than(Duration::from_millis(1)));
    }

    #[test]
    fn recent_measurements_count_more() {
        let mut pace = Pace::default();
        pace.record(Duration::from_micros(10), 1);
        for _ in 0..20 {
            pace.record(Duration::from_millis(50), 1);
        }
        assert!(!pace.is_faster_than(Duration::from_millis(10)));
    }
}

/// Each job's [`Pace`], by job key: a pool runs a few jobs, so a short
/// list searched in order (no hashing for each chunk sent and reported).
#[derive(Debug, Default)]
pub(crate) struct Paces(Vec<(u32, Pace)>);

impl Paces {
    /// The pace of job `key`, once it was measured.
    #[inline]
    pub(crate) fn get(&self, key: &u32) -> Option<&Pace> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, p)| p)
    }

    /// The pace of job `key`, to record into (a new one if none).
    pub(crate) fn entry(&mut self, key: u32) -> &mut Pace {
        let i = match self.0.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                self.0.push((key, Pace::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[i].1
    }
}
