//! DataNodes of a [`MiniCluster`]: each is a `hafs datanode` process with its own conf
//! dir (the cluster's site files plus its own addresses and data dirs), two data dirs
//! (so multi-volume code paths run in every test), and ports from [`free_port`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use crate::cluster::{kv, wait_until_serving, MiniCluster, START_TIMEOUT, STOP_GRACE};
use crate::conf_xml::write_site_xml;
use crate::daemon::Daemon;
use crate::tools::hafs_cmd;
use hafs_cluster::free_port;

/// The line a DataNode prints on stdout once it serves (docs/architecture.md).
pub const DATANODE_READY: &str = hafs_cluster::bring_up::DATANODE_READY;

/// Block size of data-path test clusters: small, so a few MiB make a multi-block file.
pub const TEST_BLOCK_SIZE: u64 = 1024 * 1024;

/// Configuration every cluster with DataNodes starts from (before `.conf()` overrides):
/// small blocks and fast failure detection so fault tests finish in seconds.
pub(crate) fn data_path_defaults(datanodes: usize) -> Vec<(String, String)> {
    vec![
        kv("dfs.replication", datanodes.min(3).to_string()),
        kv("dfs.blocksize", TEST_BLOCK_SIZE.to_string()),
        // The NameNode refuses blocks below this (Hadoop's default is 1 MiB).
        kv("dfs.namenode.fs-limits.min-block-size", "4096"),
        // Seconds.
        kv("dfs.heartbeat.interval", "1"),
        // Milliseconds: a DataNode is declared dead after 2 × this + 10 heartbeats.
        kv("dfs.namenode.heartbeat.recheck-interval", "2000"),
        // Seconds between runs of the NameNode's redundancy monitor.
        kv("dfs.namenode.redundancy.interval.seconds", "1"),
        kv("dfs.namenode.reconstruction.pending.timeout-sec", "10"),
        // Milliseconds: clients and DataNodes give up on a stalled peer quickly.
        kv("dfs.client.socket-timeout", "10000"),
        kv("dfs.datanode.socket.write.timeout", "10000"),
        // Incremental block reports go out at once rather than batched for seconds.
        kv("dfs.blockreport.incremental.intervalMsec", "0"),
        // Never sleep between full reports at start-up.
        kv("dfs.blockreport.initialDelay", "0"),
    ]
}

/// One DataNode's fixed identity (ports, dirs) and its process when running.
#[derive(Debug)]
pub(crate) struct DataNodeSlot {
    pub(crate) id: String,
    pub(crate) xfer_addr: SocketAddr,
    pub(crate) ipc_addr: SocketAddr,
    pub(crate) http_addr: SocketAddr,
    pub(crate) data_dirs: Vec<PathBuf>,
    pub(crate) conf_dir: PathBuf,
    pub(crate) log_path: PathBuf,
    pub(crate) daemon: Option<Daemon>,
}

impl MiniCluster {
    /// Adds a DataNode with fresh ports and empty data dirs and starts it; returns its
    /// index. Does not wait for the NameNode to see it: see
    /// [`MiniCluster::wait_live_datanodes`].
    #[track_caller]
    pub fn add_datanode(&mut self) -> usize {
        let index = self.datanodes.len();
        let id = format!("dn{}", index + 1);
        let home = self.dir().join(&id);
        let conf_dir = home.join("conf");
        std::fs::create_dir_all(&conf_dir).expect("create DataNode conf dir");
        // Typed dirs ([`MiniClusterBuilder::datanode_storage`]): `[TYPE]` prefixes.
        let typed: Vec<(String, PathBuf)> = self
            .datanode_storage
            .get(index)
            .map(|types| {
                types
                    .iter()
                    .enumerate()
                    .map(|(i, t)| {
                        let dir = home.join(format!("data-{}-{}", t.to_lowercase(), i + 1));
                        (format!("[{t}]"), dir)
                    })
                    .collect()
            })
            .unwrap_or_else(|| {
                vec![
                    (String::new(), home.join("data1")),
                    (String::new(), home.join("data2")),
                ]
            });
        let data_dirs: Vec<PathBuf> = typed.iter().map(|(_, d)| d.clone()).collect();
        let ip = if self.own_hosts {
            hafs_cluster::topology::datanode_ip(index + 1).expect("a DataNode address")
        } else {
            std::net::Ipv4Addr::LOCALHOST
        };
        let host = |port: u16| SocketAddr::from((ip, port));
        let slot = DataNodeSlot {
            xfer_addr: host(free_port()),
            ipc_addr: host(free_port()),
            http_addr: host(free_port()),
            data_dirs,
            log_path: self.dir().join(format!("{id}.log")),
            conf_dir,
            id,
            daemon: None,
        };
        let dirs: Vec<String> = typed
            .iter()
            .map(|(prefix, d)| format!("{prefix}file://{}", d.display()))
            .collect();
        let own = hafs_cluster::site::datanode_own_site(
            &dirs,
            &slot.xfer_addr.to_string(),
            &slot.ipc_addr.to_string(),
            &slot.http_addr.to_string(),
        );
        let hdfs = hafs_cluster::site::with_own(&self.hdfs_site, &own);
        write_site_xml(&slot.conf_dir.join("core-site.xml"), &self.core_site);
        write_site_xml(&slot.conf_dir.join("hdfs-site.xml"), &hdfs);
        self.datanodes.push(slot);
        self.start_datanode(index);
        index
    }

    /// Number of DataNode slots (running or not).
    pub fn datanode_count(&self) -> usize {
        self.datanodes.len()
    }

