//! fsck on the NameNode: what `GET /fsck` (Hadoop's `FsckServlet` / `NamenodeFsck`)
//! answers, and what `hdfs fsck` and `hafs fsck` print.
//!
//! The walk runs as the calling user: a directory it may not list, or a path it may
//! not traverse, ends the report with `Fsck on path '…' FAILED` and the permission
//! error, as Hadoop's does. The report is made in pieces handed to a sink as they are
//! ready (the HTTP server streams them), and the namespace lock is taken per directory
//! page and per file, never across the whole walk.
//!
//! Hadoop's client (`DFSck`) decides its exit status from the last line: `… is
//! HEALTHY` → 0, `… is CORRUPT` → 1, `… does not exist` → 0, anything else → -1. So the
//! words of the last line are part of the protocol.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::Instant;

use hafs_ipc::{OperationCategory, RpcError};
use hafs_proto::hdfs as pb;

use crate::blockmanagement::DatanodeReportKind;
use crate::namespace::{Caller, FileKind, FileStatus, NamespaceError};
use crate::namesystem::{ns_err, Namesystem};

/// The last-line words `DFSck` looks for.
pub const HEALTHY_STATUS: &str = "is HEALTHY";
pub const CORRUPT_STATUS: &str = "is CORRUPT";
pub const NONEXISTENT_STATUS: &str = "does not exist";
pub const FAILURE_STATUS: &str = "FAILED";

/// Who asked, from where, and what for (the query of `GET /fsck`).
#[derive(Debug, Clone)]
pub struct FsckRequest {
    /// The short user name the walk runs as (permissions, superuser).
    pub user: String,
    /// How the caller is shown in the first line: `alice (auth:SIMPLE)`,
    /// `alice@REALM (auth:KERBEROS_SSL)` (Hadoop's `UserGroupInformation.toString`).
    pub shown_as: String,
    pub remote: IpAddr,
    /// The query parameters, decoded.
    pub params: HashMap<String, String>,
}

/// Report options, from the query (`files=1&blocks=1&locations=1…`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FsckOptions {
    pub files: bool,
    pub blocks: bool,
    pub locations: bool,
    pub racks: bool,
    pub replica_details: bool,
    pub open_for_write: bool,
    pub list_corrupt_file_blocks: bool,
}

impl FsckOptions {
    /// The options of a query; an option hafs does not offer is an error naming it
    /// (the report then ends FAILED, which `DFSck` turns into exit status -1).
    pub fn from_params(params: &HashMap<String, String>) -> Result<FsckOptions, String> {
        let mut o = FsckOptions::default();
        for key in params.keys() {
            match key.as_str() {
                "files" => o.files = true,
                "blocks" => o.blocks = true,
                "locations" => o.locations = true,
                "racks" => o.racks = true,
                "replicadetails" => o.replica_details = true,
                "openforwrite" => o.open_for_write = true,
                "listcorruptfileblocks" => o.list_corrupt_file_blocks = true,
                // fsck walks the live tree only (blocks only snapshots hold are not
                // listed); progress dots are cosmetic.
                "ugi" | "user.name" | "path" | "includeSnapshots" | "showprogress"
                | "startblockafter" | "doas" => {}
                "move" | "delete" | "blockId" | "storagepolicies" | "maintenance" => {
                    return Err(format!("fsck option '{key}' is not supported by hafs"));
                }
                // Hadoop ignores parameters it does not know.
                _ => {}
            }
        }
        Ok(o)
    }
}

/// The counters of one walk (Hadoop's replicated-block `Result`).
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
    pub total_size: u64,
    pub open_files_size: u64,
    pub total_replicas: u64,
    pub default_replication: u16,
    pub min_replication: u16,
    /// Blocks on fewer racks than the placement policy wants.
    pub mis_replicated: u64,
    /// Racks with live DataNodes when the walk began.
    pub cluster_racks: usize,
    /// Replicas on decommissioned / decommissioning DataNodes.
    pub decommissioned_replicas: u64,
    pub decommissioning_replicas: u64,
    /// Replicas on DataNodes entering / in maintenance.
    pub entering_maintenance_replicas: u64,
    pub in_maintenance_replicas: u64,
}

impl FsckResult {
    pub fn is_healthy(&self) -> bool {
        self.missing_ids.is_empty() && self.corrupt_blocks == 0
    }

