//! The write path's plans (Hadoop's FSDirWriteFileOp, FSDirAppendOp and the
//! namespace half of lease and block recovery): allocating and committing blocks,
//! pipeline changes, fsync, append. Like every plan they only read the tree; block
//! ids and generation stamps are taken from the counters (`last + 1`) and recorded
//! in the op, so a replay hands out exactly the same ones.
//!
//! Replica counts are not the namespace's business: the Namesystem asks the block
//! manager whether blocks are minimally replicated before it logs a close.

use hafs_proto::hafs::{self as pb, edit_op::Op};

use super::error::NamespaceError;
use super::inode::BlockInfo;
use super::permission::{Access, Caller};
use super::plan::{to_pb_blocks, Planned};
use super::quota;
use super::{DirOp, EditOp, Namespace};

fn edit(op: Op) -> EditOp {
    EditOp {
        retry_cache: None,
        op: Some(op),
    }
}

fn to_pb(b: &BlockInfo) -> pb::Block {
    pb::Block {
        block_id: b.block_id,
        gen_stamp: b.gen_stamp,
        num_bytes: b.num_bytes,
    }
}

/// A block with its offset in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastBlock {
    pub block: BlockInfo,
    pub offset: u64,
}

/// What addBlock decided.
#[derive(Debug, Clone, PartialEq)]
pub struct AddBlockPlan {
    /// The op to log; None for a retried addBlock whose block already exists (the
    /// answer is that block again).
    pub op: Option<EditOp>,
    /// The new (or already allocated) block and its offset in the file.
    pub block: LastBlock,
    pub inode_id: u64,
    pub path: String,
    pub replication: u16,
    /// Blocks before the one the client just finished: these must already be
    /// minimally replicated (else Hadoop's NotReplicatedYetException, and the client
    /// retries).
    pub earlier: Vec<BlockInfo>,
    /// The block the client just finished, as committed (None for the first block).
    pub committed: Option<BlockInfo>,
    pub client_machine: String,
}

/// What commitBlockSynchronization decided.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitBlockSync {
    pub op: EditOp,
    pub inode_id: u64,
    pub path: String,
    /// The file's blocks after the op.
    pub blocks: Vec<BlockInfo>,
    pub closes: bool,
}

impl Namespace {
    /// The lease holder's file and its blocks.
    fn open_blocks(
        &self,
        holder: &str,
        src: &str,
        file_id: u64,
    ) -> Result<(u32, Vec<BlockInfo>), NamespaceError> {
        let slot = self.check_lease(src, file_id, holder)?;
        Ok((slot, self.node(slot).blocks().to_vec()))
    }

    fn update_blocks_op(&self, slot: u32, blocks: &[BlockInfo]) -> EditOp {
        edit(Op::UpdateBlocks(pb::UpdateBlocksOp {
            path: self.path_of_slot(slot),
            inode_id: self.node(slot).id,
            blocks: to_pb_blocks(blocks),
        }))
    }

