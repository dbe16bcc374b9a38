//! A paused Active (SIGSTOP: a long GC pause) is failed over while it sleeps; when it
//! resumes it still believes it is Active. It must not be able to write (the
//! JournalNodes refuse its old epoch), nothing it accepted may become visible, and the
//! DataNodes must ignore any command it sends (they follow the newer Active's claim).
//!
//! The check for ignored commands: the resumed old Active is asked to delete a file
//! and to lower its replication. Had it applied either in memory and commanded the
//! DataNodes (invalidate the replicas), the replicas would vanish from disk; they
//! must all stay, and the file must stay readable through the new Active.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hafs_tests::{hafs_dfs, load_content, parse_ls, MiniCluster};

/// Block id → number of finalized replicas on disk, over all DataNodes.
fn replica_counts(c: &MiniCluster) -> BTreeMap<u64, usize> {
    c.finalized_replicas(&[0, 1, 2])
        .into_iter()
        .map(|(id, rs)| (id, rs.len()))
        .collect()
}

#[test]
fn a_resumed_old_active_cannot_write_and_its_datanode_commands_are_ignored() {
    let mut c = MiniCluster::builder()
        .label("ha-stale")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(3)
        .start();
    let target = c.client_target();
    let local = c.dir().join("keep.bin");
    let keep = load_content("/keep/x", 1_500_000);
    std::fs::write(&local, &keep).unwrap();
    hafs_dfs(&target, &["-mkdir", "-p", "/keep"]).ok();
    hafs_dfs(&target, &["-put", local.to_str().unwrap(), "/keep/x"]).ok();

    // Both blocks fully replicated on disk before anything else happens.
    let deadline = Instant::now() + Duration::from_secs(30);
    let before = loop {
        let counts = replica_counts(&c);
        if counts.len() == 2 && counts.values().all(|&n| n == 3) {
            break counts;
        }
        assert!(Instant::now() < deadline, "replicas on disk: {counts:?}");
        std::thread::sleep(Duration::from_millis(200));
    };

    // nn1 freezes; nn2 takes over (the graceful request to nn1 times out, the
    // configured fence `shell(true)` lets the failover go on).
    c.pause_nn(0);
    let out = c.haadmin(&["-failover", "nn1", "nn2"]);
    if !out.success() {
        assert!(
            out.stderr.contains("unknown command"),
            "haadmin -failover with a paused nn1 failed:\n{out}"
        );
        c.transition_to_active(1);
    }
    c.wait_for_state(1, "active", Duration::from_secs(30));
    // Straight to nn2: a nameservice client would first try nn1, which holds the
    // connection open without answering until the client's call timeout.
    c.dfs_on_nn(1, &["-mkdir", "/after-failover"]).ok();

    // nn1 wakes up believing it is Active.
    c.resume_nn(0);
    let stale_mkdir = c.dfs_on_nn(0, &["-mkdir", "/stale-write"]);
    assert!(
        !stale_mkdir.success(),
        "the old Active acknowledged a write after being failed over:\n{stale_mkdir}"
    );
    let stale_setrep = c.dfs_on_nn(0, &["-setrep", "1", "/keep/x"]);
    let stale_rm = c.dfs_on_nn(0, &["-rm", "-skipTrash", "/keep/x"]);
    assert!(
        !stale_rm.success(),
        "the old Active deleted a file:\n{stale_rm}"
    );
    eprintln!("old Active's answers:\n{stale_mkdir}\n{stale_setrep}\n{stale_rm}");

    // Several heartbeat rounds (1 s each) for any command of nn1 to reach a DataNode.
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(
        replica_counts(&c),
        before,
        "replicas on disk changed after the old Active resumed"
    );
    let cat = hafs_dfs(&target, &["-cat", "/keep/x"]).ok();
    assert!(cat.stdout.as_bytes() == keep.as_slice(), "/keep/x changed");
    let rep = hafs_dfs(&target, &["-stat", "%r", "/keep/x"]).ok();
    assert_eq!(rep.stdout.trim(), "3", "replication seen by the new Active");

    // nn1 is no longer Active: it stopped, or stepped down.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let running = c.nn_running(0);
        if !running || c.ha_state(0) != Ok("active") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "nn1 still claims Active 15 s after resuming; log:\n{}",
            c.nn_log(0)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(c.active_index(), Some(1), "exactly nn2 is Active");

    // Restarted, nn1 is a Standby that holds nothing it accepted while stale; made
    // Active again it shows nn2's namespace.
    c.restart_nn(0);
    c.wait_for_state(0, "standby", Duration::from_secs(30));
    c.wait_for_block_reports(0, Duration::from_secs(30));
    c.failover(1, 0);
    let ls = hafs_dfs(&target, &["-ls", "/"]).ok();
    let paths: Vec<String> = parse_ls(&ls.stdout).into_iter().map(|e| e.path).collect();
    assert!(paths.contains(&"/keep".to_string()), "{paths:?}");
    assert!(paths.contains(&"/after-failover".to_string()), "{paths:?}");
    assert!(!paths.contains(&"/stale-write".to_string()), "{paths:?}");
    let cat = hafs_dfs(&target, &["-cat", "/keep/x"]).ok();
    assert!(cat.stdout.as_bytes() == keep.as_slice(), "/keep/x changed");
    c.stop();
}
