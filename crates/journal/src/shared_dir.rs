//! Shared-storage edits (Hadoop's NFS mode): `dfs.namenode.shared.edits.dir =
//! file:///shared/dir`. The edit log lives in one directory that every NameNode of
//! the nameservice mounts: the Active writes it (a [`FileJournal`] on it), Standbys
//! tail it.
//!
//! A shared directory has no quorum to refuse a stale writer, so this module adds a
//! **writer-epoch marker**, `<dir>/current/writer_epoch`:
//!
//! ```text
//! epoch=<u64>
//! writer=<host>:<pid>:<nonce>
//! checksum=<crc32c of the lines above, 8 hex digits>
//! ```
//!
//! A NameNode becoming the writer ([`JournalManager::recover_unfinalized_segments`])
//! first replaces the marker with epoch + 1 and its own id (crash-safely: temp file,
//! fsync, rename, fsync dir), then recovers the open segment. Before every write (new
//! segment, batch, finalize, purge) and after every batch, a writer checks that the
//! marker is still its own by re-reading it (a few bytes). `stat` alone is not enough:
//! a replaced marker can get the freed inode number back and, within one clock tick,
//! the same times and size. A writer that finds the marker changed fails the write:
//! the edit log fails and the NameNode steps down.
//!
//! The marker narrows the window in which two writers can both append, it does not
//! close it: a batch already in flight when the new writer takes over still lands.
//! That is why HA on a shared dir requires a fencing method (the old Active is killed
//! or cut off before the new one writes), as in Hadoop.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use tracing::{info, warn};

use crate::error::{EditLogError, StorageError};
use crate::file_journal::FileJournal;
use crate::fsutil::{annotate, write_atomic};
use crate::manager::{JournalManager, SegmentInfo};
use crate::record::EditRecord;
use crate::storage::{check_compatible, StorageDir, StorageInfo};

/// The marker's file name in the shared dir's `current/`.
pub const WRITER_EPOCH_FILE: &str = "writer_epoch";
/// Kept for the tests that age a held stamp; writers re-read the marker every time.
pub const REREAD_EVERY: Duration = Duration::from_secs(1);
/// The marker is tiny; anything bigger is not ours.
const MAX_MARKER_LEN: u64 = 4096;

/// Parses `dfs.namenode.shared.edits.dir` when it is a `file:` URI: the directory.
/// `None` for any other scheme (a `qjournal://` URI).
pub fn parse_shared_dir_uri(s: &str) -> Option<Result<PathBuf, String>> {
    let rest = s.trim().strip_prefix("file:")?;
    let path = rest.strip_prefix("//").unwrap_or(rest);
    if !path.starts_with('/') {
        return Some(Err(format!(
            "shared edits dir '{s}' must be an absolute file:/// URI"
        )));
    }
    Some(Ok(PathBuf::from(path)))
}

/// The content of the marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterEpoch {
    pub epoch: u64,
    pub writer: String,
}

impl WriterEpoch {
    fn encode(&self) -> String {
        let lines = format!("epoch={}\nwriter={}\n", self.epoch, self.writer);
        format!("{lines}checksum={:08x}\n", crc32c::crc32c(lines.as_bytes()))
    }

    fn decode(file: &Path, text: &str) -> Result<WriterEpoch, String> {
        let bad = |why: &str| format!("corrupt writer epoch file {}: {why}", file.display());
        let (lines, sum_line) = text
            .trim_end_matches('\n')
            .rsplit_once('\n')
            .ok_or_else(|| bad("too short"))?;
        let lines = format!("{lines}\n");
        let sum = sum_line
            .strip_prefix("checksum=")
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| bad("no checksum line"))?;
        if sum != crc32c::crc32c(lines.as_bytes()) {
            return Err(bad("checksum mismatch"));
        }
        let mut epoch = None;
        let mut writer = None;
        for l in lines.lines() {
            match l.split_once('=') {
                Some(("epoch", v)) => epoch = v.parse::<u64>().ok(),
                Some(("writer", v)) => writer = Some(v.to_string()),
                _ => return Err(bad(&format!("unexpected line '{l}'"))),
            }
        }
        Ok(WriterEpoch {
            epoch: epoch.ok_or_else(|| bad("no epoch"))?,
            writer: writer.ok_or_else(|| bad("no writer"))?,
        })
    }
}

