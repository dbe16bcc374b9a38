//! The NameNode's settings, read once from the Hadoop configuration with Hadoop's keys
//! and defaults. A bad value is a startup error naming the key.

use std::path::PathBuf;
use std::time::Duration;

use hafs_conf::keys::*;
use hafs_conf::{ConfError, Configuration, TimeUnit};

use crate::namespace::{NamespaceConfig, XAttrConfig, MAX_XATTR_SIZE_HARD_LIMIT};
use crate::storage::parse_dir_uri;

#[derive(Debug, Clone)]
pub struct NameNodeConfig {
    /// The site files the configuration was read from, in order (re-read by
    /// `dfsadmin -refreshSuperUserGroupsConfiguration`).
    pub conf_files: Vec<PathBuf>,
    pub name_dirs: Vec<PathBuf>,
    /// host:port to bind the client RPC server to.
    pub rpc_bind: String,
    pub handler_count: usize,
    pub max_data_length: usize,
    pub superuser: String,
    /// How RPC callers authenticate (SIMPLE, or Kerberos with the NameNode's keytab).
    pub rpc_auth: hafs_ipc::auth::ServerAuth,
    /// With Kerberos, the `hadoop.security.auth_to_local` rules (token owners' short
    /// names come from them too).
    pub auth_to_local: Option<std::sync::Arc<hafs_security::kerberos_name::AuthToLocal>>,
    pub supergroup: String,
    pub permissions_enabled: bool,
    pub umask: u16,
    pub access_time_precision: Duration,
    pub namespace: NamespaceConfig,
    pub ls_limit: usize,
    /// dfs.snapshotdiff-report.limit: entries per getSnapshotDiffReportListing page.
    pub snapshot_diff_limit: usize,
    pub block_size: u64,
    pub replication: u16,
    pub bytes_per_checksum: u32,
    pub write_packet_size: u32,
    pub file_buffer_size: u32,
    pub trash_interval_minutes: u64,
    pub retry_cache_enabled: bool,
    pub retry_cache_expiry: Duration,
    /// Heap bytes the retry cache may hold (retry_cache::RetryCacheStats::bytes).
    pub retry_cache_budget: u64,
    pub checkpoint_txns: u64,
    pub checkpoint_period: Duration,
    pub checkpoint_check_period: Duration,
    pub checkpoints_retained: usize,
    pub extra_edits_retained: u64,
    pub lease_hard_limit: Duration,
    pub group_cache_ttl: Duration,
    /// `hadoop.user.group.static.mapping.overrides`.
    pub group_overrides: std::collections::HashMap<String, Vec<String>>,
    /// `hadoop.proxyuser.*`: who may act for whom.
    pub proxy_users: hafs_ipc::auth::proxy_users::ProxyUserRules,
    /// Block management: heartbeats, dead-node detection, redundancy, safe mode.
    pub blocks: crate::blockmanagement::BlockManagerConfig,
    /// `dfs.namenode.shared.edits.dir` (a `qjournal://` URI): when set, the edit log
    /// lives on those JournalNodes instead of the name dirs.
    pub shared_edits: Option<hafs_journal::protocol::QjournalUri>,
    /// `dfs.qjournal.*` timeouts and bounds.
    pub qjm: hafs_journal::client::QjmConfig,
    /// Set when this NameNode is one of an HA nameservice's (2 to 5 NameNode ids):
    /// it then starts as a Standby and becomes Active only when told to.
    pub ha: Option<HaConfig>,
    /// `dfs.namenode.http-address` (ours and the other NameNodes'): image transfer.
    pub http: crate::http::HttpSettings,
    /// Secure mode: SPNEGO on the HTTP server and for image transfer to the others.
    pub http_security: Option<std::sync::Arc<crate::http::HttpSecurity>>,
    /// `hadoop.prometheus.endpoint.enabled`: serve `/prom`.
    pub prometheus: bool,
    /// The ZKFCs elect through ZooKeeper (`ha.zookeeper.quorum` set) rather than
    /// hafs's lease on the JournalNodes; shown on `/jmx`.
    pub zookeeper_election: bool,
    /// `dfs.namenode.shared.edits.dir` when it is a `file://` dir (the NFS mode).
    pub shared_dir: Option<PathBuf>,
    /// `hadoop.security.authentication=kerberos`: the NameNode offers TOKEN (and
    /// KERBEROS) authentication and issues delegation tokens.
    pub security_enabled: bool,
    /// `dfs.namenode.delegation.*`: master key roll, token renewal and lifetime.
    pub delegation_tokens: crate::security::DelegationTokenConfig,
    /// `hadoop.rpc.protection`: the quality of protection secure RPC allows, most
    /// preferred first.
    pub rpc_protection: Vec<hafs_security::sasl::Qop>,
}

