//! ClientProtocol's delegation token calls (Hadoop's `FSNamesystem.getDelegationToken`,
//! `renewDelegationToken`, `cancelDelegationToken`) and the secret manager's
//! housekeeping (key rolls, removal of expired tokens).
//!
//! Each call plans against the namespace's token state, logs the edit and applies it
//! under the namespace lock ([`Namesystem::mutate_op`]), so the Active's answer is
//! durable before the client sees it and a Standby replays the same state. The rows
//! are WRITE calls: a Standby answers StandbyException and the client fails over.

use hafs_ipc::auth::AuthMethod;
use hafs_ipc::{CallContext, RpcError};
use hafs_proto::common as pb;
use hafs_security::token::Token;
use tracing::info;

use super::token_method::now_ms;
use super::TokenOpError;
use crate::client_protocol::ClientProtocolService;
use crate::namesystem::Namesystem;

/// FSNamesystem's message for a token asked for over anything but Kerberos.
pub const ISSUE_NEEDS_KERBEROS: &str =
    "Delegation Token can be issued only with kerberos or web authentication";
/// …and for a renewal.
pub const RENEW_NEEDS_KERBEROS: &str =
    "Delegation Token can be renewed only with kerberos or web authentication";

fn op_err(e: TokenOpError) -> RpcError {
    RpcError::new(e.java_class(), e.to_string())
}

fn token_from(p: Option<&pb::TokenProto>) -> Result<Token, RpcError> {
    let p = p.ok_or_else(|| RpcError::illegal_argument("no token in the request"))?;
    Token::from_proto(p).map_err(|e| op_err(TokenOpError::InvalidToken(e.to_string())))
}

/// The caller's full user name (Hadoop's `getRemoteUser().getUserName()`): the Kerberos
/// principal, or for a proxied call the effective user (whose real user is the
/// principal).
fn full_user(ctx: &CallContext) -> String {
    match (&ctx.real_user, &ctx.principal) {
        (None, Some(p)) => p.clone(),
        _ => ctx.user.clone(),
    }
}

impl Namesystem {
    /// Rolls the master key when none exists or the current one is older than
    /// `dfs.namenode.delegation.key.update-interval` (Hadoop's ExpiredTokenRemover and
    /// `startThreads`), logging OP_UPDATE_MASTER_KEY.
    pub async fn roll_master_key_if_due(&self, now: i64) -> Result<(), RpcError> {
        let config = self.config.delegation_tokens;
        if !self.read().delegation_tokens().key_roll_due(now, &config) {
            return Ok(());
        }
        let mut key = vec![0u8; super::secret_manager::MASTER_KEY_LEN];
        getrandom::fill(&mut key)
            .map_err(|e| RpcError::io(format!("no random source for a master key: {e}")))?;
        let (rolled, _) = self
            .mutate_op("update the delegation token master key", None, |ns| {
                let tokens = ns.delegation_tokens();
                // Again under the lock: another call may have rolled meanwhile.
                if !tokens.key_roll_due(now, &config) {
                    return Ok((None, None));
                }
                let edit = tokens.plan_roll_master_key(now, &config, key);
                Ok((Some(edit), Some(tokens.current_key_id() + 1)))
            })
            .await?;
        if let Some(key_id) = rolled {
            info!(key_id, "delegation token master key rolled");
        }
        Ok(())
    }

    /// Rolls the master key if due and logs the removal of every token whose renew date
    /// passed. Only an Active NameNode with security on does anything.
    pub async fn delegation_token_housekeeping(&self) {
        if !self.config.security_enabled
            || self.ha_state() != crate::namesystem::HaState::Active
            || self.in_safe_mode()
        {
            return;
        }
        let now = now_ms();
        // Expired tokens first, so the roll may drop the keys only they still named.
        self.remove_expired_tokens(now).await;
        if let Err(e) = self.roll_master_key_if_due(now).await {
            tracing::warn!("delegation token master key roll failed: {}", e.message);
        }
    }

    async fn remove_expired_tokens(&self, now: i64) {
        let expired = self.read().delegation_tokens().plan_remove_expired(now);
        if expired.is_empty() {
            return;
        }
        let count = expired.len();
        for edit in expired {
            let r = self
                .mutate_op("remove an expired delegation token", None, |ns| {
                    // Still there? (A cancel may have raced.)
                    let still = ns.delegation_tokens().plan_remove_expired(now);
                    Ok((still.into_iter().find(|e| *e == edit), ()))
                })
                .await;
            if let Err(e) = r {
                tracing::warn!("removing an expired delegation token failed: {}", e.message);
                return;
            }
        }
        info!(count, "expired delegation tokens removed");
    }
}

