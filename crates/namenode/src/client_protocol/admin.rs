//! ClientProtocol's administration and HA calls (`hdfs dfsadmin`, the client's
//! observer/HA probes). Most are UNCHECKED rows: a Standby answers them too.

use hafs_ipc::{CallContext, OperationCategory as Cat, RpcError};
use hafs_proto::hdfs as pb;

use super::ClientProtocolService;
use crate::blockmanagement::DatanodeReportKind;
use crate::namesystem::HaState;

impl ClientProtocolService {
    /// Hadoop's catch-up call for clients reading from Observers: served by the
    /// Active only (a WRITE-category row), it does nothing itself; its response
    /// header carries the Active's state id, which the client then sends to the
    /// Observer (crate::ha::state_alignment).
    pub(super) async fn msync(
        &self,
        _ctx: &CallContext,
        _r: pb::MsyncRequestProto,
    ) -> Result<pb::MsyncResponseProto, RpcError> {
        Ok(pb::MsyncResponseProto {})
    }

    pub(super) async fn get_ha_service_state(
        &self,
        _ctx: &CallContext,
        _r: pb::HaServiceStateRequestProto,
    ) -> Result<pb::HaServiceStateResponseProto, RpcError> {
        let state = match self.fsn.ha_state() {
            HaState::Active => pb::NameNodeHaStateProto::Active,
            HaState::Standby => pb::NameNodeHaStateProto::Standby,
            HaState::Initializing => pb::NameNodeHaStateProto::Initializing,
            HaState::Observer => pb::NameNodeHaStateProto::Observer,
        };
        Ok(pb::HaServiceStateResponseProto {
            state: state as i32,
        })
    }

