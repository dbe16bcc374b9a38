//! The QJournalProtocol RPC service of a JournalNode.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use hafs_ipc::{CallContext, MethodTable, ProtocolService, RpcError, RpcService};
use hafs_proto::qjournal as pb;

use super::journal::Journal;
use super::storage::FileStorage;
use crate::protocol::*;

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
    /// The built-in election's leases (server/leases.rs).
    pub(super) leases: super::leases::LeaseTable,
}

pub fn to_rpc(e: QjError) -> RpcError {
    RpcError::new(e.java_class(), e.to_string())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    hafs_util::invariant::lock(m, "journal table")
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
        check_journal_id(jid).map_err(to_rpc)?;
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

    /// Every opened journal's state and cluster id, for `/jmx` (journals are opened by
    /// their first call; a scrape opens none). Waits for a journal's lock like any
    /// call, so at most one fsync.
    pub fn opened_journal_status(
        &self,
    ) -> Vec<(String, super::journal::JournalStatus, Option<String>)> {
        let journals: Vec<(String, Shared)> = lock(&self.journals)
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut out: Vec<_> = journals
            .into_iter()
            .map(|(jid, j)| {
                let j = lock(&j);
                (jid, j.status(), j.ns().map(|n| n.cluster_id.clone()))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
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

    /// Runs `f` on journal `jid`, which may block on the disk (a write's `fdatasync`).
    /// On a multi-threaded runtime (the daemon's) it runs on this worker thread, which
    /// hands its other tasks to another worker meanwhile (`block_in_place`): no hand-off
    /// to the blocking pool and back, two thread wake-ups fewer on every edit batch,
    /// which on a busy host were a large part of a quorum write's time. Elsewhere (unit
    /// tests' current-thread runtimes) on the blocking pool.
    pub async fn with<T, F>(&self, jid: &str, f: F) -> Result<T, RpcError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Journal<FileStorage>) -> Result<T, QjError> + Send + 'static,
    {
        let j = self.journal(jid)?;
        if tokio::runtime::Handle::current().runtime_flavor()
            == tokio::runtime::RuntimeFlavor::MultiThread
        {
            return tokio::task::block_in_place(|| f(&mut lock(&j)).map_err(to_rpc));
        }
        tokio::task::spawn_blocking(move || f(&mut lock(&j)).map_err(to_rpc))
            .await
            .map_err(|e| RpcError::io(format!("journal task failed: {e}")))?
    }

    /// Every QJournalProtocol method this node serves, and the election's calls
    /// (election.rs). None has an HA category: epochs fence stale writers instead.
    fn table() -> MethodTable<Self> {
        MethodTable::new(QJOURNAL_PROTOCOL)
            .method("isFormatted", Self::is_formatted)
            .method("getJournalState", Self::get_journal_state)
            .method("format", Self::format)
            .method("newEpoch", Self::new_epoch)
            .method("startLogSegment", Self::start_log_segment)
            .method("journal", Self::journal_edits)
            .method("heartbeat", Self::heartbeat)
            .method("finalizeLogSegment", Self::finalize_log_segment)
            .method("purgeLogs", Self::purge_logs)
            .method("getEditLogManifest", Self::get_edit_log_manifest)
            .method("getJournaledEdits", Self::get_journaled_edits)
            .method("getSegment", Self::get_segment)
            .method("prepareRecovery", Self::prepare_recovery)
            .method("acceptRecovery", Self::accept_recovery_call)
            // The built-in election (election.rs, docs/election.md).
            .method("acquireLease", Self::acquire_lease)
            .method("renewLease", Self::renew_lease)
            .method("releaseLease", Self::release_lease)
            .method("getLeaseState", Self::get_lease_state)
            .method("writeBreadcrumb", Self::write_breadcrumb)
    }

    async fn is_formatted(
        &self,
        _ctx: &CallContext,
        r: pb::IsFormattedRequestProto,
    ) -> Result<pb::IsFormattedResponseProto, RpcError> {
        let f = self
            .with(&r.jid.identifier, |j| Ok(j.is_formatted()))
            .await?;
        Ok(pb::IsFormattedResponseProto { is_formatted: f })
    }

    async fn get_journal_state(
        &self,
        _ctx: &CallContext,
        r: pb::GetJournalStateRequestProto,
    ) -> Result<pb::GetJournalStateResponseProto, RpcError> {
        let (s, ns) = self
            .with(&r.jid.identifier, |j| Ok((j.status(), j.ns().cloned())))
            .await?;
        Ok(pb::GetJournalStateResponseProto {
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

    async fn format(
        &self,
        _ctx: &CallContext,
        r: pb::FormatRequestProto,
    ) -> Result<pb::FormatResponseProto, RpcError> {
        let ns = ns_from_proto(&r.ns_info);
        let force = r.force.unwrap_or(false);
        self.with(&r.jid.identifier, move |j| j.format(&ns, force))
            .await?;
        Ok(pb::FormatResponseProto {})
    }

    async fn new_epoch(
        &self,
        _ctx: &CallContext,
        r: pb::NewEpochRequestProto,
    ) -> Result<pb::NewEpochResponseProto, RpcError> {
        let ns = ns_from_proto(&r.ns_info);
        let epoch = r.epoch;
        let last = self
            .with(&r.jid.identifier, move |j| j.new_epoch(&ns, epoch))
            .await?;
        Ok(pb::NewEpochResponseProto {
            last_segment_tx_id: last,
        })
    }

    async fn start_log_segment(
        &self,
        _ctx: &CallContext,
        r: pb::StartLogSegmentRequestProto,
    ) -> Result<pb::StartLogSegmentResponseProto, RpcError> {
        let req = req_from_proto(&r.req_info);
        let txid = r.txid;
        self.with(&r.req_info.journal_id.identifier, move |j| {
            j.start_log_segment(&req, txid)
        })
        .await?;
        Ok(pb::StartLogSegmentResponseProto {})
    }

    /// QJournalProtocol's `journal`: a batch of edits to the open segment.
    async fn journal_edits(
        &self,
        _ctx: &CallContext,
        r: pb::JournalRequestProto,
    ) -> Result<pb::JournalResponseProto, RpcError> {
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
        Ok(pb::JournalResponseProto {})
    }

    async fn heartbeat(
        &self,
        _ctx: &CallContext,
        r: pb::HeartbeatRequestProto,
    ) -> Result<pb::HeartbeatResponseProto, RpcError> {
        let req = req_from_proto(&r.req_info);
        self.with(&r.req_info.journal_id.identifier, move |j| {
            j.heartbeat(&req)
        })
        .await?;
        Ok(pb::HeartbeatResponseProto {})
    }

    async fn finalize_log_segment(
        &self,
        _ctx: &CallContext,
        r: pb::FinalizeLogSegmentRequestProto,
    ) -> Result<pb::FinalizeLogSegmentResponseProto, RpcError> {
        let req = req_from_proto(&r.req_info);
        let (s, e) = (r.start_tx_id, r.end_tx_id);
        self.with(&r.req_info.journal_id.identifier, move |j| {
            j.finalize_log_segment(&req, s, e)
        })
        .await?;
        Ok(pb::FinalizeLogSegmentResponseProto {})
    }

    async fn purge_logs(
        &self,
        _ctx: &CallContext,
        r: pb::PurgeLogsRequestProto,
    ) -> Result<pb::PurgeLogsResponseProto, RpcError> {
        let req = req_from_proto(&r.req_info);
        let min = r.min_tx_id_to_keep;
        self.with(&r.req_info.journal_id.identifier, move |j| {
            j.purge_logs(&req, min)
        })
        .await?;
        Ok(pb::PurgeLogsResponseProto {})
    }

    async fn get_edit_log_manifest(
        &self,
        _ctx: &CallContext,
        r: pb::GetEditLogManifestRequestProto,
    ) -> Result<pb::GetEditLogManifestResponseProto, RpcError> {
        let (since, ip) = (r.since_tx_id, r.in_progress_ok.unwrap_or(false));
        let (segs, committed) = self
            .with(&r.jid.identifier, move |j| {
                j.get_edit_log_manifest(since, ip)
            })
            .await?;
        let logs = segs
            .iter()
            .map(|s| pb::RemoteEditLogProto {
                start_tx_id: s.start_txid,
                end_tx_id: s.end_txid,
                is_in_progress: Some(s.in_progress),
            })
            .collect();
        Ok(pb::GetEditLogManifestResponseProto {
            manifest: pb::RemoteEditLogManifestProto {
                logs,
                committed_txn_id: Some(committed),
            },
            http_port: 0,
            from_url: None,
        })
    }

    async fn get_journaled_edits(
        &self,
        _ctx: &CallContext,
        r: pb::GetJournaledEditsRequestProto,
    ) -> Result<pb::GetJournaledEditsResponseProto, RpcError> {
        let (since, max) = (r.since_tx_id, r.max_txns.min(100_000));
        let (bytes, n) = self
            .with(&r.jid.identifier, move |j| {
                j.get_journaled_edits(since, max)
            })
            .await?;
        Ok(pb::GetJournaledEditsResponseProto {
            txn_count: n,
            edit_log: Some(bytes.into()),
        })
    }

    async fn get_segment(
        &self,
        _ctx: &CallContext,
        r: pb::GetSegmentRequestProto,
    ) -> Result<pb::GetSegmentResponseProto, RpcError> {
        let max = (r.max_bytes as usize).clamp(1, MAX_SEGMENT_READ);
        let (seg, bytes, n) = self
            .with(&r.jid.identifier, move |j| {
                j.read_segment(r.segment_tx_id, r.end_tx_id, r.since_tx_id, max)
            })
            .await?;
        Ok(pb::GetSegmentResponseProto {
            segment_state: seg_to_proto(&seg),
            txn_count: n,
            records: bytes.into(),
        })
    }

    /// Paxos phase 1 of segment recovery.
    async fn prepare_recovery(
        &self,
        _ctx: &CallContext,
        r: pb::PrepareRecoveryRequestProto,
    ) -> Result<pb::PrepareRecoveryResponseProto, RpcError> {
        let req = req_from_proto(&r.req_info);
        let seg = r.segment_tx_id;
        let p = self
            .with(&r.req_info.journal_id.identifier, move |j| {
                j.prepare_recovery(&req, seg)
            })
            .await?;
        Ok(pb::PrepareRecoveryResponseProto {
            segment_state: p.segment.as_ref().map(seg_to_proto),
            accepted_in_epoch: p.accepted_in_epoch,
            last_writer_epoch: p.last_writer_epoch,
            last_committed_tx_id: p.last_committed_txid,
            segment_digest: p.digest,
        })
    }

    async fn accept_recovery_call(
        &self,
        _ctx: &CallContext,
        r: pb::AcceptRecoveryRequestProto,
    ) -> Result<pb::AcceptRecoveryResponseProto, RpcError> {
        self.accept_recovery(r).await?;
        Ok(pb::AcceptRecoveryResponseProto {})
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

impl ProtocolService for JournalNode {
    fn methods() -> &'static MethodTable<Self> {
        static METHODS: LazyLock<MethodTable<JournalNode>> = LazyLock::new(JournalNode::table);
        &METHODS
    }
}

impl JournalNode {
    /// The RPC service to register with a [`hafs_ipc::Server`].
    pub fn service(self: &Arc<Self>) -> Arc<dyn RpcService> {
        self.clone()
    }
}