    /// addBlock: commits `previous` (the block the client just finished, with its
    /// final length and generation stamp) and allocates the next block. A retry whose
    /// block was already allocated (previous is the penultimate block and the last
    /// one is still empty) gets that block again instead of a second one.
    pub fn plan_add_block(
        &self,
        holder: &str,
        src: &str,
        file_id: u64,
        previous: Option<BlockInfo>,
    ) -> Result<AddBlockPlan, NamespaceError> {
        let (slot, blocks) = self.open_blocks(holder, src, file_id)?;
        let n = self.node(slot);
        let uc = self.under_construction.get(&n.id);
        let client_machine = uc.map(|u| u.client_machine.clone()).unwrap_or_default();
        let path = self.path_of_slot(slot);
        let offset_of = |i: usize| blocks[..i].iter().map(|b| b.num_bytes).sum::<u64>();
        let existing = |i: usize| AddBlockPlan {
            op: None,
            block: LastBlock {
                block: blocks[i],
                offset: offset_of(i),
            },
            inode_id: n.id,
            path: path.clone(),
            replication: n.replication,
            earlier: blocks[..i.saturating_sub(1)].to_vec(),
            committed: i.checked_sub(1).map(|p| blocks[p]),
            client_machine: client_machine.clone(),
        };
        let last = blocks.last().copied();
        let penultimate = blocks.len().checked_sub(2).map(|i| blocks[i]);
        let (committed, earlier) = match (previous, last) {
            (None, None) => (None, Vec::new()),
            (Some(p), Some(l)) if p.block_id == l.block_id => {
                if p.gen_stamp != l.gen_stamp {
                    return Err(NamespaceError::Io(format!(
                        "Commit block with mismatching GS. NN has blk_{}_{}, client submits blk_{}_{}",
                        l.block_id, l.gen_stamp, p.block_id, p.gen_stamp
                    )));
                }
                let c = BlockInfo {
                    num_bytes: p.num_bytes,
                    ..l
                };
                (Some(c), blocks[..blocks.len() - 1].to_vec())
            }
            // A retry: the block after `previous` exists and nothing was written to it.
            (Some(p), Some(l)) if penultimate.is_some_and(|q| q.block_id == p.block_id) => {
                if l.num_bytes == 0 {
                    return Ok(existing(blocks.len() - 1));
                }
                return Err(not_last(src, &p));
            }
            (None, Some(l)) => {
                // The last block was never written to (its length is known once it is
                // committed): a retry of the first addBlock after create, or after an
                // append with NEW_BLOCK. Nothing was written to it: the same block.
                if l.num_bytes == 0 {
                    return Ok(existing(blocks.len() - 1));
                }
                // An append that starts at a block boundary (Hadoop's analyzeFileState
                // case 1) or with NEW_BLOCK: the file's blocks stay as they are.
                (None, blocks.clone())
            }
            (Some(p), _) => return Err(not_last(src, &p)),
        };
        let block = BlockInfo {
            block_id: self.last_block_id + 1,
            gen_stamp: self.gen_stamp + 1,
            num_bytes: 0,
        };
        let offset =
            earlier.iter().map(|b| b.num_bytes).sum::<u64>() + committed.map_or(0, |c| c.num_bytes);
        // The new block takes its preferred size until it is committed; the block
        // just finished gives back what it did not fill (Hadoop's addBlock and
        // commitOrCompleteLastBlock).
        let mut after: Vec<BlockInfo> = earlier.clone();
        after.extend(committed);
        after.push(block);
        let policy = self.effective_storage_policy(slot);
        let after = quota::file_space(&after, n.block_size, n.replication, true, policy);
        let grow = quota::file_space(&[block], n.block_size, n.replication, true, policy);
        let net = after.minus(self.file_space_of(slot));
        self.verify_space(slot, grow, grow.minus(net))?;
        Ok(AddBlockPlan {
            op: Some(edit(Op::AddBlock(pb::AddBlockOp {
                path: path.clone(),
                inode_id: n.id,
                previous: committed.as_ref().map(to_pb),
                block: Some(to_pb(&block)),
            }))),
            block: LastBlock { block, offset },
            inode_id: n.id,
            path,
            replication: n.replication,
            earlier,
            committed,
            client_machine,
        })
    }

    /// complete: the file closes with its last block committed at the length the
    /// client reports. Returns the op and the file's final blocks (the caller checks
    /// they are minimally replicated before logging).
    pub fn plan_complete(
        &self,
        holder: &str,
        src: &str,
        file_id: u64,
        last: Option<BlockInfo>,
        now: i64,
    ) -> Result<(EditOp, Vec<BlockInfo>), NamespaceError> {
        let (slot, mut blocks) = self.open_blocks(holder, src, file_id)?;
        if let Some(c) = last {
            let Some(l) = blocks.last_mut() else {
                return Err(NamespaceError::Io(format!(
                    "complete {src}: the file has no block blk_{}",
                    c.block_id
                )));
            };
            if l.block_id != c.block_id {
                return Err(not_last(src, &c));
            }
            if l.gen_stamp != c.gen_stamp {
                return Err(NamespaceError::Io(format!(
                    "Commit block with mismatching GS. NN has blk_{}_{}, client submits blk_{}_{}",
                    l.block_id, l.gen_stamp, c.block_id, c.gen_stamp
                )));
            }
            l.num_bytes = c.num_bytes;
        }
        let n = self.node(slot);
        let op = edit(Op::Close(pb::CloseOp {
            path: self.path_of_slot(slot),
            inode_id: n.id,
            mtime: now,
            atime: n.atime,
            blocks: to_pb_blocks(&blocks),
        }));
        Ok((op, blocks))
    }

