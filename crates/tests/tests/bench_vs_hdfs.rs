//! Side by side with the real HDFS (issue 13 part 4): Hadoop's own
//! `NNThroughputBenchmark -fs` against the Active NameNode of the reference HDFS
//! (Apache Hadoop 3.5.0, HA with 3 JournalNodes) and then of a hafs HA cluster (release
//! build, the same shape), one after the other on the same disk, printing each op's
//! ops/s and the ratio hafs/HDFS; then `hafs bench nnthroughput -fs -op all` (hafs's own
//! client) against both the same way. A measurement, not a check, so not in every run:
//!
//! ```text
//! cargo build --release -p hafs
//! HAFS_BENCH_FILES=20000 cargo nextest run -p hafs-tests --test bench_vs_hdfs \
//!     --run-ignored only --no-capture nnthroughput
//! ```
//!
//! The data path the same way (`data_path_hafs_against_the_reference_hdfs`): three
//! clients no one here wrote or that are hafs's own — `hafs bench dfsio -fs` (hafs's Rust
//! client, with the daemons' CPU read from /proc: `-nnpid`, `-dnpids`), hdfs-native and
//! Java's `hadoop fs -put/-get` — write and read the same files at replication 1 and 3
//! through each cluster (3 DataNodes each), printing MiB/s and DataNode CPU seconds per
//! GiB, and the ratio hafs/HDFS:
//!
//! ```text
//! HAFS_BENCH_FILES=4 HAFS_BENCH_SIZE=128m cargo nextest run -p hafs-tests \
//!     --test bench_vs_hdfs --run-ignored only --no-capture data_path
//! ```
//!
//! (`HAFS_BENCH_REFERENCE_SET=dfs.datanode.synconclose=true` makes the reference's
//! DataNodes fsync a replica on close, as hafs's always do.)
//!
//! And failover (`failover_hafs_against_the_reference_hdfs`): Hadoop's Java client (one
//! JVM, crates/tests/java/FailoverProbe.java; `HAFS_BENCH_CLIENT=native` for hdfs-native)
//! writes 1 KiB files one after another through each HA nameservice; kill -9 of the Active NameNode
//! (its controller stays up, as when the NameNode process crashes), then of the Active
//! NameNode and its controller together (as when its host dies); the figures are kill →
//! the other NameNode answering `getServiceStatus` as Active (the servers' part, asked
//! every 5 ms) and kill → first write acknowledged after it (what the client saw). Each
//! system runs with its own defaults and with the timeouts hafs's test clusters use
//! (200 ms health checks; a 2 s ZooKeeper session for HDFS, a 2 s lease for hafs's
//! built-in election):
//!
//! ```text
//! cargo nextest run -p hafs-tests --test bench_vs_hdfs --run-ignored only \
//!     --no-capture failover
//! ```
//!
//! And NameNode memory per one-block file (`memory_per_file_hafs_against_the_reference_hdfs`):
//! the reference NameNode (one, no HA) loads N one-block files that Hadoop's own
//! `CreateEditsLog` wrote as an edit log, and its heap after a full GC (`jcmd GC.run`,
//! `GC.heap_info`) is compared with the same NameNode's on the empty namespace; a hafs
//! NameNode (one, no HA, release build) gets N one-block files created over RPC by
//! `hafs bench nnthroughput -fs -nnpid -op create -blocksPerFile 1`, which reports its
//! resident-set growth per file:
//!
//! ```text
//! HAFS_BENCH_FILES=1000000 cargo nextest run -p hafs-tests --test bench_vs_hdfs \
//!     --run-ignored only --no-capture memory
//! ```
//!
//! `hadoop_nnthroughput.rs` is the smoke run of the same benchmark in every test run.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hafs_tests::java_class_command;
use hafs_tests::{
    classpath_jars, free_port, hafs_cache, hafs_release_bin, hdfs_tool, java_fs, python,
    python_bin, run_nnthroughput, run_with_timeout, workspace_root, write_site_xml, Backend,
    ClientTarget, ConfTarget, Daemon, MiniCluster, NnBenchStats, ReferenceHdfs, TempDir,
};

const OPS: [&str; 6] = ["create", "mkdirs", "open", "fileStatus", "rename", "delete"];

fn run_all(nn: &str, files: &str, threads: u32) -> Vec<NnBenchStats> {
    OPS.iter()
        .map(|op| {
            let count = if *op == "mkdirs" { "-dirs" } else { "-files" };
            let (stats, out) = run_nnthroughput(nn, op, &[count, files], threads);
            stats.unwrap_or_else(|| panic!("no {op} stats from {nn}:\n{out}"))
        })
        .collect()
}

