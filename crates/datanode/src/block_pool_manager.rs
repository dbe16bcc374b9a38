//! The nameservices a running DataNode serves, one [`BlockPoolService`] each (Hadoop's
//! BlockPoolManager), and `refreshNamenodes`: the configuration is re-read and the
//! services compared by nameservice id — one for a nameservice no longer listed is
//! stopped (its replicas stay on disk; `deleteBlockPool` removes them), one for a new
//! nameservice is started (it registers, writes the pool's VERSION on every volume and
//! sends its block report), and one whose NameNode list changed is restarted with the
//! new list.

use std::sync::Arc;

use hafs_proto::hdfs::DatanodeIdProto;
use tokio::sync::{watch, Mutex};
use tracing::info;

use crate::actor::{ActorSettings, BlockEventRouter, BlockPoolService, DataNodeOps};
use crate::datanode::BlockPoolConfig;

struct ServedPool {
    config: BlockPoolConfig,
    service: BlockPoolService,
}

/// What a refresh changed, by nameservice id (empty: the non-federated one).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RefreshOutcome {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Kept, with a changed NameNode list (their actors restarted).
    pub refreshed: Vec<String>,
}

pub struct BlockPoolManager {
    id: DatanodeIdProto,
    settings: ActorSettings,
    ops: Arc<dyn DataNodeOps>,
    router: BlockEventRouter,
    /// An async lock: refreshes are serialized, and stopping a service awaits.
    pools: Mutex<Vec<ServedPool>>,
    /// Bumped at every change of `pools`, so [`all_refused`](Self::all_refused)
    /// looks at the new set.
    generation: watch::Sender<u64>,
}

impl BlockPoolManager {
    /// Starts one service per nameservice of `configs` and routes the data path's
    /// events to them.
    pub fn start(
        configs: &[BlockPoolConfig],
        id: DatanodeIdProto,
        settings: ActorSettings,
        ops: Arc<dyn DataNodeOps>,
    ) -> BlockPoolManager {
        let pools: Vec<ServedPool> = configs
            .iter()
            .map(|c| ServedPool {
                config: c.clone(),
                service: BlockPoolService::start(
                    c.namenodes.clone(),
                    id.clone(),
                    settings.clone(),
                    ops.clone(),
                ),
            })
            .collect();
        let router = BlockEventRouter::new(pools.iter().map(|p| p.service.events()).collect());
        BlockPoolManager {
            id,
            settings,
            ops,
            router,
            pools: Mutex::new(pools),
            generation: watch::channel(0).0,
        }
    }

    /// Routes block events to the pools served now.
    pub fn router(&self) -> BlockEventRouter {
        self.router.clone()
    }

    /// The nameservice ids served, in configuration order.
    pub async fn nameservices(&self) -> Vec<String> {
        let pools = self.pools.lock().await;
        pools.iter().map(|p| p.config.nameservice.clone()).collect()
    }

    /// Whether a running service has `bpid` as its block pool (Hadoop's
    /// `blockPoolManager.get(bpid) != null`).
    pub async fn serves_block_pool(&self, bpid: &str) -> bool {
        let pools = self.pools.lock().await;
        pools
            .iter()
            .any(|p| p.service.block_pool_id().as_deref() == Some(bpid))
    }

    /// Makes the served set `wanted`: stops the services of nameservices it lacks,
    /// starts those of new ones, restarts those whose NameNode list changed. Stopping
    /// aborts the actors' tasks, so it does not wait on a NameNode.
    pub async fn refresh(&self, wanted: &[BlockPoolConfig]) -> RefreshOutcome {
        let mut pools = self.pools.lock().await;
        let mut outcome = RefreshOutcome::default();
        let mut kept = Vec::new();
        for p in pools.drain(..) {
            match wanted
                .iter()
                .find(|w| w.nameservice == p.config.nameservice)
            {
                Some(w) if w.namenodes == p.config.namenodes => kept.push(p),
                Some(_) => {
                    outcome.refreshed.push(p.config.nameservice.clone());
                    p.service.stop().await;
                }
                None => {
                    outcome.removed.push(p.config.nameservice.clone());
                    info!(nameservice = %p.config.nameservice, block_pool = ?p.service.block_pool_id(),
                          "refreshNamenodes: stopping the block pool service");
                    p.service.stop().await;
                }
            }
        }
        // Configuration order, each kept service where its nameservice is listed.
        for w in wanted {
            if let Some(i) = kept
                .iter()
                .position(|k| k.config.nameservice == w.nameservice)
            {
                pools.push(kept.swap_remove(i));
                continue;
            }
            if !outcome.refreshed.contains(&w.nameservice) {
                outcome.added.push(w.nameservice.clone());
            }
            info!(nameservice = %w.nameservice, namenodes = ?w.namenodes,
                  "refreshNamenodes: starting the block pool service");
            pools.push(ServedPool {
                config: w.clone(),
                service: BlockPoolService::start(
                    w.namenodes.clone(),
                    self.id.clone(),
                    self.settings.clone(),
                    self.ops.clone(),
                ),
            });
        }
        self.router
            .set_pools(pools.iter().map(|p| p.service.events()).collect());
        self.generation.send_modify(|g| *g += 1);
        outcome
    }

    /// Resolves when every NameNode of every served nameservice refused this DataNode
    /// (nothing left to serve); never while none is served or after a refresh brought
    /// a new one.
    pub async fn all_refused(&self) {
        let mut generation = self.generation.subscribe();
        loop {
            generation.borrow_and_update();
            let alive: Vec<watch::Receiver<usize>> = {
                let pools = self.pools.lock().await;
                pools.iter().map(|p| p.service.alive()).collect()
            };
            let all_down = async {
                if alive.is_empty() {
                    return std::future::pending().await;
                }
                for mut a in alive {
                    // An error: the service was stopped by a refresh, not refused.
                    if a.wait_for(|n| *n == 0).await.is_err() {
                        return std::future::pending().await;
                    }
                }
            };
            tokio::select! {
                () = all_down => return,
                r = generation.changed() => {
                    if r.is_err() {
                        return std::future::pending().await;
                    }
                }
            }
        }
    }

    /// Stops every service (DataNode shutdown).
    pub async fn stop_all(&self) {
        let mut pools = self.pools.lock().await;
        for p in pools.drain(..) {
            p.service.stop().await;
        }
        self.router.set_pools(Vec::new());
    }
}
