//! The block pool service: the actors of all NameNodes of one nameservice, the state
//! they share (the Active tracker, the namespace identity), the fan-out of block
//! events to every actor, and the executor of the Active's commands.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hafs_proto::hdfs::datanode::CommitBlockSynchronizationRequestProto;
use hafs_proto::hdfs::DatanodeIdProto;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::ha::{ActiveTracker, HaState};
use super::nn_client::NameNodeClient;
use super::queue::{ActorQueue, BadBlock, ErrorReport, IbrEntry, IbrStatus};
use super::queue::{ERROR_DISK_ERROR, ERROR_FATAL_DISK_ERROR};
use super::service_actor::run_actor;
use super::{BlockCommand, DataNodeOps, NamespaceInfo};
use crate::storage::BlockEvent;

/// Timing of the conversation with NameNodes.
#[derive(Debug, Clone)]
pub struct ActorSettings {
    /// `dfs.heartbeat.interval`.
    pub heartbeat_interval: Duration,
    /// `dfs.blockreport.intervalMsec`.
    pub block_report_interval: Duration,
    /// `dfs.blockreport.initialDelay`: the first full report after registration waits
    /// a random time below this (0: at once).
    pub block_report_initial_delay: Duration,
    /// `dfs.blockreport.incremental.intervalMsec`: how long an incremental report of a
    /// finalized or deleted replica waits for more events to batch with (0: none,
    /// Hadoop's default; events that arrive while a report is in flight still travel
    /// together in the next one).
    pub ibr_batch_delay: Duration,
    /// Bound on every call to a NameNode.
    pub call_timeout: Duration,
    /// Longest wait between reconnection attempts to a NameNode that is down.
    pub max_backoff: Duration,
    /// Sent in registrations.
    pub software_version: String,
    /// Where block keys from every NameNode go (registration replies, KeyUpdateCommands).
    pub security: Arc<crate::security::DataTransferSecurity>,
    /// The local address NameNode connections are made from: the DataNode's own
    /// address when it binds a specific one (several DataNodes on one host, each on its
    /// own 127.0.0.x, must look like distinct hosts to the NameNode).
    pub bind_address: Option<std::net::IpAddr>,
    /// Where BalancerBandwidthCommands go (shared with the data-transfer server).
    pub balance: Arc<crate::balance::BalanceLimits>,
}

impl Default for ActorSettings {
    fn default() -> Self {
        ActorSettings {
            heartbeat_interval: Duration::from_secs(3),
            block_report_interval: Duration::from_millis(21_600_000),
            block_report_initial_delay: Duration::ZERO,
            ibr_batch_delay: Duration::ZERO,
            call_timeout: Duration::from_secs(60),
            max_backoff: Duration::from_secs(5),
            software_version: hafs_proto::HADOOP_VERSION.to_string(),
            security: Arc::default(),
            bind_address: None,
            balance: Arc::default(),
        }
    }
}

/// Commands of the Active waiting for the executor; beyond this, new ones are dropped
/// with a warning (the NameNode re-issues work that is not done in time).
const MAX_QUEUED_COMMANDS: usize = 1024;
/// Commands executed at once (transfers take a while; deletes should not wait).
const MAX_CONCURRENT_COMMANDS: usize = 8;

/// What the DataNode knows about one of its NameNodes (for logs, tests, reports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameNodeStatus {
    pub addr: String,
    pub registered: bool,
    /// From the last heartbeat reply.
    pub ha_state: Option<HaState>,
    pub txid: u64,
    /// Full block reports accepted by this NameNode since startup.
    pub full_reports_sent: u64,
    /// Set when this NameNode was refused for good (another cluster).
    pub refused: Option<String>,
}

pub(crate) struct ActorSlot {
    pub client: Arc<NameNodeClient>,
    pub queue: Arc<ActorQueue>,
    pub status: Mutex<NameNodeStatus>,
}

