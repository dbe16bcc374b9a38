//! HA nameservices in a [`MiniCluster`]: 2 to 5 NameNodes of nameservice [`NAMESERVICE`]
//! sharing edits on JournalNodes (or a shared dir), each with its own conf dir naming
//! its `dfs.ha.namenode.id`, its own name dir and ports.
//!
//! Start-up walks `hafs_cluster::bring_up::steps`, the HA bootstrap order an operator
//! follows: format nn1 (which formats the JournalNodes), start it, `namenode
//! -bootstrapStandby` each other NameNode from it and start it (it comes up Standby),
//! then make nn1 Active with `hafs haadmin -transitionToActive nn1` (or start the
//! controllers, see `zkfc.rs`); DataNodes last. The site entries naming the
//! nameservice come from `hafs_cluster::site`; this file adds the tests' tuning.
//!
//! ```ignore
//! let mut c = MiniCluster::builder().namenodes(2).journalnodes(3).datanodes(3).start();
//! assert_eq!(c.active_index(), Some(0));
//! c.haadmin(&["-failover", "nn1", "nn2"]).ok();
//! c.wait_for_state(1, "active", Duration::from_secs(10));
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use hafs_cluster::bring_up::{self, Step, BOOTSTRAP_STANDBY_ARGS, FORMAT_ZK_ARGS};
use hafs_cluster::site;

use crate::cluster::{
    kv, wait_until_serving, MiniCluster, NameNodeSlot, START_TIMEOUT, STOP_GRACE,
};
use crate::command::{run_with_timeout, CmdOutput, DEFAULT_CMD_TIMEOUT};
use crate::conf_xml::write_site_xml;
use crate::daemon::Daemon;
use crate::ha_rpc;
use crate::tools::ClientTarget;

/// The nameservice id of HA clusters (`fs.defaultFS = hdfs://ns1`).
pub const NAMESERVICE: &str = "ns1";
/// Hadoop's client-side proxy provider: the Java client needs it named to treat `ns1`
/// as a logical name; hdfs-native and our client accept it.
pub const FAILOVER_PROXY_PROVIDER: &str = site::FAILOVER_PROXY_PROVIDER;
/// Hadoop's proxy provider for clients that read from Observer NameNodes.
pub const OBSERVER_PROXY_PROVIDER: &str = site::OBSERVER_READ_PROXY_PROVIDER;
/// HDFS allows at most five NameNodes per nameservice.
pub const MAX_NAMENODES: usize = 5;

/// The (key, value) entries of one site file, in order.
pub(crate) type SitePairs = Vec<(String, String)>;

/// The shared (client-visible) core-site and hdfs-site entries of an HA nameservice.
/// Name dirs and `dfs.ha.namenode.id` are per NameNode and go only into each
/// NameNode's own conf dir.
pub(crate) fn ha_site(ns: &str, namenodes: &[NameNodeSlot]) -> (SitePairs, SitePairs) {
    let core = vec![
        kv("fs.defaultFS", format!("hdfs://{ns}")),
        // A paused (SIGSTOP) NameNode accepts connections and never answers: clients
        // that honour this move on after 10 s instead of Hadoop's 120 s.
        kv("ipc.client.rpc-timeout.ms", "10000"),
    ];
    let mut hdfs = site::nameservices_site(&[site::Nameservice {
        id: ns.to_string(),
        namenodes: namenodes
            .iter()
            .map(|nn| site::NameNodeAddrs {
                id: nn.id.clone(),
                rpc: nn.rpc_addr.to_string(),
                http: nn.http_addr.to_string(),
            })
            .collect(),
    }]);
    hdfs.extend(TEST_HA_TUNING.iter().map(|(k, v)| kv(k, *v)));
    (core, hdfs)
}

