//! [`QuorumJournal`]: the driver that runs the writer core ([`super::writer_core`]) over
//! one [`Logger`] per JournalNode. It owns the IO the core leaves out: sending each
//! call (queued calls are stamped by the core when they go out), feeding every answer
//! back, timing out rounds, the commit-heartbeat timer and the roll probe. Reading and
//! tailing are in `reader.rs`, formatting and `-status` in `admin.rs`.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use hafs_proto::qjournal as pb;
use tokio::sync::mpsc;

use super::call::{with_quorum, BoxFut};
use super::channel::{JournalChannel, RpcChannel};
use super::config::QjmConfig;
use super::logger::Logger;
use super::reader::TailLook;
use super::recovery::majority;
use super::wire::{self, Target};
use super::writer_core::{Outcome, Phase, Progress, Send, WriterCore, WriterError};
use crate::error::EditLogError;
use crate::manager::{JournalManager, SegmentInfo};
use crate::protocol::{jid, NsInfo, QjournalUri};
use crate::record::EditRecord;

/// How long `wants_roll` waits for a skipped node's answer.
const RESYNC_PROBE_TIMEOUT: Duration = Duration::from_millis(500);
/// Rounds of one operation (recovery has the most: six).
const MAX_ROUNDS_PER_OPERATION: usize = 8;

pub struct QuorumJournal {
    pub(super) uri: QjournalUri,
    pub(super) ns: NsInfo,
    pub(super) cfg: QjmConfig,
    pub(super) wire: Arc<Wire>,
    /// The tailer's cheap looks (see `tail_edits`).
    pub(super) tail_look: Mutex<TailLook>,
}

/// What a call in flight needs: the nodes and the core, shared with the tasks that
/// carry answers back and with the commit heartbeat (which holds it weakly, so it
/// ends when the QuorumJournal is dropped).
pub(super) struct Wire {
    pub(super) loggers: Vec<Arc<Logger>>,
    core: Mutex<WriterCore>,
    journal_id: String,
    ns: NsInfo,
    addrs: Vec<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    hafs_util::invariant::lock(m, "quorum journal")
}

pub(super) fn edit_err(msg: String) -> EditLogError {
    EditLogError::Io(std::io::Error::other(msg))
}

impl Wire {
    /// Sends `send` and feeds the answer to the core, whenever it comes (also after
    /// the operation stopped waiting); a decision goes to `decided`.
    fn dispatch(self: &Arc<Self>, send: Send, decided: Option<mpsc::Sender<Progress>>) {
        let logger = self.loggers[send.node].clone();
        let method = wire::method(&send.call);
        let answer: BoxFut<Bytes> = if send.call.is_queued() {
            let (me, s) = (self.clone(), send.clone());
            logger.queued(
                method,
                send.call.edit_bytes(),
                Box::new(move || {
                    let info = lock(&me.core).stamp(&s);
                    wire::encode(&me.target(), &s.call, Some(info))
                }),
            )
        } else {
            logger.call_raw(method, wire::encode(&self.target(), &send.call, None))
        };
        let me = self.clone();
        tokio::spawn(async move {
            let r = answer
                .await
                .and_then(|b| wire::decode(&logger.addr, &send.call, b));
            let p = lock(&me.core).on_answer(&send, r);
            if let (Some(tx), false) = (decided, p == Progress::Waiting) {
                let _ = tx.try_send(p);
            }
        });
    }

    fn target(&self) -> Target<'_> {
        Target {
            journal_id: &self.journal_id,
            ns: &self.ns,
            addrs: &self.addrs,
        }
    }
}

impl QuorumJournal {
    /// A QuorumJournal over Hadoop IPC to the nodes of `uri`.
    pub fn new(uri: QjournalUri, ns: NsInfo, cfg: QjmConfig) -> QuorumJournal {
        let call_timeout = cfg.write_txns_timeout.max(cfg.other_timeout) + Duration::from_secs(5);
        let channels = uri
            .addrs
            .iter()
            .map(|a| RpcChannel::new(a, call_timeout) as Arc<dyn JournalChannel>)
            .collect();
        QuorumJournal::with_channels(uri, ns, cfg, channels)
    }

