//! Hadoop's PendingDataNodeMessages: a Standby hears about replicas before it has read
//! the edits that created their blocks (or the edits that moved their generation stamp
//! on). Those reports are kept here, per block, and processed when the tailer applies
//! the edit that makes the block known — so a Standby that becomes Active knows where
//! every block is at once. Bounded: past the limit, new reports are dropped (the
//! DataNode's next full block report brings them again).

use std::collections::HashMap;

use super::blocks_map::ReplicaState;

/// Most reports kept at once.
pub const MAX_PENDING_DATANODE_MESSAGES: usize = 500_000;

/// One replica as a DataNode reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedReplica {
    pub datanode: String,
    pub storage: String,
    pub block_id: u64,
    pub gen_stamp: u64,
    pub num_bytes: u64,
    pub state: ReplicaState,
}

#[derive(Debug, Default)]
pub struct PendingDataNodeMessages {
    by_block: HashMap<u64, Vec<ReportedReplica>>,
    count: usize,
    dropped: u64,
}

impl PendingDataNodeMessages {
    /// Keeps a report; a newer report of the same replica replaces the older one.
    /// False when the queue is full and the report was dropped.
    pub fn enqueue(&mut self, r: ReportedReplica) -> bool {
        let list = self.by_block.entry(r.block_id).or_default();
        if let Some(old) = list.iter_mut().find(|o| o.datanode == r.datanode) {
            *old = r;
            return true;
        }
        if self.count >= MAX_PENDING_DATANODE_MESSAGES {
            if list.is_empty() {
                self.by_block.remove(&r.block_id);
            }
            self.dropped += 1;
            return false;
        }
        list.push(r);
        self.count += 1;
        true
    }

    /// Forgets what `datanode` said about `block_id` (it deleted the replica).
    pub fn remove(&mut self, block_id: u64, datanode: &str) {
        if let Some(list) = self.by_block.get_mut(&block_id) {
            let before = list.len();
            list.retain(|r| r.datanode != datanode);
            self.count -= before - list.len();
            if list.is_empty() {
                self.by_block.remove(&block_id);
            }
        }
    }

    /// The reports about one block, removed from the queue.
    pub fn take(&mut self, block_id: u64) -> Vec<ReportedReplica> {
        let v = self.by_block.remove(&block_id).unwrap_or_default();
        self.count -= v.len();
        v
    }

    /// Every report, removed from the queue.
    pub fn take_all(&mut self) -> Vec<ReportedReplica> {
        self.count = 0;
        self.by_block.drain().flat_map(|(_, v)| v).collect()
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Reports dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(block_id: u64, dn: &str, gs: u64) -> ReportedReplica {
        ReportedReplica {
            datanode: dn.into(),
            storage: "s".into(),
            block_id,
            gen_stamp: gs,
            num_bytes: 1,
            state: ReplicaState::Finalized,
        }
    }

    #[test]
    fn keeps_latest_per_replica_and_takes_by_block() {
        let mut q = PendingDataNodeMessages::default();
        assert!(q.enqueue(r(1, "a", 1)));
        assert!(q.enqueue(r(1, "a", 2)));
        assert!(q.enqueue(r(1, "b", 2)));
        assert!(q.enqueue(r(2, "a", 1)));
        assert_eq!(q.len(), 3);
        q.remove(1, "b");
        assert_eq!(q.len(), 2);
        assert_eq!(q.take(1), vec![r(1, "a", 2)]);
        assert_eq!(q.len(), 1);
        assert_eq!(q.take_all(), vec![r(2, "a", 1)]);
        assert!(q.is_empty());
    }
}
