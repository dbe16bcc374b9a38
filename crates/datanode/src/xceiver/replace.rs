//! The balancer's block move (Hadoop's DataXceiver.copyBlock / replaceBlock).
//!
//! The balancer sends REPLACE_BLOCK to the target DataNode, naming a proxy that holds
//! the block and the DataNode whose replica may go (`delHint`). The target sends
//! COPY_BLOCK to the proxy, which streams the whole finalized replica back; the target
//! stores it as a new finalized replica (checksums verified packet by packet), reports
//! it to the NameNode as RECEIVED with the hint, and answers the balancer. The NameNode
//! then finds the block over-replicated and deletes the hinted replica when the rack
//! rule allows.
//!
//! A long move tells the balancer it is alive with IN_PROGRESS answers before the last.
//! Both sides count the move against `dfs.datanode.balance.max.concurrent.moves` and
//! send or receive its bytes through the shared balancer bandwidth.

use hafs_datatransfer::{
    op_response, read_op_response, read_packet, response_status, write_op, BlockOpResponseProto,
    ChecksumProto, OpRequest, ReadOpChecksumInfoProto, Status,
};
use hafs_proto::hdfs::{BaseHeaderProto, OpCopyBlockProto, OpReplaceBlockProto};
use tokio::io::AsyncWriteExt;

use crate::storage::{BlockEvent, DataChecksum, DnStorageError, ExtendedBlock};
use crate::xceiver::read::send_packets;
use crate::xceiver::{
    connect_peer, send_response, status_of, timed, xfer_addr, Conn, Shared, XResult, XceiverError,
};

/// COPY_BLOCK: streams a whole finalized replica to the DataNode that asked (the
/// target of a balancer move), through the balancer bandwidth.
pub(crate) async fn copy_block(
    shared: &Shared,
    c: &mut Conn,
    m: OpCopyBlockProto,
) -> XResult<bool> {
    let block = ExtendedBlock::from_proto(&m.header.block);
    let balance = shared.config.balance.clone();
    let Some(_slot) = balance.try_acquire() else {
        let msg = format!(
            "Not able to copy block {} to {} because threads quota={} is exceeded.",
            block.block_id,
            c.peer,
            balance.max_moves()
        );
        tracing::info!("{msg}");
        send_response(shared, c, &op_response(Status::Error, msg)).await?;
        return Ok(false);
    };
    let storage = shared.storage.clone();
    let b = block.clone();
    let opened = tokio::task::spawn_blocking(move || {
        let r = storage.open_for_read(&b)?;
        if r.info().state != crate::storage::ReplicaState::Finalized {
            return Err(DnStorageError::Invalid(format!(
                "replica {b} is not finalized; only finalized replicas are copied"
            )));
        }
        Ok(r)
    })
    .await
    .unwrap_or_else(|e| Err(DnStorageError::Invalid(format!("reader task failed: {e}"))));
    let reader = match opened {
        Ok(r) => r,
        Err(e) => {
            tracing::info!(peer = %c.peer, %block, error = %e, "cannot serve copy");
            send_response(shared, c, &op_response(status_of(&e), e.to_string())).await?;
            return Ok(false);
        }
    };
    let len = reader.visible_length();
    let checksum = reader.checksum();
    let resp = BlockOpResponseProto {
        status: Status::Success as i32,
        read_op_checksum_info: Some(ReadOpChecksumInfoProto {
            checksum: ChecksumProto {
                r#type: checksum.kind.code() as i32,
                bytes_per_checksum: checksum.bytes_per_checksum,
            },
            chunk_offset: 0,
        }),
        ..Default::default()
    };
    send_response(shared, c, &resp).await?;
    send_packets(shared, c, &reader, 0, len, true, true).await?;
    tracing::info!(%block, peer = %c.peer, bytes = len, "copied block for the balancer");
    Ok(false)
}

