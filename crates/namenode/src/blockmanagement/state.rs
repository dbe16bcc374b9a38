//! The block manager's state behind its one lock, and the bookkeeping every change goes
//! through: a replica is added or removed in both the blocks map and its DataNode's
//! block set, and every change re-checks the block's redundancy.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::time::Instant;

use hafs_proto::hdfs as pb;
use hafs_util::invariant;
use tracing::{debug, warn};

use super::blocks_map::{BlockRecord, BlockUcState, BlocksMap, Replica};
use super::config::BlockManagerConfig;
use super::datanodes::{AdminState, DatanodeDescriptor};
use super::low_redundancy::{priority, LowRedundancyBlocks, QUEUE_REPLICAS_BADLY_DISTRIBUTED};
use super::names::{NameId, Names};
use super::placement::{BlockPlacementPolicy, PlacementRequest};
use super::safe_mode::{block_threshold, next_phase, SafeModePhase, SafeModeStatus};
use super::NamespaceIdentity;

/// The storage types new targets should offer (from a file's storage policy) and
/// what to fall back to when a type has no room.
#[derive(Debug, Clone, Copy, Default)]
pub struct TypeWish<'a> {
    pub types: &'a [i32],
    pub fallbacks: &'a [i32],
}

/// Copies scheduled but not yet reported received (Hadoop's PendingReconstructionBlocks).
#[derive(Debug, Clone)]
pub struct Pending {
    pub targets: Vec<String>,
    pub since: Instant,
}

/// Replica counts of one block (Hadoop's NumberReplicas). Only `live` replicas (good,
/// on an alive in-service DataNode) count toward the block's replication; replicas on
/// leaving nodes still serve reads and are sources for copies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NumberReplicas {
    pub live: usize,
    pub corrupt: usize,
    /// Good replicas on alive DataNodes being decommissioned.
    pub decommissioning: usize,
    /// Good replicas on alive decommissioned DataNodes.
    pub decommissioned: usize,
    /// Good replicas on alive DataNodes entering maintenance (they serve reads).
    pub entering_maintenance: usize,
    /// Good replicas on DataNodes in maintenance, and on dead DataNodes entering it
    /// (Hadoop's maintenance-not-for-read replicas).
    pub in_maintenance: usize,
}

impl NumberReplicas {
    /// Good replicas a reader can use (Hadoop's usable replicas): what completing a
    /// block and leaving safe mode need.
    pub fn usable(&self) -> usize {
        self.live + self.decommissioning + self.decommissioned + self.entering_maintenance
    }

    /// Replicas on nodes entering or in maintenance, alive or not (Hadoop's
    /// maintenanceReplicas).
    pub fn maintenance(&self) -> usize {
        self.entering_maintenance + self.in_maintenance
    }
}

/// How many live replicas a block needs (Hadoop's getExpectedLiveRedundancyNum):
/// its replication, less the replicas on nodes in maintenance — they are expected
/// back — but never fewer than `dfs.namenode.maintenance.replication.min` (capped at
/// the replication).
pub fn expected_live(replication: usize, maintenance: usize, maintenance_min: usize) -> usize {
    if maintenance == 0 {
        return replication;
    }
    replication
        .saturating_sub(maintenance)
        .max(maintenance_min.min(replication))
}

/// Blocks decided per hold of the block manager's lock while rescanning (Hadoop's
/// dfs.block.misreplication.processing.limit default).
pub const RESCAN_CHUNK: usize = 10_000;