pub(crate) struct Shared {
    pub settings: ActorSettings,
    pub ops: Arc<dyn DataNodeOps>,
    /// This DataNode's addresses and UUID.
    pub id: DatanodeIdProto,
    pub tracker: Mutex<ActiveTracker>,
    /// The namespace the first NameNode described; the others must agree.
    pub namespace: Mutex<Option<NamespaceInfo>>,
    pub actors: Vec<ActorSlot>,
    pub commands: mpsc::Sender<BlockCommand>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section is a few assignments; a poisoned lock holds sane data.
    hafs_util::invariant::lock(m, "actor pool")
}

impl Shared {
    pub fn slot(&self, idx: usize) -> &ActorSlot {
        &self.actors[idx]
    }

    pub fn block_pool_id(&self) -> Option<String> {
        lock(&self.namespace)
            .as_ref()
            .map(|n| n.block_pool_id.clone())
    }
}

/// Reaches the NameNode currently taken as Active.
#[derive(Clone)]
pub struct ActiveNameNode {
    shared: Arc<Shared>,
}

impl ActiveNameNode {
    /// The Active's RPC address, if one is known.
    pub fn addr(&self) -> Option<String> {
        let idx = lock(&self.shared.tracker).active()?;
        Some(self.shared.slot(idx).client.addr().to_string())
    }

    /// This DataNode's identity as NameNodes know it.
    pub fn datanode_id(&self) -> DatanodeIdProto {
        self.shared.id.clone()
    }

    /// Reports the outcome of a block recovery to the Active.
    pub async fn commit_block_synchronization(
        &self,
        req: &CommitBlockSynchronizationRequestProto,
    ) -> Result<(), String> {
        let idx = lock(&self.shared.tracker)
            .active()
            .ok_or_else(|| "no Active NameNode is known".to_string())?;
        let client = self.shared.slot(idx).client.clone();
        client
            .commit_block_synchronization(req)
            .await
            .map_err(|e| format!("commitBlockSynchronization to {}: {e}", client.addr()))
    }
}

/// Forwards block events to every NameNode's queue.
#[derive(Clone)]
pub struct BlockEventSink {
    shared: Arc<Shared>,
}

impl BlockEventSink {
    pub fn send(&self, event: BlockEvent) {
        let ours = self.shared.block_pool_id();
        let wrong_pool = |pool: &str| ours.as_deref().is_some_and(|o| o != pool);
        match event {
            BlockEvent::Receiving { block, storage_id } => {
                if wrong_pool(&block.pool_id) {
                    return debug!(pool = %block.pool_id, "event for another block pool");
                }
                self.ibr(&storage_id, &block, IbrStatus::Receiving, None);
            }
            BlockEvent::Received {
                block,
                storage_id,
                del_hint,
            } => {
                if wrong_pool(&block.pool_id) {
                    return debug!(pool = %block.pool_id, "event for another block pool");
                }
                let hint = (!del_hint.is_empty()).then_some(del_hint);
                self.ibr(&storage_id, &block, IbrStatus::Received, hint);
            }
            BlockEvent::Corrupt {
                block,
                storage_id,
                reason,
            } => {
                warn!(block = %block.block_name(), %storage_id, %reason, "corrupt replica; reporting it");
                for a in &self.shared.actors {
                    a.queue.add_bad_block(BadBlock {
                        block_pool_id: block.pool_id.clone(),
                        block_id: block.block_id,
                        gen_stamp: block.gen_stamp,
                        num_bytes: block.num_bytes,
                        storage_uuid: storage_id.clone(),
                    });
                }
            }
            BlockEvent::VolumeFailed {
                storage_id,
                dir,
                reason,
            } => {
                let healthy = self.shared.ops.storage_usage("").iter().any(|s| !s.failed);
                let code = if healthy {
                    ERROR_DISK_ERROR
                } else {
                    ERROR_FATAL_DISK_ERROR
                };
                let msg = format!(
                    "volume {} (storage {storage_id}) failed: {reason}",
                    dir.display()
                );
                for a in &self.shared.actors {
                    a.queue.add_error(ErrorReport {
                        code,
                        msg: msg.clone(),
                    });
                }
            }
        }
    }

    /// A replica deleted (by an INVALIDATE command or otherwise).
    pub fn deleted(&self, storage_id: &str, block: &crate::storage::ExtendedBlock) {
        self.ibr(storage_id, block, IbrStatus::Deleted, None);
    }

