//! The BlockManager's API as the write path uses it, without IPC: startup safe mode
//! thresholds, commit/complete with `dfs.namenode.replication.min`, writer-local
//! placement and location order, block recovery commands.

use std::time::Duration;

use hafs_namenode::blockmanagement::{
    Block, BlockManager, BlockManagerConfig, BlockManagerError, BlockUcState, StorageReport,
};
use hafs_proto::block_list::ReportedReplica;
use hafs_proto::hdfs as pb;
use hafs_proto::hdfs::datanode as dpb;

mod block_fixtures;
use block_fixtures::{identity, reg};

fn bm(cfg: BlockManagerConfig) -> BlockManager {
    BlockManager::new(cfg, identity())
}

#[allow(deprecated)]
fn join(bm: &BlockManager, n: u8) -> dpb::DatanodeRegistrationProto {
    let r = bm
        .register_datanode(&reg(n), Some(format!("10.0.0.{n}").parse().unwrap()))
        .unwrap();
    let hb = dpb::HeartbeatRequestProto {
        registration: r.clone(),
        reports: vec![pb::StorageReportProto {
            storage_uuid: format!("DS-{n}"),
            capacity: Some(1 << 40),
            remaining: Some(1 << 39),
            ..Default::default()
        }],
        ..Default::default()
    };
    bm.handle_heartbeat(&hb, true);
    r
}

fn report(bm: &BlockManager, r: &dpb::DatanodeRegistrationProto, blocks: &[Block]) {
    let reports = vec![StorageReport {
        storage_uuid: format!("DS-{}", &r.datanode_id.datanode_uuid[3..]),
        replicas: blocks
            .iter()
            .map(|b| ReportedReplica {
                block_id: b.id,
                gen_stamp: b.gen_stamp,
                num_bytes: b.num_bytes,
                state: dpb::ReplicaStateProto::Finalized,
            })
            .collect(),
    }];
    bm.process_block_report(r, "BP-1-127.0.0.1-1", &reports)
        .unwrap();
    bm.check_replica_index().expect("after a block report");
}

fn blk(id: u64) -> Block {
    Block {
        id,
        gen_stamp: 1000 + id,
        num_bytes: 10 * id,
    }
}

#[test]
fn safe_mode_waits_for_the_block_threshold_and_datanodes() {
    let cfg = BlockManagerConfig {
        safemode_threshold_pct: 0.75,
        safemode_min_datanodes: 2,
        safemode_extension: Duration::ZERO,
        ..Default::default()
    };
    let bm = bm(cfg);
    let blocks: Vec<Block> = (1..=4).map(blk).collect();
    bm.add_block_collection(16386, 3, &blocks, false);
    let s = bm.safe_mode_status();
    assert!(s.on);
    assert_eq!(
        (s.blocks_safe, s.blocks_total, s.block_threshold),
        (0, 4, 3)
    );
    assert!(
        s.tip().starts_with(
            "The reported blocks 0 needs additional 3 blocks to reach the threshold 0.7500 of total blocks 4.\n"
        ),
        "{}",
        s.tip()
    );
    let r1 = join(&bm, 1);
    report(&bm, &r1, &blocks[..3]);
    let s = bm.safe_mode_status();
    assert!(s.on, "one DataNode of the two required");
    assert_eq!(s.blocks_safe, 3);
    assert!(s
        .tip()
        .contains("The number of live datanodes 1 needs an additional 1 live datanodes"));
    let r2 = join(&bm, 2);
    report(&bm, &r2, &[]);
    assert!(!bm.safe_mode_status().on);
    // Once left, it stays left.
    report(&bm, &r1, &[]);
    assert!(!bm.safe_mode_status().on);
}

