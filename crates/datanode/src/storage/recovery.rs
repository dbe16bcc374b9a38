//! Pipeline set-up stages other than create, and block recovery: the operations that
//! reopen a replica, change its generation stamp or truncate it.

use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use hafs_storage::fsutil::{annotate, fsync_dir};

use crate::storage::checksum::{DataChecksum, META_HEADER_LEN};
use crate::storage::error::{DnStorageError, Result};
use crate::storage::replica::{
    block_file_name, meta_file_name, ExtendedBlock, ReplicaInfo, ReplicaRecoveryInfo, ReplicaState,
};
use crate::storage::writer::{self, ReplicaWriter};
use crate::storage::{DataNodeStorage, Replica, ReplicaKey};

fn bad(op: &'static str, block: &ExtendedBlock, reason: String) -> DnStorageError {
    DnStorageError::BadReplicaState {
        op,
        block: block.to_string(),
        reason,
    }
}

impl DataNodeStorage {
    fn replica(&self, block: &ExtendedBlock) -> Result<(ReplicaKey, Replica)> {
        let key = (block.pool_id.clone(), block.block_id);
        let r = self
            .lock_state()
            .replicas
            .get(&key)
            .cloned()
            .ok_or_else(|| DnStorageError::ReplicaNotFound(block.to_string()))?;
        Ok((key, r))
    }

    /// Moves a replica's files to `dir` with the meta file renamed for `new_gs`, and
    /// updates the map entry: new paths, gen stamp, state; the writer becomes `token`.
    fn relocate(
        &self,
        key: &ReplicaKey,
        r: &Replica,
        dir: PathBuf,
        new_gs: u64,
        state: ReplicaState,
        token: u64,
    ) -> Result<ReplicaInfo> {
        let new_data = dir.join(block_file_name(key.1));
        let new_meta = dir.join(meta_file_name(key.1, new_gs));
        let old_dir = r
            .info
            .data_file
            .parent()
            .map(PathBuf::from)
            .unwrap_or_default();
        let moved = (|| -> io::Result<()> {
            fs::create_dir_all(&dir).map_err(|e| annotate(e, "cannot create", &dir))?;
            if new_meta != r.info.meta_file {
                fs::rename(&r.info.meta_file, &new_meta)
                    .map_err(|e| annotate(e, "cannot rename", &r.info.meta_file))?;
            }
            if new_data != r.info.data_file {
                fs::rename(&r.info.data_file, &new_data)
                    .map_err(|e| annotate(e, "cannot rename", &r.info.data_file))?;
            }
            fsync_dir(&dir)?;
            if old_dir != dir {
                fsync_dir(&old_dir)?;
            }
            Ok(())
        })();
        moved.map_err(|e| self.io_failed(r.volume, &e))?;
        let mut st = self.lock_state();
        let e = st
            .replicas
            .get_mut(key)
            .ok_or_else(|| DnStorageError::ReplicaNotFound(format!("{}:blk_{}", key.0, key.1)))?;
        e.info.data_file = new_data;
        e.info.meta_file = new_meta;
        e.info.gen_stamp = new_gs;
        e.info.state = state;
        e.writer = token;
        Ok(e.info.clone())
    }

    /// Takes the writer role of a replica (stopping any current writer) and returns the
    /// new token.
    fn take_over(&self, key: &ReplicaKey) -> u64 {
        let token = self.new_token();
        if let Some(r) = self.lock_state().replicas.get_mut(key) {
            r.writer = token;
        }
        token
    }

    /// PIPELINE_SETUP_APPEND: reopens a finalized replica of length `block.num_bytes`
    /// and generation stamp `block.gen_stamp` for writing under `new_gs`.
    pub fn append(&self, block: &ExtendedBlock, new_gs: u64) -> Result<ReplicaWriter> {
        let (key, r) = self.replica(block)?;
        if r.info.state != ReplicaState::Finalized {
            return Err(bad(
                "append",
                block,
                format!("replica is {}", r.info.state.name()),
            ));
        }
        self.check_append(block, &r, new_gs)?;
        let token = self.take_over(&key);
        let dir = self.volume(r.volume).rbw_dir(&key.0);
        let info = self.relocate(&key, &r, dir, new_gs, ReplicaState::Rbw, token)?;
        tracing::info!(block = %info.block(), "reopened finalized replica for append");
        writer::reopen(self, &key, token)
    }

