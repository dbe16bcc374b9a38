//! Decisions of pipeline recovery, as pure functions: which DataNode to blame, whether
//! to ask for a replacement, what stage the rebuilt pipeline announces.

use hafs_proto::hdfs::op_write_block_proto::BlockConstructionStage as Stage;
use hafs_proto::hdfs::{DatanodeInfoProto, PipelineAckProto, Status};

use crate::settings::ReplaceDatanodePolicy;

/// Sequence number of heartbeat packets (and their acks).
pub const HEARTBEAT_SEQNO: i64 = -1;

/// What one ack says about the packet at the head of the ack queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckVerdict {
    /// Every DataNode stored the packet.
    Success,
    /// A heartbeat's ack: nothing to dequeue.
    Heartbeat,
    /// DataNode `index` of the pipeline failed the packet.
    BadNode(usize),
    /// The ack does not belong to the expected packet: the stream is confused.
    Unexpected { expected: Option<i64>, got: i64 },
}

/// The status a DataNode reported at position `i`: the low 4 bits of `flag` when the
/// DataNode sent flags (newer Hadoop puts ECN bits above them), else `reply`.
pub fn ack_status(ack: &PipelineAckProto, i: usize) -> i32 {
    match ack.flag.get(i) {
        Some(f) => (f & 0xf) as i32,
        None => ack.reply.get(i).copied().unwrap_or(Status::Error as i32),
    }
}

/// Judges `ack` against the seqno expected next (`None` when nothing is in flight) for
/// a pipeline of `pipeline_len` DataNodes.
pub fn judge_ack(ack: &PipelineAckProto, expected: Option<i64>, pipeline_len: usize) -> AckVerdict {
    let replies = ack.flag.len().max(ack.reply.len());
    for i in 0..replies {
        if ack_status(ack, i) != Status::Success as i32 {
            return AckVerdict::BadNode(i);
        }
    }
    if replies < pipeline_len {
        // A DataNode that answers for fewer nodes than the pipeline lost its downstream
        // without saying which; Hadoop blames the first node that is missing.
        return AckVerdict::BadNode(replies);
    }
    if ack.seqno == HEARTBEAT_SEQNO {
        return AckVerdict::Heartbeat;
    }
    if Some(ack.seqno) != expected {
        return AckVerdict::Unexpected {
            expected,
            got: ack.seqno,
        };
    }
    AckVerdict::Success
}

/// The transfer address a DataNode is reached at: `ip:port` (or `host:port`).
pub fn xfer_addr(dn: &DatanodeInfoProto, use_hostname: bool) -> String {
    let host = if use_hostname && !dn.id.host_name.is_empty() {
        &dn.id.host_name
    } else {
        &dn.id.ip_addr
    };
    format!("{host}:{}", dn.id.xfer_port)
}

/// The pipeline index of the DataNode named by a WRITE_BLOCK `firstBadLink` answer;
/// an empty or unknown link blames the first DataNode (the one we talk to).
pub fn index_of_bad_link(nodes: &[DatanodeInfoProto], first_bad_link: &str) -> usize {
    if first_bad_link.is_empty() {
        return 0;
    }
    nodes
        .iter()
        .position(|n| xfer_addr(n, false) == first_bad_link || xfer_addr(n, true) == first_bad_link)
        .unwrap_or(0)
}

/// Whether to ask the NameNode for an extra DataNode after losing some
/// (Hadoop's ReplaceDatanodeOnFailure): `existing` nodes remain of a file with
/// `replication`.
pub fn should_replace_datanode(
    policy: ReplaceDatanodePolicy,
    replication: u16,
    existing: usize,
    is_append: bool,
    is_hflushed: bool,
) -> bool {
    let r = replication as usize;
    if existing == 0 || existing >= r {
        return false;
    }
    match policy {
        ReplaceDatanodePolicy::Never => false,
        ReplaceDatanodePolicy::Always => true,
        ReplaceDatanodePolicy::Default => r >= 3 && (existing <= r / 2 || is_append || is_hflushed),
    }
}

