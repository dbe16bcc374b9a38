//! [`QuorumJournal`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use hafs_proto::qjournal as pb;

use super::call::{with_quorum, BoxFut};
use super::logger::Logger;
use super::uri::QjournalUri;
use crate::error::EditLogError;
use crate::journalnode::{jid, ns_to_proto, req_to_proto, seg_from_proto, seg_to_proto};
use crate::manager::{JournalManager, SegmentInfo};
use crate::qjournal::recovery::{self, majority};
use crate::qjournal::{NsInfo, PrepareResponse, RequestInfo, SegmentState};
use crate::record::{decode, Decoded, EditRecord};

/// Timeouts and bounds (Hadoop's keys and defaults).
#[derive(Debug, Clone)]
pub struct QjmConfig {
    /// `dfs.qjournal.write-txns.timeout.ms` (20 s).
    pub write_txns_timeout: Duration,
    /// `dfs.qjournal.start-segment.timeout.ms`, `finalize-segment`, `prepare-recovery`,
    /// `accept-recovery`, `new-epoch`, `get-journal-state`, `select-input-streams` —
    /// Hadoop has one key each; hafs uses one value (20 s default) for all of them.
    pub other_timeout: Duration,
    /// `dfs.qjournal.queued-edits.limit.mb` (10 MiB).
    pub queued_edits_limit_bytes: usize,
    /// `hafs.qjournal.commit-heartbeat.ms` (10 ms): how soon after writes pause the
    /// JournalNodes learn that the last batch is committed (see `spawn_commit_heartbeat`).
    pub commit_heartbeat: Duration,
}

/// Default of `hafs.qjournal.commit-heartbeat.ms`.
pub const COMMIT_HEARTBEAT_DEFAULT: Duration = Duration::from_millis(10);
/// `hafs.qjournal.commit-heartbeat.ms`.
pub const COMMIT_HEARTBEAT_KEY: &str = "hafs.qjournal.commit-heartbeat.ms";

impl Default for QjmConfig {
    fn default() -> Self {
        QjmConfig {
            write_txns_timeout: Duration::from_secs(20),
            other_timeout: Duration::from_secs(20),
            queued_edits_limit_bytes: 10 << 20,
            commit_heartbeat: COMMIT_HEARTBEAT_DEFAULT,
        }
    }
}

impl QjmConfig {
    pub fn from_conf(conf: &hafs_conf::Configuration) -> Result<QjmConfig, hafs_conf::ConfError> {
        let d = QjmConfig::default();
        Ok(QjmConfig {
            write_txns_timeout: Duration::from_millis(
                conf.get_u64("dfs.qjournal.write-txns.timeout.ms", 20_000)?,
            ),
            other_timeout: Duration::from_millis(
                conf.get_u64("dfs.qjournal.start-segment.timeout.ms", 20_000)?,
            ),
            queued_edits_limit_bytes: (conf.get_u64("dfs.qjournal.queued-edits.limit.mb", 10)?
                as usize)
                .saturating_mul(1 << 20)
                .max(d.queued_edits_limit_bytes.min(1 << 20)),
            // At least 1 ms (a zero period would spin), at most a minute.
            commit_heartbeat: Duration::from_millis(
                conf.get_u64(
                    COMMIT_HEARTBEAT_KEY,
                    COMMIT_HEARTBEAT_DEFAULT.as_millis() as u64,
                )?
                .clamp(1, 60_000),
            ),
        })
    }
}

/// One JournalNode's state, for `-status`.
#[derive(Debug, Clone)]
pub struct JournalNodeStatus {
    pub addr: String,
    pub result: Result<pb::GetJournalStateResponseProto, String>,
    pub segments: Vec<SegmentState>,
}

pub struct QuorumJournal {
    uri: QjournalUri,
    ns: NsInfo,
    cfg: QjmConfig,
    loggers: Vec<Arc<Logger>>,
    /// 0 until this writer holds an epoch.
    epoch: Arc<AtomicU64>,
    /// Highest txid a majority acknowledged in this epoch (0: none yet).
    committed: Arc<AtomicU64>,
    /// Start txid of the open segment (0: none).
    segment: Arc<AtomicU64>,
    /// When `wants_roll` last said yes (rolls to re-sync a node are rate-limited, so a
    /// node that keeps failing cannot make the log roll on every check).
    last_resync_roll: std::sync::Mutex<Option<std::time::Instant>>,
    /// The tailer's cheap looks (see `tail_edits`).
    tail_look: std::sync::Mutex<TailLook>,
}

