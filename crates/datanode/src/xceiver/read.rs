//! READ_BLOCK and BLOCK_CHECKSUM.

use hafs_datatransfer::{
    op_response, packet_header, read_client_read_status, write_packet, BlockOpResponseProto,
    ChecksumProto, OpBlockChecksumProto, OpBlockChecksumResponseProto, OpReadBlockProto,
    ReadOpChecksumInfoProto, Status,
};
use tokio::io::AsyncWriteExt;

use crate::storage::{BlockEvent, ChecksumType, DnStorageError, ExtendedBlock, ReplicaReader};
use crate::xceiver::{send_response, status_of, timed, Conn, Shared, XResult, XceiverError};

fn error_response(e: &DnStorageError) -> BlockOpResponseProto {
    op_response(status_of(e), e.to_string())
}

async fn open(shared: &Shared, block: &ExtendedBlock) -> Result<ReplicaReader, DnStorageError> {
    let storage = shared.storage.clone();
    let b = block.clone();
    tokio::task::spawn_blocking(move || storage.open_for_read(&b))
        .await
        .unwrap_or_else(|e| Err(DnStorageError::Invalid(format!("reader task failed: {e}"))))
}

/// Streams `[offset, offset + len)` of a replica: the response with the checksum info,
/// packets of whole chunks from the chunk boundary at or before `offset`, an empty last
/// packet, then the reader's status (read and ignored). Returns whether the connection
/// may carry another op.
pub(crate) async fn read_block(
    shared: &Shared,
    c: &mut Conn,
    m: OpReadBlockProto,
) -> XResult<bool> {
    let block = ExtendedBlock::from_proto(&m.header.base_header.block);
    let reader = match open(shared, &block).await {
        Ok(r) => r,
        Err(e) => {
            tracing::info!(peer = %c.peer, %block, error = %e, "cannot serve read");
            send_response(shared, c, &error_response(&e)).await?;
            return Ok(true);
        }
    };
    let visible = reader.visible_length();
    let end = m.offset.checked_add(m.len);
    if m.offset > visible || end.is_none_or(|e| e > visible) {
        let msg = format!(
            "Offset {} and length {} don't match block {} (visible length {visible})",
            m.offset, m.len, block
        );
        send_response(shared, c, &op_response(Status::Error, msg)).await?;
        return Ok(true);
    }
    let end = end.unwrap_or(visible);
    let checksum = reader.checksum();
    let bpc = checksum.bpc();
    let start = m.offset - m.offset % bpc;
    let end_aligned = end.div_ceil(bpc).saturating_mul(bpc).min(visible);
    let send_sums = m.send_checksums.unwrap_or(true);
    let kind = if send_sums {
        checksum.kind
    } else {
        ChecksumType::Null
    };
    let resp = BlockOpResponseProto {
        status: Status::Success as i32,
        read_op_checksum_info: Some(ReadOpChecksumInfoProto {
            checksum: ChecksumProto {
                r#type: kind.code() as i32,
                bytes_per_checksum: checksum.bytes_per_checksum,
            },
            chunk_offset: start,
        }),
        ..Default::default()
    };
    send_response(shared, c, &resp).await?;

    send_packets(shared, c, &reader, start, end_aligned, send_sums, false).await?;
    let d = shared.config.socket_timeout;
    // The reader says CHECKSUM_OK (or SUCCESS); its verdict changes nothing here, but it
    // must be consumed before the next op on this connection.
    match tokio::time::timeout(d, read_client_read_status(&mut c.r)).await {
        Ok(Ok(Some(_))) => Ok(true),
        Ok(Ok(None)) => Ok(false),
        Ok(Err(e)) => {
            tracing::debug!(peer = %c.peer, error = %e, "no client read status");
            Ok(false)
        }
        Err(_) => Err(XceiverError::Timeout(d, "the client read status")),
    }
}