pub struct State {
    pub config: BlockManagerConfig,
    pub identity: NamespaceIdentity,
    pub datanodes: HashMap<String, DatanodeDescriptor>,
    /// "ip:xferPort" → UUID, to replace a node that re-registers with a new UUID.
    pub by_xfer_addr: HashMap<String, String>,
    pub blocks: BlocksMap,
    /// The DataNode UUIDs and storage ids replicas and pipelines name.
    pub names: Names,
    pub needed: LowRedundancyBlocks,
    pub pending: HashMap<u64, Pending>,
    /// Blocks with at least one corrupt replica.
    pub corrupt_blocks: HashSet<u64>,
    /// A Standby's reports of replicas of blocks it has not read about yet.
    pub dn_messages: super::pending_messages::PendingDataNodeMessages,
    pub safe_mode: SafeModePhase,
    /// Whether the low-redundancy queues are kept (false from start until startup
    /// safe mode reaches its block threshold or is left).
    pub repl_queues: bool,
    /// Storage policy id of each file whose effective policy is not the default,
    /// by inode id (pushed by the Namesystem; re-replication reads it).
    pub file_policies: HashMap<u64, u8>,
    /// Blocks whose redundancy is still to be decided since the queues were last
    /// (re)built (Hadoop's processMisReplicatedBlocks): the first chunk is decided at
    /// once, the rest by the monitor a chunk per lock hold, so that becoming Active or
    /// leaving safe mode never holds the block manager for seconds on a large
    /// namespace (~1 µs a block).
    pub rescan: Vec<u64>,
    /// Whether this NameNode is Active: only then does it delete replicas it does not
    /// know (a Standby may not have read the edits that created them yet).
    pub active: bool,
    pub placement: Box<dyn BlockPlacementPolicy>,
    /// Racks with a live DataNode (Hadoop's NetworkTopology.getNumOfRacks), kept by
    /// [`State::refresh_racks`] whenever a DataNode registers or dies.
    pub live_racks: usize,
    /// The block and DataNode of the incremental report being processed whose RECEIVED
    /// replica carries a delete hint (a balancer move): its excess replica is chosen
    /// there first.
    pub del_hint: Option<(u64, String)>,
    /// The include and exclude lists as last read (`dfs.hosts`, `dfs.hosts.exclude`).
    pub hosts: super::host_file::HostLists,
    /// The nodes being decommissioned and the monitor's progress through them.
    pub decommission: super::decommission::DecommissionTracker,
}

impl State {
    pub fn live_nodes(&self) -> Vec<&DatanodeDescriptor> {
        let mut v: Vec<&DatanodeDescriptor> = self.datanodes.values().filter(|d| d.alive).collect();
        v.sort_by(|a, b| a.uuid().cmp(b.uuid()));
        v
    }

    /// Recounts the racks with live DataNodes, re-checking every block when the count
    /// changes (a rack coming or going changes which blocks are mis-replicated).
    pub fn refresh_racks(&mut self) {
        let racks: HashSet<&str> = self
            .datanodes
            .values()
            .filter(|d| d.alive)
            .map(|d| d.location.as_str())
            .collect();
        let n = racks.len();
        if n != self.live_racks {
            debug!(from = self.live_racks, to = n, "number of racks changed");
            let recheck = n >= 2 || self.live_racks >= 2;
            self.live_racks = n;
            if recheck && self.repl_queues && self.rescan.is_empty() {
                self.rescan = self.blocks.iter().map(|(id, _)| *id).collect();
            }
        }
    }

    /// How many more racks the block's live replicas should be on (0: placement
    /// satisfied).
    pub fn missing_racks(&self, rec: &BlockRecord) -> usize {
        if self.live_racks < 2 {
            return 0;
        }
        let racks: HashSet<&str> = rec
            .replicas
            .iter()
            .filter(|r| rec.is_good(r))
            .filter_map(|r| self.datanode_of(r.datanode))
            .filter(|d| d.alive)
            .map(|d| d.location.as_str())
            .collect();
        super::placement::missing_racks(racks.len(), rec.replication as usize, self.live_racks)
    }

    /// The rack of the live DataNode at `ip`, if there is one.
    pub fn rack_of_datanode_at(&self, ip: Option<IpAddr>) -> Option<&str> {
        let ip = ip?;
        self.datanodes
            .values()
            .find(|d| d.alive && d.ip() == Some(ip))
            .map(|d| d.location.as_str())
    }

    pub fn is_alive(&self, uuid: &str) -> bool {
        self.datanodes.get(uuid).is_some_and(|d| d.alive)
    }

    /// Whether the DataNode a replica or pipeline names is registered and alive.
    pub fn is_alive_id(&self, id: NameId) -> bool {
        self.is_alive(self.names.name(id))
    }

    /// The DataNode a replica or pipeline names, if registered.
    pub fn datanode_of(&self, id: NameId) -> Option<&DatanodeDescriptor> {
        self.datanodes.get(self.names.name(id))
    }

