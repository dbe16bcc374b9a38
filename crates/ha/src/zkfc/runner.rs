//! The failover controller at work (Hadoop's ZKFailoverController): feeds health
//! changes, election events and cedeActive requests to [`decide`], performs its actions
//! (election calls, fencing, state transitions of the local NameNode) and feeds their
//! outcomes back. Every decision is logged.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hafs_ipc::{ClientConfig, RpcClient};
use hafs_proto::common as pb;
use hafs_util::clock::monotonic_nanos;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use super::controller::{decide, Action, ControllerState, Input, Phase};
use super::health::{spawn_monitor, HealthReport, HealthSettings, HealthState};
use super::protocol::{ZkfcClient, ZkfcOps};
use super::{ActiveNodeInfo, Elector, FailoverRequestError, GuardError, ZkfcError};
use crate::failover::{FailoverController, FailoverTimeouts};
use crate::fence::NodeFencer;
use crate::service_client::{HaServiceClient, RequestSource, HA_SERVICE_PROTOCOL};
use crate::target::HaTarget;

/// What a controller needs to run.
pub struct ZkfcSettings {
    /// Our candidate record: the local NameNode and our ZKFCProtocol port.
    pub me: ActiveNodeInfo,
    /// The local NameNode.
    pub local: HaTarget,
    /// The other NameNodes of the nameservice with their controllers' `host:port`.
    pub peers: Vec<(HaTarget, String)>,
    pub health: HealthSettings,
    pub timeouts: FailoverTimeouts,
    pub base: ClientConfig,
    pub fencer: NodeFencer,
}

/// The outcome of the last attempt to make the local NameNode Active.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActiveAttempt {
    /// Counts attempts; 0 = none yet.
    pub seq: u64,
    pub ok: bool,
    pub status: String,
}

/// What the controller currently believes; for tests and the ready line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZkfcStatus {
    pub health: HealthState,
    pub phase: Phase,
    pub in_election: bool,
}

enum Cmd {
    Cede(Duration, oneshot::Sender<Result<(), FailoverRequestError>>),
}

/// A running controller.
pub struct Zkfc {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<Result<(), ZkfcError>>,
    stop: Option<oneshot::Sender<()>>,
}

struct Shared {
    me: ActiveNodeInfo,
    peers: Vec<(HaTarget, String)>,
    timeouts: FailoverTimeouts,
    base: ClientConfig,
    elector: Arc<dyn Elector>,
    cmds: mpsc::Sender<Cmd>,
    health: watch::Receiver<HealthReport>,
    attempts: watch::Receiver<ActiveAttempt>,
    status: watch::Receiver<ZkfcStatus>,
}

impl Zkfc {
    /// Starts monitoring the local NameNode and taking part in `elector`'s election.
    pub fn start(settings: ZkfcSettings, mut elector: Box<dyn Elector>) -> Result<Zkfc, ZkfcError> {
        let events = elector.take_events().ok_or(ZkfcError::EventsTaken)?;
        let lease = elector.lease_deadline();
        let elector: Arc<dyn Elector> = Arc::from(elector);
        let guard = lease.map(|lease| ReadGuard {
            client: Arc::new(guard_client(&settings)),
            lease,
            handed: Arc::new(std::sync::Mutex::new(Handed::default())),
        });
        let guard_task = guard.clone().map(|g| tokio::spawn(g.keep_renewed()));
        let health = spawn_monitor(
            settings.local.address.clone(),
            settings.base.clone(),
            settings.health,
        );
        let (cmd_tx, cmd_rx) = mpsc::channel(8);
        let (attempt_tx, attempt_rx) = watch::channel(ActiveAttempt::default());
        let (status_tx, status_rx) = watch::channel(ZkfcStatus {
            health: HealthState::Initializing,
            phase: Phase::Idle,
            in_election: false,
        });
        let (stop_tx, stop_rx) = oneshot::channel();
        let shared = Arc::new(Shared {
            me: settings.me.clone(),
            peers: settings.peers.clone(),
            timeouts: settings.timeouts,
            base: settings.base.clone(),
            elector: elector.clone(),
            cmds: cmd_tx,
            health: health.clone(),
            attempts: attempt_rx,
            status: status_rx,
        });
        let driver = Driver {
            failover: FailoverController::new(
                Some(settings.fencer.clone()),
                settings.timeouts,
                RequestSource::Zkfc,
                settings.base.clone(),
            ),
            settings,
            elector,
            st: ControllerState::default(),
            attempt_tx,
            status_tx,
            rejoin_tx: None,
            guard,
            silent: false,
        };
        let task = tokio::spawn(async move {
            let r = driver
                .run(health, events, cmd_rx, async move {
                    let _ = stop_rx.await;
                })
                .await;
            if let Some(t) = guard_task {
                t.abort();
            }
            r
        });
        Ok(Zkfc {
            shared,
            task,
            stop: Some(stop_tx),
        })
    }

