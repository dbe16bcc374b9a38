//! One NameNode's actor: handshake, registration, then heartbeats, block reports and
//! queued reports until the NameNode asks for a new registration, the connection
//! fails (reconnect with backoff) or the DataNode stops.

use std::sync::Arc;
use std::time::Duration;

use hafs_ipc::IpcError;
use hafs_proto::block_list::{encode_legacy_block_list, ReportedReplica};
use hafs_proto::hdfs::datanode::datanode_command_proto::Type as CmdType;
use hafs_proto::hdfs::datanode::received_deleted_block_info_proto::BlockStatus;
use hafs_proto::hdfs::datanode::*;
use hafs_proto::hdfs::{
    BlockProto, DatanodeInfoProto, DatanodeStorageProto, ExtendedBlockProto, LocatedBlockProto,
    StorageReportProto,
};
use tokio::sync::watch;
use tokio::time::{sleep, sleep_until, Instant};
use tracing::{error, info, warn};

use super::ha::{ActiveChange, HaState};
use super::nn_client::is_unregistered_node;
use super::pool::{lock, queue_command, Shared};
use super::queue::IbrStatus;
use super::{BlockCommand, JoinError, NamespaceInfo};
use crate::recovery::state_to_proto;
use crate::storage::ExtendedBlock;

/// Why the serving loop ended.
enum Exit {
    Stop,
    Reregister,
    Failed(String),
}

/// A NameNode refused for good.
pub(crate) struct Refused;

/// Runs until stopped (Ok) or until this NameNode is refused for good (Err).
pub(crate) async fn run_actor(
    shared: Arc<Shared>,
    idx: usize,
    mut stop: watch::Receiver<bool>,
) -> Result<(), Refused> {
    let addr = shared.slot(idx).client.addr().to_string();
    let min_backoff = Duration::from_millis(100);
    let mut backoff = min_backoff;
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        let exit = match connect(&shared, idx).await {
            Ok((ns, registration)) => {
                backoff = min_backoff;
                offer_service(&shared, idx, &ns, registration, &mut stop).await
            }
            Err(Connect::Refused(msg)) => {
                error!(namenode = %addr, "{msg}; this DataNode will not serve that NameNode");
                lock(&shared.slot(idx).status).refused = Some(msg);
                return Err(Refused);
            }
            Err(Connect::Retry(msg)) => Exit::Failed(msg),
        };
        lock(&shared.slot(idx).status).registered = false;
        match exit {
            Exit::Stop => return Ok(()),
            Exit::Reregister => {
                info!(namenode = %addr, "NameNode asks this DataNode to register again");
            }
            Exit::Failed(msg) => {
                warn!(namenode = %addr, retry_in = ?backoff, "{msg}");
                tokio::select! {
                    _ = stop.changed() => return Ok(()),
                    _ = sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(shared.settings.max_backoff.max(min_backoff));
            }
        }
    }
}

enum Connect {
    Refused(String),
    Retry(String),
}

