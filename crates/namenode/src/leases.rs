//! Leases (Hadoop's LeaseManager): which client holds the right to write which open
//! files, when it last renewed, and which files are being recovered after their
//! writer went silent.
//!
//! The files themselves (who holds each open file) live in the namespace, because
//! they are logged; this table keeps only what is not logged: renewal times and the
//! block recoveries in flight. Times are arguments so the rules can be tested
//! without sleeping.
//!
//! - Soft limit (Hadoop: 60 s): after it, another client may take the file over
//!   (create with overwrite, append, recoverLease start a recovery).
//! - Hard limit (`dfs.namenode.lease-hard-limit-sec`, 20 min): after it, the
//!   NameNode recovers the holder's files on its own.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The lease holder name the NameNode uses for files it is recovering (Hadoop's
/// `HDFS_NameNode` prefix), so the dead writer's name no longer owns them.
pub const RECOVERY_HOLDER_PREFIX: &str = "HDFS_NameNode";

/// Hadoop's HdfsConstants.LEASE_SOFTLIMIT_PERIOD.
pub const DEFAULT_SOFT_LIMIT: Duration = Duration::from_secs(60);

/// Most files recovered in one pass of the lease monitor, so a mass expiry cannot
/// hold up the other background duties (the rest follow on the next pass).
pub const MAX_RECOVERIES_PER_PASS: usize = 1000;

/// A block recovery in flight for one open file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovery {
    pub block_id: u64,
    /// The generation stamp the replicas are to agree on (Hadoop's recovery id).
    pub recovery_id: u64,
    pub started: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseLimits {
    pub soft: Duration,
    pub hard: Duration,
    /// How long a block recovery may take before the NameNode starts it again with a
    /// new recovery id (a primary DataNode may have died meanwhile).
    pub recovery_retry: Duration,
}

#[derive(Debug)]
pub struct LeaseManager {
    limits: LeaseLimits,
    /// Holder → last renewal.
    renewed: HashMap<String, Instant>,
    /// Inode id → block recovery in flight.
    recovering: HashMap<u64, Recovery>,
}

impl LeaseManager {
    pub fn new(limits: LeaseLimits) -> LeaseManager {
        LeaseManager {
            limits,
            renewed: HashMap::new(),
            recovering: HashMap::new(),
        }
    }

    pub fn limits(&self) -> LeaseLimits {
        self.limits
    }

    pub fn set_limits(&mut self, limits: LeaseLimits) {
        self.limits = limits;
    }

    pub fn renew(&mut self, holder: &str, now: Instant) {
        match self.renewed.get_mut(holder) {
            Some(t) => *t = now,
            None => {
                self.renewed.insert(holder.to_string(), now);
            }
        }
    }

    /// How long since `holder` renewed (None: never seen, e.g. after a restart before
    /// the first renewal — such holders are given a lease when the NameNode starts).
    fn silent_for(&self, holder: &str, now: Instant) -> Option<Duration> {
        self.renewed
            .get(holder)
            .map(|t| now.saturating_duration_since(*t))
    }

    /// Past the soft limit: another client may take the file over.
    pub fn soft_expired(&self, holder: &str, now: Instant) -> bool {
        self.silent_for(holder, now)
            .is_none_or(|d| d > self.limits.soft)
    }

    /// Past the hard limit: the NameNode recovers the holder's files by itself.
    pub fn hard_expired(&self, holder: &str, now: Instant) -> bool {
        self.silent_for(holder, now)
            .is_none_or(|d| d > self.limits.hard)
    }

    /// Of the open files (inode id, holder), those to recover now: holders past the
    /// hard limit, and files whose recovery has been running longer than the retry
    /// interval. Bounded by MAX_RECOVERIES_PER_PASS.
    pub fn due_for_recovery<'a>(
        &self,
        open_files: impl Iterator<Item = (u64, &'a str)>,
        now: Instant,
    ) -> Vec<(u64, String)> {
        open_files
            .filter(|(id, holder)| match self.recovering.get(id) {
                Some(r) => now.saturating_duration_since(r.started) > self.limits.recovery_retry,
                None => self.hard_expired(holder, now),
            })
            .take(MAX_RECOVERIES_PER_PASS)
            .map(|(id, h)| (id, h.to_string()))
            .collect()
    }

