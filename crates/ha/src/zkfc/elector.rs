//! The election a failover controller takes part in, independent of its backend
//! (ZooKeeper, or the built-in lease on the JournalNodes).
//!
//! The controller joins when its NameNode is healthy and quits when it is not. The
//! elector reports what happened through its event channel:
//! - [`ElectorEvent::BecameActive`]: we hold the lock. `previous` is the breadcrumb the
//!   last Active left; when it names another NameNode the controller fences it, then
//!   calls [`Elector::write_breadcrumb`] with its own record, then makes its NameNode
//!   Active.
//! - [`ElectorEvent::BecameStandby`]: someone else holds the lock; our NameNode must be
//!   Standby.
//! - [`ElectorEvent::Neutral`]: the elector lost contact with its backend and does not
//!   know who holds the lock. The controller leaves its NameNode as it is (Hadoop's
//!   "enterNeutralMode"): an Active stays Active until the backend says otherwise, so an
//!   unreachable ZooKeeper causes no flapping.

use async_trait::async_trait;
use prost::Message;
use tokio::sync::{mpsc, watch};

use hafs_proto::common::ActiveNodeInfo as ActiveNodeInfoProto;

/// A candidate's (and the Active's) identity, stored in the lock and the breadcrumb.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveNodeInfo {
    pub nameservice_id: String,
    pub namenode_id: String,
    /// Host of the NameNode's RPC server.
    pub hostname: String,
    /// Port of the NameNode's RPC server.
    pub port: u16,
    /// Port of the controller's ZKFCProtocol server.
    pub zkfc_port: u16,
}

impl ActiveNodeInfo {
    /// The bytes stored in a znode (or lease): Hadoop's ActiveNodeInfo message.
    pub fn to_bytes(&self) -> Vec<u8> {
        ActiveNodeInfoProto {
            nameservice_id: self.nameservice_id.clone(),
            namenode_id: self.namenode_id.clone(),
            hostname: self.hostname.clone(),
            port: i32::from(self.port),
            zkfc_port: i32::from(self.zkfc_port),
        }
        .encode_to_vec()
    }

    /// Parses stored bytes; anything that is not a well-formed record is an error
    /// (never a panic: the bytes come from the network).
    pub fn from_bytes(data: &[u8]) -> Result<ActiveNodeInfo, ElectorError> {
        let p = ActiveNodeInfoProto::decode(data)
            .map_err(|e| ElectorError::BadData(format!("ActiveNodeInfo: {e}")))?;
        // prost does not enforce proto2's `required`: an empty id means a missing field.
        if p.nameservice_id.is_empty() || p.namenode_id.is_empty() || p.hostname.is_empty() {
            return Err(ElectorError::BadData(
                "ActiveNodeInfo without nameserviceId, namenodeId or hostname".into(),
            ));
        }
        let port = |v: i32, what: &str| {
            u16::try_from(v).map_err(|_| ElectorError::BadData(format!("bad {what} {v}")))
        };
        Ok(ActiveNodeInfo {
            port: port(p.port, "port")?,
            zkfc_port: port(p.zkfc_port, "zkfcPort")?,
            nameservice_id: p.nameservice_id,
            namenode_id: p.namenode_id,
            hostname: p.hostname,
        })
    }

    /// `host:port` of the NameNode's RPC server.
    pub fn rpc_address(&self) -> String {
        format!("{}:{}", self.hostname, self.port)
    }

    /// `host:port` of the controller's ZKFCProtocol server.
    pub fn zkfc_address(&self) -> String {
        format!("{}:{}", self.hostname, self.zkfc_port)
    }

    /// Same NameNode (the ports of a controller may change across restarts).
    pub fn same_namenode(&self, other: &ActiveNodeInfo) -> bool {
        self.nameservice_id == other.nameservice_id && self.namenode_id == other.namenode_id
    }
}

impl std::fmt::Display for ActiveNodeInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}.{} at {}:{} (zkfc port {})",
            self.nameservice_id, self.namenode_id, self.hostname, self.port, self.zkfc_port
        )
    }
}

