//! Round trips, truncations, hostile lengths and checksum errors for every message kind.

use bytes::Bytes;
use hafs_datatransfer::checksum::MAX_BYTES_PER_CHECKSUM;
use hafs_datatransfer::packet::{encode_prefix, MAX_PACKET_HEADER_LEN};
use hafs_datatransfer::*;
use hafs_proto::common::TokenProto;
use hafs_proto::hdfs::{
    BaseHeaderProto, ClientOperationHeaderProto, DatanodeIdProto, DatanodeInfoProto,
    ExtendedBlockProto, OpCopyBlockProto,
};
use hafs_util::XorShift64;
use prost::Message;

fn block() -> ExtendedBlockProto {
    ExtendedBlockProto {
        pool_id: "BP-1-127.0.0.1-1".into(),
        block_id: 1_073_741_825,
        generation_stamp: 1001,
        num_bytes: Some(0),
    }
}

fn client_header() -> ClientOperationHeaderProto {
    ClientOperationHeaderProto {
        base_header: BaseHeaderProto {
            block: block(),
            token: Some(TokenProto {
                identifier: Bytes::new(),
                password: Bytes::new(),
                kind: String::new(),
                service: String::new(),
            }),
            trace_info: None,
        },
        client_name: "DFSClient_test".into(),
    }
}

