//! The QuorumJournal writer's protocol core (Hadoop's `QuorumJournalManager` and
//! `QuorumOutputStream` decisions), free of IO: no sockets, no tasks, no clock.
//!
//! The driver (`qjm.rs`) and the model checker (`tests/qjm_model.rs`) run exactly this
//! code. An operation (`begin_recovery`, `start_segment`, `journal`, `finalize`,
//! `purge`) opens a quorum *round* and returns the calls to send; every answer is fed
//! back with [`WriterCore::on_answer`], which says what to do next: wait, send the next
//! round of the same operation, or report the operation's outcome. The core owns every
//! decision the writer makes:
//!
//! - the epoch: max promised + 1 from a majority's `getJournalState`, held once a
//!   majority accepted `newEpoch`;
//! - recovery of the last segment: `prepareRecovery` → `recovery::choose` →
//!   `acceptRecovery` → `finalizeLogSegment`, then a majority's manifests give the end
//!   of the log;
//! - the committed txid (highest txid a majority acknowledged), which rides on every
//!   later call;
//! - out of sync: a node that fails a write (or the segment start) gets no edits until
//!   the next segment;
//! - the commit heartbeat (who is told the committed txid when writes pause);
//! - whether a node that answers again is worth a roll (rate-limited; `now` is an
//!   argument).
//!
//! Phases: `Idle` → `Promising` (getJournalState, newEpoch) → `Promised(epoch)`
//! (recovering the last segment) → `Recovered(epoch)` (no segment open) ⇄
//! `Writing(epoch, segment)`. A failed round leaves the phase where it was; the
//! NameNode treats any failure as fatal (docs/quorum-journal.md).
//!
//! Rounds follow `with_quorum`'s rule: success at the first `majority` successes (in
//! arrival order), failure as soon as a majority can no longer succeed, or at the
//! driver's timeout. Answers that arrive after their round was decided still count for
//! the node (acknowledged txid, out of sync).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hafs_util::invariant;

use super::recovery::{self, majority};
use crate::protocol::{PrepareResponse, QjError, RequestInfo, SegmentState};

/// Index of a JournalNode in the writer's list.
pub type NodeId = usize;
/// Identifies one quorum round (0: no round, e.g. a commit heartbeat).
pub type RoundId = u64;

/// Least time between two rolls asked for to bring a skipped node back.
pub const MIN_RESYNC_ROLL_INTERVAL: Duration = Duration::from_secs(2);
/// Rounds open at once (the edit log runs one operation at a time, plus a purge and the
/// odd concurrent caller; more than this is a bug in the caller).
const MAX_OPEN_ROUNDS: usize = 64;

/// One call the writer makes to a JournalNode, before it is stamped with the node's IPC
/// serial and the committed txid (that happens when it goes on the wire, see
/// [`WriterCore::stamp`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Call {
    GetJournalState,
    NewEpoch {
        epoch: u64,
    },
    PrepareRecovery {
        segment_txid: u64,
    },
    /// Accept `segment`; a node whose copy differs fetches it from node `from`.
    AcceptRecovery {
        segment: SegmentState,
        from: NodeId,
        digest: Option<u32>,
    },
    FinalizeLogSegment {
        first_txid: u64,
        last_txid: u64,
    },
    /// The finalized segments (since txid 0): recovery ends with a majority's view.
    GetEditLogManifest,
    StartLogSegment {
        txid: u64,
    },
    Journal {
        segment_txid: u64,
        first_txid: u64,
        count: u32,
        records: Bytes,
    },
    /// `journal` with `numTxns == 0`: tells the node the committed txid.
    CommitHeartbeat {
        segment_txid: u64,
    },
    PurgeLogs {
        min_txid_to_keep: u64,
    },
}

impl Call {
    /// Calls that carry an IPC serial go through the node's ordered queue; the others
    /// (epoch negotiation and reads) go out directly.
    pub fn is_queued(&self) -> bool {
        !matches!(
            self,
            Call::GetJournalState | Call::NewEpoch { .. } | Call::GetEditLogManifest
        )
    }

    /// Bytes of edits this call carries (counted against the node's queue bound).
    pub fn edit_bytes(&self) -> usize {
        match self {
            Call::Journal { records, .. } => records.len(),
            _ => 0,
        }
    }
}

