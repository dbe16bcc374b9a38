//! The edit log as the Namesystem sees it across HA transitions: an Active has an open
//! [`EditLog`] (the writer), a Standby has none and instead remembers the last txid its
//! tailer applied. Handlers call the same methods in both states; writing on a Standby
//! is refused (they check the HA state first anyway, under the same namespace lock the
//! transitions take, so a write never lands in a log that is being closed).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use hafs_journal::JournalManager;
use hafs_util::latency::{HistogramSnapshot, LatencyHistogram};
use tokio::sync::watch;

use crate::edit_log::{EditLog, EditLogFailed, EditLogStats};

pub struct EditLogSlot {
    writer: RwLock<Option<Arc<EditLog>>>,
    /// The journal edits are read from (a Standby's tailer) or written to (the
    /// writer's): replaced on every transition to Active (a fresh writer epoch).
    journal: RwLock<Arc<dyn JournalManager>>,
    /// Without a writer: every txid up to this one is applied to the namespace and
    /// durable in the journal.
    applied: AtomicU64,
    /// `applied` again, for Observer reads waiting until the namespace holds a txid
    /// ([`EditLogSlot::wait_applied`]).
    applied_changes: watch::Sender<u64>,
    /// Bumped whenever the writer changes, so [`EditLogSlot::fatal`] follows it.
    generation: watch::Sender<u64>,
    /// Why the last writer failed, until the journal was read from a majority again
    /// (see [`EditLogSlot::journal_lost`]).
    journal_lost: Mutex<Option<String>>,
}

fn not_writer() -> EditLogFailed {
    EditLogFailed("this NameNode is not writing the edit log (it is not Active)".into())
}

impl EditLogSlot {
    /// A slot holding an open writer (a non-HA NameNode, or one starting Active).
    pub fn with_writer(log: Arc<EditLog>) -> EditLogSlot {
        let journal = log.journal().clone();
        let slot = EditLogSlot::standby(journal, log.last_written_txid());
        *slot.writer.write().expect("slot lock") = Some(log);
        slot
    }

    /// A slot without a writer: edits up to `applied` are in the namespace.
    pub fn standby(journal: Arc<dyn JournalManager>, applied: u64) -> EditLogSlot {
        EditLogSlot {
            writer: RwLock::new(None),
            journal: RwLock::new(journal),
            applied: AtomicU64::new(applied),
            applied_changes: watch::channel(applied).0,
            generation: watch::channel(0).0,
            journal_lost: Mutex::new(None),
        }
    }

    /// Records that the writer failed (lost its quorum, or was fenced by a newer one).
    pub fn mark_journal_lost(&self, why: &str) {
        *self.journal_lost.lock().expect("journal_lost lock") = Some(why.to_string());
    }

    /// Records that the journal answered from a majority (a tailer read succeeded).
    pub fn mark_journal_reachable(&self) {
        let mut lost = self.journal_lost.lock().expect("journal_lost lock");
        if lost.take().is_some() {
            tracing::info!("the shared edit log is readable from a majority again");
        }
    }

    /// Why this NameNode cannot use its journal: set when its writer failed, cleared
    /// by the next read that a majority answered. Until then the NameNode reports
    /// itself unhealthy, so its failover controller leaves the election — otherwise a
    /// controller that keeps its ZooKeeper lock would keep the nameservice without an
    /// Active that can write (docs/ha.md, "Cut off from the JournalNodes").
    pub fn journal_lost(&self) -> Option<String> {
        self.journal_lost.lock().expect("journal_lost lock").clone()
    }

    /// The open writer, if this NameNode is writing.
    pub fn writer(&self) -> Option<Arc<EditLog>> {
        self.writer.read().expect("slot lock").clone()
    }

    pub fn is_writing(&self) -> bool {
        self.writer.read().expect("slot lock").is_some()
    }

    /// Installs a freshly opened writer (transition to Active).
    pub fn set_writer(&self, log: Arc<EditLog>) {
        *self.journal.write().expect("slot lock") = log.journal().clone();
        *self.writer.write().expect("slot lock") = Some(log);
        self.generation.send_modify(|g| *g += 1);
    }

    /// Removes the writer (transition to Standby); `applied` is what the namespace now
    /// holds durably. Returns the writer removed.
    pub fn take_writer(&self, applied: u64) -> Option<Arc<EditLog>> {
        let w = self.writer.write().expect("slot lock").take();
        self.set_applied_txid(applied);
        self.generation.send_modify(|g| *g += 1);
        w
    }

