//! A mini cluster of real `hafs` processes on loopback ports in a temp dir.
//!
//! It runs one NameNode, or an HA nameservice of 2 to 5 (see `ha.rs`) on JournalNodes
//! (`journalnodes.rs`) or a shared dir, and any number of DataNodes (`datanodes.rs`).
//! Each role is a [`Daemon`] in a slot that remembers how to start it again, so failover
//! controllers can be added as a further slot kind without changing the tests that
//! exist.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::OnceLock;
use std::time::Duration;

use crate::command::run_with_timeout;
use crate::conf_xml::write_site_xml;
use crate::daemon::Daemon;
use crate::datanodes::{data_path_defaults, DataNodeSlot};
use crate::ha::{ha_site, MAX_NAMENODES, NAMESERVICE};
use crate::java_shell::JavaShell;
use crate::journalnodes::{JournalNodes, SHARED_EDITS_KEY};
use crate::paths::hafs_bin;
use crate::tempdir::TempDir;
use crate::zkfc::{auto_failover_site, Backend, ZkfcSlot};
use crate::zookeeper::ZkServer;
use hafs_cluster::site::set;
use hafs_cluster::{free_port, wait_for_port};

/// The line a NameNode prints on stdout once it serves
/// (`namenode ready: rpc <addr> http <addr> state <standby|active>`).
pub const NAMENODE_READY: &str = hafs_cluster::bring_up::NAMENODE_READY;
/// How long a daemon may take to start accepting connections.
pub(crate) const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a daemon gets to exit after SIGTERM before it is killed.
pub(crate) const STOP_GRACE: Duration = Duration::from_secs(15);

/// Builds a [`MiniCluster`]: `MiniCluster::builder().namenodes(1).conf("k", "v").start()`.
#[derive(Debug, Clone)]
pub struct MiniClusterBuilder {
    namenodes: usize,
    datanodes: usize,
    journalnodes: usize,
    shared_dir: bool,
    conf: Vec<(String, String)>,
    label: String,
    binary: Option<PathBuf>,
    auto_failover: Option<Backend>,
    partitionable: Vec<usize>,
    kerberos: Option<String>,
    namenode_env: Vec<(usize, String, String)>,
    daemon_env: Vec<(String, String)>,
    own_hosts: bool,
    datanode_storage: Vec<Vec<String>>,
}

impl MiniClusterBuilder {
    /// Every DataNode on its own loopback address (DataNode i, from 0, on
    /// 127.0.0.(i+2); `hafs_cluster::topology::datanode_ip`) for its listeners and its
    /// NameNode connections, so the NameNode sees distinct hosts (rack tests).
    pub fn own_datanode_hosts(mut self) -> Self {
        self.own_hosts = true;
        self
    }

    /// A secure cluster: a throwaway KDC, every daemon logging in with its own keytab,
    /// `hadoop.security.authentication=kerberos` and `hadoop.rpc.protection` =
    /// `protection` (`authentication`, `integrity`, `privacy` or a list). Clients run as
    /// `alice` with a ticket ([`ConfTarget::client_env`]); the harness's own admin
    /// commands as the superuser `hdfs`.
    pub fn kerberos(mut self, protection: &str) -> Self {
        self.kerberos = Some(protection.to_string());
        self
    }

    /// Number of NameNodes, 1 to 5. Two or more make an HA nameservice
    /// ([`NAMESERVICE`]) and need shared edits: [`MiniClusterBuilder::journalnodes`] or
    /// [`MiniClusterBuilder::shared_dir`].
    pub fn namenodes(mut self, n: usize) -> Self {
        self.namenodes = n;
        self
    }

    /// Starts `n` JournalNodes first (see `journalnodes.rs`) and puts the NameNodes'
    /// edits on them (`dfs.namenode.shared.edits.dir = qjournal://...`).
    pub fn journalnodes(mut self, n: usize) -> Self {
        self.journalnodes = n;
        self
    }

