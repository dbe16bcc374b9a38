//! ClientProtocol's namespace reads (category READ: the Active, or a Standby allowed
//! stale reads).

use hafs_ipc::{CallContext, RpcError};
use hafs_proto::hdfs as pb;

use super::{client_ip, located_blocks_proto, status_proto, ClientProtocolService};
use crate::namespace::{FileKind, NamespaceError};
use crate::namesystem::ns_err;

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

impl ClientProtocolService {
    pub(super) async fn get_server_defaults(
        &self,
        _ctx: &CallContext,
        _r: pb::GetServerDefaultsRequestProto,
    ) -> Result<pb::GetServerDefaultsResponseProto, RpcError> {
        let c = &self.fsn.config;
        Ok(pb::GetServerDefaultsResponseProto {
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
        })
    }

    /// The status of `src`, None when it does not exist.
    fn file_status(
        &self,
        ctx: &CallContext,
        src: &str,
    ) -> Result<Option<pb::HdfsFileStatusProto>, RpcError> {
        let st = self
            .fsn
            .read()
            .get_file_info(&self.caller(ctx), src)
            .map_err(ns_err)?;
        Ok(st.as_ref().map(status_proto))
    }

    /// isFileClosed: whether no writer holds `src` open. A missing path or a
    /// directory is a FileNotFoundException with Hadoop's words, which its
    /// LeaseRecovery contract suite matches.
    pub(super) async fn is_file_closed(
        &self,
        ctx: &CallContext,
        r: pb::IsFileClosedRequestProto,
    ) -> Result<pb::IsFileClosedResponseProto, RpcError> {
        let st = self
            .fsn
            .read()
            .get_file_info(&self.caller(ctx), &r.src)
            .map_err(ns_err)?
            .ok_or_else(|| RpcError::file_not_found(format!("File does not exist: {}", r.src)))?;
        if st.kind != FileKind::File {
            return Err(RpcError::file_not_found(format!(
                "Path is not a file: {}",
                r.src
            )));
        }
        Ok(pb::IsFileClosedResponseProto {
            result: !st.under_construction,
        })
    }

    pub(super) async fn get_file_info(
        &self,
        ctx: &CallContext,
        r: pb::GetFileInfoRequestProto,
    ) -> Result<pb::GetFileInfoResponseProto, RpcError> {
        Ok(pb::GetFileInfoResponseProto {
            fs: self.file_status(ctx, &r.src)?,
        })
    }

    /// getLocatedFileInfo: the status with the file's block locations, as
    /// getBlockLocations gives them (what a PathHandle opens with; its path is
    /// usually `/.reserved/.inodes/<id>`). Block tokens only when asked for.
    pub(super) async fn get_located_file_info(
        &self,
        ctx: &CallContext,
        r: pb::GetLocatedFileInfoRequestProto,
    ) -> Result<pb::GetLocatedFileInfoResponseProto, RpcError> {
        let src = r.src.unwrap_or_default();
        let Some(mut fs) = self.file_status(ctx, &src)? else {
            return Ok(pb::GetLocatedFileInfoResponseProto { fs: None });
        };
        if fs.file_type == pb::hdfs_file_status_proto::FileType::IsFile as i32 {
            let located =
                self.fsn
                    .block_locations(&self.caller(ctx), &src, 0, u64::MAX, client_ip(ctx))?;
            let mut locations = located_blocks_proto(located);
            if r.need_block_token.unwrap_or(false) {
                self.stamp_located(ctx, &mut locations);
            }
            fs.locations = Some(locations);
        }
        Ok(pb::GetLocatedFileInfoResponseProto { fs: Some(fs) })
    }

    /// hafs has no symbolic links: a link's status is the file's.
    pub(super) async fn get_file_link_info(
        &self,
        ctx: &CallContext,
        r: pb::GetFileLinkInfoRequestProto,
    ) -> Result<pb::GetFileLinkInfoResponseProto, RpcError> {
        Ok(pb::GetFileLinkInfoResponseProto {
            fs: self.file_status(ctx, &r.src)?,
        })
    }

    pub(super) async fn get_listing(
        &self,
        ctx: &CallContext,
        r: pb::GetListingRequestProto,
    ) -> Result<pb::GetListingResponseProto, RpcError> {
        let fsn = &self.fsn;
        let caller = self.caller(ctx);
        let listed = fsn
            .read()
            .list(&caller, &r.src, &r.start_after, fsn.config.ls_limit);
        let (items, remaining) = match listed {
            Ok(x) => x,
            // Hadoop answers a missing path with no listing (the client turns that
            // into FileNotFoundException itself).
            Err(NamespaceError::FileNotFound(_)) => {
                return Ok(pb::GetListingResponseProto { dir_list: None })
            }
            Err(e) => return Err(ns_err(e)),
        };
        let partial_listing = items
            .iter()
            .map(|s| {
                let mut p = status_proto(s);
                if r.need_location && s.kind == FileKind::File {
                    let child = child_path(&r.src, &s.name);
                    p.locations = fsn
                        .block_locations(&caller, &child, 0, u64::MAX, client_ip(ctx))
                        .ok()
                        .map(located_blocks_proto);
                    if let Some(l) = p.locations.as_mut() {
                        self.stamp_located(ctx, l);
                    }
                }
                p
            })
            .collect();
        Ok(pb::GetListingResponseProto {
            dir_list: Some(pb::DirectoryListingProto {
                partial_listing,
                remaining_entries: remaining,
            }),
        })
    }

