//! POSIX-style permission checks, after Hadoop's FSPermissionChecker: execute on every
//! ancestor (traverse), a requested access on the ancestor / parent / inode / subtree,
//! the sticky bit, and ownership.

use super::error::NamespaceError;
use super::inode::Inode;

/// Who is calling. Group membership comes from the caller (the RPC layer resolves the
/// user's groups); `is_superuser` is true for the NameNode's own user and members of
/// dfs.permissions.superusergroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user: String,
    pub groups: Vec<String>,
    pub is_superuser: bool,
}

impl Caller {
    pub fn new(user: &str, groups: &[&str]) -> Caller {
        Caller {
            user: user.to_string(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            is_superuser: false,
        }
    }

    pub fn superuser(user: &str) -> Caller {
        Caller {
            user: user.to_string(),
            groups: vec!["supergroup".to_string()],
            is_superuser: true,
        }
    }

    pub fn is_member_of(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}

/// Hadoop's FsAction as rwx bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access(pub u8);

impl Access {
    pub const EXECUTE: Access = Access(1);
    pub const WRITE: Access = Access(2);
    pub const READ: Access = Access(4);
    pub const READ_EXECUTE: Access = Access(5);
    pub const ALL: Access = Access(7);

    /// FsAction's enum constant name, as Hadoop prints it in "access=...".
    pub fn name(self) -> &'static str {
        match self.0 & 7 {
            0 => "NONE",
            1 => "EXECUTE",
            2 => "WRITE",
            3 => "WRITE_EXECUTE",
            4 => "READ",
            5 => "READ_EXECUTE",
            6 => "READ_WRITE",
            _ => "ALL",
        }
    }
}

/// FsPermission's symbolic form with the type prefix: "drwxr-xr-t".
pub fn mode_string(is_dir: bool, perm: u16) -> String {
    let mut s = String::with_capacity(10);
    s.push(if is_dir { 'd' } else { '-' });
    for shift in [6u16, 3, 0] {
        let bits = (perm >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    if perm & 0o1000 != 0 {
        let x = perm & 1 != 0;
        s.pop();
        s.push(if x { 't' } else { 'T' });
    }
    s
}

/// The rwx bits of `inode` that apply to `caller` (owner, else group, else other).
pub fn granted(caller: &Caller, inode: &Inode, owner: &str, group: &str) -> u8 {
    let perm = inode.perm;
    if caller.user == owner {
        ((perm >> 6) & 7) as u8
    } else if caller.is_member_of(group) {
        ((perm >> 3) & 7) as u8
    } else {
        (perm & 7) as u8
    }
}

pub fn denied(
    caller: &Caller,
    access: Access,
    path: &str,
    inode: &Inode,
    owner: &str,
    group: &str,
) -> NamespaceError {
    NamespaceError::AccessControl(format!(
        "Permission denied: user={}, access={}, inode=\"{}\":{}:{}:{}",
        caller.user,
        access.name(),
        path,
        owner,
        group,
        mode_string(inode.is_dir(), inode.perm)
    ))
}
