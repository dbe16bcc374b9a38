//! Hadoop delegation tokens as bytes: the identifier (`AbstractDelegationTokenIdentifier`
//! in its Writable form), the token (`Token`: identifier, password, kind, service), the
//! password (HMAC-SHA1 of the identifier under a master key, `SecretManager.createPassword`)
//! and token storage files (`Credentials.writeTokenStorageFile`, "HDTS").
//!
//! Nothing here knows about master keys' lifetimes or which tokens are live: that is the
//! NameNode's secret manager. This module is what a client, the NameNode and the IPC
//! layer all need to agree on, byte for byte, with Java.
//!
//! - [`writable`]: WritableUtils vint/vlong and Text.
//! - [`base64`]: the encodings of the SASL credentials and of `encodeToUrlString`.
//! - [`storage`]: token storage files, format 0 (Writable) and 1 (protobuf).

pub mod base64;
pub mod storage;
pub mod writable;

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

use writable::Reader;

/// The kind of an HDFS delegation token (`DelegationTokenIdentifier.HDFS_DELEGATION_KIND`).
pub const HDFS_DELEGATION_KIND: &str = "HDFS_DELEGATION_TOKEN";
/// The only identifier version Hadoop writes or reads (hdfs-native panics on others).
pub const IDENTIFIER_VERSION: u8 = 0;
/// Bound on a token identifier: Hadoop's hold three short names, two dates and two ints;
/// 4 KiB leaves room for long principals and refuses hostile sizes early.
pub const MAX_IDENTIFIER_LEN: usize = 4096;
/// Bound on a password (an HMAC-SHA1 is 20 bytes; block tokens use the same).
pub const MAX_PASSWORD_LEN: usize = 1024;
/// Bound on a token's kind and service strings.
pub const MAX_KIND_LEN: usize = 256;
pub const MAX_SERVICE_LEN: usize = 1024;
/// Length of an HMAC-SHA1 password.
pub const PASSWORD_LEN: usize = 20;

/// Why token bytes could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The bytes are not a token, identifier or storage file of a known format.
    #[error("{0}")]
    Malformed(String),
}

/// An HDFS delegation token's identifier (`DelegationTokenIdentifier`, Writable form):
/// `byte 0 | Text owner | Text renewer | Text realUser | vlong issueDate | vlong maxDate |
/// vint sequenceNumber | vint masterKeyId`. Dates are milliseconds since the epoch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DelegationTokenIdentifier {
    /// The full principal the token was issued to (`alice@HAFS.TEST`).
    pub owner: String,
    /// The short name of the user allowed to renew it (`yarn`), or empty.
    pub renewer: String,
    /// For a token issued to a proxied user: the authenticated user behind it, else empty.
    pub real_user: String,
    pub issue_date: i64,
    pub max_date: i64,
    pub sequence_number: i32,
    pub master_key_id: i32,
}

