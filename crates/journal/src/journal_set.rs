//! `JournalSet`: several journals written in parallel (each `dfs.namenode.name.dir` entry
//! is a redundant copy of the edit log).
//!
//! A write succeeds when every live journal succeeds; a journal that fails is disabled
//! (logged as an error) and the set carries on with the rest, as long as one remains —
//! with none left the NameNode must stop. A disabled journal stays disabled for the life
//! of the set. Reads come from the first live journal that has the range.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use crate::error::EditLogError;
use crate::manager::{JournalManager, SegmentInfo};
use crate::record::EditRecord;

struct Member {
    journal: Arc<dyn JournalManager>,
    disabled: AtomicBool,
}

pub struct JournalSet {
    members: Vec<Member>,
}

impl std::fmt::Debug for JournalSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl JournalSet {
    pub fn new(journals: Vec<Arc<dyn JournalManager>>) -> JournalSet {
        JournalSet {
            members: journals
                .into_iter()
                .map(|journal| Member {
                    journal,
                    disabled: AtomicBool::new(false),
                })
                .collect(),
        }
    }

    /// Each journal's description and whether it is still live (for status reports).
    pub fn status(&self) -> Vec<(String, bool)> {
        self.members
            .iter()
            .map(|m| (m.journal.describe(), !m.disabled.load(Ordering::SeqCst)))
            .collect()
    }

    pub fn live_count(&self) -> usize {
        self.members
            .iter()
            .filter(|m| !m.disabled.load(Ordering::SeqCst))
            .count()
    }

    fn live(&self) -> impl Iterator<Item = &Member> {
        self.members
            .iter()
            .filter(|m| !m.disabled.load(Ordering::SeqCst))
    }

    /// Runs `op` on every live journal concurrently; disables the ones that fail. Returns
    /// the successful results, or an error when no journal succeeded.
    async fn on_all_live<T, F, Fut>(&self, what: &str, op: F) -> Result<Vec<T>, EditLogError>
    where
        T: Send + 'static,
        F: Fn(Arc<dyn JournalManager>) -> Fut,
        Fut: Future<Output = Result<T, EditLogError>> + Send + 'static,
    {
        let mut live = self.live();
        if let (Some(only), None) = (live.next(), live.next()) {
            // One journal (the common single name dir): no task to spawn, and no
            // hand-off between the caller and it.
            return match op(only.journal.clone()).await {
                Ok(v) => Ok(vec![v]),
                Err(e) => {
                    only.disabled.store(true, Ordering::SeqCst);
                    tracing::error!(journal = %only.journal.describe(), error = %e, "{what} failed; disabling this journal");
                    Err(EditLogError::NoLiveJournals(format!(
                        "{what} on {}: {e}",
                        only.journal.describe()
                    )))
                }
            };
        }
        let tasks: Vec<_> = self
            .live()
            .map(|m| (m, tokio::spawn(op(m.journal.clone()))))
            .collect();
        if tasks.is_empty() {
            return Err(EditLogError::NoLiveJournals(format!(
                "{what}: every journal was disabled earlier"
            )));
        }
        let mut results = Vec::with_capacity(tasks.len());
        let mut last_error = String::new();
        for (member, task) in tasks {
            let error = match task.await {
                Ok(Ok(v)) => {
                    results.push(v);
                    continue;
                }
                Ok(Err(e)) => e.to_string(),
                Err(join) => format!("task failed: {join}"),
            };
            member.disabled.store(true, Ordering::SeqCst);
            tracing::error!(journal = %member.journal.describe(), %error, "{what} failed; disabling this journal");
            last_error = format!("{what} on {}: {error}", member.journal.describe());
        }
        if results.is_empty() {
            return Err(EditLogError::NoLiveJournals(last_error));
        }
        Ok(results)
    }
}

#[async_trait]
impl JournalManager for JournalSet {
    fn describe(&self) -> String {
        let names: Vec<String> = self.members.iter().map(|m| m.journal.describe()).collect();
        format!("JournalSet[{}]", names.join(", "))
    }

    fn journal_nodes(&self) -> Vec<crate::JournalNodeView> {
        self.members
            .iter()
            .flat_map(|m| m.journal.journal_nodes())
            .collect()
    }

    async fn recover_unfinalized_segments(&self) -> Result<u64, EditLogError> {
        let lasts = self
            .on_all_live("recover", |j| async move {
                j.recover_unfinalized_segments().await
            })
            .await?;
        let max = lasts.iter().copied().max().unwrap_or(0);
        if lasts.iter().any(|&l| l != max) {
            tracing::warn!(
                ?lasts,
                max,
                "journals disagree on the last txid; shorter copies are behind"
            );
        }
        Ok(max)
    }

    async fn start_log_segment(&self, first_txid: u64) -> Result<(), EditLogError> {
        self.on_all_live("start log segment", |j| async move {
            j.start_log_segment(first_txid).await
        })
        .await?;
        Ok(())
    }

    async fn journal(
        &self,
        first_txid: u64,
        count: u32,
        records: Bytes,
    ) -> Result<(), EditLogError> {
        self.on_all_live("journal", |j| {
            let records = records.clone();
            async move { j.journal(first_txid, count, records).await }
        })
        .await?;
        Ok(())
    }

    async fn finalize_log_segment(
        &self,
        first_txid: u64,
        last_txid: u64,
    ) -> Result<(), EditLogError> {
        self.on_all_live("finalize log segment", |j| async move {
            j.finalize_log_segment(first_txid, last_txid).await
        })
        .await?;
        Ok(())
    }

    async fn read_edits(
        &self,
        from_txid: u64,
        max: usize,
        include_in_progress: bool,
    ) -> Result<Vec<EditRecord>, EditLogError> {
        let mut some_ok = false;
        let mut last_error = None;
        for m in self.live() {
            match m
                .journal
                .read_edits(from_txid, max, include_in_progress)
                .await
            {
                Ok(records) if !records.is_empty() => return Ok(records),
                Ok(_) => some_ok = true,
                Err(e) => {
                    tracing::warn!(journal = %m.journal.describe(), error = %e, from_txid, "cannot read edits; trying the next journal");
                    last_error = Some(e);
                }
            }
        }
        match (some_ok, last_error) {
            (true, _) => Ok(Vec::new()),
            (false, Some(e)) => Err(e),
            (false, None) => Err(EditLogError::NoLiveJournals(
                "read edits: every journal was disabled".into(),
            )),
        }
    }

    /// The segments of the first live journal that can list them.
    async fn list_segments(&self) -> Result<Vec<SegmentInfo>, EditLogError> {
        let mut last_error = None;
        for m in self.live() {
            match m.journal.list_segments().await {
                Ok(s) => return Ok(s),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            EditLogError::NoLiveJournals("list segments: every journal was disabled".into())
        }))
    }

    async fn purge_logs_older_than(&self, min_txid_to_keep: u64) -> Result<(), EditLogError> {
        self.on_all_live("purge logs", |j| async move {
            j.purge_logs_older_than(min_txid_to_keep).await
        })
        .await?;
        Ok(())
    }
}
