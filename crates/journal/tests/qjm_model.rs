//! An explicit-state model check of the quorum journal protocol, running the real code
//! on both sides.
//!
//! The JournalNodes are the real protocol core ([`Journal`] over [`MemStorage`]); the
//! writers are the real QuorumJournal writer core ([`WriterCore`], the code the
//! NameNode runs): the model only carries its calls to the JournalNodes and the answers
//! back, and plays the NameNode's edit log (recover, start a segment at the end of the
//! log, write one edit at a time, roll, send commit heartbeats when the core asks). The
//! network is a multiset of calls: any call may be delivered next (reordering) or
//! dropped (loss), and so may its answer; and a JournalNode may crash and restart
//! (losing its in-memory writer state) between any two steps. A breadth-first search
//! visits every reachable state up to the bounds and checks, in every state:
//!
//! 1. never two different edits committed (acknowledged by a majority) at one txid;
//! 2. every committed edit is in the log every later epoch recovers: once a writer with
//!    a higher epoch finishes recovery, each edit committed in an earlier epoch is held,
//!    with its payload, in a finalized segment on some JournalNode, and no finalized
//!    segment anywhere holds a different payload at that txid;
//! 3. a fenced writer never again reaches a quorum: after a writer with a higher epoch
//!    got a majority for newEpoch, no call of an older epoch is accepted by a majority
//!    of JournalNodes after that moment.
//!
//! The writer core's own assertions (txids and epochs only go up, committed ≤ written)
//! run in every step too.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

use hafs_journal::client::recovery::majority;
use hafs_journal::client::writer_core::{Answer, Call, Outcome, Progress, Send, WriterCore};
use hafs_journal::protocol::{NsInfo, QjError, RequestInfo};
use hafs_journal::record::encode_batch;
use hafs_journal::server::{Journal, MemStorage};
use hafs_util::XorShift64;

const JNS: usize = 3;

/// A call on the network. Ordered by its debug form, so that the network (kept sorted)
/// hashes the same whatever order the calls were made in.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Msg {
    key: String,
    writer: u8,
    send: Send,
    /// The stamp of a queued call (stamped when made: the network may reorder).
    info: Option<RequestInfo>,
}

impl PartialOrd for Msg {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Msg {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.writer, &self.key).cmp(&(o.writer, &o.key))
    }
}

