//! Writing a replica: packets in, checksums verified before storing, crash-safe finalize.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use hafs_storage::fsutil::{annotate, fsync_dir};

use crate::storage::checksum::{DataChecksum, META_HEADER_LEN};
use crate::storage::error::{DnStorageError, Result};
use crate::storage::replica::{
    block_file_name, meta_file_name, ExtendedBlock, ReplicaInfo, ReplicaState,
};
use crate::storage::{DataNodeStorage, Replica, ReplicaKey};

/// Largest data payload of one packet we accept (Hadoop's clients send 64 KiB).
pub const MAX_PACKET_DATA: usize = 16 << 20;

/// The writer of one replica. Only one writer per replica is current: a pipeline
/// recovery or block recovery that takes the replica over makes older writers fail with
/// [`DnStorageError::WriterSuperseded`]. Dropping a writer without `finalize` leaves the
/// replica as it is on disk (rbw), ready for recovery.
pub struct ReplicaWriter {
    storage: DataNodeStorage,
    key: ReplicaKey,
    token: u64,
    block: ExtendedBlock,
    volume: usize,
    state: ReplicaState,
    data: File,
    meta: File,
    data_file: PathBuf,
    meta_file: PathBuf,
    checksum: DataChecksum,
    bytes_on_disk: u64,
}

impl std::fmt::Debug for ReplicaWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicaWriter")
            .field("block", &self.block)
            .field("bytes_on_disk", &self.bytes_on_disk)
            .finish()
    }
}

/// Records how much of a replica being written the pipeline has acknowledged: that
/// much becomes visible to readers (hflush). Cheap to clone; for the ack responder.
#[derive(Clone)]
pub struct AckHandle {
    storage: DataNodeStorage,
    key: ReplicaKey,
    token: u64,
}

impl AckHandle {
    pub fn set_acked(&self, len: u64) {
        let mut st = self.storage.lock_state();
        if let Some(r) = st.replicas.get_mut(&self.key) {
            if r.writer == self.token {
                let v = len.min(r.info.bytes_on_disk);
                if v > r.info.visible_length {
                    r.info.visible_length = v;
                }
            }
        }
    }
}

/// Creates a new rbw or temporary replica (see `DataNodeStorage::create_rbw`).
pub(crate) fn create(
    storage: &DataNodeStorage,
    block: &ExtendedBlock,
    checksum: DataChecksum,
    state: ReplicaState,
    storage_type: Option<i32>,
) -> Result<ReplicaWriter> {
    let key = (block.pool_id.clone(), block.block_id);
    if let Some(r) = storage.lock_state().replicas.get(&key) {
        return Err(DnStorageError::ReplicaAlreadyExists(
            block.to_string(),
            r.info.state.name(),
        ));
    }
    if block.pool_id.is_empty() || block.pool_id.contains('/') || block.pool_id.starts_with('.') {
        return Err(DnStorageError::Invalid(format!(
            "bad block pool id {:?}",
            block.pool_id
        )));
    }
    let volume = storage.choose_volume(storage_type)?;
    let vol = storage.volume(volume);
    let dir = match state {
        ReplicaState::Temporary => vol.tmp_dir(&block.pool_id),
        _ => vol.rbw_dir(&block.pool_id),
    };
    let data_file = dir.join(block_file_name(block.block_id));
    let meta_file = dir.join(meta_file_name(block.block_id, block.gen_stamp));
    let opened = (|| -> io::Result<(File, File)> {
        fs::create_dir_all(&dir).map_err(|e| annotate(e, "cannot create", &dir))?;
        let open = |p: &PathBuf| {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(p)
                .map_err(|e| annotate(e, "cannot create", p))
        };
        let data = open(&data_file)?;
        let meta = open(&meta_file)?;
        meta.write_all_at(&checksum.meta_header(), 0)
            .map_err(|e| annotate(e, "cannot write", &meta_file))?;
        Ok((data, meta))
    })();
    let (data, meta) = opened.map_err(|e| storage.io_failed(volume, &e))?;
    let token = storage.new_token();
    let info = ReplicaInfo {
        pool_id: block.pool_id.clone(),
        block_id: block.block_id,
        gen_stamp: block.gen_stamp,
        state,
        bytes_on_disk: 0,
        visible_length: 0,
        storage_id: vol.storage_id.clone(),
        data_file: data_file.clone(),
        meta_file: meta_file.clone(),
        recovery_id: 0,
        original_state: state,
    };
    {
        let mut st = storage.lock_state();
        if let Some(r) = st.replicas.get(&key) {
            // Lost a race with another creator: leave its files alone.
            return Err(DnStorageError::ReplicaAlreadyExists(
                block.to_string(),
                r.info.state.name(),
            ));
        }
        st.replicas.insert(
            key.clone(),
            Replica {
                info,
                volume,
                writer: token,
            },
        );
    }
    Ok(ReplicaWriter {
        storage: storage.clone(),
        key,
        token,
        block: ExtendedBlock {
            num_bytes: 0,
            ..block.clone()
        },
        volume,
        state,
        data,
        meta,
        data_file,
        meta_file,
        checksum,
        bytes_on_disk: 0,
    })
}

