//! Properties of the dispatch policy, checked on the simulator: every item
//! ends exactly once; no worker idles longer than two round trips while an
//! item no worker holds waits; and the makespan stays near the bound of
//! an ideal pool, for uniform, skewed and heavy-tailed durations, with
//! workers that crash or stall.

use std::time::Duration;

use proptest::prelude::*;

use super::{bound, simulate, Fate, LATENCY, STARTUP};
use crate::settings::PoolSettings;

/// A round trip.
fn round_trip() -> Duration {
    2 * LATENCY
}

/// The longest a worker may idle while an item no worker holds waits: a
/// round trip to hear that it idles and send it work, and another when
/// that work had to be taken back from a busy worker first; plus twice
/// the shortest item (a report that was on its way as the work was sent)
/// and a few microseconds (workers report times in whole microseconds).
fn idle_limit(durations: &[Duration]) -> Duration {
    let shortest = durations.iter().min().copied().unwrap_or_default();
    2 * round_trip() + 2 * shortest + Duration::from_micros(5)
}

fn settings(processes: usize, concurrency: u32, chunksize: Option<usize>) -> PoolSettings {
    let mut s = PoolSettings::default()
        .processes(processes)
        .concurrency(concurrency);
    s.chunksize = chunksize;
    s
}

fn micros(d: u64) -> Duration {
    Duration::from_micros(d)
}

/// Durations: uniform, skewed (short items with a few long ones), or
/// heavy-tailed (Pareto, shape 1.1 to 2.5).
fn durations() -> impl Strategy<Value = Vec<Duration>> {
    let uniform = (1usize..300, 5u64..50_000).prop_map(|(n, d)| vec![micros(d); n]);
    let skewed = proptest::collection::vec(
        prop_oneof![8 => 5u64..2_000, 1 => 100_000u64..2_000_000],
        1..300,
    )
    .prop_map(|v| v.into_iter().map(micros).collect());
    let pareto = (1usize..300, 100u64..20_000, 11u32..25, any::<u64>()).prop_map(
        |(n, scale, shape, seed)| {
            let mut rng = seed | 1;
            (0..n)
                .map(|_| {
                    // xorshift: a uniform in (0, 1], then Pareto's inverse.
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let u = ((rng >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
                    let d = scale as f64 / u.powf(10.0 / f64::from(shape));
                    micros(d.min(5e6) as u64)
                })
                .collect()
        },
    );
    prop_oneof![uniform, skewed, pareto]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_item_ends_once_no_worker_idles_and_the_makespan_is_near_the_bound(
        durations in durations(),
        processes in 1usize..5,
        concurrency in 1u32..5,
        chunksize in prop_oneof![3 => Just(None), 1 => (1usize..6).prop_map(Some)],
    ) {
        let fates: Vec<Fate> = durations.iter().map(|d| Fate::Runs(*d)).collect();
        let seen = simulate(settings(processes, concurrency, chunksize), &fates);
        prop_assert!(seen.reports.iter().all(|&n| n == 1), "{:?}", seen.reports);
        let limit = idle_limit(&durations);
        prop_assert!(seen.longest_idle <= limit, "idled {:?}", seen.longest_idle);
        if chunksize.is_none() {
            let lanes = processes * concurrency as usize;
            // Any schedule that never idles while work waits ends within
            // the sum over the threads plus the longest item (Graham);
            // with two workers, as the issue measures, within 10%
            // (+0.1 s) of the ideal pool that starts items in input order.
            let sum: Duration = durations.iter().sum();
            let longest = durations.iter().max().copied().unwrap_or_default();
            let ideal = if (processes, concurrency) == (2, 1) {
                bound(&durations, lanes)
            } else {
                sum / lanes as u32 + longest
            };
            let limit = STARTUP + ideal.mul_f64(1.1) + Duration::from_millis(100);
            prop_assert!(
                seen.makespan <= limit,
                "makespan {:?}, bound {:?}", seen.makespan, ideal
            );
        }
    }

    #[test]
    fn every_item_ends_once_when_workers_crash_or_stall(
        durations in durations(),
        bad in proptest::collection::vec((any::<prop::sample::Index>(), any::<bool>()), 1..4),
        processes in 1usize..4,
        concurrency in 1u32..5,
    ) {
        let mut fates: Vec<Fate> = durations.iter().map(|d| Fate::Runs(*d)).collect();
        for (index, crash) in bad {
            let i = index.index(fates.len());
            fates[i] = if crash { Fate::Crashes(durations[i] / 2) } else { Fate::Stalls };
        }
        let mut s = settings(processes, concurrency, None);
        s.timeout = Some(Duration::from_secs(10));
        let seen = simulate(s, &fates);
        prop_assert!(seen.reports.iter().all(|&n| n == 1), "{:?}", seen.reports);
    }
}

#[test]
fn the_issues_uneven_rows_meet_their_bound() {
    let ms = |v: &[u64]| {
        v.iter()
            .map(|&m| Duration::from_millis(m))
            .collect::<Vec<_>>()
    };
    let mut rows = vec![ms(&[3000, 1000, 1000, 1000]), ms(&[2000, 100, 2000, 100])];
    rows.push(ms(&[&[2000][..], &[100; 20][..]].concat()));
    rows.push(ms(&[&[100; 20][..], &[2000][..]].concat()));
    for durations in rows {
        let fates: Vec<Fate> = durations.iter().map(|d| Fate::Runs(*d)).collect();
        let seen = simulate(settings(2, 1, None), &fates);
        let ideal = bound(&durations, 2);
        assert!(seen.reports.iter().all(|&n| n == 1));
        // Start-up and a round trip per item, nothing more.
        let overhead = STARTUP + round_trip() * durations.len() as u32;
        assert!(
            seen.makespan <= ideal + overhead,
            "{:?} vs {ideal:?}",
            seen.makespan
        );
    }
}

#[test]
fn k_items_of_one_chunk_run_at_once_in_one_worker() {
    // One worker, K = 4, the whole input one chunk of 20: the worker's
    // four threads share the chunk, as an ideal pool of four lanes would.
    let durations = vec![Duration::from_millis(10); 20];
    let fates: Vec<Fate> = durations.iter().map(|d| Fate::Runs(*d)).collect();
    let seen = simulate(settings(1, 4, Some(20)), &fates);
    assert!(seen.reports.iter().all(|&n| n == 1), "{:?}", seen.reports);
    let ideal = bound(&durations, 4);
    let overhead = STARTUP + 2 * round_trip();
    assert!(
        seen.makespan <= ideal + overhead,
        "{:?} vs {ideal:?}",
        seen.makespan
    );
    assert!(seen.longest_idle <= idle_limit(&durations));
}

#[test]
fn a_worker_that_dies_while_k_items_of_one_chunk_run_reports_each_once() {
    for crash_at in [0, 3, 5, 19] {
        let mut fates = vec![Fate::Runs(Duration::from_millis(10)); 20];
        fates[crash_at] = Fate::Crashes(Duration::from_millis(5));
        for processes in [1, 2] {
            let seen = simulate(settings(processes, 4, Some(20)), &fates);
            assert!(
                seen.reports.iter().all(|&n| n == 1),
                "crash at {crash_at}, {processes} workers: {:?}",
                seen.reports
            );
        }
    }
}
