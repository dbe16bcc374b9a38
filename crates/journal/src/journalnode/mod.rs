//! The JournalNode: serves QJournalProtocol for any number of journal ids from one
//! edits dir (`dfs.journalnode.edits.dir`), and copies finalized segments it lacks from
//! its peers (the syncer).
//!
//! Each journal id also has a leadership lease for the built-in election
//! (`election.rs`, docs/election.md).
//!
//! Each journal is a [`crate::qjournal::Journal`] over [`crate::qjournal::FileStorage`]
//! behind a mutex; calls run on the blocking pool. Calls of one journal are serialized,
//! which is what the protocol needs (serial numbers, one writer).

mod convert;
mod election;
mod server;
mod service;
mod syncer;

pub use convert::*;
pub use election::{view_from_proto, view_to_proto};
pub use server::{config_from, JournalNodeServer, ENABLE_SYNC_KEY, SYNC_INTERVAL_KEY};
pub use service::{JournalNode, JournalNodeConfig, QJOURNAL_PROTOCOL};
pub use syncer::{fetch_segment, run as run_syncer, sync_once};
