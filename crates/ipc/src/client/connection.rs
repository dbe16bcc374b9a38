//! One client TCP connection: many calls in flight, each call writing its own request
//! frame (through [`FrameWriter`], which batches frames of concurrent calls), and a
//! reader task handing each response to its caller by call id.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hafs_proto::common::{
    rpc_request_header_proto::OperationProto,
    rpc_response_header_proto::RpcStatusProto,
    rpc_sasl_proto::{SaslAuth, SaslState},
    IpcConnectionContextProto, RequestHeaderProto, RpcKindProto, RpcRequestHeaderProto,
    RpcResponseHeaderProto, RpcSaslProto, UserInformationProto,
};
use prost::Message;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use super::config::ClientConfig;
use crate::error::{IpcError, RpcError, RpcErrorCode};
use crate::frame::{self, encode_preamble, out_of_band_frame, request_frame, AuthProtocol};
use crate::writer::FrameWriter;
use crate::{CONNECTION_CONTEXT_CALL_ID, INVALID_RETRY_COUNT, SASL_CALL_ID};

static NEXT_CALL_ID: AtomicI32 = AtomicI32::new(0);

/// A process-wide call id: non-negative, increasing, wrapping. Ids are unique across
/// connections so a retry can carry its id to another server.
pub fn next_call_id() -> i32 {
    NEXT_CALL_ID.fetch_add(1, Ordering::Relaxed) & 0x7fff_ffff
}

type Reply = oneshot::Sender<Result<Bytes, IpcError>>;
/// Calls waiting for a response; `None` once the connection is closed.
type Pending = Arc<Mutex<Option<HashMap<i32, Reply>>>>;

pub struct Connection {
    addr: String,
    protocol: String,
    client_id: Bytes,
    pending: Pending,
    writer: Arc<FrameWriter<()>>,
    reader: JoinHandle<()>,
}

fn closed_error(addr: &str) -> IpcError {
    IpcError::Connection {
        addr: addr.to_string(),
        source: std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "connection closed"),
    }
}

fn io_error(addr: &str, source: std::io::Error) -> IpcError {
    IpcError::Connection {
        addr: addr.to_string(),
        source,
    }
}

fn request_header(call_id: i32, retry_count: i32, client_id: Bytes) -> RpcRequestHeaderProto {
    RpcRequestHeaderProto {
        rpc_kind: Some(RpcKindProto::RpcProtocolBuffer as i32),
        rpc_op: Some(OperationProto::RpcFinalPacket as i32),
        call_id,
        client_id,
        retry_count: Some(retry_count),
        ..Default::default()
    }
}

/// The error a response header carries.
fn remote_error(h: &RpcResponseHeaderProto) -> RpcError {
    let fatal = h.status == RpcStatusProto::Fatal as i32;
    RpcError {
        class_name: h.exception_class_name.clone().unwrap_or_default(),
        message: h.error_msg.clone().unwrap_or_default(),
        code: RpcErrorCode::from_wire(h.error_detail, fatal),
    }
}

