//! A standalone ZooKeeper server for `hafs sandbox --zookeeper` and
//! `hafs bench failover --backend zookeeper`: Debian's `zookeeper` package run with
//! Java (`QuorumPeerMain` with a one-server zoo.cfg is a standalone server), on a
//! loopback port, with its data dir under the sandbox dir. A missing package is an
//! error that names what to install. The cluster runs (and the sandbox supervises) the
//! server like any other of its daemons: this module only writes its configuration,
//! builds its command line and tells whether it serves.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::{bail, Context, Result};

/// Where Debian's `zookeeper` package puts the server (its manifest names the
/// dependencies, so the jar alone is the classpath) and its log4j configuration.
const ZK_JAR: &str = "/usr/share/java/zookeeper.jar";
const ZK_CONF_DIR: &str = "/etc/zookeeper/conf";

/// What to install when `java` cannot be run for the server.
pub const JAVA_MISSING: &str =
    "cannot run `java` for ZooKeeper: install a JRE (the Debian package `zookeeper` depends on one)";

/// Writes `dir/zoo.cfg` for a server with data in `dir/data` on 127.0.0.1:`port`, tick
/// `tick_ms` (sessions may be as short as two ticks); returns its path. Fails, naming
/// the package, when the server is not installed.
pub fn configure(dir: &Path, port: u16, tick_ms: u32) -> Result<PathBuf> {
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
    std::fs::write(&cfg_path, cfg).with_context(|| format!("writing {}", cfg_path.display()))?;
    Ok(cfg_path)
}

/// The command that runs the server configured by `cfg` (stdio left to the caller; a
/// std command, so that synchronous test harnesses can run it too).
pub fn command(cfg: &Path) -> Command {
    let mut cmd = Command::new("java");
    cmd.arg("-cp")
        .arg(format!("{ZK_CONF_DIR}:{ZK_JAR}"))
        .arg("-Dzookeeper.root.logger=INFO,CONSOLE")
        .arg("-Xmx256m")
        .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
        .arg(cfg);
    cmd
}

/// `host:port` for `ha.zookeeper.quorum`.
pub fn connect_string(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

/// Whether a standalone server answers the four-letter `srvr` command on `addr`.
pub async fn answers(addr: &str) -> bool {
    let Ok(Ok(mut s)) = tokio::time::timeout(
        Duration::from_millis(500),
        tokio::net::TcpStream::connect(addr),
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
