//! A crashed Active (kill -9) replaced by hand: `haadmin -transitionToActive` of a
//! Standby while clients write; the crashed NameNode restarted comes back as a Standby
//! and catches up. Also with three NameNodes (two Standbys).

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hafs_tests::{
    assert_acked_intact, hafs_dfs, parse_ls, sleep_until, ClientTarget, MiniCluster, Writer,
};

/// The tests here each run a full HA cluster; one at a time is plenty for CI machines.
static ONE_CLUSTER_AT_A_TIME: Mutex<()> = Mutex::new(());

fn listing(target: &ClientTarget, dir: &str) -> BTreeSet<String> {
    let out = hafs_dfs(target, &["-ls", "-R", dir]).ok();
    parse_ls(&out.stdout).into_iter().map(|e| e.path).collect()
}

/// kill -9 the Active, -transitionToActive --forceactive the Standby; returns how long
/// the new Active took.
#[track_caller]
fn crash_active_and_take_over(c: &mut MiniCluster, dead: usize, next: usize) -> Duration {
    c.kill_nn(dead);
    let t = Instant::now();
    let id = c.nn_id(next).to_string();
    // As in Hadoop, plain -transitionToActive refuses while another NameNode cannot be
    // asked whether it is Active; --forceactive is the runbook's answer for a dead one.
    c.haadmin(&["-transitionToActive", "--forceactive", &id])
        .ok();
    c.wait_for_state(next, "active", Duration::from_secs(30));
    t.elapsed()
}

#[test]
fn kill_9_the_active_then_transition_the_standby_and_the_old_active_returns_as_standby() {
    let _one = ONE_CLUSTER_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut c = MiniCluster::builder()
        .label("ha-crash")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(3)
        .start();
    let target = c.client_target();
    let scratch = c.dir().join("scratch");
    hafs_dfs(&target, &["-mkdir", "-p", "/before/a", "/before/b"]).ok();

    let started = Instant::now();
    let writer = Writer::hafs(target.clone(), "/crash/hafs", scratch.clone());
    let native = Writer::hdfs_native(target.clone(), "/crash/native", 16);
    sleep_until(started + Duration::from_secs(4));
    let took = crash_active_and_take_over(&mut c, 0, 1);
    eprintln!("nn2 Active {took:?} after nn1 was killed");
    sleep_until(started + Duration::from_secs(10));

    // The old Active restarts as a Standby while the writes go on.
    c.start_nn(0);
    c.wait_for_state(0, "standby", Duration::from_secs(30));
    assert_eq!(c.active_index(), Some(1));
    c.wait_for_block_reports(0, Duration::from_secs(30));
    sleep_until(started + Duration::from_secs(17));
    let reports = vec![writer.stop(), native.stop()];
    for r in &reports {
        eprintln!(
            "{}: {} acknowledged, {} reads verified, failures: {:#?}",
            r.client,
            r.acked.len(),
            r.reads_ok,
            r.failures
        );
    }
    for r in &reports {
        // hdfs-native fails a call that is in flight when its connection drops (the
        // kill -9): its proxy turns the lost response into "RPC listener disconnected"
        // and tries each NameNode only once (rust/src/hdfs/proxy.rs) — its policy, not
        // the server's. One such write may fail; anything else is an error. (When the
        // dropped call was an addBlock, the `with` block's close fails next with "Failed
        // to complete file in time" — the client never got the block the NameNode
        // allocated — and the load script reports the chain, naming the drop.)
        r.assert_clean_but("the crash", 3, 1, |f| {
            r.client == "hdfs-native" && f.contains("RPC listener disconnected")
        });
    }
    hafs_dfs(&target, &["-mkdir", "/after-restart"]).ok();
    let on_nn2 = listing(&target, "/");

    // nn1 caught up: made Active again, it shows exactly what nn2 had, including
    // everything written while it was dead and after it came back.
    c.failover(1, 0);
    assert_eq!(c.ha_state(1), Ok("standby"));
    let on_nn1 = listing(&target, "/");
    assert_eq!(on_nn1, on_nn2, "nn1's namespace after catching up");
    for p in ["/before/a", "/before/b", "/after-restart"] {
        assert!(on_nn1.contains(p), "{p} missing: {on_nn1:?}");
    }
    assert_acked_intact(&target, &reports, "after nn1 caught up");
    c.stop();
}

#[test]
fn three_namenodes_two_standbys_survive_two_successive_crashes() {
    let _one = ONE_CLUSTER_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut c = MiniCluster::builder()
        .label("ha-three")
        .namenodes(3)
        .journalnodes(3)
        .datanodes(3)
        .start();
    assert_eq!(c.active_index(), Some(0));
    c.wait_for_state(1, "standby", Duration::from_secs(10));
    c.wait_for_state(2, "standby", Duration::from_secs(10));
    let target = c.client_target();
    let scratch = c.dir().join("scratch");

    let started = Instant::now();
    let writer = Writer::hafs(target.clone(), "/three/hafs", scratch.clone());
    sleep_until(started + Duration::from_secs(3));
    // A graceful failover to the second Standby, skipping nn2.
    c.failover(0, 2);
    assert_eq!(c.ha_state(0), Ok("standby"));
    assert_eq!(c.ha_state(1), Ok("standby"));
    sleep_until(started + Duration::from_secs(6));
    // nn3 crashes; nn2, which stayed Standby all along, takes over.
    crash_active_and_take_over(&mut c, 2, 1);
    sleep_until(started + Duration::from_secs(9));
    // nn2 crashes too; nn1 takes over with nn2 and nn3 both down.
    crash_active_and_take_over(&mut c, 1, 0);
    sleep_until(started + Duration::from_secs(12));
    let report = writer.stop();
    report.assert_clean("two successive crashes", 3);
    assert_acked_intact(
        &target,
        std::slice::from_ref(&report),
        "after the writer stopped",
    );

    // Both crashed NameNodes come back as Standbys, and either can take over again.
    c.start_nn(1);
    c.start_nn(2);
    c.wait_for_state(1, "standby", Duration::from_secs(30));
    c.wait_for_state(2, "standby", Duration::from_secs(30));
    c.wait_for_block_reports(2, Duration::from_secs(30));
    let before = listing(&target, "/three");
    c.failover(0, 2);
    assert_eq!(
        listing(&target, "/three"),
        before,
        "nn3's namespace after catching up"
    );
    assert_acked_intact(&target, &[report], "after the failovers back");
    c.stop();
}
