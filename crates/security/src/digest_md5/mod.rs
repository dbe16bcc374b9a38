//! DIGEST-MD5 (RFC 2831) as Hadoop uses it for TOKEN authentication: the user name is
//! the base64 of a token identifier, the password the base64 of the token's HMAC, and the
//! mechanism proves both sides know the password without sending it, then optionally
//! protects every later message (`auth-int`, `auth-conf` with 3DES).
//!
//! Written against what Java 17's `com.sun.security.sasl.digest` sends and accepts, since
//! Java clients and servers are the peers that matter:
//! - the server speaks first: `realm="…",nonce="…",qop="…",charset=utf-8,cipher="3des",
//!   algorithm=md5-sess`;
//! - realm is the server name; digest-uri is `protocol/server-name`. Hadoop IPC uses
//!   protocol "" and server name "default" (`/default`); data transfer uses "hdfs" and "0"
//!   (`hdfs/0`);
//! - only the cipher 3des is offered or chosen: Java prefers it and hdfs-native supports
//!   nothing else, and the others (rc4, des) are weaker still.
//!
//! - [`directives`]: the challenge/response syntax.
//! - [`keys`]: `response`, `rspauth` and the session keys.
//! - [`layer`]: the integrity and privacy wrapping.

mod directives;
mod keys;
mod layer;

use directives::{split_list, DirectiveWriter, Directives, MAX_CHALLENGE, MAX_RESPONSE};
use keys::{
    a1_hash, constant_time_eq, random_nonce, response_value, DigestInputs, SessionKeys, NONCE_COUNT,
};
use layer::{SecurityLayer, Side};

use crate::sasl::{Qop, SaslClientSession, SaslError, SaslServerSession, SaslStep};

/// The SASL mechanism name.
pub const MECHANISM: &str = "DIGEST-MD5";
/// The only cipher hafs offers or accepts at `auth-conf`.
pub const CIPHER_3DES: &str = "3des";
/// The receive buffer both sides announce (RFC 2831's default, and what Java sends).
pub const DEFAULT_MAXBUF: u32 = 65536;
/// RFC 2831: maxbuf "MUST be … larger than 16 and smaller or equal to 16777215".
const MAXBUF_RANGE: std::ops::RangeInclusive<u32> = 17..=16_777_215;

/// Looks up the password for a user name: in Hadoop the user name is the base64 of a
/// token identifier and the answer the base64 of the token's password, as bytes. An
/// error (an unknown, expired or cancelled token) is returned to the caller unchanged, so
/// the secret manager's own message reaches the client.
pub type PasswordLookup = Box<dyn Fn(&str) -> Result<Vec<u8>, SaslError> + Send>;

/// `protocol/server-name`, the digest-uri both sides must agree on.
fn digest_uri(protocol: &str, server_name: &str) -> String {
    format!("{protocol}/{server_name}")
}

fn check_name(what: &str, value: &str) -> Result<(), SaslError> {
    // Quotes, commas and controls would need escaping in places where Java does not
    // escape; no Hadoop name has them.
    if value
        .chars()
        .any(|c| c.is_control() || c == '"' || c == '\\')
    {
        return Err(SaslError::Config(format!(
            "DIGEST-MD5: {what} '{}' has a quote, backslash or control character",
            value.escape_debug()
        )));
    }
    Ok(())
}

fn parse_qop(name: &str) -> Option<Qop> {
    match name.to_ascii_lowercase().as_str() {
        "auth" => Some(Qop::Authentication),
        "auth-int" => Some(Qop::Integrity),
        "auth-conf" => Some(Qop::Privacy),
        _ => None,
    }
}

fn parse_maxbuf(value: Option<&str>) -> Result<u32, SaslError> {
    let Some(v) = value else {
        return Ok(DEFAULT_MAXBUF);
    };
    let digits = !v.is_empty() && v.len() <= 8 && v.bytes().all(|b| b.is_ascii_digit());
    digits
        .then(|| v.parse::<u32>().ok())
        .flatten()
        .filter(|n| MAXBUF_RANGE.contains(n))
        .ok_or_else(|| SaslError::Malformed(format!("DIGEST-MD5: bad maxbuf '{v}'")))
}

