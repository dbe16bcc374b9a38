//! Block storage of a DataNode: the volumes of `dfs.datanode.data.dir` and the replica map.
//!
//! [`DataNodeStorage`] is cheap to clone (an `Arc`) and safe to share between the
//! xceiver, the scanner and the NameNode actors. Its calls do blocking file IO: from async
//! code call the slow ones (`open`, `finalize`, `sync`, recovery, `invalidate`) through
//! `tokio::task::spawn_blocking`.
//!
//! Lifecycle of a replica (Hadoop's states, see [`ReplicaState`]):
//! - `create_rbw` (pipeline create) / `create_temporary` (re-replication target) →
//!   [`ReplicaWriter`]: `write_packet` verifies a packet's checksums before anything is
//!   stored, `sync` fsyncs (hflush/hsync with `syncBlock`), `finalize` fsyncs data and
//!   meta, renames rbw → finalized and fsyncs both directories (crash-safe).
//! - `append`, `recover_append`, `recover_rbw`, `recover_close`: pipeline set-up stages
//!   other than create; each bumps the generation stamp (renaming the meta file).
//! - `init_replica_recovery` / `update_replica_under_recovery`: block recovery
//!   (InterDatanodeProtocol); the latter truncates to the agreed length, takes the new
//!   generation stamp and finalizes.
//! - `open_for_read` → [`ReplicaReader`]; `invalidate` deletes.
//!
//! At `open` every volume is scanned: finalized replicas are taken as they are (the block
//! scanner verifies them later); replicas left in `rbw/` by a crash become `Rwr` at the
//! longest prefix whose last chunk checksum verifies, with the files truncated to it.
//!
//! Failed volumes: an IO error during an operation makes the storage probe the volume;
//! if the probe fails the volume is taken out (its replicas leave the map, its storage
//! report says `failed`, [`DataNodeStorage::volume_failures`] lists it). The DataNode keeps
//! serving while no more than `dfs.datanode.failed.volumes.tolerated` volumes failed;
//! [`DataNodeStorage::check_failed_tolerance`] says when it must stop.
//!
//! Cluster identity: a DataNode learns the cluster id from the NameNode's handshake. Open
//! with `cluster_id = None` to accept the ids in existing VERSION files (they must agree);
//! [`DataNodeStorage::set_cluster_id`] then checks it (a mismatch is a clear refusal) and
//! formats volumes that have no VERSION yet. Writes need at least one formatted volume.

mod checksum;
mod error;
mod events;
mod pool_delete;
pub mod pool_version;
mod reader;
mod recovery;
mod replica;
mod scan;
mod version;
mod volume;
mod writer;

pub use checksum::{crc32_ieee, ChecksumType, DataChecksum, VerifyError, META_HEADER_LEN};
pub use error::{DnStorageError, Result};
pub use events::BlockEvent;
pub use reader::ReplicaReader;
pub use replica::{
    ExtendedBlock, ReplicaInfo, ReplicaRecoveryInfo, ReplicaReport, ReplicaState, StorageReport,
    VolumeFailure,
};
pub use version::DATANODE_LAYOUT_VERSION;
pub use writer::{AckHandle, ReplicaWriter};

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use hafs_storage::fsutil::{annotate, fsync_dir, DirLock};

use version::VolumeVersion;
use volume::Volume;

pub(crate) type ReplicaKey = (String, u64);

/// A replica as the map holds it.
#[derive(Debug, Clone)]
pub(crate) struct Replica {
    pub info: ReplicaInfo,
    pub volume: usize,
    /// Token of the writer allowed to change the replica; 0 when none.
    pub writer: u64,
}

pub(crate) struct State {
    pub replicas: HashMap<ReplicaKey, Replica>,
    pub failures: Vec<Option<VolumeFailure>>,
    pub formatted: Vec<bool>,
    pub cluster_id: Option<String>,
}

pub(crate) struct Inner {
    pub volumes: Vec<Volume>,
    pub datanode_uuid: String,
    pub tolerated: usize,
    pub state: Mutex<State>,
    pub next_token: AtomicU64,
    next_volume: AtomicUsize,
    /// `dfs.datanode.du.reserved`: bytes of each volume's file system not counted
    /// as capacity.
    reserved: AtomicU64,
}

