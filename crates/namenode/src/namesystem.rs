//! The Namesystem (Hadoop's FSNamesystem): the namespace behind its lock, the edit log,
//! the retry cache, leases, safe mode and the HA state — everything a handler needs,
//! with the one rule that makes it correct: plan, apply and log under the write lock,
//! then wait for durability outside it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use hafs_ipc::RpcError;
use hafs_proto::hafs::RetryCacheId;
use prost::Message;
use tracing::{error, info, warn};

use crate::blockmanagement::{Block, BlockManager};
use crate::config::NameNodeConfig;
use crate::edit_log::EditLogFailed;
use crate::ha::EditLogSlot;
use crate::leases::{LeaseLimits, LeaseManager, DEFAULT_SOFT_LIMIT};
use crate::namespace::{ApplyOutcome, Caller, EditOp, Namespace, NamespaceError, Planned};
use crate::retry_cache::{CallKey, RetryCache};
use crate::storage::NameStorage;
use hafs_security::groups::GroupMapping;

/// Hadoop's HAServiceState. Transitions are made by [`crate::ha::HaController`];
/// every handler goes through [`Namesystem::check_operation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaState {
    Initializing,
    Active,
    Standby,
    /// A Standby that serves reads (Hadoop 3.3's Observer NameNode): it tails the
    /// edits like a Standby, answers READ-category calls, aligned with the client's
    /// state (ha::state_alignment), and is never made Active.
    Observer,
}

/// Hadoop's OperationCategory: what a call needs from the HA state. It lives in the
/// IPC crate because every ClientProtocol method's row carries one
/// (`client_protocol`'s table); [`Namesystem::check_operation`] enforces it.
pub use hafs_ipc::OperationCategory;

pub struct Namesystem {
    ns: RwLock<Namespace>,
    /// The writer when Active; the tailer's position when Standby.
    pub edit_log: EditLogSlot,
    pub retry_cache: RetryCache,
    ha_state: RwLock<HaState>,
    /// Counters for `/jmx` and `/prom` (HA history, tailing lag).
    pub metrics: crate::metrics::NameNodeMetrics,
    /// While Active under the built-in election: serve only before the controller's
    /// lease deadline (the read guard, docs/election.md).
    pub active_guard: crate::ha::ActiveGuard,
    safe_mode: AtomicBool,
    pub(crate) leases: Mutex<LeaseManager>,
    /// Blocks, DataNodes and replicas (shared with the DatanodeProtocol service).
    pub bm: Arc<BlockManager>,
    pub config: NameNodeConfig,
    storage: NameStorage,
    checkpoint: tokio::sync::Mutex<CheckpointState>,
    groups: Arc<GroupMapping>,
    /// `hadoop.security.auth_to_local` for delegation token names (renewers, owners);
    /// the daemon installs its rules with [`Namesystem::set_name_mapper`].
    name_mapper: RwLock<crate::security::NameMapper>,
    /// The namespace's storage policy epoch last pushed to the block manager.
    policy_epoch_pushed: std::sync::atomic::AtomicU64,
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
    /// A client write whose edit could not be logged or made durable. An HA NameNode
    /// steps down when its journal fails (ha/mod.rs), so it answers as a Standby
    /// would: the client fails over and retries on the new Active, whose retry cache
    /// (rebuilt from the rpc ids in the log) answers the retry if the edit survived
    /// that writer's recovery — the outcome of this attempt is unknown, so "failed"
    /// would be a wrong answer. Without HA the NameNode exits: an IOException.
    fn write_err(&self, e: EditLogFailed) -> RpcError {
        if self.config.ha.is_some() {
            RpcError::standby(format!("this NameNode is stepping down: {e}"))
        } else {
            log_err(e)
        }
    }
}