fn check_charset(d: &Directives) -> Result<(), SaslError> {
    match d.single("charset")? {
        None => Ok(()),
        Some(c) if c.eq_ignore_ascii_case("utf-8") => Ok(()),
        Some(c) => Err(SaslError::Malformed(format!(
            "DIGEST-MD5: charset '{c}', only utf-8 is allowed"
        ))),
    }
}

fn mismatched() -> SaslError {
    // Java's wording, so an operator searching for it finds both implementations.
    SaslError::Authentication(
        "DIGEST-MD5: digest response format violation. Mismatched response.".into(),
    )
}

enum ServerState {
    /// Nothing sent yet.
    Start,
    /// The challenge went out with this nonce.
    Challenged { nonce: String },
    Complete {
        username: String,
        qop: Qop,
        peer_maxbuf: u32,
        layer: Option<Box<SecurityLayer>>,
    },
    /// A step failed; nothing more is accepted.
    Failed,
}

/// The server side of DIGEST-MD5 on one connection.
pub struct DigestMd5Server {
    protocol: String,
    server_name: String,
    qops: Vec<Qop>,
    password: PasswordLookup,
    state: ServerState,
}

impl DigestMd5Server {
    /// A server for `protocol`/`server_name` (Hadoop IPC: `""`/`"default"`; data
    /// transfer: `"hdfs"`/`"0"`). The realm is the server name, as Java makes it. `qops`
    /// is the protection the server allows, in the order it is advertised; `password`
    /// answers for a user name.
    pub fn new(
        protocol: &str,
        server_name: &str,
        qops: &[Qop],
        password: PasswordLookup,
    ) -> Result<DigestMd5Server, SaslError> {
        check_name("protocol", protocol)?;
        check_name("server name", server_name)?;
        if qops.is_empty() {
            return Err(SaslError::Config(
                "DIGEST-MD5: no quality of protection allowed".into(),
            ));
        }
        let mut q = Vec::new();
        for &qop in qops {
            if !q.contains(&qop) {
                q.push(qop);
            }
        }
        Ok(DigestMd5Server {
            protocol: protocol.to_string(),
            server_name: server_name.to_string(),
            qops: q,
            password,
            state: ServerState::Start,
        })
    }

    /// The realm advertised in the challenge (the server name).
    pub fn realm(&self) -> &str {
        &self.server_name
    }

    /// The digest-uri a client must present.
    pub fn digest_uri(&self) -> String {
        digest_uri(&self.protocol, &self.server_name)
    }

    /// Once complete at integrity or privacy: the largest message to pass to `wrap` so the
    /// client's announced receive buffer (its maxbuf) is respected.
    pub fn max_send_size(&self) -> Option<usize> {
        match &self.state {
            ServerState::Complete {
                layer: Some(l),
                peer_maxbuf,
                ..
            } => Some(l.max_message(*peer_maxbuf)),
            _ => None,
        }
    }

    fn challenge(&mut self) -> Result<SaslStep, SaslError> {
        let nonce = random_nonce()?;
        let qops: Vec<&str> = self.qops.iter().map(|q| q.sasl_name()).collect();
        let mut w = DirectiveWriter::default();
        w.quoted("realm", &self.server_name)
            .quoted("nonce", &nonce)
            .quoted("qop", &qops.join(","))
            .plain("charset", "utf-8");
        if self.qops.contains(&Qop::Privacy) {
            w.quoted("cipher", CIPHER_3DES);
        }
        w.plain("algorithm", "md5-sess");
        let token = w.finish();
        debug_assert!(token.len() < MAX_CHALLENGE);
        self.state = ServerState::Challenged { nonce };
        Ok(SaslStep::Continue(token))
    }

