//! Safe mode at startup (Hadoop's BlockManagerSafeMode): the NameNode refuses changes
//! until enough of its complete blocks have been reported by DataNodes, so it never
//! decides replication (or deletes "unknown" replicas) from a half-known cluster.

use std::time::{Duration, Instant};

/// Where startup safe mode stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SafeModePhase {
    /// Waiting for block reports / DataNodes.
    PendingThreshold,
    /// Thresholds met; leaving when the extension ends.
    Extension { until: Instant },
    /// Left (automatically or by an operator); never re-entered automatically.
    Off,
}

/// A snapshot for handlers and `dfsadmin -safemode get`.
#[derive(Debug, Clone, PartialEq)]
pub struct SafeModeStatus {
    pub on: bool,
    /// Complete blocks with at least `dfs.namenode.replication.min` good replicas.
    pub blocks_safe: u64,
    /// Complete blocks in the namespace.
    pub blocks_total: u64,
    /// `blocks_total × threshold-pct`, rounded down (as Hadoop does).
    pub block_threshold: u64,
    pub threshold_pct: f64,
    pub live_datanodes: u64,
    pub min_datanodes: u64,
    /// Set while in the extension.
    pub extension_remaining: Option<Duration>,
}

/// Hadoop's threshold: `(long) (total * pct)`.
pub fn block_threshold(total: u64, pct: f64) -> u64 {
    (total as f64 * pct) as u64
}

impl SafeModeStatus {
    pub fn thresholds_met(&self) -> bool {
        self.blocks_safe >= self.block_threshold && self.live_datanodes >= self.min_datanodes
    }

    /// Hadoop's safe-mode tip: what is missing and when safe mode ends.
    pub fn tip(&self) -> String {
        if !self.on {
            return "Safe mode is OFF.".to_string();
        }
        if let Some(rem) = self.extension_remaining {
            return format!(
                "In safe mode extension. Safe mode will be turned off automatically in {} seconds.",
                rem.as_secs()
            );
        }
        let mut msg = String::new();
        let mut met = true;
        if self.blocks_safe < self.block_threshold {
            msg += &format!(
                "The reported blocks {} needs additional {} blocks to reach the threshold {:.4} of total blocks {}.\n",
                self.blocks_safe,
                self.block_threshold - self.blocks_safe,
                self.threshold_pct,
                self.blocks_total
            );
            met = false;
        } else {
            msg += &format!(
                "The reported blocks {} has reached the threshold {:.4} of total blocks {}. ",
                self.blocks_safe, self.threshold_pct, self.blocks_total
            );
        }
        if self.min_datanodes > 0 {
            if self.live_datanodes < self.min_datanodes {
                msg += &format!(
                    "The number of live datanodes {} needs an additional {} live datanodes to reach the minimum number {}.\n",
                    self.live_datanodes,
                    self.min_datanodes - self.live_datanodes,
                    self.min_datanodes
                );
                met = false;
            } else {
                msg += &format!(
                    "The number of live datanodes {} has reached the minimum number {}. ",
                    self.live_datanodes, self.min_datanodes
                );
            }
        } else {
            msg += "The minimum number of live datanodes is not required. ";
        }
        if met {
            msg += "Safe mode will be turned off automatically soon.";
        } else {
            msg +=
                "Safe mode will be turned off automatically once the thresholds have been reached.";
        }
        msg
    }
}

/// Decides the next phase from the counts (called whenever they may have changed).
pub fn next_phase(
    phase: SafeModePhase,
    status: &SafeModeStatus,
    extension: Duration,
    now: Instant,
) -> SafeModePhase {
    match phase {
        SafeModePhase::Off => SafeModePhase::Off,
        SafeModePhase::PendingThreshold => {
            if !status.thresholds_met() {
                phase
            } else if extension.is_zero() || status.blocks_total == 0 {
                // Nothing to wait for: Hadoop leaves at once when there are no blocks.
                SafeModePhase::Off
            } else {
                SafeModePhase::Extension {
                    until: now + extension,
                }
            }
        }
        SafeModePhase::Extension { until } => {
            if !status.thresholds_met() {
                SafeModePhase::PendingThreshold
            } else if now >= until {
                SafeModePhase::Off
            } else {
                phase
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(safe: u64, total: u64, pct: f64, live: u64, min: u64) -> SafeModeStatus {
        SafeModeStatus {
            on: true,
            blocks_safe: safe,
            blocks_total: total,
            block_threshold: block_threshold(total, pct),
            threshold_pct: pct,
            live_datanodes: live,
            min_datanodes: min,
            extension_remaining: None,
        }
    }

    #[test]
    fn threshold_math_is_hadoops() {
        assert_eq!(block_threshold(1000, 0.999), 999);
        assert_eq!(block_threshold(10, 0.999), 9);
        assert_eq!(block_threshold(1, 0.999), 0);
        assert_eq!(block_threshold(10, 1.0), 10);
        assert_eq!(block_threshold(10, 1.5), 15);
        assert!(status(9, 10, 0.999, 0, 0).thresholds_met());
        assert!(!status(8, 10, 0.999, 0, 0).thresholds_met());
        assert!(!status(10, 10, 0.999, 1, 2).thresholds_met());
        // A threshold above 1 can never be met: safe mode stays on until "leave".
        assert!(!status(10, 10, 1.5, 3, 0).thresholds_met());
    }

    #[test]
    fn tip_names_what_is_missing() {
        let t = status(3, 10, 0.999, 1, 0).tip();
        assert!(
            t.starts_with(
                "The reported blocks 3 needs additional 6 blocks to reach the threshold 0.9990 of total blocks 10.\n"
            ),
            "{t}"
        );
        assert!(t.contains("The minimum number of live datanodes is not required."));
        assert!(t.ends_with("once the thresholds have been reached."), "{t}");
        let t = status(10, 10, 0.999, 1, 3).tip();
        assert!(t.contains("The number of live datanodes 1 needs an additional 2 live datanodes to reach the minimum number 3."), "{t}");
    }

    #[test]
    fn phases() {
        let now = Instant::now();
        let ext = Duration::from_secs(30);
        let p = SafeModePhase::PendingThreshold;
        assert_eq!(next_phase(p, &status(1, 10, 0.5, 0, 0), ext, now), p);
        let e = next_phase(p, &status(5, 10, 0.5, 0, 0), ext, now);
        assert_eq!(e, SafeModePhase::Extension { until: now + ext });
        assert_eq!(
            next_phase(e, &status(5, 10, 0.5, 0, 0), ext, now + ext),
            SafeModePhase::Off
        );
        assert_eq!(next_phase(e, &status(4, 10, 0.5, 0, 0), ext, now), p);
        assert_eq!(
            next_phase(p, &status(5, 10, 0.5, 0, 0), Duration::ZERO, now),
            SafeModePhase::Off
        );
        assert_eq!(
            next_phase(p, &status(0, 0, 0.999, 0, 0), ext, now),
            SafeModePhase::Off
        );
    }
}
