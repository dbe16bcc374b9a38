//! Decommissioning in the BlockManager, without IPC: an excluded DataNode's blocks are
//! copied from it (it is the preferred source) to in-service nodes only, it stays in
//! progress while a block lacks live replicas elsewhere or its file is open, then is
//! decommissioned; its replicas are listed last; recommissioning makes the copies
//! excess; a node dropped from a non-empty include list is refused. Maintenance: a
//! node entering it waits only for `dfs.namenode.maintenance.replication.min` live
//! replicas elsewhere, is then in maintenance, may die without its blocks being
//! re-replicated, and at expiry is back in service — or, still dead, loses its
//! replicas, which are re-replicated. The monitor honours its tracked-node cap.

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::Duration;

use hafs_namenode::blockmanagement::host_file::{HostLists, HostSet};
use hafs_namenode::blockmanagement::{
    Block, BlockManager, BlockManagerConfig, BlockManagerError, DatanodeReportKind,
};
use hafs_proto::hdfs as pb;
use hafs_proto::hdfs::datanode as dpb;

mod block_fixtures;
use block_fixtures::{identity, reg, BPID};

const DECOMMISSION_INPROGRESS: i32 = 1;
const DECOMMISSIONED: i32 = 2;

fn bm() -> BlockManager {
    BlockManager::new(BlockManagerConfig::default(), identity())
}

/// `bm` out of safe mode with DataNodes dn1..=dn`nodes` registered and heartbeating.
fn serving(bm: BlockManager, nodes: u8) -> BlockManager {
    bm.leave_safe_mode();
    for n in 1..=nodes {
        join(&bm, n);
    }
    bm
}

fn ip(n: u8) -> IpAddr {
    format!("10.0.0.{n}").parse().unwrap()
}

