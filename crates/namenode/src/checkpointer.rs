//! Checkpoints in an HA nameservice, and the NameNode's HTTP side that carries them.
//!
//! There is no SecondaryNameNode: a **Standby** checkpoints. Every
//! `dfs.namenode.checkpoint.check.period` it looks at how far its tailer got; when
//! `dfs.namenode.checkpoint.txns` edits or `dfs.namenode.checkpoint.period` have passed
//! since the last image, it serializes the namespace at the tailer's last applied txid
//! (read-locked only while serializing: the tailer applies under the write lock, so the
//! txid and the image agree), saves it crash-safely into its own name dirs (keeping
//! `dfs.namenode.num.checkpoints.retained`), and uploads it over HTTP to every other
//! NameNode of the nameservice (the Active and the other Standbys), which verify its
//! checksum on receipt. The Active, on receiving one, purges journal segments older
//! than its oldest retained image (less `dfs.namenode.num.extra.edits.retained`).
//!
//! A non-HA NameNode keeps checkpointing itself (`Namesystem::maybe_checkpoint`); it
//! still serves the HTTP image transfer.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hafs_journal::storage::StorageType;
use hafs_journal::{StorageDir, StorageInfo};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::config::NameNodeConfig;
use crate::fsimage;
use crate::http::client::{upload_image, TransferError};
use crate::http::image_store::ImageMeta;
use crate::http::{HttpBackend, HttpConfig, HttpServer, ImageStore, NodeStatus};
use crate::namesystem::{HaState, Namesystem};

/// Longest wait for any one read or write of an image upload.
const UPLOAD_IO_TIMEOUT: Duration = Duration::from_secs(60);

/// What the checkpointer needs from the NameNode: the seam with the HA code.
pub trait CheckpointSource: Send + Sync + 'static {
    /// Only a Standby checkpoints (an Active's own checkpoints are the Namesystem's).
    fn is_standby(&self) -> bool;
    /// The last txid the tailer applied.
    fn applied_txid(&self) -> u64;
    /// The namespace serialized at a txid, consistently: (txid, image body).
    fn snapshot(&self) -> (u64, Vec<u8>);
}

impl CheckpointSource for Namesystem {
    fn is_standby(&self) -> bool {
        self.ha_state() == HaState::Standby
    }

    fn applied_txid(&self) -> u64 {
        self.edit_log.applied_txid()
    }

    fn snapshot(&self) -> (u64, Vec<u8>) {
        // The tailer applies edits and advances `applied` under the namespace write
        // lock, so under the read lock both describe the same state.
        let ns = self.read();
        (self.edit_log.applied_txid(), ns.save_image())
    }
}

/// When checkpoints are due.
#[derive(Debug, Clone)]
pub struct CheckpointPolicy {
    pub txns: u64,
    pub period: Duration,
    pub check_period: Duration,
}

impl CheckpointPolicy {
    pub fn from_config(c: &NameNodeConfig) -> CheckpointPolicy {
        CheckpointPolicy {
            txns: c.checkpoint_txns.max(1),
            period: c.checkpoint_period,
            check_period: c.checkpoint_check_period.max(Duration::from_millis(100)),
        }
    }

    /// Due when `txns` edits, or any edit and `period`, have passed since the last one.
    pub fn due(&self, edits_since: u64, elapsed: Duration) -> bool {
        edits_since >= self.txns || (edits_since > 0 && elapsed >= self.period)
    }
}

/// A Standby's checkpointer: saves images locally and uploads them to its peers.
pub struct Checkpointer<S: CheckpointSource> {
    source: Arc<S>,
    store: ImageStore,
    /// (NameNode id, HTTP address) of every other NameNode.
    peers: Vec<(String, String)>,
    info: StorageInfo,
    policy: CheckpointPolicy,
    last_txid: u64,
    last_at: Instant,
    /// Secure mode: this NameNode's SPNEGO login for the uploads.
    spnego: Option<hafs_security::spnego::SpnegoInitiator>,
}

/// What one checkpoint did.
#[derive(Debug)]
pub struct CheckpointReport {
    pub txid: u64,
    /// Per peer: its id and the upload's outcome.
    pub uploads: Vec<(String, Result<(), TransferError>)>,
}

impl<S: CheckpointSource> Checkpointer<S> {
    pub fn new(
        source: Arc<S>,
        store: ImageStore,
        peers: Vec<(String, String)>,
        info: StorageInfo,
        policy: CheckpointPolicy,
    ) -> Checkpointer<S> {
        let last_txid = store.newest_txid().unwrap_or(0);
        Checkpointer {
            source,
            store,
            peers,
            info,
            policy,
            last_txid,
            last_at: Instant::now(),
            spnego: None,
        }
    }

