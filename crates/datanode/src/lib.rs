//! The hafs DataNode.
//!
//! - [`storage`]: block replicas on the local volumes of `dfs.datanode.data.dir`
//!   (Hadoop's on-disk layout, crash-safe finalize, failed-volume handling).
//! - [`xceiver`]: the DataTransferProtocol server on `dfs.datanode.address`.
//! - [`scanner`]: the background block scanner.
//!
//! Keep this file to module declarations and re-exports: two engineers add lines here.

pub mod actor;
pub mod balance;
pub mod block_pool_manager;
pub mod client_datanode;
pub mod datanode;
pub mod http;
pub mod interdatanode;
pub mod ipc_tokens;
pub mod recovery;
pub mod scanner;
pub mod security;
pub mod storage;
pub mod webhdfs;
pub mod xceiver;

pub use storage::{
    BlockEvent, DataNodeStorage, DnStorageError, ExtendedBlock, ReplicaInfo, ReplicaReader,
    ReplicaReport, ReplicaState, ReplicaWriter, StorageReport,
};
