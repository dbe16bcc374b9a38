//! The NameNode's TOKEN SASL method: hafs-ipc's DIGEST-MD5 [`TokenMethod`] with the
//! secret manager behind it.
//!
//! The daemon wiring builds the RPC server's `ServerAuth.methods` as Hadoop orders them,
//! TOKEN first:
//!
//! ```ignore
//! let mut methods = Vec::new();
//! methods.extend(security::token_method(&fsn, &qops));   // None unless kerberos
//! methods.extend(kerberos_method(...));                  // the KERBEROS method
//! ```

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub use hafs_ipc::auth::token::TokenMethod;
use hafs_ipc::auth::token::{invalid_token, TokenSecrets};
use hafs_ipc::auth::{AuthenticatedUser, SaslMethod};
use hafs_ipc::OperationCategory;
use hafs_security::sasl::{Qop, SaslError};
use hafs_security::token::DelegationTokenIdentifier;

use super::TokenOpError;
use crate::namesystem::Namesystem;

/// Maps a principal (`alice@HAFS.TEST`, `nn/host@HAFS.TEST`) to the short name calls run
/// as: `hadoop.security.auth_to_local` (hafs-security's `AuthToLocal::short_name_of`).
/// `Err` carries the message of a name no rule maps.
pub type NameMapper = Arc<dyn Fn(&str) -> Result<String, String> + Send + Sync>;

/// The mapping until the daemon installs its `auth_to_local` rules: the principal's
/// first component, which is what Hadoop's DEFAULT rule gives in the default realm.
pub fn default_name_mapper() -> NameMapper {
    Arc::new(|name: &str| {
        name.split(['/', '@'])
            .next()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| format!("Illegal principal name {name}"))
    })
}

/// Milliseconds since the epoch, the secret manager's clock.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A refusal as the SASL error that carries Hadoop's exception class to the client.
pub(crate) fn token_refusal(e: TokenOpError) -> SaslError {
    SaslError::Refused {
        class: e.java_class(),
        message: e.to_string(),
    }
}

/// The secret manager as the TOKEN method's password source.
struct NamesystemSecrets {
    fsn: Arc<Namesystem>,
}

impl TokenSecrets for NamesystemSecrets {
    fn retrieve_password(&self, identifier: &[u8]) -> Result<Vec<u8>, SaslError> {
        // As HDFS's DelegationTokenSecretManager.retrievePassword: a NameNode that does
        // not serve reads (a Standby) refuses with StandbyException so that the client
        // fails over, rather than InvalidToken for a token it may simply not have
        // tailed yet.
        self.fsn
            .check_operation(OperationCategory::Read)
            .map_err(|e| SaslError::Refused {
                class: hafs_ipc::exceptions::STANDBY,
                message: e.message,
            })?;
        let ns = self.fsn.read();
        ns.delegation_tokens()
            .retrieve_password(now_ms(), identifier)
            .map_err(token_refusal)
    }

    fn token_user(&self, identifier: &[u8]) -> Result<AuthenticatedUser, String> {
        let id = DelegationTokenIdentifier::decode(identifier).map_err(|e| e.to_string())?;
        token_user(&id, &self.fsn.name_mapper())
    }
}

/// Who a token authenticates: its owner (Hadoop's `TokenIdentifier.getUser`), proxied
/// for its real user when it has one.
pub fn token_user(
    id: &DelegationTokenIdentifier,
    names: &NameMapper,
) -> Result<AuthenticatedUser, String> {
    if id.owner.is_empty() {
        return Err(invalid_token("Token with no owner").to_string());
    }
    let real_user = if id.real_user.is_empty() {
        None
    } else {
        Some(names(&id.real_user)?)
    };
    Ok(AuthenticatedUser {
        name: id.owner.clone(),
        short_name: names(&id.owner)?,
        real_user,
        token_identifier: None,
    })
}

/// The TOKEN method for this NameNode's RPC server, or `None` when security is off
/// (`hadoop.security.authentication=simple`): a SIMPLE server offers no SASL method.
/// `qops` is `hadoop.rpc.protection`.
pub fn token_method(fsn: &Arc<Namesystem>, qops: &[Qop]) -> Option<Arc<dyn SaslMethod>> {
    if !fsn.config.security_enabled {
        return None;
    }
    let secrets = Arc::new(NamesystemSecrets { fsn: fsn.clone() });
    Some(Arc::new(TokenMethod::new(secrets, qops.to_vec())))
}
