//! Federation, changing the nameservices of running DataNodes: `dfsadmin
//! -refreshNamenodes` (each DataNode re-reads its hdfs-site.xml) and `-deleteBlockPool`,
//! from `hafs dfsadmin` and from Apache's own `hdfs dfsadmin` (and `-getBalancerBandwidth`,
//! the other ClientDatanodeProtocol admin call).
//!
//! One cluster serves the whole scenario (two HA nameservices, three DataNodes):
//! - a refresh as a non-superuser, or with a broken hdfs-site.xml, is refused and
//!   changes nothing;
//! - `dfs.internal.nameservices` cut to ns1 and every DataNode refreshed (dn1 by
//!   Apache's tool, the others by hafs) → ns2 counts no live DataNode, while a Java
//!   client writes into ns1 without an error;
//! - deleteBlockPool of ns2's pool without force (it holds replicas) → Hadoop's error;
//!   of a hostile id (`../…`) → refused; of ns1's pool (still served) → Hadoop's error;
//!   nothing deleted;
//! - ns2 put back and refreshed → every DataNode re-registers and ns2's files read back
//!   byte-exact (Java and hdfs-native);
//! - dn3 alone drops ns2, deleteBlockPool … force (Apache's tool) → the pool is gone
//!   from its disks; ns2 put back on dn3 → its pool is made anew and ns2 re-replicates
//!   its files onto it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hafs_tests::{
    block_files, hafs_cmd, hdfs_tool, java_fs, python, test_bytes, ClientTarget, Federation,
    TempDir,
};

const INTERNAL_NAMESERVICES: &str = "dfs.internal.nameservices";
/// How long a DataNode may take to be declared dead (2 × 2 s recheck + 10 heartbeats
/// of 1 s with the harness's settings) or live again, with room for a loaded machine.
const LIVENESS_TIMEOUT: Duration = Duration::from_secs(60);

fn dn_conf_dir(fed: &Federation, i: usize) -> PathBuf {
    fed.datanode_data_dirs(i)[0]
        .parent()
        .expect("DataNode home")
        .join("conf")
}

/// DataNode `i`'s `dfs.datanode.ipc.address` (what dfsadmin is given).
fn dn_ipc(fed: &Federation, i: usize) -> String {
    let conf =
        hafs_conf::Configuration::load(Some(&dn_conf_dir(fed, i))).expect("load DataNode conf");
    conf.get_trimmed("dfs.datanode.ipc.address")
        .expect("DataNode ipc address")
}

/// The NameNodes DataNode `i`'s `/jmx` lists (DataNodeInfo's `NamenodeAddresses`),
/// read with Python's urllib as a monitoring agent would.
fn jmx_namenodes(fed: &Federation, i: usize) -> String {
    let conf =
        hafs_conf::Configuration::load(Some(&dn_conf_dir(fed, i))).expect("load DataNode conf");
    let http = conf
        .get_trimmed("dfs.datanode.http.address")
        .expect("DataNode http address");
    let out = python(
        fed,
        &format!(
            "import json, urllib.request\n\
             q = 'Hadoop:service=DataNode,name=DataNodeInfo'\n\
             b = json.load(urllib.request.urlopen('http://{http}/jmx?qry=' + q))['beans'][0]\n\
             print(b['NamenodeAddresses'])\n"
        ),
    )
    .ok();
    out.stdout
}

/// NameNode `nn` of `ns`'s RPC address, from the client configuration.
fn nn_rpc(fed: &Federation, ns: &str, nn: &str) -> String {
    let conf = hafs_conf::Configuration::load(Some(fed.conf_dir())).expect("load client conf");
    conf.get_trimmed(&format!("dfs.namenode.rpc-address.{ns}.{nn}"))
        .expect("NameNode rpc address")
}

/// Rewrites DataNode `i`'s hdfs-site.xml with `dfs.internal.nameservices = value`.
fn set_internal_nameservices(fed: &Federation, i: usize, value: &str) {
    let path = dn_conf_dir(fed, i).join("hdfs-site.xml");
    let text = std::fs::read_to_string(&path).expect("read hdfs-site.xml");
    let name = format!("<name>{INTERNAL_NAMESERVICES}</name>");
    let at = text
        .find(&name)
        .expect("hdfs-site.xml names the internal nameservices");
    let start = at + text[at..].find("<value>").expect("a value") + "<value>".len();
    let end = start + text[start..].find("</value>").expect("a value's end");
    let new = format!("{}{value}{}", &text[..start], &text[end..]);
    std::fs::write(&path, new).expect("write hdfs-site.xml");
}

