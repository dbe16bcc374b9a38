//! Snapshots (Hadoop's SnapshotManager and DirectorySnapshottableFeature): read-only,
//! point-in-time copies of a snapshottable directory's subtree, reached through
//! `<dir>/.snapshot/<name>/...`.
//!
//! Representation: a snapshot is a frozen plain-data copy of the subtree taken when the
//! CreateSnapshot op applies (names, inode ids, permissions, owner and group, times,
//! replication, block size and each file's block list). That costs O(subtree) memory
//! per snapshot, where HDFS keeps O(changes) diffs against the live tree; it was chosen
//! because it is small, obviously correct, and a replay of the log rebuilds exactly the
//! same copy from the same tree (docs/architecture.md, "Snapshots", has the measured
//! cost and what diffs would save).
//!
//! Blocks: every block a snapshot names is counted in `held`. When the live tree lets
//! go of a held block (a delete, an overwrite), the block is not handed to the block
//! manager for deletion but kept in `released`; when the last snapshot naming it is
//! deleted, it is handed over then.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use hafs_proto::hafs::{self as pb, edit_op::Op};

use super::apply::{from_pb_blocks, ApplyOutcome};
use super::error::{ImageError, NamespaceError};
use super::inode::{BlockInfo, Body};
use super::permission::{Access, Caller};
use super::plan::{to_pb_blocks, Planned};
use super::query::{ContentSummary, FileKind, FileStatus};
use super::{path, DirOp, EditOp, Namespace, Resolved};

/// The name of the read-only directory of snapshots (Hadoop's DOT_SNAPSHOT_DIR).
pub const DOT_SNAPSHOT: &str = ".snapshot";

/// dfs.namenode.snapshot.max.limit's default: snapshots per directory.
pub const SNAPSHOT_MAX_LIMIT_DEFAULT: u32 = 65536;

/// Hadoop's SnapshotAccessControlException text for a change under `.snapshot`.
pub const READ_ONLY_SNAPSHOT: &str = "Modification on a read-only snapshot is disallowed";

/// One inode of a snapshot, frozen.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FrozenNode {
    id: u64,
    name: Box<[u8]>,
    perm: u16,
    /// Indexes into the namespace's string table.
    owner: u32,
    group: u32,
    mtime: i64,
    atime: i64,
    replication: u16,
    block_size: u64,
    body: FrozenBody,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum FrozenBody {
    /// The children: `count` nodes from index `first`, sorted by name (the copy is
    /// made breadth first, so a directory's children are contiguous).
    Dir {
        first: u32,
        count: u32,
    },
    File(Box<[BlockInfo]>),
}

impl FrozenNode {
    fn is_dir(&self) -> bool {
        matches!(self.body, FrozenBody::Dir { .. })
    }

    fn blocks(&self) -> &[BlockInfo] {
        match &self.body {
            FrozenBody::File(b) => b,
            FrozenBody::Dir { .. } => &[],
        }
    }

    fn children(&self) -> std::ops::Range<usize> {
        match self.body {
            FrozenBody::Dir { first, count } => first as usize..(first + count) as usize,
            FrozenBody::File(_) => 0..0,
        }
    }
}

/// One snapshot of a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub id: u32,
    pub name: String,
    /// Creation time (ms since the epoch).
    pub ctime: i64,
    /// The frozen subtree; `nodes[0]` is the snapshottable directory.
    nodes: Vec<FrozenNode>,
}

/// A block some snapshot names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Held {
    /// Snapshot copies naming it.
    count: u32,
    /// The file it belonged to and that file's replication (the highest seen), for the
    /// block manager when only snapshots keep it.
    inode_id: u64,
    replication: u16,
}

/// The snapshot state of a namespace.
#[derive(Debug, Clone, Default)]
pub(super) struct SnapshotTable {
    /// Snapshottable directories by inode id; their snapshots oldest first.
    dirs: BTreeMap<u64, Vec<Snapshot>>,
    last_snapshot_id: u32,
    held: HashMap<u64, Held>,
    /// Held blocks no live file has any more (the current block, generation stamp and
    /// length as the live tree last had them).
    released: HashMap<u64, BlockInfo>,
}

impl SnapshotTable {
    fn hold(&mut self, s: &Snapshot) {
        for n in &s.nodes {
            for b in n.blocks() {
                let h = self.held.entry(b.block_id).or_insert(Held {
                    count: 0,
                    inode_id: n.id,
                    replication: n.replication,
                });
                h.count += 1;
                h.replication = h.replication.max(n.replication);
            }
        }
    }

    /// Drops a deleted snapshot's holds; blocks nothing keeps any more go to `out`.
    fn release(&mut self, s: &Snapshot, out: &mut ApplyOutcome) {
        for n in &s.nodes {
            for b in n.blocks() {
                let Some(h) = self.held.get_mut(&b.block_id) else {
                    continue;
                };
                h.count -= 1;
                if h.count == 0 {
                    self.held.remove(&b.block_id);
                    if let Some(live) = self.released.remove(&b.block_id) {
                        out.removed_blocks.push(live);
                    }
                }
            }
        }
    }

    fn find(&self, dir_id: u64, name: &str) -> Option<&Snapshot> {
        self.dirs.get(&dir_id)?.iter().find(|s| s.name == name)
    }
}

/// A snapshottable directory as getSnapshottableDirListing reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshottableDir {
    pub status: FileStatus,
    pub path: String,
    pub snapshot_count: u32,
    pub snapshot_limit: u32,
}

/// Where a path with a `.snapshot` component leads.
enum SnapPath<'n> {
    /// `<dir>/.snapshot` itself.
    Dot(u32),
    /// A node of a snapshot.
    Node(&'n Snapshot, usize),
    /// Nothing there.
    Missing,
}

fn edit(op: Op) -> EditOp {
    EditOp {
        retry_cache: None,
        op: Some(op),
    }
}

fn snapshot_err(msg: String) -> NamespaceError {
    NamespaceError::Snapshot(msg)
}

fn corrupt(msg: String) -> NamespaceError {
    NamespaceError::Corrupt(msg)
}

