//! Quotas (Hadoop's DirectoryWithQuotaFeature, QuotaCounts and FSDirectory.verifyQuota):
//! a directory's namespace quota (the names in its subtree, itself included), its
//! storage space quota (bytes times replication) and its space quotas by storage type.
//!
//! Directories with a quota keep what their subtree uses in the side table next to the
//! quota, so a check costs a walk up the path, not down the subtree. `apply` keeps the
//! usage current for every op (live and replayed alike, so a Standby and a restarted
//! NameNode count the same); an image load recomputes it. Plans check it before the op
//! is logged; apply never refuses for a quota (an edit already logged happened).
//!
//! As in HDFS, the root always has a namespace quota of Long.MAX_VALUE, and a file under
//! construction counts its last block at the preferred block size (the space the writer
//! may still fill).
//!
//! Space by storage type follows the file's effective storage policy, as Hadoop's
//! INodeFile.storagespaceConsumed does: each block's bytes count once for every type
//! the policy chooses for the file's replication (ONE_SSD with 3 replicas: 1 x SSD and
//! 2 x DISK), never by where the replicas actually landed. A file with no policy on its
//! whole path counts no type space at all (Hadoop's "storage type and its quota are
//! only available when storage policy is set"), so a DISK quota binds only files under
//! an explicit policy. Where Hadoop leaves the counters stale (a policy set or unset on
//! a directory with files, fixed only by the next restart's recount), hafs recounts the
//! subtree at once, so live counters always equal a fresh count.

use hafs_proto::hafs::{self as pb, edit_op::Op};

use super::error::NamespaceError;
use super::inode::{BlockInfo, NO_SLOT, ROOT_SLOT};
use super::permission::{Access, Caller};
use super::{DirOp, EditOp, Namespace, Resolved};
use crate::blockmanagement::storage_policy::{self as suite, UNSPECIFIED};

/// StorageTypeProto numbers run 1 (DISK) to 6 (NVDIMM); index = number - 1.
pub const STORAGE_TYPE_COUNT: usize = 6;

/// Hadoop's StorageType names, by StorageTypeProto number - 1.
const STORAGE_TYPE_NAMES: [&str; STORAGE_TYPE_COUNT] =
    ["DISK", "SSD", "ARCHIVE", "RAM_DISK", "PROVIDED", "NVDIMM"];

/// The name of a StorageTypeProto number (None when out of range).
pub fn storage_type_name(t: i32) -> Option<&'static str> {
    usize::try_from(t - 1)
        .ok()
        .and_then(|i| STORAGE_TYPE_NAMES.get(i).copied())
}

/// Hadoop's StorageType.supportTypeQuota: every type but the transient RAM_DISK.
pub fn supports_type_quota(t: i32) -> bool {
    storage_type_name(t).is_some() && t != 4
}

/// Hadoop's Long.MAX_VALUE "leave unchanged" (HdfsConstants.QUOTA_DONT_SET).
pub const QUOTA_DONT_SET: i64 = i64::MAX;
/// HdfsConstants.QUOTA_RESET: clears a quota.
pub const QUOTA_RESET: i64 = -1;

/// Names, storage space and space by storage type used by a subtree (Hadoop's
/// QuotaCounts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuotaCounts {
    pub namespace: i64,
    pub storage_space: i64,
    /// Space charged to each storage type, by StorageTypeProto number - 1.
    pub type_spaces: [i64; STORAGE_TYPE_COUNT],
}

impl QuotaCounts {
    /// `n` names and no space.
    pub fn names(n: i64) -> QuotaCounts {
        QuotaCounts {
            namespace: n,
            ..QuotaCounts::default()
        }
    }

    fn is_zero(self) -> bool {
        self == QuotaCounts::default()
    }

    /// Does any count grow?
    fn grows(self) -> bool {
        self.namespace > 0 || self.storage_space > 0 || self.type_spaces.iter().any(|&t| t > 0)
    }