    /// Uploads authenticate with SPNEGO as `login` (secure mode).
    pub fn with_spnego(mut self, login: Option<hafs_security::spnego::SpnegoInitiator>) -> Self {
        self.spnego = login;
        self
    }

    /// Saves an image at the applied txid (unless one exists already) and uploads it.
    pub async fn checkpoint_now(&mut self) -> Result<CheckpointReport, String> {
        let (txid, body) = self.source.snapshot();
        let store = self.store.clone();
        let saved = tokio::task::spawn_blocking(move || save_local(&store, txid, &body))
            .await
            .map_err(|e| format!("checkpoint task failed: {e}"))??;
        self.last_txid = txid;
        self.last_at = Instant::now();
        let (path, meta) = saved;
        info!(txid, bytes = meta.len, "Standby saved a checkpoint");
        let mut uploads = Vec::new();
        for (id, addr) in &self.peers {
            let r = upload_image(
                addr,
                &path,
                meta,
                &self.info,
                UPLOAD_IO_TIMEOUT,
                self.spnego.as_ref(),
            )
            .await;
            match &r {
                Ok(()) => info!(txid, to = %id, %addr, "uploaded the checkpoint"),
                Err(TransferError::Refused { status: 409, .. }) => {
                    info!(txid, to = %id, "{id} already has this checkpoint or a newer one")
                }
                Err(e) => warn!(txid, to = %id, "uploading the checkpoint failed: {e}"),
            }
            uploads.push((id.clone(), r));
        }
        Ok(CheckpointReport { txid, uploads })
    }

    /// Checks every `check_period` until `stop`; checkpoints when due and Standby.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(self.policy.check_period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                _ = tick.tick() => {}
            }
            if *stop.borrow() {
                return;
            }
            if !self.source.is_standby() {
                // An Active does not checkpoint here; start afresh when Standby again.
                self.last_at = Instant::now();
                continue;
            }
            let applied = self.source.applied_txid();
            let since = applied.saturating_sub(self.last_txid);
            if !self.policy.due(since, self.last_at.elapsed()) {
                continue;
            }
            if let Err(e) = self.checkpoint_now().await {
                warn!("Standby checkpoint failed: {e}");
                // Do not retry on every tick.
                self.last_at = Instant::now();
            }
        }
    }
}

/// Writes the image into every dir (crash-safely) and purges old ones; returns the
/// first dir's file and what it holds. An image already present at that txid is kept.
fn save_local(store: &ImageStore, txid: u64, body: &[u8]) -> Result<(PathBuf, ImageMeta), String> {
    let encoded = fsimage::encode(txid, body);
    let checksum = u32::from_be_bytes(
        encoded[encoded.len() - 4..]
            .try_into()
            .map_err(|_| "short image".to_string())?,
    );
    let meta = ImageMeta {
        txid,
        len: encoded.len() as u64,
        checksum,
    };
    let mut first = None;
    for d in store.dirs() {
        let p = fsimage::save(d, txid, &encoded).map_err(|e| e.to_string())?;
        first.get_or_insert(p);
    }
    store.purge().map_err(|e| e.to_string())?;
    let path = first.ok_or("no name dir")?;
    Ok((path, meta))
}

/// The HTTP server's view of a Namesystem. Weak: the HTTP side never keeps a stopped
/// NameNode's namespace (and its name dir locks) alive.
struct NamesystemBackend {
    fsn: std::sync::Weak<Namesystem>,
    info: StorageInfo,
    /// The name dirs' images, for the checkpoint figures of `/jmx`.
    store: ImageStore,
}

#[async_trait]
impl HttpBackend for NamesystemBackend {
    fn status(&self) -> NodeStatus {
        let Some(fsn) = self.fsn.upgrade() else {
            return NodeStatus {
                state: "stopped".into(),
                last_txid: 0,
            };
        };
        let state = crate::metrics::state_name(fsn.ha_state());
        NodeStatus {
            state: state.into(),
            last_txid: fsn.edit_log.last_written_txid(),
        }
    }

    fn storage_info(&self) -> StorageInfo {
        self.info.clone()
    }

    fn beans(&self) -> Vec<hafs_http::Bean> {
        let Some(fsn) = self.fsn.upgrade() else {
            return Vec::new();
        };
        crate::metrics::beans(&crate::metrics::BeanContext {
            fsn: &fsn,
            image_dirs: self.store.dirs(),
            newest_image_txid: self.store.newest_txid(),
        })
    }

