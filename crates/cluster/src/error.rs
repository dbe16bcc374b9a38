//! The cluster kit's error: what failed, in words a user running `hafs sandbox` or a
//! benchmark can act on (which daemon, which file, where its log is).

/// A failure to run the local cluster.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The cluster cannot be run as asked, or a daemon did not come up or answer; the
    /// text names the daemon and where its log is.
    #[error("{0}")]
    Cluster(String),
    /// A step (named by `what`) failed on a file, a process or an RPC.
    #[error("{what}: {source}")]
    Failed {
        what: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A file or process operation failed where the caller names no step.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = ClusterError> = std::result::Result<T, E>;

/// Names the step that failed, so that an error says what was being done.
pub trait Context<T> {
    fn context(self, what: impl Into<String>) -> Result<T>;
    fn with_context<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl Into<String>) -> Result<T> {
        self.map_err(|e| ClusterError::Failed {
            what: what.into(),
            source: Box::new(e),
        })
    }

    fn with_context<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T> {
        self.map_err(|e| ClusterError::Failed {
            what: what().into(),
            source: Box::new(e),
        })
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, what: impl Into<String>) -> Result<T> {
        self.ok_or_else(|| ClusterError::Cluster(what.into()))
    }

    fn with_context<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T> {
        self.ok_or_else(|| ClusterError::Cluster(what().into()))
    }
}

/// Returns a [`ClusterError::Cluster`] with a formatted message.
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::error::ClusterError::Cluster(format!($($arg)*)))
    };
}
pub(crate) use bail;
