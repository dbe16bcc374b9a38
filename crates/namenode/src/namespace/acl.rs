//! POSIX ACLs on inodes, after HDFS: the transformations of an ACL by an ACL spec
//! (Hadoop's AclTransformation), how an ACL is split between the permission bits and
//! the inode's ACL feature (AclStorage), the ACL calls (FSDirAclOp), inheritance of a
//! parent's default ACL, and the ACL branch of the permission check
//! (FSPermissionChecker).
//!
//! Storage, as in HDFS: the owner and other entries of the access ACL are the owner
//! and other permission bits, and the group bits hold the mask (or the group entry of
//! a minimal ACL), so chmod changes the mask as POSIX wants. The rest — the owning
//! group's entry and the named entries of the access ACL, then the whole default ACL —
//! is the inode's *ACL feature*, kept out of line in [`AclTable`] keyed by inode id: an
//! inode without an ACL costs nothing. Identical features are stored once and shared
//! (HDFS's AclStorage interns them in a ReferenceCountMap): a tree whose inodes
//! inherited one default ACL holds one copy of it.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use hafs_proto::hafs::{self as pb, edit_op::Op};

use super::error::NamespaceError;
use super::inode::{alloc_size, Inode, NO_SLOT};
use super::permission::{mode_string, Access, Caller};
use super::{DirOp, EditOp, Namespace};

/// Hadoop's AclTransformation.MAX_ENTRIES: the most entries an ACL (access and
/// default together) or an ACL spec may have.
pub const MAX_ENTRIES: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AclScope {
    Access = 0,
    Default = 1,
}

/// Sorts as Hadoop's comparator wants: user, group, mask, other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AclType {
    User = 0,
    Group = 1,
    Mask = 2,
    Other = 3,
}

impl AclScope {
    pub fn from_u32(v: u32) -> Option<AclScope> {
        match v {
            0 => Some(AclScope::Access),
            1 => Some(AclScope::Default),
            _ => None,
        }
    }
}

impl AclType {
    pub fn from_u32(v: u32) -> Option<AclType> {
        match v {
            0 => Some(AclType::User),
            1 => Some(AclType::Group),
            2 => Some(AclType::Mask),
            3 => Some(AclType::Other),
            _ => None,
        }
    }

    fn word(self) -> &'static str {
        match self {
            AclType::User => "user",
            AclType::Group => "group",
            AclType::Mask => "mask",
            AclType::Other => "other",
        }
    }
}

/// One ACL entry (Hadoop's AclEntry); `name` is None for the owner, owning group, mask
/// and other entries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AclEntry {
    pub scope: AclScope,
    pub kind: AclType,
    pub name: Option<String>,
    /// rwx bits (FsAction).
    pub perm: u8,
}

impl AclEntry {
    pub fn new(scope: AclScope, kind: AclType, name: Option<&str>, perm: u8) -> AclEntry {
        AclEntry {
            scope,
            kind,
            name: name.map(str::to_string),
            perm: perm & 7,
        }
    }

    fn unnamed(scope: AclScope, kind: AclType, perm: u8) -> AclEntry {
        AclEntry::new(scope, kind, None, perm)
    }

    /// Hadoop's entry order: access before default, then user, group, mask, other,
    /// then by name with the unnamed entry first. Permissions do not take part: two
    /// entries that compare equal have the same key.
    fn cmp_key(&self, other: &AclEntry) -> Ordering {
        (self.scope, self.kind, self.name.as_deref()).cmp(&(
            other.scope,
            other.kind,
            other.name.as_deref(),
        ))
    }
}

/// Hadoop's AclEntry text: `[default:]type:[name]:rwx`.
impl fmt::Display for AclEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scope == AclScope::Default {
            f.write_str("default:")?;
        }
        let p = self.perm;
        write!(
            f,
            "{}:{}:{}{}{}",
            self.kind.word(),
            self.name.as_deref().unwrap_or(""),
            if p & 4 != 0 { 'r' } else { '-' },
            if p & 2 != 0 { 'w' } else { '-' },
            if p & 1 != 0 { 'x' } else { '-' },
        )
    }
}

fn invalid(msg: impl Into<String>) -> NamespaceError {
    NamespaceError::Acl(msg.into())
}

fn sort(entries: &mut [AclEntry]) {
    entries.sort_by(AclEntry::cmp_key);
}

fn find(sorted: &[AclEntry], key: &AclEntry) -> Option<usize> {
    sorted.binary_search_by(|e| e.cmp_key(key)).ok()
}

fn has_unnamed(sorted: &[AclEntry], scope: AclScope, kind: AclType) -> Option<usize> {
    find(sorted, &AclEntry::unnamed(scope, kind, 0))
}

/// An ACL spec from a client: bounded, then sorted (it is untrusted input).
fn validated_spec(mut spec: Vec<AclEntry>) -> Result<Vec<AclEntry>, NamespaceError> {
    if spec.len() > MAX_ENTRIES {
        return Err(invalid(format!(
            "Invalid ACL: ACL spec has {} entries, which exceeds maximum of {MAX_ENTRIES}.",
            spec.len()
        )));
    }
    sort(&mut spec);
    Ok(spec)
}

