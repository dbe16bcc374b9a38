//! The NameNode's storage: the name dirs (`dfs.namenode.name.dir`, several = redundant
//! copies), their VERSION files, fsimages, and the edit-log segments beside them.
//!
//! Startup ([`NameStorage::open`] then [`NameStorage::load`]): lock every dir, check that
//! all are formatted with the same identity, load the newest fsimage that verifies
//! (falling back to older ones), recover the in-progress edit segment (cutting a torn
//! tail) and replay every edit after the image through the same `apply` the live path
//! uses.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hafs_journal::client::{QjmConfig, QuorumJournal};
use hafs_journal::protocol::{NsInfo, QjournalUri};
use hafs_journal::storage::StorageType;
use hafs_journal::{DirLock, FileJournal, JournalManager, JournalSet, StorageDir, StorageInfo};
use prost::Message;
use tracing::{info, warn};

use crate::fsimage;
use crate::namespace::{Namespace, NamespaceConfig};

/// Our layout version. Hadoop's are negative and count down; ours are our own.
pub const LAYOUT_VERSION: i32 = -1;

/// Edits replayed per read from the journal.
const REPLAY_BATCH: usize = 10_000;

#[derive(thiserror::Error, Debug)]
pub enum StorageError {
    #[error(transparent)]
    Storage(#[from] hafs_journal::StorageError),
    #[error(transparent)]
    EditLog(#[from] hafs_journal::EditLogError),
    #[error(transparent)]
    Image(#[from] fsimage::ImageError),
    #[error("{0}")]
    Other(String),
}

/// Parses `dfs.namenode.name.dir` entries: `file:///x`, `file:/x` or a plain path.
pub fn parse_dir_uri(s: &str) -> Result<PathBuf, String> {
    let p = if let Some(rest) = s.strip_prefix("file://") {
        rest
    } else if let Some(rest) = s.strip_prefix("file:") {
        rest
    } else if s.contains("://") {
        return Err(format!(
            "unsupported storage URI '{s}': name dirs must be local (file:// or a path)"
        ));
    } else {
        s
    };
    if !p.starts_with('/') {
        return Err(format!("storage dir '{s}' must be an absolute path"));
    }
    Ok(PathBuf::from(p))
}

pub struct NameStorage {
    dirs: Vec<StorageDir>,
    _locks: Vec<DirLock>,
    pub info: StorageInfo,
    /// The JournalNodes holding the edit log, when `dfs.namenode.shared.edits.dir` is set.
    shared: Option<(QjournalUri, QjmConfig)>,
    /// The shared edits dir (`file://`, the NFS mode), when configured.
    shared_dir: Option<Arc<hafs_journal::shared_dir::SharedDirJournal>>,
}

/// What loading produced.
pub struct Loaded {
    pub namespace: Namespace,
    /// Txid of the image loaded.
    pub image_txid: u64,
    /// Last txid applied (image + edits).
    pub last_txid: u64,
    /// Retry-cache ids carried by the replayed edits (to rebuild the retry cache).
    pub retry_ids: Vec<hafs_proto::hafs::RetryCacheId>,
}

/// A freshly generated storage identity for `-format`, for a NameNode on loopback
/// (tests, benchmarks); `hafs namenode -format` uses [`new_storage_info_at`].
pub fn new_storage_info(cluster_id: Option<&str>) -> StorageInfo {
    new_storage_info_at(cluster_id, "127.0.0.1")
}

/// A freshly generated storage identity for `-format` of a NameNode whose address is
/// `host_ip`. The block pool id is Hadoop's `BP-<random>-<ip>-<ms>` (NNStorage's
/// newBlockPoolID): a random number of its own, not the namespace id, so two
/// nameservices formatted with one `-clusterid` get distinct pools even when formatted
/// in the same millisecond on the same host.
pub fn new_storage_info_at(cluster_id: Option<&str>, host_ip: &str) -> StorageInfo {
    let mut r = [0u8; 8];
    getrandom::fill(&mut r).expect("OS random source");
    let namespace_id = u32::from_be_bytes([r[0], r[1], r[2], r[3]]) & 0x7fff_ffff;
    let pool_random = u32::from_be_bytes([r[4], r[5], r[6], r[7]]) & 0x7fff_ffff;
    let cluster_id = match cluster_id {
        Some(c) => c.to_string(),
        None => format!("CID-{}", hafs_util::uuid::new_v4()),
    };
    let now = now_ms();
    StorageInfo {
        layout_version: LAYOUT_VERSION,
        namespace_id,
        cluster_id,
        block_pool_id: format!("BP-{pool_random}-{host_ip}-{now}"),
        ctime: 0,
        storage_type: StorageType::NameNode,
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `hafs namenode -format`: writes VERSION, an empty fsimage at txid 0 and seen_txid
/// into every dir. Refuses dirs that hold data unless `force`.
pub fn format(
    dirs: &[PathBuf],
    info: &StorageInfo,
    superuser: &str,
    supergroup: &str,
    force: bool,
) -> Result<(), StorageError> {
    if dirs.is_empty() {
        return Err(StorageError::Other(
            "dfs.namenode.name.dir is empty: nothing to format".into(),
        ));
    }
    let mut locked = Vec::new();
    for d in dirs {
        std::fs::create_dir_all(d)
            .map_err(|e| StorageError::Other(format!("cannot create {}: {e}", d.display())))?;
        let sd = StorageDir::new(d.clone());
        locked.push(sd.lock()?);
        if sd.is_formatted() && !force {
            return Err(StorageError::Other(format!(
                "Storage directory {} already holds a formatted namespace; \
                 re-run with -force to erase it",
                d.display()
            )));
        }
    }
    let ns = Namespace::new(NamespaceConfig::default(), superuser, supergroup, now_ms());
    let image = fsimage::encode(0, &ns.save_image());
    for d in dirs {
        let sd = StorageDir::new(d.clone());
        sd.format(info)?;
        fsimage::save(&sd.current(), 0, &image)?;
        sd.write_seen_txid(0)?;
        info!(dir = %d.display(), cluster_id = %info.cluster_id, "formatted name dir");
    }
    Ok(())
}

impl NameStorage {
    /// Locks and checks every dir.
    pub fn open(dirs: &[PathBuf]) -> Result<NameStorage, StorageError> {
        if dirs.is_empty() {
            return Err(StorageError::Other("dfs.namenode.name.dir is empty".into()));
        }
        let mut locks = Vec::new();
        let mut sds = Vec::new();
        let mut info: Option<StorageInfo> = None;
        for d in dirs {
            if !d.is_dir() {
                return Err(StorageError::Other(format!(
                    "NameNode is not formatted: storage directory {} does not exist. \
                     Run `hafs namenode -format`.",
                    d.display()
                )));
            }
            let sd = StorageDir::new(d.clone());
            locks.push(sd.lock()?);
            let found = sd.load(StorageType::NameNode)?;
            if found.layout_version != LAYOUT_VERSION {
                return Err(StorageError::Other(format!(
                    "{}: layout version {} is not this hafs's ({LAYOUT_VERSION})",
                    d.display(),
                    found.layout_version
                )));
            }
            if let Some(first) = &info {
                hafs_journal::storage::check_compatible(&sd.current(), &found, first)?;
            } else {
                info = Some(found);
            }
            sds.push(sd);
        }
        Ok(NameStorage {
            dirs: sds,
            _locks: locks,
            info: info.expect("at least one dir"),
            shared: None,
            shared_dir: None,
        })
    }

    /// Puts the edit log on the JournalNodes of `uri` (a quorum journal) instead of the
    /// name dirs, which keep the fsimages. No-op for `None`.
    pub fn with_shared_edits(mut self, uri: Option<QjournalUri>, cfg: QjmConfig) -> NameStorage {
        self.shared = uri.map(|u| (u, cfg));
        self
    }

    /// Puts the edit log in the shared dir `dir` (which must be formatted for this
    /// namespace) instead of the name dirs. No-op for `None`.
    pub fn with_shared_dir(mut self, dir: Option<&Path>) -> Result<NameStorage, StorageError> {
        if let Some(d) = dir {
            let j = hafs_journal::shared_dir::SharedDirJournal::open(d, &self.info)?;
            self.shared_dir = Some(Arc::new(j));
        }
        Ok(self)
    }

    pub fn current_dirs(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|d| d.current()).collect()
    }

    /// The quorum journal when shared edits are configured, else one FileJournal per
    /// dir, written together. (The quorum journal is the only journal then: a
    /// JournalSet would drop it on failure and go on locally, which is exactly what an
    /// HA edit log must never do.)
    pub fn journal(&self) -> Arc<dyn JournalManager> {
        if let Some(j) = &self.shared_dir {
            return j.clone();
        }
        if let Some((uri, cfg)) = &self.shared {
            return Arc::new(QuorumJournal::new(
                uri.clone(),
                ns_info(&self.info),
                cfg.clone(),
            ));
        }
        let js: Vec<Arc<dyn JournalManager>> = self
            .dirs
            .iter()
            .map(|d| Arc::new(FileJournal::for_storage(d)) as Arc<dyn JournalManager>)
            .collect();
        Arc::new(JournalSet::new(js))
    }

    /// Loads the newest good image and replays the edits after it, first recovering
    /// the log (for a quorum journal: taking a new writer epoch).
    pub async fn load(
        &self,
        config: NamespaceConfig,
        journal: &dyn JournalManager,
    ) -> Result<Loaded, StorageError> {
        self.load_with(config, journal, true).await
    }

    /// As [`NameStorage::load`] for an HA Standby: no recovery (that would fence the
    /// Active); replays finalized edits and the committed part of the open segment.
    pub async fn load_for_standby(
        &self,
        config: NamespaceConfig,
        journal: &dyn JournalManager,
    ) -> Result<Loaded, StorageError> {
        self.load_with(config, journal, false).await
    }

    async fn load_with(
        &self,
        config: NamespaceConfig,
        journal: &dyn JournalManager,
        recover: bool,
    ) -> Result<Loaded, StorageError> {
        let (image_txid, mut namespace) = self.load_newest_image(config)?;
        if recover {
            journal.recover_unfinalized_segments().await?;
        }
        let (last, retry_ids) = replay_edits(&mut namespace, journal, image_txid).await?;
        info!(
            image_txid,
            last_txid = last,
            edits = last - image_txid,
            "namespace loaded"
        );
        for d in &self.dirs {
            d.write_seen_txid(last)?;
        }
        Ok(Loaded {
            namespace,
            image_txid,
            last_txid: last,
            retry_ids,
        })
    }

    /// The newest fsimage of the name dirs that verifies: (its txid, the namespace).
    pub fn load_newest_image(
        &self,
        config: NamespaceConfig,
    ) -> Result<(u64, Namespace), StorageError> {
        let mut candidates: Vec<(u64, PathBuf)> = Vec::new();
        for d in &self.dirs {
            candidates.extend(fsimage::list(&d.current())?);
        }
        candidates.sort_by_key(|x| std::cmp::Reverse(x.0));
        let mut problems = Vec::new();
        for (txid, path) in candidates {
            match load_image_file(&path, config.clone()) {
                Ok(ns) => {
                    info!(file = %path.display(), txid, "loaded fsimage");
                    return Ok((txid, ns));
                }
                Err(e) => {
                    warn!("skipping fsimage: {e}");
                    problems.push(e);
                }
            }
        }
        Err(StorageError::Other(format!(
            "no valid fsimage in {}{}",
            self.dirs
                .iter()
                .map(|d| d.root().display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            if problems.is_empty() {
                String::new()
            } else {
                format!(": {}", problems.join("; "))
            }
        )))
    }

    /// Writes an fsimage at `txid` into every dir and purges old images and edits.
    pub fn save_image(
        &self,
        txid: u64,
        body: &[u8],
        retained: usize,
    ) -> Result<Option<u64>, StorageError> {
        let encoded = fsimage::encode(txid, body);
        let mut oldest = None;
        for d in &self.dirs {
            fsimage::save(&d.current(), txid, &encoded)?;
            d.write_seen_txid(txid)?;
            oldest = fsimage::purge(&d.current(), retained)?;
        }
        Ok(oldest)
    }
}

/// Applies every edit of `journal` after `after_txid` to `namespace` (startup replay):
/// returns the last txid applied and the retry-cache ids the edits carry.
pub async fn replay_edits(
    namespace: &mut Namespace,
    journal: &dyn JournalManager,
    after_txid: u64,
) -> Result<(u64, Vec<hafs_proto::hafs::RetryCacheId>), StorageError> {
    let mut last = after_txid;
    let mut retry_ids = Vec::new();
    // Bounded by the log's length: each pass consumes at least one record or stops.
    loop {
        let batch = journal.read_edits(last + 1, REPLAY_BATCH, true).await?;
        if batch.is_empty() {
            break;
        }
        for rec in batch {
            if rec.txid != last + 1 {
                return Err(StorageError::Other(format!(
                    "edit log gap: expected txid {}, found {}",
                    last + 1,
                    rec.txid
                )));
            }
            let op = hafs_proto::hafs::EditOp::decode(rec.payload.as_ref()).map_err(|e| {
                StorageError::Other(format!("edit txid {}: undecodable op: {e}", rec.txid))
            })?;
            namespace.apply(&op).map_err(|e| {
                StorageError::Other(format!("edit txid {} cannot be applied: {e}", rec.txid))
            })?;
            retry_ids.extend(op.retry_cache);
            last = rec.txid;
        }
    }
    Ok((last, retry_ids))
}

/// The namespace identity a quorum journal is formatted with.
pub fn ns_info(info: &StorageInfo) -> NsInfo {
    NsInfo {
        layout_version: info.layout_version,
        namespace_id: info.namespace_id,
        cluster_id: info.cluster_id.clone(),
        block_pool_id: info.block_pool_id.clone(),
    }
}

/// `-format` with shared edits: formats every JournalNode of `uri` (all must answer)
/// with the identity of the freshly formatted name dirs.
pub async fn format_shared_edits(
    name_dirs: &[PathBuf],
    uri: &QjournalUri,
    cfg: &QjmConfig,
    force: bool,
) -> Result<(), StorageError> {
    let info = read_identity(name_dirs)?;
    let qjm = QuorumJournal::new(uri.clone(), ns_info(&info), cfg.clone());
    qjm.format(force).await?;
    info!(%uri, cluster_id = %info.cluster_id, "formatted the shared edits (JournalNodes)");
    Ok(())
}

fn read_identity(name_dirs: &[PathBuf]) -> Result<StorageInfo, StorageError> {
    let d = name_dirs
        .first()
        .ok_or_else(|| StorageError::Other("dfs.namenode.name.dir is empty".into()))?;
    Ok(StorageDir::new(d.clone()).load(StorageType::NameNode)?)
}

/// `-initializeSharedEdits`: formats the JournalNodes with this NameNode's identity and
/// copies the edits after its newest fsimage from the name dirs to them, so a non-HA
/// NameNode can move its edit log onto a quorum journal. Returns the number of edits
/// copied. The NameNode must not be running (its name dirs are locked here).
pub async fn initialize_shared_edits(
    name_dirs: &[PathBuf],
    uri: &QjournalUri,
    cfg: &QjmConfig,
    force: bool,
) -> Result<u64, StorageError> {
    let storage = NameStorage::open(name_dirs)?;
    let (image_txid, _) = storage.load_newest_image(NamespaceConfig::default())?;
    let local = storage.journal();
    let last = local.recover_unfinalized_segments().await?;
    let qjm = QuorumJournal::new(uri.clone(), ns_info(&storage.info), cfg.clone());
    qjm.format(force).await?;
    qjm.recover_unfinalized_segments().await?;
    let mut next = image_txid + 1;
    if last >= next {
        qjm.start_log_segment(next).await?;
        // Bounded by the log's length: each pass copies at least one record or stops.
        while next <= last {
            let batch = local.read_edits(next, REPLAY_BATCH, false).await?;
            if batch.is_empty() {
                return Err(StorageError::Other(format!(
                    "local edit log ends at txid {} but recovery reported {last}",
                    next - 1
                )));
            }
            let mut buf = bytes::BytesMut::new();
            for r in &batch {
                hafs_journal::record::encode(&mut buf, r.txid, &r.payload)?;
            }
            let n = batch.len() as u32;
            qjm.journal(next, n, buf.freeze()).await?;
            next += n as u64;
        }
        qjm.finalize_log_segment(image_txid + 1, last).await?;
    }
    let copied = last.saturating_sub(image_txid);
    info!(%uri, image_txid, last, copied, "initialized the shared edits");
    Ok(copied)
}

fn load_image_file(path: &Path, config: NamespaceConfig) -> Result<Namespace, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (_, body) = fsimage::decode(path, &bytes).map_err(|e| e.to_string())?;
    Namespace::load_image(config, body).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_uris() {
        assert_eq!(parse_dir_uri("file:///a/b").unwrap(), PathBuf::from("/a/b"));
        assert_eq!(parse_dir_uri("file:/a").unwrap(), PathBuf::from("/a"));
        assert_eq!(parse_dir_uri("/x").unwrap(), PathBuf::from("/x"));
        assert!(parse_dir_uri("hdfs://x/y").is_err());
        assert!(parse_dir_uri("rel").is_err());
    }
}
