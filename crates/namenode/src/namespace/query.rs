//! Read-only queries: file status, listing, content summary, counts.

use super::error::NamespaceError;
use super::inode::{BlockInfo, ROOT_SLOT};
use super::permission::{Access, Caller};
use super::{quota, DirOp, Namespace};
use crate::blockmanagement::storage_policy::UNSPECIFIED;
use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    File,
    Directory,
}

/// Hadoop's HdfsFileStatus, as plain data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStatus {
    pub kind: FileKind,
    /// The local name: a child's name in a listing; empty from `get_file_info` and for
    /// a file listed by its own path (as Hadoop answers).
    pub name: Vec<u8>,
    pub length: u64,
    pub replication: u16,
    pub block_size: u64,
    pub mtime: i64,
    pub atime: i64,
    /// Permission bits including the sticky bit.
    pub permission: u16,
    pub owner: String,
    pub group: String,
    pub inode_id: u64,
    /// Number of children (directories; 0 for files).
    pub children_num: u32,
    pub under_construction: bool,
    /// The inode has an ACL feature (`ls` shows a '+').
    pub has_acl: bool,
    /// The effective storage policy id (the inode's own, else its nearest
    /// ancestor's; 0 = none on the path), as HDFS's getFileInfo answers.
    pub storage_policy: u8,
}

/// Hadoop's ContentSummary. Quotas are -1 when unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentSummary {
    pub length: u64,
    pub file_count: u64,
    pub directory_count: u64,
    pub quota: i64,
    /// Bytes including replication (length × replication per file; a file under
    /// construction counts its last block at the preferred block size, as in HDFS).
    pub space_consumed: u64,
    pub space_quota: i64,
    /// Space quotas by storage type (by StorageTypeProto number - 1; -1 = none).
    pub type_quotas: [i64; super::quota::STORAGE_TYPE_COUNT],
    /// Space by storage type, by StorageTypeProto number - 1.
    pub type_consumed: [u64; super::quota::STORAGE_TYPE_COUNT],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamespaceStats {
    pub files: u64,
    /// Including the root.
    pub dirs: u64,
}

impl Namespace {
    pub(super) fn status(&self, slot: u32, with_name: bool) -> FileStatus {
        let n = self.node(slot);
        FileStatus {
            kind: if n.is_dir() {
                FileKind::Directory
            } else {
                FileKind::File
            },
            name: if with_name {
                n.name.as_bytes().to_vec()
            } else {
                Vec::new()
            },
            length: n.length(),
            replication: n.replication,
            block_size: n.block_size,
            mtime: n.mtime,
            atime: n.atime,
            permission: n.perm,
            owner: self.owner_name(n).to_string(),
            group: self.group_name(n).to_string(),
            inode_id: n.id,
            children_num: n.children().len() as u32,
            under_construction: self.under_construction.contains_key(&n.id),
            has_acl: self.acl_feature(n).is_some(),
            storage_policy: self.effective_storage_policy(slot),
        }
    }

