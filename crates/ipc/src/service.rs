//! The seam between the IPC server and the code that answers calls.

use std::net::SocketAddr;

use bytes::Bytes;

use crate::error::RpcError;

/// What a handler knows about the call it is answering.
#[derive(Debug, Clone)]
pub struct CallContext {
    /// The effective user (from the connection context, or the authenticated user).
    pub user: String,
    /// The real user when `user` is impersonated (a proxy user).
    pub real_user: Option<String>,
    /// How the connection authenticated (SIMPLE, KERBEROS, TOKEN): delegation tokens are
    /// only issued to Kerberos callers.
    pub auth_method: crate::auth::AuthMethod,
    /// The authenticated Kerberos principal (or token owner), for service-level
    /// authorization; `None` with SIMPLE.
    pub principal: Option<String>,
    /// The identifier of the token a TOKEN connection authenticated with (a block
    /// token on a DataNode's IPC port); `None` otherwise.
    pub token_identifier: Option<Vec<u8>>,
    /// The client's 16-byte id; with `call_id` it keys the retry cache.
    pub client_id: Bytes,
    pub call_id: i32,
    /// 0 on the first attempt, 1, 2, ... on retries of the same call (-1: not given).
    pub retry_count: i32,
    pub peer: SocketAddr,
    /// `RpcRequestHeaderProto.stateId`: the newest namespace state the client has seen
    /// (sent by clients reading from Observer NameNodes); `None` when not sent.
    pub state_id: Option<i64>,
}

/// Hadoop's `AlignmentContext`, the server's side: the state id every response
/// header carries, so a client can later ask a follower (an Observer NameNode) for a
/// state at least this new. What a request's state id means to a method is the
/// protocol's business ([`crate::ProtocolService::align`]).
pub trait AlignmentContext: Send + Sync + std::fmt::Debug + 'static {
    /// The newest state this server has: the last txid written (an Active NameNode)
    /// or applied (a Standby or Observer).
    fn last_seen_state_id(&self) -> i64;
}

/// One RPC protocol served by the server, e.g. ClientProtocol.
#[async_trait::async_trait]
pub trait RpcService: Send + Sync + 'static {
    /// The protocol name clients put in `RequestHeaderProto.declaringClassProtocolName`,
    /// e.g. "org.apache.hadoop.hdfs.protocol.ClientProtocol".
    fn protocol_name(&self) -> &'static str;

    /// Answers one call: `request` is the encoded request message, the result is the
    /// encoded response message. Unknown methods answer [`RpcError::no_such_method`].
    async fn call(
        &self,
        ctx: &CallContext,
        method: &str,
        request: Bytes,
    ) -> Result<Bytes, RpcError>;
}

/// Decodes a request message; malformed bytes become an error naming the message type.
pub fn decode_request<M: prost::Message + Default>(b: &[u8]) -> Result<M, RpcError> {
    M::decode(b).map_err(|e| {
        let full = std::any::type_name::<M>();
        let short = full.rsplit("::").next().unwrap_or(full);
        RpcError::io(format!("could not decode {short}: {e}"))
    })
}

/// Encodes a response message.
pub fn encode_response<M: prost::Message>(m: &M) -> Bytes {
    Bytes::from(m.encode_to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hafs_proto::common::RequestHeaderProto;

    #[test]
    fn decode_request_reports_bad_bytes() {
        let err = decode_request::<RequestHeaderProto>(&[0x0a, 0x05, b'a']).unwrap_err();
        assert_eq!(err.class_name, crate::exceptions::IO);
        assert!(
            err.message.contains("RequestHeaderProto"),
            "{}",
            err.message
        );

        let m = RequestHeaderProto {
            method_name: "mkdirs".into(),
            declaring_class_protocol_name: "p".into(),
            client_protocol_version: 1,
        };
        let back: RequestHeaderProto = decode_request(&encode_response(&m)).unwrap();
        assert_eq!(back, m);
    }
}
