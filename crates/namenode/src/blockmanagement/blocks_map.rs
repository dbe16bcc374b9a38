//! The blocks map (Hadoop's BlocksMap + BlockInfo): every block of every file, what the
//! namespace says about it, and where its replicas are.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};

use hafs_proto::hdfs::datanode::ReplicaStateProto;
use hafs_util::invariant;

use super::names::NameId;

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

/// One replica of a block, as its DataNode last reported it. 32 bytes: the DataNode
/// and the storage are interned names ([`super::names::Names`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replica {
    /// The DataNode's UUID.
    pub datanode: NameId,
    /// The storage's id ("" when not known).
    pub storage: NameId,
    pub state: ReplicaState,
    /// Found bad (stale generation stamp, wrong length, or reported by a reader or
    /// scanner); kept until enough good replicas exist, then deleted.
    pub corrupt: bool,
    pub gen_stamp: u64,
    pub num_bytes: u64,
}

/// A block's replicas: the first kept inline (most blocks of a small cluster, and every
/// block while its first replica is all there is), more in a `Vec`. Reads as a slice.
#[derive(Debug, Clone, Default)]
pub enum Replicas {
    #[default]
    None,
    One(Replica),
    Many(Vec<Replica>),
}

impl Replicas {
    pub fn push(&mut self, r: Replica) {
        *self = match std::mem::take(self) {
            Replicas::None => Replicas::One(r),
            Replicas::One(a) => Replicas::Many(vec![a, r]),
            Replicas::Many(mut v) => {
                v.push(r);
                Replicas::Many(v)
            }
        };
    }

    /// Removes replica `i`, the last one taking its place (`Vec::swap_remove`); back
    /// inline when one is left.
    pub fn swap_remove(&mut self, i: usize) -> Replica {
        match std::mem::take(self) {
            Replicas::None => panic!("swap_remove index {i} of no replicas"),
            Replicas::One(a) => {
                assert_eq!(i, 0, "swap_remove index {i} of one replica");
                a
            }
            Replicas::Many(mut v) => {
                let r = v.swap_remove(i);
                *self = match v.len() {
                    0 => Replicas::None,
                    1 => Replicas::One(v[0]),
                    _ => Replicas::Many(v),
                };
                r
            }
        }
    }
}

impl Deref for Replicas {
    type Target = [Replica];
    fn deref(&self) -> &[Replica] {
        match self {
            Replicas::None => &[],
            Replicas::One(r) => std::slice::from_ref(r),
            Replicas::Many(v) => v,
        }
    }
}

impl DerefMut for Replicas {
    fn deref_mut(&mut self) -> &mut [Replica] {
        match self {
            Replicas::None => &mut [],
            Replicas::One(r) => std::slice::from_mut(r),
            Replicas::Many(v) => v,
        }
    }
}

/// Everything the NameNode knows about one block but its write pipeline (kept aside by
/// [`BlocksMap`] while the block is being written): 64 bytes.
#[derive(Debug, Clone)]
pub struct BlockRecord {
    pub gen_stamp: u64,
    pub num_bytes: u64,
    /// The owning file's inode id.
    pub inode_id: u64,
    /// The owning file's replication factor.
    pub replication: u16,
    pub state: BlockUcState,
    pub replicas: Replicas,
}

/// Where a block's write pipeline was sent: (DataNode, storage) pairs.
pub type Pipeline = Box<[(NameId, NameId)]>;

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

    pub fn replica_on(&self, datanode: NameId) -> Option<&Replica> {
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

/// Block id → record, and the write pipelines of the blocks being written. A
/// pipeline is kept only for a block in the map that is not complete: it is what
/// getBlockLocations returns until replicas are reported, and a complete block never
/// needs it again — so it lives in a side map instead of in every record.
#[derive(Debug, Default)]
pub struct BlocksMap {
    blocks: HashMap<u64, BlockRecord>,
    pipelines: HashMap<u64, Pipeline>,
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
    /// Inserts (or replaces) a block's record; a replaced block's pipeline is dropped.
    pub fn insert(&mut self, id: u64, rec: BlockRecord) -> Option<BlockRecord> {
        self.pipelines.remove(&id);
        self.blocks.insert(id, rec)
    }
    /// Forgets a block and its pipeline.
    pub fn remove(&mut self, id: u64) -> Option<BlockRecord> {
        self.pipelines.remove(&id);
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

    /// The pipeline of a block being written (empty if none).
    pub fn pipeline(&self, id: u64) -> &[(NameId, NameId)] {
        self.pipelines.get(&id).map_or(&[], |p| p)
    }

    /// Sets the pipeline of a block in the map that is not complete; an empty one is
    /// no pipeline.
    pub fn set_pipeline(&mut self, id: u64, pipeline: Vec<(NameId, NameId)>) {
        let rec = self.blocks.get(&id);
        invariant!(
            rec.is_some_and(|r| r.state != BlockUcState::Complete),
            "blk_{id}: a pipeline for a block that is {}",
            rec.map_or("not in the blocks map".to_string(), |r| format!(
                "{:?}",
                r.state
            ))
        );
        if pipeline.is_empty() {
            self.pipelines.remove(&id);
        } else {
            self.pipelines.insert(id, pipeline.into_boxed_slice());
        }
    }

    /// Moves a block to `to` ([`BlockRecord::set_state`]); a complete block's pipeline
    /// is dropped. False when the block is not in the map.
    pub fn set_state(&mut self, id: u64, to: BlockUcState) -> bool {
        let Some(rec) = self.blocks.get_mut(&id) else {
            return false;
        };
        rec.set_state(id, to);
        if to == BlockUcState::Complete {
            self.pipelines.remove(&id);
        }
        true
    }

    /// Blocks with a pipeline (for checks and tests).
    pub fn pipelines_len(&self) -> usize {
        self.pipelines.len()
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
            replicas: Replicas::None,
        }
    }

    #[test]
    fn records_stay_small() {
        // The figures docs/benchmarks.md counts bytes per block with.
        assert_eq!(std::mem::size_of::<Replica>(), 32);
        assert_eq!(std::mem::size_of::<Replicas>(), 32);
        assert_eq!(std::mem::size_of::<BlockRecord>(), 64);
    }

    #[test]
    fn replicas_move_between_inline_and_vec() {
        let mut names = super::super::names::Names::default();
        let r = |dn: &str, names: &mut super::super::names::Names| Replica {
            datanode: names.intern(dn).unwrap(),
            storage: names.intern("").unwrap(),
            state: ReplicaState::Finalized,
            corrupt: false,
            gen_stamp: 1,
            num_bytes: 2,
        };
        let (a, b, c) = (r("a", &mut names), r("b", &mut names), r("c", &mut names));
        let mut v = Replicas::None;
        assert!(v.is_empty());
        v.push(a);
        assert!(matches!(v, Replicas::One(_)));
        v.push(b);
        v.push(c);
        assert_eq!(&v[..], &[a, b, c]);
        v[1].corrupt = true;
        assert!(v[1].corrupt);
        assert_eq!(v.swap_remove(0), a);
        assert_eq!(v.len(), 2);
        assert_eq!(v.swap_remove(1).datanode, b.datanode);
        assert!(matches!(v, Replicas::One(x) if x == c));
        assert_eq!(v.swap_remove(0), c);
        assert!(matches!(v, Replicas::None));
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