    pub(super) fn plus(self, o: QuotaCounts) -> QuotaCounts {
        let mut type_spaces = self.type_spaces;
        for (a, b) in type_spaces.iter_mut().zip(o.type_spaces) {
            *a = a.saturating_add(b);
        }
        QuotaCounts {
            namespace: self.namespace.saturating_add(o.namespace),
            storage_space: self.storage_space.saturating_add(o.storage_space),
            type_spaces,
        }
    }

    pub(super) fn minus(self, o: QuotaCounts) -> QuotaCounts {
        let mut type_spaces = self.type_spaces;
        for (a, b) in type_spaces.iter_mut().zip(o.type_spaces) {
            *a = a.saturating_sub(b);
        }
        QuotaCounts {
            namespace: self.namespace.saturating_sub(o.namespace),
            storage_space: self.storage_space.saturating_sub(o.storage_space),
            type_spaces,
        }
    }

    /// Space used on storage type `t`.
    pub fn type_space(self, t: i32) -> i64 {
        usize::try_from(t - 1)
            .ok()
            .and_then(|i| self.type_spaces.get(i).copied())
            .unwrap_or(0)
    }
}

/// What `bytes` of a file with `replication` replicas under the effective policy
/// `policy` are charged (Hadoop's storagespaceConsumedContiguous for one block): the
/// storage space bytes x replication, and the bytes once per storage type the policy
/// chooses for that replication, types without quotas (RAM_DISK) left out. With no
/// policy on the path (UNSPECIFIED) no type is charged.
pub fn space_of_bytes(bytes: i64, replication: u16, policy: u8) -> QuotaCounts {
    let mut c = QuotaCounts {
        storage_space: bytes.saturating_mul(i64::from(replication)),
        ..QuotaCounts::default()
    };
    if policy != UNSPECIFIED && bytes != 0 {
        for t in suite::by_id(policy).choose_storage_types(usize::from(replication)) {
            if supports_type_quota(t) {
                let i = (t - 1) as usize;
                c.type_spaces[i] = c.type_spaces[i].saturating_add(bytes);
            }
        }
    }
    c
}

/// A directory's quotas (-1 = none) and what its subtree uses, in a side table keyed by
/// inode id (an inode without a quota does not grow).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub ns_quota: i64,
    pub ds_quota: i64,
    /// Space quota per storage type, by StorageTypeProto number - 1; -1 = none.
    pub type_quotas: [i64; STORAGE_TYPE_COUNT],
    /// The subtree's usage, the directory itself included. Not persisted: recomputed
    /// when an image loads.
    pub usage: QuotaCounts,
}

impl Quota {
    /// No quota at all.
    pub const NONE: Quota = Quota {
        ns_quota: -1,
        ds_quota: -1,
        type_quotas: [-1; STORAGE_TYPE_COUNT],
        usage: QuotaCounts {
            namespace: 0,
            storage_space: 0,
            type_spaces: [0; STORAGE_TYPE_COUNT],
        },
    };

    /// The root's quota in a fresh namespace (HDFS's DEFAULT_NAMESPACE_QUOTA).
    pub const ROOT_DEFAULT: Quota = Quota {
        ns_quota: i64::MAX,
        ..Quota::NONE
    };

    fn is_none(&self) -> bool {
        self.ns_quota == -1 && self.ds_quota == -1 && self.type_quotas.iter().all(|&q| q == -1)
    }

    pub fn type_quota(&self, t: i32) -> i64 {
        usize::try_from(t - 1)
            .ok()
            .and_then(|i| self.type_quotas.get(i).copied())
            .unwrap_or(-1)
    }

    /// The quota as the image stores it.
    pub(super) fn to_pb(self) -> pb::Quota {
        pb::Quota {
            ns_quota: self.ns_quota,
            ds_quota: self.ds_quota,
            type_quotas: (1..=STORAGE_TYPE_COUNT as i32)
                .filter(|&t| self.type_quota(t) != -1)
                .map(|t| pb::StorageTypeQuota {
                    storage_type: t,
                    quota: self.type_quota(t),
                })
                .collect(),
        }
    }