/// `hafs bench nnthroughput -fs hdfs://<nn> -op all` (our own client, 16 tasks each
/// with its own connection) against the NameNode at `nn`: ops/s per op from its summary
/// lines (`create: 1,234 ops/s, ...`).
fn run_hafs_bench(nn: &str, ops: &str) -> Vec<(String, f64)> {
    let mut bench = Command::new(hafs_release_bin());
    bench
        .env_remove("HADOOP_CONF_DIR")
        .env_remove("HADOOP_USER_NAME")
        .env("HAFS_LOG", "warn")
        .args(["bench", "nnthroughput", "-fs", &format!("hdfs://{nn}")])
        .args(["-op", "all", "-ops", ops, "-threads", "16", "-memory", "0"]);
    let out = run_with_timeout(bench, Duration::from_secs(1800));
    assert!(
        out.success(),
        "hafs bench nnthroughput against {nn} failed:\n{out}"
    );
    let rows: Vec<(String, f64)> = out
        .stdout
        .lines()
        .filter_map(|l| {
            let (op, rest) = l.split_once(": ")?;
            let rate = rest
                .strip_suffix(" ops/s")
                .or_else(|| rest.split(" ops/s,").next())?;
            Some((op.to_string(), rate.replace(',', "").parse().ok()?))
        })
        .collect();
    assert!(!rows.is_empty(), "no summary lines from hafs bench:\n{out}");
    rows
}

#[test]
#[ignore = "a benchmark: run with --run-ignored only (see the module docs)"]
fn nnthroughput_hafs_against_the_reference_hdfs() {
    let files = std::env::var("HAFS_BENCH_FILES").unwrap_or_else(|_| "5000".into());
    let threads: u32 = std::env::var("HAFS_BENCH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(16);

    let hdfs = {
        let r = ReferenceHdfs::start("bench-nn");
        let active = r.daemon(&r.first_active.clone()).addr.clone();
        (
            run_all(&active, &files, threads),
            run_hafs_bench(&active, &files),
        )
    };
    let hafs = {
        let mut c = MiniCluster::builder()
            .label("bench-nn")
            .binary(hafs_release_bin())
            .namenodes(2)
            .journalnodes(3)
            .datanodes(0)
            .conf("dfs.namenode.fs-limits.min-block-size", "16")
            .start();
        c.wait_for_state(0, "active", Duration::from_secs(30));
        let nn = c.nn_rpc_addr_of(0).to_string();
        let out = (run_all(&nn, &files, threads), run_hafs_bench(&nn, &files));
        c.stop();
        out
    };
    let ((hdfs, hdfs_ours), (hafs, hafs_ours)) = (hdfs, hafs);
    println!("NNThroughputBenchmark -fs, {files} files/dirs, {threads} threads (ops/s)");
    println!(
        "{:<11} {:>10} {:>10} {:>8}",
        "op", "HDFS", "hafs", "hafs/HDFS"
    );
    for (h, o) in hdfs.iter().zip(&hafs) {
        println!(
            "{:<11} {:>10.0} {:>10.0} {:>7.2}x",
            h.op,
            h.ops_per_sec,
            o.ops_per_sec,
            o.ops_per_sec / h.ops_per_sec
        );
    }
    println!("hafs bench nnthroughput -fs, {files} ops per op, 16 tasks (ops/s)");
    println!(
        "{:<11} {:>10} {:>10} {:>8}",
        "op", "HDFS", "hafs", "hafs/HDFS"
    );
    for ((op, h), (op2, o)) in hdfs_ours.iter().zip(&hafs_ours) {
        assert_eq!(op, op2, "the same ops in the same order");
        println!("{op:<11} {h:>10.0} {o:>10.0} {:>7.2}x", o / h);
    }
}

/// One cluster's data-path figures: per client and phase (`write_r1`, `read_r3`, ...),
/// MiB/s and, for the dfsio rows, DataNode CPU seconds per GiB.
#[derive(Debug, Default)]
struct DataPath {
    rows: Vec<(String, f64, Option<f64>)>,
}

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_string())
}

fn parse_size_mib(size: &str) -> f64 {
    let (n, unit) = size.split_at(size.len() - 1);
    let n: f64 = n.parse().expect("HAFS_BENCH_SIZE like 128m or 1g");
    match unit {
        "m" => n,
        "g" => n * 1024.0,
        _ => panic!("HAFS_BENCH_SIZE like 128m or 1g, not {size}"),
    }
}

