//! Hadoop's FileSystem contract suites (`org.apache.hadoop.fs.contract.AbstractContract*Test`
//! in hadoop-common 3.5.0's test jar) run with JUnit 5 against a running cluster — hafs or
//! the reference HDFS — through our own binding (crates/tests/java/contract): one JVM,
//! every suite in turn, one result line per test.
//!
//! The jars come from `scripts/reference-hdfs.sh fetch` (lib/ and test-lib/ of the
//! reference-hdfs cache); a missing fetch fails loudly naming it.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::command::{run_with_timeout, CmdOutput};
use crate::paths::{hafs_cache, workspace_root};
use crate::tools::ConfTarget;

/// The suites hadoop-hdfs runs against HDFS (its `TestHDFSContract*` classes), by the
/// name between `AbstractContract` and `Test`.
pub const CONTRACT_SUITES: &[&str] = &[
    "Append",
    "BulkDelete",
    "Concat",
    "Create",
    "Delete",
    "GetFileStatus",
    "LeaseRecovery",
    "Mkdir",
    "MultipartUploader",
    "Open",
    "PathHandle",
    "Rename",
    "RootDirectory",
    "SafeMode",
    "Seek",
    "SetTimes",
    "Unbuffer",
    "VectoredRead",
];

/// All suites in one JVM; each test has its own timeout inside the suites too.
const CONTRACT_TIMEOUT: Duration = Duration::from_secs(900);

/// One suite's outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SuiteResult {
    pub suite: String,
    pub passed: u32,
    pub failed: u32,
    pub skipped: u32,
    /// `(test, reason)` of each failed test.
    pub failures: Vec<(String, String)>,
}

fn reference_dir(sub: &str) -> PathBuf {
    let dir = hafs_cache().join("reference-hdfs/3.5.0").join(sub);
    if !dir.is_dir() {
        panic!(
            "{} is missing: run scripts/reference-hdfs.sh fetch (part of scripts/test-deps.sh)",
            dir.display()
        );
    }
    dir
}

/// The reference Hadoop's jars and test jars as a Java class path (its tools and
/// benchmarks: NNThroughputBenchmark, CreateEditsLog, the contract suites).
pub fn classpath_jars() -> String {
    format!(
        "{}/*:{}/*",
        reference_dir("lib").display(),
        reference_dir("test-lib").display()
    )
}

/// The directory holding the compiled binding (ContractSuites and one class per suite),
/// compiled once per source text.
fn compiled_binding() -> PathBuf {
    let src = workspace_root().join("crates/tests/java/contract/ContractSuites.java");
    let text = std::fs::read(&src).unwrap_or_else(|e| panic!("read {}: {e}", src.display()));
    let out = hafs_cache().join(format!("java-contract-{:016x}", crate::java::fnv1a(&text)));
    if out.join("ContractSuites.class").exists() {
        return out;
    }
    let tmp = out.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let mut javac = Command::new("javac");
    javac
        .arg("-nowarn")
        .arg("-cp")
        .arg(classpath_jars())
        .arg("-d")
        .arg(&tmp)
        .arg(&src);
    let res = run_with_timeout(javac, Duration::from_secs(300));
    assert!(
        res.success(),
        "javac of the contract binding failed:\n{res}"
    );
    if std::fs::rename(&tmp, &out).is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    out
}

/// Runs `suites` against the target's cluster (its conf dir's `fs.defaultFS`), with
/// HDFS's contract options; returns each suite's result and the JVM's output.
#[track_caller]
pub fn run_contract_suites(
    target: &impl ConfTarget,
    suites: &[&str],
) -> (Vec<SuiteResult>, CmdOutput) {
    let classes = compiled_binding();
    let options = workspace_root().join("crates/tests/java/contract/hdfs-contract.xml");
    let home = hafs_cache().join("hadoop-home");
    std::fs::create_dir_all(&home).unwrap();
    let log4j = workspace_root().join("scripts/reference-hdfs/log4j-tools.properties");
    let mut cmd = Command::new("java");
    cmd.args(["-Xmx512m", "-XX:+UseSerialGC"])
        .arg(format!("-Dhadoop.home.dir={}", home.display()))
        .arg(format!("-Dlog4j.configuration=file:{}", log4j.display()))
        .arg("-cp")
        .arg(format!(
            "{}:{}:{}",
            target.conf_dir().display(),
            classes.display(),
            classpath_jars()
        ))
        .arg("ContractSuites")
        .arg(&options)
        .args(suites)
        .env_remove("HADOOP_USER_NAME")
        .env_remove("HADOOP_CONF_DIR")
        .envs(target.client_env());
    let out = run_with_timeout(cmd, CONTRACT_TIMEOUT);
    let results = parse_contract_output(&out.stdout);
    (results, out)
}

/// Parses the binding's `test <suite> <name> PASS|FAIL|SKIP [reason]` and
/// `suite <suite> passed=<n> failed=<n> skipped=<n>` lines.
pub fn parse_contract_output(stdout: &str) -> Vec<SuiteResult> {
    let mut results: Vec<SuiteResult> = Vec::new();
    let mut failures: Vec<(String, String, String)> = Vec::new();
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("test ") {
            let mut parts = rest.splitn(4, ' ');
            let (Some(suite), Some(name), Some(outcome)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if outcome == "FAIL" {
                failures.push((
                    suite.to_string(),
                    name.to_string(),
                    parts.next().unwrap_or("").to_string(),
                ));
            }
        } else if let Some(rest) = line.strip_prefix("suite ") {
            let mut words = rest.split_whitespace();
            let Some(suite) = words.next() else { continue };
            let mut r = SuiteResult {
                suite: suite.to_string(),
                ..SuiteResult::default()
            };
            for w in words {
                let (k, v) = w.split_once('=').unwrap_or((w, ""));
                let n = v.parse().unwrap_or(0);
                match k {
                    "passed" => r.passed = n,
                    "failed" => r.failed = n,
                    "skipped" => r.skipped = n,
                    _ => {}
                }
            }
            r.failures = failures
                .iter()
                .filter(|(s, _, _)| s == suite)
                .map(|(_, n, why)| (n.clone(), why.clone()))
                .collect();
            results.push(r);
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tests_and_suite_totals() {
        let out = "test Create testA() PASS\n\
                   test Create testB() FAIL java.io.IOException: no\n\
                   test Create testC() SKIP not supported\n\
                   suite Create passed=1 failed=1 skipped=1\n\
                   test Seek testD() PASS\n\
                   suite Seek passed=1 failed=0 skipped=0\n";
        let r = parse_contract_output(out);
        assert_eq!(r.len(), 2);
        assert_eq!(
            r[0],
            SuiteResult {
                suite: "Create".into(),
                passed: 1,
                failed: 1,
                skipped: 1,
                failures: vec![("testB()".into(), "java.io.IOException: no".into())],
            }
        );
        assert_eq!((r[1].passed, r[1].failed), (1, 0));
    }
}
