//! Who is calling: the identity behind a connection.
//!
//! Today only SIMPLE authentication exists: the client names its user in the connection
//! context and the server believes it (Hadoop's behaviour with
//! `hadoop.security.authentication=simple`). A SASL-speaking client is answered the way a
//! SIMPLE-only Hadoop server answers: NEGOTIATE gets SUCCESS, which tells the client to
//! carry on as SIMPLE. Kerberos or delegation-token SASL would slot in here by producing
//! an authenticated [`Identity`] before the connection context arrives; handlers only
//! ever see the resulting [`CallContext`](crate::CallContext).

use hafs_proto::common::{
    rpc_sasl_proto::{SaslAuth, SaslState},
    IpcConnectionContextProto, RpcSaslProto,
};

use crate::error::{RpcError, RpcErrorCode};
use crate::exceptions;

/// How a connection's user was established (Hadoop's `SaslRpcServer.AuthMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// The user is whatever the client says it is.
    Simple,
}

impl AuthMethod {
    /// The name used in `SaslAuth.method`.
    pub fn wire_name(self) -> &'static str {
        match self {
            AuthMethod::Simple => "SIMPLE",
        }
    }
}

/// The caller of every call on one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user: String,
    pub real_user: Option<String>,
    pub method: AuthMethod,
}

/// Derives the connection's identity from its connection context. With SIMPLE auth
/// the effective user is taken as given; a context without one is refused, since every
/// Hadoop client sends it and files must have an owner.
pub fn identity_from_context(ctx: &IpcConnectionContextProto) -> Result<Identity, RpcError> {
    let info = ctx.user_info.as_ref();
    let user = info
        .and_then(|u| u.effective_user.clone())
        .filter(|u| !u.is_empty())
        .ok_or_else(|| {
            RpcError::access_control("connection context names no effective user")
                .with_code(RpcErrorCode::FatalUnauthorized)
        })?;
    let real_user = info
        .and_then(|u| u.real_user.clone())
        .filter(|r| !r.is_empty() && *r != user);
    Ok(Identity {
        user,
        real_user,
        method: AuthMethod::Simple,
    })
}

/// Server side of the SASL exchange (call id -33) for one connection.
#[derive(Debug, Default)]
pub struct SaslServer {
    negotiated: bool,
    established: bool,
}

/// What to do after a SASL message.
#[derive(Debug, PartialEq)]
pub enum SaslStep {
    /// Send this message (call id -33, status SUCCESS) and keep going.
    Reply(RpcSaslProto),
    /// Nothing to send; the client now proceeds as SIMPLE.
    Done,
}

impl SaslServer {
    /// True once the client may send its connection context.
    pub fn is_established(&self) -> bool {
        self.established
    }

    /// Handles one client SASL message. Errors are fatal to the connection.
    pub fn step(&mut self, msg: &RpcSaslProto) -> Result<SaslStep, RpcError> {
        if self.established {
            return Err(
                RpcError::new(exceptions::IPC, "SASL negotiation is already complete")
                    .with_code(RpcErrorCode::FatalInvalidRpcHeader),
            );
        }
        match SaslState::try_from(msg.state) {
            Ok(SaslState::Negotiate) => {
                if self.negotiated {
                    return Err(unauthorized("Client already attempted negotiation"));
                }
                self.negotiated = true;
                // A SIMPLE-only server answers NEGOTIATE with SUCCESS; the Java client and
                // hdfs-native take that as "switch to SIMPLE" and send no more SASL.
                self.established = true;
                Ok(SaslStep::Reply(RpcSaslProto {
                    state: SaslState::Success as i32,
                    ..Default::default()
                }))
            }
            Ok(SaslState::Initiate) => {
                // A client may skip NEGOTIATE and pick a method directly; only SIMPLE is
                // offered, and choosing it needs no reply.
                match msg.auths.as_slice() {
                    [SaslAuth { method, .. }] if method == AuthMethod::Simple.wire_name() => {
                        self.established = true;
                        Ok(SaslStep::Done)
                    }
                    [SaslAuth { method, .. }] => Err(unauthorized(&format!(
                        "{method} authentication is not enabled.  Available:[SIMPLE]"
                    ))),
                    _ => Err(unauthorized("Client mechanism is malformed")),
                }
            }
            _ => Err(unauthorized(&format!(
                "Client sent unsupported SASL state {}",
                msg.state
            ))),
        }
    }
}

fn unauthorized(msg: &str) -> RpcError {
    RpcError::access_control(msg).with_code(RpcErrorCode::FatalUnauthorized)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hafs_proto::common::UserInformationProto;

    #[test]
    fn identity_takes_effective_and_real_user() {
        let ctx = IpcConnectionContextProto {
            user_info: Some(UserInformationProto {
                effective_user: Some("bob".into()),
                real_user: Some("oozie".into()),
            }),
            protocol: None,
        };
        let id = identity_from_context(&ctx).unwrap();
        assert_eq!(id.user, "bob");
        assert_eq!(id.real_user.as_deref(), Some("oozie"));
        let none = identity_from_context(&IpcConnectionContextProto::default()).unwrap_err();
        assert!(none.is_fatal());
    }

    #[test]
    fn negotiate_gets_success_once() {
        let mut s = SaslServer::default();
        let neg = RpcSaslProto {
            state: SaslState::Negotiate as i32,
            ..Default::default()
        };
        match s.step(&neg).unwrap() {
            SaslStep::Reply(r) => assert_eq!(r.state, SaslState::Success as i32),
            other => panic!("unexpected {other:?}"),
        }
        assert!(s.is_established());
        assert!(s.step(&neg).unwrap_err().is_fatal());
    }

    #[test]
    fn initiate_simple_is_accepted_kerberos_refused() {
        let init = |method: &str| RpcSaslProto {
            state: SaslState::Initiate as i32,
            auths: vec![SaslAuth {
                method: method.into(),
                mechanism: "".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut s = SaslServer::default();
        assert_eq!(s.step(&init("SIMPLE")).unwrap(), SaslStep::Done);
        let mut s = SaslServer::default();
        let e = s.step(&init("KERBEROS")).unwrap_err();
        assert_eq!(e.code, RpcErrorCode::FatalUnauthorized);
        assert_eq!(e.class_name, exceptions::ACCESS_CONTROL);
    }
}
