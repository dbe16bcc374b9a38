//! Calls to a nameservice of several NameNodes, moving on from a Standby or an
//! unreachable one, the way Hadoop's `RetryInvocationHandler` with the failover proxy
//! provider behaves.
//!
//! One logical call has one call id for all its attempts; the retry count goes 0, 1, 2...
//! A NameNode that already executed the call (before a failover or a lost response)
//! recognises (client id, call id) in its retry cache and answers the original result.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tracing::{debug, info};

use super::config::ClientConfig;
use super::connection::next_call_id;
use super::rpc_client::{decode_response, RpcClient};
use crate::error::IpcError;

/// Failover and retry limits; `Default` gives Hadoop's.
#[derive(Debug, Clone)]
pub struct FailoverConfig {
    /// `dfs.client.failover.max.attempts` (15): retries after the first attempt.
    pub max_attempts: u32,
    /// `dfs.client.failover.sleep.base.millis` (500 ms).
    pub sleep_base: Duration,
    /// `dfs.client.failover.sleep.max.millis` (15 s).
    pub sleep_max: Duration,
    /// `dfs.client.failover.connection.retries` (0): extra tries of the same address
    /// after a connection failure before moving on.
    pub connection_retries: u32,
}

impl Default for FailoverConfig {
    fn default() -> Self {
        FailoverConfig {
            max_attempts: 15,
            sleep_base: Duration::from_millis(500),
            sleep_max: Duration::from_millis(15_000),
            connection_retries: 0,
        }
    }
}

pub struct FailoverProxy {
    clients: Vec<RpcClient>,
    /// Index of the address that answered last (where calls start).
    current: AtomicUsize,
    fo: FailoverConfig,
    jitter: AtomicU64,
}

/// What an attempt's failure calls for.
enum Action {
    Fail,
    RetrySame,
    FailOver,
}

impl FailoverProxy {
    pub fn new(
        addrs: Vec<String>,
        protocol: &'static str,
        cfg: ClientConfig,
        fo: FailoverConfig,
    ) -> Self {
        let seed = u64::from_le_bytes(
            cfg.client_id
                .get(..8)
                .and_then(|s| s.try_into().ok())
                .unwrap_or([0x5e; 8]),
        ) | 1;
        let clients = addrs
            .into_iter()
            .map(|a| RpcClient::new(a, protocol, cfg.clone()))
            .collect();
        FailoverProxy {
            clients,
            current: AtomicUsize::new(0),
            fo,
            jitter: AtomicU64::new(seed),
        }
    }

    /// The address calls currently start at.
    pub fn current_addr(&self) -> Option<&str> {
        let n = self.clients.len();
        if n == 0 {
            return None;
        }
        Some(self.clients[self.current.load(Ordering::Relaxed) % n].addr())
    }

    pub async fn call<Req: prost::Message, Resp: prost::Message + Default>(
        &self,
        method: &str,
        req: &Req,
    ) -> Result<Resp, IpcError> {
        let (addr, body) = self
            .call_raw(method, Bytes::from(req.encode_to_vec()))
            .await?;
        decode_response(&addr, method, body)
    }

    /// Makes one logical call, retrying and failing over with a single call id. Returns
    /// the address that answered and the encoded response.
    pub async fn call_raw(
        &self,
        method: &str,
        request: Bytes,
    ) -> Result<(String, Bytes), IpcError> {
        let n = self.clients.len();
        if n == 0 {
            return Err(IpcError::Protocol {
                addr: String::new(),
                msg: "no NameNode addresses configured".into(),
            });
        }
        let call_id = next_call_id();
        let mut idx = self.current.load(Ordering::Relaxed) % n;
        let mut retry_count: i32 = 0;
        let mut hops_this_round: usize = 0;
        let mut rounds: u32 = 0;
        let mut same_address_tries: u32 = 0;
        loop {
            let client = &self.clients[idx];
            let err = match client
                .call_raw(method, request.clone(), call_id, retry_count)
                .await
            {
                Ok(body) => {
                    self.current.store(idx, Ordering::Relaxed);
                    return Ok((client.addr().to_string(), body));
                }
                Err(e) => e,
            };
            let action = match &err {
                e if e.is_standby() => Action::FailOver,
                e if e.remote().is_some_and(|r| r.is_retriable()) => Action::RetrySame,
                e if e.is_connection_failure() => {
                    if same_address_tries < self.fo.connection_retries {
                        Action::RetrySame
                    } else {
                        Action::FailOver
                    }
                }
                _ => Action::Fail,
            };
            if matches!(action, Action::Fail) || retry_count as u32 >= self.fo.max_attempts {
                return Err(err);
            }
            match action {
                Action::RetrySame => {
                    same_address_tries += 1;
                    debug!(addr = client.addr(), method, call_id, error = %err, "retrying the same NameNode");
                    tokio::time::sleep(self.backoff(same_address_tries)).await;
                }
                _ => {
                    same_address_tries = 0;
                    hops_this_round += 1;
                    let next_idx = (idx + 1) % n;
                    // A Standby answering is routine in an HA nameservice (every new
                    // client may try it first): not worth a line on a user's terminal.
                    if err.is_standby() {
                        debug!(
                            from = client.addr(),
                            to = self.clients[next_idx].addr(),
                            method,
                            call_id,
                            "a Standby answered; failing over"
                        );
                    } else {
                        info!(from = client.addr(), to = self.clients[next_idx].addr(), method, call_id, error = %err, "failing over");
                    }
                    // Only move the shared starting point if nobody else moved it already.
                    let _ = self.current.compare_exchange(
                        idx,
                        next_idx,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    );
                    idx = next_idx;
                    // Go around the list without pausing; pause between full rounds.
                    if hops_this_round == n {
                        hops_this_round = 0;
                        rounds += 1;
                        tokio::time::sleep(self.backoff(rounds)).await;
                    }
                }
            }
            retry_count += 1;
        }
    }

    /// `sleep_base × 2^(round-1)`, capped at `sleep_max`, with ±50% jitter (so that many
    /// clients do not retry in lockstep).
    fn backoff(&self, round: u32) -> Duration {
        let exp = round.saturating_sub(1).min(20);
        let base = self
            .fo
            .sleep_base
            .saturating_mul(1u32 << exp)
            .min(self.fo.sleep_max);
        // xorshift step for the jitter factor in [0.5, 1.5).
        let mut x = self.jitter.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.jitter.store(x, Ordering::Relaxed);
        let factor = 0.5 + (x % 1000) as f64 / 1000.0;
        base.mul_f64(factor).min(self.fo.sleep_max)
    }
}