impl Namesystem {
    pub fn new(
        namespace: Namespace,
        edit_log: EditLogSlot,
        storage: NameStorage,
        config: NameNodeConfig,
        image_txid: u64,
        retry_ids: Vec<RetryCacheId>,
        bm: Arc<BlockManager>,
    ) -> Namesystem {
        let retry_cache = RetryCache::new(
            config.retry_cache_enabled,
            config.retry_cache_expiry,
            config.retry_cache_budget,
        );
        info!(
            enabled = config.retry_cache_enabled,
            budget_bytes = config.retry_cache_budget,
            expiry_ms = config.retry_cache_expiry.as_millis() as u64,
            "retry cache"
        );
        for id in retry_ids {
            if let Some(key) = CallKey::new(&id.client_id, id.call_id) {
                retry_cache.add_replayed(key);
            }
        }
        // Every lease holder found in the image or edits gets a fresh lease: the hard
        // limit counts from this start, as in Hadoop.
        let now = bm.now();
        let hard = config.lease_hard_limit;
        let mut leases = LeaseManager::new(LeaseLimits {
            soft: DEFAULT_SOFT_LIMIT.min(hard),
            hard,
            recovery_retry: hard.min(Duration::from_secs(10)),
        });
        for (_, uc) in namespace.files_under_construction() {
            leases.renew(&uc.client_name, now);
        }
        // The block manager learns every block the image and edits hold.
        bm.reserve_blocks(
            namespace
                .block_collections()
                .map(|(_, _, blocks, _)| blocks.len())
                .sum(),
        );
        for (inode_id, replication, blocks, uc) in namespace.block_collections() {
            let blocks: Vec<Block> = blocks.iter().map(to_bm_block).collect();
            bm.add_block_collection(inode_id, replication, &blocks, uc);
        }
        // Blocks of deleted or overwritten files that snapshots still hold.
        for (inode_id, replication, block) in namespace.snapshot_only_blocks() {
            bm.add_block_collection(inode_id, replication, &[to_bm_block(&block)], false);
        }
        let groups = Arc::new(GroupMapping::new(
            config.group_cache_ttl,
            config.group_overrides.clone(),
        ));
        Namesystem {
            ns: RwLock::new(namespace),
            edit_log,
            retry_cache,
            metrics: {
                let m = crate::metrics::NameNodeMetrics::default();
                m.state_changed();
                m
            },
            ha_state: RwLock::new(if config.ha.is_some() {
                HaState::Standby
            } else {
                HaState::Active
            }),
            active_guard: crate::ha::ActiveGuard::default(),
            safe_mode: AtomicBool::new(false),
            leases: Mutex::new(leases),
            bm,
            storage,
            checkpoint: tokio::sync::Mutex::new(CheckpointState {
                last_txid: image_txid,
                at: now,
            }),
            groups,
            config,
            name_mapper: RwLock::new(crate::security::token_method::default_name_mapper()),
            policy_epoch_pushed: std::sync::atomic::AtomicU64::new(u64::MAX),
        }
    }

    /// Gives the block manager the files whose effective storage policy is not the
    /// default, when a policy, a rename, a delete or a load changed the namespace
    /// since the last push (re-replication reads them; the block manager never calls
    /// into the namespace). Called by the redundancy monitor before each round and
    /// after each set/unsetStoragePolicy.
    pub fn refresh_storage_policies(&self) {
        let ns = self.read();
        let epoch = ns.storage_policy_epoch();
        if self
            .policy_epoch_pushed
            .swap(epoch, std::sync::atomic::Ordering::Relaxed)
            == epoch
        {
            return;
        }
        // Under the read lock, so no newer epoch's table is overwritten by this one.
        self.bm.set_file_policies(ns.file_storage_policies());
    }

    /// Installs the principal → short name mapping (`hadoop.security.auth_to_local`).
    pub fn set_name_mapper(&self, mapper: crate::security::NameMapper) {
        *self.name_mapper.write().expect("name mapper lock") = mapper;
    }

