//! The Namesystem's truncate (Hadoop's FSNamesystem.truncate): the namespace plans
//! and logs the cut; a cut inside a block also starts the recovery that cuts that
//! block's replicas, and the answer is false until commitBlockSynchronization closes
//! the file (the client polls isFileClosed, as `hadoop fs -truncate -w` does).

use hafs_ipc::RpcError;
use tracing::info;

use crate::leases::Recovery;
use crate::namespace::{Caller, TruncatePlan};
use crate::namesystem::{ns_err, to_bm_block, Namesystem, OperationCategory};
use crate::storage::now_ms;

impl Namesystem {
    /// truncate `src` to `new_length` bytes for `holder`: true when the file is
    /// done (a cut at a block boundary), false while its last block is recovered.
    pub async fn truncate(
        &self,
        caller: &Caller,
        src: &str,
        new_length: u64,
        holder: &str,
        client_machine: &str,
    ) -> Result<bool, RpcError> {
        self.check_operation(OperationCategory::Write)?;
        let what = format!("truncate for {src}");
        self.check_not_safe_mode(&what)?;
        // A file whose writer is past the soft limit is recovered first, and the
        // caller asked to retry (Hadoop's recoverLeaseInternal).
        self.takeover_if_soft_expired("TRUNCATE_FILE", src, holder)
            .await?;
        let now = now_ms();
        let bm = self.bm.clone();
        let (done, outcome) = self
            .mutate_op(&what, None, |ns| {
                let plan = ns
                    .plan_truncate(caller, src, new_length, holder, client_machine, now)
                    .map_err(ns_err)?;
                match plan {
                    TruncatePlan::Done(answer) => Ok((None, answer)),
                    TruncatePlan::Apply(t) => {
                        // The recovery is queued under the namespace lock with the op
                        // that hands out its generation stamp; if no DataNode can
                        // lead it, nothing is logged and the truncate fails. It is
                        // recorded here too, so the lease monitor (which reads the
                        // open files under this lock) never starts a second one.
                        if let Some((old, tb)) = &t.recover {
                            bm.start_block_recovery(
                                to_bm_block(old),
                                tb.gen_stamp,
                                Some(tb.num_bytes),
                            )
                            .map_err(RpcError::from)?;
                            self.leases.lock().expect("lease lock").start_recovery(
                                t.inode_id,
                                Recovery {
                                    block_id: tb.block_id,
                                    recovery_id: tb.gen_stamp,
                                    started: self.now(),
                                },
                            );
                        }
                        Ok((Some(t.op), t.recover.is_none()))
                    }
                }
            })
            .await?;
        if outcome.inode_id.is_some() {
            info!(%src, new_length, done, "truncate");
        }
        Ok(done)
    }
}
