//! In-progress tailing after a single write followed by silence: the writer's commit
//! heartbeat tells the JournalNodes the write is committed within milliseconds, so a
//! reader (a Standby) sees it long before the next write would have carried it.

mod qjm_common;

use std::time::{Duration, Instant};

use hafs_journal::client::{QjmConfig, QuorumJournal};
use hafs_journal::JournalManager;
use qjm_common::*;

fn writer(q: &Quorum, commit_heartbeat: Duration) -> QuorumJournal {
    QuorumJournal::new(
        q.uri(),
        ns(),
        QjmConfig {
            write_txns_timeout: Duration::from_secs(5),
            other_timeout: Duration::from_secs(5),
            commit_heartbeat,
            ..Default::default()
        },
    )
}

/// Polls in-progress tailing from `from` until `want` is readable or `limit` passes;
/// returns when it became readable.
async fn visible_within(
    reader: &QuorumJournal,
    from: u64,
    want: u64,
    limit: Duration,
) -> Option<Duration> {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        let recs = reader.read_edits(from, 1000, true).await.unwrap();
        if recs.last().is_some_and(|r| r.txid >= want) {
            for (i, r) in recs.iter().enumerate() {
                assert_eq!(r.txid, from + i as u64);
                assert_eq!(r.payload.as_ref(), payload(r.txid).as_slice());
            }
            return Some(t0.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_single_write_is_tailable_within_milliseconds() {
    let q = Quorum::start(3).await;
    let w = writer(&q, hafs_journal::client::COMMIT_HEARTBEAT_DEFAULT);
    w.format(false).await.unwrap();
    w.recover_unfinalized_segments().await.unwrap();
    w.start_log_segment(1).await.unwrap();
    let reader = q.writer(5000); // never takes an epoch: reads only
                                 // A single batch, then nothing: no later call carries its commit.
    w.journal(1, 1, batch(1, 1)).await.unwrap();
    // Generous for a loaded machine, yet far below what a once-a-second heartbeat
    // gives (which the next test shows is what the bound tells apart).
    let bound = Duration::from_millis(500);
    let seen = visible_within(&reader, 1, 1, bound).await;
    assert!(
        seen.is_some(),
        "txid 1 not tailable {bound:?} after it was acknowledged"
    );
    // Again after a pause, with a burst of batches.
    tokio::time::sleep(Duration::from_millis(100)).await;
    for t in 2..=6 {
        w.journal(t, 1, batch(t, 1)).await.unwrap();
    }
    let seen = visible_within(&reader, 2, 6, bound).await;
    assert!(
        seen.is_some(),
        "txid 6 not tailable {bound:?} after it was acknowledged"
    );
    eprintln!("burst visible to the reader after {:?}", seen.unwrap());
}

/// The same single write with the commit heartbeat effectively off: nothing tells the
/// JournalNodes the batch is committed, so readers cannot see it (which is why the
/// test above proves the heartbeat, not luck).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_a_commit_heartbeat_the_last_batch_stays_unreadable() {
    // One JournalNode: with three, the slowest one's request may be built after the
    // other two acknowledged, and then rightly carry the commit; with one, the batch
    // is committed only once its request was answered, so nothing carried it.
    let q = Quorum::start(1).await;
    let w = writer(&q, Duration::from_secs(60));
    w.format(false).await.unwrap();
    w.recover_unfinalized_segments().await.unwrap();
    w.start_log_segment(1).await.unwrap();
    let reader = q.writer(5000);
    w.journal(1, 1, batch(1, 1)).await.unwrap();
    let seen = visible_within(&reader, 1, 1, Duration::from_millis(500)).await;
    assert_eq!(
        seen, None,
        "txid 1 was readable before any node knew it was committed"
    );
    // The next batch carries the commit of the first.
    w.journal(2, 1, batch(2, 1)).await.unwrap();
    assert!(visible_within(&reader, 1, 1, Duration::from_secs(5))
        .await
        .is_some());
}

/// Polls `tail_edits` (the Standby's cheap look) from `from` until `want` is applied;
/// returns the records in order.
async fn tail_until(reader: &QuorumJournal, from: u64, want: u64, limit: Duration) -> Vec<u64> {
    let t0 = Instant::now();
    let mut next = from;
    let mut got = Vec::new();
    while next <= want {
        assert!(
            t0.elapsed() < limit,
            "tailed up to {} of {want} in {limit:?}",
            next - 1
        );
        let recs = reader.tail_edits(next, 1000).await.unwrap();
        if recs.is_empty() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        for r in recs {
            assert_eq!(r.txid, next);
            assert_eq!(r.payload.as_ref(), payload(r.txid).as_slice());
            got.push(r.txid);
            next += 1;
        }
    }
    got
}

/// The cheap looks never change what is read, only when: a tailer follows single
/// writes, a roll (finalized segment then a new one), and a JournalNode going down
/// (its probes fail, full reads go on from the other two).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tail_edits_follows_writes_rolls_and_a_down_node() {
    let mut q = Quorum::start(3).await;
    let w = writer(&q, hafs_journal::client::COMMIT_HEARTBEAT_DEFAULT);
    w.format(false).await.unwrap();
    w.recover_unfinalized_segments().await.unwrap();
    w.start_log_segment(1).await.unwrap();
    let reader = q.writer(5000);
    let bound = Duration::from_millis(500);
    // Idle looks first (nothing written yet): they find nothing.
    for _ in 0..20 {
        assert!(reader.tail_edits(1, 1000).await.unwrap().is_empty());
    }
    w.journal(1, 2, batch(1, 2)).await.unwrap();
    assert_eq!(tail_until(&reader, 1, 2, bound).await, vec![1, 2]);
    // Idle again for a while (cheap looks), then one write.
    for _ in 0..30 {
        assert!(reader.tail_edits(3, 1000).await.unwrap().is_empty());
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    w.journal(3, 1, batch(3, 1)).await.unwrap();
    assert_eq!(tail_until(&reader, 3, 3, bound).await, vec![3]);
    // A roll: 4..5 end up in a finalized segment, 6 in the next one.
    w.journal(4, 2, batch(4, 2)).await.unwrap();
    w.finalize_log_segment(1, 5).await.unwrap();
    w.start_log_segment(6).await.unwrap();
    w.journal(6, 1, batch(6, 1)).await.unwrap();
    assert_eq!(tail_until(&reader, 4, 6, bound).await, vec![4, 5, 6]);
    // One JournalNode down: writes and tailing go on.
    q.jns[0].stop().await;
    for t in 7..=9 {
        w.journal(t, 1, batch(t, 1)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        tail_until(&reader, 7, 9, Duration::from_secs(5)).await,
        vec![7, 8, 9]
    );
}