/// All volumes of the DataNode and the replica map. See the module docs.
#[derive(Clone)]
pub struct DataNodeStorage {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for DataNodeStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataNodeStorage")
            .field("datanode_uuid", &self.inner.datanode_uuid)
            .field("volumes", &self.inner.volumes.len())
            .finish()
    }
}

impl DataNodeStorage {
    /// Locks and loads every volume, scanning its replicas. Volumes that cannot be
    /// opened count as failed; more failures than `failed_volumes_tolerated` (or none
    /// left) is an error. A clusterID that differs from `cluster_id` (or between
    /// volumes) is an error naming the directory.
    pub fn open(
        dirs: &[PathBuf],
        cluster_id: Option<&str>,
        failed_volumes_tolerated: usize,
    ) -> Result<DataNodeStorage> {
        let disk = vec![hafs_proto::hdfs::StorageTypeProto::Disk as i32; dirs.len()];
        Self::open_typed(dirs, &disk, cluster_id, failed_volumes_tolerated)
    }

    /// As [`DataNodeStorage::open`], each directory with the storage type its
    /// `[TYPE]` prefix named (`types[i]` for `dirs[i]`).
    pub fn open_typed(
        dirs: &[PathBuf],
        types: &[i32],
        cluster_id: Option<&str>,
        failed_volumes_tolerated: usize,
    ) -> Result<DataNodeStorage> {
        if dirs.len() != types.len() {
            return Err(DnStorageError::Invalid(format!(
                "{} data directories but {} storage types",
                dirs.len(),
                types.len()
            )));
        }
        if dirs.is_empty() {
            return Err(DnStorageError::Invalid(
                "dfs.datanode.data.dir names no directory".into(),
            ));
        }
        let mut volumes = Vec::new();
        let mut versions: Vec<Option<VolumeVersion>> = Vec::new();
        let mut open_failures: Vec<(PathBuf, String)> = Vec::new();
        for (dir, &storage_type) in dirs.iter().zip(types) {
            match open_volume_dir(dir) {
                Ok((lock, v)) => {
                    volumes.push((dir.clone(), lock, storage_type));
                    versions.push(v);
                }
                // Identity problems are configuration errors, never "a failed disk".
                Err(
                    e @ DnStorageError::Storage(hafs_storage::StorageError::CorruptVersion {
                        ..
                    }),
                )
                | Err(
                    e @ DnStorageError::Storage(hafs_storage::StorageError::WrongStorageType {
                        ..
                    }),
                )
                | Err(e @ DnStorageError::Storage(hafs_storage::StorageError::Locked { .. })) => {
                    return Err(e)
                }
                Err(e) => {
                    tracing::error!(dir = %dir.display(), error = %e, "volume failed at startup");
                    open_failures.push((dir.clone(), e.to_string()));
                }
            }
        }
        check_tolerance(
            open_failures.len(),
            dirs.len(),
            failed_volumes_tolerated,
            || {
                open_failures
                    .iter()
                    .map(|(d, r)| format!("{}: {r}", d.display()))
                    .collect::<Vec<_>>()
                    .join("; ")
            },
        )?;

        // Cluster id and datanode uuid must agree across formatted volumes.
        let mut known_cluster: Option<(String, PathBuf)> =
            cluster_id.map(|c| (c.to_string(), PathBuf::from("(namenode)")));
        let mut uuid: Option<String> = None;
        for ((dir, _, _), v) in volumes.iter().zip(&versions) {
            let Some(v) = v else { continue };
            match &known_cluster {
                Some((c, _)) if *c != v.cluster_id => {
                    return Err(DnStorageError::ClusterIdMismatch {
                        dir: dir.clone(),
                        expected: c.clone(),
                        found: v.cluster_id.clone(),
                    })
                }
                Some(_) => {}
                None => known_cluster = Some((v.cluster_id.clone(), dir.clone())),
            }
            match &uuid {
                Some(u) if *u != v.datanode_uuid => {
                    return Err(DnStorageError::Invalid(format!(
                        "{} belongs to datanode {}, other volumes to datanode {u}: volumes of different DataNodes are mixed in dfs.datanode.data.dir",
                        dir.display(),
                        v.datanode_uuid
                    )))
                }
                Some(_) => {}
                None => uuid = Some(v.datanode_uuid.clone()),
            }
        }
        let datanode_uuid = uuid.unwrap_or_else(hafs_util::uuid::new_v4);
        let n = volumes.len();
        let vols: Vec<Volume> = volumes
            .into_iter()
            .zip(&versions)
            .map(|((root, lock, storage_type), v)| Volume {
                root,
                storage_type,
                storage_id: v
                    .as_ref()
                    .map(|v| v.storage_id.clone())
                    .unwrap_or_else(|| format!("DS-{}", hafs_util::uuid::new_v4())),
                _lock: lock,
            })
            .collect();
        let formatted = versions.iter().map(Option::is_some).collect();
        let inner = Arc::new(Inner {
            volumes: vols,
            datanode_uuid,
            tolerated: failed_volumes_tolerated,
            state: Mutex::new(State {
                replicas: HashMap::new(),
                failures: vec![None; n],
                formatted,
                cluster_id: known_cluster.map(|(c, _)| c),
            }),
            next_token: AtomicU64::new(1),
            next_volume: AtomicUsize::new(0),
            reserved: AtomicU64::new(0),
        });
        let storage = DataNodeStorage { inner };
        // Volumes that failed to open are recorded as failures of "no storage id".
        {
            let mut st = storage.lock_state();
            for (dir, reason) in open_failures {
                st.failures.push(Some(VolumeFailure {
                    storage_id: String::new(),
                    dir,
                    reason,
                    lost_replicas: 0,
                    failed_at: std::time::SystemTime::now(),
                }));
            }
        }
        for idx in 0..n {
            if !storage.lock_state().formatted[idx] {
                continue;
            }
            match scan::scan_volume(&storage.inner.volumes[idx]) {
                Ok(found) => {
                    let mut st = storage.lock_state();
                    for mut r in found {
                        r.volume = idx;
                        let key = (r.info.pool_id.clone(), r.info.block_id);
                        match st.replicas.get(&key) {
                            Some(old) if !scan::prefer(&r.info, &old.info) => {
                                tracing::warn!(block = r.info.block_id, kept = %old.info.data_file.display(), ignored = %r.info.data_file.display(), "duplicate replica");
                            }
                            _ => {
                                st.replicas.insert(key, r);
                            }
                        }
                    }
                }
                Err(e) => {
                    storage.fail_volume(idx, &format!("scan failed: {e}"));
                }
            }
        }
        storage.check_failed_tolerance()?;
        if let Some(c) = storage.cluster_id() {
            storage.set_cluster_id(&c)?;
        }
        Ok(storage)
    }

