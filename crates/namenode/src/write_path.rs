//! The Namesystem's write path (Hadoop's FSNamesystem getAdditionalBlock,
//! completeFile, append, updatePipeline, internalReleaseLease and
//! commitBlockSynchronization): the namespace plans and logs, the block manager
//! chooses targets and counts replicas. The namespace lock may be held while calling
//! the block manager, never the other way round.

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use hafs_ipc::RpcError;
use hafs_proto::hdfs as pb;
use hafs_proto::hdfs::datanode as dpb;
use tracing::{info, warn};

use crate::blockmanagement::{empty_token, BlockUcState, DatanodeTarget};
use crate::datanode_protocol::BlockSyncCommitter;
use crate::leases::{recovery_holder, Recovery};
use crate::namespace::{BlockInfo, Caller, LastBlock};
use crate::namesystem::{ns_err, to_bm_block, Namesystem, OperationCategory};
use crate::retry_cache::CallKey;
use crate::storage::now_ms;

/// Hadoop's exception for "the previous block is not yet minimally replicated; retry".
pub const NOT_REPLICATED_YET: &str =
    "org.apache.hadoop.hdfs.server.namenode.NotReplicatedYetException";
/// Hadoop's exception for "this file's lease is being recovered; retry later".
pub const RECOVERY_IN_PROGRESS: &str =
    "org.apache.hadoop.hdfs.protocol.RecoveryInProgressException";

pub fn from_extended(b: &pb::ExtendedBlockProto) -> BlockInfo {
    BlockInfo {
        block_id: b.block_id,
        gen_stamp: b.generation_stamp,
        num_bytes: b.num_bytes.unwrap_or(0),
    }
}

/// A block just allocated, located at its pipeline's targets.
fn located_at_targets(
    bpid: &str,
    b: &LastBlock,
    targets: &[DatanodeTarget],
) -> pb::LocatedBlockProto {
    pb::LocatedBlockProto {
        b: pb::ExtendedBlockProto {
            pool_id: bpid.to_string(),
            block_id: b.block.block_id,
            generation_stamp: b.block.gen_stamp,
            num_bytes: Some(b.block.num_bytes),
        },
        offset: b.offset,
        locs: targets.iter().map(|t| t.info.clone()).collect(),
        corrupt: false,
        block_token: empty_token(),
        is_cached: vec![false; targets.len()],
        storage_types: targets.iter().map(|t| t.storage_type).collect(),
        storage_i_ds: targets.iter().map(|t| t.storage_uuid.clone()).collect(),
        block_indices: None,
        block_tokens: Vec::new(),
    }
}

/// What getBlockLocations answers, as plain parts.
pub struct Located {
    pub file_length: u64,
    pub blocks: Vec<pb::LocatedBlockProto>,
    pub last_block: Option<pb::LocatedBlockProto>,
    pub last_complete: bool,
    pub under_construction: bool,
}

impl Namesystem {
    /// Whether the block manager has `b` complete (making a committed block complete
    /// if its replicas have arrived).
    fn block_complete(&self, b: &BlockInfo) -> bool {
        matches!(
            self.bm.block_state(b.block_id),
            Some(BlockUcState::Complete)
        ) || self.bm.complete_block_if_ready(b.block_id)
    }

