//! The monitor (Hadoop's HeartbeatManager.Monitor + RedundancyMonitor): declares silent
//! DataNodes dead, moves safe mode forward, and — when Active and out of safe mode —
//! schedules copies of low-redundancy blocks to source DataNodes and retries copies
//! that timed out.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use tracing::{info, warn};

use super::datanodes::{AdminState, Transfer};
use super::low_redundancy::{QUEUE_HIGHEST_PRIORITY, QUEUE_WITH_CORRUPT_BLOCKS};
use super::safe_mode::SafeModePhase;
use super::state::{Pending, State, TypeWish, RESCAN_CHUNK};
use super::storage_policy;
use super::BlockManager;
use hafs_proto::hdfs as pb;

/// Blocks scheduled per live DataNode per round (Hadoop's
/// dfs.namenode.replication.work.multiplier.per.iteration).
const WORK_MULTIPLIER: usize = 2;

impl BlockManager {
    /// One round of background work at `now`. Copies are scheduled only when both
    /// the caller (`active`: the HA state now) and [`BlockManager::set_active`] say
    /// this NameNode is Active; the flag itself is left to `set_active`.
    pub fn tick(&self, now: Instant, active: bool) {
        let mut st = self.lock();
        st.check_heartbeats(now);
        st.refresh_safe_mode(now);
        if active && st.active && st.safe_mode == SafeModePhase::Off {
            st.expire_pending(now);
            st.compute_reconstruction_work(now);
        }
    }

    /// Decides the next chunk of a pending redundancy rescan (see `State::rescan`);
    /// true while blocks remain. The monitor drives it between its rounds.
    pub fn rescan_step(&self) -> bool {
        self.lock().rescan_some(RESCAN_CHUNK)
    }

    /// Runs [`BlockManager::tick`] every monitor interval until `stop` turns true.
    /// `is_active` says whether this NameNode is Active right now; `before_round`
    /// runs first, outside the block manager's lock (the Namesystem pushes the files'
    /// storage policies there).
    pub async fn run_monitor(
        self: Arc<Self>,
        is_active: impl Fn() -> bool + Send + Sync + 'static,
        before_round: impl Fn() + Send + Sync + 'static,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut tick = tokio::time::interval(self.config().monitor_interval());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                r = stop.changed() => {
                    if r.is_err() || *stop.borrow() {
                        return;
                    }
                }
                _ = tick.tick() => {
                    before_round();
                    self.tick(self.now(), is_active());
                    // A rescan left by a failover or the end of safe mode, a chunk per
                    // lock hold; bounded by the blocks it snapshot.
                    while self.rescan_step() {
                        if *stop.borrow() {
                            return;
                        }
                        tokio::task::yield_now().await;
                    }
                }
            }
        }
    }
}

impl State {
    /// DataNodes silent for longer than the dead-node interval are dead: their
    /// replicas stop counting and their blocks are re-checked.
    fn check_heartbeats(&mut self, now: Instant) {
        let limit = self.config.dead_node_interval();
        let dead: Vec<String> = self
            .datanodes
            .values()
            .filter(|d| d.alive && now.saturating_duration_since(d.last_update) > limit)
            .map(|d| d.uuid().to_string())
            .collect();
        for uuid in dead {
            let Some(d) = self.datanodes.get_mut(&uuid) else {
                continue;
            };
            warn!(datanode = %uuid, addr = %d.xfer_addr(), "DataNode is dead: no heartbeat for {limit:?}");
            d.alive = false;
            if d.admin_state.is_maintenance() {
                // Stopped for its maintenance, as planned: its replicas stay in the
                // blocks map as maintenance replicas and are not re-created elsewhere
                // until the maintenance ends (Hadoop's removeDeadDatanode keeping
                // the blocks of a node in maintenance).
                d.clear_work();
                let ids: Vec<u64> = d.blocks.iter().copied().collect();
                for id in ids {
                    self.check_redundancy(id);
                }
            } else {
                self.remove_blocks_of(&uuid);
            }
        }
        self.refresh_racks();
    }