/// A Standby leaves startup safe mode once its block reports suffice, as Hadoop's does,
/// so that a failover to it serves writes at once instead of after the extension.
#[test]
fn a_standby_leaves_startup_safe_mode_on_its_own() {
    let cfg = BlockManagerConfig {
        safemode_extension: Duration::ZERO,
        ..Default::default()
    };
    let bm = bm(cfg);
    bm.set_active(false);
    // No blocks known yet (none tailed): a Standby stays in safe mode.
    let r1 = join(&bm, 1);
    report(&bm, &r1, &[]);
    assert!(bm.safe_mode_status().on, "left before knowing any block");
    let blocks: Vec<Block> = (1..=2).map(blk).collect();
    bm.add_block_collection(16386, 1, &blocks, false);
    assert!(bm.safe_mode_status().on);
    report(&bm, &r1, &blocks);
    assert!(!bm.safe_mode_status().on, "still in safe mode as a Standby");
    bm.set_active(true);
    assert!(!bm.safe_mode_status().on);
}

#[test]
fn safe_mode_leave_by_operator_and_empty_namespace() {
    let bm1 = bm(BlockManagerConfig::default());
    assert!(!bm1.safe_mode_status().on, "no blocks: nothing to wait for");
    let bm2 = bm(BlockManagerConfig::default());
    bm2.add_block_collection(16386, 1, &[blk(1)], false);
    assert!(bm2.safe_mode_status().on);
    bm2.leave_safe_mode();
    assert!(!bm2.safe_mode_status().on);
}

#[test]
fn commit_completes_with_min_replication_and_flags_disagreeing_replicas() {
    let bm = bm(BlockManagerConfig {
        min_replication: 2,
        ..Default::default()
    });
    bm.leave_safe_mode();
    let regs: Vec<_> = (1..=3).map(|n| join(&bm, n)).collect();
    let targets = bm
        .choose_targets_for_new_block("/f", 3, None, &[], &[], 1 << 20, 0)
        .unwrap();
    assert_eq!(targets.len(), 3);
    let b = Block {
        id: 5,
        gen_stamp: 1001,
        num_bytes: 0,
    };
    bm.add_block_under_construction(16386, b, 3, &targets);
    assert_eq!(bm.block_state(5), Some(BlockUcState::UnderConstruction));
    // While being written, readers see the pipeline.
    assert_eq!(bm.located_block(b, 0, None).locs.len(), 3);
    let done = Block {
        num_bytes: 300,
        ..b
    };
    report(&bm, &regs[0], &[done]);
    // One finalized replica, min 2: committed but not complete.
    assert!(!bm.commit_block(done));
    assert_eq!(bm.block_state(5), Some(BlockUcState::Committed));
    // A replica with the wrong length is corrupt and does not count.
    report(
        &bm,
        &regs[1],
        &[Block {
            num_bytes: 299,
            ..done
        }],
    );
    assert!(!bm.complete_block_if_ready(5));
    report(&bm, &regs[2], &[done]);
    assert!(bm.complete_block_if_ready(5));
    assert_eq!(bm.block_state(5), Some(BlockUcState::Complete));
    assert_eq!(bm.live_replicas(5), 2);
    assert_eq!(bm.fs_stats().corrupt_blocks, 1);
}

#[test]
fn placement_is_writer_local_and_refuses_with_hadoops_message() {
    let bm = bm(BlockManagerConfig::default());
    for n in 1..=3 {
        join(&bm, n);
    }
    let writer = Some("10.0.0.2".parse().unwrap());
    for _ in 0..20 {
        let t = bm.choose_targets("/f", 2, writer, &[], &[], 1, 0);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].uuid(), "dn-2");
        assert_ne!(t[1].uuid(), "dn-2");
        assert_eq!(t[0].storage_uuid, "DS-2");
    }
    // Excluded by the client (named by address) and favored nodes.
    let excluded = bm
        .datanode_report(hafs_namenode::blockmanagement::DatanodeReportKind::Live)
        .into_iter()
        .filter(|d| d.id.datanode_uuid != "dn-3")
        .collect::<Vec<_>>();
    let t = bm.choose_targets("/f", 3, writer, &excluded, &[], 1, 0);
    assert_eq!(t.iter().map(|t| t.uuid()).collect::<Vec<_>>(), vec!["dn-3"]);
    let t = bm.choose_targets("/f", 1, writer, &[], &["10.0.0.3:9866".to_string()], 1, 0);
    assert_eq!(t[0].uuid(), "dn-3");
    let all = bm.datanode_report(hafs_namenode::blockmanagement::DatanodeReportKind::All);
    let err = bm
        .choose_targets_for_new_block("/f", 3, None, &all, &[], 1, 0)
        .unwrap_err();
    assert!(matches!(err, BlockManagerError::NotEnoughTargets { .. }));
    assert_eq!(
        err.to_string(),
        "File /f could only be written to 0 of the 1 minReplication nodes. \
         There are 3 datanode(s) running and 3 node(s) are excluded in this operation."
    );
}

