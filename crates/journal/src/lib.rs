//! hafs-journal: the NameNode's edit log on disk, and the storage-directory files around it.
//!
//! # Modules
//!
//! - The edit log itself: `record` and `segment` (the format), the `JournalManager`
//!   trait, `FileJournal`, `JournalSet`, `shared_dir`.
//! - The quorum journal, cut as Hadoop's `qjournal.*` packages: `protocol` (what both
//!   sides share: messages, plain values, errors, the `qjournal://` URI, journal-id
//!   rules), `client` (the QuorumJournal writer and reader that the NameNode runs) and
//!   `server` (the JournalNode). `client` and `server` depend on `protocol`, never on
//!   each other.
//! - `election`: the built-in election's lease and the candidate's decisions, served by
//!   `server` and used by hafs-ha's `JournalElector`.
//!
//! # On-disk format
//!
//! A storage directory (`dfs.namenode.name.dir`, a shared edits dir, a JournalNode dir)
//! looks like Hadoop's:
//!
//! ```text
//! <root>/in_use.lock                      flock'ed by the owning process (DirLock)
//! <root>/current/VERSION                  java-properties text + our `checksum=` line
//! <root>/current/seen_txid                decimal u64, written atomically
//! <root>/current/edits_inprogress_<19d>   the open segment (first txid, zero padded)
//! <root>/current/edits_<19d>-<19d>        finalized segments (first-last txid)
//! ```
//!
//! An edit-log segment file is a 12-byte header — the magic `HAFSEDIT` followed by the
//! format version as a big-endian u32 (currently 1) — and then records, back to back:
//!
//! ```text
//! u32 BE payload length | u64 BE txid | payload | u32 BE crc32c(length ‖ txid ‖ payload)
//! ```
//!
//! Payloads are opaque here (the NameNode encodes its edit ops into them) and at most
//! [`record::MAX_RECORD_LEN`] bytes. Txids inside a segment are consecutive, starting at
//! the txid in the file name.
//!
//! A finalized segment must be intact: any bad record is [`EditLogError::Corrupt`]. An
//! in-progress segment may end in a torn record left by a crash mid-write; that tail was
//! never acknowledged, so recovery cuts it off — but only when no valid later record
//! follows it, since a valid later record means acknowledged data was damaged.
//!
//! Every persistent file other than segments is replaced atomically (temp file, fsync,
//! rename, fsync of the directory: [`fsutil::write_atomic`]).

pub mod client;
mod control_file;
pub mod election;
pub mod error;
pub mod file_journal;
pub mod journal_set;
pub mod manager;
pub mod protocol;
pub mod record;
pub mod segment;
pub mod server;
pub mod shared_dir;

pub use error::{EditLogError, StorageError};
// The storage-directory helpers live in hafs-storage (the DataNode needs them without
// the edit log); these keep the paths the journal's users have always written.
pub use file_journal::FileJournal;
pub use fsutil::DirLock;
pub use hafs_storage::storage_dir as storage;
pub use hafs_storage::{fsutil, test_util};
pub use journal_set::JournalSet;
pub use manager::{JournalManager, JournalNodeView, SegmentInfo};
pub use record::EditRecord;
pub use storage::{StorageDir, StorageInfo, StorageType};
