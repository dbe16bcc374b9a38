//! The server side of authentication: the SASL state machine for call id -33, and the
//! rules that turn what the client proved plus what its connection context claims into
//! the connection's [`Identity`].
//!
//! The exchange follows Hadoop's `Server.Connection.processSaslMessage`:
//!
//! ```text
//! client                         server
//! NEGOTIATE                 →
//!                           ←    NEGOTIATE {auths: TOKEN (with its first challenge), KERBEROS}
//! INITIATE {one auth, token} →                 (must equal an advertised auth)
//!                           ←    CHALLENGE {token}   … RESPONSE {token} …
//!                           ←    SUCCESS {final token?}
//! connection context (-3)   →                 (only now; earlier is fatal)
//! ```
//!
//! A SIMPLE-only server (no methods configured) answers NEGOTIATE with SUCCESS, which the
//! Java client and hdfs-native take as "carry on as SIMPLE". Every failure here is fatal
//! to the connection (FATAL_UNAUTHORIZED), as in Hadoop.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use hafs_proto::common::{
    rpc_sasl_proto::{SaslAuth, SaslState},
    IpcConnectionContextProto, RpcSaslProto,
};
use hafs_security::sasl::{SaslError, SaslServerSession, SaslStep as MechStep};

use super::{AuthMethod, Identity};
use crate::error::{RpcError, RpcErrorCode};
use crate::exceptions;

/// One SASL method a secure server offers (Hadoop's `SaslRpcServer.AuthMethod` with its
/// mechanism and the server principal it advertises).
pub trait SaslMethod: Send + Sync {
    /// KERBEROS or TOKEN.
    fn method(&self) -> AuthMethod;
    /// `GSSAPI` or `DIGEST-MD5`.
    fn mechanism(&self) -> &'static str;
    /// Advertised protocol: the service principal's first component (`nn` for
    /// `nn/localhost@REALM`), empty for tokens.
    fn protocol(&self) -> &str;
    /// Advertised server id: the principal's host component, `default` for tokens.
    fn server_id(&self) -> &str;
    /// A fresh mechanism session for one connection.
    fn start(&self) -> Result<Box<dyn SaslServerSession>, SaslError>;
    /// Who a completed session's authorization id names: for Kerberos the principal and
    /// its `auth_to_local` short name, for a token its owner. Errors are fatal.
    fn authenticated_user(&self, authorization_id: &str) -> Result<AuthenticatedUser, RpcError>;
}

/// The user a SASL exchange proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedUser {
    /// The full name (`alice@HAFS.TEST`, `nn/localhost@HAFS.TEST`).
    pub name: String,
    /// The short name calls run as (`alice`, `hdfs`).
    pub short_name: String,
    /// For a token issued to a proxied user: the real user behind it.
    pub real_user: Option<String>,
    /// The identifier of the token that authenticated (TOKEN only): a DataNode checks
    /// a block token's block and mode against the call (Hadoop's `checkReadAccess`).
    pub token_identifier: Option<Vec<u8>>,
}

/// Decides whether an authenticated user may act as another one (Hadoop's
/// `ProxyUsers.authorize` over `hadoop.proxyuser.<user>.{hosts,groups,users}`).
pub trait ImpersonationPolicy: Send + Sync {
    /// `Err` carries Hadoop's message ("User: … is not allowed to impersonate …").
    fn authorize(
        &self,
        real: &AuthenticatedUser,
        effective: &str,
        peer: IpAddr,
    ) -> Result<(), String>;
}

/// How a server authenticates its callers. The default is SIMPLE.
#[derive(Clone, Default)]
pub struct ServerAuth {
    /// Offered in this order (Hadoop puts TOKEN first). Empty: SIMPLE only.
    pub methods: Vec<Arc<dyn SaslMethod>>,
    /// Who may impersonate whom; `None` refuses every impersonation.
    pub impersonation: Option<Arc<dyn ImpersonationPolicy>>,
    /// Service-level authorization (`hadoop.security.authorization`): for a protocol
    /// only daemons may speak, the principal its callers must be, unsubstituted
    /// (`dn/_HOST@REALM` for DatanodeProtocol: Hadoop's `@KerberosInfo(clientPrincipal)`).
    /// `_HOST` becomes the caller's host name.
    pub client_principals: Option<super::kerberos::ServerPrincipals>,
}