/// Where the model's NameNode is in its edit log.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Stage {
    Init,
    /// An operation of the core is under way.
    Busy,
    /// A segment is open; the next edit may be written.
    Ready,
    /// The edit `txid` is out, not yet acknowledged by a majority.
    Journaling {
        txid: u64,
        payload: Vec<u8>,
    },
    /// Finalizing the open segment, then starting the next at `next`.
    Rolling,
    Done,
    /// An operation failed: the NameNode exits.
    Dead,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Writer {
    id: u8,
    core: WriterCore,
    stage: Stage,
    /// Next txid to write.
    next: u64,
    writes_left: u8,
    rolls_left: u8,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct State {
    jns: Vec<Journal<MemStorage>>,
    writers: Vec<Writer>,
    net: Vec<Msg>,
    drops_left: u8,
    crashes_left: u8,
    /// Ghost: committed txid → (payload, epoch that committed it).
    committed: BTreeMap<u64, (Vec<u8>, u64)>,
    /// Ghost: highest epoch that got a newEpoch majority.
    fenced_below: u64,
    /// Ghost: per (writer, round), JournalNodes that accepted a queued call of an epoch
    /// below `fenced_below` after the fencing.
    late_accepts: BTreeMap<(u8, u64), BTreeSet<u8>>,
}

fn ns() -> NsInfo {
    NsInfo {
        layout_version: -1,
        namespace_id: 7,
        cluster_id: "CID-model".into(),
        block_pool_id: "BP-model".into(),
    }
}

fn payload(writer: u8, txid: u64) -> Vec<u8> {
    vec![b'a' + writer, txid as u8]
}

/// Bounds of one scenario.
#[derive(Clone, Copy)]
struct Bounds {
    writers: usize,
    writes_each: u8,
    rolls_each: u8,
    drops: u8,
    crashes: u8,
}

impl State {
    fn initial(b: Bounds) -> State {
        let mut jns = Vec::new();
        for _ in 0..JNS {
            let mut j = Journal::load("model", MemStorage::new()).unwrap();
            j.format(&ns(), false).unwrap();
            jns.push(j);
        }
        let names: Vec<String> = (0..JNS).map(|i| format!("jn{i}")).collect();
        State {
            jns,
            writers: (0..b.writers as u8)
                .map(|id| Writer {
                    id,
                    core: WriterCore::new(names.clone(), String::new()),
                    stage: Stage::Init,
                    next: 0,
                    writes_left: b.writes_each,
                    rolls_left: b.rolls_each,
                })
                .collect(),
            net: vec![],
            drops_left: b.drops,
            crashes_left: b.crashes,
            committed: BTreeMap::new(),
            fenced_below: 0,
            late_accepts: BTreeMap::new(),
        }
    }

    /// Puts the core's calls on the network (queued ones stamped now).
    fn send(&mut self, w: usize, sends: Vec<Send>) {
        for send in sends {
            let info = send
                .call
                .is_queued()
                .then(|| self.writers[w].core.stamp(&send));
            self.net.push(Msg {
                key: format!("{send:?}{info:?}"),
                writer: w as u8,
                send,
                info,
            });
        }
        self.net.sort();
    }

    /// What the model's NameNode does with the core's progress.
    fn progress(&mut self, w: usize, p: Progress) -> Result<(), String> {
        match p {
            Progress::Waiting => {}
            Progress::Next(sends) => self.send(w, sends),
            Progress::Failed(_) => self.writers[w].stage = Stage::Dead,
            Progress::Done(Outcome::Recovered { epoch, last_txid }) => {
                self.check_recovered_log(epoch)?;
                self.writers[w].next = last_txid + 1;
                let p = self.writers[w].core.start_segment(last_txid + 1);
                self.progress(w, p)?;
            }
            Progress::Done(Outcome::SegmentStarted { .. }) => {
                self.writers[w].stage = Stage::Ready;
            }
            Progress::Done(Outcome::Journaled { committed }) => {
                let wr = &mut self.writers[w];
                let Stage::Journaling { txid, payload } = wr.stage.clone() else {
                    return Err(format!("writer {w} journaled without a write: {wr:?}"));
                };
                if committed != txid {
                    return Err(format!("writer {w} wrote {txid} but committed {committed}"));
                }
                let epoch = wr.core.epoch();
                wr.stage = if wr.writes_left == 0 {
                    Stage::Done
                } else {
                    Stage::Ready
                };
                if let Some((p, e)) = self.committed.get(&txid) {
                    if *p != payload {
                        return Err(format!(
                            "txid {txid} committed twice: {p:?} in epoch {e}, {payload:?} in epoch {epoch}"
                        ));
                    }
                }
                self.committed.insert(txid, (payload, epoch));
            }
            Progress::Done(Outcome::Finalized) => {
                let next = self.writers[w].next;
                let p = self.writers[w].core.start_segment(next);
                self.progress(w, p)?;
            }
            Progress::Done(Outcome::Purged) => return Err("the model never purges".into()),
        }
        Ok(())
    }

    /// A JournalNode handles a call with the real core.
    fn deliver_to_jn(&mut self, m: &Msg) -> Result<Answer, String> {
        let jn = m.send.node;
        let info = m.info.unwrap_or(RequestInfo {
            epoch: 0,
            serial: 0,
            committed_txid: None,
        });
        let e = |e: QjError| e.to_string();
        let answer = match &m.send.call {
            Call::GetJournalState => Ok(Answer::JournalState {
                last_promised_epoch: self.jns[jn].last_promised_epoch(),
            }),
            Call::NewEpoch { epoch } => self.jns[jn]
                .new_epoch(&ns(), *epoch)
                .map(|last| Answer::NewEpoch {
                    last_segment_txid: last,
                })
                .map_err(e),
            Call::PrepareRecovery { segment_txid } => self.jns[jn]
                .prepare_recovery(&info, *segment_txid)
                .map(Answer::Prepared)
                .map_err(e),
            Call::AcceptRecovery {
                segment,
                from,
                digest,
            } => {
                // As the JournalNode does: check, copy from `from` if ours differs,
                // then accept.
                let (seg, d) = (*segment, *digest);
                (|| {
                    if self.jns[jn].check_accept(&info, seg, d)? {
                        let (_, b, n) = self.jns[*from].read_segment(
                            seg.start_txid,
                            Some(seg.end_txid),
                            seg.start_txid,
                            1 << 20,
                        )?;
                        self.jns[jn].stage_copy(seg, &b, n, d)?;
                    }
                    self.jns[jn].accept_recovery(&info, seg, d)
                })()
                .map(|_| Answer::Ok)
                .map_err(e)
            }
            Call::FinalizeLogSegment {
                first_txid,
                last_txid,
            } => self.jns[jn]
                .finalize_log_segment(&info, *first_txid, *last_txid)
                .map(|_| Answer::Ok)
                .map_err(e),
            Call::GetEditLogManifest => self.jns[jn]
                .get_edit_log_manifest(0, false)
                .map(|(segs, _)| Answer::Manifest {
                    last_txid: segs.iter().map(|s| s.end_txid).max().unwrap_or(0),
                })
                .map_err(e),
            Call::StartLogSegment { txid } => self.jns[jn]
                .start_log_segment(&info, *txid)
                .map(|_| Answer::Ok)
                .map_err(e),
            Call::Journal {
                segment_txid,
                first_txid,
                count,
                records,
            } => self.jns[jn]
                .journal(&info, *segment_txid, *first_txid, *count, records)
                .map(|_| Answer::Ok)
                .map_err(e),
            Call::CommitHeartbeat { segment_txid } => {
                let c = info.committed_txid.unwrap_or(0);
                self.jns[jn]
                    .journal(&info, *segment_txid, c + 1, 0, &[])
                    .map(|_| Answer::Ok)
                    .map_err(e)
            }
            Call::PurgeLogs { min_txid_to_keep } => self.jns[jn]
                .purge_logs(&info, *min_txid_to_keep)
                .map(|_| Answer::Ok)
                .map_err(e),
        };
        if m.send.call.is_queued() && answer.is_ok() && info.epoch < self.fenced_below {
            self.late_accepts
                .entry((m.writer, m.send.round))
                .or_default()
                .insert(jn as u8);
        }
        answer
    }

    /// Invariant 2, checked when a writer of `epoch` finishes recovery.
    fn check_recovered_log(&mut self, epoch: u64) -> Result<(), String> {
        for (txid, (p, e)) in &self.committed {
            if *e >= epoch {
                continue;
            }
            let mut found = false;
            for (i, j) in self.jns.iter().enumerate() {
                for (start, finalized, payloads) in j.storage().dump() {
                    if !finalized || *txid < start || *txid >= start + payloads.len() as u64 {
                        continue;
                    }
                    let got = &payloads[(*txid - start) as usize];
                    if got != p {
                        return Err(format!(
                            "epoch {epoch} recovered a log with {got:?} at committed txid {txid} (JN {i}), committed was {p:?}"
                        ));
                    }
                    found = true;
                }
            }
            if !found {
                return Err(format!(
                    "epoch {epoch} recovered a log without committed txid {txid}"
                ));
            }
        }
        Ok(())
    }

    fn check(&self) -> Result<(), String> {
        for ((w, r), jns) in &self.late_accepts {
            if jns.len() >= majority(JNS) {
                return Err(format!(
                    "fenced writer {w} reached a quorum ({jns:?}) for round {r} after a newer epoch took over"
                ));
            }
        }
        Ok(())
    }

    /// Every action enabled in this state.
    fn actions(&self) -> Vec<Action> {
        let mut out = Vec::new();
        for (w, wr) in self.writers.iter().enumerate() {
            match wr.stage {
                Stage::Init => out.push(Action::Start(w)),
                Stage::Ready => {
                    if wr.writes_left > 0 {
                        out.push(Action::Write(w));
                    }
                    if wr.rolls_left > 0 && wr.next > wr.core.segment() {
                        out.push(Action::Roll(w));
                    }
                }
                _ => {}
            }
            // The heartbeat timer may fire whenever the core has something to say.
            if !matches!(wr.stage, Stage::Dead) && !wr.core.clone().commit_heartbeats().is_empty() {
                out.push(Action::Heartbeat(w));
            }
        }
        for (i, m) in self.net.iter().enumerate() {
            if i > 0 && self.net[i - 1] == *m {
                continue; // the same message twice: same successors
            }
            out.push(Action::Deliver(i));
            if self.drops_left > 0 {
                out.push(Action::LoseRequest(i));
                out.push(Action::LoseAnswer(i));
            }
        }
        if self.crashes_left > 0 {
            out.extend((0..JNS).map(Action::Crash));
        }
        out
    }

    /// The state after `a`, or the invariant it violates.
    fn apply(&self, a: Action) -> Result<State, String> {
        let mut s = self.clone();
        match a {
            Action::Start(w) => {
                s.writers[w].stage = Stage::Busy;
                let p = s.writers[w].core.begin_recovery();
                s.progress(w, p)?;
            }
            Action::Write(w) => {
                let wr = &mut s.writers[w];
                wr.writes_left -= 1;
                let (txid, p) = (wr.next, payload(wr.id, wr.next));
                wr.next += 1;
                let records = encode_batch(txid, &[p.as_slice()]).unwrap();
                wr.stage = Stage::Journaling { txid, payload: p };
                let progress = wr.core.journal(txid, 1, records);
                s.progress(w, progress)?;
            }
            Action::Roll(w) => {
                let wr = &mut s.writers[w];
                wr.rolls_left -= 1;
                wr.stage = Stage::Rolling;
                let p = wr.core.finalize(wr.core.segment(), wr.next - 1);
                s.progress(w, p)?;
            }
            Action::Heartbeat(w) => {
                let sends = s.writers[w].core.commit_heartbeats();
                s.send(w, sends);
            }
            Action::LoseRequest(i) => {
                s.net.remove(i);
                s.drops_left -= 1;
            }
            Action::Deliver(i) | Action::LoseAnswer(i) => {
                let m = s.net.remove(i);
                let answer = s.deliver_to_jn(&m);
                // The answer is lost, or reaches the writer at once: a writer only acts
                // on a majority, and its next calls take effect only when delivered,
                // so delaying an answer adds no behaviour that loss does not.
                if matches!(a, Action::LoseAnswer(_)) {
                    s.drops_left -= 1;
                } else {
                    let w = m.writer as usize;
                    let p = s.writers[w].core.on_answer(&m.send, answer);
                    s.fenced_below = s.fenced_below.max(s.writers[w].core.epoch());
                    s.progress(w, p)?;
                }
            }
            Action::Crash(jn) => {
                s.crashes_left -= 1;
                let j = s.jns[jn].clone();
                s.jns[jn] = j.restart().map_err(|e| e.to_string())?;
            }
        }
        s.check()?;
        Ok(s)
    }
}

#[derive(Clone, Copy, Debug)]
enum Action {
    Start(usize),
    Write(usize),
    Roll(usize),
    Heartbeat(usize),
    Deliver(usize),
    LoseRequest(usize),
    LoseAnswer(usize),
    Crash(usize),
}

/// Applies `a`, turning a panic of the real code (an assertion) into a violation.
fn step(s: &State, a: Action) -> Result<State, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s.apply(a))).unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(format!("the writer or JournalNode core panicked: {msg}"))
    })
}

