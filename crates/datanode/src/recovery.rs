//! Block recovery (lease recovery) as the primary DataNode runs it.
//!
//! When a writer dies, the NameNode picks one DataNode holding the block as the
//! primary and sends it a RECOVER_BLOCK command with a new generation stamp (the
//! recovery id). The primary then:
//! 1. asks every replica holder (itself included) for its replica with
//!    `initReplicaRecovery`: the holder stops any writer and reports the state, length
//!    and generation stamp it has on disk;
//! 2. agrees on a length ([`decide`]: finalized replicas win; otherwise the shortest of
//!    the replicas in the best state, so no byte is kept that some replica lacks);
//! 3. asks each participating holder to truncate to that length and take the new
//!    generation stamp (`updateReplicaUnderRecovery`);
//! 4. reports the result to the Active NameNode with `commitBlockSynchronization`,
//!    which closes the file.
//!
//! [`decide`] is a pure function so the agreement rules are tested on their own;
//! [`BlockRecoveryWorker`] is the IO around it.

use std::sync::Arc;
use std::time::Duration;

use hafs_conf::parse::format_host_port;
use hafs_ipc::{IpcError, RpcError};
use hafs_proto::hdfs::datanode::{CommitBlockSynchronizationRequestProto, RecoveringBlockProto};
use hafs_proto::hdfs::DatanodeIdProto;
use tokio::task::JoinSet;
use tracing::{info, warn};

use crate::actor::ActiveNameNode;
use crate::interdatanode::InterDatanodeClient;
use crate::storage::ExtendedBlock;
pub use crate::storage::ReplicaState;

/// Hadoop's order of replica states for recovery: a lower rank is a "better" state (a
/// finalized replica is complete; a temporary one is a copy in flight).
fn rank(s: ReplicaState) -> u8 {
    match s {
        ReplicaState::Finalized => 0,
        ReplicaState::Rbw => 1,
        ReplicaState::Rwr => 2,
        ReplicaState::Rur => 3,
        ReplicaState::Temporary => 4,
    }
}

/// Converts the wire state.
pub fn state_from_proto(p: hafs_proto::hdfs::datanode::ReplicaStateProto) -> ReplicaState {
    use hafs_proto::hdfs::datanode::ReplicaStateProto as P;
    match p {
        P::Finalized => ReplicaState::Finalized,
        P::Rbw => ReplicaState::Rbw,
        P::Rwr => ReplicaState::Rwr,
        P::Rur => ReplicaState::Rur,
        P::Temporary => ReplicaState::Temporary,
    }
}

/// Converts to the wire state.
pub fn state_to_proto(s: ReplicaState) -> hafs_proto::hdfs::datanode::ReplicaStateProto {
    use hafs_proto::hdfs::datanode::ReplicaStateProto as P;
    match s {
        ReplicaState::Finalized => P::Finalized,
        ReplicaState::Rbw => P::Rbw,
        ReplicaState::Rwr => P::Rwr,
        ReplicaState::Rur => P::Rur,
        ReplicaState::Temporary => P::Temporary,
    }
}

/// What `initReplicaRecovery` found on one DataNode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaRecoveryInfo {
    pub block_id: u64,
    pub gen_stamp: u64,
    pub num_bytes: u64,
    /// The state the replica was in before recovery began (the replica itself is now
    /// under recovery).
    pub original_state: ReplicaState,
}

/// The outcome of the agreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecoveryDecision {
    /// No replica worth keeping (none found, all stale or empty): the NameNode removes
    /// the block from the file and closes it.
    DeleteBlock,
    /// Truncate the replicas at these indexes (into the input slice) to `new_length`
    /// and give them the recovery id as generation stamp.
    Sync {
        new_length: u64,
        participants: Vec<usize>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    #[error("finalized replicas of block {block_id} disagree on length: {a} and {b}")]
    InconsistentFinalized { block_id: u64, a: u64, b: u64 },
    #[error("block {block_id}: no replica in a recoverable state (best is {state:?})")]
    InvalidState { block_id: u64, state: ReplicaState },
}

