//! The seam between a SASL mechanism and the protocol that carries its tokens.
//!
//! Hadoop's IPC (call id -33, `RpcSaslProto`) and its data-transfer handshake
//! (`DataTransferEncryptorMessageProto`) both move opaque tokens between a client and a
//! server mechanism until both sides are complete, then optionally wrap every later byte.
//! The mechanisms here know nothing of either carrier: they take a token and give one back,
//! like Java's `javax.security.sasl.SaslServer.evaluateResponse` and
//! `SaslClient.evaluateChallenge`.

use std::fmt;

/// Quality of protection (Hadoop's `hadoop.rpc.protection` / `dfs.data.transfer.protection`
/// values, SASL's `javax.security.sasl.qop` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Qop {
    /// `authentication` / `auth`: who you are, no per-message protection.
    Authentication,
    /// `integrity` / `auth-int`: every message carries a MAC.
    Integrity,
    /// `privacy` / `auth-conf`: every message is encrypted and MACed.
    Privacy,
}

impl Qop {
    /// The SASL name: `auth`, `auth-int`, `auth-conf`.
    pub fn sasl_name(self) -> &'static str {
        match self {
            Qop::Authentication => "auth",
            Qop::Integrity => "auth-int",
            Qop::Privacy => "auth-conf",
        }
    }

    /// The Hadoop configuration name: `authentication`, `integrity`, `privacy`.
    pub fn hadoop_name(self) -> &'static str {
        match self {
            Qop::Authentication => "authentication",
            Qop::Integrity => "integrity",
            Qop::Privacy => "privacy",
        }
    }

    /// True when messages after the handshake are wrapped.
    pub fn wraps(self) -> bool {
        self != Qop::Authentication
    }

    /// Parses a Hadoop protection value (`hadoop.rpc.protection` is a comma-separated list;
    /// order is preference, as Hadoop's `SaslPropertiesResolver` keeps it).
    pub fn parse_hadoop_list(value: &str) -> Result<Vec<Qop>, SaslError> {
        let mut out = Vec::new();
        for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let qop = match part.to_ascii_lowercase().as_str() {
                "authentication" => Qop::Authentication,
                "integrity" => Qop::Integrity,
                "privacy" => Qop::Privacy,
                _ => {
                    return Err(SaslError::Config(format!(
                        "unknown protection '{part}': expected authentication, integrity or privacy"
                    )))
                }
            };
            if !out.contains(&qop) {
                out.push(qop);
            }
        }
        if out.is_empty() {
            return Err(SaslError::Config("empty protection list".into()));
        }
        Ok(out)
    }
}

impl fmt::Display for Qop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hadoop_name())
    }
}

/// What a mechanism step produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaslStep {
    /// Send this token to the peer and wait for its next one.
    Continue(Vec<u8>),
    /// This side is complete; send the token if there is one (DIGEST-MD5's `rspauth`,
    /// for example) and expect nothing more.
    Complete(Option<Vec<u8>>),
}

/// Why a SASL exchange or a wrapped message failed. Every variant is fatal to the
/// connection; messages name the problem the way Java's SASL and GSS errors do, so an
/// operator can search for them.
#[derive(Debug, thiserror::Error)]
pub enum SaslError {
    /// The peer's token does not parse, or arrives in the wrong state.
    #[error("malformed SASL token: {0}")]
    Malformed(String),
    /// The peer proved nothing or proved the wrong thing (bad password, bad ticket,
    /// replay, wrong service).
    #[error("{0}")]
    Authentication(String),
    /// The two sides share no quality of protection.
    #[error("No common protection layer between client and server")]
    NoCommonQop,
    /// A wrapped message failed its integrity check or could not be decrypted.
    #[error("wrapped message rejected: {0}")]
    Integrity(String),
    /// The GSSAPI library is missing or failed underneath.
    #[error("GSSAPI: {0}")]
    Gss(String),
    /// A configuration value (protection list, principal, keytab) is wrong.
    #[error("{0}")]
    Config(String),
    /// The server refuses the credentials with a specific Java exception, which Hadoop's
    /// server sends in place of a plain SaslException: an unknown, expired or cancelled
    /// token (`SecretManager$InvalidToken`), a Standby asked to check a token
    /// (`StandbyException`, so that the client fails over).
    #[error("{message}")]
    Refused {
        class: &'static str,
        message: String,
    },
}

/// The server half of one mechanism on one connection (Java's `SaslServer`).
pub trait SaslServerSession: Send {
    /// The mechanism name as advertised (`GSSAPI`, `DIGEST-MD5`).
    fn mechanism(&self) -> &'static str;
    /// Consumes the client's token (empty for the initial challenge of a mechanism that
    /// speaks first, as DIGEST-MD5 does) and says what to send back.
    fn evaluate(&mut self, response: &[u8]) -> Result<SaslStep, SaslError>;
    /// True once the exchange has succeeded.
    fn is_complete(&self) -> bool;
    /// Who the client proved to be, once complete: the full Kerberos principal for
    /// GSSAPI, the user name the client authenticated with for DIGEST-MD5.
    fn authorization_id(&self) -> Option<&str>;
    /// The negotiated quality of protection, once complete.
    fn qop(&self) -> Qop;
    /// Protects one outgoing message (only when `qop().wraps()`).
    fn wrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError>;
    /// Checks and opens one incoming message (only when `qop().wraps()`).
    fn unwrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError>;
}

/// The client half of one mechanism on one connection (Java's `SaslClient`).
pub trait SaslClientSession: Send {
    /// The mechanism name (`GSSAPI`, `DIGEST-MD5`).
    fn mechanism(&self) -> &'static str;
    /// The first token, sent with INITIATE, if the mechanism speaks first (GSSAPI does;
    /// DIGEST-MD5 waits for the server's challenge, which may already have come with the
    /// NEGOTIATE reply).
    fn initial_response(&mut self) -> Result<Option<Vec<u8>>, SaslError>;
    /// Consumes a server challenge and says what to send back.
    fn evaluate(&mut self, challenge: &[u8]) -> Result<SaslStep, SaslError>;
    /// True once the exchange has succeeded from the client's point of view.
    fn is_complete(&self) -> bool;
    /// The negotiated quality of protection, once complete.
    fn qop(&self) -> Qop;
    /// Protects one outgoing message.
    fn wrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError>;
    /// Checks and opens one incoming message.
    fn unwrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protection_lists_parse_in_order_and_refuse_unknown_names() {
        assert_eq!(
            Qop::parse_hadoop_list("privacy, integrity,authentication").unwrap(),
            vec![Qop::Privacy, Qop::Integrity, Qop::Authentication]
        );
        assert_eq!(
            Qop::parse_hadoop_list("Integrity,integrity").unwrap(),
            vec![Qop::Integrity]
        );
        assert!(Qop::parse_hadoop_list("secret").is_err());
        assert!(Qop::parse_hadoop_list(" , ").is_err());
    }
}
