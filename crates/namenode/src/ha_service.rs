//! HAServiceProtocol (`org.apache.hadoop.ha.HAServiceProtocol`) on the client RPC port,
//! as Hadoop serves it: what `hdfs haadmin` and failover controllers call to check a
//! NameNode's health and state and to make it Active or Standby.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use hafs_ipc::{decode_request, encode_response, CallContext, RpcError, RpcService};
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
            .map_err(RpcError::access_control)
    }

    async fn dispatch(
        &self,
        ctx: &CallContext,
        method: &str,
        req: Bytes,
    ) -> Result<Bytes, RpcError> {
        match method {
            "monitorHealth" => {
                let _: pb::MonitorHealthRequestProto = decode_request(&req)?;
                self.ha
                    .check_health()
                    .map_err(|e| RpcError::new(HEALTH_CHECK_FAILED, e))?;
                Ok(encode_response(&pb::MonitorHealthResponseProto {}))
            }
            "transitionToActive" => {
                let r: pb::TransitionToActiveRequestProto = decode_request(&req)?;
                self.check_change(ctx, &r.req_info)?;
                // Only a controller keeps the read guard it set (a ZooKeeper-backed
                // one never sets any); a forced manual transition serves unguarded.
                if source(&r.req_info) != RequestSource::Zkfc {
                    self.ha.clear_active_guard();
                }
                self.ha
                    .transition_to_active()
                    .await
                    .map_err(|e| RpcError::new(SERVICE_FAILED, e))?;
                Ok(encode_response(&pb::TransitionToActiveResponseProto {}))
            }
            "transitionToStandby" => {
                let r: pb::TransitionToStandbyRequestProto = decode_request(&req)?;
                self.check_change(ctx, &r.req_info)?;
                self.ha
                    .transition_to_standby()
                    .await
                    .map_err(|e| RpcError::new(SERVICE_FAILED, e))?;
                self.ha.clear_active_guard();
                Ok(encode_response(&pb::TransitionToStandbyResponseProto {}))
            }
            "transitionToObserver" => {
                let r: pb::TransitionToObserverRequestProto = decode_request(&req)?;
                self.check_change(ctx, &r.req_info)?;
                Err(RpcError::new(
                    SERVICE_FAILED,
                    "Transition to observer is not supported by this NameNode",
                ))
            }
            // hafs: the local controller's lease deadline (the read guard,
            // docs/election.md). Same permission as a state change by a controller.
            "hafsRenewActiveGuard" => {
                let r: pb::HafsRenewActiveGuardRequestProto = decode_request(&req)?;
                let caller = self.fsn.caller(&ctx.user);
                self.fsn
                    .check_superuser(&caller, "renew the read guard of the NameNode")?;
                self.ha
                    .renew_active_guard(r.until_monotonic_nanos)
                    .map_err(|e| RpcError::new(SERVICE_FAILED, e))?;
                Ok(encode_response(&pb::HafsRenewActiveGuardResponseProto {}))
            }
            "getServiceStatus" => {
                let _: pb::GetServiceStatusRequestProto = decode_request(&req)?;
                let s = self.ha.service_status();
                Ok(encode_response(&pb::GetServiceStatusResponseProto {
                    state: state_proto(s.state) as i32,
                    ready_to_become_active: Some(s.ready_to_become_active),
                    not_ready_reason: s.not_ready_reason,
                }))
            }
            _ => Err(RpcError::no_such_method(PROTOCOL, method)),
        }
    }
}

#[async_trait]
impl RpcService for HaServiceProtocolService {
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
