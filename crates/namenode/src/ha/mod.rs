//! High availability: the NameNode's HA state machine (Initializing → Standby ⇄
//! Active) and the tailer that keeps a Standby's namespace current.
//!
//! Transitions are serialized by one lock and each is idempotent: asking for the
//! current state is a success that changes nothing, and a transition that fails half
//! way leaves the NameNode a Standby (tailing) that can be asked again.
//!
//! To Active: stop tailing; take a new writer epoch on the shared journal and recover
//! its open segment (this fences any old writer); read the log to its end and apply
//! it; open the edit log for writing at the next txid; only then accept calls (state
//! Active), give open files fresh leases and let the block manager command DataNodes
//! (it processes the DataNode reports kept while Standby, and may leave safe mode).
//!
//! To Standby: refuse calls at once (state Standby under the namespace lock, so no
//! write is half done), stop commanding DataNodes, close our segment (it is ours: we
//! hold the epoch, or the close fails harmlessly because we were fenced), start
//! tailing. If edits the namespace holds never became durable (the journal failed
//! under us), the namespace is reloaded from the newest fsimage and the shared log.
//!
//! A writer whose journal fails (lost quorum, fenced by a newer writer) steps down to
//! Standby the same way.

pub mod active_guard;
pub mod edit_log_slot;
mod error;
pub mod state_alignment;
pub mod tailer;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tracing::{error, info, warn};

pub use active_guard::ActiveGuard;
pub use edit_log_slot::EditLogSlot;
pub use error::{BecomeActiveError, HaError, TailError};
use tailer::Tailer;

use crate::config::HaConfig;
use crate::edit_log::EditLog;
use crate::namesystem::{to_bm_block, HaState, Namesystem};

/// Who asks for a transition (HARequestSource).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestSource {
    User,
    UserForced,
    Zkfc,
}

/// What getServiceStatus reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceStatus {
    pub state: HaState,
    pub ready_to_become_active: bool,
    pub not_ready_reason: Option<String>,
}

pub struct HaController {
    fsn: Arc<Namesystem>,
    config: Option<HaConfig>,
    /// Serializes transitions.
    transition: tokio::sync::Mutex<()>,
    tailer: Mutex<Option<Tailer>>,
    /// Set when the NameNode must stop (a non-HA NameNode's journal failed, or a
    /// step-down could not complete).
    fatal: watch::Sender<Option<String>>,
    shutting_down: AtomicBool,
    /// Turns true when the NameNode stops: background tasks end (and release the
    /// Namesystem, so its storage locks go with it).
    stopped: watch::Sender<bool>,
    /// The last writer failure, for monitorHealth.
    journal_failure: Mutex<Option<String>>,
}

impl HaController {
    pub fn new(fsn: Arc<Namesystem>) -> Arc<HaController> {
        let config = fsn.config.ha.clone();
        Arc::new(HaController {
            fsn,
            config,
            transition: tokio::sync::Mutex::new(()),
            tailer: Mutex::new(None),
            fatal: watch::channel(None).0,
            shutting_down: AtomicBool::new(false),
            stopped: watch::channel(false).0,
            journal_failure: Mutex::new(None),
        })
    }

    pub fn is_ha(&self) -> bool {
        self.config.is_some()
    }

    pub fn ha_config(&self) -> Option<&HaConfig> {
        self.config.as_ref()
    }

    pub fn state(&self) -> HaState {
        self.fsn.ha_state()
    }

    /// Starts the NameNode's HA life: a Standby that tails (HA), or an Active whose
    /// writer is already open (non-HA). Also starts watching the writer for failure.
    pub fn start(self: &Arc<Self>) {
        if self.is_ha() {
            self.fsn.set_ha_state(HaState::Standby);
            self.fsn.bm.set_active(false);
            self.start_tailer();
            info!(
                namenode_id = %self.config.as_ref().map(|c| c.namenode_id.as_str()).unwrap_or(""),
                "NameNode is in state STANDBY"
            );
        }
        let this = self.clone();
        tokio::spawn(async move { this.watch_writer().await });
    }

    /// Resolves when the NameNode must stop, with why.
    pub async fn fatal(&self) -> String {
        let mut rx = self.fatal.subscribe();
        let r = match rx.wait_for(|f| f.is_some()).await {
            Ok(f) => f.clone(),
            Err(_) => None,
        };
        match r {
            Some(msg) => msg,
            None => std::future::pending().await,
        }
    }