/// Hadoop's default snapshot name: "s" and the creation time as yyyyMMdd-HHmmss.SSS
/// (UTC here).
pub fn default_snapshot_name(now_ms: i64) -> String {
    let secs = now_ms.div_euclid(1000);
    let ms = now_ms.rem_euclid(1000);
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "s{y:04}{m:02}{d:02}-{:02}{:02}{:02}.{ms:03}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `<root>/.snapshot/<name>`.
pub fn snapshot_path(root: &str, name: &str) -> String {
    if root == "/" {
        format!("/{DOT_SNAPSHOT}/{name}")
    } else {
        format!("{root}/{DOT_SNAPSHOT}/{name}")
    }
}

impl Namespace {
    /// Is the directory with this inode id snapshottable?
    pub(super) fn is_snapshottable(&self, inode_id: u64) -> bool {
        self.snapshots.dirs.contains_key(&inode_id)
    }

    /// The directory `res` names, and its path: Hadoop's "Directory does not exist" and
    /// "Path is not a directory" otherwise.
    fn existing_dir(&self, res: &Resolved<'_>) -> Result<(u32, String), NamespaceError> {
        let p = res.path();
        let Some(slot) = res.last() else {
            return Err(NamespaceError::FileNotFound(format!(
                "Directory does not exist: {p}"
            )));
        };
        if !self.node(slot).is_dir() {
            return Err(NamespaceError::FileNotFound(format!(
                "Path is not a directory: {p}"
            )));
        }
        Ok((slot, p))
    }

    /// The snapshottable directory at `res` (owner or superuser only for snapshot
    /// changes, as Hadoop's checkOwner).
    fn snapshot_root(&self, caller: &Caller, src: &str) -> Result<(u32, String), NamespaceError> {
        let res = self.resolve(caller, src, DirOp::Other)?;
        let (slot, p) = self.existing_dir(&res)?;
        if !self.is_snapshottable(self.node(slot).id) {
            return Err(snapshot_err(format!(
                "Directory is not a snapshottable directory: {p}"
            )));
        }
        self.check_owner(caller, &res)?;
        Ok((slot, p))
    }

    fn verify_snapshot_name(&self, name: &str, root: &str) -> Result<(), NamespaceError> {
        if name.contains('/') {
            return Err(NamespaceError::HadoopIllegalArgument(
                "Snapshot name cannot contain \"/\"".into(),
            ));
        }
        if name == DOT_SNAPSHOT {
            return Err(NamespaceError::HadoopIllegalArgument(format!(
                "\"{DOT_SNAPSHOT}\" is a reserved name."
            )));
        }
        if name.is_empty() || name == "." || name == ".." || name.contains(':') {
            return Err(NamespaceError::InvalidPath(snapshot_path(root, name)));
        }
        self.verify_component(name, root)
    }

    /// allowSnapshot (the caller is the superuser: checked by the RPC layer).
    pub fn plan_allow_snapshot(
        &self,
        caller: &Caller,
        src: &str,
    ) -> Result<Planned, NamespaceError> {
        let res = self.resolve(caller, src, DirOp::Other)?;
        let (slot, p) = self.existing_dir(&res)?;
        if self.is_snapshottable(self.node(slot).id) {
            return Ok(Planned::Done(true));
        }
        // Hadoop refuses nested snapshottable directories unless switched on; hafs has
        // no nested snapshottable directories at all.
        for id in self.snapshots.dirs.keys() {
            let Some(other) = self.index.get(*id, &self.slab) else {
                continue;
            };
            let relation = if self.is_within(other, slot) {
                "subdirectory"
            } else if self.is_within(slot, other) {
                "ancestor"
            } else {
                continue;
            };
            return Err(snapshot_err(format!(
                "Nested snapshottable directories not allowed: path={p}, the {relation} {} \
                 is already a snapshottable directory.",
                self.path_of_slot(other)
            )));
        }
        Ok(Planned::Apply(edit(Op::AllowSnapshot(
            pb::AllowSnapshotOp { path: p },
        ))))
    }

    /// disallowSnapshot (superuser): refused while the directory has snapshots.
    pub fn plan_disallow_snapshot(
        &self,
        caller: &Caller,
        src: &str,
    ) -> Result<Planned, NamespaceError> {
        let res = self.resolve(caller, src, DirOp::Other)?;
        let (slot, p) = self.existing_dir(&res)?;
        match self.snapshots.dirs.get(&self.node(slot).id) {
            None => Ok(Planned::Done(true)),
            Some(s) if !s.is_empty() => Err(snapshot_err(format!(
                "The directory {p} has snapshot(s). Please redo the operation after \
                 removing all the snapshots."
            ))),
            Some(_) => Ok(Planned::Apply(edit(Op::DisallowSnapshot(
                pb::DisallowSnapshotOp { path: p },
            )))),
        }
    }

    /// createSnapshot: returns the op and the new snapshot's path.
    pub fn plan_create_snapshot(
        &self,
        caller: &Caller,
        src: &str,
        name: Option<&str>,
        now: i64,
    ) -> Result<(EditOp, String), NamespaceError> {
        let (slot, p) = self.snapshot_root(caller, src)?;
        let limit = self.config.snapshot_max_limit;
        let name = match name {
            Some(n) => n.to_string(),
            None => default_snapshot_name(now),
        };
        self.verify_snapshot_name(&name, &p)?;
        let snaps = &self.snapshots.dirs[&self.node(slot).id];
        if snaps.iter().any(|s| s.name == name) {
            return Err(snapshot_err(format!(
                "Failed to add snapshot: there is already a snapshot with the same name \
                 \"{name}\"."
            )));
        }
        if snaps.len() >= limit as usize {
            return Err(snapshot_err(format!(
                "Failed to create snapshot: there are already {} snapshot(s) and the max \
                 snapshot limit is {limit}",
                snaps.len()
            )));
        }
        let path = snapshot_path(&p, &name);
        let op = edit(Op::CreateSnapshot(pb::CreateSnapshotOp {
            path: p,
            name,
            mtime: now,
            snapshot_id: self.snapshots.last_snapshot_id + 1,
        }));
        Ok((op, path))
    }

    pub fn plan_delete_snapshot(
        &self,
        caller: &Caller,
        src: &str,
        name: &str,
        now: i64,
    ) -> Result<Planned, NamespaceError> {
        let (slot, p) = self.snapshot_root(caller, src)?;
        if self.snapshots.find(self.node(slot).id, name).is_none() {
            return Err(snapshot_err(format!(
                "Cannot delete snapshot {name} from path {p}: the snapshot does not exist."
            )));
        }
        Ok(Planned::Apply(edit(Op::DeleteSnapshot(
            pb::DeleteSnapshotOp {
                path: p,
                name: name.to_string(),
                mtime: now,
            },
        ))))
    }

    pub fn plan_rename_snapshot(
        &self,
        caller: &Caller,
        src: &str,
        old_name: &str,
        new_name: &str,
        now: i64,
    ) -> Result<Planned, NamespaceError> {
        let (slot, p) = self.snapshot_root(caller, src)?;
        if old_name == new_name {
            return Ok(Planned::Done(true));
        }
        let id = self.node(slot).id;
        if self.snapshots.find(id, old_name).is_none() {
            return Err(snapshot_err(format!(
                "The snapshot {old_name} does not exist for directory {p}"
            )));
        }
        self.verify_snapshot_name(new_name, &p)?;
        if self.snapshots.find(id, new_name).is_some() {
            return Err(snapshot_err(format!(
                "The snapshot {new_name} already exists for directory {p}"
            )));
        }
        Ok(Planned::Apply(edit(Op::RenameSnapshot(
            pb::RenameSnapshotOp {
                path: p,
                old_name: old_name.to_string(),
                new_name: new_name.to_string(),
                mtime: now,
            },
        ))))
    }

    /// `<dir>/.snapshot/<name>` of an existing snapshot (`name`, or the newest one), for
    /// a retried createSnapshot. No permission check: the call already passed them.
    pub fn existing_snapshot_path(&self, src: &str, name: Option<&str>) -> Option<String> {
        let comps = path::components(src).ok()?;
        let slot = self.walk(comps.clone()).last()?;
        let snaps = self.snapshots.dirs.get(&self.node(slot).id)?;
        let snap = match name {
            Some(n) => snaps.iter().find(|s| s.name == n)?,
            None => snaps.last()?,
        };
        Some(snapshot_path(&path::join(&comps), &snap.name))
    }

    /// A delete (or a rename over a directory) may not take a directory that has
    /// snapshots with it.
    pub(super) fn check_no_snapshots_under(
        &self,
        slot: u32,
        path: &str,
    ) -> Result<(), NamespaceError> {
        for (id, snaps) in &self.snapshots.dirs {
            if snaps.is_empty() {
                continue;
            }
            let Some(s) = self.index.get(*id, &self.slab) else {
                continue;
            };
            if self.is_within(s, slot) {
                return Err(snapshot_err(format!(
                    "The directory {path} cannot be deleted since {} is snapshottable and \
                     already has snapshots",
                    self.path_of_slot(s)
                )));
            }
        }
        Ok(())
    }

    // ---- apply ----

    pub(super) fn apply_snapshot_op(&mut self, op: &Op) -> Result<ApplyOutcome, NamespaceError> {
        match op {
            Op::AllowSnapshot(a) => {
                let slot = self.lookup_existing(&a.path)?;
                if !self.node(slot).is_dir() {
                    return Err(corrupt(format!("allowSnapshot of a file {}", a.path)));
                }
                let id = self.node(slot).id;
                self.snapshots.dirs.entry(id).or_default();
                Ok(ApplyOutcome::default())
            }
            Op::DisallowSnapshot(d) => {
                let slot = self.lookup_existing(&d.path)?;
                let id = self.node(slot).id;
                if self.snapshots.dirs.get(&id).is_some_and(|s| !s.is_empty()) {
                    return Err(corrupt(format!("{} still has snapshots", d.path)));
                }
                self.snapshots.dirs.remove(&id);
                Ok(ApplyOutcome::default())
            }
            Op::CreateSnapshot(c) => {
                let slot = self.lookup_existing(&c.path)?;
                let id = self.node(slot).id;
                match self.snapshots.dirs.get(&id) {
                    None => return Err(corrupt(format!("{} is not snapshottable", c.path))),
                    Some(s) if s.iter().any(|s| s.name == c.name) => {
                        return Err(corrupt(format!("snapshot {} exists", c.name)))
                    }
                    Some(_) => {}
                }
                let mut nodes = self.freeze(slot);
                nodes[0].mtime = c.mtime;
                let snap = Snapshot {
                    id: c.snapshot_id,
                    name: c.name.clone(),
                    ctime: c.mtime,
                    nodes,
                };
                self.snapshots.hold(&snap);
                self.snapshots.last_snapshot_id =
                    self.snapshots.last_snapshot_id.max(c.snapshot_id);
                self.snapshots.dirs.entry(id).or_default().push(snap);
                self.slab[slot as usize].mtime = c.mtime;
                Ok(ApplyOutcome {
                    inode_id: Some(id),
                    ..Default::default()
                })
            }
            Op::DeleteSnapshot(d) => {
                let slot = self.lookup_existing(&d.path)?;
                let id = self.node(slot).id;
                let snaps = self
                    .snapshots
                    .dirs
                    .get_mut(&id)
                    .ok_or_else(|| corrupt(format!("{} is not snapshottable", d.path)))?;
                let i = snaps
                    .iter()
                    .position(|s| s.name == d.name)
                    .ok_or_else(|| corrupt(format!("no snapshot {} of {}", d.name, d.path)))?;
                let snap = snaps.remove(i);
                let mut out = ApplyOutcome {
                    inode_id: Some(id),
                    ..Default::default()
                };
                self.snapshots.release(&snap, &mut out);
                self.slab[slot as usize].mtime = d.mtime;
                Ok(out)
            }
            Op::RenameSnapshot(r) => {
                let slot = self.lookup_existing(&r.path)?;
                let id = self.node(slot).id;
                let snaps = self
                    .snapshots
                    .dirs
                    .get_mut(&id)
                    .ok_or_else(|| corrupt(format!("{} is not snapshottable", r.path)))?;
                if snaps.iter().any(|s| s.name == r.new_name) {
                    return Err(corrupt(format!("snapshot {} exists", r.new_name)));
                }
                let s = snaps
                    .iter_mut()
                    .find(|s| s.name == r.old_name)
                    .ok_or_else(|| corrupt(format!("no snapshot {} of {}", r.old_name, r.path)))?;
                s.name = r.new_name.clone();
                s.nodes[0].mtime = r.mtime;
                Ok(ApplyOutcome {
                    inode_id: Some(id),
                    ..Default::default()
                })
            }
            _ => unreachable!("apply_snapshot_op is called with snapshot ops only"),
        }
    }

    /// Whether some snapshot names this block (its bytes must not change).
    pub(super) fn snapshot_holds_block(&self, block_id: u64) -> bool {
        self.snapshots.held.contains_key(&block_id)
    }

    /// Blocks an op took out of the live tree that a snapshot still names stay: they
    /// leave `out.removed_blocks` for `released`.
    pub(super) fn keep_snapshot_blocks(&mut self, out: &mut ApplyOutcome) {
        if self.snapshots.held.is_empty() {
            return;
        }
        let t = &mut self.snapshots;
        out.removed_blocks.retain(|b| {
            if t.held.contains_key(&b.block_id) {
                t.released.insert(b.block_id, *b);
                false
            } else {
                true
            }
        });
    }

    /// A removed directory's snapshottable state goes with it (its snapshots too,
    /// should a log hold such a delete; a plan refuses it).
    pub(super) fn forget_snapshottable(&mut self, inode_id: u64, out: &mut ApplyOutcome) {
        if let Some(snaps) = self.snapshots.dirs.remove(&inode_id) {
            for s in &snaps {
                self.snapshots.release(s, out);
            }
        }
    }

    /// Copies the subtree at `slot` breadth first.
    fn freeze(&self, slot: u32) -> Vec<FrozenNode> {
        let mut slots = vec![slot];
        let mut nodes = Vec::new();
        let mut i = 0;
        while i < slots.len() {
            let n = self.node(slots[i]);
            let body = match &n.body {
                Body::Dir(children) => {
                    let first = slots.len() as u32;
                    slots.extend_from_slice(children);
                    FrozenBody::Dir {
                        first,
                        count: children.len() as u32,
                    }
                }
                Body::File(_) => FrozenBody::File(n.blocks().into()),
            };
            nodes.push(FrozenNode {
                id: n.id,
                name: n.name.as_bytes().into(),
                perm: n.perm,
                owner: n.owner,
                group: n.group,
                mtime: n.mtime,
                atime: n.atime,
                replication: n.replication,
                block_size: n.block_size,
                body,
            });
            i += 1;
        }
        nodes
    }

    // ---- reads ----

    /// Resolves a path with a `.snapshot` component after a snapshottable directory;
    /// None for any other path. Checks traversal as the live tree does.
    fn resolve_snapshot_path(
        &self,
        caller: &Caller,
        src: &str,
    ) -> Result<Option<SnapPath<'_>>, NamespaceError> {
        if self.snapshots.dirs.is_empty() || !src.contains(DOT_SNAPSHOT) {
            return Ok(None);
        }
        let comps = path::components(src)?;
        let Some(pos) = comps.iter().position(|c| *c == DOT_SNAPSHOT) else {
            return Ok(None);
        };
        let dir_path = path::join(&comps[..pos]);
        let res = self.resolve(caller, &dir_path, DirOp::Other)?;
        let Some(dir) = res.last() else {
            return Ok(Some(SnapPath::Missing));
        };
        let id = self.node(dir).id;
        if !self.is_snapshottable(id) {
            return Ok(None);
        }
        if self.checking(caller) {
            self.check_access(caller, &res, res.nodes.len() - 1, Access::EXECUTE)?;
        }
        let Some(&name) = comps.get(pos + 1) else {
            return Ok(Some(SnapPath::Dot(dir)));
        };
        let Some(snap) = self.snapshots.find(id, name) else {
            return Ok(Some(SnapPath::Missing));
        };
        let mut cur = 0usize;
        for (k, c) in comps[pos + 2..].iter().enumerate() {
            let n = &snap.nodes[cur];
            if !n.is_dir() {
                return Ok(Some(SnapPath::Missing));
            }
            let shown = path::join(&comps[..pos + 2 + k]);
            self.check_frozen(caller, n, &shown, Access::EXECUTE)?;
            let kids = n.children();
            let found = snap.nodes[kids.clone()]
                .binary_search_by(|x| x.name.as_ref().cmp(c.as_bytes()))
                .ok();
            match found {
                Some(j) => cur = kids.start + j,
                None => return Ok(Some(SnapPath::Missing)),
            }
        }
        Ok(Some(SnapPath::Node(snap, cur)))
    }

    fn check_frozen(
        &self,
        caller: &Caller,
        n: &FrozenNode,
        shown: &str,
        access: Access,
    ) -> Result<(), NamespaceError> {
        if !self.checking(caller) {
            return Ok(());
        }
        let (owner, group) = (self.strings.get(n.owner), self.strings.get(n.group));
        let bits = if caller.user == owner {
            (n.perm >> 6) & 7
        } else if caller.groups.iter().any(|g| g == group) {
            (n.perm >> 3) & 7
        } else {
            n.perm & 7
        } as u8;
        if bits & access.0 == access.0 {
            return Ok(());
        }
        Err(NamespaceError::AccessControl(format!(
            "Permission denied: user={}, access={}, inode=\"{shown}\":{owner}:{group}:{}",
            caller.user,
            access.name(),
            super::mode_string(n.is_dir(), n.perm)
        )))
    }

    fn frozen_status(&self, snap: &Snapshot, i: usize, name: Option<&[u8]>) -> FileStatus {
        let n = &snap.nodes[i];
        FileStatus {
            kind: if n.is_dir() {
                FileKind::Directory
            } else {
                FileKind::File
            },
            name: name.map(|x| x.to_vec()).unwrap_or_default(),
            length: n.blocks().iter().map(|b| b.num_bytes).sum(),
            replication: n.replication,
            block_size: n.block_size,
            mtime: n.mtime,
            atime: n.atime,
            permission: n.perm,
            owner: self.strings.get(n.owner).to_string(),
            group: self.strings.get(n.group).to_string(),
            inode_id: n.id,
            children_num: n.children().len() as u32,
            under_construction: false,
            has_acl: false,
            storage_policy: 0,
        }
    }

    /// A snapshot's root as listed under `.snapshot`: named after the snapshot.
    fn snapshot_root_status(&self, snap: &Snapshot, with_name: bool) -> FileStatus {
        let name = with_name.then_some(snap.name.as_bytes());
        self.frozen_status(snap, 0, name)
    }

    /// getFileInfo of a snapshot path: Some(answer) when `src` is one.
    pub(super) fn snapshot_file_info(
        &self,
        caller: &Caller,
        src: &str,
    ) -> Result<Option<Option<FileStatus>>, NamespaceError> {
        Ok(match self.resolve_snapshot_path(caller, src)? {
            None => None,
            Some(SnapPath::Missing) => Some(None),
            Some(SnapPath::Dot(dir)) => {
                // Hadoop answers a bare directory status for `.snapshot`.
                let mut st = self.status(dir, false);
                st.children_num = self.snapshots.dirs[&st.inode_id].len() as u32;
                st.mtime = 0;
                st.atime = 0;
                st.has_acl = false;
                Some(Some(st))
            }
            Some(SnapPath::Node(snap, 0)) => Some(Some(self.snapshot_root_status(snap, false))),
            Some(SnapPath::Node(snap, i)) => Some(Some(self.frozen_status(snap, i, None))),
        })
    }

    /// getListing of a snapshot path: Some(answer) when `src` is one.
    pub(super) fn snapshot_list(
        &self,
        caller: &Caller,
        src: &str,
        start_after: &[u8],
        limit: usize,
    ) -> Result<Option<(Vec<FileStatus>, u32)>, NamespaceError> {
        let missing = || NamespaceError::FileNotFound(format!("File {src} does not exist."));
        match self.resolve_snapshot_path(caller, src)? {
            None => Ok(None),
            Some(SnapPath::Missing) => Err(missing()),
            Some(SnapPath::Dot(dir)) => {
                let mut snaps: Vec<&Snapshot> =
                    self.snapshots.dirs[&self.node(dir).id].iter().collect();
                snaps.sort_by(|a, b| a.name.cmp(&b.name));
                let after: Vec<&Snapshot> = snaps
                    .into_iter()
                    .filter(|s| s.name.as_bytes() > start_after)
                    .collect();
                let end = limit.min(after.len());
                let out = after[..end]
                    .iter()
                    .map(|s| self.snapshot_root_status(s, true))
                    .collect();
                Ok(Some((out, (after.len() - end) as u32)))
            }
            Some(SnapPath::Node(snap, i)) => {
                let n = &snap.nodes[i];
                if !n.is_dir() {
                    return Ok(Some((vec![self.frozen_status(snap, i, None)], 0)));
                }
                self.check_frozen(caller, n, src, Access::READ_EXECUTE)?;
                let kids: Vec<usize> = n
                    .children()
                    .filter(|&k| snap.nodes[k].name.as_ref() > start_after)
                    .collect();
                let end = limit.min(kids.len());
                let out = kids[..end]
                    .iter()
                    .map(|&k| self.frozen_status(snap, k, Some(&snap.nodes[k].name)))
                    .collect();
                Ok(Some((out, (kids.len() - end) as u32)))
            }
        }
    }

    /// getBlockLocations' namespace half for a snapshot path: the file's status and
    /// its blocks as the snapshot froze them (their lengths bound what is read).
    pub(super) fn snapshot_blocks(
        &self,
        caller: &Caller,
        src: &str,
    ) -> Result<Option<(FileStatus, Vec<BlockInfo>)>, NamespaceError> {
        match self.resolve_snapshot_path(caller, src)? {
            None => Ok(None),
            Some(SnapPath::Missing) => Err(NamespaceError::FileNotFound(format!(
                "File does not exist: {src}"
            ))),
            Some(SnapPath::Dot(_)) => Err(NamespaceError::FileNotFound(format!(
                "Path is not a file: {src}"
            ))),
            Some(SnapPath::Node(snap, i)) => {
                let n = &snap.nodes[i];
                if n.is_dir() {
                    return Err(NamespaceError::FileNotFound(format!(
                        "Path is not a file: {src}"
                    )));
                }
                self.check_frozen(caller, n, src, Access::READ)?;
                Ok(Some((
                    self.frozen_status(snap, i, None),
                    n.blocks().to_vec(),
                )))
            }
        }
    }

    /// getContentSummary of a snapshot path.
    pub(super) fn snapshot_content_summary(
        &self,
        caller: &Caller,
        src: &str,
    ) -> Result<Option<ContentSummary>, NamespaceError> {
        let (snap, i) = match self.resolve_snapshot_path(caller, src)? {
            None => return Ok(None),
            Some(SnapPath::Node(snap, i)) => (snap, i),
            Some(_) => {
                return Err(NamespaceError::FileNotFound(format!(
                    "File does not exist: {src}"
                )))
            }
        };
        let mut sum = ContentSummary {
            length: 0,
            file_count: 0,
            directory_count: 0,
            quota: -1,
            space_consumed: 0,
            space_quota: -1,
            type_quotas: [-1; super::quota::STORAGE_TYPE_COUNT],
            // A snapshot's copy keeps no policies: no space by type.
            type_consumed: [0; super::quota::STORAGE_TYPE_COUNT],
        };
        let mut stack = vec![i];
        while let Some(k) = stack.pop() {
            let n = &snap.nodes[k];
            if n.is_dir() {
                sum.directory_count += 1;
                stack.extend(n.children());
            } else {
                let len: u64 = n.blocks().iter().map(|b| b.num_bytes).sum();
                sum.file_count += 1;
                sum.length += len;
                sum.space_consumed += len * u64::from(n.replication);
            }
        }
        Ok(Some(sum))
    }

    /// getSnapshottableDirListing: every snapshottable directory (all of them for the
    /// superuser, the caller's own otherwise, as Hadoop).
    pub fn snapshottable_dirs(&self, caller: &Caller) -> Vec<SnapshottableDir> {
        let limit = self.config.snapshot_max_limit;
        let mut out = Vec::new();
        for (id, snaps) in &self.snapshots.dirs {
            let Some(slot) = self.index.get(*id, &self.slab) else {
                continue;
            };
            let n = self.node(slot);
            if !caller.is_superuser && self.owner_name(n) != caller.user {
                continue;
            }
            out.push(SnapshottableDir {
                status: self.status(slot, true),
                path: self.path_of_slot(slot),
                snapshot_count: snaps.len() as u32,
                snapshot_limit: limit,
            });
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    /// Blocks only snapshots keep: (file inode id, replication, block), for the block
    /// manager at startup.
    pub fn snapshot_only_blocks(&self) -> Vec<(u64, u16, BlockInfo)> {
        self.snapshots
            .released
            .values()
            .filter_map(|b| {
                let h = self.snapshots.held.get(&b.block_id)?;
                Some((h.inode_id, h.replication, *b))
            })
            .collect()
    }

    /// Snapshots in all and frozen inodes in all, and their heap bytes (an estimate:
    /// the records, names and block lists).
    pub fn snapshot_memory(&self) -> (u64, u64, u64) {
        let (mut snaps, mut nodes, mut bytes) = (0u64, 0u64, 0usize);
        for s in self.snapshots.dirs.values().flatten() {
            snaps += 1;
            nodes += s.nodes.len() as u64;
            bytes += std::mem::size_of::<Snapshot>() + s.name.len();
            bytes += s.nodes.capacity() * std::mem::size_of::<FrozenNode>();
            for n in &s.nodes {
                bytes += n.name.len() + std::mem::size_of_val(n.blocks());
            }
        }
        bytes += self.snapshots.held.capacity() * (std::mem::size_of::<(u64, Held)>() + 1);
        (snaps, nodes, bytes as u64)
    }

    // ---- the fsimage ----

    pub(super) fn save_snapshots(&self, header: &mut pb::ImageHeader) {
        header.last_snapshot_id = self.snapshots.last_snapshot_id;
        header.snapshottable_dirs = self
            .snapshots
            .dirs
            .iter()
            .map(|(id, snaps)| pb::ImageSnapshottableDir {
                inode_id: *id,
                snapshots: snaps.iter().map(image_snapshot).collect(),
            })
            .collect();
        let mut released: Vec<BlockInfo> = self.snapshots.released.values().copied().collect();
        released.sort_by_key(|b| b.block_id);
        header.snapshot_only_blocks = to_pb_blocks(&released);
    }

    pub(super) fn load_snapshots(&mut self, header: &pb::ImageHeader) -> Result<(), ImageError> {
        let invalid = |m: String| ImageError::Invalid(m);
        let strings = self.strings.len() as u32;
        for d in &header.snapshottable_dirs {
            let Some(slot) = self.index.get(d.inode_id, &self.slab) else {
                return Err(invalid(format!(
                    "snapshottable inode {} is missing",
                    d.inode_id
                )));
            };
            if !self.node(slot).is_dir() {
                return Err(invalid(format!(
                    "snapshottable inode {} is a file",
                    d.inode_id
                )));
            }
            let mut snaps = Vec::with_capacity(d.snapshots.len().min(1 << 16));
            for s in &d.snapshots {
                if snaps.iter().any(|x: &Snapshot| x.name == s.name) {
                    return Err(invalid(format!("snapshot {} appears twice", s.name)));
                }
                let snap = load_snapshot(s, strings)?;
                for n in &snap.nodes {
                    self.note_blocks(n.blocks());
                }
                snaps.push(snap);
            }
            for s in &snaps {
                self.snapshots.hold(s);
            }
            self.snapshots.dirs.insert(d.inode_id, snaps);
        }
        self.snapshots.last_snapshot_id = header.last_snapshot_id;
        for b in from_pb_blocks(&header.snapshot_only_blocks) {
            if !self.snapshots.held.contains_key(&b.block_id) {
                return Err(invalid(format!(
                    "snapshot-only block {} is in no snapshot",
                    b.block_id
                )));
            }
            self.note_blocks([&b]);
            self.snapshots.released.insert(b.block_id, b);
        }
        Ok(())
    }
}

fn image_snapshot(s: &Snapshot) -> pb::ImageSnapshot {
    // Parent ids are node indexes + 1 here (0: none), since inode ids may repeat
    // nowhere in one snapshot but indexes are what the loader needs.
    let mut parent = vec![0u64; s.nodes.len()];
    for (i, n) in s.nodes.iter().enumerate() {
        for k in n.children() {
            parent[k] = i as u64 + 1;
        }
    }
    pb::ImageSnapshot {
        id: s.id,
        name: s.name.clone(),
        ctime: s.ctime,
        nodes: s
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| pb::ImageInode {
                id: n.id,
                parent_id: parent[i],
                name: Bytes::copy_from_slice(&n.name),
                is_dir: n.is_dir(),
                perm: u32::from(n.perm),
                owner: n.owner,
                group: n.group,
                mtime: n.mtime,
                atime: n.atime,
                replication: u32::from(n.replication),
                block_size: n.block_size,
                blocks: to_pb_blocks(n.blocks()),
                child_count: n.children().len() as u32,
                ..Default::default()
            })
            .collect(),
    }
}

/// Rebuilds a snapshot from its records, checking the shape the copy has: breadth
/// first, each directory's children contiguous and sorted.
fn load_snapshot(s: &pb::ImageSnapshot, strings: u32) -> Result<Snapshot, ImageError> {
    let invalid = |m: String| ImageError::Invalid(format!("snapshot {}: {m}", s.name));
    if s.nodes.is_empty() || s.nodes[0].parent_id != 0 || !s.nodes[0].is_dir {
        return Err(invalid("no root directory record".into()));
    }
    let mut nodes: Vec<FrozenNode> = Vec::with_capacity(s.nodes.len());
    for (i, r) in s.nodes.iter().enumerate() {
        if r.owner >= strings || r.group >= strings {
            return Err(invalid(format!(
                "record {i} names an unknown owner or group"
            )));
        }
        let (Ok(perm), Ok(replication)) = (u16::try_from(r.perm), u16::try_from(r.replication))
        else {
            return Err(invalid(format!(
                "record {i} has a bad permission or replication"
            )));
        };
        if i > 0 {
            let p = r.parent_id as usize;
            if p == 0 || p > i || !nodes[p - 1].is_dir() {
                return Err(invalid(format!("record {i} has a bad parent")));
            }
            let parent = &mut nodes[p - 1];
            let FrozenBody::Dir { first, count } = &mut parent.body else {
                unreachable!("checked to be a directory");
            };
            if *count == 0 {
                *first = i as u32;
            } else if *first as usize + *count as usize != i {
                return Err(invalid(format!("record {i} is out of order")));
            }
            *count += 1;
            if *count > 1 && nodes[i - 1].name.as_ref() >= r.name.as_ref() {
                return Err(invalid(format!("record {i}'s name is out of order")));
            }
        }
        nodes.push(FrozenNode {
            id: r.id,
            name: r.name.as_ref().into(),
            perm,
            owner: r.owner,
            group: r.group,
            mtime: r.mtime,
            atime: r.atime,
            replication,
            block_size: r.block_size,
            body: if r.is_dir {
                FrozenBody::Dir { first: 0, count: 0 }
            } else {
                FrozenBody::File(from_pb_blocks(&r.blocks).into())
            },
        });
    }
    Ok(Snapshot {
        id: s.id,
        name: s.name.clone(),
        ctime: s.ctime,
        nodes,
    })
}

/// One line of a snapshot diff report (Hadoop's DiffReportEntry): paths relative to the
/// snapshot root, "" for the root itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffEntry {
    pub kind: DiffKind,
    pub path: Vec<u8>,
    /// A rename's new path.
    pub target: Option<Vec<u8>>,
    /// The directory the entry belongs to (getSnapshotDiffReportListing's dirId): a
    /// modified directory's own id, else its parent's in the `from` tree.
    pub dir_id: u64,
    /// The inode's id (the listing's fileId; the client pairs renames by it).
    pub inode_id: u64,
}

