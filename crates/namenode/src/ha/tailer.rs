//! The EditLogTailer: a Standby reads the shared edit log continuously — the committed
//! part of the open segment too, when in-progress tailing is on — and applies it
//! through [`Namesystem::apply_tailed`], the same `apply` the Active used. After a
//! batch it looks again at once (more may be waiting); after an empty read it sleeps
//! `dfs.ha.tail-edits.period` (10 ms). Looks that find nothing are cheap: the quorum
//! journal's `tail_edits` then asks one JournalNode for its committed txid instead of
//! reading manifests from a majority (at least one full read every 100 ms).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hafs_journal::JournalManager;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{debug, error, warn};

use crate::namesystem::Namesystem;

/// Most edits read per journal call.
pub const TAIL_BATCH: usize = 10_000;
/// Least time between two warnings about failing reads.
const WARN_EVERY: Duration = Duration::from_secs(10);

pub struct Tailer {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Tailer {
    pub fn start(
        fsn: Arc<Namesystem>,
        journal: Arc<dyn JournalManager>,
        period: Duration,
        in_progress: bool,
    ) -> Tailer {
        let (stop, rx) = watch::channel(false);
        let task = tokio::spawn(run(fsn, journal, period, in_progress, rx));
        Tailer { stop, task }
    }

    /// Stops tailing and returns once no further edit will be applied.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn run(
    fsn: Arc<Namesystem>,
    journal: Arc<dyn JournalManager>,
    period: Duration,
    in_progress: bool,
    mut stop: watch::Receiver<bool>,
) {
    let mut last_warning: Option<Instant> = None;
    loop {
        if *stop.borrow() {
            return;
        }
        let from = fsn.edit_log.applied_txid() + 1;
        let read = tokio::select! {
            r = async {
                if in_progress {
                    journal.tail_edits(from, TAIL_BATCH).await
                } else {
                    journal.read_edits(from, TAIL_BATCH, false).await
                }
            } => r,
            _ = stop.changed() => return,
        };
        let mut wait = period;
        if read.is_ok() {
            // A majority answered: the journal is reachable (health, edit_log_slot.rs).
            fsn.edit_log.mark_journal_reachable();
        }
        match read {
            Ok(batch) if !batch.is_empty() => match fsn.apply_tailed(&batch) {
                Ok(last) => {
                    debug!(from, last, "tailed edits");
                    fsn.metrics.edits_loaded();
                    // More may be waiting: look again at once.
                    wait = Duration::ZERO;
                }
                Err(e) => {
                    // The namespace cannot follow the log: nothing later can be
                    // applied either. Keep trying slowly and shout.
                    error!("the Standby cannot apply the shared edit log: {e}");
                    wait = period.max(Duration::from_secs(1));
                }
            },
            // Nothing more to read: caught up with the journal.
            Ok(_) => fsn.metrics.tail_caught_up(),
            Err(e) => {
                if last_warning.is_none_or(|t| t.elapsed() >= WARN_EVERY) {
                    warn!(from, "tailing the shared edit log failed: {e}");
                    last_warning = Some(Instant::now());
                }
                wait = period.max(Duration::from_millis(500));
            }
        }
        if !wait.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => return,
            }
        }
    }
}
