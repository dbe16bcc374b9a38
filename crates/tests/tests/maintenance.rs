//! Maintenance of a DataNode through the combined JSON hosts file, under a write load,
//! through a NameNode failover.
//!
//! One HA cluster serves the whole scenario (CI time): two NameNodes, three
//! JournalNodes, four DataNodes each on its own loopback address (127.0.0.2..5), the
//! hosts provider Hadoop's CombinedHostFileManager with `dfs.hosts` a JSON file listing
//! every DataNode. Replication 2; short heartbeat and monitor intervals (a silent
//! DataNode is dead after 12 s).
//!
//! Files written by Java (`hadoop fs -put`) and hdfs-native; one file of replication 1
//! held open by a Java `hadoop fs -put -` fed through stdin — the DataNode its block is
//! being written on is the victim. Continuous Java and hdfs-native writers that read
//! back what they write.
//!
//! First run: the victim is set `IN_MAINTENANCE` (expiry ten minutes ahead) and
//! `hafs dfsadmin -refreshNodes` sent to both NameNodes. hafs's report and the real
//! Apache `hdfs dfsadmin -report -enteringmaintenance -inmaintenance` show it entering
//! maintenance: the open file's block has no other replica, so it holds the node (/jmx
//! counts it). The Active NameNode is killed (-9) and the Standby made Active: the node
//! is still entering maintenance. The open file is closed: its block is copied and the
//! node is in maintenance (both reports, fsck's InMaintenanceReplicas). The victim is
//! killed (-9): declared dead, it stays in maintenance and none of its blocks gets a
//! new replica on the other DataNodes' disks (fsck: nothing under-replicated). It is
//! started again: still in maintenance. The file sets it `NORMAL`, the real
//! `hdfs dfsadmin -refreshNodes` refreshes both NameNodes: Normal again.
//!
//! Second run: maintenance again, the victim killed and declared dead, then its expiry
//! moved three seconds ahead (refresh): when it passes, the node is Normal and, being
//! dead, loses its replicas, which are re-created: every block has two live replicas
//! off the victim. No read of the load failed and every file reads back byte-exact
//! with Java and hdfs-native.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use hafs_tests::scaleout_checks::fsck_summary_count as summary_count;
use hafs_tests::scaleout_waits::{replicas_on, wait_for_fsck, wait_for_hafs};
use hafs_tests::{
    assert_acked_intact, hafs_cmd, hdfs_tool, python, read_back_with_java_and_hdfs_native,
    test_bytes, wait_for_open_block, write_with_java_and_hdfs_native, MiniCluster, StreamingClient,
    TempDir, Writer,
};

const DATANODES: usize = 4;
const FILES: usize = 6;
/// The open file: written in two halves, before and after the failover.
const OPEN_HALF: usize = 600_000;
const COMBINED: &str = "org.apache.hadoop.hdfs.server.blockmanagement.CombinedHostFileManager";

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Writes the JSON hosts file: every DataNode `NORMAL` but the victim, which gets
/// `victim_state` (with its expiry, if any).
fn write_hosts(path: &std::path::Path, c: &MiniCluster, victim: usize, victim_state: &str) {
    let entries: Vec<String> = (0..DATANODES)
        .map(|i| {
            let addr = c.datanode_xfer_addr(i);
            let state = if i == victim {
                victim_state.to_string()
            } else {
                "\"adminState\": \"NORMAL\"".to_string()
            };
            format!(
                "  {{\"hostName\": \"{}\", \"port\": {}, {state}}}",
                addr.ip(),
                addr.port()
            )
        })
        .collect();
    std::fs::write(path, format!("[\n{}\n]\n", entries.join(",\n"))).unwrap();
}

fn in_maintenance_until(expire_ms: u64) -> String {
    format!("\"adminState\": \"IN_MAINTENANCE\", \"maintenanceExpireTimeInMS\": {expire_ms}")
}

/// Polls `hafs dfsadmin -report` (90 s at most) until `ok` holds for it.
#[track_caller]
fn wait_for_report(c: &MiniCluster, what: &str, ok: impl Fn(&str) -> bool) -> String {
    wait_for_hafs(
        c,
        &["dfsadmin", "-report"],
        what,
        Duration::from_secs(90),
        ok,
    )
}

/// DataNode `xfer`'s "Decommission Status" in a `dfsadmin -report`, live or dead (a
/// node stopped in maintenance is listed among the dead with its state, unlike
/// [`hafs_tests::scaleout_checks::decommission_status`], which reads the live ones).
fn status_in_report(report: &str, xfer: &str) -> Option<String> {
    let section = report.split(&format!("Name: {xfer} ")).nth(1)?;
    section
        .lines()
        .find_map(|l| l.strip_prefix("Decommission Status : "))
        .map(str::to_string)
}

