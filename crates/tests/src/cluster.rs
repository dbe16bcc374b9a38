//! A mini cluster of real `hafs` processes on loopback ports in a temp dir.
//!
//! It runs one NameNode and any number of DataNodes (see `datanodes.rs`). Each role is
//! a [`Daemon`] in a slot that remembers how to start it again, so JournalNodes and
//! failover controllers can be added as further slot kinds without changing the tests
//! that exist.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::Duration;

use crate::command::run_with_timeout;
use crate::conf_xml::write_site_xml;
use crate::daemon::Daemon;
use crate::datanodes::{data_path_defaults, DataNodeSlot};
use crate::paths::hafs_bin;
use crate::ports::{free_port, wait_for_port};
use crate::tempdir::TempDir;

/// How long a daemon may take to start accepting connections.
pub(crate) const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a daemon gets to exit after SIGTERM before it is killed.
pub(crate) const STOP_GRACE: Duration = Duration::from_secs(15);

/// Builds a [`MiniCluster`]: `MiniCluster::builder().namenodes(1).conf("k", "v").start()`.
#[derive(Debug, Clone)]
pub struct MiniClusterBuilder {
    namenodes: usize,
    datanodes: usize,
    conf: Vec<(String, String)>,
    label: String,
    binary: Option<PathBuf>,
}

impl MiniClusterBuilder {
    /// Number of NameNodes. Only 1 is supported until HA lands.
    pub fn namenodes(mut self, n: usize) -> Self {
        self.namenodes = n;
        self
    }

    /// Number of DataNodes (default 0: a namespace-only cluster). With DataNodes the
    /// conf gets the data-path test defaults of `datanodes.rs` (1 MiB blocks, 1 s
    /// heartbeats, replication min(n, 3), ...), which `.conf()` can still override, and
    /// [`MiniClusterBuilder::start`] returns once the NameNode reports them all live.
    pub fn datanodes(mut self, n: usize) -> Self {
        self.datanodes = n;
        self
    }

    /// An extra configuration key; it replaces a harness default of the same name,
    /// and otherwise goes into hdfs-site.xml.
    pub fn conf(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.conf.push((key.into(), value.into()));
        self
    }

    /// Runs the daemons from `binary` instead of [`hafs_bin`] (for testing the harness
    /// itself with a stand-in).
    pub fn binary(mut self, binary: impl Into<PathBuf>) -> Self {
        self.binary = Some(binary.into());
        self
    }

    /// A label for the temp dir name, to find a failed test's files.
    pub fn label(mut self, label: &str) -> Self {
        self.label = label.to_string();
        self
    }

    /// Writes the conf dir, formats the NameNode and starts it; returns once its RPC
    /// port accepts connections. Panics (with the NameNode log) on any failure.
    #[track_caller]
    pub fn start(self) -> MiniCluster {
        assert!(
            self.namenodes == 1,
            "MiniCluster supports exactly one NameNode for now (asked for {}); HA clusters \
             need per-NameNode conf dirs and shared edits, which are not built yet",
            self.namenodes
        );
        let dir = TempDir::new(&self.label);
        let conf_dir = dir.join("conf");
        std::fs::create_dir(&conf_dir).expect("create conf dir");

        let nn = NameNodeSlot {
            id: "nn1".to_string(),
            rpc_addr: loopback(free_port()),
            http_addr: loopback(free_port()),
            name_dir: dir.join("nn1").join("name"),
            log_path: dir.join("nn1.log"),
            daemon: None,
        };
        std::fs::create_dir_all(nn.name_dir.parent().expect("name dir has a parent"))
            .expect("create nn1 dir");

        let mut core = vec![
            kv("fs.defaultFS", format!("hdfs://{}", nn.rpc_addr)),
            // Clients must give up on a dead NameNode quickly: tests kill NameNodes.
            kv("ipc.client.connect.max.retries", "2"),
            kv("ipc.client.connect.retry.interval", "100"),
            kv("ipc.client.connect.max.retries.on.timeouts", "2"),
        ];
        let mut hdfs = vec![
            kv("dfs.namenode.name.dir", nn.name_dir.display().to_string()),
            kv("dfs.namenode.rpc-address", nn.rpc_addr.to_string()),
            // Never the default 9870: tests run in parallel.
            kv("dfs.namenode.http-address", nn.http_addr.to_string()),
            kv("dfs.replication", "1"),
            kv("dfs.namenode.safemode.extension", "0"),
            kv("dfs.client.failover.max.attempts", "3"),
            kv("dfs.client.failover.sleep.base.millis", "50"),
            kv("dfs.client.failover.sleep.max.millis", "200"),
        ];
        if self.datanodes > 0 {
            for (key, value) in data_path_defaults(self.datanodes) {
                if let Some(slot) = hdfs.iter_mut().find(|(k, _)| *k == key) {
                    slot.1 = value;
                } else {
                    hdfs.push((key, value));
                }
            }
        }
        for (key, value) in self.conf {
            if let Some(slot) = core.iter_mut().find(|(k, _)| *k == key) {
                slot.1 = value;
            } else if let Some(slot) = hdfs.iter_mut().find(|(k, _)| *k == key) {
                slot.1 = value;
            } else {
                hdfs.push((key, value));
            }
        }
        write_site_xml(&conf_dir.join("core-site.xml"), &core);
        write_site_xml(&conf_dir.join("hdfs-site.xml"), &hdfs);

        let mut cluster = MiniCluster {
            binary: self.binary.unwrap_or_else(hafs_bin),
            conf_dir,
            core_site: core,
            hdfs_site: hdfs,
            namenodes: vec![nn],
            datanodes: Vec::new(),
            dir,
        };
        cluster.format_namenode(0);
        cluster.start_namenode(0);
        for _ in 0..self.datanodes {
            cluster.add_datanode();
        }
        if self.datanodes > 0 {
            cluster.wait_live_datanodes(self.datanodes, START_TIMEOUT * 2);
        }
        cluster
    }
}

