//! What the NameNode shows on `/jmx` and `/prom`: Hadoop's beans (NameNodeStatus,
//! FSNamesystem, FSNamesystemState, NameNodeInfo) with Hadoop's attribute names, and
//! hafs beans for what HDFS does not have (the HA history with each transition's
//! cause and duration, the tailing lag, the election backend).
//!
//! The figures are read when a scrape comes, from the block manager, the edit log and
//! the counters kept here; nothing is sampled in the background.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use hafs_http::process::now_ms;
use hafs_http::{Bean, PromText};
use hafs_ipc::RpcMetrics;
use serde_json::{json, Value};

use crate::blockmanagement::DatanodeReportKind;
use crate::namesystem::{HaState, Namesystem};

/// How many HA transitions the history keeps.
pub const HISTORY_ROWS: usize = 64;

/// One change of HA state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// When it finished, ms since the epoch.
    pub at_ms: u64,
    pub from: &'static str,
    pub to: &'static str,
    /// Who or what caused it: `zkfc`, `haadmin`, `the edit log failed`, `startup`, …
    pub why: String,
    /// How long the transition took.
    pub took_ms: u64,
}

/// Counters the NameNode keeps for its beans.
#[derive(Debug, Default)]
pub struct NameNodeMetrics {
    /// When the HA state last changed (Hadoop's LastHATransitionTime), ms since the
    /// epoch; 0 before the first change.
    last_ha_transition_ms: AtomicU64,
    /// Transitions to Active.
    failovers: AtomicU64,
    history: Mutex<VecDeque<Transition>>,
    /// When the Standby's tailer last applied edits (MillisSinceLastLoadedEdits).
    last_loaded_edits_ms: AtomicU64,
    /// When the tailer last found nothing more to read: it had everything the journal
    /// had committed. The tailing lag is the time since.
    tail_caught_up_ms: AtomicU64,
    /// The IPC server's port and figures, once it is bound.
    rpc: OnceLock<(u16, Arc<RpcMetrics>)>,
    /// Observer: coordinated reads that waited for the tailer, and how long in all.
    observer_reads_waited: AtomicU64,
    observer_wait_micros: AtomicU64,
    /// Observer: coordinated reads refused because the tailer did not catch up in time.
    observer_reads_not_caught_up: AtomicU64,
}

pub fn state_name(s: HaState) -> &'static str {
    match s {
        HaState::Active => "active",
        HaState::Standby => "standby",
        HaState::Initializing => "initializing",
        HaState::Observer => "observer",
    }
}

impl NameNodeMetrics {
    /// The HA state changed (every change, whoever makes it).
    pub fn state_changed(&self) {
        self.last_ha_transition_ms
            .store(now_ms(), Ordering::Relaxed);
    }

    /// A finished transition, for the history.
    pub fn record_transition(&self, from: HaState, to: HaState, why: &str, took_ms: u64) {
        if to == HaState::Active {
            self.failovers.fetch_add(1, Ordering::Relaxed);
        }
        let mut h = self.history.lock().unwrap_or_else(|e| e.into_inner());
        if h.len() == HISTORY_ROWS {
            h.pop_front();
        }
        h.push_back(Transition {
            at_ms: now_ms(),
            from: state_name(from),
            to: state_name(to),
            why: why.to_string(),
            took_ms,
        });
    }

    pub fn history(&self) -> Vec<Transition> {
        let h = self.history.lock().unwrap_or_else(|e| e.into_inner());
        h.iter().cloned().collect()
    }

    pub fn last_ha_transition_ms(&self) -> u64 {
        self.last_ha_transition_ms.load(Ordering::Relaxed)
    }

    pub fn failovers(&self) -> u64 {
        self.failovers.load(Ordering::Relaxed)
    }

    /// An Observer held a coordinated read until its tailer caught up.
    pub fn observer_read_waited(&self, waited: std::time::Duration) {
        self.observer_reads_waited.fetch_add(1, Ordering::Relaxed);
        self.observer_wait_micros
            .fetch_add(waited.as_micros() as u64, Ordering::Relaxed);
    }

