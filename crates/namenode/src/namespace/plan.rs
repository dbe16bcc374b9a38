//! The validating half of every mutation: check a client request against the current
//! tree and produce the edit op to log (Hadoop's FSDir*Op.* before unprotected*).

use hafs_proto::hafs::{self as pb, edit_op::Op};

use super::error::NamespaceError;
use super::inode::{BlockInfo, ROOT_SLOT};
use super::path;
use super::permission::{Access, Caller};
use super::quota;
use super::{DirOp, EditOp, Namespace, Resolved};

/// What a plan decided.
// Short-lived (plan → log → apply), so the size difference does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Planned {
    /// Log this op, apply it, and answer the client as the call succeeded.
    Apply(EditOp),
    /// Nothing to change; answer the client with this result (Hadoop's `false` from
    /// rename / delete / setReplication, or `true` for mkdirs of an existing directory
    /// and a rename onto itself).
    Done(bool),
}

impl Planned {
    /// The op to log, if any.
    pub fn op(&self) -> Option<&EditOp> {
        match self {
            Planned::Apply(op) => Some(op),
            Planned::Done(_) => None,
        }
    }
}

fn edit(op: Op) -> EditOp {
    EditOp {
        retry_cache: None,
        op: Some(op),
    }
}

pub(crate) fn to_pb_blocks(blocks: &[BlockInfo]) -> Vec<pb::Block> {
    blocks
        .iter()
        .map(|b| pb::Block {
            block_id: b.block_id,
            gen_stamp: b.gen_stamp,
            num_bytes: b.num_bytes,
        })
        .collect()
}

impl Namespace {
    /// dfs.namenode.fs-limits.max-component-length, checked for each new name.
    pub(super) fn verify_component(&self, name: &str, parent: &str) -> Result<(), NamespaceError> {
        let limit = self.config.max_component_length;
        if limit > 0 && name.len() > limit {
            return Err(NamespaceError::PathComponentTooLong {
                name: name.to_string(),
                parent: parent.to_string(),
                limit,
                length: name.len(),
            });
        }
        Ok(())
    }

    /// dfs.namenode.fs-limits.max-directory-items, checked before adding to `dir`.
    fn verify_dir_items(&self, dir: u32, dir_path: &str) -> Result<(), NamespaceError> {
        let limit = self.config.max_dir_items;
        let items = self.node(dir).children().len();
        if limit > 0 && items >= limit {
            return Err(NamespaceError::MaxDirectoryItemsExceeded {
                path: dir_path.to_string(),
                limit,
                items,
            });
        }
        Ok(())
    }

    /// The directories to create for the missing components of `res` up to and
    /// including `res.nodes[upto]`, with ids from `next_id`. The last gets `last_perm`, the
    /// others `ancestor_perm`; the group is inherited from the deepest existing directory.
    #[allow(clippy::too_many_arguments)]
    fn new_dirs(
        &self,
        caller: &Caller,
        res: &Resolved,
        upto: usize,
        ancestor_perm: u16,
        last_perm: u16,
        next_id: &mut u64,
        now: i64,
    ) -> Result<Vec<pb::NewDir>, NamespaceError> {
        let first_missing = res
            .nodes
            .iter()
            .position(|n| n.is_none())
            .unwrap_or(res.nodes.len());
        let deepest = res.nodes[first_missing - 1].unwrap_or(ROOT_SLOT);
        let group = self.group_name(self.node(deepest)).to_string();
        let mut out = Vec::new();
        for i in first_missing..=upto {
            let name = res.comps[i - 1];
            let parent_path = res.prefix(i - 1);
            self.verify_component(name, &parent_path)?;
            if i == first_missing {
                self.verify_dir_items(deepest, &parent_path)?;
            }
            *next_id += 1;
            out.push(pb::NewDir {
                path: res.prefix(i),
                inode_id: *next_id,
                perm: u32::from(if i == upto { last_perm } else { ancestor_perm }),
                owner: caller.user.clone(),
                group: group.clone(),
                mtime: now,
            });
        }
        Ok(out)
    }