    /// An image's quota record, checked (usage is recomputed after the load).
    pub(super) fn from_pb(q: &pb::Quota) -> Result<Quota, String> {
        let ok = |v: i64| v >= -1;
        if !ok(q.ns_quota) || !ok(q.ds_quota) {
            return Err(format!(
                "quota values {} and {} out of range",
                q.ns_quota, q.ds_quota
            ));
        }
        let mut quota = Quota {
            ns_quota: q.ns_quota,
            ds_quota: q.ds_quota,
            ..Quota::NONE
        };
        for tq in &q.type_quotas {
            if !supports_type_quota(tq.storage_type) || !ok(tq.quota) {
                return Err(format!(
                    "storage type quota {} for type {} out of range",
                    tq.quota, tq.storage_type
                ));
            }
            quota.type_quotas[(tq.storage_type - 1) as usize] = tq.quota;
        }
        Ok(quota)
    }
}

/// Hadoop's TraditionalBinaryPrefix.long2String(n, "B", 2): "1 KB", "384 MB", "1.50 GB".
pub fn long_to_string(n: i64) -> String {
    const SYMBOLS: [char; 6] = ['K', 'M', 'G', 'T', 'P', 'E'];
    if n == i64::MIN {
        return "-8 EB".into();
    }
    let (sign, n) = if n < 0 { ("-", -n) } else { ("", n) };
    if n < 1024 {
        return format!("{sign}{n} B");
    }
    // The largest prefix not above n: 2^(10 * (i + 1)).
    let mut i = 0;
    while i + 1 < SYMBOLS.len() && n >> (10 * (i + 2)) > 0 {
        i += 1;
    }
    let shift = 10 * (i + 1);
    if n & ((1i64 << shift) - 1) == 0 {
        return format!("{sign}{} {}B", n >> shift, SYMBOLS[i]);
    }
    let mut s = format!("{:.2}", n as f64 / (1i64 << shift) as f64);
    if s.starts_with("1024") && i + 1 < SYMBOLS.len() {
        i += 1;
        s = format!("{:.2}", n as f64 / (1i64 << (shift + 10)) as f64);
    }
    format!("{sign}{s} {}B", SYMBOLS[i])
}

/// Space of a file's blocks (Hadoop's storagespaceConsumed) under the effective
/// policy `policy`: bytes times replication, the last block of a file under
/// construction at the preferred size, and the bytes by storage type.
pub(super) fn file_space(
    blocks: &[BlockInfo],
    block_size: u64,
    replication: u16,
    under_construction: bool,
    policy: u8,
) -> QuotaCounts {
    let bytes = file_bytes(blocks, block_size, under_construction);
    space_of_bytes(
        i64::try_from(bytes).unwrap_or(i64::MAX),
        replication,
        policy,
    )
}

/// A file's size for quota purposes (Hadoop's computeFileSize(true, true)).
pub(super) fn file_bytes(blocks: &[BlockInfo], block_size: u64, under_construction: bool) -> u64 {
    let mut bytes = blocks
        .iter()
        .fold(0u64, |a, b| a.saturating_add(b.num_bytes));
    if under_construction {
        if let Some(l) = blocks.last() {
            bytes = bytes - l.num_bytes + l.num_bytes.max(block_size);
        }
    }
    bytes
}

/// What getQuotaUsage answers (Hadoop's QuotaUsage). Quotas are -1 when unset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaUsage {
    pub file_and_directory_count: u64,
    pub quota: i64,
    pub space_consumed: u64,
    pub space_quota: i64,
    /// (StorageTypeProto number, quota, consumed) for every type that supports quotas.
    pub type_quotas: Vec<(i32, i64, u64)>,
}

