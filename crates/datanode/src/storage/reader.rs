//! Reading a replica: data and the checksums of its chunks, up to the visible length.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use hafs_storage::fsutil::annotate;

use crate::storage::checksum::{DataChecksum, META_HEADER_LEN};
use crate::storage::error::{DnStorageError, Result};
use crate::storage::replica::{ExtendedBlock, ReplicaInfo, ReplicaState};
use crate::storage::DataNodeStorage;

/// A read handle on one replica, fixed at the moment it was opened (its visible length
/// does not grow while it is read). The files stay readable even if the replica is
/// deleted or finalized meanwhile (open descriptors).
pub struct ReplicaReader {
    storage: DataNodeStorage,
    volume: usize,
    info: ReplicaInfo,
    data: File,
    meta: File,
    checksum: DataChecksum,
    visible_length: u64,
}

pub(crate) fn open(storage: &DataNodeStorage, block: &ExtendedBlock) -> Result<ReplicaReader> {
    let (info, volume) = {
        let st = storage.lock_state();
        let r = st
            .replicas
            .get(&(block.pool_id.clone(), block.block_id))
            .ok_or_else(|| DnStorageError::ReplicaNotFound(block.to_string()))?;
        (r.info.clone(), r.volume)
    };
    if info.gen_stamp < block.gen_stamp {
        return Err(DnStorageError::BadReplicaState {
            op: "read",
            block: block.to_string(),
            reason: format!(
                "replica generation stamp {} is older than the block's",
                info.gen_stamp
            ),
        });
    }
    if info.state == ReplicaState::Temporary {
        return Err(DnStorageError::ReplicaNotFound(block.to_string()));
    }
    let open = |p: &PathBuf| {
        OpenOptions::new()
            .read(true)
            .open(p)
            .map_err(|e| annotate(e, "cannot open", p))
    };
    let files = open(&info.data_file).and_then(|d| Ok((d, open(&info.meta_file)?)));
    let (data, meta) = match files {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // Deleted or moved (finalized) between the lookup and the open: retry once
            // with a fresh lookup is what a client does anyway; report not found.
            return Err(DnStorageError::ReplicaNotFound(block.to_string()));
        }
        Err(e) => return Err(storage.io_failed(volume, &e)),
    };
    let mut header = [0u8; 7];
    meta.read_exact_at(&mut header, 0).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            corrupt(&info, "meta file shorter than its header".into())
        } else {
            storage.io_failed(volume, &annotate(e, "cannot read", &info.meta_file))
        }
    })?;
    let checksum =
        DataChecksum::parse_meta_header(&header).map_err(|reason| corrupt(&info, reason))?;
    let visible_length = info.visible_length;
    Ok(ReplicaReader {
        storage: storage.clone(),
        volume,
        info,
        data,
        meta,
        checksum,
        visible_length,
    })
}

fn corrupt(info: &ReplicaInfo, reason: String) -> DnStorageError {
    DnStorageError::CorruptReplica {
        block: info.block().to_string(),
        file: info.meta_file.clone(),
        reason,
    }
}

impl ReplicaReader {
    pub fn info(&self) -> &ReplicaInfo {
        &self.info
    }

    pub fn block(&self) -> ExtendedBlock {
        ExtendedBlock {
            num_bytes: self.visible_length,
            ..self.info.block()
        }
    }

    pub fn checksum(&self) -> DataChecksum {
        self.checksum
    }

    /// Bytes a reader may read.
    pub fn visible_length(&self) -> u64 {
        self.visible_length
    }

