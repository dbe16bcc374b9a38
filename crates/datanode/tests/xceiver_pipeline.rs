//! The data-transfer server over real TCP, with the hafs-datatransfer codec as the
//! client: a two-node write pipeline, reads with checksums and connection reuse, block
//! checksums, re-replication, and bad input that must only end its own connection.

use std::net::SocketAddr;
use std::time::Duration;

use hafs_datanode::storage::{DataChecksum, DataNodeStorage, ExtendedBlock, ReplicaState};
use hafs_datanode::xceiver::{transfer_block, XceiverConfig, XceiverServer};
use hafs_datanode::BlockEvent;
use hafs_datatransfer::{
    ack_statuses, packet_header, read_ack, read_op_response, read_packet, response_status,
    write_client_read_status, write_op, write_packet, BlockConstructionStage, ChecksumProto,
    OpBlockChecksumProto, OpReadBlockProto, OpRequest, OpWriteBlockProto, Status,
};
use hafs_proto::hdfs::{
    BaseHeaderProto, ClientOperationHeaderProto, DatanodeIdProto, DatanodeInfoProto,
};
use hafs_storage::test_util::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

const BP: &str = "BP-7-127.0.0.1-1700000000000";

struct Dn {
    _dir: TempDir,
    storage: DataNodeStorage,
    addr: SocketAddr,
    events: mpsc::Receiver<BlockEvent>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start_dn(name: &str, config: XceiverConfig) -> Dn {
    let dir = TempDir::new(name);
    let storage = DataNodeStorage::open(&[dir.path().join("data")], Some("CID-x"), 0).unwrap();
    storage.set_cluster_id("CID-x").unwrap();
    let (tx, events) = mpsc::channel(64);
    let server = XceiverServer::new(storage.clone(), config, tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        server
            .serve(listener, async {
                let _ = stopped.await;
            })
            .await
    });
    Dn {
        _dir: dir,
        storage,
        addr,
        events,
        _stop: stop,
    }
}

fn dn_info(addr: SocketAddr) -> DatanodeInfoProto {
    DatanodeInfoProto {
        id: DatanodeIdProto {
            ip_addr: addr.ip().to_string(),
            host_name: "localhost".into(),
            datanode_uuid: format!("dn-{}", addr.port()),
            xfer_port: addr.port() as u32,
            info_port: 0,
            ipc_port: 0,
            info_secure_port: None,
        },
        ..Default::default()
    }
}

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| ((i * 7 + i / 251) as u8) ^ seed).collect()
}

fn header(block: &ExtendedBlock, client: &str) -> ClientOperationHeaderProto {
    ClientOperationHeaderProto {
        base_header: BaseHeaderProto {
            block: block.to_proto(),
            token: None,
            trace_info: None,
        },
        client_name: client.into(),
    }
}

fn write_op_for(block: &ExtendedBlock, targets: Vec<DatanodeInfoProto>) -> OpWriteBlockProto {
    OpWriteBlockProto {
        header: header(block, "DFSClient_test"),
        pipeline_size: targets.len() as u32 + 1,
        targets,
        stage: BlockConstructionStage::PipelineSetupCreate as i32,
        latest_generation_stamp: block.gen_stamp,
        requested_checksum: ChecksumProto {
            r#type: 2,
            bytes_per_checksum: 512,
        },
        ..Default::default()
    }
}

async fn connect(
    addr: SocketAddr,
) -> (
    BufReader<tokio::net::tcp::OwnedReadHalf>,
    tokio::net::tcp::OwnedWriteHalf,
) {
    let s = TcpStream::connect(addr).await.unwrap();
    let (r, w) = s.into_split();
    (BufReader::new(r), w)
}