/// Reads the marker of the shared dir rooted at `root`; `None` when none was written.
pub fn read_writer_epoch(root: &Path) -> Result<Option<WriterEpoch>, EditLogError> {
    let path = marker_path(root);
    match fs::metadata(&path) {
        Ok(m) if m.len() > MAX_MARKER_LEN => {
            return Err(EditLogError::Corrupt {
                file: path,
                offset: 0,
                reason: "writer epoch file too large".into(),
            })
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(annotate(e, "cannot stat", &path).into()),
    }
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(annotate(e, "cannot read", &path).into()),
    };
    WriterEpoch::decode(&path, &text)
        .map(Some)
        .map_err(|reason| EditLogError::Corrupt {
            file: path,
            offset: 0,
            reason,
        })
}

fn marker_path(root: &Path) -> PathBuf {
    StorageDir::new(root).current().join(WRITER_EPOCH_FILE)
}

/// What `stat` says of the marker: a replaced file differs in at least one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

fn stamp(path: &Path) -> std::io::Result<Stamp> {
    let m = fs::metadata(path)?;
    Ok(Stamp {
        dev: m.dev(),
        ino: m.ino(),
        size: m.size(),
        mtime_ns: m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
        ctime_ns: m.ctime() as i128 * 1_000_000_000 + m.ctime_nsec() as i128,
    })
}

/// Formats the shared dir with the namespace's identity (`-format`,
/// `-initializeSharedEdits`): VERSION, and no marker yet (epoch 0). Refuses a dir that
/// is already formatted unless `force`.
pub fn format_shared_dir(root: &Path, info: &StorageInfo, force: bool) -> Result<(), StorageError> {
    let sd = StorageDir::new(root);
    if sd.is_formatted() && !force {
        return Err(StorageError::Io(std::io::Error::other(format!(
            "shared edits dir {} is already formatted; re-run with -force to erase it",
            root.display()
        ))));
    }
    sd.format(info)?;
    info!(dir = %root.display(), cluster_id = %info.cluster_id, "formatted the shared edits dir");
    Ok(())
}

struct Held {
    epoch: WriterEpoch,
    stamp: Stamp,
    read_at: Instant,
}

/// The edit log in a shared dir, with the writer-epoch check. See the module docs.
pub struct SharedDirJournal {
    root: PathBuf,
    /// Replaced on every recovery: a NameNode that was the writer before may have left
    /// a segment open in its old `FileJournal` (an empty one is never finalized).
    files: std::sync::RwLock<FileJournal>,
    writer_id: String,
    held: Mutex<Option<Held>>,
}

fn lock(m: &Mutex<Option<Held>>) -> MutexGuard<'_, Option<Held>> {
    hafs_util::invariant::lock(m, "shared dir journal")
}

