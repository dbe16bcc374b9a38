//! Errors of block management, each with the Java exception class a Hadoop peer expects.

use hafs_ipc::RpcError;

pub const UNREGISTERED_NODE: &str = "org.apache.hadoop.hdfs.protocol.UnregisteredNodeException";
pub const DISALLOWED_DATANODE: &str =
    "org.apache.hadoop.hdfs.server.protocol.DisallowedDatanodeException";
pub const INCORRECT_VERSION: &str =
    "org.apache.hadoop.hdfs.server.common.IncorrectVersionException";

#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum BlockManagerError {
    /// A DataNode called before registering (or after it was declared dead).
    #[error("Data node {0} is attempting to report storage ID {0}. Node is not registered.")]
    UnregisteredNode(String),
    /// A DataNode of another cluster or block pool.
    #[error("{0}")]
    IncorrectVersion(String),
    /// A registration the NameNode refuses (bad address, bad UUID).
    #[error("{0}")]
    Disallowed(String),
    /// Fewer targets than `dfs.namenode.replication.min` (Hadoop's message).
    #[error(
        "File {src} could only be written to {got} of the {min} minReplication nodes. \
         There are {live} datanode(s) running and {excluded} node(s) are excluded in this operation."
    )]
    NotEnoughTargets {
        src: String,
        got: usize,
        min: usize,
        live: usize,
        excluded: usize,
    },
    #[error("{0}")]
    Io(String),
}

impl BlockManagerError {
    pub fn java_class(&self) -> &'static str {
        match self {
            BlockManagerError::UnregisteredNode(_) => UNREGISTERED_NODE,
            BlockManagerError::IncorrectVersion(_) => INCORRECT_VERSION,
            BlockManagerError::Disallowed(_) => DISALLOWED_DATANODE,
            BlockManagerError::NotEnoughTargets { .. } | BlockManagerError::Io(_) => {
                hafs_ipc::exceptions::IO
            }
        }
    }
}

impl From<BlockManagerError> for RpcError {
    fn from(e: BlockManagerError) -> RpcError {
        RpcError::new(e.java_class(), e.to_string())
    }
}
