//! truncate (Hadoop's FSDirTruncateOp): the namespace half. A file cut at a block
//! boundary only loses its later blocks. A file cut inside a block also reopens
//! under construction, leased to the caller, with that block at its new length and a
//! truncate block (same id, a new generation stamp) that the block recovery makes
//! true on the DataNodes; commitBlockSynchronization then closes the file.
//!
//! As in Hadoop, the last block keeps its old length in the namespace until the
//! recovery commits: getFileInfo and listings show the old length until then (which
//! is what `hadoop fs -truncate -w` waits on), while getBlockLocations answers the
//! block at its truncate block's length, so no reader is handed a byte past the new
//! length.

use hafs_proto::hafs::{self as pb, edit_op::Op};

use super::apply::ApplyOutcome;
use super::error::NamespaceError;
use super::inode::BlockInfo;
use super::permission::{Access, Caller};
use super::plan::to_pb_blocks;
use super::{DirOp, EditOp, Namespace, UnderConstruction};

/// A file's blocks cut to `new_length` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cut {
    /// The blocks that keep bytes, as they are now (the last one at its old length).
    kept: Vec<BlockInfo>,
    /// The blocks wholly past the new length.
    removed: Vec<BlockInfo>,
    /// When the new length falls inside the last kept block: its length within it.
    partial: Option<u64>,
}

/// Hadoop's collectBlocksBeyondMax: the blocks that start before `new_length` stay.
fn cut(blocks: &[BlockInfo], new_length: u64) -> Cut {
    let mut kept = Vec::new();
    let mut removed = Vec::new();
    let mut start = 0u64;
    let mut partial = None;
    for b in blocks {
        if start < new_length {
            let end = start.saturating_add(b.num_bytes);
            if end > new_length {
                partial = Some(new_length - start);
            }
            kept.push(*b);
            start = end;
        } else {
            removed.push(*b);
        }
    }
    Cut {
        kept,
        removed,
        partial,
    }
}

/// What truncate decided.
#[derive(Debug, Clone, PartialEq)]
pub enum TruncatePlan {
    /// Nothing to log; Hadoop's answer: true when the file already has that length,
    /// false when the same truncate is already waiting for its block recovery.
    Done(bool),
    Apply(Box<Truncate>),
}

/// A truncate to log.
#[derive(Debug, Clone, PartialEq)]
pub struct Truncate {
    pub op: EditOp,
    pub inode_id: u64,
    /// When the cut falls inside a block: that block as the block manager knows it
    /// now (old generation stamp and length) and the truncate block it must become.
    pub recover: Option<(BlockInfo, BlockInfo)>,
}

impl Namespace {
    /// truncate `src` to `new_length` bytes for `holder`. A file another client is
    /// writing is refused here; the Namesystem first recovers one whose writer is past
    /// the soft limit (Hadoop's recoverLeaseInternal).
    pub fn plan_truncate(
        &self,
        caller: &Caller,
        src: &str,
        new_length: u64,
        holder: &str,
        client_machine: &str,
        now: i64,
    ) -> Result<TruncatePlan, NamespaceError> {
        let res = self.resolve(caller, src, DirOp::Other)?;
        let Some(slot) = res.last() else {
            return Err(NamespaceError::FileNotFound(format!(
                "File does not exist: {src}"
            )));
        };
        let n = self.node(slot);
        if n.is_dir() {
            return Err(NamespaceError::FileNotFound(format!(
                "Path is not a file: {src}"
            )));
        }
        self.check_permission(caller, &res, None, None, Some(Access::WRITE), None)?;
        let refused = |why: String| {
            NamespaceError::AlreadyBeingCreated(format!(
                "Failed to TRUNCATE_FILE {src} for {holder} on {client_machine} because {why}"
            ))
        };
        if let Some(uc) = self.under_construction.get(&n.id) {
            // The same truncate again (a client polling, or a retry) waits for the
            // recovery; another length is refused.
            if let Some(tb) = uc.truncate_block {
                let last = n.blocks().last().map_or(0, |b| b.num_bytes);
                if n.length() - last + tb.num_bytes == new_length {
                    return Ok(TruncatePlan::Done(false));
                }
                return Err(refused(format!("{src} is being truncated.")));
            }
            let why = if uc.client_name == holder {
                "current leaseholder is trying to recreate file.".to_string()
            } else {
                format!(
                    "this file lease is currently owned by {} on {}",
                    uc.client_name, uc.client_machine
                )
            };
            return Err(refused(why));
        }
        let old_length = n.length();
        if old_length == new_length {
            return Ok(TruncatePlan::Done(true));
        }
        if old_length < new_length {
            return Err(NamespaceError::HadoopIllegalArgument(format!(
                "Cannot truncate to a larger file size. Current size: {old_length}, \
                 truncate size: {new_length}."
            )));
        }
        let c = cut(n.blocks(), new_length);
        // In place: the last block keeps its id and takes a new generation stamp.
        // A block a snapshot still holds would have to be copied to a new block id
        // instead (Hadoop's copy-on-truncate), or the snapshot's bytes would be cut
        // with it: not built yet, so such a cut is refused. Whole blocks a snapshot
        // holds are kept for it by apply (keep_snapshot_blocks).
        if let (Some(_), Some(last)) = (c.partial, c.kept.last()) {
            if self.snapshot_holds_block(last.block_id) {
                return Err(NamespaceError::UnsupportedAction(format!(
                    "Cannot truncate {src} to {new_length}: its block {} is in a snapshot, \
                     and hafs cannot copy a block on truncate yet; truncate at a block \
                     boundary or delete the snapshot first",
                    last.block_id
                )));
            }
        }
        let recover = match (c.partial, c.kept.last()) {
            (Some(len), Some(last)) => Some((
                *last,
                BlockInfo {
                    block_id: last.block_id,
                    gen_stamp: self.gen_stamp + 1,
                    num_bytes: len,
                },
            )),
            _ => None,
        };
        let op = EditOp {
            retry_cache: None,
            op: Some(Op::Truncate(pb::TruncateOp {
                path: res.path(),
                inode_id: n.id,
                new_length,
                mtime: now,
                client_name: holder.to_string(),
                client_machine: client_machine.to_string(),
                truncate_block: recover.map(|(_, t)| pb::Block {
                    block_id: t.block_id,
                    gen_stamp: t.gen_stamp,
                    num_bytes: t.num_bytes,
                }),
            })),
        };
        Ok(TruncatePlan::Apply(Box::new(Truncate {
            op,
            inode_id: n.id,
            recover,
        })))
    }

