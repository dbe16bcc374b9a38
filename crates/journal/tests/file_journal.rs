//! FileJournal: segment lifecycle, reading, gaps, torn-tail recovery and corruption.

use std::fs;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use hafs_journal::record::encode_batch;
use hafs_journal::segment::{finalized_name, in_progress_name, SEGMENT_HEADER_LEN};
use hafs_journal::test_util::TempDir;
use hafs_journal::{
    EditLogError, FileJournal, JournalManager, StorageDir, StorageInfo, StorageType,
};
use hafs_util::XorShift64;

fn formatted(t: &TempDir, name: &str) -> StorageDir {
    let sd = StorageDir::new(t.path().join(name));
    sd.format(&StorageInfo {
        layout_version: -66,
        namespace_id: 1,
        cluster_id: "CID-test".into(),
        block_pool_id: String::new(),
        ctime: 0,
        storage_type: StorageType::NameNode,
    })
    .unwrap();
    sd
}

fn payload(txid: u64) -> Vec<u8> {
    format!("op-{txid}").into_bytes()
}

fn batch(first: u64, count: u64) -> Bytes {
    let p: Vec<Vec<u8>> = (first..first + count).map(payload).collect();
    encode_batch(first, &p).unwrap()
}

async fn txids(j: &FileJournal, from: u64, max: usize, in_progress: bool) -> Vec<u64> {
    j.read_edits(from, max, in_progress)
        .await
        .unwrap()
        .iter()
        .map(|r| r.txid)
        .collect()
}

