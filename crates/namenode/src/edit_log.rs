//! The NameNode's edit log with group commit.
//!
//! A mutation is applied to the namespace and its edit appended to an in-memory buffer
//! while the namespace write lock is held (so txid order is apply order); the lock is
//! then released and the handler waits in [`EditLog::sync`] until its txid is durable.
//! One syncer task drains the buffer into the journal: every edit that arrived while the
//! previous batch was being written goes out in the next one, so many calls share one
//! journal round trip (fsync, or a quorum write) and the namespace lock is never held
//! across it.
//!
//! A failed journal write is fatal: the namespace in memory already holds edits that are
//! not durable, so the NameNode must stop (as Hadoop's does) rather than answer anything
//! else. [`EditLog::fatal`] reports it to the process.

use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use hafs_journal::{record, JournalManager};
use tokio::sync::{watch, Notify};
use tracing::{error, info};

/// Upper bound on one journal write, so a burst does not build one huge batch.
const MAX_BATCH_BYTES: usize = 8 << 20;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncState {
    /// Every txid up to this one is durable.
    pub synced_txid: u64,
    /// Set once a journal write failed; the log accepts nothing after it.
    pub failed: Option<String>,
}

#[derive(thiserror::Error, Debug, Clone)]
#[error("edit log failed: {0}")]
pub struct EditLogFailed(pub String);

struct Pending {
    /// Next txid to assign.
    next_txid: u64,
    /// Encoded records not yet handed to the syncer, starting at `first`.
    buf: BytesMut,
    first: u64,
    count: u32,
    /// First txid of the open segment.
    segment_first: u64,
    roll_requested: bool,
}

/// Counters an operator (and the benchmark) can read.
#[derive(Default, Debug, Clone, Copy)]
pub struct EditLogStats {
    pub txns: u64,
    pub syncs: u64,
}

pub struct EditLog {
    pending: Mutex<Pending>,
    wake: Notify,
    state: watch::Sender<SyncState>,
    journal: Arc<dyn JournalManager>,
    stats: Mutex<EditLogStats>,
}

impl EditLog {
    /// Opens a new segment at `next_txid` (everything before it is already durable and
    /// finalized) and starts the syncer task.
    pub async fn open(
        journal: Arc<dyn JournalManager>,
        next_txid: u64,
    ) -> Result<Arc<EditLog>, EditLogFailed> {
        assert!(next_txid >= 1, "txids start at 1");
        journal
            .start_log_segment(next_txid)
            .await
            .map_err(|e| EditLogFailed(e.to_string()))?;
        let (state, _) = watch::channel(SyncState {
            synced_txid: next_txid - 1,
            failed: None,
        });
        let log = Arc::new(EditLog {
            pending: Mutex::new(Pending {
                next_txid,
                buf: BytesMut::new(),
                first: next_txid,
                count: 0,
                segment_first: next_txid,
                roll_requested: false,
            }),
            wake: Notify::new(),
            state,
            journal,
            stats: Mutex::new(EditLogStats::default()),
        });
        let syncer = log.clone();
        tokio::spawn(async move { syncer.run_syncer().await });
        Ok(log)
    }

    /// Appends one edit and returns its txid. Call with the namespace write lock held,
    /// right after applying the op, so that txids follow apply order.
    pub fn log(&self, payload: &[u8]) -> Result<u64, EditLogFailed> {
        if let Some(f) = &self.state.borrow().failed {
            return Err(EditLogFailed(f.clone()));
        }
        let mut p = self.pending.lock().expect("edit log lock");
        let txid = p.next_txid;
        record::encode(&mut p.buf, txid, payload).map_err(|e| EditLogFailed(e.to_string()))?;
        if p.count == 0 {
            p.first = txid;
        }
        p.count += 1;
        p.next_txid += 1;
        drop(p);
        self.wake.notify_one();
        Ok(txid)
    }

    pub fn journal(&self) -> &Arc<dyn JournalManager> {
        &self.journal
    }

    /// The txid of the last edit appended (durable or not).
    pub fn last_written_txid(&self) -> u64 {
        self.pending.lock().expect("edit log lock").next_txid - 1
    }

    pub fn synced_txid(&self) -> u64 {
        self.state.borrow().synced_txid
    }

    pub fn stats(&self) -> EditLogStats {
        *self.stats.lock().expect("stats lock")
    }

    /// Waits until `txid` is durable.
    pub async fn sync(&self, txid: u64) -> Result<(), EditLogFailed> {
        let mut rx = self.state.subscribe();
        let s = rx
            .wait_for(|s| s.synced_txid >= txid || s.failed.is_some())
            .await
            .map_err(|_| EditLogFailed("edit log closed".into()))?;
        match &s.failed {
            Some(f) if s.synced_txid < txid => Err(EditLogFailed(f.clone())),
            _ => Ok(()),
        }
    }

