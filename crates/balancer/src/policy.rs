//! The balancer's decisions, as pure functions over a snapshot of the cluster
//! (Hadoop's Balancer.init / chooseStorageGroups / Dispatcher.isGoodBlockCandidate):
//!
//! - every DataNode's utilization (DFS used / capacity, in percent) is compared with
//!   the cluster's average: more than `threshold` points above is *over-utilized*,
//!   above is *above average*, at most `threshold` points below is *below average*,
//!   further below is *under-utilized*;
//! - each node may give (or take) the bytes that bring it to the average, at most
//!   `dfs.balancer.max-size-to-move`, a target no more than its remaining space;
//! - sources are paired with targets over-with-under first, then over-with-below,
//!   then above-with-under; each round prefers pairs on the same rack, then any;
//! - a block may go from a source to a target when the target holds no replica of it
//!   and the move does not spread the block over fewer racks.

use std::collections::{BTreeSet, HashSet};

/// What the balancer knows of one DataNode.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeUsage {
    pub uuid: String,
    /// `ip:xferPort`.
    pub xfer_addr: String,
    pub host: String,
    pub rack: String,
    pub capacity: u64,
    pub dfs_used: u64,
    pub remaining: u64,
}

impl NodeUsage {
    /// DFS used as a percentage of capacity (0 for a node without capacity).
    pub fn utilization(&self) -> f64 {
        if self.capacity == 0 {
            0.0
        } else {
            self.dfs_used as f64 * 100.0 / self.capacity as f64
        }
    }
}

/// Where a DataNode stands against the average.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    OverUtilized,
    AboveAverage,
    BelowAverage,
    UnderUtilized,
}

/// The cluster's utilization: all DFS used over all capacity, in percent.
pub fn average_utilization(nodes: &[NodeUsage]) -> f64 {
    let capacity: u64 = nodes.iter().map(|n| n.capacity).sum();
    let used: u64 = nodes.iter().map(|n| n.dfs_used).sum();
    if capacity == 0 {
        0.0
    } else {
        used as f64 * 100.0 / capacity as f64
    }
}

/// The class of a node of utilization `u` around `average` with `threshold` points.
pub fn classify(u: f64, average: f64, threshold: f64) -> Class {
    let diff = u - average;
    if diff > 0.0 {
        if diff > threshold {
            Class::OverUtilized
        } else {
            Class::AboveAverage
        }
    } else if -diff > threshold {
        Class::UnderUtilized
    } else {
        Class::BelowAverage
    }
}

fn percent_of(percent: f64, capacity: u64) -> u64 {
    (percent.max(0.0) * capacity as f64 / 100.0) as u64
}

/// One node's role in an iteration: the bytes it may still give (a source) or take
/// (a target).
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub node: usize,
    pub class: Class,
    pub bytes: u64,
}

/// The plan of an iteration before pairing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Classification {
    pub over: Vec<Member>,
    pub above: Vec<Member>,
    pub below: Vec<Member>,
    pub under: Vec<Member>,
    /// Bytes beyond the threshold on over-utilized nodes.
    pub over_loaded_bytes: u64,
    /// Bytes below the threshold on under-utilized nodes.
    pub under_loaded_bytes: u64,
}

impl Classification {
    /// Hadoop's "Bytes Left To Move": the larger of the two imbalances.
    pub fn bytes_left_to_move(&self) -> u64 {
        self.over_loaded_bytes.max(self.under_loaded_bytes)
    }
}

/// Classifies `nodes` (see the module docs); `max_size_to_move` bounds each node's
/// bytes for the iteration.
pub fn classify_nodes(
    nodes: &[NodeUsage],
    threshold: f64,
    max_size_to_move: u64,
) -> Classification {
    let average = average_utilization(nodes);
    let mut c = Classification::default();
    for (i, n) in nodes.iter().enumerate() {
        let diff = n.utilization() - average;
        let beyond = diff.abs() - threshold;
        let mut bytes = percent_of(diff.abs(), n.capacity);
        if diff < 0.0 {
            bytes = bytes.min(n.remaining);
        }
        bytes = bytes.min(max_size_to_move);
        let class = classify(n.utilization(), average, threshold);
        let m = Member {
            node: i,
            class,
            bytes,
        };
        match class {
            Class::OverUtilized => {
                c.over_loaded_bytes += percent_of(beyond, n.capacity);
                c.over.push(m);
            }
            Class::AboveAverage => c.above.push(m),
            Class::BelowAverage => c.below.push(m),
            Class::UnderUtilized => {
                c.under_loaded_bytes += percent_of(beyond, n.capacity);
                c.under.push(m);
            }
        }
    }
    c
}