    pub(super) async fn get_content_summary(
        &self,
        ctx: &CallContext,
        r: pb::GetContentSummaryRequestProto,
    ) -> Result<pb::GetContentSummaryResponseProto, RpcError> {
        let s = self
            .fsn
            .read()
            .content_summary(&self.caller(ctx), &r.path)
            .map_err(ns_err)?;
        Ok(pb::GetContentSummaryResponseProto {
            summary: pb::ContentSummaryProto {
                length: s.length,
                file_count: s.file_count,
                directory_count: s.directory_count,
                quota: s.quota as u64,
                space_consumed: s.space_consumed,
                space_quota: s.space_quota as u64,
                type_quota_infos: Some(super::quota::summary_type_infos(&s)),
                ..Default::default()
            },
        })
    }

    pub(super) async fn get_block_locations(
        &self,
        ctx: &CallContext,
        r: pb::GetBlockLocationsRequestProto,
    ) -> Result<pb::GetBlockLocationsResponseProto, RpcError> {
        let caller = self.caller(ctx);
        self.check_unreadable_by_superuser(&caller, &r.src)?;
        let located =
            self.fsn
                .block_locations(&caller, &r.src, r.offset, r.length, client_ip(ctx))?;
        let mut locations = located_blocks_proto(located);
        // An Observer may not have the DataNodes' reports of a block written a
        // moment ago: Hadoop's checkBlockLocationsWhenObserver sends the client to
        // the Active rather than answer a block nobody can be read from.
        if self.fsn.ha_state() == crate::namesystem::HaState::Observer
            && locations.blocks.iter().any(|b| b.locs.is_empty())
        {
            return Err(RpcError::new(
                hafs_ipc::exceptions::OBSERVER_RETRY_ON_ACTIVE,
                format!("Zero blocklocations for {}", r.src),
            ));
        }
        self.stamp_located(ctx, &mut locations);
        Ok(pb::GetBlockLocationsResponseProto {
            locations: Some(locations),
        })
    }

    pub(super) async fn get_fs_stats(
        &self,
        _ctx: &CallContext,
        _r: pb::GetFsStatusRequestProto,
    ) -> Result<pb::GetFsStatsResponseProto, RpcError> {
        let st = self.fsn.bm.fs_stats();
        Ok(pb::GetFsStatsResponseProto {
            capacity: st.capacity,
            used: st.used,
            remaining: st.remaining,
            under_replicated: st.under_replicated,
            corrupt_blocks: st.corrupt_blocks,
            missing_blocks: st.missing_blocks,
            missing_repl_one_blocks: Some(st.missing_repl_one_blocks),
            blocks_in_future: Some(0),
            pending_deletion_blocks: Some(st.pending_deletion_blocks),
        })
    }

    /// `dfsadmin -report`'s "Replicated Blocks:" counts: every hafs block is
    /// replicated, so these are the block manager's counts of getFsStats.
    pub(super) async fn get_fs_replicated_block_stats(
        &self,
        _ctx: &CallContext,
        _r: pb::GetFsReplicatedBlockStatsRequestProto,
    ) -> Result<pb::GetFsReplicatedBlockStatsResponseProto, RpcError> {
        let st = self.fsn.bm.fs_stats();
        Ok(pb::GetFsReplicatedBlockStatsResponseProto {
            low_redundancy: st.under_replicated,
            corrupt_blocks: st.corrupt_blocks,
            missing_blocks: st.missing_blocks,
            missing_repl_one_blocks: st.missing_repl_one_blocks,
            blocks_in_future: 0,
            pending_deletion_blocks: st.pending_deletion_blocks,
            highest_prio_low_redundancy_blocks: Some(self.fsn.bm.highest_priority_blocks() as u64),
            badly_distributed_blocks: Some(st.badly_distributed),
        })
    }

    /// `dfsadmin -report`'s "Erasure Coded Block Groups:" counts: hafs has no
    /// erasure coding, so all zero.
    pub(super) async fn get_fs_ec_block_group_stats(
        &self,
        _ctx: &CallContext,
        _r: pb::GetFsEcBlockGroupStatsRequestProto,
    ) -> Result<pb::GetFsEcBlockGroupStatsResponseProto, RpcError> {
        Ok(pb::GetFsEcBlockGroupStatsResponseProto {
            highest_prio_low_redundancy_blocks: Some(0),
            badly_distributed_blocks: Some(0),
            ..Default::default()
        })
    }
}
