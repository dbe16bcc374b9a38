//! A file's checksum as `hadoop fs -checksum` prints it: MD5 of the per-block MD5s of
//! the chunk CRCs (Hadoop's MD5MD5CRC32FileChecksum). Each DataNode computes its
//! block's MD5 (BLOCK_CHECKSUM); the client combines them the way Hadoop's
//! FileChecksumHelper does, so the result equals Java's for the same bytes.

use hafs_datatransfer::md5::md5;
use hafs_datatransfer::{response_status, OpRequest, Status};
use hafs_proto::hdfs::{
    BaseHeaderProto, BlockChecksumOptionsProto, BlockChecksumTypeProto, ChecksumTypeProto,
    OpBlockChecksumProto, OpBlockChecksumResponseProto,
};
use std::time::Duration;
use tracing::warn;

use crate::datanode_conn::{response_error, DnConn};
use crate::error::ClientError;
use crate::read::all_blocks;
use crate::transport::NamenodeTransport;
use crate::write::recovery::xfer_addr;
use crate::DfsClient;

/// MD5-of-MD5-of-CRC file checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChecksum {
    pub bytes_per_crc: u32,
    /// CRCs per block; 0 for a file of one block, as Hadoop reports it.
    pub crc_per_block: u64,
    pub crc_type: ChecksumTypeProto,
    pub md5: [u8; 16],
}

impl FileChecksum {
    /// `MD5-of-<crcPerBlock>MD5-of-<bytesPerCRC><CRC32|CRC32C>`.
    pub fn algorithm_name(&self) -> String {
        let crc = match self.crc_type {
            ChecksumTypeProto::ChecksumCrc32c => "CRC32C",
            _ => "CRC32",
        };
        format!(
            "MD5-of-{}MD5-of-{}{crc}",
            self.crc_per_block, self.bytes_per_crc
        )
    }