    fn pct(n: u64, of: u64) -> String {
        // Java divides floats and prints Float.toString: 100.0, 33.333332.
        java_float((n as f32 * 100.0) / of as f32)
    }

    /// The `Replicated Blocks:` section, in Hadoop's words and layout (no trailing
    /// newline).
    pub fn replicated_section(&self) -> String {
        let mut r = String::new();
        let _ = write!(r, " Total size:\t{} B", self.total_size);
        if self.open_files_size != 0 {
            let _ = write!(r, " (Total open files size: {} B)", self.open_files_size);
        }
        let _ = write!(r, "\n Total files:\t{}", self.total_files);
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
                    let pct = Self::pct(self.under_min_replicated, self.total_blocks);
                    let _ = write!(r, " ({pct} %)");
                }
                let _ = write!(
                    r,
                    "\n  MINIMAL BLOCK REPLICATION:\t{}",
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
        let total = self.total_blocks;
        let mut with_pct = |label: &str, n: u64| {
            let _ = write!(r, "\n {label}{n}");
            if total > 0 {
                let _ = write!(r, " ({} %)", Self::pct(n, total));
            }
        };
        with_pct("Minimally replicated blocks:\t", self.min_replicated);
        with_pct("Over-replicated blocks:\t", self.over_replicated);
        with_pct("Under-replicated blocks:\t", self.under_replicated);
        with_pct("Mis-replicated blocks:\t\t", self.mis_replicated);
        let avg = if total == 0 {
            0.0
        } else {
            self.total_replicas as f32 / total as f32
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
            let pct = Self::pct(self.missing_replicas, self.expected_replicas);
            let _ = write!(r, " ({pct} %)");
        }
        // Every low-redundancy block hafs finds is in its reconstruction queues.
        let _ = write!(
            r,
            "\n Blocks queued for replication:\t{}",
            self.under_replicated
        );
        // Only when there are some, as Hadoop prints them.
        if self.decommissioned_replicas > 0 {
            let _ = write!(
                r,
                "\n DecommissionedReplicas:\t{}",
                self.decommissioned_replicas
            );
        }
        if self.decommissioning_replicas > 0 {
            let _ = write!(
                r,
                "\n DecommissioningReplicas:\t{}",
                self.decommissioning_replicas
            );
        }
        if self.entering_maintenance_replicas > 0 {
            let _ = write!(
                r,
                "\n EnteringMaintenanceReplicas:\t{}",
                self.entering_maintenance_replicas
            );
        }
        if self.in_maintenance_replicas > 0 {
            let _ = write!(
                r,
                "\n InMaintenanceReplicas:\t{}",
                self.in_maintenance_replicas
            );
        }
        r
    }
}

/// The `Erasure Coded Block Groups:` section: hafs has no erasure coding, so every
/// count is zero, in Hadoop's layout.
pub const ERASURE_CODED_SECTION: &str = " Total size:\t0 B\n Total files:\t0\n Total block groups (validated):\t0\n Minimally erasure-coded block groups:\t0\n Over-erasure-coded block groups:\t0\n Under-erasure-coded block groups:\t0\n Unsatisfactory placement block groups:\t0\n Average block group size:\t0.0\n Missing block groups:\t\t0\n Corrupt block groups:\t\t0\n Missing internal blocks:\t0\n Blocks queued for replication:\t0";

