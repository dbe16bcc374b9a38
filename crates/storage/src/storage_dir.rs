//! Storage directories and their `VERSION` and `seen_txid` files.
//!
//! `VERSION` is java-properties text as in Hadoop (`namespaceID=`, `clusterID=`, `cTime=`,
//! `storageType=`, `blockpoolID=`, `layoutVersion=`) plus a last line of our own,
//! `checksum=<crc32c hex>`, over every other property line (each trimmed and followed by
//! `\n`, in file order; comment lines excluded), so a damaged VERSION is detected rather
//! than trusted.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::StorageError;
use crate::fsutil::{annotate, fsync_dir, write_atomic, DirLock};

pub const VERSION_FILE: &str = "VERSION";
pub const SEEN_TXID_FILE: &str = "seen_txid";
pub const CURRENT_DIR: &str = "current";

/// VERSION files larger than this are not VERSION files.
const MAX_VERSION_FILE_LEN: u64 = 64 * 1024;
const MAX_SEEN_TXID_FILE_LEN: u64 = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageType {
    NameNode,
    JournalNode,
    DataNode,
}

impl StorageType {
    /// The spelling in VERSION files (Hadoop's `NodeType` names).
    pub fn as_str(self) -> &'static str {
        match self {
            StorageType::NameNode => "NAME_NODE",
            StorageType::JournalNode => "JOURNAL_NODE",
            StorageType::DataNode => "DATA_NODE",
        }
    }

    pub fn parse(s: &str) -> Option<StorageType> {
        match s {
            "NAME_NODE" => Some(StorageType::NameNode),
            "JOURNAL_NODE" => Some(StorageType::JournalNode),
            "DATA_NODE" => Some(StorageType::DataNode),
            _ => None,
        }
    }
}

impl fmt::Display for StorageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The identity of a storage directory: which cluster, namespace and layout it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageInfo {
    pub layout_version: i32,
    pub namespace_id: u32,
    pub cluster_id: String,
    /// Empty when the storage has none (JournalNode storage); then not written.
    pub block_pool_id: String,
    pub ctime: i64,
    pub storage_type: StorageType,
}

impl StorageInfo {
    /// The VERSION file text, checksum line included.
    pub fn to_version_text(&self) -> String {
        let mut lines = vec![
            format!("namespaceID={}", self.namespace_id),
            format!("clusterID={}", self.cluster_id),
            format!("cTime={}", self.ctime),
            format!("storageType={}", self.storage_type),
        ];
        if !self.block_pool_id.is_empty() {
            lines.push(format!("blockpoolID={}", self.block_pool_id));
        }
        lines.push(format!("layoutVersion={}", self.layout_version));
        let mut text = String::from(
            "#hafs storage VERSION. Do not edit: the checksum line covers the others.\n",
        );
        for l in &lines {
            text.push_str(l);
            text.push('\n');
        }
        text.push_str(&format!(
            "checksum={:08x}\n",
            lines_checksum(lines.iter().map(String::as_str))
        ));
        text
    }

    /// Parses VERSION text; `file` is only used in error messages.
    pub fn parse_version_text(file: &Path, text: &str) -> Result<StorageInfo, StorageError> {
        let corrupt = |reason: String| StorageError::CorruptVersion {
            file: file.to_path_buf(),
            reason,
        };
        let mut props: Vec<(&str, &str)> = Vec::new();
        let mut covered: Vec<&str> = Vec::new();
        let mut stored_checksum: Option<&str> = None;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(corrupt(format!(
                    "line {} is not key=value: {line:?}",
                    i + 1
                )));
            };
            let (key, value) = (key.trim(), value.trim());
            if key == "checksum" {
                if stored_checksum.is_some() {
                    return Err(corrupt("two checksum lines".into()));
                }
                stored_checksum = Some(value);
                continue;
            }
            if stored_checksum.is_some() {
                return Err(corrupt(format!("property {key} after the checksum line")));
            }
            if props.iter().any(|(k, _)| *k == key) {
                return Err(corrupt(format!("property {key} appears twice")));
            }
            props.push((key, value));
            covered.push(line);
        }
        let Some(stored) = stored_checksum else {
            return Err(corrupt(
                "no checksum line (truncated, or not written by hafs)".into(),
            ));
        };
        let computed = lines_checksum(covered.iter().copied());
        let stored = u32::from_str_radix(stored, 16)
            .map_err(|_| corrupt(format!("bad checksum value {stored:?}")))?;
        if stored != computed {
            return Err(corrupt(format!(
                "checksum mismatch: stored {stored:08x}, computed {computed:08x}"
            )));
        }

        let get = |key: &str| -> Result<&str, StorageError> {
            props
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| *v)
                .ok_or_else(|| corrupt(format!("missing property {key}")))
        };
        fn num<T: std::str::FromStr>(
            key: &str,
            v: &str,
            corrupt: &dyn Fn(String) -> StorageError,
        ) -> Result<T, StorageError> {
            v.parse()
                .map_err(|_| corrupt(format!("bad {key} value {v:?}")))
        }
        let storage_type_s = get("storageType")?;
        let storage_type = StorageType::parse(storage_type_s)
            .ok_or_else(|| corrupt(format!("unknown storageType {storage_type_s:?}")))?;
        let cluster_id = get("clusterID")?;
        if cluster_id.is_empty() {
            return Err(corrupt("empty clusterID".into()));
        }
        Ok(StorageInfo {
            layout_version: num("layoutVersion", get("layoutVersion")?, &corrupt)?,
            namespace_id: num("namespaceID", get("namespaceID")?, &corrupt)?,
            cluster_id: cluster_id.to_string(),
            block_pool_id: props
                .iter()
                .find(|(k, _)| *k == "blockpoolID")
                .map(|(_, v)| v.to_string())
                .unwrap_or_default(),
            ctime: num("cTime", get("cTime")?, &corrupt)?,
            storage_type,
        })
    }
}

