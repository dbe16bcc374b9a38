//! DatanodeProtocol calls to one NameNode.

use std::time::Duration;

use hafs_ipc::{ClientConfig, IpcError, RpcClient};
use hafs_proto::hdfs::datanode::*;

/// The protocol name DataNodes put in their request headers.
pub const DATANODE_PROTOCOL: &str = "org.apache.hadoop.hdfs.server.protocol.DatanodeProtocol";

/// The exception a NameNode answers with when it does not know the calling DataNode
/// (it restarted, or declared the DataNode dead): the DataNode must register again.
pub const UNREGISTERED_NODE: &str = "org.apache.hadoop.hdfs.protocol.UnregisteredNodeException";

/// True when the NameNode asks for a new registration.
pub fn is_unregistered_node(e: &IpcError) -> bool {
    e.remote().is_some_and(|r| {
        r.class_name == UNREGISTERED_NODE || r.class_name.ends_with("UnregisteredNodeException")
    })
}

pub struct NameNodeClient {
    rpc: RpcClient,
}

impl NameNodeClient {
    /// `call_timeout` bounds every call: a paused NameNode must not hold the actor
    /// forever (its queue keeps growing only up to its bounds meanwhile).
    pub fn new(addr: &str, call_timeout: Duration, bind_address: Option<std::net::IpAddr>) -> Self {
        let cfg = ClientConfig {
            connect_timeout: Duration::from_secs(5).min(call_timeout),
            call_timeout,
            bind_address,
            ..ClientConfig::default()
        };
        NameNodeClient {
            rpc: RpcClient::new(addr.to_string(), DATANODE_PROTOCOL, cfg),
        }
    }

    pub fn addr(&self) -> &str {
        self.rpc.addr()
    }

    pub async fn version_request(&self) -> Result<NamespaceInfoProto, IpcError> {
        let r: VersionResponseProto = self
            .rpc
            .call("versionRequest", &VersionRequestProto {})
            .await?;
        Ok(r.info)
    }

    pub async fn register(
        &self,
        registration: DatanodeRegistrationProto,
    ) -> Result<DatanodeRegistrationProto, IpcError> {
        let r: RegisterDatanodeResponseProto = self
            .rpc
            .call(
                "registerDatanode",
                &RegisterDatanodeRequestProto { registration },
            )
            .await?;
        Ok(r.registration)
    }

    pub async fn heartbeat(
        &self,
        req: &HeartbeatRequestProto,
    ) -> Result<HeartbeatResponseProto, IpcError> {
        self.rpc.call("sendHeartbeat", req).await
    }

    pub async fn block_report(
        &self,
        req: &BlockReportRequestProto,
    ) -> Result<BlockReportResponseProto, IpcError> {
        self.rpc.call("blockReport", req).await
    }

    pub async fn block_received_and_deleted(
        &self,
        req: &BlockReceivedAndDeletedRequestProto,
    ) -> Result<(), IpcError> {
        let _: BlockReceivedAndDeletedResponseProto =
            self.rpc.call("blockReceivedAndDeleted", req).await?;
        Ok(())
    }

    pub async fn error_report(&self, req: &ErrorReportRequestProto) -> Result<(), IpcError> {
        let _: ErrorReportResponseProto = self.rpc.call("errorReport", req).await?;
        Ok(())
    }

    pub async fn report_bad_blocks(
        &self,
        req: &ReportBadBlocksRequestProto,
    ) -> Result<(), IpcError> {
        let _: ReportBadBlocksResponseProto = self.rpc.call("reportBadBlocks", req).await?;
        Ok(())
    }

    pub async fn commit_block_synchronization(
        &self,
        req: &CommitBlockSynchronizationRequestProto,
    ) -> Result<(), IpcError> {
        let _: CommitBlockSynchronizationResponseProto =
            self.rpc.call("commitBlockSynchronization", req).await?;
        Ok(())
    }
}
