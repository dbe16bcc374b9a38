//! Observer NameNodes (Hadoop 3.3's consistent reads from a Standby): one HA cluster of
//! three NameNodes on JournalNodes with automatic failover (the built-in election) —
//! nn1 Active, nn2 Standby, nn3 made an Observer with `hafs haadmin
//! -transitionToObserver --forcemanual`. Every NameNode runs with
//! `dfs.namenode.state.context.enabled`.
//!
//! - A writer (the Java shell, ConfiguredFailoverProxyProvider) creates files; a
//!   reader (another JVM, ObserverReadProxyProvider with msync before every read)
//!   reads them: served by the Observer (its RPC metrics in /jmx, read with curl,
//!   count the reads; the Active's count none) and never stale.
//! - hdfs-native with ObserverReadProxyProvider reads its own writes from the Observer.
//! - The Observer cut off from the JournalNodes while the Active keeps writing: a
//!   reader whose state is newer is never served stale data (the Observer holds its
//!   read, then answers RetriableException, and the client reads from the Active).
//! - The Observer refuses to become Active; kill -9 the Active: the Standby takes
//!   over, the Observer stays an Observer and serves reads again.

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use hafs_tests::{
    java_fs, python, run_with_timeout, Backend, ClientTarget, MiniCluster, NAMESERVICE,
    OBSERVER_PROXY_PROVIDER,
};
use serde_json::Value;

const OBSERVER: usize = 2;
const BOUND: Duration = Duration::from_secs(40);

/// One numeric attribute of a bean on a daemon's `/jmx`, fetched with curl; 0 when the
/// bean has no such attribute yet (a method's counters appear with its first call).
fn jmx_number(http: SocketAddr, bean: &str, attr: &str) -> u64 {
    let url = format!("http://{http}/jmx?qry={bean}");
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--fail", "--max-time", "10", &url]);
    let out = run_with_timeout(cmd, Duration::from_secs(20)).ok();
    let v: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("/jmx of {http} is not JSON ({e}): {out}"));
    let beans = v["beans"].as_array().unwrap_or_else(|| panic!("{v}"));
    assert_eq!(beans.len(), 1, "one bean {bean} on {http}: {v}");
    beans[0][attr].as_u64().unwrap_or(0)
}

/// Calls of `method` NameNode `i` has answered (Hadoop's RpcDetailedActivity).
fn rpc_ops(c: &MiniCluster, i: usize, method: &str) -> u64 {
    let bean = format!(
        "Hadoop:service=NameNode,name=RpcDetailedActivityForPort{}",
        c.nn_rpc_addr_of(i).port()
    );
    jmx_number(c.nn_http_addr_of(i), &bean, &format!("{method}NumOps"))
}

fn observer_counter(c: &MiniCluster, attr: &str) -> u64 {
    jmx_number(
        c.nn_http_addr_of(OBSERVER),
        "hafs:service=NameNode,name=HAStatus",
        attr,
    )
}

/// The reads an ObserverReadProxyProvider client sends to NameNode `i`.
fn reads(c: &MiniCluster, i: usize) -> (u64, u64) {
    (
        rpc_ops(c, i, "GetFileInfo"),
        rpc_ops(c, i, "GetBlockLocations"),
    )
}

fn reader_target(c: &MiniCluster) -> ClientTarget {
    let provider = format!("dfs.client.failover.proxy.provider.{NAMESERVICE}");
    let msync = format!("dfs.client.failover.observer.auto-msync-period.{NAMESERVICE}");
    c.client_target_with(
        "observer-reader",
        &[(&provider, OBSERVER_PROXY_PROVIDER), (&msync, "0")],
    )
}

/// Waits until the Observer has applied everything the Active has written (and so
/// holds the DataNodes' reports of the blocks written so far).
fn wait_observer_caught_up(c: &MiniCluster, active: usize) {
    c.wait_caught_up(OBSERVER, active, BOUND);
}

