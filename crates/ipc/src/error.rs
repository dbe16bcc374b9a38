//! Error types: [`RpcError`] is what a call fails with on the wire (a Java exception
//! class name plus message); [`IpcError`] is what a client call can fail with locally.

use std::time::Duration;

use hafs_proto::common::rpc_response_header_proto::RpcErrorCodeProto;

use crate::exceptions;

/// Mirrors `RpcResponseHeaderProto.RpcErrorCodeProto`. Codes starting with `Fatal`
/// close the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RpcErrorCode {
    #[default]
    ErrorApplication,
    ErrorNoSuchMethod,
    ErrorNoSuchProtocol,
    ErrorRpcServer,
    ErrorSerializingResponse,
    ErrorRpcVersionMismatch,
    FatalUnknown,
    FatalUnsupportedSerialization,
    FatalInvalidRpcHeader,
    FatalDeserializingRequest,
    FatalVersionMismatch,
    FatalUnauthorized,
}

impl RpcErrorCode {
    /// True for the codes Hadoop sends with status FATAL.
    pub fn is_fatal(self) -> bool {
        matches!(
            self,
            RpcErrorCode::FatalUnknown
                | RpcErrorCode::FatalUnsupportedSerialization
                | RpcErrorCode::FatalInvalidRpcHeader
                | RpcErrorCode::FatalDeserializingRequest
                | RpcErrorCode::FatalVersionMismatch
                | RpcErrorCode::FatalUnauthorized
        )
    }

    pub fn to_proto(self) -> RpcErrorCodeProto {
        use RpcErrorCode as C;
        use RpcErrorCodeProto as P;
        match self {
            C::ErrorApplication => P::ErrorApplication,
            C::ErrorNoSuchMethod => P::ErrorNoSuchMethod,
            C::ErrorNoSuchProtocol => P::ErrorNoSuchProtocol,
            C::ErrorRpcServer => P::ErrorRpcServer,
            C::ErrorSerializingResponse => P::ErrorSerializingResponse,
            C::ErrorRpcVersionMismatch => P::ErrorRpcVersionMismatch,
            C::FatalUnknown => P::FatalUnknown,
            C::FatalUnsupportedSerialization => P::FatalUnsupportedSerialization,
            C::FatalInvalidRpcHeader => P::FatalInvalidRpcHeader,
            C::FatalDeserializingRequest => P::FatalDeserializingRequest,
            C::FatalVersionMismatch => P::FatalVersionMismatch,
            C::FatalUnauthorized => P::FatalUnauthorized,
        }
    }

    /// Maps the wire value; unknown values become `FatalUnknown` when the status was
    /// fatal and `ErrorApplication` otherwise (a newer server may add codes).
    pub fn from_wire(value: Option<i32>, fatal: bool) -> Self {
        use RpcErrorCode as C;
        use RpcErrorCodeProto as P;
        match value.and_then(|v| P::try_from(v).ok()) {
            Some(P::ErrorApplication) => C::ErrorApplication,
            Some(P::ErrorNoSuchMethod) => C::ErrorNoSuchMethod,
            Some(P::ErrorNoSuchProtocol) => C::ErrorNoSuchProtocol,
            Some(P::ErrorRpcServer) => C::ErrorRpcServer,
            Some(P::ErrorSerializingResponse) => C::ErrorSerializingResponse,
            Some(P::ErrorRpcVersionMismatch) => C::ErrorRpcVersionMismatch,
            Some(P::FatalUnknown) => C::FatalUnknown,
            Some(P::FatalUnsupportedSerialization) => C::FatalUnsupportedSerialization,
            Some(P::FatalInvalidRpcHeader) => C::FatalInvalidRpcHeader,
            Some(P::FatalDeserializingRequest) => C::FatalDeserializingRequest,
            Some(P::FatalVersionMismatch) => C::FatalVersionMismatch,
            Some(P::FatalUnauthorized) => C::FatalUnauthorized,
            None if fatal => C::FatalUnknown,
            None => C::ErrorApplication,
        }
    }
}

/// A failed call as it travels on the wire: the Java exception class, its message and
/// the RPC error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{class_name}: {message}")]
pub struct RpcError {
    pub class_name: String,
    pub message: String,
    pub code: RpcErrorCode,
}

impl RpcError {
    /// An application error (`ERROR_APPLICATION`) of the given Java class.
    pub fn new(class_name: &str, message: impl Into<String>) -> Self {
        RpcError {
            class_name: class_name.to_string(),
            message: message.into(),
            code: RpcErrorCode::ErrorApplication,
        }
    }

    pub fn with_code(mut self, code: RpcErrorCode) -> Self {
        self.code = code;
        self
    }

    /// True when the server is a Standby NameNode: the client should try another one.
    pub fn is_standby(&self) -> bool {
        self.class_name == exceptions::STANDBY
    }

    /// True when the server asks the client to retry the same server later.
    pub fn is_retriable(&self) -> bool {
        self.class_name == exceptions::RETRIABLE
    }

    pub fn is_fatal(&self) -> bool {
        self.code.is_fatal()
    }

