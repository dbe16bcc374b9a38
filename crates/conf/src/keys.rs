//! Every configuration key hafs reads, with Hadoop's name and Hadoop's default.
//!
//! Defaults come from Hadoop 3's `core-default.xml` and `hdfs-default.xml` (or from
//! `DFSConfigKeys`/`CommonConfigurationKeys` where the XML has no entry). Each key has
//! a `*_DEFAULT` constant typed for the accessor callers use, and an entry in
//! [`KEY_SPECS`] holding the default as Hadoop writes it plus the value syntax, which
//! [`Configuration::validate`](crate::Configuration::validate) checks at startup.
//! A test asserts that the typed constant and the textual default agree.

use crate::parse::TimeUnit;

/// The syntax a key's value must have.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueKind {
    /// Free text.
    Text,
    /// An integer (decimal or `0x` hex) within `min..=max`.
    Int { min: i64, max: i64 },
    /// `true` or `false`, any case.
    Bool,
    /// A finite number, Java syntax (`0.999f`).
    Float,
    /// A time duration with optional suffix; a bare number is in the given unit.
    Duration(TimeUnit),
    /// A byte count with optional binary prefix (k, m, g, t, p, e).
    Size,
    /// An octal or symbolic umask.
    Umask,
    /// `host[:port]`.
    Address,
    /// A URI `scheme://authority/path`.
    Uri,
    /// Comma-separated list.
    List,
    /// One of the listed words, any case.
    Choice(&'static [&'static str]),
}

/// A key hafs knows: its Hadoop name, Hadoop's default (if any) and its syntax.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    pub name: &'static str,
    pub default: Option<&'static str>,
    pub kind: ValueKind,
    /// Hadoop lets this key carry `.<nameservice>` or `.<nameservice>.<namenode>`
    /// suffixes (e.g. `dfs.namenode.rpc-address.mycluster.nn1`); the suffixed forms
    /// have the same syntax.
    pub per_nameservice: bool,
}

impl KeySpec {
    /// Whether `key` is this spec's key, or a suffixed form of it when allowed.
    pub fn matches(&self, key: &str) -> bool {
        if key == self.name {
            return true;
        }
        self.per_nameservice
            && key.len() > self.name.len() + 1
            && key.starts_with(self.name)
            && key.as_bytes()[self.name.len()] == b'.'
    }
}

/// Port a NameNode RPC address gets when none is written.
pub const DFS_NAMENODE_RPC_PORT_DEFAULT: u16 = 8020;

/// Appends Hadoop's per-nameservice / per-namenode suffixes: `key.ns.nn`.
pub fn with_suffixes(key: &str, suffixes: &[&str]) -> String {
    let mut out = key.to_string();
    for s in suffixes.iter().filter(|s| !s.is_empty()) {
        out.push('.');
        out.push_str(s);
    }
    out
}

// ---------------------------------------------------------------------------------
// File system and cluster identity
// ---------------------------------------------------------------------------------

pub const FS_DEFAULT_FS: &str = "fs.defaultFS";
pub const FS_DEFAULT_FS_DEFAULT: &str = "file:///";

pub const HADOOP_TMP_DIR: &str = "hadoop.tmp.dir";
pub const HADOOP_TMP_DIR_DEFAULT: &str = "/tmp/hadoop-${user.name}";

pub const HADOOP_SECURITY_AUTHENTICATION: &str = "hadoop.security.authentication";
pub const HADOOP_SECURITY_AUTHENTICATION_DEFAULT: &str = "simple";

// ---------------------------------------------------------------------------------
// HA addressing
// ---------------------------------------------------------------------------------

/// Comma-separated nameservice ids.
pub const DFS_NAMESERVICES: &str = "dfs.nameservices";
/// `dfs.ha.namenodes.<ns>`: comma-separated NameNode ids of a nameservice.
pub const DFS_HA_NAMENODES_PREFIX: &str = "dfs.ha.namenodes";
/// `dfs.namenode.rpc-address[.<ns>[.<nn>]]`: NameNode RPC `host:port`; no default.
pub const DFS_NAMENODE_RPC_ADDRESS: &str = "dfs.namenode.rpc-address";
/// `dfs.namenode.http-address[.<ns>[.<nn>]]`.
pub const DFS_NAMENODE_HTTP_ADDRESS: &str = "dfs.namenode.http-address";
pub const DFS_NAMENODE_HTTP_ADDRESS_DEFAULT: &str = "0.0.0.0:9870";
/// `dfs.client.failover.proxy.provider.<ns>`: the Java client's failover proxy class.
pub const DFS_CLIENT_FAILOVER_PROXY_PROVIDER_PREFIX: &str = "dfs.client.failover.proxy.provider";
/// The class a Java client needs for an HA nameservice.
pub const CONFIGURED_FAILOVER_PROXY_PROVIDER: &str =
    "org.apache.hadoop.hdfs.server.namenode.ha.ConfiguredFailoverProxyProvider";

pub const DFS_HA_AUTOMATIC_FAILOVER_ENABLED: &str = "dfs.ha.automatic-failover.enabled";
pub const DFS_HA_AUTOMATIC_FAILOVER_ENABLED_DEFAULT: bool = false;

/// Comma-separated ZooKeeper `host:port` list; no default.
pub const HA_ZOOKEEPER_QUORUM: &str = "ha.zookeeper.quorum";
/// Newline-separated fencing methods (`shell(...)`, `sshfence`); no default.
pub const DFS_HA_FENCING_METHODS: &str = "dfs.ha.fencing.methods";

pub const DFS_HA_ZKFC_PORT: &str = "dfs.ha.zkfc.port";
pub const DFS_HA_ZKFC_PORT_DEFAULT: u32 = 8019;

/// How often a Standby NameNode looks for new edits (seconds when unsuffixed). Hadoop's
/// default is 60 s; ours is 10 ms, because in-progress tailing keeps a Standby within
/// milliseconds of the Active (docs/ha.md, "Tailing lag").
pub const DFS_HA_TAIL_EDITS_PERIOD: &str = "dfs.ha.tail-edits.period";
pub const DFS_HA_TAIL_EDITS_PERIOD_DEFAULT_MS: u64 = 10;