#[test]
fn observer_serves_consistent_reads_and_is_never_elected() {
    let mut c = MiniCluster::builder()
        .label("observer")
        .namenodes(3)
        .journalnodes(3)
        .datanodes(1)
        .automatic_failover(Backend::Journal)
        .partitionable_namenode(OBSERVER)
        .conf("dfs.namenode.state.context.enabled", "true")
        .start();
    assert_eq!(c.active_index(), Some(0), "nn1's controller made it Active");
    c.wait_for_state(1, "standby", BOUND);
    c.wait_for_state(OBSERVER, "standby", BOUND);
    c.wait_for_block_reports(OBSERVER, BOUND);

    // haadmin: Standby → Observer; an Observer is never made Active.
    c.transition_to_observer(OBSERVER);
    let refused = c.haadmin_confirmed(&[
        "-transitionToActive",
        "--forcemanual",
        "--forceactive",
        "nn3",
    ]);
    assert!(!refused.success(), "an Observer became Active: {refused}");
    assert!(
        refused
            .to_string()
            .contains("Cannot transition from 'observer' to 'active'"),
        "{refused}"
    );
    assert_eq!(c.ha_state(OBSERVER), Ok("observer"));
    let out = c.haadmin(&["-getServiceState", "nn3"]).ok();
    assert_eq!(out.stdout.trim(), "observer");

    // A plain client (no state id) is sent to the Active; a write too.
    let plain = c.dfs_on_nn(OBSERVER, &["-ls", "/"]);
    assert!(!plain.success(), "{plain}");
    assert!(
        plain
            .to_string()
            .contains("Observer Node received request without stateId"),
        "{plain}"
    );
    let write = c.dfs_on_nn(OBSERVER, &["-mkdir", "/on-observer"]);
    assert!(!write.success(), "{write}");

    let gone = java_fs(&c.client_target(), &["-test", "-e", "/on-observer"]);
    assert!(
        !gone.success(),
        "a write on the Observer took effect: {write}"
    );

    // Java: a writer JVM writes, a reader JVM (ObserverReadProxyProvider, msync
    // before every read) reads from the Observer, never stale.
    let writer = c.client_target();
    let reader = reader_target(&c);
    let scratch = c.dir().join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    java_fs(&writer, &["-mkdir", "-p", "/obs"]).ok();
    for i in 0..3 {
        let local = scratch.join(format!("f{i}"));
        std::fs::write(&local, format!("observer file {i}\n")).unwrap();
        java_fs(
            &writer,
            &["-put", local.to_str().unwrap(), &format!("/obs/f{i}")],
        )
        .ok();
    }
    wait_observer_caught_up(&c, 0);
    let active_before = reads(&c, 0);
    let observer_before = reads(&c, OBSERVER);
    for i in 0..3 {
        let out = java_fs(&reader, &["-cat", &format!("/obs/f{i}")]).ok();
        assert_eq!(out.stdout, format!("observer file {i}\n"), "{out}");
    }
    let active_after = reads(&c, 0);
    let observer_after = reads(&c, OBSERVER);
    assert!(
        observer_after.0 >= observer_before.0 + 3 && observer_after.1 >= observer_before.1 + 3,
        "the Observer served the reads: getFileInfo/getBlockLocations {observer_before:?} → {observer_after:?}"
    );
    assert_eq!(
        active_after.0, active_before.0,
        "no getFileInfo reached the Active ({active_before:?} → {active_after:?})"
    );
    // Read-after-write across processes: each new file is visible to the next reader
    // JVM at once (its msync carries the Active's state id to the Observer).
    for i in 3..5 {
        let local = scratch.join(format!("f{i}"));
        std::fs::write(&local, format!("observer file {i}\n")).unwrap();
        java_fs(
            &writer,
            &["-put", local.to_str().unwrap(), &format!("/obs/f{i}")],
        )
        .ok();
        let out = java_fs(&reader, &["-ls", &format!("/obs/f{i}")]);
        assert!(
            out.success(),
            "a file just written is missing for the reader: {out}"
        );
    }

    // hdfs-native with ObserverReadProxyProvider reads its own writes.
    let before = reads(&c, OBSERVER);
    let script = r#"
import os
from hdfs_native import Client
c = Client(os.environ["HAFS_FS_URI"])
for i in range(3):
    data = ("native %d\n" % i).encode()
    with c.create("/obs/native%d" % i) as f:
        f.write(data)
    assert c.get_file_info("/obs/native%d" % i).length == len(data)
    with c.read("/obs/native%d" % i) as f:
        got = f.read()
    assert got == data, (got, data)
print("ok")
"#;
    let out = python(&reader, script).ok();
    assert_eq!(out.stdout.trim(), "ok", "{out}");
    let after = reads(&c, OBSERVER);
    assert!(
        after.0 > before.0,
        "hdfs-native's reads reached the Observer: {before:?} → {after:?}"
    );

    // The Observer cut off from the JournalNodes: the Active goes on writing; a
    // reader whose msync brings a newer state id is never served the old namespace.
    wait_observer_caught_up(&c, 0);
    let not_caught_up = observer_counter(&c, "ObserverReadsNotCaughtUp");
    c.cut_from_journalnodes(OBSERVER);
    for i in 0..2 {
        let local = scratch.join(format!("cut{i}"));
        std::fs::write(&local, format!("written while cut {i}\n")).unwrap();
        java_fs(
            &writer,
            &["-put", local.to_str().unwrap(), &format!("/obs/cut{i}")],
        )
        .ok();
        let out = java_fs(&reader, &["-cat", &format!("/obs/cut{i}")]).ok();
        assert_eq!(out.stdout, format!("written while cut {i}\n"), "{out}");
    }
    let refused_reads = observer_counter(&c, "ObserverReadsNotCaughtUp") - not_caught_up;
    assert!(
        refused_reads >= 2,
        "the cut-off Observer held and refused the newer reads ({refused_reads})"
    );
    let listing = java_fs(&reader, &["-ls", "/obs"]).ok();
    assert!(listing.stdout.contains("/obs/cut1"), "{listing}");
    c.heal_journalnodes(OBSERVER);
    wait_observer_caught_up(&c, 0);
    let before = reads(&c, OBSERVER);
    let out = java_fs(&reader, &["-cat", "/obs/cut1"]).ok();
    assert_eq!(out.stdout, "written while cut 1\n");
    assert!(
        reads(&c, OBSERVER).0 > before.0,
        "healed: the Observer serves again"
    );

    // kill -9 the Active: the Standby takes over, never the Observer.
    c.kill_nn(0);
    let killed = Instant::now();
    let active = c.wait_for_new_active(&[0], BOUND);
    assert_eq!(active, 1, "the Standby nn2 took over");
    eprintln!("nn2 Active {:?} after nn1 was killed", killed.elapsed());
    assert_eq!(c.ha_state(OBSERVER), Ok("observer"));
    let local = scratch.join("after");
    std::fs::write(&local, "after failover\n").unwrap();
    java_fs(&writer, &["-put", local.to_str().unwrap(), "/obs/after"]).ok();
    wait_observer_caught_up(&c, 1);
    let before = reads(&c, OBSERVER);
    let out = java_fs(&reader, &["-cat", "/obs/after"]).ok();
    assert_eq!(out.stdout, "after failover\n");
    assert!(
        reads(&c, OBSERVER).1 > before.1,
        "the Observer serves reads under the new Active"
    );
    assert_eq!(c.ha_state(OBSERVER), Ok("observer"));
}
