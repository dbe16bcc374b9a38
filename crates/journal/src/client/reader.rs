//! Reading a quorum journal: `read_edits` (manifests from a majority, then the segment
//! from a node that lists it), a Standby's `tail_edits` with its cheap looks, and
//! `list_segments`. Readers take no epoch and never touch the writer core.

use std::time::Duration;

use hafs_proto::qjournal as pb;

use super::call::BoxFut;
use super::qjm::{edit_err, QuorumJournal};
use crate::error::EditLogError;
use crate::manager::{JournalManager, SegmentInfo};
use crate::protocol::SegmentState;
use crate::record::{decode, Decoded, EditRecord};

/// State of a Standby's looks at the journal: a full read (manifests from a majority,
/// then the segment) at least every `FULL_TAIL_LOOK_EVERY`, and in between, after a
/// look that found nothing, only one node's committed txid (round robin).
#[derive(Default)]
pub(super) struct TailLook {
    next_node: usize,
    last_full: Option<std::time::Instant>,
    last_found_edits: bool,
}

/// Longest time between two full reads of a tailer (bounds how long a node that trails
/// in what it knows is committed can hide new edits).
const FULL_TAIL_LOOK_EVERY: Duration = Duration::from_millis(100);
/// A probed node that does not answer this fast is skipped for a full read.
const TAIL_PROBE_TIMEOUT: Duration = Duration::from_millis(200);

impl QuorumJournal {
    /// One node's manifest: (segments, committed txid).
    pub(super) async fn manifest_of(
        &self,
        node: usize,
        since: u64,
        in_progress: bool,
    ) -> Result<(Vec<SegmentState>, u64), String> {
        let m: pb::GetEditLogManifestResponseProto = self.loggers()[node]
            .call(
                "getEditLogManifest",
                &self.manifest_request(since, in_progress),
            )
            .await?;
        Ok(manifest_segments(&m))
    }

    fn manifest_request(
        &self,
        since: u64,
        in_progress: bool,
    ) -> pb::GetEditLogManifestRequestProto {
        pb::GetEditLogManifestRequestProto {
            jid: self.jid(),
            since_tx_id: since,
            in_progress_ok: Some(in_progress),
            name_service_id: None,
        }
    }

    /// Manifests from a majority: (node, segments, committed txid).
    async fn manifests(
        &self,
        since: u64,
        in_progress: bool,
    ) -> Result<Vec<(usize, (Vec<SegmentState>, u64))>, EditLogError> {
        let calls = self
            .loggers()
            .iter()
            .map(|l| {
                let f = l.call::<_, pb::GetEditLogManifestResponseProto>(
                    "getEditLogManifest",
                    &self.manifest_request(since, in_progress),
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
            let l = &self.loggers()[i];
            let r: Result<pb::GetSegmentResponseProto, _> = l
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

    pub(super) async fn read(
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
    pub(super) async fn tail(
        &self,
        from_txid: u64,
        max: usize,
    ) -> Result<Vec<EditRecord>, EditLogError> {
        let from = from_txid.max(1);
        let probe = {
            let mut t = hafs_util::invariant::lock(&self.tail_look, "tail look");
            let now = std::time::Instant::now();
            let recent_full = t
                .last_full
                .is_some_and(|at| now.duration_since(at) < FULL_TAIL_LOOK_EVERY);
            if recent_full && !t.last_found_edits && !self.loggers().is_empty() {
                t.next_node = (t.next_node + 1) % self.loggers().len();
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
                self.loggers()[i]
                    .call::<_, pb::GetJournalStateResponseProto>("getJournalState", &req),
            )
            .await;
            if let Ok(Ok(st)) = answer {
                if st.committed_tx_id.is_some_and(|c| c < from) {
                    return Ok(Vec::new());
                }
            }
        }
        let recs = self.read(from, max, true).await;
        let mut t = hafs_util::invariant::lock(&self.tail_look, "tail look");
        // Only a full read that a majority answered allows cheap looks after it: a
        // successful look always means a majority answered within the last
        // FULL_TAIL_LOOK_EVERY (the NameNode's health relies on tailer reads for that).
        if recs.is_ok() {
            t.last_full = Some(std::time::Instant::now());
        }
        t.last_found_edits = recs.as_ref().is_ok_and(|r| !r.is_empty());
        recs
    }

    pub(super) async fn segments(&self) -> Result<Vec<SegmentInfo>, EditLogError> {
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
