//! ClientProtocol (`org.apache.hadoop.hdfs.protocol.ClientProtocol`) over Hadoop IPC:
//! thin adapters from wire messages to the Namesystem and back.
//!
//! The protocol is the table in [`ClientProtocolService::table`]: one row per method
//! with its HA operation category, whether it is a coordinated read (Hadoop's
//! `@ReadOnly(isCoordinated = true)`: an Observer serves it once aligned with the
//! client's state id, crate::ha::state_alignment) (checked by [`ProtocolService::admit`] before the
//! handler runs, so a Standby answers `StandbyException` and clients fail over) and,
//! for Hadoop's `@AtMostOnce` methods, the retry cache (a retry gets the first answer,
//! even after a failover). The handlers live by area:
//!
//! - `read.rs`: namespace reads (getFileInfo, getListing, getBlockLocations, ...);
//! - `namespace.rs`: namespace changes (mkdirs, delete, rename, set*);
//! - `write.rs`: the write path (create, append, addBlock, complete, pipelines, leases);
//! - `quota.rs`: getQuotaUsage;
//! - `admin.rs`: dfsadmin and HA calls (safe mode, saveNamespace, rollEdits, reports).
//!
//! To add a method: write `async fn name(&self, ctx, RequestProto) ->
//! Result<ResponseProto, RpcError>` in the file of its area, calling the Namesystem,
//! and add its row to the table (with a `replay` if it is at-most-once).

mod absent;
mod acl;
mod admin;
mod namespace;
mod quota;
mod read;
mod refusals;
mod snapshot;
mod storage_policy;
mod write;
mod xattr;

#[cfg(test)]
mod method_list_tests;

use hafs_security::block_token::AccessMode;
use std::sync::{Arc, LazyLock};

use bytes::Bytes;
use hafs_ipc::{
    CallContext, MethodInfo, MethodTable, ProtocolService, RetryGuard, RetryLookup, RpcError,
};
use hafs_proto::hdfs::{self as pb, hdfs_file_status_proto::FileType};

use crate::namespace::{Caller, FileKind, FileStatus};
use crate::namesystem::Namesystem;
use crate::retry_cache::{self, CallKey, Lookup};
use crate::write_path::Located;

pub const PROTOCOL: &str = "org.apache.hadoop.hdfs.protocol.ClientProtocol";

pub struct ClientProtocolService {
    pub fsn: Arc<Namesystem>,
}

