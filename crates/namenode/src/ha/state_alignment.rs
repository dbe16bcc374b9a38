//! State alignment for Observer reads (Hadoop's `GlobalStateIdContext`, HDFS-12943).
//!
//! Every response of a NameNode with `dfs.namenode.state.context.enabled` carries its
//! state id: the last txid written (the Active) or applied (a Standby or Observer).
//! A client reading from an Observer sends the newest state id it has seen; the
//! Observer serves a coordinated read (a row marked `coordinated_read`) only once its
//! namespace holds that txid, so the client never reads older than what it has
//! already seen (its own writes, or the Active's state at its last `msync`).
//!
//! [`decide`] is the pure rule; [`StateIdContext`] is the server's side of the IPC
//! hook (the response header's state id). The waiting itself is
//! `EditLogSlot::wait_applied`, called from the ClientProtocol's `align`.

use std::sync::Arc;
use std::time::Duration;

use hafs_ipc::{AlignmentContext, RpcError};

use crate::namesystem::{HaState, Namesystem};

/// Hadoop's estimate of the transactions a NameNode applies per second, used to tell
/// whether an Observer can catch up with a client within the client's wait.
pub const ESTIMATED_TRANSACTIONS_PER_SECOND: u64 = 10_000;
/// The share of the client's wait the server may spend on the call (Hadoop's 0.8).
pub const ESTIMATED_SERVER_TIME_MULTIPLIER: f64 = 0.8;
/// How long Hadoop assumes a client waits for an answer: its server's maximum idle
/// time, 2 × `ipc.client.connection.maxidletime` (10 s).
pub const CLIENT_WAIT_TIME: Duration = Duration::from_secs(20);
/// How long an Observer holds a coordinated read while its tailer catches up. Hadoop
/// requeues such a call for as long as the client waits; we bound it, then answer
/// RetriableException so the client goes on to another Observer or the Active. A
/// healthy Observer tails within milliseconds (in-progress tailing), so only one cut
/// off from the JournalNodes reaches this limit.
pub const ALIGNMENT_WAIT_LIMIT: Duration = Duration::from_secs(2);

/// What to do with a coordinated read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alignment {
    /// The namespace holds the client's state (or this is not an Observer): serve.
    Serve,
    /// The client has seen a newer state than applied here: wait for the tailer.
    Wait { client_state: u64 },
    /// An Observer got a request without a state id: the client does not read from
    /// Observers (not ObserverReadProxyProvider); it must go to the Active.
    NoStateId,
    /// The client is too far ahead to be caught up with within its wait.
    TooFarBehind { client_state: u64 },
}

/// The rule for a coordinated read: this NameNode's `state`, the client's state id
/// (`None`: not sent), the txid the namespace holds and how long the client waits.
pub fn decide(
    state: HaState,
    client: Option<i64>,
    server: u64,
    client_wait: Duration,
) -> Alignment {
    if state != HaState::Observer {
        // The Active holds everything written; a Standby refuses reads anyway (its
        // category check comes next). Hadoop only warns when a client claims a state
        // newer than the Active's.
        return Alignment::Serve;
    }
    let Some(client) = client else {
        return Alignment::NoStateId;
    };
    // A negative id from the wire means "nothing seen yet".
    let client = u64::try_from(client).unwrap_or(0);
    if client <= server {
        return Alignment::Serve;
    }
    let limit = ESTIMATED_TRANSACTIONS_PER_SECOND as f64
        * client_wait.as_secs() as f64
        * ESTIMATED_SERVER_TIME_MULTIPLIER;
    if (client - server) as f64 > limit {
        Alignment::TooFarBehind {
            client_state: client,
        }
    } else {
        Alignment::Wait {
            client_state: client,
        }
    }
}

/// The exception of an Observer asked without a state id (Hadoop's message).
pub fn no_state_id_error() -> RpcError {
    RpcError::standby(
        "Observer Node received request without stateId. This mostly likely is because \
         client is not configured with ObserverReadProxyProvider",
    )
}

