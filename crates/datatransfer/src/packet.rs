//! Data packets of READ_BLOCK and WRITE_BLOCK (Hadoop's `PacketHeader` /
//! `PacketReceiver`).
//!
//! Wire form: u32 big-endian payload length (= 4 for itself + checksum bytes + data
//! bytes), u16 big-endian header length, the `PacketHeaderProto` (not length-prefixed),
//! the checksums, the data. A block ends with an empty packet whose `lastPacketInBlock`
//! is set; a writer with nothing to send keeps the pipeline alive with heartbeat packets
//! (seqno -1, no data).

use bytes::{Bytes, BytesMut};
use hafs_proto::hdfs::PacketHeaderProto;
use prost::Message;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::checksum::DataChecksum;
use crate::error::{DataTransferError, Result};

/// Largest packet accepted: payload plus header (Hadoop's `PacketReceiver.MAX_PACKET_SIZE`).
pub const MAX_PACKET_SIZE: usize = 16 << 20;

/// Largest packet header accepted. Today's header is at most 27 bytes; the slack admits
/// fields a future Hadoop might add while keeping a garbage length harmless.
pub const MAX_PACKET_HEADER_LEN: usize = 1024;

/// The payload-length and header-length fields before each header.
pub const PACKET_LENGTHS_LEN: usize = 6;

/// Room Hadoop's writers reserve for lengths plus header when sizing packets.
pub const PKT_MAX_HEADER_LEN: usize = 33;

/// Sequence number of a heartbeat packet.
pub const HEARTBEAT_SEQNO: i64 = -1;

/// Hadoop's default `dfs.client-write-packet-size`.
pub const DEFAULT_WRITE_PACKET_SIZE: usize = 64 * 1024;

/// A packet header.
pub fn packet_header(
    offset_in_block: i64,
    seqno: i64,
    last_packet_in_block: bool,
    data_len: i32,
    sync_block: bool,
) -> PacketHeaderProto {
    PacketHeaderProto {
        offset_in_block,
        seqno,
        last_packet_in_block,
        data_len,
        sync_block: Some(sync_block),
    }
}

/// How many data bytes a writer puts in one packet of `write_packet_size` bytes: whole
/// chunks only, at least one (Hadoop's `DFSOutputStream.computePacketChunkSize`).
pub fn data_per_packet(write_packet_size: usize, checksum: &DataChecksum) -> usize {
    let bpc = checksum.bytes_per_checksum() as usize;
    let chunk = bpc + checksum.checksum_size();
    let chunks = (write_packet_size.saturating_sub(PKT_MAX_HEADER_LEN) / chunk).max(1);
    chunks * bpc
}

/// One packet: header, checksums and data.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// The header; `data_len` equals `data.len()` for packets built or read here.
    pub header: PacketHeaderProto,
    /// Concatenated 4-byte big-endian chunk checksums (empty for NULL checksums).
    pub checksums: Bytes,
    /// The block data.
    pub data: Bytes,
}

impl Packet {
    /// A packet carrying `data` at `offset_in_block`.
    pub fn new(
        offset_in_block: i64,
        seqno: i64,
        last_packet_in_block: bool,
        sync_block: bool,
        checksums: Bytes,
        data: Bytes,
    ) -> Packet {
        let data_len = i32::try_from(data.len()).unwrap_or(i32::MAX);
        Packet {
            header: packet_header(
                offset_in_block,
                seqno,
                last_packet_in_block,
                data_len,
                sync_block,
            ),
            checksums,
            data,
        }
    }

    /// A heartbeat packet.
    pub fn heartbeat() -> Packet {
        Packet::new(0, HEARTBEAT_SEQNO, false, false, Bytes::new(), Bytes::new())
    }

    /// The empty packet that ends a block.
    pub fn last_in_block(offset_in_block: i64, seqno: i64, sync_block: bool) -> Packet {
        Packet::new(
            offset_in_block,
            seqno,
            true,
            sync_block,
            Bytes::new(),
            Bytes::new(),
        )
    }

    /// Whether this is a heartbeat.
    pub fn is_heartbeat(&self) -> bool {
        self.header.seqno == HEARTBEAT_SEQNO
    }

    /// Whether the block ends with this packet.
    pub fn is_last_in_block(&self) -> bool {
        self.header.last_packet_in_block
    }

    /// Whether the writer asked for the data to be synced to disk.
    pub fn sync_block(&self) -> bool {
        self.header.sync_block.unwrap_or(false)
    }

    /// Check the data against the checksums; `checksum` is the block's algorithm. The
    /// packet must start on a chunk boundary (writers and DataNodes align packets).
    pub fn verify(&self, checksum: &DataChecksum) -> Result<()> {
        let base = u64::try_from(self.header.offset_in_block).map_err(|_| {
            DataTransferError::InvalidPacket(format!(
                "negative offset in block {}",
                self.header.offset_in_block
            ))
        })?;
        checksum.verify(&self.data, &self.checksums, base)
    }

    /// The lengths and header that precede checksums and data on the wire.
    pub fn encode_prefix(&self) -> Result<Vec<u8>> {
        encode_prefix(&self.header, self.checksums.len(), self.data.len())
    }

    /// The whole packet as bytes.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut out = self.encode_prefix()?;
        out.extend_from_slice(&self.checksums);
        out.extend_from_slice(&self.data);
        Ok(out)
    }
}