/// (type, quota, consumed) for every type that supports quotas.
pub(super) fn type_infos(quota: Option<&Quota>, usage: QuotaCounts) -> Vec<(i32, i64, u64)> {
    (1..=STORAGE_TYPE_COUNT as i32)
        .filter(|&t| supports_type_quota(t))
        .map(|t| {
            let q = quota.map_or(-1, |q| q.type_quota(t));
            (t, q, usage.type_space(t).max(0) as u64)
        })
        .collect()
}

impl Namespace {
    /// The space of the file in `slot` under its effective policy.
    pub(super) fn file_space_of(&self, slot: u32) -> QuotaCounts {
        self.file_space_as(slot, self.effective_storage_policy(slot))
    }

    /// The space of the file in `slot` as if its effective policy were `policy`.
    pub(super) fn file_space_as(&self, slot: u32, policy: u8) -> QuotaCounts {
        let n = self.node(slot);
        let uc = self.under_construction.contains_key(&n.id);
        file_space(n.blocks(), n.block_size, n.replication, uc, policy)
    }

    /// The policy the inode at `slot` inherits from its parent (UNSPECIFIED at the
    /// root or for a detached inode).
    pub(super) fn inherited_storage_policy(&self, slot: u32) -> u8 {
        match self.node(slot).parent {
            NO_SLOT => UNSPECIFIED,
            p => self.effective_storage_policy(p),
        }
    }

    /// Adds `delta` to the usage of every directory with a quota from `slot` (itself
    /// included) up to the root.
    pub(super) fn add_usage(&mut self, mut slot: u32, delta: QuotaCounts) {
        if delta.is_zero() {
            return;
        }
        while slot != NO_SLOT {
            let n = &self.slab[slot as usize];
            if n.is_dir() {
                if let Some(q) = self.quotas.get_mut(&n.id) {
                    q.usage = q.usage.plus(delta);
                }
            }
            slot = n.parent;
        }
    }

    /// A subtree's usage (Hadoop's computeQuotaUsage) when the policy its top inode
    /// inherits is `inherited`: each inode's effective policy is its own, else its
    /// parent's, carried down the walk. Directories below `slot` with a quota answer
    /// from their counters; with `walk_all` every inode is visited (to recompute the
    /// counters themselves, or to count under another inherited policy).
    pub(super) fn count_subtree(&self, slot: u32, walk_all: bool, inherited: u8) -> QuotaCounts {
        let mut total = QuotaCounts::default();
        let mut stack = vec![(slot, inherited)];
        while let Some((s, inherited)) = stack.pop() {
            let n = self.node(s);
            let policy = match self.local_storage_policy(n.id) {
                UNSPECIFIED => inherited,
                own => own,
            };
            if n.is_dir() {
                if !walk_all && s != slot {
                    if let Some(q) = self.quotas.get(&n.id) {
                        total = total.plus(q.usage);
                        continue;
                    }
                }
                total.namespace += 1;
                stack.extend(n.children().iter().map(|&c| (c, policy)));
            } else {
                total.namespace += 1;
                total = total.plus(self.file_space_as(s, policy));
            }
        }
        total
    }

    /// The usage of the subtree at `slot`, from its counters when it has a quota.
    pub(super) fn subtree_usage(&self, slot: u32) -> QuotaCounts {
        match self.quotas.get(&self.node(slot).id) {
            Some(q) => q.usage,
            None => self.count_subtree(slot, false, self.inherited_storage_policy(slot)),
        }
    }

