//! Hostile input on a DataNode's data port (issue 3, part 9): garbage, huge lengths,
//! wrong checksums and stalling clients each cost only their own connection — the
//! DataNode keeps serving everyone else.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::*;
use hafs_datatransfer::{
    BlockConstructionStage, DataChecksum, OpReadBlockProto, OpRequest, OpWriteBlockProto, Packet,
    PipelineAckProto, Status,
};
use hafs_proto::hdfs::{BaseHeaderProto, ClientOperationHeaderProto, ExtendedBlockProto};
use hafs_tests::{test_bytes, MiniCluster};
use prost::Message;

fn cluster(label: &str) -> MiniCluster {
    MiniCluster::builder().label(label).datanodes(1).start()
}

/// The block pool id, read from the DataNode's storage layout (`<dir>/current/BP-*`).
/// Writes a file first, so the block pool's dirs exist.
fn block_pool_id(c: &mut MiniCluster) -> String {
    still_serves(c, 99);
    for dir in c.datanode_data_dirs(0) {
        let current = dir.join("current");
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        if let Some(bp) = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|n| n.starts_with("BP-"))
        {
            return bp;
        }
    }
    panic!("no BP-* dir in {:?}", c.datanode_data_dirs(0));
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect to data port");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

/// Reads until the DataNode closes the connection (or resets it); returns what it sent.
/// Panics if it keeps the connection open past 30 s.
#[track_caller]
fn read_until_closed(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!(
                    "the DataNode kept a bad connection open for 30 s (got {} bytes)",
                    out.len()
                )
            }
            Err(_) => return out, // reset: closed too
        }
    }
}

