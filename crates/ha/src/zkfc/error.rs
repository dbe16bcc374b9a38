//! The failover controller's errors, as the cases callers tell apart. The messages of
//! ZKFCProtocol refusals are Hadoop's (they travel as ServiceFailedException).

/// Why a controller's run ended (the daemon exits with it).
#[derive(Debug, thiserror::Error)]
pub enum ZkfcError {
    #[error("the elector's events were already taken")]
    EventsTaken,
    #[error("controller task failed: {0}")]
    Task(String),
    #[error("the health monitor stopped")]
    HealthMonitorStopped,
    #[error("the elector stopped")]
    ElectorStopped,
    #[error("controller decision loop did not settle")]
    DecisionLoop,
    /// The controller's decision: it cannot go on (`Action::Fatal`).
    #[error("{0}")]
    Fatal(String),
}

/// Why a cedeActive or gracefulFailover request failed.
#[derive(Debug, thiserror::Error)]
pub enum FailoverRequestError {
    #[error("the failover controller is starting")]
    Starting,
    #[error("the failover controller is stopping")]
    Stopping,
    #[error("the failover controller stopped")]
    Stopped,
    #[error("{0} is not currently healthy. Cannot be failover target")]
    NotHealthy(String),
    #[error("Unable to read the current Active: {0}")]
    CurrentActive(String),
    #[error("No other node is currently active.")]
    NoActive,
    #[error("Unable to ask {addr} to cede: {message}")]
    CedeRefused { addr: String, message: String },
    /// Our own attempt to become Active failed, with the attempt's status.
    #[error("Unable to become active. {0}")]
    NotActive(String),
    #[error("Unable to become active. Local node did not get an opportunity to do so from the election, or it took too long to transition to active.")]
    TimedOut,
}

/// Why the election lease's deadline could not be handed to the NameNode (its read
/// guard, docs/election.md).
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("the controller is leaving the election")]
    Leaving,
    #[error("the election lease is not held")]
    NotHeld,
    #[error("the election lease deadline has passed")]
    Expired,
    #[error("no answer before the lease deadline")]
    TimedOut,
    /// The NameNode refused it or the call failed.
    #[error("{0}")]
    Rpc(String),
}