    /// An Observer refused a coordinated read: its tailer did not catch up in time.
    pub fn observer_read_not_caught_up(&self) {
        self.observer_reads_not_caught_up
            .fetch_add(1, Ordering::Relaxed);
    }

    /// The tailer applied edits.
    pub fn edits_loaded(&self) {
        self.last_loaded_edits_ms.store(now_ms(), Ordering::Relaxed);
    }

    /// The tailer read everything the journal had.
    pub fn tail_caught_up(&self) {
        self.tail_caught_up_ms.store(now_ms(), Ordering::Relaxed);
    }

    /// The IPC server is bound: its figures join the beans from now on.
    pub fn rpc_server_bound(&self, port: u16, rpc: Arc<RpcMetrics>) {
        let _ = self.rpc.set((port, rpc));
    }

    fn millis_since(at: &AtomicU64) -> u64 {
        let t = at.load(Ordering::Relaxed);
        if t == 0 {
            0
        } else {
            now_ms().saturating_sub(t)
        }
    }
}

/// What the beans need besides the Namesystem.
pub struct BeanContext<'a> {
    pub fsn: &'a Namesystem,
    /// The name dirs' `current` directories (for the newest checkpoint).
    pub image_dirs: &'a [std::path::PathBuf],
    pub newest_image_txid: Option<u64>,
}

/// The election backend as configured: `zookeeper`, `journal` (hafs's lease on the
/// JournalNodes), or `manual`.
fn election_backend(fsn: &Namesystem) -> &'static str {
    match &fsn.config.ha {
        Some(ha) if ha.automatic_failover => {
            if fsn.config.zookeeper_election {
                "zookeeper"
            } else {
                "journal"
            }
        }
        Some(_) => "manual",
        None => "none",
    }
}

/// Newest modification time of an fsimage in `dirs`, ms since the epoch (0: none).
fn last_checkpoint_ms(dirs: &[std::path::PathBuf]) -> u64 {
    let mut newest = 0u64;
    for d in dirs {
        let Ok(entries) = std::fs::read_dir(d) else {
            continue;
        };
        // Bounded by the retained images and their side files.
        for e in entries.flatten().take(4096) {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if !name.starts_with("fsimage_") || name.contains('.') {
                continue;
            }
            if let Ok(m) = e.metadata().and_then(|m| m.modified()) {
                let ms = m
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64);
                newest = newest.max(ms);
            }
        }
    }
    newest
}

fn host_and_port(fsn: &Namesystem) -> String {
    match &fsn.config.ha {
        Some(ha) => ha
            .namenodes
            .iter()
            .find(|(id, _)| *id == ha.namenode_id)
            .map_or_else(|| fsn.config.rpc_bind.clone(), |(_, a)| a.clone()),
        None => fsn.config.rpc_bind.clone(),
    }
}

fn hostname(addr: &str) -> String {
    addr.rsplit_once(':').map_or(addr, |(h, _)| h).to_string()
}

