//! Speaking Hadoop IPC by hand, as an attacker would: the connection header with any
//! auth byte, SASL frames, and reading one response frame. For the penetration tests.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use bytes::Bytes;
use hafs_ipc::frame::{self, out_of_band_frame};
use hafs_proto::common::{
    RpcKindProto, RpcRequestHeaderProto, RpcResponseHeaderProto, RpcSaslProto,
};

/// A request header for `call_id` (-3: connection context, -33: SASL).
pub fn request_header(call_id: i32) -> RpcRequestHeaderProto {
    RpcRequestHeaderProto {
        rpc_kind: Some(RpcKindProto::RpcProtocolBuffer as i32),
        rpc_op: Some(0),
        call_id,
        client_id: Bytes::from_static(b"0123456789abcdef"),
        retry_count: Some(-1),
        ..Default::default()
    }
}

/// A SASL message as a frame (call id -33).
pub fn sasl_frame(msg: &RpcSaslProto) -> Bytes {
    out_of_band_frame(&request_header(-33), Some(msg))
}

/// Connects and sends the 7-byte connection header with `auth_byte` (0: SIMPLE,
/// 0xdf: SASL); reads time out after 10 s.
pub fn connect_raw(addr: SocketAddr, auth_byte: u8) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(&[b'h', b'r', b'p', b'c', 9, 0, auth_byte])
        .unwrap();
    s
}

/// The next response frame's header and body (a frame over 1 MiB fails the test).
pub fn read_response(s: &mut TcpStream) -> (RpcResponseHeaderProto, Bytes) {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).expect("a response");
    let len = u32::from_be_bytes(len) as usize;
    assert!(len < 1 << 20, "response of {len} bytes");
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).unwrap();
    frame::parse_response(Bytes::from(body)).unwrap()
}
