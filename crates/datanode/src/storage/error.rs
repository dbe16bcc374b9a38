//! Errors of the DataNode's block storage. Messages name the block and the file or
//! volume concerned, so an operator (or a client log) says what went wrong where.

use std::io;
use std::path::PathBuf;

use hafs_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum DnStorageError {
    /// VERSION, lock or format problems of a storage directory.
    #[error("{0}")]
    Storage(#[from] StorageError),

    #[error("{0}")]
    Io(#[from] io::Error),

    /// A volume failed while serving this request; it has been taken out.
    #[error("volume {} failed: {reason}", dir.display())]
    VolumeFailed { dir: PathBuf, reason: String },

    /// More volumes failed than `dfs.datanode.failed.volumes.tolerated` allows.
    #[error("{failed} of {total} volumes failed, more than dfs.datanode.failed.volumes.tolerated = {tolerated}: {detail}")]
    TooManyFailedVolumes {
        failed: usize,
        total: usize,
        tolerated: usize,
        detail: String,
    },

    #[error("Incompatible clusterIDs in {}: datanode clusterID = {found}; namenode clusterID = {expected}. The directory belongs to another cluster: fix dfs.datanode.data.dir or remove the directory.", dir.display())]
    ClusterIdMismatch {
        dir: PathBuf,
        expected: String,
        found: String,
    },

    /// A volume holds this block pool for another namespace (or another pool under
    /// this pool's directory): `what` is `namespaceIDs` or `blockpoolIDs`.
    #[error("Incompatible {what} in {}: namenode {} = {namenode}; datanode {} = {datanode}. The block pool on this volume belongs to another namespace.", dir.display(), what.trim_end_matches('s'), what.trim_end_matches('s'))]
    BlockPoolMismatch {
        dir: PathBuf,
        what: &'static str,
        namenode: String,
        datanode: String,
    },

    #[error("Replica not found for {0}")]
    ReplicaNotFound(String),

    #[error("Block {0} already exists in state {1}")]
    ReplicaAlreadyExists(String, &'static str),

    /// The replica exists but not in a state or with a length/gen stamp the op accepts.
    #[error("Cannot {op} {block}: {reason}")]
    BadReplicaState {
        op: &'static str,
        block: String,
        reason: String,
    },

    /// A packet's data did not match its checksums; nothing of it was stored.
    #[error("Checksum error in {block} at offset {offset}: {reason}")]
    Checksum {
        block: String,
        offset: u64,
        reason: String,
    },

    /// A stored replica is damaged (meta header, checksum or length mismatch).
    #[error("Corrupt replica {block} in {}: {reason}", file.display())]
    CorruptReplica {
        block: String,
        file: PathBuf,
        reason: String,
    },

    /// Bad arguments from the network (offsets, lengths, checksum parameters).
    #[error("{0}")]
    Invalid(String),

    /// Another writer took the replica over (pipeline recovery); this one must stop.
    #[error("writer of {0} was superseded by a newer writer")]
    WriterSuperseded(String),
}

pub type Result<T, E = DnStorageError> = std::result::Result<T, E>;
