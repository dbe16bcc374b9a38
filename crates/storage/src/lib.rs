//! What every hafs daemon keeps on its local disks besides its data: crash-safe file
//! helpers (atomic replacement, directory fsync, the storage-directory lock), the
//! `VERSION` and `seen_txid` files of a storage directory (Hadoop's Storage /
//! StorageDirectory), their error type, and a temporary directory for tests. The
//! NameNode, JournalNode and DataNode share it; it knows nothing of edit logs, so the
//! DataNode does not link the quorum journal or the election to get it.

pub mod error;
pub mod fsutil;
pub mod storage_dir;
pub mod test_util;

pub use error::StorageError;
pub use fsutil::DirLock;
pub use storage_dir::{StorageDir, StorageInfo, StorageType};
