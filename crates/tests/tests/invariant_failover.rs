//! The failure policy end to end (docs/architecture.md, "Failure policy"): an Active
//! NameNode whose internal invariant breaks under write load stops — it exits with
//! the invariant exit status instead of serving on — its controller loses the election,
//! the Standby's controller makes nn2 Active, and every acknowledged write reads back
//! byte for byte.
//!
//! The broken invariant is planted with the edit log's test hook
//! (`hafs_namenode::edit_log::TRIP_INVARIANT_ENV`, set for nn1's process only): after
//! its first N edits nn1's edit log fails an `invariant!`, exactly where a txid that
//! does not go up would.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hafs_namenode::edit_log::TRIP_INVARIANT_ENV;
use hafs_tests::{assert_acked_intact, sleep_until, Backend, MiniCluster, Writer};
use hafs_util::invariant::INVARIANT_EXIT_CODE;

/// Each test runs a full HA cluster with controllers; one at a time.
static ONE_CLUSTER_AT_A_TIME: Mutex<()> = Mutex::new(());

/// nn1 trips after this many edits as Active: a few seconds of the writer's puts.
const TRIP_AFTER_EDITS: &str = "60";
/// As in auto_failover.rs: generous for a loaded machine.
const FAILOVER_BOUND: Duration = Duration::from_secs(20);

fn invariant_breaks_under_load(backend: Backend) {
    let _one = ONE_CLUSTER_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut c = MiniCluster::builder()
        .label("invariant-stop")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(3)
        .automatic_failover(backend)
        .namenode_env(0, TRIP_INVARIANT_ENV, TRIP_AFTER_EDITS)
        .start();
    assert_eq!(c.active_index(), Some(0), "nn1's controller made it Active");
    c.wait_for_state(1, "standby", Duration::from_secs(10));
    let target = c.client_target();
    let scratch = c.dir().join("scratch");

    let writer = Writer::hafs(target.clone(), "/invariant/hafs", scratch);
    let Some(status) = c.wait_nn_exit(0, Duration::from_secs(120)) else {
        panic!(
            "nn1 kept running past its planted invariant failure; log:\n{}",
            c.nn_log(0)
        );
    };
    let stopped = Instant::now();
    assert_eq!(
        status.code(),
        Some(INVARIANT_EXIT_CODE),
        "nn1 must stop with the invariant exit status, not {status}; log:\n{}",
        c.nn_log(0)
    );
    let log = c.nn_log(0);
    assert!(
        log.contains("invariant violated") && log.contains(TRIP_INVARIANT_ENV),
        "nn1's log names the broken invariant:\n{log}"
    );

    let active = c.wait_for_new_active(&[0], FAILOVER_BOUND);
    let took = stopped.elapsed();
    assert_eq!(active, 1);
    eprintln!("{backend:?}: nn2 Active {took:?} after nn1 stopped on its invariant");
    sleep_until(stopped + took + Duration::from_secs(4));
    let report = writer.stop();
    eprintln!(
        "{backend:?}: {} puts acknowledged, {} reads verified, failures: {:#?}",
        report.acked.len(),
        report.reads_ok,
        report.failures
    );
    report.assert_clean("the invariant stop and the failover", 3);
    assert_acked_intact(
        &target,
        std::slice::from_ref(&report),
        "after the writer stopped",
    );
    c.stop();
}

// The built-in election only: the path from a stopped NameNode to its controller
// leaving the election is the same with ZooKeeper (auto_failover.rs runs kill -9 with
// both backends), and this way the test needs no ZooKeeper install.
#[test]
fn journal_election_active_stops_on_a_broken_invariant_and_the_standby_takes_over() {
    invariant_breaks_under_load(Backend::Journal);
}

#[test]
fn zookeeper_election_active_stops_on_a_broken_invariant_and_the_standby_takes_over() {
    invariant_breaks_under_load(Backend::ZooKeeper);
}