    /// mkdirs. `perm` is the already-umasked permission. Missing ancestors (with
    /// `create_parent`) get `perm` plus u+wx, as in Hadoop.
    pub fn plan_mkdirs(
        &self,
        caller: &Caller,
        src: &str,
        perm: u16,
        create_parent: bool,
        now: i64,
    ) -> Result<Planned, NamespaceError> {
        self.plan_mkdirs_with_unmasked(caller, src, perm, None, create_parent, now)
    }

    /// mkdirs with the client's unmasked mode too: under a default ACL the new
    /// directory takes it instead of `perm` (acl.rs, `create_mode`); the ancestors
    /// still derive from `perm`.
    pub fn plan_mkdirs_with_unmasked(
        &self,
        caller: &Caller,
        src: &str,
        perm: u16,
        unmasked: Option<u16>,
        create_parent: bool,
        now: i64,
    ) -> Result<Planned, NamespaceError> {
        let res = self.resolve(caller, src, DirOp::Create)?;
        if let Some(last) = res.last() {
            if !self.node(last).is_dir() {
                return Err(NamespaceError::AlreadyExists(format!(
                    "Path is not a directory: {}",
                    res.path()
                )));
            }
            return Ok(Planned::Done(true));
        }
        self.check_permission(caller, &res, Some(Access::WRITE), None, None, None)?;
        if !create_parent && res.parent().is_none() {
            return Err(NamespaceError::FileNotFound(format!(
                "Parent directory doesn't exist: {}",
                path::parent_of(&res.comps)
            )));
        }
        let perm = perm & 0o1777;
        let ancestor_perm = (perm | 0o300) & 0o777;
        let last_perm = self.create_mode(src, perm, unmasked);
        let mut next_id = self.last_inode_id;
        let dirs = self.new_dirs(
            caller,
            &res,
            res.comps.len(),
            ancestor_perm,
            last_perm,
            &mut next_id,
            now,
        )?;
        self.verify_new_names(&res, dirs.len() as i64, None)?;
        Ok(Planned::Apply(edit(Op::Mkdir(pb::MkDirOp { dirs }))))
    }

