//! DatanodeProtocol served to DataNodes (Hadoop's NameNodeRpcServer, DataNode side):
//! thin adapters from the wire messages to the [`BlockManager`]. Every heartbeat reply
//! carries this NameNode's HA state and last txid, so a DataNode serving several
//! NameNodes obeys only the Active; commands go out only when this NameNode is Active.
//!
//! Apache DataNodes are served too: they ask for a full-block-report lease in their
//! heartbeats. Both kinds send their replicas as Hadoop's legacy long array, which this
//! adapter decodes into the [`StorageReport`]s the block manager reads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use hafs_ipc::{CallContext, MethodTable, ProtocolService, RpcError};
use hafs_proto::block_list::decode_legacy_block_list;
use hafs_proto::hdfs::datanode as dpb;

use crate::blockmanagement::{Block, BlockManager, StorageReport};
use crate::namesystem::{HaState, Namesystem};

pub const PROTOCOL: &str = "org.apache.hadoop.hdfs.server.protocol.DatanodeProtocol";

/// The namespace half of commitBlockSynchronization (updating the file's last block
/// and closing it), provided by the write path. The block manager's half is done by
/// the service before this is called.
#[async_trait::async_trait]
pub trait BlockSyncCommitter: Send + Sync {
    async fn commit_block_synchronization(
        &self,
        req: &dpb::CommitBlockSynchronizationRequestProto,
    ) -> Result<(), RpcError>;
}

pub struct DatanodeProtocolService {
    pub fsn: Arc<Namesystem>,
    pub bm: Arc<BlockManager>,
    /// None until the write path provides lease recovery.
    pub block_sync: Option<Arc<dyn BlockSyncCommitter>>,
    /// The last full-block-report lease id granted (ids are never 0: 0 means none).
    pub last_report_lease: Arc<AtomicU64>,
}

use dpb::nnha_status_heartbeat_proto::State as NnState;

impl DatanodeProtocolService {
    pub fn new(fsn: Arc<Namesystem>, bm: Arc<BlockManager>) -> Self {
        DatanodeProtocolService {
            fsn,
            bm,
            block_sync: None,
            last_report_lease: Arc::new(AtomicU64::new(0)),
        }
    }

    fn is_active(&self) -> bool {
        self.fsn.ha_state() == HaState::Active
    }

    fn ha_status(&self) -> dpb::NnhaStatusHeartbeatProto {
        dpb::NnhaStatusHeartbeatProto {
            state: match self.fsn.ha_state() {
                HaState::Active => NnState::Active,
                // DataNodes treat an Observer as a Standby (never their Active).
                HaState::Observer => NnState::Observer,
                HaState::Standby | HaState::Initializing => NnState::Standby,
            } as i32,
            txid: self.fsn.edit_log.last_written_txid(),
        }
    }

    /// Every DatanodeProtocol method. None has an HA category: a Standby takes
    /// registrations, heartbeats and block reports too, so it is ready to become Active.
    fn table() -> MethodTable<Self> {
        MethodTable::new(PROTOCOL)
            .method("versionRequest", Self::version_request)
            .method("registerDatanode", Self::register_datanode)
            .method("sendHeartbeat", Self::send_heartbeat)
            .method("blockReport", Self::block_report)
            .method("blockReceivedAndDeleted", Self::block_received_and_deleted)
            .method("errorReport", Self::error_report)
            .method("reportBadBlocks", Self::report_bad_blocks)
            .method(
                "commitBlockSynchronization",
                Self::commit_block_synchronization,
            )
    }

    async fn version_request(
        &self,
        _ctx: &CallContext,
        _r: dpb::VersionRequestProto,
    ) -> Result<dpb::VersionResponseProto, RpcError> {
        let state = if self.is_active() {
            NnState::Active
        } else {
            NnState::Standby
        };
        Ok(dpb::VersionResponseProto {
            info: self.bm.namespace_info(state),
        })
    }

    async fn register_datanode(
        &self,
        ctx: &CallContext,
        r: dpb::RegisterDatanodeRequestProto,
    ) -> Result<dpb::RegisterDatanodeResponseProto, RpcError> {
        // The topology script may run for a while: on a blocking thread, not an IPC
        // worker (Hadoop resolves a DataNode by the address it connects from).
        let bm = self.bm.clone();
        let ip = ctx.peer.ip().to_string();
        let location = tokio::task::spawn_blocking(move || bm.resolve_rack(&ip))
            .await
            .unwrap_or_else(|_| crate::blockmanagement::topology::DEFAULT_RACK.to_string());
        let mut registration =
            self.bm
                .register_datanode_on_rack(&r.registration, Some(ctx.peer.ip()), location)?;
        if let Some(tokens) = self.bm.block_tokens() {
            registration.keys = tokens.registration_keys(&registration.datanode_id.datanode_uuid);
        }
        Ok(dpb::RegisterDatanodeResponseProto { registration })
    }

