//! Waits and disk checks the scale-out scenarios on a MiniCluster share
//! (decommission.rs, maintenance.rs): polling `hafs fsck` or `hafs dfsadmin -report`
//! until a condition holds, with the Active NameNode's log tail on timeout, and the
//! replicas on a DataNode's disks.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::scaleout_checks::{decommission_status, tail};
use crate::{block_files, hafs_cmd, MiniCluster};

/// The log of the Active NameNode (empty when none is Active).
pub fn active_nn_log(c: &MiniCluster) -> String {
    c.active_index().map(|i| c.nn_log(i)).unwrap_or_default()
}

/// Runs `hafs <args>` against the cluster until `ok` holds for its output (at most
/// `timeout`, every 300 ms); returns that output. On timeout it fails naming `what`,
/// with the last output and the Active NameNode's log tail.
#[track_caller]
pub fn wait_for_hafs(
    c: &MiniCluster,
    args: &[&str],
    what: &str,
    timeout: Duration,
    ok: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        let out = hafs_cmd(c, args);
        if ok(&out.stdout) {
            return out.stdout;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not reached within {timeout:?}; hafs {}:\n{}\nActive NameNode log tail:\n{}",
            args.join(" "),
            out.stdout,
            tail(&active_nn_log(c), 40)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Polls `hafs fsck <path> -files -blocks -locations` (120 s at most) until `ok`
/// holds for its output; returns that output.
#[track_caller]
pub fn wait_for_fsck(c: &MiniCluster, path: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let args = ["fsck", path, "-files", "-blocks", "-locations"];
    wait_for_hafs(c, &args, what, Duration::from_secs(120), ok)
}

/// Polls `hafs dfsadmin -report` (at most `timeout`) until DataNode `xfer`'s
/// "Decommission Status" is `want`; returns the report.
#[track_caller]
pub fn wait_for_admin_state(c: &MiniCluster, xfer: &str, want: &str, timeout: Duration) -> String {
    wait_for_hafs(
        c,
        &["dfsadmin", "-report"],
        &format!("{xfer} \"{want}\""),
        timeout,
        |r| decommission_status(r, xfer).as_deref() == Some(want),
    )
}

/// The ids of the block replicas on DataNode `i`'s disks (finalized or being written).
pub fn replicas_on(c: &MiniCluster, i: usize) -> BTreeSet<u64> {
    block_files(c.datanode_data_dirs(i))
        .into_iter()
        .map(|(id, _, _)| id)
        .collect()
}
