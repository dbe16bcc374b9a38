//! The DataNode's side of block access tokens and data-transfer protection.
//!
//! [`DataTransferSecurity`] holds what every data-transfer connection needs:
//! - the block keys of every NameNode (`dfs.block.access.token.enable`), received at
//!   registration and in KeyUpdateCommands, to check the token of each op and to sign
//!   tokens for the copies this DataNode starts itself (re-replication, pipeline
//!   transfers), as Hadoop's `BlockPoolTokenSecretManager` does;
//! - the SASL protection (`dfs.data.transfer.protection`) the data port requires and
//!   that this DataNode uses towards other DataNodes, and whether privacy runs on
//!   AES/CTR (`dfs.encrypt.data.transfer.cipher.suites`) in both roles.
//!
//! With both off (the default) nothing is checked and no handshake happens.

use std::sync::Mutex;

use bytes::Bytes;
use hafs_conf::keys::*;
use hafs_conf::{ConfError, Configuration};
use hafs_datatransfer::sasl::{TokenPasswordLookup, TransferCipher};
use hafs_proto::common::TokenProto;
use hafs_proto::hdfs::datanode::ExportedBlockKeysProto;
use hafs_security::block_token::{
    base64_decode, base64_encode, AccessMode, BlockKey, BlockToken, BlockTokenIdentifier,
    BlockTokenSecretManager, ExportedBlockKeys, BLOCK_TOKEN_KIND,
};
use hafs_security::sasl::Qop;

/// Hadoop's `DataNode.checkSecureConfig` refusal, word for word in its first sentence.
pub const INSECURE_CONFIG: &str = "Cannot start secure DataNode due to incorrect config. See \
https://cwiki.apache.org/confluence/display/HADOOP/Secure+DataNode for details.";

/// Block keys and protection. See the module docs.
#[derive(Default)]
pub struct DataTransferSecurity {
    tokens: Option<Mutex<BlockTokenSecretManager>>,
    protection: Option<Vec<Qop>>,
    cipher: Option<TransferCipher>,
}

impl std::fmt::Debug for DataTransferSecurity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataTransferSecurity")
            .field("block_tokens", &self.tokens.is_some())
            .field("protection", &self.protection)
            .field("cipher", &self.cipher)
            .finish()
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn key_of(k: &hafs_proto::hdfs::datanode::BlockKeyProto) -> BlockKey {
    BlockKey {
        key_id: k.key_id as i32,
        expiry_date: k.expiry_date.min(i64::MAX as u64) as i64,
        key: k.key_bytes.as_ref().map(|b| b.to_vec()).unwrap_or_default(),
    }
}

impl DataTransferSecurity {
    /// Block tokens `enabled`, and `protection` (`None`: no handshake).
    pub fn new(enabled: bool, protection: Option<Vec<Qop>>) -> DataTransferSecurity {
        DataTransferSecurity {
            // The lifetime of self-made tokens follows the NameNode's exported keys.
            tokens: enabled.then(|| Mutex::new(BlockTokenSecretManager::new_slave(0, 0))),
            protection,
            cipher: None,
        }
    }

    /// Privacy on AES/CTR with these keys, when both ends agree (see
    /// `hafs_datatransfer::sasl`).
    pub fn with_cipher(mut self, cipher: Option<TransferCipher>) -> DataTransferSecurity {
        self.cipher = cipher;
        self
    }