/// Java's `Float.toString` for the values fsck prints (at least one decimal).
pub fn java_float(v: f32) -> String {
    if v.is_finite() && v == v.trunc() && v.abs() < 1e7 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// Java's `Date.toString()` for a UTC instant: `Tue Mar 05 12:00:00 UTC 2024`.
pub fn java_date_utc(ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = hafs_util::clock::civil_from_days(days);
    format!(
        "{} {} {d:02} {:02}:{:02}:{:02} UTC {y}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m as usize).clamp(1, 12) - 1],
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

fn block_name(lb: &pb::LocatedBlockProto) -> String {
    format!(
        "{}:blk_{}_{}",
        lb.b.pool_id, lb.b.block_id, lb.b.generation_stamp
    )
}

/// Adds one file's blocks to `res`; returns the text printed for it.
pub fn check_file(
    path: &str,
    st: &FileStatus,
    blocks: &[pb::LocatedBlockProto],
    under_construction: bool,
    opts: FsckOptions,
    res: &mut FsckResult,
) -> String {
    let mut out = String::new();
    let len = st.length;
    let replication = u64::from(st.replication);
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
    let mut mis = 0u64;
    let mut report = String::new();
    for (i, lb) in blocks.iter().enumerate() {
        // Replicas by their node's admin state: only in-service ones are live.
        let with_state = |s: i32| {
            if lb.corrupt {
                0
            } else {
                lb.locs
                    .iter()
                    .filter(|d| d.admin_state.unwrap_or(0) == s)
                    .count() as u64
            }
        };
        let (live, decommissioning, decommissioned) = (with_state(0), with_state(1), with_state(2));
        let (entering_maintenance, in_maintenance) = (with_state(3), with_state(4));
        res.decommissioning_replicas += decommissioning;
        res.decommissioned_replicas += decommissioned;
        res.entering_maintenance_replicas += entering_maintenance;
        res.in_maintenance_replicas += in_maintenance;
        let maintenance = entering_maintenance + in_maintenance;
        let total = live + decommissioning + decommissioned + maintenance;
        let size = lb.b.num_bytes.unwrap_or(0);
        res.total_replicas += total;
        res.expected_replicas += replication;
        if total < u64::from(res.min_replication) {
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
        if total >= u64::from(res.min_replication) {
            res.min_replicated += 1;
        }
        // A replica in maintenance is expected back: not a missing one (Hadoop counts
        // it among the block's replicas).
        if live + maintenance < replication && total > 0 {
            res.missing_replicas += replication - live - maintenance;
            res.under_replicated += 1;
            under += 1;
            if !opts.files {
                let _ = write!(out, "\n{path}: ");
            }
            let _ = writeln!(
                out,
                " Under replicated {}. Target Replicas is {replication} but found {live} live replica(s), {decommissioned} decommissioned replica(s), {decommissioning} decommissioning replica(s).",
                block_name(lb)
            );
        }
        if !lb.corrupt && live > 0 {
            let racks: BTreeSet<&str> = lb
                .locs
                .iter()
                .map(|d| d.location.as_deref().unwrap_or("/default-rack"))
                .collect();
            let missing_racks = crate::blockmanagement::placement::missing_racks(
                racks.len(),
                replication as usize,
                res.cluster_racks,
            );
            if missing_racks > 0 {
                res.mis_replicated += 1;
                mis += 1;
                if !opts.files && under == 0 && mis == 1 {
                    let _ = write!(out, "\n{path}: ");
                }
                let _ = writeln!(
                    out,
                    " Replica placement policy is violated for {}. Block should be additionally replicated on {missing_racks} more rack(s). Total number of racks in the cluster: {}",
                    block_name(lb),
                    res.cluster_racks
                );
            }
        }
        let _ = write!(report, "{i}. {} len={size}", block_name(lb));
        if total == 0 && !lb.corrupt {
            report.push_str(" MISSING!");
            res.missing_ids.push(block_name(lb));
            res.missing_size += size;
            missing += 1;
            missing_size += size;
        } else {
            let _ = write!(report, " Live_repl={live}");
            if opts.locations || opts.racks || opts.replica_details {
                let nodes: Vec<String> = lb
                    .locs
                    .iter()
                    .enumerate()
                    .map(|(j, dn)| {
                        let addr = format!("{}:{}", dn.id.ip_addr, dn.id.xfer_port);
                        if opts.racks {
                            let rack = dn.location.as_deref().unwrap_or("/default-rack");
                            format!("{rack}/{addr}")
                        } else {
                            let sid = lb.storage_i_ds.get(j).map_or("", String::as_str);
                            let detail = match (opts.replica_details, dn.admin_state) {
                                (false, _) => "",
                                (true, Some(1)) => "(DECOMMISSIONING)",
                                (true, Some(2)) => "(DECOMMISSIONED)",
                                (true, Some(3)) => "(ENTERING MAINTENANCE)",
                                (true, Some(4)) => "(IN MAINTENANCE)",
                                (true, _) => "(LIVE)",
                            };
                            format!("DatanodeInfoWithStorage[{addr},{sid},DISK]{detail}")
                        }
                    })
                    .collect();
                let _ = write!(report, "  [{}]", nodes.join(", "));
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
    } else if under == 0 && mis == 0 && (opts.files || (opts.open_for_write && under_construction))
    {
        out.push_str(" OK\n");
    }
    if opts.blocks && (opts.files || (opts.open_for_write && under_construction)) {
        out.push_str(&report);
        out.push('\n');
    }
    out
}

/// Why a walk stopped before its report was complete.
enum Stop {
    /// The reader went away; nothing more to say.
    Gone,
    /// An error to report (the `FAILED` ending).
    Failed(String),
}

fn rpc_stop(e: RpcError) -> Stop {
    Stop::Failed(e.message)
}

fn ns_stop(e: NamespaceError) -> Stop {
    rpc_stop(ns_err(e))
}

/// Runs fsck for `req` over `fsn`, handing the report to `sink` piece by piece
/// (`sink` answers false once nobody reads any more, and the walk stops).
pub fn run(fsn: &Namesystem, req: &FsckRequest, sink: &mut dyn FnMut(String) -> bool) {
    let started = Instant::now();
    let path = req
        .params
        .get("path")
        .map(String::as_str)
        .filter(|p| !p.is_empty())
        .unwrap_or("/")
        .to_string();
    let ended = |started: Instant| {
        format!(
            "FSCK ended at {} in {} milliseconds\n",
            java_date_utc(now_ms()),
            started.elapsed().as_millis()
        )
    };
    let header = format!(
        "FSCK started by {} from /{} for path {path} at {}\n",
        req.shown_as,
        req.remote,
        java_date_utc(now_ms())
    );
    tracing::info!(user = %req.user, remote = %req.remote, %path, "fsck started");
    if !sink(header) {
        return;
    }
    let failed = |sink: &mut dyn FnMut(String) -> bool, message: String| {
        sink(format!(
            "{}{message}\n\n\nFsck on path '{path}' {FAILURE_STATUS}",
            ended(started)
        ));
    };
    let opts = match FsckOptions::from_params(&req.params) {
        Ok(o) => o,
        Err(e) => return failed(sink, e),
    };
    match walk(fsn, req, &path, opts, started, sink) {
        Ok(()) => {}
        Err(Stop::Gone) => {}
        Err(Stop::Failed(message)) => failed(sink, message),
    }
}

fn walk(
    fsn: &Namesystem,
    req: &FsckRequest,
    path: &str,
    opts: FsckOptions,
    started: Instant,
    sink: &mut dyn FnMut(String) -> bool,
) -> Result<(), Stop> {
    // The reads fsck makes are READ operations: a Standby refuses them with Hadoop's
    // StandbyException message (DFSck asks the Active).
    fsn.check_operation(OperationCategory::Read)
        .map_err(rpc_stop)?;
    let caller = fsn.caller(&req.user);
    let root = fsn.read().get_file_info(&caller, path).map_err(ns_stop)?;
    let Some(root) = root else {
        let _ = sink(format!("\n\nPath '{path}' {NONEXISTENT_STATUS}"));
        return Ok(());
    };
    if opts.list_corrupt_file_blocks {
        return list_corrupt_file_blocks(fsn, req, &caller, path, root, sink);
    }
    let cluster_racks = fsn
        .bm
        .datanode_report(DatanodeReportKind::Live)
        .iter()
        .map(|d| d.location.clone().unwrap_or_default())
        .collect::<BTreeSet<String>>()
        .len();
    let mut res = FsckResult {
        default_replication: fsn.config.replication,
        min_replication: fsn.bm.config().min_replication,
        cluster_racks,
        ..Default::default()
    };
    let mut dirs = 0u64;
    // Hadoop prints an empty line between the first line and the listing.
    if !sink("\n".to_string()) {
        return Err(Stop::Gone);
    }
    visit(fsn, &caller, path, root, &mut |p, st, blocks| {
        let text = match (st.kind, blocks) {
            (FileKind::Directory, _) => {
                dirs += 1;
                if opts.files {
                    format!("{p} <dir>\n")
                } else {
                    String::new()
                }
            }
            (_, Some(located)) => {
                let mut all = located.blocks.clone();
                if let Some(last) = &located.last_block {
                    if !located.last_complete
                        && !all.iter().any(|b| b.b.block_id == last.b.block_id)
                    {
                        all.push(last.clone());
                    }
                }
                // Replicas a reader is not sent to (on nodes in maintenance) still
                // count here, as Hadoop's fsck counts every stored replica.
                for lb in &mut all {
                    lb.locs
                        .extend(fsn.bm.maintenance_only_locations(lb.b.block_id));
                }
                check_file(p, st, &all, located.under_construction, opts, &mut res)
            }
            _ => String::new(),
        };
        text.is_empty() || sink(text)
    })?;
    let live = fsn.bm.datanode_report(DatanodeReportKind::Live);
    let racks: BTreeSet<&str> = live
        .iter()
        .map(|d| d.location.as_deref().unwrap_or("/default-rack"))
        .collect();
    let status = if res.is_healthy() {
        "HEALTHY"
    } else {
        "CORRUPT"
    };
    let summary = format!(
        "\nStatus: {status}\n Number of data-nodes:\t{}\n Number of racks:\t\t{}\n Total dirs:\t\t\t{dirs}\n Total symlinks:\t\t0\n\nReplicated Blocks:\n{}\n\nErasure Coded Block Groups:\n{ERASURE_CODED_SECTION}\n{}\n\n\nThe filesystem under path '{path}' {}",
        live.len(),
        racks.len(),
        res.replicated_section(),
        {
            let ms = started.elapsed().as_millis();
            format!("FSCK ended at {} in {ms} milliseconds", java_date_utc(now_ms()))
        },
        if res.is_healthy() {
            HEALTHY_STATUS
        } else {
            CORRUPT_STATUS
        }
    );
    if !sink(summary) {
        return Err(Stop::Gone);
    }
    Ok(())
}

/// Depth-first, in listing order (as Hadoop's fsck), calling `f` for every directory
/// (no blocks) and file (its blocks; `None` when it went away meanwhile). The
/// namespace lock is taken per listing page and per file.
fn visit(
    fsn: &Namesystem,
    caller: &Caller,
    root: &str,
    root_st: FileStatus,
    f: &mut dyn FnMut(&str, &FileStatus, Option<&crate::write_path::Located>) -> bool,
) -> Result<(), Stop> {
    // An explicit stack keeps the recursion depth bounded whatever the tree's depth.
    let mut stack = vec![(root.to_string(), root_st)];
    while let Some((path, st)) = stack.pop() {
        if st.kind == FileKind::Directory {
            if !f(&path, &st, None) {
                return Err(Stop::Gone);
            }
            let mut children = Vec::new();
            let mut after: Vec<u8> = Vec::new();
            loop {
                let page = fsn
                    .read()
                    .list(caller, &path, &after, fsn.config.ls_limit.max(1));
                let (items, remaining) = match page {
                    Ok(x) => x,
                    // Deleted while we walked: nothing left to check there.
                    Err(NamespaceError::FileNotFound(_)) => break,
                    Err(e) => return Err(ns_stop(e)),
                };
                let Some(last) = items.last() else { break };
                after = last.name.clone();
                children.extend(items);
                if remaining == 0 {
                    break;
                }
            }
            for c in children.into_iter().rev() {
                let name = String::from_utf8_lossy(&c.name).into_owned();
                let child = if path.ends_with('/') {
                    format!("{path}{name}")
                } else {
                    format!("{path}/{name}")
                };
                stack.push((child, c));
            }
        } else {
            let located = match fsn.block_locations(caller, &path, 0, u64::MAX, None) {
                Ok(l) => Some(l),
                Err(e) if e.class_name.ends_with("FileNotFoundException") => None,
                Err(e) => return Err(rpc_stop(e)),
            };
            if let Some(l) = located {
                if !f(&path, &st, Some(&l)) {
                    return Err(Stop::Gone);
                }
            }
        }
    }
    Ok(())
}

/// `-list-corruptfileblocks`: each block with no good replica and its file, one per
/// line (`blk_<id>\t<path>`), then how many files; `DFSck` pages with a cookie, and
/// hafs answers every block in the first page.
fn list_corrupt_file_blocks(
    fsn: &Namesystem,
    req: &FsckRequest,
    caller: &Caller,
    path: &str,
    root: FileStatus,
    sink: &mut dyn FnMut(String) -> bool,
) -> Result<(), Stop> {
    let cookie: u64 = req
        .params
        .get("startblockafter")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut lines = Vec::new();
    if cookie == 0 {
        visit(fsn, caller, path, root, &mut |p, _st, blocks| {
            for lb in blocks.iter().flat_map(|l| l.blocks.iter()) {
                if lb.corrupt || lb.locs.is_empty() {
                    lines.push(format!("blk_{}\t{p}", lb.b.block_id));
                }
            }
            true
        })?;
    }
    let filler = if !lines.is_empty() {
        lines.len().to_string()
    } else if cookie == 0 {
        "no".to_string()
    } else {
        "no more".to_string()
    };
    let mut text = format!("Cookie:\t{}\n", cookie + lines.len() as u64);
    for l in &lines {
        text.push_str(l);
        text.push('\n');
    }
    let _ = write!(
        text,
        "\n\nThe filesystem under path '{path}' has {filler} CORRUPT files\n\n"
    );
    if !sink(text) {
        return Err(Stop::Gone);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hafs_proto::hdfs::{DatanodeIdProto, DatanodeInfoProto, ExtendedBlockProto};

    fn lb(id: u64, len: u64, nodes: usize, corrupt: bool) -> pb::LocatedBlockProto {
        pb::LocatedBlockProto {
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

    fn file(len: u64, rep: u16) -> FileStatus {
        FileStatus {
            kind: FileKind::File,
            name: Vec::new(),
            length: len,
            replication: rep,
            block_size: 128 << 20,
            mtime: 0,
            atime: 0,
            permission: 0o644,
            owner: "u".into(),
            group: "g".into(),
            inode_id: 1,
            children_num: 0,
            under_construction: false,
            has_acl: false,
            storage_policy: 0,
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
        let opts = FsckOptions {
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
        assert!(text.contains("0. BP-1:blk_1_1001 len=100 Live_repl=3  [DatanodeInfoWithStorage[127.0.0.1:9866,DS-0,DISK], "), "{text}");
        assert!(text.ends_with("]\n\n"), "{text:?}");
        assert!(r.is_healthy());
        let s = r.replicated_section();
        assert!(
            s.starts_with(" Total size:\t150 B\n Total files:\t1"),
            "{s}"
        );
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
        assert!(s.ends_with("\n Blocks queued for replication:\t0"), "{s}");
    }

    #[test]
    fn under_replicated_missing_and_corrupt() {
        let mut r = result();
        let opts = FsckOptions::default();
        let text = check_file(
            "/u",
            &file(10, 3),
            &[lb(1, 10, 2, false)],
            false,
            opts,
            &mut r,
        );
        assert!(text.contains("Under replicated BP-1:blk_1_1001. Target Replicas is 3 but found 2 live replica(s)"), "{text}");
        assert_eq!((r.under_replicated, r.missing_replicas), (1, 1));
        assert!(r.is_healthy(), "under-replication is not corruption");

        let text = check_file(
            "/m",
            &file(7, 3),
            &[lb(2, 7, 0, false)],
            false,
            opts,
            &mut r,
        );
        assert!(
            text.contains("/m:  MISSING 1 blocks of total size 7 B."),
            "{text}"
        );
        assert!(!r.is_healthy());
        let text = check_file("/c", &file(5, 3), &[lb(3, 5, 1, true)], false, opts, &mut r);
        assert!(
            text.contains("/c: CORRUPT blockpool BP-1 block blk_3"),
            "{text}"
        );
        assert_eq!((r.corrupt_blocks, r.corrupt_files), (1, 2));
        let s = r.replicated_section();
        assert!(
            s.contains("\n  UNDER MIN REPL'D BLOCKS:\t2 (66.666664 %)"),
            "{s}"
        );
        assert!(s.contains("\n  MINIMAL BLOCK REPLICATION:\t1"), "{s}");
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
            FsckOptions::default(),
            &mut r,
        );
        assert!(text.is_empty());
        assert_eq!((r.open_files, r.total_files, r.open_file_blocks), (1, 0, 1));
        assert!(r
            .replicated_section()
            .contains("(Files currently being written: 1)"));
        let opts = FsckOptions {
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
    fn options_from_the_query() {
        let q = |pairs: &[&str]| -> HashMap<String, String> {
            pairs.iter().map(|k| (k.to_string(), "1".into())).collect()
        };
        let o =
            FsckOptions::from_params(&q(&["ugi", "files", "blocks", "locations", "path"])).unwrap();
        assert!(o.files && o.blocks && o.locations && !o.racks);
        let e = FsckOptions::from_params(&q(&["move"])).unwrap_err();
        assert!(e.contains("'move'"), "{e}");
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
