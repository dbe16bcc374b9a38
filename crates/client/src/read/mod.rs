//! Reading files: [`DfsInputStream`] (Hadoop's DFSInputStream).
//!
//! The block list comes from getBlockLocations; each block is read from the first
//! replica in the NameNode's order (nearest first) that answers. A replica whose data
//! fails its checksum is reported with reportBadBlocks and skipped, as is a DataNode
//! that cannot be reached; the read goes on from the next replica.

pub mod block_reader;

use std::collections::HashSet;
use std::time::Duration;

use hafs_proto::hdfs::{LocatedBlockProto, LocatedBlocksProto};
use tracing::{debug, warn};

use crate::datanode_conn::DnConn;
use crate::error::{ClientError, BLOCK_MISSING_EXCEPTION};
use crate::transport::NamenodeTransport;
use crate::write::recovery::xfer_addr;
use crate::DfsClient;
use block_reader::{BlockReader, ReadFailure};

/// Rounds of "every replica failed → refetch locations and try again" per read
/// (Hadoop's dfs.client.max.block.acquire.failures).
const MAX_BLOCK_ACQUIRE_FAILURES: usize = 3;

/// The visible length of a file from its block list: the NameNode's file length, or
/// the end of the last block when that is further (a block being written whose
/// hflushed length the NameNode knows).
pub fn visible_length(locs: &LocatedBlocksProto) -> u64 {
    let block_end = |b: &LocatedBlockProto| b.offset + b.b.num_bytes.unwrap_or(0);
    let mut len = locs.file_length;
    for b in locs.blocks.iter().chain(locs.last_block.iter()) {
        len = len.max(block_end(b));
    }
    len
}

/// The blocks of `locs` in file order, with the separately reported last block
/// (under construction) added when it is not already listed.
pub fn all_blocks(locs: &LocatedBlocksProto) -> Vec<LocatedBlockProto> {
    let mut v = locs.blocks.clone();
    if let Some(last) = &locs.last_block {
        if !v.iter().any(|b| b.b.block_id == last.b.block_id) {
            v.push(last.clone());
        }
    }
    v.sort_by_key(|b| b.offset);
    v
}

/// Which block holds file offset `pos`.
pub fn block_index_for(blocks: &[LocatedBlockProto], pos: u64) -> Option<usize> {
    blocks
        .iter()
        .position(|b| pos >= b.offset && pos < b.offset + b.b.num_bytes.unwrap_or(0))
}

/// A file open for reading.
pub struct DfsInputStream<T: NamenodeTransport = hafs_ipc::FailoverProxy> {
    client: DfsClient<T>,
    src: String,
    blocks: Vec<LocatedBlockProto>,
    length: u64,
    under_construction: bool,
    pos: u64,
    /// The open reader: which block, which DataNode (address), the reader.
    current: Option<(usize, String, BlockReader)>,
    /// A connection kept after a finished block read, for the next op.
    idle_conn: Option<DnConn>,
    /// DataNodes that failed this stream (by transfer address).
    dead: HashSet<String>,
    verify_checksum: bool,
    timeout: Duration,
}

impl<T: NamenodeTransport> DfsInputStream<T> {
    /// Opens `path` for reading.
    pub async fn open(client: &DfsClient<T>, path: &str) -> Result<Self, ClientError> {
        let src = client.resolve(path)?;
        let mut s = DfsInputStream {
            client: client.clone(),
            src,
            blocks: vec![],
            length: 0,
            under_construction: false,
            pos: 0,
            current: None,
            idle_conn: None,
            dead: HashSet::new(),
            verify_checksum: true,
            timeout: Duration::from_millis(client.settings().data.socket_timeout_ms),
        };
        s.refresh_locations().await?;
        Ok(s)
    }

    /// Turns checksum verification off (Hadoop's `-ignoreCrc`).
    pub fn set_verify_checksum(&mut self, verify: bool) {
        self.verify_checksum = verify;
    }

    async fn refresh_locations(&mut self) -> Result<(), ClientError> {
        let locs = self
            .client
            .get_block_locations(&self.src, 0, i64::MAX as u64)
            .await?
            .ok_or_else(|| {
                ClientError::remote(
                    hafs_ipc::exceptions::FILE_NOT_FOUND,
                    format!("File does not exist: {}", self.src),
                )
            })?;
        self.length = visible_length(&locs);
        self.under_construction = locs.under_construction;
        self.blocks = all_blocks(&locs);
        Ok(())
    }

    /// The path being read.
    pub fn path(&self) -> &str {
        &self.src
    }

