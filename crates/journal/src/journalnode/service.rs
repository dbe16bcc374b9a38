//! The QJournalProtocol RPC service of a JournalNode.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hafs_ipc::{decode_request, encode_response, CallContext, RpcError, RpcService};
use hafs_proto::qjournal as pb;

use super::convert::*;
use crate::qjournal::{FileStorage, Journal, QjError};

pub const QJOURNAL_PROTOCOL: &str = "org.apache.hadoop.hdfs.qjournal.protocol.QJournalProtocol";

/// Largest getSegment answer, whatever the caller asks.
const MAX_SEGMENT_READ: usize = 8 << 20;
/// Journal ids served by one node.
const MAX_JOURNALS: usize = 1000;

#[derive(Debug, Clone)]
pub struct JournalNodeConfig {
    /// `dfs.journalnode.edits.dir`.
    pub edits_dir: PathBuf,
    /// Other JournalNodes (`host:port`) to copy missing segments from.
    pub peers: Vec<String>,
    /// `dfs.journalnode.sync.interval` (Hadoop: 2 minutes).
    pub sync_interval: Duration,
    /// `dfs.journalnode.enable.sync.format`: the syncer may format an empty journal
    /// with a peer's namespace (hafs default: true, so a wiped node repairs itself).
    pub sync_format: bool,
}

type Shared = Arc<Mutex<Journal<FileStorage>>>;

pub struct JournalNode {
    pub config: JournalNodeConfig,
    journals: Mutex<HashMap<String, Shared>>,
    /// The built-in election's leases (journalnode/election.rs).
    pub(super) leases: super::election::LeaseTable,
}

fn check_jid(jid: &str) -> Result<(), RpcError> {
    let ok = !jid.is_empty()
        && jid.len() <= 255
        && jid != "."
        && jid != ".."
        && jid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(RpcError::illegal_argument(format!(
            "bad journal id '{jid}': use letters, digits, '.', '_' and '-'"
        )))
    }
}