    fn prometheus(&self, out: &mut hafs_http::PromText) {
        if let Some(fsn) = self.fsn.upgrade() {
            crate::metrics::prometheus(&fsn, out);
        }
    }

    async fn webhdfs(
        &self,
        req: hafs_http::Request,
        login: crate::http::webhdfs::WebLogin,
    ) -> Option<hafs_http::Response> {
        let fsn = self.fsn.upgrade()?;
        Some(crate::http::webhdfs::serve(fsn, req, login).await)
    }

    /// The walk runs on a blocking thread (it takes the namespace lock page by page)
    /// and hands its pieces over a small bounded channel, so a slow reader holds back
    /// the walk rather than filling memory.
    fn fsck(&self, req: crate::fsck::FsckRequest) -> Option<tokio::sync::mpsc::Receiver<String>> {
        let fsn = self.fsn.upgrade()?;
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        tokio::task::spawn_blocking(move || {
            crate::fsck::run(&fsn, &req, &mut |piece| tx.blocking_send(piece).is_ok());
        });
        Some(rx)
    }

    async fn image_received(&self, txid: u64, oldest_retained: Option<u64>) {
        let Some(fsn) = self.fsn.upgrade() else {
            return;
        };
        if fsn.ha_state() != HaState::Active {
            return;
        }
        let Some(oldest) = oldest_retained else {
            return;
        };
        // Keep every edit after the oldest retained image, and the extra ones asked for.
        let keep_from = (oldest + 1).saturating_sub(fsn.config.extra_edits_retained);
        if keep_from <= 1 {
            return;
        }
        match fsn
            .edit_log
            .journal()
            .purge_logs_older_than(keep_from)
            .await
        {
            Ok(()) => info!(
                txid,
                keep_from, "purged edit log segments older than the retained images"
            ),
            Err(e) => warn!("purging old edits after a checkpoint upload failed: {e}"),
        }
    }
}

/// The NameNode's HTTP server and, in an HA nameservice, its Standby checkpointer.
pub struct CheckpointServices {
    http: HttpServer,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl CheckpointServices {
    /// Binds `dfs.namenode.http-address` and starts the checkpointer when HA.
    pub async fn start(fsn: &Arc<Namesystem>) -> std::io::Result<CheckpointServices> {
        let config = &fsn.config;
        let first = config
            .name_dirs
            .first()
            .ok_or_else(|| std::io::Error::other("dfs.namenode.name.dir is empty"))?;
        let info = StorageDir::new(first.clone())
            .load(StorageType::NameNode)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let store = ImageStore::new(
            config.name_dirs.iter().map(|d| d.join("current")).collect(),
            config.checkpoints_retained,
        );
        let bind = tokio::net::lookup_host(&config.http.bind)
            .await
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("dfs.namenode.http-address {}: {e}", config.http.bind),
                )
            })?
            .next()
            .ok_or_else(|| std::io::Error::other(format!("no address for {}", config.http.bind)))?;
        let backend = Arc::new(NamesystemBackend {
            fsn: Arc::downgrade(fsn),
            info: info.clone(),
            store: store.clone(),
        });
        let mut http_config = HttpConfig::new(bind);
        http_config.security = config.http_security.clone();
        http_config.prometheus = config.prometheus;
        http_config.webhdfs = config.http.webhdfs.enabled;
        let http = HttpServer::start(http_config, store.clone(), backend)
            .await
            .map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot serve HTTP on {bind}: {e}"))
            })?;
        let (stop, stop_rx) = watch::channel(false);
        let task = config.ha.as_ref().map(|_| {
            let cp = Checkpointer::new(
                fsn.clone(),
                store,
                config.http.peers.clone(),
                info,
                CheckpointPolicy::from_config(config),
            )
            .with_spnego(config.http_security.as_ref().map(|s| s.client.clone()));
            tokio::spawn(cp.run(stop_rx))
        });
        Ok(CheckpointServices { http, stop, task })
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http.local_addr()
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.task {
            let _ = t.await;
        }
        self.http.stop().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_by_txns_or_by_period() {
        let p = CheckpointPolicy {
            txns: 100,
            period: Duration::from_secs(60),
            check_period: Duration::from_secs(1),
        };
        assert!(!p.due(0, Duration::from_secs(3600)));
        assert!(!p.due(99, Duration::from_secs(1)));
        assert!(p.due(100, Duration::ZERO));
        assert!(p.due(1, Duration::from_secs(60)));
    }
}