impl ClientProtocolService {
    /// Every ClientProtocol method: served, answered as an HDFS without the feature
    /// answers (absent.rs), or deliberately refused (refusals.rs).
    fn table() -> MethodTable<Self> {
        let table = MethodTable::new(PROTOCOL)
            // Namespace reads (read.rs).
            .read("getServerDefaults", Self::get_server_defaults)
            .coordinated_read("getFileInfo", Self::get_file_info)
            .coordinated_read("getLocatedFileInfo", Self::get_located_file_info)
            .coordinated_read("getFileLinkInfo", Self::get_file_link_info)
            .coordinated_read("getListing", Self::get_listing)
            .coordinated_read("getContentSummary", Self::get_content_summary)
            .read("getQuotaUsage", Self::get_quota_usage)
            .coordinated_read("getBlockLocations", Self::get_block_locations)
            .read("getFsStats", Self::get_fs_stats)
            .read(
                "getFsReplicatedBlockStats",
                Self::get_fs_replicated_block_stats,
            )
            .read("getFsECBlockGroupStats", Self::get_fs_ec_block_group_stats)
            // Storage policies (storage_policy.rs): idempotent in Hadoop.
            .coordinated_read("getStoragePolicies", Self::get_storage_policies)
            .coordinated_read("getStoragePolicy", Self::get_storage_policy)
            .write("setStoragePolicy", Self::set_storage_policy)
            .write("unsetStoragePolicy", Self::unset_storage_policy)
            .coordinated_read("isFileClosed", Self::is_file_closed)
            // Namespace changes (namespace.rs).
            .write("mkdirs", Self::mkdirs)
            .at_most_once("delete", Self::delete, Self::delete_again)
            .at_most_once("rename", Self::rename, Self::rename_again)
            .at_most_once("rename2", Self::rename2, Self::rename2_again)
            .at_most_once("concat", Self::concat, Self::concat_again)
            .write("setPermission", Self::set_permission)
            .write("setOwner", Self::set_owner)
            .write("setTimes", Self::set_times)
            .write("setReplication", Self::set_replication)
            .write("setQuota", Self::set_quota)
            // ACLs (acl.rs): idempotent in Hadoop, so no retry cache.
            .write("modifyAclEntries", Self::modify_acl_entries)
            .write("removeAclEntries", Self::remove_acl_entries)
            .write("removeDefaultAcl", Self::remove_default_acl)
            .write("removeAcl", Self::remove_acl)
            .write("setAcl", Self::set_acl)
            .coordinated_read("getAclStatus", Self::get_acl_status)
            // Snapshots (snapshot.rs).
            .write("allowSnapshot", Self::allow_snapshot)
            .write("disallowSnapshot", Self::disallow_snapshot)
            // Hadoop's createSnapshot, deleteSnapshot and renameSnapshot are @AtMostOnce.
            .at_most_once(
                "createSnapshot",
                Self::create_snapshot,
                Self::create_snapshot_again,
            )
            .at_most_once(
                "deleteSnapshot",
                Self::delete_snapshot,
                Self::delete_snapshot_again,
            )
            .at_most_once(
                "renameSnapshot",
                Self::rename_snapshot,
                Self::rename_snapshot_again,
            )
            .coordinated_read(
                "getSnapshottableDirListing",
                Self::get_snapshottable_dir_listing,
            )
            .coordinated_read("getSnapshotDiffReport", Self::get_snapshot_diff_report)
            .coordinated_read(
                "getSnapshotDiffReportListing",
                Self::get_snapshot_diff_report_listing,
            )
            .coordinated_read("getSnapshotListing", Self::get_snapshot_listing)
            // The write path (write.rs).
            .at_most_once("create", Self::create, Self::create_again)
            .at_most_once("append", Self::append, Self::append_again)
            .write("addBlock", Self::add_block)
            .write("abandonBlock", Self::abandon_block)
            .read("getAdditionalDatanode", Self::get_additional_datanode)
            .write("updateBlockForPipeline", Self::update_block_for_pipeline)
            .at_most_once(
                "updatePipeline",
                Self::update_pipeline,
                Self::update_pipeline_again,
            )
            .write("fsync", Self::fsync)
            .write("complete", Self::complete)
            .write("renewLease", Self::renew_lease)
            .write("recoverLease", Self::recover_lease)
            // Idempotent in Hadoop (a retry finds the file cut or being cut): no retry
            // cache.
            .write("truncate", Self::truncate)
            .write("reportBadBlocks", Self::report_bad_blocks)
            // Administration and HA (admin.rs); `method` rows are UNCHECKED.
            // Hadoop's @ReadOnly(activeOnly = true): the Active answers, and its
            // response header carries the state id the client then reads at.
            .write("msync", Self::msync)
            .method("getHAServiceState", Self::get_ha_service_state)
            .method("setSafeMode", Self::set_safe_mode)
            .method("saveNamespace", Self::save_namespace)
            .write("rollEdits", Self::roll_edits)
            // Every NameNode takes it (dfsadmin sends it to each), as in Hadoop.
            .method("setBalancerBandwidth", Self::set_balancer_bandwidth)
            .method("getDatanodeReport", Self::get_datanode_report)
            .method(
                "getDatanodeStorageReport",
                Self::get_datanode_storage_report,
            )
            // Hadoop checks READ: a Standby sends the balancer's probe to the Active.
            .read("rollingUpgrade", Self::rolling_upgrade)
            .method("refreshNodes", Self::refresh_nodes)
            .method("getSlowDatanodeReport", Self::get_slow_datanode_report)
            // Delegation tokens (crate::security::rpc).
            .write("getDelegationToken", Self::get_delegation_token)
            .write("renewDelegationToken", Self::renew_delegation_token)
            .write("cancelDelegationToken", Self::cancel_delegation_token)
            // Extended attributes (xattr.rs).
            .at_most_once("setXAttr", Self::set_xattr, Self::set_xattr_again)
            .coordinated_read("getXAttrs", Self::get_xattrs)
            .coordinated_read("listXAttrs", Self::list_xattrs)
            .at_most_once("removeXAttr", Self::remove_xattr, Self::remove_xattr_again)
            // What an HDFS without the feature answers, and small calls (absent.rs).
            .coordinated_read("listEncryptionZones", Self::list_encryption_zones)
            .coordinated_read("listReencryptionStatus", Self::list_reencryption_status)
            .coordinated_read("getEZForPath", Self::get_ez_for_path)
            .coordinated_read(
                "getErasureCodingPolicies",
                Self::get_erasure_coding_policies,
            )
            .coordinated_read("getErasureCodingCodecs", Self::get_erasure_coding_codecs)
            .coordinated_read("getErasureCodingPolicy", Self::get_erasure_coding_policy)
            .coordinated_read("listOpenFiles", Self::list_open_files)
            .coordinated_read("getPreferredBlockSize", Self::get_preferred_block_size)
            .coordinated_read("getEnclosingRoot", Self::get_enclosing_root)
            .coordinated_read("checkAccess", Self::check_access);
        Self::refusals(table)
    }