impl std::fmt::Debug for ServerAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerAuth")
            .field("methods", &self.method_names())
            .field("impersonation", &self.impersonation.is_some())
            .field("authorization", &self.client_principals.is_some())
            .finish()
    }
}

impl ServerAuth {
    /// True when callers must authenticate with SASL (SIMPLE is refused).
    pub fn is_secure(&self) -> bool {
        !self.methods.is_empty()
    }

    /// The offered methods as Hadoop lists them in messages: `[TOKEN, KERBEROS]`.
    pub fn method_names(&self) -> String {
        let names: Vec<&str> = self
            .methods
            .iter()
            .map(|m| m.method().wire_name())
            .collect();
        format!("[{}]", names.join(", "))
    }

    /// Hadoop's `ServiceAuthorizationManager.authorize` for the pinned protocols: a
    /// connection for `protocol` must come from the principal its callers run as, on the
    /// caller's own host. Checked once, when the connection context names the protocol.
    pub fn authorize(
        &self,
        protocol: &str,
        identity: &Identity,
        peer: IpAddr,
    ) -> Result<(), RpcError> {
        let Some(pins) = &self.client_principals else {
            return Ok(());
        };
        let Some(pattern) = pins(protocol) else {
            return Ok(());
        };
        let host = super::kerberos::canonical_host(&peer.to_string());
        let expected = hafs_security::kerberos_name::substitute_host(&pattern, &host);
        if identity.principal.as_deref() == Some(expected.as_str()) {
            return Ok(());
        }
        Err(unauthorized(
            exceptions::AUTHORIZATION,
            format!(
                "User {} ({}) is not authorized for protocol {protocol}, expected client Kerberos principal is {expected}",
                identity.principal.as_deref().unwrap_or(&identity.user),
                identity.method.wire_name()
            ),
        ))
    }

    /// The FATAL refusal of a client that did not ask for SASL.
    pub fn simple_refusal(&self) -> RpcError {
        unauthorized(
            exceptions::ACCESS_CONTROL,
            format!(
                "SIMPLE authentication is not enabled.  Available:{}",
                self.method_names()
            ),
        )
    }
}

/// What to do after a SASL message.
#[derive(Debug, PartialEq)]
pub enum SaslStep {
    /// Send this message (call id -33, status SUCCESS) and keep going.
    Reply(RpcSaslProto),
    /// Nothing to send; the client now proceeds as SIMPLE.
    Done,
}

/// A mechanism session. The mutex is never contended (one connection's reader owns it and
/// reaches it through `get_mut`); it only makes the state `Sync`, which the connection
/// needs across awaits, without asking every mechanism to be `Sync`.
type Session = Mutex<Box<dyn SaslServerSession>>;

fn session_mut(s: &mut Session) -> &mut Box<dyn SaslServerSession> {
    s.get_mut().unwrap_or_else(|e| e.into_inner())
}

enum Phase {
    /// Nothing received yet.
    Start,
    /// NEGOTIATE answered; a TOKEN session may already hold the challenge it sent.
    Negotiated { token_session: Option<Session> },
    /// INITIATE accepted; the mechanism is mid-exchange.
    Exchanging { method: usize, session: Session },
    /// SASL finished. `session` is kept for wrapping until the connection takes it.
    Established {
        user: Option<(AuthMethod, AuthenticatedUser)>,
        session: Option<Session>,
    },
}

/// Server side of the SASL exchange (call id -33) for one connection.
pub struct SaslServer {
    auth: ServerAuth,
    phase: Phase,
}

impl std::fmt::Debug for SaslServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaslServer")
            .field("auth", &self.auth)
            .field("established", &self.is_established())
            .finish()
    }
}

impl Default for SaslServer {
    fn default() -> Self {
        SaslServer::new(ServerAuth::default())
    }
}

impl SaslServer {
    pub fn new(auth: ServerAuth) -> SaslServer {
        SaslServer {
            auth,
            phase: Phase::Start,
        }
    }

