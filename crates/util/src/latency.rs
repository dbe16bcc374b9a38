//! A latency histogram for the daemons' `/prom` and `/jmx`: fixed bucket bounds, so
//! its memory is constant however many observations it takes, and relaxed atomics,
//! so recording on a hot path (every RPC, every edit-log sync) takes no lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the buckets, in seconds: from half a millisecond (a namespace read)
/// to ten seconds (a stuck quorum write). Prometheus's default set shifted down, since
/// hafs's calls are mostly well under its 5 ms first bound.
pub const BOUNDS_SECONDS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

const BOUNDS_MICROS: [u64; 14] = [
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 5_000_000, 10_000_000,
];

#[derive(Debug, Default)]
pub struct LatencyHistogram {
    /// Observations per bucket (not cumulative); the last counts those above every
    /// bound.
    buckets: [AtomicU64; BOUNDS_MICROS.len() + 1],
    sum_micros: AtomicU64,
    count: AtomicU64,
}

/// A histogram read at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    /// (upper bound in seconds, observations at or below it), ascending and
    /// cumulative, as the Prometheus format wants them.
    pub buckets: Vec<(f64, u64)>,
    pub sum_seconds: f64,
    pub count: u64,
}

impl HistogramSnapshot {
    /// The mean in milliseconds (Hadoop's `…AvgTime`), 0 with no observations.
    pub fn mean_millis(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum_seconds * 1000.0 / self.count as f64
        }
    }
}

impl LatencyHistogram {
    pub fn new() -> LatencyHistogram {
        LatencyHistogram::default()
    }

    pub fn record(&self, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let i = BOUNDS_MICROS.partition_point(|&b| b < micros);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// The figures now. Recording goes on meanwhile, so the total is taken as the sum
    /// of the buckets read (not `count`, which may be a step ahead), keeping the
    /// snapshot self-consistent: the `+Inf` bucket equals `count`.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut cumulative = 0u64;
        let mut buckets = Vec::with_capacity(BOUNDS_SECONDS.len());
        for (i, le) in BOUNDS_SECONDS.iter().enumerate() {
            cumulative += self.buckets[i].load(Ordering::Relaxed);
            buckets.push((*le, cumulative));
        }
        cumulative += self.buckets[BOUNDS_SECONDS.len()].load(Ordering::Relaxed);
        HistogramSnapshot {
            buckets,
            sum_seconds: self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
            count: cumulative,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_at_or_above_them() {
        let h = LatencyHistogram::new();
        h.record(Duration::from_micros(100)); // ≤ 0.5 ms
        h.record(Duration::from_micros(500)); // exactly on a bound: that bucket
        h.record(Duration::from_micros(501)); // ≤ 1 ms
        h.record(Duration::from_millis(30)); // ≤ 50 ms
        h.record(Duration::from_secs(60)); // above every bound
        let s = h.snapshot();
        assert_eq!(s.count, 5);
        assert_eq!(s.buckets[0], (0.0005, 2));
        assert_eq!(s.buckets[1], (0.001, 3));
        assert_eq!(s.buckets[5], (0.025, 3));
        assert_eq!(s.buckets[6], (0.05, 4));
        assert_eq!(s.buckets.last(), Some(&(10.0, 4)));
        assert!(
            (s.sum_seconds - 60.031101).abs() < 1e-9,
            "{}",
            s.sum_seconds
        );
        assert!((s.mean_millis() - 60031.101 / 5.0).abs() < 1e-6);
    }

    #[test]
    fn bounds_agree_and_ascend() {
        for (s, m) in BOUNDS_SECONDS.iter().zip(BOUNDS_MICROS) {
            assert_eq!((s * 1e6).round() as u64, m);
        }
        assert!(BOUNDS_MICROS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(LatencyHistogram::new().snapshot().mean_millis(), 0.0);
    }
}
