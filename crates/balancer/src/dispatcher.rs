//! One block move: REPLACE_BLOCK to the target, naming the proxy to copy from and the
//! source whose replica the NameNode may then delete (Hadoop's Dispatcher.PendingMove).
//! The target answers IN_PROGRESS while it copies, then SUCCESS or an error.

use std::time::Duration;

use hafs_client::{response_error, DnConn, TransferProtection};
use hafs_datatransfer::{response_status, OpRequest, Status};
use hafs_proto::common::TokenProto;
use hafs_proto::hdfs::{
    BaseHeaderProto, DatanodeInfoProto, ExtendedBlockProto, OpReplaceBlockProto, StorageTypeProto,
};

/// The most IN_PROGRESS answers one move may send (bounds a misbehaving target).
const MAX_PROGRESS_ANSWERS: usize = 100_000;

/// A move to make.
#[derive(Debug, Clone)]
pub struct Move {
    pub block: ExtendedBlockProto,
    /// Where the target reads the block from.
    pub proxy: DatanodeInfoProto,
    /// `ip:xferPort` of the target.
    pub target_addr: String,
    /// UUID of the source: its replica is the one to delete.
    pub del_hint: String,
    pub token: TokenProto,
}

/// Sends the move to its target and waits for the answer.
pub async fn move_block(
    m: &Move,
    timeout: Duration,
    protection: Option<&TransferProtection>,
) -> Result<(), String> {
    let mut conn = DnConn::connect(&m.target_addr, timeout, protection, &m.token)
        .await
        .map_err(|e| e.to_string())?;
    let op = OpReplaceBlockProto {
        header: BaseHeaderProto {
            block: m.block.clone(),
            token: Some(m.token.clone()),
            trace_info: None,
        },
        del_hint: m.del_hint.clone(),
        source: m.proxy.clone(),
        storage_type: Some(StorageTypeProto::Disk as i32),
        storage_id: None,
    };
    conn.send_op(&OpRequest::ReplaceBlock(op))
        .await
        .map_err(|e| e.to_string())?;
    for _ in 0..MAX_PROGRESS_ANSWERS {
        let resp = conn.read_response().await.map_err(|e| e.to_string())?;
        match response_status(&resp) {
            Status::InProgress => continue,
            Status::Success => return Ok(()),
            _ => {
                return Err(format!(
                    "block move failed: {}",
                    response_error(&m.target_addr, "REPLACE_BLOCK", &resp)
                ))
            }
        }
    }
    Err(format!(
        "block move to {} sent more than {MAX_PROGRESS_ANSWERS} progress answers",
        m.target_addr
    ))
}
