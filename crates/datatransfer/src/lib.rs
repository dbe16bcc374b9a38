//! Codec for Hadoop's DataTransferProtocol, version 28: the protocol on a DataNode's
//! data port, spoken by HDFS clients (Java, hdfs-native, ours) and between DataNodes.
//!
//! This crate knows bytes, not sockets: it encodes and decodes op requests, responses,
//! packets and pipeline acks, and computes and verifies chunk checksums. The async
//! helpers work over any tokio `AsyncRead` / `AsyncWrite`; wrap raw sockets in
//! `BufReader` / `BufWriter`, since small messages are read byte by byte for their varint
//! prefixes, and flush after writing. Every length read from the peer is bounded before
//! anything is allocated for it; bad input is an error, never a panic.
//!
//! Conversation shapes (the server side lives in `hafs-datanode`, the client side in
//! `hafs-client`):
//! - READ_BLOCK: op → `BlockOpResponseProto` (with `readOpChecksumInfo`) → packets, the
//!   last one empty with `lastPacketInBlock` → the reader's `ClientReadStatusProto`.
//! - WRITE_BLOCK: op → `BlockOpResponseProto` (with `firstBadLink` on failure) → packets
//!   downstream, one `PipelineAckProto` upstream per packet (heartbeats included), the
//!   last packet empty with `lastPacketInBlock`.
//! - BLOCK_CHECKSUM: op → `BlockOpResponseProto` with `checksumResponse`.
//! - TRANSFER_BLOCK: op → `BlockOpResponseProto` once the copy is done.

pub mod ack;
pub mod checksum;
pub mod cipher_stream;
pub mod crc32;
pub mod delimited;
pub mod error;
pub mod md5;
pub mod op;
pub mod packet;
pub mod response;
pub mod sasl;

pub use ack::{
    ack_flag, ack_is_success, ack_statuses, combine_flag, pipeline_ack, pipeline_ack_from_flags,
    read_ack, status_of_flag, write_ack, Ecn, Slow, UNKNOWN_SEQNO,
};
pub use checksum::{ChecksumType, DataChecksum, DEFAULT_BYTES_PER_CHECKSUM, META_HEADER_LEN};
pub use error::{DataTransferError, Result};
pub use op::{read_op, write_op, OpCode, OpRequest, DATA_TRANSFER_VERSION};
pub use packet::{
    data_per_packet, packet_header, read_packet, write_packet, Packet, HEARTBEAT_SEQNO,
    MAX_PACKET_SIZE,
};
pub use response::{
    op_response, read_client_read_status, read_op_response, read_transfer_ack, response_status,
    write_client_read_status, write_op_response, write_transfer_ack,
};

/// The protobuf types of the protocol, re-exported for callers' convenience.
pub use hafs_proto::hdfs::{
    op_write_block_proto::BlockConstructionStage, BlockOpResponseProto, ChecksumProto,
    ClientReadStatusProto, OpBlockChecksumProto, OpBlockChecksumResponseProto, OpReadBlockProto,
    OpTransferBlockProto, OpWriteBlockProto, PacketHeaderProto, PipelineAckProto,
    ReadOpChecksumInfoProto, Status,
};
