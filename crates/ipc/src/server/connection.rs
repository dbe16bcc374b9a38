//! One server-side connection: reads the connection header and frames, handles the
//! out-of-band messages (connection context, SASL, ping) inline, and spawns one task per
//! call. A call's task runs the handler and writes its response itself (through
//! [`FrameWriter`]), so responses go out in the order the calls complete.

use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hafs_proto::common::{
    rpc_request_header_proto::OperationProto, IpcConnectionContextProto, RpcKindProto,
    RpcRequestHeaderProto, RpcSaslProto,
};
use prost::Message;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tracing::{debug, warn};

use super::response;
use super::{OpenGuard, Shared};
use crate::auth::wrap::{self, Unwrapped};
use crate::auth::{Identity, SaslServer, SaslStep};
use crate::error::{RpcError, RpcErrorCode};
use crate::exceptions;
use crate::frame::{
    self, parse_call, parse_preamble, parse_request_header, AuthProtocol, FrameReadError, Preamble,
    PREAMBLE_LEN,
};
use crate::service::CallContext;
use crate::writer::FrameWriter;
use crate::{CONNECTION_CONTEXT_CALL_ID, PING_CALL_ID, RPC_VERSION, SASL_CALL_ID};
use hafs_security::sasl::SaslServerSession;

/// The room a queued response takes: one of its connection's in-flight slots and, for
/// a call, one of the server's. Released once the response is written.
struct Permits {
    _conn: OwnedSemaphorePermit,
    _server: Option<OwnedSemaphorePermit>,
}

type Writer = Arc<FrameWriter<Option<Permits>>>;

/// The established session of a connection that seals its frames. Shared by the reader
/// (unwrap) and the writer (wrap, under its queue lock).
type Layer = Arc<std::sync::Mutex<Box<dyn SaslServerSession>>>;

fn lock_layer(l: &Layer) -> std::sync::MutexGuard<'_, Box<dyn SaslServerSession>> {
    // A panic inside a mechanism leaves its sequence state unknown; the peer's next
    // check then fails and the connection closes, which is the right outcome.
    l.lock().unwrap_or_else(|e| e.into_inner())
}

/// Why the read side stopped.
enum Closing {
    /// The client closed its side (or the socket failed): let in-flight calls answer.
    Eof,
    /// Idle with nothing in flight, or shutting down.
    Quiet,
    /// Send these bytes (a FATAL response or the HTTP hint), then close.
    SendAndClose(Bytes),
}

/// After a final response, how long we keep reading (and discarding) what the client
/// still sends, so that closing does not reset the connection before it reads ours.
const LINGER: Duration = Duration::from_millis(500);
const LINGER_MAX_BYTES: u64 = 64 * 1024;
/// Lower bound on how long one response frame may take to write (large responses to
/// slow clients are legitimate).
const MIN_WRITE_STALL: Duration = Duration::from_secs(60);

pub(crate) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    _open: OpenGuard,
) {
    let _ = stream.set_nodelay(true);
    let (rd, wr) = stream.into_split();
    let mut rd = BufReader::new(rd);
    let per_conn = shared.config.max_calls_in_flight_per_connection;
    // Every queued response holds one of the connection's in-flight permits until it is
    // written, so a client that stops reading stops the reader (backpressure).
    let write_stall = shared.config.idle_timeout.max(MIN_WRITE_STALL);
    let writer: Writer = FrameWriter::new(wr, Some(write_stall), None);
    let shared_auth = shared.config.auth.clone();
    let mut conn = ConnState {
        peer,
        shared,
        writer: writer.clone(),
        in_flight: Arc::new(Semaphore::new(per_conn)),
        max_in_flight: per_conn,
        auth_protocol: AuthProtocol::None,
        sasl: SaslServer::new(shared_auth),
        layer: None,
        unwrapped: Unwrapped::default(),
        identity: None,
    };
    let closing = tokio::select! {
        c = conn.read_loop(&mut rd) => c,
        _ = stop.wait_for(|stopped| *stopped) => Closing::Quiet,
    };
    drop(conn);
    match closing {
        Closing::Eof => {
            // In-flight calls still answer; the write side shuts down when the last of
            // them has dropped the writer.
        }
        Closing::Quiet => writer.close(),
        Closing::SendAndClose(bytes) => {
            writer.send_and_close(bytes, None);
            if tokio::time::timeout(write_stall, writer.closed())
                .await
                .is_err()
            {
                writer.close();
            }
            linger(&mut rd).await;
        }
    }
    debug!(%peer, "IPC connection closed");
}