fn lines_checksum<'a>(lines: impl Iterator<Item = &'a str>) -> u32 {
    let mut crc = 0u32;
    for l in lines {
        crc = crc32c::crc32c_append(crc, l.as_bytes());
        crc = crc32c::crc32c_append(crc, b"\n");
    }
    crc
}

/// Reads `<dir>/VERSION` (`dir` is a storage's `current/`). `None` when there is no
/// VERSION file, i.e. the directory is not formatted.
pub fn read_version(dir: &Path) -> Result<Option<StorageInfo>, StorageError> {
    let file = dir.join(VERSION_FILE);
    let Some(bytes) = read_bounded(&file, MAX_VERSION_FILE_LEN)? else {
        return Ok(None);
    };
    let text = String::from_utf8(bytes).map_err(|_| StorageError::CorruptVersion {
        file: file.clone(),
        reason: "not UTF-8 text".into(),
    })?;
    StorageInfo::parse_version_text(&file, &text).map(Some)
}

/// Writes `<dir>/VERSION` atomically and durably.
pub fn write_version(dir: &Path, info: &StorageInfo) -> Result<(), StorageError> {
    write_atomic(&dir.join(VERSION_FILE), info.to_version_text().as_bytes())?;
    Ok(())
}

/// Reads `<dir>/seen_txid` (a decimal txid, as in Hadoop); `None` if absent.
pub fn read_seen_txid(dir: &Path) -> Result<Option<u64>, StorageError> {
    let file = dir.join(SEEN_TXID_FILE);
    let Some(bytes) = read_bounded(&file, MAX_SEEN_TXID_FILE_LEN)? else {
        return Ok(None);
    };
    parse_seen_txid(&file, &bytes).map(Some)
}

/// Parses the content of a `seen_txid` file; `file` is only used in error messages.
pub fn parse_seen_txid(file: &Path, bytes: &[u8]) -> Result<u64, StorageError> {
    let text = std::str::from_utf8(bytes).unwrap_or("").trim();
    text.parse::<u64>()
        .map_err(|_| StorageError::CorruptSeenTxid {
            file: file.to_path_buf(),
            reason: format!("not a txid: {:?}", String::from_utf8_lossy(bytes)),
        })
}

/// Writes `<dir>/seen_txid` atomically and durably.
pub fn write_seen_txid(dir: &Path, txid: u64) -> Result<(), StorageError> {
    write_atomic(&dir.join(SEEN_TXID_FILE), format!("{txid}\n").as_bytes())?;
    Ok(())
}

/// Reads a whole small file; `None` if it does not exist; an error if larger than `max`.
fn read_bounded(file: &Path, max: u64) -> Result<Option<Vec<u8>>, StorageError> {
    match fs::metadata(file) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(annotate(e, "cannot stat", file).into()),
        Ok(m) if m.len() > max => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is {} bytes, more than the {max} expected",
                    file.display(),
                    m.len()
                ),
            )
            .into())
        }
        Ok(_) => {}
    }
    match fs::read(file) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(annotate(e, "cannot read", file).into()),
    }
}

