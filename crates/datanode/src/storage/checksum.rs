//! Chunk checksums of block data and the `.meta` file header, as Hadoop stores them.
//!
//! A meta file is `u16 version (1) | u8 checksum type | u32 bytes per checksum` (big
//! endian, 7 bytes) followed by one big-endian u32 CRC per chunk of the block file. The
//! same per-chunk CRCs travel in data-transfer packets.

use crate::storage::error::{DnStorageError, Result};

/// Meta file format version (Hadoop's `BlockMetadataHeader.VERSION`).
pub const META_VERSION: u16 = 1;
/// Bytes of the meta header before the first CRC.
pub const META_HEADER_LEN: u64 = 7;
/// Largest chunk size we accept (Hadoop has no hard limit; 1 MiB bounds buffers).
pub const MAX_BYTES_PER_CHECKSUM: u32 = 1 << 20;

/// Checksum algorithms, numbered as Hadoop's `DataChecksum` types / `ChecksumTypeProto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumType {
    Null = 0,
    Crc32 = 1,
    Crc32c = 2,
}

impl ChecksumType {
    pub fn from_code(code: u32) -> Option<ChecksumType> {
        match code {
            0 => Some(ChecksumType::Null),
            1 => Some(ChecksumType::Crc32),
            2 => Some(ChecksumType::Crc32c),
            _ => None,
        }
    }

    pub fn code(self) -> u8 {
        self as u8
    }

    /// Bytes of one chunk's checksum.
    pub fn size(self) -> usize {
        match self {
            ChecksumType::Null => 0,
            ChecksumType::Crc32 | ChecksumType::Crc32c => 4,
        }
    }

    fn crc(self, data: &[u8]) -> u32 {
        match self {
            ChecksumType::Null => 0,
            ChecksumType::Crc32 => crc32_ieee(data),
            // The crc32c crate uses the SSE4.2 / ARMv8 CRC instructions when present.
            ChecksumType::Crc32c => crc32c::crc32c(data),
        }
    }
}

/// A checksum algorithm and its chunk size (Hadoop's `DataChecksum`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DataChecksum {
    pub kind: ChecksumType,
    pub bytes_per_checksum: u32,
}

impl DataChecksum {
    pub const DEFAULT: DataChecksum = DataChecksum {
        kind: ChecksumType::Crc32c,
        bytes_per_checksum: 512,
    };

    /// Validates parameters that came from the network or a file.
    pub fn new(type_code: u32, bytes_per_checksum: u32) -> Result<DataChecksum> {
        let kind = ChecksumType::from_code(type_code)
            .ok_or_else(|| DnStorageError::Invalid(format!("unknown checksum type {type_code}")))?;
        if bytes_per_checksum == 0 || bytes_per_checksum > MAX_BYTES_PER_CHECKSUM {
            return Err(DnStorageError::Invalid(format!(
                "bytes per checksum {bytes_per_checksum} out of range 1..={MAX_BYTES_PER_CHECKSUM}"
            )));
        }
        Ok(DataChecksum {
            kind,
            bytes_per_checksum,
        })
    }

    pub fn bpc(&self) -> u64 {
        self.bytes_per_checksum as u64
    }

    pub fn checksum_size(&self) -> usize {
        self.kind.size()
    }

    /// Number of chunks (and checksums) covering `len` bytes.
    pub fn chunks(&self, len: u64) -> u64 {
        len.div_ceil(self.bpc())
    }

