//! A federated cluster of real `hafs` processes: several HA nameservices (`ns1`, `ns2`,
//! ...; two NameNodes each, failed over by hand) whose edits share one JournalNode
//! quorum (journal id = nameservice id), and DataNodes that serve every nameservice
//! (one block pool each). One hdfs-site.xml describes them all
//! (`dfs.namenode.shared.edits.dir.<ns>` per nameservice); each NameNode's conf dir
//! adds `dfs.nameservice.id`, `dfs.ha.namenode.id` and its name dir. The site entries
//! and the bring-up order are `hafs_cluster`'s (`site`, `bring_up`), the ones
//! `hafs sandbox --nameservices N` uses; this harness keeps its own processes.
//!
//! Clients see one tree: core-site.xml sets `fs.defaultFS=viewfs://cluster` with a
//! mount table linking `/nsK` to `hdfs://nsK/` and falling back to `hdfs://ns1/`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::cluster::{kv, loopback, wait_until_serving, NAMENODE_READY, START_TIMEOUT, STOP_GRACE};
use crate::command::{run_with_timeout, CmdOutput, DEFAULT_CMD_TIMEOUT};
use crate::conf_xml::write_site_xml;
use crate::daemon::Daemon;
use crate::datanodes::{data_path_defaults, DATANODE_READY};
use crate::ha::TEST_HA_TUNING;
use crate::journalnodes::JournalNodes;
use crate::paths::hafs_bin;
use crate::tempdir::TempDir;
use crate::tools::{ClientTarget, ConfTarget};
use hafs_cluster::bring_up::{self, Step};
use hafs_cluster::{free_port, site};

/// The mount table clients use: `viewfs://cluster`.
pub const VIEWFS_TABLE: &str = "cluster";
/// The cluster id every nameservice is formatted with.
pub const FEDERATION_CLUSTER_ID: &str = "CID-federation-test";

#[derive(Debug)]
struct FedNameNode {
    ns: String,
    id: String,
    rpc_addr: SocketAddr,
    name_dir: PathBuf,
    conf_dir: PathBuf,
    log_path: PathBuf,
    daemon: Option<Daemon>,
}

#[derive(Debug)]
struct FedDataNode {
    id: String,
    xfer_addr: SocketAddr,
    data_dirs: Vec<PathBuf>,
    log_path: PathBuf,
    daemon: Option<Daemon>,
}

/// Several HA nameservices sharing JournalNodes and DataNodes; dropping it kills
/// every daemon.
#[derive(Debug)]
pub struct Federation {
    conf_dir: PathBuf,
    namenodes: Vec<FedNameNode>,
    datanodes: Vec<FedDataNode>,
    journalnodes: JournalNodes,
    nameservices: Vec<String>,
    // Declared last so it is removed after the daemons are gone.
    dir: TempDir,
}