    /// Recounts the quota directories inside the subtree at `slot` (itself included),
    /// deepest first, after the effective policy of the subtree changed (a policy set
    /// or unset, a rename under another policy); returns the subtree's new usage. The
    /// directories above are the caller's to adjust.
    pub(super) fn recount_subtree(&mut self, slot: u32) -> QuotaCounts {
        let mut dirs = Vec::new();
        let mut stack = vec![slot];
        while let Some(s) = stack.pop() {
            let n = self.node(s);
            if n.is_dir() {
                if self.quotas.contains_key(&n.id) {
                    dirs.push(s);
                }
                stack.extend_from_slice(n.children());
            }
        }
        // Pre-order reversed: every directory after the ones below it.
        for &d in dirs.iter().rev() {
            let usage = self.count_subtree(d, false, self.inherited_storage_policy(d));
            let id = self.node(d).id;
            if let Some(q) = self.quotas.get_mut(&id) {
                q.usage = usage;
            }
        }
        self.subtree_usage(slot)
    }

    /// Recomputes every quota's usage (after an image load). The root gets its default
    /// namespace quota if the image has none for it.
    pub(super) fn recompute_quota_usage(&mut self) {
        let root = self.node(ROOT_SLOT).id;
        self.quotas.entry(root).or_insert(Quota::ROOT_DEFAULT);
        let ids: Vec<u64> = self.quotas.keys().copied().collect();
        for id in ids {
            let Some(slot) = self.index.get(id, &self.slab) else {
                self.quotas.remove(&id);
                continue;
            };
            let usage = self.count_subtree(slot, true, self.inherited_storage_policy(slot));
            if let Some(q) = self.quotas.get_mut(&id) {
                q.usage = usage;
            }
        }
    }

    /// The ids of the directories with a quota from `slot` up to the root.
    pub(super) fn quota_dirs_above(&self, mut slot: u32) -> Vec<u64> {
        let mut out = Vec::new();
        while slot != NO_SLOT {
            let n = self.node(slot);
            if self.quotas.contains_key(&n.id) {
                out.push(n.id);
            }
            slot = n.parent;
        }
        out
    }

    /// Hadoop's FSDirectory.verifyQuota: every directory with a quota from `slot` up to
    /// the root (stopping at `stop`, the common ancestor of a rename) must take `delta`
    /// more, after `released` is given back first (addBlock commits the previous block
    /// at its real length). The deepest is checked first.
    pub(super) fn verify_quota(
        &self,
        mut slot: u32,
        delta: QuotaCounts,
        released: QuotaCounts,
        stop: Option<u32>,
    ) -> Result<(), NamespaceError> {
        if !delta.grows() {
            return Ok(());
        }
        while slot != NO_SLOT && Some(slot) != stop {
            let n = self.node(slot);
            if let Some(q) = self.quotas.get(&n.id).filter(|_| n.is_dir()) {
                let used = q.usage.minus(released);
                check_quota(q, used, delta).map_err(|e| e(&self.path_of_slot(slot)))?;
            }
            slot = n.parent;
        }
        Ok(())
    }

