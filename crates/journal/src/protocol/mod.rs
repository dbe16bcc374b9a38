//! What the quorum journal's two sides share (Hadoop's `qjournal.protocol`): the protocol
//! name, the plain values its messages carry ([`NsInfo`], [`RequestInfo`],
//! [`SegmentState`], [`PrepareResponse`], …), their conversions to and from the protobuf
//! messages, the errors and the Java exception classes they travel as ([`QjError`]),
//! the `qjournal://` URI and which journal ids are valid.
//!
//! The client (`crate::client`, the QuorumJournal writer and reader) and the server
//! (`crate::server`, the JournalNode) both build on this module and never on each other.

mod convert;
mod error;
mod journal_id;
mod types;
mod uri;

pub use convert::{
    jid, ns_from_proto, ns_to_proto, req_from_proto, req_to_proto, seg_from_proto, seg_to_proto,
};
pub use error::{classes, QjError};
pub use journal_id::{check_journal_id, MAX_JOURNAL_ID_LEN};
pub use types::{NsInfo, PaxosData, PrepareResponse, RequestInfo, SegmentState};
pub use uri::{QjournalUri, DEFAULT_PORT, SCHEME};

/// The protocol name JournalNodes serve and writers call (Hadoop's).
pub const QJOURNAL_PROTOCOL: &str = "org.apache.hadoop.hdfs.qjournal.protocol.QJournalProtocol";
