//! Every configuration key hafs reads, with Hadoop's name and Hadoop's default.
//!
//! Each key is written once, as a row of the [`keys!`] table below: the constant code
//! reads it with, its value syntax, the default as Hadoop writes it (Hadoop 3's
//! `core-default.xml` and `hdfs-default.xml`, or `DFSConfigKeys` /
//! `CommonConfigurationKeys` where the XML has no entry) and, where callers want one, a
//! `*_DEFAULT` constant typed for the accessor they use. The macro turns the rows into
//! the constants and into [`KEY_SPECS`], which
//! [`Configuration::validate`](crate::Configuration::validate) checks at startup, so a
//! key cannot be read without also being validated.
//!
//! Tests keep the table honest: the typed and textual defaults agree
//! (`typed_defaults_match_textual_defaults`), no string literal in the workspace's
//! non-test code names a key missing here (`tests/registry.rs`), and
//! docs/configuration.md documents exactly these keys.

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

/// The class a Java client needs for an HA nameservice.
pub const CONFIGURED_FAILOVER_PROXY_PROVIDER: &str =
    "org.apache.hadoop.hdfs.server.namenode.ha.ConfiguredFailoverProxyProvider";

/// Declares the key table: one row per key,
///
/// ```text
/// /// What the key does (becomes the constant's doc).
/// CONST = "hadoop.key.name", kind[, default "text"][, typed CONST_DEFAULT: T = value]
///     [, per_nameservice = true];
/// ```
///
/// and expands to a `pub const CONST: &str` per key (plus the typed default, if given)
/// and to [`KEY_SPECS`]. A macro rather than two lists so that a key cannot be named in
/// code without being in the table `validate` checks.
macro_rules! keys {
    (@default) => { None };
    (@default $default:expr) => { Some($default) };
    (@per_ns) => { false };
    (@per_ns $per_ns:literal) => { $per_ns };
    ($(
        $(#[doc = $doc:literal])*
        $name:ident = $key:literal, $kind:expr
        $(, default $default:expr)?
        $(, typed $typed:ident: $ty:ty = $value:expr)?
        $(, per_nameservice = $per_ns:literal)?;
    )*) => {
        $(
            $(#[doc = $doc])*
            pub const $name: &str = $key;
            $(
                #[doc = concat!("Default of `", $key, "`, typed for its accessor.")]
                pub const $typed: $ty = $value;
            )?
        )*

        /// Every key hafs reads. Keys not listed here are kept and returned by `get` but
        /// never validated, as Hadoop ignores keys it does not know.
        pub const KEY_SPECS: &[KeySpec] = &[$(
            KeySpec {
                name: $key,
                default: keys!(@default $($default)?),
                kind: $kind,
                per_nameservice: keys!(@per_ns $($per_ns)?),
            },
        )*];
    };
}

// Value kinds, short, for the table's rows.
const I32_MAX: i64 = i32::MAX as i64;
const fn int(min: i64, max: i64) -> ValueKind {
    ValueKind::Int { min, max }
}
const NON_NEGATIVE_INT: ValueKind = int(0, I32_MAX);
const POSITIVE_INT: ValueKind = int(1, I32_MAX);
const NON_NEGATIVE_LONG: ValueKind = int(0, i64::MAX);
const POSITIVE_LONG: ValueKind = int(1, i64::MAX);
use ValueKind::{Address, Bool, Choice, Duration, Float, List, Size, Text, Umask, Uri};

// ---------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------

keys! {
    // File system and cluster identity
    FS_DEFAULT_FS = "fs.defaultFS", Uri, default FS_DEFAULT_FS_DEFAULT,
        typed FS_DEFAULT_FS_DEFAULT: &str = "file:///";
    HADOOP_TMP_DIR = "hadoop.tmp.dir", Text, default HADOOP_TMP_DIR_DEFAULT,
        typed HADOOP_TMP_DIR_DEFAULT: &str = "/tmp/hadoop-${user.name}";
    HADOOP_SECURITY_AUTHENTICATION = "hadoop.security.authentication",
        Choice(&["simple", "kerberos"]), default HADOOP_SECURITY_AUTHENTICATION_DEFAULT,
        typed HADOOP_SECURITY_AUTHENTICATION_DEFAULT: &str = "simple";

    // HA addressing
    /// Comma-separated nameservice ids.
    DFS_NAMESERVICES = "dfs.nameservices", List;
    /// `dfs.ha.namenodes.<ns>`: comma-separated NameNode ids of a nameservice.
    DFS_HA_NAMENODES_PREFIX = "dfs.ha.namenodes", List, per_nameservice = true;
    /// `dfs.namenode.rpc-address[.<ns>[.<nn>]]`: NameNode RPC `host:port`; no default.
    DFS_NAMENODE_RPC_ADDRESS = "dfs.namenode.rpc-address", Address, per_nameservice = true;
    /// `dfs.namenode.http-address[.<ns>[.<nn>]]`.
    DFS_NAMENODE_HTTP_ADDRESS = "dfs.namenode.http-address", Address,
        default DFS_NAMENODE_HTTP_ADDRESS_DEFAULT,
        typed DFS_NAMENODE_HTTP_ADDRESS_DEFAULT: &str = "0.0.0.0:9870", per_nameservice = true;
    /// `dfs.client.failover.proxy.provider.<ns>`: the Java client's failover proxy class.
    DFS_CLIENT_FAILOVER_PROXY_PROVIDER_PREFIX = "dfs.client.failover.proxy.provider", Text,
        per_nameservice = true;
    DFS_HA_AUTOMATIC_FAILOVER_ENABLED = "dfs.ha.automatic-failover.enabled", Bool, default "false",
        typed DFS_HA_AUTOMATIC_FAILOVER_ENABLED_DEFAULT: bool = false, per_nameservice = true;
    /// Comma-separated ZooKeeper `host:port` list; no default.
    HA_ZOOKEEPER_QUORUM = "ha.zookeeper.quorum", List;
    /// Newline-separated fencing methods (`shell(...)`, `sshfence`); no default.
    DFS_HA_FENCING_METHODS = "dfs.ha.fencing.methods", Text;
    DFS_HA_ZKFC_PORT = "dfs.ha.zkfc.port", int(0, 65535), default "8019",
        typed DFS_HA_ZKFC_PORT_DEFAULT: u32 = 8019;
    /// How often a Standby NameNode looks for new edits (seconds when unsuffixed). Hadoop's
    /// default is 60 s; ours is 10 ms, because in-progress tailing keeps a Standby within
    /// milliseconds of the Active (docs/ha.md, "Tailing lag").
    DFS_HA_TAIL_EDITS_PERIOD = "dfs.ha.tail-edits.period", Duration(TimeUnit::Seconds),
        default "10ms", typed DFS_HA_TAIL_EDITS_PERIOD_DEFAULT_MS: u64 = 10;
    /// How often the Standby asks the Active to roll its edit log (seconds).
    DFS_HA_LOG_ROLL_PERIOD = "dfs.ha.log-roll.period", Duration(TimeUnit::Seconds), default "120s",
        typed DFS_HA_LOG_ROLL_PERIOD_DEFAULT_SECS: u64 = 120;

    // NameNode storage and checkpoints
    DFS_NAMENODE_NAME_DIR = "dfs.namenode.name.dir", List, default DFS_NAMENODE_NAME_DIR_DEFAULT,
        typed DFS_NAMENODE_NAME_DIR_DEFAULT: &str = "file://${hadoop.tmp.dir}/dfs/name";
    DFS_NAMENODE_EDITS_DIR = "dfs.namenode.edits.dir", List, default DFS_NAMENODE_EDITS_DIR_DEFAULT,
        typed DFS_NAMENODE_EDITS_DIR_DEFAULT: &str = "${dfs.namenode.name.dir}";
    /// `qjournal://jn1:8485;jn2:8485/<journal-id>` or a shared `file://` dir; no default.
    DFS_NAMENODE_SHARED_EDITS_DIR = "dfs.namenode.shared.edits.dir", Uri, per_nameservice = true;
    DFS_NAMENODE_CHECKPOINT_TXNS = "dfs.namenode.checkpoint.txns", POSITIVE_LONG, default "1000000",
        typed DFS_NAMENODE_CHECKPOINT_TXNS_DEFAULT: u64 = 1_000_000;
    /// Seconds when unsuffixed.
    DFS_NAMENODE_CHECKPOINT_PERIOD = "dfs.namenode.checkpoint.period", Duration(TimeUnit::Seconds),
        default "3600s", typed DFS_NAMENODE_CHECKPOINT_PERIOD_DEFAULT_SECS: u64 = 3600;
    /// Seconds when unsuffixed.
    DFS_NAMENODE_CHECKPOINT_CHECK_PERIOD = "dfs.namenode.checkpoint.check.period",
        Duration(TimeUnit::Seconds), default "60s",
        typed DFS_NAMENODE_CHECKPOINT_CHECK_PERIOD_DEFAULT_SECS: u64 = 60;
    DFS_NAMENODE_NUM_CHECKPOINTS_RETAINED = "dfs.namenode.num.checkpoints.retained", POSITIVE_INT,
        default "2", typed DFS_NAMENODE_NUM_CHECKPOINTS_RETAINED_DEFAULT: u32 = 2;
    DFS_NAMENODE_NUM_EXTRA_EDITS_RETAINED = "dfs.namenode.num.extra.edits.retained",
        NON_NEGATIVE_LONG, default "1000000",
        typed DFS_NAMENODE_NUM_EXTRA_EDITS_RETAINED_DEFAULT: u64 = 1_000_000;
    DFS_NAMENODE_SUPPORT_ALLOW_FORMAT = "dfs.namenode.support.allow.format", Bool, default "true",
        typed DFS_NAMENODE_SUPPORT_ALLOW_FORMAT_DEFAULT: bool = true;

    // Namespace behaviour
    DFS_REPLICATION = "dfs.replication", int(1, 32767), default "3",
        typed DFS_REPLICATION_DEFAULT: u32 = 3;
    DFS_REPLICATION_MAX = "dfs.replication.max", int(1, 32767), default "512",
        typed DFS_REPLICATION_MAX_DEFAULT: u32 = 512;
    DFS_NAMENODE_REPLICATION_MIN = "dfs.namenode.replication.min", int(1, 32767), default "1",
        typed DFS_NAMENODE_REPLICATION_MIN_DEFAULT: u32 = 1;
    /// Size suffixes allowed (`128m`).
    DFS_BLOCKSIZE = "dfs.blocksize", Size, default "134217728",
        typed DFS_BLOCKSIZE_DEFAULT: u64 = 134_217_728;
    DFS_NAMENODE_FS_LIMITS_MIN_BLOCK_SIZE = "dfs.namenode.fs-limits.min-block-size", Size,
        default "1048576", typed DFS_NAMENODE_FS_LIMITS_MIN_BLOCK_SIZE_DEFAULT: u64 = 1_048_576;
    DFS_NAMENODE_FS_LIMITS_MAX_BLOCKS_PER_FILE = "dfs.namenode.fs-limits.max-blocks-per-file",
        POSITIVE_LONG, default "10000",
        typed DFS_NAMENODE_FS_LIMITS_MAX_BLOCKS_PER_FILE_DEFAULT: u64 = 10_000;
    /// 0 disables the check.
    DFS_NAMENODE_FS_LIMITS_MAX_COMPONENT_LENGTH = "dfs.namenode.fs-limits.max-component-length",
        NON_NEGATIVE_INT, default "255",
        typed DFS_NAMENODE_FS_LIMITS_MAX_COMPONENT_LENGTH_DEFAULT: u32 = 255;
    /// Hadoop refuses values below 1 or above 6400000.
    DFS_NAMENODE_FS_LIMITS_MAX_DIRECTORY_ITEMS = "dfs.namenode.fs-limits.max-directory-items",
        int(1, 6_400_000), default "1048576",
        typed DFS_NAMENODE_FS_LIMITS_MAX_DIRECTORY_ITEMS_DEFAULT: u32 = 1_048_576;
    /// Entries per getListing reply; Hadoop uses the default for values <= 0.
    DFS_LS_LIMIT = "dfs.ls.limit", int(i32::MIN as i64, I32_MAX), default "1000",
        typed DFS_LS_LIMIT_DEFAULT: i64 = 1000;
    /// Milliseconds; 0 disables access times.
    DFS_NAMENODE_ACCESSTIME_PRECISION = "dfs.namenode.accesstime.precision", NON_NEGATIVE_LONG,
        default "3600000", typed DFS_NAMENODE_ACCESSTIME_PRECISION_DEFAULT_MS: u64 = 3_600_000;
    /// Minutes (Hadoop reads it as a float); 0 disables trash.
    FS_TRASH_INTERVAL = "fs.trash.interval", Float, default "0",
        typed FS_TRASH_INTERVAL_DEFAULT_MINUTES: f64 = 0.0;
    DFS_PERMISSIONS_ENABLED = "dfs.permissions.enabled", Bool, default "true",
        typed DFS_PERMISSIONS_ENABLED_DEFAULT: bool = true;
    DFS_PERMISSIONS_SUPERUSERGROUP = "dfs.permissions.superusergroup", Text,
        default DFS_PERMISSIONS_SUPERUSERGROUP_DEFAULT,
        typed DFS_PERMISSIONS_SUPERUSERGROUP_DEFAULT: &str = "supergroup";
    FS_PERMISSIONS_UMASK_MODE = "fs.permissions.umask-mode", Umask, default "022",
        typed FS_PERMISSIONS_UMASK_MODE_DEFAULT: u16 = 0o022;
    DFS_NAMENODE_ACLS_ENABLED = "dfs.namenode.acls.enabled", Bool, default "false",
        typed DFS_NAMENODE_ACLS_ENABLED_DEFAULT: bool = false;
    /// Seconds after which the NameNode recovers the lease of a silent writer.
    DFS_NAMENODE_LEASE_HARD_LIMIT_SEC = "dfs.namenode.lease-hard-limit-sec", POSITIVE_LONG,
        default "1200", typed DFS_NAMENODE_LEASE_HARD_LIMIT_SEC_DEFAULT: u64 = 1200;

    // NameNode RPC service, retry cache, safe mode
    DFS_NAMENODE_HANDLER_COUNT = "dfs.namenode.handler.count", POSITIVE_INT, default "10",
        typed DFS_NAMENODE_HANDLER_COUNT_DEFAULT: u32 = 10;
    DFS_NAMENODE_ENABLE_RETRY_CACHE = "dfs.namenode.enable.retrycache", Bool, default "true",
        typed DFS_NAMENODE_ENABLE_RETRY_CACHE_DEFAULT: bool = true;
    DFS_NAMENODE_RETRY_CACHE_EXPIRYTIME_MILLIS = "dfs.namenode.retrycache.expirytime.millis",
        NON_NEGATIVE_LONG, default "600000",
        typed DFS_NAMENODE_RETRY_CACHE_EXPIRYTIME_MILLIS_DEFAULT: u64 = 600_000;
    DFS_NAMENODE_RETRY_CACHE_HEAP_PERCENT = "dfs.namenode.retrycache.heap.percent", Float,
        default "0.03f", typed DFS_NAMENODE_RETRY_CACHE_HEAP_PERCENT_DEFAULT: f64 = 0.03;
    /// hafs: the memory that Hadoop's `*.heap.percent` keys take their share of (Hadoop:
    /// the JVM's maximum heap). Unset: the process's cgroup memory limit, else the
    /// machine's memory.
    HAFS_NAMENODE_MEMORY_BYTES = "hafs.namenode.memory.bytes", Size;
    DFS_NAMENODE_SAFEMODE_THRESHOLD_PCT = "dfs.namenode.safemode.threshold-pct", Float,
        default "0.999f", typed DFS_NAMENODE_SAFEMODE_THRESHOLD_PCT_DEFAULT: f64 = 0.999;
    DFS_NAMENODE_SAFEMODE_MIN_DATANODES = "dfs.namenode.safemode.min.datanodes", NON_NEGATIVE_INT,
        default "0", typed DFS_NAMENODE_SAFEMODE_MIN_DATANODES_DEFAULT: u32 = 0;
    /// Milliseconds when unsuffixed.
    DFS_NAMENODE_SAFEMODE_EXTENSION = "dfs.namenode.safemode.extension", Duration(TimeUnit::Millis),
        default "30000", typed DFS_NAMENODE_SAFEMODE_EXTENSION_DEFAULT_MS: u64 = 30_000;

    // Data path and DataNodes
    DFS_BYTES_PER_CHECKSUM = "dfs.bytes-per-checksum", POSITIVE_INT, default "512",
        typed DFS_BYTES_PER_CHECKSUM_DEFAULT: u32 = 512;
    DFS_CLIENT_WRITE_PACKET_SIZE = "dfs.client-write-packet-size", POSITIVE_INT, default "65536",
        typed DFS_CLIENT_WRITE_PACKET_SIZE_DEFAULT: u32 = 65_536;
    IO_FILE_BUFFER_SIZE = "io.file.buffer.size", POSITIVE_INT, default "4096",
        typed IO_FILE_BUFFER_SIZE_DEFAULT: u32 = 4096;
    /// Seconds when unsuffixed.
    DFS_HEARTBEAT_INTERVAL = "dfs.heartbeat.interval", Duration(TimeUnit::Seconds), default "3s",
        typed DFS_HEARTBEAT_INTERVAL_DEFAULT_SECS: u64 = 3;
    /// Milliseconds.
    DFS_NAMENODE_HEARTBEAT_RECHECK_INTERVAL = "dfs.namenode.heartbeat.recheck-interval",
        NON_NEGATIVE_LONG, default "300000",
        typed DFS_NAMENODE_HEARTBEAT_RECHECK_INTERVAL_DEFAULT_MS: u64 = 300_000;
    /// Milliseconds.
    DFS_NAMENODE_STALE_DATANODE_INTERVAL = "dfs.namenode.stale.datanode.interval",
        NON_NEGATIVE_LONG, default "30000",
        typed DFS_NAMENODE_STALE_DATANODE_INTERVAL_DEFAULT_MS: u64 = 30_000;
    /// Milliseconds.
    DFS_BLOCKREPORT_INTERVAL_MSEC = "dfs.blockreport.intervalMsec", NON_NEGATIVE_LONG,
        default "21600000", typed DFS_BLOCKREPORT_INTERVAL_MSEC_DEFAULT: u64 = 21_600_000;
    /// Milliseconds a DataNode batches incremental block reports for; 0 (Hadoop's
    /// default) sends a finalized or deleted replica at once. Clients that do not retry
    /// addBlock's NotReplicatedYetException (hdfs-native) depend on it being prompt.
    DFS_BLOCKREPORT_INCREMENTAL_INTERVAL_MSEC = "dfs.blockreport.incremental.intervalMsec",
        NON_NEGATIVE_LONG, default "0",
        typed DFS_BLOCKREPORT_INCREMENTAL_INTERVAL_MSEC_DEFAULT: u64 = 0;
    DFS_DATANODE_DATA_DIR = "dfs.datanode.data.dir", List, default DFS_DATANODE_DATA_DIR_DEFAULT,
        typed DFS_DATANODE_DATA_DIR_DEFAULT: &str = "file://${hadoop.tmp.dir}/dfs/data";
    DFS_DATANODE_ADDRESS = "dfs.datanode.address", Address, default DFS_DATANODE_ADDRESS_DEFAULT,
        typed DFS_DATANODE_ADDRESS_DEFAULT: &str = "0.0.0.0:9866";
    DFS_DATANODE_IPC_ADDRESS = "dfs.datanode.ipc.address", Address,
        default DFS_DATANODE_IPC_ADDRESS_DEFAULT,
        typed DFS_DATANODE_IPC_ADDRESS_DEFAULT: &str = "0.0.0.0:9867";
    DFS_DATANODE_HTTP_ADDRESS = "dfs.datanode.http.address", Address,
        default DFS_DATANODE_HTTP_ADDRESS_DEFAULT,
        typed DFS_DATANODE_HTTP_ADDRESS_DEFAULT: &str = "0.0.0.0:9864";
    DFS_CLIENT_BLOCK_WRITE_RETRIES = "dfs.client.block.write.retries", NON_NEGATIVE_INT,
        default "3", typed DFS_CLIENT_BLOCK_WRITE_RETRIES_DEFAULT: u32 = 3;

    // JournalNodes
    DFS_JOURNALNODE_EDITS_DIR = "dfs.journalnode.edits.dir", Text,
        default DFS_JOURNALNODE_EDITS_DIR_DEFAULT,
        typed DFS_JOURNALNODE_EDITS_DIR_DEFAULT: &str = "/tmp/hadoop/dfs/journalnode/";
    DFS_JOURNALNODE_RPC_ADDRESS = "dfs.journalnode.rpc-address", Address,
        default DFS_JOURNALNODE_RPC_ADDRESS_DEFAULT,
        typed DFS_JOURNALNODE_RPC_ADDRESS_DEFAULT: &str = "0.0.0.0:8485";
    DFS_JOURNALNODE_HTTP_ADDRESS = "dfs.journalnode.http-address", Address,
        default DFS_JOURNALNODE_HTTP_ADDRESS_DEFAULT,
        typed DFS_JOURNALNODE_HTTP_ADDRESS_DEFAULT: &str = "0.0.0.0:8480";

    // IPC
    IPC_MAXIMUM_DATA_LENGTH = "ipc.maximum.data.length", POSITIVE_INT, default "134217728",
        typed IPC_MAXIMUM_DATA_LENGTH_DEFAULT: u32 = 134_217_728;
    /// 0 = unlimited.
    IPC_SERVER_MAX_CONNECTIONS = "ipc.server.max.connections", NON_NEGATIVE_INT, default "0",
        typed IPC_SERVER_MAX_CONNECTIONS_DEFAULT: u32 = 0;
    /// Milliseconds.
    IPC_CLIENT_CONNECT_TIMEOUT = "ipc.client.connect.timeout", NON_NEGATIVE_INT, default "20000",
        typed IPC_CLIENT_CONNECT_TIMEOUT_DEFAULT_MS: u64 = 20_000;
    IPC_CLIENT_CONNECT_MAX_RETRIES = "ipc.client.connect.max.retries", NON_NEGATIVE_INT,
        default "10", typed IPC_CLIENT_CONNECT_MAX_RETRIES_DEFAULT: u32 = 10;
    /// Milliseconds.
    IPC_CLIENT_CONNECT_RETRY_INTERVAL = "ipc.client.connect.retry.interval", NON_NEGATIVE_INT,
        default "1000", typed IPC_CLIENT_CONNECT_RETRY_INTERVAL_DEFAULT_MS: u64 = 1000;
    /// Milliseconds; 0 = no timeout (Hadoop 3.3+ default is 120000, HADOOP-17552).
    IPC_CLIENT_RPC_TIMEOUT_MS = "ipc.client.rpc-timeout.ms", NON_NEGATIVE_INT, default "120000",
        typed IPC_CLIENT_RPC_TIMEOUT_MS_DEFAULT: u64 = 120_000;
    /// Milliseconds.
    IPC_CLIENT_CONNECTION_MAXIDLETIME = "ipc.client.connection.maxidletime", NON_NEGATIVE_INT,
        default "10000", typed IPC_CLIENT_CONNECTION_MAXIDLETIME_DEFAULT_MS: u64 = 10_000;

    // Client failover
    DFS_CLIENT_FAILOVER_MAX_ATTEMPTS = "dfs.client.failover.max.attempts", NON_NEGATIVE_INT,
        default "15", typed DFS_CLIENT_FAILOVER_MAX_ATTEMPTS_DEFAULT: u32 = 15;
    DFS_CLIENT_FAILOVER_SLEEP_BASE_MILLIS = "dfs.client.failover.sleep.base.millis",
        NON_NEGATIVE_INT, default "500",
        typed DFS_CLIENT_FAILOVER_SLEEP_BASE_MILLIS_DEFAULT: u64 = 500;
    DFS_CLIENT_FAILOVER_SLEEP_MAX_MILLIS = "dfs.client.failover.sleep.max.millis", NON_NEGATIVE_INT,
        default "15000", typed DFS_CLIENT_FAILOVER_SLEEP_MAX_MILLIS_DEFAULT: u64 = 15_000;
    DFS_CLIENT_FAILOVER_CONNECTION_RETRIES = "dfs.client.failover.connection.retries",
        NON_NEGATIVE_INT, default "0",
        typed DFS_CLIENT_FAILOVER_CONNECTION_RETRIES_DEFAULT: u32 = 0;
}

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
