//! Frames larger than a socket's send buffer: writes that cannot finish at once are
//! completed in the background without mixing frames — on the server (a
//! client that reads its responses late) and on the client (many large requests from
//! concurrent calls on one connection).

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use hafs_ipc::frame::{self, encode_preamble, out_of_band_frame, request_frame, AuthProtocol};
use hafs_ipc::Connection;
use hafs_proto::common::{
    rpc_response_header_proto::RpcStatusProto, IpcConnectionContextProto, RequestHeaderProto,
    RpcKindProto, RpcRequestHeaderProto, UserInformationProto,
};
use prost::Message;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// A text of `len` bytes that differs between calls.
fn text(i: usize, len: usize) -> String {
    let c = (b'a' + (i % 26) as u8) as char;
    let mut s = format!("{i}:");
    s.extend(std::iter::repeat_n(c, len - s.len()));
    s
}

fn header(call_id: i32) -> RpcRequestHeaderProto {
    RpcRequestHeaderProto {
        rpc_kind: Some(RpcKindProto::RpcProtocolBuffer as i32),
        rpc_op: Some(0),
        call_id,
        client_id: Bytes::from_static(b"0123456789abcdef"),
        retry_count: Some(0),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_responses_to_a_late_reader_arrive_whole() {
    let mut cfg = config();
    cfg.max_data_length = 4 << 20;
    let server = start(cfg, Arc::new(EchoService::default())).await;

    let mut s = TcpStream::connect(server.addr).await.unwrap();
    s.write_all(&encode_preamble(AuthProtocol::None))
        .await
        .unwrap();
    let ctx = IpcConnectionContextProto {
        user_info: Some(UserInformationProto {
            effective_user: Some("raw".into()),
            real_user: None,
        }),
        protocol: Some(TEST_PROTOCOL.into()),
    };
    s.write_all(&out_of_band_frame(&header(-3), Some(&ctx)))
        .await
        .unwrap();
    // 32 responses of 256 KiB: far more than loopback socket buffers hold.
    const N: usize = 32;
    const LEN: usize = 256 * 1024;
    for i in 0..N {
        let rh = RequestHeaderProto {
            method_name: "echo".into(),
            declaring_class_protocol_name: TEST_PROTOCOL.into(),
            client_protocol_version: 1,
        };
        let req = EchoRequestProto {
            text: text(i, LEN),
            delay_ms: 0,
        };
        s.write_all(&request_frame(&header(i as i32), &rh, &req.encode_to_vec()))
            .await
            .unwrap();
    }
    // Read nothing for a while: the server's writes must wait, not fail or spin.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut seen = [false; N];
    for _ in 0..N {
        let f = tokio::time::timeout(Duration::from_secs(10), frame::read_frame(&mut s, 8 << 20))
            .await
            .expect("response in time")
            .expect("readable frame")
            .expect("a frame");
        let (h, body) = frame::parse_response(f).expect("parsable response");
        assert_eq!(h.status, RpcStatusProto::Success as i32, "{h:?}");
        let id = h.call_id as usize;
        assert!(id < N && !seen[id], "unexpected or repeated call id {id}");
        seen[id] = true;
        let resp = EchoResponseProto::decode(body).unwrap();
        assert_eq!(resp.text, text(id, LEN), "response {id} is damaged");
    }
    assert_healthy(server.addr).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_large_requests_on_one_connection_are_not_interleaved() {
    let mut cfg = config();
    cfg.max_data_length = 4 << 20;
    let server = start(cfg, Arc::new(EchoService::default())).await;
    let conn = Arc::new(
        Connection::connect(&server.addr.to_string(), TEST_PROTOCOL, &client_config())
            .await
            .unwrap(),
    );
    let mut tasks = Vec::new();
    for i in 0..24 {
        let conn = conn.clone();
        tasks.push(tokio::spawn(async move {
            // Sizes vary so that partial writes end at different places.
            let req = EchoRequestProto {
                text: text(i, 100_000 + i * 37_017),
                delay_ms: 0,
            };
            let body = conn
                .call_raw(
                    "echo",
                    Bytes::from(req.encode_to_vec()),
                    hafs_ipc::next_call_id(),
                    0,
                    Duration::from_secs(20),
                )
                .await
                .unwrap();
            let resp = EchoResponseProto::decode(body).unwrap();
            assert_eq!(resp.text, req.text, "call {i} got a damaged echo");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert!(!conn.is_closed());
    server.stop().await;
}
