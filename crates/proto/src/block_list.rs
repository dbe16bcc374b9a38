//! Hadoop's legacy block-list encoding, the `blocks` long array (field 2) of
//! `StorageBlockReportProto`: `[finalized count, other count]`, then
//! `(id, length, genstamp)` per finalized replica, a `(-1, -1, -1)` delimiter, then
//! `(id, length, genstamp, state)` per other replica.
//!
//! hafs DataNodes send it and hafs NameNodes read it, because it is the one encoding
//! both Apache NameNodes and Apache DataNodes speak without negotiation: an Apache
//! NameNode reads the buffer encoding (field 4) only when `numberOfBlocks` is set, and an
//! Apache DataNode sends buffers only to a NameNode that advertises the capability
//! (hafs's does not).

// The crate allows clippy's lints for the generated code; this file is written by hand.
#![warn(clippy::all)]

use crate::hdfs::datanode::ReplicaStateProto;

/// One replica in a full block report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportedReplica {
    pub block_id: u64,
    pub num_bytes: u64,
    pub gen_stamp: u64,
    pub state: ReplicaStateProto,
}

/// -1 as a Java long.
const DELIMITER: u64 = u64::MAX;

/// Encodes `replicas` (any order; finalized ones are put first, as the format asks).
pub fn encode_legacy_block_list(replicas: &[ReportedReplica]) -> Vec<u64> {
    let finalized = replicas
        .iter()
        .filter(|r| r.state == ReplicaStateProto::Finalized);
    let others = replicas
        .iter()
        .filter(|r| r.state != ReplicaStateProto::Finalized);
    let n_finalized = finalized.clone().count();
    let n_others = replicas.len() - n_finalized;
    let mut longs = Vec::with_capacity(2 + 3 * n_finalized + 3 + 4 * n_others);
    longs.extend([n_finalized as u64, n_others as u64]);
    for r in finalized {
        longs.extend([r.block_id, r.num_bytes, r.gen_stamp]);
    }
    longs.extend([DELIMITER; 3]);
    for r in others {
        longs.extend([r.block_id, r.num_bytes, r.gen_stamp, r.state as i32 as u64]);
    }
    debug_assert_eq!(longs.len(), longs.capacity());
    longs
}

/// Decodes a legacy block list. The counts must account for the array exactly; the
/// array's own size is bounded by the IPC message limit.
pub fn decode_legacy_block_list(longs: &[u64]) -> Result<Vec<ReportedReplica>, String> {
    let [finalized, others, rest @ ..] = longs else {
        return Err(format!(
            "legacy block list of {} longs has no header (2 counts)",
            longs.len()
        ));
    };
    let finalized_longs = finalized.checked_mul(3);
    let other_longs = others.checked_mul(4);
    let expected = finalized_longs
        .zip(other_longs)
        .and_then(|(f, o)| f.checked_add(o)?.checked_add(3));
    if expected != Some(rest.len() as u64) {
        return Err(format!(
            "legacy block list declares {finalized} finalized and {others} other replicas, \
             which does not match its {} longs",
            longs.len()
        ));
    }
    // Both counts are now known to fit the array, hence usize.
    let (finalized_part, tail) = rest.split_at(*finalized as usize * 3);
    let (delimiter, other_part) = tail.split_at(3);
    if delimiter != [DELIMITER; 3] {
        return Err(format!(
            "legacy block list: expected the (-1, -1, -1) delimiter after {finalized} finalized replicas, found {delimiter:?}"
        ));
    }
    let mut replicas = Vec::with_capacity(*finalized as usize + *others as usize);
    for b in finalized_part.chunks_exact(3) {
        replicas.push(ReportedReplica {
            block_id: b[0],
            num_bytes: b[1],
            gen_stamp: b[2],
            state: ReplicaStateProto::Finalized,
        });
    }
    for b in other_part.chunks_exact(4) {
        let state = i32::try_from(b[3])
            .ok()
            .and_then(|s| ReplicaStateProto::try_from(s).ok())
            .ok_or_else(|| {
                format!(
                    "legacy block list: block {} has an unknown replica state {}",
                    b[0], b[3]
                )
            })?;
        replicas.push(ReportedReplica {
            block_id: b[0],
            num_bytes: b[1],
            gen_stamp: b[2],
            state,
        });
    }
    Ok(replicas)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEG1: u64 = u64::MAX;

    fn r(
        block_id: u64,
        num_bytes: u64,
        gen_stamp: u64,
        state: ReplicaStateProto,
    ) -> ReportedReplica {
        ReportedReplica {
            block_id,
            num_bytes,
            gen_stamp,
            state,
        }
    }

    #[test]
    fn decodes_finalized_and_other_replicas_of_a_legacy_block_list() {
        let longs = [
            2, 1, 10, 100, 1001, 11, 200, 1002, NEG1, NEG1, NEG1, 12, 5, 1003, 1,
        ];
        let got = decode_legacy_block_list(&longs).unwrap();
        let want = vec![
            r(10, 100, 1001, ReplicaStateProto::Finalized),
            r(11, 200, 1002, ReplicaStateProto::Finalized),
            r(12, 5, 1003, ReplicaStateProto::Rbw),
        ];
        assert_eq!(got, want);
        // An empty report (what an empty DataNode sends) is the header and delimiter.
        assert!(decode_legacy_block_list(&[0, 0, NEG1, NEG1, NEG1])
            .unwrap()
            .is_empty());
    }

    #[test]
    fn encoding_puts_finalized_replicas_first_and_decodes_back() {
        let replicas = vec![
            r(12, 5, 1003, ReplicaStateProto::Rbw),
            r(10, 100, 1001, ReplicaStateProto::Finalized),
            r(13, 0, 1004, ReplicaStateProto::Rwr),
            r(11, 200, 1002, ReplicaStateProto::Finalized),
        ];
        let longs = encode_legacy_block_list(&replicas);
        assert_eq!(
            longs,
            [
                2, 2, 10, 100, 1001, 11, 200, 1002, NEG1, NEG1, NEG1, 12, 5, 1003, 1, 13, 0, 1004,
                2
            ]
        );
        let back = decode_legacy_block_list(&longs).unwrap();
        let mut want = replicas.clone();
        want.sort_by_key(|r| (r.state != ReplicaStateProto::Finalized, r.block_id));
        assert_eq!(back, want);
        assert_eq!(encode_legacy_block_list(&[]), [0, 0, NEG1, NEG1, NEG1]);
    }

    #[test]
    fn refuses_legacy_block_lists_whose_counts_or_delimiter_do_not_fit() {
        let cases: &[(&[u64], &str)] = &[
            (&[], "no header"),
            (&[1], "no header"),
            // Counts larger than the array (and ones that overflow when multiplied).
            (&[5, 0, NEG1, NEG1, NEG1], "does not match its 5 longs"),
            (&[u64::MAX, u64::MAX, NEG1, NEG1, NEG1], "does not match"),
            (&[0, 0], "does not match"),
            (&[1, 0, 10, 100, 1001, 0, 0, 0], "delimiter"),
            (
                &[0, 1, NEG1, NEG1, NEG1, 12, 5, 1003, 99],
                "unknown replica state 99",
            ),
        ];
        for (longs, want) in cases {
            let err = decode_legacy_block_list(longs).unwrap_err();
            assert!(err.contains(want), "{longs:?}: {err}");
        }
    }
}
