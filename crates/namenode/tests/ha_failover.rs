//! Two NameNodes of one HA nameservice in this process, on three in-process
//! JournalNodes, driven over real IPC: both start Standby; HAServiceProtocol makes one
//! Active; a Standby refuses client calls with StandbyException; the Standby's
//! namespace equals the Active's at the same txid (tailing, with its lag measured);
//! transitions repeat both ways under writes and are idempotent; a retried
//! at-most-once call gets its original answer from the new Active; a file open across
//! a failover is completed on the new Active.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hafs_conf::Configuration;
use hafs_ipc::{ClientConfig, Connection, IpcError};
use hafs_journal::journalnode::{JournalNodeConfig, JournalNodeServer};
use hafs_namenode::client_protocol::PROTOCOL;
use hafs_namenode::namesystem::{HaState, Namesystem};
use hafs_namenode::{storage, NameNode, NameNodeConfig};
use hafs_proto::common as cpb;
use hafs_proto::hdfs as pb;
use prost::Message;

const HA_PROTOCOL: &str = "org.apache.hadoop.ha.HAServiceProtocol";

struct Jn {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

struct Nn {
    addr: String,
    fsn: Arc<Namesystem>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hafs-ha-{name}-{}", std::process::id()));
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

async fn start_jns(dir: &Path) -> (Vec<Jn>, String) {
    let mut jns = Vec::new();
    let mut addrs = Vec::new();
    for i in 0..3 {
        let cfg = JournalNodeConfig {
            edits_dir: dir.join(format!("jn{i}")),
            peers: vec![],
            sync_interval: Duration::from_millis(500),
            sync_format: true,
        };
        let s = JournalNodeServer::bind(cfg, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        addrs.push(s.local_addr().to_string());
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(s.run(async move {
            let _ = rx.await;
        }));
        jns.push(Jn { stop, task });
    }
    (jns, format!("qjournal://{}/hatest", addrs.join(";")))
}

struct Cluster {
    dir: PathBuf,
    uri: String,
    ports: [u16; 2],
}

impl Cluster {
    fn conf(&self, id: &str) -> NameNodeConfig {
        let mut conf = Configuration::new();
        conf.set("fs.defaultFS", "hdfs://hans");
        conf.set("dfs.nameservices", "hans");
        conf.set("dfs.ha.namenodes.hans", "nn1,nn2");
        for (i, p) in self.ports.iter().enumerate() {
            let nn = format!("nn{}", i + 1);
            conf.set(
                &format!("dfs.namenode.rpc-address.hans.{nn}"),
                format!("127.0.0.1:{p}"),
            );
            conf.set(
                &format!("dfs.namenode.http-address.hans.{nn}"),
                "127.0.0.1:0",
            );
        }
        conf.set("dfs.namenode.http-address", "127.0.0.1:0");
        conf.set("dfs.ha.namenode.id", id);
        conf.set("dfs.namenode.shared.edits.dir", &self.uri);
        conf.set("dfs.ha.tail-edits.period", "20ms");
        conf.set("dfs.ha.fencing.methods", "shell(true)");
        conf.set(
            "dfs.namenode.name.dir",
            format!("file://{}/{id}", self.dir.display()),
        );
        NameNodeConfig::from_conf(&conf).unwrap()
    }

    /// Formats nn1 and the JournalNodes, then gives nn2 a copy of nn1's name dir
    /// (what -bootstrapStandby does), so both start from the same image.
    async fn format(&self) {
        let c = self.conf("nn1");
        let info = storage::new_storage_info(Some("CID-ha"));
        storage::format(&c.name_dirs, &info, &c.superuser, "supergroup", false).unwrap();
        storage::format_shared_edits(
            &c.name_dirs,
            c.shared_edits.as_ref().unwrap(),
            &c.qjm,
            false,
        )
        .await
        .unwrap();
        copy_dir(&self.dir.join("nn1"), &self.dir.join("nn2"));
    }

    async fn start(&self, id: &str) -> Nn {
        let nn = NameNode::start(self.conf(id)).await.unwrap();
        let addr = nn.rpc_addr().to_string();
        let fsn = nn.fsn.clone();
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            nn.run(async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Nn {
            addr,
            fsn,
            stop,
            task,
        }
    }
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

async fn stop(nn: Nn) {
    let _ = nn.stop.send(());
    nn.task.await.unwrap();
}

async fn connect(addr: &str, protocol: &str, client_id: &Bytes) -> Connection {
    let mut cfg = ClientConfig::new(hafs_conf::current_user_name());
    cfg.client_id = client_id.clone();
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

fn req_info(src: cpb::HaRequestSource) -> cpb::HaStateChangeRequestInfoProto {
    cpb::HaStateChangeRequestInfoProto {
        req_source: src as i32,
    }
}

async fn to_active(addr: &str) {
    let c = connect(addr, HA_PROTOCOL, &Bytes::from_static(&[1u8; 16])).await;
    let _: cpb::TransitionToActiveResponseProto = call(
        &c,
        "transitionToActive",
        &cpb::TransitionToActiveRequestProto {
            req_info: req_info(cpb::HaRequestSource::RequestByUser),
        },
        1,
    )
    .await
    .unwrap();
}

async fn to_standby(addr: &str) {
    let c = connect(addr, HA_PROTOCOL, &Bytes::from_static(&[1u8; 16])).await;
    let _: cpb::TransitionToStandbyResponseProto = call(
        &c,
        "transitionToStandby",
        &cpb::TransitionToStandbyRequestProto {
            req_info: req_info(cpb::HaRequestSource::RequestByUser),
        },
        1,
    )
    .await
    .unwrap();
}

async fn service_state(addr: &str) -> cpb::HaServiceStateProto {
    let c = connect(addr, HA_PROTOCOL, &Bytes::from_static(&[1u8; 16])).await;
    let r: cpb::GetServiceStatusResponseProto = call(
        &c,
        "getServiceStatus",
        &cpb::GetServiceStatusRequestProto {},
        1,
    )
    .await
    .unwrap();
    assert_eq!(r.ready_to_become_active, Some(true));
    cpb::HaServiceStateProto::try_from(r.state).unwrap()
}

fn mkdirs_req(src: &str) -> pb::MkdirsRequestProto {
    pb::MkdirsRequestProto {
        src: src.into(),
        masked: pb::FsPermissionProto { perm: 0o755 },
        create_parent: true,
        ..Default::default()
    }
}

fn create_req(src: &str) -> pb::CreateRequestProto {
    pb::CreateRequestProto {
        src: src.into(),
        masked: pb::FsPermissionProto { perm: 0o644 },
        client_name: "DFSClient_hatest".into(),
        create_flag: 0x01,
        create_parent: true,
        replication: 1,
        block_size: 134_217_728,
        ..Default::default()
    }
}

/// Waits until the Standby has applied everything the Active wrote, then checks
/// their namespaces are equal; returns how long the Standby took to catch up.
async fn assert_standby_equal(active: &Namesystem, standby: &Namesystem) -> Duration {
    let (txid, digest) = active.namespace_digest();
    let t0 = Instant::now();
    loop {
        let (s_txid, s_digest) = standby.namespace_digest();
        if s_txid == txid {
            assert_eq!(s_digest, digest, "namespaces differ at txid {txid}");
            return t0.elapsed();
        }
        assert!(s_txid < txid, "Standby ahead: {s_txid} > {txid}");
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "Standby stuck at txid {s_txid}, Active at {txid}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standby_tails_refuses_clients_and_failovers_keep_answers() {
    let dir = temp_dir("failover");
    let (jns, uri) = start_jns(&dir).await;
    let cluster = Cluster {
        dir: dir.clone(),
        uri,
        ports: [free_port(), free_port()],
    };
    cluster.format().await;
    let nn1 = cluster.start("nn1").await;
    let nn2 = cluster.start("nn2").await;
    assert_eq!(nn1.fsn.ha_state(), HaState::Standby);
    assert_eq!(nn2.fsn.ha_state(), HaState::Standby);

    // Idempotent: twice Active is one transition.
    to_active(&nn1.addr).await;
    to_active(&nn1.addr).await;
    assert_eq!(
        service_state(&nn1.addr).await,
        cpb::HaServiceStateProto::Active
    );
    assert_eq!(
        service_state(&nn2.addr).await,
        cpb::HaServiceStateProto::Standby
    );

    let client_id = Bytes::from_static(&[7u8; 16]);
    let c1 = connect(&nn1.addr, PROTOCOL, &client_id).await;
    let c2 = connect(&nn2.addr, PROTOCOL, &client_id).await;

    // The Standby refuses reads and writes with StandbyException.
    for (method, req) in [
        ("mkdirs", mkdirs_req("/x").encode_to_vec()),
        (
            "getFileInfo",
            pb::GetFileInfoRequestProto { src: "/".into() }.encode_to_vec(),
        ),
    ] {
        let e = c2
            .call_raw(method, Bytes::from(req), 5, 0, Duration::from_secs(10))
            .await
            .unwrap_err();
        assert!(e.is_standby(), "{method} on a Standby: {e:?}");
    }

    // Writes on the Active; the Standby follows to the same namespace.
    let mut lags = Vec::new();
    let mut call_id = 100;
    for i in 0..60 {
        let _: pb::MkdirsResponseProto = call(
            &c1,
            "mkdirs",
            &mkdirs_req(&format!("/d{}/e{i}", i % 7)),
            call_id,
        )
        .await
        .unwrap();
        call_id += 1;
        if i % 3 == 0 {
            let _: pb::CreateResponseProto = call(
                &c1,
                "create",
                &create_req(&format!("/d{}/f{i}", i % 5)),
                call_id,
            )
            .await
            .unwrap();
            call_id += 1;
        }
        if i % 10 == 9 {
            lags.push(assert_standby_equal(&nn1.fsn, &nn2.fsn).await);
        }
    }
    lags.sort();
    eprintln!(
        "standby catch-up after a write burst: p50 {:?}, max {:?}",
        lags[lags.len() / 2],
        lags[lags.len() - 1]
    );

    // An at-most-once call on the old Active, then a failover.
    let original: pb::CreateResponseProto = call(&c1, "create", &create_req("/retry/f"), 9000)
        .await
        .unwrap();
    assert_standby_equal(&nn1.fsn, &nn2.fsn).await;
    to_standby(&nn1.addr).await;
    to_standby(&nn1.addr).await;
    to_active(&nn2.addr).await;
    assert_eq!(
        service_state(&nn1.addr).await,
        cpb::HaServiceStateProto::Standby
    );
    assert_eq!(
        service_state(&nn2.addr).await,
        cpb::HaServiceStateProto::Active
    );

    // The same (clientId, callId) retried on the new Active: the original answer.
    let retried: pb::CreateResponseProto = call(&c2, "create", &create_req("/retry/f"), 9000)
        .await
        .unwrap();
    assert_eq!(
        retried.fs.as_ref().map(|s| s.file_id),
        original.fs.as_ref().map(|s| s.file_id)
    );
    assert_eq!(retried, original);
    // A new call id is a new call: the file exists (and is being written).
    let again = c2
        .call_raw(
            "create",
            Bytes::from(create_req("/retry/f").encode_to_vec()),
            9001,
            0,
            Duration::from_secs(10),
        )
        .await
        .unwrap_err();
    assert!(!again.is_standby(), "{again:?}");

    // The file open across the failover completes on the new Active.
    let _: pb::RenewLeaseResponseProto = call(
        &c2,
        "renewLease",
        &pb::RenewLeaseRequestProto {
            client_name: "DFSClient_hatest".into(),
            ..Default::default()
        },
        9002,
    )
    .await
    .unwrap();
    let done: pb::CompleteResponseProto = call(
        &c2,
        "complete",
        &pb::CompleteRequestProto {
            src: "/retry/f".into(),
            client_name: "DFSClient_hatest".into(),
            last: None,
            file_id: original.fs.as_ref().and_then(|s| s.file_id),
        },
        9003,
    )
    .await
    .unwrap();
    assert!(done.result);

    // Back and forth under writes: each new Active continues from the other's edits,
    // and the Standby stays equal.
    let nns = [nn1, nn2];
    let mut active = 1usize;
    for round in 0..4 {
        let a = &nns[active];
        let c = connect(&a.addr, PROTOCOL, &client_id).await;
        for i in 0..10 {
            let _: pb::MkdirsResponseProto = call(
                &c,
                "mkdirs",
                &mkdirs_req(&format!("/round{round}/d{i}")),
                20_000 + round * 100 + i,
            )
            .await
            .unwrap();
        }
        let other = 1 - active;
        assert_standby_equal(&nns[active].fsn, &nns[other].fsn).await;
        to_standby(&nns[active].addr).await;
        to_active(&nns[other].addr).await;
        active = other;
        let c = connect(&nns[active].addr, PROTOCOL, &client_id).await;
        let st: pb::GetFileInfoResponseProto = call(
            &c,
            "getFileInfo",
            &pb::GetFileInfoRequestProto {
                src: format!("/round{round}/d9"),
            },
            30_000 + round,
        )
        .await
        .unwrap();
        assert!(
            st.fs.is_some(),
            "round {round}: the new Active lacks the old one's edits"
        );
    }
    let [a, b] = nns;
    stop(a).await;
    stop(b).await;
    for j in jns {
        let _ = j.stop.send(());
        let _ = j.task.await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}
