//! One JournalNode as the writer sees it: a [`JournalChannel`] and one ordered queue of
//! calls (Hadoop's `IPCLoggerChannel`). Calls to a node go out strictly in the order
//! they were queued, and each is built when it goes out (the writer core stamps its IPC
//! serial and the freshest committed txid then), so the node sees serials increase;
//! calls to different nodes run in parallel. The bytes of queued edits are bounded
//! (`dfs.qjournal.queued-edits.limit.mb`): a node that falls that far behind fails the
//! write, and the writer core skips it until the next segment.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use super::call::BoxFut;
use super::channel::JournalChannel;

type Job =
    Box<dyn FnOnce(Arc<dyn JournalChannel>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// Jobs a node's queue holds (besides the byte bound).
const MAX_QUEUED_CALLS: usize = 10_000;

pub struct Logger {
    pub addr: String,
    channel: Arc<dyn JournalChannel>,
    tx: mpsc::Sender<Job>,
    queued_bytes: Arc<AtomicUsize>,
    limit_bytes: usize,
}

impl Logger {
    pub fn new(channel: Arc<dyn JournalChannel>, limit_bytes: usize) -> Arc<Logger> {
        let (tx, mut rx) = mpsc::channel::<Job>(MAX_QUEUED_CALLS);
        let c = channel.clone();
        tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                job(c.clone()).await;
            }
        });
        Arc::new(Logger {
            addr: channel.addr().to_string(),
            channel,
            tx,
            queued_bytes: Arc::new(AtomicUsize::new(0)),
            limit_bytes,
        })
    }

    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes.load(Ordering::Relaxed)
    }

    /// A direct call outside the queue (calls that carry no serial number).
    pub fn call_raw(&self, method: &'static str, request: Bytes) -> BoxFut<Bytes> {
        self.channel.call(method, request)
    }

    /// A typed direct call.
    pub fn call<Req, Resp>(&self, method: &'static str, req: &Req) -> BoxFut<Resp>
    where
        Req: prost::Message,
        Resp: prost::Message + Default + Send + 'static,
    {
        let f = self.channel.call(method, Bytes::from(req.encode_to_vec()));
        let addr = self.addr.clone();
        Box::pin(async move {
            let body = f.await?;
            Resp::decode(body).map_err(|e| format!("{addr}: undecodable answer to {method}: {e}"))
        })
    }

    /// Queues a call; `build` makes the encoded request when it goes out. `bytes`
    /// counts toward the queue bound.
    pub fn queued(
        &self,
        method: &'static str,
        bytes: usize,
        build: Box<dyn FnOnce() -> Bytes + Send>,
    ) -> BoxFut<Bytes> {
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
        let job: Job = Box::new(move |channel: Arc<dyn JournalChannel>| {
            Box::pin(async move {
                let r = channel.call(method, build()).await;
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
            done_rx.await.map_err(|_| format!("{addr}: call dropped"))?
        })
    }
}