impl Connection {
    /// Connects, sends the connection header (and SASL negotiation when configured) and
    /// the connection context for `protocol`.
    pub async fn connect(
        addr: &str,
        protocol: &str,
        cfg: &ClientConfig,
    ) -> Result<Connection, IpcError> {
        let stream = match tokio::time::timeout(cfg.connect_timeout, TcpStream::connect(addr)).await
        {
            Err(_) => {
                return Err(IpcError::Timeout {
                    addr: addr.to_string(),
                    after: cfg.connect_timeout,
                })
            }
            Ok(Err(e)) => return Err(io_error(addr, e)),
            Ok(Ok(s)) => s,
        };
        let _ = stream.set_nodelay(true);
        let (rd, mut wr) = stream.into_split();
        let mut rd = BufReader::new(rd);

        let auth = if cfg.sasl {
            AuthProtocol::Sasl
        } else {
            AuthProtocol::None
        };
        wr.write_all(&encode_preamble(auth))
            .await
            .map_err(|e| io_error(addr, e))?;
        if cfg.sasl {
            let setup = negotiate_sasl(addr, &mut rd, &mut wr, cfg.max_response_length);
            match tokio::time::timeout(cfg.connect_timeout, setup).await {
                Err(_) => {
                    return Err(IpcError::Timeout {
                        addr: addr.to_string(),
                        after: cfg.connect_timeout,
                    })
                }
                Ok(r) => r?,
            }
        }
        let context = IpcConnectionContextProto {
            user_info: Some(UserInformationProto {
                effective_user: Some(cfg.user.clone()),
                real_user: cfg.real_user.clone(),
            }),
            protocol: Some(protocol.to_string()),
        };
        let header = request_header(
            CONNECTION_CONTEXT_CALL_ID,
            INVALID_RETRY_COUNT,
            cfg.client_id.clone(),
        );
        wr.write_all(&out_of_band_frame(&header, Some(&context)))
            .await
            .map_err(|e| io_error(addr, e))?;

        let pending: Pending = Arc::new(Mutex::new(Some(HashMap::new())));
        let on_fail = {
            let pending = pending.clone();
            let addr = addr.to_string();
            Box::new(move |e: &std::io::Error| {
                debug!(%addr, error = %e, "IPC write failed");
                let (kind, msg) = (e.kind(), e.to_string());
                close_all(&pending, || {
                    io_error(&addr, std::io::Error::new(kind, msg.clone()))
                });
            })
        };
        // No stall limit: a call's own deadline bounds how long it waits.
        let writer = FrameWriter::new(wr, None, Some(on_fail));
        let reader = tokio::spawn(read_loop(
            rd,
            pending.clone(),
            addr.to_string(),
            cfg.client_id.clone(),
            cfg.max_response_length,
        ));
        debug!(addr, protocol, user = %cfg.user, "IPC connection established");
        Ok(Connection {
            addr: addr.to_string(),
            protocol: protocol.to_string(),
            client_id: cfg.client_id.clone(),
            pending,
            writer,
            reader,
        })
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// True once the connection failed or the server closed it; calls then fail at once.
    pub fn is_closed(&self) -> bool {
        lock(&self.pending).is_none()
    }

    /// Makes one call with the given call id and retry count and waits up to `timeout`
    /// (zero: forever) for its response, the encoded response message.
    pub async fn call_raw(
        &self,
        method: &str,
        request: Bytes,
        call_id: i32,
        retry_count: i32,
        timeout: Duration,
    ) -> Result<Bytes, IpcError> {
        let (reply_tx, reply_rx) = oneshot::channel();
        {
            let mut guard = lock(&self.pending);
            let Some(map) = guard.as_mut() else {
                return Err(closed_error(&self.addr));
            };
            if map.contains_key(&call_id) {
                return Err(IpcError::Protocol {
                    addr: self.addr.clone(),
                    msg: format!("call id {call_id} is already in flight on this connection"),
                });
            }
            map.insert(call_id, reply_tx);
        }
        // Whatever happens from here (including the caller giving up on this future),
        // the call's entry does not outlive it.
        let _entry = PendingEntry {
            pending: &self.pending,
            call_id,
        };
        let header = request_header(call_id, retry_count, self.client_id.clone());
        let request_header = RequestHeaderProto {
            method_name: method.to_string(),
            declaring_class_protocol_name: self.protocol.clone(),
            client_protocol_version: 1,
        };
        let frame = request_frame(&header, &request_header, &request);
        if self.writer.send(frame, ()).is_err() {
            return Err(closed_error(&self.addr));
        }
        let reply = if timeout.is_zero() {
            reply_rx.await
        } else {
            match tokio::time::timeout(timeout, reply_rx).await {
                Ok(r) => r,
                Err(_) => {
                    return Err(IpcError::Timeout {
                        addr: self.addr.clone(),
                        after: timeout,
                    })
                }
            }
        };
        reply.unwrap_or_else(|_| Err(closed_error(&self.addr)))
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // The write side shuts down once the writer is dropped; the reader would wait
        // for the server to close, so stop it now.
        self.writer.close();
        self.reader.abort();
        close_all(&self.pending, || closed_error(&self.addr));
    }
}

struct PendingEntry<'a> {
    pending: &'a Pending,
    call_id: i32,
}

impl Drop for PendingEntry<'_> {
    fn drop(&mut self) {
        if let Some(map) = lock(self.pending).as_mut() {
            map.remove(&self.call_id);
        }
    }
}

fn lock(p: &Pending) -> std::sync::MutexGuard<'_, Option<HashMap<i32, Reply>>> {
    // A panic while holding this lock cannot leave the map inconsistent.
    p.lock().unwrap_or_else(|e| e.into_inner())
}

/// Marks the connection closed and fails every waiting call.
fn close_all(pending: &Pending, err: impl Fn() -> IpcError) {
    let calls = lock(pending).take();
    for (_, reply) in calls.into_iter().flatten() {
        let _ = reply.send(Err(err()));
    }
}

