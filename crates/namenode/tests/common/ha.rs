//! Two NameNodes of one HA nameservice in this process on three in-process
//! JournalNodes, and the HAServiceProtocol calls that make one of them Active.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hafs_conf::Configuration;
use hafs_namenode::namesystem::Namesystem;
use hafs_namenode::{storage, NameNode, NameNodeConfig};
use hafs_proto::common as cpb;
use hafs_proto::hdfs as pb;
use hafs_testkit::{qjournal_uri, start_journal_nodes, TestJournalNode};

use super::{call, connect_to, spawn, Running, CLUSTER_ID};

pub const HA_PROTOCOL: &str = "org.apache.hadoop.ha.HAServiceProtocol";

/// Loopback ports below the ephemeral range, never handed out twice (one allocator for
/// every harness: a `bind(0)` port can be taken by an outgoing connection before the
/// daemon binds it).
pub use hafs_cluster::free_port;

/// Nameservice `nameservice` with NameNodes nn1 and nn2 on fixed free ports, name dirs
/// `<dir>/nn1` and `<dir>/nn2`, and the shared edits on the cluster's JournalNodes.
pub struct HaCluster {
    pub dir: PathBuf,
    pub uri: String,
    pub ports: [u16; 2],
    nameservice: String,
    /// Extra configuration every NameNode gets.
    settings: Vec<(String, String)>,
    jns: Vec<TestJournalNode>,
}

impl HaCluster {
    /// Starts the JournalNodes; the NameNodes are formatted by `format` and started
    /// by `start`.
    pub async fn new(dir: &Path, nameservice: &str, settings: &[(&str, &str)]) -> HaCluster {
        let jns = start_journal_nodes(dir, 3).await;
        let uri = qjournal_uri(&jns, nameservice);
        HaCluster {
            dir: dir.to_path_buf(),
            uri,
            ports: [free_port(), free_port()],
            nameservice: nameservice.to_string(),
            settings: settings
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            jns,
        }
    }

    pub fn conf(&self, id: &str) -> NameNodeConfig {
        let ns = &self.nameservice;
        let mut conf = Configuration::new();
        conf.set("fs.defaultFS", format!("hdfs://{ns}"));
        conf.set("dfs.nameservices", ns);
        conf.set(&format!("dfs.ha.namenodes.{ns}"), "nn1,nn2");
        for (i, p) in self.ports.iter().enumerate() {
            let nn = format!("nn{}", i + 1);
            conf.set(
                &format!("dfs.namenode.rpc-address.{ns}.{nn}"),
                format!("127.0.0.1:{p}"),
            );
            conf.set(
                &format!("dfs.namenode.http-address.{ns}.{nn}"),
                "127.0.0.1:0",
            );
        }
        conf.set("dfs.namenode.http-address", "127.0.0.1:0");
        conf.set("dfs.ha.namenode.id", id);
        conf.set("dfs.namenode.shared.edits.dir", &self.uri);
        conf.set("dfs.ha.fencing.methods", "shell(true)");
        conf.set(
            "dfs.namenode.name.dir",
            format!("file://{}/{id}", self.dir.display()),
        );
        for (k, v) in &self.settings {
            conf.set(k, v);
        }
        NameNodeConfig::from_conf(&conf).unwrap()
    }

    /// Formats nn1 and the JournalNodes, then gives nn2 a copy of nn1's name dir
    /// (what -bootstrapStandby does), so both start from the same image.
    pub async fn format(&self) {
        let c = self.conf("nn1");
        let info = storage::new_storage_info(Some(CLUSTER_ID));
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

    /// Starts NameNode `id` (it comes up Standby).
    pub async fn start(&self, id: &str) -> Running {
        spawn(NameNode::start(self.conf(id)).await.unwrap())
    }

    /// Stops the JournalNodes and removes the cluster's dir (stop the NameNodes first).
    pub async fn shutdown(self) {
        for mut j in self.jns {
            j.stop().await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
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

async fn ha_connection(addr: &str) -> hafs_ipc::Connection {
    connect_to(addr, HA_PROTOCOL, &Bytes::from_static(&[1u8; 16])).await
}

fn req_info(src: cpb::HaRequestSource) -> cpb::HaStateChangeRequestInfoProto {
    cpb::HaStateChangeRequestInfoProto {
        req_source: src as i32,
    }
}

pub async fn to_active(addr: &str) {
    let c = ha_connection(addr).await;
    let _: cpb::TransitionToActiveResponseProto = call(
        &c,
        "transitionToActive",
        &cpb::TransitionToActiveRequestProto {
            req_info: req_info(cpb::HaRequestSource::RequestByUser),
        },
        1,
        0,
    )
    .await
    .unwrap();
}

pub async fn to_standby(addr: &str) {
    let c = ha_connection(addr).await;
    let _: cpb::TransitionToStandbyResponseProto = call(
        &c,
        "transitionToStandby",
        &cpb::TransitionToStandbyRequestProto {
            req_info: req_info(cpb::HaRequestSource::RequestByUser),
        },
        1,
        0,
    )
    .await
    .unwrap();
}

/// The NameNode's HA state, asserting it says it is ready to become Active.
pub async fn service_state(addr: &str) -> cpb::HaServiceStateProto {
    let c = ha_connection(addr).await;
    let r: cpb::GetServiceStatusResponseProto = call(
        &c,
        "getServiceStatus",
        &cpb::GetServiceStatusRequestProto {},
        1,
        0,
    )
    .await
    .unwrap();
    assert_eq!(r.ready_to_become_active, Some(true));
    cpb::HaServiceStateProto::try_from(r.state).unwrap()
}

pub fn mkdirs_req(src: &str) -> pb::MkdirsRequestProto {
    pb::MkdirsRequestProto {
        src: src.into(),
        masked: pb::FsPermissionProto { perm: 0o755 },
        create_parent: true,
        ..Default::default()
    }
}

/// A create by client `DFSClient_hatest` with replication `replication`.
pub fn create_req(src: &str, replication: u32) -> pb::CreateRequestProto {
    pb::CreateRequestProto {
        src: src.into(),
        masked: pb::FsPermissionProto { perm: 0o644 },
        client_name: "DFSClient_hatest".into(),
        create_flag: 0x01,
        create_parent: true,
        replication,
        block_size: 134_217_728,
        ..Default::default()
    }
}

/// Waits until the Standby has applied everything the Active wrote, then checks
/// their namespaces are equal; returns how long the Standby took to catch up.
pub async fn assert_standby_equal(active: &Namesystem, standby: &Namesystem) -> Duration {
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
