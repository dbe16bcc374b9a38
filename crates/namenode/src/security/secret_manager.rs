//! The delegation token secret manager's state (Hadoop's
//! `AbstractDelegationTokenSecretManager` + HDFS's `DelegationTokenSecretManager`), sans
//! IO: times are arguments (ms since the epoch), randomness is an argument, and every
//! change goes through [`DelegationTokens::apply`] on an [`EditOp`].
//!
//! Rules, with Hadoop's messages:
//! - a token is signed (HMAC-SHA1) with the current master key; keys roll every
//!   `dfs.namenode.delegation.key.update-interval` and live until every token they signed
//!   has reached its max date (`expiry = now + update interval + max lifetime`);
//! - a token expires `renew-interval` after issue or its last renewal, and never outlives
//!   `max-lifetime` after issue;
//! - only the renewer named in the identifier renews; the owner or the renewer cancels;
//! - an unknown, cancelled or expired token is `SecretManager$InvalidToken`.
//!
//! Invariants (asserted): key ids and token sequence numbers only go up.

use std::collections::{BTreeMap, HashMap};

use hafs_proto::hafs::{
    self as pb, edit_op::Op, CancelDelegationTokenOp, GetDelegationTokenOp, RenewDelegationTokenOp,
    UpdateMasterKeyOp,
};
use hafs_security::token::{
    create_password, format_time, passwords_equal, DelegationTokenIdentifier, Token,
};

use crate::namespace::EditOp;

/// Length of a new master key. Hadoop's HmacSHA1 KeyGenerator gives 64 bytes; any length
/// works for HMAC and only this NameNode pair ever uses the key.
pub const MASTER_KEY_LEN: usize = 64;
/// Bound on a master key read back from an edit or image.
const MAX_KEY_LEN: usize = 1024;
/// Bound on live tokens held from an image (far above any real cluster's count).
const MAX_IMAGE_TOKENS: usize = 1 << 24;

/// The three intervals (Hadoop's keys, in milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelegationTokenConfig {
    /// dfs.namenode.delegation.key.update-interval (1 day).
    pub key_update_interval: i64,
    /// dfs.namenode.delegation.token.renew-interval (1 day).
    pub renew_interval: i64,
    /// dfs.namenode.delegation.token.max-lifetime (7 days).
    pub max_lifetime: i64,
}

impl Default for DelegationTokenConfig {
    fn default() -> Self {
        DelegationTokenConfig {
            key_update_interval: 86_400_000,
            renew_interval: 86_400_000,
            max_lifetime: 604_800_000,
        }
    }
}

/// A refused token operation, as the Java exception a client expects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenOpError {
    /// `SecretManager$InvalidToken`: unknown, cancelled, expired or undecodable.
    #[error("{0}")]
    InvalidToken(String),
    /// `AccessControlException`: a caller who may not renew or cancel this token.
    #[error("{0}")]
    AccessControl(String),
    /// `IOException`: the secret manager cannot issue (no master key yet).
    #[error("{0}")]
    Io(String),
}

impl TokenOpError {
    pub fn java_class(&self) -> &'static str {
        match self {
            TokenOpError::InvalidToken(_) => hafs_ipc::exceptions::INVALID_TOKEN,
            TokenOpError::AccessControl(_) => hafs_ipc::exceptions::ACCESS_CONTROL,
            TokenOpError::Io(_) => hafs_ipc::exceptions::IO,
        }
    }
}

/// A master key (Hadoop's `DelegationKey`).
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey {
    pub key_id: i32,
    pub expiry_date: i64,
    pub key: Vec<u8>,
}

/// Never print key material.
impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey")
            .field("key_id", &self.key_id)
            .field("expiry_date", &self.expiry_date)
            .finish_non_exhaustive()
    }
}

/// A live token (Hadoop's `DelegationTokenInformation`).
#[derive(Clone, PartialEq, Eq)]
struct TokenInfo {
    renew_date: i64,
    password: Vec<u8>,
}

/// Master keys, live tokens and the two counters.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct DelegationTokens {
    keys: BTreeMap<i32, MasterKey>,
    /// The id of the newest key (Hadoop's `delegationKeySequenceNumber`); 0 = none yet.
    current_key_id: i32,
    /// The last sequence number handed out (Hadoop's `delegationTokenSequenceNumber`).
    sequence_number: i32,
    tokens: HashMap<DelegationTokenIdentifier, TokenInfo>,
}

