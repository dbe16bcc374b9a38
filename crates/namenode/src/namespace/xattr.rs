//! Extended attributes (Hadoop's XAttr, FSDirXAttrOp and XAttrPermissionFilter).
//!
//! An inode's attributes live out of line, in `Namespace::xattrs` keyed by inode id, so
//! an inode without any costs nothing. Each has a namespace, a case-sensitive name and
//! an optional value (absent is not the same as empty). Who may see or change what:
//!
//! - `user.*`: anyone with READ on the inode may read; WRITE (or, on a sticky
//!   directory, ownership) is needed to change.
//! - `trusted.*`: the superuser only; others neither see nor touch them.
//! - `system.*`, `security.*`: HDFS's own; never visible through the API, except
//!   `security.hdfs.unreadable.by.superuser` (set without a value, on files, never removed).
//! - `raw.*`: only through a `/.reserved/raw/…` path (whose changes need the superuser).
//!
//! Limits: `dfs.namenode.fs-limits.max-xattrs-per-inode` counts the user-visible
//! (`user`, `trusted`) attributes of one inode; `dfs.namenode.fs-limits.max-xattr-size`
//! bounds name bytes + value bytes of one attribute.

use hafs_proto::hafs::{self as pb, edit_op::Op};

use super::apply::ApplyOutcome;
use super::error::NamespaceError;
use super::permission::{Access, Caller};
use super::{DirOp, EditOp, Namespace};

/// dfs.namenode.xattrs.enabled and the fs-limits of extended attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XAttrConfig {
    /// dfs.namenode.xattrs.enabled (true).
    pub enabled: bool,
    /// dfs.namenode.fs-limits.max-xattrs-per-inode (32).
    pub max_per_inode: usize,
    /// dfs.namenode.fs-limits.max-xattr-size (16384; Hadoop refuses 0 and more than
    /// 32768).
    pub max_size: usize,
}

impl Default for XAttrConfig {
    fn default() -> Self {
        XAttrConfig {
            enabled: true,
            max_per_inode: 32,
            max_size: 16384,
        }
    }
}

/// Hadoop's hard upper bound on dfs.namenode.fs-limits.max-xattr-size.
pub const MAX_XATTR_SIZE_HARD_LIMIT: usize = 32768;

/// The attribute Hadoop lets users set on a file to keep even the superuser from
/// reading its data.
pub const UNREADABLE_BY_SUPERUSER: &str = "security.hdfs.unreadable.by.superuser";

/// An attribute's namespace; the numbers are XAttrProto.XAttrNamespaceProto's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum XAttrNamespace {
    User = 0,
    Trusted = 1,
    Security = 2,
    System = 3,
    Raw = 4,
}

impl XAttrNamespace {
    pub fn from_wire(v: i64) -> Option<XAttrNamespace> {
        Some(match v {
            0 => XAttrNamespace::User,
            1 => XAttrNamespace::Trusted,
            2 => XAttrNamespace::Security,
            3 => XAttrNamespace::System,
            4 => XAttrNamespace::Raw,
            _ => return None,
        })
    }

    /// The prefix as Hadoop prints it (lower case).
    pub fn prefix(self) -> &'static str {
        match self {
            XAttrNamespace::User => "user",
            XAttrNamespace::Trusted => "trusted",
            XAttrNamespace::Security => "security",
            XAttrNamespace::System => "system",
            XAttrNamespace::Raw => "raw",
        }
    }

    /// Counted against dfs.namenode.fs-limits.max-xattrs-per-inode.
    fn user_visible(self) -> bool {
        matches!(self, XAttrNamespace::User | XAttrNamespace::Trusted)
    }
}

/// One extended attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XAttr {
    pub namespace: XAttrNamespace,
    pub name: Box<str>,
    pub value: Option<Box<[u8]>>,
}

impl XAttr {
    pub fn new(namespace: XAttrNamespace, name: &str, value: Option<&[u8]>) -> XAttr {
        XAttr {
            namespace,
            name: name.into(),
            value: value.map(Into::into),
        }
    }