    /// `RpcNoSuchMethodException`, worded as Hadoop's ProtobufRpcEngine words it.
    pub fn no_such_method(protocol: &str, method: &str) -> Self {
        RpcError::new(
            exceptions::RPC_NO_SUCH_METHOD,
            format!("Unknown method {method} called on {protocol} protocol."),
        )
        .with_code(RpcErrorCode::ErrorNoSuchMethod)
    }

    /// `RpcNoSuchProtocolException` for a protocol no service on this server speaks.
    pub fn no_such_protocol(protocol: &str) -> Self {
        RpcError::new(
            exceptions::RPC_NO_SUCH_PROTOCOL,
            format!("Unknown protocol: {protocol}"),
        )
        .with_code(RpcErrorCode::ErrorNoSuchProtocol)
    }

    pub fn file_not_found(msg: impl Into<String>) -> Self {
        RpcError::new(exceptions::FILE_NOT_FOUND, msg)
    }
    pub fn file_already_exists(msg: impl Into<String>) -> Self {
        RpcError::new(exceptions::FILE_ALREADY_EXISTS, msg)
    }
    pub fn parent_not_directory(msg: impl Into<String>) -> Self {
        RpcError::new(exceptions::PARENT_NOT_DIRECTORY, msg)
    }
    pub fn path_is_not_empty_directory(msg: impl Into<String>) -> Self {
        RpcError::new(exceptions::PATH_IS_NOT_EMPTY_DIRECTORY, msg)
    }
    pub fn access_control(msg: impl Into<String>) -> Self {
        RpcError::new(exceptions::ACCESS_CONTROL, msg)
    }
    pub fn standby(msg: impl Into<String>) -> Self {
        RpcError::new(exceptions::STANDBY, msg)
    }
    pub fn retriable(msg: impl Into<String>) -> Self {
        RpcError::new(exceptions::RETRIABLE, msg)
    }
    pub fn io(msg: impl Into<String>) -> Self {
        RpcError::new(exceptions::IO, msg)
    }
    pub fn illegal_argument(msg: impl Into<String>) -> Self {
        RpcError::new(exceptions::ILLEGAL_ARGUMENT, msg)
    }
    pub fn invalid_path(msg: impl Into<String>) -> Self {
        RpcError::new(exceptions::INVALID_PATH, msg)
    }
    pub fn unsupported_operation(msg: impl Into<String>) -> Self {
        RpcError::new(exceptions::UNSUPPORTED_OPERATION, msg)
    }
    pub fn safe_mode(msg: impl Into<String>) -> Self {
        RpcError::new(exceptions::SAFE_MODE, msg)
    }
    pub fn quota_exceeded(msg: impl Into<String>) -> Self {
        RpcError::new(exceptions::QUOTA_EXCEEDED, msg)
    }
    pub fn lease_expired(msg: impl Into<String>) -> Self {
        RpcError::new(exceptions::LEASE_EXPIRED, msg)
    }
    pub fn already_being_created(msg: impl Into<String>) -> Self {
        RpcError::new(exceptions::ALREADY_BEING_CREATED, msg)
    }
    pub fn not_replicated_yet(msg: impl Into<String>) -> Self {
        RpcError::new(exceptions::NOT_REPLICATED_YET, msg)
    }
}

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
pub enum IpcError {
    /// The server answered with an error (status ERROR or FATAL).
    #[error(transparent)]
    Remote(RpcError),
    /// Connecting, writing or reading failed, or the connection closed under the call.
    #[error("{addr}: {source}")]
    Connection {
        addr: String,
        source: std::io::Error,
    },
    /// No answer in time (connecting or waiting for the response).
    #[error("call to {addr} timed out after {after:?}")]
    Timeout { addr: String, after: Duration },
    /// The server sent something that is not valid Hadoop IPC.
    #[error("bad response from {addr}: {msg}")]
    Protocol { addr: String, msg: String },
}

impl IpcError {
    /// The remote error, if the server answered with one.
    pub fn remote(&self) -> Option<&RpcError> {
        match self {
            IpcError::Remote(e) => Some(e),
            _ => None,
        }
    }

    /// A copy for every call waiting on a connection that failed (`std::io::Error` is
    /// not `Clone`; its kind and message are what callers look at).
    pub fn duplicate(&self) -> IpcError {
        match self {
            IpcError::Remote(e) => IpcError::Remote(e.clone()),
            IpcError::Connection { addr, source } => IpcError::Connection {
                addr: addr.clone(),
                source: std::io::Error::new(source.kind(), source.to_string()),
            },
            IpcError::Timeout { addr, after } => IpcError::Timeout {
                addr: addr.clone(),
                after: *after,
            },
            IpcError::Protocol { addr, msg } => IpcError::Protocol {
                addr: addr.clone(),
                msg: msg.clone(),
            },
        }
    }

    pub fn is_standby(&self) -> bool {
        self.remote().is_some_and(RpcError::is_standby)
    }

    /// True for failures where the server may be gone: worth trying another address.
    pub fn is_connection_failure(&self) -> bool {
        matches!(self, IpcError::Connection { .. } | IpcError::Timeout { .. })
    }
}

impl From<RpcError> for IpcError {
    fn from(e: RpcError) -> Self {
        IpcError::Remote(e)
    }
}