/// `hafs bench dfsio -fs <nn> -nnpid -dnpids` (both replications), parsed.
fn dfsio(nn: &str, nnpid: u32, dnpids: &[u32], files: &str, size: &str, out: &mut DataPath) {
    let mut cmd = Command::new(hafs_release_bin());
    cmd.env_remove("HADOOP_CONF_DIR")
        .args(["bench", "dfsio", "-fs", &format!("hdfs://{nn}")])
        .args(["-nnpid", &nnpid.to_string()])
        .args([
            "-dnpids",
            &dnpids
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(","),
        ])
        .args(["-nrFiles", files, "-size", size]);
    let run = run_with_timeout(cmd, Duration::from_secs(1800));
    assert!(
        run.success(),
        "hafs bench dfsio against {nn} failed:\n{run}"
    );
    println!("{}", run.stdout);
    for line in run.stdout.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        // phase MiB wall_s MiB/s io_rate cli_cpu dn_cpu nn_cpu baseline ...
        // Only the table's rows: the summary lines after it start with `write_r1:`.
        let row = f.len() >= 8
            && (f[0].starts_with("write_r") || f[0].starts_with("read_r"))
            && !f[0].ends_with(':')
            && f[1].parse::<f64>().is_ok();
        if row {
            let rate: f64 = f[3].parse().expect("MiB/s");
            let dn: Option<f64> = f[6].parse().ok();
            out.rows.push((format!("dfsio {}", f[0]), rate, dn));
        }
    }
}

/// hdfs-native writes `files` files of `size_mib` MiB with replication `r` (one
/// thread, as its Python API is blocking) and reads them back; MiB/s of each.
fn hdfs_native(target: &impl ConfTarget, files: usize, size_mib: f64, r: u32, out: &mut DataPath) {
    let script = format!(
        r#"
import os, time
from hdfs_native import Client, WriteOptions
c = Client(os.environ["HAFS_FS_URI"])
n, size, r = {files}, int({size_mib} * 1048576), {r}
chunk = bytes((i * 7 + 3) % 251 for i in range(1048576))
c.mkdirs("/bench-native", create_parent=True)
t0 = time.monotonic()
for i in range(n):
    with c.create(f"/bench-native/f{{i}}", WriteOptions(replication=r, overwrite=True)) as w:
        left = size
        while left > 0:
            k = min(left, len(chunk)); w.write(chunk[:k]); left -= k
tw = time.monotonic() - t0
t0 = time.monotonic()
for i in range(n):
    with c.read(f"/bench-native/f{{i}}") as f:
        got = 0
        while True:
            b = f.read(1048576)
            if not b: break
            got += len(b)
        assert got == size, (i, got, size)
tr = time.monotonic() - t0
c.delete("/bench-native", True)
print("RESULT", tw, tr)
"#
    );
    let run = python(target, &script);
    assert!(run.success(), "hdfs-native benchmark failed:\n{run}");
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("RESULT"))
        .expect("RESULT line");
    let f: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap())
        .collect();
    let mib = files as f64 * size_mib;
    out.rows
        .push((format!("hdfs-native write_r{r}"), mib / f[0], None));
    out.rows
        .push((format!("hdfs-native read_r{r}"), mib / f[1], None));
}

/// Java's `hadoop fs -put` of the files (one JVM) and `-get` back; the wall time of a
/// `-ls /` in the same JVM setup is taken off, so JVM start does not count.
fn java(
    target: &impl ConfTarget,
    local: &std::path::Path,
    files: usize,
    r: u32,
    out: &mut DataPath,
) {
    let timed = |args: &[&str]| {
        let t0 = Instant::now();
        java_fs(target, args).ok();
        t0.elapsed().as_secs_f64()
    };
    let jvm = timed(&["-ls", "/"]);
    let sources: Vec<String> = (0..files)
        .map(|i| local.join(format!("f{i}")).display().to_string())
        .collect();
    timed(&["-mkdir", "-p", "/bench-java"]);
    let mut put = vec![
        "-D".to_string(),
        format!("dfs.replication={r}"),
        "-put".into(),
        "-f".into(),
    ];
    put.extend(sources.iter().cloned());
    put.push("/bench-java/".into());
    let put: Vec<&str> = put.iter().map(String::as_str).collect();
    let tw = timed(&put) - jvm;
    let back = local.join("back");
    let _ = std::fs::remove_dir_all(&back);
    std::fs::create_dir_all(&back).unwrap();
    let tr = timed(&["-get", "/bench-java/*", back.to_str().unwrap()]) - jvm;
    for i in 0..files {
        let (a, b) = (local.join(format!("f{i}")), back.join(format!("f{i}")));
        assert!(
            std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
            "Java read back different bytes for f{i}"
        );
    }
    timed(&["-rm", "-r", "-skipTrash", "/bench-java"]);
    let mib: f64 = (0..files)
        .map(|i| {
            std::fs::metadata(local.join(format!("f{i}")))
                .unwrap()
                .len() as f64
        })
        .sum::<f64>()
        / 1048576.0;
    // Below half a second the JVM's own start-up noise decides: no figure.
    let rate = |secs: f64| if secs < 0.5 { f64::NAN } else { mib / secs };
    out.rows.push((format!("java write_r{r}"), rate(tw), None));
    out.rows.push((format!("java read_r{r}"), rate(tr), None));
}