/// The NameNode's beans.
pub fn beans(cx: &BeanContext<'_>) -> Vec<Bean> {
    let fsn = cx.fsn;
    let m = &fsn.metrics;
    let state = state_name(fsn.ha_state());
    let stats = fsn.bm.fs_stats();
    let safe = fsn.bm.safe_mode_status();
    let files = fsn.memory_report().inodes;
    let last_txid = fsn.edit_log.last_written_txid();
    let host_port = host_and_port(fsn);
    let host = hostname(&host_port);
    let identity = fsn.bm.identity();
    let secure = fsn.config.http_security.is_some();
    let last_checkpoint = last_checkpoint_ms(cx.image_dirs);
    let since_checkpoint = last_txid.saturating_sub(cx.newest_image_txid.unwrap_or(0));
    let in_safe_mode = fsn.in_safe_mode();
    let total_load = stats.total_load;
    let (open_files, writers) = fsn.open_files_and_writers();
    let pct_used = if stats.capacity == 0 {
        0.0
    } else {
        stats.used as f64 * 100.0 / stats.capacity as f64
    };
    let tails = matches!(fsn.ha_state(), HaState::Standby | HaState::Observer);
    let tailing_lag = if tails {
        NameNodeMetrics::millis_since(&m.tail_caught_up_ms)
    } else {
        0
    };
    let millis_since_loaded = if tails {
        NameNodeMetrics::millis_since(&m.last_loaded_edits_ms)
    } else {
        0
    };

    let status = Bean::new(
        "Hadoop:service=NameNode,name=NameNodeStatus",
        "org.apache.hadoop.hdfs.server.namenode.NameNode",
    )
    .attr("NNRole", "NameNode")
    .attr("HostAndPort", host_port.clone())
    .attr("SecurityEnabled", secure)
    .attr("LastHATransitionTime", m.last_ha_transition_ms())
    .attr("BytesWithFutureGenerationStamps", 0)
    .attr("SlowPeersReport", "[]")
    .attr("SlowDisksReport", Value::Null)
    .attr("State", state);

    let fs = Bean::new("Hadoop:service=NameNode,name=FSNamesystem", "FSNamesystem")
        .record("FSNamesystem")
        .tag("Context", "dfs")
        .tag("HAState", state)
        .tag("TotalSyncTimes", "")
        .tag("Hostname", host.clone())
        .gauge("MissingBlocks", stats.missing_blocks)
        .gauge("MissingReplOneBlocks", stats.missing_repl_one_blocks)
        .counter("ExpiredHeartbeats", 0)
        .gauge("TransactionsSinceLastCheckpoint", since_checkpoint)
        .gauge("TransactionsSinceLastLogRoll", 0)
        .gauge("LastWrittenTransactionId", last_txid)
        .gauge("LastCheckpointTime", last_checkpoint)
        .gauge("CapacityTotal", stats.capacity)
        .gauge("CapacityTotalGB", gb(stats.capacity))
        .gauge("CapacityUsed", stats.used)
        .gauge("CapacityUsedGB", gb(stats.used))
        .gauge("CapacityRemaining", stats.remaining)
        .gauge("CapacityRemainingGB", gb(stats.remaining))
        .gauge("CapacityUsedNonDFS", stats.non_dfs_used)
        .gauge("TotalLoad", total_load)
        .gauge("SnapshottableDirectories", 0)
        .gauge("Snapshots", 0)
        .gauge("NumEncryptionZones", 0)
        .gauge("BlocksTotal", stats.blocks_total)
        .gauge("FilesTotal", files)
        .gauge("PendingReplicationBlocks", 0)
        .gauge("PendingReconstructionBlocks", 0)
        .gauge("UnderReplicatedBlocks", stats.under_replicated)
        .gauge("LowRedundancyBlocks", stats.under_replicated)
        .gauge("CorruptBlocks", stats.corrupt_blocks)
        .gauge("ScheduledReplicationBlocks", 0)
        .gauge("PendingDeletionBlocks", stats.pending_deletion_blocks)
        .gauge("ExcessBlocks", 0)
        .gauge("NumTimedOutPendingReconstructions", 0)
        .gauge("PostponedMisreplicatedBlocks", 0)
        .gauge(
            "PendingDataNodeMessageCount",
            fsn.bm.pending_datanode_messages() as u64,
        )
        .gauge("MillisSinceLastLoadedEdits", millis_since_loaded)
        .gauge("BlockCapacity", 0)
        .gauge("NumLiveDataNodes", stats.live_datanodes)
        .gauge("NumDeadDataNodes", stats.dead_datanodes)
        .gauge("NumDecomLiveDataNodes", stats.decommissioned_live)
        .gauge("NumDecomDeadDataNodes", stats.decommissioned_dead)
        .gauge("VolumeFailuresTotal", 0)
        .gauge("EstimatedCapacityLostTotal", 0)
        .gauge("NumDecommissioningDataNodes", stats.decommissioning_live)
        .gauge("NumInMaintenanceLiveDataNodes", stats.in_maintenance_live)
        .gauge("NumInMaintenanceDeadDataNodes", stats.in_maintenance_dead)
        .gauge(
            "NumEnteringMaintenanceDataNodes",
            stats.entering_maintenance,
        )
        .gauge("StaleDataNodes", 0)
        .gauge("NumStaleStorages", 0)
        .gauge("TotalSyncCount", 0)
        .gauge("NumFilesUnderConstruction", open_files)
        .gauge("NumActiveClients", writers);

    let fs_state = Bean::new(
        "Hadoop:service=NameNode,name=FSNamesystemState",
        "org.apache.hadoop.hdfs.server.namenode.FSNamesystem",
    )
    .attr("CapacityTotal", stats.capacity)
    .attr("CapacityUsed", stats.used)
    .attr("CapacityRemaining", stats.remaining)
    .attr("TotalLoad", total_load)
    .attr(
        "SnapshotStats",
        "{\"SnapshottableDirectories\":0,\"Snapshots\":0}",
    )
    .attr("FsLockQueueLength", 0)
    .attr("BlocksTotal", stats.blocks_total)
    .attr("MaxObjects", 0)
    .attr("FilesTotal", files)
    .attr("PendingReplicationBlocks", 0)
    .attr(
        "PendingDeletionReplicatedBlocks",
        stats.pending_deletion_blocks,
    )
    .attr("UnderReplicatedBlocks", stats.under_replicated)
    .attr("LowRedundancyReplicatedBlocks", stats.under_replicated)
    .attr("ScheduledReplicationBlocks", 0)
    .attr("PendingDeletionBlocks", stats.pending_deletion_blocks)
    .attr("BlockDeletionStartTime", 0)
    .attr(
        "FSState",
        if in_safe_mode {
            "safeMode"
        } else {
            "Operational"
        },
    )
    .attr("NumLiveDataNodes", stats.live_datanodes)
    .attr("NumDeadDataNodes", stats.dead_datanodes)
    .attr("NumDecomLiveDataNodes", stats.decommissioned_live)
    .attr("NumDecomDeadDataNodes", stats.decommissioned_dead)
    .attr("VolumeFailuresTotal", 0)
    .attr("EstimatedCapacityLostTotal", 0)
    .attr("NumDecommissioningDataNodes", stats.decommissioning_live)
    .attr("NumInMaintenanceLiveDataNodes", stats.in_maintenance_live)
    .attr("NumInMaintenanceDeadDataNodes", stats.in_maintenance_dead)
    .attr(
        "NumEnteringMaintenanceDataNodes",
        stats.entering_maintenance,
    )
    .attr("NumStaleDataNodes", 0)
    .attr("NumStaleStorages", 0)
    .attr("TopUserOpCounts", "{}");

    let live = fsn.bm.datanode_report(DatanodeReportKind::Live);
    let dead = fsn.bm.datanode_report(DatanodeReportKind::Dead);
    let now = now_ms();
    let node_map = |nodes: &[hafs_proto::hdfs::DatanodeInfoProto], alive: bool| -> String {
        let mut map = serde_json::Map::new();
        for d in nodes {
            let id = &d.id;
            let key = format!("{}:{}", id.host_name, id.xfer_port);
            let last_contact = d.last_update.map_or(0, |t| now.saturating_sub(t) / 1000);
            let entry = if alive {
                json!({
                    "infoAddr": format!("{}:{}", id.ip_addr, id.info_port),
                    "infoSecureAddr": format!("{}:{}", id.ip_addr, id.info_secure_port.unwrap_or(0)),
                    "xferaddr": format!("{}:{}", id.ip_addr, id.xfer_port),
                    "lastContact": last_contact,
                    "usedSpace": d.dfs_used.unwrap_or(0),
                    "adminState": admin_state_name(d.admin_state),
                    "nonDfsUsedSpace": d.non_dfs_used.unwrap_or(0),
                    "capacity": d.capacity.unwrap_or(0),
                    "numBlocks": d.num_blocks.unwrap_or(0),
                    "version": env!("CARGO_PKG_VERSION"),
                    "used": d.dfs_used.unwrap_or(0),
                    "remaining": d.remaining.unwrap_or(0),
                    "blockScheduled": 0,
                    "blockPoolUsed": d.block_pool_used.unwrap_or(0),
                    "volfails": 0,
                })
            } else {
                json!({
                    "lastContact": last_contact,
                    "decommissioned": d.admin_state == Some(DECOMMISSIONED),
                    "adminState": admin_state_name(d.admin_state),
                    "xferaddr": format!("{}:{}", id.ip_addr, id.xfer_port),
                })
            };
            map.insert(key, entry);
        }
        Value::Object(map).to_string()
    };
    let name_dirs: serde_json::Map<String, Value> = fsn
        .config
        .name_dirs
        .iter()
        .map(|d| {
            (
                d.display().to_string(),
                Value::String("IMAGE_AND_EDITS".into()),
            )
        })
        .collect();
    let safemode_tip = if in_safe_mode {
        format!(
            "Safe mode is ON. The reported blocks {} has reached the threshold of the total blocks {}.",
            safe.blocks_safe, safe.blocks_total
        )
    } else {
        String::new()
    };
    let info = Bean::new(
        "Hadoop:service=NameNode,name=NameNodeInfo",
        "org.apache.hadoop.hdfs.server.namenode.FSNamesystem",
    )
    .attr("Total", stats.capacity)
    .attr("Used", stats.used)
    .attr("Free", stats.remaining)
    .attr("NonDfsUsedSpace", stats.non_dfs_used)
    .attr("PercentUsed", pct_used)
    .attr(
        "PercentRemaining",
        if stats.capacity == 0 {
            0.0
        } else {
            100.0 - pct_used
        },
    )
    .attr("BlockPoolUsedSpace", stats.used)
    .attr("TotalBlocks", stats.blocks_total)
    .attr("TotalFiles", files)
    .attr("NumberOfMissingBlocks", stats.missing_blocks)
    .attr(
        "NumberOfMissingBlocksWithReplicationFactorOne",
        stats.missing_repl_one_blocks,
    )
    .attr(
        "Threads",
        hafs_http::process::ProcessFigures::read().threads,
    )
    .attr("Version", concat!("hafs ", env!("CARGO_PKG_VERSION")))
    .attr("SoftwareVersion", env!("CARGO_PKG_VERSION"))
    .attr("Safemode", safemode_tip)
    .attr("UpgradeFinalized", true)
    .attr("ClusterId", identity.cluster_id.clone())
    .attr("BlockPoolId", identity.block_pool_id.clone())
    .attr("LiveNodes", node_map(&live, true))
    .attr("DeadNodes", node_map(&dead, false))
    .attr("DecomNodes", decom_nodes(fsn))
    .attr("EnteringMaintenanceNodes", entering_maintenance_nodes(fsn))
    .attr(
        "NameDirStatuses",
        json!({"active": name_dirs, "failed": {}}).to_string(),
    )
    .attr(
        "JournalTransactionInfo",
        json!({
            "LastAppliedOrWrittenTxId": last_txid.to_string(),
            "MostRecentCheckpointTxId": cx.newest_image_txid.unwrap_or(0).to_string(),
        })
        .to_string(),
    )
    .attr("NameJournalStatus", name_journal_status(fsn, last_txid))
    .attr("NNStartedTimeInMillis", hafs_http::process::start_time_ms())
    .attr("CompileInfo", "hafs")
    .attr("DistinctVersionCount", 1);

    // hafs: the HA picture HDFS spreads over the ZKFC and logs.
    let (ns, nn_id) = fsn
        .config
        .ha
        .as_ref()
        .map_or((String::new(), String::new()), |h| {
            (h.nameservice.clone(), h.namenode_id.clone())
        });
    let history: Vec<Value> = m
        .history()
        .iter()
        .map(|t| {
            json!({"time": t.at_ms, "from": t.from, "to": t.to, "why": t.why, "tookMillis": t.took_ms})
        })
        .collect();
    let ha = Bean::new("hafs:service=NameNode,name=HAStatus", "HAStatus")
        .attr("Nameservice", ns)
        .attr("NameNodeId", nn_id)
        .attr("State", state)
        .attr("ElectionBackend", election_backend(fsn))
        .attr("LastHATransitionTime", m.last_ha_transition_ms())
        .attr("FailoversTotal", m.failovers())
        .attr("TailingLagMillis", tailing_lag)
        .attr("MillisSinceLastLoadedEdits", millis_since_loaded)
        .attr("LastAppliedTxId", fsn.edit_log.applied_txid())
        .attr(
            "ObserverReadsWaited",
            m.observer_reads_waited.load(Ordering::Relaxed),
        )
        .attr(
            "ObserverWaitMicros",
            m.observer_wait_micros.load(Ordering::Relaxed),
        )
        .attr(
            "ObserverReadsNotCaughtUp",
            m.observer_reads_not_caught_up.load(Ordering::Relaxed),
        )
        .attr("FailoverHistory", Value::Array(history))
        .attr(
            "Peers",
            Value::Array(
                fsn.config
                    .http
                    .peers
                    .iter()
                    .map(|(id, http)| json!({"id": id, "http": http}))
                    .collect(),
            ),
        )
        .attr(
            "JournalNodes",
            Value::Array(journal_nodes_json(fsn, last_txid)),
        );
    // Hadoop's NameNodeActivity record: the edit log's transactions and syncs.
    let log_stats = fsn.edit_log.stats();
    let sync = fsn.edit_log.sync_latency();
    let activity = Bean::new(
        "Hadoop:service=NameNode,name=NameNodeActivity",
        "NameNodeActivity",
    )
    .record("NameNodeActivity")
    .tag("ProcessName", "NameNode")
    .tag("Context", "dfs")
    .tag("Hostname", host.clone())
    .counter("TransactionsNumOps", log_stats.txns)
    .counter("SyncsNumOps", sync.count)
    .gauge("SyncsAvgTime", sync.mean_millis());
    let mut beans = vec![status, fs, fs_state, info, ha, activity];
    if let Some((port, rpc)) = m.rpc.get() {
        beans.extend(hafs_http::rpc_beans(
            "NameNode",
            *port,
            &host,
            &rpc.snapshot(),
        ));
    }
    beans
}