    /// The handler of ZKFCProtocol calls for this controller.
    pub fn ops(&self) -> Arc<dyn ZkfcOps> {
        self.shared.clone()
    }

    pub fn status(&self) -> watch::Receiver<ZkfcStatus> {
        self.shared.status.clone()
    }

    pub fn me(&self) -> &ActiveNodeInfo {
        &self.shared.me
    }

    /// Stops: leaves the election (the lock is released; the breadcrumb stays, so the
    /// next Active fences our NameNode, as when Hadoop's controller stops) and returns
    /// the run's result.
    pub async fn stop(mut self) -> Result<(), ZkfcError> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        match (&mut self.task).await {
            Ok(r) => r,
            Err(e) => Err(ZkfcError::Task(e.to_string())),
        }
    }

    /// Waits until the controller ends by itself (a fatal error).
    pub async fn wait(&mut self) -> Result<(), ZkfcError> {
        match (&mut self.task).await {
            Ok(r) => r,
            Err(e) => Err(ZkfcError::Task(e.to_string())),
        }
    }
}

struct Driver {
    settings: ZkfcSettings,
    failover: FailoverController,
    elector: Arc<dyn Elector>,
    st: ControllerState,
    attempt_tx: watch::Sender<ActiveAttempt>,
    status_tx: watch::Sender<ZkfcStatus>,
    rejoin_tx: Option<mpsc::Sender<u64>>,
    /// With a lease-based election: the NameNode's read guard.
    guard: Option<ReadGuard>,
    /// The last health check timed out (the NameNode may be stopped, not dead).
    silent: bool,
}

impl Driver {
    async fn run(
        mut self,
        mut health: watch::Receiver<HealthReport>,
        mut events: super::ElectorEvents,
        mut cmds: mpsc::Receiver<Cmd>,
        stop: impl Future<Output = ()> + Send,
    ) -> Result<(), ZkfcError> {
        let (rejoin_tx, mut rejoin_rx) = mpsc::channel(16);
        self.rejoin_tx = Some(rejoin_tx);
        tokio::pin!(stop);
        tracing::info!(
            "zkfc: starting for {} (election backend: {})",
            self.settings.me,
            self.elector.backend()
        );
        let result = loop {
            let input = tokio::select! {
                _ = &mut stop => break Ok(()),
                changed = health.changed() => {
                    if changed.is_err() {
                        break Err(ZkfcError::HealthMonitorStopped);
                    }
                    let (h, silent, observer) = {
                        let r = health.borrow_and_update();
                        // Unknown (no answer): keep what we knew.
                        let observer = r
                            .service_state
                            .map_or(self.st.observer, |s| s == crate::HaServiceState::Observer);
                        (r.health, r.silent, observer)
                    };
                    self.silent = silent;
                    // An Observer stays out of the election whatever its health; the
                    // state change goes first, so a healthy Observer never joins.
                    if observer != self.st.observer {
                        if let Err(e) = self.step(Input::Observer(observer)).await {
                            break Err(e);
                        }
                    }
                    if h == self.st.health {
                        continue;
                    }
                    Input::Health(h)
                }
                ev = events.recv() => match ev {
                    Some(ev) => Input::Elector(ev),
                    None => break Err(ZkfcError::ElectorStopped),
                },
                Some(gen) = rejoin_rx.recv() => Input::RejoinTimer { gen },
                Some(cmd) = cmds.recv() => match cmd {
                    Cmd::Cede(d, reply) => {
                        let input = self.cede(d).await;
                        let r = self.step(input).await;
                        let _ = reply.send(Ok(()));
                        if let Err(e) = r {
                            break Err(e);
                        }
                        continue;
                    }
                },
            };
            if let Err(e) = self.step(input).await {
                break Err(e);
            }
        };
        if self.st.in_election {
            tracing::info!("zkfc: stopping: leaving the election");
            if let Err(e) = self.elector.quit(true).await {
                tracing::warn!("zkfc: leaving the election failed: {e}");
            }
        }
        result
    }