/// Bytes to move from one node to another in an iteration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub source: usize,
    pub target: usize,
    pub bytes: u64,
}

/// Pairs sources with targets (see the module docs): over→under, over→below,
/// above→under, each first within a rack, then across racks.
pub fn pair(nodes: &[NodeUsage], c: &Classification) -> Vec<Task> {
    let mut over = c.over.clone();
    let mut above = c.above.clone();
    let mut below = c.below.clone();
    let mut under = c.under.clone();
    let mut tasks = Vec::new();
    for same_rack in [true, false] {
        match_groups(nodes, &mut over, &mut under, same_rack, &mut tasks);
        match_groups(nodes, &mut over, &mut below, same_rack, &mut tasks);
        match_groups(nodes, &mut above, &mut under, same_rack, &mut tasks);
    }
    tasks
}

fn match_groups(
    nodes: &[NodeUsage],
    sources: &mut [Member],
    targets: &mut [Member],
    same_rack: bool,
    tasks: &mut Vec<Task>,
) {
    for s in sources.iter_mut() {
        for t in targets.iter_mut() {
            if s.bytes == 0 {
                break;
            }
            if t.bytes == 0 || s.node == t.node {
                continue;
            }
            if same_rack && nodes[s.node].rack != nodes[t.node].rack {
                continue;
            }
            let bytes = s.bytes.min(t.bytes);
            s.bytes -= bytes;
            t.bytes -= bytes;
            match tasks
                .iter_mut()
                .find(|x| x.source == s.node && x.target == t.node)
            {
                Some(x) => x.bytes += bytes,
                None => tasks.push(Task {
                    source: s.node,
                    target: t.node,
                    bytes,
                }),
            }
        }
    }
}

/// A block and the DataNodes (UUIDs) holding it, as getBlocks lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateBlock {
    pub block_id: u64,
    pub gen_stamp: u64,
    pub num_bytes: u64,
    pub holders: Vec<String>,
}

/// Whether moving `block` from `source` to `target` is allowed: the target holds no
/// replica, the source does, and the block keeps at least as many racks.
pub fn is_good_move(
    block: &CandidateBlock,
    source: &NodeUsage,
    target: &NodeUsage,
    rack_of: impl Fn(&str) -> Option<String>,
) -> bool {
    if block.holders.contains(&target.uuid) {
        return false;
    }
    if !block.holders.contains(&source.uuid) {
        return false;
    }
    let racks_before: BTreeSet<String> = block.holders.iter().filter_map(|h| rack_of(h)).collect();
    let mut racks_after: BTreeSet<String> = block
        .holders
        .iter()
        .filter(|h| **h != source.uuid)
        .filter_map(|h| rack_of(h))
        .collect();
    racks_after.insert(target.rack.clone());
    racks_after.len() >= racks_before.len()
}

/// The replica to copy from: a holder on the target's rack (cheaper traffic) that is
/// not `busy`, else the source itself (Hadoop's chooseProxySource).
pub fn choose_proxy<'a>(
    block: &'a CandidateBlock,
    source: &'a NodeUsage,
    target: &NodeUsage,
    rack_of: impl Fn(&str) -> Option<String>,
    busy: &HashSet<String>,
) -> &'a str {
    if source.rack != target.rack {
        if let Some(h) = block.holders.iter().find(|h| {
            **h != source.uuid
                && !busy.contains(*h)
                && rack_of(h).as_deref() == Some(target.rack.as_str())
        }) {
            return h;
        }
    }
    &source.uuid
}