/// State of a Standby's looks at the journal: a full read (manifests from a majority,
/// then the segment) at least every `FULL_TAIL_LOOK_EVERY`, and in between, after a
/// look that found nothing, only one node's committed txid (round robin).
#[derive(Default)]
struct TailLook {
    next_node: usize,
    last_full: Option<std::time::Instant>,
    last_found_edits: bool,
}

/// Longest time between two full reads of a tailer (bounds how long a node that trails
/// in what it knows is committed can hide new edits).
const FULL_TAIL_LOOK_EVERY: Duration = Duration::from_millis(100);
/// A probed node that does not answer this fast is skipped for a full read.
const TAIL_PROBE_TIMEOUT: Duration = Duration::from_millis(200);

/// Least time between two rolls asked for by `wants_roll`.
const MIN_RESYNC_ROLL_INTERVAL: Duration = Duration::from_secs(2);

fn edit_err(msg: String) -> EditLogError {
    EditLogError::Io(std::io::Error::other(msg))
}

impl QuorumJournal {
    pub fn new(uri: QjournalUri, ns: NsInfo, cfg: QjmConfig) -> QuorumJournal {
        let call_timeout = cfg.write_txns_timeout.max(cfg.other_timeout) + Duration::from_secs(5);
        let loggers = uri
            .addrs
            .iter()
            .map(|a| Logger::new(a, call_timeout, cfg.queued_edits_limit_bytes))
            .collect();
        let qjm = QuorumJournal {
            uri,
            ns,
            cfg,
            loggers,
            epoch: Arc::new(AtomicU64::new(0)),
            committed: Arc::new(AtomicU64::new(0)),
            segment: Arc::new(AtomicU64::new(0)),
            last_resync_roll: std::sync::Mutex::new(None),
            tail_look: std::sync::Mutex::new(TailLook::default()),
        };
        qjm.spawn_commit_heartbeat();
        qjm
    }

