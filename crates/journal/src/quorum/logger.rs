//! One JournalNode as the writer sees it: an RPC client and one ordered queue of calls.
//! Calls to a node go out strictly in the order they were queued, each with the next
//! IPC serial number, so the node sees serials increase; calls to different nodes run in
//! parallel. The bytes of queued edits are bounded (`dfs.qjournal.queued-edits.limit.mb`):
//! a node that falls that far behind is skipped until the next segment.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hafs_ipc::{ClientConfig, RpcClient};
use tokio::sync::{mpsc, oneshot};

use super::call::BoxFut;
use crate::journalnode::QJOURNAL_PROTOCOL;

type Job = Box<dyn FnOnce(Arc<RpcClient>, u64) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// Jobs a node's queue holds (besides the byte bound).
const MAX_QUEUED_CALLS: usize = 10_000;

pub struct Logger {
    pub addr: String,
    client: Arc<RpcClient>,
    tx: mpsc::Sender<Job>,
    queued_bytes: Arc<AtomicUsize>,
    limit_bytes: usize,
    /// Set when a write to this node failed: it gets no edits until the next segment.
    pub out_of_sync: AtomicBool,
    /// Highest txid this node acknowledged (for lag reports).
    pub acked_txid: AtomicU64,
    /// Highest committed txid a call built for this node carried: the commit heartbeat
    /// skips a node that already heard of the current one from a batch.
    pub commit_sent: AtomicU64,
    /// A commit heartbeat is queued or in flight to this node (at most one, so a node
    /// that hangs does not fill its queue with them).
    pub heartbeat_pending: AtomicBool,
}

impl Logger {
    pub fn new(addr: &str, call_timeout: Duration, limit_bytes: usize) -> Arc<Logger> {
        let cfg = ClientConfig {
            connect_timeout: call_timeout.min(Duration::from_secs(20)),
            call_timeout,
            ..ClientConfig::default()
        };
        let client = Arc::new(RpcClient::new(addr.to_string(), QJOURNAL_PROTOCOL, cfg));
        let (tx, mut rx) = mpsc::channel::<Job>(MAX_QUEUED_CALLS);
        let c = client.clone();
        tokio::spawn(async move {
            let mut serial = 0u64;
            while let Some(job) = rx.recv().await {
                serial += 1;
                job(c.clone(), serial).await;
            }
        });
        Arc::new(Logger {
            addr: addr.to_string(),
            client,
            tx,
            queued_bytes: Arc::new(AtomicUsize::new(0)),
            limit_bytes,
            out_of_sync: AtomicBool::new(false),
            acked_txid: AtomicU64::new(0),
            commit_sent: AtomicU64::new(0),
            heartbeat_pending: AtomicBool::new(false),
        })
    }

    pub fn client(&self) -> &RpcClient {
        &self.client
    }

    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes.load(Ordering::Relaxed)
    }

    /// A direct call outside the queue (calls that carry no serial number).
    pub fn direct<Req, Resp>(self: &Arc<Self>, method: &'static str, req: Req) -> BoxFut<Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        let me = self.clone();
        Box::pin(async move {
            me.client
                .call(method, &req)
                .await
                .map_err(|e| e.to_string())
        })
    }

    /// Queues a call; `build` makes the request from the serial number at send time.
    /// `bytes` counts toward the queue bound.
    pub fn queued<Req, Resp, F>(
        self: &Arc<Self>,
        method: &'static str,
        bytes: usize,
        build: F,
    ) -> BoxFut<Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
        F: FnOnce(u64) -> Req + Send + 'static,
    {
        let queued = self.queued_bytes.load(Ordering::Relaxed);
        if bytes > 0 && queued + bytes > self.limit_bytes {
            let addr = self.addr.clone();
            let limit = self.limit_bytes;
            return Box::pin(async move {
                Err(format!(
                    "{addr} is too far behind: {queued} bytes queued, limit {limit} (dfs.qjournal.queued-edits.limit.mb)"
                ))
            });
        }
        self.queued_bytes.fetch_add(bytes, Ordering::Relaxed);
        let (done_tx, done_rx) = oneshot::channel::<Result<Bytes, String>>();
        let counter = self.queued_bytes.clone();
        let job: Job = Box::new(move |client: Arc<RpcClient>, serial: u64| {
            Box::pin(async move {
                let req = build(serial);
                let r = client
                    .call_raw(
                        method,
                        Bytes::from(req.encode_to_vec()),
                        hafs_ipc::next_call_id(),
                        0,
                    )
                    .await
                    .map_err(|e| e.to_string());
                counter.fetch_sub(bytes, Ordering::Relaxed);
                let _ = done_tx.send(r);
            })
        });
        let sent = self.tx.try_send(job);
        let addr = self.addr.clone();
        let counter = self.queued_bytes.clone();
        Box::pin(async move {
            if sent.is_err() {
                counter.fetch_sub(bytes, Ordering::Relaxed);
                return Err(format!("{addr}: call queue is full"));
            }
            let body = done_rx
                .await
                .map_err(|_| format!("{addr}: call dropped"))??;
            Resp::decode(body).map_err(|e| format!("{addr}: undecodable answer to {method}: {e}"))
        })
    }
}
