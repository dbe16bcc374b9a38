//! Block management (Hadoop's BlockManager, DatanodeManager and HeartbeatManager): which
//! DataNodes exist and are alive, where every block's replicas are, where new replicas
//! go, and the background work that keeps every block at its replication factor.
//!
//! Everything lives behind one lock held only for in-memory work (never across IO or an
//! await). The namespace (owned by the Namesystem) is the truth about which blocks
//! exist; the write path tells the block manager about them through the methods below,
//! and DataNodes tell it where the replicas are through DatanodeProtocol
//! ([`crate::datanode_protocol`]). Lock order: the namespace lock may be held while
//! calling in here; the block manager never calls back into the namespace.

pub mod balancing;
pub mod block_tokens;
pub mod blocks_map;
pub mod combined_host_file;
pub mod config;
mod datanode_manager;
pub mod datanodes;
pub mod decommission;
pub mod error;
pub mod host_file;
pub mod low_redundancy;
pub mod names;
pub mod pending_messages;
pub mod placement;
mod redundancy;
pub mod safe_mode;
mod state;
pub mod storage_policy;
pub mod topology;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use hafs_proto::common::TokenProto;
use hafs_proto::hdfs as pb;
use hafs_proto::hdfs::datanode as dpb;
use hafs_util::clock::{Clock, SystemClock};

pub use blocks_map::{Block, BlockUcState, ReplicaState};
pub use config::BlockManagerConfig;
pub use datanode_manager::StorageReport;
pub use error::BlockManagerError;
pub use safe_mode::SafeModeStatus;

use blocks_map::{BlockRecord, BlocksMap};
use low_redundancy::{LowRedundancyBlocks, QUEUE_HIGHEST_PRIORITY, QUEUE_WITH_CORRUPT_BLOCKS};
use placement::{BlockPlacementPolicy, DefaultPlacement};
use safe_mode::SafeModePhase;
use state::{State, TypeWish};

/// The cluster identity DataNodes must match (from the NameNode's VERSION).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceIdentity {
    pub cluster_id: String,
    pub block_pool_id: String,
    pub namespace_id: u32,
    pub layout_version: i32,
    pub ctime: i64,
}

/// A DataNode chosen to receive a replica, with the storage on it.
#[derive(Debug, Clone, PartialEq)]
pub struct DatanodeTarget {
    pub info: pb::DatanodeInfoProto,
    pub storage_uuid: String,
    pub storage_type: i32,
}

impl DatanodeTarget {
    pub fn uuid(&self) -> &str {
        &self.info.id.datanode_uuid
    }
}

/// Which DataNodes getDatanodeReport lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatanodeReportKind {
    All,
    Live,
    Dead,
    /// Nodes being decommissioned, alive or dead.
    Decommissioning,
    /// Nodes entering maintenance / in maintenance, alive or dead.
    EnteringMaintenance,
    InMaintenance,
}

/// Cluster totals for getFsStats and `dfsadmin -report`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FsStats {
    pub capacity: u64,
    pub used: u64,
    pub remaining: u64,
    pub non_dfs_used: u64,
    /// Blocks with fewer live replicas than wanted but at least one.
    pub under_replicated: u64,
    /// Blocks with at least one corrupt replica.
    pub corrupt_blocks: u64,
    /// Blocks with no live replica.
    pub missing_blocks: u64,
    /// Every block the NameNode knows (Hadoop's BlocksTotal: the blocks map's size).
    pub blocks_total: u64,
    /// Data transfers under way on the live DataNodes, as their heartbeats report
    /// (Hadoop's TotalLoad).
    pub total_load: u64,
    /// Missing blocks of files with replication 1.
    pub missing_repl_one_blocks: u64,
    pub pending_deletion_blocks: u64,
    /// Blocks with enough replicas on too few racks (Hadoop's badly distributed).
    pub badly_distributed: u64,
    pub live_datanodes: u64,
    pub dead_datanodes: u64,
    /// Alive DataNodes being decommissioned / decommissioned.
    pub decommissioning_live: u64,
    pub decommissioned_live: u64,
    /// Dead DataNodes being decommissioned / decommissioned.
    pub decommissioning_dead: u64,
    pub decommissioned_dead: u64,
    /// Alive DataNodes entering maintenance (Hadoop's NumEnteringMaintenanceDataNodes).
    pub entering_maintenance: u64,
    /// DataNodes in maintenance, alive / dead (a dead node entering maintenance
    /// counts as dead in maintenance).
    pub in_maintenance_live: u64,
    pub in_maintenance_dead: u64,
}

pub struct BlockManager {
    state: Mutex<State>,
    /// Every time the block manager decides on (heartbeat expiry, safe-mode extension,
    /// pending replications) is read here: tests pass a `ManualClock`.
    clock: Arc<dyn Clock>,
    /// Set at startup when `dfs.block.access.token.enable` is true.
    block_tokens: std::sync::OnceLock<block_tokens::BlockTokenIssuer>,
    /// Rack of each DataNode address (`net.topology.*`); outside the lock, since a
    /// topology script may take a while.
    racks: topology::RackResolver,
}

/// An empty block access token (block access tokens off).
pub fn empty_token() -> TokenProto {
    TokenProto {
        identifier: Bytes::new(),
        password: Bytes::new(),
        kind: String::new(),
        service: String::new(),
    }
}

