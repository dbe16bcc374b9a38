//! The reference cluster: real Apache HDFS (Hadoop 3.5.0's NameNode, DataNode,
//! JournalNode and DFSZKFailoverController, fetched from Maven Central by
//! `scripts/reference-hdfs.sh fetch`) started on loopback by `scripts/reference-hdfs.sh
//! start`, so tests can run the same client or tool against hafs and against HDFS.
//! Also the real `hdfs` tools (scripts/hdfs: dfsadmin, haadmin, fsck, getconf, dfs)
//! against any conf dir, a hafs cluster's included.
//!
//! A missing Hadoop fetch fails the test with the script's message, which names
//! `scripts/reference-hdfs.sh fetch` (part of scripts/test-deps.sh).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::command::{run_with_timeout, CmdOutput, DEFAULT_CMD_TIMEOUT};
use crate::paths::{hafs_cache, workspace_root};
use crate::tempdir::TempDir;
use crate::tools::ConfTarget;

/// The reference cluster's nameservice (`hdfs://refhdfs`).
pub const REFERENCE_NAMESERVICE: &str = "refhdfs";
/// What `scripts/reference-hdfs.sh start` prints once the cluster serves.
pub const REFERENCE_READY: &str = "reference-hdfs ready:";
/// What `scripts/reference-hdfs.sh add-datanode` prints once the new DataNode serves.
const REFERENCE_DATANODE_ADDED: &str = "reference-hdfs datanode:";

/// Starting 11 to 13 JVMs (and formatting, bootstrapping) on a loaded 2-core machine:
/// seen taking 205 s at a load average of 25.
const START_TIMEOUT: Duration = Duration::from_secs(480);

/// One daemon of the reference cluster as its ready line names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceDaemon {
    /// `nn1`, `jn2`, `dn3`, `zkfc1`, `zookeeper`.
    pub name: String,
    /// Its RPC (NameNode, JournalNode, ZooKeeper) or data transfer (DataNode) address;
    /// empty for a controller.
    pub addr: String,
    pub pid: u32,
}

/// A running reference cluster in a temporary dir; stopped (every daemon) on drop.
#[derive(Debug)]
pub struct ReferenceHdfs {
    dir: TempDir,
    conf_dir: PathBuf,
    /// The ready line, as printed.
    pub ready: String,
    /// The NameNode the ready line names Active (`nn1` or `nn2`).
    pub first_active: String,
    pub daemons: Vec<ReferenceDaemon>,
}

fn script() -> PathBuf {
    workspace_root().join("scripts/reference-hdfs.sh")
}

/// What [`ReferenceHdfs::builder`] starts: the script's `start` options.
#[derive(Debug, Clone)]
pub struct ReferenceHdfsBuilder {
    label: String,
    site: Vec<(String, String)>,
    datanodes: usize,
    own_hosts: bool,
}

impl ReferenceHdfsBuilder {
    /// An extra hdfs-site.xml property (`--set`), after (so over) the script's own.
    pub fn site(mut self, key: &str, value: impl Into<String>) -> Self {
        self.site.push((key.to_string(), value.into()));
        self
    }

    /// How many DataNodes (`--datanodes`; default 3).
    pub fn datanodes(mut self, n: usize) -> Self {
        self.datanodes = n;
        self
    }

    /// Every DataNode on its own loopback address (`--datanode-hosts`): DataNode `dnI`
    /// on 127.0.0.(I+1) for its listeners and the sockets it opens, as
    /// `MiniClusterBuilder::own_datanode_hosts` places hafs's, so the NameNode sees
    /// distinct hosts (racks, exclude files by IP).
    pub fn own_datanode_hosts(mut self) -> Self {
        self.own_hosts = true;
        self
    }

    /// Starts a fresh reference cluster; panics with the script's output (which says
    /// what to install when the Hadoop jars or ZooKeeper are missing) if it does not
    /// come up.
    #[track_caller]
    pub fn start(self) -> ReferenceHdfs {
        let dir = TempDir::new(&format!("refhdfs-{}", self.label));
        let mut cmd = Command::new("bash");
        cmd.arg(script())
            .arg("start")
            .arg("--dir")
            .arg(dir.path())
            .arg("--datanodes")
            .arg(self.datanodes.to_string())
            .env("HAFS_CACHE", hafs_cache());
        if self.own_hosts {
            cmd.arg("--datanode-hosts");
        }
        for (k, v) in &self.site {
            cmd.arg("--set").arg(format!("{k}={v}"));
        }
        // A start that times out panics in run_with_timeout: whatever did start must
        // not outlive the test then either.
        let guard = StopOnDrop(dir.path().to_path_buf());
        let out = run_with_timeout(cmd, START_TIMEOUT);
        std::mem::forget(guard);
        let ready = out
            .stdout_lines()
            .into_iter()
            .find(|l| l.starts_with(REFERENCE_READY))
            .map(str::to_string);
        let Some(ready) = ready else {
            // Whatever did start must not outlive the test.
            stop(dir.path());
            panic!("the reference HDFS cluster did not start:\n{out}");
        };
        let daemons = parse_ready_daemons(&ready);
        let first_active = ready
            .split("; ")
            .find_map(|f| f.strip_prefix("active "))
            .unwrap_or_else(|| panic!("no `active` field in the ready line: {ready}"))
            .to_string();
        ReferenceHdfs {
            conf_dir: dir.join("conf"),
            dir,
            ready,
            first_active,
            daemons,
        }
    }
}

