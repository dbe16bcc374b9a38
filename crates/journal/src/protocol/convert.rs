//! Conversions between protocol messages and the core's plain values.

use hafs_proto::qjournal as pb;

use super::types::{NsInfo, RequestInfo, SegmentState};

pub fn jid(s: &str) -> pb::JournalIdProto {
    pb::JournalIdProto {
        identifier: s.to_string(),
    }
}

pub fn ns_to_proto(ns: &NsInfo) -> pb::QJournalNamespaceInfoProto {
    pb::QJournalNamespaceInfoProto {
        layout_version: ns.layout_version,
        namespace_id: ns.namespace_id,
        cluster_id: ns.cluster_id.clone(),
        block_pool_id: ns.block_pool_id.clone(),
        c_time: Some(0),
    }
}

pub fn ns_from_proto(p: &pb::QJournalNamespaceInfoProto) -> NsInfo {
    NsInfo {
        layout_version: p.layout_version,
        namespace_id: p.namespace_id,
        cluster_id: p.cluster_id.clone(),
        block_pool_id: p.block_pool_id.clone(),
    }
}

pub fn req_to_proto(journal: &str, r: &RequestInfo) -> pb::RequestInfoProto {
    pb::RequestInfoProto {
        journal_id: jid(journal),
        epoch: r.epoch,
        ipc_serial_number: r.serial,
        committed_tx_id: r.committed_txid,
        name_service_id: None,
    }
}

pub fn req_from_proto(p: &pb::RequestInfoProto) -> RequestInfo {
    RequestInfo {
        epoch: p.epoch,
        serial: p.ipc_serial_number,
        committed_txid: p.committed_tx_id,
    }
}

pub fn seg_to_proto(s: &SegmentState) -> pb::SegmentStateProto {
    pb::SegmentStateProto {
        start_tx_id: s.start_txid,
        end_tx_id: s.end_txid,
        is_in_progress: s.in_progress,
    }
}

pub fn seg_from_proto(p: &pb::SegmentStateProto) -> SegmentState {
    SegmentState {
        start_txid: p.start_tx_id,
        end_txid: p.end_tx_id,
        in_progress: p.is_in_progress,
    }
}
