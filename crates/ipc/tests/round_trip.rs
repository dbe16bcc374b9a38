//! A real server and client on loopback.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use common::*;
use hafs_ipc::{exceptions, Connection, IpcError, RpcClient, RpcErrorCode};
use prost::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_calls_in_flight_complete_out_of_order() {
    let service = Arc::new(EchoService::default());
    let server = start(config(), service.clone()).await;
    let conn = Arc::new(
        Connection::connect(&server.addr.to_string(), TEST_PROTOCOL, &client_config())
            .await
            .unwrap(),
    );
    // Call i sleeps longer the earlier it was issued, so a server that answers in
    // order (or one call at a time) would finish them in issue order.
    const N: u64 = 40;
    let finished = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..N {
        let conn = conn.clone();
        let finished = finished.clone();
        tasks.push(tokio::spawn(async move {
            let req = EchoRequestProto {
                text: format!("call {i}"),
                delay_ms: (N - i) * 15,
            };
            let body = conn
                .call_raw(
                    "echo",
                    Bytes::from(req.encode_to_vec()),
                    hafs_ipc::next_call_id(),
                    0,
                    Duration::from_secs(30),
                )
                .await
                .unwrap();
            let resp = EchoResponseProto::decode(body).unwrap();
            assert_eq!(resp.text, format!("call {i}"));
            assert_eq!(resp.user, "alice");
            finished.lock().unwrap().push(i);
        }));
        // Keep issue order deterministic.
        tokio::task::yield_now().await;
    }
    for t in tasks {
        t.await.unwrap();
    }
    let order = finished.lock().unwrap().clone();
    assert_eq!(order.len(), N as usize);
    let pos = |i: u64| order.iter().position(|&x| x == i).unwrap();
    assert!(
        pos(N - 1) < pos(0),
        "the last-issued (fastest) call should finish before the first-issued: {order:?}"
    );
    assert!(
        service
            .max_in_flight
            .load(std::sync::atomic::Ordering::SeqCst)
            > 1,
        "calls on one connection must run concurrently"
    );
    assert!(!conn.is_closed());
    server.stop().await;
}

#[tokio::test]
async fn remote_errors_carry_class_and_code_and_keep_the_connection() {
    let server = start(config(), Arc::new(EchoService::default())).await;
    let client = RpcClient::new(server.addr.to_string(), TEST_PROTOCOL, client_config());
    let req = EchoRequestProto::default();

    let err = client
        .call::<_, EchoResponseProto>("fail", &req)
        .await
        .unwrap_err();
    let remote = err.remote().expect("remote error");
    assert_eq!(remote.class_name, exceptions::FILE_NOT_FOUND);
    assert_eq!(remote.message, "/no/such/file");
    assert_eq!(remote.code, RpcErrorCode::ErrorApplication);

    let err = client
        .call::<_, EchoResponseProto>("nope", &req)
        .await
        .unwrap_err();
    let remote = err.remote().expect("remote error");
    assert_eq!(remote.class_name, exceptions::RPC_NO_SUCH_METHOD);
    assert_eq!(remote.code, RpcErrorCode::ErrorNoSuchMethod);
    assert!(remote.message.contains("nope"));

    // A panicking handler answers ERROR_RPC_SERVER and the server lives on.
    let err = client
        .call::<_, EchoResponseProto>("panic", &req)
        .await
        .unwrap_err();
    assert_eq!(err.remote().unwrap().code, RpcErrorCode::ErrorRpcServer);

    let ok: EchoResponseProto = client
        .call(
            "echo",
            &EchoRequestProto {
                text: "after errors".into(),
                delay_ms: 0,
            },
        )
        .await
        .unwrap();
    assert_eq!(ok.text, "after errors");
    server.stop().await;
}

#[tokio::test]
async fn unknown_protocol_is_error_no_such_protocol() {
    let server = start(config(), Arc::new(EchoService::default())).await;
    let client = RpcClient::new(
        server.addr.to_string(),
        "org.example.NoSuchProtocol",
        client_config(),
    );
    let err = client
        .call::<_, EchoResponseProto>("echo", &EchoRequestProto::default())
        .await
        .unwrap_err();
    let remote = err.remote().expect("remote error");
    assert_eq!(remote.class_name, exceptions::RPC_NO_SUCH_PROTOCOL);
    assert_eq!(remote.code, RpcErrorCode::ErrorNoSuchProtocol);
    assert_healthy(server.addr).await;
    server.stop().await;
}

