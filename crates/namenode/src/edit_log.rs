//! The NameNode's edit log with group commit.
//!
//! A mutation is applied to the namespace and its edit appended to an in-memory buffer
//! while the namespace write lock is held (so txid order is apply order); the lock is
//! then released and the handler waits in [`EditLog::sync`] until its txid is durable.
//! One syncer drains the buffer into the journal: every edit that arrived while the
//! previous batch was being written goes out in the next one, so many calls share one
//! journal round trip (fsync, or a quorum write) and the namespace lock is never held
//! across it.
//!
//! The syncer is a dedicated OS thread, not a task: a group commit then never waits in
//! the runtime's run queue behind the very calls it is holding up, and the next batch
//! starts as soon as the previous one is durable. It drives the (async) journal with
//! `Handle::block_on`; a local `FileJournal` does its IO right on this thread (see
//! [`hafs_journal::file_journal::allow_inline_io`]).
//!
//! Waiters are grouped by batch: those whose edits are in the batch being written wait
//! on that batch's `Notify`, the rest on the next one's, so finishing a sync wakes only
//! the calls it made durable.
//!
//! A failed journal write is fatal: the namespace in memory already holds edits that are
//! not durable, so the NameNode must stop (as Hadoop's does) rather than answer anything
//! else. [`EditLog::fatal`] reports it to the process.
//!
//! Invariants checked in every build (`hafs_util::invariant!`: a violation stops the
//! NameNode, docs/architecture.md "Failure policy"): txids are handed out consecutively
//! and only go up, above everything already durable; the syncer writes batches that
//! continue exactly where the last durable txid ended.
//!
//! Test hook: [`TRIP_INVARIANT_ENV`] (`HAFS_TEST_TRIP_INVARIANT_AFTER_EDITS=N`) makes an
//! edit log fail an invariant check on the edit after its first N, as a bug would. It
//! exists for the failure-policy process test (crates/tests/tests/invariant_failover.rs:
//! the Active stops with the invariant exit status and its peer takes over); nothing
//! else sets it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use bytes::{Bytes, BytesMut};
use hafs_journal::{record, EditLogError, JournalManager};
use hafs_util::invariant;
use hafs_util::latency::{HistogramSnapshot, LatencyHistogram};
use tokio::runtime::Handle;
use tokio::sync::{watch, Notify};
use tracing::{error, info, warn};

/// The failure-policy test hook (see the module doc): an edit log of a process started
/// with this variable set to N breaks an invariant on its (N+1)-th edit.
pub const TRIP_INVARIANT_ENV: &str = "HAFS_TEST_TRIP_INVARIANT_AFTER_EDITS";

/// Upper bound on one journal write, so a burst does not build one huge batch.
const MAX_BATCH_BYTES: usize = 8 << 20;

/// What [`EditLog::fatal`] and [`EditLog::roll`] watch. It changes only on a roll or a
/// failure, never per sync, so watchers are not woken by ordinary group commits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncState {
    /// Number of rolls completed.
    pub rolls: u64,
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
    /// Woken when the records now in `buf` are durable (or the log failed).
    gathering: Arc<Notify>,
    /// The batch being written: its last txid and its waiters.
    writing: Option<(u64, Arc<Notify>)>,
    /// The syncer is asleep on `Shared::work` and needs a signal for new work.
    syncer_idle: bool,
    /// The `EditLog` is gone: the syncer exits.
    shutdown: bool,
    failed: Option<String>,
}

/// Counters an operator (and the benchmark) can read.
#[derive(Default, Debug, Clone, Copy)]
pub struct EditLogStats {
    pub txns: u64,
    pub syncs: u64,
}

/// What the syncer thread shares with the handle.
struct Shared {
    pending: Mutex<Pending>,
    /// Signals the idle syncer that there is work.
    work: Condvar,
    /// Every txid up to this one is durable.
    synced: AtomicU64,
    state: watch::Sender<SyncState>,
    journal: Arc<dyn JournalManager>,
    stats: Mutex<EditLogStats>,
    /// How long each batch took to become durable in the journal (a quorum write of
    /// the JournalNodes in HA, a local fsync otherwise).
    sync_latency: LatencyHistogram,
    /// The first txid of this edit log.
    opened_at: u64,
    /// [`TRIP_INVARIANT_ENV`], when set: trip after this many edits.
    trip_after: Option<u64>,
}