/// The exception of an Observer too far behind the client (Hadoop's message).
pub fn too_far_behind_error(server: u64, client: u64) -> RpcError {
    RpcError::retriable(format!(
        "Observer Node is too far behind: serverStateId = {server} clientStateId = {client}"
    ))
}

/// The exception of an Observer that did not catch up within [`ALIGNMENT_WAIT_LIMIT`].
pub fn not_caught_up_error(server: u64, client: u64, waited: Duration) -> RpcError {
    RpcError::retriable(format!(
        "Observer Node did not catch up with the client within {} ms: \
         serverStateId = {server} clientStateId = {client}",
        waited.as_millis()
    ))
}

/// The NameNode's [`AlignmentContext`]: responses carry the last txid written or
/// applied.
#[derive(Clone)]
pub struct StateIdContext(pub Arc<Namesystem>);

impl std::fmt::Debug for StateIdContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateIdContext")
    }
}

impl AlignmentContext for StateIdContext {
    fn last_seen_state_id(&self) -> i64 {
        i64::try_from(self.0.edit_log.last_written_txid()).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAIT: Duration = CLIENT_WAIT_TIME;

    #[test]
    fn an_observer_serves_a_client_it_has_caught_up_with() {
        assert_eq!(
            decide(HaState::Observer, Some(7), 7, WAIT),
            Alignment::Serve
        );
        assert_eq!(
            decide(HaState::Observer, Some(3), 7, WAIT),
            Alignment::Serve
        );
        // Nothing seen yet.
        assert_eq!(
            decide(HaState::Observer, Some(0), 0, WAIT),
            Alignment::Serve
        );
        assert_eq!(
            decide(HaState::Observer, Some(-1), 5, WAIT),
            Alignment::Serve
        );
    }

    #[test]
    fn an_observer_behind_the_client_waits() {
        assert_eq!(
            decide(HaState::Observer, Some(8), 7, WAIT),
            Alignment::Wait { client_state: 8 }
        );
    }

    #[test]
    fn too_far_behind_is_hadoops_rule() {
        // 10,000 txn/s × 20 s × 0.8 = 160,000 txns may be waited for.
        assert_eq!(
            decide(HaState::Observer, Some(160_010), 10, WAIT),
            Alignment::Wait {
                client_state: 160_010
            }
        );
        assert_eq!(
            decide(HaState::Observer, Some(160_011), 10, WAIT),
            Alignment::TooFarBehind {
                client_state: 160_011
            }
        );
        // A client that waits 0 s: any lag is too far.
        assert_eq!(
            decide(HaState::Observer, Some(11), 10, Duration::from_millis(900)),
            Alignment::TooFarBehind { client_state: 11 }
        );
    }

    #[test]
    fn an_observer_refuses_a_request_without_state_id() {
        assert_eq!(
            decide(HaState::Observer, None, 10, WAIT),
            Alignment::NoStateId
        );
        let e = no_state_id_error();
        assert_eq!(e.class_name, hafs_ipc::exceptions::STANDBY);
        assert!(
            e.message.contains("ObserverReadProxyProvider"),
            "{}",
            e.message
        );
    }

    #[test]
    fn only_an_observer_aligns() {
        for state in [HaState::Active, HaState::Standby, HaState::Initializing] {
            assert_eq!(decide(state, None, 10, WAIT), Alignment::Serve);
            assert_eq!(decide(state, Some(99), 10, WAIT), Alignment::Serve);
        }
    }

    #[test]
    fn the_errors_name_both_states() {
        let e = too_far_behind_error(10, 200_000);
        assert_eq!(e.class_name, hafs_ipc::exceptions::RETRIABLE);
        assert_eq!(
            e.message,
            "Observer Node is too far behind: serverStateId = 10 clientStateId = 200000"
        );
        let e = not_caught_up_error(10, 12, Duration::from_secs(2));
        assert_eq!(e.class_name, hafs_ipc::exceptions::RETRIABLE);
        assert!(e.message.contains("within 2000 ms"), "{}", e.message);
    }
}