/// REPLACE_BLOCK: copies the block from the proxy, stores it, reports it RECEIVED with
/// the delete hint and answers the balancer.
pub(crate) async fn replace_block(
    shared: &Shared,
    c: &mut Conn,
    m: OpReplaceBlockProto,
) -> XResult<bool> {
    let block = ExtendedBlock::from_proto(&m.header.block);
    let balance = shared.config.balance.clone();
    let Some(_slot) = balance.try_acquire() else {
        let msg = format!(
            "Not able to receive block {} from {} because threads quota={} is exceeded.",
            block.block_id,
            c.peer,
            balance.max_moves()
        );
        tracing::warn!("{msg}");
        send_response(shared, c, &op_response(Status::Error, msg)).await?;
        return Ok(false);
    };
    let proxy = xfer_addr(&m.source);
    let resp = match receive_from_proxy(shared, c, &m, &block).await {
        Ok(info) => {
            tracing::info!(
                %block, %proxy, del_hint = %m.del_hint, peer = %c.peer,
                "Moved block from proxy for the balancer"
            );
            shared
                .event(BlockEvent::Received {
                    block: info.block(),
                    storage_id: info.storage_id.clone(),
                    del_hint: m.del_hint.clone(),
                })
                .await;
            op_response(Status::Success, "")
        }
        Err(e) => {
            let msg = format!("opReplaceBlock {block} received exception {e}");
            tracing::info!(peer = %c.peer, "{msg}");
            op_response(Status::Error, msg)
        }
    };
    send_response(shared, c, &resp).await?;
    Ok(false)
}

async fn receive_from_proxy(
    shared: &Shared,
    c: &mut Conn,
    m: &OpReplaceBlockProto,
    block: &ExtendedBlock,
) -> XResult<crate::storage::ReplicaInfo> {
    let config = &shared.config;
    let proxy = xfer_addr(&m.source);
    let down = |e: XceiverError| XceiverError::Downstream(proxy.clone(), e.to_string());
    let (mut r, mut w) = connect_peer(config, &m.source, m.header.token.as_ref())
        .await
        .map_err(down)?;
    let d = config.socket_timeout;
    let op = OpCopyBlockProto {
        header: BaseHeaderProto {
            block: m.header.block.clone(),
            token: m.header.token.clone(),
            trace_info: None,
        },
    };
    timed(
        d,
        "sending COPY_BLOCK",
        write_op(&mut w, &OpRequest::CopyBlock(op)),
    )
    .await
    .map_err(down)?;
    timed(d, "sending COPY_BLOCK", w.flush())
        .await
        .map_err(down)?;
    let resp = timed(d, "the COPY_BLOCK response", read_op_response(&mut r))
        .await
        .map_err(down)?;
    if response_status(&resp) != Status::Success {
        return Err(XceiverError::Downstream(
            proxy.clone(),
            format!(
                "Copy block {block} from {proxy} failed: {}",
                resp.message.unwrap_or_default()
            ),
        ));
    }
    let info = resp.read_op_checksum_info.ok_or_else(|| {
        XceiverError::Invalid(format!(
            "the COPY_BLOCK response from {proxy} carries no checksum info"
        ))
    })?;
    let checksum = DataChecksum::new(
        info.checksum.r#type as u32,
        info.checksum.bytes_per_checksum,
    )?;
    let storage = shared.storage.clone();
    let b = block.clone();
    let mut writer = tokio::task::spawn_blocking(move || storage.create_temporary(&b, checksum))
        .await
        .map_err(|e| XceiverError::Invalid(format!("writer task failed: {e}")))??;
    let mut expected = 0u64;
    // A throttled move may take longer than the balancer's read timeout: it hears
    // IN_PROGRESS every half socket timeout until the final answer (as from Hadoop's
    // BlockReceiver).
    let progress_every = d / 2;
    let mut last_progress = tokio::time::Instant::now();
    loop {
        if last_progress.elapsed() >= progress_every {
            send_response(shared, c, &op_response(Status::InProgress, "")).await?;
            last_progress = tokio::time::Instant::now();
        }
        let pkt = timed(d, "a packet from the proxy", read_packet(&mut r))
            .await
            .map_err(down)?;
        if pkt.is_heartbeat() {
            continue;
        }
        let offset = u64::try_from(pkt.header.offset_in_block).map_err(|_| {
            XceiverError::Invalid(format!(
                "negative packet offset {}",
                pkt.header.offset_in_block
            ))
        })?;
        if offset != expected {
            return Err(XceiverError::Invalid(format!(
                "packet at offset {offset} from {proxy}, expected {expected}"
            )));
        }
        if !pkt.data.is_empty() {
            shared.config.balance.throttle(pkt.data.len()).await;
            // The writer verifies the packet's checksums before it stores a byte.
            writer.write_packet(offset, &pkt.data, &pkt.checksums)?;
            expected = offset + pkt.data.len() as u64;
        }
        if pkt.is_last_in_block() {
            break;
        }
    }
    if expected != block.num_bytes && block.num_bytes != 0 {
        return Err(XceiverError::Invalid(format!(
            "received {expected} bytes of {block} from {proxy}, expected {}",
            block.num_bytes
        )));
    }
    let info = tokio::task::spawn_blocking(move || writer.finalize())
        .await
        .map_err(|e| XceiverError::Invalid(format!("finalize task failed: {e}")))??;
    Ok(info)
}