/// A call to send to one node, as part of round `round`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Send {
    pub node: NodeId,
    pub round: RoundId,
    /// The epoch the call was made for (a commit heartbeat uses the current one).
    pub epoch: u64,
    pub call: Call,
}

/// A node's successful answer, reduced to what the writer uses.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Answer {
    JournalState {
        last_promised_epoch: u64,
    },
    NewEpoch {
        last_segment_txid: Option<u64>,
    },
    Prepared(PrepareResponse),
    /// Highest last txid among the node's finalized segments (0: none).
    Manifest {
        last_txid: u64,
    },
    /// Calls whose answer carries nothing.
    Ok,
}

/// How an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Holding `epoch`; the finalized log ends at `last_txid`.
    Recovered {
        epoch: u64,
        last_txid: u64,
    },
    SegmentStarted {
        txid: u64,
    },
    /// A majority holds the batch; `committed` is the new committed txid.
    Journaled {
        committed: u64,
    },
    Finalized,
    Purged,
}

/// What an answer (or an operation's start) leads to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Progress {
    /// The round is still open (or the answer belonged to a decided round).
    Waiting,
    /// The operation moved on to its next round: send these.
    Next(Vec<Send>),
    Done(Outcome),
    Failed(WriterError),
}

/// Why an operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
pub enum WriterError {
    #[error("not the writer: recover_unfinalized_segments takes an epoch first")]
    NotWriter,
    /// The round could not get a majority; the message is `with_quorum`'s.
    #[error("{0}")]
    NoQuorum(String),
    /// Recovery refused every choice (it would drop a committed txid).
    #[error("{0}")]
    Recovery(String),
    #[error("{0}")]
    IllegalState(String),
}

/// The writer's view of one JournalNode.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct NodeState {
    /// Last IPC serial stamped on a queued call to this node.
    pub serial: u64,
    /// It failed a write (or the segment start): no edits until the next segment.
    pub out_of_sync: bool,
    /// Highest txid it acknowledged (for lag reports).
    pub acked_txid: u64,
    /// Highest committed txid a call stamped for it carried.
    pub commit_sent: u64,
    /// A commit heartbeat is queued or in flight (at most one per node).
    pub heartbeat_pending: bool,
}

/// The writer's phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// No epoch held.
    Idle,
    /// Asking for promises (getJournalState, then newEpoch).
    Promising,
    /// A majority promised `epoch`; recovering the last segment.
    Promised { epoch: u64 },
    /// Recovered, no segment open.
    Recovered { epoch: u64 },
    /// Segment `segment` is open.
    Writing { epoch: u64, segment: u64 },
}

/// Which step of which operation a round is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Step {
    GetState,
    NewEpoch { epoch: u64 },
    Prepare { segment_txid: u64 },
    Accept { segment: SegmentState },
    RecoveryFinalize,
    Manifest,
    Start { txid: u64 },
    Journal { last_txid: u64 },
    Finalize,
    Purge,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Round {
    step: Step,
    /// For messages, e.g. `journal of txids 4..5 on qjournal://...`.
    what: String,
    oks: Vec<(NodeId, Answer)>,
    errors: Vec<String>,
}

/// The writer's state. Plain data: clone it, hash it, compare it (the model checker
/// does all three).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WriterCore {
    /// Node names for messages (addresses; the model uses `jn0`...).
    names: Vec<String>,
    /// Appended to a round's name in messages (` on qjournal://...`).
    context: String,
    phase: Phase,
    /// 0 until a majority accepted our newEpoch.
    epoch: u64,
    /// Highest txid a majority acknowledged in this epoch (0: none yet).
    committed: u64,
    /// Highest txid sent in this epoch (committed ≤ written).
    written: u64,
    /// Start txid of the open segment (0: none).
    segment: u64,
    /// Txid of the latest segment start asked for (a late failure of an older start
    /// must not mark a node out of the newer segment).
    last_start: u64,
    nodes: Vec<NodeState>,
    rounds: BTreeMap<RoundId, Round>,
    next_round: RoundId,
    /// When `resync_roll_allowed` last said yes.
    last_resync_roll: Option<Instant>,
}

