//! Hadoop's `TestQJMWithFaults`, through the [`JournalChannel`] seam and in process:
//! three JournalNodes over real IPC, and writers whose channels fail chosen calls.
//!
//! - every pair (a, b), each way a fault can hit (before the call reaches the node, or
//!   after it was applied there): IPC a to JournalNode 0 and IPC b to JournalNode 1
//!   fail while a writer recovers the segment an earlier writer left open and runs a
//!   workload until the first error; then a new writer must recover at least to the
//!   last acknowledged txid, read every txid back, and write again;
//! - randomized (seeded): writers one after the other, each call to any node failing
//!   with a small probability; every recovery reaches the highest acknowledged txid and
//!   the final log holds every acknowledged edit with its payload.
//!
//! `HAFS_FAULTS_SEED` changes the randomized test's seed.

mod qjm_common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hafs_journal::client::{BoxFut, JournalChannel, QjmConfig, QuorumJournal, RpcChannel};
use hafs_journal::protocol::QjournalUri;
use hafs_journal::record::encode_batch;
use hafs_journal::JournalManager;
use hafs_util::XorShift64;
use qjm_common::*;

/// Where an injected fault hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// The call never reaches the node.
    Before,
    /// The node applies the call; its answer is lost.
    After,
}

/// Which calls fail.
enum Plan {
    Never,
    /// Call number `n` (1-based) on this channel.
    At(u64, Fault),
    /// Each call with probability 1/`one_in`.
    Random(Mutex<XorShift64>, u64),
}

/// A channel that fails calls of the real one according to its plan.
struct FaultyChannel {
    inner: Arc<RpcChannel>,
    calls: AtomicU64,
    plan: Plan,
}

impl JournalChannel for FaultyChannel {
    fn addr(&self) -> &str {
        self.inner.addr()
    }

    fn call(&self, method: &'static str, request: Bytes) -> BoxFut<Bytes> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let fault = match &self.plan {
            Plan::Never => None,
            Plan::At(at, f) => (n == *at).then_some(*f),
            Plan::Random(rng, one_in) => {
                let mut r = rng.lock().unwrap();
                (r.below(*one_in) == 0).then(|| {
                    if r.below(2) == 0 {
                        Fault::Before
                    } else {
                        Fault::After
                    }
                })
            }
        };
        let addr = self.inner.addr().to_string();
        match fault {
            None => self.inner.call(method, request),
            Some(Fault::Before) => {
                Box::pin(
                    async move { Err(format!("{addr}: injected fault before IPC {n} ({method})")) },
                )
            }
            Some(Fault::After) => {
                let f = self.inner.call(method, request);
                Box::pin(async move {
                    let _ = f.await;
                    Err(format!("{addr}: injected fault after IPC {n} ({method})"))
                })
            }
        }
    }
}

fn uri(q: &Quorum, jid: &str) -> QjournalUri {
    QjournalUri {
        addrs: q.addrs(),
        journal_id: jid.into(),
    }
}

fn cfg() -> QjmConfig {
    QjmConfig {
        write_txns_timeout: Duration::from_secs(5),
        other_timeout: Duration::from_secs(5),
        // No commit heartbeats: they would make the IPC numbering depend on timing.
        commit_heartbeat: Duration::from_secs(60),
        ..Default::default()
    }
}

/// A writer whose channel to node i follows `plans[i]`; returns the channels too (for
/// their call counts).
fn writer(q: &Quorum, jid: &str, plans: Vec<Plan>) -> (QuorumJournal, Vec<Arc<FaultyChannel>>) {
    let channels: Vec<Arc<FaultyChannel>> = q
        .addrs()
        .iter()
        .zip(plans)
        .map(|(a, plan)| {
            Arc::new(FaultyChannel {
                inner: RpcChannel::new(a, Duration::from_secs(10)),
                calls: AtomicU64::new(0),
                plan,
            })
        })
        .collect();
    let dyns = channels
        .iter()
        .map(|c| c.clone() as Arc<dyn JournalChannel>)
        .collect();
    (
        QuorumJournal::with_channels(uri(q, jid), ns(), cfg(), dyns),
        channels,
    )
}

fn edit(txid: u64, by: usize) -> Vec<u8> {
    format!("edit {txid} by writer {by}").into_bytes()
}

/// The NameNode's edit log in small: recover, then `segments` segments of `per_segment`
/// edits (one journal call each), every segment but the last finalized. Stops at the
/// first error, as the NameNode would. Returns the acknowledged edits.
async fn workload(
    w: &QuorumJournal,
    by: usize,
    segments: u64,
    per_segment: u64,
) -> BTreeMap<u64, Vec<u8>> {
    let mut acked = BTreeMap::new();
    let Ok(last) = w.recover_unfinalized_segments().await else {
        return acked;
    };
    let mut next = last + 1;
    for s in 0..segments {
        let first = next;
        if w.start_log_segment(first).await.is_err() {
            return acked;
        }
        for _ in 0..per_segment {
            let p = edit(next, by);
            if w.journal(next, 1, encode_batch(next, &[p.as_slice()]).unwrap())
                .await
                .is_err()
            {
                return acked;
            }
            acked.insert(next, p);
            next += 1;
        }
        if s + 1 < segments && w.finalize_log_segment(first, next - 1).await.is_err() {
            return acked;
        }
    }
    acked
}