impl Federation {
    /// Starts 3 JournalNodes, `nameservices` HA nameservices of two NameNodes each
    /// (nn1 Active) and `datanodes` DataNodes, in the order of
    /// `hafs_cluster::bring_up::steps`; returns once every nameservice's Active
    /// reports every DataNode live.
    #[track_caller]
    pub fn start(nameservices: usize, datanodes: usize, label: &str) -> Federation {
        let dir = TempDir::new(label);
        let journalnodes = JournalNodes::start(3, &format!("{label}-jn"));
        let jn_addrs: Vec<String> = (0..journalnodes.len())
            .map(|i| journalnodes.addr(i).to_string())
            .collect();
        let ns_ids: Vec<String> = (1..=nameservices).map(|i| format!("ns{i}")).collect();
        let ns_refs: Vec<&str> = ns_ids.iter().map(String::as_str).collect();
        let conf_dir = dir.join("conf");
        std::fs::create_dir_all(&conf_dir).expect("create conf dir");

        let mut core = site::viewfs_site(VIEWFS_TABLE, &ns_refs);
        core.extend([
            kv("ipc.client.connect.max.retries", "2"),
            kv("ipc.client.connect.retry.interval", "100"),
            kv("ipc.client.connect.max.retries.on.timeouts", "2"),
            kv("ipc.client.rpc-timeout.ms", "10000"),
        ]);
        let mut namenodes = Vec::new();
        let mut plan = Vec::new();
        for ns in &ns_ids {
            let mut addrs = Vec::new();
            for nn in ["nn1", "nn2"] {
                let name = format!("{ns}-{nn}");
                let home = dir.join(&name);
                let rpc_addr = loopback(free_port());
                addrs.push(site::NameNodeAddrs {
                    id: nn.to_string(),
                    rpc: rpc_addr.to_string(),
                    http: loopback(free_port()).to_string(),
                });
                namenodes.push(FedNameNode {
                    ns: ns.clone(),
                    id: nn.to_string(),
                    rpc_addr,
                    name_dir: home.join("name"),
                    conf_dir: home.join("conf"),
                    log_path: dir.join(format!("{name}.log")),
                    daemon: None,
                });
            }
            plan.push(site::Nameservice {
                id: ns.clone(),
                namenodes: addrs,
            });
        }
        let mut hdfs = site::nameservices_site(&plan);
        hdfs.extend(site::shared_edits_site(&ns_refs, &jn_addrs));
        hdfs.extend(TEST_HA_TUNING.iter().map(|(k, v)| kv(k, *v)));
        hdfs.push(kv("dfs.namenode.safemode.extension", "0"));
        hdfs.extend(data_path_defaults(datanodes));
        write_site_xml(&conf_dir.join("core-site.xml"), &core);
        write_site_xml(&conf_dir.join("hdfs-site.xml"), &hdfs);
        // Each NameNode: the shared files plus who it is and its name dir.
        for nn in &namenodes {
            std::fs::create_dir_all(&nn.conf_dir).expect("create NameNode conf dir");
            let name_dir = nn.name_dir.display().to_string();
            let own = site::namenode_own_site(Some(&nn.ns), &nn.id, &name_dir);
            write_site_xml(&nn.conf_dir.join("core-site.xml"), &core);
            write_site_xml(
                &nn.conf_dir.join("hdfs-site.xml"),
                &site::with_own(&hdfs, &own),
            );
        }
        let datanode_slots = (0..datanodes)
            .map(|i| {
                let id = format!("dn{}", i + 1);
                let home = dir.join(&id);
                let conf = home.join("conf");
                std::fs::create_dir_all(&conf).expect("create DataNode conf dir");
                let data_dirs = vec![home.join("data1"), home.join("data2")];
                let xfer_addr = loopback(free_port());
                let dirs: Vec<String> = data_dirs
                    .iter()
                    .map(|d| format!("file://{}", d.display()))
                    .collect();
                let own = site::datanode_own_site(
                    &dirs,
                    &xfer_addr.to_string(),
                    &loopback(free_port()).to_string(),
                    &loopback(free_port()).to_string(),
                );
                write_site_xml(&conf.join("core-site.xml"), &core);
                write_site_xml(&conf.join("hdfs-site.xml"), &site::with_own(&hdfs, &own));
                FedDataNode {
                    log_path: dir.join(format!("{id}.log")),
                    id,
                    xfer_addr,
                    data_dirs,
                    daemon: None,
                }
            })
            .collect();
        let mut fed = Federation {
            conf_dir,
            namenodes,
            datanodes: datanode_slots,
            journalnodes,
            nameservices: ns_ids,
            dir,
        };
        // The JournalNodes already run: JournalNodes::start picked their ports.
        let steps = bring_up::steps(nameservices, 2, false, bring_up::Activation::Manual);
        for step in steps {
            match step {
                Step::StartJournalNodes | Step::FormatZooKeeper { .. } => {}
                Step::StartController { .. } => unreachable!("no controllers"),
                Step::Format { ns } => {
                    fed.nn_tool(2 * ns, &bring_up::format_args(Some(FEDERATION_CLUSTER_ID)))
                }
                Step::BootstrapStandby { ns, nn } => {
                    fed.nn_tool(2 * ns + nn, bring_up::BOOTSTRAP_STANDBY_ARGS)
                }
                Step::StartNameNode { ns, nn } => fed.start_nn(2 * ns + nn),
                Step::TransitionToActive { ns, nn } => {
                    let id = fed.namenodes[2 * ns + nn].id.clone();
                    let ns = fed.nameservices[ns].clone();
                    fed.haadmin(&["-ns", &ns, "-transitionToActive", &id]).ok();
                }
                Step::WaitActive { ns, nn } => {
                    let id = fed.namenodes[2 * ns + nn].id.clone();
                    let ns = fed.nameservices[ns].clone();
                    fed.wait_for_state(&ns, &id, "active", START_TIMEOUT);
                }
                Step::StartDataNodes => {
                    for i in 0..fed.datanodes.len() {
                        fed.start_dn(i);
                    }
                    for ns in fed.nameservices.clone() {
                        fed.wait_live_datanodes(&ns, datanodes);
                    }
                }
            }
        }
        fed
    }

