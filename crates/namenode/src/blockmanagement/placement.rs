//! Where replicas go (Hadoop's BlockPlacementPolicy). The default policy knows no
//! racks yet: writer-local first, then distinct DataNodes with room. Rack awareness
//! plugs in behind the same trait.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use hafs_util::rng::{self, XorShift64};

use super::datanodes::DatanodeDescriptor;

/// What a placement decision is asked for.
#[derive(Debug, Clone)]
pub struct PlacementRequest<'a> {
    /// How many more targets are wanted.
    pub num: usize,
    /// The writer's address: a DataNode on the same host is chosen first.
    pub writer: Option<IpAddr>,
    /// UUIDs of DataNodes that must not be chosen (already holding a replica, or
    /// excluded by the client).
    pub excluded: &'a HashSet<String>,
    /// UUIDs of DataNodes the client prefers, in its order.
    pub favored: &'a [String],
    /// Room a target needs.
    pub block_size: u64,
}

pub trait BlockPlacementPolicy: Send + Sync {
    /// UUIDs of up to `req.num` distinct targets among `live` (every live DataNode),
    /// in pipeline order.
    fn choose_targets(&self, live: &[&DatanodeDescriptor], req: &PlacementRequest) -> Vec<String>;

    /// Orders `nodes` (replica holders) nearest to `reader` first.
    fn sort_by_distance(
        &self,
        reader: Option<IpAddr>,
        nodes: &mut Vec<&DatanodeDescriptor>,
        seed: u64,
    );

    /// Which `n` of `holders` (live replicas of an over-replicated block) to delete.
    fn choose_excess(&self, holders: &[&DatanodeDescriptor], n: usize) -> Vec<String>;
}

/// Hadoop's network distance without a topology: 0 to itself (same host), 2 otherwise
/// (every node in one "/default-rack").
pub fn distance(reader: Option<IpAddr>, node: &DatanodeDescriptor) -> u32 {
    match (reader, node.ip()) {
        (Some(r), Some(n)) if r == n => 0,
        _ => 2,
    }
}

#[derive(Debug, Default)]
pub struct DefaultPlacement {
    rng: AtomicU64,
}

impl DefaultPlacement {
    pub fn new() -> Self {
        DefaultPlacement {
            rng: AtomicU64::new(XorShift64::seed_from_os() | 1),
        }
    }

    /// xorshift64*: spreads new replicas over the cluster; no cryptographic need. The
    /// state is an atomic so that `choose_targets` can take `&self`; a lost update
    /// between two threads only repeats a draw.
    fn next(&self) -> u64 {
        let (state, out) = rng::step(self.rng.load(Ordering::Relaxed));
        self.rng.store(state, Ordering::Relaxed);
        out
    }

    fn good_target(node: &DatanodeDescriptor, req: &PlacementRequest, chosen: &[String]) -> bool {
        node.alive
            && !req.excluded.contains(node.uuid())
            && !chosen.iter().any(|c| c == node.uuid())
            && node.best_storage(req.block_size).is_some()
    }
}

impl BlockPlacementPolicy for DefaultPlacement {
    fn choose_targets(&self, live: &[&DatanodeDescriptor], req: &PlacementRequest) -> Vec<String> {
        let mut chosen: Vec<String> = Vec::new();
        // Favored nodes first, in the client's order.
        for f in req.favored {
            if chosen.len() >= req.num {
                return chosen;
            }
            if let Some(n) = live.iter().find(|n| n.uuid() == f) {
                if Self::good_target(n, req, &chosen) {
                    chosen.push(n.uuid().to_string());
                }
            }
        }
        // Then a DataNode on the writer's own host.
        if chosen.is_empty() && chosen.len() < req.num {
            if let Some(w) = req.writer {
                if let Some(n) = live
                    .iter()
                    .find(|n| n.ip() == Some(w) && Self::good_target(n, req, &chosen))
                {
                    chosen.push(n.uuid().to_string());
                }
            }
        }
        // Then random distinct nodes with room.
        let mut rest: Vec<&&DatanodeDescriptor> = live
            .iter()
            .filter(|n| Self::good_target(n, req, &chosen))
            .collect();
        while chosen.len() < req.num && !rest.is_empty() {
            let i = (self.next() % rest.len() as u64) as usize;
            chosen.push(rest.swap_remove(i).uuid().to_string());
        }
        chosen
    }