#[tokio::test]
async fn sasl_negotiate_in_simple_mode_succeeds() {
    let server = start(config(), Arc::new(EchoService::default())).await;
    let mut cfg = client_config();
    cfg.sasl = true;
    cfg.user = "carol".into();
    let client = RpcClient::new(server.addr.to_string(), TEST_PROTOCOL, cfg);
    let resp: EchoResponseProto = client
        .call(
            "echo",
            &EchoRequestProto {
                text: "over sasl".into(),
                delay_ms: 0,
            },
        )
        .await
        .unwrap();
    assert_eq!(resp.text, "over sasl");
    assert_eq!(resp.user, "carol");
    server.stop().await;
}

#[tokio::test]
async fn client_reconnects_after_the_server_restarts() {
    let server = start(config(), Arc::new(EchoService::default())).await;
    let addr = server.addr;
    let client = RpcClient::new(addr.to_string(), TEST_PROTOCOL, client_config());
    let req = EchoRequestProto {
        text: "x".into(),
        delay_ms: 0,
    };
    client
        .call::<_, EchoResponseProto>("echo", &req)
        .await
        .unwrap();
    server.stop().await;

    let err = client
        .call::<_, EchoResponseProto>("echo", &req)
        .await
        .unwrap_err();
    assert!(err.is_connection_failure(), "{err:?}");

    let mut cfg = config();
    cfg.bind = addr;
    let server = start(cfg, Arc::new(EchoService::default())).await;
    let resp: EchoResponseProto = client.call("echo", &req).await.unwrap();
    assert_eq!(resp.text, "x");
    server.stop().await;
}

