//! The balancer on a growing cluster: two full DataNodes and two new empty ones, on
//! two racks (127.0.0.2 and .4 on /rack1, .3 and .5 on /rack2, each DataNode on its own
//! loopback address), every volume bounded to 32 MiB by `dfs.datanode.du.reserved` so
//! that utilization percentages mean something on a shared disk.
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
//! every byte back. The balancer's time and bytes moved are printed.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use hafs_ipc::{ClientConfig, RpcClient};
use hafs_proto::hdfs as pb;
use hafs_tests::{hafs_cmd, java_fs, python, test_bytes, MiniCluster, TempDir};

const CLIENT_PROTOCOL: &str = "org.apache.hadoop.hdfs.protocol.ClientProtocol";
const RACK1: [&str; 2] = ["127.0.0.2", "127.0.0.4"];
const RACK2: [&str; 2] = ["127.0.0.3", "127.0.0.5"];
const FILES_PER_CLIENT: usize = 6;
const FILE_SIZE: usize = 2 << 20;
/// Each volume's capacity (two volumes per DataNode).
const VOLUME_CAPACITY: u64 = 32 << 20;
const THRESHOLD: f64 = 10.0;

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
fn four_datanodes_on_two_racks_end_within_the_threshold_while_clients_read() {
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

    // The bandwidth reaches every DataNode with a heartbeat.
    let bw = hafs_cmd(&cluster, &["dfsadmin", "-setBalancerBandwidth", "8m"]).ok();
    assert!(
        bw.stdout.contains("Balancer bandwidth is set to 8388608"),
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
        cluster.datanode_log(0).contains("bandwidth=8388608"),
        "DataNode 0 log does not name the new bandwidth"
    );

    // A reader that keeps reading every file (hdfs-native) until told to stop.
    let stop = local.join("stop-readers");
    let mut reader = String::from(
        "import os, sys\nfrom hdfs_native import Client\nc = Client(os.environ['HAFS_FS_URI'])\n",
    );
    reader.push_str("files = {\n");
    for (path, local_copy) in &expected {
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
    let reader_target = cluster.as_user("hdfs");
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
    let second = hafs_cmd(&cluster, &["balancer", "-threshold", "10"]);
    assert!(
        !first.is_finished(),
        "the first balancer ended before the second was tried: the test proves nothing"
    );
    // Hadoop: IOException "Another Balancer is running." → ExitStatus.IO_EXCEPTION (-4).
    assert_eq!(second.code(), Some(252), "{second}");
    assert!(
        second
            .stdout
            .contains("java.io.IOException: Another Balancer is running..  Exiting ..."),
        "{second}"
    );

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
}
