//! The fsimages of this NameNode's name dirs as the image transfer sees them: find one
//! to serve, verify a file by streaming it, and install an uploaded image crash-safely
//! into every dir, then keep only `dfs.namenode.num.checkpoints.retained` of them.
//!
//! The transfer checksum of an image is its own trailer (crc32c of every byte before
//! it, see [`crate::fsimage`]): the sender states it, and the receiver recomputes it
//! over the bytes that arrived, so the whole file is covered end to end.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use hafs_journal::fsutil::{annotate, fsync_dir};

use crate::fsimage;

/// The fsimage header, as [`crate::fsimage`] writes it: magic, format version, txid,
/// body length.
const MAGIC: &[u8; 8] = b"HAFSIMG1";
const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 8 + 8;
const TRAILER_LEN: usize = 4;
/// Same bound as the loader's.
pub const MAX_IMAGE_LEN: u64 = (64 << 30) + (HEADER_LEN + TRAILER_LEN) as u64;

/// What a verified image file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageMeta {
    pub txid: u64,
    pub len: u64,
    /// The image's crc32c trailer.
    pub checksum: u32,
}

pub fn format_checksum(c: u32) -> String {
    format!("crc32c:{c:08x}")
}

pub fn parse_checksum(s: &str) -> Option<u32> {
    let hex = s.trim().strip_prefix("crc32c:")?;
    if hex.len() != 8 {
        return None;
    }
    u32::from_str_radix(hex, 16).ok()
}

/// Checks an image as its bytes stream past, holding at most the header and the last
/// four bytes.
#[derive(Debug, Default)]
pub struct ImageVerifier {
    crc: u32,
    len: u64,
    head: Vec<u8>,
    /// The last (up to) four bytes seen: the trailer once the stream ends.
    held: Vec<u8>,
}

impl ImageVerifier {
    pub fn new() -> ImageVerifier {
        ImageVerifier::default()
    }

    pub fn update(&mut self, data: &[u8]) {
        self.len += data.len() as u64;
        if self.head.len() < HEADER_LEN {
            let take = (HEADER_LEN - self.head.len()).min(data.len());
            self.head.extend_from_slice(&data[..take]);
        }
        if data.len() >= TRAILER_LEN {
            self.crc = crc32c::crc32c_append(self.crc, &self.held);
            let cut = data.len() - TRAILER_LEN;
            self.crc = crc32c::crc32c_append(self.crc, &data[..cut]);
            self.held.clear();
            self.held.extend_from_slice(&data[cut..]);
        } else {
            self.held.extend_from_slice(data);
            if self.held.len() > TRAILER_LEN {
                let cut = self.held.len() - TRAILER_LEN;
                self.crc = crc32c::crc32c_append(self.crc, &self.held[..cut]);
                self.held.drain(..cut);
            }
        }
    }

    pub fn bytes_seen(&self) -> u64 {
        self.len
    }

    /// Checks the framing and the checksum of everything seen.
    pub fn finish(&self) -> Result<ImageMeta, String> {
        if self.len < (HEADER_LEN + TRAILER_LEN) as u64 || self.held.len() != TRAILER_LEN {
            return Err(format!("truncated image: only {} bytes", self.len));
        }
        let h = &self.head;
        if &h[..8] != MAGIC {
            return Err("bad magic: not an hafs fsimage".into());
        }
        let version = u32::from_be_bytes([h[8], h[9], h[10], h[11]]);
        if version != FORMAT_VERSION {
            return Err(format!("unsupported fsimage format version {version}"));
        }
        let mut b = [0u8; 8];
        b.copy_from_slice(&h[12..20]);
        let txid = u64::from_be_bytes(b);
        b.copy_from_slice(&h[20..28]);
        let body_len = u64::from_be_bytes(b);
        if body_len.checked_add((HEADER_LEN + TRAILER_LEN) as u64) != Some(self.len) {
            return Err(format!(
                "body length {body_len} does not match the image size {}",
                self.len
            ));
        }
        let stored = u32::from_be_bytes([self.held[0], self.held[1], self.held[2], self.held[3]]);
        if stored != self.crc {
            return Err(format!(
                "checksum mismatch: the image says {stored:08x}, its bytes give {:08x}",
                self.crc
            ));
        }
        Ok(ImageMeta {
            txid,
            len: self.len,
            checksum: stored,
        })
    }
}

/// Reads a whole image file and verifies it (blocking IO).
pub fn verify_file(path: &Path) -> Result<ImageMeta, String> {
    let mut f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut v = ImageVerifier::new();
    let mut buf = vec![0u8; 256 * 1024];
    // Bounded by the file's length.
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        v.update(&buf[..n]);
        if v.bytes_seen() > MAX_IMAGE_LEN {
            return Err(format!("{}: larger than any image", path.display()));
        }
    }
    v.finish().map_err(|e| format!("{}: {e}", path.display()))
}

/// Which image a GET asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxidSpec {
    Latest,
    Exactly(u64),
}

impl TxidSpec {
    pub fn parse(s: &str) -> Option<TxidSpec> {
        if s == "latest" {
            return Some(TxidSpec::Latest);
        }
        s.parse().ok().map(TxidSpec::Exactly)
    }
}

