//! InterDatanodeProtocol: the calls between DataNodes during block recovery, served on
//! `dfs.datanode.ipc.address`. The server side hands each call to this DataNode's
//! storage ([`LocalRecovery`]); the client side is what a recovery primary uses to
//! reach the other replica holders.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use hafs_ipc::{
    CallContext, ClientConfig, IpcError, MethodTable, ProtocolService, RpcClient, RpcError,
};
use hafs_proto::hdfs::datanode::RecoveringBlockProto;
use hafs_proto::hdfs::{
    BlockProto, InitReplicaRecoveryRequestProto, InitReplicaRecoveryResponseProto,
    UpdateReplicaUnderRecoveryRequestProto, UpdateReplicaUnderRecoveryResponseProto,
};
use tracing::debug;

use crate::recovery::{state_from_proto, state_to_proto, LocalRecovery, ReplicaRecoveryInfo};
use crate::storage::ExtendedBlock;

pub const INTER_DATANODE_PROTOCOL: &str =
    "org.apache.hadoop.hdfs.server.protocol.InterDatanodeProtocol";

/// Serves InterDatanodeProtocol from the local storage.
pub struct InterDatanodeService {
    local: Arc<dyn LocalRecovery>,
}

impl InterDatanodeService {
    pub fn new(local: Arc<dyn LocalRecovery>) -> Self {
        InterDatanodeService { local }
    }

    fn table() -> MethodTable<Self> {
        MethodTable::new(INTER_DATANODE_PROTOCOL)
            .method("initReplicaRecovery", Self::init_replica_recovery)
            .method(
                "updateReplicaUnderRecovery",
                Self::update_replica_under_recovery,
            )
    }

    async fn init_replica_recovery(
        &self,
        ctx: &CallContext,
        req: InitReplicaRecoveryRequestProto,
    ) -> Result<InitReplicaRecoveryResponseProto, RpcError> {
        debug!(peer = %ctx.peer, "InterDatanodeProtocol initReplicaRecovery");
        let block = ExtendedBlock::from_proto(&req.block.block.b);
        let found = self
            .local
            .init_replica_recovery(&block, req.block.new_gen_stamp)
            .await?;
        Ok(match found {
            None => InitReplicaRecoveryResponseProto {
                replica_found: false,
                state: None,
                block: None,
            },
            Some(r) => InitReplicaRecoveryResponseProto {
                replica_found: true,
                state: Some(state_to_proto(r.original_state) as i32),
                block: Some(BlockProto {
                    block_id: r.block_id,
                    gen_stamp: r.gen_stamp,
                    num_bytes: Some(r.num_bytes),
                }),
            },
        })
    }

    async fn update_replica_under_recovery(
        &self,
        ctx: &CallContext,
        req: UpdateReplicaUnderRecoveryRequestProto,
    ) -> Result<UpdateReplicaUnderRecoveryResponseProto, RpcError> {
        debug!(peer = %ctx.peer, "InterDatanodeProtocol updateReplicaUnderRecovery");
        if req.new_block_id.unwrap_or(0) != 0 {
            return Err(RpcError::unsupported_operation(
                "recovery onto a new block id (truncate with copy) is not supported",
            ));
        }
        let block = ExtendedBlock::from_proto(&req.block);
        let storage = self
            .local
            .update_replica_under_recovery(&block, req.recovery_id, req.new_length)
            .await?;
        Ok(UpdateReplicaUnderRecoveryResponseProto {
            storage_uuid: Some(storage),
        })
    }
}

impl ProtocolService for InterDatanodeService {
    fn methods() -> &'static MethodTable<Self> {
        static METHODS: LazyLock<MethodTable<InterDatanodeService>> =
            LazyLock::new(InterDatanodeService::table);
        &METHODS
    }
}

/// Calls another DataNode's InterDatanodeProtocol.
pub struct InterDatanodeClient {
    rpc: RpcClient,
}

impl InterDatanodeClient {
    pub fn new(addr: &str, call_timeout: Duration) -> Self {
        let cfg = ClientConfig {
            connect_timeout: Duration::from_secs(5).min(call_timeout),
            call_timeout,
            ..ClientConfig::default()
        };
        InterDatanodeClient {
            rpc: RpcClient::new(addr.to_string(), INTER_DATANODE_PROTOCOL, cfg),
        }
    }

    pub async fn init_replica_recovery(
        &self,
        rb: &RecoveringBlockProto,
    ) -> Result<Option<ReplicaRecoveryInfo>, IpcError> {
        let resp: InitReplicaRecoveryResponseProto = self
            .rpc
            .call(
                "initReplicaRecovery",
                &InitReplicaRecoveryRequestProto { block: rb.clone() },
            )
            .await?;
        if !resp.replica_found {
            return Ok(None);
        }
        let bad = |what: &str| IpcError::Protocol {
            addr: self.rpc.addr().to_string(),
            msg: format!("initReplicaRecovery answer without {what}"),
        };
        let block = resp.block.ok_or_else(|| bad("the block"))?;
        let state = resp
            .state
            .and_then(|s| hafs_proto::hdfs::datanode::ReplicaStateProto::try_from(s).ok())
            .ok_or_else(|| bad("a valid replica state"))?;
        Ok(Some(ReplicaRecoveryInfo {
            block_id: block.block_id,
            gen_stamp: block.gen_stamp,
            num_bytes: block.num_bytes.unwrap_or(0),
            original_state: state_from_proto(state),
        }))
    }

    pub async fn update_replica_under_recovery(
        &self,
        block: &ExtendedBlock,
        recovery_id: u64,
        new_length: u64,
    ) -> Result<String, IpcError> {
        let resp: UpdateReplicaUnderRecoveryResponseProto = self
            .rpc
            .call(
                "updateReplicaUnderRecovery",
                &UpdateReplicaUnderRecoveryRequestProto {
                    block: block.to_proto(),
                    recovery_id,
                    new_length,
                    new_block_id: None,
                },
            )
            .await?;
        Ok(resp.storage_uuid.unwrap_or_default())
    }
}