impl SharedDirJournal {
    /// Opens the shared dir rooted at `root`, checking it is formatted for `expected`'s
    /// namespace. Nothing is locked: every NameNode of the nameservice opens it.
    pub fn open(root: &Path, expected: &StorageInfo) -> Result<SharedDirJournal, StorageError> {
        let sd = StorageDir::new(root);
        let found = sd.load(expected.storage_type)?;
        check_compatible(root, &found, expected)?;
        Ok(SharedDirJournal {
            root: root.to_path_buf(),
            files: std::sync::RwLock::new(FileJournal::for_storage(&sd)),
            writer_id: new_writer_id(),
            held: Mutex::new(None),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// This process's writer id, as written in the marker.
    pub fn writer_id(&self) -> &str {
        &self.writer_id
    }

    /// The epoch this journal holds, if it took one and was not superseded since.
    pub fn held_epoch(&self) -> Option<u64> {
        lock(&self.held).as_ref().map(|h| h.epoch.epoch)
    }

    /// Becomes the writer: marker = previous epoch + 1 with our id.
    pub fn take_writer_epoch(&self) -> Result<u64, EditLogError> {
        let prev = read_writer_epoch(&self.root)?.map_or(0, |e| e.epoch);
        let mine = WriterEpoch {
            epoch: prev + 1,
            writer: self.writer_id.clone(),
        };
        let path = marker_path(&self.root);
        write_atomic(&path, mine.encode().as_bytes())
            .map_err(|e| annotate(e, "cannot write writer epoch", &path))?;
        let stamp = stamp(&path).map_err(|e| annotate(e, "cannot stat", &path))?;
        info!(dir = %self.root.display(), epoch = mine.epoch, "took the shared edits dir's writer epoch");
        *lock(&self.held) = Some(Held {
            epoch: mine,
            stamp,
            read_at: Instant::now(),
        });
        Ok(prev + 1)
    }

    /// Fails unless the marker is still the one this journal wrote. Once superseded
    /// it stays so (a writer never takes its epoch back implicitly).
    pub fn check_writer(&self) -> Result<(), EditLogError> {
        let mut held = lock(&self.held);
        let Some(h) = held.as_mut() else {
            return Err(self.not_writer(
                "this NameNode holds no writer epoch (it must recover the log first)".into(),
            ));
        };
        let path = marker_path(&self.root);
        let now = match stamp(&path) {
            Ok(s) => s,
            Err(e) => {
                let why = format!("the writer epoch file is gone or unreadable: {e}");
                *held = None;
                return Err(self.not_writer(why));
            }
        };
        // No shortcut on `stat` alone: a replaced marker can come back with the same
        // inode number (freed and reused at once) and, within one clock tick, the same
        // times and size — a superseded writer would then keep writing. The marker is a
        // few bytes; reading it twice per batch is cheap next to the batch's fsync.
        let current = read_writer_epoch(&self.root);
        match current {
            Ok(Some(c)) if c == h.epoch => {
                h.stamp = now;
                h.read_at = Instant::now();
                Ok(())
            }
            other => {
                let why = match other {
                    Ok(Some(c)) => format!(
                        "another NameNode ({}) took writer epoch {} (ours was {})",
                        c.writer, c.epoch, h.epoch.epoch
                    ),
                    Ok(None) => "the writer epoch file is gone".into(),
                    Err(e) => e.to_string(),
                };
                *held = None;
                warn!(dir = %self.root.display(), "superseded as the shared edits writer: {why}");
                Err(self.not_writer(why))
            }
        }
    }

    fn files(&self) -> FileJournal {
        hafs_util::invariant::read(&self.files, "shared dir journal").clone()
    }

    fn not_writer(&self, reason: String) -> EditLogError {
        EditLogError::IllegalState {
            journal: self.describe(),
            reason: format!("no longer the writer of the shared edits dir: {reason}"),
        }
    }
}

fn new_writer_id() -> String {
    let host = hostname();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let nonce = crc32c::crc32c(&nanos.to_le_bytes()) ^ (std::process::id().rotate_left(16));
    format!("{host}:{}:{nonce:08x}", std::process::id())
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into the buffer we own.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end])
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .collect()
}

#[async_trait]
impl JournalManager for SharedDirJournal {
    fn describe(&self) -> String {
        format!("SharedDirJournal({})", self.root.display())
    }

    /// Takes a new writer epoch, then finalizes the previous writer's open segment.
    async fn recover_unfinalized_segments(&self) -> Result<u64, EditLogError> {
        self.take_writer_epoch()?;
        let fresh = FileJournal::new(self.root.clone());
        *hafs_util::invariant::write(&self.files, "shared dir journal") = fresh.clone();
        fresh.recover_unfinalized_segments().await
    }

    async fn start_log_segment(&self, first_txid: u64) -> Result<(), EditLogError> {
        self.check_writer()?;
        self.files().start_log_segment(first_txid).await
    }

    async fn journal(
        &self,
        first_txid: u64,
        count: u32,
        records: Bytes,
    ) -> Result<(), EditLogError> {
        self.check_writer()?;
        self.files().journal(first_txid, count, records).await?;
        // A writer that took over while this batch was written: do not acknowledge it.
        self.check_writer()
    }

    async fn finalize_log_segment(
        &self,
        first_txid: u64,
        last_txid: u64,
    ) -> Result<(), EditLogError> {
        self.check_writer()?;
        self.files()
            .finalize_log_segment(first_txid, last_txid)
            .await
    }

    async fn read_edits(
        &self,
        from_txid: u64,
        max: usize,
        include_in_progress: bool,
    ) -> Result<Vec<EditRecord>, EditLogError> {
        self.files()
            .read_edits(from_txid, max, include_in_progress)
            .await
    }

    async fn list_segments(&self) -> Result<Vec<SegmentInfo>, EditLogError> {
        self.files().list_segments().await
    }