impl DelegationTokenIdentifier {
    /// The identifier's bytes, the exact input of the password's HMAC.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            16 + self.owner.len() + self.renewer.len() + self.real_user.len() + 24,
        );
        out.push(IDENTIFIER_VERSION);
        writable::write_text(&mut out, &self.owner);
        writable::write_text(&mut out, &self.renewer);
        writable::write_text(&mut out, &self.real_user);
        writable::write_vlong(&mut out, self.issue_date);
        writable::write_vlong(&mut out, self.max_date);
        writable::write_vint(&mut out, self.sequence_number);
        writable::write_vint(&mut out, self.master_key_id);
        out
    }

    /// Parses an identifier. Trailing bytes are refused: the HMAC covers the whole
    /// identifier, so two encodings of one identifier must not both verify.
    pub fn decode(bytes: &[u8]) -> Result<DelegationTokenIdentifier, TokenError> {
        if bytes.len() > MAX_IDENTIFIER_LEN {
            return Err(TokenError::Malformed(format!(
                "token identifier of {} bytes (at most {MAX_IDENTIFIER_LEN})",
                bytes.len()
            )));
        }
        let mut r = Reader::new(bytes, "token identifier");
        let version = r.byte()?;
        if version != IDENTIFIER_VERSION {
            // AbstractDelegationTokenIdentifier.readFields's message.
            return Err(TokenError::Malformed(format!(
                "Unknown version of delegation token {version}"
            )));
        }
        let owner = r.text(MAX_IDENTIFIER_LEN, "owner")?;
        let renewer = r.text(MAX_IDENTIFIER_LEN, "renewer")?;
        let real_user = r.text(MAX_IDENTIFIER_LEN, "realUser")?;
        let id = DelegationTokenIdentifier {
            owner,
            renewer,
            real_user,
            issue_date: r.vlong()?,
            max_date: r.vlong()?,
            sequence_number: r.vint()?,
            master_key_id: r.vint()?,
        };
        if !r.is_empty() {
            return Err(TokenError::Malformed(format!(
                "token identifier: {} trailing bytes",
                r.remaining().len()
            )));
        }
        Ok(id)
    }

    /// The owner's short name for messages: the principal's first component, as the
    /// default auth_to_local rule gives for the local realm.
    fn owner_short(&self) -> &str {
        self.owner
            .split(['/', '@'])
            .next()
            .unwrap_or(self.owner.as_str())
    }
}

/// Hadoop's `DelegationTokenIdentifier.toString`, which every secret-manager message
/// embeds: `token for alice: HDFS_DELEGATION_TOKEN owner=alice@R, renewer=yarn, …`.
impl std::fmt::Display for DelegationTokenIdentifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "token for {}: {HDFS_DELEGATION_KIND} owner={}, renewer={}, realUser={}, \
             issueDate={}, maxDate={}, sequenceNumber={}, masterKeyId={}",
            self.owner_short(),
            self.owner,
            self.renewer,
            self.real_user,
            self.issue_date,
            self.max_date,
            self.sequence_number,
            self.master_key_id
        )
    }
}

/// `SecretManager.createPassword`: HMAC-SHA1 of the identifier's bytes under the key.
pub fn create_password(identifier: &[u8], key: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(identifier);
    mac.finalize().into_bytes().to_vec()
}

/// Compares two passwords without a data-dependent early exit (Java's
/// `MessageDigest.isEqual`), so timing refusals reveals nothing of the right password.
pub fn passwords_equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A token (Hadoop's `Token`, `TokenProto` on the wire).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Token {
    pub identifier: Vec<u8>,
    pub password: Vec<u8>,
    pub kind: String,
    /// Which server the token is for: `ha-hdfs:<nameservice>` or `host:port`.
    pub service: String,
}

/// Never print a password.
impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("kind", &self.kind)
            .field("service", &self.service)
            .field("identifier_len", &self.identifier.len())
            .finish_non_exhaustive()
    }
}

impl Token {
    /// A delegation token for `id` with its password.
    pub fn delegation(id: &DelegationTokenIdentifier, password: Vec<u8>, service: &str) -> Token {
        Token {
            identifier: id.encode(),
            password,
            kind: HDFS_DELEGATION_KIND.to_string(),
            service: service.to_string(),
        }
    }

    /// The identifier decoded, for a delegation token.
    pub fn delegation_identifier(&self) -> Result<DelegationTokenIdentifier, TokenError> {
        if self.kind != HDFS_DELEGATION_KIND {
            return Err(TokenError::Malformed(format!(
                "token of kind {} is not an {HDFS_DELEGATION_KIND}",
                self.kind
            )));
        }
        DelegationTokenIdentifier::decode(&self.identifier)
    }