    /// Reads `dfs.block.access.token.enable` and `dfs.data.transfer.protection`, and
    /// refuses a Kerberos DataNode whose data port would be unprotected
    /// (`checkSecureConfig`): hafs never binds a privileged port for that.
    pub fn from_conf(conf: &Configuration) -> Result<DataTransferSecurity, ConfError> {
        let enabled = conf.get_bool(
            DFS_BLOCK_ACCESS_TOKEN_ENABLE,
            DFS_BLOCK_ACCESS_TOKEN_ENABLE_DEFAULT,
        )?;
        let protection = match conf
            .get_trimmed(DFS_DATA_TRANSFER_PROTECTION)
            .filter(|v| !v.is_empty())
        {
            None => None,
            Some(v) => Some(Qop::parse_hadoop_list(&v).map_err(|e| ConfError::BadValue {
                key: DFS_DATA_TRANSFER_PROTECTION.to_string(),
                value: v.clone(),
                expected: format!("authentication, integrity and/or privacy ({e})"),
            })?),
        };
        let kerberos = conf
            .get_trimmed(HADOOP_SECURITY_AUTHENTICATION)
            .is_some_and(|v| v.eq_ignore_ascii_case("kerberos"));
        if kerberos && protection.is_none() {
            return Err(ConfError::NotSet {
                key: DFS_DATA_TRANSFER_PROTECTION.to_string(),
                hint: INSECURE_CONFIG.to_string(),
            });
        }
        if protection.is_some() && !enabled {
            // The handshake proves a block token; without tokens there is none to prove.
            return Err(ConfError::BadValue {
                key: DFS_BLOCK_ACCESS_TOKEN_ENABLE.to_string(),
                value: "false".into(),
                expected: format!("true when {DFS_DATA_TRANSFER_PROTECTION} is set"),
            });
        }
        let cipher = TransferCipher::from_conf_values(
            conf.get_trimmed(DFS_ENCRYPT_DATA_TRANSFER_CIPHER_SUITES)
                .as_deref(),
            conf.get_trimmed(DFS_ENCRYPT_DATA_TRANSFER_CIPHER_KEY_BITLENGTH)
                .as_deref(),
        )
        .map_err(|e| ConfError::BadValue {
            key: e.key.to_string(),
            value: e.value,
            expected: e.message,
        })?;
        Ok(DataTransferSecurity::new(enabled, protection).with_cipher(cipher))
    }

    pub fn tokens_enabled(&self) -> bool {
        self.tokens.is_some()
    }

    /// The QOPs the data port requires, most preferred first.
    pub fn protection(&self) -> Option<&[Qop]> {
        self.protection.as_deref()
    }

    /// AES/CTR for privacy (`dfs.encrypt.data.transfer.cipher.suites`), if set.
    pub fn cipher(&self) -> Option<TransferCipher> {
        self.cipher
    }

    fn mgr(&self) -> Option<std::sync::MutexGuard<'_, BlockTokenSecretManager>> {
        self.tokens
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Keys from a NameNode (registration reply or KeyUpdateCommand).
    pub fn add_keys(&self, keys: &ExportedBlockKeysProto) {
        let Some(mut m) = self.mgr() else { return };
        if !keys.is_block_token_enabled {
            return;
        }
        let exported = ExportedBlockKeys {
            enabled: true,
            key_update_interval_ms: keys.key_update_interval,
            token_lifetime_ms: keys.token_life_time,
            current_key: key_of(&keys.current_key),
            all_keys: keys.all_keys.iter().map(key_of).collect(),
        };
        m.add_keys(&exported, now_ms());
        tracing::info!(
            current_key = exported.current_key.key_id,
            keys = exported.all_keys.len(),
            "received block keys"
        );
    }

