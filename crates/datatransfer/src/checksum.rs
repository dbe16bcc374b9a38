//! Chunk checksums (Hadoop's `DataChecksum`): one 4-byte big-endian CRC per
//! `bytes_per_checksum` bytes of block data, the last chunk possibly short. The same
//! layout is used in packets on the wire and in a replica's `.meta` file after its
//! 7-byte header.

use hafs_proto::hdfs::{ChecksumProto, ChecksumTypeProto};

use crate::crc32::crc32;
use crate::error::{DataTransferError, Result};

/// Hadoop's default `dfs.bytes-per-checksum`.
pub const DEFAULT_BYTES_PER_CHECKSUM: u32 = 512;

/// Largest chunk size accepted: a chunk must fit in a packet.
pub const MAX_BYTES_PER_CHECKSUM: u32 = crate::packet::MAX_PACKET_SIZE as u32;

/// Version written first in a block's `.meta` file.
pub const META_VERSION: u16 = 1;

/// Length of a `.meta` file header: u16 version, u8 checksum type, u32 bytes per checksum.
pub const META_HEADER_LEN: usize = 7;

/// Checksum algorithms, with Hadoop's type ids (as in `.meta` headers and `ChecksumTypeProto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumType {
    /// No checksums at all.
    Null,
    /// CRC-32, zlib polynomial.
    Crc32,
    /// CRC-32C (Castagnoli), Hadoop's default.
    Crc32c,
}

impl ChecksumType {
    /// Hadoop's numeric id.
    pub fn id(self) -> u8 {
        match self {
            ChecksumType::Null => 0,
            ChecksumType::Crc32 => 1,
            ChecksumType::Crc32c => 2,
        }
    }

    /// The type for a numeric id (header byte or proto enum value).
    pub fn from_id(id: i64) -> Result<ChecksumType> {
        match id {
            0 => Ok(ChecksumType::Null),
            1 => Ok(ChecksumType::Crc32),
            2 => Ok(ChecksumType::Crc32c),
            other => Err(DataTransferError::UnsupportedChecksum(format!(
                "checksum type id {other} (hafs supports NULL, CRC32 and CRC32C)"
            ))),
        }
    }

    /// Bytes of checksum per chunk.
    pub fn size(self) -> usize {
        match self {
            ChecksumType::Null => 0,
            ChecksumType::Crc32 | ChecksumType::Crc32c => 4,
        }
    }

    /// Hadoop's name for the type (`dfs.checksum.type` values).
    pub fn name(self) -> &'static str {
        match self {
            ChecksumType::Null => "NULL",
            ChecksumType::Crc32 => "CRC32",
            ChecksumType::Crc32c => "CRC32C",
        }
    }

    /// The type named by a `dfs.checksum.type` value (case-insensitive).
    pub fn from_name(name: &str) -> Result<ChecksumType> {
        match name.trim().to_ascii_uppercase().as_str() {
            "NULL" => Ok(ChecksumType::Null),
            "CRC32" => Ok(ChecksumType::Crc32),
            "CRC32C" => Ok(ChecksumType::Crc32c),
            other => Err(DataTransferError::UnsupportedChecksum(format!(
                "checksum type {other:?} (hafs supports NULL, CRC32 and CRC32C)"
            ))),
        }
    }

    /// The proto enum value.
    pub fn to_proto(self) -> ChecksumTypeProto {
        match self {
            ChecksumType::Null => ChecksumTypeProto::ChecksumNull,
            ChecksumType::Crc32 => ChecksumTypeProto::ChecksumCrc32,
            ChecksumType::Crc32c => ChecksumTypeProto::ChecksumCrc32c,
        }
    }
}

/// A checksum algorithm with its chunk size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DataChecksum {
    kind: ChecksumType,
    bytes_per_checksum: u32,
}

impl DataChecksum {
    /// A checksum of `kind` over chunks of `bytes_per_checksum` bytes (1..=16 MiB).
    pub fn new(kind: ChecksumType, bytes_per_checksum: u32) -> Result<DataChecksum> {
        if bytes_per_checksum == 0 || bytes_per_checksum > MAX_BYTES_PER_CHECKSUM {
            return Err(DataTransferError::UnsupportedChecksum(format!(
                "bytes per checksum {bytes_per_checksum} (must be 1..={MAX_BYTES_PER_CHECKSUM})"
            )));
        }
        Ok(DataChecksum {
            kind,
            bytes_per_checksum,
        })
    }

    /// Hadoop's default: CRC32C over 512-byte chunks.
    pub fn crc32c_default() -> DataChecksum {
        DataChecksum {
            kind: ChecksumType::Crc32c,
            bytes_per_checksum: DEFAULT_BYTES_PER_CHECKSUM,
        }
    }

