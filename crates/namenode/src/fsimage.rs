//! fsimage files: a checkpoint of the namespace at one txid.
//!
//! File `current/fsimage_<txid, 19 digits>` in every name dir:
//!
//! ```text
//! magic "HAFSIMG1" (8) | u32 BE format version | u64 BE txid | u64 BE body length |
//! body (the namespace's own encoding) | u32 BE crc32c of everything before it
//! ```
//!
//! Written crash-safely (temp, fsync, rename, fsync dir). A file whose checksum, length
//! or header is wrong is reported and never used; startup falls back to an older image.

use std::path::{Path, PathBuf};

use hafs_journal::fsutil;

const MAGIC: &[u8; 8] = b"HAFSIMG1";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 8 + 8;
/// Bound on an image body: far above any namespace this process could hold.
const MAX_BODY_LEN: u64 = 64 << 30;

#[derive(thiserror::Error, Debug)]
pub enum ImageError {
    #[error("fsimage {file}: {reason}")]
    Corrupt { file: PathBuf, reason: String },
    #[error("fsimage {file}: {source}")]
    Io {
        file: PathBuf,
        source: std::io::Error,
    },
}

pub fn file_name(txid: u64) -> String {
    format!("fsimage_{txid:019}")
}

fn parse_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("fsimage_")?;
    if digits.len() != 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

pub fn encode(txid: u64, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len() + 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_be_bytes());
    out.extend_from_slice(&txid.to_be_bytes());
    out.extend_from_slice(&(body.len() as u64).to_be_bytes());
    out.extend_from_slice(body);
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// Checks the framing and returns (txid, body). Never panics on any input.
pub fn decode<'a>(file: &Path, bytes: &'a [u8]) -> Result<(u64, &'a [u8]), ImageError> {
    let bad = |reason: String| ImageError::Corrupt {
        file: file.to_path_buf(),
        reason,
    };
    if bytes.len() < HEADER_LEN + 4 {
        return Err(bad(format!("truncated: only {} bytes", bytes.len())));
    }
    if &bytes[..8] != MAGIC {
        return Err(bad("bad magic: not an hafs fsimage".into()));
    }
    let version = u32::from_be_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(bad(format!(
            "unsupported format version {version} (this hafs reads {VERSION})"
        )));
    }
    let txid = u64::from_be_bytes(bytes[12..20].try_into().expect("8 bytes"));
    let body_len = u64::from_be_bytes(bytes[20..28].try_into().expect("8 bytes"));
    if body_len > MAX_BODY_LEN || HEADER_LEN as u64 + body_len + 4 != bytes.len() as u64 {
        return Err(bad(format!(
            "body length {body_len} does not match the file size {}",
            bytes.len()
        )));
    }
    let crc_at = bytes.len() - 4;
    let stored = u32::from_be_bytes(bytes[crc_at..].try_into().expect("4 bytes"));
    let computed = crc32c::crc32c(&bytes[..crc_at]);
    if stored != computed {
        return Err(bad(format!(
            "checksum mismatch: stored {stored:08x}, computed {computed:08x}"
        )));
    }
    Ok((txid, &bytes[HEADER_LEN..crc_at]))
}

/// Images in a `current/` dir, newest first.
pub fn list(current: &Path) -> Result<Vec<(u64, PathBuf)>, ImageError> {
    let io = |source| ImageError::Io {
        file: current.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(current).map_err(io)? {
        let entry = entry.map_err(io)?;
        if let Some(txid) = entry.file_name().to_str().and_then(parse_name) {
            out.push((txid, entry.path()));
        }
    }
    out.sort_by_key(|x| std::cmp::Reverse(x.0));
    Ok(out)
}

/// Writes the image into one `current/` dir.
pub fn save(current: &Path, txid: u64, encoded: &[u8]) -> Result<PathBuf, ImageError> {
    let path = current.join(file_name(txid));
    fsutil::write_atomic(&path, encoded).map_err(|source| ImageError::Io {
        file: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Keeps the newest `retained` images in `current/`; returns the oldest txid kept.
pub fn purge(current: &Path, retained: usize) -> Result<Option<u64>, ImageError> {
    let images = list(current)?;
    let keep = retained.max(1);
    for (_, path) in images.iter().skip(keep) {
        std::fs::remove_file(path).map_err(|source| ImageError::Io {
            file: path.clone(),
            source,
        })?;
    }
    Ok(images.iter().take(keep).map(|(t, _)| *t).min())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_corruption_detected() {
        let body = b"namespace bytes".to_vec();
        let enc = encode(42, &body);
        let p = Path::new("fsimage_x");
        let (txid, b) = decode(p, &enc).unwrap();
        assert_eq!((txid, b), (42, &body[..]));
        // Flip every byte in turn: each must be detected.
        for i in 0..enc.len() {
            let mut bad = enc.clone();
            bad[i] ^= 0x40;
            assert!(decode(p, &bad).is_err(), "flip at {i} undetected");
        }
        // Every truncation too.
        for n in 0..enc.len() {
            assert!(
                decode(p, &enc[..n]).is_err(),
                "truncation to {n} undetected"
            );
        }
    }

    #[test]
    fn names() {
        assert_eq!(file_name(7), "fsimage_0000000000000000007");
        assert_eq!(parse_name(&file_name(7)), Some(7));
        assert_eq!(parse_name("fsimage_7"), None);
        assert_eq!(parse_name("fsimage_0000000000000000007.tmp"), None);
    }
}