/// Checks that a directory's identity matches the one expected (another dir of the same
/// NameNode, or the namespace a JournalNode serves).
pub fn check_compatible(
    dir: &Path,
    found: &StorageInfo,
    expected: &StorageInfo,
) -> Result<(), StorageError> {
    if found.storage_type != expected.storage_type {
        return Err(StorageError::WrongStorageType {
            dir: dir.to_path_buf(),
            expected: expected.storage_type,
            found: found.storage_type,
        });
    }
    if found.cluster_id != expected.cluster_id {
        return Err(StorageError::IncompatibleClusterId {
            dir: dir.to_path_buf(),
            expected: expected.cluster_id.clone(),
            found: found.cluster_id.clone(),
        });
    }
    if found.namespace_id != expected.namespace_id {
        return Err(StorageError::IncompatibleNamespaceId {
            dir: dir.to_path_buf(),
            expected: expected.namespace_id,
            found: found.namespace_id,
        });
    }
    if found.layout_version != expected.layout_version {
        return Err(StorageError::UnsupportedLayoutVersion {
            dir: dir.to_path_buf(),
            expected: expected.layout_version,
            found: found.layout_version,
        });
    }
    Ok(())
}

/// One storage directory: `<root>/in_use.lock` and `<root>/current/{VERSION,seen_txid,…}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageDir {
    pub root: PathBuf,
}

impl StorageDir {
    pub fn new(root: impl Into<PathBuf>) -> StorageDir {
        StorageDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn current(&self) -> PathBuf {
        self.root.join(CURRENT_DIR)
    }

    pub fn version_file(&self) -> PathBuf {
        self.current().join(VERSION_FILE)
    }

    /// Takes the directory's exclusive lock (creating the root if needed).
    pub fn lock(&self) -> Result<DirLock, StorageError> {
        fs::create_dir_all(&self.root)
            .map_err(|e| annotate(e, "cannot create storage directory", &self.root))?;
        DirLock::lock(&self.root)
    }

    /// True when `current/VERSION` exists (its content is checked by `read_version`).
    pub fn is_formatted(&self) -> bool {
        self.version_file().exists()
    }

    pub fn read_version(&self) -> Result<Option<StorageInfo>, StorageError> {
        read_version(&self.current())
    }

    /// Reads VERSION and insists the directory is formatted for `storage_type`.
    pub fn load(&self, storage_type: StorageType) -> Result<StorageInfo, StorageError> {
        let info = self
            .read_version()?
            .ok_or_else(|| StorageError::NotFormatted {
                dir: self.root.clone(),
                storage_type,
            })?;
        if info.storage_type != storage_type {
            return Err(StorageError::WrongStorageType {
                dir: self.root.clone(),
                expected: storage_type,
                found: info.storage_type,
            });
        }
        Ok(info)
    }

    /// Empties `current/` and writes a new VERSION. VERSION is removed first and written
    /// last, so a crash part-way leaves an unformatted directory, never a half-wiped one
    /// that looks formatted.
    pub fn format(&self, info: &StorageInfo) -> Result<(), StorageError> {
        let current = self.current();
        fs::create_dir_all(&self.root)
            .map_err(|e| annotate(e, "cannot create storage directory", &self.root))?;
        let version = self.version_file();
        match fs::remove_file(&version) {
            Ok(()) => fsync_dir(&current)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(annotate(e, "cannot remove", &version).into()),
        }
        match fs::remove_dir_all(&current) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(annotate(e, "cannot empty", &current).into()),
        }
        fs::create_dir(&current).map_err(|e| annotate(e, "cannot create", &current))?;
        fsync_dir(&self.root)?;
        write_version(&current, info)
    }

    pub fn read_seen_txid(&self) -> Result<Option<u64>, StorageError> {
        read_seen_txid(&self.current())
    }

