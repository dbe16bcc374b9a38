//! A non-HA cluster, the one `hafs bench dfsio` measures when no `-fs` is given: a
//! NameNode and three DataNodes as child `hafs` processes, as the sandbox runs them, on
//! free loopback ports, with all storage in one directory on the disk the baseline
//! uses. Children are stopped with SIGTERM when the benchmark ends and killed when the
//! cluster is dropped on any other path, so nothing outlives the run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hafs_client::proto::{DatanodeReportTypeProto, SafeModeActionProto};
use hafs_client::DfsClient;
use hafs_conf::Configuration;

use crate::error::{bail, Context, Result};
use crate::files;
use crate::ports::try_free_port;

/// DataNodes started: enough for replication 3.
pub const DATANODES: usize = 3;
/// How long the cluster gets to come up (format, NameNode, DataNodes registered).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a child gets to stop after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// Lines of a child's log quoted when it fails.
const LOG_TAIL_LINES: usize = 20;

struct Daemon {
    name: String,
    child: Child,
    log: PathBuf,
}

/// A running NameNode + DataNodes; dropping it kills them.
pub struct NonHaCluster {
    /// `hdfs://127.0.0.1:port`.
    pub uri: String,
    /// NameNode first, then the DataNodes.
    daemons: Vec<Daemon>,
}

/// CPU time (user + system) of the cluster's processes so far.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClusterCpu {
    pub namenode: Duration,
    pub datanodes: Duration,
}

impl ClusterCpu {
    pub fn since(self, before: ClusterCpu) -> ClusterCpu {
        ClusterCpu {
            namenode: self.namenode.saturating_sub(before.namenode),
            datanodes: self.datanodes.saturating_sub(before.datanodes),
        }
    }
}

