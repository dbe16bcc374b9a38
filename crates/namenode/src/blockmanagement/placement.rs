//! Where replicas go (Hadoop's BlockPlacementPolicyDefault): the first replica on the
//! writer's DataNode (else a random one), the second on another rack, the third on the
//! second's rack, any further at random, with at most `(replicas - 1) / racks + 2`
//! replicas per rack. Reads are served nearest first (same node, same rack, then the
//! rest), and excess replicas are deleted from the most crowded rack first, so that
//! a block never loses its last replica on a rack while another rack has two.

use std::collections::{BTreeMap, HashSet};
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
    /// UUIDs of the DataNodes already holding the block (re-replication): their racks
    /// decide where the new replicas go, as Hadoop's "chosen" storages do.
    pub existing: &'a [String],
    /// Only a rack holding no replica yet may take one (repairing a block whose
    /// replicas are all on one rack).
    pub new_rack_only: bool,
    /// The storage type each new target should offer, in order (from the file's
    /// storage policy); empty: any type.
    pub storage_types: &'a [i32],
    /// What to use, in order, when a type has no room on any good node (the policy's
    /// creation or replication fallbacks).
    pub fallbacks: &'a [i32],
}

/// Where a reader is: its address and, when known, its rack.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reader<'a> {
    pub ip: Option<IpAddr>,
    pub rack: Option<&'a str>,
}

pub trait BlockPlacementPolicy: Send + Sync {
    /// Up to `req.num` distinct targets among `live` (every live DataNode), in
    /// pipeline order: each UUID with the storage type it was chosen for (None when
    /// the request named no types).
    fn choose_typed_targets(
        &self,
        live: &[&DatanodeDescriptor],
        req: &PlacementRequest,
    ) -> Vec<(String, Option<i32>)>;

    /// UUIDs of [`BlockPlacementPolicy::choose_typed_targets`].
    fn choose_targets(&self, live: &[&DatanodeDescriptor], req: &PlacementRequest) -> Vec<String> {
        self.choose_typed_targets(live, req)
            .into_iter()
            .map(|(u, _)| u)
            .collect()
    }

    /// Orders `nodes` (replica holders) nearest to `reader` first.
    fn sort_by_distance(&self, reader: Reader, nodes: &mut Vec<&DatanodeDescriptor>, seed: u64);

    /// Which `n` of `holders` (live replicas of an over-replicated block) to delete.
    fn choose_excess(&self, holders: &[&DatanodeDescriptor], n: usize) -> Vec<String>;
}

/// Hadoop's network distance: 0 to the reader's own host, 2 within its rack, 4 to
/// another rack (or when the reader's rack is unknown).
pub fn distance(reader: Reader, node: &DatanodeDescriptor) -> u32 {
    match (reader.ip, node.ip()) {
        (Some(r), Some(n)) if r == n => 0,
        _ if reader.rack == Some(node.location.as_str()) => 2,
        _ => 4,
    }
}

/// Whether replicas on these racks satisfy the default policy (Hadoop's
/// verifyBlockPlacement): at least `min(2, replication)` racks, or every rack the
/// cluster has. Returns the number of racks still missing.
pub fn missing_racks(replica_racks: usize, replication: usize, cluster_racks: usize) -> usize {
    if cluster_racks < 2 {
        return 0;
    }
    let required = replication.min(2);
    if replica_racks >= required || replica_racks >= cluster_racks {
        0
    } else {
        required - replica_racks
    }
}

/// Hadoop's getMaxNodesPerRack: how many of `total` replicas one rack may take.
pub fn max_nodes_per_rack(total: usize, racks: usize) -> usize {
    if racks <= 1 || total <= 1 {
        return total;
    }
    let max = (total - 1) / racks + 2;
    if max == total {
        max - 1
    } else {
        max
    }
}

#[derive(Debug, Default)]
pub struct DefaultPlacement {
    rng: AtomicU64,
}

impl DefaultPlacement {
    pub fn new() -> Self {
        Self::with_seed(XorShift64::seed_from_os())
    }