    /// setQuota (superuser only): -1 clears a quota, Long.MAX_VALUE leaves it unchanged;
    /// with a storage type, only that type's space quota changes. A quota below the
    /// current usage is allowed (HDFS refuses only what would grow past it).
    pub fn plan_set_quota(
        &self,
        caller: &Caller,
        src: &str,
        ns_quota: i64,
        ds_quota: i64,
        storage_type: Option<i32>,
    ) -> Result<EditOp, NamespaceError> {
        if self.config.permissions_enabled && !caller.is_superuser {
            return Err(NamespaceError::AccessControl(format!(
                "Access denied for user {}. Superuser privilege is required",
                caller.user
            )));
        }
        if let Some(t) = storage_type {
            if !supports_type_quota(t) {
                let name = storage_type_name(t).unwrap_or("unknown");
                return Err(NamespaceError::UnsupportedAction(format!(
                    "Quota for storage type '{name}' is not supported"
                )));
            }
        }
        let bad = |q: i64| q < 0 && q != QUOTA_RESET;
        if bad(ns_quota) || bad(ds_quota) {
            return Err(NamespaceError::IllegalArgument(format!(
                "Illegal value for nsQuota or ssQuota : {ns_quota} and {ds_quota}"
            )));
        }
        if storage_type.is_some() && ns_quota != QUOTA_DONT_SET {
            return Err(NamespaceError::UnsupportedAction(format!(
                "Failed to set quota by storage type because either \
                 dfs.quota.by.storage.type.enabled is set to true or nsQuota value is illegal {ns_quota}"
            )));
        }
        let res = self.resolve(caller, src, DirOp::Other)?;
        let Some(slot) = res.last() else {
            return Err(NamespaceError::FileNotFound(format!(
                "Directory does not exist: {}",
                res.path()
            )));
        };
        if !self.node(slot).is_dir() {
            return Err(NamespaceError::FileNotFound(format!(
                "Cannot set quota on a file: {}",
                res.path()
            )));
        }
        if slot == ROOT_SLOT && ns_quota == QUOTA_RESET {
            return Err(NamespaceError::IllegalArgument(
                "Cannot clear namespace quota on root.".into(),
            ));
        }
        let op = match storage_type {
            Some(t) => Op::SetQuotaByStorageType(pb::SetQuotaByStorageTypeOp {
                path: res.path(),
                storage_type: t,
                quota: ds_quota,
            }),
            None => Op::SetQuota(pb::SetQuotaOp {
                path: res.path(),
                ns_quota,
                ds_quota,
            }),
        };
        Ok(EditOp {
            retry_cache: None,
            op: Some(op),
        })
    }

    /// Applies a new quota to the directory at `slot` (`change` edits a copy); a
    /// directory that had none counts its subtree once.
    pub(super) fn change_quota(&mut self, slot: u32, change: impl FnOnce(&mut Quota)) {
        let id = self.node(slot).id;
        let had = self.quotas.get(&id).copied();
        let mut q = had.unwrap_or(Quota::NONE);
        change(&mut q);
        if q.is_none() {
            self.quotas.remove(&id);
            return;
        }
        if had.is_none() {
            q.usage = self.count_subtree(slot, false, self.inherited_storage_policy(slot));
        }
        self.quotas.insert(id, q);
    }

    /// getQuotaUsage: a directory with a quota answers from its counters, anything else
    /// is counted (Hadoop's getQuotaUsageInt).
    pub fn quota_usage(&self, caller: &Caller, src: &str) -> Result<QuotaUsage, NamespaceError> {
        let res = self.resolve(caller, src, DirOp::Other)?;
        let Some(slot) = res.last() else {
            return Err(NamespaceError::FileNotFound(format!(
                "File does not exist: {}",
                res.path()
            )));
        };
        self.check_permission(
            caller,
            &res,
            None,
            None,
            None,
            Some((Access::READ_EXECUTE, false)),
        )?;
        let quota = self.quotas.get(&self.node(slot).id);
        let usage = self.subtree_usage(slot);
        Ok(QuotaUsage {
            file_and_directory_count: usage.namespace.max(0) as u64,
            quota: quota.map_or(-1, |q| q.ns_quota),
            space_consumed: usage.storage_space.max(0) as u64,
            space_quota: quota.map_or(-1, |q| q.ds_quota),
            type_quotas: type_infos(quota, usage),
        })
    }
}

/// The deepest existing inode of a resolved path (where new names would hang).
pub(super) fn deepest_existing(res: &Resolved) -> u32 {
    let first_missing = res
        .nodes
        .iter()
        .position(|n| n.is_none())
        .unwrap_or(res.nodes.len());
    res.nodes[first_missing.max(1) - 1].unwrap_or(ROOT_SLOT)
}

impl Namespace {
    /// What the subtree at `slot` will use once moved under `dst_parent`: the same as
    /// now unless the policy it inherits changes with the move (Hadoop counts a moved
    /// inode under the destination's policy unless it has one of its own).
    pub(super) fn usage_under(&self, slot: u32, dst_parent: u32) -> QuotaCounts {
        if !self.policy_moves(slot, dst_parent) {
            return self.subtree_usage(slot);
        }
        self.count_subtree(slot, true, self.effective_storage_policy(dst_parent))
    }

