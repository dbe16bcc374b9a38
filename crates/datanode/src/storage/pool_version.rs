//! A block pool's `VERSION` on one volume, `<volume>/current/<bpid>/current/VERSION`
//! (Hadoop's BlockPoolSliceStorage): `namespaceID`, `cTime`, `blockpoolID`,
//! `layoutVersion`, and hafs's `checksum=` line over the others (see `version.rs`).
//!
//! Written the first time a NameNode of the pool accepts this DataNode; checked at every
//! later registration, so a volume that held another namespace's pool of the same id
//! (a re-formatted nameservice) is refused instead of mixed.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use hafs_storage::fsutil::{annotate, write_atomic};
use hafs_storage::storage_dir::VERSION_FILE;
use hafs_storage::StorageError;

use crate::storage::error::{DnStorageError, Result};
use crate::storage::version::{checked_text, read_checked_props, MAX_VERSION_LEN};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockPoolVersion {
    pub namespace_id: u32,
    pub block_pool_id: String,
    pub ctime: i64,
    pub layout_version: i32,
}

impl BlockPoolVersion {
    fn lines(&self) -> Vec<String> {
        vec![
            format!("namespaceID={}", self.namespace_id),
            format!("cTime={}", self.ctime),
            format!("blockpoolID={}", self.block_pool_id),
            format!("layoutVersion={}", self.layout_version),
        ]
    }

    pub fn to_text(&self) -> String {
        checked_text(
            "#hafs block pool VERSION. Do not edit: the checksum line covers the others.",
            &self.lines(),
        )
    }

    /// Parses the file's text; every problem is a `CorruptVersion` naming `file`.
    pub fn parse(file: &Path, text: &str) -> Result<BlockPoolVersion> {
        let corrupt = |reason: String| {
            DnStorageError::Storage(StorageError::CorruptVersion {
                file: file.to_path_buf(),
                reason,
            })
        };
        let props = read_checked_props(text, &corrupt)?;
        let get = |k: &str| props.get(k, &corrupt);
        let block_pool_id = get("blockpoolID")?;
        if !is_block_pool_id(block_pool_id) {
            return Err(corrupt(format!(
                "blockpoolID {block_pool_id:?} is not of the form BP-<number>-<ip>-<number>"
            )));
        }
        Ok(BlockPoolVersion {
            namespace_id: get("namespaceID")?
                .parse()
                .map_err(|_| corrupt("bad namespaceID".into()))?,
            block_pool_id: block_pool_id.to_string(),
            ctime: get("cTime")?
                .parse()
                .map_err(|_| corrupt("bad cTime".into()))?,
            layout_version: get("layoutVersion")?
                .parse()
                .map_err(|_| corrupt("bad layoutVersion".into()))?,
        })
    }
}

/// Whether `s` looks like a block pool id, `BP-<digits>-<a.b.c.d>-<digits>` (Hadoop's
/// BLOCK_POOL_PATH_PATTERN; the address may also be a host name or IPv6 text).
pub fn is_block_pool_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("BP-") else {
        return false;
    };
    let Some((random, rest)) = rest.split_once('-') else {
        return false;
    };
    let Some((addr, ms)) = rest.rsplit_once('-') else {
        return false;
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    digits(random) && digits(ms) && !addr.is_empty() && !addr.contains('/')
}

/// `<bp_current>/VERSION`.
pub fn path(bp_current: &Path) -> PathBuf {
    bp_current.join(VERSION_FILE)
}

/// Reads a pool's VERSION; `None` when absent (the pool is new on this volume).
pub fn read(bp_current: &Path) -> Result<Option<BlockPoolVersion>> {
    let file = path(bp_current);
    match fs::metadata(&file) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(annotate(e, "cannot stat", &file).into()),
        Ok(m) if m.len() > MAX_VERSION_LEN => {
            return Err(DnStorageError::Storage(StorageError::CorruptVersion {
                file,
                reason: format!("{} bytes, too large", m.len()),
            }))
        }
        Ok(_) => {}
    }
    let bytes = fs::read(&file).map_err(|e| annotate(e, "cannot read", &file))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        DnStorageError::Storage(StorageError::CorruptVersion {
            file: file.clone(),
            reason: "not UTF-8".into(),
        })
    })?;
    BlockPoolVersion::parse(&file, &text).map(Some)
}