impl DiffEntry {
    /// Whether Hadoop's client looks this entry up (the listing's isReference): a
    /// modified directory (its children's changes hang off it) or a renamed inode.
    pub fn is_reference(&self) -> bool {
        match self.kind {
            DiffKind::Modify => self.dir_id == self.inode_id,
            DiffKind::Rename => true,
            DiffKind::Create | DiffKind::Delete => false,
        }
    }
}

/// Hadoop's SnapshotDiffReport.DiffType, by its wire label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffKind {
    Create,
    Modify,
    Delete,
    Rename,
}

impl DiffKind {
    /// The label on the wire (SnapshotDiffReportEntryProto.modificationLabel): Hadoop's
    /// client maps "+", "M", "-" and "R" back to the type and drops any other entry.
    pub fn label(self) -> &'static str {
        match self {
            DiffKind::Create => "+",
            DiffKind::Modify => "M",
            DiffKind::Delete => "-",
            DiffKind::Rename => "R",
        }
    }
}

/// Where a diff page starts (SnapshotDiffReportCursorProto): the entry's path and index.
pub type DiffCursor<'a> = (&'a [u8], i32);

/// One page of a diff for getSnapshotDiffReportListing: at most `limit` entries from
/// the cursor (the index of the next entry and its path; absent, or an empty path with
/// index -1, for the first page), and the cursor of the page after, None after the
/// last. The path must match the entry at the index, so a diff that changed between
/// pages (the live tree changed, a snapshot was replaced) is refused rather than
/// silently skipping or repeating entries; the error completes "The snapshot diff …".
pub fn diff_page<'e>(
    entries: &'e [DiffEntry],
    cursor: Option<DiffCursor<'_>>,
    limit: usize,
) -> Result<(&'e [DiffEntry], Option<DiffCursor<'e>>), String> {
    let start = match cursor {
        None | Some((b"", -1)) => 0,
        Some((path, index)) => usize::try_from(index)
            .ok()
            .filter(|&i| i > 0 && i < entries.len() && entries[i].path == path)
            .ok_or_else(|| {
                format!(
                    "changed between pages: no entry {} at index {index}; ask for the \
                     report again",
                    String::from_utf8_lossy(path)
                )
            })?,
    };
    let end = entries.len().min(start.saturating_add(limit.max(1)));
    let next = match entries.get(end) {
        None => None,
        Some(e) => {
            // The cursor's index is an int32 on the wire.
            let index =
                i32::try_from(end).map_err(|_| format!("has more than {} entries", i32::MAX))?;
            Some((e.path.as_slice(), index))
        }
    };
    Ok((&entries[start..end], next))
}

