//! Automatic failover with real processes: a `hafs zkfc` beside each NameNode, every
//! scenario run with both election backends (a real standalone ZooKeeper, and the
//! built-in election over the JournalNodes).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hafs_tests::{assert_acked_intact, hafs_dfs, sleep_until, Backend, MiniCluster, Writer};

/// Each test runs a full HA cluster with controllers; one at a time.
static ONE_CLUSTER_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The longest a kill-to-new-Active may take with the harness's short timeouts (2 s
/// ZooKeeper session or lease, 200 ms health checks); generous for a loaded machine.
const FAILOVER_BOUND: Duration = Duration::from_secs(20);

fn cluster(label: &str, backend: Backend, datanodes: usize) -> MiniCluster {
    let c = MiniCluster::builder()
        .label(label)
        .namenodes(2)
        .journalnodes(3)
        .datanodes(datanodes)
        .automatic_failover(backend)
        .start();
    assert_eq!(c.active_index(), Some(0), "nn1's controller made it Active");
    c.wait_for_state(1, "standby", Duration::from_secs(10));
    c
}

/// kill -9 the Active under write load: the Standby's controller makes it Active on its
/// own, the writer sees only retries, every acknowledged file is intact, and the killed
/// NameNode restarted comes back Standby.
fn kill_9_active_under_load(backend: Backend) {
    let _one = ONE_CLUSTER_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut c = cluster("auto-kill9", backend, 3);
    let target = c.client_target();
    let scratch = c.dir().join("scratch");

    let started = Instant::now();
    let writer = Writer::hafs(target.clone(), "/auto/hafs", scratch);
    sleep_until(started + Duration::from_secs(3));
    c.kill_nn(0);
    let killed = Instant::now();
    let active = c.wait_for_new_active(&[0], FAILOVER_BOUND);
    let took = killed.elapsed();
    assert_eq!(active, 1);
    eprintln!("{backend:?}: nn2 Active {took:?} after nn1 was killed");
    sleep_until(killed + took + Duration::from_secs(4));
    let report = writer.stop();
    report.assert_clean("the failover", 3);
    assert_acked_intact(
        &target,
        std::slice::from_ref(&report),
        "after the writer stopped",
    );

    // The old Active restarted stays Standby: nn2 holds the election.
    c.start_nn(0);
    c.wait_for_state(0, "standby", Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(c.ha_state(0), Ok("standby"));
    assert_eq!(c.ha_state(1), Ok("active"));
    c.stop();
}

#[test]
fn zookeeper_kill_9_active_under_load() {
    kill_9_active_under_load(Backend::ZooKeeper);
}

#[test]
fn journal_kill_9_active_under_load() {
    kill_9_active_under_load(Backend::Journal);
}

/// kill -9 the Active's controller: its session/lease ends, the other controller fences
/// the old Active (it goes Standby) and makes its own NameNode Active.
fn kill_active_controller(backend: Backend) {
    let _one = ONE_CLUSTER_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut c = cluster("auto-killzkfc", backend, 0);
    let target = c.client_target();
    hafs_dfs(&target, &["-mkdir", "/before"]).ok();
    c.kill_zkfc(0);
    let active = c.wait_for_new_active(&[0], FAILOVER_BOUND);
    assert_eq!(active, 1);
    c.wait_for_state(0, "standby", Duration::from_secs(10));
    hafs_dfs(&target, &["-mkdir", "/after"]).ok();
    let out = c.dfs_on_nn(0, &["-mkdir", "/on-old-active"]);
    assert!(!out.success(), "the fenced nn1 accepted a write:\n{out}");
    let ls = hafs_dfs(&target, &["-ls", "/"]).ok();
    assert!(
        ls.stdout.contains("/before") && ls.stdout.contains("/after"),
        "{ls}"
    );
    c.stop();
}

#[test]
fn zookeeper_kill_active_controller() {
    kill_active_controller(Backend::ZooKeeper);
}

#[test]
fn journal_kill_active_controller() {
    kill_active_controller(Backend::Journal);
}

/// `hafs haadmin -failover nn1 nn2` goes through the controllers (gracefulFailover) and
/// back again; plain -transitionToActive is refused while automatic failover is on.
fn graceful_failover_through_controllers(backend: Backend) {
    let _one = ONE_CLUSTER_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut c = cluster("auto-graceful", backend, 0);
    let target = c.client_target();
    let refused = c.haadmin(&["-transitionToActive", "nn2"]);
    assert!(!refused.success(), "manual transition allowed:\n{refused}");

    for (from, to) in [(0, 1), (1, 0)] {
        let (a, b) = (c.nn_id(from).to_string(), c.nn_id(to).to_string());
        let t = Instant::now();
        c.haadmin(&["-failover", &a, &b]).ok();
        c.wait_for_state(to, "active", Duration::from_secs(10));
        c.wait_for_state(from, "standby", Duration::from_secs(10));
        eprintln!("{backend:?}: graceful {a} -> {b} in {:?}", t.elapsed());
        hafs_dfs(&target, &["-mkdir", &format!("/after-{b}")]).ok();
        // The controllers keep it that way.
        std::thread::sleep(Duration::from_secs(3));
        assert_eq!(c.ha_state(to), Ok("active"));
        assert_eq!(c.ha_state(from), Ok("standby"));
    }
    let ls = hafs_dfs(&target, &["-ls", "/"]).ok();
    assert!(
        ls.stdout.contains("/after-nn1") && ls.stdout.contains("/after-nn2"),
        "{ls}"
    );
    c.stop();
}

#[test]
fn zookeeper_graceful_failover_through_controllers() {
    graceful_failover_through_controllers(Backend::ZooKeeper);
}

#[test]
fn journal_graceful_failover_through_controllers() {
    graceful_failover_through_controllers(Backend::Journal);
}

/// ZooKeeper down: no election can happen, so nothing changes — nn1 stays Active and
/// serves, nn2 stays Standby; ZooKeeper back: elections resume (kill -9 nn1 → nn2).
#[test]
fn zookeeper_down_keeps_the_active_and_elections_resume_after_restart() {
    let _one = ONE_CLUSTER_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut c = cluster("auto-zkdown", Backend::ZooKeeper, 0);
    let target = c.client_target();
    c.zookeeper().kill();
    // Longer than the 2 s session: the controllers go neutral, nobody transitions.
    for k in 0..5 {
        std::thread::sleep(Duration::from_secs(1));
        hafs_dfs(&target, &["-mkdir", &format!("/zk-down-{k}")]).ok();
        assert_eq!(c.ha_state(0), Ok("active"), "after {}s", k + 1);
        assert_eq!(c.ha_state(1), Ok("standby"), "after {}s", k + 1);
    }
    c.zookeeper().restart();
    // Let the controllers find ZooKeeper again (new sessions, nn1's lock re-taken).
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(c.ha_state(0), Ok("active"));
    c.kill_nn(0);
    assert_eq!(c.wait_for_new_active(&[0], FAILOVER_BOUND), 1);
    let ls = hafs_dfs(&target, &["-ls", "/"]).ok();
    assert!(ls.stdout.contains("/zk-down-4"), "{ls}");
    c.stop();
}
