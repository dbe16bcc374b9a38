//! Decommissioning and maintenance (Hadoop's DatanodeAdminManager and its default
//! monitor): the host lists applied to the DataNodes, and the one monitor that turns a
//! node "Decommission In Progress" into "Decommissioned", or "Entering Maintenance"
//! into "In Maintenance", once nothing depends on it, and ends maintenance at its
//! expiry.
//!
//! Maintenance differs from decommissioning in what "nothing depends on it" means:
//! a block needs only `dfs.namenode.maintenance.replication.min` live replicas
//! elsewhere (its other replicas in maintenance are expected back), and once in
//! maintenance the node may be stopped without its replicas being re-created. When
//! maintenance ends (expiry, or the node dropped from the file and refreshed) a node
//! that is still dead loses its replicas like any dead node, and they are re-created.
//!
//! A node is done when every block it holds has enough live replicas on in-service
//! nodes (its own replica no longer counts) and no file with a block on it is still
//! open for writing. The monitor runs on every NameNode, Active or Standby: both read
//! the same host files and hear the same block reports, so after a failover the new
//! Active carries on where the old one was. Only the Active schedules the copies (the
//! redundancy monitor); the decommission monitor just puts the node's blocks in the
//! low-redundancy queues and judges.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

use tracing::{info, warn};

use super::blocks_map::BlockUcState;
use super::datanodes::AdminState;
use super::error::BlockManagerError;
use super::host_file::HostLists;
use super::state::State;
use super::BlockManager;

/// What one of a leaving node's blocks says about the node's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeavingBlock {
    /// Good replicas on alive in-service nodes.
    pub live: usize,
    /// Live replicas the block needs: the file's replication, less for replicas in
    /// maintenance (state.rs's expected_live).
    pub expected: usize,
}

/// Why a block keeps its node in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Nothing: the block is safe without the node.
    None,
    /// Too few live replicas elsewhere.
    LowRedundancy,
    /// It is an open file's block still being written, and fewer than
    /// `dfs.namenode.replication.min` other in-service nodes have it (Hadoop's
    /// isSufficient for an under-construction last block: with that many the writer
    /// carries on without the node, so only then does the open file hold it).
    OpenFile,
}

/// The monitor's decision for one complete block (one still being written is judged
/// by its holders: [`Hold::OpenFile`]).
pub fn hold_of(b: LeavingBlock) -> Hold {
    if b.live < b.expected {
        Hold::LowRedundancy
    } else {
        Hold::None
    }
}

/// The outcome of one check of a node: how many of its blocks keep it, and why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeProgress {
    pub low_redundancy: usize,
    pub open_files: usize,
}

impl NodeProgress {
    pub fn add(&mut self, hold: Hold) {
        match hold {
            Hold::None => {}
            Hold::LowRedundancy => self.low_redundancy += 1,
            Hold::OpenFile => self.open_files += 1,
        }
    }

    /// Whether the node may be marked decommissioned.
    pub fn done(&self) -> bool {
        self.low_redundancy == 0 && self.open_files == 0
    }
}

/// What the monitor does with a tracked node on one run (Hadoop's
/// DatanodeAdminDefaultMonitor.check, as a pure decision over the node's state, its
/// maintenance expiry and the wall-clock time, both in ms since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminStep {
    /// Maintenance is over: back to Normal.
    EndMaintenance,
    /// In maintenance and not expired: nothing to check.
    Wait,
    /// Leaving (decommissioning or entering maintenance): check its blocks.
    Scan,
    /// No longer leaving (recommissioned, or decommissioned): stop tracking.
    Forget,
}

pub fn admin_step(state: AdminState, maintenance_expire_ms: u64, now_ms: u64) -> AdminStep {
    match state {
        s if s.is_maintenance() && now_ms >= maintenance_expire_ms => AdminStep::EndMaintenance,
        AdminState::InMaintenance => AdminStep::Wait,
        AdminState::EnteringMaintenance | AdminState::DecommissionInProgress => AdminStep::Scan,
        AdminState::Normal | AdminState::Decommissioned => AdminStep::Forget,
    }
}

