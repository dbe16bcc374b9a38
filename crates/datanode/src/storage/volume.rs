//! One volume (a directory of `dfs.datanode.data.dir`) and its on-disk layout:
//!
//! ```text
//! <root>/in_use.lock
//! <root>/current/VERSION
//! <root>/current/<bpid>/current/finalized/subdir<a>/subdir<b>/blk_<id>, blk_<id>_<gs>.meta
//! <root>/current/<bpid>/current/rbw/blk_<id>, blk_<id>_<gs>.meta
//! <root>/current/<bpid>/tmp/…          (copies in progress; wiped at startup)
//! ```
//! `a = (id >> 16) & 31`, `b = (id >> 8) & 31`, as Hadoop's `DatanodeUtil.idToBlockDir`.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use hafs_storage::fsutil::{annotate, DirLock};

pub(crate) struct Volume {
    pub root: PathBuf,
    pub storage_id: String,
    /// The `[TYPE]` of its `dfs.datanode.data.dir` entry (StorageTypeProto number).
    pub storage_type: i32,
    pub _lock: DirLock,
}

impl Volume {
    pub fn current(&self) -> PathBuf {
        self.root.join("current")
    }

    pub fn bp_dir(&self, bpid: &str) -> PathBuf {
        self.current().join(bpid)
    }

    pub fn bp_current(&self, bpid: &str) -> PathBuf {
        self.bp_dir(bpid).join("current")
    }

    pub fn finalized_root(&self, bpid: &str) -> PathBuf {
        self.bp_current(bpid).join("finalized")
    }

    pub fn finalized_dir(&self, bpid: &str, block_id: u64) -> PathBuf {
        self.finalized_root(bpid)
            .join(format!("subdir{}", (block_id >> 16) & 0x1f))
            .join(format!("subdir{}", (block_id >> 8) & 0x1f))
    }

    pub fn rbw_dir(&self, bpid: &str) -> PathBuf {
        self.bp_current(bpid).join("rbw")
    }

    pub fn tmp_dir(&self, bpid: &str) -> PathBuf {
        self.bp_dir(bpid).join("tmp")
    }

    /// A quick health probe after an IO error: can we create, write, fsync and remove a
    /// file in `current/`? An error means the volume is unusable.
    pub fn probe(&self) -> io::Result<()> {
        let current = self.current();
        let md = fs::metadata(&current).map_err(|e| annotate(e, "cannot stat", &current))?;
        if !md.is_dir() {
            return Err(io::Error::other(format!(
                "{} is not a directory",
                current.display()
            )));
        }
        let probe = current.join(format!(".probe.{}", std::process::id()));
        let result = (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&probe)
                .map_err(|e| annotate(e, "cannot create", &probe))?;
            f.write_all(b"probe")
                .map_err(|e| annotate(e, "cannot write", &probe))?;
            f.sync_all()
                .map_err(|e| annotate(e, "cannot fsync", &probe))
        })();
        let _ = fs::remove_file(&probe);
        result
    }

    /// (capacity, available) of the file system holding the volume.
    pub fn fs_space(&self) -> io::Result<(u64, u64)> {
        statvfs(&self.root)
    }
}

fn statvfs(path: &Path) -> io::Result<(u64, u64)> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path has a NUL byte"))?;
    // SAFETY: statvfs writes into the zeroed struct we own; the path is NUL-terminated.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut s) };
    if rc != 0 {
        return Err(annotate(io::Error::last_os_error(), "cannot statvfs", path));
    }
    let frsize = s.f_frsize as u64;
    Ok((
        (s.f_blocks as u64).saturating_mul(frsize),
        (s.f_bavail as u64).saturating_mul(frsize),
    ))
}

/// Parses `blk_<id>` (ids are Java longs, possibly negative); `None` for other names.
pub(crate) fn parse_block_file(name: &str) -> Option<u64> {
    let rest = name.strip_prefix("blk_")?;
    if rest.contains('_') || rest.contains('.') {
        return None;
    }
    rest.parse::<i64>().ok().map(|v| v as u64)
}

/// Parses `blk_<id>_<gs>.meta` into (id, gs).
pub(crate) fn parse_meta_file(name: &str) -> Option<(u64, u64)> {
    let rest = name.strip_prefix("blk_")?.strip_suffix(".meta")?;
    let (id, gs) = rest.split_once('_')?;
    Some((id.parse::<i64>().ok()? as u64, gs.parse::<u64>().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(parse_block_file("blk_1073741825"), Some(1073741825));
        assert_eq!(parse_block_file("blk_-5"), Some((-5i64) as u64));
        assert_eq!(parse_block_file("blk_1_2.meta"), None);
        assert_eq!(parse_meta_file("blk_7_1001.meta"), Some((7, 1001)));
        assert_eq!(parse_meta_file("blk_7.meta"), None);
    }
}
