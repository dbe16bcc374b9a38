//! ClientProtocol's quota reads: getQuotaUsage, and the per-type part of a content
//! summary (the quotas themselves are set by setQuota in namespace.rs).

use hafs_ipc::{CallContext, RpcError};
use hafs_proto::hdfs as pb;

use super::ClientProtocolService;
use crate::namespace::ContentSummary;
use crate::namesystem::ns_err;

/// Hadoop sends -1 ("none") as the unsigned all-ones value.
fn wire(q: i64) -> u64 {
    q as u64
}

/// (type, quota, consumed) triples as Hadoop's StorageTypeQuotaInfosProto.
pub(super) fn type_quota_infos(infos: &[(i32, i64, u64)]) -> pb::StorageTypeQuotaInfosProto {
    pb::StorageTypeQuotaInfosProto {
        type_quota_info: infos
            .iter()
            .map(|&(t, quota, consumed)| pb::StorageTypeQuotaInfoProto {
                r#type: Some(t),
                quota: wire(quota),
                consumed,
            })
            .collect(),
    }
}

/// A content summary's per-type quotas and consumption: every type that supports
/// quotas (all but the transient RAM_DISK).
pub(super) fn summary_type_infos(s: &ContentSummary) -> pb::StorageTypeQuotaInfosProto {
    let infos: Vec<(i32, i64, u64)> = (1..=s.type_quotas.len() as i32)
        .filter(|&t| crate::namespace::supports_type_quota(t))
        .map(|t| {
            let i = (t - 1) as usize;
            (t, s.type_quotas[i], s.type_consumed[i])
        })
        .collect();
    type_quota_infos(&infos)
}

impl ClientProtocolService {
    pub(super) async fn get_quota_usage(
        &self,
        ctx: &CallContext,
        r: pb::GetQuotaUsageRequestProto,
    ) -> Result<pb::GetQuotaUsageResponseProto, RpcError> {
        let u = self
            .fsn
            .read()
            .quota_usage(&self.caller(ctx), &r.path)
            .map_err(ns_err)?;
        Ok(pb::GetQuotaUsageResponseProto {
            usage: pb::QuotaUsageProto {
                file_and_directory_count: u.file_and_directory_count,
                quota: wire(u.quota),
                space_consumed: u.space_consumed,
                space_quota: wire(u.space_quota),
                type_quota_infos: Some(type_quota_infos(&u.type_quotas)),
            },
        })
    }
}
