//! Hadoop's KERBEROS authentication: the SASL `GSSAPI` mechanism (RFC 4752) over the
//! Kerberos 5 GSS-API mechanism in [`crate::gssapi`].
//!
//! The exchange, as Java 17's `GssKrb5Client`/`GssKrb5Server` run it under Hadoop IPC:
//!
//! 1. client INITIATE: the AP-REQ (first `gss_init_sec_context` token);
//! 2. server CHALLENGE: the AP-REP (mutual authentication);
//! 3. client RESPONSE: empty (its context is now established);
//! 4. server CHALLENGE: the security-layer offer, wrapped with integrity only: one byte
//!    of offered layers (1 none, 2 integrity, 4 privacy) and a 24-bit big-endian maximum
//!    message size;
//! 5. client RESPONSE: the chosen layer (exactly one bit), its own maximum size and an
//!    optional authorization id, wrapped the same way;
//! 6. server SUCCESS with no token.
//!
//! After that, at integrity or privacy, every message is `gss_wrap`ped with
//! confidentiality off or on.

use std::path::Path;
use std::sync::Arc;

use crate::gssapi::{
    Credential, GssError, InitiatorSource, Name, NameType, SecurityContext, CONF_FLAG, INTEG_FLAG,
    MUTUAL_FLAG, REPLAY_FLAG, SEQUENCE_FLAG,
};
use crate::sasl::{Qop, SaslClientSession, SaslError, SaslServerSession, SaslStep};

/// The SASL mechanism name Hadoop advertises for KERBEROS.
pub const MECHANISM: &str = "GSSAPI";

/// The largest wrapped message each side says it accepts (Java's default
/// `javax.security.sasl.maxbuffer`).
pub const MAX_BUFFER: u32 = 65_536;

/// RFC 4752 security-layer bits.
const LAYER_NONE: u8 = 1;
const LAYER_INTEGRITY: u8 = 2;
const LAYER_PRIVACY: u8 = 4;

fn layer_bit(qop: Qop) -> u8 {
    match qop {
        Qop::Authentication => LAYER_NONE,
        Qop::Integrity => LAYER_INTEGRITY,
        Qop::Privacy => LAYER_PRIVACY,
    }
}

fn layer_qop(bit: u8) -> Option<Qop> {
    match bit {
        LAYER_NONE => Some(Qop::Authentication),
        LAYER_INTEGRITY => Some(Qop::Integrity),
        LAYER_PRIVACY => Some(Qop::Privacy),
        _ => None,
    }
}

/// The 4-byte layer message: layer bits and a 24-bit big-endian size.
fn layer_message(bits: u8, max_size: u32) -> [u8; 4] {
    let s = max_size.min(0x00ff_ffff).to_be_bytes();
    [bits, s[1], s[2], s[3]]
}

fn parse_layer_message(msg: &[u8]) -> Result<(u8, u32), SaslError> {
    if msg.len() < 4 {
        return Err(SaslError::Malformed(format!(
            "security layer message of {} bytes; RFC 4752 needs at least 4",
            msg.len()
        )));
    }
    Ok((msg[0], u32::from_be_bytes([0, msg[1], msg[2], msg[3]])))
}

/// The layer a client picks from a server's offer: the first of its own list (in the
/// order of its `hadoop.rpc.protection`, as Java's `GssKrb5Client` walks its QOP list)
/// that the server offers.
pub fn choose_layer(offered_bits: u8, allowed: &[Qop]) -> Result<Qop, SaslError> {
    allowed
        .iter()
        .copied()
        .find(|q| offered_bits & layer_bit(*q) != 0)
        .ok_or(SaslError::NoCommonQop)
}

fn check_qops(allowed: &[Qop]) -> Result<Vec<Qop>, SaslError> {
    if allowed.is_empty() {
        return Err(SaslError::Config(
            "no quality of protection allowed for Kerberos".into(),
        ));
    }
    Ok(allowed.to_vec())
}

