//! JournalNodes in the test's own process, serving real IPC on 127.0.0.1.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hafs_journal::server::{JournalNodeConfig, JournalNodeServer};

use crate::server_task::ServerTask;

/// A JournalNode server running as a task of the test.
pub struct TestJournalNode {
    pub addr: SocketAddr,
    pub config: JournalNodeConfig,
    task: ServerTask,
}

impl TestJournalNode {
    /// A config for a node with no peers: its syncer has nothing to copy from, so the
    /// interval does not matter.
    pub fn config(edits_dir: PathBuf) -> JournalNodeConfig {
        JournalNodeConfig {
            edits_dir,
            peers: vec![],
            sync_interval: Duration::from_secs(60),
            sync_format: true,
        }
    }

    /// Binds `addr` (port 0 for any) and serves until [`TestJournalNode::stop`].
    pub async fn start(config: JournalNodeConfig, addr: SocketAddr) -> TestJournalNode {
        let server = JournalNodeServer::bind(config.clone(), addr)
            .await
            .unwrap_or_else(|e| panic!("binding a JournalNode on {addr}: {e}"));
        let addr = server.local_addr();
        TestJournalNode {
            addr,
            config,
            task: ServerTask::spawn(|stop| server.run(stop)),
        }
    }

    /// The edits dir.
    pub fn dir(&self) -> &Path {
        &self.config.edits_dir
    }

    /// Stops serving (like a crash as far as clients can tell; the dir lock is released).
    pub async fn stop(&mut self) {
        self.task.stop().await;
    }

    /// Stops and starts again on the same address and edits dir.
    pub async fn restart(&mut self) {
        self.stop().await;
        *self = TestJournalNode::start(self.config.clone(), self.addr).await;
    }

    /// [`TestJournalNode::restart`] with other peers to sync from.
    pub async fn restart_with_peers(&mut self, peers: Vec<String>) {
        self.config.peers = peers;
        self.restart().await;
    }
}

/// `n` JournalNodes with no peers, edits dirs `dir/jn0`, `dir/jn1`, …, on any ports.
pub async fn start_journal_nodes(dir: &Path, n: usize) -> Vec<TestJournalNode> {
    let mut jns = Vec::with_capacity(n);
    for i in 0..n {
        let config = TestJournalNode::config(dir.join(format!("jn{i}")));
        jns.push(TestJournalNode::start(config, SocketAddr::from(([127, 0, 0, 1], 0))).await);
    }
    jns
}

/// `qjournal://a;b;c/<journal>` for `dfs.namenode.shared.edits.dir`.
pub fn qjournal_uri(jns: &[TestJournalNode], journal: &str) -> String {
    let addrs: Vec<String> = jns.iter().map(|j| j.addr.to_string()).collect();
    format!("qjournal://{}/{journal}", addrs.join(";"))
}
