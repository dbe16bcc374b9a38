//! Where a [`super::Journal`] keeps its data: the [`JournalStorage`] trait and its
//! on-disk implementation, [`FileStorage`].
//!
//! On disk, journal `<jid>` of a JournalNode lives in `<dfs.journalnode.edits.dir>/<jid>`:
//!
//! ```text
//! <jid>/in_use.lock                       flock'ed by the JournalNode
//! <jid>/current/VERSION                   namespace identity (storageType=JOURNAL_NODE)
//! <jid>/current/journal_state             epochs, committed txid, Paxos data (state_file)
//! <jid>/current/edits_inprogress_<first>  segments, as in a NameNode name dir
//! <jid>/current/edits_<first>-<last>
//! <jid>/sync/edits_inprogress_<first>     a copy fetched from a peer, staged before it
//!                                         replaces the local segment (acceptRecovery,
//!                                         catch-up)
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use bytes::BytesMut;

use super::state_file::{decode_state, encode_state, PersistedState, STATE_FILE};
use crate::error::EditLogError;
use crate::fsutil::{annotate, fsync_dir, write_atomic, DirLock};
use crate::protocol::{NsInfo, QjError, SegmentState};
use crate::record::{self, check_batch};
use crate::segment::{
    finalized_name, in_progress_name, list_dir, truncate_durably, SegmentReader, SegmentWriter,
};
use crate::storage::{StorageDir, StorageInfo, StorageType};

/// A journal's storage. All calls are synchronous; the JournalNode runs them on the
/// blocking pool, the model checker in memory.
pub trait JournalStorage {
    fn describe(&self) -> String;
    /// The namespace identity, if formatted.
    fn load_ns(&self) -> Result<Option<NsInfo>, QjError>;
    /// Erases all segments and state and records `ns`.
    fn format(&mut self, ns: &NsInfo) -> Result<(), QjError>;
    /// The persisted state (the default when never written).
    fn load_state(&self) -> Result<PersistedState, QjError>;
    fn save_state(&mut self, s: &PersistedState) -> Result<(), QjError>;
    /// Every non-empty segment, ordered by start txid. In-progress segments are scanned
    /// (a torn tail is cut); empty in-progress segments are removed and not listed.
    fn segments(&mut self) -> Result<Vec<SegmentState>, QjError>;
    /// Creates an empty in-progress segment and opens it for appending.
    fn start_segment(&mut self, first_txid: u64) -> Result<(), QjError>;
    /// Appends checked records to the open segment, durably.
    fn append(&mut self, first_txid: u64, count: u32, records: &[u8]) -> Result<(), QjError>;
    /// Stops appending to the open segment (it stays in progress on disk).
    fn close_segment(&mut self);
    /// Renames in-progress segment `first` (holding exactly `first..=last`) to finalized.
    fn finalize(&mut self, first: u64, last: u64) -> Result<(), QjError>;
    /// Encoded records of `seg` from `since` on, at most about `max_bytes` (at least one
    /// record when any is left), stopping at `seg.end_txid`. Returns (bytes, count).
    fn read(
        &mut self,
        seg: SegmentState,
        since: u64,
        max_bytes: usize,
    ) -> Result<(Vec<u8>, u32), QjError>;
    /// Stages a copy of in-progress segment `first` (records fetched from a peer).
    fn stage(&mut self, first: u64, records: &[u8], count: u32) -> Result<(), QjError>;
    fn has_staged(&self, first: u64) -> bool;
    fn drop_staged(&mut self, first: u64) -> Result<(), QjError>;
    /// Replaces in-progress segment `first` by the staged copy.
    fn commit_staged(&mut self, first: u64) -> Result<(), QjError>;
    /// Installs a complete finalized segment fetched from a peer (catch-up).
    fn install_finalized(
        &mut self,
        first: u64,
        last: u64,
        records: &[u8],
        count: u32,
    ) -> Result<(), QjError>;
    /// Removes finalized segments whose last txid < `min_txid_to_keep`.
    fn purge(&mut self, min_txid_to_keep: u64) -> Result<(), QjError>;
}

/// Segment files of one journal id under a JournalNode's edits dir.
#[derive(Debug)]
pub struct FileStorage {
    root: PathBuf,
    sd: StorageDir,
    _lock: DirLock,
    writer: Option<SegmentWriter>,
    cursor: Option<(PathBuf, u64, u64)>,
}

fn io(e: std::io::Error) -> QjError {
    QjError::Storage(EditLogError::Io(e))
}

impl FileStorage {
    /// Opens (creating the directory if needed) and locks `<edits_dir>/<jid>`.
    pub fn open(edits_dir: &Path, jid: &str) -> Result<FileStorage, QjError> {
        let root = edits_dir.join(jid);
        fs::create_dir_all(&root).map_err(|e| io(annotate(e, "cannot create", &root)))?;
        let sd = StorageDir::new(root.clone());
        let lock = sd.lock()?;
        let st = FileStorage {
            root,
            sd,
            _lock: lock,
            writer: None,
            cursor: None,
        };
        // A staged copy left by a crash is finished by the Journal (it knows the Paxos
        // data) — see Journal::load.
        Ok(st)
    }