    /// abandonBlock: the client gave up on the file's last block (its pipeline could
    /// not be set up). Abandoning a block the file no longer has is a harmless retry.
    pub fn plan_abandon_block(
        &self,
        holder: &str,
        src: &str,
        file_id: u64,
        block_id: u64,
    ) -> Result<Planned, NamespaceError> {
        let (slot, mut blocks) = self.open_blocks(holder, src, file_id)?;
        match blocks.iter().position(|b| b.block_id == block_id) {
            // Already abandoned (a retry), or not this file's block at all: nothing to
            // remove, and above all not another file's block from the block map.
            None => Ok(Planned::Done(false)),
            Some(i) if i + 1 == blocks.len() => {
                blocks.pop();
                Ok(Planned::Apply(self.update_blocks_op(slot, &blocks)))
            }
            // Hadoop removes only a last block and otherwise answers success (the
            // call is idempotent: a retry after the client allocated a new block).
            Some(_) => Ok(Planned::Done(false)),
        }
    }

    /// fsync (hsync): records the last block's length as the client reports it, so
    /// readers and a restarted NameNode see the synced bytes.
    pub fn plan_fsync(
        &self,
        holder: &str,
        src: &str,
        file_id: u64,
        last_block_length: Option<u64>,
    ) -> Result<Planned, NamespaceError> {
        let (slot, mut blocks) = self.open_blocks(holder, src, file_id)?;
        match (last_block_length, blocks.last_mut()) {
            (Some(len), Some(l)) if l.num_bytes != len => {
                l.num_bytes = len;
                Ok(Planned::Apply(self.update_blocks_op(slot, &blocks)))
            }
            _ => Ok(Planned::Done(true)),
        }
    }

    /// The open file whose last block is `block_id`: (slot, holder).
    fn uc_slot_of_block(&self, block_id: u64) -> Option<(u32, &str)> {
        self.under_construction.iter().find_map(|(id, uc)| {
            let slot = self.index.get(*id, &self.slab)?;
            let last = self.node(slot).blocks().last()?;
            (last.block_id == block_id).then_some((slot, uc.client_name.as_str()))
        })
    }

    /// The open file (inode id, path) whose last block is `block_id`.
    pub fn uc_file_of_block(&self, block_id: u64) -> Option<(u64, String)> {
        let (slot, _) = self.uc_slot_of_block(block_id)?;
        Some((self.node(slot).id, self.path_of_slot(slot)))
    }

    /// Hadoop's checkUCBlock: `block` is the last block of a file under construction
    /// leased to `holder`, at the generation stamp the NameNode has.
    fn check_uc_block(&self, holder: &str, block: &BlockInfo) -> Result<u32, NamespaceError> {
        let Some((slot, owner)) = self.uc_slot_of_block(block.block_id) else {
            return Err(NamespaceError::Io(format!(
                "BP blk_{}_{} does not exist or is not under construction",
                block.block_id, block.gen_stamp
            )));
        };
        if owner != holder {
            return Err(NamespaceError::LeaseExpired(format!(
                "Client (={holder}) is not the lease owner (={owner})"
            )));
        }
        Ok(slot)
    }

    /// updateBlockForPipeline: a new generation stamp for the client's block (its
    /// pipeline is being rebuilt). The op only advances the counter; the block takes
    /// the stamp at updatePipeline. Returns the op, the new stamp and the block's
    /// offset in its file.
    pub fn plan_update_block_for_pipeline(
        &self,
        holder: &str,
        block: &BlockInfo,
    ) -> Result<(EditOp, u64, u64), NamespaceError> {
        let slot = self.check_uc_block(holder, block)?;
        let blocks = self.node(slot).blocks();
        let offset = blocks[..blocks.len() - 1].iter().map(|b| b.num_bytes).sum();
        let (op, gs) = self.plan_next_gen_stamp();
        Ok((op, gs, offset))
    }

    /// A fresh generation stamp (for block recovery and pipeline updates).
    pub fn plan_next_gen_stamp(&self) -> (EditOp, u64) {
        let gs = self.gen_stamp + 1;
        (
            edit(Op::SetGenStamp(pb::SetGenStampOp { gen_stamp: gs })),
            gs,
        )
    }