impl std::fmt::Debug for DelegationTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DelegationTokens")
            .field("keys", &self.keys.len())
            .field("current_key_id", &self.current_key_id)
            .field("sequence_number", &self.sequence_number)
            .field("tokens", &self.tokens.len())
            .finish()
    }
}

fn op(op: Op) -> EditOp {
    EditOp {
        retry_cache: None,
        op: Some(op),
    }
}

fn decode_id(token: &Token) -> Result<DelegationTokenIdentifier, TokenOpError> {
    token
        .delegation_identifier()
        .map_err(|e| TokenOpError::InvalidToken(e.to_string()))
}

/// Hadoop's `formatTokenId`: the identifier's string in parentheses.
fn fmt_id(id: &DelegationTokenIdentifier) -> String {
    format!("({id})")
}

/// An edit that does not fit the state (a corrupt or misordered log).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("delegation token edit cannot be applied: {0}")]
pub struct CorruptTokenEdit(pub String);

impl DelegationTokens {
    pub fn current_key_id(&self) -> i32 {
        self.current_key_id
    }

    pub fn sequence_number(&self) -> i32 {
        self.sequence_number
    }

    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    pub fn token_count(&self) -> usize {
        self.tokens.len()
    }

    /// When the current key was made (its expiry less the lifetime a key is given).
    fn current_key_created(&self, config: &DelegationTokenConfig) -> Option<i64> {
        let key = self.keys.get(&self.current_key_id)?;
        Some(key.expiry_date - config.key_update_interval - config.max_lifetime)
    }

    /// True when a new master key is due: none yet, or the current one is older than the
    /// update interval (Hadoop's ExpiredTokenRemover check).
    pub fn key_roll_due(&self, now: i64, config: &DelegationTokenConfig) -> bool {
        match self.current_key_created(config) {
            None => true,
            Some(created) => now - created >= config.key_update_interval,
        }
    }

    /// OP_UPDATE_MASTER_KEY: a new current key made of `key` (random bytes the caller
    /// drew), dropping keys already past their expiry — but never a key a live token
    /// still names: replaying that token's edit, or loading an image holding it, needs
    /// the key to recompute its password.
    pub fn plan_roll_master_key(
        &self,
        now: i64,
        config: &DelegationTokenConfig,
        key: Vec<u8>,
    ) -> EditOp {
        assert!(!key.is_empty() && key.len() <= MAX_KEY_LEN);
        let key_id = self
            .current_key_id
            .checked_add(1)
            .expect("2^31 master keys: one a day for millions of years");
        let in_use: std::collections::HashSet<i32> =
            self.tokens.keys().map(|id| id.master_key_id).collect();
        let expired_key_ids = self
            .keys
            .values()
            .filter(|k| k.expiry_date < now && !in_use.contains(&k.key_id))
            .map(|k| k.key_id)
            .collect();
        op(Op::UpdateMasterKey(UpdateMasterKeyOp {
            key: Some(pb::DelegationKey {
                key_id,
                expiry_date: now + config.key_update_interval + config.max_lifetime,
                key: key.into(),
            }),
            expired_key_ids,
        }))
    }

    /// OP_GET_DELEGATION_TOKEN: a token for `owner` (the full principal) that `renewer`
    /// (a short name, possibly empty) may renew, signed with the current key. The
    /// caller has checked who may ask; the token's service is left to the client.
    pub fn plan_issue(
        &self,
        now: i64,
        config: &DelegationTokenConfig,
        owner: &str,
        renewer: &str,
        real_user: &str,
    ) -> Result<(EditOp, Token), TokenOpError> {
        let key = self.keys.get(&self.current_key_id).ok_or_else(|| {
            TokenOpError::Io("the delegation token secret manager has no master key yet".into())
        })?;
        let sequence_number = self.sequence_number.checked_add(1).ok_or_else(|| {
            TokenOpError::Io("delegation token sequence numbers are exhausted".into())
        })?;
        let id = DelegationTokenIdentifier {
            owner: owner.to_string(),
            renewer: renewer.to_string(),
            real_user: real_user.to_string(),
            issue_date: now,
            max_date: now + config.max_lifetime,
            sequence_number,
            master_key_id: key.key_id,
        };
        let identifier = id.encode();
        if identifier.len() > hafs_security::token::MAX_IDENTIFIER_LEN {
            return Err(TokenOpError::Io(format!(
                "token identifier of {} bytes: names too long",
                identifier.len()
            )));
        }
        let password = create_password(&identifier, &key.key);
        let edit = op(Op::GetDelegationToken(GetDelegationTokenOp {
            identifier: identifier.clone().into(),
            expiry_time: now + config.renew_interval,
        }));
        let token = Token {
            identifier,
            password,
            kind: hafs_security::token::HDFS_DELEGATION_KIND.to_string(),
            service: String::new(),
        };
        Ok((edit, token))
    }