/// Polls a handler's future, turning a panic into `Err` (the server answers the call
/// with an error). In a daemon this never happens: its panic hook
/// (`hafs_util::invariant::stop_on_panic`) ends the process first, so half-applied state
/// never serves; the catch keeps in-process servers (tests, benchmarks) answering.
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(&mut *inner).poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => {
                let msg = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".into());
                Poll::Ready(Err(msg))
            }
        }
    }
}

async fn linger(rd: &mut BufReader<OwnedReadHalf>) {
    let mut sink = tokio::io::sink();
    let mut limited = rd.take(LINGER_MAX_BYTES);
    let _ = tokio::time::timeout(LINGER, tokio::io::copy(&mut limited, &mut sink)).await;
}

struct ConnState {
    peer: SocketAddr,
    shared: Arc<Shared>,
    writer: Writer,
    in_flight: Arc<Semaphore>,
    max_in_flight: usize,
    auth_protocol: AuthProtocol,
    sasl: SaslServer,
    /// Set once SASL negotiated integrity or privacy: every frame from the client must
    /// then be a WRAP, and every frame to it is sealed.
    layer: Option<Layer>,
    /// Unsealed bytes not yet making a whole frame.
    unwrapped: Unwrapped,
    /// Set by the connection context; calls are refused before it.
    identity: Option<Identity>,
}

/// A fatal error tied to a call: answered with status FATAL, then the connection closes.
fn fatal(header: &RpcRequestHeaderProto, code: RpcErrorCode, class: &str, msg: String) -> Closing {
    let err = RpcError::new(class, msg).with_code(code);
    fatal_err(header, &err)
}

fn fatal_err(header: &RpcRequestHeaderProto, err: &RpcError) -> Closing {
    let retry = header.retry_count.unwrap_or(crate::INVALID_RETRY_COUNT);
    // Hadoop answers fatal errors with the dummy (empty) client id.
    let mut err = err.clone();
    if !err.code.is_fatal() {
        err.code = RpcErrorCode::FatalUnknown;
    }
    Closing::SendAndClose(response::error(
        header.call_id,
        retry,
        Bytes::new(),
        &err,
        None,
    ))
}

impl ConnState {
    fn is_idle(&self) -> bool {
        self.in_flight.available_permits() == self.max_in_flight
    }

