//! ClientProtocol's write path: create and append (at-most-once), the block and
//! pipeline calls, complete, and the lease calls. The work is in `write_path.rs`;
//! these adapt the wire messages.

use hafs_ipc::{CallContext, RpcError};
use hafs_proto::hdfs as pb;
use hafs_security::block_token::AccessMode;

use super::{client_ip, masked_perm, replication, status_proto, ClientProtocolService};
use crate::namespace::{BlockInfo, Caller, FileKind, Planned};
use crate::namesystem::ns_err;
use crate::storage::now_ms;
use crate::write_path::from_extended;

/// CreateFlag bits (CreateFlagProto).
const CREATE_FLAG_OVERWRITE: u32 = 0x02;
const CREATE_FLAG_APPEND: u32 = 0x04;
const CREATE_FLAG_NEW_BLOCK: u32 = 0x20;

impl ClientProtocolService {
    /// create's answer: the file's status, as `caller` sees it.
    fn create_answer(
        &self,
        caller: &Caller,
        src: &str,
    ) -> Result<pb::CreateResponseProto, RpcError> {
        let st = self.fsn.read().get_file_info(caller, src).map_err(ns_err)?;
        Ok(pb::CreateResponseProto {
            fs: st.as_ref().map(status_proto),
        })
    }

    pub(super) async fn create(
        &self,
        ctx: &CallContext,
        r: pb::CreateRequestProto,
    ) -> Result<pb::CreateResponseProto, RpcError> {
        let fsn = &self.fsn;
        let caller = self.caller(ctx);
        let client_machine = ctx.peer.ip().to_string();
        if r.create_flag & CREATE_FLAG_APPEND != 0
            && fsn
                .read()
                .get_file_info(&caller, &r.src)
                .map_err(ns_err)?
                .is_some()
        {
            return self.create_by_append(ctx, &caller, &r).await;
        }
        if r.create_flag & CREATE_FLAG_OVERWRITE != 0 {
            fsn.takeover_if_soft_expired("CREATE_FILE", &r.src, &r.client_name)
                .await?;
        }
        let now = now_ms();
        let perm = masked_perm(&r.masked);
        let replication = replication(r.replication)?;
        let overwrite = r.create_flag & CREATE_FLAG_OVERWRITE != 0;
        let key = self.retry_key(ctx);
        let unmasked = r.unmasked.as_ref().map(masked_perm);
        fsn.mutate(&format!("create file {}", r.src), key.as_ref(), |ns| {
            // Under a default ACL the client's unmasked mode applies (acl.rs).
            let perm = ns.create_mode(&r.src, perm, unmasked);
            ns.plan_create(
                &caller,
                &r.src,
                perm,
                &r.client_name,
                &client_machine,
                overwrite,
                r.create_parent,
                replication,
                r.block_size,
                now,
            )
            .map(Planned::Apply)
        })
        .await?;
        fsn.renew_lease(&r.client_name);
        self.create_answer(&Caller::superuser(""), &r.src)
    }

    /// CREATE|APPEND on an existing file appends (Hadoop's startFile); the client then
    /// writes from the file's end.
    async fn create_by_append(
        &self,
        ctx: &CallContext,
        caller: &Caller,
        r: &pb::CreateRequestProto,
    ) -> Result<pb::CreateResponseProto, RpcError> {
        self.fsn
            .append(
                caller,
                &r.src,
                &r.client_name,
                &ctx.peer.ip().to_string(),
                true,
                client_ip(ctx),
                self.retry_key(ctx).as_ref(),
            )
            .await?;
        self.create_answer(caller, &r.src)
    }

    /// A create that succeeded: the file's status now (a CREATE|APPEND as the caller
    /// sees it, like the append it became).
    pub(super) fn create_again(
        &self,
        ctx: &CallContext,
        r: &pb::CreateRequestProto,
    ) -> Result<pb::CreateResponseProto, RpcError> {
        if r.create_flag & CREATE_FLAG_APPEND != 0 {
            self.create_answer(&self.caller(ctx), &r.src)
        } else {
            self.create_answer(&Caller::superuser(""), &r.src)
        }
    }

    /// append's answer: the block to continue (if any) and the file's status.
    fn append_answer(
        &self,
        ctx: &CallContext,
        src: &str,
        mut block: Option<pb::LocatedBlockProto>,
    ) -> Result<pb::AppendResponseProto, RpcError> {
        if let Some(lb) = block.as_mut() {
            self.stamp(ctx, lb, &[AccessMode::Write]);
        }
        let stat = self
            .fsn
            .read()
            .get_file_info(&self.caller(ctx), src)
            .map_err(ns_err)?;
        Ok(pb::AppendResponseProto {
            block,
            stat: stat.as_ref().map(status_proto),
        })
    }