    /// A policy whose random choices repeat for the same seed (tests).
    pub fn with_seed(seed: u64) -> Self {
        DefaultPlacement {
            rng: AtomicU64::new(seed | 1),
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

    fn good_target(
        node: &DatanodeDescriptor,
        req: &PlacementRequest,
        chosen: &[String],
        storage_type: Option<i32>,
    ) -> bool {
        node.alive
            && !req.excluded.contains(node.uuid())
            && !req.existing.iter().any(|c| c == node.uuid())
            && !chosen.iter().any(|c| c == node.uuid())
            && match storage_type {
                Some(t) => node.best_storage_of(t, req.block_size).is_some(),
                None => node.best_storage(req.block_size).is_some(),
            }
    }

    /// A random node among `live` that is a good target on an allowed rack.
    fn random<'a>(
        &self,
        live: &[&'a DatanodeDescriptor],
        ok: impl Fn(&DatanodeDescriptor) -> bool,
    ) -> Option<&'a DatanodeDescriptor> {
        let candidates: Vec<&&DatanodeDescriptor> = live.iter().filter(|n| ok(n)).collect();
        if candidates.is_empty() {
            return None;
        }
        let i = (self.next() % candidates.len() as u64) as usize;
        Some(*candidates[i])
    }
}

impl BlockPlacementPolicy for DefaultPlacement {
    fn choose_typed_targets(
        &self,
        live: &[&DatanodeDescriptor],
        req: &PlacementRequest,
    ) -> Vec<(String, Option<i32>)> {
        let rack_of = |uuid: &str| {
            live.iter()
                .find(|n| n.uuid() == uuid)
                .map(|n| n.location.clone())
        };
        // The racks of the replicas so far (existing, then chosen), in order.
        let mut placed: Vec<String> = req.existing.iter().filter_map(|u| rack_of(u)).collect();
        let forbidden: HashSet<String> = if req.new_rack_only {
            placed.iter().cloned().collect()
        } else {
            HashSet::new()
        };
        let racks: HashSet<&str> = live.iter().map(|n| n.location.as_str()).collect();
        let wanted = req.num.min(live.len().saturating_sub(req.existing.len()));
        let max_per_rack = max_nodes_per_rack(placed.len() + wanted, racks.len());
        let mut chosen: Vec<String> = Vec::new();
        // The storage type of each new target (Hadoop's chooseTarget per type): the
        // policy's list, a type with no room anywhere replaced by its fallback.
        let mut types: Vec<Option<i32>> = req.storage_types.iter().map(|t| Some(*t)).collect();
        let mut unavailable: Vec<i32> = Vec::new();
        let type_at = |types: &[Option<i32>], i: usize| types.get(i).copied().flatten();
        let ok = |n: &DatanodeDescriptor, chosen: &[String], placed: &[String], t: Option<i32>| {
            Self::good_target(n, req, chosen, t)
                && !forbidden.contains(&n.location)
                && placed.iter().filter(|r| **r == n.location).count() < max_per_rack
        };
        let take = |n: &DatanodeDescriptor, chosen: &mut Vec<String>, placed: &mut Vec<String>| {
            chosen.push(n.uuid().to_string());
            placed.push(n.location.clone());
        };
        let typed = |chosen: Vec<String>, types: &[Option<i32>]| {
            chosen
                .into_iter()
                .enumerate()
                .map(|(i, u)| (u, type_at(types, i)))
                .collect::<Vec<_>>()
        };
        // Favored nodes first, in the client's order.
        for f in req.favored {
            if chosen.len() >= wanted {
                return typed(chosen, &types);
            }
            if let Some(n) = live.iter().find(|n| n.uuid() == f) {
                if ok(n, &chosen, &placed, type_at(&types, chosen.len())) {
                    take(n, &mut chosen, &mut placed);
                }
            }
        }
        while chosen.len() < wanted {
            let t = type_at(&types, chosen.len());
            let ok = |n: &DatanodeDescriptor, chosen: &[String], placed: &[String]| {
                ok(n, chosen, placed, t)
            };
            let pick = match placed.len() {
                // The writer's own DataNode, else any.
                0 => req
                    .writer
                    .and_then(|w| {
                        live.iter()
                            .find(|n| n.ip() == Some(w) && ok(n, &chosen, &placed))
                            .copied()
                    })
                    .or_else(|| self.random(live, |n| ok(n, &chosen, &placed))),
                // Another rack than the first replica's, else its own rack.
                1 => {
                    let r0 = placed[0].clone();
                    self.random(live, |n| ok(n, &chosen, &placed) && n.location != r0)
                        .or_else(|| self.random(live, |n| ok(n, &chosen, &placed)))
                }
                // Two on one rack: a third on another; else beside the second.
                2 => {
                    let (r0, r1) = (placed[0].clone(), placed[1].clone());
                    if r0 == r1 {
                        self.random(live, |n| ok(n, &chosen, &placed) && n.location != r0)
                    } else {
                        self.random(live, |n| ok(n, &chosen, &placed) && n.location == r1)
                    }
                    .or_else(|| self.random(live, |n| ok(n, &chosen, &placed)))
                }
                _ => self.random(live, |n| ok(n, &chosen, &placed)),
            };
            match (pick, t) {
                (Some(n), _) => take(n, &mut chosen, &mut placed),
                // No good node offers this type: its fallback for this and the later
                // targets that wanted it, as long as the policy has one left.
                (None, Some(t)) => {
                    unavailable.push(t);
                    let Some(f) = req
                        .fallbacks
                        .iter()
                        .copied()
                        .find(|f| !unavailable.contains(f))
                    else {
                        break;
                    };
                    for x in types.iter_mut().skip(chosen.len()) {
                        if *x == Some(t) {
                            *x = Some(f);
                        }
                    }
                }
                (None, None) => break,
            }
        }
        typed(chosen, &types)
    }