    /// Whether every block is complete, waiting a moment for the DataNodes' reports:
    /// the client's last ack and the DataNodes' "received" reports race, and a client
    /// told "not yet" backs off for 400 ms (Hadoop's completeFile backoff) or, for
    /// addBlock in hdfs-native, fails. Waiting here (on an async task, no lock held)
    /// turns that into a few milliseconds.
    async fn wait_blocks_complete(&self, blocks: &[BlockInfo]) -> bool {
        const WAIT: std::time::Duration = std::time::Duration::from_millis(300);
        const POLL: std::time::Duration = std::time::Duration::from_millis(5);
        let deadline = tokio::time::Instant::now() + WAIT;
        // Bounded by WAIT / POLL passes.
        loop {
            if blocks.iter().all(|b| self.block_complete(b)) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// addBlock.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_block(
        &self,
        holder: &str,
        src: &str,
        file_id: u64,
        previous: Option<BlockInfo>,
        client: Option<IpAddr>,
        excluded: &[pb::DatanodeInfoProto],
        favored: &[String],
    ) -> Result<pb::LocatedBlockProto, RpcError> {
        self.check_operation(OperationCategory::Write)?;
        self.check_not_safe_mode(&format!("add block to {src}"))?;
        let plan = self
            .read()
            .plan_add_block(holder, src, file_id, previous)
            .map_err(ns_err)?;
        self.renew_lease(holder);
        // Hadoop's checkFileProgress: the block before the one just finished must be
        // minimally replicated before the file grows further. Its DataNodes' reports
        // race the client, which may have written a whole small block since; Hadoop's
        // client retries NotReplicatedYetException, hdfs-native does not (its write
        // fails and the file never closes), so wait a moment for the reports first.
        if let Some(b) = plan.earlier.last() {
            if !self.wait_blocks_complete(std::slice::from_ref(b)).await {
                return Err(RpcError::new(
                    NOT_REPLICATED_YET,
                    format!("Not replicated yet: {src}"),
                ));
            }
        }
        // The file's effective storage policy decides the targets' storage types.
        let (block_size, policy) = self
            .read()
            .get_file_info_by_id(plan.inode_id)
            .map_or((0, 0), |s| (s.block_size, s.storage_policy));
        if plan.op.is_none() {
            // A retry: the same block, where it is being written.
            let b = to_bm_block(&plan.block.block);
            let located = self.bm.located_block(b, plan.block.offset, client);
            if !located.locs.is_empty() {
                return Ok(located);
            }
            // Nowhere known: the NameNode that allocated it died before answering and
            // this one read the block from the edit log, which carries no pipeline. The
            // client never learnt where to write, so no DataNode holds data of it yet:
            // choose a pipeline now, as Hadoop does for a retry without locations.
            let targets = self.bm.choose_targets_for_new_block(
                src,
                usize::from(plan.replication),
                client,
                excluded,
                favored,
                block_size,
                policy,
            )?;
            if self.bm.set_expected_locations(b.id, &targets) {
                info!(
                    src,
                    block = b.id,
                    "addBlock retried for a block no DataNode is known to hold: new pipeline"
                );
                return Ok(located_at_targets(
                    &self.bm.block_pool_id(),
                    &plan.block,
                    &targets,
                ));
            }
            return Ok(located);
        }
        let targets = self.bm.choose_targets_for_new_block(
            src,
            usize::from(plan.replication),
            client,
            excluded,
            favored,
            block_size,
            policy,
        )?;
        let ((plan, committed), _) = self
            .mutate_op(&format!("add block to {src}"), None, |ns| {
                let p = ns
                    .plan_add_block(holder, src, file_id, previous)
                    .map_err(ns_err)?;
                let committed = p.committed;
                Ok((p.op.clone(), (p, committed)))
            })
            .await?;
        if let Some(c) = committed {
            self.bm.commit_block(to_bm_block(&c));
        }
        if plan.op.is_some() {
            self.bm.add_block_under_construction(
                plan.inode_id,
                to_bm_block(&plan.block.block),
                plan.replication,
                &targets,
            );
        }
        Ok(located_at_targets(
            &self.bm.block_pool_id(),
            &plan.block,
            &targets,
        ))
    }

    /// complete: false while a block still lacks its minimum replicas (the client
    /// asks again), true once the file is closed.
    pub async fn complete(
        &self,
        holder: &str,
        src: &str,
        file_id: u64,
        last: Option<BlockInfo>,
    ) -> Result<bool, RpcError> {
        self.check_operation(OperationCategory::Write)?;
        let (_, blocks) = self
            .read()
            .plan_complete(holder, src, file_id, last, now_ms())
            .map_err(ns_err)?;
        if let Some(c) = blocks.last() {
            if last.is_some() {
                self.bm.commit_block(to_bm_block(c));
            }
        }
        if !self.wait_blocks_complete(&blocks).await {
            let waiting: Vec<String> = blocks
                .iter()
                .filter(|b| !self.block_complete(b))
                .map(|b| self.bm.describe_block(b.block_id))
                .collect();
            info!(%src, ?waiting, "complete: blocks not yet minimally replicated");
            return Ok(false);
        }
        let now = now_ms();
        let (inode_id, _) = self
            .mutate_op(&format!("complete file {src}"), None, |ns| {
                let (op, _) = ns
                    .plan_complete(holder, src, file_id, last, now)
                    .map_err(ns_err)?;
                let id = match &op.op {
                    Some(hafs_proto::hafs::edit_op::Op::Close(c)) => c.inode_id,
                    _ => 0,
                };
                Ok((Some(op), id))
            })
            .await?;
        self.leases
            .lock()
            .expect("lease lock")
            .end_recovery(inode_id);
        Ok(true)
    }

    /// abandonBlock.
    pub async fn abandon_block(
        &self,
        holder: &str,
        src: &str,
        file_id: u64,
        block_id: u64,
    ) -> Result<(), RpcError> {
        let changed = self
            .mutate(&format!("abandon block of {src}"), None, |ns| {
                ns.plan_abandon_block(holder, src, file_id, block_id)
            })
            .await?;
        if changed {
            self.bm.remove_blocks(&[block_id]);
        }
        Ok(())
    }

    /// updateBlockForPipeline: the block with a new generation stamp.
    pub async fn update_block_for_pipeline(
        &self,
        holder: &str,
        block: &pb::ExtendedBlockProto,
    ) -> Result<pb::LocatedBlockProto, RpcError> {
        let b = from_extended(block);
        let ((gs, offset), _) = self
            .mutate_op("update block for pipeline", None, |ns| {
                let (op, gs, offset) = ns
                    .plan_update_block_for_pipeline(holder, &b)
                    .map_err(ns_err)?;
                Ok((Some(op), (gs, offset)))
            })
            .await?;
        let lb = LastBlock {
            block: BlockInfo { gen_stamp: gs, ..b },
            offset,
        };
        Ok(located_at_targets(&self.bm.block_pool_id(), &lb, &[]))
    }

    /// updatePipeline: the block continues with a new stamp on `new_nodes`.
    pub async fn update_pipeline(
        &self,
        holder: &str,
        old: &pb::ExtendedBlockProto,
        new: &pb::ExtendedBlockProto,
        new_nodes: &[pb::DatanodeIdProto],
        storage_ids: &[String],
        retry: Option<&CallKey>,
    ) -> Result<(), RpcError> {
        let (o, n) = (from_extended(old), from_extended(new));
        self.mutate_op("update pipeline", retry, |ns| {
            let op = ns.plan_update_pipeline(holder, &o, &n).map_err(ns_err)?;
            Ok((Some(op), ()))
        })
        .await?;
        let targets: Vec<(String, String)> = new_nodes
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let storage = storage_ids.get(i).cloned().unwrap_or_default();
                (d.datanode_uuid.clone(), storage)
            })
            .collect();
        self.bm.update_pipeline(to_bm_block(&n), &targets);
        Ok(())
    }

    /// fsync: persists the last block's length.
    pub async fn fsync(
        &self,
        holder: &str,
        src: &str,
        file_id: u64,
        last_block_length: Option<u64>,
    ) -> Result<(), RpcError> {
        self.mutate(&format!("fsync {src}"), None, |ns| {
            ns.plan_fsync(holder, src, file_id, last_block_length)
        })
        .await?;
        self.renew_lease(holder);
        Ok(())
    }

    /// append: reopens the file; returns its partial last block (current generation
    /// stamp, located where its replicas are) when the writer continues it.
    #[allow(clippy::too_many_arguments)]
    pub async fn append(
        &self,
        caller: &Caller,
        src: &str,
        holder: &str,
        client_machine: &str,
        new_block: bool,
        client: Option<IpAddr>,
        retry: Option<&CallKey>,
    ) -> Result<Option<pb::LocatedBlockProto>, RpcError> {
        self.takeover_if_soft_expired("APPEND_FILE", src, holder)
            .await?;
        let (last, outcome) = self
            .mutate_op(&format!("append to {src}"), retry, |ns| {
                let (op, last) = ns
                    .plan_append(caller, src, holder, client_machine, new_block)
                    .map_err(ns_err)?;
                Ok((Some(op), last))
            })
            .await?;
        self.renew_lease(holder);
        let Some(last) = last else {
            return Ok(None);
        };
        let inode_id = outcome.inode_id.unwrap_or(0);
        let replication = self.read().file_blocks(inode_id).map_or(1, |(_, r, _)| r);
        let b = to_bm_block(&last.block);
        // The last block is being written again: under construction again.
        self.bm
            .add_block_collection(inode_id, replication, &[b], true);
        Ok(Some(self.bm.located_block(b, last.offset, client)))
    }

    /// append's answer rebuilt for a retry whose first answer is known only from the
    /// edit log (a failover came between): the open file's partial last block, where
    /// its replicas are, unless a new block was asked for.
    pub fn append_answer_again(
        &self,
        src: &str,
        new_block: bool,
        client: Option<IpAddr>,
    ) -> Option<pb::LocatedBlockProto> {
        let (last, offset) = {
            let ns = self.read();
            let st = ns.get_file_info(&Caller::superuser(""), src).ok()??;
            let (blocks, _, open) = ns.file_blocks(st.inode_id)?;
            let last = *blocks.last()?;
            if !open || new_block || last.num_bytes >= st.block_size {
                return None;
            }
            (last, st.length - last.num_bytes)
        };
        Some(self.bm.located_block(to_bm_block(&last), offset, client))
    }

    /// Create (overwrite) and append of a file another client holds: once that
    /// client's lease is past the soft limit, its file is recovered first, and the
    /// caller is told to retry (Hadoop's RecoveryInProgressException). `op` names the
    /// caller's operation in the message, in Hadoop's words (CREATE_FILE, ...).
    pub async fn takeover_if_soft_expired(
        &self,
        op: &str,
        src: &str,
        holder: &str,
    ) -> Result<(), RpcError> {
        let open = {
            let ns = self.read();
            ns.get_file_info(&Caller::superuser(""), src)
                .ok()
                .flatten()
                .filter(|s| s.under_construction)
                .and_then(|s| {
                    ns.under_construction(s.inode_id)
                        .map(|uc| (s.inode_id, uc.client_name.clone()))
                })
        };
        let Some((inode_id, owner)) = open else {
            return Ok(());
        };
        if owner == holder {
            return Ok(());
        }
        let expired = self
            .leases
            .lock()
            .expect("lease lock")
            .soft_expired(&owner, self.now());
        if !expired {
            return Ok(());
        }
        if self.recover_file(inode_id).await? {
            return Ok(());
        }
        Err(RpcError::new(
            RECOVERY_IN_PROGRESS,
            format!("Failed to {op} {src} for {holder}: lease recovery is in progress. Try again later."),
        ))
    }

    /// recoverLease: true when the file is closed (already, or now); otherwise
    /// recovery has started and the client asks again.
    pub async fn recover_lease(&self, src: &str, holder: &str) -> Result<bool, RpcError> {
        self.check_operation(OperationCategory::Write)?;
        self.check_not_safe_mode(&format!("recover the lease of {src}"))?;
        let st = self
            .read()
            .get_file_info(&Caller::superuser(""), src)
            .map_err(ns_err)?
            // Hadoop's words for a missing file, which clients and Hadoop's contract
            // suite match.
            .ok_or_else(|| RpcError::file_not_found(format!("File does not exist: {src}")))?;
        if st.kind != crate::namespace::FileKind::File {
            return Err(RpcError::file_not_found(format!(
                "Path is not a file: {src}"
            )));
        }
        if !st.under_construction {
            return Ok(true);
        }
        info!(%src, %holder, "recoverLease");
        // A recovery already running is left to finish (or to its retry timer).
        if self
            .leases
            .lock()
            .expect("lease lock")
            .recovery(st.inode_id)
            .is_some()
        {
            return Ok(false);
        }
        self.recover_file(st.inode_id).await
    }

    /// Hadoop's internalReleaseLease: closes an open file whose writer is gone. A
    /// file whose blocks are all complete closes at once; a last block never written
    /// to is dropped; otherwise a primary DataNode is asked to recover the last
    /// block (new generation stamp) and commitBlockSynchronization closes the file
    /// later. Returns whether the file is closed now.
    pub async fn recover_file(&self, inode_id: u64) -> Result<bool, RpcError> {
        let Some((blocks, _, open)) = self.read().file_blocks(inode_id) else {
            return Ok(true);
        };
        if !open {
            return Ok(true);
        }
        let now = now_ms();
        let last = blocks.last().copied();
        // A truncate waiting for its recovery (started by truncate; here again after
        // the retry interval or on a new Active): the last block must be cut, whatever
        // its replicas say, so none of the shortcuts below applies.
        let truncate_to = self.read().truncate_block(inode_id).map(|t| t.num_bytes);
        let all_complete = truncate_to.is_none() && blocks.iter().all(|b| self.block_complete(b));
        // As Hadoop's internalReleaseLease: a last block with no length and no known
        // location (no reported replica, no pipeline target) was never written. A
        // pipeline's replicas may not be reported yet (RECEIVING rides with the next
        // heartbeat), so reported replicas alone would drop written data.
        let no_data = last.is_some_and(|l| l.num_bytes == 0 && !self.bm.has_locations(l.block_id));
        let penultimate_ok = blocks.len() < 2 || self.block_complete(&blocks[blocks.len() - 2]);
        if truncate_to.is_none() && (all_complete || (no_data && penultimate_ok)) {
            let drop_last = !all_complete && no_data;
            let (closed, _) = self
                .mutate_op("recover lease", None, |ns| {
                    let (op, _) = ns
                        .plan_recovery_close(inode_id, drop_last, now)
                        .map_err(ns_err)?;
                    Ok((Some(op), ()))
                })
                .await
                .map(|r| (true, r))?;
            if drop_last {
                if let Some(l) = last {
                    self.bm.remove_blocks(&[l.block_id]);
                }
            }
            self.leases
                .lock()
                .expect("lease lock")
                .end_recovery(inode_id);
            info!(inode_id, drop_last, "lease recovery closed the file");
            return Ok(closed);
        }
        let Some(last) = last else {
            return Ok(true);
        };
        // Block recovery: a new generation stamp (logged) and a command to a primary
        // DataNode, queued under the namespace lock so the stamp cannot be handed out
        // twice.
        let bm = self.bm.clone();
        let (gs, _) = self
            .mutate_op("recover lease", None, |ns| {
                let (op, gs) = ns.plan_next_gen_stamp();
                bm.start_block_recovery(to_bm_block(&last), gs, truncate_to)
                    .map_err(RpcError::from)?;
                Ok((Some(op), gs))
            })
            .await?;
        let holder = recovery_holder(now);
        self.mutate_op("recover lease", None, |ns| {
            let op = ns.plan_reassign_lease(inode_id, &holder).map_err(ns_err)?;
            Ok((Some(op), ()))
        })
        .await?;
        let mut leases = self.leases.lock().expect("lease lock");
        leases.renew(&holder, self.now());
        leases.start_recovery(
            inode_id,
            Recovery {
                block_id: last.block_id,
                recovery_id: gs,
                started: self.now(),
            },
        );
        info!(
            inode_id,
            block = last.block_id,
            recovery_id = gs,
            "block recovery started"
        );
        Ok(false)
    }

    /// The namespace half of commitBlockSynchronization.
    pub async fn commit_block_synchronization(
        &self,
        req: &dpb::CommitBlockSynchronizationRequestProto,
    ) -> Result<(), RpcError> {
        let block_id = req.block.block_id;
        let expected = self
            .leases
            .lock()
            .expect("lease lock")
            .recovery_of_block(block_id);
        if let Some((_, r)) = expected {
            if r.recovery_id != req.new_gen_stamp {
                return Err(RpcError::io(format!(
                    "The recovery id {} does not match current recovery id {} for block blk_{block_id}",
                    req.new_gen_stamp, r.recovery_id
                )));
            }
        }
        let now = now_ms();
        let (sync, _) = self
            .mutate_op("commit block synchronization", None, |ns| {
                let s = ns
                    .plan_commit_block_sync(
                        block_id,
                        req.new_gen_stamp,
                        req.new_length,
                        req.close_file,
                        req.delete_block,
                        now,
                    )
                    .map_err(ns_err)?;
                Ok((Some(s.op.clone()), s))
            })
            .await?;
        if sync.closes {
            self.leases
                .lock()
                .expect("lease lock")
                .end_recovery(sync.inode_id);
        }
        info!(
            path = %sync.path,
            block_id,
            gen_stamp = req.new_gen_stamp,
            length = req.new_length,
            closed = sync.closes,
            "commitBlockSynchronization"
        );
        Ok(())
    }

    /// getBlockLocations for [offset, offset + length).
    pub fn block_locations(
        &self,
        caller: &Caller,
        src: &str,
        offset: u64,
        length: u64,
        client: Option<IpAddr>,
    ) -> Result<Located, RpcError> {
        let (st, mut blocks, truncating) = {
            let ns = self.read();
            let (st, blocks) = ns.get_blocks(caller, src).map_err(ns_err)?;
            let truncating = ns.truncate_block(st.inode_id);
            (st, blocks, truncating)
        };
        // A block being cut by a truncate's recovery is answered as complete at its
        // new length (the namespace keeps the old one until the commit): a reader
        // asking the DataNodes for a block under construction would be told the
        // replicas' old, longer length.
        let truncating = match (truncating, blocks.last_mut()) {
            (Some(t), Some(last)) if t.block_id == last.block_id => {
                last.num_bytes = t.num_bytes;
                true
            }
            _ => false,
        };
        let last_uc = st.under_construction
            && !truncating
            && blocks.last().is_some_and(|b| !self.block_complete(b));
        let complete_len = if last_uc {
            blocks.len() - 1
        } else {
            blocks.len()
        };
        let file_length: u64 = blocks[..complete_len].iter().map(|b| b.num_bytes).sum();
        let end = offset.saturating_add(length);
        let mut out = Vec::new();
        let mut pos = 0u64;
        for b in &blocks[..complete_len] {
            let b_end = pos + b.num_bytes;
            // Blocks overlapping the range (and the block holding `offset` even when
            // the range is empty).
            if b_end > offset && pos < end.max(offset + 1) {
                out.push(self.bm.located_block(to_bm_block(b), pos, client));
            }
            pos = b_end;
        }
        let last_block = blocks.last().map(|b| {
            let off: u64 = blocks[..blocks.len() - 1].iter().map(|x| x.num_bytes).sum();
            self.bm.located_block(to_bm_block(b), off, client)
        });
        Ok(Located {
            file_length,
            blocks: out,
            last_block,
            last_complete: !last_uc,
            under_construction: st.under_construction,
        })
    }

    /// getAdditionalDatanode: more targets for a pipeline being rebuilt; answers the
    /// existing nodes followed by the new ones.
    #[allow(clippy::too_many_arguments)]
    pub fn additional_datanodes(
        &self,
        holder: &str,
        src: &str,
        file_id: u64,
        block: &pb::ExtendedBlockProto,
        existing: &[pb::DatanodeInfoProto],
        existing_storages: &[String],
        excludes: &[pb::DatanodeInfoProto],
        num: usize,
        client: Option<IpAddr>,
    ) -> Result<pb::LocatedBlockProto, RpcError> {
        self.check_operation(OperationCategory::Read)?;
        let (block_size, policy) = {
            let ns = self.read();
            let slot_ok = ns.plan_fsync(holder, src, file_id, None).map_err(ns_err)?;
            drop(slot_ok);
            ns.get_file_info(&Caller::superuser(""), src)
                .ok()
                .flatten()
                .map_or((0, 0), |s| (s.block_size, s.storage_policy))
        };
        let mut all_excluded: Vec<pb::DatanodeInfoProto> = existing.to_vec();
        all_excluded.extend_from_slice(excludes);
        let chosen = self
            .bm
            .choose_additional_targets(num, client, existing, excludes, block_size, policy);
        if chosen.is_empty() && num > 0 {
            return Err(RpcError::io(format!(
                "Failed to find a datanode to add to the pipeline of {src}: \
                 {} live DataNode(s), {} excluded",
                self.bm.num_live_datanodes(),
                all_excluded.len()
            )));
        }
        let mut lb = located_at_targets(
            &self.bm.block_pool_id(),
            &LastBlock {
                block: from_extended(block),
                offset: 0,
            },
            &chosen,
        );
        let mut locs = existing.to_vec();
        locs.extend(lb.locs);
        let mut ids: Vec<String> = existing_storages.to_vec();
        ids.resize(existing.len(), String::new());
        ids.extend(lb.storage_i_ds);
        let mut types = vec![pb::StorageTypeProto::Disk as i32; existing.len()];
        types.extend(lb.storage_types);
        lb.is_cached = vec![false; locs.len()];
        lb.locs = locs;
        lb.storage_i_ds = ids;
        lb.storage_types = types;
        Ok(lb)
    }
}

/// commitBlockSynchronization's namespace half, for the DatanodeProtocol service.
pub struct WritePathBlockSync(pub Arc<Namesystem>);

#[async_trait]
impl BlockSyncCommitter for WritePathBlockSync {
    async fn commit_block_synchronization(
        &self,
        req: &dpb::CommitBlockSynchronizationRequestProto,
    ) -> Result<(), RpcError> {
        let r = self.0.commit_block_synchronization(req).await;
        if let Err(e) = &r {
            warn!(
                block = req.block.block_id,
                "commitBlockSynchronization refused: {e}"
            );
        }
        r
    }
}