    /// A QuorumJournal over the given channels, one per node of `uri` in order (tests
    /// inject faults here).
    pub fn with_channels(
        uri: QjournalUri,
        ns: NsInfo,
        cfg: QjmConfig,
        channels: Vec<Arc<dyn JournalChannel>>,
    ) -> QuorumJournal {
        assert_eq!(
            channels.len(),
            uri.addrs.len(),
            "one channel per JournalNode"
        );
        let loggers = channels
            .into_iter()
            .map(|c| Logger::new(c, cfg.queued_edits_limit_bytes))
            .collect();
        let core = WriterCore::new(uri.addrs.clone(), format!(" on {uri}"));
        let wire = Arc::new(Wire {
            loggers,
            core: Mutex::new(core),
            journal_id: uri.journal_id.clone(),
            ns: ns.clone(),
            addrs: uri.addrs.clone(),
        });
        spawn_commit_heartbeat(Arc::downgrade(&wire), cfg.commit_heartbeat);
        QuorumJournal {
            uri,
            ns,
            cfg,
            wire,
            tail_look: Mutex::new(TailLook::default()),
        }
    }

    pub fn uri(&self) -> &QjournalUri {
        &self.uri
    }

    pub fn epoch(&self) -> u64 {
        lock(&self.wire.core).epoch()
    }

    pub fn loggers(&self) -> &[Arc<Logger>] {
        &self.wire.loggers
    }

    /// A copy of the writer core's state (for tests and status).
    pub fn core(&self) -> WriterCore {
        lock(&self.wire.core).clone()
    }

    pub(super) fn need(&self) -> usize {
        majority(self.wire.loggers.len())
    }

    pub(super) fn jid(&self) -> pb::JournalIdProto {
        jid(&self.uri.journal_id)
    }

    /// A read on several nodes (no core involved): `with_quorum` with this journal's
    /// name in the message.
    pub(super) async fn quorum<T: std::marker::Send + 'static>(
        &self,
        what: &str,
        calls: Vec<BoxFut<T>>,
        need: usize,
        timeout: Duration,
    ) -> Result<Vec<(usize, T)>, EditLogError> {
        with_quorum(
            &format!("{what} on {}", self.uri),
            &self.uri.addrs,
            calls,
            need,
            timeout,
        )
        .await
        .map_err(|f| edit_err(f.to_string()))
    }

    /// Runs one operation of the core to its outcome: sends each round, waits for the
    /// core to decide it (or times it out), and goes on with the next.
    async fn run(
        &self,
        start: impl FnOnce(&mut WriterCore) -> Progress,
        timeout: Duration,
    ) -> Result<Outcome, EditLogError> {
        // Each round is decided once, so one slot per round would do.
        let (tx, mut rx) = mpsc::channel::<Progress>(2);
        let mut progress = {
            let mut core = lock(&self.wire.core);
            start(&mut core)
        };
        for _ in 0..MAX_ROUNDS_PER_OPERATION {
            let sends = match progress {
                Progress::Next(sends) => sends,
                Progress::Done(outcome) => return Ok(outcome),
                Progress::Failed(e) => return Err(self.error(e)),
                Progress::Waiting => break,
            };
            let Some(round) = sends.first().map(|s| s.round) else {
                break;
            };
            for s in sends {
                self.wire.dispatch(s, Some(tx.clone()));
            }
            let deadline = tokio::time::Instant::now() + timeout;
            progress = match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(p) => p.expect("the sender lives in this function"),
                Err(_) => match self.timed_out(round, timeout) {
                    Some(p) => p,
                    // Decided just now: the decision is on its way.
                    None => rx.recv().await.expect("the sender lives in this function"),
                },
            };
        }
        Err(self.error(WriterError::IllegalState(
            "a writer operation did not end in a bounded number of rounds".into(),
        )))
    }

    fn timed_out(&self, round: u64, waited: Duration) -> Option<Progress> {
        lock(&self.wire.core).on_timeout(round, waited)
    }

    fn error(&self, e: WriterError) -> EditLogError {
        match e {
            WriterError::NotWriter | WriterError::IllegalState(_) => EditLogError::IllegalState {
                journal: self.describe(),
                reason: e.to_string(),
            },
            WriterError::NoQuorum(m) | WriterError::Recovery(m) => edit_err(m),
        }
    }
}

/// A JournalNode learns that a batch is committed (acknowledged by a majority) only
/// from a later call, and in-progress tailing (`getJournaledEdits`, and readers'
/// manifests) serves committed edits only: after the last batch of a burst a Standby
/// would wait for the next write. So every `commit_heartbeat` (10 ms) the core picks
/// the in-sync nodes not yet sent the current committed txid
/// ([`WriterCore::commit_heartbeats`]) and each gets it alone (`journal` with
/// `numTxns == 0`, as Hadoop's QuorumOutputStream does after a flush). Under steady
/// load every batch carries the committed txid of the one before, so this sends
/// (almost) nothing; when idle, nothing either.
///
/// Why it cannot disturb the writer: it goes through the node's ordered queue like
/// every other call (its serial is in order); its epoch and committed txid are stamped
/// when it is sent, so the committed txid it carries is never below one sent before on
/// that queue, and it is never sent for an epoch other than the writer's current one;
/// at most one is pending per node; its answer, success or not, changes nothing on the
/// writer's side. The task ends when the QuorumJournal is dropped.
fn spawn_commit_heartbeat(wire: Weak<Wire>, period: Duration) {
    tokio::spawn(async move {
        // The first tick one period from now (a plain interval fires at once).
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(wire) = wire.upgrade() else {
                return;
            };
            let sends = lock(&wire.core).commit_heartbeats();
            for s in sends {
                wire.dispatch(s, None);
            }
        }
    });
}

