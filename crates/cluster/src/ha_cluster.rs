//! A local HA cluster of child processes: JournalNodes, the NameNodes of one
//! nameservice and DataNodes, each `hafs <role>` with its own conf dir under one
//! directory, plus a shared conf dir for clients. Used by `hafs sandbox` and
//! `hafs bench failover`.
//!
//! Bring-up follows the HA bootstrap order: JournalNodes; format nn1 (which formats
//! the JournalNodes); start nn1; `namenode -bootstrapStandby` the others; start them
//! (they come up Standby); then, by [`Election`]: make nn1 Active over
//! HAServiceProtocol (manual), or start ZooKeeper and `zkfc -formatZK` (ZooKeeper
//! election), start nn1's controller, wait until it made nn1 Active, start the other
//! controllers (automatic); DataNodes last. Ports and storage are kept across runs in
//! the same directory.
//!
//! Timeouts of automatic failover ([`AutoTimeouts::SANDBOX`]) are short, for a local
//! cluster: a kill -9 of the Active is replaced in about a second (see there why).
//!
//! Every daemon (ZooKeeper too) is a child process started from a [`Spec`] that is
//! kept, so that [`HaCluster::start`] can start it again with the same conf dir, ports
//! and storage: a restarted JournalNode catches up on the journal, a restarted DataNode
//! registers again and reports the blocks it holds. The sandbox's supervisor decides
//! when; this module only does the process IO.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use hafs_conf::Configuration;
use hafs_ha::{HaServiceClient, HaServiceState, RequestSource};
use hafs_ipc::ClientConfig;
use tokio::process::{Child, Command};

use crate::bring_up::{self, Activation, Step};
use crate::error::{bail, Context, Result};
use crate::files;
use crate::ports::{pick_port, try_free_port};
use crate::site;
use crate::supervisor::START_TIMEOUT;
use crate::zookeeper;

/// How long a child gets to stop after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// How the Active NameNode is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Election {
    /// No controllers: nn1 is made Active over HAServiceProtocol; failovers are
    /// `hafs haadmin -failover`.
    Manual,
    /// A `hafs zkfc` beside each NameNode, electing through the JournalNodes' lease
    /// (no `ha.zookeeper.quorum`).
    Journal,
    /// A `hafs zkfc` beside each NameNode, electing through a standalone ZooKeeper
    /// started for the cluster (Debian package `zookeeper`).
    ZooKeeper,
}

impl Election {
    pub fn is_automatic(self) -> bool {
        self != Election::Manual
    }

    pub fn name(self) -> &'static str {
        match self {
            Election::Manual => "manual",
            Election::Journal => "journal",
            Election::ZooKeeper => "zookeeper",
        }
    }
}

/// The timeouts of automatic failover.
#[derive(Debug, Clone, Copy)]
pub struct AutoTimeouts {
    /// `ha.health-monitor.check-interval.ms`
    pub health_check_ms: u32,
    /// `ha.health-monitor.rpc-timeout.ms`
    pub health_rpc_timeout_ms: u32,
    /// `hafs.ha.election.lease.ms` (built-in election)
    pub lease_ms: u32,
    /// `hafs.ha.election.renew-interval.ms`: how often the holder renews, and how
    /// often a candidate looks whether the lease became free.
    pub renew_ms: u32,
    /// `ha.zookeeper.session-timeout.ms` (ZooKeeper election)
    pub zk_session_ms: u32,
    /// The ZooKeeper server's tickTime (sessions may be as short as two ticks).
    pub zk_tick_ms: u32,
    /// `ha.failover-controller.graceful-fence.rpc-timeout.ms`: the old Active's
    /// graceful step-down is tried first when fencing; a dead one refuses at once, a
    /// hung one must not hold the failover up for long.
    pub graceful_fence_ms: u32,
    /// `ha.failover-controller.cli-check.rpc-timeout.ms` (Hadoop's default if `None`).
    pub cli_check_ms: Option<u32>,
    /// `ha.failover-controller.new-active.rpc-timeout.ms` (Hadoop's default if `None`).
    pub new_active_ms: Option<u32>,
}

impl AutoTimeouts {
    /// The sandbox's defaults, for one machine. A kill -9 of the Active NameNode is
    /// seen by its own controller at the next health check (connection refused is
    /// immediate), at most 500 ms later; the controller then leaves the election
    /// (releases the lease / deletes the lock) and the other controller wins within its
    /// next look at the lease (the renew interval, 250 ms rather than the default
    /// lease / 3 ≈ 670 ms: a few more loopback calls per second for a quicker takeover)
    /// or at once (a ZooKeeper watch). So the failover takes about 0.1–0.8 s. The 1 s health RPC timeout decides how long a NameNode
    /// that hangs (SIGSTOP) may go unanswered; loopback answers in microseconds, so 1 s
    /// leaves room for a loaded machine. The 2 s lease and 3 s ZooKeeper session decide
    /// how fast a dead *controller* (or host) is replaced; the session is longer than the
    /// lease because a ZooKeeper client whose pings are delayed by load loses its session
    /// (and the Active steps down), while the lease holder keeps renewing on its own
    /// deadline. Hadoop's defaults, for machines across a network: health checks every
    /// 1 s with a 45 s RPC timeout, ZooKeeper sessions of 5-10 s.
    pub const SANDBOX: AutoTimeouts = AutoTimeouts {
        health_check_ms: 500,
        health_rpc_timeout_ms: 1000,
        lease_ms: 2000,
        renew_ms: 250,
        zk_session_ms: 3000,
        zk_tick_ms: 250,
        graceful_fence_ms: 1000,
        cli_check_ms: None,
        new_active_ms: None,
    };