/// How often the Standby asks the Active to roll its edit log (seconds).
pub const DFS_HA_LOG_ROLL_PERIOD: &str = "dfs.ha.log-roll.period";
pub const DFS_HA_LOG_ROLL_PERIOD_DEFAULT_SECS: u64 = 120;

// ---------------------------------------------------------------------------------
// NameNode storage and checkpoints
// ---------------------------------------------------------------------------------

pub const DFS_NAMENODE_NAME_DIR: &str = "dfs.namenode.name.dir";
pub const DFS_NAMENODE_NAME_DIR_DEFAULT: &str = "file://${hadoop.tmp.dir}/dfs/name";

pub const DFS_NAMENODE_EDITS_DIR: &str = "dfs.namenode.edits.dir";
pub const DFS_NAMENODE_EDITS_DIR_DEFAULT: &str = "${dfs.namenode.name.dir}";

/// `qjournal://jn1:8485;jn2:8485/<journal-id>` or a shared `file://` dir; no default.
pub const DFS_NAMENODE_SHARED_EDITS_DIR: &str = "dfs.namenode.shared.edits.dir";

pub const DFS_NAMENODE_CHECKPOINT_TXNS: &str = "dfs.namenode.checkpoint.txns";
pub const DFS_NAMENODE_CHECKPOINT_TXNS_DEFAULT: u64 = 1_000_000;

/// Seconds when unsuffixed.
pub const DFS_NAMENODE_CHECKPOINT_PERIOD: &str = "dfs.namenode.checkpoint.period";
pub const DFS_NAMENODE_CHECKPOINT_PERIOD_DEFAULT_SECS: u64 = 3600;

/// Seconds when unsuffixed.
pub const DFS_NAMENODE_CHECKPOINT_CHECK_PERIOD: &str = "dfs.namenode.checkpoint.check.period";
pub const DFS_NAMENODE_CHECKPOINT_CHECK_PERIOD_DEFAULT_SECS: u64 = 60;

pub const DFS_NAMENODE_NUM_CHECKPOINTS_RETAINED: &str = "dfs.namenode.num.checkpoints.retained";
pub const DFS_NAMENODE_NUM_CHECKPOINTS_RETAINED_DEFAULT: u32 = 2;

pub const DFS_NAMENODE_NUM_EXTRA_EDITS_RETAINED: &str = "dfs.namenode.num.extra.edits.retained";
pub const DFS_NAMENODE_NUM_EXTRA_EDITS_RETAINED_DEFAULT: u64 = 1_000_000;

pub const DFS_NAMENODE_SUPPORT_ALLOW_FORMAT: &str = "dfs.namenode.support.allow.format";
pub const DFS_NAMENODE_SUPPORT_ALLOW_FORMAT_DEFAULT: bool = true;

// ---------------------------------------------------------------------------------
// Namespace behaviour
// ---------------------------------------------------------------------------------

pub const DFS_REPLICATION: &str = "dfs.replication";
pub const DFS_REPLICATION_DEFAULT: u32 = 3;

pub const DFS_REPLICATION_MAX: &str = "dfs.replication.max";
pub const DFS_REPLICATION_MAX_DEFAULT: u32 = 512;

pub const DFS_NAMENODE_REPLICATION_MIN: &str = "dfs.namenode.replication.min";
pub const DFS_NAMENODE_REPLICATION_MIN_DEFAULT: u32 = 1;

/// Size suffixes allowed (`128m`).
pub const DFS_BLOCKSIZE: &str = "dfs.blocksize";
pub const DFS_BLOCKSIZE_DEFAULT: u64 = 134_217_728;

pub const DFS_NAMENODE_FS_LIMITS_MIN_BLOCK_SIZE: &str = "dfs.namenode.fs-limits.min-block-size";
pub const DFS_NAMENODE_FS_LIMITS_MIN_BLOCK_SIZE_DEFAULT: u64 = 1_048_576;

pub const DFS_NAMENODE_FS_LIMITS_MAX_BLOCKS_PER_FILE: &str =
    "dfs.namenode.fs-limits.max-blocks-per-file";
pub const DFS_NAMENODE_FS_LIMITS_MAX_BLOCKS_PER_FILE_DEFAULT: u64 = 10_000;

pub const DFS_NAMENODE_FS_LIMITS_MAX_COMPONENT_LENGTH: &str =
    "dfs.namenode.fs-limits.max-component-length";
/// 0 disables the check.
pub const DFS_NAMENODE_FS_LIMITS_MAX_COMPONENT_LENGTH_DEFAULT: u32 = 255;

pub const DFS_NAMENODE_FS_LIMITS_MAX_DIRECTORY_ITEMS: &str =
    "dfs.namenode.fs-limits.max-directory-items";
/// Hadoop refuses values below 1 or above 6400000.
pub const DFS_NAMENODE_FS_LIMITS_MAX_DIRECTORY_ITEMS_DEFAULT: u32 = 1_048_576;

/// Entries per getListing reply; Hadoop uses the default for values <= 0.
pub const DFS_LS_LIMIT: &str = "dfs.ls.limit";
pub const DFS_LS_LIMIT_DEFAULT: i64 = 1000;

/// Milliseconds; 0 disables access times.
pub const DFS_NAMENODE_ACCESSTIME_PRECISION: &str = "dfs.namenode.accesstime.precision";
pub const DFS_NAMENODE_ACCESSTIME_PRECISION_DEFAULT_MS: u64 = 3_600_000;

/// Minutes (Hadoop reads it as a float); 0 disables trash.
pub const FS_TRASH_INTERVAL: &str = "fs.trash.interval";
pub const FS_TRASH_INTERVAL_DEFAULT_MINUTES: f64 = 0.0;

pub const DFS_PERMISSIONS_ENABLED: &str = "dfs.permissions.enabled";
pub const DFS_PERMISSIONS_ENABLED_DEFAULT: bool = true;

pub const DFS_PERMISSIONS_SUPERUSERGROUP: &str = "dfs.permissions.superusergroup";
pub const DFS_PERMISSIONS_SUPERUSERGROUP_DEFAULT: &str = "supergroup";

pub const FS_PERMISSIONS_UMASK_MODE: &str = "fs.permissions.umask-mode";
pub const FS_PERMISSIONS_UMASK_MODE_DEFAULT: u16 = 0o022;

pub const DFS_NAMENODE_ACLS_ENABLED: &str = "dfs.namenode.acls.enabled";
pub const DFS_NAMENODE_ACLS_ENABLED_DEFAULT: bool = false;