    /// Does the subtree at `slot` inherit another policy under `dst_parent`?
    pub(super) fn policy_moves(&self, slot: u32, dst_parent: u32) -> bool {
        self.local_storage_policy(self.node(slot).id) == UNSPECIFIED
            && self.effective_storage_policy(dst_parent) != self.inherited_storage_policy(slot)
    }

    /// Hadoop's FSDirRenameOp.verifyQuotaForRename: the destination's directories
    /// below the common ancestor take the source's usage under the destination's
    /// policy (less a replaced destination's).
    pub(super) fn verify_rename_quota(
        &self,
        s: &Resolved,
        d: &Resolved,
        dst_parent: u32,
    ) -> Result<(), NamespaceError> {
        let Some(src) = s.last() else {
            return Ok(());
        };
        let mut i = 0;
        while i < s.nodes.len()
            && i < d.nodes.len()
            && s.nodes[i].is_some()
            && s.nodes[i] == d.nodes[i]
        {
            i += 1;
        }
        let common = s.nodes[i.max(1) - 1];
        let mut delta = self.usage_under(src, dst_parent);
        if let Some(e) = d.last() {
            delta = delta.minus(self.subtree_usage(e));
        }
        self.verify_quota(dst_parent, delta, QuotaCounts::default(), common)
    }

    /// Quota check for names added under the deepest existing inode of `res`, less
    /// what a replaced inode gave back.
    pub(super) fn verify_new_names(
        &self,
        res: &Resolved,
        names: i64,
        replaced: Option<u32>,
    ) -> Result<(), NamespaceError> {
        let gone = replaced.map_or(QuotaCounts::default(), |e| self.subtree_usage(e));
        let delta = QuotaCounts::names(names).minus(gone);
        self.verify_quota(deepest_existing(res), delta, QuotaCounts::default(), None)
    }

    /// Quota check for a file's space growing by `grow` (after `released` is given
    /// back).
    pub(super) fn verify_space(
        &self,
        file: u32,
        grow: QuotaCounts,
        released: QuotaCounts,
    ) -> Result<(), NamespaceError> {
        self.verify_quota(file, grow, released, None)
    }
}

type QuotaErr = Box<dyn FnOnce(&str) -> NamespaceError>;

