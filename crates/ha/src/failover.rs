//! Manual failover, as Hadoop's FailoverController does it:
//!
//! 1. pre-checks on the target: not the same service, reachable, Standby, ready to
//!    become Active (unless forced), healthy;
//! 2. graceful fencing: ask the old Active to become Standby, with a short timeout;
//! 3. fence the old Active with the configured methods if step 2 failed or fencing is
//!    forced — if every method fails, the failover aborts here;
//! 4. make the target Active; if that fails and the old Active was not fenced, fail
//!    back: fence the target and force the old Active back to Active.

use std::time::Duration;

use hafs_conf::{keys, Configuration};
use hafs_ipc::ClientConfig;

use crate::error::FailoverError;
use crate::fence::NodeFencer;
use crate::service_client::{HaServiceClient, HaServiceState, RequestSource};
use crate::target::HaTarget;
use crate::HEALTH_CHECK_FAILED_EXCEPTION;

/// `ha.failover-controller.graceful-fence.rpc-timeout.ms` (5 s).
pub const GRACEFUL_FENCE_TIMEOUT: &str = keys::HA_FAILOVER_CONTROLLER_GRACEFUL_FENCE_RPC_TIMEOUT_MS;
/// `ha.failover-controller.new-active.rpc-timeout.ms` (60 s).
pub const NEW_ACTIVE_TIMEOUT: &str = keys::HA_FAILOVER_CONTROLLER_NEW_ACTIVE_RPC_TIMEOUT_MS;
/// `ha.failover-controller.cli-check.rpc-timeout.ms` (20 s): haadmin's status and
/// health calls.
pub const CLI_CHECK_TIMEOUT: &str = keys::HA_FAILOVER_CONTROLLER_CLI_CHECK_RPC_TIMEOUT_MS;

/// The RPC timeouts a failover uses (Hadoop's keys and defaults).
#[derive(Debug, Clone, Copy)]
pub struct FailoverTimeouts {
    pub graceful_fence: Duration,
    pub new_active: Duration,
    pub cli_check: Duration,
}

impl FailoverTimeouts {
    pub fn from_conf(conf: &Configuration) -> FailoverTimeouts {
        let ms = |key: &str, default: u64| {
            Duration::from_millis(conf.get_u64(key, default).unwrap_or(default))
        };
        FailoverTimeouts {
            graceful_fence: ms(
                GRACEFUL_FENCE_TIMEOUT,
                keys::HA_FAILOVER_CONTROLLER_GRACEFUL_FENCE_RPC_TIMEOUT_MS_DEFAULT,
            ),
            new_active: ms(
                NEW_ACTIVE_TIMEOUT,
                keys::HA_FAILOVER_CONTROLLER_NEW_ACTIVE_RPC_TIMEOUT_MS_DEFAULT,
            ),
            cli_check: ms(
                CLI_CHECK_TIMEOUT,
                keys::HA_FAILOVER_CONTROLLER_CLI_CHECK_RPC_TIMEOUT_MS_DEFAULT,
            ),
        }
    }
}

pub struct FailoverController {
    fencer: Option<NodeFencer>,
    timeouts: FailoverTimeouts,
    source: RequestSource,
    base: ClientConfig,
}

impl FailoverController {
    /// `base` supplies the user and client id of the HA calls; its timeouts are
    /// replaced per call.
    pub fn new(
        fencer: Option<NodeFencer>,
        timeouts: FailoverTimeouts,
        source: RequestSource,
        base: ClientConfig,
    ) -> Self {
        FailoverController {
            fencer,
            timeouts,
            source,
            base,
        }
    }

    /// Whether `dfs.ha.fencing.methods` gave a fencer; a failover needs one.
    pub fn has_fencer(&self) -> bool {
        self.fencer.is_some()
    }

    /// A client of `target` whose connect and call timeouts are `timeout` (zero: the
    /// call waits forever, as Hadoop's timeout 0).
    pub fn client(&self, target: &HaTarget, timeout: Duration) -> HaServiceClient {
        let mut cfg = self.base.clone();
        cfg.call_timeout = timeout;
        if !timeout.is_zero() {
            cfg.connect_timeout = timeout;
        }
        HaServiceClient::new(target.address.clone(), cfg)
    }

