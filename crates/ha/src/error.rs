//! Error types of the HA administration crate.

use hafs_conf::ConfError;

/// A NameNode id or nameservice that the configuration does not resolve.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error(transparent)]
    Conf(#[from] ConfError),
    /// Hadoop's wording for an id outside `dfs.ha.namenodes.<ns>`.
    #[error("Unable to determine service address for namenode '{id}'")]
    UnknownNameNode { id: String },
    /// No `-ns` and no single nameservice to default to.
    #[error("{0}")]
    NoNameservice(String),
    #[error("bad NameNode address {addr} for namenode '{id}'")]
    BadAddress { id: String, addr: String },
}

/// A line of `dfs.ha.fencing.methods` that names no usable method.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dfs.ha.fencing.methods: {0}")]
pub struct FenceConfigError(pub String);

/// Why a failover did not happen; the message is what `haadmin` prints after
/// "Failover failed: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FailoverError {
    pub message: String,
}

impl FailoverError {
    pub fn new(message: impl Into<String>) -> Self {
        FailoverError {
            message: message.into(),
        }
    }
}
