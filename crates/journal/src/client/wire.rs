//! The writer core's calls and answers as QJournalProtocol messages.

use bytes::Bytes;
use hafs_proto::qjournal as pb;
use prost::Message;

use super::writer_core::{Answer, Call};
use crate::protocol::{
    jid, ns_to_proto, req_to_proto, seg_from_proto, seg_to_proto, NsInfo, PrepareResponse,
    RequestInfo,
};

/// The RPC method of `call`.
pub fn method(call: &Call) -> &'static str {
    match call {
        Call::GetJournalState => "getJournalState",
        Call::NewEpoch { .. } => "newEpoch",
        Call::PrepareRecovery { .. } => "prepareRecovery",
        Call::AcceptRecovery { .. } => "acceptRecovery",
        Call::FinalizeLogSegment { .. } => "finalizeLogSegment",
        Call::GetEditLogManifest => "getEditLogManifest",
        Call::StartLogSegment { .. } => "startLogSegment",
        Call::Journal { .. } | Call::CommitHeartbeat { .. } => "journal",
        Call::PurgeLogs { .. } => "purgeLogs",
    }
}

/// What the encoder needs besides the call.
pub struct Target<'a> {
    pub journal_id: &'a str,
    pub ns: &'a NsInfo,
    /// Every node's address (`fromURL` of acceptRecovery).
    pub addrs: &'a [String],
}

/// Encodes `call`; `info` is the stamp of a queued call (None for direct ones).
pub fn encode(t: &Target, call: &Call, info: Option<RequestInfo>) -> Bytes {
    let req = |info: Option<RequestInfo>| {
        req_to_proto(
            t.journal_id,
            &info.expect("a queued call is stamped before it is encoded"),
        )
    };
    let v = match call {
        Call::GetJournalState => pb::GetJournalStateRequestProto {
            jid: jid(t.journal_id),
            name_service_id: None,
        }
        .encode_to_vec(),
        Call::NewEpoch { epoch } => pb::NewEpochRequestProto {
            jid: jid(t.journal_id),
            ns_info: ns_to_proto(t.ns),
            epoch: *epoch,
            name_service_id: None,
        }
        .encode_to_vec(),
        Call::GetEditLogManifest => pb::GetEditLogManifestRequestProto {
            jid: jid(t.journal_id),
            since_tx_id: 0,
            in_progress_ok: Some(false),
            name_service_id: None,
        }
        .encode_to_vec(),
        Call::PrepareRecovery { segment_txid } => pb::PrepareRecoveryRequestProto {
            req_info: req(info),
            segment_tx_id: *segment_txid,
        }
        .encode_to_vec(),
        Call::AcceptRecovery {
            segment,
            from,
            digest,
        } => pb::AcceptRecoveryRequestProto {
            req_info: req(info),
            state_to_accept: seg_to_proto(segment),
            from_url: t.addrs[*from].clone(),
            segment_digest: *digest,
        }
        .encode_to_vec(),
        Call::FinalizeLogSegment {
            first_txid,
            last_txid,
        } => pb::FinalizeLogSegmentRequestProto {
            req_info: req(info),
            start_tx_id: *first_txid,
            end_tx_id: *last_txid,
        }
        .encode_to_vec(),
        Call::StartLogSegment { txid } => pb::StartLogSegmentRequestProto {
            req_info: req(info),
            txid: *txid,
            layout_version: None,
        }
        .encode_to_vec(),
        Call::Journal {
            segment_txid,
            first_txid,
            count,
            records,
        } => pb::JournalRequestProto {
            req_info: req(info),
            first_txn_id: *first_txid,
            num_txns: *count,
            records: records.clone(),
            segment_txn_id: *segment_txid,
            name_service_id: None,
        }
        .encode_to_vec(),
        Call::CommitHeartbeat { segment_txid } => {
            let r = req(info);
            let c = r.committed_tx_id.unwrap_or(0);
            pb::JournalRequestProto {
                req_info: r,
                first_txn_id: c + 1,
                num_txns: 0,
                records: Bytes::new(),
                segment_txn_id: *segment_txid,
                name_service_id: None,
            }
            .encode_to_vec()
        }
        Call::PurgeLogs { min_txid_to_keep } => pb::PurgeLogsRequestProto {
            req_info: req(info),
            min_tx_id_to_keep: *min_txid_to_keep,
        }
        .encode_to_vec(),
    };
    Bytes::from(v)
}

/// Decodes the answer to `call` from node `addr`.
pub fn decode(addr: &str, call: &Call, body: Bytes) -> Result<Answer, String> {
    let bad =
        |e: prost::DecodeError| format!("{addr}: undecodable answer to {}: {e}", method(call));
    Ok(match call {
        Call::GetJournalState => {
            let r = pb::GetJournalStateResponseProto::decode(body).map_err(bad)?;
            Answer::JournalState {
                last_promised_epoch: r.last_promised_epoch,
            }
        }
        Call::NewEpoch { .. } => {
            let r = pb::NewEpochResponseProto::decode(body).map_err(bad)?;
            Answer::NewEpoch {
                last_segment_txid: r.last_segment_tx_id,
            }
        }
        Call::GetEditLogManifest => {
            let r = pb::GetEditLogManifestResponseProto::decode(body).map_err(bad)?;
            Answer::Manifest {
                last_txid: r
                    .manifest
                    .logs
                    .iter()
                    .map(|l| l.end_tx_id)
                    .max()
                    .unwrap_or(0),
            }
        }
        Call::PrepareRecovery { .. } => {
            let p = pb::PrepareRecoveryResponseProto::decode(body).map_err(bad)?;
            Answer::Prepared(PrepareResponse {
                segment: p.segment_state.as_ref().map(seg_from_proto),
                accepted_in_epoch: p.accepted_in_epoch,
                last_writer_epoch: p.last_writer_epoch,
                last_committed_txid: p.last_committed_tx_id,
                digest: p.segment_digest,
            })
        }
        // The other answers are empty messages.
        _ => Answer::Ok,
    })
}
