//! Automatic failover in a [`MiniCluster`]: one `hafs zkfc` beside each NameNode,
//! electing through a real standalone ZooKeeper ([`Backend::ZooKeeper`]) or through the
//! JournalNodes' leases ([`Backend::Journal`], the built-in election).
//!
//! ```ignore
//! let mut c = MiniCluster::builder()
//!     .namenodes(2).journalnodes(3).datanodes(3)
//!     .automatic_failover(Backend::Journal)
//!     .start();
//! c.kill_nn(0);
//! let active = c.wait_for_new_active(&[0], Duration::from_secs(20));
//! ```
//!
//! Start-up: the NameNodes come up Standby, ZooKeeper is formatted
//! (`hafs zkfc -formatZK -nonInteractive`), nn1's controller starts first and makes nn1
//! Active, then the others start and keep theirs Standby. Timeouts are short
//! (`hafs_cluster::AutoTimeouts::TESTS`: health checks every 200 ms with a 1 s RPC
//! timeout, a 2 s ZooKeeper session, a 2 s lease) so a failover takes a few seconds.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::cluster::{MiniCluster, NameNodeSlot, START_TIMEOUT, STOP_GRACE};
use crate::daemon::Daemon;
use crate::zookeeper::ZkServer;
use hafs_cluster::{free_port, AutoTimeouts};

/// The line `hafs zkfc` prints once it serves ZKFCProtocol.
pub const ZKFC_READY: &str = hafs_cluster::bring_up::ZKFC_READY;

/// How the controllers elect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A real standalone ZooKeeper started for the cluster (`ha.zookeeper.quorum`).
    ZooKeeper,
    /// The built-in election over the JournalNodes (no `ha.zookeeper.quorum`).
    Journal,
}

/// One controller: its ZKFCProtocol port, log and process.
#[derive(Debug)]
pub(crate) struct ZkfcSlot {
    pub(crate) id: String,
    pub(crate) port: u16,
    pub(crate) log_path: PathBuf,
    pub(crate) daemon: Option<Daemon>,
}

/// The site entries automatic failover adds (`hafs_cluster::site::auto_failover_site`
/// with the tests' timeouts), and the controller slots (not started). Starts ZooKeeper
/// for [`Backend::ZooKeeper`].
pub(crate) fn auto_failover_site(
    backend: Backend,
    ns: &str,
    namenodes: &[NameNodeSlot],
    dir: &std::path::Path,
) -> (Vec<(String, String)>, Vec<ZkfcSlot>, Option<ZkServer>) {
    let timeouts = AutoTimeouts::TESTS;
    let zk = (backend == Backend::ZooKeeper).then(|| ZkServer::start(timeouts.zk_tick_ms));
    let slots: Vec<ZkfcSlot> = namenodes
        .iter()
        .map(|nn| ZkfcSlot {
            id: format!("zkfc-{}", nn.id),
            port: free_port(),
            log_path: dir.join(format!("zkfc-{}.log", nn.id)),
            daemon: None,
        })
        .collect();
    let controllers: Vec<(String, String, u16)> = namenodes
        .iter()
        .zip(&slots)
        .map(|(nn, slot)| (ns.to_string(), nn.id.clone(), slot.port))
        .collect();
    let quorum = zk.as_ref().map(ZkServer::connect_string);
    let site = hafs_cluster::site::auto_failover_site(&timeouts, quorum.as_deref(), &controllers);
    (site, slots, zk)
}

impl MiniCluster {
    /// The election backend, if the cluster runs with automatic failover.
    pub fn backend(&self) -> Option<Backend> {
        self.auto_failover
    }

    /// Starts controller `i` (beside NameNode `i`, with its conf dir) and waits for its
    /// ready line.
    #[track_caller]
    pub fn start_zkfc(&mut self, i: usize) {
        let mut cmd = self.nn_command(i);
        cmd.arg("zkfc");
        let slot = &mut self.zkfcs[i];
        assert!(slot.daemon.is_none(), "{} is already running", slot.id);
        let offset = std::fs::metadata(&slot.log_path).map_or(0, |m| m.len() as usize);
        let mut daemon = Daemon::spawn(&slot.id, cmd, &slot.log_path);
        daemon.wait_for_log_line_after(ZKFC_READY, offset, START_TIMEOUT);
        slot.daemon = Some(daemon);
    }