    pub fn auth(&self) -> &ServerAuth {
        &self.auth
    }

    /// True once the client may send its connection context.
    pub fn is_established(&self) -> bool {
        matches!(self.phase, Phase::Established { .. })
    }

    /// After a successful secure exchange whose quality of protection wraps messages:
    /// the session that wraps and unwraps them (taken once).
    pub fn take_wrapping_session(&mut self) -> Option<Box<dyn SaslServerSession>> {
        match &mut self.phase {
            Phase::Established { session, .. } => {
                let wraps = match session.as_mut() {
                    Some(s) => session_mut(s).qop().wraps(),
                    None => false,
                };
                if wraps {
                    session
                        .take()
                        .map(|s| s.into_inner().unwrap_or_else(|e| e.into_inner()))
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// Handles one client SASL message. Errors are fatal to the connection.
    pub fn step(&mut self, msg: &RpcSaslProto) -> Result<SaslStep, RpcError> {
        if self.is_established() {
            return Err(
                RpcError::new(exceptions::IPC, "SASL negotiation is already complete")
                    .with_code(RpcErrorCode::FatalInvalidRpcHeader),
            );
        }
        let state = SaslState::try_from(msg.state).map_err(|_| {
            unauthorized(
                exceptions::SASL,
                format!("Client sent unsupported SASL state {}", msg.state),
            )
        })?;
        if !self.auth.is_secure() {
            return self.step_simple(state, msg);
        }
        match state {
            SaslState::Negotiate => self.negotiate(),
            SaslState::Initiate => self.initiate(msg),
            SaslState::Response => self.response(msg),
            other => Err(unauthorized(
                exceptions::SASL,
                format!("Client sent unexpected SASL state {}", other.as_str_name()),
            )),
        }
    }

    /// A SIMPLE-only server.
    fn step_simple(&mut self, state: SaslState, msg: &RpcSaslProto) -> Result<SaslStep, RpcError> {
        match state {
            SaslState::Negotiate => {
                if !matches!(self.phase, Phase::Start) {
                    return Err(unauthorized(
                        exceptions::SASL,
                        "Client already attempted negotiation".into(),
                    ));
                }
                self.phase = established_simple();
                // Answered with SUCCESS: the Java client and hdfs-native take that as
                // "switch to SIMPLE" and send no more SASL.
                Ok(SaslStep::Reply(RpcSaslProto {
                    state: SaslState::Success as i32,
                    ..Default::default()
                }))
            }
            SaslState::Initiate => {
                // A client may skip NEGOTIATE and pick a method directly; only SIMPLE is
                // offered, and choosing it needs no reply.
                match msg.auths.as_slice() {
                    [SaslAuth { method, .. }] if method == AuthMethod::Simple.wire_name() => {
                        self.phase = established_simple();
                        Ok(SaslStep::Done)
                    }
                    [SaslAuth { method, .. }] => Err(unauthorized(
                        exceptions::ACCESS_CONTROL,
                        format!("{method} authentication is not enabled.  Available:[SIMPLE]"),
                    )),
                    _ => Err(unauthorized(
                        exceptions::SASL,
                        "Client mechanism is malformed".into(),
                    )),
                }
            }
            other => Err(unauthorized(
                exceptions::SASL,
                format!("Client sent unsupported SASL state {}", other.as_str_name()),
            )),
        }
    }

    fn advertised(&self, m: &dyn SaslMethod) -> SaslAuth {
        SaslAuth {
            method: m.method().wire_name().to_string(),
            mechanism: m.mechanism().to_string(),
            protocol: Some(m.protocol().to_string()),
            server_id: Some(m.server_id().to_string()),
            challenge: None,
        }
    }

    fn negotiate(&mut self) -> Result<SaslStep, RpcError> {
        if !matches!(self.phase, Phase::Start) {
            return Err(unauthorized(
                exceptions::SASL,
                "Client already attempted negotiation".into(),
            ));
        }
        let mut auths = Vec::with_capacity(self.auth.methods.len());
        let mut token_session = None;
        for m in &self.auth.methods {
            let mut auth = self.advertised(m.as_ref());
            // DIGEST-MD5 speaks first: send its challenge now and save a round trip, as
            // Hadoop's buildSaslNegotiateResponse does for TOKEN.
            if m.method() == AuthMethod::Token && token_session.is_none() {
                let mut session = m.start().map_err(mechanism_failed)?;
                match session.evaluate(&[]).map_err(mechanism_failed)? {
                    MechStep::Continue(challenge) => auth.challenge = Some(challenge.into()),
                    MechStep::Complete(_) => {
                        return Err(unauthorized(
                            exceptions::SASL,
                            "token mechanism completed without a client response".into(),
                        ))
                    }
                }
                token_session = Some(Mutex::new(session));
            }
            auths.push(auth);
        }
        self.phase = Phase::Negotiated { token_session };
        Ok(SaslStep::Reply(RpcSaslProto {
            state: SaslState::Negotiate as i32,
            auths,
            ..Default::default()
        }))
    }

    fn initiate(&mut self, msg: &RpcSaslProto) -> Result<SaslStep, RpcError> {
        let token_session = match std::mem::replace(&mut self.phase, Phase::Start) {
            Phase::Start => None,
            Phase::Negotiated { token_session } => token_session,
            _ => {
                return Err(unauthorized(
                    exceptions::SASL,
                    "Client sent INITIATE twice".into(),
                ))
            }
        };
        let [client_auth] = msg.auths.as_slice() else {
            return Err(unauthorized(
                exceptions::SASL,
                "Client mechanism is malformed".into(),
            ));
        };
        let offered = self.auth.methods.iter().position(|m| {
            let a = self.advertised(m.as_ref());
            a.method == client_auth.method
                && a.mechanism == client_auth.mechanism
                && a.protocol.as_deref().unwrap_or("")
                    == client_auth.protocol.as_deref().unwrap_or("")
                && a.server_id.as_deref().unwrap_or("")
                    == client_auth.server_id.as_deref().unwrap_or("")
        });
        let Some(index) = offered else {
            return Err(unauthorized(
                exceptions::ACCESS_CONTROL,
                format!(
                    "{} authentication is not enabled.  Available:{}",
                    client_auth.method,
                    self.auth.method_names()
                ),
            ));
        };
        let method = self.auth.methods[index].clone();
        let session = match token_session {
            Some(s) if method.method() == AuthMethod::Token => s,
            _ => Mutex::new(method.start().map_err(mechanism_failed)?),
        };
        self.phase = Phase::Exchanging {
            method: index,
            session,
        };
        self.evaluate(msg)
    }

    fn response(&mut self, msg: &RpcSaslProto) -> Result<SaslStep, RpcError> {
        if !matches!(self.phase, Phase::Exchanging { .. }) {
            return Err(unauthorized(
                exceptions::SASL,
                "Client sent RESPONSE before INITIATE".into(),
            ));
        }
        self.evaluate(msg)
    }

    /// Feeds the client's token to the mechanism of the current exchange.
    fn evaluate(&mut self, msg: &RpcSaslProto) -> Result<SaslStep, RpcError> {
        let Phase::Exchanging { method, session } = &mut self.phase else {
            unreachable!("evaluate outside an exchange");
        };
        let Some(token) = msg.token.as_ref() else {
            return Err(unauthorized(
                exceptions::SASL,
                "Client did not send a token".into(),
            ));
        };
        let method = self.auth.methods[*method].clone();
        let session = session_mut(session);
        match session.evaluate(token).map_err(mechanism_failed)? {
            MechStep::Continue(challenge) => Ok(SaslStep::Reply(RpcSaslProto {
                state: SaslState::Challenge as i32,
                token: Some(challenge.into()),
                ..Default::default()
            })),
            MechStep::Complete(last) => {
                assert!(session.is_complete(), "mechanism said complete but is not");
                let id = session.authorization_id().ok_or_else(|| {
                    unauthorized(
                        exceptions::SASL,
                        "mechanism completed without an authorization id".into(),
                    )
                })?;
                let user = method.authenticated_user(id)?;
                let Phase::Exchanging { session, .. } =
                    std::mem::replace(&mut self.phase, Phase::Start)
                else {
                    unreachable!()
                };
                self.phase = Phase::Established {
                    user: Some((method.method(), user)),
                    session: Some(session),
                };
                Ok(SaslStep::Reply(RpcSaslProto {
                    state: SaslState::Success as i32,
                    token: last.map(Into::into),
                    ..Default::default()
                }))
            }
        }
    }

    /// The connection's identity once its context arrives. With SIMPLE the context is
    /// believed; after SASL it may only name the authenticated user, or — for a
    /// Kerberos user allowed to by the impersonation policy — another one.
    pub fn identity(
        &self,
        ctx: &IpcConnectionContextProto,
        peer: IpAddr,
    ) -> Result<Identity, RpcError> {
        let Phase::Established {
            user: Some((method, user)),
            ..
        } = &self.phase
        else {
            if self.auth.is_secure() {
                return Err(self.auth.simple_refusal());
            }
            // SIMPLE believes the names, but a proxy (a real user acting for another)
            // still needs the policy's leave, as in Hadoop.
            let id = identity_from_context(ctx)?;
            if let (Some(real), Some(policy)) = (&id.real_user, &self.auth.impersonation) {
                let real = AuthenticatedUser {
                    name: real.clone(),
                    short_name: real.clone(),
                    real_user: None,
                    token_identifier: None,
                };
                policy
                    .authorize(&real, &id.user, peer)
                    .map_err(|msg| unauthorized(exceptions::AUTHORIZATION, msg))?;
            }
            return Ok(id);
        };
        let claimed = ctx
            .user_info
            .as_ref()
            .and_then(|u| u.effective_user.as_deref())
            .filter(|u| !u.is_empty());
        let same = |c: &str| c == user.name || c == user.short_name;
        match claimed {
            None => Ok(authenticated_identity(*method, user)),
            Some(c) if same(c) => Ok(authenticated_identity(*method, user)),
            Some(c) if *method == AuthMethod::Token => Err(unauthorized(
                exceptions::ACCESS_CONTROL,
                format!(
                    "Authenticated user ({}) doesn't match what the client claims to be ({c})",
                    user.name
                ),
            )),
            Some(c) => {
                let refused = || format!("User: {} is not allowed to impersonate {c}", user.name);
                let verdict = match &self.auth.impersonation {
                    Some(policy) => policy.authorize(user, c, peer),
                    None => Err(refused()),
                };
                verdict.map_err(|msg| unauthorized(exceptions::AUTHORIZATION, msg))?;
                Ok(Identity {
                    user: c.to_string(),
                    real_user: Some(user.short_name.clone()),
                    method: *method,
                    principal: Some(user.name.clone()),
                    token_identifier: None,
                })
            }
        }
    }
}

fn established_simple() -> Phase {
    Phase::Established {
        user: None,
        session: None,
    }
}

fn authenticated_identity(method: AuthMethod, user: &AuthenticatedUser) -> Identity {
    Identity {
        user: user.short_name.clone(),
        real_user: user.real_user.clone(),
        method,
        principal: Some(user.name.clone()),
        token_identifier: user.token_identifier.clone(),
    }
}

/// A mechanism failure, sent to the client as Java's `SaslException`.
fn mechanism_failed(e: SaslError) -> RpcError {
    match e {
        SaslError::Refused { class, message } => unauthorized(class, message),
        other => unauthorized(exceptions::SASL, other.to_string()),
    }
}

fn unauthorized(class: &str, msg: String) -> RpcError {
    RpcError::new(class, msg).with_code(RpcErrorCode::FatalUnauthorized)
}

/// Derives a SIMPLE connection's identity from its connection context: the effective
/// user is taken as given; a context without one is refused, since every Hadoop client
/// sends it and files must have an owner.
pub fn identity_from_context(ctx: &IpcConnectionContextProto) -> Result<Identity, RpcError> {
    let info = ctx.user_info.as_ref();
    let user = info
        .and_then(|u| u.effective_user.clone())
        .filter(|u| !u.is_empty())
        .ok_or_else(|| {
            RpcError::access_control("connection context names no effective user")
                .with_code(RpcErrorCode::FatalUnauthorized)
        })?;
    let real_user = info
        .and_then(|u| u.real_user.clone())
        .filter(|r| !r.is_empty() && *r != user);
    Ok(Identity {
        user,
        real_user,
        method: AuthMethod::Simple,
        principal: None,
        token_identifier: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hafs_proto::common::UserInformationProto;

    #[test]
    fn a_simple_identity_takes_effective_and_real_user() {
        let ctx = IpcConnectionContextProto {
            user_info: Some(UserInformationProto {
                effective_user: Some("bob".into()),
                real_user: Some("oozie".into()),
            }),
            protocol: None,
        };
        let id = identity_from_context(&ctx).unwrap();
        assert_eq!(id.user, "bob");
        assert_eq!(id.real_user.as_deref(), Some("oozie"));
        assert_eq!(id.method, AuthMethod::Simple);
        let none = identity_from_context(&IpcConnectionContextProto::default()).unwrap_err();
        assert!(none.is_fatal());
    }

    #[test]
    fn a_simple_proxy_needs_the_policys_leave() {
        let ctx = |effective: &str| IpcConnectionContextProto {
            user_info: Some(UserInformationProto {
                effective_user: Some(effective.into()),
                real_user: Some("oozie".into()),
            }),
            protocol: None,
        };
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        // No policy installed: SIMPLE believes the context (an in-process server).
        let open = SaslServer::default();
        assert_eq!(open.identity(&ctx("bob"), peer).unwrap().user, "bob");
        // With proxy-user rules, as a NameNode runs: only what they allow.
        let mut conf = hafs_conf::Configuration::new();
        conf.set("hadoop.proxyuser.oozie.users", "bob");
        conf.set("hadoop.proxyuser.oozie.hosts", "127.0.0.1");
        let policy = super::super::proxy_users::ProxyUsers::new(
            super::super::proxy_users::ProxyUserRules::from_conf(&conf),
            Arc::new(|_: &str| Vec::new()),
        );
        let guarded = SaslServer::new(ServerAuth {
            impersonation: Some(Arc::new(policy)),
            ..ServerAuth::default()
        });
        let id = guarded.identity(&ctx("bob"), peer).unwrap();
        assert_eq!(
            (id.user.as_str(), id.real_user.as_deref()),
            ("bob", Some("oozie"))
        );
        let e = guarded.identity(&ctx("hdfs"), peer).unwrap_err();
        assert_eq!(e.class_name, exceptions::AUTHORIZATION);
        assert_eq!(e.message, "User: oozie is not allowed to impersonate hdfs");
        // Naming only oneself is no proxy at all.
        let own = IpcConnectionContextProto {
            user_info: Some(UserInformationProto {
                effective_user: Some("carol".into()),
                real_user: None,
            }),
            protocol: None,
        };
        assert_eq!(guarded.identity(&own, peer).unwrap().user, "carol");
    }

    #[test]
    fn a_simple_server_answers_negotiate_with_success_once() {
        let mut s = SaslServer::default();
        let neg = RpcSaslProto {
            state: SaslState::Negotiate as i32,
            ..Default::default()
        };
        match s.step(&neg).unwrap() {
            SaslStep::Reply(r) => assert_eq!(r.state, SaslState::Success as i32),
            other => panic!("unexpected {other:?}"),
        }
        assert!(s.is_established());
        assert!(s.take_wrapping_session().is_none());
        assert!(s.step(&neg).unwrap_err().is_fatal());
    }

    #[test]
    fn a_simple_server_accepts_initiate_simple_and_refuses_kerberos() {
        let init = |method: &str| RpcSaslProto {
            state: SaslState::Initiate as i32,
            auths: vec![SaslAuth {
                method: method.into(),
                mechanism: "".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut s = SaslServer::default();
        assert_eq!(s.step(&init("SIMPLE")).unwrap(), SaslStep::Done);
        let mut s = SaslServer::default();
        let e = s.step(&init("KERBEROS")).unwrap_err();
        assert_eq!(e.code, RpcErrorCode::FatalUnauthorized);
        assert_eq!(e.class_name, exceptions::ACCESS_CONTROL);
        assert_eq!(
            e.message,
            "KERBEROS authentication is not enabled.  Available:[SIMPLE]"
        );
    }
}
