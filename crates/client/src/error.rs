//! Errors of the client library.
//!
//! A NameNode reports failures as Java exception class names; [`ClientError::Remote`]
//! keeps the class name so callers can tell "no such file" from "permission denied"
//! the way Java clients do, via the `is_*` helpers.

use hafs_ipc::{exceptions, IpcError};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The NameNode answered with an exception.
    #[error("{class_name}: {message}")]
    Remote { class_name: String, message: String },
    /// No NameNode could be reached, or one sent a malformed frame.
    #[error(transparent)]
    Ipc(IpcError),
    /// The configuration does not say how to reach the file system.
    #[error("configuration: {0}")]
    Config(String),
    /// A path the client cannot turn into an absolute path of this file system.
    #[error("{0}")]
    InvalidPath(String),
    /// The NameNode's answer lacks something the protocol promises.
    #[error("bad response to {method}: {msg}")]
    BadResponse { method: &'static str, msg: String },
    /// Reading or writing block data failed (DataNodes unreachable, checksum errors,
    /// a pipeline that cannot be rebuilt). `class_name` is the Java exception Hadoop's
    /// client throws in the same case.
    #[error("{message}")]
    DataPath {
        class_name: &'static str,
        message: String,
    },
}

/// Java class of a generic I/O failure on the data path.
pub const IO_EXCEPTION: &str = "java.io.IOException";
/// Java class of "no replica of a block could be read".
pub const BLOCK_MISSING_EXCEPTION: &str = "org.apache.hadoop.hdfs.BlockMissingException";
/// Java class of a checksum mismatch.
pub const CHECKSUM_EXCEPTION: &str = "org.apache.hadoop.fs.ChecksumException";

impl From<IpcError> for ClientError {
    fn from(e: IpcError) -> Self {
        match e {
            IpcError::Remote(r) => ClientError::Remote {
                class_name: r.class_name,
                message: r.message,
            },
            other => ClientError::Ipc(other),
        }
    }
}

impl ClientError {
    /// A data-path failure of the given Java class.
    pub fn data_path(class_name: &'static str, message: impl Into<String>) -> Self {
        ClientError::DataPath {
            class_name,
            message: message.into(),
        }
    }

    /// A generic data-path I/O failure.
    pub fn io(message: impl Into<String>) -> Self {
        Self::data_path(IO_EXCEPTION, message)
    }

    /// A remote error of the given Java class (used by tests and fakes).
    pub fn remote(class_name: &str, message: impl Into<String>) -> Self {
        ClientError::Remote {
            class_name: class_name.to_string(),
            message: message.into(),
        }
    }

    /// The Java exception class, for remote errors.
    pub fn class_name(&self) -> Option<&str> {
        match self {
            ClientError::Remote { class_name, .. } => Some(class_name),
            ClientError::DataPath { class_name, .. } => Some(class_name),
            _ => None,
        }
    }

    fn is_class(&self, name: &str) -> bool {
        self.class_name() == Some(name)
    }

    /// What a user should see: for a remote error the first line of the Java message
    /// (Hadoop's shell does the same), otherwise the error's own text.
    pub fn user_message(&self) -> String {
        match self {
            ClientError::Remote {
                class_name,
                message,
            } => {
                let first = message.lines().next().unwrap_or("");
                if first.is_empty() {
                    class_name.clone()
                } else {
                    first.to_string()
                }
            }
            other => other.to_string(),
        }
    }

    pub fn is_file_not_found(&self) -> bool {
        self.is_class(exceptions::FILE_NOT_FOUND)
    }
    pub fn is_file_already_exists(&self) -> bool {
        self.is_class(exceptions::FILE_ALREADY_EXISTS)
    }
    pub fn is_access_control(&self) -> bool {
        self.is_class(exceptions::ACCESS_CONTROL)
    }
    pub fn is_parent_not_directory(&self) -> bool {
        self.is_class(exceptions::PARENT_NOT_DIRECTORY)
    }
    pub fn is_path_is_not_empty_directory(&self) -> bool {
        self.is_class(exceptions::PATH_IS_NOT_EMPTY_DIRECTORY)
    }
    pub fn is_safe_mode(&self) -> bool {
        self.is_class(exceptions::SAFE_MODE)
    }
    pub fn is_standby(&self) -> bool {
        self.is_class(exceptions::STANDBY)
    }
    pub fn is_quota_exceeded(&self) -> bool {
        matches!(
            self.class_name(),
            Some(exceptions::QUOTA_EXCEEDED)
                | Some(exceptions::NS_QUOTA_EXCEEDED)
                | Some(exceptions::DS_QUOTA_EXCEEDED)
        )
    }
    pub fn is_already_being_created(&self) -> bool {
        self.is_class(exceptions::ALREADY_BEING_CREATED)
    }
    pub fn is_lease_expired(&self) -> bool {
        self.is_class(exceptions::LEASE_EXPIRED)
    }
    /// No NameNode answered at all (connection refused, timeout, ...).
    pub fn is_connection_failure(&self) -> bool {
        matches!(self, ClientError::Ipc(e) if e.is_connection_failure())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hafs_ipc::RpcError;

    #[test]
    fn remote_ipc_error_keeps_java_class_and_message() {
        let e: ClientError =
            IpcError::Remote(RpcError::file_not_found("File does not exist: /x")).into();
        assert!(e.is_file_not_found());
        assert!(!e.is_access_control());
        assert_eq!(e.user_message(), "File does not exist: /x");
        assert_eq!(e.class_name(), Some("java.io.FileNotFoundException"));
    }

    #[test]
    fn user_message_is_first_line_of_remote_message() {
        let e = ClientError::remote(
            exceptions::ACCESS_CONTROL,
            "Permission denied: user=bob\n\tat x.y",
        );
        assert!(e.is_access_control());
        assert_eq!(e.user_message(), "Permission denied: user=bob");
    }

    #[test]
    fn connection_failures_are_not_remote() {
        let e: ClientError = IpcError::Timeout {
            addr: "nn:8020".into(),
            after: std::time::Duration::from_secs(1),
        }
        .into();
        assert!(e.is_connection_failure());
        assert_eq!(e.class_name(), None);
    }
}
