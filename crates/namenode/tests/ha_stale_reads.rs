//! A Standby's reads and its tailing lag, with two NameNodes of one HA nameservice in
//! this process on three in-process JournalNodes, over real IPC:
//! - `dfs.ha.allow.stale.reads` unset (Hadoop's default, false): the Standby refuses
//!   reads with StandbyException;
//! - set to true: the Standby serves reads from its tailed namespace (writes are still
//!   refused), and with the default tailing settings a single write on the Active
//!   followed by silence is visible there well within a second (the journal's commit
//!   heartbeat and a short `dfs.ha.tail-edits.period`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hafs_conf::Configuration;
use hafs_ipc::{ClientConfig, Connection, IpcError};
use hafs_journal::journalnode::{JournalNodeConfig, JournalNodeServer};
use hafs_namenode::client_protocol::PROTOCOL;
use hafs_namenode::namesystem::HaState;
use hafs_namenode::{storage, NameNode, NameNodeConfig};
use hafs_proto::common as cpb;
use hafs_proto::hdfs as pb;
use prost::Message;

const HA_PROTOCOL: &str = "org.apache.hadoop.ha.HAServiceProtocol";

struct Stop {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Stop {
    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

struct Pair {
    dir: PathBuf,
    addrs: [String; 2],
    fsns: Vec<std::sync::Arc<hafs_namenode::namesystem::Namesystem>>,
    nns: Vec<Stop>,
    jns: Vec<Stop>,
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hafs-stale-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn conf(dir: &Path, uri: &str, ports: [u16; 2], id: &str, stale: bool) -> NameNodeConfig {
    let mut conf = Configuration::new();
    conf.set("fs.defaultFS", "hdfs://stale");
    conf.set("dfs.nameservices", "stale");
    conf.set("dfs.ha.namenodes.stale", "nn1,nn2");
    for (i, p) in ports.iter().enumerate() {
        let nn = format!("nn{}", i + 1);
        conf.set(
            &format!("dfs.namenode.rpc-address.stale.{nn}"),
            format!("127.0.0.1:{p}"),
        );
        conf.set(
            &format!("dfs.namenode.http-address.stale.{nn}"),
            "127.0.0.1:0",
        );
    }
    conf.set("dfs.namenode.http-address", "127.0.0.1:0");
    conf.set("dfs.ha.namenode.id", id);
    conf.set("dfs.namenode.shared.edits.dir", uri);
    conf.set("dfs.ha.fencing.methods", "shell(true)");
    conf.set(
        "dfs.namenode.name.dir",
        format!("file://{}/{id}", dir.display()),
    );
    // Tailing settings are left at their defaults: the lag test is about them.
    if stale {
        conf.set("dfs.ha.allow.stale.reads", "true");
    }
    NameNodeConfig::from_conf(&conf).unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if name == "in_use.lock" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

impl Pair {
    /// Three JournalNodes, nn1 formatted and copied to nn2, both started (Standby),
    /// then nn1 made Active.
    async fn start(name: &str, stale: bool) -> Pair {
        let dir = temp_dir(name);
        let mut jns = Vec::new();
        let mut jn_addrs = Vec::new();
        for i in 0..3 {
            let cfg = JournalNodeConfig {
                edits_dir: dir.join(format!("jn{i}")),
                peers: vec![],
                sync_interval: Duration::from_secs(60),
                sync_format: true,
            };
            let s = JournalNodeServer::bind(cfg, "127.0.0.1:0".parse().unwrap())
                .await
                .unwrap();
            jn_addrs.push(s.local_addr().to_string());
            let (stop, rx) = tokio::sync::oneshot::channel::<()>();
            let task = tokio::spawn(s.run(async move {
                let _ = rx.await;
            }));
            jns.push(Stop { stop, task });
        }
        let uri = format!("qjournal://{}/stale", jn_addrs.join(";"));
        let ports = [free_port(), free_port()];
        let c = conf(&dir, &uri, ports, "nn1", stale);
        let info = storage::new_storage_info(Some("CID-stale"));
        storage::format(&c.name_dirs, &info, &c.superuser, "supergroup", false).unwrap();
        storage::format_shared_edits(
            &c.name_dirs,
            c.shared_edits.as_ref().unwrap(),
            &c.qjm,
            false,
        )
        .await
        .unwrap();
        copy_dir(&dir.join("nn1"), &dir.join("nn2"));
        let mut nns = Vec::new();
        let mut addrs = Vec::new();
        let mut fsns = Vec::new();
        for id in ["nn1", "nn2"] {
            let nn = NameNode::start(conf(&dir, &uri, ports, id, stale))
                .await
                .unwrap();
            assert_eq!(nn.fsn.ha_state(), HaState::Standby);
            addrs.push(nn.rpc_addr().to_string());
            fsns.push(nn.fsn.clone());
            let (stop, rx) = tokio::sync::oneshot::channel::<()>();
            let task = tokio::spawn(async move {
                nn.run(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
            });
            nns.push(Stop { stop, task });
        }
        let pair = Pair {
            dir,
            addrs: [addrs[0].clone(), addrs[1].clone()],
            fsns,
            nns,
            jns,
        };
        to_active(&pair.addrs[0]).await;
        pair
    }

    async fn stop(self) {
        for s in self.nns.into_iter().chain(self.jns) {
            s.stop().await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn connect(addr: &str, protocol: &str) -> Connection {
    let mut cfg = ClientConfig::new(hafs_conf::current_user_name());
    cfg.client_id = Bytes::from_static(&[9u8; 16]);
    Connection::connect(addr, protocol, &cfg).await.unwrap()
}

async fn call<Req: Message, Resp: Message + Default>(
    c: &Connection,
    method: &str,
    req: &Req,
    call_id: i32,
) -> Result<Resp, IpcError> {
    let b = c
        .call_raw(
            method,
            Bytes::from(req.encode_to_vec()),
            call_id,
            0,
            Duration::from_secs(30),
        )
        .await?;
    Ok(Resp::decode(b).unwrap())
}

async fn to_active(addr: &str) {
    let c = connect(addr, HA_PROTOCOL).await;
    let _: cpb::TransitionToActiveResponseProto = call(
        &c,
        "transitionToActive",
        &cpb::TransitionToActiveRequestProto {
            req_info: cpb::HaStateChangeRequestInfoProto {
                req_source: cpb::HaRequestSource::RequestByUser as i32,
            },
        },
        1,
    )
    .await
    .unwrap();
}

async fn mkdirs(c: &Connection, src: &str, call_id: i32) -> Result<(), IpcError> {
    let _: pb::MkdirsResponseProto = call(
        c,
        "mkdirs",
        &pb::MkdirsRequestProto {
            src: src.into(),
            masked: pb::FsPermissionProto { perm: 0o755 },
            create_parent: true,
            ..Default::default()
        },
        call_id,
    )
    .await?;
    Ok(())
}

async fn file_info(c: &Connection, src: &str) -> Result<Option<pb::HdfsFileStatusProto>, IpcError> {
    let r: pb::GetFileInfoResponseProto = call(
        c,
        "getFileInfo",
        &pb::GetFileInfoRequestProto { src: src.into() },
        2,
    )
    .await?;
    Ok(r.fs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_refuses_reads_by_default() {
    let pair = Pair::start("default", false).await;
    let active = connect(&pair.addrs[0], PROTOCOL).await;
    let standby = connect(&pair.addrs[1], PROTOCOL).await;
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
    let active = connect(&pair.addrs[0], PROTOCOL).await;
    let standby = connect(&pair.addrs[1], PROTOCOL).await;
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
                pair.fsns[0].namespace_digest().0,
                pair.fsns[1].edit_log.applied_txid()
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    eprintln!("single write -> visible on the Standby: {lags:?}");
    pair.stop().await;
}
