//! WRITE_BLOCK: replica set-up for every pipeline stage, the packet receiver (forward
//! downstream, then store), and the responder that merges downstream acks into this
//! node's acks upstream.
//!
//! Checksums are verified once per node, by the replica writer just before it stores a
//! packet (a corrupt packet stores nothing and is answered with ERROR_CHECKSUM). The
//! receiver does not verify again, and forwards before storing, as Hadoop's
//! BlockReceiver forwards before it verifies.
//!
//! Who talks back, as in Hadoop's DataXceiver: a client write (client name set, not a
//! TRANSFER_* stage) gets a connect response (with `firstBadLink`) and one ack per
//! packet; a TRANSFER_RBW / TRANSFER_FINALIZED copy gets only a final response after the
//! last packet; a DataNode-initiated copy (empty client name: re-replication) gets
//! nothing back.

use hafs_datatransfer::sasl::{BoxRead, BoxWrite};
use hafs_datatransfer::{
    ack_flag, combine_flag, op_response, pipeline_ack_from_flags, read_ack, read_op_response,
    read_packet, response_status, status_of_flag, write_ack, write_op, write_packet,
    BlockConstructionStage, BlockOpResponseProto, Ecn, OpRequest, OpWriteBlockProto, Slow, Status,
};
use hafs_util::invariant;
use tokio::io::{AsyncWriteExt, BufReader, BufWriter};
use tokio::sync::mpsc;

use crate::storage::{
    AckHandle, BlockEvent, DataChecksum, DnStorageError, ExtendedBlock, ReplicaInfo, ReplicaWriter,
};
use crate::xceiver::{
    connect_peer, send_response, status_of, timed, xfer_addr, Conn, Shared, XResult, XceiverError,
};

/// Packets received but not yet acknowledged upstream, at most.
const MAX_PENDING_ACKS: usize = 256;

enum Setup {
    Writer(ReplicaWriter),
    /// PIPELINE_CLOSE_RECOVERY: already finalized, no packets follow.
    Closed(ReplicaInfo),
}

type MirrorR = BufReader<BoxRead>;
type MirrorW = BufWriter<BoxWrite>;

struct Pending {
    seqno: i64,
    last: bool,
    status: Status,
    end: u64,
}

fn flag(s: Status) -> u32 {
    combine_flag(s, Ecn::Disabled, Slow::Disabled)
}

pub(crate) async fn write_block(
    shared: &Shared,
    c: &mut Conn,
    m: OpWriteBlockProto,
) -> XResult<bool> {
    let block = ExtendedBlock::from_proto(&m.header.base_header.block);
    let is_client = !m.header.client_name.is_empty();
    let stage = BlockConstructionStage::try_from(m.stage).map_err(|_| {
        XceiverError::Invalid(format!("unknown block construction stage {}", m.stage))
    })?;
    let is_transfer = matches!(
        stage,
        BlockConstructionStage::TransferRbw | BlockConstructionStage::TransferFinalized
    );
    let acks = is_client && !is_transfer;

    let setup = match set_up(shared, &block, stage, is_client, &m).await {
        Ok(s) => s,
        Err(e) => {
            tracing::info!(peer = %c.peer, %block, ?stage, error = %e, "cannot set up write");
            if acks {
                let mut resp = op_response(status_of(&e), e.to_string());
                resp.first_bad_link = Some(String::new());
                send_response(shared, c, &resp).await?;
            }
            return Ok(false);
        }
    };
    if let Setup::Writer(w) = &setup {
        if stage == BlockConstructionStage::PipelineSetupCreate && is_client {
            shared
                .event(BlockEvent::Receiving {
                    block: w.block(),
                    storage_id: w.storage_id(),
                })
                .await;
        }
    }

    // Connect downstream, when there is a downstream.
    let mut mirror: Option<(MirrorR, MirrorW)> = None;
    if let Some(next) = m.targets.first() {
        let next_addr = xfer_addr(next);
        match connect_mirror(shared, &m, acks).await {
            Ok((mr, mw, resp)) => {
                if acks && response_status(&resp) != Status::Success {
                    let bad = resp
                        .first_bad_link
                        .filter(|s| !s.is_empty())
                        .unwrap_or(next_addr);
                    let mut out = op_response(Status::Error, resp.message.unwrap_or_default());
                    out.first_bad_link = Some(bad);
                    send_response(shared, c, &out).await?;
                    return Ok(false);
                }
                mirror = Some((mr, mw));
            }
            Err(e) => {
                tracing::info!(peer = %c.peer, %block, mirror = %next_addr, error = %e, "cannot connect downstream");
                if is_client {
                    let mut out = op_response(Status::Error, e.to_string());
                    out.first_bad_link = Some(next_addr);
                    if acks {
                        send_response(shared, c, &out).await?;
                    }
                    return Ok(false);
                }
                // A DataNode-initiated copy goes on without the mirror, as in Hadoop.
            }
        }
    }
    if acks {
        let mut ok = op_response(Status::Success, "");
        ok.first_bad_link = Some(String::new());
        send_response(shared, c, &ok).await?;
    }

    let writer = match setup {
        Setup::Closed(info) => {
            shared
                .event(BlockEvent::Received {
                    block: info.block(),
                    storage_id: info.storage_id.clone(),
                    del_hint: String::new(),
                })
                .await;
            return Ok(false);
        }
        Setup::Writer(w) => w,
    };

    let ack_handle = writer.ack_handle();
    let (mirror_r, mirror_w) = match mirror {
        Some((r, w)) => (Some(r), Some(w)),
        None => (None, None),
    };
    let Conn { r, w, peer, .. } = c;
    let peer = *peer;
    let (tx, rx) = mpsc::channel::<Pending>(MAX_PENDING_ACKS);
    let recv = receive(shared, r, writer, mirror_w, stage, acks.then_some(tx));
    let result = if acks {
        let resp = respond(shared, w, mirror_r, rx, ack_handle);
        let (a, b) = tokio::join!(recv, resp);
        if let Err(e) = &b {
            tracing::info!(%peer, %block, error = %e, "responder stopped");
        }
        a
    } else {
        recv.await
    };
    let finalized = result?;
    if is_transfer {
        let d = shared.config.socket_timeout;
        let resp: BlockOpResponseProto = op_response(Status::Success, "");
        timed(
            d,
            "the transfer ack",
            hafs_datatransfer::write_op_response(w, &resp),
        )
        .await?;
        timed(d, "the transfer ack", w.flush()).await?;
    }
    if let Some(info) = finalized {
        shared
            .event(BlockEvent::Received {
                block: info.block(),
                storage_id: info.storage_id.clone(),
                del_hint: String::new(),
            })
            .await;
    }
    Ok(false)
}