    async fn read_loop(&mut self, rd: &mut BufReader<OwnedReadHalf>) -> Closing {
        let idle = self.shared.config.idle_timeout;
        if let Some(c) = self.read_preamble(rd, idle).await {
            return c;
        }
        // One timer for the connection's life, pushed back as frames arrive, rather than
        // a timer armed and disarmed around every frame.
        let mut last_frame = Instant::now();
        let idle_timer = tokio::time::sleep(idle);
        tokio::pin!(idle_timer);
        loop {
            if self.writer.is_closed() {
                // The writer gave up on this client; answers could not reach it.
                return Closing::Quiet;
            }
            // Wait for the next frame to start; only an idle connection times out here.
            let started = tokio::select! {
                biased;
                r = rd.fill_buf() => Some(r.map(|b| !b.is_empty())),
                _ = &mut idle_timer => None,
            };
            match started {
                None => {
                    let now = Instant::now();
                    if now.duration_since(last_frame) >= idle && self.is_idle() {
                        debug!(peer = %self.peer, "closing idle IPC connection");
                        return Closing::Quiet;
                    }
                    let due = (last_frame + idle).max(now + Duration::from_millis(1));
                    let due = if self.is_idle() { due } else { now + idle };
                    idle_timer.as_mut().reset(due.into());
                    continue;
                }
                Some(Err(_)) | Some(Ok(false)) => return Closing::Eof,
                Some(Ok(true)) => {}
            }
            // Once a frame has started it must arrive within the idle timeout.
            let max = self.shared.config.max_data_length;
            let read = tokio::time::timeout(idle, frame::read_frame(rd, max)).await;
            let frame = match read {
                Err(_) => {
                    warn!(peer = %self.peer, "IPC frame not completed in {idle:?}; closing");
                    return Closing::Quiet;
                }
                Ok(Ok(Some(f))) => f,
                Ok(Ok(None)) => return Closing::Eof,
                Ok(Err(FrameReadError::Io(_))) => return Closing::Eof,
                Ok(Err(e @ FrameReadError::BadLength { .. })) => {
                    warn!(peer = %self.peer, error = %e, "rejecting IPC frame");
                    let msg = match e {
                        FrameReadError::BadLength { len, max } if len >= 0 => format!(
                            "Requested data length {len} is longer than maximum configured RPC length {max}"
                        ),
                        other => format!("Unexpected data length: {other}"),
                    };
                    return Closing::SendAndClose(response::connection_fatal(
                        RpcErrorCode::FatalInvalidRpcHeader,
                        exceptions::IPC,
                        msg,
                    ));
                }
                Ok(Err(e @ FrameReadError::Truncated { .. })) => {
                    debug!(peer = %self.peer, error = %e, "IPC connection ended inside a frame");
                    return Closing::SendAndClose(response::connection_fatal(
                        RpcErrorCode::FatalInvalidRpcHeader,
                        exceptions::IPC,
                        e.to_string(),
                    ));
                }
            };
            last_frame = Instant::now();
            let closing = match self.layer.clone() {
                None => self.process_frame(frame).await,
                Some(layer) => self.process_wrapped(&layer, frame).await,
            };
            if let Some(c) = closing {
                return c;
            }
        }
    }

    /// Opens one WRAP frame and handles every whole frame its content completes; `Some`
    /// means close. A frame that is not a WRAP, or fails the mechanism's check (a flipped
    /// bit, a replayed or reordered message), closes the connection.
    async fn process_wrapped(&mut self, layer: &Layer, outer: Bytes) -> Option<Closing> {
        let opened = wrap::token_of_wrapped_request(outer).and_then(|token| {
            lock_layer(layer)
                .unwrap(&token)
                .map_err(|e| format!("could not unwrap the client's message: {e}"))
        });
        match opened {
            Ok(plain) => self.unwrapped.push(&plain),
            Err(msg) => {
                warn!(peer = %self.peer, %msg, "closing a SASL-protected IPC connection");
                return Some(Closing::SendAndClose(response::connection_fatal(
                    RpcErrorCode::FatalUnauthorized,
                    exceptions::SASL,
                    msg,
                )));
            }
        }
        loop {
            match self
                .unwrapped
                .next_frame(self.shared.config.max_data_length)
            {
                Ok(Some(inner)) => {
                    if let Some(c) = self.process_frame(inner).await {
                        return Some(c);
                    }
                }
                Ok(None) => return None,
                Err(e) => {
                    return Some(Closing::SendAndClose(response::connection_fatal(
                        RpcErrorCode::FatalInvalidRpcHeader,
                        exceptions::IPC,
                        format!("Unexpected data length: {e}"),
                    )))
                }
            }
        }
    }

