//! Hadoop's own FileSystem contract suites (hadoop-common 3.5.0's
//! `AbstractContract*Test`, the ones hadoop-hdfs runs against HDFS) with HDFS's contract
//! options, run in one JVM against the reference HDFS (the control) and against a hafs
//! cluster. The failures of each must be exactly the ones docs/compatibility.md lists
//! with their reasons: a new failure fails this test, and so does a listed one that now
//! passes (remove it from the list: the list only shrinks).

use std::collections::BTreeSet;

use hafs_tests::{
    run_contract_suites, workspace_root, MiniCluster, ReferenceHdfs, SuiteResult, CONTRACT_SUITES,
};

/// A `(suite, test)` pair, e.g. `("Concat", "testConcatFileOnFile()")`.
type SuiteTest = (String, String);

/// `(suite, test)` rows of the contract table in docs/compatibility.md for `cluster`
/// (`hafs` or `HDFS`): lines `| <cluster> | <suite> | <test> | <reason> |`.
fn documented_failures(cluster: &str) -> BTreeSet<(String, String)> {
    let path = workspace_root().join("docs/compatibility.md");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            (cells.len() == 4 && cells[0] == cluster)
                .then(|| (cells[1].to_string(), cells[2].trim_matches('`').to_string()))
        })
        .collect()
}

fn report(cluster: &str, results: &[SuiteResult]) -> String {
    let mut s = format!("{cluster}:\n");
    for r in results {
        s.push_str(&format!(
            "  {:<18} passed {:>3}  failed {:>2}  skipped {:>2}\n",
            r.suite, r.passed, r.failed, r.skipped
        ));
        for (test, why) in &r.failures {
            s.push_str(&format!("      FAIL {test}: {why}\n"));
        }
    }
    s
}

/// Every suite ran at least one test.
fn check_ran(cluster: &str, results: &[SuiteResult], out: &hafs_tests::CmdOutput) {
    let ran: Vec<&str> = results.iter().map(|r| r.suite.as_str()).collect();
    assert_eq!(
        ran, CONTRACT_SUITES,
        "not every suite ran against {cluster}:\n{out}"
    );
    for r in results {
        assert!(
            r.passed + r.failed + r.skipped > 0,
            "suite {} ran no test against {cluster}:\n{out}",
            r.suite
        );
    }
}

/// Whether the documented rows cover a failure: the same suite and test, or the
/// suite's `*` row (the whole suite fails for one reason).
fn covered(listed: &BTreeSet<(String, String)>, suite: &str, test: &str) -> bool {
    listed.contains(&(suite.to_string(), test.to_string()))
        || listed.contains(&(suite.to_string(), "*".to_string()))
}

/// The failures not covered by the documented rows, and the documented rows that no
/// failure matches any more.
fn compare(
    results: &[SuiteResult],
    listed: &BTreeSet<SuiteTest>,
) -> (Vec<SuiteTest>, Vec<SuiteTest>) {
    let failed: BTreeSet<(String, String)> = results
        .iter()
        .flat_map(|r| r.failures.iter().map(|(t, _)| (r.suite.clone(), t.clone())))
        .collect();
    let new = failed
        .iter()
        .filter(|(s, t)| !covered(listed, s, t))
        .cloned()
        .collect();
    let fixed = listed
        .iter()
        .filter(|(s, t)| {
            if t == "*" {
                !failed.iter().any(|(fs, _)| fs == s)
            } else {
                !failed.contains(&(s.clone(), t.clone()))
            }
        })
        .cloned()
        .collect();
    (new, fixed)
}

#[test]
fn hadoop_contract_suites_against_the_reference_hdfs_and_hafs() {
    // The control first, alone on the machine, then hafs.
    let (reference, ref_out) = {
        let c = ReferenceHdfs::start("contract");
        run_contract_suites(&c, CONTRACT_SUITES)
    };
    eprintln!("{}", report("HDFS", &reference));

    let hafs = MiniCluster::builder()
        .label("contract")
        .datanodes(3)
        // The suites write 1 KiB blocks, as HDFS's own test configuration allows.
        .conf("dfs.namenode.fs-limits.min-block-size", "0")
        .start();
    let (ours, our_out) = run_contract_suites(&hafs, CONTRACT_SUITES);
    eprintln!("{}", report("hafs", &ours));

    check_ran("HDFS", &reference, &ref_out);
    check_ran("hafs", &ours, &our_out);

    // The control: HDFS may only fail where the docs say the environment makes it
    // (those failures are timing-dependent, so passing them is no news).
    let (new, _) = compare(&reference, &documented_failures("HDFS"));
    assert!(
        new.is_empty(),
        "the reference HDFS fails contract tests docs/compatibility.md does not list: \
         {new:?}\n{}",
        report("HDFS", &reference)
    );
    // hafs: exactly the documented failures. A new one is a regression; a listed one
    // that passes now must leave the list.
    let (new, fixed) = compare(&ours, &documented_failures("hafs"));
    assert!(
        new.is_empty() && fixed.is_empty(),
        "against hafs: failures not in docs/compatibility.md: {new:?}; listed there but \
         passing now (remove them from the list): {fixed:?}\n{}",
        report("hafs", &ours)
    );
}