    /// `user.name`: the namespace prefix, a dot, the name.
    pub fn prefixed_name(&self) -> String {
        format!("{}.{}", self.namespace.prefix(), self.name)
    }

    /// Same namespace and name (Hadoop's equalsIgnoreValue).
    fn same_key(&self, other: &XAttr) -> bool {
        self.namespace == other.namespace && self.name == other.name
    }

    fn to_pb(&self) -> pb::XAttrEntry {
        pb::XAttrEntry {
            namespace: self.namespace as u32,
            name: self.name.to_string(),
            value: self
                .value
                .as_ref()
                .map(|v| bytes::Bytes::copy_from_slice(v)),
        }
    }

    pub(super) fn from_pb(e: &pb::XAttrEntry) -> Option<XAttr> {
        Some(XAttr {
            namespace: XAttrNamespace::from_wire(i64::from(e.namespace))?,
            name: e.name.as_str().into(),
            value: e.value.as_ref().map(|v| v.to_vec().into_boxed_slice()),
        })
    }
}

/// Splits a prefixed name (`user.color`) as Hadoop's XAttrHelper does on the client:
/// the prefix before the first '.' (at least three characters) is matched without
/// regard to case; the rest, case-sensitive, is the name and must not be empty.
pub fn parse_prefixed_name(prefixed: &str) -> Result<(XAttrNamespace, &str), NamespaceError> {
    let bad_prefix = || {
        NamespaceError::HadoopIllegalArgument(
            "An XAttr name must be prefixed with user/trusted/security/system/raw, \
             followed by a '.'"
                .into(),
        )
    };
    let dot = prefixed
        .find('.')
        .filter(|&i| i >= 3)
        .ok_or_else(bad_prefix)?;
    let (prefix, name) = (&prefixed[..dot], &prefixed[dot + 1..]);
    if name.is_empty() {
        return Err(NamespaceError::HadoopIllegalArgument(
            "XAttr name cannot be empty.".into(),
        ));
    }
    let ns = [
        XAttrNamespace::User,
        XAttrNamespace::Trusted,
        XAttrNamespace::System,
        XAttrNamespace::Security,
        XAttrNamespace::Raw,
    ]
    .into_iter()
    .find(|ns| ns.prefix().eq_ignore_ascii_case(prefix))
    .ok_or_else(bad_prefix)?;
    Ok((ns, name))
}

/// The flags of a setXAttr (XAttrSetFlagProto's bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct XAttrSetFlags {
    pub create: bool,
    pub replace: bool,
}

impl XAttrSetFlags {
    pub const CREATE_BIT: u32 = 0x01;
    pub const REPLACE_BIT: u32 = 0x02;

    pub fn from_wire(bits: u32) -> XAttrSetFlags {
        XAttrSetFlags {
            create: bits & Self::CREATE_BIT != 0,
            replace: bits & Self::REPLACE_BIT != 0,
        }
    }

    /// Hadoop's XAttrSetFlag.validate.
    fn validate(self, name: &str, exists: bool) -> Result<(), NamespaceError> {
        if !self.create && !self.replace {
            return Err(NamespaceError::HadoopIllegalArgument(
                "A flag must be specified.".into(),
            ));
        }
        if exists && !self.replace {
            return Err(NamespaceError::Io(format!(
                "XAttr: {name} already exists. The REPLACE flag must be specified."
            )));
        }
        if !exists && !self.create {
            return Err(NamespaceError::Io(format!(
                "XAttr: {name} does not exist. The CREATE flag must be specified."
            )));
        }
        Ok(())
    }
}

/// Hadoop's FSDirectory.isReservedRawName: the client named the inode through
/// `/.reserved/raw`, the only way to reach `raw.*` attributes.
fn is_raw_path(src: &str) -> bool {
    src.starts_with("/.reserved/raw")
}

impl Namespace {
    /// The attributes of an inode, in the order they are kept.
    pub(super) fn xattrs_of(&self, inode_id: u64) -> &[XAttr] {
        self.xattrs.get(&inode_id).map_or(&[], |x| &x[..])
    }

