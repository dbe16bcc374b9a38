//! ClientProtocol's snapshot calls: allowSnapshot / disallowSnapshot (superuser, as
//! `hdfs dfsadmin`), createSnapshot / deleteSnapshot / renameSnapshot (the directory's
//! owner) and getSnapshottableDirListing. Reads under `<dir>/.snapshot` go through the
//! ordinary read calls (namespace/snapshot.rs answers them).

use bytes::Bytes;
use hafs_ipc::{CallContext, RpcError};
use hafs_proto::hdfs as pb;

use super::{status_proto, ClientProtocolService};
use crate::namespace::{diff_page, DiffKind, NamespaceError, Planned};
use crate::namesystem::ns_err;
use crate::storage::now_ms;

impl ClientProtocolService {
    pub(super) async fn allow_snapshot(
        &self,
        ctx: &CallContext,
        r: pb::AllowSnapshotRequestProto,
    ) -> Result<pb::AllowSnapshotResponseProto, RpcError> {
        let caller = self.caller(ctx);
        self.fsn.check_superuser(&caller, "allow snapshot")?;
        self.fsn
            .mutate(
                &format!("allow snapshot on {}", r.snapshot_root),
                None,
                |ns| ns.plan_allow_snapshot(&caller, &r.snapshot_root),
            )
            .await?;
        Ok(pb::AllowSnapshotResponseProto {})
    }

    pub(super) async fn disallow_snapshot(
        &self,
        ctx: &CallContext,
        r: pb::DisallowSnapshotRequestProto,
    ) -> Result<pb::DisallowSnapshotResponseProto, RpcError> {
        let caller = self.caller(ctx);
        self.fsn.check_superuser(&caller, "disallow snapshot")?;
        self.fsn
            .mutate(
                &format!("disallow snapshot on {}", r.snapshot_root),
                None,
                |ns| ns.plan_disallow_snapshot(&caller, &r.snapshot_root),
            )
            .await?;
        Ok(pb::DisallowSnapshotResponseProto {})
    }

    pub(super) async fn create_snapshot(
        &self,
        ctx: &CallContext,
        r: pb::CreateSnapshotRequestProto,
    ) -> Result<pb::CreateSnapshotResponseProto, RpcError> {
        let caller = self.caller(ctx);
        let now = now_ms();
        let (snapshot_path, _) = self
            .fsn
            .mutate_op(
                &format!("create snapshot of {}", r.snapshot_root),
                self.retry_key(ctx).as_ref(),
                |ns| {
                    let (op, path) = ns
                        .plan_create_snapshot(
                            &caller,
                            &r.snapshot_root,
                            r.snapshot_name.as_deref(),
                            now,
                        )
                        .map_err(ns_err)?;
                    Ok((Some(op), path))
                },
            )
            .await?;
        Ok(pb::CreateSnapshotResponseProto { snapshot_path })
    }

    pub(super) async fn delete_snapshot(
        &self,
        ctx: &CallContext,
        r: pb::DeleteSnapshotRequestProto,
    ) -> Result<pb::DeleteSnapshotResponseProto, RpcError> {
        let caller = self.caller(ctx);
        let now = now_ms();
        self.fsn
            .mutate(
                &format!("delete snapshot {} of {}", r.snapshot_name, r.snapshot_root),
                self.retry_key(ctx).as_ref(),
                |ns| ns.plan_delete_snapshot(&caller, &r.snapshot_root, &r.snapshot_name, now),
            )
            .await?;
        Ok(pb::DeleteSnapshotResponseProto {})
    }

    pub(super) async fn rename_snapshot(
        &self,
        ctx: &CallContext,
        r: pb::RenameSnapshotRequestProto,
    ) -> Result<pb::RenameSnapshotResponseProto, RpcError> {
        let caller = self.caller(ctx);
        let now = now_ms();
        self.fsn
            .mutate(
                &format!("rename snapshot of {}", r.snapshot_root),
                self.retry_key(ctx).as_ref(),
                |ns| -> Result<Planned, _> {
                    ns.plan_rename_snapshot(
                        &caller,
                        &r.snapshot_root,
                        &r.snapshot_old_name,
                        &r.snapshot_new_name,
                        now,
                    )
                },
            )
            .await?;
        Ok(pb::RenameSnapshotResponseProto {})
    }

