//! Block storage: write / finalize / read round trips, restart scans, crash recovery of
//! replicas being written, corruption detection, VERSION checks, failed volumes.

use std::fs;
use std::path::PathBuf;

use hafs_datanode::storage::{
    DataChecksum, DataNodeStorage, DnStorageError, ExtendedBlock, ReplicaState,
};
use hafs_storage::test_util::TempDir;

const BP: &str = "BP-1-127.0.0.1-1700000000000";
const CID: &str = "CID-test";

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn open(dirs: &[PathBuf], tolerated: usize) -> DataNodeStorage {
    let s = DataNodeStorage::open(dirs, Some(CID), tolerated).unwrap();
    s.set_cluster_id(CID).unwrap();
    s
}

/// Writes `bytes` as packets of `packet` bytes (whole chunks) and returns the writer.
fn write_all(
    s: &DataNodeStorage,
    block: &ExtendedBlock,
    bytes: &[u8],
    packet: usize,
) -> hafs_datanode::ReplicaWriter {
    let c = DataChecksum::DEFAULT;
    let mut w = s.create_rbw(block, c).unwrap();
    for (i, p) in bytes.chunks(packet).enumerate() {
        w.write_packet((i * packet) as u64, p, &c.compute(p))
            .unwrap();
    }
    w
}

fn read_all(s: &DataNodeStorage, block: &ExtendedBlock) -> Vec<u8> {
    let r = s.open_for_read(block).unwrap();
    let (mut d, mut sums) = (Vec::new(), Vec::new());
    r.verify_range(0, r.visible_length() as usize, &mut d, &mut sums)
        .unwrap();
    d
}

#[test]
fn write_finalize_read_and_restart() {
    let t = TempDir::new("dn-store-rt");
    let dirs = vec![t.path().join("d1"), t.path().join("d2")];
    let bytes = data(200_000 + 77, 1);
    let block = ExtendedBlock::new(BP, 1_073_741_825, 1001, 0);
    let uuid;
    {
        let s = open(&dirs, 0);
        uuid = s.datanode_uuid().to_string();
        let w = write_all(&s, &block, &bytes, 64 * 1024);
        assert_eq!(
            s.get_replica(BP, block.block_id).unwrap().state,
            ReplicaState::Rbw
        );
        let info = w.finalize().unwrap();
        assert_eq!(info.state, ReplicaState::Finalized);
        assert_eq!(info.bytes_on_disk, bytes.len() as u64);
        // Hadoop's layout: finalized/subdir<a>/subdir<b>/blk_<id> and its meta.
        let expect = format!(
            "current/{BP}/current/finalized/subdir{}/subdir{}/blk_{}",
            (block.block_id >> 16) & 31,
            (block.block_id >> 8) & 31,
            block.block_id
        );
        assert!(
            info.data_file.ends_with(&expect),
            "{}",
            info.data_file.display()
        );
        assert!(info
            .meta_file
            .ends_with(format!("blk_{}_1001.meta", block.block_id)));
        assert_eq!(
            fs::metadata(&info.meta_file).unwrap().len(),
            7 + 4 * (bytes.len() as u64).div_ceil(512)
        );
        assert_eq!(read_all(&s, &block), bytes);
        let report = s.block_report(BP);
        assert_eq!(report.len(), 1);
        assert_eq!(report[0].num_bytes, bytes.len() as u64);
        assert_eq!(report[0].state, ReplicaState::Finalized);
        let reports = s.storage_reports();
        assert_eq!(reports.len(), 2);
        assert!(reports.iter().all(|r| !r.failed && r.capacity > 0));
        assert_eq!(
            reports.iter().map(|r| r.used).sum::<u64>(),
            bytes.len() as u64
        );
        assert_ne!(reports[0].storage_id, reports[1].storage_id);
    }
    // Restart: same uuid, same replica, still readable; VERSION is Hadoop-shaped.
    let s = DataNodeStorage::open(&dirs, None, 0).unwrap();
    assert_eq!(s.datanode_uuid(), uuid);
    assert_eq!(s.cluster_id().as_deref(), Some(CID));
    let r = s.get_replica(BP, block.block_id).unwrap();
    assert_eq!(
        (r.state, r.bytes_on_disk, r.gen_stamp),
        (ReplicaState::Finalized, bytes.len() as u64, 1001)
    );
    assert_eq!(read_all(&s, &block), bytes);
    let v = fs::read_to_string(dirs[0].join("current/VERSION")).unwrap();
    for key in [
        "storageID=DS-",
        "clusterID=CID-test",
        "datanodeUuid=",
        "storageType=DATA_NODE",
        "layoutVersion=",
    ] {
        assert!(v.contains(key), "{key} missing in {v}");
    }
    // A second create of the same block is refused.
    assert!(matches!(
        s.create_rbw(&block, DataChecksum::DEFAULT),
        Err(DnStorageError::ReplicaAlreadyExists(..))
    ));
    // Invalidate deletes the files.
    let info = s.invalidate(&block).unwrap();
    assert!(!info.data_file.exists() && !info.meta_file.exists());
    assert!(s.get_replica(BP, block.block_id).is_none());
}

