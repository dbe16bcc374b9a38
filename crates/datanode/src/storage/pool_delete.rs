//! Removing a block pool from every volume (`dfsadmin -deleteBlockPool`), once the
//! DataNode no longer serves its nameservice. Hadoop's FsDatasetImpl#deleteBlockPool:
//! without `force` the pool must hold no block files (finalized or rbw); with it
//! everything goes. The pool id comes from the network, so it must be a block pool
//! id and nothing else — one plain directory name under each volume's `current/`.

use std::fs;
use std::io;
use std::path::{Component, Path};

use super::error::{DnStorageError, Result};
use super::pool_version::is_block_pool_id;
use super::volume::{parse_block_file, parse_meta_file};
use super::DataNodeStorage;

/// Bound on the directory entries looked at to decide whether a pool is empty: a
/// pool with that many entries is not empty in any sense that matters.
const MAX_ENTRIES_CHECKED: usize = 1_000_000;

/// Refuses anything but one `BP-…` directory name (no separator, no `..`).
fn check_pool_id(bpid: &str) -> Result<()> {
    let one_component = matches!(
        Path::new(bpid).components().collect::<Vec<_>>().as_slice(),
        [Component::Normal(name)] if *name == std::ffi::OsStr::new(bpid)
    );
    if bpid.len() > 255
        || !one_component
        || !is_block_pool_id(bpid)
        || bpid.contains(['/', '\\', '\0'])
        || bpid.split('-').any(|part| part == "..")
    {
        return Err(DnStorageError::Invalid(format!(
            "Invalid block pool id {bpid:?}: not of the form BP-<number>-<address>-<number>"
        )));
    }
    Ok(())
}

/// Whether `dir` (recursively) holds a block or meta file; `Ok(false)` when absent.
fn has_block_files(dir: &Path, budget: &mut usize) -> io::Result<bool> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        if *budget == 0 {
            return Ok(true);
        }
        *budget -= 1;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if has_block_files(&entry.path(), budget)? {
                return Ok(true);
            }
        } else if parse_block_file(&name).is_some() || parse_meta_file(&name).is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

impl DataNodeStorage {
    /// Deletes block pool `bpid` from every healthy volume and forgets its replicas.
    /// The caller makes sure no nameservice served here uses the pool. Without `force`
    /// a pool that still has block files on any volume is refused (nothing deleted).
    pub fn delete_block_pool(&self, bpid: &str, force: bool) -> Result<()> {
        check_pool_id(bpid)?;
        let healthy: Vec<usize> = {
            let st = self.lock_state();
            (0..self.inner.volumes.len())
                .filter(|&i| st.failures[i].is_none())
                .collect()
        };
        if !force {
            for &idx in &healthy {
                let vol = self.volume(idx);
                let mut budget = MAX_ENTRIES_CHECKED;
                for dir in [vol.finalized_root(bpid), vol.rbw_dir(bpid)] {
                    let found = has_block_files(&dir, &mut budget)
                        .map_err(|e| DnStorageError::Io(annotate_io(e, &dir)))?;
                    if found {
                        tracing::warn!(%bpid, dir = %vol.root.display(), "block pool has block files; not deleted without force");
                        return Err(DnStorageError::Invalid(
                            "Cannot delete block pool, it contains some block files".into(),
                        ));
                    }
                }
            }
        }
        // Forget the replicas first: nothing may open a file being removed.
        self.lock_state()
            .replicas
            .retain(|(pool, _), _| pool != bpid);
        for &idx in &healthy {
            let vol = self.volume(idx);
            let dir = vol.bp_dir(bpid);
            match fs::remove_dir_all(&dir) {
                Ok(()) => {
                    tracing::info!(%bpid, dir = %dir.display(), force, "block pool deleted from volume")
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(DnStorageError::Io(io::Error::new(
                        e.kind(),
                        format!("Failed to delete {}: {e}", dir.display()),
                    )))
                }
            }
        }
        Ok(())
    }
}

fn annotate_io(e: io::Error, dir: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::check_pool_id;

    #[test]
    fn only_block_pool_ids_are_accepted() {
        check_pool_id("BP-1234-127.0.0.1-1700000000000").unwrap();
        for bad in [
            "../x",
            "BP-1-../..-2",
            "BP-1-a/b-2",
            "BP-1-..-2",
            "/etc",
            "",
            "x",
            "BP-1-127.0.0.1-2/../../x",
            "BP-1-1\0-2",
        ] {
            let e = check_pool_id(bad).unwrap_err().to_string();
            assert!(e.contains("Invalid block pool id"), "{bad:?}: {e}");
        }
    }
}
