//! Which NameNode this DataNode obeys (invariant 4 of the design: DataNodes obey one
//! master).
//!
//! Every heartbeat reply carries the NameNode's HA state and the highest txid it has
//! seen. A NameNode claiming ACTIVE is taken as the Active unless another one made a
//! claim at a higher txid; a NameNode that was Active and now says STANDBY gives the
//! role up. Only the Active's commands are executed: after a failover the old Active
//! may still believe it is Active for a moment, but its txid is lower than the new
//! Active's, so its commands (deletes, above all) are ignored.

use std::fmt;

/// A NameNode's HA state as its heartbeat reply states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaState {
    Active,
    Standby,
    Observer,
}

impl HaState {
    pub fn from_proto(state: i32) -> HaState {
        use hafs_proto::hdfs::datanode::nnha_status_heartbeat_proto::State;
        match State::try_from(state) {
            Ok(State::Active) => HaState::Active,
            Ok(State::Observer) => HaState::Observer,
            // An unknown state is never taken as a claim to be Active.
            Ok(State::Standby) | Err(_) => HaState::Standby,
        }
    }
}

impl fmt::Display for HaState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HaState::Active => "ACTIVE",
            HaState::Standby => "STANDBY",
            HaState::Observer => "OBSERVER",
        })
    }
}

/// What a heartbeat reply changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActiveChange {
    None,
    /// This NameNode is now taken as the Active (first claim, or a takeover at a
    /// txid at least as high as the previous Active's).
    BecameActive {
        previous: Option<usize>,
    },
    /// This NameNode claimed ACTIVE at a lower txid than the current Active's last
    /// claim: a stale Active, ignored.
    StaleClaimIgnored {
        current_txid: u64,
    },
    /// The Active said it is no longer Active.
    Relinquished,
}

/// Tracks the Active NameNode among the NameNodes (by index) of one block pool.
#[derive(Debug, Default, Clone)]
pub struct ActiveTracker {
    active: Option<usize>,
    last_active_claim_txid: u64,
}

impl ActiveTracker {
    pub fn new() -> Self {
        ActiveTracker::default()
    }

    /// The NameNode currently obeyed, if any.
    pub fn active(&self) -> Option<usize> {
        self.active
    }

    pub fn is_active(&self, nn: usize) -> bool {
        self.active == Some(nn)
    }

    /// The txid of the current Active's latest claim (0 before any).
    pub fn last_active_claim_txid(&self) -> u64 {
        self.last_active_claim_txid
    }

    /// Applies one heartbeat reply from NameNode `nn`.
    pub fn on_heartbeat(&mut self, nn: usize, state: HaState, txid: u64) -> ActiveChange {
        let claims_active = state == HaState::Active;
        let thought_active = self.active == Some(nn);
        let mut change = ActiveChange::None;
        if claims_active && !thought_active {
            if txid < self.last_active_claim_txid {
                return ActiveChange::StaleClaimIgnored {
                    current_txid: self.last_active_claim_txid,
                };
            }
            change = ActiveChange::BecameActive {
                previous: self.active,
            };
            self.active = Some(nn);
        } else if !claims_active && thought_active {
            self.active = None;
            change = ActiveChange::Relinquished;
        }
        if self.active == Some(nn) {
            // An Active's txid only grows; never let the mark move back.
            self.last_active_claim_txid = self.last_active_claim_txid.max(txid);
        }
        change
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use HaState::*;

    #[test]
    fn first_active_claim_is_taken() {
        let mut t = ActiveTracker::new();
        assert_eq!(t.on_heartbeat(0, Standby, 10), ActiveChange::None);
        assert_eq!(t.active(), None);
        assert_eq!(
            t.on_heartbeat(1, Active, 12),
            ActiveChange::BecameActive { previous: None }
        );
        assert!(t.is_active(1));
        assert!(!t.is_active(0));
        assert_eq!(t.last_active_claim_txid(), 12);
    }

    #[test]
    fn stale_active_claim_is_ignored() {
        let mut t = ActiveTracker::new();
        t.on_heartbeat(1, Active, 100);
        // The old Active, paused during a failover, wakes up still claiming ACTIVE.
        assert_eq!(
            t.on_heartbeat(0, Active, 90),
            ActiveChange::StaleClaimIgnored { current_txid: 100 }
        );
        assert!(t.is_active(1));
    }

    #[test]
    fn higher_claim_takes_over() {
        let mut t = ActiveTracker::new();
        t.on_heartbeat(0, Active, 50);
        assert_eq!(
            t.on_heartbeat(1, Active, 60),
            ActiveChange::BecameActive { previous: Some(0) }
        );
        assert!(t.is_active(1));
        // The old one keeps claiming at its lower txid: ignored.
        assert!(matches!(
            t.on_heartbeat(0, Active, 55),
            ActiveChange::StaleClaimIgnored { .. }
        ));
        assert!(t.is_active(1));
    }

    #[test]
    fn active_going_standby_relinquishes() {
        let mut t = ActiveTracker::new();
        t.on_heartbeat(0, Active, 50);
        assert_eq!(t.on_heartbeat(0, Standby, 51), ActiveChange::Relinquished);
        assert_eq!(t.active(), None);
        // A new claim must still be at least as recent as the last one seen.
        assert!(matches!(
            t.on_heartbeat(1, Active, 40),
            ActiveChange::StaleClaimIgnored { .. }
        ));
        assert_eq!(
            t.on_heartbeat(1, Active, 52),
            ActiveChange::BecameActive { previous: None }
        );
    }

    #[test]
    fn active_txid_mark_never_moves_back() {
        let mut t = ActiveTracker::new();
        t.on_heartbeat(0, Active, 50);
        t.on_heartbeat(0, Active, 45);
        assert_eq!(t.last_active_claim_txid(), 50);
    }

    #[test]
    fn observer_is_never_active() {
        let mut t = ActiveTracker::new();
        assert_eq!(t.on_heartbeat(2, Observer, 1000), ActiveChange::None);
        assert_eq!(t.active(), None);
        assert_eq!(HaState::from_proto(99), Standby);
    }
}