/// What the tests' HA nameservices (MiniCluster's and Federation's) add to
/// `hafs_cluster::site`'s entries.
pub(crate) const TEST_HA_TUNING: &[(&str, &str)] = &[
    // Clients ride out a failover of a few seconds: up to 20 attempts, sleeping
    // 50 ms growing to 1 s between rounds of the NameNode list.
    ("dfs.client.failover.max.attempts", "20"),
    ("dfs.client.failover.sleep.base.millis", "50"),
    ("dfs.client.failover.sleep.max.millis", "1000"),
    // Standbys stay within milliseconds of the Active (the default 10 ms period).
    ("dfs.ha.tail-edits.in-progress", "true"),
    // Tests fail over by hand; the graceful transition of the old Active is the
    // real fence, `shell(true)` lets -failover proceed when it is unreachable.
    ("dfs.ha.fencing.methods", "shell(true)"),
    ("dfs.ha.automatic-failover.enabled", "false"),
];

impl MiniCluster {
    /// Brings the NameNodes (and controllers) and DataNodes up in the order of
    /// `hafs_cluster::bring_up::steps`; the JournalNodes already run (the site files
    /// name their ports). Returns once the NameNode reports every DataNode live.
    #[track_caller]
    pub(crate) fn bring_up(&mut self, datanodes: usize) {
        let activation = match self.auto_failover {
            None => bring_up::Activation::Manual,
            Some(crate::zkfc::Backend::Journal) => bring_up::Activation::Controllers,
            Some(crate::zkfc::Backend::ZooKeeper) => bring_up::Activation::ZooKeeperControllers,
        };
        if self.is_ha() {
            for i in 0..self.namenodes.len() {
                self.write_namenode_conf(i);
            }
        }
        for step in bring_up::steps(1, self.namenodes.len(), false, activation) {
            match step {
                Step::StartJournalNodes => {}
                Step::Format { .. } => {
                    self.format_namenode(0);
                    // Seed every other name dir with nn1's fresh one (same cluster
                    // and namespace ids); `-bootstrapStandby` then replaces it with
                    // an image fetched over HTTP.
                    for i in 1..self.namenodes.len() {
                        let (from, to) = (&self.namenodes[0].name_dir, &self.namenodes[i].name_dir);
                        if let Err(e) = hafs_cluster::files::copy_name_dir(from, to) {
                            panic!("seeding {}: {e}", self.namenodes[i].id);
                        }
                    }
                }
                Step::BootstrapStandby { nn, .. } => self.bootstrap_standby(nn),
                Step::StartNameNode { nn, .. } => self.start_namenode(nn),
                Step::FormatZooKeeper { .. } => {
                    let mut cmd = self.nn_command(0);
                    cmd.args(FORMAT_ZK_ARGS);
                    let out = run_with_timeout(cmd, Duration::from_secs(60));
                    assert!(out.success(), "hafs zkfc -formatZK failed:\n{out}");
                }
                Step::StartController { nn, .. } => self.start_zkfc(nn),
                Step::TransitionToActive { nn, .. } => self.transition_to_active(nn),
                Step::WaitActive { nn, .. } => self.wait_for_state(nn, "active", START_TIMEOUT),
                Step::StartDataNodes => {
                    for _ in 0..datanodes {
                        self.add_datanode();
                    }
                    if datanodes > 0 {
                        self.wait_live_datanodes(datanodes, START_TIMEOUT * 2);
                    }
                }
            }
        }
    }

    /// Writes NameNode `i`'s own conf dir: the shared site files plus its id and name dir.
    fn write_namenode_conf(&self, i: usize) {
        let slot = &self.namenodes[i];
        std::fs::create_dir_all(&slot.conf_dir).expect("create NameNode conf dir");
        let name_dir = slot.name_dir.display().to_string();
        let mut own = site::namenode_own_site(None, &slot.id, &name_dir);
        if let Some(uri) = self.partitioned_shared_edits(i) {
            own.push(kv(site::SHARED_EDITS_KEY, uri));
        }
        write_site_xml(&slot.conf_dir.join("core-site.xml"), &self.core_site);
        write_site_xml(
            &slot.conf_dir.join("hdfs-site.xml"),
            &site::with_own(&self.hdfs_site, &own),
        );
    }

