//! JournalSet: parallel redundant journals; failing ones are disabled, reads fall back.

use std::fs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use hafs_journal::record::encode_batch;
use hafs_journal::segment::finalized_name;
use hafs_journal::test_util::TempDir;
use hafs_journal::{
    EditLogError, EditRecord, FileJournal, JournalManager, JournalSet, SegmentInfo, StorageDir,
    StorageInfo, StorageType,
};

fn formatted(t: &TempDir, name: &str) -> StorageDir {
    let sd = StorageDir::new(t.path().join(name));
    sd.format(&StorageInfo {
        layout_version: -66,
        namespace_id: 7,
        cluster_id: "CID-set".into(),
        block_pool_id: String::new(),
        ctime: 0,
        storage_type: StorageType::NameNode,
    })
    .unwrap();
    sd
}

fn batch(first: u64, count: u64) -> Bytes {
    let p: Vec<Vec<u8>> = (first..first + count)
        .map(|t| format!("op-{t}").into_bytes())
        .collect();
    encode_batch(first, &p).unwrap()
}

fn txids(recs: &[EditRecord]) -> Vec<u64> {
    recs.iter().map(|r| r.txid).collect()
}

/// A FileJournal whose writes can be made to fail on demand.
struct Flaky {
    inner: FileJournal,
    fail: AtomicBool,
}

impl Flaky {
    fn check(&self) -> Result<(), EditLogError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(EditLogError::Io(std::io::Error::other(
                "injected disk failure",
            )));
        }
        Ok(())
    }
}