    pub fn count(&self, rec: &BlockRecord) -> NumberReplicas {
        let mut n = NumberReplicas::default();
        for r in rec.replicas.iter() {
            let (alive, state) = self
                .datanode_of(r.datanode)
                .map_or((false, AdminState::Normal), |d| (d.alive, d.admin_state));
            // A dead node keeps its replicas in the map only while in maintenance.
            if !alive && !state.is_maintenance() {
                continue;
            }
            if r.corrupt {
                if alive {
                    n.corrupt += 1;
                }
            } else if rec.is_good(r) {
                match state {
                    AdminState::Normal => n.live += 1,
                    AdminState::DecommissionInProgress => n.decommissioning += 1,
                    AdminState::Decommissioned => n.decommissioned += 1,
                    AdminState::EnteringMaintenance if alive => n.entering_maintenance += 1,
                    AdminState::EnteringMaintenance | AdminState::InMaintenance => {
                        n.in_maintenance += 1
                    }
                }
            }
        }
        n
    }

    /// Live replicas `rec` needs given its replicas in maintenance (see
    /// [`expected_live`]).
    pub fn expected_live(&self, replication: usize, n: &NumberReplicas) -> usize {
        expected_live(
            replication,
            n.maintenance(),
            self.config.maintenance_replication_min,
        )
    }

    /// Records (or replaces) the replica a DataNode has of a block. A replica once
    /// found corrupt stays corrupt while its generation stamp is unchanged, whatever
    /// later reports say. Only a registered DataNode's replica is recorded: a replica
    /// is in its DataNode's block set exactly when the block's record lists it.
    pub fn set_replica(&mut self, block_id: u64, mut replica: Replica) {
        let Some(rec) = self.blocks.get_mut(block_id) else {
            return;
        };
        let uuid = self.names.name(replica.datanode);
        let Some(dn) = self.datanodes.get_mut(uuid) else {
            debug!(
                block_id,
                datanode = uuid,
                "replica of an unregistered DataNode not recorded"
            );
            return;
        };
        let listed = match rec
            .replicas
            .iter()
            .position(|r| r.datanode == replica.datanode)
        {
            Some(i) => {
                let old = &rec.replicas[i];
                if old.corrupt && old.gen_stamp == replica.gen_stamp {
                    replica.corrupt = true;
                }
                rec.replicas[i] = replica;
                true
            }
            None => {
                rec.replicas.push(replica);
                false
            }
        };
        let newly_in_set = dn.blocks.insert(block_id);
        invariant!(
            newly_in_set != listed,
            "blk_{block_id}: DataNode {uuid} {} the block in its set but the block's record {} it",
            if newly_in_set { "did not have" } else { "had" },
            if listed { "listed" } else { "did not list" }
        );
    }

    /// Forgets the replica a DataNode has of a block, in the block's record and in the
    /// DataNode's block set alike.
    pub fn remove_replica(&mut self, block_id: u64, datanode: &str) -> Option<Replica> {
        let in_set = self
            .datanodes
            .get_mut(datanode)
            .is_some_and(|dn| dn.blocks.remove(&block_id));
        let id = self.names.id(datanode);
        let removed = match (id, self.blocks.get_mut(block_id)) {
            (Some(id), Some(rec)) => rec
                .replicas
                .iter()
                .position(|r| r.datanode == id)
                .map(|i| rec.replicas.swap_remove(i)),
            _ => None,
        };
        invariant!(
            in_set == removed.is_some(),
            "blk_{block_id}: DataNode {datanode}'s block set {} the block but its record {} the replica",
            if in_set { "had" } else { "did not have" },
            if removed.is_some() { "listed" } else { "did not list" }
        );
        removed
    }

    /// Checks, over every block and every DataNode, that a replica is in its
    /// DataNode's block set exactly when the block's record lists it, and that only
    /// blocks being written have a pipeline. O(blocks): for tests.
    pub fn check_replica_index(&self) -> Result<(), String> {
        let mut listed = 0usize;
        for (&id, rec) in self.blocks.iter() {
            for r in rec.replicas.iter() {
                let uuid = self.names.name(r.datanode);
                match self.datanodes.get(uuid) {
                    Some(dn) if dn.blocks.contains(&id) => listed += 1,
                    Some(_) => return Err(format!("blk_{id} lists {uuid}, whose set lacks it")),
                    None => return Err(format!("blk_{id} lists unregistered {uuid}")),
                }
            }
            if rec.state == BlockUcState::Complete && !self.blocks.pipeline(id).is_empty() {
                return Err(format!("complete blk_{id} keeps a pipeline"));
            }
        }
        let in_sets: usize = self.datanodes.values().map(|d| d.blocks.len()).sum();
        if in_sets != listed {
            return Err(format!(
                "DataNodes' block sets hold {in_sets} replicas, block records list {listed}"
            ));
        }
        Ok(())
    }