/// Opens a writer on an existing replica whose map entry already carries `token` (the
/// recovery paths set the entry up first).
pub(crate) fn reopen(
    storage: &DataNodeStorage,
    key: &ReplicaKey,
    token: u64,
) -> Result<ReplicaWriter> {
    let r = storage
        .lock_state()
        .replicas
        .get(key)
        .cloned()
        .ok_or_else(|| DnStorageError::ReplicaNotFound(format!("{}:blk_{}", key.0, key.1)))?;
    let open = |p: &PathBuf| {
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(p)
            .map_err(|e| annotate(e, "cannot open", p))
    };
    let files = open(&r.info.data_file).and_then(|d| Ok((d, open(&r.info.meta_file)?)));
    let (data, meta) = files.map_err(|e| storage.io_failed(r.volume, &e))?;
    let mut header = [0u8; 7];
    meta.read_exact_at(&mut header, 0)
        .map_err(|e| storage.io_failed(r.volume, &e))?;
    let checksum = DataChecksum::parse_meta_header(&header).map_err(|reason| {
        DnStorageError::CorruptReplica {
            block: format!("blk_{}", key.1),
            file: r.info.meta_file.clone(),
            reason,
        }
    })?;
    Ok(ReplicaWriter {
        storage: storage.clone(),
        key: key.clone(),
        token,
        block: r.info.block(),
        volume: r.volume,
        state: r.info.state,
        data,
        meta,
        data_file: r.info.data_file.clone(),
        meta_file: r.info.meta_file.clone(),
        checksum,
        bytes_on_disk: r.info.bytes_on_disk,
    })
}

impl ReplicaWriter {
    /// The block with its current generation stamp; `num_bytes` = bytes on disk.
    pub fn block(&self) -> ExtendedBlock {
        ExtendedBlock {
            num_bytes: self.bytes_on_disk,
            ..self.block.clone()
        }
    }

    pub fn checksum(&self) -> DataChecksum {
        self.checksum
    }

    pub fn bytes_on_disk(&self) -> u64 {
        self.bytes_on_disk
    }

    pub fn state(&self) -> ReplicaState {
        self.state
    }

    pub fn storage_id(&self) -> String {
        self.storage.volume(self.volume).storage_id.clone()
    }

    pub fn ack_handle(&self) -> AckHandle {
        AckHandle {
            storage: self.storage.clone(),
            key: self.key.clone(),
            token: self.token,
        }
    }

    fn check_current(&self) -> Result<()> {
        match self.storage.lock_state().replicas.get(&self.key) {
            Some(r) if r.writer == self.token => Ok(()),
            _ => Err(DnStorageError::WriterSuperseded(self.block.to_string())),
        }
    }

