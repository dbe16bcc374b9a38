//! The balancers (`hafs balancer`, then Apache Hadoop's own `hdfs balancer`) on a growing
//! cluster: two full DataNodes and two new empty ones, on two racks (127.0.0.2 and .4 on
//! /rack1, .3 and .5 on /rack2, each DataNode on its own loopback address), every volume
//! bounded to 32 MiB by `dfs.datanode.du.reserved` so that utilization percentages mean
//! something on a shared disk.
//!
//! One cluster serves the whole scenario (CI time): 24 MiB written with replication 2
//! (1 MiB blocks; half by the Java `hadoop fs -put`, half by hdfs-native), so both first
//! DataNodes hold every block; two empty DataNodes join; `dfsadmin
//! -setBalancerBandwidth` reaches every DataNode through its heartbeat; `hafs balancer
//! -threshold 10` runs while hdfs-native keeps reading every file (byte-exact each
//! round) and a second balancer started meanwhile is refused with Hadoop's message and
//! exit code; at the end every DataNode is within the threshold of the mean, the new
//! DataNodes hold blocks, every block still has two replicas on two racks with none in
//! excess (fsck HEALTHY), the balancer's lock file is gone, and the Java client reads
//! every byte back. The balancer's time and bytes moved are printed. Apache Hadoop's own
//! `hdfs balancer`, tried while `hafs balancer` runs, is refused the same way.
//!
//! Then Apache Hadoop's own `hdfs balancer` on the same cluster: two more empty
//! DataNodes (127.0.0.6 on /rack1, .7 on /rack2) put it out of balance again;
//! getDatanodeStorageReport lists every volume (superuser only); `dfsadmin
//! -rollingUpgrade query` finds none; Apache's and hafs's `dfsadmin -getDatanodeInfo`
//! and `-getBalancerBandwidth` answer from a DataNode; `hdfs balancer -threshold 5`
//! runs while hdfs-native and the Java client keep reading every file byte-exact, and
//! `hafs balancer` started meanwhile is refused; it ends "The
//! cluster is balanced" with exit 0, every DataNode within 5 % of the mean (by
//! getDatanodeReport, `hdfs dfsadmin -report` and `hafs dfsadmin -report`), the replicas
//! on disk exactly where getBlockLocations says, fsck HEALTHY on both racks.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use hafs_ipc::{ClientConfig, RpcClient};
use hafs_proto::hdfs as pb;
use hafs_tests::{
    hafs_cmd, hdfs_tool, java_fs, python, test_bytes, CmdOutput, JavaShell, MiniCluster, TempDir,
};

const CLIENT_PROTOCOL: &str = "org.apache.hadoop.hdfs.protocol.ClientProtocol";
const RACK1: [&str; 3] = ["127.0.0.2", "127.0.0.4", "127.0.0.6"];
const RACK2: [&str; 3] = ["127.0.0.3", "127.0.0.5", "127.0.0.7"];
const FILES_PER_CLIENT: usize = 6;
const FILE_SIZE: usize = 2 << 20;
/// Each volume's capacity (two volumes per DataNode).
const VOLUME_CAPACITY: u64 = 32 << 20;
const THRESHOLD: f64 = 10.0;
/// The threshold of the Apache balancer's run (tighter: it starts from a cluster the
/// hafs balancer left within 10 %).
const APACHE_THRESHOLD: f64 = 5.0;