    /// Checksum bytes for `data`, chunked from its first byte.
    pub fn compute(&self, data: &[u8]) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(self.chunks(data.len() as u64) as usize * self.checksum_size());
        self.compute_into(data, &mut out);
        out
    }

    pub fn compute_into(&self, data: &[u8], out: &mut Vec<u8>) {
        if self.kind == ChecksumType::Null {
            return;
        }
        for chunk in data.chunks(self.bytes_per_checksum as usize) {
            out.extend_from_slice(&self.kind.crc(chunk).to_be_bytes());
        }
    }

    /// The checksum of one chunk (4 bytes, or none for Null).
    pub fn chunk_sum(&self, chunk: &[u8]) -> Option<[u8; 4]> {
        match self.kind {
            ChecksumType::Null => None,
            k => Some(k.crc(chunk).to_be_bytes()),
        }
    }

    /// Checks `sums` against `data` chunked from its first byte. On a mismatch returns
    /// the index of the first bad chunk.
    pub fn verify(&self, data: &[u8], sums: &[u8]) -> std::result::Result<(), VerifyError> {
        let n = self.chunks(data.len() as u64) as usize;
        let want = n * self.checksum_size();
        if sums.len() != want {
            return Err(VerifyError::WrongLength {
                expected: want,
                found: sums.len(),
            });
        }
        if self.kind == ChecksumType::Null {
            return Ok(());
        }
        for (i, chunk) in data.chunks(self.bytes_per_checksum as usize).enumerate() {
            let stored = &sums[i * 4..i * 4 + 4];
            if self.kind.crc(chunk).to_be_bytes() != stored {
                return Err(VerifyError::Mismatch { chunk: i });
            }
        }
        Ok(())
    }

    /// The 7-byte meta file header for this checksum.
    pub fn meta_header(&self) -> [u8; 7] {
        let mut h = [0u8; 7];
        h[0..2].copy_from_slice(&META_VERSION.to_be_bytes());
        h[2] = self.kind.code();
        h[3..7].copy_from_slice(&self.bytes_per_checksum.to_be_bytes());
        h
    }

    /// Parses a meta file header.
    pub fn parse_meta_header(h: &[u8]) -> std::result::Result<DataChecksum, String> {
        if h.len() < META_HEADER_LEN as usize {
            return Err(format!("meta header is {} bytes, expected 7", h.len()));
        }
        let version = u16::from_be_bytes([h[0], h[1]]);
        if version != META_VERSION {
            return Err(format!("unsupported meta version {version}"));
        }
        let bpc = u32::from_be_bytes([h[3], h[4], h[5], h[6]]);
        DataChecksum::new(h[2] as u32, bpc).map_err(|e| e.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    WrongLength { expected: usize, found: usize },
    Mismatch { chunk: usize },
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifyError::WrongLength { expected, found } => {
                write!(f, "{found} checksum bytes, expected {expected}")
            }
            VerifyError::Mismatch { chunk } => write!(f, "checksum mismatch in chunk {chunk}"),
        }
    }
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), Hadoop's `CRC32` checksum type.
/// Rare in practice (CRC32C is the default), so a table-driven version suffices.
pub fn crc32_ieee(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *e = c;
        }
        t
    });
    let mut crc = !0u32;
    for &b in data {
        crc = table[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_known_value() {
        assert_eq!(crc32_ieee(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn verify_detects_flips_and_short_chunks() {
        let c = DataChecksum::DEFAULT;
        let data: Vec<u8> = (0..1300u32).map(|i| i as u8).collect();
        let sums = c.compute(&data);
        assert_eq!(sums.len(), 12);
        c.verify(&data, &sums).unwrap();
        let mut bad = data.clone();
        bad[1100] ^= 1;
        assert_eq!(
            c.verify(&bad, &sums),
            Err(VerifyError::Mismatch { chunk: 2 })
        );
        assert!(matches!(
            c.verify(&data, &sums[..8]),
            Err(VerifyError::WrongLength { .. })
        ));
    }

    #[test]
    fn meta_header_round_trip_and_bad_headers() {
        let c = DataChecksum::DEFAULT;
        let h = c.meta_header();
        assert_eq!(h, [0, 1, 2, 0, 0, 2, 0]);
        assert_eq!(DataChecksum::parse_meta_header(&h).unwrap(), c);
        assert!(DataChecksum::parse_meta_header(&h[..5]).is_err());
        assert!(DataChecksum::parse_meta_header(&[0, 2, 2, 0, 0, 2, 0]).is_err());
        assert!(DataChecksum::parse_meta_header(&[0, 1, 9, 0, 0, 2, 0]).is_err());
        assert!(DataChecksum::parse_meta_header(&[0, 1, 2, 0, 0, 0, 0]).is_err());
    }
}