/// Encode the length fields and header for a packet with `checksums_len` bytes of
/// checksums and `data_len` bytes of data. Checks the same limits a reader enforces, so
/// hafs never sends what it would refuse.
pub fn encode_prefix(
    header: &PacketHeaderProto,
    checksums_len: usize,
    data_len: usize,
) -> Result<Vec<u8>> {
    if usize::try_from(header.data_len).ok() != Some(data_len) {
        return Err(DataTransferError::InvalidPacket(format!(
            "header says {} data bytes, packet has {data_len}",
            header.data_len
        )));
    }
    let header_len = header.encoded_len();
    let payload_len = 4 + checksums_len + data_len;
    let total = payload_len + header_len;
    if header_len > MAX_PACKET_HEADER_LEN || total > MAX_PACKET_SIZE {
        return Err(DataTransferError::TooLong {
            what: "packet",
            len: total as u64,
            max: MAX_PACKET_SIZE as u64,
        });
    }
    let mut out = Vec::with_capacity(PACKET_LENGTHS_LEN + header_len);
    out.extend_from_slice(&(payload_len as u32).to_be_bytes());
    out.extend_from_slice(&(header_len as u16).to_be_bytes());
    header
        .encode(&mut out)
        .map_err(|e| DataTransferError::InvalidPacket(e.to_string()))?;
    Ok(out)
}

/// Write a packet (not flushed). Checksums and data are written from the caller's
/// buffers without copying them into one.
pub async fn write_packet<W: AsyncWrite + Unpin>(
    w: &mut W,
    header: &PacketHeaderProto,
    checksums: &[u8],
    data: &[u8],
) -> Result<()> {
    let prefix = encode_prefix(header, checksums.len(), data.len())?;
    w.write_all(&prefix).await?;
    w.write_all(checksums).await?;
    w.write_all(data).await?;
    Ok(())
}

/// Largest step the body buffer grows by ahead of the bytes arriving.
const BODY_CHUNK: usize = 64 * 1024;

/// Reads exactly `len` body bytes into a buffer grown as they arrive, so a peer that
/// claims a 16 MiB packet and stalls holds no more memory than it sent (plus a chunk).
/// Fuzzing found the earlier version reserving the whole claimed length from a 12-byte
/// input.
async fn read_body<R: AsyncRead + Unpin>(r: &mut R, len: usize) -> Result<BytesMut> {
    let mut body = BytesMut::with_capacity(len.min(BODY_CHUNK));
    while body.len() < len {
        if body.capacity() == body.len() {
            body.reserve((len - body.len()).min(BODY_CHUNK));
        }
        let want = (len - body.len()) as u64;
        let n = (&mut *r)
            .take(want)
            .read_buf(&mut body)
            .await
            .map_err(|e| DataTransferError::from_read(e, "packet body"))?;
        if n == 0 {
            return Err(DataTransferError::Truncated {
                what: "packet body",
            });
        }
    }
    Ok(body)
}

/// Read one packet. Every length is checked before anything is allocated for it, and
/// the body's buffer grows only as its bytes arrive.
pub async fn read_packet<R: AsyncRead + Unpin>(r: &mut R) -> Result<Packet> {
    let mut lengths = [0u8; PACKET_LENGTHS_LEN];
    r.read_exact(&mut lengths)
        .await
        .map_err(|e| DataTransferError::from_read(e, "packet lengths"))?;
    let payload_len = u32::from_be_bytes([lengths[0], lengths[1], lengths[2], lengths[3]]) as usize;
    let header_len = u16::from_be_bytes([lengths[4], lengths[5]]) as usize;
    if payload_len < 4 {
        return Err(DataTransferError::InvalidPacket(format!(
            "payload length {payload_len} is less than 4"
        )));
    }
    if header_len > MAX_PACKET_HEADER_LEN {
        return Err(DataTransferError::TooLong {
            what: "packet header",
            len: header_len as u64,
            max: MAX_PACKET_HEADER_LEN as u64,
        });
    }
    let total = payload_len + header_len;
    if total > MAX_PACKET_SIZE {
        return Err(DataTransferError::TooLong {
            what: "packet",
            len: total as u64,
            max: MAX_PACKET_SIZE as u64,
        });
    }
    let mut header_buf = [0u8; MAX_PACKET_HEADER_LEN];
    let header_buf = &mut header_buf[..header_len];
    r.read_exact(header_buf)
        .await
        .map_err(|e| DataTransferError::from_read(e, "packet header"))?;
    let header =
        PacketHeaderProto::decode(&header_buf[..]).map_err(|source| DataTransferError::Decode {
            what: "PacketHeaderProto",
            source,
        })?;
    let body_len = payload_len - 4;
    let data_len = usize::try_from(header.data_len).map_err(|_| {
        DataTransferError::InvalidPacket(format!("negative data length {}", header.data_len))
    })?;
    if data_len > body_len {
        return Err(DataTransferError::InvalidPacket(format!(
            "data length {data_len} exceeds the {body_len} bytes of checksums and data"
        )));
    }
    let mut body = read_body(r, body_len).await?.freeze();
    let checksums = body.split_to(body_len - data_len);
    Ok(Packet {
        header,
        checksums,
        data: body,
    })
}