/// The stage a rebuilt pipeline announces, given the stage it failed in.
pub fn recovery_stage(failed_in: Stage) -> Stage {
    match failed_in {
        Stage::PipelineSetupAppend | Stage::PipelineSetupAppendRecovery => {
            Stage::PipelineSetupAppendRecovery
        }
        Stage::PipelineClose | Stage::PipelineCloseRecovery => Stage::PipelineCloseRecovery,
        _ => Stage::PipelineSetupStreamingRecovery,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hafs_proto::hdfs::DatanodeIdProto;

    fn ack(seqno: i64, replies: &[Status]) -> PipelineAckProto {
        PipelineAckProto {
            seqno,
            reply: replies.iter().map(|s| *s as i32).collect(),
            downstream_ack_time_nanos: None,
            flag: vec![],
        }
    }

    fn dn(ip: &str, port: u32) -> DatanodeInfoProto {
        DatanodeInfoProto {
            id: DatanodeIdProto {
                ip_addr: ip.into(),
                host_name: format!("host-{ip}"),
                datanode_uuid: ip.into(),
                xfer_port: port,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn acks_are_judged_per_node() {
        use Status::*;
        assert_eq!(
            judge_ack(&ack(3, &[Success; 3]), Some(3), 3),
            AckVerdict::Success
        );
        assert_eq!(
            judge_ack(&ack(3, &[Success, Error, Success]), Some(3), 3),
            AckVerdict::BadNode(1)
        );
        assert_eq!(
            judge_ack(&ack(3, &[Success]), Some(3), 3),
            AckVerdict::BadNode(1),
            "a short ack blames the first silent node"
        );
        assert_eq!(
            judge_ack(&ack(-1, &[Success; 2]), Some(5), 2),
            AckVerdict::Heartbeat
        );
        assert_eq!(
            judge_ack(&ack(4, &[Success; 2]), Some(5), 2),
            AckVerdict::Unexpected {
                expected: Some(5),
                got: 4
            }
        );
        assert_eq!(
            judge_ack(&ack(0, &[Success]), None, 1),
            AckVerdict::Unexpected {
                expected: None,
                got: 0
            }
        );
    }

    #[test]
    fn flags_take_precedence_and_ignore_ecn_bits() {
        let mut a = ack(1, &[Status::Success, Status::Success]);
        // Status in the low 4 bits, congestion bits above.
        a.flag = vec![0x10 | Status::Success as u32, Status::ErrorChecksum as u32];
        assert_eq!(judge_ack(&a, Some(1), 2), AckVerdict::BadNode(1));
        a.flag = vec![0x30, 0x10];
        assert_eq!(judge_ack(&a, Some(1), 2), AckVerdict::Success);
    }

    #[test]
    fn first_bad_link_names_a_pipeline_node() {
        let nodes = vec![
            dn("10.0.0.1", 9866),
            dn("10.0.0.2", 9866),
            dn("10.0.0.3", 1),
        ];
        assert_eq!(index_of_bad_link(&nodes, "10.0.0.2:9866"), 1);
        assert_eq!(index_of_bad_link(&nodes, "host-10.0.0.3:1"), 2);
        assert_eq!(index_of_bad_link(&nodes, ""), 0);
        assert_eq!(index_of_bad_link(&nodes, "9.9.9.9:1"), 0);
        assert_eq!(xfer_addr(&nodes[0], false), "10.0.0.1:9866");
    }

    #[test]
    fn replace_datanode_default_policy_matches_hadoop() {
        use ReplaceDatanodePolicy::*;
        // r=3, 2 left: only for appends or hflushed blocks.
        assert!(!should_replace_datanode(Default, 3, 2, false, false));
        assert!(should_replace_datanode(Default, 3, 2, true, false));
        assert!(should_replace_datanode(Default, 3, 2, false, true));
        // r=3, 1 left: at most half remains.
        assert!(should_replace_datanode(Default, 3, 1, false, false));
        // r<3 never.
        assert!(!should_replace_datanode(Default, 2, 1, true, true));
        assert!(should_replace_datanode(Always, 2, 1, false, false));
        assert!(!should_replace_datanode(Never, 3, 1, true, true));
        assert!(!should_replace_datanode(Always, 3, 3, false, false));
        assert!(!should_replace_datanode(Always, 3, 0, false, false));
    }

    #[test]
    fn recovery_stages() {
        assert_eq!(
            recovery_stage(Stage::PipelineSetupCreate),
            Stage::PipelineSetupStreamingRecovery
        );
        assert_eq!(
            recovery_stage(Stage::DataStreaming),
            Stage::PipelineSetupStreamingRecovery
        );
        assert_eq!(
            recovery_stage(Stage::PipelineSetupAppend),
            Stage::PipelineSetupAppendRecovery
        );
        assert_eq!(
            recovery_stage(Stage::PipelineClose),
            Stage::PipelineCloseRecovery
        );
    }
}
