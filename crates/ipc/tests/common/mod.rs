//! Shared test fixtures: a test protocol with echo/slow/fail/panic methods, a
//! Standby-only service, and helpers to start servers and talk raw bytes to them.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hafs_ipc::{
    decode_request, encode_response, CallContext, RpcError, RpcService, Server, ServerConfig,
};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const TEST_PROTOCOL: &str = "org.hafs.test.EchoProtocol";

#[derive(Clone, PartialEq, prost::Message)]
pub struct EchoRequestProto {
    #[prost(string, tag = "1")]
    pub text: String,
    #[prost(uint64, tag = "2")]
    pub delay_ms: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct EchoResponseProto {
    #[prost(string, tag = "1")]
    pub text: String,
    #[prost(string, tag = "2")]
    pub user: String,
}

/// (call id, retry count, method) of every call a service saw.
pub type Seen = Arc<Mutex<Vec<(i32, i32, String)>>>;

#[derive(Default)]
pub struct EchoService {
    pub seen: Seen,
    in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
}

#[async_trait::async_trait]
impl RpcService for EchoService {
    fn protocol_name(&self) -> &'static str {
        TEST_PROTOCOL
    }

    async fn call(
        &self,
        ctx: &CallContext,
        method: &str,
        request: Bytes,
    ) -> Result<Bytes, RpcError> {
        self.seen
            .lock()
            .unwrap()
            .push((ctx.call_id, ctx.retry_count, method.to_string()));
        match method {
            "echo" => {
                let req: EchoRequestProto = decode_request(&request)?;
                let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                self.max_in_flight.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(req.delay_ms)).await;
                self.in_flight.fetch_sub(1, Ordering::SeqCst);
                Ok(encode_response(&EchoResponseProto {
                    text: req.text,
                    user: ctx.user.clone(),
                }))
            }
            "fail" => Err(RpcError::file_not_found("/no/such/file")),
            "panic" => panic!("handler bug"),
            _ => Err(RpcError::no_such_method(TEST_PROTOCOL, method)),
        }
    }
}

/// Answers every call with StandbyException, as a Standby NameNode does.
#[derive(Default)]
pub struct StandbyService {
    pub seen: Seen,
}

#[async_trait::async_trait]
impl RpcService for StandbyService {
    fn protocol_name(&self) -> &'static str {
        TEST_PROTOCOL
    }

    async fn call(&self, ctx: &CallContext, method: &str, _: Bytes) -> Result<Bytes, RpcError> {
        self.seen
            .lock()
            .unwrap()
            .push((ctx.call_id, ctx.retry_count, method.to_string()));
        Err(RpcError::standby(
            "Operation category READ is not supported in state standby",
        ))
    }
}

pub struct Running {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<()>,
}

impl Running {
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub fn config() -> ServerConfig {
    ServerConfig::new("127.0.0.1:0".parse().unwrap())
}

pub async fn start(cfg: ServerConfig, service: Arc<dyn RpcService>) -> Running {
    let server = Server::bind(cfg, vec![service]).await.expect("bind");
    let addr = server.local_addr();
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    Running {
        addr,
        stop: Some(tx),
        task,
    }
}

pub fn client_config() -> hafs_ipc::ClientConfig {
    let mut c = hafs_ipc::ClientConfig::new("alice");
    c.call_timeout = Duration::from_secs(10);
    c.connect_timeout = Duration::from_secs(5);
    c
}

/// A fresh connection makes a successful echo call: the server is still healthy.
pub async fn assert_healthy(addr: SocketAddr) {
    let client = hafs_ipc::RpcClient::new(addr.to_string(), TEST_PROTOCOL, client_config());
    let resp: EchoResponseProto = client
        .call(
            "echo",
            &EchoRequestProto {
                text: "still alive".into(),
                delay_ms: 0,
            },
        )
        .await
        .expect("server should still answer a good connection");
    assert_eq!(resp.text, "still alive");
    assert_eq!(resp.user, "alice");
}