    /// Resolves when the log has failed (the NameNode must exit).
    pub async fn fatal(&self) -> String {
        let mut rx = self.state.subscribe();
        let r = match rx.wait_for(|s| s.failed.is_some()).await {
            Ok(s) => s.failed.clone().unwrap_or_default(),
            Err(_) => "edit log closed".into(),
        };
        r
    }

    /// Finalizes the open segment after everything logged so far and starts the next.
    /// Returns once the roll is done: all txids up to the returned one are in finalized
    /// segments.
    pub async fn roll(&self) -> Result<u64, EditLogFailed> {
        let upto = {
            let mut p = self.pending.lock().expect("edit log lock");
            p.roll_requested = true;
            p.next_txid - 1
        };
        self.wake.notify_one();
        self.sync(upto).await?;
        // The roll happens in the syncer after the flush that made `upto` durable; wait
        // until it has taken the request.
        let mut rx = self.state.subscribe();
        loop {
            if !self.pending.lock().expect("edit log lock").roll_requested {
                return Ok(upto);
            }
            let failed = rx.borrow().failed.clone();
            if let Some(f) = failed {
                return Err(EditLogFailed(f));
            }
            // Bounded: the syncer clears the flag on its next pass, which `notify` starts.
            self.wake.notify_one();
            let _ = tokio::time::timeout(std::time::Duration::from_millis(50), rx.changed()).await;
        }
    }

    async fn run_syncer(self: Arc<Self>) {
        loop {
            self.wake.notified().await;
            // Drain everything that is pending, batch by batch.
            loop {
                let (first, count, bytes, roll) = self.take_batch();
                if count > 0 {
                    if let Err(e) = self.journal.journal(first, count, bytes).await {
                        self.fail(format!("journal write of txids {first}..: {e}"));
                        return;
                    }
                    {
                        let mut s = self.stats.lock().expect("stats lock");
                        s.txns += count as u64;
                        s.syncs += 1;
                    }
                    let last = first + count as u64 - 1;
                    self.state.send_modify(|s| s.synced_txid = last);
                }
                if let Some((seg_first, seg_last)) = roll {
                    if let Err(e) = self.do_roll(seg_first, seg_last).await {
                        self.fail(format!("rolling the edit log at txid {seg_last}: {e}"));
                        return;
                    }
                    continue;
                }
                if count == 0 {
                    break;
                }
            }
        }
    }

    /// Takes the next batch; if a roll was requested and this batch empties the buffer,
    /// also returns the segment to finalize.
    fn take_batch(&self) -> (u64, u32, Bytes, Option<(u64, u64)>) {
        let mut p = self.pending.lock().expect("edit log lock");
        let (first, count) = (p.first, p.count);
        let bytes = if p.buf.len() <= MAX_BATCH_BYTES {
            p.count = 0;
            p.buf.split().freeze()
        } else {
            // Cut at a record boundary: records are self-delimiting.
            let mut cut = 0usize;
            let mut n = 0u32;
            while cut < MAX_BATCH_BYTES && n < p.count {
                let head = p.buf[cut..]
                    .first_chunk::<{ record::RECORD_HEADER_LEN }>()
                    .expect("own records are complete");
                let header = record::RecordHeader::parse(head).expect("own records are valid");
                cut += header.record_len();
                n += 1;
            }
            p.first += n as u64;
            p.count -= n;
            return (first, n, p.buf.split_to(cut).freeze(), None);
        };
        let roll = if p.roll_requested && p.next_txid > p.segment_first {
            let seg = (p.segment_first, p.next_txid - 1);
            p.segment_first = p.next_txid;
            Some(seg)
        } else {
            None
        };
        if p.roll_requested && roll.is_none() {
            // Nothing written since the last roll: nothing to finalize.
            p.roll_requested = false;
        }
        (first, count, bytes, roll)
    }

    async fn do_roll(&self, seg_first: u64, seg_last: u64) -> Result<(), String> {
        self.journal
            .finalize_log_segment(seg_first, seg_last)
            .await
            .map_err(|e| e.to_string())?;
        self.journal
            .start_log_segment(seg_last + 1)
            .await
            .map_err(|e| e.to_string())?;
        info!(seg_first, seg_last, "rolled edit log");
        self.pending.lock().expect("edit log lock").roll_requested = false;
        self.state.send_modify(|_| {});
        Ok(())
    }

    fn fail(&self, msg: String) {
        error!("{msg}; the NameNode cannot make edits durable and must stop");
        self.state.send_modify(|s| s.failed = Some(msg));
    }

    /// Finalizes the open segment at shutdown (best effort: an in-progress segment is
    /// recovered at the next start anyway).
    pub async fn close(&self) {
        let _ = self.roll().await;
    }
}
