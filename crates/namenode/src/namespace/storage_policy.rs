//! Storage policies on inodes (Hadoop's FSDirAttrOp.setStoragePolicy and
//! INode.getStoragePolicyID). An inode's own policy id lives out of line, in
//! `Namespace::storage_policies` keyed by inode id, as most inodes have none; an inode
//! without one takes its nearest ancestor's, and with none on the whole path the
//! suite's default (HOT) applies. Policies themselves are the fixed suite of
//! `crate::blockmanagement::storage_policy`.

use hafs_proto::hafs::{self as pb, edit_op::Op};

use super::apply::ApplyOutcome;
use super::error::NamespaceError;
use super::inode::NO_SLOT;
use super::permission::{Access, Caller};
use super::{DirOp, EditOp, Namespace};
use crate::blockmanagement::storage_policy::{self as suite, UNSPECIFIED};

impl Namespace {
    /// The inode's own policy id (UNSPECIFIED when it has none).
    pub(super) fn local_storage_policy(&self, inode_id: u64) -> u8 {
        // Most namespaces set no policy: subtree walks ask for every inode.
        if self.storage_policies.is_empty() {
            return UNSPECIFIED;
        }
        self.storage_policies
            .get(&inode_id)
            .copied()
            .unwrap_or(UNSPECIFIED)
    }

    /// The policy that applies to the inode at `slot` (Hadoop's getStoragePolicyID):
    /// its own, else its nearest ancestor's, else UNSPECIFIED.
    pub(super) fn effective_storage_policy(&self, slot: u32) -> u8 {
        if self.storage_policies.is_empty() {
            return UNSPECIFIED;
        }
        let mut s = slot;
        while s != NO_SLOT {
            let n = self.node(s);
            let id = self.local_storage_policy(n.id);
            if id != UNSPECIFIED {
                return id;
            }
            s = n.parent;
        }
        UNSPECIFIED
    }

    /// The effective policy of the file or directory at `src` (no permission check:
    /// the block manager's view for placement); UNSPECIFIED when it does not exist.
    pub fn storage_policy_of_path(&self, src: &str) -> u8 {
        match self.lookup_existing(src) {
            Ok(slot) => self.effective_storage_policy(slot),
            Err(_) => UNSPECIFIED,
        }
    }

    /// Every file whose effective policy is not UNSPECIFIED, with that policy: the
    /// files below each inode that has a policy of its own. What the block manager
    /// needs to re-replicate by policy.
    pub fn file_storage_policies(&self) -> std::collections::HashMap<u64, u8> {
        let mut out = std::collections::HashMap::new();
        for &id in self.storage_policies.keys() {
            let Some(top) = self.index.get(id, &self.slab) else {
                continue;
            };
            let mut stack = vec![top];
            while let Some(s) = stack.pop() {
                let n = self.node(s);
                if n.is_dir() {
                    stack.extend_from_slice(n.children());
                } else {
                    out.insert(n.id, self.effective_storage_policy(s));
                }
            }
        }
        out
    }

    /// setStoragePolicy (`policy` = a name of the suite) or unsetStoragePolicy
    /// (`None`): checks dfs.storage.policy.enabled, the name, the path and WRITE access
    /// on it, and LAZY_PERSIST's rule that a file takes it only at creation.
    pub fn plan_set_storage_policy(
        &self,
        caller: &Caller,
        src: &str,
        policy: Option<&str>,
    ) -> Result<EditOp, NamespaceError> {
        let id = match policy {
            Some(name) => {
                suite::by_name(name)
                    .ok_or_else(|| {
                        NamespaceError::HadoopIllegalArgument(format!(
                            "Cannot find a block policy with the name {name}"
                        ))
                    })?
                    .id
            }
            None => UNSPECIFIED,
        };
        if !self.config.storage_policy_enabled {
            let operation = if policy.is_some() { "set" } else { "unset" };
            return Err(NamespaceError::Io(format!(
                "Failed to {operation} storage policy since dfs.storage.policy.enabled is set \
                 to false."
            )));
        }
        let real = self.real_path(src)?;
        let res = self.resolve(caller, real.as_ref(), DirOp::Other)?;
        let Some(slot) = res.last() else {
            return Err(NamespaceError::FileNotFound(format!(
                "File/Directory does not exist: {}",
                res.path()
            )));
        };
        self.check_permission(caller, &res, None, None, Some(Access::WRITE), None)?;
        let n = self.node(slot);
        if !n.is_dir() {
            if let Some(p) = suite::known_id(id).filter(|p| p.copy_on_create_file) {
                return Err(NamespaceError::HadoopIllegalArgument(format!(
                    "Policy {p} cannot be set after file creation."
                )));
            }
            if let Some(p) =
                suite::known_id(self.local_storage_policy(n.id)).filter(|p| p.copy_on_create_file)
            {
                return Err(NamespaceError::HadoopIllegalArgument(format!(
                    "Existing policy {} cannot be changed after file creation.",
                    p.name
                )));
            }
        }
        Ok(EditOp {
            retry_cache: None,
            op: Some(Op::SetStoragePolicy(pb::SetStoragePolicyOp {
                path: res.path(),
                policy_id: u32::from(id),
            })),
        })
    }

