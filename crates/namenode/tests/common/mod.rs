//! The in-process NameNode harness shared by these integration tests: a NameNode on
//! a loopback port with two name dirs in a temp dir, started, stopped and restarted,
//! and raw IPC calls with chosen call ids (for the retry cache). `ha` adds an HA pair
//! on in-process JournalNodes; `datanode` adds fake DataNodes speaking
//! DatanodeProtocol.

#![allow(dead_code)]

pub mod datanode;
pub mod ha;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hafs_conf::Configuration;
use hafs_ipc::{ClientConfig, Connection, IpcError};
use hafs_namenode::client_protocol::PROTOCOL;
use hafs_namenode::{storage, NameNode, NameNodeConfig};
use prost::Message;

/// The cluster id every NameNode these tests format carries.
pub const CLUSTER_ID: &str = "CID-test";

pub struct Running {
    pub addr: String,
    pub fsn: Arc<hafs_namenode::namesystem::Namesystem>,
    pub bm: Arc<hafs_namenode::blockmanagement::BlockManager>,
    pub stop: tokio::sync::oneshot::Sender<()>,
    pub task: tokio::task::JoinHandle<()>,
}

pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hafs-nn-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn config(dir: &Path) -> NameNodeConfig {
    let mut conf = Configuration::new();
    conf.set("fs.defaultFS", "hdfs://127.0.0.1:0");
    conf.set("dfs.namenode.http-address", "127.0.0.1:0");
    conf.set("dfs.namenode.http-address", "127.0.0.1:0");
    conf.set(
        "dfs.namenode.name.dir",
        format!("file://{}/n1,file://{}/n2", dir.display(), dir.display()),
    );
    NameNodeConfig::from_conf(&conf).unwrap()
}

pub fn format(dir: &Path) {
    let c = config(dir);
    let info = storage::new_storage_info(Some(CLUSTER_ID));
    storage::format(&c.name_dirs, &info, &c.superuser, "supergroup", false).unwrap();
}

pub async fn start(dir: &Path) -> Running {
    // A NameNode stopped a moment ago in this process may still hold its dir locks
    // until its last in-flight calls end (a real restart is a new process).
    let mut tries = 0;
    let nn = loop {
        match NameNode::start(config(dir)).await {
            Ok(nn) => break nn,
            Err(e) if tries < 50 && e.to_string().contains("locked") => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("NameNode start: {e}"),
        }
    };
    spawn(nn)
}

/// Runs a started NameNode on a task until `stop`.
pub fn spawn(nn: NameNode) -> Running {
    let addr = nn.rpc_addr().to_string();
    let fsn = nn.fsn.clone();
    let bm = nn.bm.clone();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        nn.run(async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    Running {
        addr,
        fsn,
        bm,
        stop,
        task,
    }
}

pub async fn stop(r: Running) {
    let _ = r.stop.send(());
    r.task.await.unwrap();
}

/// A ClientProtocol connection.
pub async fn connect(addr: &str, client_id: &Bytes) -> Connection {
    connect_to(addr, PROTOCOL, client_id).await
}

pub async fn connect_to(addr: &str, protocol: &str, client_id: &Bytes) -> Connection {
    let mut cfg = ClientConfig::new(hafs_conf::current_user_name());
    cfg.client_id = client_id.clone();
    Connection::connect(addr, protocol, &cfg).await.unwrap()
}

pub async fn call<Req: Message, Resp: Message + Default>(
    c: &Connection,
    method: &str,
    req: &Req,
    call_id: i32,
    retry: i32,
) -> Result<Resp, IpcError> {
    let b = c
        .call_raw(
            method,
            Bytes::from(req.encode_to_vec()),
            call_id,
            retry,
            Duration::from_secs(30),
        )
        .await?;
    Ok(Resp::decode(b).unwrap())
}