    /// The truncate waiting for the recovery of this open file's last block.
    pub fn truncate_block(&self, inode_id: u64) -> Option<BlockInfo> {
        self.under_construction.get(&inode_id)?.truncate_block
    }

    pub(super) fn apply_truncate(
        &mut self,
        t: &pb::TruncateOp,
    ) -> Result<ApplyOutcome, NamespaceError> {
        let corrupt = |why: &str| NamespaceError::Corrupt(format!("truncate {}: {why}", t.path));
        let slot = self.op_file(&t.path, t.inode_id)?;
        let n = self.node(slot);
        let id = n.id;
        if self.under_construction.contains_key(&id) {
            return Err(corrupt("the file is open"));
        }
        if n.length() < t.new_length {
            return Err(corrupt("the file is shorter than the new length"));
        }
        let c = cut(n.blocks(), t.new_length);
        let truncate_block = match (c.partial, &t.truncate_block, c.kept.last()) {
            (None, None, _) => None,
            // The block keeps its length and stamp until commitBlockSynchronization.
            (Some(len), Some(tb), Some(last))
                if tb.block_id == last.block_id && tb.num_bytes == len =>
            {
                Some(BlockInfo {
                    block_id: tb.block_id,
                    gen_stamp: tb.gen_stamp,
                    num_bytes: tb.num_bytes,
                })
            }
            _ => return Err(corrupt("the truncate block does not match the cut")),
        };
        self.set_blocks(slot, &to_pb_blocks(&c.kept));
        self.slab[slot as usize].mtime = t.mtime;
        if let Some(tb) = truncate_block {
            self.gen_stamp = self.gen_stamp.max(tb.gen_stamp);
            self.under_construction.insert(
                id,
                UnderConstruction {
                    client_name: t.client_name.clone(),
                    client_machine: t.client_machine.clone(),
                    truncate_block: Some(tb),
                },
            );
        }
        Ok(ApplyOutcome {
            removed_blocks: c.removed,
            inode_id: Some(id),
            ..Default::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(id: u64, len: u64) -> BlockInfo {
        BlockInfo {
            block_id: id,
            gen_stamp: 1000 + id,
            num_bytes: len,
        }
    }

    #[test]
    fn cut_keeps_the_blocks_that_start_before_the_new_length() {
        let blocks = [b(1, 100), b(2, 100), b(3, 50)];
        let at = |len| cut(&blocks, len);
        assert_eq!(at(0).kept, vec![]);
        assert_eq!(at(0).removed, blocks.to_vec());
        assert_eq!(at(100).kept, vec![b(1, 100)]);
        assert_eq!(at(100).partial, None);
        assert_eq!(at(101).kept, vec![b(1, 100), b(2, 100)]);
        assert_eq!(at(101).partial, Some(1));
        assert_eq!(at(101).removed, vec![b(3, 50)]);
        assert_eq!(at(249).partial, Some(49));
        assert_eq!(at(250).partial, None);
        assert!(at(250).removed.is_empty());
    }
}
