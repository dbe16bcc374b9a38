//! `FileJournal`: the edit log in one storage directory's `current/` (a local name dir,
//! or a shared edits dir on a network file system).

use std::cell::Cell;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use bytes::Bytes;

use crate::error::EditLogError;
use crate::fsutil::{annotate, fsync_dir};
use crate::manager::{JournalManager, SegmentInfo};
use crate::record::{check_batch, EditRecord};
use crate::segment::{
    finalized_name, in_progress_name, list_dir, truncate_durably, SegmentReader, SegmentWriter,
};
use crate::storage::StorageDir;

/// The edit log in `<storage root>/current`. File IO runs on tokio's blocking pool, or
/// inline on a thread marked with [`allow_inline_io`].
#[derive(Debug, Clone)]
pub struct FileJournal {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    writer: Mutex<Option<SegmentWriter>>,
    /// Where the last `read_edits` stopped, so streaming readers do not rescan a segment
    /// from its start on every batch.
    cursor: Mutex<Option<ReadCursor>>,
}

#[derive(Debug, Clone)]
struct ReadCursor {
    path: PathBuf,
    next_txid: u64,
    offset: u64,
}

impl FileJournal {
    /// A journal over `<storage_root>/current` (which `StorageDir::format` creates).
    pub fn new(storage_root: impl Into<PathBuf>) -> FileJournal {
        Self::for_storage(&StorageDir::new(storage_root))
    }

    pub fn for_storage(storage: &StorageDir) -> FileJournal {
        FileJournal {
            inner: Arc::new(Inner {
                dir: storage.current(),
                writer: Mutex::new(None),
                cursor: Mutex::new(None),
            }),
        }
    }

    /// The directory holding the segment files.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T, EditLogError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, EditLogError> + Send + 'static,
    {
        if INLINE_IO.get() {
            return f(&self.inner);
        }
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| EditLogError::TaskFailed(format!("{}: {e}", self.describe())))?
    }
}

thread_local! {
    static INLINE_IO: Cell<bool> = const { Cell::new(false) };
}

/// Marks the calling thread as one that exists to block on journal IO (the edit log's
/// syncer thread, which drives journals with `Handle::block_on`): a `FileJournal` called
/// from it does its file IO right there instead of on tokio's blocking pool, saving two
/// thread hand-offs per group commit. Never call this on a runtime worker thread.
pub fn allow_inline_io() {
    INLINE_IO.set(true);
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep using it.
    hafs_util::invariant::lock(m, "file journal")
}

impl Inner {
    fn describe(&self) -> String {
        format!("FileJournal({})", self.dir.display())
    }

    fn illegal(&self, reason: String) -> EditLogError {
        EditLogError::IllegalState {
            journal: self.describe(),
            reason,
        }
    }

    fn recover(&self) -> Result<u64, EditLogError> {
        if let Some(w) = lock(&self.writer).as_ref() {
            return Err(self.illegal(format!(
                "cannot recover while segment {} is open for writing",
                w.first_txid()
            )));
        }
        *lock(&self.cursor) = None;
        let mut last_txid = 0;
        for (name, path) in list_dir(&self.dir)? {
            if let Some(last) = name.last_txid {
                last_txid = last_txid.max(last);
                continue;
            }
            let mut reader = SegmentReader::open(&path, name.first_txid, None)?;
            while reader.next_record()?.is_some() {}
            if let Some(torn) = reader.torn_tail() {
                tracing::warn!(
                    file = %path.display(),
                    offset = torn.offset,
                    reason = %torn.reason,
                    "cutting the torn tail of an in-progress edit log segment (unacknowledged edits)"
                );
                if torn.offset > 0 {
                    truncate_durably(&path, torn.offset)?;
                }
            }
            if reader.next_txid() == name.first_txid {
                fs::remove_file(&path)
                    .map_err(|e| annotate(e, "cannot remove empty segment", &path))?;
                fsync_dir(&self.dir)?;
                tracing::info!(file = %path.display(), "removed empty in-progress edit log segment");
                continue;
            }
            let last = reader.next_txid() - 1;
            self.rename_finalized(&path, name.first_txid, last)?;
            tracing::info!(file = %path.display(), first = name.first_txid, last, "finalized recovered edit log segment");
            last_txid = last_txid.max(last);
        }
        Ok(last_txid)
    }

