//! The storage directory's error type. IO errors carry the path they concern in their
//! message (see [`crate::fsutil::annotate`]), so every error names the file an operator
//! must look at.

use std::io;
use std::path::PathBuf;

use crate::storage_dir::StorageType;

/// Errors of the storage-directory files: VERSION, seen_txid, the directory lock.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{0}")]
    Io(#[from] io::Error),

    #[error("Cannot lock storage {}. The directory is already locked{}", dir.display(), holder_suffix(holder))]
    Locked {
        dir: PathBuf,
        holder: Option<String>,
    },

    #[error("{}", not_formatted_message(dir, *storage_type))]
    NotFormatted {
        dir: PathBuf,
        storage_type: StorageType,
    },

    #[error("Corrupt VERSION file {}: {reason}. Restore this directory from a healthy copy or reformat it.", file.display())]
    CorruptVersion { file: PathBuf, reason: String },

    #[error("Corrupt seen_txid file {}: {reason}. Restore this directory from a healthy copy or reformat it.", file.display())]
    CorruptSeenTxid { file: PathBuf, reason: String },

    #[error("Incompatible clusterIDs in {}: expected clusterID = {expected}; found clusterID = {found}. The directory belongs to another cluster: fix the configured directories or reformat it.", dir.display())]
    IncompatibleClusterId {
        dir: PathBuf,
        expected: String,
        found: String,
    },

    #[error("Incompatible namespaceIDs in {}: expected namespaceID = {expected}; found namespaceID = {found}. The directory belongs to another namespace: fix the configured directories or reformat it.", dir.display())]
    IncompatibleNamespaceId {
        dir: PathBuf,
        expected: u32,
        found: u32,
    },

    #[error("Unexpected storage type in {}: expected {expected}, found {found}. This directory belongs to another kind of daemon.", dir.display())]
    WrongStorageType {
        dir: PathBuf,
        expected: StorageType,
        found: StorageType,
    },

    #[error("Unsupported layoutVersion {found} in {}: this hafs uses layoutVersion {expected}. Upgrades between layouts are not supported.", dir.display())]
    UnsupportedLayoutVersion {
        dir: PathBuf,
        expected: i32,
        found: i32,
    },
}

fn holder_suffix(holder: &Option<String>) -> String {
    match holder {
        Some(h) if !h.is_empty() => format!(" (by {h})"),
        _ => String::new(),
    }
}

fn not_formatted_message(dir: &std::path::Path, storage_type: StorageType) -> String {
    match storage_type {
        StorageType::NameNode => format!(
            "NameNode is not formatted: {}. Run `hafs namenode -format`.",
            dir.display()
        ),
        StorageType::JournalNode => format!(
            "Journal storage is not formatted: {}. Run `hafs namenode -format` (or `hafs namenode -initializeSharedEdits` for an existing namespace).",
            dir.display()
        ),
        StorageType::DataNode => format!(
            "DataNode storage is not formatted: {}. It is formatted when the DataNode first registers with a NameNode.",
            dir.display()
        ),
    }
}
