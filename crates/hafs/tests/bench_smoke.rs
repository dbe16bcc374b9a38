//! `hafs bench nnthroughput` end to end with small numbers: the real binary starts its
//! in-process NameNode, drives every op over IPC, and prints one table row per op with a
//! positive rate. No wall time is asserted.

mod common;

use common::{hafs, number, row, run_ok, temp_dir};

/// The table row for `op`:
/// `op ops elapsed_s ops/s avg_ms p99_ms cpu_us/op edits/fsync fsyncs/s vs_fsync`.
fn op_row<'a>(stdout: &'a str, op: &str) -> Vec<&'a str> {
    row(stdout, op, 10)
}

#[test]
fn nnthroughput_reports_every_op_with_a_positive_rate() {
    let dir = temp_dir("hafs-bench-smoke");
    std::fs::create_dir_all(&dir).unwrap();
    let (stdout, _) = run_ok(
        &[
            "bench",
            "nnthroughput",
            "-ops",
            "2000",
            "-threads",
            "4",
            "-memory",
            "20000",
        ],
        "-dir",
        &dir,
    );

    for op in [
        "mkdirs",
        "create",
        "fileStatus",
        "listing",
        "rename",
        "delete",
    ] {
        let w = op_row(&stdout, op);
        assert_eq!(number(w[1]), 2000.0, "{op} ran every op");
        assert!(number(w[3]) > 0.0, "{op} ops/s is positive: {w:?}");
        let mutation = !matches!(op, "fileStatus" | "listing");
        if mutation {
            // In-process NameNode: every mutation wrote edits and synced them, at least
            // one edit per sync.
            assert!(number(w[7]) >= 1.0, "{op} edits/fsync: {w:?}");
            assert!(w[9].ends_with('x'), "{op} ratio to the fsync rate: {w:?}");
        } else {
            assert_eq!(w[7], "-", "{op} writes no edits");
        }
    }
    assert!(stdout.contains("fsyncs/s ("), "baseline line:\n{stdout}");
    let mem = stdout
        .lines()
        .find(|l| l.contains("memory_estimate():"))
        .unwrap_or_else(|| panic!("memory line in:\n{stdout}"));
    let per_inode = number(mem.split_whitespace().nth(1).unwrap());
    assert!(per_inode > 0.0, "{mem}");
    assert!(
        mem.contains("20,021 inodes"),
        "20,000 files, 20 dirs and the root: {mem}"
    );

    // The run cleans up after itself: nothing but our own empty parent remains.
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn create_with_one_block_per_file_reports_memory_per_file() {
    let dir = temp_dir("hafs-bench-smoke-blocks");
    std::fs::create_dir_all(&dir).unwrap();
    let (stdout, _) = run_ok(
        &[
            "bench",
            "nnthroughput",
            "-op",
            "create",
            "-ops",
            "1000",
            "-threads",
            "4",
            "-blocksPerFile",
            "1",
        ],
        "-dir",
        &dir,
    );
    assert_eq!(number(op_row(&stdout, "create")[1]), 1000.0);
    assert!(
        stdout.contains("memory per created file (1 block each)"),
        "{stdout}"
    );
    let line = |needle: &str| {
        stdout
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} in:\n{stdout}"))
            .to_string()
    };
    assert!(line("RSS growth of this process").contains("bytes per file"));
    let est = line("namespace memory_estimate():");
    let per_file = number(
        est.split(':')
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap(),
    );
    assert!(
        per_file > 50.0,
        "a file with a block costs something: {est}"
    );
    assert!(
        line("retry cache now:").contains("1,000 entries"),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unknown_benchmark_and_bad_options_exit_1_with_usage() {
    let out = hafs().args(["bench", "nosuch"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nnthroughput"));

    let out = hafs()
        .args(["bench", "nnthroughput", "-op", "open"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown operation 'open'"), "{err}");
}

/// `hafs bench dataprotection` with small numbers: the real DataNode SASL handshake at
/// each level (and privacy with AES/CTR), a stream through it checked byte for byte,
/// one row per level with a positive rate and the baseline's ratio 1.0x. No wall time
/// is asserted.
#[test]
fn dataprotection_reports_every_level_against_no_protection() {
    let out = hafs()
        .args(["bench", "dataprotection", "-mb", "2", "-handshakes", "2"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(row(&stdout, "none", 4)[2], "1.0x");
    for level in [
        "none",
        "authentication",
        "integrity",
        "privacy",
        "privacy+AES/CTR",
    ] {
        let r = row(&stdout, level, 4);
        assert!(number(r[1]) > 0.0, "{level}: {stdout}");
        assert!(r[2].ends_with('x'), "{level}: {stdout}");
    }
    for level in ["authentication", "integrity", "privacy", "privacy+AES/CTR"] {
        assert!(
            number(row(&stdout, level, 4)[3]) > 0.0,
            "{level} handshake: {stdout}"
        );
    }
}