impl BlockManager {
    /// A block manager with no DataNodes and no blocks, in startup safe mode. Load
    /// every file's blocks ([`BlockManager::add_block_collection`]) before serving.
    pub fn new(config: BlockManagerConfig, identity: NamespaceIdentity) -> BlockManager {
        Self::with_placement(config, identity, Box::new(DefaultPlacement::new()))
    }

    /// As [`BlockManager::new`], with another placement policy (rack awareness later).
    pub fn with_placement(
        config: BlockManagerConfig,
        identity: NamespaceIdentity,
        placement: Box<dyn BlockPlacementPolicy>,
    ) -> BlockManager {
        let racks = topology::RackResolver::new(config.topology.clone());
        BlockManager {
            state: Mutex::new(State {
                config,
                identity,
                datanodes: HashMap::new(),
                by_xfer_addr: HashMap::new(),
                blocks: BlocksMap::default(),
                names: names::Names::default(),
                needed: LowRedundancyBlocks::default(),
                pending: HashMap::new(),
                corrupt_blocks: HashSet::new(),
                dn_messages: pending_messages::PendingDataNodeMessages::default(),
                safe_mode: SafeModePhase::PendingThreshold,
                repl_queues: false,
                file_policies: HashMap::new(),
                rescan: Vec::new(),
                active: true,
                placement,
                live_racks: 0,
                del_hint: None,
                hosts: host_file::HostLists::default(),
                decommission: decommission::DecommissionTracker::default(),
            }),
            clock: Arc::new(SystemClock),
            block_tokens: std::sync::OnceLock::new(),
            racks,
        }
    }

