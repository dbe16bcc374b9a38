//! A client of `org.apache.hadoop.ha.HAServiceProtocol`, wire-compatible with Hadoop's
//! `HAServiceProtocolClientSideTranslatorPB`.

use std::fmt;

use hafs_ipc::{ClientConfig, IpcError, RpcClient};
use hafs_proto::common::{
    GetServiceStatusRequestProto, GetServiceStatusResponseProto, HaRequestSource,
    HaServiceStateProto, HaStateChangeRequestInfoProto, MonitorHealthRequestProto,
    MonitorHealthResponseProto, TransitionToActiveRequestProto, TransitionToActiveResponseProto,
    TransitionToObserverRequestProto, TransitionToObserverResponseProto,
    TransitionToStandbyRequestProto, TransitionToStandbyResponseProto,
};

/// The protocol name in the connection context and request headers.
pub const HA_SERVICE_PROTOCOL: &str = "org.apache.hadoop.ha.HAServiceProtocol";

/// A service's HA state. Displays as Hadoop's `HAServiceState.toString()` does
/// (`active`, `standby`, ...), which is what `haadmin -getServiceState` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaServiceState {
    Initializing,
    Active,
    Standby,
    Observer,
}

impl HaServiceState {
    pub fn from_proto(p: HaServiceStateProto) -> Self {
        match p {
            HaServiceStateProto::Initializing => HaServiceState::Initializing,
            HaServiceStateProto::Active => HaServiceState::Active,
            HaServiceStateProto::Standby => HaServiceState::Standby,
            HaServiceStateProto::Observer => HaServiceState::Observer,
        }
    }

    pub fn to_proto(self) -> HaServiceStateProto {
        match self {
            HaServiceState::Initializing => HaServiceStateProto::Initializing,
            HaServiceState::Active => HaServiceStateProto::Active,
            HaServiceState::Standby => HaServiceStateProto::Standby,
            HaServiceState::Observer => HaServiceStateProto::Observer,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HaServiceState::Initializing => "initializing",
            HaServiceState::Active => "active",
            HaServiceState::Standby => "standby",
            HaServiceState::Observer => "observer",
        }
    }
}

impl fmt::Display for HaServiceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who asks for a state change. A NameNode with automatic failover enabled refuses
/// `User` (the failover controllers own the state) and accepts the other two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestSource {
    User,
    UserForced,
    Zkfc,
}

impl RequestSource {
    pub fn to_proto(self) -> HaRequestSource {
        match self {
            RequestSource::User => HaRequestSource::RequestByUser,
            RequestSource::UserForced => HaRequestSource::RequestByUserForced,
            RequestSource::Zkfc => HaRequestSource::RequestByZkfc,
        }
    }

    fn req_info(self) -> HaStateChangeRequestInfoProto {
        HaStateChangeRequestInfoProto {
            req_source: self.to_proto() as i32,
        }
    }
}

/// `getServiceStatus`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceStatus {
    pub state: HaServiceState,
    /// As in Hadoop's translator, an absent field means "not ready".
    pub ready_to_become_active: bool,
    pub not_ready_reason: Option<String>,
}

/// A client of one service's HAServiceProtocol. Each call is made once: retrying a
/// state change is the caller's decision (a failover controller must not blindly
/// repeat a transition that timed out).
pub struct HaServiceClient {
    rpc: RpcClient,
}

impl HaServiceClient {
    /// `addr` is `host:port` of the service's RPC server; `cfg` carries the user and the
    /// connect/call timeouts.
    pub fn new(addr: impl Into<String>, cfg: ClientConfig) -> Self {
        HaServiceClient {
            rpc: RpcClient::new(addr.into(), HA_SERVICE_PROTOCOL, cfg),
        }
    }

    pub fn addr(&self) -> &str {
        self.rpc.addr()
    }

    /// Completes when the connection of the last call closes ([`RpcClient::connection_closed`]).
    pub async fn connection_closed(&self) {
        self.rpc.connection_closed().await
    }

    /// Succeeds when the service reports itself healthy; an unhealthy service answers
    /// with `HealthCheckFailedException`.
    pub async fn monitor_health(&self) -> Result<(), IpcError> {
        let _: MonitorHealthResponseProto = self
            .rpc
            .call("monitorHealth", &MonitorHealthRequestProto {})
            .await?;
        Ok(())
    }

    pub async fn transition_to_active(&self, source: RequestSource) -> Result<(), IpcError> {
        let req = TransitionToActiveRequestProto {
            req_info: source.req_info(),
        };
        let _: TransitionToActiveResponseProto = self.rpc.call("transitionToActive", &req).await?;
        Ok(())
    }

    pub async fn transition_to_standby(&self, source: RequestSource) -> Result<(), IpcError> {
        let req = TransitionToStandbyRequestProto {
            req_info: source.req_info(),
        };
        let _: TransitionToStandbyResponseProto =
            self.rpc.call("transitionToStandby", &req).await?;
        Ok(())
    }

    pub async fn transition_to_observer(&self, source: RequestSource) -> Result<(), IpcError> {
        let req = TransitionToObserverRequestProto {
            req_info: source.req_info(),
        };
        let _: TransitionToObserverResponseProto =
            self.rpc.call("transitionToObserver", &req).await?;
        Ok(())
    }

    pub async fn get_service_status(&self) -> Result<ServiceStatus, IpcError> {
        let resp: GetServiceStatusResponseProto = self
            .rpc
            .call("getServiceStatus", &GetServiceStatusRequestProto {})
            .await?;
        let state = HaServiceStateProto::try_from(resp.state).map_err(|_| IpcError::Protocol {
            addr: self.addr().to_string(),
            msg: format!("unknown HA service state {}", resp.state),
        })?;
        Ok(ServiceStatus {
            state: HaServiceState::from_proto(state),
            ready_to_become_active: resp.ready_to_become_active.unwrap_or(false),
            not_ready_reason: resp.not_ready_reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn states_print_as_hadoop_does() {
        assert_eq!(HaServiceState::Active.to_string(), "active");
        assert_eq!(HaServiceState::Standby.to_string(), "standby");
        assert_eq!(HaServiceState::Initializing.to_string(), "initializing");
        assert_eq!(HaServiceState::Observer.to_string(), "observer");
    }

    #[test]
    fn request_info_has_hadoop_wire_values() {
        // reqInfo { reqSource = REQUEST_BY_USER_FORCED (1) } as field 1 of the request.
        let req = TransitionToActiveRequestProto {
            req_info: RequestSource::UserForced.req_info(),
        };
        assert_eq!(req.encode_to_vec(), vec![0x0a, 0x02, 0x08, 0x01]);
        assert_eq!(RequestSource::Zkfc.to_proto() as i32, 2);
        assert_eq!(HaServiceState::Observer.to_proto() as i32, 3);
    }
}