/// Agrees on the recovered length of a block whose NameNode-known generation stamp is
/// `block_gen_stamp`, given what each holder answered (`None`: no replica there or the
/// holder could not be reached).
///
/// Hadoop's rules: a replica older than the block (lower generation stamp) or empty
/// takes no part. Among the rest the best original state decides:
/// - FINALIZED: the finalized length (all finalized replicas must agree); RBW replicas
///   that have exactly that length join, everything else is left for the NameNode to
///   delete later;
/// - RBW or RWR: the minimum length among the replicas in that state, all of which
///   take part — every participant has at least those bytes, and they were all
///   acknowledged to the writer only up to the shortest;
/// - anything else: an error (the block is already being recovered or is a copy).
pub fn decide(
    block_id: u64,
    block_gen_stamp: u64,
    replies: &[Option<ReplicaRecoveryInfo>],
) -> Result<RecoveryDecision, DecideError> {
    let usable: Vec<(usize, &ReplicaRecoveryInfo)> = replies
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.as_ref().map(|r| (i, r)))
        .filter(|(_, r)| r.gen_stamp >= block_gen_stamp && r.num_bytes > 0)
        .collect();
    let Some(best) = usable
        .iter()
        .map(|(_, r)| r.original_state)
        .min_by_key(|s| rank(*s))
    else {
        return Ok(RecoveryDecision::DeleteBlock);
    };
    match best {
        ReplicaState::Finalized => {
            let mut finalized_len: Option<u64> = None;
            for (_, r) in usable
                .iter()
                .filter(|(_, r)| r.original_state == ReplicaState::Finalized)
            {
                match finalized_len {
                    None => finalized_len = Some(r.num_bytes),
                    Some(len) if len != r.num_bytes => {
                        return Err(DecideError::InconsistentFinalized {
                            block_id,
                            a: len,
                            b: r.num_bytes,
                        })
                    }
                    Some(_) => {}
                }
            }
            // `best` is Finalized, so at least one finalized replica exists.
            let new_length = finalized_len.unwrap_or(0);
            let participants = usable
                .iter()
                .filter(|(_, r)| {
                    r.original_state == ReplicaState::Finalized
                        || (r.original_state == ReplicaState::Rbw && r.num_bytes == new_length)
                })
                .map(|(i, _)| *i)
                .collect();
            Ok(RecoveryDecision::Sync {
                new_length,
                participants,
            })
        }
        ReplicaState::Rbw | ReplicaState::Rwr => {
            let chosen: Vec<&(usize, &ReplicaRecoveryInfo)> = usable
                .iter()
                .filter(|(_, r)| r.original_state == best)
                .collect();
            let new_length = chosen.iter().map(|(_, r)| r.num_bytes).min().unwrap_or(0);
            Ok(RecoveryDecision::Sync {
                new_length,
                participants: chosen.iter().map(|(i, _)| *i).collect(),
            })
        }
        state => Err(DecideError::InvalidState { block_id, state }),
    }
}

/// The replica operations of block recovery on this DataNode's own storage.
#[async_trait::async_trait]
pub trait LocalRecovery: Send + Sync + 'static {
    /// Stops any writer of the replica, puts it under recovery by `recovery_id` and
    /// says what is on disk; `Ok(None)` when there is no such replica.
    async fn init_replica_recovery(
        &self,
        block: &ExtendedBlock,
        recovery_id: u64,
    ) -> Result<Option<ReplicaRecoveryInfo>, RpcError>;

    /// Truncates the replica under recovery to `new_length`, gives it `recovery_id` as
    /// generation stamp and finalizes it. Returns the storage holding it.
    async fn update_replica_under_recovery(
        &self,
        block: &ExtendedBlock,
        recovery_id: u64,
        new_length: u64,
    ) -> Result<String, RpcError>;
}

