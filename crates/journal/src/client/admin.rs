//! Administration of a quorum journal: `format`, `isFormatted`, and each node's state
//! for `hafs journalnode -status`. None of it goes through the writer core.

use hafs_proto::qjournal as pb;

use super::call::BoxFut;
use super::qjm::QuorumJournal;
use crate::error::EditLogError;
use crate::protocol::{ns_to_proto, SegmentState};

/// One JournalNode's state, for `-status`.
#[derive(Debug, Clone)]
pub struct JournalNodeStatus {
    pub addr: String,
    pub result: Result<pb::GetJournalStateResponseProto, String>,
    pub segments: Vec<SegmentState>,
}

impl QuorumJournal {
    /// Formats every JournalNode (all must answer, as in Hadoop).
    pub async fn format(&self, force: bool) -> Result<(), EditLogError> {
        let calls: Vec<BoxFut<pb::FormatResponseProto>> = self
            .loggers()
            .iter()
            .map(|l| {
                l.call(
                    "format",
                    &pb::FormatRequestProto {
                        jid: self.jid(),
                        ns_info: ns_to_proto(&self.ns),
                        name_service_id: None,
                        force: Some(force),
                    },
                )
            })
            .collect();
        self.quorum(
            "format",
            calls,
            self.loggers().len(),
            self.cfg.other_timeout,
        )
        .await?;
        Ok(())
    }

    /// Whether each JournalNode is formatted (all must answer).
    pub async fn is_formatted(&self) -> Result<Vec<bool>, EditLogError> {
        let calls: Vec<BoxFut<pb::IsFormattedResponseProto>> = self
            .loggers()
            .iter()
            .map(|l| {
                l.call(
                    "isFormatted",
                    &pb::IsFormattedRequestProto {
                        jid: self.jid(),
                        name_service_id: None,
                    },
                )
            })
            .collect();
        let mut r = self
            .quorum(
                "isFormatted",
                calls,
                self.loggers().len(),
                self.cfg.other_timeout,
            )
            .await?;
        r.sort_by_key(|x| x.0);
        Ok(r.into_iter().map(|(_, x)| x.is_formatted).collect())
    }

    /// Each node's state and segments (unreachable nodes report their error).
    pub async fn status(&self) -> Vec<JournalNodeStatus> {
        let mut out = Vec::new();
        for (i, l) in self.loggers().iter().enumerate() {
            let st = l
                .call::<_, pb::GetJournalStateResponseProto>(
                    "getJournalState",
                    &pb::GetJournalStateRequestProto {
                        jid: self.jid(),
                        name_service_id: None,
                    },
                )
                .await;
            let segments = match st {
                Ok(ref s) if s.is_formatted.unwrap_or(false) => self
                    .manifest_of(i, 0, true)
                    .await
                    .map(|m| m.0)
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            out.push(JournalNodeStatus {
                addr: l.addr.clone(),
                result: st,
                segments,
            });
        }
        out
    }
}
