//! ClientProtocol's namespace changes (category WRITE). delete and the renames are
//! at-most-once: their `*_again` functions answer a retry whose first answer the retry
//! cache does not keep (it came from the edit log).

use hafs_ipc::{CallContext, RpcError};
use hafs_proto::hdfs as pb;

use super::{masked_perm, replication, ClientProtocolService};
use crate::namespace::Planned;
use crate::namesystem::ns_err;
use crate::storage::now_ms;

impl ClientProtocolService {
    pub(super) async fn mkdirs(
        &self,
        ctx: &CallContext,
        r: pb::MkdirsRequestProto,
    ) -> Result<pb::MkdirsResponseProto, RpcError> {
        let caller = self.caller(ctx);
        let now = now_ms();
        let perm = masked_perm(&r.masked);
        let unmasked = r.unmasked.as_ref().map(masked_perm);
        self.fsn
            .mutate(&format!("create directory {}", r.src), None, |ns| {
                ns.plan_mkdirs_with_unmasked(&caller, &r.src, perm, unmasked, r.create_parent, now)
            })
            .await?;
        Ok(pb::MkdirsResponseProto { result: true })
    }

    pub(super) async fn delete(
        &self,
        ctx: &CallContext,
        r: pb::DeleteRequestProto,
    ) -> Result<pb::DeleteResponseProto, RpcError> {
        let caller = self.caller(ctx);
        let now = now_ms();
        let result = self
            .fsn
            .mutate(
                &format!("delete {}", r.src),
                self.retry_key(ctx).as_ref(),
                |ns| ns.plan_delete(&caller, &r.src, r.recursive, now),
            )
            .await?;
        Ok(pb::DeleteResponseProto { result })
    }

    pub(super) fn delete_again(
        &self,
        _ctx: &CallContext,
        _r: &pb::DeleteRequestProto,
    ) -> Result<pb::DeleteResponseProto, RpcError> {
        Ok(pb::DeleteResponseProto { result: true })
    }

    pub(super) async fn rename(
        &self,
        ctx: &CallContext,
        r: pb::RenameRequestProto,
    ) -> Result<pb::RenameResponseProto, RpcError> {
        let caller = self.caller(ctx);
        let now = now_ms();
        let what = format!("rename {} to {}", r.src, r.dst);
        let result = self
            .fsn
            .mutate(&what, self.retry_key(ctx).as_ref(), |ns| {
                ns.plan_rename(&caller, &r.src, &r.dst, now)
            })
            .await?;
        Ok(pb::RenameResponseProto { result })
    }

    pub(super) fn rename_again(
        &self,
        _ctx: &CallContext,
        _r: &pb::RenameRequestProto,
    ) -> Result<pb::RenameResponseProto, RpcError> {
        Ok(pb::RenameResponseProto { result: true })
    }

    pub(super) async fn rename2(
        &self,
        ctx: &CallContext,
        r: pb::Rename2RequestProto,
    ) -> Result<pb::Rename2ResponseProto, RpcError> {
        let caller = self.caller(ctx);
        let now = now_ms();
        let what = format!("rename {} to {}", r.src, r.dst);
        self.fsn
            .mutate(&what, self.retry_key(ctx).as_ref(), |ns| {
                ns.plan_rename2(&caller, &r.src, &r.dst, r.overwrite_dest, now)
                    .map(Planned::Apply)
            })
            .await?;
        Ok(pb::Rename2ResponseProto {})
    }

    pub(super) fn rename2_again(
        &self,
        _ctx: &CallContext,
        _r: &pb::Rename2RequestProto,
    ) -> Result<pb::Rename2ResponseProto, RpcError> {
        Ok(pb::Rename2ResponseProto {})
    }

    /// concat: the srcs' blocks move to the target. The block manager learns the
    /// blocks' new file and its replication (a src may have had another), keeping
    /// the replicas it knows.
    pub(super) async fn concat(
        &self,
        ctx: &CallContext,
        r: pb::ConcatRequestProto,
    ) -> Result<pb::ConcatResponseProto, RpcError> {
        let fsn = &self.fsn;
        let caller = self.caller(ctx);
        let now = now_ms();
        let what = format!("concat {:?} to {}", r.srcs, r.trg);
        let ((), outcome) = fsn
            .mutate_op(&what, self.retry_key(ctx).as_ref(), |ns| {
                let op = ns
                    .plan_concat(&caller, &r.trg, &r.srcs, now)
                    .map_err(ns_err)?;
                Ok((Some(op), ()))
            })
            .await?;
        if let Some(id) = outcome.inode_id {
            fsn.refresh_block_collection(id);
        }
        Ok(pb::ConcatResponseProto {})
    }