/// Hadoop's DirectoryWithQuotaFeature.verifyQuota for one directory: the error (given
/// the directory's path) when `delta` on top of `used` breaks a quota.
fn check_quota(q: &Quota, used: QuotaCounts, delta: QuotaCounts) -> Result<(), QuotaErr> {
    // Hadoop's Quota.isViolated: only growth past a set limit is refused.
    let violated =
        |limit: i64, used: i64, delta: i64| limit >= 0 && delta > 0 && used > limit - delta;
    if violated(q.ns_quota, used.namespace, delta.namespace) {
        let (quota, count) = (q.ns_quota, used.namespace + delta.namespace);
        return Err(Box::new(move |path| {
            NamespaceError::NsQuotaExceeded(format!(
                "The NameSpace quota (directories and files) of directory {path} is exceeded: \
                 quota={quota} file count={count}"
            ))
        }));
    }
    if violated(q.ds_quota, used.storage_space, delta.storage_space) {
        let (quota, count) = (q.ds_quota, used.storage_space + delta.storage_space);
        return Err(Box::new(move |path| {
            NamespaceError::DsQuotaExceeded(format!(
                "The DiskSpace quota of {path} is exceeded: quota = {quota} B = {} \
                 but diskspace consumed = {count} B = {}",
                long_to_string(quota),
                long_to_string(count)
            ))
        }));
    }
    for t in 1..=STORAGE_TYPE_COUNT as i32 {
        let limit = q.type_quota(t);
        if violated(limit, used.type_space(t), delta.type_space(t)) {
            let count = used.type_space(t) + delta.type_space(t);
            let name = storage_type_name(t).unwrap_or("DISK");
            return Err(Box::new(move |path| {
                NamespaceError::QuotaByStorageTypeExceeded(format!(
                    "Quota by storage type : {name} on path : {path} is exceeded. \
                     quota = {} but space consumed = {}",
                    long_to_string(limit),
                    long_to_string(count)
                ))
            }));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blockmanagement::storage_policy::by_name;

    /// (DISK, SSD, ARCHIVE, RAM_DISK, PROVIDED, NVDIMM) charged for `bytes` at
    /// `replication` under the policy `name`.
    fn types(name: &str, replication: u16, bytes: i64) -> [i64; STORAGE_TYPE_COUNT] {
        let id = by_name(name).unwrap().id;
        let c = space_of_bytes(bytes, replication, id);
        assert_eq!(c.storage_space, bytes * i64::from(replication));
        c.type_spaces
    }

    #[test]
    fn type_space_is_bytes_times_the_types_the_policy_chooses() {
        assert_eq!(types("HOT", 3, 10), [30, 0, 0, 0, 0, 0]);
        assert_eq!(types("ONE_SSD", 3, 10), [20, 10, 0, 0, 0, 0]);
        assert_eq!(types("ONE_SSD", 1, 10), [0, 10, 0, 0, 0, 0]);
        assert_eq!(types("ALL_SSD", 3, 10), [0, 30, 0, 0, 0, 0]);
        assert_eq!(types("COLD", 3, 10), [0, 0, 30, 0, 0, 0]);
        assert_eq!(types("WARM", 3, 10), [10, 0, 20, 0, 0, 0]);
        assert_eq!(types("ALL_NVDIMM", 2, 10), [0, 0, 0, 0, 0, 20]);
        assert_eq!(types("PROVIDED", 3, 10), [20, 0, 0, 0, 10, 0]);
        // RAM_DISK is transient: never chosen for quotas, DISK takes its place.
        assert_eq!(types("LAZY_PERSIST", 1, 10), [10, 0, 0, 0, 0, 0]);
        assert_eq!(types("LAZY_PERSIST", 3, 10), [30, 0, 0, 0, 0, 0]);
        assert_eq!(types("ALL_SSD", 3, 0), [0; STORAGE_TYPE_COUNT]);
        // No policy on the path: storage space, no type.
        let c = space_of_bytes(10, 3, UNSPECIFIED);
        assert_eq!(
            (c.storage_space, c.type_spaces),
            (30, [0; STORAGE_TYPE_COUNT])
        );
    }

    #[test]
    fn an_open_file_counts_its_last_block_at_the_preferred_size_on_each_type() {
        let b = |num_bytes| BlockInfo {
            block_id: 1,
            gen_stamp: 1,
            num_bytes,
        };
        let one_ssd = by_name("ONE_SSD").unwrap().id;
        let open = file_space(&[b(100), b(5)], 1024, 3, true, one_ssd);
        assert_eq!(open.storage_space, 3 * (100 + 1024));
        assert_eq!(open.type_space(2), 100 + 1024);
        assert_eq!(open.type_space(1), 2 * (100 + 1024));
        let closed = file_space(&[b(100), b(5)], 1024, 3, false, one_ssd);
        assert_eq!((closed.type_space(2), closed.type_space(1)), (105, 210));
    }

    #[test]
    fn long_to_string_is_hadoops() {
        assert_eq!(long_to_string(0), "0 B");
        assert_eq!(long_to_string(1023), "1023 B");
        assert_eq!(long_to_string(1024), "1 KB");
        assert_eq!(long_to_string(402_653_184), "384 MB");
        assert_eq!(long_to_string(1536), "1.50 KB");
        assert_eq!(long_to_string((1 << 20) - 1), "1.00 MB");
        assert_eq!(long_to_string(3 << 30), "3 GB");
    }
}
