//! The edit log: records (as a JournalNode receives them in `journal` calls and as
//! segments hold them), segment files, and the ops they carry applied to a namespace
//! (what a Standby tailing a journal, or a restart replaying one, does with them).

use std::path::PathBuf;

use hafs_journal::record::{check_batch, decode, Decoded};
use hafs_journal::segment::SegmentReader;
use hafs_namenode::namespace::{EditOp, Namespace, NamespaceConfig};
use prost::Message;

/// Records or ops looked at per input.
const MAX_RECORDS: usize = 256;

/// A buffer of records, decoded one after the other; each payload applied as an op to
/// a fresh namespace. The buffer is also checked as a `journal` call's batch would be.
pub fn edit_records(data: &[u8]) {
    let mut ns = namespace();
    let mut rest = data;
    let mut count = 0u32;
    let mut first_txid = None;
    for _ in 0..MAX_RECORDS {
        match decode(rest) {
            Decoded::Record { record, len } => {
                first_txid.get_or_insert(record.txid);
                count += 1;
                if let Ok(op) = EditOp::decode(record.payload.as_ref()) {
                    let _ = ns.apply(&op);
                }
                rest = &rest[len..];
            }
            Decoded::Incomplete { .. } | Decoded::Invalid { .. } => break,
        }
    }
    let _ = check_batch(data, first_txid.unwrap_or(1), count.max(1));
}

/// Length-delimited ops, applied in order to one namespace: what a checksummed but
/// hostile or buggy edit log makes a NameNode do. Applying may refuse an op; it may not
/// panic, whatever the op names.
pub fn edit_ops_apply(data: &[u8]) {
    let mut ns = namespace();
    let mut rest = data;
    for _ in 0..MAX_RECORDS {
        if rest.is_empty() {
            break;
        }
        match EditOp::decode_length_delimited(&mut rest) {
            Ok(op) => {
                let _ = ns.apply(&op);
            }
            Err(_) => break,
        }
    }
}

/// A segment file on disk, read as an in-progress segment starting at txid 1 and as a
/// finalized one ending at txid 3.
pub fn edit_segment(data: &[u8]) {
    thread_local! {
        static PATH: PathBuf = std::env::temp_dir().join(format!(
            "hafs-fuzz-segment-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
    }
    PATH.with(|path| {
        if std::fs::write(path, data).is_err() {
            return;
        }
        for last in [None, Some(3)] {
            let Ok(mut reader) = SegmentReader::open(path, 1, last) else {
                continue;
            };
            for _ in 0..MAX_RECORDS {
                match reader.next_record() {
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
            let _ = reader.torn_tail();
        }
        let _ = std::fs::remove_file(path);
    });
}

fn namespace() -> Namespace {
    Namespace::new(NamespaceConfig::default(), "hdfs", "supergroup", 0)
}