    /// A retried createSnapshot that already succeeded (its answer lost in a failover):
    /// the path of the snapshot it named, or of the directory's newest one when the
    /// NameNode chose the name.
    pub(super) fn create_snapshot_again(
        &self,
        _ctx: &CallContext,
        r: &pb::CreateSnapshotRequestProto,
    ) -> Result<pb::CreateSnapshotResponseProto, RpcError> {
        let ns = self.fsn.read();
        let snapshot_path = match &r.snapshot_name {
            Some(name) => ns.existing_snapshot_path(&r.snapshot_root, Some(name)),
            None => ns.existing_snapshot_path(&r.snapshot_root, None),
        }
        .unwrap_or_default();
        Ok(pb::CreateSnapshotResponseProto { snapshot_path })
    }

    pub(super) fn delete_snapshot_again(
        &self,
        _ctx: &CallContext,
        _r: &pb::DeleteSnapshotRequestProto,
    ) -> Result<pb::DeleteSnapshotResponseProto, RpcError> {
        Ok(pb::DeleteSnapshotResponseProto {})
    }

    pub(super) fn rename_snapshot_again(
        &self,
        _ctx: &CallContext,
        _r: &pb::RenameSnapshotRequestProto,
    ) -> Result<pb::RenameSnapshotResponseProto, RpcError> {
        Ok(pb::RenameSnapshotResponseProto {})
    }

    /// getSnapshottableDirListing: absent when there is none (Hadoop answers null).
    pub(super) async fn get_snapshottable_dir_listing(
        &self,
        ctx: &CallContext,
        _r: pb::GetSnapshottableDirListingRequestProto,
    ) -> Result<pb::GetSnapshottableDirListingResponseProto, RpcError> {
        let dirs = self.fsn.read().snapshottable_dirs(&self.caller(ctx));
        if dirs.is_empty() {
            return Ok(pb::GetSnapshottableDirListingResponseProto {
                snapshottable_dir_list: None,
            });
        }
        let listing = dirs
            .into_iter()
            .map(|d| {
                let parent = match d.path.rfind('/') {
                    Some(0) | None => "/".to_string(),
                    Some(i) => d.path[..i].to_string(),
                };
                pb::SnapshottableDirectoryStatusProto {
                    dir_status: status_proto(&d.status),
                    snapshot_quota: d.snapshot_limit,
                    snapshot_number: d.snapshot_count,
                    parent_fullpath: Bytes::from(parent),
                }
            })
            .collect();
        Ok(pb::GetSnapshottableDirListingResponseProto {
            snapshottable_dir_list: Some(pb::SnapshottableDirectoryListingProto {
                snapshottable_dir_listing: listing,
            }),
        })
    }
}

impl ClientProtocolService {
    /// getSnapshotDiffReport (`hdfs snapshotDiff <dir> <from> <to>`, "" or "." for the
    /// live tree on the client side).
    pub(super) async fn get_snapshot_diff_report(
        &self,
        ctx: &CallContext,
        r: pb::GetSnapshotDiffReportRequestProto,
    ) -> Result<pb::GetSnapshotDiffReportResponseProto, RpcError> {
        let (root, entries) = self
            .fsn
            .read()
            .snapshot_diff(
                &self.caller(ctx),
                &r.snapshot_root,
                &r.from_snapshot,
                &r.to_snapshot,
            )
            .map_err(ns_err)?;
        Ok(pb::GetSnapshotDiffReportResponseProto {
            diff_report: pb::SnapshotDiffReportProto {
                snapshot_root: root,
                from_snapshot: r.from_snapshot,
                to_snapshot: r.to_snapshot,
                diff_report_entries: entries
                    .into_iter()
                    .map(|e| pb::SnapshotDiffReportEntryProto {
                        fullpath: Bytes::from(e.path),
                        modification_label: e.kind.label().to_string(),
                        target_path: e.target.map(Bytes::from),
                    })
                    .collect(),
            },
        })
    }
}

