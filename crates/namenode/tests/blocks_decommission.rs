//! Decommissioning in the BlockManager, without IPC: an excluded DataNode's blocks are
//! copied from it (it is the preferred source) to in-service nodes only, it stays in
//! progress while a block lacks live replicas elsewhere or its file is open, then is
//! decommissioned; its replicas are listed last; recommissioning makes the copies
//! excess; a node dropped from a non-empty include list is refused.

use std::collections::HashSet;
use std::net::IpAddr;

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

#[allow(deprecated)] // the old field, as blocks_manager.rs sets it
fn received(bm: &BlockManager, n: u8, b: Block) {
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
                status: dpb::received_deleted_block_info_proto::BlockStatus::Received as i32,
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
        include: HostSet::default(),
        exclude: HostSet::of(n.iter().map(|n| (ip(*n), None))),
    }
}

#[test]
fn an_excluded_node_is_emptied_then_decommissioned_and_recommissioned() {
    let bm = bm();
    bm.leave_safe_mode();
    for n in 1..=4 {
        join(&bm, n);
    }
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
    for blk in [a, b] {
        received(&bm, 1, blk);
        received(&bm, 2, blk);
    }
    received(&bm, 1, open);
    received(&bm, 3, open);
    let open_blocks: HashSet<u64> = [13].into();

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
    // Every block is replicated elsewhere, but a file with a block on it is open.
    bm.check_decommissioning(&open_blocks);
    assert_eq!(
        state_of(&bm, 1),
        DECOMMISSION_INPROGRESS,
        "the open file holds it"
    );
    // The file is closed.
    bm.check_decommissioning(&HashSet::new());
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
    let bm = bm();
    bm.leave_safe_mode();
    for n in 1..=3 {
        join(&bm, n);
    }
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
        exclude: HostSet::default(),
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
