//! `hafs bench dfsio` end to end with tiny files: the real binary starts a NameNode and
//! three DataNodes as child processes, writes and reads back two files, measures the
//! local baseline, and prints a write and a read row with positive rates next to it.
//! No wall time or ratio is asserted.

mod common;

use common::{hafs, number, row, run_ok, temp_dir};

#[test]
fn dfsio_writes_and_reads_with_a_baseline() {
    let dir = temp_dir("hafs-dfsio-smoke");
    std::fs::create_dir_all(&dir).unwrap();
    let (stdout, _) = run_ok(
        &[
            "bench",
            "dfsio",
            "-nrFiles",
            "2",
            "-size",
            "2m",
            "-replication",
            "1",
            "-bufferSize",
            "64k",
        ],
        "-dir",
        &dir,
    );

    // Baseline rows: `name MiB wall_s MiB/s io_rate cpu_s/GiB`.
    for name in ["write+fsync", "cp+sync", "cat"] {
        let w = row(&stdout, name, 6);
        assert_eq!(number(w[1]), 4.0, "{name} moved both files: {w:?}");
        assert!(number(w[3]) > 0.0, "{name} MiB/s: {w:?}");
    }
    // Benchmark rows: `phase MiB wall_s MiB/s io_rate cli_cpu dn_cpu nn_cpu baseline
    // base_MiB/s ratio aim met`.
    for (phase, baseline) in [("write_r1", "cp+sync"), ("read_r1", "cat")] {
        let w = row(&stdout, phase, 13);
        assert_eq!(number(w[1]), 4.0, "{phase} moved both files: {w:?}");
        assert!(number(w[3]) > 0.0, "{phase} MiB/s: {w:?}");
        assert!(number(w[4]) > 0.0, "{phase} io_rate: {w:?}");
        assert!(number(w[5]) > 0.0, "{phase} client CPU: {w:?}");
        // /proc counts in clock ticks: a few MiB may cost less than one.
        assert!(number(w[6]) >= 0.0, "{phase} DataNode CPU: {w:?}");
        assert_eq!(w[8], baseline, "{phase}: {w:?}");
        assert!(number(w[9]) > 0.0, "{phase} baseline MiB/s: {w:?}");
        assert!(w[10].ends_with('x') && w[11] == "0.80x", "{phase}: {w:?}");
        assert!(w[12] == "yes" || w[12] == "no", "{phase}: {w:?}");
    }
    assert!(stdout.contains("page cache: warm"), "{stdout}");

    // Everything is cleaned up: the work dir is gone and no daemon outlived the run.
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    std::fs::remove_dir_all(&dir).unwrap();
    let cluster_line = stdout
        .lines()
        .find(|l| l.starts_with("cluster: child processes"))
        .unwrap_or_else(|| panic!("cluster line in:\n{stdout}"));
    for pid in cluster_line
        .split("pid ")
        .skip(1)
        .filter_map(|s| s.split(|c: char| !c.is_ascii_digit()).next())
    {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Gone, or (if the pid was reused) not our daemon.
        assert!(
            !stat.contains("(hafs)"),
            "daemon {pid} still running: {stat}"
        );
    }
}

#[test]
fn dfsio_bad_options_exit_1_with_usage() {
    let out = hafs()
        .args(["bench", "dfsio", "-size", "lots"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not a size"), "{err}");
    assert!(err.contains("Usage: hafs bench dfsio"), "{err}");
}
