//! Building response frames the way Hadoop's server fills `RpcResponseHeaderProto`.

use bytes::Bytes;
use hafs_proto::common::{rpc_response_header_proto::RpcStatusProto, RpcResponseHeaderProto};

use crate::error::{RpcError, RpcErrorCode};
use crate::frame::response_frame;
use crate::{exceptions, INVALID_CALL_ID, INVALID_RETRY_COUNT, RPC_VERSION};

fn header(
    call_id: i32,
    retry_count: i32,
    client_id: Bytes,
    status: RpcStatusProto,
) -> RpcResponseHeaderProto {
    RpcResponseHeaderProto {
        // uint32 on the wire: negative ids go out as their two's-complement bit pattern,
        // exactly as Java's writeUInt32 does.
        call_id: call_id as u32,
        status: status as i32,
        server_ipc_version_num: Some(RPC_VERSION as u32),
        client_id: Some(client_id),
        retry_count: Some(retry_count),
        ..Default::default()
    }
}

/// A SUCCESS response carrying an encoded message, and the server's state id when
/// the server has an alignment context.
pub(crate) fn success(
    call_id: i32,
    retry_count: i32,
    client_id: Bytes,
    body: &[u8],
    state_id: Option<i64>,
) -> Bytes {
    let mut h = header(call_id, retry_count, client_id, RpcStatusProto::Success);
    h.state_id = state_id;
    response_frame(&h, Some(body))
}

/// An ERROR (or, for fatal codes, FATAL) response.
pub(crate) fn error(
    call_id: i32,
    retry_count: i32,
    client_id: Bytes,
    err: &RpcError,
    state_id: Option<i64>,
) -> Bytes {
    let status = if err.is_fatal() {
        RpcStatusProto::Fatal
    } else {
        RpcStatusProto::Error
    };
    let mut h = header(call_id, retry_count, client_id, status);
    h.exception_class_name = Some(err.class_name.clone());
    h.error_msg = Some(err.message.clone());
    h.error_detail = Some(err.code.to_proto() as i32);
    h.state_id = state_id;
    response_frame(&h, None)
}

/// A FATAL response not tied to a call (bad connection header, bad frame length).
pub(crate) fn connection_fatal(code: RpcErrorCode, class_name: &str, msg: String) -> Bytes {
    let err = RpcError::new(class_name, msg).with_code(code);
    error(
        INVALID_CALL_ID,
        INVALID_RETRY_COUNT,
        Bytes::new(),
        &err,
        None,
    )
}

/// The FATAL_VERSION_MISMATCH response Hadoop sends to a client of another RPC version.
pub(crate) fn version_mismatch(client_version: u8) -> Bytes {
    connection_fatal(
        RpcErrorCode::FatalVersionMismatch,
        exceptions::VERSION_MISMATCH,
        format!("Server IPC version {RPC_VERSION} cannot communicate with client version {client_version}"),
    )
}

/// Plain text for someone who pointed a browser or curl at the IPC port. It opens the
/// way Hadoop's does, so people searching for the message find the explanation.
pub(crate) const HTTP_HINT: &str = "HTTP/1.1 404 Not Found\r\n\
Content-type: text/plain\r\n\
\r\n\
It looks like you are making an HTTP request to a Hadoop IPC port. \
This port speaks Hadoop RPC, not HTTP; use this daemon's web interface port instead.\r\n";
