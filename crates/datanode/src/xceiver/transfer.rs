//! Copying a replica to other DataNodes: the TRANSFER_BLOCK op (a client adding a
//! DataNode to its pipeline) and [`transfer_block`] (the NameNode's TRANSFER command,
//! re-replication). Both send a WRITE_BLOCK to the first target with the rest as its
//! pipeline, then the replica's packets.

use hafs_datatransfer::{
    op_response, packet_header, read_transfer_ack, write_op, write_packet, BlockConstructionStage,
    ChecksumProto, OpRequest, OpTransferBlockProto, OpWriteBlockProto, Status,
};
use hafs_proto::hdfs::{BaseHeaderProto, ClientOperationHeaderProto, DatanodeInfoProto};
use hafs_security::block_token::AccessMode;
use tokio::io::AsyncWriteExt;

use crate::storage::{DataNodeStorage, ExtendedBlock, ReplicaState};
use crate::xceiver::{
    connect_peer, send_response, timed, xfer_addr, Conn, Shared, XResult, XceiverConfig,
    XceiverError,
};

/// Copies the replica of `block` to `targets` (a pipeline: `targets[0]` forwards to the
/// rest), as a DataNode-initiated write (stage PIPELINE_SETUP_CREATE, no client name):
/// what the NameNode's TRANSFER (re-replication) command asks. The receivers finalize
/// the copy and report it to the NameNode themselves; the protocol sends nothing back,
/// so success here means every byte was sent.
pub async fn transfer_block(
    storage: &DataNodeStorage,
    config: &XceiverConfig,
    block: &ExtendedBlock,
    targets: &[DatanodeInfoProto],
    target_storage_types: &[i32],
) -> XResult<()> {
    send_replica(
        storage,
        config,
        block,
        targets,
        target_storage_types,
        "",
        BlockConstructionStage::PipelineSetupCreate,
    )
    .await
}

/// TRANSFER_BLOCK: copy a replica being written (or finalized) to the DataNodes a client
/// is adding to its pipeline; answer once the targets confirmed.
pub(crate) async fn transfer_block_op(
    shared: &Shared,
    c: &mut Conn,
    m: OpTransferBlockProto,
) -> XResult<bool> {
    let block = ExtendedBlock::from_proto(&m.header.base_header.block);
    let stage = match shared.storage.get_replica(&block.pool_id, block.block_id) {
        Some(r) if r.state == ReplicaState::Finalized => BlockConstructionStage::TransferFinalized,
        Some(_) => BlockConstructionStage::TransferRbw,
        None => {
            let resp = op_response(Status::Error, format!("Replica not found for {block}"));
            send_response(shared, c, &resp).await?;
            return Ok(true);
        }
    };
    let result = send_replica(
        &shared.storage,
        &shared.config,
        &block,
        &m.targets,
        &m.target_storage_types,
        &m.header.client_name,
        stage,
    )
    .await;
    let resp = match &result {
        Ok(()) => op_response(Status::Success, ""),
        Err(e) => {
            tracing::info!(%block, error = %e, "transfer for pipeline recovery failed");
            op_response(Status::Error, e.to_string())
        }
    };
    send_response(shared, c, &resp).await?;
    Ok(true)
}

async fn send_replica(
    storage: &DataNodeStorage,
    config: &XceiverConfig,
    block: &ExtendedBlock,
    targets: &[DatanodeInfoProto],
    target_storage_types: &[i32],
    client_name: &str,
    stage: BlockConstructionStage,
) -> XResult<()> {
    let first = targets
        .first()
        .ok_or_else(|| XceiverError::Invalid(format!("transfer of {block} names no target")))?;
    let st = storage.clone();
    let b = block.clone();
    let reader = tokio::task::spawn_blocking(move || st.open_for_read(&b))
        .await
        .map_err(|e| XceiverError::Invalid(format!("reader task failed: {e}")))??;
    let visible = reader.visible_length();
    let len = if block.num_bytes > 0 && block.num_bytes <= visible {
        block.num_bytes
    } else {
        visible
    };
    let checksum = reader.checksum();
    let replica_block = ExtendedBlock {
        num_bytes: len,
        ..reader.block()
    };
    // The copy is this DataNode's own write: it signs a WRITE token with the current
    // block key (Hadoop's DataTransfer), which the target checks and the SASL
    // handshake proves.
    let token = config.security.generate(
        &replica_block.pool_id,
        replica_block.block_id,
        &[AccessMode::Write],
    );
    let op = OpWriteBlockProto {
        header: ClientOperationHeaderProto {
            base_header: BaseHeaderProto {
                block: replica_block.to_proto(),
                token: token.clone(),
                trace_info: None,
            },
            client_name: client_name.to_string(),
        },
        targets: targets[1..].to_vec(),
        source: None,
        stage: stage as i32,
        pipeline_size: targets.len() as u32,
        min_bytes_rcvd: len,
        max_bytes_rcvd: len,
        latest_generation_stamp: replica_block.gen_stamp,
        requested_checksum: ChecksumProto {
            r#type: checksum.kind.code() as i32,
            bytes_per_checksum: checksum.bytes_per_checksum,
        },
        // Each target writes on a volume of the type it was chosen for.
        storage_type: target_storage_types.first().copied(),
        target_storage_types: target_storage_types.get(1..).unwrap_or_default().to_vec(),
        ..Default::default()
    };
    let addr = xfer_addr(first);
    let down = |e: XceiverError| XceiverError::Downstream(addr.clone(), e.to_string());
    let (mut r, mut w) = connect_peer(config, first, token.as_ref())
        .await
        .map_err(down)?;
    let d = config.socket_timeout;
    timed(
        d,
        "sending the op",
        write_op(&mut w, &OpRequest::WriteBlock(op)),
    )
    .await
    .map_err(down)?;
    let bpc = checksum.bpc();
    let per_packet = ((config.packet_size as u64 / bpc).max(1) * bpc) as usize;
    let (mut data, mut sums) = (Vec::new(), Vec::new());
    let mut pos = 0u64;
    let mut seqno = 0i64;
    while pos < len {
        let n = per_packet.min((len - pos) as usize);
        reader.read_chunks(pos, n, &mut data, &mut sums)?;
        let h = packet_header(pos as i64, seqno, false, n as i32, false);
        timed(
            d,
            "sending a packet",
            write_packet(&mut w, &h, &sums, &data),
        )
        .await
        .map_err(down)?;
        pos += n as u64;
        seqno += 1;
    }
    let last = packet_header(pos as i64, seqno, true, 0, false);
    timed(
        d,
        "sending the last packet",
        write_packet(&mut w, &last, &[], &[]),
    )
    .await
    .map_err(down)?;
    timed(d, "sending the last packet", w.flush())
        .await
        .map_err(down)?;
    if !client_name.is_empty() {
        let ack = timed(d, "the transfer ack", read_transfer_ack(&mut r))
            .await
            .map_err(down)?;
        if ack.status != Status::Success as i32 {
            return Err(XceiverError::Downstream(
                addr.clone(),
                format!("transfer refused with status {}", ack.status),
            ));
        }
    } else {
        // Nothing comes back for a DataNode-initiated copy; wait for the receiver to
        // close (it has then stored the last packet) so the caller's success means
        // something, bounded by the socket timeout.
        let _ = w.shutdown().await;
        let mut sink = [0u8; 64];
        let _ = tokio::time::timeout(d, tokio::io::AsyncReadExt::read(&mut r, &mut sink)).await;
    }
    tracing::info!(block = %replica_block, target = %addr, targets = targets.len(), "transferred replica");
    Ok(())
}