#[track_caller]
fn wait_for_status(c: &MiniCluster, xfer: &str, want: &str) -> String {
    wait_for_report(c, &format!("{xfer} \"{want}\""), |r| {
        status_in_report(r, xfer).as_deref() == Some(want)
    })
}

/// For each block on the victim's disk: the other DataNodes holding it on theirs.
fn holders_off(c: &MiniCluster, victim: usize) -> BTreeMap<u64, BTreeSet<usize>> {
    let on: Vec<BTreeSet<u64>> = (0..DATANODES).map(|i| replicas_on(c, i)).collect();
    on[victim]
        .iter()
        .map(|id| {
            let others = (0..DATANODES)
                .filter(|i| *i != victim && on[*i].contains(id))
                .collect();
            (*id, others)
        })
        .collect()
}

/// The maintenance figures of NameNode `nn`'s `/jmx` (read with Python's urllib, as a
/// monitoring agent would): (entering, in maintenance live, in maintenance dead,
/// NameNodeInfo's EnteringMaintenanceNodes).
fn maintenance_jmx(c: &MiniCluster, nn: usize) -> (u64, u64, u64, String) {
    let script = format!(
        "import json, urllib.request\n\
         def bean(q):\n    return json.load(urllib.request.urlopen('http://{}/jmx?qry=' + q))['beans'][0]\n\
         s = bean('Hadoop:service=NameNode,name=FSNamesystemState')\n\
         i = bean('Hadoop:service=NameNode,name=NameNodeInfo')\n\
         print(s['NumEnteringMaintenanceDataNodes'], s['NumInMaintenanceLiveDataNodes'], s['NumInMaintenanceDeadDataNodes'])\n\
         print(i['EnteringMaintenanceNodes'])\n",
        c.nn_http_addr_of(nn)
    );
    let out = python(c, &script).ok();
    let mut lines = out.stdout.lines();
    let n: Vec<u64> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    (
        n[0],
        n[1],
        n[2],
        lines.next().unwrap_or_default().to_string(),
    )
}

/// The real Apache `hdfs dfsadmin -report -enteringmaintenance -inmaintenance`.
#[track_caller]
fn apache_maintenance_report(c: &MiniCluster) -> String {
    hdfs_tool(
        c,
        &[
            "dfsadmin",
            "-report",
            "-enteringmaintenance",
            "-inmaintenance",
        ],
    )
    .ok()
    .stdout
}

/// Asserts that `hafs dfsadmin -refreshNodes` reached both NameNodes.
#[track_caller]
fn refresh_both(c: &MiniCluster) {
    let out = hafs_cmd(c, &["dfsadmin", "-refreshNodes"]).ok();
    assert_eq!(
        out.stdout.matches("Refresh nodes successful for ").count(),
        2,
        "{out}"
    );
}

