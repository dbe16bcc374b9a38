//! The blocks map (Hadoop's BlocksMap + BlockInfo): every block of every file, what the
//! namespace says about it, and where its replicas are.

use std::collections::HashMap;

use hafs_proto::hdfs::datanode::ReplicaStateProto;
use hafs_util::invariant;

/// A block as the namespace names it: id, generation stamp, length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Block {
    pub id: u64,
    pub gen_stamp: u64,
    pub num_bytes: u64,
}

/// Hadoop's BlockUCState.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockUcState {
    /// Being written; its length and generation stamp may still change.
    UnderConstruction,
    /// Its lease is being recovered through a primary DataNode.
    UnderRecovery,
    /// The client has committed its length and generation stamp, but fewer than
    /// `dfs.namenode.replication.min` replicas were reported finalized yet.
    Committed,
    /// Immutable; replication is managed.
    Complete,
}

/// State of a replica on a DataNode (Hadoop's ReplicaState).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaState {
    Finalized,
    Rbw,
    Rwr,
    Rur,
    Temporary,
}

impl ReplicaState {
    pub fn from_proto(v: i32) -> ReplicaState {
        match ReplicaStateProto::try_from(v) {
            Ok(ReplicaStateProto::Rbw) => ReplicaState::Rbw,
            Ok(ReplicaStateProto::Rwr) => ReplicaState::Rwr,
            Ok(ReplicaStateProto::Rur) => ReplicaState::Rur,
            Ok(ReplicaStateProto::Temporary) => ReplicaState::Temporary,
            // Unknown values are treated as finalized, then checked like any replica.
            _ => ReplicaState::Finalized,
        }
    }
}

/// One replica of a block, as its DataNode last reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    /// The DataNode's UUID.
    pub datanode: String,
    pub storage: String,
    pub state: ReplicaState,
    pub gen_stamp: u64,
    pub num_bytes: u64,
    /// Found bad (stale generation stamp, wrong length, or reported by a reader or
    /// scanner); kept until enough good replicas exist, then deleted.
    pub corrupt: bool,
}

/// Everything the NameNode knows about one block.
#[derive(Debug, Clone)]
pub struct BlockRecord {
    pub gen_stamp: u64,
    pub num_bytes: u64,
    /// The owning file's replication factor.
    pub replication: u16,
    /// The owning file's inode id.
    pub inode_id: u64,
    pub state: BlockUcState,
    pub replicas: Vec<Replica>,
    /// Where the write pipeline was sent (under construction): the locations
    /// getBlockLocations returns until replicas are reported.
    pub expected: Vec<(String, String)>,
}

impl BlockUcState {
    /// Hadoop's BlockUCState moves: a block is never under construction again once it
    /// left that state (a new block is inserted instead), and a complete block is never
    /// committed again. (Complete → UnderRecovery is allowed: a lease recovery may race
    /// the replica reports that completed the block.)
    pub fn may_become(self, to: BlockUcState) -> bool {
        use BlockUcState::*;
        match (self, to) {
            (_, UnderConstruction) => self == UnderConstruction,
            (Complete, Committed) => false,
            _ => true,
        }
    }
}

impl BlockRecord {
    /// Moves the block to `to`; a move [`BlockUcState::may_become`] forbids is a broken
    /// invariant of the block manager (the daemon stops).
    pub fn set_state(&mut self, block_id: u64, to: BlockUcState) {
        invariant!(
            self.state.may_become(to),
            "blk_{block_id}_{}: block state {:?} may not become {to:?}",
            self.gen_stamp,
            self.state
        );
        self.state = to;
    }

    pub fn block(&self, id: u64) -> Block {
        Block {
            id,
            gen_stamp: self.gen_stamp,
            num_bytes: self.num_bytes,
        }
    }

    pub fn replica_on(&self, datanode: &str) -> Option<&Replica> {
        self.replicas.iter().find(|r| r.datanode == datanode)
    }

    /// A replica that counts toward the block's redundancy: finalized, not corrupt,
    /// with the block's generation stamp.
    pub fn is_good(&self, r: &Replica) -> bool {
        let length_known = matches!(self.state, BlockUcState::Committed | BlockUcState::Complete);
        !r.corrupt
            && r.state == ReplicaState::Finalized
            && r.gen_stamp == self.gen_stamp
            && (!length_known || r.num_bytes == self.num_bytes)
    }

    /// Whether a reported replica is bad for this block (Hadoop's checkReplicaCorrupt):
    /// a finalized replica of a committed or complete block must match its generation
    /// stamp and length; any replica older than the block's generation stamp is stale.
    pub fn reported_replica_is_corrupt(&self, state: ReplicaState, gs: u64, len: u64) -> bool {
        match self.state {
            BlockUcState::Complete | BlockUcState::Committed => match state {
                ReplicaState::Finalized => gs != self.gen_stamp || len != self.num_bytes,
                _ => gs < self.gen_stamp,
            },
            BlockUcState::UnderConstruction | BlockUcState::UnderRecovery => gs < self.gen_stamp,
        }
    }
}

/// Block id → record.
#[derive(Debug, Default)]
pub struct BlocksMap {
    blocks: HashMap<u64, BlockRecord>,
}

impl BlocksMap {
    pub fn get(&self, id: u64) -> Option<&BlockRecord> {
        self.blocks.get(&id)
    }
    pub fn get_mut(&mut self, id: u64) -> Option<&mut BlockRecord> {
        self.blocks.get_mut(&id)
    }
    pub fn reserve(&mut self, additional: usize) {
        self.blocks.reserve(additional);
    }
    pub fn insert(&mut self, id: u64, rec: BlockRecord) -> Option<BlockRecord> {
        self.blocks.insert(id, rec)
    }
    pub fn remove(&mut self, id: u64) -> Option<BlockRecord> {
        self.blocks.remove(&id)
    }
    pub fn len(&self) -> usize {
        self.blocks.len()
    }
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&u64, &BlockRecord)> {
        self.blocks.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(state: BlockUcState) -> BlockRecord {
        BlockRecord {
            gen_stamp: 1005,
            num_bytes: 100,
            replication: 3,
            inode_id: 16386,
            state,
            replicas: Vec::new(),
            expected: Vec::new(),
        }
    }

    #[test]
    fn corrupt_replica_rules() {
        let c = rec(BlockUcState::Complete);
        assert!(!c.reported_replica_is_corrupt(ReplicaState::Finalized, 1005, 100));
        assert!(c.reported_replica_is_corrupt(ReplicaState::Finalized, 1004, 100));
        assert!(c.reported_replica_is_corrupt(ReplicaState::Finalized, 1006, 100));
        assert!(c.reported_replica_is_corrupt(ReplicaState::Finalized, 1005, 99));
        // An RBW replica with the current stamp is a finalization in flight, not bad.
        assert!(!c.reported_replica_is_corrupt(ReplicaState::Rbw, 1005, 50));
        assert!(c.reported_replica_is_corrupt(ReplicaState::Rbw, 1001, 50));
        let uc = rec(BlockUcState::UnderConstruction);
        assert!(!uc.reported_replica_is_corrupt(ReplicaState::Rbw, 1005, 7));
        assert!(!uc.reported_replica_is_corrupt(ReplicaState::Finalized, 1005, 7));
        assert!(uc.reported_replica_is_corrupt(ReplicaState::Rbw, 1000, 7));
    }
}