    /// create (Hadoop's startFile): a new file under construction leased to
    /// `client_name`. Missing parents (with `create_parent`) get the deepest existing
    /// directory's permission plus u+wx.
    #[allow(clippy::too_many_arguments)]
    pub fn plan_create(
        &self,
        caller: &Caller,
        src: &str,
        perm: u16,
        client_name: &str,
        client_machine: &str,
        overwrite: bool,
        create_parent: bool,
        replication: u16,
        block_size: u64,
        now: i64,
    ) -> Result<EditOp, NamespaceError> {
        path::components(src)?;
        self.verify_replication(src, replication, Some(client_machine))?;
        if block_size < self.config.min_block_size {
            return Err(NamespaceError::Io(format!(
                "Specified block size is less than configured minimum value \
                 (dfs.namenode.fs-limits.min-block-size): {} < {}",
                block_size, self.config.min_block_size
            )));
        }
        let res = self.resolve(caller, src, DirOp::Create)?;
        let existing = res.last();
        if let Some(e) = existing {
            if self.node(e).is_dir() {
                return Err(NamespaceError::AlreadyExists(format!(
                    "{} already exists as a directory",
                    res.path()
                )));
            }
            if overwrite {
                self.check_permission(caller, &res, None, None, Some(Access::WRITE), None)?;
            }
        }
        if res.comps.is_empty() {
            return Err(NamespaceError::AlreadyExists(
                "/ already exists as a directory".to_string(),
            ));
        }
        self.check_permission(caller, &res, Some(Access::WRITE), None, None, None)?;
        if !create_parent && res.parent().is_none() {
            return Err(NamespaceError::FileNotFound(format!(
                "Parent directory doesn't exist: {}",
                path::parent_of(&res.comps)
            )));
        }
        if let Some(e) = existing {
            if !overwrite {
                let n = self.node(e);
                if let Some(uc) = self.under_construction.get(&n.id) {
                    let why = if uc.client_name == client_name {
                        "current leaseholder is trying to recreate file.".to_string()
                    } else {
                        format!(
                            "this file lease is currently owned by {} on {}",
                            uc.client_name, uc.client_machine
                        )
                    };
                    return Err(NamespaceError::AlreadyBeingCreated(format!(
                        "Failed to CREATE_FILE {} for {} on {} because {}",
                        res.path(),
                        client_name,
                        client_machine,
                        why
                    )));
                }
                return Err(NamespaceError::AlreadyExists(format!(
                    "{} for client {} already exists",
                    res.path(),
                    client_machine
                )));
            }
        }
        let mut next_id = self.last_inode_id;
        let n = res.comps.len();
        let mut parents = Vec::new();
        let group = if res.parent().is_some() {
            // Parent exists: only the file itself is new.
            let parent = res.parent().unwrap_or(ROOT_SLOT);
            if existing.is_none() {
                self.verify_component(res.comps[n - 1], &res.prefix(n - 1))?;
                self.verify_dir_items(parent, &res.prefix(n - 1))?;
            }
            self.group_name(self.node(parent)).to_string()
        } else {
            let first_missing = res.nodes.iter().position(|x| x.is_none()).unwrap_or(n);
            let deepest = res.nodes[first_missing - 1].unwrap_or(ROOT_SLOT);
            let ancestor_perm = (self.node(deepest).perm | 0o300) & 0o777;
            parents = self.new_dirs(
                caller,
                &res,
                n - 1,
                ancestor_perm,
                ancestor_perm,
                &mut next_id,
                now,
            )?;
            self.verify_component(res.comps[n - 1], &res.prefix(n - 1))?;
            self.group_name(self.node(deepest)).to_string()
        };
        self.verify_new_names(&res, parents.len() as i64 + 1, existing)?;
        next_id += 1;
        Ok(edit(Op::AddFile(pb::AddFileOp {
            path: res.path(),
            inode_id: next_id,
            perm: u32::from(perm & 0o1777),
            owner: caller.user.clone(),
            group,
            mtime: now,
            replication: u32::from(replication),
            block_size,
            client_name: client_name.to_string(),
            client_machine: client_machine.to_string(),
            overwrite: existing.is_some(),
            parents,
        })))
    }

    fn verify_replication(
        &self,
        src: &str,
        replication: u16,
        client_machine: Option<&str>,
    ) -> Result<(), NamespaceError> {
        let from = client_machine
            .map(|m| format!(" from {m}"))
            .unwrap_or_default();
        if replication > self.config.max_replication {
            return Err(NamespaceError::Io(format!(
                "Requested replication factor of {} exceeds maximum of {} for {}{}",
                replication, self.config.max_replication, src, from
            )));
        }
        if replication < self.config.min_replication {
            return Err(NamespaceError::Io(format!(
                "Requested replication factor of {} is less than the required minimum of {} for {}{}",
                replication, self.config.min_replication, src, from
            )));
        }
        Ok(())
    }

    /// Hadoop's checkLease: the file (by id when `file_id` != 0, else by path) must be
    /// under construction and leased to `holder`.
    pub(super) fn check_lease(
        &self,
        src: &str,
        file_id: u64,
        holder: &str,
    ) -> Result<u32, NamespaceError> {
        let ident = format!("{src} (inode {file_id})");
        let slot = if file_id != 0 {
            self.index.get(file_id, &self.slab)
        } else {
            let comps = path::components(src)?;
            self.walk(comps).last()
        };
        let no_file = || {
            NamespaceError::FileNotFound(format!(
                "File does not exist: {ident} Holder {holder} does not have any open files."
            ))
        };
        let slot = slot.ok_or_else(no_file)?;
        let n = self.node(slot);
        if n.is_dir() {
            return Err(NamespaceError::FileNotFound(format!(
                "Path is not a file: {src}"
            )));
        }
        match self.under_construction.get(&n.id) {
            None => Err(NamespaceError::LeaseExpired(format!(
                "No lease on {ident}: File is not open for writing. Holder {holder} does not have any open files."
            ))),
            Some(uc) if uc.client_name != holder => Err(NamespaceError::LeaseExpired(format!(
                "Client (={holder}) is not the lease owner (={})",
                uc.client_name
            ))),
            Some(_) => Ok(slot),
        }
    }