    /// Checks the client's digest-response; on success the new state and the `rspauth`
    /// value that proves the server knew the password too.
    fn check_response(
        &self,
        nonce: &str,
        response: &[u8],
    ) -> Result<(ServerState, String), SaslError> {
        let d = Directives::parse(response, MAX_RESPONSE)?;
        check_charset(&d)?;
        let username = d.required("username")?;
        let realm = d.single("realm")?.unwrap_or("");
        if realm != self.server_name {
            return Err(SaslError::Authentication(format!(
                "DIGEST-MD5: realm '{}' is not this server's ('{}')",
                realm.escape_debug(),
                self.server_name
            )));
        }
        if d.required("nonce")? != nonce {
            return Err(SaslError::Authentication(
                "DIGEST-MD5: nonce does not match the challenge".into(),
            ));
        }
        let nc = d.required("nc")?;
        // Eight hex digits exactly (from_str_radix alone would take a '+' sign).
        if nc.len() != 8
            || !nc.bytes().all(|b| b.is_ascii_hexdigit())
            || u32::from_str_radix(nc, 16).ok() != Some(1)
        {
            return Err(SaslError::Authentication(format!(
                "DIGEST-MD5: nonce count '{}', expected {NONCE_COUNT}",
                nc.escape_debug()
            )));
        }
        let cnonce = d.required("cnonce")?;
        if cnonce.is_empty() {
            return Err(SaslError::Malformed("DIGEST-MD5: empty cnonce".into()));
        }
        let uri = d.required("digest-uri")?;
        let expected_uri = self.digest_uri();
        if !uri.eq_ignore_ascii_case(&expected_uri) {
            return Err(SaslError::Authentication(format!(
                "DIGEST-MD5: digest-uri '{}', expected '{expected_uri}'",
                uri.escape_debug()
            )));
        }
        let qop_name = d.single("qop")?.unwrap_or("auth");
        let qop = parse_qop(qop_name)
            .filter(|q| self.qops.contains(q))
            .ok_or_else(|| {
                SaslError::Authentication(format!(
                    "DIGEST-MD5: client selected qop '{}', which was not offered",
                    qop_name.escape_debug()
                ))
            })?;
        if qop == Qop::Privacy {
            match d.single("cipher")? {
                Some(c) if c.eq_ignore_ascii_case(CIPHER_3DES) => {}
                other => {
                    return Err(SaslError::Authentication(format!(
                        "DIGEST-MD5: cipher '{}', only {CIPHER_3DES} was offered",
                        other.unwrap_or("").escape_debug()
                    )))
                }
            }
        }
        let peer_maxbuf = parse_maxbuf(d.single("maxbuf")?)?;
        let proof = d.required("response")?;
        let authzid = d.single("authzid")?;
        // Hadoop's DIGEST callback authorizes only the authenticated user itself: a token
        // never acts for someone else.
        if let Some(a) = authzid {
            if a != username {
                return Err(SaslError::Authentication(format!(
                    "DIGEST-MD5: authorization id '{}' is not the authenticated user",
                    a.escape_debug()
                )));
            }
        }

        let password = (self.password)(username)?;
        let inputs = DigestInputs {
            username,
            realm,
            password: &password,
            nonce,
            cnonce,
            authzid,
            digest_uri: uri,
            qop,
        };
        let ha1 = a1_hash(&inputs);
        let expected = response_value(&ha1, &inputs, true);
        if !constant_time_eq(proof.to_ascii_lowercase().as_bytes(), expected.as_bytes()) {
            return Err(mismatched());
        }
        let rspauth = response_value(&ha1, &inputs, false);
        let layer = qop.wraps().then(|| {
            Box::new(SecurityLayer::new(
                qop,
                Side::Server,
                &SessionKeys::derive(&ha1),
            ))
        });
        let state = ServerState::Complete {
            username: username.to_string(),
            qop,
            peer_maxbuf,
            layer,
        };
        Ok((state, rspauth))
    }

    fn layer(&mut self) -> Result<&mut SecurityLayer, SaslError> {
        match &mut self.state {
            ServerState::Complete { layer: Some(l), .. } => Ok(l),
            _ => Err(no_layer()),
        }
    }
}

fn no_layer() -> SaslError {
    SaslError::Config("DIGEST-MD5: neither integrity nor privacy was negotiated".into())
}

