//! Decommissioning a DataNode under a write load, through a NameNode failover.
//!
//! One HA cluster serves the whole scenario (CI time): two NameNodes, three
//! JournalNodes, four DataNodes each on its own loopback address (127.0.0.2..5), so the
//! exclude file (`dfs.hosts.exclude`) names a DataNode by its IP address as an operator
//! would. Replication 3.
//!
//! Files written by Java (`hadoop fs -put`) and hdfs-native; one file of replication 1
//! held open by a Java `hadoop fs -put -` fed through stdin, its block being written
//! through the victim alone (Hadoop's rule: an open file holds a leaving node only
//! while its block being written has fewer than `dfs.namenode.replication.min` other
//! holders; with more the writer carries on without the node); continuous
//! Java and hdfs-native writers that read back what they write. The victim is added to
//! the exclude file and `hafs dfsadmin -refreshNodes` sent to both NameNodes; both
//! `hafs dfsadmin -report` and the real Apache `hdfs dfsadmin -report` show it
//! "Decommission in progress". It stays in progress while the open file is open, even
//! after every other block has three live replicas elsewhere. The Active NameNode is
//! killed (-9) and the Standby made Active: it still shows the node in progress. The
//! open file is closed: the node becomes "Decommissioned" once every block has its
//! replicas on the other nodes (fsck). No new replica landed on the victim after the
//! refresh (its disk), every file reads back byte-exact by Java and hdfs-native, and no
//! read or write of the load failed. Finally the victim is recommissioned (removed from
//! the exclude file, the real `hdfs dfsadmin -refreshNodes`): "Normal" again, and the
//! replicas it holds in excess are deleted.

use std::io::Write as _;
use std::time::{Duration, Instant};

use hafs_tests::scaleout_checks::{
    decommission_status as status_in_report, fsck_summary_count as summary_count, tail,
};
use hafs_tests::scaleout_waits::{replicas_on, wait_for_admin_state, wait_for_fsck};
use hafs_tests::{
    assert_acked_intact, hafs_cmd, hdfs_tool, python, read_back_with_java_and_hdfs_native,
    test_bytes, wait_for_open_block, write_with_java_and_hdfs_native, MiniCluster, StreamingClient,
    TempDir, Writer,
};

const DATANODES: usize = 4;
const FILES: usize = 8;
/// The open file: written in two halves, before and after the failover.
const OPEN_HALF: usize = 600_000;

/// Polls `hafs dfsadmin -report` until the victim's status is `want`.
/// `(NumDecommissioningDataNodes, NumDecomLiveDataNodes, DecomNodes)` from NameNode
/// `nn`'s `/jmx` (read with Python's urllib, as a monitoring agent would).
fn decom_jmx(c: &MiniCluster, nn: usize) -> (u64, u64, String) {
    let script = format!(
        "import json, urllib.request\n\
         def bean(q):\n    return json.load(urllib.request.urlopen('http://{}/jmx?qry=' + q))['beans'][0]\n\
         s = bean('Hadoop:service=NameNode,name=FSNamesystemState')\n\
         i = bean('Hadoop:service=NameNode,name=NameNodeInfo')\n\
         print(s['NumDecommissioningDataNodes'], s['NumDecomLiveDataNodes'])\n\
         print(i['DecomNodes'])\n",
        c.nn_http_addr_of(nn)
    );
    let out = python(c, &script).ok();
    let mut lines = out.stdout.lines();
    let counts: Vec<u64> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    (
        counts[0],
        counts[1],
        lines.next().unwrap_or_default().to_string(),
    )
}