#[async_trait]
impl JournalManager for QuorumJournal {
    fn describe(&self) -> String {
        format!("QuorumJournal({})", self.uri)
    }

    async fn recover_unfinalized_segments(&self) -> Result<u64, EditLogError> {
        match self
            .run(|c| c.begin_recovery(), self.cfg.other_timeout)
            .await?
        {
            Outcome::Recovered { last_txid, .. } => Ok(last_txid),
            o => Err(self.error(WriterError::IllegalState(format!(
                "recovery ended in {o:?}"
            )))),
        }
    }

    async fn start_log_segment(&self, first_txid: u64) -> Result<(), EditLogError> {
        self.run(|c| c.start_segment(first_txid), self.cfg.other_timeout)
            .await?;
        Ok(())
    }

    async fn journal(
        &self,
        first_txid: u64,
        count: u32,
        records: Bytes,
    ) -> Result<(), EditLogError> {
        self.run(
            |c| c.journal(first_txid, count, records),
            self.cfg.write_txns_timeout,
        )
        .await?;
        Ok(())
    }

    async fn finalize_log_segment(
        &self,
        first_txid: u64,
        last_txid: u64,
    ) -> Result<(), EditLogError> {
        self.run(
            |c| c.finalize(first_txid, last_txid),
            self.cfg.other_timeout,
        )
        .await?;
        Ok(())
    }

    async fn read_edits(
        &self,
        from_txid: u64,
        max: usize,
        include_in_progress: bool,
    ) -> Result<Vec<EditRecord>, EditLogError> {
        self.read(from_txid, max, include_in_progress).await
    }

    /// See `reader.rs`: after a look that found nothing, the next looks ask one node
    /// for its committed txid and read only when it passed `from_txid`.
    async fn tail_edits(
        &self,
        from_txid: u64,
        max: usize,
    ) -> Result<Vec<EditRecord>, EditLogError> {
        self.tail(from_txid, max).await
    }

    async fn list_segments(&self) -> Result<Vec<SegmentInfo>, EditLogError> {
        self.segments().await
    }

    fn journal_nodes(&self) -> Vec<crate::JournalNodeView> {
        let core = lock(&self.wire.core);
        if !matches!(
            core.phase(),
            Phase::Writing { .. } | Phase::Recovered { .. }
        ) {
            return Vec::new();
        }
        self.wire
            .loggers
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let n = core.node(i);
                crate::JournalNodeView {
                    addr: l.addr.clone(),
                    acked_txid: n.acked_txid,
                    out_of_sync: n.out_of_sync,
                    queued_bytes: l.queued_bytes(),
                }
            })
            .collect()
    }

    /// Some JournalNode is skipped (missed a write) but answers again.
    async fn wants_roll(&self) -> bool {
        let candidates = lock(&self.wire.core).resync_candidates();
        for i in candidates {
            let l = &self.wire.loggers[i];
            let probe = l.call::<_, pb::GetJournalStateResponseProto>(
                "getJournalState",
                &pb::GetJournalStateRequestProto {
                    jid: self.jid(),
                    name_service_id: None,
                },
            );
            if let Ok(Ok(st)) = tokio::time::timeout(RESYNC_PROBE_TIMEOUT, probe).await {
                if !st.is_formatted.unwrap_or(true) {
                    continue; // its syncer formats it first
                }
                let roll = lock(&self.wire.core).resync_roll_allowed(std::time::Instant::now());
                if roll {
                    tracing::info!(node = %l.addr, "a skipped JournalNode answers again; rolling the edit log to bring it back");
                }
                return roll;
            }
        }
        false
    }

    async fn purge_logs_older_than(&self, min_txid_to_keep: u64) -> Result<(), EditLogError> {
        match self
            .run(|c| c.purge(min_txid_to_keep), self.cfg.other_timeout)
            .await
        {
            // Not the writer: as before, an error.
            Err(e @ EditLogError::IllegalState { .. }) => Err(e),
            // Purging is housekeeping: a node that misses it purges at the next
            // checkpoint.
            Err(e) => {
                tracing::warn!("{e}");
                Ok(())
            }
            Ok(_) => Ok(()),
        }
    }
}