#[test]
fn corrupt_packet_is_refused_and_nothing_stored() {
    let t = TempDir::new("dn-store-badpkt");
    let s = open(&[t.path().join("d")], 0);
    let c = DataChecksum::DEFAULT;
    let block = ExtendedBlock::new(BP, 7, 1, 0);
    let mut w = s.create_rbw(&block, c).unwrap();
    let good = data(4096, 2);
    let mut sums = c.compute(&good);
    sums[5] ^= 0x40;
    let err = w.write_packet(0, &good, &sums).unwrap_err();
    assert!(matches!(err, DnStorageError::Checksum { .. }), "{err}");
    assert_eq!(w.bytes_on_disk(), 0);
    let info = s.get_replica(BP, 7).unwrap();
    assert_eq!(fs::metadata(&info.data_file).unwrap().len(), 0);
    // Wrong number of checksums, and a gap, are refused too.
    assert!(w.write_packet(0, &good, &sums[..8]).is_err());
    assert!(w.write_packet(512, &good, &c.compute(&good)).is_err());
    w.write_packet(0, &good, &c.compute(&good)).unwrap();
    assert_eq!(w.bytes_on_disk(), 4096);
}

#[test]
fn hflush_resend_and_append_in_a_partial_chunk() {
    let t = TempDir::new("dn-store-partial");
    let s = open(&[t.path().join("d")], 0);
    let c = DataChecksum::DEFAULT;
    let all = data(3000, 3);
    let block = ExtendedBlock::new(BP, 9, 5, 0);
    let mut w = s.create_rbw(&block, c).unwrap();
    // 700 bytes (a partial second chunk), then the partial chunk is re-sent from its
    // start with more data, as a client does after hflush.
    w.write_packet(0, &all[..700], &c.compute(&all[..700]))
        .unwrap();
    w.ack_handle().set_acked(700);
    assert_eq!(s.open_for_read(&block).unwrap().visible_length(), 700);
    w.write_packet(512, &all[512..1500], &c.compute(&all[512..1500]))
        .unwrap();
    let info = w.finalize().unwrap();
    assert_eq!(info.bytes_on_disk, 1500);
    let b1500 = ExtendedBlock {
        num_bytes: 1500,
        ..block.clone()
    };
    assert_eq!(read_all(&s, &block), &all[..1500]);

    // Append: the first packet starts mid-chunk with a checksum over its own bytes only.
    let mut w = s.append(&b1500, 6).unwrap();
    assert_eq!(w.block().gen_stamp, 6);
    let first = &all[1500..1536]; // fills chunk 2 (1024..1536)
    w.write_packet(1500, first, &c.compute(first)).unwrap();
    w.write_packet(1536, &all[1536..], &c.compute(&all[1536..]))
        .unwrap();
    let info = w.finalize().unwrap();
    assert_eq!((info.bytes_on_disk, info.gen_stamp), (3000, 6));
    assert!(info.meta_file.to_string_lossy().ends_with("blk_9_6.meta"));
    assert_eq!(
        read_all(
            &s,
            &ExtendedBlock {
                gen_stamp: 6,
                ..block
            }
        ),
        all
    );
}