    /// OP_RENEW_DELEGATION_TOKEN for `renewer` (the caller's short name). Returns the
    /// edit and the new expiry time.
    pub fn plan_renew(
        &self,
        now: i64,
        config: &DelegationTokenConfig,
        token: &Token,
        renewer: &str,
    ) -> Result<(EditOp, i64), TokenOpError> {
        let id = decode_id(token)?;
        if id.max_date < now {
            return Err(TokenOpError::InvalidToken(format!(
                "{renewer} tried to renew an expired token {} max expiration date: {} \
                 currentTime: {}",
                fmt_id(&id),
                format_time(id.max_date),
                format_time(now)
            )));
        }
        if id.renewer.is_empty() {
            return Err(TokenOpError::AccessControl(format!(
                "{renewer} tried to renew a token {} without a renewer",
                fmt_id(&id)
            )));
        }
        if id.renewer != renewer {
            return Err(TokenOpError::AccessControl(format!(
                "{renewer} tries to renew a token {} with non-matching renewer {}",
                fmt_id(&id),
                id.renewer
            )));
        }
        let Some(key) = self.keys.get(&id.master_key_id) else {
            return Err(TokenOpError::InvalidToken(format!(
                "Unable to find master key for keyId={} from cache. Failed to renew an \
                 unexpired token {} with sequenceNumber={}",
                id.master_key_id,
                fmt_id(&id),
                id.sequence_number
            )));
        };
        if !passwords_equal(
            &create_password(&token.identifier, &key.key),
            &token.password,
        ) {
            return Err(TokenOpError::AccessControl(format!(
                "{renewer} is trying to renew a token {} with wrong password",
                fmt_id(&id)
            )));
        }
        if !self.tokens.contains_key(&id) {
            return Err(TokenOpError::InvalidToken(format!(
                "Renewal request for unknown token {}",
                fmt_id(&id)
            )));
        }
        let expiry = id.max_date.min(now + config.renew_interval);
        let edit = op(Op::RenewDelegationToken(RenewDelegationTokenOp {
            identifier: token.identifier.clone().into(),
            expiry_time: expiry,
        }));
        Ok((edit, expiry))
    }

    /// OP_CANCEL_DELEGATION_TOKEN for `canceller` (the caller's full name) whose short
    /// name is `canceller_short`: the owner or the renewer may cancel.
    pub fn plan_cancel(
        &self,
        token: &Token,
        canceller: &str,
        canceller_short: &str,
    ) -> Result<EditOp, TokenOpError> {
        let id = decode_id(token)?;
        if id.owner.is_empty() {
            return Err(TokenOpError::InvalidToken(format!(
                "Token with no owner {}",
                fmt_id(&id)
            )));
        }
        let is_renewer = !id.renewer.is_empty() && id.renewer == canceller_short;
        if canceller != id.owner && !is_renewer {
            return Err(TokenOpError::AccessControl(format!(
                "{canceller} is not authorized to cancel the token {}",
                fmt_id(&id)
            )));
        }
        if !self.tokens.contains_key(&id) {
            return Err(TokenOpError::InvalidToken(format!(
                "Token not found {}",
                fmt_id(&id)
            )));
        }
        Ok(op(Op::CancelDelegationToken(CancelDelegationTokenOp {
            identifier: token.identifier.clone().into(),
        })))
    }