    pub(super) async fn set_safe_mode(
        &self,
        ctx: &CallContext,
        r: pb::SetSafeModeRequestProto,
    ) -> Result<pb::SetSafeModeResponseProto, RpcError> {
        let fsn = &self.fsn;
        let action = pb::SafeModeActionProto::try_from(r.action).map_err(|_| {
            RpcError::illegal_argument(format!("unknown safe mode action {}", r.action))
        })?;
        // Hadoop checks the HA state only when asked (`checked`); dfsadmin asks every
        // NameNode unchecked, so a Standby enters and leaves safe mode too.
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
            pb::SafeModeActionProto::SafemodeLeave | pb::SafeModeActionProto::SafemodeForceExit => {
                fsn.set_safe_mode(false)
            }
            pb::SafeModeActionProto::SafemodeGet => {}
        }
        Ok(pb::SetSafeModeResponseProto {
            result: fsn.in_safe_mode(),
        })
    }

    pub(super) async fn save_namespace(
        &self,
        ctx: &CallContext,
        _r: pb::SaveNamespaceRequestProto,
    ) -> Result<pb::SaveNamespaceResponseProto, RpcError> {
        let fsn = &self.fsn;
        fsn.check_superuser(&self.caller(ctx), "save the namespace")?;
        if !fsn.in_safe_mode() {
            return Err(RpcError::io(
                "Safe mode should be turned ON in order to create namespace image.",
            ));
        }
        fsn.save_namespace().await?;
        Ok(pb::SaveNamespaceResponseProto { saved: Some(true) })
    }

    pub(super) async fn roll_edits(
        &self,
        ctx: &CallContext,
        _r: pb::RollEditsRequestProto,
    ) -> Result<pb::RollEditsResponseProto, RpcError> {
        self.fsn
            .check_superuser(&self.caller(ctx), "roll the edit log")?;
        let upto = self
            .fsn
            .edit_log
            .roll()
            .await
            .map_err(|e| RpcError::io(e.to_string()))?;
        Ok(pb::RollEditsResponseProto {
            new_segment_tx_id: upto + 1,
        })
    }

    /// `dfsadmin -setBalancerBandwidth`: the DataNodes learn the new bandwidth with
    /// their next heartbeat (a BalancerBandwidthCommand).
    pub(super) async fn set_balancer_bandwidth(
        &self,
        ctx: &CallContext,
        r: pb::SetBalancerBandwidthRequestProto,
    ) -> Result<pb::SetBalancerBandwidthResponseProto, RpcError> {
        self.fsn
            .check_superuser(&self.caller(ctx), "set the balancer bandwidth")?;
        if r.bandwidth <= 0 {
            return Err(RpcError::illegal_argument(format!(
                "Bandwidth should be a positive integer: {}",
                r.bandwidth
            )));
        }
        self.fsn.bm.set_balancer_bandwidth(r.bandwidth as u64);
        tracing::info!(
            bandwidth = r.bandwidth,
            "balancer bandwidth set for every DataNode"
        );
        Ok(pb::SetBalancerBandwidthResponseProto {})
    }

    pub(super) async fn get_datanode_report(
        &self,
        _ctx: &CallContext,
        r: pb::GetDatanodeReportRequestProto,
    ) -> Result<pb::GetDatanodeReportResponseProto, RpcError> {
        Ok(pb::GetDatanodeReportResponseProto {
            di: self.fsn.bm.datanode_report(report_kind(r.r#type)),
        })
    }

    /// getDatanodeStorageReport: each DataNode with its storages, what Apache's
    /// balancer and mover plan their moves from. Superuser only, as in Hadoop.
    pub(super) async fn get_datanode_storage_report(
        &self,
        ctx: &CallContext,
        r: pb::GetDatanodeStorageReportRequestProto,
    ) -> Result<pb::GetDatanodeStorageReportResponseProto, RpcError> {
        self.fsn
            .check_superuser(&self.caller(ctx), "get the DataNode storage report")?;
        Ok(pb::GetDatanodeStorageReportResponseProto {
            datanode_storage_reports: self.fsn.bm.datanode_storage_report(report_kind(r.r#type)),
        })
    }

    /// rollingUpgrade: hafs has no rolling upgrade, so a QUERY (the balancer asks
    /// before every run, `dfsadmin -rollingUpgrade query`) answers no info, as an
    /// HDFS answers when none is in progress; starting or finalizing one is refused.
    /// Superuser only, as in Hadoop.
    pub(super) async fn rolling_upgrade(
        &self,
        ctx: &CallContext,
        r: pb::RollingUpgradeRequestProto,
    ) -> Result<pb::RollingUpgradeResponseProto, RpcError> {
        self.fsn
            .check_superuser(&self.caller(ctx), "query or change a rolling upgrade")?;
        match pb::RollingUpgradeActionProto::try_from(r.action) {
            Ok(pb::RollingUpgradeActionProto::Query) => Ok(pb::RollingUpgradeResponseProto {
                rolling_upgrade_info: None,
            }),
            Ok(action) => Err(RpcError::unsupported_operation(format!(
                "Rolling upgrades are not supported by hafs: cannot {}",
                action.as_str_name()
            ))),
            Err(_) => Err(RpcError::illegal_argument(format!(
                "unknown rolling upgrade action {}",
                r.action
            ))),
        }
    }

    /// refreshNodes (`dfsadmin -refreshNodes`): re-reads the configuration's
    /// `dfs.hosts` and `dfs.hosts.exclude` names, then both files, and applies them.
    /// Superuser only; answered by a Standby too (dfsadmin sends it to every NameNode,
    /// so that each tracks the same admin states).
    pub(super) async fn refresh_nodes(
        &self,
        ctx: &CallContext,
        _r: pb::RefreshNodesRequestProto,
    ) -> Result<pb::RefreshNodesResponseProto, RpcError> {
        let fsn = self.fsn.clone();
        fsn.check_superuser(&self.caller(ctx), "refresh nodes")?;
        let user = ctx.user.clone();
        // File reads and name resolution: off the IPC workers.
        tokio::task::spawn_blocking(move || fsn.refresh_nodes())
            .await
            .map_err(|e| RpcError::io(format!("refreshNodes failed: {e}")))??;
        tracing::info!(%user, "refreshed the DataNode include/exclude lists");
        Ok(pb::RefreshNodesResponseProto {})
    }

    /// Hadoop's slow-peer detection (`dfs.datanode.peer.stats.enabled`) has no
    /// counterpart in hafs: no DataNode is ever reported slow.
    pub(super) async fn get_slow_datanode_report(
        &self,
        _ctx: &CallContext,
        _r: pb::GetSlowDatanodeReportRequestProto,
    ) -> Result<pb::GetSlowDatanodeReportResponseProto, RpcError> {
        Ok(pb::GetSlowDatanodeReportResponseProto {
            datanode_info_proto: Vec::new(),
        })
    }
}

/// Which DataNodes a report type lists (ALL for an unknown type, as Hadoop's
/// `DatanodeReportType` default).
fn report_kind(r#type: i32) -> DatanodeReportKind {
    match pb::DatanodeReportTypeProto::try_from(r#type) {
        Ok(pb::DatanodeReportTypeProto::Live) => DatanodeReportKind::Live,
        Ok(pb::DatanodeReportTypeProto::Dead) => DatanodeReportKind::Dead,
        Ok(pb::DatanodeReportTypeProto::Decommissioning) => DatanodeReportKind::Decommissioning,
        Ok(pb::DatanodeReportTypeProto::EnteringMaintenance) => {
            DatanodeReportKind::EnteringMaintenance
        }
        Ok(pb::DatanodeReportTypeProto::InMaintenance) => DatanodeReportKind::InMaintenance,
        _ => DatanodeReportKind::All,
    }
}
