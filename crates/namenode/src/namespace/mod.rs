//! The NameNode's in-memory namespace (Hadoop's FSDirectory + INode*): a tree of
//! directories and files kept as plain data. No IO, no clocks: times are arguments.
//!
//! Every mutation has two halves so that live calls and edit-log replay share one code
//! path: `plan_*` (takes `&self`) validates a client request — paths, permissions,
//! existence, limits — and returns the [`EditOp`] to log; [`Namespace::apply`] changes
//! the state and succeeds for every op a plan produced (and for a log replay). Inode
//! ids are chosen by the plan (`last_inode_id + 1, ...`) and recorded in the op, so a
//! replay reproduces them. Callers must apply (or drop) one plan before making the next.

mod acl;
mod apply;
mod error;
mod image;
mod image_record;
mod inode;
mod memory;
mod path;
mod permission;
mod plan;
mod query;
mod quota;
mod snapshot;
mod storage_policy;
mod truncate;
mod write;
mod xattr;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

pub use acl::{AclEntry, AclScope, AclStatus, AclType};
pub use apply::ApplyOutcome;
pub use error::{ImageError, NamespaceError};
pub use hafs_proto::hafs::EditOp;
pub use inode::{BlockInfo, ROOT_INODE_ID};
pub use memory::MemoryStats;
pub use permission::{mode_string, Access, Caller};
pub use plan::Planned;
pub use query::{ContentSummary, FileKind, FileStatus, NamespaceStats};
pub use quota::{long_to_string, storage_type_name, supports_type_quota, Quota, QuotaUsage};
pub use snapshot::{
    default_snapshot_name, diff_page, snapshot_path, DiffEntry, DiffKind, SnapshottableDir,
    DOT_SNAPSHOT, READ_ONLY_SNAPSHOT, SNAPSHOT_MAX_LIMIT_DEFAULT,
};
pub use truncate::{Truncate, TruncatePlan};
pub use write::{AddBlockPlan, CommitBlockSync, LastBlock};
pub use xattr::{
    parse_prefixed_name, XAttr, XAttrConfig, XAttrNamespace, XAttrSetFlags,
    MAX_XATTR_SIZE_HARD_LIMIT,
};

use inode::{Body, IdIndex, Inode, Name, StringTable, NO_SLOT, ROOT_SLOT};

/// Namespace limits and switches (Hadoop's keys and defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceConfig {
    /// dfs.permissions.enabled (true).
    pub permissions_enabled: bool,
    /// dfs.namenode.fs-limits.max-component-length (255); 0 disables.
    pub max_component_length: usize,
    /// dfs.namenode.fs-limits.max-directory-items (1048576); 0 disables.
    pub max_dir_items: usize,
    /// dfs.namenode.fs-limits.min-block-size (1048576).
    pub min_block_size: u64,
    /// dfs.namenode.replication.min (1).
    pub min_replication: u16,
    /// dfs.replication.max (512).
    pub max_replication: u16,
    /// dfs.namenode.acls.enabled (true).
    pub acls_enabled: bool,
    /// dfs.namenode.posix.acl.inheritance.enabled (true).
    pub posix_acl_inheritance: bool,
    /// dfs.namenode.xattrs.enabled and the extended attribute limits.
    pub xattrs: XAttrConfig,
    /// dfs.namenode.snapshot.max.limit (65536): snapshots per directory.
    pub snapshot_max_limit: u32,
    /// dfs.storage.policy.enabled (true).
    pub storage_policy_enabled: bool,
}

impl Default for NamespaceConfig {
    fn default() -> Self {
        NamespaceConfig {
            permissions_enabled: true,
            max_component_length: 255,
            max_dir_items: 1_048_576,
            min_block_size: 1_048_576,
            min_replication: 1,
            max_replication: 512,
            acls_enabled: true,
            posix_acl_inheritance: true,
            xattrs: XAttrConfig::default(),
            snapshot_max_limit: SNAPSHOT_MAX_LIMIT_DEFAULT,
            storage_policy_enabled: true,
        }
    }
}

/// File-under-construction state (Hadoop's FileUnderConstructionFeature): the lease
/// holder. Kept in a side table keyed by inode id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnderConstruction {
    pub client_name: String,
    pub client_machine: String,
    /// A truncate waiting for the recovery of the last block (Hadoop's truncate
    /// block): the block as it will be once cut, with the recovery's generation stamp.
    pub truncate_block: Option<BlockInfo>,
}

