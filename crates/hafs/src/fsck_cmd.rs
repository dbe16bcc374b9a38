//! `hafs fsck <path> [-files] [-blocks] [-locations] [-racks] [-openforwrite]`:
//! Hadoop's fsck report, computed on the client from getListing and getBlockLocations
//! (replication wanted vs. live locations, corrupt flags). Exit status as Hadoop's
//! DFSck: 0 when the last line says HEALTHY (or the path does not exist), 1 when CORRUPT.

use std::fmt::Write as _;
use std::time::Instant;

use hafs_client::proto::{
    hdfs_file_status_proto::FileType, DatanodeReportTypeProto, HdfsFileStatusProto,
    LocatedBlockProto,
};
use hafs_client::read::all_blocks;
use hafs_client::{paths, ClientError, DfsClient};
use hafs_conf::Configuration;

const USAGE: &str = "Usage: hafs fsck <path> [-list-corruptfileblocks | [-move | -delete | -openforwrite] [-files [-blocks [-locations | -racks | -replicaDetails]]]]";

/// Report options.
#[derive(Debug, Default, Clone, Copy)]
pub struct Opts {
    pub files: bool,
    pub blocks: bool,
    pub locations: bool,
    pub racks: bool,
    pub open_for_write: bool,
}

/// Counters of one fsck run (Hadoop's NamenodeFsck.Result).
#[derive(Debug, Default, Clone)]
pub struct FsckResult {
    pub missing_ids: Vec<String>,
    pub missing_size: u64,
    pub corrupt_files: u64,
    pub corrupt_blocks: u64,
    pub corrupt_size: u64,
    pub excess_replicas: u64,
    pub missing_replicas: u64,
    pub under_min_replicated: u64,
    pub over_replicated: u64,
    pub under_replicated: u64,
    pub min_replicated: u64,
    pub total_blocks: u64,
    pub expected_replicas: u64,
    pub open_file_blocks: u64,
    pub total_files: u64,
    pub open_files: u64,
    pub total_dirs: u64,
    pub total_symlinks: u64,
    pub total_size: u64,
    pub open_files_size: u64,
    pub total_replicas: u64,
    pub default_replication: u16,
    pub min_replication: u16,
}

impl FsckResult {
    pub fn is_healthy(&self) -> bool {
        self.missing_ids.is_empty() && self.corrupt_blocks == 0
    }

    fn pct(&self, n: u64, of: u64) -> String {
        // Java prints a float: 100.0, 33.333332.
        let v = (n as f32 * 100.0) / of as f32;
        java_float(v)
    }