#[test]
fn maintenance_under_load_through_a_failover_and_a_stopped_datanode() {
    let local = TempDir::new("maint-local");
    let hosts = local.join("dfs.hosts.json");
    // Every DataNode NORMAL (the cluster's addresses are known only once it is built;
    // until then no NORMAL entry means every DataNode may register).
    std::fs::write(&hosts, "[]\n").unwrap();
    let mut c = MiniCluster::builder()
        .label("maint")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(DATANODES)
        .own_datanode_hosts()
        .conf("dfs.namenode.hosts.provider.classname", COMBINED)
        .conf("dfs.hosts", hosts.display().to_string())
        .conf("dfs.namenode.decommission.interval", "1s")
        .conf("dfs.namenode.redundancy.interval.seconds", "1s")
        .conf("dfs.namenode.heartbeat.recheck-interval", "1000")
        .conf("dfs.replication", "2")
        .start();
    let target = c.client_target();
    c.wait_live_datanodes(DATANODES, Duration::from_secs(60));

    // Files by Java and by hdfs-native, replication 2.
    let mut expected = write_with_java_and_hdfs_native(&c, local.path(), "/maint", FILES, 477_777);

    // The open file, replication 1: its block being written on one DataNode only.
    let open_data = test_bytes(999, 2 * OPEN_HALF);
    let mut open_writer = StreamingClient::java(
        &c,
        &["-D", "dfs.replication=1", "-put", "-", "/maint/open"],
        &local.join("open-put.log"),
    );
    open_writer.write(&open_data[..OPEN_HALF]);
    let open_tmp = "/maint/open._COPYING_";
    let (pipeline, _) =
        wait_for_open_block(&c.nn_rpc_addr_of(0).to_string(), open_tmp, &open_writer);
    assert_eq!(pipeline.len(), 1, "replication 1: {pipeline:?}");
    // DataNode i is 127.0.0.(i+2).
    let victim_ip = pipeline[0].clone();
    let victim: usize = victim_ip
        .rsplit('.')
        .next()
        .unwrap()
        .parse::<usize>()
        .unwrap()
        - 2;
    let victim_xfer = c.datanode_xfer_addr(victim).to_string();
    eprintln!("victim: DataNode {victim} at {victim_xfer}");

    // The load, through the first run.
    let scratch = c.dir().join("scratch");
    let java_load = Writer::java(target.clone(), "/load/java", scratch);
    let native_load = Writer::hdfs_native(target.clone(), "/load/native", 60);

    // ---- First run: into maintenance, ten minutes ahead.
    write_hosts(
        &hosts,
        &c,
        victim,
        &in_maintenance_until(now_ms() + 600_000),
    );
    refresh_both(&c);
    let report = wait_for_status(&c, &victim_xfer, "Entering maintenance");
    assert!(
        report.contains("Entering maintenance datanodes (1):"),
        "{report}"
    );
    let theirs = apache_maintenance_report(&c);
    assert!(
        theirs.contains("Entering maintenance datanodes (1):")
            && theirs.contains("In maintenance datanodes (0):"),
        "Apache hdfs dfsadmin -report:\n{theirs}"
    );
    assert_eq!(
        status_in_report(&theirs, &victim_xfer).as_deref(),
        Some("Entering maintenance"),
        "{theirs}"
    );
    let (entering, _, _, nodes) = maintenance_jmx(&c, 0);
    assert_eq!(entering, 1, "{nodes}");
    assert!(
        nodes.contains(&format!("\"xferaddr\":\"{victim_xfer}\"")),
        "{nodes}"
    );
    // The open file's block, on no other node, holds it.
    std::thread::sleep(Duration::from_secs(3));
    let report = hafs_cmd(&c, &["dfsadmin", "-report"]).ok();
    assert_eq!(
        status_in_report(&report.stdout, &victim_xfer).as_deref(),
        Some("Entering maintenance"),
        "the open file's only replica must hold {victim_xfer}:\n{}",
        report.stdout
    );

    // kill -9 the Active; the Standby takes over and carries on.
    c.kill_nn(0);
    let nn2 = c.nn_id(1).to_string();
    c.haadmin(&["-transitionToActive", "--forceactive", &nn2])
        .ok();
    c.wait_for_state(1, "active", Duration::from_secs(30));
    wait_for_status(&c, &victim_xfer, "Entering maintenance");

    // Close the open file: its block is copied, and the node is in maintenance.
    open_writer.write(&open_data[OPEN_HALF..]);
    let result = open_writer.finish(Duration::from_secs(120));
    assert!(
        result.status.success(),
        "the open file's put: {}",
        result.output
    );
    expected.insert("/maint/open".to_string(), open_data);
    let report = wait_for_status(&c, &victim_xfer, "In maintenance");
    assert!(report.contains("In maintenance datanodes (1):"), "{report}");
    let theirs = apache_maintenance_report(&c);
    assert!(
        theirs.contains("Entering maintenance datanodes (0):")
            && theirs.contains("In maintenance datanodes (1):"),
        "Apache hdfs dfsadmin -report:\n{theirs}"
    );
    assert_eq!(maintenance_jmx(&c, 1).1, 1, "NumInMaintenanceLiveDataNodes");
    let fsck = wait_for_fsck(&c, "/maint", "replicas in maintenance counted", |t| {
        summary_count(t, "Under-replicated blocks") == Some(0)
            && summary_count(t, "Missing blocks") == Some(0)
            && summary_count(t, "InMaintenanceReplicas") > Some(0)
    });
    eprintln!("fsck in maintenance:\n{}", tail(&fsck, 25));
    // The NameNode that was killed comes back as Standby and reads the file again.
    c.start_nn(0);

    // Stop the victim: dead, still in maintenance, and none of its blocks copied.
    let holders_before = holders_off(&c, victim);
    assert!(!holders_before.is_empty(), "the victim holds no block");
    c.kill_datanode(victim);
    wait_for_report(&c, "the victim dead", |r| {
        r.contains("Dead datanodes (1):") && r.contains("In maintenance datanodes (1):")
    });
    assert_eq!(maintenance_jmx(&c, 1).2, 1, "NumInMaintenanceDeadDataNodes");
    // Absence of copies can only be shown by waiting: several redundancy rounds.
    std::thread::sleep(Duration::from_secs(6));
    let holders_after = holders_off(&c, victim);
    for (id, before) in &holders_before {
        let after = &holders_after[id];
        assert!(
            after.is_subset(before),
            "blk_{id} of the stopped node in maintenance was re-replicated: {before:?} -> {after:?}"
        );
    }
    let fsck = hafs_cmd(&c, &["fsck", "/maint"]).ok().stdout;
    assert_eq!(
        summary_count(&fsck, "Under-replicated blocks"),
        Some(0),
        "{fsck}"
    );
    assert_eq!(summary_count(&fsck, "Missing blocks"), Some(0), "{fsck}");
    assert!(
        summary_count(&fsck, "InMaintenanceReplicas") > Some(0),
        "{fsck}"
    );
    read_back_with_java_and_hdfs_native(
        &c,
        local.path(),
        "/maint",
        &expected,
        "victim stopped in maintenance",
    );

    // Start it again: it comes back in maintenance.
    c.start_datanode(victim);
    wait_for_report(&c, "the victim back, in maintenance", |r| {
        r.contains("Dead datanodes (0):")
            && status_in_report(r, &victim_xfer).as_deref() == Some("In maintenance")
    });

    // End it: NORMAL in the file, refreshed by the real Apache dfsadmin.
    write_hosts(&hosts, &c, victim, "\"adminState\": \"NORMAL\"");
    let out = hdfs_tool(&c, &["dfsadmin", "-refreshNodes"]).ok();
    assert_eq!(
        out.stdout.matches("Refresh nodes successful for").count(),
        2,
        "{out}"
    );
    wait_for_status(&c, &victim_xfer, "Normal");
    wait_for_fsck(&c, "/maint", "back in service, no excess", |t| {
        summary_count(t, "Over-replicated blocks") == Some(0)
            && summary_count(t, "Under-replicated blocks") == Some(0)
            && !t.contains("MaintenanceReplicas")
    });

    // The load never failed, and every file reads back exactly.
    let java_report = java_load.stop();
    let native_report = native_load.stop();
    java_report.assert_clean("maintenance", 1);
    // hdfs-native fails the one call in flight when the kill -9 of the Active drops
    // its connection ("RPC listener disconnected", see decommission.rs); no read may.
    native_report.assert_clean_but("maintenance", 1, 2, |f| {
        f.starts_with("FAIL put ") && f.contains("RPC listener disconnected")
    });
    assert_acked_intact(&target, &[java_report, native_report], "after maintenance");
    read_back_with_java_and_hdfs_native(&c, local.path(), "/maint", &expected, "maintenance ended");

    // ---- Second run: the node is dead when its maintenance ends.
    write_hosts(
        &hosts,
        &c,
        victim,
        &in_maintenance_until(now_ms() + 600_000),
    );
    refresh_both(&c);
    wait_for_status(&c, &victim_xfer, "In maintenance");
    c.kill_datanode(victim);
    wait_for_report(&c, "the victim dead again", |r| {
        r.contains("Dead datanodes (1):") && r.contains("In maintenance datanodes (1):")
    });
    // The expiry, three seconds ahead now: it passes while the node is dead.
    write_hosts(&hosts, &c, victim, &in_maintenance_until(now_ms() + 3_000));
    refresh_both(&c);
    let fsck = wait_for_fsck(&c, "/maint", "the dead node's blocks re-replicated", |t| {
        let blocks: Vec<&str> = t
            .lines()
            .filter(|l| l.contains(":blk_") && l.contains(" len="))
            .collect();
        !blocks.is_empty()
            && summary_count(t, "Under-replicated blocks") == Some(0)
            && summary_count(t, "Missing blocks") == Some(0)
            && blocks
                .iter()
                .all(|l| l.contains("Live_repl=") && !l.contains(&victim_ip))
            && !t.contains("MaintenanceReplicas")
    });
    // Every block has its file's replication in live replicas (the file's line says
    // `replication=N` before its blocks).
    let mut replication = 0u32;
    for line in fsck.lines() {
        if let Some(r) = line.split("replication=").nth(1) {
            replication = r
                .split(|ch: char| !ch.is_ascii_digit())
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        }
        if line.contains(":blk_") && line.contains(" len=") {
            let live: u32 = line
                .split("Live_repl=")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .and_then(|r| r.parse().ok())
                .unwrap_or(0);
            assert!(replication > 0 && live >= replication, "{line}\n{fsck}");
        }
    }
    let report = wait_for_status(&c, &victim_xfer, "Normal");
    assert!(!report.contains("In maintenance datanodes"), "{report}");
    read_back_with_java_and_hdfs_native(
        &c,
        local.path(),
        "/maint",
        &expected,
        "dead when maintenance ended",
    );
    c.stop();
}
