//! The QuorumJournal: the edit log on 2N+1 JournalNodes, behind [`JournalManager`].
//!
//! Writing: a new writer takes a new epoch from a majority (`getJournalState` then
//! `newEpoch`), recovers the last segment (`prepareRecovery` / `acceptRecovery` /
//! `finalizeLogSegment` on a majority, choosing the copy by Hadoop's rules), then writes
//! batches to every node in parallel through one ordered queue per node; a batch is
//! durable once a majority acknowledged it within `dfs.qjournal.write-txns.timeout.ms`.
//! A node that fails a write is skipped until the next segment (and reported). The
//! committed txid rides along on every call.
//!
//! Loss of quorum: the write fails with a clear error. The NameNode's edit log treats any
//! failed journal write as fatal and exits (see docs/quorum-journal.md for why).

mod call;
mod logger;
mod qjm;
mod uri;

pub use call::{with_quorum, BoxFut, QuorumFailure};
pub use logger::Logger;
pub use qjm::{
    JournalNodeStatus, QjmConfig, QuorumJournal, COMMIT_HEARTBEAT_DEFAULT, COMMIT_HEARTBEAT_KEY,
};
pub use uri::QjournalUri;