/// Writes `bytes` through the pipeline starting at `first`; returns every ack's statuses.
async fn write_block(
    first: SocketAddr,
    targets: Vec<DatanodeInfoProto>,
    block: &ExtendedBlock,
    bytes: &[u8],
) -> Vec<Vec<Status>> {
    let (mut r, mut w) = connect(first).await;
    let mut buf = Vec::new();
    write_op(
        &mut buf,
        &OpRequest::WriteBlock(write_op_for(block, targets)),
    )
    .await
    .unwrap();
    w.write_all(&buf).await.unwrap();
    let resp = read_op_response(&mut r).await.unwrap();
    assert_eq!(response_status(&resp), Status::Success, "{resp:?}");
    let c = DataChecksum::DEFAULT;
    let mut acks = Vec::new();
    let packet = 64 * 1024;
    let mut seqno = 0;
    for (i, p) in bytes.chunks(packet).enumerate() {
        let mut out = Vec::new();
        let h = packet_header((i * packet) as i64, seqno, false, p.len() as i32, false);
        write_packet(&mut out, &h, &c.compute(p), p).await.unwrap();
        w.write_all(&out).await.unwrap();
        if i == 1 {
            // A heartbeat mid-stream is acked like a packet, with seqno -1.
            let mut hb = Vec::new();
            write_packet(&mut hb, &packet_header(0, -1, false, 0, false), &[], &[])
                .await
                .unwrap();
            w.write_all(&hb).await.unwrap();
        }
        seqno += 1;
    }
    let mut out = Vec::new();
    write_packet(
        &mut out,
        &packet_header(bytes.len() as i64, seqno, true, 0, false),
        &[],
        &[],
    )
    .await
    .unwrap();
    w.write_all(&out).await.unwrap();
    // Data packets, the heartbeat (sent after the second packet), the last packet.
    let expected = seqno + 1 + i64::from(seqno > 1);
    for _ in 0..expected {
        let ack = read_ack(&mut r).await.unwrap();
        assert_eq!(
            ack.reply.len(),
            ack.flag.len(),
            "both reply and flag filled: {ack:?}"
        );
        acks.push(ack_statuses(&ack).unwrap());
    }
    acks
}

/// READ_BLOCK on an open connection; returns the bytes and leaves the connection
/// ready for another op.
async fn read_range(
    r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: &mut tokio::net::tcp::OwnedWriteHalf,
    block: &ExtendedBlock,
    offset: u64,
    len: u64,
) -> Vec<u8> {
    let op = OpReadBlockProto {
        header: header(block, "DFSClient_test"),
        offset,
        len,
        send_checksums: Some(true),
        caching_strategy: None,
    };
    let mut buf = Vec::new();
    write_op(&mut buf, &OpRequest::ReadBlock(op)).await.unwrap();
    w.write_all(&buf).await.unwrap();
    let resp = read_op_response(r).await.unwrap();
    assert_eq!(response_status(&resp), Status::Success, "{resp:?}");
    let info = resp.read_op_checksum_info.unwrap();
    assert_eq!(info.checksum.bytes_per_checksum, 512);
    let start = info.chunk_offset;
    assert_eq!(start, offset - offset % 512);
    let c = DataChecksum::DEFAULT;
    let mut got = Vec::new();
    loop {
        let p = read_packet(r).await.unwrap();
        if p.is_last_in_block() {
            assert!(p.data.is_empty());
            break;
        }
        assert_eq!(p.header.offset_in_block as u64, start + got.len() as u64);
        c.verify(&p.data, &p.checksums).unwrap();
        got.extend_from_slice(&p.data);
    }
    let mut out = Vec::new();
    write_client_read_status(&mut out, Status::ChecksumOk)
        .await
        .unwrap();
    w.write_all(&out).await.unwrap();
    let skip = (offset - start) as usize;
    assert!(got.len() >= skip + len as usize);
    got[skip..skip + len as usize].to_vec()
}

async fn next_event(dn: &mut Dn) -> BlockEvent {
    tokio::time::timeout(Duration::from_secs(10), dn.events.recv())
        .await
        .expect("event in time")
        .expect("channel open")
}

