//! DataNodes joining and talking (Hadoop's DatanodeManager + the report processing of
//! BlockManager): registration, heartbeats and the commands their replies carry, full
//! and incremental block reports, error reports.

use std::collections::HashSet;
use std::net::IpAddr;

use hafs_proto::block_list::ReportedReplica;
use hafs_proto::hdfs as pb;
use hafs_proto::hdfs::datanode as dpb;
use tracing::{debug, info, warn};

use super::blocks_map::{BlockUcState, Replica, ReplicaState};
use super::datanodes::{now_ms, xfer_addr, DatanodeDescriptor, StorageStats};
use super::error::BlockManagerError;
use super::safe_mode::SafeModePhase;
use super::state::State;
use super::BlockManager;

/// The software version hafs DataNodes and NameNodes report.
pub const SOFTWARE_VERSION: &str = hafs_proto::HADOOP_VERSION;

/// One storage's replicas in a full block report, decoded from the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageReport {
    pub storage_uuid: String,
    pub replicas: Vec<ReportedReplica>,
}

use dpb::block_command_proto::Action;
use dpb::datanode_command_proto::Type as CmdType;
use dpb::received_deleted_block_info_proto::BlockStatus;

pub fn register_command() -> dpb::DatanodeCommandProto {
    dpb::DatanodeCommandProto {
        cmd_type: CmdType::RegisterCommand as i32,
        register_cmd: Some(dpb::RegisterCommandProto {}),
        ..Default::default()
    }
}

impl BlockManager {
    /// versionRequest: the namespace a DataNode must join.
    pub fn namespace_info(
        &self,
        ha_state: dpb::nnha_status_heartbeat_proto::State,
    ) -> dpb::NamespaceInfoProto {
        let st = self.lock();
        let id = &st.identity;
        dpb::NamespaceInfoProto {
            build_version: env!("CARGO_PKG_VERSION").to_string(),
            unused: 0,
            block_pool_id: id.block_pool_id.clone(),
            storage_info: dpb::StorageInfoProto {
                layout_version: id.layout_version as u32,
                namespce_id: id.namespace_id,
                cluster_id: id.cluster_id.clone(),
                c_time: id.ctime.max(0) as u64,
            },
            software_version: SOFTWARE_VERSION.to_string(),
            capabilities: Some(0),
            state: Some(ha_state as i32),
        }
    }

    /// registerDatanode: checks the cluster, assigns a UUID if the DataNode has none,
    /// takes the IP address from the connection (as Hadoop does), and replaces an
    /// older registration at the same transfer address. Returns the registration as
    /// accepted.
    pub fn register_datanode(
        &self,
        reg: &dpb::DatanodeRegistrationProto,
        peer_ip: Option<IpAddr>,
    ) -> Result<dpb::DatanodeRegistrationProto, BlockManagerError> {
        // The rack, by IP address as Hadoop's cached mappings resolve it; before the
        // lock, since a topology script may take a while (its answer is cached).
        let ip_for_rack = peer_ip
            .map(|ip| ip.to_string())
            .unwrap_or_else(|| reg.datanode_id.ip_addr.clone());
        let location = if ip_for_rack.len() <= 256 {
            self.racks.resolve_one(&ip_for_rack)
        } else {
            super::topology::DEFAULT_RACK.to_string()
        };
        self.register_datanode_on_rack(reg, peer_ip, location)
    }