    /// updatePipeline: the client's block continues under `new` (a stamp handed out by
    /// updateBlockForPipeline, the bytes acknowledged so far).
    pub fn plan_update_pipeline(
        &self,
        holder: &str,
        old: &BlockInfo,
        new: &BlockInfo,
    ) -> Result<EditOp, NamespaceError> {
        let slot = self.check_uc_block(holder, old)?;
        let mut blocks = self.node(slot).blocks().to_vec();
        let Some(last) = blocks.last_mut() else {
            return Err(NamespaceError::Io("no block to update".into()));
        };
        if new.block_id != old.block_id
            || new.gen_stamp <= last.gen_stamp
            || new.gen_stamp > self.gen_stamp
            || new.num_bytes < last.num_bytes
        {
            return Err(NamespaceError::Io(format!(
                "Update blk_{}_{} (len = {}) to an older state: blk_{}_{} (len = {})",
                last.block_id,
                last.gen_stamp,
                last.num_bytes,
                new.block_id,
                new.gen_stamp,
                new.num_bytes
            )));
        }
        last.gen_stamp = new.gen_stamp;
        last.num_bytes = new.num_bytes;
        Ok(self.update_blocks_op(slot, &blocks))
    }

    /// append: reopens a closed file for `holder`. Unless `new_block` is asked for, a
    /// partial last block is continued: it gets a new generation stamp (replicas that
    /// miss the append then show as stale) and is returned with its offset.
    #[allow(clippy::too_many_arguments)]
    pub fn plan_append(
        &self,
        caller: &Caller,
        src: &str,
        holder: &str,
        client_machine: &str,
        new_block: bool,
    ) -> Result<(EditOp, Option<LastBlock>), NamespaceError> {
        let res = self.resolve(caller, src, DirOp::Other)?;
        let Some(slot) = res.last() else {
            return Err(NamespaceError::FileNotFound(format!(
                "Failed to append to non-existent file {src} for client {client_machine}"
            )));
        };
        let n = self.node(slot);
        if n.is_dir() {
            return Err(NamespaceError::FileNotFound(format!(
                "Failed to append to non-existent file {src} for client {client_machine}: \
                 it is a directory"
            )));
        }
        self.check_permission(caller, &res, None, None, Some(Access::WRITE), None)?;
        if let Some(uc) = self.under_construction.get(&n.id) {
            let why = if uc.client_name == holder {
                "current leaseholder is trying to recreate file.".to_string()
            } else {
                format!(
                    "this file lease is currently owned by {} on {}",
                    uc.client_name, uc.client_machine
                )
            };
            return Err(NamespaceError::AlreadyBeingCreated(format!(
                "Failed to APPEND_FILE {} for {holder} on {client_machine} because {why}",
                res.path()
            )));
        }
        let blocks = n.blocks();
        let last = match blocks.last() {
            // As Hadoop's append: the partial last block is returned with its CURRENT
            // generation stamp. The Java client then asks updateBlockForPipeline for a
            // new one and sends it as latestGenerationStamp; hdfs-native appends at the
            // current stamp. Bumping it here would make every replica look stale.
            Some(l) if !new_block && l.num_bytes < n.block_size => Some(LastBlock {
                block: *l,
                offset: n.length() - l.num_bytes,
            }),
            _ => None,
        };
        if let Some(l) = &last {
            // The continued block counts at its preferred size again.
            let free = n.block_size.saturating_sub(l.block.num_bytes);
            let grow = quota::space_of_bytes(
                i64::try_from(free).unwrap_or(i64::MAX),
                n.replication,
                self.effective_storage_policy(slot),
            );
            self.verify_space(slot, grow, quota::QuotaCounts::default())?;
        }
        let op = edit(Op::Append(pb::AppendOp {
            path: res.path(),
            inode_id: n.id,
            client_name: holder.to_string(),
            client_machine: client_machine.to_string(),
            last_block: last.map(|l| to_pb(&l.block)),
        }));
        Ok((op, last))
    }

    /// Lease recovery: the open file passes to `holder`.
    pub fn plan_reassign_lease(
        &self,
        inode_id: u64,
        holder: &str,
    ) -> Result<EditOp, NamespaceError> {
        let slot = self.index.get(inode_id, &self.slab);
        let slot = slot
            .filter(|s| self.under_construction.contains_key(&self.node(*s).id))
            .ok_or_else(|| {
                NamespaceError::FileNotFound(format!("inode {inode_id} is not open for writing"))
            })?;
        Ok(edit(Op::ReassignLease(pb::ReassignLeaseOp {
            path: self.path_of_slot(slot),
            inode_id,
            holder: holder.to_string(),
        })))
    }