pub struct EditLog {
    shared: Arc<Shared>,
}

fn lock(m: &Mutex<Pending>) -> MutexGuard<'_, Pending> {
    m.lock().expect("edit log lock")
}

impl EditLog {
    /// Opens a new segment at `next_txid` (everything before it is already durable and
    /// finalized) and starts the syncer thread. Must be called inside a tokio runtime,
    /// which the syncer uses to drive the journal.
    pub async fn open(
        journal: Arc<dyn JournalManager>,
        next_txid: u64,
    ) -> Result<Arc<EditLog>, EditLogFailed> {
        invariant!(
            next_txid >= 1,
            "edit log opened at txid {next_txid}: txids start at 1"
        );
        let trip_after = std::env::var(TRIP_INVARIANT_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok());
        if let Some(n) = trip_after {
            warn!("test hook {TRIP_INVARIANT_ENV}={n}: this edit log will break an invariant after {n} edits");
        }
        journal
            .start_log_segment(next_txid)
            .await
            .map_err(|e| EditLogFailed(e.to_string()))?;
        let (state, _) = watch::channel(SyncState {
            rolls: 0,
            failed: None,
        });
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending {
                next_txid,
                buf: BytesMut::new(),
                first: next_txid,
                count: 0,
                segment_first: next_txid,
                roll_requested: false,
                gathering: Arc::new(Notify::new()),
                writing: None,
                syncer_idle: false,
                shutdown: false,
                failed: None,
            }),
            work: Condvar::new(),
            synced: AtomicU64::new(next_txid - 1),
            state,
            journal,
            stats: Mutex::new(EditLogStats::default()),
            sync_latency: LatencyHistogram::new(),
            opened_at: next_txid,
            trip_after,
        });
        let syncer = shared.clone();
        let handle = Handle::current();
        std::thread::Builder::new()
            .name("edit-log-syncer".into())
            .spawn(move || syncer.run_syncer(handle))
            .map_err(|e| EditLogFailed(format!("cannot start the edit log syncer: {e}")))?;
        Ok(Arc::new(EditLog { shared }))
    }

    /// Appends one edit and returns its txid. Call with the namespace write lock held,
    /// right after applying the op, so that txids follow apply order.
    pub fn log(&self, payload: &[u8]) -> Result<u64, EditLogFailed> {
        let mut p = lock(&self.shared.pending);
        if let Some(f) = &p.failed {
            return Err(EditLogFailed(f.clone()));
        }
        let txid = p.next_txid;
        // Txids only go up: the next one is above everything durable, and the buffer
        // holds consecutive txids ending just below it.
        invariant!(
            txid > self.synced_txid(),
            "edit log: txid {txid} handed out but txid {} is already durable",
            self.synced_txid()
        );
        invariant!(
            p.count == 0 || p.first + u64::from(p.count) == txid,
            "edit log: buffer holds {} edits from txid {}, next txid {txid}",
            p.count,
            p.first
        );
        if let Some(n) = self.shared.trip_after {
            invariant!(
                txid < self.shared.opened_at + n,
                "test hook {TRIP_INVARIANT_ENV}={n}: breaking the edit log's invariant at txid {txid}"
            );
        }
        record::encode(&mut p.buf, txid, payload).map_err(|e| EditLogFailed(e.to_string()))?;
        if p.count == 0 {
            p.first = txid;
        }
        p.count += 1;
        p.next_txid += 1;
        self.wake_syncer(p);
        Ok(txid)
    }

    /// Signals the syncer if it is asleep (a busy syncer picks the work up by itself).
    fn wake_syncer(&self, mut p: MutexGuard<'_, Pending>) {
        if p.syncer_idle {
            p.syncer_idle = false;
            drop(p);
            self.shared.work.notify_one();
        }
    }

    pub fn journal(&self) -> &Arc<dyn JournalManager> {
        &self.shared.journal
    }

    /// The txid of the last edit appended (durable or not).
    pub fn last_written_txid(&self) -> u64 {
        lock(&self.shared.pending).next_txid - 1
    }

    pub fn synced_txid(&self) -> u64 {
        self.shared.synced.load(Ordering::SeqCst)
    }

    pub fn stats(&self) -> EditLogStats {
        *self.shared.stats.lock().expect("stats lock")
    }

    /// Journal write latency per batch (group commit).
    pub fn sync_latency(&self) -> HistogramSnapshot {
        self.shared.sync_latency.snapshot()
    }

    /// Waits until `txid` is durable.
    pub async fn sync(&self, txid: u64) -> Result<(), EditLogFailed> {
        loop {
            let batch = {
                let p = lock(&self.shared.pending);
                if self.synced_txid() >= txid {
                    return Ok(());
                }
                if let Some(f) = &p.failed {
                    return Err(EditLogFailed(f.clone()));
                }
                if txid >= p.next_txid {
                    return Err(EditLogFailed(format!(
                        "txid {txid} was never logged (last is {})",
                        p.next_txid - 1
                    )));
                }
                match &p.writing {
                    Some((last, n)) if txid <= *last => n.clone(),
                    _ => p.gathering.clone(),
                }
            };
            let notified = batch.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            // The syncer publishes `synced` before notifying; anything published before
            // `enable` is seen here, anything after wakes us.
            if self.synced_txid() >= txid {
                return Ok(());
            }
            if lock(&self.shared.pending).failed.is_some() {
                continue;
            }
            notified.await;
        }
    }

    /// Resolves when the log has failed (the NameNode must exit).
    pub async fn fatal(&self) -> String {
        let mut rx = self.shared.state.subscribe();
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
        let mut rx = self.shared.state.subscribe();
        let upto = {
            let mut p = lock(&self.shared.pending);
            if let Some(f) = &p.failed {
                return Err(EditLogFailed(f.clone()));
            }
            p.roll_requested = true;
            let upto = p.next_txid - 1;
            self.wake_syncer(p);
            upto
        };
        loop {
            // The syncer clears the flag (and bumps `rolls`) once it has finalized the
            // segment holding everything up to `upto`, or found nothing to finalize.
            {
                let p = lock(&self.shared.pending);
                if let Some(f) = &p.failed {
                    return Err(EditLogFailed(f.clone()));
                }
                if !p.roll_requested {
                    return Ok(upto);
                }
            }
            if rx.changed().await.is_err() {
                return Err(EditLogFailed("edit log closed".into()));
            }
        }
    }

    /// Finalizes the open segment at shutdown (best effort: an in-progress segment is
    /// recovered at the next start anyway).
    pub async fn close(&self) {
        let _ = self.roll().await;
    }
}