/// What the election tells the controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElectorEvent {
    /// We won. `previous` is the breadcrumb of the last Active, if any; it may name us
    /// (then nothing needs fencing).
    BecameActive { previous: Option<ActiveNodeInfo> },
    /// Another candidate holds the lock.
    BecameStandby,
    /// Contact with the backend is lost; the holder is unknown. Change nothing.
    Neutral,
}

/// The receiving end of an elector's events.
pub type ElectorEvents = mpsc::Receiver<ElectorEvent>;

/// Why an election operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElectorError {
    /// The backend cannot be reached now; retry later.
    #[error("election backend unavailable: {0}")]
    Unavailable(String),
    /// We do not hold the lock (e.g. writing a breadcrumb after losing it).
    #[error("not the lock holder: {0}")]
    NotLeader(String),
    /// Stored data is not a valid record.
    #[error("bad election data: {0}")]
    BadData(String),
    /// The election was never set up (ZooKeeper: the parent znode is missing; run
    /// `hafs zkfc -formatZK`).
    #[error("{0}")]
    NotFormatted(String),
    #[error("{0}")]
    Other(String),
}

/// One controller's handle on the election.
///
/// Calls are idempotent: joining twice or quitting when not joined is harmless. Events
/// are delivered in order on the channel returned (once) by [`Elector::take_events`];
/// after `join`, the elector keeps trying (reconnecting, rejoining after a session
/// expiry) until `quit`.
#[async_trait]
pub trait Elector: Send + Sync {
    /// The event channel; `Some` the first time only.
    fn take_events(&mut self) -> Option<ElectorEvents>;

    /// Run for Active with `candidate` as the data of the lock.
    async fn join(&self, candidate: ActiveNodeInfo) -> Result<(), ElectorError>;

    /// Leave the election (release the lock if held). With `need_fence == false` an
    /// Active that steps down cleanly (its NameNode is already Standby) also removes its
    /// breadcrumb so the next Active does not fence it (Hadoop's graceful cede).
    async fn quit(&self, need_fence: bool) -> Result<(), ElectorError>;

    /// Store `info` as the breadcrumb of the current Active. Only the lock holder may;
    /// called after fencing the previous Active and before making our NameNode Active.
    async fn write_breadcrumb(&self, info: &ActiveNodeInfo) -> Result<(), ElectorError>;

    /// The data of the current lock holder, if any (graceful failover asks its
    /// controller to cede).
    async fn current_active(&self) -> Result<Option<ActiveNodeInfo>, ElectorError>;

    /// A short name for logs: "zookeeper", "journal".
    fn backend(&self) -> &'static str;

    /// For an election whose lock is a time-bounded lease: until when (by this host's
    /// monotonic clock) we hold it, updated on every acquisition and renewal, `None`
    /// while we do not. The controller hands it to its NameNode as the read guard
    /// (docs/election.md). `None` (the default) for a backend without such a
    /// deadline: its NameNode is not guarded.
    fn lease_deadline(&self) -> Option<watch::Receiver<Option<tokio::time::Instant>>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> ActiveNodeInfo {
        ActiveNodeInfo {
            nameservice_id: "ns1".into(),
            namenode_id: "nn2".into(),
            hostname: "127.0.0.1".into(),
            port: 8020,
            zkfc_port: 8019,
        }
    }

    #[test]
    fn active_node_info_round_trips_with_hadoop_field_numbers() {
        let i = info();
        let bytes = i.to_bytes();
        // field 1 (nameserviceId) is a length-delimited string "ns1".
        assert_eq!(&bytes[..5], &[0x0a, 3, b'n', b's', b'1']);
        assert_eq!(ActiveNodeInfo::from_bytes(&bytes).unwrap(), i);
        assert_eq!(i.rpc_address(), "127.0.0.1:8020");
        assert_eq!(i.zkfc_address(), "127.0.0.1:8019");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(ActiveNodeInfo::from_bytes(&[0xff, 0xff, 0xff]).is_err());
        assert!(ActiveNodeInfo::from_bytes(&[]).is_err());
        let mut bad = info();
        bad.port = 1;
        let mut p = ActiveNodeInfoProto::decode(&bad.to_bytes()[..]).unwrap();
        p.port = 70000;
        assert!(ActiveNodeInfo::from_bytes(&p.encode_to_vec()).is_err());
    }
}