/// A tree to compare: a snapshot's copy, or the live subtree copied for the call.
struct DiffTree<'a> {
    nodes: &'a [FrozenNode],
    /// inode id → (node index, path relative to the root).
    by_id: HashMap<u64, (usize, Vec<u8>)>,
}

impl<'a> DiffTree<'a> {
    fn new(nodes: &'a [FrozenNode]) -> DiffTree<'a> {
        let mut by_id = HashMap::with_capacity(nodes.len());
        let mut stack = vec![(0usize, Vec::new())];
        while let Some((i, p)) = stack.pop() {
            for k in nodes[i].children() {
                let mut cp = p.clone();
                if !cp.is_empty() {
                    cp.push(b'/');
                }
                cp.extend_from_slice(&nodes[k].name);
                stack.push((k, cp));
            }
            by_id.insert(nodes[i].id, (i, p));
        }
        DiffTree { nodes, by_id }
    }

    fn parent_of(&self, id: u64) -> Option<u64> {
        let (i, _) = self.by_id.get(&id)?;
        self.nodes
            .iter()
            .find(|n| n.children().contains(i))
            .map(|n| n.id)
    }
}

fn metadata_equal(a: &FrozenNode, b: &FrozenNode) -> bool {
    a.perm == b.perm && a.owner == b.owner && a.group == b.group
}

fn file_changed(a: &FrozenNode, b: &FrozenNode) -> bool {
    !metadata_equal(a, b) || a.replication != b.replication || a.blocks() != b.blocks()
}

/// The changes from `from` to `to` as HDFS reports them: for each directory of `from`
/// (walked depth first, following renamed inodes) whose children or attributes
/// changed, MODIFY for it, CREATE for each new child, DELETE for each removed one — or
/// RENAME (old path -> new path) when the removed inode is elsewhere in `to`; MODIFY for
/// each file whose content or attributes changed. Inodes are matched by id, so an
/// overwrite (a new inode under the old name) is a DELETE and a CREATE.
fn diff_trees(from: &[FrozenNode], to: &[FrozenNode]) -> Vec<DiffEntry> {
    let (a, b) = (DiffTree::new(from), DiffTree::new(to));
    let mut out = Vec::new();
    // (node index, path, parent's inode id)
    let mut stack = vec![(0usize, Vec::new(), 0u64)];
    while let Some((i, p, parent)) = stack.pop() {
        let n = &from[i];
        let Some((j, _)) = b.by_id.get(&n.id) else {
            continue;
        };
        let m = &to[*j];
        if n.is_dir() != m.is_dir() {
            continue;
        }
        if !n.is_dir() {
            if file_changed(n, m) {
                out.push(DiffEntry {
                    kind: DiffKind::Modify,
                    path: p,
                    target: None,
                    dir_id: parent,
                    inode_id: n.id,
                });
            }
            continue;
        }
        let join = |name: &[u8]| {
            let mut cp = p.clone();
            if !cp.is_empty() {
                cp.push(b'/');
            }
            cp.extend_from_slice(name);
            cp
        };
        let kept = |x: &FrozenNode, y: &FrozenNode| x.id == y.id && x.name == y.name;
        let created: Vec<&FrozenNode> = m
            .children()
            .map(|k| &to[k])
            .filter(|c| !n.children().any(|k| kept(&from[k], c)))
            .collect();
        let deleted: Vec<&FrozenNode> = n
            .children()
            .map(|k| &from[k])
            .filter(|c| !m.children().any(|k| kept(c, &to[k])))
            .collect();
        if !created.is_empty() || !deleted.is_empty() || !metadata_equal(n, m) {
            out.push(DiffEntry {
                kind: DiffKind::Modify,
                path: p.clone(),
                target: None,
                dir_id: n.id,
                inode_id: n.id,
            });
            for c in &created {
                // A rename's target is reported with its source.
                if a.by_id.contains_key(&c.id) {
                    continue;
                }
                out.push(DiffEntry {
                    kind: DiffKind::Create,
                    path: join(&c.name),
                    target: None,
                    dir_id: n.id,
                    inode_id: c.id,
                });
            }
            for d in &deleted {
                let entry = match b.by_id.get(&d.id) {
                    Some((_, target)) => DiffEntry {
                        kind: DiffKind::Rename,
                        path: join(&d.name),
                        target: Some(target.clone()),
                        dir_id: n.id,
                        inode_id: d.id,
                    },
                    None => DiffEntry {
                        kind: DiffKind::Delete,
                        path: join(&d.name),
                        target: None,
                        dir_id: n.id,
                        inode_id: d.id,
                    },
                };
                out.push(entry);
            }
        }
        // Depth first in name order; renamed children are followed (their changes are
        // reported under the old path, as HDFS does), deleted ones are not.
        for k in n.children().rev() {
            let c = &from[k];
            if b.by_id.contains_key(&c.id) && (c.is_dir() || b.parent_of(c.id).is_some()) {
                stack.push((k, join(&c.name), n.id));
            }
        }
    }
    out
}

impl Namespace {
    /// The snapshottable directory `src`, which the caller may read (the diff and
    /// listing calls).
    fn readable_snapshot_root(
        &self,
        caller: &Caller,
        src: &str,
    ) -> Result<(u32, String), NamespaceError> {
        let res = self.resolve(caller, src, DirOp::Other)?;
        let p = res.path();
        let Some(slot) = res.last() else {
            return Err(NamespaceError::FileNotFound(format!(
                "Directory does not exist: {p}"
            )));
        };
        if !self.node(slot).is_dir() || !self.is_snapshottable(self.node(slot).id) {
            return Err(snapshot_err(format!(
                "Directory is not a snapshottable directory: {p}"
            )));
        }
        self.check_permission(caller, &res, None, None, Some(Access::READ), None)?;
        Ok((slot, p))
    }