    /// Closes an open file whatever its holder (lease recovery once its blocks are
    /// settled). With `drop_last` the last block (never written) is removed first.
    pub fn plan_recovery_close(
        &self,
        inode_id: u64,
        drop_last: bool,
        now: i64,
    ) -> Result<(EditOp, Vec<BlockInfo>), NamespaceError> {
        let slot = self
            .index
            .get(inode_id, &self.slab)
            .filter(|s| self.under_construction.contains_key(&self.node(*s).id))
            .ok_or_else(|| {
                NamespaceError::FileNotFound(format!("inode {inode_id} is not open for writing"))
            })?;
        let n = self.node(slot);
        let mut blocks = n.blocks().to_vec();
        if drop_last {
            blocks.pop();
        }
        let op = edit(Op::Close(pb::CloseOp {
            path: self.path_of_slot(slot),
            inode_id,
            mtime: now,
            atime: n.atime,
            blocks: to_pb_blocks(&blocks),
        }));
        Ok((op, blocks))
    }

    /// commitBlockSynchronization (the primary DataNode finished a block recovery):
    /// the last block takes the agreed generation stamp and length (or is deleted when
    /// no replica had data), and with `close_file` the file closes.
    pub fn plan_commit_block_sync(
        &self,
        block_id: u64,
        new_gen_stamp: u64,
        new_length: u64,
        close_file: bool,
        delete_block: bool,
        now: i64,
    ) -> Result<CommitBlockSync, NamespaceError> {
        let Some((slot, _)) = self.uc_slot_of_block(block_id) else {
            return Err(NamespaceError::Io(format!(
                "Block (=blk_{block_id}) not found or its file is not under construction"
            )));
        };
        let n = self.node(slot);
        let mut blocks = n.blocks().to_vec();
        if delete_block {
            blocks.pop();
        } else if let Some(l) = blocks.last_mut() {
            if new_gen_stamp < l.gen_stamp || new_gen_stamp > self.gen_stamp {
                return Err(NamespaceError::Io(format!(
                    "commitBlockSynchronization of blk_{block_id}: generation stamp \
                     {new_gen_stamp} was not handed out for it (block has {})",
                    l.gen_stamp
                )));
            }
            l.gen_stamp = new_gen_stamp;
            l.num_bytes = new_length;
        }
        let path = self.path_of_slot(slot);
        let op = if close_file {
            edit(Op::Close(pb::CloseOp {
                path: path.clone(),
                inode_id: n.id,
                mtime: now,
                atime: n.atime,
                blocks: to_pb_blocks(&blocks),
            }))
        } else {
            self.update_blocks_op(slot, &blocks)
        };
        Ok(CommitBlockSync {
            op,
            inode_id: n.id,
            path,
            blocks,
            closes: close_file,
        })
    }

    /// A file's blocks, replication and whether it is open, by inode id.
    pub fn file_blocks(&self, inode_id: u64) -> Option<(Vec<BlockInfo>, u16, bool)> {
        let slot = self.index.get(inode_id, &self.slab)?;
        let n = self.node(slot);
        if n.is_dir() {
            return None;
        }
        Some((
            n.blocks().to_vec(),
            n.replication,
            self.under_construction.contains_key(&n.id),
        ))
    }

    /// Every file with blocks: (inode id, replication, blocks, under construction),
    /// to fill the block manager at startup.
    pub fn block_collections(&self) -> impl Iterator<Item = (u64, u16, &[BlockInfo], bool)> {
        self.slab
            .iter()
            .filter(|n| n.id != 0 && !n.is_dir() && !n.blocks().is_empty())
            .map(|n| {
                let uc = self.under_construction.contains_key(&n.id);
                (n.id, n.replication, n.blocks(), uc)
            })
    }

    /// One file's blocks as [`Namespace::block_collections`] gives them: (replication,
    /// blocks, under construction); None for a directory, a missing inode or no blocks.
    pub fn block_collection(&self, inode_id: u64) -> Option<(u16, &[BlockInfo], bool)> {
        let slot = self.index.get(inode_id, &self.slab)?;
        let n = &self.slab[slot as usize];
        if n.is_dir() || n.blocks().is_empty() {
            return None;
        }
        let uc = self.under_construction.contains_key(&n.id);
        Some((n.replication, n.blocks(), uc))
    }
}

fn not_last(src: &str, b: &BlockInfo) -> NamespaceError {
    NamespaceError::Io(format!(
        "blk_{}_{} is not the last block of {src}",
        b.block_id, b.gen_stamp
    ))
}