async fn read_loop(
    mut rd: BufReader<OwnedReadHalf>,
    pending: Pending,
    addr: String,
    client_id: Bytes,
    max_len: usize,
) {
    loop {
        let frame = match frame::read_frame(&mut rd, max_len).await {
            Ok(Some(f)) => f,
            Ok(None) => {
                close_all(&pending, || {
                    io_error(
                        &addr,
                        std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            "connection closed by the server",
                        ),
                    )
                });
                return;
            }
            Err(frame::FrameReadError::Io(e)) => {
                let kind = e.kind();
                let msg = e.to_string();
                close_all(&pending, || {
                    io_error(&addr, std::io::Error::new(kind, msg.clone()))
                });
                return;
            }
            Err(e) => {
                let msg = e.to_string();
                close_all(&pending, || IpcError::Protocol {
                    addr: addr.clone(),
                    msg: msg.clone(),
                });
                return;
            }
        };
        let (header, body) = match frame::parse_response(frame) {
            Ok(x) => x,
            Err(e) => {
                let msg = e.to_string();
                close_all(&pending, || IpcError::Protocol {
                    addr: addr.clone(),
                    msg: msg.clone(),
                });
                return;
            }
        };
        if let Some(id) = &header.client_id {
            // An empty id is the server's "not tied to a client" marker.
            if !id.is_empty() && *id != client_id {
                close_all(&pending, || IpcError::Protocol {
                    addr: addr.clone(),
                    msg: "response carries another client's id".into(),
                });
                return;
            }
        }
        let call_id = header.call_id as i32;
        match RpcStatusProto::try_from(header.status) {
            Ok(RpcStatusProto::Success) => deliver(&pending, call_id, Ok(body)),
            Ok(RpcStatusProto::Error) => deliver(
                &pending,
                call_id,
                Err(IpcError::Remote(remote_error(&header))),
            ),
            Ok(RpcStatusProto::Fatal) => {
                let err = remote_error(&header);
                warn!(%addr, error = %err, "IPC server closed the connection with a fatal error");
                close_all(&pending, || IpcError::Remote(err.clone()));
                return;
            }
            Err(_) => {
                let status = header.status;
                close_all(&pending, || IpcError::Protocol {
                    addr: addr.clone(),
                    msg: format!("unknown response status {status}"),
                });
                return;
            }
        }
    }
}

fn deliver(pending: &Pending, call_id: i32, result: Result<Bytes, IpcError>) {
    let reply = lock(pending).as_mut().and_then(|m| m.remove(&call_id));
    match reply {
        Some(r) => {
            let _ = r.send(result);
        }
        // The caller gave up (timed out) already.
        None => debug!(call_id, "response for a call nobody waits for"),
    }
}

/// The client half of SASL against a SIMPLE server: NEGOTIATE, expect SUCCESS (or a
/// method list offering SIMPLE, answered with INITIATE SIMPLE).
async fn negotiate_sasl(
    addr: &str,
    rd: &mut BufReader<OwnedReadHalf>,
    wr: &mut OwnedWriteHalf,
    max_len: usize,
) -> Result<(), IpcError> {
    let protocol_err = |msg: String| IpcError::Protocol {
        addr: addr.to_string(),
        msg,
    };
    let header = request_header(SASL_CALL_ID, INVALID_RETRY_COUNT, Bytes::new());
    let negotiate = RpcSaslProto {
        state: SaslState::Negotiate as i32,
        ..Default::default()
    };
    wr.write_all(&out_of_band_frame(&header, Some(&negotiate)))
        .await
        .map_err(|e| io_error(addr, e))?;
    let frame = match frame::read_frame(rd, max_len).await {
        Ok(Some(f)) => f,
        Ok(None) => return Err(closed_error(addr)),
        Err(frame::FrameReadError::Io(e)) => return Err(io_error(addr, e)),
        Err(e) => return Err(protocol_err(e.to_string())),
    };
    let (resp_header, body) =
        frame::parse_response(frame).map_err(|e| protocol_err(e.to_string()))?;
    if resp_header.status != RpcStatusProto::Success as i32 {
        return Err(IpcError::Remote(remote_error(&resp_header)));
    }
    if resp_header.call_id as i32 != SASL_CALL_ID {
        return Err(protocol_err(format!(
            "expected a SASL response, got call id {}",
            resp_header.call_id as i32
        )));
    }
    let reply = RpcSaslProto::decode(body).map_err(|e| protocol_err(e.to_string()))?;
    match SaslState::try_from(reply.state) {
        Ok(SaslState::Success) => Ok(()),
        Ok(SaslState::Negotiate) => {
            let simple = reply.auths.iter().find(|a| a.method == "SIMPLE");
            let Some(simple) = simple else {
                let offered: Vec<&str> = reply.auths.iter().map(|a| a.method.as_str()).collect();
                return Err(protocol_err(format!(
                    "server requires SASL authentication {offered:?}; only SIMPLE is supported"
                )));
            };
            let initiate = RpcSaslProto {
                state: SaslState::Initiate as i32,
                auths: vec![SaslAuth {
                    challenge: None,
                    ..simple.clone()
                }],
                ..Default::default()
            };
            wr.write_all(&out_of_band_frame(&header, Some(&initiate)))
                .await
                .map_err(|e| io_error(addr, e))
        }
        _ => Err(protocol_err(format!(
            "unexpected SASL state {} from server",
            reply.state
        ))),
    }
}