    /// The checksum's bytes as Hadoop serializes them: bytesPerCRC (u32), crcPerBlock
    /// (u64), then the MD5, big-endian.
    pub fn bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(28);
        v.extend_from_slice(&self.bytes_per_crc.to_be_bytes());
        v.extend_from_slice(&self.crc_per_block.to_be_bytes());
        v.extend_from_slice(&self.md5);
        v
    }

    /// Lower-case hex of [`bytes`](Self::bytes).
    pub fn hex(&self) -> String {
        self.bytes().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// How many bytes Hadoop's client feeds to the final MD5 for `n` bytes of block MD5s.
/// It digests the whole backing array of a `DataOutputBuffer` (32 bytes at first,
/// doubling as needed), zero padding included — so must we, to print the same value.
pub fn padded_md5_input_len(n: usize) -> usize {
    let mut cap = 32usize;
    // Block MD5s are written 16 bytes at a time, so each growth doubles the array.
    while cap < n {
        cap *= 2;
    }
    cap
}

/// Combines per-block answers (in file order) into the file checksum. A file without
/// blocks gets Hadoop's answer for it: CRC32, 0 bytes per CRC, MD5 of the empty buffer.
pub fn combine_block_checksums(
    blocks: &[OpBlockChecksumResponseProto],
) -> Result<Option<FileChecksum>, ClientError> {
    let Some(first) = blocks.first() else {
        return Ok(Some(FileChecksum {
            bytes_per_crc: 0,
            crc_per_block: 0,
            crc_type: ChecksumTypeProto::ChecksumCrc32,
            md5: md5(&[0u8; 32]),
        }));
    };
    let mut all_md5 = Vec::with_capacity(16 * blocks.len());
    let mut crc_type = first
        .crc_type
        .unwrap_or(ChecksumTypeProto::ChecksumCrc32 as i32);
    for (i, b) in blocks.iter().enumerate() {
        if b.bytes_per_crc != first.bytes_per_crc {
            return Err(ClientError::io(format!(
                "Byte-per-checksum not matched: bpc={} but bytesPerCRC={} (block {i})",
                b.bytes_per_crc, first.bytes_per_crc
            )));
        }
        if b.block_checksum.len() != 16 {
            return Err(ClientError::io(format!(
                "block checksum of {} bytes, expected an MD5 (16)",
                b.block_checksum.len()
            )));
        }
        let t = b
            .crc_type
            .unwrap_or(ChecksumTypeProto::ChecksumCrc32 as i32);
        if t != crc_type {
            // Hadoop reports mixed CRC types as CRC32.
            crc_type = ChecksumTypeProto::ChecksumCrc32 as i32;
        }
        all_md5.extend_from_slice(&b.block_checksum);
    }
    all_md5.resize(padded_md5_input_len(all_md5.len()), 0);
    Ok(Some(FileChecksum {
        bytes_per_crc: first.bytes_per_crc,
        crc_per_block: if blocks.len() > 1 {
            first.crc_per_block
        } else {
            0
        },
        crc_type: ChecksumTypeProto::try_from(crc_type).unwrap_or(ChecksumTypeProto::ChecksumCrc32),
        md5: md5(&all_md5),
    }))
}

/// The checksum of the file at `path` (BLOCK_CHECKSUM from one replica per block).
pub async fn get_file_checksum<T: NamenodeTransport>(
    client: &DfsClient<T>,
    path: &str,
) -> Result<Option<FileChecksum>, ClientError> {
    let src = client.resolve(path)?;
    let locs = client
        .get_block_locations(&src, 0, i64::MAX as u64)
        .await?
        .ok_or_else(|| {
            ClientError::remote(
                hafs_ipc::exceptions::FILE_NOT_FOUND,
                format!("File does not exist: {src}"),
            )
        })?;
    let timeout = Duration::from_millis(client.settings().data.socket_timeout_ms);
    let protection = client.settings().data.data_transfer_protection.clone();
    let mut answers = Vec::new();
    for lb in all_blocks(&locs) {
        if lb.b.num_bytes.unwrap_or(0) == 0 && lb.locs.is_empty() {
            continue;
        }
        let mut last_err = None;
        let mut got = None;
        for dn in &lb.locs {
            let addr = xfer_addr(dn, client.settings().data.use_datanode_hostname);
            match block_checksum(&addr, timeout, protection.as_ref(), &lb).await {
                Ok(r) => {
                    got = Some(r);
                    break;
                }
                Err(e) => {
                    warn!(src = %src, "BLOCK_CHECKSUM from {addr} failed: {e}");
                    last_err = Some(e);
                }
            }
        }
        match got {
            Some(r) => answers.push(r),
            None => {
                return Err(last_err.unwrap_or_else(|| {
                    ClientError::io(format!(
                        "Fail to get block MD5 for {}:blk_{}_{}",
                        lb.b.pool_id, lb.b.block_id, lb.b.generation_stamp
                    ))
                }))
            }
        }
    }
    combine_block_checksums(&answers)
}

async fn block_checksum(
    addr: &str,
    timeout: Duration,
    protection: Option<&crate::settings::TransferProtection>,
    lb: &hafs_proto::hdfs::LocatedBlockProto,
) -> Result<OpBlockChecksumResponseProto, ClientError> {
    let mut conn = DnConn::connect(addr, timeout, protection, &lb.block_token).await?;
    let op = OpBlockChecksumProto {
        header: BaseHeaderProto {
            block: lb.b.clone(),
            token: Some(lb.block_token.clone()),
            trace_info: None,
        },
        block_checksum_options: Some(BlockChecksumOptionsProto {
            block_checksum_type: Some(BlockChecksumTypeProto::Md5crc as i32),
            stripe_length: None,
        }),
    };
    conn.send_op(&OpRequest::BlockChecksum(op)).await?;
    let resp = conn.read_response().await?;
    if response_status(&resp) != Status::Success {
        return Err(response_error(addr, "BLOCK_CHECKSUM", &resp));
    }
    resp.checksum_response
        .ok_or_else(|| ClientError::io(format!("BLOCK_CHECKSUM answer from {addr} is empty")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(md5_of: &[u8], cpb: u64) -> OpBlockChecksumResponseProto {
        OpBlockChecksumResponseProto {
            bytes_per_crc: 512,
            crc_per_block: cpb,
            block_checksum: md5(md5_of).to_vec().into(),
            crc_type: Some(ChecksumTypeProto::ChecksumCrc32c as i32),
            block_checksum_options: None,
        }
    }

    #[test]
    fn md5_input_is_padded_like_javas_buffer() {
        assert_eq!(padded_md5_input_len(0), 32);
        assert_eq!(padded_md5_input_len(16), 32);
        assert_eq!(padded_md5_input_len(32), 32);
        assert_eq!(padded_md5_input_len(48), 64);
        assert_eq!(padded_md5_input_len(80), 128);
        assert_eq!(padded_md5_input_len(1040), 2048);
    }

    #[test]
    fn empty_file_matches_hadoops_answer() {
        // What `hadoop fs -checksum` prints for an empty file.
        let c = combine_block_checksums(&[]).unwrap().unwrap();
        assert_eq!(c.algorithm_name(), "MD5-of-0MD5-of-0CRC32");
        assert_eq!(
            c.hex(),
            "00000000000000000000000070bc8f4b72a86921468bf8e8441dce51"
        );
    }

    #[test]
    fn one_block_reports_zero_crcs_per_block() {
        let c = combine_block_checksums(&[answer(b"a", 3)])
            .unwrap()
            .unwrap();
        assert_eq!(c.algorithm_name(), "MD5-of-0MD5-of-512CRC32C");
        let mut padded = md5(b"a").to_vec();
        padded.resize(32, 0);
        assert_eq!(c.md5, md5(&padded));
        let hex = c.hex();
        assert_eq!(hex.len(), 56);
        assert!(hex.starts_with("00000200" /* 512 */));
        assert_eq!(&hex[8..24], "0000000000000000");
    }

    #[test]
    fn several_blocks_md5_the_concatenated_block_md5s() {
        let c = combine_block_checksums(&[answer(b"a", 4), answer(b"b", 2)])
            .unwrap()
            .unwrap();
        assert_eq!(c.algorithm_name(), "MD5-of-4MD5-of-512CRC32C");
        let mut cat = md5(b"a").to_vec();
        cat.extend_from_slice(&md5(b"b"));
        assert_eq!(c.md5, md5(&cat), "32 bytes: no padding");
        let three = combine_block_checksums(&[answer(b"a", 4), answer(b"b", 4), answer(b"c", 4)])
            .unwrap()
            .unwrap();
        cat.extend_from_slice(&md5(b"c"));
        cat.resize(64, 0);
        assert_eq!(three.md5, md5(&cat), "48 bytes digest a 64-byte buffer");
        let mut bad = answer(b"c", 1);
        bad.bytes_per_crc = 1024;
        assert!(combine_block_checksums(&[answer(b"a", 1), bad]).is_err());
    }
}