    pub fn datanode_uuid(&self) -> &str {
        &self.inner.datanode_uuid
    }

    /// The cluster id, once known (from a VERSION file or `set_cluster_id`).
    pub fn cluster_id(&self) -> Option<String> {
        self.lock_state().cluster_id.clone()
    }

    /// Takes the NameNode's cluster id: refuses a mismatch with the volumes' VERSION,
    /// formats volumes that have none (writing VERSION with this DataNode's uuid).
    pub fn set_cluster_id(&self, cluster_id: &str) -> Result<()> {
        let mut st = self.lock_state();
        if let Some(c) = &st.cluster_id {
            if c != cluster_id {
                let dir = self
                    .inner
                    .volumes
                    .iter()
                    .zip(&st.formatted)
                    .find(|(_, f)| **f)
                    .map(|(v, _)| v.root.clone())
                    .unwrap_or_default();
                return Err(DnStorageError::ClusterIdMismatch {
                    dir,
                    expected: cluster_id.to_string(),
                    found: c.clone(),
                });
            }
        }
        for (idx, vol) in self.inner.volumes.iter().enumerate() {
            if st.formatted[idx] || st.failures[idx].is_some() {
                continue;
            }
            let current = vol.current();
            let v = VolumeVersion {
                storage_id: vol.storage_id.clone(),
                cluster_id: cluster_id.to_string(),
                datanode_uuid: self.inner.datanode_uuid.clone(),
                ctime: 0,
                layout_version: DATANODE_LAYOUT_VERSION,
            };
            let r = fs::create_dir_all(&current)
                .map_err(|e| DnStorageError::from(annotate(e, "cannot create", &current)))
                .and_then(|_| version::write(&current, &v));
            match r {
                Ok(()) => {
                    tracing::info!(dir = %vol.root.display(), storage_id = %vol.storage_id, "formatted DataNode volume");
                    st.formatted[idx] = true;
                }
                Err(e) => {
                    drop(st);
                    self.fail_volume(idx, &format!("cannot format: {e}"));
                    st = self.lock_state();
                }
            }
        }
        st.cluster_id = Some(cluster_id.to_string());
        drop(st);
        self.check_failed_tolerance()
    }