/// Breadth-first search from `init` over at most `max_states` states (the shallowest
/// ones: every behaviour up to the depth reached is covered). Returns (states, depth),
/// or the first violation with the state and action that led to it.
fn explore(init: State, max_states: usize) -> Result<(usize, usize), String> {
    let mut seen: HashSet<u64> = HashSet::new();
    let mut queue = VecDeque::new();
    seen.insert(hash(&init));
    queue.push_back((init, 0usize));
    let mut max_depth = 0;
    while let Some((s, depth)) = queue.pop_front() {
        max_depth = max_depth.max(depth);
        for a in s.actions() {
            let n = step(&s, a).map_err(|v| {
                format!(
                    "invariant violated at depth {}: {v}\n{s:#?}\n{a:?}",
                    depth + 1
                )
            })?;
            if seen.len() < max_states && seen.insert(hash(&n)) {
                queue.push_back((n, depth + 1));
            }
        }
    }
    eprintln!("BFS: {} states, depth {max_depth}", seen.len());
    Ok((seen.len(), max_depth))
}

/// Random walks to the end (no action left), checking every state on the way; covers
/// the deep states (commits, recoveries after commits) BFS cannot reach in seconds.
/// Returns (walks in which something was committed, walks in which a second epoch
/// recovered after a commit), or the first violation.
fn walk(init: &State, walks: usize, seed: u64) -> Result<(usize, usize), String> {
    // HAFS_MODEL_SCALE=N runs N times as many walks (for a longer hunt than CI's).
    let scale: usize = std::env::var("HAFS_MODEL_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let walks = walks * scale;
    let seed = seed.wrapping_add(
        std::env::var("HAFS_MODEL_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    );
    let mut rng = XorShift64::new(seed);
    let (mut committed, mut recovered_after) = (0, 0);
    for i in 0..walks {
        let mut s = init.clone();
        let mut saw_recovery_after_commit = false;
        // Bounded: every action consumes a message, a write, a roll, a start, a
        // heartbeat the core asked for, or a fault budget.
        for _ in 0..10_000 {
            let acts = s.actions();
            if acts.is_empty() {
                break;
            }
            let a = acts[rng.below(acts.len() as u64) as usize];
            let had = s.committed.len();
            let epoch_before = s.fenced_below;
            s = step(&s, a)
                .map_err(|v| format!("invariant violated in walk {i}: {v}\n{s:#?}\n{a:?}"))?;
            if had > 0 && s.fenced_below > epoch_before {
                saw_recovery_after_commit = true;
            }
        }
        committed += usize::from(!s.committed.is_empty());
        recovered_after += usize::from(saw_recovery_after_commit);
    }
    eprintln!("walks: {walks}, with commits: {committed}, with a new epoch after a commit: {recovered_after}");
    Ok((committed, recovered_after))
}

fn hash(s: &State) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

const LOSS: Bounds = Bounds {
    writers: 2,
    writes_each: 2,
    rolls_each: 0,
    drops: 1,
    crashes: 0,
};
#[cfg(not(feature = "model-planted-bug"))]
mod checks {
    use super::*;

    const CRASHES: Bounds = Bounds {
        writers: 2,
        writes_each: 2,
        rolls_each: 0,
        drops: 0,
        crashes: 2,
    };
    const THREE_WRITERS: Bounds = Bounds {
        writers: 3,
        writes_each: 1,
        rolls_each: 0,
        drops: 1,
        crashes: 1,
    };
    const ROLLS: Bounds = Bounds {
        writers: 2,
        writes_each: 2,
        rolls_each: 1,
        drops: 1,
        crashes: 1,
    };

    #[test]
    fn two_writers_with_reordering_and_loss() {
        let init = State::initial(LOSS);
        let (n, _) = explore(init.clone(), 20_000).unwrap_or_else(|v| panic!("{v}"));
        assert!(n >= 20_000, "{n}");
        let (c, r) = walk(&init, 2000, 1).unwrap_or_else(|v| panic!("{v}"));
        assert!(c > 100 && r > 20, "walks too shallow: {c} {r}");
    }

    #[test]
    fn two_writers_with_journalnode_crashes() {
        let init = State::initial(CRASHES);
        explore(init.clone(), 20_000).unwrap_or_else(|v| panic!("{v}"));
        let (c, r) = walk(&init, 2000, 2).unwrap_or_else(|v| panic!("{v}"));
        assert!(c > 100 && r > 20, "walks too shallow: {c} {r}");
    }

    #[test]
    fn three_writers() {
        let init = State::initial(THREE_WRITERS);
        explore(init.clone(), 10_000).unwrap_or_else(|v| panic!("{v}"));
        let (c, r) = walk(&init, 1500, 3).unwrap_or_else(|v| panic!("{v}"));
        assert!(c > 50 && r > 10, "walks too shallow: {c} {r}");
    }

    #[test]
    fn two_writers_rolling_segments_with_loss_and_a_crash() {
        let init = State::initial(ROLLS);
        explore(init.clone(), 10_000).unwrap_or_else(|v| panic!("{v}"));
        let (c, r) = walk(&init, 1500, 4).unwrap_or_else(|v| panic!("{v}"));
        assert!(c > 50 && r > 10, "walks too shallow: {c} {r}");
    }

    /// The ghost invariants trip on fabricated states, so a silent checker cannot pass
    /// (the `model-planted-bug` feature shows the whole loop catches a real bug).
    #[test]
    fn checker_detects_a_fenced_quorum() {
        let mut s = State::initial(LOSS);
        s.late_accepts
            .insert((0, 5), [0u8, 1].into_iter().collect());
        assert!(s.check().is_err());
        let mut s = State::initial(LOSS);
        s.committed.insert(1, (payload(0, 1), 1));
        assert!(
            s.check_recovered_log(2).is_err(),
            "a committed txid missing from every finalized segment is reported"
        );
    }
}

/// With `--features model-planted-bug` the writer core's recovery keeps the first
/// prepareRecovery answer instead of the best copy; the model must find a run in which
/// that loses a committed edit.
#[cfg(feature = "model-planted-bug")]
#[test]
fn the_planted_recovery_bug_is_caught() {
    let init = State::initial(LOSS);
    let found = explore(init.clone(), 50_000)
        .err()
        .or_else(|| walk(&init, 20_000, 1).err());
    let v = found.expect("the model did not catch the planted bug");
    let first = v.lines().next().unwrap_or_default();
    eprintln!("caught: {first}");
    assert!(
        v.contains("recovered a log") || v.contains("committed twice"),
        "{first}"
    );
}