    /// The same block manager reading time from `clock` (tests move it by hand).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> BlockManager {
        self.clock = clock;
        self
    }

    /// Now, by the block manager's clock — the NameNode's one clock for decisions
    /// (the Namesystem's file leases read it too).
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Turns block access tokens on (once, at startup).
    pub fn enable_block_tokens(&self, issuer: block_tokens::BlockTokenIssuer) {
        let _ = self.block_tokens.set(issuer);
    }

    /// The token issuer when block access tokens are on.
    pub fn block_tokens(&self) -> Option<&block_tokens::BlockTokenIssuer> {
        self.block_tokens.get()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Poison means a panic left half-applied block state: never serve from it
        // (the failure policy, hafs_util::invariant).
        hafs_util::invariant::lock(&self.state, "block manager")
    }

    pub fn config(&self) -> BlockManagerConfig {
        self.lock().config.clone()
    }

    pub fn identity(&self) -> NamespaceIdentity {
        self.lock().identity.clone()
    }

    pub fn block_pool_id(&self) -> String {
        self.lock().identity.block_pool_id.clone()
    }

    /// Tells the block manager whether this NameNode is Active (the HA code calls this
    /// on every transition; the monitor and heartbeats also pass it along).
    ///
    /// Becoming Active, the DataNode reports a Standby kept for blocks it had not yet
    /// seen are processed now (the edits are all applied: a block still unknown is no
    /// file's, and is deleted once out of safe mode), and safe mode may end.
    pub fn set_active(&self, active: bool) {
        let mut st = self.lock();
        let was = st.active;
        st.active = active;
        if active {
            for m in st.dn_messages.take_all() {
                st.process_reported_replica(
                    &m.datanode,
                    &m.storage,
                    m.block_id,
                    m.gen_stamp,
                    m.num_bytes,
                    m.state,
                );
            }
            st.refresh_safe_mode(self.now());
            if !was {
                st.after_leaving_safe_mode_if_off();
            }
        }
    }

    /// Forgets every block not in `keep` (a NameNode that reloaded its namespace),
    /// without deleting replicas. Their DataNodes will not report them again for
    /// hours (full block reports are rare), so each known replica is kept as a pending
    /// report: applied when the tailer reads the block's edit again, or, if it never
    /// does, handled on becoming Active (no file's: deleted).
    pub fn forget_blocks_except(&self, keep: &HashSet<u64>) {
        let mut st = self.lock();
        let gone: Vec<u64> = st
            .blocks
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| !keep.contains(id))
            .collect();
        for id in gone {
            let replicas: Vec<blocks_map::Replica> = st
                .blocks
                .get(id)
                .map(|r| r.replicas.to_vec())
                .unwrap_or_default();
            for r in replicas {
                let datanode = st.names.name(r.datanode).to_string();
                if !r.corrupt {
                    let storage = st.names.name(r.storage).to_string();
                    st.dn_messages.enqueue(pending_messages::ReportedReplica {
                        datanode: datanode.clone(),
                        storage,
                        block_id: id,
                        gen_stamp: r.gen_stamp,
                        num_bytes: r.num_bytes,
                        state: r.state,
                    });
                }
                st.remove_replica(id, &datanode);
            }
            st.blocks.remove(id);
            st.check_redundancy(id);
        }
    }

    /// DataNode reports a Standby keeps for blocks it has not read about yet.
    pub fn pending_datanode_messages(&self) -> usize {
        self.lock().dn_messages.len()
    }

    // ------------------------------------------------------------ the write path

    /// Makes room for `additional` more blocks at once, before a NameNode start
    /// registers every block of its namespace (growing the map by doubling would move
    /// every block ~once more and briefly need the old and new table together).
    pub fn reserve_blocks(&self, additional: usize) {
        self.lock().blocks.reserve(additional);
    }

    /// Registers the blocks of one file as loaded from the image or edits: all
    /// complete, except the last one when the file is under construction.
    pub fn add_block_collection(
        &self,
        inode_id: u64,
        replication: u16,
        blocks: &[Block],
        under_construction: bool,
    ) {
        let mut st = self.lock();
        for (i, b) in blocks.iter().enumerate() {
            let last = i + 1 == blocks.len();
            let state = if under_construction && last {
                BlockUcState::UnderConstruction
            } else {
                BlockUcState::Complete
            };
            let replicas = st
                .blocks
                .remove(b.id)
                .map(|r| r.replicas)
                .unwrap_or_default();
            st.blocks.insert(
                b.id,
                BlockRecord {
                    gen_stamp: b.gen_stamp,
                    num_bytes: b.num_bytes,
                    replication,
                    inode_id,
                    state,
                    replicas,
                },
            );
            st.check_redundancy(b.id);
            // Reports that came before the edit that made this block known.
            for m in st.dn_messages.take(b.id) {
                st.process_reported_replica(
                    &m.datanode,
                    &m.storage,
                    m.block_id,
                    m.gen_stamp,
                    m.num_bytes,
                    m.state,
                );
            }
        }
    }

    /// Chooses up to `num` DataNodes for a replica of a block of `src` (Hadoop's
    /// chooseTarget): a DataNode on the client's host first, then distinct live
    /// DataNodes with at least `block_size` free, never one in `excluded` (matched by
    /// UUID or transfer address), preferring `favored` ("host:port" transfer addresses)
    /// in order, each on a storage of the type the file's storage policy (`policy`,
    /// an id of [`storage_policy::POLICIES`]) asks for. May return fewer than `num`.
    #[allow(clippy::too_many_arguments)]
    pub fn choose_targets(
        &self,
        src: &str,
        num: usize,
        client_addr: Option<IpAddr>,
        excluded: &[pb::DatanodeInfoProto],
        favored: &[String],
        block_size: u64,
        policy: u8,
    ) -> Vec<DatanodeTarget> {
        let st = self.lock();
        let _ = src;
        let excluded = st.resolve_excluded(excluded);
        let favored = st.resolve_favored(favored);
        let policy = storage_policy::by_id(policy);
        let types = policy.choose_storage_types(num);
        let wish = TypeWish {
            types: &types,
            fallbacks: policy.creation_fallbacks,
        };
        let chosen = st.choose(num, client_addr, &excluded, &favored, block_size, wish);
        st.targets(&chosen, block_size)
    }

    /// Replaces the table of files whose effective storage policy is not the default
    /// (inode id → policy id), which re-replication reads.
    pub fn set_file_policies(&self, policies: HashMap<u64, u8>) {
        self.lock().file_policies = policies;
    }

    /// Targets to add to a pipeline (getAdditionalDatanode): like
    /// [`BlockManager::choose_targets`], with the pipeline's `existing` nodes counted
    /// as already holding the block, so the new ones keep its racks spread (Hadoop
    /// passes them as the chosen storages).
    pub fn choose_additional_targets(
        &self,
        num: usize,
        client_addr: Option<IpAddr>,
        existing: &[pb::DatanodeInfoProto],
        excluded: &[pb::DatanodeInfoProto],
        block_size: u64,
        policy: u8,
    ) -> Vec<DatanodeTarget> {
        let st = self.lock();
        let mut all = st.resolve_excluded(excluded);
        // In pipeline order: the placement reads the first holders' racks.
        let existing: Vec<String> = existing
            .iter()
            .filter_map(|d| st.find_datanode(&d.id))
            .filter(|u| st.is_alive(u))
            .collect();
        all.extend(existing.iter().cloned());
        // The policy's types past the pipeline's own nodes, which came first.
        let policy = storage_policy::by_id(policy);
        let types: Vec<i32> = policy
            .choose_storage_types(existing.len() + num)
            .into_iter()
            .skip(existing.len())
            .collect();
        let wish = TypeWish {
            types: &types,
            fallbacks: policy.creation_fallbacks,
        };
        let chosen = st.choose_beside(
            num,
            client_addr,
            &all,
            &[],
            block_size,
            &existing,
            false,
            wish,
        );
        st.targets(&chosen, block_size)
    }

    /// Targets for a new block of a file with `replication`; fails with Hadoop's
    /// "could only be written to N of the M minReplication nodes" when fewer than
    /// `dfs.namenode.replication.min` DataNodes can take it.
    #[allow(clippy::too_many_arguments)]
    pub fn choose_targets_for_new_block(
        &self,
        src: &str,
        replication: usize,
        client_addr: Option<IpAddr>,
        excluded: &[pb::DatanodeInfoProto],
        favored: &[String],
        block_size: u64,
        policy: u8,
    ) -> Result<Vec<DatanodeTarget>, BlockManagerError> {
        let t = self.choose_targets(
            src,
            replication,
            client_addr,
            excluded,
            favored,
            block_size,
            policy,
        );
        let st = self.lock();
        let min = (st.config.min_replication as usize).min(replication.max(1));
        if t.len() < min {
            return Err(BlockManagerError::NotEnoughTargets {
                src: src.to_string(),
                got: t.len(),
                min,
                live: st.datanodes.values().filter(|d| d.alive).count(),
                excluded: excluded.len(),
            });
        }
        Ok(t)
    }

    /// Records a block just allocated by addBlock, to be written to `targets`.
    pub fn add_block_under_construction(
        &self,
        inode_id: u64,
        block: Block,
        replication: u16,
        targets: &[DatanodeTarget],
    ) {
        let mut st = self.lock();
        st.blocks.insert(
            block.id,
            BlockRecord {
                gen_stamp: block.gen_stamp,
                num_bytes: block.num_bytes,
                replication,
                inode_id,
                state: BlockUcState::UnderConstruction,
                replicas: blocks_map::Replicas::None,
            },
        );
        let pipeline = st.intern_pipeline(targets.iter().map(|t| (t.uuid(), &*t.storage_uuid)));
        st.blocks.set_pipeline(block.id, pipeline);
    }

    /// Gives a block under construction that no DataNode is known to hold the pipeline
    /// `targets` (addBlock retried after the answer was lost: the block came here
    /// through the edit log, which does not carry pipelines). Replicas already reported
    /// are kept. Returns false if the block is unknown or no longer under construction.
    pub fn set_expected_locations(&self, block_id: u64, targets: &[DatanodeTarget]) -> bool {
        let mut st = self.lock();
        let Some(rec) = st.blocks.get(block_id) else {
            return false;
        };
        if rec.state != BlockUcState::UnderConstruction {
            return false;
        }
        let pipeline = st.intern_pipeline(targets.iter().map(|t| (t.uuid(), &*t.storage_uuid)));
        st.blocks.set_pipeline(block_id, pipeline);
        true
    }

    /// The client finished writing a block (addBlock of the next one, or complete):
    /// fixes its length and generation stamp, marks replicas that disagree corrupt, and
    /// makes it complete if `dfs.namenode.replication.min` good replicas are already
    /// reported. Returns whether the block is now complete. Unknown blocks: false.
    pub fn commit_block(&self, block: Block) -> bool {
        let mut st = self.lock();
        let Some(rec) = st.blocks.get_mut(block.id) else {
            return false;
        };
        if rec.state == BlockUcState::Complete {
            return true;
        }
        rec.gen_stamp = block.gen_stamp;
        rec.num_bytes = block.num_bytes;
        rec.set_state(block.id, BlockUcState::Committed);
        // Only an older generation stamp makes a replica corrupt here. A finalized
        // replica of the right stamp but another length may be one an append at the
        // same stamp (hdfs-native's way) is still growing: it does not count until it
        // reports the committed length (`is_good`), and is not condemned.
        for r in rec.replicas.iter_mut() {
            if r.state == ReplicaState::Finalized && r.gen_stamp < block.gen_stamp {
                r.corrupt = true;
            }
        }
        st.try_complete(block.id)
    }

    /// Completes a committed block if it has enough replicas now (the client retries
    /// complete() until it does). True when complete.
    pub fn complete_block_if_ready(&self, block_id: u64) -> bool {
        self.lock().try_complete(block_id)
    }

    /// One line about a block for logs: its state, stamp, length and every replica.
    pub fn describe_block(&self, block_id: u64) -> String {
        let st = self.lock();
        let Some(rec) = st.blocks.get(block_id) else {
            return format!("blk_{block_id}: not in the blocks map");
        };
        let replicas: Vec<String> = rec
            .replicas
            .iter()
            .map(|r| {
                let alive = st.is_alive_id(r.datanode);
                let dead = if alive { "" } else { ":dead" };
                format!(
                    "{}:{:?}:gs{}:{}b{}{dead}",
                    st.names.name(r.datanode),
                    r.state,
                    r.gen_stamp,
                    r.num_bytes,
                    if r.corrupt { ":corrupt" } else { "" },
                )
            })
            .collect();
        format!(
            "blk_{block_id}_{} {:?} {}b replicas [{}] pending reports {}",
            rec.gen_stamp,
            rec.state,
            rec.num_bytes,
            replicas.join(", "),
            st.dn_messages.len()
        )
    }

    /// Whether any DataNode is known to hold or be writing the block: a reported
    /// replica or a pipeline target (Hadoop's expected locations). Lease recovery
    /// drops a last block only when there is none.
    pub fn has_locations(&self, block_id: u64) -> bool {
        let st = self.lock();
        st.blocks
            .get(block_id)
            .is_some_and(|r| !r.replicas.is_empty() || !st.blocks.pipeline(block_id).is_empty())
    }

    pub fn block_state(&self, block_id: u64) -> Option<BlockUcState> {
        self.lock().blocks.get(block_id).map(|r| r.state)
    }

    /// Marks a block complete regardless of reported replicas (lease recovery closing a
    /// file; edits replayed on a Standby).
    pub fn force_complete(&self, block: Block) {
        let mut st = self.lock();
        // Drops the pipeline too: a complete block never needs it again.
        st.blocks.set_state(block.id, BlockUcState::Complete);
        if let Some(rec) = st.blocks.get_mut(block.id) {
            rec.gen_stamp = block.gen_stamp;
            rec.num_bytes = block.num_bytes;
            for r in rec.replicas.iter_mut() {
                if r.state == ReplicaState::Finalized
                    && (r.gen_stamp != block.gen_stamp || r.num_bytes != block.num_bytes)
                {
                    r.corrupt = true;
                }
            }
        }
        st.check_redundancy(block.id);
    }

    /// After updatePipeline: the block has a new generation stamp and length and is
    /// written by `new_targets` (DataNode UUIDs with storage ids). Replicas with another
    /// generation stamp are forgotten (their DataNodes report them again).
    pub fn update_pipeline(&self, block: Block, new_targets: &[(String, String)]) {
        let mut st = self.lock();
        let pipeline = st.intern_pipeline(new_targets.iter().map(|(d, s)| (&**d, &**s)));
        let st = &mut *st;
        let stale: Vec<String> = match st.blocks.get_mut(block.id) {
            Some(rec) => {
                rec.gen_stamp = block.gen_stamp;
                rec.num_bytes = block.num_bytes;
                let stale = rec
                    .replicas
                    .iter()
                    .filter(|r| r.gen_stamp != block.gen_stamp)
                    .map(|r| st.names.name(r.datanode).to_string())
                    .collect();
                if rec.state != BlockUcState::Complete {
                    st.blocks.set_pipeline(block.id, pipeline);
                }
                stale
            }
            None => return,
        };
        for dn in stale {
            st.remove_replica(block.id, &dn);
        }
    }

    /// Blocks of deleted files, or an abandoned block: forgotten, and every replica is
    /// deleted on its DataNode.
    pub fn remove_blocks(&self, block_ids: &[u64]) {
        let mut st = self.lock();
        for &id in block_ids {
            let holders: Vec<String> = match st.blocks.get(id) {
                Some(rec) => rec
                    .replicas
                    .iter()
                    .map(|r| st.names.name(r.datanode).to_string())
                    .collect(),
                None => continue,
            };
            for dn in holders {
                st.invalidate_replica(id, &dn);
            }
            st.blocks.remove(id);
            st.check_redundancy(id);
        }
    }

    /// setReplication: the blocks' wanted replica count changes; the monitor copies or
    /// deletes replicas to match.
    pub fn set_replication(&self, block_ids: &[u64], replication: u16) {
        let mut st = self.lock();
        for &id in block_ids {
            if let Some(rec) = st.blocks.get_mut(id) {
                rec.replication = replication;
                st.check_redundancy(id);
            }
        }
    }

    /// Starts lease recovery of a block: a live DataNode holding it (the primary)
    /// receives a BlockRecoveryCommand in its next heartbeat. Fails when no live
    /// DataNode has or was writing the block. With `truncate_to` (a truncate's
    /// recovery) the replicas are cut to that length instead of agreeing on one.
    pub fn start_block_recovery(
        &self,
        block: Block,
        new_gen_stamp: u64,
        truncate_to: Option<u64>,
    ) -> Result<(), BlockManagerError> {
        let mut st = self.lock();
        let bpid = st.identity.block_pool_id.clone();
        let Some(rec) = st.blocks.get(block.id) else {
            return Err(BlockManagerError::Io(format!(
                "block blk_{}_{} is not known to the block manager",
                block.id, block.gen_stamp
            )));
        };
        let mut holders: Vec<names::NameId> = rec.replicas.iter().map(|r| r.datanode).collect();
        for &(dn, _) in st.blocks.pipeline(block.id) {
            if !holders.contains(&dn) {
                holders.push(dn);
            }
        }
        let mut nodes: Vec<&datanodes::DatanodeDescriptor> = holders
            .iter()
            .filter_map(|&u| st.datanode_of(u))
            .filter(|d| d.alive)
            .collect();
        if nodes.is_empty() {
            return Err(BlockManagerError::Io(format!(
                "no live DataNode holds blk_{}_{} for recovery",
                block.id, block.gen_stamp
            )));
        }
        // The most recently heard-from node leads the recovery.
        nodes.sort_by_key(|d| std::cmp::Reverse(d.last_update));
        let primary = nodes[0].uuid().to_string();
        let lb = pb::LocatedBlockProto {
            b: pb::ExtendedBlockProto {
                pool_id: bpid,
                block_id: block.id,
                generation_stamp: block.gen_stamp,
                num_bytes: Some(block.num_bytes),
            },
            offset: 0,
            locs: nodes.iter().map(|d| d.info()).collect(),
            corrupt: false,
            block_token: empty_token(),
            is_cached: Vec::new(),
            storage_types: Vec::new(),
            storage_i_ds: nodes.iter().map(|d| d.any_storage()).collect(),
            block_indices: None,
            block_tokens: Vec::new(),
        };
        let limit = st.config.max_queued_per_datanode;
        st.blocks.set_state(block.id, BlockUcState::UnderRecovery);
        if let Some(dn) = st.datanodes.get_mut(&primary) {
            if dn.recoveries.len() < limit {
                dn.recoveries.push_back(dpb::RecoveringBlockProto {
                    new_gen_stamp,
                    block: lb,
                    // In place: the same block id at the recovery's generation stamp.
                    truncate_block: truncate_to.map(|len| pb::BlockProto {
                        block_id: block.id,
                        gen_stamp: new_gen_stamp,
                        num_bytes: Some(len),
                    }),
                });
            }
        }
        Ok(())
    }

    /// The block manager's half of commitBlockSynchronization: the recovered block has
    /// `block.gen_stamp`/`block.num_bytes` and lives on `new_targets` (UUIDs), or is
    /// deleted. The Namesystem updates the file and closes it if asked.
    pub fn commit_block_synchronization(
        &self,
        block: Block,
        new_targets: &[String],
        delete_block: bool,
    ) {
        if delete_block {
            self.remove_blocks(&[block.id]);
            return;
        }
        {
            let mut st = self.lock();
            let known = st
                .blocks
                .get(block.id)
                .is_some_and(|r| r.state != BlockUcState::Complete);
            if known {
                let pipeline = st.intern_pipeline(new_targets.iter().map(|u| (&**u, "")));
                st.blocks.set_pipeline(block.id, pipeline);
            }
        }
        self.force_complete(block);
    }

    /// The located block getBlockLocations returns: good replicas nearest the client
    /// first (the pipeline's nodes while under construction; the corrupt replicas,
    /// flagged, when there is nothing else).
    pub fn located_block(
        &self,
        block: Block,
        offset: u64,
        client_addr: Option<IpAddr>,
    ) -> pb::LocatedBlockProto {
        let client_rack = self.client_rack(client_addr);
        let st = self.lock();
        let mut corrupt = false;
        let mut holders: Vec<(&datanodes::DatanodeDescriptor, String)> = Vec::new();
        if let Some(rec) = st.blocks.get(block.id) {
            // A node in maintenance is not read from (Hadoop's createLocatedBlock
            // skips it): it may be stopped at any moment.
            let alive = |u: names::NameId| {
                st.datanode_of(u)
                    .filter(|d| d.alive && d.admin_state != datanodes::AdminState::InMaintenance)
            };
            let storage = |s: names::NameId| st.names.name(s).to_string();
            for r in rec.replicas.iter() {
                let usable = match rec.state {
                    BlockUcState::Complete | BlockUcState::Committed => rec.is_good(r),
                    _ => !r.corrupt,
                };
                if usable {
                    if let Some(d) = alive(r.datanode) {
                        holders.push((d, storage(r.storage)));
                    }
                }
            }
            if matches!(
                rec.state,
                BlockUcState::UnderConstruction | BlockUcState::UnderRecovery
            ) {
                for &(u, s) in st.blocks.pipeline(block.id) {
                    if let Some(d) = alive(u) {
                        if holders.iter().all(|(h, _)| h.uuid() != d.uuid()) {
                            holders.push((d, storage(s)));
                        }
                    }
                }
            }
            if holders.is_empty() {
                for r in rec.replicas.iter().filter(|r| r.corrupt) {
                    if let Some(d) = alive(r.datanode) {
                        holders.push((d, storage(r.storage)));
                        corrupt = true;
                    }
                }
            }
        }
        let storage_of: HashMap<String, String> = holders
            .iter()
            .map(|(d, s)| (d.uuid().to_string(), s.clone()))
            .collect();
        let mut nodes: Vec<&datanodes::DatanodeDescriptor> =
            holders.iter().map(|(d, _)| *d).collect();
        let reader = placement::Reader {
            ip: client_addr,
            rack: client_rack
                .as_deref()
                .or_else(|| st.rack_of_datanode_at(client_addr)),
        };
        st.placement.sort_by_distance(reader, &mut nodes, block.id);
        // Leaving nodes last, decommissioned after decommissioning (Hadoop's sort puts
        // out-of-service replicas after the in-service ones); the sort is stable.
        nodes.sort_by_key(|d| d.admin_state.read_order());
        pb::LocatedBlockProto {
            b: pb::ExtendedBlockProto {
                pool_id: st.identity.block_pool_id.clone(),
                block_id: block.id,
                generation_stamp: block.gen_stamp,
                num_bytes: Some(block.num_bytes),
            },
            offset,
            locs: nodes.iter().map(|d| d.info()).collect(),
            corrupt,
            block_token: empty_token(),
            is_cached: vec![false; nodes.len()],
            storage_types: nodes
                .iter()
                .map(|d| {
                    let s = &storage_of[d.uuid()];
                    d.storages
                        .get(s)
                        .map_or(pb::StorageTypeProto::Disk as i32, |x| x.storage_type)
                })
                .collect(),
            storage_i_ds: nodes.iter().map(|d| storage_of[d.uuid()].clone()).collect(),
            block_indices: None,
            block_tokens: Vec::new(),
        }
    }

    /// Orders DataNodes nearest to the client first (Hadoop's sortLocatedBlocks):
    /// its own host, then its rack, then the rest; the sort is stable.
    pub fn sort_locations_by_distance(
        &self,
        client_addr: Option<IpAddr>,
        locations: &mut [pb::DatanodeInfoProto],
    ) {
        let cached = self.client_rack(client_addr);
        let st = self.lock();
        let rack = cached
            .as_deref()
            .or_else(|| st.rack_of_datanode_at(client_addr));
        locations.sort_by_key(|d| {
            let ip: Option<IpAddr> = d.id.ip_addr.parse().ok();
            let distance = match (client_addr, ip) {
                (Some(c), Some(n)) if c == n => 0,
                _ if rack.is_some() && d.location.as_deref() == rack => 2,
                _ => 4,
            };
            // Out-of-service nodes after every in-service one.
            (d.admin_state.unwrap_or(0) != 0, distance)
        });
    }

    /// The rack of a client's address if known without running the topology script
    /// (a DataNode's address, a table entry, or the flat default).
    fn client_rack(&self, client_addr: Option<IpAddr>) -> Option<String> {
        self.racks.cached(&client_addr?.to_string())
    }

    /// The rack of `host` as the topology mapping says (runs the script if needed).
    pub fn resolve_rack(&self, host: &str) -> String {
        self.racks.resolve_one(host)
    }

    /// reportBadBlocks (from a client or a DataNode): the named locations of each
    /// block hold corrupt replicas. A good replica is copied first; the bad ones are
    /// deleted once the block has enough good replicas.
    pub fn report_bad_blocks(&self, blocks: &[pb::LocatedBlockProto]) {
        let mut st = self.lock();
        for lb in blocks {
            let id = lb.b.block_id;
            for loc in &lb.locs {
                let Some(uuid) = st.find_datanode(&loc.id) else {
                    continue;
                };
                let Some(dn) = st.names.id(&uuid) else {
                    continue;
                };
                let Some(rec) = st.blocks.get_mut(id) else {
                    continue;
                };
                if let Some(r) = rec.replicas.iter_mut().find(|r| r.datanode == dn) {
                    tracing::info!(block = id, datanode = %uuid, "replica reported corrupt");
                    r.corrupt = true;
                }
            }
            st.check_redundancy(id);
        }
    }

    /// Replica locations of a block as (DataNode UUID, state, corrupt) — for fsck and
    /// tests.
    pub fn replicas(&self, block_id: u64) -> Vec<(String, ReplicaState, bool)> {
        let st = self.lock();
        st.blocks
            .get(block_id)
            .map(|rec| {
                rec.replicas
                    .iter()
                    .map(|r| (st.names.name(r.datanode).to_string(), r.state, r.corrupt))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Checks that a replica is in its DataNode's block set exactly when its block's
    /// record lists it, and that only blocks being written keep a pipeline; the first
    /// break found. O(blocks): for tests.
    pub fn check_replica_index(&self) -> Result<(), String> {
        self.lock().check_replica_index()
    }

    /// The nodes holding good replicas of a block that readers are not sent to: in
    /// maintenance, or dead while entering it (fsck counts them).
    pub fn maintenance_only_locations(&self, block_id: u64) -> Vec<pb::DatanodeInfoProto> {
        let st = self.lock();
        let Some(rec) = st.blocks.get(block_id) else {
            return Vec::new();
        };
        rec.replicas
            .iter()
            .filter(|r| rec.is_good(r))
            .filter_map(|r| st.datanode_of(r.datanode))
            .filter(|d| {
                d.admin_state == datanodes::AdminState::InMaintenance
                    || (d.admin_state.is_maintenance() && !d.alive)
            })
            .map(|d| d.info())
            .collect()
    }

    /// Live good replicas of a block.
    pub fn live_replicas(&self, block_id: u64) -> usize {
        let st = self.lock();
        st.blocks.get(block_id).map_or(0, |rec| st.count(rec).live)
    }

    // ------------------------------------------------------------ reports and stats

    pub fn datanode_report(&self, kind: DatanodeReportKind) -> Vec<pb::DatanodeInfoProto> {
        let st = self.lock();
        reported(&st, kind).map(|d| d.info()).collect()
    }

    /// getDatanodeStorageReport: the same DataNodes as [`Self::datanode_report`],
    /// each with its storages.
    pub fn datanode_storage_report(
        &self,
        kind: DatanodeReportKind,
    ) -> Vec<pb::DatanodeStorageReportProto> {
        let st = self.lock();
        reported(&st, kind).map(|d| d.storage_report()).collect()
    }

    pub fn num_live_datanodes(&self) -> usize {
        self.lock().datanodes.values().filter(|d| d.alive).count()
    }

    pub fn fs_stats(&self) -> FsStats {
        let st = self.lock();
        let mut s = FsStats::default();
        for d in st.datanodes.values() {
            if d.alive {
                s.capacity += d.capacity();
                s.used += d.dfs_used();
                s.remaining += d.remaining();
                s.non_dfs_used += d.non_dfs_used();
                s.total_load += u64::from(d.xceiver_count);
                s.live_datanodes += 1;
            } else {
                s.dead_datanodes += 1;
            }
            s.pending_deletion_blocks += d.invalidate.len() as u64;
            match (d.admin_state, d.alive) {
                (datanodes::AdminState::DecommissionInProgress, true) => {
                    s.decommissioning_live += 1
                }
                (datanodes::AdminState::DecommissionInProgress, false) => {
                    s.decommissioning_dead += 1
                }
                (datanodes::AdminState::Decommissioned, true) => s.decommissioned_live += 1,
                (datanodes::AdminState::Decommissioned, false) => s.decommissioned_dead += 1,
                (datanodes::AdminState::EnteringMaintenance, true) => s.entering_maintenance += 1,
                (datanodes::AdminState::InMaintenance, true) => s.in_maintenance_live += 1,
                (
                    datanodes::AdminState::InMaintenance
                    | datanodes::AdminState::EnteringMaintenance,
                    false,
                ) => s.in_maintenance_dead += 1,
                _ => {}
            }
        }
        s.blocks_total = st.blocks.len() as u64;
        s.under_replicated = st.needed.low_redundancy_count() as u64;
        s.corrupt_blocks = st.corrupt_blocks.len() as u64;
        s.badly_distributed =
            st.needed
                .len_at(low_redundancy::QUEUE_REPLICAS_BADLY_DISTRIBUTED) as u64;
        s.missing_blocks = st.needed.len_at(QUEUE_WITH_CORRUPT_BLOCKS) as u64;
        s.missing_repl_one_blocks = st
            .blocks
            .iter()
            .filter(|(id, r)| {
                r.replication == 1 && st.needed.level_of(**id) == Some(QUEUE_WITH_CORRUPT_BLOCKS)
            })
            .count() as u64;
        s
    }

    /// Blocks waiting in the highest-priority queue (one live replica left).
    pub fn highest_priority_blocks(&self) -> usize {
        self.lock().needed.len_at(QUEUE_HIGHEST_PRIORITY)
    }

    // ------------------------------------------------------------ safe mode

    /// Startup safe mode as of now (moving it forward first). The write path refuses
    /// changes while `on`, with "Name node is in safe mode.\n" + [`SafeModeStatus::tip`].
    pub fn safe_mode_status(&self) -> SafeModeStatus {
        let now = self.now();
        self.lock().refresh_safe_mode(now)
    }

    /// `dfsadmin -safemode leave`: leaves startup safe mode for good.
    pub fn leave_safe_mode(&self) {
        let mut st = self.lock();
        if st.safe_mode != SafeModePhase::Off {
            st.safe_mode = SafeModePhase::Off;
            tracing::info!("startup safe mode left by an operator");
            st.after_leaving_safe_mode();
        }
    }
}

/// The DataNodes a report of `kind` lists, in transfer-address order.
fn reported(
    st: &State,
    kind: DatanodeReportKind,
) -> impl Iterator<Item = &datanodes::DatanodeDescriptor> {
    let mut v: Vec<&datanodes::DatanodeDescriptor> = st
        .datanodes
        .values()
        .filter(|d| match kind {
            DatanodeReportKind::All => true,
            DatanodeReportKind::Live => d.alive,
            DatanodeReportKind::Dead => !d.alive,
            DatanodeReportKind::Decommissioning => {
                d.admin_state == datanodes::AdminState::DecommissionInProgress
            }
            DatanodeReportKind::EnteringMaintenance => {
                d.admin_state == datanodes::AdminState::EnteringMaintenance
            }
            DatanodeReportKind::InMaintenance => {
                d.admin_state == datanodes::AdminState::InMaintenance
            }
        })
        .collect();
    v.sort_by_key(|d| d.xfer_addr());
    v.into_iter()
}

impl State {
    /// A pipeline's (DataNode UUID, storage id) pairs as interned names; a pair whose
    /// name does not fit in the full name table is left out (it is only a hint of
    /// where the block is being written).
    fn intern_pipeline<'a>(
        &mut self,
        targets: impl Iterator<Item = (&'a str, &'a str)>,
    ) -> Vec<(names::NameId, names::NameId)> {
        targets
            .filter_map(|(d, s)| Some((self.names.intern(d)?, self.names.intern(s)?)))
            .collect()
    }

    fn after_leaving_safe_mode_if_off(&mut self) {
        if self.safe_mode == SafeModePhase::Off {
            self.after_leaving_safe_mode();
        }
    }

    /// A DataNode named by a client (UUID, else transfer address).
    fn find_datanode(&self, id: &pb::DatanodeIdProto) -> Option<String> {
        if self.datanodes.contains_key(&id.datanode_uuid) {
            return Some(id.datanode_uuid.clone());
        }
        self.by_xfer_addr.get(&datanodes::xfer_addr(id)).cloned()
    }

    fn resolve_excluded(&self, excluded: &[pb::DatanodeInfoProto]) -> HashSet<String> {
        excluded
            .iter()
            .filter_map(|d| self.find_datanode(&d.id))
            .collect()
    }

    /// Favored nodes come as "host:port" (transfer address, by IP or host name).
    fn resolve_favored(&self, favored: &[String]) -> Vec<String> {
        favored
            .iter()
            .filter_map(|f| {
                self.by_xfer_addr.get(f).cloned().or_else(|| {
                    self.datanodes
                        .values()
                        .find(|d| format!("{}:{}", d.id.host_name, d.id.xfer_port) == *f)
                        .map(|d| d.uuid().to_string())
                })
            })
            .collect()
    }

    /// Each chosen DataNode with the storage to write on: the roomiest of the type it
    /// was chosen for, else the roomiest of any type.
    fn targets(&self, chosen: &[(String, Option<i32>)], block_size: u64) -> Vec<DatanodeTarget> {
        chosen
            .iter()
            .filter_map(|(u, t)| Some((self.datanodes.get(u)?, *t)))
            .map(|(d, t)| {
                let (sid, stype) = t
                    .and_then(|t| d.best_storage_of(t, block_size))
                    .or_else(|| d.best_storage(block_size))
                    .map(|(id, s)| (id.clone(), s.storage_type))
                    .unwrap_or_else(|| (d.any_storage(), pb::StorageTypeProto::Disk as i32));
                DatanodeTarget {
                    info: d.info(),
                    storage_uuid: sid,
                    storage_type: stype,
                }
            })
            .collect()
    }
}