    /// Edits removing the tokens whose renew date passed (Hadoop's ExpiredTokenRemover,
    /// which HDFS logs as cancellations).
    pub fn plan_remove_expired(&self, now: i64) -> Vec<EditOp> {
        let mut expired: Vec<&DelegationTokenIdentifier> = self
            .tokens
            .iter()
            .filter(|(_, info)| info.renew_date < now)
            .map(|(id, _)| id)
            .collect();
        // A stable order, so two NameNodes' logs of the same removal look alike.
        expired.sort_by_key(|id| id.sequence_number);
        expired
            .into_iter()
            .map(|id| {
                op(Op::CancelDelegationToken(CancelDelegationTokenOp {
                    identifier: id.encode().into(),
                }))
            })
            .collect()
    }

    /// Hadoop's `retrievePassword` / `checkToken`: the password of a live token, for the
    /// DIGEST-MD5 exchange.
    pub fn retrieve_password(&self, now: i64, identifier: &[u8]) -> Result<Vec<u8>, TokenOpError> {
        let id = DelegationTokenIdentifier::decode(identifier)
            .map_err(|e| TokenOpError::InvalidToken(e.to_string()))?;
        let Some(info) = self.tokens.get(&id) else {
            return Err(TokenOpError::InvalidToken(format!(
                "token {} can't be found in cache",
                fmt_id(&id)
            )));
        };
        if info.renew_date < now {
            return Err(TokenOpError::InvalidToken(format!(
                "token {} is expired, current time: {} expected renewal time: {}",
                fmt_id(&id),
                format_time(now),
                format_time(info.renew_date)
            )));
        }
        Ok(info.password.clone())
    }

    /// Applies one of the four token edits; `None` when `op` is not a token edit.
    pub fn apply(&mut self, op: &Op) -> Option<Result<(), CorruptTokenEdit>> {
        Some(match op {
            Op::UpdateMasterKey(u) => self.apply_update_master_key(u),
            Op::GetDelegationToken(g) => self.apply_add_token(&g.identifier, g.expiry_time),
            Op::RenewDelegationToken(r) => self.apply_renew(&r.identifier, r.expiry_time),
            Op::CancelDelegationToken(c) => self.apply_cancel(&c.identifier),
            _ => return None,
        })
    }

    fn apply_update_master_key(&mut self, u: &UpdateMasterKeyOp) -> Result<(), CorruptTokenEdit> {
        if let Some(id) = self
            .tokens
            .keys()
            .find(|id| u.expired_key_ids.contains(&id.master_key_id))
        {
            return Err(CorruptTokenEdit(format!(
                "master key {} dropped while token {} needs it",
                id.master_key_id,
                fmt_id(id)
            )));
        }
        let key = u
            .key
            .as_ref()
            .ok_or_else(|| CorruptTokenEdit("master key edit without a key".into()))?;
        let key = check_key(key)?;
        // Key ids only go up: a smaller or repeated id is a misordered log.
        if key.key_id <= self.current_key_id {
            return Err(CorruptTokenEdit(format!(
                "master key {} is not newer than the current key {}",
                key.key_id, self.current_key_id
            )));
        }
        for id in &u.expired_key_ids {
            self.keys.remove(id);
        }
        self.current_key_id = key.key_id;
        self.keys.insert(key.key_id, key);
        Ok(())
    }

    /// Hadoop's `addPersistedDelegationToken`.
    fn apply_add_token(&mut self, identifier: &[u8], expiry: i64) -> Result<(), CorruptTokenEdit> {
        let id = decode_persisted(identifier)?;
        let key = self.keys.get(&id.master_key_id).ok_or_else(|| {
            CorruptTokenEdit(format!(
                "Unknown master key with id {} for token {}",
                id.master_key_id,
                fmt_id(&id)
            ))
        })?;
        if self.tokens.contains_key(&id) {
            return Err(CorruptTokenEdit(format!(
                "Same delegation token being added twice: {}",
                fmt_id(&id)
            )));
        }
        let password = create_password(identifier, &key.key);
        // Sequence numbers only go up; a replayed token may be older than the counter
        // (after an image that already holds later tokens) but never lowers it.
        self.sequence_number = self.sequence_number.max(id.sequence_number);
        self.tokens.insert(
            id,
            TokenInfo {
                renew_date: expiry,
                password,
            },
        );
        Ok(())
    }