    /// Checks the field bounds a decoder enforces, for tokens built from protobuf.
    pub fn check_bounds(&self) -> Result<(), TokenError> {
        let checks = [
            ("identifier", self.identifier.len(), MAX_IDENTIFIER_LEN),
            ("password", self.password.len(), MAX_PASSWORD_LEN),
            ("kind", self.kind.len(), MAX_KIND_LEN),
            ("service", self.service.len(), MAX_SERVICE_LEN),
        ];
        for (field, len, max) in checks {
            if len > max {
                return Err(TokenError::Malformed(format!(
                    "token {field} of {len} bytes (at most {max})"
                )));
            }
        }
        Ok(())
    }

    /// `Token.write`: vint-prefixed identifier and password, then Text kind and service.
    pub fn write(&self, out: &mut Vec<u8>) {
        writable::write_bytes(out, &self.identifier);
        writable::write_bytes(out, &self.password);
        writable::write_text(out, &self.kind);
        writable::write_text(out, &self.service);
    }

    /// `Token.readFields`.
    pub fn read(r: &mut Reader<'_>) -> Result<Token, TokenError> {
        Ok(Token {
            identifier: r.bytes(MAX_IDENTIFIER_LEN, "identifier")?.to_vec(),
            password: r.bytes(MAX_PASSWORD_LEN, "password")?.to_vec(),
            kind: r.text(MAX_KIND_LEN, "kind")?,
            service: r.text(MAX_SERVICE_LEN, "service")?,
        })
    }

    /// `Token.encodeToUrlString`: URL-safe base64 of `write`'s bytes.
    pub fn encode_to_url_string(&self) -> String {
        let mut out = Vec::new();
        self.write(&mut out);
        base64::encode_url_safe(&out)
    }

    /// `Token.decodeFromUrlString`.
    pub fn decode_from_url_string(s: &str) -> Result<Token, TokenError> {
        let bytes = base64::decode(s)
            .ok_or_else(|| TokenError::Malformed("token string is not base64".into()))?;
        let mut r = Reader::new(&bytes, "token");
        let t = Token::read(&mut r)?;
        if !r.is_empty() {
            return Err(TokenError::Malformed("token string: trailing bytes".into()));
        }
        Ok(t)
    }

    /// The DIGEST-MD5 user name proving this token: base64 of the identifier
    /// (`SaslRpcServer.encodeIdentifier`).
    pub fn sasl_user_name(&self) -> String {
        base64::encode(&self.identifier)
    }

    /// The DIGEST-MD5 password: base64 of the token's password
    /// (`SaslRpcServer.encodePassword`), as bytes.
    pub fn sasl_password(&self) -> Vec<u8> {
        base64::encode(&self.password).into_bytes()
    }

    pub fn to_proto(&self) -> hafs_proto::common::TokenProto {
        hafs_proto::common::TokenProto {
            identifier: self.identifier.clone().into(),
            password: self.password.clone().into(),
            kind: self.kind.clone(),
            service: self.service.clone(),
        }
    }

    pub fn from_proto(p: &hafs_proto::common::TokenProto) -> Result<Token, TokenError> {
        let t = Token {
            identifier: p.identifier.to_vec(),
            password: p.password.to_vec(),
            kind: p.kind.clone(),
            service: p.service.clone(),
        };
        t.check_bounds()?;
        Ok(t)
    }
}

/// The identifier bytes a DIGEST-MD5 user name carries (`SaslRpcServer.decodeIdentifier`).
pub fn decode_sasl_user_name(user: &str) -> Result<Vec<u8>, TokenError> {
    if user.len() > MAX_IDENTIFIER_LEN.div_ceil(3) * 4 {
        return Err(TokenError::Malformed("token identifier too long".into()));
    }
    base64::decode(user)
        .ok_or_else(|| TokenError::Malformed("token user name is not base64".into()))
}

/// Hadoop's `Time.formatTime` for messages (`yyyy-MM-dd HH:mm:ss,SSSZ`), in UTC.
pub fn format_time(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = hafs_util::clock::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02},{ms:03}+0000",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

#[cfg(test)]
mod tests;
