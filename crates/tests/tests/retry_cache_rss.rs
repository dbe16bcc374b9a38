//! The retry cache is bounded by bytes: under a create load far beyond what its budget
//! holds, a real `hafs namenode` process's resident memory levels off instead of growing
//! with every call (it grew ~1 KB per create before the bound, docs/benchmarks.md).
//!
//! Each round runs `hafs bench nnthroughput -op create` against the NameNode: it creates
//! files (create + complete, one retry cache entry each) and deletes them all at the
//! end, so the namespace returns to empty while the retry cache keeps the rounds'
//! entries. The NameNode's VmRSS is read after every round.

use std::process::Command;
use std::time::Duration;

use hafs_tests::{hafs_bin, run_with_timeout, MiniCluster};

const ROUNDS: usize = 6;
const CREATES_PER_ROUND: u64 = 12_000;
/// 0.1 % of 1 GiB: about 1 MiB, a few thousand entries, filled in the first round.
const MEMORY: &str = "1g";
const PERCENT: &str = "0.1";
const BUDGET: u64 = (1 << 30) / 1000;

fn vm_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS in /proc/<pid>/status")
}

fn bench_round(cluster: &MiniCluster) {
    let mut cmd = Command::new(hafs_bin());
    cmd.env_remove("HADOOP_CONF_DIR")
        .env("HAFS_LOG", "warn")
        .arg("--config")
        .arg(cluster.conf_dir())
        .args(["bench", "nnthroughput", "-fs", &cluster.fs_uri()])
        .args(["-op", "create", "-threads", "8", "-ops"])
        .arg(CREATES_PER_ROUND.to_string());
    run_with_timeout(cmd, Duration::from_secs(600)).ok();
}

#[test]
fn namenode_rss_levels_off_under_a_create_load_beyond_the_budget() {
    let mut cluster = MiniCluster::builder()
        .label("retry-cache-rss")
        .datanodes(0)
        .conf("hafs.namenode.memory.bytes", MEMORY)
        .conf("dfs.namenode.retrycache.heap.percent", PERCENT)
        .start();
    let pid = cluster.namenode().pid();
    let mut rss = vec![vm_rss_kb(pid)];
    for _ in 0..ROUNDS {
        bench_round(&cluster);
        rss.push(vm_rss_kb(pid));
    }
    let log = cluster.namenode_log();
    cluster.stop();
    eprintln!("NameNode VmRSS (kB) at start and after each round: {rss:?}");
    assert!(
        log.contains("retry cache reached its byte budget"),
        "the load must overflow the budget for this test to mean anything"
    );
    // The first rounds carry the one-off growth (runtime, connections, the namespace's
    // high-water mark, the cache filling its budget); the later rounds only churn.
    let half = ROUNDS / 2;
    let first = rss[half].saturating_sub(rss[0]);
    let second = rss[ROUNDS].saturating_sub(rss[half]);
    let unbounded_kb = (half as u64 * CREATES_PER_ROUND * 200) / 1024;
    assert!(
        second * 4 <= first.max(1) + BUDGET / 1024,
        "RSS still growing: +{first} kB over rounds 1-{half}, +{second} kB over the rest"
    );
    assert!(
        second < unbounded_kb / 4,
        "+{second} kB over the last {half} rounds; an unbounded cache at ~200 bytes \
         an entry would add {unbounded_kb} kB"
    );
}
