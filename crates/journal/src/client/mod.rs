//! The quorum journal client (Hadoop's `qjournal.client`): the edit log on 2N+1
//! JournalNodes, behind [`JournalManager`].
//!
//! Writing: a new writer takes a new epoch from a majority (`getJournalState` then
//! `newEpoch`), recovers the last segment (`prepareRecovery` / `acceptRecovery` /
//! `finalizeLogSegment` on a majority, choosing the copy by Hadoop's rules), then writes
//! batches to every node in parallel through one ordered queue per node; a batch is
//! durable once a majority acknowledged it within `dfs.qjournal.write-txns.timeout.ms`.
//! A node that fails a write is skipped until the next segment (and reported). The
//! committed txid rides along on every call.
//!
//! Every one of those decisions is made by the sans-IO [`WriterCore`]
//! (`writer_core.rs`), which the model checker (`tests/qjm_model.rs`) drives too;
//! `qjm.rs` is the driver that runs it over one [`Logger`] (ordered queue) per node,
//! each over a [`JournalChannel`] (Hadoop IPC, or a test's fault-injecting wrapper).
//! Reading and tailing are in `reader.rs`, format and status in `admin.rs`.
//!
//! Loss of quorum: the write fails with a clear error. The NameNode's edit log treats any
//! failed journal write as fatal and exits (see docs/quorum-journal.md for why).
//!
//! [`JournalManager`]: crate::JournalManager

mod admin;
mod call;
mod channel;
mod config;
mod logger;
mod qjm;
mod reader;
pub mod recovery;
mod wire;
pub mod writer_core;

pub use admin::JournalNodeStatus;
pub use call::{with_quorum, BoxFut, QuorumFailure};
pub use channel::{JournalChannel, RpcChannel};
pub use config::{QjmConfig, COMMIT_HEARTBEAT_DEFAULT, COMMIT_HEARTBEAT_KEY};
pub use logger::Logger;
pub use qjm::QuorumJournal;
pub use writer_core::WriterCore;