/// Seconds after which the NameNode recovers the lease of a silent writer.
pub const DFS_NAMENODE_LEASE_HARD_LIMIT_SEC: &str = "dfs.namenode.lease-hard-limit-sec";
pub const DFS_NAMENODE_LEASE_HARD_LIMIT_SEC_DEFAULT: u64 = 1200;

// ---------------------------------------------------------------------------------
// NameNode RPC service, retry cache, safe mode
// ---------------------------------------------------------------------------------

pub const DFS_NAMENODE_HANDLER_COUNT: &str = "dfs.namenode.handler.count";
pub const DFS_NAMENODE_HANDLER_COUNT_DEFAULT: u32 = 10;

pub const DFS_NAMENODE_ENABLE_RETRY_CACHE: &str = "dfs.namenode.enable.retrycache";
pub const DFS_NAMENODE_ENABLE_RETRY_CACHE_DEFAULT: bool = true;

pub const DFS_NAMENODE_RETRY_CACHE_EXPIRYTIME_MILLIS: &str =
    "dfs.namenode.retrycache.expirytime.millis";
pub const DFS_NAMENODE_RETRY_CACHE_EXPIRYTIME_MILLIS_DEFAULT: u64 = 600_000;

pub const DFS_NAMENODE_RETRY_CACHE_HEAP_PERCENT: &str = "dfs.namenode.retrycache.heap.percent";
pub const DFS_NAMENODE_RETRY_CACHE_HEAP_PERCENT_DEFAULT: f64 = 0.03;

/// hafs: the memory that Hadoop's `*.heap.percent` keys take their share of (Hadoop:
/// the JVM's maximum heap). Unset: the process's cgroup memory limit, else the
/// machine's memory.
pub const HAFS_NAMENODE_MEMORY_BYTES: &str = "hafs.namenode.memory.bytes";

pub const DFS_NAMENODE_SAFEMODE_THRESHOLD_PCT: &str = "dfs.namenode.safemode.threshold-pct";
pub const DFS_NAMENODE_SAFEMODE_THRESHOLD_PCT_DEFAULT: f64 = 0.999;

pub const DFS_NAMENODE_SAFEMODE_MIN_DATANODES: &str = "dfs.namenode.safemode.min.datanodes";
pub const DFS_NAMENODE_SAFEMODE_MIN_DATANODES_DEFAULT: u32 = 0;

/// Milliseconds when unsuffixed.
pub const DFS_NAMENODE_SAFEMODE_EXTENSION: &str = "dfs.namenode.safemode.extension";
pub const DFS_NAMENODE_SAFEMODE_EXTENSION_DEFAULT_MS: u64 = 30_000;

// ---------------------------------------------------------------------------------
// Data path and DataNodes
// ---------------------------------------------------------------------------------

pub const DFS_BYTES_PER_CHECKSUM: &str = "dfs.bytes-per-checksum";
pub const DFS_BYTES_PER_CHECKSUM_DEFAULT: u32 = 512;

pub const DFS_CLIENT_WRITE_PACKET_SIZE: &str = "dfs.client-write-packet-size";
pub const DFS_CLIENT_WRITE_PACKET_SIZE_DEFAULT: u32 = 65_536;

pub const IO_FILE_BUFFER_SIZE: &str = "io.file.buffer.size";
pub const IO_FILE_BUFFER_SIZE_DEFAULT: u32 = 4096;

/// Seconds when unsuffixed.
pub const DFS_HEARTBEAT_INTERVAL: &str = "dfs.heartbeat.interval";
pub const DFS_HEARTBEAT_INTERVAL_DEFAULT_SECS: u64 = 3;

/// Milliseconds.
pub const DFS_NAMENODE_HEARTBEAT_RECHECK_INTERVAL: &str = "dfs.namenode.heartbeat.recheck-interval";
pub const DFS_NAMENODE_HEARTBEAT_RECHECK_INTERVAL_DEFAULT_MS: u64 = 300_000;

/// Milliseconds.
pub const DFS_NAMENODE_STALE_DATANODE_INTERVAL: &str = "dfs.namenode.stale.datanode.interval";
pub const DFS_NAMENODE_STALE_DATANODE_INTERVAL_DEFAULT_MS: u64 = 30_000;

/// Milliseconds.
pub const DFS_BLOCKREPORT_INTERVAL_MSEC: &str = "dfs.blockreport.intervalMsec";
pub const DFS_BLOCKREPORT_INTERVAL_MSEC_DEFAULT: u64 = 21_600_000;

/// Milliseconds a DataNode batches incremental block reports for; 0 (Hadoop's
/// default) sends a finalized or deleted replica at once. Clients that do not retry
/// addBlock's NotReplicatedYetException (hdfs-native) depend on it being prompt.
pub const DFS_BLOCKREPORT_INCREMENTAL_INTERVAL_MSEC: &str =
    "dfs.blockreport.incremental.intervalMsec";
pub const DFS_BLOCKREPORT_INCREMENTAL_INTERVAL_MSEC_DEFAULT: u64 = 0;

pub const DFS_DATANODE_DATA_DIR: &str = "dfs.datanode.data.dir";
pub const DFS_DATANODE_DATA_DIR_DEFAULT: &str = "file://${hadoop.tmp.dir}/dfs/data";

pub const DFS_DATANODE_ADDRESS: &str = "dfs.datanode.address";
pub const DFS_DATANODE_ADDRESS_DEFAULT: &str = "0.0.0.0:9866";

pub const DFS_DATANODE_IPC_ADDRESS: &str = "dfs.datanode.ipc.address";
pub const DFS_DATANODE_IPC_ADDRESS_DEFAULT: &str = "0.0.0.0:9867";

pub const DFS_DATANODE_HTTP_ADDRESS: &str = "dfs.datanode.http.address";
pub const DFS_DATANODE_HTTP_ADDRESS_DEFAULT: &str = "0.0.0.0:9864";

pub const DFS_CLIENT_BLOCK_WRITE_RETRIES: &str = "dfs.client.block.write.retries";
pub const DFS_CLIENT_BLOCK_WRITE_RETRIES_DEFAULT: u32 = 3;

// ---------------------------------------------------------------------------------
// JournalNodes
// ---------------------------------------------------------------------------------