    fn rename_finalized(&self, path: &Path, first: u64, last: u64) -> Result<(), EditLogError> {
        let target = self.dir.join(finalized_name(first, last));
        if target.exists() {
            return Err(self.illegal(format!(
                "cannot finalize {}: {} already exists",
                path.display(),
                target.display()
            )));
        }
        fs::rename(path, &target)
            .map_err(|e| annotate(e, "cannot finalize segment to", &target))?;
        fsync_dir(&self.dir)?;
        Ok(())
    }

    fn start(&self, first_txid: u64) -> Result<(), EditLogError> {
        let mut writer = lock(&self.writer);
        if let Some(w) = writer.as_ref() {
            return Err(self.illegal(format!("segment {} is still open", w.first_txid())));
        }
        for (name, path) in list_dir(&self.dir)? {
            match name.last_txid {
                None => {
                    return Err(self.illegal(format!(
                        "in-progress segment {} exists; recover unfinalized segments first",
                        path.display()
                    )))
                }
                Some(last) if last >= first_txid => {
                    return Err(self.illegal(format!(
                        "new segment at txid {first_txid} would overlap {}",
                        path.display()
                    )))
                }
                Some(_) => {}
            }
        }
        *writer = Some(SegmentWriter::create(&self.dir, first_txid)?);
        Ok(())
    }

    fn journal(&self, first_txid: u64, count: u32, records: &[u8]) -> Result<(), EditLogError> {
        let mut guard = lock(&self.writer);
        let Some(w) = guard.as_mut() else {
            return Err(self.illegal(format!("no open segment to journal txid {first_txid} to")));
        };
        if first_txid != w.next_txid() {
            return Err(self.illegal(format!(
                "journal got txid {first_txid}, expected {}",
                w.next_txid()
            )));
        }
        check_batch(records, first_txid, count)
            .map_err(|r| self.illegal(format!("malformed batch: {r}")))?;
        if let Err(e) = w.append_durably(records, count) {
            // The file may now end in a partial batch; stop writing to it and leave it to
            // recovery, which cuts unacknowledged tails.
            *guard = None;
            return Err(e);
        }
        Ok(())
    }

    fn finalize(&self, first_txid: u64, last_txid: u64) -> Result<(), EditLogError> {
        if last_txid < first_txid {
            return Err(self.illegal(format!(
                "cannot finalize empty segment {first_txid}..{last_txid}"
            )));
        }
        let mut writer = lock(&self.writer);
        if let Some(w) = writer.as_ref() {
            if w.first_txid() != first_txid {
                return Err(self.illegal(format!(
                    "finalize of {first_txid} while segment {} is open",
                    w.first_txid()
                )));
            }
            if w.next_txid() != last_txid + 1 {
                return Err(self.illegal(format!(
                    "finalize of {first_txid}..{last_txid} but the segment ends at txid {}",
                    w.next_txid() - 1
                )));
            }
            let path = w.path().to_path_buf();
            *writer = None;
            return self.rename_finalized(&path, first_txid, last_txid);
        }
        // Not open here (a writer that crashed): check the file holds exactly that range.
        let path = self.dir.join(in_progress_name(first_txid));
        if !path.exists() {
            if self
                .dir
                .join(finalized_name(first_txid, last_txid))
                .exists()
            {
                return Ok(());
            }
            return Err(self.illegal(format!("no segment {} to finalize", path.display())));
        }
        let mut reader = SegmentReader::open(&path, first_txid, None)?;
        while reader.next_record()?.is_some() {}
        if reader.torn_tail().is_some() || reader.next_txid() != last_txid + 1 {
            return Err(self.illegal(format!(
                "cannot finalize {} as {first_txid}..{last_txid}: it holds records up to txid {}{}",
                path.display(),
                reader.next_txid() - 1,
                if reader.torn_tail().is_some() {
                    " followed by a torn tail"
                } else {
                    ""
                }
            )));
        }
        self.rename_finalized(&path, first_txid, last_txid)
    }

