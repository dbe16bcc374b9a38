//! The state-changing half of every mutation (Hadoop's unprotected* / FSEditLogLoader).
//! `apply` trusts nothing: an op that does not fit the tree (a corrupt or misordered
//! log) is refused with `NamespaceError::Corrupt` and leaves the namespace unchanged.

use hafs_proto::hafs::{self as pb, edit_op::Op};

use super::error::NamespaceError;
use super::inode::{BlockInfo, Body, Inode, Name, ROOT_SLOT};
use super::path;
use super::quota::QuotaCounts;
use super::{EditOp, Namespace, UnderConstruction};

/// What an applied op changed beyond the tree, for the block and lease managers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyOutcome {
    /// Blocks of deleted or overwritten files (to remove from the blocks map).
    pub removed_blocks: Vec<BlockInfo>,
    /// Inode ids of deleted files that were under construction (their leases end).
    pub removed_under_construction: Vec<u64>,
    /// The inode created (mkdirs: the deepest directory; create: the file) or changed.
    pub inode_id: Option<u64>,
}

fn corrupt(msg: String) -> NamespaceError {
    NamespaceError::Corrupt(msg)
}

pub(crate) fn from_pb_blocks(blocks: &[pb::Block]) -> Vec<BlockInfo> {
    blocks
        .iter()
        .map(|b| BlockInfo {
            block_id: b.block_id,
            gen_stamp: b.gen_stamp,
            num_bytes: b.num_bytes,
        })
        .collect()
}

fn to_u16(v: u32, what: &str) -> Result<u16, NamespaceError> {
    u16::try_from(v).map_err(|_| corrupt(format!("{what} {v} out of range")))
}

impl Namespace {
    /// Applies one op (a live one just planned, or one read back from the edit log).
    pub fn apply(&mut self, op: &EditOp) -> Result<ApplyOutcome, NamespaceError> {
        let mut out = self.apply_op(op)?;
        self.keep_snapshot_blocks(&mut out);
        Ok(out)
    }

    fn apply_op(&mut self, op: &EditOp) -> Result<ApplyOutcome, NamespaceError> {
        let Some(op) = &op.op else {
            return Err(corrupt("edit op without an operation".into()));
        };
        match op {
            Op::Mkdir(m) => self.apply_mkdir(m),
            Op::AddFile(a) => {
                // A new file may sit under a policy the block manager must learn.
                if !self.storage_policies.is_empty() {
                    self.storage_policy_epoch += 1;
                }
                self.apply_add_file(a)
            }
            Op::UpdateBlocks(u) => {
                self.tracking_space(&u.path, u.inode_id, |ns| ns.apply_update_blocks(u))
            }
            Op::Close(c) => self.tracking_space(&c.path, c.inode_id, |ns| ns.apply_close(c)),
            Op::Delete(d) => self.apply_delete(d),
            Op::Rename(r) => {
                // A moved file may now sit under another policy.
                if !self.storage_policies.is_empty() {
                    self.storage_policy_epoch += 1;
                }
                self.apply_rename(r)
            }
            Op::Concat(c) => self.apply_concat(c),
            Op::SetPermission(p) => self.apply_set_permission(p),
            Op::SetOwner(o) => self.apply_set_owner(o),
            Op::SetTimes(t) => self.apply_set_times(t),
            Op::SetReplication(r) => {
                self.tracking_space(&r.path, 0, |ns| ns.apply_set_replication(r))
            }
            Op::SetQuota(q) => self.apply_set_quota(q),
            Op::SetAcl(a) => self.apply_set_acl(a),
            Op::SetQuotaByStorageType(q) => self.apply_set_quota_by_storage_type(q),
            Op::AddBlock(a) => self.tracking_space(&a.path, a.inode_id, |ns| ns.apply_add_block(a)),
            Op::SetGenStamp(g) => {
                self.gen_stamp = self.gen_stamp.max(g.gen_stamp);
                Ok(ApplyOutcome::default())
            }
            Op::Append(a) => self.tracking_space(&a.path, a.inode_id, |ns| ns.apply_append(a)),
            Op::ReassignLease(r) => self.apply_reassign_lease(r),
            Op::Truncate(t) => self.tracking_space(&t.path, t.inode_id, |ns| ns.apply_truncate(t)),
            Op::SetXattr(x) => self.apply_set_xattr(x),
            Op::RemoveXattr(x) => self.apply_remove_xattr(x),
            Op::SetStoragePolicy(p) => self.apply_set_storage_policy(p),
            Op::AllowSnapshot(_)
            | Op::DisallowSnapshot(_)
            | Op::CreateSnapshot(_)
            | Op::DeleteSnapshot(_)
            | Op::RenameSnapshot(_) => self.apply_snapshot_op(op),
            Op::UpdateMasterKey(_)
            | Op::GetDelegationToken(_)
            | Op::RenewDelegationToken(_)
            | Op::CancelDelegationToken(_) => match self.tokens.apply(op) {
                Some(r) => r
                    .map(|()| ApplyOutcome::default())
                    .map_err(|e| corrupt(e.to_string())),
                None => unreachable!("the secret manager applies every token edit"),
            },
        }
    }