/// Streams `[start, end)` of `reader` (chunk-aligned) as data packets, then the empty
/// last packet: READ_BLOCK's body, and COPY_BLOCK's through the balancer bandwidth
/// (`throttled`). A corrupt chunk is reported to the NameNode and ends the stream.
pub(crate) async fn send_packets(
    shared: &Shared,
    c: &mut Conn,
    reader: &ReplicaReader,
    start: u64,
    end: u64,
    send_sums: bool,
    throttled: bool,
) -> XResult<()> {
    let bpc = reader.checksum().bpc();
    let per_packet = ((shared.config.packet_size as u64 / bpc).max(1) * bpc) as usize;
    let d = shared.config.socket_timeout;
    let (mut data, mut sums) = (Vec::new(), Vec::new());
    let (mut pos, mut seqno) = (start, 0i64);
    while pos < end {
        let n = per_packet.min((end - pos) as usize);
        if let Err(e) = reader.read_chunks(pos, n, &mut data, &mut sums) {
            if let DnStorageError::CorruptReplica { reason, .. } = &e {
                shared
                    .event(BlockEvent::Corrupt {
                        block: reader.block(),
                        storage_id: reader.info().storage_id.clone(),
                        reason: reason.clone(),
                    })
                    .await;
            }
            return Err(e.into());
        }
        if !send_sums {
            sums.clear();
        }
        if throttled {
            shared.config.balance.throttle(n).await;
        }
        let h = packet_header(pos as i64, seqno, false, n as i32, false);
        timed(
            d,
            "sending a packet",
            write_packet(&mut c.w, &h, &sums, &data),
        )
        .await?;
        pos += n as u64;
        seqno += 1;
    }
    let last = packet_header(pos as i64, seqno, true, 0, false);
    timed(
        d,
        "sending the last packet",
        write_packet(&mut c.w, &last, &[], &[]),
    )
    .await?;
    timed(d, "sending the last packet", c.w.flush()).await?;
    Ok(())
}

/// The MD5 of the replica's chunk CRCs over `block.numBytes` bytes (Hadoop's MD5CRC
/// block checksum, combined by the client into an MD5-of-MD5-of-CRC file checksum).
pub(crate) async fn block_checksum(
    shared: &Shared,
    c: &mut Conn,
    m: OpBlockChecksumProto,
) -> XResult<bool> {
    let block = ExtendedBlock::from_proto(&m.header.block);
    if let Some(opts) = &m.block_checksum_options {
        if opts.block_checksum_type.unwrap_or(1) != 1 {
            let resp = op_response(
                Status::ErrorUnsupported,
                "only MD5CRC block checksums are supported (dfs.checksum.combine.mode=MD5MD5CRC)",
            );
            send_response(shared, c, &resp).await?;
            return Ok(true);
        }
    }
    let reader = match open(shared, &block).await {
        Ok(r) => r,
        Err(e) => {
            send_response(shared, c, &error_response(&e)).await?;
            return Ok(true);
        }
    };
    let len = if m.header.block.num_bytes.is_some() {
        block.num_bytes
    } else {
        reader.visible_length()
    };
    let checksum = reader.checksum();
    let crcs = match tokio::task::spawn_blocking(move || reader.block_crcs(len)).await {
        Ok(r) => r,
        Err(e) => Err(DnStorageError::Invalid(format!(
            "checksum task failed: {e}"
        ))),
    };
    let crcs = match crcs {
        Ok(c) => c,
        Err(e) => {
            send_response(shared, c, &error_response(&e)).await?;
            return Ok(true);
        }
    };
    let md5 = hafs_datatransfer::md5::md5(&crcs);
    let resp = BlockOpResponseProto {
        status: Status::Success as i32,
        checksum_response: Some(OpBlockChecksumResponseProto {
            bytes_per_crc: checksum.bytes_per_checksum,
            crc_per_block: checksum.chunks(len),
            block_checksum: md5.to_vec().into(),
            crc_type: Some(checksum.kind.code() as i32),
            block_checksum_options: None,
        }),
        ..Default::default()
    };
    send_response(shared, c, &resp).await?;
    Ok(true)
}