    /// A file under construction's block list changed (addBlock, updatePipeline...).
    pub fn plan_update_blocks(
        &self,
        client_name: &str,
        src: &str,
        file_id: u64,
        blocks: &[BlockInfo],
    ) -> Result<EditOp, NamespaceError> {
        let slot = self.check_lease(src, file_id, client_name)?;
        Ok(edit(Op::UpdateBlocks(pb::UpdateBlocksOp {
            path: self.path_of_slot(slot),
            inode_id: self.node(slot).id,
            blocks: to_pb_blocks(blocks),
        })))
    }

    /// complete: close a file with its final block list; the lease ends. (Whether the
    /// last block is minimally replicated is the block manager's question.)
    pub fn plan_close(
        &self,
        client_name: &str,
        src: &str,
        file_id: u64,
        blocks: &[BlockInfo],
        now: i64,
    ) -> Result<EditOp, NamespaceError> {
        let slot = self.check_lease(src, file_id, client_name)?;
        let n = self.node(slot);
        Ok(edit(Op::Close(pb::CloseOp {
            path: self.path_of_slot(slot),
            inode_id: n.id,
            mtime: now,
            atime: n.atime,
            blocks: to_pb_blocks(blocks),
        })))
    }

    /// delete. `Done(false)` when the path does not exist or is the root.
    pub fn plan_delete(
        &self,
        caller: &Caller,
        src: &str,
        recursive: bool,
        now: i64,
    ) -> Result<Planned, NamespaceError> {
        let res = self.resolve(caller, src, DirOp::Other)?;
        self.check_permission(
            caller,
            &res,
            None,
            Some(Access::WRITE),
            None,
            Some((Access::ALL, true)),
        )?;
        let Some(last) = res.last() else {
            return Ok(Planned::Done(false));
        };
        if !recursive && !self.node(last).children().is_empty() {
            return Err(NamespaceError::NotEmptyDirectory(res.path()));
        }
        self.check_no_snapshots_under(last, &res.path())?;
        if last == ROOT_SLOT {
            return Ok(Planned::Done(false));
        }
        Ok(Planned::Apply(edit(Op::Delete(pb::DeleteOp {
            path: res.path(),
            mtime: now,
            recursive,
        }))))
    }

    /// The old rename (ClientProtocol.rename): answers false rather than failing in most
    /// cases, and moves src *into* dst when dst is an existing directory.
    pub fn plan_rename(
        &self,
        caller: &Caller,
        src: &str,
        dst: &str,
        now: i64,
    ) -> Result<Planned, NamespaceError> {
        let dst_comps = path::components(dst)
            .map_err(|_| NamespaceError::Io(format!("Invalid name: {dst}")))?;
        let Ok(src_comps) = path::components(src) else {
            return Ok(Planned::Done(false));
        };
        let s = self.resolve(caller, src, DirOp::Other)?;
        let d0 = self.resolve(caller, dst, DirOp::Create)?;
        let actual: String = match (d0.last(), src_comps.last()) {
            (Some(ds), Some(name)) if self.node(ds).is_dir() => {
                let mut c = dst_comps.clone();
                c.push(name);
                path::join(&c)
            }
            _ => path::join(&dst_comps),
        };
        let d = self.resolve(caller, &actual, DirOp::Create)?;
        self.check_permission(caller, &s, None, Some(Access::WRITE), None, None)?;
        self.check_permission(caller, &d, Some(Access::WRITE), None, None, None)?;
        let Some(src_slot) = s.last() else {
            return Ok(Planned::Done(false));
        };
        if src_slot == ROOT_SLOT {
            return Ok(Planned::Done(false));
        }
        let (sp, dp) = (s.path(), d.path());
        if sp == dp {
            return Ok(Planned::Done(true));
        }
        if dp.starts_with(&sp) && dp.as_bytes().get(sp.len()) == Some(&b'/') {
            return Ok(Planned::Done(false));
        }
        if d.last().is_some() {
            return Ok(Planned::Done(false));
        }
        let Some(dst_parent) = d.parent() else {
            return Ok(Planned::Done(false));
        };
        self.verify_rename_limits(&s, &d, dst_parent)?;
        self.verify_rename_quota(&s, &d, dst_parent)?;
        Ok(Planned::Apply(edit(Op::Rename(pb::RenameOp {
            src: sp,
            dst: dp,
            mtime: now,
            overwrite: false,
        }))))
    }

