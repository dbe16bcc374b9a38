//! One edit-log record: `u32 BE payload length | u64 BE txid | payload | u32 BE crc32c`,
//! the checksum covering the length, txid and payload bytes.

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::EditLogError;

/// Largest payload accepted, written or read. A length field beyond it is damage.
pub const MAX_RECORD_LEN: usize = 64 * 1024 * 1024;
/// Length field + txid field.
pub const RECORD_HEADER_LEN: usize = 12;
/// Bytes a record takes besides its payload (header + checksum).
pub const RECORD_OVERHEAD: usize = RECORD_HEADER_LEN + 4;

/// A decoded record: its txid and the opaque payload (an encoded edit op).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditRecord {
    pub txid: u64,
    pub payload: Bytes,
}

/// Appends the encoding of one record to `out`.
pub fn encode(out: &mut BytesMut, txid: u64, payload: &[u8]) -> Result<(), EditLogError> {
    if payload.len() > MAX_RECORD_LEN {
        return Err(EditLogError::RecordTooLarge {
            txid,
            len: payload.len(),
            max: MAX_RECORD_LEN,
        });
    }
    out.reserve(RECORD_OVERHEAD + payload.len());
    let start = out.len();
    out.put_u32(payload.len() as u32);
    out.put_u64(txid);
    out.put_slice(payload);
    let crc = crc32c::crc32c(&out[start..]);
    out.put_u32(crc);
    Ok(())
}

/// Encodes consecutive records `first_txid, first_txid + 1, …` into one buffer, ready for
/// [`crate::JournalManager::journal`].
pub fn encode_batch<P: AsRef<[u8]>>(
    first_txid: u64,
    payloads: &[P],
) -> Result<Bytes, EditLogError> {
    let mut out = BytesMut::new();
    for (i, p) in payloads.iter().enumerate() {
        encode(&mut out, first_txid + i as u64, p.as_ref())?;
    }
    Ok(out.freeze())
}

/// The fixed-size start of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    pub payload_len: usize,
    pub txid: u64,
}

impl RecordHeader {
    /// Parses a header, rejecting lengths beyond [`MAX_RECORD_LEN`].
    pub fn parse(b: &[u8; RECORD_HEADER_LEN]) -> Result<RecordHeader, String> {
        let len = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let txid = u64::from_be_bytes([b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11]]);
        if len > MAX_RECORD_LEN {
            return Err(format!(
                "record length {len} exceeds the maximum {MAX_RECORD_LEN}"
            ));
        }
        Ok(RecordHeader {
            payload_len: len,
            txid,
        })
    }

    /// Total bytes of the record on disk.
    pub fn record_len(&self) -> usize {
        RECORD_OVERHEAD + self.payload_len
    }
}

/// Checks the checksum of a complete encoded record (`RECORD_OVERHEAD + payload_len`
/// bytes). `Err` carries the reason.
pub fn verify_checksum(record: &[u8]) -> Result<(), String> {
    if record.len() < RECORD_OVERHEAD {
        return Err(format!(
            "record of {} bytes is shorter than the {RECORD_OVERHEAD}-byte minimum",
            record.len()
        ));
    }
    let (body, tail) = record.split_at(record.len() - 4);
    let stored = u32::from_be_bytes([tail[0], tail[1], tail[2], tail[3]]);
    let computed = crc32c::crc32c(body);
    if stored != computed {
        return Err(format!(
            "checksum mismatch: stored {stored:08x}, computed {computed:08x}"
        ));
    }
    Ok(())
}

/// Result of decoding one record from the front of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    /// A valid record that took `len` bytes.
    Record { record: EditRecord, len: usize },
    /// The buffer ends inside the record; `needed` bytes would complete it.
    Incomplete { needed: usize },
    /// The bytes cannot be a record (length out of bounds or bad checksum).
    Invalid { reason: String },
}

/// Decodes the record at the start of `buf`. Never panics, whatever the bytes.
pub fn decode(buf: &[u8]) -> Decoded {
    let Some(head) = buf.first_chunk::<RECORD_HEADER_LEN>() else {
        return Decoded::Incomplete {
            needed: RECORD_OVERHEAD,
        };
    };
    let header = match RecordHeader::parse(head) {
        Ok(h) => h,
        Err(reason) => return Decoded::Invalid { reason },
    };
    let len = header.record_len();
    if buf.len() < len {
        return Decoded::Incomplete { needed: len };
    }
    if let Err(reason) = verify_checksum(&buf[..len]) {
        return Decoded::Invalid { reason };
    }
    let payload = Bytes::copy_from_slice(&buf[RECORD_HEADER_LEN..len - 4]);
    Decoded::Record {
        record: EditRecord {
            txid: header.txid,
            payload,
        },
        len,
    }
}

