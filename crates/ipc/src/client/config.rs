//! Client settings.

use std::time::Duration;

use bytes::Bytes;

use crate::DEFAULT_MAX_DATA_LENGTH;

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The user named in the connection context (SIMPLE auth believes it).
    pub user: String,
    /// When set, `user` is impersonated by this real user (a proxy user).
    pub real_user: Option<String>,
    /// 16 random bytes identifying this client; with the call id it keys the
    /// NameNode's retry cache, so it must stay the same across retries and failovers.
    pub client_id: Bytes,
    /// `ipc.client.connect.timeout` (20 s).
    pub connect_timeout: Duration,
    /// How long a call waits for its response (`ipc.client.rpc-timeout.ms`-like);
    /// zero waits forever.
    pub call_timeout: Duration,
    /// `ipc.maximum.response.length`: largest response frame accepted (128 MiB).
    pub max_response_length: usize,
    /// Open connections with the SASL auth byte and a NEGOTIATE exchange, as a client
    /// configured for security does. A SIMPLE server answers SUCCESS and the connection
    /// continues unauthenticated.
    pub sasl: bool,
    /// How to authenticate. Secure (Kerberos or tokens) implies the SASL header; such a
    /// client never falls back to SIMPLE.
    pub auth: crate::auth::ClientAuth,
    /// The local address outgoing connections are made from (port chosen by the OS);
    /// `None` lets the OS pick. A DataNode on its own 127.0.0.x sets it, because a
    /// NameNode takes a DataNode's IP address from its connection.
    pub bind_address: Option<std::net::IpAddr>,
    /// Hadoop's client-side AlignmentContext (ClientGSIContext): when set, every call
    /// carries the newest state id this client has seen in any response
    /// (`RpcRequestHeaderProto.stateId`), and every response's raises it. Shared by
    /// all connections of one logical client, so an Observer serves it no older state
    /// than the Active has answered it with.
    pub state_id: Option<std::sync::Arc<std::sync::atomic::AtomicI64>>,
}

impl ClientConfig {
    pub fn new(user: impl Into<String>) -> Self {
        ClientConfig {
            user: user.into(),
            real_user: None,
            client_id: random_client_id(),
            connect_timeout: Duration::from_secs(20),
            call_timeout: Duration::from_secs(120),
            max_response_length: DEFAULT_MAX_DATA_LENGTH,
            sasl: false,
            auth: crate::auth::process_login(),
            bind_address: None,
            state_id: None,
        }
    }
}

impl Default for ClientConfig {
    /// The user comes from `HADOOP_USER_NAME`, else `USER`, as Hadoop's SIMPLE login does.
    fn default() -> Self {
        let user = std::env::var("HADOOP_USER_NAME")
            .ok()
            .filter(|u| !u.is_empty())
            .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
            .unwrap_or_else(|| "hafs".to_string());
        ClientConfig::new(user)
    }
}

/// A fresh client id: 16 random bytes laid out as a version-4 UUID, like Hadoop's
/// `ClientId.getClientId()`.
pub fn random_client_id() -> Bytes {
    let mut id = [0u8; 16];
    if getrandom::fill(&mut id).is_err() {
        // No OS randomness: fall back to time and pid, still unique enough per process.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        id[..8].copy_from_slice(&(nanos as u64).to_le_bytes());
        id[8..12].copy_from_slice(&std::process::id().to_le_bytes());
    }
    id[6] = (id[6] & 0x0f) | 0x40;
    id[8] = (id[8] & 0x3f) | 0x80;
    Bytes::copy_from_slice(&id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_distinct_uuid_v4() {
        let a = random_client_id();
        let b = random_client_id();
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
        assert_eq!(a[6] >> 4, 4);
        assert_eq!(a[8] >> 6, 0b10);
    }
}