fn datanode(port: u32) -> DatanodeInfoProto {
    DatanodeInfoProto {
        id: DatanodeIdProto {
            ip_addr: "127.0.0.1".into(),
            host_name: "localhost".into(),
            datanode_uuid: format!("uuid-{port}"),
            xfer_port: port,
            info_port: port + 1,
            ipc_port: port + 2,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn write_op_request() -> OpRequest {
    OpRequest::WriteBlock(OpWriteBlockProto {
        header: client_header(),
        targets: vec![datanode(9866), datanode(9876)],
        source: None,
        stage: BlockConstructionStage::PipelineSetupCreate as i32,
        pipeline_size: 3,
        min_bytes_rcvd: 0,
        max_bytes_rcvd: 0,
        latest_generation_stamp: 1001,
        requested_checksum: DataChecksum::crc32c_default().to_proto(),
        ..Default::default()
    })
}

fn all_ops() -> Vec<OpRequest> {
    vec![
        write_op_request(),
        OpRequest::ReadBlock(OpReadBlockProto {
            header: client_header(),
            offset: 12345,
            len: 1 << 20,
            send_checksums: Some(true),
            caching_strategy: None,
        }),
        OpRequest::TransferBlock(OpTransferBlockProto {
            header: client_header(),
            targets: vec![datanode(1000)],
            ..Default::default()
        }),
        OpRequest::BlockChecksum(OpBlockChecksumProto {
            header: client_header().base_header,
            block_checksum_options: None,
        }),
        OpRequest::CopyBlock(OpCopyBlockProto {
            header: client_header().base_header,
        }),
    ]
}

async fn decode_op(bytes: &[u8]) -> Result<Option<OpRequest>> {
    let mut r = bytes;
    read_op(&mut r).await
}

async fn decode_packet(bytes: &[u8]) -> Result<Packet> {
    let mut r = bytes;
    read_packet(&mut r).await
}

#[tokio::test]
async fn ops_round_trip_and_are_framed_like_hadoop() {
    for op in all_ops() {
        let bytes = op.encode();
        assert_eq!(&bytes[..2], &28u16.to_be_bytes(), "version first");
        assert_eq!(bytes[2], op.op_code().code());
        let mut w = Vec::new();
        write_op(&mut w, &op).await.unwrap();
        assert_eq!(w, bytes);
        let back = decode_op(&bytes).await.unwrap().unwrap();
        assert_eq!(back, op);
    }
    assert_eq!(OpCode::WriteBlock.code(), 80);
    assert_eq!(OpCode::ReadBlock.code(), 81);
    assert_eq!(OpCode::BlockChecksum.code(), 85);
    assert_eq!(OpCode::TransferBlock.code(), 86);
}

#[tokio::test]
async fn several_ops_on_one_connection_then_clean_eof() {
    let ops = all_ops();
    let mut stream = Vec::new();
    for op in &ops {
        stream.extend_from_slice(&op.encode());
    }
    let mut r = stream.as_slice();
    for op in &ops {
        assert_eq!(&read_op(&mut r).await.unwrap().unwrap(), op);
    }
    assert!(read_op(&mut r).await.unwrap().is_none());
}

#[tokio::test]
async fn every_truncation_of_an_op_is_an_error() {
    for op in all_ops() {
        let bytes = op.encode();
        assert!(decode_op(&bytes[..0]).await.unwrap().is_none());
        for cut in 1..bytes.len() {
            match decode_op(&bytes[..cut]).await {
                Err(DataTransferError::Truncated { .. }) => {}
                other => panic!("cut at {cut} of {}: {other:?}", bytes.len()),
            }
        }
    }
}

#[tokio::test]
async fn bad_op_headers_are_refused() {
    let mut bytes = write_op_request().encode();
    bytes[1] = 27;
    assert!(matches!(
        decode_op(&bytes).await,
        Err(DataTransferError::UnsupportedVersion {
            got: 27,
            expected: 28
        })
    ));
    let mut bytes = write_op_request().encode();
    bytes[2] = 79;
    assert!(matches!(
        decode_op(&bytes).await,
        Err(DataTransferError::UnknownOp(79))
    ));
    // Garbage: an HTTP request on the data port.
    assert!(decode_op(b"GET / HTTP/1.1\r\n\r\n").await.is_err());
    // A huge body length: refused before allocating.
    let huge = [0, 28, 81, 0xff, 0xff, 0xff, 0xff, 0x0f];
    assert!(matches!(
        decode_op(&huge).await,
        Err(DataTransferError::TooLong { .. })
    ));
    // A varint that never ends.
    let endless = [0, 28, 81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    assert!(matches!(
        decode_op(&endless).await,
        Err(DataTransferError::InvalidPacket(_))
    ));
    // A body that is not the op's message.
    let junk = [0, 28, 81, 3, 0xff, 0xff, 0xff];
    assert!(matches!(
        decode_op(&junk).await,
        Err(DataTransferError::Decode { .. })
    ));
}

#[tokio::test]
async fn unsupported_ops_are_consumed_and_named() {
    // REQUEST_SHORT_CIRCUIT_SHM with a small body, followed by a real op.
    let mut bytes = vec![0, 28, 89, 3, 10, 1, b'x'];
    bytes.extend_from_slice(&all_ops()[1].encode());
    let mut r = bytes.as_slice();
    assert_eq!(
        read_op(&mut r).await.unwrap().unwrap(),
        OpRequest::Unsupported(OpCode::RequestShortCircuitShm)
    );
    assert_eq!(read_op(&mut r).await.unwrap().unwrap(), all_ops()[1]);
}

fn test_packet(offset: i64, seqno: i64, data: &[u8], checksum: &DataChecksum) -> Packet {
    let sums = checksum.compute(data);
    Packet::new(
        offset,
        seqno,
        false,
        false,
        Bytes::from(sums),
        Bytes::copy_from_slice(data),
    )
}

#[tokio::test]
async fn packets_round_trip_with_hadoop_lengths() {
    let cs = DataChecksum::crc32c_default();
    let data: Vec<u8> = (0..1300u32).map(|i| (i % 251) as u8).collect();
    let p = test_packet(1024, 7, &data, &cs);
    let bytes = p.encode().unwrap();
    let payload_len = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
    assert_eq!(
        payload_len,
        4 + 3 * 4 + 1300,
        "payload counts itself, checksums, data"
    );
    let header_len = u16::from_be_bytes(bytes[4..6].try_into().unwrap()) as usize;
    assert_eq!(header_len, p.header.encoded_len());
    assert_eq!(bytes.len(), 6 + header_len + payload_len - 4);
    let back = decode_packet(&bytes).await.unwrap();
    assert_eq!(back, p);
    back.verify(&cs).unwrap();

    let mut w = Vec::new();
    write_packet(&mut w, &p.header, &p.checksums, &p.data)
        .await
        .unwrap();
    assert_eq!(w, bytes);

    for special in [Packet::heartbeat(), Packet::last_in_block(4096, 9, true)] {
        let back = decode_packet(&special.encode().unwrap()).await.unwrap();
        assert_eq!(back, special);
        assert!(back.data.is_empty() && back.checksums.is_empty());
    }
    assert!(Packet::heartbeat().is_heartbeat());
    assert_eq!(Packet::heartbeat().header.seqno, -1);
    let last = Packet::last_in_block(4096, 9, true);
    assert!(last.is_last_in_block() && last.sync_block() && !last.is_heartbeat());
}

#[tokio::test]
async fn every_truncation_of_a_packet_is_an_error() {
    let cs = DataChecksum::crc32c_default();
    let data = vec![7u8; 700];
    let bytes = test_packet(0, 1, &data, &cs).encode().unwrap();
    for cut in 0..bytes.len() {
        match decode_packet(&bytes[..cut]).await {
            Err(DataTransferError::Truncated { .. }) => {}
            other => panic!("cut at {cut} of {}: {other:?}", bytes.len()),
        }
    }
}

#[tokio::test]
async fn hostile_packet_lengths_are_refused() {
    // Payload length of 4 GiB: refused from the 6 length bytes alone.
    let huge = [0xff, 0xff, 0xff, 0xff, 0, 20];
    assert!(matches!(
        decode_packet(&huge).await,
        Err(DataTransferError::TooLong { .. })
    ));
    // Just over the 16 MiB packet limit.
    let over = ((MAX_PACKET_SIZE as u32) - 10).to_be_bytes();
    let bytes = [over[0], over[1], over[2], over[3], 0, 20];
    assert!(matches!(
        decode_packet(&bytes).await,
        Err(DataTransferError::TooLong { .. })
    ));
    // A header length beyond the header limit.
    let h = ((MAX_PACKET_HEADER_LEN + 1) as u16).to_be_bytes();
    let bytes = [0, 0, 0, 4, h[0], h[1]];
    assert!(matches!(
        decode_packet(&bytes).await,
        Err(DataTransferError::TooLong { .. })
    ));
    // Payload length below the 4 bytes it counts for itself.
    let bytes = [0, 0, 0, 3, 0, 0];
    assert!(matches!(
        decode_packet(&bytes).await,
        Err(DataTransferError::InvalidPacket(_))
    ));

    // A header claiming more data than the payload holds.
    let mut header = packet_header(0, 1, false, 100, false);
    let mut prefix = encode_prefix(&header, 0, 100).unwrap();
    let payload = (4u32 + 10).to_be_bytes();
    prefix[..4].copy_from_slice(&payload);
    prefix.extend_from_slice(&[0u8; 10]);
    assert!(matches!(
        decode_packet(&prefix).await,
        Err(DataTransferError::InvalidPacket(_))
    ));
    // A negative data length.
    header.data_len = -5;
    let mut bytes = vec![0, 0, 0, 4];
    bytes.extend_from_slice(&(header.encoded_len() as u16).to_be_bytes());
    header.encode(&mut bytes).unwrap();
    assert!(matches!(
        decode_packet(&bytes).await,
        Err(DataTransferError::InvalidPacket(_))
    ));
    // A header that is not a PacketHeaderProto.
    let bytes = [0, 0, 0, 4, 0, 3, 0xff, 0xff, 0xff];
    assert!(matches!(
        decode_packet(&bytes).await,
        Err(DataTransferError::Decode { .. })
    ));

    // The writer side refuses to build what a reader would refuse.
    let big = packet_header(0, 1, false, MAX_PACKET_SIZE as i32, false);
    assert!(encode_prefix(&big, 0, MAX_PACKET_SIZE).is_err());
    let lying = packet_header(0, 1, false, 10, false);
    assert!(encode_prefix(&lying, 0, 11).is_err());
}

#[test]
fn bad_checksums_are_reported_at_the_first_bad_chunk() {
    for kind in [ChecksumType::Crc32c, ChecksumType::Crc32] {
        let cs = DataChecksum::new(kind, 512).unwrap();
        let data: Vec<u8> = (0..512 * 5 + 100).map(|i| (i * 13 % 256) as u8).collect();
        let sums = cs.compute(&data);
        assert_eq!(sums.len(), 6 * 4);
        cs.verify(&data, &sums, 4096).unwrap();
        for chunk in 0..6 {
            let mut bad = data.clone();
            let pos = (chunk * 512 + 17).min(data.len() - 1);
            bad[pos] ^= 0x40;
            // Also damage a later chunk: the first bad one must be named.
            let last = bad.len() - 1;
            if pos != last {
                bad[last] ^= 1;
            }
            match cs.verify(&bad, &sums, 4096) {
                Err(DataTransferError::ChecksumMismatch { offset, .. }) => {
                    assert_eq!(
                        offset,
                        4096 + (chunk as u64) * 512,
                        "{kind:?} chunk {chunk}"
                    )
                }
                other => panic!("{kind:?} chunk {chunk}: {other:?}"),
            }
        }
        // A damaged checksum rather than damaged data.
        let mut bad_sums = sums.clone();
        bad_sums[9] ^= 0xff;
        assert!(matches!(
            cs.verify(&data, &bad_sums, 0),
            Err(DataTransferError::ChecksumMismatch { offset: 1024, .. })
        ));
        // Checksums that do not cover the data.
        assert!(matches!(
            cs.verify(&data, &sums[..20], 0),
            Err(DataTransferError::InvalidPacket(_))
        ));
    }
}

#[test]
fn checksum_types_and_meta_headers() {
    // CRC32C of "123456789" is the standard check value.
    let cs = DataChecksum::crc32c_default();
    assert_eq!(cs.chunk_checksum(b"123456789"), 0xE306_9283);
    let crc32 = DataChecksum::new(ChecksumType::Crc32, 512).unwrap();
    assert_eq!(crc32.chunk_checksum(b"123456789"), 0xCBF4_3926);

    assert_eq!(cs.meta_header(), [0, 1, 2, 0, 0, 2, 0]);
    assert_eq!(
        DataChecksum::from_meta_header(&cs.meta_header()).unwrap(),
        cs
    );
    assert_eq!(
        DataChecksum::from_meta_header(&crc32.meta_header()).unwrap(),
        crc32
    );
    assert!(DataChecksum::from_meta_header(&[0, 1, 2, 0, 0]).is_err());
    assert!(DataChecksum::from_meta_header(&[0, 2, 2, 0, 0, 2, 0]).is_err());
    assert!(DataChecksum::from_meta_header(&[0, 1, 9, 0, 0, 2, 0]).is_err());
    assert!(DataChecksum::from_meta_header(&[0, 1, 2, 0, 0, 0, 0]).is_err());
    assert!(DataChecksum::new(ChecksumType::Crc32c, 0).is_err());
    assert!(DataChecksum::new(ChecksumType::Crc32c, MAX_BYTES_PER_CHECKSUM + 1).is_err());

    assert_eq!(DataChecksum::from_proto(&cs.to_proto()).unwrap(), cs);
    assert!(DataChecksum::from_proto(&ChecksumProto {
        r#type: 7,
        bytes_per_checksum: 512
    })
    .is_err());
    assert_eq!(
        ChecksumType::from_name("crc32c").unwrap(),
        ChecksumType::Crc32c
    );
    assert!(ChecksumType::from_name("md5").is_err());

    let null = DataChecksum::new(ChecksumType::Null, 512).unwrap();
    assert!(null.compute(&[1, 2, 3]).is_empty());
    null.verify(&[1, 2, 3], &[], 0).unwrap();

    assert_eq!(data_per_packet(64 * 1024, &cs), 126 * 512);
    assert_eq!(data_per_packet(10, &cs), 512, "at least one chunk");
}

#[tokio::test]
async fn packet_verify_reports_block_offsets() {
    let cs = DataChecksum::crc32c_default();
    let data = vec![3u8; 2048];
    let mut p = test_packet(65536, 3, &data, &cs);
    p.verify(&cs).unwrap();
    let mut d = data.clone();
    d[1500] = 4;
    p.data = Bytes::from(d);
    let back = decode_packet(&p.encode().unwrap()).await.unwrap();
    assert!(matches!(
        back.verify(&cs),
        Err(DataTransferError::ChecksumMismatch { offset: 66560, .. })
    ));
}

#[tokio::test]
async fn acks_carry_status_in_reply_and_flag() {
    let ack = pipeline_ack(
        42,
        &[Status::Success, Status::ErrorChecksum, Status::Success],
        1234,
    );
    assert_eq!(ack.reply, vec![0, 2, 0]);
    assert_eq!(ack.flag, vec![0, 2, 0]);
    let mut w = Vec::new();
    write_ack(&mut w, &ack).await.unwrap();
    let back = read_ack(&mut w.as_slice()).await.unwrap();
    assert_eq!(back, ack);
    assert_eq!(
        ack_statuses(&back).unwrap(),
        vec![Status::Success, Status::ErrorChecksum, Status::Success]
    );
    assert!(!ack_is_success(&back));
    assert!(ack_is_success(&pipeline_ack(1, &[Status::Success; 3], 0)));

    // Bit layout: status 0-3, reserved 4, ECN 5-6, SLOW 7-8.
    let f = combine_flag(Status::ErrorChecksum, Ecn::Congested, Slow::Slow);
    assert_eq!(f, 2 | 3 << 5 | 2 << 7);
    assert_eq!(status_of_flag(f).unwrap(), Status::ErrorChecksum);
    assert_eq!(hafs_datatransfer::ack::ecn_of_flag(f), Ecn::Congested);
    assert_eq!(hafs_datatransfer::ack::slow_of_flag(f), Slow::Slow);
    assert!(status_of_flag(15).is_err());

    let relayed = pipeline_ack_from_flags(5, &[f, 0], 10).unwrap();
    assert_eq!(relayed.reply, vec![2, 0]);

    // An old sender without flags: statuses come from `reply`.
    let old = PipelineAckProto {
        seqno: 3,
        reply: vec![0, 1],
        downstream_ack_time_nanos: None,
        flag: vec![],
    };
    assert_eq!(
        ack_statuses(&old).unwrap(),
        vec![Status::Success, Status::Error]
    );
    // Flags that disagree in number with replies.
    let odd = PipelineAckProto {
        seqno: 3,
        reply: vec![0, 0],
        downstream_ack_time_nanos: None,
        flag: vec![0],
    };
    assert!(ack_statuses(&odd).is_err());
    // Flags win over replies, as in Hadoop's writer.
    let mixed = PipelineAckProto {
        seqno: 3,
        reply: vec![0],
        downstream_ack_time_nanos: None,
        flag: vec![1],
    };
    assert_eq!(ack_statuses(&mixed).unwrap(), vec![Status::Error]);

    for cut in 0..w.len() {
        assert!(read_ack(&mut &w[..cut]).await.is_err(), "cut {cut}");
    }
}

#[tokio::test]
async fn responses_and_read_status_round_trip() {
    let mut resp = op_response(Status::Success, "");
    resp.read_op_checksum_info = Some(ReadOpChecksumInfoProto {
        checksum: DataChecksum::crc32c_default().to_proto(),
        chunk_offset: 512,
    });
    let mut w = Vec::new();
    write_op_response(&mut w, &resp).await.unwrap();
    write_client_read_status(&mut w, Status::ChecksumOk)
        .await
        .unwrap();
    write_transfer_ack(&mut w, Status::Success).await.unwrap();
    let mut r = w.as_slice();
    let back = read_op_response(&mut r).await.unwrap();
    assert_eq!(back, resp);
    assert_eq!(response_status(&back), Status::Success);
    let st = read_client_read_status(&mut r).await.unwrap().unwrap();
    assert_eq!(st.status, Status::ChecksumOk as i32);
    assert_eq!(read_transfer_ack(&mut r).await.unwrap().status, 0);
    assert!(read_client_read_status(&mut r).await.unwrap().is_none());

    let err = op_response(Status::ErrorInvalid, "no such block");
    assert_eq!(err.message.as_deref(), Some("no such block"));
    assert_eq!(
        response_status(&BlockOpResponseProto {
            status: 99,
            ..Default::default()
        }),
        Status::Error
    );
}

#[tokio::test]
async fn randomized_streams_round_trip_and_garbage_never_panics() {
    let seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut rng = XorShift64::new(seed);
    for round in 0..200 {
        let bpc = [1u32, 7, 512, 4096][rng.below(4) as usize];
        let kind = [
            ChecksumType::Crc32c,
            ChecksumType::Crc32,
            ChecksumType::Null,
        ][rng.below(3) as usize];
        let cs = DataChecksum::new(kind, bpc).unwrap();
        // A stream of packets, heartbeats and acks, as a pipeline would carry.
        let mut packets = Vec::new();
        let mut stream = Vec::new();
        let mut offset = 0i64;
        for seqno in 0..rng.below(6) as i64 {
            let p = if rng.below(5) == 0 {
                Packet::heartbeat()
            } else {
                let len = rng.below(3 * bpc as u64 + 5) as usize;
                let data: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
                let p = test_packet(offset, seqno, &data, &cs);
                offset += len as i64;
                p
            };
            stream.extend_from_slice(&p.encode().unwrap());
            packets.push(p);
        }
        let last = Packet::last_in_block(offset, 99, false);
        stream.extend_from_slice(&last.encode().unwrap());
        packets.push(last);
        let mut r = stream.as_slice();
        for p in &packets {
            let back = read_packet(&mut r).await.unwrap();
            assert_eq!(&back, p, "seed {seed:#x} round {round}");
            back.verify(&cs).unwrap();
        }
        assert!(r.is_empty());

        // Flip random bytes: decoding may fail or succeed, but must not panic or hang,
        // and any checksum damage within the data must be caught by verify.
        let mut damaged = stream.clone();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(damaged.len() as u64) as usize;
            damaged[i] ^= 1 << rng.below(8);
        }
        let mut r = damaged.as_slice();
        for _ in 0..packets.len() {
            match read_packet(&mut r).await {
                Ok(p) => {
                    let _ = p.verify(&cs);
                }
                Err(_) => break,
            }
        }
        // Pure garbage as an op and as a packet.
        let garbage: Vec<u8> = (0..rng.below(64)).map(|_| rng.next_u64() as u8).collect();
        let _ = decode_op(&garbage).await;
        let _ = decode_packet(&garbage).await;
    }
}

#[tokio::test]
async fn damaged_data_is_caught_by_verify_at_its_chunk() {
    let mut rng = XorShift64::new(12345);
    let cs = DataChecksum::crc32c_default();
    for _ in 0..100 {
        let len = 1 + rng.below(8 * 512) as usize;
        let data: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        let p = test_packet(0, 0, &data, &cs);
        let mut bytes = p.encode().unwrap();
        let data_start = bytes.len() - len;
        let pos = rng.below(len as u64) as usize;
        bytes[data_start + pos] ^= 1 << rng.below(8);
        let back = decode_packet(&bytes).await.unwrap();
        match back.verify(&cs) {
            Err(DataTransferError::ChecksumMismatch { offset, .. }) => {
                assert_eq!(offset, (pos / 512 * 512) as u64)
            }
            other => panic!("damage at {pos} not caught: {other:?}"),
        }
    }
}