    fn verify_rename_limits(
        &self,
        s: &Resolved,
        d: &Resolved,
        dst_parent: u32,
    ) -> Result<(), NamespaceError> {
        let n = d.comps.len();
        let parent_path = d.prefix(n - 1);
        self.verify_component(d.comps[n - 1], &parent_path)?;
        if s.parent() != Some(dst_parent) {
            self.verify_dir_items(dst_parent, &parent_path)?;
        }
        Ok(())
    }

    /// rename2 (ClientProtocol.rename2): POSIX-like, errors instead of false; with
    /// `overwrite` an existing file or empty directory at dst is replaced.
    pub fn plan_rename2(
        &self,
        caller: &Caller,
        src: &str,
        dst: &str,
        overwrite: bool,
        now: i64,
    ) -> Result<EditOp, NamespaceError> {
        if path::components(dst).is_err() {
            return Err(NamespaceError::InvalidPath(format!("Invalid name: {dst}")));
        }
        let s = self.resolve(caller, src, DirOp::Other)?;
        let d = self.resolve(caller, dst, DirOp::Create)?;
        self.check_permission(caller, &s, None, Some(Access::WRITE), None, None)?;
        self.check_permission(caller, &d, Some(Access::WRITE), None, None, None)?;
        let (sp, dp) = (s.path(), d.path());
        let Some(src_slot) = s.last() else {
            return Err(NamespaceError::FileNotFound(format!(
                "rename source {sp} is not found."
            )));
        };
        if src_slot == ROOT_SLOT {
            return Err(NamespaceError::Io(
                "rename source cannot be the root".into(),
            ));
        }
        if sp == dp {
            return Err(NamespaceError::AlreadyExists(format!(
                "The source {sp} and destination {dp} are the same"
            )));
        }
        if dp.starts_with(&sp) && dp.as_bytes().get(sp.len()) == Some(&b'/') {
            return Err(NamespaceError::Io(format!(
                "Rename destination {dp} is a directory or file under source {sp}"
            )));
        }
        if d.comps.is_empty() {
            return Err(NamespaceError::Io(
                "rename destination cannot be the root".into(),
            ));
        }
        if let Some(dst_slot) = d.last() {
            let (sn, dn) = (self.node(src_slot), self.node(dst_slot));
            if sn.is_dir() != dn.is_dir() {
                return Err(NamespaceError::Io(format!(
                    "Source {sp} and destination {dp} must both be directories"
                )));
            }
            if !overwrite {
                return Err(NamespaceError::AlreadyExists(format!(
                    "rename destination {dp} already exists"
                )));
            }
            if !dn.children().is_empty() {
                return Err(NamespaceError::Io(format!(
                    "rename destination directory is not empty: {dp}"
                )));
            }
            // Overwriting deletes the destination: not one with snapshots.
            self.check_no_snapshots_under(dst_slot, &dp)?;
        }
        let Some(dst_parent) = d.parent() else {
            return Err(NamespaceError::FileNotFound(format!(
                "rename destination parent {dp} not found."
            )));
        };
        self.verify_rename_limits(&s, &d, dst_parent)?;
        self.verify_rename_quota(&s, &d, dst_parent)?;
        Ok(edit(Op::Rename(pb::RenameOp {
            src: sp,
            dst: dp,
            mtime: now,
            overwrite: d.last().is_some(),
        })))
    }