    fn check_append(&self, block: &ExtendedBlock, r: &Replica, new_gs: u64) -> Result<()> {
        if r.info.gen_stamp != block.gen_stamp {
            return Err(bad(
                "append",
                block,
                format!("replica has generation stamp {}", r.info.gen_stamp),
            ));
        }
        if r.info.bytes_on_disk != block.num_bytes {
            return Err(bad(
                "append",
                block,
                format!(
                    "replica has {} bytes, the block {}",
                    r.info.bytes_on_disk, block.num_bytes
                ),
            ));
        }
        // Equal is fine: hdfs-native appends at the current stamp (the Java client asks
        // the NameNode for a newer one first). Hadoop refuses only an older stamp.
        if new_gs < r.info.gen_stamp {
            return Err(bad(
                "append",
                block,
                format!("new generation stamp {new_gs} is older than the replica's"),
            ));
        }
        Ok(())
    }

    /// PIPELINE_SETUP_APPEND_RECOVERY: like `append` for a finalized replica; a replica
    /// being written (the failed append's) is taken over with the new stamp.
    pub fn recover_append(&self, block: &ExtendedBlock, new_gs: u64) -> Result<ReplicaWriter> {
        let (key, r) = self.replica(block)?;
        if r.info.gen_stamp < block.gen_stamp || r.info.gen_stamp >= new_gs {
            return Err(bad(
                "recover append",
                block,
                format!(
                    "replica has generation stamp {}, new stamp {new_gs}",
                    r.info.gen_stamp
                ),
            ));
        }
        match r.info.state {
            ReplicaState::Finalized => {
                let b = ExtendedBlock {
                    gen_stamp: r.info.gen_stamp,
                    ..block.clone()
                };
                self.append(&b, new_gs)
            }
            ReplicaState::Rbw => {
                let token = self.take_over(&key);
                let dir = self.volume(r.volume).rbw_dir(&key.0);
                self.relocate(&key, &r, dir, new_gs, ReplicaState::Rbw, token)?;
                writer::reopen(self, &key, token)
            }
            s => Err(bad(
                "recover append",
                block,
                format!("replica is {}", s.name()),
            )),
        }
    }

    /// PIPELINE_SETUP_STREAMING_RECOVERY: takes over a replica being written whose
    /// acknowledged length lies in `[min_len, max_len]`, truncates what was received but
    /// not acknowledged, and bumps its generation stamp to `new_gs`.
    pub fn recover_rbw(
        &self,
        block: &ExtendedBlock,
        new_gs: u64,
        min_len: u64,
        max_len: u64,
    ) -> Result<ReplicaWriter> {
        let (key, r) = self.replica(block)?;
        if r.info.state != ReplicaState::Rbw {
            return Err(bad(
                "recover rbw",
                block,
                format!("replica is {}", r.info.state.name()),
            ));
        }
        if r.info.gen_stamp < block.gen_stamp || r.info.gen_stamp >= new_gs {
            return Err(bad(
                "recover rbw",
                block,
                format!(
                    "replica has generation stamp {}, new stamp {new_gs}",
                    r.info.gen_stamp
                ),
            ));
        }
        let acked = r.info.visible_length;
        if acked < min_len || r.info.bytes_on_disk > max_len {
            return Err(bad(
                "recover rbw",
                block,
                format!(
                    "acknowledged length {acked} (on disk {}) outside [{min_len}, {max_len}]",
                    r.info.bytes_on_disk
                ),
            ));
        }
        let token = self.take_over(&key);
        if r.info.bytes_on_disk > acked {
            self.truncate(&key, &r, acked)?;
        }
        let dir = self.volume(r.volume).rbw_dir(&key.0);
        let r = self.replica(block)?.1;
        self.relocate(&key, &r, dir, new_gs, ReplicaState::Rbw, token)?;
        writer::reopen(self, &key, token)
    }