    pub fn start_recovery(&mut self, inode_id: u64, recovery: Recovery) {
        self.recovering.insert(inode_id, recovery);
    }

    pub fn recovery(&self, inode_id: u64) -> Option<Recovery> {
        self.recovering.get(&inode_id).copied()
    }

    /// The recovery of `block_id`, if one is in flight: (inode id, recovery).
    pub fn recovery_of_block(&self, block_id: u64) -> Option<(u64, Recovery)> {
        self.recovering
            .iter()
            .find(|(_, r)| r.block_id == block_id)
            .map(|(id, r)| (*id, *r))
    }

    pub fn end_recovery(&mut self, inode_id: u64) {
        self.recovering.remove(&inode_id);
    }

    /// Forgets holders with no open file that have been silent past the hard limit,
    /// and recoveries of files no longer open, so the table stays bounded by the
    /// live clients.
    pub fn prune(&mut self, open: &HashMap<u64, String>, now: Instant) {
        let hard = self.limits.hard;
        let holders: std::collections::HashSet<&String> = open.values().collect();
        self.renewed
            .retain(|h, t| holders.contains(h) || now.saturating_duration_since(*t) < hard);
        self.recovering.retain(|id, _| open.contains_key(id));
    }

    pub fn holders(&self) -> usize {
        self.renewed.len()
    }
}

/// The holder name for the NameNode's own recovery of a file.
pub fn recovery_holder(now_ms: i64) -> String {
    format!("{RECOVERY_HOLDER_PREFIX}-{now_ms}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> LeaseLimits {
        LeaseLimits {
            soft: Duration::from_secs(1),
            hard: Duration::from_secs(5),
            recovery_retry: Duration::from_secs(3),
        }
    }

    #[test]
    fn soft_and_hard_limits() {
        let t0 = Instant::now();
        let mut m = LeaseManager::new(limits());
        m.renew("c1", t0);
        assert!(!m.soft_expired("c1", t0 + Duration::from_millis(500)));
        assert!(m.soft_expired("c1", t0 + Duration::from_secs(2)));
        assert!(!m.hard_expired("c1", t0 + Duration::from_secs(2)));
        assert!(m.hard_expired("c1", t0 + Duration::from_secs(6)));
        // A renewal restarts both clocks.
        m.renew("c1", t0 + Duration::from_secs(6));
        assert!(!m.hard_expired("c1", t0 + Duration::from_secs(7)));
        // Unknown holders have no lease.
        assert!(m.hard_expired("nobody", t0));
    }

    #[test]
    fn recovery_is_due_at_hard_limit_and_retried() {
        let t0 = Instant::now();
        let mut m = LeaseManager::new(limits());
        m.renew("c1", t0);
        m.renew("c2", t0 + Duration::from_secs(4));
        let open = [(10u64, "c1"), (11, "c2")];
        let at = t0 + Duration::from_secs(6);
        assert_eq!(
            m.due_for_recovery(open.iter().copied(), at),
            vec![(10, "c1".to_string())]
        );
        m.start_recovery(
            10,
            Recovery {
                block_id: 7,
                recovery_id: 1001,
                started: at,
            },
        );
        // Running recoveries are left alone until the retry interval passes.
        assert!(m
            .due_for_recovery(open.iter().copied(), at + Duration::from_secs(1))
            .is_empty());
        assert_eq!(
            m.due_for_recovery(open.iter().copied(), at + Duration::from_secs(4)),
            vec![(10, "c1".to_string()), (11, "c2".to_string())]
        );
        assert_eq!(m.recovery_of_block(7).map(|(id, _)| id), Some(10));
        m.end_recovery(10);
        assert_eq!(m.recovery(10), None);
    }

    #[test]
    fn prune_keeps_holders_of_open_files() {
        let t0 = Instant::now();
        let mut m = LeaseManager::new(limits());
        m.renew("open", t0);
        m.renew("gone", t0);
        let open: HashMap<u64, String> = [(1, "open".to_string())].into();
        m.prune(&open, t0 + Duration::from_secs(10));
        assert_eq!(m.holders(), 1);
        assert!(!m.soft_expired("open", t0));
    }
}