impl WriterCore {
    /// A writer of the journal on `names.len()` JournalNodes; `context` is appended to
    /// quorum error messages.
    pub fn new(names: Vec<String>, context: String) -> WriterCore {
        let n = names.len();
        WriterCore {
            names,
            context,
            phase: Phase::Idle,
            epoch: 0,
            committed: 0,
            written: 0,
            segment: 0,
            last_start: 0,
            nodes: vec![NodeState::default(); n],
            rounds: BTreeMap::new(),
            next_round: 1,
            last_resync_roll: None,
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    pub fn committed(&self) -> u64 {
        self.committed
    }

    /// Start txid of the open segment (0: none).
    pub fn segment(&self) -> u64 {
        self.segment
    }

    pub fn node(&self, i: NodeId) -> &NodeState {
        &self.nodes[i]
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Rounds not decided yet.
    pub fn open_rounds(&self) -> usize {
        self.rounds.len()
    }

    fn need(&self) -> usize {
        majority(self.nodes.len())
    }

    fn check_writer(&self) -> Result<(), WriterError> {
        if self.epoch == 0 {
            return Err(WriterError::NotWriter);
        }
        Ok(())
    }

    // ---- operations -------------------------------------------------------------

    /// Takes a new epoch and recovers the last segment. Ends in
    /// [`Outcome::Recovered`].
    pub fn begin_recovery(&mut self) -> Progress {
        self.phase = Phase::Promising;
        self.open_round(Step::GetState, "getJournalState".into(), 0, |_| {
            Some(Call::GetJournalState)
        })
    }

    /// Opens segment `txid` on every node; a node that misses it is out of sync until
    /// the next one.
    pub fn start_segment(&mut self, txid: u64) -> Progress {
        if let Err(e) = self.check_writer() {
            return Progress::Failed(e);
        }
        if txid == 0 || txid <= self.committed {
            return Progress::Failed(WriterError::IllegalState(format!(
                "cannot start a segment at txid {txid}: txids up to {} are committed",
                self.committed
            )));
        }
        self.last_start = txid;
        for n in &mut self.nodes {
            n.out_of_sync = false;
        }
        self.open_round(
            Step::Start { txid },
            "startLogSegment".into(),
            self.epoch,
            |_| Some(Call::StartLogSegment { txid }),
        )
    }

    /// Sends `first_txid..first_txid + count - 1` to every node in sync; done when a
    /// majority holds it.
    pub fn journal(&mut self, first_txid: u64, count: u32, records: Bytes) -> Progress {
        if let Err(e) = self.check_writer() {
            return Progress::Failed(e);
        }
        if count == 0 || first_txid == 0 {
            return Progress::Failed(WriterError::IllegalState(format!(
                "journal of {count} txids from {first_txid}"
            )));
        }
        // Txids only go up: a batch never rewrites what a majority already holds.
        if first_txid <= self.committed {
            return Progress::Failed(WriterError::IllegalState(format!(
                "journal from txid {first_txid} but txid {} is already committed",
                self.committed
            )));
        }
        let last_txid = first_txid + count as u64 - 1;
        let segment_txid = self.segment;
        let what = format!("journal of txids {first_txid}..{last_txid}");
        let out_of_sync: Vec<NodeId> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].out_of_sync)
            .collect();
        self.written = self.written.max(last_txid);
        let progress = self.open_round(Step::Journal { last_txid }, what, self.epoch, |i| {
            (!out_of_sync.contains(&i)).then(|| Call::Journal {
                segment_txid,
                first_txid,
                count,
                records: records.clone(),
            })
        });
        self.check_invariants();
        progress
    }

    /// Finalizes segment `first_txid..=last_txid` on a majority.
    pub fn finalize(&mut self, first_txid: u64, last_txid: u64) -> Progress {
        if let Err(e) = self.check_writer() {
            return Progress::Failed(e);
        }
        self.open_round(
            Step::Finalize,
            "finalizeLogSegment".into(),
            self.epoch,
            |_| {
                Some(Call::FinalizeLogSegment {
                    first_txid,
                    last_txid,
                })
            },
        )
    }

    /// Purges finalized segments below `min_txid_to_keep` on a majority.
    pub fn purge(&mut self, min_txid_to_keep: u64) -> Progress {
        if let Err(e) = self.check_writer() {
            return Progress::Failed(e);
        }
        self.open_round(Step::Purge, "purgeLogs".into(), self.epoch, |_| {
            Some(Call::PurgeLogs { min_txid_to_keep })
        })
    }

    /// The round's calls: `call(node)` for each node, `None` for a node left out (it
    /// counts as a failure at once, as `with_quorum` counts an immediate error).
    fn open_round(
        &mut self,
        step: Step,
        name: String,
        epoch: u64,
        call: impl Fn(NodeId) -> Option<Call>,
    ) -> Progress {
        if self.rounds.len() >= MAX_OPEN_ROUNDS {
            return Progress::Failed(WriterError::IllegalState(format!(
                "{name}: {MAX_OPEN_ROUNDS} quorum calls are open already"
            )));
        }
        let id = self.next_round;
        self.next_round += 1;
        let mut round = Round {
            step,
            what: format!("{name}{}", self.context),
            oks: Vec::new(),
            errors: Vec::new(),
        };
        let mut sends = Vec::new();
        for node in 0..self.nodes.len() {
            match call(node) {
                Some(call) => sends.push(Send {
                    node,
                    round: id,
                    epoch,
                    call,
                }),
                None => round.errors.push(format!(
                    "{} is out of sync until the next segment",
                    self.names[node]
                )),
            }
        }
        self.rounds.insert(id, round);
        match self.decide(id) {
            Some(Progress::Failed(e)) => Progress::Failed(e),
            _ => Progress::Next(sends),
        }
    }

    // ---- answers ----------------------------------------------------------------

    /// The RequestInfo of a queued call, when it goes on the wire: the node's next IPC
    /// serial and the freshest committed txid (so a node that lags in its queue learns
    /// the newest commit with its next call).
    pub fn stamp(&mut self, send: &Send) -> RequestInfo {
        invariant!(send.call.is_queued(), "{:?} carries no serial", send.call);
        let epoch = match send.call {
            // Read at send time: never sent for an epoch but the current one.
            Call::CommitHeartbeat { .. } => self.epoch,
            _ => send.epoch,
        };
        let c = self.committed;
        let node = &mut self.nodes[send.node];
        node.serial += 1;
        if matches!(
            send.call,
            Call::Journal { .. } | Call::CommitHeartbeat { .. }
        ) {
            node.commit_sent = node.commit_sent.max(c);
        }
        RequestInfo {
            epoch,
            serial: node.serial,
            committed_txid: (c > 0).then_some(c),
        }
    }

    /// Feeds one node's answer to `send`.
    pub fn on_answer(&mut self, send: &Send, answer: Result<Answer, String>) -> Progress {
        self.node_effects(send, &answer);
        let Some(round) = self.rounds.get_mut(&send.round) else {
            return Progress::Waiting; // a heartbeat, or a round already decided
        };
        match answer {
            Ok(a) => round.oks.push((send.node, a)),
            Err(e) => {
                let name = &self.names[send.node];
                // Connection errors already name the address.
                round.errors.push(if e.starts_with(name.as_str()) {
                    e
                } else {
                    format!("{name}: {e}")
                });
            }
        }
        self.decide(send.round).unwrap_or(Progress::Waiting)
    }

    /// The driver gave up waiting for round `round` after `waited`. `None` if the round
    /// was decided meanwhile.
    pub fn on_timeout(&mut self, round: RoundId, waited: Duration) -> Option<Progress> {
        let r = self.rounds.remove(&round)?;
        let need = self.need();
        Some(Progress::Failed(WriterError::NoQuorum(format!(
            "{}: timed out waiting {}ms for a quorum of nodes to respond ({} of {need} needed answered{}{})",
            r.what,
            waited.as_millis(),
            r.oks.len(),
            if r.errors.is_empty() { "" } else { "; exceptions: " },
            r.errors.join("; ")
        ))))
    }

    /// What an answer says about the node, whether or not its round is still open.
    fn node_effects(&mut self, send: &Send, answer: &Result<Answer, String>) {
        let segment = self.segment;
        let last_start = self.last_start;
        let name = &self.names[send.node];
        let node = &mut self.nodes[send.node];
        match (&send.call, answer) {
            (Call::CommitHeartbeat { .. }, r) => {
                node.heartbeat_pending = false;
                if let Err(e) = r {
                    tracing::debug!(node = %name, "commit heartbeat failed: {e}");
                }
            }
            (
                Call::Journal {
                    first_txid, count, ..
                },
                Ok(_),
            ) => {
                node.acked_txid = node.acked_txid.max(first_txid + *count as u64 - 1);
            }
            // Only for the segment it was meant for: a write of an older segment that
            // fails late does not take the node out of the segment after it.
            (
                Call::Journal {
                    segment_txid,
                    first_txid,
                    ..
                },
                Err(e),
            ) if *segment_txid == segment => {
                if !node.out_of_sync {
                    tracing::warn!(node = %name, first_txid, "JournalNode failed a write; skipped until the next segment: {e}");
                }
                node.out_of_sync = true;
            }
            // For lag reports only: a node that opened the segment counts as having
            // what came before it (a gap there is the JournalNode syncer's to fill).
            (Call::StartLogSegment { txid }, Ok(_)) => {
                node.acked_txid = node.acked_txid.max(txid.saturating_sub(1));
            }
            (Call::StartLogSegment { txid }, Err(e)) if *txid == last_start => {
                tracing::warn!(node = %name, first_txid = txid, "JournalNode missed the segment start; skipped until the next segment: {e}");
                node.out_of_sync = true;
            }
            _ => {}
        }
    }

    /// Decides round `id` if its answers allow: `None` while it stays open.
    fn decide(&mut self, id: RoundId) -> Option<Progress> {
        let need = self.need();
        let total = self.nodes.len();
        let r = self.rounds.get(&id)?;
        if r.oks.len() < need {
            if total - r.errors.len() >= need {
                return None;
            }
            let r = self.rounds.remove(&id)?;
            return Some(Progress::Failed(WriterError::NoQuorum(format!(
                "{}: got too many exceptions to achieve quorum size {need}/{total}. {} successful responses; exceptions: {}",
                r.what,
                r.oks.len(),
                r.errors.join("; ")
            ))));
        }
        let r = self.rounds.remove(&id)?;
        Some(self.advance(r.step, r.oks))
    }

    /// A round got its majority: the operation's next step.
    fn advance(&mut self, step: Step, oks: Vec<(NodeId, Answer)>) -> Progress {
        match step {
            Step::GetState => {
                let promised: Vec<u64> = oks
                    .iter()
                    .map(|(_, a)| match a {
                        Answer::JournalState {
                            last_promised_epoch,
                        } => *last_promised_epoch,
                        _ => 0,
                    })
                    .collect();
                let epoch = recovery::next_epoch(&promised);
                self.open_round(Step::NewEpoch { epoch }, "newEpoch".into(), epoch, |_| {
                    Some(Call::NewEpoch { epoch })
                })
            }
            Step::NewEpoch { epoch } => {
                // Epochs only go up: a majority promised nothing at or above `epoch`.
                invariant!(
                    epoch > self.epoch,
                    "new epoch {epoch} after {}: epochs only go up",
                    self.epoch
                );
                self.epoch = epoch;
                self.committed = 0;
                self.written = 0;
                self.segment = 0;
                for n in &mut self.nodes {
                    n.commit_sent = 0;
                }
                self.phase = Phase::Promised { epoch };
                tracing::info!(context = %self.context, epoch, "took a new writer epoch");
                let last = oks
                    .iter()
                    .filter_map(|(_, a)| match a {
                        Answer::NewEpoch { last_segment_txid } => *last_segment_txid,
                        _ => None,
                    })
                    .max();
                match last {
                    Some(segment_txid) => self.open_round(
                        Step::Prepare { segment_txid },
                        "prepareRecovery".into(),
                        epoch,
                        |_| Some(Call::PrepareRecovery { segment_txid }),
                    ),
                    None => self.manifest_round(),
                }
            }
            Step::Prepare { segment_txid } => {
                let answers: Vec<(NodeId, PrepareResponse)> = oks
                    .iter()
                    .filter_map(|(n, a)| match a {
                        Answer::Prepared(p) => Some((*n, *p)),
                        _ => None,
                    })
                    .collect();
                let responses: Vec<PrepareResponse> = answers.iter().map(|a| a.1).collect();
                let chosen = match choose(&responses) {
                    Ok(c) => c,
                    Err(e) => return Progress::Failed(WriterError::Recovery(e.to_string())),
                };
                let Some((best, segment)) = chosen else {
                    tracing::info!(context = %self.context, segment_txid, "no journal has segment {segment_txid}: nothing to recover");
                    return self.manifest_round();
                };
                let (from, digest) = (answers[best].0, answers[best].1.digest);
                tracing::info!(context = %self.context, ?segment, from = %self.names[from], "recovering segment");
                self.open_round(
                    Step::Accept { segment },
                    "acceptRecovery".into(),
                    self.epoch,
                    |_| {
                        Some(Call::AcceptRecovery {
                            segment,
                            from,
                            digest,
                        })
                    },
                )
            }
            Step::Accept { segment } => self.open_round(
                Step::RecoveryFinalize,
                "finalizeLogSegment".into(),
                self.epoch,
                |_| {
                    Some(Call::FinalizeLogSegment {
                        first_txid: segment.start_txid,
                        last_txid: segment.end_txid,
                    })
                },
            ),
            Step::RecoveryFinalize => self.manifest_round(),
            Step::Manifest => {
                let last_txid = oks
                    .iter()
                    .map(|(_, a)| match a {
                        Answer::Manifest { last_txid } => *last_txid,
                        _ => 0,
                    })
                    .max()
                    .unwrap_or(0);
                self.phase = Phase::Recovered { epoch: self.epoch };
                Progress::Done(Outcome::Recovered {
                    epoch: self.epoch,
                    last_txid,
                })
            }
            Step::Start { txid } => {
                self.segment = txid;
                self.phase = Phase::Writing {
                    epoch: self.epoch,
                    segment: txid,
                };
                Progress::Done(Outcome::SegmentStarted { txid })
            }
            Step::Journal { last_txid } => {
                // Committed only goes up, and never past what was sent.
                invariant!(
                    last_txid <= self.written,
                    "a majority acknowledged txid {last_txid}, never sent (highest sent {})",
                    self.written
                );
                self.committed = self.committed.max(last_txid);
                self.check_invariants();
                Progress::Done(Outcome::Journaled {
                    committed: self.committed,
                })
            }
            Step::Finalize => {
                self.segment = 0;
                self.phase = Phase::Recovered { epoch: self.epoch };
                Progress::Done(Outcome::Finalized)
            }
            Step::Purge => Progress::Done(Outcome::Purged),
        }
    }

    fn manifest_round(&mut self) -> Progress {
        self.open_round(
            Step::Manifest,
            "getEditLogManifest".into(),
            self.epoch,
            |_| Some(Call::GetEditLogManifest),
        )
    }

    fn check_invariants(&self) {
        invariant!(
            self.committed <= self.written,
            "committed txid {} above the highest txid sent {}",
            self.committed,
            self.written
        );
        invariant!(
            self.epoch > 0 || self.committed == 0,
            "committed txid {} without an epoch",
            self.committed
        );
    }

    // ---- background decisions -----------------------------------------------------

    /// The commit heartbeat: every in-sync node that has not been sent the current
    /// committed txid gets it alone (at most one pending per node). Nothing between
    /// segments (the finalize carried it) or before anything is committed.
    pub fn commit_heartbeats(&mut self) -> Vec<Send> {
        let (c, segment_txid) = (self.committed, self.segment);
        if c == 0 || segment_txid == 0 || self.epoch == 0 {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (node, n) in self.nodes.iter_mut().enumerate() {
            if n.out_of_sync || n.commit_sent >= c || n.heartbeat_pending {
                continue;
            }
            n.heartbeat_pending = true;
            out.push(Send {
                node,
                round: 0,
                epoch: self.epoch,
                call: Call::CommitHeartbeat { segment_txid },
            });
        }
        out
    }

    /// Nodes skipped until the next segment, while a segment is open: if one of them
    /// answers again, a roll brings it back.
    pub fn resync_candidates(&self) -> Vec<NodeId> {
        if self.epoch == 0 || self.segment == 0 {
            return Vec::new();
        }
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].out_of_sync)
            .collect()
    }

