//! The built-in election (docs/election.md), free of network IO: [`Lease`] is the
//! leadership lease one JournalNode keeps per journal id (its rules, and where it is
//! persisted: [`LeaseStorage`]), [`candidate`] the candidate's pure decisions (timing,
//! the term to ask for, the latest breadcrumb, the holder's own deadline), and the wire
//! conversions both sides use.
//!
//! The JournalNode serves the leases (`crate::server`); the `JournalElector` of hafs-ha
//! asks for them; the election model check (`tests/election_model.rs`) runs this code.

pub mod candidate;
mod convert;
mod lease;
mod lease_file;

pub use convert::{view_from_proto, view_to_proto};
pub use lease::{Lease, LeaseView, MAX_BREADCRUMB_LEN, MAX_HOLDER_LEN, MAX_LEASE_MS, MIN_LEASE_MS};
pub use lease_file::{
    breadcrumb_from_proto, breadcrumb_to_proto, decode_lease, encode_lease, Breadcrumb,
    FileLeaseStorage, LeaseStorage, MemLeaseStorage, PersistedLease, LEASE_FILE,
};