    /// getStoragePolicy: the effective policy of `src` (the default, HOT, when none is
    /// set on its path). Needs READ on it.
    pub fn get_storage_policy(
        &self,
        caller: &Caller,
        src: &str,
    ) -> Result<&'static suite::BlockStoragePolicy, NamespaceError> {
        let real = self.real_path(src)?;
        let res = self.resolve(caller, real.as_ref(), DirOp::Other)?;
        let Some(slot) = res.last() else {
            return Err(NamespaceError::FileNotFound(format!(
                "File/Directory does not exist: {}",
                res.path()
            )));
        };
        self.check_permission(caller, &res, None, None, Some(Access::READ), None)?;
        Ok(suite::by_id(self.effective_storage_policy(slot)))
    }

    // ---- apply (live and replay) ----

    pub(super) fn apply_set_storage_policy(
        &mut self,
        op: &pb::SetStoragePolicyOp,
    ) -> Result<ApplyOutcome, NamespaceError> {
        let id = u8::try_from(op.policy_id)
            .ok()
            .filter(|&id| id == UNSPECIFIED || suite::known_id(id).is_some())
            .ok_or_else(|| {
                NamespaceError::Corrupt(format!("storage policy id {} unknown", op.policy_id))
            })?;
        let slot = self.lookup_existing(&op.path)?;
        let inode_id = self.node(slot).id;
        let before = self.subtree_usage(slot);
        if id == UNSPECIFIED {
            self.storage_policies.remove(&inode_id);
        } else {
            self.storage_policies.insert(inode_id, id);
        }
        self.storage_policy_epoch += 1;
        // The subtree's space by storage type follows the new policy at once (Hadoop
        // leaves its counters stale until a restart recounts them; a fresh count and
        // the live one agree here). A subtree without bytes has no type space to move.
        if before.storage_space != 0 {
            let after = self.recount_subtree(slot);
            let parent = self.node(slot).parent;
            self.add_usage(parent, after.minus(before));
        }
        Ok(ApplyOutcome {
            inode_id: Some(inode_id),
            ..Default::default()
        })
    }

    /// Counts changes that may move a file's effective policy (a policy set or unset;
    /// while any policy is set, a create, a rename or a delete; an image load), so the
    /// block manager's copy is rebuilt only then.
    pub fn storage_policy_epoch(&self) -> u64 {
        self.storage_policy_epoch
    }

    /// An inode's own policy as the image records it (0 = none).
    pub(super) fn image_storage_policy(&self, inode_id: u64) -> u32 {
        u32::from(self.local_storage_policy(inode_id))
    }

    /// An image record's policy id, checked against the suite.
    pub(super) fn image_policy_id(inode_id: u64, v: u32) -> Result<Option<u8>, String> {
        if v == 0 {
            return Ok(None);
        }
        u8::try_from(v)
            .ok()
            .filter(|&id| suite::known_id(id).is_some())
            .map(Some)
            .ok_or_else(|| format!("inode {inode_id}: storage policy id {v} unknown"))
    }
}

#[cfg(test)]
mod tests;