    /// Whether the file carries `security.hdfs.unreadable.by.superuser` (its data is
    /// then refused to the superuser, as in Hadoop's checkUnreadableBySuperuser).
    pub fn unreadable_by_superuser(&self, inode_id: u64) -> bool {
        self.xattrs_of(inode_id).iter().any(|x| {
            x.namespace == XAttrNamespace::Security && x.prefixed_name() == UNREADABLE_BY_SUPERUSER
        })
    }

    fn check_xattrs_enabled(&self) -> Result<(), NamespaceError> {
        if self.config.xattrs.enabled {
            return Ok(());
        }
        Err(NamespaceError::Io(
            "The XAttr operation has been rejected.  Support for XAttrs has been disabled \
             by setting dfs.namenode.xattrs.enabled to false."
                .into(),
        ))
    }

    /// XAttrPermissionFilter.checkPermissionForApi: may the caller name this
    /// attribute at all? (Independent of the inode's permission bits, and of
    /// dfs.permissions.enabled: it looks at who the caller is.)
    fn check_xattr_api(
        &self,
        caller: &Caller,
        x: &XAttr,
        raw_path: bool,
    ) -> Result<(), NamespaceError> {
        match x.namespace {
            XAttrNamespace::User => return Ok(()),
            XAttrNamespace::Trusted if caller.is_superuser => return Ok(()),
            XAttrNamespace::Raw if raw_path => return Ok(()),
            _ => {}
        }
        let prefixed = x.prefixed_name();
        if prefixed == UNREADABLE_BY_SUPERUSER {
            if x.value.is_some() {
                return Err(NamespaceError::AccessControl(format!(
                    "Attempt to set a value for '{UNREADABLE_BY_SUPERUSER}'. Values are not \
                     allowed for this xattr."
                )));
            }
            return Ok(());
        }
        Err(NamespaceError::AccessControl(format!(
            "User doesn't have permission for xattr: {prefixed}"
        )))
    }

    /// XAttrPermissionFilter.filterXAttrsForApi: what the caller may see.
    fn visible(caller: &Caller, x: &XAttr, raw_path: bool) -> bool {
        match x.namespace {
            XAttrNamespace::User => true,
            XAttrNamespace::Trusted => caller.is_superuser,
            XAttrNamespace::Raw => raw_path,
            _ => x.prefixed_name() == UNREADABLE_BY_SUPERUSER,
        }
    }

