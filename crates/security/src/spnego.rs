//! Kerberos over HTTP: SPNEGO in the `Negotiate` scheme (RFC 4559), as Hadoop's
//! `AuthenticationFilter` with `KerberosAuthenticationHandler` does it, free of any HTTP
//! server or client. A server passes the request's `Authorization` header to
//! [`SpnegoAcceptor::accept`] and gets the caller's principal and the header value to
//! answer with, or a refusal that says which status to send; a client gets its
//! `Authorization` value from [`SpnegoInitiator::begin`] and checks the server's reply
//! with [`ClientExchange::finish`].
//!
//! Every exchange is one round trip (Kerberos needs no more): the client's first token
//! carries its ticket, the server's answer carries the mutual-authentication reply. A
//! server that would need another leg refuses, since it keeps no state between
//! requests (Hadoop's handler does the same).
//!
//! GSS calls block (keytab and replay-cache files): servers run [`SpnegoAcceptor::accept`]
//! off their async threads.

use std::path::Path;
use std::sync::Arc;

use crate::block_token::{base64_decode, base64_encode};
use crate::gssapi::{
    Credential, GssError, InitiatorSource, Mechanism, Name, NameType, SecurityContext, MUTUAL_FLAG,
};

/// The HTTP authentication scheme.
pub const NEGOTIATE: &str = "Negotiate";

/// Longest base64 token accepted in an `Authorization` or `WWW-Authenticate` value:
/// Hadoop's default request header limit (`hadoop.http.max.request.header.size`,
/// 64 KiB). A Kerberos ticket with a large PAC stays well below it.
pub const MAX_ENCODED_TOKEN: usize = 64 * 1024;

/// Why a request is not authenticated, and so which status it gets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpnegoRefusal {
    /// No `Authorization: Negotiate …`: answer 401 with `WWW-Authenticate: Negotiate`
    /// so the client knows to send its ticket.
    #[error("Authentication required")]
    Required,
    /// A token that is malformed, too large, or that Kerberos refuses (wrong service,
    /// expired, replayed, forged): answer 403, as Hadoop's filter does.
    #[error("{0}")]
    Refused(String),
}

impl SpnegoRefusal {
    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            SpnegoRefusal::Required => 401,
            SpnegoRefusal::Refused(_) => 403,
        }
    }
}

/// A request that authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The caller's full principal, `nn/host@REALM` or `alice@REALM`.
    pub principal: String,
    /// The value for a `WWW-Authenticate` header on the response (`Negotiate <b64>`),
    /// carrying the mutual-authentication reply; `None` when the mechanism has none.
    pub www_authenticate: Option<String>,
}

/// The token of a `Negotiate` header value; `Ok(None)` for another scheme or none.
/// The scheme is case-insensitive (RFC 7235).
pub fn negotiate_token(value: &str) -> Result<Option<Vec<u8>>, String> {
    let value = value.trim();
    let (scheme, rest) = match value.split_once([' ', '\t']) {
        Some((s, r)) => (s, r.trim()),
        None => (value, ""),
    };
    if !scheme.eq_ignore_ascii_case(NEGOTIATE) || rest.is_empty() {
        return Ok(None);
    }
    if rest.len() > MAX_ENCODED_TOKEN {
        return Err(format!(
            "the Negotiate token of {} bytes is over the {MAX_ENCODED_TOKEN}-byte limit",
            rest.len()
        ));
    }
    match base64_decode(rest) {
        Some(t) if !t.is_empty() => Ok(Some(t)),
        _ => Err("the Negotiate token is not base64".to_string()),
    }
}

/// The server side: an acceptor credential for the HTTP principal
/// (`HTTP/host@REALM`) from its keytab, shared by all requests.
pub struct SpnegoAcceptor {
    cred: Arc<Credential>,
    principal: String,
}

impl std::fmt::Debug for SpnegoAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpnegoAcceptor")
            .field("principal", &self.principal)
            .finish()
    }
}

impl SpnegoAcceptor {
    /// Reads `principal`'s keys from `keytab` now, so a wrong setting stops the server
    /// at startup rather than failing every request.
    pub fn new(principal: &str, keytab: &Path) -> Result<SpnegoAcceptor, GssError> {
        let cred = Credential::acceptor_for(principal, keytab, Mechanism::Spnego)?;
        Ok(SpnegoAcceptor {
            cred: Arc::new(cred),
            principal: principal.to_string(),
        })
    }

