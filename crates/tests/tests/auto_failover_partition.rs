//! Automatic failover when the Active's host is cut off from the JournalNodes (TCP
//! proxies that blackhole the links, `hafs_tests::PartitionProxy`), with both election
//! backends, under continuous writes from our client.
//!
//! - Cut from a majority (2 of 3): the Active can no longer journal. Its writes time
//!   out (`dfs.qjournal.write-txns.timeout.ms`), it steps down to Standby and reports
//!   itself unhealthy until it reads the journal from a majority again, so its
//!   controller leaves the election (ZooKeeper: the lock goes; built-in election: the
//!   controller could not renew its lease anyway and already told it to stand down) and
//!   the other controller makes nn2 Active. Healed, nn1 catches up as a Standby and can
//!   be failed back to.
//! - Cut from a minority (1 of 3): nothing changes.
//! - Cut from a majority with no writes: the built-in election fails over anyway (the
//!   lease cannot be renewed); with ZooKeeper nothing notices until the first write,
//!   which then fails over.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hafs_tests::{assert_acked_intact, hafs_dfs, sleep_until, Backend, MiniCluster, Writer};

/// Each test runs a full HA cluster with controllers; one at a time.
static ONE_CLUSTER_AT_A_TIME: Mutex<()> = Mutex::new(());

/// How long a cut-off Active's journal write may hang before it fails. Hadoop's
/// default is 20 s; with the ZooKeeper backend this is what detects the partition
/// (the controller still holds its lock), so the tests use a shorter one.
const WRITE_TIMEOUT_MS: &str = "5000";

/// Cut to new Active: write timeout (5 s) + a health check + an election (+ a 2 s
/// lease); generous for a loaded machine.
const FAILOVER_BOUND: Duration = Duration::from_secs(60);

fn cluster(label: &str, backend: Backend) -> MiniCluster {
    let c = MiniCluster::builder()
        .label(label)
        .namenodes(2)
        .journalnodes(3)
        .datanodes(3)
        .automatic_failover(backend)
        .partitionable_namenode(0)
        .conf("dfs.qjournal.write-txns.timeout.ms", WRITE_TIMEOUT_MS)
        .start();
    assert_eq!(c.active_index(), Some(0), "nn1's controller made it Active");
    c.wait_for_state(1, "standby", Duration::from_secs(10));
    c
}

fn lock() -> std::sync::MutexGuard<'static, ()> {
    ONE_CLUSTER_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// nn1's host loses 2 of the 3 JournalNodes under write load: nn1 stops being Active,