impl SaslServerSession for DigestMd5Server {
    fn mechanism(&self) -> &'static str {
        MECHANISM
    }

    fn evaluate(&mut self, response: &[u8]) -> Result<SaslStep, SaslError> {
        match std::mem::replace(&mut self.state, ServerState::Failed) {
            ServerState::Start if response.is_empty() => self.challenge(),
            ServerState::Start => Err(SaslError::Malformed(
                "DIGEST-MD5: the server speaks first; expected an empty initial response".into(),
            )),
            ServerState::Challenged { nonce } => {
                let (state, rspauth) = self.check_response(&nonce, response)?;
                self.state = state;
                Ok(SaslStep::Complete(Some(
                    format!("rspauth={rspauth}").into_bytes(),
                )))
            }
            ServerState::Complete { .. } => Err(SaslError::Malformed(
                "DIGEST-MD5: authentication already complete".into(),
            )),
            ServerState::Failed => Err(SaslError::Authentication(
                "DIGEST-MD5: authentication already failed".into(),
            )),
        }
    }

    fn is_complete(&self) -> bool {
        matches!(self.state, ServerState::Complete { .. })
    }

    fn authorization_id(&self) -> Option<&str> {
        match &self.state {
            ServerState::Complete { username, .. } => Some(username),
            _ => None,
        }
    }

    fn qop(&self) -> Qop {
        match &self.state {
            ServerState::Complete { qop, .. } => *qop,
            _ => Qop::Authentication,
        }
    }

    fn wrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError> {
        self.layer()?.wrap(data)
    }

    fn unwrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError> {
        self.layer()?.unwrap(data)
    }
}

enum ClientState {
    /// Waiting for the server's challenge.
    Start,
    /// The response went out; `rspauth` is what the server must answer.
    Responded {
        rspauth: String,
        qop: Qop,
        peer_maxbuf: u32,
        keys: Box<SessionKeys>,
    },
    Complete {
        qop: Qop,
        peer_maxbuf: u32,
        layer: Option<Box<SecurityLayer>>,
    },
    Failed,
}

/// The client side of DIGEST-MD5 on one connection.
pub struct DigestMd5Client {
    username: String,
    password: Vec<u8>,
    protocol: String,
    server_name: String,
    qops: Vec<Qop>,
    state: ClientState,
}

impl DigestMd5Client {
    /// A client proving `username`/`password` (in Hadoop: base64 of the token identifier
    /// and of its password) to `protocol`/`server_name` (IPC: `""`/`"default"`; data
    /// transfer: `"hdfs"`/`"0"`). `qops` is what the client accepts, most preferred first.
    pub fn new(
        username: &str,
        password: &[u8],
        protocol: &str,
        server_name: &str,
        qops: &[Qop],
    ) -> Result<DigestMd5Client, SaslError> {
        check_name("user name", username)?;
        check_name("protocol", protocol)?;
        check_name("server name", server_name)?;
        if qops.is_empty() {
            return Err(SaslError::Config(
                "DIGEST-MD5: no quality of protection allowed".into(),
            ));
        }
        Ok(DigestMd5Client {
            username: username.to_string(),
            password: password.to_vec(),
            protocol: protocol.to_string(),
            server_name: server_name.to_string(),
            qops: qops.to_vec(),
            state: ClientState::Start,
        })
    }

    /// Once complete at integrity or privacy: the largest message to pass to `wrap` so the
    /// server's announced receive buffer (its maxbuf) is respected (Hadoop's
    /// `javax.security.sasl.rawsendsize`).
    pub fn max_send_size(&self) -> Option<usize> {
        match &self.state {
            ClientState::Complete {
                layer: Some(l),
                peer_maxbuf,
                ..
            } => Some(l.max_message(*peer_maxbuf)),
            _ => None,
        }
    }

