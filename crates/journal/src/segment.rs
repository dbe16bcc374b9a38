//! Segment files: names, header, a writer and a checking reader.
//!
//! A segment is `HAFSEDIT` + u32 BE format version + records (see [`crate::record`]).

use std::borrow::Cow;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use bytes::BytesMut;

use crate::error::EditLogError;
use crate::fsutil::{annotate, fsync_dir};
use crate::record::{
    verify_checksum, EditRecord, RecordHeader, MAX_RECORD_LEN, RECORD_HEADER_LEN, RECORD_OVERHEAD,
};

pub const SEGMENT_MAGIC: &[u8; 8] = b"HAFSEDIT";
pub const SEGMENT_FORMAT_VERSION: u32 = 1;
pub const SEGMENT_HEADER_LEN: u64 = 12;

const IN_PROGRESS_PREFIX: &str = "edits_inprogress_";
const FINALIZED_PREFIX: &str = "edits_";
const TXID_DIGITS: usize = 19;

/// `edits_inprogress_<first txid, 19 digits>` (Hadoop's name).
pub fn in_progress_name(first_txid: u64) -> String {
    format!("{IN_PROGRESS_PREFIX}{first_txid:019}")
}

/// `edits_<first, 19 digits>-<last, 19 digits>` (Hadoop's name).
pub fn finalized_name(first_txid: u64, last_txid: u64) -> String {
    format!("{FINALIZED_PREFIX}{first_txid:019}-{last_txid:019}")
}

/// What a segment file name says: first txid and, when finalized, last txid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentName {
    pub first_txid: u64,
    pub last_txid: Option<u64>,
}