    /// Queues a replica for deletion on its DataNode (bounded).
    pub fn queue_invalidate(&mut self, datanode: &str, block: pb::BlockProto) {
        let limit = self.config.max_queued_per_datanode;
        if let Some(dn) = self.datanodes.get_mut(datanode) {
            if dn.invalidate.len() >= limit && !dn.invalidate.contains_key(&block.block_id) {
                warn!(
                    datanode,
                    block = block.block_id,
                    "invalidate queue full; dropped"
                );
                return;
            }
            dn.invalidate.insert(block.block_id, block);
        }
    }

    /// Forgets a replica and tells its DataNode to delete it.
    pub fn invalidate_replica(&mut self, block_id: u64, datanode: &str) {
        if let Some(r) = self.remove_replica(block_id, datanode) {
            debug!(block_id, datanode, "invalidating replica");
            self.queue_invalidate(
                datanode,
                pb::BlockProto {
                    block_id,
                    gen_stamp: r.gen_stamp,
                    num_bytes: Some(r.num_bytes),
                },
            );
        }
    }

    /// Re-decides a block's redundancy: its low-redundancy queue, corrupt status, and
    /// (when Active) deletion of excess and of corrupt replicas once enough good ones
    /// exist.
    pub fn check_redundancy(&mut self, block_id: u64) {
        let Some(rec) = self.blocks.get(block_id) else {
            self.needed.remove(block_id);
            self.pending.remove(&block_id);
            self.corrupt_blocks.remove(&block_id);
            return;
        };
        let n = self.count(rec);
        if n.corrupt > 0 {
            self.corrupt_blocks.insert(block_id);
        } else {
            self.corrupt_blocks.remove(&block_id);
        }
        if rec.state != BlockUcState::Complete {
            self.needed.remove(block_id);
            return;
        }
        if !self.repl_queues {
            // Startup safe mode before its block threshold (Hadoop's
            // isPopulatingReplQueues): the queues are built in one pass when the
            // threshold is reached, not block by block while the reports that would
            // empty them again are still arriving. At a NameNode start every block
            // would otherwise enter the queues as missing first.
            return;
        }
        let replication = rec.replication as usize;
        let expected = self.expected_live(replication, &n);
        if n.live < expected {
            // No in-service replica but one on a leaving node: urgent, not missing
            // (Hadoop's getPriority with decommissioned replicas).
            let level = if n.live == 0 && n.decommissioning + n.decommissioned + n.maintenance() > 0
            {
                super::low_redundancy::QUEUE_HIGHEST_PRIORITY
            } else {
                priority(n.live, expected)
            };
            self.needed.update(block_id, level);
        } else if n.live == expected && self.missing_racks(rec) > 0 {
            // Enough replicas, all on one rack: one more goes to another rack (kept
            // pending until it arrives), then the excess leaves the crowded rack.
            self.needed
                .update(block_id, QUEUE_REPLICAS_BADLY_DISTRIBUTED);
        } else {
            self.needed.remove(block_id);
            self.pending.remove(&block_id);
        }
        // Deletions wait for an Active NameNode out of safe mode: until then its view
        // of the cluster may be partial.
        if !self.active || self.safe_mode != SafeModePhase::Off {
            return;
        }
        if n.live >= expected && n.corrupt > 0 {
            let bad: Vec<String> = rec
                .replicas
                .iter()
                .filter(|r| r.corrupt)
                .map(|r| self.names.name(r.datanode).to_string())
                .collect();
            for dn in bad {
                self.invalidate_replica(block_id, &dn);
            }
            self.corrupt_blocks.remove(&block_id);
        }
        // Excess is judged against the full replication: a replica in maintenance is
        // expected back, and the copies meanwhile are not deleted ahead of it.
        if n.live > replication {
            let rec = self.blocks.get(block_id).expect("checked above");
            let holders: Vec<&DatanodeDescriptor> = rec
                .replicas
                .iter()
                .filter(|r| rec.is_good(r))
                .filter_map(|r| self.datanode_of(r.datanode))
                // Replicas on leaving nodes are never excess: they are not counted.
                .filter(|d| d.alive && d.admin_state.is_in_service())
                .collect();
            let mut surplus = n.live - replication;
            let mut excess = Vec::new();
            if let Some(hinted) = self.hinted_excess(block_id, &holders, replication) {
                let rest: Vec<&DatanodeDescriptor> = holders
                    .iter()
                    .copied()
                    .filter(|d| d.uuid() != hinted)
                    .collect();
                excess.push(hinted);
                surplus -= 1;
                if surplus > 0 {
                    excess.extend(self.placement.choose_excess(&rest, surplus));
                }
            } else {
                excess = self.placement.choose_excess(&holders, surplus);
            }
            for dn in excess {
                self.invalidate_replica(block_id, &dn);
            }
        }
    }