impl NonHaCluster {
    /// Writes the conf dirs under `dir`, formats the NameNode, starts every daemon and
    /// returns once the NameNode reports all DataNodes live and is out of safe mode.
    pub async fn start(hafs_bin: &Path, dir: &Path) -> Result<NonHaCluster> {
        let exe = hafs_bin;
        let logs = dir.join("logs");
        std::fs::create_dir_all(&logs)?;
        let nn_port = try_free_port()?;
        let uri = format!("hdfs://127.0.0.1:{nn_port}");
        let conf_dir = dir.join("conf");
        let shared = shared_hdfs_site(dir, nn_port, try_free_port()?);
        write_conf_dir(&conf_dir, &uri, &shared)?;

        let format_log = logs.join("format.log");
        let status = Command::new(exe)
            .arg("--config")
            .arg(&conf_dir)
            .args(["namenode", "-format", "-nonInteractive", "-force"])
            .env("HAFS_LOG", child_log_level())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&format_log)?)
            .status()
            .context("running hafs namenode -format")?;
        if !status.success() {
            bail!(
                "formatting the NameNode failed ({status}):\n{}",
                tail(&format_log)
            );
        }

        let mut cluster = NonHaCluster {
            uri: uri.clone(),
            daemons: Vec::new(),
        };
        cluster.spawn(exe, &conf_dir, &logs, "namenode")?;
        let deadline = Instant::now() + START_TIMEOUT;
        cluster
            .wait_for_port(&format!("127.0.0.1:{nn_port}"), deadline)
            .await?;
        for n in 1..=DATANODES {
            let home = dir.join(format!("dn{n}"));
            let dn_conf = home.join("conf");
            let mut hdfs = shared.clone();
            hdfs.push((
                "dfs.datanode.data.dir",
                format!("file://{}", home.join("data").display()),
            ));
            for key in [
                "dfs.datanode.address",
                "dfs.datanode.ipc.address",
                "dfs.datanode.http.address",
            ] {
                hdfs.push((key, format!("127.0.0.1:{}", try_free_port()?)));
            }
            write_conf_dir(&dn_conf, &uri, &hdfs)?;
            cluster.spawn(exe, &dn_conf, &logs, &format!("datanode{n}"))?;
        }
        cluster.wait_until_ready(deadline).await?;
        Ok(cluster)
    }

    fn spawn(&mut self, exe: &Path, conf: &Path, logs: &Path, name: &str) -> Result<()> {
        let log = logs.join(format!("{name}.log"));
        let out = std::fs::File::create(&log)?;
        let role = if name == "namenode" {
            "namenode"
        } else {
            "datanode"
        };
        let child = Command::new(exe)
            .arg("--config")
            .arg(conf)
            .arg(role)
            .env("HAFS_LOG", child_log_level())
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        self.daemons.push(Daemon {
            name: name.to_string(),
            child,
            log,
        });
        Ok(())
    }

    /// Fails with the child's log when one has exited.
    fn check_alive(&mut self) -> Result<()> {
        for d in &mut self.daemons {
            if let Ok(Some(status)) = d.child.try_wait() {
                bail!(
                    "{} exited unexpectedly ({status}); its log ends:\n{}",
                    d.name,
                    tail(&d.log)
                );
            }
        }
        Ok(())
    }

    async fn wait_for_port(&mut self, addr: &str, deadline: Instant) -> Result<()> {
        // Bounded by the deadline.
        while Instant::now() < deadline {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return Ok(());
            }
            self.check_alive()?;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("nothing served on {addr} within {START_TIMEOUT:?}")
    }

    async fn wait_until_ready(&mut self, deadline: Instant) -> Result<()> {
        let mut conf = Configuration::new();
        conf.set("fs.defaultFS", self.uri.as_str());
        let client = DfsClient::new(&conf, Some(&self.uri)).context("a client of the cluster")?;
        let mut last = String::new();
        // Bounded by the deadline.
        while Instant::now() < deadline {
            self.check_alive()?;
            match client
                .get_datanode_report(DatanodeReportTypeProto::Live)
                .await
            {
                Ok(live) if live.len() >= DATANODES => {
                    match client
                        .set_safe_mode(SafeModeActionProto::SafemodeGet, false)
                        .await
                    {
                        Ok(false) => return Ok(()),
                        Ok(true) => last = "the NameNode is in safe mode".into(),
                        Err(e) => last = e.to_string(),
                    }
                }
                Ok(live) => last = format!("{} of {DATANODES} DataNodes live", live.len()),
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        bail!("the cluster was not ready within {START_TIMEOUT:?} (last: {last})")
    }

    /// CPU used so far by the NameNode and (summed) the DataNodes, from /proc.
    pub fn cpu(&self) -> Result<ClusterCpu> {
        let mut cpu = ClusterCpu::default();
        for (i, d) in self.daemons.iter().enumerate() {
            let t = proc_cpu_time(d.child.id())
                .with_context(|| format!("reading /proc/{}/stat of {}", d.child.id(), d.name))?;
            if i == 0 {
                cpu.namenode += t;
            } else {
                cpu.datanodes += t;
            }
        }
        Ok(cpu)
    }

    /// The DataNodes' process ids (for profiling).
    pub fn pids(&self) -> Vec<(String, u32)> {
        self.daemons
            .iter()
            .map(|d| (d.name.clone(), d.child.id()))
            .collect()
    }

    /// Stops every daemon with SIGTERM (DataNodes first), killing any that does not stop
    /// within the grace period.
    pub async fn stop(mut self) {
        for d in self.daemons.iter().rev() {
            // SAFETY: kill(2) on our own, not yet reaped, child.
            unsafe {
                libc::kill(d.child.id() as libc::pid_t, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + STOP_GRACE;
        for d in &mut self.daemons {
            // Bounded by the deadline.
            while Instant::now() < deadline {
                if !matches!(d.child.try_wait(), Ok(None)) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        // Drop kills and reaps whatever is still running.
    }
}

impl Drop for NonHaCluster {
    fn drop(&mut self) {
        for d in &mut self.daemons {
            if let Ok(None) = d.child.try_wait() {
                let _ = d.child.kill();
                let _ = d.child.wait();
            }
        }
    }
}

/// The hdfs-site.xml entries every daemon shares.
fn shared_hdfs_site(dir: &Path, nn_port: u16, http_port: u16) -> Vec<(&'static str, String)> {
    vec![
        (
            "dfs.namenode.name.dir",
            format!("file://{}", dir.join("name").display()),
        ),
        ("dfs.namenode.rpc-address", format!("127.0.0.1:{nn_port}")),
        // Never the default 9870: a sandbox or another run may hold it.
        (
            "dfs.namenode.http-address",
            format!("127.0.0.1:{http_port}"),
        ),
        ("dfs.replication", "3".into()),
        // A fresh, empty namespace: no reason to wait in safe mode.
        ("dfs.namenode.safemode.extension", "0".into()),
        // Register and report within a second of starting.
        ("dfs.heartbeat.interval", "1".into()),
        ("dfs.blockreport.initialDelay", "0".into()),
        ("ipc.client.connect.max.retries", "3".into()),
        ("ipc.client.connect.retry.interval", "200".into()),
    ]
}

fn write_conf_dir(conf_dir: &Path, uri: &str, hdfs: &[(&str, String)]) -> Result<()> {
    std::fs::create_dir_all(conf_dir)
        .with_context(|| format!("creating {}", conf_dir.display()))?;
    files::write_site(&conf_dir.join("core-site.xml"), &[("fs.defaultFS", uri)])?;
    files::write_site(&conf_dir.join("hdfs-site.xml"), hdfs)
}

/// Children log warnings only (their logs are quoted on failure), unless the user
/// asked for a level through HAFS_LOG.
fn child_log_level() -> String {
    std::env::var("HAFS_LOG").unwrap_or_else(|_| "warn".to_string())
}

/// The last lines of a log file, for error messages.
fn tail(path: &Path) -> String {
    files::log_tail(path, LOG_TAIL_LINES).join("\n")
}

/// User + system CPU time of process `pid` from `/proc/<pid>/stat`.
pub fn proc_cpu_time(pid: u32) -> Result<Duration> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let ticks = parse_stat_cpu_ticks(&text).context("unexpected /proc/<pid>/stat format")?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = u64::try_from(hz).ok().filter(|h| *h > 0).unwrap_or(100);
    Ok(Duration::from_secs_f64(ticks as f64 / hz as f64))
}

/// utime + stime (fields 14 and 15, in clock ticks) of a `/proc/<pid>/stat` line. The
/// command name (field 2) is in parentheses and may hold spaces and parentheses, so
/// fields are counted from the last `)`.
pub fn parse_stat_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: field 3 (state) is index 0, so field N is index N - 3.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    utime.checked_add(stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_cpu_ticks_count_fields_after_the_name() {
        let stat = "1234 (hafs (x) y) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 75 0 0 20 0 \
                    8 0 100 1000 200 18446744073709551615";
        assert_eq!(parse_stat_cpu_ticks(stat), Some(325));
        assert_eq!(parse_stat_cpu_ticks("1234 (hafs) S 1 2"), None);
        assert_eq!(parse_stat_cpu_ticks("garbage"), None);
    }

    #[test]
    fn own_process_cpu_is_readable() {
        let mut x = 1u64;
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(30) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        assert!(x != 0);
        assert!(proc_cpu_time(std::process::id()).unwrap() > Duration::ZERO);
    }
}
