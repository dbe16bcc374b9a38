//! The client side of authentication: which mechanisms a client may use
//! ([`ClientAuth`]), and the exchange it runs right after the connection header
//! (Hadoop's `SaslRpcClient.saslConnect`).
//!
//! The client sends NEGOTIATE, takes the first method in the server's list that one of
//! its mechanisms can answer (the server lists TOKEN before KERBEROS, so a client holding
//! a token for this service uses it), sends INITIATE with that method and its first token,
//! and answers CHALLENGEs until SUCCESS. A client configured for security never falls
//! back to SIMPLE: a server that answers NEGOTIATE with SUCCESS — or offers nothing this
//! client can prove — is refused, since that is exactly what a rogue server would do.

use std::sync::Arc;

use bytes::Bytes;
use hafs_proto::common::{
    rpc_response_header_proto::RpcStatusProto,
    rpc_sasl_proto::{SaslAuth, SaslState},
    RpcSaslProto,
};
use hafs_security::sasl::{SaslClientSession, SaslError, SaslStep as MechStep};
use prost::Message;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::AuthMethod;
use crate::error::{IpcError, RpcError, RpcErrorCode};
use crate::exceptions;
use crate::frame;

/// Java's message when a secure client is asked to fall back to SIMPLE.
pub const SIMPLE_FALLBACK_REFUSED: &str = "Server asks us to fall back to SIMPLE auth, but this client is configured to only allow secure connections.";

/// Round trips a mechanism may take before the exchange is abandoned (GSSAPI takes 3,
/// DIGEST-MD5 2): a bound against a server that challenges forever.
const MAX_SASL_ROUNDS: usize = 16;

/// A mechanism a client can authenticate with.
pub trait ClientMechanism: Send + Sync {
    fn method(&self) -> AuthMethod;
    fn mechanism(&self) -> &'static str;
    /// A session answering `offered` on a connection to `server_host` for `protocol`,
    /// or `None` when this mechanism holds nothing for it (no token for that service).
    /// An error is fatal: the server advertised a principal this client does not expect.
    fn start(
        &self,
        offered: &SaslAuth,
        protocol: &str,
        server_host: &str,
    ) -> Result<Option<Box<dyn SaslClientSession>>, SaslError>;
}

/// How a client authenticates. The default is SIMPLE.
#[derive(Clone, Default)]
pub struct ClientAuth {
    /// Tried against the server's offers; empty means SIMPLE.
    pub mechanisms: Vec<Arc<dyn ClientMechanism>>,
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self
            .mechanisms
            .iter()
            .map(|m| m.method().wire_name())
            .collect();
        f.debug_struct("ClientAuth")
            .field("mechanisms", &names)
            .finish()
    }
}

impl ClientAuth {
    /// True when the client must authenticate and never accepts SIMPLE.
    pub fn is_secure(&self) -> bool {
        !self.mechanisms.is_empty()
    }
}

fn protocol_error(addr: &str, msg: String) -> IpcError {
    IpcError::Protocol {
        addr: addr.to_string(),
        msg,
    }
}

/// A client-side refusal, reported like the server's would be (`AccessControlException`
/// and friends) so callers and users see one kind of authentication error.
fn refused(class: &str, msg: impl Into<String>) -> IpcError {
    IpcError::Remote(RpcError::new(class, msg).with_code(RpcErrorCode::FatalUnauthorized))
}

async fn send<W: AsyncWrite + Unpin>(
    addr: &str,
    wr: &mut W,
    msg: &RpcSaslProto,
) -> Result<(), IpcError> {
    let header = super::super::client::connection::sasl_request_header();
    wr.write_all(&frame::out_of_band_frame(&header, Some(msg)))
        .await
        .map_err(|e| IpcError::Connection {
            addr: addr.to_string(),
            source: e,
        })
}

async fn receive<R: AsyncRead + Unpin>(
    addr: &str,
    rd: &mut R,
    max_len: usize,
) -> Result<RpcSaslProto, IpcError> {
    let frame = match frame::read_frame(rd, max_len).await {
        Ok(Some(f)) => f,
        Ok(None) => {
            return Err(IpcError::Connection {
                addr: addr.to_string(),
                source: std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "connection closed by the server during SASL negotiation",
                ),
            })
        }
        Err(frame::FrameReadError::Io(e)) => {
            return Err(IpcError::Connection {
                addr: addr.to_string(),
                source: e,
            })
        }
        Err(e) => return Err(protocol_error(addr, e.to_string())),
    };
    let (header, body) =
        frame::parse_response(frame).map_err(|e| protocol_error(addr, e.to_string()))?;
    if header.status != RpcStatusProto::Success as i32 {
        let fatal = header.status == RpcStatusProto::Fatal as i32;
        return Err(IpcError::Remote(RpcError {
            class_name: header.exception_class_name.clone().unwrap_or_default(),
            message: header.error_msg.clone().unwrap_or_default(),
            code: RpcErrorCode::from_wire(header.error_detail, fatal),
        }));
    }
    if header.call_id as i32 != crate::SASL_CALL_ID {
        return Err(protocol_error(
            addr,
            format!(
                "expected a SASL response, got call id {}",
                header.call_id as i32
            ),
        ));
    }
    RpcSaslProto::decode(body).map_err(|e| protocol_error(addr, e.to_string()))
}