    /// Fails over from `from` (the Active) to `to`. `force_fence` fences `from` even
    /// when it stepped down gracefully; `force_active` ignores a target that says it is
    /// not ready to become Active.
    pub async fn failover(
        &self,
        from: &HaTarget,
        to: &HaTarget,
        force_fence: bool,
        force_active: bool,
    ) -> Result<(), FailoverError> {
        match self
            .failover_once(from, to, force_fence, force_active)
            .await
        {
            Ok(()) => Ok(()),
            Err(Failure::Before(e)) => Err(e),
            Err(Failure::NewActive { cause, fenced }) => {
                let mut msg = format!("Unable to failover to {to}");
                tracing::error!("Unable to make {to} active ({cause}). Failing back.");
                // Only fail back when the old Active was not fenced: it is still whole.
                // The target is fenced unconditionally (it may still be becoming Active,
                // e.g. the call timed out) and the old Active forced back.
                if !fenced {
                    if let Err(e) = self.failover_once(to, from, true, true).await {
                        let why = match e {
                            Failure::Before(e) => e.message,
                            Failure::NewActive { cause, .. } => {
                                format!("Unable to failover to {from}: {cause}")
                            }
                        };
                        msg = format!("{msg}. Failback to {from} failed ({why})");
                        tracing::error!("{msg}");
                    }
                }
                Err(FailoverError::new(msg))
            }
        }
    }

    async fn failover_once(
        &self,
        from: &HaTarget,
        to: &HaTarget,
        force_fence: bool,
        force_active: bool,
    ) -> Result<(), Failure> {
        let Some(fencer) = &self.fencer else {
            return Err(Failure::Before(FailoverError::new(
                "failover requires a fencer (set dfs.ha.fencing.methods)",
            )));
        };
        self.pre_failover_checks(from, to, force_active)
            .await
            .map_err(Failure::Before)?;

        let mut fence = true;
        if self.try_graceful_fence(from).await {
            fence = force_fence;
        }
        if fence && !fencer.fence(from).await {
            return Err(Failure::Before(FailoverError::new(format!(
                "Unable to fence {from}. Fencing failed."
            ))));
        }

        let client = self.client(to, self.timeouts.new_active);
        match client.transition_to_active(self.source).await {
            Ok(()) => Ok(()),
            Err(e) => Err(Failure::NewActive {
                cause: e.to_string(),
                fenced: fence,
            }),
        }
    }

    async fn pre_failover_checks(
        &self,
        from: &HaTarget,
        to: &HaTarget,
        force_active: bool,
    ) -> Result<(), FailoverError> {
        if from.address == to.address {
            return Err(FailoverError::new("Can't failover a service to itself"));
        }
        let client = self.client(to, self.timeouts.new_active);
        let status = client.get_service_status().await.map_err(|e| {
            tracing::error!("Unable to get service state for {to}: {e}");
            FailoverError::new(format!("Unable to get service state for {to}"))
        })?;
        if status.state != HaServiceState::Standby {
            return Err(FailoverError::new(format!(
                "Can't failover to an {} service",
                status.state
            )));
        }
        if !status.ready_to_become_active {
            let reason = status.not_ready_reason.unwrap_or_default();
            if !force_active {
                return Err(FailoverError::new(format!(
                    "{to} is not ready to become active: {reason}"
                )));
            }
            tracing::warn!("Service is not ready to become active, but forcing: {reason}");
        }
        match client.monitor_health().await {
            Ok(()) => Ok(()),
            Err(e)
                if e.remote()
                    .is_some_and(|r| r.class_name == HEALTH_CHECK_FAILED_EXCEPTION) =>
            {
                Err(FailoverError::new(format!(
                    "Can't failover to an unhealthy service: {e}"
                )))
            }
            Err(e) => Err(FailoverError::new(format!("Got an IO exception: {e}"))),
        }
    }

    /// Asks `svc` to become Standby, quickly: true when it did.
    pub async fn try_graceful_fence(&self, svc: &HaTarget) -> bool {
        let client = self.client(svc, self.timeouts.graceful_fence);
        match client.transition_to_standby(self.source).await {
            Ok(()) => true,
            Err(e) if e.remote().is_some() => {
                tracing::warn!("Unable to gracefully make {svc} standby ({e})");
                false
            }
            Err(e) => {
                tracing::warn!("Unable to gracefully make {svc} standby (unable to connect): {e}");
                false
            }
        }
    }
}

enum Failure {
    /// Failed before the target was asked to become Active; nothing to undo.
    Before(FailoverError),
    /// transitionToActive of the target failed; `fenced` says whether the old Active
    /// was fenced on the way.
    NewActive { cause: String, fenced: bool },
}