async fn received(dn: &mut Dn) -> ExtendedBlock {
    loop {
        match next_event(dn).await {
            BlockEvent::Received { block, .. } => return block,
            BlockEvent::Receiving { .. } => continue,
            other => panic!("unexpected event {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_node_pipeline_write_then_read_back_with_checksums() {
    let mut dn1 = start_dn("xc-p1", XceiverConfig::default()).await;
    let mut dn2 = start_dn("xc-p2", XceiverConfig::default()).await;
    let bytes = data(5 * 64 * 1024 + 1000, 3); // several packets, short last chunk
    let block = ExtendedBlock::new(BP, 1_073_741_900, 1001, 0);
    let acks = write_block(dn1.addr, vec![dn_info(dn2.addr)], &block, &bytes).await;
    for a in &acks {
        assert_eq!(a, &vec![Status::Success, Status::Success]);
    }
    for dn in [&mut dn1, &mut dn2] {
        let b = received(dn).await;
        assert_eq!(
            (b.block_id, b.gen_stamp, b.num_bytes),
            (block.block_id, 1001, bytes.len() as u64)
        );
        let r = dn.storage.get_replica(BP, block.block_id).unwrap();
        assert_eq!(r.state, ReplicaState::Finalized);
    }
    // Reads from the second node, unaligned, two ops on one connection.
    let (mut r, mut w) = connect(dn2.addr).await;
    let all = read_range(&mut r, &mut w, &block, 0, bytes.len() as u64).await;
    assert_eq!(all, bytes);
    let part = read_range(&mut r, &mut w, &block, 70_001, 5_000).await;
    assert_eq!(part, &bytes[70_001..75_001]);
    // BLOCK_CHECKSUM on the same connection: MD5 over the chunk CRCs.
    let op = OpBlockChecksumProto {
        header: BaseHeaderProto {
            block: ExtendedBlock {
                num_bytes: bytes.len() as u64,
                ..block.clone()
            }
            .to_proto(),
            token: None,
            trace_info: None,
        },
        block_checksum_options: None,
    };
    let mut buf = Vec::new();
    write_op(&mut buf, &OpRequest::BlockChecksum(op))
        .await
        .unwrap();
    w.write_all(&buf).await.unwrap();
    let resp = read_op_response(&mut r).await.unwrap();
    assert_eq!(response_status(&resp), Status::Success);
    let cs = resp.checksum_response.unwrap();
    let crcs = DataChecksum::DEFAULT.compute(&bytes);
    assert_eq!(cs.bytes_per_crc, 512);
    assert_eq!(cs.crc_per_block, (bytes.len() as u64).div_ceil(512));
    assert_eq!(
        &cs.block_checksum[..],
        &hafs_datatransfer::md5::md5(&crcs)[..]
    );
    assert_eq!(cs.crc_type, Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_packet_is_refused_with_error_checksum() {
    let dn = start_dn("xc-corrupt", XceiverConfig::default()).await;
    let block = ExtendedBlock::new(BP, 55, 1, 0);
    let (mut r, mut w) = connect(dn.addr).await;
    let mut buf = Vec::new();
    write_op(
        &mut buf,
        &OpRequest::WriteBlock(write_op_for(&block, vec![])),
    )
    .await
    .unwrap();
    w.write_all(&buf).await.unwrap();
    assert_eq!(
        response_status(&read_op_response(&mut r).await.unwrap()),
        Status::Success
    );
    let p = data(4096, 1);
    let mut sums = DataChecksum::DEFAULT.compute(&p);
    sums[9] ^= 0xff;
    let mut out = Vec::new();
    write_packet(
        &mut out,
        &packet_header(0, 0, false, 4096, false),
        &sums,
        &p,
    )
    .await
    .unwrap();
    w.write_all(&out).await.unwrap();
    let ack = read_ack(&mut r).await.unwrap();
    assert_eq!(ack_statuses(&ack).unwrap(), vec![Status::ErrorChecksum]);
    let rep = dn.storage.get_replica(BP, 55).unwrap();
    assert_eq!(rep.bytes_on_disk, 0);
    assert_eq!(std::fs::metadata(&rep.data_file).unwrap().len(), 0);
}

/// A corrupt packet sent into a two-node pipeline: the pipeline answers ERROR_CHECKSUM,
/// the last node stores nothing of it, and neither node finalizes or acknowledges it,
/// even when the client goes on to send the last packet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_packet_in_a_two_node_pipeline_is_refused_and_never_finalized() {
    let mut dn1 = start_dn("xc-corrupt-p1", XceiverConfig::default()).await;
    let mut dn2 = start_dn("xc-corrupt-p2", XceiverConfig::default()).await;
    let block = ExtendedBlock::new(BP, 56, 1, 0);
    let (mut r, mut w) = connect(dn1.addr).await;
    let mut buf = Vec::new();
    write_op(
        &mut buf,
        &OpRequest::WriteBlock(write_op_for(&block, vec![dn_info(dn2.addr)])),
    )
    .await
    .unwrap();
    w.write_all(&buf).await.unwrap();
    assert_eq!(
        response_status(&read_op_response(&mut r).await.unwrap()),
        Status::Success
    );
    let c = DataChecksum::DEFAULT;
    let good = data(4096, 1);
    let mut out = Vec::new();
    write_packet(
        &mut out,
        &packet_header(0, 0, false, 4096, false),
        &c.compute(&good),
        &good,
    )
    .await
    .unwrap();
    w.write_all(&out).await.unwrap();
    let ack = read_ack(&mut r).await.unwrap();
    assert_eq!(
        ack_statuses(&ack).unwrap(),
        vec![Status::Success, Status::Success]
    );

    let bad = data(4096, 2);
    let mut sums = c.compute(&bad);
    sums[5] ^= 0x40;
    let mut out = Vec::new();
    write_packet(
        &mut out,
        &packet_header(4096, 1, false, 4096, false),
        &sums,
        &bad,
    )
    .await
    .unwrap();
    // The last packet right behind it: a node that accepted the corrupt packet would
    // finalize the replica on it.
    write_packet(&mut out, &packet_header(8192, 2, true, 0, false), &[], &[])
        .await
        .unwrap();
    w.write_all(&out).await.unwrap();
    let ack = tokio::time::timeout(Duration::from_secs(10), read_ack(&mut r))
        .await
        .expect("ack in time")
        .unwrap();
    assert_eq!(ack.seqno, 1);
    let statuses = ack_statuses(&ack).unwrap();
    assert!(
        statuses.contains(&Status::ErrorChecksum),
        "the corrupt packet is answered with ERROR_CHECKSUM: {statuses:?}"
    );
    // The pipeline ends there: no ack for the last packet.
    let next = tokio::time::timeout(Duration::from_secs(10), read_ack(&mut r))
        .await
        .expect("connection closed in time");
    assert!(next.is_err(), "no ack after the refusal: {next:?}");

    // Let both nodes finish with the connection, then check neither finalized.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (name, dn) in [("first", &mut dn1), ("last", &mut dn2)] {
        while let Ok(ev) = dn.events.try_recv() {
            assert!(
                matches!(ev, BlockEvent::Receiving { .. }),
                "{name} node: unexpected event {ev:?}"
            );
        }
        let rep = dn.storage.get_replica(BP, 56).unwrap();
        assert_eq!(rep.state, ReplicaState::Rbw, "{name} node");
        assert_eq!(
            rep.visible_length, 4096,
            "{name} node acknowledged only the good packet"
        );
    }
    // The last node verifies: nothing of the corrupt packet is on its disk.
    let rep = dn2.storage.get_replica(BP, 56).unwrap();
    assert_eq!(rep.bytes_on_disk, 4096);
    assert_eq!(std::fs::read(&rep.data_file).unwrap(), good);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_downstream_is_named_in_first_bad_link() {
    let dn = start_dn(
        "xc-badlink",
        XceiverConfig {
            connect_timeout: Duration::from_secs(2),
            ..Default::default()
        },
    )
    .await;
    // A port with nothing listening.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let block = ExtendedBlock::new(BP, 56, 1, 0);
    let (mut r, mut w) = connect(dn.addr).await;
    let mut buf = Vec::new();
    write_op(
        &mut buf,
        &OpRequest::WriteBlock(write_op_for(&block, vec![dn_info(dead)])),
    )
    .await
    .unwrap();
    w.write_all(&buf).await.unwrap();
    let resp = read_op_response(&mut r).await.unwrap();
    assert_eq!(response_status(&resp), Status::Error);
    assert_eq!(
        resp.first_bad_link.as_deref(),
        Some(dead.to_string().as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_block_copies_a_replica_to_another_datanode() {
    let mut dn1 = start_dn("xc-t1", XceiverConfig::default()).await;
    let mut dn2 = start_dn("xc-t2", XceiverConfig::default()).await;
    let bytes = data(200_000, 9);
    let block = ExtendedBlock::new(BP, 77, 5, 0);
    write_block(dn1.addr, vec![], &block, &bytes).await;
    received(&mut dn1).await;
    let b = ExtendedBlock {
        num_bytes: bytes.len() as u64,
        ..block.clone()
    };
    transfer_block(
        &dn1.storage,
        &XceiverConfig::default(),
        &b,
        &[dn_info(dn2.addr)],
        &[],
    )
    .await
    .unwrap();
    let got = received(&mut dn2).await;
    assert_eq!(
        (got.block_id, got.gen_stamp, got.num_bytes),
        (77, 5, bytes.len() as u64)
    );
    let (mut r, mut w) = connect(dn2.addr).await;
    assert_eq!(
        read_range(&mut r, &mut w, &block, 0, bytes.len() as u64).await,
        bytes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_ends_only_its_own_connection() {
    let cfg = XceiverConfig {
        socket_timeout: Duration::from_millis(500),
        keepalive_timeout: Duration::from_secs(30),
        ..Default::default()
    };
    let mut dn = start_dn("xc-bad", cfg).await;
    let bytes = data(3000, 4);
    let block = ExtendedBlock::new(BP, 99, 1, 0);
    write_block(dn.addr, vec![], &block, &bytes).await;
    received(&mut dn).await;

    // A reader that stays connected across all the abuse below.
    let (mut good_r, mut good_w) = connect(dn.addr).await;
    assert_eq!(
        read_range(&mut good_r, &mut good_w, &block, 0, 3000).await,
        bytes
    );

    async fn closed(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> bool {
        let mut sink = vec![0u8; 4096];
        for _ in 0..100 {
            match tokio::time::timeout(Duration::from_secs(5), r.read(&mut sink)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => continue, // an error response may come first
                Err(_) => return false,
            }
        }
        false
    }

    // Garbage instead of an op.
    let (mut r, mut w) = connect(dn.addr).await;
    w.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    assert!(closed(&mut r).await, "garbage op must close the connection");

    // A write whose packet claims a huge length.
    let (mut r, mut w) = connect(dn.addr).await;
    let mut buf = Vec::new();
    write_op(
        &mut buf,
        &OpRequest::WriteBlock(write_op_for(&ExtendedBlock::new(BP, 100, 1, 0), vec![])),
    )
    .await
    .unwrap();
    w.write_all(&buf).await.unwrap();
    assert_eq!(
        response_status(&read_op_response(&mut r).await.unwrap()),
        Status::Success
    );
    let mut huge = vec![0x7f, 0xff, 0xff, 0xff, 0x00, 0x19];
    huge.extend_from_slice(&[0u8; 64]);
    w.write_all(&huge).await.unwrap();
    assert!(
        closed(&mut r).await,
        "huge packet must close the connection"
    );

    // An op with a huge varint length prefix.
    let (mut r, mut w) = connect(dn.addr).await;
    w.write_all(&[0x00, 28, 81, 0xff, 0xff, 0xff, 0xff, 0x0f])
        .await
        .unwrap();
    assert!(closed(&mut r).await, "huge op must close the connection");

    // A client that stalls half-way through an op is cut off by the read deadline.
    let (mut r, mut w) = connect(dn.addr).await;
    w.write_all(&[0x00, 28, 81, 0x40]).await.unwrap();
    let started = std::time::Instant::now();
    assert!(closed(&mut r).await, "stalled client must be cut off");
    assert!(started.elapsed() < Duration::from_secs(5));

    // A read beyond the replica's length is an error response, not a crash.
    let (mut r, mut w) = connect(dn.addr).await;
    let op = OpReadBlockProto {
        header: header(&block, "c"),
        offset: 2000,
        len: u64::MAX,
        send_checksums: Some(true),
        caching_strategy: None,
    };
    let mut buf = Vec::new();
    write_op(&mut buf, &OpRequest::ReadBlock(op)).await.unwrap();
    w.write_all(&buf).await.unwrap();
    assert_eq!(
        response_status(&read_op_response(&mut r).await.unwrap()),
        Status::Error
    );

    // The well-behaved connection was unaffected (reused within its keepalive).
    assert_eq!(
        read_range(&mut good_r, &mut good_w, &block, 512, 1000).await,
        &bytes[512..1512]
    );
}

/// Data packets' seqnos must rise within a connection: a repeated one is bad input. It
/// ends that connection (no ack for it), the replica is not finalized, and the DataNode
/// serves on — an error, never a broken invariant (the responder asserts ack order).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_seqno_ends_only_its_own_connection() {
    let dn = start_dn("xc-seqno", XceiverConfig::default()).await;
    let block = ExtendedBlock::new(BP, 56, 1, 0);
    let (mut r, mut w) = connect(dn.addr).await;
    let mut buf = Vec::new();
    write_op(
        &mut buf,
        &OpRequest::WriteBlock(write_op_for(&block, vec![])),
    )
    .await
    .unwrap();
    w.write_all(&buf).await.unwrap();
    assert_eq!(
        response_status(&read_op_response(&mut r).await.unwrap()),
        Status::Success
    );
    let p = data(4096, 2);
    let sums = DataChecksum::DEFAULT.compute(&p);
    let mut out = Vec::new();
    write_packet(
        &mut out,
        &packet_header(0, 0, false, 4096, false),
        &sums,
        &p,
    )
    .await
    .unwrap();
    w.write_all(&out).await.unwrap();
    let ack = read_ack(&mut r).await.unwrap();
    assert_eq!(ack_statuses(&ack).unwrap(), vec![Status::Success]);
    // The next packet, numbered 0 again.
    let mut out = Vec::new();
    write_packet(
        &mut out,
        &packet_header(4096, 0, false, 4096, false),
        &sums,
        &p,
    )
    .await
    .unwrap();
    w.write_all(&out).await.unwrap();
    let next = tokio::time::timeout(Duration::from_secs(10), read_ack(&mut r))
        .await
        .expect("the DataNode answers or closes the connection");
    assert!(next.is_err(), "a repeated seqno was acknowledged: {next:?}");
    let rep = dn.storage.get_replica(BP, 56).unwrap();
    assert_ne!(rep.state, ReplicaState::Finalized);
    assert_eq!(
        rep.bytes_on_disk, 4096,
        "nothing of the refused packet is stored"
    );

    let other = ExtendedBlock::new(BP, 57, 1, 0);
    let acks = write_block(dn.addr, vec![], &other, &data(100_000, 3)).await;
    assert!(acks.iter().all(|a| a == &vec![Status::Success]), "{acks:?}");
}
