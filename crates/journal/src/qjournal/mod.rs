//! The quorum journal's protocol core, free of network IO.
//!
//! [`Journal`] is one JournalNode's copy of one journal (one journal id): the promises it
//! made (epochs), the writer it accepts, its segments and its recovery (Paxos) data. It
//! is a plain state machine over a [`JournalStorage`] — segment files on disk
//! ([`FileStorage`]) or memory ([`MemStorage`], for tests and the model checker) — and
//! the JournalNode's RPC handlers only decode requests and feed it.
//!
//! [`Lease`] is the leadership lease of the built-in election (one per journal id) and
//! [`election`] the candidate's pure decisions (docs/election.md).
//!
//! [`recovery`] holds the writer's pure decisions (which copy of an unfinalized segment
//! wins), shared by the QuorumJournal client and the model checker.
//!
//! Invariants enforced here (each violation is an error, never a silent fix):
//! - a request from an epoch lower than the last promised one is rejected (fencing);
//! - within an epoch, IPC serial numbers strictly increase;
//! - the committed txid never moves back;
//! - edits are written only by the last writer epoch (the one that started the segment);
//! - recovery never replaces a segment with one that drops a committed txid, and never
//!   rewrites a finalized segment.

mod control_file;
pub mod election;
mod error;
mod journal;
mod lease;
mod lease_file;
mod mem_storage;
pub mod recovery;
mod state_file;
mod storage;
mod types;

pub use error::QjError;
pub use journal::{Journal, JournalStatus, PrepareResponse, EDIT_CACHE_BYTES};
pub use lease::{Lease, LeaseView, MAX_BREADCRUMB_LEN, MAX_HOLDER_LEN, MAX_LEASE_MS, MIN_LEASE_MS};
pub use lease_file::{
    breadcrumb_from_proto, breadcrumb_to_proto, decode_lease, encode_lease, Breadcrumb,
    FileLeaseStorage, LeaseStorage, MemLeaseStorage, PersistedLease, LEASE_FILE,
};
pub use mem_storage::MemStorage;
pub use state_file::{decode_state, encode_state, PersistedState, STATE_FILE};
pub use storage::{FileStorage, JournalStorage};
pub use types::{NsInfo, PaxosData, RequestInfo, SegmentState};
