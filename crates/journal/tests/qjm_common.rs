//! Shared helpers of the qjm_* tests: JournalNodes in this process over real IPC.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use hafs_journal::journalnode::{JournalNodeConfig, JournalNodeServer};
use hafs_journal::qjournal::NsInfo;
use hafs_journal::quorum::{QjmConfig, QjournalUri, QuorumJournal};
use hafs_journal::record::encode_batch;
use hafs_journal::test_util::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct Jn {
    pub addr: SocketAddr,
    pub dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Jn {
    pub async fn start(dir: PathBuf, addr: SocketAddr, peers: Vec<String>) -> Jn {
        let cfg = JournalNodeConfig {
            edits_dir: dir.clone(),
            peers,
            sync_interval: Duration::from_millis(200),
            sync_format: true,
        };
        let s = JournalNodeServer::bind(cfg, addr).await.expect("bind JN");
        let addr = s.local_addr();
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(s.run(async move {
            let _ = rx.await;
        }));
        Jn {
            addr,
            dir,
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// Stops serving (like a crash as far as clients can tell; the lock is released).
    pub async fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }

    pub async fn restart(&mut self, peers: Vec<String>) {
        self.stop().await;
        *self = Jn::start(self.dir.clone(), self.addr, peers).await;
    }
}

pub struct Quorum {
    pub _tmp: TempDir,
    pub jns: Vec<Jn>,
}

impl Quorum {
    pub async fn start(n: usize) -> Quorum {
        let tmp = TempDir::new("qjm");
        let mut jns = Vec::new();
        for i in 0..n {
            jns.push(
                Jn::start(
                    tmp.path().join(format!("jn{i}")),
                    "127.0.0.1:0".parse().unwrap(),
                    vec![],
                )
                .await,
            );
        }
        Quorum { _tmp: tmp, jns }
    }

    pub fn addrs(&self) -> Vec<String> {
        self.jns.iter().map(|j| j.addr.to_string()).collect()
    }

    pub fn uri(&self) -> QjournalUri {
        QjournalUri {
            addrs: self.addrs(),
            journal_id: "testjournal".into(),
        }
    }

    pub fn writer(&self, write_timeout_ms: u64) -> QuorumJournal {
        QuorumJournal::new(
            self.uri(),
            ns(),
            QjmConfig {
                write_txns_timeout: Duration::from_millis(write_timeout_ms),
                other_timeout: Duration::from_millis(write_timeout_ms),
                queued_edits_limit_bytes: 10 << 20,
                ..Default::default()
            },
        )
    }
}

pub fn ns() -> NsInfo {
    NsInfo {
        layout_version: -1,
        namespace_id: 12345,
        cluster_id: "CID-test".into(),
        block_pool_id: "BP-1".into(),
    }
}

pub fn payload(txid: u64) -> Vec<u8> {
    format!("edit {txid}").into_bytes()
}

pub fn batch(first: u64, n: u64) -> Bytes {
    let p: Vec<Vec<u8>> = (first..first + n).map(payload).collect();
    encode_batch(first, &p).unwrap()
}
