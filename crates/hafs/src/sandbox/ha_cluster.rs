//! A local HA cluster of child processes: JournalNodes, the NameNodes of one
//! nameservice and DataNodes, each `hafs <role>` with its own conf dir under one
//! directory, plus a shared conf dir for clients. Used by `hafs sandbox` and
//! `hafs bench failover`.
//!
//! Bring-up follows the HA bootstrap order: JournalNodes; format nn1 (which formats
//! the JournalNodes); start nn1; `namenode -bootstrapStandby` the others; start them
//! (they come up Standby); make nn1 Active over HAServiceProtocol; DataNodes. Ports
//! and storage are kept across runs in the same directory.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};
use hafs_conf::Configuration;
use hafs_ha::{HaServiceClient, HaServiceState, RequestSource};
use hafs_ipc::ClientConfig;
use tokio::process::{Child, Command};

/// How long a child gets to stop after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// How long each daemon gets to start serving.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// What to run.
#[derive(Debug, Clone)]
pub struct Layout {
    pub nameservice: String,
    pub namenodes: usize,
    pub journalnodes: usize,
    pub datanodes: usize,
    /// Extra hdfs-site.xml entries for every daemon and client (override defaults).
    pub extra: Vec<(String, String)>,
}

/// One NameNode's identity.
#[derive(Debug, Clone)]
pub struct NameNodeInfo {
    pub id: String,
    pub rpc: String,
    pub http: String,
    pub conf_dir: PathBuf,
    pub name_dir: PathBuf,
}

struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
    /// The log's length when this process started (logs are appended across runs).
    offset: usize,
}

pub struct HaCluster {
    pub conf_dir: PathBuf,
    pub logs: PathBuf,
    pub namenodes: Vec<NameNodeInfo>,
    /// `(name, address)` of each JournalNode and DataNode (transfer address).
    pub journalnodes: Vec<(String, String)>,
    pub datanodes: Vec<(String, String)>,
    procs: Vec<Proc>,
}