fn gss_config(e: GssError) -> SaslError {
    match e {
        GssError::Library(m) => SaslError::Gss(m),
        other => SaslError::Gss(other.to_string()),
    }
}

fn gss_auth(e: GssError) -> SaslError {
    match e {
        GssError::Library(m) => SaslError::Gss(m),
        other => SaslError::Authentication(format!("GSS initiate failed: {other}")),
    }
}

fn gss_integrity(e: GssError) -> SaslError {
    match e {
        GssError::Library(m) => SaslError::Gss(m),
        other => SaslError::Integrity(other.to_string()),
    }
}

/// Opens a wrapped message at `qop`: integrity-only at integrity, encrypted at privacy;
/// anything else is refused (a peer or a man in the middle downgrading privacy).
fn unwrap_at(ctx: &mut SecurityContext, qop: Qop, data: &[u8]) -> Result<Vec<u8>, SaslError> {
    if !qop.wraps() {
        return Err(SaslError::Integrity(
            "no security layer was negotiated (authentication only), so nothing is wrapped".into(),
        ));
    }
    let (plain, encrypted) = ctx.unwrap(data).map_err(gss_integrity)?;
    let want = qop == Qop::Privacy;
    if encrypted != want {
        return Err(SaslError::Integrity(format!(
            "message {} encrypted at {qop}",
            if encrypted { "was" } else { "was not" }
        )));
    }
    Ok(plain)
}

fn wrap_at(ctx: &mut SecurityContext, qop: Qop, data: &[u8]) -> Result<Vec<u8>, SaslError> {
    if !qop.wraps() {
        return Err(SaslError::Integrity(
            "no security layer was negotiated (authentication only), so nothing is wrapped".into(),
        ));
    }
    ctx.wrap(data, qop == Qop::Privacy).map_err(gss_integrity)
}

// ------------------------------------------------------------------------- server

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerState {
    /// Accepting context tokens.
    Context,
    /// The context is established and the AP-REP was sent; the client answers empty.
    AwaitEmpty,
    /// The layer offer was sent; the client answers with its choice.
    AwaitChoice,
    Complete,
    Failed,
}

/// The server side of KERBEROS/GSSAPI for one connection.
#[derive(Debug)]
pub struct GssapiServer {
    ctx: SecurityContext,
    allowed: Vec<Qop>,
    state: ServerState,
    qop: Qop,
    client: Option<String>,
    peer_max_buffer: u32,
}

impl GssapiServer {
    /// A server session accepting with `cred` (see [`acceptor_credential`]; one
    /// credential serves every connection), offering the layers in `allowed`.
    pub fn new(cred: Arc<Credential>, allowed: &[Qop]) -> Result<GssapiServer, SaslError> {
        Ok(GssapiServer {
            ctx: SecurityContext::acceptor(cred).map_err(gss_config)?,
            allowed: check_qops(allowed)?,
            state: ServerState::Context,
            qop: Qop::Authentication,
            client: None,
            peer_max_buffer: 0,
        })
    }

    /// The largest wrapped message the client said it accepts (0 before completion or
    /// without a security layer).
    pub fn peer_max_buffer(&self) -> u32 {
        self.peer_max_buffer
    }

    /// The underlying GSS context, for tests that forge messages with another
    /// protection than the negotiated one; the IPC layer has no use for it.
    #[doc(hidden)]
    pub fn security_context_mut(&mut self) -> &mut SecurityContext {
        &mut self.ctx
    }

    fn offer(&mut self) -> Result<SaslStep, SaslError> {
        let bits = self.allowed.iter().fold(0u8, |b, q| b | layer_bit(*q));
        let msg = layer_message(bits, MAX_BUFFER);
        // RFC 4752: the offer is protected for integrity only, whatever is negotiated.
        let token = self.ctx.wrap(&msg, false).map_err(gss_auth)?;
        self.state = ServerState::AwaitChoice;
        Ok(SaslStep::Continue(token))
    }

