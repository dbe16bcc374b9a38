//! Shared-storage edits (`dfs.namenode.shared.edits.dir = file://…`, the NFS mode)
//! with shell fencing: failovers work, and an old Active that was not fenced (paused,
//! then resumed after another NameNode took the writer epoch) cannot write.

use std::sync::Mutex;
use std::time::Duration;

use hafs_tests::{hafs_dfs, parse_ls, MiniCluster};

static ONE_CLUSTER_AT_A_TIME: Mutex<()> = Mutex::new(());

fn names(c: &MiniCluster, dir: &str) -> Vec<String> {
    let out = hafs_dfs(&c.client_target(), &["-ls", dir]).ok();
    parse_ls(&out.stdout).into_iter().map(|e| e.path).collect()
}

#[test]
fn shared_dir_failover_and_the_superseded_writer_stops() {
    let _one = ONE_CLUSTER_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let c = MiniCluster::builder()
        .label("ha-shared-dir")
        .namenodes(2)
        .shared_dir()
        .datanodes(1)
        .start();
    let target = c.client_target();
    hafs_dfs(&target, &["-mkdir", "-p", "/s/a"]).ok();

    // A manual failover each way; the Standby tailed the shared dir.
    c.failover(0, 1);
    c.wait_for_state(1, "active", Duration::from_secs(30));
    hafs_dfs(&target, &["-mkdir", "-p", "/s/b"]).ok();
    c.failover(1, 0);
    c.wait_for_state(0, "active", Duration::from_secs(30));
    hafs_dfs(&target, &["-mkdir", "-p", "/s/c"]).ok();
    assert_eq!(names(&c, "/s"), vec!["/s/a", "/s/b", "/s/c"]);

    // nn1 (Active) hangs; nn2 is made Active without fencing it.
    c.pause_nn(0);
    // (--forceactive: nn1 cannot be asked whether it is Active, it is paused.)
    let out = c.haadmin(&["-transitionToActive", "--forceactive", "nn2"]);
    assert!(out.success(), "{out}");
    c.wait_for_state(1, "active", Duration::from_secs(30));
    // (Straight to nn2: a client trying the paused nn1 first would wait out its
    // RPC timeout.)
    c.dfs_on_nn(1, &["-mkdir", "-p", "/s/d"]).ok();
    // nn1 resumes believing it is Active: its next write finds the writer epoch taken.
    c.resume_nn(0);
    let stale = c.dfs_on_nn(0, &["-mkdir", "/s/stale"]);
    assert!(
        !stale.success(),
        "the superseded writer accepted a write:\n{stale}"
    );
    let log = c.nn_log(0);
    assert!(
        log.contains("no longer the writer of the shared edits dir"),
        "{log}"
    );
    // Nothing of it reached the log: the new Active's namespace is exactly ours.
    hafs_dfs(&target, &["-mkdir", "-p", "/s/e"]).ok();
    assert_eq!(
        names(&c, "/s"),
        vec!["/s/a", "/s/b", "/s/c", "/s/d", "/s/e"]
    );
}
