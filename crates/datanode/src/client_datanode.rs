//! ClientDatanodeProtocol (`org.apache.hadoop.hdfs.protocol.ClientDatanodeProtocol`) on
//! `dfs.datanode.ipc.address`: `getReplicaVisibleLength`, which Hadoop's client calls
//! before reading the last block of a file still being written (`-tail -f`, reading
//! while another client hflushes or appends); `getDatanodeInfo` and
//! `getBalancerBandwidth` for `dfsadmin`. Other methods answer
//! RpcNoSuchMethodException.

use std::sync::{Arc, LazyLock};
use std::time::Instant;

use hafs_ipc::{CallContext, MethodTable, ProtocolService, RpcError};
use hafs_proto::hdfs::{
    DatanodeLocalInfoProto, GetBalancerBandwidthRequestProto, GetBalancerBandwidthResponseProto,
    GetDatanodeInfoRequestProto, GetDatanodeInfoResponseProto, GetReplicaVisibleLengthRequestProto,
    GetReplicaVisibleLengthResponseProto,
};

use hafs_security::block_token::AccessMode;

use crate::balance::BalanceLimits;
use crate::security::DataTransferSecurity;
use crate::storage::{DataNodeStorage, ReplicaState};

/// The configuration version `dfsadmin -getDatanodeInfo` shows: what a stock Hadoop
/// DataNode reports with the default `hadoop.common.configuration.version` and
/// `hadoop.hdfs.configuration.version` (hafs versions neither).
const CONFIG_VERSION: &str = "core-3.0.0,hdfs-1";

pub const CLIENT_DATANODE_PROTOCOL: &str = "org.apache.hadoop.hdfs.protocol.ClientDatanodeProtocol";

pub struct ClientDatanodeService {
    storage: DataNodeStorage,
    security: Arc<DataTransferSecurity>,
    balance: Arc<BalanceLimits>,
    started: Instant,
}

impl ClientDatanodeService {
    pub fn new(
        storage: DataNodeStorage,
        security: Arc<DataTransferSecurity>,
        balance: Arc<BalanceLimits>,
    ) -> Self {
        ClientDatanodeService {
            storage,
            security,
            balance,
            started: Instant::now(),
        }
    }

    /// Hadoop's FsDatasetImpl#getReplicaVisibleLength: the replica must exist with a
    /// generation stamp at least the client's; its visible length is the acknowledged
    /// bytes (a finalized replica: its length).
    fn visible_length(&self, req: &GetReplicaVisibleLengthRequestProto) -> Result<u64, RpcError> {
        let b = &req.block;
        let Some(r) = self.storage.get_replica(&b.pool_id, b.block_id) else {
            return Err(RpcError::new(
                "org.apache.hadoop.hdfs.server.datanode.ReplicaNotFoundException",
                format!(
                    "Replica not found for {}:blk_{}_{}",
                    b.pool_id, b.block_id, b.generation_stamp
                ),
            ));
        };
        if r.gen_stamp < b.generation_stamp {
            return Err(RpcError::io(format!(
                "replica.getGenerationStamp() < block.getGenerationStamp(), block=blk_{}_{}, replica gen stamp {}",
                b.block_id, b.generation_stamp, r.gen_stamp
            )));
        }
        Ok(match r.state {
            ReplicaState::Finalized => r.bytes_on_disk,
            _ => r.visible_length,
        })
    }
}

impl ClientDatanodeService {
    fn table() -> MethodTable<Self> {
        MethodTable::new(CLIENT_DATANODE_PROTOCOL)
            .method("getReplicaVisibleLength", Self::get_replica_visible_length)
            .method("getDatanodeInfo", Self::get_datanode_info)
            .method("getBalancerBandwidth", Self::get_balancer_bandwidth)
    }

    /// `dfsadmin -getDatanodeInfo`: version and uptime (seconds), open to any caller
    /// as in Hadoop (it is how operators check that a DataNode is up).
    async fn get_datanode_info(
        &self,
        _ctx: &CallContext,
        _req: GetDatanodeInfoRequestProto,
    ) -> Result<GetDatanodeInfoResponseProto, RpcError> {
        Ok(GetDatanodeInfoResponseProto {
            local_info: DatanodeLocalInfoProto {
                software_version: hafs_proto::HADOOP_VERSION.to_string(),
                config_version: CONFIG_VERSION.to_string(),
                uptime: self.started.elapsed().as_secs(),
            },
        })
    }

    /// `dfsadmin -getBalancerBandwidth`: the bandwidth balancer moves get now
    /// (`dfs.datanode.balance.bandwidthPerSec`, or the last `-setBalancerBandwidth`).
    async fn get_balancer_bandwidth(
        &self,
        _ctx: &CallContext,
        _req: GetBalancerBandwidthRequestProto,
    ) -> Result<GetBalancerBandwidthResponseProto, RpcError> {
        Ok(GetBalancerBandwidthResponseProto {
            bandwidth: self.balance.bandwidth(),
        })
    }

    async fn get_replica_visible_length(
        &self,
        ctx: &CallContext,
        req: GetReplicaVisibleLengthRequestProto,
    ) -> Result<GetReplicaVisibleLengthResponseProto, RpcError> {
        // Hadoop's checkReadAccess: with block tokens on, the caller must have
        // authenticated with a READ token for this very block.
        let b = &req.block;
        self.security
            .check_call(
                ctx.token_identifier.as_deref(),
                &b.pool_id,
                b.block_id,
                AccessMode::Read,
            )
            .map_err(|msg| match ctx.token_identifier {
                None => RpcError::io(msg),
                Some(_) => RpcError::new(hafs_ipc::exceptions::INVALID_TOKEN, msg),
            })?;
        let length = self.visible_length(&req)?;
        Ok(GetReplicaVisibleLengthResponseProto { length })
    }
}

impl ProtocolService for ClientDatanodeService {
    fn methods() -> &'static MethodTable<Self> {
        static METHODS: LazyLock<MethodTable<ClientDatanodeService>> =
            LazyLock::new(ClientDatanodeService::table);
        &METHODS
    }
}