    /// Sets `dfs.datanode.du.reserved`: each volume's capacity is its file system's
    /// size less `bytes`, and its remaining space at most that capacity less what the
    /// replicas use (Hadoop's FsVolumeImpl keeps the reserved space out the same way).
    pub fn set_reserved(&self, bytes: u64) {
        self.inner.reserved.store(bytes, Ordering::Relaxed);
    }

    /// Joins a block pool on every healthy volume: writes
    /// `current/<bpid>/current/VERSION` where it is missing, checks it where it exists
    /// (a mismatch is [`DnStorageError::BlockPoolMismatch`]). Call after
    /// [`set_cluster_id`](Self::set_cluster_id); idempotent.
    pub fn join_block_pool(&self, namespace_id: u32, bpid: &str, ctime: i64) -> Result<()> {
        if !pool_version::is_block_pool_id(bpid) {
            return Err(DnStorageError::Invalid(format!(
                "the NameNode's block pool id {bpid:?} is not of the form BP-<number>-<ip>-<number>"
            )));
        }
        let expected = pool_version::BlockPoolVersion {
            namespace_id,
            block_pool_id: bpid.to_string(),
            ctime,
            layout_version: DATANODE_LAYOUT_VERSION,
        };
        for (idx, vol) in self.inner.volumes.iter().enumerate() {
            let usable = {
                let st = self.lock_state();
                st.formatted[idx] && st.failures[idx].is_none()
            };
            if !usable {
                continue;
            }
            let bp_current = vol.bp_current(bpid);
            let r = match pool_version::read(&bp_current) {
                Ok(Some(found)) => pool_version::check(&vol.root, &found, &expected),
                Ok(None) => pool_version::write(&bp_current, &expected).map(|()| {
                    tracing::info!(dir = %vol.root.display(), %bpid, namespace_id, "block pool added to volume");
                }),
                Err(e) => Err(e),
            };
            match r {
                Ok(()) => {}
                Err(e @ DnStorageError::BlockPoolMismatch { .. }) => return Err(e),
                Err(e) => {
                    self.fail_volume(idx, &format!("block pool {bpid}: {e}"));
                }
            }
        }
        self.check_failed_tolerance()
    }

    /// Bytes of one block pool's replicas on each healthy volume, by storage id
    /// (`blockPoolUsed` in that pool's heartbeats).
    pub fn block_pool_used(&self, bpid: &str) -> HashMap<String, u64> {
        let st = self.lock_state();
        let mut used: HashMap<String, u64> = HashMap::new();
        for r in st.replicas.values() {
            if r.info.pool_id == bpid {
                *used.entry(r.info.storage_id.clone()).or_default() += r.info.bytes_on_disk;
            }
        }
        used
    }

