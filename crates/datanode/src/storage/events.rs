//! Events the data path reports to the rest of the DataNode (the NameNode actors).
//!
//! The xceiver and the block scanner send them on a bounded
//! `tokio::sync::mpsc::Sender<BlockEvent>` given to them at construction; the DataNode's
//! actors turn them into incremental block reports (`blockReceivedAndDeleted`),
//! `reportBadBlocks` and error reports.

use crate::storage::replica::ExtendedBlock;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockEvent {
    /// A replica was created (rbw) for a write: `RECEIVING_BLOCK` in incremental reports.
    Receiving {
        block: ExtendedBlock,
        storage_id: String,
    },
    /// A replica was finalized (write finished, re-replication copy received, append or
    /// recovery closed): `RECEIVED_BLOCK`. `del_hint` names a DataNode whose replica the
    /// NameNode may delete (balancer moves), empty otherwise.
    Received {
        block: ExtendedBlock,
        storage_id: String,
        del_hint: String,
    },
    /// A replica was found corrupt (scanner, or a failed read): report it as bad.
    Corrupt {
        block: ExtendedBlock,
        storage_id: String,
        reason: String,
    },
    /// A volume failed and was taken out; its replicas are gone from this DataNode.
    VolumeFailed {
        storage_id: String,
        dir: std::path::PathBuf,
        reason: String,
    },
}
