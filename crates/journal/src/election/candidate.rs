//! The candidate's side of the built-in election, free of IO: timing rules, the term to
//! ask for, which breadcrumb is the latest, and the holder's own deadline. The
//! `JournalElector` (hafs-ha) and the election model check both use these, so the model
//! checks the code that runs.
//!
//! The holder's deadline is `sent + lease - margin` by its own clock, where `sent` is the
//! moment BEFORE it sent the acquire/renew that a majority granted. A JournalNode that
//! granted it started its `lease` later, by its own clock; with clock rates within
//! `±ρ` of real time, the holder's deadline comes first whenever
//! `margin > lease · 2ρ / (1 + ρ)` (docs/election.md).

use hafs_conf::keys;
use hafs_util::invariant;

use super::lease::{LeaseView, MAX_LEASE_MS, MIN_LEASE_MS};
use super::lease_file::Breadcrumb;

/// `hafs.ha.election.lease.ms`: how long a grant lasts (and so how soon a dead holder is
/// replaced).
pub const LEASE_MS_KEY: &str = keys::HAFS_HA_ELECTION_LEASE_MS;
pub const LEASE_MS_DEFAULT: u64 = keys::HAFS_HA_ELECTION_LEASE_MS_DEFAULT;
/// `hafs.ha.election.renew-interval.ms`: how often the holder renews (default lease/3).
pub const RENEW_INTERVAL_MS_KEY: &str = keys::HAFS_HA_ELECTION_RENEW_INTERVAL_MS;
/// `hafs.ha.election.safety-margin.ms`: how much earlier than the lease the holder
/// considers it lost.
pub const SAFETY_MARGIN_MS_KEY: &str = keys::HAFS_HA_ELECTION_SAFETY_MARGIN_MS;
pub const SAFETY_MARGIN_MS_DEFAULT: u64 = keys::HAFS_HA_ELECTION_SAFETY_MARGIN_MS_DEFAULT;
/// `hafs.ha.election.max-clock-drift.ppm`: the assumed bound on how much the rate of any
/// host's monotonic clock differs from real time (parts per million; 10,000 = 1 %). The
/// margin must cover it.
pub const MAX_DRIFT_PPM_KEY: &str = keys::HAFS_HA_ELECTION_MAX_CLOCK_DRIFT_PPM;
pub const MAX_DRIFT_PPM_DEFAULT: u64 = keys::HAFS_HA_ELECTION_MAX_CLOCK_DRIFT_PPM_DEFAULT;

/// The election's timing, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ElectionTiming {
    pub lease_ms: u64,
    pub renew_interval_ms: u64,
    pub margin_ms: u64,
}

/// The smallest safe margin for `lease_ms` with clock rates within `drift_ppm`:
/// `ceil(lease · 2ρ / (1 + ρ))`, plus 1 ms so the holder's deadline is strictly first.
pub fn min_margin_ms(lease_ms: u64, drift_ppm: u64) -> u64 {
    let num = lease_ms as u128 * 2 * drift_ppm as u128;
    let den = 1_000_000u128 + drift_ppm as u128;
    (num.div_ceil(den) as u64) + 1
}

impl ElectionTiming {
    /// Checks the timing against the drift bound: the margin covers the drift, and the
    /// holder renews at least once (with time for an answer) before its deadline.
    pub fn new(
        lease_ms: u64,
        renew_interval_ms: u64,
        margin_ms: u64,
        drift_ppm: u64,
    ) -> Result<ElectionTiming, String> {
        if !(MIN_LEASE_MS..=MAX_LEASE_MS).contains(&lease_ms) {
            return Err(format!(
                "{LEASE_MS_KEY} = {lease_ms} is outside {MIN_LEASE_MS}..={MAX_LEASE_MS}"
            ));
        }
        if drift_ppm >= 100_000 {
            return Err(format!(
                "{MAX_DRIFT_PPM_KEY} = {drift_ppm} is not a clock rate bound (use < 100000, i.e. 10 %)"
            ));
        }
        let min = min_margin_ms(lease_ms, drift_ppm);
        if margin_ms < min || margin_ms >= lease_ms {
            return Err(format!(
                "{SAFETY_MARGIN_MS_KEY} = {margin_ms} must be at least {min} (lease {lease_ms} ms, clock drift {drift_ppm} ppm) and below the lease"
            ));
        }
        if renew_interval_ms == 0 || renew_interval_ms * 2 > lease_ms - margin_ms {
            return Err(format!(
                "{RENEW_INTERVAL_MS_KEY} = {renew_interval_ms} must be positive and at most half of lease - margin ({} ms), so a renewal can fail once and still be retried in time",
                lease_ms - margin_ms
            ));
        }
        Ok(ElectionTiming {
            lease_ms,
            renew_interval_ms,
            margin_ms,
        })
    }

    /// hafs's defaults: lease 3 s, renew every second, margin 500 ms.
    pub fn defaults() -> ElectionTiming {
        ElectionTiming::new(
            LEASE_MS_DEFAULT,
            LEASE_MS_DEFAULT / 3,
            SAFETY_MARGIN_MS_DEFAULT,
            MAX_DRIFT_PPM_DEFAULT,
        )
        .expect("the defaults are consistent")
    }

    /// The holder's own deadline for a grant requested at `sent` (its clock).
    pub fn deadline(&self, sent: u64) -> u64 {
        sent + self.lease_ms - self.margin_ms
    }
}