    /// The client conf dir (viewfs://cluster as the default file system).
    pub fn conf_dir(&self) -> &Path {
        &self.conf_dir
    }

    /// The JournalNodes every nameservice's edits live on.
    pub fn journalnodes(&self) -> &JournalNodes {
        &self.journalnodes
    }

    /// A client target whose default file system is the mount table.
    pub fn client(&self) -> ClientTarget {
        ClientTarget {
            conf_dir: self.conf_dir.clone(),
            fs_uri: format!("viewfs://{VIEWFS_TABLE}"),
            env: Vec::new(),
        }
    }

    fn index(&self, ns: &str, nn: &str) -> usize {
        self.namenodes
            .iter()
            .position(|n| n.ns == ns && n.id == nn)
            .unwrap_or_else(|| panic!("no NameNode {ns}.{nn}"))
    }

    #[track_caller]
    fn nn_tool(&self, i: usize, args: &[&str]) {
        let mut cmd = Command::new(hafs_bin());
        cmd.env_remove("HADOOP_CONF_DIR")
            .arg("--config")
            .arg(&self.namenodes[i].conf_dir)
            .args(args);
        let out = run_with_timeout(cmd, Duration::from_secs(60));
        if !out.success() {
            let n = &self.namenodes[i];
            panic!("{args:?} on {}.{} failed:\n{out}", n.ns, n.id);
        }
    }

    #[track_caller]
    fn start_nn(&mut self, i: usize) {
        let slot = &mut self.namenodes[i];
        let mut cmd = Command::new(hafs_bin());
        cmd.env_remove("HADOOP_CONF_DIR")
            .arg("--config")
            .arg(&slot.conf_dir)
            .arg("namenode");
        let offset = std::fs::metadata(&slot.log_path).map_or(0, |m| m.len() as usize);
        let mut daemon = Daemon::spawn(&format!("{}-{}", slot.ns, slot.id), cmd, &slot.log_path);
        wait_until_serving(&mut daemon, slot.rpc_addr);
        daemon.wait_for_log_line_after(NAMENODE_READY, offset, START_TIMEOUT);
        slot.daemon = Some(daemon);
    }

    #[track_caller]
    fn start_dn(&mut self, i: usize) {
        let slot = &mut self.datanodes[i];
        let conf = slot.data_dirs[0].parent().expect("dn home").join("conf");
        let mut cmd = Command::new(hafs_bin());
        cmd.env_remove("HADOOP_CONF_DIR")
            .arg("--config")
            .arg(conf)
            .arg("datanode");
        let mut daemon = Daemon::spawn(&slot.id, cmd, &slot.log_path);
        daemon.wait_for_log_line_after(DATANODE_READY, 0, START_TIMEOUT);
        wait_until_serving(&mut daemon, slot.xfer_addr);
        slot.daemon = Some(daemon);
    }

    /// `hafs --config <client conf> <args…>`.
    pub fn hafs(&self, args: &[&str]) -> CmdOutput {
        crate::tools::hafs_cmd(&self.client(), args)
    }

    /// `hafs haadmin <args…>` (give `-ns <ns>`).
    pub fn haadmin(&self, args: &[&str]) -> CmdOutput {
        let mut all = vec!["haadmin"];
        all.extend_from_slice(args);
        self.hafs(&all)
    }

