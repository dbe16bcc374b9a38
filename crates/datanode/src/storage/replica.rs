//! Replica identity, states and the snapshots the storage hands out.

use std::fmt;
use std::path::PathBuf;

use hafs_proto::hdfs::ExtendedBlockProto;

/// A block of a block pool with its generation stamp (and length, when known): what
/// every op on the data port and every NameNode command names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExtendedBlock {
    pub pool_id: String,
    pub block_id: u64,
    pub gen_stamp: u64,
    pub num_bytes: u64,
}

impl ExtendedBlock {
    pub fn new(pool_id: impl Into<String>, block_id: u64, gen_stamp: u64, num_bytes: u64) -> Self {
        ExtendedBlock {
            pool_id: pool_id.into(),
            block_id,
            gen_stamp,
            num_bytes,
        }
    }

    pub fn from_proto(p: &ExtendedBlockProto) -> Self {
        ExtendedBlock {
            pool_id: p.pool_id.clone(),
            block_id: p.block_id,
            gen_stamp: p.generation_stamp,
            num_bytes: p.num_bytes.unwrap_or(0),
        }
    }

    pub fn to_proto(&self) -> ExtendedBlockProto {
        ExtendedBlockProto {
            pool_id: self.pool_id.clone(),
            block_id: self.block_id,
            generation_stamp: self.gen_stamp,
            num_bytes: Some(self.num_bytes),
        }
    }

    /// `blk_<id>` as in Hadoop file names (ids are Java longs: negative ids print signed).
    pub fn block_name(&self) -> String {
        block_file_name(self.block_id)
    }
}

impl fmt::Display for ExtendedBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:blk_{}_{}",
            self.pool_id, self.block_id as i64, self.gen_stamp
        )
    }
}

pub(crate) fn block_file_name(block_id: u64) -> String {
    format!("blk_{}", block_id as i64)
}

pub(crate) fn meta_file_name(block_id: u64, gen_stamp: u64) -> String {
    format!("blk_{}_{}.meta", block_id as i64, gen_stamp)
}

/// Replica states, numbered as Hadoop's `ReplicaStateProto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplicaState {
    /// Complete and immutable (until an append).
    Finalized = 0,
    /// Being written by a pipeline.
    Rbw = 1,
    /// Found in `rbw/` at startup: waiting for block recovery, at its checksummed length.
    Rwr = 2,
    /// Under block recovery (InterDatanodeProtocol).
    Rur = 3,
    /// Being copied here for re-replication or a pipeline addition; not reported.
    Temporary = 4,
}

impl ReplicaState {
    /// Hadoop's replica moves: nothing becomes temporary (a temporary replica is only
    /// ever created), and a temporary replica is never recovered (it is not reported,
    /// so no recovery can name it).
    pub fn may_become(self, to: ReplicaState) -> bool {
        use ReplicaState::*;
        match (self, to) {
            (from, Temporary) => from == Temporary,
            (Temporary, Rur) => false,
            _ => true,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ReplicaState::Finalized => "FINALIZED",
            ReplicaState::Rbw => "RBW",
            ReplicaState::Rwr => "RWR",
            ReplicaState::Rur => "RUR",
            ReplicaState::Temporary => "TEMPORARY",
        }
    }
}

/// A snapshot of one replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaInfo {
    pub pool_id: String,
    pub block_id: u64,
    pub gen_stamp: u64,
    pub state: ReplicaState,
    /// Bytes in the block file (with valid checksums).
    pub bytes_on_disk: u64,
    /// Bytes a reader may see: the length for a finalized replica, the bytes acknowledged
    /// by the pipeline for one being written.
    pub visible_length: u64,
    pub storage_id: String,
    pub data_file: PathBuf,
    pub meta_file: PathBuf,
    /// For `Rur`: the recovery id (the new generation stamp) of the recovery in charge.
    pub recovery_id: u64,
    /// For `Rur`: the state before recovery began.
    pub original_state: ReplicaState,
}

impl ReplicaInfo {
    /// Moves the replica to `to`; a move [`ReplicaState::may_become`] forbids is a
    /// broken invariant of the DataNode's replica map (the daemon stops).
    pub(crate) fn set_state(&mut self, to: ReplicaState) {
        hafs_util::invariant!(
            self.state.may_become(to),
            "replica blk_{}_{}: state {} may not become {}",
            self.block_id,
            self.gen_stamp,
            self.state.name(),
            to.name()
        );
        self.state = to;
    }
}

impl ReplicaInfo {
    pub fn block(&self) -> ExtendedBlock {
        ExtendedBlock::new(
            self.pool_id.clone(),
            self.block_id,
            self.gen_stamp,
            self.visible_length,
        )
    }
}

/// One line of a block report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaReport {
    pub storage_id: String,
    pub block_id: u64,
    pub gen_stamp: u64,
    pub num_bytes: u64,
    pub state: ReplicaState,
}

/// Usage of one volume, for heartbeats (`StorageReportProto`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageReport {
    pub storage_id: String,
    /// StorageTypeProto number of the volume (its `[TYPE]` prefix; DISK without).
    pub storage_type: i32,
    pub dir: PathBuf,
    pub failed: bool,
    pub capacity: u64,
    /// Bytes of replicas stored on the volume (`dfsUsed`).
    pub used: u64,
    pub remaining: u64,
    /// Bytes on the volume's file system used by other files.
    pub non_dfs_used: u64,
}

/// A volume taken out of service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeFailure {
    pub storage_id: String,
    pub dir: PathBuf,
    pub reason: String,
    /// Replicas that were on it, now dropped from the replica map.
    pub lost_replicas: usize,
    pub failed_at: std::time::SystemTime,
}

/// What `init_replica_recovery` answers (InterDatanodeProtocol's `ReplicaRecoveryInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaRecoveryInfo {
    pub block_id: u64,
    pub gen_stamp: u64,
    pub num_bytes: u64,
    pub original_state: ReplicaState,
}