/// nn2 takes over, the writer sees only retries and every acknowledged file is intact;
/// healed, nn1 is a Standby that caught up (failed back to, it serves everything).
fn cut_from_majority_under_load(backend: Backend) {
    let _one = lock();
    let mut c = cluster("part-majority", backend);
    let target = c.client_target();
    let scratch = c.dir().join("scratch");

    let started = Instant::now();
    let writer = Writer::hafs(target.clone(), "/part/hafs", scratch);
    sleep_until(started + Duration::from_secs(3));
    c.cut_from_some_journalnodes(0, &[0, 1]);
    let cut = Instant::now();

    let active = c.wait_for_new_active(&[0], FAILOVER_BOUND);
    let took = cut.elapsed();
    assert_eq!(active, 1);
    eprintln!("{backend:?}: nn2 Active {took:?} after nn1 was cut from 2 of 3 JournalNodes");

    // nn1 is no Active any more (it stepped down; it does not exit), and while cut it
    // accepts no write.
    let deadline = Instant::now() + FAILOVER_BOUND;
    while c.ha_state(0) == Ok("active") {
        assert!(
            Instant::now() < deadline,
            "nn1 still claims Active {:?} after the cut",
            cut.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(c.nn_running(0), "nn1 exited:\n{}", c.nn_log(0));
    assert_eq!(c.ha_state(0), Ok("standby"));
    assert!(
        c.zkfc_running(0),
        "nn1's controller exited:\n{}",
        c.zkfc_log(0)
    );
    let out = c.dfs_on_nn(0, &["-mkdir", "/on-cut-nn1"]);
    assert!(!out.success(), "the cut-off nn1 accepted a write:\n{out}");
    // It reports itself unhealthy (that is what keeps its controller out of the
    // election) once its journal write or segment close has failed.
    let deadline = Instant::now() + FAILOVER_BOUND;
    while c.haadmin(&["-checkHealth", "nn1"]).success() {
        assert!(
            Instant::now() < deadline,
            "the cut-off nn1 still reports healthy {:?} after the cut",
            cut.elapsed()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // The cluster keeps serving writes on nn2 while nn1 stays cut off.
    sleep_until(cut + took + Duration::from_secs(5));
    hafs_dfs(&target, &["-mkdir", "/after-cut"]).ok();
    let report = writer.stop();
    report.assert_clean("the partition", 5);
    assert_acked_intact(
        &target,
        std::slice::from_ref(&report),
        "after the writer stopped",
    );
    assert_eq!(c.ha_state(0), Ok("standby"), "nn1 came back while cut");

    // Healed: nn1 stays Standby (nn2 holds the election) and catches up; failing back
    // to it through the controllers shows it has everything.
    c.heal_journalnodes(0);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !c.haadmin(&["-checkHealth", "nn1"]).success() {
        assert!(
            Instant::now() < deadline,
            "nn1 stays unhealthy after the heal"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(c.ha_state(1), Ok("active"));
    assert_eq!(c.ha_state(0), Ok("standby"));
    c.wait_for_block_reports(0, Duration::from_secs(30));
    failback_when_healthy(&c, backend);
    c.wait_for_state(1, "standby", Duration::from_secs(10));
    let ls = hafs_dfs(&target, &["-ls", "/"]).ok();
    assert!(ls.stdout.contains("/after-cut"), "{ls}");
    assert_acked_intact(
        &target,
        std::slice::from_ref(&report),
        "after failing back to nn1",
    );
    hafs_dfs(&target, &["-mkdir", "/on-nn1-again"]).ok();
    c.stop();
}

/// `haadmin -failover nn2 nn1`, retried until nn1's controller is back in the election
/// (it rejoins once nn1 reads the journal from a majority again).
fn failback_when_healthy(c: &MiniCluster, backend: Backend) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = c.haadmin(&["-failover", "nn2", "nn1"]);
        if out.success() {
            c.wait_for_state(0, "active", Duration::from_secs(10));
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{backend:?}: failing back to the healed nn1 did not succeed:\n{out}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn zookeeper_cut_from_majority_under_load() {
    cut_from_majority_under_load(Backend::ZooKeeper);
}

#[test]
fn journal_cut_from_majority_under_load() {
    cut_from_majority_under_load(Backend::Journal);
}

/// nn1's host loses 1 of the 3 JournalNodes: a majority still answers, so for longer
/// than the write timeout and several leases nn1 stays Active, nn2 Standby, and every
/// write succeeds.
fn cut_from_minority_changes_nothing(backend: Backend) {
    let _one = lock();
    let mut c = cluster("part-minority", backend);
    let target = c.client_target();
    let scratch = c.dir().join("scratch");

    let started = Instant::now();
    let writer = Writer::hafs(target.clone(), "/part/hafs", scratch);
    sleep_until(started + Duration::from_secs(2));
    c.cut_from_some_journalnodes(0, &[0]);
    let cut = Instant::now();
    let mut checks = 0;
    while cut.elapsed() < Duration::from_secs(12) {
        assert_eq!(c.ha_state(0), Ok("active"), "after {:?}", cut.elapsed());
        assert_eq!(c.ha_state(1), Ok("standby"), "after {:?}", cut.elapsed());
        checks += 1;
        std::thread::sleep(Duration::from_millis(250));
    }
    let out = c.dfs_on_nn(0, &["-mkdir", "/minority-cut"]);
    assert!(
        out.success(),
        "nn1 refused a write while cut from one JournalNode:\n{out}"
    );
    let report = writer.stop();
    report.assert_clean("a cut from one JournalNode", 5);
    assert_acked_intact(
        &target,
        std::slice::from_ref(&report),
        "after the writer stopped",
    );
    c.heal_journalnodes(0);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(c.ha_state(0), Ok("active"));
    assert_eq!(c.ha_state(1), Ok("standby"));
    eprintln!(
        "{backend:?}: {checks} checks, {} writes, no failover",
        report.acked.len()
    );
    c.stop();
}

#[test]
fn zookeeper_cut_from_minority_changes_nothing() {
    cut_from_minority_changes_nothing(Backend::ZooKeeper);
}

#[test]
fn journal_cut_from_minority_changes_nothing() {
    cut_from_minority_changes_nothing(Backend::Journal);
}

/// nn1's host loses 2 of 3 JournalNodes while nobody writes. Built-in election: the
/// controller cannot renew its lease, so nn2 becomes Active without any write.
/// ZooKeeper: nothing can notice (the controller holds the lock, nn1 is healthy) and
/// nn1 stays the only Active; the first write times out on nn1, which steps down, and
/// the write itself succeeds on nn2 after a failover.
fn idle_cut_from_majority(backend: Backend) {
    let _one = lock();
    let mut c = cluster("part-idle", backend);
    let target = c.client_target();
    hafs_dfs(&target, &["-mkdir", "/before"]).ok();
    c.cut_from_some_journalnodes(0, &[0, 1]);
    let cut = Instant::now();
    match backend {
        Backend::Journal => {
            let active = c.wait_for_new_active(&[0], FAILOVER_BOUND);
            assert_eq!(active, 1);
            eprintln!(
                "{backend:?}: idle cut, nn2 Active after {:?}",
                cut.elapsed()
            );
        }
        Backend::ZooKeeper => {
            // Longer than the session and several health checks: no change.
            while cut.elapsed() < Duration::from_secs(6) {
                assert_eq!(c.ha_state(0), Ok("active"), "after {:?}", cut.elapsed());
                assert_eq!(c.ha_state(1), Ok("standby"), "after {:?}", cut.elapsed());
                std::thread::sleep(Duration::from_millis(250));
            }
        }
    }
    let t = Instant::now();
    hafs_dfs(&target, &["-mkdir", "/first-write"]).ok();
    eprintln!(
        "{backend:?}: first write after the cut took {:?}",
        t.elapsed()
    );
    assert_eq!(c.wait_for_new_active(&[0], FAILOVER_BOUND), 1);
    assert_eq!(c.ha_state(0), Ok("standby"));
    assert!(c.nn_running(0), "nn1 exited:\n{}", c.nn_log(0));
    let ls = hafs_dfs(&target, &["-ls", "/"]).ok();
    assert!(
        ls.stdout.contains("/before") && ls.stdout.contains("/first-write"),
        "{ls}"
    );
    c.heal_journalnodes(0);
    c.wait_for_state(0, "standby", Duration::from_secs(10));
    c.stop();
}

#[test]
fn zookeeper_idle_cut_from_majority_fails_over_on_the_first_write() {
    idle_cut_from_majority(Backend::ZooKeeper);
}

#[test]
fn journal_idle_cut_from_majority_fails_over_without_writes() {
    idle_cut_from_majority(Backend::Journal);
}
