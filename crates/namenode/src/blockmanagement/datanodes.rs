//! What the NameNode knows about each DataNode (Hadoop's DatanodeDescriptor): identity,
//! storages, usage from its last heartbeat, liveness, the replicas it holds, and the
//! work waiting for its next heartbeat.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::time::Instant;

use hafs_proto::hdfs as pb;
use hafs_proto::hdfs::datanode as dpb;

/// One storage (volume) of a DataNode.
#[derive(Debug, Clone, Default)]
pub struct StorageStats {
    pub storage_type: i32,
    pub failed: bool,
    pub capacity: u64,
    pub dfs_used: u64,
    pub remaining: u64,
    pub non_dfs_used: u64,
    /// This block pool's share of `dfs_used` (the balancer's measure of usage).
    pub block_pool_used: u64,
    /// The mount point of the volume, when the DataNode names it.
    pub mount: Option<String>,
}

/// A copy a DataNode was told to make: the block and where to send it.
#[derive(Debug, Clone)]
pub struct Transfer {
    pub block: pb::BlockProto,
    pub targets: Vec<pb::DatanodeInfoProto>,
    pub target_storages: Vec<String>,
    /// The storage type of each target's storage.
    pub target_storage_types: Vec<i32>,
}

/// A DataNode's administrative state (Hadoop's DatanodeInfo.AdminStates), set by the
/// host lists and the admin monitor (decommission.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AdminState {
    #[default]
    Normal,
    /// In the exclude file: its replicas are being copied elsewhere; it takes no new
    /// replicas but still serves reads.
    DecommissionInProgress,
    /// Every block it held has enough replicas elsewhere (and no open file keeps it).
    Decommissioned,
    /// Asked to go into maintenance (a short absence, e.g. a reboot or an upgrade):
    /// it takes no new replicas, and waits until every block it holds has
    /// `dfs.namenode.maintenance.replication.min` live replicas elsewhere.
    EnteringMaintenance,
    /// In maintenance until its expiry: it may be stopped without its replicas being
    /// re-created elsewhere (they count as maintenance replicas); reads avoid it.
    InMaintenance,
}

impl AdminState {
    pub fn to_proto(self) -> pb::datanode_info_proto::AdminState {
        use pb::datanode_info_proto::AdminState as P;
        match self {
            AdminState::Normal => P::Normal,
            AdminState::DecommissionInProgress => P::DecommissionInprogress,
            AdminState::Decommissioned => P::Decommissioned,
            AdminState::EnteringMaintenance => P::EnteringMaintenance,
            AdminState::InMaintenance => P::InMaintenance,
        }
    }

    /// Entering or in maintenance (Hadoop's isMaintenance).
    pub fn is_maintenance(self) -> bool {
        matches!(
            self,
            AdminState::EnteringMaintenance | AdminState::InMaintenance
        )
    }

    /// Decommissioning or decommissioned.
    pub fn is_decommission(self) -> bool {
        matches!(
            self,
            AdminState::DecommissionInProgress | AdminState::Decommissioned
        )
    }

    /// Where a replica on a node in this state goes in a reader's list: in-service
    /// nodes first, then nodes still on their way out, then those gone out.
    pub fn read_order(self) -> u8 {
        match self {
            AdminState::Normal => 0,
            AdminState::DecommissionInProgress | AdminState::EnteringMaintenance => 1,
            AdminState::Decommissioned | AdminState::InMaintenance => 2,
        }
    }

    /// Whether the node takes new replicas and its replicas count toward a block's
    /// replication (Hadoop's isInService).
    pub fn is_in_service(self) -> bool {
        self == AdminState::Normal
    }
}

#[derive(Debug)]
pub struct DatanodeDescriptor {
    pub id: pb::DatanodeIdProto,
    /// The rack (network location, `/rack1`), resolved at registration.
    pub location: String,
    pub software_version: String,
    pub storages: HashMap<String, StorageStats>,
    pub xceiver_count: u32,
    pub xmits_in_progress: u32,
    pub failed_volumes: u32,
    /// Monotonic time of the last heartbeat (or registration).
    pub last_update: Instant,
    /// Wall-clock ms of the last heartbeat, for reports.
    pub last_update_ms: u64,
    pub alive: bool,
    /// Ids of the blocks with a replica here (any state).
    pub blocks: HashSet<u64>,
    pub block_report_count: u64,
    pub last_block_report_ms: u64,
    // Work for the next heartbeat, each bounded by max_queued_per_datanode.
    pub transfers: VecDeque<Transfer>,
    /// Replicas to delete: block id → the replica's own generation stamp and length.
    pub invalidate: BTreeMap<u64, pb::BlockProto>,
    pub recoveries: VecDeque<dpb::RecoveringBlockProto>,
    /// A balancer bandwidth (bytes/s) for the next heartbeat's reply.
    pub balancer_bandwidth: Option<u64>,
    pub admin_state: AdminState,
    /// When maintenance ends, ms since the epoch (Hadoop's maintenanceExpireTimeInMS);
    /// meaningful while the node is entering or in maintenance.
    pub maintenance_expire_ms: u64,
    /// Not in a non-empty include file since the last refresh: its next heartbeat is
    /// refused (Hadoop's isDisallowed).
    pub disallowed: bool,
}

