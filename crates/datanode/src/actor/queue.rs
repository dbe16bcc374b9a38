//! What a DataNode has to tell one NameNode between heartbeats: incremental block
//! reports (received / receiving / deleted replicas), corrupt replicas and volume
//! errors. Each actor has its own queue, so a slow or dead NameNode delays nothing
//! for the others.
//!
//! The pending incremental report holds at most one entry per (storage, block id): a
//! newer event for a block replaces the older one (RECEIVED replaces RECEIVING,
//! DELETED replaces RECEIVED), as in Hadoop, which also bounds the queue by the
//! number of replicas. Bad-block and error reports are capped lists.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use tokio::sync::Notify;
use tracing::warn;

/// The status of a replica in an incremental block report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IbrStatus {
    /// A writer started writing the replica (it is RBW).
    Receiving,
    /// The replica is complete (finalized) and may be read.
    Received,
    /// The replica was deleted.
    Deleted,
}

/// One replica change, as reported to the NameNode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IbrEntry {
    pub block_id: u64,
    pub gen_stamp: u64,
    pub num_bytes: u64,
    pub status: IbrStatus,
    /// A DataNode whose replica the NameNode may now delete (re-replication done).
    pub delete_hint: Option<String>,
}

/// A corrupt replica to report: the block and the storage holding the bad copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadBlock {
    pub block_pool_id: String,
    pub block_id: u64,
    pub gen_stamp: u64,
    pub num_bytes: u64,
    pub storage_uuid: String,
}

/// An errorReport to send: Hadoop's error code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReport {
    pub code: u32,
    pub msg: String,
}

/// `ErrorReportRequestProto.ErrorCode`.
pub const ERROR_NOTIFY: u32 = 0;
pub const ERROR_DISK_ERROR: u32 = 1;
pub const ERROR_INVALID_BLOCK: u32 = 2;
pub const ERROR_FATAL_DISK_ERROR: u32 = 3;

/// Most bad-block or error reports kept for one NameNode; older ones are dropped (the
/// scanner finds a corrupt replica again on its next pass).
pub const MAX_PENDING_REPORTS: usize = 10_000;

/// Pending incremental reports of one block pool, per storage.
pub type PendingIbrs = BTreeMap<String, Vec<IbrEntry>>;

#[derive(Default)]
struct Inner {
    /// storage uuid → block id → entry (newest wins).
    ibrs: HashMap<String, HashMap<u64, IbrEntry>>,
    bad_blocks: Vec<BadBlock>,
    errors: Vec<ErrorReport>,
}

/// One NameNode's outbox.
#[derive(Default)]
pub struct ActorQueue {
    inner: Mutex<Inner>,
    /// Woken whenever something is queued.
    pub(crate) wake: Notify,
}

