//! What the throughput benchmark asks of the NameNode: the operations, the paths they
//! touch, and how the work is split between client tasks.

use std::ops::Range;

use anyhow::ensure;
use hafs_client::{CreateOptions, DfsClient};

use super::tiny_datanode::TinyDatanode;

/// The operations, in the order `-op all` runs them: each later one works on the files
/// the `create` step made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Mkdirs,
    Create,
    FileStatus,
    Listing,
    Rename,
    Delete,
}

impl Op {
    pub const ALL: [Op; 6] = [
        Op::Mkdirs,
        Op::Create,
        Op::FileStatus,
        Op::Listing,
        Op::Rename,
        Op::Delete,
    ];

    /// The name used on the command line and in the output (Hadoop's spelling).
    pub fn name(self) -> &'static str {
        match self {
            Op::Mkdirs => "mkdirs",
            Op::Create => "create",
            Op::FileStatus => "fileStatus",
            Op::Listing => "listing",
            Op::Rename => "rename",
            Op::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Op> {
        Op::ALL
            .into_iter()
            .find(|op| op.name().eq_ignore_ascii_case(s))
    }

    /// Whether the op changes the namespace (and so writes and syncs edits).
    pub fn is_mutation(self) -> bool {
        !matches!(self, Op::FileStatus | Op::Listing)
    }

    /// Whether the op works on files that a `create` step must make first.
    pub fn needs_files(self) -> bool {
        matches!(self, Op::FileStatus | Op::Listing | Op::Rename | Op::Delete)
    }
}

/// Entries per leaf directory for `mkdirs`.
pub const DIRS_PER_LEAF: u64 = 1000;
/// Files per leaf directory for `create` (and so per `listing` answer).
pub const FILES_PER_LEAF: u64 = 100;
/// Leaf directories per top directory: with the leaf sizes above, no directory nears
/// dfs.namenode.fs-limits.max-directory-items (1,048,576) below 10^11 operations.
pub const LEAVES_PER_TOP: u64 = 1000;

/// Where the benchmark's paths live, under one base directory.
#[derive(Debug, Clone)]
pub struct Layout {
    pub base: String,
}

/// How many times `complete` is asked before a one-block file counts as failed: the
/// replica is reported before the first ask, so more than one is rare.
const COMPLETE_TRIES: u32 = 100;

/// `(top, leaf)` directory numbers of item `i` when leaves hold `per_leaf` items.
pub fn spread(i: u64, per_leaf: u64) -> (u64, u64) {
    let leaf = i / per_leaf;
    (leaf / LEAVES_PER_TOP, leaf)
}

impl Layout {
    pub fn mkdir_path(&self, i: u64) -> String {
        let (top, leaf) = spread(i, DIRS_PER_LEAF);
        format!("{}/mkdirs/t{top}/d{leaf}/dir_{i:08}", self.base)
    }

    /// The leaf directory holding file `i`.
    pub fn file_dir(&self, i: u64) -> String {
        let (top, leaf) = spread(i, FILES_PER_LEAF);
        format!("{}/files/t{top}/d{leaf}", self.base)
    }

    /// File `i`'s path; `renamed` gives the name the `rename` op moves it to.
    pub fn file_path(&self, i: u64, renamed: bool) -> String {
        let suffix = if renamed { ".r" } else { "" };
        format!("{}/file_{i:08}{suffix}", self.file_dir(i))
    }

