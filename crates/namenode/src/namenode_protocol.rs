//! NamenodeProtocol (`org.apache.hadoop.hdfs.server.protocol.NamenodeProtocol`), the
//! protocol Hadoop's Balancer, SecondaryNameNode and tools speak to a NameNode. hafs
//! serves what a balancer calls: `versionRequest` (the namespace's identity: cluster
//! id, block pool id, layout; also asked by Hadoop's `NNThroughputBenchmark -fs`),
//! `getBlocks` (a DataNode's blocks to move), `getBlockKeys` (to sign the moves' block
//! tokens), `getTransactionId`, `isUpgradeFinalized` and `isRollingUpgrade`. The
//! checkpoint calls answer RpcNoSuchMethodException: hafs has no SecondaryNameNode.
//!
//! getBlocks is a READ: a Standby answers StandbyException unless
//! `dfs.ha.allow.stale.reads` lets it serve (Hadoop's check). It and getBlockKeys need
//! the superuser, as in Hadoop.

use std::sync::{Arc, LazyLock};

use bytes::Bytes;
use hafs_ipc::{
    decode_request, CallContext, MethodInfo, MethodTable, ProtocolService, RpcError, RpcService,
};
use hafs_proto::hdfs::datanode as dpb;
use prost::Message;

use crate::datanode_protocol::DatanodeProtocolService;

pub const PROTOCOL: &str = "org.apache.hadoop.hdfs.server.protocol.NamenodeProtocol";

pub struct NamenodeProtocolService {
    pub datanode: Arc<DatanodeProtocolService>,
}

impl NamenodeProtocolService {
    fn table() -> MethodTable<Self> {
        MethodTable::new(PROTOCOL)
            .method("versionRequest", Self::version_request)
            .read("getBlocks", Self::get_blocks)
            .method("getBlockKeys", Self::get_block_keys)
            .method("getTransactionId", Self::get_transaction_id)
            .method("isUpgradeFinalized", Self::is_upgrade_finalized)
            .method("isRollingUpgrade", Self::is_rolling_upgrade)
    }

    fn check_superuser(&self, ctx: &CallContext, what: &str) -> Result<(), RpcError> {
        let fsn = &self.datanode.fsn;
        fsn.check_superuser(&fsn.caller(&ctx.user), what)
    }

    async fn version_request(
        &self,
        ctx: &CallContext,
        r: dpb::VersionRequestProto,
    ) -> Result<dpb::VersionResponseProto, RpcError> {
        let body = self
            .datanode
            .call(ctx, "versionRequest", Bytes::from(r.encode_to_vec()))
            .await?;
        decode_request(&body)
    }

    async fn get_blocks(
        &self,
        ctx: &CallContext,
        r: dpb::GetBlocksRequestProto,
    ) -> Result<dpb::GetBlocksResponseProto, RpcError> {
        self.check_superuser(ctx, "get blocks")?;
        // Java longs on the wire: a "negative" size arrives as a huge u64.
        if r.size == 0 || r.size > i64::MAX as u64 {
            return Err(RpcError::illegal_argument(format!(
                "Unexpected not positive size: {}",
                r.size as i64
            )));
        }
        let min = r.min_block_size.unwrap_or(10 * 1024 * 1024);
        if min > i64::MAX as u64 {
            return Err(RpcError::illegal_argument(format!(
                "Unexpected not positive size: {}",
                min as i64
            )));
        }
        let uuid = &r.datanode.datanode_uuid;
        let blocks = self
            .datanode
            .bm
            .blocks_for_balancer(uuid, r.size, min)
            .map_err(|e| RpcError::illegal_argument(e.to_string()))?;
        Ok(dpb::GetBlocksResponseProto {
            blocks: dpb::BlocksWithLocationsProto { blocks },
        })
    }

    async fn get_block_keys(
        &self,
        ctx: &CallContext,
        _r: dpb::GetBlockKeysRequestProto,
    ) -> Result<dpb::GetBlockKeysResponseProto, RpcError> {
        self.check_superuser(ctx, "get block keys")?;
        let keys = match self.datanode.bm.block_tokens() {
            Some(t) => t.exported_keys(),
            // With block tokens off Hadoop answers its DUMMY_KEYS (disabled, one empty
            // key), never nothing: Apache's balancer reads `isBlockTokenEnabled` from
            // the answer without checking for one.
            None => Some(dpb::ExportedBlockKeysProto {
                is_block_token_enabled: false,
                key_update_interval: 0,
                token_life_time: 0,
                current_key: dpb::BlockKeyProto {
                    key_id: 0,
                    expiry_date: 0,
                    key_bytes: None,
                },
                all_keys: Vec::new(),
            }),
        };
        Ok(dpb::GetBlockKeysResponseProto { keys })
    }

    async fn get_transaction_id(
        &self,
        ctx: &CallContext,
        _r: dpb::GetTransactionIdRequestProto,
    ) -> Result<dpb::GetTransactionIdResponseProto, RpcError> {
        self.check_superuser(ctx, "get the transaction id")?;
        Ok(dpb::GetTransactionIdResponseProto {
            tx_id: self.datanode.fsn.edit_log.last_written_txid(),
        })
    }

    /// hafs has no upgrade: always finalized.
    async fn is_upgrade_finalized(
        &self,
        _ctx: &CallContext,
        _r: dpb::IsUpgradeFinalizedRequestProto,
    ) -> Result<dpb::IsUpgradeFinalizedResponseProto, RpcError> {
        Ok(dpb::IsUpgradeFinalizedResponseProto {
            is_upgrade_finalized: true,
        })
    }

    /// hafs has no rolling upgrade.
    async fn is_rolling_upgrade(
        &self,
        _ctx: &CallContext,
        _r: dpb::IsRollingUpgradeRequestProto,
    ) -> Result<dpb::IsRollingUpgradeResponseProto, RpcError> {
        Ok(dpb::IsRollingUpgradeResponseProto {
            is_rolling_upgrade: false,
        })
    }
}

impl ProtocolService for NamenodeProtocolService {
    fn methods() -> &'static MethodTable<Self> {
        static METHODS: LazyLock<MethodTable<NamenodeProtocolService>> =
            LazyLock::new(NamenodeProtocolService::table);
        &METHODS
    }

    fn admit(&self, _ctx: &CallContext, method: &MethodInfo) -> Result<(), RpcError> {
        self.datanode.fsn.check_operation(method.category)
    }
}