pub const DFS_JOURNALNODE_EDITS_DIR: &str = "dfs.journalnode.edits.dir";
pub const DFS_JOURNALNODE_EDITS_DIR_DEFAULT: &str = "/tmp/hadoop/dfs/journalnode/";

pub const DFS_JOURNALNODE_RPC_ADDRESS: &str = "dfs.journalnode.rpc-address";
pub const DFS_JOURNALNODE_RPC_ADDRESS_DEFAULT: &str = "0.0.0.0:8485";

pub const DFS_JOURNALNODE_HTTP_ADDRESS: &str = "dfs.journalnode.http-address";
pub const DFS_JOURNALNODE_HTTP_ADDRESS_DEFAULT: &str = "0.0.0.0:8480";

// ---------------------------------------------------------------------------------
// IPC
// ---------------------------------------------------------------------------------

pub const IPC_MAXIMUM_DATA_LENGTH: &str = "ipc.maximum.data.length";
pub const IPC_MAXIMUM_DATA_LENGTH_DEFAULT: u32 = 134_217_728;

/// 0 = unlimited.
pub const IPC_SERVER_MAX_CONNECTIONS: &str = "ipc.server.max.connections";
pub const IPC_SERVER_MAX_CONNECTIONS_DEFAULT: u32 = 0;

/// Milliseconds.
pub const IPC_CLIENT_CONNECT_TIMEOUT: &str = "ipc.client.connect.timeout";
pub const IPC_CLIENT_CONNECT_TIMEOUT_DEFAULT_MS: u64 = 20_000;

pub const IPC_CLIENT_CONNECT_MAX_RETRIES: &str = "ipc.client.connect.max.retries";
pub const IPC_CLIENT_CONNECT_MAX_RETRIES_DEFAULT: u32 = 10;

/// Milliseconds.
pub const IPC_CLIENT_CONNECT_RETRY_INTERVAL: &str = "ipc.client.connect.retry.interval";
pub const IPC_CLIENT_CONNECT_RETRY_INTERVAL_DEFAULT_MS: u64 = 1000;

/// Milliseconds; 0 = no timeout (Hadoop 3.3+ default is 120000, HADOOP-17552).
pub const IPC_CLIENT_RPC_TIMEOUT_MS: &str = "ipc.client.rpc-timeout.ms";
pub const IPC_CLIENT_RPC_TIMEOUT_MS_DEFAULT: u64 = 120_000;

/// Milliseconds.
pub const IPC_CLIENT_CONNECTION_MAXIDLETIME: &str = "ipc.client.connection.maxidletime";
pub const IPC_CLIENT_CONNECTION_MAXIDLETIME_DEFAULT_MS: u64 = 10_000;

// ---------------------------------------------------------------------------------
// Client failover
// ---------------------------------------------------------------------------------

pub const DFS_CLIENT_FAILOVER_MAX_ATTEMPTS: &str = "dfs.client.failover.max.attempts";
pub const DFS_CLIENT_FAILOVER_MAX_ATTEMPTS_DEFAULT: u32 = 15;

pub const DFS_CLIENT_FAILOVER_SLEEP_BASE_MILLIS: &str = "dfs.client.failover.sleep.base.millis";
pub const DFS_CLIENT_FAILOVER_SLEEP_BASE_MILLIS_DEFAULT: u64 = 500;

pub const DFS_CLIENT_FAILOVER_SLEEP_MAX_MILLIS: &str = "dfs.client.failover.sleep.max.millis";
pub const DFS_CLIENT_FAILOVER_SLEEP_MAX_MILLIS_DEFAULT: u64 = 15_000;

pub const DFS_CLIENT_FAILOVER_CONNECTION_RETRIES: &str = "dfs.client.failover.connection.retries";
pub const DFS_CLIENT_FAILOVER_CONNECTION_RETRIES_DEFAULT: u32 = 0;

// ---------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------

const I32_MAX: i64 = i32::MAX as i64;
const fn int(min: i64, max: i64) -> ValueKind {
    ValueKind::Int { min, max }
}
const NON_NEGATIVE_INT: ValueKind = int(0, I32_MAX);
const POSITIVE_INT: ValueKind = int(1, I32_MAX);
const NON_NEGATIVE_LONG: ValueKind = int(0, i64::MAX);
const POSITIVE_LONG: ValueKind = int(1, i64::MAX);

const fn key(name: &'static str, default: Option<&'static str>, kind: ValueKind) -> KeySpec {
    KeySpec {
        name,
        default,
        kind,
        per_nameservice: false,
    }
}

const fn per_ns(name: &'static str, default: Option<&'static str>, kind: ValueKind) -> KeySpec {
    KeySpec {
        name,
        default,
        kind,
        per_nameservice: true,
    }
}