impl ClientProtocolService {
    /// getSnapshotDiffReportListing: the diff page by page, as Hadoop's client asks for
    /// it between two snapshots (`hdfs snapshotDiff <dir> s1 s2`). Each page holds at
    /// most dfs.snapshotdiff-report.limit entries of the diff in report order; the
    /// cursor names the next entry by its index and path, so a page asked for after
    /// the diff changed (a snapshot deleted, or the live tree changed between pages) is
    /// refused rather than silently skipping or repeating entries.
    pub(super) async fn get_snapshot_diff_report_listing(
        &self,
        ctx: &CallContext,
        r: pb::GetSnapshotDiffReportListingRequestProto,
    ) -> Result<pb::GetSnapshotDiffReportListingResponseProto, RpcError> {
        let (_, entries) = self
            .fsn
            .read()
            .snapshot_diff(
                &self.caller(ctx),
                &r.snapshot_root,
                &r.from_snapshot,
                &r.to_snapshot,
            )
            .map_err(ns_err)?;
        let cursor = r.cursor.as_ref().map(|c| (c.start_path.as_ref(), c.index));
        let (page, next) = diff_page(&entries, cursor, self.fsn.config.snapshot_diff_limit)
            .map_err(|e| {
                ns_err(NamespaceError::Snapshot(format!(
                    "The snapshot diff of {} from {:?} to {:?} {e}",
                    r.snapshot_root, r.from_snapshot, r.to_snapshot
                )))
            })?;
        let cursor = match next {
            Some((path, index)) => pb::SnapshotDiffReportCursorProto {
                start_path: Bytes::copy_from_slice(path),
                index,
            },
            None => pb::SnapshotDiffReportCursorProto {
                start_path: Bytes::new(),
                index: -1,
            },
        };
        let mut report = pb::SnapshotDiffReportListingProto {
            modified_entries: Vec::new(),
            created_entries: Vec::new(),
            deleted_entries: Vec::new(),
            // Entries always run from `from` to `to`, so the client never flips them.
            is_from_earlier: true,
            cursor: Some(cursor),
        };
        for e in page {
            let entry = pb::SnapshotDiffReportListingEntryProto {
                fullpath: Bytes::from(e.path.clone()),
                dir_id: e.dir_id,
                is_reference: e.is_reference(),
                target_path: e.target.clone().map(Bytes::from),
                file_id: Some(e.inode_id),
            };
            match e.kind {
                DiffKind::Modify => report.modified_entries.push(entry),
                DiffKind::Create => report.created_entries.push(entry),
                // A rename travels as a deleted entry naming its target.
                DiffKind::Delete | DiffKind::Rename => report.deleted_entries.push(entry),
            }
        }
        Ok(pb::GetSnapshotDiffReportListingResponseProto {
            diff_report: report,
        })
    }

    /// getSnapshotListing (`hdfs lsSnapshot <dir>`): the directory's snapshots, oldest
    /// first; absent when it has none (Hadoop answers null).
    pub(super) async fn get_snapshot_listing(
        &self,
        ctx: &CallContext,
        r: pb::GetSnapshotListingRequestProto,
    ) -> Result<pb::GetSnapshotListingResponseProto, RpcError> {
        let (root, snapshots) = self
            .fsn
            .read()
            .snapshot_listing(&self.caller(ctx), &r.snapshot_root)
            .map_err(ns_err)?;
        if snapshots.is_empty() {
            return Ok(pb::GetSnapshotListingResponseProto {
                snapshot_list: None,
            });
        }
        let listing = snapshots
            .into_iter()
            .map(|(id, status)| pb::SnapshotStatusProto {
                dir_status: status_proto(&status),
                snapshot_id: id,
                parent_fullpath: Bytes::from(root.clone()),
                is_deleted: false,
            })
            .collect();
        Ok(pb::GetSnapshotListingResponseProto {
            snapshot_list: Some(pb::SnapshotListingProto {
                snapshot_listing: listing,
            }),
        })
    }
}