    /// Resolves `src` (reserved prefixes included) for an xattr call: the resolved
    /// real path, its inode's slot, and whether it came through `/.reserved/raw`.
    /// Changes through a raw path need the superuser (Hadoop's resolvePath).
    fn resolve_for_xattr<'p>(
        &self,
        caller: &Caller,
        src: &str,
        real: &'p str,
        write: bool,
    ) -> Result<(super::Resolved<'p>, u32), NamespaceError> {
        if write && is_raw_path(src) && self.checking(caller) {
            return Err(NamespaceError::AccessControl(format!(
                "Access denied for user {}. Superuser privilege is required",
                caller.user
            )));
        }
        let res = self.resolve(caller, real, DirOp::Other)?;
        let Some(slot) = res.last() else {
            return Err(NamespaceError::FileNotFound(format!(
                "File does not exist: {src}"
            )));
        };
        Ok((res, slot))
    }

    /// FSDirXAttrOp.checkXAttrChangeAccess: a `user.*` change needs WRITE on the
    /// inode, or on a sticky directory its ownership.
    fn check_xattr_change(
        &self,
        caller: &Caller,
        res: &super::Resolved,
        slot: u32,
        x: &XAttr,
    ) -> Result<(), NamespaceError> {
        if x.namespace != XAttrNamespace::User || !self.checking(caller) {
            return Ok(());
        }
        let n = self.node(slot);
        if n.is_dir() && n.perm & 0o1000 != 0 {
            self.check_owner(caller, res)
        } else {
            self.check_permission(caller, res, None, None, Some(Access::WRITE), None)
        }
    }

    /// setXAttr: checks the switch, the size limit, the caller's right to the
    /// namespace, the path and WRITE access, then the flags against what exists and
    /// the per-inode limit.
    pub fn plan_set_xattr(
        &self,
        caller: &Caller,
        src: &str,
        x: XAttr,
        flags: XAttrSetFlags,
    ) -> Result<EditOp, NamespaceError> {
        self.check_xattrs_enabled()?;
        let size = x.name.len() + x.value.as_ref().map_or(0, |v| v.len());
        let max = self.config.xattrs.max_size;
        if size > max {
            return Err(NamespaceError::HadoopIllegalArgument(format!(
                "The XAttr is too big. The maximum combined size of the name and value is \
                 {max}, but the total size is {size}"
            )));
        }
        self.check_xattr_api(caller, &x, is_raw_path(src))?;
        let real = self.real_path(src)?;
        let (res, slot) = self.resolve_for_xattr(caller, src, &real, true)?;
        self.check_xattr_change(caller, &res, slot, &x)?;
        let existing = self.xattrs_of(self.node(slot).id);
        let exists = existing.iter().any(|e| e.same_key(&x));
        flags.validate(&x.name, exists)?;
        let visible = usize::from(x.namespace.user_visible())
            + existing
                .iter()
                .filter(|e| !e.same_key(&x) && e.namespace.user_visible())
                .count();
        let limit = self.config.xattrs.max_per_inode;
        if visible > limit {
            return Err(NamespaceError::Io(format!(
                "Cannot add additional XAttr to inode, would exceed limit of {limit}"
            )));
        }
        if x.prefixed_name() == UNREADABLE_BY_SUPERUSER && self.node(slot).is_dir() {
            return Err(NamespaceError::Io(format!(
                "Can only set '{UNREADABLE_BY_SUPERUSER}' on a file."
            )));
        }
        Ok(EditOp {
            retry_cache: None,
            op: Some(Op::SetXattr(pb::SetXAttrOp {
                path: res.path(),
                xattrs: vec![x.to_pb()],
            })),
        })
    }

    /// removeXAttr: as setXAttr's checks; the attribute must exist.
    pub fn plan_remove_xattr(
        &self,
        caller: &Caller,
        src: &str,
        x: XAttr,
    ) -> Result<EditOp, NamespaceError> {
        self.check_xattrs_enabled()?;
        self.check_xattr_api(caller, &x, is_raw_path(src))?;
        let real = self.real_path(src)?;
        let (res, slot) = self.resolve_for_xattr(caller, src, &real, true)?;
        self.check_xattr_change(caller, &res, slot, &x)?;
        let existing = self.xattrs_of(self.node(slot).id);
        if !existing.is_empty() && x.prefixed_name() == UNREADABLE_BY_SUPERUSER {
            return Err(NamespaceError::AccessControl(format!(
                "The xattr '{UNREADABLE_BY_SUPERUSER}' can not be deleted."
            )));
        }
        if !existing.iter().any(|e| e.same_key(&x)) {
            return Err(NamespaceError::Io(
                "No matching attributes found for remove operation".into(),
            ));
        }
        Ok(EditOp {
            retry_cache: None,
            op: Some(Op::RemoveXattr(pb::RemoveXAttrOp {
                path: res.path(),
                xattrs: vec![XAttr { value: None, ..x }.to_pb()],
            })),
        })
    }

    /// getXAttrs: with no names, every attribute the caller may see; otherwise exactly
    /// the named ones (each must exist and be visible). Needs READ on the inode.
    pub fn get_xattrs(
        &self,
        caller: &Caller,
        src: &str,
        names: &[XAttr],
    ) -> Result<Vec<XAttr>, NamespaceError> {
        self.check_xattrs_enabled()?;
        let raw = is_raw_path(src);
        for x in names {
            self.check_xattr_api(caller, x, raw)?;
        }
        let visible = self.visible_xattrs(caller, src)?;
        if names.is_empty() {
            return Ok(visible);
        }
        let not_found =
            || NamespaceError::Io("At least one of the attributes provided was not found.".into());
        names
            .iter()
            .map(|want| {
                visible
                    .iter()
                    .find(|x| x.same_key(want))
                    .cloned()
                    .ok_or_else(not_found)
            })
            .collect()
    }

    /// listXAttrs: every attribute the caller may see (Hadoop sends the values too;
    /// clients keep the names). Needs READ on the inode.
    pub fn list_xattrs(&self, caller: &Caller, src: &str) -> Result<Vec<XAttr>, NamespaceError> {
        self.check_xattrs_enabled()?;
        self.visible_xattrs(caller, src)
    }

    fn visible_xattrs(&self, caller: &Caller, src: &str) -> Result<Vec<XAttr>, NamespaceError> {
        let raw = is_raw_path(src);
        let real = self.real_path(src)?;
        let (res, slot) = self.resolve_for_xattr(caller, src, &real, false)?;
        self.check_permission(caller, &res, None, None, Some(Access::READ), None)?;
        Ok(self
            .xattrs_of(self.node(slot).id)
            .iter()
            .filter(|x| Self::visible(caller, x, raw))
            .cloned()
            .collect())
    }

    // ---- apply (live and replay) ----

    fn op_xattrs(entries: &[pb::XAttrEntry]) -> Result<Vec<XAttr>, NamespaceError> {
        entries
            .iter()
            .map(|e| {
                XAttr::from_pb(e).ok_or_else(|| {
                    NamespaceError::Corrupt(format!("xattr namespace {} unknown", e.namespace))
                })
            })
            .collect()
    }

    /// The attributes set come first, then the existing ones they did not replace
    /// (the order Hadoop's setINodeXAttrs gives).
    pub(super) fn apply_set_xattr(
        &mut self,
        op: &pb::SetXAttrOp,
    ) -> Result<ApplyOutcome, NamespaceError> {
        let new = Self::op_xattrs(&op.xattrs)?;
        let slot = self.lookup_existing(&op.path)?;
        let id = self.node(slot).id;
        let mut list = new.clone();
        list.extend(
            self.xattrs_of(id)
                .iter()
                .filter(|e| !new.iter().any(|n| n.same_key(e)))
                .cloned(),
        );
        self.xattrs.insert(id, list.into_boxed_slice());
        Ok(ApplyOutcome {
            inode_id: Some(id),
            ..Default::default()
        })
    }

    pub(super) fn apply_remove_xattr(
        &mut self,
        op: &pb::RemoveXAttrOp,
    ) -> Result<ApplyOutcome, NamespaceError> {
        let gone = Self::op_xattrs(&op.xattrs)?;
        let slot = self.lookup_existing(&op.path)?;
        let id = self.node(slot).id;
        let list: Vec<XAttr> = self
            .xattrs_of(id)
            .iter()
            .filter(|e| !gone.iter().any(|g| g.same_key(e)))
            .cloned()
            .collect();
        if list.is_empty() {
            self.xattrs.remove(&id);
        } else {
            self.xattrs.insert(id, list.into_boxed_slice());
        }
        Ok(ApplyOutcome {
            inode_id: Some(id),
            ..Default::default()
        })
    }

    /// An inode's attributes as fsimage entries.
    pub(super) fn image_xattrs(&self, inode_id: u64) -> Vec<pb::XAttrEntry> {
        self.xattrs_of(inode_id).iter().map(XAttr::to_pb).collect()
    }

    /// Heap bytes of the attribute table, for the memory estimate.
    pub(super) fn xattr_heap_bytes(&self) -> usize {
        self.xattrs
            .values()
            .map(|list| {
                list.len() * std::mem::size_of::<XAttr>()
                    + list
                        .iter()
                        .map(|x| x.name.len() + x.value.as_ref().map_or(0, |v| v.len()))
                        .sum::<usize>()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests;