    /// The HTTP principal requests must be addressed to.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// Authenticates a request from its `Authorization` header value. Blocks.
    pub fn accept(&self, authorization: Option<&str>) -> Result<Accepted, SpnegoRefusal> {
        let Some(value) = authorization else {
            return Err(SpnegoRefusal::Required);
        };
        let token = match negotiate_token(value) {
            Ok(Some(t)) => t,
            Ok(None) => return Err(SpnegoRefusal::Required),
            Err(e) => return Err(SpnegoRefusal::Refused(e)),
        };
        let refused = |e: GssError| SpnegoRefusal::Refused(format!("GSSException: {e}"));
        let mut ctx = SecurityContext::acceptor(self.cred.clone()).map_err(refused)?;
        let step = ctx.step(Some(&token)).map_err(refused)?;
        if !step.established {
            return Err(SpnegoRefusal::Refused(
                "the Negotiate exchange needs another round trip; send a Kerberos token"
                    .to_string(),
            ));
        }
        let principal = ctx
            .peer_principal()
            .ok_or_else(|| SpnegoRefusal::Refused("no client principal".to_string()))?
            .to_string();
        Ok(Accepted {
            principal,
            www_authenticate: (!step.token.is_empty())
                .then(|| format!("{NEGOTIATE} {}", base64_encode(&step.token))),
        })
    }
}

/// The client side: an initiator credential (a daemon's keytab login, or a ticket
/// cache) for SPNEGO. Clones share the credential.
#[derive(Clone)]
pub struct SpnegoInitiator {
    cred: Arc<Credential>,
}

impl std::fmt::Debug for SpnegoInitiator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpnegoInitiator")
            .field("principal", &self.cred.principal())
            .finish()
    }
}

impl SpnegoInitiator {
    pub fn new(source: &InitiatorSource) -> Result<SpnegoInitiator, GssError> {
        let cred = Credential::initiator_for(source, Mechanism::Spnego)?;
        Ok(SpnegoInitiator {
            cred: Arc::new(cred),
        })
    }

    /// Starts an exchange with the HTTP server on `host` (service `HTTP/<host>`, the
    /// realm from krb5.conf's domain mapping or default realm, as curl and Java do).
    /// Blocks (may ask the KDC for a service ticket).
    pub fn begin(&self, host: &str) -> Result<ClientExchange, GssError> {
        let target = Name::import(&format!("HTTP@{host}"), NameType::HostBasedService)?;
        let mut ctx = SecurityContext::initiator_for(
            self.cred.clone(),
            target,
            MUTUAL_FLAG,
            Mechanism::Spnego,
        )?;
        let step = ctx.step(None)?;
        Ok(ClientExchange {
            authorization: format!("{NEGOTIATE} {}", base64_encode(&step.token)),
            ctx,
            host: host.to_string(),
        })
    }
}

/// One client exchange: the `Authorization` value to send, then the server's answer
/// to check.
pub struct ClientExchange {
    /// The `Authorization` header value (`Negotiate <b64>`).
    pub authorization: String,
    ctx: SecurityContext,
    host: String,
}

impl ClientExchange {
    /// Checks the server's `WWW-Authenticate` value on a successful response: the
    /// server must prove it holds `HTTP/<host>`'s key (mutual authentication) before
    /// the client trusts what it sends or sends it anything secret. Blocks.
    pub fn finish(mut self, www_authenticate: Option<&str>) -> Result<(), String> {
        if self.ctx.is_established() {
            return Ok(());
        }
        let token = match www_authenticate.map(negotiate_token) {
            Some(Ok(Some(t))) => t,
            Some(Err(e)) => return Err(format!("HTTP/{}: {e}", self.host)),
            _ => {
                return Err(format!(
                    "the server did not authenticate itself as HTTP/{} (no Negotiate reply)",
                    self.host
                ))
            }
        };
        let step = self
            .ctx
            .step(Some(&token))
            .map_err(|e| format!("the server's Negotiate reply does not verify: {e}"))?;
        if !step.established {
            return Err("the server wants another Negotiate round trip".to_string());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_negotiate_values() {
        assert_eq!(negotiate_token("Negotiate YWJj"), Ok(Some(b"abc".to_vec())));
        assert_eq!(
            negotiate_token("negotiate   YWJj "),
            Ok(Some(b"abc".to_vec()))
        );
        assert_eq!(negotiate_token("Basic YWJj"), Ok(None));
        assert_eq!(negotiate_token("Negotiate"), Ok(None));
        assert_eq!(negotiate_token(""), Ok(None));
        assert!(negotiate_token("Negotiate ***").is_err());
        let huge = format!("Negotiate {}", "A".repeat(MAX_ENCODED_TOKEN + 4));
        assert!(negotiate_token(&huge).unwrap_err().contains("limit"));
    }

    #[test]
    fn refusals_map_to_hadoop_statuses() {
        assert_eq!(SpnegoRefusal::Required.status(), 401);
        assert_eq!(SpnegoRefusal::Refused("x".into()).status(), 403);
    }
}