/// The state a leaving node reaches once none of its blocks holds it.
pub fn state_when_done(state: AdminState) -> AdminState {
    match state {
        AdminState::EnteringMaintenance => AdminState::InMaintenance,
        AdminState::DecommissionInProgress => AdminState::Decommissioned,
        other => other,
    }
}

/// Whether the lists ask maintenance of a node now (Hadoop's maintenanceNotExpired):
/// an expiry of 0 means no maintenance entry.
pub fn maintenance_wanted(maintenance_expire_ms: u64, now_ms: u64) -> bool {
    now_ms < maintenance_expire_ms
}

/// The nodes leaving service (decommissioning, entering or in maintenance), in the
/// order they started: the first `max.concurrent.tracked.nodes` are checked, the rest
/// wait (Hadoop's pendingNodes). A node in maintenance stays tracked until it ends.
#[derive(Debug, Default)]
pub struct DecommissionTracker {
    /// UUID → the blocks still to be found safe (`None`: not scanned yet). Ordered by
    /// start sequence number through `order`.
    pub nodes: BTreeMap<u64, (String, Option<Vec<u64>>)>,
    next_seq: u64,
    /// The last check's progress per node (for reports and logs).
    pub progress: std::collections::HashMap<String, NodeProgress>,
}

impl DecommissionTracker {
    fn contains(&self, uuid: &str) -> bool {
        self.nodes.values().any(|(u, _)| u == uuid)
    }

    fn add(&mut self, uuid: &str) {
        if !self.contains(uuid) {
            self.nodes.insert(self.next_seq, (uuid.to_string(), None));
            self.next_seq += 1;
        }
    }

    fn remove(&mut self, uuid: &str) {
        self.nodes.retain(|_, (u, _)| u != uuid);
        self.progress.remove(uuid);
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

impl BlockManager {
    /// refreshNodes: applies freshly read host lists to every DataNode — nodes dropped
    /// from a non-empty include list are disallowed (their next heartbeat is refused
    /// and they are taken as dead), excluded nodes start decommissioning, nodes no
    /// longer excluded are back in service.
    pub fn refresh_nodes(&self, lists: HostLists) {
        let mut st = self.lock();
        info!(
            include = lists.include.len(),
            exclude = lists.exclude.len(),
            "refreshing the DataNode host lists"
        );
        st.hosts = lists;
        let uuids: Vec<String> = st.datanodes.keys().cloned().collect();
        for uuid in uuids {
            st.apply_host_lists(&uuid);
        }
    }

    /// One run of the decommission and maintenance monitor. `open_blocks` are the
    /// blocks of every file under construction (the Namesystem's answer, taken before
    /// this lock).
    pub fn check_decommissioning(&self, open_blocks: &HashSet<u64>) {
        self.check_admin_states(open_blocks, super::datanodes::now_ms());
    }

    /// [`BlockManager::check_decommissioning`] at a given wall-clock time (ms since
    /// the epoch), which maintenance expiry is judged against.
    pub fn check_admin_states(&self, open_blocks: &HashSet<u64>, now_ms: u64) {
        self.lock().check_admin_states(open_blocks, now_ms);
    }

    /// Runs [`BlockManager::check_decommissioning`] every
    /// `dfs.namenode.decommission.interval` until `stop` turns true.
    pub async fn run_decommission_monitor(
        self: std::sync::Arc<Self>,
        open_blocks: impl Fn() -> HashSet<u64> + Send + Sync + 'static,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let every = self
            .config()
            .decommission_interval
            .max(std::time::Duration::from_millis(100));
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                r = stop.changed() => {
                    if r.is_err() || *stop.borrow() {
                        return;
                    }
                }
                _ = tick.tick() => {
                    if self.lock().decommission.is_empty() {
                        continue;
                    }
                    let open = open_blocks();
                    self.check_decommissioning(&open);
                }
            }
        }
    }