/// Every key hafs reads. Keys not listed here are kept and returned by `get` but never
/// validated, as Hadoop ignores keys it does not know.
pub const KEY_SPECS: &[KeySpec] = &[
    // identity
    key(FS_DEFAULT_FS, Some(FS_DEFAULT_FS_DEFAULT), ValueKind::Uri),
    key(
        HADOOP_TMP_DIR,
        Some(HADOOP_TMP_DIR_DEFAULT),
        ValueKind::Text,
    ),
    key(
        HADOOP_SECURITY_AUTHENTICATION,
        Some(HADOOP_SECURITY_AUTHENTICATION_DEFAULT),
        ValueKind::Choice(&["simple", "kerberos"]),
    ),
    // HA addressing
    key(DFS_NAMESERVICES, None, ValueKind::List),
    per_ns(DFS_HA_NAMENODES_PREFIX, None, ValueKind::List),
    per_ns(DFS_NAMENODE_RPC_ADDRESS, None, ValueKind::Address),
    per_ns(
        DFS_NAMENODE_HTTP_ADDRESS,
        Some(DFS_NAMENODE_HTTP_ADDRESS_DEFAULT),
        ValueKind::Address,
    ),
    per_ns(
        DFS_CLIENT_FAILOVER_PROXY_PROVIDER_PREFIX,
        None,
        ValueKind::Text,
    ),
    per_ns(
        DFS_HA_AUTOMATIC_FAILOVER_ENABLED,
        Some("false"),
        ValueKind::Bool,
    ),
    key(HA_ZOOKEEPER_QUORUM, None, ValueKind::List),
    key(DFS_HA_FENCING_METHODS, None, ValueKind::Text),
    key(DFS_HA_ZKFC_PORT, Some("8019"), int(0, 65535)),
    key(
        DFS_HA_TAIL_EDITS_PERIOD,
        Some("10ms"),
        ValueKind::Duration(TimeUnit::Seconds),
    ),
    key(
        DFS_HA_LOG_ROLL_PERIOD,
        Some("120s"),
        ValueKind::Duration(TimeUnit::Seconds),
    ),
    // NameNode storage and checkpoints
    key(
        DFS_NAMENODE_NAME_DIR,
        Some(DFS_NAMENODE_NAME_DIR_DEFAULT),
        ValueKind::List,
    ),
    key(
        DFS_NAMENODE_EDITS_DIR,
        Some(DFS_NAMENODE_EDITS_DIR_DEFAULT),
        ValueKind::List,
    ),
    per_ns(DFS_NAMENODE_SHARED_EDITS_DIR, None, ValueKind::Uri),
    key(DFS_NAMENODE_CHECKPOINT_TXNS, Some("1000000"), POSITIVE_LONG),
    key(
        DFS_NAMENODE_CHECKPOINT_PERIOD,
        Some("3600s"),
        ValueKind::Duration(TimeUnit::Seconds),
    ),
    key(
        DFS_NAMENODE_CHECKPOINT_CHECK_PERIOD,
        Some("60s"),
        ValueKind::Duration(TimeUnit::Seconds),
    ),
    key(
        DFS_NAMENODE_NUM_CHECKPOINTS_RETAINED,
        Some("2"),
        POSITIVE_INT,
    ),
    key(
        DFS_NAMENODE_NUM_EXTRA_EDITS_RETAINED,
        Some("1000000"),
        NON_NEGATIVE_LONG,
    ),
    key(
        DFS_NAMENODE_SUPPORT_ALLOW_FORMAT,
        Some("true"),
        ValueKind::Bool,
    ),
    // namespace behaviour
    key(DFS_REPLICATION, Some("3"), int(1, 32767)),
    key(DFS_REPLICATION_MAX, Some("512"), int(1, 32767)),
    key(DFS_NAMENODE_REPLICATION_MIN, Some("1"), int(1, 32767)),
    key(DFS_BLOCKSIZE, Some("134217728"), ValueKind::Size),
    key(
        DFS_NAMENODE_FS_LIMITS_MIN_BLOCK_SIZE,
        Some("1048576"),
        ValueKind::Size,
    ),
    key(
        DFS_NAMENODE_FS_LIMITS_MAX_BLOCKS_PER_FILE,
        Some("10000"),
        POSITIVE_LONG,
    ),
    key(
        DFS_NAMENODE_FS_LIMITS_MAX_COMPONENT_LENGTH,
        Some("255"),
        NON_NEGATIVE_INT,
    ),
    key(
        DFS_NAMENODE_FS_LIMITS_MAX_DIRECTORY_ITEMS,
        Some("1048576"),
        int(1, 6_400_000),
    ),
    key(DFS_LS_LIMIT, Some("1000"), int(i32::MIN as i64, I32_MAX)),
    key(
        DFS_NAMENODE_ACCESSTIME_PRECISION,
        Some("3600000"),
        NON_NEGATIVE_LONG,
    ),
    key(FS_TRASH_INTERVAL, Some("0"), ValueKind::Float),
    key(DFS_PERMISSIONS_ENABLED, Some("true"), ValueKind::Bool),
    key(
        DFS_PERMISSIONS_SUPERUSERGROUP,
        Some(DFS_PERMISSIONS_SUPERUSERGROUP_DEFAULT),
        ValueKind::Text,
    ),
    key(FS_PERMISSIONS_UMASK_MODE, Some("022"), ValueKind::Umask),
    key(DFS_NAMENODE_ACLS_ENABLED, Some("false"), ValueKind::Bool),
    key(
        DFS_NAMENODE_LEASE_HARD_LIMIT_SEC,
        Some("1200"),
        POSITIVE_LONG,
    ),
    // NameNode RPC service, retry cache, safe mode
    key(DFS_NAMENODE_HANDLER_COUNT, Some("10"), POSITIVE_INT),
    key(
        DFS_NAMENODE_ENABLE_RETRY_CACHE,
        Some("true"),
        ValueKind::Bool,
    ),
    key(
        DFS_NAMENODE_RETRY_CACHE_EXPIRYTIME_MILLIS,
        Some("600000"),
        NON_NEGATIVE_LONG,
    ),
    key(
        DFS_NAMENODE_RETRY_CACHE_HEAP_PERCENT,
        Some("0.03f"),
        ValueKind::Float,
    ),
    key(HAFS_NAMENODE_MEMORY_BYTES, None, ValueKind::Size),
    key(
        DFS_NAMENODE_SAFEMODE_THRESHOLD_PCT,
        Some("0.999f"),
        ValueKind::Float,
    ),
    key(
        DFS_NAMENODE_SAFEMODE_MIN_DATANODES,
        Some("0"),
        NON_NEGATIVE_INT,
    ),
    key(
        DFS_NAMENODE_SAFEMODE_EXTENSION,
        Some("30000"),
        ValueKind::Duration(TimeUnit::Millis),
    ),
    // data path and DataNodes
    key(DFS_BYTES_PER_CHECKSUM, Some("512"), POSITIVE_INT),
    key(DFS_CLIENT_WRITE_PACKET_SIZE, Some("65536"), POSITIVE_INT),
    key(IO_FILE_BUFFER_SIZE, Some("4096"), POSITIVE_INT),
    key(
        DFS_HEARTBEAT_INTERVAL,
        Some("3s"),
        ValueKind::Duration(TimeUnit::Seconds),
    ),
    key(
        DFS_NAMENODE_HEARTBEAT_RECHECK_INTERVAL,
        Some("300000"),
        NON_NEGATIVE_LONG,
    ),
    key(
        DFS_NAMENODE_STALE_DATANODE_INTERVAL,
        Some("30000"),
        NON_NEGATIVE_LONG,
    ),
    key(
        DFS_BLOCKREPORT_INTERVAL_MSEC,
        Some("21600000"),
        NON_NEGATIVE_LONG,
    ),
    key(
        DFS_BLOCKREPORT_INCREMENTAL_INTERVAL_MSEC,
        Some("0"),
        NON_NEGATIVE_LONG,
    ),
    key(
        DFS_DATANODE_DATA_DIR,
        Some(DFS_DATANODE_DATA_DIR_DEFAULT),
        ValueKind::List,
    ),
    key(
        DFS_DATANODE_ADDRESS,
        Some(DFS_DATANODE_ADDRESS_DEFAULT),
        ValueKind::Address,
    ),
    key(
        DFS_DATANODE_IPC_ADDRESS,
        Some(DFS_DATANODE_IPC_ADDRESS_DEFAULT),
        ValueKind::Address,
    ),
    key(
        DFS_DATANODE_HTTP_ADDRESS,
        Some(DFS_DATANODE_HTTP_ADDRESS_DEFAULT),
        ValueKind::Address,
    ),
    key(DFS_CLIENT_BLOCK_WRITE_RETRIES, Some("3"), NON_NEGATIVE_INT),
    // JournalNodes
    key(
        DFS_JOURNALNODE_EDITS_DIR,
        Some(DFS_JOURNALNODE_EDITS_DIR_DEFAULT),
        ValueKind::Text,
    ),
    key(
        DFS_JOURNALNODE_RPC_ADDRESS,
        Some(DFS_JOURNALNODE_RPC_ADDRESS_DEFAULT),
        ValueKind::Address,
    ),
    key(
        DFS_JOURNALNODE_HTTP_ADDRESS,
        Some(DFS_JOURNALNODE_HTTP_ADDRESS_DEFAULT),
        ValueKind::Address,
    ),
    // IPC
    key(IPC_MAXIMUM_DATA_LENGTH, Some("134217728"), POSITIVE_INT),
    key(IPC_SERVER_MAX_CONNECTIONS, Some("0"), NON_NEGATIVE_INT),
    key(IPC_CLIENT_CONNECT_TIMEOUT, Some("20000"), NON_NEGATIVE_INT),
    key(IPC_CLIENT_CONNECT_MAX_RETRIES, Some("10"), NON_NEGATIVE_INT),
    key(
        IPC_CLIENT_CONNECT_RETRY_INTERVAL,
        Some("1000"),
        NON_NEGATIVE_INT,
    ),
    key(IPC_CLIENT_RPC_TIMEOUT_MS, Some("120000"), NON_NEGATIVE_INT),
    key(
        IPC_CLIENT_CONNECTION_MAXIDLETIME,
        Some("10000"),
        NON_NEGATIVE_INT,
    ),
    // client failover
    key(
        DFS_CLIENT_FAILOVER_MAX_ATTEMPTS,
        Some("15"),
        NON_NEGATIVE_INT,
    ),
    key(
        DFS_CLIENT_FAILOVER_SLEEP_BASE_MILLIS,
        Some("500"),
        NON_NEGATIVE_INT,
    ),
    key(
        DFS_CLIENT_FAILOVER_SLEEP_MAX_MILLIS,
        Some("15000"),
        NON_NEGATIVE_INT,
    ),
    key(
        DFS_CLIENT_FAILOVER_CONNECTION_RETRIES,
        Some("0"),
        NON_NEGATIVE_INT,
    ),
];