/// The namespace tree.
#[derive(Debug, Clone)]
pub struct Namespace {
    config: NamespaceConfig,
    /// Inode slab; slot ROOT_SLOT is the root. Freed slots are reused.
    slab: Vec<Inode>,
    free: Vec<u32>,
    index: IdIndex,
    strings: StringTable,
    under_construction: HashMap<u64, UnderConstruction>,
    quotas: HashMap<u64, Quota>,
    /// ACL features by inode id (acl.rs).
    acls: acl::AclTable,
    /// Extended attributes by inode id (out of line: most inodes have none).
    xattrs: HashMap<u64, Box<[XAttr]>>,
    /// Storage policy ids set on inodes, by inode id (storage_policy.rs).
    storage_policies: HashMap<u64, u8>,
    /// Bumped by every change that may move a file's effective storage policy.
    storage_policy_epoch: u64,
    last_inode_id: u64,
    /// The last block id handed out (Hadoop's SequentialBlockIdGenerator).
    last_block_id: u64,
    /// The last generation stamp handed out.
    gen_stamp: u64,
    files: u64,
    dirs: u64,
    /// Master keys and live delegation tokens: in the namespace so that the edit log and
    /// the fsimage carry them with everything else (crate::security).
    tokens: crate::security::DelegationTokens,
    /// Snapshottable directories and their snapshots (snapshot.rs).
    snapshots: snapshot::SnapshotTable,
}

/// Hadoop's LAST_RESERVED_BLOCK_ID (2^30): sequential block ids start above it.
pub const LAST_RESERVED_BLOCK_ID: u64 = 1 << 30;
/// Hadoop's GenerationStamp.LAST_RESERVED_STAMP: generation stamps start above it.
pub const LAST_RESERVED_GEN_STAMP: u64 = 1000;

/// A path looked up in the tree: `nodes[0]` is the root, `nodes[i]` the inode of
/// `comps[i - 1]`, None once a component is missing (or below a file).
struct Resolved<'p> {
    comps: Vec<&'p str>,
    nodes: Vec<Option<u32>>,
}

impl Resolved<'_> {
    fn last(&self) -> Option<u32> {
        self.nodes.last().copied().flatten()
    }

    /// The parent of the last component (None for the root or a missing parent).
    fn parent(&self) -> Option<u32> {
        if self.nodes.len() < 2 {
            None
        } else {
            self.nodes[self.nodes.len() - 2]
        }
    }

    fn path(&self) -> String {
        path::join(&self.comps)
    }

    /// Path of `nodes[i]`.
    fn prefix(&self, i: usize) -> String {
        path::join(&self.comps[..i])
    }
}

/// How resolution reports an existing ancestor that is a file (Hadoop's resolvePath:
/// ParentNotDirectoryException for operations creating a name, AccessControlException
/// otherwise).
#[derive(Clone, Copy, PartialEq, Eq)]
enum DirOp {
    Create,
    Other,
}

impl Namespace {
    /// A fresh namespace holding only the root directory, owned by `owner:group` with
    /// mode 0755 (what `namenode -format` creates).
    pub fn new(config: NamespaceConfig, owner: &str, group: &str, now: i64) -> Namespace {
        let mut strings = StringTable::default();
        let owner = strings.intern(owner);
        let group = strings.intern(group);
        let root = Inode {
            id: ROOT_INODE_ID,
            mtime: now,
            atime: 0,
            block_size: 0,
            name: Name::new(b""),
            body: Body::Dir(Vec::new()),
            parent: NO_SLOT,
            owner,
            group,
            perm: 0o755,
            replication: 0,
        };
        let mut ns = Namespace {
            config,
            slab: vec![root],
            free: Vec::new(),
            index: IdIndex::default(),
            strings,
            under_construction: HashMap::new(),
            quotas: HashMap::new(),
            acls: Default::default(),
            xattrs: HashMap::new(),
            storage_policies: HashMap::new(),
            storage_policy_epoch: 0,
            last_inode_id: ROOT_INODE_ID,
            last_block_id: LAST_RESERVED_BLOCK_ID,
            gen_stamp: LAST_RESERVED_GEN_STAMP,
            files: 0,
            dirs: 1,
            tokens: Default::default(),
            snapshots: Default::default(),
        };
        ns.index.insert(ROOT_SLOT, &ns.slab);
        ns.quotas.insert(ROOT_INODE_ID, Quota::ROOT_DEFAULT);
        ns.recompute_quota_usage();
        ns
    }

