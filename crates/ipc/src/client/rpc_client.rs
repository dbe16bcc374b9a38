//! A client for one server address that (re)connects lazily.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::Mutex;

use super::config::ClientConfig;
use super::connection::{next_call_id, Connection};
use crate::error::IpcError;

pub struct RpcClient {
    addr: String,
    protocol: &'static str,
    cfg: ClientConfig,
    conn: Mutex<Option<Arc<Connection>>>,
}

impl RpcClient {
    pub fn new(addr: String, protocol: &'static str, cfg: ClientConfig) -> Self {
        RpcClient {
            addr,
            protocol,
            cfg,
            conn: Mutex::new(None),
        }
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    /// The live connection, opening a new one if there is none or it died. Concurrent
    /// callers share one connection attempt.
    async fn connection(&self) -> Result<Arc<Connection>, IpcError> {
        let mut slot = self.conn.lock().await;
        if let Some(c) = slot.as_ref() {
            if !c.is_closed() {
                return Ok(c.clone());
            }
        }
        *slot = None;
        let c = Arc::new(Connection::connect(&self.addr, self.protocol, &self.cfg).await?);
        *slot = Some(c.clone());
        Ok(c)
    }

    /// Completes when the connection the last call used closes (see
    /// [`Connection::closed`]); never while there is none. Lets a caller that polls a
    /// server notice at once that the server's process is gone.
    pub async fn connection_closed(&self) {
        let conn = self.conn.lock().await.clone();
        match conn {
            Some(c) => c.closed().await,
            None => std::future::pending().await,
        }
    }

    /// One attempt of a call with a given call id and retry count (used by retry and
    /// failover logic, which must keep the id stable).
    pub async fn call_raw(
        &self,
        method: &str,
        request: Bytes,
        call_id: i32,
        retry_count: i32,
    ) -> Result<Bytes, IpcError> {
        let conn = self.connection().await?;
        conn.call_raw(method, request, call_id, retry_count, self.cfg.call_timeout)
            .await
    }

    /// Calls `method` once with a fresh call id.
    pub async fn call<Req: prost::Message, Resp: prost::Message + Default>(
        &self,
        method: &str,
        req: &Req,
    ) -> Result<Resp, IpcError> {
        let body = self
            .call_raw(method, Bytes::from(req.encode_to_vec()), next_call_id(), 0)
            .await?;
        decode_response(&self.addr, method, body)
    }
}

pub(crate) fn decode_response<Resp: prost::Message + Default>(
    addr: &str,
    method: &str,
    body: Bytes,
) -> Result<Resp, IpcError> {
    Resp::decode(body).map_err(|e| IpcError::Protocol {
        addr: addr.to_string(),
        msg: format!("undecodable response to {method}: {e}"),
    })
}
