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

/// One block in the map.
#[derive(Debug, Clone)]
struct Entry {
    id: u64,
    rec: BlockRecord,
}

/// No entry in an index slot.
const EMPTY: u32 = 0;

/// The home slot of a block id in an index of `1 << bits` slots (Fibonacci hashing:
/// consecutive ids, as the NameNode allocates them, land far apart).
fn home_slot(id: u64, bits: u32) -> usize {
    (id.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize
}

/// Block id → record, and the write pipelines of the blocks being written.
///
/// Compact, as Hadoop's BlocksMap of `BlockInfo` objects with their triplets is: the
/// records lie in one dense array (72 bytes a block, no per-block allocation), found
/// through an open-addressing index of 4-byte slots (entry number + 1; linear probing,
/// at most 3/4 full, so 5 – 11 bytes a block). A removed block's place in the array is
/// taken by the last record, so the array stays dense. A `HashMap<u64, BlockRecord>`
/// costs 72 + 1 bytes a bucket at a load of 7/16 – 7/8 instead, and needs the old and
/// the new table at once while it grows.
///
/// A pipeline is kept only for a block in the map that is not complete: it is what
/// getBlockLocations returns until replicas are reported, and a complete block never
/// needs it again — so it lives in a side map instead of in every record.
#[derive(Debug, Default)]
pub struct BlocksMap {
    entries: Vec<Entry>,
    /// A power of two long (or empty).
    index: Vec<u32>,
    pipelines: HashMap<u64, Pipeline>,
}

impl BlocksMap {
    fn home(&self, id: u64) -> usize {
        home_slot(id, self.index.len().trailing_zeros())
    }

    /// `Ok(slot)` holding `id`, or `Err(slot)`: the empty slot where it would go.
    fn find(&self, id: u64) -> Result<usize, usize> {
        if self.index.is_empty() {
            return Err(0);
        }
        let mask = self.index.len() - 1;
        let mut s = self.home(id);
        loop {
            match self.index[s] {
                EMPTY => return Err(s),
                e if self.entries[e as usize - 1].id == id => return Ok(s),
                _ => s = (s + 1) & mask,
            }
        }
    }

    /// Makes the index large enough for `len` blocks at most 3/4 full, rebuilding it
    /// when it grows.
    fn fit_index(&mut self, len: usize) {
        let mut slots = self.index.len().max(16);
        while len > slots / 4 * 3 {
            slots *= 2;
        }
        if slots == self.index.len() {
            return;
        }
        let mut index = vec![EMPTY; slots];
        let (bits, mask) = (slots.trailing_zeros(), slots - 1);
        for (i, e) in self.entries.iter().enumerate() {
            let mut s = home_slot(e.id, bits);
            while index[s] != EMPTY {
                s = (s + 1) & mask;
            }
            index[s] = i as u32 + 1;
        }
        self.index = index;
    }

    pub fn get(&self, id: u64) -> Option<&BlockRecord> {
        let s = self.find(id).ok()?;
        Some(&self.entries[self.index[s] as usize - 1].rec)
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut BlockRecord> {
        let s = self.find(id).ok()?;
        let e = self.index[s] as usize - 1;
        Some(&mut self.entries[e].rec)
    }

    pub fn reserve(&mut self, additional: usize) {
        self.entries.reserve_exact(additional);
        self.fit_index(self.entries.len() + additional);
    }

    /// Inserts (or replaces) a block's record; a replaced block's pipeline is dropped.
    pub fn insert(&mut self, id: u64, rec: BlockRecord) -> Option<BlockRecord> {
        self.pipelines.remove(&id);
        if let Ok(s) = self.find(id) {
            let e = self.index[s] as usize - 1;
            return Some(std::mem::replace(&mut self.entries[e].rec, rec));
        }
        invariant!(
            self.entries.len() < u32::MAX as usize - 1,
            "blocks map full at {} blocks",
            self.entries.len()
        );
        self.fit_index(self.entries.len() + 1);
        let Err(s) = self.find(id) else {
            unreachable!("blk_{id} found after it was not")
        };
        self.entries.push(Entry { id, rec });
        self.index[s] = self.entries.len() as u32;
        None
    }

    /// Forgets a block and its pipeline.
    pub fn remove(&mut self, id: u64) -> Option<BlockRecord> {
        self.pipelines.remove(&id);
        let s = self.find(id).ok()?;
        let e = self.index[s] as usize - 1;
        // Backward-shift deletion: later entries of the probe run move up into the
        // hole unless their home slot lies after it, so lookups need no tombstones.
        let mask = self.index.len() - 1;
        let mut hole = s;
        let mut j = s;
        loop {
            j = (j + 1) & mask;
            let v = self.index[j];
            if v == EMPTY {
                break;
            }
            let home = self.home(self.entries[v as usize - 1].id);
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                self.index[hole] = v;
                hole = j;
            }
        }
        self.index[hole] = EMPTY;
        // The last entry moves into the removed one's place.
        let last = self.entries.len() - 1;
        if e != last {
            let Ok(ls) = self.find(self.entries[last].id) else {
                unreachable!("the last entry is not in the index")
            };
            self.index[ls] = e as u32 + 1;
        }
        Some(self.entries.swap_remove(e).rec)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&u64, &BlockRecord)> {
        self.entries.iter().map(|e| (&e.id, &e.rec))
    }

    /// The pipeline of a block being written (empty if none).
    pub fn pipeline(&self, id: u64) -> &[(NameId, NameId)] {
        self.pipelines.get(&id).map_or(&[], |p| p)
    }

    /// Sets the pipeline of a block in the map that is not complete; an empty one is
    /// no pipeline.
    pub fn set_pipeline(&mut self, id: u64, pipeline: Vec<(NameId, NameId)>) {
        let rec = self.get(id);
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
        let Some(rec) = self.get_mut(id) else {
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

    #[test]
    fn compact_map_agrees_with_a_hash_map() {
        let mut map = BlocksMap::default();
        let mut model: HashMap<u64, u64> = HashMap::new();
        let mut rng = hafs_util::XorShift64::new(7);
        for step in 0..200_000u64 {
            // Ids from a small range, so inserts, replacements and removals all happen
            // and probe runs collide; consecutive ids too, as the NameNode makes them.
            let id = if step % 3 == 0 {
                1_073_741_825 + step / 3
            } else {
                rng.next_u64() % 5_000
            };
            match rng.next_u64() % 3 {
                0 | 1 => {
                    let mut r = rec(BlockUcState::Complete);
                    r.gen_stamp = step;
                    let old = map.insert(id, r).map(|r| r.gen_stamp);
                    assert_eq!(old, model.insert(id, step), "insert {id}");
                }
                _ => {
                    let old = map.remove(id).map(|r| r.gen_stamp);
                    assert_eq!(old, model.remove(&id), "remove {id}");
                }
            }
            if step % 10_000 == 0 {
                assert_eq!(map.len(), model.len());
                for (&id, &gs) in &model {
                    assert_eq!(map.get(id).map(|r| r.gen_stamp), Some(gs), "get {id}");
                }
                let mut seen: Vec<u64> = map.iter().map(|(id, _)| *id).collect();
                seen.sort();
                let mut want: Vec<u64> = model.keys().copied().collect();
                want.sort();
                assert_eq!(seen, want);
            }
        }
        assert!(map.get(u64::MAX).is_none());
        for id in model.keys().copied().collect::<Vec<_>>() {
            assert!(map.remove(id).is_some());
        }
        assert!(map.is_empty());
        assert_eq!(map.iter().count(), 0);
    }
}
