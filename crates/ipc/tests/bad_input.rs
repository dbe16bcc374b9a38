//! Bad bytes on raw sockets: each gets the right answer (or close), and a fresh, good
//! connection still works afterwards.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use hafs_ipc::exceptions;
use hafs_ipc::frame::{self, encode_preamble, out_of_band_frame, request_frame, AuthProtocol};
use hafs_proto::common::{
    rpc_response_header_proto::{RpcErrorCodeProto, RpcStatusProto},
    rpc_sasl_proto::SaslState,
    RequestHeaderProto, RpcResponseHeaderProto, RpcSaslProto,
};
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MAX: usize = 4096;

async fn server() -> Running {
    let mut cfg = config();
    cfg.max_data_length = MAX;
    start(cfg, Arc::new(EchoService::default())).await
}

fn echo_frame(call_id: i32, protocol: &str, text: &str) -> Bytes {
    let rh = RequestHeaderProto {
        method_name: "echo".into(),
        declaring_class_protocol_name: protocol.into(),
        client_protocol_version: 1,
    };
    let req = EchoRequestProto {
        text: text.into(),
        delay_ms: 0,
    };
    request_frame(&header(call_id), &rh, &req.encode_to_vec())
}

/// A connection past the connection header and context.
async fn open(addr: std::net::SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&encode_preamble(AuthProtocol::None))
        .await
        .unwrap();
    s.write_all(&context_frame()).await.unwrap();
    s
}

fn assert_fatal(h: &RpcResponseHeaderProto, code: RpcErrorCodeProto) {
    assert_eq!(h.status, RpcStatusProto::Fatal as i32, "{h:?}");
    assert_eq!(h.error_detail, Some(code as i32), "{h:?}");
    assert_eq!(h.server_ipc_version_num, Some(9));
}

#[tokio::test]
async fn truncated_frame_gets_fatal_and_close() {
    let srv = server().await;
    let mut s = open(srv.addr).await;
    s.write_all(&100u32.to_be_bytes()).await.unwrap();
    s.write_all(&[1u8; 10]).await.unwrap();
    s.shutdown().await.unwrap();
    let (h, _) = read_response(&mut s).await;
    assert_fatal(&h, RpcErrorCodeProto::FatalInvalidRpcHeader);
    assert!(h.error_msg().contains("10 of 100"), "{h:?}");
    assert_closed(&mut s).await;
    assert_healthy(srv.addr).await;
}

#[tokio::test]
async fn frame_longer_than_max_gets_fatal_and_close() {
    let srv = server().await;
    let mut s = open(srv.addr).await;
    s.write_all(&((MAX as u32) + 1).to_be_bytes())
        .await
        .unwrap();
    let (h, _) = read_response(&mut s).await;
    assert_fatal(&h, RpcErrorCodeProto::FatalInvalidRpcHeader);
    assert_eq!(h.exception_class_name(), exceptions::IPC);
    assert!(h.error_msg().contains("4097"), "{h:?}");
    assert!(h.error_msg().contains("maximum"), "{h:?}");
    assert_eq!(h.call_id as i32, -1);
    assert_closed(&mut s).await;

    let mut s = open(srv.addr).await;
    s.write_all(&(-5i32).to_be_bytes()).await.unwrap();
    let (h, _) = read_response(&mut s).await;
    assert_fatal(&h, RpcErrorCodeProto::FatalInvalidRpcHeader);
    assert_closed(&mut s).await;
    assert_healthy(srv.addr).await;
}

#[tokio::test]
async fn garbage_preamble_gets_fatal_and_close() {
    let srv = server().await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"\x16\x03\x01\x02\x00\x01\x00garbage")
        .await
        .unwrap();
    let (h, _) = read_response(&mut s).await;
    assert_fatal(&h, RpcErrorCodeProto::FatalInvalidRpcHeader);
    assert!(h.error_msg().contains("hrpc"), "{h:?}");
    assert_closed(&mut s).await;
    assert_healthy(srv.addr).await;
}

