//! [`JournalChannel`]: how the QuorumJournal reaches one JournalNode — the seam between
//! the writer and the network (Hadoop's `AsyncLogger.Factory`: `QuorumJournal::new`
//! makes an [`RpcChannel`] per node, `QuorumJournal::with_channels` takes any). Tests
//! wrap the RPC channel to fail chosen calls in process (`tests/qjm_faults.rs`) without
//! touching the writer.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hafs_ipc::{ClientConfig, RpcClient};

use super::call::BoxFut;
use crate::protocol::QJOURNAL_PROTOCOL;

/// One JournalNode's QJournalProtocol endpoint.
pub trait JournalChannel: Send + Sync + 'static {
    /// The node's address (`host:port`), for messages and as `fromURL` in recovery.
    fn addr(&self) -> &str;

    /// One call: the encoded request in, the encoded answer (or the error, naming the
    /// node) out. Ordering between calls is the caller's business ([`super::Logger`]).
    fn call(&self, method: &'static str, request: Bytes) -> BoxFut<Bytes>;
}

/// The channel over Hadoop IPC.
pub struct RpcChannel {
    client: Arc<RpcClient>,
}

impl RpcChannel {
    /// A client whose calls time out after `call_timeout` (connecting: at most 20 s).
    pub fn new(addr: &str, call_timeout: Duration) -> Arc<RpcChannel> {
        let cfg = ClientConfig {
            connect_timeout: call_timeout.min(Duration::from_secs(20)),
            call_timeout,
            ..ClientConfig::default()
        };
        Arc::new(RpcChannel {
            client: Arc::new(RpcClient::new(addr.to_string(), QJOURNAL_PROTOCOL, cfg)),
        })
    }
}

impl JournalChannel for RpcChannel {
    fn addr(&self) -> &str {
        self.client.addr()
    }

    fn call(&self, method: &'static str, request: Bytes) -> BoxFut<Bytes> {
        let client = self.client.clone();
        Box::pin(async move {
            client
                .call_raw(method, request, hafs_ipc::next_call_id(), 0)
                .await
                .map_err(|e| e.to_string())
        })
    }
}