pub(crate) fn kv(key: &str, value: impl Into<String>) -> (String, String) {
    (key.to_string(), value.into())
}

pub(crate) fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// One NameNode's fixed identity (ports, dirs) and its process when running.
#[derive(Debug)]
struct NameNodeSlot {
    id: String,
    rpc_addr: SocketAddr,
    http_addr: SocketAddr,
    name_dir: PathBuf,
    log_path: PathBuf,
    daemon: Option<Daemon>,
}

/// Real `hafs` daemons on loopback, in a temp dir that is removed on drop (unless
/// `HAFS_KEEP_TMP` is set). Dropping the cluster kills every daemon.
#[derive(Debug)]
pub struct MiniCluster {
    pub(crate) binary: PathBuf,
    pub(crate) conf_dir: PathBuf,
    /// The shared site files' contents, from which per-DataNode conf dirs are written.
    pub(crate) core_site: Vec<(String, String)>,
    pub(crate) hdfs_site: Vec<(String, String)>,
    namenodes: Vec<NameNodeSlot>,
    pub(crate) datanodes: Vec<DataNodeSlot>,
    // Declared last so it is removed after the daemons are gone.
    dir: TempDir,
}

impl MiniCluster {
    pub fn builder() -> MiniClusterBuilder {
        MiniClusterBuilder {
            namenodes: 1,
            datanodes: 0,
            conf: Vec::new(),
            label: "cluster".to_string(),
            binary: None,
        }
    }

    /// The conf dir (core-site.xml, hdfs-site.xml) every client and daemon uses.
    pub fn conf_dir(&self) -> &Path {
        &self.conf_dir
    }

    /// The cluster's temp dir (conf, name dirs, logs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `hdfs://127.0.0.1:<rpc port>`.
    pub fn fs_uri(&self) -> String {
        format!("hdfs://{}", self.nn_rpc_addr())
    }

    /// The NameNode's client RPC address.
    pub fn nn_rpc_addr(&self) -> SocketAddr {
        self.namenodes[0].rpc_addr
    }

    /// The NameNode's HTTP address (configured; whether it is served is up to hafs).
    pub fn nn_http_addr(&self) -> SocketAddr {
        self.namenodes[0].http_addr
    }

    /// The NameNode's name dir (`dfs.namenode.name.dir`).
    pub fn nn_name_dir(&self) -> &Path {
        &self.namenodes[0].name_dir
    }

    /// The running NameNode. Panics if it is not running.
    pub fn namenode(&self) -> &Daemon {
        self.namenodes[0]
            .daemon
            .as_ref()
            .expect("the NameNode is not running")
    }

