//! Shared helpers of the qjm_* tests: JournalNodes in this process over real IPC.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use hafs_journal::client::{QjmConfig, QuorumJournal};
use hafs_journal::protocol::{NsInfo, QjournalUri};
use hafs_journal::record::encode_batch;
use hafs_journal::server::JournalNodeConfig;
use hafs_journal::test_util::TempDir;
use hafs_testkit::TestJournalNode;

/// A JournalNode of these tests: syncs from its peers every 200 ms and may format
/// an empty journal from them.
pub type Jn = TestJournalNode;

fn jn_config(dir: PathBuf, peers: Vec<String>) -> JournalNodeConfig {
    JournalNodeConfig {
        edits_dir: dir,
        peers,
        sync_interval: Duration::from_millis(200),
        sync_format: true,
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
            let config = jn_config(tmp.path().join(format!("jn{i}")), vec![]);
            jns.push(Jn::start(config, "127.0.0.1:0".parse().unwrap()).await);
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
