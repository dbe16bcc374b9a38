//! Namespace errors. Each maps to the Java exception class a Hadoop client expects
//! (the IPC layer sends `java_class()` and `to_string()` as the remote exception), and the
//! messages follow Hadoop's NameNode text where a client shows it.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NamespaceError {
    /// java.io.FileNotFoundException
    #[error("{0}")]
    FileNotFound(String),
    /// org.apache.hadoop.fs.FileAlreadyExistsException
    #[error("{0}")]
    AlreadyExists(String),
    /// org.apache.hadoop.fs.ParentNotDirectoryException
    #[error("{0}")]
    ParentNotDirectory(String),
    /// org.apache.hadoop.fs.PathIsNotEmptyDirectoryException; Hadoop's PathIOException
    /// formats the message as "`<path> is non empty': Directory is not empty".
    #[error("`{0} is non empty': Directory is not empty")]
    NotEmptyDirectory(String),
    /// org.apache.hadoop.security.AccessControlException
    #[error("{0}")]
    AccessControl(String),
    /// org.apache.hadoop.fs.InvalidPathException ("Invalid path name <path>")
    #[error("Invalid path name {0}")]
    InvalidPath(String),
    /// FSLimitException$PathComponentTooLongException
    #[error("The maximum path component name limit of {name} in directory {parent} is exceeded: limit={limit} length={length}")]
    PathComponentTooLong {
        name: String,
        parent: String,
        limit: usize,
        length: usize,
    },
    /// FSLimitException$MaxDirectoryItemsExceededException
    #[error("The directory item limit of {path} is exceeded: limit={limit} items={items}")]
    MaxDirectoryItemsExceeded {
        path: String,
        limit: usize,
        items: usize,
    },
    /// org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException
    #[error("{0}")]
    AlreadyBeingCreated(String),
    /// org.apache.hadoop.hdfs.server.namenode.LeaseExpiredException
    #[error("{0}")]
    LeaseExpired(String),
    /// org.apache.hadoop.hdfs.protocol.QuotaExceededException
    #[error("{0}")]
    QuotaExceeded(String),
    /// org.apache.hadoop.hdfs.protocol.NSQuotaExceededException (namespace/quota.rs)
    #[error("{0}")]
    NsQuotaExceeded(String),
    /// org.apache.hadoop.hdfs.protocol.DSQuotaExceededException
    #[error("{0}")]
    DsQuotaExceeded(String),
    /// org.apache.hadoop.hdfs.protocol.QuotaByStorageTypeExceededException
    #[error("{0}")]
    QuotaByStorageTypeExceeded(String),
    /// org.apache.hadoop.hdfs.server.namenode.UnsupportedActionException
    #[error("{0}")]
    UnsupportedAction(String),
    /// java.lang.IllegalArgumentException
    #[error("{0}")]
    IllegalArgument(String),
    /// org.apache.hadoop.hdfs.protocol.AclException: an invalid ACL, or ACLs disabled.
    #[error("{0}")]
    Acl(String),
    /// org.apache.hadoop.HadoopIllegalArgumentException (concat's refusals)
    #[error("{0}")]
    HadoopIllegalArgument(String),
    /// org.apache.hadoop.hdfs.protocol.SnapshotException
    #[error("{0}")]
    Snapshot(String),
    /// org.apache.hadoop.hdfs.protocol.SnapshotAccessControlException: a change under
    /// `.snapshot`.
    #[error("{0}")]
    SnapshotAccessControl(String),
    /// java.io.IOException: any other refusal.
    #[error("{0}")]
    Io(String),
    /// An edit op or image record that does not fit the namespace (corrupt or
    /// out-of-order log). Reported as java.io.IOException.
    #[error("inconsistent namespace edit: {0}")]
    Corrupt(String),
}

impl NamespaceError {
    /// Hadoop's exception class name for this error.
    pub fn java_class(&self) -> &'static str {
        use NamespaceError::*;
        match self {
            FileNotFound(_) => "java.io.FileNotFoundException",
            AlreadyExists(_) => "org.apache.hadoop.fs.FileAlreadyExistsException",
            ParentNotDirectory(_) => "org.apache.hadoop.fs.ParentNotDirectoryException",
            NotEmptyDirectory(_) => "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException",
            AccessControl(_) => "org.apache.hadoop.security.AccessControlException",
            InvalidPath(_) => "org.apache.hadoop.fs.InvalidPathException",
            PathComponentTooLong { .. } => {
                "org.apache.hadoop.hdfs.protocol.FSLimitException$PathComponentTooLongException"
            }
            MaxDirectoryItemsExceeded { .. } => {
                "org.apache.hadoop.hdfs.protocol.FSLimitException$MaxDirectoryItemsExceededException"
            }
            AlreadyBeingCreated(_) => "org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException",
            LeaseExpired(_) => "org.apache.hadoop.hdfs.server.namenode.LeaseExpiredException",
            QuotaExceeded(_) => "org.apache.hadoop.hdfs.protocol.QuotaExceededException",
            NsQuotaExceeded(_) => "org.apache.hadoop.hdfs.protocol.NSQuotaExceededException",
            DsQuotaExceeded(_) => "org.apache.hadoop.hdfs.protocol.DSQuotaExceededException",
            QuotaByStorageTypeExceeded(_) => {
                "org.apache.hadoop.hdfs.protocol.QuotaByStorageTypeExceededException"
            }
            UnsupportedAction(_) => {
                "org.apache.hadoop.hdfs.server.namenode.UnsupportedActionException"
            }
            IllegalArgument(_) => "java.lang.IllegalArgumentException",
            Acl(_) => "org.apache.hadoop.hdfs.protocol.AclException",
            HadoopIllegalArgument(_) => "org.apache.hadoop.HadoopIllegalArgumentException",
            Snapshot(_) => "org.apache.hadoop.hdfs.protocol.SnapshotException",
            SnapshotAccessControl(_) => {
                "org.apache.hadoop.hdfs.protocol.SnapshotAccessControlException"
            }
            Io(_) | Corrupt(_) => "java.io.IOException",
        }
    }
}

/// fsimage body that cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ImageError {
    #[error("fsimage truncated: {0}")]
    Truncated(&'static str),
    #[error("fsimage record undecodable: {0}")]
    Decode(String),
    #[error("fsimage invalid: {0}")]
    Invalid(String),
}
