//! `hafs bench failover --manual` end to end with small numbers: the real binary starts
//! an HA cluster, runs manual failovers both ways under a write load, and measures the
//! Standby's tailing lag (which needs `dfs.ha.allow.stale.reads` honoured by the
//! Standby). No wall time is asserted.

mod common;

use common::{run_ok, temp_dir};

#[test]
fn manual_failover_bench_measures_failovers_and_the_tailing_lag() {
    let dir = temp_dir("hafs-bench-failover-manual-smoke");
    let (stdout, stderr) = run_ok(
        &[
            "bench",
            "failover",
            "--manual",
            "--rounds",
            "2",
            "--writers",
            "2",
            "--interval-ms",
            "300",
            "--lag-probes",
            "20",
        ],
        "--dir",
        &dir,
    );
    assert!(
        stdout.contains("failovers: 2 (alternating)") && stdout.contains("load errors: 0"),
        "{stdout}"
    );
    assert!(
        stdout.contains("failover -> new Active serves writes"),
        "{stdout}"
    );
    // The lag was measured: the Standby served the probe's reads.
    assert!(
        stdout.contains("tailing lag (20 samples)"),
        "tailing lag not measured:\n{stdout}\n{stderr}"
    );
    assert!(!stdout.contains("not measured"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