#[test]
fn crash_before_finalize_recovers_rbw_at_checksummed_length() {
    let t = TempDir::new("dn-store-crash");
    let dirs = vec![t.path().join("d")];
    let bytes = data(10 * 512 + 100, 4);
    let block = ExtendedBlock::new(BP, 11, 3, 0);
    let (data_file, meta_file);
    {
        let s = open(&dirs, 0);
        let mut w = write_all(&s, &block, &bytes, 2048);
        w.sync().unwrap();
        let info = s.get_replica(BP, 11).unwrap();
        data_file = info.data_file;
        meta_file = info.meta_file;
        // The process dies here (writer and storage dropped without finalize).
    }
    // A torn write: bytes reached the block file whose checksum never did.
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(&data_file)
        .unwrap();
    std::io::Write::write_all(&mut f, &[0xAB; 300]).unwrap();
    drop(f);
    let s = DataNodeStorage::open(&dirs, Some(CID), 0).unwrap();
    let r = s.get_replica(BP, 11).unwrap();
    assert_eq!(r.state, ReplicaState::Rwr);
    // The last chunk (100 bytes + 300 torn) fails its checksum: cut at the chunk start.
    assert_eq!(r.bytes_on_disk, 10 * 512);
    assert_eq!(fs::metadata(&data_file).unwrap().len(), 10 * 512);
    assert_eq!(fs::metadata(&meta_file).unwrap().len(), 7 + 40);
    assert_eq!(read_all(&s, &block), &bytes[..10 * 512]);
    let report = s.block_report(BP);
    assert_eq!(report[0].state, ReplicaState::Rwr);

    // Block recovery agrees on a shorter length: truncate, new stamp, finalized.
    let rec = s.init_replica_recovery(&block, 4).unwrap();
    assert_eq!(
        (rec.num_bytes, rec.original_state),
        (10 * 512, ReplicaState::Rwr)
    );
    let info = s
        .update_replica_under_recovery(&block, 4, 11, 4000)
        .unwrap();
    assert_eq!(
        (info.state, info.gen_stamp, info.bytes_on_disk),
        (ReplicaState::Finalized, 4, 4000)
    );
    assert_eq!(
        read_all(
            &s,
            &ExtendedBlock {
                gen_stamp: 4,
                ..block
            }
        ),
        &bytes[..4000]
    );
}

