//! One definition of "the same outcome" for the scale-out scenarios (racks,
//! decommissioning), shared by the hafs tests (crates/tests/tests/racks.rs,
//! decommission.rs) and their control against the real Apache HDFS
//! (reference_scaleout.rs): what `fsck -files -blocks -racks`, `dfsadmin -printTopology`
//! and `dfsadmin -report` say, read the same way whichever NameNode and tool wrote it.
//! Only parsing lives here; each test decides what it expects.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One block as `fsck -files -blocks -racks` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsckBlock {
    /// The file the block belongs to.
    pub file: String,
    /// The file's replication factor.
    pub replication: usize,
    /// Its `Live_repl=` count, when the line has one.
    pub live_replicas: Option<usize>,
    /// (rack, "ip:port") of each listed replica (a decommissioning or decommissioned
    /// node's too).
    pub replicas: Vec<(String, String)>,
}

impl FsckBlock {
    /// The racks its replicas are on.
    pub fn racks(&self) -> BTreeSet<&str> {
        self.replicas.iter().map(|(r, _)| r.as_str()).collect()
    }
}

/// The blocks of the files under `under` (a path prefix such as `/racks/`) in the
/// output of `fsck <path> -files -blocks -racks`: a file line
/// (`/racks/a 5 bytes, replicated: replication=3, 1 block(s):  OK`) then one line per
/// block (`0. BP-…:blk_1073741825_1001 len=5 Live_repl=3  [/rack1/127.0.0.2:9866, …]`).
pub fn fsck_blocks(fsck: &str, under: &str) -> Vec<FsckBlock> {
    let mut blocks = Vec::new();
    let mut file = String::new();
    let mut replication = 0;
    for line in fsck.lines() {
        if line.starts_with(under) && line.contains(" bytes, replicated: replication=") {
            file = line.split(' ').next().unwrap_or_default().to_string();
            replication = line
                .split("replication=")
                .nth(1)
                .and_then(|r| r.split(',').next())
                .and_then(|r| r.parse().ok())
                .unwrap_or(0);
        } else if line.contains(":blk_") && line.contains(" len=") {
            let replicas = line
                .split_once('[')
                .and_then(|(_, rest)| rest.split_once(']'))
                .map(|(inside, _)| {
                    inside
                        .split(", ")
                        .filter_map(|p| {
                            // "/rack1/127.0.0.2:port"
                            let at = p.rfind('/')?;
                            Some((p[..at].to_string(), p[at + 1..].to_string()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let live_replicas = line
                .split("Live_repl=")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .and_then(|r| r.parse().ok());
            blocks.push(FsckBlock {
                file: file.clone(),
                replication,
                live_replicas,
                replicas,
            });
        }
    }
    blocks
}

/// A count of fsck's summary (`Mis-replicated blocks`, `Number of racks`,
/// `Under-replicated blocks`, `DecommissioningReplicas`, …): the number after the
/// label's colon.
pub fn fsck_summary_count(fsck: &str, label: &str) -> Option<u64> {
    fsck.lines()
        .find(|l| l.trim_start().starts_with(label))
        .and_then(|l| l.split(':').nth(1))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// The rack/node listing of `dfsadmin -printTopology`: rack → sorted "ip:port".
pub fn topology(print_topology: &str) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut rack = None;
    for line in print_topology.lines() {
        if let Some(r) = line.strip_prefix("Rack: ") {
            rack = Some(r.trim().to_string());
            map.entry(r.trim().to_string()).or_default();
        } else if let (Some(r), Some(node)) = (&rack, line.strip_prefix("   ")) {
            let addr = node.split_whitespace().next().unwrap_or_default();
            map.entry(r.clone()).or_default().push(addr.to_string());
        }
    }
    // Hadoop lists a rack's nodes in hash order.
    map.values_mut().for_each(|v| v.sort());
    map
}

/// The "Decommission Status" of the DataNode at `xfer` ("ip:port") in a `dfsadmin
/// -report`'s "Live datanodes" section: `Normal`, `Decommission in progress`,
/// `Decommissioned`, ….
pub fn decommission_status(report: &str, xfer: &str) -> Option<String> {
    let live = report.split("Live datanodes").nth(1)?;
    let live = live.split("Dead datanodes").next()?;
    let section = live.split(&format!("Name: {xfer} ")).nth(1)?;
    section
        .lines()
        .find_map(|l| l.strip_prefix("Decommission Status : "))
        .map(str::to_string)
}

/// Writes an executable topology script (`net.topology.script.file.name`) mapping each
/// IP address of `racks` to its rack, anything else to `/default-rack`.
pub fn write_topology_script(path: &Path, racks: &[(&str, &[&str])]) {
    let mut s = String::from("#!/bin/sh\nfor a in \"$@\"; do\n  case \"$a\" in\n");
    for (rack, ips) in racks {
        for ip in *ips {
            s.push_str(&format!("    {ip}) echo {rack} ;;\n"));
        }
    }
    s.push_str("    *) echo /default-rack ;;\n  esac\ndone\n");
    std::fs::write(path, s).expect("write the topology script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .expect("make the topology script executable");
}

/// The last `n` lines of `text`, for failure messages.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    // Lines as Apache Hadoop 3.5.0's fsck and dfsadmin print them.
    const FSCK: &str = "/racks <dir>\n\
        /racks/f1 2500000 bytes, replicated: replication=2, 2 block(s):  OK\n\
        0. BP-1-127.0.0.1-1:blk_1073741825_1001 len=1048576 Live_repl=2  [/rack2/127.0.0.6:11125, /rack1/127.0.0.4:11119]\n\
        1. BP-1-127.0.0.1-1:blk_1073741826_1002 len=402848 Live_repl=2  [/rack1/127.0.0.2:11113, /rack1/127.0.0.3:11116]\n\
        \n\
        Status: HEALTHY\n \
        Number of data-nodes:\t5\n \
        Number of racks:\t\t2\n \
        Mis-replicated blocks:\t\t0 (0.0 %)\n";

    #[test]
    fn reads_blocks_and_summary_of_fsck_racks() {
        let blocks = fsck_blocks(FSCK, "/racks/");
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].file, "/racks/f1");
        assert_eq!(blocks[0].replication, 2);
        assert_eq!(
            blocks[0].replicas[0],
            ("/rack2".to_string(), "127.0.0.6:11125".to_string())
        );
        assert_eq!(blocks[0].racks().len(), 2);
        assert_eq!(blocks[0].live_replicas, Some(2));
        assert_eq!(blocks[1].racks().len(), 1);
        assert_eq!(fsck_summary_count(FSCK, "Number of racks"), Some(2));
        assert_eq!(fsck_summary_count(FSCK, "Mis-replicated blocks"), Some(0));
        assert_eq!(fsck_summary_count(FSCK, "Missing blocks"), None);
    }

    #[test]
    fn reads_print_topology_and_report_status() {
        let topo = "Rack: /rack1\n   127.0.0.4:1 (127.0.0.4) In Service\n   127.0.0.2:2 (127.0.0.2) In Service\n\n\
            Rack: /rack2\n   127.0.0.5:3 (127.0.0.5) In Service\n";
        let map = topology(topo);
        assert_eq!(map["/rack1"], vec!["127.0.0.2:2", "127.0.0.4:1"]);
        assert_eq!(map["/rack2"], vec!["127.0.0.5:3"]);
        let report = "Live datanodes (2):\n\nName: 127.0.0.2:2 (127.0.0.2)\nHostname: 127.0.0.2\n\
            Decommission Status : Decommission in progress\n\nName: 127.0.0.3:4 (127.0.0.3)\n\
            Decommission Status : Normal\n";
        assert_eq!(
            decommission_status(report, "127.0.0.2:2").as_deref(),
            Some("Decommission in progress")
        );
        assert_eq!(
            decommission_status(report, "127.0.0.3:4").as_deref(),
            Some("Normal")
        );
        assert_eq!(decommission_status(report, "127.0.0.9:9"), None);
    }
}