    /// Stores one packet: `data` starts at `offset_in_block`; `checksums` has one
    /// checksum per chunk of `data` counted from its first byte (as in packets). The
    /// checksums are verified first: a corrupt packet stores nothing. Data already on
    /// disk may be re-sent (after hflush of a partial chunk, or a recovery); a gap is an
    /// error.
    pub fn write_packet(
        &mut self,
        offset_in_block: u64,
        data: &[u8],
        checksums: &[u8],
    ) -> Result<()> {
        if data.len() > MAX_PACKET_DATA {
            return Err(DnStorageError::Invalid(format!(
                "packet of {} bytes exceeds {MAX_PACKET_DATA}",
                data.len()
            )));
        }
        if offset_in_block > self.bytes_on_disk {
            return Err(DnStorageError::Invalid(format!(
                "packet for {} starts at offset {offset_in_block}, beyond the {} bytes received",
                self.block, self.bytes_on_disk
            )));
        }
        self.checksum
            .verify(data, checksums)
            .map_err(|e| DnStorageError::Checksum {
                block: self.block.to_string(),
                offset: offset_in_block,
                reason: e.to_string(),
            })?;
        self.check_current()?;
        let end = offset_in_block + data.len() as u64;
        if data.is_empty() || end <= self.bytes_on_disk {
            return Ok(());
        }
        let bpc = self.checksum.bpc();
        let csize = self.checksum.checksum_size() as u64;
        let first_chunk = offset_in_block / bpc;
        // Block-aligned checksums for the chunks this packet touches.
        let sums: Vec<u8> = if offset_in_block.is_multiple_of(bpc) {
            checksums.to_vec()
        } else {
            let chunk_start = first_chunk * bpc;
            let mut prefix = vec![0u8; (offset_in_block - chunk_start) as usize];
            self.data
                .read_exact_at(&mut prefix, chunk_start)
                .map_err(|e| self.io_error(annotate(e, "cannot read", &self.data_file)))?;
            let head = ((bpc - offset_in_block % bpc) as usize).min(data.len());
            prefix.extend_from_slice(&data[..head]);
            let mut s = self.checksum.compute(&prefix);
            self.checksum.compute_into(&data[head..], &mut s);
            s
        };
        self.data
            .write_all_at(data, offset_in_block)
            .map_err(|e| self.io_error(annotate(e, "cannot write", &self.data_file)))?;
        if csize > 0 {
            self.meta
                .write_all_at(&sums, META_HEADER_LEN + first_chunk * csize)
                .map_err(|e| self.io_error(annotate(e, "cannot write", &self.meta_file)))?;
        }
        self.bytes_on_disk = end;
        let mut st = self.storage.lock_state();
        if let Some(r) = st.replicas.get_mut(&self.key) {
            if r.writer == self.token {
                r.info.bytes_on_disk = end;
                if self.state == ReplicaState::Temporary {
                    r.info.visible_length = end;
                }
            }
        }
        Ok(())
    }

    /// Makes everything written so far durable (fsync of data and meta): `syncBlock`.
    pub fn sync(&mut self) -> Result<()> {
        self.data
            .sync_data()
            .map_err(|e| self.io_error(annotate(e, "cannot fsync", &self.data_file)))?;
        self.meta
            .sync_data()
            .map_err(|e| self.io_error(annotate(e, "cannot fsync", &self.meta_file)))
    }