async fn set_up(
    shared: &Shared,
    block: &ExtendedBlock,
    stage: BlockConstructionStage,
    is_client: bool,
    m: &OpWriteBlockProto,
) -> Result<Setup, DnStorageError> {
    let requested = DataChecksum::new(
        m.requested_checksum.r#type as u32,
        m.requested_checksum.bytes_per_checksum,
    )?;
    let storage = shared.storage.clone();
    let b = block.clone();
    // The volume type the NameNode chose this DataNode for (Hadoop's storageType).
    let storage_type = m.storage_type;
    let (gs, min, max) = (
        m.latest_generation_stamp,
        m.min_bytes_rcvd,
        m.max_bytes_rcvd,
    );
    let task = tokio::task::spawn_blocking(move || -> Result<Setup, DnStorageError> {
        use BlockConstructionStage as S;
        let w = match stage {
            S::PipelineSetupCreate if is_client => {
                storage.create_on(&b, requested, false, storage_type)?
            }
            S::PipelineSetupCreate | S::TransferRbw | S::TransferFinalized => {
                storage.create_on(&b, requested, true, storage_type)?
            }
            // As Hadoop's BlockReceiver: the replica's expected length for an append is
            // minBytesRcvd (the bytes the client knows are on every replica).
            S::PipelineSetupAppend => storage.append(
                &ExtendedBlock {
                    num_bytes: min,
                    ..b
                },
                gs,
            )?,
            S::PipelineSetupAppendRecovery => storage.recover_append(&b, gs)?,
            S::PipelineSetupStreamingRecovery => storage.recover_rbw(&b, gs, min, max)?,
            S::PipelineCloseRecovery => {
                let b = ExtendedBlock {
                    num_bytes: min,
                    ..b
                };
                return Ok(Setup::Closed(storage.recover_close(&b, gs)?));
            }
            S::DataStreaming | S::PipelineClose => {
                return Err(DnStorageError::Invalid(format!(
                    "{stage:?} is not a pipeline set-up stage"
                )))
            }
        };
        if w.checksum() != requested {
            return Err(DnStorageError::Invalid(format!(
                "requested checksum {requested:?} differs from the replica's {:?}",
                w.checksum()
            )));
        }
        Ok(Setup::Writer(w))
    });
    task.await
        .unwrap_or_else(|e| Err(DnStorageError::Invalid(format!("set-up task failed: {e}"))))
}

fn tail<T>(v: &mut Vec<T>) {
    if !v.is_empty() {
        v.remove(0);
    }
}