#[test]
fn locations_are_sorted_nearest_first() {
    let bm = bm(BlockManagerConfig::default());
    bm.leave_safe_mode();
    let regs: Vec<_> = (1..=3).map(|n| join(&bm, n)).collect();
    bm.add_block_collection(16386, 3, &[blk(1)], false);
    for r in &regs {
        report(&bm, r, &[blk(1)]);
    }
    for n in 1..=3u8 {
        let lb = bm.located_block(blk(1), 0, Some(format!("10.0.0.{n}").parse().unwrap()));
        assert_eq!(lb.locs.len(), 3);
        assert_eq!(lb.locs[0].id.datanode_uuid, format!("dn-{n}"));
        assert_eq!(lb.storage_i_ds[0], format!("DS-{n}"));
        assert_eq!(lb.b.pool_id, "BP-1-127.0.0.1-1");
        assert!(!lb.corrupt);
    }
}

#[test]
fn block_recovery_goes_to_a_live_holder() {
    let bm = bm(BlockManagerConfig::default());
    bm.leave_safe_mode();
    let regs: Vec<_> = (1..=2).map(|n| join(&bm, n)).collect();
    let targets = bm.choose_targets("/f", 2, None, &[], &[], 1, 0);
    let b = blk(3);
    bm.add_block_under_construction(16386, b, 2, &targets);
    bm.start_block_recovery(b, 2000, None).unwrap();
    assert_eq!(bm.block_state(3), Some(BlockUcState::UnderRecovery));
    let mut found = 0;
    for r in &regs {
        let hb = dpb::HeartbeatRequestProto {
            registration: r.clone(),
            ..Default::default()
        };
        for c in bm.handle_heartbeat(&hb, true) {
            if let Some(rc) = c.recovery_cmd {
                assert_eq!(rc.blocks[0].new_gen_stamp, 2000);
                assert_eq!(rc.blocks[0].block.locs.len(), 2);
                found += 1;
            }
        }
    }
    assert_eq!(found, 1, "exactly one primary");
    bm.commit_block_synchronization(
        Block {
            id: 3,
            gen_stamp: 2000,
            num_bytes: 77,
        },
        &["dn-1".into(), "dn-2".into()],
        false,
    );
    assert_eq!(bm.block_state(3), Some(BlockUcState::Complete));
    // A Standby's heartbeat replies carry no commands.
    bm.add_block_under_construction(16386, blk(4), 2, &targets);
    bm.start_block_recovery(blk(4), 2001, None).unwrap();
    let hb = dpb::HeartbeatRequestProto {
        registration: regs[0].clone(),
        ..Default::default()
    };
    assert!(bm.handle_heartbeat(&hb, false).is_empty());
}