    /// concat (Hadoop's FSDirConcatOp): the srcs' blocks, in the order given, are
    /// appended to `target`'s and the srcs are removed. Write access on the target,
    /// read on each src and write on its directory (it is deleted); every src is a
    /// closed file with blocks in the target's directory, no larger preferred block
    /// size than the target's, named once and not the target itself.
    pub fn plan_concat(
        &self,
        caller: &Caller,
        target: &str,
        srcs: &[String],
        now: i64,
    ) -> Result<EditOp, NamespaceError> {
        use NamespaceError::HadoopIllegalArgument as Illegal;
        if target.is_empty() {
            return Err(NamespaceError::IllegalArgument(
                "Target file name is empty".into(),
            ));
        }
        if srcs.is_empty() {
            return Err(NamespaceError::IllegalArgument("No sources given".into()));
        }
        let t = self.resolve(caller, target, DirOp::Other)?;
        self.check_permission(caller, &t, None, None, Some(Access::WRITE), None)?;
        let t_slot = self.existing_file(&t, target)?;
        let t_node = self.node(t_slot);
        if self.under_construction.contains_key(&t_node.id) {
            return Err(Illegal(format!(
                "concat: target file {target} is under construction"
            )));
        }
        let mut space_delta = quota::QuotaCounts::default();
        let t_policy = self.effective_storage_policy(t_slot);
        // A set: a request may name many sources (bounded by the IPC frame).
        let mut seen = std::collections::HashSet::with_capacity(srcs.len());
        let mut src_paths = Vec::with_capacity(srcs.len());
        for src in srcs {
            let s = self.resolve(caller, src, DirOp::Other)?;
            self.check_permission(
                caller,
                &s,
                None,
                Some(Access::WRITE),
                Some(Access::READ),
                None,
            )?;
            let slot = self.existing_file(&s, src)?;
            let n = self.node(slot);
            if n.parent != t_node.parent {
                return Err(Illegal(format!(
                    "Source file {src} is not in the same directory with the target {}",
                    t.path()
                )));
            }
            if slot == t_slot {
                return Err(Illegal(format!(
                    "concat: the src file {src} is the same with the target file {}",
                    t.path()
                )));
            }
            if self.under_construction.contains_key(&n.id) || n.blocks().is_empty() {
                return Err(Illegal(format!(
                    "concat: source file {src} is invalid or empty or underConstruction"
                )));
            }
            if n.block_size > t_node.block_size {
                return Err(Illegal(format!(
                    "concat: source file {src} has preferred block size {} which is greater than the target file's preferred block size {}",
                    n.block_size, t_node.block_size
                )));
            }
            seen.insert(slot);
            src_paths.push(s.path());
            // The moved blocks count at the target's replication (FSDirConcatOp's
            // quota deltas); the sources' names go.
            let bytes = quota::file_bytes(n.blocks(), n.block_size, false);
            let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
            let src_policy = self.effective_storage_policy(slot);
            space_delta = space_delta.plus(
                quota::space_of_bytes(bytes, t_node.replication, t_policy)
                    .minus(quota::space_of_bytes(bytes, n.replication, src_policy)),
            );
        }
        if seen.len() < srcs.len() {
            return Err(Illegal(
                "concat: at least two of the source files are the same".into(),
            ));
        }
        self.verify_space(t_slot, space_delta, quota::QuotaCounts::default())?;
        Ok(edit(Op::Concat(pb::ConcatOp {
            target: t.path(),
            srcs: src_paths,
            mtime: now,
        })))
    }

    /// The file `res` names: FileNotFoundException as Hadoop's INodeFile.valueOf words
    /// it when it is missing or a directory.
    fn existing_file(&self, res: &Resolved, src: &str) -> Result<u32, NamespaceError> {
        match res.last() {
            None => Err(NamespaceError::FileNotFound(format!(
                "File does not exist: {src}"
            ))),
            Some(s) if self.node(s).is_dir() => Err(NamespaceError::FileNotFound(format!(
                "Path is not a file: {src}"
            ))),
            Some(s) => Ok(s),
        }
    }

