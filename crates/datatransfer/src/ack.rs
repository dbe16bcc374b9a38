//! Pipeline acks (Hadoop's `PipelineAck`).
//!
//! Each DataNode in a write pipeline sends, per packet, an ack carrying its own status
//! followed by the statuses of the DataNodes downstream of it. Hadoop sends every status
//! twice: in `reply`, and packed into a `flag` word with congestion bits: status in bits
//! 0-3, one reserved bit, ECN in bits 5-6, SLOW in bits 7-8. Hadoop's writers read the
//! status from `flag` when it is present, so both must be filled and agree.

use hafs_proto::hdfs::{PipelineAckProto, Status};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::delimited::{read_delimited, write_delimited};
use crate::error::{DataTransferError, Result};

/// Seqno of an out-of-band ack (e.g. `OOB_RESTART`), which answers no particular packet.
pub const UNKNOWN_SEQNO: i64 = -2;

const STATUS_MASK: u32 = 0xf;
const ECN_SHIFT: u32 = 5;
const SLOW_SHIFT: u32 = 7;

/// Explicit congestion notification bits of a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ecn {
    Disabled = 0,
    Supported = 1,
    Supported2 = 2,
    Congested = 3,
}

/// The slow-node bits of a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slow {
    Disabled = 0,
    Normal = 1,
    Slow = 2,
    Reserved = 3,
}

/// Pack a status with congestion bits into a flag word.
pub fn combine_flag(status: Status, ecn: Ecn, slow: Slow) -> u32 {
    (status as u32 & STATUS_MASK) | (ecn as u32) << ECN_SHIFT | (slow as u32) << SLOW_SHIFT
}

/// The status packed in a flag word.
pub fn status_of_flag(flag: u32) -> Result<Status> {
    let v = (flag & STATUS_MASK) as i32;
    Status::try_from(v)
        .map_err(|_| DataTransferError::InvalidPacket(format!("unknown status {v} in ack flag")))
}

/// The ECN bits of a flag word.
pub fn ecn_of_flag(flag: u32) -> Ecn {
    match (flag >> ECN_SHIFT) & 3 {
        0 => Ecn::Disabled,
        1 => Ecn::Supported,
        2 => Ecn::Supported2,
        _ => Ecn::Congested,
    }
}

/// The SLOW bits of a flag word.
pub fn slow_of_flag(flag: u32) -> Slow {
    match (flag >> SLOW_SHIFT) & 3 {
        0 => Slow::Disabled,
        1 => Slow::Normal,
        2 => Slow::Slow,
        _ => Slow::Reserved,
    }
}

/// An ack with `reply` and `flag` filled from `statuses` (ECN and SLOW disabled, as a
/// Hadoop DataNode without congestion control sends).
pub fn pipeline_ack(
    seqno: i64,
    statuses: &[Status],
    downstream_ack_time_nanos: u64,
) -> PipelineAckProto {
    let flags: Vec<u32> = statuses
        .iter()
        .map(|s| combine_flag(*s, Ecn::Disabled, Slow::Disabled))
        .collect();
    PipelineAckProto {
        seqno,
        reply: statuses.iter().map(|s| *s as i32).collect(),
        downstream_ack_time_nanos: Some(downstream_ack_time_nanos),
        flag: flags,
    }
}

/// An ack whose replies are taken from full flag words (to pass on a downstream
/// DataNode's congestion bits unchanged).
pub fn pipeline_ack_from_flags(
    seqno: i64,
    flags: &[u32],
    downstream_ack_time_nanos: u64,
) -> Result<PipelineAckProto> {
    let reply = flags
        .iter()
        .map(|f| status_of_flag(*f).map(|s| s as i32))
        .collect::<Result<_>>()?;
    Ok(PipelineAckProto {
        seqno,
        reply,
        downstream_ack_time_nanos: Some(downstream_ack_time_nanos),
        flag: flags.to_vec(),
    })
}

/// The flag word of reply `i`, built from `reply` when the sender sent no flags (old
/// Hadoop). `None` when there is no reply `i`.
pub fn ack_flag(ack: &PipelineAckProto, i: usize) -> Option<u32> {
    if !ack.flag.is_empty() {
        return ack.flag.get(i).copied();
    }
    let reply = *ack.reply.get(i)?;
    Some((reply as u32) & STATUS_MASK)
}

/// The status of every DataNode the ack covers, read the way Hadoop's writer reads it.
pub fn ack_statuses(ack: &PipelineAckProto) -> Result<Vec<Status>> {
    if !ack.flag.is_empty() && ack.flag.len() != ack.reply.len() {
        return Err(DataTransferError::InvalidPacket(format!(
            "ack has {} replies but {} flags",
            ack.reply.len(),
            ack.flag.len()
        )));
    }
    (0..ack.reply.len())
        .map(|i| match ack_flag(ack, i) {
            Some(f) => status_of_flag(f),
            None => Err(DataTransferError::InvalidPacket("missing ack reply".into())),
        })
        .collect()
}

/// Whether every status in the ack is SUCCESS.
pub fn ack_is_success(ack: &PipelineAckProto) -> bool {
    matches!(ack_statuses(ack), Ok(s) if s.iter().all(|s| *s == Status::Success))
}

/// Read one ack.
pub async fn read_ack<R: AsyncRead + Unpin>(r: &mut R) -> Result<PipelineAckProto> {
    read_delimited(r, "PipelineAckProto").await
}

/// Write one ack (not flushed).
pub async fn write_ack<W: AsyncWrite + Unpin>(w: &mut W, ack: &PipelineAckProto) -> Result<()> {
    write_delimited(w, ack).await
}
