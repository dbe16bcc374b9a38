//! The reference cluster (scripts/reference-hdfs.sh) is real Apache HDFS: every daemon
//! is a JVM running Hadoop 3.5.0's own server class with a bounded heap; the Java
//! `hadoop fs` shell, hdfs-native and the real `hdfs` tools work against it; kill -9 of
//! its Active NameNode makes the Standby Active through the ZooKeeper failover
//! controllers, with the data intact. And a machine without the Hadoop fetch is told
//! what to run.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hafs_tests::{
    get_service_state, hdfs_tool, java_fs, python, test_bytes, workspace_root, CmdOutput,
    ReferenceHdfs, TempDir,
};

/// The main class each daemon must run, by name prefix.
const DAEMON_CLASSES: &[(&str, &str)] = &[
    ("nn", "org.apache.hadoop.hdfs.server.namenode.NameNode"),
    ("dn", "org.apache.hadoop.hdfs.server.datanode.DataNode"),
    ("jn", "org.apache.hadoop.hdfs.qjournal.server.JournalNode"),
    (
        "zkfc",
        "org.apache.hadoop.hdfs.tools.DFSZKFailoverController",
    ),
    (
        "zookeeper",
        "org.apache.zookeeper.server.quorum.QuorumPeerMain",
    ),
];