/// Per-scope bookkeeping of a transformation: the mask entry to keep (if one was
/// given or existed), whether the mask was touched, whether anything in the scope was.
#[derive(Default)]
struct MaskState {
    provided: [Option<AclEntry>; 2],
    mask_dirty: [bool; 2],
    scope_dirty: [bool; 2],
}

impl MaskState {
    fn provide(&mut self, e: AclEntry, dirty: bool) {
        let s = e.scope as usize;
        if dirty {
            self.mask_dirty[s] = true;
        }
        self.provided[s] = Some(e);
    }
}

/// modifyAclEntries: the spec's entries replace existing ones with the same key and
/// the rest are added.
pub fn merge_entries(
    existing: &[AclEntry],
    spec: Vec<AclEntry>,
) -> Result<Vec<AclEntry>, NamespaceError> {
    let spec = validated_spec(spec)?;
    let mut out = Vec::with_capacity(existing.len() + spec.len());
    let mut st = MaskState::default();
    for e in existing {
        match find(&spec, e) {
            Some(i) => {
                let s = &spec[i];
                st.scope_dirty[s.scope as usize] = true;
                if s.kind == AclType::Mask {
                    st.provide(s.clone(), true);
                } else {
                    out.push(s.clone());
                }
            }
            None if e.kind == AclType::Mask => st.provide(e.clone(), false),
            None => out.push(e.clone()),
        }
    }
    for s in &spec {
        // An entry whose key matched an existing one was used above (so is every
        // repeat of that key in the spec).
        if existing.iter().any(|e| e.cmp_key(s).is_eq()) {
            continue;
        }
        st.scope_dirty[s.scope as usize] = true;
        if s.kind == AclType::Mask {
            st.provide(s.clone(), true);
        } else {
            out.push(s.clone());
        }
    }
    copy_defaults_if_needed(&mut out);
    calculate_masks(&mut out, st)?;
    build_and_validate(out)
}

/// removeAclEntries: existing entries with a key in the spec are dropped.
pub fn filter_entries_by_spec(
    existing: &[AclEntry],
    spec: Vec<AclEntry>,
) -> Result<Vec<AclEntry>, NamespaceError> {
    let spec = validated_spec(spec)?;
    let mut out = Vec::with_capacity(existing.len());
    let mut st = MaskState::default();
    for e in existing {
        if find(&spec, e).is_some() {
            st.scope_dirty[e.scope as usize] = true;
            if e.kind == AclType::Mask {
                st.mask_dirty[e.scope as usize] = true;
            }
        } else if e.kind == AclType::Mask {
            st.provide(e.clone(), false);
        } else {
            out.push(e.clone());
        }
    }
    copy_defaults_if_needed(&mut out);
    calculate_masks(&mut out, st)?;
    build_and_validate(out)
}

/// removeDefaultAcl: only the access entries stay.
pub fn filter_default_entries(existing: &[AclEntry]) -> Result<Vec<AclEntry>, NamespaceError> {
    let out = existing
        .iter()
        .take_while(|e| e.scope == AclScope::Access)
        .cloned()
        .collect();
    build_and_validate(out)
}

/// setAcl: each scope the spec names is replaced whole; a scope it does not name is
/// kept.
pub fn replace_entries(
    existing: &[AclEntry],
    spec: Vec<AclEntry>,
) -> Result<Vec<AclEntry>, NamespaceError> {
    let spec = validated_spec(spec)?;
    let mut out = Vec::with_capacity(existing.len() + spec.len());
    let mut st = MaskState::default();
    for s in spec {
        st.scope_dirty[s.scope as usize] = true;
        if s.kind == AclType::Mask {
            st.provide(s, true);
        } else {
            out.push(s);
        }
    }
    for e in existing {
        if !st.scope_dirty[e.scope as usize] {
            if e.kind == AclType::Mask {
                st.provide(e.clone(), false);
            } else {
                out.push(e.clone());
            }
        }
    }
    copy_defaults_if_needed(&mut out);
    calculate_masks(&mut out, st)?;
    build_and_validate(out)
}

/// A default ACL missing its owner, group or other entry gets a copy of the access
/// ACL's.
fn copy_defaults_if_needed(entries: &mut Vec<AclEntry>) {
    sort(entries);
    let Some(pivot) = entries.iter().position(|e| e.scope == AclScope::Default) else {
        return;
    };
    let mut copied = Vec::with_capacity(3);
    for kind in [AclType::User, AclType::Group, AclType::Other] {
        if has_unnamed(&entries[pivot..], AclScope::Default, kind).is_none() {
            if let Some(i) = has_unnamed(&entries[..pivot], AclScope::Access, kind) {
                copied.push(AclEntry::unnamed(AclScope::Default, kind, entries[i].perm));
            }
        }
    }
    entries.extend(copied);
}