    fn expire_pending(&mut self, now: Instant) {
        let timeout = self.config.pending_reconstruction_timeout;
        let expired: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| now.saturating_duration_since(p.since) > timeout)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            info!(block = id, "scheduled copy timed out; will retry");
            self.pending.remove(&id);
            self.check_redundancy(id);
        }
    }

    /// Schedules copies for the highest-priority low-redundancy blocks.
    fn compute_reconstruction_work(&mut self, now: Instant) {
        let live = self.datanodes.values().filter(|d| d.alive).count();
        let budget = live.max(1) * WORK_MULTIPLIER;
        let mut scheduled = 0;
        for (level, id) in self.needed.choose(usize::MAX) {
            if scheduled >= budget || level == QUEUE_WITH_CORRUPT_BLOCKS {
                break;
            }
            if self.schedule_copy(id, level, now) {
                scheduled += 1;
            }
        }
    }

    fn schedule_copy(&mut self, block_id: u64, level: usize, now: Instant) -> bool {
        let Some(rec) = self.blocks.get(block_id) else {
            return false;
        };
        let n = self.count(rec);
        let pending = self.pending.get(&block_id).map_or(0, |p| p.targets.len());
        let expected = self.expected_live(rec.replication as usize, &n);
        let mut wanted = expected.saturating_sub(n.live + pending);
        // A block with enough replicas but too few racks gets one more, on a new rack.
        let repair = wanted == 0 && pending == 0 && self.missing_racks(rec) > 0;
        if repair {
            wanted = 1;
        }
        if wanted == 0 {
            return false;
        }
        let limit = if level == QUEUE_HIGHEST_PRIORITY {
            self.config.replication_streams_hard_limit
        } else {
            self.config.max_replication_streams
        } as usize;
        // Source: a live DataNode with a good replica and spare transfer capacity; a
        // node being decommissioned first (it takes no writes, so it has the time), a
        // decommissioned one last (Hadoop's chooseSourceDatanodes).
        let source = rec
            .replicas
            .iter()
            .filter(|r| rec.is_good(r))
            .filter_map(|r| self.datanode_of(r.datanode))
            .filter(|d| d.alive && d.transfers.len() + (d.xmits_in_progress as usize) < limit)
            .min_by_key(|d| {
                let preference = match d.admin_state {
                    AdminState::DecommissionInProgress => 0,
                    AdminState::Normal | AdminState::EnteringMaintenance => 1,
                    AdminState::Decommissioned | AdminState::InMaintenance => 2,
                };
                (
                    preference,
                    d.transfers.len() + d.xmits_in_progress as usize,
                    d.uuid().to_string(),
                )
            })
            .map(|d| d.uuid().to_string());
        let Some(source) = source else {
            return false;
        };
        let mut excluded: HashSet<String> = rec
            .replicas
            .iter()
            .map(|r| self.names.name(r.datanode).to_string())
            .collect();
        let existing: Vec<String> = rec
            .replicas
            .iter()
            .filter(|r| rec.is_good(r))
            .filter(|r| {
                self.datanode_of(r.datanode)
                    .is_some_and(|d| d.alive && d.admin_state.is_in_service())
            })
            .map(|r| self.names.name(r.datanode).to_string())
            .collect();
        if let Some(p) = self.pending.get(&block_id) {
            excluded.extend(p.targets.iter().cloned());
        }
        let block = pb::BlockProto {
            block_id,
            gen_stamp: rec.gen_stamp,
            num_bytes: Some(rec.num_bytes),
        };
        let size = rec.num_bytes;
        // The storage types the block is missing under its file's policy: the
        // existing replicas' types taken off the policy's list (Hadoop's
        // chooseStorageTypes with the chosen storages).
        let policy = storage_policy::by_id(
            self.file_policies
                .get(&rec.inode_id)
                .copied()
                .unwrap_or(storage_policy::UNSPECIFIED),
        );
        let existing_types: Vec<i32> = rec
            .replicas
            .iter()
            .filter(|r| rec.is_good(r) && self.is_alive_id(r.datanode))
            .filter_map(|r| {
                let d = self.datanode_of(r.datanode)?;
                d.storages
                    .get(self.names.name(r.storage))
                    .map(|s| s.storage_type)
            })
            .collect();
        let mut types = policy.types_to_add(rec.replication as usize, &existing_types);
        types.truncate(wanted);
        let wish = TypeWish {
            types: &types,
            fallbacks: policy.replication_fallbacks,
        };
        let chosen =
            self.choose_beside(wanted, None, &excluded, &[], size, &existing, repair, wish);
        if chosen.is_empty() {
            return false;
        }
        let targets = self.targets(&chosen, size);
        let qlimit = self.config.max_queued_per_datanode;
        let Some(src) = self.datanodes.get_mut(&source) else {
            return false;
        };
        if src.transfers.len() >= qlimit {
            return false;
        }
        info!(block = block_id, source = %source, targets = ?chosen, "scheduling copy of low-redundancy block");
        let target_types: Vec<i32> = targets.iter().map(|t| t.storage_type).collect();
        src.transfers.push_back(Transfer {
            block,
            target_storages: targets.iter().map(|t| t.storage_uuid.clone()).collect(),
            target_storage_types: target_types,
            targets: targets.into_iter().map(|t| t.info).collect(),
        });
        let p = self.pending.entry(block_id).or_insert(Pending {
            targets: Vec::new(),
            since: now,
        });
        p.targets.extend(chosen.into_iter().map(|(u, _)| u));
        p.since = now;
        true
    }
}