/// Connects to `targets[0]` and sends it the op for the rest of the pipeline. For a
/// client write, also reads its connect response.
async fn connect_mirror(
    shared: &Shared,
    m: &OpWriteBlockProto,
    read_response: bool,
) -> XResult<(MirrorR, MirrorW, BlockOpResponseProto)> {
    let next = &m.targets[0];
    // The client's token goes downstream with the op, and proves it in the handshake.
    let (mut r, mut w) =
        connect_peer(&shared.config, next, m.header.base_header.token.as_ref()).await?;
    let mut op = m.clone();
    op.targets.remove(0);
    if let Some(t) = op.target_storage_types.first().copied() {
        op.storage_type = Some(t);
    }
    tail(&mut op.target_storage_types);
    if let Some(id) = op.target_storage_ids.first().cloned() {
        op.storage_id = Some(id);
    }
    tail(&mut op.target_storage_ids);
    tail(&mut op.target_pinnings);
    let d = shared.config.socket_timeout;
    let addr = xfer_addr(next);
    let down = |e: XceiverError| XceiverError::Downstream(addr.clone(), e.to_string());
    timed(
        d,
        "sending the op downstream",
        write_op(&mut w, &OpRequest::WriteBlock(op)),
    )
    .await
    .map_err(down)?;
    timed(d, "sending the op downstream", w.flush())
        .await
        .map_err(down)?;
    let resp = if read_response {
        timed(
            d,
            "the downstream connect response",
            read_op_response(&mut r),
        )
        .await
        .map_err(down)?
    } else {
        op_response(Status::Success, "")
    };
    Ok((r, w, resp))
}

/// Reads packets until the last one: forwards each downstream, stores it (the writer
/// verifies its checksums first), and queues it for the responder. Returns the
/// finalized replica, if the stage ends in one.
async fn receive(
    shared: &Shared,
    r: &mut BufReader<BoxRead>,
    writer: ReplicaWriter,
    mut mirror: Option<MirrorW>,
    stage: BlockConstructionStage,
    acks: Option<mpsc::Sender<Pending>>,
) -> XResult<Option<ReplicaInfo>> {
    let d = shared.config.socket_timeout;
    let mut writer = Some(writer);
    let push = |p: Pending| {
        let acks = acks.clone();
        async move {
            if let Some(tx) = acks {
                let _ = tx.send(p).await;
            }
        }
    };
    // Data packets' seqnos rise within a connection (the client numbers them in order;
    // heartbeats carry -1). Checked here, as input, so the responder below can assert
    // that it acknowledges in order.
    let mut last_seqno: Option<i64> = None;
    loop {
        let pkt = timed(d, "a packet", read_packet(r)).await?;
        let h = pkt.header;
        if pkt.is_heartbeat() {
            forward(shared, &mut mirror, &pkt).await;
            push(Pending {
                seqno: h.seqno,
                last: false,
                status: Status::Success,
                end: 0,
            })
            .await;
            continue;
        }
        let offset = u64::try_from(h.offset_in_block).map_err(|_| {
            XceiverError::Invalid(format!("negative packet offset {}", h.offset_in_block))
        })?;
        if h.seqno < 0 || last_seqno.is_some_and(|l| h.seqno <= l) {
            return Err(XceiverError::Invalid(format!(
                "packet seqno {} after {last_seqno:?}: seqnos must rise",
                h.seqno
            )));
        }
        last_seqno = Some(h.seqno);
        forward(shared, &mut mirror, &pkt).await;
        let mut w = writer
            .take()
            .ok_or_else(|| XceiverError::Invalid("writer gone".into()))?;
        let stored = if pkt.data.is_empty() {
            Ok(())
        } else {
            w.write_packet(offset, &pkt.data, &pkt.checksums)
        };
        if let Err(e) = stored {
            if matches!(e, DnStorageError::Checksum { .. }) {
                tracing::warn!(block = %w.block(), offset, error = %e, "corrupt packet refused");
            }
            push(Pending {
                seqno: h.seqno,
                last: false,
                status: status_of(&e),
                end: offset,
            })
            .await;
            return Err(e.into());
        }
        let end = offset + pkt.data.len() as u64;
        if pkt.is_last_in_block() {
            let info = finish(w, stage).await?;
            push(Pending {
                seqno: h.seqno,
                last: true,
                status: Status::Success,
                end,
            })
            .await;
            return Ok(info);
        }
        if pkt.sync_block() {
            w = blocking(w, |w| w.sync()).await?;
        }
        writer = Some(w);
        push(Pending {
            seqno: h.seqno,
            last: false,
            status: Status::Success,
            end,
        })
        .await;
    }
}