    /// From a `ChecksumProto` as found in WRITE_BLOCK and read responses.
    pub fn from_proto(p: &ChecksumProto) -> Result<DataChecksum> {
        DataChecksum::new(
            ChecksumType::from_id(i64::from(p.r#type))?,
            p.bytes_per_checksum,
        )
    }

    /// As a `ChecksumProto`.
    pub fn to_proto(&self) -> ChecksumProto {
        ChecksumProto {
            r#type: self.kind.to_proto() as i32,
            bytes_per_checksum: self.bytes_per_checksum,
        }
    }

    /// The algorithm.
    pub fn kind(&self) -> ChecksumType {
        self.kind
    }

    /// The chunk size.
    pub fn bytes_per_checksum(&self) -> u32 {
        self.bytes_per_checksum
    }

    /// Bytes of checksum per chunk (0 or 4).
    pub fn checksum_size(&self) -> usize {
        self.kind.size()
    }

    /// Number of chunks covering `data_len` bytes (the last may be short).
    pub fn chunk_count(&self, data_len: usize) -> usize {
        data_len.div_ceil(self.bytes_per_checksum as usize)
    }

    /// Bytes of checksums covering `data_len` bytes of data.
    pub fn checksums_len(&self, data_len: usize) -> usize {
        self.chunk_count(data_len) * self.checksum_size()
    }

    /// The checksum of one chunk.
    pub fn chunk_checksum(&self, chunk: &[u8]) -> u32 {
        match self.kind {
            ChecksumType::Null => 0,
            ChecksumType::Crc32 => crc32(chunk),
            ChecksumType::Crc32c => crc32c::crc32c(chunk),
        }
    }

    /// Append the checksums of `data` (chunked from its start) to `out`.
    pub fn compute_into(&self, data: &[u8], out: &mut Vec<u8>) {
        if self.kind == ChecksumType::Null {
            return;
        }
        out.reserve(self.checksums_len(data.len()));
        for chunk in data.chunks(self.bytes_per_checksum as usize) {
            out.extend_from_slice(&self.chunk_checksum(chunk).to_be_bytes());
        }
    }

    /// The checksums of `data`, chunked from its start.
    pub fn compute(&self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        self.compute_into(data, &mut out);
        out
    }

    /// Check `data` against `checksums`. `data` must start on a chunk boundary;
    /// `base_offset` is the block offset of its first byte, used only to report where the
    /// first bad chunk starts.
    pub fn verify(&self, data: &[u8], checksums: &[u8], base_offset: u64) -> Result<()> {
        let expected_len = self.checksums_len(data.len());
        if checksums.len() != expected_len {
            return Err(DataTransferError::InvalidPacket(format!(
                "{} bytes of checksums for {} data bytes, expected {expected_len} ({} per {} bytes)",
                checksums.len(),
                data.len(),
                self.checksum_size(),
                self.bytes_per_checksum
            )));
        }
        if self.kind == ChecksumType::Null {
            return Ok(());
        }
        let bpc = self.bytes_per_checksum as usize;
        for (i, (chunk, stored)) in data.chunks(bpc).zip(checksums.chunks_exact(4)).enumerate() {
            let expected = u32::from_be_bytes([stored[0], stored[1], stored[2], stored[3]]);
            let computed = self.chunk_checksum(chunk);
            if expected != computed {
                return Err(DataTransferError::ChecksumMismatch {
                    offset: base_offset + (i * bpc) as u64,
                    expected,
                    computed,
                });
            }
        }
        Ok(())
    }

    /// The 7-byte header of a `.meta` file for this checksum.
    pub fn meta_header(&self) -> [u8; META_HEADER_LEN] {
        let mut h = [0u8; META_HEADER_LEN];
        h[..2].copy_from_slice(&META_VERSION.to_be_bytes());
        h[2] = self.kind.id();
        h[3..].copy_from_slice(&self.bytes_per_checksum.to_be_bytes());
        h
    }

    /// Parse a `.meta` file header (its first 7 bytes; extra bytes are ignored).
    pub fn from_meta_header(bytes: &[u8]) -> Result<DataChecksum> {
        if bytes.len() < META_HEADER_LEN {
            return Err(DataTransferError::Truncated {
                what: "block meta header",
            });
        }
        let version = u16::from_be_bytes([bytes[0], bytes[1]]);
        if version != META_VERSION {
            return Err(DataTransferError::UnsupportedChecksum(format!(
                "block meta file version {version} (expected {META_VERSION})"
            )));
        }
        let kind = ChecksumType::from_id(i64::from(bytes[2]))?;
        let bpc = u32::from_be_bytes([bytes[3], bytes[4], bytes[5], bytes[6]]);
        DataChecksum::new(kind, bpc)
    }
}
