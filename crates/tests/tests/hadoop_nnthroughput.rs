//! Hadoop's own NameNode benchmark (`NNThroughputBenchmark -fs`, hadoop-hdfs 3.5.0's
//! test jar) drives a hafs NameNode over RPC through every op it can drive remotely.
//! A smoke run (a few hundred ops each): it needs NamenodeProtocol.versionRequest,
//! RefreshUserMappingsProtocol and ClientProtocol to answer as Hadoop's do. The
//! side-by-side figures against the reference HDFS are `scripts/bench-vs-hdfs.sh`
//! (docs/benchmarks.md).

use hafs_tests::{run_nnthroughput, MiniCluster};

#[test]
fn hadoops_nnthroughput_benchmark_runs_every_remote_op_against_hafs() {
    let c = MiniCluster::builder()
        .label("nnbench")
        .datanodes(0)
        // The benchmark creates files with 16-byte blocks, and says so.
        .conf("dfs.namenode.fs-limits.min-block-size", "16")
        .start();
    let nn = c.nn_rpc_addr().to_string();
    let ops: [(&str, &[&str]); 6] = [
        ("create", &["-files", "300"]),
        ("mkdirs", &["-dirs", "300"]),
        ("open", &["-files", "300"]),
        ("fileStatus", &["-files", "300"]),
        ("rename", &["-files", "300"]),
        ("delete", &["-files", "300"]),
    ];
    for (op, args) in ops {
        let (stats, out) = run_nnthroughput(&nn, op, args, 4);
        let stats = stats.unwrap_or_else(|| panic!("no {op} stats:\n{out}"));
        assert_eq!(stats.operations, 300, "{op}:\n{out}");
        assert!(stats.ops_per_sec > 0.0, "{op}:\n{out}");
        eprintln!(
            "NNThroughputBenchmark -op {op}: {:.0} ops/s",
            stats.ops_per_sec
        );
    }
}
