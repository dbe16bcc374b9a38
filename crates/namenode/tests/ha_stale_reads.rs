//! A Standby's reads and its tailing lag, with two NameNodes of one HA nameservice in
//! this process on three in-process JournalNodes, over real IPC:
//! - `dfs.ha.allow.stale.reads` unset (Hadoop's default, false): the Standby refuses
//!   reads with StandbyException;
//! - set to true: the Standby serves reads from its tailed namespace (writes are still
//!   refused), and with the default tailing settings a single write on the Active
//!   followed by silence is visible there well within a second (the journal's commit
//!   heartbeat and a short `dfs.ha.tail-edits.period`).

use std::time::{Duration, Instant};

use bytes::Bytes;
use hafs_ipc::{Connection, IpcError};
use hafs_namenode::client_protocol::PROTOCOL;
use hafs_namenode::namesystem::HaState;
use hafs_proto::hdfs as pb;

mod common;

use common::ha::{mkdirs_req, to_active, HaCluster};
use common::{call, connect_to, stop, temp_dir, Running};

struct Pair {
    cluster: HaCluster,
    nns: [Running; 2],
}

impl Pair {
    /// Three JournalNodes, nn1 formatted and copied to nn2, both started (Standby),
    /// then nn1 made Active.
    async fn start(name: &str, stale: bool) -> Pair {
        let dir = temp_dir(&format!("stale-{name}"));
        // Tailing settings are left at their defaults: the lag test is about them.
        let settings: &[(&str, &str)] = if stale {
            &[("dfs.ha.allow.stale.reads", "true")]
        } else {
            &[]
        };
        let cluster = HaCluster::new(&dir, "stale", settings).await;
        cluster.format().await;
        let nn1 = cluster.start("nn1").await;
        let nn2 = cluster.start("nn2").await;
        for nn in [&nn1, &nn2] {
            assert_eq!(nn.fsn.ha_state(), HaState::Standby);
        }
        to_active(&nn1.addr).await;
        Pair {
            cluster,
            nns: [nn1, nn2],
        }
    }

    fn addr(&self, i: usize) -> &str {
        &self.nns[i].addr
    }

    async fn stop(self) {
        let [nn1, nn2] = self.nns;
        stop(nn1).await;
        stop(nn2).await;
        self.cluster.shutdown().await;
    }
}

async fn connect(addr: &str) -> Connection {
    connect_to(addr, PROTOCOL, &Bytes::from_static(&[9u8; 16])).await
}

async fn mkdirs(c: &Connection, src: &str, call_id: i32) -> Result<(), IpcError> {
    let _: pb::MkdirsResponseProto = call(c, "mkdirs", &mkdirs_req(src), call_id, 0).await?;
    Ok(())
}

async fn file_info(c: &Connection, src: &str) -> Result<Option<pb::HdfsFileStatusProto>, IpcError> {
    let r: pb::GetFileInfoResponseProto = call(
        c,
        "getFileInfo",
        &pb::GetFileInfoRequestProto { src: src.into() },
        2,
        0,
    )
    .await?;
    Ok(r.fs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_refuses_reads_by_default() {
    let pair = Pair::start("default", false).await;
    let active = connect(pair.addr(0)).await;
    let standby = connect(pair.addr(1)).await;
    mkdirs(&active, "/a", 10).await.unwrap();
    assert!(file_info(&active, "/a").await.unwrap().is_some());
    let e = file_info(&standby, "/").await.unwrap_err();
    assert!(e.is_standby(), "getFileInfo on a Standby: {e:?}");
    assert!(e.to_string().contains("Operation category READ"), "{e}");
    let e = mkdirs(&standby, "/b", 11).await.unwrap_err();
    assert!(e.is_standby(), "mkdirs on a Standby: {e:?}");
    pair.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_stale_reads_a_standby_serves_reads_and_trails_by_milliseconds() {
    let pair = Pair::start("allowed", true).await;
    let active = connect(pair.addr(0)).await;
    let standby = connect(pair.addr(1)).await;
    // Reads are served; writes still refused.
    assert!(file_info(&standby, "/").await.unwrap().is_some());
    let e = mkdirs(&standby, "/refused", 11).await.unwrap_err();
    assert!(e.is_standby(), "mkdirs on a Standby: {e:?}");
    assert!(e.to_string().contains("Operation category WRITE"), "{e}");

    // A single write after a quiet spell, then silence: nothing later carries its
    // commit to the JournalNodes but the commit heartbeat. Well under a second even
    // on a loaded machine. (With a once-a-second heartbeat each sample misses this
    // bound about half the time, so five almost surely fail; ours is 10 ms, and the
    // tailer looks every 10 ms.)
    let bound = Duration::from_millis(500);
    let mut lags = Vec::new();
    for i in 0..5 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let path = format!("/quiet/d{i}");
        mkdirs(&active, &path, 100 + i).await.unwrap();
        let acked = Instant::now();
        loop {
            if file_info(&standby, &path).await.unwrap().is_some() {
                lags.push(acked.elapsed());
                break;
            }
            assert!(
                acked.elapsed() < bound,
                "{path} not visible on the Standby {bound:?} after the Active acknowledged \
                 it (Active at txid {}, Standby applied {})",
                pair.nns[0].fsn.namespace_digest().0,
                pair.nns[1].fsn.edit_log.applied_txid()
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    eprintln!("single write -> visible on the Standby: {lags:?}");
    pair.stop().await;
}