    /// Usage of every configured volume, failed ones included (with `failed: true`).
    pub fn storage_reports(&self) -> Vec<StorageReport> {
        let st = self.lock_state();
        let mut used = vec![0u64; self.inner.volumes.len()];
        for r in st.replicas.values() {
            used[r.volume] += r.info.bytes_on_disk;
        }
        let mut out = Vec::new();
        for (idx, vol) in self.inner.volumes.iter().enumerate() {
            let failed = st.failures[idx].is_some();
            let (capacity, avail) = if failed {
                (0, 0)
            } else {
                let reserved = self.inner.reserved.load(Ordering::Relaxed);
                let (fs_capacity, fs_avail) = vol.fs_space().unwrap_or((0, 0));
                let capacity = fs_capacity.saturating_sub(reserved);
                (capacity, fs_avail.min(capacity.saturating_sub(used[idx])))
            };
            let fs_used = capacity.saturating_sub(avail);
            out.push(StorageReport {
                storage_id: vol.storage_id.clone(),
                storage_type: vol.storage_type,
                dir: vol.root.clone(),
                failed,
                capacity,
                used: if failed { 0 } else { used[idx] },
                remaining: avail,
                non_dfs_used: fs_used.saturating_sub(used[idx]),
            });
        }
        out
    }

    /// The storage type of the volume with this storage id (cheap: no usage scan).
    pub fn storage_type(&self, storage_id: &str) -> Option<i32> {
        self.inner
            .volumes
            .iter()
            .find(|v| v.storage_id == storage_id)
            .map(|v| v.storage_type)
    }

    /// Volumes taken out of service (including those that failed at startup).
    pub fn volume_failures(&self) -> Vec<VolumeFailure> {
        self.lock_state()
            .failures
            .iter()
            .flatten()
            .cloned()
            .collect()
    }