    pub fn config(&self) -> &NamespaceConfig {
        &self.config
    }

    pub fn set_config(&mut self, config: NamespaceConfig) {
        self.config = config;
    }

    /// The delegation token secret manager's state; it changes only through `apply`.
    pub fn delegation_tokens(&self) -> &crate::security::DelegationTokens {
        &self.tokens
    }

    /// The highest inode id handed out so far.
    pub fn last_inode_id(&self) -> u64 {
        self.last_inode_id
    }

    /// The last block id handed out.
    pub fn last_block_id(&self) -> u64 {
        self.last_block_id
    }

    /// The last generation stamp handed out.
    pub fn gen_stamp(&self) -> u64 {
        self.gen_stamp
    }

    /// Moves the block counters up to cover `blocks` (never down), so that ids and
    /// stamps seen in any op or image are never handed out again.
    fn note_blocks<'b>(&mut self, blocks: impl IntoIterator<Item = &'b BlockInfo>) {
        for b in blocks {
            self.last_block_id = self.last_block_id.max(b.block_id);
            self.gen_stamp = self.gen_stamp.max(b.gen_stamp);
        }
    }

    /// The lease holder of an open file, by inode id.
    pub fn under_construction(&self, inode_id: u64) -> Option<&UnderConstruction> {
        self.under_construction.get(&inode_id)
    }

    /// Every file under construction: (inode id, its state). For the lease manager.
    pub fn files_under_construction(&self) -> impl Iterator<Item = (u64, &UnderConstruction)> {
        self.under_construction.iter().map(|(id, uc)| (*id, uc))
    }

    /// The absolute path of an inode, by id.
    pub fn path_of(&self, inode_id: u64) -> Option<String> {
        let slot = self.index.get(inode_id, &self.slab)?;
        Some(self.path_of_slot(slot))
    }

    fn path_of_slot(&self, mut slot: u32) -> String {
        let mut names: Vec<&[u8]> = Vec::new();
        while slot != ROOT_SLOT && slot != NO_SLOT {
            let n = &self.slab[slot as usize];
            names.push(n.name.as_bytes());
            slot = n.parent;
        }
        if names.is_empty() {
            return "/".to_string();
        }
        let mut s = String::new();
        for n in names.iter().rev() {
            s.push('/');
            s.push_str(&String::from_utf8_lossy(n));
        }
        s
    }

    fn node(&self, slot: u32) -> &Inode {
        &self.slab[slot as usize]
    }

    fn owner_name(&self, n: &Inode) -> &str {
        self.strings.get(n.owner)
    }

    fn group_name(&self, n: &Inode) -> &str {
        self.strings.get(n.group)
    }

    /// Binary search for `name` among a directory's children: Ok(position) when present,
    /// Err(insertion point) otherwise.
    fn search_child(&self, dir: u32, name: &[u8]) -> Result<usize, usize> {
        self.node(dir)
            .children()
            .binary_search_by(|&c| self.node(c).name.as_bytes().cmp(name))
    }

    fn child(&self, dir: u32, name: &[u8]) -> Option<u32> {
        let i = self.search_child(dir, name).ok()?;
        Some(self.node(dir).children()[i])
    }

    /// Walks `comps` from the root. Stops (leaving None) at a missing name or below a
    /// file.
    fn walk<'p>(&self, comps: Vec<&'p str>) -> Resolved<'p> {
        let mut nodes = Vec::with_capacity(comps.len() + 1);
        nodes.push(Some(ROOT_SLOT));
        let mut cur = Some(ROOT_SLOT);
        for c in &comps {
            cur = match cur {
                Some(s) if self.node(s).is_dir() => self.child(s, c.as_bytes()),
                _ => None,
            };
            nodes.push(cur);
        }
        Resolved { comps, nodes }
    }

    /// Parses and resolves a client path, then checks what Hadoop's resolvePath checks:
    /// every existing ancestor must be a directory, and (permissions on, not the
    /// superuser) traversable by the caller.
    fn resolve<'p>(
        &self,
        caller: &Caller,
        src: &'p str,
        op: DirOp,
    ) -> Result<Resolved<'p>, NamespaceError> {
        let comps = path::components(src)?;
        let res = self.walk(comps);
        self.check_dot_snapshot(&res, op)?;
        let check_exec = self.config.permissions_enabled && !caller.is_superuser;
        for i in 0..res.nodes.len() - 1 {
            let Some(slot) = res.nodes[i] else { break };
            let n = self.node(slot);
            if !n.is_dir() {
                let msg = format!("{} (is not a directory)", res.prefix(i));
                return Err(match op {
                    DirOp::Create => NamespaceError::ParentNotDirectory(msg),
                    DirOp::Other => NamespaceError::AccessControl(msg),
                });
            }
            if check_exec {
                self.check_access(caller, &res, i, Access::EXECUTE)?;
            }
        }
        Ok(res)
    }

    /// `.snapshot` after a snapshottable directory is the read-only snapshot tree (its
    /// reads are answered before resolution, so anything reaching here changes it);
    /// elsewhere it is a name no new inode may take (Hadoop's reserved name).
    fn check_dot_snapshot(&self, res: &Resolved, op: DirOp) -> Result<(), NamespaceError> {
        for (i, c) in res.comps.iter().enumerate() {
            if *c != DOT_SNAPSHOT {
                continue;
            }
            if let Some(dir) = res.nodes[i] {
                if self.is_snapshottable(self.node(dir).id) {
                    return Err(NamespaceError::SnapshotAccessControl(
                        READ_ONLY_SNAPSHOT.to_string(),
                    ));
                }
            }
            if op == DirOp::Create && res.nodes[i + 1].is_none() {
                return Err(NamespaceError::HadoopIllegalArgument(format!(
                    "\"{DOT_SNAPSHOT}\" is a reserved name."
                )));
            }
        }
        Ok(())
    }

    /// Checks that the caller has `access` on `res.nodes[i]` (which must exist).
    fn check_access(
        &self,
        caller: &Caller,
        res: &Resolved,
        i: usize,
        access: Access,
    ) -> Result<(), NamespaceError> {
        let Some(slot) = res.nodes[i] else {
            return Ok(());
        };
        self.check_slot(caller, slot, &res.prefix(i), access)
    }

    fn check_slot(
        &self,
        caller: &Caller,
        slot: u32,
        path: &str,
        access: Access,
    ) -> Result<(), NamespaceError> {
        let n = self.node(slot);
        match self.acl_allows(caller, n, access) {
            Some(true) => return Ok(()),
            Some(false) => return Err(self.acl_denied(caller, access, path, n)),
            None => {}
        }
        let (owner, group) = (self.owner_name(n), self.group_name(n));
        if permission::granted(caller, n, owner, group) & access.0 == access.0 {
            Ok(())
        } else {
            Err(permission::denied(caller, access, path, n, owner, group))
        }
    }

    fn checking(&self, caller: &Caller) -> bool {
        self.config.permissions_enabled && !caller.is_superuser
    }

    /// Hadoop's checkPermission after traversal: `ancestor` on the deepest existing
    /// ancestor, `parent` on the parent (with the sticky-bit rule when it includes
    /// WRITE), `access` on the inode itself, `sub` on every non-empty directory of the
    /// subtree (empty ones skipped with `ignore_empty`). No-op when permissions are off or for the superuser.
    fn check_permission(
        &self,
        caller: &Caller,
        res: &Resolved,
        ancestor: Option<Access>,
        parent: Option<Access>,
        access: Option<Access>,
        sub: Option<(Access, bool)>,
    ) -> Result<(), NamespaceError> {
        if !self.checking(caller) {
            return Ok(());
        }
        let len = res.nodes.len();
        if let Some(p) = parent {
            if p.0 & Access::WRITE.0 != 0 && len > 1 {
                if let (Some(ps), Some(ls)) = (res.parent(), res.last()) {
                    self.check_sticky(caller, ps, ls, res)?;
                }
            }
        }
        if let Some(a) = ancestor {
            if len > 1 {
                let i = (0..len - 1)
                    .rev()
                    .find(|&i| res.nodes[i].is_some())
                    .unwrap_or(0);
                self.check_access(caller, res, i, a)?;
            }
        }
        if let Some(p) = parent {
            if len > 1 {
                self.check_access(caller, res, len - 2, p)?;
            }
        }
        if let Some(a) = access {
            self.check_access(caller, res, len - 1, a)?;
        }
        if let (Some((s, ignore_empty)), Some(last)) = (sub, res.last()) {
            let mut stack = vec![(last, res.path())];
            while let Some((slot, p)) = stack.pop() {
                let n = self.node(slot);
                if !n.is_dir() || (ignore_empty && n.children().is_empty()) {
                    continue;
                }
                self.check_slot(caller, slot, &p, s)?;
                for &c in n.children() {
                    if self.node(c).is_dir() {
                        let name = String::from_utf8_lossy(self.node(c).name.as_bytes());
                        let cp = if p == "/" {
                            format!("/{name}")
                        } else {
                            format!("{p}/{name}")
                        };
                        stack.push((c, cp));
                    }
                }
            }
        }
        Ok(())
    }

    /// A sticky parent lets only its owner and the inode's owner remove or rename it.
    fn check_sticky(
        &self,
        caller: &Caller,
        parent: u32,
        inode: u32,
        res: &Resolved,
    ) -> Result<(), NamespaceError> {
        let p = self.node(parent);
        if p.perm & 0o1000 == 0 {
            return Ok(());
        }
        let n = self.node(inode);
        if self.owner_name(p) == caller.user || self.owner_name(n) == caller.user {
            return Ok(());
        }
        let len = res.nodes.len();
        Err(NamespaceError::AccessControl(format!(
            "Permission denied by sticky bit: user={}, path=\"{}\":{}:{}:{}, parent=\"{}\":{}:{}:{}",
            caller.user,
            res.path(),
            self.owner_name(n),
            self.group_name(n),
            mode_string(n.is_dir(), n.perm),
            res.prefix(len - 2),
            self.owner_name(p),
            self.group_name(p),
            mode_string(true, p.perm),
        )))
    }

    /// Only the owner (or the superuser) may change an inode's permission or owner.
    fn check_owner(&self, caller: &Caller, res: &Resolved) -> Result<(), NamespaceError> {
        if !self.checking(caller) {
            return Ok(());
        }
        if let Some(last) = res.last() {
            if self.owner_name(self.node(last)) == caller.user {
                return Ok(());
            }
        }
        Err(NamespaceError::AccessControl(format!(
            "Permission denied. user={} is not the owner of inode={}",
            caller.user,
            res.path()
        )))
    }

    // ---- structural changes (used by apply and image loading) ----

    fn alloc_slot(&mut self, inode: Inode) -> u32 {
        let slot = match self.free.pop() {
            Some(s) => {
                self.slab[s as usize] = inode;
                s
            }
            None => {
                self.slab.push(inode);
                (self.slab.len() - 1) as u32
            }
        };
        self.index.insert(slot, &self.slab);
        slot
    }

    /// Links a new inode under `parent` (a directory without a child of that name).
    fn add_child(&mut self, parent: u32, mut inode: Inode) -> u32 {
        inode.parent = parent;
        if inode.is_dir() {
            self.dirs += 1;
        } else {
            self.files += 1;
        }
        let pos = match self.search_child(parent, inode.name.as_bytes()) {
            Ok(p) | Err(p) => p,
        };
        self.last_inode_id = self.last_inode_id.max(inode.id);
        let slot = self.alloc_slot(inode);
        if let Body::Dir(children) = &mut self.slab[parent as usize].body {
            children.insert(pos, slot);
        }
        // A new directory, or a file without blocks yet: one name.
        let mut usage = quota::QuotaCounts::names(1);
        if !self.node(slot).is_dir() {
            usage = usage.plus(self.file_space_of(slot));
        }
        self.add_usage(parent, usage);
        slot
    }

    /// Unlinks `slot` from its parent's child list (the inode stays allocated).
    fn detach(&mut self, slot: u32) {
        let parent = self.node(slot).parent;
        if parent == NO_SLOT {
            return;
        }
        let name = self.node(slot).name.clone();
        if let Ok(pos) = self.search_child(parent, name.as_bytes()) {
            if let Body::Dir(children) = &mut self.slab[parent as usize].body {
                children.remove(pos);
            }
        }
        self.slab[slot as usize].parent = NO_SLOT;
    }

    /// Links a detached inode under `parent` with a (possibly new) name.
    fn attach(&mut self, parent: u32, slot: u32, name: &[u8]) {
        self.slab[slot as usize].name = Name::new(name);
        self.slab[slot as usize].parent = parent;
        let pos = match self.search_child(parent, name) {
            Ok(p) | Err(p) => p,
        };
        if let Body::Dir(children) = &mut self.slab[parent as usize].body {
            children.insert(pos, slot);
        }
    }

    /// Detaches and frees a whole subtree, collecting its blocks and open files.
    fn remove_subtree(&mut self, slot: u32, out: &mut ApplyOutcome) {
        let parent = self.node(slot).parent;
        // What the subtree used (counted while it still inherits its policy), given
        // back to the quotas above it.
        let freed = quota::QuotaCounts::default().minus(self.subtree_usage(slot));
        self.detach(slot);
        let mut stack = vec![slot];
        while let Some(s) = stack.pop() {
            let n = std::mem::replace(&mut self.slab[s as usize], Inode::free());
            // The index reads ids from the slab: remove with the id still in place.
            self.slab[s as usize].id = n.id;
            self.index.remove(n.id, &self.slab);
            self.slab[s as usize].id = 0;
            self.free.push(s);
            self.quotas.remove(&n.id);
            self.acls.remove(n.id);
            self.xattrs.remove(&n.id);
            if self.storage_policies.remove(&n.id).is_some() {
                self.storage_policy_epoch += 1;
            }
            if n.is_dir() {
                self.forget_snapshottable(n.id, out);
            }
            let uc = self.under_construction.remove(&n.id).is_some();
            if uc {
                out.removed_under_construction.push(n.id);
            }
            match n.body {
                Body::Dir(children) => {
                    self.dirs -= 1;
                    stack.extend(children);
                }
                Body::File(blocks) => {
                    self.files -= 1;
                    if let Some(b) = blocks {
                        out.removed_blocks.extend(b.iter().copied());
                    }
                }
            }
        }
        self.add_usage(parent, freed);
    }

    /// Is `slot` equal to or below `ancestor`?
    fn is_within(&self, mut slot: u32, ancestor: u32) -> bool {
        while slot != NO_SLOT {
            if slot == ancestor {
                return true;
            }
            slot = self.node(slot).parent;
        }
        false
    }
}

