//! One client TCP connection: many calls in flight, each call writing its own request
//! frame (through [`FrameWriter`], which batches frames of concurrent calls), and a
//! reader task handing each response to its caller by call id.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hafs_proto::common::{
    rpc_request_header_proto::OperationProto, rpc_response_header_proto::RpcStatusProto,
    IpcConnectionContextProto, RequestHeaderProto, RpcKindProto, RpcRequestHeaderProto,
    RpcResponseHeaderProto, UserInformationProto,
};
use hafs_security::sasl::SaslClientSession;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use super::config::ClientConfig;
use crate::auth::{self, wrap::Unwrapped};
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
/// Calls waiting for a response, and once the connection is closed, why.
#[derive(Default)]
struct CallTable {
    waiting: HashMap<i32, Reply>,
    /// The first reason the connection closed. A call made after it gets this reason,
    /// not a bare "closed": a server that refuses the connection context answers with a
    /// FATAL and closes, possibly before the first call is even registered.
    closed: Option<IpcError>,
    /// Turns true when `closed` is set, for whoever waits on [`Connection::closed`].
    closed_signal: tokio::sync::watch::Sender<bool>,
}

type Pending = Arc<Mutex<CallTable>>;

pub struct Connection {
    addr: String,
    protocol: String,
    client_id: Bytes,
    pending: Pending,
    writer: Arc<FrameWriter<()>>,
    reader: JoinHandle<()>,
    /// The client's state id ([`ClientConfig::state_id`]).
    state_id: Option<StateId>,
}

type StateId = Arc<std::sync::atomic::AtomicI64>;

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

/// The header of a client's SASL message (Hadoop's: no client id, no retry count).
pub(crate) fn sasl_request_header() -> RpcRequestHeaderProto {
    request_header(SASL_CALL_ID, INVALID_RETRY_COUNT, Bytes::new())
}

/// The host part of `host:port` (or `[v6]:port`), which a Kerberos client puts in place
/// of `_HOST` in the server principal it expects.
fn server_host(addr: &str) -> String {
    let host = match addr.rsplit_once(':') {
        Some((h, _)) => h,
        None => addr,
    };
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

/// The established session of a connection that seals its frames.
type Layer = Arc<Mutex<Box<dyn SaslClientSession>>>;

fn lock_layer(l: &Layer) -> std::sync::MutexGuard<'_, Box<dyn SaslClientSession>> {
    // A panic inside a mechanism leaves its sequence state unknown; the connection is
    // unusable either way, and the next seal or unseal fails on the peer's check.
    l.lock().unwrap_or_else(|e| e.into_inner())
}

fn seal(layer: &Layer, frame: &[u8]) -> std::io::Result<Bytes> {
    let token = lock_layer(layer)
        .wrap(frame)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
    Ok(auth::wrap::wrapped_request_frame(token))
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

/// Connects to `addr`, from `bind` when given (any port of that address).
async fn connect_from(addr: &str, bind: Option<std::net::IpAddr>) -> std::io::Result<TcpStream> {
    let Some(local) = bind else {
        return TcpStream::connect(addr).await;
    };
    let mut last = None;
    for remote in tokio::net::lookup_host(addr).await? {
        if remote.is_ipv4() != local.is_ipv4() {
            continue;
        }
        let socket = if local.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.bind(std::net::SocketAddr::new(local, 0))?;
        match socket.connect(remote).await {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::AddrNotAvailable,
            format!("no address of {addr} reachable from {local}"),
        )
    }))
}

