//! The TOKEN method: DIGEST-MD5 over a token's identifier and password (Hadoop's
//! `SaslRpcServer.AuthMethod.TOKEN`), for both sides of an IPC connection.
//!
//! - Server: [`TokenMethod`] offers `TOKEN`/`DIGEST-MD5` with protocol `""` and server
//!   id `default` (what Java advertises). The DIGEST-MD5 user name is the base64 of the
//!   token identifier, the password the base64 of the token's password; the passwords
//!   come from a [`TokenSecrets`] (the NameNode's secret manager), whose refusal (unknown,
//!   expired, cancelled token) reaches the client as Hadoop's `SecretManager$InvalidToken`.
//! - Client: [`TokenMechanism`] answers a TOKEN offer with the token it holds for the
//!   server's service (`ha-hdfs:<nameservice>` or `host:port`), or stands aside when it
//!   holds none, so that another mechanism (Kerberos) can be tried.

use std::sync::Arc;

use hafs_proto::common::rpc_sasl_proto::SaslAuth;
use hafs_security::digest_md5::{DigestMd5Client, DigestMd5Server, MECHANISM};
use hafs_security::sasl::{Qop, SaslClientSession, SaslError, SaslServerSession};
use hafs_security::token::{decode_sasl_user_name, storage, Token, HDFS_DELEGATION_KIND};

use super::{AuthMethod, AuthenticatedUser, ClientMechanism, SaslMethod};
use crate::error::{RpcError, RpcErrorCode};
use crate::exceptions;

/// The protocol a TOKEN offer advertises (Hadoop: `SaslRpcServer.SASL_DEFAULT_REALM`'s
/// companion, an empty protocol).
pub const TOKEN_PROTOCOL: &str = "";
/// The server id a TOKEN offer advertises (Hadoop's `SaslRpcServer.SASL_DEFAULT_REALM`).
pub const TOKEN_SERVER_ID: &str = "default";

/// The environment variable naming a client's token storage file (Hadoop's
/// `UserGroupInformation.HADOOP_TOKEN_FILE_LOCATION`).
pub const HADOOP_TOKEN_FILE_LOCATION: &str = "HADOOP_TOKEN_FILE_LOCATION";

/// The token service of an HA nameservice (Hadoop's
/// `HAUtilClient.buildTokenServiceForLogicalUri`): `ha-hdfs:<nameservice>`.
pub fn ha_token_service(nameservice: &str) -> String {
    format!("ha-hdfs:{nameservice}")
}

/// The token service of one NameNode address (Hadoop's `SecurityUtil.buildTokenService`
/// with `hadoop.security.token.service.use_ip=true`, the default): `ip:port`.
pub fn address_token_service(addr: std::net::SocketAddr) -> String {
    addr.to_string()
}

/// Where a server's token passwords come from.
pub trait TokenSecrets: Send + Sync {
    /// The password of the live token with this identifier (Hadoop's
    /// `SecretManager.retrievePassword`). Refusals should be [`SaslError::Refused`] with
    /// `SecretManager$InvalidToken` (or `StandbyException`) and Hadoop's message.
    fn retrieve_password(&self, identifier: &[u8]) -> Result<Vec<u8>, SaslError>;

    /// The user an identifier that just passed DIGEST-MD5 names: its owner's full and
    /// short names and the real user of a proxied token.
    fn token_user(&self, identifier: &[u8]) -> Result<AuthenticatedUser, String>;
}

/// A refusal in Hadoop's words for an identifier that cannot be decoded.
pub fn invalid_token(message: impl Into<String>) -> SaslError {
    SaslError::Refused {
        class: exceptions::INVALID_TOKEN,
        message: message.into(),
    }
}

/// The server's TOKEN method.
pub struct TokenMethod {
    secrets: Arc<dyn TokenSecrets>,
    qops: Vec<Qop>,
}

impl TokenMethod {
    /// `qops`: what the server allows (`hadoop.rpc.protection`), most preferred first.
    pub fn new(secrets: Arc<dyn TokenSecrets>, qops: Vec<Qop>) -> TokenMethod {
        assert!(
            !qops.is_empty(),
            "a TOKEN method needs a quality of protection"
        );
        TokenMethod { secrets, qops }
    }
}

impl SaslMethod for TokenMethod {
    fn method(&self) -> AuthMethod {
        AuthMethod::Token
    }

