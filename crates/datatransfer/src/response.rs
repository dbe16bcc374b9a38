//! Responses and statuses that are plain delimited messages: the DataNode's
//! `BlockOpResponseProto` answering an op, the reader's `ClientReadStatusProto` after a
//! READ_BLOCK, and the `DNTransferAckProto` of a DataNode-to-DataNode transfer.

use hafs_proto::hdfs::{BlockOpResponseProto, ClientReadStatusProto, DnTransferAckProto, Status};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::delimited::{read_delimited, read_delimited_opt, write_delimited};
use crate::error::Result;

/// A response with only a status and an explanatory message.
pub fn op_response(status: Status, message: impl Into<String>) -> BlockOpResponseProto {
    let message: String = message.into();
    BlockOpResponseProto {
        status: status as i32,
        message: if message.is_empty() {
            None
        } else {
            Some(message)
        },
        ..Default::default()
    }
}

/// The response's status; an unknown value reads as ERROR.
pub fn response_status(resp: &BlockOpResponseProto) -> Status {
    Status::try_from(resp.status).unwrap_or(Status::Error)
}

/// Read the DataNode's response to an op.
pub async fn read_op_response<R: AsyncRead + Unpin>(r: &mut R) -> Result<BlockOpResponseProto> {
    read_delimited(r, "BlockOpResponseProto").await
}

/// Write a response to an op (not flushed).
pub async fn write_op_response<W: AsyncWrite + Unpin>(
    w: &mut W,
    resp: &BlockOpResponseProto,
) -> Result<()> {
    write_delimited(w, resp).await
}

/// Write the reader's status after the last packet of a READ_BLOCK (not flushed).
pub async fn write_client_read_status<W: AsyncWrite + Unpin>(
    w: &mut W,
    status: Status,
) -> Result<()> {
    write_delimited(
        w,
        &ClientReadStatusProto {
            status: status as i32,
        },
    )
    .await
}

/// Read the reader's status; `Ok(None)` if the reader closed without sending one (Hadoop
/// clients that stop early just close).
pub async fn read_client_read_status<R: AsyncRead + Unpin>(
    r: &mut R,
) -> Result<Option<ClientReadStatusProto>> {
    read_delimited_opt(r, "ClientReadStatusProto").await
}

/// Write a transfer ack (not flushed).
pub async fn write_transfer_ack<W: AsyncWrite + Unpin>(w: &mut W, status: Status) -> Result<()> {
    write_delimited(
        w,
        &DnTransferAckProto {
            status: status as i32,
        },
    )
    .await
}

/// Read a transfer ack.
pub async fn read_transfer_ack<R: AsyncRead + Unpin>(r: &mut R) -> Result<DnTransferAckProto> {
    read_delimited(r, "DNTransferAckProto").await
}
