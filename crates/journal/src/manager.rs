//! The `JournalManager` trait: one place the edit log is written to and read from (a local
//! or shared directory, later a quorum of JournalNodes). Arguments and results are plain
//! values so an implementation can sit behind the network.

use async_trait::async_trait;
use bytes::Bytes;

use crate::error::EditLogError;
use crate::record::EditRecord;

/// One edit-log segment as a journal lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    pub first_txid: u64,
    /// `None` while the segment is in progress.
    pub last_txid: Option<u64>,
    pub in_progress: bool,
    /// Where it lives, for messages: a file path, or a remote journal's description.
    pub location: String,
}

#[async_trait]
pub trait JournalManager: Send + Sync {
    /// A short name for logs and errors (e.g. `FileJournal(/data/nn/current)`).
    fn describe(&self) -> String;

    /// Finalizes any in-progress segment, first cutting off a torn tail; an empty
    /// in-progress segment is removed. Returns the last txid present (0 if none).
    async fn recover_unfinalized_segments(&self) -> Result<u64, EditLogError>;

    /// Opens a new in-progress segment whose first record will be `first_txid`.
    async fn start_log_segment(&self, first_txid: u64) -> Result<(), EditLogError>;

    /// Appends already-encoded records (`first_txid..first_txid + count - 1`, encoded with
    /// [`crate::record::encode`]) to the open segment and makes them durable (fdatasync)
    /// before returning.
    async fn journal(
        &self,
        first_txid: u64,
        count: u32,
        records: Bytes,
    ) -> Result<(), EditLogError>;

    /// Closes the open segment `first_txid..=last_txid` under its finalized name.
    async fn finalize_log_segment(
        &self,
        first_txid: u64,
        last_txid: u64,
    ) -> Result<(), EditLogError>;

    /// Records with txid >= `from_txid`, in order, at most `max` of them (callers stream by
    /// asking again from the next txid), optionally including the in-progress segment.
    /// An empty result means there is nothing from `from_txid` on (yet).
    async fn read_edits(
        &self,
        from_txid: u64,
        max: usize,
        include_in_progress: bool,
    ) -> Result<Vec<EditRecord>, EditLogError>;

    /// A Standby's look for new edits (in-progress tailing): the same records as
    /// `read_edits(from_txid, max, true)`, except that a journal may answer "nothing
    /// yet" from a cheaper check that can miss fresh edits for a short, bounded while
    /// (the quorum journal asks one node for its committed txid). Only for a tailer
    /// that looks again soon — never for a read that must reach the end of the log.
    async fn tail_edits(
        &self,
        from_txid: u64,
        max: usize,
    ) -> Result<Vec<EditRecord>, EditLogError> {
        self.read_edits(from_txid, max, true).await
    }

    /// All segments, ordered by first txid.
    async fn list_segments(&self) -> Result<Vec<SegmentInfo>, EditLogError>;

    /// Removes finalized segments whose last txid < `min_txid_to_keep`.
    async fn purge_logs_older_than(&self, min_txid_to_keep: u64) -> Result<(), EditLogError>;

    /// True when rolling the log (finalize, start a new segment) would bring a lagging
    /// copy back into use: a quorum journal skips a JournalNode that missed a write
    /// until the next segment, so once that node answers again the writer should roll
    /// soon rather than run with less redundancy. Local journals never ask.
    async fn wants_roll(&self) -> bool {
        false
    }

    /// The remote copies (JournalNodes) as this writer sees them, for status pages;
    /// empty for local journals and for a journal that is only read.
    fn journal_nodes(&self) -> Vec<JournalNodeView> {
        Vec::new()
    }
}

/// One JournalNode as the edit-log writer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalNodeView {
    /// Its RPC address, as in the qjournal URI.
    pub addr: String,
    /// The highest txid it acknowledged to this writer.
    pub acked_txid: u64,
    /// It failed a write: the writer skips it until the next segment.
    pub out_of_sync: bool,
    /// Edits queued for it and not yet acknowledged.
    pub queued_bytes: usize,
}
