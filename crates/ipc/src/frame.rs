//! The IPC frame codec: the connection header ("hrpc" preamble), length-prefixed
//! frames, and varint-delimited protobuf messages inside them.
//!
//! Everything here is either a pure function over bytes or a bounded read; no length
//! read from the network is trusted before it is checked against what is available.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use hafs_proto::common::{
    rpc_response_header_proto::RpcStatusProto, RequestHeaderProto, RpcRequestHeaderProto,
    RpcResponseHeaderProto,
};
use prost::Message;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::RPC_VERSION;

/// "hrpc", the first four bytes of every IPC connection.
pub const MAGIC: &[u8; 4] = b"hrpc";
/// Length of the connection header: magic, version, service class, auth protocol.
pub const PREAMBLE_LEN: usize = 7;
/// What a browser pointed at an IPC port sends first.
pub const HTTP_GET: &[u8; 4] = b"GET ";

/// The auth protocol byte of the connection header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthProtocol {
    /// 0: no SASL; the connection context names the user (SIMPLE auth).
    None,
    /// -33: a SASL exchange (call id -33) precedes the connection context.
    Sasl,
}

impl AuthProtocol {
    pub fn wire_byte(self) -> u8 {
        match self {
            AuthProtocol::None => 0,
            AuthProtocol::Sasl => (-33i8) as u8,
        }
    }

    pub fn from_wire(b: u8) -> Option<Self> {
        match b as i8 {
            0 => Some(AuthProtocol::None),
            -33 => Some(AuthProtocol::Sasl),
            _ => None,
        }
    }
}

/// What the first seven bytes of a connection turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preamble {
    /// "hrpc" followed by version, service class and auth protocol byte (unchecked).
    Rpc {
        version: u8,
        service_class: u8,
        auth_byte: u8,
    },
    /// Someone made an HTTP request to the IPC port.
    HttpGet,
    /// Neither: not an IPC client.
    BadMagic([u8; 4]),
}

pub fn parse_preamble(b: &[u8; PREAMBLE_LEN]) -> Preamble {
    if &b[0..4] == MAGIC {
        Preamble::Rpc {
            version: b[4],
            service_class: b[5],
            auth_byte: b[6],
        }
    } else if &b[0..4] == HTTP_GET {
        Preamble::HttpGet
    } else {
        Preamble::BadMagic([b[0], b[1], b[2], b[3]])
    }
}

pub fn encode_preamble(auth: AuthProtocol) -> [u8; PREAMBLE_LEN] {
    [
        MAGIC[0],
        MAGIC[1],
        MAGIC[2],
        MAGIC[3],
        RPC_VERSION,
        0,
        auth.wire_byte(),
    ]
}

/// Malformed frame content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("error decoding {what}: {detail}")]
    Decode { what: &'static str, detail: String },
    #[error("{what} claims {len} bytes but only {available} remain in the frame")]
    Truncated {
        what: &'static str,
        len: u64,
        available: usize,
    },
}

/// Reading a frame off a stream failed.
#[derive(Debug, thiserror::Error)]
pub enum FrameReadError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The 4-byte length is negative or larger than the configured maximum.
    #[error("RPC data length {len} is out of range (maximum {max})")]
    BadLength { len: i64, max: usize },
    /// The stream ended inside a frame.
    #[error("connection closed after {got} of {expected} bytes of a frame")]
    Truncated { expected: usize, got: usize },
}

/// Builds one frame: a 4-byte big-endian length, then varint-delimited parts.
pub struct FrameBuilder {
    buf: BytesMut,
}

impl Default for FrameBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameBuilder {
    pub fn new() -> Self {
        let mut buf = BytesMut::with_capacity(128);
        buf.put_u32(0); // patched in finish()
        FrameBuilder { buf }
    }

    /// Appends a message, varint-length-delimited.
    pub fn message<M: Message>(mut self, m: &M) -> Self {
        // Writing into a BytesMut grows it as needed, so encoding cannot fail.
        let _ = m.encode_length_delimited(&mut self.buf);
        self
    }

    /// Appends already-encoded message bytes, varint-length-delimited.
    pub fn delimited_bytes(mut self, b: &[u8]) -> Self {
        prost::encoding::encode_varint(b.len() as u64, &mut self.buf);
        self.buf.extend_from_slice(b);
        self
    }