    pub fn current(&self) -> PathBuf {
        self.sd.current()
    }

    fn sync_dir(&self) -> PathBuf {
        self.root.join("sync")
    }

    fn staged_path(&self, first: u64) -> PathBuf {
        self.sync_dir().join(in_progress_name(first))
    }

    fn write_staged(&self, first: u64, records: &[u8], count: u32) -> Result<PathBuf, QjError> {
        let dir = self.sync_dir();
        fs::create_dir_all(&dir).map_err(|e| io(annotate(e, "cannot create", &dir)))?;
        let path = self.staged_path(first);
        if path.exists() {
            fs::remove_file(&path).map_err(|e| io(annotate(e, "cannot remove", &path)))?;
        }
        check_batch(records, first, count)
            .map_err(|r| QjError::IllegalArgument(format!("malformed segment copy: {r}")))?;
        let mut w = SegmentWriter::create(&dir, first)?;
        w.append_durably(records, count)?;
        Ok(path)
    }
}

impl JournalStorage for FileStorage {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn load_ns(&self) -> Result<Option<NsInfo>, QjError> {
        let Some(info) = self.sd.read_version()? else {
            return Ok(None);
        };
        if info.storage_type != StorageType::JournalNode {
            return Err(QjError::Storage(EditLogError::Storage(
                crate::error::StorageError::WrongStorageType {
                    dir: self.root.clone(),
                    expected: StorageType::JournalNode,
                    found: info.storage_type,
                },
            )));
        }
        Ok(Some(NsInfo {
            layout_version: info.layout_version,
            namespace_id: info.namespace_id,
            cluster_id: info.cluster_id,
            block_pool_id: info.block_pool_id,
        }))
    }

    fn format(&mut self, ns: &NsInfo) -> Result<(), QjError> {
        self.writer = None;
        self.cursor = None;
        for dir in [self.current(), self.sync_dir()] {
            if dir.exists() {
                fs::remove_dir_all(&dir).map_err(|e| io(annotate(e, "cannot erase", &dir)))?;
            }
        }
        self.sd.format(&StorageInfo {
            layout_version: ns.layout_version,
            namespace_id: ns.namespace_id,
            cluster_id: ns.cluster_id.clone(),
            block_pool_id: ns.block_pool_id.clone(),
            ctime: 0,
            storage_type: StorageType::JournalNode,
        })?;
        self.save_state(&PersistedState::default())
    }