    async fn purge_logs_older_than(&self, min_txid_to_keep: u64) -> Result<(), EditLogError> {
        self.check_writer()?;
        self.files().purge_logs_older_than(min_txid_to_keep).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record;
    use crate::storage::StorageType;
    use crate::test_util::TempDir;

    fn info() -> StorageInfo {
        StorageInfo {
            layout_version: -1,
            namespace_id: 42,
            cluster_id: "CID-shared".into(),
            block_pool_id: "BP-42-127.0.0.1-1".into(),
            ctime: 0,
            storage_type: StorageType::NameNode,
        }
    }

    fn batch(first: u64, n: u32) -> Bytes {
        let mut buf = bytes::BytesMut::new();
        for t in first..first + n as u64 {
            record::encode(&mut buf, t, format!("op{t}").as_bytes()).unwrap();
        }
        buf.freeze()
    }

    #[test]
    fn uris() {
        assert_eq!(
            parse_shared_dir_uri("file:///a/b").unwrap().unwrap(),
            PathBuf::from("/a/b")
        );
        assert_eq!(
            parse_shared_dir_uri("file:/a").unwrap().unwrap(),
            PathBuf::from("/a")
        );
        assert!(parse_shared_dir_uri("file://rel").unwrap().is_err());
        assert!(parse_shared_dir_uri("qjournal://a:1/x").is_none());
    }

    #[test]
    fn marker_round_trip_and_corruption() {
        let p = Path::new("writer_epoch");
        let e = WriterEpoch {
            epoch: 7,
            writer: "h:1:abc".into(),
        };
        assert_eq!(WriterEpoch::decode(p, &e.encode()).unwrap(), e);
        let enc = e.encode();
        for i in 0..enc.len() {
            let mut b = enc.clone().into_bytes();
            b[i] ^= 0x01;
            let s = String::from_utf8_lossy(&b).to_string();
            assert!(
                WriterEpoch::decode(p, &s).is_err(),
                "flip at {i} undetected"
            );
        }
        assert!(WriterEpoch::decode(p, "").is_err());
    }

    #[tokio::test]
    async fn a_superseded_writer_stops_and_the_new_one_continues() {
        let t = TempDir::new("shared-dir");
        format_shared_dir(t.path(), &info(), false).unwrap();
        assert!(format_shared_dir(t.path(), &info(), false).is_err());
        let a = SharedDirJournal::open(t.path(), &info()).unwrap();
        let b = SharedDirJournal::open(t.path(), &info()).unwrap();
        // Writing without an epoch is refused.
        assert!(a.start_log_segment(1).await.is_err());
        assert_eq!(a.recover_unfinalized_segments().await.unwrap(), 0);
        assert_eq!(a.held_epoch(), Some(1));
        a.start_log_segment(1).await.unwrap();
        a.journal(1, 3, batch(1, 3)).await.unwrap();
        // A Standby tails the open segment without any epoch.
        let tailed = b.read_edits(1, 100, true).await.unwrap();
        assert_eq!(tailed.len(), 3);
        // b becomes the writer: a must stop at its very next batch.
        assert_eq!(b.recover_unfinalized_segments().await.unwrap(), 3);
        assert_eq!(read_writer_epoch(t.path()).unwrap().unwrap().epoch, 2);
        let err = a.journal(4, 1, batch(4, 1)).await.unwrap_err();
        assert!(err.to_string().contains("took writer epoch 2"), "{err}");
        assert_eq!(a.held_epoch(), None);
        // ...and stays stopped.
        assert!(a.finalize_log_segment(1, 3).await.is_err());
        assert!(a.purge_logs_older_than(100).await.is_err());
        b.start_log_segment(4).await.unwrap();
        b.journal(4, 2, batch(4, 2)).await.unwrap();
        b.finalize_log_segment(4, 5).await.unwrap();
        let all = a.read_edits(1, 100, true).await.unwrap();
        assert_eq!(
            all.iter().map(|r| r.txid).collect::<Vec<_>>(),
            vec![1, 2, 3, 4, 5]
        );
    }

    #[tokio::test]
    async fn a_changed_marker_is_seen_even_when_stat_looks_the_same() {
        let t = TempDir::new("shared-dir-reread");
        format_shared_dir(t.path(), &info(), false).unwrap();
        let a = SharedDirJournal::open(t.path(), &info()).unwrap();
        a.take_writer_epoch().unwrap();
        a.check_writer().unwrap();
        // Overwrite the marker in place (same inode) with another writer's content,
        // then make its stamp look unchanged to stat: the periodic reread catches it.
        let path = marker_path(t.path());
        let other = WriterEpoch {
            epoch: 2,
            writer: "zz:1:abcdef01".into(),
        }
        .encode();
        fs::write(&path, other.as_bytes()).unwrap();
        {
            let mut held = lock(&a.held);
            let h = held.as_mut().unwrap();
            h.stamp = stamp(&path).unwrap();
            h.read_at = Instant::now() - REREAD_EVERY;
        }
        assert!(a.check_writer().is_err());
    }

    #[test]
    fn open_refuses_another_namespace() {
        let t = TempDir::new("shared-dir-ns");
        format_shared_dir(t.path(), &info(), false).unwrap();
        let mut other = info();
        other.namespace_id = 43;
        assert!(SharedDirJournal::open(t.path(), &other).is_err());
    }
}
