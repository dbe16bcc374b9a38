//! The Namesystem (Hadoop's FSNamesystem): the namespace behind its lock, the edit log,
//! the retry cache, leases, safe mode and the HA state — everything a handler needs,
//! with the one rule that makes it correct: plan, apply and log under the write lock,
//! then wait for durability outside it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hafs_ipc::RpcError;
use hafs_proto::hafs::RetryCacheId;
use prost::Message;
use tracing::{error, info, warn};

use crate::config::NameNodeConfig;
use crate::edit_log::{EditLog, EditLogFailed};
use crate::groups::GroupMapping;
use crate::namespace::{Caller, Namespace, NamespaceError, Planned};
use crate::retry_cache::{CallKey, RetryCache};
use crate::storage::{now_ms, NameStorage};

/// Hadoop's HAServiceState. This NameNode is always Active until the HA issue adds
/// transitions; every handler already goes through [`Namesystem::check_operation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaState {
    Initializing,
    Active,
    Standby,
}

/// Hadoop's OperationCategory: what a call needs from the HA state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationCategory {
    Unchecked,
    Read,
    Write,
}

pub struct Namesystem {
    ns: RwLock<Namespace>,
    pub edit_log: Arc<EditLog>,
    pub retry_cache: RetryCache,
    ha_state: RwLock<HaState>,
    safe_mode: AtomicBool,
    leases: Mutex<HashMap<String, Instant>>,
    pub config: NameNodeConfig,
    storage: NameStorage,
    checkpoint: tokio::sync::Mutex<CheckpointState>,
    groups: GroupMapping,
}

struct CheckpointState {
    last_txid: u64,
    at: Instant,
}

/// Maps a namespace error to the remote exception a Hadoop client expects.
pub fn ns_err(e: NamespaceError) -> RpcError {
    RpcError::new(e.java_class(), e.to_string())
}

fn log_err(e: EditLogFailed) -> RpcError {
    RpcError::io(e.to_string())
}

impl Namesystem {
    pub fn new(
        namespace: Namespace,
        edit_log: Arc<EditLog>,
        storage: NameStorage,
        config: NameNodeConfig,
        image_txid: u64,
        retry_ids: Vec<RetryCacheId>,
    ) -> Namesystem {
        let retry_cache = RetryCache::new(
            config.retry_cache_enabled,
            config.retry_cache_expiry,
            config.retry_cache_capacity,
        );
        for id in retry_ids {
            if let Some(key) = CallKey::new(&id.client_id, id.call_id) {
                retry_cache.add_replayed(key);
            }
        }
        // Every lease holder found in the image or edits gets a fresh lease: the hard
        // limit counts from this start, as in Hadoop.
        let now = Instant::now();
        let leases = namespace
            .files_under_construction()
            .map(|(_, uc)| (uc.client_name.clone(), now))
            .collect();
        let groups = GroupMapping::new(config.group_cache_ttl);
        Namesystem {
            ns: RwLock::new(namespace),
            edit_log,
            retry_cache,
            ha_state: RwLock::new(HaState::Active),
            safe_mode: AtomicBool::new(false),
            leases: Mutex::new(leases),
            storage,
            checkpoint: tokio::sync::Mutex::new(CheckpointState {
                last_txid: image_txid,
                at: Instant::now(),
            }),
            groups,
            config,
        }
    }

    pub fn ha_state(&self) -> HaState {
        *self.ha_state.read().expect("ha lock")
    }

    /// Refuses a call that this NameNode's HA state does not serve, with the
    /// StandbyException that makes clients fail over.
    pub fn check_operation(&self, cat: OperationCategory) -> Result<(), RpcError> {
        let state = self.ha_state();
        let allowed = match cat {
            OperationCategory::Unchecked => true,
            _ => state == HaState::Active,
        };
        if allowed {
            return Ok(());
        }
        let cat = match cat {
            OperationCategory::Read => "READ",
            _ => "WRITE",
        };
        let state = match state {
            HaState::Standby => "standby",
            HaState::Initializing => "initializing",
            HaState::Active => "active",
        };
        Err(RpcError::standby(format!(
            "Operation category {cat} is not supported in state {state}. \
             Visit https://s.apache.org/sbnn-error"
        )))
    }