/// The JournalNodes as this NameNode's edit-log writer sees them (an Active; empty on
/// a Standby): address, acknowledged txid, lag behind the last written txid, whether
/// the writer skips it until the next segment.
fn journal_nodes_json(fsn: &Namesystem, last_txid: u64) -> Vec<Value> {
    if !fsn.edit_log.is_writing() {
        return Vec::new();
    }
    fsn.edit_log
        .journal()
        .journal_nodes()
        .iter()
        .map(|n| {
            json!({
                "addr": n.addr,
                "ackedTxId": n.acked_txid,
                "lagTxns": last_txid.saturating_sub(n.acked_txid),
                "outOfSync": n.out_of_sync,
                "queuedBytes": n.queued_bytes,
            })
        })
        .collect()
}

/// Hadoop's `NameJournalStatus` (JSON in a string): one row per journal with the
/// writer's view of each JournalNode in `stream`, as Hadoop's UI shows it.
fn name_journal_status(fsn: &Namesystem, last_txid: u64) -> String {
    let journal = fsn.edit_log.journal();
    let nodes = if fsn.edit_log.is_writing() {
        journal.journal_nodes()
    } else {
        Vec::new()
    };
    let stream = if nodes.is_empty() {
        if fsn.edit_log.is_writing() {
            "open for write".to_string()
        } else {
            "not currently writing".to_string()
        }
    } else {
        let each: Vec<String> = nodes
            .iter()
            .map(|n| {
                let behind = last_txid.saturating_sub(n.acked_txid);
                if n.out_of_sync {
                    format!("{} (out of sync, skipped until the next segment)", n.addr)
                } else if behind > 0 {
                    format!("{} ({behind} txns behind)", n.addr)
                } else {
                    format!("{} (Written txid {})", n.addr, n.acked_txid)
                }
            })
            .collect();
        format!("Writing up to txid {last_txid}. {}", each.join(", "))
    };
    json!([{
        "manager": journal.describe(),
        "stream": stream,
        "disabled": "false",
        "required": "false",
    }])
    .to_string()
}