    fn sort_by_distance(&self, reader: Reader, nodes: &mut Vec<&DatanodeDescriptor>, seed: u64) {
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
        // Hadoop's chooseReplicasToDelete: only racks with more than one replica give
        // one up while any has (so no rack loses its last replica), the rack with the
        // most replicas first, and on it the node with the least space left.
        let mut left: Vec<&DatanodeDescriptor> = holders.to_vec();
        let mut out = Vec::new();
        while out.len() < n && !left.is_empty() {
            let mut per_rack: BTreeMap<&str, usize> = BTreeMap::new();
            for d in &left {
                *per_rack.entry(d.location.as_str()).or_default() += 1;
            }
            let i = (0..left.len())
                .min_by(|&a, &b| {
                    let (x, y) = (left[a], left[b]);
                    per_rack[y.location.as_str()]
                        .cmp(&per_rack[x.location.as_str()])
                        .then(x.remaining().cmp(&y.remaining()))
                        .then(x.uuid().cmp(y.uuid()))
                })
                .expect("left is not empty");
            out.push(left.remove(i).uuid().to_string());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::datanodes::StorageStats;
    use super::*;
    use hafs_proto::hdfs as pb;
    use std::collections::HashMap;
    use std::time::Instant;

    fn node_on(i: u8, remaining: u64, rack: &str) -> DatanodeDescriptor {
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
        d.location = rack.to_string();
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

    /// A node whose one storage is of `storage_type` (StorageTypeProto number).
    fn typed_node(i: u8, storage_type: i32) -> DatanodeDescriptor {
        let mut d = node(i, 1 << 30);
        for s in d.storages.values_mut() {
            s.storage_type = storage_type;
        }
        d
    }

    #[test]
    fn targets_follow_the_storage_types_with_fallbacks() {
        use super::super::storage_policy::{by_name, ARCHIVE, DISK, SSD};
        // dn1..dn3 DISK, dn4 and dn5 SSD, dn6 ARCHIVE.
        let nodes: Vec<DatanodeDescriptor> = [DISK, DISK, DISK, SSD, SSD, ARCHIVE]
            .iter()
            .enumerate()
            .map(|(i, t)| typed_node(i as u8 + 1, *t))
            .collect();
        let live: Vec<&DatanodeDescriptor> = nodes.iter().collect();
        let none = HashSet::new();
        let type_of = |u: &str| {
            let n = nodes.iter().find(|n| n.uuid() == u).unwrap();
            n.storages.values().next().unwrap().storage_type
        };
        let p = DefaultPlacement::with_seed(7);
        for _ in 0..20 {
            let one_ssd = by_name("ONE_SSD").unwrap();
            let types = one_ssd.choose_storage_types(3);
            let mut r = req(3, None, &none, &[]);
            r.storage_types = &types;
            r.fallbacks = one_ssd.creation_fallbacks;
            let t = p.choose_typed_targets(&live, &r);
            let got: Vec<i32> = t.iter().map(|(u, _)| type_of(u)).collect();
            assert_eq!(got, [SSD, DISK, DISK], "{t:?}");
            assert!(t.iter().all(|(u, ty)| Some(type_of(u)) == *ty));
            // ALL_SSD wants three SSD nodes, the cluster has two: the third falls back
            // to DISK.
            let all_ssd = by_name("ALL_SSD").unwrap();
            let types = all_ssd.choose_storage_types(3);
            r.storage_types = &types;
            r.fallbacks = all_ssd.creation_fallbacks;
            let got: Vec<i32> = p
                .choose_typed_targets(&live, &r)
                .iter()
                .map(|(u, _)| type_of(u))
                .collect();
            assert_eq!(got, [SSD, SSD, DISK]);
            // COLD has no fallback: one ARCHIVE node, one target.
            let cold = by_name("COLD").unwrap();
            let types = cold.choose_storage_types(3);
            r.storage_types = &types;
            r.fallbacks = cold.creation_fallbacks;
            let t = p.choose_typed_targets(&live, &r);
            assert_eq!(t, [("uuid-6".to_string(), Some(ARCHIVE))]);
        }
    }

    fn node(i: u8, remaining: u64) -> DatanodeDescriptor {
        node_on(i, remaining, "/default-rack")
    }

    fn req<'a>(
        num: usize,
        writer: Option<&str>,
        excluded: &'a HashSet<String>,
        existing: &'a [String],
    ) -> PlacementRequest<'a> {
        PlacementRequest {
            num,
            writer: writer.map(|w| w.parse().unwrap()),
            excluded,
            favored: &[],
            block_size: 1 << 20,
            existing,
            new_rack_only: false,
            storage_types: &[],
            fallbacks: &[],
        }
    }

    /// dn1..dn3 on /rack1, dn4..dn6 on /rack2.
    fn two_racks() -> Vec<DatanodeDescriptor> {
        (1..=6)
            .map(|i| node_on(i, 1 << 30, if i <= 3 { "/rack1" } else { "/rack2" }))
            .collect()
    }

    fn rack_of<'a>(nodes: &'a [DatanodeDescriptor], uuid: &str) -> &'a str {
        &nodes.iter().find(|n| n.uuid() == uuid).unwrap().location
    }