fn clients(
    target: &impl ConfTarget,
    local: &std::path::Path,
    files: usize,
    size_mib: f64,
    out: &mut DataPath,
) {
    for r in [1, 3] {
        hdfs_native(target, files, size_mib, r, out);
        java(target, local, files, r, out);
    }
}

#[test]
#[ignore = "a benchmark: run with --run-ignored only (see the module docs)"]
fn data_path_hafs_against_the_reference_hdfs() {
    let files = env_or("HAFS_BENCH_FILES", "4");
    let size = env_or("HAFS_BENCH_SIZE", "64m");
    let n: usize = files.parse().expect("HAFS_BENCH_FILES");
    let size_mib = parse_size_mib(&size);
    let tmp = hafs_tests::TempDir::new("bench-datapath");
    let local = tmp.join("local");
    std::fs::create_dir_all(&local).unwrap();
    for i in 0..n {
        let data = hafs_tests::test_bytes(i as u64 + 1, (size_mib * 1048576.0) as usize);
        std::fs::write(local.join(format!("f{i}")), data).unwrap();
    }

    let mut hdfs = DataPath::default();
    {
        // HAFS_BENCH_REFERENCE_SET=k=v,k=v: extra hdfs-site for the reference cluster
        // (e.g. dfs.datanode.synconclose=true, durable on close as hafs's DataNodes).
        let extra = std::env::var("HAFS_BENCH_REFERENCE_SET").unwrap_or_default();
        let site: Vec<(&str, &str)> = extra
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .collect();
        let r = ReferenceHdfs::start_with("bench-dp", &site);
        let active = r.daemon(&r.first_active.clone()).clone();
        let dns: Vec<u32> = ["dn1", "dn2", "dn3"]
            .iter()
            .map(|d| r.daemon(d).pid)
            .collect();
        dfsio(&active.addr, active.pid, &dns, &files, &size, &mut hdfs);
        clients(&r, &local, n, size_mib, &mut hdfs);
    }
    let mut hafs = DataPath::default();
    {
        let mut c = MiniCluster::builder()
            .label("bench-dp")
            .binary(hafs_release_bin())
            .namenodes(2)
            .journalnodes(3)
            .datanodes(3)
            // The reference cluster's (Hadoop's default) block size, not the test
            // clusters' 1 MiB: clients that read the conf dir (Java, hdfs-native) would
            // otherwise write 128 times more blocks through hafs.
            .conf("dfs.blocksize", "134217728")
            .start();
        c.wait_for_state(0, "active", Duration::from_secs(30));
        let dns: Vec<u32> = (0..3).map(|i| c.datanode(i).pid()).collect();
        let nn = c.nn_rpc_addr_of(0).to_string();
        dfsio(&nn, c.nn(0).pid(), &dns, &files, &size, &mut hafs);
        clients(&c, &local, n, size_mib, &mut hafs);
        c.stop();
    }
    println!("data path, {files} files of {size}, 3 DataNodes each (MiB/s; dn_cpu s/GiB)");
    println!(
        "{:<22} {:>9} {:>9} {:>10} {:>9} {:>9} {:>10}",
        "client phase", "HDFS", "hafs", "hafs/HDFS", "HDFS cpu", "hafs cpu", "cpu ratio"
    );
    for ((name, h, hc), (name2, o, oc)) in hdfs.rows.iter().zip(&hafs.rows) {
        assert_eq!(name, name2, "the two runs measured different phases");
        let cpu = |c: &Option<f64>| c.map_or("-".to_string(), |c| format!("{c:.2}"));
        let cpu_ratio = match (hc, oc) {
            (Some(h), Some(o)) if *h > 0.0 => format!("{:.2}x", o / h),
            _ => "-".to_string(),
        };
        let num = |v: f64, suffix: &str| {
            if v.is_finite() {
                format!("{v:.2}{suffix}")
            } else {
                "-".to_string()
            }
        };
        println!(
            "{:<22} {:>9} {:>9} {:>10} {:>9} {:>9} {:>10}",
            name,
            num(*h, ""),
            num(*o, ""),
            num(o / h, "x"),
            cpu(hc),
            cpu(oc),
            cpu_ratio
        );
    }
}

