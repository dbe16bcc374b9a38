//! Hadoop's own NameNode benchmark, `NNThroughputBenchmark` from hadoop-hdfs 3.5.0's
//! test jar, driving a running NameNode over RPC (`-fs hdfs://host:port`): the ops it
//! can drive remotely (create, mkdirs, open, fileStatus, rename, delete).

use std::process::Command;
use std::time::Duration;

use crate::command::{run_with_timeout, CmdOutput};
use crate::contract::classpath_jars;
use crate::paths::{hafs_cache, workspace_root};

/// One op's figures as the benchmark logs them.
#[derive(Debug, Clone, PartialEq)]
pub struct NnBenchStats {
    pub op: String,
    pub operations: u64,
    pub elapsed_ms: u64,
    pub ops_per_sec: f64,
}

/// Runs `-op <op> <args…>` against the NameNode at `nn` (`host:port`) with `threads`.
#[track_caller]
pub fn run_nnthroughput(
    nn: &str,
    op: &str,
    args: &[&str],
    threads: u32,
) -> (Option<NnBenchStats>, CmdOutput) {
    let home = hafs_cache().join("hadoop-home");
    std::fs::create_dir_all(&home).unwrap();
    let log4j = workspace_root().join("scripts/reference-hdfs/log4j-nnbench.properties");
    let mut cmd = Command::new("java");
    cmd.args(["-Xmx512m", "-XX:+UseSerialGC"])
        .arg(format!("-Dhadoop.home.dir={}", home.display()))
        .arg(format!("-Dlog4j.configuration=file:{}", log4j.display()))
        .arg("-cp")
        .arg(classpath_jars())
        .arg("org.apache.hadoop.hdfs.server.namenode.NNThroughputBenchmark")
        .args(["-fs", &format!("hdfs://{nn}"), "-op", op])
        .args(["-threads", &threads.to_string()])
        .args(args)
        .env_remove("HADOOP_CONF_DIR")
        .env_remove("HADOOP_USER_NAME");
    let out = run_with_timeout(cmd, Duration::from_secs(600));
    (parse_nnthroughput(op, &out.stdout), out)
}

/// The `--- <op> stats  ---` block: `# operations:`, `Elapsed Time:`, `Ops per sec:`.
pub fn parse_nnthroughput(op: &str, stdout: &str) -> Option<NnBenchStats> {
    let start = stdout.find(&format!("--- {op} stats"))?;
    let block = &stdout[start..];
    let field = |name: &str| {
        block
            .lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .map(|v| v.trim().to_string())
    };
    Some(NnBenchStats {
        op: op.to_string(),
        operations: field("# operations:")?.parse().ok()?,
        elapsed_ms: field("Elapsed Time:")?.parse().ok()?,
        ops_per_sec: field("Ops per sec:")?.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_benchmarks_stats_block() {
        let out = "nrFiles = 2000\n--- create inputs ---\n--- create stats  ---\n# operations: 2000\nElapsed Time: 9973\n Ops per sec: 200.5414619472576\nAverage Time: 19\n";
        let s = parse_nnthroughput("create", out).unwrap();
        assert_eq!((s.operations, s.elapsed_ms), (2000, 9973));
        assert!((s.ops_per_sec - 200.54).abs() < 0.01);
        assert!(parse_nnthroughput("open", out).is_none());
        assert!(parse_nnthroughput("create", "--- create stats ---\n# operations: x\n").is_none());
    }
}