/// Adds the mask of each scope that needs or keeps one: a mask given in the spec (or
/// kept from the old ACL when nothing in its scope changed), else — when the scope
/// has named entries — the union of the group class's permissions. Removing the mask
/// of a scope that needs one is refused.
fn calculate_masks(entries: &mut Vec<AclEntry>, st: MaskState) -> Result<(), NamespaceError> {
    let mut found = [false; 2];
    let mut union = [0u8; 2];
    let mut needed = [false; 2];
    for e in entries.iter() {
        let s = e.scope as usize;
        found[s] = true;
        if e.kind == AclType::Group || e.name.is_some() {
            union[s] |= e.perm;
        }
        if e.name.is_some() {
            needed[s] = true;
        }
    }
    let MaskState {
        mut provided,
        mask_dirty,
        scope_dirty,
    } = st;
    for (s, scope) in [AclScope::Access, AclScope::Default]
        .into_iter()
        .enumerate()
    {
        if !found[s] {
            continue;
        }
        if provided[s].is_none() && needed[s] && mask_dirty[s] {
            return Err(invalid(
                "Invalid ACL: mask is required, but it was deleted.",
            ));
        } else if provided[s].is_some() && (!scope_dirty[s] || mask_dirty[s]) {
            entries.extend(provided[s].take());
        } else if needed[s] {
            entries.push(AclEntry::unnamed(scope, AclType::Mask, union[s]));
        }
    }
    Ok(())
}

/// Sorts and validates a transformed ACL: at most MAX_ENTRIES, no repeated key, no
/// named mask or other, and the owner, group and other entries in each scope present.
fn build_and_validate(mut entries: Vec<AclEntry>) -> Result<Vec<AclEntry>, NamespaceError> {
    if entries.len() > MAX_ENTRIES {
        return Err(invalid(format!(
            "Invalid ACL: ACL has {} entries, which exceeds maximum of {MAX_ENTRIES}.",
            entries.len()
        )));
    }
    sort(&mut entries);
    for (i, e) in entries.iter().enumerate() {
        if i > 0 && entries[i - 1].cmp_key(e).is_eq() {
            return Err(invalid(
                "Invalid ACL: multiple entries with same scope, type and name.",
            ));
        }
        if e.name.is_some() && matches!(e.kind, AclType::Mask | AclType::Other) {
            return Err(invalid(format!(
                "Invalid ACL: this entry type must not have a name: {e}."
            )));
        }
    }
    let has_default = entries.iter().any(|e| e.scope == AclScope::Default);
    for kind in [AclType::User, AclType::Group, AclType::Other] {
        if has_unnamed(&entries, AclScope::Access, kind).is_none() {
            return Err(invalid(
                "Invalid ACL: the user, group and other entries are required.",
            ));
        }
        if has_default && has_unnamed(&entries, AclScope::Default, kind).is_none() {
            return Err(invalid(
                "Invalid default ACL: the user, group and other entries are required.",
            ));
        }
    }
    Ok(entries)
}

/// The three entries every inode logically has (owner, group, other from its bits).
fn minimal_acl(perm: u16) -> Vec<AclEntry> {
    vec![
        AclEntry::unnamed(AclScope::Access, AclType::User, (perm >> 6) as u8 & 7),
        AclEntry::unnamed(AclScope::Access, AclType::Group, (perm >> 3) as u8 & 7),
        AclEntry::unnamed(AclScope::Access, AclType::Other, perm as u8 & 7),
    ]
}

/// The permission bits for a sorted access ACL (owner first, other last, and before
/// other the mask — or the group entry of a minimal ACL), the sticky bit kept from
/// `old`.
fn perm_for_access(access: &[&AclEntry], old: u16) -> u16 {
    let n = access.len();
    (u16::from(access[0].perm) << 6)
        | (u16::from(access[n - 2].perm) << 3)
        | u16::from(access[n - 1].perm)
        | (old & 0o1000)
}

// ---- storage ----

/// Marks an unnamed stored entry.
const NO_NAME: u32 = u32::MAX;

/// One entry of an ACL feature as kept in memory: 8 bytes, the name an index into
/// the namespace's string table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StoredEntry {
    name: u32,
    scope: AclScope,
    kind: AclType,
    perm: u8,
}

/// The ACL features of all inodes, by inode id, with identical features shared.
#[derive(Debug, Clone, Default)]
pub struct AclTable {
    by_inode: HashMap<u64, Arc<[StoredEntry]>>,
    /// Each distinct feature and how many inodes use it.
    shared: HashMap<Arc<[StoredEntry]>, usize>,
}

impl AclTable {
    pub fn get(&self, inode_id: u64) -> Option<&[StoredEntry]> {
        if self.by_inode.is_empty() {
            return None;
        }
        self.by_inode.get(&inode_id).map(|a| &a[..])
    }

    fn set(&mut self, inode_id: u64, entries: Vec<StoredEntry>) {
        self.remove(inode_id);
        let feature: Arc<[StoredEntry]> = entries.into();
        let feature = match self.shared.get_key_value(&feature) {
            Some((k, _)) => k.clone(),
            None => feature,
        };
        *self.shared.entry(feature.clone()).or_insert(0) += 1;
        self.by_inode.insert(inode_id, feature);
    }