    fn load_state(&self) -> Result<PersistedState, QjError> {
        let path = self.current().join(STATE_FILE);
        match fs::read(&path) {
            Ok(b) => decode_state(&b).map_err(|reason| {
                QjError::Storage(EditLogError::Corrupt {
                    file: path,
                    offset: 0,
                    reason,
                })
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(PersistedState::default()),
            Err(e) => Err(io(annotate(e, "cannot read", &path))),
        }
    }

    fn save_state(&mut self, s: &PersistedState) -> Result<(), QjError> {
        write_atomic(&self.current().join(STATE_FILE), &encode_state(s)).map_err(io)
    }

    fn segments(&mut self) -> Result<Vec<SegmentState>, QjError> {
        let dir = self.current();
        let mut out = Vec::new();
        for (name, path) in list_dir(&dir)? {
            if let Some(last) = name.last_txid {
                out.push(SegmentState {
                    start_txid: name.first_txid,
                    end_txid: last,
                    in_progress: false,
                });
                continue;
            }
            // The open segment's end is known without a scan.
            let open = self
                .writer
                .as_ref()
                .filter(|w| w.first_txid() == name.first_txid)
                .map(|w| w.next_txid());
            let next = match open {
                Some(n) => n,
                None => {
                    let mut r = SegmentReader::open(&path, name.first_txid, None)?;
                    while r.next_record()?.is_some() {}
                    if let Some(t) = r.torn_tail() {
                        tracing::warn!(file = %path.display(), offset = t.offset, reason = %t.reason,
                            "cutting the torn tail of an in-progress journal segment");
                        if t.offset > 0 {
                            truncate_durably(&path, t.offset)?;
                        }
                    }
                    r.next_txid()
                }
            };
            if next == name.first_txid {
                if open.is_none() {
                    fs::remove_file(&path).map_err(|e| io(annotate(e, "cannot remove", &path)))?;
                    fsync_dir(&dir).map_err(io)?;
                    tracing::info!(file = %path.display(), "removed empty in-progress segment");
                }
                continue;
            }
            out.push(SegmentState {
                start_txid: name.first_txid,
                end_txid: next - 1,
                in_progress: true,
            });
        }
        Ok(out)
    }

    fn start_segment(&mut self, first_txid: u64) -> Result<(), QjError> {
        self.writer = None;
        let dir = self.current();
        let path = dir.join(in_progress_name(first_txid));
        if path.exists() {
            fs::remove_file(&path).map_err(|e| io(annotate(e, "cannot remove", &path)))?;
        }
        self.writer = Some(SegmentWriter::create(&dir, first_txid)?);
        Ok(())
    }

    fn append(&mut self, first_txid: u64, count: u32, records: &[u8]) -> Result<(), QjError> {
        let Some(w) = self.writer.as_mut() else {
            return Err(QjError::OutOfSync(format!(
                "no open segment to write txid {first_txid} to"
            )));
        };
        if let Err(e) = w.append_durably(records, count) {
            // A partial write may be on disk: stop appending, leave it to recovery.
            self.writer = None;
            return Err(e.into());
        }
        Ok(())
    }

    fn close_segment(&mut self) {
        self.writer = None;
    }

    fn finalize(&mut self, first: u64, last: u64) -> Result<(), QjError> {
        if self
            .writer
            .as_ref()
            .is_some_and(|w| w.first_txid() == first)
        {
            self.writer = None;
        }
        let dir = self.current();
        let from = dir.join(in_progress_name(first));
        let to = dir.join(finalized_name(first, last));
        fs::rename(&from, &to).map_err(|e| io(annotate(e, "cannot finalize segment to", &to)))?;
        fsync_dir(&dir).map_err(io)?;
        self.cursor = None;
        Ok(())
    }

    fn read(
        &mut self,
        seg: SegmentState,
        since: u64,
        max_bytes: usize,
    ) -> Result<(Vec<u8>, u32), QjError> {
        let dir = self.current();
        let (path, last) = if seg.in_progress {
            (dir.join(in_progress_name(seg.start_txid)), None)
        } else {
            (
                dir.join(finalized_name(seg.start_txid, seg.end_txid)),
                Some(seg.end_txid),
            )
        };
        let mut reader = match self.cursor.clone() {
            Some((p, next, off)) if p == path && next == since && since > seg.start_txid => {
                SegmentReader::open_at(&path, off, next, last)?
            }
            _ => SegmentReader::open(&path, seg.start_txid, last)?,
        };
        let mut out = BytesMut::new();
        let mut count = 0u32;
        while out.len() < max_bytes && reader.next_txid() <= seg.end_txid {
            match reader.next_record()? {
                Some(r) if r.txid < since => {}
                Some(r) => {
                    record::encode(&mut out, r.txid, &r.payload)?;
                    count += 1;
                }
                None => break,
            }
        }
        self.cursor = Some((path, reader.next_txid(), reader.offset()));
        Ok((out.to_vec(), count))
    }

    fn stage(&mut self, first: u64, records: &[u8], count: u32) -> Result<(), QjError> {
        self.write_staged(first, records, count).map(|_| ())
    }

    fn has_staged(&self, first: u64) -> bool {
        self.staged_path(first).exists()
    }

    fn drop_staged(&mut self, first: u64) -> Result<(), QjError> {
        let p = self.staged_path(first);
        if p.exists() {
            fs::remove_file(&p).map_err(|e| io(annotate(e, "cannot remove", &p)))?;
        }
        Ok(())
    }

    fn commit_staged(&mut self, first: u64) -> Result<(), QjError> {
        if self
            .writer
            .as_ref()
            .is_some_and(|w| w.first_txid() == first)
        {
            self.writer = None;
        }
        self.cursor = None;
        let dir = self.current();
        let to = dir.join(in_progress_name(first));
        let from = self.staged_path(first);
        fs::rename(&from, &to)
            .map_err(|e| io(annotate(e, "cannot move synced segment to", &to)))?;
        fsync_dir(&dir).map_err(io)?;
        fsync_dir(&self.sync_dir()).map_err(io)?;
        Ok(())
    }

    fn install_finalized(
        &mut self,
        first: u64,
        last: u64,
        records: &[u8],
        count: u32,
    ) -> Result<(), QjError> {
        if last + 1 != first + count as u64 {
            return Err(QjError::IllegalArgument(format!(
                "segment {first}-{last} copy holds {count} records"
            )));
        }
        let from = self.write_staged(first, records, count)?;
        let dir = self.current();
        let to = dir.join(finalized_name(first, last));
        fs::rename(&from, &to).map_err(|e| io(annotate(e, "cannot install segment", &to)))?;
        let stale = dir.join(in_progress_name(first));
        if stale.exists() {
            fs::remove_file(&stale).map_err(|e| io(annotate(e, "cannot remove", &stale)))?;
        }
        fsync_dir(&dir).map_err(io)?;
        self.cursor = None;
        Ok(())
    }

    fn purge(&mut self, min_txid_to_keep: u64) -> Result<(), QjError> {
        let dir = self.current();
        let mut removed = 0;
        for (name, path) in list_dir(&dir)? {
            if matches!(name.last_txid, Some(last) if last < min_txid_to_keep) {
                fs::remove_file(&path).map_err(|e| io(annotate(e, "cannot purge", &path)))?;
                removed += 1;
            }
        }
        if removed > 0 {
            fsync_dir(&dir).map_err(io)?;
            self.cursor = None;
        }
        Ok(())
    }
}