    /// `hafs namenode -bootstrapStandby -force -nonInteractive` for NameNode `i` (not
    /// running) from the running ones. A hafs without the option keeps the seeded dir.
    #[track_caller]
    pub fn bootstrap_standby(&self, i: usize) {
        let mut cmd = self.nn_command(i);
        cmd.args(BOOTSTRAP_STANDBY_ARGS);
        let out = run_with_timeout(cmd, Duration::from_secs(60));
        if out.success() {
            return;
        }
        let unsupported = out.stderr.contains("unknown option '-bootstrapStandby'");
        if !unsupported {
            panic!("bootstrapping {} failed:\n{out}", self.namenodes[i].id);
        }
        eprintln!(
            "harness: this hafs has no `namenode -bootstrapStandby`; {} keeps nn1's formatted name dir",
            self.namenodes[i].id
        );
    }

    /// The cluster as a client target (its conf dir and `fs.defaultFS`), which can be
    /// moved into client threads.
    pub fn client_target(&self) -> ClientTarget {
        ClientTarget {
            conf_dir: self.conf_dir().to_path_buf(),
            fs_uri: self.fs_uri(),
            env: crate::tools::ConfTarget::client_env(self),
        }
    }

    /// `hafs dfs <args…>` against NameNode `i` alone (`-fs hdfs://<its rpc address>`,
    /// one attempt): what that NameNode itself answers, with no failover.
    #[track_caller]
    pub fn dfs_on_nn(&self, i: usize, args: &[&str]) -> CmdOutput {
        let uri = format!("hdfs://{}", self.namenodes[i].rpc_addr);
        let mut full = vec![
            "-fs",
            uri.as_str(),
            "-D",
            "dfs.client.failover.max.attempts=0",
        ];
        full.extend_from_slice(args);
        crate::tools::hafs_dfs(self, &full)
    }

    /// Number of NameNodes.
    pub fn nn_count(&self) -> usize {
        self.namenodes.len()
    }

    /// NameNode `i`'s id (`nn1`, `nn2`, ...).
    pub fn nn_id(&self, i: usize) -> &str {
        &self.namenodes[i].id
    }

    /// NameNode `i`'s client RPC address (where HAServiceProtocol is served too).
    pub fn nn_rpc_addr_of(&self, i: usize) -> SocketAddr {
        self.namenodes[i].rpc_addr
    }

    /// NameNode `i`'s HTTP address (image transfer).
    pub fn nn_http_addr_of(&self, i: usize) -> SocketAddr {
        self.namenodes[i].http_addr
    }

    /// NameNode `i`'s name dir.
    pub fn nn_name_dir_of(&self, i: usize) -> &Path {
        &self.namenodes[i].name_dir
    }

    /// NameNode `i`'s own conf dir (the shared conf dir without HA).
    pub fn nn_conf_dir(&self, i: usize) -> &Path {
        &self.namenodes[i].conf_dir
    }

    /// The running NameNode `i`. Panics if it is not running.
    #[track_caller]
    pub fn nn(&self, i: usize) -> &Daemon {
        self.namenodes[i]
            .daemon
            .as_ref()
            .unwrap_or_else(|| panic!("{} is not running", self.namenodes[i].id))
    }

    /// Whether NameNode `i` runs (reaps it if it exited).
    pub fn nn_running(&mut self, i: usize) -> bool {
        self.namenodes[i]
            .daemon
            .as_mut()
            .is_some_and(|d| d.is_running())
    }