/// This NameNode's place in an HA nameservice.
#[derive(Debug, Clone)]
pub struct HaConfig {
    pub nameservice: String,
    /// Our own NameNode id (`dfs.ha.namenode.id`, else the one whose RPC address is
    /// local).
    pub namenode_id: String,
    /// Every NameNode of the nameservice: (id, RPC address), ours included.
    pub namenodes: Vec<(String, String)>,
    /// `dfs.ha.automatic-failover.enabled`: manual transitions need `--forcemanual`.
    pub automatic_failover: bool,
    /// `dfs.ha.tail-edits.period`: how long a Standby waits after finding no new
    /// edits before it looks again. Hadoop's default is 60 s; with in-progress tailing
    /// a short period is the point (the Standby trails the Active by about this much
    /// when writes are sparse), so ours is 10 ms. An empty look is one small manifest
    /// call to each JournalNode.
    pub tail_period: Duration,
    /// `dfs.ha.tail-edits.in-progress` (default true here): tail committed edits of
    /// the open segment, not only finalized segments.
    pub tail_in_progress: bool,
    /// `dfs.ha.allow.stale.reads` (default false, as in Hadoop): a Standby serves
    /// READ-category calls from its namespace, which may trail the Active's by the
    /// tailing lag, instead of refusing them with StandbyException.
    pub allow_stale_reads: bool,
    /// `dfs.namenode.state.context.enabled` (default false, as in Hadoop): responses
    /// carry the state id, and an Observer aligns coordinated reads with the client's
    /// (crate::ha::state_alignment).
    pub state_context_enabled: bool,
}

/// Our default for `dfs.ha.tail-edits.period` (see [`HaConfig::tail_period`]).
pub const HA_TAIL_PERIOD_DEFAULT: Duration = Duration::from_millis(10);

/// Whether `host` is an address of this machine: a socket can be bound to it.
fn is_local_host(host: &str) -> bool {
    use std::net::ToSocketAddrs;
    let Ok(addrs) = (host, 0u16).to_socket_addrs() else {
        return false;
    };
    addrs
        .into_iter()
        .any(|a| std::net::UdpSocket::bind((a.ip(), 0)).is_ok())
}

fn host_of(addr: &str) -> &str {
    match addr.rsplit_once(':') {
        Some((h, _)) => h.trim_start_matches('[').trim_end_matches(']'),
        None => addr,
    }
}

/// This NameNode's view of a configuration shared by several nameservices: it finds
/// its own nameservice and NameNode id (`dfs.nameservice.id`, `dfs.ha.namenode.id`, or
/// the one local RPC address) and reads its `key.<ns>.<nn>` / `key.<ns>` values as the
/// plain keys, as Hadoop's NameNode does at startup. Idempotent.
pub fn resolve_own_keys(conf: &Configuration) -> Result<Configuration, ConfError> {
    let identity = conf.namenode_identity(is_local_host)?;
    let mut own = conf.clone();
    own.initialize_generic_keys(&identity);
    Ok(own)
}