    /// The summary block, in Hadoop's words and layout.
    pub fn summary(&self) -> String {
        let mut r = String::new();
        let status = if self.is_healthy() {
            "HEALTHY"
        } else {
            "CORRUPT"
        };
        let _ = write!(r, "Status: {status}\n Total size:\t{} B", self.total_size);
        if self.open_files_size != 0 {
            let _ = write!(r, " (Total open files size: {} B)", self.open_files_size);
        }
        let _ = write!(
            r,
            "\n Total dirs:\t{}\n Total files:\t{}\n Total symlinks:\t\t{}",
            self.total_dirs, self.total_files, self.total_symlinks
        );
        if self.open_files != 0 {
            let _ = write!(r, " (Files currently being written: {})", self.open_files);
        }
        let _ = write!(r, "\n Total blocks (validated):\t{}", self.total_blocks);
        if let Some(avg) = self.total_size.checked_div(self.total_blocks) {
            let _ = write!(r, " (avg. block size {avg} B)");
        }
        if self.open_file_blocks != 0 {
            let _ = write!(
                r,
                " (Total open file blocks (not validated): {})",
                self.open_file_blocks
            );
        }
        if self.corrupt_files > 0 || self.under_min_replicated > 0 {
            r.push_str("\n  ********************************");
            if self.under_min_replicated > 0 {
                let _ = write!(
                    r,
                    "\n  UNDER MIN REPL'D BLOCKS:\t{}",
                    self.under_min_replicated
                );
                if self.total_blocks > 0 {
                    let _ = write!(
                        r,
                        " ({} %)",
                        self.pct(self.under_min_replicated, self.total_blocks)
                    );
                }
                let _ = write!(
                    r,
                    "\n  dfs.namenode.replication.min:\t{}",
                    self.min_replication
                );
            }
            if self.corrupt_files > 0 {
                let _ = write!(r, "\n  CORRUPT FILES:\t{}", self.corrupt_files);
                if self.missing_size > 0 {
                    let _ = write!(
                        r,
                        "\n  MISSING BLOCKS:\t{}\n  MISSING SIZE:\t\t{} B",
                        self.missing_ids.len(),
                        self.missing_size
                    );
                }
                if self.corrupt_blocks > 0 {
                    let _ = write!(
                        r,
                        "\n  CORRUPT BLOCKS: \t{}\n  CORRUPT SIZE:\t\t{} B",
                        self.corrupt_blocks, self.corrupt_size
                    );
                }
            }
            r.push_str("\n  ********************************");
        }
        let with_pct = |r: &mut String, label: &str, n: u64| {
            let _ = write!(r, "\n {label}{n}");
            if self.total_blocks > 0 {
                let _ = write!(r, " ({} %)", self.pct(n, self.total_blocks));
            }
        };
        with_pct(
            &mut r,
            "Minimally replicated blocks:\t",
            self.min_replicated,
        );
        with_pct(&mut r, "Over-replicated blocks:\t", self.over_replicated);
        with_pct(&mut r, "Under-replicated blocks:\t", self.under_replicated);
        with_pct(&mut r, "Mis-replicated blocks:\t\t", 0);
        let avg = if self.total_blocks == 0 {
            0.0
        } else {
            self.total_replicas as f32 / self.total_blocks as f32
        };
        let _ = write!(
            r,
            "\n Default replication factor:\t{}\n Average block replication:\t{}\n Missing blocks:\t\t{}\n Corrupt blocks:\t\t{}\n Missing replicas:\t\t{}",
            self.default_replication,
            java_float(avg),
            self.missing_ids.len(),
            self.corrupt_blocks,
            self.missing_replicas
        );
        if self.total_replicas > 0 && self.expected_replicas > 0 {
            let _ = write!(
                r,
                " ({} %)",
                self.pct(self.missing_replicas, self.expected_replicas)
            );
        }
        r
    }
}