    fn choice(&mut self, response: &[u8]) -> Result<SaslStep, SaslError> {
        let (msg, _) = self.ctx.unwrap(response).map_err(gss_auth)?;
        let (bits, max) = parse_layer_message(&msg)?;
        let qop = layer_qop(bits)
            .filter(|q| self.allowed.contains(q))
            .ok_or_else(|| {
                SaslError::Authentication(format!(
                    "client selected unsupported protection: {bits:#04x}"
                ))
            })?;
        let principal = self
            .ctx
            .peer_principal()
            .ok_or_else(|| SaslError::Authentication("no client principal".into()))?
            .to_string();
        let authzid = &msg[4..];
        if !authzid.is_empty() && authzid != principal.as_bytes() {
            // Hadoop proxies users in the connection context, never here; a different
            // authorization id is a client trying to be someone else.
            return Err(SaslError::Authentication(format!(
                "{principal} may not act as authorization id {:?}",
                String::from_utf8_lossy(authzid)
            )));
        }
        tracing::debug!(client = %principal, %qop, "GSSAPI SASL complete");
        self.qop = qop;
        self.peer_max_buffer = if qop.wraps() { max } else { 0 };
        self.client = Some(principal);
        self.state = ServerState::Complete;
        Ok(SaslStep::Complete(None))
    }

    fn advance(&mut self, response: &[u8]) -> Result<SaslStep, SaslError> {
        match self.state {
            ServerState::Context => {
                let step = self.ctx.step(Some(response)).map_err(gss_auth)?;
                if !step.established {
                    return Ok(SaslStep::Continue(step.token));
                }
                if step.token.is_empty() {
                    // No AP-REP (the client did not ask for mutual authentication):
                    // the offer follows at once.
                    return self.offer();
                }
                self.state = ServerState::AwaitEmpty;
                Ok(SaslStep::Continue(step.token))
            }
            ServerState::AwaitEmpty => {
                if !response.is_empty() {
                    return Err(SaslError::Malformed(format!(
                        "expected an empty response after the AP-REP, got {} bytes",
                        response.len()
                    )));
                }
                self.offer()
            }
            ServerState::AwaitChoice => self.choice(response),
            ServerState::Complete | ServerState::Failed => Err(SaslError::Malformed(
                "GSSAPI exchange already finished".into(),
            )),
        }
    }
}

/// The acceptor credential for exactly `principal` (`nn/localhost@HAFS.TEST`) from its
/// keytab (`dfs.namenode.keytab.file`).
pub fn acceptor_credential(principal: &str, keytab: &Path) -> Result<Arc<Credential>, SaslError> {
    Credential::acceptor(principal, keytab)
        .map(Arc::new)
        .map_err(gss_config)
}

impl SaslServerSession for GssapiServer {
    fn mechanism(&self) -> &'static str {
        MECHANISM
    }

    fn evaluate(&mut self, response: &[u8]) -> Result<SaslStep, SaslError> {
        let r = self.advance(response);
        if r.is_err() {
            self.state = ServerState::Failed;
        }
        r
    }

    fn is_complete(&self) -> bool {
        self.state == ServerState::Complete
    }

    fn authorization_id(&self) -> Option<&str> {
        self.client.as_deref()
    }

    fn qop(&self) -> Qop {
        self.qop
    }

    fn wrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError> {
        if !self.is_complete() {
            return Err(SaslError::Integrity("GSSAPI exchange not complete".into()));
        }
        wrap_at(&mut self.ctx, self.qop, data)
    }

    fn unwrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError> {
        if !self.is_complete() {
            return Err(SaslError::Integrity("GSSAPI exchange not complete".into()));
        }
        unwrap_at(&mut self.ctx, self.qop, data)
    }
}

// ------------------------------------------------------------------------- client