    /// A JournalNode learns that a batch is committed (acknowledged by a majority) only
    /// from a later call, and in-progress tailing (`getJournaledEdits`, and readers'
    /// manifests) serves committed edits only: after the last batch of a burst a
    /// Standby would wait for the next write. So every `commit_heartbeat` (10 ms), each
    /// in-sync node that has not yet been sent the current committed txid gets it alone
    /// (`journal` with `numTxns == 0`, as Hadoop's QuorumOutputStream does after a
    /// flush). Under steady load every batch carries the committed txid of the one
    /// before, so this sends (almost) nothing; when idle, nothing either.
    ///
    /// Why it cannot disturb the writer: it goes through the node's ordered queue like
    /// every other call (its serial is in order); its epoch and committed txid are read
    /// when it is sent, so the committed txid it carries is never below one sent
    /// before on that queue, and it is never sent for an epoch other than the
    /// writer's current one; at most one is pending per node; its answer, success or
    /// not, changes nothing on the writer's side (a node that refuses it is left to the
    /// real writes to mark out of sync). The task ends when the QuorumJournal is
    /// dropped.
    fn spawn_commit_heartbeat(&self) {
        let (loggers, committed, epoch, segment) = (
            self.loggers.clone(),
            Arc::downgrade(&self.committed),
            self.epoch.clone(),
            self.segment.clone(),
        );
        let journal_id = self.uri.journal_id.clone();
        let period = self.cfg.commit_heartbeat;
        tokio::spawn(async move {
            // The first tick one period from now (a plain interval fires at once).
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(committed) = committed.upgrade() else {
                    return;
                };
                let (c, seg) = (
                    committed.load(Ordering::SeqCst),
                    segment.load(Ordering::SeqCst),
                );
                // Between segments the finalize call carried the committed txid.
                if c == 0 || seg == 0 || epoch.load(Ordering::SeqCst) == 0 {
                    continue;
                }
                for l in loggers
                    .iter()
                    .filter(|l| !l.out_of_sync.load(Ordering::SeqCst))
                {
                    if l.commit_sent.load(Ordering::SeqCst) >= c
                        || l.heartbeat_pending.swap(true, Ordering::SeqCst)
                    {
                        continue;
                    }
                    let (jid_s, commit, ep, node) = (
                        journal_id.clone(),
                        committed.clone(),
                        epoch.clone(),
                        l.clone(),
                    );
                    let f =
                        l.queued::<_, pb::JournalResponseProto, _>("journal", 0, move |serial| {
                            let c = commit.load(Ordering::SeqCst);
                            node.commit_sent.fetch_max(c, Ordering::SeqCst);
                            pb::JournalRequestProto {
                                req_info: req_to_proto(
                                    &jid_s,
                                    &RequestInfo {
                                        epoch: ep.load(Ordering::SeqCst),
                                        serial,
                                        committed_txid: (c > 0).then_some(c),
                                    },
                                ),
                                first_txn_id: c + 1,
                                num_txns: 0,
                                records: Bytes::new(),
                                segment_txn_id: seg,
                                name_service_id: None,
                            }
                        });
                    let node = l.clone();
                    tokio::spawn(async move {
                        if let Err(e) = f.await {
                            tracing::debug!(node = %node.addr, "commit heartbeat failed: {e}");
                        }
                        node.heartbeat_pending.store(false, Ordering::SeqCst);
                    });
                }
            }
        });
    }

    pub fn uri(&self) -> &QjournalUri {
        &self.uri
    }

    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    pub fn loggers(&self) -> &[Arc<Logger>] {
        &self.loggers
    }

    fn addrs(&self) -> &[String] {
        &self.uri.addrs
    }

    fn need(&self) -> usize {
        majority(self.loggers.len())
    }

    fn jid(&self) -> pb::JournalIdProto {
        jid(&self.uri.journal_id)
    }

    /// A builder of the RequestInfo for a queued call (epoch and committed txid are read
    /// at send time, so the freshest committed txid rides along).
    fn req_builder(&self) -> impl Fn(u64) -> pb::RequestInfoProto + Send + Sync + Clone + 'static {
        let epoch = self.epoch();
        let committed = self.committed.clone();
        let journal = self.uri.journal_id.clone();
        move |serial| {
            let c = committed.load(Ordering::SeqCst);
            req_to_proto(
                &journal,
                &RequestInfo {
                    epoch,
                    serial,
                    committed_txid: (c > 0).then_some(c),
                },
            )
        }
    }

    async fn quorum<T: Send + 'static>(
        &self,
        what: &str,
        calls: Vec<BoxFut<T>>,
        need: usize,
        timeout: Duration,
    ) -> Result<Vec<(usize, T)>, EditLogError> {
        with_quorum(
            &format!("{what} on {}", self.uri),
            self.addrs(),
            calls,
            need,
            timeout,
        )
        .await
        .map_err(|f| edit_err(f.message))
    }

    /// Formats every JournalNode (all must answer, as in Hadoop).
    pub async fn format(&self, force: bool) -> Result<(), EditLogError> {
        let calls = self
            .loggers
            .iter()
            .map(|l| {
                l.direct::<_, pb::FormatResponseProto>(
                    "format",
                    pb::FormatRequestProto {
                        jid: self.jid(),
                        ns_info: ns_to_proto(&self.ns),
                        name_service_id: None,
                        force: Some(force),
                    },
                )
            })
            .collect();
        self.quorum("format", calls, self.loggers.len(), self.cfg.other_timeout)
            .await?;
        Ok(())
    }

    /// Whether each JournalNode is formatted (all must answer).
    pub async fn is_formatted(&self) -> Result<Vec<bool>, EditLogError> {
        let calls = self
            .loggers
            .iter()
            .map(|l| {
                l.direct::<_, pb::IsFormattedResponseProto>(
                    "isFormatted",
                    pb::IsFormattedRequestProto {
                        jid: self.jid(),
                        name_service_id: None,
                    },
                )
            })
            .collect();
        let mut r = self
            .quorum(
                "isFormatted",
                calls,
                self.loggers.len(),
                self.cfg.other_timeout,
            )
            .await?;
        r.sort_by_key(|x| x.0);
        Ok(r.into_iter().map(|(_, x)| x.is_formatted).collect())
    }

    /// Each node's state and segments (unreachable nodes report their error).
    pub async fn status(&self) -> Vec<JournalNodeStatus> {
        let mut out = Vec::new();
        for l in &self.loggers {
            let st = l
                .client()
                .call::<_, pb::GetJournalStateResponseProto>(
                    "getJournalState",
                    &pb::GetJournalStateRequestProto {
                        jid: self.jid(),
                        name_service_id: None,
                    },
                )
                .await
                .map_err(|e| e.to_string());
            let segments = match st {
                Ok(ref s) if s.is_formatted.unwrap_or(false) => self
                    .manifest_of(l, 0, true)
                    .await
                    .map(|m| m.0)
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            out.push(JournalNodeStatus {
                addr: l.addr.clone(),
                result: st,
                segments,
            });
        }
        out
    }

    async fn manifest_of(
        &self,
        l: &Arc<Logger>,
        since: u64,
        in_progress: bool,
    ) -> Result<(Vec<SegmentState>, u64), String> {
        let m: pb::GetEditLogManifestResponseProto = l
            .client()
            .call(
                "getEditLogManifest",
                &pb::GetEditLogManifestRequestProto {
                    jid: self.jid(),
                    since_tx_id: since,
                    in_progress_ok: Some(in_progress),
                    name_service_id: None,
                },
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok(manifest_segments(&m))
    }

    /// Manifests from a majority: (node, segments, committed txid).
    async fn manifests(
        &self,
        since: u64,
        in_progress: bool,
    ) -> Result<Vec<(usize, (Vec<SegmentState>, u64))>, EditLogError> {
        let calls = self
            .loggers
            .iter()
            .map(|l| {
                let f = l.direct::<_, pb::GetEditLogManifestResponseProto>(
                    "getEditLogManifest",
                    pb::GetEditLogManifestRequestProto {
                        jid: self.jid(),
                        since_tx_id: since,
                        in_progress_ok: Some(in_progress),
                        name_service_id: None,
                    },
                );
                Box::pin(async move { f.await.map(|m| manifest_segments(&m)) }) as BoxFut<_>
            })
            .collect();
        self.quorum(
            "getEditLogManifest",
            calls,
            self.need(),
            self.cfg.other_timeout,
        )
        .await
    }

    /// Takes a new epoch from a majority. Returns the latest segment start any of them
    /// reported.
    async fn new_epoch(&self) -> Result<Option<u64>, EditLogError> {
        let calls = self
            .loggers
            .iter()
            .map(|l| {
                l.direct::<_, pb::GetJournalStateResponseProto>(
                    "getJournalState",
                    pb::GetJournalStateRequestProto {
                        jid: self.jid(),
                        name_service_id: None,
                    },
                )
            })
            .collect();
        let states = self
            .quorum(
                "getJournalState",
                calls,
                self.need(),
                self.cfg.other_timeout,
            )
            .await?;
        let promised: Vec<u64> = states.iter().map(|(_, s)| s.last_promised_epoch).collect();
        let epoch = recovery::next_epoch(&promised);
        let calls = self
            .loggers
            .iter()
            .map(|l| {
                l.direct::<_, pb::NewEpochResponseProto>(
                    "newEpoch",
                    pb::NewEpochRequestProto {
                        jid: self.jid(),
                        ns_info: ns_to_proto(&self.ns),
                        epoch,
                        name_service_id: None,
                    },
                )
            })
            .collect();
        let answers = self
            .quorum("newEpoch", calls, self.need(), self.cfg.other_timeout)
            .await?;
        self.epoch.store(epoch, Ordering::SeqCst);
        self.committed.store(0, Ordering::SeqCst);
        for l in &self.loggers {
            l.commit_sent.store(0, Ordering::SeqCst);
        }
        tracing::info!(uri = %self.uri, epoch, "took a new writer epoch");
        Ok(answers
            .iter()
            .filter_map(|(_, a)| a.last_segment_tx_id)
            .max())
    }

    /// Recovers segment `segment_txid`: Paxos over the nodes' copies, then finalize.
    async fn recover_segment(&self, segment_txid: u64) -> Result<(), EditLogError> {
        let req = self.req_builder();
        let calls = self
            .loggers
            .iter()
            .map(|l| {
                let req = req.clone();
                let f = l.queued::<_, pb::PrepareRecoveryResponseProto, _>(
                    "prepareRecovery",
                    0,
                    move |s| pb::PrepareRecoveryRequestProto {
                        req_info: req(s),
                        segment_tx_id: segment_txid,
                    },
                );
                Box::pin(async move {
                    f.await.map(|p| PrepareResponse {
                        segment: p.segment_state.as_ref().map(seg_from_proto),
                        accepted_in_epoch: p.accepted_in_epoch,
                        last_writer_epoch: p.last_writer_epoch,
                        last_committed_txid: p.last_committed_tx_id,
                        digest: p.segment_digest,
                    })
                }) as BoxFut<_>
            })
            .collect();
        let answers = self
            .quorum(
                "prepareRecovery",
                calls,
                self.need(),
                self.cfg.other_timeout,
            )
            .await?;
        let responses: Vec<PrepareResponse> = answers.iter().map(|(_, r)| *r).collect();
        let chosen = recovery::choose(&responses).map_err(|e| edit_err(e.to_string()))?;
        let Some((best, seg)) = chosen else {
            tracing::info!(uri = %self.uri, segment_txid, "no journal has segment {segment_txid}: nothing to recover");
            return Ok(());
        };
        let from = self.addrs()[answers[best].0].clone();
        let digest = answers[best].1.digest;
        tracing::info!(uri = %self.uri, ?seg, %from, "recovering segment");
        let calls = self
            .loggers
            .iter()
            .map(|l| {
                let req = req.clone();
                let from = from.clone();
                l.queued::<_, pb::AcceptRecoveryResponseProto, _>("acceptRecovery", 0, move |s| {
                    pb::AcceptRecoveryRequestProto {
                        req_info: req(s),
                        state_to_accept: seg_to_proto(&seg),
                        from_url: from,
                        segment_digest: digest,
                    }
                })
            })
            .collect();
        self.quorum("acceptRecovery", calls, self.need(), self.cfg.other_timeout)
            .await?;
        self.finalize_on_quorum(seg.start_txid, seg.end_txid).await
    }

    async fn finalize_on_quorum(&self, first: u64, last: u64) -> Result<(), EditLogError> {
        let req = self.req_builder();
        let calls = self
            .loggers
            .iter()
            .map(|l| {
                let req = req.clone();
                l.queued::<_, pb::FinalizeLogSegmentResponseProto, _>(
                    "finalizeLogSegment",
                    0,
                    move |s| pb::FinalizeLogSegmentRequestProto {
                        req_info: req(s),
                        start_tx_id: first,
                        end_tx_id: last,
                    },
                )
            })
            .collect();
        self.quorum(
            "finalizeLogSegment",
            calls,
            self.need(),
            self.cfg.other_timeout,
        )
        .await?;
        Ok(())
    }

    fn check_writer(&self) -> Result<(), EditLogError> {
        if self.epoch() == 0 {
            return Err(EditLogError::IllegalState {
                journal: self.describe(),
                reason: "not the writer: recover_unfinalized_segments takes an epoch first".into(),
            });
        }
        Ok(())
    }

    /// Reads records `since..` of segment `seg` from the first node that serves them.
    async fn read_segment(
        &self,
        nodes: &[usize],
        seg: SegmentState,
        since: u64,
        max_bytes: u32,
    ) -> Result<Vec<EditRecord>, EditLogError> {
        let mut errors = Vec::new();
        for &i in nodes {
            let l = &self.loggers[i];
            let r: Result<pb::GetSegmentResponseProto, _> = l
                .client()
                .call(
                    "getSegment",
                    &pb::GetSegmentRequestProto {
                        jid: self.jid(),
                        segment_tx_id: seg.start_txid,
                        since_tx_id: since,
                        max_bytes,
                        end_tx_id: Some(seg.end_txid),
                    },
                )
                .await;
            match r {
                Ok(resp) => match split(&resp.records, since, resp.txn_count) {
                    Ok(v) if !v.is_empty() => return Ok(v),
                    Ok(_) => errors.push(format!("{}: no records from {since}", l.addr)),
                    Err(e) => errors.push(format!("{}: {e}", l.addr)),
                },
                Err(e) => {
                    tracing::warn!(node = %l.addr, ?seg, "cannot read segment: {e}");
                    errors.push(format!("{}: {e}", l.addr));
                }
            }
        }
        Err(edit_err(format!(
            "cannot read txid {since} of segment {}-{} from any JournalNode of {}: {}",
            seg.start_txid,
            seg.end_txid,
            self.uri,
            errors.join("; ")
        )))
    }
}

fn manifest_segments(m: &pb::GetEditLogManifestResponseProto) -> (Vec<SegmentState>, u64) {
    (
        m.manifest
            .logs
            .iter()
            .map(|l| SegmentState {
                start_txid: l.start_tx_id,
                end_txid: l.end_tx_id,
                in_progress: l.is_in_progress.unwrap_or(false),
            })
            .collect(),
        m.manifest.committed_txn_id.unwrap_or(0),
    )
}

/// Splits encoded records, checking txids run from `since`.
fn split(buf: &[u8], since: u64, count: u32) -> Result<Vec<EditRecord>, String> {
    crate::record::check_batch(buf, since, count)?;
    let mut out = Vec::with_capacity(count as usize);
    let mut rest = buf;
    while !rest.is_empty() {
        match decode(rest) {
            Decoded::Record { record, len } => {
                out.push(record);
                rest = &rest[len..];
            }
            Decoded::Incomplete { .. } => return Err("truncated record".into()),
            Decoded::Invalid { reason } => return Err(reason),
        }
    }
    Ok(out)
}

#[async_trait]
impl JournalManager for QuorumJournal {
    fn describe(&self) -> String {
        format!("QuorumJournal({})", self.uri)
    }

    async fn recover_unfinalized_segments(&self) -> Result<u64, EditLogError> {
        if let Some(seg) = self.new_epoch().await? {
            self.recover_segment(seg).await?;
        }
        let manifests = self.manifests(0, false).await?;
        Ok(manifests
            .iter()
            .flat_map(|(_, (segs, _))| segs.iter().map(|s| s.end_txid))
            .max()
            .unwrap_or(0))
    }

    async fn start_log_segment(&self, first_txid: u64) -> Result<(), EditLogError> {
        self.check_writer()?;
        let req = self.req_builder();
        let calls = self
            .loggers
            .iter()
            .map(|l| {
                l.out_of_sync.store(false, Ordering::SeqCst);
                let req = req.clone();
                let f = l.queued::<_, pb::StartLogSegmentResponseProto, _>("startLogSegment", 0, move |s| {
                    pb::StartLogSegmentRequestProto {
                        req_info: req(s),
                        txid: first_txid,
                        layout_version: None,
                    }
                });
                let l = l.clone();
                Box::pin(async move {
                    let r = f.await;
                    if let Err(e) = &r {
                        tracing::warn!(node = %l.addr, first_txid, "JournalNode missed the segment start; skipped until the next segment: {e}");
                        l.out_of_sync.store(true, Ordering::SeqCst);
                    }
                    r
                }) as BoxFut<_>
            })
            .collect();
        self.quorum(
            "startLogSegment",
            calls,
            self.need(),
            self.cfg.other_timeout,
        )
        .await?;
        self.segment.store(first_txid, Ordering::SeqCst);
        Ok(())
    }

    async fn journal(
        &self,
        first_txid: u64,
        count: u32,
        records: Bytes,
    ) -> Result<(), EditLogError> {
        self.check_writer()?;
        let segment = self.segment.load(Ordering::SeqCst);
        let req = self.req_builder();
        let mut calls: Vec<BoxFut<()>> = Vec::new();
        for l in &self.loggers {
            if l.out_of_sync.load(Ordering::SeqCst) {
                let addr = l.addr.clone();
                calls.push(Box::pin(async move {
                    Err(format!("{addr} is out of sync until the next segment"))
                }));
                continue;
            }
            let req = req.clone();
            let recs = records.clone();
            let node = l.clone();
            let f =
                l.queued::<_, pb::JournalResponseProto, _>("journal", records.len(), move |s| {
                    let req_info = req(s);
                    node.commit_sent
                        .fetch_max(req_info.committed_tx_id.unwrap_or(0), Ordering::SeqCst);
                    pb::JournalRequestProto {
                        req_info,
                        first_txn_id: first_txid,
                        num_txns: count,
                        records: recs,
                        segment_txn_id: segment,
                        name_service_id: None,
                    }
                });
            let l = l.clone();
            let last = first_txid + count as u64 - 1;
            calls.push(Box::pin(async move {
                match f.await {
                    Ok(_) => {
                        l.acked_txid.fetch_max(last, Ordering::SeqCst);
                        Ok(())
                    }
                    Err(e) => {
                        if !l.out_of_sync.swap(true, Ordering::SeqCst) {
                            tracing::warn!(node = %l.addr, first_txid, "JournalNode failed a write; skipped until the next segment: {e}");
                        }
                        Err(e)
                    }
                }
            }));
        }
        self.quorum(
            &format!(
                "journal of txids {first_txid}..{}",
                first_txid + count as u64 - 1
            ),
            calls,
            self.need(),
            self.cfg.write_txns_timeout,
        )
        .await?;
        self.committed
            .fetch_max(first_txid + count as u64 - 1, Ordering::SeqCst);
        Ok(())
    }

    async fn finalize_log_segment(
        &self,
        first_txid: u64,
        last_txid: u64,
    ) -> Result<(), EditLogError> {
        self.check_writer()?;
        self.finalize_on_quorum(first_txid, last_txid).await?;
        self.segment.store(0, Ordering::SeqCst);
        Ok(())
    }

    async fn read_edits(
        &self,
        from_txid: u64,
        max: usize,
        include_in_progress: bool,
    ) -> Result<Vec<EditRecord>, EditLogError> {
        let from = from_txid.max(1);
        if max == 0 {
            return Ok(Vec::new());
        }
        let manifests = self.manifests(from, include_in_progress).await?;
        // The best segment holding `from`: finalized first, then the longest.
        let mut best: Option<(SegmentState, Vec<usize>)> = None;
        let committed = manifests.iter().map(|(_, (_, c))| *c).max().unwrap_or(0);
        for (node, (segs, _)) in &manifests {
            for s in segs.iter().filter(|s| s.contains(from)) {
                let mut s = *s;
                if s.in_progress {
                    // Only edits a majority holds may be read from an open segment.
                    if committed < from {
                        continue;
                    }
                    s.end_txid = s.end_txid.min(committed);
                }
                match &mut best {
                    Some((b, nodes)) if *b == s => nodes.push(*node),
                    Some((b, _))
                        if (!b.in_progress, b.end_txid) >= (!s.in_progress, s.end_txid) => {}
                    _ => best = Some((s, vec![*node])),
                }
            }
        }
        let Some((seg, nodes)) = best else {
            let later = manifests
                .iter()
                .flat_map(|(_, (s, _))| s.iter())
                .filter(|s| s.start_txid > from)
                .map(|s| s.start_txid)
                .min();
            if let Some(next) = later {
                return Err(EditLogError::Gap {
                    journal: self.describe(),
                    from,
                    to: next - 1,
                });
            }
            return Ok(Vec::new());
        };
        let mut recs = self.read_segment(&nodes, seg, from, 4 << 20).await?;
        recs.truncate(max);
        Ok(recs)
    }

    /// A Standby looks every few milliseconds; most looks find nothing. A full read
    /// costs a manifest (a directory listing) on every node, so after a look that found
    /// nothing the next ones ask one node (round robin) for the committed txid it knows,
    /// answered from memory, and read only when that passed `from_txid`. The data always
    /// comes from a full read, so this changes only when edits are seen, never which:
    /// a node that trails (it missed the heartbeat, or restarted) can hide new edits
    /// until the next node is asked or the next full read, at most
    /// `FULL_TAIL_LOOK_EVERY` later.
    async fn tail_edits(
        &self,
        from_txid: u64,
        max: usize,
    ) -> Result<Vec<EditRecord>, EditLogError> {
        let from = from_txid.max(1);
        let probe = {
            let mut t = self.tail_look.lock().unwrap_or_else(|p| p.into_inner());
            let now = std::time::Instant::now();
            let recent_full = t
                .last_full
                .is_some_and(|at| now.duration_since(at) < FULL_TAIL_LOOK_EVERY);
            if recent_full && !t.last_found_edits && !self.loggers.is_empty() {
                t.next_node = (t.next_node + 1) % self.loggers.len();
                Some(t.next_node)
            } else {
                None
            }
        };
        if let Some(i) = probe {
            let req = pb::GetJournalStateRequestProto {
                jid: self.jid(),
                name_service_id: None,
            };
            let answer = tokio::time::timeout(
                TAIL_PROBE_TIMEOUT,
                self.loggers[i]
                    .client()
                    .call::<_, pb::GetJournalStateResponseProto>("getJournalState", &req),
            )
            .await;
            if let Ok(Ok(st)) = answer {
                if st.committed_tx_id.is_some_and(|c| c < from) {
                    return Ok(Vec::new());
                }
            }
        }
        let recs = self.read_edits(from, max, true).await;
        let mut t = self.tail_look.lock().unwrap_or_else(|p| p.into_inner());
        // Only a full read that a majority answered allows cheap looks after it: a
        // successful look always means a majority answered within the last
        // FULL_TAIL_LOOK_EVERY (the NameNode's health relies on tailer reads for that).
        if recs.is_ok() {
            t.last_full = Some(std::time::Instant::now());
        }
        t.last_found_edits = recs.as_ref().is_ok_and(|r| !r.is_empty());
        recs
    }

    async fn list_segments(&self) -> Result<Vec<SegmentInfo>, EditLogError> {
        let manifests = self.manifests(0, true).await?;
        let mut all: Vec<SegmentState> = manifests
            .iter()
            .flat_map(|(_, (s, _))| s.iter().copied())
            .collect();
        all.sort_by_key(|s| (s.start_txid, s.in_progress, s.end_txid));
        all.dedup_by_key(|s| s.start_txid);
        Ok(all
            .into_iter()
            .map(|s| SegmentInfo {
                first_txid: s.start_txid,
                last_txid: (!s.in_progress).then_some(s.end_txid),
                in_progress: s.in_progress,
                location: self.describe(),
            })
            .collect())
    }

    /// Some JournalNode is skipped (missed a write) but answers again.
    async fn wants_roll(&self) -> bool {
        if self.epoch() == 0 || self.segment.load(Ordering::SeqCst) == 0 {
            return false;
        }
        for l in self
            .loggers
            .iter()
            .filter(|l| l.out_of_sync.load(Ordering::SeqCst))
        {
            let req = pb::GetJournalStateRequestProto {
                jid: self.jid(),
                name_service_id: None,
            };
            let probe = l
                .client()
                .call::<_, pb::GetJournalStateResponseProto>("getJournalState", &req);
            let answer = tokio::time::timeout(Duration::from_millis(500), probe).await;
            if let Ok(Ok(st)) = answer {
                if !st.is_formatted.unwrap_or(true) {
                    continue; // its syncer formats it first
                }
                let now = std::time::Instant::now();
                let mut last = self
                    .last_resync_roll
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                if last.is_some_and(|t| now.duration_since(t) < MIN_RESYNC_ROLL_INTERVAL) {
                    return false;
                }
                *last = Some(now);
                tracing::info!(node = %l.addr, "a skipped JournalNode answers again; rolling the edit log to bring it back");
                return true;
            }
        }
        false
    }

    async fn purge_logs_older_than(&self, min_txid_to_keep: u64) -> Result<(), EditLogError> {
        self.check_writer()?;
        let req = self.req_builder();
        let calls = self
            .loggers
            .iter()
            .map(|l| {
                let req = req.clone();
                l.queued::<_, pb::PurgeLogsResponseProto, _>("purgeLogs", 0, move |s| {
                    pb::PurgeLogsRequestProto {
                        req_info: req(s),
                        min_tx_id_to_keep: min_txid_to_keep,
                    }
                })
            })
            .collect();
        // Purging is housekeeping: a node that misses it purges at the next checkpoint.
        if let Err(e) = self
            .quorum("purgeLogs", calls, self.need(), self.cfg.other_timeout)
            .await
        {
            tracing::warn!("{e}");
        }
        Ok(())
    }
}
