//! The writer's pure decisions: a new epoch from the journals' promises, and which copy
//! of an unfinalized segment recovery keeps (Hadoop's `SegmentRecoveryComparator`).

use std::cmp::Ordering;

use crate::protocol::{PrepareResponse, QjError, SegmentState};

/// Nodes needed for a majority of `n`.
pub fn majority(n: usize) -> usize {
    n / 2 + 1
}

/// The epoch a new writer proposes: one more than every promise it heard from a
/// majority. (A majority's promises include the highest epoch any writer got accepted,
/// since that writer needed a majority too.)
pub fn next_epoch(promised: &[u64]) -> u64 {
    promised.iter().copied().max().unwrap_or(0) + 1
}

/// Orders two prepareRecovery answers: the greater one is the better copy.
/// No segment < any segment; finalized beats in-progress; between in-progress copies the
/// higher max(accepted epoch, writer epoch) wins, then the longer one.
pub fn compare(a: &PrepareResponse, b: &PrepareResponse) -> Result<Ordering, QjError> {
    let (sa, sb) = match (a.segment, b.segment) {
        (None, None) => return Ok(Ordering::Equal),
        (None, Some(_)) => return Ok(Ordering::Less),
        (Some(_), None) => return Ok(Ordering::Greater),
        (Some(x), Some(y)) => (x, y),
    };
    if sa.start_txid != sb.start_txid {
        return Err(QjError::Invariant(format!(
            "recovery answers for different segments: {sa:?} and {sb:?}"
        )));
    }
    match (sa.in_progress, sb.in_progress) {
        (false, true) => return Ok(Ordering::Greater),
        (true, false) => return Ok(Ordering::Less),
        (false, false) => {
            if sa.end_txid != sb.end_txid {
                return Err(QjError::Invariant(format!(
                    "finalized segments with different lengths: {sa:?} and {sb:?}"
                )));
            }
            return Ok(Ordering::Equal);
        }
        (true, true) => {}
    }
    let seen = |r: &PrepareResponse| r.accepted_in_epoch.unwrap_or(0).max(r.last_writer_epoch);
    Ok(seen(a).cmp(&seen(b)).then(sa.end_txid.cmp(&sb.end_txid)))
}

/// Chooses the copy to recover from a majority's answers (index into `answers`), or
/// `None` when no node has the segment. Refuses a choice that would drop a txid some
/// node knows is committed.
pub fn choose(answers: &[PrepareResponse]) -> Result<Option<(usize, SegmentState)>, QjError> {
    let mut best: Option<usize> = None;
    for (i, a) in answers.iter().enumerate() {
        best = match best {
            None => Some(i),
            Some(b) if compare(a, &answers[b])? == Ordering::Greater => Some(i),
            keep => keep,
        };
    }
    let Some(b) = best else { return Ok(None) };
    let Some(seg) = answers[b].segment else {
        return Ok(None);
    };
    for a in answers {
        if let Some(c) = a.last_committed_txid {
            if c > seg.end_txid {
                return Err(QjError::Invariant(format!(
                    "Decided to synchronize log to {seg:?} but a journal had seen txid {c} committed"
                )));
            }
        }
    }
    Ok(Some((b, seg)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(end: Option<(u64, bool)>, acc: Option<u64>, writer: u64) -> PrepareResponse {
        PrepareResponse {
            segment: end.map(|(e, ip)| SegmentState {
                start_txid: 1,
                end_txid: e,
                in_progress: ip,
            }),
            accepted_in_epoch: acc,
            last_writer_epoch: writer,
            last_committed_txid: None,
            digest: None,
        }
    }

    #[test]
    fn hadoop_rules() {
        // Finalized beats a longer in-progress copy.
        let a = [r(Some((10, true)), None, 5), r(Some((5, false)), None, 1)];
        assert_eq!(choose(&a).unwrap().unwrap().0, 1);
        // Higher seen epoch beats length.
        let a = [r(Some((10, true)), None, 1), r(Some((5, true)), Some(3), 1)];
        assert_eq!(choose(&a).unwrap().unwrap().0, 1);
        // Same epoch: longer wins.
        let a = [
            r(Some((5, true)), None, 2),
            r(Some((7, true)), None, 2),
            r(None, None, 2),
        ];
        assert_eq!(choose(&a).unwrap().unwrap().0, 1);
        assert!(choose(&[r(None, None, 1)]).unwrap().is_none());
        // Never below a committed txid.
        let mut a = [r(Some((5, true)), None, 2), r(None, None, 2)];
        a[1].last_committed_txid = Some(6);
        assert!(matches!(choose(&a), Err(QjError::Invariant(_))));
        // Finalized copies must agree.
        let a = [r(Some((5, false)), None, 2), r(Some((6, false)), None, 2)];
        assert!(choose(&a).is_err());
        assert_eq!(next_epoch(&[3, 7, 1]), 8);
        assert_eq!(majority(3), 2);
        assert_eq!(majority(5), 3);
    }
}