    /// Completes the replica crash-safely: fsync data and meta, rename both into
    /// `finalized/subdirA/subdirB/`, fsync the source and target directories. Returns
    /// the finalized replica.
    pub fn finalize(mut self) -> Result<ReplicaInfo> {
        self.check_current()?;
        let len = self.bytes_on_disk;
        let csize = self.checksum.checksum_size() as u64;
        // Trim leftovers beyond what was written (after a truncating recovery).
        let trimmed = self.data.set_len(len).and_then(|_| {
            self.meta
                .set_len(META_HEADER_LEN + self.checksum.chunks(len) * csize)
        });
        trimmed.map_err(|e| self.io_error(annotate(e, "cannot truncate", &self.data_file)))?;
        self.sync()?;
        let vol = self.storage.volume(self.volume);
        let dir = vol.finalized_dir(&self.key.0, self.key.1);
        let new_data = dir.join(block_file_name(self.key.1));
        let new_meta = dir.join(meta_file_name(self.key.1, self.block.gen_stamp));
        let src_dir = self
            .data_file
            .parent()
            .map(PathBuf::from)
            .unwrap_or_default();
        let moved = (|| -> io::Result<()> {
            fs::create_dir_all(&dir).map_err(|e| annotate(e, "cannot create", &dir))?;
            // Meta first: a crash between the renames leaves a block file in rbw whose
            // meta is gone, which the startup scan ignores, rather than a finalized block
            // without checksums.
            fs::rename(&self.meta_file, &new_meta)
                .map_err(|e| annotate(e, "cannot move to finalized", &self.meta_file))?;
            fs::rename(&self.data_file, &new_data)
                .map_err(|e| annotate(e, "cannot move to finalized", &self.data_file))?;
            fsync_dir(&dir)?;
            if let Some(parent) = dir.parent() {
                fsync_dir(parent)?;
            }
            fsync_dir(&src_dir)
        })();
        moved.map_err(|e| self.io_error(e))?;
        let mut st = self.storage.lock_state();
        let r = st
            .replicas
            .get_mut(&self.key)
            .filter(|r| r.writer == self.token)
            .ok_or_else(|| DnStorageError::WriterSuperseded(self.block.to_string()))?;
        r.info.set_state(ReplicaState::Finalized);
        r.info.original_state = ReplicaState::Finalized;
        r.info.bytes_on_disk = len;
        r.info.visible_length = len;
        r.info.data_file = new_data;
        r.info.meta_file = new_meta;
        r.writer = 0;
        let info = r.info.clone();
        drop(st);
        self.token = 0; // released above; Drop must not touch the entry
        tracing::debug!(block = %info.block(), "finalized replica");
        Ok(info)
    }

    /// Turns a temporary replica (TRANSFER_RBW target) into a replica being written,
    /// moving it into `rbw/`, so a following pipeline recovery can take it over.
    pub fn convert_to_rbw(mut self) -> Result<ReplicaInfo> {
        self.check_current()?;
        if self.state != ReplicaState::Temporary {
            return Err(DnStorageError::BadReplicaState {
                op: "convert to rbw",
                block: self.block.to_string(),
                reason: format!("replica is {}", self.state.name()),
            });
        }
        self.sync()?;
        let dir = self.storage.volume(self.volume).rbw_dir(&self.key.0);
        let new_data = dir.join(block_file_name(self.key.1));
        let new_meta = dir.join(meta_file_name(self.key.1, self.block.gen_stamp));
        let moved = (|| -> io::Result<()> {
            fs::create_dir_all(&dir).map_err(|e| annotate(e, "cannot create", &dir))?;
            fs::rename(&self.meta_file, &new_meta)
                .map_err(|e| annotate(e, "cannot move to rbw", &self.meta_file))?;
            fs::rename(&self.data_file, &new_data)
                .map_err(|e| annotate(e, "cannot move to rbw", &self.data_file))?;
            fsync_dir(&dir)
        })();
        moved.map_err(|e| self.io_error(e))?;
        let mut st = self.storage.lock_state();
        let r = st
            .replicas
            .get_mut(&self.key)
            .filter(|r| r.writer == self.token)
            .ok_or_else(|| DnStorageError::WriterSuperseded(self.block.to_string()))?;
        r.info.set_state(ReplicaState::Rbw);
        r.info.original_state = ReplicaState::Rbw;
        r.info.visible_length = self.bytes_on_disk;
        r.info.data_file = new_data;
        r.info.meta_file = new_meta;
        r.writer = 0;
        let info = r.info.clone();
        drop(st);
        self.token = 0;
        Ok(info)
    }

    /// Gives up the writer. A temporary replica (a failed copy) is deleted; a replica
    /// being written stays on disk for recovery. Dropping the writer does the same.
    pub fn abort(self) {}

    fn io_error(&self, e: io::Error) -> DnStorageError {
        self.storage.io_failed(self.volume, &e)
    }
}

impl Drop for ReplicaWriter {
    fn drop(&mut self) {
        if self.token == 0 {
            return;
        }
        let mut st = self.storage.lock_state();
        let Some(r) = st.replicas.get_mut(&self.key) else {
            return;
        };
        if r.writer != self.token {
            return;
        }
        if self.state == ReplicaState::Temporary {
            st.replicas.remove(&self.key);
            drop(st);
            let _ = fs::remove_file(&self.data_file);
            let _ = fs::remove_file(&self.meta_file);
        } else {
            r.writer = 0;
        }
    }
}