    /// Turns a committed block complete once `dfs.namenode.replication.min` good
    /// replicas are reported. Returns whether the block is complete.
    pub fn try_complete(&mut self, block_id: u64) -> bool {
        let min = self.config.min_replication as usize;
        let Some(rec) = self.blocks.get(block_id) else {
            return false;
        };
        match rec.state {
            BlockUcState::Complete => true,
            BlockUcState::Committed if self.count(rec).usable() >= min => {
                // Drops the pipeline too: a complete block never needs it again.
                self.blocks.set_state(block_id, BlockUcState::Complete);
                self.check_redundancy(block_id);
                true
            }
            _ => false,
        }
    }

    /// Declares a DataNode dead (or gone): its replicas no longer count, its queued
    /// work is dropped, and every block it held is re-checked.
    pub fn remove_blocks_of(&mut self, uuid: &str) {
        let ids: Vec<u64> = match self.datanodes.get_mut(uuid) {
            Some(dn) => {
                dn.clear_work();
                dn.blocks.iter().copied().collect()
            }
            None => return,
        };
        for p in self.pending.values_mut() {
            p.targets.retain(|t| t != uuid);
        }
        self.pending.retain(|_, p| !p.targets.is_empty());
        for id in ids {
            self.remove_replica(id, uuid);
            self.check_redundancy(id);
        }
        if let Some(dn) = self.datanodes.get_mut(uuid) {
            invariant!(
                dn.blocks.is_empty(),
                "DataNode {uuid} keeps {} blocks after losing all its replicas",
                dn.blocks.len()
            );
            // Give the emptied set's table back (a dead node may stay dead for long).
            dn.blocks = std::collections::HashSet::new();
        }
    }

    /// Forgets the replicas a DataNode kept on one storage (it failed), and queues
    /// their blocks for re-replication.
    pub fn remove_replicas_on_storage(&mut self, uuid: &str, storage: &str) {
        let ids: Vec<u64> = match self.datanodes.get(uuid) {
            Some(dn) => dn
                .blocks
                .iter()
                .copied()
                .filter(|id| {
                    let (Some(dn), Some(sid)) = (self.names.id(uuid), self.names.id(storage))
                    else {
                        return false;
                    };
                    self.blocks
                        .get(*id)
                        .is_some_and(|rec| rec.replica_on(dn).is_some_and(|r| r.storage == sid))
                })
                .collect(),
            None => return,
        };
        for id in ids {
            self.remove_replica(id, uuid);
            self.check_redundancy(id);
        }
    }

    pub fn choose(
        &self,
        num: usize,
        writer: Option<IpAddr>,
        excluded: &HashSet<String>,
        favored: &[String],
        block_size: u64,
        wish: TypeWish,
    ) -> Vec<(String, Option<i32>)> {
        self.choose_beside(num, writer, excluded, favored, block_size, &[], false, wish)
    }

