//! SASL WRAP framing: once a mechanism negotiated integrity or privacy, every frame in
//! both directions is sealed by the mechanism and carried inside an outer frame
//!
//! ```text
//! u32 length | RpcRequestHeaderProto or RpcResponseHeaderProto {call id -33}
//!            | RpcSaslProto {state WRAP, token = wrap(inner frames)}
//! ```
//!
//! The sealed bytes are ordinary frames with their own 4-byte lengths, but a sender may
//! cut them anywhere: the Java client seals whatever its buffered stream flushes, so one
//! WRAP can hold half a frame or three. The receiver therefore unwraps into a byte stream
//! ([`Unwrapped`]) and reads frames from that. A sender seals in the order the bytes go on
//! the wire (DIGEST-MD5 numbers its messages), which is why the frame writer applies the
//! seal under its queue lock.

use bytes::{Buf, Bytes, BytesMut};
use hafs_proto::common::{
    rpc_request_header_proto::OperationProto, rpc_response_header_proto::RpcStatusProto,
    rpc_sasl_proto::SaslState, RpcKindProto, RpcRequestHeaderProto, RpcResponseHeaderProto,
    RpcSaslProto,
};
use hafs_security::sasl::{SaslClientSession, SaslError, SaslServerSession};
use prost::Message;

use crate::frame::{self, FrameReadError};
use crate::{INVALID_RETRY_COUNT, RPC_VERSION, SASL_CALL_ID};

/// The per-message protection of an established session, from either side.
pub trait SaslLayer: Send {
    fn wrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError>;
    fn unwrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError>;
}

impl SaslLayer for Box<dyn SaslServerSession> {
    fn wrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError> {
        (**self).wrap(data)
    }
    fn unwrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError> {
        (**self).unwrap(data)
    }
}

impl SaslLayer for Box<dyn SaslClientSession> {
    fn wrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError> {
        (**self).wrap(data)
    }
    fn unwrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError> {
        (**self).unwrap(data)
    }
}

fn wrap_message(token: Vec<u8>) -> RpcSaslProto {
    RpcSaslProto {
        state: SaslState::Wrap as i32,
        token: Some(token.into()),
        ..Default::default()
    }
}

/// A client's outer frame carrying sealed bytes (Hadoop's `WrappedOutputStream`).
pub fn wrapped_request_frame(token: Vec<u8>) -> Bytes {
    let header = RpcRequestHeaderProto {
        rpc_kind: Some(RpcKindProto::RpcProtocolBuffer as i32),
        rpc_op: Some(OperationProto::RpcFinalPacket as i32),
        call_id: SASL_CALL_ID,
        client_id: Bytes::new(),
        retry_count: Some(INVALID_RETRY_COUNT),
        ..Default::default()
    };
    frame::out_of_band_frame(&header, Some(&wrap_message(token)))
}

/// A server's outer frame carrying sealed bytes (Hadoop's `wrapWithSasl`).
pub fn wrapped_response_frame(token: Vec<u8>) -> Bytes {
    let header = RpcResponseHeaderProto {
        call_id: SASL_CALL_ID as u32,
        status: RpcStatusProto::Success as i32,
        server_ipc_version_num: Some(RPC_VERSION as u32),
        ..Default::default()
    };
    frame::response_frame(&header, Some(&wrap_message(token).encode_to_vec()))
}

fn wrap_token(msg: RpcSaslProto) -> Result<Bytes, String> {
    if msg.state != SaslState::Wrap as i32 {
        return Err(format!(
            "expected a SASL WRAP message after negotiation, got state {}",
            msg.state
        ));
    }
    msg.token
        .ok_or_else(|| "SASL WRAP message without a token".to_string())
}

/// The sealed bytes of a client's outer frame. Anything but a SASL WRAP is refused: once
/// protection is negotiated, a plain frame is an attempt to bypass it.
pub fn token_of_wrapped_request(frame: Bytes) -> Result<Bytes, String> {
    let (header, mut rest) = frame::parse_request_header(frame).map_err(|e| e.to_string())?;
    if header.call_id != SASL_CALL_ID {
        return Err(format!(
            "call id {} sent unwrapped on a connection that negotiated SASL protection",
            header.call_id
        ));
    }
    let msg: RpcSaslProto =
        frame::decode_delimited(&mut rest, "RpcSaslProto").map_err(|e| e.to_string())?;
    wrap_token(msg)
}