/// Runs a blocking writer call off the async threads and gives the writer back.
async fn blocking(
    mut w: ReplicaWriter,
    f: impl FnOnce(&mut ReplicaWriter) -> Result<(), DnStorageError> + Send + 'static,
) -> XResult<ReplicaWriter> {
    let (w, r) = tokio::task::spawn_blocking(move || {
        let r = f(&mut w);
        (w, r)
    })
    .await
    .map_err(|e| XceiverError::Invalid(format!("writer task failed: {e}")))?;
    r?;
    Ok(w)
}

/// The last packet: finalize (or, for TRANSFER_RBW, keep as rbw).
async fn finish(w: ReplicaWriter, stage: BlockConstructionStage) -> XResult<Option<ReplicaInfo>> {
    let keep_rbw = stage == BlockConstructionStage::TransferRbw;
    let r = tokio::task::spawn_blocking(move || {
        if keep_rbw {
            w.convert_to_rbw().map(|_| None)
        } else {
            w.finalize().map(Some)
        }
    })
    .await
    .map_err(|e| XceiverError::Invalid(format!("finalize task failed: {e}")))??;
    Ok(r)
}

async fn forward(shared: &Shared, mirror: &mut Option<MirrorW>, pkt: &hafs_datatransfer::Packet) {
    let Some(mw) = mirror.as_mut() else { return };
    let d = shared.config.socket_timeout;
    let sent = async {
        timed(
            d,
            "forwarding a packet",
            write_packet(mw, &pkt.header, &pkt.checksums, &pkt.data),
        )
        .await?;
        timed(d, "forwarding a packet", mw.flush()).await
    }
    .await;
    if let Err(e) = sent {
        // The responder finds out when the mirror's ack does not come.
        tracing::info!(error = %e, "downstream write failed; continuing without it");
        *mirror = None;
    }
}

/// Sends one ack upstream per queued packet, after the downstream ack for it arrived.
async fn respond(
    shared: &Shared,
    w: &mut BufWriter<BoxWrite>,
    mut mirror: Option<MirrorR>,
    mut rx: mpsc::Receiver<Pending>,
    acked: AckHandle,
) -> XResult<()> {
    let d = shared.config.socket_timeout;
    // The last data packet acknowledged upstream: (seqno, end offset).
    let mut last_acked: Option<(i64, u64)> = None;
    while let Some(p) = rx.recv().await {
        // Pipeline ack order: packets are queued in arrival order and `receive` refused
        // seqnos that do not rise, so acks go upstream in rising seqno order.
        invariant!(
            p.seqno < 0 || last_acked.is_none_or(|(s, _)| p.seqno > s),
            "pipeline ack for seqno {} after seqno {last_acked:?}",
            p.seqno
        );
        let mut flags = vec![flag(p.status)];
        let mut mirror_failed = false;
        if p.status == Status::Success {
            if let Some(mr) = mirror.as_mut() {
                match timed(d, "a downstream ack", read_ack(mr)).await {
                    Ok(ack) if ack.seqno == p.seqno => {
                        for i in 0..ack.reply.len().max(ack.flag.len()) {
                            flags.push(ack_flag(&ack, i).unwrap_or(flag(Status::Error)));
                        }
                        // A downstream node that refused the packet (ERROR_CHECKSUM
                        // included) closes its side: the packet is not acknowledged
                        // here, the merged ack goes upstream and this responder stops.
                        let refused = flags[1..]
                            .iter()
                            .any(|f| !matches!(status_of_flag(*f), Ok(Status::Success)));
                        if refused {
                            tracing::info!(seqno = p.seqno, ?flags, "downstream refused a packet");
                            mirror_failed = true;
                        }
                    }
                    Ok(ack) => {
                        tracing::info!(
                            expected = p.seqno,
                            got = ack.seqno,
                            "downstream ack out of order"
                        );
                        flags.push(flag(Status::Error));
                        mirror_failed = true;
                    }
                    Err(e) => {
                        tracing::info!(error = %e, "no downstream ack");
                        flags.push(flag(Status::Error));
                        mirror_failed = true;
                    }
                }
            }
        }
        if p.status == Status::Success && !mirror_failed && p.seqno >= 0 {
            // What the pipeline acknowledged only grows.
            invariant!(
                last_acked.is_none_or(|(_, end)| p.end >= end),
                "pipeline ack of seqno {} ends at {} below the acknowledged {last_acked:?}",
                p.seqno,
                p.end
            );
            acked.set_acked(p.end);
            last_acked = Some((p.seqno, p.end));
        }
        let ack = pipeline_ack_from_flags(p.seqno, &flags, 0)?;
        timed(d, "sending an ack", write_ack(w, &ack)).await?;
        timed(d, "sending an ack", w.flush()).await?;
        if p.last || p.status != Status::Success || mirror_failed {
            if mirror_failed {
                mirror = None;
            }
            break;
        }
    }
    drop(mirror);
    Ok(())
}