fn cmdline(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            b.split(|c| *c == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// `haadmin -getAllServiceState` as (address, state) pairs.
fn all_service_states(out: &CmdOutput) -> Vec<(String, String)> {
    out.stdout_lines()
        .iter()
        .map(|l| {
            let mut w = l.split_whitespace();
            let addr = w.next().unwrap_or_default().to_string();
            (addr, w.collect::<Vec<_>>().join(" "))
        })
        .collect()
}

#[test]
fn reference_cluster_is_real_hdfs_serves_real_clients_and_fails_over() {
    let c = ReferenceHdfs::start("real");
    eprintln!("{}", c.ready);

    // Eleven live JVMs, each running Hadoop's (or ZooKeeper's) own server class with a
    // bounded heap.
    assert_eq!(c.daemons.len(), 11, "{}", c.ready);
    for d in &c.daemons {
        let (_, class) = DAEMON_CLASSES
            .iter()
            .find(|(prefix, _)| d.name.starts_with(prefix))
            .unwrap_or_else(|| panic!("unexpected daemon {d:?}"));
        let args = cmdline(d.pid);
        assert!(
            args.first().is_some_and(|a| a.ends_with("java")),
            "{} (pid {}) is not a JVM: {args:?}",
            d.name,
            d.pid
        );
        assert!(
            args.iter().any(|a| a == class),
            "{} (pid {}) does not run {class}: {args:?}",
            d.name,
            d.pid
        );
        assert!(
            args.iter().any(|a| a.starts_with("-Xmx")),
            "{} (pid {}) has no bounded heap: {args:?}",
            d.name,
            d.pid
        );
    }

    // The real haadmin sees one Active (the one the ready line names) and one Standby.
    let active = c.first_active.clone();
    let standby = if active == "nn1" { "nn2" } else { "nn1" }.to_string();
    let out = hdfs_tool(&c, &["haadmin", "-getAllServiceState"]).ok();
    let states = all_service_states(&out);
    let port_of = |nn: &str| c.daemon(nn).addr.rsplit(':').next().unwrap().to_string();
    let mut want = vec![
        (format!("localhost:{}", port_of("nn1")), String::new()),
        (format!("localhost:{}", port_of("nn2")), String::new()),
    ];
    want[if active == "nn1" { 0 } else { 1 }].1 = "active".into();
    want[if active == "nn1" { 1 } else { 0 }].1 = "standby".into();
    assert_eq!(states, want, "{out}");
    let out = hdfs_tool(&c, &["haadmin", "-getServiceState", &active]).ok();
    assert_eq!(out.stdout.trim(), "active", "{out}");

    // Java `hadoop fs` (Hadoop's shaded client) round trip through the nameservice.
    let local = TempDir::new("refhdfs-local");
    let data = test_bytes(13, 3 * 1024 * 1024 + 17);
    std::fs::write(local.join("java.bin"), &data).unwrap();
    java_fs(&c, &["-mkdir", "-p", "/interop"]).ok();
    java_fs(
        &c,
        &[
            "-put",
            local.join("java.bin").to_str().unwrap(),
            "/interop/java.bin",
        ],
    )
    .ok();
    java_fs(
        &c,
        &[
            "-get",
            "/interop/java.bin",
            local.join("java.back").to_str().unwrap(),
        ],
    )
    .ok();
    assert!(
        std::fs::read(local.join("java.back")).unwrap() == data,
        "the Java shell read back other bytes than it wrote"
    );
    let ls = java_fs(&c, &["-ls", "/interop/java.bin"]).ok();
    let fields: Vec<&str> = ls.stdout.split_whitespace().collect();
    assert_eq!(fields.get(1), Some(&"3"), "replication 3 expected:\n{ls}");
    assert_eq!(
        fields.get(4),
        Some(&data.len().to_string().as_str()),
        "{ls}"
    );

    // hdfs-native writes a file the Java shell reads, and reads the Java shell's file.
    let out = python(
        &c,
        r#"
import os, hashlib
from hdfs_native import Client
c = Client(os.environ['HAFS_FS_URI'])
data = bytes(range(256)) * 4099
with c.create('/interop/native.bin') as w:
    w.write(data)
with c.read('/interop/native.bin') as r:
    assert r.read() == data, 'hdfs-native read back other bytes'
with c.read('/interop/java.bin') as r:
    print('java', len(r.read()))
print('native', len(data))
"#,
    )
    .ok();
    assert_eq!(
        out.stdout_lines(),
        vec![
            format!("java {}", data.len()),
            format!("native {}", 256 * 4099)
        ],
        "{out}"
    );
    let cat = java_fs(&c, &["-checksum", "/interop/native.bin"]).ok();
    assert!(cat.stdout.contains("/interop/native.bin"), "{cat}");
    let stat = java_fs(&c, &["-stat", "%b", "/interop/native.bin"]).ok();
    assert_eq!(stat.stdout.trim(), (256 * 4099).to_string(), "{stat}");

    // The real admin tools: three live DataNodes, a healthy namespace, both NameNodes.
    let report = hdfs_tool(&c, &["dfsadmin", "-report"]).ok();
    assert!(
        report.stdout.contains("Live datanodes (3):"),
        "dfsadmin -report:\n{report}"
    );
    let fsck = hdfs_tool(&c, &["fsck", "/", "-files", "-blocks"]).ok();
    assert!(
        fsck.stdout
            .contains("The filesystem under path '/' is HEALTHY"),
        "{fsck}"
    );
    assert!(fsck.stdout.contains("/interop/java.bin"), "{fsck}");
    // getconf names hosts as Java resolves them: 127.0.0.1 is `localhost`.
    let nns = hdfs_tool(&c, &["getconf", "-nnRpcAddresses"]).ok();
    assert_eq!(
        nns.stdout_lines(),
        vec![
            format!("localhost:{}", port_of("nn1")),
            format!("localhost:{}", port_of("nn2"))
        ],
        "{nns}"
    );

    // kill -9 of the Active: its controller loses the ZooKeeper lock and the other
    // controller makes the Standby Active (fenced by the JournalNodes' epochs).
    let standby_addr: SocketAddr = c.daemon(&standby).addr.parse().unwrap();
    assert_eq!(get_service_state(standby_addr), Ok("standby"));
    let killed_at = Instant::now();
    c.kill9(&active);
    let deadline = killed_at + Duration::from_secs(90);
    loop {
        if get_service_state(standby_addr) == Ok("active") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{standby} did not become Active within 90 s of kill -9 {active}; its controller:\n{}",
            c.log_tail(&standby.replace("nn", "zkfc"), 40)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "{standby} Active {:.1} s after kill -9 {active}",
        killed_at.elapsed().as_secs_f64()
    );
    let out = hdfs_tool(&c, &["haadmin", "-getServiceState", &standby]).ok();
    assert_eq!(out.stdout.trim(), "active", "{out}");
    // haadmin still answers for the pair, naming the dead one's connection failure.
    let out = hdfs_tool(&c, &["haadmin", "-getAllServiceState"]).ok();
    let states = all_service_states(&out);
    assert!(
        states.iter().any(|(_, s)| s == "active"),
        "no Active after failover:\n{out}"
    );
    assert!(
        states
            .iter()
            .any(|(_, s)| s.starts_with("Failed to connect")),
        "the killed NameNode should be unreachable:\n{out}"
    );

    // Everything written before the kill is intact, and the new Active takes writes.
    java_fs(
        &c,
        &[
            "-get",
            "/interop/java.bin",
            local.join("java.after").to_str().unwrap(),
        ],
    )
    .ok();
    assert!(
        std::fs::read(local.join("java.after")).unwrap() == data,
        "the file written before the failover changed"
    );
    java_fs(
        &c,
        &[
            "-put",
            local.join("java.bin").to_str().unwrap(),
            "/interop/after.bin",
        ],
    )
    .ok();
    let stat = java_fs(&c, &["-stat", "%b", "/interop/after.bin"]).ok();
    assert_eq!(stat.stdout.trim(), data.len().to_string(), "{stat}");
}

/// Without `scripts/reference-hdfs.sh fetch`, the script and the `hdfs` wrapper fail
/// at once and say what to run; nothing starts.
#[test]
fn a_missing_hadoop_fetch_fails_loudly_and_names_the_fetch() {
    let empty = TempDir::new("refhdfs-nocache");
    let dir = TempDir::new("refhdfs-nodir");
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(workspace_root().join("scripts/reference-hdfs.sh"))
        .args(["start", "--dir"])
        .arg(dir.path())
        .env("HAFS_CACHE", empty.path());
    let out = hafs_tests::run_with_timeout(cmd, Duration::from_secs(30)).expect_failure();
    assert!(
        out.stderr.contains("scripts/reference-hdfs.sh fetch"),
        "the error must name the fetch:\n{out}"
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing may start without the jars:\n{out}"
    );

    let mut cmd = std::process::Command::new("bash");
    cmd.arg(workspace_root().join("scripts/hdfs"))
        .args(["getconf", "-namenodes"])
        .env("HAFS_CACHE", empty.path());
    let out = hafs_tests::run_with_timeout(cmd, Duration::from_secs(30)).expect_code(127);
    assert!(
        out.stderr.contains("scripts/reference-hdfs.sh fetch"),
        "the error must name the fetch:\n{out}"
    );
}