/// The `current/` dirs of the name dirs, and the retention setting.
#[derive(Debug, Clone)]
pub struct ImageStore {
    dirs: Vec<PathBuf>,
    retained: usize,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl ImageStore {
    /// `current_dirs`: each name dir's `current/`. At least one.
    pub fn new(current_dirs: Vec<PathBuf>, retained: usize) -> ImageStore {
        ImageStore {
            dirs: current_dirs,
            retained: retained.max(1),
        }
    }

    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// Every image file in every dir, newest first.
    fn all_images(&self) -> Vec<(u64, PathBuf)> {
        let mut out = Vec::new();
        for d in &self.dirs {
            if let Ok(list) = fsimage::list(d) {
                out.extend(list);
            }
        }
        out.sort_by_key(|x| std::cmp::Reverse(x.0));
        out
    }

    /// The newest image txid present in any dir (not verified).
    pub fn newest_txid(&self) -> Option<u64> {
        self.all_images().first().map(|x| x.0)
    }

    /// Finds an image that verifies: the newest for `Latest` (falling back to older ones
    /// past a corrupt file), or one at exactly that txid. Blocking IO.
    pub fn find(&self, spec: TxidSpec) -> Result<(PathBuf, ImageMeta), String> {
        let mut problems = Vec::new();
        for (txid, path) in self.all_images() {
            if matches!(spec, TxidSpec::Exactly(t) if t != txid) {
                continue;
            }
            match verify_file(&path) {
                Ok(meta) if meta.txid == txid => return Ok((path, meta)),
                Ok(meta) => problems.push(format!(
                    "{} holds txid {}, not the {txid} of its name",
                    path.display(),
                    meta.txid
                )),
                Err(e) => problems.push(e),
            }
        }
        let what = match spec {
            TxidSpec::Latest => "no fsimage".to_string(),
            TxidSpec::Exactly(t) => format!("no fsimage at txid {t}"),
        };
        if problems.is_empty() {
            Err(what)
        } else {
            Err(format!("{what} that verifies: {}", problems.join("; ")))
        }
    }

    /// A fresh temporary file for an incoming image in the first dir.
    pub fn temp_path(&self, txid: u64) -> PathBuf {
        self.dirs[0].join(format!(
            ".{}.upload.{}.{}",
            fsimage::file_name(txid),
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ))
    }

    /// Installs a received and verified image (already fsynced at `tmp`, which must be
    /// in the first dir) as `fsimage_<txid>` in every dir, crash-safely, then purges old
    /// images. Returns the oldest txid retained. Blocking IO.
    pub fn install(&self, tmp: &Path, txid: u64) -> io::Result<Option<u64>> {
        let name = fsimage::file_name(txid);
        let first = self.dirs[0].join(&name);
        fs::rename(tmp, &first).map_err(|e| annotate(e, "cannot rename image to", &first))?;
        fsync_dir(&self.dirs[0])?;
        for d in &self.dirs[1..] {
            copy_durably(&first, &d.join(&name))?;
        }
        self.purge()
    }

    /// Keeps the newest `retained` images in every dir; returns the oldest txid kept.
    pub fn purge(&self) -> io::Result<Option<u64>> {
        let mut oldest: Option<u64> = None;
        for d in &self.dirs {
            let kept =
                fsimage::purge(d, self.retained).map_err(|e| io::Error::other(e.to_string()))?;
            if let Some(k) = kept {
                oldest = Some(oldest.map_or(k, |o| o.max(k)));
            }
        }
        Ok(oldest)
    }

    /// Removes a temporary file left by an upload that failed.
    pub fn discard(&self, tmp: &Path) {
        let _ = fs::remove_file(tmp);
    }
}

/// Copies `from` to `to` so that a crash leaves either no `to` or a complete one.
pub fn copy_durably(from: &Path, to: &Path) -> io::Result<()> {
    let dir = to.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.copy.{}.{}",
        to.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut src = File::open(from).map_err(|e| annotate(e, "cannot open", from))?;
        let mut dst = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| annotate(e, "cannot create", &tmp))?;
        io::copy(&mut src, &mut dst).map_err(|e| annotate(e, "cannot copy to", &tmp))?;
        dst.flush()?;
        dst.sync_all()
            .map_err(|e| annotate(e, "cannot fsync", &tmp))?;
        drop(dst);
        fs::rename(&tmp, to).map_err(|e| annotate(e, "cannot rename to", to))?;
        fsync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verify_bytes(b: &[u8], chunk: usize) -> Result<ImageMeta, String> {
        let mut v = ImageVerifier::new();
        for c in b.chunks(chunk.max(1)) {
            v.update(c);
        }
        v.finish()
    }

    #[test]
    fn verifier_agrees_with_the_image_format_in_any_chunking() {
        let enc = fsimage::encode(77, b"some namespace body bytes");
        for chunk in [1, 2, 3, 4, 5, 7, 64, 1000] {
            let m = verify_bytes(&enc, chunk).unwrap();
            assert_eq!(m.txid, 77);
            assert_eq!(m.len, enc.len() as u64);
        }
        for i in 0..enc.len() {
            let mut bad = enc.clone();
            bad[i] ^= 0x01;
            assert!(verify_bytes(&bad, 3).is_err(), "flip at {i} undetected");
        }
        for n in 0..enc.len() {
            assert!(verify_bytes(&enc[..n], 5).is_err(), "cut at {n} undetected");
        }
    }

    #[test]
    fn checksum_strings() {
        assert_eq!(
            parse_checksum(&format_checksum(0xdeadbeef)),
            Some(0xdeadbeef)
        );
        assert_eq!(parse_checksum("crc32c:123"), None);
        assert_eq!(parse_checksum("md5:00000000"), None);
    }
}
