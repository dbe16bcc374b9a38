//! Op requests: what a client (or a DataNode) sends first on a data connection.
//!
//! Wire form (Hadoop's `Sender` / `Receiver`): u16 big-endian protocol version (28), one
//! op-code byte, then the op's protobuf message with a varint length prefix.

use hafs_proto::hdfs::{
    OpBlockChecksumProto, OpCopyBlockProto, OpReadBlockProto, OpReplaceBlockProto,
    OpTransferBlockProto, OpWriteBlockProto,
};
use prost::Message;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::delimited::{read_body, read_varint_len, MAX_DELIMITED_LEN};
use crate::error::{DataTransferError, Result};

/// The DataTransferProtocol version hafs speaks (Hadoop 2.x and 3.x).
pub const DATA_TRANSFER_VERSION: u16 = 28;

/// Op codes of DataTransferProtocol (Hadoop's `Op` enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OpCode {
    WriteBlock = 80,
    ReadBlock = 81,
    /// Obsolete in Hadoop; defined so it can be refused by name.
    ReadMetadata = 82,
    ReplaceBlock = 83,
    CopyBlock = 84,
    BlockChecksum = 85,
    TransferBlock = 86,
    RequestShortCircuitFds = 87,
    ReleaseShortCircuitFds = 88,
    RequestShortCircuitShm = 89,
    BlockGroupChecksum = 90,
    Custom = 127,
}

impl OpCode {
    /// The op for a code byte, if Hadoop defines one.
    pub fn from_u8(code: u8) -> Option<OpCode> {
        Some(match code {
            80 => OpCode::WriteBlock,
            81 => OpCode::ReadBlock,
            82 => OpCode::ReadMetadata,
            83 => OpCode::ReplaceBlock,
            84 => OpCode::CopyBlock,
            85 => OpCode::BlockChecksum,
            86 => OpCode::TransferBlock,
            87 => OpCode::RequestShortCircuitFds,
            88 => OpCode::ReleaseShortCircuitFds,
            89 => OpCode::RequestShortCircuitShm,
            90 => OpCode::BlockGroupChecksum,
            127 => OpCode::Custom,
            _ => return None,
        })
    }

    /// The code byte.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// A decoded op request.
#[derive(Debug, Clone, PartialEq)]
pub enum OpRequest {
    WriteBlock(OpWriteBlockProto),
    ReadBlock(OpReadBlockProto),
    ReplaceBlock(OpReplaceBlockProto),
    CopyBlock(OpCopyBlockProto),
    BlockChecksum(OpBlockChecksumProto),
    TransferBlock(OpTransferBlockProto),
    /// An op Hadoop defines but hafs does not serve (short-circuit, striped checksum,
    /// custom, the obsolete READ_METADATA). Its body was read and dropped, so the server
    /// can answer `ERROR_UNSUPPORTED` in protocol before closing.
    Unsupported(OpCode),
}

impl OpRequest {
    /// The op's code.
    pub fn op_code(&self) -> OpCode {
        match self {
            OpRequest::WriteBlock(_) => OpCode::WriteBlock,
            OpRequest::ReadBlock(_) => OpCode::ReadBlock,
            OpRequest::ReplaceBlock(_) => OpCode::ReplaceBlock,
            OpRequest::CopyBlock(_) => OpCode::CopyBlock,
            OpRequest::BlockChecksum(_) => OpCode::BlockChecksum,
            OpRequest::TransferBlock(_) => OpCode::TransferBlock,
            OpRequest::Unsupported(op) => *op,
        }
    }

    /// Encode version, op code and the length-prefixed body. `Unsupported` ops encode
    /// with an empty body (useful only for tests of the refusal path).
    pub fn encode(&self) -> Vec<u8> {
        let body = match self {
            OpRequest::WriteBlock(m) => m.encode_length_delimited_to_vec(),
            OpRequest::ReadBlock(m) => m.encode_length_delimited_to_vec(),
            OpRequest::ReplaceBlock(m) => m.encode_length_delimited_to_vec(),
            OpRequest::CopyBlock(m) => m.encode_length_delimited_to_vec(),
            OpRequest::BlockChecksum(m) => m.encode_length_delimited_to_vec(),
            OpRequest::TransferBlock(m) => m.encode_length_delimited_to_vec(),
            OpRequest::Unsupported(_) => vec![0],
        };
        let mut out = Vec::with_capacity(3 + body.len());
        out.extend_from_slice(&DATA_TRANSFER_VERSION.to_be_bytes());
        out.push(self.op_code().code());
        out.extend_from_slice(&body);
        out
    }
}

/// Write an op request (not flushed).
pub async fn write_op<W: AsyncWrite + Unpin>(w: &mut W, op: &OpRequest) -> Result<()> {
    w.write_all(&op.encode()).await?;
    Ok(())
}

/// Read the next op request. `Ok(None)` when the peer closed the connection cleanly
/// before sending one (the end of a kept-alive connection).
pub async fn read_op<R: AsyncRead + Unpin>(r: &mut R) -> Result<Option<OpRequest>> {
    let mut version = [0u8; 2];
    // The first byte decides between "closed between ops" and "closed inside one".
    let n = r.read(&mut version[..1]).await?;
    if n == 0 {
        return Ok(None);
    }
    r.read_exact(&mut version[1..])
        .await
        .map_err(|e| DataTransferError::from_read(e, "op version"))?;
    let version = u16::from_be_bytes(version);
    if version != DATA_TRANSFER_VERSION {
        return Err(DataTransferError::UnsupportedVersion {
            got: version,
            expected: DATA_TRANSFER_VERSION,
        });
    }
    let code = r
        .read_u8()
        .await
        .map_err(|e| DataTransferError::from_read(e, "op code"))?;
    let op = OpCode::from_u8(code).ok_or(DataTransferError::UnknownOp(code))?;
    let len = read_varint_len(r, "op request")
        .await?
        .ok_or(DataTransferError::Truncated { what: "op request" })?;
    let max = MAX_DELIMITED_LEN;
    Ok(Some(match op {
        OpCode::WriteBlock => {
            OpRequest::WriteBlock(read_body(r, len, max, "OpWriteBlockProto").await?)
        }
        OpCode::ReadBlock => {
            OpRequest::ReadBlock(read_body(r, len, max, "OpReadBlockProto").await?)
        }
        OpCode::ReplaceBlock => {
            OpRequest::ReplaceBlock(read_body(r, len, max, "OpReplaceBlockProto").await?)
        }
        OpCode::CopyBlock => {
            OpRequest::CopyBlock(read_body(r, len, max, "OpCopyBlockProto").await?)
        }
        OpCode::BlockChecksum => {
            OpRequest::BlockChecksum(read_body(r, len, max, "OpBlockChecksumProto").await?)
        }
        OpCode::TransferBlock => {
            OpRequest::TransferBlock(read_body(r, len, max, "OpTransferBlockProto").await?)
        }
        other => {
            if len > max {
                return Err(DataTransferError::TooLong {
                    what: "op request",
                    len: len as u64,
                    max: max as u64,
                });
            }
            let mut skip = vec![0u8; len];
            r.read_exact(&mut skip)
                .await
                .map_err(|e| DataTransferError::from_read(e, "op request"))?;
            OpRequest::Unsupported(other)
        }
    }))
}