/// Handshake (`versionRequest`, cluster check, joining the block pool) and registration.
async fn connect(
    shared: &Shared,
    idx: usize,
) -> Result<(NamespaceInfo, DatanodeRegistrationProto), Connect> {
    let slot = shared.slot(idx);
    let addr = slot.client.addr();
    let info = slot
        .client
        .version_request()
        .await
        .map_err(|e| Connect::Retry(format!("handshake with {addr} failed: {e}")))?;
    let ns = NamespaceInfo {
        block_pool_id: info.block_pool_id.clone(),
        cluster_id: info.storage_info.cluster_id.clone(),
        namespace_id: info.storage_info.namespce_id,
        ctime: info.storage_info.c_time,
        layout_version: info.storage_info.layout_version,
        software_version: info.software_version.clone(),
    };
    if ns.block_pool_id.is_empty() || ns.cluster_id.is_empty() {
        return Err(Connect::Retry(format!(
            "NameNode {addr} sent no block pool id or cluster id; is it formatted?"
        )));
    }
    {
        let mut known = lock(&shared.namespace);
        match known.as_ref() {
            Some(k) if k.cluster_id != ns.cluster_id || k.block_pool_id != ns.block_pool_id => {
                return Err(Connect::Refused(format!(
                    "NameNode {addr} is in cluster {} with block pool {}, but this DataNode \
                     serves cluster {} with block pool {}",
                    ns.cluster_id, ns.block_pool_id, k.cluster_id, k.block_pool_id
                )));
            }
            Some(_) => {}
            None => *known = Some(ns.clone()),
        }
    }
    match shared.ops.join_block_pool(&ns).await {
        Ok(()) => {}
        Err(JoinError::WrongCluster(msg)) => {
            // Forget the namespace if no one else agreed to it, so a correctly
            // configured NameNode is not judged against a wrong one.
            return Err(Connect::Refused(format!(
                "refusing NameNode {addr} (cluster {}): {msg}",
                ns.cluster_id
            )));
        }
        Err(JoinError::Other(msg)) => {
            return Err(Connect::Retry(format!(
                "cannot join block pool {}: {msg}",
                ns.block_pool_id
            )))
        }
    }
    let request = DatanodeRegistrationProto {
        datanode_id: shared.id.clone(),
        storage_info: StorageInfoProto {
            layout_version: ns.layout_version,
            namespce_id: ns.namespace_id,
            cluster_id: ns.cluster_id.clone(),
            c_time: ns.ctime,
        },
        // Hadoop's dummy keys (no block tokens): an Apache NameNode cannot parse a
        // registration without them; a hafs NameNode ignores them.
        keys: Some(ExportedBlockKeysProto {
            is_block_token_enabled: false,
            key_update_interval: 0,
            token_life_time: 0,
            current_key: BlockKeyProto {
                key_id: 0,
                expiry_date: 0,
                key_bytes: None,
            },
            all_keys: Vec::new(),
        }),
        software_version: shared.settings.software_version.clone(),
    };
    let registration = slot
        .client
        .register(request)
        .await
        .map_err(|e| Connect::Retry(format!("registration with {addr} failed: {e}")))?;
    info!(namenode = %addr, uuid = %registration.datanode_id.datanode_uuid,
          block_pool = %ns.block_pool_id, "registered with NameNode");
    if let Some(keys) = &registration.keys {
        shared.settings.security.add_keys(keys);
    }
    lock(&slot.status).registered = true;
    Ok((ns, registration))
}

/// A pseudo-random delay below `max`, so many DataNodes do not report at once.
fn jitter(max: Duration) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    let mut b = [0u8; 8];
    let r = if getrandom::fill(&mut b).is_ok() {
        u64::from_le_bytes(b)
    } else {
        u64::from(std::process::id())
    };
    Duration::from_millis(r % (max.as_millis().max(1) as u64))
}

async fn offer_service(
    shared: &Shared,
    idx: usize,
    ns: &NamespaceInfo,
    registration: DatanodeRegistrationProto,
    stop: &mut watch::Receiver<bool>,
) -> Exit {
    let s = &shared.settings;
    let slot = shared.slot(idx);
    let mut next_heartbeat = Instant::now();
    let mut next_full_report = Instant::now() + jitter(s.block_report_initial_delay);
    loop {
        // Incremental reports first: they are what clients wait on (complete()).
        if slot.queue.has_ibrs() {
            if let Err(e) = send_ibrs(shared, idx, ns, &registration).await {
                return failure(e, "incremental block report");
            }
        }
        let now = Instant::now();
        if now >= next_heartbeat {
            next_heartbeat = now + s.heartbeat_interval;
            match heartbeat(shared, idx, &registration).await {
                Ok(true) => {}
                Ok(false) => return Exit::Reregister,
                Err(e) => return failure(e, "heartbeat"),
            }
        }
        if Instant::now() >= next_full_report {
            match full_report(shared, idx, ns, &registration).await {
                Ok(true) => {}
                Ok(false) => return Exit::Reregister,
                Err(e) => return failure(e, "block report"),
            }
            next_full_report = Instant::now() + s.block_report_interval;
        }
        if let Err(e) = send_bad_blocks_and_errors(shared, idx, &registration).await {
            return failure(e, "bad block / error report");
        }
        if slot.queue.has_anything() {
            continue;
        }
        let wake_at = next_heartbeat.min(next_full_report);
        tokio::select! {
            _ = stop.changed() => return Exit::Stop,
            _ = sleep_until(wake_at) => {}
            _ = slot.queue.wake.notified() => {
                // Let events that arrive together travel in one report.
                if !s.ibr_batch_delay.is_zero() {
                    sleep(s.ibr_batch_delay).await;
                }
            }
        }
    }
}

fn failure(e: IpcError, what: &str) -> Exit {
    if is_unregistered_node(&e) {
        Exit::Reregister
    } else {
        Exit::Failed(format!("{what} failed: {e}"))
    }
}

/// A storage as DatanodeProtocol names it: its id and the type of its volume.
fn storage_proto(uuid: &str, storage_type: i32) -> DatanodeStorageProto {
    DatanodeStorageProto {
        storage_uuid: uuid.to_string(),
        storage_type: Some(storage_type),
        ..Default::default()
    }
}