    /// Reads `[offset, offset + len)` into `data` and the checksums of its chunks into
    /// `sums` (both cleared first). `offset` must be chunk-aligned and the range within
    /// the visible length. The last chunk's checksum is computed from the data when the
    /// range ends inside a chunk of a replica still being written (the stored one may
    /// cover more bytes than are visible).
    pub fn read_chunks(
        &self,
        offset: u64,
        len: usize,
        data: &mut Vec<u8>,
        sums: &mut Vec<u8>,
    ) -> Result<()> {
        let bpc = self.checksum.bpc();
        let end = offset
            .checked_add(len as u64)
            .filter(|e| *e <= self.visible_length)
            .ok_or_else(|| {
                DnStorageError::Invalid(format!(
                    "read of {len} bytes at {offset} beyond visible length {} of {}",
                    self.visible_length,
                    self.block()
                ))
            })?;
        if !offset.is_multiple_of(bpc) {
            return Err(DnStorageError::Invalid(format!(
                "read offset {offset} is not a multiple of {bpc}"
            )));
        }
        data.clear();
        data.resize(len, 0);
        self.data
            .read_exact_at(data, offset)
            .map_err(|e| self.read_error(e, "block"))?;
        sums.clear();
        let csize = self.checksum.checksum_size();
        if csize == 0 || len == 0 {
            return Ok(());
        }
        let chunks = self.checksum.chunks(len as u64) as usize;
        sums.resize(chunks * csize, 0);
        self.meta
            .read_exact_at(sums, META_HEADER_LEN + (offset / bpc) * csize as u64)
            .map_err(|e| self.read_error(e, "meta"))?;
        if end % bpc != 0 && self.info.state != ReplicaState::Finalized {
            let last_start = (chunks - 1) * bpc as usize;
            if let Some(s) = self.checksum.chunk_sum(&data[last_start..]) {
                sums[(chunks - 1) * csize..].copy_from_slice(&s);
            }
        }
        Ok(())
    }

    /// Reads and verifies `[offset, offset + len)`; a mismatch is a corrupt replica.
    pub fn verify_range(
        &self,
        offset: u64,
        len: usize,
        data: &mut Vec<u8>,
        sums: &mut Vec<u8>,
    ) -> Result<()> {
        self.read_chunks(offset, len, data, sums)?;
        self.checksum
            .verify(data, sums)
            .map_err(|e| DnStorageError::CorruptReplica {
                block: self.block().to_string(),
                file: self.info.data_file.clone(),
                reason: format!("at offset {offset}: {e}"),
            })
    }

    /// The chunk checksums covering `[0, len)` (for BLOCK_CHECKSUM): read from the meta
    /// file, the last one recomputed from the data when `len` ends inside a chunk whose
    /// stored checksum may cover more bytes.
    pub fn block_crcs(&self, len: u64) -> Result<Vec<u8>> {
        if len > self.visible_length {
            return Err(DnStorageError::Invalid(format!(
                "checksum length {len} beyond visible length {}",
                self.visible_length
            )));
        }
        let csize = self.checksum.checksum_size();
        let bpc = self.checksum.bpc();
        let chunks = self.checksum.chunks(len) as usize;
        let mut sums = vec![0u8; chunks * csize];
        if csize == 0 || chunks == 0 {
            return Ok(sums);
        }
        self.meta
            .read_exact_at(&mut sums, META_HEADER_LEN)
            .map_err(|e| self.read_error(e, "meta"))?;
        let exact_end = len == self.visible_length && self.info.state == ReplicaState::Finalized;
        if !len.is_multiple_of(bpc) && !exact_end {
            let start = len - len % bpc;
            let mut buf = vec![0u8; (len - start) as usize];
            self.data
                .read_exact_at(&mut buf, start)
                .map_err(|e| self.read_error(e, "block"))?;
            if let Some(s) = self.checksum.chunk_sum(&buf) {
                sums[(chunks - 1) * csize..].copy_from_slice(&s);
            }
        }
        Ok(sums)
    }

    /// Whether the replica is being recovered or was recovered since this reader
    /// opened it: a truncate's recovery cuts the files under an open reader, which
    /// then finds them short without any corruption.
    fn recovered_meanwhile(&self) -> bool {
        let st = self.storage.lock_state();
        match st
            .replicas
            .get(&(self.info.pool_id.clone(), self.info.block_id))
        {
            Some(now) => {
                now.info.state == ReplicaState::Rur || now.info.gen_stamp != self.info.gen_stamp
            }
            None => true,
        }
    }

    fn read_error(&self, e: io::Error, which: &str) -> DnStorageError {
        if e.kind() == io::ErrorKind::UnexpectedEof && self.recovered_meanwhile() {
            return DnStorageError::BadReplicaState {
                op: "read",
                block: self.block().to_string(),
                reason: format!("the {which} file was cut by a block recovery during the read"),
            };
        }
        if e.kind() == io::ErrorKind::UnexpectedEof {
            let file = if which == "meta" {
                &self.info.meta_file
            } else {
                &self.info.data_file
            };
            return DnStorageError::CorruptReplica {
                block: self.block().to_string(),
                file: file.clone(),
                reason: format!("{which} file shorter than the replica length"),
            };
        }
        self.storage.io_failed(self.volume, &e)
    }
}