    /// At-most-once in Hadoop: a retried append (its answer lost, or sent again after
    /// a failover) gets the first answer, not "current leaseholder is trying to
    /// recreate file".
    pub(super) async fn append(
        &self,
        ctx: &CallContext,
        r: pb::AppendRequestProto,
    ) -> Result<pb::AppendResponseProto, RpcError> {
        let caller = self.caller(ctx);
        let new_block = r.flag.unwrap_or(0) & CREATE_FLAG_NEW_BLOCK != 0;
        let block = self
            .fsn
            .append(
                &caller,
                &r.src,
                &r.client_name,
                &ctx.peer.ip().to_string(),
                new_block,
                client_ip(ctx),
                self.retry_key(ctx).as_ref(),
            )
            .await?;
        self.append_answer(ctx, &r.src, block)
    }

    pub(super) fn append_again(
        &self,
        ctx: &CallContext,
        r: &pb::AppendRequestProto,
    ) -> Result<pb::AppendResponseProto, RpcError> {
        let new_block = r.flag.unwrap_or(0) & CREATE_FLAG_NEW_BLOCK != 0;
        let block = self
            .fsn
            .append_answer_again(&r.src, new_block, client_ip(ctx));
        self.append_answer(ctx, &r.src, block)
    }

    pub(super) async fn add_block(
        &self,
        ctx: &CallContext,
        r: pb::AddBlockRequestProto,
    ) -> Result<pb::AddBlockResponseProto, RpcError> {
        let previous = r.previous.as_ref().map(from_extended);
        let no_locality = r.flags.iter().any(|f| {
            *f == pb::AddBlockFlagProto::NoLocalWrite as i32
                || *f == pb::AddBlockFlagProto::IgnoreClientLocality as i32
        });
        let client = if no_locality { None } else { client_ip(ctx) };
        let block = self
            .fsn
            .add_block(
                &r.client_name,
                &r.src,
                r.file_id.unwrap_or(0),
                previous,
                client,
                &r.exclude_nodes,
                &r.favored_nodes,
            )
            .await?;
        let mut block = block;
        self.stamp(ctx, &mut block, &[AccessMode::Write]);
        Ok(pb::AddBlockResponseProto { block })
    }

    pub(super) async fn abandon_block(
        &self,
        _ctx: &CallContext,
        r: pb::AbandonBlockRequestProto,
    ) -> Result<pb::AbandonBlockResponseProto, RpcError> {
        self.fsn
            .abandon_block(&r.holder, &r.src, r.file_id.unwrap_or(0), r.b.block_id)
            .await?;
        Ok(pb::AbandonBlockResponseProto {})
    }

    pub(super) async fn get_additional_datanode(
        &self,
        ctx: &CallContext,
        r: pb::GetAdditionalDatanodeRequestProto,
    ) -> Result<pb::GetAdditionalDatanodeResponseProto, RpcError> {
        let block = self.fsn.additional_datanodes(
            &r.client_name,
            &r.src,
            r.file_id.unwrap_or(0),
            &r.blk,
            &r.existings,
            &r.existing_storage_uuids,
            &r.excludes,
            r.num_additional_nodes.min(64) as usize,
            client_ip(ctx),
        )?;
        let mut block = block;
        self.stamp(ctx, &mut block, &[AccessMode::Copy]);
        Ok(pb::GetAdditionalDatanodeResponseProto { block })
    }

    pub(super) async fn update_block_for_pipeline(
        &self,
        ctx: &CallContext,
        r: pb::UpdateBlockForPipelineRequestProto,
    ) -> Result<pb::UpdateBlockForPipelineResponseProto, RpcError> {
        let mut block = self
            .fsn
            .update_block_for_pipeline(&r.client_name, &r.block)
            .await?;
        self.stamp(ctx, &mut block, &[AccessMode::Write]);
        Ok(pb::UpdateBlockForPipelineResponseProto { block })
    }

    /// At-most-once in Hadoop: a retry of a pipeline update that took effect would
    /// otherwise be refused as "an older state".
    pub(super) async fn update_pipeline(
        &self,
        ctx: &CallContext,
        r: pb::UpdatePipelineRequestProto,
    ) -> Result<pb::UpdatePipelineResponseProto, RpcError> {
        self.fsn
            .update_pipeline(
                &r.client_name,
                &r.old_block,
                &r.new_block,
                &r.new_nodes,
                &r.storage_i_ds,
                self.retry_key(ctx).as_ref(),
            )
            .await?;
        Ok(pb::UpdatePipelineResponseProto {})
    }