    /// Refuses the heartbeat of a DataNode dropped from the include list, taking it as
    /// dead (Hadoop's handleHeartbeat of a disallowed node): its replicas stop counting
    /// and are copied elsewhere.
    pub fn check_heartbeat_allowed(&self, uuid: &str) -> Result<(), BlockManagerError> {
        let mut st = self.lock();
        let Some(dn) = st.datanodes.get_mut(uuid).filter(|d| d.disallowed) else {
            return Ok(());
        };
        let who = format!("DatanodeRegistration({})", dn.xfer_addr());
        if dn.alive {
            warn!(datanode = %uuid, "refusing the heartbeat of a DataNode not in the include list; it is dead now");
            dn.alive = false;
            st.remove_blocks_of(uuid);
            st.refresh_racks();
        }
        Err(BlockManagerError::Disallowed(format!(
            "Datanode denied communication with namenode because the host is not in the include-list: {who}"
        )))
    }

    /// Whether any of `blocks` (an open file's) holds a node being decommissioned: a
    /// block still being written with fewer than `dfs.namenode.replication.min`
    /// holders besides that node (the files `dfsadmin -listOpenFiles
    /// -blockingDecommission` lists, as Hadoop's leaving-service status does).
    pub fn blocks_decommissioning(&self, blocks: &[u64]) -> bool {
        let st = self.lock();
        let leaving: Vec<super::names::NameId> = st
            .datanodes
            .values()
            .filter(|d| d.admin_state == AdminState::DecommissionInProgress)
            .filter_map(|d| st.names.id(d.uuid()))
            .collect();
        blocks.iter().any(|b| {
            let Some(rec) = st.blocks.get(*b) else {
                return false;
            };
            rec.state != BlockUcState::Complete
                && leaving.iter().any(|n| {
                    let holds = rec.replicas.iter().any(|r| r.datanode == *n)
                        || st.blocks.pipeline(*b).iter().any(|(d, _)| d == n);
                    holds && st.hold_of_block_being_written(*b, Some(*n)) == Hold::OpenFile
                })
        })
    }

    /// Each node being decommissioned with the monitor's last progress on it.
    pub fn decommissioning_progress(
        &self,
    ) -> Vec<(hafs_proto::hdfs::DatanodeInfoProto, NodeProgress)> {
        self.leaving_progress(AdminState::DecommissionInProgress)
    }

    /// Each node in `state` (decommissioning or entering maintenance) with the
    /// monitor's last progress on it.
    pub fn leaving_progress(
        &self,
        state: AdminState,
    ) -> Vec<(hafs_proto::hdfs::DatanodeInfoProto, NodeProgress)> {
        let st = self.lock();
        let mut v: Vec<_> = st
            .datanodes
            .values()
            .filter(|d| d.admin_state == state)
            .map(|d| {
                let p = st
                    .decommission
                    .progress
                    .get(d.uuid())
                    .copied()
                    .unwrap_or_default();
                (d.info(), p)
            })
            .collect();
        v.sort_by(|a, b| {
            a.0.id
                .xfer_port
                .cmp(&b.0.id.xfer_port)
                .then(a.0.id.ip_addr.cmp(&b.0.id.ip_addr))
        });
        v
    }

    /// The registration check of the include list (Hadoop's "host is not in the
    /// include-list").
    pub(super) fn check_included(
        st: &State,
        ip: Option<IpAddr>,
        port: u32,
        who: &str,
    ) -> Result<(), BlockManagerError> {
        let allowed = match ip {
            Some(ip) => st.hosts.is_included(ip, port as u16),
            None => st.hosts.include.is_empty(),
        };
        if allowed {
            Ok(())
        } else {
            Err(BlockManagerError::Disallowed(format!(
                "Datanode denied communication with namenode because the host is not in the include-list: {who}"
            )))
        }
    }
}