    pub(super) fn concat_again(
        &self,
        _ctx: &CallContext,
        _r: &pb::ConcatRequestProto,
    ) -> Result<pb::ConcatResponseProto, RpcError> {
        Ok(pb::ConcatResponseProto {})
    }

    pub(super) async fn set_permission(
        &self,
        ctx: &CallContext,
        r: pb::SetPermissionRequestProto,
    ) -> Result<pb::SetPermissionResponseProto, RpcError> {
        let caller = self.caller(ctx);
        let perm = masked_perm(&r.permission);
        self.fsn
            .mutate(&format!("set permission for {}", r.src), None, |ns| {
                ns.plan_set_permission(&caller, &r.src, perm)
                    .map(Planned::Apply)
            })
            .await?;
        Ok(pb::SetPermissionResponseProto {})
    }

    pub(super) async fn set_owner(
        &self,
        ctx: &CallContext,
        r: pb::SetOwnerRequestProto,
    ) -> Result<pb::SetOwnerResponseProto, RpcError> {
        let caller = self.caller(ctx);
        let (user, group) = (r.username.as_deref(), r.groupname.as_deref());
        self.fsn
            .mutate(&format!("set owner for {}", r.src), None, |ns| {
                ns.plan_set_owner(&caller, &r.src, user, group)
                    .map(Planned::Apply)
            })
            .await?;
        Ok(pb::SetOwnerResponseProto {})
    }

    pub(super) async fn set_times(
        &self,
        ctx: &CallContext,
        r: pb::SetTimesRequestProto,
    ) -> Result<pb::SetTimesResponseProto, RpcError> {
        let caller = self.caller(ctx);
        // -1 (as u64) means "leave unchanged" in Hadoop.
        let mtime = r.mtime as i64;
        let atime = r.atime as i64;
        self.fsn
            .mutate(&format!("set times for {}", r.src), None, |ns| {
                ns.plan_set_times(&caller, &r.src, mtime, atime)
                    .map(Planned::Apply)
            })
            .await?;
        Ok(pb::SetTimesResponseProto {})
    }

    pub(super) async fn set_replication(
        &self,
        ctx: &CallContext,
        r: pb::SetReplicationRequestProto,
    ) -> Result<pb::SetReplicationResponseProto, RpcError> {
        let fsn = &self.fsn;
        let caller = self.caller(ctx);
        let replication = replication(r.replication)?;
        let result = fsn
            .mutate(&format!("set replication for {}", r.src), None, |ns| {
                ns.plan_set_replication(&caller, &r.src, replication)
            })
            .await?;
        if result {
            // The block manager copies or deletes replicas to match.
            let ns = fsn.read();
            if let Some(st) = ns.get_file_info(&caller, &r.src).ok().flatten() {
                if let Some((blocks, _, _)) = ns.file_blocks(st.inode_id) {
                    let ids: Vec<u64> = blocks.iter().map(|b| b.block_id).collect();
                    fsn.bm.set_replication(&ids, replication);
                }
            }
        }
        Ok(pb::SetReplicationResponseProto { result })
    }

    pub(super) async fn set_quota(
        &self,
        ctx: &CallContext,
        r: pb::SetQuotaRequestProto,
    ) -> Result<pb::SetQuotaResponseProto, RpcError> {
        let caller = self.caller(ctx);
        self.fsn.check_superuser(&caller, "set quota")?;
        let (nsq, dsq) = (r.namespace_quota as i64, r.storagespace_quota as i64);
        self.fsn
            .mutate(&format!("set quota on {}", r.path), None, |ns| {
                ns.plan_set_quota(&caller, &r.path, nsq, dsq, r.storage_type)
                    .map(Planned::Apply)
            })
            .await?;
        Ok(pb::SetQuotaResponseProto {})
    }
}