    #[test]
    fn writer_local_first_then_distinct_with_space() {
        let nodes: Vec<DatanodeDescriptor> = (1..=5)
            .map(|i| node(i, if i == 4 { 10 } else { 1 << 30 }))
            .collect();
        let live: Vec<&DatanodeDescriptor> = nodes.iter().collect();
        let p = DefaultPlacement::with_seed(7);
        let excluded = HashSet::from(["uuid-2".to_string()]);
        for _ in 0..50 {
            let t = p.choose_targets(&live, &req(3, Some("10.0.0.3"), &excluded, &[]));
            assert_eq!(t.len(), 3, "{t:?}");
            assert_eq!(t[0], "uuid-3");
            let set: HashSet<&String> = t.iter().collect();
            assert_eq!(set.len(), 3);
            assert!(!t.contains(&"uuid-2".to_string()), "excluded node chosen");
            assert!(!t.contains(&"uuid-4".to_string()), "full node chosen");
        }
        // Asking for more than exist gives what exists.
        let none = HashSet::new();
        assert_eq!(p.choose_targets(&live, &req(10, None, &none, &[])).len(), 4);
    }

    #[test]
    fn favored_nodes_lead() {
        let nodes: Vec<DatanodeDescriptor> = (1..=4).map(|i| node(i, 1 << 30)).collect();
        let live: Vec<&DatanodeDescriptor> = nodes.iter().collect();
        let p = DefaultPlacement::with_seed(3);
        let none = HashSet::new();
        let favored = vec!["uuid-4".to_string(), "uuid-2".to_string()];
        let mut r = req(3, Some("10.0.0.1"), &none, &[]);
        r.favored = &favored;
        let t = p.choose_targets(&live, &r);
        assert_eq!(&t[..2], &["uuid-4".to_string(), "uuid-2".to_string()]);
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn three_replicas_go_local_then_remote_rack_twice() {
        let nodes = two_racks();
        let live: Vec<&DatanodeDescriptor> = nodes.iter().collect();
        let none = HashSet::new();
        for seed in 0..200 {
            let p = DefaultPlacement::with_seed(seed);
            // A writer on dn2 (/rack1): dn2, then two nodes of /rack2.
            let t = p.choose_targets(&live, &req(3, Some("10.0.0.2"), &none, &[]));
            assert_eq!(t[0], "uuid-2");
            assert_eq!(rack_of(&nodes, &t[1]), "/rack2", "{t:?}");
            assert_eq!(rack_of(&nodes, &t[2]), "/rack2", "{t:?}");
            // A writer off the cluster: any first node, then the other rack twice.
            let t = p.choose_targets(&live, &req(3, Some("192.168.1.1"), &none, &[]));
            let r0 = rack_of(&nodes, &t[0]);
            assert_ne!(rack_of(&nodes, &t[1]), r0, "{t:?}");
            assert_eq!(rack_of(&nodes, &t[2]), rack_of(&nodes, &t[1]), "{t:?}");
            // Two replicas: two racks.
            let t = p.choose_targets(&live, &req(2, None, &none, &[]));
            assert_ne!(rack_of(&nodes, &t[0]), rack_of(&nodes, &t[1]), "{t:?}");
        }
    }

    #[test]
    fn more_replicas_respect_the_per_rack_limit() {
        assert_eq!(max_nodes_per_rack(3, 2), 2);
        assert_eq!(max_nodes_per_rack(6, 2), 4);
        assert_eq!(max_nodes_per_rack(3, 1), 3);
        assert_eq!(max_nodes_per_rack(2, 2), 1);
        let nodes = two_racks();
        let live: Vec<&DatanodeDescriptor> = nodes.iter().collect();
        let none = HashSet::new();
        for seed in 0..100 {
            let t = DefaultPlacement::with_seed(seed)
                .choose_targets(&live, &req(5, Some("10.0.0.1"), &none, &[]));
            assert_eq!(t.len(), 5);
            let mut per: HashMap<&str, usize> = HashMap::new();
            for u in &t {
                *per.entry(rack_of(&nodes, u)).or_default() += 1;
            }
            assert!(per.values().all(|&c| c <= 3), "{per:?}");
        }
    }

    #[test]
    fn re_replication_and_repair_go_to_another_rack() {
        let nodes = two_racks();
        let live: Vec<&DatanodeDescriptor> = nodes.iter().collect();
        let none = HashSet::new();
        for seed in 0..100 {
            let p = DefaultPlacement::with_seed(seed);
            // One replica left on /rack1: the next goes to /rack2.
            let existing = vec!["uuid-1".to_string()];
            let t = p.choose_targets(&live, &req(2, None, &none, &existing));
            assert_eq!(rack_of(&nodes, &t[0]), "/rack2", "{t:?}");
            assert!(!t.contains(&"uuid-1".to_string()));
            // All three on /rack1 (the rack was away): the repair copy must leave it.
            let existing: Vec<String> = (1..=3).map(|i| format!("uuid-{i}")).collect();
            let mut r = req(1, None, &none, &existing);
            r.new_rack_only = true;
            let t = p.choose_targets(&live, &r);
            assert_eq!(t.len(), 1);
            assert_eq!(rack_of(&nodes, &t[0]), "/rack2", "{t:?}");
        }
        // With only one rack alive, a repair has nowhere to go.
        let rack1: Vec<&DatanodeDescriptor> = nodes.iter().take(3).collect();
        let existing = vec!["uuid-1".to_string(), "uuid-2".to_string()];
        let mut r = req(1, None, &none, &existing);
        r.new_rack_only = true;
        assert!(DefaultPlacement::with_seed(1)
            .choose_targets(&rack1, &r)
            .is_empty());
        // But plain re-replication on one rack still works.
        let t =
            DefaultPlacement::with_seed(1).choose_targets(&rack1, &req(1, None, &none, &existing));
        assert_eq!(t, vec!["uuid-3".to_string()]);
    }

    #[test]
    fn placement_status_like_hadoop() {
        assert_eq!(
            missing_racks(1, 3, 1),
            0,
            "a one-rack cluster is never mis-replicated"
        );
        assert_eq!(missing_racks(1, 3, 2), 1);
        assert_eq!(missing_racks(2, 3, 2), 0);
        assert_eq!(missing_racks(1, 1, 2), 0, "one replica needs one rack");
        assert_eq!(missing_racks(1, 2, 3), 1);
    }

    #[test]
    fn sort_puts_local_then_rack_then_rest() {
        let nodes = two_racks();
        let p = DefaultPlacement::with_seed(11);
        for seed in 0..20 {
            let mut v: Vec<&DatanodeDescriptor> = vec![&nodes[4], &nodes[0], &nodes[2], &nodes[1]];
            let reader = Reader {
                ip: Some("10.0.0.2".parse().unwrap()),
                rack: Some("/rack1"),
            };
            p.sort_by_distance(reader, &mut v, seed);
            assert_eq!(v[0].uuid(), "uuid-2");
            assert_eq!(v[1].location, "/rack1");
            assert_eq!(v[2].location, "/rack1");
            assert_eq!(v[3].uuid(), "uuid-5");
        }
        // Equal distances are shuffled: both orders of two same-rack nodes appear.
        let mut firsts = HashSet::new();
        for seed in 0..50 {
            let mut v: Vec<&DatanodeDescriptor> = vec![&nodes[0], &nodes[1]];
            p.sort_by_distance(Reader::default(), &mut v, seed);
            firsts.insert(v[0].uuid().to_string());
        }
        assert_eq!(firsts.len(), 2);
    }

    #[test]
    fn excess_leaves_the_crowded_rack_first() {
        // Without racks: the node with the least space left.
        let flat: Vec<DatanodeDescriptor> = (1..=3).map(|i| node(i, 100 * i as u64)).collect();
        let p = DefaultPlacement::with_seed(5);
        let v: Vec<&DatanodeDescriptor> = flat.iter().collect();
        assert_eq!(p.choose_excess(&v, 1), vec!["uuid-1".to_string()]);
        // Three on /rack1 plus two back on /rack2, replication 3: two deletions, both
        // from /rack1 (the most crowded), least space first.
        let mut nodes = two_racks();
        for (i, n) in nodes.iter_mut().enumerate() {
            n.storages
                .values_mut()
                .for_each(|s| s.remaining = 1000 + i as u64);
        }
        let holders: Vec<&DatanodeDescriptor> =
            vec![&nodes[0], &nodes[1], &nodes[2], &nodes[3], &nodes[4]];
        assert_eq!(
            p.choose_excess(&holders, 2),
            vec!["uuid-1".to_string(), "uuid-2".to_string()]
        );
        // Never the last replica of a rack while another rack has two.
        let holders: Vec<&DatanodeDescriptor> = vec![&nodes[5], &nodes[0], &nodes[1]];
        assert_eq!(p.choose_excess(&holders, 1), vec!["uuid-1".to_string()]);
    }
}
