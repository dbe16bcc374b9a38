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
//! may still fill). Type quotas do not yet follow storage policies (Hadoop charges each
//! type what the file's policy chooses): every replica is counted as DISK, so the DISK
//! type uses the whole storage space and the other types none (docs/compatibility.md).

use hafs_proto::hafs::{self as pb, edit_op::Op};

use super::error::NamespaceError;
use super::inode::{BlockInfo, NO_SLOT, ROOT_SLOT};
use super::permission::{Access, Caller};
use super::{DirOp, EditOp, Namespace, Resolved};

/// StorageTypeProto numbers run 1 (DISK) to 6 (NVDIMM); index = number - 1.
pub const STORAGE_TYPE_COUNT: usize = 6;
/// StorageTypeProto.DISK.
pub const DISK: i32 = 1;

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

/// Names and storage space used by a subtree (Hadoop's QuotaCounts without the
/// per-type part, which hafs derives: everything counts as DISK).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuotaCounts {
    pub namespace: i64,
    pub storage_space: i64,
}

impl QuotaCounts {
    fn is_zero(self) -> bool {
        self.namespace == 0 && self.storage_space == 0
    }

    fn plus(self, o: QuotaCounts) -> QuotaCounts {
        QuotaCounts {
            namespace: self.namespace.saturating_add(o.namespace),
            storage_space: self.storage_space.saturating_add(o.storage_space),
        }
    }

    fn minus(self, o: QuotaCounts) -> QuotaCounts {
        QuotaCounts {
            namespace: self.namespace.saturating_sub(o.namespace),
            storage_space: self.storage_space.saturating_sub(o.storage_space),
        }
    }

    /// Space used on storage type `t`.
    pub fn type_space(self, t: i32) -> i64 {
        if t == DISK {
            self.storage_space
        } else {
            0
        }
    }
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

/// Storage space of a file's blocks (Hadoop's storagespaceConsumed): bytes times
/// replication, the last block of a file under construction at the preferred size.
pub(super) fn file_space(
    blocks: &[BlockInfo],
    block_size: u64,
    replication: u16,
    under_construction: bool,
) -> i64 {
    i64::try_from(file_bytes(blocks, block_size, under_construction))
        .unwrap_or(i64::MAX)
        .saturating_mul(i64::from(replication))
}

/// A file's size for quota purposes (Hadoop's computeFileSize(true, true)).
fn file_bytes(blocks: &[BlockInfo], block_size: u64, under_construction: bool) -> u64 {
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
    /// Storage space of the file in `slot`.
    pub(super) fn file_space_of(&self, slot: u32) -> i64 {
        let n = self.node(slot);
        let uc = self.under_construction.contains_key(&n.id);
        file_space(n.blocks(), n.block_size, n.replication, uc)
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

    /// A subtree's usage (Hadoop's computeQuotaUsage). Directories below `slot` with a
    /// quota answer from their counters; with `walk_all` every inode is visited (to
    /// recompute the counters themselves).
    pub(super) fn count_subtree(&self, slot: u32, walk_all: bool) -> QuotaCounts {
        let mut total = QuotaCounts::default();
        let mut stack = vec![slot];
        while let Some(s) = stack.pop() {
            let n = self.node(s);
            if n.is_dir() {
                if !walk_all && s != slot {
                    if let Some(q) = self.quotas.get(&n.id) {
                        total = total.plus(q.usage);
                        continue;
                    }
                }
                total.namespace += 1;
                stack.extend_from_slice(n.children());
            } else {
                total.namespace += 1;
                total.storage_space = total.storage_space.saturating_add(self.file_space_of(s));
            }
        }
        total
    }

    /// The usage of the subtree at `slot`, from its counters when it has a quota.
    pub(super) fn subtree_usage(&self, slot: u32) -> QuotaCounts {
        match self.quotas.get(&self.node(slot).id) {
            Some(q) => q.usage,
            None => self.count_subtree(slot, false),
        }
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
            let usage = self.count_subtree(slot, true);
            if let Some(q) = self.quotas.get_mut(&id) {
                q.usage = usage;
            }
        }
    }

    /// The ids of the directories with a quota from `slot` up to the root.
    fn quota_dirs_above(&self, mut slot: u32) -> Vec<u64> {
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

    /// Moves a subtree's usage from under `from` to under `to` (a rename). Skipped when
    /// both have the same directories with quotas above them.
    pub(super) fn move_usage(&mut self, slot: u32, from: u32, to: u32) {
        if self.quota_dirs_above(from) == self.quota_dirs_above(to) {
            return;
        }
        let u = self.subtree_usage(slot);
        self.add_usage(from, QuotaCounts::default().minus(u));
        self.add_usage(to, u);
    }

    /// Hadoop's FSDirectory.verifyQuota: every directory with a quota from `slot` up to
    /// the root (stopping at `stop`, the common ancestor of a rename) must take `delta`
    /// more, after `released` bytes of storage space are given back first (addBlock
    /// commits the previous block at its real length). The deepest is checked first.
    pub(super) fn verify_quota(
        &self,
        mut slot: u32,
        delta: QuotaCounts,
        released: i64,
        stop: Option<u32>,
    ) -> Result<(), NamespaceError> {
        if delta.namespace <= 0 && delta.storage_space <= 0 {
            return Ok(());
        }
        while slot != NO_SLOT && Some(slot) != stop {
            let n = self.node(slot);
            if let Some(q) = self.quotas.get(&n.id).filter(|_| n.is_dir()) {
                let used = QuotaCounts {
                    namespace: q.usage.namespace,
                    storage_space: q.usage.storage_space.saturating_sub(released),
                };
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
            q.usage = self.count_subtree(slot, false);
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
    /// Hadoop's FSDirRenameOp.verifyQuotaForRename: the destination's directories
    /// below the common ancestor take the source's usage (less a replaced
    /// destination's).
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
        let mut delta = self.subtree_usage(src);
        if let Some(e) = d.last() {
            delta = delta.minus(self.subtree_usage(e));
        }
        self.verify_quota(dst_parent, delta, 0, common)
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
        let delta = QuotaCounts {
            namespace: names,
            storage_space: 0,
        }
        .minus(gone);
        self.verify_quota(deepest_existing(res), delta, 0, None)
    }

    /// Quota check for a file's storage space growing by `grow` bytes (after
    /// `released` are given back).
    pub(super) fn verify_space(
        &self,
        file: u32,
        grow: i64,
        released: i64,
    ) -> Result<(), NamespaceError> {
        let delta = QuotaCounts {
            namespace: 0,
            storage_space: grow,
        };
        self.verify_quota(file, delta, released, None)
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