/// Reads until one varint-delimited message has arrived (or the connection closes).
#[track_caller]
fn read_one_message(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let mut view = out.as_slice();
        if let Ok(len) = prost::encoding::decode_varint(&mut view) {
            if view.len() as u64 >= len {
                return out;
            }
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// The DataNode is alive and serves a normal write and read.
#[track_caller]
fn still_serves(c: &mut MiniCluster, n: u64) {
    assert!(
        c.datanode_running(0),
        "the DataNode died:\n{}",
        c.datanode_log(0)
    );
    let data = test_bytes(1000 + n, 70_000);
    let path = format!("/ok/{n}");
    put_with_hafs(c, &path, &data);
    assert_same_bytes(
        &get_with_native(c, &path),
        &data,
        "round trip after bad input",
    );
}

fn client_header(bpid: &str, block_id: u64, gs: u64) -> ClientOperationHeaderProto {
    ClientOperationHeaderProto {
        base_header: BaseHeaderProto {
            block: ExtendedBlockProto {
                pool_id: bpid.to_string(),
                block_id,
                generation_stamp: gs,
                num_bytes: Some(0),
            },
            token: None,
            trace_info: None,
        },
        client_name: "hafs-bad-input-test".into(),
    }
}

#[test]
fn garbage_and_huge_lengths_close_only_that_connection() {
    let mut c = cluster("dp-bad-garbage");
    let addr = c.datanode_xfer_addr(0);
    still_serves(&mut c, 0);

    let attacks: Vec<(&str, Vec<u8>)> = vec![
        (
            "an HTTP request",
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        ),
        ("version 27", vec![0, 27, 81, 0]),
        ("unknown op", vec![0, 28, 3, 0]),
        (
            "4 GiB op body",
            vec![0, 28, 81, 0xff, 0xff, 0xff, 0xff, 0x0f],
        ),
        (
            "endless varint",
            vec![
                0, 28, 80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            ],
        ),
        (
            "body not a proto",
            vec![0, 28, 81, 4, 0xff, 0xff, 0xff, 0xff],
        ),
        ("random bytes", test_bytes(77, 5000)),
    ];
    for (what, bytes) in attacks {
        let mut s = connect(addr);
        // A reset while writing is fine: the DataNode may close before reading it all.
        let _ = s.write_all(&bytes);
        let reply = read_until_closed(&mut s);
        // Whatever it answers, it must not be a success.
        if !reply.is_empty() {
            if let Ok(resp) =
                hafs_datatransfer::BlockOpResponseProto::decode_length_delimited(reply.as_slice())
            {
                assert_ne!(
                    resp.status,
                    Status::Success as i32,
                    "{what}: answered SUCCESS"
                );
            }
        }
        assert!(
            c.datanode_running(0),
            "{what} killed the DataNode:\n{}",
            c.datanode_log(0)
        );
    }
    still_serves(&mut c, 1);
}

#[test]
fn read_of_a_missing_block_is_an_error_response() {
    let mut c = cluster("dp-bad-read");
    let bpid = block_pool_id(&mut c);
    let op = OpRequest::ReadBlock(OpReadBlockProto {
        header: client_header(&bpid, 9_999_999, 1),
        offset: 0,
        len: 1 << 40,
        send_checksums: Some(true),
        caching_strategy: None,
    });
    let mut s = connect(c.datanode_xfer_addr(0));
    s.write_all(&op.encode()).unwrap();
    // The DataNode may keep the connection for another op: read just the response.
    let reply = read_one_message(&mut s);
    let resp = hafs_datatransfer::BlockOpResponseProto::decode_length_delimited(reply.as_slice())
        .unwrap_or_else(|e| {
            panic!(
                "no BlockOpResponseProto for a missing block ({e}); got {} bytes",
                reply.len()
            )
        });
    assert_ne!(resp.status, Status::Success as i32, "{resp:?}");
    still_serves(&mut c, 2);
}

#[test]
fn packet_with_wrong_checksums_is_refused_and_not_stored() {
    let mut c = cluster("dp-bad-checksum");
    let bpid = block_pool_id(&mut c);
    let block_id = 7_777_777u64;
    let checksum = DataChecksum::crc32c_default();
    let op = OpRequest::WriteBlock(OpWriteBlockProto {
        header: client_header(&bpid, block_id, 1001),
        targets: vec![],
        source: None,
        stage: BlockConstructionStage::PipelineSetupCreate as i32,
        pipeline_size: 1,
        min_bytes_rcvd: 0,
        max_bytes_rcvd: 0,
        latest_generation_stamp: 1001,
        requested_checksum: checksum.to_proto(),
        ..Default::default()
    });
    let mut s = connect(c.datanode_xfer_addr(0));
    s.write_all(&op.encode()).unwrap();

    let data = test_bytes(9, 4096);
    let mut sums = checksum.compute(&data);
    sums[4 * 3] ^= 0xff; // chunk 3 (bytes 1536..2048) is "corrupt"
    let packet = Packet::new(0, 0, false, false, Bytes::from(sums), Bytes::from(data));
    let _ = s.write_all(&packet.encode().unwrap());
    let last = Packet::last_in_block(4096, 1, false);
    let _ = s.write_all(&last.encode().unwrap());
    let reply = read_until_closed(&mut s);

    // The setup response (SUCCESS: the op itself was fine), then either an ack with
    // ERROR_CHECKSUM for seqno 0 or nothing more: never a successful ack for it.
    let mut rest = reply.as_slice();
    let resp = hafs_datatransfer::BlockOpResponseProto::decode_length_delimited(&mut rest)
        .unwrap_or_else(|e| panic!("no setup response ({e}); got {} bytes", reply.len()));
    assert_eq!(resp.status, Status::Success as i32, "{resp:?}");
    while !rest.is_empty() {
        let Ok(ack) = PipelineAckProto::decode_length_delimited(&mut rest) else {
            break;
        };
        let statuses = hafs_datatransfer::ack_statuses(&ack).unwrap_or_default();
        assert!(
            !(ack.seqno >= 0 && statuses.iter().all(|s| *s == Status::Success)),
            "a packet with a bad checksum was acknowledged: {ack:?}"
        );
    }
    assert!(
        !c.replicas_on(0)
            .iter()
            .any(|r| r.block_id == block_id && r.finalized),
        "the corrupt block was finalized: {:?}",
        c.replicas_on(0)
    );
    still_serves(&mut c, 3);
}

#[test]
fn stalling_clients_do_not_block_others() {
    let mut c = cluster("dp-bad-stall");
    let addr = c.datanode_xfer_addr(0);
    // Some connect and say nothing; some stop in the middle of an op.
    let mut stalled = Vec::new();
    for i in 0..20 {
        let mut s = connect(addr);
        match i % 3 {
            0 => {}
            1 => s.write_all(&[0, 28, 80, 100]).unwrap(),
            _ => s.write_all(&[0, 28]).unwrap(),
        }
        stalled.push(s);
    }
    let started = Instant::now();
    still_serves(&mut c, 4);
    still_serves(&mut c, 5);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "service slowed by stalled clients: {:?}",
        started.elapsed()
    );
    // A client that never sends its op is dropped after the socket timeout
    // (dfs.client.socket-timeout, 10 s in test clusters), so stalled clients cannot hold
    // transfer threads forever.
    let started = Instant::now();
    for s in &mut stalled {
        read_until_closed(s);
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "stalled connections were closed only after {:?}",
        started.elapsed()
    );
    drop(stalled);
    still_serves(&mut c, 6);
}