    pub(super) fn update_pipeline_again(
        &self,
        _ctx: &CallContext,
        _r: &pb::UpdatePipelineRequestProto,
    ) -> Result<pb::UpdatePipelineResponseProto, RpcError> {
        Ok(pb::UpdatePipelineResponseProto {})
    }

    pub(super) async fn fsync(
        &self,
        _ctx: &CallContext,
        r: pb::FsyncRequestProto,
    ) -> Result<pb::FsyncResponseProto, RpcError> {
        let len = r.last_block_length.filter(|l| *l >= 0).map(|l| l as u64);
        self.fsn
            .fsync(&r.client, &r.src, r.file_id.unwrap_or(0), len)
            .await?;
        Ok(pb::FsyncResponseProto {})
    }

    /// complete is idempotent in Hadoop (HDFS-3031): a retry of a complete that
    /// already closed the file answers true, but only if the client's last block is
    /// the file's (same id and generation stamp). Any other closed file (recovered
    /// under a writer that went silent, say) fails the lease check, as in Hadoop:
    /// "true" would tell that writer its data is safe.
    pub(super) async fn complete(
        &self,
        _ctx: &CallContext,
        r: pb::CompleteRequestProto,
    ) -> Result<pb::CompleteResponseProto, RpcError> {
        let file_id = r.file_id.unwrap_or(0);
        let last = r.last.as_ref().map(from_extended);
        if self.is_retry_of_close(&r.src, file_id, last.as_ref()) {
            return Ok(pb::CompleteResponseProto { result: true });
        }
        let result = self
            .fsn
            .complete(&r.client_name, &r.src, file_id, last)
            .await?;
        Ok(pb::CompleteResponseProto { result })
    }

    /// True when the file is closed and its last block is `last` (id and stamp).
    fn is_retry_of_close(&self, src: &str, file_id: u64, last: Option<&BlockInfo>) -> bool {
        let ns = self.fsn.read();
        let st = if file_id != 0 {
            ns.get_file_info_by_id(file_id)
        } else {
            ns.get_file_info(&Caller::superuser(""), src).ok().flatten()
        };
        st.filter(|s| s.kind == FileKind::File && !s.under_construction)
            .and_then(|s| ns.file_blocks(s.inode_id))
            .is_some_and(|(blocks, _, _)| {
                let id_gs = |b: &BlockInfo| (b.block_id, b.gen_stamp);
                blocks.last().map(id_gs) == last.map(id_gs)
            })
    }

    pub(super) async fn renew_lease(
        &self,
        _ctx: &CallContext,
        r: pb::RenewLeaseRequestProto,
    ) -> Result<pb::RenewLeaseResponseProto, RpcError> {
        self.fsn.renew_lease(&r.client_name);
        Ok(pb::RenewLeaseResponseProto {})
    }

    pub(super) async fn recover_lease(
        &self,
        _ctx: &CallContext,
        r: pb::RecoverLeaseRequestProto,
    ) -> Result<pb::RecoverLeaseResponseProto, RpcError> {
        let result = self.fsn.recover_lease(&r.src, &r.client_name).await?;
        Ok(pb::RecoverLeaseResponseProto { result })
    }

    pub(super) async fn truncate(
        &self,
        ctx: &CallContext,
        r: pb::TruncateRequestProto,
    ) -> Result<pb::TruncateResponseProto, RpcError> {
        // The wire field is unsigned; Java sends its long as is.
        if i64::try_from(r.new_length).is_err() {
            return Err(RpcError::new(
                "org.apache.hadoop.HadoopIllegalArgumentException",
                format!(
                    "Cannot truncate to a negative file size: {}.",
                    r.new_length as i64
                ),
            ));
        }
        let caller = self.caller(ctx);
        let client_machine = ctx.peer.ip().to_string();
        let result = self
            .fsn
            .truncate(
                &caller,
                &r.src,
                r.new_length,
                &r.client_name,
                &client_machine,
            )
            .await?;
        Ok(pb::TruncateResponseProto { result })
    }

    pub(super) async fn report_bad_blocks(
        &self,
        _ctx: &CallContext,
        r: pb::ReportBadBlocksRequestProto,
    ) -> Result<pb::ReportBadBlocksResponseProto, RpcError> {
        self.fsn.bm.report_bad_blocks(&r.blocks);
        Ok(pb::ReportBadBlocksResponseProto {})
    }
}
