//! The DataNode's conversations with its NameNodes: one [`BPServiceActor`]-style task
//! per NameNode (Active and Standbys alike), all serving one block pool.
//!
//! Each actor registers with its NameNode, heartbeats every `dfs.heartbeat.interval`,
//! sends a full block report at registration and every `dfs.blockreport.intervalMsec`,
//! and sends incremental reports, bad-block reports and error reports as they arise.
//! Every NameNode gets every report, so a Standby's block map is warm when it takes
//! over. Commands that change replicas are executed only when they come from the
//! NameNode currently taken as Active ([`ha::ActiveTracker`]).
//!
//! The actors reach the rest of the DataNode only through [`DataNodeOps`], so tests
//! drive them with a fake storage and a fake NameNode.

pub mod ha;
mod nn_client;
mod pool;
pub mod queue;
mod service_actor;

use async_trait::async_trait;
use hafs_proto::hdfs::datanode::RecoveringBlockProto;
use hafs_proto::hdfs::DatanodeInfoProto;

pub use ha::{ActiveTracker, HaState};
pub use nn_client::{is_unregistered_node, NameNodeClient, DATANODE_PROTOCOL};
pub use pool::{
    ActiveNameNode, ActorSettings, BlockEventRouter, BlockEventSink, BlockPoolService,
    NameNodeStatus,
};
pub use queue::{BadBlock, ErrorReport, IbrEntry, IbrStatus};

use crate::storage::{ExtendedBlock, ReplicaReport, StorageReport};

/// What a NameNode says about its namespace in the handshake (`versionRequest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceInfo {
    pub block_pool_id: String,
    pub cluster_id: String,
    pub namespace_id: u32,
    pub ctime: u64,
    pub layout_version: u32,
    pub software_version: String,
}

/// A replica-changing command from the Active NameNode.
#[derive(Debug, Clone, PartialEq)]
pub enum BlockCommand {
    /// Copy `block` to `targets` (re-replication).
    Transfer {
        block: ExtendedBlock,
        targets: Vec<DatanodeInfoProto>,
        target_storage_uuids: Vec<String>,
        /// The storage type each target should write on.
        target_storage_types: Vec<i32>,
    },
    /// Delete these replicas.
    Invalidate { blocks: Vec<ExtendedBlock> },
    /// Act as the primary of the recovery of this block.
    Recover(Box<RecoveringBlockProto>),
    /// Finalize an upgrade of the block pool (nothing to do: hafs has no upgrades yet).
    Finalize { block_pool_id: String },
}

/// Why joining a block pool failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    /// The storage was formatted for another cluster (or block pool): this DataNode
    /// must not serve this NameNode.
    #[error("{0}")]
    WrongCluster(String),
    /// Anything else (a disk error, too many failed volumes): retried later.
    #[error("{0}")]
    Other(String),
}

/// What the actors need from the rest of the DataNode.
#[async_trait]
pub trait DataNodeOps: Send + Sync + 'static {
    /// Checks the NameNode's namespace against the storage (clusterID in every
    /// volume's VERSION, formatting fresh volumes for it) and makes the block pool's
    /// directories. Called at every (re-)registration, so it must be idempotent.
    async fn join_block_pool(&self, ns: &NamespaceInfo) -> Result<(), JoinError>;

    /// Per-storage usage of `block_pool_id`, failed volumes included (marked failed).
    fn storage_usage(&self, block_pool_id: &str) -> Vec<StorageReport>;

    /// Bytes of `block_pool_id`'s replicas per storage id (`blockPoolUsed`); `None`:
    /// not known separately, the storage's whole `used` is reported.
    fn block_pool_used(
        &self,
        _block_pool_id: &str,
    ) -> Option<std::collections::HashMap<String, u64>> {
        None
    }

    /// The storage type (StorageTypeProto number) of a storage of this DataNode;
    /// DISK when it names none of them.
    fn storage_type(&self, storage_id: &str) -> i32 {
        self.storage_usage("")
            .into_iter()
            .find(|u| u.storage_id == storage_id)
            .map_or(hafs_proto::hdfs::StorageTypeProto::Disk as i32, |u| {
                u.storage_type
            })
    }

    /// Volumes taken out of service since startup.
    fn failed_volumes(&self) -> u32;

    /// Data-transfer connections being served.
    fn xceiver_count(&self) -> u32;

    /// Replications (TRANSFER) this DataNode is sending now.
    fn xmits_in_progress(&self) -> u32;

    /// Every replica of the block pool (each names its storage).
    async fn block_report(&self, block_pool_id: &str) -> Result<Vec<ReplicaReport>, String>;

    /// Executes a command of the Active NameNode. `active` reaches the Active (block
    /// recovery ends with commitBlockSynchronization there).
    async fn execute(&self, cmd: BlockCommand, active: ActiveNameNode) -> Result<(), String>;
}