#[tokio::test]
async fn write_finalize_list_read_purge() {
    let t = TempDir::new("fj-lifecycle");
    let j = FileJournal::for_storage(&formatted(&t, "nn"));
    assert_eq!(j.recover_unfinalized_segments().await.unwrap(), 0);
    j.start_log_segment(1).await.unwrap();
    j.journal(1, 3, batch(1, 3)).await.unwrap();
    j.journal(4, 2, batch(4, 2)).await.unwrap();
    j.finalize_log_segment(1, 5).await.unwrap();
    j.start_log_segment(6).await.unwrap();
    j.journal(6, 1, batch(6, 1)).await.unwrap();

    let segs = j.list_segments().await.unwrap();
    assert_eq!(segs.len(), 2);
    assert_eq!(
        (segs[0].first_txid, segs[0].last_txid, segs[0].in_progress),
        (1, Some(5), false)
    );
    assert!(segs[0].location.ends_with(&finalized_name(1, 5)));
    assert_eq!(
        (segs[1].first_txid, segs[1].last_txid, segs[1].in_progress),
        (6, None, true)
    );
    assert!(segs[1].location.ends_with(&in_progress_name(6)));

    assert_eq!(txids(&j, 1, 100, false).await, vec![1, 2, 3, 4, 5]);
    assert_eq!(txids(&j, 1, 100, true).await, vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(txids(&j, 3, 2, true).await, vec![3, 4]);
    assert_eq!(txids(&j, 7, 100, true).await, Vec::<u64>::new());
    let recs = j.read_edits(2, 1, false).await.unwrap();
    assert_eq!(&recs[0].payload[..], &payload(2)[..]);

    // Streaming in batches of two sees everything once, in order.
    let mut all = Vec::new();
    let mut from = 1;
    loop {
        let got = j.read_edits(from, 2, true).await.unwrap();
        if got.is_empty() {
            break;
        }
        assert!(got.len() <= 2);
        from = got.last().unwrap().txid + 1;
        all.extend(got.into_iter().map(|r| (r.txid, r.payload)));
    }
    let expected: Vec<(u64, Bytes)> = (1..=6).map(|t| (t, Bytes::from(payload(t)))).collect();
    assert_eq!(all, expected);

    j.finalize_log_segment(6, 6).await.unwrap();
    j.purge_logs_older_than(6).await.unwrap();
    let segs = j.list_segments().await.unwrap();
    assert_eq!(
        segs.iter()
            .map(|s| (s.first_txid, s.last_txid))
            .collect::<Vec<_>>(),
        vec![(6, Some(6))]
    );
    match j.read_edits(1, 10, false).await {
        Err(EditLogError::Gap { from: 1, to: 5, .. }) => {}
        other => panic!("expected a gap 1..=5, got {other:?}"),
    }
    assert_eq!(txids(&j, 6, 10, false).await, vec![6]);
}

#[tokio::test]
async fn misuse_is_an_error_not_a_panic() {
    let t = TempDir::new("fj-misuse");
    let j = FileJournal::for_storage(&formatted(&t, "nn"));
    let illegal = |r: Result<(), EditLogError>| matches!(r, Err(EditLogError::IllegalState { .. }));
    assert!(illegal(j.journal(1, 1, batch(1, 1)).await));
    j.start_log_segment(1).await.unwrap();
    assert!(illegal(j.start_log_segment(5).await));
    assert!(illegal(j.journal(2, 1, batch(2, 1)).await));
    assert!(illegal(j.journal(1, 2, batch(1, 1)).await));
    assert!(illegal(
        j.journal(1, 1, Bytes::from_static(b"garbage")).await
    ));
    j.journal(1, 2, batch(1, 2)).await.unwrap();
    assert!(illegal(j.finalize_log_segment(1, 3).await));
    assert!(illegal(j.finalize_log_segment(1, 0).await));
    assert!(illegal(j.recover_unfinalized_segments().await.map(|_| ())));
    j.finalize_log_segment(1, 2).await.unwrap();
    // Overlapping a finalized segment is refused.
    assert!(illegal(j.start_log_segment(2).await));
    // Unformatted dir: the error names the path.
    let missing = FileJournal::new(t.path().join("never-formatted"));
    let err = missing.start_log_segment(1).await.unwrap_err();
    assert!(err.to_string().contains("never-formatted"), "{err}");
}

#[tokio::test]
async fn gap_in_the_middle_names_the_missing_range() {
    let t = TempDir::new("fj-gap");
    let j = FileJournal::for_storage(&formatted(&t, "nn"));
    for first in [1, 6, 11] {
        j.start_log_segment(first).await.unwrap();
        j.journal(first, 5, batch(first, 5)).await.unwrap();
        j.finalize_log_segment(first, first + 4).await.unwrap();
    }
    fs::remove_file(j.dir().join(finalized_name(6, 10))).unwrap();
    for (from, max) in [(1, 2), (3, 100)] {
        match j.read_edits(from, max, false).await {
            Err(
                e @ EditLogError::Gap {
                    from: 6, to: 10, ..
                },
            ) => {
                assert!(e.to_string().contains("6..=10"), "{e}");
            }
            other => panic!("expected gap 6..=10, got {other:?}"),
        }
    }
    assert_eq!(txids(&j, 11, 100, false).await, vec![11, 12, 13, 14, 15]);
}

#[tokio::test]
async fn recovery_finalizes_removes_empty_and_finalizes_foreign_segments() {
    let t = TempDir::new("fj-recover");
    let sd = formatted(&t, "nn");
    {
        let j = FileJournal::for_storage(&sd);
        j.start_log_segment(1).await.unwrap();
        j.journal(1, 4, batch(1, 4)).await.unwrap();
        // "crash": dropped without finalizing
    }
    let j = FileJournal::for_storage(&sd);
    assert_eq!(j.recover_unfinalized_segments().await.unwrap(), 4);
    assert!(j.dir().join(finalized_name(1, 4)).exists());
    j.start_log_segment(5).await.unwrap();
    drop(j);
    let j = FileJournal::for_storage(&sd);
    assert_eq!(j.recover_unfinalized_segments().await.unwrap(), 4);
    assert!(
        !j.dir().join(in_progress_name(5)).exists(),
        "empty segment must be removed"
    );

    // A segment left by another writer can be finalized by name once checked.
    {
        let w = FileJournal::for_storage(&sd);
        w.start_log_segment(5).await.unwrap();
        w.journal(5, 2, batch(5, 2)).await.unwrap();
    }
    let j = FileJournal::for_storage(&sd);
    assert!(matches!(
        j.finalize_log_segment(5, 7).await,
        Err(EditLogError::IllegalState { .. })
    ));
    j.finalize_log_segment(5, 6).await.unwrap();
    assert_eq!(txids(&j, 1, 100, false).await, (1..=6).collect::<Vec<_>>());
}

/// Writes random batches to an in-progress segment; returns (payload, end offset) per txid.
async fn write_random_segment(
    sd: &StorageDir,
    rng: &mut XorShift64,
) -> (PathBuf, Vec<(Vec<u8>, u64)>) {
    let j = FileJournal::for_storage(sd);
    j.start_log_segment(1).await.unwrap();
    let mut records = Vec::new();
    let mut end = SEGMENT_HEADER_LEN;
    let mut next = 1u64;
    for _ in 0..1 + rng.below(12) {
        let count = 1 + rng.below(5);
        let payloads: Vec<Vec<u8>> = (0..count)
            .map(|_| {
                let len = if rng.below(10) == 0 {
                    500 + rng.below(1500)
                } else {
                    rng.below(80)
                };
                rng.bytes(len as usize)
            })
            .collect();
        j.journal(next, count as u32, encode_batch(next, &payloads).unwrap())
            .await
            .unwrap();
        for p in payloads {
            end += 16 + p.len() as u64;
            records.push((p, end));
        }
        next += count;
    }
    let path = j.dir().join(in_progress_name(1));
    assert_eq!(fs::metadata(&path).unwrap().len(), end);
    (path, records)
}

fn check_recovered(
    dir: &Path,
    records: &[(Vec<u8>, u64)],
    kept: usize,
    recs: &[hafs_journal::EditRecord],
) {
    assert_eq!(recs.len(), kept);
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r.txid, i as u64 + 1);
        assert_eq!(&r.payload[..], &records[i].0[..]);
    }
    if kept > 0 {
        let f = dir.join(finalized_name(1, kept as u64));
        assert_eq!(
            fs::metadata(&f).unwrap().len(),
            records[kept - 1].1,
            "cut exactly after the last good record"
        );
    }
    assert!(!dir.join(in_progress_name(1)).exists());
}

