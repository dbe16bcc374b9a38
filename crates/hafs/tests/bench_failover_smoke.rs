//! `hafs bench failover` (automatic) end to end with small numbers: the real binary
//! starts an HA cluster with failover controllers for each election backend (the
//! JournalNodes' lease and a real ZooKeeper), kills the Active twice under a write
//! load, and reports every measure for every round and no acknowledged write lost.
//! No wall time is asserted.

mod common;

use common::{run_ok, temp_dir};

/// The `result: backend=B ...` line's fields.
fn result_of<'a>(stdout: &'a str, backend: &str) -> Vec<(&'a str, &'a str)> {
    let prefix = format!("result: backend={backend} ");
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no '{prefix}' line in:\n{stdout}"));
    line[prefix.len()..]
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .collect()
}

fn field<'a>(fields: &[(&'a str, &'a str)], key: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("no {key}= in {fields:?}"))
}

#[test]
fn failover_bench_kills_the_active_on_both_backends_and_loses_nothing() {
    let dir = temp_dir("hafs-bench-failover-smoke");
    let (stdout, _) = run_ok(
        &[
            "bench",
            "failover",
            "--rounds",
            "2",
            "--writers",
            "2",
            "--interval-ms",
            "300",
        ],
        "--dir",
        &dir,
    );
    for backend in ["journal", "zookeeper"] {
        let fields = result_of(&stdout, backend);
        assert_eq!(field(&fields, "rounds"), "2", "{stdout}");
        assert_eq!(
            field(&fields, "lost"),
            "0",
            "no acknowledged write lost: {stdout}"
        );
        let acked: u64 = field(&fields, "acked").parse().unwrap();
        assert!(acked > 0, "the load got writes acknowledged: {stdout}");
        let report = stdout
            .split(&format!("hafs bench failover --backend {backend}"))
            .nth(1)
            .unwrap_or_else(|| panic!("no report for {backend}:\n{stdout}"));
        for measure in [
            "detection: kill -> other controller elected",
            "fencing of the old Active",
            "promotion: fenced -> reports active",
            "kill -> new Active reports active",
            "kill -> first acknowledged client write",
        ] {
            let row = report
                .lines()
                .find(|l| l.contains(measure))
                .unwrap_or_else(|| panic!("no '{measure}' row for {backend}:\n{stdout}"));
            assert!(
                row.trim_end().ends_with("2/2"),
                "'{measure}' measured in both rounds ({backend}): {row}"
            );
        }
        assert!(
            report.contains("acknowledged writes lost: 0 of "),
            "{stdout}"
        );
    }
    assert!(
        stdout.contains("ZooKeeper session 5-10 s") && stdout.contains("45 s"),
        "Hadoop's defaults are printed for context: {stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