    pub fn set_journal(&self, journal: Arc<dyn JournalManager>) {
        *self.journal.write().expect("slot lock") = journal;
    }

    /// The last txid a Standby's tailer applied.
    pub fn applied_txid(&self) -> u64 {
        self.applied.load(Ordering::SeqCst)
    }

    pub fn set_applied_txid(&self, txid: u64) {
        self.applied.store(txid, Ordering::SeqCst);
        self.applied_changes.send_replace(txid);
    }

    /// Waits until the namespace holds `txid` (applied by the tailer, or written by
    /// our writer), at most `limit`. Returns whether it does.
    pub async fn wait_applied(&self, txid: u64, limit: std::time::Duration) -> bool {
        if self.last_written_txid() >= txid {
            return true;
        }
        let mut changes = self.applied_changes.subscribe();
        let reached = tokio::time::timeout(limit, changes.wait_for(|applied| *applied >= txid));
        matches!(reached.await, Ok(Ok(_))) || self.last_written_txid() >= txid
    }

    /// Appends one edit; refused without a writer. Returns its txid and the writer
    /// that must make it durable: the caller syncs on that writer, never on whatever
    /// the slot holds later. After a step-down the slot's applied txid counts another
    /// writer's edits (tailed from the new Active), and the same txid number there is
    /// not this edit: a write the old Active logged but never made durable was once
    /// acknowledged that way (ha_shared_dir, under load).
    pub fn log(&self, payload: &[u8]) -> Result<(u64, Arc<EditLog>), EditLogFailed> {
        match &*self.writer.read().expect("slot lock") {
            Some(w) => Ok((w.log(payload)?, w.clone())),
            None => Err(not_writer()),
        }
    }

    /// Waits until `txid` — read from this slot (`last_written_txid`), not logged
    /// through it (see [`EditLogSlot::log`]) — is durable: through the writer, or, on a
    /// NameNode that is not writing, as far as it has applied.
    pub async fn sync(&self, txid: u64) -> Result<(), EditLogFailed> {
        match self.writer() {
            Some(w) => w.sync(txid).await,
            None if txid <= self.applied_txid() => Ok(()),
            None => Err(not_writer()),
        }
    }

    /// The last txid in the namespace: written by our writer, else applied by the
    /// tailer.
    pub fn last_written_txid(&self) -> u64 {
        match self.writer() {
            Some(w) => w.last_written_txid(),
            None => self.applied_txid(),
        }
    }

    pub fn synced_txid(&self) -> u64 {
        match self.writer() {
            Some(w) => w.synced_txid(),
            None => self.applied_txid(),
        }
    }

    pub fn stats(&self) -> EditLogStats {
        self.writer().map(|w| w.stats()).unwrap_or_default()
    }

    /// The writer's journal sync latency (since this NameNode last became Active; a
    /// Standby writes nothing and shows none).
    pub fn sync_latency(&self) -> HistogramSnapshot {
        self.writer()
            .map(|w| w.sync_latency())
            .unwrap_or_else(|| LatencyHistogram::new().snapshot())
    }

    pub fn journal(&self) -> Arc<dyn JournalManager> {
        self.journal.read().expect("slot lock").clone()
    }

    pub async fn roll(&self) -> Result<u64, EditLogFailed> {
        match self.writer() {
            Some(w) => w.roll().await,
            None => Err(not_writer()),
        }
    }

    /// Resolves when the current writer fails (following writer changes; never while
    /// there is none).
    pub async fn fatal(&self) -> String {
        let mut rx = self.generation.subscribe();
        loop {
            rx.borrow_and_update();
            match self.writer() {
                Some(w) => {
                    tokio::select! {
                        msg = w.fatal() => return msg,
                        r = rx.changed() => if r.is_err() { std::future::pending::<()>().await },
                    }
                }
                None => {
                    if rx.changed().await.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
            }
        }
    }

    /// Changes whenever the writer is replaced or removed.
    pub fn watch_writer_changes(&self) -> watch::Receiver<u64> {
        self.generation.subscribe()
    }

    /// Finalizes the open segment, if any (shutdown).
    pub async fn close(&self) {
        if let Some(w) = self.writer() {
            w.close().await;
        }
    }
}