#[async_trait]
impl JournalManager for Flaky {
    fn describe(&self) -> String {
        format!("Flaky({})", self.inner.describe())
    }
    async fn recover_unfinalized_segments(&self) -> Result<u64, EditLogError> {
        self.check()?;
        self.inner.recover_unfinalized_segments().await
    }
    async fn start_log_segment(&self, first_txid: u64) -> Result<(), EditLogError> {
        self.check()?;
        self.inner.start_log_segment(first_txid).await
    }
    async fn journal(
        &self,
        first_txid: u64,
        count: u32,
        records: Bytes,
    ) -> Result<(), EditLogError> {
        self.check()?;
        self.inner.journal(first_txid, count, records).await
    }
    async fn finalize_log_segment(
        &self,
        first_txid: u64,
        last_txid: u64,
    ) -> Result<(), EditLogError> {
        self.check()?;
        self.inner.finalize_log_segment(first_txid, last_txid).await
    }
    async fn read_edits(
        &self,
        from: u64,
        max: usize,
        ip: bool,
    ) -> Result<Vec<EditRecord>, EditLogError> {
        self.check()?;
        self.inner.read_edits(from, max, ip).await
    }
    async fn list_segments(&self) -> Result<Vec<SegmentInfo>, EditLogError> {
        self.check()?;
        self.inner.list_segments().await
    }
    async fn purge_logs_older_than(&self, min: u64) -> Result<(), EditLogError> {
        self.check()?;
        self.inner.purge_logs_older_than(min).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_dir_is_disabled_and_writes_continue_on_the_other() {
    let t = TempDir::new("set-under-file");
    let good = formatted(&t, "good");
    // A storage dir "under a regular file" can never be written (works even as root).
    fs::write(t.path().join("afile"), b"x").unwrap();
    let bad = FileJournal::new(t.path().join("afile").join("nn"));
    let set = JournalSet::new(vec![
        Arc::new(bad),
        Arc::new(FileJournal::for_storage(&good)),
    ]);

    assert_eq!(set.live_count(), 2);
    // Recovery on a dir that cannot be listed fails: that journal is disabled.
    assert_eq!(set.recover_unfinalized_segments().await.unwrap(), 0);
    assert_eq!(set.live_count(), 1);
    assert!(
        !set.status()[0].1 && set.status()[1].1,
        "{:?}",
        set.status()
    );
    set.start_log_segment(1).await.unwrap();
    set.journal(1, 3, batch(1, 3)).await.unwrap();
    set.finalize_log_segment(1, 3).await.unwrap();
    assert!(good.current().join(finalized_name(1, 3)).exists());
    assert_eq!(
        txids(&set.read_edits(1, 10, false).await.unwrap()),
        vec![1, 2, 3]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_dir_fails_at_finalize_and_is_disabled() {
    let t = TempDir::new("set-removed");
    let a = formatted(&t, "a");
    let b = formatted(&t, "b");
    let set = JournalSet::new(vec![
        Arc::new(FileJournal::for_storage(&a)) as Arc<dyn JournalManager>,
        Arc::new(FileJournal::for_storage(&b)),
    ]);
    set.start_log_segment(1).await.unwrap();
    set.journal(1, 2, batch(1, 2)).await.unwrap();
    fs::remove_dir_all(a.root()).unwrap();
    set.journal(3, 1, batch(3, 1)).await.unwrap();
    set.finalize_log_segment(1, 3).await.unwrap();
    assert_eq!(set.live_count(), 1);
    assert!(!set.status()[0].1);
    set.start_log_segment(4).await.unwrap();
    set.journal(4, 1, batch(4, 1)).await.unwrap();
    assert_eq!(
        txids(&set.read_edits(1, 10, true).await.unwrap()),
        vec![1, 2, 3, 4]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_every_journal_is_an_error() {
    let t = TempDir::new("set-all-fail");
    let a = Arc::new(Flaky {
        inner: FileJournal::for_storage(&formatted(&t, "a")),
        fail: AtomicBool::new(false),
    });
    let b = Arc::new(Flaky {
        inner: FileJournal::for_storage(&formatted(&t, "b")),
        fail: AtomicBool::new(false),
    });
    let set = JournalSet::new(vec![a.clone() as Arc<dyn JournalManager>, b.clone()]);
    set.start_log_segment(1).await.unwrap();
    set.journal(1, 1, batch(1, 1)).await.unwrap();

    b.fail.store(true, Ordering::SeqCst);
    set.journal(2, 1, batch(2, 1)).await.unwrap();
    assert_eq!(set.live_count(), 1);
    // Disabled for good, even once it works again.
    b.fail.store(false, Ordering::SeqCst);
    set.journal(3, 1, batch(3, 1)).await.unwrap();
    assert_eq!(
        txids(&b.inner.read_edits(1, 10, true).await.unwrap()),
        vec![1]
    );
    assert_eq!(
        txids(&a.inner.read_edits(1, 10, true).await.unwrap()),
        vec![1, 2, 3]
    );

    a.fail.store(true, Ordering::SeqCst);
    match set.journal(4, 1, batch(4, 1)).await {
        Err(e @ EditLogError::NoLiveJournals(_)) => {
            assert!(e.to_string().contains("injected disk failure"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(set.live_count(), 0);
    assert!(matches!(
        set.journal(4, 1, batch(4, 1)).await,
        Err(EditLogError::NoLiveJournals(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_come_from_the_first_journal_that_has_the_range() {
    let t = TempDir::new("set-read");
    let a = Arc::new(FileJournal::for_storage(&formatted(&t, "a")));
    let b = Arc::new(FileJournal::for_storage(&formatted(&t, "b")));
    let set = JournalSet::new(vec![a.clone() as Arc<dyn JournalManager>, b.clone()]);
    for first in [1, 4] {
        set.start_log_segment(first).await.unwrap();
        set.journal(first, 3, batch(first, 3)).await.unwrap();
        set.finalize_log_segment(first, first + 2).await.unwrap();
    }
    // Only `a` lost its first segment: reads of 1.. fall back to `b`, reads of 4.. use `a`.
    a.purge_logs_older_than(4).await.unwrap();
    assert!(matches!(
        a.read_edits(1, 10, false).await,
        Err(EditLogError::Gap { .. })
    ));
    assert_eq!(
        txids(&set.read_edits(1, 10, false).await.unwrap()),
        vec![1, 2, 3, 4, 5, 6]
    );
    assert_eq!(
        txids(&set.read_edits(5, 10, false).await.unwrap()),
        vec![5, 6]
    );
    assert!(set.read_edits(7, 10, false).await.unwrap().is_empty());
    // Read failures do not disable a journal.
    assert_eq!(set.live_count(), 2);
    assert_eq!(set.list_segments().await.unwrap().len(), 1);
    assert!(set.describe().starts_with("JournalSet[FileJournal("));
}