    fn mechanism(&self) -> &'static str {
        MECHANISM
    }

    fn protocol(&self) -> &str {
        TOKEN_PROTOCOL
    }

    fn server_id(&self) -> &str {
        TOKEN_SERVER_ID
    }

    fn start(&self) -> Result<Box<dyn SaslServerSession>, SaslError> {
        let secrets = self.secrets.clone();
        let lookup = Box::new(move |user: &str| -> Result<Vec<u8>, SaslError> {
            let identifier =
                decode_sasl_user_name(user).map_err(|e| invalid_token(e.to_string()))?;
            let password = secrets.retrieve_password(&identifier)?;
            // SaslRpcServer.encodePassword: the DIGEST-MD5 password is the base64 text.
            Ok(hafs_security::token::base64::encode(&password).into_bytes())
        });
        Ok(Box::new(DigestMd5Server::new(
            TOKEN_PROTOCOL,
            TOKEN_SERVER_ID,
            &self.qops,
            lookup,
        )?))
    }

    fn authenticated_user(&self, authorization_id: &str) -> Result<AuthenticatedUser, RpcError> {
        let refuse = |msg: String| {
            RpcError::new(exceptions::INVALID_TOKEN, msg).with_code(RpcErrorCode::FatalUnauthorized)
        };
        let identifier =
            decode_sasl_user_name(authorization_id).map_err(|e| refuse(e.to_string()))?;
        let mut user = self.secrets.token_user(&identifier).map_err(refuse)?;
        user.token_identifier = Some(identifier);
        Ok(user)
    }
}

/// The client's TOKEN mechanism: the tokens it holds (from a token storage file) and the
/// service of the server it connects to.
pub struct TokenMechanism {
    tokens: Vec<Token>,
    service: String,
    kind: String,
    qops: Vec<Qop>,
}

impl TokenMechanism {
    /// Uses the first token of `kind` whose service is `service` (hdfs-native's and
    /// Java's token selectors: kind and service must both match). `qops` is what the
    /// client accepts, most preferred first.
    pub fn new(tokens: Vec<Token>, kind: &str, service: &str, qops: Vec<Qop>) -> TokenMechanism {
        TokenMechanism {
            tokens,
            service: service.to_string(),
            kind: kind.to_string(),
            qops,
        }
    }

    /// The delegation tokens of a token storage file (what `HADOOP_TOKEN_FILE_LOCATION`
    /// names; format 0 or 1) for the server with token service `service`:
    /// `ha-hdfs:<nameservice>` for an HA nameservice, `ip:port` otherwise (Hadoop's
    /// `hadoop.security.token.service.use_ip` default).
    pub fn from_token_file(
        path: &std::path::Path,
        service: &str,
        qops: Vec<Qop>,
    ) -> Result<TokenMechanism, String> {
        use std::io::Read;
        let file = std::fs::File::open(path)
            .map_err(|e| format!("cannot read token file {}: {e}", path.display()))?;
        let mut bytes = Vec::new();
        // Bounded: one byte more than a storage file may have, so that an oversized
        // file is refused by the decoder rather than read whole.
        file.take(storage::MAX_FILE_LEN as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read token file {}: {e}", path.display()))?;
        let creds = storage::Credentials::read_storage_file(&bytes)
            .map_err(|e| format!("token file {}: {e}", path.display()))?;
        Ok(TokenMechanism::new(
            creds.tokens.into_iter().map(|(_, t)| t).collect(),
            HDFS_DELEGATION_KIND,
            service,
            qops,
        ))
    }

    /// As [`TokenMechanism::from_token_file`] for `$HADOOP_TOKEN_FILE_LOCATION`; `None`
    /// when the variable is not set.
    pub fn from_env(service: &str, qops: Vec<Qop>) -> Option<Result<TokenMechanism, String>> {
        let path = std::env::var_os(HADOOP_TOKEN_FILE_LOCATION)?;
        Some(TokenMechanism::from_token_file(
            std::path::Path::new(&path),
            service,
            qops,
        ))
    }

    /// The token this mechanism would prove, if it holds one for its service.
    pub fn selected(&self) -> Option<&Token> {
        self.tokens
            .iter()
            .find(|t| t.kind == self.kind && t.service == self.service)
    }
}

impl ClientMechanism for TokenMechanism {
    fn method(&self) -> AuthMethod {
        AuthMethod::Token
    }

    fn mechanism(&self) -> &'static str {
        MECHANISM
    }