    /// A skipped node answers again: roll, unless the last such roll was less than
    /// `MIN_RESYNC_ROLL_INTERVAL` ago (a flapping node must not roll the log constantly).
    pub fn resync_roll_allowed(&mut self, now: Instant) -> bool {
        if self
            .last_resync_roll
            .is_some_and(|t| now.saturating_duration_since(t) < MIN_RESYNC_ROLL_INTERVAL)
        {
            return false;
        }
        self.last_resync_roll = Some(now);
        true
    }
}

/// The recovery choice. With the `model-planted-bug` feature it is deliberately wrong
/// (it keeps the first answer instead of the best copy), so that the model checker can
/// show it catches a writer bug: `cargo test -p hafs-journal --features
/// model-planted-bug --test qjm_model`.
fn choose(answers: &[PrepareResponse]) -> Result<Option<(usize, SegmentState)>, QjError> {
    if cfg!(feature = "model-planted-bug") {
        return Ok(answers.first().and_then(|a| a.segment.map(|s| (0, s))));
    }
    recovery::choose(answers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core() -> WriterCore {
        WriterCore::new(vec!["a".into(), "b".into(), "c".into()], " on q".into())
    }

    fn sends(p: Progress) -> Vec<Send> {
        match p {
            Progress::Next(s) => s,
            other => panic!("expected sends, got {other:?}"),
        }
    }

    /// Answers `ok` to every send, returning the first progress that is not Waiting.
    fn all(core: &mut WriterCore, s: &[Send], ok: impl Fn(&Send) -> Answer) -> Progress {
        let mut last = Progress::Waiting;
        for x in s {
            let p = core.on_answer(x, Ok(ok(x)));
            if p != Progress::Waiting && last == Progress::Waiting {
                last = p;
            }
        }
        last
    }

    fn recovered(core: &mut WriterCore) {
        let s = sends(core.begin_recovery());
        let s = sends(all(core, &s, |_| Answer::JournalState {
            last_promised_epoch: 3,
        }));
        assert!(matches!(s[0].call, Call::NewEpoch { epoch: 4 }));
        let s = sends(all(core, &s, |_| Answer::NewEpoch {
            last_segment_txid: None,
        }));
        let p = all(core, &s, |_| Answer::Manifest { last_txid: 9 });
        assert_eq!(
            p,
            Progress::Done(Outcome::Recovered {
                epoch: 4,
                last_txid: 9
            })
        );
    }

    #[test]
    fn phases_epoch_commit_and_out_of_sync() {
        let mut c = core();
        assert!(matches!(
            c.start_segment(1),
            Progress::Failed(WriterError::NotWriter)
        ));
        recovered(&mut c);
        assert_eq!(c.phase(), Phase::Recovered { epoch: 4 });
        let s = sends(c.start_segment(10));
        // Node c misses the start: out of sync until the next segment.
        assert_eq!(c.on_answer(&s[2], Err("down".into())), Progress::Waiting);
        assert_eq!(c.on_answer(&s[0], Ok(Answer::Ok)), Progress::Waiting);
        assert_eq!(
            c.on_answer(&s[1], Ok(Answer::Ok)),
            Progress::Done(Outcome::SegmentStarted { txid: 10 })
        );
        assert!(c.node(2).out_of_sync);
        assert_eq!(c.resync_candidates(), vec![2]);
        let s = sends(c.journal(10, 2, Bytes::from_static(b"x")));
        assert_eq!(s.len(), 2, "the out-of-sync node gets no edits");
        assert_eq!(c.stamp(&s[0]).committed_txid, None);
        c.stamp(&s[1]);
        assert_eq!(c.on_answer(&s[0], Ok(Answer::Ok)), Progress::Waiting);
        assert_eq!(
            c.on_answer(&s[1], Ok(Answer::Ok)),
            Progress::Done(Outcome::Journaled { committed: 11 })
        );
        // Heartbeats to in-sync nodes that have not heard of txid 11, once.
        let hb = c.commit_heartbeats();
        assert_eq!(hb.iter().map(|s| s.node).collect::<Vec<_>>(), vec![0, 1]);
        assert!(c.commit_heartbeats().is_empty());
        let info = c.stamp(&hb[0]);
        assert_eq!(
            (info.epoch, info.serial, info.committed_txid),
            (4, 2, Some(11))
        );
        c.on_answer(&hb[0], Ok(Answer::Ok));
        assert!(
            c.commit_heartbeats().is_empty(),
            "node 0 heard, node 1 pending"
        );
        // A second batch with one failure still commits; the failure marks node 1.
        // With node 2 skipped, one more failure loses the quorum at once; the failure
        // marks node 1 and node 0's late acknowledgement still counts for node 0.
        let s = sends(c.journal(12, 1, Bytes::from_static(b"y")));
        let p = c.on_answer(&s[1], Err("boom".into()));
        assert!(
            matches!(&p, Progress::Failed(WriterError::NoQuorum(m)) if m.contains("too many exceptions") && m.contains("journal of txids 12..12 on q")),
            "{p:?}"
        );
        assert!(c.node(1).out_of_sync);
        assert_eq!(c.on_answer(&s[0], Ok(Answer::Ok)), Progress::Waiting);
        assert_eq!((c.node(0).acked_txid, c.committed()), (12, 11));
        // Txids only go up.
        assert!(matches!(
            c.journal(11, 1, Bytes::new()),
            Progress::Failed(_)
        ));
        // Rolls to re-sync are rate-limited.
        let t = Instant::now();
        assert!(c.resync_roll_allowed(t));
        assert!(!c.resync_roll_allowed(t + Duration::from_secs(1)));
        assert!(c.resync_roll_allowed(t + Duration::from_secs(3)));
        // The next segment brings everyone back.
        let s = sends(c.start_segment(13));
        assert_eq!(s.len(), 3);
        assert!(c.resync_candidates().is_empty());
    }

    #[test]
    #[cfg(not(feature = "model-planted-bug"))]
    fn recovery_accepts_the_best_copy_from_its_holder() {
        let mut c = core();
        let s = sends(c.begin_recovery());
        let s = sends(all(&mut c, &s, |_| Answer::JournalState {
            last_promised_epoch: 0,
        }));
        let s = sends(all(&mut c, &s, |_| Answer::NewEpoch {
            last_segment_txid: Some(5),
        }));
        assert!(matches!(
            s[0].call,
            Call::PrepareRecovery { segment_txid: 5 }
        ));
        let seg = |end| {
            Some(SegmentState {
                start_txid: 5,
                end_txid: end,
                in_progress: true,
            })
        };
        let p = |end, d| {
            Answer::Prepared(PrepareResponse {
                segment: seg(end),
                accepted_in_epoch: None,
                last_writer_epoch: 1,
                last_committed_txid: None,
                digest: Some(d),
            })
        };
        assert_eq!(c.on_answer(&s[2], Ok(p(6, 1))), Progress::Waiting);
        let next = sends(c.on_answer(&s[1], Ok(p(8, 2))));
        assert_eq!(
            next[0].call,
            Call::AcceptRecovery {
                segment: seg(8).unwrap(),
                from: 1,
                digest: Some(2)
            }
        );
        let next = sends(all(&mut c, &next, |_| Answer::Ok));
        assert!(matches!(
            next[0].call,
            Call::FinalizeLogSegment {
                first_txid: 5,
                last_txid: 8
            }
        ));
        let next = sends(all(&mut c, &next, |_| Answer::Ok));
        assert_eq!(
            all(&mut c, &next, |_| Answer::Manifest { last_txid: 8 }),
            Progress::Done(Outcome::Recovered {
                epoch: 1,
                last_txid: 8
            })
        );
        // The late answer of node 0 to prepareRecovery changes nothing.
        assert_eq!(c.on_answer(&s[0], Ok(p(7, 3))), Progress::Waiting);
        assert_eq!(c.open_rounds(), 0);
    }

    #[test]
    fn timeouts_and_too_many_out_of_sync_fail_at_once() {
        let mut c = core();
        let s = sends(c.begin_recovery());
        let f = c.on_timeout(s[0].round, Duration::from_millis(5)).unwrap();
        assert!(
            matches!(f, Progress::Failed(WriterError::NoQuorum(m)) if m.contains("getJournalState on q: timed out waiting 5ms"))
        );
        assert!(c.on_timeout(s[0].round, Duration::from_millis(5)).is_none());
        recovered(&mut c);
        let s = sends(c.start_segment(1));
        c.on_answer(&s[0], Err("x".into()));
        c.on_answer(&s[1], Err("y".into()));
        c.on_answer(&s[2], Ok(Answer::Ok));
        assert!(matches!(
            c.journal(1, 1, Bytes::new()),
            Progress::Failed(WriterError::NoQuorum(_))
        ));
    }
}
