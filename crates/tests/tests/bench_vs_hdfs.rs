//! Side by side with the real HDFS (issue 13 part 4): Hadoop's own
//! `NNThroughputBenchmark -fs` against the Active NameNode of the reference HDFS
//! (Apache Hadoop 3.5.0, HA with 3 JournalNodes) and then of a hafs HA cluster (release
//! build, the same shape), one after the other on the same disk, printing each op's
//! ops/s and the ratio hafs/HDFS. A measurement, not a check, so not in every run:
//!
//! ```text
//! cargo build --release -p hafs
//! HAFS_BENCH_FILES=20000 cargo nextest run -p hafs-tests --test bench_vs_hdfs \
//!     --run-ignored only --no-capture
//! ```
//!
//! `hadoop_nnthroughput.rs` is the smoke run of the same benchmark in every test run.

use std::time::Duration;

use hafs_tests::{hafs_release_bin, run_nnthroughput, MiniCluster, NnBenchStats, ReferenceHdfs};

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
        run_all(&active, &files, threads)
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
        let out = run_all(&c.nn_rpc_addr_of(0).to_string(), &files, threads);
        c.stop();
        out
    };
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
}