/// Java's `Float.toString` for the values fsck prints (at least one decimal).
pub fn java_float(v: f32) -> String {
    if v.is_finite() && v == v.trunc() && v.abs() < 1e7 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

fn block_name(lb: &LocatedBlockProto) -> String {
    format!(
        "{}:blk_{}_{}",
        lb.b.pool_id, lb.b.block_id, lb.b.generation_stamp
    )
}

/// Adds one file's blocks to `res`; returns the text printed for it.
pub fn check_file(
    path: &str,
    st: &HdfsFileStatusProto,
    blocks: &[LocatedBlockProto],
    under_construction: bool,
    opts: Opts,
    res: &mut FsckResult,
) -> String {
    let mut out = String::new();
    let len = st.length;
    let replication = st.block_replication.unwrap_or(0) as u64;
    if under_construction && !opts.open_for_write {
        res.open_files_size += len;
        res.open_file_blocks += blocks.len() as u64;
        res.open_files += 1;
        return out;
    }
    res.total_files += 1;
    res.total_size += len;
    res.total_blocks += blocks.len() as u64;
    if opts.open_for_write && under_construction {
        let _ = write!(
            out,
            "{path} {len} bytes, replicated: replication={replication}, {} block(s), OPENFORWRITE: ",
            blocks.len()
        );
    } else if opts.files {
        let _ = write!(
            out,
            "{path} {len} bytes, replicated: replication={replication}, {} block(s): ",
            blocks.len()
        );
    }
    let mut missing = 0u64;
    let mut missing_size = 0u64;
    let mut corrupt = 0u64;
    let mut under = 0u64;
    let mut report = String::new();
    for (i, lb) in blocks.iter().enumerate() {
        let live = if lb.corrupt { 0 } else { lb.locs.len() as u64 };
        let size = lb.b.num_bytes.unwrap_or(0);
        res.total_replicas += live;
        res.expected_replicas += replication;
        if live < u64::from(res.min_replication) {
            res.under_min_replicated += 1;
        }
        if live > replication {
            res.excess_replicas += live - replication;
            res.over_replicated += 1;
        }
        if lb.corrupt {
            res.corrupt_blocks += 1;
            res.corrupt_size += size;
            corrupt += 1;
            let _ = write!(
                out,
                "\n{path}: CORRUPT blockpool {} block blk_{}\n",
                lb.b.pool_id, lb.b.block_id
            );
        }
        if live >= u64::from(res.min_replication) {
            res.min_replicated += 1;
        }
        if live < replication && live > 0 {
            res.missing_replicas += replication - live;
            res.under_replicated += 1;
            under += 1;
            if !opts.files {
                let _ = write!(out, "\n{path}: ");
            }
            let _ = writeln!(
                out,
                " Under replicated {}. Target Replicas is {replication} but found {live} live replica(s), 0 decommissioned replica(s), 0 decommissioning replica(s).",
                block_name(lb)
            );
        }
        let _ = write!(report, "{i}. {} len={size}", block_name(lb));
        if live == 0 && !lb.corrupt {
            report.push_str(" MISSING!");
            res.missing_ids.push(block_name(lb));
            res.missing_size += size;
            missing += 1;
            missing_size += size;
        } else {
            let _ = write!(report, " Live_repl={live}");
            if opts.locations || opts.racks {
                let nodes: Vec<String> = lb
                    .locs
                    .iter()
                    .enumerate()
                    .map(|(j, dn)| {
                        let addr = format!("{}:{}", dn.id.ip_addr, dn.id.xfer_port);
                        if opts.racks {
                            let rack = dn
                                .location
                                .clone()
                                .unwrap_or_else(|| "/default-rack".into());
                            format!("{rack}/{addr}")
                        } else {
                            let sid = lb.storage_i_ds.get(j).cloned().unwrap_or_default();
                            format!("DatanodeInfoWithStorage[{addr},{sid},DISK]")
                        }
                    })
                    .collect();
                let _ = write!(report, " [{}]", nodes.join(", "));
            }
        }
        report.push('\n');
    }
    if missing > 0 || corrupt > 0 {
        if !opts.files && missing > 0 {
            let _ = write!(out, "\n{path}: ");
        }
        if missing > 0 {
            let _ = writeln!(
                out,
                " MISSING {missing} blocks of total size {missing_size} B."
            );
        }
        res.corrupt_files += 1;
    } else if under == 0 && (opts.files || (opts.open_for_write && under_construction)) {
        out.push_str(" OK\n");
    }
    if opts.blocks && (opts.files || (opts.open_for_write && under_construction)) {
        out.push_str(&report);
        out.push('\n');
    }
    out
}

/// Java's `Date.toString()` for a UTC instant: `Tue Mar 05 12:00:00 UTC 2024`.
fn java_date_utc(ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = crate::dfs::civil_from_days(days);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {y}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m as usize).clamp(1, 12) - 1],
        d,
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub async fn run(conf: &Configuration, args: &[String]) -> anyhow::Result<i32> {
    let mut opts = Opts::default();
    let mut path: Option<String> = None;
    for a in args {
        match a.as_str() {
            "-files" => opts.files = true,
            "-blocks" => opts.blocks = true,
            "-locations" => opts.locations = true,
            "-racks" => opts.racks = true,
            "-openforwrite" => opts.open_for_write = true,
            "-replicaDetails" => opts.locations = true,
            "-help" | "-h" => {
                println!("{USAGE}");
                return Ok(0);
            }
            s if s.starts_with('-') => {
                eprintln!("fsck: Illegal option '{s}'");
                eprintln!("{USAGE}");
                return Ok(-1);
            }
            s if path.is_none() => path = Some(s.to_string()),
            _ => {
                eprintln!("{USAGE}");
                return Ok(-1);
            }
        }
    }
    let client = DfsClient::new(conf, None)?;
    let path = client.resolve(path.as_deref().unwrap_or("/"))?;
    let started = Instant::now();
    println!(
        "FSCK started by {} (auth:SIMPLE) from /127.0.0.1 for path {path} at {}",
        client.user(),
        java_date_utc(now_ms())
    );
    let mut res = FsckResult {
        default_replication: client.settings().replication,
        min_replication: conf
            .get_trimmed(hafs_conf::keys::DFS_NAMENODE_REPLICATION_MIN)
            .and_then(|v| v.parse().ok())
            .unwrap_or(1),
        ..Default::default()
    };
    let root = match client.get_file_info(&path).await {
        Ok(Some(st)) => st,
        Ok(None) => {
            print!("\n\nPath '{path}' does not exist\n");
            return Ok(0);
        }
        Err(e) => return fail(&path, started, &e),
    };
    if let Err(e) = walk(&client, &path, root, opts, &mut res).await {
        return fail(&path, started, &e);
    }
    println!("{}", res.summary());
    let live = client
        .get_datanode_report(DatanodeReportTypeProto::Live)
        .await
        .map(|v| v.len())
        .unwrap_or(0);
    println!(" Number of data-nodes:\t\t{live}");
    println!(" Number of racks:\t\t{}", if live > 0 { 1 } else { 0 });
    println!(
        "FSCK ended at {} in {} milliseconds",
        java_date_utc(now_ms()),
        started.elapsed().as_millis()
    );
    let status = if res.is_healthy() {
        "HEALTHY"
    } else {
        "CORRUPT"
    };
    println!("\n\nThe filesystem under path '{path}' is {status}");
    Ok(if res.is_healthy() { 0 } else { 1 })
}