#[test]
fn corrupt_replica_files_are_detected() {
    let t = TempDir::new("dn-store-corrupt");
    let s = open(&[t.path().join("d")], 0);
    let bytes = data(5000, 5);
    let block = ExtendedBlock::new(BP, 13, 1, 0);
    let info = write_all(&s, &block, &bytes, 1024).finalize().unwrap();
    // Flip one byte of data.
    let mut d = fs::read(&info.data_file).unwrap();
    d[2600] ^= 1;
    fs::write(&info.data_file, &d).unwrap();
    let r = s.open_for_read(&block).unwrap();
    let (mut buf, mut sums) = (Vec::new(), Vec::new());
    let err = r.verify_range(0, 5000, &mut buf, &mut sums).unwrap_err();
    assert!(
        matches!(err, DnStorageError::CorruptReplica { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("at offset 0"), "{err}");
    // A damaged meta header makes the replica unreadable, with a clear error.
    let mut m = fs::read(&info.meta_file).unwrap();
    m[0] = 9;
    fs::write(&info.meta_file, &m).unwrap();
    let err = s.open_for_read(&block).err().unwrap();
    assert!(
        matches!(err, DnStorageError::CorruptReplica { .. }),
        "{err}"
    );
    // A truncated meta file: reading past it is a corrupt replica, not a panic.
    m[0] = 0;
    m.truncate(7 + 4);
    fs::write(&info.meta_file, &m).unwrap();
    let r = s.open_for_read(&block).unwrap();
    assert!(matches!(
        r.read_chunks(0, 5000, &mut buf, &mut sums),
        Err(DnStorageError::CorruptReplica { .. })
    ));
}

#[test]
fn cluster_id_mismatch_is_refused() {
    let t = TempDir::new("dn-store-cid");
    let dirs = vec![t.path().join("d")];
    drop(open(&dirs, 0));
    let err = DataNodeStorage::open(&dirs, Some("CID-other"), 0).unwrap_err();
    assert!(
        matches!(err, DnStorageError::ClusterIdMismatch { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("Incompatible clusterIDs"), "{err}");
    let s = DataNodeStorage::open(&dirs, None, 0).unwrap();
    assert!(s.set_cluster_id("CID-other").is_err());
    drop(s);
    // A damaged VERSION is refused, not trusted.
    let v = dirs[0].join("current/VERSION");
    let text = fs::read_to_string(&v)
        .unwrap()
        .replace("CID-test", "CID-tesx");
    fs::write(&v, text).unwrap();
    assert!(DataNodeStorage::open(&dirs, None, 0).is_err());
}

#[test]
fn unformatted_storage_is_formatted_on_cluster_id() {
    let t = TempDir::new("dn-store-fmt");
    let dirs = vec![t.path().join("d")];
    let s = DataNodeStorage::open(&dirs, None, 0).unwrap();
    assert!(s.cluster_id().is_none());
    assert!(s
        .create_rbw(&ExtendedBlock::new(BP, 1, 1, 0), DataChecksum::DEFAULT)
        .is_err());
    s.set_cluster_id(CID).unwrap();
    assert!(dirs[0].join("current/VERSION").exists());
    s.create_rbw(&ExtendedBlock::new(BP, 1, 1, 0), DataChecksum::DEFAULT)
        .unwrap();
}

#[test]
fn failed_volume_is_taken_out_and_others_keep_serving() {
    let t = TempDir::new("dn-store-failvol");
    let dirs = vec![t.path().join("d1"), t.path().join("d2")];
    let s = open(&dirs, 1);
    let b1 = ExtendedBlock::new(BP, 21, 1, 0);
    let b2 = ExtendedBlock::new(BP, 22, 1, 0);
    let i1 = write_all(&s, &b1, &data(3000, 1), 1024).finalize().unwrap();
    let i2 = write_all(&s, &b2, &data(3000, 2), 1024).finalize().unwrap();
    assert_ne!(i1.storage_id, i2.storage_id, "round-robin over volumes");
    // The disk of d1 "dies": its current/ is gone and replaced by a file.
    let (dead, alive) = if i1.data_file.starts_with(&dirs[0]) {
        (&i1, &i2)
    } else {
        (&i2, &i1)
    };
    let dead_root = if dead.data_file.starts_with(&dirs[0]) {
        &dirs[0]
    } else {
        &dirs[1]
    };
    fs::rename(dead_root.join("current"), dead_root.join("gone")).unwrap();
    fs::write(dead_root.join("current"), b"not a dir").unwrap();
    let failures = s.check_volumes();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].storage_id, dead.storage_id);
    assert_eq!(failures[0].lost_replicas, 1);
    let reports = s.storage_reports();
    assert!(reports
        .iter()
        .any(|r| r.storage_id == dead.storage_id && r.failed));
    assert!(reports
        .iter()
        .any(|r| r.storage_id == alive.storage_id && !r.failed));
    assert!(s.get_replica(BP, dead.block_id).is_none());
    assert_eq!(
        read_all(&s, &alive.block()),
        data(3000, if alive.block_id == 21 { 1 } else { 2 })
    );
    s.check_failed_tolerance().unwrap();
    // New writes go to the surviving volume.
    let b3 = ExtendedBlock::new(BP, 23, 1, 0);
    let i3 = write_all(&s, &b3, &data(100, 3), 100).finalize().unwrap();
    assert_eq!(i3.storage_id, alive.storage_id);
    drop(s);
    // With failed.volumes.tolerated = 0, the DataNode refuses to start on it.
    let err = DataNodeStorage::open(&dirs, Some(CID), 0).unwrap_err();
    assert!(
        matches!(err, DnStorageError::TooManyFailedVolumes { .. }),
        "{err}"
    );
    let s = DataNodeStorage::open(&dirs, Some(CID), 1).unwrap();
    assert_eq!(s.volume_failures().len(), 1);
}

#[test]
fn pipeline_recovery_truncates_unacked_bytes_and_bumps_stamp() {
    let t = TempDir::new("dn-store-recover-rbw");
    let s = open(&[t.path().join("d")], 0);
    let c = DataChecksum::DEFAULT;
    let bytes = data(4096, 9);
    let block = ExtendedBlock::new(BP, 31, 10, 0);
    let mut w = s.create_rbw(&block, c).unwrap();
    w.write_packet(0, &bytes, &c.compute(&bytes)).unwrap();
    w.ack_handle().set_acked(2048);
    // The new writer takes over; the old one is superseded.
    let mut w2 = s.recover_rbw(&block, 11, 2048, 4096).unwrap();
    assert_eq!((w2.bytes_on_disk(), w2.block().gen_stamp), (2048, 11));
    assert!(matches!(
        w.write_packet(4096, &bytes[..512], &c.compute(&bytes[..512])),
        Err(DnStorageError::WriterSuperseded(_))
    ));
    drop(w);
    w2.write_packet(2048, &bytes[2048..], &c.compute(&bytes[2048..]))
        .unwrap();
    let info = w2.finalize().unwrap();
    assert_eq!((info.bytes_on_disk, info.gen_stamp), (4096, 11));
    // Close recovery on a finalized replica only bumps the stamp.
    let b = ExtendedBlock {
        gen_stamp: 11,
        num_bytes: 4096,
        ..block
    };
    let info = s.recover_close(&b, 12).unwrap();
    assert_eq!((info.state, info.gen_stamp), (ReplicaState::Finalized, 12));
}

/// A volume waiting for its format (the DataNode formats once a NameNode names the
/// cluster) is not probed: its `current/` does not exist yet, which is no failure. A
/// DataNode whose first handshakes kept failing used to take its only volume out.
#[test]
fn volumes_not_formatted_yet_are_not_failed_by_the_check() {
    let t = TempDir::new("dn-store-unformatted");
    let dirs = vec![t.path().join("d1")];
    let s = DataNodeStorage::open(&dirs, None, 0).unwrap();
    assert!(
        s.check_volumes().is_empty(),
        "an unformatted volume was failed"
    );
    assert!(s.storage_reports().iter().all(|r| !r.failed));
    s.check_failed_tolerance().unwrap();
}

#[test]
fn a_reader_finding_its_replica_cut_by_a_truncate_recovery_reports_no_corruption() {
    let t = TempDir::new("dn-store-truncate-read");
    let s = open(&[t.path().join("d")], 0);
    let bytes = data(5000, 7);
    let block = ExtendedBlock::new(BP, 14, 1, 0);
    write_all(&s, &block, &bytes, 1024).finalize().unwrap();
    let at_5000 = ExtendedBlock::new(BP, 14, 1, 5000);
    // A reader opens the replica at its full length, then a truncate's recovery
    // (new stamp 2) cuts it to 1000 bytes under it.
    let r = s.open_for_read(&at_5000).unwrap();
    s.init_replica_recovery(&at_5000, 2).unwrap();
    s.update_replica_under_recovery(&at_5000, 2, 14, 1000)
        .unwrap();
    let (mut buf, mut sums) = (Vec::new(), Vec::new());
    let err = r.read_chunks(0, 5000, &mut buf, &mut sums).unwrap_err();
    assert!(
        matches!(err, DnStorageError::BadReplicaState { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("cut by a block recovery"), "{err}");
    // The cut replica reads back as its first 1000 bytes, at the new stamp.
    assert_eq!(
        read_all(&s, &ExtendedBlock::new(BP, 14, 2, 1000)),
        &bytes[..1000]
    );
}

#[test]
fn delete_block_pool_needs_force_while_replicas_remain_and_stays_in_its_volume() {
    let t = TempDir::new("dn-store-delpool");
    let dirs = vec![t.path().join("d1"), t.path().join("d2")];
    let other = "BP-2-127.0.0.1-1700000000001";
    let s = open(&dirs, 0);
    s.join_block_pool(7, BP, 0).unwrap();
    s.join_block_pool(8, other, 0).unwrap();
    let block = ExtendedBlock::new(BP, 1_073_741_900, 1001, 0);
    write_all(&s, &block, &data(5000, 3), 1024)
        .finalize()
        .unwrap();
    let kept = ExtendedBlock::new(other, 1_073_741_901, 1001, 0);
    write_all(&s, &kept, &data(3000, 4), 1024)
        .finalize()
        .unwrap();
    // A file beside the volumes that a hostile id would reach.
    let outside = t.path().join("x");
    fs::create_dir_all(&outside).unwrap();

    // Without force: refused while a block file is there; nothing removed.
    let e = s.delete_block_pool(BP, false).unwrap_err().to_string();
    assert_eq!(e, "Cannot delete block pool, it contains some block files");
    assert!(s.get_replica(BP, block.block_id).is_some());
    for hostile in ["../../x", "..", "BP-1-a/../../../x-2", ""] {
        let e = s.delete_block_pool(hostile, true).unwrap_err().to_string();
        assert!(e.contains("Invalid block pool id"), "{hostile:?}: {e}");
    }
    assert!(outside.is_dir());

    // With force: gone from every volume and from the replica map; the other pool stays.
    s.delete_block_pool(BP, true).unwrap();
    for d in &dirs {
        assert!(!d.join("current").join(BP).exists(), "{}", d.display());
        assert!(d.join("current/VERSION").is_file());
    }
    assert!(s.get_replica(BP, block.block_id).is_none());
    assert!(s.block_report(BP).is_empty());
    assert_eq!(read_all(&s, &kept), data(3000, 4));

    // An empty pool goes without force; deleting an absent pool is not an error.
    s.join_block_pool(7, BP, 0).unwrap();
    assert!(dirs[0]
        .join("current")
        .join(BP)
        .join("current/VERSION")
        .is_file());
    s.delete_block_pool(BP, false).unwrap();
    assert!(!dirs[0].join("current").join(BP).exists());
    s.delete_block_pool(BP, false).unwrap();
}