    pub fn finish(mut self) -> Bytes {
        let len = (self.buf.len() - 4) as u32;
        self.buf[0..4].copy_from_slice(&len.to_be_bytes());
        self.buf.freeze()
    }
}

/// A protobuf call frame: header, `RequestHeaderProto`, encoded request message.
pub fn request_frame(
    header: &RpcRequestHeaderProto,
    request_header: &RequestHeaderProto,
    request: &[u8],
) -> Bytes {
    FrameBuilder::new()
        .message(header)
        .message(request_header)
        .delimited_bytes(request)
        .finish()
}

/// An out-of-band frame (connection context, SASL, ping): header then one message.
pub fn out_of_band_frame<M: Message>(header: &RpcRequestHeaderProto, msg: Option<&M>) -> Bytes {
    let b = FrameBuilder::new().message(header);
    match msg {
        Some(m) => b.message(m).finish(),
        None => b.finish(),
    }
}

/// A response frame: header, then the encoded response message on success.
pub fn response_frame(header: &RpcResponseHeaderProto, response: Option<&[u8]>) -> Bytes {
    let b = FrameBuilder::new().message(header);
    match response {
        Some(r) => b.delimited_bytes(r).finish(),
        None => b.finish(),
    }
}

/// Splits one varint-delimited message off the front of `buf`, without decoding it.
pub fn take_delimited(buf: &mut Bytes, what: &'static str) -> Result<Bytes, FrameError> {
    let len = prost::encoding::decode_varint(buf).map_err(|e| FrameError::Decode {
        what,
        detail: e.to_string(),
    })?;
    if len > buf.remaining() as u64 {
        return Err(FrameError::Truncated {
            what,
            len,
            available: buf.remaining(),
        });
    }
    Ok(buf.split_to(len as usize))
}

/// Decodes one varint-delimited message off the front of `buf`.
pub fn decode_delimited<M: Message + Default>(
    buf: &mut Bytes,
    what: &'static str,
) -> Result<M, FrameError> {
    let body = take_delimited(buf, what)?;
    M::decode(body).map_err(|e| FrameError::Decode {
        what,
        detail: e.to_string(),
    })
}

/// Splits a request frame into its `RpcRequestHeaderProto` and the bytes after it.
pub fn parse_request_header(
    mut frame: Bytes,
) -> Result<(RpcRequestHeaderProto, Bytes), FrameError> {
    let header = decode_delimited(&mut frame, "RpcRequestHeaderProto")?;
    Ok((header, frame))
}

/// Splits what follows the header of a protobuf call into its `RequestHeaderProto` and
/// the encoded request message.
pub fn parse_call(mut rest: Bytes) -> Result<(RequestHeaderProto, Bytes), FrameError> {
    let header = decode_delimited(&mut rest, "RequestHeaderProto")?;
    let request = take_delimited(&mut rest, "request message")?;
    Ok((header, request))
}

/// Splits a response frame into its header and, on SUCCESS, the encoded response message
/// (empty otherwise).
pub fn parse_response(mut frame: Bytes) -> Result<(RpcResponseHeaderProto, Bytes), FrameError> {
    let header: RpcResponseHeaderProto = decode_delimited(&mut frame, "RpcResponseHeaderProto")?;
    if header.status == RpcStatusProto::Success as i32 && frame.has_remaining() {
        let body = take_delimited(&mut frame, "response message")?;
        Ok((header, body))
    } else {
        Ok((header, Bytes::new()))
    }
}

/// Largest chunk allocated ahead of data actually arriving, so a peer that claims a
/// huge frame and then stalls cannot make us reserve the whole claim.
const READ_CHUNK: usize = 64 * 1024;

/// Reads the 4-byte length of the next frame. `Ok(None)` on a clean end of stream.
pub async fn read_frame_length<R: AsyncRead + Unpin>(
    r: &mut R,
    max: usize,
) -> Result<Option<usize>, FrameReadError> {
    let mut len_buf = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        let n = r.read(&mut len_buf[got..]).await?;
        if n == 0 {
            if got == 0 {
                return Ok(None);
            }
            return Err(FrameReadError::Truncated { expected: 4, got });
        }
        got += n;
    }
    let len = i32::from_be_bytes(len_buf);
    if len < 0 || len as usize > max {
        return Err(FrameReadError::BadLength {
            len: len as i64,
            max,
        });
    }
    Ok(Some(len as usize))
}

