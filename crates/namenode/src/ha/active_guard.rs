//! The read guard of a NameNode made Active by a failover controller that elects
//! through the JournalNodes (docs/election.md): the NameNode answers calls as Active
//! only while the controller's latest lease deadline is still in the future.
//!
//! The controller runs beside its NameNode on the same host, so both read the same
//! system-wide monotonic clock (`CLOCK_MONOTONIC`). It hands over the deadline as an
//! absolute value of that clock rather than as "time left": a hand-over that waited in
//! a paused NameNode's socket can then never extend the guard past the lease the
//! JournalNodes granted, however long it waited.
//!
//! A NameNode whose guard was never set (manual HA, the ZooKeeper election, a
//! non-HA NameNode) is unguarded and behaves as before.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// The longest lease the election allows (`hafs.ha.election.lease.ms` ≤ 10 min), with
/// a second of slack: a deadline further ahead than this cannot come from a
/// controller on this host's clock, and is refused.
pub const MAX_GUARD_AHEAD: Duration = Duration::from_secs(601);

/// The host clock both sides of the guard read (re-exported: the guard's callers and
/// tests compute deadlines in it).
pub use hafs_util::clock::monotonic_nanos;

/// The guard: 0 = never set (unguarded), else the deadline in [`monotonic_nanos`].
#[derive(Debug, Default)]
pub struct ActiveGuard {
    until: AtomicU64,
    /// The expiry was logged (once per expiry: the check runs on every call).
    logged: AtomicBool,
}

impl ActiveGuard {
    /// Whether an Active NameNode may answer calls now.
    pub fn is_open(&self) -> bool {
        let open = self.is_open_at(monotonic_nanos());
        if !open && !self.logged.swap(true, Ordering::SeqCst) {
            tracing::warn!(
                "read guard expired: the failover controller's lease deadline has passed; \
                 answering StandbyException until it renews the guard or makes this \
                 NameNode Standby"
            );
        }
        open
    }

    pub fn is_open_at(&self, now_nanos: u64) -> bool {
        match self.until.load(Ordering::SeqCst) {
            0 => true,
            until => now_nanos < until,
        }
    }

    /// Whether a guard was ever set (and not cleared).
    pub fn is_set(&self) -> bool {
        self.until.load(Ordering::SeqCst) != 0
    }

    /// How long the guard stays open from now (None: unguarded).
    pub fn remaining(&self) -> Option<Duration> {
        match self.until.load(Ordering::SeqCst) {
            0 => None,
            until => Some(Duration::from_nanos(
                until.saturating_sub(monotonic_nanos()),
            )),
        }
    }

    /// The controller's lease is valid until `until_nanos` on this host's monotonic
    /// clock. The guard only moves forward (a hand-over that arrives late, after a
    /// newer one, changes nothing); a value implausibly far ahead is refused.
    pub fn extend(&self, until_nanos: u64) -> Result<(), String> {
        let now = monotonic_nanos();
        let ahead = Duration::from_nanos(until_nanos.saturating_sub(now));
        if ahead > MAX_GUARD_AHEAD {
            return Err(format!(
                "a lease deadline {} s ahead of this host's monotonic clock: the failover \
                 controller must run on the NameNode's host",
                ahead.as_secs()
            ));
        }
        let until = until_nanos.max(1);
        if self.until.fetch_max(until, Ordering::SeqCst) < until {
            self.logged.store(false, Ordering::SeqCst);
        }
        Ok(())
    }

    /// Back to unguarded (a manual transition, or Standby).
    pub fn clear(&self) {
        self.until.store(0, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unguarded_until_set_then_open_only_before_the_deadline() {
        let g = ActiveGuard::default();
        assert!(g.is_open() && !g.is_set() && g.remaining().is_none());
        let now = monotonic_nanos();
        g.extend(now + 1_000_000_000).unwrap();
        assert!(g.is_set());
        assert!(g.is_open_at(now));
        assert!(!g.is_open_at(now + 1_000_000_000));
        assert!(g.remaining().unwrap() <= Duration::from_secs(1));
    }

    #[test]
    fn a_deadline_in_the_past_closes_and_a_refresh_reopens() {
        let g = ActiveGuard::default();
        let now = monotonic_nanos();
        g.extend(now.saturating_sub(1)).unwrap();
        assert!(!g.is_open());
        g.extend(monotonic_nanos() + 5_000_000_000).unwrap();
        assert!(g.is_open());
    }

    #[test]
    fn never_moves_back_refuses_far_future_and_clears() {
        let g = ActiveGuard::default();
        let now = monotonic_nanos();
        g.extend(now + 2_000_000_000).unwrap();
        // A late, older hand-over does not shorten it.
        g.extend(now + 1_000).unwrap();
        assert!(g.is_open_at(now + 1_500_000_000));
        // Another host's clock (or garbage) is refused and changes nothing.
        assert!(g.extend(now + 3_600_000_000_000).is_err());
        assert!(!g.is_open_at(now + 2_000_000_000));
        g.clear();
        assert!(!g.is_set() && g.is_open_at(u64::MAX));
    }
}