    async fn send_heartbeat(
        &self,
        _ctx: &CallContext,
        r: dpb::HeartbeatRequestProto,
    ) -> Result<dpb::HeartbeatResponseProto, RpcError> {
        // The HA status is read before the commands: a NameNode that just stepped
        // down never sends commands labelled Active.
        let ha_status = self.ha_status();
        let active = ha_status.state == NnState::Active as i32;
        self.bm
            .check_heartbeat_allowed(&r.registration.datanode_id.datanode_uuid)?;
        let mut cmds = self.bm.handle_heartbeat(&r, active);
        // Keys go out from the Standby too: DataNodes must accept tokens signed by
        // either NameNode.
        if let Some(tokens) = self.bm.block_tokens() {
            cmds.extend(tokens.key_update_command(&r.registration.datanode_id.datanode_uuid));
        }
        // An Apache DataNode sends its full block report only under a lease. The lease
        // is granted whenever asked for: it only paces reports, and this NameNode takes
        // a report whenever it comes (as it does from hafs DataNodes, which never ask).
        let full_block_report_lease_id = if r.request_full_block_report_lease == Some(true) {
            self.last_report_lease.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            0
        };
        Ok(dpb::HeartbeatResponseProto {
            cmds,
            ha_status,
            full_block_report_lease_id: Some(full_block_report_lease_id),
        })
    }

    async fn block_report(
        &self,
        _ctx: &CallContext,
        r: dpb::BlockReportRequestProto,
    ) -> Result<dpb::BlockReportResponseProto, RpcError> {
        let mut reports = Vec::with_capacity(r.reports.len());
        for report in r.reports {
            let replicas = decode_legacy_block_list(&report.blocks).map_err(|e| {
                RpcError::io(format!(
                    "blockReport: storage {}: {e}",
                    report.storage.storage_uuid
                ))
            })?;
            reports.push(StorageReport {
                storage_uuid: report.storage.storage_uuid,
                replicas,
            });
        }
        self.bm
            .process_block_report(&r.registration, &r.block_pool_id, &reports)?;
        Ok(dpb::BlockReportResponseProto { cmd: None })
    }

    async fn block_received_and_deleted(
        &self,
        _ctx: &CallContext,
        r: dpb::BlockReceivedAndDeletedRequestProto,
    ) -> Result<dpb::BlockReceivedAndDeletedResponseProto, RpcError> {
        self.bm.process_incremental_block_report(&r)?;
        Ok(dpb::BlockReceivedAndDeletedResponseProto {})
    }

    async fn error_report(
        &self,
        _ctx: &CallContext,
        r: dpb::ErrorReportRequestProto,
    ) -> Result<dpb::ErrorReportResponseProto, RpcError> {
        self.bm.error_report(&r);
        Ok(dpb::ErrorReportResponseProto {})
    }

    async fn report_bad_blocks(
        &self,
        _ctx: &CallContext,
        r: dpb::ReportBadBlocksRequestProto,
    ) -> Result<dpb::ReportBadBlocksResponseProto, RpcError> {
        self.bm.report_bad_blocks(&r.blocks);
        Ok(dpb::ReportBadBlocksResponseProto {})
    }

    /// The end of a block recovery: the namespace half (the write path), then the
    /// block manager's. Only the Active commits; checked here, with its own message,
    /// since this protocol's rows carry no HA category.
    async fn commit_block_synchronization(
        &self,
        _ctx: &CallContext,
        r: dpb::CommitBlockSynchronizationRequestProto,
    ) -> Result<dpb::CommitBlockSynchronizationResponseProto, RpcError> {
        if !self.is_active() {
            return Err(RpcError::standby(
                "Operation category WRITE is not supported in state standby",
            ));
        }
        let Some(sync) = &self.block_sync else {
            return Err(RpcError::io(
                "commitBlockSynchronization: lease recovery is not available on this NameNode",
            ));
        };
        sync.commit_block_synchronization(&r).await?;
        let targets: Vec<String> = r
            .new_taragets
            .iter()
            .map(|t| t.datanode_uuid.clone())
            .collect();
        self.bm.commit_block_synchronization(
            Block {
                id: r.block.block_id,
                gen_stamp: r.new_gen_stamp,
                num_bytes: r.new_length,
            },
            &targets,
            r.delete_block,
        );
        Ok(dpb::CommitBlockSynchronizationResponseProto {})
    }
}

impl ProtocolService for DatanodeProtocolService {
    fn methods() -> &'static MethodTable<Self> {
        static METHODS: LazyLock<MethodTable<DatanodeProtocolService>> =
            LazyLock::new(DatanodeProtocolService::table);
        &METHODS
    }
}