pub fn to_rpc(e: QjError) -> RpcError {
    RpcError::new(e.java_class(), e.to_string())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl JournalNode {
    pub fn new(config: JournalNodeConfig) -> Arc<JournalNode> {
        Arc::new(JournalNode {
            config,
            journals: Mutex::new(HashMap::new()),
            leases: Default::default(),
        })
    }

    /// The journal `jid`, opened (and locked) on first use.
    pub fn journal(&self, jid: &str) -> Result<Shared, RpcError> {
        check_jid(jid)?;
        let mut map = lock(&self.journals);
        if let Some(j) = map.get(jid) {
            return Ok(j.clone());
        }
        if map.len() >= MAX_JOURNALS {
            return Err(RpcError::io(format!(
                "this JournalNode serves {MAX_JOURNALS} journals already"
            )));
        }
        let storage = FileStorage::open(&self.config.edits_dir, jid).map_err(to_rpc)?;
        let j = Arc::new(Mutex::new(Journal::load(jid, storage).map_err(to_rpc)?));
        map.insert(jid.to_string(), j.clone());
        Ok(j)
    }

    /// Journal ids present on disk or opened.
    pub fn journal_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = lock(&self.journals).keys().cloned().collect();
        if let Ok(rd) = std::fs::read_dir(&self.config.edits_dir) {
            for e in rd.flatten().take(MAX_JOURNALS) {
                if let Some(n) = e.file_name().to_str() {
                    if e.path().join("current").join("VERSION").exists()
                        && !ids.iter().any(|i| i == n)
                    {
                        ids.push(n.to_string());
                    }
                }
            }
        }
        ids.sort();
        ids
    }

    /// Runs `f` on journal `jid` on the blocking pool.
    pub async fn with<T, F>(&self, jid: &str, f: F) -> Result<T, RpcError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Journal<FileStorage>) -> Result<T, QjError> + Send + 'static,
    {
        let j = self.journal(jid)?;
        tokio::task::spawn_blocking(move || f(&mut lock(&j)).map_err(to_rpc))
            .await
            .map_err(|e| RpcError::io(format!("journal task failed: {e}")))?
    }

    async fn dispatch(&self, method: &str, b: Bytes) -> Result<Bytes, RpcError> {
        Ok(match method {
            "isFormatted" => {
                let r: pb::IsFormattedRequestProto = decode_request(&b)?;
                let f = self
                    .with(&r.jid.identifier, |j| Ok(j.is_formatted()))
                    .await?;
                encode_response(&pb::IsFormattedResponseProto { is_formatted: f })
            }
            "getJournalState" => {
                let r: pb::GetJournalStateRequestProto = decode_request(&b)?;
                let (s, ns) = self
                    .with(&r.jid.identifier, |j| Ok((j.status(), j.ns().cloned())))
                    .await?;
                encode_response(&pb::GetJournalStateResponseProto {
                    last_promised_epoch: s.last_promised_epoch,
                    http_port: 0,
                    from_url: None,
                    last_writer_epoch: Some(s.last_writer_epoch),
                    committed_tx_id: Some(s.committed_txid),
                    highest_written_tx_id: Some(s.highest_written_txid),
                    is_formatted: Some(s.formatted),
                    ns_info: ns.as_ref().map(ns_to_proto),
                })
            }
            "format" => {
                let r: pb::FormatRequestProto = decode_request(&b)?;
                let ns = ns_from_proto(&r.ns_info);
                let force = r.force.unwrap_or(false);
                self.with(&r.jid.identifier, move |j| j.format(&ns, force))
                    .await?;
                encode_response(&pb::FormatResponseProto {})
            }
            "newEpoch" => {
                let r: pb::NewEpochRequestProto = decode_request(&b)?;
                let ns = ns_from_proto(&r.ns_info);
                let epoch = r.epoch;
                let last = self
                    .with(&r.jid.identifier, move |j| j.new_epoch(&ns, epoch))
                    .await?;
                encode_response(&pb::NewEpochResponseProto {
                    last_segment_tx_id: last,
                })
            }
            "startLogSegment" => {
                let r: pb::StartLogSegmentRequestProto = decode_request(&b)?;
                let req = req_from_proto(&r.req_info);
                let txid = r.txid;
                self.with(&r.req_info.journal_id.identifier, move |j| {
                    j.start_log_segment(&req, txid)
                })
                .await?;
                encode_response(&pb::StartLogSegmentResponseProto {})
            }
            "journal" => {
                let r: pb::JournalRequestProto = decode_request(&b)?;
                let req = req_from_proto(&r.req_info);
                let jid = r.req_info.journal_id.identifier.clone();
                self.with(&jid, move |j| {
                    j.journal(
                        &req,
                        r.segment_txn_id,
                        r.first_txn_id,
                        r.num_txns,
                        &r.records,
                    )
                })
                .await?;
                encode_response(&pb::JournalResponseProto {})
            }
            "heartbeat" => {
                let r: pb::HeartbeatRequestProto = decode_request(&b)?;
                let req = req_from_proto(&r.req_info);
                self.with(&r.req_info.journal_id.identifier, move |j| {
                    j.heartbeat(&req)
                })
                .await?;
                encode_response(&pb::HeartbeatResponseProto {})
            }
            "finalizeLogSegment" => {
                let r: pb::FinalizeLogSegmentRequestProto = decode_request(&b)?;
                let req = req_from_proto(&r.req_info);
                let (s, e) = (r.start_tx_id, r.end_tx_id);
                self.with(&r.req_info.journal_id.identifier, move |j| {
                    j.finalize_log_segment(&req, s, e)
                })
                .await?;
                encode_response(&pb::FinalizeLogSegmentResponseProto {})
            }
            "purgeLogs" => {
                let r: pb::PurgeLogsRequestProto = decode_request(&b)?;
                let req = req_from_proto(&r.req_info);
                let min = r.min_tx_id_to_keep;
                self.with(&r.req_info.journal_id.identifier, move |j| {
                    j.purge_logs(&req, min)
                })
                .await?;
                encode_response(&pb::PurgeLogsResponseProto {})
            }
            "getEditLogManifest" => {
                let r: pb::GetEditLogManifestRequestProto = decode_request(&b)?;
                let (since, ip) = (r.since_tx_id, r.in_progress_ok.unwrap_or(false));
                let (segs, committed) = self
                    .with(&r.jid.identifier, move |j| {
                        j.get_edit_log_manifest(since, ip)
                    })
                    .await?;
                encode_response(&pb::GetEditLogManifestResponseProto {
                    manifest: pb::RemoteEditLogManifestProto {
                        logs: segs
                            .iter()
                            .map(|s| pb::RemoteEditLogProto {
                                start_tx_id: s.start_txid,
                                end_tx_id: s.end_txid,
                                is_in_progress: Some(s.in_progress),
                            })
                            .collect(),
                        committed_txn_id: Some(committed),
                    },
                    http_port: 0,
                    from_url: None,
                })
            }
            "getJournaledEdits" => {
                let r: pb::GetJournaledEditsRequestProto = decode_request(&b)?;
                let (since, max) = (r.since_tx_id, r.max_txns.min(100_000));
                let (bytes, n) = self
                    .with(&r.jid.identifier, move |j| {
                        j.get_journaled_edits(since, max)
                    })
                    .await?;
                encode_response(&pb::GetJournaledEditsResponseProto {
                    txn_count: n,
                    edit_log: Some(bytes.into()),
                })
            }
            "getSegment" => {
                let r: pb::GetSegmentRequestProto = decode_request(&b)?;
                let max = (r.max_bytes as usize).clamp(1, MAX_SEGMENT_READ);
                let (seg, bytes, n) = self
                    .with(&r.jid.identifier, move |j| {
                        j.read_segment(r.segment_tx_id, r.end_tx_id, r.since_tx_id, max)
                    })
                    .await?;
                encode_response(&pb::GetSegmentResponseProto {
                    segment_state: seg_to_proto(&seg),
                    txn_count: n,
                    records: bytes.into(),
                })
            }
            "prepareRecovery" => {
                let r: pb::PrepareRecoveryRequestProto = decode_request(&b)?;
                let req = req_from_proto(&r.req_info);
                let seg = r.segment_tx_id;
                let p = self
                    .with(&r.req_info.journal_id.identifier, move |j| {
                        j.prepare_recovery(&req, seg)
                    })
                    .await?;
                encode_response(&pb::PrepareRecoveryResponseProto {
                    segment_state: p.segment.as_ref().map(seg_to_proto),
                    accepted_in_epoch: p.accepted_in_epoch,
                    last_writer_epoch: p.last_writer_epoch,
                    last_committed_tx_id: p.last_committed_txid,
                    segment_digest: p.digest,
                })
            }
            "acceptRecovery" => {
                let r: pb::AcceptRecoveryRequestProto = decode_request(&b)?;
                self.accept_recovery(r).await?;
                encode_response(&pb::AcceptRecoveryResponseProto {})
            }
            _ => match self.dispatch_election(method, &b).await {
                Some(r) => r?,
                None => return Err(RpcError::no_such_method(QJOURNAL_PROTOCOL, method)),
            },
        })
    }

    /// Paxos phase 2: check, copy the chosen segment from `fromURL` if ours differs,
    /// then record the decision and install the copy.
    async fn accept_recovery(&self, r: pb::AcceptRecoveryRequestProto) -> Result<(), RpcError> {
        let jid = r.req_info.journal_id.identifier.clone();
        let req = req_from_proto(&r.req_info);
        let seg = seg_from_proto(&r.state_to_accept);
        let digest = r.segment_digest;
        let need_copy = self
            .with(&jid, move |j| j.check_accept(&req, seg, digest))
            .await?;
        if need_copy {
            let (records, count) = super::syncer::fetch_segment(&r.from_url, &jid, seg)
                .await
                .map_err(|e| {
                    RpcError::io(format!(
                        "cannot copy segment {seg:?} from {}: {e}",
                        r.from_url
                    ))
                })?;
            self.with(&jid, move |j| j.stage_copy(seg, &records, count, digest))
                .await?;
        }
        self.with(&jid, move |j| j.accept_recovery(&req, seg, digest))
            .await
    }
}

pub struct Service(pub Arc<JournalNode>);

#[async_trait::async_trait]
impl RpcService for Service {
    fn protocol_name(&self) -> &'static str {
        QJOURNAL_PROTOCOL
    }

    async fn call(
        &self,
        _ctx: &CallContext,
        method: &str,
        request: Bytes,
    ) -> Result<Bytes, RpcError> {
        self.0.dispatch(method, request).await
    }
}

impl JournalNode {
    /// The RPC service to register with a [`hafs_ipc::Server`].
    pub fn service(self: &Arc<Self>) -> Arc<dyn RpcService> {
        Arc::new(Service(self.clone()))
    }
}