    /// Runs `input` and every follow-up input its actions produce.
    async fn step(&mut self, input: Input) -> Result<(), ZkfcError> {
        let mut queue = VecDeque::from([input]);
        let mut rounds = 0;
        while let Some(input) = queue.pop_front() {
            rounds += 1;
            if rounds > 32 {
                return Err(ZkfcError::DecisionLoop);
            }
            let actions = decide(&mut self.st, &self.settings.me, input.clone());
            tracing::info!(
                "zkfc: {input:?} → {actions:?} (phase {:?}, in election {})",
                self.st.phase,
                self.st.in_election
            );
            for a in actions {
                if let Some(next) = self.perform(a).await? {
                    queue.push_back(next);
                }
            }
            self.publish();
        }
        Ok(())
    }

    fn publish(&self) {
        self.status_tx.send_replace(ZkfcStatus {
            health: self.st.health,
            phase: self.st.phase.clone(),
            in_election: self.st.in_election,
        });
    }

    fn local_client(&self, timeout: Duration) -> HaServiceClient {
        self.failover.client(&self.settings.local, timeout)
    }

    async fn perform(&mut self, action: Action) -> Result<Option<Input>, ZkfcError> {
        match action {
            Action::JoinElection => {
                if let Some(g) = &self.guard {
                    g.thaw();
                }
                if let Err(e) = self.elector.join(self.settings.me.clone()).await {
                    tracing::error!("zkfc: joining the election failed: {e}");
                }
                Ok(None)
            }
            Action::QuitElection { need_fence } => {
                if need_fence && self.silent {
                    self.outwait_read_guard().await;
                }
                if let Err(e) = self.elector.quit(need_fence).await {
                    tracing::error!("zkfc: leaving the election failed: {e}");
                }
                Ok(None)
            }
            Action::Fence(prev) => Ok(Some(Input::FenceDone {
                ok: self.fence(&prev).await,
            })),
            Action::WriteBreadcrumb => {
                let ok = match self.elector.write_breadcrumb(&self.settings.me).await {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::error!("zkfc: writing the breadcrumb failed: {e}");
                        false
                    }
                };
                Ok(Some(Input::BreadcrumbDone { ok }))
            }
            Action::TransitionToActive => {
                tracing::info!("zkfc: trying to make {} active", self.settings.local);
                // The read guard first: the NameNode must never serve as Active
                // beyond our lease, not even for its first call.
                let guarded = match &self.guard {
                    Some(g) => g.renew_now().await,
                    None => Ok(()),
                };
                let r = match guarded {
                    Ok(()) => self
                        .local_client(self.settings.timeouts.new_active)
                        .transition_to_active(RequestSource::Zkfc)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(format!("cannot hand the lease deadline to it: {e}")),
                };
                let (ok, status) = match r {
                    Ok(()) => {
                        tracing::info!(
                            "zkfc: successfully transitioned {} to active state",
                            self.settings.local
                        );
                        (true, "active".to_string())
                    }
                    Err(e) => {
                        tracing::error!("zkfc: couldn't make {} active: {e}", self.settings.local);
                        (
                            false,
                            format!("Couldn't make {} active: {e}", self.settings.local),
                        )
                    }
                };
                self.attempt_tx.send_modify(|a| {
                    a.seq += 1;
                    a.ok = ok;
                    a.status = status;
                });
                Ok(Some(Input::ActiveDone { ok }))
            }
            Action::TransitionToStandby => {
                let r = self
                    .local_client(self.settings.timeouts.graceful_fence)
                    .transition_to_standby(RequestSource::Zkfc)
                    .await;
                match r {
                    Ok(()) => tracing::info!("zkfc: ensured {} is standby", self.settings.local),
                    Err(e) => tracing::error!(
                        "zkfc: couldn't transition {} to standby: {e}",
                        self.settings.local
                    ),
                }
                Ok(None)
            }
            Action::ScheduleRejoin { after, gen } => {
                tracing::info!(
                    "zkfc: staying out of the election for {} ms",
                    after.as_millis()
                );
                if let Some(tx) = self.rejoin_tx.clone() {
                    tokio::spawn(async move {
                        tokio::time::sleep(after).await;
                        let _ = tx.send(gen).await;
                    });
                }
                Ok(None)
            }
            Action::Fatal(msg) => Err(ZkfcError::Fatal(msg)),
        }
    }

    /// Our NameNode stopped answering but may only be stopped (SIGSTOP, a long GC
    /// pause, swapping), holding a read guard we handed it. Releasing the lease now
    /// would let another NameNode become Active while ours, resumed, could still
    /// answer reads as Active from stale data. So stop handing it deadlines and keep
    /// the lease until the last one has passed (at most `lease - margin`); a NameNode
    /// that is gone (connection refused) is not waited for.
    async fn outwait_read_guard(&self) {
        let Some(g) = &self.guard else { return };
        let Some(until) = g.freeze() else { return };
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        tracing::warn!(
            "zkfc: {} does not answer but may only be stopped: keeping the lease {} ms more, \
             until the read guard handed to it has passed",
            self.settings.local,
            left.as_millis()
        );
        tokio::time::sleep_until(until).await;
    }

    /// Hadoop's fenceOldActive: ask it to step down, then the fencing methods.
    async fn fence(&self, prev: &ActiveNodeInfo) -> bool {
        let target = self.target_of(prev);
        tracing::info!("zkfc: should fence: {target} ({prev})");
        if self.failover.try_graceful_fence(&target).await {
            tracing::info!(
                "zkfc: successfully transitioned {target} to standby state without fencing"
            );
            return true;
        }
        let ok = self.settings.fencer.fence(&target).await;
        if ok {
            tracing::info!("zkfc: fenced {target}");
        } else {
            tracing::error!("zkfc: unable to fence {target}: every fencing method failed");
        }
        ok
    }

    /// The configured target of a breadcrumb, or one built from the breadcrumb itself.
    fn target_of(&self, info: &ActiveNodeInfo) -> HaTarget {
        self.settings
            .peers
            .iter()
            .map(|(t, _)| t)
            .find(|t| t.namenode_id == info.namenode_id && t.nameservice_id == info.nameservice_id)
            .cloned()
            .unwrap_or_else(|| HaTarget {
                nameservice_id: info.nameservice_id.clone(),
                namenode_id: info.namenode_id.clone(),
                address: info.rpc_address(),
                host: info.hostname.clone(),
                port: info.port,
                auto_failover_enabled: true,
            })
    }

    /// cedeActive: make our NameNode Standby now (Hadoop's doCedeActive).
    async fn cede(&mut self, d: Duration) -> Input {
        let r = self
            .local_client(self.settings.timeouts.graceful_fence)
            .transition_to_standby(RequestSource::Zkfc)
            .await;
        let need_fence = match r {
            Ok(()) => {
                tracing::info!("zkfc: successfully ensured local node is in standby mode");
                false
            }
            Err(e) => {
                tracing::warn!("zkfc: unable to transition local node to standby: {e}");
                true
            }
        };
        Input::Ceded {
            duration: d,
            need_fence,
        }
    }
}