    fn ibr(
        &self,
        storage_id: &str,
        block: &crate::storage::ExtendedBlock,
        status: IbrStatus,
        delete_hint: Option<String>,
    ) {
        for a in &self.shared.actors {
            a.queue.add_ibr(
                storage_id,
                IbrEntry {
                    block_id: block.block_id,
                    gen_stamp: block.gen_stamp,
                    num_bytes: block.num_bytes,
                    status,
                    delete_hint: delete_hint.clone(),
                },
            );
        }
    }
}

/// Routes the data path's block events to the block pool they belong to (federation:
/// one [`BlockPoolService`] per nameservice). A volume failure concerns every pool.
/// Clones share the set of pools, which `refreshNamenodes` changes while the data path
/// runs ([`set_pools`](Self::set_pools)).
#[derive(Clone)]
pub struct BlockEventRouter {
    pools: Arc<std::sync::RwLock<Vec<BlockEventSink>>>,
}

impl BlockEventRouter {
    pub fn new(pools: Vec<BlockEventSink>) -> BlockEventRouter {
        BlockEventRouter {
            pools: Arc::new(std::sync::RwLock::new(pools)),
        }
    }

    /// Replaces the pools served (after a refresh added or removed nameservices).
    pub fn set_pools(&self, pools: Vec<BlockEventSink>) {
        *self.pools.write().unwrap_or_else(|e| e.into_inner()) = pools;
    }

    fn pools(&self) -> Vec<BlockEventSink> {
        self.pools.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The pool `pool_id` is: the service whose NameNodes gave that id; else, before
    /// every service knows its id, the only one that does not know it yet.
    fn pool(&self, pool_id: &str) -> Option<BlockEventSink> {
        let pools = self.pools();
        let mut unknown = Vec::new();
        for p in &pools {
            match p.shared.block_pool_id() {
                Some(id) if id == pool_id => return Some(p.clone()),
                Some(_) => {}
                None => unknown.push(p),
            }
        }
        match unknown.as_slice() {
            [one] => Some((*one).clone()),
            _ => None,
        }
    }

    pub fn send(&self, event: BlockEvent) {
        let pool_id = match &event {
            BlockEvent::Receiving { block, .. }
            | BlockEvent::Received { block, .. }
            | BlockEvent::Corrupt { block, .. } => block.pool_id.clone(),
            BlockEvent::VolumeFailed { .. } => {
                for p in &self.pools() {
                    p.send(event.clone());
                }
                return;
            }
        };
        match self.pool(&pool_id) {
            Some(p) => p.send(event),
            None => debug!(pool = %pool_id, "event for a block pool this DataNode does not serve"),
        }
    }

    /// A replica deleted (by an INVALIDATE command or otherwise): its pool's NameNodes
    /// are told.
    pub fn deleted(&self, storage_id: &str, block: &crate::storage::ExtendedBlock) {
        match self.pool(&block.pool_id) {
            Some(p) => p.deleted(storage_id, block),
            None => {
                debug!(pool = %block.pool_id, "deletion in a block pool this DataNode does not serve")
            }
        }
    }

    /// Forwards the data path's events until the sender side closes.
    pub fn forward(&self, mut rx: mpsc::Receiver<BlockEvent>) -> JoinHandle<()> {
        let router = self.clone();
        tokio::spawn(async move {
            while let Some(ev) = rx.recv().await {
                router.send(ev);
            }
        })
    }
}

/// The actors of every NameNode of one nameservice, and their shared state.
pub struct BlockPoolService {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// Actors still running (not refused); 0 means no NameNode will be served.
    alive: watch::Receiver<usize>,
}

impl BlockPoolService {
    /// Starts one actor per NameNode address. `id` carries this DataNode's addresses
    /// and UUID.
    pub fn start(
        namenodes: Vec<String>,
        id: DatanodeIdProto,
        settings: ActorSettings,
        ops: Arc<dyn DataNodeOps>,
    ) -> BlockPoolService {
        let (cmd_tx, cmd_rx) = mpsc::channel(MAX_QUEUED_COMMANDS);
        let actors = namenodes
            .iter()
            .map(|addr| ActorSlot {
                client: Arc::new(NameNodeClient::new(
                    addr,
                    settings.call_timeout,
                    settings.bind_address,
                )),
                queue: Arc::new(ActorQueue::new()),
                status: Mutex::new(NameNodeStatus {
                    addr: addr.clone(),
                    registered: false,
                    ha_state: None,
                    txid: 0,
                    full_reports_sent: 0,
                    refused: None,
                }),
            })
            .collect();
        let shared = Arc::new(Shared {
            settings,
            ops,
            id,
            tracker: Mutex::new(ActiveTracker::new()),
            namespace: Mutex::new(None),
            actors,
            commands: cmd_tx,
        });
        let (stop, stop_rx) = watch::channel(false);
        let (alive_tx, alive) = watch::channel(namenodes.len());
        let alive_tx = Arc::new(alive_tx);
        let mut tasks = Vec::new();
        for idx in 0..namenodes.len() {
            let shared = shared.clone();
            let stop_rx = stop_rx.clone();
            let alive_tx = alive_tx.clone();
            tasks.push(tokio::spawn(async move {
                let refused = run_actor(shared, idx, stop_rx).await.is_err();
                if refused {
                    alive_tx.send_modify(|n| *n = n.saturating_sub(1));
                }
            }));
        }
        tasks.push(tokio::spawn(execute_commands(
            ActiveNameNode {
                shared: shared.clone(),
            },
            cmd_rx,
            stop_rx,
        )));
        BlockPoolService {
            shared,
            stop,
            tasks,
            alive,
        }
    }