    /// Everything the NameNode has logged, across restarts.
    pub fn namenode_log(&self) -> String {
        std::fs::read(&self.namenodes[0].log_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// kill -9 the NameNode: no shutdown code runs.
    pub fn kill_namenode(&mut self) {
        let mut daemon = self.namenodes[0]
            .daemon
            .take()
            .expect("kill_namenode: the NameNode is not running");
        daemon.kill();
    }

    /// SIGSTOP the NameNode (a long GC pause: sockets stay open, nothing answers).
    pub fn pause_namenode(&self) {
        self.namenode().pause();
    }

    /// SIGCONT after [`MiniCluster::pause_namenode`].
    pub fn resume_namenode(&self) {
        self.namenode().resume();
    }

    /// Starts the NameNode again on the same ports and name dir; if it is running it is
    /// first stopped with SIGTERM. Returns once its RPC port accepts connections.
    #[track_caller]
    pub fn restart_namenode(&mut self) {
        if let Some(mut daemon) = self.namenodes[0].daemon.take() {
            daemon.terminate(STOP_GRACE);
        }
        self.start_namenode(0);
    }

    /// Stops every daemon with SIGTERM (SIGKILL after a grace period) and returns each
    /// one's name and exit status (`None`: it had to be killed).
    pub fn stop(&mut self) -> Vec<(String, Option<ExitStatus>)> {
        let mut statuses = Vec::new();
        for slot in &mut self.datanodes {
            if let Some(mut daemon) = slot.daemon.take() {
                statuses.push((slot.id.clone(), daemon.terminate(STOP_GRACE)));
            }
        }
        for slot in &mut self.namenodes {
            if let Some(mut daemon) = slot.daemon.take() {
                statuses.push((slot.id.clone(), daemon.terminate(STOP_GRACE)));
            }
        }
        statuses
    }

    pub(crate) fn hafs_command(&self) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.env_remove("HADOOP_CONF_DIR")
            .arg("--config")
            .arg(&self.conf_dir);
        cmd
    }

    #[track_caller]
    fn format_namenode(&self, index: usize) {
        let slot = &self.namenodes[index];
        let mut cmd = self.hafs_command();
        cmd.args([
            "namenode",
            "-format",
            "-nonInteractive",
            "-clusterid",
            "test",
        ]);
        let out = run_with_timeout(cmd, Duration::from_secs(60));
        if !out.success() {
            panic!("formatting {} failed:\n{out}", slot.id);
        }
    }

    #[track_caller]
    fn start_namenode(&mut self, index: usize) {
        let mut cmd = self.hafs_command();
        cmd.arg("namenode");
        let slot = &mut self.namenodes[index];
        assert!(slot.daemon.is_none(), "{} is already running", slot.id);
        let mut daemon = Daemon::spawn(&slot.id, cmd, &slot.log_path);
        wait_until_serving(&mut daemon, slot.rpc_addr);
        slot.daemon = Some(daemon);
    }
}

/// Waits for `addr` to accept connections while checking the daemon is still alive.
#[track_caller]
pub(crate) fn wait_until_serving(daemon: &mut Daemon, addr: SocketAddr) {
    let deadline = std::time::Instant::now() + START_TIMEOUT;
    loop {
        if let Some(status) = daemon.exit_status() {
            panic!(
                "{} exited ({status}) before serving on {addr}; log {}:\n{}",
                daemon.name(),
                daemon.log_path().display(),
                daemon.log_tail(200)
            );
        }
        if wait_for_port(addr, Duration::from_millis(100)) {
            return;
        }
        if std::time::Instant::now() >= deadline {
            panic!(
                "{} did not accept connections on {addr} within {START_TIMEOUT:?}; log {}:\n{}",
                daemon.name(),
                daemon.log_path().display(),
                daemon.log_tail(200)
            );
        }
    }
}

impl Drop for MiniCluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The test failed: show what the daemons said, it usually explains why.
            let logs = self
                .namenodes
                .iter()
                .map(|s| (&s.id, &s.log_path))
                .chain(self.datanodes.iter().map(|s| (&s.id, &s.log_path)));
            for (id, log_path) in logs {
                let log = std::fs::read(log_path)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                let lines: Vec<&str> = log.lines().collect();
                eprintln!(
                    "---- {} log ({}), last {} lines ----\n{}",
                    id,
                    log_path.display(),
                    lines.len().min(80),
                    lines[lines.len().saturating_sub(80)..].join("\n")
                );
            }
        }
        for slot in &mut self.datanodes {
            if let Some(mut daemon) = slot.daemon.take() {
                daemon.kill();
            }
        }
        for slot in &mut self.namenodes {
            if let Some(mut daemon) = slot.daemon.take() {
                daemon.kill();
            }
        }
    }
}