/// Reads exactly `len` bytes of frame body, growing the buffer as data arrives.
pub async fn read_frame_body<R: AsyncRead + Unpin>(
    r: &mut R,
    len: usize,
) -> Result<Bytes, FrameReadError> {
    let mut buf = BytesMut::with_capacity(len.min(READ_CHUNK));
    while buf.len() < len {
        if buf.capacity() == buf.len() {
            buf.reserve((len - buf.len()).min(READ_CHUNK));
        }
        let want = len - buf.len();
        let n = (&mut *r).take(want as u64).read_buf(&mut buf).await?;
        if n == 0 {
            return Err(FrameReadError::Truncated {
                expected: len,
                got: buf.len(),
            });
        }
    }
    Ok(buf.freeze())
}

/// Reads one whole frame (without its length prefix). `Ok(None)` on a clean end of
/// stream between frames.
pub async fn read_frame<R: AsyncRead + Unpin>(
    r: &mut R,
    max: usize,
) -> Result<Option<Bytes>, FrameReadError> {
    match read_frame_length(r, max).await? {
        None => Ok(None),
        Some(len) => read_frame_body(r, len).await.map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hafs_proto::common::{IpcConnectionContextProto, RpcKindProto, UserInformationProto};

    use hafs_util::XorShift64;

    /// Up to `max` pseudo-random bytes (the length drawn too).
    fn some_bytes(rng: &mut XorShift64, max: usize) -> Vec<u8> {
        let n = rng.below(max as u64 + 1) as usize;
        rng.bytes(n)
    }

    fn header(call_id: i32, retry: i32, client_id: &[u8]) -> RpcRequestHeaderProto {
        RpcRequestHeaderProto {
            rpc_kind: Some(RpcKindProto::RpcProtocolBuffer as i32),
            rpc_op: Some(0),
            call_id,
            client_id: Bytes::copy_from_slice(client_id),
            retry_count: Some(retry),
            ..Default::default()
        }
    }

    #[test]
    fn preamble_round_trip_and_classification() {
        let p = encode_preamble(AuthProtocol::Sasl);
        assert_eq!(&p, b"hrpc\x09\x00\xdf");
        assert_eq!(
            parse_preamble(&p),
            Preamble::Rpc {
                version: 9,
                service_class: 0,
                auth_byte: 0xdf
            }
        );
        assert_eq!(AuthProtocol::from_wire(0xdf), Some(AuthProtocol::Sasl));
        assert_eq!(AuthProtocol::from_wire(0), Some(AuthProtocol::None));
        assert_eq!(AuthProtocol::from_wire(5), None);
        assert_eq!(parse_preamble(b"GET / H"), Preamble::HttpGet);
        assert_eq!(parse_preamble(b"xyzw123"), Preamble::BadMagic(*b"xyzw"));
    }

    #[test]
    fn request_frame_round_trips_randomized() {
        let mut rng = XorShift64::new(0x9E37_79B9_7F4A_7C15);
        for _ in 0..500 {
            let call_id = rng.next_u64() as i32;
            let retry = (rng.next_u64() % 20) as i32 - 1;
            let client_id = some_bytes(&mut rng, 16);
            let method = String::from_utf8_lossy(&some_bytes(&mut rng, 30)).into_owned();
            let body = some_bytes(&mut rng, 3000);
            let h = header(call_id, retry, &client_id);
            let rh = RequestHeaderProto {
                method_name: method.clone(),
                declaring_class_protocol_name: "org.example.Proto".into(),
                client_protocol_version: 1,
            };
            let frame = request_frame(&h, &rh, &body);
            let len = u32::from_be_bytes(frame[0..4].try_into().unwrap()) as usize;
            assert_eq!(len, frame.len() - 4);
            let (h2, rest) = parse_request_header(frame.slice(4..)).unwrap();
            assert_eq!(h2, h);
            let (rh2, body2) = parse_call(rest).unwrap();
            assert_eq!(rh2, rh);
            assert_eq!(&body2[..], &body[..]);
        }
    }

    #[test]
    fn out_of_band_frame_round_trips() {
        let ctx = IpcConnectionContextProto {
            user_info: Some(UserInformationProto {
                effective_user: Some("alice".into()),
                real_user: None,
            }),
            protocol: Some("p".into()),
        };
        let frame = out_of_band_frame(&header(-3, -1, &[]), Some(&ctx));
        let (h, mut rest) = parse_request_header(frame.slice(4..)).unwrap();
        assert_eq!(h.call_id, -3);
        let ctx2: IpcConnectionContextProto =
            decode_delimited(&mut rest, "IpcConnectionContextProto").unwrap();
        assert_eq!(ctx2, ctx);
        assert!(rest.is_empty());
    }

    #[test]
    fn response_frame_round_trips_with_and_without_body() {
        let mut h = RpcResponseHeaderProto {
            call_id: (-33i32) as u32,
            status: RpcStatusProto::Success as i32,
            server_ipc_version_num: Some(9),
            client_id: Some(Bytes::from_static(b"0123456789abcdef")),
            retry_count: Some(2),
            ..Default::default()
        };
        let frame = response_frame(&h, Some(b"payload"));
        let (h2, body) = parse_response(frame.slice(4..)).unwrap();
        assert_eq!(h2, h);
        assert_eq!(h2.call_id as i32, -33);
        assert_eq!(&body[..], b"payload");

        h.status = RpcStatusProto::Error as i32;
        h.exception_class_name = Some("java.io.IOException".into());
        h.error_msg = Some("boom".into());
        let frame = response_frame(&h, None);
        let (h3, body) = parse_response(frame.slice(4..)).unwrap();
        assert_eq!(h3, h);
        assert!(body.is_empty());
    }

    #[test]
    fn truncated_and_garbage_frames_are_errors_not_panics() {
        let h = header(7, 0, b"id");
        let rh = RequestHeaderProto {
            method_name: "m".into(),
            declaring_class_protocol_name: "p".into(),
            client_protocol_version: 1,
        };
        let frame = request_frame(&h, &rh, b"hello world");
        let body = frame.slice(4..);
        // Every strict prefix must fail cleanly somewhere.
        for cut in 0..body.len() {
            let prefix = body.slice(..cut);
            let parsed = parse_request_header(prefix).and_then(|(_, rest)| parse_call(rest));
            assert!(parsed.is_err(), "prefix of {cut} bytes parsed");
        }
        // Random garbage: no panic, whatever the outcome.
        let mut rng = XorShift64::new(42);
        for _ in 0..2000 {
            let g = Bytes::from(some_bytes(&mut rng, 64));
            let _ = parse_request_header(g.clone()).and_then(|(_, rest)| parse_call(rest));
            let _ = parse_response(g);
        }
        // A varint that claims more than is there.
        let mut b = Bytes::from_static(&[0xff, 0xff, 0x03, 1, 2]);
        assert!(matches!(
            take_delimited(&mut b, "x"),
            Err(FrameError::Truncated { .. })
        ));
    }

    #[tokio::test]
    async fn read_frame_checks_length_and_truncation() {
        let frame = response_frame(&RpcResponseHeaderProto::default(), Some(b"abc"));
        let mut two = frame.to_vec();
        two.extend_from_slice(&frame);
        let mut r = &two[..];
        assert_eq!(
            read_frame(&mut r, 1024).await.unwrap().unwrap(),
            frame.slice(4..)
        );
        assert_eq!(
            read_frame(&mut r, 1024).await.unwrap().unwrap(),
            frame.slice(4..)
        );
        assert!(read_frame(&mut r, 1024).await.unwrap().is_none());

        let mut r = &frame[..frame.len() - 1];
        assert!(matches!(
            read_frame(&mut r, 1024).await,
            Err(FrameReadError::Truncated { .. })
        ));
        let mut r = &frame[..2];
        assert!(matches!(
            read_frame(&mut r, 1024).await,
            Err(FrameReadError::Truncated {
                expected: 4,
                got: 2
            })
        ));
        let mut r: &[u8] = &[0, 0, 4, 1, 0];
        assert!(matches!(
            read_frame(&mut r, 1024).await,
            Err(FrameReadError::BadLength {
                len: 1025,
                max: 1024
            })
        ));
        let mut r: &[u8] = &[0xff, 0xff, 0xff, 0xff];
        assert!(matches!(
            read_frame(&mut r, 1024).await,
            Err(FrameReadError::BadLength { len: -1, .. })
        ));
    }
}
