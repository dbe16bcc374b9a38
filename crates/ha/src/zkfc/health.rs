//! The health monitor (Hadoop's HealthMonitor): asks the local NameNode for its status
//! and health every `ha.health-monitor.check-interval.ms`, each call bounded by
//! `ha.health-monitor.rpc-timeout.ms`, and reports every change of state. Unlike
//! Hadoop's, it also looks at once when the NameNode closes its connection (a killed
//! NameNode does), so noticing a dead NameNode does not wait for the next interval.

use std::time::Duration;

use hafs_conf::{keys, Configuration, TimeUnit};
use hafs_ipc::ClientConfig;
use tokio::sync::watch;

use crate::service_client::{HaServiceClient, HaServiceState};
use crate::HEALTH_CHECK_FAILED_EXCEPTION;

pub const CHECK_INTERVAL: &str = keys::HA_HEALTH_MONITOR_CHECK_INTERVAL_MS;
pub const CHECK_INTERVAL_DEFAULT: Duration =
    Duration::from_millis(keys::HA_HEALTH_MONITOR_CHECK_INTERVAL_MS_DEFAULT);
pub const RPC_TIMEOUT: &str = keys::HA_HEALTH_MONITOR_RPC_TIMEOUT_MS;
pub const RPC_TIMEOUT_DEFAULT: Duration =
    Duration::from_millis(keys::HA_HEALTH_MONITOR_RPC_TIMEOUT_MS_DEFAULT);

/// The least time between two looks that a closed connection starts early: whatever a
/// server does with our connections, it cannot make the monitor spin.
pub const EARLY_LOOK_GAP: Duration = Duration::from_millis(50);

/// Hadoop's HealthMonitor.State.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthState {
    /// No answer yet.
    Initializing,
    /// The NameNode does not answer (down, paused, or slower than the RPC timeout).
    ServiceNotResponding,
    ServiceHealthy,
    /// It answers but its health check fails.
    ServiceUnhealthy,
    /// The monitor itself failed; the controller must stop.
    HealthMonitorFailed,
}

impl HealthState {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Initializing => "INITIALIZING",
            HealthState::ServiceNotResponding => "SERVICE_NOT_RESPONDING",
            HealthState::ServiceHealthy => "SERVICE_HEALTHY",
            HealthState::ServiceUnhealthy => "SERVICE_UNHEALTHY",
            HealthState::HealthMonitorFailed => "HEALTH_MONITOR_FAILED",
        }
    }
}

impl std::fmt::Display for HealthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one round of checks found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthReport {
    pub health: HealthState,
    /// The NameNode's HA state when it answered getServiceStatus.
    pub service_state: Option<HaServiceState>,
    /// It did not answer within the RPC timeout: unlike a refused connection (no
    /// process), it may be alive but stopped (paused, swapping) and serve again later.
    pub silent: bool,
}

/// Timing of the health checks.
#[derive(Debug, Clone, Copy)]
pub struct HealthSettings {
    pub check_interval: Duration,
    pub rpc_timeout: Duration,
}

impl HealthSettings {
    pub fn from_conf(conf: &Configuration) -> Result<HealthSettings, hafs_conf::ConfError> {
        Ok(HealthSettings {
            check_interval: conf.get_time_duration(
                CHECK_INTERVAL,
                CHECK_INTERVAL_DEFAULT,
                TimeUnit::Millis,
            )?,
            rpc_timeout: conf.get_time_duration(
                RPC_TIMEOUT,
                RPC_TIMEOUT_DEFAULT,
                TimeUnit::Millis,
            )?,
        })
    }
}

/// Classifies one round: getServiceStatus, then monitorHealth (Hadoop's order).
pub async fn check_once(client: &HaServiceClient) -> HealthReport {
    let status = match client.get_service_status().await {
        Ok(s) => s,
        Err(e) => {
            tracing::debug!("health check: getServiceStatus failed: {e}");
            return HealthReport {
                health: if e.remote().is_some() {
                    HealthState::ServiceUnhealthy
                } else {
                    HealthState::ServiceNotResponding
                },
                service_state: None,
                silent: is_timeout(&e),
            };
        }
    };
    let mut silent = false;
    let health = match client.monitor_health().await {
        Ok(()) => HealthState::ServiceHealthy,
        Err(e)
            if e.remote()
                .is_some_and(|r| r.class_name == HEALTH_CHECK_FAILED_EXCEPTION) =>
        {
            tracing::debug!("health check: {e}");
            HealthState::ServiceUnhealthy
        }
        Err(e) if e.remote().is_some() => HealthState::ServiceUnhealthy,
        Err(e) => {
            silent = is_timeout(&e);
            HealthState::ServiceNotResponding
        }
    };
    HealthReport {
        health,
        service_state: Some(status.state),
        silent,
    }
}

fn is_timeout(e: &hafs_ipc::IpcError) -> bool {
    matches!(e, hafs_ipc::IpcError::Timeout { .. })
}

/// Starts monitoring the NameNode at `addr`; the receiver sees each new report (the
/// first value is INITIALIZING). The task ends when every receiver is dropped.
pub fn spawn_monitor(
    addr: String,
    base: ClientConfig,
    settings: HealthSettings,
) -> watch::Receiver<HealthReport> {
    let (tx, rx) = watch::channel(HealthReport {
        health: HealthState::Initializing,
        service_state: None,
        silent: false,
    });
    tokio::spawn(async move {
        let mut cfg = base;
        cfg.call_timeout = settings.rpc_timeout;
        cfg.connect_timeout = settings.rpc_timeout;
        let client = HaServiceClient::new(addr.clone(), cfg);
        let mut ticker = tokio::time::interval(settings.check_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_look = tokio::time::Instant::now();
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = async {
                    client.connection_closed().await;
                    tokio::time::sleep_until(last_look + EARLY_LOOK_GAP).await;
                } => {
                    // Our connection to the NameNode closed. A NameNode killed or crashed
                    // closes it at once (its kernel does), so look now instead of up to a
                    // check interval later: the failover starts right away.
                    tracing::debug!("zkfc: connection to local NameNode {addr} closed; checking now");
                    ticker.reset();
                }
            }
            last_look = tokio::time::Instant::now();
            let report = check_once(&client).await;
            let changed = *tx.borrow() != report;
            if changed {
                tracing::info!(
                    "zkfc: local NameNode {addr} is now {} (HA state {})",
                    report.health,
                    report
                        .service_state
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "unknown".into())
                );
                if tx.send(report).is_err() {
                    return;
                }
            } else if tx.is_closed() {
                return;
            }
        }
    });
    rx
}