fn version_prop(file: &Path, key: &str) -> String {
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("{} has no {key}:\n{text}", file.display()))
        .to_string()
}

fn pool_id(fed: &Federation, ns: &str) -> String {
    version_prop(
        &fed.dir()
            .join(format!("{ns}-nn1"))
            .join("name/current/VERSION"),
        "blockpoolID",
    )
}

/// DataNode `i`'s directories of block pool `bp`, one per volume.
fn pool_dirs(fed: &Federation, i: usize, bp: &str) -> Vec<PathBuf> {
    fed.datanode_data_dirs(i)
        .iter()
        .map(|d| d.join("current").join(bp))
        .collect()
}

/// Replicas (block files) DataNode `i` holds of block pool `bp`.
fn pool_blocks(fed: &Federation, i: usize, bp: &str) -> usize {
    block_files(&pool_dirs(fed, i, bp)).len()
}

#[track_caller]
fn wait_live(fed: &Federation, ns: &str, want: usize) {
    let deadline = Instant::now() + LIVENESS_TIMEOUT;
    let mut last = None;
    while Instant::now() < deadline {
        last = fed.live_datanodes(ns);
        if last == Some(want) {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("{ns} did not report {want} live DataNodes within {LIVENESS_TIMEOUT:?} (last {last:?})");
}

fn hafs_dfsadmin(fed: &Federation, args: &[&str]) -> hafs_tests::CmdOutput {
    let mut all = vec!["dfsadmin"];
    all.extend_from_slice(args);
    hafs_cmd(&fed.client(), &all)
}

fn write_local(dir: &TempDir, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write local file");
    p.display().to_string()
}

#[test]
fn refresh_namenodes_removes_and_adds_nameservices_on_running_datanodes() {
    let mut fed = Federation::start(2, 3, "fed-refresh");
    let local = TempDir::new("fed-refresh-local");
    let bp1 = pool_id(&fed, "ns1");
    let bp2 = pool_id(&fed, "ns2");
    let ipc: Vec<String> = (0..3).map(|i| dn_ipc(&fed, i)).collect();

    // ---- Files in ns2, on every DataNode (replication 3).
    let b = test_bytes(21, 1_300_000);
    let c = test_bytes(22, 500_000);
    let b_path = write_local(&local, "b", &b);
    let c_path = write_local(&local, "c", &c);
    hafs_cmd(&fed.client(), &["dfs", "-put", &b_path, "/ns2/b"]).ok();
    java_fs(&fed, &["-put", &c_path, "/ns2/c"]).ok();
    let blocks_per_dn = pool_blocks(&fed, 0, &bp2);
    assert!(blocks_per_dn > 0, "dn1 holds no replica of ns2's files");

    // ---- Refused refreshes change nothing: not a superuser; a broken hdfs-site.xml.
    let mallory = ClientTarget {
        env: vec![("HADOOP_USER_NAME".into(), "mallory".into())],
        ..fed.client()
    };
    hafs_cmd(&mallory, &["dfsadmin", "-refreshNamenodes", &ipc[0]])
        .expect_code(255)
        .expect_stderr_contains("refreshNamenodes: Permission denied");
    hafs_cmd(
        &mallory,
        &["dfsadmin", "-deleteBlockPool", &ipc[0], &bp2, "force"],
    )
    .expect_code(255)
    .expect_stderr_contains("deleteBlockPool: Permission denied");
    let site = dn_conf_dir(&fed, 0).join("hdfs-site.xml");
    let good = std::fs::read_to_string(&site).expect("read hdfs-site.xml");
    std::fs::write(&site, &good[..good.len() / 2]).expect("truncate hdfs-site.xml");
    let broken = hafs_dfsadmin(&fed, &["-refreshNamenodes", &ipc[0]])
        .expect_code(255)
        .expect_stderr_contains("refreshNamenodes: Cannot refresh the NameNodes:");
    assert!(
        broken.stderr.contains("hdfs-site.xml"),
        "the error names the file: {broken}"
    );
    std::fs::write(&site, &good).expect("restore hdfs-site.xml");
    // Usage errors: Hadoop's usage line and -1.
    hafs_dfsadmin(&fed, &["-refreshNamenodes"])
        .expect_code(255)
        .expect_stderr_contains("Usage: hafs dfsadmin [-refreshNamenodes datanode-host:port]");
    hafs_dfsadmin(&fed, &["-deleteBlockPool", &ipc[0], &bp2, "please"])
        .expect_code(255)
        .expect_stderr_contains(
            "Usage: hafs dfsadmin [-deleteBlockPool datanode-host:port blockpoolId [force]]",
        );
    assert_eq!(
        fed.live_datanodes("ns2"),
        Some(3),
        "ns2 lost DataNodes to a refused refresh"
    );

    // ---- getBalancerBandwidth: the default, then what a NameNode set, by both tools.
    let default_bw = "Balancer bandwidth is 104857600 bytes per second.";
    let ours = hafs_dfsadmin(&fed, &["-getBalancerBandwidth", &ipc[1]]).ok();
    assert_eq!(ours.stdout.trim(), default_bw, "{ours}");
    let theirs = hdfs_tool(&fed, &["dfsadmin", "-getBalancerBandwidth", &ipc[1]]).ok();
    assert!(theirs.stdout.contains(default_bw), "{theirs}");
    hafs_dfsadmin(
        &fed,
        &["-fs", "hdfs://ns1", "-setBalancerBandwidth", "2000000"],
    )
    .ok();
    let deadline = Instant::now() + LIVENESS_TIMEOUT;
    loop {
        let out = hafs_dfsadmin(&fed, &["-getBalancerBandwidth", &ipc[1]]).ok();
        if out.stdout.trim() == "Balancer bandwidth is 2000000 bytes per second." {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new bandwidth never reached dn2: {out}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    hafs_dfsadmin(&fed, &["-getBalancerBandwidth", "127.0.0.1:1"])
        .expect_code(255)
        .expect_stderr_contains("getBalancerBandwidth: Datanode unreachable.");

    // ---- ns2 removed from every DataNode while a Java client writes into ns1.
    let ns1_files: Vec<(String, Vec<u8>)> = (0..4)
        .map(|k| {
            let bytes = test_bytes(30 + k as u64, 700_000);
            (write_local(&local, &format!("ns1-{k}"), &bytes), bytes)
        })
        .collect();
    let writer = {
        let target = fed.client();
        let mut args: Vec<String> = vec!["-put".into()];
        args.extend(ns1_files.iter().map(|(p, _)| p.clone()));
        args.push("/ns1/during-refresh/".into());
        java_fs(&target, &["-mkdir", "-p", "/ns1/during-refresh"]).ok();
        std::thread::spawn(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            java_fs(&target, &args)
        })
    };
    for i in 0..3 {
        set_internal_nameservices(&fed, i, "ns1");
    }
    let theirs = hdfs_tool(&fed, &["dfsadmin", "-refreshNamenodes", &ipc[0]]).ok();
    assert_eq!(theirs.stdout.trim(), "", "{theirs}");
    for addr in &ipc[1..] {
        let ours = hafs_dfsadmin(&fed, &["-refreshNamenodes", addr]).ok();
        assert_eq!(ours.stdout, "", "nothing printed on success: {ours}");
    }
    wait_live(&fed, "ns2", 0);
    let (ns1_nn, ns2_nn) = (nn_rpc(&fed, "ns1", "nn1"), nn_rpc(&fed, "ns2", "nn1"));
    let shown = jmx_namenodes(&fed, 1);
    assert!(
        shown.contains(&ns1_nn) && !shown.contains(&ns2_nn),
        "dn2's /jmx after ns2 left: {shown}"
    );
    writer.join().expect("Java writer").ok();
    assert_eq!(fed.live_datanodes("ns1"), Some(3), "ns1 lost DataNodes");
    for (k, (_, bytes)) in ns1_files.iter().enumerate() {
        let copy = local.join(format!("ns1-back-{k}"));
        hafs_cmd(
            &fed.client(),
            &[
                "dfs",
                "-get",
                &format!("/ns1/during-refresh/ns1-{k}"),
                &copy.display().to_string(),
            ],
        )
        .ok();
        assert_eq!(&std::fs::read(&copy).expect("read back"), bytes);
    }
    for i in 0..3 {
        assert!(fed.datanode_running(i), "dn{} stopped", i + 1);
        assert_eq!(
            pool_blocks(&fed, i, &bp2),
            blocks_per_dn,
            "dn{} lost ns2's replicas",
            i + 1
        );
    }

    // ---- deleteBlockPool refusals: nothing deleted.
    hafs_dfsadmin(&fed, &["-deleteBlockPool", &ipc[1], &bp2])
        .expect_code(255)
        .expect_stderr_contains(
            "deleteBlockPool: Cannot delete block pool, it contains some block files",
        );
    for hostile in ["../current", "BP-1-127.0.0.1-1/../../x", "/tmp"] {
        hafs_dfsadmin(&fed, &["-deleteBlockPool", &ipc[1], hostile, "force"])
            .expect_code(255)
            .expect_stderr_contains("deleteBlockPool: Invalid block pool id");
    }
    hdfs_tool(
        &fed,
        &["dfsadmin", "-deleteBlockPool", &ipc[1], &bp1, "force"],
    )
    .expect_failure()
    .expect_stderr_contains("The block pool is still running");
    for i in 0..3 {
        assert_eq!(
            pool_blocks(&fed, i, &bp2),
            blocks_per_dn,
            "dn{} lost ns2's replicas",
            i + 1
        );
        assert!(fed.datanode_data_dirs(i)[0]
            .join("current/VERSION")
            .is_file());
        assert!(
            !block_files(&pool_dirs(&fed, i, &bp1)).is_empty(),
            "dn{} lost ns1's replicas",
            i + 1
        );
    }

    // ---- ns2 back: every DataNode re-registers; its files read back byte-exact.
    for (i, addr) in ipc.iter().enumerate() {
        set_internal_nameservices(&fed, i, "ns1,ns2");
        hafs_dfsadmin(&fed, &["-refreshNamenodes", addr]).ok();
    }
    wait_live(&fed, "ns2", 3);
    let shown = jmx_namenodes(&fed, 1);
    assert!(
        shown.contains(&ns2_nn),
        "dn2's /jmx after ns2 came back: {shown}"
    );
    let java_copy = local.join("c-java");
    java_fs(&fed, &["-get", "/ns2/c", &java_copy.display().to_string()]).ok();
    assert_eq!(std::fs::read(&java_copy).expect("Java's copy"), c);
    let py = python(
        &fed,
        &format!(
            "import os
from hdfs_native import Client
c = Client(os.environ['HAFS_FS_URI'])
with c.read('/ns2/b') as r:
    assert r.read() == open('{b_path}', 'rb').read()
with c.read('/ns2/c') as r:
    assert r.read() == open('{c_path}', 'rb').read()
print('done')
"
        ),
    )
    .ok();
    assert!(py.stdout.contains("done"), "{py}");

    // ---- dn3 drops ns2 and deletes its pool (force); ns2 back → re-replicated onto it.
    set_internal_nameservices(&fed, 2, "ns1");
    hafs_dfsadmin(&fed, &["-refreshNamenodes", &ipc[2]]).ok();
    hdfs_tool(
        &fed,
        &["dfsadmin", "-deleteBlockPool", &ipc[2], &bp2, "force"],
    )
    .ok();
    for dir in pool_dirs(&fed, 2, &bp2) {
        assert!(!dir.exists(), "{} still exists", dir.display());
    }
    assert!(
        !block_files(&pool_dirs(&fed, 2, &bp1)).is_empty(),
        "dn3 lost ns1's replicas with ns2's pool"
    );
    set_internal_nameservices(&fed, 2, "ns1,ns2");
    hafs_dfsadmin(&fed, &["-refreshNamenodes", &ipc[2]]).ok();
    let deadline = Instant::now() + LIVENESS_TIMEOUT;
    while pool_blocks(&fed, 2, &bp2) < blocks_per_dn {
        assert!(
            Instant::now() < deadline,
            "ns2 did not re-replicate onto dn3 ({} of {blocks_per_dn} replicas):\n{}",
            pool_blocks(&fed, 2, &bp2),
            fed.datanode_log(2)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let version = pool_dirs(&fed, 2, &bp2)
        .into_iter()
        .map(|d| d.join("current/VERSION"))
        .find(|v| v.is_file())
        .expect("dn3 has a VERSION for ns2's pool again");
    assert_eq!(version_prop(&version, "blockpoolID"), bp2);
}