    fn respond(&self, challenge: &[u8]) -> Result<(ClientState, Vec<u8>), SaslError> {
        let d = Directives::parse(challenge, MAX_CHALLENGE)?;
        check_charset(&d)?;
        let algorithm = d.required("algorithm")?;
        if !algorithm.eq_ignore_ascii_case("md5-sess") {
            return Err(SaslError::Malformed(format!(
                "DIGEST-MD5: algorithm '{}', expected md5-sess",
                algorithm.escape_debug()
            )));
        }
        let nonce = d.required("nonce")?;
        if nonce.is_empty() {
            return Err(SaslError::Malformed("DIGEST-MD5: empty nonce".into()));
        }
        // Several realms may be offered; Hadoop's callback takes the first (the default).
        let realm = d.all("realm").next();
        let offered: Vec<Qop> = match d.single("qop")? {
            None => vec![Qop::Authentication],
            Some(list) => split_list(list).filter_map(parse_qop).collect(),
        };
        let qop = self
            .qops
            .iter()
            .copied()
            .find(|q| offered.contains(q))
            .ok_or(SaslError::NoCommonQop)?;
        if qop == Qop::Privacy {
            let ciphers = d.single("cipher")?.unwrap_or("");
            if !split_list(ciphers).any(|c| c.eq_ignore_ascii_case(CIPHER_3DES)) {
                return Err(SaslError::Authentication(format!(
                    "DIGEST-MD5: the server offers ciphers '{}'; hafs speaks only {CIPHER_3DES}",
                    ciphers.escape_debug()
                )));
            }
        }
        let peer_maxbuf = parse_maxbuf(d.single("maxbuf")?)?;
        let cnonce = random_nonce()?;
        let uri = digest_uri(&self.protocol, &self.server_name);
        let inputs = DigestInputs {
            username: &self.username,
            realm: realm.unwrap_or(""),
            password: &self.password,
            nonce,
            cnonce: &cnonce,
            authzid: None,
            digest_uri: &uri,
            qop,
        };
        let ha1 = a1_hash(&inputs);

        let mut w = DirectiveWriter::default();
        w.plain("charset", "utf-8")
            .quoted("username", &self.username);
        if let Some(r) = realm {
            w.quoted("realm", r);
        }
        w.quoted("nonce", nonce)
            .plain("nc", NONCE_COUNT)
            .quoted("cnonce", &cnonce)
            .quoted("digest-uri", &uri)
            .plain("maxbuf", &DEFAULT_MAXBUF.to_string())
            .plain("response", &response_value(&ha1, &inputs, true))
            .plain("qop", qop.sasl_name());
        if qop == Qop::Privacy {
            w.quoted("cipher", CIPHER_3DES);
        }
        let token = w.finish();
        if token.len() >= MAX_RESPONSE {
            return Err(SaslError::Malformed(format!(
                "DIGEST-MD5: the response would be {} bytes, over RFC 2831's limit",
                token.len()
            )));
        }
        let state = ClientState::Responded {
            rspauth: response_value(&ha1, &inputs, false),
            qop,
            peer_maxbuf,
            keys: Box::new(SessionKeys::derive(&ha1)),
        };
        Ok((state, token))
    }

    fn layer(&mut self) -> Result<&mut SecurityLayer, SaslError> {
        match &mut self.state {
            ClientState::Complete { layer: Some(l), .. } => Ok(l),
            _ => Err(no_layer()),
        }
    }
}

impl SaslClientSession for DigestMd5Client {
    fn mechanism(&self) -> &'static str {
        MECHANISM
    }

    fn initial_response(&mut self) -> Result<Option<Vec<u8>>, SaslError> {
        Ok(None)
    }

    fn evaluate(&mut self, challenge: &[u8]) -> Result<SaslStep, SaslError> {
        match std::mem::replace(&mut self.state, ClientState::Failed) {
            ClientState::Start => {
                let (state, token) = self.respond(challenge)?;
                self.state = state;
                Ok(SaslStep::Continue(token))
            }
            ClientState::Responded {
                rspauth,
                qop,
                peer_maxbuf,
                keys,
            } => {
                let d = Directives::parse(challenge, MAX_CHALLENGE)?;
                let got = d.required("rspauth")?;
                if !constant_time_eq(got.to_ascii_lowercase().as_bytes(), rspauth.as_bytes()) {
                    // The server does not know the password: it is not who we asked for.
                    return Err(SaslError::Authentication(
                        "DIGEST-MD5: server's rspauth does not match; the server did not prove it knows the password".into(),
                    ));
                }
                let layer = qop
                    .wraps()
                    .then(|| Box::new(SecurityLayer::new(qop, Side::Client, &keys)));
                self.state = ClientState::Complete {
                    qop,
                    peer_maxbuf,
                    layer,
                };
                Ok(SaslStep::Complete(None))
            }
            ClientState::Complete { .. } => Err(SaslError::Malformed(
                "DIGEST-MD5: authentication already complete".into(),
            )),
            ClientState::Failed => Err(SaslError::Authentication(
                "DIGEST-MD5: authentication already failed".into(),
            )),
        }
    }

    fn is_complete(&self) -> bool {
        matches!(self.state, ClientState::Complete { .. })
    }

    fn qop(&self) -> Qop {
        match &self.state {
            ClientState::Complete { qop, .. } => *qop,
            _ => Qop::Authentication,
        }
    }

    fn wrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError> {
        self.layer()?.wrap(data)
    }

    fn unwrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError> {
        self.layer()?.unwrap(data)
    }
}

#[cfg(test)]
mod tests;