impl ReferenceHdfs {
    /// Starts a fresh reference cluster with the script's defaults (3 DataNodes on
    /// 127.0.0.1); see [`ReferenceHdfsBuilder::start`].
    #[track_caller]
    pub fn start(label: &str) -> ReferenceHdfs {
        ReferenceHdfs::builder(label).start()
    }

    /// [`ReferenceHdfs::start`] with extra hdfs-site.xml properties (`--set`), e.g.
    /// the failover timeouts a benchmark tunes.
    #[track_caller]
    pub fn start_with(label: &str, site: &[(&str, &str)]) -> ReferenceHdfs {
        site.iter()
            .fold(ReferenceHdfs::builder(label), |b, (k, v)| b.site(k, *v))
            .start()
    }

    /// A cluster to configure before [`ReferenceHdfsBuilder::start`].
    pub fn builder(label: &str) -> ReferenceHdfsBuilder {
        ReferenceHdfsBuilder {
            label: label.to_string(),
            site: Vec::new(),
            datanodes: 3,
            own_hosts: false,
        }
    }

    /// Starts one more DataNode (the next number, on its own address when the cluster
    /// has them) and returns once both NameNodes see it live.
    #[track_caller]
    pub fn add_datanode(&mut self) -> ReferenceDaemon {
        let mut cmd = Command::new("bash");
        cmd.arg(script())
            .arg("add-datanode")
            .arg("--dir")
            .arg(self.dir.path())
            .env("HAFS_CACHE", hafs_cache());
        let out = run_with_timeout(cmd, START_TIMEOUT);
        let line = out
            .stdout_lines()
            .into_iter()
            .find_map(|l| l.strip_prefix(REFERENCE_DATANODE_ADDED).map(str::to_string));
        let Some(line) = line else {
            panic!("adding a DataNode to the reference cluster failed:\n{out}");
        };
        let added = parse_ready_daemons(&format!("datanodes {}", line.trim()));
        let [daemon] = added.as_slice() else {
            panic!("cannot read the added DataNode from: {line}");
        };
        self.daemons.push(daemon.clone());
        daemon.clone()
    }

    /// The DataNodes (`dn1`, `dn2`, …, added ones included), in order.
    pub fn datanodes(&self) -> Vec<&ReferenceDaemon> {
        self.daemons
            .iter()
            .filter(|d| d.name.starts_with("dn"))
            .collect()
    }

    /// The cluster's dir (conf/, logs/, name, journal and data dirs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The daemon called `name`; panics when the ready line did not name it.
    #[track_caller]
    pub fn daemon(&self, name: &str) -> &ReferenceDaemon {
        self.daemons
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("no daemon {name} in the ready line: {}", self.ready))
    }

    /// kill -9 of daemon `name`.
    #[track_caller]
    pub fn kill9(&self, name: &str) {
        let pid = self.daemon(name).pid;
        // SAFETY: kill(2) with a pid this cluster started; no memory is involved.
        let rc = unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        assert_eq!(rc, 0, "kill -9 {name} (pid {pid}) failed");
    }

    /// The end of daemon `name`'s log, for failure messages.
    pub fn log_tail(&self, name: &str, lines: usize) -> String {
        let text =
            std::fs::read_to_string(self.dir.join(format!("logs/{name}.log"))).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl ConfTarget for ReferenceHdfs {
    fn conf_dir(&self) -> &Path {
        &self.conf_dir
    }
    fn fs_uri(&self) -> String {
        format!("hdfs://{REFERENCE_NAMESERVICE}")
    }
}

impl Drop for ReferenceHdfs {
    fn drop(&mut self) {
        stop(self.dir.path());
    }
}

/// Stops the cluster in its dir when dropped (by a panic) before it is forgotten.
struct StopOnDrop(PathBuf);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        stop(&self.0);
    }
}