fn write_topology_script(path: &Path) {
    let mut s = String::from("#!/bin/sh\nfor a in \"$@\"; do\n  case \"$a\" in\n");
    for ip in RACK1 {
        s.push_str(&format!("    {ip}) echo /rack1 ;;\n"));
    }
    for ip in RACK2 {
        s.push_str(&format!("    {ip}) echo /rack2 ;;\n"));
    }
    s.push_str("    *) echo /default-rack ;;\n  esac\ndone\n");
    std::fs::write(path, s).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The size of the file system holding `dir` (statvfs f_blocks × f_frsize, as the
/// DataNode computes a volume's capacity).
fn fs_size(dir: &Path) -> u64 {
    let out = std::process::Command::new("stat")
        .args(["-f", "-c", "%b %S"])
        .arg(dir)
        .output()
        .expect("stat -f");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace().map(|v| v.parse::<u64>().unwrap());
    it.next().unwrap() * it.next().unwrap()
}

fn datanode_report(cluster: &MiniCluster) -> Vec<pb::DatanodeInfoProto> {
    let client = RpcClient::new(
        cluster.nn_rpc_addr().to_string(),
        CLIENT_PROTOCOL,
        ClientConfig::default(),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let r: pb::GetDatanodeReportResponseProto = rt
        .block_on(client.call(
            "getDatanodeReport",
            &pb::GetDatanodeReportRequestProto {
                r#type: pb::DatanodeReportTypeProto::Live as i32,
            },
        ))
        .expect("getDatanodeReport");
    r.di
}

/// (ip, utilization %, dfs used) of every live DataNode, and the cluster's average.
fn utilizations(cluster: &MiniCluster) -> (Vec<(String, f64, u64)>, f64) {
    let report = datanode_report(cluster);
    let (mut used, mut cap) = (0u64, 0u64);
    let mut v = Vec::new();
    for d in &report {
        let c = d.capacity.unwrap_or(0);
        let u = d.dfs_used.unwrap_or(0);
        assert!(c > 0, "DataNode {} reports no capacity", d.id.ip_addr);
        used += u;
        cap += c;
        v.push((d.id.ip_addr.clone(), u as f64 * 100.0 / c as f64, u));
    }
    v.sort_by(|a, b| a.0.cmp(&b.0));
    (v, used as f64 * 100.0 / cap as f64)
}

/// `fsck / -files -blocks -racks`: each block's replica racks.
fn fsck_block_racks(cluster: &MiniCluster) -> (Vec<Vec<String>>, String) {
    let out = hafs_cmd(cluster, &["fsck", "/bal", "-files", "-blocks", "-racks"]);
    let mut blocks = Vec::new();
    for line in out.stdout.lines() {
        if line.contains(":blk_") && line.contains(" len=") {
            let racks = line
                .split_once('[')
                .and_then(|(_, rest)| rest.split_once(']'))
                .map(|(inside, _)| {
                    inside
                        .split(", ")
                        .filter_map(|p| p.rfind('/').map(|at| p[..at].to_string()))
                        .collect()
                })
                .unwrap_or_default();
            blocks.push(racks);
        }
    }
    (blocks, out.stdout)
}

fn id_file_exists(cluster: &MiniCluster) -> bool {
    let client = RpcClient::new(
        cluster.nn_rpc_addr().to_string(),
        CLIENT_PROTOCOL,
        ClientConfig::default(),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let r: pb::GetFileInfoResponseProto = rt
        .block_on(client.call(
            "getFileInfo",
            &pb::GetFileInfoRequestProto {
                src: "/system/balancer.id".into(),
            },
        ))
        .expect("getFileInfo");
    r.fs.is_some()
}

#[test]
fn hafs_then_apache_balancer_end_within_the_threshold_while_clients_read() {
    let local = TempDir::new("balancer-local");
    let script = local.join("topology.sh");
    write_topology_script(&script);
    let reserved = fs_size(local.path()).saturating_sub(VOLUME_CAPACITY);
    let mut cluster = MiniCluster::builder()
        .label("balancer")
        .datanodes(2)
        .own_datanode_hosts()
        .conf(
            "net.topology.script.file.name",
            script.display().to_string(),
        )
        .conf("dfs.replication", "2")
        .conf("dfs.datanode.du.reserved", reserved.to_string())
        // The test's blocks are 1 MiB; Hadoop's balancer skips blocks under 10 MB.
        .conf("dfs.balancer.getBlocks.min-block-size", "1048576")
        .start();

    // 24 MiB of files, replication 2: both DataNodes hold every block.
    let java_dir = local.join("java");
    std::fs::create_dir_all(&java_dir).unwrap();
    let mut expected: BTreeMap<String, std::path::PathBuf> = BTreeMap::new();
    for i in 0..FILES_PER_CLIENT {
        let p = java_dir.join(format!("j{i}"));
        std::fs::write(&p, test_bytes(i as u64, FILE_SIZE)).unwrap();
        expected.insert(format!("/bal/java/j{i}"), p);
    }
    hafs_cmd(&cluster, &["dfs", "-mkdir", "-p", "/bal/native"]).ok();
    java_fs(
        &cluster,
        &["-put", &java_dir.display().to_string(), "/bal/java"],
    )
    .ok();
    let mut native = String::from(
        "import os\nfrom hdfs_native import Client, WriteOptions\nc = Client(os.environ['HAFS_FS_URI'])\n",
    );
    for i in 0..FILES_PER_CLIENT {
        let n = i + FILES_PER_CLIENT;
        let p = local.join(format!("n{n}"));
        std::fs::write(&p, test_bytes(n as u64, FILE_SIZE)).unwrap();
        native.push_str(&format!(
            "with c.create('/bal/native/n{n}', WriteOptions(replication=2)) as w:\n    w.write(open('{}', 'rb').read())\n",
            p.display()
        ));
        expected.insert(format!("/bal/native/n{n}"), p);
    }
    python(&cluster, &native).ok();
    let total_blocks = expected.len() * FILE_SIZE.div_ceil(1 << 20);

    // Two empty DataNodes join, one per rack.
    cluster.add_datanode();
    cluster.add_datanode();
    cluster.wait_live_datanodes(4, Duration::from_secs(30));
    let deadline = Instant::now() + Duration::from_secs(30);
    let (before, before_avg) = loop {
        let (u, avg) = utilizations(&cluster);
        let full = u.iter().filter(|(_, p, _)| *p > 30.0).count();
        if u.len() == 4 && full == 2 {
            break (u, avg);
        }
        assert!(Instant::now() < deadline, "usage not reported: {u:?}");
        std::thread::sleep(Duration::from_millis(300));
    };
    println!("before: average {before_avg:.1} %, {before:?}");
    assert!(
        before
            .iter()
            .any(|(_, p, _)| (p - before_avg).abs() > THRESHOLD),
        "the cluster must start out of balance: {before:?}"
    );

    // The bandwidth reaches every DataNode with a heartbeat. 1 MiB/s keeps the balancer
    // running for seconds, long enough for the other balancers (a JVM) to be refused.
    let bw = hafs_cmd(&cluster, &["dfsadmin", "-setBalancerBandwidth", "1m"]).ok();
    assert!(
        bw.stdout.contains("Balancer bandwidth is set to 1048576"),
        "{bw}"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    for i in 0..4 {
        while !cluster.datanode_log(i).contains("balancer bandwidth set") {
            assert!(
                Instant::now() < deadline,
                "DataNode {i} never got the BalancerBandwidthCommand"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    assert!(
        cluster.datanode_log(0).contains("bandwidth=1048576"),
        "DataNode 0 log does not name the new bandwidth"
    );

    // A reader that keeps reading every file (hdfs-native) until told to stop.
    let stop = local.join("stop-readers");
    let reader_target = cluster.as_user("hdfs");
    let reader = native_reader_script(&expected, &stop);
    let reader_thread = std::thread::spawn(move || python(&reader_target, &reader));

    // The balancer, and a second one while the first holds /system/balancer.id.
    let balancer_target = cluster.as_user("hdfs");
    let started = Instant::now();
    let first =
        std::thread::spawn(move || hafs_cmd(&balancer_target, &["balancer", "-threshold", "10"]));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !id_file_exists(&cluster) {
        assert!(
            Instant::now() < deadline && !first.is_finished(),
            "the balancer never created /system/balancer.id"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Apache's balancer (a JVM: started first, in parallel) and a second hafs one.
    let apache_target = cluster.as_user("hdfs");
    let apache =
        std::thread::spawn(move || hdfs_tool(&apache_target, &["balancer", "-threshold", "10"]));
    let second = hafs_cmd(&cluster, &["balancer", "-threshold", "10"]);
    let apache = apache.join().unwrap();
    assert!(
        !first.is_finished(),
        "the first balancer ended before the others were tried: the test proves nothing"
    );
    // Hadoop: IOException "Another Balancer is running." → ExitStatus.IO_EXCEPTION (-4).
    assert_another_balancer_refused(&second);
    assert_another_balancer_refused(&apache);

    let out = first.join().unwrap();
    let took = started.elapsed();
    std::fs::write(&stop, b"").unwrap();
    let out = out.ok();
    assert!(
        out.stdout.contains("The cluster is balanced. Exiting..."),
        "{out}"
    );
    assert!(
        out.stdout.contains(
            "Time Stamp               Iteration#  Bytes Already Moved  Bytes Left To Move  Bytes Being Moved"
        ),
        "{out}"
    );
    let read = reader_thread.join().unwrap().ok();
    assert!(read.stdout.contains("rounds"), "{read}");
    assert!(!id_file_exists(&cluster), "/system/balancer.id left behind");

    // Every DataNode within the threshold of the mean; the new ones hold blocks.
    let (after, avg) = utilizations(&cluster);
    for (ip, p, used) in &after {
        assert!(
            (p - avg).abs() <= THRESHOLD,
            "{ip} at {p:.1} % vs average {avg:.1} %: {after:?}"
        );
        assert!(*used > 0, "{ip} holds nothing: {after:?}");
    }
    let moved_bytes: u64 = after
        .iter()
        .filter(|(ip, _, _)| ip == "127.0.0.4" || ip == "127.0.0.5")
        .map(|(_, _, u)| *u)
        .sum();

    // Nothing lost, nothing in excess, every block still on both racks.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (blocks, text) = fsck_block_racks(&cluster);
        let good = blocks.len() == total_blocks
            && blocks.iter().all(|r| {
                let mut racks = r.clone();
                racks.sort();
                racks.dedup();
                r.len() == 2 && racks == ["/rack1", "/rack2"]
            })
            && text.contains("is HEALTHY");
        if good {
            break;
        }
        assert!(Instant::now() < deadline, "fsck after balancing:\n{text}");
        std::thread::sleep(Duration::from_millis(500));
    }

    // The Java client reads every byte back.
    let back = local.join("back");
    java_fs(&cluster, &["-get", "/bal", &back.display().to_string()]).ok();
    for (path, local_copy) in &expected {
        let got = std::fs::read(back.join(path.trim_start_matches("/bal/"))).unwrap();
        assert!(
            got == std::fs::read(local_copy).unwrap(),
            "{path} differs after balancing"
        );
    }
    println!(
        "balancer: {:.1} s, {} bytes on the new DataNodes ({} MiB), read rounds: {}\n{}",
        took.as_secs_f64(),
        moved_bytes,
        moved_bytes >> 20,
        read.stdout.trim(),
        out.stdout
    );

    apache_balancer_phase(&mut cluster, &local, &expected, total_blocks);
}

/// Phase two: Apache Hadoop's own `hdfs balancer` against the same cluster, grown by
/// two empty DataNodes. See the module docs.
fn apache_balancer_phase(
    cluster: &mut MiniCluster,
    local: &TempDir,
    expected: &BTreeMap<String, std::path::PathBuf>,
    total_blocks: usize,
) {
    cluster.add_datanode();
    cluster.add_datanode();
    cluster.wait_live_datanodes(6, Duration::from_secs(30));
    let deadline = Instant::now() + Duration::from_secs(30);
    let (before, before_avg) = loop {
        if reported_capacities(cluster) == 6 {
            let (u, avg) = utilizations(cluster);
            break (u, avg);
        }
        assert!(
            Instant::now() < deadline,
            "the new DataNodes report no usage"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    println!("before Apache's balancer: average {before_avg:.1} %, {before:?}");
    assert!(
        before
            .iter()
            .any(|(_, p, _)| (p - before_avg).abs() > APACHE_THRESHOLD),
        "the cluster must be out of balance again: {before:?}"
    );

    // What Apache's balancer plans from: each DataNode with its two volumes, whose
    // usage adds up to the node's; superuser only.
    let reports = storage_report(cluster, &hafs_tests::current_user())
        .expect("getDatanodeStorageReport as the superuser");
    assert_eq!(reports.len(), 6);
    for r in &reports {
        let d = &r.datanode_info;
        assert_eq!(r.storage_reports.len(), 2, "{r:?}");
        for s in &r.storage_reports {
            let storage = s.storage.as_ref().expect("storage");
            assert!(storage.storage_uuid.starts_with("DS-"), "{r:?}");
            assert_eq!(
                storage.storage_type,
                Some(pb::StorageTypeProto::Disk as i32)
            );
            assert_eq!(s.failed, Some(false), "{r:?}");
        }
        let sum = |f: fn(&pb::StorageReportProto) -> Option<u64>| {
            r.storage_reports.iter().filter_map(f).sum::<u64>()
        };
        assert_eq!(Some(sum(|s| s.capacity)), d.capacity, "{r:?}");
        assert_eq!(Some(sum(|s| s.dfs_used)), d.dfs_used, "{r:?}");
    }
    let denied = storage_report(cluster, "alice").expect_err("alice is no superuser");
    assert!(
        denied.contains("org.apache.hadoop.security.AccessControlException")
            && denied.contains("Superuser privilege is required"),
        "{denied}"
    );
    // Its "is an upgrade in progress?" probe, as `dfsadmin -rollingUpgrade` shows it.
    let query = hdfs_tool(cluster, &["dfsadmin", "-rollingUpgrade", "query"]).ok();
    assert!(
        query
            .stdout
            .contains("There is no rolling upgrade in progress or rolling upgrade has already been finalized."),
        "{query}"
    );
    let prepare = hdfs_tool(cluster, &["dfsadmin", "-rollingUpgrade", "prepare"]);
    assert!(
        !prepare.success()
            && prepare
                .stderr
                .contains("Rolling upgrades are not supported by hafs"),
        "{prepare}"
    );

    // Apache's dfsadmin asks a DataNode about itself (ClientDatanodeProtocol).
    let new_dn = cluster.datanode_ipc_addr(4).to_string();
    let info = hdfs_tool(cluster, &["dfsadmin", "-getDatanodeInfo", &new_dn]).ok();
    assert!(
        info.stdout.contains("Uptime: ")
            && info.stdout.contains(&format!(
                "Software version: {}, Config version: ",
                hafs_proto::HADOOP_VERSION
            )),
        "{info}"
    );
    let ours = hafs_cmd(cluster, &["dfsadmin", "-getDatanodeInfo", &new_dn]).ok();
    assert!(
        ours.stdout.starts_with("Uptime: ")
            && ours.stdout.contains("Config version: core-3.0.0,hdfs-1"),
        "{ours}"
    );
    // No DataNode there: Hadoop's words and -1.
    let nobody = hafs_cmd(
        cluster,
        &["dfsadmin", "-getBalancerBandwidth", "127.0.0.1:1"],
    );
    assert_eq!(nobody.code(), Some(255), "{nobody}");
    assert!(
        nobody
            .stderr
            .contains("getBalancerBandwidth: Datanode unreachable. "),
        "{nobody}"
    );
    let set = hdfs_tool(cluster, &["dfsadmin", "-setBalancerBandwidth", "4m"]).ok();
    assert!(
        set.stdout.contains("Balancer bandwidth is set to 4194304"),
        "{set}"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let bw = hdfs_tool(cluster, &["dfsadmin", "-getBalancerBandwidth", &new_dn]).ok();
        if bw
            .stdout
            .contains("Balancer bandwidth is 4194304 bytes per second.")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new bandwidth never reached the DataNode: {bw}"
        );
    }
    let ours = hafs_cmd(cluster, &["dfsadmin", "-getBalancerBandwidth", &new_dn]).ok();
    assert_eq!(
        ours.stdout.trim(),
        "Balancer bandwidth is 4194304 bytes per second.",
        "{ours}"
    );

    // Readers: hdfs-native in a loop, the Java client (one shell JVM) in a loop.
    let stop = local.join("stop-readers-2");
    let native_target = cluster.as_user("hdfs");
    let native = native_reader_script(expected, &stop);
    let native_thread = std::thread::spawn(move || python(&native_target, &native));
    let java_target = cluster.as_user("hdfs");
    let java_dir = local.join("java-rounds");
    let java_expected = expected.clone();
    let java_stop = stop.clone();
    let java_thread = std::thread::spawn(move || {
        java_reader(&java_target, &java_dir, &java_expected, &java_stop)
    });

    // Apache's balancer, and `hafs balancer` while it holds /system/balancer.id.
    let apache_target = cluster.as_user("hdfs");
    let thresh = APACHE_THRESHOLD.to_string();
    let started = Instant::now();
    let apache =
        std::thread::spawn(move || hdfs_tool(&apache_target, &["balancer", "-threshold", &thresh]));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !id_file_exists(cluster) {
        assert!(
            Instant::now() < deadline && !apache.is_finished(),
            "Apache's balancer never created /system/balancer.id"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let ours = hafs_cmd(cluster, &["balancer", "-threshold", "5"]);
    assert!(
        !apache.is_finished(),
        "Apache's balancer ended before hafs's was tried: the test proves nothing"
    );
    assert_another_balancer_refused(&ours);

    let out = apache.join().unwrap();
    let took = started.elapsed();
    std::fs::write(&stop, b"").unwrap();
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(
        out.stdout.contains("The cluster is balanced. Exiting..."),
        "{out}"
    );
    let native = native_thread.join().unwrap().ok();
    assert!(native.stdout.contains("rounds"), "{native}");
    let java_rounds = java_thread.join().unwrap();
    assert!(java_rounds > 0, "the Java reader never completed a round");
    assert!(!id_file_exists(cluster), "/system/balancer.id left behind");

    // Every DataNode within the threshold of the mean once the moved replicas' sources
    // have deleted theirs (their usage follows with a heartbeat).
    let deadline = Instant::now() + Duration::from_secs(30);
    let (after, avg) = loop {
        let (u, avg) = utilizations(cluster);
        if u.iter()
            .all(|(_, p, _)| (p - avg).abs() <= APACHE_THRESHOLD)
        {
            break (u, avg);
        }
        assert!(
            Instant::now() < deadline,
            "not within {APACHE_THRESHOLD} % of the average {avg:.1} %: {u:?}\n{out}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    for (ip, _, used) in &after {
        assert!(*used > 0, "{ip} holds nothing: {after:?}");
    }
    // The same from both dfsadmin reports (their per-DataNode "DFS Used%").
    let theirs = hdfs_tool(cluster, &["dfsadmin", "-report"]).ok();
    let ours = hafs_cmd(cluster, &["dfsadmin", "-report"]).ok();
    for (who, report) in [("hdfs", &theirs), ("hafs", &ours)] {
        let used = report_used_percents(&report.stdout);
        assert_eq!(used.len(), 6, "{who} dfsadmin -report: {report}");
        let mean = used.iter().map(|(_, p)| p).sum::<f64>() / used.len() as f64;
        for (name, p) in &used {
            // Capacities are equal, so the mean of the percentages is the average.
            assert!(
                (p - mean).abs() <= APACHE_THRESHOLD + 0.5,
                "{who} dfsadmin -report: {name} at {p} % vs {mean:.1} %:\n{report}"
            );
        }
    }

    // Nothing lost, nothing in excess, both racks; replicas on disk where the
    // NameNode says they are.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (blocks, text) = fsck_block_racks(cluster);
        let racks_ok = blocks.len() == total_blocks
            && blocks.iter().all(|r| {
                let mut racks = r.clone();
                racks.sort();
                racks.dedup();
                r.len() == 2 && racks == ["/rack1", "/rack2"]
            })
            && text.contains("is HEALTHY");
        let disk = replicas_match_locations(cluster, expected.keys());
        if racks_ok && disk.is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after Apache's balancer: {disk:?}\n{text}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    println!(
        "Apache balancer: {:.1} s, average {avg:.1} %, {after:?}, Java read rounds: \
         {java_rounds}, {}\n{}",
        took.as_secs_f64(),
        native.stdout.trim(),
        out.stdout
    );
}

/// Hadoop's refusal of a second balancer: IOException "Another Balancer is running."
/// → ExitStatus.IO_EXCEPTION (-4), whichever balancer holds the lock.
#[track_caller]
fn assert_another_balancer_refused(out: &CmdOutput) {
    assert_eq!(out.code(), Some(252), "{out}");
    assert!(
        out.stdout
            .contains("java.io.IOException: Another Balancer is running..  Exiting ..."),
        "{out}"
    );
}

/// A python (hdfs-native) script reading every file byte-exact in rounds until `stop`
/// exists; it prints its round count, or exits 3 on a mismatch.
fn native_reader_script(expected: &BTreeMap<String, std::path::PathBuf>, stop: &Path) -> String {
    let mut reader = String::from(
        "import os, sys\nfrom hdfs_native import Client\nc = Client(os.environ['HAFS_FS_URI'])\n",
    );
    reader.push_str("files = {\n");
    for (path, local_copy) in expected {
        reader.push_str(&format!(
            "  '{path}': open('{}', 'rb').read(),\n",
            local_copy.display()
        ));
    }
    reader.push_str("}\n");
    reader.push_str(&format!(
        "rounds = 0\nwhile True:\n  last = os.path.exists('{}')\n  for p, want in files.items():\n    with c.read(p) as r:\n      got = r.read()\n    if got != want:\n      print('MISMATCH', p, len(got), len(want)); sys.exit(3)\n  rounds += 1\n  if last:\n    break\nprint('rounds', rounds)\n",
        stop.display()
    ));
    reader
}

/// The Java client (`hadoop fs -get` in one shell JVM) reading every file in rounds
/// until `stop` exists, each byte-exact; the number of rounds.
fn java_reader(
    target: &hafs_tests::ClientTarget,
    dir: &Path,
    expected: &BTreeMap<String, std::path::PathBuf>,
    stop: &Path,
) -> usize {
    let shell = JavaShell::start(target);
    let mut rounds = 0;
    loop {
        let last = stop.exists();
        let into = dir.join(format!("round-{rounds}"));
        std::fs::create_dir_all(&into).unwrap();
        shell
            .run(&["-get", "/bal", &into.display().to_string()])
            .ok();
        for (path, local_copy) in expected {
            let got = std::fs::read(into.join(path.trim_start_matches('/'))).unwrap();
            assert!(
                got == std::fs::read(local_copy).unwrap(),
                "Java read {path} wrong in round {rounds}"
            );
        }
        std::fs::remove_dir_all(&into).unwrap();
        rounds += 1;
        if last {
            return rounds;
        }
    }
}

/// getDatanodeStorageReport (LIVE) as `user`, or the error's class and message.
fn storage_report(
    cluster: &MiniCluster,
    user: &str,
) -> Result<Vec<pb::DatanodeStorageReportProto>, String> {
    let client = RpcClient::new(
        cluster.nn_rpc_addr().to_string(),
        CLIENT_PROTOCOL,
        ClientConfig {
            user: user.to_string(),
            ..ClientConfig::default()
        },
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let r: pb::GetDatanodeStorageReportResponseProto = rt
        .block_on(client.call(
            "getDatanodeStorageReport",
            &pb::GetDatanodeStorageReportRequestProto {
                r#type: pb::DatanodeReportTypeProto::Live as i32,
            },
        ))
        .map_err(|e| e.to_string())?;
    Ok(r.datanode_storage_reports)
}

/// How many live DataNodes report a capacity.
fn reported_capacities(cluster: &MiniCluster) -> usize {
    datanode_report(cluster)
        .iter()
        .filter(|d| d.capacity.unwrap_or(0) > 0)
        .count()
}

/// `dfsadmin -report`'s "DFS Used%" of each live DataNode ("Name: ip:port ..."), Apache's
/// and ours print the same layout.
fn report_used_percents(report: &str) -> Vec<(String, f64)> {
    let live = report
        .split_once("Live datanodes")
        .map(|(_, rest)| rest)
        .unwrap_or("");
    let live = live.split("Dead datanodes").next().unwrap_or(live);
    let mut out = Vec::new();
    let mut name = None;
    for line in live.lines() {
        if let Some(n) = line.strip_prefix("Name: ") {
            name = Some(n.split_whitespace().next().unwrap_or(n).to_string());
        } else if let Some(p) = line.strip_prefix("DFS Used%: ") {
            if let (Some(n), Ok(v)) = (name.take(), p.trim_end_matches('%').parse::<f64>()) {
                out.push((n, v));
            }
        }
    }
    out
}

/// Every block of `paths` has finalized replicas on disk on exactly the DataNodes
/// getBlockLocations names (and on no other), or what differs.
fn replicas_match_locations<'a>(
    cluster: &MiniCluster,
    paths: impl Iterator<Item = &'a String>,
) -> Result<(), String> {
    let mut on_disk: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for i in 0..cluster.datanode_count() {
        for r in cluster.replicas_on(i) {
            if r.finalized {
                on_disk.entry(r.block_id).or_default().push(i);
            }
        }
    }
    let mut wrong = Vec::new();
    for path in paths {
        let blocks = hafs_tests::located_blocks(
            &cluster.nn_rpc_addr().to_string(),
            ClientConfig::default(),
            path,
        );
        for lb in blocks {
            let id = lb.b.block_id;
            let mut located: Vec<usize> = lb
                .locs
                .iter()
                .filter_map(|l| cluster.datanode_by_xfer_port(l.id.xfer_port as u16))
                .collect();
            located.sort();
            let mut disk = on_disk.get(&id).cloned().unwrap_or_default();
            disk.sort();
            if located != disk {
                wrong.push(format!(
                    "{path} blk_{id}: located on {located:?}, on disk on {disk:?}"
                ));
            }
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join("\n"))
    }
}