    pub fn write_seen_txid(&self, txid: u64) -> Result<(), StorageError> {
        write_seen_txid(&self.current(), txid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::TempDir;

    fn sample() -> StorageInfo {
        StorageInfo {
            layout_version: -66,
            namespace_id: 123_456_789,
            cluster_id: "CID-1f2e3d4c".into(),
            block_pool_id: "BP-1-127.0.0.1-1700000000000".into(),
            ctime: 0,
            storage_type: StorageType::NameNode,
        }
    }

    #[test]
    fn version_round_trip_and_text_shape() {
        let t = TempDir::new("storage-rt");
        let sd = StorageDir::new(t.path().join("name"));
        assert!(!sd.is_formatted());
        assert_eq!(sd.read_version().unwrap(), None);
        sd.format(&sample()).unwrap();
        assert!(sd.is_formatted());
        assert_eq!(sd.read_version().unwrap(), Some(sample()));
        let text = fs::read_to_string(sd.version_file()).unwrap();
        for l in [
            "namespaceID=123456789",
            "clusterID=CID-1f2e3d4c",
            "cTime=0",
            "storageType=NAME_NODE",
            "layoutVersion=-66",
        ] {
            assert!(text.lines().any(|x| x == l), "missing {l} in {text}");
        }
        assert!(text.lines().last().unwrap().starts_with("checksum="));

        // A JournalNode VERSION has no block pool: round trips without the line.
        let jn = StorageInfo {
            block_pool_id: String::new(),
            storage_type: StorageType::JournalNode,
            ..sample()
        };
        write_version(&sd.current(), &jn).unwrap();
        assert!(!fs::read_to_string(sd.version_file())
            .unwrap()
            .contains("blockpoolID"));
        assert_eq!(sd.load(StorageType::JournalNode).unwrap(), jn);
    }

    #[test]
    fn version_corruption_is_detected() {
        let t = TempDir::new("storage-corrupt");
        let sd = StorageDir::new(t.path());
        sd.format(&sample()).unwrap();
        let good = fs::read_to_string(sd.version_file()).unwrap();

        let cases = [
            good.replace("namespaceID=123456789", "namespaceID=123456788"),
            good.replace("clusterID=CID-1f2e3d4c", "clusterID=CID-1f2e3d4d"),
            good.lines()
                .filter(|l| !l.starts_with("checksum"))
                .map(|l| format!("{l}\n"))
                .collect(),
            good.lines()
                .filter(|l| !l.starts_with("cTime"))
                .map(|l| format!("{l}\n"))
                .collect(),
            good[..good.len() / 2].to_string(),
            good.replace("checksum=", "checksum=zz"),
            format!("{good}extra=1\n"),
        ];
        for (i, bad) in cases.iter().enumerate() {
            fs::write(sd.version_file(), bad).unwrap();
            let err = sd.read_version().unwrap_err();
            assert!(
                matches!(err, StorageError::CorruptVersion { .. }),
                "case {i}: {err}"
            );
            assert!(
                err.to_string()
                    .contains(&sd.version_file().display().to_string()),
                "case {i}: {err}"
            );
        }
        fs::write(sd.version_file(), [0xff, 0xfe, 0x00]).unwrap();
        assert!(matches!(
            sd.read_version(),
            Err(StorageError::CorruptVersion { .. })
        ));
        // Comment lines are not covered: editing them is harmless.
        fs::write(sd.version_file(), good.replace("#hafs", "#edited hafs")).unwrap();
        assert_eq!(sd.read_version().unwrap(), Some(sample()));
    }

    #[test]
    fn format_wipes_current_and_errors_say_what_to_do() {
        let t = TempDir::new("storage-format");
        let sd = StorageDir::new(t.path());
        let err = sd.load(StorageType::NameNode).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "NameNode is not formatted: {}. Run `hafs namenode -format`.",
                t.path().display()
            )
        );
        sd.format(&sample()).unwrap();
        fs::write(
            sd.current()
                .join("edits_0000000000000000001-0000000000000000002"),
            b"x",
        )
        .unwrap();
        sd.write_seen_txid(42).unwrap();
        assert_eq!(sd.read_seen_txid().unwrap(), Some(42));
        let other = StorageInfo {
            cluster_id: "CID-other".into(),
            ..sample()
        };
        sd.format(&other).unwrap();
        let names: Vec<_> = fs::read_dir(sd.current())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(VERSION_FILE)]);
        assert_eq!(sd.read_seen_txid().unwrap(), None);

        let found = sd.load(StorageType::NameNode).unwrap();
        let err = check_compatible(sd.root(), &found, &sample()).unwrap_err();
        assert!(
            err.to_string().starts_with(&format!(
                "Incompatible clusterIDs in {}: ",
                t.path().display()
            )),
            "{err}"
        );
        assert!(matches!(
            sd.load(StorageType::JournalNode),
            Err(StorageError::WrongStorageType { .. })
        ));
        check_compatible(sd.root(), &found, &other).unwrap();
    }

    #[test]
    fn seen_txid_corruption_is_an_error() {
        let t = TempDir::new("storage-seen");
        let sd = StorageDir::new(t.path());
        sd.format(&sample()).unwrap();
        fs::write(sd.current().join(SEEN_TXID_FILE), b"12x\n").unwrap();
        assert!(matches!(
            sd.read_seen_txid(),
            Err(StorageError::CorruptSeenTxid { .. })
        ));
        fs::write(sd.current().join(SEEN_TXID_FILE), vec![b'1'; 100]).unwrap();
        assert!(sd.read_seen_txid().is_err());
    }
}