/// Runs the exchange. `Ok(None)`: the connection goes on as SIMPLE (allowed only for a
/// SIMPLE client); `Ok(Some(session))`: authenticated, and the session wraps later
/// frames if its quality of protection says so.
pub async fn negotiate<R, W>(
    auth: &ClientAuth,
    addr: &str,
    protocol: &str,
    server_host: &str,
    rd: &mut R,
    wr: &mut W,
    max_len: usize,
) -> Result<Option<Box<dyn SaslClientSession>>, IpcError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let negotiate = RpcSaslProto {
        state: SaslState::Negotiate as i32,
        ..Default::default()
    };
    send(addr, wr, &negotiate).await?;
    let reply = receive(addr, rd, max_len).await?;
    match SaslState::try_from(reply.state) {
        Ok(SaslState::Success) if auth.is_secure() => {
            Err(refused(exceptions::ACCESS_CONTROL, SIMPLE_FALLBACK_REFUSED))
        }
        Ok(SaslState::Success) => Ok(None),
        Ok(SaslState::Negotiate) if !auth.is_secure() => {
            let simple = reply
                .auths
                .iter()
                .find(|a| a.method == AuthMethod::Simple.wire_name());
            let Some(simple) = simple else {
                return Err(refused(
                    exceptions::ACCESS_CONTROL,
                    format!(
                        "Client cannot authenticate via:{}; this client is configured for SIMPLE authentication (set hadoop.security.authentication=kerberos and get a ticket with kinit)",
                        offered_names(&reply.auths)
                    ),
                ));
            };
            let initiate = RpcSaslProto {
                state: SaslState::Initiate as i32,
                auths: vec![SaslAuth {
                    challenge: None,
                    ..simple.clone()
                }],
                ..Default::default()
            };
            send(addr, wr, &initiate).await?;
            Ok(None)
        }
        Ok(SaslState::Negotiate) => {
            let (offered, mut session) = select(auth, &reply.auths, protocol, server_host)?;
            let first = match &offered.challenge {
                Some(challenge) => match session.evaluate(challenge).map_err(sasl_failed)? {
                    MechStep::Continue(t) => Some(t),
                    MechStep::Complete(t) => t,
                },
                None => session.initial_response().map_err(sasl_failed)?,
            };
            let initiate = RpcSaslProto {
                state: SaslState::Initiate as i32,
                token: first.map(Bytes::from),
                auths: vec![SaslAuth {
                    challenge: None,
                    ..offered.clone()
                }],
                ..Default::default()
            };
            send(addr, wr, &initiate).await?;
            for _ in 0..MAX_SASL_ROUNDS {
                let reply = receive(addr, rd, max_len).await?;
                match SaslState::try_from(reply.state) {
                    Ok(SaslState::Challenge) => {
                        let challenge = reply.token.unwrap_or_default();
                        let answer = match session.evaluate(&challenge).map_err(sasl_failed)? {
                            MechStep::Continue(t) => t,
                            MechStep::Complete(t) => t.unwrap_or_default(),
                        };
                        let response = RpcSaslProto {
                            state: SaslState::Response as i32,
                            token: Some(answer.into()),
                            ..Default::default()
                        };
                        send(addr, wr, &response).await?;
                    }
                    Ok(SaslState::Success) => {
                        if let Some(last) = reply.token {
                            if !session.is_complete() {
                                if let MechStep::Continue(_) =
                                    session.evaluate(&last).map_err(sasl_failed)?
                                {
                                    return Err(refused(
                                        exceptions::SASL,
                                        "server sent SUCCESS but the mechanism expects more",
                                    ));
                                }
                            }
                        }
                        if !session.is_complete() {
                            return Err(refused(
                                exceptions::SASL,
                                "Client not complete: the server sent SUCCESS before the mechanism finished",
                            ));
                        }
                        return Ok(Some(session));
                    }
                    _ => {
                        return Err(protocol_error(
                            addr,
                            format!("unexpected SASL state {} from server", reply.state),
                        ))
                    }
                }
            }
            Err(protocol_error(
                addr,
                format!("SASL negotiation did not finish in {MAX_SASL_ROUNDS} rounds"),
            ))
        }
        _ => Err(protocol_error(
            addr,
            format!("unexpected SASL state {} from server", reply.state),
        )),
    }
}

fn offered_names(auths: &[SaslAuth]) -> String {
    let names: Vec<&str> = auths.iter().map(|a| a.method.as_str()).collect();
    format!("[{}]", names.join(", "))
}

/// The first offer (in the server's order) one of our mechanisms can answer.
fn select<'a>(
    auth: &ClientAuth,
    offers: &'a [SaslAuth],
    protocol: &str,
    server_host: &str,
) -> Result<(&'a SaslAuth, Box<dyn SaslClientSession>), IpcError> {
    for offered in offers {
        for m in &auth.mechanisms {
            if m.method().wire_name() != offered.method || m.mechanism() != offered.mechanism {
                continue;
            }
            if let Some(session) = m
                .start(offered, protocol, server_host)
                .map_err(|e| match e {
                    SaslError::Config(msg) => refused(exceptions::ILLEGAL_ARGUMENT, msg),
                    other => sasl_failed(other),
                })?
            {
                return Ok((offered, session));
            }
        }
    }
    Err(refused(
        exceptions::ACCESS_CONTROL,
        format!("Client cannot authenticate via:{}", offered_names(offers)),
    ))
}

fn sasl_failed(e: SaslError) -> IpcError {
    refused(exceptions::SASL, e.to_string())
}