/// Old key names Hadoop still honours, mapped to the current name. Setting either
/// name sets the current one.
pub const DEPRECATED_KEYS: &[(&str, &str)] = &[
    ("fs.default.name", FS_DEFAULT_FS),
    ("dfs.name.dir", DFS_NAMENODE_NAME_DIR),
    ("dfs.name.edits.dir", DFS_NAMENODE_EDITS_DIR),
    ("dfs.block.size", DFS_BLOCKSIZE),
    ("dfs.permissions", DFS_PERMISSIONS_ENABLED),
    ("dfs.permissions.supergroup", DFS_PERMISSIONS_SUPERUSERGROUP),
    ("dfs.umaskmode", FS_PERMISSIONS_UMASK_MODE),
    (
        "dfs.safemode.threshold.pct",
        DFS_NAMENODE_SAFEMODE_THRESHOLD_PCT,
    ),
    (
        "dfs.access.time.precision",
        DFS_NAMENODE_ACCESSTIME_PRECISION,
    ),
    ("dfs.max.objects", "dfs.namenode.max.objects"),
    ("fs.checkpoint.period", DFS_NAMENODE_CHECKPOINT_PERIOD),
    ("dfs.data.dir", DFS_DATANODE_DATA_DIR),
];

/// The spec for `key` (exact name, or a suffixed form of a per-nameservice key).
pub fn spec_for(key: &str) -> Option<&'static KeySpec> {
    KEY_SPECS
        .iter()
        .find(|spec| spec.name == key)
        .or_else(|| KEY_SPECS.iter().find(|spec| spec.matches(key)))
}

/// Hadoop's default for `key`, as Hadoop writes it (before substitution). Suffixed
/// per-nameservice keys have no default of their own.
pub fn default_for(key: &str) -> Option<&'static str> {
    KEY_SPECS
        .iter()
        .find(|spec| spec.name == key)
        .and_then(|spec| spec.default)
}