impl State {
    /// Applies the host lists to one registered DataNode (Hadoop's refreshDatanodes
    /// step and startAdminOperationIfNecessary at registration): maintenance asked
    /// and not expired first, then the exclude list, else back in service.
    pub fn apply_host_lists(&mut self, uuid: &str) {
        let Some(dn) = self.datanodes.get(uuid) else {
            return;
        };
        let (ip, port) = (dn.ip(), dn.id.xfer_port as u16);
        let included = ip.is_none_or(|ip| self.hosts.is_included(ip, port));
        let excluded = ip.is_some_and(|ip| self.hosts.is_excluded(ip, port));
        let expiry = ip.map_or(0, |ip| self.hosts.maintenance_expiry(ip, port));
        if !included {
            if let Some(dn) = self.datanodes.get_mut(uuid) {
                if !dn.disallowed {
                    warn!(datanode = %uuid, addr = %dn.xfer_addr(), "DataNode is no longer in the include list");
                }
                dn.disallowed = true;
            }
            return;
        }
        if let Some(dn) = self.datanodes.get_mut(uuid) {
            dn.disallowed = false;
        }
        if maintenance_wanted(expiry, super::datanodes::now_ms()) {
            self.start_maintenance(uuid, expiry);
        } else if excluded {
            self.stop_maintenance(uuid);
            self.start_decommission(uuid);
        } else {
            self.stop_maintenance(uuid);
            self.stop_decommission(uuid);
        }
    }

    fn start_decommission(&mut self, uuid: &str) {
        let Some(dn) = self.datanodes.get_mut(uuid) else {
            return;
        };
        if dn.admin_state != AdminState::Normal {
            return;
        }
        info!(datanode = %uuid, addr = %dn.xfer_addr(), blocks = dn.blocks.len(), "starting decommission");
        dn.admin_state = AdminState::DecommissionInProgress;
        let ids: Vec<u64> = dn.blocks.iter().copied().collect();
        self.decommission.add(uuid);
        // Its replicas stopped counting: its blocks go to the low-redundancy queues.
        for id in ids {
            self.check_redundancy(id);
        }
    }

    fn stop_decommission(&mut self, uuid: &str) {
        let Some(dn) = self.datanodes.get_mut(uuid) else {
            return;
        };
        if !dn.admin_state.is_decommission() {
            return;
        }
        info!(datanode = %uuid, addr = %dn.xfer_addr(), from = ?dn.admin_state, "back in service");
        dn.admin_state = AdminState::Normal;
        let ids: Vec<u64> = dn.blocks.iter().copied().collect();
        self.decommission.remove(uuid);
        // Its replicas count again: the copies made meanwhile are excess now.
        for id in ids {
            self.check_redundancy(id);
        }
    }

    /// Hadoop's startMaintenance: a node in service starts entering maintenance (a
    /// dead one is in maintenance at once: it has nothing to wait for); a node in
    /// maintenance already only takes the new expiry.
    fn start_maintenance(&mut self, uuid: &str, expire_ms: u64) {
        let Some(dn) = self.datanodes.get_mut(uuid) else {
            return;
        };
        dn.maintenance_expire_ms = expire_ms;
        if dn.admin_state.is_maintenance() {
            return;
        }
        let next = if dn.alive {
            AdminState::EnteringMaintenance
        } else {
            AdminState::InMaintenance
        };
        info!(
            datanode = %uuid,
            addr = %dn.xfer_addr(),
            blocks = dn.blocks.len(),
            from = ?dn.admin_state,
            expire_ms,
            "starting maintenance"
        );
        dn.admin_state = next;
        let ids: Vec<u64> = dn.blocks.iter().copied().collect();
        self.decommission.remove(uuid);
        self.decommission.add(uuid);
        for id in ids {
            self.check_redundancy(id);
        }
    }

