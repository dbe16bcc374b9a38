//! The block scanner: verifies every finalized replica's checksums in the background,
//! one task per volume, at most `bytes_per_second` per volume
//! (`dfs.block.scanner.volume.bytes.per.second`, 1 MiB/s by default), and reports a
//! corrupt replica once as `BlockEvent::Corrupt` on the DataNode's event channel (the
//! NameNode actors send it as `reportBadBlocks`). After a full pass over a volume it
//! waits `rescan_interval` (Hadoop's `dfs.datanode.scan.period.hours`, 3 weeks) before
//! the next.

use std::collections::HashSet;
use std::future::Future;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use crate::storage::{BlockEvent, DataNodeStorage, DnStorageError, ReplicaInfo};

#[derive(Debug, Clone)]
pub struct ScannerConfig {
    /// Bytes verified per second per volume; 0 disables the scanner (as in Hadoop).
    pub bytes_per_second: u64,
    /// Pause between full passes over a volume.
    pub rescan_interval: Duration,
    /// Pause before the first pass (lets startup and block reports go first).
    pub initial_delay: Duration,
}

impl Default for ScannerConfig {
    fn default() -> Self {
        ScannerConfig {
            bytes_per_second: 1 << 20,
            rescan_interval: Duration::from_secs(504 * 3600),
            initial_delay: Duration::from_secs(0),
        }
    }
}

/// The outcome of verifying one replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanResult {
    Healthy,
    Corrupt(String),
    /// Deleted, replaced or unreadable for reasons that are not the replica's fault.
    Skipped,
}

pub struct BlockScanner {
    storage: DataNodeStorage,
    config: ScannerConfig,
    events: mpsc::Sender<BlockEvent>,
}

impl BlockScanner {
    pub fn new(
        storage: DataNodeStorage,
        config: ScannerConfig,
        events: mpsc::Sender<BlockEvent>,
    ) -> BlockScanner {
        BlockScanner {
            storage,
            config,
            events,
        }
    }

    /// Scans every volume until `shutdown` completes.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        if self.config.bytes_per_second == 0 {
            shutdown.await;
            return;
        }
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        // A new DataNode's volumes are formatted only once a NameNode tells it the
        // cluster id, after the scanner started: look for volumes to scan now and then.
        let mut started: HashSet<String> = HashSet::new();
        tokio::pin!(shutdown);
        loop {
            for storage_id in self.storage.live_storage_ids() {
                if started.insert(storage_id.clone()) {
                    tasks.push(self.spawn_volume_scanner(storage_id, stop_rx.clone()));
                }
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(NEW_VOLUME_CHECK) => {}
            }
        }
        let _ = stop_tx.send(true);
        for t in tasks {
            let _ = t.await;
        }
    }

    fn spawn_volume_scanner(
        &self,
        storage_id: String,
        stop_rx: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let scanner = VolumeScanner {
            storage: self.storage.clone(),
            config: self.config.clone(),
            events: self.events.clone(),
            storage_id,
            reported: HashSet::new(),
            stop: stop_rx,
            pass_start: Instant::now(),
            pass_bytes: 0,
        };
        tokio::spawn(scanner.run())
    }
}

/// How often the scanner looks for volumes that came into service.
const NEW_VOLUME_CHECK: Duration = Duration::from_secs(1);

struct VolumeScanner {
    storage: DataNodeStorage,
    config: ScannerConfig,
    events: mpsc::Sender<BlockEvent>,
    storage_id: String,
    /// (block id, gen stamp) already reported corrupt: reported once.
    reported: HashSet<(u64, u64)>,
    stop: watch::Receiver<bool>,
    /// Rate budget of the current pass: bytes read since `pass_start`.
    pass_start: Instant,
    pass_bytes: u64,
}

impl VolumeScanner {
    /// Sleeps unless told to stop; false when stopping.
    async fn pause(&mut self, d: Duration) -> bool {
        if *self.stop.borrow() {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => true,
            _ = self.stop.changed() => false,
        }
    }

    async fn run(mut self) {
        if !self.pause(self.config.initial_delay).await {
            return;
        }
        loop {
            if !self.storage.live_storage_ids().contains(&self.storage_id) {
                return; // the volume failed
            }
            let replicas = self.storage.finalized_replicas(&self.storage_id);
            self.pass_start = Instant::now();
            self.pass_bytes = 0;
            tracing::debug!(storage_id = %self.storage_id, replicas = replicas.len(), "block scanner pass");
            for r in replicas {
                if self.reported.contains(&(r.block_id, r.gen_stamp)) {
                    continue;
                }
                match self.scan(&r).await {
                    None => return,
                    Some(ScanResult::Corrupt(reason)) => {
                        tracing::warn!(block = %r.block(), storage_id = %self.storage_id, %reason, "block scanner found a corrupt replica");
                        self.reported.insert((r.block_id, r.gen_stamp));
                        let e = BlockEvent::Corrupt {
                            block: r.block(),
                            storage_id: r.storage_id.clone(),
                            reason,
                        };
                        if self.events.send(e).await.is_err() {
                            return;
                        }
                    }
                    Some(_) => {}
                }
            }
            if !self.pause(self.config.rescan_interval).await {
                return;
            }
        }
    }

    /// Verifies one replica at the configured rate; `None` when stopping.
    async fn scan(&mut self, r: &ReplicaInfo) -> Option<ScanResult> {
        let storage = self.storage.clone();
        let block = r.block();
        let reader = match tokio::task::spawn_blocking(move || storage.open_for_read(&block)).await
        {
            Ok(Ok(reader)) => reader,
            Ok(Err(DnStorageError::CorruptReplica { reason, .. })) => {
                return Some(ScanResult::Corrupt(reason))
            }
            _ => return Some(ScanResult::Skipped),
        };
        let len = reader.visible_length();
        let bpc = reader.checksum().bpc();
        // Verify in steps of about a quarter second's worth of bytes, whole chunks.
        let step = (self.config.bytes_per_second / 4).clamp(bpc, 4 << 20);
        let step = (step / bpc).max(1) * bpc;
        let reader = std::sync::Arc::new(reader);
        let mut pos = 0u64;
        while pos < len {
            let n = step.min(len - pos) as usize;
            // Throttle before reading: the pass never gets ahead of bytes_per_second.
            self.pass_bytes += n as u64;
            let due = Duration::from_secs_f64(
                self.pass_bytes as f64 / self.config.bytes_per_second as f64,
            );
            let elapsed = self.pass_start.elapsed();
            if due > elapsed && !self.pause(due - elapsed).await {
                return None;
            }
            let rd = reader.clone();
            let at = pos;
            let res = tokio::task::spawn_blocking(move || {
                let (mut d, mut s) = (Vec::new(), Vec::new());
                rd.verify_range(at, n, &mut d, &mut s)
            })
            .await;
            match res {
                Ok(Ok(())) => {}
                Ok(Err(DnStorageError::CorruptReplica { reason, .. })) => {
                    return Some(ScanResult::Corrupt(reason))
                }
                _ => return Some(ScanResult::Skipped),
            }
            pos += n as u64;
            if *self.stop.borrow() {
                return None;
            }
        }
        Some(ScanResult::Healthy)
    }
}