    pub fn remove(&mut self, inode_id: u64) {
        let Some(feature) = self.by_inode.remove(&inode_id) else {
            return;
        };
        if let Some(n) = self.shared.get_mut(&feature) {
            *n -= 1;
            if *n == 0 {
                self.shared.remove(&feature);
            }
        }
    }

    /// Inodes with an ACL.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.by_inode.len()
    }

    /// Distinct features stored.
    #[cfg(test)]
    pub fn distinct(&self) -> usize {
        self.shared.len()
    }

    /// Heap bytes: both maps (hashbrown, one control byte per bucket) and each
    /// distinct feature once (an Arc's two counts plus its entries).
    pub fn heap_bytes(&self) -> usize {
        let map = |cap: usize, entry: usize| {
            if cap == 0 {
                0
            } else {
                alloc_size((cap * 8 / 7).next_power_of_two() * (entry + 1) + 16)
            }
        };
        let mut total = map(
            self.by_inode.capacity(),
            std::mem::size_of::<(u64, Arc<[StoredEntry]>)>(),
        );
        total += map(
            self.shared.capacity(),
            std::mem::size_of::<(Arc<[StoredEntry]>, usize)>(),
        );
        for f in self.shared.keys() {
            total += alloc_size(16 + f.len() * std::mem::size_of::<StoredEntry>());
        }
        total
    }
}

/// getAclStatus' answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclStatus {
    pub owner: String,
    pub group: String,
    pub sticky: bool,
    /// The ACL feature's entries (the owner, mask and other entries are in
    /// `permission`), sorted.
    pub entries: Vec<AclEntry>,
    /// Permission bits, the mask as the group bits.
    pub permission: u16,
}