    /// Reads and checks the 7-byte connection header; `Some` means close.
    async fn read_preamble(
        &mut self,
        rd: &mut BufReader<OwnedReadHalf>,
        idle: Duration,
    ) -> Option<Closing> {
        let mut buf = [0u8; PREAMBLE_LEN];
        match tokio::time::timeout(idle, rd.read_exact(&mut buf)).await {
            Err(_) => return Some(Closing::Quiet),
            Ok(Err(_)) => return Some(Closing::Eof),
            Ok(Ok(_)) => {}
        }
        match parse_preamble(&buf) {
            Preamble::HttpGet => {
                debug!(peer = %self.peer, "HTTP request on the IPC port");
                Some(Closing::SendAndClose(Bytes::from_static(
                    response::HTTP_HINT.as_bytes(),
                )))
            }
            Preamble::BadMagic(magic) => {
                warn!(peer = %self.peer, ?magic, "connection header does not start with \"hrpc\"");
                Some(Closing::SendAndClose(response::connection_fatal(
                    RpcErrorCode::FatalInvalidRpcHeader,
                    exceptions::IPC,
                    format!("Incorrect RPC header: expected \"hrpc\", got {magic:02x?}"),
                )))
            }
            Preamble::Rpc { version, .. } if version != RPC_VERSION => {
                warn!(peer = %self.peer, version, "IPC version mismatch");
                Some(Closing::SendAndClose(response::version_mismatch(version)))
            }
            Preamble::Rpc { auth_byte, .. } => match AuthProtocol::from_wire(auth_byte) {
                Some(AuthProtocol::None) if self.sasl.auth().is_secure() => {
                    // Hadoop answers as a SASL reply: FATAL, AccessControlException.
                    let err = self.sasl.auth().simple_refusal();
                    warn!(peer = %self.peer, "refusing a SIMPLE connection to a secure server");
                    Some(Closing::SendAndClose(response::error(
                        SASL_CALL_ID,
                        crate::INVALID_RETRY_COUNT,
                        Bytes::new(),
                        &err,
                        None,
                    )))
                }
                Some(p) => {
                    self.auth_protocol = p;
                    None
                }
                None => Some(Closing::SendAndClose(response::connection_fatal(
                    RpcErrorCode::FatalUnauthorized,
                    exceptions::IPC,
                    format!("Unknown auth protocol:{}", auth_byte as i8),
                ))),
            },
        }
    }

    /// Handles one frame; `Some` means close.
    async fn process_frame(&mut self, frame: Bytes) -> Option<Closing> {
        let (header, rest) = match parse_request_header(frame) {
            Ok(x) => x,
            Err(e) => {
                warn!(peer = %self.peer, error = %e, "undecodable RPC request header");
                return Some(Closing::SendAndClose(response::connection_fatal(
                    RpcErrorCode::FatalDeserializingRequest,
                    exceptions::IPC,
                    e.to_string(),
                )));
            }
        };
        if header.rpc_op.is_none() {
            return Some(fatal(
                &header,
                RpcErrorCode::FatalInvalidRpcHeader,
                exceptions::IPC,
                "IPC Server: No rpc op in rpcRequestHeader".into(),
            ));
        }
        if header.rpc_op != Some(OperationProto::RpcFinalPacket as i32) {
            return Some(fatal(
                &header,
                RpcErrorCode::FatalInvalidRpcHeader,
                exceptions::IPC,
                format!(
                    "IPC Server does not implement rpc header operation {:?}",
                    header.rpc_op
                ),
            ));
        }
        if header.rpc_kind.is_none() {
            return Some(fatal(
                &header,
                RpcErrorCode::FatalInvalidRpcHeader,
                exceptions::IPC,
                "IPC Server: No rpc kind in rpcRequestHeader".into(),
            ));
        }
        if header.call_id < 0 {
            return self.out_of_band(&header, rest).await;
        }
        let Some(identity) = self.identity.clone() else {
            return Some(fatal(
                &header,
                RpcErrorCode::FatalInvalidRpcHeader,
                exceptions::IPC,
                "Connection context not established".into(),
            ));
        };
        self.dispatch(header, rest, identity).await
    }