    /// The leaf directories that `files` files occupy.
    pub fn file_dirs(files: u64) -> u64 {
        files.div_ceil(FILES_PER_LEAF)
    }
}

/// The share of `total` operations client task `t` of `tasks` runs: contiguous, sizes
/// differing by at most one, together covering `0..total` exactly once.
pub fn task_range(total: u64, tasks: u64, t: u64) -> Range<u64> {
    let tasks = tasks.max(1);
    let base = total / tasks;
    let extra = total % tasks;
    let start = t * base + t.min(extra);
    let len = base + u64::from(t < extra);
    start..start + len
}

/// The state of the benchmark's files between steps.
#[derive(Debug, Clone, Copy)]
pub struct Files {
    /// How many files `create` made (0..count).
    pub count: u64,
    /// Whether `rename` has moved them to their renamed paths.
    pub renamed: bool,
}

/// Runs operation number `i` of `op` once through `client`.
pub async fn exec(
    op: Op,
    client: &DfsClient,
    layout: &Layout,
    files: Files,
    i: u64,
    dn: Option<&TinyDatanode>,
) -> anyhow::Result<()> {
    match op {
        Op::Mkdirs => {
            let path = layout.mkdir_path(i);
            ensure!(
                client.mkdirs(&path, 0o755, true).await?,
                "mkdirs {path} returned false"
            );
        }
        Op::Create => create_file(client, &layout.file_path(i, false), dn).await?,
        Op::FileStatus => {
            let path = layout.file_path(i % files.count.max(1), files.renamed);
            ensure!(
                client.get_file_info(&path).await?.is_some(),
                "{path} not found"
            );
        }
        Op::Listing => {
            let dir = layout.file_dir((i % Layout::file_dirs(files.count).max(1)) * FILES_PER_LEAF);
            let listing = client.get_listing(&dir, &[], false).await?;
            ensure!(
                listing.is_some_and(|l| !l.partial_listing.is_empty()),
                "listing of {dir} is missing or empty"
            );
        }
        Op::Rename => {
            let (src, dst) = (layout.file_path(i, false), layout.file_path(i, true));
            ensure!(
                client.rename(&src, &dst).await?,
                "rename {src} {dst} returned false"
            );
        }
        Op::Delete => {
            let path = layout.file_path(i, files.renamed);
            ensure!(
                client.delete(&path, false).await?,
                "delete {path} returned false"
            );
        }
    }
    Ok(())
}

/// Creates and closes a file: empty, or (with a DataNode to report the replica) with
/// one one-byte block at replication 1.
async fn create_file(
    client: &DfsClient,
    path: &str,
    dn: Option<&TinyDatanode>,
) -> anyhow::Result<()> {
    let opts = CreateOptions {
        permission: 0o644,
        replication: dn.map(|_| 1),
        ..CreateOptions::default()
    };
    let status = client.create(path, &opts).await?;
    let file_id = status.file_id.unwrap_or(0);
    let last = match dn {
        None => None,
        Some(dn) => {
            let located = client
                .add_block(path, file_id, None, vec![], vec![])
                .await?;
            let mut block = located.b;
            block.num_bytes = Some(1);
            dn.received(&block, 1).await?;
            Some(block)
        }
    };
    for _ in 0..COMPLETE_TRIES {
        if client.complete(path, file_id, last.clone()).await? {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    anyhow::bail!("complete {path} returned false {COMPLETE_TRIES} times")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_names_round_trip_and_classify() {
        for op in Op::ALL {
            assert_eq!(Op::parse(op.name()), Some(op));
        }
        assert_eq!(Op::parse("FILESTATUS"), Some(Op::FileStatus));
        assert_eq!(Op::parse("open"), None);
        let mutations: Vec<_> = Op::ALL.into_iter().filter(|o| o.is_mutation()).collect();
        assert_eq!(mutations, [Op::Mkdirs, Op::Create, Op::Rename, Op::Delete]);
        assert!(!Op::Mkdirs.needs_files() && !Op::Create.needs_files());
        assert!(Op::Delete.needs_files());
    }

    #[test]
    fn task_ranges_cover_every_op_exactly_once() {
        // A small xorshift so the check runs over many (total, tasks) pairs.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..500 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let total = x % 10_000;
            let tasks = 1 + (x >> 32) % 64;
            let mut next = 0;
            let mut sizes = Vec::new();
            for t in 0..tasks {
                let r = task_range(total, tasks, t);
                assert_eq!(r.start, next, "ranges are contiguous");
                next = r.end;
                sizes.push(r.end - r.start);
            }
            assert_eq!(next, total, "ranges cover all {total} ops");
            let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
            assert!(max - min <= 1, "balanced: {sizes:?}");
        }
        assert_eq!(task_range(10, 0, 0), 0..10, "zero tasks means one");
    }

    #[test]
    fn paths_stay_within_directory_limits() {
        let l = Layout {
            base: "/nnThroughputBenchmark".into(),
        };
        assert_eq!(
            l.mkdir_path(0),
            "/nnThroughputBenchmark/mkdirs/t0/d0/dir_00000000"
        );
        assert_eq!(
            l.mkdir_path(1_234_567),
            "/nnThroughputBenchmark/mkdirs/t1/d1234/dir_01234567"
        );
        assert_eq!(
            l.file_path(99, false),
            "/nnThroughputBenchmark/files/t0/d0/file_00000099"
        );
        assert_eq!(
            l.file_path(100, true),
            "/nnThroughputBenchmark/files/t0/d1/file_00000100.r"
        );
        assert_eq!(Layout::file_dirs(0), 0);
        assert_eq!(Layout::file_dirs(100), 1);
        assert_eq!(Layout::file_dirs(101), 2);
        // Every directory level holds at most 1000 entries, whatever the op count.
        for i in [
            0u64,
            999,
            1000,
            99_999,
            100_000,
            123_456_789,
            10_000_000_000,
        ] {
            let (top, leaf) = spread(i, FILES_PER_LEAF);
            assert_eq!(leaf / LEAVES_PER_TOP, top);
            assert!(leaf - top * LEAVES_PER_TOP < LEAVES_PER_TOP);
            assert!(i - leaf * FILES_PER_LEAF < FILES_PER_LEAF);
            let (top, _) = spread(i, DIRS_PER_LEAF);
            assert!(top <= i / (DIRS_PER_LEAF * LEAVES_PER_TOP));
        }
    }
}