    /// kill -9 controller `i`.
    #[track_caller]
    pub fn kill_zkfc(&mut self, i: usize) {
        let mut d = self.zkfcs[i]
            .daemon
            .take()
            .unwrap_or_else(|| panic!("{} is not running", self.zkfcs[i].id));
        d.kill();
    }

    /// SIGTERM controller `i` and wait; `None` if it had to be killed.
    #[track_caller]
    pub fn stop_zkfc(&mut self, i: usize) -> Option<std::process::ExitStatus> {
        let mut d = self.zkfcs[i]
            .daemon
            .take()
            .unwrap_or_else(|| panic!("{} is not running", self.zkfcs[i].id));
        d.terminate(STOP_GRACE)
    }

    /// Whether controller `i` runs (reaps it if it exited).
    pub fn zkfc_running(&mut self, i: usize) -> bool {
        self.zkfcs[i]
            .daemon
            .as_mut()
            .is_some_and(|d| d.is_running())
    }

    /// Controller `i`'s process id, if it runs.
    pub fn zkfc_pid(&self, i: usize) -> Option<u32> {
        self.zkfcs[i].daemon.as_ref().map(|d| d.pid())
    }

    /// SIGSTOP controller `i` (with [`MiniCluster::pause_nn`]: the whole host stalls).
    #[track_caller]
    pub fn pause_zkfc(&self, i: usize) {
        self.zkfc_daemon(i).pause();
    }

    /// SIGCONT after [`MiniCluster::pause_zkfc`].
    #[track_caller]
    pub fn resume_zkfc(&self, i: usize) {
        self.zkfc_daemon(i).resume();
    }

    #[track_caller]
    fn zkfc_daemon(&self, i: usize) -> &Daemon {
        self.zkfcs[i]
            .daemon
            .as_ref()
            .unwrap_or_else(|| panic!("{} is not running", self.zkfcs[i].id))
    }

    /// Controller `i`'s ZKFCProtocol port.
    pub fn zkfc_port(&self, i: usize) -> u16 {
        self.zkfcs[i].port
    }

    /// Everything controller `i` has logged, across restarts.
    pub fn zkfc_log(&self, i: usize) -> String {
        std::fs::read(&self.zkfcs[i].log_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// The cluster's ZooKeeper ([`Backend::ZooKeeper`] only): kill or restart it.
    #[track_caller]
    pub fn zookeeper(&mut self) -> &mut ZkServer {
        self.zookeeper
            .as_mut()
            .expect("the cluster runs no ZooKeeper (Backend::ZooKeeper)")
    }

    /// Waits until one running NameNode outside `not` reports Active and returns its
    /// index; panics with the controllers' logs after `timeout`.
    #[track_caller]
    pub fn wait_for_new_active(&self, not: &[usize], timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            let found = (0..self.namenodes.len()).find(|&i| {
                !not.contains(&i)
                    && self.namenodes[i].daemon.is_some()
                    && self.ha_state(i) == Ok("active")
            });
            if let Some(i) = found {
                return i;
            }
            if Instant::now() >= deadline {
                let logs: Vec<String> = (0..self.zkfcs.len())
                    .map(|i| {
                        let log = self.zkfc_log(i);
                        let lines: Vec<&str> = log.lines().collect();
                        format!(
                            "---- {} ----\n{}",
                            self.zkfcs[i].id,
                            lines[lines.len().saturating_sub(40)..].join("\n")
                        )
                    })
                    .collect();
                panic!(
                    "no NameNode outside {not:?} became Active within {timeout:?}\n{}",
                    logs.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills every controller (first, so none reacts to the NameNodes going away).
    pub(crate) fn kill_zkfcs(&mut self) {
        for slot in &mut self.zkfcs {
            if let Some(mut d) = slot.daemon.take() {
                d.kill();
            }
        }
    }

    /// Prints the controllers' log tails (on a failed test).
    pub(crate) fn print_zkfc_logs(&self) {
        for i in 0..self.zkfcs.len() {
            let log = self.zkfc_log(i);
            let lines: Vec<&str> = log.lines().collect();
            eprintln!(
                "---- {} log, last {} lines ----\n{}",
                self.zkfcs[i].id,
                lines.len().min(60),
                lines[lines.len().saturating_sub(60)..].join("\n")
            );
        }
    }
}