    /// The principal → short name mapping.
    pub fn name_mapper(&self) -> crate::security::NameMapper {
        self.name_mapper.read().expect("name mapper lock").clone()
    }

    pub fn ha_state(&self) -> HaState {
        *self.ha_state.read().expect("ha lock")
    }

    /// Sets the HA state (the HA controller, during a transition).
    pub(crate) fn set_ha_state(&self, state: HaState) {
        let mut s = self.ha_state.write().expect("ha lock");
        if *s != state {
            self.metrics.state_changed();
        }
        *s = state;
    }

    /// The namespace write lock (HA transitions and the tailer).
    pub(crate) fn write_ns(&self) -> std::sync::RwLockWriteGuard<'_, Namespace> {
        self.ns.write().expect("namespace lock")
    }

    pub(crate) fn storage(&self) -> &NameStorage {
        &self.storage
    }

    /// A cheap fingerprint of the namespace: crc32c of its fsimage body. Two
    /// NameNodes at the same txid must agree (tests compare an Active and a Standby).
    /// Returns (last txid in the namespace, digest), read under one lock.
    pub fn namespace_digest(&self) -> (u64, u32) {
        let ns = self.read();
        let txid = self.edit_log.last_written_txid();
        (txid, crc32c::crc32c(&ns.save_image()))
    }

    /// Applies edits read from the shared journal (a Standby's tailer, or a new Active
    /// catching up) through the same `apply` the Active used, in txid order, and
    /// brings the block manager, the retry cache and the leases along. Returns the
    /// last txid applied. Records at or below the applied txid are skipped; a gap is
    /// an error.
    pub fn apply_tailed(
        &self,
        records: &[hafs_journal::EditRecord],
    ) -> Result<u64, crate::ha::TailError> {
        use crate::ha::TailError;
        let mut ns = self.ns.write().expect("namespace lock");
        let mut last = self.edit_log.applied_txid();
        let now = self.now();
        for rec in records {
            if rec.txid <= last {
                continue;
            }
            if rec.txid != last + 1 {
                return Err(TailError::Gap {
                    expected: last + 1,
                    found: rec.txid,
                });
            }
            let op = EditOp::decode(rec.payload.as_ref()).map_err(|e| TailError::Undecodable {
                txid: rec.txid,
                message: e.to_string(),
            })?;
            let outcome = ns.apply(&op).map_err(|e| TailError::NotApplicable {
                txid: rec.txid,
                message: e.to_string(),
            })?;
            if let Some(id) = &op.retry_cache {
                if let Some(key) = CallKey::new(&id.client_id, id.call_id) {
                    self.retry_cache.add_replayed(key);
                }
            }
            if !outcome.removed_blocks.is_empty() {
                let ids: Vec<u64> = outcome.removed_blocks.iter().map(|b| b.block_id).collect();
                self.bm.remove_blocks(&ids);
            }
            if let Some(inode_id) = outcome.inode_id {
                self.block_collection_to_bm(&ns, inode_id);
                if let Some(uc) = ns.under_construction(inode_id) {
                    self.leases
                        .lock()
                        .expect("lease lock")
                        .renew(&uc.client_name, now);
                }
            }
            last = rec.txid;
            self.edit_log.set_applied_txid(last);
        }
        Ok(last)
    }

    /// Now, by the NameNode's one clock (the block manager's, injected where it is
    /// built): lease limits and checkpoint periods are decided on it.
    pub fn now(&self) -> Instant {
        self.bm.now()
    }

    /// Gives every writer of an open file a fresh lease (a new Active: the hard limit
    /// counts from now, as after a restart).
    pub(crate) fn renew_all_leases(&self) {
        let ns = self.read();
        let now = self.now();
        let mut leases = self.leases.lock().expect("lease lock");
        for (_, uc) in ns.files_under_construction() {
            leases.renew(&uc.client_name, now);
        }
    }

    /// Refuses a call that this NameNode's HA state does not serve, with the
    /// StandbyException that makes clients fail over.
    pub fn check_operation(&self, cat: OperationCategory) -> Result<(), RpcError> {
        let state = self.ha_state();
        let allowed = match cat {
            OperationCategory::Unchecked => true,
            // An Observer serves reads (Hadoop's allowStaleReads is always true for
            // it); coordinated ones were aligned with the client's state before.
            OperationCategory::Read if state == HaState::Observer => true,
            // `dfs.ha.allow.stale.reads`: a Standby may serve reads from its tailed,
            // possibly stale namespace (as Hadoop's StandbyState does).
            OperationCategory::Read
                if state == HaState::Standby
                    && self.config.ha.as_ref().is_some_and(|h| h.allow_stale_reads) =>
            {
                true
            }
            _ => state == HaState::Active && self.active_guard.is_open(),
        };
        if allowed {
            return Ok(());
        }
        let cat = match cat {
            OperationCategory::Read => "READ",
            OperationCategory::Unchecked => "UNCHECKED",
            _ => "WRITE",
        };
        let state_name = match state {
            HaState::Standby => "standby",
            HaState::Observer => "observer",
            HaState::Initializing => "initializing",
            // Active, but its controller's election lease ran out (the read guard).
            HaState::Active => "active with an expired failover lease",
        };
        let message = format!(
            "Operation category {cat} is not supported in state {state_name}. \
             Visit https://s.apache.org/sbnn-error"
        );
        if state == HaState::Observer {
            // Hadoop's StandbyState: a write reaching an Observer tells the client to
            // retry it on the Active (ObserverRetryOnActiveException is a
            // StandbyException, so plain failover clients move on too).
            return Err(RpcError::new(
                hafs_ipc::exceptions::OBSERVER_RETRY_ON_ACTIVE,
                message,
            ));
        }
        Err(RpcError::standby(message))
    }

    /// Observer reads: waits (bounded) until the namespace holds the client's state
    /// id, or refuses as Hadoop's GlobalStateIdContext does. A no-op unless
    /// `dfs.namenode.state.context.enabled` and this NameNode is an Observer.
    pub async fn align_read(&self, client_state: Option<i64>) -> Result<(), RpcError> {
        use crate::ha::state_alignment as sa;
        if !self
            .config
            .ha
            .as_ref()
            .is_some_and(|h| h.state_context_enabled)
        {
            return Ok(());
        }
        let server = self.edit_log.last_written_txid();
        match sa::decide(self.ha_state(), client_state, server, sa::CLIENT_WAIT_TIME) {
            sa::Alignment::Serve => Ok(()),
            sa::Alignment::NoStateId => Err(sa::no_state_id_error()),
            sa::Alignment::TooFarBehind { client_state } => {
                Err(sa::too_far_behind_error(server, client_state))
            }
            sa::Alignment::Wait { client_state } => {
                let started = std::time::Instant::now();
                if self
                    .edit_log
                    .wait_applied(client_state, sa::ALIGNMENT_WAIT_LIMIT)
                    .await
                {
                    self.metrics.observer_read_waited(started.elapsed());
                    return Ok(());
                }
                self.metrics.observer_read_not_caught_up();
                Err(sa::not_caught_up_error(
                    self.edit_log.last_written_txid(),
                    client_state,
                    started.elapsed(),
                ))
            }
        }
    }

    /// The user → groups mapping permission checks use (shared with the proxy-user
    /// check of the RPC server).
    pub fn group_mapping(&self) -> Arc<GroupMapping> {
        self.groups.clone()
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

    /// Refuses namespace changes in safe mode, manual or the block manager's startup
    /// safe mode, with Hadoop's messages.
    pub fn check_not_safe_mode(&self, what: &str) -> Result<(), RpcError> {
        if self.safe_mode.load(Ordering::Acquire) {
            return Err(RpcError::safe_mode(format!(
                "Cannot {what}. Name node is in safe mode.\nIt was turned on manually. \
                 Use \"hdfs dfsadmin -safemode leave\" to turn safe mode off."
            )));
        }
        let status = self.bm.safe_mode_status();
        if status.on {
            let msg = format!(
                "Cannot {what}. Name node is in safe mode.\n{}",
                status.tip()
            );
            // As Hadoop does: an HA Active in startup safe mode (block reports still
            // arriving after a failover) answers RetriableException, so clients wait
            // for it instead of failing.
            if self.config.ha.is_some() && self.ha_state() == HaState::Active {
                return Err(RpcError::retriable(format!(
                    "{}: {msg}",
                    hafs_ipc::exceptions::SAFE_MODE
                )));
            }
            return Err(RpcError::safe_mode(msg));
        }
        Ok(())
    }

    /// Tells the block manager a file's blocks as the namespace has them now: which
    /// file they belong to, its replication, and whether the last is under
    /// construction (replicas already known are kept).
    fn block_collection_to_bm(&self, ns: &Namespace, inode_id: u64) {
        if let Some((replication, blocks, uc)) = ns.block_collection(inode_id) {
            let blocks: Vec<Block> = blocks.iter().map(to_bm_block).collect();
            self.bm
                .add_block_collection(inode_id, replication, &blocks, uc);
        }
    }

    /// [`Self::block_collection_to_bm`] after a live op that moved blocks between files
    /// (concat), under the namespace's read lock.
    pub fn refresh_block_collection(&self, inode_id: u64) {
        let ns = self.read();
        self.block_collection_to_bm(&ns, inode_id);
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
        let (answer, _) = self
            .mutate_op(what, retry, |ns| match plan(ns).map_err(ns_err)? {
                Planned::Done(b) => Ok((None, b)),
                Planned::Apply(op) => Ok((Some(op), true)),
            })
            .await?;
        Ok(answer)
    }

    /// The general form of [`Namesystem::mutate`]: `plan` returns the op to log (if
    /// any) and an answer for the caller. Blocks the op removed (deleted or
    /// overwritten files) are handed to the block manager for deletion.
    pub async fn mutate_op<T>(
        &self,
        what: &str,
        retry: Option<&CallKey>,
        plan: impl FnOnce(&Namespace) -> Result<(Option<EditOp>, T), RpcError>,
    ) -> Result<(T, ApplyOutcome), RpcError> {
        self.check_operation(OperationCategory::Write)?;
        self.check_not_safe_mode(what)?;
        let (answer, logged, outcome) = {
            let mut ns = self.ns.write().expect("namespace lock");
            // Again under the lock: a transition to Standby may have happened since.
            self.check_operation(OperationCategory::Write)?;
            let (op, answer) = plan(&ns)?;
            match op {
                None => (answer, None, ApplyOutcome::default()),
                Some(mut op) => {
                    op.retry_cache = retry.map(|k| RetryCacheId {
                        client_id: k.client_id_bytes(),
                        call_id: k.call_id,
                    });
                    let payload = op.encode_to_vec();
                    // Log first: if the log refuses, the namespace is unchanged.
                    let (txid, writer) =
                        self.edit_log.log(&payload).map_err(|e| self.write_err(e))?;
                    let outcome = match ns.apply(&op) {
                        Ok(o) => o,
                        Err(e) => {
                            // plan() accepted what apply() refuses: a bug. The edit is
                            // already in the log, so replay would fail the same way;
                            // stop rather than diverge from the log.
                            error!(txid, "planned op failed to apply: {e}; op: {op:?}");
                            std::process::abort();
                        }
                    };
                    self.lease_for_new_holder(&ns, &op, &outcome);
                    (answer, Some((txid, writer)), outcome)
                }
            }
        };
        if !outcome.removed_blocks.is_empty() {
            let ids: Vec<u64> = outcome.removed_blocks.iter().map(|b| b.block_id).collect();
            self.bm.remove_blocks(&ids);
        }
        // Durable through the writer that logged it, or not acknowledged at all.
        if let Some((txid, writer)) = logged {
            writer.sync(txid).await.map_err(|e| self.write_err(e))?;
        }
        Ok((answer, outcome))
    }

    /// An op that makes a client the holder of an open file (create, append, a lease
    /// reassigned for recovery) gives that holder a lease in the same critical section
    /// as the namespace change. The lease monitor reads the open files and the lease
    /// table under the namespace lock and treats a holder without a lease as expired;
    /// renewing only after the edit is durable left a window (the journal sync) in
    /// which a just-created file was "recovered" and closed under its writer, whose
    /// next addBlock then failed with LeaseExpiredException.
    fn lease_for_new_holder(&self, ns: &Namespace, op: &EditOp, outcome: &ApplyOutcome) {
        use hafs_proto::hafs::edit_op::Op;
        if !matches!(
            op.op,
            Some(Op::AddFile(_))
                | Some(Op::Append(_))
                | Some(Op::ReassignLease(_))
                | Some(Op::Truncate(_))
        ) {
            return;
        }
        let Some(uc) = outcome.inode_id.and_then(|id| ns.under_construction(id)) else {
            return;
        };
        self.leases
            .lock()
            .expect("lease lock")
            .renew(&uc.client_name, self.now());
    }

    pub fn renew_lease(&self, holder: &str) {
        self.leases
            .lock()
            .expect("lease lock")
            .renew(holder, self.now());
    }

    /// Overrides the lease limits (tests use short ones).
    pub fn set_lease_limits(&self, limits: LeaseLimits) {
        self.leases.lock().expect("lease lock").set_limits(limits);
    }

    /// Recovers the files of writers silent past the hard limit (and retries
    /// recoveries that did not finish), then forgets leases nobody needs.
    pub async fn check_leases(&self) {
        if self.ha_state() != HaState::Active || self.in_safe_mode() {
            return;
        }
        let now = self.now();
        let due = {
            let ns = self.read();
            let leases = self.leases.lock().expect("lease lock");
            let mut due = leases.due_for_recovery(
                ns.files_under_construction()
                    .map(|(id, uc)| (id, uc.client_name.as_str())),
                now,
            );
            // A truncate whose recovery this NameNode did not start (it became Active
            // or restarted since) is recovered now, not after its holder's hard limit.
            let pending = ns.files_under_construction().filter(|(id, uc)| {
                uc.truncate_block.is_some()
                    && leases.recovery(*id).is_none()
                    && !due.iter().any(|(d, _)| d == id)
            });
            let pending: Vec<(u64, String)> = pending
                .take(crate::leases::MAX_RECOVERIES_PER_PASS)
                .map(|(id, uc)| (id, uc.client_name.clone()))
                .collect();
            due.extend(pending);
            due
        };
        for (inode_id, holder) in due {
            info!(inode_id, %holder, "lease expired: recovering the file");
            if let Err(e) = self.recover_file(inode_id).await {
                warn!(inode_id, "lease recovery failed: {e}");
            }
        }
        let open: std::collections::HashMap<u64, String> = self
            .read()
            .files_under_construction()
            .map(|(id, uc)| (id, uc.client_name.clone()))
            .collect();
        self.leases.lock().expect("lease lock").prune(&open, now);
    }

    pub fn set_safe_mode(&self, on: bool) {
        if !on {
            self.bm.leave_safe_mode();
        }
        let was = self.safe_mode.swap(on, Ordering::AcqRel);
        if was != on {
            info!("safe mode is {}", if on { "ON" } else { "OFF" });
        }
    }

    /// Safe mode, manual or the block manager's startup safe mode.
    pub fn in_safe_mode(&self) -> bool {
        self.safe_mode.load(Ordering::Acquire) || self.bm.safe_mode_status().on
    }

    /// Manual safe mode only (saveNamespace requires it, as Hadoop does).
    pub fn in_manual_safe_mode(&self) -> bool {
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
        // A Standby (dfsadmin -saveNamespace asks every NameNode, as Hadoop's) writes no
        // edit log: its image ends at the applied txid, there is no segment to roll,
        // and the shared edits are the writer's to purge.
        let writing = self.edit_log.is_writing();
        if writing {
            self.edit_log.roll().await.map_err(log_err)?;
            if let Some(oldest) = oldest {
                let keep_from = (oldest + 1).saturating_sub(self.config.extra_edits_retained);
                if let Err(e) = self.journal_purge(keep_from).await {
                    warn!("purging old edits failed: {e}");
                }
            }
        }
        cp.last_txid = txid;
        cp.at = self.now();
        let rc = self.retry_cache.stats();
        info!(
            txid,
            writing,
            retry_cache_entries = rc.entries,
            retry_cache_bytes = rc.bytes,
            "saved namespace"
        );
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

    /// Files under construction and the distinct clients writing them (Hadoop's
    /// NumFilesUnderConstruction and NumActiveClients).
    pub fn open_files_and_writers(&self) -> (u64, u64) {
        let ns = self.read();
        let mut writers = std::collections::HashSet::new();
        let mut files = 0u64;
        for (_, uc) in ns.files_under_construction() {
            files += 1;
            writers.insert(uc.client_name.clone());
        }
        (files, writers.len() as u64)
    }

    /// Every block of every file under construction: the decommission monitor's
    /// open files rule (a node stays in progress while an open file has a block on it).
    pub fn open_file_blocks(&self) -> std::collections::HashSet<u64> {
        let ns = self.read();
        let ids: Vec<u64> = ns.files_under_construction().map(|(id, _)| id).collect();
        ids.into_iter()
            .filter_map(|id| ns.file_blocks(id))
            .flat_map(|(blocks, _, _)| blocks.into_iter().map(|b| b.block_id))
            .collect()
    }

    /// refreshNodes: the host file names (and provider) as the site files say now
    /// (Hadoop reads a fresh configuration), then the files, applied to the DataNodes. A named file
    /// that is missing fails the refresh and keeps the lists in force.
    pub fn refresh_nodes(&self) -> Result<(), RpcError> {
        use crate::blockmanagement::host_file;
        let (provider, (include, exclude)) = if self.config.conf_files.is_empty() {
            let c = self.bm.config();
            (c.hosts_provider, (c.hosts_include, c.hosts_exclude))
        } else {
            let mut conf = hafs_conf::Configuration::new();
            for f in &self.config.conf_files {
                conf.add_resource(f)
                    .map_err(|e| RpcError::io(format!("cannot re-read the configuration: {e}")))?;
            }
            let provider = host_file::HostsProvider::from_conf(&conf)
                .map_err(|e| RpcError::io(e.to_string()))?;
            (provider, host_file::paths_from(&conf))
        };
        let lists =
            host_file::HostLists::read_from(provider, include.as_deref(), exclude.as_deref())
                .map_err(|e| RpcError::new(e.java_class(), e.to_string()))?;
        self.bm.refresh_nodes(lists);
        Ok(())
    }

    pub fn memory_report(&self) -> crate::namespace::MemoryStats {
        self.read().memory_estimate()
    }

    /// For the retry cache: the key of a call if it can be de-duplicated.
    pub fn call_key(client_id: &[u8], call_id: i32) -> Option<CallKey> {
        CallKey::new(client_id, call_id)
    }
}

/// How often background duties run.
pub const LEASE_CHECK_INTERVAL: Duration = Duration::from_secs(2);

/// A namespace block as the block manager names it.
pub fn to_bm_block(b: &crate::namespace::BlockInfo) -> Block {
    Block {
        id: b.block_id,
        gen_stamp: b.gen_stamp,
        num_bytes: b.num_bytes,
    }
}