    /// Everything NameNode `i` has logged, across restarts.
    pub fn nn_log(&self, i: usize) -> String {
        std::fs::read(&self.namenodes[i].log_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// The log file of NameNode `i`.
    pub fn nn_log_path(&self, i: usize) -> PathBuf {
        self.namenodes[i].log_path.clone()
    }

    /// Waits up to `timeout` for NameNode `i` to exit on its own and returns its exit
    /// status (the slot is then empty, as after [`MiniCluster::kill_nn`]); `None` if it
    /// still runs.
    #[track_caller]
    pub fn wait_nn_exit(&mut self, i: usize, timeout: Duration) -> Option<ExitStatus> {
        let slot = &mut self.namenodes[i];
        let Some(daemon) = slot.daemon.as_mut() else {
            panic!("wait_nn_exit: {} is not running", slot.id);
        };
        let status = daemon.wait_timeout(timeout)?;
        self.namenodes[i].daemon = None;
        Some(status)
    }

    /// kill -9 NameNode `i`.
    #[track_caller]
    pub fn kill_nn(&mut self, i: usize) {
        let mut daemon = self.namenodes[i]
            .daemon
            .take()
            .unwrap_or_else(|| panic!("kill_nn: {} is not running", self.namenodes[i].id));
        daemon.kill();
    }

    /// SIGTERM NameNode `i` and wait; `None` if it had to be killed.
    #[track_caller]
    pub fn stop_nn(&mut self, i: usize) -> Option<ExitStatus> {
        let mut daemon = self.namenodes[i]
            .daemon
            .take()
            .unwrap_or_else(|| panic!("stop_nn: {} is not running", self.namenodes[i].id));
        daemon.terminate(STOP_GRACE)
    }

    /// SIGSTOP NameNode `i` (a long GC pause).
    pub fn pause_nn(&self, i: usize) {
        self.nn(i).pause();
    }

    /// SIGCONT after [`MiniCluster::pause_nn`].
    pub fn resume_nn(&self, i: usize) {
        self.nn(i).resume();
    }

    /// Starts NameNode `i` (same ports, name dir and conf); in HA it comes up Standby.
    #[track_caller]
    pub fn start_nn(&mut self, i: usize) {
        self.start_namenode(i);
    }

    /// Stops NameNode `i` with SIGTERM if it runs, then starts it again.
    #[track_caller]
    pub fn restart_nn(&mut self, i: usize) {
        if let Some(mut daemon) = self.namenodes[i].daemon.take() {
            daemon.terminate(STOP_GRACE);
        }
        self.start_namenode(i);
    }

    /// `hafs --config <conf dir> haadmin <args…>`, e.g. `&["-failover", "nn1", "nn2"]`.
    /// `hafs haadmin <args…>` answering "Y" to the `--forcemanual` confirmation.
    #[track_caller]
    pub fn haadmin_confirmed(&self, args: &[&str]) -> CmdOutput {
        let inner = self.hafs_command();
        let mut cmd = std::process::Command::new("bash");
        cmd.arg("-c")
            .arg(r#"echo Y | exec "$@""#)
            .arg("haadmin-confirmed")
            .arg(inner.get_program())
            .args(inner.get_args())
            .arg("haadmin")
            .args(args);
        for (k, v) in inner.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        run_with_timeout(cmd, DEFAULT_CMD_TIMEOUT)
    }

    /// Makes NameNode `i` an Observer with `hafs haadmin -transitionToObserver`
    /// (`--forcemanual` under automatic failover, confirmed), and waits until it says so.
    #[track_caller]
    pub fn transition_to_observer(&self, i: usize) {
        let id = self.namenodes[i].id.clone();
        let out = if self.auto_failover.is_some() {
            self.haadmin_confirmed(&["-transitionToObserver", "--forcemanual", &id])
        } else {
            self.haadmin(&["-transitionToObserver", &id])
        };
        if !out.success() {
            panic!("haadmin -transitionToObserver {id} failed:\n{out}");
        }
        self.wait_for_state(i, "observer", Duration::from_secs(10));
    }

    /// A client conf dir `name` under the cluster's dir: the cluster's site files with
    /// `extra` hdfs-site keys on top (e.g. ObserverReadProxyProvider for a reader).
    pub fn client_target_with(&self, name: &str, extra: &[(&str, &str)]) -> ClientTarget {
        let dir = self.dir().join(name);
        std::fs::create_dir_all(&dir).expect("create client conf dir");
        let mut hdfs = self.hdfs_site.clone();
        for (k, v) in extra {
            site::set(&mut hdfs, k, v);
        }
        write_site_xml(&dir.join("core-site.xml"), &self.core_site);
        write_site_xml(&dir.join("hdfs-site.xml"), &hdfs);
        ClientTarget {
            conf_dir: dir,
            fs_uri: self.fs_uri(),
            env: crate::tools::ConfTarget::client_env(self),
        }
    }

    #[track_caller]
    pub fn haadmin(&self, args: &[&str]) -> CmdOutput {
        let mut cmd = self.hafs_command();
        cmd.arg("haadmin").args(args);
        run_with_timeout(cmd, DEFAULT_CMD_TIMEOUT)
    }

    /// NameNode `i`'s HA state by a direct `getServiceStatus` call ("active",
    /// "standby", ...), or the error (not running, paused, refused).
    pub fn ha_state(&self, i: usize) -> Result<&'static str, String> {
        if self.realm.is_some() {
            // The test process holds no Kerberos login; ask through `hafs haadmin`,
            // which runs with the superuser's ticket.
            let out = self.haadmin(&["-getServiceState", &self.namenodes[i].id]);
            if !out.success() {
                return Err(out.to_string());
            }
            return match out.stdout.trim() {
                "active" => Ok("active"),
                "standby" => Ok("standby"),
                "observer" => Ok("observer"),
                other => Err(format!("unexpected state {other:?}")),
            };
        }
        ha_rpc::get_service_state(self.namenodes[i].rpc_addr)
    }

    /// The index of the NameNode that says it is Active; `None` if none does. Asks
    /// only the NameNodes that run; a paused one counts as not answering.
    pub fn active_index(&self) -> Option<usize> {
        (0..self.namenodes.len())
            .find(|&i| self.namenodes[i].daemon.is_some() && self.ha_state(i) == Ok("active"))
    }

    /// Waits until NameNode `i` reports `state` ("active" or "standby"); panics with
    /// its log after `timeout`.
    #[track_caller]
    pub fn wait_for_state(&self, i: usize, state: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut last;
        loop {
            last = self.ha_state(i);
            if last.as_deref() == Ok(state) {
                return;
            }
            if Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "{} did not become {state} within {timeout:?} (last: {last:?}); log:\n{}",
            self.namenodes[i].id,
            tail(&self.nn_log(i), 100)
        );
    }

    /// Makes NameNode `i` Active with `hafs haadmin -transitionToActive <id>`; while
    /// the haadmin command is not built, with a direct HAServiceProtocol call.
    #[track_caller]
    pub fn transition_to_active(&self, i: usize) {
        let id = self.namenodes[i].id.clone();
        let out = self.haadmin(&["-transitionToActive", &id]);
        if out.success() {
            return;
        }
        if !no_haadmin(&out) {
            panic!("haadmin -transitionToActive {id} failed:\n{out}");
        }
        ha_rpc::transition_to_active(self.namenodes[i].rpc_addr, false)
            .unwrap_or_else(|e| panic!("transitionToActive {id} failed: {e}"));
    }

    /// Makes NameNode `i` Standby (`haadmin -transitionToStandby`, or a direct call).
    #[track_caller]
    pub fn transition_to_standby(&self, i: usize) {
        let id = self.namenodes[i].id.clone();
        let out = self.haadmin(&["-transitionToStandby", &id]);
        if out.success() {
            return;
        }
        if !no_haadmin(&out) {
            panic!("haadmin -transitionToStandby {id} failed:\n{out}");
        }
        ha_rpc::transition_to_standby(self.namenodes[i].rpc_addr, false)
            .unwrap_or_else(|e| panic!("transitionToStandby {id} failed: {e}"));
    }

    /// A manual failover from `from` to `to`: `haadmin -failover <from> <to>`, or (no
    /// haadmin yet) the two transitions in order. Returns once `to` reports Active.
    #[track_caller]
    pub fn failover(&self, from: usize, to: usize) {
        let (a, b) = (
            self.namenodes[from].id.clone(),
            self.namenodes[to].id.clone(),
        );
        let out = self.haadmin(&["-failover", &a, &b]);
        if !out.success() {
            if !no_haadmin(&out) {
                panic!("haadmin -failover {a} {b} failed:\n{out}");
            }
            ha_rpc::transition_to_standby(self.namenodes[from].rpc_addr, false)
                .unwrap_or_else(|e| panic!("transitionToStandby {a} failed: {e}"));
            ha_rpc::transition_to_active(self.namenodes[to].rpc_addr, false)
                .unwrap_or_else(|e| panic!("transitionToActive {b} failed: {e}"));
        }
        self.wait_for_state(to, "active", Duration::from_secs(30));
    }

    /// Waits until every running DataNode has sent NameNode `i` a full block report
    /// since it last started (read from the DataNodes' logs: `full block report sent
    /// namenode=<addr>`). A Standby restarted a moment ago knows no block locations;
    /// made Active before its reports arrive, it would answer reads with no replicas.
    #[track_caller]
    pub fn wait_for_block_reports(&mut self, i: usize, timeout: Duration) {
        let addr = format!("namenode={}", self.namenodes[i].rpc_addr);
        let deadline = Instant::now() + timeout;
        loop {
            let mut missing = Vec::new();
            for d in 0..self.datanodes.len() {
                if !self.datanode_running(d) {
                    continue;
                }
                let from = self.namenodes[i]
                    .dn_log_offsets
                    .get(d)
                    .copied()
                    .unwrap_or(0);
                let log = self.datanode_log(d);
                let reported = log
                    .get(from.min(log.len())..)
                    .unwrap_or("")
                    .lines()
                    .any(|l| l.contains("full block report sent") && l.contains(&addr));
                if !reported {
                    missing.push(self.datanodes[d].id.clone());
                }
            }
            if missing.is_empty() {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "{missing:?} sent {} no full block report within {timeout:?}",
                    self.namenodes[i].id
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until NameNode `i` serves again after a start (port and ready line).
    #[track_caller]
    pub fn wait_nn_serving(&mut self, i: usize) {
        let slot = &mut self.namenodes[i];
        let addr = slot.rpc_addr;
        let daemon = slot
            .daemon
            .as_mut()
            .unwrap_or_else(|| panic!("{} is not running", slot.id));
        wait_until_serving(daemon, addr);
    }

    /// NameNode `i`'s last transaction id, from its HTTP status page (`last txid:`):
    /// the last edit written by an Active, the last one applied by a Standby.
    pub fn nn_last_txid(&self, i: usize) -> Result<u64, String> {
        use std::io::{Read, Write};
        let addr = self.namenodes[i].http_addr;
        let timeout = Duration::from_secs(5);
        let mut s = std::net::TcpStream::connect_timeout(&addr, timeout)
            .map_err(|e| format!("connect {addr}: {e}"))?;
        s.set_read_timeout(Some(timeout)).ok();
        s.write_all(b"GET /status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .map_err(|e| format!("send to {addr}: {e}"))?;
        let mut body = String::new();
        s.read_to_string(&mut body)
            .map_err(|e| format!("read from {addr}: {e}"))?;
        body.lines()
            .find_map(|l| l.strip_prefix("last txid: "))
            .and_then(|t| t.trim().parse().ok())
            .ok_or_else(|| format!("no `last txid:` in {addr}'s status page:\n{body}"))
    }

    /// Waits up to `bound` until NameNode `standby` has applied every edit NameNode
    /// `active` had written when the wait began; returns that txid.
    #[track_caller]
    pub fn wait_caught_up(&self, standby: usize, active: usize, bound: Duration) -> u64 {
        let target = self
            .nn_last_txid(active)
            .unwrap_or_else(|e| panic!("{}'s last txid: {e}", self.nn_id(active)));
        let deadline = Instant::now() + bound;
        loop {
            let got = self.nn_last_txid(standby);
            if matches!(got, Ok(t) if t >= target) {
                return target;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not catch up with {} (txid {target}) within {bound:?}: {got:?}",
                self.nn_id(standby),
                self.nn_id(active)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// True when `hafs` has no `haadmin` command yet (an older build).
fn no_haadmin(out: &CmdOutput) -> bool {
    let text = format!("{}{}", out.stdout, out.stderr);
    text.contains("unknown command") && text.contains("haadmin")
}

fn tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
