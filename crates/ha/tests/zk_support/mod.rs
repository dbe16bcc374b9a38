//! Test support for the ZooKeeper election tests: the real standalone ZooKeeper server
//! of `hafs-tests` (Debian's `zookeeper` package, run with Java) and fake NameNodes
//! serving HAServiceProtocol in-process.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use hafs_ha::{HaServiceState, HA_SERVICE_PROTOCOL, HEALTH_CHECK_FAILED_EXCEPTION};
use hafs_ipc::{encode_response, CallContext, RpcError, RpcService, Server, ServerConfig};
use hafs_proto::common as pb;

/// The real standalone ZooKeeper, shared with the process-level tests.
pub use hafs_tests::ZkServer;

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