#[async_trait]
impl ZkfcOps for Shared {
    async fn cede_active(&self, millis: u32) -> Result<(), FailoverRequestError> {
        let (tx, rx) = oneshot::channel();
        self.cmds
            .send(Cmd::Cede(Duration::from_millis(u64::from(millis)), tx))
            .await
            .map_err(|_| FailoverRequestError::Stopping)?;
        rx.await.map_err(|_| FailoverRequestError::Stopping)?
    }

    /// Hadoop's doGracefulFailover: ask every other controller to cede (the Active's
    /// last), then wait for our own attempt to become Active.
    async fn graceful_failover(&self) -> Result<(), FailoverRequestError> {
        let health = self.health.borrow().health;
        if health != HealthState::ServiceHealthy {
            return Err(FailoverRequestError::NotHealthy(
                self.me.rpc_address().to_string(),
            ));
        }
        let old = self
            .elector
            .current_active()
            .await
            .map_err(|e| FailoverRequestError::CurrentActive(e.to_string()))?;
        let Some(old) = old else {
            return Err(FailoverRequestError::NoActive);
        };
        if old.same_namenode(&self.me) {
            tracing::info!("zkfc: local node is already active; no need to failover");
            return Ok(());
        }
        let cede_ms =
            u32::try_from((self.timeouts.graceful_fence * 2).as_millis()).unwrap_or(u32::MAX);
        let before = self.attempts.borrow().seq;
        let mut cfg = self.base.clone();
        cfg.call_timeout = self.timeouts.graceful_fence * 2;
        cfg.connect_timeout = self.timeouts.graceful_fence;
        // Other Standbys first, so that only we can win once the Active steps down.
        for (t, addr) in &self.peers {
            if t.namenode_id == old.namenode_id {
                continue;
            }
            if let Err(e) = ZkfcClient::new(addr.clone(), cfg.clone())
                .cede_active(cede_ms)
                .await
            {
                tracing::warn!("zkfc: controller of {t} at {addr} did not cede: {e}");
            }
        }
        tracing::info!(
            "zkfc: asking {} to cede its active state for {cede_ms} ms",
            old.zkfc_address()
        );
        ZkfcClient::new(old.zkfc_address(), cfg)
            .cede_active(cede_ms)
            .await
            .map_err(|e| FailoverRequestError::CedeRefused {
                addr: old.zkfc_address().to_string(),
                message: e.to_string(),
            })?;
        let mut attempts = self.attempts.clone();
        let wait = self.timeouts.new_active + Duration::from_millis(u64::from(cede_ms));
        let got = tokio::time::timeout(wait, attempts.wait_for(|a| a.seq > before)).await;
        match got {
            Ok(Ok(a)) if a.ok => Ok(()),
            Ok(Ok(a)) => Err(FailoverRequestError::NotActive(a.status.clone())),
            Ok(Err(_)) => Err(FailoverRequestError::Stopped),
            Err(_) => Err(FailoverRequestError::TimedOut),
        }
    }
}