    /// NameNode `nn` of `ns`'s HA state by a direct call.
    pub fn ha_state(&self, ns: &str, nn: &str) -> Result<&'static str, String> {
        crate::ha_rpc::get_service_state(self.namenodes[self.index(ns, nn)].rpc_addr)
    }

    /// Waits until `ns`'s NameNode `nn` says `state`.
    #[track_caller]
    pub fn wait_for_state(&self, ns: &str, nn: &str, state: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let last = self.ha_state(ns, nn);
            if last.as_deref() == Ok(state) {
                return;
            }
            if Instant::now() >= deadline {
                panic!("{ns}.{nn} did not become {state} within {timeout:?} (last: {last:?})");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// kill -9 one NameNode.
    pub fn kill_nn(&mut self, ns: &str, nn: &str) {
        let i = self.index(ns, nn);
        if let Some(mut d) = self.namenodes[i].daemon.take() {
            d.kill();
        }
    }

    /// SIGTERM one NameNode (kill -9 after a grace period).
    pub fn stop_nn(&mut self, ns: &str, nn: &str) {
        let i = self.index(ns, nn);
        if let Some(mut d) = self.namenodes[i].daemon.take() {
            d.terminate(STOP_GRACE);
        }
    }

    /// Whether DataNode `i` still runs.
    pub fn datanode_running(&mut self, i: usize) -> bool {
        self.datanodes[i]
            .daemon
            .as_mut()
            .is_some_and(|d| d.is_running())
    }

    /// DataNode `i`'s data dirs.
    pub fn datanode_data_dirs(&self, i: usize) -> &[PathBuf] {
        &self.datanodes[i].data_dirs
    }

    /// Everything DataNode `i` logged.
    pub fn datanode_log(&self, i: usize) -> String {
        std::fs::read(&self.datanodes[i].log_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// `hafs dfsadmin -fs hdfs://<ns> -report`'s live DataNode count.
    pub fn live_datanodes(&self, ns: &str) -> Option<usize> {
        let fs = format!("hdfs://{ns}");
        let out = self.hafs(&["dfsadmin", "-fs", &fs, "-report"]);
        out.success()
            .then(|| crate::datanodes::parse_live_datanodes(&out.stdout))
            .flatten()
    }

    #[track_caller]
    fn wait_live_datanodes(&self, ns: &str, n: usize) {
        let deadline = Instant::now() + START_TIMEOUT * 2;
        let mut last = None;
        while Instant::now() < deadline {
            last = self.live_datanodes(ns);
            if last == Some(n) {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("{ns} did not report {n} live DataNodes (last {last:?})");
    }

    /// The nameservice ids, `ns1`, `ns2`, ...
    pub fn nameservices(&self) -> &[String] {
        &self.nameservices
    }

    /// The cluster's temp dir.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A client command's standard timeout.
    pub fn timeout(&self) -> Duration {
        DEFAULT_CMD_TIMEOUT
    }
}

impl ConfTarget for Federation {
    fn conf_dir(&self) -> &Path {
        &self.conf_dir
    }
    fn fs_uri(&self) -> String {
        format!("viewfs://{VIEWFS_TABLE}")
    }
}

impl Drop for Federation {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let logs = self
                .namenodes
                .iter()
                .map(|n| (format!("{}-{}", n.ns, n.id), &n.log_path))
                .chain(self.datanodes.iter().map(|d| (d.id.clone(), &d.log_path)));
            for (id, path) in logs {
                let log = std::fs::read(path)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                let lines: Vec<&str> = log.lines().collect();
                eprintln!(
                    "---- {id} log, last {} lines ----\n{}",
                    lines.len().min(60),
                    lines[lines.len().saturating_sub(60)..].join("\n")
                );
            }
        }
        for d in &mut self.datanodes {
            if let Some(mut daemon) = d.daemon.take() {
                daemon.kill();
            }
        }
        for n in &mut self.namenodes {
            if let Some(mut daemon) = n.daemon.take() {
                daemon.kill();
            }
        }
    }
}
