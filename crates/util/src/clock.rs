//! This host's monotonic clock as a plain number.
//!
//! `std::time::Instant` cannot cross a process boundary, but the NameNode's read guard
//! is a deadline that the failover controller (another process on the same host) sets
//! and the NameNode checks. Both read CLOCK_MONOTONIC — the clock `Instant` uses on
//! Linux, which every process of the host shares — through this one function, so the
//! two sides cannot disagree on units or clock.

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

#[cfg(test)]
mod tests {
    use super::*;

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