/// A lease the local candidate holds: its term and deadline (local ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Holding {
    pub term: u64,
    pub deadline: u64,
}

impl Holding {
    /// A majority granted `term` to a request sent at `sent`.
    pub fn granted(timing: &ElectionTiming, term: u64, sent: u64) -> Holding {
        // Terms start at 1: `next_term` asks for one above every term seen.
        invariant!(term >= 1, "a lease granted at term 0");
        Holding {
            term,
            deadline: timing.deadline(sent),
        }
    }

    /// A majority renewed a request sent at `sent`. The deadline never moves back (an
    /// older renewal answered late must not shorten it, and cannot lengthen it beyond
    /// what its own send time allows).
    pub fn renewed(&mut self, timing: &ElectionTiming, sent: u64) {
        let d = timing.deadline(sent);
        invariant!(
            d <= sent + timing.lease_ms,
            "holder deadline {d} beyond the lease sent at {sent} for {} ms",
            timing.lease_ms
        );
        self.deadline = self.deadline.max(d);
    }

    /// Whether the holder may still act as the leader at `now`.
    pub fn valid(&self, now: u64) -> bool {
        now < self.deadline
    }
}

/// The term to ask for after seeing `views` (one per answering node).
pub fn next_term<'a>(views: impl IntoIterator<Item = &'a LeaseView>) -> u64 {
    views.into_iter().map(|v| v.term).max().unwrap_or(0) + 1
}

/// The latest breadcrumb among `views`: the highest term wins.
pub fn latest_breadcrumb<'a>(views: impl IntoIterator<Item = &'a LeaseView>) -> Option<Breadcrumb> {
    views
        .into_iter()
        .filter_map(|v| v.breadcrumb.as_ref())
        .max_by_key(|b| b.term)
        .cloned()
}

/// Whether some answering node reports a live holder other than `me`.
pub fn held_elsewhere<'a>(views: impl IntoIterator<Item = &'a LeaseView>, me: &str) -> bool {
    views
        .into_iter()
        .any(|v| v.live && v.holder.as_deref().is_some_and(|h| h != me))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margins_cover_the_drift() {
        // 1 % drift on 3 s: 2 · 0.01 / 1.01 · 3000 = 59.4 → 60, plus 1.
        assert_eq!(min_margin_ms(3000, 10_000), 61);
        assert_eq!(min_margin_ms(3000, 0), 1);
        assert!(ElectionTiming::new(3000, 1000, 60, 10_000).is_err());
        assert!(ElectionTiming::new(3000, 1000, 61, 10_000).is_ok());
        assert!(
            ElectionTiming::new(3000, 1300, 500, 10_000).is_err(),
            "renew too slow"
        );
        assert!(ElectionTiming::new(3000, 1000, 3000, 10_000).is_err());
        assert!(ElectionTiming::new(10, 1, 5, 0).is_err(), "lease too short");
        let d = ElectionTiming::defaults();
        assert_eq!(
            (d.lease_ms, d.renew_interval_ms, d.margin_ms),
            (3000, 1000, 500)
        );
    }

    #[test]
    fn the_holders_deadline_precedes_any_nodes_expiry_at_worst_drift() {
        // Worst case: the holder's clock is slow (its deadline comes late in real time),
        // the node's clock is fast (its expiry comes early) and the node got the request
        // the instant it was sent. Checked at a few real send times with ρ = 1 %.
        let t = ElectionTiming::new(3000, 1000, min_margin_ms(3000, 10_000), 10_000).unwrap();
        let rho = 0.01f64;
        for sent_real in [0.0f64, 1.0, 1234.5, 1e6] {
            // The holder's clock runs slow: its deadline comes late in real time.
            let holder_deadline_real = sent_real + (t.lease_ms - t.margin_ms) as f64 / (1.0 - rho);
            // The node's clock runs fast: its expiry comes early in real time.
            let node_expiry_real = sent_real + t.lease_ms as f64 / (1.0 + rho);
            assert!(holder_deadline_real < node_expiry_real);
        }
    }

    #[test]
    fn holding_deadline_never_moves_back() {
        let t = ElectionTiming::defaults();
        let mut h = Holding::granted(&t, 3, 100);
        assert_eq!(h.deadline, 2600);
        h.renewed(&t, 1100);
        assert_eq!(h.deadline, 3600);
        h.renewed(&t, 900);
        assert_eq!(h.deadline, 3600);
        assert!(h.valid(3599) && !h.valid(3600));
    }

    #[test]
    fn term_and_breadcrumb_choice() {
        let v = |term, bc: Option<u64>, live, holder: &str| LeaseView {
            term,
            holder: Some(holder.into()),
            live,
            remaining_ms: 0,
            duration_ms: 1000,
            breadcrumb: bc.map(|t| Breadcrumb {
                term: t,
                holder: format!("h{t}"),
                data: vec![t as u8],
            }),
        };
        let views = [
            v(4, Some(2), false, "a"),
            v(7, Some(6), true, "b"),
            v(5, None, false, "a"),
        ];
        assert_eq!(next_term(&views), 8);
        assert_eq!(latest_breadcrumb(&views).unwrap().term, 6);
        assert!(held_elsewhere(&views, "a"));
        assert!(!held_elsewhere(&views, "b"));
        assert_eq!(next_term(&[]), 1);
    }
}