    fn caller(&self, ctx: &CallContext) -> Caller {
        self.fsn.caller(&ctx.user)
    }

    /// Signs a block token for the caller into `lb` when block access tokens are on
    /// (Hadoop's `setBlockToken`: READ for reads, WRITE for a pipeline, COPY for the
    /// transfer to an added DataNode).
    fn stamp(&self, ctx: &CallContext, lb: &mut pb::LocatedBlockProto, modes: &[AccessMode]) {
        if let Some(tokens) = self.fsn.bm.block_tokens() {
            tokens.stamp(lb, &ctx.user, modes);
        }
    }

    /// [`stamp`](Self::stamp) for every block of a getBlockLocations answer (READ).
    fn stamp_located(&self, ctx: &CallContext, l: &mut pb::LocatedBlocksProto) {
        if self.fsn.bm.block_tokens().is_none() {
            return;
        }
        for lb in l.blocks.iter_mut().chain(l.last_block.iter_mut()) {
            self.stamp(ctx, lb, &[AccessMode::Read]);
        }
    }

    /// The retry-cache key an at-most-once handler logs with its op, so that a retry
    /// reaching a Standby that becomes Active finds the call done.
    fn retry_key(&self, ctx: &CallContext) -> Option<CallKey> {
        self.fsn.retry_cache.key(&ctx.client_id, ctx.call_id)
    }
}

impl ProtocolService for ClientProtocolService {
    fn methods() -> &'static MethodTable<Self> {
        static METHODS: LazyLock<MethodTable<ClientProtocolService>> =
            LazyLock::new(ClientProtocolService::table);
        &METHODS
    }

    /// The HA check of the row's category. For at-most-once methods it comes before
    /// the retry cache, as in Hadoop: a Standby must not answer from its retry cache
    /// (rebuilt from the edits); the client has to fail over to the Active, which
    /// answers the same.
    fn admit(&self, _ctx: &CallContext, method: &MethodInfo) -> Result<(), RpcError> {
        self.fsn.check_operation(method.category)
    }

    /// Coordinated reads on an Observer wait until it has applied the client's state.
    async fn align(&self, ctx: &CallContext, method: &MethodInfo) -> Result<(), RpcError> {
        if !method.coordinated {
            return Ok(());
        }
        self.fsn.align_read(ctx.state_id).await
    }

    async fn retry_lookup(&self, ctx: &CallContext) -> RetryLookup {
        let key = Namesystem::call_key(&ctx.client_id, ctx.call_id);
        match self.fsn.retry_cache.lookup(key).await {
            Lookup::Replay(Some(answer)) => RetryLookup::Answered(answer),
            Lookup::Replay(None) => RetryLookup::Rebuild,
            Lookup::Run(guard) => RetryLookup::Run(Box::new(guard)),
        }
    }
}

impl RetryGuard for retry_cache::RetryGuard {
    fn finish(self: Box<Self>, answer: Option<&[u8]>) {
        match answer {
            Some(answer) => self.succeeded(answer),
            None => self.failed(),
        }
    }
}

fn status_proto(s: &FileStatus) -> pb::HdfsFileStatusProto {
    let is_dir = s.kind == FileKind::Directory;
    pb::HdfsFileStatusProto {
        file_type: if is_dir {
            FileType::IsDir
        } else {
            FileType::IsFile
        } as i32,
        path: Bytes::from(s.name.clone()),
        length: s.length,
        permission: pb::FsPermissionProto {
            perm: u32::from(s.permission),
        },
        owner: s.owner.clone(),
        group: s.group.clone(),
        modification_time: s.mtime.max(0) as u64,
        access_time: s.atime.max(0) as u64,
        block_replication: Some(if is_dir { 0 } else { u32::from(s.replication) }),
        blocksize: Some(if is_dir { 0 } else { s.block_size }),
        file_id: Some(s.inode_id),
        children_num: Some(if is_dir { s.children_num as i32 } else { 0 }),
        storage_policy: Some(u32::from(s.storage_policy)),
        flags: Some(if s.has_acl {
            pb::hdfs_file_status_proto::Flags::HasAcl as u32
        } else {
            0
        }),
        ..Default::default()
    }
}

fn located_blocks_proto(l: Located) -> pb::LocatedBlocksProto {
    pb::LocatedBlocksProto {
        file_length: l.file_length,
        blocks: l.blocks,
        under_construction: l.under_construction,
        last_block: l.last_block,
        is_last_block_complete: l.last_complete,
        ..Default::default()
    }
}

/// The client's address, for writer-local placement and nearest-first reads.
fn client_ip(ctx: &CallContext) -> Option<std::net::IpAddr> {
    Some(ctx.peer.ip())
}