    /// getSnapshotListing (`hdfs lsSnapshot`): the directory's full path and its
    /// snapshots, oldest first, each as (id, the snapshot root's status named after
    /// the snapshot).
    pub fn snapshot_listing(
        &self,
        caller: &Caller,
        src: &str,
    ) -> Result<(String, Vec<(u32, FileStatus)>), NamespaceError> {
        let (slot, p) = self.readable_snapshot_root(caller, src)?;
        let id = self.node(slot).id;
        let snaps = self
            .snapshots
            .dirs
            .get(&id)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let listing = snaps
            .iter()
            .map(|s| (s.id, self.snapshot_root_status(s, true)))
            .collect();
        Ok((p, listing))
    }

    /// getSnapshotDiffReport: the changes from snapshot `from` to snapshot `to` of the
    /// snapshottable directory `src` ("" names the live tree).
    pub fn snapshot_diff(
        &self,
        caller: &Caller,
        src: &str,
        from: &str,
        to: &str,
    ) -> Result<(String, Vec<DiffEntry>), NamespaceError> {
        let (slot, p) = self.readable_snapshot_root(caller, src)?;
        let id = self.node(slot).id;
        // The live tree, copied for the call when one side names it.
        let live = if from.is_empty() || to.is_empty() {
            self.freeze(slot)
        } else {
            Vec::new()
        };
        let tree = |name: &str| -> Result<&[FrozenNode], NamespaceError> {
            if name.is_empty() {
                return Ok(&live);
            }
            match self.snapshots.find(id, name) {
                Some(s) => Ok(&s.nodes),
                None => Err(snapshot_err(format!(
                    "Cannot find the snapshot of directory {p} with name {name}"
                ))),
            }
        };
        let (a, b) = (tree(from)?, tree(to)?);
        if from == to {
            return Ok((p.clone(), Vec::new()));
        }
        Ok((p.clone(), diff_trees(a, b)))
    }
}
