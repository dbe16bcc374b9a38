//! ClientProtocol (`org.apache.hadoop.hdfs.protocol.ClientProtocol`) over Hadoop IPC:
//! thin adapters from wire messages to the Namesystem and back. Every handler checks
//! the HA operation category first; at-most-once calls go through the retry cache.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use hafs_ipc::{decode_request, encode_response, CallContext, RpcError, RpcService};
use hafs_proto::hdfs::{self as pb, hdfs_file_status_proto::FileType};
use prost::Message;

use crate::blockmanagement::DatanodeReportKind;
use crate::namespace::{BlockInfo, Caller, FileKind, FileStatus, Planned};
use crate::namesystem::{ns_err, HaState, Namesystem, OperationCategory as Cat};
use crate::retry_cache::Lookup;
use crate::storage::now_ms;
use crate::write_path::{from_extended, Located};

pub const PROTOCOL: &str = "org.apache.hadoop.hdfs.protocol.ClientProtocol";

/// CreateFlag bits (CreateFlagProto).
const CREATE_FLAG_OVERWRITE: u32 = 0x02;
const CREATE_FLAG_APPEND: u32 = 0x04;
const CREATE_FLAG_NEW_BLOCK: u32 = 0x20;

/// `dir`/`name` for a listed child.
fn child_path(dir: &str, name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    if name.is_empty() {
        dir.to_string()
    } else if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

pub struct ClientProtocolService {
    pub fsn: Arc<Namesystem>,
}

fn status_proto(s: &FileStatus) -> pb::HdfsFileStatusProto {
    let is_dir = s.kind == FileKind::Directory;
    pb::HdfsFileStatusProto {
        file_type: if is_dir {
            FileType::IsDir
        } else {
            FileType::IsFile
        } as i32,
        path: Bytes::from(s.name.clone()),
        length: s.length,
        permission: pb::FsPermissionProto {
            perm: u32::from(s.permission),
        },
        owner: s.owner.clone(),
        group: s.group.clone(),
        modification_time: s.mtime.max(0) as u64,
        access_time: s.atime.max(0) as u64,
        block_replication: Some(if is_dir { 0 } else { u32::from(s.replication) }),
        blocksize: Some(if is_dir { 0 } else { s.block_size }),
        file_id: Some(s.inode_id),
        children_num: Some(if is_dir { s.children_num as i32 } else { 0 }),
        storage_policy: Some(0),
        flags: Some(0),
        ..Default::default()
    }
}

fn located_blocks_proto(l: Located) -> pb::LocatedBlocksProto {
    pb::LocatedBlocksProto {
        file_length: l.file_length,
        blocks: l.blocks,
        under_construction: l.under_construction,
        last_block: l.last_block,
        is_last_block_complete: l.last_complete,
        ..Default::default()
    }
}

/// The client's address, for writer-local placement and nearest-first reads.
fn client_ip(ctx: &CallContext) -> Option<std::net::IpAddr> {
    Some(ctx.peer.ip())
}

/// Applies the umask to the client's requested permission the way Hadoop's
/// ClientProtocol does: the client sends `masked` (already masked) and, in newer
/// clients, `unmasked` plus its own umask applied; the NameNode uses `masked`.
fn masked_perm(p: &pb::FsPermissionProto) -> u16 {
    (p.perm & 0o1777) as u16
}

impl ClientProtocolService {
    fn caller(&self, ctx: &CallContext) -> Caller {
        self.fsn.caller(&ctx.user)
    }

    /// Runs an at-most-once call through the retry cache. `run` returns the encoded
    /// response; `replay` rebuilds the answer for an entry that came from the edit log.
    async fn at_most_once<F, R>(
        &self,
        ctx: &CallContext,
        run: F,
        replay: R,
    ) -> Result<Bytes, RpcError>
    where
        F: AsyncFnOnce(Option<&crate::retry_cache::CallKey>) -> Result<Bytes, RpcError>,
        R: FnOnce() -> Result<Bytes, RpcError>,
    {
        // A Standby must not answer from its retry cache (rebuilt from the edits): the
        // client has to fail over to the Active, which answers the same.
        self.fsn.check_operation(Cat::Write)?;
        let key = Namesystem::call_key(&ctx.client_id, ctx.call_id);
        match self.fsn.retry_cache.lookup(key).await {
            Lookup::Replay(Some(b)) => Ok(b),
            Lookup::Replay(None) => replay(),
            Lookup::Run(guard) => {
                let r = run(guard.key()).await;
                match &r {
                    Ok(b) => guard.succeeded(b),
                    Err(_) => guard.failed(),
                }
                r
            }
        }
    }

    async fn dispatch(
        &self,
        ctx: &CallContext,
        method: &str,
        req: Bytes,
    ) -> Result<Bytes, RpcError> {
        let fsn = &self.fsn;
        match method {
            "getServerDefaults" => {
                fsn.check_operation(Cat::Read)?;
                let _: pb::GetServerDefaultsRequestProto = decode_request(&req)?;
                let c = &fsn.config;
                Ok(encode_response(&pb::GetServerDefaultsResponseProto {
                    server_defaults: pb::FsServerDefaultsProto {
                        block_size: c.block_size,
                        bytes_per_checksum: c.bytes_per_checksum,
                        write_packet_size: c.write_packet_size,
                        replication: u32::from(c.replication),
                        file_buffer_size: c.file_buffer_size,
                        encrypt_data_transfer: Some(false),
                        trash_interval: Some(c.trash_interval_minutes),
                        checksum_type: Some(pb::ChecksumTypeProto::ChecksumCrc32c as i32),
                        ..Default::default()
                    },
                }))
            }
            "getFileInfo" | "getFileLinkInfo" => {
                fsn.check_operation(Cat::Read)?;
                let r: pb::GetFileInfoRequestProto = decode_request(&req)?;
                let caller = self.caller(ctx);
                let st = fsn.read().get_file_info(&caller, &r.src).map_err(ns_err)?;
                Ok(encode_response(&pb::GetFileInfoResponseProto {
                    fs: st.as_ref().map(status_proto),
                }))
            }
            "getListing" => {
                fsn.check_operation(Cat::Read)?;
                let r: pb::GetListingRequestProto = decode_request(&req)?;
                let caller = self.caller(ctx);
                let listed = fsn
                    .read()
                    .list(&caller, &r.src, &r.start_after, fsn.config.ls_limit);
                let dir_list = match listed {
                    Ok((items, remaining)) => Some(pb::DirectoryListingProto {
                        partial_listing: items
                            .iter()
                            .map(|s| {
                                let mut p = status_proto(s);
                                if r.need_location && s.kind == FileKind::File {
                                    let child = child_path(&r.src, &s.name);
                                    p.locations = fsn
                                        .block_locations(
                                            &caller,
                                            &child,
                                            0,
                                            u64::MAX,
                                            client_ip(ctx),
                                        )
                                        .ok()
                                        .map(located_blocks_proto);
                                }
                                p
                            })
                            .collect(),
                        remaining_entries: remaining,
                    }),
                    // Hadoop answers a missing path with no listing (the client turns
                    // that into FileNotFoundException itself).
                    Err(crate::namespace::NamespaceError::FileNotFound(_)) => None,
                    Err(e) => return Err(ns_err(e)),
                };
                Ok(encode_response(&pb::GetListingResponseProto { dir_list }))
            }
            "getContentSummary" => {
                fsn.check_operation(Cat::Read)?;
                let r: pb::GetContentSummaryRequestProto = decode_request(&req)?;
                let caller = self.caller(ctx);
                let s = fsn
                    .read()
                    .content_summary(&caller, &r.path)
                    .map_err(ns_err)?;
                Ok(encode_response(&pb::GetContentSummaryResponseProto {
                    summary: pb::ContentSummaryProto {
                        length: s.length,
                        file_count: s.file_count,
                        directory_count: s.directory_count,
                        quota: s.quota as u64,
                        space_consumed: s.space_consumed,
                        space_quota: s.space_quota as u64,
                        ..Default::default()
                    },
                }))
            }
            "getBlockLocations" => {
                fsn.check_operation(Cat::Read)?;
                let r: pb::GetBlockLocationsRequestProto = decode_request(&req)?;
                let caller = self.caller(ctx);
                let located =
                    fsn.block_locations(&caller, &r.src, r.offset, r.length, client_ip(ctx))?;
                Ok(encode_response(&pb::GetBlockLocationsResponseProto {
                    locations: Some(located_blocks_proto(located)),
                }))
            }
            "getFsStats" => {
                fsn.check_operation(Cat::Read)?;
                let st = fsn.bm.fs_stats();
                Ok(encode_response(&pb::GetFsStatsResponseProto {
                    capacity: st.capacity,
                    used: st.used,
                    remaining: st.remaining,
                    under_replicated: st.under_replicated,
                    corrupt_blocks: st.corrupt_blocks,
                    missing_blocks: st.missing_blocks,
                    missing_repl_one_blocks: Some(st.missing_repl_one_blocks),
                    blocks_in_future: Some(0),
                    pending_deletion_blocks: Some(st.pending_deletion_blocks),
                }))
            }
            "mkdirs" => {
                let r: pb::MkdirsRequestProto = decode_request(&req)?;
                let caller = self.caller(ctx);
                let now = now_ms();
                let perm = masked_perm(&r.masked);
                fsn.mutate(&format!("create directory {}", r.src), None, |ns| {
                    ns.plan_mkdirs(&caller, &r.src, perm, r.create_parent, now)
                })
                .await?;
                Ok(encode_response(&pb::MkdirsResponseProto { result: true }))
            }
            "create" => {
                let r: pb::CreateRequestProto = decode_request(&req)?;
                let caller = self.caller(ctx);
                if r.create_flag & CREATE_FLAG_APPEND != 0 {
                    let exists = fsn
                        .read()
                        .get_file_info(&caller, &r.src)
                        .map_err(ns_err)?
                        .is_some();
                    if exists {
                        // CREATE|APPEND on an existing file appends (Hadoop's
                        // startFile); the client then writes from the file's end.
                        // At-most-once, as create.
                        let status = || {
                            let st = fsn.read().get_file_info(&caller, &r.src).map_err(ns_err)?;
                            Ok(encode_response(&pb::CreateResponseProto {
                                fs: st.as_ref().map(status_proto),
                            }))
                        };
                        return self
                            .at_most_once(
                                ctx,
                                async |key| {
                                    fsn.append(
                                        &caller,
                                        &r.src,
                                        &r.client_name,
                                        &ctx.peer.ip().to_string(),
                                        true,
                                        client_ip(ctx),
                                        key,
                                    )
                                    .await?;
                                    status()
                                },
                                status,
                            )
                            .await;
                    }
                }
                if r.create_flag & CREATE_FLAG_OVERWRITE != 0 {
                    fsn.takeover_if_soft_expired(&r.src, &r.client_name).await?;
                }
                let now = now_ms();
                let perm = masked_perm(&r.masked);
                let replication = u16::try_from(r.replication).map_err(|_| {
                    RpcError::illegal_argument(format!("invalid replication {}", r.replication))
                })?;
                let src = r.src.clone();
                let status = |fsn: &Namesystem| -> Result<Bytes, RpcError> {
                    let st = fsn
                        .read()
                        .get_file_info(&Caller::superuser(""), &src)
                        .map_err(ns_err)?;
                    Ok(encode_response(&pb::CreateResponseProto {
                        fs: st.as_ref().map(status_proto),
                    }))
                };
                self.at_most_once(
                    ctx,
                    async |key| {
                        fsn.mutate(&format!("create file {}", r.src), key, |ns| {
                            ns.plan_create(
                                &caller,
                                &r.src,
                                perm,
                                &r.client_name,
                                &ctx.peer.ip().to_string(),
                                r.create_flag & CREATE_FLAG_OVERWRITE != 0,
                                r.create_parent,
                                replication,
                                r.block_size,
                                now,
                            )
                            .map(Planned::Apply)
                        })
                        .await?;
                        fsn.renew_lease(&r.client_name);
                        status(fsn)
                    },
                    || status(fsn),
                )
                .await
            }
            "complete" => {
                let r: pb::CompleteRequestProto = decode_request(&req)?;
                let file_id = r.file_id.unwrap_or(0);
                let last = r.last.as_ref().map(from_extended);
                // complete is idempotent in Hadoop (HDFS-3031): a retry of a complete
                // that already closed the file answers true, but only if the client's
                // last block is the file's (same id and generation stamp). Any other
                // closed file (recovered under a writer that went silent, say) fails
                // the lease check below, as in Hadoop: "true" would tell that writer
                // its data is safe.
                let retry_of_close = {
                    let ns = fsn.read();
                    let st = if file_id != 0 {
                        ns.get_file_info_by_id(file_id)
                    } else {
                        ns.get_file_info(&Caller::superuser(""), &r.src)
                            .ok()
                            .flatten()
                    };
                    st.filter(|s| s.kind == FileKind::File && !s.under_construction)
                        .and_then(|s| ns.file_blocks(s.inode_id))
                        .is_some_and(|(blocks, _, _)| {
                            let id_gs = |b: &BlockInfo| (b.block_id, b.gen_stamp);
                            blocks.last().map(id_gs) == last.as_ref().map(id_gs)
                        })
                };
                if retry_of_close {
                    fsn.check_operation(Cat::Write)?;
                    return Ok(encode_response(&pb::CompleteResponseProto { result: true }));
                }
                let result = fsn.complete(&r.client_name, &r.src, file_id, last).await?;
                Ok(encode_response(&pb::CompleteResponseProto { result }))
            }
            "addBlock" => {
                let r: pb::AddBlockRequestProto = decode_request(&req)?;
                let previous = r.previous.as_ref().map(from_extended);
                let client = if r.flags.iter().any(|f| {
                    *f == pb::AddBlockFlagProto::NoLocalWrite as i32
                        || *f == pb::AddBlockFlagProto::IgnoreClientLocality as i32
                }) {
                    None
                } else {
                    client_ip(ctx)
                };
                let block = fsn
                    .add_block(
                        &r.client_name,
                        &r.src,
                        r.file_id.unwrap_or(0),
                        previous,
                        client,
                        &r.exclude_nodes,
                        &r.favored_nodes,
                    )
                    .await?;
                Ok(encode_response(&pb::AddBlockResponseProto { block }))
            }
            "abandonBlock" => {
                let r: pb::AbandonBlockRequestProto = decode_request(&req)?;
                fsn.abandon_block(&r.holder, &r.src, r.file_id.unwrap_or(0), r.b.block_id)
                    .await?;
                Ok(encode_response(&pb::AbandonBlockResponseProto {}))
            }
            "getAdditionalDatanode" => {
                let r: pb::GetAdditionalDatanodeRequestProto = decode_request(&req)?;
                let block = fsn.additional_datanodes(
                    &r.client_name,
                    &r.src,
                    r.file_id.unwrap_or(0),
                    &r.blk,
                    &r.existings,
                    &r.existing_storage_uuids,
                    &r.excludes,
                    r.num_additional_nodes.min(64) as usize,
                    client_ip(ctx),
                )?;
                Ok(encode_response(&pb::GetAdditionalDatanodeResponseProto {
                    block,
                }))
            }
            "updateBlockForPipeline" => {
                let r: pb::UpdateBlockForPipelineRequestProto = decode_request(&req)?;
                let block = fsn
                    .update_block_for_pipeline(&r.client_name, &r.block)
                    .await?;
                Ok(encode_response(&pb::UpdateBlockForPipelineResponseProto {
                    block,
                }))
            }
            "updatePipeline" => {
                // At-most-once in Hadoop: a retry of a pipeline update that took
                // effect would otherwise be refused as "an older state".
                let r: pb::UpdatePipelineRequestProto = decode_request(&req)?;
                let done = || Ok(encode_response(&pb::UpdatePipelineResponseProto {}));
                self.at_most_once(
                    ctx,
                    async |key| {
                        fsn.update_pipeline(
                            &r.client_name,
                            &r.old_block,
                            &r.new_block,
                            &r.new_nodes,
                            &r.storage_i_ds,
                            key,
                        )
                        .await?;
                        done()
                    },
                    done,
                )
                .await
            }
            "fsync" => {
                let r: pb::FsyncRequestProto = decode_request(&req)?;
                let len = r.last_block_length.filter(|l| *l >= 0).map(|l| l as u64);
                fsn.fsync(&r.client, &r.src, r.file_id.unwrap_or(0), len)
                    .await?;
                Ok(encode_response(&pb::FsyncResponseProto {}))
            }
            "append" => {
                // At-most-once in Hadoop: a retried append (its answer lost, or sent
                // again after a failover) gets the first answer, not "current
                // leaseholder is trying to recreate file".
                let r: pb::AppendRequestProto = decode_request(&req)?;
                let caller = self.caller(ctx);
                let new_block = r.flag.unwrap_or(0) & CREATE_FLAG_NEW_BLOCK != 0;
                let answer = |block: Option<pb::LocatedBlockProto>| {
                    let stat = fsn.read().get_file_info(&caller, &r.src).map_err(ns_err)?;
                    Ok(encode_response(&pb::AppendResponseProto {
                        block,
                        stat: stat.as_ref().map(status_proto),
                    }))
                };
                self.at_most_once(
                    ctx,
                    async |key| {
                        let block = fsn
                            .append(
                                &caller,
                                &r.src,
                                &r.client_name,
                                &ctx.peer.ip().to_string(),
                                new_block,
                                client_ip(ctx),
                                key,
                            )
                            .await?;
                        answer(block)
                    },
                    || answer(fsn.append_answer_again(&r.src, new_block, client_ip(ctx))),
                )
                .await
            }
            "recoverLease" => {
                let r: pb::RecoverLeaseRequestProto = decode_request(&req)?;
                let result = fsn.recover_lease(&r.src, &r.client_name).await?;
                Ok(encode_response(&pb::RecoverLeaseResponseProto { result }))
            }
            "reportBadBlocks" => {
                fsn.check_operation(Cat::Write)?;
                let r: pb::ReportBadBlocksRequestProto = decode_request(&req)?;
                fsn.bm.report_bad_blocks(&r.blocks);
                Ok(encode_response(&pb::ReportBadBlocksResponseProto {}))
            }
            "delete" => {
                let r: pb::DeleteRequestProto = decode_request(&req)?;
                let caller = self.caller(ctx);
                let now = now_ms();
                self.at_most_once(
                    ctx,
                    async |key| {
                        let result = fsn
                            .mutate(&format!("delete {}", r.src), key, |ns| {
                                ns.plan_delete(&caller, &r.src, r.recursive, now)
                            })
                            .await?;
                        Ok(encode_response(&pb::DeleteResponseProto { result }))
                    },
                    || Ok(encode_response(&pb::DeleteResponseProto { result: true })),
                )
                .await
            }
            "rename" => {
                let r: pb::RenameRequestProto = decode_request(&req)?;
                let caller = self.caller(ctx);
                let now = now_ms();
                self.at_most_once(
                    ctx,
                    async |key| {
                        let result = fsn
                            .mutate(&format!("rename {} to {}", r.src, r.dst), key, |ns| {
                                ns.plan_rename(&caller, &r.src, &r.dst, now)
                            })
                            .await?;
                        Ok(encode_response(&pb::RenameResponseProto { result }))
                    },
                    || Ok(encode_response(&pb::RenameResponseProto { result: true })),
                )
                .await
            }
            "rename2" => {
                let r: pb::Rename2RequestProto = decode_request(&req)?;
                let caller = self.caller(ctx);
                let now = now_ms();
                self.at_most_once(
                    ctx,
                    async |key| {
                        fsn.mutate(&format!("rename {} to {}", r.src, r.dst), key, |ns| {
                            ns.plan_rename2(&caller, &r.src, &r.dst, r.overwrite_dest, now)
                                .map(Planned::Apply)
                        })
                        .await?;
                        Ok(encode_response(&pb::Rename2ResponseProto {}))
                    },
                    || Ok(encode_response(&pb::Rename2ResponseProto {})),
                )
                .await
            }
            "setPermission" => {
                let r: pb::SetPermissionRequestProto = decode_request(&req)?;
                let caller = self.caller(ctx);
                let perm = (r.permission.perm & 0o1777) as u16;
                fsn.mutate(&format!("set permission for {}", r.src), None, |ns| {
                    ns.plan_set_permission(&caller, &r.src, perm)
                        .map(Planned::Apply)
                })
                .await?;
                Ok(encode_response(&pb::SetPermissionResponseProto {}))
            }
            "setOwner" => {
                let r: pb::SetOwnerRequestProto = decode_request(&req)?;
                let caller = self.caller(ctx);
                fsn.mutate(&format!("set owner for {}", r.src), None, |ns| {
                    ns.plan_set_owner(
                        &caller,
                        &r.src,
                        r.username.as_deref(),
                        r.groupname.as_deref(),
                    )
                    .map(Planned::Apply)
                })
                .await?;
                Ok(encode_response(&pb::SetOwnerResponseProto {}))
            }
            "setTimes" => {
                let r: pb::SetTimesRequestProto = decode_request(&req)?;
                let caller = self.caller(ctx);
                // -1 (as u64) means "leave unchanged" in Hadoop.
                let mtime = r.mtime as i64;
                let atime = r.atime as i64;
                fsn.mutate(&format!("set times for {}", r.src), None, |ns| {
                    ns.plan_set_times(&caller, &r.src, mtime, atime)
                        .map(Planned::Apply)
                })
                .await?;
                Ok(encode_response(&pb::SetTimesResponseProto {}))
            }
            "setReplication" => {
                let r: pb::SetReplicationRequestProto = decode_request(&req)?;
                let caller = self.caller(ctx);
                let replication = u16::try_from(r.replication).map_err(|_| {
                    RpcError::illegal_argument(format!("invalid replication {}", r.replication))
                })?;
                let result = fsn
                    .mutate(&format!("set replication for {}", r.src), None, |ns| {
                        ns.plan_set_replication(&caller, &r.src, replication)
                    })
                    .await?;
                if result {
                    // The block manager copies or deletes replicas to match.
                    let ns = fsn.read();
                    if let Some(st) = ns.get_file_info(&caller, &r.src).ok().flatten() {
                        if let Some((blocks, _, _)) = ns.file_blocks(st.inode_id) {
                            let ids: Vec<u64> = blocks.iter().map(|b| b.block_id).collect();
                            fsn.bm.set_replication(&ids, replication);
                        }
                    }
                }
                Ok(encode_response(&pb::SetReplicationResponseProto { result }))
            }
            "setQuota" => {
                let r: pb::SetQuotaRequestProto = decode_request(&req)?;
                let caller = self.caller(ctx);
                fsn.check_superuser(&caller, "set quota")?;
                let (nsq, dsq) = (r.namespace_quota as i64, r.storagespace_quota as i64);
                fsn.mutate(&format!("set quota on {}", r.path), None, |ns| {
                    ns.plan_set_quota(&caller, &r.path, nsq, dsq)
                        .map(Planned::Apply)
                })
                .await?;
                Ok(encode_response(&pb::SetQuotaResponseProto {}))
            }
            "renewLease" => {
                fsn.check_operation(Cat::Write)?;
                let r: pb::RenewLeaseRequestProto = decode_request(&req)?;
                fsn.renew_lease(&r.client_name);
                Ok(encode_response(&pb::RenewLeaseResponseProto {}))
            }
            "msync" => {
                fsn.check_operation(Cat::Read)?;
                Ok(encode_response(&pb::MsyncResponseProto {}))
            }
            "getHAServiceState" => {
                let state = match fsn.ha_state() {
                    HaState::Active => pb::NameNodeHaStateProto::Active,
                    HaState::Standby => pb::NameNodeHaStateProto::Standby,
                    HaState::Initializing => pb::NameNodeHaStateProto::Initializing,
                };
                Ok(encode_response(&pb::HaServiceStateResponseProto {
                    state: state as i32,
                }))
            }
            "setSafeMode" => {
                let r: pb::SetSafeModeRequestProto = decode_request(&req)?;
                let action = pb::SafeModeActionProto::try_from(r.action).map_err(|_| {
                    RpcError::illegal_argument(format!("unknown safe mode action {}", r.action))
                })?;
                // Hadoop checks the HA state only when asked (`checked`); dfsadmin asks
                // every NameNode unchecked, so a Standby enters and leaves safe mode too.
                let checked = r.checked.unwrap_or(false);
                if action != pb::SafeModeActionProto::SafemodeGet {
                    if checked {
                        fsn.check_operation(Cat::Write)?;
                    }
                    fsn.check_superuser(&self.caller(ctx), "set safe mode")?;
                } else if checked {
                    fsn.check_operation(Cat::Read)?;
                }
                match action {
                    pb::SafeModeActionProto::SafemodeEnter => fsn.set_safe_mode(true),
                    pb::SafeModeActionProto::SafemodeLeave
                    | pb::SafeModeActionProto::SafemodeForceExit => fsn.set_safe_mode(false),
                    pb::SafeModeActionProto::SafemodeGet => {}
                }
                Ok(encode_response(&pb::SetSafeModeResponseProto {
                    result: fsn.in_safe_mode(),
                }))
            }
            "saveNamespace" => {
                fsn.check_operation(Cat::Unchecked)?;
                fsn.check_superuser(&self.caller(ctx), "save the namespace")?;
                if !fsn.in_safe_mode() {
                    return Err(RpcError::io(
                        "Safe mode should be turned ON in order to create namespace image.",
                    ));
                }
                fsn.save_namespace().await?;
                Ok(encode_response(&pb::SaveNamespaceResponseProto {
                    saved: Some(true),
                }))
            }
            "rollEdits" => {
                fsn.check_operation(Cat::Write)?;
                fsn.check_superuser(&self.caller(ctx), "roll the edit log")?;
                let upto = fsn
                    .edit_log
                    .roll()
                    .await
                    .map_err(|e| RpcError::io(e.to_string()))?;
                Ok(encode_response(&pb::RollEditsResponseProto {
                    new_segment_tx_id: upto + 1,
                }))
            }
            "getDatanodeReport" => {
                fsn.check_operation(Cat::Unchecked)?;
                let r: pb::GetDatanodeReportRequestProto = decode_request(&req)?;
                let kind = match pb::DatanodeReportTypeProto::try_from(r.r#type) {
                    Ok(pb::DatanodeReportTypeProto::Live) => DatanodeReportKind::Live,
                    Ok(pb::DatanodeReportTypeProto::Dead) => DatanodeReportKind::Dead,
                    _ => DatanodeReportKind::All,
                };
                Ok(encode_response(&pb::GetDatanodeReportResponseProto {
                    di: fsn.bm.datanode_report(kind),
                }))
            }
            "getStoragePolicies" => {
                fsn.check_operation(Cat::Read)?;
                Ok(encode_response(&pb::GetStoragePoliciesResponseProto {
                    policies: Vec::new(),
                }))
            }
            other => Err(RpcError::no_such_method(PROTOCOL, other)),
        }
    }
}

#[async_trait]
impl RpcService for ClientProtocolService {
    fn protocol_name(&self) -> &'static str {
        PROTOCOL
    }

    async fn call(
        &self,
        ctx: &CallContext,
        method: &str,
        request: Bytes,
    ) -> Result<Bytes, RpcError> {
        self.dispatch(ctx, method, request).await
    }
}

/// Encodes any response; used by tests to compare answers.
pub fn encoded<M: Message>(m: &M) -> Bytes {
    encode_response(m)
}