    /// PIPELINE_CLOSE_RECOVERY: the pipeline failed while closing; bump the generation
    /// stamp and finalize (a finalized replica only gets the new stamp). The replica's
    /// length must be `block.num_bytes`.
    pub fn recover_close(&self, block: &ExtendedBlock, new_gs: u64) -> Result<ReplicaInfo> {
        let (key, r) = self.replica(block)?;
        if r.info.gen_stamp < block.gen_stamp || r.info.gen_stamp > new_gs {
            return Err(bad(
                "recover close",
                block,
                format!(
                    "replica has generation stamp {}, new stamp {new_gs}",
                    r.info.gen_stamp
                ),
            ));
        }
        if r.info.bytes_on_disk != block.num_bytes {
            return Err(bad(
                "recover close",
                block,
                format!(
                    "replica has {} bytes, the block {}",
                    r.info.bytes_on_disk, block.num_bytes
                ),
            ));
        }
        match r.info.state {
            ReplicaState::Finalized => {
                let token = self.take_over(&key);
                let dir = r
                    .info
                    .data_file
                    .parent()
                    .map(PathBuf::from)
                    .unwrap_or_default();
                let info = self.relocate(&key, &r, dir, new_gs, ReplicaState::Finalized, token)?;
                self.release(&key, token);
                Ok(info)
            }
            ReplicaState::Rbw => {
                let token = self.take_over(&key);
                let dir = self.volume(r.volume).rbw_dir(&key.0);
                self.relocate(&key, &r, dir, new_gs, ReplicaState::Rbw, token)?;
                writer::reopen(self, &key, token)?.finalize()
            }
            s => Err(bad(
                "recover close",
                block,
                format!("replica is {}", s.name()),
            )),
        }
    }

    fn release(&self, key: &ReplicaKey, token: u64) {
        if let Some(r) = self.lock_state().replicas.get_mut(key) {
            if r.writer == token {
                r.writer = 0;
            }
        }
    }

    /// Block recovery, first step (InterDatanodeProtocol `initReplicaRecovery`): stops
    /// any writer, puts the replica under recovery `recovery_id` and returns its state.
    /// A newer recovery already in charge wins.
    pub fn init_replica_recovery(
        &self,
        block: &ExtendedBlock,
        recovery_id: u64,
    ) -> Result<ReplicaRecoveryInfo> {
        let key = (block.pool_id.clone(), block.block_id);
        let token = self.new_token();
        let mut st = self.lock_state();
        let r = st
            .replicas
            .get_mut(&key)
            .ok_or_else(|| DnStorageError::ReplicaNotFound(block.to_string()))?;
        if r.info.gen_stamp < block.gen_stamp {
            return Err(bad(
                "init replica recovery",
                block,
                format!(
                    "replica has generation stamp {}, older than the block's",
                    r.info.gen_stamp
                ),
            ));
        }
        if r.info.gen_stamp >= recovery_id {
            return Err(bad(
                "init replica recovery",
                block,
                format!(
                    "replica generation stamp {} >= recovery id {recovery_id}",
                    r.info.gen_stamp
                ),
            ));
        }
        match r.info.state {
            ReplicaState::Rur => {
                if r.info.recovery_id >= recovery_id {
                    return Err(bad(
                        "init replica recovery",
                        block,
                        format!("recovery {} is already in progress", r.info.recovery_id),
                    ));
                }
            }
            ReplicaState::Temporary => {
                return Err(DnStorageError::ReplicaNotFound(block.to_string()));
            }
            s => r.info.original_state = s,
        }
        r.info.set_state(ReplicaState::Rur);
        r.info.recovery_id = recovery_id;
        r.writer = token; // stops a writer still running
        Ok(ReplicaRecoveryInfo {
            block_id: r.info.block_id,
            gen_stamp: r.info.gen_stamp,
            num_bytes: r.info.bytes_on_disk,
            original_state: r.info.original_state,
        })
    }