    /// Hadoop's stopMaintenance: back to Normal. A node still dead now loses its
    /// replicas (kept while it was in maintenance), so that they are re-created.
    fn stop_maintenance(&mut self, uuid: &str) {
        let Some(dn) = self.datanodes.get_mut(uuid) else {
            return;
        };
        if !dn.admin_state.is_maintenance() {
            return;
        }
        let alive = dn.alive;
        info!(datanode = %uuid, addr = %dn.xfer_addr(), from = ?dn.admin_state, alive, "maintenance ended");
        dn.admin_state = AdminState::Normal;
        dn.maintenance_expire_ms = 0;
        let ids: Vec<u64> = dn.blocks.iter().copied().collect();
        self.decommission.remove(uuid);
        if alive {
            for id in ids {
                self.check_redundancy(id);
            }
        } else {
            self.remove_blocks_of(uuid);
        }
    }

    /// One run of the monitor at wall-clock `now_ms`: maintenance that expired ends
    /// (on every tracked node); then the first `max.concurrent.tracked.nodes`
    /// tracked nodes are checked, no further node once `blocks.per.interval` blocks
    /// were checked, and a leaving node whose blocks are all safe and on no open file
    /// is decommissioned or in maintenance.
    pub fn check_admin_states(&mut self, open_blocks: &HashSet<u64>, now_ms: u64) {
        let expired: Vec<String> = self
            .decommission
            .nodes
            .values()
            .filter_map(|(uuid, _)| self.datanodes.get(uuid))
            .filter(|d| {
                admin_step(d.admin_state, d.maintenance_expire_ms, now_ms)
                    == AdminStep::EndMaintenance
            })
            .map(|d| d.uuid().to_string())
            .collect();
        for uuid in expired {
            self.stop_maintenance(&uuid);
        }
        let max_nodes = match self.config.decommission_max_tracked_nodes {
            0 => usize::MAX,
            n => n,
        };
        let mut budget = self.config.decommission_blocks_per_interval;
        let seqs: Vec<u64> = self
            .decommission
            .nodes
            .keys()
            .copied()
            .take(max_nodes)
            .collect();
        for seq in seqs {
            if budget == 0 {
                break;
            }
            let Some((uuid, remaining)) = self.decommission.nodes.get(&seq).cloned() else {
                continue;
            };
            let Some(dn) = self.datanodes.get(&uuid) else {
                self.decommission.nodes.remove(&seq);
                continue;
            };
            let state = dn.admin_state;
            match admin_step(state, dn.maintenance_expire_ms, now_ms) {
                AdminStep::Scan => {}
                AdminStep::Wait => continue,
                AdminStep::EndMaintenance | AdminStep::Forget => {
                    self.decommission.nodes.remove(&seq);
                    continue;
                }
            }
            let all_blocks: Vec<u64> = dn.blocks.iter().copied().collect();
            // The blocks not yet found safe; a full pass over every block of the node
            // the first time, and again once all those were found safe (blocks may
            // have arrived since): only a full pass decides that the node is done.
            // The budget is spent between nodes, not inside one (as Hadoop's monitor
            // does): a node holding more blocks than one run's budget must still be
            // able to finish its full pass.
            let (mut progress, mut unsafe_blocks) = match remaining {
                Some(r) if !r.is_empty() => {
                    budget = budget.saturating_sub(r.len());
                    self.scan_leaving(&uuid, r, open_blocks)
                }
                _ => (NodeProgress::default(), Vec::new()),
            };
            let mut full = false;
            if unsafe_blocks.is_empty() {
                budget = budget.saturating_sub(all_blocks.len());
                let (p, u) = self.scan_leaving(&uuid, all_blocks, open_blocks);
                (progress, unsafe_blocks, full) = (p, u, true);
            }
            let alive = self.datanodes.get(&uuid).is_some_and(|d| d.alive);
            // Only the Active concludes: a Standby's view lags the edit log (a block
            // allocated a moment ago may not be known yet, its report waiting in the
            // pending DataNode messages) and has no pipelines, so it could find a node
            // done that an open file still holds. It tracks the node and its progress;
            // after a failover it decides with what it knows then.
            if full && progress.done() && self.active {
                let dn = self.datanodes.get_mut(&uuid).expect("checked above");
                let next = state_when_done(state);
                info!(
                    datanode = %uuid,
                    addr = %dn.xfer_addr(),
                    alive,
                    state = ?next,
                    "every block of the node has enough replicas elsewhere"
                );
                dn.admin_state = next;
                self.decommission.progress.remove(&uuid);
                if next == AdminState::InMaintenance {
                    // Tracked on, for its expiry.
                    if let Some(entry) = self.decommission.nodes.get_mut(&seq) {
                        entry.1 = None;
                    }
                } else {
                    self.decommission.nodes.remove(&seq);
                }
                continue;
            }
            if let Some(entry) = self.decommission.nodes.get_mut(&seq) {
                entry.1 = Some(unsafe_blocks);
            }
            self.decommission.progress.insert(uuid, progress);
        }
    }