/// The current name for a possibly deprecated key.
pub fn canonical_key(key: &str) -> &str {
    DEPRECATED_KEYS
        .iter()
        .find(|(old, _)| *old == key)
        .map(|(_, new)| *new)
        .unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{
        parse_bool, parse_duration, parse_float, parse_int, parse_size, parse_umask,
    };
    use std::time::Duration;

    fn default(key: &str) -> &'static str {
        default_for(key).unwrap_or_else(|| panic!("{key} has no default"))
    }
    fn int(key: &str) -> i128 {
        parse_int(default(key)).unwrap()
    }
    fn secs(key: &str) -> Duration {
        parse_duration(default(key), TimeUnit::Seconds).unwrap()
    }

    /// The typed constants callers use must agree with the textual defaults that
    /// `get` and `validate` see.
    #[test]
    fn typed_defaults_match_textual_defaults() {
        assert_eq!(default(FS_DEFAULT_FS), FS_DEFAULT_FS_DEFAULT);
        assert_eq!(int(DFS_REPLICATION), DFS_REPLICATION_DEFAULT as i128);
        assert_eq!(
            int(DFS_REPLICATION_MAX),
            DFS_REPLICATION_MAX_DEFAULT as i128
        );
        assert_eq!(
            int(DFS_NAMENODE_REPLICATION_MIN),
            DFS_NAMENODE_REPLICATION_MIN_DEFAULT as i128
        );
        assert_eq!(
            parse_size(default(DFS_BLOCKSIZE)),
            Some(DFS_BLOCKSIZE_DEFAULT as i64)
        );
        assert_eq!(
            parse_size(default(DFS_NAMENODE_FS_LIMITS_MIN_BLOCK_SIZE)),
            Some(DFS_NAMENODE_FS_LIMITS_MIN_BLOCK_SIZE_DEFAULT as i64)
        );
        assert_eq!(
            int(DFS_NAMENODE_FS_LIMITS_MAX_BLOCKS_PER_FILE),
            DFS_NAMENODE_FS_LIMITS_MAX_BLOCKS_PER_FILE_DEFAULT as i128
        );
        assert_eq!(
            int(DFS_BYTES_PER_CHECKSUM),
            DFS_BYTES_PER_CHECKSUM_DEFAULT as i128
        );
        assert_eq!(
            int(DFS_CLIENT_WRITE_PACKET_SIZE),
            DFS_CLIENT_WRITE_PACKET_SIZE_DEFAULT as i128
        );
        assert_eq!(
            int(IO_FILE_BUFFER_SIZE),
            IO_FILE_BUFFER_SIZE_DEFAULT as i128
        );
        assert_eq!(
            parse_float(default(FS_TRASH_INTERVAL)),
            Some(FS_TRASH_INTERVAL_DEFAULT_MINUTES)
        );
        assert_eq!(
            parse_bool(default(DFS_PERMISSIONS_ENABLED)),
            Some(DFS_PERMISSIONS_ENABLED_DEFAULT)
        );
        assert_eq!(
            default(DFS_PERMISSIONS_SUPERUSERGROUP),
            DFS_PERMISSIONS_SUPERUSERGROUP_DEFAULT
        );
        assert_eq!(
            parse_umask(default(FS_PERMISSIONS_UMASK_MODE)),
            Some(FS_PERMISSIONS_UMASK_MODE_DEFAULT)
        );
        assert_eq!(
            parse_bool(default(DFS_NAMENODE_ACLS_ENABLED)),
            Some(DFS_NAMENODE_ACLS_ENABLED_DEFAULT)
        );
        assert_eq!(
            int(DFS_NAMENODE_ACCESSTIME_PRECISION),
            DFS_NAMENODE_ACCESSTIME_PRECISION_DEFAULT_MS as i128
        );
        assert_eq!(
            int(DFS_NAMENODE_FS_LIMITS_MAX_COMPONENT_LENGTH),
            DFS_NAMENODE_FS_LIMITS_MAX_COMPONENT_LENGTH_DEFAULT as i128
        );
        assert_eq!(
            int(DFS_NAMENODE_FS_LIMITS_MAX_DIRECTORY_ITEMS),
            DFS_NAMENODE_FS_LIMITS_MAX_DIRECTORY_ITEMS_DEFAULT as i128
        );
        assert_eq!(int(DFS_LS_LIMIT), DFS_LS_LIMIT_DEFAULT as i128);
        assert_eq!(
            int(DFS_NAMENODE_CHECKPOINT_TXNS),
            DFS_NAMENODE_CHECKPOINT_TXNS_DEFAULT as i128
        );
        assert_eq!(
            secs(DFS_NAMENODE_CHECKPOINT_PERIOD),
            Duration::from_secs(DFS_NAMENODE_CHECKPOINT_PERIOD_DEFAULT_SECS)
        );
        assert_eq!(
            secs(DFS_NAMENODE_CHECKPOINT_CHECK_PERIOD),
            Duration::from_secs(DFS_NAMENODE_CHECKPOINT_CHECK_PERIOD_DEFAULT_SECS)
        );
        assert_eq!(
            int(DFS_NAMENODE_NUM_CHECKPOINTS_RETAINED),
            DFS_NAMENODE_NUM_CHECKPOINTS_RETAINED_DEFAULT as i128
        );
        assert_eq!(
            int(DFS_NAMENODE_NUM_EXTRA_EDITS_RETAINED),
            DFS_NAMENODE_NUM_EXTRA_EDITS_RETAINED_DEFAULT as i128
        );
        assert_eq!(
            parse_bool(default(DFS_NAMENODE_SUPPORT_ALLOW_FORMAT)),
            Some(DFS_NAMENODE_SUPPORT_ALLOW_FORMAT_DEFAULT)
        );
        assert_eq!(
            int(DFS_NAMENODE_LEASE_HARD_LIMIT_SEC),
            DFS_NAMENODE_LEASE_HARD_LIMIT_SEC_DEFAULT as i128
        );
        assert_eq!(
            int(DFS_NAMENODE_HANDLER_COUNT),
            DFS_NAMENODE_HANDLER_COUNT_DEFAULT as i128
        );
        assert_eq!(
            parse_bool(default(DFS_NAMENODE_ENABLE_RETRY_CACHE)),
            Some(DFS_NAMENODE_ENABLE_RETRY_CACHE_DEFAULT)
        );
        assert_eq!(
            int(DFS_NAMENODE_RETRY_CACHE_EXPIRYTIME_MILLIS),
            DFS_NAMENODE_RETRY_CACHE_EXPIRYTIME_MILLIS_DEFAULT as i128
        );
        assert_eq!(
            parse_float(default(DFS_NAMENODE_RETRY_CACHE_HEAP_PERCENT)),
            Some(DFS_NAMENODE_RETRY_CACHE_HEAP_PERCENT_DEFAULT)
        );
        assert_eq!(
            parse_float(default(DFS_NAMENODE_SAFEMODE_THRESHOLD_PCT)),
            Some(DFS_NAMENODE_SAFEMODE_THRESHOLD_PCT_DEFAULT)
        );
        assert_eq!(
            int(DFS_NAMENODE_SAFEMODE_MIN_DATANODES),
            DFS_NAMENODE_SAFEMODE_MIN_DATANODES_DEFAULT as i128
        );
        assert_eq!(
            parse_duration(default(DFS_NAMENODE_SAFEMODE_EXTENSION), TimeUnit::Millis),
            Some(Duration::from_millis(
                DFS_NAMENODE_SAFEMODE_EXTENSION_DEFAULT_MS
            ))
        );
        assert_eq!(
            secs(DFS_HEARTBEAT_INTERVAL),
            Duration::from_secs(DFS_HEARTBEAT_INTERVAL_DEFAULT_SECS)
        );
        assert_eq!(
            int(DFS_NAMENODE_HEARTBEAT_RECHECK_INTERVAL),
            DFS_NAMENODE_HEARTBEAT_RECHECK_INTERVAL_DEFAULT_MS as i128
        );
        assert_eq!(
            int(DFS_NAMENODE_STALE_DATANODE_INTERVAL),
            DFS_NAMENODE_STALE_DATANODE_INTERVAL_DEFAULT_MS as i128
        );
        assert_eq!(
            int(DFS_BLOCKREPORT_INTERVAL_MSEC),
            DFS_BLOCKREPORT_INTERVAL_MSEC_DEFAULT as i128
        );
        assert_eq!(
            int(DFS_BLOCKREPORT_INCREMENTAL_INTERVAL_MSEC),
            DFS_BLOCKREPORT_INCREMENTAL_INTERVAL_MSEC_DEFAULT as i128
        );
        assert_eq!(
            int(DFS_CLIENT_BLOCK_WRITE_RETRIES),
            DFS_CLIENT_BLOCK_WRITE_RETRIES_DEFAULT as i128
        );
        assert_eq!(
            secs(DFS_HA_TAIL_EDITS_PERIOD),
            Duration::from_millis(DFS_HA_TAIL_EDITS_PERIOD_DEFAULT_MS)
        );
        assert_eq!(
            secs(DFS_HA_LOG_ROLL_PERIOD),
            Duration::from_secs(DFS_HA_LOG_ROLL_PERIOD_DEFAULT_SECS)
        );
        assert_eq!(
            parse_bool(default(DFS_HA_AUTOMATIC_FAILOVER_ENABLED)),
            Some(DFS_HA_AUTOMATIC_FAILOVER_ENABLED_DEFAULT)
        );
        assert_eq!(int(DFS_HA_ZKFC_PORT), DFS_HA_ZKFC_PORT_DEFAULT as i128);
        assert_eq!(
            int(IPC_MAXIMUM_DATA_LENGTH),
            IPC_MAXIMUM_DATA_LENGTH_DEFAULT as i128
        );
        assert_eq!(
            int(IPC_SERVER_MAX_CONNECTIONS),
            IPC_SERVER_MAX_CONNECTIONS_DEFAULT as i128
        );
        assert_eq!(
            int(IPC_CLIENT_CONNECT_TIMEOUT),
            IPC_CLIENT_CONNECT_TIMEOUT_DEFAULT_MS as i128
        );
        assert_eq!(
            int(IPC_CLIENT_CONNECT_MAX_RETRIES),
            IPC_CLIENT_CONNECT_MAX_RETRIES_DEFAULT as i128
        );
        assert_eq!(
            int(IPC_CLIENT_CONNECT_RETRY_INTERVAL),
            IPC_CLIENT_CONNECT_RETRY_INTERVAL_DEFAULT_MS as i128
        );
        assert_eq!(
            int(IPC_CLIENT_RPC_TIMEOUT_MS),
            IPC_CLIENT_RPC_TIMEOUT_MS_DEFAULT as i128
        );
        assert_eq!(
            int(IPC_CLIENT_CONNECTION_MAXIDLETIME),
            IPC_CLIENT_CONNECTION_MAXIDLETIME_DEFAULT_MS as i128
        );
        assert_eq!(
            int(DFS_CLIENT_FAILOVER_MAX_ATTEMPTS),
            DFS_CLIENT_FAILOVER_MAX_ATTEMPTS_DEFAULT as i128
        );
        assert_eq!(
            int(DFS_CLIENT_FAILOVER_SLEEP_BASE_MILLIS),
            DFS_CLIENT_FAILOVER_SLEEP_BASE_MILLIS_DEFAULT as i128
        );
        assert_eq!(
            int(DFS_CLIENT_FAILOVER_SLEEP_MAX_MILLIS),
            DFS_CLIENT_FAILOVER_SLEEP_MAX_MILLIS_DEFAULT as i128
        );
        assert_eq!(
            int(DFS_CLIENT_FAILOVER_CONNECTION_RETRIES),
            DFS_CLIENT_FAILOVER_CONNECTION_RETRIES_DEFAULT as i128
        );
        assert_eq!(
            default(HADOOP_SECURITY_AUTHENTICATION),
            HADOOP_SECURITY_AUTHENTICATION_DEFAULT
        );
        assert_eq!(
            default(DFS_NAMENODE_HTTP_ADDRESS),
            DFS_NAMENODE_HTTP_ADDRESS_DEFAULT
        );
    }

    #[test]
    fn every_key_is_listed_once() {
        let mut names: Vec<_> = KEY_SPECS.iter().map(|s| s.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }

    #[test]
    fn suffixed_keys_match_their_spec() {
        assert_eq!(
            spec_for("dfs.namenode.rpc-address.ns.nn1").unwrap().name,
            DFS_NAMENODE_RPC_ADDRESS
        );
        assert_eq!(
            spec_for("dfs.ha.namenodes.ns").unwrap().name,
            DFS_HA_NAMENODES_PREFIX
        );
        assert!(
            spec_for("dfs.replication.ns").is_none(),
            "not a per-nameservice key"
        );
        assert!(spec_for("dfs.namenode.rpc-addressx").is_none());
        assert_eq!(
            with_suffixes(DFS_NAMENODE_RPC_ADDRESS, &["ns", "nn1"]),
            "dfs.namenode.rpc-address.ns.nn1"
        );
        assert_eq!(
            with_suffixes(DFS_NAMENODE_RPC_ADDRESS, &["ns", ""]),
            "dfs.namenode.rpc-address.ns"
        );
        // Suffixed keys take no default from the unsuffixed one.
        assert_eq!(default_for("dfs.namenode.http-address.ns.nn1"), None);
    }

    #[test]
    fn deprecated_names_resolve() {
        assert_eq!(canonical_key("fs.default.name"), FS_DEFAULT_FS);
        assert_eq!(canonical_key("dfs.replication"), DFS_REPLICATION);
    }
}
