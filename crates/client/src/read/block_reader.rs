//! Reading one range of one block replica (READ_BLOCK), verifying each packet's CRC32C
//! chunks, and telling the DataNode CHECKSUM_OK at the end (Hadoop's BlockReaderRemote).

use bytes::Bytes;
use hafs_datatransfer::{
    read_packet, response_status, write_client_read_status, DataChecksum, OpReadBlockProto,
    OpRequest, Status,
};
use hafs_proto::common::TokenProto;
use hafs_proto::hdfs::{
    BaseHeaderProto, CachingStrategyProto, ClientOperationHeaderProto, ExtendedBlockProto,
};
use tokio::io::AsyncWriteExt;

use crate::datanode_conn::{response_error, timed, DnConn};
use crate::error::ClientError;

/// Why a read from one replica failed; decides what the stream does next.
#[derive(Debug)]
pub enum ReadFailure {
    /// The data does not match its checksum: the replica is corrupt (report it).
    Checksum { offset: u64, error: ClientError },
    /// The DataNode is unreachable or misbehaved: try another replica.
    Node(ClientError),
}

impl ReadFailure {
    pub fn into_error(self) -> ClientError {
        match self {
            ReadFailure::Checksum { error, .. } | ReadFailure::Node(error) => error,
        }
    }
}

/// An open READ_BLOCK stream over `[start, end)` of a block.
pub struct BlockReader {
    conn: Option<DnConn>,
    checksum: DataChecksum,
    verify: bool,
    /// Data of the current packet not yet returned.
    buf: Bytes,
    /// Block offset of `buf[0]`.
    pos: u64,
    /// Block offset where the requested range ends.
    end: u64,
    /// Block offset up to which data has been received from the DataNode.
    received_to: u64,
    /// The last (empty) packet was read.
    saw_last: bool,
    /// Block offset of the first byte the caller wants (bytes before it in the first
    /// chunk are dropped as they arrive).
    skip_to: u64,
    pool_and_block: String,
}

impl BlockReader {
    /// Sends READ_BLOCK on `conn` for `len` bytes from `offset` in `block`.
    #[allow(clippy::too_many_arguments)]
    pub async fn open(
        mut conn: DnConn,
        block: &ExtendedBlockProto,
        token: &TokenProto,
        client_name: &str,
        offset: u64,
        len: u64,
        verify: bool,
    ) -> Result<BlockReader, ReadFailure> {
        let op = OpReadBlockProto {
            header: ClientOperationHeaderProto {
                base_header: BaseHeaderProto {
                    block: block.clone(),
                    token: Some(token.clone()),
                    trace_info: None,
                },
                client_name: client_name.to_string(),
            },
            offset,
            len,
            send_checksums: Some(verify),
            caching_strategy: Some(CachingStrategyProto::default()),
        };
        conn.send_op(&OpRequest::ReadBlock(op))
            .await
            .map_err(ReadFailure::Node)?;
        let resp = conn.read_response().await.map_err(ReadFailure::Node)?;
        if response_status(&resp) != Status::Success {
            return Err(ReadFailure::Node(response_error(
                &conn.addr,
                "READ_BLOCK",
                &resp,
            )));
        }
        let info = resp.read_op_checksum_info.ok_or_else(|| {
            ReadFailure::Node(ClientError::io(format!(
                "READ_BLOCK answer from {} lacks readOpChecksumInfo",
                conn.addr
            )))
        })?;
        let checksum = DataChecksum::from_proto(&info.checksum)
            .map_err(|e| ReadFailure::Node(ClientError::io(format!("{}: {e}", conn.addr))))?;
        if info.chunk_offset > offset {
            return Err(ReadFailure::Node(ClientError::io(format!(
                "{}: first chunk at {} is after the requested offset {offset}",
                conn.addr, info.chunk_offset
            ))));
        }
        Ok(BlockReader {
            conn: Some(conn),
            checksum,
            verify,
            buf: Bytes::new(),
            pos: info.chunk_offset,
            end: offset + len,
            received_to: info.chunk_offset,
            saw_last: false,
            skip_to: offset,
            pool_and_block: format!(
                "{}:blk_{}_{}",
                block.pool_id, block.block_id, block.generation_stamp
            ),
        })
    }

