//! Why an HA request or transition failed, as the cases callers tell apart
//! (`ha_service.rs` picks the Java exception class by case; the messages are Hadoop's
//! where Hadoop has one).

/// A refused or failed HA request (HAServiceProtocol and the transitions behind it).
#[derive(Debug, thiserror::Error)]
pub enum HaError {
    #[error("HA is not enabled for this NameNode")]
    NotEnabled,
    #[error("The NameNode is shutting down")]
    ShuttingDown,
    /// Manual control while automatic failover is on, or a controller's request while
    /// it is off (travels as AccessControlException).
    #[error("{0}")]
    RequestSourceRefused(&'static str),
    /// monitorHealth: why this NameNode is unhealthy.
    #[error("{0}")]
    Unhealthy(String),
    /// The read guard was refused (automatic failover off, or a deadline implausibly
    /// far ahead of this host's monotonic clock).
    #[error("{0}")]
    Guard(String),
    /// A transition Hadoop does not allow from the current state (Observer to Active,
    /// Active to Observer); travels as ServiceFailedException.
    #[error("{0}")]
    Refused(String),
    /// Becoming Active failed at one of its steps; the NameNode stays Standby.
    #[error("transition to active failed: {0}")]
    BecomeActive(#[from] BecomeActiveError),
    /// The namespace could not be reloaded after losing the edit log: the NameNode has
    /// failed (it reports so to its process).
    #[error("cannot reload the namespace after losing the edit log: {0}")]
    Reload(String),
}

/// The step of becoming Active that failed.
#[derive(Debug, thiserror::Error)]
pub enum BecomeActiveError {
    #[error("cannot recover the shared edit log: {0}")]
    Recover(String),
    #[error("cannot read the shared edit log from txid {from}: {message}")]
    Read { from: u64, message: String },
    #[error(transparent)]
    Apply(#[from] TailError),
    #[error("the edit log does not end")]
    Endless,
    #[error("cannot open the edit log at txid {next}: {message}")]
    OpenEditLog { next: u64, message: String },
}

/// Edits read from the shared log that cannot be applied (input from the JournalNodes:
/// an error, never a panic).
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    #[error("edit log gap while tailing: expected txid {expected}, found {found}")]
    Gap { expected: u64, found: u64 },
    #[error("edit txid {txid}: undecodable op: {message}")]
    Undecodable { txid: u64, message: String },
    #[error("edit txid {txid} cannot be applied: {message}")]
    NotApplicable { txid: u64, message: String },
}