#[tokio::test]
async fn http_get_gets_the_hint_and_close() {
    let srv = server().await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n")
        .await
        .unwrap();
    let mut all = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut all))
        .await
        .expect("server should answer and close")
        .unwrap();
    let text = String::from_utf8(all).unwrap();
    assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"), "{text}");
    assert!(
        text.contains("It looks like you are making an HTTP request to a Hadoop IPC port"),
        "{text}"
    );
    assert_healthy(srv.addr).await;
}

#[tokio::test]
async fn wrong_version_gets_version_mismatch_and_close() {
    let srv = server().await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"hrpc\x0a\x00\x00").await.unwrap();
    let (h, _) = read_response(&mut s).await;
    assert_fatal(&h, RpcErrorCodeProto::FatalVersionMismatch);
    assert_eq!(h.exception_class_name(), exceptions::VERSION_MISMATCH);
    assert!(h.error_msg().contains("client version 10"), "{h:?}");
    assert_eq!(h.call_id as i32, -1);
    assert_closed(&mut s).await;
    assert_healthy(srv.addr).await;
}

#[tokio::test]
async fn unknown_auth_protocol_is_unauthorized() {
    let srv = server().await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"hrpc\x09\x00\x51").await.unwrap();
    let (h, _) = read_response(&mut s).await;
    assert_fatal(&h, RpcErrorCodeProto::FatalUnauthorized);
    assert_closed(&mut s).await;
    assert_healthy(srv.addr).await;
}

#[tokio::test]
async fn wrong_protocol_name_is_an_error_and_the_connection_stays_open() {
    let srv = server().await;
    let mut s = open(srv.addr).await;
    s.write_all(&echo_frame(1, "org.example.Wrong", "x"))
        .await
        .unwrap();
    let (h, body) = read_response(&mut s).await;
    assert_eq!(h.status, RpcStatusProto::Error as i32);
    assert_eq!(h.call_id, 1);
    assert_eq!(h.exception_class_name(), exceptions::RPC_NO_SUCH_PROTOCOL);
    assert_eq!(
        h.error_detail,
        Some(RpcErrorCodeProto::ErrorNoSuchProtocol as i32)
    );
    assert_eq!(h.client_id.as_deref(), Some(&b"0123456789abcdef"[..]));
    assert!(body.is_empty());

    s.write_all(&echo_frame(2, TEST_PROTOCOL, "same connection"))
        .await
        .unwrap();
    let (h, body) = read_response(&mut s).await;
    assert_eq!(h.status, RpcStatusProto::Success as i32);
    assert_eq!(h.call_id, 2);
    assert_eq!(h.retry_count, Some(0));
    assert_eq!(
        EchoResponseProto::decode(body).unwrap().text,
        "same connection"
    );
    assert_healthy(srv.addr).await;
}

#[tokio::test]
async fn malformed_header_bytes_get_fatal_and_close() {
    let srv = server().await;
    // A delimited "header" whose content is not a valid protobuf message.
    let mut s = open(srv.addr).await;
    let bad = [0u8, 0, 0, 5, 4, 0xff, 0xff, 0xff, 0xff];
    s.write_all(&bad).await.unwrap();
    let (h, _) = read_response(&mut s).await;
    assert_fatal(&h, RpcErrorCodeProto::FatalDeserializingRequest);
    assert_closed(&mut s).await;

    // A good header followed by an undecodable RequestHeaderProto.
    let mut s = open(srv.addr).await;
    let f = frame::FrameBuilder::new()
        .message(&header(7))
        .delimited_bytes(&[0x0a, 0x50, b'x'])
        .finish();
    s.write_all(&f).await.unwrap();
    let (h, _) = read_response(&mut s).await;
    assert_fatal(&h, RpcErrorCodeProto::FatalDeserializingRequest);
    assert_eq!(h.call_id, 7);
    assert_closed(&mut s).await;

    // A header without rpcOp.
    let mut s = open(srv.addr).await;
    let mut h0 = header(8);
    h0.rpc_op = None;
    s.write_all(&out_of_band_frame::<RpcSaslProto>(&h0, None))
        .await
        .unwrap();
    let (h, _) = read_response(&mut s).await;
    assert_fatal(&h, RpcErrorCodeProto::FatalInvalidRpcHeader);
    assert_closed(&mut s).await;
    assert_healthy(srv.addr).await;
}