impl HaCluster {
    /// Starts everything under `dir`; returns once nn1 is Active and every daemon
    /// serves. On failure every child started so far is stopped.
    pub async fn start(dir: &Path, layout: &Layout) -> anyhow::Result<HaCluster> {
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
            namenodes: Vec::new(),
            journalnodes: Vec::new(),
            datanodes: Vec::new(),
            procs: Vec::new(),
        };
        match cluster.bring_up(&dir, layout, previous.as_ref()).await {
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
    ) -> anyhow::Result<()> {
        let exe = std::env::current_exe().context("locating the hafs binary")?;
        let ns = layout.nameservice.as_str();
        let port = |key: &str, preferred: Option<u16>| {
            previous
                .and_then(|c| c.get(key))
                .and_then(|v| v.rsplit(':').next().and_then(|p| p.parse::<u16>().ok()))
                .unwrap_or_else(|| preferred.map(pick_port).unwrap_or_else(free_port))
        };

        // Addresses: kept from a previous run in this dir, else fresh.
        for i in 1..=layout.namenodes {
            let id = format!("nn{i}");
            let home = dir.join(&id);
            let preferred = (i == 1).then_some(8020);
            let rpc_key = format!("dfs.namenode.rpc-address.{ns}.{id}");
            let http_key = format!("dfs.namenode.http-address.{ns}.{id}");
            self.namenodes.push(NameNodeInfo {
                rpc: format!("127.0.0.1:{}", port(&rpc_key, preferred)),
                http: format!("127.0.0.1:{}", port(&http_key, None)),
                conf_dir: home.join("conf"),
                name_dir: home.join("name"),
                id,
            });
        }
        let mut jn_addrs = Vec::new();
        for i in 1..=layout.journalnodes {
            let jn_conf = Configuration::load(Some(&dir.join(format!("jn{i}/conf")))).ok();
            let p = jn_conf
                .as_ref()
                .and_then(|c| c.get("dfs.journalnode.rpc-address"))
                .and_then(|v| v.rsplit(':').next().and_then(|p| p.parse().ok()))
                .unwrap_or_else(free_port);
            jn_addrs.push(format!("127.0.0.1:{p}"));
        }
        let shared_edits = format!("qjournal://{}/{ns}", jn_addrs.join(";"));

        // The shared conf dir: what clients (hafs, Java, hdfs-native) use.
        let core = vec![
            ("fs.defaultFS".to_string(), format!("hdfs://{ns}")),
            ("ipc.client.connect.max.retries".into(), "3".into()),
            ("ipc.client.connect.retry.interval".into(), "100".into()),
        ];
        let mut hdfs = ha_site(ns, &self.namenodes);
        hdfs.push(("dfs.namenode.shared.edits.dir".into(), shared_edits.clone()));
        hdfs.push((
            "dfs.replication".into(),
            layout.datanodes.clamp(1, 3).to_string(),
        ));
        for (k, v) in &layout.extra {
            set(&mut hdfs, k, v);
        }
        write_pairs(&self.conf_dir.join("core-site.xml"), &core)?;
        write_pairs(&self.conf_dir.join("hdfs-site.xml"), &hdfs)?;

        // JournalNodes.
        for (i, addr) in jn_addrs.iter().enumerate() {
            let name = format!("jn{}", i + 1);
            let home = dir.join(&name);
            let mut own = hdfs.clone();
            set(&mut own, "dfs.journalnode.rpc-address", addr);
            set(
                &mut own,
                "dfs.journalnode.edits.dir",
                &home.join("edits").display().to_string(),
            );
            let conf = write_own_conf(&home, &core, &own)?;
            self.spawn(&exe, &conf, &name, "journalnode")?;
            self.wait_serving(&name, addr, None).await?;
            self.journalnodes.push((name, addr.clone()));
        }

        // NameNode conf dirs: the shared files plus own id and name dir.
        for nn in &self.namenodes {
            let mut own = hdfs.clone();
            set(&mut own, "dfs.ha.namenode.id", &nn.id);
            set(
                &mut own,
                "dfs.namenode.name.dir",
                &format!("file://{}", nn.name_dir.display()),
            );
            write_own_conf(nn.conf_dir.parent().expect("nn home"), &core, &own)?;
        }
        let formatted: Vec<bool> = self
            .namenodes
            .iter()
            .map(|n| n.name_dir.join("current/VERSION").exists())
            .collect();
        if !formatted[0] {
            let nn1 = self.namenodes[0].clone();
            self.run_once(
                &exe,
                &nn1.conf_dir,
                "format",
                &["namenode", "-format", "-nonInteractive", "-force"],
            )
            .await?;
            // Seed the other name dirs with the fresh one; -bootstrapStandby below
            // replaces the seed with an image fetched from nn1.
            for (nn, done) in self.namenodes.iter().zip(&formatted).skip(1) {
                if !done {
                    copy_dir(&nn1.name_dir, &nn.name_dir)?;
                }
            }
        }
        let nn1 = self.namenodes[0].clone();
        self.spawn(&exe, &nn1.conf_dir, &nn1.id, "namenode")?;
        self.wait_serving(&nn1.id, &nn1.rpc, Some("namenode ready:"))
            .await?;
        let others: Vec<_> = self.namenodes.iter().skip(1).cloned().collect();
        for (nn, done) in others.iter().zip(formatted.iter().skip(1)) {
            if !done {
                self.bootstrap(&exe, nn).await?;
            }
            self.spawn(&exe, &nn.conf_dir, &nn.id, "namenode")?;
            self.wait_serving(&nn.id, &nn.rpc, Some("namenode ready:"))
                .await?;
        }
        self.transition(0, true).await?;

        for i in 1..=layout.datanodes {
            let name = format!("dn{i}");
            let home = dir.join(&name);
            let dn_prev = Configuration::load(Some(&home.join("conf"))).ok();
            let port_of = |key: &str| {
                dn_prev
                    .as_ref()
                    .and_then(|c| c.get(key))
                    .and_then(|v| v.rsplit(':').next().and_then(|p| p.parse::<u16>().ok()))
                    .unwrap_or_else(free_port)
            };
            let xfer = format!("127.0.0.1:{}", port_of("dfs.datanode.address"));
            let mut own = hdfs.clone();
            set(
                &mut own,
                "dfs.datanode.data.dir",
                &format!("file://{}", home.join("data").display()),
            );
            set(&mut own, "dfs.datanode.address", &xfer);
            let ipc = format!("127.0.0.1:{}", port_of("dfs.datanode.ipc.address"));
            set(&mut own, "dfs.datanode.ipc.address", &ipc);
            let http = format!("127.0.0.1:{}", port_of("dfs.datanode.http.address"));
            set(&mut own, "dfs.datanode.http.address", &http);
            let conf = write_own_conf(&home, &core, &own)?;
            self.spawn(&exe, &conf, &name, "datanode")?;
            self.wait_serving(&name, &xfer, None).await?;
            self.datanodes.push((name, xfer));
        }
        Ok(())
    }

