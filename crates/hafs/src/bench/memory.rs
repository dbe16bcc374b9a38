//! Namespace memory per file: build N closed files directly with the namespace's
//! plan/apply API (as live calls and edit replay do), then compare the namespace's own
//! estimate with the growth of the process's resident memory.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use hafs_namenode::namespace::{Caller, Namespace, NamespaceConfig, Planned};

use super::baseline::rss_bytes;

/// Files per directory in the memory namespace (1,000 dirs × 1,000 files for 1M).
pub const FILES_PER_DIR: u64 = 1000;

#[derive(Debug, Clone)]
pub struct MemoryResult {
    pub files: u64,
    pub dirs: u64,
    pub inodes: u64,
    pub estimate_total: u64,
    pub estimate_per_inode: f64,
    /// Growth of the resident set while the namespace was built, if readable.
    pub rss_delta: Option<u64>,
    pub build_time: Duration,
}

impl MemoryResult {
    pub fn estimate_per_file(&self) -> f64 {
        self.estimate_total as f64 / self.files.max(1) as f64
    }

    pub fn rss_per_file(&self) -> Option<f64> {
        self.rss_delta.map(|d| d as f64 / self.files.max(1) as f64)
    }
}

/// `/dir_0001/file_000123`-style paths: directory and file names for file `i`.
pub fn memory_file_path(i: u64) -> (String, String) {
    let dir = format!("/dir_{:04}", i / FILES_PER_DIR);
    let file = format!("{dir}/file_{:06}", i % FILES_PER_DIR);
    (dir, file)
}

/// Builds `files` closed, empty files and measures. Blocking and CPU-bound: call from
/// a blocking thread. The namespace is dropped before returning.
pub fn measure_namespace_memory(files: u64) -> anyhow::Result<MemoryResult> {
    let user = "hafs";
    let caller = Caller::superuser(user);
    let client = "DFSClient_NONMAPREDUCE_bench_1";
    let start = Instant::now();
    let rss_before = rss_bytes();
    let mut ns = Namespace::new(NamespaceConfig::default(), user, "supergroup", now_ms());
    let mut dirs = 0;
    let mut now = now_ms();
    for i in 0..files {
        let (dir, path) = memory_file_path(i);
        if i % FILES_PER_DIR == 0 {
            match ns.plan_mkdirs(&caller, &dir, 0o755, true, now)? {
                Planned::Apply(op) => {
                    ns.apply(&op).with_context(|| format!("mkdirs {dir}"))?;
                    dirs += 1;
                }
                Planned::Done(_) => bail!("{dir} already exists in a fresh namespace"),
            }
        }
        now += 1;
        let op = ns
            .plan_create(
                &caller,
                &path,
                0o644,
                client,
                "127.0.0.1",
                false,
                false,
                3,
                128 << 20,
                now,
            )
            .with_context(|| format!("create {path}"))?;
        let outcome = ns.apply(&op).with_context(|| format!("create {path}"))?;
        let id = outcome
            .inode_id
            .with_context(|| format!("create {path} reported no inode id"))?;
        let op = ns
            .plan_close(client, &path, id, &[], now)
            .with_context(|| format!("close {path}"))?;
        ns.apply(&op).with_context(|| format!("close {path}"))?;
    }
    let est = ns.memory_estimate();
    let rss_after = rss_bytes();
    let build_time = start.elapsed();
    drop(ns);
    let rss_delta = match (rss_before, rss_after) {
        (Some(b), Some(a)) => Some(a.saturating_sub(b)),
        _ => None,
    };
    Ok(MemoryResult {
        files,
        dirs,
        inodes: est.inodes,
        estimate_total: est.bytes_total,
        estimate_per_inode: est.bytes_per_inode,
        rss_delta,
        build_time,
    })
}

fn now_ms() -> i64 {
    hafs_namenode::storage::now_ms()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_spread_files_over_dirs_of_a_thousand() {
        assert_eq!(
            memory_file_path(0),
            ("/dir_0000".into(), "/dir_0000/file_000000".into())
        );
        assert_eq!(
            memory_file_path(123),
            ("/dir_0000".into(), "/dir_0000/file_000123".into())
        );
        assert_eq!(
            memory_file_path(1000),
            ("/dir_0001".into(), "/dir_0001/file_000000".into())
        );
        assert_eq!(
            memory_file_path(999_999),
            ("/dir_0999".into(), "/dir_0999/file_000999".into())
        );
    }

    #[test]
    fn small_namespace_is_counted_exactly() {
        let r = measure_namespace_memory(2500).unwrap();
        assert_eq!(r.files, 2500);
        assert_eq!(r.dirs, 3);
        // Files, their directories, and the root.
        assert_eq!(r.inodes, 2500 + 3 + 1);
        assert!(r.estimate_per_inode > 0.0);
        assert!(r.estimate_total as f64 >= r.estimate_per_inode * 2504.0 - 1.0);
    }
}
