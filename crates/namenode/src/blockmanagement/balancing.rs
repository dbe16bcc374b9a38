//! What the block manager does for the balancer: list a DataNode's blocks
//! (NamenodeProtocol getBlocks), carry `dfsadmin -setBalancerBandwidth` to every
//! DataNode's next heartbeat, and prefer the balancer's delete hint when a moved block
//! is over-replicated (the hinted replica is the move's source).

use hafs_proto::hdfs as pb;
use hafs_proto::hdfs::datanode as dpb;

use super::blocks_map::BlockUcState;
use super::datanodes::DatanodeDescriptor;
use super::state::State;
use super::{BlockManager, BlockManagerError};

/// The most blocks one getBlocks answer lists, whatever `size` asks (bounds the reply).
pub const MAX_BLOCKS_PER_CALL: usize = 10_000;

impl BlockManager {
    /// Blocks with a replica on DataNode `uuid` whose lengths add up to at least `size`
    /// (or all it has), skipping blocks shorter than `min_block_size` and blocks not
    /// complete, each with every replica's location. The walk starts at a random block
    /// so that balancers asking again get other blocks (Hadoop's getBlocks).
    pub fn blocks_for_balancer(
        &self,
        uuid: &str,
        size: u64,
        min_block_size: u64,
    ) -> Result<Vec<dpb::BlockWithLocationsProto>, BlockManagerError> {
        let st = self.lock();
        let Some(dn) = st.datanodes.get(uuid).filter(|d| d.alive) else {
            return Err(BlockManagerError::Io(format!(
                "Unexpected exception. Got getBlocks message for datanode {uuid}, but there \
                 is no info for it"
            )));
        };
        let mut ids: Vec<u64> = dn.blocks.iter().copied().collect();
        ids.sort_unstable();
        let start = if ids.is_empty() {
            0
        } else {
            random_below(ids.len())
        };
        let mut out = Vec::new();
        let mut total = 0u64;
        for &id in ids[start..].iter().chain(ids[..start].iter()) {
            if total >= size || out.len() >= MAX_BLOCKS_PER_CALL {
                break;
            }
            let Some(rec) = st.blocks.get(id) else {
                continue;
            };
            if rec.state != BlockUcState::Complete || rec.num_bytes < min_block_size {
                continue;
            }
            let mut b = dpb::BlockWithLocationsProto {
                block: pb::BlockProto {
                    block_id: id,
                    gen_stamp: rec.gen_stamp,
                    num_bytes: Some(rec.num_bytes),
                },
                ..Default::default()
            };
            for r in rec.replicas.iter().filter(|r| rec.is_good(r)) {
                let holder = st.names.name(r.datanode).to_string();
                let storage = st.names.name(r.storage).to_string();
                let kind = st
                    .datanodes
                    .get(&holder)
                    .and_then(|d| d.storages.get(&storage))
                    .map_or(pb::StorageTypeProto::Disk as i32, |s| s.storage_type);
                b.datanode_uuids.push(holder);
                b.storage_uuids.push(storage);
                b.storage_types.push(kind);
            }
            total += rec.num_bytes;
            out.push(b);
        }
        Ok(out)
    }

    /// `dfsadmin -setBalancerBandwidth`: every live DataNode gets a
    /// BalancerBandwidthCommand with its next heartbeat.
    pub fn set_balancer_bandwidth(&self, bandwidth: u64) {
        let mut st = self.lock();
        for dn in st.datanodes.values_mut().filter(|d| d.alive) {
            dn.balancer_bandwidth = Some(bandwidth);
        }
    }
}

/// The BalancerBandwidthCommand waiting for a DataNode, if any (taken once).
pub(super) fn bandwidth_command(dn: &mut DatanodeDescriptor) -> Option<dpb::DatanodeCommandProto> {
    let bandwidth = dn.balancer_bandwidth.take()?;
    Some(dpb::DatanodeCommandProto {
        cmd_type: dpb::datanode_command_proto::Type::BalancerBandwidthCommand as i32,
        balancer_cmd: Some(dpb::BalancerBandwidthCommandProto { bandwidth }),
        ..Default::default()
    })
}

impl State {
    /// Of an over-replicated block's `holders`, the delete hint's replica when
    /// removing it keeps the block on as many racks as the rack rule asks (Hadoop's
    /// useDelHint): the balancer moved the block off that DataNode.
    pub(super) fn hinted_excess(
        &self,
        block_id: u64,
        holders: &[&DatanodeDescriptor],
        expected: usize,
    ) -> Option<String> {
        let (hinted_block, hint) = self.del_hint.as_ref()?;
        if *hinted_block != block_id || !holders.iter().any(|d| d.uuid() == hint) {
            return None;
        }
        let racks = |skip: Option<&str>| {
            let mut r: Vec<&str> = holders
                .iter()
                .filter(|d| Some(d.uuid()) != skip)
                .map(|d| d.location.as_str())
                .collect();
            r.sort_unstable();
            r.dedup();
            r.len()
        };
        let before = racks(None);
        let after = racks(Some(hint));
        // The rack rule: at least two racks for a block of two or more replicas when
        // the cluster has them; a hint that would break it is not taken.
        let wanted = before.min(expected.min(2)).max(1);
        (after >= wanted).then(|| hint.clone())
    }
}

fn random_below(n: usize) -> usize {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        return 0;
    }
    (u64::from_le_bytes(b) % n as u64) as usize
}
