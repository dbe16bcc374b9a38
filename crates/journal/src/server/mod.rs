//! The JournalNode (Hadoop's `qjournal.server`): serves QJournalProtocol for any number
//! of journal ids from one edits dir (`dfs.journalnode.edits.dir`), and copies finalized
//! segments it lacks from its peers (the syncer).
//!
//! [`Journal`] is one JournalNode's copy of one journal (one journal id): the promises it
//! made (epochs), the writer it accepts, its segments and its recovery (Paxos) data. It
//! is a plain state machine over a [`JournalStorage`] — segment files on disk
//! ([`FileStorage`]) or memory ([`MemStorage`], for tests and the model checker) — and
//! the RPC handlers (`service.rs`) only decode requests and feed it. Each journal is a
//! `Journal<FileStorage>` behind a mutex; calls run on the blocking pool. Calls of one
//! journal are serialized, which is what the protocol needs (serial numbers, one writer).
//!
//! Each journal id also has a leadership lease for the built-in election
//! (`leases.rs` serves the [`crate::election::Lease`]s, docs/election.md).
//!
//! Invariants enforced by `Journal` (each violation by a request is an error, never a
//! silent fix):
//! - a request from an epoch lower than the last promised one is rejected (fencing);
//! - within an epoch, IPC serial numbers strictly increase;
//! - the committed txid never moves back;
//! - edits are written only by the last writer epoch (the one that started the segment);
//! - recovery never replaces a segment with one that drops a committed txid, and never
//!   rewrites a finalized segment.

pub mod http;
mod journal;
mod leases;
mod mem_storage;
mod rpc_server;
mod service;
mod state_file;
mod storage;
mod syncer;

pub use journal::{Journal, JournalStatus, EDIT_CACHE_BYTES};
pub use mem_storage::MemStorage;
pub use rpc_server::{config_from, JournalNodeServer, ENABLE_SYNC_KEY, SYNC_INTERVAL_KEY};
pub use service::{JournalNode, JournalNodeConfig};
pub use state_file::{decode_state, encode_state, PersistedState, STATE_FILE};
pub use storage::{FileStorage, JournalStorage};
pub use syncer::{fetch_segment, run as run_syncer, sync_once};
