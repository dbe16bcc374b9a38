//! Who is calling: the identity behind a connection, and the SASL exchange that
//! establishes it.
//!
//! With SIMPLE authentication (Hadoop's `hadoop.security.authentication=simple`) the
//! client names its user in the connection context and the server believes it. With
//! Kerberos the server offers SASL methods ([`SaslMethod`]: TOKEN/DIGEST-MD5 with a
//! delegation token ([`token`]), KERBEROS/GSSAPI), the client proves who it is before the connection context, and the
//! context may only name that user — or another one the authenticated user is allowed to
//! impersonate. After a mechanism negotiated integrity or privacy, every frame in both
//! directions travels inside a SASL WRAP message ([`wrap`]). Handlers only ever see the
//! resulting [`CallContext`](crate::CallContext).
//!
//! - [`server`]: the server's state machine for call id -33 and the identity rules.
//! - [`client`]: what a client needs to authenticate ([`ClientAuth`]) and the exchange.
//! - [`token`]: the TOKEN method (DIGEST-MD5 with a delegation token), both sides.
//! - [`wrap`]: WRAP framing, both directions.

pub mod client;
pub mod kerberos;
pub mod login;
pub mod proxy_users;
pub mod server;
pub mod token;
pub mod wrap;

pub use client::{ClientAuth, ClientMechanism, SIMPLE_FALLBACK_REFUSED};
pub use login::{
    process_login, set_process_login, SecurityConfigError, SecuritySettings, ServiceRole,
};
pub use server::{
    identity_from_context, AuthenticatedUser, ImpersonationPolicy, SaslMethod, SaslServer,
    SaslStep, ServerAuth,
};

/// How a connection's user was established (Hadoop's `SaslRpcServer.AuthMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// The user is whatever the client says it is.
    Simple,
    /// The client proved a Kerberos principal (SASL GSSAPI).
    Kerberos,
    /// The client proved it holds a token's password (SASL DIGEST-MD5).
    Token,
}

impl AuthMethod {
    /// The name used in `SaslAuth.method`.
    pub fn wire_name(self) -> &'static str {
        match self {
            AuthMethod::Simple => "SIMPLE",
            AuthMethod::Kerberos => "KERBEROS",
            AuthMethod::Token => "TOKEN",
        }
    }

    /// The method with this wire name.
    pub fn from_wire_name(name: &str) -> Option<AuthMethod> {
        match name {
            "SIMPLE" => Some(AuthMethod::Simple),
            "KERBEROS" => Some(AuthMethod::Kerberos),
            "TOKEN" => Some(AuthMethod::Token),
            _ => None,
        }
    }
}

/// The caller of every call on one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The short user name calls run as (after `auth_to_local`, or as claimed with SIMPLE).
    pub user: String,
    /// The authenticated user behind a proxied `user`, if any.
    pub real_user: Option<String>,
    pub method: AuthMethod,
    /// The full Kerberos principal that authenticated (`alice@HAFS.TEST`), for
    /// service-level authorization and messages; `None` with SIMPLE.
    pub principal: Option<String>,
    /// The identifier of the token a TOKEN connection authenticated with.
    pub token_identifier: Option<Vec<u8>>,
}