/// Sends one heartbeat and handles its reply. Ok(false): register again.
async fn heartbeat(
    shared: &Shared,
    idx: usize,
    registration: &DatanodeRegistrationProto,
) -> Result<bool, IpcError> {
    let slot = shared.slot(idx);
    let bpid = shared.block_pool_id().unwrap_or_default();
    let pool_used = shared.ops.block_pool_used(&bpid);
    let reports = shared
        .ops
        .storage_usage(&bpid)
        .into_iter()
        .map(|u| {
            let block_pool_used = pool_used
                .as_ref()
                .map_or(u.used, |p| p.get(&u.storage_id).copied().unwrap_or(0));
            #[allow(deprecated)] // still required on the wire
            StorageReportProto {
                storage_uuid: u.storage_id.clone(),
                failed: Some(u.failed),
                capacity: Some(u.capacity),
                dfs_used: Some(u.used),
                remaining: Some(u.remaining),
                block_pool_used: Some(block_pool_used),
                storage: Some(storage_proto(&u.storage_id, u.storage_type)),
                non_dfs_used: Some(u.non_dfs_used),
                mount: None,
            }
        })
        .collect();
    let req = HeartbeatRequestProto {
        registration: registration.clone(),
        reports,
        xmits_in_progress: Some(shared.ops.xmits_in_progress()),
        xceiver_count: Some(shared.ops.xceiver_count()),
        failed_volumes: Some(shared.ops.failed_volumes()),
        cache_capacity: None,
        cache_used: None,
        request_full_block_report_lease: None,
    };
    let resp = slot.client.heartbeat(&req).await?;
    let state = HaState::from_proto(resp.ha_status.state);
    let txid = resp.ha_status.txid;
    {
        let mut st = lock(&slot.status);
        st.ha_state = Some(state);
        st.txid = txid;
    }
    let change = lock(&shared.tracker).on_heartbeat(idx, state, txid);
    let addr = slot.client.addr();
    match change {
        ActiveChange::None => {}
        ActiveChange::BecameActive { previous: None } => {
            info!(namenode = %addr, txid, "acknowledging the Active NameNode")
        }
        ActiveChange::BecameActive { previous: Some(p) } => info!(
            namenode = %addr, txid, previous = %shared.slot(p).client.addr(),
            "NameNode takes over as Active at a higher txid"
        ),
        ActiveChange::StaleClaimIgnored { current_txid } => warn!(
            namenode = %addr, txid, current_txid,
            "NameNode claims ACTIVE at a txid older than the current Active's; ignoring it"
        ),
        ActiveChange::Relinquished => info!(namenode = %addr, txid, "Active NameNode steps down"),
    }
    let mut reregister = false;
    for cmd in resp.cmds {
        reregister |= handle_command(shared, idx, cmd);
    }
    Ok(!reregister)
}

/// Handles one command; true when it asks for a new registration.
///
/// REGISTER is obeyed from any NameNode: it only concerns the conversation with that
/// NameNode (a restarted Standby must learn this DataNode's replicas too). Every
/// command that touches replicas is obeyed only from the Active (invariant 4).
pub(crate) fn handle_command(shared: &Shared, idx: usize, cmd: DatanodeCommandProto) -> bool {
    let addr = shared.slot(idx).client.addr();
    let kind = CmdType::try_from(cmd.cmd_type).ok();
    match kind {
        Some(CmdType::RegisterCommand) => return true,
        // Keys are taken from every NameNode, Active or not: a client may hold a token
        // signed by either (Hadoop's processCommandFromStandby does the same).
        Some(CmdType::KeyUpdateCommand) => {
            if let Some(k) = &cmd.key_update_cmd {
                shared.settings.security.add_keys(&k.keys);
            }
            return false;
        }
        Some(CmdType::NullDatanodeCommand | CmdType::UnusedUpgradeCommand) => return false,
        None => {
            warn!(namenode = %addr, cmd_type = cmd.cmd_type, "unknown command type; ignored");
            return false;
        }
        _ => {}
    }
    let (is_active, active_txid) = {
        let t = lock(&shared.tracker);
        (t.is_active(idx), t.last_active_claim_txid())
    };
    if !is_active {
        let st = lock(&shared.slot(idx).status).clone();
        info!(
            namenode = %addr, command = ?kind, state = ?st.ha_state, txid = st.txid, active_txid,
            "ignoring a command from a NameNode that is not the Active"
        );
        return false;
    }
    if kind == Some(CmdType::BalancerBandwidthCommand) {
        if let Some(b) = &cmd.balancer_cmd {
            shared.settings.balance.set_bandwidth(b.bandwidth);
        }
        return false;
    }
    for c in convert_command(cmd) {
        queue_command(shared, c);
    }
    false
}