/// Blocks of `candidates` to move for a task of `bytes`, in order, skipping blocks
/// already `scheduled` and those [`is_good_move`] refuses; stops once the chosen
/// blocks add up to `bytes`.
pub fn choose_blocks<'a>(
    candidates: &'a [CandidateBlock],
    bytes: u64,
    source: &NodeUsage,
    target: &NodeUsage,
    rack_of: impl Fn(&str) -> Option<String>,
    scheduled: &HashSet<u64>,
) -> Vec<&'a CandidateBlock> {
    let mut out = Vec::new();
    let mut total = 0u64;
    for b in candidates {
        if total >= bytes {
            break;
        }
        if scheduled.contains(&b.block_id) || !is_good_move(b, source, target, &rack_of) {
            continue;
        }
        total += b.num_bytes;
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GB: u64 = 1 << 30;

    fn node(i: usize, rack: &str, used: u64, capacity: u64) -> NodeUsage {
        NodeUsage {
            uuid: format!("dn{i}"),
            xfer_addr: format!("127.0.0.{i}:9866"),
            host: format!("127.0.0.{i}"),
            rack: rack.to_string(),
            capacity,
            dfs_used: used,
            remaining: capacity - used,
        }
    }

    #[test]
    fn classification_follows_the_threshold_around_the_average() {
        // Average 50 %: 90 % over, 55 % above, 45 % below, 10 % under (threshold 10).
        let nodes = vec![
            node(1, "/r", 90 * GB / 100, GB),
            node(2, "/r", 55 * GB / 100, GB),
            node(3, "/r", 45 * GB / 100, GB),
            node(4, "/r", 10 * GB / 100, GB),
        ];
        assert!((average_utilization(&nodes) - 50.0).abs() < 0.01);
        let c = classify_nodes(&nodes, 10.0, u64::MAX);
        assert_eq!(c.over.iter().map(|m| m.node).collect::<Vec<_>>(), vec![0]);
        assert_eq!(c.above.iter().map(|m| m.node).collect::<Vec<_>>(), vec![1]);
        assert_eq!(c.below.iter().map(|m| m.node).collect::<Vec<_>>(), vec![2]);
        assert_eq!(c.under.iter().map(|m| m.node).collect::<Vec<_>>(), vec![3]);
        // The over-utilized node may give 40 % of its capacity (to the average); 30 %
        // of it is beyond the threshold, as is 30 % of the under-utilized node.
        let over = &c.over[0];
        assert!(
            over.bytes.abs_diff(40 * GB / 100) < 1 << 20,
            "{}",
            over.bytes
        );
        assert!(c.over_loaded_bytes.abs_diff(30 * GB / 100) < 1 << 20);
        assert!(c.bytes_left_to_move().abs_diff(30 * GB / 100) < 1 << 20);
    }

    #[test]
    fn a_balanced_cluster_has_nothing_left_to_move() {
        let nodes = vec![
            node(1, "/r", 52 * GB / 100, GB),
            node(2, "/r", 48 * GB / 100, GB),
        ];
        let c = classify_nodes(&nodes, 10.0, u64::MAX);
        assert_eq!(c.bytes_left_to_move(), 0);
        assert!(c.over.is_empty() && c.under.is_empty());
    }

    #[test]
    fn max_size_to_move_bounds_each_node() {
        let nodes = vec![
            node(1, "/r", 90 * GB / 100, GB),
            node(2, "/r", 10 * GB / 100, GB),
        ];
        let c = classify_nodes(&nodes, 10.0, 1 << 20);
        assert_eq!(c.over[0].bytes, 1 << 20);
        assert_eq!(c.under[0].bytes, 1 << 20);
    }

    #[test]
    fn pairing_prefers_the_same_rack_then_any() {
        // Two full nodes (racks A, B), two empty ones (racks B, A).
        let nodes = vec![
            node(1, "/A", 80 * GB / 100, GB),
            node(2, "/B", 80 * GB / 100, GB),
            node(3, "/B", 0, GB),
            node(4, "/A", 0, GB),
        ];
        let c = classify_nodes(&nodes, 10.0, u64::MAX);
        let tasks = pair(&nodes, &c);
        assert_eq!(tasks.len(), 2, "{tasks:?}");
        for t in &tasks {
            assert_eq!(nodes[t.source].rack, nodes[t.target].rack, "{tasks:?}");
        }
        // Each full node gives its 40 % to the empty node on its rack.
        assert!(tasks.iter().any(|t| t.source == 0 && t.target == 3));
        assert!(tasks.iter().any(|t| t.source == 1 && t.target == 2));
    }

    #[test]
    fn pairing_crosses_racks_when_a_rack_has_no_target() {
        let nodes = vec![node(1, "/A", 80 * GB / 100, GB), node(2, "/B", 0, GB)];
        let c = classify_nodes(&nodes, 10.0, u64::MAX);
        let tasks = pair(&nodes, &c);
        assert_eq!(tasks.len(), 1);
        assert_eq!((tasks[0].source, tasks[0].target), (0, 1));
        assert!(tasks[0].bytes.abs_diff(40 * GB / 100) < 1 << 20);
    }

    #[test]
    fn moves_keep_racks_and_skip_holders() {
        let nodes = [
            node(1, "/A", 0, GB),
            node(2, "/B", 0, GB),
            node(3, "/B", 0, GB),
            node(4, "/A", 0, GB),
        ];
        let rack_of = |u: &str| nodes.iter().find(|n| n.uuid == u).map(|n| n.rack.clone());
        let b = CandidateBlock {
            block_id: 1,
            gen_stamp: 1,
            num_bytes: 1 << 20,
            holders: vec!["dn1".into(), "dn2".into()],
        };
        // dn1 (/A) → dn4 (/A): racks stay {A, B}.
        assert!(is_good_move(&b, &nodes[0], &nodes[3], rack_of));
        // dn1 (/A) → dn3 (/B): racks would shrink to {B}.
        assert!(!is_good_move(&b, &nodes[0], &nodes[2], rack_of));
        // dn1 → dn2: the target already holds the block.
        assert!(!is_good_move(&b, &nodes[0], &nodes[1], rack_of));
        // dn3 does not hold the block: it cannot be a source.
        assert!(!is_good_move(&b, &nodes[2], &nodes[3], rack_of));
    }

    #[test]
    fn block_choice_stops_at_the_task_size_and_skips_scheduled_blocks() {
        let nodes = [node(1, "/A", 0, GB), node(2, "/A", 0, GB)];
        let rack_of = |u: &str| nodes.iter().find(|n| n.uuid == u).map(|n| n.rack.clone());
        let blocks: Vec<CandidateBlock> = (1..=5)
            .map(|i| CandidateBlock {
                block_id: i,
                gen_stamp: 1,
                num_bytes: 1 << 20,
                holders: vec!["dn1".into()],
            })
            .collect();
        let scheduled: HashSet<u64> = [2].into_iter().collect();
        let chosen = choose_blocks(&blocks, 2 << 20, &nodes[0], &nodes[1], rack_of, &scheduled);
        assert_eq!(
            chosen.iter().map(|b| b.block_id).collect::<Vec<_>>(),
            vec![1, 3]
        );
    }

    #[test]
    fn the_proxy_is_a_replica_on_the_targets_rack_when_there_is_one() {
        let nodes = [
            node(1, "/A", 0, GB),
            node(2, "/B", 0, GB),
            node(3, "/B", 0, GB),
        ];
        let rack_of = |u: &str| nodes.iter().find(|n| n.uuid == u).map(|n| n.rack.clone());
        let b = CandidateBlock {
            block_id: 1,
            gen_stamp: 1,
            num_bytes: 1,
            holders: vec!["dn1".into(), "dn2".into()],
        };
        let none = HashSet::new();
        assert_eq!(
            choose_proxy(&b, &nodes[0], &nodes[2], rack_of, &none),
            "dn2"
        );
        let busy: HashSet<String> = ["dn2".to_string()].into_iter().collect();
        assert_eq!(
            choose_proxy(&b, &nodes[0], &nodes[2], rack_of, &busy),
            "dn1"
        );
    }
}