    /// As [`State::choose`] for a block already on `existing` (live holders, whose
    /// racks count); `new_rack_only` keeps the new replicas off their racks.
    #[allow(clippy::too_many_arguments)]
    pub fn choose_beside(
        &self,
        num: usize,
        writer: Option<IpAddr>,
        excluded: &HashSet<String>,
        favored: &[String],
        block_size: u64,
        existing: &[String],
        new_rack_only: bool,
        wish: TypeWish,
    ) -> Vec<(String, Option<i32>)> {
        // Exclude leaving nodes: a DataNode being decommissioned (or decommissioned)
        // takes no new replica.
        let live: Vec<&DatanodeDescriptor> = self
            .live_nodes()
            .into_iter()
            .filter(|d| d.admin_state.is_in_service())
            .collect();
        let req = PlacementRequest {
            num,
            writer,
            excluded,
            favored,
            block_size,
            existing,
            new_rack_only,
            storage_types: wish.types,
            fallbacks: wish.fallbacks,
        };
        self.placement.choose_typed_targets(&live, &req)
    }

    pub fn safe_mode_status(&self, now: Instant) -> SafeModeStatus {
        let on = self.safe_mode != SafeModePhase::Off;
        let live_datanodes = self.datanodes.values().filter(|d| d.alive).count() as u64;
        let pct = self.config.safemode_threshold_pct;
        let (mut total, mut safe) = (0u64, 0u64);
        if on {
            let min = self.config.min_replication as usize;
            for (_, rec) in self.blocks.iter() {
                if rec.state == BlockUcState::Complete {
                    total += 1;
                    if self.count(rec).usable() >= min {
                        safe += 1;
                    }
                }
            }
        }
        SafeModeStatus {
            on,
            blocks_safe: safe,
            blocks_total: total,
            block_threshold: block_threshold(total, pct),
            threshold_pct: pct,
            live_datanodes,
            min_datanodes: u64::from(self.config.safemode_min_datanodes),
            extension_remaining: match self.safe_mode {
                SafeModePhase::Extension { until } => Some(until.saturating_duration_since(now)),
                _ => None,
            },
        }
    }

    /// Moves startup safe mode forward; returns the status after the move.
    pub fn refresh_safe_mode(&mut self, now: Instant) -> SafeModeStatus {
        // A Standby leaves startup safe mode on its own too, as Hadoop's does: a
        // failover to a NameNode that started minutes ago must not refuse writes for
        // the safe-mode extension. Leaving it is safe on a Standby: deletions and
        // replication commands still wait until it is Active.
        if self.safe_mode == SafeModePhase::Off {
            return self.safe_mode_status(now);
        }
        let status = self.safe_mode_status(now);
        // A Standby that knows no blocks yet may just not have tailed them: it leaves
        // only on evidence (reports reaching the threshold of a non-zero total), or
        // when it becomes Active with every edit applied.
        if !self.active && status.blocks_total == 0 {
            return status;
        }
        let next = next_phase(self.safe_mode, &status, self.config.safemode_extension, now);
        if next != self.safe_mode {
            self.safe_mode = next;
            if next == SafeModePhase::Off {
                tracing::info!(
                    blocks = status.blocks_total,
                    safe = status.blocks_safe,
                    "leaving safe mode: block threshold reached"
                );
                self.after_leaving_safe_mode();
            } else if next != SafeModePhase::PendingThreshold && !self.repl_queues {
                tracing::info!(
                    blocks = status.blocks_total,
                    "block threshold reached: initializing the replication queues"
                );
                self.rescan_redundancy();
            }
        }
        self.safe_mode_status(now)
    }

    /// Once out of safe mode, every block's redundancy is decided afresh.
    pub fn after_leaving_safe_mode(&mut self) {
        self.rescan_redundancy();
    }

    /// Populates the replication queues from here on and decides every block's
    /// redundancy afresh (Hadoop's initializeReplQueues / processMisReplicatedBlocks):
    /// the first [`RESCAN_CHUNK`] blocks now, the rest through [`State::rescan_some`].
    fn rescan_redundancy(&mut self) {
        self.repl_queues = true;
        self.rescan = self.blocks.iter().map(|(id, _)| *id).collect();
        self.rescan_some(RESCAN_CHUNK);
    }

    /// Decides up to `n` blocks of the pending rescan; true while some remain.
    pub fn rescan_some(&mut self, n: usize) -> bool {
        let chunk = self.rescan.split_off(self.rescan.len().saturating_sub(n));
        for id in chunk {
            self.check_redundancy(id);
        }
        if self.rescan.is_empty() {
            // Give the snapshot's memory back (80 MB at 10M blocks).
            self.rescan = Vec::new();
            return false;
        }
        true
    }
}
