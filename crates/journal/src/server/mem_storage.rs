//! [`JournalStorage`] in memory: for unit tests and the model checker, which clones and
//! hashes whole journals.

use std::collections::BTreeMap;

use super::state_file::PersistedState;
use super::storage::JournalStorage;
use crate::protocol::{NsInfo, QjError, SegmentState};

/// One segment: the txid of its first record and the records' payloads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct MemSegment {
    payloads: Vec<Vec<u8>>,
    finalized: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct MemStorage {
    ns: Option<NsInfo>,
    state: PersistedState,
    segments: BTreeMap<u64, MemSegment>,
    staged: BTreeMap<u64, Vec<Vec<u8>>>,
    open: Option<u64>,
}

fn split_records(buf: &[u8]) -> Result<Vec<Vec<u8>>, QjError> {
    let mut out = Vec::new();
    let mut rest = buf;
    while !rest.is_empty() {
        match crate::record::decode(rest) {
            crate::record::Decoded::Record { record, len } => {
                out.push(record.payload.to_vec());
                rest = &rest[len..];
            }
            other => return Err(QjError::IllegalArgument(format!("bad records: {other:?}"))),
        }
    }
    Ok(out)
}

impl MemStorage {
    pub fn new() -> MemStorage {
        MemStorage::default()
    }

    /// Simulates a crash: the open segment is closed (data already appended is kept, as
    /// it was fsynced).
    pub fn crash(&mut self) {
        self.open = None;
    }

    /// Payloads of every segment by start txid (for checks).
    pub fn dump(&self) -> Vec<(u64, bool, Vec<Vec<u8>>)> {
        self.segments
            .iter()
            .map(|(k, s)| (*k, s.finalized, s.payloads.clone()))
            .collect()
    }
}

impl JournalStorage for MemStorage {
    fn describe(&self) -> String {
        "memory".into()
    }

    fn load_ns(&self) -> Result<Option<NsInfo>, QjError> {
        Ok(self.ns.clone())
    }

    fn format(&mut self, ns: &NsInfo) -> Result<(), QjError> {
        *self = MemStorage {
            ns: Some(ns.clone()),
            ..MemStorage::default()
        };
        Ok(())
    }

    fn load_state(&self) -> Result<PersistedState, QjError> {
        Ok(self.state.clone())
    }

    fn save_state(&mut self, s: &PersistedState) -> Result<(), QjError> {
        self.state = s.clone();
        Ok(())
    }

    fn segments(&mut self) -> Result<Vec<SegmentState>, QjError> {
        let open = self.open;
        self.segments
            .retain(|k, s| s.finalized || !s.payloads.is_empty() || Some(*k) == open);
        Ok(self
            .segments
            .iter()
            .filter(|(_, s)| !s.payloads.is_empty())
            .map(|(k, s)| SegmentState {
                start_txid: *k,
                end_txid: k + s.payloads.len() as u64 - 1,
                in_progress: !s.finalized,
            })
            .collect())
    }

    fn start_segment(&mut self, first_txid: u64) -> Result<(), QjError> {
        self.segments.insert(
            first_txid,
            MemSegment {
                payloads: Vec::new(),
                finalized: false,
            },
        );
        self.open = Some(first_txid);
        Ok(())
    }

    fn append(&mut self, first_txid: u64, _count: u32, records: &[u8]) -> Result<(), QjError> {
        let Some(seg) = self.open.and_then(|k| self.segments.get_mut(&k)) else {
            return Err(QjError::OutOfSync(format!(
                "no open segment for txid {first_txid}"
            )));
        };
        seg.payloads.extend(split_records(records)?);
        Ok(())
    }

    fn close_segment(&mut self) {
        self.open = None;
    }

    fn finalize(&mut self, first: u64, _last: u64) -> Result<(), QjError> {
        if self.open == Some(first) {
            self.open = None;
        }
        match self.segments.get_mut(&first) {
            Some(s) => {
                s.finalized = true;
                Ok(())
            }
            None => Err(QjError::OutOfSync(format!("no segment {first}"))),
        }
    }

    fn read(
        &mut self,
        seg: SegmentState,
        since: u64,
        max_bytes: usize,
    ) -> Result<(Vec<u8>, u32), QjError> {
        let Some(s) = self.segments.get(&seg.start_txid) else {
            return Err(QjError::OutOfSync(format!("no segment {}", seg.start_txid)));
        };
        let mut out = bytes::BytesMut::new();
        let mut n = 0;
        for (i, p) in s.payloads.iter().enumerate() {
            let txid = seg.start_txid + i as u64;
            if txid < since || txid > seg.end_txid {
                continue;
            }
            if out.len() >= max_bytes {
                break;
            }
            crate::record::encode(&mut out, txid, p)?;
            n += 1;
        }
        Ok((out.to_vec(), n))
    }

    fn stage(&mut self, first: u64, records: &[u8], _count: u32) -> Result<(), QjError> {
        self.staged.insert(first, split_records(records)?);
        Ok(())
    }

    fn has_staged(&self, first: u64) -> bool {
        self.staged.contains_key(&first)
    }

    fn drop_staged(&mut self, first: u64) -> Result<(), QjError> {
        self.staged.remove(&first);
        Ok(())
    }

    fn commit_staged(&mut self, first: u64) -> Result<(), QjError> {
        let payloads = self
            .staged
            .remove(&first)
            .ok_or_else(|| QjError::OutOfSync(format!("nothing staged for {first}")))?;
        if self.open == Some(first) {
            self.open = None;
        }
        self.segments.insert(
            first,
            MemSegment {
                payloads,
                finalized: false,
            },
        );
        Ok(())
    }

    fn install_finalized(
        &mut self,
        first: u64,
        _last: u64,
        records: &[u8],
        _count: u32,
    ) -> Result<(), QjError> {
        self.segments.insert(
            first,
            MemSegment {
                payloads: split_records(records)?,
                finalized: true,
            },
        );
        Ok(())
    }

    fn purge(&mut self, min_txid_to_keep: u64) -> Result<(), QjError> {
        self.segments
            .retain(|k, s| !(s.finalized && k + (s.payloads.len() as u64) <= min_txid_to_keep));
        Ok(())
    }
}