#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    #[error("block recovery of {0}: {1}")]
    Unsupported(String, &'static str),
    #[error(transparent)]
    Decide(#[from] DecideError),
    #[error("cannot recover {block}: every replica update failed: {detail}")]
    AllUpdatesFailed { block: String, detail: String },
    #[error("cannot commit the recovery of {block}: {detail}")]
    Commit { block: String, detail: String },
}

/// Runs block recoveries as the primary DataNode.
pub struct BlockRecoveryWorker {
    local: Arc<dyn LocalRecovery>,
    /// This DataNode's UUID: its own replica is reached without RPC.
    my_uuid: String,
    call_timeout: Duration,
}

/// Where one replica of the block lives.
enum Holder {
    Local,
    Remote(Arc<InterDatanodeClient>),
}

impl BlockRecoveryWorker {
    pub fn new(local: Arc<dyn LocalRecovery>, my_uuid: String, call_timeout: Duration) -> Self {
        BlockRecoveryWorker {
            local,
            my_uuid,
            call_timeout,
        }
    }

    /// Recovers one block and commits the outcome on the Active NameNode.
    pub async fn recover(
        &self,
        rb: &RecoveringBlockProto,
        active: &ActiveNameNode,
    ) -> Result<(), RecoveryError> {
        let block = ExtendedBlock::from_proto(&rb.block.b);
        let name = block.to_string();
        // A truncate's recovery names the block as it must become (Hadoop's
        // truncate block). In place it keeps the block's id; a different id is a
        // copy-on-truncate (the old block stays for a snapshot), which hafs does not do.
        let truncate_to = match &rb.truncate_block {
            None => None,
            Some(t) if t.block_id == block.block_id => Some(t.num_bytes.unwrap_or(0)),
            Some(_) => {
                return Err(RecoveryError::Unsupported(
                    name,
                    "copy-on-truncate recovery is not supported",
                ))
            }
        };
        let recovery_id = rb.new_gen_stamp;
        info!(block = %name, recovery_id, replicas = rb.block.locs.len(), "block recovery: primary");
        let holders: Vec<(DatanodeIdProto, Holder)> = rb
            .block
            .locs
            .iter()
            .map(|loc| {
                let id = loc.id.clone();
                let h = if id.datanode_uuid == self.my_uuid {
                    Holder::Local
                } else {
                    let addr = format_host_port(&id.ip_addr, id.ipc_port as u16);
                    Holder::Remote(Arc::new(InterDatanodeClient::new(&addr, self.call_timeout)))
                };
                (id, h)
            })
            .collect();

        // 1. Every holder stops its writer and says what it has.
        let mut asks = JoinSet::new();
        for (i, (id, h)) in holders.iter().enumerate() {
            let local = self.local.clone();
            let remote = match h {
                Holder::Local => None,
                Holder::Remote(c) => Some(c.clone()),
            };
            let block = block.clone();
            let rb = rb.clone();
            let who = id.ip_addr.clone();
            asks.spawn(async move {
                let r = match remote {
                    None => local.init_replica_recovery(&block, recovery_id).await,
                    Some(c) => c.init_replica_recovery(&rb).await.map_err(to_rpc_error),
                };
                (i, who, r)
            });
        }
        let mut replies: Vec<Option<ReplicaRecoveryInfo>> = vec![None; holders.len()];
        while let Some(joined) = asks.join_next().await {
            let Ok((i, who, r)) = joined else { continue };
            match r {
                Ok(info) => replies[i] = info,
                Err(e) => warn!(block = %name, datanode = %who, error = %e,
                                "initReplicaRecovery failed; that replica takes no part"),
            }
        }

        // 2. Agree on a length; a truncate fixes it, and only replicas holding at
        // least that many bytes can be cut to it.
        let decision = match (
            decide(block.block_id, block.gen_stamp, &replies)?,
            truncate_to,
        ) {
            (RecoveryDecision::Sync { participants, .. }, Some(len)) => {
                let participants: Vec<usize> = participants
                    .into_iter()
                    .filter(|&i| replies[i].is_some_and(|r| r.num_bytes >= len))
                    .collect();
                if participants.is_empty() {
                    return Err(RecoveryError::AllUpdatesFailed {
                        block: name,
                        detail: format!("no replica holds the {len} bytes to truncate to"),
                    });
                }
                RecoveryDecision::Sync {
                    new_length: len,
                    participants,
                }
            }
            (d, _) => d,
        };
        let mut commit = CommitBlockSynchronizationRequestProto {
            block: rb.block.b.clone(),
            new_gen_stamp: recovery_id,
            new_length: 0,
            close_file: true,
            delete_block: false,
            new_taragets: Vec::new(),
            new_target_storages: Vec::new(),
        };
        match decision {
            RecoveryDecision::DeleteBlock => {
                info!(block = %name, "no usable replica: the NameNode will drop the block");
                commit.delete_block = true;
            }
            RecoveryDecision::Sync {
                new_length,
                participants,
            } => {
                // 3. Every participant truncates and takes the new generation stamp.
                let mut failures = Vec::new();
                for i in participants {
                    let (id, h) = &holders[i];
                    let Some(found) = replies[i] else { continue };
                    let as_found = ExtendedBlock::new(
                        block.pool_id.clone(),
                        found.block_id,
                        found.gen_stamp,
                        found.num_bytes,
                    );
                    let r = match h {
                        Holder::Local => {
                            self.local
                                .update_replica_under_recovery(&as_found, recovery_id, new_length)
                                .await
                        }
                        Holder::Remote(c) => c
                            .update_replica_under_recovery(&as_found, recovery_id, new_length)
                            .await
                            .map_err(to_rpc_error),
                    };
                    match r {
                        Ok(storage) => {
                            commit.new_taragets.push(id.clone());
                            commit.new_target_storages.push(storage);
                        }
                        Err(e) => {
                            warn!(block = %name, datanode = %id.ip_addr, error = %e,
                                  "updateReplicaUnderRecovery failed");
                            failures.push(format!("{}: {e}", id.ip_addr));
                        }
                    }
                }
                if commit.new_taragets.is_empty() {
                    return Err(RecoveryError::AllUpdatesFailed {
                        block: name,
                        detail: failures.join("; "),
                    });
                }
                commit.new_length = new_length;
            }
        }

        // 4. The Active records the outcome and closes the file.
        active
            .commit_block_synchronization(&commit)
            .await
            .map_err(|detail| RecoveryError::Commit {
                block: name.clone(),
                detail,
            })?;
        info!(block = %name, new_length = commit.new_length, recovery_id,
              delete = commit.delete_block, "block recovery committed");
        Ok(())
    }
}

fn to_rpc_error(e: IpcError) -> RpcError {
    match e {
        IpcError::Remote(r) => r,
        other => RpcError::io(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(gs: u64, len: u64, st: ReplicaState) -> Option<ReplicaRecoveryInfo> {
        Some(ReplicaRecoveryInfo {
            block_id: 7,
            gen_stamp: gs,
            num_bytes: len,
            original_state: st,
        })
    }
    use ReplicaState::*;

    fn sync(new_length: u64, participants: &[usize]) -> RecoveryDecision {
        RecoveryDecision::Sync {
            new_length,
            participants: participants.to_vec(),
        }
    }

    #[test]
    fn finalized_length_wins_over_longer_and_shorter_rbw() {
        let replies = [
            r(5, 100, Rbw),
            r(5, 80, Finalized),
            r(5, 80, Rbw),
            r(5, 60, Rbw),
        ];
        // The RBW replica of exactly the finalized length joins; the others do not.
        assert_eq!(decide(7, 5, &replies).unwrap(), sync(80, &[1, 2]));
    }

    #[test]
    fn finalized_replicas_must_agree() {
        let replies = [r(5, 80, Finalized), r(5, 81, Finalized)];
        assert_eq!(
            decide(7, 5, &replies).unwrap_err(),
            DecideError::InconsistentFinalized {
                block_id: 7,
                a: 80,
                b: 81
            }
        );
    }

    #[test]
    fn rbw_replicas_agree_on_the_minimum_length() {
        let replies = [r(5, 300, Rbw), r(6, 120, Rbw), r(5, 200, Rbw)];
        assert_eq!(decide(7, 5, &replies).unwrap(), sync(120, &[0, 1, 2]));
    }

    #[test]
    fn rbw_beats_rwr_and_rwr_alone_uses_its_minimum() {
        let replies = [r(5, 50, Rwr), r(5, 300, Rbw), r(5, 200, Rbw)];
        assert_eq!(decide(7, 5, &replies).unwrap(), sync(200, &[1, 2]));
        let replies = [r(5, 50, Rwr), r(5, 70, Rwr)];
        assert_eq!(decide(7, 5, &replies).unwrap(), sync(50, &[0, 1]));
    }

    #[test]
    fn stale_empty_and_missing_replicas_take_no_part() {
        // Generation stamp 4 is older than the block's 5: that replica missed writes.
        let replies = [r(4, 500, Rbw), None, r(5, 0, Rbw), r(5, 90, Rbw)];
        assert_eq!(decide(7, 5, &replies).unwrap(), sync(90, &[3]));
    }

    #[test]
    fn nothing_usable_deletes_the_block() {
        assert_eq!(decide(7, 5, &[]).unwrap(), RecoveryDecision::DeleteBlock);
        let replies = [None, r(3, 10, Finalized), r(5, 0, Rbw)];
        assert_eq!(
            decide(7, 5, &replies).unwrap(),
            RecoveryDecision::DeleteBlock
        );
    }

    #[test]
    fn replicas_already_under_recovery_are_an_error() {
        let replies = [r(5, 10, Rur), r(5, 10, Temporary)];
        assert_eq!(
            decide(7, 5, &replies).unwrap_err(),
            DecideError::InvalidState {
                block_id: 7,
                state: Rur
            }
        );
    }
}