fn gb(bytes: u64) -> f64 {
    (bytes as f64 / (1u64 << 30) as f64 * 100.0).round() / 100.0
}

/// The `hafs_*` series.
pub fn prometheus(fsn: &Namesystem, out: &mut PromText) {
    let m = &fsn.metrics;
    let now = fsn.ha_state();
    let ns = fsn
        .config
        .ha
        .as_ref()
        .map_or("", |h| h.nameservice.as_str());
    let nn = fsn
        .config
        .ha
        .as_ref()
        .map_or("", |h| h.namenode_id.as_str());
    for s in [
        HaState::Active,
        HaState::Standby,
        HaState::Observer,
        HaState::Initializing,
    ] {
        let v = if s == now { 1.0 } else { 0.0 };
        out.gauge(
            "hafs_namenode_ha_state",
            &[
                ("nameservice", ns),
                ("namenode", nn),
                ("state", state_name(s)),
            ],
            v,
        );
    }
    let labels = [("nameservice", ns), ("namenode", nn)];
    out.gauge(
        "hafs_namenode_last_ha_transition_timestamp_seconds",
        &labels,
        m.last_ha_transition_ms() as f64 / 1000.0,
    );
    out.counter(
        "hafs_namenode_failovers_total",
        &labels,
        m.failovers() as f64,
    );
    let lag = if matches!(now, HaState::Standby | HaState::Observer) {
        NameNodeMetrics::millis_since(&m.tail_caught_up_ms)
    } else {
        0
    };
    out.gauge(
        "hafs_namenode_tailing_lag_seconds",
        &labels,
        lag as f64 / 1000.0,
    );
    out.gauge(
        "hafs_namenode_last_applied_txid",
        &labels,
        fsn.edit_log.applied_txid() as f64,
    );
    let sync = fsn.edit_log.sync_latency();
    out.help(
        "hafs_namenode_journal_sync_seconds",
        "histogram",
        "Time one group commit of edits took to become durable: a quorum write of the JournalNodes in HA.",
    );
    out.histogram(
        "hafs_namenode_journal_sync_seconds",
        &labels,
        &sync.buckets,
        sync.sum_seconds,
        sync.count,
    );
    if let Some((port, rpc)) = m.rpc.get() {
        hafs_http::rpc_prometheus(out, *port, &rpc.snapshot());
    }
}