    /// The process tests' (crates/tests): health checks every 200 ms, a 2 s lease
    /// renewed at the election's default third, a 2 s ZooKeeper session on 200 ms
    /// ticks, and `haadmin` calls to the controllers bounded at 5 s (10 s for the new
    /// Active), so that a failover test finishes in seconds.
    pub const TESTS: AutoTimeouts = AutoTimeouts {
        health_check_ms: 200,
        health_rpc_timeout_ms: 1000,
        lease_ms: 2000,
        renew_ms: 2000 / 3,
        zk_session_ms: 2000,
        zk_tick_ms: 200,
        graceful_fence_ms: 2000,
        cli_check_ms: Some(5000),
        new_active_ms: Some(10000),
    };
}

/// How the cluster runs, beyond its [`Layout`].
#[derive(Debug, Clone, Copy)]
pub struct Control {
    pub election: Election,
    /// Used with automatic failover.
    pub timeouts: AutoTimeouts,
    /// nn1's RPC port when it is free (the sandbox asks for Hadoop's 8020), else any
    /// free port. A benchmark that kills and restarts NameNodes takes any port: a
    /// well-known one may be taken by someone else while its NameNode is down.
    pub nn1_port: Option<u16>,
}

impl Control {
    /// Manual failover, nn1 on 8020 if free.
    pub const MANUAL: Control = Control {
        election: Election::Manual,
        timeouts: AutoTimeouts::SANDBOX,
        nn1_port: Some(8020),
    };
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The nameservice id; with several nameservices, the name of the ViewFs mount
    /// table over them (`fs.defaultFS = viewfs://<nameservice>`).
    pub nameservice: String,
    /// 1: one HA nameservice. N ≥ 2: a federation of N HA nameservices `ns1`..`nsN`,
    /// each with `namenodes` (+ `observers`) NameNodes of its own, sharing the
    /// JournalNodes (one journal each) and the DataNodes (one block pool each);
    /// clients see them through the mount table (see [`crate::site::viewfs_site`]).
    pub nameservices: usize,
    /// NameNodes per nameservice (not counting Observers).
    pub namenodes: usize,
    pub journalnodes: usize,
    pub datanodes: usize,
    /// 0: every DataNode on 127.0.0.1 with no topology. R ≥ 1: DataNode n on its own
    /// 127.0.0.(n+1), spread over racks `/rack1`..`/rackR` by a topology script.
    pub racks: usize,
    /// Extra hdfs-site.xml entries for every daemon and client (override defaults).
    pub extra: Vec<(String, String)>,
    /// Observer NameNodes started after the `namenodes` (ids continue: with 2
    /// NameNodes and 1 Observer, nn3 is the Observer). They start with `namenode
    /// -observer`, every NameNode gets `dfs.namenode.state.context.enabled`, and the
    /// client conf names ObserverReadProxyProvider.
    pub observers: usize,
}

impl Layout {
    /// The nameservice ids: the one `nameservice`, or `ns1`..`nsN` for several.
    pub fn nameservice_ids(&self) -> Vec<String> {
        if self.nameservices <= 1 {
            vec![self.nameservice.clone()]
        } else {
            (1..=self.nameservices).map(|i| format!("ns{i}")).collect()
        }
    }
}

/// One NameNode's identity.
#[derive(Debug, Clone)]
pub struct NameNodeInfo {
    /// Its nameservice.
    pub ns: String,
    /// Its id within the nameservice (`nn1`, ...).
    pub id: String,
    /// Its daemon name (its log, its controller `zkfc-<name>`): the id with one
    /// nameservice, `<ns>-<id>` with several.
    pub name: String,
    pub rpc: String,
    pub http: String,
    pub conf_dir: PathBuf,
    pub name_dir: PathBuf,
    /// Its controller's ZKFCProtocol address (automatic failover only).
    pub zkfc: Option<String>,
    /// Started as an Observer (`hafs namenode -observer`).
    pub observer: bool,
}

/// How to start one of the cluster's daemons, and how to tell that it serves.
#[derive(Debug, Clone)]
struct Spec {
    name: String,
    launch: Launch,
    /// Where it serves: it is up once this address accepts connections (and
    /// `ready`, if set, was logged).
    addr: String,
    /// A line the daemon logs once it is ready.
    ready: Option<&'static str>,
}

#[derive(Debug, Clone)]
enum Launch {
    /// `hafs --config <conf> <role> <args…>`.
    Hafs {
        role: &'static str,
        conf: PathBuf,
        args: &'static [&'static str],
    },
    /// The standalone ZooKeeper server of this zoo.cfg; it serves once it answers
    /// `srvr` on its address.
    ZooKeeper { cfg: PathBuf },
}

struct Proc {
    name: String,
    /// Kept apart from `child`, which forgets its pid once reaped.
    pid: u32,
    child: Child,
    log: PathBuf,
    /// The log's length when this process started (logs are appended across runs).
    offset: usize,
}