/// hdfs-native writing 1 KiB files one after another, printing `ACK <unix time> <path>`
/// per acknowledged file and `ERR <unix time> <error>` per failed one, until a stop file
/// appears.
const FAILOVER_PROBE: &str = r#"
import os, sys, time
from hdfs_native import Client
c = Client(os.environ["HAFS_FS_URI"])
stop = sys.argv[1]
c.mkdirs("/failover-probe", create_parent=True)
i = 0
while not os.path.exists(stop):
    path = f"/failover-probe/f{i}"
    i += 1
    try:
        with c.create(path) as w:
            w.write(b"x" * 1024)
        print("ACK", time.time(), path, flush=True)
    except Exception as e:
        print("ERR", time.time(), repr(e)[:300].replace("\n", " "), flush=True)
        time.sleep(0.01)
"#;

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Which client writes during a failover.
#[derive(Debug, Clone, Copy)]
enum ProbeClient {
    /// Hadoop's Java client (crates/tests/java/FailoverProbe.java), one JVM.
    Java,
    /// hdfs-native, one Python process.
    Native,
}

/// What one failover took, in seconds after the kill.
#[derive(Debug, Clone, Copy)]
struct FailoverTimes {
    /// The other NameNode answered `getServiceStatus` as Active (the servers' part).
    active: f64,
    /// The probe's first acknowledged write (what a client saw).
    first_ack: f64,
}

/// Asks the NameNode at `addr` for its HA state every 5 ms (HAServiceProtocol
/// `getServiceStatus`, which both systems serve) until it says Active; returns when,
/// as unix seconds. Gives up after `limit`.
fn wait_for_active(addr: String, limit: Duration) -> std::thread::JoinHandle<Option<f64>> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let mut cfg = hafs_ipc::ClientConfig::new("probe");
            cfg.connect_timeout = Duration::from_millis(500);
            cfg.call_timeout = Duration::from_millis(500);
            let nn = hafs_ha::HaServiceClient::new(addr, cfg);
            let deadline = Instant::now() + limit;
            while Instant::now() < deadline {
                if let Ok(s) = nn.get_service_status().await {
                    if s.state == hafs_ha::HaServiceState::Active {
                        return Some(unix_now());
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            None
        })
    })
}