    /// setPermission: owner or superuser only.
    pub fn plan_set_permission(
        &self,
        caller: &Caller,
        src: &str,
        perm: u16,
    ) -> Result<EditOp, NamespaceError> {
        let res = self.resolve(caller, src, DirOp::Other)?;
        if res.last().is_none() {
            return Err(NamespaceError::FileNotFound(format!(
                "File does not exist: {src}"
            )));
        }
        self.check_owner(caller, &res)?;
        Ok(edit(Op::SetPermission(pb::SetPermissionOp {
            path: res.path(),
            perm: u32::from(perm & 0o1777),
        })))
    }

    /// setOwner: the owner may change the group to one of their own groups; changing the
    /// owner needs the superuser. None (or "") leaves a field unchanged.
    pub fn plan_set_owner(
        &self,
        caller: &Caller,
        src: &str,
        owner: Option<&str>,
        group: Option<&str>,
    ) -> Result<EditOp, NamespaceError> {
        let owner = owner.filter(|s| !s.is_empty());
        let group = group.filter(|s| !s.is_empty());
        let res = self.resolve(caller, src, DirOp::Other)?;
        if res.last().is_none() {
            return Err(NamespaceError::FileNotFound(format!(
                "File does not exist: {src}"
            )));
        }
        self.check_owner(caller, &res)?;
        if self.checking(caller) {
            if let Some(o) = owner {
                if o != caller.user {
                    return Err(NamespaceError::AccessControl(format!(
                        "User {} is not a super user (non-super user cannot change owner).",
                        caller.user
                    )));
                }
            }
            if let Some(g) = group {
                if !caller.is_member_of(g) {
                    return Err(NamespaceError::AccessControl(format!(
                        "User {} does not belong to {}",
                        caller.user, g
                    )));
                }
            }
        }
        Ok(edit(Op::SetOwner(pb::SetOwnerOp {
            path: res.path(),
            owner: owner.map(str::to_string),
            group: group.map(str::to_string),
        })))
    }

    /// setTimes: needs WRITE on the inode; -1 leaves a time unchanged.
    pub fn plan_set_times(
        &self,
        caller: &Caller,
        src: &str,
        mtime: i64,
        atime: i64,
    ) -> Result<EditOp, NamespaceError> {
        let res = self.resolve(caller, src, DirOp::Other)?;
        self.check_permission(caller, &res, None, None, Some(Access::WRITE), None)?;
        if res.last().is_none() {
            return Err(NamespaceError::FileNotFound(format!(
                "File/Directory {src} does not exist."
            )));
        }
        Ok(edit(Op::SetTimes(pb::SetTimesOp {
            path: res.path(),
            mtime,
            atime,
        })))
    }

    /// setReplication: `Done(false)` for a directory or a missing path.
    pub fn plan_set_replication(
        &self,
        caller: &Caller,
        src: &str,
        replication: u16,
    ) -> Result<Planned, NamespaceError> {
        self.verify_replication(src, replication, None)?;
        let res = self.resolve(caller, src, DirOp::Other)?;
        self.check_permission(caller, &res, None, None, Some(Access::WRITE), None)?;
        if let Some(s) = res.last().filter(|&s| !self.node(s).is_dir()) {
            // More replicas take more space (Hadoop's unprotectedSetReplication).
            let n = self.node(s);
            let uc = self.under_construction.contains_key(&n.id);
            let bytes = quota::file_bytes(n.blocks(), n.block_size, uc);
            let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
            let policy = self.effective_storage_policy(s);
            let delta = quota::space_of_bytes(bytes, replication, policy)
                .minus(quota::space_of_bytes(bytes, n.replication, policy));
            self.verify_space(s, delta, quota::QuotaCounts::default())?;
        }
        match res.last() {
            Some(s) if !self.node(s).is_dir() => Ok(Planned::Apply(edit(Op::SetReplication(
                pb::SetReplicationOp {
                    path: res.path(),
                    replication: u32::from(replication),
                },
            )))),
            _ => Ok(Planned::Done(false)),
        }
    }
}