impl Connection {
    /// Connects, sends the connection header (and SASL negotiation when configured) and
    /// the connection context for `protocol`.
    pub async fn connect(
        addr: &str,
        protocol: &str,
        cfg: &ClientConfig,
    ) -> Result<Connection, IpcError> {
        let stream =
            match tokio::time::timeout(cfg.connect_timeout, connect_from(addr, cfg.bind_address))
                .await
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

        let secure = cfg.auth.is_secure();
        let auth = if cfg.sasl || secure {
            AuthProtocol::Sasl
        } else {
            AuthProtocol::None
        };
        wr.write_all(&encode_preamble(auth))
            .await
            .map_err(|e| io_error(addr, e))?;
        let mut session = None;
        if auth == AuthProtocol::Sasl {
            let host = server_host(addr);
            let setup = auth::client::negotiate(
                &cfg.auth,
                addr,
                protocol,
                &host,
                &mut rd,
                &mut wr,
                cfg.max_response_length,
            );
            session = match tokio::time::timeout(cfg.connect_timeout, setup).await {
                Err(_) => {
                    return Err(IpcError::Timeout {
                        addr: addr.to_string(),
                        after: cfg.connect_timeout,
                    })
                }
                Ok(r) => r?,
            };
        }
        // After integrity or privacy was negotiated, everything from the connection
        // context on travels sealed, in both directions.
        let layer: Option<Layer> = session
            .filter(|s| s.qop().wraps())
            .map(|s| Arc::new(Mutex::new(s)));
        let context = IpcConnectionContextProto {
            // An authenticated client claims nobody else unless it proxies: the server
            // takes the user from the SASL exchange (as with hdfs-native), and a claimed
            // name that differs would be read as an impersonation attempt.
            user_info: Some(if secure {
                UserInformationProto {
                    effective_user: cfg.real_user.is_some().then(|| cfg.user.clone()),
                    real_user: None,
                }
            } else {
                UserInformationProto {
                    effective_user: Some(cfg.user.clone()),
                    real_user: cfg.real_user.clone(),
                }
            }),
            protocol: Some(protocol.to_string()),
        };
        let header = request_header(
            CONNECTION_CONTEXT_CALL_ID,
            INVALID_RETRY_COUNT,
            cfg.client_id.clone(),
        );
        let mut context_frame = out_of_band_frame(&header, Some(&context));
        if let Some(layer) = &layer {
            context_frame = seal(layer, &context_frame).map_err(|e| io_error(addr, e))?;
        }
        wr.write_all(&context_frame)
            .await
            .map_err(|e| io_error(addr, e))?;

        let pending: Pending = Arc::new(Mutex::new(CallTable::default()));
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
        if let Some(layer) = &layer {
            let layer = layer.clone();
            writer.set_seal(Box::new(move |frame: &[u8]| seal(&layer, frame)));
        }
        let reader = tokio::spawn(read_loop(
            rd,
            pending.clone(),
            addr.to_string(),
            cfg.client_id.clone(),
            cfg.max_response_length,
            layer,
            cfg.state_id.clone(),
        ));
        debug!(addr, protocol, user = %cfg.user, "IPC connection established");
        Ok(Connection {
            addr: addr.to_string(),
            protocol: protocol.to_string(),
            client_id: cfg.client_id.clone(),
            pending,
            writer,
            reader,
            state_id: cfg.state_id.clone(),
        })
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// True once the connection failed or the server closed it; calls then fail at once.
    pub fn is_closed(&self) -> bool {
        lock(&self.pending).closed.is_some()
    }

    /// Completes once the connection is closed: by the server (its process died: the
    /// kernel closes its sockets at once), by a failed write or read, or by
    /// [`Connection::close`]. Completes at once if it already is.
    pub async fn closed(&self) {
        let mut signal = lock(&self.pending).closed_signal.subscribe();
        // The sender lives in the call table, which this connection holds: it is not
        // dropped while we wait.
        let _ = signal.wait_for(|closed| *closed).await;
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
            let mut table = lock(&self.pending);
            if let Some(why) = &table.closed {
                return Err(why.duplicate());
            }
            let map = &mut table.waiting;
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
        let mut header = request_header(call_id, retry_count, self.client_id.clone());
        if let Some(state) = &self.state_id {
            header.state_id = Some(state.load(std::sync::atomic::Ordering::SeqCst));
        }
        let request_header = RequestHeaderProto {
            method_name: method.to_string(),
            declaring_class_protocol_name: self.protocol.clone(),
            client_protocol_version: 1,
        };
        let frame = request_frame(&header, &request_header, &request);
        if self.writer.send(frame, ()).is_err() {
            return Err(self.why_closed());
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
        reply.unwrap_or_else(|_| Err(self.why_closed()))
    }

    fn why_closed(&self) -> IpcError {
        match &lock(&self.pending).closed {
            Some(why) => why.duplicate(),
            None => closed_error(&self.addr),
        }
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
        lock(self.pending).waiting.remove(&self.call_id);
    }
}

fn lock(p: &Pending) -> std::sync::MutexGuard<'_, CallTable> {
    // A panic while holding this lock cannot leave the map inconsistent.
    p.lock().unwrap_or_else(|e| e.into_inner())
}

/// Marks the connection closed (the first reason given stays) and fails every waiting
/// call with that reason.
fn close_all(pending: &Pending, err: impl Fn() -> IpcError) {
    let (calls, why) = {
        let mut table = lock(pending);
        let why = table.closed.get_or_insert_with(&err).duplicate();
        table.closed_signal.send_replace(true);
        (std::mem::take(&mut table.waiting), why)
    };
    for (_, reply) in calls {
        let _ = reply.send(Err(why.duplicate()));
    }
}

async fn read_loop(
    mut rd: BufReader<OwnedReadHalf>,
    pending: Pending,
    addr: String,
    client_id: Bytes,
    max_len: usize,
    layer: Option<Layer>,
    state_id: Option<StateId>,
) {
    let fail = |err: IpcError| close_all(&pending, || err.duplicate());
    let mut unwrapped = Unwrapped::default();
    loop {
        let frame = match frame::read_frame(&mut rd, max_len).await {
            Ok(Some(f)) => f,
            Ok(None) => {
                return fail(io_error(
                    &addr,
                    std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "connection closed by the server",
                    ),
                ))
            }
            Err(frame::FrameReadError::Io(e)) => return fail(io_error(&addr, e)),
            Err(e) => {
                return fail(IpcError::Protocol {
                    addr: addr.clone(),
                    msg: e.to_string(),
                })
            }
        };
        let Some(layer) = &layer else {
            if let Err(e) = handle_response(frame, &pending, &addr, &client_id, state_id.as_deref())
            {
                return fail(e);
            }
            continue;
        };
        // A sealed connection: the outer frame is a SASL WRAP whose content continues
        // the stream of ordinary frames.
        let opened = auth::wrap::token_of_wrapped_response(frame).and_then(|token| {
            lock_layer(layer)
                .unwrap(&token)
                .map_err(|e| format!("could not unwrap the server's message: {e}"))
        });
        match opened {
            Ok(plain) => unwrapped.push(&plain),
            Err(msg) => {
                warn!(%addr, %msg, "closing a SASL-protected IPC connection");
                return fail(IpcError::Protocol {
                    addr: addr.clone(),
                    msg,
                });
            }
        }
        loop {
            match unwrapped.next_frame(max_len) {
                Ok(Some(inner)) => {
                    if let Err(e) =
                        handle_response(inner, &pending, &addr, &client_id, state_id.as_deref())
                    {
                        return fail(e);
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    return fail(IpcError::Protocol {
                        addr: addr.clone(),
                        msg: e.to_string(),
                    })
                }
            }
        }
    }
}

/// Hands one response frame to its caller; `Err` closes the connection.
fn handle_response(
    frame: Bytes,
    pending: &Pending,
    addr: &str,
    client_id: &Bytes,
    state_id: Option<&std::sync::atomic::AtomicI64>,
) -> Result<(), IpcError> {
    let (header, body) = frame::parse_response(frame).map_err(|e| IpcError::Protocol {
        addr: addr.to_string(),
        msg: e.to_string(),
    })?;
    if let (Some(state), Some(seen)) = (state_id, header.state_id) {
        state.fetch_max(seen, std::sync::atomic::Ordering::SeqCst);
    }
    if let Some(id) = &header.client_id {
        // An empty id is the server's "not tied to a client" marker.
        if !id.is_empty() && id != client_id {
            return Err(IpcError::Protocol {
                addr: addr.to_string(),
                msg: "response carries another client's id".into(),
            });
        }
    }
    let call_id = header.call_id as i32;
    match RpcStatusProto::try_from(header.status) {
        Ok(RpcStatusProto::Success) => {
            deliver(pending, call_id, Ok(body));
            Ok(())
        }
        Ok(RpcStatusProto::Error) => {
            deliver(
                pending,
                call_id,
                Err(IpcError::Remote(remote_error(&header))),
            );
            Ok(())
        }
        Ok(RpcStatusProto::Fatal) => {
            let err = remote_error(&header);
            warn!(%addr, error = %err, "IPC server closed the connection with a fatal error");
            Err(IpcError::Remote(err))
        }
        Err(_) => Err(IpcError::Protocol {
            addr: addr.to_string(),
            msg: format!("unknown response status {}", header.status),
        }),
    }
}

fn deliver(pending: &Pending, call_id: i32, result: Result<Bytes, IpcError>) {
    let reply = lock(pending).waiting.remove(&call_id);
    match reply {
        Some(r) => {
            let _ = r.send(result);
        }
        // The caller gave up (timed out) already.
        None => debug!(call_id, "response for a call nobody waits for"),
    }
}