#[allow(deprecated)]
fn received(bm: &BlockManager, r: &dpb::DatanodeRegistrationProto, b: Block) {
    let req = dpb::BlockReceivedAndDeletedRequestProto {
        registration: r.clone(),
        block_pool_id: "BP-1-127.0.0.1-1".into(),
        blocks: vec![dpb::StorageReceivedDeletedBlocksProto {
            storage_uuid: format!("DS-{}", &r.datanode_id.datanode_uuid[3..]),
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
    bm.check_replica_index()
        .expect("after an incremental report");
}

/// An append at the block's current generation stamp (what hdfs-native does): the
/// replicas grow, are reported again, and the block completes at its new length.
#[test]
fn append_at_the_same_generation_stamp_completes() {
    let bm = bm(BlockManagerConfig::default());
    bm.leave_safe_mode();
    let regs: Vec<_> = (1..=3).map(|n| join(&bm, n)).collect();
    let b = Block {
        id: 9,
        gen_stamp: 1001,
        num_bytes: 300,
    };
    bm.add_block_collection(16386, 3, &[b], false);
    for r in &regs {
        received(&bm, r, b);
    }
    assert_eq!(bm.live_replicas(9), 3);
    // append: the last block is under construction again, same stamp.
    bm.add_block_collection(16386, 3, &[b], true);
    let grown = Block {
        num_bytes: 1300,
        ..b
    };
    for r in &regs {
        received(&bm, r, grown);
    }
    assert!(
        bm.commit_block(grown),
        "all three replicas have the new length"
    );
    assert_eq!(bm.block_state(9), Some(BlockUcState::Complete));
    assert_eq!(bm.live_replicas(9), 3);
}

/// The same append when the client's complete arrives before the DataNodes re-report
/// the grown replicas: the old reports are not condemned, and the block completes as
/// soon as the new lengths arrive.
#[test]
fn append_completes_when_reports_arrive_after_commit() {
    let bm = bm(BlockManagerConfig::default());
    bm.leave_safe_mode();
    let regs: Vec<_> = (1..=3).map(|n| join(&bm, n)).collect();
    let b = Block {
        id: 11,
        gen_stamp: 1001,
        num_bytes: 300,
    };
    bm.add_block_collection(16386, 3, &[b], false);
    for r in &regs {
        received(&bm, r, b);
    }
    bm.add_block_collection(16386, 3, &[b], true);
    let grown = Block {
        num_bytes: 1300,
        ..b
    };
    assert!(!bm.commit_block(grown), "no replica has the new length yet");
    assert_eq!(bm.live_replicas(11), 0);
    assert_eq!(
        bm.fs_stats().corrupt_blocks,
        0,
        "not condemned for being behind"
    );
    received(&bm, &regs[0], grown);
    assert!(bm.complete_block_if_ready(11));
    for r in &regs[1..] {
        received(&bm, r, grown);
    }
    assert_eq!(bm.live_replicas(11), 3);
}

/// A Standby keeps reports of blocks it has not read about yet, even when a DataNode
/// call that saw the HA state as Active just before a step-down is handled after it:
/// only set_active changes whether the block manager acts as the Active. Once it is
/// Active, the kept reports are applied to blocks the edits then created.
#[test]
fn only_set_active_decides_what_a_standby_does_with_reports_of_unknown_blocks() {
    let bm = bm(BlockManagerConfig::default());
    bm.leave_safe_mode();
    let regs: Vec<_> = (1..=3).map(|n| join(&bm, n)).collect();
    bm.set_active(false);
    // A heartbeat handled with the HA state read before the step-down.
    let hb = dpb::HeartbeatRequestProto {
        registration: regs[0].clone(),
        ..Default::default()
    };
    bm.handle_heartbeat(&hb, true);
    bm.tick(std::time::Instant::now(), true);
    let b = blk(5);
    for r in &regs {
        received(&bm, r, b);
    }
    // Kept, not dropped.
    assert_eq!(bm.pending_datanode_messages(), 3);
    // The edit that creates the block arrives while Standby: the reports apply.
    bm.add_block_collection(16390, 3, &[b], true);
    assert_eq!(bm.pending_datanode_messages(), 0);
    assert!(bm.commit_block(b));
    assert_eq!(bm.block_state(5), Some(BlockUcState::Complete));
    // Reports of a block the edits never created are kept until the Standby becomes
    // Active, then applied (here: dropped as no file's, and deleted).
    received(&bm, &regs[0], blk(6));
    assert_eq!(bm.pending_datanode_messages(), 1);
    bm.set_active(true);
    assert_eq!(bm.pending_datanode_messages(), 0);
}

/// A NameNode that reloads its namespace (it stepped down with edits that never became
/// durable) forgets the blocks its image lacks, but not where their replicas are: the
/// DataNodes will not report them again for hours, so the replicas must be known again
/// as soon as the tailer re-applies the blocks' edits.
#[test]
fn forgotten_blocks_keep_their_replicas_as_pending_reports() {
    let bm = bm(BlockManagerConfig::default());
    bm.leave_safe_mode();
    let regs: Vec<_> = (1..=2).map(|n| join(&bm, n)).collect();
    let (kept, gone) = (blk(1), blk(2));
    bm.add_block_collection(16386, 2, &[kept], false);
    bm.add_block_collection(16387, 2, &[gone], false);
    for r in &regs {
        report(&bm, r, &[kept, gone]);
    }
    assert_eq!((bm.live_replicas(1), bm.live_replicas(2)), (2, 2));
    bm.set_active(false);
    bm.forget_blocks_except(&std::collections::HashSet::from([kept.id]));
    assert_eq!((bm.live_replicas(1), bm.live_replicas(2)), (2, 0));
    assert_eq!(bm.pending_datanode_messages(), 2);
    // The tailer reads the block's edit again: its replicas are known at once.
    bm.check_replica_index().expect("after forgetting a block");
    bm.add_block_collection(16387, 2, &[gone], false);
    assert_eq!(bm.pending_datanode_messages(), 0);
    assert_eq!(bm.live_replicas(2), 2);
    bm.check_replica_index()
        .expect("after the pending reports were applied");
}

/// As Hadoop's isPopulatingReplQueues: while startup safe mode waits for its block
/// threshold, no block enters the low-redundancy queues (at a NameNode start every
/// block would enter them as missing, to leave again with the first reports); when the
/// threshold is reached every block is decided once, and from then on block by block.
#[test]
fn replication_queues_start_when_the_block_threshold_is_reached() {
    let cfg = BlockManagerConfig {
        safemode_threshold_pct: 0.5,
        safemode_extension: Duration::from_secs(3600),
        ..Default::default()
    };
    let bm = bm(cfg);
    let blocks: Vec<Block> = (1..=4).map(blk).collect();
    bm.add_block_collection(16386, 3, &blocks, false);
    let s = bm.fs_stats();
    assert_eq!((s.missing_blocks, s.under_replicated), (0, 0), "{s:?}");
    let r1 = join(&bm, 1);
    report(&bm, &r1, &blocks[..1]);
    assert!(bm.safe_mode_status().on);
    let s = bm.fs_stats();
    assert_eq!(
        (s.missing_blocks, s.under_replicated),
        (0, 0),
        "below the threshold: {s:?}"
    );
    // Half the blocks reported: the threshold is met, safe mode is in its extension,
    // and the queues hold every block: two missing, two with one replica of three.
    report(&bm, &r1, &blocks[..2]);
    assert!(bm.safe_mode_status().on, "in the extension");
    let s = bm.fs_stats();
    assert_eq!((s.missing_blocks, s.under_replicated), (2, 2), "{s:?}");
    // From now on block by block, even back below the threshold.
    report(&bm, &r1, &blocks[..3]);
    let s = bm.fs_stats();
    assert_eq!((s.missing_blocks, s.under_replicated), (1, 3), "{s:?}");

    // An operator leaving safe mode early decides every block too.
    let bm2 = self::bm(BlockManagerConfig::default());
    bm2.add_block_collection(16386, 1, &[blk(1), blk(2)], false);
    assert_eq!(bm2.fs_stats().missing_blocks, 0);
    bm2.leave_safe_mode();
    assert_eq!(bm2.fs_stats().missing_blocks, 2);
}

/// Deciding every block once the queues start is done a chunk per lock hold (Hadoop's
/// processMisReplicatedBlocks), so becoming Active or leaving safe mode on a large
/// namespace does not stop the block manager for seconds: the first 10,000 blocks at
/// once, the rest by the monitor's steps.
#[test]
fn the_redundancy_rescan_is_done_in_chunks() {
    let bm = bm(BlockManagerConfig::default());
    let blocks: Vec<Block> = (1..=25_000).map(blk).collect();
    for chunk in blocks.chunks(100) {
        bm.add_block_collection(16386 + chunk[0].id, 1, chunk, false);
    }
    bm.leave_safe_mode();
    assert_eq!(
        bm.fs_stats().missing_blocks,
        10_000,
        "the first chunk at once"
    );
    assert!(bm.rescan_step());
    assert_eq!(bm.fs_stats().missing_blocks, 20_000);
    assert!(!bm.rescan_step(), "the last chunk");
    assert_eq!(bm.fs_stats().missing_blocks, 25_000);
    assert!(!bm.rescan_step(), "nothing left");
}

/// The block manager decides on time through its injected clock: a DataNode silent for
/// the dead-node interval (10m30s with the defaults) is dead, found without sleeping.
#[test]
fn a_manual_clock_expires_a_silent_datanode() {
    let clock = std::sync::Arc::new(hafs_util::clock::ManualClock::new());
    let cfg = BlockManagerConfig::default();
    let limit = cfg.dead_node_interval();
    let bm = BlockManager::new(cfg, identity()).with_clock(clock.clone());
    join(&bm, 1);
    bm.tick(bm.now(), true);
    assert_eq!(bm.num_live_datanodes(), 1);
    clock.advance(limit);
    bm.tick(bm.now(), true);
    assert_eq!(
        bm.num_live_datanodes(),
        1,
        "exactly the limit is not past it"
    );
    clock.advance(Duration::from_millis(1));
    bm.tick(bm.now(), true);
    assert_eq!(bm.num_live_datanodes(), 0);
}

/// Both sides of the replica index: a replica is in its DataNode's block set exactly
/// when its block's record lists it, through a write (pipeline, reports, completion),
/// a DataNode's death and the deletion of the file; a complete block keeps no pipeline.
#[test]
fn replicas_and_datanode_block_sets_agree_through_write_death_and_delete() {
    let clock = std::sync::Arc::new(hafs_util::clock::ManualClock::new());
    let cfg = BlockManagerConfig::default();
    let limit = cfg.dead_node_interval();
    let bm = BlockManager::new(cfg, identity()).with_clock(clock.clone());
    bm.leave_safe_mode();
    let regs: Vec<_> = (1..=3).map(|n| join(&bm, n)).collect();
    let targets = bm
        .choose_targets_for_new_block("/f", 3, None, &[], &[], 1 << 20, 0)
        .unwrap();
    let b = Block {
        id: 9,
        gen_stamp: 1001,
        num_bytes: 0,
    };
    bm.add_block_under_construction(16386, b, 3, &targets);
    assert!(bm.has_locations(9), "the pipeline is where the block is");
    bm.check_replica_index().unwrap();
    let done = Block {
        num_bytes: 100,
        ..b
    };
    for r in &regs {
        received(&bm, r, done);
    }
    assert!(bm.commit_block(done));
    bm.check_replica_index()
        .expect("complete, without its pipeline");
    let mut holders: Vec<String> = bm.replicas(9).into_iter().map(|r| r.0).collect();
    holders.sort();
    assert_eq!(holders, ["dn-1", "dn-2", "dn-3"]);
    // dn-3 falls silent and is declared dead: its replica leaves both sides.
    for n in 1..=2 {
        clock.advance(limit / 2 + Duration::from_millis(1));
        for r in &regs[..2] {
            let hb = dpb::HeartbeatRequestProto {
                registration: r.clone(),
                ..Default::default()
            };
            bm.handle_heartbeat(&hb, true);
        }
        bm.tick(bm.now(), true);
        assert_eq!(bm.num_live_datanodes(), if n == 1 { 3 } else { 2 });
    }
    bm.check_replica_index().expect("after a DataNode's death");
    let mut holders: Vec<String> = bm.replicas(9).into_iter().map(|r| r.0).collect();
    holders.sort();
    assert_eq!(holders, ["dn-1", "dn-2"]);
    bm.remove_blocks(&[9]);
    assert!(bm.replicas(9).is_empty());
    bm.check_replica_index().expect("after the file's deletion");
}

/// Heartbeats of `r` until none brings a command; returns every command.
fn commands(
    bm: &BlockManager,
    r: &dpb::DatanodeRegistrationProto,
) -> Vec<dpb::DatanodeCommandProto> {
    let hb = dpb::HeartbeatRequestProto {
        registration: r.clone(),
        ..Default::default()
    };
    bm.handle_heartbeat(&hb, true)
}

/// Racks from a TableMapping file: a block whose three replicas are all on /rack1 when
/// /rack2 joins is mis-replicated; the monitor copies it to /rack2 and then deletes
/// the excess replica from /rack1, so the block ends on two racks.
#[test]
fn mis_replication_is_repaired_and_the_excess_leaves_the_crowded_rack() {
    use hafs_namenode::blockmanagement::topology::TopologyConfig;
    let dir = std::env::temp_dir().join(format!("hafs-racks-bm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let table = dir.join("topology.table");
    let lines: String = (1..=6)
        .map(|n| format!("10.0.0.{n} /rack{}\n", if n <= 3 { 1 } else { 2 }))
        .collect();
    std::fs::write(&table, lines).unwrap();
    let bm = bm(BlockManagerConfig {
        topology: TopologyConfig::Table { path: table },
        ..Default::default()
    });
    bm.leave_safe_mode();
    let rack1: Vec<_> = (1..=3).map(|n| join(&bm, n)).collect();
    let b = blk(5);
    bm.add_block_collection(16386, 3, &[b], false);
    for r in &rack1 {
        report(&bm, r, &[b]);
    }
    let fs = bm.fs_stats();
    assert_eq!(fs.badly_distributed, 0, "one rack: nothing to repair");
    let rack2: Vec<_> = (4..=6).map(|n| join(&bm, n)).collect();
    while bm.rescan_step() {}
    assert_eq!(
        bm.fs_stats().badly_distributed,
        1,
        "three replicas on one of two racks"
    );

    // The monitor schedules one copy, to /rack2.
    bm.tick(bm.now(), true);
    let mut targets = Vec::new();
    for r in &rack1 {
        for c in commands(&bm, r) {
            if let Some(blk_cmd) = c.blk_cmd {
                for t in blk_cmd.targets {
                    targets.extend(t.datanodes);
                }
            }
        }
    }
    assert_eq!(targets.len(), 1, "one copy: {targets:?}");
    assert_eq!(targets[0].location.as_deref(), Some("/rack2"));
    let target = rack2
        .iter()
        .find(|r| r.datanode_id.datanode_uuid == targets[0].id.datanode_uuid)
        .expect("the target is a /rack2 DataNode");

    // The copy arrives: four replicas, one in excess, deleted from /rack1.
    received(&bm, target, b);
    assert_eq!(bm.fs_stats().badly_distributed, 0);
    let mut deleted_on = Vec::new();
    for r in rack1.iter().chain(rack2.iter()) {
        for c in commands(&bm, r) {
            if c.blk_cmd
                .as_ref()
                .is_some_and(|k| k.action == dpb::block_command_proto::Action::Invalidate as i32)
            {
                deleted_on.push(r.datanode_id.ip_addr.clone());
            }
        }
    }
    assert_eq!(deleted_on.len(), 1, "{deleted_on:?}");
    assert!(
        ["10.0.0.1", "10.0.0.2", "10.0.0.3"].contains(&deleted_on[0].as_str()),
        "the excess replica leaves the crowded rack: {deleted_on:?}"
    );
    assert_eq!(bm.live_replicas(5), 3);
    // The report shows the racks.
    let report = bm.datanode_report(hafs_namenode::blockmanagement::DatanodeReportKind::Live);
    let racks: std::collections::BTreeSet<Option<String>> =
        report.iter().map(|d| d.location.clone()).collect();
    assert_eq!(
        racks,
        [Some("/rack1".to_string()), Some("/rack2".to_string())]
            .into_iter()
            .collect()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