    /// [`BlockManager::register_datanode`] with the rack already resolved (the RPC
    /// handler runs the topology mapping on a blocking thread first).
    pub fn register_datanode_on_rack(
        &self,
        reg: &dpb::DatanodeRegistrationProto,
        peer_ip: Option<IpAddr>,
        location: String,
    ) -> Result<dpb::DatanodeRegistrationProto, BlockManagerError> {
        let mut st = self.lock();
        let ours = &st.identity;
        let theirs = &reg.storage_info;
        if theirs.cluster_id != ours.cluster_id {
            return Err(BlockManagerError::IncorrectVersion(format!(
                "Incompatible clusterIDs: namenode clusterID = {}; datanode clusterID = {}",
                ours.cluster_id, theirs.cluster_id
            )));
        }
        if theirs.namespce_id != 0 && theirs.namespce_id != ours.namespace_id {
            return Err(BlockManagerError::IncorrectVersion(format!(
                "Incompatible namespaceIDs: namenode namespaceID = {}; datanode namespaceID = {}",
                ours.namespace_id, theirs.namespce_id
            )));
        }
        let mut id = reg.datanode_id.clone();
        if id.xfer_port == 0 || id.xfer_port > 65535 {
            return Err(BlockManagerError::Disallowed(format!(
                "Datanode denied communication with namenode: bad transfer port {}",
                id.xfer_port
            )));
        }
        if id.datanode_uuid.len() > 128 || id.host_name.len() > 1024 {
            return Err(BlockManagerError::Disallowed(
                "Datanode denied communication with namenode: oversized identity".into(),
            ));
        }
        if let Some(ip) = peer_ip {
            id.ip_addr = ip.to_string();
        }
        Self::check_included(
            &st,
            id.ip_addr.parse().ok(),
            id.xfer_port,
            &format!("DatanodeRegistration({}:{})", id.ip_addr, id.xfer_port),
        )?;
        if id.host_name.is_empty() {
            id.host_name = id.ip_addr.clone();
        }
        if id.datanode_uuid.is_empty() {
            id.datanode_uuid = hafs_util::uuid::new_v4();
        }
        let uuid = id.datanode_uuid.clone();
        let addr = xfer_addr(&id);
        if let Some(old) = st.by_xfer_addr.get(&addr).cloned() {
            if old != uuid {
                info!(%addr, old = %old, new = %uuid, "DataNode re-registered with a new UUID; replacing");
                st.remove_blocks_of(&old);
                st.datanodes.remove(&old);
            }
        }
        let now = self.now();
        match st.datanodes.get_mut(&uuid) {
            Some(dn) => {
                let old_addr = dn.xfer_addr();
                dn.id = id.clone();
                dn.location = location.clone();
                dn.software_version = reg.software_version.clone();
                dn.last_update = now;
                dn.last_update_ms = now_ms();
                if !dn.alive {
                    info!(%uuid, %addr, "dead DataNode registered again");
                    dn.alive = true;
                }
                if old_addr != addr {
                    st.by_xfer_addr.remove(&old_addr);
                }
            }
            None => {
                info!(%uuid, %addr, rack = %location, "registered DataNode");
                let mut dn = DatanodeDescriptor::new(id.clone(), reg.software_version.clone(), now);
                dn.location = location;
                st.datanodes.insert(uuid.clone(), dn);
            }
        }
        st.by_xfer_addr.insert(addr, uuid.clone());
        st.refresh_racks();
        // An excluded node starts (or stays) decommissioning as it registers.
        st.apply_host_lists(&uuid);
        let mut out = reg.clone();
        out.datanode_id = id;
        Ok(out)
    }

