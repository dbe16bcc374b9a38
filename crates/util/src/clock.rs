//! Monotonic time in one place: [`monotonic_nanos`] (this host's monotonic clock as a
//! plain number, shared across processes) and the [`Clock`] seam for cores that decide
//! on time.
//!
//! `std::time::Instant` cannot cross a process boundary, but the NameNode's read guard
//! is a deadline that the failover controller (another process on the same host) sets
//! and the NameNode checks. Both read CLOCK_MONOTONIC — the clock `Instant` uses on
//! Linux, which every process of the host shares — through this one function, so the
//! two sides cannot disagree on units or clock.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where a core that decides on time reads "now". The live daemon passes
/// [`SystemClock`]; a test passes a [`ManualClock`] and moves time itself, so that a
/// timeout (a dead DataNode, a safe-mode extension, a pending replication) is decided
/// without sleeping. Cores that are plain data take `now` as an argument instead (the
/// namespace, the election `Lease`); this trait is for the ones behind a lock that
/// read the time themselves (the block manager).
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Instant;
}

/// The process's monotonic clock (`Instant::now`).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when the test says so.
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    offset: Mutex<Duration>,
}

impl ManualClock {
    pub fn new() -> ManualClock {
        ManualClock {
            start: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
        }
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        *crate::invariant::lock(&self.offset, "manual clock") += d;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *crate::invariant::lock(&self.offset, "manual clock")
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
pub fn monotonic_nanos() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on
    // Linux, so the call cannot fail.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's
/// algorithm): the calendar date for the Java-style timestamps tools print.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let c = ManualClock::new();
        let a = c.now();
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(c.now(), a);
        c.advance(Duration::from_secs(5));
        assert_eq!(c.now() - a, Duration::from_secs(5));
    }

    #[test]
    fn never_goes_back_and_tracks_instant() {
        let a = monotonic_nanos();
        let start = std::time::Instant::now();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let b = monotonic_nanos();
        assert!(b >= a);
        assert!(b - a >= 5_000_000);
        assert!(b - a <= start.elapsed().as_nanos() as u64 + 5_000_000);
    }
}
