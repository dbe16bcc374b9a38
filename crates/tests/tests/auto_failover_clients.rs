//! Automatic failover under load from all three clients at once — our client
//! (`hafs dfs`), the Java shell and hdfs-native — with each election backend: the
//! Active is killed -9 twice (nn1, then after it is back as a Standby, nn2), the
//! controllers make the other NameNode Active each time, and every write any client
//! saw acknowledged must be present and byte-exact afterwards. To the clients a
//! failover is only retries, with one exception that is hdfs-native's own policy (see
//! [`is_hdfs_native_dropped_call`]).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hafs_tests::{assert_acked_intact, sleep_until, Backend, LoadReport, MiniCluster, Writer};

/// Each test runs a full HA cluster with controllers; one at a time.
static ONE_CLUSTER_AT_A_TIME: Mutex<()> = Mutex::new(());

/// How long hdfs-native writes (the other clients stop with it).
const LOAD: Duration = Duration::from_secs(30);
/// Kill-to-new-Active bound with the harness's 2 s session/lease; generous for a
/// loaded machine.
const FAILOVER_BOUND: Duration = Duration::from_secs(20);
/// Bound for each client (one JVM per Java command) to get a write acknowledged by a
/// new Active, and for a restarted NameNode to be a caught-up Standby.
const PROGRESS_BOUND: Duration = Duration::from_secs(40);

/// hdfs-native fails the call in flight when its connection to the killed Active
/// drops: its proxy turns the lost response into "RPC listener disconnected", and
/// when the connection cannot even be made it tries each NameNode once
/// (rust/src/hdfs/proxy.rs). When the dropped call was an addBlock, the `with` block's
/// close then fails too ("Failed to complete file in time": the NameNode holds a
/// block the client never got), and the load script reports the whole chain. That
/// write was never acknowledged, so nothing is lost; at most one such failure per
/// kill is accepted, nothing else.
fn is_hdfs_native_dropped_call(report: &LoadReport, failure: &str) -> bool {
    report.client == "hdfs-native" && failure.contains("RPC listener disconnected")
}

/// Kills the Active `dead` with -9, waits for the controllers to make the other one
/// Active and for our client and the Java shell to write through it.
#[track_caller]
fn kill_9_and_wait_for_writes(c: &mut MiniCluster, dead: usize, writers: &[&Writer]) {
    let before: Vec<usize> = writers.iter().map(|w| w.acked_so_far()).collect();
    c.kill_nn(dead);
    let killed = Instant::now();
    let active = c.wait_for_new_active(&[dead], FAILOVER_BOUND);
    assert_eq!(active, 1 - dead);
    eprintln!(
        "{:?}: {} Active {:?} after {} was killed",
        c.backend(),
        c.nn_id(active),
        killed.elapsed(),
        c.nn_id(dead)
    );
    for (w, from) in writers.iter().zip(before) {
        assert!(
            w.wait_for_acks(from, 1, PROGRESS_BOUND),
            "a writer got no write acknowledged by {} within {PROGRESS_BOUND:?}",
            c.nn_id(active)
        );
    }
}

fn three_clients_through_two_kills(backend: Backend) {
    let _one = ONE_CLUSTER_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut c = MiniCluster::builder()
        .label("auto-clients")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(3)
        .automatic_failover(backend)
        .start();
    assert_eq!(c.active_index(), Some(0), "nn1's controller made it Active");
    c.wait_for_state(1, "standby", Duration::from_secs(10));
    c.wait_for_block_reports(1, PROGRESS_BOUND);
    let target = c.client_target();
    let scratch = c.dir().join("scratch");

    let started = Instant::now();
    let hafs = Writer::hafs(target.clone(), "/clients/hafs", scratch.clone());
    let java = Writer::java(target.clone(), "/clients/java", scratch.clone());
    let native = Writer::hdfs_native(target.clone(), "/clients/native", LOAD.as_secs());
    // Every client is writing (a JVM takes a few seconds to start) before the kill.
    assert!(
        hafs.wait_for_acks(0, 1, PROGRESS_BOUND),
        "hafs wrote nothing"
    );
    assert!(
        java.wait_for_acks(0, 1, PROGRESS_BOUND),
        "java wrote nothing"
    );
    sleep_until(started + Duration::from_secs(5));

    kill_9_and_wait_for_writes(&mut c, 0, &[&hafs, &java]);
    // nn1 returns as a caught-up Standby, then it is nn2's turn to die.
    c.start_nn(0);
    c.wait_for_state(0, "standby", PROGRESS_BOUND);
    c.wait_for_block_reports(0, PROGRESS_BOUND);
    c.wait_caught_up(0, 1, PROGRESS_BOUND);
    kill_9_and_wait_for_writes(&mut c, 1, &[&hafs, &java]);
    let second_kill = started.elapsed();

    sleep_until(started + LOAD);
    let reports = vec![hafs.stop(), java.stop(), native.stop()];
    let mut summary = String::new();
    for r in &reports {
        summary.push_str(&format!(
            "{}: {} writes acknowledged, {} reads verified, {} failures\n",
            r.client,
            r.acked.len(),
            r.reads_ok,
            r.failures.len()
        ));
    }
    eprintln!(
        "{backend:?}: second kill {second_kill:?} after the load began\n{summary}{}",
        reports
            .iter()
            .flat_map(|r| &r.failures)
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );

    for r in &reports {
        r.assert_clean_but("the kills", 3, 2, |f| is_hdfs_native_dropped_call(r, f));
    }
    assert_acked_intact(&target, &reports, "after the kills");
    c.stop();
}

#[test]
fn zookeeper_kill_9_active_twice_under_three_clients() {
    three_clients_through_two_kills(Backend::ZooKeeper);
}

#[test]
fn journal_kill_9_active_twice_under_three_clients() {
    three_clients_through_two_kills(Backend::Journal);
}
