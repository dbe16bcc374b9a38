//! The election's wire conversions, shared by the JournalNode that serves the leases and
//! the `JournalElector` (hafs-ha) that asks for them.

use hafs_proto::qjournal as pb;

use super::lease::LeaseView;
use super::lease_file::{breadcrumb_from_proto, breadcrumb_to_proto};

pub fn view_to_proto(v: &LeaseView) -> pb::LeaseStateProto {
    pb::LeaseStateProto {
        term: v.term,
        holder: v.holder.clone(),
        live: v.live,
        remaining_ms: v.remaining_ms,
        duration_ms: v.duration_ms,
        breadcrumb: v.breadcrumb.as_ref().map(breadcrumb_to_proto),
    }
}

pub fn view_from_proto(p: &pb::LeaseStateProto) -> LeaseView {
    LeaseView {
        term: p.term,
        holder: p.holder.clone(),
        live: p.live,
        remaining_ms: p.remaining_ms,
        duration_ms: p.duration_ms,
        breadcrumb: p.breadcrumb.as_ref().map(breadcrumb_from_proto),
    }
}