    fn apply_renew(&mut self, identifier: &[u8], expiry: i64) -> Result<(), CorruptTokenEdit> {
        let id = decode_persisted(identifier)?;
        let info = self
            .tokens
            .get_mut(&id)
            .ok_or_else(|| CorruptTokenEdit(format!("renewal of unknown token {}", fmt_id(&id))))?;
        info.renew_date = expiry;
        Ok(())
    }

    fn apply_cancel(&mut self, identifier: &[u8]) -> Result<(), CorruptTokenEdit> {
        let id = decode_persisted(identifier)?;
        self.tokens
            .remove(&id)
            .map(|_| ())
            .ok_or_else(|| CorruptTokenEdit(format!("cancel of unknown token {}", fmt_id(&id))))
    }

    /// The fsimage section: keys and tokens in a fixed order, so equal states give equal
    /// images (tests and the Active/Standby digest compare images).
    pub fn save_section(&self) -> Option<pb::SecretManagerSection> {
        if *self == DelegationTokens::default() {
            // An image of a cluster that never used tokens stays as it was.
            return None;
        }
        let mut tokens: Vec<(&DelegationTokenIdentifier, &TokenInfo)> =
            self.tokens.iter().collect();
        tokens.sort_by_key(|(id, _)| id.sequence_number);
        Some(pb::SecretManagerSection {
            current_key_id: self.current_key_id,
            sequence_number: self.sequence_number,
            keys: self
                .keys
                .values()
                .map(|k| pb::DelegationKey {
                    key_id: k.key_id,
                    expiry_date: k.expiry_date,
                    key: k.key.clone().into(),
                })
                .collect(),
            tokens: tokens
                .into_iter()
                .map(|(id, info)| pb::PersistedToken {
                    identifier: id.encode().into(),
                    expiry_time: info.renew_date,
                })
                .collect(),
        })
    }

    /// Rebuilds the state from an image section (absent: empty).
    pub fn load_section(
        section: Option<&pb::SecretManagerSection>,
    ) -> Result<DelegationTokens, CorruptTokenEdit> {
        let mut s = DelegationTokens::default();
        let Some(section) = section else {
            return Ok(s);
        };
        if section.tokens.len() > MAX_IMAGE_TOKENS {
            return Err(CorruptTokenEdit(format!(
                "{} delegation tokens in the image",
                section.tokens.len()
            )));
        }
        for k in &section.keys {
            let key = check_key(k)?;
            if s.keys.insert(key.key_id, key).is_some() {
                return Err(CorruptTokenEdit(format!("master key {} twice", k.key_id)));
            }
        }
        if section.current_key_id < 0
            || s.keys
                .keys()
                .next_back()
                .is_some_and(|&m| m > section.current_key_id)
        {
            return Err(CorruptTokenEdit(format!(
                "current master key id {} is below a stored key's",
                section.current_key_id
            )));
        }
        s.current_key_id = section.current_key_id;
        for t in &section.tokens {
            s.apply_add_token(&t.identifier, t.expiry_time)?;
        }
        if section.sequence_number < s.sequence_number {
            return Err(CorruptTokenEdit(format!(
                "sequence number {} is below a stored token's {}",
                section.sequence_number, s.sequence_number
            )));
        }
        s.sequence_number = section.sequence_number;
        Ok(s)
    }
}

fn check_key(k: &pb::DelegationKey) -> Result<MasterKey, CorruptTokenEdit> {
    if k.key.is_empty() || k.key.len() > MAX_KEY_LEN || k.key_id <= 0 {
        return Err(CorruptTokenEdit(format!(
            "master key {} of {} bytes",
            k.key_id,
            k.key.len()
        )));
    }
    Ok(MasterKey {
        key_id: k.key_id,
        expiry_date: k.expiry_date,
        key: k.key.to_vec(),
    })
}

fn decode_persisted(identifier: &[u8]) -> Result<DelegationTokenIdentifier, CorruptTokenEdit> {
    DelegationTokenIdentifier::decode(identifier).map_err(|e| CorruptTokenEdit(e.to_string()))
}

#[cfg(test)]
#[path = "secret_manager_tests.rs"]
mod tests;
