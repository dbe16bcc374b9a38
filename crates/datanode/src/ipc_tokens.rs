//! TOKEN authentication on the DataNode's IPC port (`dfs.datanode.ipc.address`).
//!
//! Hadoop's client calls ClientDatanodeProtocol (`getReplicaVisibleLength`, before it
//! reads the last block of a file still being written) as a user that holds nothing
//! but the block's access token, so in secure mode the DataNode's IPC server offers
//! TOKEN (DIGEST-MD5) with the block keys as its secret manager, before KERBEROS, as
//! Hadoop's DataNode does (`BlockPoolTokenSecretManager` on its RPC server). The call
//! then checks that the token is for the block it names ([`DataTransferSecurity::check_call`]).

use std::sync::Arc;

use hafs_ipc::auth::token::{invalid_token, TokenMethod, TokenSecrets};
use hafs_ipc::auth::{AuthenticatedUser, SaslMethod};
use hafs_security::block_token::BlockTokenIdentifier;
use hafs_security::sasl::{Qop, SaslError};

use crate::security::DataTransferSecurity;

/// The block keys as the TOKEN method's password source.
struct BlockTokenSecrets(Arc<DataTransferSecurity>);

impl TokenSecrets for BlockTokenSecrets {
    fn retrieve_password(&self, identifier: &[u8]) -> Result<Vec<u8>, SaslError> {
        self.0.token_password(identifier).map_err(invalid_token)
    }

    /// A block token's user (Hadoop's `BlockTokenIdentifier.getUser`: the user id the
    /// NameNode signed it for).
    fn token_user(&self, identifier: &[u8]) -> Result<AuthenticatedUser, String> {
        let id = BlockTokenIdentifier::decode(identifier).map_err(|e| e.to_string())?;
        if id.user_id.is_empty() {
            return Err("Block token with no user".into());
        }
        Ok(AuthenticatedUser {
            name: id.user_id.clone(),
            short_name: id.user_id,
            real_user: None,
            token_identifier: None,
        })
    }
}

/// The TOKEN method for the IPC server, when block tokens are on.
pub fn block_token_method(
    security: &Arc<DataTransferSecurity>,
    qops: &[Qop],
) -> Option<Arc<dyn SaslMethod>> {
    if !security.tokens_enabled() || qops.is_empty() {
        return None;
    }
    Some(Arc::new(TokenMethod::new(
        Arc::new(BlockTokenSecrets(security.clone())),
        qops.to_vec(),
    )))
}
