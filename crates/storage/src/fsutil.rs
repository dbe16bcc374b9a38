//! Crash-safe file helpers: atomic replacement, directory fsync, the storage lock.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::StorageError;

/// Name of the lock file in a storage directory's root (as in Hadoop).
pub const LOCK_FILE: &str = "in_use.lock";

/// Adds what was being done and to which path to an IO error, keeping its kind.
pub fn annotate(err: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(err.kind(), format!("{what} {}: {err}", path.display()))
}

/// Replaces `path` with `bytes` so that a crash leaves either the old or the new content:
/// write a temp file in the same directory, fsync it, rename it over `path`, fsync the dir.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = parent_dir(path);
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a file path: {}", path.display()),
        )
    })?;
    let tmp = dir.join(format!(
        ".{}.tmp.{}.{}",
        name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| annotate(e, "cannot create", &tmp))?;
        f.write_all(bytes)
            .map_err(|e| annotate(e, "cannot write", &tmp))?;
        f.sync_all()
            .map_err(|e| annotate(e, "cannot fsync", &tmp))?;
        drop(f);
        fs::rename(&tmp, path).map_err(|e| annotate(e, "cannot rename temp file to", path))?;
        fsync_dir(&dir)
    })();
    if result.is_err() {
        // Best effort: a leftover temp file is harmless but untidy.
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Fsyncs a directory so that entries created, renamed or removed in it are durable.
pub fn fsync_dir(dir: &Path) -> io::Result<()> {
    let d = File::open(dir).map_err(|e| annotate(e, "cannot open directory", dir))?;
    d.sync_all()
        .map_err(|e| annotate(e, "cannot fsync directory", dir))
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// An exclusive lock on `<dir>/in_use.lock`, so two daemons never share a storage
/// directory. The lock lives as long as this value (the kernel drops it when the file is
/// closed, including when the process dies); keep it for the process lifetime.
///
/// `flock` locks belong to the open file description, so even two `lock` calls in one
/// process conflict.
#[derive(Debug)]
pub struct DirLock {
    dir: PathBuf,
    _file: File,
}

impl DirLock {
    pub fn lock(dir: &Path) -> Result<DirLock, StorageError> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| annotate(e, "cannot open lock file", &path))?;
        // SAFETY: flock on a valid, owned descriptor; no memory is passed.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(StorageError::Locked {
                    dir: dir.to_path_buf(),
                    holder: Some(holder.trim().to_string()),
                });
            }
            return Err(annotate(err, "cannot lock", &path).into());
        }
        // Record the holder for the operator (Hadoop writes "pid@host"); informative only.
        let note = format!("pid {}\n", std::process::id());
        let _ = file
            .set_len(0)
            .and_then(|_| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(note.as_bytes()));
        Ok(DirLock {
            dir: dir.to_path_buf(),
            _file: file,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::TempDir;

    #[test]
    fn write_atomic_replaces_content_and_leaves_no_temp_files() {
        let t = TempDir::new("fsutil-atomic");
        let p = t.path().join("f");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two!").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two!");
        let names: Vec<_> = fs::read_dir(t.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("f")]);
    }

    #[test]
    fn write_atomic_into_missing_dir_names_the_path() {
        let t = TempDir::new("fsutil-missing");
        let p = t.path().join("nope").join("f");
        let err = write_atomic(&p, b"x").unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[test]
    fn dir_lock_twice_in_one_process_fails_until_released() {
        let t = TempDir::new("fsutil-lock");
        let first = DirLock::lock(t.path()).unwrap();
        let err = DirLock::lock(t.path()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, StorageError::Locked { .. }));
        assert!(
            msg.starts_with(&format!(
                "Cannot lock storage {}. The directory is already locked",
                t.path().display()
            )),
            "{msg}"
        );
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        drop(first);
        let again = DirLock::lock(t.path()).unwrap();
        assert_eq!(again.dir(), t.path());
    }
}
