//! A journal's durable state: last promised epoch, last writer epoch, committed txid and
//! accepted recovery decisions, in one crash-safe file.
//!
//! Layout: the control-file framing of [`crate::control_file`] (magic `HAFSJNST`,
//! version 1) around a `PersistedJournalStateProto`.

use hafs_proto::qjournal::{
    PersistedJournalStateProto, PersistedRecoveryPaxosData, SegmentStateProto,
};
use prost::Message;

use crate::control_file::ControlFormat;
use crate::protocol::{PaxosData, SegmentState};

pub const STATE_FILE: &str = "journal_state";
const FORMAT: ControlFormat = ControlFormat {
    magic: b"HAFSJNST",
    version: 1,
    // Paxos entries are purged with their segments; far fewer than this exist.
    max_body: 1 << 20,
    what: "journal state file",
};

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PersistedState {
    pub last_promised_epoch: u64,
    pub last_writer_epoch: u64,
    /// A lower bound of the committed txid (written at segment boundaries, never ahead).
    pub committed_txid: u64,
    /// Accepted recovery decisions, by segment start txid.
    pub paxos: Vec<PaxosData>,
}

impl PersistedState {
    pub fn paxos_for(&self, segment_txid: u64) -> Option<PaxosData> {
        self.paxos
            .iter()
            .find(|p| p.segment.start_txid == segment_txid)
            .copied()
    }

    pub fn set_paxos(&mut self, data: PaxosData) {
        self.paxos
            .retain(|p| p.segment.start_txid != data.segment.start_txid);
        self.paxos.push(data);
        self.paxos.sort_by_key(|p| p.segment.start_txid);
    }
}

pub fn encode_state(s: &PersistedState) -> Vec<u8> {
    let body = PersistedJournalStateProto {
        last_promised_epoch: s.last_promised_epoch,
        last_writer_epoch: s.last_writer_epoch,
        committed_tx_id: s.committed_txid,
        paxos: s
            .paxos
            .iter()
            .map(|p| PersistedRecoveryPaxosData {
                segment_state: SegmentStateProto {
                    start_tx_id: p.segment.start_txid,
                    end_tx_id: p.segment.end_txid,
                    is_in_progress: p.segment.in_progress,
                },
                accepted_in_epoch: p.accepted_in_epoch,
            })
            .collect(),
    }
    .encode_to_vec();
    FORMAT.frame(&body)
}

/// Decodes a state file; `Err` names what is wrong.
pub fn decode_state(bytes: &[u8]) -> Result<PersistedState, String> {
    let body = FORMAT.unframe(bytes)?;
    let p = PersistedJournalStateProto::decode(body)
        .map_err(|e| format!("undecodable journal state: {e}"))?;
    Ok(PersistedState {
        last_promised_epoch: p.last_promised_epoch,
        last_writer_epoch: p.last_writer_epoch,
        committed_txid: p.committed_tx_id,
        paxos: p
            .paxos
            .into_iter()
            .map(|x| PaxosData {
                segment: SegmentState {
                    start_txid: x.segment_state.start_tx_id,
                    end_txid: x.segment_state.end_tx_id,
                    in_progress: x.segment_state.is_in_progress,
                },
                accepted_in_epoch: x.accepted_in_epoch,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_bit_flip_detected() {
        let mut s = PersistedState {
            last_promised_epoch: 7,
            last_writer_epoch: 6,
            committed_txid: 1234,
            paxos: vec![],
        };
        s.set_paxos(PaxosData {
            segment: SegmentState {
                start_txid: 1000,
                end_txid: 1300,
                in_progress: true,
            },
            accepted_in_epoch: 7,
        });
        let b = encode_state(&s);
        assert_eq!(decode_state(&b).unwrap(), s);
        for i in 0..b.len() {
            for bit in 0..8 {
                let mut bad = b.clone();
                bad[i] ^= 1 << bit;
                assert!(decode_state(&bad).is_err(), "flip {i}/{bit}");
            }
        }
        for cut in 0..b.len() {
            assert!(decode_state(&b[..cut]).is_err());
        }
    }
}