    fn read(
        &self,
        from_txid: u64,
        max: usize,
        include_in_progress: bool,
    ) -> Result<Vec<EditRecord>, EditLogError> {
        // Txids start at 1; asking from 0 means "from the beginning".
        let from_txid = from_txid.max(1);
        // Sized once for a typical batch rather than grown by doubling.
        let mut out = Vec::with_capacity(max.min(16 * 1024));
        if max == 0 {
            return Ok(out);
        }
        let segments: Vec<_> = list_dir(&self.dir)?
            .into_iter()
            .filter(|(n, _)| include_in_progress || n.last_txid.is_some())
            .collect();
        // Check the chain of names first, so a missing segment is reported even when this
        // batch would stop before reaching it.
        let mut cursor = from_txid;
        for (name, _) in &segments {
            match name.last_txid {
                Some(last) if last < cursor => continue,
                _ if name.first_txid > cursor => return Err(self.gap(cursor, name.first_txid - 1)),
                Some(last) => cursor = last + 1,
                None => break,
            }
        }

        let mut next = from_txid;
        for (name, path) in &segments {
            if out.len() >= max {
                break;
            }
            if matches!(name.last_txid, Some(last) if last < next) {
                continue;
            }
            if name.first_txid > next {
                return Err(self.gap(next, name.first_txid - 1));
            }
            let cached = lock(&self.cursor)
                .clone()
                .filter(|c| &c.path == path && c.next_txid == next);
            let mut reader = match cached {
                Some(c) => SegmentReader::open_at(path, c.offset, c.next_txid, name.last_txid)?,
                None => SegmentReader::open(path, name.first_txid, name.last_txid)?,
            };
            while out.len() < max {
                match reader.next_record()? {
                    Some(rec) if rec.txid < next => {}
                    Some(rec) => {
                        next = rec.txid + 1;
                        out.push(rec);
                    }
                    None => break,
                }
            }
            *lock(&self.cursor) = Some(ReadCursor {
                path: path.clone(),
                next_txid: reader.next_txid(),
                offset: reader.offset(),
            });
            if name.last_txid.is_none() {
                // The in-progress segment is the end of the readable log.
                break;
            }
        }
        Ok(out)
    }

    fn gap(&self, from: u64, to: u64) -> EditLogError {
        EditLogError::Gap {
            journal: self.describe(),
            from,
            to,
        }
    }

    fn list(&self) -> Result<Vec<SegmentInfo>, EditLogError> {
        Ok(list_dir(&self.dir)?
            .into_iter()
            .map(|(n, p)| SegmentInfo {
                first_txid: n.first_txid,
                last_txid: n.last_txid,
                in_progress: n.last_txid.is_none(),
                location: p.display().to_string(),
            })
            .collect())
    }

    fn purge(&self, min_txid_to_keep: u64) -> Result<(), EditLogError> {
        let mut removed = 0;
        for (name, path) in list_dir(&self.dir)? {
            if matches!(name.last_txid, Some(last) if last < min_txid_to_keep) {
                fs::remove_file(&path).map_err(|e| annotate(e, "cannot purge", &path))?;
                removed += 1;
            }
        }
        if removed > 0 {
            fsync_dir(&self.dir)?;
            tracing::info!(dir = %self.dir.display(), removed, min_txid_to_keep, "purged old edit log segments");
        }
        Ok(())
    }
}

#[async_trait]
impl JournalManager for FileJournal {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    async fn recover_unfinalized_segments(&self) -> Result<u64, EditLogError> {
        self.blocking(|i| i.recover()).await
    }

    async fn start_log_segment(&self, first_txid: u64) -> Result<(), EditLogError> {
        self.blocking(move |i| i.start(first_txid)).await
    }

    async fn journal(
        &self,
        first_txid: u64,
        count: u32,
        records: Bytes,
    ) -> Result<(), EditLogError> {
        self.blocking(move |i| i.journal(first_txid, count, &records))
            .await
    }

    async fn finalize_log_segment(
        &self,
        first_txid: u64,
        last_txid: u64,
    ) -> Result<(), EditLogError> {
        self.blocking(move |i| i.finalize(first_txid, last_txid))
            .await
    }

    async fn read_edits(
        &self,
        from_txid: u64,
        max: usize,
        include_in_progress: bool,
    ) -> Result<Vec<EditRecord>, EditLogError> {
        self.blocking(move |i| i.read(from_txid, max, include_in_progress))
            .await
    }

    async fn list_segments(&self) -> Result<Vec<SegmentInfo>, EditLogError> {
        self.blocking(|i| i.list()).await
    }

    async fn purge_logs_older_than(&self, min_txid_to_keep: u64) -> Result<(), EditLogError> {
        self.blocking(move |i| i.purge(min_txid_to_keep)).await
    }
}
