//! [`QjmConfig`]: the QuorumJournal's timeouts and bounds (Hadoop's keys and defaults).

use std::time::Duration;

use hafs_conf::keys;

/// Timeouts and bounds (Hadoop's keys and defaults).
#[derive(Debug, Clone)]
pub struct QjmConfig {
    /// `dfs.qjournal.write-txns.timeout.ms` (20 s).
    pub write_txns_timeout: Duration,
    /// `dfs.qjournal.start-segment.timeout.ms`, `finalize-segment`, `prepare-recovery`,
    /// `accept-recovery`, `new-epoch`, `get-journal-state`, `select-input-streams` —
    /// Hadoop has one key each; hafs uses one value (20 s default) for all of them.
    pub other_timeout: Duration,
    /// `dfs.qjournal.queued-edits.limit.mb` (10 MiB).
    pub queued_edits_limit_bytes: usize,
    /// `hafs.qjournal.commit-heartbeat.ms` (10 ms): how soon after writes pause the
    /// JournalNodes learn that the last batch is committed (see `spawn_commit_heartbeat`).
    pub commit_heartbeat: Duration,
}

/// Default of `hafs.qjournal.commit-heartbeat.ms`.
pub const COMMIT_HEARTBEAT_DEFAULT: Duration =
    Duration::from_millis(keys::HAFS_QJOURNAL_COMMIT_HEARTBEAT_MS_DEFAULT);
/// `hafs.qjournal.commit-heartbeat.ms`.
pub const COMMIT_HEARTBEAT_KEY: &str = keys::HAFS_QJOURNAL_COMMIT_HEARTBEAT_MS;

impl Default for QjmConfig {
    fn default() -> Self {
        QjmConfig {
            write_txns_timeout: Duration::from_millis(
                keys::DFS_QJOURNAL_WRITE_TXNS_TIMEOUT_MS_DEFAULT,
            ),
            other_timeout: Duration::from_millis(
                keys::DFS_QJOURNAL_START_SEGMENT_TIMEOUT_MS_DEFAULT,
            ),
            queued_edits_limit_bytes: (keys::DFS_QJOURNAL_QUEUED_EDITS_LIMIT_MB_DEFAULT as usize)
                << 20,
            commit_heartbeat: COMMIT_HEARTBEAT_DEFAULT,
        }
    }
}

impl QjmConfig {
    pub fn from_conf(conf: &hafs_conf::Configuration) -> Result<QjmConfig, hafs_conf::ConfError> {
        let d = QjmConfig::default();
        Ok(QjmConfig {
            write_txns_timeout: Duration::from_millis(conf.get_u64(
                keys::DFS_QJOURNAL_WRITE_TXNS_TIMEOUT_MS,
                keys::DFS_QJOURNAL_WRITE_TXNS_TIMEOUT_MS_DEFAULT,
            )?),
            other_timeout: Duration::from_millis(conf.get_u64(
                keys::DFS_QJOURNAL_START_SEGMENT_TIMEOUT_MS,
                keys::DFS_QJOURNAL_START_SEGMENT_TIMEOUT_MS_DEFAULT,
            )?),
            queued_edits_limit_bytes: (conf.get_u64(
                keys::DFS_QJOURNAL_QUEUED_EDITS_LIMIT_MB,
                keys::DFS_QJOURNAL_QUEUED_EDITS_LIMIT_MB_DEFAULT,
            )? as usize)
                .saturating_mul(1 << 20)
                .max(d.queued_edits_limit_bytes.min(1 << 20)),
            // At least 1 ms (a zero period would spin), at most a minute.
            commit_heartbeat: Duration::from_millis(
                conf.get_u64(
                    COMMIT_HEARTBEAT_KEY,
                    COMMIT_HEARTBEAT_DEFAULT.as_millis() as u64,
                )?
                .clamp(1, 60_000),
            ),
        })
    }
}
