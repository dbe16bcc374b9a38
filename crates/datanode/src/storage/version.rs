//! A DataNode volume's `current/VERSION`: Hadoop's properties (`storageID`, `clusterID`,
//! `cTime`, `datanodeUuid`, `storageType=DATA_NODE`, `layoutVersion`) and, like every hafs
//! VERSION file, a last `checksum=<crc32c hex>` line over the property lines (each trimmed,
//! followed by `\n`), so a damaged file is detected instead of trusted.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use hafs_storage::fsutil::{annotate, write_atomic};
use hafs_storage::storage_dir::VERSION_FILE;
use hafs_storage::StorageType;

use crate::storage::error::{DnStorageError, Result};

/// Hadoop 3's DataNode layout version.
pub const DATANODE_LAYOUT_VERSION: i32 = -57;
pub(crate) const MAX_VERSION_LEN: u64 = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeVersion {
    pub storage_id: String,
    pub cluster_id: String,
    pub datanode_uuid: String,
    pub ctime: i64,
    pub layout_version: i32,
}

impl VolumeVersion {
    fn lines(&self) -> Vec<String> {
        vec![
            format!("storageID={}", self.storage_id),
            format!("clusterID={}", self.cluster_id),
            format!("cTime={}", self.ctime),
            format!("datanodeUuid={}", self.datanode_uuid),
            format!("storageType={}", StorageType::DataNode.as_str()),
            format!("layoutVersion={}", self.layout_version),
        ]
    }

    pub fn to_text(&self) -> String {
        checked_text(
            "#hafs DataNode storage VERSION. Do not edit: the checksum line covers the others.",
            &self.lines(),
        )
    }

    pub fn parse(file: &Path, text: &str) -> Result<VolumeVersion> {
        let corrupt = |reason: String| {
            DnStorageError::Storage(hafs_storage::StorageError::CorruptVersion {
                file: file.to_path_buf(),
                reason,
            })
        };
        let props = read_checked_props(text, &corrupt)?;
        let get = |k: &str| props.get(k, &corrupt);
        let storage_type = get("storageType")?;
        if storage_type != StorageType::DataNode.as_str() {
            return Err(DnStorageError::Storage(
                hafs_storage::StorageError::WrongStorageType {
                    dir: file
                        .parent()
                        .and_then(Path::parent)
                        .unwrap_or(file)
                        .to_path_buf(),
                    expected: StorageType::DataNode,
                    found: StorageType::parse(storage_type)
                        .ok_or_else(|| corrupt(format!("unknown storageType {storage_type:?}")))?,
                },
            ));
        }
        let nonempty = |k: &str| -> Result<String> {
            let v = get(k)?;
            if v.is_empty() {
                return Err(corrupt(format!("empty {k}")));
            }
            Ok(v.to_string())
        };
        Ok(VolumeVersion {
            storage_id: nonempty("storageID")?,
            cluster_id: nonempty("clusterID")?,
            datanode_uuid: nonempty("datanodeUuid")?,
            ctime: get("cTime")?
                .parse()
                .map_err(|_| corrupt("bad cTime".into()))?,
            layout_version: get("layoutVersion")?
                .parse()
                .map_err(|_| corrupt("bad layoutVersion".into()))?,
        })
    }
}

/// `header`, the property lines and a last `checksum=` line over them: the text of a
/// hafs VERSION file (the volume's and each block pool's).
pub(crate) fn checked_text(header: &str, lines: &[String]) -> String {
    let mut text = format!("{header}\n");
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    text.push_str(&format!(
        "checksum={:08x}\n",
        lines_crc(lines.iter().map(String::as_str))
    ));
    text
}

/// The `key=value` properties of a checksummed VERSION text, in file order.
pub(crate) struct CheckedProps<'a>(Vec<(&'a str, &'a str)>);