    /// Runs `f` (an op changing one file's blocks, replication or open state) and
    /// gives the change in the file's storage space to the quotas above it.
    fn tracking_space(
        &mut self,
        p: &str,
        inode_id: u64,
        f: impl FnOnce(&mut Self) -> Result<ApplyOutcome, NamespaceError>,
    ) -> Result<ApplyOutcome, NamespaceError> {
        let Ok(slot) = self.op_file(p, inode_id) else {
            return f(self);
        };
        let before = self.file_space_of(slot);
        let out = f(self)?;
        let after = self.file_space_of(slot);
        self.add_usage(slot, after.minus(before));
        Ok(out)
    }

    fn lookup(&self, p: &str) -> Result<Option<u32>, NamespaceError> {
        let comps = path::components(p).map_err(|e| corrupt(e.to_string()))?;
        Ok(self.walk(comps).last())
    }

    pub(super) fn lookup_existing(&self, p: &str) -> Result<u32, NamespaceError> {
        self.lookup(p)?
            .ok_or_else(|| corrupt(format!("{p} does not exist")))
    }

    /// The existing parent directory of `p` and `p`'s last name.
    fn lookup_parent<'p>(&self, p: &'p str) -> Result<(Option<u32>, &'p str), NamespaceError> {
        let comps = path::components(p).map_err(|e| corrupt(e.to_string()))?;
        let Some((&name, parents)) = comps.split_last() else {
            return Err(corrupt("the root cannot be created or moved".into()));
        };
        let parent = self.walk(parents.to_vec()).last();
        let parent = parent.filter(|&s| self.node(s).is_dir());
        Ok((parent, name))
    }

    fn check_new_id(&self, id: u64, taken: &[u64]) -> Result<(), NamespaceError> {
        if id == 0 || self.index.get(id, &self.slab).is_some() || taken.contains(&id) {
            return Err(corrupt(format!("inode id {id} is zero or already in use")));
        }
        Ok(())
    }

    /// Validates a run of new directories (each parent existing or created earlier in
    /// the run) without changing anything. Returns the ids and paths they take.
    fn check_new_dirs(
        &self,
        dirs: &[pb::NewDir],
    ) -> Result<(Vec<u64>, Vec<String>), NamespaceError> {
        let mut ids = Vec::with_capacity(dirs.len());
        let mut paths: Vec<String> = Vec::with_capacity(dirs.len());
        for d in dirs {
            self.check_new_id(d.inode_id, &ids)?;
            to_u16(d.perm, "permission")?;
            let comps = path::components(&d.path).map_err(|e| corrupt(e.to_string()))?;
            if comps.is_empty() {
                return Err(corrupt("mkdir of the root".into()));
            }
            let parent = path::parent_of(&comps);
            let (tree_parent, name) = self.lookup_parent(&d.path)?;
            let exists = match tree_parent {
                Some(p) => self.child(p, name.as_bytes()).is_some(),
                None if paths.contains(&parent) => false,
                None => return Err(corrupt(format!("parent of {} is missing", d.path))),
            };
            let normalized = path::join(&comps);
            if exists || paths.contains(&normalized) {
                return Err(corrupt(format!("{} already exists", d.path)));
            }
            ids.push(d.inode_id);
            paths.push(normalized);
        }
        Ok((ids, paths))
    }

    /// Creates checked directories (see `check_new_dirs`).
    fn create_dirs(&mut self, dirs: &[pb::NewDir]) -> Result<Option<u64>, NamespaceError> {
        let mut last = None;
        for d in dirs {
            let (parent, name) = self.lookup_parent(&d.path)?;
            let parent =
                parent.ok_or_else(|| corrupt(format!("parent of {} is missing", d.path)))?;
            let inode = Inode {
                id: d.inode_id,
                mtime: d.mtime,
                atime: 0,
                block_size: 0,
                name: Name::new(name.as_bytes()),
                body: Body::Dir(Vec::new()),
                parent,
                owner: self.strings.intern(&d.owner),
                group: self.strings.intern(&d.group),
                perm: to_u16(d.perm, "permission")? & 0o1777,
                replication: 0,
            };
            let slot = self.add_child(parent, inode);
            // A parent's default ACL becomes the new directory's ACL (acl.rs).
            self.inherit_default_acl(slot);
            self.slab[parent as usize].mtime = d.mtime;
            last = Some(d.inode_id);
        }
        Ok(last)
    }

    fn apply_mkdir(&mut self, m: &pb::MkDirOp) -> Result<ApplyOutcome, NamespaceError> {
        if m.dirs.is_empty() {
            return Err(corrupt("mkdir op without directories".into()));
        }
        self.check_new_dirs(&m.dirs)?;
        let inode_id = self.create_dirs(&m.dirs)?;
        Ok(ApplyOutcome {
            inode_id,
            ..Default::default()
        })
    }

    fn apply_add_file(&mut self, a: &pb::AddFileOp) -> Result<ApplyOutcome, NamespaceError> {
        let (ids, paths) = self.check_new_dirs(&a.parents)?;
        self.check_new_id(a.inode_id, &ids)?;
        let perm = to_u16(a.perm, "permission")? & 0o1777;
        let replication = to_u16(a.replication, "replication")?;
        let comps = path::components(&a.path).map_err(|e| corrupt(e.to_string()))?;
        if comps.is_empty() {
            return Err(corrupt("create of the root".into()));
        }
        let parent_path = path::parent_of(&comps);
        let (parent, name) = self.lookup_parent(&a.path)?;
        let existing = match parent {
            Some(p) => self.child(p, name.as_bytes()),
            None if paths.last() == Some(&parent_path) => None,
            None => return Err(corrupt(format!("parent of {} is missing", a.path))),
        };
        if let Some(e) = existing {
            if !a.overwrite || self.node(e).is_dir() {
                return Err(corrupt(format!("{} already exists", a.path)));
            }
        }
        // Checked: now change.
        let mut out = ApplyOutcome::default();
        self.create_dirs(&a.parents)?;
        if let Some(e) = existing {
            self.remove_subtree(e, &mut out);
        }
        let (parent, name) = self.lookup_parent(&a.path)?;
        let parent = parent.ok_or_else(|| corrupt(format!("parent of {} is missing", a.path)))?;
        let inode = Inode {
            id: a.inode_id,
            mtime: a.mtime,
            atime: a.mtime,
            block_size: a.block_size,
            name: Name::new(name.as_bytes()),
            body: Body::File(None),
            parent,
            owner: self.strings.intern(&a.owner),
            group: self.strings.intern(&a.group),
            perm,
            replication,
        };
        let slot = self.add_child(parent, inode);
        self.inherit_default_acl(slot);
        self.slab[parent as usize].mtime = a.mtime;
        self.under_construction.insert(
            a.inode_id,
            UnderConstruction {
                client_name: a.client_name.clone(),
                client_machine: a.client_machine.clone(),
                truncate_block: None,
            },
        );
        out.inode_id = Some(a.inode_id);
        Ok(out)
    }

    /// The file an op names: by inode id when it is set, else by path.
    pub(super) fn op_file(&self, p: &str, inode_id: u64) -> Result<u32, NamespaceError> {
        let slot = if inode_id != 0 {
            self.index
                .get(inode_id, &self.slab)
                .ok_or_else(|| corrupt(format!("inode {inode_id} does not exist")))?
        } else {
            self.lookup_existing(p)?
        };
        if self.node(slot).is_dir() {
            return Err(corrupt(format!("{p} is not a file")));
        }
        Ok(slot)
    }

    pub(super) fn set_blocks(&mut self, slot: u32, blocks: &[pb::Block]) {
        let blocks = from_pb_blocks(blocks);
        self.note_blocks(&blocks);
        self.slab[slot as usize].body = Body::File(if blocks.is_empty() {
            None
        } else {
            Some(Box::new(blocks))
        });
    }

    fn apply_update_blocks(
        &mut self,
        u: &pb::UpdateBlocksOp,
    ) -> Result<ApplyOutcome, NamespaceError> {
        let slot = self.op_file(&u.path, u.inode_id)?;
        self.set_blocks(slot, &u.blocks);
        Ok(ApplyOutcome {
            inode_id: Some(self.node(slot).id),
            ..Default::default()
        })
    }

    fn apply_close(&mut self, c: &pb::CloseOp) -> Result<ApplyOutcome, NamespaceError> {
        let slot = self.op_file(&c.path, c.inode_id)?;
        self.set_blocks(slot, &c.blocks);
        let n = &mut self.slab[slot as usize];
        n.mtime = c.mtime;
        n.atime = c.atime;
        let id = n.id;
        self.under_construction.remove(&id);
        Ok(ApplyOutcome {
            inode_id: Some(id),
            ..Default::default()
        })
    }

    /// The open file an op names (a lease must exist on it).
    fn op_open_file(&self, p: &str, inode_id: u64) -> Result<u32, NamespaceError> {
        let slot = self.op_file(p, inode_id)?;
        if !self.under_construction.contains_key(&self.node(slot).id) {
            return Err(corrupt(format!("{p} is not under construction")));
        }
        Ok(slot)
    }

    fn apply_add_block(&mut self, a: &pb::AddBlockOp) -> Result<ApplyOutcome, NamespaceError> {
        let slot = self.op_open_file(&a.path, a.inode_id)?;
        let block = a
            .block
            .as_ref()
            .ok_or_else(|| corrupt(format!("addBlock on {} without a block", a.path)))?;
        let mut blocks = self.node(slot).blocks().to_vec();
        match (&a.previous, blocks.last_mut()) {
            // The first block, or the first block of an append that starts at a block
            // boundary (or asked for NEW_BLOCK): the blocks before it stay as they are.
            (None, _) => {}
            (Some(p), Some(last)) if p.block_id == last.block_id => {
                last.gen_stamp = p.gen_stamp;
                last.num_bytes = p.num_bytes;
            }
            _ => {
                return Err(corrupt(format!(
                    "addBlock on {}: previous block does not match the file's last",
                    a.path
                )))
            }
        }
        if blocks.iter().any(|b| b.block_id == block.block_id) {
            return Err(corrupt(format!("block {} added twice", block.block_id)));
        }
        blocks.extend(from_pb_blocks(std::slice::from_ref(block)));
        self.set_blocks(slot, &super::plan::to_pb_blocks(&blocks));
        Ok(self.changed(slot))
    }

    fn apply_append(&mut self, a: &pb::AppendOp) -> Result<ApplyOutcome, NamespaceError> {
        let slot = self.op_file(&a.path, a.inode_id)?;
        let id = self.node(slot).id;
        if self.under_construction.contains_key(&id) {
            return Err(corrupt(format!("append: {} is already open", a.path)));
        }
        if let Some(b) = &a.last_block {
            let mut blocks = self.node(slot).blocks().to_vec();
            match blocks.last_mut() {
                Some(last) if last.block_id == b.block_id => {
                    last.gen_stamp = b.gen_stamp;
                    last.num_bytes = b.num_bytes;
                }
                _ => {
                    return Err(corrupt(format!(
                        "append: block {} is not the last of {}",
                        b.block_id, a.path
                    )))
                }
            }
            self.set_blocks(slot, &super::plan::to_pb_blocks(&blocks));
        }
        self.under_construction.insert(
            id,
            UnderConstruction {
                client_name: a.client_name.clone(),
                client_machine: a.client_machine.clone(),
                truncate_block: None,
            },
        );
        Ok(self.changed(slot))
    }

    fn apply_reassign_lease(
        &mut self,
        r: &pb::ReassignLeaseOp,
    ) -> Result<ApplyOutcome, NamespaceError> {
        let slot = self.op_open_file(&r.path, r.inode_id)?;
        let id = self.node(slot).id;
        if let Some(uc) = self.under_construction.get_mut(&id) {
            uc.client_name = r.holder.clone();
        }
        Ok(self.changed(slot))
    }

    fn apply_delete(&mut self, d: &pb::DeleteOp) -> Result<ApplyOutcome, NamespaceError> {
        let slot = self.lookup_existing(&d.path)?;
        if slot == ROOT_SLOT {
            return Err(corrupt("delete of the root".into()));
        }
        let parent = self.node(slot).parent;
        let mut out = ApplyOutcome {
            inode_id: Some(self.node(slot).id),
            ..Default::default()
        };
        self.remove_subtree(slot, &mut out);
        self.slab[parent as usize].mtime = d.mtime;
        Ok(out)
    }

    fn apply_rename(&mut self, r: &pb::RenameOp) -> Result<ApplyOutcome, NamespaceError> {
        let src = self.lookup_existing(&r.src)?;
        if src == ROOT_SLOT {
            return Err(corrupt("rename of the root".into()));
        }
        let (dst_parent, name) = self.lookup_parent(&r.dst)?;
        let dst_parent =
            dst_parent.ok_or_else(|| corrupt(format!("parent of {} is missing", r.dst)))?;
        if self.is_within(dst_parent, src) {
            return Err(corrupt(format!("{} is under {}", r.dst, r.src)));
        }
        let existing = self.child(dst_parent, name.as_bytes());
        if let Some(e) = existing {
            let (sn, dn) = (self.node(src), self.node(e));
            if e == src || !r.overwrite || sn.is_dir() != dn.is_dir() || !dn.children().is_empty() {
                return Err(corrupt(format!("rename destination {} exists", r.dst)));
            }
        }
        let mut out = ApplyOutcome {
            inode_id: Some(self.node(src).id),
            ..Default::default()
        };
        if let Some(e) = existing {
            self.remove_subtree(e, &mut out);
        }
        let src_parent = self.node(src).parent;
        // The subtree's usage leaves the quotas above the source and joins those above
        // the destination, recounted when the policy it inherits changes with it.
        let quotas_before = self.quota_dirs_above(src_parent);
        let before = self.subtree_usage(src);
        let recount = self.policy_moves(src, dst_parent);
        self.detach(src);
        self.attach(dst_parent, src, name.as_bytes());
        let after = if recount {
            self.recount_subtree(src)
        } else {
            before
        };
        if after != before || quotas_before != self.quota_dirs_above(dst_parent) {
            self.add_usage(src_parent, QuotaCounts::default().minus(before));
            self.add_usage(dst_parent, after);
        }
        self.slab[src_parent as usize].mtime = r.mtime;
        self.slab[dst_parent as usize].mtime = r.mtime;
        Ok(out)
    }

    /// concat: the target keeps its inode and gains the srcs' blocks; the srcs go
    /// without their blocks (they are not freed: the target owns them now).
    fn apply_concat(&mut self, c: &pb::ConcatOp) -> Result<ApplyOutcome, NamespaceError> {
        let target = self.op_file(&c.target, 0)?;
        let parent = self.node(target).parent;
        let mut srcs = Vec::with_capacity(c.srcs.len());
        // A set, not `srcs.contains`: a log may name many sources.
        let mut seen = std::collections::HashSet::with_capacity(c.srcs.len());
        for p in &c.srcs {
            let slot = self.op_file(p, 0)?;
            let n = self.node(slot);
            if slot == target || !seen.insert(slot) || n.parent != parent {
                return Err(corrupt(format!("concat of {p} into {}", c.target)));
            }
            if self.under_construction.contains_key(&n.id) {
                return Err(corrupt(format!("concat of open file {p}")));
            }
            srcs.push(slot);
        }
        if self.under_construction.contains_key(&self.node(target).id) {
            return Err(corrupt(format!("concat into open file {}", c.target)));
        }
        let mut blocks = self.node(target).blocks().to_vec();
        let mut out = ApplyOutcome {
            inode_id: Some(self.node(target).id),
            ..Default::default()
        };
        let target_before = self.file_space_of(target);
        for &slot in &srcs {
            // The source's space leaves with its blocks; the target counts them again
            // at its own replication below.
            let space = self.file_space_of(slot);
            self.add_usage(slot, QuotaCounts::default().minus(space));
            let moved = std::mem::replace(&mut self.slab[slot as usize].body, Body::File(None));
            if let Body::File(Some(b)) = moved {
                blocks.extend(b.iter().copied());
            }
            self.remove_subtree(slot, &mut out);
        }
        hafs_util::invariant!(
            out.removed_blocks.is_empty(),
            "concat into {} freed {} moved blocks",
            c.target,
            out.removed_blocks.len()
        );
        self.slab[target as usize].body = Body::File(Some(Box::new(blocks)));
        let target_after = self.file_space_of(target);
        self.add_usage(target, target_after.minus(target_before));
        self.slab[target as usize].mtime = c.mtime;
        self.slab[parent as usize].mtime = c.mtime;
        Ok(out)
    }

    fn changed(&self, slot: u32) -> ApplyOutcome {
        ApplyOutcome {
            inode_id: Some(self.node(slot).id),
            ..Default::default()
        }
    }

    fn apply_set_permission(
        &mut self,
        p: &pb::SetPermissionOp,
    ) -> Result<ApplyOutcome, NamespaceError> {
        let slot = self.lookup_existing(&p.path)?;
        self.slab[slot as usize].perm = to_u16(p.perm, "permission")? & 0o1777;
        Ok(self.changed(slot))
    }

    fn apply_set_owner(&mut self, o: &pb::SetOwnerOp) -> Result<ApplyOutcome, NamespaceError> {
        let slot = self.lookup_existing(&o.path)?;
        if let Some(owner) = o.owner.as_deref().filter(|s| !s.is_empty()) {
            self.slab[slot as usize].owner = self.strings.intern(owner);
        }
        if let Some(group) = o.group.as_deref().filter(|s| !s.is_empty()) {
            self.slab[slot as usize].group = self.strings.intern(group);
        }
        Ok(self.changed(slot))
    }

    fn apply_set_times(&mut self, t: &pb::SetTimesOp) -> Result<ApplyOutcome, NamespaceError> {
        let slot = self.lookup_existing(&t.path)?;
        let n = &mut self.slab[slot as usize];
        if t.mtime != -1 {
            n.mtime = t.mtime;
        }
        if t.atime != -1 {
            n.atime = t.atime;
        }
        Ok(self.changed(slot))
    }

    fn apply_set_replication(
        &mut self,
        r: &pb::SetReplicationOp,
    ) -> Result<ApplyOutcome, NamespaceError> {
        let slot = self.lookup_existing(&r.path)?;
        if self.node(slot).is_dir() {
            return Err(corrupt(format!("setReplication on directory {}", r.path)));
        }
        self.slab[slot as usize].replication = to_u16(r.replication, "replication")?;
        Ok(self.changed(slot))
    }

    fn apply_set_quota(&mut self, q: &pb::SetQuotaOp) -> Result<ApplyOutcome, NamespaceError> {
        let slot = self.lookup_existing(&q.path)?;
        if !self.node(slot).is_dir() {
            return Err(corrupt(format!("setQuota on file {}", q.path)));
        }
        let pick = |new: i64, old: i64| if new == i64::MAX { old } else { new.max(-1) };
        self.change_quota(slot, |quota| {
            quota.ns_quota = pick(q.ns_quota, quota.ns_quota);
            quota.ds_quota = pick(q.ds_quota, quota.ds_quota);
        });
        Ok(self.changed(slot))
    }

    fn apply_set_quota_by_storage_type(
        &mut self,
        q: &pb::SetQuotaByStorageTypeOp,
    ) -> Result<ApplyOutcome, NamespaceError> {
        let slot = self.lookup_existing(&q.path)?;
        if !self.node(slot).is_dir() {
            return Err(corrupt(format!("setQuota on file {}", q.path)));
        }
        if !super::quota::supports_type_quota(q.storage_type) {
            return Err(corrupt(format!(
                "setQuota of {}: storage type {} has no quotas",
                q.path, q.storage_type
            )));
        }
        let i = (q.storage_type - 1) as usize;
        self.change_quota(slot, |quota| {
            if q.quota != i64::MAX {
                quota.type_quotas[i] = q.quota.max(-1);
            }
        });
        Ok(self.changed(slot))
    }
}