    /// Checks an op's token for `mode` (Hadoop's `DataXceiver.checkAccess`); `Ok` when
    /// block tokens are off.
    pub fn check(
        &self,
        token: Option<&TokenProto>,
        block_pool_id: &str,
        block_id: u64,
        mode: AccessMode,
    ) -> Result<(), String> {
        let Some(m) = self.mgr() else { return Ok(()) };
        let t = token
            .map(|t| BlockToken {
                identifier: t.identifier.to_vec(),
                password: t.password.to_vec(),
            })
            .unwrap_or_default();
        m.check_access(&t, None, block_pool_id, block_id as i64, mode, now_ms())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// A token this DataNode signs for a copy it starts (Hadoop's `DataTransfer`);
    /// `None` when block tokens are off or no keys arrived yet.
    pub fn generate(
        &self,
        block_pool_id: &str,
        block_id: u64,
        modes: &[AccessMode],
    ) -> Option<TokenProto> {
        let m = self.mgr()?;
        match m.generate_token("", block_pool_id, block_id as i64, modes, now_ms()) {
            Ok(t) => Some(TokenProto {
                identifier: Bytes::from(t.identifier),
                password: Bytes::from(t.password),
                kind: BLOCK_TOKEN_KIND.to_string(),
                service: String::new(),
            }),
            Err(e) => {
                tracing::warn!(error = %e, "cannot sign a block token for a transfer");
                None
            }
        }
    }

    /// The password of a block token identifier, if its key is known and it has not
    /// expired (the IPC server's TOKEN method: see `ipc_tokens`).
    pub fn token_password(&self, identifier: &[u8]) -> Result<Vec<u8>, String> {
        let m = self
            .mgr()
            .ok_or_else(|| "block access tokens are not enabled".to_string())?;
        let id = BlockTokenIdentifier::decode(identifier).map_err(|e| e.to_string())?;
        m.retrieve_password(&id, identifier, now_ms())
            .map_err(|e| e.to_string())
    }

    /// Checks that the block token a call authenticated with (on the IPC port) is for
    /// this block and mode (Hadoop's `DataNode.checkReadAccess`); `Ok` when block
    /// tokens are off. The token's password was proven by the SASL handshake.
    pub fn check_call(
        &self,
        token_identifier: Option<&[u8]>,
        block_pool_id: &str,
        block_id: u64,
        mode: AccessMode,
    ) -> Result<(), String> {
        let Some(m) = self.mgr() else { return Ok(()) };
        let Some(identifier) = token_identifier else {
            return Err(
                "Can't continue since none or more than one BlockTokenIdentifier is found.".into(),
            );
        };
        let id = BlockTokenIdentifier::decode(identifier).map_err(|e| e.to_string())?;
        let now = now_ms();
        let token = BlockToken {
            identifier: identifier.to_vec(),
            password: m
                .retrieve_password(&id, identifier, now)
                .map_err(|e| e.to_string())?,
        };
        m.check_access(&token, None, block_pool_id, block_id as i64, mode, now)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// The SASL server's password lookup: the DIGEST user name is the base64 token
    /// identifier; its password (if the key is known and the token not expired) is
    /// the base64 HMAC (`SaslDataTransferServer.buildServerPassword`).
    pub fn password_lookup(self: &std::sync::Arc<Self>) -> TokenPasswordLookup {
        let me = self.clone();
        Box::new(move |user: &str| {
            let bytes = base64_decode(user).ok_or_else(|| {
                "SASL user name is not a base64 block token identifier".to_string()
            })?;
            let id = BlockTokenIdentifier::decode(&bytes).map_err(|e| e.to_string())?;
            let m = me
                .mgr()
                .ok_or_else(|| "block access tokens are not enabled".to_string())?;
            let pwd = m
                .retrieve_password(&id, &bytes, now_ms())
                .map_err(|e| e.to_string())?;
            Ok(base64_encode(&pwd).into_bytes())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(pairs: &[(&str, &str)]) -> Configuration {
        let mut c = Configuration::new();
        for (k, v) in pairs {
            c.set(k, *v);
        }
        c
    }

    #[test]
    fn defaults_are_off() {
        let s = DataTransferSecurity::from_conf(&conf(&[])).unwrap();
        assert!(!s.tokens_enabled());
        assert!(s.protection().is_none());
        assert!(s.check(None, "bp", 1, AccessMode::Read).is_ok());
    }

    #[test]
    fn the_cipher_suite_and_key_length_are_read() {
        let s = DataTransferSecurity::from_conf(&conf(&[])).unwrap();
        assert_eq!(s.cipher(), None);
        let s = DataTransferSecurity::from_conf(&conf(&[
            (
                "dfs.encrypt.data.transfer.cipher.suites",
                "AES/CTR/NoPadding",
            ),
            ("dfs.encrypt.data.transfer.cipher.key.bitlength", "256"),
        ]))
        .unwrap();
        assert_eq!(s.cipher(), Some(TransferCipher { key_bits: 256 }));
        let e = DataTransferSecurity::from_conf(&conf(&[(
            "dfs.encrypt.data.transfer.cipher.suites",
            "aes/ctr/nopadding",
        )]))
        .unwrap_err()
        .to_string();
        assert!(e.contains("Invalid cipher suite"), "{e}");
    }

    #[test]
    fn a_kerberos_datanode_without_protection_refuses_to_start() {
        let e = DataTransferSecurity::from_conf(&conf(&[(
            "hadoop.security.authentication",
            "kerberos",
        )]))
        .unwrap_err();
        assert!(
            e.to_string().contains("Cannot start secure DataNode"),
            "{e}"
        );
        let ok = DataTransferSecurity::from_conf(&conf(&[
            ("hadoop.security.authentication", "kerberos"),
            ("dfs.block.access.token.enable", "true"),
            ("dfs.data.transfer.protection", "privacy"),
        ]))
        .unwrap();
        assert_eq!(ok.protection(), Some(&[Qop::Privacy][..]));
    }

    #[test]
    fn tokens_are_checked_once_keys_arrive() {
        let s = DataTransferSecurity::new(true, None);
        assert!(s.check(None, "bp", 1, AccessMode::Read).is_err());
        let nn = BlockTokenSecretManager::new_master(60_000, 60_000, 0, 1, now_ms());
        let e = nn.export_keys().unwrap();
        let key = |k: &BlockKey| hafs_proto::hdfs::datanode::BlockKeyProto {
            key_id: k.key_id as u32,
            expiry_date: k.expiry_date as u64,
            key_bytes: Some(Bytes::from(k.key.clone())),
        };
        s.add_keys(&ExportedBlockKeysProto {
            is_block_token_enabled: true,
            key_update_interval: 60_000,
            token_life_time: 60_000,
            current_key: key(&e.current_key),
            all_keys: e.all_keys.iter().map(key).collect(),
        });
        let t = nn
            .generate_token("u", "bp", 1, &[AccessMode::Read], now_ms())
            .unwrap();
        let tp = TokenProto {
            identifier: Bytes::from(t.identifier),
            password: Bytes::from(t.password),
            kind: BLOCK_TOKEN_KIND.into(),
            service: String::new(),
        };
        s.check(Some(&tp), "bp", 1, AccessMode::Read).unwrap();
        assert!(s.check(Some(&tp), "bp", 1, AccessMode::Write).is_err());
        let own = s.generate("bp", 2, &[AccessMode::Write]).unwrap();
        s.check(Some(&own), "bp", 2, AccessMode::Write).unwrap();

        // The IPC port: the token a call authenticated with must be for its block.
        let id = tp.identifier.as_ref();
        assert_eq!(s.token_password(id).unwrap(), tp.password.as_ref());
        s.check_call(Some(id), "bp", 1, AccessMode::Read).unwrap();
        let other = s
            .check_call(Some(id), "bp", 7, AccessMode::Read)
            .unwrap_err();
        assert!(other.contains("doesn't apply to block bp:blk_7"), "{other}");
        let pool = s
            .check_call(Some(id), "bp-other", 1, AccessMode::Read)
            .unwrap_err();
        assert!(pool.contains("doesn't apply"), "{pool}");
        let none = s.check_call(None, "bp", 1, AccessMode::Read).unwrap_err();
        assert!(
            none.contains("none or more than one BlockTokenIdentifier"),
            "{none}"
        );
        assert!(s.token_password(b"garbage").is_err());
        // With block tokens off nothing is asked.
        let off = DataTransferSecurity::new(false, None);
        off.check_call(None, "bp", 1, AccessMode::Read).unwrap();
    }
}