fn stop(dir: &Path) {
    let mut cmd = Command::new("bash");
    cmd.arg(script()).arg("stop").arg("--dir").arg(dir);
    let out = run_with_timeout(cmd, Duration::from_secs(60));
    if !out.success() {
        eprintln!(
            "stopping the reference cluster in {} failed:\n{out}",
            dir.display()
        );
    }
}

/// The daemons of a ready line: every `<name> <addr> (pid <n>…)` and each NameNode's
/// `controller pid <n>` (as `zkfc<i>`).
pub fn parse_ready_daemons(ready: &str) -> Vec<ReferenceDaemon> {
    let mut daemons = Vec::new();
    for field in ready.split("; ") {
        let list = ["zookeeper ", "namenodes ", "journalnodes ", "datanodes "]
            .iter()
            .find_map(|p| field.strip_prefix(p).map(|rest| (*p, rest)));
        let Some((prefix, rest)) = list else { continue };
        let entries: Vec<String> = if prefix == "zookeeper " {
            vec![format!("zookeeper {rest}")]
        } else {
            rest.split("), ")
                .map(|e| e.trim_end_matches(')').to_string() + ")")
                .collect()
        };
        for entry in entries {
            let mut words = entry.split_whitespace();
            let (Some(name), Some(addr)) = (words.next(), words.next()) else {
                continue;
            };
            let inner = entry
                .split_once('(')
                .map_or("", |(_, i)| i.trim_end_matches(')'));
            let number_after = |key: &str| -> Option<u32> {
                inner
                    .split(", ")
                    .find_map(|p| p.strip_prefix(key))
                    .and_then(|n| n.trim().parse().ok())
            };
            if let Some(pid) = number_after("pid ") {
                daemons.push(ReferenceDaemon {
                    name: name.to_string(),
                    addr: addr.to_string(),
                    pid,
                });
            }
            if let Some(pid) = number_after("controller pid ") {
                daemons.push(ReferenceDaemon {
                    name: name.replace("nn", "zkfc"),
                    addr: String::new(),
                    pid,
                });
            }
        }
    }
    daemons
}

/// The real Apache `hdfs` command (scripts/hdfs: dfsadmin, haadmin, fsck, getconf, dfs)
/// with the target's conf dir: `hdfs_tool(&cluster, &["haadmin", "-getAllServiceState"])`.
#[track_caller]
pub fn hdfs_tool(target: &impl ConfTarget, args: &[&str]) -> CmdOutput {
    let mut cmd = Command::new("bash");
    cmd.arg(workspace_root().join("scripts/hdfs"))
        .args(args)
        .env("HAFS_CACHE", hafs_cache())
        .env("HADOOP_CONF_DIR", target.conf_dir())
        .env_remove("HADOOP_USER_NAME")
        .envs(target.client_env());
    run_with_timeout(cmd, DEFAULT_CMD_TIMEOUT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_daemon_of_a_ready_line() {
        let ready = "reference-hdfs ready: Apache Hadoop 3.5.0, nameservice hdfs://refhdfs; \
            conf dir /d/conf; active nn2; zookeeper 127.0.0.1:10 (pid 1); namenodes nn1 \
            127.0.0.1:11 (pid 2, standby, controller pid 3), nn2 127.0.0.1:12 (pid 4, \
            active, controller pid 5); journalnodes jn1 127.0.0.1:13 (pid 6), jn2 \
            127.0.0.1:14 (pid 7), jn3 127.0.0.1:15 (pid 8); datanodes dn1 127.0.0.1:16 \
            (pid 9), dn2 127.0.0.1:17 (pid 10), dn3 127.0.0.1:18 (pid 11); started in 30 s";
        let got: Vec<(String, u32)> = parse_ready_daemons(ready)
            .into_iter()
            .map(|d| (d.name, d.pid))
            .collect();
        let want: Vec<(String, u32)> = [
            ("zookeeper", 1),
            ("nn1", 2),
            ("zkfc1", 3),
            ("nn2", 4),
            ("zkfc2", 5),
            ("jn1", 6),
            ("jn2", 7),
            ("jn3", 8),
            ("dn1", 9),
            ("dn2", 10),
            ("dn3", 11),
        ]
        .iter()
        .map(|(n, p)| (n.to_string(), *p))
        .collect();
        assert_eq!(got, want);
        let nn2 = parse_ready_daemons(ready)
            .into_iter()
            .find(|d| d.name == "nn2")
            .unwrap();
        assert_eq!(nn2.addr, "127.0.0.1:12");
    }
}