#[allow(deprecated)]
fn heartbeat(n: u8) -> dpb::HeartbeatRequestProto {
    dpb::HeartbeatRequestProto {
        registration: reg(n),
        reports: vec![pb::StorageReportProto {
            storage_uuid: format!("DS-{n}"),
            capacity: Some(1 << 40),
            remaining: Some(1 << 39),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn join(bm: &BlockManager, n: u8) {
    bm.register_datanode(&reg(n), Some(ip(n))).unwrap();
    bm.handle_heartbeat(&heartbeat(n), true);
}

fn received(bm: &BlockManager, n: u8, b: Block) {
    reported(
        bm,
        n,
        b,
        dpb::received_deleted_block_info_proto::BlockStatus::Received,
    );
}

/// DataNode `n` tells the NameNode that it is receiving `b` (a pipeline's replica).
fn receiving(bm: &BlockManager, n: u8, b: Block) {
    reported(
        bm,
        n,
        b,
        dpb::received_deleted_block_info_proto::BlockStatus::Receiving,
    );
}

#[allow(deprecated)] // the old field, as blocks_manager.rs sets it
fn reported(
    bm: &BlockManager,
    n: u8,
    b: Block,
    status: dpb::received_deleted_block_info_proto::BlockStatus,
) {
    let req = dpb::BlockReceivedAndDeletedRequestProto {
        registration: reg(n),
        block_pool_id: BPID.into(),
        blocks: vec![dpb::StorageReceivedDeletedBlocksProto {
            storage_uuid: format!("DS-{n}"),
            blocks: vec![dpb::ReceivedDeletedBlockInfoProto {
                block: pb::BlockProto {
                    block_id: b.id,
                    gen_stamp: b.gen_stamp,
                    num_bytes: Some(b.num_bytes),
                },
                status: status as i32,
                delete_hint: None,
            }],
            storage: None,
        }],
    };
    bm.process_incremental_block_report(&req).unwrap();
}

/// The transfers the heartbeat of DataNode `n` brings: (block id, target IPs).
fn transfers(bm: &BlockManager, n: u8) -> Vec<(u64, Vec<String>)> {
    let mut out = Vec::new();
    for c in bm.handle_heartbeat(&heartbeat(n), true) {
        let Some(k) = c.blk_cmd else { continue };
        if k.action != dpb::block_command_proto::Action::Transfer as i32 {
            continue;
        }
        for (b, t) in k.blocks.iter().zip(k.targets.iter()) {
            let ips = t.datanodes.iter().map(|d| d.id.ip_addr.clone()).collect();
            out.push((b.block_id, ips));
        }
    }
    out
}

fn invalidations(bm: &BlockManager, n: u8) -> usize {
    bm.handle_heartbeat(&heartbeat(n), true)
        .iter()
        .filter_map(|c| c.blk_cmd.as_ref())
        .filter(|k| k.action == dpb::block_command_proto::Action::Invalidate as i32)
        .map(|k| k.blocks.len())
        .sum()
}

fn state_of(bm: &BlockManager, n: u8) -> i32 {
    bm.datanode_report(DatanodeReportKind::All)
        .into_iter()
        .find(|d| d.id.ip_addr == format!("10.0.0.{n}"))
        .and_then(|d| d.admin_state)
        .unwrap_or(0)
}

fn exclude(n: &[u8]) -> HostLists {
    HostLists {
        exclude: HostSet::of(n.iter().map(|n| (ip(*n), None))),
        ..HostLists::default()
    }
}

/// Lists that put node `n` into maintenance until `expire_ms`.
fn maintenance(n: u8, expire_ms: u64) -> HostLists {
    HostLists {
        maintenance: [((ip(n), None), expire_ms)].into(),
        ..HostLists::default()
    }
}

fn blk(id: u64) -> Block {
    Block {
        id,
        gen_stamp: 1000 + id,
        num_bytes: 100,
    }
}

const ENTERING_MAINTENANCE: i32 = 3;
const IN_MAINTENANCE: i32 = 4;

#[test]
fn an_excluded_node_is_emptied_then_decommissioned_and_recommissioned() {
    let bm = serving(bm(), 4);
    // Two closed files of replication 2 on dn1 and dn2; an open one on dn1 and dn3.
    let (a, b, open) = (
        Block {
            id: 11,
            gen_stamp: 1001,
            num_bytes: 100,
        },
        Block {
            id: 12,
            gen_stamp: 1002,
            num_bytes: 200,
        },
        Block {
            id: 13,
            gen_stamp: 1003,
            num_bytes: 300,
        },
    );
    bm.add_block_collection(16386, 2, &[a], false);
    bm.add_block_collection(16387, 2, &[b], false);
    bm.add_block_collection(16388, 2, &[open], false);
    // A file of replication 1 being written through dn1 alone.
    let writing = Block {
        id: 14,
        gen_stamp: 1004,
        num_bytes: 50,
    };
    bm.add_block_collection(16389, 1, &[writing], true);
    receiving(&bm, 1, writing);
    for blk in [a, b] {
        received(&bm, 1, blk);
        received(&bm, 2, blk);
    }
    received(&bm, 1, open);
    received(&bm, 3, open);
    let open_blocks: HashSet<u64> = [13, 14].into();

    bm.refresh_nodes(exclude(&[1]));
    assert_eq!(state_of(&bm, 1), DECOMMISSION_INPROGRESS);
    assert_eq!(
        bm.datanode_report(DatanodeReportKind::Decommissioning)
            .len(),
        1
    );
    assert_eq!(bm.fs_stats().decommissioning_live, 1);
    // Its replicas no longer count: every block lacks one live replica.
    assert_eq!(bm.live_replicas(11), 1);
    // Reads list the leaving node last.
    let lb = bm.located_block(a, 0, Some(ip(1)));
    assert_eq!(
        lb.locs.last().unwrap().id.ip_addr,
        "10.0.0.1",
        "{:?}",
        lb.locs
    );

    // The monitor copies from the leaving node (preferred source), never to it.
    bm.tick(bm.now(), true);
    let from_leaving = transfers(&bm, 1);
    let mut copied: Vec<u64> = from_leaving.iter().map(|(id, _)| *id).collect();
    copied.sort();
    assert_eq!(copied, [11, 12, 13], "{from_leaving:?}");
    for (id, targets) in &from_leaving {
        assert_eq!(targets.len(), 1);
        assert_ne!(
            targets[0], "10.0.0.1",
            "blk_{id} copied to the leaving node"
        );
    }
    bm.check_decommissioning(&open_blocks);
    assert_eq!(
        state_of(&bm, 1),
        DECOMMISSION_INPROGRESS,
        "nothing copied yet"
    );
    for (id, targets) in &from_leaving {
        let n: u8 = targets[0].rsplit('.').next().unwrap().parse().unwrap();
        let blk = [a, b, open].into_iter().find(|x| x.id == *id).unwrap();
        received(&bm, n, blk);
    }
    assert_eq!(bm.live_replicas(11), 2);
    // Every complete block is replicated elsewhere (the open file's too: a complete
    // block of an open file is judged as any other, Hadoop's isSufficient), but the
    // block being written has no holder besides dn1.
    bm.check_decommissioning(&open_blocks);
    assert_eq!(
        state_of(&bm, 1),
        DECOMMISSION_INPROGRESS,
        "the block being written through it alone holds it"
    );
    assert!(bm.blocks_decommissioning(&[writing.id]));
    assert!(!bm.blocks_decommissioning(&[open.id]));
    // Another in-service node holds the block being written (dfs.namenode.replication.min
    // = 1): the writer can carry on without dn1.
    receiving(&bm, 3, writing);
    bm.check_decommissioning(&open_blocks);
    assert_eq!(state_of(&bm, 1), DECOMMISSIONED);
    assert_eq!(bm.fs_stats().decommissioned_live, 1);
    assert!(bm
        .datanode_report(DatanodeReportKind::Decommissioning)
        .is_empty());
    // Its replicas were not deleted as excess: they stay, uncounted.
    assert_eq!(invalidations(&bm, 1), 0);

    // Recommission: its replicas count again and one replica of each block is excess.
    bm.refresh_nodes(HostLists::default());
    assert_eq!(state_of(&bm, 1), 0);
    let deleted: usize = (1..=4).map(|n| invalidations(&bm, n)).sum();
    assert_eq!(deleted, 3, "one excess replica of each of the three blocks");
    bm.check_replica_index().unwrap();
}

#[test]
fn placement_skips_leaving_nodes() {
    let bm = serving(bm(), 3);
    bm.refresh_nodes(exclude(&[2]));
    for i in 0..20 {
        let targets = bm.choose_targets("/f", 3, None, &[], &[], 1024, 0);
        let ips: Vec<&str> = targets.iter().map(|t| t.info.id.ip_addr.as_str()).collect();
        assert!(!ips.contains(&"10.0.0.2"), "round {i}: {ips:?}");
        assert_eq!(ips.len(), 2, "round {i}: {ips:?}");
    }
}

#[test]
fn a_node_missing_from_the_include_list_is_refused() {
    let bm = bm();
    bm.leave_safe_mode();
    join(&bm, 1);
    join(&bm, 2);
    let lists = HostLists {
        include: HostSet::of([(ip(1), Some(9866))]),
        ..HostLists::default()
    };
    bm.refresh_nodes(lists);
    // dn2 is registered: its next heartbeat is refused and it is dead.
    let err = bm.check_heartbeat_allowed("dn-2").unwrap_err();
    assert!(matches!(err, BlockManagerError::Disallowed(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("because the host is not in the include-list"),
        "{err}"
    );
    assert_eq!(bm.num_live_datanodes(), 1);
    bm.check_heartbeat_allowed("dn-1").unwrap();
    // And it cannot register again.
    let err = bm.register_datanode(&reg(2), Some(ip(2))).unwrap_err();
    assert!(matches!(err, BlockManagerError::Disallowed(_)), "{err:?}");
    // A new node on the listed address and port may.
    bm.register_datanode(&reg(1), Some(ip(1))).unwrap();
}

#[test]
fn maintenance_holds_replicas_of_a_stopped_node_until_it_ends() {
    let clock = std::sync::Arc::new(hafs_util::clock::ManualClock::new());
    let cfg = BlockManagerConfig::default();
    let dead_after = cfg.dead_node_interval() + Duration::from_millis(1);
    let bm = serving(
        BlockManager::new(cfg, identity()).with_clock(clock.clone()),
        4,
    );
    // Three files of replication 2 on dn1 and dn2; one of replication 1 on dn1 only.
    for id in 11..=13 {
        bm.add_block_collection(16375 + id, 2, &[blk(id)], false);
        received(&bm, 1, blk(id));
        received(&bm, 2, blk(id));
    }
    bm.add_block_collection(16400, 1, &[blk(14)], false);
    received(&bm, 1, blk(14));

    let expire = now_ms() + 3_600_000;
    bm.refresh_nodes(maintenance(1, expire));
    assert_eq!(state_of(&bm, 1), ENTERING_MAINTENANCE);
    assert_eq!(bm.fs_stats().entering_maintenance, 1);
    assert_eq!(
        bm.datanode_report(DatanodeReportKind::EnteringMaintenance)
            .len(),
        1
    );
    // Blocks with a live replica elsewhere need no copy (maintenance.replication.min
    // is 1); the replication-1 block does, and it holds the node meanwhile.
    bm.tick(bm.now(), true);
    let copies = transfers(&bm, 1);
    assert_eq!(
        copies.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [14],
        "{copies:?}"
    );
    // Any in-service node may get the copy (placement is random among them), never
    // the node entering maintenance.
    assert_ne!(copies[0].1[0], "10.0.0.1", "{copies:?}");
    bm.check_admin_states(&HashSet::new(), now_ms());
    assert_eq!(state_of(&bm, 1), ENTERING_MAINTENANCE, "blk_14 holds it");
    let target: u8 = copies[0].1[0].rsplit('.').next().unwrap().parse().unwrap();
    received(&bm, target, blk(14));
    bm.check_admin_states(&HashSet::new(), now_ms());
    assert_eq!(state_of(&bm, 1), IN_MAINTENANCE);
    assert_eq!(bm.fs_stats().in_maintenance_live, 1);
    // Readers are not sent to a node in maintenance; fsck still sees its replica.
    let lb = bm.located_block(blk(11), 0, None);
    assert_eq!(lb.locs.len(), 1);
    assert_eq!(lb.locs[0].id.ip_addr, "10.0.0.2");
    assert_eq!(bm.maintenance_only_locations(11).len(), 1);
    // Nothing new is placed on it.
    for _ in 0..10 {
        let t = bm.choose_targets("/f", 3, None, &[], &[], 1024, 0);
        assert!(t.iter().all(|t| t.info.id.ip_addr != "10.0.0.1"));
    }

    // dn1 is stopped: the others keep heartbeating, dn1 goes dead.
    clock.advance(dead_after);
    for n in 2..=4 {
        bm.handle_heartbeat(&heartbeat(n), true);
    }
    bm.tick(bm.now(), true);
    assert_eq!(bm.num_live_datanodes(), 3);
    assert_eq!(bm.fs_stats().in_maintenance_dead, 1);
    // Its replicas are kept, and nothing is copied for them.
    for id in 11..=13 {
        assert_eq!(bm.replicas(id).len(), 2, "blk_{id}");
    }
    bm.tick(bm.now(), true);
    assert!((2..=4).all(|n| transfers(&bm, n).is_empty()));
    assert_eq!(bm.fs_stats().under_replicated, 0);

    // Maintenance expires while it is still dead: its replicas are gone now and the
    // blocks are copied from dn2.
    bm.check_admin_states(&HashSet::new(), expire);
    assert_eq!(state_of(&bm, 1), 0);
    assert_eq!(bm.fs_stats().in_maintenance_dead, 0);
    for id in 11..=13 {
        assert_eq!(bm.replicas(id).len(), 1, "blk_{id}");
    }
    bm.tick(bm.now(), true);
    let mut copied: Vec<u64> = transfers(&bm, 2).iter().map(|(id, _)| *id).collect();
    copied.sort();
    assert_eq!(copied, [11, 12, 13]);
    bm.check_replica_index().unwrap();
}

#[test]
fn a_node_back_from_maintenance_is_in_service_and_its_replicas_count() {
    let bm = serving(bm(), 3);
    bm.add_block_collection(16386, 2, &[blk(11)], false);
    received(&bm, 1, blk(11));
    received(&bm, 2, blk(11));
    bm.refresh_nodes(maintenance(1, now_ms() + 3_600_000));
    // Unlike decommissioning, maintenance does not wait for the open files of
    // complete blocks (Hadoop's isSufficient): blk_11's file is open.
    bm.check_admin_states(&[11].into(), now_ms());
    assert_eq!(state_of(&bm, 1), IN_MAINTENANCE);
    assert_eq!(bm.live_replicas(11), 1);
    // Dropped from the file and refreshed: Normal at once.
    bm.refresh_nodes(HostLists::default());
    assert_eq!(state_of(&bm, 1), 0);
    assert_eq!(bm.live_replicas(11), 2);
    // A maintenance entry already expired asks nothing.
    bm.refresh_nodes(maintenance(1, now_ms().saturating_sub(1)));
    assert_eq!(state_of(&bm, 1), 0);
    // An expiry is honoured by the monitor at the time it is given.
    let expire = now_ms() + 3_600_000;
    bm.refresh_nodes(maintenance(1, expire));
    bm.check_admin_states(&HashSet::new(), expire - 1);
    assert_eq!(state_of(&bm, 1), IN_MAINTENANCE);
    bm.check_admin_states(&HashSet::new(), expire);
    assert_eq!(state_of(&bm, 1), 0);
    assert_eq!(bm.live_replicas(11), 2);
}

#[test]
fn the_monitor_checks_at_most_the_tracked_node_cap_per_run() {
    let cfg = BlockManagerConfig {
        decommission_max_tracked_nodes: 1,
        ..BlockManagerConfig::default()
    };
    let bm = serving(BlockManager::new(cfg, identity()), 5);
    // Nothing on dn1..dn3: each is done at its first check. (Which goes first
    // depends on the order refreshNodes met them in.)
    bm.refresh_nodes(exclude(&[1, 2, 3]));
    let done = |bm: &BlockManager| {
        (1..=3)
            .filter(|n| state_of(bm, *n) == DECOMMISSIONED)
            .count()
    };
    assert_eq!(done(&bm), 0);
    for run in 1..=3 {
        bm.check_decommissioning(&HashSet::new());
        assert_eq!(done(&bm), run, "one node per run");
    }
}

/// `blocks.per.interval` is spent between nodes: a node holding more blocks than
/// the budget still finishes in one run, and the next node waits for the next run.
#[test]
fn the_blocks_per_interval_budget_is_spent_between_nodes() {
    let cfg = BlockManagerConfig {
        decommission_blocks_per_interval: 2,
        ..BlockManagerConfig::default()
    };
    let bm = serving(BlockManager::new(cfg, identity()), 4);
    // dn1 and dn2 (leaving first, so that their replicas are never excess) hold
    // three blocks each, all with their two replicas on dn3 and dn4.
    bm.refresh_nodes(exclude(&[1, 2]));
    for id in 11..=13 {
        bm.add_block_collection(16375 + id, 2, &[blk(id)], false);
        for n in 1..=4 {
            received(&bm, n, blk(id));
        }
    }
    let done = |bm: &BlockManager| {
        [1, 2]
            .into_iter()
            .filter(|n| state_of(bm, *n) == DECOMMISSIONED)
            .count()
    };
    bm.check_decommissioning(&HashSet::new());
    assert_eq!(done(&bm), 1, "the first node finishes, the second waits");
    bm.check_decommissioning(&HashSet::new());
    assert_eq!(done(&bm), 2);
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[test]
fn only_the_active_concludes_a_decommission() {
    let bm = serving(bm(), 3);
    // Replicated on dn2 and dn3 besides dn1: nothing holds dn1.
    bm.add_block_collection(16386, 2, &[blk(11)], false);
    for n in 1..=3 {
        received(&bm, n, blk(11));
    }
    bm.set_active(false);
    bm.refresh_nodes(exclude(&[1]));
    bm.check_decommissioning(&HashSet::new());
    assert_eq!(
        state_of(&bm, 1),
        DECOMMISSION_INPROGRESS,
        "a Standby tracks the node but does not conclude"
    );
    bm.set_active(true);
    bm.check_decommissioning(&HashSet::new());
    assert_eq!(state_of(&bm, 1), DECOMMISSIONED);
}