#[cfg(test)]
impl Namespace {
    /// Structural invariants, for tests: parent links, sorted unique children, index
    /// and counters consistent with the slab.
    fn check_invariants(&self) {
        let live: Vec<u32> = (0..self.slab.len() as u32)
            .filter(|&s| self.slab[s as usize].id != 0)
            .collect();
        assert_eq!(live.len(), self.slab.len() - self.free.len());
        assert_eq!(self.index.len(), live.len());
        let (mut files, mut dirs) = (0, 0);
        for &s in &live {
            let n = self.node(s);
            assert_eq!(self.index.get(n.id, &self.slab), Some(s));
            assert!(n.id <= self.last_inode_id);
            if n.is_dir() {
                dirs += 1;
                let names: Vec<&[u8]> = n
                    .children()
                    .iter()
                    .map(|&c| self.node(c).name.as_bytes())
                    .collect();
                assert!(
                    names.windows(2).all(|w| w[0] < w[1]),
                    "children sorted and unique"
                );
                for &c in n.children() {
                    assert_eq!(self.node(c).parent, s);
                }
            } else {
                files += 1;
            }
            if s != ROOT_SLOT {
                assert!(self.is_within(s, ROOT_SLOT));
            }
        }
        assert_eq!((files, dirs), (self.files, self.dirs));
        for id in self.under_construction.keys() {
            let s = self.index.get(*id, &self.slab).expect("uc inode exists");
            assert!(!self.node(s).is_dir());
        }
        for (id, q) in &self.quotas {
            let s = self.index.get(*id, &self.slab).expect("quota inode exists");
            assert!(self.node(s).is_dir());
            let counted = self.count_subtree(s, true, self.inherited_storage_policy(s));
            assert_eq!(q.usage, counted, "usage of {}", self.path_of_slot(s));
        }
    }
}