fn parse_txid(s: &str) -> Option<u64> {
    if s.len() != TXID_DIGITS || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses a segment file name; `None` for anything else (VERSION, fsimage, temp files,
/// Hadoop's `.corrupt`/`.empty` markers…).
pub fn parse_name(name: &str) -> Option<SegmentName> {
    if let Some(rest) = name.strip_prefix(IN_PROGRESS_PREFIX) {
        return Some(SegmentName {
            first_txid: parse_txid(rest)?,
            last_txid: None,
        });
    }
    let rest = name.strip_prefix(FINALIZED_PREFIX)?;
    let (a, b) = rest.split_once('-')?;
    let (first, last) = (parse_txid(a)?, parse_txid(b)?);
    if last < first {
        return None;
    }
    Some(SegmentName {
        first_txid: first,
        last_txid: Some(last),
    })
}

fn header_bytes() -> [u8; SEGMENT_HEADER_LEN as usize] {
    let mut h = [0u8; SEGMENT_HEADER_LEN as usize];
    h[..8].copy_from_slice(SEGMENT_MAGIC);
    h[8..].copy_from_slice(&SEGMENT_FORMAT_VERSION.to_be_bytes());
    h
}

fn corrupt(file: &Path, offset: u64, reason: impl Into<String>) -> EditLogError {
    EditLogError::Corrupt {
        file: file.to_path_buf(),
        offset,
        reason: reason.into(),
    }
}

/// Appends to a new in-progress segment file.
#[derive(Debug)]
pub struct SegmentWriter {
    path: PathBuf,
    file: File,
    first_txid: u64,
    next_txid: u64,
    len: u64,
}

impl SegmentWriter {
    /// Creates `dir/edits_inprogress_<first_txid>` (it must not exist), writes the header
    /// and makes the new file and its directory entry durable.
    pub fn create(dir: &Path, first_txid: u64) -> Result<SegmentWriter, EditLogError> {
        let path = dir.join(in_progress_name(first_txid));
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| annotate(e, "cannot create edit log segment", &path))?;
        file.write_all(&header_bytes())
            .map_err(|e| annotate(e, "cannot write", &path))?;
        file.sync_all()
            .map_err(|e| annotate(e, "cannot fsync", &path))?;
        fsync_dir(dir)?;
        Ok(SegmentWriter {
            path,
            file,
            first_txid,
            next_txid: first_txid,
            len: SEGMENT_HEADER_LEN,
        })
    }

    /// Appends `count` already checked records and fdatasyncs them.
    pub fn append_durably(&mut self, records: &[u8], count: u32) -> Result<(), EditLogError> {
        self.file
            .write_all(records)
            .map_err(|e| annotate(e, "cannot write", &self.path))?;
        self.file
            .sync_data()
            .map_err(|e| annotate(e, "cannot fdatasync", &self.path))?;
        self.len += records.len() as u64;
        self.next_txid += count as u64;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn first_txid(&self) -> u64 {
        self.first_txid
    }

    /// The txid the next appended record must carry.
    pub fn next_txid(&self) -> u64 {
        self.next_txid
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.next_txid == self.first_txid
    }
}

/// Where an in-progress segment stops being readable and why: its torn tail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    pub offset: u64,
    pub reason: String,
}

/// Reads and checks a segment's records in order.
///
/// Txids must be consecutive from the first txid named by the file; a finalized
/// segment must end exactly at its last txid. Damage in a finalized segment is
/// [`EditLogError::Corrupt`]. In an in-progress segment, damage with no valid later record
/// is a torn tail: reading stops there (see [`SegmentReader::torn_tail`]); damage followed
/// by a valid record is `Corrupt`.
#[derive(Debug)]
pub struct SegmentReader {
    path: PathBuf,
    reader: BufReader<File>,
    /// Records are read into this buffer and handed out as slices of it, so a record
    /// costs no allocation of its own (replaying a million edits spent a third of its
    /// time in malloc and free when each record had its own).
    arena: BytesMut,
    offset: u64,
    next_txid: u64,
    last_txid: Option<u64>,
    torn_tail: Option<TornTail>,
    done: bool,
}

/// Bytes the reader's arena grows by when a record does not fit in what is left.
const ARENA_CHUNK: usize = 1 << 20;

impl SegmentReader {
    /// Opens a segment at its first record. `last_txid` is `None` for an in-progress one.
    pub fn open(
        path: &Path,
        first_txid: u64,
        last_txid: Option<u64>,
    ) -> Result<SegmentReader, EditLogError> {
        Self::open_at(path, SEGMENT_HEADER_LEN, first_txid, last_txid)
    }

    /// Opens a segment and resumes at `offset`, where the record with `next_txid` starts
    /// (a position an earlier reader reported). The header is still checked.
    pub fn open_at(
        path: &Path,
        offset: u64,
        next_txid: u64,
        last_txid: Option<u64>,
    ) -> Result<SegmentReader, EditLogError> {
        let file =
            File::open(path).map_err(|e| annotate(e, "cannot open edit log segment", path))?;
        let mut reader = BufReader::with_capacity(256 * 1024, file);
        let mut header = [0u8; SEGMENT_HEADER_LEN as usize];
        let got =
            read_full(&mut reader, &mut header).map_err(|e| annotate(e, "cannot read", path))?;
        let mut torn_tail = None;
        if got < header.len() {
            if last_txid.is_some() || header[..got] != header_bytes()[..got] {
                return Err(corrupt(
                    path,
                    0,
                    format!("file is {got} bytes, shorter than the segment header"),
                ));
            }
            // Crashed while creating the file: nothing in it was ever acknowledged.
            torn_tail = Some(TornTail {
                offset: 0,
                reason: format!("segment header cut short at {got} bytes"),
            });
        } else {
            if &header[..8] != SEGMENT_MAGIC {
                let magic = String::from_utf8_lossy(&header[..8]).into_owned();
                return Err(corrupt(
                    path,
                    0,
                    format!("bad magic {magic:?}: not a hafs edit log segment"),
                ));
            }
            let version = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);
            if version != SEGMENT_FORMAT_VERSION {
                return Err(corrupt(
                    path,
                    8,
                    format!("unsupported segment format version {version} (this build reads {SEGMENT_FORMAT_VERSION})"),
                ));
            }
            if offset < SEGMENT_HEADER_LEN {
                return Err(EditLogError::IllegalState {
                    journal: path.display().to_string(),
                    reason: format!("cannot resume reading at offset {offset}, inside the header"),
                });
            }
            if offset > SEGMENT_HEADER_LEN {
                reader
                    .seek(SeekFrom::Start(offset))
                    .map_err(|e| annotate(e, "cannot seek in", path))?;
            }
        }
        Ok(SegmentReader {
            path: path.to_path_buf(),
            reader,
            arena: BytesMut::new(),
            offset: if torn_tail.is_some() { 0 } else { offset },
            next_txid,
            last_txid,
            done: torn_tail.is_some(),
            torn_tail,
        })
    }

    /// The next record, or `None` at the end (or at a torn tail).
    pub fn next_record(&mut self) -> Result<Option<EditRecord>, EditLogError> {
        if self.done {
            return Ok(None);
        }
        let start = self.offset;
        let mut head = [0u8; RECORD_HEADER_LEN];
        let got = read_full(&mut self.reader, &mut head)
            .map_err(|e| annotate(e, "cannot read", &self.path))?;
        if got == 0 {
            self.done = true;
            if let Some(last) = self.last_txid {
                if self.next_txid != last.wrapping_add(1) {
                    return Err(corrupt(
                        &self.path,
                        start,
                        format!(
                            "segment ends after txid {}, but its name says it holds up to txid {last}",
                            self.next_txid.wrapping_sub(1)
                        ),
                    ));
                }
            }
            return Ok(None);
        }
        if got < head.len() {
            return self.damaged(
                start,
                format!("truncated record header: {got} of {RECORD_HEADER_LEN} bytes"),
            );
        }
        let header = match RecordHeader::parse(&head) {
            Ok(h) => h,
            Err(reason) => return self.damaged(start, reason),
        };
        let len = header.record_len();
        if len > ARENA_CHUNK {
            // A large claimed length (up to MAX_RECORD_LEN) is checked against the bytes
            // the file holds before anything is allocated for it: one flipped length bit
            // in a short file must not cost 64 MiB. (Found by the edit_segment fuzz
            // target.) Only for large records: an fstat per record would slow replay.
            let file_len = self
                .reader
                .get_ref()
                .metadata()
                .map_err(|e| annotate(e, "cannot stat", &self.path))?
                .len();
            let present = file_len.saturating_sub(start);
            if present < len as u64 {
                return self.damaged(
                    start,
                    format!("truncated record: {present} of {len} bytes present"),
                );
            }
        }
        if self.arena.capacity() < len {
            // A fresh chunk (the old one stays alive while records point into it).
            self.arena = BytesMut::with_capacity(len.max(ARENA_CHUNK));
        }
        self.arena.resize(len, 0);
        let mut record = self.arena.split_to(len);
        record[..RECORD_HEADER_LEN].copy_from_slice(&head);
        let got = read_full(&mut self.reader, &mut record[RECORD_HEADER_LEN..])
            .map_err(|e| annotate(e, "cannot read", &self.path))?;
        if got < header.record_len() - RECORD_HEADER_LEN {
            return self.damaged(
                start,
                format!(
                    "truncated record: {} of {} bytes present",
                    RECORD_HEADER_LEN + got,
                    header.record_len()
                ),
            );
        }
        if let Err(reason) = verify_checksum(&record) {
            return self.damaged(start, reason);
        }
        // A record with a valid checksum was written on purpose: a wrong txid is never a
        // torn write.
        if header.txid != self.next_txid {
            return Err(corrupt(
                &self.path,
                start,
                format!(
                    "non-consecutive txid: expected {}, found {}",
                    self.next_txid, header.txid
                ),
            ));
        }
        if let Some(last) = self.last_txid {
            if header.txid > last {
                return Err(corrupt(
                    &self.path,
                    start,
                    format!(
                        "txid {} is past the segment's last txid {last}",
                        header.txid
                    ),
                ));
            }
        }
        self.offset += record.len() as u64;
        self.next_txid += 1;
        record.truncate(record.len() - 4);
        let payload = record.freeze().slice(RECORD_HEADER_LEN..);
        Ok(Some(EditRecord {
            txid: header.txid,
            payload,
        }))
    }

    /// Damage at `offset`: corrupt in a finalized segment; in an in-progress one, a torn
    /// tail unless a valid later record proves acknowledged data was damaged.
    fn damaged(&mut self, offset: u64, reason: String) -> Result<Option<EditRecord>, EditLogError> {
        self.done = true;
        if self.last_txid.is_some() {
            return Err(corrupt(&self.path, offset, reason));
        }
        let file = self.reader.get_ref();
        let file_len = file
            .metadata()
            .map_err(|e| annotate(e, "cannot stat", &self.path))?
            .len();
        if let Some((at, txid)) = find_later_valid_record(file, offset, file_len, self.next_txid)
            .map_err(|e| annotate(e, "cannot read", &self.path))?
        {
            return Err(corrupt(
                &self.path,
                offset,
                format!("{reason}; a valid record (txid {txid}) follows at offset {at}, so acknowledged edits are damaged"),
            ));
        }
        self.torn_tail = Some(TornTail { offset, reason });
        Ok(None)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// End of the last good record read (where the next one starts).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The txid the next record must carry.
    pub fn next_txid(&self) -> u64 {
        self.next_txid
    }

    /// Set once reading stopped at a torn tail of an in-progress segment.
    pub fn torn_tail(&self) -> Option<&TornTail> {
        self.torn_tail.as_ref()
    }
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Looks after a damaged record at `damage_at` for any valid record: plausible length,
/// valid checksum, and a txid that could follow — at least `next_txid`, and at most one
/// more per 16 bytes (the smallest record) between the damage and the candidate. That
/// bound keeps random garbage from passing as a record.
fn find_later_valid_record(
    file: &File,
    damage_at: u64,
    file_len: u64,
    next_txid: u64,
) -> io::Result<Option<(u64, u64)>> {
    const WINDOW: u64 = 1 << 20;
    let mut window: Vec<u8> = Vec::new();
    let mut window_start = damage_at;
    let mut pos = damage_at + 1;
    while pos + RECORD_OVERHEAD as u64 <= file_len {
        if pos + RECORD_HEADER_LEN as u64 > window_start + window.len() as u64 {
            let n = WINDOW.min(file_len - pos) as usize;
            window.resize(n, 0);
            file.read_exact_at(&mut window, pos)?;
            window_start = pos;
        }
        let i = (pos - window_start) as usize;
        let head: &[u8; RECORD_HEADER_LEN] = window[i..i + RECORD_HEADER_LEN]
            .try_into()
            .map_err(io::Error::other)?;
        let max_txid = next_txid.saturating_add((pos - damage_at) / RECORD_OVERHEAD as u64);
        if let Ok(h) = RecordHeader::parse(head) {
            let end = pos + h.record_len() as u64;
            if h.txid >= next_txid
                && h.txid <= max_txid
                && h.payload_len <= MAX_RECORD_LEN
                && end <= file_len
            {
                let bytes: Cow<[u8]> = if i + h.record_len() <= window.len() {
                    Cow::Borrowed(&window[i..i + h.record_len()])
                } else {
                    let mut v = vec![0u8; h.record_len()];
                    file.read_exact_at(&mut v, pos)?;
                    Cow::Owned(v)
                };
                if verify_checksum(&bytes).is_ok() {
                    return Ok(Some((pos, h.txid)));
                }
            }
        }
        pos += 1;
    }
    Ok(None)
}

/// Cuts a file at `len` and makes that durable.
pub fn truncate_durably(path: &Path, len: u64) -> Result<(), EditLogError> {
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| annotate(e, "cannot open", path))?;
    f.set_len(len)
        .map_err(|e| annotate(e, "cannot truncate", path))?;
    f.sync_all()
        .map_err(|e| annotate(e, "cannot fsync", path))?;
    Ok(())
}

/// Lists the segment files in `dir`, sorted by first txid (in-progress after a finalized
/// segment with the same first txid).
pub fn list_dir(dir: &Path) -> Result<Vec<(SegmentName, PathBuf)>, EditLogError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| annotate(e, "cannot list", dir))? {
        let entry = entry.map_err(|e| annotate(e, "cannot list", dir))?;
        let name = entry.file_name();
        if let Some(seg) = name.to_str().and_then(parse_name) {
            out.push((seg, entry.path()));
        }
    }
    out.sort_by_key(|(s, _)| (s.first_txid, s.last_txid.is_none(), s.last_txid));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::encode_batch;
    use crate::test_util::TempDir;

    #[test]
    fn names_match_hadoop() {
        assert_eq!(in_progress_name(1), "edits_inprogress_0000000000000000001");
        assert_eq!(
            finalized_name(1, 42),
            "edits_0000000000000000001-0000000000000000042"
        );
        assert_eq!(
            parse_name(&in_progress_name(5)),
            Some(SegmentName {
                first_txid: 5,
                last_txid: None
            })
        );
        assert_eq!(
            parse_name(&finalized_name(5, 9)),
            Some(SegmentName {
                first_txid: 5,
                last_txid: Some(9)
            })
        );
        for bad in [
            "VERSION",
            "edits_inprogress_1",
            "edits_0000000000000000009-0000000000000000005",
            "edits_inprogress_0000000000000000001.corrupt",
            "edits_000000000000000000x-0000000000000000005",
            "edits_0000000000000000001",
        ] {
            assert_eq!(parse_name(bad), None, "{bad}");
        }
    }

    fn write_segment(dir: &Path, first: u64, n: u64) -> PathBuf {
        let mut w = SegmentWriter::create(dir, first).unwrap();
        let payloads: Vec<Vec<u8>> = (0..n).map(|i| format!("op {i}").into_bytes()).collect();
        w.append_durably(&encode_batch(first, &payloads).unwrap(), n as u32)
            .unwrap();
        w.path().to_path_buf()
    }

    fn read_all(
        path: &Path,
        first: u64,
        last: Option<u64>,
    ) -> Result<Vec<EditRecord>, EditLogError> {
        let mut r = SegmentReader::open(path, first, last)?;
        let mut v = Vec::new();
        while let Some(rec) = r.next_record()? {
            v.push(rec);
        }
        Ok(v)
    }

    #[test]
    fn bad_magic_and_version_name_offset() {
        let t = TempDir::new("seg-magic");
        let p = write_segment(t.path(), 1, 3);
        let good = fs::read(&p).unwrap();
        let mut bad = good.clone();
        bad[0] = b'X';
        fs::write(&p, &bad).unwrap();
        match read_all(&p, 1, Some(3)) {
            Err(EditLogError::Corrupt {
                offset: 0,
                reason,
                file,
            }) => {
                assert!(reason.contains("bad magic"));
                assert_eq!(file, p);
            }
            other => panic!("{other:?}"),
        }
        let mut bad = good.clone();
        bad[11] = 9;
        fs::write(&p, &bad).unwrap();
        match read_all(&p, 1, None) {
            Err(EditLogError::Corrupt {
                offset: 8, reason, ..
            }) => assert!(reason.contains("version 9")),
            other => panic!("{other:?}"),
        }
        // Short header: corrupt if finalized, an empty torn segment if in progress.
        fs::write(&p, &good[..5]).unwrap();
        assert!(matches!(
            read_all(&p, 1, Some(3)),
            Err(EditLogError::Corrupt { offset: 0, .. })
        ));
        let mut r = SegmentReader::open(&p, 1, None).unwrap();
        assert_eq!(r.next_record().unwrap(), None);
        assert_eq!(r.torn_tail().unwrap().offset, 0);
    }

    #[test]
    fn non_consecutive_txids_are_corrupt() {
        let t = TempDir::new("seg-txid");
        let mut w = SegmentWriter::create(t.path(), 1).unwrap();
        let mut b = encode_batch(1, &[b"a", b"b"]).unwrap().to_vec();
        b.extend_from_slice(&encode_batch(4, &[b"d"]).unwrap());
        w.append_durably(&b, 3).unwrap();
        for last in [None, Some(3)] {
            match read_all(w.path(), 1, last) {
                Err(EditLogError::Corrupt { offset, reason, .. }) => {
                    assert_eq!(offset, SEGMENT_HEADER_LEN + 2 * 17);
                    assert!(reason.contains("expected 3, found 4"), "{reason}");
                }
                other => panic!("{other:?}"),
            }
        }
        // The first record must carry the txid in the file name.
        assert!(matches!(
            read_all(w.path(), 2, None),
            Err(EditLogError::Corrupt { offset: 12, .. })
        ));
    }

    #[test]
    fn finalized_segment_must_end_at_its_last_txid() {
        let t = TempDir::new("seg-last");
        let p = write_segment(t.path(), 1, 3);
        assert_eq!(read_all(&p, 1, Some(3)).unwrap().len(), 3);
        let end = fs::metadata(&p).unwrap().len();
        assert!(
            matches!(read_all(&p, 1, Some(4)), Err(EditLogError::Corrupt { offset, .. }) if offset == end)
        );
        assert!(matches!(
            read_all(&p, 1, Some(2)),
            Err(EditLogError::Corrupt { .. })
        ));
    }

    #[test]
    fn resume_at_reported_offset() {
        let t = TempDir::new("seg-resume");
        let p = write_segment(t.path(), 10, 5);
        let mut r = SegmentReader::open(&p, 10, Some(14)).unwrap();
        r.next_record().unwrap();
        r.next_record().unwrap();
        let (off, next) = (r.offset(), r.next_txid());
        let mut r2 = SegmentReader::open_at(&p, off, next, Some(14)).unwrap();
        assert_eq!(r2.next_record().unwrap().unwrap().txid, 12);
    }
}