/// The permission bits of a client's mode. The client sends `masked` (its umask
/// applied) and, in newer clients, `unmasked` too; the NameNode uses `masked` unless
/// the new inode inherits a default ACL (Namespace::create_mode).
fn masked_perm(p: &pb::FsPermissionProto) -> u16 {
    (p.perm & 0o1777) as u16
}

/// A replication factor from the wire, refused when it does not fit.
fn replication(r: u32) -> Result<u16, RpcError> {
    u16::try_from(r).map_err(|_| RpcError::illegal_argument(format!("invalid replication {r}")))
}

#[cfg(test)]
mod tests {
    use hafs_ipc::OperationCategory as Cat;

    use super::*;

    fn rows_where(f: impl Fn(&MethodInfo) -> bool) -> Vec<&'static str> {
        let mut names: Vec<_> = ClientProtocolService::methods()
            .rows()
            .filter(|m| f(m))
            .map(|m| m.name)
            .collect();
        names.sort_unstable();
        names
    }

    /// The methods Hadoop's ClientProtocol marks `@AtMostOnce`, of those served here.
    #[test]
    fn at_most_once_rows_are_hadoops() {
        assert_eq!(
            rows_where(|m| m.at_most_once),
            [
                "append",
                "concat",
                "create",
                "createSnapshot",
                "delete",
                "deleteSnapshot",
                "removeXAttr",
                "rename",
                "rename2",
                "renameSnapshot",
                "setXAttr",
                "updatePipeline"
            ]
        );
        assert!(rows_where(|m| m.at_most_once && m.category != Cat::Write).is_empty());
    }

    /// What a Standby serves: reads only with stale reads allowed; the UNCHECKED rows
    /// (HA state, dfsadmin calls that check for themselves) always; refusals answer
    /// the same everywhere.
    #[test]
    fn categories() {
        assert_eq!(
            rows_where(|m| m.category == Cat::Read),
            [
                "checkAccess",
                "getAclStatus",
                "getAdditionalDatanode",
                "getBlockLocations",
                "getContentSummary",
                "getEZForPath",
                "getEnclosingRoot",
                "getErasureCodingCodecs",
                "getErasureCodingPolicies",
                "getErasureCodingPolicy",
                "getFileInfo",
                "getFileLinkInfo",
                "getFsECBlockGroupStats",
                "getFsReplicatedBlockStats",
                "getFsStats",
                "getListing",
                "getLocatedFileInfo",
                "getPreferredBlockSize",
                "getQuotaUsage",
                "getServerDefaults",
                "getSnapshotDiffReport",
                "getSnapshotDiffReportListing",
                "getSnapshotListing",
                "getSnapshottableDirListing",
                "getStoragePolicies",
                "getStoragePolicy",
                "getXAttrs",
                "isFileClosed",
                "listEncryptionZones",
                "listOpenFiles",
                "listReencryptionStatus",
                "listXAttrs",
                "rollingUpgrade",
            ]
        );
        assert_eq!(
            rows_where(|m| m.category == Cat::Unchecked && m.refusal.is_none()),
            [
                "getDatanodeReport",
                "getDatanodeStorageReport",
                "getHAServiceState",
                "getSlowDatanodeReport",
                "refreshNodes",
                "saveNamespace",
                "setBalancerBandwidth",
                "setSafeMode"
            ]
        );
        assert_eq!(ClientProtocolService::methods().rows().count(), 111);
    }

    /// The coordinated reads: what an Observer serves only once aligned with the
    /// client's state. The other READ rows (server defaults, stats, getQuotaUsage,
    /// getAdditionalDatanode) are not coordinated, as in Hadoop; msync is Active-only.
    #[test]
    fn coordinated_rows_are_reads() {
        assert_eq!(
            rows_where(|m| m.coordinated),
            [
                "checkAccess",
                "getAclStatus",
                "getBlockLocations",
                "getContentSummary",
                "getEZForPath",
                "getEnclosingRoot",
                "getErasureCodingCodecs",
                "getErasureCodingPolicies",
                "getErasureCodingPolicy",
                "getFileInfo",
                "getFileLinkInfo",
                "getListing",
                "getLocatedFileInfo",
                "getPreferredBlockSize",
                "getSnapshotDiffReport",
                "getSnapshotDiffReportListing",
                "getSnapshotListing",
                "getSnapshottableDirListing",
                "getStoragePolicies",
                "getStoragePolicy",
                "getXAttrs",
                "isFileClosed",
                "listEncryptionZones",
                "listOpenFiles",
                "listReencryptionStatus",
                "listXAttrs",
            ]
        );
        assert!(rows_where(|m| m.coordinated && m.category != Cat::Read).is_empty());
        assert_eq!(
            ClientProtocolService::methods()
                .info("msync")
                .map(|m| m.category),
            Some(Cat::Write)
        );
    }
}