/// The NameNode's read guard (docs/election.md): the controller hands the deadline of
/// its election lease to its NameNode before making it Active and after every
/// renewal; the Active NameNode refuses calls (StandbyException) once the latest
/// deadline has passed by its clock. Controller and NameNode share a host, so the
/// deadline travels as an absolute value of the host's monotonic clock: a hand-over
/// delayed in a paused NameNode's socket can never stretch the guard past the lease.
#[derive(Clone)]
struct ReadGuard {
    client: Arc<RpcClient>,
    lease: watch::Receiver<Option<Instant>>,
    handed: Arc<std::sync::Mutex<Handed>>,
}

/// What was handed to the NameNode.
#[derive(Default)]
struct Handed {
    /// The latest deadline sent (answered or not: it may wait in a socket).
    latest: Option<Instant>,
    /// No more hand-overs (the controller is leaving the election).
    frozen: bool,
}

fn guard_client(settings: &ZkfcSettings) -> RpcClient {
    let mut cfg = settings.base.clone();
    cfg.call_timeout = settings.health.rpc_timeout;
    cfg.connect_timeout = settings.health.rpc_timeout;
    RpcClient::new(settings.local.address.clone(), HA_SERVICE_PROTOCOL, cfg)
}

impl ReadGuard {
    /// Hands the current deadline to the NameNode.
    async fn renew_now(&self) -> Result<(), GuardError> {
        let deadline = *self.lease.borrow();
        self.hand_over(deadline).await
    }

    async fn hand_over(&self, deadline: Option<Instant>) -> Result<(), GuardError> {
        {
            let mut h = hafs_util::invariant::lock(&self.handed, "handed-off read guard");
            if h.frozen {
                return Err(GuardError::Leaving);
            }
            h.latest = h.latest.max(deadline);
        }
        renew_read_guard(&self.client, deadline).await
    }

    /// Stops hand-overs; returns the latest deadline ever handed over.
    fn freeze(&self) -> Option<Instant> {
        let mut h = hafs_util::invariant::lock(&self.handed, "handed-off read guard");
        h.frozen = true;
        h.latest
    }

    fn thaw(&self) {
        hafs_util::invariant::lock(&self.handed, "handed-off read guard").frozen = false;
    }

    /// Hands every new deadline to the NameNode, until aborted. Deadlines that pile
    /// up while a call is slow are coalesced (only the newest counts).
    async fn keep_renewed(mut self) {
        let mut failing = false;
        loop {
            if self.lease.changed().await.is_err() {
                return;
            }
            let deadline = *self.lease.borrow_and_update();
            if deadline.is_none()
                || hafs_util::invariant::lock(&self.handed, "handed-off read guard").frozen
            {
                continue;
            }
            match self.hand_over(deadline).await {
                Ok(()) if failing => {
                    failing = false;
                    tracing::info!("zkfc: the NameNode's read guard is renewed again");
                }
                Ok(()) => {}
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!("zkfc: cannot renew the NameNode's read guard: {e}");
                }
                Err(e) => tracing::debug!("zkfc: cannot renew the NameNode's read guard: {e}"),
            }
        }
    }
}