    /// getFileInfo: None when the path does not exist. A path through a file is an
    /// AccessControlException, except for the superuser, who gets None (as in Hadoop).
    pub fn get_file_info(
        &self,
        caller: &Caller,
        src: &str,
    ) -> Result<Option<FileStatus>, NamespaceError> {
        let real = self.real_path(src)?;
        let src = real.as_ref();
        if let Some(answer) = self.snapshot_file_info(caller, src)? {
            return Ok(answer);
        }
        let res = match self.resolve(caller, src, DirOp::Other) {
            Ok(r) => r,
            Err(NamespaceError::AccessControl(_))
                if caller.is_superuser || !self.config.permissions_enabled =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e),
        };
        Ok(res.last().map(|s| self.status(s, false)))
    }

    /// checkAccess (Hadoop's FSNamesystem.checkAccess): the path must exist, and the
    /// caller needs `access` on it (the superuser, or permissions off: always).
    pub fn check_path_access(
        &self,
        caller: &Caller,
        src: &str,
        access: Access,
    ) -> Result<(), NamespaceError> {
        let real = self.real_path(src)?;
        let res = self.resolve(caller, real.as_ref(), DirOp::Other)?;
        if res.last().is_none() {
            return Err(NamespaceError::FileNotFound("Path not found".into()));
        }
        self.check_permission(caller, &res, None, None, Some(access), None)
    }

    /// Status by inode id (no permission check; for internal callers).
    pub fn get_file_info_by_id(&self, inode_id: u64) -> Option<FileStatus> {
        self.index
            .get(inode_id, &self.slab)
            .map(|s| self.status(s, false))
    }

    /// getListing: up to `limit` children whose names sort after `start_after`, and how
    /// many remain after them. Listing a file answers that file alone. Needs
    /// READ_EXECUTE on a listed directory.
    pub fn list(
        &self,
        caller: &Caller,
        src: &str,
        start_after: &[u8],
        limit: usize,
    ) -> Result<(Vec<FileStatus>, u32), NamespaceError> {
        let real = self.real_path(src)?;
        let src = real.as_ref();
        if let Some(answer) = self.snapshot_list(caller, src, start_after, limit)? {
            return Ok(answer);
        }
        let res = self.resolve(caller, src, DirOp::Other)?;
        let Some(slot) = res.last() else {
            return Err(NamespaceError::FileNotFound(format!(
                "File {src} does not exist."
            )));
        };
        let n = self.node(slot);
        if !n.is_dir() {
            return Ok((vec![self.status(slot, false)], 0));
        }
        self.check_permission(caller, &res, None, None, Some(Access::READ_EXECUTE), None)?;
        let children = n.children();
        let start = match self.search_child(slot, start_after) {
            Ok(i) => i + 1,
            Err(i) => i,
        };
        let end = start.saturating_add(limit).min(children.len());
        let out = children[start..end]
            .iter()
            .map(|&c| self.status(c, true))
            .collect();
        Ok((out, (children.len() - end) as u32))
    }

    /// getContentSummary: totals over the subtree. Needs READ_EXECUTE on every
    /// directory in it.
    pub fn content_summary(
        &self,
        caller: &Caller,
        src: &str,
    ) -> Result<ContentSummary, NamespaceError> {
        let real = self.real_path(src)?;
        let src = real.as_ref();
        if let Some(answer) = self.snapshot_content_summary(caller, src)? {
            return Ok(answer);
        }
        let res = self.resolve(caller, src, DirOp::Other)?;
        let Some(slot) = res.last() else {
            return Err(NamespaceError::FileNotFound(format!(
                "File does not exist: {src}"
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
        let mut sum = ContentSummary {
            length: 0,
            file_count: 0,
            directory_count: 0,
            quota: quota.map_or(-1, |q| q.ns_quota),
            space_consumed: 0,
            space_quota: quota.map_or(-1, |q| q.ds_quota),
            type_quotas: quota.map_or([-1; super::quota::STORAGE_TYPE_COUNT], |q| q.type_quotas),
            type_consumed: [0; super::quota::STORAGE_TYPE_COUNT],
        };
        // Each inode's effective policy is carried down the walk: a file's bytes count
        // on the types its policy chooses (Hadoop's computeContentSummary: the length,
        // not the open block's preferred size, by getFileReplication's types).
        let mut stack = vec![(slot, self.inherited_storage_policy(slot))];
        while let Some((s, inherited)) = stack.pop() {
            let n = self.node(s);
            let policy = match self.local_storage_policy(n.id) {
                UNSPECIFIED => inherited,
                own => own,
            };
            if n.is_dir() {
                sum.directory_count += 1;
                stack.extend(n.children().iter().map(|&c| (c, policy)));
            } else {
                let len = n.length();
                sum.file_count += 1;
                sum.length += len;
                let space = self.file_space_as(s, policy);
                sum.space_consumed += space.storage_space.max(0) as u64;
                let by_type = quota::space_of_bytes(
                    i64::try_from(len).unwrap_or(i64::MAX),
                    n.replication,
                    policy,
                );
                for (sum, t) in sum.type_consumed.iter_mut().zip(by_type.type_spaces) {
                    *sum += t.max(0) as u64;
                }
            }
        }
        Ok(sum)
    }

    /// The caller may read (open) `src`: READ on a file. Returns its status and blocks
    /// (for getBlockLocations).
    pub fn get_blocks(
        &self,
        caller: &Caller,
        src: &str,
    ) -> Result<(FileStatus, Vec<BlockInfo>), NamespaceError> {
        let real = self.real_path(src)?;
        let src = real.as_ref();
        if let Some(answer) = self.snapshot_blocks(caller, src)? {
            return Ok(answer);
        }
        let res = self.resolve(caller, src, DirOp::Other)?;
        let Some(slot) = res.last() else {
            return Err(NamespaceError::FileNotFound(format!(
                "File does not exist: {src}"
            )));
        };
        if self.node(slot).is_dir() {
            return Err(NamespaceError::FileNotFound(format!(
                "Path is not a file: {src}"
            )));
        }
        self.check_permission(caller, &res, None, None, Some(Access::READ), None)?;
        Ok((self.status(slot, false), self.node(slot).blocks().to_vec()))
    }

    /// Checks that `caller` may traverse to `src` and has `access` on it (when it
    /// exists): the building block for read-side RPCs not covered above.
    pub fn check_access_to(
        &self,
        caller: &Caller,
        src: &str,
        access: Access,
    ) -> Result<(), NamespaceError> {
        let res = self.resolve(caller, src, DirOp::Other)?;
        self.check_permission(caller, &res, None, None, Some(access), None)
    }

    pub fn stats(&self) -> NamespaceStats {
        NamespaceStats {
            files: self.files,
            dirs: self.dirs,
        }
    }

    /// Every path in the tree with its status, parents before children, children in
    /// name order (for tests and fsck-like tools).
    pub fn walk_all(&self) -> Vec<(String, FileStatus)> {
        let mut out = Vec::new();
        let mut stack = vec![(ROOT_SLOT, "/".to_string())];
        while let Some((slot, p)) = stack.pop() {
            out.push((p.clone(), self.status(slot, false)));
            for &c in self.node(slot).children().iter().rev() {
                let name = String::from_utf8_lossy(self.node(c).name.as_bytes()).into_owned();
                let cp = if p == "/" {
                    format!("/{name}")
                } else {
                    format!("{p}/{name}")
                };
                stack.push((c, cp));
            }
        }
        out
    }
}

/// Hadoop's reserved path prefixes (FSDirectory.DOT_RESERVED_PATH_PREFIX and below).
const DOT_INODES: &str = "/.reserved/.inodes/";
const DOT_RAW: &str = "/.reserved/raw";

impl Namespace {
    /// The path a client path names once Hadoop's reserved prefixes are resolved:
    /// `/.reserved/.inodes/<id>[/rest]` is the inode's current path (what a
    /// PathHandle opens, so a file is found after a rename) and `/.reserved/raw/rest`
    /// is `/rest`. Other paths come back unchanged.
    pub fn real_path<'p>(&self, src: &'p str) -> Result<Cow<'p, str>, NamespaceError> {
        if let Some(rest) = src.strip_prefix(DOT_INODES) {
            let (id, tail) = rest.split_once('/').map_or((rest, ""), |(i, t)| (i, t));
            let missing = || {
                NamespaceError::FileNotFound(format!(
                    "File for given inode path does not exist: {src}"
                ))
            };
            let id: u64 = id.parse().map_err(|_| missing())?;
            let base = self.path_of(id).ok_or_else(missing)?;
            return Ok(Cow::Owned(match (base.as_str(), tail) {
                (_, "") => base,
                ("/", t) => format!("/{t}"),
                (b, t) => format!("{b}/{t}"),
            }));
        }
        if let Some(rest) = src.strip_prefix(DOT_RAW) {
            if rest.is_empty() {
                return Ok(Cow::Borrowed("/"));
            }
            if rest.starts_with('/') {
                return Ok(Cow::Borrowed(rest));
            }
        }
        Ok(Cow::Borrowed(src))
    }
}
