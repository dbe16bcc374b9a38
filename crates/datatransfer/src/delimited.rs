//! Varint-length-prefixed protobuf messages, Java's `writeDelimitedTo` /
//! `parseDelimitedFrom` (Hadoop's `vintPrefixed`): every op body, response, ack and read
//! status on the data port is framed this way.

use prost::Message;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::{DataTransferError, Result};

/// Largest message hafs accepts after a varint prefix. Ops carry a few DataNode infos and a
/// token, acks a handful of statuses; 1 MiB leaves room and keeps a bad prefix harmless.
pub const MAX_DELIMITED_LEN: usize = 1 << 20;

/// Encode `msg` with its varint length prefix.
pub fn encode_delimited<M: Message>(msg: &M) -> Vec<u8> {
    msg.encode_length_delimited_to_vec()
}

/// Write `msg` with its varint length prefix (not flushed).
pub async fn write_delimited<W, M>(w: &mut W, msg: &M) -> Result<()>
where
    W: AsyncWrite + Unpin,
    M: Message,
{
    w.write_all(&encode_delimited(msg)).await?;
    Ok(())
}

/// Read a varint32 length prefix. `Ok(None)` when the stream ends before its first byte
/// (a peer that closed between messages), an error when it ends inside it.
pub async fn read_varint_len<R>(r: &mut R, what: &'static str) -> Result<Option<usize>>
where
    R: AsyncRead + Unpin,
{
    let mut value: u64 = 0;
    // A u32 needs at most 5 varint bytes; protobuf tolerates 10 for negative int32s, but
    // a length is never negative, so more than 5 bytes is garbage.
    for i in 0..5 {
        let mut b = [0u8; 1];
        let n = r.read(&mut b).await?;
        if n == 0 {
            if i == 0 {
                return Ok(None);
            }
            return Err(DataTransferError::Truncated { what });
        }
        value |= u64::from(b[0] & 0x7f) << (7 * i);
        if b[0] & 0x80 == 0 {
            return usize::try_from(value)
                .map(Some)
                .map_err(|_| DataTransferError::TooLong {
                    what,
                    len: value,
                    max: MAX_DELIMITED_LEN as u64,
                });
        }
    }
    Err(DataTransferError::InvalidPacket(format!(
        "length prefix of {what} longer than 5 bytes"
    )))
}

/// Read the body of a delimited message whose length is already known.
pub async fn read_body<R, M>(r: &mut R, len: usize, max: usize, what: &'static str) -> Result<M>
where
    R: AsyncRead + Unpin,
    M: Message + Default,
{
    if len > max {
        return Err(DataTransferError::TooLong {
            what,
            len: len as u64,
            max: max as u64,
        });
    }
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf)
        .await
        .map_err(|e| DataTransferError::from_read(e, what))?;
    M::decode(buf.as_slice()).map_err(|source| DataTransferError::Decode { what, source })
}

/// Read one delimited message; `Ok(None)` on a clean end of stream before it.
pub async fn read_delimited_opt<R, M>(r: &mut R, what: &'static str) -> Result<Option<M>>
where
    R: AsyncRead + Unpin,
    M: Message + Default,
{
    match read_varint_len(r, what).await? {
        None => Ok(None),
        Some(len) => read_body(r, len, MAX_DELIMITED_LEN, what).await.map(Some),
    }
}

/// Read one delimited message; the end of the stream is an error.
pub async fn read_delimited<R, M>(r: &mut R, what: &'static str) -> Result<M>
where
    R: AsyncRead + Unpin,
    M: Message + Default,
{
    read_delimited_opt(r, what)
        .await?
        .ok_or(DataTransferError::Truncated { what })
}