/// A fault-free writer recovers at least to every acknowledged edit, reads back every
/// txid (the acknowledged ones with their payload), and writes again.
async fn check_recovery(q: &Quorum, jid: &str, acked: &BTreeMap<u64, Vec<u8>>, case: &str) {
    let w = QuorumJournal::new(uri(q, jid), ns(), cfg());
    let last = w
        .recover_unfinalized_segments()
        .await
        .unwrap_or_else(|e| panic!("{case}: recovery failed: {e}"));
    let acked_last = acked.keys().next_back().copied().unwrap_or(0);
    assert!(
        last >= acked_last,
        "{case}: recovered to {last}, below the acknowledged {acked_last}"
    );
    let mut next = 1;
    // Bounded: each pass reads at least one record or stops.
    while next <= last {
        let recs = w.read_edits(next, 1000, false).await.unwrap();
        assert!(
            !recs.is_empty(),
            "{case}: txid {next} of 1..={last} unreadable"
        );
        for r in recs {
            assert_eq!(r.txid, next, "{case}");
            if let Some(p) = acked.get(&r.txid) {
                assert_eq!(r.payload.as_ref(), p.as_slice(), "{case}: txid {next}");
            }
            next += 1;
        }
    }
    w.start_log_segment(last + 1)
        .await
        .unwrap_or_else(|e| panic!("{case}: cannot start a segment after recovery: {e}"));
    w.journal(last + 1, 1, batch(last + 1, 1))
        .await
        .unwrap_or_else(|e| panic!("{case}: cannot write after recovery: {e}"));
}

/// A fault-free writer writes txids 1..=2 and "crashes" with the segment open, so that
/// the next writer's recovery has a segment to recover.
async fn leave_open_segment(q: &Quorum, jid: &str) -> BTreeMap<u64, Vec<u8>> {
    let (w, _) = writer(q, jid, vec![Plan::Never, Plan::Never, Plan::Never]);
    let acked = workload(&w, 0, 1, 2).await;
    assert_eq!(acked.len(), 2);
    acked
}

async fn format(q: &Quorum, jid: &str) {
    QuorumJournal::new(uri(q, jid), ns(), cfg())
        .format(false)
        .await
        .unwrap();
}

const SEGMENTS: u64 = 2;
const PER_SEGMENT: u64 = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn recovers_after_every_pair_of_failed_ipcs() {
    let q = Quorum::start(3).await;
    // How many IPCs each node gets in a fault-free run.
    format(&q, "pairs-count").await;
    leave_open_segment(&q, "pairs-count").await;
    let (w, channels) = writer(
        &q,
        "pairs-count",
        vec![Plan::Never, Plan::Never, Plan::Never],
    );
    let acked = workload(&w, 1, SEGMENTS, PER_SEGMENT).await;
    assert_eq!(acked.len() as u64, SEGMENTS * PER_SEGMENT);
    // The last calls' answers may still be on their way; the counts are taken when a
    // call starts, so they are final once every node answered (at most a moment).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let max_ipc = channels
        .iter()
        .map(|c| c.calls.load(Ordering::SeqCst))
        .max()
        .unwrap();
    drop(w);
    assert!(max_ipc >= 8, "{max_ipc}");
    let cases: Vec<(u64, u64, Fault)> = (1..=max_ipc)
        .flat_map(|a| (1..=max_ipc).map(move |b| (a, b)))
        .flat_map(|(a, b)| [(a, b, Fault::Before), (a, b, Fault::After)])
        .collect();
    let q = Arc::new(q);
    // A few cases at a time (each on its own journal id) so that fsyncs overlap.
    for chunk in cases.chunks(6) {
        let mut set = tokio::task::JoinSet::new();
        for &(a, b, fault) in chunk {
            let q = q.clone();
            set.spawn(async move {
                let jid = format!("pair-{a}-{b}-{fault:?}");
                let case = format!("IPC {a} to JN 0 and IPC {b} to JN 1 fail ({fault:?})");
                format(&q, &jid).await;
                let mut acked = leave_open_segment(&q, &jid).await;
                let (w, _) = writer(
                    &q,
                    &jid,
                    vec![Plan::At(a, fault), Plan::At(b, fault), Plan::Never],
                );
                acked.extend(workload(&w, 1, SEGMENTS, PER_SEGMENT).await);
                drop(w);
                check_recovery(&q, &jid, &acked, &case).await;
                acked.len()
            });
        }
        while let Some(r) = set.join_next().await {
            r.unwrap();
        }
    }
    eprintln!(
        "{} cases: pairs of failed IPCs 1..={max_ipc} on two nodes, before or after",
        cases.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn randomized_faults_never_lose_an_acknowledged_edit() {
    let seed = 11u64.wrapping_add(
        std::env::var("HAFS_FAULTS_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    );
    let q = Quorum::start(3).await;
    let jid = "randomized";
    format(&q, jid).await;
    let mut rng = XorShift64::new(seed);
    let mut acked: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut writers_with_writes = 0;
    for by in 0..30usize {
        let plans = (0..3)
            .map(|_| Plan::Random(Mutex::new(XorShift64::new(rng.next_u64())), 12))
            .collect();
        let (w, _) = writer(&q, jid, plans);
        let got = workload(&w, by, 2, 3).await;
        writers_with_writes += usize::from(!got.is_empty());
        if let (Some(first), Some(prev)) = (got.keys().next(), acked.keys().next_back()) {
            // A writer starts after the end of the log it recovered.
            assert!(
                first > prev,
                "seed {seed}: writer {by} wrote txid {first} at or below the acknowledged {prev}"
            );
        }
        acked.extend(got);
    }
    assert!(
        writers_with_writes >= 5,
        "seed {seed}: only {writers_with_writes} writers got an edit acknowledged"
    );
    check_recovery(&q, jid, &acked, &format!("seed {seed}")).await;
    eprintln!(
        "seed {seed}: 30 writers, {writers_with_writes} with acknowledged edits, {} edits acknowledged",
        acked.len()
    );
}
