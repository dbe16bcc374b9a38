//! Errors of the quorum journal, with the Java exception class each travels as.

use crate::error::EditLogError;

/// Java exception classes QJournalProtocol errors travel as (Hadoop's).
pub mod classes {
    pub const IO: &str = "java.io.IOException";
    pub const OUT_OF_SYNC: &str =
        "org.apache.hadoop.hdfs.qjournal.protocol.JournalOutOfSyncException";
    pub const NOT_FORMATTED: &str =
        "org.apache.hadoop.hdfs.qjournal.protocol.JournalNotFormattedException";
    pub const ILLEGAL_ARGUMENT: &str = "java.lang.IllegalArgumentException";
    pub const ASSERTION: &str = "java.lang.AssertionError";
}

#[derive(Debug, thiserror::Error)]
pub enum QjError {
    /// The request's epoch is fenced (lower than the promised epoch) or not the writer's.
    #[error("{0}")]
    Fenced(String),
    /// The writer and this node disagree about the log (no open segment, wrong txid,
    /// serial not increasing): the writer stops sending to this node until its next roll.
    #[error("{0}")]
    OutOfSync(String),
    #[error("{0}")]
    NotFormatted(String),
    /// A bad argument (committed txid moving back, malformed batch, bad format call).
    #[error("{0}")]
    IllegalArgument(String),
    /// A protocol invariant would break (e.g. recovery dropping a committed txid).
    #[error("invariant violated: {0}")]
    Invariant(String),
    #[error(transparent)]
    Storage(#[from] EditLogError),
}

impl QjError {
    pub fn java_class(&self) -> &'static str {
        match self {
            QjError::Fenced(_) | QjError::Storage(_) => classes::IO,
            QjError::OutOfSync(_) => classes::OUT_OF_SYNC,
            QjError::NotFormatted(_) => classes::NOT_FORMATTED,
            QjError::IllegalArgument(_) => classes::ILLEGAL_ARGUMENT,
            QjError::Invariant(_) => classes::ASSERTION,
        }
    }

    /// Rebuilds an error from its Java class and message (client side).
    pub fn from_remote(class: &str, message: &str) -> QjError {
        let m = message.to_string();
        match class {
            classes::OUT_OF_SYNC => QjError::OutOfSync(m),
            classes::NOT_FORMATTED => QjError::NotFormatted(m),
            classes::ILLEGAL_ARGUMENT => QjError::IllegalArgument(m),
            classes::ASSERTION => QjError::Invariant(m),
            _ if m.contains("epoch") => QjError::Fenced(m),
            _ => QjError::Storage(EditLogError::Io(std::io::Error::other(m))),
        }
    }
}

impl From<std::io::Error> for QjError {
    fn from(e: std::io::Error) -> Self {
        QjError::Storage(EditLogError::Io(e))
    }
}

impl From<crate::error::StorageError> for QjError {
    fn from(e: crate::error::StorageError) -> Self {
        QjError::Storage(EditLogError::Storage(e))
    }
}
