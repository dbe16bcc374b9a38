//! Running a JournalNode: its settings from the configuration, the RPC server and the
//! syncer.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hafs_conf::keys::{
    DFS_JOURNALNODE_EDITS_DIR, DFS_JOURNALNODE_EDITS_DIR_DEFAULT, DFS_JOURNALNODE_ENABLE_SYNC,
    DFS_JOURNALNODE_ENABLE_SYNC_DEFAULT, DFS_JOURNALNODE_ENABLE_SYNC_FORMAT,
    DFS_JOURNALNODE_ENABLE_SYNC_FORMAT_DEFAULT, DFS_JOURNALNODE_RPC_ADDRESS,
    DFS_JOURNALNODE_RPC_ADDRESS_DEFAULT, DFS_JOURNALNODE_SYNC_INTERVAL,
    DFS_JOURNALNODE_SYNC_INTERVAL_DEFAULT_MS, DFS_NAMENODE_SHARED_EDITS_DIR,
};
use hafs_conf::{ConfError, Configuration};
use hafs_ipc::{Server, ServerConfig};

use super::service::{JournalNode, JournalNodeConfig};
use crate::protocol::QjournalUri;

/// `dfs.journalnode.sync.interval` (ms) and `dfs.journalnode.enable.sync`.
pub const SYNC_INTERVAL_KEY: &str = DFS_JOURNALNODE_SYNC_INTERVAL;
pub const ENABLE_SYNC_KEY: &str = DFS_JOURNALNODE_ENABLE_SYNC;

/// The JournalNode's settings: (node config, RPC bind address).
pub fn config_from(conf: &Configuration) -> Result<(JournalNodeConfig, String), ConfError> {
    // Every known key, not only the ones read below: a bad value stops the daemon at
    // startup, naming the key, as the NameNode does.
    conf.validate()?;
    let dir = conf.get_or(DFS_JOURNALNODE_EDITS_DIR, DFS_JOURNALNODE_EDITS_DIR_DEFAULT);
    let dir = dir.trim();
    let dir = dir
        .strip_prefix("file://")
        .or_else(|| dir.strip_prefix("file:"))
        .unwrap_or(dir);
    if !dir.starts_with('/') {
        return Err(ConfError::BadValue {
            key: DFS_JOURNALNODE_EDITS_DIR.into(),
            value: dir.into(),
            expected: "an absolute local path".into(),
        });
    }
    let bind = conf.get_or(
        DFS_JOURNALNODE_RPC_ADDRESS,
        DFS_JOURNALNODE_RPC_ADDRESS_DEFAULT,
    );
    let peers = match conf.get_trimmed(DFS_NAMENODE_SHARED_EDITS_DIR) {
        Some(u)
            if conf.get_bool(ENABLE_SYNC_KEY, DFS_JOURNALNODE_ENABLE_SYNC_DEFAULT)?
                && QjournalUri::is_qjournal(&u) =>
        {
            QjournalUri::parse(&u)
                .map_err(|e| ConfError::BadValue {
                    key: DFS_NAMENODE_SHARED_EDITS_DIR.into(),
                    value: u.clone(),
                    expected: e,
                })?
                .addrs
        }
        _ => Vec::new(),
    };
    Ok((
        JournalNodeConfig {
            edits_dir: PathBuf::from(dir),
            peers,
            sync_interval: Duration::from_millis(
                conf.get_u64(SYNC_INTERVAL_KEY, DFS_JOURNALNODE_SYNC_INTERVAL_DEFAULT_MS)?
                    .max(10),
            ),
            sync_format: conf.get_bool(
                DFS_JOURNALNODE_ENABLE_SYNC_FORMAT,
                DFS_JOURNALNODE_ENABLE_SYNC_FORMAT_DEFAULT,
            )?,
        },
        bind.trim().to_string(),
    ))
}

pub struct JournalNodeServer {
    pub node: Arc<JournalNode>,
    server: Server,
}

impl JournalNodeServer {
    /// Creates the edits dir and binds the RPC server (SIMPLE authentication).
    pub async fn bind(
        config: JournalNodeConfig,
        bind: SocketAddr,
    ) -> std::io::Result<JournalNodeServer> {
        Self::bind_with_auth(config, bind, Default::default()).await
    }

    /// As [`JournalNodeServer::bind`], with callers authenticated as `auth` says.
    pub async fn bind_with_auth(
        mut config: JournalNodeConfig,
        bind: SocketAddr,
        auth: hafs_ipc::auth::ServerAuth,
    ) -> std::io::Result<JournalNodeServer> {
        std::fs::create_dir_all(&config.edits_dir)?;
        let server_probe = tokio::net::TcpListener::bind(bind).await?;
        let local = server_probe.local_addr()?;
        drop(server_probe);
        // Never sync from ourselves.
        config.peers.retain(|p| !same_addr(p, &local));
        let node = JournalNode::new(config);
        let mut server_config = ServerConfig::new(local);
        server_config.auth = auth;
        let server = Server::bind(server_config, vec![node.service()]).await?;
        Ok(JournalNodeServer { node, server })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// The IPC server's figures, for `/jmx` and `/prom`.
    pub fn rpc_metrics(&self) -> std::sync::Arc<hafs_ipc::RpcMetrics> {
        self.server.metrics()
    }

    /// Serves (and runs the syncer) until `shutdown` resolves.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let syncer = if self.node.config.peers.is_empty() {
            None
        } else {
            Some(tokio::spawn(super::syncer::run(self.node.clone(), stop_rx)))
        };
        self.server.run(shutdown).await;
        let _ = stop_tx.send(true);
        if let Some(s) = syncer {
            let _ = s.await;
        }
    }
}

fn same_addr(peer: &str, local: &SocketAddr) -> bool {
    use std::net::ToSocketAddrs;
    let Ok(addrs) = peer.to_socket_addrs() else {
        return false;
    };
    addrs.into_iter().any(|a| {
        a.port() == local.port()
            && (a.ip() == local.ip()
                || local.ip().is_unspecified()
                || a.ip().is_loopback() && local.ip().is_loopback())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bad value of any known key stops a JournalNode at startup, naming the key and
    /// the value, even a key the JournalNode itself does not read.
    #[test]
    fn bad_values_stop_the_journalnode() {
        for (key, value) in [
            (DFS_JOURNALNODE_SYNC_INTERVAL, "soon"),
            ("dfs.qjournal.queued-edits.limit.mb", "ten"),
        ] {
            let mut conf = Configuration::new();
            conf.set(DFS_JOURNALNODE_EDITS_DIR, "/tmp/jn");
            conf.set(key, value);
            let err = config_from(&conf).unwrap_err().to_string();
            assert!(
                err.contains(key) && err.contains(value),
                "{key}={value}: {err}"
            );
        }
    }
}