/// Checks that `buf` holds exactly `count` records with txids `first_txid..` (headers and
/// lengths only: cheap). Used before appending a caller's batch, so a bad batch never
/// reaches a segment file.
pub fn check_batch(buf: &[u8], first_txid: u64, count: u32) -> Result<(), String> {
    let mut pos = 0usize;
    for i in 0..count as u64 {
        let expected = first_txid + i;
        let Some(head) = buf
            .get(pos..)
            .and_then(|b| b.first_chunk::<RECORD_HEADER_LEN>())
        else {
            return Err(format!(
                "batch ends at byte {pos} before record {i} of {count}"
            ));
        };
        let header = RecordHeader::parse(head)?;
        if header.txid != expected {
            return Err(format!(
                "record {i} at byte {pos} has txid {}, expected {expected}",
                header.txid
            ));
        }
        pos = pos.saturating_add(header.record_len());
        if pos > buf.len() {
            return Err(format!(
                "record {i} (txid {expected}) runs past the end of the batch"
            ));
        }
    }
    if pos != buf.len() {
        return Err(format!(
            "{} unexpected bytes after {count} records",
            buf.len() - pos
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hafs_util::XorShift64;

    #[test]
    fn round_trip_random_records() {
        let mut rng = XorShift64::new(7);
        for _ in 0..500 {
            let txid = rng.next_u64();
            let len = rng.below(300) as usize;
            let payload = rng.bytes(len);
            let mut buf = BytesMut::new();
            encode(&mut buf, txid, &payload).unwrap();
            assert_eq!(buf.len(), RECORD_OVERHEAD + len);
            match decode(&buf) {
                Decoded::Record { record, len: used } => {
                    assert_eq!(record.txid, txid);
                    assert_eq!(&record.payload[..], &payload[..]);
                    assert_eq!(used, buf.len());
                }
                other => panic!("expected a record, got {other:?}"),
            }
        }
    }

    #[test]
    fn empty_payload_round_trips() {
        let mut buf = BytesMut::new();
        encode(&mut buf, 1, b"").unwrap();
        assert!(matches!(decode(&buf), Decoded::Record { len: 16, .. }));
    }

    #[test]
    fn truncated_records_are_incomplete() {
        let mut buf = BytesMut::new();
        encode(&mut buf, 9, b"hello world").unwrap();
        for cut in 0..buf.len() {
            assert!(
                matches!(decode(&buf[..cut]), Decoded::Incomplete { .. }),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn huge_length_is_invalid_not_allocated() {
        let mut buf = vec![0xff, 0xff, 0xff, 0xff];
        buf.extend_from_slice(&1u64.to_be_bytes());
        match decode(&buf) {
            Decoded::Invalid { reason } => {
                assert!(reason.contains("exceeds the maximum"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        let too_big = vec![0u8; MAX_RECORD_LEN + 1];
        assert!(matches!(
            encode(&mut BytesMut::new(), 5, &too_big),
            Err(EditLogError::RecordTooLarge { txid: 5, .. })
        ));
    }

    #[test]
    fn every_single_bit_flip_is_detected() {
        let mut buf = BytesMut::new();
        encode(&mut buf, 77, b"payload bytes").unwrap();
        for byte in 0..buf.len() {
            for bit in 0..8 {
                let mut bad = buf.to_vec();
                bad[byte] ^= 1 << bit;
                assert!(
                    !matches!(decode(&bad), Decoded::Record { .. }),
                    "flip of bit {bit} in byte {byte} went unnoticed"
                );
            }
        }
    }

    #[test]
    fn random_garbage_never_panics() {
        let mut rng = XorShift64::new(99);
        for _ in 0..2000 {
            let len = rng.below(64) as usize;
            let mut g = rng.bytes(len);
            if len >= 4 && rng.below(2) == 0 {
                g[..4].copy_from_slice(&(rng.below(64) as u32).to_be_bytes());
            }
            let _ = decode(&g);
            let _ = check_batch(&g, 1, rng.below(4) as u32);
        }
    }

    #[test]
    fn check_batch_accepts_exact_batches_only() {
        let b = encode_batch(10, &[b"a".as_slice(), b"bb", b""]).unwrap();
        check_batch(&b, 10, 3).unwrap();
        assert!(check_batch(&b, 11, 3).unwrap_err().contains("expected 11"));
        assert!(check_batch(&b, 10, 2)
            .unwrap_err()
            .contains("unexpected bytes"));
        assert!(check_batch(&b, 10, 4)
            .unwrap_err()
            .contains("before record 3"));
        assert!(check_batch(&b[..b.len() - 1], 10, 3)
            .unwrap_err()
            .contains("past the end"));
    }
}
