//! The block scanner finds a replica corrupted on disk, reports it once, leaves healthy
//! replicas alone, and keeps to its rate.

use std::time::{Duration, Instant};

use hafs_datanode::scanner::{BlockScanner, ScannerConfig};
use hafs_datanode::storage::{DataChecksum, DataNodeStorage, ExtendedBlock};
use hafs_datanode::BlockEvent;
use hafs_storage::test_util::TempDir;
use tokio::sync::mpsc;

const BP: &str = "BP-3-127.0.0.1-1";

fn write(s: &DataNodeStorage, id: u64, len: usize) -> hafs_datanode::ReplicaInfo {
    let c = DataChecksum::DEFAULT;
    let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let mut w = s.create_rbw(&ExtendedBlock::new(BP, id, 1, 0), c).unwrap();
    w.write_packet(0, &bytes, &c.compute(&bytes)).unwrap();
    w.finalize().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scanner_reports_a_corrupt_replica_once_at_a_bounded_rate() {
    let t = TempDir::new("dn-scanner");
    let s = DataNodeStorage::open(&[t.path().join("d")], Some("CID-s"), 0).unwrap();
    s.set_cluster_id("CID-s").unwrap();
    let healthy = write(&s, 1, 200_000);
    let bad = write(&s, 2, 200_000);
    let mut bytes = std::fs::read(&bad.data_file).unwrap();
    bytes[150_000] ^= 0x10;
    std::fs::write(&bad.data_file, &bytes).unwrap();

    let (tx, mut rx) = mpsc::channel(16);
    let config = ScannerConfig {
        bytes_per_second: 1 << 20, // 400 KB to verify: at least ~0.38 s
        rescan_interval: Duration::from_millis(100),
        initial_delay: Duration::ZERO,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let task = tokio::spawn(BlockScanner::new(s.clone(), config, tx).run(async {
        let _ = stopped.await;
    }));
    let event = tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .unwrap()
        .unwrap();
    let elapsed = started.elapsed();
    match event {
        BlockEvent::Corrupt {
            block,
            storage_id,
            reason,
        } => {
            assert_eq!(
                (block.block_id, block.gen_stamp, block.num_bytes),
                (2, 1, 200_000)
            );
            assert_eq!(storage_id, bad.storage_id);
            assert!(reason.contains("checksum"), "{reason}");
        }
        other => panic!("unexpected {other:?}"),
    }
    // The healthy replica and the bad one (400 KB) were read at no more than 1 MiB/s.
    assert!(
        elapsed >= Duration::from_millis(350),
        "scanner ran unthrottled: {elapsed:?}"
    );
    // Further passes do not report it again, nor the healthy one.
    assert!(tokio::time::timeout(Duration::from_millis(1500), rx.recv())
        .await
        .is_err());
    let _ = stop.send(());
    task.await.unwrap();
    assert_eq!(healthy.block_id, 1);
}