    /// Judges `blocks` of a leaving node; returns the progress and the blocks still
    /// unsafe. A block short of live replicas is (re)queued for copies — on a Standby
    /// too, so that a new Active has the queue.
    fn scan_leaving(
        &mut self,
        uuid: &str,
        blocks: Vec<u64>,
        open_blocks: &HashSet<u64>,
    ) -> (NodeProgress, Vec<u64>) {
        let node_id = self.names.id(uuid);
        let mut progress = NodeProgress::default();
        let mut unsafe_blocks = Vec::new();
        for &id in &blocks {
            let hold = self.hold_of_block(id, node_id);
            if hold != Hold::None {
                unsafe_blocks.push(id);
                if hold == Hold::LowRedundancy {
                    self.check_redundancy(id);
                }
            }
            progress.add(hold);
        }
        // An open file's block being written through this node (its pipeline), not
        // reported as a replica yet.
        let listed: HashSet<u64> = blocks.iter().copied().collect();
        let written_here: Vec<u64> = open_blocks
            .iter()
            .copied()
            .filter(|id| !listed.contains(id))
            .filter(|id| {
                self.blocks
                    .get(*id)
                    .is_some_and(|r| r.state != BlockUcState::Complete)
                    && node_id
                        .is_some_and(|n| self.blocks.pipeline(*id).iter().any(|(d, _)| *d == n))
            })
            .collect();
        for id in written_here {
            progress.add(self.hold_of_block_being_written(id, node_id));
        }
        (progress, unsafe_blocks)
    }

    /// Hadoop's isSufficient, for decommissioning and maintenance alike: a complete
    /// block needs its expected live replicas elsewhere; one still being written only
    /// `dfs.namenode.replication.min` other holders.
    fn hold_of_block(&self, id: u64, node: Option<super::names::NameId>) -> Hold {
        let Some(rec) = self.blocks.get(id) else {
            return Hold::None;
        };
        if rec.state != BlockUcState::Complete {
            return self.hold_of_block_being_written(id, node);
        }
        let n = self.count(rec);
        hold_of(LeavingBlock {
            live: n.live,
            expected: self.expected_live(rec.replication as usize, &n),
        })
    }