    async fn out_of_band(
        &mut self,
        header: &RpcRequestHeaderProto,
        mut rest: Bytes,
    ) -> Option<Closing> {
        match header.call_id {
            CONNECTION_CONTEXT_CALL_ID => {
                if self.auth_protocol == AuthProtocol::Sasl && !self.sasl.is_established() {
                    return Some(fatal(
                        header,
                        RpcErrorCode::FatalInvalidRpcHeader,
                        exceptions::IPC,
                        "Connection header sent during SASL negotiation".into(),
                    ));
                }
                if self.identity.is_some() {
                    return Some(fatal(
                        header,
                        RpcErrorCode::FatalInvalidRpcHeader,
                        exceptions::IPC,
                        "Connection context already processed".into(),
                    ));
                }
                let ctx: IpcConnectionContextProto =
                    match frame::decode_delimited(&mut rest, "IpcConnectionContextProto") {
                        Ok(c) => c,
                        Err(e) => {
                            return Some(fatal(
                                header,
                                RpcErrorCode::FatalDeserializingRequest,
                                exceptions::IPC,
                                e.to_string(),
                            ))
                        }
                    };
                let identity = self.sasl.identity(&ctx, self.peer.ip()).and_then(|id| {
                    let protocol = ctx.protocol.as_deref().unwrap_or("");
                    self.sasl.auth().authorize(protocol, &id, self.peer.ip())?;
                    Ok(id)
                });
                match identity {
                    Ok(id) => {
                        debug!(peer = %self.peer, user = %id.user, protocol = ?ctx.protocol, "IPC connection context");
                        self.identity = Some(id);
                        None
                    }
                    Err(e) => Some(fatal_err(header, &e)),
                }
            }
            SASL_CALL_ID => {
                if self.auth_protocol != AuthProtocol::Sasl {
                    return Some(fatal(
                        header,
                        RpcErrorCode::FatalInvalidRpcHeader,
                        exceptions::IPC,
                        "SASL protocol not requested by client".into(),
                    ));
                }
                let msg: RpcSaslProto = match frame::decode_delimited(&mut rest, "RpcSaslProto") {
                    Ok(m) => m,
                    Err(e) => {
                        return Some(fatal(
                            header,
                            RpcErrorCode::FatalDeserializingRequest,
                            exceptions::IPC,
                            e.to_string(),
                        ))
                    }
                };
                if self.layer.is_some() {
                    return Some(fatal(
                        header,
                        RpcErrorCode::FatalInvalidRpcHeader,
                        exceptions::IPC,
                        "SASL message inside a SASL-protected stream".into(),
                    ));
                }
                match self.sasl.step(&msg) {
                    Ok(SaslStep::Reply(reply)) => {
                        let secure = self.sasl.auth().is_secure();
                        if self.sasl.is_established() && !secure {
                            // SIMPLE won: no SASL framing from here on.
                            self.auth_protocol = AuthProtocol::None;
                        }
                        let frame = response::success(
                            SASL_CALL_ID,
                            crate::INVALID_RETRY_COUNT,
                            Bytes::new(),
                            &reply.encode_to_vec(),
                            None,
                        );
                        let closing = self.respond(frame).await;
                        // The SUCCESS itself goes out plain; everything after it sealed.
                        if let Some(session) = self.sasl.take_wrapping_session() {
                            debug!(peer = %self.peer, qop = %session.qop(), "IPC connection protected by SASL");
                            let layer: Layer = Arc::new(std::sync::Mutex::new(session));
                            let sealing = layer.clone();
                            self.writer.set_seal(Box::new(move |frame: &[u8]| {
                                let token = lock_layer(&sealing).wrap(frame).map_err(|e| {
                                    std::io::Error::new(
                                        std::io::ErrorKind::InvalidData,
                                        e.to_string(),
                                    )
                                })?;
                                Ok(wrap::wrapped_response_frame(token))
                            }));
                            self.layer = Some(layer);
                        }
                        closing
                    }
                    Ok(SaslStep::Done) => {
                        self.auth_protocol = AuthProtocol::None;
                        None
                    }
                    Err(e) => Some(fatal_err(header, &e)),
                }
            }
            PING_CALL_ID => None,
            other => Some(fatal(
                header,
                RpcErrorCode::FatalInvalidRpcHeader,
                exceptions::IPC,
                format!("Unknown out of band call #{other}"),
            )),
        }
    }

    /// Queues a connection-level response (SASL, unknown protocol). It takes one of the
    /// connection's in-flight slots like a call, so a client that sends such requests
    /// without reading the answers is stopped the same way; `Some` means close.
    async fn respond(&self, frame: Bytes) -> Option<Closing> {
        let Ok(conn_permit) = self.in_flight.clone().acquire_owned().await else {
            return Some(Closing::Quiet);
        };
        let permits = Permits {
            _conn: conn_permit,
            _server: None,
        };
        match self.writer.send(frame, Some(permits)) {
            Ok(()) => None,
            Err(_) => Some(Closing::Eof),
        }
    }

