//! The NameNode's side of block access tokens (`dfs.block.access.token.enable`):
//! signs a token into every located block handed to a client, and keeps the DataNodes'
//! copy of the block keys current — all keys in the registration reply, a
//! KeyUpdateCommand in the next heartbeat of every DataNode after a roll.
//!
//! Keys live only in memory, as in Hadoop: a restarted NameNode makes new ones and
//! the DataNodes get them when they register again. Each NameNode of an HA pair draws
//! key ids from its own range, so DataNodes keep both NameNodes' keys side by side.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hafs_conf::keys::*;
use hafs_conf::{ConfError, Configuration};
use hafs_proto::common::TokenProto;
use hafs_proto::hdfs as pb;
use hafs_proto::hdfs::datanode as dpb;
use hafs_security::block_token::{
    AccessMode, BlockKey, BlockTokenSecretManager, ExportedBlockKeys, BLOCK_TOKEN_KIND,
};

/// `dfs.block.access.*` settings.
#[derive(Debug, Clone)]
pub struct BlockTokenConfig {
    pub key_update_interval: Duration,
    pub token_lifetime: Duration,
}

impl BlockTokenConfig {
    /// `None` when `dfs.block.access.token.enable` is false (the default).
    pub fn from_conf(conf: &Configuration) -> Result<Option<BlockTokenConfig>, ConfError> {
        if !conf.get_bool(
            DFS_BLOCK_ACCESS_TOKEN_ENABLE,
            DFS_BLOCK_ACCESS_TOKEN_ENABLE_DEFAULT,
        )? {
            return Ok(None);
        }
        // Both are plain minutes in Hadoop (conf.getLong × 60 × 1000).
        let minutes = |key: &str, default: i64| -> Result<Duration, ConfError> {
            let m = conf.get_i64(key, default)?.max(1) as u64;
            Ok(Duration::from_secs(m.saturating_mul(60)))
        };
        Ok(Some(BlockTokenConfig {
            key_update_interval: minutes(
                DFS_BLOCK_ACCESS_KEY_UPDATE_INTERVAL,
                DFS_BLOCK_ACCESS_KEY_UPDATE_INTERVAL_DEFAULT,
            )?,
            token_lifetime: minutes(
                DFS_BLOCK_ACCESS_TOKEN_LIFETIME,
                DFS_BLOCK_ACCESS_TOKEN_LIFETIME_DEFAULT,
            )?,
        }))
    }
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

struct State {
    mgr: BlockTokenSecretManager,
    /// When the keys were last rolled (ms since the epoch).
    rolled_at: i64,
    /// Bumped at every roll; each DataNode's last generation sent is remembered so the
    /// next heartbeat carries a KeyUpdateCommand exactly once.
    generation: u64,
    sent: HashMap<String, u64>,
}

/// Issues block tokens and hands keys to DataNodes. See the module docs.
pub struct BlockTokenIssuer {
    interval_ms: i64,
    state: Mutex<State>,
}

fn key_proto(k: &BlockKey) -> dpb::BlockKeyProto {
    dpb::BlockKeyProto {
        key_id: k.key_id as u32,
        expiry_date: k.expiry_date.max(0) as u64,
        key_bytes: Some(Bytes::from(k.key.clone())),
    }
}

/// The wire form of exported keys.
pub fn exported_keys_proto(e: &ExportedBlockKeys) -> dpb::ExportedBlockKeysProto {
    dpb::ExportedBlockKeysProto {
        is_block_token_enabled: e.enabled,
        key_update_interval: e.key_update_interval_ms,
        token_life_time: e.token_lifetime_ms,
        current_key: key_proto(&e.current_key),
        all_keys: e.all_keys.iter().map(key_proto).collect(),
    }
}

impl BlockTokenIssuer {
    /// `nn_index` of `num_nns` is this NameNode's place in its nameservice (0 of 1
    /// without HA); it picks the key id range.
    pub fn new(config: &BlockTokenConfig, nn_index: usize, num_nns: usize) -> BlockTokenIssuer {
        let interval_ms = config.key_update_interval.as_millis().min(i64::MAX as u128) as i64;
        let lifetime_ms = config.token_lifetime.as_millis().min(i64::MAX as u128) as i64;
        let now = now_ms();
        BlockTokenIssuer {
            interval_ms,
            state: Mutex::new(State {
                mgr: BlockTokenSecretManager::new_master(
                    interval_ms,
                    lifetime_ms,
                    nn_index,
                    num_nns,
                    now,
                ),
                rolled_at: now,
                generation: 0,
                sent: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Rolls the keys when an update interval has passed since the last roll.
    fn roll_if_due(&self, st: &mut State) {
        let now = now_ms();
        if now.saturating_sub(st.rolled_at) >= self.interval_ms {
            st.mgr.update_keys(now);
            st.rolled_at = now;
            st.generation += 1;
            tracing::info!(
                key_id = ?st.mgr.current_key_id(),
                "rolled block keys (dfs.block.access.key.update.interval)"
            );
        }
    }

    /// Signs a token for `user` with `modes` into `lb` (`setBlockToken`).
    pub fn stamp(&self, lb: &mut pb::LocatedBlockProto, user: &str, modes: &[AccessMode]) {
        let mut st = self.lock();
        self.roll_if_due(&mut st);
        match st
            .mgr
            .generate_token(user, &lb.b.pool_id, lb.b.block_id as i64, modes, now_ms())
        {
            Ok(t) => {
                lb.block_token = TokenProto {
                    identifier: Bytes::from(t.identifier),
                    password: Bytes::from(t.password),
                    kind: BLOCK_TOKEN_KIND.to_string(),
                    service: String::new(),
                }
            }
            // A master always has a current key; nothing to do but log if not.
            Err(e) => tracing::warn!(error = %e, "cannot sign a block token"),
        }
    }

    /// All keys, for NamenodeProtocol getBlockKeys (the balancer signs its moves' tokens
    /// with the current one).
    pub fn exported_keys(&self) -> Option<dpb::ExportedBlockKeysProto> {
        let mut st = self.lock();
        self.roll_if_due(&mut st);
        st.mgr.export_keys().as_ref().map(exported_keys_proto)
    }

    /// All keys, for a registration reply; the DataNode counts as up to date.
    pub fn registration_keys(&self, datanode_uuid: &str) -> Option<dpb::ExportedBlockKeysProto> {
        let mut st = self.lock();
        self.roll_if_due(&mut st);
        let g = st.generation;
        st.sent.insert(datanode_uuid.to_string(), g);
        st.mgr.export_keys().as_ref().map(exported_keys_proto)
    }

    /// A KeyUpdateCommand when keys rolled since this DataNode last got them.
    pub fn key_update_command(&self, datanode_uuid: &str) -> Option<dpb::DatanodeCommandProto> {
        let mut st = self.lock();
        self.roll_if_due(&mut st);
        let g = st.generation;
        if st.sent.get(datanode_uuid) == Some(&g) {
            return None;
        }
        st.sent.insert(datanode_uuid.to_string(), g);
        let keys = st.mgr.export_keys()?;
        Some(dpb::DatanodeCommandProto {
            cmd_type: dpb::datanode_command_proto::Type::KeyUpdateCommand as i32,
            key_update_cmd: Some(dpb::KeyUpdateCommandProto {
                keys: exported_keys_proto(&keys),
            }),
            ..Default::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer(interval: Duration) -> BlockTokenIssuer {
        BlockTokenIssuer::new(
            &BlockTokenConfig {
                key_update_interval: interval,
                token_lifetime: Duration::from_secs(600),
            },
            1,
            2,
        )
    }

    #[test]
    fn stamped_tokens_name_the_block_user_and_modes() {
        let i = issuer(Duration::from_secs(3600));
        let mut lb = pb::LocatedBlockProto::default();
        lb.b.pool_id = "BP-1".into();
        lb.b.block_id = 1_073_741_825;
        i.stamp(&mut lb, "alice", &[AccessMode::Write]);
        assert_eq!(lb.block_token.kind, "HDFS_BLOCK_TOKEN");
        let id =
            hafs_security::block_token::BlockTokenIdentifier::decode(&lb.block_token.identifier)
                .unwrap();
        assert_eq!(id.user_id, "alice");
        assert_eq!(id.block_pool_id, "BP-1");
        assert_eq!(id.block_id, 1_073_741_825);
        assert_eq!(id.modes, vec![AccessMode::Write]);
        assert!(id.key_id >= i32::MAX / 2, "key id in nn index 1's range");
    }

    #[test]
    fn key_updates_go_once_per_roll_to_each_datanode() {
        let i = issuer(Duration::from_secs(3600));
        assert!(i.registration_keys("dn1").is_some());
        assert!(i.key_update_command("dn1").is_none());
        // A DataNode that never registered with this issuer gets the keys at once.
        assert!(i.key_update_command("dn2").is_some());
        assert!(i.key_update_command("dn2").is_none());
        let z = issuer(Duration::ZERO);
        let _ = z.registration_keys("dn1");
        // Every call rolls with a zero interval, so each heartbeat carries new keys.
        assert!(z.key_update_command("dn1").is_some());
    }
}
