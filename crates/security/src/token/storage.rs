//! Token storage files (Hadoop's `Credentials.writeTokenStorageFile` /
//! `readTokenStorageFile`), what `HADOOP_TOKEN_FILE_LOCATION` names:
//!
//! ```text
//! "HDTS" | byte version |
//!   version 0 (Writable): vint n | n × (Text alias | Token) | vint m | m × (Text alias | vint len | bytes)
//!   version 1 (protobuf): one length-delimited CredentialsProto
//! ```
//!
//! Java writes format 0 by default and reads both; hafs does the same.

use prost::Message;

use super::writable::{self, Reader};
use super::{Token, TokenError, MAX_SERVICE_LEN};
use hafs_proto::common::{CredentialsKvProto, CredentialsProto};

/// The file's first four bytes.
pub const MAGIC: &[u8; 4] = b"HDTS";
/// Bound on a storage file: a client holds a handful of tokens; 16 MiB refuses a hostile
/// or wrong file before reading it all.
pub const MAX_FILE_LEN: usize = 16 << 20;
/// Bound on the entries of one file.
pub const MAX_ENTRIES: usize = 65_536;
/// Bound on one secret.
pub const MAX_SECRET_LEN: usize = 1 << 20;

/// Which body format a file has (`Credentials.SerializedFormat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Writable = 0,
    Protobuf = 1,
}

/// The tokens and secret keys of a storage file (Hadoop's `Credentials`), in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// (alias, token); the alias is usually the token's service.
    pub tokens: Vec<(String, Token)>,
    /// (alias, secret bytes).
    pub secrets: Vec<(String, Vec<u8>)>,
}

impl Credentials {
    /// Adds a token under its service as alias (what `addDelegationTokens` does),
    /// replacing one with the same alias.
    pub fn add_token(&mut self, token: Token) {
        let alias = token.service.clone();
        self.tokens.retain(|(a, _)| *a != alias);
        self.tokens.push((alias, token));
    }

    /// Encodes a whole file.
    pub fn write_storage_file(&self, format: Format) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.push(format as u8);
        match format {
            Format::Writable => {
                writable::write_vint(&mut out, len_i32(self.tokens.len()));
                for (alias, token) in &self.tokens {
                    writable::write_text(&mut out, alias);
                    token.write(&mut out);
                }
                writable::write_vint(&mut out, len_i32(self.secrets.len()));
                for (alias, secret) in &self.secrets {
                    writable::write_text(&mut out, alias);
                    writable::write_bytes(&mut out, secret);
                }
            }
            Format::Protobuf => {
                let proto = CredentialsProto {
                    tokens: self
                        .tokens
                        .iter()
                        .map(|(alias, t)| CredentialsKvProto {
                            alias: alias.clone(),
                            token: Some(t.to_proto()),
                            secret: None,
                        })
                        .collect(),
                    secrets: self
                        .secrets
                        .iter()
                        .map(|(alias, s)| CredentialsKvProto {
                            alias: alias.clone(),
                            token: None,
                            secret: Some(s.clone().into()),
                        })
                        .collect(),
                };
                proto
                    .encode_length_delimited(&mut out)
                    .expect("a Vec grows as needed");
            }
        }
        out
    }

    /// Decodes a whole file. Bytes after the body are ignored, as Java's stream reader
    /// never looks at them.
    pub fn read_storage_file(bytes: &[u8]) -> Result<Credentials, TokenError> {
        if bytes.len() > MAX_FILE_LEN {
            return Err(TokenError::Malformed(format!(
                "token storage of {} bytes (at most {MAX_FILE_LEN})",
                bytes.len()
            )));
        }
        if bytes.len() < 5 || &bytes[..4] != MAGIC {
            // Credentials.readTokenStorageStream's message.
            return Err(TokenError::Malformed(
                "Bad header found in token storage.".into(),
            ));
        }
        let body = &bytes[5..];
        match bytes[4] {
            0 => read_writable(body),
            1 => read_protobuf(body),
            v => Err(TokenError::Malformed(format!(
                "Unknown version {v} in token storage."
            ))),
        }
    }
}

fn len_i32(n: usize) -> i32 {
    i32::try_from(n).expect("fewer than 2^31 entries")
}

fn count(r: &mut Reader<'_>, what: &str) -> Result<usize, TokenError> {
    let n = r.vint()?;
    usize::try_from(n)
        .ok()
        .filter(|&n| n <= MAX_ENTRIES)
        .ok_or_else(|| TokenError::Malformed(format!("token storage: {n} {what}")))
}

fn read_writable(body: &[u8]) -> Result<Credentials, TokenError> {
    let mut r = Reader::new(body, "token storage");
    let mut creds = Credentials::default();
    for _ in 0..count(&mut r, "tokens")? {
        let alias = r.text(MAX_SERVICE_LEN, "alias")?;
        creds.tokens.push((alias, Token::read(&mut r)?));
    }
    for _ in 0..count(&mut r, "secrets")? {
        let alias = r.text(MAX_SERVICE_LEN, "alias")?;
        creds
            .secrets
            .push((alias, r.bytes(MAX_SECRET_LEN, "secret")?.to_vec()));
    }
    Ok(creds)
}

fn read_protobuf(body: &[u8]) -> Result<Credentials, TokenError> {
    let proto = CredentialsProto::decode_length_delimited(body)
        .map_err(|e| TokenError::Malformed(format!("token storage: {e}")))?;
    if proto.tokens.len() + proto.secrets.len() > MAX_ENTRIES {
        return Err(TokenError::Malformed(
            "token storage: too many entries".into(),
        ));
    }
    let mut creds = Credentials::default();
    for kv in &proto.tokens {
        let token = kv.token.as_ref().ok_or_else(|| {
            TokenError::Malformed(format!("token storage: alias {} has no token", kv.alias))
        })?;
        creds
            .tokens
            .push((kv.alias.clone(), Token::from_proto(token)?));
    }
    for kv in proto.secrets {
        let secret = kv.secret.unwrap_or_default();
        if secret.len() > MAX_SECRET_LEN {
            return Err(TokenError::Malformed(
                "token storage: secret too long".into(),
            ));
        }
        creds.secrets.push((kv.alias, secret.to_vec()));
    }
    Ok(creds)
}