    pub fn events(&self) -> BlockEventSink {
        BlockEventSink {
            shared: self.shared.clone(),
        }
    }

    /// Forwards the data path's events until the sender side closes.
    pub fn forward_events(&mut self, mut rx: mpsc::Receiver<BlockEvent>) {
        let sink = self.events();
        self.tasks.push(tokio::spawn(async move {
            while let Some(ev) = rx.recv().await {
                sink.send(ev);
            }
        }));
    }

    pub fn active(&self) -> ActiveNameNode {
        ActiveNameNode {
            shared: self.shared.clone(),
        }
    }

    pub fn status(&self) -> Vec<NameNodeStatus> {
        self.shared
            .actors
            .iter()
            .map(|a| lock(&a.status).clone())
            .collect()
    }

    /// The block pool id, once a NameNode has told it.
    pub fn block_pool_id(&self) -> Option<String> {
        self.shared.block_pool_id()
    }

    /// How many of its NameNodes' actors still run (0: every one refused this DataNode).
    pub fn alive(&self) -> watch::Receiver<usize> {
        self.alive.clone()
    }

    /// Resolves when every NameNode has been refused for good (the storage belongs to
    /// another cluster): the DataNode has nothing left to serve.
    pub async fn all_refused(&self) {
        let mut alive = self.alive.clone();
        let _ = alive.wait_for(|n| *n == 0).await;
    }

    /// Stops every actor and the command executor.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            t.abort();
            let _ = t.await;
        }
        info!("NameNode actors stopped");
    }
}

async fn execute_commands(
    active: ActiveNameNode,
    mut rx: mpsc::Receiver<BlockCommand>,
    mut stop: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONCURRENT_COMMANDS));
    loop {
        let cmd = tokio::select! {
            _ = stop.changed() => return,
            c = rx.recv() => match c { Some(c) => c, None => return },
        };
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let active = active.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let what = format!("{cmd:?}");
            match active.shared.ops.execute(cmd, active.clone()).await {
                Ok(()) => debug!(command = %what, elapsed = ?started.elapsed(), "command done"),
                Err(e) => warn!(command = %what, error = %e, "command failed"),
            }
            drop(permit);
        });
    }
}

/// Queues a command of the Active; false when the queue is full.
pub(crate) fn queue_command(shared: &Shared, cmd: BlockCommand) -> bool {
    match shared.commands.try_send(cmd) {
        Ok(()) => true,
        Err(e) => {
            warn!(error = %e, "command queue full; dropping a command of the Active NameNode");
            false
        }
    }
}