    /// Shared edits in a directory of the cluster's temp dir
    /// (`dfs.namenode.shared.edits.dir = file://<dir>/shared-edits`, the NFS mode).
    pub fn shared_dir(mut self) -> Self {
        self.shared_dir = true;
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

    /// DataNodes with typed volumes: one DataNode per entry, each with one data dir
    /// per storage type named (`"SSD"` → `[SSD]file://…/data-ssd-1`), replacing
    /// `.datanodes(n)`.
    pub fn datanode_storage(mut self, per_datanode: &[&[&str]]) -> Self {
        self.datanode_storage = per_datanode
            .iter()
            .map(|types| types.iter().map(|t| t.to_string()).collect())
            .collect();
        self.datanodes = per_datanode.len();
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

    /// Automatic failover (`zkfc.rs`): one `hafs zkfc` per NameNode electing through
    /// a real ZooKeeper or the JournalNodes; nn1 is made Active by its controller.
    pub fn automatic_failover(mut self, backend: Backend) -> Self {
        self.auto_failover = Some(backend);
        self
    }

    /// NameNode `i` (index, 0 = nn1) and its controller reach the JournalNodes through
    /// TCP proxies that can cut the link (`partition.rs`):
    /// [`MiniCluster::cut_from_journalnodes`], [`MiniCluster::heal_journalnodes`].
    pub fn partitionable_namenode(mut self, i: usize) -> Self {
        self.partitionable.push(i);
        self
    }

    /// Starts NameNode `i` (index, 0 = nn1) — every time it starts — with the
    /// environment variable `key=value`, e.g. a test hook such as
    /// `hafs_namenode::edit_log::TRIP_INVARIANT_ENV`.
    pub fn namenode_env(mut self, i: usize, key: &str, value: &str) -> Self {
        self.namenode_env
            .push((i, key.to_string(), value.to_string()));
        self
    }

    /// Starts every daemon (JournalNodes, NameNodes, DataNodes) with the environment
    /// variable `key=value`, e.g. `HAFS_LOG` with a debug target a test reads back.
    pub fn daemon_env(mut self, key: &str, value: &str) -> Self {
        self.daemon_env.push((key.to_string(), value.to_string()));
        self
    }

    /// A label for the temp dir name, to find a failed test's files.
    pub fn label(mut self, label: &str) -> Self {
        self.label = label.to_string();
        self
    }

    /// Writes the conf dir, formats the NameNode and starts it; returns once its RPC
    /// port accepts connections. With several NameNodes (an HA nameservice, see
    /// `ha.rs`) it formats nn1, bootstraps the others, starts them all and makes nn1
    /// Active. Panics (with the daemons' logs) on any failure.
    #[track_caller]
    pub fn start(self) -> MiniCluster {
        assert!(
            (1..=MAX_NAMENODES).contains(&self.namenodes),
            "a MiniCluster has 1 to {MAX_NAMENODES} NameNodes (asked for {})",
            self.namenodes
        );
        let ha = self.namenodes > 1;
        let dir = TempDir::new(&self.label);
        let conf_dir = dir.join("conf");
        std::fs::create_dir(&conf_dir).expect("create conf dir");

        let realm = self
            .kerberos
            .as_deref()
            .map(|protection| crate::kerberos::SecureRealm::start(&dir.join("kdc"), protection));
        let (security_site, mut daemon_env) = match &realm {
            Some(r) => (r.site(), r.daemon_env()),
            None => (Vec::new(), Vec::new()),
        };
        daemon_env.extend(self.daemon_env.iter().cloned());
        // Common keys (`hadoop.*`, core-site.xml's in Hadoop) reach the JournalNodes too.
        let mut jn_site = security_site.clone();
        jn_site.extend(
            self.conf
                .iter()
                .filter(|(k, _)| k.starts_with("hadoop."))
                .cloned(),
        );
        let journalnodes = (self.journalnodes > 0).then(|| {
            JournalNodes::start_with(
                self.journalnodes,
                &format!("{}-jn", self.label),
                &jn_site,
                &daemon_env,
            )
        });
        let shared_edits = match (&journalnodes, self.shared_dir) {
            (Some(jns), _) => Some(jns.uri()),
            (None, true) => {
                let shared = dir.join("shared-edits");
                std::fs::create_dir_all(&shared).expect("create shared edits dir");
                Some(format!("file://{}", shared.display()))
            }
            (None, false) => None,
        };
        if ha && shared_edits.is_none() && !self.conf.iter().any(|(k, _)| k == SHARED_EDITS_KEY) {
            panic!(
                "an HA MiniCluster needs shared edits: .journalnodes(3), .shared_dir() or \
                 .conf(\"{SHARED_EDITS_KEY}\", ...)"
            );
        }

        let namenodes: Vec<NameNodeSlot> = (0..self.namenodes)
            .map(|i| {
                let id = format!("nn{}", i + 1);
                let home = dir.join(&id);
                std::fs::create_dir_all(&home).expect("create NameNode dir");
                NameNodeSlot {
                    rpc_addr: loopback(free_port()),
                    http_addr: loopback(free_port()),
                    name_dir: home.join("name"),
                    log_path: dir.join(format!("{id}.log")),
                    // A single NameNode reads the shared conf dir, as it always has;
                    // HA NameNodes each have their own (it names their id).
                    conf_dir: if ha {
                        home.join("conf")
                    } else {
                        conf_dir.clone()
                    },
                    env: self
                        .namenode_env
                        .iter()
                        .filter(|(n, _, _)| *n == i)
                        .map(|(_, k, v)| (k.clone(), v.clone()))
                        .collect(),
                    id,
                    daemon: None,
                    dn_log_offsets: Vec::new(),
                }
            })
            .collect();

        let journal_partitions = crate::partition::start_for(
            &self.partitionable,
            namenodes.len(),
            journalnodes.as_ref(),
        );

        let (mut core, mut hdfs) = if ha {
            ha_site(NAMESERVICE, &namenodes)
        } else {
            let nn = &namenodes[0];
            (
                vec![kv("fs.defaultFS", format!("hdfs://{}", nn.rpc_addr))],
                vec![
                    kv("dfs.namenode.name.dir", nn.name_dir.display().to_string()),
                    kv("dfs.namenode.rpc-address", nn.rpc_addr.to_string()),
                    // Never the default 9870: tests run in parallel.
                    kv("dfs.namenode.http-address", nn.http_addr.to_string()),
                    kv("dfs.client.failover.max.attempts", "3"),
                    kv("dfs.client.failover.sleep.base.millis", "50"),
                    kv("dfs.client.failover.sleep.max.millis", "200"),
                ],
            )
        };
        // Clients must give up on a dead NameNode quickly: tests kill NameNodes.
        core.extend([
            kv("ipc.client.connect.max.retries", "2"),
            kv("ipc.client.connect.retry.interval", "100"),
            kv("ipc.client.connect.max.retries.on.timeouts", "2"),
        ]);
        hdfs.extend([
            kv("dfs.replication", "1"),
            kv("dfs.namenode.safemode.extension", "0"),
        ]);
        // core-site.xml: Java's UserGroupInformation reads its settings from there only.
        for (key, value) in &security_site {
            set(&mut core, key, value);
        }
        if let Some(uri) = &shared_edits {
            hdfs.push(kv(SHARED_EDITS_KEY, uri.clone()));
        }
        if self.datanodes > 0 {
            for (key, value) in &data_path_defaults(self.datanodes) {
                set(&mut hdfs, key, value);
            }
        }
        let (zkfcs, zookeeper) = match self.auto_failover {
            Some(backend) => {
                assert!(ha, "automatic failover needs two or more NameNodes");
                let (site, slots, zk) =
                    auto_failover_site(backend, NAMESERVICE, &namenodes, dir.path());
                for (key, value) in &site {
                    set(&mut hdfs, key, value);
                }
                (slots, zk)
            }
            None => (Vec::new(), None),
        };
        for (key, value) in &self.conf {
            if core.iter().any(|(k, _)| k == key) {
                set(&mut core, key, value);
            } else {
                set(&mut hdfs, key, value);
            }
        }
        write_site_xml(&conf_dir.join("core-site.xml"), &core);
        write_site_xml(&conf_dir.join("hdfs-site.xml"), &hdfs);

        let mut cluster = MiniCluster {
            binary: self.binary.unwrap_or_else(hafs_bin),
            conf_dir,
            core_site: core,
            hdfs_site: hdfs,
            namenodes,
            datanodes: Vec::new(),
            journalnodes,
            zkfcs,
            auto_failover: self.auto_failover,
            zookeeper,
            journal_partitions,
            daemon_env,
            realm,
            own_hosts: self.own_hosts,
            datanode_storage: self.datanode_storage.clone(),
            shell: OnceLock::new(),
            dir,
        };
        cluster.bring_up(self.datanodes);
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
pub(crate) struct NameNodeSlot {
    pub(crate) id: String,
    pub(crate) rpc_addr: SocketAddr,
    pub(crate) http_addr: SocketAddr,
    pub(crate) name_dir: PathBuf,
    /// The conf dir it runs with: the shared one for a single NameNode, its own in HA.
    pub(crate) conf_dir: PathBuf,
    pub(crate) log_path: PathBuf,
    pub(crate) daemon: Option<Daemon>,
    /// Each DataNode's log length when this NameNode last started: block reports to
    /// it are logged after these offsets.
    pub(crate) dn_log_offsets: Vec<usize>,
    /// Extra environment of its process ([`MiniClusterBuilder::namenode_env`]).
    pub(crate) env: Vec<(String, String)>,
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
    pub(crate) namenodes: Vec<NameNodeSlot>,
    pub(crate) datanodes: Vec<DataNodeSlot>,
    /// The JournalNodes of `.journalnodes(n)`; dropped (killed) after the NameNodes.
    pub(crate) journalnodes: Option<JournalNodes>,
    /// The failover controllers of `.automatic_failover(..)`, one per NameNode.
    pub(crate) zkfcs: Vec<ZkfcSlot>,
    pub(crate) auto_failover: Option<Backend>,
    /// The ZooKeeper of `Backend::ZooKeeper`; dropped (killed) after the controllers.
    pub(crate) zookeeper: Option<ZkServer>,
    /// The proxies of `.partitionable_namenode(i)`, by NameNode index.
    pub(crate) journal_partitions: Vec<(usize, crate::partition::JournalPartition)>,
    /// Environment every daemon starts with (the realm's krb5.conf in a secure cluster).
    pub(crate) daemon_env: Vec<(String, String)>,
    /// The KDC of a `.kerberos(..)` cluster; stopped after the daemons.
    pub(crate) realm: Option<crate::kerberos::SecureRealm>,
    /// DataNodes on their own 127.0.0.x ([`MiniClusterBuilder::own_datanode_hosts`]).
    pub(crate) own_hosts: bool,
    /// The storage types of each DataNode's dirs ([`MiniClusterBuilder::datanode_storage`]);
    /// DataNodes past its end get two untyped (DISK) dirs.
    pub(crate) datanode_storage: Vec<Vec<String>>,
    /// The Java shell of [`MiniCluster::shell`], started on first use.
    shell: OnceLock<JavaShell>,
    // Declared last so it is removed after the daemons are gone.
    dir: TempDir,
}

impl MiniCluster {
    pub fn builder() -> MiniClusterBuilder {
        MiniClusterBuilder {
            namenodes: 1,
            datanodes: 0,
            journalnodes: 0,
            shared_dir: false,
            conf: Vec::new(),
            label: "cluster".to_string(),
            binary: None,
            auto_failover: None,
            partitionable: Vec::new(),
            kerberos: None,
            namenode_env: Vec::new(),
            daemon_env: Vec::new(),
            own_hosts: false,
            datanode_storage: Vec::new(),
        }
    }

    /// The conf dir (core-site.xml, hdfs-site.xml) every client and daemon uses.
    pub fn conf_dir(&self) -> &Path {
        &self.conf_dir
    }

    /// The Java `hadoop fs` shell for this cluster's clients, one JVM for all of a test's
    /// commands (each still a fresh FsShell with fresh clients; see [`JavaShell`]):
    /// `c.shell().run(&["-ls", "/"])`. Started on first use, killed with the cluster.
    pub fn shell(&self) -> &JavaShell {
        self.shell.get_or_init(|| JavaShell::start(self))
    }

    /// The cluster's temp dir (conf, name dirs, logs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `hdfs://127.0.0.1:<rpc port>`, or `hdfs://ns1` for an HA nameservice.
    pub fn fs_uri(&self) -> String {
        if self.is_ha() {
            format!("hdfs://{NAMESERVICE}")
        } else {
            format!("hdfs://{}", self.nn_rpc_addr())
        }
    }

    /// Whether the cluster is an HA nameservice (two or more NameNodes).
    pub fn is_ha(&self) -> bool {
        self.namenodes.len() > 1
    }

    /// The JournalNodes started with `.journalnodes(n)`.
    #[track_caller]
    pub fn journalnodes(&mut self) -> &mut JournalNodes {
        self.journalnodes
            .as_mut()
            .expect("the cluster was built without .journalnodes(n)")
    }

    /// JournalNode `i`'s HTTP address (`dfs.journalnode.http-address`).
    #[track_caller]
    pub fn journalnode_http_addr(&self, i: usize) -> SocketAddr {
        self.journalnodes
            .as_ref()
            .expect("the cluster was built without .journalnodes(n)")
            .http_addr(i)
    }

    /// nn1's client RPC address (the only NameNode's, without HA).
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
        for slot in &mut self.zkfcs {
            if let Some(mut daemon) = slot.daemon.take() {
                statuses.push((slot.id.clone(), daemon.terminate(STOP_GRACE)));
            }
        }
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

    /// `hafs --config <conf dir>` for the harness's own admin commands: in a secure
    /// cluster with the superuser's (`hdfs`) ticket.
    pub(crate) fn hafs_command(&self) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.env_remove("HADOOP_CONF_DIR")
            .envs(self.admin_env())
            .arg("--config")
            .arg(&self.conf_dir);
        cmd
    }

    /// `hafs --config <NameNode index's conf dir>`, with the daemons' environment.
    pub(crate) fn nn_command(&self, index: usize) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.env_remove("HADOOP_CONF_DIR")
            .envs(self.daemon_env.iter().cloned())
            .envs(self.namenodes[index].env.iter().map(|(k, v)| (k, v)))
            .arg("--config")
            .arg(&self.namenodes[index].conf_dir);
        cmd
    }

    /// The realm of a `.kerberos(..)` cluster.
    pub fn realm(&self) -> Option<&crate::kerberos::SecureRealm> {
        self.realm.as_ref()
    }

    /// The environment of a client run as `user`: with a ticket in a secure cluster;
    /// nothing otherwise.
    pub fn user_env(&self, user: &str) -> Vec<(String, String)> {
        match &self.realm {
            Some(r) => r.user_env(user),
            None => Vec::new(),
        }
    }

    /// The superuser's client environment (harness admin commands).
    pub(crate) fn admin_env(&self) -> Vec<(String, String)> {
        self.user_env("hdfs")
    }

    /// A client target running as `user` (with `user`'s ticket in a secure cluster).
    pub fn as_user(&self, user: &str) -> crate::tools::ClientTarget {
        crate::tools::ClientTarget {
            conf_dir: self.conf_dir.clone(),
            fs_uri: self.fs_uri(),
            env: self.user_env(user),
        }
    }

    #[track_caller]
    pub(crate) fn format_namenode(&self, index: usize) {
        let slot = &self.namenodes[index];
        let mut cmd = self.nn_command(index);
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

    /// Starts NameNode `index` and waits until it accepts connections (in HA, also
    /// until it has printed its `namenode ready:` line).
    #[track_caller]
    pub(crate) fn start_namenode(&mut self, index: usize) {
        let mut cmd = self.nn_command(index);
        cmd.arg("namenode");
        let ha = self.is_ha();
        let dn_offsets: Vec<usize> = self
            .datanodes
            .iter()
            .map(|d| std::fs::metadata(&d.log_path).map_or(0, |m| m.len() as usize))
            .collect();
        let slot = &mut self.namenodes[index];
        slot.dn_log_offsets = dn_offsets;
        assert!(slot.daemon.is_none(), "{} is already running", slot.id);
        let offset = std::fs::metadata(&slot.log_path)
            .map(|m| m.len() as usize)
            .unwrap_or(0);
        let mut daemon = Daemon::spawn(&slot.id, cmd, &slot.log_path);
        wait_until_serving(&mut daemon, slot.rpc_addr);
        if ha {
            // An HA NameNode opens its port before it has loaded its namespace and
            // settled in its state; the ready line says it has.
            daemon.wait_for_log_line_after(NAMENODE_READY, offset, START_TIMEOUT);
        }
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
            self.print_zkfc_logs();
        }
        self.kill_zkfcs();
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