    fn sort_by_distance(
        &self,
        reader: Option<IpAddr>,
        nodes: &mut Vec<&DatanodeDescriptor>,
        seed: u64,
    ) {
        // Equal distances are shuffled on every call, as Hadoop's NetworkTopology does,
        // so reads spread over all replicas (and a corrupt one is found and reported
        // rather than always skipped). `seed` only mixes in the block id.
        for i in (1..nodes.len()).rev() {
            let j = ((self.next() ^ seed) % (i as u64 + 1)) as usize;
            nodes.swap(i, j);
        }
        nodes.sort_by_key(|n| distance(reader, n));
    }

    fn choose_excess(&self, holders: &[&DatanodeDescriptor], n: usize) -> Vec<String> {
        // Hadoop (without racks): delete from the node with the least remaining space.
        let mut v: Vec<&&DatanodeDescriptor> = holders.iter().collect();
        v.sort_by(|a, b| {
            a.remaining()
                .cmp(&b.remaining())
                .then(a.uuid().cmp(b.uuid()))
        });
        v.into_iter()
            .take(n)
            .map(|d| d.uuid().to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::datanodes::StorageStats;
    use super::*;
    use hafs_proto::hdfs as pb;
    use std::time::Instant;

    fn node(i: u8, remaining: u64) -> DatanodeDescriptor {
        let id = pb::DatanodeIdProto {
            ip_addr: format!("10.0.0.{i}"),
            host_name: format!("dn{i}"),
            datanode_uuid: format!("uuid-{i}"),
            xfer_port: 9866,
            info_port: 9864,
            ipc_port: 9867,
            info_secure_port: None,
        };
        let mut d = DatanodeDescriptor::new(id, "1".into(), Instant::now());
        d.storages.insert(
            format!("DS-{i}"),
            StorageStats {
                capacity: 1 << 40,
                remaining,
                ..Default::default()
            },
        );
        d
    }

    #[test]
    fn writer_local_first_then_distinct_with_space() {
        let nodes: Vec<DatanodeDescriptor> = (1..=5)
            .map(|i| node(i, if i == 4 { 10 } else { 1 << 30 }))
            .collect();
        let live: Vec<&DatanodeDescriptor> = nodes.iter().collect();
        let p = DefaultPlacement::new();
        let excluded = HashSet::from(["uuid-2".to_string()]);
        for _ in 0..50 {
            let req = PlacementRequest {
                num: 3,
                writer: Some("10.0.0.3".parse().unwrap()),
                excluded: &excluded,
                favored: &[],
                block_size: 1 << 20,
            };
            let t = p.choose_targets(&live, &req);
            assert_eq!(t.len(), 3, "{t:?}");
            assert_eq!(t[0], "uuid-3");
            let set: HashSet<&String> = t.iter().collect();
            assert_eq!(set.len(), 3);
            assert!(!t.contains(&"uuid-2".to_string()), "excluded node chosen");
            assert!(!t.contains(&"uuid-4".to_string()), "full node chosen");
        }
        // Asking for more than exist gives what exists.
        let none = HashSet::new();
        let req = PlacementRequest {
            num: 10,
            writer: None,
            excluded: &none,
            favored: &[],
            block_size: 1 << 20,
        };
        assert_eq!(p.choose_targets(&live, &req).len(), 4);
    }

    #[test]
    fn favored_nodes_lead() {
        let nodes: Vec<DatanodeDescriptor> = (1..=4).map(|i| node(i, 1 << 30)).collect();
        let live: Vec<&DatanodeDescriptor> = nodes.iter().collect();
        let p = DefaultPlacement::new();
        let none = HashSet::new();
        let favored = vec!["uuid-4".to_string(), "uuid-2".to_string()];
        let req = PlacementRequest {
            num: 3,
            writer: Some("10.0.0.1".parse().unwrap()),
            excluded: &none,
            favored: &favored,
            block_size: 1,
        };
        let t = p.choose_targets(&live, &req);
        assert_eq!(&t[..2], &["uuid-4".to_string(), "uuid-2".to_string()]);
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn sort_puts_local_first_and_excess_picks_fullest() {
        let nodes: Vec<DatanodeDescriptor> = (1..=3).map(|i| node(i, 100 * i as u64)).collect();
        let p = DefaultPlacement::new();
        for seed in 0..6 {
            let mut v: Vec<&DatanodeDescriptor> = nodes.iter().collect();
            p.sort_by_distance(Some("10.0.0.2".parse().unwrap()), &mut v, seed);
            assert_eq!(v[0].uuid(), "uuid-2");
            assert_eq!(v.len(), 3);
        }
        let v: Vec<&DatanodeDescriptor> = nodes.iter().collect();
        assert_eq!(p.choose_excess(&v, 1), vec!["uuid-1".to_string()]);
    }
}