/// Writes a pool's VERSION crash-safely, creating its directory.
pub fn write(bp_current: &Path, v: &BlockPoolVersion) -> Result<()> {
    fs::create_dir_all(bp_current).map_err(|e| annotate(e, "cannot create", bp_current))?;
    write_atomic(&path(bp_current), v.to_text().as_bytes())?;
    Ok(())
}

/// Checks a pool's VERSION found on disk against what the NameNode says, with
/// Hadoop's wording for each mismatch.
pub fn check(dir: &Path, found: &BlockPoolVersion, expected: &BlockPoolVersion) -> Result<()> {
    if found.namespace_id != expected.namespace_id {
        return Err(DnStorageError::BlockPoolMismatch {
            dir: dir.to_path_buf(),
            what: "namespaceIDs",
            namenode: expected.namespace_id.to_string(),
            datanode: found.namespace_id.to_string(),
        });
    }
    if found.block_pool_id != expected.block_pool_id {
        return Err(DnStorageError::BlockPoolMismatch {
            dir: dir.to_path_buf(),
            what: "blockpoolIDs",
            namenode: expected.block_pool_id.clone(),
            datanode: found.block_pool_id.clone(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::version::lines_crc;

    fn sample() -> BlockPoolVersion {
        BlockPoolVersion {
            namespace_id: 123456,
            block_pool_id: "BP-99-10.0.0.1-1700000000000".into(),
            ctime: 0,
            layout_version: crate::storage::DATANODE_LAYOUT_VERSION,
        }
    }

    #[test]
    fn round_trip() {
        let v = sample();
        let p = Path::new("/v/current/BP-99-10.0.0.1-1700000000000/current/VERSION");
        let text = v.to_text();
        assert!(text.contains("namespaceID=123456\n"), "{text}");
        assert!(text.contains("blockpoolID=BP-99-10.0.0.1-1700000000000\n"));
        assert_eq!(BlockPoolVersion::parse(p, &text).unwrap(), v);
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let p = Path::new("/v/VERSION");
        let good = sample().to_text();
        for (text, want) in [
            (good.replace("123456", "123457"), "checksum mismatch"),
            ("namespaceID=1\n".to_string(), "no checksum line"),
            ("garbage\n".to_string(), "not key=value"),
            (
                good.replace("checksum=", "checksum=zz"),
                "bad checksum value",
            ),
        ] {
            let err = BlockPoolVersion::parse(p, &text).unwrap_err().to_string();
            assert!(err.contains(want) && err.contains("/v/VERSION"), "{err}");
        }
        // Well-formed but missing a property, or with a malformed pool id.
        let lines = ["namespaceID=1", "cTime=0", "layoutVersion=-57"];
        let text = format!(
            "{}\nchecksum={:08x}\n",
            lines.join("\n"),
            lines_crc(lines.iter().copied())
        );
        let err = BlockPoolVersion::parse(p, &text).unwrap_err().to_string();
        assert!(err.contains("missing property blockpoolID"), "{err}");
        let lines = [
            "namespaceID=1",
            "cTime=0",
            "blockpoolID=../etc",
            "layoutVersion=-57",
        ];
        let text = format!(
            "{}\nchecksum={:08x}\n",
            lines.join("\n"),
            lines_crc(lines.iter().copied())
        );
        let err = BlockPoolVersion::parse(p, &text).unwrap_err().to_string();
        assert!(err.contains("not of the form BP-"), "{err}");
    }

    #[test]
    fn block_pool_ids() {
        assert!(is_block_pool_id("BP-1-127.0.0.1-2"));
        assert!(is_block_pool_id("BP-2058163582-10.1.2.3-1700000000000"));
        assert!(!is_block_pool_id("BP-x-127.0.0.1-2"));
        assert!(!is_block_pool_id("BP-1-127.0.0.1"));
        assert!(!is_block_pool_id("1-127.0.0.1-2"));
        assert!(!is_block_pool_id("BP-1-a/b-2"));
    }

    #[test]
    fn mismatches_use_hadoops_words() {
        let found = sample();
        let mut other = sample();
        other.namespace_id = 7;
        let err = check(Path::new("/v"), &found, &other)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("Incompatible namespaceIDs in /v: namenode namespaceID = 7; datanode namespaceID = 123456"),
            "{err}"
        );
        let mut other = sample();
        other.block_pool_id = "BP-1-10.0.0.2-5".into();
        let err = check(Path::new("/v"), &found, &other)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("Incompatible blockpoolIDs in /v"), "{err}");
        assert!(check(Path::new("/v"), &found, &sample()).is_ok());
    }
}
