//! Test support for the ZooKeeper election tests: a real standalone ZooKeeper server
//! (Debian's `zookeeper` package, run with Java) on a free loopback port, and fake
//! NameNodes serving HAServiceProtocol in-process.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use hafs_ha::{HaServiceState, HA_SERVICE_PROTOCOL, HEALTH_CHECK_FAILED_EXCEPTION};
use hafs_ipc::{encode_response, CallContext, RpcError, RpcService, Server, ServerConfig};
use hafs_proto::common as pb;

const ZK_JAR: &str = "/usr/share/java/zookeeper.jar";
const ZK_CONF_DIR: &str = "/etc/zookeeper/conf";

/// A standalone ZooKeeper server; killed when dropped.
pub struct ZkServer {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl ZkServer {
    /// Starts a server with its own data dir; panics (loudly) when ZooKeeper or Java is
    /// missing: run `bash scripts/test-deps.sh`.
    pub fn start(tick_ms: u32) -> ZkServer {
        assert!(
            std::path::Path::new(ZK_JAR).exists(),
            "ZooKeeper is not installed ({ZK_JAR} missing): run `bash scripts/test-deps.sh` \
             (Debian package `zookeeper`)"
        );
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("hafs-zk-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data")).expect("zk data dir");
        let cfg = format!(
            "tickTime={tick_ms}\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
             admin.enableServer=false\nminSessionTimeout={}\nmaxSessionTimeout=60000\n\
             4lw.commands.whitelist=srvr,ruok\n",
            dir.join("data").display(),
            2 * tick_ms
        );
        std::fs::write(dir.join("zoo.cfg"), cfg).expect("zoo.cfg");
        let mut s = ZkServer {
            port,
            dir,
            child: None,
        };
        s.spawn();
        s
    }

    pub fn connect_string(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) {
        let log = std::fs::File::create(self.dir.join("zookeeper.log")).expect("zk log");
        let child = Command::new("java")
            .arg("-cp")
            .arg(format!("{ZK_CONF_DIR}:{ZK_JAR}"))
            .arg("-Dzookeeper.root.logger=INFO,CONSOLE")
            .arg("-Xmx256m")
            .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
            .arg(self.dir.join("zoo.cfg"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("cannot run java: is a JRE installed? (scripts/test-deps.sh)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.answers() {
                return;
            }
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    panic!(
                        "ZooKeeper exited at startup ({status}); log: {}",
                        std::fs::read_to_string(self.dir.join("zookeeper.log")).unwrap_or_default()
                    );
                }
            }
            assert!(
                Instant::now() < deadline,
                "ZooKeeper did not start within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `srvr` answered: the server is serving.
    fn answers(&self) -> bool {
        use std::io::{Read, Write};
        let addr: SocketAddr = ([127, 0, 0, 1], self.port).into();
        let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
        if s.write_all(b"srvr").is_err() {
            return false;
        }
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out.contains("Mode: standalone")
    }

    /// kill -9: ZooKeeper is gone (sessions survive in its data dir).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts again on the same port and data dir.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for ZkServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What a fake NameNode was asked, and its state.
#[derive(Debug)]
pub struct FakeState {
    pub state: HaServiceState,
    pub healthy: bool,
    /// Refuse transitionToStandby (a hung Active that cannot step down gracefully).
    pub refuse_standby: bool,
    pub transitions: Vec<HaServiceState>,
}

/// An in-process HAServiceProtocol server standing in for a NameNode.
pub struct FakeNameNode {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<FakeState>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

struct FakeService(Arc<Mutex<FakeState>>);

#[async_trait]
impl RpcService for FakeService {
    fn protocol_name(&self) -> &'static str {
        HA_SERVICE_PROTOCOL
    }

    async fn call(&self, _: &CallContext, method: &str, _: Bytes) -> Result<Bytes, RpcError> {
        let mut st = self.0.lock().unwrap();
        match method {
            "monitorHealth" => {
                if st.healthy {
                    Ok(encode_response(&pb::MonitorHealthResponseProto {}))
                } else {
                    Err(RpcError::new(
                        HEALTH_CHECK_FAILED_EXCEPTION,
                        "fake: unhealthy",
                    ))
                }
            }
            "getServiceStatus" => Ok(encode_response(&pb::GetServiceStatusResponseProto {
                state: st.state.to_proto() as i32,
                ready_to_become_active: Some(true),
                not_ready_reason: None,
            })),
            "transitionToActive" => {
                st.state = HaServiceState::Active;
                st.transitions.push(HaServiceState::Active);
                Ok(encode_response(&pb::TransitionToActiveResponseProto {}))
            }
            "transitionToStandby" => {
                if st.refuse_standby {
                    return Err(RpcError::new(
                        hafs_ha::SERVICE_FAILED_EXCEPTION,
                        "fake: refusing to step down",
                    ));
                }
                st.state = HaServiceState::Standby;
                st.transitions.push(HaServiceState::Standby);
                Ok(encode_response(&pb::TransitionToStandbyResponseProto {}))
            }
            _ => Err(RpcError::no_such_method(HA_SERVICE_PROTOCOL, method)),
        }
    }
}

impl FakeNameNode {
    pub async fn start() -> FakeNameNode {
        let state = Arc::new(Mutex::new(FakeState {
            state: HaServiceState::Standby,
            healthy: true,
            refuse_standby: false,
            transitions: Vec::new(),
        }));
        let svc: Arc<dyn RpcService> = Arc::new(FakeService(state.clone()));
        let server = Server::bind(ServerConfig::new(([127, 0, 0, 1], 0).into()), vec![svc])
            .await
            .expect("bind fake NameNode");
        let addr = server.local_addr();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));
        FakeNameNode {
            addr,
            state,
            stop: Some(tx),
        }
    }

    pub fn ha_state(&self) -> HaServiceState {
        self.state.lock().unwrap().state
    }

    pub fn set_healthy(&self, healthy: bool) {
        self.state.lock().unwrap().healthy = healthy;
    }
}

impl Drop for FakeNameNode {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Polls `cond` every 50 ms until it holds or `within` passes.
pub async fn wait_until(within: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {within:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