    /// A block still being written holds a leaving node while fewer than
    /// `dfs.namenode.replication.min` other alive in-service nodes have it, in its
    /// pipeline or as a replica (Hadoop's rule for an under-construction last block):
    /// otherwise the writer carries on without the node when it stops. A copy would
    /// not help (the block is still growing), so it is an open file's hold.
    pub(super) fn hold_of_block_being_written(
        &self,
        id: u64,
        node: Option<super::names::NameId>,
    ) -> Hold {
        let Some(rec) = self.blocks.get(id) else {
            return Hold::None;
        };
        let holders: HashSet<super::names::NameId> = self
            .blocks
            .pipeline(id)
            .iter()
            .map(|(d, _)| *d)
            .chain(
                rec.replicas
                    .iter()
                    .filter(|r| !r.corrupt)
                    .map(|r| r.datanode),
            )
            .filter(|d| Some(*d) != node)
            .filter(|d| {
                self.datanode_of(*d)
                    .is_some_and(|dn| dn.alive && dn.admin_state.is_in_service())
            })
            .collect();
        if holders.len() >= usize::from(self.config.min_replication) {
            Hold::None
        } else {
            Hold::OpenFile
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(live: usize, expected: usize) -> LeavingBlock {
        LeavingBlock { live, expected }
    }

    #[test]
    fn a_block_holds_its_node_until_enough_live_replicas_exist_elsewhere() {
        assert_eq!(hold_of(b(2, 3)), Hold::LowRedundancy);
        assert_eq!(hold_of(b(0, 1)), Hold::LowRedundancy);
        assert_eq!(hold_of(b(3, 3)), Hold::None);
        assert_eq!(hold_of(b(4, 3)), Hold::None);
    }

    #[test]
    fn a_node_is_done_only_when_no_block_holds_it() {
        let mut p = NodeProgress::default();
        assert!(p.done());
        p.add(Hold::None);
        assert!(p.done());
        p.add(Hold::OpenFile);
        assert!(!p.done());
        let mut q = NodeProgress::default();
        q.add(Hold::LowRedundancy);
        assert!(!q.done());
        assert_eq!(
            q,
            NodeProgress {
                low_redundancy: 1,
                open_files: 0
            }
        );
    }

    #[test]
    fn the_monitor_step_follows_state_and_expiry() {
        use AdminState::*;
        let (t, later) = (1_000, 2_000);
        assert_eq!(admin_step(EnteringMaintenance, later, t), AdminStep::Scan);
        assert_eq!(admin_step(InMaintenance, later, t), AdminStep::Wait);
        // Expiry is inclusive of its own millisecond, for both maintenance states.
        assert_eq!(admin_step(InMaintenance, t, t), AdminStep::EndMaintenance);
        assert_eq!(
            admin_step(EnteringMaintenance, t, later),
            AdminStep::EndMaintenance
        );
        // The expiry means nothing outside maintenance.
        assert_eq!(admin_step(DecommissionInProgress, 0, t), AdminStep::Scan);
        assert_eq!(admin_step(Decommissioned, 0, t), AdminStep::Forget);
        assert_eq!(admin_step(Normal, 0, t), AdminStep::Forget);
        assert_eq!(state_when_done(EnteringMaintenance), InMaintenance);
        assert_eq!(state_when_done(DecommissionInProgress), Decommissioned);
        assert!(maintenance_wanted(later, t));
        assert!(!maintenance_wanted(t, t));
        assert!(!maintenance_wanted(0, t), "0: no maintenance entry");
    }

    #[test]
    fn maintenance_replicas_lower_the_live_replicas_a_block_needs() {
        use crate::blockmanagement::state::expected_live;
        // No replica in maintenance: the replication.
        assert_eq!(expected_live(3, 0, 1), 3);
        // One of two in maintenance: one live replica is enough (min 1).
        assert_eq!(expected_live(2, 1, 1), 1);
        // Both in maintenance: still the minimum.
        assert_eq!(expected_live(2, 2, 1), 1);
        // A higher minimum, capped at the replication.
        assert_eq!(expected_live(3, 1, 3), 3);
        assert_eq!(expected_live(2, 1, 5), 2);
        // Minimum 0: a block may rest on its maintenance replicas alone.
        assert_eq!(expected_live(1, 1, 0), 0);
    }

    #[test]
    fn tracker_keeps_start_order_and_forgets_removed_nodes() {
        let mut t = DecommissionTracker::default();
        t.add("b");
        t.add("a");
        t.add("b");
        assert_eq!(t.len(), 2);
        let order: Vec<&str> = t.nodes.values().map(|(u, _)| u.as_str()).collect();
        assert_eq!(order, ["b", "a"]);
        t.remove("b");
        let order: Vec<&str> = t.nodes.values().map(|(u, _)| u.as_str()).collect();
        assert_eq!(order, ["a"]);
    }
}