    /// The running DataNode `i`. Panics if it is not running.
    #[track_caller]
    pub fn datanode(&self, i: usize) -> &Daemon {
        self.slot(i)
            .daemon
            .as_ref()
            .unwrap_or_else(|| panic!("dn{} is not running", i + 1))
    }

    /// Whether DataNode `i` is running (reaps it if it exited).
    pub fn datanode_running(&mut self, i: usize) -> bool {
        self.datanodes[i]
            .daemon
            .as_mut()
            .is_some_and(|d| d.is_running())
    }

    /// DataNode `i`'s data transfer address (`dfs.datanode.address`).
    pub fn datanode_xfer_addr(&self, i: usize) -> SocketAddr {
        self.slot(i).xfer_addr
    }

    /// DataNode `i`'s IPC address (`dfs.datanode.ipc.address`).
    pub fn datanode_ipc_addr(&self, i: usize) -> SocketAddr {
        self.slot(i).ipc_addr
    }

    /// DataNode `i`'s HTTP address (`dfs.datanode.http.address`).
    pub fn datanode_http_addr(&self, i: usize) -> SocketAddr {
        self.slot(i).http_addr
    }

    /// DataNode `i`'s data dirs (`dfs.datanode.data.dir`).
    pub fn datanode_data_dirs(&self, i: usize) -> &[PathBuf] {
        &self.slot(i).data_dirs
    }

    /// DataNode `i`'s own conf dir.
    pub fn datanode_conf_dir(&self, i: usize) -> &Path {
        &self.slot(i).conf_dir
    }

    /// The index of the DataNode whose transfer port is `port`.
    pub fn datanode_by_xfer_port(&self, port: u16) -> Option<usize> {
        self.datanodes
            .iter()
            .position(|s| s.xfer_addr.port() == port)
    }

    /// Everything DataNode `i` has logged, across restarts.
    pub fn datanode_log(&self, i: usize) -> String {
        std::fs::read(&self.slot(i).log_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// kill -9 DataNode `i`: no shutdown code runs.
    #[track_caller]
    pub fn kill_datanode(&mut self, i: usize) {
        let mut daemon = self.datanodes[i]
            .daemon
            .take()
            .unwrap_or_else(|| panic!("kill_datanode: dn{} is not running", i + 1));
        daemon.kill();
    }

    /// SIGTERM DataNode `i` and wait for it; `None` if it had to be killed.
    #[track_caller]
    pub fn stop_datanode(&mut self, i: usize) -> Option<ExitStatus> {
        let mut daemon = self.datanodes[i]
            .daemon
            .take()
            .unwrap_or_else(|| panic!("stop_datanode: dn{} is not running", i + 1));
        daemon.terminate(STOP_GRACE)
    }

    /// SIGSTOP DataNode `i`: its sockets stay open but nothing answers.
    pub fn pause_datanode(&self, i: usize) {
        self.datanode(i).pause();
    }

    /// SIGCONT after [`MiniCluster::pause_datanode`].
    pub fn resume_datanode(&self, i: usize) {
        self.datanode(i).resume();
    }

    /// Starts DataNode `i` (same ports, conf and data dirs) and waits for its
    /// `datanode ready` line and its transfer port.
    #[track_caller]
    pub fn start_datanode(&mut self, i: usize) {
        let conf_dir = self.datanodes[i].conf_dir.clone();
        let mut cmd = std::process::Command::new(&self.binary);
        cmd.env_remove("HADOOP_CONF_DIR")
            .envs(self.daemon_env.iter().cloned())
            .arg("--config")
            .arg(&conf_dir)
            .arg("datanode");
        let slot = &mut self.datanodes[i];
        assert!(slot.daemon.is_none(), "{} is already running", slot.id);
        let offset = std::fs::metadata(&slot.log_path)
            .map(|m| m.len() as usize)
            .unwrap_or(0);
        let mut daemon = Daemon::spawn(&slot.id, cmd, &slot.log_path);
        daemon.wait_for_log_line_after(DATANODE_READY, offset, START_TIMEOUT);
        wait_until_serving(&mut daemon, slot.xfer_addr);
        slot.daemon = Some(daemon);
    }

    /// Stops DataNode `i` with SIGTERM if it runs, then starts it again with its storage.
    #[track_caller]
    pub fn restart_datanode(&mut self, i: usize) {
        if let Some(mut daemon) = self.datanodes[i].daemon.take() {
            daemon.terminate(STOP_GRACE);
        }
        self.start_datanode(i);
    }

    /// The number of live DataNodes the NameNode reports (`hafs dfsadmin -report`), or
    /// `None` if the report failed.
    pub fn live_datanodes(&self) -> Option<usize> {
        let out = hafs_cmd(self, &["dfsadmin", "-report"]);
        if !out.success() {
            return None;
        }
        parse_live_datanodes(&out.stdout)
    }

    /// Waits until the NameNode reports exactly `n` live DataNodes.
    #[track_caller]
    pub fn wait_live_datanodes(&self, n: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut last = None;
        while Instant::now() < deadline {
            last = self.live_datanodes();
            if last == Some(n) {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        let report = hafs_cmd(self, &["dfsadmin", "-report"]);
        panic!("the NameNode did not report {n} live DataNodes within {timeout:?} (last: {last:?}):\n{report}");
    }

    #[track_caller]
    fn slot(&self, i: usize) -> &DataNodeSlot {
        self.datanodes
            .get(i)
            .unwrap_or_else(|| panic!("no DataNode {i}: the cluster has {}", self.datanodes.len()))
    }
}

/// `N` from Hadoop's `Live datanodes (N):` report line.
pub fn parse_live_datanodes(report: &str) -> Option<usize> {
    report.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("Live datanodes (")?;
        rest.split(')').next()?.parse().ok()
    })
}