fn block_of(bpid: &str, b: &BlockProto) -> ExtendedBlock {
    ExtendedBlock::new(bpid, b.block_id, b.gen_stamp, b.num_bytes.unwrap_or(0))
}

/// Turns a wire command into the DataNode's commands (a TRANSFER of n blocks is n
/// transfers).
pub(crate) fn convert_command(cmd: DatanodeCommandProto) -> Vec<BlockCommand> {
    use block_command_proto::Action;
    let mut out = Vec::new();
    match CmdType::try_from(cmd.cmd_type) {
        Ok(CmdType::BlockCommand) => {
            let Some(b) = cmd.blk_cmd else { return out };
            match Action::try_from(b.action) {
                Ok(Action::Transfer) => {
                    for (i, blk) in b.blocks.iter().enumerate() {
                        let targets = b
                            .targets
                            .get(i)
                            .map(|t| t.datanodes.clone())
                            .unwrap_or_default();
                        let target_storage_uuids = b
                            .target_storage_uuids
                            .get(i)
                            .map(|t| t.storage_uuids.clone())
                            .unwrap_or_default();
                        let target_storage_types = b
                            .target_storage_types
                            .get(i)
                            .map(|t| t.storage_types.clone())
                            .unwrap_or_default();
                        if targets.is_empty() {
                            warn!(block = blk.block_id, "TRANSFER without targets; ignored");
                            continue;
                        }
                        out.push(BlockCommand::Transfer {
                            block: block_of(&b.block_pool_id, blk),
                            targets,
                            target_storage_uuids,
                            target_storage_types,
                        });
                    }
                }
                Ok(Action::Invalidate) => out.push(BlockCommand::Invalidate {
                    blocks: b
                        .blocks
                        .iter()
                        .map(|blk| block_of(&b.block_pool_id, blk))
                        .collect(),
                }),
                Ok(Action::Shutdown) | Err(_) => {
                    warn!(
                        action = b.action,
                        "block command action not supported; ignored"
                    )
                }
            }
        }
        Ok(CmdType::BlockRecoveryCommand) => {
            if let Some(r) = cmd.recovery_cmd {
                out.extend(
                    r.blocks
                        .into_iter()
                        .map(|b| BlockCommand::Recover(Box::new(b))),
                );
            }
        }
        Ok(CmdType::FinalizeCommand) => {
            if let Some(f) = cmd.finalize_cmd {
                out.push(BlockCommand::Finalize {
                    block_pool_id: f.block_pool_id,
                });
            }
        }
        _ => {}
    }
    out
}

async fn full_report(
    shared: &Shared,
    idx: usize,
    ns: &NamespaceInfo,
    registration: &DatanodeRegistrationProto,
) -> Result<bool, IpcError> {
    let slot = shared.slot(idx);
    let replicas = match shared.ops.block_report(&ns.block_pool_id).await {
        Ok(r) => r,
        Err(e) => {
            // A storage problem, not the NameNode's: try again next round.
            warn!(error = %e, "cannot list replicas for a block report");
            return Ok(true);
        }
    };
    let usage = shared.ops.storage_usage(&ns.block_pool_id);
    let types: std::collections::HashMap<String, i32> = usage
        .iter()
        .map(|u| (u.storage_id.clone(), u.storage_type))
        .collect();
    let mut per_storage: std::collections::BTreeMap<String, Vec<ReportedReplica>> = usage
        .into_iter()
        .filter(|u| !u.failed)
        .map(|u| (u.storage_id, Vec::new()))
        .collect();
    for r in replicas {
        if r.state == crate::storage::ReplicaState::Temporary {
            continue;
        }
        per_storage
            .entry(r.storage_id.clone())
            .or_default()
            .push(ReportedReplica {
                block_id: r.block_id,
                gen_stamp: r.gen_stamp,
                num_bytes: r.num_bytes,
                state: state_to_proto(r.state),
            });
    }
    let total: usize = per_storage.values().map(Vec::len).sum();
    let reports = per_storage
        .into_iter()
        .map(|(uuid, mut replicas)| {
            replicas.sort_by_key(|b| b.block_id);
            StorageBlockReportProto {
                storage: storage_proto(
                    &uuid,
                    types
                        .get(&uuid)
                        .copied()
                        .unwrap_or(hafs_proto::hdfs::StorageTypeProto::Disk as i32),
                ),
                blocks: encode_legacy_block_list(&replicas),
                // Set only with Hadoop's buffer encoding: an Apache NameNode that sees
                // it decodes buffers instead of the long array.
                number_of_blocks: None,
            }
        })
        .collect();
    let req = BlockReportRequestProto {
        registration: registration.clone(),
        block_pool_id: ns.block_pool_id.clone(),
        reports,
        context: Some(BlockReportContextProto {
            total_rpcs: 1,
            cur_rpc: 0,
            id: report_id(),
            // Lease 0 asks an Apache NameNode to take the report outside its lease
            // pacing, as a hafs NameNode always does.
            lease_id: Some(0),
            // The long array lists finalized replicas before the others, so it is in
            // block-id order only within each part.
            sorted: Some(false),
        }),
    };
    let started = std::time::Instant::now();
    let resp = slot.client.block_report(&req).await?;
    info!(namenode = %slot.client.addr(), replicas = total, elapsed = ?started.elapsed(),
          "full block report sent");
    lock(&slot.status).full_reports_sent += 1;
    let mut reregister = false;
    if let Some(cmd) = resp.cmd {
        reregister = handle_command(shared, idx, cmd);
    }
    Ok(!reregister)
}

