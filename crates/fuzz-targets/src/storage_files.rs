//! Small files the daemons read at startup: the JournalNode's control files
//! (`journal_state`, `lease_state`), and every storage directory's `VERSION` and
//! `seen_txid`.

use std::path::Path;

use hafs_journal::election::{decode_lease, encode_lease, PersistedLease};
use hafs_journal::server::{decode_state, encode_state, PersistedState};
use hafs_storage::storage_dir::parse_seen_txid;
use hafs_storage::StorageInfo;

/// Header of a control file: magic (8) and version (4); then the u32 body length.
const PREFIX: usize = 12;

/// The input as a whole control file, and as the body of a correctly framed one (the
/// checksum guards the body parsers from random damage; this reaches them anyway).
pub fn control_files(data: &[u8]) {
    let _ = decode_state(data);
    let _ = decode_lease(data);
    let _ = decode_state(&reframe(&encode_state(&PersistedState::default()), data));
    let _ = decode_lease(&reframe(&encode_lease(&PersistedLease::default()), data));
}

/// `body` framed with the magic and version of `valid`, a correct length and crc32c.
fn reframe(valid: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = valid[..PREFIX].to_vec();
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// The input as a `VERSION` file (read as UTF-8 text, as the loader does) and as
/// `seen_txid`.
pub fn version_files(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = StorageInfo::parse_version_text(Path::new("VERSION"), text);
    }
    let _ = parse_seen_txid(Path::new("seen_txid"), data);
}