#[tokio::test]
async fn randomized_torn_tails_keep_exactly_the_records_before_the_damage() {
    for seed in 1..=60u64 {
        let mut rng = XorShift64::new(seed * 0x9E37_79B9);
        let t = TempDir::new("fj-torn");
        let sd = formatted(&t, "nn");
        let (path, records) = write_random_segment(&sd, &mut rng).await;
        let len = fs::metadata(&path).unwrap().len();
        let truncate = rng.below(2) == 0;
        let damage_at = if truncate {
            rng.below(len)
        } else {
            SEGMENT_HEADER_LEN + rng.below(len - SEGMENT_HEADER_LEN)
        };
        if truncate {
            fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .unwrap()
                .set_len(damage_at)
                .unwrap();
        } else {
            let mut bytes = fs::read(&path).unwrap();
            for b in &mut bytes[damage_at as usize..] {
                *b ^= 1 + rng.below(255) as u8;
            }
            fs::write(&path, bytes).unwrap();
        }
        let kept = records
            .iter()
            .take_while(|(_, end)| *end <= damage_at)
            .count();

        let j = FileJournal::for_storage(&sd);
        // A reader (a tailing Standby) stops before the damage and never changes the file.
        let damaged_len = fs::metadata(&path).unwrap().len();
        let seen = j.read_edits(1, usize::MAX, true).await.unwrap();
        assert_eq!(seen.len(), kept, "seed {seed}");
        assert_eq!(fs::metadata(&path).unwrap().len(), damaged_len);

        let last = j
            .recover_unfinalized_segments()
            .await
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_eq!(
            last, kept as u64,
            "seed {seed}, damage at {damage_at} (truncate: {truncate})"
        );
        let recs = j.read_edits(1, usize::MAX, true).await.unwrap();
        check_recovered(j.dir(), &records, kept, &recs);
        // The journal continues after the recovered range.
        j.start_log_segment(kept as u64 + 1).await.unwrap();
    }
}

#[tokio::test]
async fn damage_followed_by_valid_records_is_corrupt_and_names_the_offset() {
    for seed in 1..=30u64 {
        let mut rng = XorShift64::new(seed);
        let t = TempDir::new("fj-corrupt");
        let sd = formatted(&t, "nn");
        let (path, records) = write_random_segment(&sd, &mut rng).await;
        if records.len() < 2 {
            continue;
        }
        // Damage one byte of a record that has at least one record after it.
        let k = rng.below(records.len() as u64 - 1) as usize;
        let start = if k == 0 {
            SEGMENT_HEADER_LEN
        } else {
            records[k - 1].1
        };
        let at = start + rng.below(records[k].1 - start);
        let mut bytes = fs::read(&path).unwrap();
        bytes[at as usize] ^= 1 + rng.below(255) as u8;
        fs::write(&path, &bytes).unwrap();

        let j = FileJournal::for_storage(&sd);
        match j.recover_unfinalized_segments().await {
            Err(e @ EditLogError::Corrupt { .. }) => {
                let EditLogError::Corrupt {
                    ref file, offset, ..
                } = e
                else {
                    unreachable!()
                };
                assert_eq!(file, &path);
                assert_eq!(offset, start, "seed {seed}: {e}");
                assert!(
                    e.to_string().contains(&format!("byte offset {start}")),
                    "{e}"
                );
            }
            other => panic!("seed {seed}: expected Corrupt, got {other:?}"),
        }
        // Nothing was cut: acknowledged data is left for the operator.
        assert_eq!(fs::read(&path).unwrap(), bytes);
        // Readers of the in-progress segment see the same error.
        assert!(matches!(
            j.read_edits(1, usize::MAX, true).await,
            Err(EditLogError::Corrupt { .. })
        ));
    }
}

#[tokio::test]
async fn any_damage_in_a_finalized_segment_is_corrupt() {
    let t = TempDir::new("fj-final");
    let sd = formatted(&t, "nn");
    let j = FileJournal::for_storage(&sd);
    j.start_log_segment(1).await.unwrap();
    j.journal(1, 3, batch(1, 3)).await.unwrap();
    j.finalize_log_segment(1, 3).await.unwrap();
    let path = j.dir().join(finalized_name(1, 3));
    let len = fs::metadata(&path).unwrap().len();
    // Torn last record: in a finalized segment this is corruption, not a torn tail.
    fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len - 1)
        .unwrap();
    match j.read_edits(1, 10, false).await {
        Err(EditLogError::Corrupt { file, offset, .. }) => {
            assert_eq!(file, path);
            assert!(offset > SEGMENT_HEADER_LEN && offset < len);
        }
        other => panic!("{other:?}"),
    }
    // Recovery leaves finalized segments alone.
    assert_eq!(j.recover_unfinalized_segments().await.unwrap(), 3);
    assert_eq!(fs::metadata(&path).unwrap().len(), len - 1);
}