/// DatanodeInfoProto.AdminState DECOMMISSIONED.
const DECOMMISSIONED: i32 = 2;

/// Hadoop's AdminStates names, as NameNodeInfo's node maps show them.
fn admin_state_name(state: Option<i32>) -> &'static str {
    match state.unwrap_or(0) {
        1 => "Decommission In Progress",
        2 => "Decommissioned",
        3 => "Entering Maintenance",
        4 => "In Maintenance",
        _ => "In Service",
    }
}

/// NameNodeInfo's EnteringMaintenanceNodes: each node entering maintenance, keyed
/// "host:xferPort", with the monitor's last count of the blocks holding it.
fn entering_maintenance_nodes(fsn: &Namesystem) -> String {
    let mut map = serde_json::Map::new();
    for (d, progress) in fsn
        .bm
        .leaving_progress(crate::blockmanagement::datanodes::AdminState::EnteringMaintenance)
    {
        let id = &d.id;
        map.insert(
            format!("{}:{}", id.host_name, id.xfer_port),
            json!({
                "xferaddr": format!("{}:{}", id.ip_addr, id.xfer_port),
                "underReplicatedBlocks": progress.low_redundancy,
                "maintenanceOnlyReplicas": 0,
                "underReplicateInOpenFiles": progress.open_files,
            }),
        );
    }
    Value::Object(map).to_string()
}

/// NameNodeInfo's DecomNodes: each node being decommissioned, keyed "host:xferPort",
/// with the monitor's last count of the blocks holding it.
fn decom_nodes(fsn: &Namesystem) -> String {
    let mut map = serde_json::Map::new();
    for (d, progress) in fsn.bm.decommissioning_progress() {
        let id = &d.id;
        map.insert(
            format!("{}:{}", id.host_name, id.xfer_port),
            json!({
                "xferaddr": format!("{}:{}", id.ip_addr, id.xfer_port),
                "underReplicatedBlocks": progress.low_redundancy,
                "decommissionOnlyReplicas": 0,
                "underReplicateInOpenFiles": progress.open_files,
            }),
        );
    }
    Value::Object(map).to_string()
}