    async fn dispatch(
        &mut self,
        header: RpcRequestHeaderProto,
        rest: Bytes,
        identity: Identity,
    ) -> Option<Closing> {
        if header.rpc_kind != Some(RpcKindProto::RpcProtocolBuffer as i32) {
            return Some(fatal(
                &header,
                RpcErrorCode::FatalInvalidRpcHeader,
                exceptions::IPC,
                format!("Unknown rpc kind in rpc header {:?}", header.rpc_kind),
            ));
        }
        let (request_header, request) = match parse_call(rest) {
            Ok(x) => x,
            Err(e) => {
                return Some(fatal(
                    &header,
                    RpcErrorCode::FatalDeserializingRequest,
                    exceptions::IPC,
                    format!("IPC server unable to read call parameters: {e}"),
                ))
            }
        };
        let call_id = header.call_id;
        let retry_count = header.retry_count.unwrap_or(crate::INVALID_RETRY_COUNT);
        let client_id = header.client_id.clone();
        let protocol = request_header.declaring_class_protocol_name;
        let method = request_header.method_name;

        let Some(service) = self.shared.services.get(protocol.as_str()).cloned() else {
            debug!(peer = %self.peer, %protocol, "call for unknown protocol");
            let err = RpcError::no_such_protocol(&protocol);
            let frame = response::error(call_id, retry_count, client_id, &err, None);
            return self.respond(frame).await;
        };

        // Wait for room: this connection's bound first, then the server's. While we wait
        // nothing more is read from this client, which is the backpressure we want.
        let arrived = Instant::now();
        let Ok(conn_permit) = self.in_flight.clone().acquire_owned().await else {
            return Some(Closing::Quiet);
        };
        let Ok(server_permit) = self.shared.call_slots.clone().acquire_owned().await else {
            return Some(Closing::Quiet);
        };

        let metrics = self.shared.metrics.clone();
        metrics.call_admitted(arrived.elapsed());

        let ctx = CallContext {
            user: identity.user,
            real_user: identity.real_user,
            auth_method: identity.method,
            principal: identity.principal,
            token_identifier: identity.token_identifier,
            client_id: client_id.clone(),
            call_id,
            retry_count,
            peer: self.peer,
            state_id: header.state_id,
        };
        let alignment = self.shared.config.alignment.clone();
        let writer = self.writer.clone();
        let permits = Permits {
            _conn: conn_permit,
            _server: Some(server_permit),
        };
        // The call runs as one future that also writes its response. It is polled once
        // right here: a call that completes without waiting (a namespace read) is
        // answered with no task at all; one that waits (a mutation waiting for its
        // edit to be durable) goes on in its own task, so calls on one connection
        // still run concurrently and answer out of order.
        let mut call = Box::pin(async move {
            debug!(%method, call_id, retry_count, user = %ctx.user, "IPC call");
            let started = Instant::now();
            let result = CatchUnwind(service.call(&ctx, &method, request)).await;
            let (failed, known_method) = match &result {
                Ok(Ok(_)) => (false, true),
                Ok(Err(e)) => (true, e.code != RpcErrorCode::ErrorNoSuchMethod),
                Err(_) => (true, true),
            };
            metrics.call_done(&method, started.elapsed(), failed, known_method);
            // Hadoop's updateResponseState: every call's answer, success or error,
            // carries the server's state id once the call is done.
            let state_id = alignment.as_ref().map(|a| a.last_seen_state_id());
            let frame = match result {
                Ok(Ok(body)) => response::success(call_id, retry_count, client_id, &body, state_id),
                Ok(Err(mut err)) => {
                    debug!(%method, call_id, error = %err, "IPC call failed");
                    if err.code.is_fatal() {
                        // Handlers answer calls; closing the connection is not theirs to do.
                        err.code = RpcErrorCode::ErrorRpcServer;
                    }
                    response::error(call_id, retry_count, client_id, &err, state_id)
                }
                Err(panic) => {
                    warn!(%method, call_id, %panic, "IPC handler panicked");
                    let err = RpcError::new(
                        exceptions::RUNTIME,
                        format!("internal error in the server while handling {method}"),
                    )
                    .with_code(RpcErrorCode::ErrorRpcServer);
                    response::error(call_id, retry_count, client_id, &err, state_id)
                }
            };
            // A closed writer means the client is gone; the answer has nowhere to go.
            let _ = writer.send(frame, Some(permits));
        });
        let first = std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await;
        if first.is_pending() {
            tokio::spawn(call);
        }
        None
    }
}