fn report_id() -> i64 {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    i64::from_le_bytes(b)
}

async fn send_ibrs(
    shared: &Shared,
    idx: usize,
    ns: &NamespaceInfo,
    registration: &DatanodeRegistrationProto,
) -> Result<(), IpcError> {
    let slot = shared.slot(idx);
    let pending = slot.queue.take_ibrs();
    if pending.is_empty() {
        return Ok(());
    }
    let blocks = pending
        .iter()
        .map(|(uuid, entries)| {
            #[allow(deprecated)] // still required on the wire
            StorageReceivedDeletedBlocksProto {
                storage_uuid: uuid.clone(),
                storage: Some(storage_proto(uuid, shared.ops.storage_type(uuid))),
                blocks: entries
                    .iter()
                    .map(|e| ReceivedDeletedBlockInfoProto {
                        block: BlockProto {
                            block_id: e.block_id,
                            gen_stamp: e.gen_stamp,
                            num_bytes: Some(e.num_bytes),
                        },
                        delete_hint: e.delete_hint.clone(),
                        status: match e.status {
                            IbrStatus::Receiving => BlockStatus::Receiving,
                            IbrStatus::Received => BlockStatus::Received,
                            IbrStatus::Deleted => BlockStatus::Deleted,
                        } as i32,
                    })
                    .collect(),
            }
        })
        .collect();
    let req = BlockReceivedAndDeletedRequestProto {
        registration: registration.clone(),
        block_pool_id: ns.block_pool_id.clone(),
        blocks,
    };
    if let Err(e) = slot.client.block_received_and_deleted(&req).await {
        slot.queue.restore_ibrs(pending);
        return Err(e);
    }
    Ok(())
}

async fn send_bad_blocks_and_errors(
    shared: &Shared,
    idx: usize,
    registration: &DatanodeRegistrationProto,
) -> Result<(), IpcError> {
    let slot = shared.slot(idx);
    let bad = slot.queue.take_bad_blocks();
    if !bad.is_empty() {
        let me = DatanodeInfoProto {
            id: registration.datanode_id.clone(),
            ..Default::default()
        };
        let req = ReportBadBlocksRequestProto {
            blocks: bad
                .iter()
                .map(|b| LocatedBlockProto {
                    b: ExtendedBlockProto {
                        pool_id: b.block_pool_id.clone(),
                        block_id: b.block_id,
                        generation_stamp: b.gen_stamp,
                        num_bytes: Some(b.num_bytes),
                    },
                    locs: vec![me.clone()],
                    storage_i_ds: vec![b.storage_uuid.clone()],
                    ..Default::default()
                })
                .collect(),
        };
        if let Err(e) = slot.client.report_bad_blocks(&req).await {
            slot.queue.restore_bad_blocks(bad);
            return Err(e);
        }
    }
    let errors = slot.queue.take_errors();
    for (i, e) in errors.iter().enumerate() {
        let req = ErrorReportRequestProto {
            registartion: registration.clone(),
            error_code: e.code,
            msg: e.msg.clone(),
        };
        if let Err(err) = slot.client.error_report(&req).await {
            slot.queue.restore_errors(errors[i..].to_vec());
            return Err(err);
        }
    }
    Ok(())
}