#[test]
fn decommission_under_load_through_a_failover_then_recommission() {
    let local = TempDir::new("decom-local");
    let exclude = local.join("dfs.exclude");
    std::fs::write(&exclude, "# DataNodes to decommission\n").unwrap();
    let mut c = MiniCluster::builder()
        .label("decom")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(DATANODES)
        .own_datanode_hosts()
        .conf("dfs.hosts.exclude", exclude.display().to_string())
        .conf("dfs.namenode.decommission.interval", "1s")
        .conf("dfs.namenode.redundancy.interval.seconds", "1s")
        .conf("dfs.replication", "3")
        .start();
    let target = c.client_target();
    c.wait_live_datanodes(DATANODES, Duration::from_secs(60));

    // Files by Java and by hdfs-native, replication 3.
    let mut expected = write_with_java_and_hdfs_native(&c, local.path(), "/decom", FILES, 377_777);

    // The open file: Java `-put -` fed through stdin, its first block being written,
    // replication 1 so that the victim is the one node holding it.
    let open_data = test_bytes(999, 2 * OPEN_HALF);
    let mut open_writer = StreamingClient::java(
        &c,
        &["-D", "dfs.replication=1", "-put", "-", "/decom/open"],
        &local.join("open-put.log"),
    );
    open_writer.write(&open_data[..OPEN_HALF]);
    let open_tmp = "/decom/open._COPYING_";
    let (pipeline, open_block) =
        wait_for_open_block(&c.nn_rpc_addr_of(0).to_string(), open_tmp, &open_writer);
    // The victim: a DataNode of the open file's pipeline (DataNode i is 127.0.0.(i+2)).
    let victim_ip = pipeline[0].clone();
    let victim: usize = victim_ip
        .rsplit('.')
        .next()
        .unwrap()
        .parse::<usize>()
        .unwrap()
        - 2;
    let victim_xfer = c.datanode_xfer_addr(victim).to_string();
    eprintln!("victim: DataNode {victim} at {victim_xfer}; open file pipeline {pipeline:?}");

    // A continuous load through the whole decommission: Java and hdfs-native writers
    // that read back what they wrote.
    let scratch = c.dir().join("scratch");
    let java_load = Writer::java(target.clone(), "/load/java", scratch);
    let native_load = Writer::hdfs_native(target.clone(), "/load/native", 60);

    // Exclude the victim; refresh both NameNodes with hafs dfsadmin.
    // The open file's replica appears on the victim's disk when the pipeline connects,
    // a moment after the NameNode names it: the snapshot must not miss it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !replicas_on(&c, victim).contains(&open_block) {
        assert!(
            Instant::now() < deadline,
            "the open file's block {open_block} never appeared on {victim_xfer}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let on_victim_at_refresh = replicas_on(&c, victim);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&exclude)
        .unwrap();
    writeln!(f, "{victim_ip}").unwrap();
    drop(f);
    let refresh = hafs_cmd(&c, &["dfsadmin", "-refreshNodes"]).ok();
    assert_eq!(
        refresh
            .stdout
            .matches("Refresh nodes successful for ")
            .count(),
        2,
        "{refresh}"
    );

    // "Decommission in progress" in hafs's report and the real Apache report.
    let report = wait_for_admin_state(
        &c,
        &victim_xfer,
        "Decommission in progress",
        Duration::from_secs(30),
    );
    assert!(
        report.contains("Decommissioning datanodes (1):"),
        "{report}"
    );
    let theirs = hdfs_tool(&c, &["dfsadmin", "-report"]).ok();
    assert_eq!(
        status_in_report(&theirs.stdout, &victim_xfer).as_deref(),
        Some("Decommission in progress"),
        "Apache hdfs dfsadmin -report:\n{}",
        theirs.stdout
    );
    assert!(
        theirs.stdout.contains("Decommissioning datanodes (1):"),
        "{}",
        theirs.stdout
    );

    // Every closed file's block gets three live replicas elsewhere; the open file
    // still holds the node in progress.
    let fsck = wait_for_fsck(
        &c,
        "/decom",
        "closed files fully replicated elsewhere",
        |t| {
            summary_count(t, "Under-replicated blocks") == Some(0)
                && summary_count(t, "Missing blocks") == Some(0)
                && summary_count(t, "DecommissioningReplicas") > Some(0)
        },
    );
    eprintln!("fsck with the open file still open:\n{}", tail(&fsck, 25));
    let (decommissioning, decommissioned, decom_nodes) = decom_jmx(&c, 0);
    assert_eq!((decommissioning, decommissioned), (1, 0), "{decom_nodes}");
    assert!(
        decom_nodes.contains(&format!("\"xferaddr\":\"{victim_xfer}\"")),
        "{decom_nodes}"
    );
    std::thread::sleep(Duration::from_secs(3));
    let report = hafs_cmd(&c, &["dfsadmin", "-report"]).ok();
    assert_eq!(
        status_in_report(&report.stdout, &victim_xfer).as_deref(),
        Some("Decommission in progress"),
        "the open file must keep {victim_xfer} in progress:\n{}",
        report.stdout
    );
    // Hadoop's tool names the file holding it back.
    let blocking = hdfs_tool(&c, &["dfsadmin", "-listOpenFiles", "-blockingDecommission"]).ok();
    assert!(blocking.stdout.contains(open_tmp), "{blocking}");
    read_back_with_java_and_hdfs_native(
        &c,
        local.path(),
        "/decom",
        &expected,
        "while decommissioning",
    );

    // kill -9 the Active; the Standby takes over and carries on.
    c.kill_nn(0);
    let nn2 = c.nn_id(1).to_string();
    c.haadmin(&["-transitionToActive", "--forceactive", &nn2])
        .ok();
    c.wait_for_state(1, "active", Duration::from_secs(30));
    let report = wait_for_admin_state(
        &c,
        &victim_xfer,
        "Decommission in progress",
        Duration::from_secs(30),
    );
    assert!(
        report.contains("Decommissioning datanodes (1):"),
        "{report}"
    );

    // Close the open file (through the new Active): then the node is done.
    open_writer.write(&open_data[OPEN_HALF..]);
    let result = open_writer.finish(Duration::from_secs(120));
    assert!(
        result.status.success(),
        "the open file's put: {}",
        result.output
    );
    expected.insert("/decom/open".to_string(), open_data);
    let report = wait_for_admin_state(&c, &victim_xfer, "Decommissioned", Duration::from_secs(120));
    assert!(!report.contains("Decommissioning datanodes"), "{report}");
    let fsck = wait_for_fsck(
        &c,
        "/decom",
        "every block with its replicas off the victim",
        |t| {
            summary_count(t, "Under-replicated blocks") == Some(0)
                && summary_count(t, "Missing blocks") == Some(0)
                && summary_count(t, "DecommissionedReplicas") > Some(0)
        },
    );
    // Every block lists its file's replication (3, the open file 1) in replicas on
    // other nodes (the victim's, if listed, last).
    let mut replication = None;
    for line in fsck.lines() {
        if line.starts_with('/') {
            replication = line
                .split("replication=")
                .nth(1)
                .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|r| r.parse::<usize>().ok());
            continue;
        }
        if !(line.contains(":blk_") && line.contains(" len=")) {
            continue;
        }
        let want = replication.unwrap_or_else(|| panic!("no file line before {line}\n{fsck}"));
        let live = line
            .split("Live_repl=")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|r| r.parse::<usize>().ok());
        assert_eq!(live, Some(want), "{line}\n{fsck}");
        let others = line.matches("127.0.0.").count() - line.matches(&victim_ip).count();
        assert!(
            others >= want,
            "fewer than {want} replicas off the victim: {line}"
        );
    }
    let (decommissioning, decommissioned, _) = decom_jmx(&c, 1);
    assert_eq!((decommissioning, decommissioned), (0, 1));
    let theirs = hdfs_tool(&c, &["dfsadmin", "-report"]).ok();
    assert_eq!(
        status_in_report(&theirs.stdout, &victim_xfer).as_deref(),
        Some("Decommissioned"),
        "Apache hdfs dfsadmin -report:\n{}",
        theirs.stdout
    );

    // Nothing new landed on the victim since the refresh.
    let now_on_victim = replicas_on(&c, victim);
    let new: Vec<&u64> = now_on_victim.difference(&on_victim_at_refresh).collect();
    assert!(
        new.is_empty(),
        "replicas placed on the decommissioning node after the refresh: {new:?}"
    );

    // The load never failed, and every file reads back exactly.
    let java_report = java_load.stop();
    let native_report = native_load.stop();
    java_report.assert_clean("the decommission", 1);
    // hdfs-native fails the one call in flight when the kill -9 drops its connection
    // ("RPC listener disconnected": its proxy tries each NameNode once; see
    // ha_failover_crash.rs), and the next one it starts at once can fail the same way
    // (seen: two puts 1 ms apart). Up to two such writes may fail; no read may.
    native_report.assert_clean_but("the decommission", 1, 2, |f| {
        f.starts_with("FAIL put ") && f.contains("RPC listener disconnected")
    });
    assert_acked_intact(
        &target,
        &[java_report, native_report],
        "after the decommission",
    );
    read_back_with_java_and_hdfs_native(&c, local.path(), "/decom", &expected, "decommissioned");

    // Recommission with the real Apache dfsadmin: Normal again, and the replicas the
    // node holds in excess are deleted.
    std::fs::write(&exclude, "").unwrap();
    let out = hdfs_tool(&c, &["dfsadmin", "-refreshNodes"]);
    // nn1 is dead: Hadoop's dfsadmin names it as failed (exit -1) and refreshes nn2.
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(
        said.contains("Refresh nodes successful for") && said.contains("Refresh nodes failed for"),
        "{out}"
    );
    assert_eq!(out.code(), Some(255), "{out}");
    wait_for_admin_state(&c, &victim_xfer, "Normal", Duration::from_secs(30));
    wait_for_fsck(&c, "/decom", "no excess replicas after recommission", |t| {
        summary_count(t, "Over-replicated blocks") == Some(0)
            && summary_count(t, "Under-replicated blocks") == Some(0)
            && !t.contains("Decommission")
    });
    read_back_with_java_and_hdfs_native(&c, local.path(), "/decom", &expected, "recommissioned");
    c.stop();
}
