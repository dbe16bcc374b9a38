//! The startup scan of one volume: rebuilds its part of the replica map.

use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use hafs_storage::fsutil::annotate;

use crate::storage::checksum::{DataChecksum, META_HEADER_LEN};
use crate::storage::replica::{ReplicaInfo, ReplicaState};
use crate::storage::volume::{parse_block_file, parse_meta_file, Volume};
use crate::storage::Replica;

/// Bounds on directory listings, so a damaged or hostile tree cannot exhaust memory.
const MAX_ENTRIES_PER_DIR: usize = 1_000_000;

/// Which of two replicas of one block to keep: the newer generation stamp, then a
/// finalized one, then the longer.
pub(crate) fn prefer(new: &ReplicaInfo, old: &ReplicaInfo) -> bool {
    let rank = |r: &ReplicaInfo| {
        (
            r.gen_stamp,
            r.state == ReplicaState::Finalized,
            r.bytes_on_disk,
        )
    };
    rank(new) > rank(old)
}

pub(crate) fn scan_volume(vol: &Volume) -> io::Result<Vec<Replica>> {
    let mut out = Vec::new();
    let current = vol.current();
    for entry in list(&current)? {
        let bpid = match entry.file_name().and_then(|n| n.to_str()) {
            Some(n) => n.to_string(),
            None => continue,
        };
        if !vol.bp_current(&bpid).is_dir() {
            continue;
        }
        // Copies in progress do not survive a restart.
        let tmp = vol.tmp_dir(&bpid);
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(|e| annotate(e, "cannot clear", &tmp))?;
        }
        let fin = vol.finalized_root(&bpid);
        if fin.is_dir() {
            for a in list(&fin)? {
                if !a.is_dir() {
                    continue;
                }
                for b in list(&a)? {
                    if b.is_dir() {
                        scan_dir(vol, &bpid, &b, ReplicaState::Finalized, &mut out)?;
                    }
                }
            }
        }
        let rbw = vol.rbw_dir(&bpid);
        if rbw.is_dir() {
            scan_dir(vol, &bpid, &rbw, ReplicaState::Rwr, &mut out)?;
        }
    }
    tracing::info!(dir = %vol.root.display(), replicas = out.len(), "scanned volume");
    Ok(out)
}

fn list(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut v = Vec::new();
    for e in fs::read_dir(dir).map_err(|e| annotate(e, "cannot list", dir))? {
        let e = e.map_err(|e| annotate(e, "cannot list", dir))?;
        v.push(e.path());
        if v.len() > MAX_ENTRIES_PER_DIR {
            return Err(io::Error::other(format!(
                "{} has more than {MAX_ENTRIES_PER_DIR} entries",
                dir.display()
            )));
        }
    }
    v.sort();
    Ok(v)
}

fn scan_dir(
    vol: &Volume,
    bpid: &str,
    dir: &Path,
    state: ReplicaState,
    out: &mut Vec<Replica>,
) -> io::Result<()> {
    let entries = list(dir)?;
    let mut metas: HashMap<u64, (u64, PathBuf)> = HashMap::new();
    let mut blocks = Vec::new();
    for p in entries {
        let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if let Some((id, gs)) = parse_meta_file(name) {
            // Several meta files of one block: a crash during a gen stamp bump; the
            // newest wins.
            if metas.get(&id).is_none_or(|(g, _)| gs > *g) {
                metas.insert(id, (gs, p.clone()));
            }
        } else if let Some(id) = parse_block_file(name) {
            blocks.push((id, p.clone()));
        }
    }
    for (id, data_file) in blocks {
        let Some((gs, meta_file)) = metas.get(&id).cloned() else {
            tracing::warn!(file = %data_file.display(), "block file without meta file; ignored");
            continue;
        };
        let len = fs::metadata(&data_file)
            .map_err(|e| annotate(e, "cannot stat", &data_file))?
            .len();
        let bytes = if state == ReplicaState::Finalized {
            len
        } else {
            match recover_rbw_length(&data_file, &meta_file) {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(file = %data_file.display(), error = %e, "unreadable replica being written; recovered as empty");
                    0
                }
            }
        };
        out.push(Replica {
            info: ReplicaInfo {
                pool_id: bpid.to_string(),
                block_id: id,
                gen_stamp: gs,
                state,
                bytes_on_disk: bytes,
                visible_length: bytes,
                storage_id: vol.storage_id.clone(),
                data_file,
                meta_file,
                recovery_id: 0,
                original_state: state,
            },
            volume: 0,
            writer: 0,
        });
    }
    Ok(())
}

/// The length of a replica left in `rbw/` whose last chunk's checksum verifies (as
/// Hadoop's `validateIntegrityAndSetLength`); both files are truncated to it.
fn recover_rbw_length(data_file: &Path, meta_file: &Path) -> io::Result<u64> {
    let mut meta = OpenOptions::new()
        .read(true)
        .write(true)
        .open(meta_file)
        .map_err(|e| annotate(e, "cannot open", meta_file))?;
    let data = OpenOptions::new()
        .read(true)
        .write(true)
        .open(data_file)
        .map_err(|e| annotate(e, "cannot open", data_file))?;
    let meta_len = meta.metadata()?.len();
    let data_len = data.metadata()?.len();
    let mut header = [0u8; 7];
    if meta_len < META_HEADER_LEN {
        // Not even a header: nothing is known to be valid.
        data.set_len(0)?;
        return Ok(0);
    }
    meta.seek(SeekFrom::Start(0))?;
    meta.read_exact(&mut header)?;
    let checksum = DataChecksum::parse_meta_header(&header)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let csize = checksum.checksum_size() as u64;
    let bpc = checksum.bpc();
    let chunks_in_meta = (meta_len - META_HEADER_LEN)
        .checked_div(csize)
        .unwrap_or_else(|| data_len.div_ceil(bpc));
    let mut len = data_len.min(chunks_in_meta.saturating_mul(bpc));
    if len > 0 && csize > 0 {
        let last = (len - 1) / bpc;
        let start = last * bpc;
        let mut buf = vec![0u8; (len - start) as usize];
        data.read_exact_at(&mut buf, start)?;
        let mut stored = [0u8; 4];
        meta.read_exact_at(&mut stored, META_HEADER_LEN + last * csize)?;
        if checksum.chunk_sum(&buf) != Some(stored) {
            len = start;
        }
    }
    data.set_len(len)?;
    meta.set_len(META_HEADER_LEN + checksum.chunks(len) * csize)?;
    data.sync_all()?;
    meta.sync_all()?;
    Ok(len)
}