/// The HA nameservice this NameNode belongs to, if any: `dfs.nameservice.id` when it
/// has two or more NameNode ids, else the first of `dfs.nameservices` that has.
fn ha_config(conf: &Configuration) -> Result<Option<HaConfig>, ConfError> {
    let explicit = conf
        .get_trimmed(DFS_NAMESERVICE_ID)
        .filter(|v| !v.is_empty());
    let Some(ns) = (match explicit {
        Some(ns) => Some(ns).filter(|ns| conf.namenode_ids(ns).len() >= 2),
        None => conf
            .nameservices()
            .into_iter()
            .find(|ns| conf.namenode_ids(ns).len() >= 2),
    }) else {
        return Ok(None);
    };
    let namenodes = conf.namenode_rpc_addresses(Some(&ns))?;
    let key = format!("{DFS_HA_NAMENODES_PREFIX}.{ns}");
    if namenodes.len() > 5 {
        return Err(bad(
            &key,
            &conf.namenode_ids(&ns).join(","),
            "two to five NameNode ids",
        ));
    }
    let namenode_id =
        match conf
            .get_trimmed(DFS_HA_NAMENODE_ID)
            .filter(|v| !v.is_empty())
        {
            Some(id) => {
                if !namenodes.iter().any(|(n, _)| *n == id) {
                    return Err(bad(
                        DFS_HA_NAMENODE_ID,
                        &id,
                        &format!("one of the NameNode ids in {key}"),
                    ));
                }
                id
            }
            None => {
                let local: Vec<&String> = namenodes
                    .iter()
                    .filter(|(_, a)| is_local_host(host_of(a)))
                    .map(|(id, _)| id)
                    .collect();
                match local.as_slice() {
                    [one] => (*one).clone(),
                    [] => {
                        return Err(ConfError::NotSet {
                            key: DFS_HA_NAMENODE_ID.into(),
                            hint: format!(
                            "no RPC address of nameservice {ns} is local; set {DFS_HA_NAMENODE_ID}"
                        ),
                        })
                    }
                    many => {
                        return Err(ConfError::NotSet {
                            key: DFS_HA_NAMENODE_ID.into(),
                            hint: format!(
                            "the RPC addresses of NameNodes {} of nameservice {ns} are all local; \
                             set {DFS_HA_NAMENODE_ID} to say which one this is",
                            many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                        })
                    }
                }
            }
        };
    // As Hadoop does, `dfs.ha.automatic-failover.enabled.<ns>` overrides the plain key
    // (the controllers read it the same way).
    let per_ns = format!("{DFS_HA_AUTOMATIC_FAILOVER_ENABLED}.{ns}");
    let automatic_failover = conf.get_bool(
        if conf.is_set(&per_ns) {
            &per_ns
        } else {
            DFS_HA_AUTOMATIC_FAILOVER_ENABLED
        },
        DFS_HA_AUTOMATIC_FAILOVER_ENABLED_DEFAULT,
    )?;
    Ok(Some(HaConfig {
        nameservice: ns,
        namenode_id,
        namenodes,
        automatic_failover,
        // Only an explicit setting counts: the key registry's default for this key is
        // Hadoop's 60 s, which would make a Standby trail by up to a minute.
        tail_period: if conf.is_set(DFS_HA_TAIL_EDITS_PERIOD) {
            conf.get_time_duration(
                DFS_HA_TAIL_EDITS_PERIOD,
                HA_TAIL_PERIOD_DEFAULT,
                TimeUnit::Seconds,
            )?
        } else {
            HA_TAIL_PERIOD_DEFAULT
        },
        tail_in_progress: conf.get_bool(
            DFS_HA_TAIL_EDITS_INPROGRESS,
            DFS_HA_TAIL_EDITS_INPROGRESS_DEFAULT,
        )?,
        allow_stale_reads: conf
            .get_bool(DFS_HA_ALLOW_STALE_READS, DFS_HA_ALLOW_STALE_READS_DEFAULT)?,
        state_context_enabled: conf.get_bool(
            DFS_NAMENODE_STATE_CONTEXT_ENABLED,
            DFS_NAMENODE_STATE_CONTEXT_ENABLED_DEFAULT,
        )?,
    }))
}

/// Parses `dfs.namenode.shared.edits.dir`: unset/empty, or a `qjournal://` URI.
fn shared_edits(
    conf: &Configuration,
) -> Result<Option<hafs_journal::protocol::QjournalUri>, ConfError> {
    let Some(v) = conf
        .get_trimmed(DFS_NAMENODE_SHARED_EDITS_DIR)
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    if hafs_journal::shared_dir::parse_shared_dir_uri(&v).is_some() {
        // A shared dir: see `shared_dir` (crate::shared_edits_dir).
        return Ok(None);
    }
    if !hafs_journal::protocol::QjournalUri::is_qjournal(&v) {
        return Err(bad(
            DFS_NAMENODE_SHARED_EDITS_DIR,
            &v,
            "a qjournal://host1:port1;host2:port2;host3:port3/<journalId> URI (shared file edits dirs are not supported)",
        ));
    }
    hafs_journal::protocol::QjournalUri::parse(&v)
        .map(Some)
        .map_err(|e| bad(DFS_NAMENODE_SHARED_EDITS_DIR, &v, &e))
}

/// dfs.namenode.xattrs.enabled and the xattr fs-limits, with Hadoop's bounds on the
/// size limit (above 0, at most the hard limit of 32768).
fn xattr_config(conf: &Configuration) -> Result<XAttrConfig, ConfError> {
    let max_size = conf.get_size_bytes(
        DFS_NAMENODE_FS_LIMITS_MAX_XATTR_SIZE,
        DFS_NAMENODE_FS_LIMITS_MAX_XATTR_SIZE_DEFAULT,
    )?;
    if max_size == 0 || max_size > MAX_XATTR_SIZE_HARD_LIMIT as u64 {
        return Err(bad(
            DFS_NAMENODE_FS_LIMITS_MAX_XATTR_SIZE,
            &max_size.to_string(),
            "a size above 0 and at most the hard limit of 32768",
        ));
    }
    Ok(XAttrConfig {
        enabled: conf.get_bool(
            DFS_NAMENODE_XATTRS_ENABLED,
            DFS_NAMENODE_XATTRS_ENABLED_DEFAULT,
        )?,
        max_per_inode: conf.get_u32(
            DFS_NAMENODE_FS_LIMITS_MAX_XATTRS_PER_INODE,
            DFS_NAMENODE_FS_LIMITS_MAX_XATTRS_PER_INODE_DEFAULT,
        )? as usize,
        max_size: max_size as usize,
    })
}

fn bad(key: &str, value: &str, expected: &str) -> ConfError {
    ConfError::BadValue {
        key: key.to_string(),
        value: value.to_string(),
        expected: expected.to_string(),
    }
}

/// When neither the configuration nor the system tells the memory size.
const FALLBACK_MEMORY_BYTES: u64 = 4 << 30;

/// The retry cache's byte budget: `dfs.namenode.retrycache.heap.percent` of the
/// NameNode's memory (`hafs.namenode.memory.bytes`, else detected; see memory_size.rs).
fn retry_cache_budget(conf: &Configuration) -> Result<u64, ConfError> {
    let pct = conf.get_f64(
        DFS_NAMENODE_RETRY_CACHE_HEAP_PERCENT,
        DFS_NAMENODE_RETRY_CACHE_HEAP_PERCENT_DEFAULT,
    )?;
    if !(0.0..=100.0).contains(&pct) {
        let v = conf
            .get(DFS_NAMENODE_RETRY_CACHE_HEAP_PERCENT)
            .unwrap_or_default();
        return Err(bad(
            DFS_NAMENODE_RETRY_CACHE_HEAP_PERCENT,
            &v,
            "a percentage between 0 and 100",
        ));
    }
    let memory = match conf.get(HAFS_NAMENODE_MEMORY_BYTES) {
        Some(_) => conf.get_size_bytes(HAFS_NAMENODE_MEMORY_BYTES, 0)?,
        None => crate::memory_size::detect().unwrap_or(FALLBACK_MEMORY_BYTES),
    };
    Ok((memory as f64 * pct / 100.0) as u64)
}

impl NameNodeConfig {
    /// `rpc_address` is this NameNode's own address (from fs.defaultFS or
    /// dfs.namenode.rpc-address; the HA issue adds per-NameNode ids).
    pub fn from_conf(conf: &Configuration) -> Result<NameNodeConfig, ConfError> {
        conf.validate()?;
        let own = resolve_own_keys(conf)?;
        let conf = &own;
        let name_dirs = conf
            .get_trimmed_strings(DFS_NAMENODE_NAME_DIR)
            .iter()
            .map(|s| parse_dir_uri(s).map_err(|e| bad(DFS_NAMENODE_NAME_DIR, s, &e)))
            .collect::<Result<Vec<_>, _>>()?;
        let ha = ha_config(conf)?;
        let own = match &ha {
            Some(h) => h
                .namenodes
                .iter()
                .find(|(id, _)| *id == h.namenode_id)
                .map(|(_, a)| a.clone()),
            None => conf
                .namenode_rpc_addresses(None)?
                .into_iter()
                .next()
                .map(|(_, a)| a),
        };
        let rpc_bind = own.ok_or_else(|| ConfError::NotSet {
            key: DFS_NAMENODE_RPC_ADDRESS.into(),
            hint: "the NameNode needs an address to serve on".into(),
        })?;
        let (rpc_auth, kerberos_superuser, auth_to_local) = rpc_security(conf, &rpc_bind)?;
        let u16_of = |key: &str, v: u32| -> Result<u16, ConfError> {
            u16::try_from(v).map_err(|_| bad(key, &v.to_string(), "a number up to 65535"))
        };
        let supergroup = conf.get_or(
            DFS_PERMISSIONS_SUPERUSERGROUP,
            DFS_PERMISSIONS_SUPERUSERGROUP_DEFAULT,
        );
        let namespace = NamespaceConfig {
            permissions_enabled: conf
                .get_bool(DFS_PERMISSIONS_ENABLED, DFS_PERMISSIONS_ENABLED_DEFAULT)?,
            acls_enabled: conf
                .get_bool(DFS_NAMENODE_ACLS_ENABLED, DFS_NAMENODE_ACLS_ENABLED_DEFAULT)?,
            posix_acl_inheritance: conf.get_bool(
                DFS_NAMENODE_POSIX_ACL_INHERITANCE_ENABLED,
                DFS_NAMENODE_POSIX_ACL_INHERITANCE_ENABLED_DEFAULT,
            )?,
            max_component_length: conf.get_u32(
                DFS_NAMENODE_FS_LIMITS_MAX_COMPONENT_LENGTH,
                DFS_NAMENODE_FS_LIMITS_MAX_COMPONENT_LENGTH_DEFAULT,
            )? as usize,
            max_dir_items: conf.get_u32(
                DFS_NAMENODE_FS_LIMITS_MAX_DIRECTORY_ITEMS,
                DFS_NAMENODE_FS_LIMITS_MAX_DIRECTORY_ITEMS_DEFAULT,
            )? as usize,
            snapshot_max_limit: conf.get_u32(
                DFS_NAMENODE_SNAPSHOT_MAX_LIMIT,
                DFS_NAMENODE_SNAPSHOT_MAX_LIMIT_DEFAULT,
            )?,
            storage_policy_enabled: conf.get_bool(
                DFS_STORAGE_POLICY_ENABLED,
                DFS_STORAGE_POLICY_ENABLED_DEFAULT,
            )?,
            min_block_size: conf.get_size_bytes(
                DFS_NAMENODE_FS_LIMITS_MIN_BLOCK_SIZE,
                DFS_NAMENODE_FS_LIMITS_MIN_BLOCK_SIZE_DEFAULT,
            )?,
            min_replication: u16_of(
                DFS_NAMENODE_REPLICATION_MIN,
                conf.get_u32(
                    DFS_NAMENODE_REPLICATION_MIN,
                    DFS_NAMENODE_REPLICATION_MIN_DEFAULT,
                )?,
            )?,
            max_replication: u16_of(
                DFS_REPLICATION_MAX,
                conf.get_u32(DFS_REPLICATION_MAX, DFS_REPLICATION_MAX_DEFAULT)?,
            )?,
            xattrs: xattr_config(conf)?,
        };
        let ls_limit = conf.get_i64(DFS_LS_LIMIT, DFS_LS_LIMIT_DEFAULT)?;
        // Hadoop: a non-positive limit means the default.
        let ls_limit = if ls_limit <= 0 {
            DFS_LS_LIMIT_DEFAULT
        } else {
            ls_limit
        } as usize;
        let retry_cache_budget = retry_cache_budget(conf)?;
        let http = crate::http::HttpSettings::from_conf(
            conf,
            ha.as_ref().map(|h| {
                (
                    h.nameservice.as_str(),
                    h.namenode_id.as_str(),
                    &h.namenodes[..],
                )
            }),
        )?;
        let http_security = {
            let reachable = crate::http::reachable(&http.bind, &rpc_bind);
            let http_host = reachable
                .rsplit_once(':')
                .map_or(&reachable[..], |(h, _)| h);
            let namenodes: Vec<String> = match &ha {
                Some(h) => h.namenodes.iter().map(|(_, a)| a.clone()).collect(),
                None => vec![rpc_bind.clone()],
            };
            crate::http::HttpSecurity::from_conf(conf, http_host, &rpc_bind, &namenodes)?
        };
        Ok(NameNodeConfig {
            http,
            http_security,
            prometheus: conf.get_bool(
                HADOOP_PROMETHEUS_ENDPOINT_ENABLED,
                HADOOP_PROMETHEUS_ENDPOINT_ENABLED_DEFAULT,
            )?,
            zookeeper_election: !conf.get_trimmed_strings(HA_ZOOKEEPER_QUORUM).is_empty(),
            shared_dir: crate::shared_edits_dir::from_conf(conf, ha.is_some())?,
            ha,
            shared_edits: shared_edits(conf)?,
            qjm: hafs_journal::client::QjmConfig::from_conf(conf)?,
            blocks: crate::blockmanagement::BlockManagerConfig::from_conf(conf)?,
            name_dirs,
            rpc_bind,
            handler_count: conf
                .get_u32(
                    DFS_NAMENODE_HANDLER_COUNT,
                    DFS_NAMENODE_HANDLER_COUNT_DEFAULT,
                )?
                .max(1) as usize,
            max_data_length: conf.get_size_bytes(
                IPC_MAXIMUM_DATA_LENGTH,
                IPC_MAXIMUM_DATA_LENGTH_DEFAULT as u64,
            )? as usize,
            // Hadoop's superuser is the user the NameNode runs as: with Kerberos the
            // short name of its principal (`hdfs` by the usual auth_to_local rule).
            superuser: kerberos_superuser
                .unwrap_or_else(|| hafs_conf::current_user_name().to_string()),
            rpc_auth,
            auth_to_local,
            supergroup,
            permissions_enabled: namespace.permissions_enabled,
            umask: conf.get_octal_umask()?,
            access_time_precision: conf.get_time_duration(
                DFS_NAMENODE_ACCESSTIME_PRECISION,
                Duration::from_millis(DFS_NAMENODE_ACCESSTIME_PRECISION_DEFAULT_MS),
                TimeUnit::Millis,
            )?,
            namespace,
            ls_limit,
            snapshot_diff_limit: conf
                .get_u32(
                    DFS_NAMENODE_SNAPSHOT_DIFF_LISTING_LIMIT,
                    DFS_NAMENODE_SNAPSHOT_DIFF_LISTING_LIMIT_DEFAULT,
                )?
                .max(1) as usize,
            block_size: conf.get_size_bytes(DFS_BLOCKSIZE, DFS_BLOCKSIZE_DEFAULT)?,
            replication: u16_of(
                DFS_REPLICATION,
                conf.get_u32(DFS_REPLICATION, DFS_REPLICATION_DEFAULT)?,
            )?,
            bytes_per_checksum: conf
                .get_u32(DFS_BYTES_PER_CHECKSUM, DFS_BYTES_PER_CHECKSUM_DEFAULT)?,
            write_packet_size: conf.get_u32(
                DFS_CLIENT_WRITE_PACKET_SIZE,
                DFS_CLIENT_WRITE_PACKET_SIZE_DEFAULT,
            )?,
            file_buffer_size: conf.get_u32(IO_FILE_BUFFER_SIZE, IO_FILE_BUFFER_SIZE_DEFAULT)?,
            trash_interval_minutes: conf
                .get_f64(FS_TRASH_INTERVAL, FS_TRASH_INTERVAL_DEFAULT_MINUTES)?
                .max(0.0) as u64,
            retry_cache_enabled: conf.get_bool(
                DFS_NAMENODE_ENABLE_RETRY_CACHE,
                DFS_NAMENODE_ENABLE_RETRY_CACHE_DEFAULT,
            )?,
            retry_cache_expiry: Duration::from_millis(conf.get_u64(
                DFS_NAMENODE_RETRY_CACHE_EXPIRYTIME_MILLIS,
                DFS_NAMENODE_RETRY_CACHE_EXPIRYTIME_MILLIS_DEFAULT,
            )?),
            retry_cache_budget,
            checkpoint_txns: conf.get_u64(
                DFS_NAMENODE_CHECKPOINT_TXNS,
                DFS_NAMENODE_CHECKPOINT_TXNS_DEFAULT,
            )?,
            checkpoint_period: conf.get_time_duration(
                DFS_NAMENODE_CHECKPOINT_PERIOD,
                Duration::from_secs(DFS_NAMENODE_CHECKPOINT_PERIOD_DEFAULT_SECS),
                TimeUnit::Seconds,
            )?,
            checkpoint_check_period: conf.get_time_duration(
                DFS_NAMENODE_CHECKPOINT_CHECK_PERIOD,
                Duration::from_secs(DFS_NAMENODE_CHECKPOINT_CHECK_PERIOD_DEFAULT_SECS),
                TimeUnit::Seconds,
            )?,
            checkpoints_retained: conf
                .get_u32(
                    DFS_NAMENODE_NUM_CHECKPOINTS_RETAINED,
                    DFS_NAMENODE_NUM_CHECKPOINTS_RETAINED_DEFAULT,
                )?
                .max(1) as usize,
            extra_edits_retained: conf.get_u64(
                DFS_NAMENODE_NUM_EXTRA_EDITS_RETAINED,
                DFS_NAMENODE_NUM_EXTRA_EDITS_RETAINED_DEFAULT,
            )?,
            lease_hard_limit: conf.get_time_duration(
                DFS_NAMENODE_LEASE_HARD_LIMIT_SEC,
                Duration::from_secs(DFS_NAMENODE_LEASE_HARD_LIMIT_SEC_DEFAULT),
                TimeUnit::Seconds,
            )?,
            group_cache_ttl: conf.get_time_duration(
                HADOOP_SECURITY_GROUPS_CACHE_SECS,
                Duration::from_secs(HADOOP_SECURITY_GROUPS_CACHE_SECS_DEFAULT),
                TimeUnit::Seconds,
            )?,
            group_overrides: hafs_security::groups::parse_static_overrides(&conf.get_or(
                HADOOP_USER_GROUP_STATIC_MAPPING_OVERRIDES,
                HADOOP_USER_GROUP_STATIC_MAPPING_OVERRIDES_DEFAULT,
            )),
            proxy_users: hafs_ipc::auth::proxy_users::ProxyUserRules::from_conf(conf),
            conf_files: conf
                .resources()
                .iter()
                .map(PathBuf::from)
                .filter(|p| p.is_file())
                .collect(),
            security_enabled: conf
                .get_or(
                    HADOOP_SECURITY_AUTHENTICATION,
                    HADOOP_SECURITY_AUTHENTICATION_DEFAULT,
                )
                .eq_ignore_ascii_case("kerberos"),
            delegation_tokens: delegation_token_config(conf)?,
            rpc_protection: {
                let v = conf.get_or(HADOOP_RPC_PROTECTION, HADOOP_RPC_PROTECTION_DEFAULT);
                hafs_security::sasl::Qop::parse_hadoop_list(&v)
                    .map_err(|e| bad(HADOOP_RPC_PROTECTION, &v, &e.to_string()))?
            },
        })
    }
}

/// The RPC server's authentication and, with Kerberos, the superuser's name and the
/// principal-to-user rules.
type RpcSecurity = (
    hafs_ipc::auth::ServerAuth,
    Option<String>,
    Option<std::sync::Arc<hafs_security::kerberos_name::AuthToLocal>>,
);

fn rpc_security(conf: &Configuration, rpc_bind: &str) -> Result<RpcSecurity, ConfError> {
    use hafs_ipc::auth::{kerberos::canonical_host, SecuritySettings, ServiceRole};
    let security = SecuritySettings::from_conf(conf).map_err(|e| ConfError::Security(e.0))?;
    if !security.is_kerberos() {
        return Ok((Default::default(), None, None));
    }
    let host = canonical_host(rpc_bind.rsplit_once(':').map_or(rpc_bind, |(h, _)| h));
    let auth = security
        .server_auth(ServiceRole::NameNode, &host)
        .map_err(|e| ConfError::Security(e.0))?;
    let (principal, _) = security
        .service_login(ServiceRole::NameNode, &host)
        .map_err(|e| ConfError::Security(e.0))?;
    let superuser = security
        .auth_to_local()
        .short_name_of(&principal)
        .map_err(|e| {
            ConfError::Security(format!(
                "{}: {e}",
                hafs_conf::keys::HADOOP_SECURITY_AUTH_TO_LOCAL
            ))
        })?;
    Ok((
        auth,
        Some(superuser),
        Some(security.auth_to_local().clone()),
    ))
}

fn delegation_token_config(
    conf: &Configuration,
) -> Result<crate::security::DelegationTokenConfig, ConfError> {
    let ms = |key: &str, default: u64| -> Result<i64, ConfError> {
        let v = conf.get_u64(key, default)?;
        i64::try_from(v).map_err(|_| bad(key, &v.to_string(), "milliseconds below 2^63"))
    };
    Ok(crate::security::DelegationTokenConfig {
        key_update_interval: ms(
            DFS_NAMENODE_DELEGATION_KEY_UPDATE_INTERVAL,
            DFS_NAMENODE_DELEGATION_KEY_UPDATE_INTERVAL_DEFAULT,
        )?,
        renew_interval: ms(
            DFS_NAMENODE_DELEGATION_TOKEN_RENEW_INTERVAL,
            DFS_NAMENODE_DELEGATION_TOKEN_RENEW_INTERVAL_DEFAULT,
        )?,
        max_lifetime: ms(
            DFS_NAMENODE_DELEGATION_TOKEN_MAX_LIFETIME,
            DFS_NAMENODE_DELEGATION_TOKEN_MAX_LIFETIME_DEFAULT,
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ha_conf(extra: &[(&str, &str)]) -> Option<HaConfig> {
        let mut conf = Configuration::new();
        conf.set("dfs.nameservices", "ns");
        conf.set("dfs.ha.namenodes.ns", "nn1,nn2");
        conf.set("dfs.namenode.rpc-address.ns.nn1", "127.0.0.1:8020");
        conf.set("dfs.namenode.rpc-address.ns.nn2", "127.0.0.1:8021");
        conf.set(DFS_HA_NAMENODE_ID, "nn2");
        for (k, v) in extra {
            conf.set(k, *v);
        }
        ha_config(&conf).unwrap()
    }

    #[test]
    fn tailing_and_stale_read_defaults() {
        let ha = ha_conf(&[]).unwrap();
        assert_eq!(ha.namenode_id, "nn2");
        // Ours, not the key registry's Hadoop default of 60 s.
        assert_eq!(ha.tail_period, HA_TAIL_PERIOD_DEFAULT);
        assert!(ha.tail_in_progress);
        assert!(
            !ha.allow_stale_reads,
            "Hadoop's default: refuse stale reads"
        );

        let ha = ha_conf(&[
            (DFS_HA_TAIL_EDITS_PERIOD, "5ms"),
            (DFS_HA_ALLOW_STALE_READS, "true"),
        ])
        .unwrap();
        assert_eq!(ha.tail_period, Duration::from_millis(5));
        assert!(ha.allow_stale_reads);
        // A bare number is seconds, as in Hadoop.
        let ha = ha_conf(&[(DFS_HA_TAIL_EDITS_PERIOD, "2")]).unwrap();
        assert_eq!(ha.tail_period, Duration::from_secs(2));
    }

    #[test]
    fn one_shared_conf_serves_each_nameservice_of_a_federation() {
        let mut conf = Configuration::new();
        conf.set("dfs.nameservices", "ns1,ns2");
        for (ns, base) in [("ns1", 9000), ("ns2", 9100)] {
            conf.set(&format!("dfs.ha.namenodes.{ns}"), "nn1,nn2");
            for (nn, port) in [("nn1", base), ("nn2", base + 1)] {
                conf.set(
                    &format!("dfs.namenode.rpc-address.{ns}.{nn}"),
                    format!("127.0.0.1:{port}"),
                );
                conf.set(
                    &format!("dfs.namenode.http-address.{ns}.{nn}"),
                    format!("127.0.0.1:{}", port + 50),
                );
                conf.set(
                    &format!("dfs.namenode.name.dir.{ns}.{nn}"),
                    format!("/data/{ns}-{nn}"),
                );
            }
            conf.set(
                &format!("dfs.namenode.shared.edits.dir.{ns}"),
                format!("qjournal://127.0.0.1:8485/{ns}"),
            );
        }
        // Every address is local here: the explicit ids say which NameNode this is.
        conf.set("dfs.nameservice.id", "ns2");
        conf.set("dfs.ha.namenode.id", "nn2");
        let c = NameNodeConfig::from_conf(&conf).unwrap();
        let ha = c.ha.as_ref().unwrap();
        assert_eq!(
            (ha.nameservice.as_str(), ha.namenode_id.as_str()),
            ("ns2", "nn2")
        );
        assert_eq!(c.rpc_bind, "127.0.0.1:9101");
        assert_eq!(c.name_dirs, [PathBuf::from("/data/ns2-nn2")]);
        assert_eq!(c.shared_edits.as_ref().unwrap().journal_id, "ns2");
        // Without dfs.nameservice.id two nameservices have local addresses.
        conf.unset("dfs.nameservice.id");
        let err = NameNodeConfig::from_conf(&conf).unwrap_err().to_string();
        assert!(err.starts_with("dfs.nameservice.id is not set"), "{err}");
    }

    #[test]
    fn retry_cache_budget_is_a_share_of_the_memory() {
        let mut conf = Configuration::new();
        conf.set(HAFS_NAMENODE_MEMORY_BYTES, "4g");
        // Hadoop's default share, 0.03 %, of 4 GiB.
        assert_eq!(retry_cache_budget(&conf).unwrap(), 1_288_490);
        conf.set(DFS_NAMENODE_RETRY_CACHE_HEAP_PERCENT, "1.5f");
        assert_eq!(retry_cache_budget(&conf).unwrap(), 64_424_509);
        conf.set(DFS_NAMENODE_RETRY_CACHE_HEAP_PERCENT, "101");
        assert!(retry_cache_budget(&conf).is_err());
        // Unset memory: detected, so some positive share of it.
        let detected = retry_cache_budget(&Configuration::new()).unwrap();
        assert!(detected > 0);
    }

    #[test]
    fn automatic_failover_per_nameservice_key_overrides_the_plain_one() {
        assert!(!ha_conf(&[]).unwrap().automatic_failover);
        let key = DFS_HA_AUTOMATIC_FAILOVER_ENABLED;
        assert!(ha_conf(&[(key, "true")]).unwrap().automatic_failover);
        let per_ns = format!("{key}.ns");
        assert!(ha_conf(&[(&per_ns, "true")]).unwrap().automatic_failover);
        assert!(
            !ha_conf(&[(key, "true"), (&per_ns, "false")])
                .unwrap()
                .automatic_failover
        );
    }
}
