//! Java exception class names carried in `RpcResponseHeaderProto.exceptionClassName`.
//!
//! Java clients turn the name back into an exception of that class (for the types they
//! unwrap), so the spelling must match Hadoop's classes exactly. Nested classes use `$`.

// java.*
pub const IO: &str = "java.io.IOException";
pub const FILE_NOT_FOUND: &str = "java.io.FileNotFoundException";
pub const EOF: &str = "java.io.EOFException";
pub const ILLEGAL_ARGUMENT: &str = "java.lang.IllegalArgumentException";
pub const ILLEGAL_STATE: &str = "java.lang.IllegalStateException";
pub const UNSUPPORTED_OPERATION: &str = "java.lang.UnsupportedOperationException";
pub const RUNTIME: &str = "java.lang.RuntimeException";

// org.apache.hadoop.fs
pub const FILE_ALREADY_EXISTS: &str = "org.apache.hadoop.fs.FileAlreadyExistsException";
pub const PARENT_NOT_DIRECTORY: &str = "org.apache.hadoop.fs.ParentNotDirectoryException";
pub const PATH_IS_NOT_EMPTY_DIRECTORY: &str =
    "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException";
pub const INVALID_PATH: &str = "org.apache.hadoop.fs.InvalidPathException";
pub const UNRESOLVED_LINK: &str = "org.apache.hadoop.fs.UnresolvedLinkException";

// org.apache.hadoop.security
pub const ACCESS_CONTROL: &str = "org.apache.hadoop.security.AccessControlException";
pub const AUTHORIZATION: &str = "org.apache.hadoop.security.authorize.AuthorizationException";
pub const SASL: &str = "javax.security.sasl.SaslException";
pub const INVALID_TOKEN: &str = "org.apache.hadoop.security.token.SecretManager$InvalidToken";

// org.apache.hadoop.ipc
pub const STANDBY: &str = "org.apache.hadoop.ipc.StandbyException";
pub const RETRIABLE: &str = "org.apache.hadoop.ipc.RetriableException";
pub const RPC_NO_SUCH_METHOD: &str = "org.apache.hadoop.ipc.RpcNoSuchMethodException";
pub const RPC_NO_SUCH_PROTOCOL: &str = "org.apache.hadoop.ipc.RpcNoSuchProtocolException";
pub const RPC_SERVER: &str = "org.apache.hadoop.ipc.RpcServerException";
pub const IPC: &str = "org.apache.hadoop.ipc.IpcException";
pub const VERSION_MISMATCH: &str = "org.apache.hadoop.ipc.RPC$VersionMismatch";
pub const OBSERVER_RETRY_ON_ACTIVE: &str = "org.apache.hadoop.ipc.ObserverRetryOnActiveException";

// org.apache.hadoop.ha
pub const HEALTH_CHECK_FAILED: &str = "org.apache.hadoop.ha.HealthCheckFailedException";
pub const SERVICE_FAILED: &str = "org.apache.hadoop.ha.ServiceFailedException";

// org.apache.hadoop.hdfs.protocol
pub const QUOTA_EXCEEDED: &str = "org.apache.hadoop.hdfs.protocol.QuotaExceededException";
pub const NS_QUOTA_EXCEEDED: &str = "org.apache.hadoop.hdfs.protocol.NSQuotaExceededException";
pub const DS_QUOTA_EXCEEDED: &str = "org.apache.hadoop.hdfs.protocol.DSQuotaExceededException";
pub const ALREADY_BEING_CREATED: &str =
    "org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException";
pub const FS_LIMIT_MAX_COMPONENT: &str =
    "org.apache.hadoop.hdfs.protocol.FSLimitException$PathComponentTooLongException";
pub const FS_LIMIT_MAX_ITEMS: &str =
    "org.apache.hadoop.hdfs.protocol.FSLimitException$MaxDirectoryItemsExceededException";
pub const SNAPSHOT_ACCESS_CONTROL: &str =
    "org.apache.hadoop.hdfs.protocol.SnapshotAccessControlException";
pub const RECOVERY_IN_PROGRESS: &str =
    "org.apache.hadoop.hdfs.protocol.RecoveryInProgressException";

// org.apache.hadoop.hdfs.server.*
pub const SAFE_MODE: &str = "org.apache.hadoop.hdfs.server.namenode.SafeModeException";
pub const LEASE_EXPIRED: &str = "org.apache.hadoop.hdfs.server.namenode.LeaseExpiredException";
pub const NOT_REPLICATED_YET: &str =
    "org.apache.hadoop.hdfs.server.namenode.NotReplicatedYetException";
pub const INCONSISTENT_FS_STATE: &str =
    "org.apache.hadoop.hdfs.server.common.InconsistentFSStateException";
pub const JOURNAL_OUT_OF_SYNC: &str =
    "org.apache.hadoop.hdfs.qjournal.protocol.JournalOutOfSyncException";