/// A child that exited: its name, pid and exit status.
#[derive(Debug)]
pub struct Exit {
    pub name: String,
    pub pid: u32,
    pub status: ExitStatus,
}

pub struct HaCluster {
    pub conf_dir: PathBuf,
    pub logs: PathBuf,
    /// The nameservice ids ([`Layout::nameservice_ids`]).
    pub nameservices: Vec<String>,
    /// Every NameNode, nameservice by nameservice.
    pub namenodes: Vec<NameNodeInfo>,
    /// `(name, address)` of each JournalNode and DataNode (transfer address).
    pub journalnodes: Vec<(String, String)>,
    pub datanodes: Vec<(String, String)>,
    pub election: Election,
    pub timeouts: AutoTimeouts,
    /// The hafs binary every daemon runs.
    exe: PathBuf,
    /// Every daemon, in start order.
    specs: Vec<Spec>,
    procs: Vec<Proc>,
}

impl HaCluster {
    /// Starts everything under `dir` from the `hafs_bin` binary, run as `control`
    /// says; returns once nn1 is Active and every daemon serves. On failure every child started so far is
    /// stopped.
    pub async fn start_with(
        hafs_bin: &Path,
        dir: &Path,
        layout: &Layout,
        control: Control,
    ) -> Result<HaCluster> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let dir = dir.canonicalize()?;
        let conf_dir = dir.join("conf");
        let logs = dir.join("logs");
        std::fs::create_dir_all(&logs)?;
        std::fs::create_dir_all(&conf_dir)?;
        let previous = Configuration::load(Some(&conf_dir)).ok();
        let nn1_formatted = dir.join("nn1/name/current/VERSION").exists();
        if nn1_formatted && !dir.join("jn1").exists() {
            bail!(
                "{} holds a NameNode from a sandbox without JournalNodes (an older hafs); \
                 use a fresh --dir",
                dir.display()
            );
        }
        let mut cluster = HaCluster {
            conf_dir: conf_dir.clone(),
            logs: logs.clone(),
            nameservices: layout.nameservice_ids(),
            namenodes: Vec::new(),
            journalnodes: Vec::new(),
            datanodes: Vec::new(),
            election: control.election,
            timeouts: control.timeouts,
            exe: hafs_bin.to_path_buf(),
            specs: Vec::new(),
            procs: Vec::new(),
        };
        match cluster
            .bring_up(&dir, layout, previous.as_ref(), control.nn1_port)
            .await
        {
            Ok(()) => Ok(cluster),
            Err(e) => {
                cluster.stop().await;
                Err(e)
            }
        }
    }

    async fn bring_up(
        &mut self,
        dir: &Path,
        layout: &Layout,
        previous: Option<&Configuration>,
        nn1_port: Option<u16>,
    ) -> Result<()> {
        let jn_addrs = self
            .plan_addresses(dir, layout, previous, nn1_port)
            .context("picking ports")?;
        let ns_ids = self.nameservices.clone();
        let ns_refs: Vec<&str> = ns_ids.iter().map(String::as_str).collect();
        let federated = ns_ids.len() > 1;

        // The shared conf dir: what clients (hafs, Java, hdfs-native) use.
        let mut core = if federated {
            site::viewfs_site(&layout.nameservice, &ns_refs)
        } else {
            vec![("fs.defaultFS".to_string(), format!("hdfs://{}", ns_ids[0]))]
        };
        core.extend([
            ("ipc.client.connect.max.retries".into(), "3".into()),
            ("ipc.client.connect.retry.interval".into(), "100".into()),
        ]);
        let nameservices: Vec<site::Nameservice> = ns_ids
            .iter()
            .map(|ns| site::Nameservice {
                id: ns.clone(),
                namenodes: self
                    .namenodes
                    .iter()
                    .filter(|n| &n.ns == ns)
                    .map(|n| site::NameNodeAddrs {
                        id: n.id.clone(),
                        rpc: n.rpc.clone(),
                        http: n.http.clone(),
                    })
                    .collect(),
            })
            .collect();
        let mut hdfs = site::nameservices_site(&nameservices);
        hdfs.extend(site::shared_edits_site(&ns_refs, &jn_addrs));
        hdfs.extend(
            LOCAL_HA_TUNING
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        if layout.observers > 0 {
            // Responses carry the state id clients read at (every NameNode), and
            // Java and hdfs-native clients read from the Observers.
            hdfs.push(("dfs.namenode.state.context.enabled".into(), "true".into()));
            for ns in &ns_ids {
                let key = format!("dfs.client.failover.proxy.provider.{ns}");
                site::set(&mut hdfs, &key, site::OBSERVER_READ_PROXY_PROVIDER);
            }
        }
        hdfs.push((
            "dfs.replication".into(),
            layout.datanodes.clamp(1, 3).to_string(),
        ));
        if self.election.is_automatic() {
            let zk_port = kept_port(previous, "ha.zookeeper.quorum", None)?;
            self.auto_failover_site(dir, zk_port, &mut hdfs).await?;
        }
        if layout.racks > 0 {
            let script = self.conf_dir.join("topology.sh");
            let hosts = (1..=layout.datanodes)
                .map(|n| {
                    Ok((
                        crate::topology::datanode_ip(n)?,
                        crate::topology::rack_of(n, layout.datanodes, layout.racks),
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            crate::topology::write_topology_script(&script, &hosts)?;
            hdfs.push((
                "net.topology.script.file.name".into(),
                script.display().to_string(),
            ));
        }
        for (k, v) in &layout.extra {
            // Common keys go to core-site.xml, where Java's client reads them (its
            // security login reads nothing else); the rest to hdfs-site.xml.
            if site::is_common_key(k) {
                site::set(&mut core, k, v);
            } else {
                site::set(&mut hdfs, k, v);
            }
        }
        files::write_site(&self.conf_dir.join("core-site.xml"), &core)?;
        files::write_site(&self.conf_dir.join("hdfs-site.xml"), &hdfs)?;
        let formatted = self.write_namenode_confs(&core, &hdfs)?;

        let per_ns = layout.namenodes + layout.observers;
        let activation = match self.election {
            Election::Manual => Activation::Manual,
            Election::Journal => Activation::Controllers,
            Election::ZooKeeper => Activation::ZooKeeperControllers,
        };
        let exe = self.exe.clone();
        for step in bring_up::steps(ns_ids.len(), per_ns, true, activation) {
            let nn = |ns: usize, nn: usize| self.namenodes[ns * per_ns + nn].clone();
            match step {
                Step::StartJournalNodes => {
                    self.start_journalnodes(dir, &jn_addrs, &core, &hdfs, &ns_refs)
                        .await?
                }
                Step::Format { ns } => {
                    let first = nn(ns, 0);
                    if formatted[ns * per_ns] {
                        continue;
                    }
                    // Every nameservice of a federation in one cluster id: the
                    // DataNodes serve them all.
                    let cluster_id = format!("CID-{}", layout.nameservice);
                    let format = bring_up::format_args(federated.then_some(&cluster_id));
                    // One nameservice keeps the log name it always had.
                    let what = if federated {
                        format!("format-{}", ns_ids[ns])
                    } else {
                        "format".to_string()
                    };
                    self.run_once(&exe, &first.conf_dir, &what, &format).await?;
                    // Seed the other name dirs with the fresh one; -bootstrapStandby
                    // replaces the seed with an image fetched from the first.
                    for other in 1..per_ns {
                        if !formatted[ns * per_ns + other] {
                            files::copy_name_dir(&first.name_dir, &nn(ns, other).name_dir)?;
                        }
                    }
                }
                Step::BootstrapStandby { ns, nn: i } => {
                    if !formatted[ns * per_ns + i] {
                        self.bootstrap(&exe, &nn(ns, i)).await?;
                    }
                }
                Step::StartNameNode { ns, nn: i } => {
                    let info = nn(ns, i);
                    self.launch(
                        &info.name,
                        namenode_launch(&info),
                        &info.rpc,
                        Some(NAMENODE_READY),
                    )
                    .await?;
                }
                Step::FormatZooKeeper { ns } => {
                    let what = if federated {
                        format!("formatZK-{}", ns_ids[ns])
                    } else {
                        "formatZK".to_string()
                    };
                    let args = bring_up::FORMAT_ZK_ARGS;
                    self.run_once(&exe, &nn(ns, 0).conf_dir, &what, args)
                        .await?;
                }
                Step::StartController { ns, nn: i } => {
                    let info = nn(ns, i);
                    let name = format!("zkfc-{}", info.name);
                    let addr = info.zkfc.clone().unwrap_or_default();
                    let role = hafs("zkfc", &info.conf_dir);
                    self.launch(&name, role, &addr, Some(ZKFC_READY)).await?;
                }
                Step::TransitionToActive { ns, nn: i } => {
                    self.transition(ns * per_ns + i, true).await?
                }
                Step::WaitActive { ns, nn: i } => {
                    self.wait_for_active(ns * per_ns + i, START_TIMEOUT).await?
                }
                Step::StartDataNodes => {
                    self.start_datanodes(dir, layout.datanodes, layout.racks > 0, &core, &hdfs)
                        .await?
                }
            }
        }
        Ok(())
    }

    /// Fills in the NameNodes' (and their controllers') addresses and returns the
    /// JournalNodes': kept from a previous run in this dir, else fresh.
    fn plan_addresses(
        &mut self,
        dir: &Path,
        layout: &Layout,
        previous: Option<&Configuration>,
        nn1_port: Option<u16>,
    ) -> std::io::Result<Vec<String>> {
        let federated = self.nameservices.len() > 1;
        for (k, ns) in self.nameservices.clone().iter().enumerate() {
            for i in 1..=layout.namenodes + layout.observers {
                let id = format!("nn{i}");
                let name = if federated {
                    format!("{ns}-{id}")
                } else {
                    id.clone()
                };
                let home = dir.join(&name);
                let preferred = nn1_port.filter(|_| i == 1 && k == 0);
                let rpc_key = format!("dfs.namenode.rpc-address.{ns}.{id}");
                let http_key = format!("dfs.namenode.http-address.{ns}.{id}");
                self.namenodes.push(NameNodeInfo {
                    rpc: format!("127.0.0.1:{}", kept_port(previous, &rpc_key, preferred)?),
                    http: format!("127.0.0.1:{}", kept_port(previous, &http_key, None)?),
                    conf_dir: home.join("conf"),
                    name_dir: home.join("name"),
                    zkfc: None,
                    observer: i > layout.namenodes,
                    ns: ns.clone(),
                    id,
                    name,
                });
            }
        }
        if self.election.is_automatic() {
            for nn in self.namenodes.iter_mut() {
                let key = format!("dfs.ha.zkfc.port.{}.{}", nn.ns, nn.id);
                nn.zkfc = Some(format!("127.0.0.1:{}", kept_port(previous, &key, None)?));
            }
        }
        (1..=layout.journalnodes)
            .map(|i| {
                let jn_conf = Configuration::load(Some(&dir.join(format!("jn{i}/conf")))).ok();
                let key = "dfs.journalnode.rpc-address";
                Ok(format!(
                    "127.0.0.1:{}",
                    kept_port(jn_conf.as_ref(), key, None)?
                ))
            })
            .collect()
    }

    /// Writes each JournalNode's conf dir (own address and edits dir) and starts it.
    async fn start_journalnodes(
        &mut self,
        dir: &Path,
        addrs: &[String],
        core: &[(String, String)],
        hdfs: &[(String, String)],
        nameservices: &[&str],
    ) -> Result<()> {
        for (i, addr) in addrs.iter().enumerate() {
            let name = format!("jn{}", i + 1);
            let home = dir.join(&name);
            // Each its own HTTP port (all on one host), kept across restarts.
            let jn_prev = Configuration::load(Some(&home.join("conf"))).ok();
            let http_key = "dfs.journalnode.http-address";
            let http = format!("127.0.0.1:{}", kept_port(jn_prev.as_ref(), http_key, None)?);
            let edits = home.join("edits").display().to_string();
            let mut own = site::journalnode_own_site(addr, &http, &edits);
            if nameservices.len() > 1 {
                // The syncer finds its peers in the plain key, which a federation's
                // per-nameservice keys leave unset.
                own.extend(site::shared_edits_site(&nameservices[..1], addrs));
            }
            let conf = write_own_conf(&home, core, &site::with_own(hdfs, &own))?;
            self.launch(&name, hafs("journalnode", &conf), addr, None)
                .await?;
            self.journalnodes.push((name, addr.clone()));
        }
        Ok(())
    }

    /// Writes each NameNode's conf dir (the shared files plus who it is and its name
    /// dir); returns which name dirs were formatted by an earlier run.
    fn write_namenode_confs(
        &self,
        core: &[(String, String)],
        hdfs: &[(String, String)],
    ) -> Result<Vec<bool>> {
        let federated = self.nameservices.len() > 1;
        for nn in &self.namenodes {
            let own = site::namenode_own_site(
                federated.then_some(nn.ns.as_str()),
                &nn.id,
                &format!("file://{}", nn.name_dir.display()),
            );
            let home = nn.conf_dir.parent().expect("nn home");
            write_own_conf(home, core, &site::with_own(hdfs, &own))?;
        }
        Ok(self
            .namenodes
            .iter()
            .map(|n| n.name_dir.join("current/VERSION").exists())
            .collect())
    }

    /// Writes each DataNode's conf dir (own data dir and ports, kept across runs) and
    /// starts it.
    async fn start_datanodes(
        &mut self,
        dir: &Path,
        count: usize,
        own_hosts: bool,
        core: &[(String, String)],
        hdfs: &[(String, String)],
    ) -> Result<()> {
        for i in 1..=count {
            let name = format!("dn{i}");
            let home = dir.join(&name);
            let dn_prev = Configuration::load(Some(&home.join("conf"))).ok();
            let ip = if own_hosts {
                crate::topology::datanode_ip(i)?
            } else {
                std::net::Ipv4Addr::LOCALHOST
            };
            let addr = |key: &str| -> Result<String> {
                Ok(format!("{ip}:{}", kept_port(dn_prev.as_ref(), key, None)?))
            };
            let xfer = addr("dfs.datanode.address")?;
            let own = site::datanode_own_site(
                &[format!("file://{}", home.join("data").display())],
                &xfer,
                &addr("dfs.datanode.ipc.address")?,
                &addr("dfs.datanode.http.address")?,
            );
            let conf = write_own_conf(&home, core, &site::with_own(hdfs, &own))?;
            self.launch(&name, hafs("datanode", &conf), &xfer, None)
                .await?;
            self.datanodes.push((name, xfer));
        }
        Ok(())
    }

    /// The hdfs-site entries of automatic failover; starts ZooKeeper (on `zk_port`,
    /// data under `dir/zookeeper`) for the ZooKeeper election.
    async fn auto_failover_site(
        &mut self,
        dir: &Path,
        zk_port: u16,
        hdfs: &mut Vec<(String, String)>,
    ) -> Result<()> {
        let t = self.timeouts;
        let controllers: Vec<(String, String, u16)> = self
            .namenodes
            .iter()
            .filter_map(|nn| {
                let port = nn.zkfc.as_ref()?.rsplit(':').next()?.parse().ok()?;
                Some((nn.ns.clone(), nn.id.clone(), port))
            })
            .collect();
        let quorum = match self.election {
            Election::ZooKeeper => {
                let cfg = zookeeper::configure(&dir.join("zookeeper"), zk_port, t.zk_tick_ms)?;
                let addr = zookeeper::connect_string(zk_port);
                self.launch("zookeeper", Launch::ZooKeeper { cfg }, &addr, None)
                    .await?;
                Some(addr)
            }
            _ => None,
        };
        let site = site::auto_failover_site(&t, quorum.as_deref(), &controllers);
        for (k, v) in site {
            site::set(hdfs, &k, &v);
        }
        Ok(())
    }

    /// Waits until NameNode `i` reports Active.
    pub async fn wait_for_active(&mut self, i: usize, timeout: Duration) -> Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.state(i).await == Some(HaServiceState::Active) {
                return Ok(());
            }
            if let Some((name, status)) = self.exited() {
                bail!(
                    "{name} exited ({status}); see {}",
                    self.log_of(&name).display()
                );
            }
            if tokio::time::Instant::now() > deadline {
                bail!(
                    "{} did not become Active within {timeout:?}; see {}",
                    self.namenodes[i].name,
                    self.logs.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Per nameservice (in [`HaCluster::nameservices`] order), the index of its
    /// NameNode that reports Active, if one does.
    pub async fn actives(&self) -> Vec<Option<usize>> {
        let mut actives = Vec::new();
        for ns in &self.nameservices {
            let mut found = None;
            for (i, nn) in self.namenodes.iter().enumerate() {
                if &nn.ns == ns && self.state(i).await == Some(HaServiceState::Active) {
                    found = Some(i);
                    break;
                }
            }
            actives.push(found);
        }
        actives
    }

    /// The index of the NameNode that reports Active, if one does.
    pub async fn active(&self) -> Option<usize> {
        for i in 0..self.namenodes.len() {
            if self.state(i).await == Some(HaServiceState::Active) {
                return Some(i);
            }
        }
        None
    }

    /// The log file of child `name` (appended across restarts).
    pub fn log_of(&self, name: &str) -> PathBuf {
        self.logs.join(format!("{name}.log"))
    }

    /// kill -9 of NameNode `i` (waits until it is gone); its pid.
    pub async fn kill_namenode(&mut self, i: usize) -> Result<u32> {
        let name = self.namenodes[i].name.clone();
        let p = self
            .procs
            .iter_mut()
            .rev()
            .find(|p| p.name == name)
            .with_context(|| format!("{name} is not running"))?;
        let pid = p.child.id().with_context(|| format!("{name} has exited"))?;
        // SAFETY: kill(2) on our own child's pid, which is not reaped yet.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGKILL);
        }
        let _ = p.child.wait().await;
        Ok(pid)
    }

    /// Starts NameNode `i` again (after it exited or was killed) and waits until it
    /// serves; with automatic failover its controller keeps it Standby.
    pub async fn restart_namenode(&mut self, i: usize) -> Result<()> {
        let name = self.namenodes[i].name.clone();
        self.start(&name).await?;
        self.wait_serving(&name).await
    }

    /// Starts daemon `name` again from its spec, with the same conf dir, ports and
    /// storage (killing it first if it still runs); returns its pid at once, without
    /// waiting until it serves (see [`HaCluster::serving`]).
    pub async fn start(&mut self, name: &str) -> Result<u32> {
        let spec = self
            .specs
            .iter()
            .find(|s| s.name == name)
            .cloned()
            .with_context(|| format!("no daemon named {name}"))?;
        self.forget(name).await;
        self.spawn(&spec)
    }

    /// Whether daemon `name`'s current incarnation serves: its address accepts
    /// connections (ZooKeeper: answers `srvr`) and it logged its ready line, if it has
    /// one, since it was started.
    pub async fn serving(&self, name: &str) -> bool {
        let Some(spec) = self.specs.iter().find(|s| s.name == name) else {
            return false;
        };
        let Some(proc) = self.procs.iter().find(|p| p.name == name) else {
            return false;
        };
        let up = match spec.launch {
            Launch::ZooKeeper { .. } => zookeeper::answers(&spec.addr).await,
            Launch::Hafs { .. } => {
                let connect = tokio::net::TcpStream::connect(&spec.addr);
                matches!(
                    tokio::time::timeout(Duration::from_millis(500), connect).await,
                    Ok(Ok(_))
                )
            }
        };
        let said = spec.ready.is_none_or(|needle| {
            std::fs::read(&proc.log)
                .map(|b| String::from_utf8_lossy(&b[proc.offset.min(b.len())..]).contains(needle))
                .unwrap_or(false)
        });
        up && said
    }

    /// Every daemon's name, in start order.
    pub fn daemon_names(&self) -> Vec<String> {
        self.specs.iter().map(|s| s.name.clone()).collect()
    }

    /// Takes every child that has exited off the list: each once, with its status.
    pub fn reap(&mut self) -> Vec<Exit> {
        let mut exits = Vec::new();
        let mut i = 0;
        while i < self.procs.len() {
            match self.procs[i].child.try_wait() {
                Ok(Some(status)) => {
                    let p = self.procs.remove(i);
                    exits.push(Exit {
                        name: p.name,
                        pid: p.pid,
                        status,
                    });
                }
                _ => i += 1,
            }
        }
        exits
    }

    /// SIGKILL to daemon `name` without waiting (it is reaped by [`HaCluster::reap`]).
    pub fn kill(&mut self, name: &str) {
        if let Some(p) = self.procs.iter_mut().find(|p| p.name == name) {
            let _ = p.child.start_kill();
        }
    }

    /// The last `n` lines of daemon `name`'s log.
    pub fn log_tail(&self, name: &str, n: usize) -> Vec<String> {
        files::log_tail(&self.log_of(name), n)
    }

    /// Drops child `name` from the list (killing it if it still runs).
    async fn forget(&mut self, name: &str) {
        if let Some(at) = self.procs.iter().position(|p| p.name == name) {
            let mut old = self.procs.remove(at);
            if old.child.id().is_some() {
                let _ = old.child.kill().await;
            }
        }
    }

    /// The first child found exited, without waiting.
    fn exited(&mut self) -> Option<(String, ExitStatus)> {
        for p in self.procs.iter_mut() {
            if let Ok(Some(status)) = p.child.try_wait() {
                return Some((p.name.clone(), status));
            }
        }
        None
    }

    /// `namenode -bootstrapStandby -force -nonInteractive`; a hafs without the option
    /// keeps the seeded name dir.
    async fn bootstrap(&mut self, exe: &Path, nn: &NameNodeInfo) -> Result<()> {
        let log = self.logs.join(format!("{}-bootstrap.log", nn.name));
        let out = Command::new(exe)
            .arg("--config")
            .arg(&nn.conf_dir)
            .args(bring_up::BOOTSTRAP_STANDBY_ARGS)
            .stdin(Stdio::null())
            .output()
            .await?;
        std::fs::write(
            &log,
            [out.stdout.as_slice(), out.stderr.as_slice()].concat(),
        )?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() || stderr.contains("unknown option '-bootstrapStandby'") {
            return Ok(());
        }
        bail!(
            "bootstrapping {} as a Standby failed ({}); see {}",
            nn.name,
            out.status,
            log.display()
        )
    }

    async fn run_once(&self, exe: &Path, conf: &Path, what: &str, args: &[&str]) -> Result<()> {
        let log = self.logs.join(format!("{what}.log"));
        let out = std::fs::File::create(&log)?;
        let status = Command::new(exe)
            .arg("--config")
            .arg(conf)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .status()
            .await?;
        if !status.success() {
            bail!("{what} failed ({status}); see {}", log.display());
        }
        Ok(())
    }

    /// Records daemon `name` (how to start it and where it serves), starts it and
    /// waits until it serves.
    async fn launch(
        &mut self,
        name: &str,
        launch: Launch,
        addr: &str,
        ready: Option<&'static str>,
    ) -> Result<()> {
        let spec = Spec {
            name: name.to_string(),
            launch,
            addr: addr.to_string(),
            ready,
        };
        self.specs.retain(|s| s.name != name);
        self.specs.push(spec.clone());
        self.spawn(&spec)?;
        self.wait_serving(name).await
    }

    /// Starts one incarnation of `spec`, its output appended to `logs/<name>.log`;
    /// its pid.
    fn spawn(&mut self, spec: &Spec) -> Result<u32> {
        let log = self.log_of(&spec.name);
        let offset = std::fs::metadata(&log)
            .map(|m| m.len() as usize)
            .unwrap_or(0);
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)?;
        let mut cmd = match &spec.launch {
            Launch::Hafs { role, conf, args } => {
                let mut cmd = Command::new(&self.exe);
                if *role == "zkfc" {
                    // The controllers log their decisions at info, and `hafs bench
                    // failover` reads its detection and fencing times from those
                    // lines: never less.
                    let level = std::env::var("HAFS_LOG").unwrap_or_default();
                    if !(level.contains("debug") || level.contains("trace")) {
                        cmd.env("HAFS_LOG", "info");
                    }
                }
                cmd.arg("--config").arg(conf).arg(role).args(*args);
                cmd
            }
            Launch::ZooKeeper { cfg } => Command::from(zookeeper::command(cfg)),
        };
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .kill_on_drop(true)
            .spawn();
        let child = match (&spec.launch, child) {
            (_, Ok(child)) => child,
            (Launch::ZooKeeper { .. }, Err(e)) => {
                return Err(e).context(zookeeper::JAVA_MISSING);
            }
            (_, Err(e)) => return Err(e).with_context(|| format!("starting {}", spec.name)),
        };
        let pid = child.id().unwrap_or(0);
        self.procs.push(Proc {
            name: spec.name.clone(),
            pid,
            child,
            log,
            offset,
        });
        Ok(pid)
    }

    /// Waits until daemon `name` serves ([`HaCluster::serving`]), failing if any child
    /// exits meanwhile.
    async fn wait_serving(&mut self, name: &str) -> Result<()> {
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        while tokio::time::Instant::now() < deadline {
            if self.serving(name).await {
                return Ok(());
            }
            if let Some((exited, status)) = self.exited() {
                bail!(
                    "{exited} exited during startup ({status}); see {}",
                    self.log_of(&exited).display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let addr = self
            .specs
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.addr.as_str());
        bail!(
            "{name} did not start serving on {} within {START_TIMEOUT:?}; see {}",
            addr.unwrap_or("?"),
            self.log_of(name).display()
        )
    }

    /// An HAServiceProtocol client of NameNode `i`.
    pub fn ha_client(&self, i: usize, timeout: Duration) -> HaServiceClient {
        let cfg = ClientConfig {
            connect_timeout: timeout.min(Duration::from_secs(5)),
            call_timeout: timeout,
            // As `hafs haadmin`: the NameNode's superuser is the OS user that runs it.
            ..ClientConfig::new(hafs_client::identity::current_user())
        };
        HaServiceClient::new(self.namenodes[i].rpc.clone(), cfg)
    }

    /// Moves NameNode `i` to Active (`active`) or Standby, as a user request.
    pub async fn transition(&self, i: usize, active: bool) -> Result<()> {
        let client = self.ha_client(i, Duration::from_secs(60));
        let r = if active {
            client.transition_to_active(RequestSource::User).await
        } else {
            client.transition_to_standby(RequestSource::User).await
        };
        r.with_context(|| {
            let to = if active { "Active" } else { "Standby" };
            format!("making {} {to}", self.namenodes[i].name)
        })
    }

    /// NameNode `i`'s HA state, or `None` if it does not answer.
    pub async fn state(&self, i: usize) -> Option<HaServiceState> {
        let client = self.ha_client(i, Duration::from_secs(2));
        client.get_service_status().await.ok().map(|s| s.state)
    }

    /// The pid of the running child `name` (`zookeeper` for the ZooKeeper server).
    pub fn pid(&self, name: &str) -> Option<u32> {
        self.procs
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.child.id())
    }

    /// SIGTERM to every child, waiting up to a grace period for each before killing
    /// it: the controllers first (so that no election runs while the others stop),
    /// then DataNodes, NameNodes and JournalNodes, and ZooKeeper last.
    pub async fn stop(&mut self) {
        let mut procs = std::mem::take(&mut self.procs);
        // Restarted children sit at the end of the list: back into start order.
        procs.sort_by_key(|p| self.specs.iter().position(|s| s.name == p.name));
        let (controllers, others): (Vec<Proc>, Vec<Proc>) =
            procs.into_iter().partition(|p| p.name.starts_with("zkfc-"));
        let (zookeeper, others): (Vec<Proc>, Vec<Proc>) =
            others.into_iter().partition(|p| p.name == "zookeeper");
        for group in [controllers, others, zookeeper] {
            self.procs = group;
            self.stop_procs().await;
        }
    }

    async fn stop_procs(&mut self) {
        for p in self.procs.iter().rev() {
            if let Some(pid) = p.child.id() {
                // SAFETY: kill(2) on our own child's pid.
                unsafe {
                    libc::kill(pid as libc::pid_t, libc::SIGTERM);
                }
            }
        }
        for p in self.procs.iter_mut().rev() {
            if tokio::time::timeout(STOP_GRACE, p.child.wait())
                .await
                .is_err()
            {
                tracing::warn!("{} did not stop in {STOP_GRACE:?}; killing it", p.name);
                let _ = p.child.kill().await;
            }
        }
        self.procs.clear();
    }
}

use crate::bring_up::{NAMENODE_READY, ZKFC_READY};

/// How to start `hafs <role>` with conf dir `conf`.
fn hafs(role: &'static str, conf: &Path) -> Launch {
    Launch::Hafs {
        role,
        conf: conf.to_path_buf(),
        args: &[],
    }
}

/// How to start NameNode `nn`: an Observer from its first moment, or a Standby.
fn namenode_launch(nn: &NameNodeInfo) -> Launch {
    Launch::Hafs {
        role: "namenode",
        conf: nn.conf_dir.clone(),
        args: if nn.observer { &["-observer"] } else { &[] },
    }
}

/// What every local HA cluster adds to the nameservices' entries.
const LOCAL_HA_TUNING: &[(&str, &str)] = &[
    // A local cluster: clients move to the other NameNode quickly.
    ("dfs.client.failover.sleep.base.millis", "50"),
    ("dfs.client.failover.sleep.max.millis", "1000"),
    // Every DataNode of a local cluster reports within a second: a Standby made
    // Active early (a demo failover) need not sit out Hadoop's 30 s extension.
    ("dfs.namenode.safemode.extension", "0"),
    ("dfs.ha.tail-edits.in-progress", "true"),
    // Manual failover (`hafs haadmin -failover`): the graceful transition of the
    // old Active fences it; shell(true) lets a failover proceed when it is down.
    ("dfs.ha.fencing.methods", "shell(true)"),
];

/// Writes `<home>/conf/{core,hdfs}-site.xml`; returns the conf dir.
fn write_own_conf(
    home: &Path,
    core: &[(String, String)],
    hdfs: &[(String, String)],
) -> Result<PathBuf> {
    let conf = home.join("conf");
    std::fs::create_dir_all(&conf)?;
    files::write_site(&conf.join("core-site.xml"), core)?;
    files::write_site(&conf.join("hdfs-site.xml"), hdfs)?;
    Ok(conf)
}

/// The port of `key` (`host:port`) in `previous`, the conf of an earlier run in the
/// same dir, so that a daemon keeps its address across runs; else `preferred` if it
/// is free, else a free one.
fn kept_port(
    previous: Option<&Configuration>,
    key: &str,
    preferred: Option<u16>,
) -> std::io::Result<u16> {
    let kept = previous
        .and_then(|c| c.get(key))
        .and_then(|v| v.rsplit(':').next().and_then(|p| p.parse::<u16>().ok()));
    match (kept, preferred) {
        (Some(port), _) => Ok(port),
        (None, Some(preferred)) => pick_port(preferred),
        (None, None) => try_free_port(),
    }
}