/// Entries of an edit op or image record, checked (a corrupt log or image must not
/// build a feature the checks and transformations cannot read).
pub(super) fn entries_from_pb(
    entries: &[pb::AclEntry],
    what: &str,
) -> Result<Vec<AclEntry>, String> {
    if entries.len() > 2 * MAX_ENTRIES {
        return Err(format!("{what}: {} ACL entries", entries.len()));
    }
    entries
        .iter()
        .map(|e| {
            let scope = AclScope::from_u32(e.scope);
            let kind = AclType::from_u32(e.r#type);
            match (scope, kind) {
                (Some(scope), Some(kind)) if e.perm <= 7 => Ok(AclEntry::new(
                    scope,
                    kind,
                    (!e.name.is_empty()).then_some(e.name.as_str()),
                    e.perm as u8,
                )),
                _ => Err(format!(
                    "{what}: bad ACL entry (scope {}, type {}, perm {})",
                    e.scope, e.r#type, e.perm
                )),
            }
        })
        .collect()
}

pub(super) fn entries_to_pb(entries: &[AclEntry]) -> Vec<pb::AclEntry> {
    entries
        .iter()
        .map(|e| pb::AclEntry {
            scope: e.scope as u32,
            r#type: e.kind as u32,
            perm: u32::from(e.perm),
            name: e.name.clone().unwrap_or_default(),
        })
        .collect()
}

/// Checks an ACL feature read from an image: sorted with no repeated key, names only
/// on user and group entries, the access part only the owning group and named
/// entries, a default part only on a directory and then complete.
pub(super) fn check_feature(
    entries: Vec<AclEntry>,
    is_dir: bool,
    what: &str,
) -> Result<Vec<AclEntry>, String> {
    let bad = |why: &str| Err(format!("{what}: ACL {why}"));
    if entries.is_empty() {
        return bad("without entries");
    }
    if !entries.windows(2).all(|w| w[0].cmp_key(&w[1]).is_lt()) {
        return bad("entries out of order or repeated");
    }
    for e in &entries {
        let named_ok = matches!(e.kind, AclType::User | AclType::Group) || e.name.is_none();
        let access_ok = e.scope == AclScope::Default
            || e.kind == AclType::Group
            || (e.kind == AclType::User && e.name.is_some());
        if !named_ok || !access_ok {
            return bad(&format!("entry {e} cannot be stored"));
        }
    }
    let defaults = entries
        .iter()
        .filter(|e| e.scope == AclScope::Default)
        .count();
    if defaults > 0 {
        if !is_dir {
            return bad("default entries on a file");
        }
        if build_and_validate(
            minimal_acl(0)
                .into_iter()
                .chain(
                    entries
                        .iter()
                        .filter(|e| e.scope == AclScope::Default)
                        .cloned(),
                )
                .collect(),
        )
        .is_err()
        {
            return bad("default part incomplete");
        }
    }
    Ok(entries)
}

impl Namespace {
    /// An ACL feature from an image (checked by `check_feature`).
    pub(super) fn load_acl_feature(&mut self, inode_id: u64, entries: &[AclEntry]) {
        let stored = self.store_entries(entries.iter());
        self.acls.set(inode_id, stored);
    }

    /// The image's copy of an inode's ACL feature.
    pub(super) fn image_acl(&self, n: &Inode) -> Option<pb::ImageAcl> {
        self.acl_feature(n).map(|_| pb::ImageAcl {
            entries: entries_to_pb(&self.feature_entries(n)),
        })
    }

    /// The ACL feature of an inode, if it has one.
    pub(super) fn acl_feature(&self, n: &Inode) -> Option<&[StoredEntry]> {
        self.acls.get(n.id)
    }

    fn entry_of(&self, e: &StoredEntry) -> AclEntry {
        let name = (e.name != NO_NAME).then(|| self.strings.get(e.name));
        AclEntry::new(e.scope, e.kind, name, e.perm)
    }

    fn feature_entries(&self, n: &Inode) -> Vec<AclEntry> {
        self.acl_feature(n)
            .map(|f| f.iter().map(|e| self.entry_of(e)).collect())
            .unwrap_or_default()
    }

    /// Hadoop's readINodeLogicalAcl: the inode's whole ACL, the owner, mask and other
    /// entries taken from the permission bits.
    fn logical_acl(&self, n: &Inode) -> Vec<AclEntry> {
        let feature = self.feature_entries(n);
        let (access, default): (Vec<_>, Vec<_>) = feature
            .into_iter()
            .partition(|e| e.scope == AclScope::Access);
        let perm = n.perm;
        let mut out = Vec::with_capacity(access.len() + default.len() + 3);
        if access.is_empty() {
            out.extend(minimal_acl(perm));
        } else {
            let bits = minimal_acl(perm);
            out.push(bits[0].clone());
            out.extend(access);
            out.push(AclEntry::unnamed(
                AclScope::Access,
                AclType::Mask,
                bits[1].perm,
            ));
            out.push(bits[2].clone());
        }
        out.extend(default);
        out
    }

    fn check_acls_enabled(&self) -> Result<(), NamespaceError> {
        if self.config.acls_enabled {
            Ok(())
        } else {
            Err(invalid(
                "The ACL operation has been rejected.  Support for ACLs has been disabled \
                 by setting dfs.namenode.acls.enabled to false.",
            ))
        }
    }

    /// The common half of the ACL changes: the path exists, the caller owns it (or is
    /// the superuser), and `change` turns the current logical ACL into the new one.
    fn plan_acl_change(
        &self,
        caller: &Caller,
        src: &str,
        change: impl FnOnce(Vec<AclEntry>) -> Result<Vec<AclEntry>, NamespaceError>,
    ) -> Result<EditOp, NamespaceError> {
        self.check_acls_enabled()?;
        let res = self.resolve(caller, src, DirOp::Other)?;
        let Some(slot) = res.last() else {
            return Err(NamespaceError::FileNotFound(format!(
                "cannot find {}",
                res.path()
            )));
        };
        self.check_owner(caller, &res)?;
        let n = self.node(slot);
        let entries = change(self.logical_acl(n))?;
        if entries.len() > 3 && !n.is_dir() && entries.iter().any(|e| e.scope == AclScope::Default)
        {
            return Err(invalid(
                "Invalid ACL: only directories may have a default ACL.",
            ));
        }
        Ok(EditOp {
            retry_cache: None,
            op: Some(Op::SetAcl(pb::SetAclOp {
                path: res.path(),
                entries: entries_to_pb(&entries),
            })),
        })
    }

    /// modifyAclEntries.
    pub fn plan_modify_acl_entries(
        &self,
        caller: &Caller,
        src: &str,
        spec: Vec<AclEntry>,
    ) -> Result<EditOp, NamespaceError> {
        self.plan_acl_change(caller, src, |old| merge_entries(&old, spec))
    }

    /// removeAclEntries.
    pub fn plan_remove_acl_entries(
        &self,
        caller: &Caller,
        src: &str,
        spec: Vec<AclEntry>,
    ) -> Result<EditOp, NamespaceError> {
        self.plan_acl_change(caller, src, |old| filter_entries_by_spec(&old, spec))
    }

    /// removeDefaultAcl.
    pub fn plan_remove_default_acl(
        &self,
        caller: &Caller,
        src: &str,
    ) -> Result<EditOp, NamespaceError> {
        self.plan_acl_change(caller, src, |old| filter_default_entries(&old))
    }

    /// removeAcl: logged as a setAcl with no entries.
    pub fn plan_remove_acl(&self, caller: &Caller, src: &str) -> Result<EditOp, NamespaceError> {
        self.plan_acl_change(caller, src, |_| Ok(Vec::new()))
    }

    /// setAcl (an empty spec removes the ACL, as in HDFS).
    pub fn plan_set_acl(
        &self,
        caller: &Caller,
        src: &str,
        spec: Vec<AclEntry>,
    ) -> Result<EditOp, NamespaceError> {
        if spec.is_empty() {
            return self.plan_remove_acl(caller, src);
        }
        self.plan_acl_change(caller, src, |old| replace_entries(&old, spec))
    }

    /// getAclStatus: needs traverse permission only.
    pub fn get_acl_status(&self, caller: &Caller, src: &str) -> Result<AclStatus, NamespaceError> {
        self.check_acls_enabled()?;
        let real = self.real_path(src)?;
        let res = self.resolve(caller, real.as_ref(), DirOp::Other)?;
        let Some(slot) = res.last() else {
            return Err(NamespaceError::FileNotFound(format!(
                "cannot find {}",
                res.path()
            )));
        };
        let n = self.node(slot);
        Ok(AclStatus {
            owner: self.owner_name(n).to_string(),
            group: self.group_name(n).to_string(),
            sticky: n.perm & 0o1000 != 0,
            entries: self.feature_entries(n),
            permission: n.perm,
        })
    }

    // ---- apply ----

    pub(super) fn apply_set_acl(
        &mut self,
        op: &pb::SetAclOp,
    ) -> Result<super::ApplyOutcome, NamespaceError> {
        let slot = self.lookup_existing(&op.path)?;
        let entries = entries_from_pb(&op.entries, &op.path).map_err(NamespaceError::Corrupt)?;
        if entries.is_empty() {
            self.remove_acl(slot);
        } else {
            self.update_acl(slot, &entries)
                .map_err(|e| NamespaceError::Corrupt(format!("{}: {e}", op.path)))?;
        }
        Ok(super::ApplyOutcome {
            inode_id: Some(self.node(slot).id),
            ..Default::default()
        })
    }

    /// Hadoop's removeINodeAcl: the group bits get the group entry back (they held
    /// the mask), and the feature goes.
    fn remove_acl(&mut self, slot: u32) {
        let id = self.node(slot).id;
        let Some(feature) = self.acls.get(id) else {
            return;
        };
        let group = feature
            .iter()
            .find(|e| e.scope == AclScope::Access && e.kind == AclType::Group && e.name == NO_NAME)
            .map(|e| e.perm);
        if let Some(g) = group {
            let n = &mut self.slab[slot as usize];
            n.perm = (n.perm & !0o070) | (u16::from(g) << 3);
        }
        self.acls.remove(id);
    }

    /// Hadoop's updateINodeAcl: stores a full, sorted, valid logical ACL into the
    /// permission bits and (unless it is minimal) the feature.
    fn update_acl(&mut self, slot: u32, entries: &[AclEntry]) -> Result<(), String> {
        let (access, default): (Vec<&AclEntry>, Vec<&AclEntry>) =
            entries.iter().partition(|e| e.scope == AclScope::Access);
        let shape_ok = access.len() >= 3
            && access[0].kind == AclType::User
            && access[0].name.is_none()
            && access[access.len() - 1].kind == AclType::Other
            && entries.windows(2).all(|w| w[0].cmp_key(&w[1]).is_lt());
        if !shape_ok {
            return Err("ACL entries out of order or without owner / other".into());
        }
        let old = self.node(slot).perm;
        let id = self.node(slot).id;
        if entries.len() == 3 {
            self.acls.remove(id);
            let all: Vec<&AclEntry> = entries.iter().collect();
            self.slab[slot as usize].perm = perm_for_access(&all, old);
            return Ok(());
        }
        if !default.is_empty() && !self.node(slot).is_dir() {
            return Err("a default ACL on a file".into());
        }
        let mut feature = Vec::with_capacity(entries.len() - 3);
        if access.len() > 3 {
            feature.extend(access[1..access.len() - 2].iter().copied());
        }
        feature.extend(default.iter().copied());
        let stored = self.store_entries(feature.into_iter());
        self.acls.set(id, stored);
        self.slab[slot as usize].perm = perm_for_access(&access, old);
        Ok(())
    }

    fn store_entries<'e>(
        &mut self,
        entries: impl Iterator<Item = &'e AclEntry>,
    ) -> Vec<StoredEntry> {
        entries
            .map(|e| StoredEntry {
                name: e
                    .name
                    .as_deref()
                    .map_or(NO_NAME, |n| self.strings.intern(n)),
                scope: e.scope,
                kind: e.kind,
                perm: e.perm,
            })
            .collect()
    }

    /// The mode a new inode at `src` is created with (HDFS-6962): the client's
    /// unmasked mode when the deepest existing ancestor has a default ACL (that ACL,
    /// not the umask, filters it), inheritance is on and the client sent one; else
    /// the umasked `masked`.
    pub fn create_mode(&self, src: &str, masked: u16, unmasked: Option<u16>) -> u16 {
        let (Some(unmasked), true) = (unmasked, self.config.posix_acl_inheritance) else {
            return masked;
        };
        let Ok(comps) = super::path::components(src) else {
            return masked;
        };
        let res = self.walk(comps);
        let deepest = res.nodes[..res.nodes.len().saturating_sub(1)]
            .iter()
            .rev()
            .find_map(|n| *n);
        match deepest {
            Some(d) if self.has_default_acl(d) => unmasked & 0o1777,
            _ => masked,
        }
    }

    /// Does the directory at `slot` have a default ACL?
    pub(super) fn has_default_acl(&self, slot: u32) -> bool {
        self.acl_feature(self.node(slot))
            .is_some_and(|f| f.iter().any(|e| e.scope == AclScope::Default))
    }

    /// Hadoop's copyINodeDefaultAcl, run when an inode is created: under a parent with
    /// a default ACL the new inode's access ACL comes from it, filtered by the inode's
    /// mode (owner, mask — or group of a minimal default ACL — and other), and a new
    /// directory also gets the default ACL itself.
    pub(super) fn inherit_default_acl(&mut self, slot: u32) {
        let parent = self.node(slot).parent;
        if parent == NO_SLOT {
            return;
        }
        let parent_defaults: Vec<AclEntry> = self
            .feature_entries(self.node(parent))
            .into_iter()
            .filter(|e| e.scope == AclScope::Default)
            .collect();
        if parent_defaults.is_empty() {
            return;
        }
        let mode = self.node(slot).perm;
        let (u, g, o) = ((mode >> 6) as u8 & 7, (mode >> 3) as u8 & 7, mode as u8 & 7);
        let minimal = parent_defaults.len() == 3;
        let access: Vec<AclEntry> = parent_defaults
            .iter()
            .map(|e| {
                let perm = match (e.kind, e.name.is_some()) {
                    (AclType::User, false) => e.perm & u,
                    (AclType::Group, _) if minimal => e.perm & g,
                    (AclType::Mask, _) => e.perm & g,
                    (AclType::Other, _) => e.perm & o,
                    _ => e.perm,
                };
                AclEntry {
                    scope: AclScope::Access,
                    perm,
                    ..e.clone()
                }
            })
            .collect();
        let is_dir = self.node(slot).is_dir();
        let id = self.node(slot).id;
        if access.len() > 3 || is_dir {
            let mut feature: Vec<&AclEntry> = Vec::new();
            if access.len() > 3 {
                feature.extend(access[1..access.len() - 2].iter());
            }
            if is_dir {
                feature.extend(parent_defaults.iter());
            }
            let stored = self.store_entries(feature.into_iter());
            self.acls.set(id, stored);
        }
        let access: Vec<&AclEntry> = access.iter().collect();
        self.slab[slot as usize].perm = perm_for_access(&access, mode);
    }

    // ---- the check ----

    /// The ACL branch of Hadoop's permission check, for an inode whose feature has
    /// access entries: the owner gets the owner bits; else a matching named user
    /// entry, masked; else every group entry (owning or named) of a group the caller
    /// is in, masked — any one granting suffices; else, if nothing matched, other.
    /// None when the inode has no access ACL (the plain bits decide).
    pub(super) fn acl_allows(&self, caller: &Caller, n: &Inode, access: Access) -> Option<bool> {
        let feature = self.acl_feature(n)?;
        if feature.first()?.scope != AclScope::Access {
            return None;
        }
        let want = access.0;
        let perm = n.perm;
        if self.owner_name(n) == caller.user {
            return Some(((perm >> 6) as u8 & 7) & want == want);
        }
        let mask = (perm >> 3) as u8 & 7;
        let mut matched = false;
        for e in feature.iter().take_while(|e| e.scope == AclScope::Access) {
            match e.kind {
                AclType::User if e.name != NO_NAME && self.strings.get(e.name) == caller.user => {
                    return Some(e.perm & mask & want == want);
                }
                AclType::Group => {
                    let group = if e.name == NO_NAME {
                        self.group_name(n)
                    } else {
                        self.strings.get(e.name)
                    };
                    if caller.is_member_of(group) {
                        if e.perm & mask & want == want {
                            return Some(true);
                        }
                        matched = true;
                    }
                }
                _ => {}
            }
        }
        Some(!matched && (perm as u8 & 7) & want == want)
    }

    /// The denial of an ACL check: Hadoop's text with a '+' after the mode.
    pub(super) fn acl_denied(
        &self,
        caller: &Caller,
        access: Access,
        path: &str,
        n: &Inode,
    ) -> NamespaceError {
        NamespaceError::AccessControl(format!(
            "Permission denied: user={}, access={}, inode=\"{}\":{}:{}:{}+",
            caller.user,
            access.name(),
            path,
            self.owner_name(n),
            self.group_name(n),
            mode_string(n.is_dir(), n.perm)
        ))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Parses `[default:]type:[name]:rwx` entries separated by commas (test input).
    pub(crate) fn spec(s: &str) -> Vec<AclEntry> {
        s.split(',')
            .map(|e| {
                let (scope, rest) = match e.strip_prefix("default:") {
                    Some(r) => (AclScope::Default, r),
                    None => (AclScope::Access, e),
                };
                let parts: Vec<&str> = rest.split(':').collect();
                let kind = match parts[0] {
                    "user" => AclType::User,
                    "group" => AclType::Group,
                    "mask" => AclType::Mask,
                    _ => AclType::Other,
                };
                let name = parts.get(1).filter(|n| !n.is_empty()).copied();
                let p = parts.get(2).copied().unwrap_or("---");
                let perm = p.chars().fold(0u8, |acc, c| {
                    acc | match c {
                        'r' => 4,
                        'w' => 2,
                        'x' => 1,
                        _ => 0,
                    }
                });
                AclEntry::new(scope, kind, name, perm)
            })
            .collect()
    }

    fn text(entries: &[AclEntry]) -> String {
        entries
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    fn err(r: Result<Vec<AclEntry>, NamespaceError>) -> String {
        match r {
            Err(NamespaceError::Acl(m)) => m,
            other => panic!("expected an AclException, got {other:?}"),
        }
    }

    const BASE: &str = "user::rwx,group::r-x,other::---";

    #[test]
    fn merge_adds_a_named_user_and_computes_the_mask() {
        let acl = merge_entries(&spec(BASE), spec("user:bob:rw-")).unwrap();
        assert_eq!(
            text(&acl),
            "user::rwx,user:bob:rw-,group::r-x,mask::rwx,other::---"
        );
        // A given mask wins over the computed one.
        let acl = merge_entries(&acl, spec("mask::r--")).unwrap();
        assert_eq!(
            text(&acl),
            "user::rwx,user:bob:rw-,group::r-x,mask::r--,other::---"
        );
        // Changing another entry recomputes it (the scope is dirty, the mask not).
        let acl = merge_entries(&acl, spec("group:staff:--x")).unwrap();
        assert_eq!(
            text(&acl),
            "user::rwx,user:bob:rw-,group::r-x,group:staff:--x,mask::rwx,other::---"
        );
    }

    #[test]
    fn merge_default_entries_copy_the_missing_base_entries() {
        let acl = merge_entries(&spec(BASE), spec("default:user:bob:r-x")).unwrap();
        assert_eq!(
            text(&acl),
            "user::rwx,group::r-x,other::---,default:user::rwx,default:user:bob:r-x,\
             default:group::r-x,default:mask::r-x,default:other::---"
        );
    }

    #[test]
    fn filter_removes_entries_and_refuses_to_drop_a_needed_mask() {
        let acl = merge_entries(&spec(BASE), spec("user:bob:rw-,group:g:r--")).unwrap();
        let acl2 = filter_entries_by_spec(&acl, spec("user:bob:")).unwrap();
        assert_eq!(
            text(&acl2),
            "user::rwx,group::r-x,group:g:r--,mask::r-x,other::---"
        );
        assert_eq!(
            err(filter_entries_by_spec(&acl, spec("mask::"))),
            "Invalid ACL: mask is required, but it was deleted."
        );
        // Removing every named entry leaves a minimal ACL (no mask).
        let acl3 = filter_entries_by_spec(&acl, spec("user:bob:,group:g:")).unwrap();
        assert_eq!(text(&acl3), "user::rwx,group::r-x,other::---");
    }

    #[test]
    fn replace_keeps_the_scope_it_does_not_name() {
        let with_default = merge_entries(&spec(BASE), spec("default:group:g:rwx")).unwrap();
        let acl = replace_entries(
            &with_default,
            spec("user::rw-,user:carol:r--,group::---,other::r--"),
        )
        .unwrap();
        assert_eq!(
            text(&acl),
            "user::rw-,user:carol:r--,group::---,mask::r--,other::r--,default:user::rwx,\
             default:group::r-x,default:group:g:rwx,default:mask::rwx,default:other::---"
        );
        let access_only = filter_default_entries(&acl).unwrap();
        assert_eq!(
            text(&access_only),
            "user::rw-,user:carol:r--,group::---,mask::r--,other::r--"
        );
    }

    #[test]
    fn validation_messages_are_hadoops() {
        assert_eq!(
            err(replace_entries(&spec(BASE), spec("user::rwx,group::r-x"))),
            "Invalid ACL: the user, group and other entries are required."
        );
        assert_eq!(
            err(replace_entries(
                &spec(BASE),
                spec("user::rwx,user:bob:rwx,user:bob:r--,group::r-x,other::---")
            )),
            "Invalid ACL: multiple entries with same scope, type and name."
        );
        assert_eq!(
            err(merge_entries(&spec(BASE), spec("other:bob:rwx"))),
            "Invalid ACL: this entry type must not have a name: other:bob:rwx."
        );
        let many: Vec<String> = (0..33).map(|i| format!("user:u{i}:r--")).collect();
        assert_eq!(
            err(merge_entries(&spec(BASE), spec(&many.join(",")))),
            "Invalid ACL: ACL spec has 33 entries, which exceeds maximum of 32."
        );
        // 30 named users fit the spec but not the ACL (owner, group, mask, other too).
        let named: Vec<String> = (0..30).map(|i| format!("user:u{i}:r--")).collect();
        assert_eq!(
            err(merge_entries(&spec(BASE), spec(&named.join(",")))),
            "Invalid ACL: ACL has 34 entries, which exceeds maximum of 32."
        );
    }
}