/// One hafsRenewActiveGuard call, bounded by the deadline itself (later, it is moot).
async fn renew_read_guard(client: &RpcClient, deadline: Option<Instant>) -> Result<(), GuardError> {
    let Some(deadline) = deadline else {
        return Err(GuardError::NotHeld);
    };
    // The host clock first, then ours: `until` can only come out early, never late.
    let host_now = monotonic_nanos();
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(GuardError::Expired);
    }
    let until = host_now.saturating_add(u64::try_from(left.as_nanos()).unwrap_or(u64::MAX));
    let req = pb::HafsRenewActiveGuardRequestProto {
        until_monotonic_nanos: until,
    };
    let call =
        client.call::<_, pb::HafsRenewActiveGuardResponseProto>("hafsRenewActiveGuard", &req);
    match tokio::time::timeout(left, call).await {
        Ok(Ok(_)) => Ok(()),
        // A NameNode without the extension (not hafs): it serves unguarded, as under
        // the ZooKeeper election.
        Ok(Err(e))
            if e.remote()
                .is_some_and(|r| r.class_name == hafs_ipc::exceptions::RPC_NO_SUCH_METHOD) =>
        {
            static WARNED: std::sync::atomic::AtomicBool =
                std::sync::atomic::AtomicBool::new(false);
            if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                tracing::warn!(
                    "zkfc: {} has no read guard (hafsRenewActiveGuard): after a pause it may \
                     answer stale reads until it is made Standby",
                    client.addr()
                );
            }
            Ok(())
        }
        Ok(Err(e)) => Err(GuardError::Rpc(e.to_string())),
        Err(_) => Err(GuardError::TimedOut),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> RpcClient {
        // Nothing listens there; no call may be made anyway.
        RpcClient::new(
            "127.0.0.1:1".into(),
            HA_SERVICE_PROTOCOL,
            ClientConfig::default(),
        )
    }

    #[tokio::test]
    async fn no_lease_or_a_passed_deadline_hands_nothing_over() {
        let c = client();
        let e = renew_read_guard(&c, None).await.unwrap_err();
        assert!(matches!(e, GuardError::NotHeld), "{e}");
        let past = Instant::now() - Duration::from_millis(1);
        let e = renew_read_guard(&c, Some(past)).await.unwrap_err();
        assert!(matches!(e, GuardError::Expired), "{e}");
    }

    #[tokio::test]
    async fn a_frozen_guard_hands_nothing_over_and_remembers_the_latest_deadline() {
        let (tx, rx) = watch::channel(None);
        let g = ReadGuard {
            client: Arc::new(client()),
            lease: rx,
            handed: Arc::new(std::sync::Mutex::new(Handed::default())),
        };
        let d = Instant::now() + Duration::from_millis(50);
        tx.send_replace(Some(d));
        // The call itself fails (nothing listens), but the deadline counts as handed.
        assert!(g.renew_now().await.is_err());
        assert_eq!(g.freeze(), Some(d));
        tx.send_replace(Some(d + Duration::from_secs(1)));
        let e = g.renew_now().await.unwrap_err();
        assert!(matches!(e, GuardError::Leaving), "{e}");
        assert_eq!(
            g.freeze(),
            Some(d),
            "a frozen guard recorded a new deadline"
        );
        g.thaw();
        assert!(g.handed.lock().unwrap().latest == Some(d));
    }

    #[test]
    fn the_host_clock_and_instant_advance_together() {
        // Only the remaining time crosses from one to the other, so their rates must agree.
        let (a, i) = (monotonic_nanos(), std::time::Instant::now());
        std::thread::sleep(Duration::from_millis(20));
        let (b, j) = (monotonic_nanos(), std::time::Instant::now());
        let by_host = Duration::from_nanos(b - a);
        let by_instant = j - i;
        let diff = by_host.abs_diff(by_instant);
        assert!(
            diff < Duration::from_millis(5),
            "{by_host:?} vs {by_instant:?}"
        );
    }
}
