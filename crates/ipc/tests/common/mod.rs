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

// Raw-socket helpers for tests that speak the wire by hand.

pub fn header(call_id: i32) -> hafs_proto::common::RpcRequestHeaderProto {
    hafs_proto::common::RpcRequestHeaderProto {
        rpc_kind: Some(hafs_proto::common::RpcKindProto::RpcProtocolBuffer as i32),
        rpc_op: Some(0),
        call_id,
        client_id: Bytes::from_static(b"0123456789abcdef"),
        retry_count: Some(0),
        ..Default::default()
    }
}

pub fn context_frame() -> Bytes {
    let ctx = hafs_proto::common::IpcConnectionContextProto {
        user_info: Some(hafs_proto::common::UserInformationProto {
            effective_user: Some("raw".into()),
            real_user: None,
        }),
        protocol: Some(TEST_PROTOCOL.into()),
    };
    hafs_ipc::frame::out_of_band_frame(&header(-3), Some(&ctx))
}

pub async fn read_response(
    s: &mut tokio::net::TcpStream,
) -> (hafs_proto::common::RpcResponseHeaderProto, Bytes) {
    let f = tokio::time::timeout(
        Duration::from_secs(5),
        hafs_ipc::frame::read_frame(s, 1 << 20),
    )
    .await
    .expect("response in time")
    .expect("readable frame")
    .expect("a frame, not end of stream");
    hafs_ipc::frame::parse_response(f).expect("parsable response")
}

/// Asserts the server closes the connection (end of stream, or a reset).
pub async fn assert_closed(s: &mut tokio::net::TcpStream) {
    let mut buf = [0u8; 64];
    let r = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::io::AsyncReadExt::read(s, &mut buf),
    )
    .await
    .expect("server should close the connection");
    match r {
        Ok(0) | Err(_) => {}
        Ok(n) => panic!("expected close, got {n} more bytes"),
    }
}