    /// `namenode -bootstrapStandby -force -nonInteractive`; a hafs without the option
    /// keeps the seeded name dir.
    async fn bootstrap(&mut self, exe: &Path, nn: &NameNodeInfo) -> anyhow::Result<()> {
        let log = self.logs.join(format!("{}-bootstrap.log", nn.id));
        let out = Command::new(exe)
            .arg("--config")
            .arg(&nn.conf_dir)
            .args(["namenode", "-bootstrapStandby", "-force", "-nonInteractive"])
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
            nn.id,
            out.status,
            log.display()
        )
    }

    async fn run_once(
        &self,
        exe: &Path,
        conf: &Path,
        what: &str,
        args: &[&str],
    ) -> anyhow::Result<()> {
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

    fn spawn(&mut self, exe: &Path, conf: &Path, name: &str, role: &str) -> anyhow::Result<()> {
        let log = self.logs.join(format!("{name}.log"));
        let offset = std::fs::metadata(&log)
            .map(|m| m.len() as usize)
            .unwrap_or(0);
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)?;
        let child = Command::new(exe)
            .arg("--config")
            .arg(conf)
            .arg(role)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        self.procs.push(Proc {
            name: name.to_string(),
            child,
            log,
            offset,
        });
        Ok(())
    }

    /// Waits until `addr` accepts connections (and, if given, the daemon's log has a
    /// line containing `ready` after this start), failing if any child exits.
    async fn wait_serving(
        &mut self,
        name: &str,
        addr: &str,
        ready: Option<&str>,
    ) -> anyhow::Result<()> {
        let log = self.logs.join(format!("{name}.log"));
        let offset = self
            .procs
            .iter()
            .rev()
            .find(|p| p.name == name)
            .map_or(0, |p| p.offset);
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        while tokio::time::Instant::now() < deadline {
            let up = tokio::net::TcpStream::connect(addr).await.is_ok();
            let said = match ready {
                None => true,
                Some(needle) => std::fs::read(&log)
                    .map(|b| String::from_utf8_lossy(&b[offset.min(b.len())..]).contains(needle))
                    .unwrap_or(false),
            };
            if up && said {
                return Ok(());
            }
            for p in self.procs.iter_mut() {
                if let Ok(Some(status)) = p.child.try_wait() {
                    bail!(
                        "{} exited during startup ({status}); see {}",
                        p.name,
                        p.log.display()
                    );
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "{name} did not start serving on {addr} within {START_TIMEOUT:?}; see {}",
            log.display()
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
    pub async fn transition(&self, i: usize, active: bool) -> anyhow::Result<()> {
        let client = self.ha_client(i, Duration::from_secs(60));
        let r = if active {
            client.transition_to_active(RequestSource::User).await
        } else {
            client.transition_to_standby(RequestSource::User).await
        };
        r.with_context(|| {
            let to = if active { "Active" } else { "Standby" };
            format!("making {} {to}", self.namenodes[i].id)
        })
    }

    /// NameNode `i`'s HA state, or `None` if it does not answer.
    pub async fn state(&self, i: usize) -> Option<HaServiceState> {
        let client = self.ha_client(i, Duration::from_secs(2));
        client.get_service_status().await.ok().map(|s| s.state)
    }

    /// The pid of child `name`.
    pub fn pid(&self, name: &str) -> Option<u32> {
        self.procs
            .iter()
            .rev()
            .find(|p| p.name == name)
            .and_then(|p| p.child.id())
    }

    /// Resolves when the first child exits: its name and status.
    pub async fn first_exit(&mut self) -> (String, ExitStatus) {
        // Polled: a handful of children, checked every 200 ms.
        loop {
            for p in self.procs.iter_mut() {
                if let Ok(Some(status)) = p.child.try_wait() {
                    return (p.name.clone(), status);
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// SIGTERM to every child (DataNodes, NameNodes, then JournalNodes), waiting up to
    /// a grace period for each before killing it.
    pub async fn stop(&mut self) {
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
                eprintln!("{} did not stop in {STOP_GRACE:?}; killing it", p.name);
                let _ = p.child.kill().await;
            }
        }
        self.procs.clear();
    }
}

/// The client-visible hdfs-site entries of nameservice `ns`.
fn ha_site(ns: &str, namenodes: &[NameNodeInfo]) -> Vec<(String, String)> {
    let ids: Vec<&str> = namenodes.iter().map(|n| n.id.as_str()).collect();
    let mut hdfs = vec![
        ("dfs.nameservices".to_string(), ns.to_string()),
        (format!("dfs.ha.namenodes.{ns}"), ids.join(",")),
    ];
    for nn in namenodes {
        hdfs.push((
            format!("dfs.namenode.rpc-address.{ns}.{}", nn.id),
            nn.rpc.clone(),
        ));
        hdfs.push((
            format!("dfs.namenode.http-address.{ns}.{}", nn.id),
            nn.http.clone(),
        ));
    }
    hdfs.extend([
        (
            format!("dfs.client.failover.proxy.provider.{ns}"),
            "org.apache.hadoop.hdfs.server.namenode.ha.ConfiguredFailoverProxyProvider".into(),
        ),
        // A local cluster: clients move to the other NameNode quickly.
        ("dfs.client.failover.sleep.base.millis".into(), "50".into()),
        ("dfs.client.failover.sleep.max.millis".into(), "1000".into()),
        ("dfs.ha.tail-edits.period".into(), "100ms".into()),
        // Every DataNode of a local cluster reports within a second: a Standby made
        // Active early (a demo failover) need not sit out Hadoop's 30 s extension.
        ("dfs.namenode.safemode.extension".into(), "0".into()),
        ("dfs.ha.tail-edits.in-progress".into(), "true".into()),
        // Manual failover (`hafs haadmin -failover`): the graceful transition of the
        // old Active fences it; shell(true) lets a failover proceed when it is down.
        ("dfs.ha.fencing.methods".into(), "shell(true)".into()),
    ]);
    hdfs
}

fn set(pairs: &mut Vec<(String, String)>, key: &str, value: &str) {
    match pairs.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = value.to_string(),
        None => pairs.push((key.to_string(), value.to_string())),
    }
}

fn write_pairs(path: &Path, pairs: &[(String, String)]) -> anyhow::Result<()> {
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    hafs_conf::write_site_xml(path, &refs)?;
    Ok(())
}

/// Writes `<home>/conf/{core,hdfs}-site.xml`; returns the conf dir.
fn write_own_conf(
    home: &Path,
    core: &[(String, String)],
    hdfs: &[(String, String)],
) -> anyhow::Result<PathBuf> {
    let conf = home.join("conf");
    std::fs::create_dir_all(&conf)?;
    write_pairs(&conf.join("core-site.xml"), core)?;
    write_pairs(&conf.join("hdfs-site.xml"), hdfs)?;
    Ok(conf)
}

/// Copies a name dir (files and subdirs), leaving out a storage lock.
fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_name() == "in_use.lock" {
            continue;
        }
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

fn pick_port(preferred: u16) -> u16 {
    if TcpListener::bind(("127.0.0.1", preferred)).is_ok() {
        return preferred;
    }
    free_port()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}