/// Runs the probe client against `target`, calls `kill` once it has written steadily,
/// and returns kill → the NameNode at `survivor` Active, and kill → first acknowledged
/// write after it. Checks every acknowledged file is there afterwards.
fn failover_probe(
    target: &impl ConfTarget,
    scratch: &std::path::Path,
    client: ProbeClient,
    survivor: &str,
    kill: impl FnOnce(),
) -> FailoverTimes {
    std::fs::create_dir_all(scratch).unwrap();
    let stop = scratch.join("stop");
    let out_path = scratch.join("probe.out");
    let mut cmd = match client {
        ProbeClient::Java => java_class_command(
            target,
            "FailoverProbe",
            &["/failover-probe", stop.to_str().unwrap()],
        ),
        ProbeClient::Native => {
            let script = scratch.join("probe.py");
            std::fs::File::create(&script)
                .unwrap()
                .write_all(FAILOVER_PROBE.as_bytes())
                .unwrap();
            let mut c = Command::new(python_bin());
            c.arg(&script)
                .arg(&stop)
                .env("HAFS_FS_URI", target.fs_uri())
                .env("HADOOP_CONF_DIR", target.conf_dir())
                .env_remove("HADOOP_USER_NAME");
            c
        }
    };
    let mut child = cmd
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the probe client");
    let acks_after = |t: f64| -> Vec<f64> {
        std::fs::read_to_string(&out_path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.strip_prefix("ACK "))
            .filter_map(|l| l.split_whitespace().next()?.parse::<f64>().ok())
            .filter(|at| *at > t)
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(180);
    while acks_after(0.0).len() < 50 {
        assert!(
            Instant::now() < deadline,
            "the {client:?} probe did not write steadily:\n{}",
            std::fs::read_to_string(&out_path).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let killed_at = unix_now();
    let active = wait_for_active(survivor.to_string(), Duration::from_secs(300));
    kill();
    println!("  killed at {killed_at:.3} (unix seconds; to line up with the daemons' logs)");
    while acks_after(killed_at).len() < 20 {
        assert!(
            Instant::now() < deadline + Duration::from_secs(120),
            "no write acknowledged within minutes of the kill:\n{}",
            std::fs::read_to_string(&out_path).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::write(&stop, b"").unwrap();
    let _ = child.wait();
    let first = acks_after(killed_at)[0] - killed_at;
    let out = std::fs::read_to_string(&out_path).unwrap();
    let acked: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("ACK "))
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    let errors = out.lines().filter(|l| l.starts_with("ERR ")).count();
    // What the client went through: each failed attempt after the kill.
    for l in out.lines().filter(|l| l.starts_with("ERR ")) {
        let at: f64 = l
            .split_whitespace()
            .nth(1)
            .and_then(|t| t.parse().ok())
            .unwrap_or(0.0);
        println!("  +{:.3} s: {}", at - killed_at, &l[..l.len().min(300)]);
    }
    let check = python(
        target,
        &format!(
            "import os\nfrom hdfs_native import Client\nc = Client(os.environ['HAFS_FS_URI'])\n\
             missing = [p for p in {acked:?} if c.get_file_info(p).length != 1024]\n\
             print('MISSING', missing)\nassert not missing"
        ),
    );
    assert!(
        check.success(),
        "acknowledged files lost or short:\n{check}"
    );
    let active = active
        .join()
        .unwrap()
        .expect("the other NameNode became Active")
        - killed_at;
    println!(
        "  {client:?}: {} files acknowledged, {errors} failed attempts; the other NameNode Active {active:.3} s, first ack {first:.3} s after the kill",
        acked.len()
    );
    FailoverTimes {
        active,
        first_ack: first,
    }
}

fn kill_pid(pid: u32) {
    // SAFETY: kill(2) with a pid we started (through the script) and SIGKILL.
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
}

/// The timeouts the hafs test clusters use, as Hadoop keys.
const TUNED: [(&str, &str); 3] = [
    ("ha.zookeeper.session-timeout.ms", "2000"),
    ("ha.health-monitor.check-interval.ms", "200"),
    ("ha.health-monitor.rpc-timeout.ms", "1000"),
];

fn reference_failover(
    label: &str,
    site: &[(&str, &str)],
    host: bool,
    client: ProbeClient,
) -> FailoverTimes {
    let r = ReferenceHdfs::start_with(label, site);
    let active = r.first_active.clone();
    let nn = r.daemon(&active).pid;
    let zkfc = r.daemon(&active.replace("nn", "zkfc")).pid;
    let other = if active == "nn1" { "nn2" } else { "nn1" };
    let survivor = r.daemon(other).addr.clone();
    failover_probe(&r, &r.dir().join("probe"), client, &survivor, || {
        kill_pid(nn);
        if host {
            kill_pid(zkfc);
        }
    })
}

/// hafs's own defaults for what [`TUNED`] shortens (the test clusters' timeouts are
/// the tuned ones): health checks every second with Hadoop's 45 s RPC timeout, a 3 s
/// lease renewed every second.
const HAFS_DEFAULTS: [(&str, &str); 4] = [
    ("ha.health-monitor.check-interval.ms", "1000"),
    ("ha.health-monitor.rpc-timeout.ms", "45000"),
    ("hafs.ha.election.lease.ms", "3000"),
    ("hafs.ha.election.renew-interval.ms", "1000"),
];

fn hafs_failover(
    label: &str,
    site: &[(&str, &str)],
    host: bool,
    client: ProbeClient,
) -> FailoverTimes {
    let mut b = MiniCluster::builder()
        .label(label)
        .binary(hafs_release_bin())
        .namenodes(2)
        .journalnodes(3)
        .datanodes(3)
        .automatic_failover(Backend::Journal);
    for (k, v) in site {
        b = b.conf(*k, *v);
    }
    let mut c = b.start();
    let active = c.active_index().expect("an Active NameNode");
    let (nn, zkfc) = (
        c.nn(active).pid(),
        c.zkfc_pid(active).expect("its controller"),
    );
    let dir = c.dir().join("probe");
    let target = c.client_target();
    let survivor = c.nn_rpc_addr_of(1 - active).to_string();
    let took = failover_probe(&target, &dir, client, &survivor, || {
        kill_pid(nn);
        if host {
            kill_pid(zkfc);
        }
    });
    c.stop();
    took
}

#[test]
#[ignore = "a benchmark: run with --run-ignored only (see the module docs)"]
fn failover_hafs_against_the_reference_hdfs() {
    // The Java client by default; HAFS_BENCH_CLIENT=native for hdfs-native (which, when
    // a kill lands between addBlock and the first packet, keeps calling complete on the
    // empty block instead of abandoning it, and gives up after ~18 s on any HDFS).
    let client = match std::env::var("HAFS_BENCH_CLIENT").as_deref() {
        Ok("native") => ProbeClient::Native,
        _ => ProbeClient::Java,
    };
    let only_hafs = std::env::var_os("HAFS_BENCH_ONLY_HAFS").is_some();
    let skipped = FailoverTimes {
        active: f64::NAN,
        first_ack: f64::NAN,
    };
    let mut rows = Vec::new();
    for (kind, host) in [
        ("NameNode process killed", false),
        ("NameNode host lost", true),
    ] {
        println!("{kind}: HDFS, Hadoop's defaults");
        let hdfs_default = if only_hafs {
            skipped
        } else {
            reference_failover("fo-default", &[], host, client)
        };
        println!("{kind}: HDFS, the test clusters' timeouts");
        let hdfs_tuned = if only_hafs {
            skipped
        } else {
            reference_failover("fo-tuned", &TUNED, host, client)
        };
        println!("{kind}: hafs, its defaults");
        let hafs_default = hafs_failover("fo-hafs-default", &HAFS_DEFAULTS, host, client);
        println!("{kind}: hafs, the test clusters' timeouts");
        let hafs_tuned = hafs_failover("fo-hafs", &[], host, client);
        rows.push((kind, hdfs_default, hdfs_tuned, hafs_default, hafs_tuned));
    }
    println!(
        "kill -9 under a write load (s after the kill): the other NameNode Active / first \
         acknowledged write, client {client:?}; defaults against defaults, tuned against tuned"
    );
    println!(
        "{:<24} {:>14} {:>14} {:>14} {:>14} {:>16} {:>16}",
        "kill",
        "HDFS default",
        "hafs default",
        "HDFS tuned",
        "hafs tuned",
        "HDFS/hafs dflt",
        "HDFS/hafs tuned"
    );
    let pair = |t: FailoverTimes| format!("{:.2} / {:.2}", t.active, t.first_ack);
    let ratio = |h: FailoverTimes, o: FailoverTimes| {
        format!(
            "{:.1}x / {:.1}x",
            h.active / o.active,
            h.first_ack / o.first_ack
        )
    };
    for (kind, hd, ht, od, ot) in rows {
        println!(
            "{kind:<24} {:>14} {:>14} {:>14} {:>14} {:>16} {:>16}",
            pair(hd),
            pair(od),
            pair(ht),
            pair(ot),
            ratio(hd, od),
            ratio(ht, ot)
        );
    }
}

fn kv(k: &str, v: impl ToString) -> (String, String) {
    (k.to_string(), v.to_string())
}

/// A single NameNode's conf dir (no HA) under `dir`.
fn single_namenode_conf(dir: &std::path::Path) -> ClientTarget {
    let conf_dir = dir.join("conf");
    std::fs::create_dir_all(&conf_dir).unwrap();
    let rpc = format!("127.0.0.1:{}", free_port());
    let fs_uri = format!("hdfs://{rpc}");
    write_site_xml(
        &conf_dir.join("core-site.xml"),
        &[kv("fs.defaultFS", &fs_uri)],
    );
    write_site_xml(
        &conf_dir.join("hdfs-site.xml"),
        &[
            kv(
                "dfs.namenode.name.dir",
                format!("file://{}", dir.join("name").display()),
            ),
            kv("dfs.namenode.rpc-address", &rpc),
            kv(
                "dfs.namenode.http-address",
                format!("127.0.0.1:{}", free_port()),
            ),
            kv("dfs.namenode.fs-limits.min-block-size", 0),
        ],
    );
    ClientTarget {
        conf_dir,
        fs_uri,
        env: Vec::new(),
    }
}

/// Starts the Apache NameNode on `target`'s conf, waits until it answers, forces a full
/// GC and returns its heap in use afterwards (bytes), then stops it.
fn apache_namenode_heap_after_gc(target: &ClientTarget, log: &std::path::Path) -> u64 {
    let mut cmd = Command::new("bash");
    cmd.arg(workspace_root().join("scripts/hdfs"))
        .arg("namenode")
        .env("HAFS_CACHE", hafs_cache())
        .env("HADOOP_CONF_DIR", &target.conf_dir)
        .env("HDFS_HEAP", "4g")
        .env_remove("HADOOP_USER_NAME");
    let mut nn = Daemon::spawn("apache-nn", cmd, log);
    let deadline = Instant::now() + Duration::from_secs(900);
    while !hdfs_tool(target, &["dfsadmin", "-safemode", "get"]).success() {
        assert!(
            nn.is_running(),
            "the Apache NameNode exited:\n{}",
            nn.log_tail(40)
        );
        assert!(
            Instant::now() < deadline,
            "the Apache NameNode did not load"
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    let jcmd = |what: &str| {
        let mut c = Command::new("jcmd");
        c.arg(nn.pid().to_string()).arg(what);
        let out = run_with_timeout(c, Duration::from_secs(300));
        assert!(out.success(), "jcmd {what} failed:\n{out}");
        out.stdout
    };
    jcmd("GC.run");
    let info = jcmd("GC.heap_info");
    // " garbage-first heap   total 262144K, used 12345K [...]"
    let used_k: u64 = info
        .split("used ")
        .nth(1)
        .and_then(|r| r.split('K').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no heap use in GC.heap_info:\n{info}"));
    nn.terminate(Duration::from_secs(30));
    used_k * 1024
}

#[test]
#[ignore = "a benchmark: run with --run-ignored only (see the module docs)"]
fn memory_per_file_hafs_against_the_reference_hdfs() {
    let files: u64 = env_or("HAFS_BENCH_FILES", "1000000").parse().unwrap();

    // HDFS: an empty namespace, then the same with the files of an edit log written by
    // Hadoop's CreateEditsLog (one block each, replication 1).
    let tmp = TempDir::new("bench-mem");
    let target = single_namenode_conf(&tmp.join("hdfs"));
    let format = hdfs_tool(
        &target,
        &["namenode", "-format", "-force", "-nonInteractive"],
    );
    assert!(format.success(), "format failed:\n{format}");
    let empty = apache_namenode_heap_after_gc(&target, &tmp.join("nn-empty.log"));
    let edits = tmp.join("edits");
    let mut gen = Command::new("java");
    gen.args(["-Xmx2g", "-cp", &classpath_jars()])
        .arg("org.apache.hadoop.hdfs.server.namenode.CreateEditsLog")
        .args(["-f", &files.to_string(), "1", "1", "-r", "1", "-d"])
        .arg(&edits);
    let out = run_with_timeout(gen, Duration::from_secs(900));
    assert!(out.success(), "CreateEditsLog failed:\n{out}");
    let current = tmp.join("hdfs/name/current");
    for e in std::fs::read_dir(&edits).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with("edits_") {
            std::fs::copy(e.path(), current.join(&name)).unwrap();
        }
    }
    let full = apache_namenode_heap_after_gc(&target, &tmp.join("nn-full.log"));
    let hdfs_per_file = full.saturating_sub(empty) as f64 / files as f64;
    println!(
        "HDFS NameNode heap after full GC: {:.1} MB empty, {:.1} MB with {files} one-block files \
         -> {hdfs_per_file:.0} bytes per file",
        empty as f64 / 1e6,
        full as f64 / 1e6
    );

    // hafs: one NameNode process, the files created over RPC.
    let target = single_namenode_conf(&tmp.join("hafs"));
    let hafs = |args: &[&str]| {
        let mut c = Command::new(hafs_release_bin());
        c.env_remove("HADOOP_CONF_DIR")
            .arg("--config")
            .arg(&target.conf_dir)
            .args(args);
        c
    };
    let out = run_with_timeout(
        hafs(&["namenode", "-format", "-nonInteractive"]),
        Duration::from_secs(60),
    );
    assert!(out.success(), "hafs namenode -format failed:\n{out}");
    let mut nn = Daemon::spawn("hafs-nn", hafs(&["namenode"]), &tmp.join("hafs-nn.log"));
    nn.wait_for_log_line(hafs_tests::NAMENODE_READY, Duration::from_secs(60));
    let mut bench = Command::new(hafs_release_bin());
    bench
        .env_remove("HADOOP_CONF_DIR")
        .args(["bench", "nnthroughput", "-fs", &target.fs_uri])
        .args(["-nnpid", &nn.pid().to_string()])
        .args([
            "-op",
            "create",
            "-ops",
            &files.to_string(),
            "-threads",
            "16",
        ])
        .args(["-blocksPerFile", "1", "-memory", "0"]);
    let out = run_with_timeout(bench, Duration::from_secs(3600));
    assert!(out.success(), "hafs bench nnthroughput failed:\n{out}");
    println!("{}", out.stdout);
    let hafs_per_file: f64 = out
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("RSS growth of NameNode process "))
        .and_then(|l| l.split(": ").nth(1))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no RSS growth line:\n{}", out.stdout));
    nn.terminate(Duration::from_secs(30));
    println!("NameNode memory per one-block file, {files} files");
    println!("  HDFS (heap after full GC): {hdfs_per_file:.0} bytes");
    println!("  hafs (resident-set growth): {hafs_per_file:.0} bytes");
    println!("  hafs/HDFS: {:.2}x", hafs_per_file / hdfs_per_file);
}