    /// Errors when more volumes failed than tolerated (or none is left): the DataNode
    /// must then shut down, as Hadoop's does.
    pub fn check_failed_tolerance(&self) -> Result<()> {
        let st = self.lock_state();
        let failed: Vec<&VolumeFailure> = st.failures.iter().flatten().collect();
        let total = st.failures.len();
        check_tolerance(failed.len(), total, self.inner.tolerated, || {
            failed
                .iter()
                .map(|f| format!("{}: {}", f.dir.display(), f.reason))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// Block pools that have replicas here.
    pub fn block_pools(&self) -> Vec<String> {
        let st = self.lock_state();
        let mut v: Vec<String> = st.replicas.keys().map(|(p, _)| p.clone()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// Every reportable replica of `bpid` (temporary ones are not reported), each with
    /// the storage id of its volume.
    pub fn block_report(&self, bpid: &str) -> Vec<ReplicaReport> {
        let st = self.lock_state();
        let mut v: Vec<ReplicaReport> = st
            .replicas
            .values()
            .filter(|r| r.info.pool_id == bpid && r.info.state != ReplicaState::Temporary)
            .map(|r| ReplicaReport {
                storage_id: r.info.storage_id.clone(),
                block_id: r.info.block_id,
                gen_stamp: r.info.gen_stamp,
                num_bytes: if r.info.state == ReplicaState::Finalized {
                    r.info.bytes_on_disk
                } else {
                    r.info.visible_length
                },
                state: r.info.state,
            })
            .collect();
        v.sort_by_key(|r| r.block_id);
        v
    }

    pub fn get_replica(&self, bpid: &str, block_id: u64) -> Option<ReplicaInfo> {
        self.lock_state()
            .replicas
            .get(&(bpid.to_string(), block_id))
            .map(|r| r.info.clone())
    }

    /// Finalized replicas on one volume (by storage id), for the block scanner.
    pub fn finalized_replicas(&self, storage_id: &str) -> Vec<ReplicaInfo> {
        let st = self.lock_state();
        let mut v: Vec<ReplicaInfo> = st
            .replicas
            .values()
            .filter(|r| r.info.state == ReplicaState::Finalized && r.info.storage_id == storage_id)
            .map(|r| r.info.clone())
            .collect();
        v.sort_by_key(|r| r.block_id);
        v
    }

    /// Storage ids of the volumes in service.
    pub fn live_storage_ids(&self) -> Vec<String> {
        let st = self.lock_state();
        self.inner
            .volumes
            .iter()
            .enumerate()
            .filter(|(i, _)| st.failures[*i].is_none() && st.formatted[*i])
            .map(|(_, v)| v.storage_id.clone())
            .collect()
    }

    /// Creates a replica being written (pipeline create).
    pub fn create_rbw(
        &self,
        block: &ExtendedBlock,
        checksum: DataChecksum,
    ) -> Result<ReplicaWriter> {
        writer::create(self, block, checksum, ReplicaState::Rbw, None)
    }

    /// As [`DataNodeStorage::create_rbw`] or [`DataNodeStorage::create_temporary`]
    /// (`temporary`), on a volume of `storage_type` (the WRITE_BLOCK's storageType).
    pub fn create_on(
        &self,
        block: &ExtendedBlock,
        checksum: DataChecksum,
        temporary: bool,
        storage_type: Option<i32>,
    ) -> Result<ReplicaWriter> {
        let state = if temporary {
            ReplicaState::Temporary
        } else {
            ReplicaState::Rbw
        };
        writer::create(self, block, checksum, state, storage_type)
    }

    /// Creates a temporary replica: the target of a copy (TRANSFER_BLOCK from another
    /// DataNode, or TRANSFER_RBW / TRANSFER_FINALIZED for a pipeline addition). It is not
    /// reported and is wiped at restart until it is finalized or converted to rbw.
    pub fn create_temporary(
        &self,
        block: &ExtendedBlock,
        checksum: DataChecksum,
    ) -> Result<ReplicaWriter> {
        writer::create(self, block, checksum, ReplicaState::Temporary, None)
    }

    /// Opens a finalized or being-written replica for reading. The replica's generation
    /// stamp must be at least the block's.
    pub fn open_for_read(&self, block: &ExtendedBlock) -> Result<ReplicaReader> {
        reader::open(self, block)
    }

    /// Deletes a replica (a NameNode invalidate command). The generation stamp must
    /// match; a writer of the replica is stopped.
    pub fn invalidate(&self, block: &ExtendedBlock) -> Result<ReplicaInfo> {
        let key = (block.pool_id.clone(), block.block_id);
        let r = {
            let mut st = self.lock_state();
            let Some(r) = st.replicas.get(&key) else {
                return Err(DnStorageError::ReplicaNotFound(block.to_string()));
            };
            if r.info.gen_stamp != block.gen_stamp {
                return Err(DnStorageError::BadReplicaState {
                    op: "invalidate",
                    block: block.to_string(),
                    reason: format!("replica has generation stamp {}", r.info.gen_stamp),
                });
            }
            st.replicas.remove(&key).expect("present")
        };
        for f in [&r.info.data_file, &r.info.meta_file] {
            match fs::remove_file(f) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    let e = annotate(e, "cannot delete", f);
                    self.io_failed(r.volume, &e);
                    return Err(e.into());
                }
            }
        }
        tracing::info!(block = %block, file = %r.info.data_file.display(), "deleted replica");
        Ok(r.info)
    }

    /// Takes a volume out of service by storage id (e.g. after an error seen elsewhere).
    pub fn mark_volume_failed(&self, storage_id: &str, reason: &str) -> Option<VolumeFailure> {
        let idx = self
            .inner
            .volumes
            .iter()
            .position(|v| v.storage_id == storage_id)?;
        self.fail_volume(idx, reason)
    }

    /// Probes every formatted volume in service; the ones that fail are taken out and
    /// returned. A volume still waiting for its format (the cluster id comes with the
    /// first NameNode handshake) has no `current/` to probe yet, which is no failure.
    pub fn check_volumes(&self) -> Vec<VolumeFailure> {
        let mut out = Vec::new();
        for (idx, vol) in self.inner.volumes.iter().enumerate() {
            {
                let st = self.lock_state();
                if st.failures[idx].is_some() || !st.formatted[idx] {
                    continue;
                }
            }
            if let Err(e) = vol.probe() {
                if let Some(f) = self.fail_volume(idx, &e.to_string()) {
                    out.push(f);
                }
            }
        }
        out
    }

    // ------------------------------------------------------------------ internals

    pub(crate) fn lock_state(&self) -> MutexGuard<'_, State> {
        // Poison means a panic left half-applied block state: never serve from it
        // (the failure policy, hafs_util::invariant).
        hafs_util::invariant::lock(&self.inner.state, "replica storage")
    }

    pub(crate) fn volume(&self, idx: usize) -> &Volume {
        &self.inner.volumes[idx]
    }

    pub(crate) fn new_token(&self) -> u64 {
        self.inner.next_token.fetch_add(1, Ordering::Relaxed)
    }

    /// A volume for a new replica: round-robin over formatted volumes in service, of
    /// `storage_type` when given (the type the NameNode chose this DataNode for). With
    /// no volume of that type in service, any volume (a warning): the NameNode only
    /// asks for types this DataNode reported, so this is a race with a failing disk.
    pub(crate) fn choose_volume(&self, storage_type: Option<i32>) -> Result<usize> {
        let st = self.lock_state();
        let n = self.inner.volumes.len();
        let start = self.inner.next_volume.fetch_add(1, Ordering::Relaxed);
        let in_service = |idx: usize| st.formatted[idx] && st.failures[idx].is_none();
        if let Some(t) = storage_type {
            let typed = (0..n)
                .map(|i| (start + i) % n)
                .find(|&idx| in_service(idx) && self.inner.volumes[idx].storage_type == t);
            if let Some(idx) = typed {
                return Ok(idx);
            }
            tracing::warn!(
                storage_type = t,
                "no volume of the requested storage type in service; using another"
            );
        }
        for i in 0..n {
            let idx = (start + i) % n;
            if in_service(idx) {
                return Ok(idx);
            }
        }
        if st.cluster_id.is_none() {
            return Err(DnStorageError::Invalid(
                "storage is not formatted yet: the DataNode has not registered with a NameNode"
                    .into(),
            ));
        }
        Err(DnStorageError::Invalid("no volume in service".into()))
    }

    /// After an IO error on a volume: probe it, and take it out if the probe fails.
    /// Returns the error to hand to the caller (VolumeFailed when taken out).
    pub(crate) fn io_failed(&self, idx: usize, err: &io::Error) -> DnStorageError {
        match self.inner.volumes[idx].probe() {
            Ok(()) => DnStorageError::Io(io::Error::new(err.kind(), err.to_string())),
            Err(probe) => {
                self.fail_volume(idx, &format!("{err}; probe: {probe}"));
                DnStorageError::VolumeFailed {
                    dir: self.inner.volumes[idx].root.clone(),
                    reason: err.to_string(),
                }
            }
        }
    }

    fn fail_volume(&self, idx: usize, reason: &str) -> Option<VolumeFailure> {
        let mut st = self.lock_state();
        if st.failures[idx].is_some() {
            return None;
        }
        let before = st.replicas.len();
        st.replicas.retain(|_, r| r.volume != idx);
        let lost = before - st.replicas.len();
        let vol = &self.inner.volumes[idx];
        let f = VolumeFailure {
            storage_id: vol.storage_id.clone(),
            dir: vol.root.clone(),
            reason: reason.to_string(),
            lost_replicas: lost,
            failed_at: std::time::SystemTime::now(),
        };
        tracing::error!(dir = %vol.root.display(), storage_id = %vol.storage_id, lost_replicas = lost, reason, "volume failed; taken out of service");
        st.failures[idx] = Some(f.clone());
        Some(f)
    }
}

fn check_tolerance(
    failed: usize,
    total: usize,
    tolerated: usize,
    detail: impl FnOnce() -> String,
) -> Result<()> {
    if failed > tolerated || (total > 0 && failed >= total) {
        return Err(DnStorageError::TooManyFailedVolumes {
            failed,
            total,
            tolerated,
            detail: detail(),
        });
    }
    Ok(())
}

/// Locks a volume's root and reads its VERSION (None when unformatted).
fn open_volume_dir(dir: &Path) -> Result<(DirLock, Option<VolumeVersion>)> {
    fs::create_dir_all(dir).map_err(|e| annotate(e, "cannot create data directory", dir))?;
    let md = fs::metadata(dir).map_err(|e| annotate(e, "cannot stat", dir))?;
    if !md.is_dir() {
        return Err(io::Error::other(format!("{} is not a directory", dir.display())).into());
    }
    let lock = DirLock::lock(dir)?;
    let current = dir.join("current");
    let v = version::read(&current)?;
    if v.is_some() {
        // Make sure the directory entries we rely on are durable.
        fsync_dir(&current)?;
    }
    Ok((lock, v))
}