    /// The block offset of the next byte [`read`](Self::read) returns.
    pub fn position(&self) -> u64 {
        self.pos.max(self.skip_to)
    }

    /// Reads up to `out.len()` bytes; 0 at the end of the requested range.
    pub async fn read(&mut self, out: &mut [u8]) -> Result<usize, ReadFailure> {
        loop {
            if self.position() >= self.end {
                return Ok(0);
            }
            if !self.buf.is_empty() {
                let n = out
                    .len()
                    .min(self.buf.len())
                    .min((self.end - self.pos) as usize);
                out[..n].copy_from_slice(&self.buf[..n]);
                self.buf = self.buf.slice(n..);
                self.pos += n as u64;
                return Ok(n);
            }
            self.next_packet().await?;
        }
    }

    /// Reads the next packet into `buf` (after dropping bytes before `skip_to`).
    async fn next_packet(&mut self) -> Result<(), ReadFailure> {
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| ReadFailure::Node(ClientError::io("block reader closed")))?;
        if self.saw_last {
            return Err(ReadFailure::Node(ClientError::io(format!(
                "{} ended {} at offset {} before the requested end {}",
                conn.addr, self.pool_and_block, self.received_to, self.end
            ))));
        }
        let addr = conn.addr.clone();
        let pkt = timed(
            &addr,
            conn.timeout,
            "reading a packet from",
            read_packet(&mut conn.reader),
        )
        .await
        .map_err(ReadFailure::Node)?;
        let off = u64::try_from(pkt.header.offset_in_block).map_err(|_| {
            ReadFailure::Node(ClientError::io(format!("{addr}: negative packet offset")))
        })?;
        if pkt.is_last_in_block() || pkt.data.is_empty() {
            if pkt.is_last_in_block() {
                self.saw_last = true;
            }
            return Ok(());
        }
        if off != self.received_to {
            return Err(ReadFailure::Node(ClientError::io(format!(
                "{addr}: packet at offset {off} of {}, expected {}",
                self.pool_and_block, self.received_to
            ))));
        }
        if self.verify {
            if let Err(e) = pkt.verify(&self.checksum) {
                let offset = match &e {
                    hafs_datatransfer::DataTransferError::ChecksumMismatch { offset, .. } => {
                        *offset
                    }
                    _ => off,
                };
                return Err(ReadFailure::Checksum {
                    offset,
                    error: ClientError::data_path(
                        crate::error::CHECKSUM_EXCEPTION,
                        format!(
                            "Checksum error: {} at {offset} from {addr}: {e}",
                            self.pool_and_block
                        ),
                    ),
                });
            }
        }
        self.received_to = off + pkt.data.len() as u64;
        let mut data = pkt.data;
        if off < self.skip_to {
            let skip = ((self.skip_to - off) as usize).min(data.len());
            data = data.slice(skip..);
            self.pos = off + skip as u64;
        } else {
            self.pos = off;
        }
        self.buf = data;
        Ok(())
    }

    /// After the whole range was read: consume the final empty packet, send the
    /// read status, and hand back the connection for reuse. `None` when the
    /// connection cannot be reused (the range was not read to its end).
    pub async fn finish(mut self) -> Option<DnConn> {
        if self.position() < self.end {
            return None;
        }
        let mut conn = self.conn.take()?;
        if !self.saw_last {
            let addr = conn.addr.clone();
            let pkt = timed(
                &addr,
                conn.timeout,
                "reading the last packet from",
                read_packet(&mut conn.reader),
            )
            .await
            .ok()?;
            if !pkt.is_last_in_block() || !pkt.data.is_empty() {
                return None;
            }
        }
        let status = if self.verify {
            Status::ChecksumOk
        } else {
            Status::Success
        };
        let addr = conn.addr.clone();
        let w = &mut conn.writer;
        timed(&addr, conn.timeout, "sending read status to", async {
            write_client_read_status(w, status).await?;
            w.flush().await?;
            Ok(())
        })
        .await
        .ok()?;
        Some(conn)
    }
}