    /// Stops tailing and finalizes the open segment (shutdown).
    pub async fn shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.stop_background();
        let _g = self.transition.lock().await;
        self.stop_tailer().await;
        self.fsn.edit_log.close().await;
    }

    /// Ends the background tasks (the writer watch).
    pub fn stop_background(&self) {
        let _ = self.stopped.send(true);
    }

    /// monitorHealth: an error says why this NameNode is unhealthy.
    pub fn check_health(&self) -> Result<(), HaError> {
        if self.shutting_down.load(Ordering::SeqCst) {
            return Err(HaError::ShuttingDown);
        }
        if let Some(f) = self.fatal.borrow().clone() {
            return Err(HaError::Unhealthy(format!("The NameNode has failed: {f}")));
        }
        if self.fsn.edit_log.is_writing() {
            if let Some(f) = self.journal_failure.lock().expect("failure lock").clone() {
                return Err(HaError::Unhealthy(format!("The edit log failed: {f}")));
            }
        }
        if let Some(f) = self.fsn.edit_log.journal_lost() {
            return Err(HaError::Unhealthy(format!(
                "The edit log failed and the shared edits have not been read from a majority \
                 of the JournalNodes since: {f}"
            )));
        }
        Ok(())
    }

    pub fn service_status(&self) -> ServiceStatus {
        let state = self.state();
        let (ready, reason) = if self.shutting_down.load(Ordering::SeqCst) {
            (false, Some("The NameNode is shutting down".to_string()))
        } else {
            match state {
                HaState::Active | HaState::Standby => (true, None),
                HaState::Initializing => (false, Some("State is INITIALIZING".to_string())),
                // Hadoop: an Observer is never a candidate for Active.
                HaState::Observer => (false, Some("State is OBSERVER".to_string())),
            }
        };
        ServiceStatus {
            state,
            ready_to_become_active: ready,
            not_ready_reason: reason,
        }
    }

    /// Hadoop refuses manual transitions while automatic failover is on, unless forced.
    pub fn check_request_source(&self, src: RequestSource) -> Result<(), HaError> {
        let auto = self.config.as_ref().is_some_and(|c| c.automatic_failover);
        if auto && src == RequestSource::User {
            return Err(HaError::RequestSourceRefused(
                "Manual HA control for this NameNode is disallowed, because automatic HA \
                 is enabled.",
            ));
        }
        if !auto && src == RequestSource::Zkfc {
            return Err(HaError::RequestSourceRefused(
                "Request from ZK failover controller at this NameNode is disallowed, \
                 because automatic HA is not enabled.",
            ));
        }
        Ok(())
    }

    /// The read guard: the local failover controller holds its election lease until
    /// `until_nanos` on this host's monotonic clock. Only a NameNode under automatic
    /// failover takes one (its controller is the only one allowed to change its state).
    pub fn renew_active_guard(&self, until_nanos: u64) -> Result<(), HaError> {
        if !self.config.as_ref().is_some_and(|c| c.automatic_failover) {
            return Err(HaError::Guard(
                "The read guard is only used with automatic failover, which is not enabled".into(),
            ));
        }
        self.fsn
            .active_guard
            .extend(until_nanos)
            .map_err(HaError::Guard)
    }

    /// Back to unguarded: the next transition is not made by a lease-holding
    /// controller (manual HA, ZooKeeper election), or this NameNode is Standby.
    pub fn clear_active_guard(&self) {
        self.fsn.active_guard.clear();
    }

    /// Makes this NameNode the Active. A no-op when it already is.
    pub async fn transition_to_active(&self) -> Result<(), HaError> {
        self.transition_to_active_for("requested").await
    }

    /// [`HaController::transition_to_active`], with who asked (for the HA history).
    pub async fn transition_to_active_for(&self, why: &str) -> Result<(), HaError> {
        if !self.is_ha() {
            return if self.state() == HaState::Active {
                Ok(())
            } else {
                Err(HaError::NotEnabled)
            };
        }
        if self.shutting_down.load(Ordering::SeqCst) {
            return Err(HaError::ShuttingDown);
        }
        let _g = self.transition.lock().await;
        match self.state() {
            HaState::Active => return Ok(()),
            // Hadoop's rule: an Observer must become a Standby first.
            HaState::Observer => {
                return Err(HaError::Refused(
                    "Cannot transition from 'observer' to 'active'".into(),
                ))
            }
            HaState::Standby | HaState::Initializing => {}
        }
        let started = std::time::Instant::now();
        info!("transition to ACTIVE: stopping the tailer");
        self.stop_tailer().await;
        match self.become_active().await {
            Ok(next) => {
                let took_ms = started.elapsed().as_millis() as u64;
                info!(next_txid = next, took_ms, "NameNode is in state ACTIVE");
                self.fsn
                    .metrics
                    .record_transition(HaState::Standby, HaState::Active, why, took_ms);
                Ok(())
            }
            Err(e) => {
                error!("transition to ACTIVE failed: {e}; staying STANDBY");
                self.start_tailer();
                Err(HaError::BecomeActive(e))
            }
        }
    }

    async fn become_active(&self) -> Result<u64, BecomeActiveError> {
        let fsn = &self.fsn;
        let journal = fsn.storage().journal();
        // Fences any old writer: a new epoch on a majority, then recovery of the
        // segment it left open.
        journal
            .recover_unfinalized_segments()
            .await
            .map_err(|e| BecomeActiveError::Recover(e.to_string()))?;
        // Invariant: everything committed is applied before we take any call.
        let mut passes = 0u64;
        loop {
            let from = fsn.edit_log.applied_txid() + 1;
            let batch = journal
                .read_edits(from, tailer::TAIL_BATCH, true)
                .await
                .map_err(|e| BecomeActiveError::Read {
                    from,
                    message: e.to_string(),
                })?;
            if batch.is_empty() {
                break;
            }
            fsn.apply_tailed(&batch)?;
            passes += 1;
            // Bounded: the log is finite and no one else writes it now.
            if passes > 10_000_000 {
                return Err(BecomeActiveError::Endless);
            }
        }
        let next = fsn.edit_log.applied_txid() + 1;
        let log =
            EditLog::open(journal, next)
                .await
                .map_err(|e| BecomeActiveError::OpenEditLog {
                    next,
                    message: e.to_string(),
                })?;
        {
            // No call is half way through while the state changes.
            let _ns = fsn.write_ns();
            fsn.edit_log.set_writer(log);
            fsn.set_ha_state(HaState::Active);
        }
        fsn.renew_all_leases();
        fsn.bm.set_active(true);
        Ok(next)
    }

    /// Makes this NameNode a Standby. A no-op when it already is.
    pub async fn transition_to_standby(&self) -> Result<(), HaError> {
        self.transition_to_standby_for("requested").await
    }

    /// [`HaController::transition_to_standby`], with who asked (for the HA history).
    pub async fn transition_to_standby_for(&self, why: &str) -> Result<(), HaError> {
        if !self.is_ha() {
            return Err(HaError::NotEnabled);
        }
        let _g = self.transition.lock().await;
        self.step_down(why).await
    }

    /// Makes this Standby an Observer: it keeps tailing and from now on serves reads
    /// (aligned with each client's state) and is never elected. A no-op when it
    /// already is one; an Active is refused, as in Hadoop.
    pub async fn transition_to_observer_for(&self, why: &str) -> Result<(), HaError> {
        if !self.is_ha() {
            return Err(HaError::NotEnabled);
        }
        let _g = self.transition.lock().await;
        let fsn = &self.fsn;
        match fsn.ha_state() {
            HaState::Observer => return Ok(()),
            HaState::Active => {
                return Err(HaError::Refused(
                    "Cannot transition from 'active' to 'observer'".into(),
                ))
            }
            HaState::Initializing => {
                return Err(HaError::Refused(
                    "Cannot transition from 'initializing' to 'observer'".into(),
                ))
            }
            HaState::Standby if fsn.edit_log.is_writing() => {
                // A writer stepping down has not finished yet.
                return Err(HaError::Refused(
                    "Cannot transition to 'observer' while the edit log is still open".into(),
                ));
            }
            HaState::Standby => {}
        }
        fsn.set_ha_state(HaState::Observer);
        self.start_tailer();
        fsn.metrics
            .record_transition(HaState::Standby, HaState::Observer, why, 0);
        info!(why, "NameNode is in state OBSERVER");
        Ok(())
    }

    /// With the transition lock held.
    async fn step_down(&self, why: &str) -> Result<(), HaError> {
        let fsn = &self.fsn;
        if fsn.ha_state() == HaState::Observer && !fsn.edit_log.is_writing() {
            // An Observer is a Standby that serves reads: only the state changes.
            fsn.set_ha_state(HaState::Standby);
            self.start_tailer();
            fsn.metrics
                .record_transition(HaState::Observer, HaState::Standby, why, 0);
            info!(why, "NameNode is in state STANDBY");
            return Ok(());
        }
        if fsn.ha_state() == HaState::Standby && !fsn.edit_log.is_writing() {
            self.start_tailer();
            return Ok(());
        }
        info!(why, "transition to STANDBY");
        let started = std::time::Instant::now();
        // A failed writer is marked Standby before it gets here; it still held the log.
        let was_active = fsn.ha_state() == HaState::Active || fsn.edit_log.is_writing();
        {
            // Refuse every call from now on; none is half way through.
            let _ns = fsn.write_ns();
            fsn.set_ha_state(HaState::Standby);
        }
        fsn.bm.set_active(false);
        let mut diverged = false;
        if let Some(w) = fsn.edit_log.writer() {
            let last = w.last_written_txid();
            // Finalizes our segment (a new, empty one is opened after it; the next
            // writer's recovery drops it).
            let durable = match w.roll().await {
                Ok(_) => last,
                Err(e) => {
                    warn!("closing our edit log segment failed: {e}");
                    fsn.edit_log.mark_journal_lost(&e.to_string());
                    w.synced_txid()
                }
            };
            diverged = durable < last;
            fsn.edit_log.take_writer(durable);
            *self.journal_failure.lock().expect("failure lock") = None;
        }
        if diverged {
            // The namespace holds edits that may not be in the log: start over from
            // the newest image; the tailer brings the rest.
            warn!("the namespace holds edits that never became durable: reloading it");
            if let Err(e) = self.reload_namespace() {
                let e = HaError::Reload(e);
                error!("{e}");
                let _ = self.fatal.send(Some(e.to_string()));
                return Err(e);
            }
        }
        fsn.edit_log.set_journal(fsn.storage().journal());
        self.start_tailer();
        info!("NameNode is in state STANDBY");
        if was_active {
            let took_ms = started.elapsed().as_millis() as u64;
            fsn.metrics
                .record_transition(HaState::Active, HaState::Standby, why, took_ms);
        }
        Ok(())
    }

    /// Replaces the namespace with the newest fsimage of the name dirs; the block
    /// manager forgets blocks that image does not have.
    fn reload_namespace(&self) -> Result<(), String> {
        let fsn = &self.fsn;
        let (txid, mut ns) = fsn
            .storage()
            .load_newest_image(fsn.config.namespace.clone())
            .map_err(|e| e.to_string())?;
        ns.set_config(fsn.config.namespace.clone());
        let mut keep = HashSet::new();
        for (inode_id, replication, blocks, uc) in ns.block_collections() {
            let blocks: Vec<_> = blocks.iter().map(to_bm_block).collect();
            keep.extend(blocks.iter().map(|b| b.id));
            fsn.bm
                .add_block_collection(inode_id, replication, &blocks, uc);
        }
        fsn.bm.forget_blocks_except(&keep);
        *fsn.write_ns() = ns;
        fsn.edit_log.set_applied_txid(txid);
        info!(txid, "namespace reloaded from the fsimage");
        Ok(())
    }

    fn start_tailer(&self) {
        let Some(cfg) = &self.config else { return };
        let mut t = self.tailer.lock().expect("tailer lock");
        if t.is_none() {
            *t = Some(Tailer::start(
                self.fsn.clone(),
                self.fsn.storage().journal(),
                cfg.tail_period,
                cfg.tail_in_progress,
            ));
        }
    }

    async fn stop_tailer(&self) {
        let t = self.tailer.lock().expect("tailer lock").take();
        if let Some(t) = t {
            t.stop().await;
        }
    }

    /// A failed writer: an HA NameNode steps down to Standby; any other stops. Holds
    /// the controller only weakly while waiting, so a NameNode dropped without a
    /// clean stop (a simulated crash) still releases its storage.
    async fn watch_writer(self: Arc<Self>) {
        let weak = Arc::downgrade(&self);
        let mut stopped = self.stopped.subscribe();
        drop(self);
        loop {
            let (writer, mut changes) = {
                let Some(this) = weak.upgrade() else { return };
                let mut changes = this.fsn.edit_log.watch_writer_changes();
                changes.borrow_and_update();
                (this.fsn.edit_log.writer(), changes)
            };
            let msg = tokio::select! {
                msg = async {
                    match &writer {
                        Some(w) => w.fatal().await,
                        None => std::future::pending().await,
                    }
                } => msg,
                r = changes.changed() => {
                    if r.is_err() {
                        return;
                    }
                    continue;
                }
                _ = stopped.wait_for(|s| *s) => return,
            };
            drop(writer);
            let Some(this) = weak.upgrade() else { return };
            *this.journal_failure.lock().expect("failure lock") = Some(msg.clone());
            this.fsn.edit_log.mark_journal_lost(&msg);
            if !this.is_ha() {
                let _ = this.fatal.send(Some(msg));
                return;
            }
            error!("the edit log failed ({msg}): this NameNode stops writing and steps down to STANDBY");
            // Writes are already refused by the failed log; refuse reads at once too.
            this.fsn.set_ha_state(HaState::Standby);
            let _g = this.transition.lock().await;
            if this.step_down("the edit log failed").await.is_err() {
                return;
            }
        }
    }
}