    /// The file's length as seen when it was opened (or last refreshed).
    pub fn len(&self) -> u64 {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Whether the file was still being written when opened.
    pub fn is_under_construction(&self) -> bool {
        self.under_construction
    }

    /// The blocks as the NameNode reported them.
    pub fn blocks(&self) -> &[LocatedBlockProto] {
        &self.blocks
    }

    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Moves the read position; seeking past the end is an error, as in Hadoop.
    pub fn seek(&mut self, pos: u64) -> Result<(), ClientError> {
        if pos > self.length {
            return Err(ClientError::io(format!(
                "Cannot seek after EOF: {pos} > {}",
                self.length
            )));
        }
        if pos != self.pos {
            // Readers stream forward only; a new one starts at the new position.
            self.current = None;
            self.pos = pos;
        }
        Ok(())
    }

    /// Re-reads the file's length and blocks (for a file that is still growing, as
    /// `-tail -f` needs). Keeps the position.
    pub async fn refresh(&mut self) -> Result<(), ClientError> {
        self.current = None;
        self.refresh_locations().await
    }

    /// Reads up to `buf.len()` bytes at the current position; 0 at the end of file.
    pub async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ClientError> {
        if buf.is_empty() || self.pos >= self.length {
            return Ok(0);
        }
        let mut rounds = 0;
        loop {
            if self.current.is_none() {
                self.open_reader(&mut rounds).await?;
            }
            let Some((idx, addr, reader)) = self.current.as_mut() else {
                continue;
            };
            match reader.read(buf).await {
                Ok(0) => {
                    // The reader's range is done: hand its connection back for reuse.
                    if let Some((_, _, r)) = self.current.take() {
                        self.idle_conn = r.finish().await;
                    }
                    if self.pos >= self.length {
                        return Ok(0);
                    }
                }
                Ok(n) => {
                    self.pos += n as u64;
                    return Ok(n);
                }
                Err(f) => {
                    let (idx, addr) = (*idx, addr.clone());
                    self.current = None;
                    self.replica_failed(idx, &addr, f).await;
                }
            }
        }
    }

    /// Fills `buf` completely unless the file ends first; returns the bytes read.
    pub async fn read_fully(&mut self, buf: &mut [u8]) -> Result<usize, ClientError> {
        let mut done = 0;
        while done < buf.len() {
            let n = self.read(&mut buf[done..]).await?;
            if n == 0 {
                break;
            }
            done += n;
        }
        Ok(done)
    }

    /// Positional read: up to `buf.len()` bytes at `pos` without moving the stream's
    /// position.
    pub async fn read_at(&mut self, pos: u64, buf: &mut [u8]) -> Result<usize, ClientError> {
        let saved_pos = self.pos;
        let saved = self.current.take();
        self.pos = pos.min(self.length);
        let r = self.read_fully(buf).await;
        self.current = saved;
        self.pos = saved_pos;
        r
    }

    /// Reads everything from the current position to the end.
    pub async fn read_to_end(&mut self, out: &mut Vec<u8>) -> Result<usize, ClientError> {
        let start = out.len();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = self.read(&mut buf).await?;
            if n == 0 {
                return Ok(out.len() - start);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    /// A replica failed: report a corrupt one to the NameNode, remember the DataNode
    /// as dead for this stream.
    async fn replica_failed(&mut self, idx: usize, addr: &str, f: ReadFailure) {
        match f {
            ReadFailure::Checksum { error, .. } => {
                warn!(src = %self.src, "{error}; reporting the replica on {addr} as corrupt");
                if let Some(b) = self.blocks.get(idx) {
                    let mut bad = b.clone();
                    let keep: Vec<usize> = (0..b.locs.len())
                        .filter(|i| xfer_addr(&b.locs[*i], false) == addr)
                        .collect();
                    bad.locs = keep.iter().map(|i| b.locs[*i].clone()).collect();
                    bad.storage_i_ds = keep
                        .iter()
                        .filter_map(|i| b.storage_i_ds.get(*i).cloned())
                        .collect();
                    bad.storage_types = keep
                        .iter()
                        .filter_map(|i| b.storage_types.get(*i).copied())
                        .collect();
                    bad.is_cached = vec![];
                    if let Err(e) = self.client.report_bad_blocks(vec![bad]).await {
                        warn!(src = %self.src, "reportBadBlocks failed: {e}");
                    }
                }
            }
            ReadFailure::Node(error) => {
                warn!(src = %self.src, "read from {addr} failed: {error}");
            }
        }
        self.dead.insert(addr.to_string());
    }

    /// Opens a reader at `pos` on the first live replica of its block.
    async fn open_reader(&mut self, rounds: &mut usize) -> Result<(), ClientError> {
        loop {
            let Some(idx) = block_index_for(&self.blocks, self.pos) else {
                return Err(ClientError::io(format!(
                    "no block of {} holds offset {} (length {})",
                    self.src, self.pos, self.length
                )));
            };
            let block = self.blocks[idx].clone();
            let offset = self.pos - block.offset;
            let len = block.b.num_bytes.unwrap_or(0) - offset;
            for dn in &block.locs {
                let addr = xfer_addr(dn, self.client.settings().data.use_datanode_hostname);
                if self.dead.contains(&addr) {
                    continue;
                }
                match self.start_read(&addr, &block, offset, len).await {
                    Ok(r) => {
                        self.current = Some((idx, addr, r));
                        return Ok(());
                    }
                    Err(f) => self.replica_failed(idx, &addr, f).await,
                }
            }
            *rounds += 1;
            if *rounds >= MAX_BLOCK_ACQUIRE_FAILURES || block.locs.is_empty() && *rounds > 1 {
                let b = &block.b;
                return Err(ClientError::data_path(
                    BLOCK_MISSING_EXCEPTION,
                    format!(
                        "Could not obtain block: {}:blk_{}_{} file={}",
                        b.pool_id, b.block_id, b.generation_stamp, self.src
                    ),
                ));
            }
            // Every replica failed: wait a little, forget the dead, ask again.
            debug!(src = %self.src, round = *rounds, "no replica answered; refetching locations");
            tokio::time::sleep(Duration::from_millis(200 * *rounds as u64)).await;
            self.dead.clear();
            self.refresh_locations().await?;
        }
    }

    /// READ_BLOCK on a kept connection to `addr` if there is one (a stale one is
    /// retried on a fresh connection), else on a new connection.
    async fn start_read(
        &mut self,
        addr: &str,
        block: &LocatedBlockProto,
        offset: u64,
        len: u64,
    ) -> Result<BlockReader, ReadFailure> {
        let client_name = self.client.client_name().to_string();
        if let Some(conn) = self.idle_conn.take() {
            if conn.addr == addr {
                let r = BlockReader::open(
                    conn,
                    &block.b,
                    &block.block_token,
                    &client_name,
                    offset,
                    len,
                    self.verify_checksum,
                )
                .await;
                if let Ok(r) = r {
                    return Ok(r);
                }
            }
        }
        let protection = self.client.settings().data.data_transfer_protection.clone();
        let conn = DnConn::connect(addr, self.timeout, protection.as_ref(), &block.block_token)
            .await
            .map_err(ReadFailure::Node)?;
        BlockReader::open(
            conn,
            &block.b,
            &block.block_token,
            &client_name,
            offset,
            len,
            self.verify_checksum,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hafs_proto::hdfs::ExtendedBlockProto;

    fn lb(id: u64, offset: u64, len: u64) -> LocatedBlockProto {
        LocatedBlockProto {
            b: ExtendedBlockProto {
                pool_id: "bp".into(),
                block_id: id,
                generation_stamp: 1,
                num_bytes: Some(len),
            },
            offset,
            ..Default::default()
        }
    }

    #[test]
    fn blocks_are_found_by_offset() {
        let blocks = vec![lb(1, 0, 10), lb(2, 10, 10), lb(3, 20, 5)];
        assert_eq!(block_index_for(&blocks, 0), Some(0));
        assert_eq!(block_index_for(&blocks, 9), Some(0));
        assert_eq!(block_index_for(&blocks, 10), Some(1));
        assert_eq!(block_index_for(&blocks, 24), Some(2));
        assert_eq!(block_index_for(&blocks, 25), None);
    }

    #[test]
    fn visible_length_includes_the_block_being_written() {
        let locs = LocatedBlocksProto {
            file_length: 10,
            blocks: vec![lb(1, 0, 10)],
            under_construction: true,
            last_block: Some(lb(2, 10, 7)),
            is_last_block_complete: false,
            ..Default::default()
        };
        assert_eq!(visible_length(&locs), 17);
        let all = all_blocks(&locs);
        assert_eq!(all.iter().map(|b| b.b.block_id).collect::<Vec<_>>(), [1, 2]);
        // A last block that is also listed is not added twice.
        let locs = LocatedBlocksProto {
            file_length: 17,
            blocks: vec![lb(1, 0, 10), lb(2, 10, 7)],
            last_block: Some(lb(2, 10, 7)),
            ..Default::default()
        };
        assert_eq!(all_blocks(&locs).len(), 2);
        assert_eq!(visible_length(&locs), 17);
    }
}
