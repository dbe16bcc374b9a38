//! Hadoop IPC: the connection header and the frames a server reads (and, for the
//! client, the frames it reads back).

use bytes::Bytes;
use hafs_ipc::auth::wrap::{token_of_wrapped_request, token_of_wrapped_response, Unwrapped};
use hafs_ipc::frame::{
    decode_delimited, parse_call, parse_preamble, parse_request_header, parse_response, read_frame,
    PREAMBLE_LEN,
};
use hafs_ipc::{CONNECTION_CONTEXT_CALL_ID, SASL_CALL_ID};
use hafs_proto::common::{IpcConnectionContextProto, RpcSaslProto};

use crate::block_on;

/// `ipc.maximum.data.length`'s default: the largest frame a server accepts.
const MAX_DATA_LENGTH: usize = 128 << 20;
/// Frames looked at per input: enough for a handshake and a few calls.
const MAX_FRAMES: usize = 64;

/// A client's byte stream to a server: the 7-byte connection header, then frames, each
/// taken apart as the server does (request header; connection context, SASL message or
/// call header and request, decoded by the named method's table). The same bytes are also
/// cut into frames as the unsealed content of SASL WRAP messages would be.
pub fn ipc_connection(data: &[u8]) {
    let Some((preamble, mut rest)) = data.split_first_chunk::<PREAMBLE_LEN>() else {
        return;
    };
    let _ = parse_preamble(preamble);
    let mut unwrapped = Unwrapped::default();
    unwrapped.push(rest);
    for _ in 0..MAX_FRAMES {
        match unwrapped.next_frame(MAX_DATA_LENGTH) {
            Ok(Some(frame)) => server_frame(frame),
            _ => break,
        }
    }
    block_on(async {
        for _ in 0..MAX_FRAMES {
            match read_frame(&mut rest, MAX_DATA_LENGTH).await {
                Ok(Some(frame)) => server_frame(frame),
                _ => break,
            }
        }
    });
}

fn server_frame(frame: Bytes) {
    let _ = token_of_wrapped_request(frame.clone());
    let Ok((header, mut rest)) = parse_request_header(frame) else {
        return;
    };
    match header.call_id {
        CONNECTION_CONTEXT_CALL_ID => {
            let _ = decode_delimited::<IpcConnectionContextProto>(&mut rest, "context");
        }
        SASL_CALL_ID => {
            let _ = decode_delimited::<RpcSaslProto>(&mut rest, "RpcSaslProto");
        }
        _ => {
            if let Ok((call, request)) = parse_call(rest) {
                crate::rpc_request::decode_by_name(
                    &call.declaring_class_protocol_name,
                    &call.method_name,
                    &request,
                );
            }
        }
    }
}

/// A server's byte stream to a client: frames, each taken apart as the client does
/// (response header, then the response or the SASL message it carries).
pub fn ipc_response(data: &[u8]) {
    let mut rest = data;
    block_on(async {
        for _ in 0..MAX_FRAMES {
            match read_frame(&mut rest, MAX_DATA_LENGTH).await {
                Ok(Some(frame)) => {
                    let _ = token_of_wrapped_response(frame.clone());
                    if let Ok((header, body)) = parse_response(frame) {
                        if header.call_id as i32 == SASL_CALL_ID {
                            let _ = <RpcSaslProto as prost::Message>::decode(body);
                        }
                    }
                }
                _ => break,
            }
        }
    });
}