fn fail(path: &str, started: Instant, e: &ClientError) -> anyhow::Result<i32> {
    println!(
        "FSCK ended at {} in {} milliseconds",
        java_date_utc(now_ms()),
        started.elapsed().as_millis()
    );
    println!("{}", e.user_message());
    println!("\n\nFsck on path '{path}' FAILED");
    Ok(1)
}

/// Depth-first over the namespace, in listing order (as Hadoop's fsck).
async fn walk(
    client: &DfsClient,
    root: &str,
    root_st: HdfsFileStatusProto,
    opts: Opts,
    res: &mut FsckResult,
) -> Result<(), ClientError> {
    // An explicit stack keeps the walk bounded in recursion depth.
    let mut stack = vec![(root.to_string(), root_st)];
    while let Some((path, st)) = stack.pop() {
        if st.file_type == FileType::IsDir as i32 {
            if opts.files {
                println!("{path} <dir>");
            }
            res.total_dirs += 1;
            let children = match client.list_status(&path).await {
                Ok(c) => c,
                Err(e) if e.is_file_not_found() => continue,
                Err(e) => return Err(e),
            };
            for c in children.into_iter().rev() {
                let name = String::from_utf8_lossy(&c.path).into_owned();
                stack.push((paths::join(&path, &name), c));
            }
        } else if st.file_type == FileType::IsSymlink as i32 {
            if opts.files {
                println!("{path} <symlink>");
            }
            res.total_symlinks += 1;
        } else {
            let locs = match client.get_block_locations(&path, 0, i64::MAX as u64).await {
                Ok(Some(l)) => l,
                Ok(None) => continue,
                Err(e) if e.is_file_not_found() => continue,
                Err(e) => return Err(e),
            };
            let blocks = all_blocks(&locs);
            let text = check_file(&path, &st, &blocks, locs.under_construction, opts, res);
            print!("{text}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hafs_client::proto::{DatanodeIdProto, DatanodeInfoProto, ExtendedBlockProto};

    fn lb(id: u64, len: u64, nodes: usize, corrupt: bool) -> LocatedBlockProto {
        LocatedBlockProto {
            b: ExtendedBlockProto {
                pool_id: "BP-1".into(),
                block_id: id,
                generation_stamp: 1001,
                num_bytes: Some(len),
            },
            locs: (0..nodes)
                .map(|i| DatanodeInfoProto {
                    id: DatanodeIdProto {
                        ip_addr: format!("127.0.0.{}", i + 1),
                        xfer_port: 9866,
                        ..Default::default()
                    },
                    ..Default::default()
                })
                .collect(),
            storage_i_ds: (0..nodes).map(|i| format!("DS-{i}")).collect(),
            corrupt,
            ..Default::default()
        }
    }

    fn file(len: u64, rep: u32) -> HdfsFileStatusProto {
        HdfsFileStatusProto {
            file_type: FileType::IsFile as i32,
            length: len,
            block_replication: Some(rep),
            ..Default::default()
        }
    }

    fn result() -> FsckResult {
        FsckResult {
            default_replication: 3,
            min_replication: 1,
            ..Default::default()
        }
    }

    #[test]
    fn healthy_file_with_blocks_and_locations() {
        let mut r = result();
        let opts = Opts {
            files: true,
            blocks: true,
            locations: true,
            ..Default::default()
        };
        let text = check_file(
            "/a",
            &file(150, 3),
            &[lb(1, 100, 3, false), lb(2, 50, 3, false)],
            false,
            opts,
            &mut r,
        );
        assert!(
            text.starts_with("/a 150 bytes, replicated: replication=3, 2 block(s):  OK\n"),
            "{text}"
        );
        assert!(text.contains("0. BP-1:blk_1_1001 len=100 Live_repl=3 [DatanodeInfoWithStorage[127.0.0.1:9866,DS-0,DISK], "), "{text}");
        assert!(r.is_healthy());
        let s = r.summary();
        assert!(s.starts_with("Status: HEALTHY\n Total size:\t150 B"), "{s}");
        assert!(s.contains("\n Total files:\t1"));
        assert!(
            s.contains("\n Total blocks (validated):\t2 (avg. block size 75 B)"),
            "{s}"
        );
        assert!(
            s.contains("\n Minimally replicated blocks:\t2 (100.0 %)"),
            "{s}"
        );
        assert!(s.contains("\n Under-replicated blocks:\t0 (0.0 %)"), "{s}");
        assert!(s.contains("\n Average block replication:\t3.0"), "{s}");
        assert!(s.contains("\n Missing replicas:\t\t0 (0.0 %)"), "{s}");
    }

    #[test]
    fn under_replicated_missing_and_corrupt() {
        let mut r = result();
        let text = check_file(
            "/u",
            &file(10, 3),
            &[lb(1, 10, 2, false)],
            false,
            Opts::default(),
            &mut r,
        );
        assert!(text.contains("Under replicated BP-1:blk_1_1001. Target Replicas is 3 but found 2 live replica(s)"), "{text}");
        assert_eq!(r.under_replicated, 1);
        assert_eq!(r.missing_replicas, 1);
        assert!(r.is_healthy(), "under-replication is not corruption");

        let text = check_file(
            "/m",
            &file(7, 3),
            &[lb(2, 7, 0, false)],
            false,
            Opts::default(),
            &mut r,
        );
        assert!(
            text.contains("/m:  MISSING 1 blocks of total size 7 B."),
            "{text}"
        );
        assert!(!r.is_healthy());
        let text = check_file(
            "/c",
            &file(5, 3),
            &[lb(3, 5, 1, true)],
            false,
            Opts::default(),
            &mut r,
        );
        assert!(
            text.contains("/c: CORRUPT blockpool BP-1 block blk_3"),
            "{text}"
        );
        assert_eq!(r.corrupt_blocks, 1);
        assert_eq!(r.corrupt_files, 2);
        let s = r.summary();
        assert!(s.starts_with("Status: CORRUPT"), "{s}");
        assert!(s.contains("\n  CORRUPT FILES:\t2"), "{s}");
        assert!(s.contains("\n  MISSING BLOCKS:\t1"), "{s}");
        assert!(s.contains("\n Corrupt blocks:\t\t1"), "{s}");
        assert!(s.contains("\n Missing blocks:\t\t1"), "{s}");
    }

    #[test]
    fn open_files_are_counted_apart_unless_asked() {
        let mut r = result();
        let text = check_file(
            "/o",
            &file(10, 3),
            &[lb(1, 10, 3, false)],
            true,
            Opts::default(),
            &mut r,
        );
        assert!(text.is_empty());
        assert_eq!((r.open_files, r.total_files, r.open_file_blocks), (1, 0, 1));
        assert!(r.summary().contains("(Files currently being written: 1)"));
        let opts = Opts {
            open_for_write: true,
            ..Default::default()
        };
        let text = check_file(
            "/o",
            &file(10, 3),
            &[lb(1, 10, 3, false)],
            true,
            opts,
            &mut r,
        );
        assert!(
            text.contains("/o 10 bytes, replicated: replication=3, 1 block(s), OPENFORWRITE:  OK"),
            "{text}"
        );
    }

    #[test]
    fn java_formats() {
        assert_eq!(java_float(100.0), "100.0");
        assert_eq!(java_float(0.0), "0.0");
        assert_eq!(java_float(2.5), "2.5");
        assert_eq!(java_date_utc(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(
            java_date_utc(1_709_640_000_000),
            "Tue Mar 05 12:00:00 UTC 2024"
        );
    }
}