    /// sendHeartbeat: records usage and liveness; answers the work queued for this
    /// DataNode when `active` (the HA state the reply claims: a Standby's replies carry
    /// no commands). A DataNode the NameNode does not know, or declared dead, is told
    /// to register again.
    ///
    /// `active` only gates the reply. The block manager's own Active flag is set by
    /// [`BlockManager::set_active`] alone: a handler that read the HA state just before
    /// a transition must not flip it back afterwards.
    pub fn handle_heartbeat(
        &self,
        hb: &dpb::HeartbeatRequestProto,
        active: bool,
    ) -> Vec<dpb::DatanodeCommandProto> {
        let mut st = self.lock();
        let uuid = &hb.registration.datanode_id.datanode_uuid;
        let bpid = st.identity.block_pool_id.clone();
        let (max_streams, inval_limit) = (
            st.config.replication_streams_hard_limit as usize,
            st.config.invalidate_limit,
        );
        let safe = st.safe_mode != SafeModePhase::Off;
        // A storage newly reported failed loses its replicas (Hadoop's
        // checkFailedStorages), so they are re-replicated from the other copies.
        #[allow(deprecated)] // the old field, for DataNodes that send only it
        let newly_failed: Vec<String> = match st.datanodes.get(uuid).filter(|d| d.alive) {
            Some(dn) => hb
                .reports
                .iter()
                .take(4096)
                .filter(|r| r.failed == Some(true))
                .map(|r| {
                    r.storage
                        .as_ref()
                        .map(|s| s.storage_uuid.clone())
                        .unwrap_or_else(|| r.storage_uuid.clone())
                })
                .filter(|sid| !dn.storages.get(sid).is_some_and(|s| s.failed))
                .collect(),
            None => Vec::new(),
        };
        for sid in &newly_failed {
            warn!(datanode = %uuid, storage = %sid, "storage failed; its replicas are gone");
            st.remove_replicas_on_storage(uuid, sid);
        }
        let Some(dn) = st.datanodes.get_mut(uuid).filter(|d| d.alive) else {
            return vec![register_command()];
        };
        dn.last_update = self.now();
        dn.last_update_ms = now_ms();
        dn.xceiver_count = hb.xceiver_count.unwrap_or(0);
        dn.xmits_in_progress = hb.xmits_in_progress.unwrap_or(0);
        dn.failed_volumes = hb.failed_volumes.unwrap_or(0);
        for r in hb.reports.iter().take(4096) {
            #[allow(deprecated)] // the old field, for DataNodes that send only it
            let sid = r
                .storage
                .as_ref()
                .map(|s| s.storage_uuid.clone())
                .unwrap_or_else(|| r.storage_uuid.clone());
            let capacity = r.capacity.unwrap_or(0);
            let dfs_used = r.dfs_used.unwrap_or(0);
            let remaining = r.remaining.unwrap_or(0);
            dn.storages.insert(
                sid,
                StorageStats {
                    storage_type: r
                        .storage
                        .as_ref()
                        .and_then(|s| s.storage_type)
                        .unwrap_or(pb::StorageTypeProto::Disk as i32),
                    failed: r.failed.unwrap_or(false),
                    capacity,
                    dfs_used,
                    remaining,
                    non_dfs_used: r.non_dfs_used.unwrap_or_else(|| {
                        capacity.saturating_sub(dfs_used).saturating_sub(remaining)
                    }),
                    block_pool_used: r.block_pool_used.unwrap_or(dfs_used),
                    // Bounded: a path, not a payload.
                    mount: r.mount.as_ref().filter(|m| m.len() <= 4096).cloned(),
                },
            );
        }
        if !active {
            return Vec::new();
        }
        let mut cmds = Vec::new();
        cmds.extend(super::balancing::bandwidth_command(dn));
        if !dn.recoveries.is_empty() {
            cmds.push(dpb::DatanodeCommandProto {
                cmd_type: CmdType::BlockRecoveryCommand as i32,
                recovery_cmd: Some(dpb::BlockRecoveryCommandProto {
                    blocks: dn.recoveries.drain(..).collect(),
                }),
                ..Default::default()
            });
        }
        if safe {
            return cmds;
        }
        if !dn.transfers.is_empty() {
            let n = dn.transfers.len().min(max_streams.max(1));
            let mut blk = dpb::BlockCommandProto {
                action: Action::Transfer as i32,
                block_pool_id: bpid.clone(),
                ..Default::default()
            };
            for t in dn.transfers.drain(..n) {
                blk.blocks.push(t.block);
                blk.targets.push(pb::DatanodeInfosProto {
                    datanodes: t.targets,
                });
                blk.target_storage_uuids.push(dpb::StorageUuidsProto {
                    storage_uuids: t.target_storages,
                });
                blk.target_storage_types.push(pb::StorageTypesProto {
                    storage_types: t.target_storage_types,
                });
            }
            cmds.push(dpb::DatanodeCommandProto {
                cmd_type: CmdType::BlockCommand as i32,
                blk_cmd: Some(blk),
                ..Default::default()
            });
        }
        if !dn.invalidate.is_empty() {
            let ids: Vec<u64> = dn.invalidate.keys().take(inval_limit).copied().collect();
            let blocks: Vec<pb::BlockProto> = ids
                .iter()
                .filter_map(|id| dn.invalidate.remove(id))
                .collect();
            cmds.push(dpb::DatanodeCommandProto {
                cmd_type: CmdType::BlockCommand as i32,
                blk_cmd: Some(dpb::BlockCommandProto {
                    action: Action::Invalidate as i32,
                    block_pool_id: bpid,
                    blocks,
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        cmds
    }

    /// blockReport (full): per storage, the reported replicas are reconciled with the
    /// blocks map — new ones added (or found corrupt), missing ones removed, replicas of
    /// blocks no file owns deleted (when Active, as [`BlockManager::set_active`] last
    /// said; a Standby keeps reports of blocks it has not read about yet).
    pub fn process_block_report(
        &self,
        registration: &dpb::DatanodeRegistrationProto,
        block_pool_id: &str,
        reports: &[StorageReport],
    ) -> Result<(), BlockManagerError> {
        let mut st = self.lock();
        let uuid = st.check_reporter(registration, block_pool_id)?;
        let now = self.now();
        for report in reports {
            let storage = report.storage_uuid.clone();
            let mut seen: HashSet<u64> = HashSet::with_capacity(report.replicas.len());
            for b in &report.replicas {
                seen.insert(b.block_id);
                st.process_reported_replica(
                    &uuid,
                    &storage,
                    b.block_id,
                    b.gen_stamp,
                    b.num_bytes,
                    ReplicaState::from_proto(b.state as i32),
                );
            }
            // Replicas this storage had but no longer reports are gone.
            let gone: Vec<u64> = st.datanodes[&uuid]
                .blocks
                .iter()
                .copied()
                .filter(|id| !seen.contains(id))
                .filter(|id| {
                    let (Some(dn), sid) = (st.names.id(&uuid), st.names.id(&storage)) else {
                        return false;
                    };
                    let unknown = st.names.id("");
                    st.blocks.get(*id).is_some_and(|rec| {
                        rec.replica_on(dn)
                            .is_some_and(|r| Some(r.storage) == sid || Some(r.storage) == unknown)
                    })
                })
                .collect();
            for id in gone {
                st.remove_replica(id, &uuid);
                st.check_redundancy(id);
            }
        }
        if let Some(dn) = st.datanodes.get_mut(&uuid) {
            dn.block_report_count += 1;
            dn.last_block_report_ms = now_ms();
        }
        st.refresh_safe_mode(now);
        Ok(())
    }

    /// blockReceivedAndDeleted (incremental): replicas being received, received
    /// (finalized) and deleted since the last report.
    pub fn process_incremental_block_report(
        &self,
        req: &dpb::BlockReceivedAndDeletedRequestProto,
    ) -> Result<(), BlockManagerError> {
        let mut st = self.lock();
        let uuid = st.check_reporter(&req.registration, &req.block_pool_id)?;
        for s in &req.blocks {
            #[allow(deprecated)] // the old field, for DataNodes that send only it
            let storage = s
                .storage
                .as_ref()
                .map(|x| x.storage_uuid.clone())
                .unwrap_or_else(|| s.storage_uuid.clone());
            for b in &s.blocks {
                let len = b.block.num_bytes.unwrap_or(0);
                match BlockStatus::try_from(b.status) {
                    Ok(BlockStatus::Receiving) => st.process_reported_replica(
                        &uuid,
                        &storage,
                        b.block.block_id,
                        b.block.gen_stamp,
                        len,
                        ReplicaState::Rbw,
                    ),
                    Ok(BlockStatus::Received) => {
                        // A balancer move names the replica it replaces.
                        st.del_hint = b
                            .delete_hint
                            .as_ref()
                            .filter(|h| !h.is_empty())
                            .map(|h| (b.block.block_id, h.clone()));
                        st.process_reported_replica(
                            &uuid,
                            &storage,
                            b.block.block_id,
                            b.block.gen_stamp,
                            len,
                            ReplicaState::Finalized,
                        );
                        st.del_hint = None;
                    }
                    Ok(BlockStatus::Deleted) => {
                        st.dn_messages.remove(b.block.block_id, &uuid);
                        st.remove_replica(b.block.block_id, &uuid);
                        st.check_redundancy(b.block.block_id);
                    }
                    Err(_) => {
                        warn!(datanode = %uuid, status = b.status, "unknown block status in incremental report")
                    }
                }
            }
        }
        st.refresh_safe_mode(self.now());
        Ok(())
    }

    /// errorReport: logged; a DataNode with no usable volume left is treated as dead.
    pub fn error_report(&self, req: &dpb::ErrorReportRequestProto) {
        use dpb::error_report_request_proto::ErrorCode;
        let uuid = &req.registartion.datanode_id.datanode_uuid;
        let msg: String = req.msg.chars().take(4096).collect();
        warn!(datanode = %uuid, code = req.error_code, "DataNode error report: {msg}");
        if req.error_code == ErrorCode::FatalDiskError as u32 {
            let mut st = self.lock();
            if let Some(dn) = st.datanodes.get_mut(uuid) {
                dn.alive = false;
            }
            st.remove_blocks_of(uuid);
        }
    }
}

impl State {
    /// A report must come from a registered, live DataNode of our block pool.
    fn check_reporter(
        &self,
        reg: &dpb::DatanodeRegistrationProto,
        bpid: &str,
    ) -> Result<String, BlockManagerError> {
        let uuid = &reg.datanode_id.datanode_uuid;
        if !self.is_alive(uuid) {
            return Err(BlockManagerError::UnregisteredNode(uuid.clone()));
        }
        if bpid != self.identity.block_pool_id {
            return Err(BlockManagerError::IncorrectVersion(format!(
                "block pool {bpid} is not this NameNode's ({})",
                self.identity.block_pool_id
            )));
        }
        Ok(uuid.clone())
    }

    /// One replica as a DataNode reports it (Hadoop's processReportedBlock).
    pub(super) fn process_reported_replica(
        &mut self,
        uuid: &str,
        storage: &str,
        block_id: u64,
        gen_stamp: u64,
        num_bytes: u64,
        state: ReplicaState,
    ) {
        let queue = |st: &mut State| {
            let r = super::pending_messages::ReportedReplica {
                datanode: uuid.to_string(),
                storage: storage.to_string(),
                block_id,
                gen_stamp,
                num_bytes,
                state,
            };
            if !st.dn_messages.enqueue(r) {
                debug!(block_id, "pending DataNode messages full: report dropped");
            }
        };
        let Some(rec) = self.blocks.get(block_id) else {
            // No file owns this block. Only an Active NameNode deletes it: a Standby
            // may not have read the edit that created it yet, so it keeps the report
            // for when it has.
            if !self.active {
                queue(self);
                return;
            }
            if self.active && self.safe_mode == SafeModePhase::Off {
                self.queue_invalidate(
                    uuid,
                    pb::BlockProto {
                        block_id,
                        gen_stamp,
                        num_bytes: Some(num_bytes),
                    },
                );
            }
            return;
        };
        if !self.active && gen_stamp > rec.gen_stamp {
            // A Standby behind the edit that moved the generation stamp on.
            queue(self);
            return;
        }
        let corrupt = rec.reported_replica_is_corrupt(state, gen_stamp, num_bytes);
        if !corrupt && state != ReplicaState::Finalized && rec.state == BlockUcState::Complete {
            // Being finalized or recovered; it counts once reported finalized.
            return;
        }
        if corrupt {
            info!(
                block_id,
                datanode = uuid,
                gen_stamp,
                num_bytes,
                "reported replica is corrupt"
            );
        }
        let (Some(datanode), Some(storage)) = (self.names.intern(uuid), self.names.intern(storage))
        else {
            warn!(
                block_id,
                datanode = uuid,
                "DataNode and storage name table full: replica not recorded"
            );
            return;
        };
        self.set_replica(
            block_id,
            Replica {
                datanode,
                storage,
                state,
                corrupt,
                gen_stamp,
                num_bytes,
            },
        );
        if state == ReplicaState::Finalized {
            if let Some(p) = self.pending.get_mut(&block_id) {
                p.targets.retain(|t| t != uuid);
                if p.targets.is_empty() {
                    self.pending.remove(&block_id);
                }
            }
            self.try_complete(block_id);
        }
        self.check_redundancy(block_id);
    }
}
