//! [`Journal`]: one JournalNode's copy of one journal, as a state machine (Hadoop's
//! `Journal`). Every method checks the protocol's invariants before it touches storage.

use std::collections::VecDeque;

use hafs_util::invariant;

use super::state_file::PersistedState;
use super::storage::JournalStorage;
use crate::protocol::{NsInfo, PaxosData, PrepareResponse, QjError, RequestInfo, SegmentState};
use crate::record::{check_batch, decode, Decoded};

/// Bytes of recent edits kept in memory for getJournaledEdits
/// (`dfs.journalnode.edit-cache-size.bytes`, 1 MiB in Hadoop).
pub const EDIT_CACHE_BYTES: usize = 1 << 20;

/// What `-status` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalStatus {
    pub formatted: bool,
    pub last_promised_epoch: u64,
    pub last_writer_epoch: u64,
    pub committed_txid: u64,
    pub highest_written_txid: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct OpenSegment {
    first: u64,
    next: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Journal<S> {
    jid: String,
    storage: S,
    ns: Option<NsInfo>,
    state: PersistedState,
    /// In memory; `state.committed_txid` is a durable lower bound of it.
    committed_txid: u64,
    /// Highest IPC serial seen in the promised epoch (None right after a promise).
    serial: Option<u64>,
    open: Option<OpenSegment>,
    highest_written_txid: u64,
    /// Recent (txid, encoded record) of the open segment, bounded by EDIT_CACHE_BYTES.
    cache: VecDeque<(u64, Vec<u8>)>,
    cache_bytes: usize,
}

impl<S: JournalStorage> Journal<S> {
    /// Loads the journal's state from `storage`, finishing a recovery that was cut short
    /// between accepting and installing a copied segment.
    pub fn load(jid: &str, mut storage: S) -> Result<Journal<S>, QjError> {
        let ns = storage.load_ns()?;
        let state = if ns.is_some() {
            storage.load_state()?
        } else {
            PersistedState::default()
        };
        for p in &state.paxos {
            if storage.has_staged(p.segment.start_txid) {
                storage.commit_staged(p.segment.start_txid)?;
            }
        }
        let mut j = Journal {
            jid: jid.to_string(),
            committed_txid: state.committed_txid,
            storage,
            ns,
            state,
            serial: None,
            open: None,
            highest_written_txid: 0,
            cache: VecDeque::new(),
            cache_bytes: 0,
        };
        if j.ns.is_some() {
            j.highest_written_txid = j
                .storage
                .segments()?
                .last()
                .map(|s| s.end_txid)
                .unwrap_or(0);
        }
        Ok(j)
    }

    pub fn jid(&self) -> &str {
        &self.jid
    }

    pub fn storage(&self) -> &S {
        &self.storage
    }

    pub fn storage_mut(&mut self) -> &mut S {
        &mut self.storage
    }

    /// The namespace this journal was formatted for.
    pub fn ns(&self) -> Option<&NsInfo> {
        self.ns.as_ref()
    }

    pub fn is_formatted(&self) -> bool {
        self.ns.is_some()
    }

    pub fn last_promised_epoch(&self) -> u64 {
        self.state.last_promised_epoch
    }

    pub fn committed_txid(&self) -> u64 {
        self.committed_txid
    }

    pub fn status(&self) -> JournalStatus {
        JournalStatus {
            formatted: self.ns.is_some(),
            last_promised_epoch: self.state.last_promised_epoch,
            last_writer_epoch: self.state.last_writer_epoch,
            committed_txid: self.committed_txid,
            highest_written_txid: self.highest_written_txid,
        }
    }

    fn check_formatted(&self) -> Result<&NsInfo, QjError> {
        self.ns.as_ref().ok_or_else(|| {
            QjError::NotFormatted(format!(
                "Journal {} ({}) not formatted",
                self.jid,
                self.storage.describe()
            ))
        })
    }

    fn persist(&mut self) -> Result<(), QjError> {
        self.state.committed_txid = self.state.committed_txid.max(self.committed_txid);
        self.storage.save_state(&self.state.clone())
    }

    fn abort_segment(&mut self) {
        if self.open.take().is_some() {
            self.storage.close_segment();
        }
        self.cache.clear();
        self.cache_bytes = 0;
    }

    /// `format`: erases the journal and records the namespace. Refuses to erase data
    /// unless `force`.
    pub fn format(&mut self, ns: &NsInfo, force: bool) -> Result<(), QjError> {
        if ns.namespace_id == 0 {
            return Err(QjError::IllegalArgument(
                "cannot format with namespace id 0".into(),
            ));
        }
        if self.ns.is_some() && !force && !self.storage.segments()?.is_empty() {
            return Err(QjError::IllegalArgument(format!(
                "Journal {} ({}) holds edit log segments; formatting it needs force",
                self.jid,
                self.storage.describe()
            )));
        }
        self.abort_segment();
        self.storage.format(ns)?;
        self.ns = Some(ns.clone());
        self.state = PersistedState::default();
        self.committed_txid = 0;
        self.serial = None;
        self.highest_written_txid = 0;
        Ok(())
    }

    fn promise(&mut self, epoch: u64) -> Result<(), QjError> {
        tracing::info!(jid = %self.jid, from = self.state.last_promised_epoch, to = epoch, "promising epoch");
        self.state.last_promised_epoch = epoch;
        self.serial = None;
        self.persist()
    }

    /// `newEpoch`: promises `epoch` (which must exceed every earlier promise), stops the
    /// current writer, and returns the start txid of the latest segment.
    pub fn new_epoch(&mut self, ns: &NsInfo, epoch: u64) -> Result<Option<u64>, QjError> {
        let mine = self.check_formatted()?;
        if mine.namespace_id != ns.namespace_id || mine.cluster_id != ns.cluster_id {
            return Err(QjError::IllegalArgument(format!(
                "Incompatible namespace: journal {} belongs to namespace {} of cluster {}, the writer to {} of {}",
                self.jid, mine.namespace_id, mine.cluster_id, ns.namespace_id, ns.cluster_id
            )));
        }
        if epoch <= self.state.last_promised_epoch {
            return Err(QjError::Fenced(format!(
                "Proposed epoch {epoch} <= last promise {} for journal {}",
                self.state.last_promised_epoch, self.jid
            )));
        }
        self.promise(epoch)?;
        self.abort_segment();
        Ok(self.storage.segments()?.last().map(|s| s.start_txid))
    }

    /// Checks a writer's request: epoch fencing, serial order, committed txid.
    fn check_request(&mut self, req: &RequestInfo) -> Result<(), QjError> {
        self.check_formatted()?;
        if req.epoch < self.state.last_promised_epoch {
            return Err(QjError::Fenced(format!(
                "IPC's epoch {} is less than the last promised epoch {}",
                req.epoch, self.state.last_promised_epoch
            )));
        }
        if req.epoch > self.state.last_promised_epoch {
            // A newer writer whose newEpoch did not reach us: promise it now.
            self.promise(req.epoch)?;
        }
        if let Some(prev) = self.serial {
            if req.serial <= prev {
                return Err(QjError::OutOfSync(format!(
                    "IPC serial {} from the writer was not higher than prior highest IPC serial {prev}",
                    req.serial
                )));
            }
        }
        self.serial = Some(req.serial);
        if let Some(c) = req.committed_txid {
            if c < self.committed_txid {
                return Err(QjError::IllegalArgument(format!(
                    "Client trying to move committed txid backward from {} to {c}",
                    self.committed_txid
                )));
            }
            let before = self.committed_txid;
            self.committed_txid = c;
            invariant!(
                self.committed_txid >= before,
                "journal {}: committed txid moved back from {before} to {}",
                self.jid,
                self.committed_txid
            );
        }
        Ok(())
    }

    /// A request that writes edits must also come from the last writer epoch.
    fn check_write_request(&mut self, req: &RequestInfo) -> Result<(), QjError> {
        self.check_request(req)?;
        if req.epoch != self.state.last_writer_epoch {
            return Err(QjError::Fenced(format!(
                "IPC's epoch {} is not the current writer epoch {}",
                req.epoch, self.state.last_writer_epoch
            )));
        }
        Ok(())
    }

    /// `heartbeat`: only the request checks (and the committed txid it carries).
    pub fn heartbeat(&mut self, req: &RequestInfo) -> Result<(), QjError> {
        self.check_request(req)
    }

    /// `startLogSegment`: the first write of an epoch makes it the writer epoch.
    pub fn start_log_segment(&mut self, req: &RequestInfo, txid: u64) -> Result<(), QjError> {
        self.check_request(req)?;
        if txid == 0 || txid <= self.committed_txid {
            return Err(QjError::IllegalArgument(format!(
                "cannot start a segment at txid {txid}: txids up to {} are committed",
                self.committed_txid
            )));
        }
        if let Some(o) = self.open {
            tracing::warn!(jid = %self.jid, segment = o.first, "client is starting a new segment while one is open; aborting it");
            self.abort_segment();
        }
        for s in self.storage.segments()? {
            if s.end_txid >= txid && s.start_txid <= txid && s.start_txid != txid {
                return Err(QjError::OutOfSync(format!(
                    "segment at txid {txid} would overlap {}-{}",
                    s.start_txid, s.end_txid
                )));
            }
            if s.start_txid == txid {
                return Err(QjError::OutOfSync(if s.in_progress {
                    format!(
                        "already have an in-progress segment at txid {txid} holding txids up to {}",
                        s.end_txid
                    )
                } else {
                    format!(
                        "already have a finalized segment {}-{}",
                        s.start_txid, s.end_txid
                    )
                }));
            }
        }
        if req.epoch != self.state.last_writer_epoch {
            self.state.last_writer_epoch = req.epoch;
            self.persist()?;
        }
        self.storage.start_segment(txid)?;
        self.open = Some(OpenSegment {
            first: txid,
            next: txid,
        });
        Ok(())
    }

    /// `journal`: appends a batch (`count == 0` only advances the committed txid).
    pub fn journal(
        &mut self,
        req: &RequestInfo,
        segment_txid: u64,
        first_txid: u64,
        count: u32,
        records: &[u8],
    ) -> Result<(), QjError> {
        self.check_write_request(req)?;
        if count == 0 {
            return Ok(());
        }
        let Some(open) = self.open else {
            return Err(QjError::OutOfSync("Can't write, no segment open".into()));
        };
        if open.first != segment_txid {
            return Err(QjError::OutOfSync(format!(
                "Writer out of sync: it thinks it is writing segment {segment_txid} but current segment is {}",
                open.first
            )));
        }
        if first_txid != open.next {
            return Err(QjError::OutOfSync(format!(
                "Can't write txid {first_txid} expecting nextTxId={}",
                open.next
            )));
        }
        check_batch(records, first_txid, count)
            .map_err(|r| QjError::IllegalArgument(format!("malformed batch: {r}")))?;
        // The request checks above refused every bad batch; what is left must extend the
        // open segment by consecutive, rising txids.
        invariant!(
            open.next >= open.first && first_txid == open.next && count > 0,
            "journal {}: batch {first_txid}+{count} does not extend segment {} at {}",
            self.jid,
            open.first,
            open.next
        );
        if let Err(e) = self.storage.append(first_txid, count, records) {
            self.abort_segment();
            return Err(e);
        }
        let last = first_txid + count as u64 - 1;
        self.open = Some(OpenSegment {
            first: open.first,
            next: last + 1,
        });
        self.highest_written_txid = last;
        self.cache_records(records);
        Ok(())
    }

    fn cache_records(&mut self, mut rest: &[u8]) {
        while let Decoded::Record { record, len } = decode(rest) {
            self.cache.push_back((record.txid, rest[..len].to_vec()));
            self.cache_bytes += len;
            rest = &rest[len..];
        }
        while self.cache_bytes > EDIT_CACHE_BYTES {
            match self.cache.pop_front() {
                Some((_, r)) => self.cache_bytes -= r.len(),
                None => break,
            }
        }
    }

    /// `getJournaledEdits`: committed edits of the open segment from the cache.
    pub fn get_journaled_edits(&self, since: u64, max: u32) -> Result<(Vec<u8>, u32), QjError> {
        self.check_formatted()?;
        let Some(front) = self.cache.front() else {
            return Ok((Vec::new(), 0));
        };
        if since < front.0 {
            return Err(QjError::OutOfSync(format!(
                "txid {since} is no longer in the edit cache (oldest cached: {})",
                front.0
            )));
        }
        let mut out = Vec::new();
        let mut n = 0;
        for (txid, rec) in &self.cache {
            if *txid < since {
                continue;
            }
            if *txid > self.committed_txid || n >= max {
                break;
            }
            out.extend_from_slice(rec);
            n += 1;
        }
        Ok((out, n))
    }

    /// `finalizeLogSegment`: the segment must hold exactly `start..=end` here.
    pub fn finalize_log_segment(
        &mut self,
        req: &RequestInfo,
        start: u64,
        end: u64,
    ) -> Result<(), QjError> {
        self.check_request(req)?;
        if end < start {
            return Err(QjError::IllegalArgument(format!(
                "cannot finalize empty segment {start}-{end}"
            )));
        }
        let mut was_open = false;
        if let Some(o) = self.open {
            if o.first == start {
                was_open = true;
                if o.next != end + 1 {
                    return Err(QjError::OutOfSync(format!(
                        "Trying to finalize in-progress log segment {start} to end at txid {end} but only written up to txid {}",
                        o.next - 1
                    )));
                }
                self.open = None;
                self.cache.clear();
                self.cache_bytes = 0;
            }
        }
        let seg = self
            .storage
            .segments()?
            .into_iter()
            .find(|s| s.start_txid == start);
        match seg {
            None => Err(QjError::OutOfSync(format!(
                "No log file to finalize at transaction ID {start}"
            ))),
            Some(s) if !s.in_progress => {
                if s.end_txid != end {
                    return Err(QjError::IllegalArgument(format!(
                        "Trying to re-finalize already finalized log {start}-{} with different endTxId {end}",
                        s.end_txid
                    )));
                }
                self.purge_paxos(start)
            }
            Some(s) => {
                if s.end_txid != end {
                    return Err(QjError::OutOfSync(format!(
                        "Trying to finalize in-progress log segment {start} to end at txid {end} but log on disk only contains up to txid {}",
                        s.end_txid
                    )));
                }
                // Same length is not same content: finalize only the copy this epoch
                // wrote (open above) or accepted in recovery.
                if !was_open
                    && self.state.paxos_for(start).map(|p| p.accepted_in_epoch) != Some(req.epoch)
                {
                    return Err(QjError::OutOfSync(format!(
                        "will not finalize in-progress segment {start}-{end}: it was neither written nor accepted in epoch {} here",
                        req.epoch
                    )));
                }
                self.storage.finalize(start, end)?;
                self.highest_written_txid = self.highest_written_txid.max(end);
                self.purge_paxos(start)
            }
        }
    }

    /// Once finalized, a segment's length is decided: its Paxos data is no longer needed.
    fn purge_paxos(&mut self, start: u64) -> Result<(), QjError> {
        if self.state.paxos_for(start).is_some() {
            self.state.paxos.retain(|p| p.segment.start_txid != start);
            self.persist()?;
        }
        Ok(())
    }

    /// `purgeLogs`.
    pub fn purge_logs(&mut self, req: &RequestInfo, min_txid_to_keep: u64) -> Result<(), QjError> {
        self.check_request(req)?;
        self.storage.purge(min_txid_to_keep)?;
        let before = self.state.paxos.len();
        self.state
            .paxos
            .retain(|p| p.segment.end_txid >= min_txid_to_keep);
        if self.state.paxos.len() != before {
            self.persist()?;
        }
        Ok(())
    }

    /// `getEditLogManifest`: segments holding txids >= `since`, and the committed txid.
    pub fn get_edit_log_manifest(
        &mut self,
        since: u64,
        in_progress_ok: bool,
    ) -> Result<(Vec<SegmentState>, u64), QjError> {
        self.check_formatted()?;
        let segs = self
            .storage
            .segments()?
            .into_iter()
            .filter(|s| s.end_txid >= since && (in_progress_ok || !s.in_progress))
            .collect();
        Ok((segs, self.committed_txid))
    }

    /// All segments (for the syncer and `-status`).
    pub fn segments(&mut self) -> Result<Vec<SegmentState>, QjError> {
        self.check_formatted()?;
        self.storage.segments()
    }

    /// `getSegment` (hafs): records of a segment from `since`.
    pub fn read_segment(
        &mut self,
        start: u64,
        end: Option<u64>,
        since: u64,
        max_bytes: usize,
    ) -> Result<(SegmentState, Vec<u8>, u32), QjError> {
        self.check_formatted()?;
        let seg = self
            .storage
            .segments()?
            .into_iter()
            .find(|s| s.start_txid == start)
            .ok_or_else(|| QjError::OutOfSync(format!("no segment at txid {start} here")))?;
        let seg = match end {
            Some(e) if e > seg.end_txid => {
                return Err(QjError::OutOfSync(format!(
                    "segment {start} ends at {} here, not {e}",
                    seg.end_txid
                )))
            }
            Some(e) => SegmentState { end_txid: e, ..seg },
            None => seg,
        };
        let since = since.max(start);
        if let Some((bytes, n)) = self.read_cached(seg, since, max_bytes) {
            return Ok((seg, bytes, n));
        }
        let (bytes, n) = self.storage.read(seg, since, max_bytes)?;
        Ok((seg, bytes, n))
    }

    /// Records `since..=seg.end_txid` of the open segment from the edit cache, when the
    /// cache still holds `since`. A Standby tails the open segment every few
    /// milliseconds and asks whichever JournalNodes answered its manifest call first, so
    /// the storage's one read cursor rarely matches and a disk read would scan the
    /// segment from its start on every look (quadratic in the segment's length). The
    /// cache holds exactly the records this node appended to the open segment (it is
    /// emptied whenever the segment ends or is aborted), so the answer is the same.
    fn read_cached(
        &self,
        seg: SegmentState,
        since: u64,
        max_bytes: usize,
    ) -> Option<(Vec<u8>, u32)> {
        let open = self.open?;
        if !seg.in_progress || open.first != seg.start_txid || since >= open.next {
            return None;
        }
        let front = self.cache.front()?.0;
        if since < front {
            return None;
        }
        // The cache is contiguous from its front: the record for `since` is at this index.
        let skip = usize::try_from(since - front).ok()?;
        let mut out = Vec::new();
        let mut n = 0u32;
        for (txid, rec) in self.cache.iter().skip(skip) {
            invariant!(
                *txid == since + u64::from(n),
                "journal {}: edit cache not contiguous at txid {txid} (expected {})",
                self.jid,
                since + u64::from(n)
            );
            if *txid > seg.end_txid || (n > 0 && out.len() >= max_bytes) {
                break;
            }
            out.extend_from_slice(rec);
            n += 1;
        }
        Some((out, n))
    }

    /// `prepareRecovery` (Paxos phase 1): stops writing, reports the segment and any
    /// recovery decision accepted for it.
    pub fn prepare_recovery(
        &mut self,
        req: &RequestInfo,
        segment_txid: u64,
    ) -> Result<PrepareResponse, QjError> {
        self.check_request(req)?;
        self.abort_segment();
        let prev = self.state.paxos_for(segment_txid);
        if prev.is_some() && self.storage.has_staged(segment_txid) {
            self.storage.commit_staged(segment_txid)?;
        }
        let seg = self
            .storage
            .segments()?
            .into_iter()
            .find(|s| s.start_txid == segment_txid);
        let finalized = seg.is_some_and(|s| !s.in_progress);
        let mut resp = PrepareResponse {
            segment: seg,
            accepted_in_epoch: None,
            last_writer_epoch: self.state.last_writer_epoch,
            last_committed_txid: (self.committed_txid > 0).then_some(self.committed_txid),
            digest: None,
        };
        if let (Some(p), false) = (prev, finalized) {
            if seg.map(|s| s.end_txid) != Some(p.segment.end_txid) {
                return Err(QjError::Invariant(format!(
                    "accepted recovery of segment {}-{} but the segment on disk is {seg:?}",
                    p.segment.start_txid, p.segment.end_txid
                )));
            }
            resp.segment = Some(p.segment);
            resp.accepted_in_epoch = Some(p.accepted_in_epoch);
        }
        if let Some(s) = resp.segment {
            resp.digest = Some(self.digest(s)?);
        }
        Ok(resp)
    }

    /// crc32c over the encoded records of `seg` as stored here.
    pub fn digest(&mut self, seg: SegmentState) -> Result<u32, QjError> {
        let mut crc = 0u32;
        let mut next = seg.start_txid;
        // Bounded: each pass reads at least one record or stops.
        while next <= seg.end_txid {
            let (b, n) = self.storage.read(seg, next, 8 << 20)?;
            if n == 0 {
                return Err(QjError::OutOfSync(format!(
                    "segment {seg:?} ends at txid {} here",
                    next - 1
                )));
            }
            crc = crc32c::crc32c_append(crc, &b);
            next += n as u64;
        }
        Ok(crc)
    }

    /// `acceptRecovery` (Paxos phase 2), first half: checks the decision and says whether
    /// this node must copy the segment from a peer (then call `stage_copy` and
    /// `accept_recovery` with the copy). A local copy counts as the decided one only if
    /// it has the same end and, when `digest` is given, the same content.
    pub fn check_accept(
        &mut self,
        req: &RequestInfo,
        seg: SegmentState,
        digest: Option<u32>,
    ) -> Result<bool, QjError> {
        self.check_request(req)?;
        if seg.end_txid < seg.start_txid {
            return Err(QjError::IllegalArgument(format!(
                "cannot accept empty segment {seg:?}"
            )));
        }
        if let Some(old) = self.state.paxos_for(seg.start_txid) {
            if old.accepted_in_epoch > req.epoch {
                return Err(QjError::Invariant(format!(
                    "Bad paxos transition, out-of-order epochs: accepted in {} then asked in {}",
                    old.accepted_in_epoch, req.epoch
                )));
            }
        }
        let cur = self
            .storage
            .segments()?
            .into_iter()
            .find(|s| s.start_txid == seg.start_txid);
        let same = match cur {
            Some(c) if c.end_txid == seg.end_txid => match digest {
                Some(d) => self.digest(c)? == d,
                None => true,
            },
            _ => false,
        };
        match cur {
            _ if same => {
                // Nothing to copy: a copy staged by an earlier, unfinished accept must
                // not be installed by this one.
                self.storage.drop_staged(seg.start_txid)?;
                Ok(false)
            }
            None => Ok(true),
            Some(c) => {
                if c.contains(self.committed_txid) && !seg.contains(self.committed_txid) {
                    return Err(QjError::Invariant(format!(
                        "Cannot replace segment {c:?} with new segment {seg:?}: would discard already-committed txn {}",
                        self.committed_txid
                    )));
                }
                if !c.in_progress {
                    return Err(QjError::Invariant(format!(
                        "Should never be asked to synchronize a different log on top of an already-finalized segment {c:?}"
                    )));
                }
                Ok(true)
            }
        }
    }

    /// Stages a copy of the accepted segment (records `start..=end`) fetched from a peer.
    pub fn stage_copy(
        &mut self,
        seg: SegmentState,
        records: &[u8],
        count: u32,
        digest: Option<u32>,
    ) -> Result<(), QjError> {
        if let Some(d) = digest {
            let got = crc32c::crc32c(records);
            if got != d {
                return Err(QjError::OutOfSync(format!(
                    "copy of segment {seg:?} has digest {got:08x}, the decided copy {d:08x}"
                )));
            }
        }
        if seg.start_txid + count as u64 != seg.end_txid + 1 {
            return Err(QjError::IllegalArgument(format!(
                "copy of segment {seg:?} holds {count} records"
            )));
        }
        check_batch(records, seg.start_txid, count)
            .map_err(|r| QjError::IllegalArgument(format!("malformed segment copy: {r}")))?;
        self.storage.stage(seg.start_txid, records, count)
    }

    /// `acceptRecovery`, second half: records the decision, then installs a staged copy.
    /// Re-checks everything, since other calls may have run while the copy was fetched.
    pub fn accept_recovery(
        &mut self,
        req: &RequestInfo,
        seg: SegmentState,
        digest: Option<u32>,
    ) -> Result<(), QjError> {
        let need_copy = self.check_accept_again(req, seg, digest)?;
        if need_copy && !self.storage.has_staged(seg.start_txid) {
            return Err(QjError::OutOfSync(format!(
                "segment {seg:?} must be copied before it is accepted"
            )));
        }
        self.abort_segment();
        self.state.set_paxos(PaxosData {
            segment: seg,
            accepted_in_epoch: req.epoch,
        });
        self.persist()?;
        if need_copy {
            self.storage.commit_staged(seg.start_txid)?;
        } else {
            self.storage.drop_staged(seg.start_txid)?;
        }
        if seg.end_txid < self.highest_written_txid && seg.contains(self.highest_written_txid) {
            self.highest_written_txid = seg.end_txid;
        }
        self.highest_written_txid = self.highest_written_txid.max(seg.end_txid);
        tracing::info!(jid = %self.jid, ?seg, epoch = req.epoch, "accepted recovery");
        Ok(())
    }

    fn check_accept_again(
        &mut self,
        req: &RequestInfo,
        seg: SegmentState,
        digest: Option<u32>,
    ) -> Result<bool, QjError> {
        // The serial was consumed by check_accept; only re-check the epoch and the data.
        if req.epoch < self.state.last_promised_epoch {
            return Err(QjError::Fenced(format!(
                "IPC's epoch {} is less than the last promised epoch {}",
                req.epoch, self.state.last_promised_epoch
            )));
        }
        let saved = self.serial;
        self.serial = None;
        let r = if self.storage.has_staged(seg.start_txid) {
            // The staged copy is what will be installed; it was checked when staged.
            self.check_accept(req, seg, None).map(|_| true)
        } else {
            self.check_accept(req, seg, digest)
        };
        self.serial = saved;
        r
    }

    /// Catch-up: installs a finalized segment copied from a peer, if this node lacks it
    /// and it overlaps nothing here.
    pub fn install_finalized(
        &mut self,
        seg: SegmentState,
        records: &[u8],
        count: u32,
    ) -> Result<bool, QjError> {
        self.check_formatted()?;
        if seg.in_progress || seg.start_txid + count as u64 != seg.end_txid + 1 {
            return Err(QjError::IllegalArgument(format!(
                "bad segment copy {seg:?} ({count} records)"
            )));
        }
        let segs = self.storage.segments()?;
        let latest = segs.iter().map(|s| s.start_txid).max();
        for s in &segs {
            if s.start_txid <= seg.end_txid && seg.start_txid <= s.end_txid {
                // A stale in-progress copy (a later segment exists, so no recovery will
                // look at it) is replaced by the decided, finalized one.
                let stale = s.in_progress
                    && s.start_txid == seg.start_txid
                    && latest.is_some_and(|l| l > s.start_txid)
                    && self.open.is_none_or(|o| o.first != s.start_txid)
                    && self.state.paxos_for(s.start_txid).is_none();
                if !stale {
                    return Ok(false);
                }
            }
        }
        if self.open.is_some_and(|o| o.first <= seg.end_txid) {
            return Ok(false);
        }
        check_batch(records, seg.start_txid, count)
            .map_err(|r| QjError::IllegalArgument(format!("malformed segment copy: {r}")))?;
        self.storage
            .install_finalized(seg.start_txid, seg.end_txid, records, count)?;
        self.highest_written_txid = self.highest_written_txid.max(seg.end_txid);
        Ok(true)
    }

    /// Forgets in-memory writer state, as a process restart would (model checker).
    pub fn restart(self) -> Result<Journal<S>, QjError>
    where
        S: Sized,
    {
        let Journal {
            jid, mut storage, ..
        } = self;
        storage.close_segment();
        Journal::load(&jid, storage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::encode_batch;
    use crate::server::MemStorage;

    fn ns() -> NsInfo {
        NsInfo {
            layout_version: -1,
            namespace_id: 1,
            cluster_id: "c".into(),
            block_pool_id: "b".into(),
        }
    }

    fn req(epoch: u64, serial: u64, committed: Option<u64>) -> RequestInfo {
        RequestInfo {
            epoch,
            serial,
            committed_txid: committed,
        }
    }

    fn batch(first: u64, n: u64) -> Vec<u8> {
        let p: Vec<Vec<u8>> = (first..first + n).map(|t| vec![t as u8]).collect();
        encode_batch(first, &p).unwrap().to_vec()
    }

    #[test]
    fn open_segment_reads_are_the_same_from_the_cache_and_from_storage() {
        let mut j = Journal::load("j", MemStorage::new()).unwrap();
        j.format(&ns(), false).unwrap();
        j.new_epoch(&ns(), 1).unwrap();
        j.start_log_segment(&req(1, 1, None), 1).unwrap();
        // Big enough records that the 1 MiB cache keeps only the newest ones.
        let payloads: Vec<Vec<u8>> = (1..=40u64).map(|t| vec![t as u8; 64 << 10]).collect();
        for (i, p) in payloads.iter().enumerate() {
            let t = i as u64 + 1;
            let b = encode_batch(t, std::slice::from_ref(p)).unwrap();
            j.journal(&req(1, t + 1, Some(t - 1)), 1, t, 1, &b).unwrap();
        }
        let front = j.cache.front().unwrap().0;
        assert!(
            front > 1 && front < 40,
            "the cache dropped the oldest records"
        );
        let open = |end| SegmentState {
            start_txid: 1,
            end_txid: end,
            in_progress: true,
        };
        for (since, end, max) in [
            (front, 40, 8 << 20),
            (front + 3, 35, 1),
            (39, 40, 100 << 10),
        ] {
            let cached = j
                .read_cached(open(end), since, max)
                .expect("served from the cache");
            let stored = j.storage.read(open(end), since, max).unwrap();
            assert_eq!(cached, stored, "since {since} end {end} max {max}");
            let (_, _, n) = j.read_segment(1, Some(end), since, max).unwrap();
            assert_eq!(n, cached.1);
        }
        // Older records, and a finalized segment, come from storage.
        assert!(j.read_cached(open(40), front - 1, 8 << 20).is_none());
        let (_, _, n) = j.read_segment(1, Some(40), 1, 8 << 20).unwrap();
        assert_eq!(n, 40);
        j.finalize_log_segment(&req(1, 50, Some(40)), 1, 40)
            .unwrap();
        let done = SegmentState {
            in_progress: false,
            ..open(40)
        };
        assert!(j.read_cached(done, 39, 8 << 20).is_none());
        assert_eq!(j.read_segment(1, Some(40), 39, 8 << 20).unwrap().2, 2);
    }

    #[test]
    fn request_checks_fence_order_and_commit() {
        let mut j = Journal::load("j", MemStorage::new()).unwrap();
        assert!(matches!(
            j.new_epoch(&ns(), 1),
            Err(QjError::NotFormatted(_))
        ));
        j.format(&ns(), false).unwrap();
        assert_eq!(j.new_epoch(&ns(), 2).unwrap(), None);
        assert!(matches!(j.new_epoch(&ns(), 2), Err(QjError::Fenced(_))));
        let mut other = ns();
        other.namespace_id = 9;
        assert!(j.new_epoch(&other, 3).is_err());
        // Writes before this epoch started a segment are refused.
        let b = batch(1, 2);
        assert!(matches!(
            j.journal(&req(2, 1, None), 1, 1, 2, &b),
            Err(QjError::Fenced(_))
        ));
        j.start_log_segment(&req(2, 2, None), 1).unwrap();
        j.journal(&req(2, 3, None), 1, 1, 2, &b).unwrap();
        // Serials must increase.
        let b3 = batch(3, 1);
        assert!(matches!(
            j.journal(&req(2, 3, Some(2)), 1, 3, 1, &b3),
            Err(QjError::OutOfSync(_))
        ));
        j.journal(&req(2, 4, Some(2)), 1, 3, 1, &b3).unwrap();
        // Tailing serves committed edits only: 1..=2, not 3.
        let (_, n) = j.get_journaled_edits(1, 100).unwrap();
        assert_eq!(n, 2);
        // The committed txid cannot move back.
        assert!(matches!(
            j.heartbeat(&req(2, 5, Some(1))),
            Err(QjError::IllegalArgument(_))
        ));
        j.journal(&req(2, 6, Some(3)), 1, 4, 0, &[]).unwrap();
        assert_eq!(j.get_journaled_edits(1, 100).unwrap().1, 3);
        // A newer epoch fences the old writer.
        j.new_epoch(&ns(), 3).unwrap();
        let b4 = batch(4, 1);
        assert!(matches!(
            j.journal(&req(2, 7, Some(3)), 1, 4, 1, &b4),
            Err(QjError::Fenced(_))
        ));
        // Recovery of segment 1 by epoch 3, then finalize; a copy that was neither
        // written nor accepted in the epoch is not finalized.
        let p = j.prepare_recovery(&req(3, 1, None), 1).unwrap();
        let seg = p.segment.unwrap();
        assert_eq!((seg.end_txid, seg.in_progress), (3, true));
        assert!(j.finalize_log_segment(&req(3, 2, None), 1, 3).is_err());
        assert!(!j.check_accept(&req(3, 3, None), seg, p.digest).unwrap());
        j.accept_recovery(&req(3, 3, None), seg, p.digest).unwrap();
        j.finalize_log_segment(&req(3, 4, None), 1, 3).unwrap();
        assert!(!j.segments().unwrap()[0].in_progress);
        // A recovery that would drop committed txid 3 is refused.
        let shorter = SegmentState { end_txid: 2, ..seg };
        assert!(j.check_accept(&req(3, 5, None), shorter, None).is_err());
    }
}