#[tokio::test]
async fn call_before_connection_context_is_fatal() {
    let srv = server().await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(&encode_preamble(AuthProtocol::None))
        .await
        .unwrap();
    s.write_all(&echo_frame(1, TEST_PROTOCOL, "x"))
        .await
        .unwrap();
    let (h, _) = read_response(&mut s).await;
    assert_fatal(&h, RpcErrorCodeProto::FatalInvalidRpcHeader);
    assert!(h.error_msg().contains("context"), "{h:?}");
    assert_closed(&mut s).await;
    assert_healthy(srv.addr).await;
}

#[tokio::test]
async fn pings_are_ignored() {
    let srv = server().await;
    let mut s = open(srv.addr).await;
    s.write_all(&out_of_band_frame::<RpcSaslProto>(&header(-4), None))
        .await
        .unwrap();
    s.write_all(&echo_frame(3, TEST_PROTOCOL, "after ping"))
        .await
        .unwrap();
    let (h, body) = read_response(&mut s).await;
    assert_eq!(h.call_id, 3);
    assert_eq!(h.status, RpcStatusProto::Success as i32);
    assert_eq!(EchoResponseProto::decode(body).unwrap().text, "after ping");
}

#[tokio::test]
async fn raw_sasl_negotiate_in_simple_mode() {
    let srv = server().await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(&encode_preamble(AuthProtocol::Sasl))
        .await
        .unwrap();
    let mut h = header(-33);
    h.client_id = Bytes::new();
    h.retry_count = Some(-1);
    let negotiate = RpcSaslProto {
        state: SaslState::Negotiate as i32,
        ..Default::default()
    };
    s.write_all(&out_of_band_frame(&h, Some(&negotiate)))
        .await
        .unwrap();
    let (rh, body) = read_response(&mut s).await;
    // Hadoop's layout: call id -33 as uint32, SUCCESS, version 9, empty client id.
    assert_eq!(rh.call_id, (-33i32) as u32);
    assert_eq!(rh.status, RpcStatusProto::Success as i32);
    assert_eq!(rh.server_ipc_version_num, Some(9));
    assert_eq!(rh.client_id.as_deref(), Some(&b""[..]));
    assert_eq!(rh.retry_count, Some(-1));
    let reply = RpcSaslProto::decode(body).unwrap();
    assert_eq!(reply.state, SaslState::Success as i32);
    assert!(reply.auths.is_empty());

    s.write_all(&context_frame()).await.unwrap();
    s.write_all(&echo_frame(5, TEST_PROTOCOL, "after sasl"))
        .await
        .unwrap();
    let (h, body) = read_response(&mut s).await;
    assert_eq!(h.call_id, 5);
    let resp = EchoResponseProto::decode(body).unwrap();
    assert_eq!(resp.text, "after sasl");
    assert_eq!(resp.user, "raw");
}

#[tokio::test]
async fn context_during_sasl_and_sasl_without_request_are_fatal() {
    let srv = server().await;
    // SASL requested, but the context comes first.
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(&encode_preamble(AuthProtocol::Sasl))
        .await
        .unwrap();
    s.write_all(&context_frame()).await.unwrap();
    let (h, _) = read_response(&mut s).await;
    assert_fatal(&h, RpcErrorCodeProto::FatalInvalidRpcHeader);
    assert_closed(&mut s).await;

    // SASL message on a connection that did not ask for SASL.
    let mut s = open(srv.addr).await;
    let negotiate = RpcSaslProto {
        state: SaslState::Negotiate as i32,
        ..Default::default()
    };
    s.write_all(&out_of_band_frame(&header(-33), Some(&negotiate)))
        .await
        .unwrap();
    let (h, _) = read_response(&mut s).await;
    assert_fatal(&h, RpcErrorCodeProto::FatalInvalidRpcHeader);
    assert_closed(&mut s).await;
    assert_healthy(srv.addr).await;
}