    fn start(
        &self,
        offered: &SaslAuth,
        _protocol: &str,
        _server_host: &str,
    ) -> Result<Option<Box<dyn SaslClientSession>>, SaslError> {
        let Some(token) = self.selected() else {
            return Ok(None);
        };
        // Java builds its DIGEST-MD5 client from the offer's protocol and server id.
        let protocol = offered.protocol.as_deref().unwrap_or(TOKEN_PROTOCOL);
        let server_id = offered.server_id.as_deref().unwrap_or(TOKEN_SERVER_ID);
        Ok(Some(Box::new(DigestMd5Client::new(
            &token.sasl_user_name(),
            &token.sasl_password(),
            protocol,
            server_id,
            &self.qops,
        )?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hafs_security::token::storage::{Credentials, Format};
    use hafs_security::token::{create_password, DelegationTokenIdentifier};

    fn token(seq: i32, service: &str) -> Token {
        let id = DelegationTokenIdentifier {
            owner: "alice@HAFS.TEST".into(),
            renewer: "yarn".into(),
            real_user: String::new(),
            issue_date: 1,
            max_date: 2,
            sequence_number: seq,
            master_key_id: 1,
        };
        Token::delegation(&id, create_password(&id.encode(), b"k"), service)
    }

    struct NoSecrets;

    impl TokenSecrets for NoSecrets {
        fn retrieve_password(&self, _: &[u8]) -> Result<Vec<u8>, SaslError> {
            Err(invalid_token("token (x) can't be found in cache"))
        }
        fn token_user(&self, identifier: &[u8]) -> Result<AuthenticatedUser, String> {
            let id = hafs_security::token::DelegationTokenIdentifier::decode(identifier)
                .map_err(|e| e.to_string())?;
            Ok(AuthenticatedUser {
                name: id.owner.clone(),
                short_name: id.owner,
                real_user: None,
                token_identifier: None,
            })
        }
    }

    #[test]
    fn junk_user_names_are_invalid_tokens_never_panics() {
        let m = TokenMethod::new(Arc::new(NoSecrets), vec![Qop::Privacy]);
        assert_eq!(m.protocol(), "");
        assert_eq!(m.server_id(), "default");
        for junk in ["", "!!", "AAAA", "Zm9v", &"A".repeat(10_000)] {
            let e = m.authenticated_user(junk).unwrap_err();
            assert_eq!(e.class_name, exceptions::INVALID_TOKEN, "{junk:?}");
            assert_eq!(e.code, RpcErrorCode::FatalUnauthorized);
        }
        let good = token(1, "x");
        let user = m.authenticated_user(&good.sasl_user_name()).unwrap();
        assert_eq!(user.name, "alice@HAFS.TEST");
        // The password lookup's refusal keeps its class and message.
        let mut session = m.start().unwrap();
        let _challenge = session.evaluate(b"").unwrap();
        let mut client = DigestMd5Client::new(
            &good.sasl_user_name(),
            &good.sasl_password(),
            "",
            "default",
            &[Qop::Privacy],
        )
        .unwrap();
        let hafs_security::sasl::SaslStep::Continue(challenge) = _challenge else {
            panic!("DIGEST-MD5 challenges first")
        };
        let response = match client.evaluate(&challenge).unwrap() {
            hafs_security::sasl::SaslStep::Continue(r) => r,
            other => panic!("{other:?}"),
        };
        match session.evaluate(&response) {
            Err(SaslError::Refused { class, message }) => {
                assert_eq!(class, exceptions::INVALID_TOKEN);
                assert_eq!(message, "token (x) can't be found in cache");
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn token_services_are_hadoops() {
        assert_eq!(ha_token_service("ns1"), "ha-hdfs:ns1");
        let a: std::net::SocketAddr = "127.0.0.1:8020".parse().unwrap();
        assert_eq!(address_token_service(a), "127.0.0.1:8020");
    }

    #[test]
    fn a_token_file_gives_the_token_of_the_service() {
        let dir = std::env::temp_dir().join(format!("hafs-ipc-tokfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tokens");
        let mut creds = Credentials::default();
        creds.add_token(token(1, "ha-hdfs:ns1"));
        creds.add_token(token(2, "127.0.0.1:8020"));
        let mut other_kind = token(3, "127.0.0.1:9000");
        other_kind.kind = "kms-dt".into();
        creds.add_token(other_kind);
        std::fs::write(&path, creds.write_storage_file(Format::Protobuf)).unwrap();
        let m =
            TokenMechanism::from_token_file(&path, "127.0.0.1:8020", vec![Qop::Privacy]).unwrap();
        assert_eq!(m.selected(), Some(&token(2, "127.0.0.1:8020")));
        let m =
            TokenMechanism::from_token_file(&path, "127.0.0.1:9000", vec![Qop::Privacy]).unwrap();
        assert!(
            m.selected().is_none(),
            "only HDFS delegation tokens are used"
        );
        std::fs::write(&path, b"HDTS\x07").unwrap();
        let e = TokenMechanism::from_token_file(&path, "x", vec![Qop::Privacy])
            .err()
            .unwrap();
        assert!(e.ends_with("Unknown version 7 in token storage."), "{e}");
        assert!(
            TokenMechanism::from_token_file(&dir.join("none"), "x", vec![Qop::Privacy]).is_err()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