impl<'a> CheckedProps<'a> {
    /// The value of `k`; a missing one is `corrupt`'s error naming it.
    pub(crate) fn get(
        &self,
        k: &str,
        corrupt: &impl Fn(String) -> DnStorageError,
    ) -> Result<&'a str> {
        self.0
            .iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| *v)
            .ok_or_else(|| corrupt(format!("missing property {k}")))
    }
}

/// Reads the properties of a VERSION text and checks its checksum line (exactly one,
/// last, matching the lines above it); every problem is `corrupt`'s error.
pub(crate) fn read_checked_props<'a>(
    text: &'a str,
    corrupt: &impl Fn(String) -> DnStorageError,
) -> Result<CheckedProps<'a>> {
    let mut props: Vec<(&str, &str)> = Vec::new();
    let mut covered = Vec::new();
    let mut checksum = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .ok_or_else(|| corrupt(format!("not key=value: {line:?}")))?;
        let (k, v) = (k.trim(), v.trim());
        if k == "checksum" {
            if checksum.is_some() {
                return Err(corrupt("two checksum lines".into()));
            }
            checksum = Some(v);
            continue;
        }
        if checksum.is_some() {
            return Err(corrupt(format!("property {k} after the checksum line")));
        }
        props.push((k, v));
        covered.push(line);
    }
    let stored = checksum.ok_or_else(|| corrupt("no checksum line".into()))?;
    let stored = u32::from_str_radix(stored, 16)
        .map_err(|_| corrupt(format!("bad checksum value {stored:?}")))?;
    let computed = lines_crc(covered.iter().copied());
    if stored != computed {
        return Err(corrupt(format!(
            "checksum mismatch: stored {stored:08x}, computed {computed:08x}"
        )));
    }
    Ok(CheckedProps(props))
}

pub(crate) fn lines_crc<'a>(lines: impl Iterator<Item = &'a str>) -> u32 {
    let mut crc = 0u32;
    for l in lines {
        crc = crc32c::crc32c_append(crc, l.as_bytes());
        crc = crc32c::crc32c_append(crc, b"\n");
    }
    crc
}

pub fn version_path(current: &Path) -> PathBuf {
    current.join(VERSION_FILE)
}

/// Reads `<current>/VERSION`; `None` when absent (an unformatted volume).
pub fn read(current: &Path) -> Result<Option<VolumeVersion>> {
    let file = version_path(current);
    match fs::metadata(&file) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(annotate(e, "cannot stat", &file).into()),
        Ok(m) if m.len() > MAX_VERSION_LEN => {
            return Err(DnStorageError::Storage(
                hafs_storage::StorageError::CorruptVersion {
                    file,
                    reason: format!("{} bytes, too large", m.len()),
                },
            ))
        }
        Ok(_) => {}
    }
    let bytes = fs::read(&file).map_err(|e| annotate(e, "cannot read", &file))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        DnStorageError::Storage(hafs_storage::StorageError::CorruptVersion {
            file: file.clone(),
            reason: "not UTF-8".into(),
        })
    })?;
    VolumeVersion::parse(&file, &text).map(Some)
}

/// Writes `<current>/VERSION` crash-safely (temp, fsync, rename, fsync dir).
pub fn write(current: &Path, v: &VolumeVersion) -> Result<()> {
    write_atomic(&version_path(current), v.to_text().as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let v = VolumeVersion {
            storage_id: "DS-x".into(),
            cluster_id: "CID-1".into(),
            datanode_uuid: hafs_util::uuid::new_v4(),
            ctime: 0,
            layout_version: DATANODE_LAYOUT_VERSION,
        };
        let p = Path::new("/x/current/VERSION");
        assert_eq!(VolumeVersion::parse(p, &v.to_text()).unwrap(), v);
        let bad = v.to_text().replace("CID-1", "CID-2");
        assert!(VolumeVersion::parse(p, &bad).is_err());
        assert_eq!(hafs_util::uuid::new_v4().len(), 36);
        assert_ne!(hafs_util::uuid::new_v4(), hafs_util::uuid::new_v4());
    }
}