#[tokio::test]
async fn idle_connections_are_closed_but_busy_ones_are_not() {
    let mut cfg = config();
    cfg.idle_timeout = Duration::from_millis(200);
    let server = start(cfg, Arc::new(EchoService::default())).await;
    let addr = server.addr.to_string();

    // A call that takes longer than the idle timeout still gets its answer.
    let busy = Connection::connect(&addr, TEST_PROTOCOL, &client_config())
        .await
        .unwrap();
    let req = EchoRequestProto {
        text: "slow".into(),
        delay_ms: 700,
    };
    let body = busy
        .call_raw(
            "echo",
            Bytes::from(req.encode_to_vec()),
            hafs_ipc::next_call_id(),
            0,
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!(EchoResponseProto::decode(body).unwrap().text, "slow");

    // Then, with nothing in flight, the server closes it.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(busy.is_closed(), "idle connection should have been closed");
    server.stop().await;
}

#[tokio::test]
async fn connections_beyond_the_limit_are_closed() {
    let mut cfg = config();
    cfg.max_connections = 1;
    let server = start(cfg, Arc::new(EchoService::default())).await;
    let addr = server.addr.to_string();
    let req = EchoRequestProto {
        text: "first".into(),
        delay_ms: 0,
    };
    let first = Connection::connect(&addr, TEST_PROTOCOL, &client_config())
        .await
        .unwrap();
    first
        .call_raw(
            "echo",
            Bytes::from(req.encode_to_vec()),
            1,
            0,
            Duration::from_secs(5),
        )
        .await
        .unwrap();

    // The kernel completes the handshake, then the server closes the socket.
    let second = Connection::connect(&addr, TEST_PROTOCOL, &client_config()).await;
    match second {
        Err(e) => assert!(e.is_connection_failure(), "{e:?}"),
        Ok(c) => {
            let err = c
                .call_raw(
                    "echo",
                    Bytes::from(req.encode_to_vec()),
                    2,
                    0,
                    Duration::from_secs(5),
                )
                .await
                .unwrap_err();
            assert!(matches!(err, IpcError::Connection { .. }), "{err:?}");
        }
    }
    // The first connection is unaffected.
    first
        .call_raw(
            "echo",
            Bytes::from(req.encode_to_vec()),
            3,
            0,
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn call_timeout_is_reported() {
    let server = start(config(), Arc::new(EchoService::default())).await;
    let conn = Connection::connect(&server.addr.to_string(), TEST_PROTOCOL, &client_config())
        .await
        .unwrap();
    let req = EchoRequestProto {
        text: "slow".into(),
        delay_ms: 2_000,
    };
    let err = conn
        .call_raw(
            "echo",
            Bytes::from(req.encode_to_vec()),
            hafs_ipc::next_call_id(),
            0,
            Duration::from_millis(100),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, IpcError::Timeout { .. }), "{err:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_connection_limit_bounds_concurrency_without_losing_calls() {
    let service = Arc::new(EchoService::default());
    let mut cfg = config();
    cfg.max_calls_in_flight_per_connection = 2;
    let server = start(cfg, service.clone()).await;
    let conn = Arc::new(
        Connection::connect(&server.addr.to_string(), TEST_PROTOCOL, &client_config())
            .await
            .unwrap(),
    );
    let mut tasks = Vec::new();
    for i in 0..12u64 {
        let conn = conn.clone();
        tasks.push(tokio::spawn(async move {
            let req = EchoRequestProto {
                text: format!("{i}"),
                delay_ms: 20,
            };
            let body = conn
                .call_raw(
                    "echo",
                    Bytes::from(req.encode_to_vec()),
                    hafs_ipc::next_call_id(),
                    0,
                    Duration::from_secs(30),
                )
                .await
                .unwrap();
            assert_eq!(
                EchoResponseProto::decode(body).unwrap().text,
                format!("{i}")
            );
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let max = service
        .max_in_flight
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(max <= 2, "at most 2 calls may run at once, saw {max}");
    server.stop().await;
}

/// The server's state id as an [`hafs_ipc::AlignmentContext`] that tests move on.
#[derive(Debug)]
struct MovingState(std::sync::atomic::AtomicI64);

impl hafs_ipc::AlignmentContext for MovingState {
    fn last_seen_state_id(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Answers `state` with the request's state id as text; `fail` with an error.
struct StateService;

#[async_trait::async_trait]
impl hafs_ipc::RpcService for StateService {
    fn protocol_name(&self) -> &'static str {
        TEST_PROTOCOL
    }

    async fn call(
        &self,
        ctx: &hafs_ipc::CallContext,
        method: &str,
        _request: Bytes,
    ) -> Result<Bytes, hafs_ipc::RpcError> {
        match method {
            "state" => Ok(hafs_ipc::encode_response(&EchoResponseProto {
                text: format!("{:?}", ctx.state_id),
                user: ctx.user.clone(),
            })),
            _ => Err(hafs_ipc::RpcError::file_not_found("/no/such/file")),
        }
    }
}

/// The alignment hook: the request's stateId reaches the handler, and every response
/// (an error too) carries the server's, which the client keeps as its maximum.
#[tokio::test]
async fn state_ids_travel_both_ways() {
    let server_state = Arc::new(MovingState(std::sync::atomic::AtomicI64::new(42)));
    let mut cfg = config();
    cfg.alignment = Some(server_state.clone());
    let server = start(cfg, Arc::new(StateService)).await;

    // A client without an alignment context sends no state id.
    let plain = RpcClient::new(server.addr.to_string(), TEST_PROTOCOL, client_config());
    let r: EchoResponseProto = plain
        .call("state", &EchoRequestProto::default())
        .await
        .unwrap();
    assert_eq!(r.text, "None");

    let seen = Arc::new(std::sync::atomic::AtomicI64::new(7));
    let client_cfg = hafs_ipc::ClientConfig {
        state_id: Some(seen.clone()),
        ..client_config()
    };
    let client = RpcClient::new(server.addr.to_string(), TEST_PROTOCOL, client_cfg);
    let r: EchoResponseProto = client
        .call("state", &EchoRequestProto::default())
        .await
        .unwrap();
    assert_eq!(r.text, "Some(7)");
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 42);

    server_state
        .0
        .store(50, std::sync::atomic::Ordering::SeqCst);
    let err = client
        .call::<_, EchoResponseProto>("fail", &EchoRequestProto::default())
        .await
        .unwrap_err();
    assert!(err.remote().is_some(), "{err}");
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 50);
    // Never lowered by an older answer.
    server_state
        .0
        .store(45, std::sync::atomic::Ordering::SeqCst);
    let r: EchoResponseProto = client
        .call("state", &EchoRequestProto::default())
        .await
        .unwrap();
    assert_eq!(r.text, "Some(50)");
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 50);
    server.stop().await;
}

#[tokio::test]
async fn a_client_learns_at_once_that_its_server_went_away() {
    let server = start(config(), Arc::new(EchoService::default())).await;
    let client = RpcClient::new(server.addr.to_string(), TEST_PROTOCOL, client_config());
    let wait = |d| tokio::time::timeout(Duration::from_millis(d), client.connection_closed());
    assert!(
        wait(100).await.is_err(),
        "no connection yet: nothing closes"
    );
    let _: EchoResponseProto = client
        .call("echo", &EchoRequestProto::default())
        .await
        .unwrap();
    assert!(wait(300).await.is_err(), "open while the server serves it");
    server.stop().await;
    wait(5_000)
        .await
        .expect("the closed connection is noticed without a call");
}
