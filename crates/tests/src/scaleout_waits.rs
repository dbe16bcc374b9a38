//! Waits and disk checks the scale-out scenarios on a MiniCluster share
//! (decommission.rs, maintenance.rs): polling `hafs fsck` until a condition holds,
//! with the Active NameNode's log tail on timeout, and the replicas on a DataNode's
//! disks.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::scaleout_checks::tail;
use crate::{block_files, hafs_cmd, MiniCluster};

/// The log of the Active NameNode (empty when none is Active).
pub fn active_nn_log(c: &MiniCluster) -> String {
    c.active_index().map(|i| c.nn_log(i)).unwrap_or_default()
}

/// Polls `hafs fsck <path> -files -blocks -locations` (120 s at most) until `ok`
/// holds for its output; returns that output.
#[track_caller]
pub fn wait_for_fsck(c: &MiniCluster, path: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let out = hafs_cmd(c, &["fsck", path, "-files", "-blocks", "-locations"]);
        if ok(&out.stdout) {
            return out.stdout;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not reached within 120 s; fsck:\n{}\nActive NameNode log tail:\n{}",
            out.stdout,
            tail(&active_nn_log(c), 40)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The ids of the block replicas on DataNode `i`'s disks (finalized or being written).
pub fn replicas_on(c: &MiniCluster, i: usize) -> BTreeSet<u64> {
    block_files(c.datanode_data_dirs(i))
        .into_iter()
        .map(|(id, _, _)| id)
        .collect()
}
