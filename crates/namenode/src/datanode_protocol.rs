//! DatanodeProtocol served to DataNodes (Hadoop's NameNodeRpcServer, DataNode side):
//! thin adapters from the wire messages to the [`BlockManager`]. Every heartbeat reply
//! carries this NameNode's HA state and last txid, so a DataNode serving several
//! NameNodes obeys only the Active; commands go out only when this NameNode is Active.

use std::sync::Arc;

use bytes::Bytes;
use hafs_ipc::{decode_request, encode_response, CallContext, RpcError, RpcService};
use hafs_proto::hdfs::datanode as dpb;

use crate::blockmanagement::{Block, BlockManager};
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
}

use dpb::nnha_status_heartbeat_proto::State as NnState;

impl DatanodeProtocolService {
    pub fn new(fsn: Arc<Namesystem>, bm: Arc<BlockManager>) -> Self {
        DatanodeProtocolService {
            fsn,
            bm,
            block_sync: None,
        }
    }

    fn is_active(&self) -> bool {
        self.fsn.ha_state() == HaState::Active
    }

    fn ha_status(&self) -> dpb::NnhaStatusHeartbeatProto {
        dpb::NnhaStatusHeartbeatProto {
            state: if self.is_active() {
                NnState::Active
            } else {
                NnState::Standby
            } as i32,
            txid: self.fsn.edit_log.last_written_txid(),
        }
    }

    async fn dispatch(
        &self,
        ctx: &CallContext,
        method: &str,
        req: Bytes,
    ) -> Result<Bytes, RpcError> {
        let bm = &self.bm;
        match method {
            "versionRequest" => {
                let _: dpb::VersionRequestProto = decode_request(&req)?;
                let state = if self.is_active() {
                    NnState::Active
                } else {
                    NnState::Standby
                };
                Ok(encode_response(&dpb::VersionResponseProto {
                    info: bm.namespace_info(state),
                }))
            }
            "registerDatanode" => {
                let r: dpb::RegisterDatanodeRequestProto = decode_request(&req)?;
                let registration = bm.register_datanode(&r.registration, Some(ctx.peer.ip()))?;
                Ok(encode_response(&dpb::RegisterDatanodeResponseProto {
                    registration,
                }))
            }
            "sendHeartbeat" => {
                let r: dpb::HeartbeatRequestProto = decode_request(&req)?;
                // The HA status is read before the commands: a NameNode that just
                // stepped down never sends commands labelled Active.
                let ha_status = self.ha_status();
                let active = ha_status.state == NnState::Active as i32;
                let cmds = bm.handle_heartbeat(&r, active);
                Ok(encode_response(&dpb::HeartbeatResponseProto {
                    cmds,
                    ha_status,
                    full_block_report_lease_id: Some(0),
                }))
            }
            "blockReport" => {
                let r: dpb::BlockReportRequestProto = decode_request(&req)?;
                bm.process_block_report(&r)?;
                Ok(encode_response(&dpb::BlockReportResponseProto {
                    cmd: None,
                }))
            }
            "blockReceivedAndDeleted" => {
                let r: dpb::BlockReceivedAndDeletedRequestProto = decode_request(&req)?;
                bm.process_incremental_block_report(&r)?;
                Ok(encode_response(
                    &dpb::BlockReceivedAndDeletedResponseProto {},
                ))
            }
            "errorReport" => {
                let r: dpb::ErrorReportRequestProto = decode_request(&req)?;
                bm.error_report(&r);
                Ok(encode_response(&dpb::ErrorReportResponseProto {}))
            }
            "reportBadBlocks" => {
                let r: dpb::ReportBadBlocksRequestProto = decode_request(&req)?;
                bm.report_bad_blocks(&r.blocks);
                Ok(encode_response(&dpb::ReportBadBlocksResponseProto {}))
            }
            "commitBlockSynchronization" => {
                let r: dpb::CommitBlockSynchronizationRequestProto = decode_request(&req)?;
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
                bm.commit_block_synchronization(
                    Block {
                        id: r.block.block_id,
                        gen_stamp: r.new_gen_stamp,
                        num_bytes: r.new_length,
                    },
                    &targets,
                    r.delete_block,
                );
                Ok(encode_response(
                    &dpb::CommitBlockSynchronizationResponseProto {},
                ))
            }
            other => Err(RpcError::no_such_method(PROTOCOL, other)),
        }
    }
}

#[async_trait::async_trait]
impl RpcService for DatanodeProtocolService {
    fn protocol_name(&self) -> &'static str {
        PROTOCOL
    }

    async fn call(
        &self,
        ctx: &CallContext,
        method: &str,
        request: Bytes,
    ) -> Result<Bytes, RpcError> {
        self.dispatch(ctx, method, request).await
    }
}
