//! HAServiceProtocol (`org.apache.hadoop.ha.HAServiceProtocol`) on the client RPC port,
//! as Hadoop serves it: what `hdfs haadmin` and failover controllers call to check a
//! NameNode's health and state and to make it Active or Standby.

use std::sync::{Arc, LazyLock};

use hafs_ipc::{CallContext, MethodTable, ProtocolService, RpcError};
use hafs_proto::common as pb;

use crate::ha::{HaController, RequestSource};
use crate::namesystem::{HaState, Namesystem};

pub const PROTOCOL: &str = "org.apache.hadoop.ha.HAServiceProtocol";

const SERVICE_FAILED: &str = "org.apache.hadoop.ha.ServiceFailedException";
const HEALTH_CHECK_FAILED: &str = "org.apache.hadoop.ha.HealthCheckFailedException";

pub struct HaServiceProtocolService {
    pub fsn: Arc<Namesystem>,
    pub ha: Arc<HaController>,
}

fn source(info: &pb::HaStateChangeRequestInfoProto) -> RequestSource {
    match pb::HaRequestSource::try_from(info.req_source) {
        Ok(pb::HaRequestSource::RequestByUserForced) => RequestSource::UserForced,
        Ok(pb::HaRequestSource::RequestByZkfc) => RequestSource::Zkfc,
        _ => RequestSource::User,
    }
}

pub fn state_proto(s: HaState) -> pb::HaServiceStateProto {
    match s {
        HaState::Initializing => pb::HaServiceStateProto::Initializing,
        HaState::Active => pb::HaServiceStateProto::Active,
        HaState::Standby => pb::HaServiceStateProto::Standby,
        HaState::Observer => pb::HaServiceStateProto::Observer,
    }
}

impl HaServiceProtocolService {
    /// State changes need a superuser and, with automatic failover on, a forced or
    /// ZKFC request (Hadoop's checks, with its messages).
    fn check_change(
        &self,
        ctx: &CallContext,
        info: &pb::HaStateChangeRequestInfoProto,
    ) -> Result<(), RpcError> {
        let caller = self.fsn.caller(&ctx.user);
        self.fsn
            .check_superuser(&caller, "change the HA state of the NameNode")?;
        self.ha
            .check_request_source(source(info))
            .map_err(|e| RpcError::access_control(e.to_string()))
    }

    /// Every HAServiceProtocol method. No HA category: these are what change it.
    fn table() -> MethodTable<Self> {
        MethodTable::new(PROTOCOL)
            .method("monitorHealth", Self::monitor_health)
            .method("transitionToActive", Self::transition_to_active)
            .method("transitionToStandby", Self::transition_to_standby)
            .method("transitionToObserver", Self::transition_to_observer)
            .method("hafsRenewActiveGuard", Self::renew_active_guard)
            .method("getServiceStatus", Self::get_service_status)
    }

    async fn monitor_health(
        &self,
        _ctx: &CallContext,
        _r: pb::MonitorHealthRequestProto,
    ) -> Result<pb::MonitorHealthResponseProto, RpcError> {
        self.ha
            .check_health()
            .map_err(|e| RpcError::new(HEALTH_CHECK_FAILED, e.to_string()))?;
        Ok(pb::MonitorHealthResponseProto {})
    }

    async fn transition_to_active(
        &self,
        ctx: &CallContext,
        r: pb::TransitionToActiveRequestProto,
    ) -> Result<pb::TransitionToActiveResponseProto, RpcError> {
        self.check_change(ctx, &r.req_info)?;
        // Only a controller keeps the read guard it set (a ZooKeeper-backed one never
        // sets any); a forced manual transition serves unguarded.
        if source(&r.req_info) != RequestSource::Zkfc {
            self.ha.clear_active_guard();
        }
        self.ha
            .transition_to_active_for(source_name(source(&r.req_info)))
            .await
            .map_err(|e| RpcError::new(SERVICE_FAILED, e.to_string()))?;
        Ok(pb::TransitionToActiveResponseProto {})
    }

    async fn transition_to_standby(
        &self,
        ctx: &CallContext,
        r: pb::TransitionToStandbyRequestProto,
    ) -> Result<pb::TransitionToStandbyResponseProto, RpcError> {
        self.check_change(ctx, &r.req_info)?;
        self.ha
            .transition_to_standby_for(source_name(source(&r.req_info)))
            .await
            .map_err(|e| RpcError::new(SERVICE_FAILED, e.to_string()))?;
        self.ha.clear_active_guard();
        Ok(pb::TransitionToStandbyResponseProto {})
    }

    async fn transition_to_observer(
        &self,
        ctx: &CallContext,
        r: pb::TransitionToObserverRequestProto,
    ) -> Result<pb::TransitionToObserverResponseProto, RpcError> {
        self.check_change(ctx, &r.req_info)?;
        self.ha
            .transition_to_observer_for(source_name(source(&r.req_info)))
            .await
            .map_err(|e| RpcError::new(SERVICE_FAILED, e.to_string()))?;
        self.ha.clear_active_guard();
        Ok(pb::TransitionToObserverResponseProto {})
    }

    /// hafs: the local controller's lease deadline (the read guard, docs/election.md).
    /// Same permission as a state change by a controller.
    async fn renew_active_guard(
        &self,
        ctx: &CallContext,
        r: pb::HafsRenewActiveGuardRequestProto,
    ) -> Result<pb::HafsRenewActiveGuardResponseProto, RpcError> {
        let caller = self.fsn.caller(&ctx.user);
        self.fsn
            .check_superuser(&caller, "renew the read guard of the NameNode")?;
        self.ha
            .renew_active_guard(r.until_monotonic_nanos)
            .map_err(|e| RpcError::new(SERVICE_FAILED, e.to_string()))?;
        Ok(pb::HafsRenewActiveGuardResponseProto {})
    }

    async fn get_service_status(
        &self,
        _ctx: &CallContext,
        _r: pb::GetServiceStatusRequestProto,
    ) -> Result<pb::GetServiceStatusResponseProto, RpcError> {
        let s = self.ha.service_status();
        Ok(pb::GetServiceStatusResponseProto {
            state: state_proto(s.state) as i32,
            ready_to_become_active: Some(s.ready_to_become_active),
            not_ready_reason: s.not_ready_reason,
        })
    }
}

impl ProtocolService for HaServiceProtocolService {
    fn methods() -> &'static MethodTable<Self> {
        static METHODS: LazyLock<MethodTable<HaServiceProtocolService>> =
            LazyLock::new(HaServiceProtocolService::table);
        &METHODS
    }
}

/// Who asked for a transition, as the HA history shows it.
fn source_name(s: RequestSource) -> &'static str {
    match s {
        RequestSource::Zkfc => "zkfc",
        RequestSource::User => "haadmin",
        RequestSource::UserForced => "haadmin (forced)",
    }
}