/// The service a client authenticates to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceTarget {
    /// A full principal, `nn/localhost@HAFS.TEST` (`dfs.namenode.kerberos.principal`
    /// after `_HOST` substitution).
    Principal(String),
    /// Hadoop's protocol and server id from the NEGOTIATE reply (`nn`, `localhost`):
    /// the host-based service `nn@localhost`, which the library maps to
    /// `nn/localhost@<realm of localhost>` as Java's SASL client does.
    HostBased { service: String, host: String },
}

impl ServiceTarget {
    fn name(&self) -> Result<Name, SaslError> {
        match self {
            ServiceTarget::Principal(p) => Name::import(p, NameType::Principal),
            ServiceTarget::HostBased { service, host } => {
                Name::import(&format!("{service}@{host}"), NameType::HostBasedService)
            }
        }
        .map_err(gss_config)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientState {
    Start,
    Context,
    AwaitOffer,
    Complete,
    Failed,
}

/// The client side of KERBEROS/GSSAPI for one connection.
#[derive(Debug)]
pub struct GssapiClient {
    ctx: SecurityContext,
    allowed: Vec<Qop>,
    /// Sent as the authorization id (Hadoop's server accepts it only when it equals the
    /// authenticated principal); none sends none, as Java's client does for Hadoop.
    authzid: Option<String>,
    state: ClientState,
    qop: Qop,
    peer_max_buffer: u32,
}

impl GssapiClient {
    /// A client session to `target` with credentials from `source`, accepting the layers
    /// in `allowed` (order is preference).
    pub fn new(
        target: &ServiceTarget,
        source: &InitiatorSource,
        allowed: &[Qop],
    ) -> Result<GssapiClient, SaslError> {
        let cred = Credential::initiator(source).map_err(gss_config)?;
        Self::with_credential(Arc::new(cred), target, allowed)
    }

    /// As [`GssapiClient::new`] with a credential acquired once for many connections.
    pub fn with_credential(
        cred: Arc<Credential>,
        target: &ServiceTarget,
        allowed: &[Qop],
    ) -> Result<GssapiClient, SaslError> {
        let authzid = cred.principal().map(str::to_string);
        let flags = MUTUAL_FLAG | REPLAY_FLAG | SEQUENCE_FLAG | CONF_FLAG | INTEG_FLAG;
        let ctx = SecurityContext::initiator(cred, target.name()?, flags).map_err(gss_config)?;
        Ok(GssapiClient {
            ctx,
            allowed: check_qops(allowed)?,
            authzid,
            state: ClientState::Start,
            qop: Qop::Authentication,
            peer_max_buffer: 0,
        })
    }

    /// Sends `authzid` as the authorization id in the layer choice (by default the
    /// principal of a client-keytab credential, none for a ticket cache).
    pub fn set_authorization_id(&mut self, authzid: Option<String>) {
        self.authzid = authzid;
    }

    /// The largest wrapped message the server said it accepts (0 before completion).
    pub fn peer_max_buffer(&self) -> u32 {
        self.peer_max_buffer
    }

    /// The underlying GSS context, for tests that forge messages with another
    /// protection than the negotiated one; the IPC layer has no use for it.
    #[doc(hidden)]
    pub fn security_context_mut(&mut self) -> &mut SecurityContext {
        &mut self.ctx
    }

    fn advance(&mut self, challenge: &[u8]) -> Result<SaslStep, SaslError> {
        match self.state {
            ClientState::Start => Err(SaslError::Malformed(
                "GSSAPI speaks first: initial_response was not called".into(),
            )),
            ClientState::Context => {
                let step = self.ctx.step(Some(challenge)).map_err(gss_auth)?;
                if step.established {
                    self.state = ClientState::AwaitOffer;
                }
                Ok(SaslStep::Continue(step.token))
            }
            ClientState::AwaitOffer => {
                let (msg, _) = self.ctx.unwrap(challenge).map_err(gss_auth)?;
                let (offered, max) = parse_layer_message(&msg)?;
                let qop = choose_layer(offered, &self.allowed)?;
                let my_max = if qop.wraps() { MAX_BUFFER } else { 0 };
                let mut answer = layer_message(layer_bit(qop), my_max).to_vec();
                if let Some(id) = &self.authzid {
                    answer.extend_from_slice(id.as_bytes());
                }
                let token = self.ctx.wrap(&answer, false).map_err(gss_auth)?;
                tracing::debug!(%qop, "GSSAPI SASL complete");
                self.qop = qop;
                self.peer_max_buffer = if qop.wraps() { max } else { 0 };
                self.state = ClientState::Complete;
                Ok(SaslStep::Complete(Some(token)))
            }
            ClientState::Complete | ClientState::Failed => Err(SaslError::Malformed(
                "GSSAPI exchange already finished".into(),
            )),
        }
    }
}

impl SaslClientSession for GssapiClient {
    fn mechanism(&self) -> &'static str {
        MECHANISM
    }

    fn initial_response(&mut self) -> Result<Option<Vec<u8>>, SaslError> {
        if self.state != ClientState::Start {
            return Err(SaslError::Malformed("initial_response called twice".into()));
        }
        match self.ctx.step(None) {
            Ok(step) => {
                // With mutual authentication requested the context never completes in
                // one step; the AP-REP comes back first.
                self.state = if step.established {
                    ClientState::AwaitOffer
                } else {
                    ClientState::Context
                };
                Ok(Some(step.token))
            }
            Err(e) => {
                self.state = ClientState::Failed;
                Err(match gss_auth(e) {
                    // The user can fix this one: say how.
                    SaslError::Authentication(m) if m.contains("Ticket expired") => {
                        SaslError::Authentication(format!(
                            "{m} (the Kerberos ticket has expired: run kinit)"
                        ))
                    }
                    other => other,
                })
            }
        }
    }

    fn evaluate(&mut self, challenge: &[u8]) -> Result<SaslStep, SaslError> {
        let r = self.advance(challenge);
        if r.is_err() {
            self.state = ClientState::Failed;
        }
        r
    }

    fn is_complete(&self) -> bool {
        self.state == ClientState::Complete
    }

    fn qop(&self) -> Qop {
        self.qop
    }

    fn wrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError> {
        if !self.is_complete() {
            return Err(SaslError::Integrity("GSSAPI exchange not complete".into()));
        }
        wrap_at(&mut self.ctx, self.qop, data)
    }

    fn unwrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError> {
        if !self.is_complete() {
            return Err(SaslError::Integrity("GSSAPI exchange not complete".into()));
        }
        unwrap_at(&mut self.ctx, self.qop, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_messages_round_trip_and_clamp_to_24_bits() {
        assert_eq!(layer_message(6, 65_536), [6, 0x01, 0x00, 0x00]);
        assert_eq!(layer_message(1, u32::MAX), [1, 0xff, 0xff, 0xff]);
        assert_eq!(parse_layer_message(&[4, 0, 1, 0, b'a']).unwrap(), (4, 256));
        assert!(matches!(
            parse_layer_message(&[4, 0, 1]),
            Err(SaslError::Malformed(_))
        ));
    }

    #[test]
    fn the_client_takes_the_first_of_its_list_the_server_offers() {
        let all = LAYER_NONE | LAYER_INTEGRITY | LAYER_PRIVACY;
        assert_eq!(
            choose_layer(all, &[Qop::Privacy, Qop::Integrity]).unwrap(),
            Qop::Privacy
        );
        assert_eq!(
            choose_layer(
                LAYER_NONE | LAYER_INTEGRITY,
                &[Qop::Privacy, Qop::Integrity]
            )
            .unwrap(),
            Qop::Integrity
        );
        assert_eq!(
            choose_layer(all, &[Qop::Authentication, Qop::Privacy]).unwrap(),
            Qop::Authentication
        );
        assert!(matches!(
            choose_layer(LAYER_NONE, &[Qop::Privacy]),
            Err(SaslError::NoCommonQop)
        ));
        assert!(matches!(
            choose_layer(0, &[Qop::Authentication]),
            Err(SaslError::NoCommonQop)
        ));
    }
}
