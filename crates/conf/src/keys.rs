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
    /// The row's doc comment, one line per `///` line (docs/configuration.md's table).
    pub doc: &'static str,
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

        /// Every typed default with its key and constant name, so a test can check each
        /// against the textual default.
        #[cfg(test)]
        fn typed_defaults() -> Vec<(&'static str, &'static str, tests::Typed)> {
            vec![$($(($key, stringify!($typed), tests::Typed::from($typed)),)?)*]
        }

        /// Every key hafs reads. Keys not listed here are kept and returned by `get` but
        /// never validated, as Hadoop ignores keys it does not know.
        pub const KEY_SPECS: &[KeySpec] = &[$(
            KeySpec {
                name: $key,
                default: keys!(@default $($default)?),
                kind: $kind,
                per_nameservice: keys!(@per_ns $($per_ns)?),
                doc: concat!($($doc, "\n"),*),
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
const INT: ValueKind = int(i32::MIN as i64, I32_MAX);
use ValueKind::{Address, Bool, Choice, Duration, Float, List, Size, Text, Umask, Uri};

// ---------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------

keys! {
    // File system and cluster identity
    /// `hdfs://host:port` or `hdfs://nameservice`: where clients find the NameNode, and the
    /// NameNode's own address when `dfs.namenode.rpc-address` is unset.
    FS_DEFAULT_FS = "fs.defaultFS", Uri, default FS_DEFAULT_FS_DEFAULT,
        typed FS_DEFAULT_FS_DEFAULT: &str = "file:///";
    /// `fs.viewfs.mounttable.<table>.link.<path>` (a mount point's target URI),
    /// `.linkFallback` (where paths under no mount point go) and `.homedir`: the client
    /// mount table of `fs.defaultFS=viewfs://<table>` (docs/deploy.md, "Add a nameservice").
    FS_VIEWFS_MOUNTTABLE_PREFIX = "fs.viewfs.mounttable", Text, per_nameservice = true;
    /// Base of the default storage directories.
    HADOOP_TMP_DIR = "hadoop.tmp.dir", Text, default HADOOP_TMP_DIR_DEFAULT,
        typed HADOOP_TMP_DIR_DEFAULT: &str = "/tmp/hadoop-${user.name}";
    /// Whether every daemon's HTTP server serves `/prom`: its metrics in the Prometheus
    /// text format (Hadoop 3.3+).
    HADOOP_PROMETHEUS_ENDPOINT_ENABLED = "hadoop.prometheus.endpoint.enabled", Bool,
        default "false", typed HADOOP_PROMETHEUS_ENDPOINT_ENABLED_DEFAULT: bool = false;
    /// `simple` (the client names its user and is believed) or `kerberos` (every RPC
    /// connection authenticates with SASL: Kerberos GSSAPI; see docs/security.md).
    HADOOP_SECURITY_AUTHENTICATION = "hadoop.security.authentication",
        Choice(&["simple", "kerberos"]), default HADOOP_SECURITY_AUTHENTICATION_DEFAULT,
        typed HADOOP_SECURITY_AUTHENTICATION_DEFAULT: &str = "simple";
    /// Protection of RPC connections with Kerberos: a comma list of `authentication`,
    /// `integrity`, `privacy`, in order of preference.
    HADOOP_RPC_PROTECTION = "hadoop.rpc.protection", List,
        default HADOOP_RPC_PROTECTION_DEFAULT,
        typed HADOOP_RPC_PROTECTION_DEFAULT: &str = "authentication";
    /// Rules mapping Kerberos principals to short user names (`RULE:[n:fmt](regex)s/x/y/`,
    /// `DEFAULT`), one per line.
    HADOOP_SECURITY_AUTH_TO_LOCAL = "hadoop.security.auth_to_local", Text,
        default HADOOP_SECURITY_AUTH_TO_LOCAL_DEFAULT,
        typed HADOOP_SECURITY_AUTH_TO_LOCAL_DEFAULT: &str = "DEFAULT";
    /// Service-level authorization: with Kerberos, only DataNodes may speak
    /// DatanodeProtocol and only NameNodes may write to JournalNodes (Hadoop's protocol
    /// client-principal pins).
    HADOOP_SECURITY_AUTHORIZATION = "hadoop.security.authorization", Bool, default "false",
        typed HADOOP_SECURITY_AUTHORIZATION_DEFAULT: bool = false;
    /// Users (`u1,u2`, then after a blank groups; `*` for all) who may ask a failover
    /// controller to cede or fail over, besides the user it runs as, and who may use a
    /// secure NameNode's `/imagetransfer`, besides the NameNodes.
    DFS_CLUSTER_ADMINISTRATORS = "dfs.cluster.administrators", Text, default " ";
    /// The NameNode's Kerberos principal (`nn/_HOST@REALM`; `_HOST` becomes the host of
    /// the address it serves or, for a client, connects to). Its controller uses it too.
    DFS_NAMENODE_KERBEROS_PRINCIPAL = "dfs.namenode.kerberos.principal", Text, per_nameservice = true;
    /// Keytab holding the NameNode principal's keys.
    DFS_NAMENODE_KEYTAB_FILE = "dfs.namenode.keytab.file", Text, per_nameservice = true;
    /// The DataNode's Kerberos principal (`dn/_HOST@REALM`).
    DFS_DATANODE_KERBEROS_PRINCIPAL = "dfs.datanode.kerberos.principal", Text;
    /// Keytab holding the DataNode principal's keys.
    DFS_DATANODE_KEYTAB_FILE = "dfs.datanode.keytab.file", Text;
    /// The JournalNode's Kerberos principal (`jn/_HOST@REALM`).
    DFS_JOURNALNODE_KERBEROS_PRINCIPAL = "dfs.journalnode.kerberos.principal", Text;
    /// Keytab holding the JournalNode principal's keys.
    DFS_JOURNALNODE_KEYTAB_FILE = "dfs.journalnode.keytab.file", Text;
    /// The SPNEGO principal of the daemons' HTTP servers (`HTTP/_HOST@REALM`); in
    /// secure mode every HTTP request must authenticate to it.
    DFS_WEB_AUTHENTICATION_KERBEROS_PRINCIPAL = "dfs.web.authentication.kerberos.principal", Text;
    /// Keytab holding the HTTP principal's keys; unset means the daemon's own keytab
    /// (`dfs.namenode.keytab.file` on a NameNode).
    DFS_WEB_AUTHENTICATION_KERBEROS_KEYTAB = "dfs.web.authentication.kerberos.keytab", Text;
    /// The NameNode HTTP server's SPNEGO principal; unset means
    /// `dfs.web.authentication.kerberos.principal`.
    DFS_NAMENODE_KERBEROS_INTERNAL_SPNEGO_PRINCIPAL = "dfs.namenode.kerberos.internal.spnego.principal", Text,
        per_nameservice = true;

    // Block access tokens and data-transfer protection
    /// Whether the NameNode issues block access tokens and DataNodes require them.
    DFS_BLOCK_ACCESS_TOKEN_ENABLE = "dfs.block.access.token.enable", Bool, default "false",
        typed DFS_BLOCK_ACCESS_TOKEN_ENABLE_DEFAULT: bool = false;
    /// Minutes between block key rolls on the NameNode.
    DFS_BLOCK_ACCESS_KEY_UPDATE_INTERVAL = "dfs.block.access.key.update.interval",
        POSITIVE_LONG, default "600",
        typed DFS_BLOCK_ACCESS_KEY_UPDATE_INTERVAL_DEFAULT: i64 = 600;
    /// Minutes a block access token stays valid.
    DFS_BLOCK_ACCESS_TOKEN_LIFETIME = "dfs.block.access.token.lifetime", POSITIVE_LONG,
        default "600", typed DFS_BLOCK_ACCESS_TOKEN_LIFETIME_DEFAULT: i64 = 600;
    /// SASL protection of DataTransferProtocol connections: a comma-separated subset of
    /// `authentication`, `integrity`, `privacy`; unset: no handshake.
    DFS_DATA_TRANSFER_PROTECTION = "dfs.data.transfer.protection", List;
    /// `AES/CTR/NoPadding` (the only suite): at privacy, encrypt the data stream with
    /// AES/CTR instead of the SASL layer when both ends set it; unset: no offer.
    DFS_ENCRYPT_DATA_TRANSFER_CIPHER_SUITES = "dfs.encrypt.data.transfer.cipher.suites",
        Choice(&["AES/CTR/NoPadding"]);
    /// Bits of the AES keys a DataNode generates for an AES/CTR data stream.
    DFS_ENCRYPT_DATA_TRANSFER_CIPHER_KEY_BITLENGTH =
        "dfs.encrypt.data.transfer.cipher.key.bitlength", Choice(&["128", "192", "256"]),
        default "128";

    // HA addressing
    /// Comma-separated nameservice ids.
    DFS_NAMESERVICES = "dfs.nameservices", List;
    /// The nameservices this cluster's DataNodes register with (one block pool each);
    /// unset: all of `dfs.nameservices`. Lets one configuration also name other
    /// clusters' nameservices for clients.
    DFS_INTERNAL_NAMESERVICES = "dfs.internal.nameservices", List;
    /// The nameservice this NameNode (or its failover controller) belongs to; unset: the
    /// one with a local NameNode RPC address.
    DFS_NAMESERVICE_ID = "dfs.nameservice.id", Text;
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
    /// `dfs.client.failover.observer.auto-msync-period.<ns>`: how stale a Java
    /// ObserverReadProxyProvider client lets its state get before it msyncs (-1 never,
    /// 0 before every read). Client-only; hafs daemons do not read it.
    DFS_CLIENT_FAILOVER_OBSERVER_AUTO_MSYNC_PERIOD_PREFIX = "dfs.client.failover.observer.auto-msync-period", Text,
        per_nameservice = true;
    /// Whether ZKFCs fail the nameservice over on their own.
    DFS_HA_AUTOMATIC_FAILOVER_ENABLED = "dfs.ha.automatic-failover.enabled", Bool, default "false",
        typed DFS_HA_AUTOMATIC_FAILOVER_ENABLED_DEFAULT: bool = false, per_nameservice = true;
    /// Comma-separated ZooKeeper `host:port` list; no default.
    HA_ZOOKEEPER_QUORUM = "ha.zookeeper.quorum", List;
    /// Newline-separated fencing methods (`shell(...)`, `sshfence`); no default.
    DFS_HA_FENCING_METHODS = "dfs.ha.fencing.methods", Text, per_nameservice = true;
    /// The ZKFC's RPC port (`.<ns>.<nn>` suffixes give each NameNode's ZKFC its own).
    DFS_HA_ZKFC_PORT = "dfs.ha.zkfc.port", int(0, 65535), default "8019",
        typed DFS_HA_ZKFC_PORT_DEFAULT: u32 = 8019, per_nameservice = true;
    /// How often a Standby NameNode looks for new edits (seconds when unsuffixed). Hadoop's
    /// default is 60 s; ours is 10 ms, because in-progress tailing keeps a Standby within
    /// milliseconds of the Active (docs/ha.md, "Tailing lag").
    DFS_HA_TAIL_EDITS_PERIOD = "dfs.ha.tail-edits.period", Duration(TimeUnit::Seconds),
        default "10ms", typed DFS_HA_TAIL_EDITS_PERIOD_DEFAULT_MS: u64 = 10;
    /// How often the Standby asks the Active to roll its edit log (seconds).
    DFS_HA_LOG_ROLL_PERIOD = "dfs.ha.log-roll.period", Duration(TimeUnit::Seconds), default "120s",
        typed DFS_HA_LOG_ROLL_PERIOD_DEFAULT_SECS: u64 = 120;

    // NameNode storage and checkpoints
    /// Comma-separated name dirs; each holds a full copy of VERSION, fsimages and edit
    /// segments.
    DFS_NAMENODE_NAME_DIR = "dfs.namenode.name.dir", List, default DFS_NAMENODE_NAME_DIR_DEFAULT,
        typed DFS_NAMENODE_NAME_DIR_DEFAULT: &str = "file://${hadoop.tmp.dir}/dfs/name",
        per_nameservice = true;
    /// Comma-separated local edit-log dirs.
    DFS_NAMENODE_EDITS_DIR = "dfs.namenode.edits.dir", List, default DFS_NAMENODE_EDITS_DIR_DEFAULT,
        typed DFS_NAMENODE_EDITS_DIR_DEFAULT: &str = "${dfs.namenode.name.dir}",
        per_nameservice = true;
    /// `qjournal://jn1:8485;jn2:8485/<journal-id>` or a shared `file://` dir; no default.
    DFS_NAMENODE_SHARED_EDITS_DIR = "dfs.namenode.shared.edits.dir", Uri, per_nameservice = true;
    /// Transactions after which the NameNode saves an fsimage on its own.
    DFS_NAMENODE_CHECKPOINT_TXNS = "dfs.namenode.checkpoint.txns", POSITIVE_LONG, default "1000000",
        typed DFS_NAMENODE_CHECKPOINT_TXNS_DEFAULT: u64 = 1_000_000;
    /// Longest time between fsimages the NameNode saves on its own (seconds when
    /// unsuffixed).
    DFS_NAMENODE_CHECKPOINT_PERIOD = "dfs.namenode.checkpoint.period", Duration(TimeUnit::Seconds),
        default "3600s", typed DFS_NAMENODE_CHECKPOINT_PERIOD_DEFAULT_SECS: u64 = 3600;
    /// How often the checkpoint conditions are checked (seconds when unsuffixed).
    DFS_NAMENODE_CHECKPOINT_CHECK_PERIOD = "dfs.namenode.checkpoint.check.period",
        Duration(TimeUnit::Seconds), default "60s",
        typed DFS_NAMENODE_CHECKPOINT_CHECK_PERIOD_DEFAULT_SECS: u64 = 60;
    /// How often the NameNode rolls the master key that signs delegation tokens
    /// (milliseconds, as Hadoop reads it with getLong).
    DFS_NAMENODE_DELEGATION_KEY_UPDATE_INTERVAL = "dfs.namenode.delegation.key.update-interval",
        POSITIVE_LONG, default "86400000",
        typed DFS_NAMENODE_DELEGATION_KEY_UPDATE_INTERVAL_DEFAULT: u64 = 86_400_000;
    /// How long a delegation token lives without a renewal (milliseconds).
    DFS_NAMENODE_DELEGATION_TOKEN_RENEW_INTERVAL = "dfs.namenode.delegation.token.renew-interval",
        POSITIVE_LONG, default "86400000",
        typed DFS_NAMENODE_DELEGATION_TOKEN_RENEW_INTERVAL_DEFAULT: u64 = 86_400_000;
    /// How long a delegation token can live at most, renewals included (milliseconds).
    DFS_NAMENODE_DELEGATION_TOKEN_MAX_LIFETIME = "dfs.namenode.delegation.token.max-lifetime",
        POSITIVE_LONG, default "604800000",
        typed DFS_NAMENODE_DELEGATION_TOKEN_MAX_LIFETIME_DEFAULT: u64 = 604_800_000;
    /// Fsimages kept.
    DFS_NAMENODE_NUM_CHECKPOINTS_RETAINED = "dfs.namenode.num.checkpoints.retained", POSITIVE_INT,
        default "2", typed DFS_NAMENODE_NUM_CHECKPOINTS_RETAINED_DEFAULT: u32 = 2;
    /// Edits kept beyond the oldest retained image.
    DFS_NAMENODE_NUM_EXTRA_EDITS_RETAINED = "dfs.namenode.num.extra.edits.retained",
        NON_NEGATIVE_LONG, default "1000000",
        typed DFS_NAMENODE_NUM_EXTRA_EDITS_RETAINED_DEFAULT: u64 = 1_000_000;
    /// Whether `namenode -format` may run.
    DFS_NAMENODE_SUPPORT_ALLOW_FORMAT = "dfs.namenode.support.allow.format", Bool, default "true",
        typed DFS_NAMENODE_SUPPORT_ALLOW_FORMAT_DEFAULT: bool = true;

    // Namespace behaviour
    /// Replication of new files.
    DFS_REPLICATION = "dfs.replication", int(1, 32767), default "3",
        typed DFS_REPLICATION_DEFAULT: u32 = 3;
    /// Largest replication a file may ask for.
    DFS_REPLICATION_MAX = "dfs.replication.max", int(1, 32767), default "512",
        typed DFS_REPLICATION_MAX_DEFAULT: u32 = 512;
    /// Replicas a block needs to be complete (and safe).
    DFS_NAMENODE_REPLICATION_MIN = "dfs.namenode.replication.min", int(1, 32767), default "1",
        typed DFS_NAMENODE_REPLICATION_MIN_DEFAULT: u32 = 1;
    /// Block size of new files; size suffixes allowed (`128m`).
    DFS_BLOCKSIZE = "dfs.blocksize", Size, default "134217728",
        typed DFS_BLOCKSIZE_DEFAULT: u64 = 134_217_728;
    /// Smallest block size a file may ask for.
    DFS_NAMENODE_FS_LIMITS_MIN_BLOCK_SIZE = "dfs.namenode.fs-limits.min-block-size", Size,
        default "1048576", typed DFS_NAMENODE_FS_LIMITS_MIN_BLOCK_SIZE_DEFAULT: u64 = 1_048_576;
    /// Most blocks one file may have.
    DFS_NAMENODE_FS_LIMITS_MAX_BLOCKS_PER_FILE = "dfs.namenode.fs-limits.max-blocks-per-file",
        POSITIVE_LONG, default "10000",
        typed DFS_NAMENODE_FS_LIMITS_MAX_BLOCKS_PER_FILE_DEFAULT: u64 = 10_000;
    /// Longest path component; 0 disables the check.
    DFS_NAMENODE_FS_LIMITS_MAX_COMPONENT_LENGTH = "dfs.namenode.fs-limits.max-component-length",
        NON_NEGATIVE_INT, default "255",
        typed DFS_NAMENODE_FS_LIMITS_MAX_COMPONENT_LENGTH_DEFAULT: u32 = 255;
    /// Most children per directory; Hadoop refuses values below 1 or above 6400000.
    DFS_NAMENODE_FS_LIMITS_MAX_DIRECTORY_ITEMS = "dfs.namenode.fs-limits.max-directory-items",
        int(1, 6_400_000), default "1048576",
        typed DFS_NAMENODE_FS_LIMITS_MAX_DIRECTORY_ITEMS_DEFAULT: u32 = 1_048_576;
    /// Most snapshots one snapshottable directory may have (createSnapshot refuses more).
    DFS_NAMENODE_SNAPSHOT_MAX_LIMIT = "dfs.namenode.snapshot.max.limit",
        NON_NEGATIVE_INT, default "65536",
        typed DFS_NAMENODE_SNAPSHOT_MAX_LIMIT_DEFAULT: u32 = 65536;
    /// Storage policies may be set and unset (setStoragePolicy, unsetStoragePolicy);
    /// false refuses both, as Hadoop does. Placement follows policies already set.
    DFS_STORAGE_POLICY_ENABLED = "dfs.storage.policy.enabled", Bool, default "true",
        typed DFS_STORAGE_POLICY_ENABLED_DEFAULT: bool = true;
    /// Extended attributes (setXAttr, getXAttrs, listXAttrs, removeXAttr) served.
    DFS_NAMENODE_XATTRS_ENABLED = "dfs.namenode.xattrs.enabled", Bool, default "true",
        typed DFS_NAMENODE_XATTRS_ENABLED_DEFAULT: bool = true;
    /// Most user-visible (`user.*`, `trusted.*`) extended attributes one inode may have.
    DFS_NAMENODE_FS_LIMITS_MAX_XATTRS_PER_INODE = "dfs.namenode.fs-limits.max-xattrs-per-inode",
        NON_NEGATIVE_INT, default "32",
        typed DFS_NAMENODE_FS_LIMITS_MAX_XATTRS_PER_INODE_DEFAULT: u32 = 32;
    /// Largest extended attribute: name bytes plus value bytes; 1 to 32768 (size
    /// suffixes allowed, as Hadoop reads it with getLongBytes).
    DFS_NAMENODE_FS_LIMITS_MAX_XATTR_SIZE = "dfs.namenode.fs-limits.max-xattr-size", Size,
        default "16384", typed DFS_NAMENODE_FS_LIMITS_MAX_XATTR_SIZE_DEFAULT: u64 = 16_384;
    /// Entries per getListing reply; Hadoop uses the default for values <= 0.
    DFS_LS_LIMIT = "dfs.ls.limit", INT, default "1000",
        typed DFS_LS_LIMIT_DEFAULT: i64 = 1000;
    /// Entries per getSnapshotDiffReportListing reply (`hdfs snapshotDiff` between two
    /// snapshots pages through the diff).
    DFS_NAMENODE_SNAPSHOT_DIFF_LISTING_LIMIT = "dfs.snapshotdiff-report.limit", POSITIVE_INT,
        default "1000", typed DFS_NAMENODE_SNAPSHOT_DIFF_LISTING_LIMIT_DEFAULT: u32 = 1000;
    /// Granularity of file access times in milliseconds; 0 disables access times.
    DFS_NAMENODE_ACCESSTIME_PRECISION = "dfs.namenode.accesstime.precision", NON_NEGATIVE_LONG,
        default "3600000", typed DFS_NAMENODE_ACCESSTIME_PRECISION_DEFAULT_MS: u64 = 3_600_000;
    /// Minutes (Hadoop reads it as a float); 0 disables trash.
    FS_TRASH_INTERVAL = "fs.trash.interval", Float, default "0",
        typed FS_TRASH_INTERVAL_DEFAULT_MINUTES: f64 = 0.0;
    /// POSIX-style permission checks.
    DFS_PERMISSIONS_ENABLED = "dfs.permissions.enabled", Bool, default "true",
        typed DFS_PERMISSIONS_ENABLED_DEFAULT: bool = true;
    /// ACLs (setAcl, getAclStatus, ...); off, the ACL calls answer AclException.
    DFS_NAMENODE_ACLS_ENABLED = "dfs.namenode.acls.enabled", Bool, default "true",
        typed DFS_NAMENODE_ACLS_ENABLED_DEFAULT: bool = true;
    /// HDFS-6962: under a directory with a default ACL, a new inode's mode is the
    /// client's unmasked one (the default ACL filters it instead of the umask).
    DFS_NAMENODE_POSIX_ACL_INHERITANCE_ENABLED = "dfs.namenode.posix.acl.inheritance.enabled",
        Bool, default "true",
        typed DFS_NAMENODE_POSIX_ACL_INHERITANCE_ENABLED_DEFAULT: bool = true;
    /// Members are superusers (besides the NameNode's own user).
    DFS_PERMISSIONS_SUPERUSERGROUP = "dfs.permissions.superusergroup", Text,
        default DFS_PERMISSIONS_SUPERUSERGROUP_DEFAULT,
        typed DFS_PERMISSIONS_SUPERUSERGROUP_DEFAULT: &str = "supergroup";
    /// Client-side umask (octal or symbolic).
    FS_PERMISSIONS_UMASK_MODE = "fs.permissions.umask-mode", Umask, default "022",
        typed FS_PERMISSIONS_UMASK_MODE_DEFAULT: u16 = 0o022;
    /// Seconds after which the NameNode recovers the lease of a silent writer.
    DFS_NAMENODE_LEASE_HARD_LIMIT_SEC = "dfs.namenode.lease-hard-limit-sec", POSITIVE_LONG,
        default "1200", typed DFS_NAMENODE_LEASE_HARD_LIMIT_SEC_DEFAULT: u64 = 1200;

    // NameNode RPC service, retry cache, safe mode
    /// NameNode RPC handler tasks.
    DFS_NAMENODE_HANDLER_COUNT = "dfs.namenode.handler.count", POSITIVE_INT, default "10",
        typed DFS_NAMENODE_HANDLER_COUNT_DEFAULT: u32 = 10;
    /// De-duplicate retried at-most-once calls.
    DFS_NAMENODE_ENABLE_RETRY_CACHE = "dfs.namenode.enable.retrycache", Bool, default "true",
        typed DFS_NAMENODE_ENABLE_RETRY_CACHE_DEFAULT: bool = true;
    /// How long a retry is recognised (ms).
    DFS_NAMENODE_RETRY_CACHE_EXPIRYTIME_MILLIS = "dfs.namenode.retrycache.expirytime.millis",
        NON_NEGATIVE_LONG, default "600000",
        typed DFS_NAMENODE_RETRY_CACHE_EXPIRYTIME_MILLIS_DEFAULT: u64 = 600_000;
    /// The retry cache's byte budget, as a percentage of `hafs.namenode.memory.bytes`.
    DFS_NAMENODE_RETRY_CACHE_HEAP_PERCENT = "dfs.namenode.retrycache.heap.percent", Float,
        default "0.03f", typed DFS_NAMENODE_RETRY_CACHE_HEAP_PERCENT_DEFAULT: f64 = 0.03;
    /// hafs: the memory that Hadoop's `*.heap.percent` keys take their share of (Hadoop:
    /// the JVM's maximum heap). Unset: the process's cgroup memory limit, else the
    /// machine's memory.
    HAFS_NAMENODE_MEMORY_BYTES = "hafs.namenode.memory.bytes", Size;
    /// Share of blocks that must be reported before safe mode ends.
    DFS_NAMENODE_SAFEMODE_THRESHOLD_PCT = "dfs.namenode.safemode.threshold-pct", Float,
        default "0.999f", typed DFS_NAMENODE_SAFEMODE_THRESHOLD_PCT_DEFAULT: f64 = 0.999;
    /// Live DataNodes needed before safe mode ends.
    DFS_NAMENODE_SAFEMODE_MIN_DATANODES = "dfs.namenode.safemode.min.datanodes", NON_NEGATIVE_INT,
        default "0", typed DFS_NAMENODE_SAFEMODE_MIN_DATANODES_DEFAULT: u32 = 0;
    /// How long safe mode lasts after its threshold is reached (milliseconds when
    /// unsuffixed).
    DFS_NAMENODE_SAFEMODE_EXTENSION = "dfs.namenode.safemode.extension", Duration(TimeUnit::Millis),
        default "30000", typed DFS_NAMENODE_SAFEMODE_EXTENSION_DEFAULT_MS: u64 = 30_000;

    // Data path and DataNodes
    /// Bytes covered by one CRC.
    DFS_BYTES_PER_CHECKSUM = "dfs.bytes-per-checksum", POSITIVE_INT, default "512",
        typed DFS_BYTES_PER_CHECKSUM_DEFAULT: u32 = 512;
    /// Bytes of data per write packet.
    DFS_CLIENT_WRITE_PACKET_SIZE = "dfs.client-write-packet-size", POSITIVE_INT, default "65536",
        typed DFS_CLIENT_WRITE_PACKET_SIZE_DEFAULT: u32 = 65_536;
    /// Buffer size for file streams.
    IO_FILE_BUFFER_SIZE = "io.file.buffer.size", POSITIVE_INT, default "4096",
        typed IO_FILE_BUFFER_SIZE_DEFAULT: u32 = 4096;
    /// DataNode heartbeat period (seconds when unsuffixed).
    DFS_HEARTBEAT_INTERVAL = "dfs.heartbeat.interval", Duration(TimeUnit::Seconds), default "3s",
        typed DFS_HEARTBEAT_INTERVAL_DEFAULT_SECS: u64 = 3;
    /// Milliseconds between checks for dead DataNodes (a DataNode is dead after twice
    /// this plus ten heartbeats).
    DFS_NAMENODE_HEARTBEAT_RECHECK_INTERVAL = "dfs.namenode.heartbeat.recheck-interval",
        NON_NEGATIVE_LONG, default "300000",
        typed DFS_NAMENODE_HEARTBEAT_RECHECK_INTERVAL_DEFAULT_MS: u64 = 300_000;
    /// Milliseconds without a heartbeat after which a DataNode counts as stale.
    DFS_NAMENODE_STALE_DATANODE_INTERVAL = "dfs.namenode.stale.datanode.interval",
        NON_NEGATIVE_LONG, default "30000",
        typed DFS_NAMENODE_STALE_DATANODE_INTERVAL_DEFAULT_MS: u64 = 30_000;
    /// Milliseconds between a DataNode's full block reports.
    DFS_BLOCKREPORT_INTERVAL_MSEC = "dfs.blockreport.intervalMsec", NON_NEGATIVE_LONG,
        default "21600000", typed DFS_BLOCKREPORT_INTERVAL_MSEC_DEFAULT: u64 = 21_600_000;
    /// Milliseconds a DataNode batches incremental block reports for; 0 (Hadoop's
    /// default) sends a finalized or deleted replica at once. Clients that do not retry
    /// addBlock's NotReplicatedYetException (hdfs-native) depend on it being prompt.
    DFS_BLOCKREPORT_INCREMENTAL_INTERVAL_MSEC = "dfs.blockreport.incremental.intervalMsec",
        NON_NEGATIVE_LONG, default "0",
        typed DFS_BLOCKREPORT_INCREMENTAL_INTERVAL_MSEC_DEFAULT: u64 = 0;
    /// Comma-separated DataNode storage dirs (`[DISK]` prefixes allowed).
    DFS_DATANODE_DATA_DIR = "dfs.datanode.data.dir", List, default DFS_DATANODE_DATA_DIR_DEFAULT,
        typed DFS_DATANODE_DATA_DIR_DEFAULT: &str = "file://${hadoop.tmp.dir}/dfs/data";
    /// DataNode data-transfer address.
    DFS_DATANODE_ADDRESS = "dfs.datanode.address", Address, default DFS_DATANODE_ADDRESS_DEFAULT,
        typed DFS_DATANODE_ADDRESS_DEFAULT: &str = "0.0.0.0:9866";
    /// DataNode RPC address.
    DFS_DATANODE_IPC_ADDRESS = "dfs.datanode.ipc.address", Address,
        default DFS_DATANODE_IPC_ADDRESS_DEFAULT,
        typed DFS_DATANODE_IPC_ADDRESS_DEFAULT: &str = "0.0.0.0:9867";
    /// DataNode HTTP address.
    DFS_DATANODE_HTTP_ADDRESS = "dfs.datanode.http.address", Address,
        default DFS_DATANODE_HTTP_ADDRESS_DEFAULT,
        typed DFS_DATANODE_HTTP_ADDRESS_DEFAULT: &str = "0.0.0.0:9864";
    /// Whether the NameNode and DataNode HTTP servers serve WebHDFS (`/webhdfs/v1`,
    /// docs/webhdfs.md).
    DFS_WEBHDFS_ENABLED = "dfs.webhdfs.enabled", Bool, default "true",
        typed DFS_WEBHDFS_ENABLED_DEFAULT: bool = true;
    /// The names WebHDFS accepts in `user.name` and `doas` (a regular expression).
    DFS_WEBHDFS_USER_PATTERN = "dfs.webhdfs.user.provider.user.pattern", Text,
        default DFS_WEBHDFS_USER_PATTERN_DEFAULT,
        typed DFS_WEBHDFS_USER_PATTERN_DEFAULT: &str = "^[A-Za-z_][A-Za-z0-9._-]*[$]?$";
    /// Pipeline set-ups a writer tries for one new block.
    DFS_CLIENT_BLOCK_WRITE_RETRIES = "dfs.client.block.write.retries", NON_NEGATIVE_INT,
        default "3", typed DFS_CLIENT_BLOCK_WRITE_RETRIES_DEFAULT: u32 = 3;

    // JournalNodes
    /// Where a JournalNode keeps its journals (absolute local path).
    DFS_JOURNALNODE_EDITS_DIR = "dfs.journalnode.edits.dir", Text,
        default DFS_JOURNALNODE_EDITS_DIR_DEFAULT,
        typed DFS_JOURNALNODE_EDITS_DIR_DEFAULT: &str = "/tmp/hadoop/dfs/journalnode/";
    /// JournalNode RPC address.
    DFS_JOURNALNODE_RPC_ADDRESS = "dfs.journalnode.rpc-address", Address,
        default DFS_JOURNALNODE_RPC_ADDRESS_DEFAULT,
        typed DFS_JOURNALNODE_RPC_ADDRESS_DEFAULT: &str = "0.0.0.0:8485";
    /// JournalNode HTTP address.
    DFS_JOURNALNODE_HTTP_ADDRESS = "dfs.journalnode.http-address", Address,
        default DFS_JOURNALNODE_HTTP_ADDRESS_DEFAULT,
        typed DFS_JOURNALNODE_HTTP_ADDRESS_DEFAULT: &str = "0.0.0.0:8480";

    // IPC
    /// Largest RPC frame accepted.
    IPC_MAXIMUM_DATA_LENGTH = "ipc.maximum.data.length", POSITIVE_INT, default "134217728",
        typed IPC_MAXIMUM_DATA_LENGTH_DEFAULT: u32 = 134_217_728;
    /// Most open connections an RPC server accepts; 0 = unlimited.
    IPC_SERVER_MAX_CONNECTIONS = "ipc.server.max.connections", NON_NEGATIVE_INT, default "0",
        typed IPC_SERVER_MAX_CONNECTIONS_DEFAULT: u32 = 0;
    /// Milliseconds an RPC client waits for a connection.
    IPC_CLIENT_CONNECT_TIMEOUT = "ipc.client.connect.timeout", NON_NEGATIVE_INT, default "20000",
        typed IPC_CLIENT_CONNECT_TIMEOUT_DEFAULT_MS: u64 = 20_000;
    /// Connection attempts per call.
    IPC_CLIENT_CONNECT_MAX_RETRIES = "ipc.client.connect.max.retries", NON_NEGATIVE_INT,
        default "10", typed IPC_CLIENT_CONNECT_MAX_RETRIES_DEFAULT: u32 = 10;
    /// Milliseconds between connection attempts.
    IPC_CLIENT_CONNECT_RETRY_INTERVAL = "ipc.client.connect.retry.interval", NON_NEGATIVE_INT,
        default "1000", typed IPC_CLIENT_CONNECT_RETRY_INTERVAL_DEFAULT_MS: u64 = 1000;
    /// Milliseconds an RPC client waits for an answer; 0 = no timeout (Hadoop 3.3+
    /// default is 120000, HADOOP-17552).
    IPC_CLIENT_RPC_TIMEOUT_MS = "ipc.client.rpc-timeout.ms", NON_NEGATIVE_INT, default "120000",
        typed IPC_CLIENT_RPC_TIMEOUT_MS_DEFAULT: u64 = 120_000;
    /// Milliseconds an idle RPC client connection is kept.
    IPC_CLIENT_CONNECTION_MAXIDLETIME = "ipc.client.connection.maxidletime", NON_NEGATIVE_INT,
        default "10000", typed IPC_CLIENT_CONNECTION_MAXIDLETIME_DEFAULT_MS: u64 = 10_000;

    // Client failover
    /// Failovers a client tries before giving up.
    DFS_CLIENT_FAILOVER_MAX_ATTEMPTS = "dfs.client.failover.max.attempts", NON_NEGATIVE_INT,
        default "15", typed DFS_CLIENT_FAILOVER_MAX_ATTEMPTS_DEFAULT: u32 = 15;
    /// First back-off between failovers (ms).
    DFS_CLIENT_FAILOVER_SLEEP_BASE_MILLIS = "dfs.client.failover.sleep.base.millis",
        NON_NEGATIVE_INT, default "500",
        typed DFS_CLIENT_FAILOVER_SLEEP_BASE_MILLIS_DEFAULT: u64 = 500;
    /// Longest back-off between failovers (ms).
    DFS_CLIENT_FAILOVER_SLEEP_MAX_MILLIS = "dfs.client.failover.sleep.max.millis", NON_NEGATIVE_INT,
        default "15000", typed DFS_CLIENT_FAILOVER_SLEEP_MAX_MILLIS_DEFAULT: u64 = 15_000;
    /// Connection retries before failing over.
    DFS_CLIENT_FAILOVER_CONNECTION_RETRIES = "dfs.client.failover.connection.retries",
        NON_NEGATIVE_INT, default "0",
        typed DFS_CLIENT_FAILOVER_CONNECTION_RETRIES_DEFAULT: u32 = 0;

    // NameNode HA
    /// This NameNode's id within its nameservice; unset: the one whose RPC address is
    /// local.
    DFS_HA_NAMENODE_ID = "dfs.ha.namenode.id", Text;
    /// Whether a Standby also tails the in-progress edit segment. hafs's default is true
    /// (Hadoop's: false), which keeps a Standby within milliseconds of the Active.
    DFS_HA_TAIL_EDITS_INPROGRESS = "dfs.ha.tail-edits.in-progress", Bool, default "true",
        typed DFS_HA_TAIL_EDITS_INPROGRESS_DEFAULT: bool = true;
    /// A Standby serves READ-category calls from its namespace (which may trail the
    /// Active's by the tailing lag) instead of refusing them with StandbyException.
    DFS_HA_ALLOW_STALE_READS = "dfs.ha.allow.stale.reads", Bool, default "false",
        typed DFS_HA_ALLOW_STALE_READS_DEFAULT: bool = false;
    /// Every RPC response of the NameNode carries its state id (last txid written or
    /// applied), and an Observer serves coordinated reads only once it has applied the
    /// client's state id. Needed on every NameNode of a nameservice with Observers.
    DFS_NAMENODE_STATE_CONTEXT_ENABLED = "dfs.namenode.state.context.enabled", Bool,
        default "false", typed DFS_NAMENODE_STATE_CONTEXT_ENABLED_DEFAULT: bool = false;

    // Failover controller (ZKFC) and fencing
    /// Milliseconds between the ZKFC's health checks of its NameNode.
    HA_HEALTH_MONITOR_CHECK_INTERVAL_MS = "ha.health-monitor.check-interval.ms",
        Duration(TimeUnit::Millis), default "1000",
        typed HA_HEALTH_MONITOR_CHECK_INTERVAL_MS_DEFAULT: u64 = 1000;
    /// Milliseconds a health check may take before the NameNode counts as not responding.
    HA_HEALTH_MONITOR_RPC_TIMEOUT_MS = "ha.health-monitor.rpc-timeout.ms",
        Duration(TimeUnit::Millis), default "45000",
        typed HA_HEALTH_MONITOR_RPC_TIMEOUT_MS_DEFAULT: u64 = 45_000;
    /// Milliseconds the graceful transitionToStandby of the old Active may take.
    HA_FAILOVER_CONTROLLER_GRACEFUL_FENCE_RPC_TIMEOUT_MS =
        "ha.failover-controller.graceful-fence.rpc-timeout.ms", NON_NEGATIVE_LONG,
        default "5000",
        typed HA_FAILOVER_CONTROLLER_GRACEFUL_FENCE_RPC_TIMEOUT_MS_DEFAULT: u64 = 5000;
    /// Milliseconds the new Active's transitionToActive may take.
    HA_FAILOVER_CONTROLLER_NEW_ACTIVE_RPC_TIMEOUT_MS =
        "ha.failover-controller.new-active.rpc-timeout.ms", NON_NEGATIVE_LONG,
        default "60000",
        typed HA_FAILOVER_CONTROLLER_NEW_ACTIVE_RPC_TIMEOUT_MS_DEFAULT: u64 = 60_000;
    /// Milliseconds haadmin's status and health calls may take.
    HA_FAILOVER_CONTROLLER_CLI_CHECK_RPC_TIMEOUT_MS =
        "ha.failover-controller.cli-check.rpc-timeout.ms", NON_NEGATIVE_LONG,
        default "20000",
        typed HA_FAILOVER_CONTROLLER_CLI_CHECK_RPC_TIMEOUT_MS_DEFAULT: u64 = 20_000;
    /// Comma-separated private key files for `sshfence`.
    DFS_HA_FENCING_SSH_PRIVATE_KEY_FILES = "dfs.ha.fencing.ssh.private-key-files", List;
    /// Milliseconds `sshfence` waits for its SSH connection.
    DFS_HA_FENCING_SSH_CONNECT_TIMEOUT = "dfs.ha.fencing.ssh.connect-timeout",
        Duration(TimeUnit::Millis), default "30000",
        typed DFS_HA_FENCING_SSH_CONNECT_TIMEOUT_DEFAULT_MS: u64 = 30_000;
    /// hafs: how long a `shell(...)` fencing command may run before it is killed and
    /// counted as failed (seconds when unsuffixed). Hadoop's shell fencer waits forever.
    DFS_HA_FENCING_SHELL_TIMEOUT = "dfs.ha.fencing.shell.timeout",
        Duration(TimeUnit::Seconds), default "60s",
        typed DFS_HA_FENCING_SHELL_TIMEOUT_DEFAULT_SECS: u64 = 60;

    // ZooKeeper election
    /// Milliseconds; the ZKFC's ZooKeeper session timeout.
    HA_ZOOKEEPER_SESSION_TIMEOUT_MS = "ha.zookeeper.session-timeout.ms",
        Duration(TimeUnit::Millis), default "10000",
        typed HA_ZOOKEEPER_SESSION_TIMEOUT_MS_DEFAULT: u64 = 10_000;
    /// The znode under which each nameservice's election lock lives.
    HA_ZOOKEEPER_PARENT_ZNODE = "ha.zookeeper.parent-znode", Text,
        default HA_ZOOKEEPER_PARENT_ZNODE_DEFAULT,
        typed HA_ZOOKEEPER_PARENT_ZNODE_DEFAULT: &str = "/hadoop-ha";
    /// Comma-separated ZooKeeper ACLs (`scheme:id:perms`) of the znodes the ZKFC creates.
    HA_ZOOKEEPER_ACL = "ha.zookeeper.acl", Text, default HA_ZOOKEEPER_ACL_DEFAULT,
        typed HA_ZOOKEEPER_ACL_DEFAULT: &str = "world:anyone:rwcda";
    /// Comma-separated ZooKeeper authentications (`scheme:auth`); no default.
    HA_ZOOKEEPER_AUTH = "ha.zookeeper.auth", Text;
    /// hafs: whether the lock holder guards its NameNode's reads with its session's
    /// deadline (docs/election.md). Off by default: with it, a ZooKeeper outage longer
    /// than the session timeout makes the Active refuse calls until ZooKeeper is back.
    HAFS_HA_ZOOKEEPER_READ_GUARD = "hafs.ha.zookeeper.read-guard", Bool, default "false",
        typed HAFS_HA_ZOOKEEPER_READ_GUARD_DEFAULT: bool = false;

    // Built-in election on the JournalNodes (hafs; docs/election.md)
    /// Milliseconds a lease grant lasts (and so how soon a dead holder is replaced).
    HAFS_HA_ELECTION_LEASE_MS = "hafs.ha.election.lease.ms", NON_NEGATIVE_LONG,
        default "3000", typed HAFS_HA_ELECTION_LEASE_MS_DEFAULT: u64 = 3000;
    /// Milliseconds between the holder's renewals; unset: a third of the lease.
    HAFS_HA_ELECTION_RENEW_INTERVAL_MS = "hafs.ha.election.renew-interval.ms",
        NON_NEGATIVE_LONG;
    /// Milliseconds earlier than the lease the holder considers it lost.
    HAFS_HA_ELECTION_SAFETY_MARGIN_MS = "hafs.ha.election.safety-margin.ms", NON_NEGATIVE_LONG,
        default "500", typed HAFS_HA_ELECTION_SAFETY_MARGIN_MS_DEFAULT: u64 = 500;
    /// The assumed bound on how much the rate of any host's monotonic clock differs from
    /// real time, in parts per million (10000 = 1 %); the margin must cover it.
    HAFS_HA_ELECTION_MAX_CLOCK_DRIFT_PPM = "hafs.ha.election.max-clock-drift.ppm",
        NON_NEGATIVE_LONG, default "10000",
        typed HAFS_HA_ELECTION_MAX_CLOCK_DRIFT_PPM_DEFAULT: u64 = 10_000;
    /// Milliseconds a candidate waits for a majority to answer getLeaseState /
    /// acquireLease.
    HAFS_HA_ELECTION_RPC_TIMEOUT_MS = "hafs.ha.election.rpc-timeout.ms", NON_NEGATIVE_LONG,
        default "2000", typed HAFS_HA_ELECTION_RPC_TIMEOUT_MS_DEFAULT: u64 = 2000;

    // Quorum journal (the NameNode's side) and JournalNode sync
    /// Milliseconds a batch of edits may take to reach a majority of JournalNodes.
    DFS_QJOURNAL_WRITE_TXNS_TIMEOUT_MS = "dfs.qjournal.write-txns.timeout.ms",
        NON_NEGATIVE_LONG, default "20000",
        typed DFS_QJOURNAL_WRITE_TXNS_TIMEOUT_MS_DEFAULT: u64 = 20_000;
    /// Milliseconds for startLogSegment; hafs uses the same value for the other
    /// quorum calls (finalize, recovery, newEpoch, getJournalState, ...), each of which
    /// has its own key in Hadoop.
    DFS_QJOURNAL_START_SEGMENT_TIMEOUT_MS = "dfs.qjournal.start-segment.timeout.ms",
        NON_NEGATIVE_LONG, default "20000",
        typed DFS_QJOURNAL_START_SEGMENT_TIMEOUT_MS_DEFAULT: u64 = 20_000;
    /// MiB of edits queued for one lagging JournalNode before it is left out of sync.
    DFS_QJOURNAL_QUEUED_EDITS_LIMIT_MB = "dfs.qjournal.queued-edits.limit.mb",
        NON_NEGATIVE_LONG, default "10", typed DFS_QJOURNAL_QUEUED_EDITS_LIMIT_MB_DEFAULT: u64 = 10;
    /// hafs: milliseconds after writes pause before the JournalNodes learn that the
    /// last batch is committed (clamped to 1..=60000).
    HAFS_QJOURNAL_COMMIT_HEARTBEAT_MS = "hafs.qjournal.commit-heartbeat.ms", NON_NEGATIVE_LONG,
        default "10", typed HAFS_QJOURNAL_COMMIT_HEARTBEAT_MS_DEFAULT: u64 = 10;
    /// Milliseconds between a JournalNode's syncs of missing segments from its peers.
    DFS_JOURNALNODE_SYNC_INTERVAL = "dfs.journalnode.sync.interval", NON_NEGATIVE_LONG,
        default "120000", typed DFS_JOURNALNODE_SYNC_INTERVAL_DEFAULT_MS: u64 = 120_000;
    /// Whether JournalNodes copy missing segments from their peers.
    DFS_JOURNALNODE_ENABLE_SYNC = "dfs.journalnode.enable.sync", Bool, default "true",
        typed DFS_JOURNALNODE_ENABLE_SYNC_DEFAULT: bool = true;
    /// Whether an unformatted JournalNode formats itself from a peer while syncing.
    /// hafs's default is true (Hadoop's: false).
    DFS_JOURNALNODE_ENABLE_SYNC_FORMAT = "dfs.journalnode.enable.sync.format", Bool,
        default "true", typed DFS_JOURNALNODE_ENABLE_SYNC_FORMAT_DEFAULT: bool = true;

    // Block management
    /// How often the redundancy monitor runs (seconds when unsuffixed).
    DFS_NAMENODE_REDUNDANCY_INTERVAL = "dfs.namenode.redundancy.interval.seconds",
        Duration(TimeUnit::Seconds), default "3s",
        typed DFS_NAMENODE_REDUNDANCY_INTERVAL_DEFAULT_SECS: u64 = 3;
    /// Replica transfers a DataNode is given at once.
    DFS_NAMENODE_REPLICATION_MAX_STREAMS = "dfs.namenode.replication.max-streams",
        NON_NEGATIVE_INT, default "2",
        typed DFS_NAMENODE_REPLICATION_MAX_STREAMS_DEFAULT: u32 = 2;
    /// The transfer limit for highest-priority work.
    DFS_NAMENODE_REPLICATION_STREAMS_HARD_LIMIT =
        "dfs.namenode.replication.max-streams-hard-limit", NON_NEGATIVE_INT, default "4",
        typed DFS_NAMENODE_REPLICATION_STREAMS_HARD_LIMIT_DEFAULT: u32 = 4;
    /// When a scheduled copy is retried (seconds when unsuffixed).
    DFS_NAMENODE_RECONSTRUCTION_PENDING_TIMEOUT =
        "dfs.namenode.reconstruction.pending.timeout-sec", Duration(TimeUnit::Seconds),
        default "300", typed DFS_NAMENODE_RECONSTRUCTION_PENDING_TIMEOUT_DEFAULT_SECS: u64 = 300;
    /// Deletions sent to one DataNode per heartbeat.
    DFS_BLOCK_INVALIDATE_LIMIT = "dfs.block.invalidate.limit", NON_NEGATIVE_INT,
        default "1000", typed DFS_BLOCK_INVALIDATE_LIMIT_DEFAULT: u32 = 1000;

    // Rack awareness (network topology)
    /// How DataNode addresses map to racks: `org.apache.hadoop.net.ScriptBasedMapping`
    /// (runs `net.topology.script.file.name`; without a script every node is in
    /// `/default-rack`) or `org.apache.hadoop.net.TableMapping` (reads
    /// `net.topology.table.file.name`).
    NET_TOPOLOGY_NODE_SWITCH_MAPPING_IMPL = "net.topology.node.switch.mapping.impl", Text,
        default NET_TOPOLOGY_NODE_SWITCH_MAPPING_IMPL_DEFAULT,
        typed NET_TOPOLOGY_NODE_SWITCH_MAPPING_IMPL_DEFAULT: &str =
            "org.apache.hadoop.net.ScriptBasedMapping";
    /// The topology script: given IP addresses as arguments, it prints one rack path
    /// (`/rack1`) per argument; on failure every node goes to `/default-rack`.
    NET_TOPOLOGY_SCRIPT_FILE_NAME = "net.topology.script.file.name", Text;
    /// Most addresses passed to one run of the topology script.
    NET_TOPOLOGY_SCRIPT_NUMBER_ARGS = "net.topology.script.number.args", POSITIVE_INT,
        default "100", typed NET_TOPOLOGY_SCRIPT_NUMBER_ARGS_DEFAULT: u32 = 100;
    /// TableMapping's file: one `host-or-ip rack` pair per line; unlisted hosts are in
    /// `/default-rack`.
    NET_TOPOLOGY_TABLE_FILE_NAME = "net.topology.table.file.name", Text;

    // Decommissioning and maintenance (the host files)
    /// The include file: DataNodes allowed to register (host names or IP addresses,
    /// optionally `:port`, white-space separated, `#` comments); unset or empty file:
    /// every DataNode. With the combined provider
    /// (`dfs.namenode.hosts.provider.classname`), the JSON file of DataNodes and their
    /// admin states instead. Re-read by `dfsadmin -refreshNodes`.
    DFS_HOSTS = "dfs.hosts", Text;
    /// The exclude file: DataNodes to decommission (same format as `dfs.hosts`).
    /// Re-read by `dfsadmin -refreshNodes`.
    DFS_HOSTS_EXCLUDE = "dfs.hosts.exclude", Text;
    /// How often the decommission monitor checks the nodes being decommissioned
    /// (seconds when unsuffixed).
    DFS_NAMENODE_DECOMMISSION_INTERVAL = "dfs.namenode.decommission.interval",
        Duration(TimeUnit::Seconds), default "30s",
        typed DFS_NAMENODE_DECOMMISSION_INTERVAL_DEFAULT_SECS: u64 = 30;
    /// Blocks the decommission monitor checks per run.
    DFS_NAMENODE_DECOMMISSION_BLOCKS_PER_INTERVAL = "dfs.namenode.decommission.blocks.per.interval",
        POSITIVE_INT, default "500000",
        typed DFS_NAMENODE_DECOMMISSION_BLOCKS_PER_INTERVAL_DEFAULT: u32 = 500_000;
    /// Nodes being decommissioned that the monitor tracks at once; more wait in a
    /// queue (0: no limit).
    DFS_NAMENODE_DECOMMISSION_MAX_CONCURRENT_TRACKED_NODES =
        "dfs.namenode.decommission.max.concurrent.tracked.nodes", NON_NEGATIVE_INT,
        default "100",
        typed DFS_NAMENODE_DECOMMISSION_MAX_CONCURRENT_TRACKED_NODES_DEFAULT: u32 = 100;
    /// Which host list provider reads `dfs.hosts`: Hadoop's
    /// `org.apache.hadoop.hdfs.server.blockmanagement.HostFileManager` (the include and
    /// exclude files) or `org.apache.hadoop.hdfs.server.blockmanagement.CombinedHostFileManager`
    /// (one JSON file of DataNodes with admin states: decommissioned, in maintenance).
    DFS_NAMENODE_HOSTS_PROVIDER_CLASSNAME = "dfs.namenode.hosts.provider.classname", Text,
        default "org.apache.hadoop.hdfs.server.blockmanagement.HostFileManager";
    /// Live replicas on in-service nodes each block must keep for a DataNode to go
    /// from entering maintenance to in maintenance (capped at the file's replication;
    /// at most `dfs.replication`).
    DFS_NAMENODE_MAINTENANCE_REPLICATION_MIN = "dfs.namenode.maintenance.replication.min",
        NON_NEGATIVE_INT, default "1",
        typed DFS_NAMENODE_MAINTENANCE_REPLICATION_MIN_DEFAULT: u32 = 1;

    // DataNode
    /// Delay before a DataNode's first full block report (seconds when unsuffixed).
    DFS_BLOCKREPORT_INITIAL_DELAY = "dfs.blockreport.initialDelay",
        Duration(TimeUnit::Seconds), default "0";
    /// Data directories that may fail before the DataNode stops; -1: all but one.
    DFS_DATANODE_FAILED_VOLUMES_TOLERATED = "dfs.datanode.failed.volumes.tolerated", INT,
        default "0";
    /// Concurrent data transfers (xceivers) a DataNode serves.
    DFS_DATANODE_MAX_TRANSFER_THREADS = "dfs.datanode.max.transfer.threads",
        NON_NEGATIVE_INT, default "4096",
        typed DFS_DATANODE_MAX_TRANSFER_THREADS_DEFAULT: u32 = 4096;
    /// The block scanner's read rate per volume (bytes per second).
    DFS_BLOCK_SCANNER_VOLUME_BYTES_PER_SECOND = "dfs.block.scanner.volume.bytes.per.second",
        Size, default "1048576",
        typed DFS_BLOCK_SCANNER_VOLUME_BYTES_PER_SECOND_DEFAULT: u64 = 1_048_576;
    /// Hours between full block scanner passes (0: the default 3 weeks, negative: no
    /// scanner).
    DFS_DATANODE_SCAN_PERIOD_HOURS = "dfs.datanode.scan.period.hours", INT, default "0";
    /// Hadoop's test-only override of the scan period, in milliseconds.
    INTERNAL_DFS_DATANODE_SCAN_PERIOD_MS = "internal.dfs.datanode.scan.period.ms.key",
        NON_NEGATIVE_LONG;
    /// The host name a DataNode registers with; unset: its address.
    DFS_DATANODE_HOSTNAME = "dfs.datanode.hostname", Text;
    /// Bytes per volume kept free for non-HDFS use: a volume's capacity is its file
    /// system's size less this.
    DFS_DATANODE_DU_RESERVED = "dfs.datanode.du.reserved", Size, default "0",
        typed DFS_DATANODE_DU_RESERVED_DEFAULT: u64 = 0;

    // Balancer
    /// Bytes per second a DataNode spends on balancer block moves (sending and
    /// receiving together); `dfsadmin -setBalancerBandwidth` changes it at run time.
    DFS_DATANODE_BALANCE_BANDWIDTHPERSEC = "dfs.datanode.balance.bandwidthPerSec", Size,
        default "100m", typed DFS_DATANODE_BALANCE_BANDWIDTHPERSEC_DEFAULT: u64 = 104_857_600;
    /// Balancer block moves a DataNode serves at once (and the balancer schedules per
    /// DataNode).
    DFS_DATANODE_BALANCE_MAX_CONCURRENT_MOVES = "dfs.datanode.balance.max.concurrent.moves",
        NON_NEGATIVE_INT, default "100",
        typed DFS_DATANODE_BALANCE_MAX_CONCURRENT_MOVES_DEFAULT: u32 = 100;
    /// Bytes of blocks the balancer asks getBlocks for at a time.
    DFS_BALANCER_GETBLOCKS_SIZE = "dfs.balancer.getBlocks.size", Size, default "2147483648",
        typed DFS_BALANCER_GETBLOCKS_SIZE_DEFAULT: u64 = 2_147_483_648;
    /// Blocks smaller than this are not moved by the balancer.
    DFS_BALANCER_GETBLOCKS_MIN_BLOCK_SIZE = "dfs.balancer.getBlocks.min-block-size", Size,
        default "10485760", typed DFS_BALANCER_GETBLOCKS_MIN_BLOCK_SIZE_DEFAULT: u64 = 10_485_760;
    /// Bytes the balancer schedules from or to one DataNode per iteration.
    DFS_BALANCER_MAX_SIZE_TO_MOVE = "dfs.balancer.max-size-to-move", Size,
        default "10737418240", typed DFS_BALANCER_MAX_SIZE_TO_MOVE_DEFAULT: u64 = 10_737_418_240;
    /// Longest balancer iteration (ms); moves still running then are waited for.
    DFS_BALANCER_MAX_ITERATION_TIME = "dfs.balancer.max-iteration-time",
        Duration(TimeUnit::Millis), default "1200000";
    /// Deadline of one block move (ms; 0: the socket timeouts only).
    DFS_BALANCER_BLOCK_MOVE_TIMEOUT = "dfs.balancer.block-move.timeout",
        Duration(TimeUnit::Millis), default "0";

    // Client data path
    /// Milliseconds a data-port read or connect may take (client and DataNode).
    DFS_CLIENT_SOCKET_TIMEOUT = "dfs.client.socket-timeout", Duration(TimeUnit::Millis),
        default "60000", typed DFS_CLIENT_SOCKET_TIMEOUT_DEFAULT_MS: u64 = 60_000;
    /// Connect to DataNodes by host name instead of IP.
    DFS_CLIENT_USE_DATANODE_HOSTNAME = "dfs.client.use.datanode.hostname", Bool,
        default "false", typed DFS_CLIENT_USE_DATANODE_HOSTNAME_DEFAULT: bool = false;
    /// Packets a writer may have unacknowledged in its pipeline.
    DFS_CLIENT_WRITE_MAX_PACKETS_IN_FLIGHT = "dfs.client.write.max-packets-in-flight",
        NON_NEGATIVE_INT, default "80",
        typed DFS_CLIENT_WRITE_MAX_PACKETS_IN_FLIGHT_DEFAULT: u32 = 80;
    /// addBlock retries while the previous block is not yet replicated.
    DFS_CLIENT_BLOCK_WRITE_LOCATEFOLLOWINGBLOCK_RETRIES =
        "dfs.client.block.write.locateFollowingBlock.retries", NON_NEGATIVE_INT,
        default "5", typed DFS_CLIENT_BLOCK_WRITE_LOCATEFOLLOWINGBLOCK_RETRIES_DEFAULT: u32 = 5;
    /// Whether a pipeline that lost a DataNode asks for a replacement (see `.policy`).
    DFS_CLIENT_BLOCK_WRITE_REPLACE_DATANODE_ON_FAILURE_ENABLE =
        "dfs.client.block.write.replace-datanode-on-failure.enable", Bool, default "true";
    /// When to replace a lost pipeline DataNode: NEVER, DEFAULT or ALWAYS.
    DFS_CLIENT_BLOCK_WRITE_REPLACE_DATANODE_ON_FAILURE_POLICY =
        "dfs.client.block.write.replace-datanode-on-failure.policy",
        Choice(&["NEVER", "DEFAULT", "ALWAYS"]), default "DEFAULT";
    /// Keep writing when no replacement DataNode can be added.
    DFS_CLIENT_BLOCK_WRITE_REPLACE_DATANODE_ON_FAILURE_BEST_EFFORT =
        "dfs.client.block.write.replace-datanode-on-failure.best-effort", Bool,
        default "false";

    // Security
    /// How long group memberships are cached (seconds when unsuffixed).
    HADOOP_SECURITY_GROUPS_CACHE_SECS = "hadoop.security.groups.cache.secs",
        Duration(TimeUnit::Seconds), default "300",
        typed HADOOP_SECURITY_GROUPS_CACHE_SECS_DEFAULT: u64 = 300;
    /// Groups that override the OS's for some users, `user=group1,group2;user2=;`
    /// (checked before the group mapping, as Hadoop's static overrides are).
    HADOOP_USER_GROUP_STATIC_MAPPING_OVERRIDES =
        "hadoop.user.group.static.mapping.overrides", Text,
        default HADOOP_USER_GROUP_STATIC_MAPPING_OVERRIDES_DEFAULT,
        typed HADOOP_USER_GROUP_STATIC_MAPPING_OVERRIDES_DEFAULT: &str = "dr.who=;";
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

    /// A typed default, whatever its type.
    #[derive(Debug)]
    pub(super) enum Typed {
        Int(i128),
        Bool(bool),
        Float(f64),
        Str(&'static str),
    }

    macro_rules! typed_from {
        ($($t:ty => $variant:ident),*) => {$(
            impl From<$t> for Typed {
                fn from(v: $t) -> Typed {
                    Typed::$variant(v.into())
                }
            }
        )*};
    }
    typed_from!(u16 => Int, u32 => Int, u64 => Int, i64 => Int, bool => Bool, f64 => Float,
        &'static str => Str);

    /// The typed constants callers use must agree with the textual defaults that
    /// `get` and `validate` see. A duration's typed default is in the unit its name
    /// ends with (`_MS`, `_SECS`), else in the key's bare-number unit.
    #[test]
    fn typed_defaults_match_textual_defaults() {
        let all = typed_defaults();
        assert!(all.len() > 80, "{}", all.len());
        for (key, typed_name, typed) in all {
            let spec = spec_for(key).unwrap();
            let text = spec
                .default
                .unwrap_or_else(|| panic!("{key} has a typed default but no textual one"));
            let agrees = match (&spec.kind, typed) {
                (_, Typed::Str(s)) => text == s,
                (ValueKind::Bool, Typed::Bool(b)) => parse_bool(text) == Some(b),
                (ValueKind::Float, Typed::Float(f)) => parse_float(text) == Some(f),
                (ValueKind::Int { .. }, Typed::Int(n)) => parse_int(text) == Some(n),
                (ValueKind::Size, Typed::Int(n)) => parse_size(text).map(i128::from) == Some(n),
                (ValueKind::Umask, Typed::Int(n)) => parse_umask(text).map(i128::from) == Some(n),
                (ValueKind::Duration(bare_unit), Typed::Int(n)) => {
                    let unit = if typed_name.ends_with("_MS") {
                        TimeUnit::Millis
                    } else if typed_name.ends_with("_SECS") {
                        TimeUnit::Seconds
                    } else {
                        *bare_unit
                    };
                    let n = u64::try_from(n).unwrap();
                    let typed = match unit {
                        TimeUnit::Millis => Duration::from_millis(n),
                        TimeUnit::Seconds => Duration::from_secs(n),
                        other => panic!("{typed_name}: unexpected unit {other:?}"),
                    };
                    parse_duration(text, *bare_unit) == Some(typed)
                }
                (kind, typed) => panic!("{typed_name}: {typed:?} cannot be a {kind:?}"),
            };
            assert!(
                agrees,
                "{typed_name} disagrees with {key}'s default {text:?}"
            );
        }
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