/// The handlers are public so that tests can call them with a Kerberos `CallContext`
/// where no KDC is available.
impl ClientProtocolService {
    /// getDelegationToken: a token for the caller (Kerberos only) that `renewer` may renew.
    pub async fn get_delegation_token(
        &self,
        ctx: &CallContext,
        r: pb::GetDelegationTokenRequestProto,
    ) -> Result<pb::GetDelegationTokenResponseProto, RpcError> {
        let fsn = &self.fsn;
        fsn.check_not_safe_mode("issue delegation token")?;
        if !fsn.config.security_enabled {
            // Hadoop's secret manager does not run without security: no token.
            return Ok(pb::GetDelegationTokenResponseProto { token: None });
        }
        if ctx.auth_method != AuthMethod::Kerberos {
            return Err(RpcError::io(ISSUE_NEEDS_KERBEROS));
        }
        let names = fsn.name_mapper();
        // The renewer is kept as its short name (AbstractDelegationTokenIdentifier's
        // constructor maps it through auth_to_local).
        let renewer = if r.renewer.is_empty() {
            String::new()
        } else {
            names(&r.renewer).map_err(RpcError::io)?
        };
        let (owner, real_user) = match (&ctx.real_user, &ctx.principal) {
            (Some(_), Some(real)) => (ctx.user.clone(), real.clone()),
            _ => (full_user(ctx), String::new()),
        };
        let now = now_ms();
        fsn.roll_master_key_if_due(now).await?;
        let config = fsn.config.delegation_tokens;
        let (token, _) = fsn
            .mutate_op("issue delegation token", None, |ns| {
                let (edit, token) = ns
                    .delegation_tokens()
                    .plan_issue(now, &config, &owner, &renewer, &real_user)
                    .map_err(op_err)?;
                Ok((Some(edit), token))
            })
            .await?;
        info!(%owner, %renewer, "delegation token issued");
        // The service is the client's to set (DFSClient sets ha-hdfs:<ns> or host:port
        // before it stores the token), so it goes out empty, as from Hadoop.
        Ok(pb::GetDelegationTokenResponseProto {
            token: Some(token.to_proto()),
        })
    }

    /// renewDelegationToken: only the token's renewer, over Kerberos.
    pub async fn renew_delegation_token(
        &self,
        ctx: &CallContext,
        r: pb::RenewDelegationTokenRequestProto,
    ) -> Result<pb::RenewDelegationTokenResponseProto, RpcError> {
        let fsn = &self.fsn;
        fsn.check_not_safe_mode("renew delegation token")?;
        if fsn.config.security_enabled && ctx.auth_method != AuthMethod::Kerberos {
            return Err(RpcError::io(RENEW_NEEDS_KERBEROS));
        }
        let token = token_from(Some(&r.token))?;
        let now = now_ms();
        let config = fsn.config.delegation_tokens;
        let (expiry, _) = fsn
            .mutate_op("renew delegation token", None, |ns| {
                let (edit, expiry) = ns
                    .delegation_tokens()
                    .plan_renew(now, &config, &token, &ctx.user)
                    .map_err(op_err)?;
                Ok((Some(edit), expiry))
            })
            .await?;
        Ok(pb::RenewDelegationTokenResponseProto {
            new_expiry_time: expiry.max(0) as u64,
        })
    }

    /// cancelDelegationToken: the owner or the renewer.
    pub async fn cancel_delegation_token(
        &self,
        ctx: &CallContext,
        r: pb::CancelDelegationTokenRequestProto,
    ) -> Result<pb::CancelDelegationTokenResponseProto, RpcError> {
        let fsn = &self.fsn;
        let token = token_from(Some(&r.token))?;
        let canceller = full_user(ctx);
        fsn.mutate_op("cancel delegation token", None, |ns| {
            let edit = ns
                .delegation_tokens()
                .plan_cancel(&token, &canceller, &ctx.user)
                .map_err(op_err)?;
            Ok((Some(edit), ()))
        })
        .await?;
        Ok(pb::CancelDelegationTokenResponseProto {})
    }
}