    /// Block recovery, second step (`updateReplicaUnderRecovery`): truncates the replica
    /// to `new_length`, gives it the generation stamp `recovery_id` and finalizes it.
    /// Returns the finalized replica (its storage id goes back to the primary).
    pub fn update_replica_under_recovery(
        &self,
        block: &ExtendedBlock,
        recovery_id: u64,
        new_block_id: u64,
        new_length: u64,
    ) -> Result<ReplicaInfo> {
        let (key, r) = self.replica(block)?;
        if new_block_id != block.block_id {
            return Err(DnStorageError::Invalid(format!(
                "copy-on-truncate recovery (new block id {new_block_id}) is not supported"
            )));
        }
        if r.info.state != ReplicaState::Rur || r.info.recovery_id != recovery_id {
            return Err(bad(
                "update replica under recovery",
                block,
                format!(
                    "replica is {} with recovery id {}, expected RUR with {recovery_id}",
                    r.info.state.name(),
                    r.info.recovery_id
                ),
            ));
        }
        if new_length > r.info.bytes_on_disk {
            return Err(bad(
                "update replica under recovery",
                block,
                format!(
                    "new length {new_length} > {} bytes on disk",
                    r.info.bytes_on_disk
                ),
            ));
        }
        let token = r.writer;
        if new_length < r.info.bytes_on_disk {
            self.truncate(&key, &r, new_length)?;
        }
        let r = self.replica(block)?.1;
        if r.writer != token {
            return Err(DnStorageError::WriterSuperseded(block.to_string()));
        }
        if r.info.original_state == ReplicaState::Finalized {
            let dir = r
                .info
                .data_file
                .parent()
                .map(PathBuf::from)
                .unwrap_or_default();
            let info = self.relocate(&key, &r, dir, recovery_id, ReplicaState::Finalized, token)?;
            self.release(&key, token);
            return Ok(info);
        }
        let dir = self.volume(r.volume).rbw_dir(&key.0);
        self.relocate(&key, &r, dir, recovery_id, ReplicaState::Rbw, token)?;
        writer::reopen(self, &key, token)?.finalize()
    }

    /// Cuts a replica's data to `len` bytes and its meta to the matching checksums,
    /// recomputing the last partial chunk's checksum.
    fn truncate(&self, key: &ReplicaKey, r: &Replica, len: u64) -> Result<()> {
        let done = (|| -> io::Result<()> {
            let open = |p: &PathBuf| {
                OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(p)
                    .map_err(|e| annotate(e, "cannot open", p))
            };
            let data = open(&r.info.data_file)?;
            let meta = open(&r.info.meta_file)?;
            let mut header = [0u8; 7];
            meta.read_exact_at(&mut header, 0)?;
            let c = DataChecksum::parse_meta_header(&header)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            let csize = c.checksum_size() as u64;
            data.set_len(len)?;
            meta.set_len(META_HEADER_LEN + c.chunks(len) * csize)?;
            if !len.is_multiple_of(c.bpc()) && csize > 0 {
                let start = len - len % c.bpc();
                let mut buf = vec![0u8; (len - start) as usize];
                data.read_exact_at(&mut buf, start)?;
                if let Some(s) = c.chunk_sum(&buf) {
                    meta.write_all_at(&s, META_HEADER_LEN + (start / c.bpc()) * csize)?;
                }
            }
            data.sync_all()?;
            meta.sync_all()
        })();
        done.map_err(|e| self.io_failed(r.volume, &e))?;
        if let Some(e) = self.lock_state().replicas.get_mut(key) {
            e.info.bytes_on_disk = len;
            e.info.visible_length = len;
        }
        Ok(())
    }
}