/// The sealed bytes of a server's outer frame.
pub fn token_of_wrapped_response(frame: Bytes) -> Result<Bytes, String> {
    let (header, body) = frame::parse_response(frame).map_err(|e| e.to_string())?;
    if header.call_id as i32 != SASL_CALL_ID || header.status != RpcStatusProto::Success as i32 {
        return Err(format!(
            "response for call id {} arrived unwrapped on a connection that negotiated SASL protection",
            header.call_id as i32
        ));
    }
    let msg = RpcSaslProto::decode(body).map_err(|e| e.to_string())?;
    wrap_token(msg)
}

/// Unsealed bytes waiting to be cut into frames.
#[derive(Debug, Default)]
pub struct Unwrapped {
    plain: BytesMut,
}

impl Unwrapped {
    /// Appends the unsealed content of one WRAP message.
    pub fn push(&mut self, plain: &[u8]) {
        self.plain.extend_from_slice(plain);
    }

    /// True when no partial frame is pending.
    pub fn is_empty(&self) -> bool {
        self.plain.is_empty()
    }

    /// The next whole frame (without its length), if the bytes so far hold one. A length
    /// over `max` is refused as soon as its 4 bytes are here, so a peer cannot make us
    /// buffer more than one frame and one message.
    pub fn next_frame(&mut self, max: usize) -> Result<Option<Bytes>, FrameReadError> {
        if self.plain.len() < 4 {
            return Ok(None);
        }
        let len = i32::from_be_bytes([self.plain[0], self.plain[1], self.plain[2], self.plain[3]]);
        if len < 0 || len as usize > max {
            return Err(FrameReadError::BadLength {
                len: len as i64,
                max,
            });
        }
        let len = len as usize;
        if self.plain.len() < 4 + len {
            return Ok(None);
        }
        self.plain.advance(4);
        Ok(Some(self.plain.split_to(len).freeze()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hafs_util::XorShift64;

    fn frame_of(n: usize, fill: u8) -> Vec<u8> {
        let mut f = (n as u32).to_be_bytes().to_vec();
        f.extend(std::iter::repeat_n(fill, n));
        f
    }

    #[test]
    fn frames_cut_anywhere_come_out_whole_and_in_order() {
        let mut stream = Vec::new();
        let sizes = [0usize, 1, 7, 300, 5, 70_000];
        for (i, n) in sizes.iter().enumerate() {
            stream.extend(frame_of(*n, i as u8));
        }
        let mut rng = XorShift64::new(0x5a51_0001);
        for round in 0..200 {
            let mut u = Unwrapped::default();
            let mut out = Vec::new();
            let mut at = 0;
            while at < stream.len() {
                // Split at every byte in round 0, then at random cuts (merges too).
                let step = if round == 0 {
                    1
                } else {
                    1 + (rng.next_u64() % 9000) as usize
                };
                let end = (at + step).min(stream.len());
                u.push(&stream[at..end]);
                at = end;
                while let Some(f) = u.next_frame(1 << 20).unwrap() {
                    out.push(f);
                }
            }
            assert!(u.is_empty());
            assert_eq!(out.len(), sizes.len());
            for (i, (f, n)) in out.iter().zip(sizes).enumerate() {
                assert_eq!(f.len(), n);
                assert!(f.iter().all(|b| *b == i as u8));
            }
        }
    }

    #[test]
    fn an_oversized_inner_length_is_refused_before_its_body() {
        let mut u = Unwrapped::default();
        u.push(&(1_000_000u32).to_be_bytes());
        assert!(matches!(
            u.next_frame(1000),
            Err(FrameReadError::BadLength { len: 1_000_000, .. })
        ));
        let mut u = Unwrapped::default();
        u.push(&(-5i32).to_be_bytes());
        assert!(u.next_frame(1000).is_err());
    }

    #[test]
    fn plain_frames_are_refused_where_wraps_are_required() {
        let header = RpcRequestHeaderProto {
            rpc_kind: Some(RpcKindProto::RpcProtocolBuffer as i32),
            rpc_op: Some(OperationProto::RpcFinalPacket as i32),
            call_id: 7,
            client_id: Bytes::new(),
            retry_count: Some(0),
            ..Default::default()
        };
        let plain = frame::out_of_band_frame::<RpcSaslProto>(&header, None);
        let err = token_of_wrapped_request(plain.slice(4..)).unwrap_err();
        assert!(err.contains("unwrapped"), "{err}");
        let wrapped = wrapped_request_frame(b"sealed".to_vec());
        assert_eq!(
            token_of_wrapped_request(wrapped.slice(4..)).unwrap(),
            Bytes::from_static(b"sealed")
        );
        let resp = wrapped_response_frame(b"sealed2".to_vec());
        assert_eq!(
            token_of_wrapped_response(resp.slice(4..)).unwrap(),
            Bytes::from_static(b"sealed2")
        );
    }
}