    /// Who a call comes from: user, groups (from the OS, like Hadoop's shell group
    /// mapping), and whether they are a superuser.
    pub fn caller(&self, user: &str) -> Caller {
        let groups = self.groups.groups_of(user);
        let is_superuser =
            user == self.config.superuser || groups.contains(&self.config.supergroup);
        Caller {
            user: user.to_string(),
            groups,
            is_superuser,
        }
    }

    pub fn read(&self) -> RwLockReadGuard<'_, Namespace> {
        self.ns.read().expect("namespace lock")
    }

    pub fn check_superuser(&self, caller: &Caller, what: &str) -> Result<(), RpcError> {
        if caller.is_superuser || !self.config.permissions_enabled {
            return Ok(());
        }
        Err(RpcError::access_control(format!(
            "Access denied for user {}. Superuser privilege is required to {what}",
            caller.user
        )))
    }

    fn check_not_safe_mode(&self, what: &str) -> Result<(), RpcError> {
        if self.safe_mode.load(Ordering::Acquire) {
            return Err(RpcError::safe_mode(format!(
                "Cannot {what}. Name node is in safe mode.\nIt was turned on manually. \
                 Use \"hdfs dfsadmin -safemode leave\" to turn safe mode off."
            )));
        }
        Ok(())
    }

    /// Runs a mutation: `plan` validates against the namespace and returns the op (or a
    /// decision that nothing changes); the op is applied and logged under the write
    /// lock; then this waits, lock released, until the edit is durable. Returns the
    /// plan's boolean answer (true when an op was applied).
    pub async fn mutate(
        &self,
        what: &str,
        retry: Option<&CallKey>,
        plan: impl FnOnce(&Namespace) -> Result<Planned, NamespaceError>,
    ) -> Result<bool, RpcError> {
        self.check_operation(OperationCategory::Write)?;
        self.check_not_safe_mode(what)?;
        let (answer, txid) = {
            let mut ns = self.ns.write().expect("namespace lock");
            let planned = plan(&ns).map_err(ns_err)?;
            match planned {
                Planned::Done(b) => (b, None),
                Planned::Apply(mut op) => {
                    op.retry_cache = retry.map(|k| RetryCacheId {
                        client_id: k.client_id.clone(),
                        call_id: k.call_id,
                    });
                    let payload = op.encode_to_vec();
                    // Log first: if the log refuses, the namespace is unchanged.
                    let txid = self.edit_log.log(&payload).map_err(log_err)?;
                    if let Err(e) = ns.apply(&op) {
                        // plan() accepted what apply() refuses: a bug. The edit is
                        // already in the log, so replay would fail the same way; stop
                        // rather than diverge from the log.
                        error!(txid, "planned op failed to apply: {e}; op: {op:?}");
                        std::process::abort();
                    }
                    (true, Some(txid))
                }
            }
        };
        if let Some(txid) = txid {
            self.edit_log.sync(txid).await.map_err(log_err)?;
        }
        Ok(answer)
    }

    pub fn renew_lease(&self, holder: &str) {
        self.leases
            .lock()
            .expect("lease lock")
            .insert(holder.to_string(), Instant::now());
    }

    /// Closes files whose writer stopped renewing longer than the hard limit ago
    /// (without DataNodes there are no blocks to recover: the file is closed as is).
    pub async fn check_leases(&self) {
        if self.ha_state() != HaState::Active {
            return;
        }
        let hard = self.config.lease_hard_limit;
        let expired: Vec<(u64, String)> = {
            let ns = self.read();
            let leases = self.leases.lock().expect("lease lock");
            ns.files_under_construction()
                .filter(|(_, uc)| {
                    leases
                        .get(&uc.client_name)
                        .is_none_or(|t| t.elapsed() > hard)
                })
                .map(|(id, uc)| (id, uc.client_name.clone()))
                .collect()
        };
        for (inode_id, holder) in expired {
            let path = match self.read().path_of(inode_id) {
                Some(p) => p,
                None => continue,
            };
            info!(%path, %holder, "lease hard limit expired: closing file");
            let now = now_ms();
            let r = self
                .mutate("recover lease", None, |ns| {
                    // No DataNodes yet, so no block recovery: the file closes with the
                    // blocks it has (none).
                    ns.plan_close(&holder, &path, inode_id, &[], now)
                        .map(Planned::Apply)
                })
                .await;
            if let Err(e) = r {
                warn!(%path, "lease recovery failed: {e}");
            }
        }
        let ns = self.read();
        let live: std::collections::HashSet<String> = ns
            .files_under_construction()
            .map(|(_, uc)| uc.client_name.clone())
            .collect();
        self.leases
            .lock()
            .expect("lease lock")
            .retain(|h, t| live.contains(h) || t.elapsed() < hard);
    }

    pub fn set_safe_mode(&self, on: bool) {
        let was = self.safe_mode.swap(on, Ordering::AcqRel);
        if was != on {
            info!("safe mode is {}", if on { "ON" } else { "OFF" });
        }
    }

    pub fn in_safe_mode(&self) -> bool {
        self.safe_mode.load(Ordering::Acquire)
    }

    /// Saves an fsimage of the current namespace in every name dir, rolls the edit
    /// log, and purges images and edits beyond the retention settings. Returns the
    /// image's txid. The namespace is read-locked (writers wait, readers continue)
    /// only while the image is serialized in memory.
    pub async fn save_namespace(self: &Arc<Self>) -> Result<u64, RpcError> {
        let mut cp = self.checkpoint.lock().await;
        let (txid, body) = {
            let ns = self.read();
            (self.edit_log.last_written_txid(), ns.save_image())
        };
        // The image must never be ahead of the durable log.
        self.edit_log.sync(txid).await.map_err(log_err)?;
        let this = self.clone();
        let retained = self.config.checkpoints_retained;
        let oldest =
            tokio::task::spawn_blocking(move || this.storage.save_image(txid, &body, retained))
                .await
                .map_err(|e| RpcError::io(format!("checkpoint task failed: {e}")))?
                .map_err(|e| RpcError::io(format!("saving the namespace failed: {e}")))?;
        self.edit_log.roll().await.map_err(log_err)?;
        if let Some(oldest) = oldest {
            let keep_from = (oldest + 1).saturating_sub(self.config.extra_edits_retained);
            if let Err(e) = self.journal_purge(keep_from).await {
                warn!("purging old edits failed: {e}");
            }
        }
        cp.last_txid = txid;
        cp.at = Instant::now();
        info!(txid, "saved namespace");
        Ok(txid)
    }

    async fn journal_purge(&self, keep_from: u64) -> Result<(), String> {
        self.edit_log
            .journal()
            .purge_logs_older_than(keep_from)
            .await
            .map_err(|e| e.to_string())
    }

    /// Checkpoints when `dfs.namenode.checkpoint.txns` edits or
    /// `dfs.namenode.checkpoint.period` have passed since the last one.
    pub async fn maybe_checkpoint(self: &Arc<Self>) {
        let due = {
            let cp = self.checkpoint.lock().await;
            let txns = self
                .edit_log
                .last_written_txid()
                .saturating_sub(cp.last_txid);
            txns > 0
                && (txns >= self.config.checkpoint_txns
                    || cp.at.elapsed() >= self.config.checkpoint_period)
        };
        if due {
            if let Err(e) = self.save_namespace().await {
                warn!("periodic checkpoint failed: {e}");
            }
        }
    }

    pub fn memory_report(&self) -> crate::namespace::MemoryStats {
        self.read().memory_estimate()
    }

    /// For the retry cache: the key of a call if it can be de-duplicated.
    pub fn call_key(client_id: &Bytes, call_id: i32) -> Option<CallKey> {
        CallKey::new(client_id, call_id)
    }
}

/// How often background duties run.
pub const LEASE_CHECK_INTERVAL: Duration = Duration::from_secs(2);