impl Drop for EditLog {
    fn drop(&mut self) {
        lock(&self.shared.pending).shutdown = true;
        self.shared.work.notify_one();
    }
}

/// One unit of work for the syncer.
struct Batch {
    first: u64,
    count: u32,
    bytes: Bytes,
    waiters: Arc<Notify>,
    /// A segment to finalize after this batch (a roll).
    roll: Option<(u64, u64)>,
    /// A roll was requested but nothing was written since the last one.
    empty_roll: bool,
}

impl Shared {
    fn run_syncer(self: Arc<Self>, rt: Handle) {
        // This thread exists to block on journal IO; let a local journal do it here
        // instead of handing every batch to another thread.
        hafs_journal::file_journal::allow_inline_io();
        loop {
            let Some(batch) = self.next_batch() else {
                return;
            };
            if batch.count > 0 {
                let (first, count) = (batch.first, batch.count);
                let started = std::time::Instant::now();
                let write = || rt.block_on(self.journal.journal(first, count, batch.bytes));
                // A panic in a journal must fail the log, not leave its waiters hanging.
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(write))
                    .unwrap_or_else(|_| Err(EditLogError::TaskFailed("journal panicked".into())));
                if let Err(e) = r {
                    self.fail(format!("journal write of txids {first}..: {e}"));
                    return;
                }
                self.sync_latency.record(started.elapsed());
                {
                    let mut s = self.stats.lock().expect("stats lock");
                    s.txns += count as u64;
                    s.syncs += 1;
                }
                let last = first + count as u64 - 1;
                // Durable txids only go up, batch after consecutive batch.
                let synced = self.synced.load(Ordering::SeqCst);
                invariant!(
                    first == synced + 1,
                    "edit log: batch {first}..={last} written after txid {synced} was durable"
                );
                self.synced.store(last, Ordering::SeqCst);
                {
                    let mut p = lock(&self.pending);
                    if matches!(p.writing, Some((l, _)) if l == last) {
                        p.writing = None;
                    }
                }
                batch.waiters.notify_waiters();
            }
            if let Some((seg_first, seg_last)) = batch.roll {
                let roll = || rt.block_on(self.do_roll(seg_first, seg_last));
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(roll))
                    .unwrap_or_else(|_| Err("journal panicked".into()));
                if let Err(e) = r {
                    self.fail(format!("rolling the edit log at txid {seg_last}: {e}"));
                    return;
                }
                self.roll_done();
            } else if batch.empty_roll {
                self.roll_done();
            }
        }
    }

    /// Sleeps until there is something to write or roll; `None` means exit.
    fn next_batch(&self) -> Option<Batch> {
        let mut p = lock(&self.pending);
        loop {
            if p.shutdown || p.failed.is_some() {
                return None;
            }
            if p.count > 0 || p.roll_requested {
                return Some(Self::take_batch(&mut p));
            }
            p.syncer_idle = true;
            p = self.work.wait(p).expect("edit log lock");
            p.syncer_idle = false;
        }
    }

    /// Takes the next batch; if a roll was requested and this batch empties the buffer,
    /// also returns the segment to finalize.
    fn take_batch(p: &mut Pending) -> Batch {
        let (first, count) = (p.first, p.count);
        if p.buf.len() > MAX_BATCH_BYTES {
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
            // The waiters of the whole buffer stay on `gathering` (they re-check after
            // a wake-up), so this part gets its own, empty, set.
            let waiters = Arc::new(Notify::new());
            p.writing = Some((first + n as u64 - 1, waiters.clone()));
            return Batch {
                first,
                count: n,
                bytes: p.buf.split_to(cut).freeze(),
                waiters,
                roll: None,
                empty_roll: false,
            };
        }
        p.count = 0;
        let bytes = p.buf.split().freeze();
        let waiters = std::mem::replace(&mut p.gathering, Arc::new(Notify::new()));
        if count > 0 {
            p.writing = Some((first + count as u64 - 1, waiters.clone()));
        }
        let roll = if p.roll_requested && p.next_txid > p.segment_first {
            let seg = (p.segment_first, p.next_txid - 1);
            p.segment_first = p.next_txid;
            Some(seg)
        } else {
            None
        };
        Batch {
            first,
            count,
            bytes,
            waiters,
            empty_roll: p.roll_requested && roll.is_none(),
            roll,
        }
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
        Ok(())
    }

    fn roll_done(&self) {
        lock(&self.pending).roll_requested = false;
        self.state.send_modify(|s| s.rolls += 1);
    }

    fn fail(&self, msg: String) {
        error!("{msg}; the NameNode cannot make edits durable and must stop");
        let waiters = {
            let mut p = lock(&self.pending);
            p.failed = Some(msg.clone());
            let mut w = vec![p.gathering.clone()];
            w.extend(p.writing.take().map(|(_, n)| n));
            w
        };
        for n in waiters {
            n.notify_waiters();
        }
        self.state.send_modify(|s| s.failed = Some(msg));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use hafs_journal::{EditRecord, SegmentInfo};
    use std::time::Duration;

    /// A journal that records what it is asked to do, takes `delay` per write (like an
    /// fsync) and fails writes once `fail` is set.
    #[derive(Default)]
    struct FakeJournal {
        writes: Mutex<Vec<(u64, u32)>>,
        calls: Mutex<Vec<String>>,
        fail: std::sync::atomic::AtomicBool,
        delay: Duration,
    }

    #[async_trait]
    impl JournalManager for FakeJournal {
        fn describe(&self) -> String {
            "FakeJournal".into()
        }
        async fn recover_unfinalized_segments(&self) -> Result<u64, EditLogError> {
            Ok(0)
        }
        async fn start_log_segment(&self, first: u64) -> Result<(), EditLogError> {
            self.calls.lock().unwrap().push(format!("start {first}"));
            Ok(())
        }
        async fn journal(
            &self,
            first: u64,
            count: u32,
            records: Bytes,
        ) -> Result<(), EditLogError> {
            std::thread::sleep(self.delay);
            if self.fail.load(Ordering::SeqCst) {
                return Err(EditLogError::TaskFailed("disk on fire".into()));
            }
            record::check_batch(&records, first, count).expect("well-formed batch");
            self.writes.lock().unwrap().push((first, count));
            Ok(())
        }
        async fn finalize_log_segment(&self, first: u64, last: u64) -> Result<(), EditLogError> {
            self.calls
                .lock()
                .unwrap()
                .push(format!("finalize {first}-{last}"));
            Ok(())
        }
        async fn read_edits(
            &self,
            _: u64,
            _: usize,
            _: bool,
        ) -> Result<Vec<EditRecord>, EditLogError> {
            Ok(Vec::new())
        }
        async fn list_segments(&self) -> Result<Vec<SegmentInfo>, EditLogError> {
            Ok(Vec::new())
        }
        async fn purge_logs_older_than(&self, _: u64) -> Result<(), EditLogError> {
            Ok(())
        }
    }

    fn fake(delay_ms: u64) -> Arc<FakeJournal> {
        Arc::new(FakeJournal {
            delay: Duration::from_millis(delay_ms),
            ..Default::default()
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writers_share_journal_writes_in_txid_order() {
        let j = fake(2);
        let log = EditLog::open(j.clone(), 10).await.unwrap();
        let mut tasks = Vec::new();
        for t in 0..8 {
            let log = log.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..25 {
                    let txid = log.log(format!("op {t} {i}").as_bytes()).unwrap();
                    log.sync(txid).await.unwrap();
                    assert!(log.synced_txid() >= txid);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let writes = j.writes.lock().unwrap().clone();
        let total: u32 = writes.iter().map(|w| w.1).sum();
        assert_eq!(total, 200);
        assert!(
            writes.len() < 200,
            "no group commit: {} writes",
            writes.len()
        );
        let mut next = 10;
        for (first, count) in writes {
            assert_eq!(first, next, "batches must be contiguous");
            next += count as u64;
        }
        assert_eq!(log.synced_txid(), 209);
        assert_eq!(log.last_written_txid(), 209);
        assert_eq!(log.stats().txns, 200);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_write_fails_waiters_later_edits_and_reports_fatal() {
        let j = fake(20);
        let log = EditLog::open(j.clone(), 1).await.unwrap();
        let ok = log.log(b"a").unwrap();
        log.sync(ok).await.unwrap();
        j.fail.store(true, Ordering::SeqCst);
        let txid = log.log(b"b").unwrap();
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let log = log.clone();
                tokio::spawn(async move { log.sync(txid).await })
            })
            .collect();
        for w in waiters {
            let r = tokio::time::timeout(Duration::from_secs(10), w).await;
            let err = r.expect("waiter must not hang").unwrap().unwrap_err();
            assert!(err.0.contains("disk on fire"), "{err}");
        }
        let fatal = tokio::time::timeout(Duration::from_secs(10), log.fatal())
            .await
            .expect("fatal must resolve");
        assert!(fatal.contains("disk on fire"), "{fatal}");
        assert!(log.log(b"c").is_err(), "a failed log accepts nothing");
        assert!(log.roll().await.is_err());
        assert_eq!(log.synced_txid(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn roll_finalizes_what_was_written_and_opens_the_next_segment() {
        let j = fake(0);
        let log = EditLog::open(j.clone(), 5).await.unwrap();
        for p in [&b"x"[..], b"y", b"z"] {
            log.log(p).unwrap();
        }
        assert_eq!(log.roll().await.unwrap(), 7);
        assert_eq!(log.synced_txid(), 7);
        // Nothing new: a second roll has nothing to finalize.
        assert_eq!(log.roll().await.unwrap(), 7);
        let t = log.log(b"w").unwrap();
        log.sync(t).await.unwrap();
        assert_eq!(t, 8);
        let calls = j.calls.lock().unwrap().clone();
        assert_eq!(calls, vec!["start 5", "finalize 5-7", "start 8"]);
    }
}