impl DatanodeDescriptor {
    pub fn new(id: pb::DatanodeIdProto, software_version: String, now: Instant) -> Self {
        DatanodeDescriptor {
            id,
            location: super::topology::DEFAULT_RACK.to_string(),
            software_version,
            storages: HashMap::new(),
            xceiver_count: 0,
            xmits_in_progress: 0,
            failed_volumes: 0,
            last_update: now,
            last_update_ms: now_ms(),
            alive: true,
            blocks: HashSet::new(),
            block_report_count: 0,
            last_block_report_ms: 0,
            transfers: VecDeque::new(),
            invalidate: BTreeMap::new(),
            recoveries: VecDeque::new(),
            balancer_bandwidth: None,
            admin_state: AdminState::Normal,
            maintenance_expire_ms: 0,
            disallowed: false,
        }
    }

    pub fn uuid(&self) -> &str {
        &self.id.datanode_uuid
    }

    /// "ip:xferPort", Hadoop's DatanodeID.getXferAddr.
    pub fn xfer_addr(&self) -> String {
        xfer_addr(&self.id)
    }

    pub fn ip(&self) -> Option<IpAddr> {
        self.id.ip_addr.parse().ok()
    }

    pub fn capacity(&self) -> u64 {
        self.live_storages().map(|s| s.capacity).sum()
    }
    pub fn dfs_used(&self) -> u64 {
        self.live_storages().map(|s| s.dfs_used).sum()
    }
    pub fn remaining(&self) -> u64 {
        self.live_storages().map(|s| s.remaining).sum()
    }
    pub fn non_dfs_used(&self) -> u64 {
        self.live_storages().map(|s| s.non_dfs_used).sum()
    }
    fn live_storages(&self) -> impl Iterator<Item = &StorageStats> {
        self.storages.values().filter(|s| !s.failed)
    }

    /// The storage a new replica should go to: the one with most room.
    pub fn best_storage(&self, block_size: u64) -> Option<(&String, &StorageStats)> {
        self.storages
            .iter()
            .filter(|(_, s)| !s.failed && s.remaining >= block_size)
            .max_by(|a, b| a.1.remaining.cmp(&b.1.remaining).then(b.0.cmp(a.0)))
    }

    /// As [`DatanodeDescriptor::best_storage`] among the storages of one type.
    pub fn best_storage_of(
        &self,
        storage_type: i32,
        block_size: u64,
    ) -> Option<(&String, &StorageStats)> {
        self.storages
            .iter()
            .filter(|(_, s)| s.storage_type == storage_type)
            .filter(|(_, s)| !s.failed && s.remaining >= block_size)
            .max_by(|a, b| a.1.remaining.cmp(&b.1.remaining).then(b.0.cmp(a.0)))
    }

    /// The storage to name for a replica when none is known (the first one).
    pub fn any_storage(&self) -> String {
        let mut ids: Vec<&String> = self.storages.keys().collect();
        ids.sort();
        ids.first().map(|s| s.to_string()).unwrap_or_default()
    }

    /// This node as clients and other DataNodes see it.
    pub fn info(&self) -> pb::DatanodeInfoProto {
        pb::DatanodeInfoProto {
            id: self.id.clone(),
            capacity: Some(self.capacity()),
            dfs_used: Some(self.dfs_used()),
            remaining: Some(self.remaining()),
            block_pool_used: Some(self.dfs_used()),
            last_update: Some(self.last_update_ms),
            xceiver_count: Some(self.xceiver_count),
            location: Some(self.location.clone()),
            non_dfs_used: Some(self.non_dfs_used()),
            admin_state: Some(self.admin_state.to_proto() as i32),
            cache_capacity: Some(0),
            cache_used: Some(0),
            last_update_monotonic: Some(self.last_update_ms),
            upgrade_domain: None,
            last_block_report_time: Some(self.last_block_report_ms),
            last_block_report_monotonic: Some(self.last_block_report_ms),
            num_blocks: Some(u32::try_from(self.blocks.len()).unwrap_or(u32::MAX)),
        }
    }

    /// This node and its storages, for getDatanodeStorageReport (the balancer sizes
    /// its moves per storage). Storages are sorted by id so reports are stable.
    pub fn storage_report(&self) -> pb::DatanodeStorageReportProto {
        let mut ids: Vec<&String> = self.storages.keys().collect();
        ids.sort();
        let storage_reports = ids
            .into_iter()
            .map(|id| {
                let s = &self.storages[id];
                #[allow(deprecated)] // still required on the wire
                pb::StorageReportProto {
                    storage_uuid: id.clone(),
                    failed: Some(s.failed),
                    capacity: Some(s.capacity),
                    dfs_used: Some(s.dfs_used),
                    remaining: Some(s.remaining),
                    block_pool_used: Some(s.block_pool_used),
                    storage: Some(pb::DatanodeStorageProto {
                        storage_uuid: id.clone(),
                        state: Some(pb::datanode_storage_proto::StorageState::Normal as i32),
                        storage_type: Some(s.storage_type),
                    }),
                    non_dfs_used: Some(s.non_dfs_used),
                    mount: s.mount.clone(),
                }
            })
            .collect();
        pb::DatanodeStorageReportProto {
            datanode_info: self.info(),
            storage_reports,
        }
    }

    /// Forgets queued work (the node died or re-registered).
    pub fn clear_work(&mut self) {
        self.transfers.clear();
        self.invalidate.clear();
        self.recoveries.clear();
    }
}

pub fn xfer_addr(id: &pb::DatanodeIdProto) -> String {
    format!("{}:{}", id.ip_addr, id.xfer_port)
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