impl ActorQueue {
    pub fn new() -> Self {
        ActorQueue::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps inconsistent (each
        // update is a single insert or push), so a poisoned lock is still usable.
        hafs_util::invariant::lock(&self.inner, "actor queue")
    }

    /// Queues a replica change. A finalized or deleted replica wakes the actor to
    /// report it now: clients wait on it (addBlock's previous-block check, complete).
    /// A replica being received does not; it rides along with the next report or
    /// heartbeat round, as Hadoop's DataNode sends RECEIVING_BLOCK.
    pub fn add_ibr(&self, storage_uuid: &str, entry: IbrEntry) {
        let urgent = entry.status != IbrStatus::Receiving;
        self.lock()
            .ibrs
            .entry(storage_uuid.to_string())
            .or_default()
            .insert(entry.block_id, entry);
        if urgent {
            self.wake.notify_one();
        }
    }

    pub fn add_bad_block(&self, b: BadBlock) {
        let mut g = self.lock();
        if g.bad_blocks.len() >= MAX_PENDING_REPORTS {
            warn!("too many bad-block reports pending; dropping the oldest");
            g.bad_blocks.remove(0);
        }
        g.bad_blocks.push(b);
        drop(g);
        self.wake.notify_one();
    }

    pub fn add_error(&self, e: ErrorReport) {
        let mut g = self.lock();
        if g.errors.len() >= MAX_PENDING_REPORTS {
            g.errors.remove(0);
        }
        g.errors.push(e);
        drop(g);
        self.wake.notify_one();
    }

    pub fn has_ibrs(&self) -> bool {
        self.lock().ibrs.values().any(|m| !m.is_empty())
    }

    pub fn has_anything(&self) -> bool {
        let g = self.lock();
        g.ibrs.values().any(|m| !m.is_empty()) || !g.bad_blocks.is_empty() || !g.errors.is_empty()
    }

    /// Takes every pending incremental report, per storage, blocks in id order.
    pub fn take_ibrs(&self) -> PendingIbrs {
        let mut g = self.lock();
        let mut out = BTreeMap::new();
        for (storage, blocks) in g.ibrs.drain() {
            if blocks.is_empty() {
                continue;
            }
            let mut v: Vec<IbrEntry> = blocks.into_values().collect();
            v.sort_by_key(|e| e.block_id);
            out.insert(storage, v);
        }
        out
    }

    /// Puts back reports whose sending failed; an entry that was superseded by a newer
    /// event in the meantime stays superseded.
    pub fn restore_ibrs(&self, pending: PendingIbrs) {
        let mut g = self.lock();
        for (storage, entries) in pending {
            let m = g.ibrs.entry(storage).or_default();
            for e in entries {
                m.entry(e.block_id).or_insert(e);
            }
        }
    }

    pub fn take_bad_blocks(&self) -> Vec<BadBlock> {
        std::mem::take(&mut self.lock().bad_blocks)
    }

    pub fn restore_bad_blocks(&self, mut v: Vec<BadBlock>) {
        let mut g = self.lock();
        v.append(&mut g.bad_blocks);
        let excess = v.len().saturating_sub(MAX_PENDING_REPORTS);
        v.drain(..excess);
        g.bad_blocks = v;
    }

    pub fn take_errors(&self) -> Vec<ErrorReport> {
        std::mem::take(&mut self.lock().errors)
    }

    pub fn restore_errors(&self, mut v: Vec<ErrorReport>) {
        let mut g = self.lock();
        v.append(&mut g.errors);
        let excess = v.len().saturating_sub(MAX_PENDING_REPORTS);
        v.drain(..excess);
        g.errors = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(id: u64, status: IbrStatus) -> IbrEntry {
        IbrEntry {
            block_id: id,
            gen_stamp: 1,
            num_bytes: 10,
            status,
            delete_hint: None,
        }
    }

    #[test]
    fn newest_event_per_block_wins_and_blocks_come_sorted() {
        let q = ActorQueue::new();
        q.add_ibr("s1", e(5, IbrStatus::Receiving));
        q.add_ibr("s1", e(3, IbrStatus::Received));
        q.add_ibr("s1", e(5, IbrStatus::Received));
        q.add_ibr("s2", e(9, IbrStatus::Deleted));
        let p = q.take_ibrs();
        assert_eq!(
            p["s1"],
            vec![e(3, IbrStatus::Received), e(5, IbrStatus::Received)]
        );
        assert_eq!(p["s2"], vec![e(9, IbrStatus::Deleted)]);
        assert!(!q.has_ibrs());
    }

    /// Only a finalized or deleted replica wakes the actor: clients wait on those
    /// (a non-retrying client's addBlock failed when a 10 ms batch delay held the
    /// previous block's report back); RECEIVING waits for the next round.
    #[tokio::test]
    async fn finalized_and_deleted_wake_the_actor_receiving_does_not() {
        async fn woken(q: &ActorQueue) -> bool {
            let wait = std::time::Duration::from_millis(50);
            tokio::time::timeout(wait, q.wake.notified()).await.is_ok()
        }
        let q = ActorQueue::new();
        q.add_ibr("s1", e(1, IbrStatus::Receiving));
        assert!(!woken(&q).await, "RECEIVING must not wake the actor");
        q.add_ibr("s1", e(1, IbrStatus::Received));
        assert!(woken(&q).await, "RECEIVED must wake the actor");
        q.add_ibr("s1", e(2, IbrStatus::Deleted));
        assert!(woken(&q).await, "DELETED must wake the actor");
        assert!(q.has_ibrs());
    }

    #[test]
    fn restore_keeps_newer_events() {
        let q = ActorQueue::new();
        q.add_ibr("s1", e(1, IbrStatus::Received));
        let p = q.take_ibrs();
        q.add_ibr("s1", e(1, IbrStatus::Deleted));
        q.restore_ibrs(p);
        assert_eq!(q.take_ibrs()["s1"], vec![e(1, IbrStatus::Deleted)]);
    }

    #[test]
    fn bad_block_reports_are_capped() {
        let q = ActorQueue::new();
        for i in 0..(MAX_PENDING_REPORTS as u64 + 5) {
            q.add_bad_block(BadBlock {
                block_pool_id: "bp".into(),
                block_id: i,
                gen_stamp: 1,
                num_bytes: 1,
                storage_uuid: "s".into(),
            });
        }
        let v = q.take_bad_blocks();
        assert_eq!(v.len(), MAX_PENDING_REPORTS);
        assert_eq!(v[0].block_id, 5);
    }
}
