//! A standalone ZooKeeper server for `hafs sandbox --zookeeper` and
//! `hafs bench failover --backend zookeeper`: Debian's `zookeeper` package run with
//! Java (`QuorumPeerMain` with a one-server zoo.cfg is a standalone server), on a
//! loopback port, with its data dir under the sandbox dir. A missing package or Java
//! is an error that names what to install.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

/// Where Debian's `zookeeper` package puts the server (its manifest names the
/// dependencies, so the jar alone is the classpath) and its log4j configuration.
const ZK_JAR: &str = "/usr/share/java/zookeeper.jar";
const ZK_CONF_DIR: &str = "/etc/zookeeper/conf";
/// How long the server gets to answer `srvr` after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running ZooKeeper server; killed when dropped.
pub struct ZooKeeper {
    pub port: u16,
    pub log: PathBuf,
    child: Child,
}

impl ZooKeeper {
    /// Starts a server with data in `dir/data` on `port`, tick `tick_ms` (sessions may
    /// be as short as two ticks), and waits until it serves.
    pub async fn start(dir: &Path, port: u16, tick_ms: u32) -> anyhow::Result<ZooKeeper> {
        if !Path::new(ZK_JAR).exists() {
            bail!(
                "ZooKeeper is not installed ({ZK_JAR} is missing): install the Debian package \
                 `zookeeper` (apt-get install zookeeper), or run without --zookeeper to use \
                 the built-in election over the JournalNodes"
            );
        }
        let data = dir.join("data");
        std::fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
        let cfg = format!(
            "tickTime={tick_ms}\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
             admin.enableServer=false\nminSessionTimeout={}\nmaxSessionTimeout=60000\n\
             4lw.commands.whitelist=srvr,ruok\n",
            data.display(),
            2 * tick_ms
        );
        let cfg_path = dir.join("zoo.cfg");
        std::fs::write(&cfg_path, cfg)?;
        let log = dir.join("zookeeper.log");
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)?;
        let child = Command::new("java")
            .arg("-cp")
            .arg(format!("{ZK_CONF_DIR}:{ZK_JAR}"))
            .arg("-Dzookeeper.root.logger=INFO,CONSOLE")
            .arg("-Xmx256m")
            .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
            .arg(&cfg_path)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .kill_on_drop(true)
            .spawn()
            .context("cannot run `java` for ZooKeeper: install a JRE (the Debian package `zookeeper` depends on one)")?;
        let mut zk = ZooKeeper { port, log, child };
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            if zk.answers().await {
                return Ok(zk);
            }
            if let Ok(Some(status)) = zk.child.try_wait() {
                bail!(
                    "ZooKeeper exited at startup ({status}); see {}",
                    zk.log.display()
                );
            }
            if tokio::time::Instant::now() > deadline {
                bail!(
                    "ZooKeeper did not serve on 127.0.0.1:{port} within {START_TIMEOUT:?}; see {}",
                    zk.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `host:port` for `ha.zookeeper.quorum`.
    pub fn connect_string(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Whether the server has exited (its status), without waiting.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The four-letter `srvr` command answers with a standalone server's mode.
    async fn answers(&self) -> bool {
        let addr = self.connect_string();
        let Ok(Ok(mut s)) = tokio::time::timeout(
            Duration::from_millis(500),
            tokio::net::TcpStream::connect(&addr),
        )
        .await
        else {
            return false;
        };
        if s.write_all(b"srvr").await.is_err() {
            return false;
        }
        let mut out = Vec::new();
        let read = tokio::time::timeout(Duration::from_millis(1000), s.read_to_end(&mut out));
        let _ = read.await;
        String::from_utf8_lossy(&out).contains("Mode: standalone")
    }

    /// SIGTERM, then kill after `grace`.
    pub async fn stop(&mut self, grace: Duration) {
        if let Some(pid) = self.child.id() {
            // SAFETY: kill(2) on our own child's pid.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGTERM);
            }
        }
        if tokio::time::timeout(grace, self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}
