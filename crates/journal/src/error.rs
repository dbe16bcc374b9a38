//! Error types. IO errors carry the path they concern in their message (see
//! [`crate::fsutil::annotate`]), so every error names the file an operator must look at.

use std::io;
use std::path::PathBuf;

pub use hafs_storage::StorageError;

/// Errors of the edit log: segment files, journals, journal sets.
#[derive(Debug, thiserror::Error)]
pub enum EditLogError {
    #[error("{0}")]
    Io(#[from] io::Error),

    /// Damaged acknowledged data (or a damaged finalized segment). The NameNode must not
    /// start on it: the operator restores the segment from another copy.
    #[error("Corrupt edit log {} at byte offset {offset}: {reason}", file.display())]
    Corrupt {
        file: PathBuf,
        offset: u64,
        reason: String,
    },

    /// Transactions that should exist are in no segment (purged or lost).
    #[error("Gap in the edit log of {journal}: no segment holds transactions {from}..={to}")]
    Gap { journal: String, from: u64, to: u64 },

    #[error("Edit record for txid {txid} has a {len}-byte payload; the maximum is {max} bytes")]
    RecordTooLarge { txid: u64, len: usize, max: usize },

    /// The caller broke the journal protocol (wrong txid, no open segment, …): a bug.
    #[error("Illegal journal state in {journal}: {reason}")]
    IllegalState { journal: String, reason: String },

    #[error("No journal is left to write to ({0}); the NameNode must stop")]
    NoLiveJournals(String),

    #[error("Journal IO task failed: {0}")]
    TaskFailed(String),

    #[error(transparent)]
    Storage(#[from] StorageError),
}
