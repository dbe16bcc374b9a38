//! Plain values of the quorum journal protocol (independent of protobuf).

/// The namespace a journal belongs to (written by `format`, checked by `newEpoch`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NsInfo {
    pub layout_version: i32,
    pub namespace_id: u32,
    pub cluster_id: String,
    pub block_pool_id: String,
}

/// What every writer call carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestInfo {
    pub epoch: u64,
    pub serial: u64,
    /// Highest txid a majority holds, as far as the writer knows.
    pub committed_txid: Option<u64>,
}

/// A segment as a JournalNode reports it. `end_txid == start_txid - 1` never appears:
/// empty in-progress segments are not reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SegmentState {
    pub start_txid: u64,
    pub end_txid: u64,
    pub in_progress: bool,
}

impl SegmentState {
    pub fn contains(&self, txid: u64) -> bool {
        self.start_txid <= txid && txid <= self.end_txid
    }
}

/// A recovery decision this node accepted (Paxos "accepted value").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PaxosData {
    pub segment: SegmentState,
    pub accepted_in_epoch: u64,
}

/// Answer of prepareRecovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrepareResponse {
    pub segment: Option<SegmentState>,
    pub accepted_in_epoch: Option<u64>,
    pub last_writer_epoch: u64,
    pub last_committed_txid: Option<u64>,
    /// crc32c of the reported segment's records (content identity, see `check_accept`).
    pub digest: Option<u32>,
}
