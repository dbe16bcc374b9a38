//! JournalNode catch-up (Hadoop's JournalNodeSyncer): periodically ask each peer for its
//! finalized segments and copy those this node lacks, so a node that was down, or wiped
//! and re-formatted, regains a full copy without an operator.

use std::sync::Arc;
use std::time::Duration;

use hafs_ipc::{ClientConfig, IpcError, RpcClient};
use hafs_proto::qjournal as pb;

use super::service::JournalNode;
use crate::protocol::*;

/// Bytes per getSegment call.
const FETCH_CHUNK: u32 = 4 << 20;
/// Largest segment copied in one piece (kept in memory while it is staged).
const MAX_SEGMENT_COPY: usize = 512 << 20;

pub fn client(addr: &str, timeout: Duration) -> RpcClient {
    let cfg = ClientConfig {
        connect_timeout: timeout,
        call_timeout: timeout,
        ..ClientConfig::default()
    };
    RpcClient::new(addr.to_string(), QJOURNAL_PROTOCOL, cfg)
}

/// Reads all records of segment `seg` (ending at `seg.end_txid`) from the JournalNode
/// at `addr`.
pub async fn fetch_segment(
    addr: &str,
    jid_s: &str,
    seg: SegmentState,
) -> Result<(Vec<u8>, u32), String> {
    let c = client(addr, Duration::from_secs(20));
    fetch_with(&c, jid_s, seg).await
}

pub async fn fetch_with(
    c: &RpcClient,
    jid_s: &str,
    seg: SegmentState,
) -> Result<(Vec<u8>, u32), String> {
    let mut out = Vec::new();
    let mut count = 0u32;
    let mut next = seg.start_txid;
    // Bounded: each round either adds a record or stops.
    while next <= seg.end_txid {
        let resp: pb::GetSegmentResponseProto = c
            .call(
                "getSegment",
                &pb::GetSegmentRequestProto {
                    jid: jid(jid_s),
                    segment_tx_id: seg.start_txid,
                    since_tx_id: next,
                    max_bytes: FETCH_CHUNK,
                    end_tx_id: Some(seg.end_txid),
                },
            )
            .await
            .map_err(|e: IpcError| e.to_string())?;
        if resp.txn_count == 0 {
            return Err(format!(
                "segment {seg:?} ends at txid {} on {}",
                next - 1,
                c.addr()
            ));
        }
        crate::record::check_batch(&resp.records, next, resp.txn_count)?;
        out.extend_from_slice(&resp.records);
        if out.len() > MAX_SEGMENT_COPY {
            return Err(format!(
                "segment {seg:?} is larger than {MAX_SEGMENT_COPY} bytes"
            ));
        }
        count += resp.txn_count;
        next += resp.txn_count as u64;
    }
    Ok((out, count))
}

/// One pass of the syncer over every formatted journal and every peer. Returns the
/// number of segments installed.
pub async fn sync_once(node: &Arc<JournalNode>) -> usize {
    let mut installed = 0;
    for jid_s in node.journal_ids() {
        let formatted = node
            .with(&jid_s, |j| Ok(j.is_formatted()))
            .await
            .unwrap_or(false);
        let usable = formatted || (node.config.sync_format && format_from_peer(node, &jid_s).await);
        if !usable {
            continue;
        }
        for peer in &node.config.peers {
            let c = client(peer, Duration::from_secs(10));
            let manifest: pb::GetEditLogManifestResponseProto = match c
                .call(
                    "getEditLogManifest",
                    &pb::GetEditLogManifestRequestProto {
                        jid: jid(&jid_s),
                        since_tx_id: 0,
                        in_progress_ok: Some(false),
                        name_service_id: None,
                    },
                )
                .await
            {
                Ok(m) => m,
                Err(e) => {
                    tracing::debug!(%peer, jid = %jid_s, "syncer: no manifest: {e}");
                    continue;
                }
            };
            let local = node
                .with(&jid_s, |j| j.segments())
                .await
                .unwrap_or_default();
            for log in manifest.manifest.logs {
                if log.is_in_progress.unwrap_or(false) {
                    continue;
                }
                let seg = SegmentState {
                    start_txid: log.start_tx_id,
                    end_txid: log.end_tx_id,
                    in_progress: false,
                };
                // Skip what overlaps a local segment, except an in-progress copy of the
                // same segment: the Journal replaces that one if it is stale.
                let blocked = local.iter().any(|s| {
                    s.start_txid <= seg.end_txid
                        && seg.start_txid <= s.end_txid
                        && !(s.in_progress && s.start_txid == seg.start_txid)
                });
                let latest = local.iter().map(|s| s.start_txid).max().unwrap_or(0);
                let stale_candidate = local
                    .iter()
                    .any(|s| s.in_progress && s.start_txid == seg.start_txid);
                if blocked || (stale_candidate && latest <= seg.start_txid) {
                    continue;
                }
                match fetch_with(&c, &jid_s, seg).await {
                    Ok((records, count)) => {
                        match node
                            .with(&jid_s, move |j| j.install_finalized(seg, &records, count))
                            .await
                        {
                            Ok(true) => {
                                tracing::info!(%peer, jid = %jid_s, ?seg, "syncer: copied missing segment");
                                installed += 1;
                            }
                            Ok(false) => {}
                            Err(e) => {
                                tracing::warn!(%peer, jid = %jid_s, ?seg, "syncer: cannot install: {e}")
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(%peer, jid = %jid_s, ?seg, "syncer: cannot fetch: {e}")
                    }
                }
            }
        }
    }
    installed
}

/// A journal that exists here only as an empty directory (a wiped disk, a new node)
/// is formatted with the namespace a peer reports, so that catch-up can refill it.
async fn format_from_peer(node: &Arc<JournalNode>, jid_s: &str) -> bool {
    for peer in &node.config.peers {
        let c = client(peer, Duration::from_secs(10));
        let st: Result<pb::GetJournalStateResponseProto, _> = c
            .call(
                "getJournalState",
                &pb::GetJournalStateRequestProto {
                    jid: jid(jid_s),
                    name_service_id: None,
                },
            )
            .await;
        let Some(ns) = st.ok().and_then(|s| s.ns_info) else {
            continue;
        };
        let ns = ns_from_proto(&ns);
        match node.with(jid_s, move |j| j.format(&ns, false)).await {
            Ok(()) => {
                tracing::info!(%peer, jid = %jid_s, "syncer: formatted an empty journal with the namespace of a peer");
                return true;
            }
            Err(e) => {
                tracing::warn!(%peer, jid = %jid_s, "syncer: cannot format the journal: {e}");
                return false;
            }
        }
    }
    false
}

/// Runs the syncer every `interval` until `stop` flips.
pub async fn run(node: Arc<JournalNode>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(node.config.sync_interval);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => { sync_once(&node).await; }
        }
    }
}
