//! The DataTransferProtocol server (Hadoop's `DataXceiverServer` / `DataXceiver`) on
//! `dfs.datanode.address`, wire-compatible with Hadoop's clients and DataNodes.
//!
//! [`XceiverServer::new`] takes the storage, an [`XceiverConfig`] and a bounded
//! `tokio::sync::mpsc::Sender<BlockEvent>`: every replica finalized here (a write's last
//! packet, a re-replication copy, a close recovery) is reported as
//! `BlockEvent::Received`, a new rbw as `BlockEvent::Receiving`, and a replica found
//! corrupt while serving as `BlockEvent::Corrupt`; the NameNode actors turn them into
//! incremental block reports / bad-block reports. [`XceiverServer::serve`] accepts
//! connections until its shutdown future completes.
//!
//! One connection carries any number of ops in sequence (connection reuse). At most
//! `max_transfer_threads` connections are served at once (`dfs.datanode.max.transfer.threads`);
//! more are closed at once. Every read from a peer has a deadline (`socket_timeout`,
//! like `dfs.client.socket-timeout`), every length is bounded by the codec, and any bad
//! input ends that one connection only.
//!
//! Ops: WRITE_BLOCK (`write.rs`: pipelines, all set-up stages, acks, forwarding),
//! READ_BLOCK and BLOCK_CHECKSUM (`read.rs`), TRANSFER_BLOCK and the DataNode-initiated
//! copy [`transfer_block`] used for the NameNode's TRANSFER commands (`transfer.rs`),
//! and the balancer's COPY_BLOCK and REPLACE_BLOCK (`replace.rs`).

mod read;
mod replace;
mod transfer;
mod write;

pub use transfer::transfer_block;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hafs_datatransfer::sasl::{self, BoxRead, BoxWrite};
use hafs_datatransfer::{
    op_response, read_op, write_op_response, DataTransferError, OpRequest, Status,
};
use hafs_proto::common::TokenProto;
use hafs_proto::hdfs::DatanodeInfoProto;
use hafs_security::block_token::AccessMode;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};

use crate::balance::BalanceLimits;
use crate::security::DataTransferSecurity;
use crate::storage::{BlockEvent, DataNodeStorage, DnStorageError};

/// Settings of the data-transfer server.
#[derive(Debug, Clone)]
pub struct XceiverConfig {
    /// Deadline for every read from (and write to) a peer; Hadoop's
    /// `dfs.client.socket-timeout` (60 s).
    pub socket_timeout: Duration,
    /// Deadline for connecting to a downstream DataNode.
    pub connect_timeout: Duration,
    /// `dfs.datanode.max.transfer.threads` (4096): connections served at once.
    pub max_transfer_threads: usize,
    /// How long an idle kept-alive connection waits for its next op
    /// (`dfs.datanode.socket.reuse.keepalive`, 4 s).
    pub keepalive_timeout: Duration,
    /// Data bytes per packet this DataNode sends (reads, transfers): 64 KiB as Hadoop.
    pub packet_size: usize,
    /// Block token checks and SASL protection (both off by default).
    pub security: Arc<DataTransferSecurity>,
    /// Bandwidth and concurrency of balancer moves (COPY_BLOCK, REPLACE_BLOCK).
    pub balance: Arc<BalanceLimits>,
}

impl Default for XceiverConfig {
    fn default() -> Self {
        XceiverConfig {
            socket_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(60),
            max_transfer_threads: 4096,
            keepalive_timeout: Duration::from_secs(4),
            packet_size: 64 * 1024,
            security: Arc::default(),
            balance: Arc::default(),
        }
    }
}

/// Why an op or a connection failed.
#[derive(Debug, thiserror::Error)]
pub enum XceiverError {
    #[error("{0}")]
    Protocol(#[from] DataTransferError),
    #[error("{0}")]
    Storage(#[from] DnStorageError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("timed out after {0:?} waiting for {1}")]
    Timeout(Duration, &'static str),
    #[error("{0}")]
    Invalid(String),
    #[error("downstream {0}: {1}")]
    Downstream(String, String),
    #[error("{0}")]
    Sasl(#[from] sasl::SaslTransferError),
}

pub type XResult<T> = std::result::Result<T, XceiverError>;

/// Shared state of the server and its connections.
pub(crate) struct Shared {
    pub storage: DataNodeStorage,
    pub config: XceiverConfig,
    pub events: mpsc::Sender<BlockEvent>,
    pub active: AtomicUsize,
}

impl Shared {
    pub async fn event(&self, e: BlockEvent) {
        if self.events.send(e).await.is_err() {
            tracing::debug!("block event receiver gone");
        }
    }
}

/// The data-transfer server. See the module docs.
#[derive(Clone)]
pub struct XceiverServer {
    shared: Arc<Shared>,
    limit: Arc<Semaphore>,
}

impl XceiverServer {
    pub fn new(
        storage: DataNodeStorage,
        config: XceiverConfig,
        events: mpsc::Sender<BlockEvent>,
    ) -> XceiverServer {
        let limit = Arc::new(Semaphore::new(config.max_transfer_threads.max(1)));
        XceiverServer {
            shared: Arc::new(Shared {
                storage,
                config,
                events,
                active: AtomicUsize::new(0),
            }),
            limit,
        }
    }

    /// Connections being served now (the heartbeat's `xceiverCount`).
    pub fn active_connections(&self) -> usize {
        self.shared.active.load(Ordering::Relaxed)
    }

    pub fn config(&self) -> &XceiverConfig {
        &self.shared.config
    }

    /// Accepts connections on `listener` until `shutdown` completes.
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                _ = &mut shutdown => return,
                a = listener.accept() => a,
            };
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "data port accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Ok(permit) = self.limit.clone().try_acquire_owned() else {
                tracing::warn!(%peer, limit = self.shared.config.max_transfer_threads, "too many data transfer connections (dfs.datanode.max.transfer.threads); refusing");
                drop(stream);
                continue;
            };
            let shared = self.shared.clone();
            tokio::spawn(async move {
                shared.active.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = serve_connection(&shared, stream, peer).await {
                    tracing::info!(%peer, error = %e, "data transfer connection ended with an error");
                }
                shared.active.fetch_sub(1, Ordering::Relaxed);
                drop(permit);
            });
        }
    }
}

/// One connection's streams: the socket itself, or the socket behind the SASL
/// protection layer (`dfs.data.transfer.protection` at integrity or privacy). The op and
/// packet code runs the same over both.
pub(crate) struct Conn {
    pub r: BufReader<BoxRead>,
    pub w: BufWriter<BoxWrite>,
    pub peer: SocketAddr,
    /// This DataNode's address as the peer reached it (`firstBadLink` on a refusal).
    pub local: SocketAddr,
}

/// Reads with the connection's deadline.
pub(crate) async fn timed<T, E: Into<XceiverError>>(
    d: Duration,
    what: &'static str,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> XResult<T> {
    match tokio::time::timeout(d, f).await {
        Ok(r) => r.map_err(Into::into),
        Err(_) => Err(XceiverError::Timeout(d, what)),
    }
}

async fn serve_connection(shared: &Shared, stream: TcpStream, peer: SocketAddr) -> XResult<()> {
    let _ = stream.set_nodelay(true);
    let local = stream.local_addr()?;
    let (r, w) = stream.into_split();
    let (r, w): (BoxRead, BoxWrite) = match shared.config.security.protection() {
        None => (Box::new(r), Box::new(w)),
        Some(qops) => {
            // A protected port speaks SASL first; anything else (a plain op) is not
            // answered, as Hadoop's DataNode drops it with InvalidMagicNumberException.
            let mut r = BufReader::new(r);
            let mut w = BufWriter::new(w);
            let d = shared.config.socket_timeout;
            let lookup = shared.config.security.password_lookup();
            let handshake = async {
                sasl::read_magic(&mut r).await?;
                let cipher = shared.config.security.cipher();
                sasl::server_handshake_with_cipher(&mut r, &mut w, qops, cipher, lookup).await
            };
            let protection = match timed(d, "the SASL handshake", handshake).await {
                Ok(p) => p,
                // A connection closed before its first byte is a port probe, not news.
                Err(XceiverError::Sasl(sasl::SaslTransferError::Io(e)))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    tracing::debug!(%peer, "connection closed before the SASL handshake");
                    return Ok(());
                }
                Err(e) => {
                    tracing::warn!(%peer, error = %e, "SASL handshake failed; closing the connection");
                    return Ok(());
                }
            };
            if let Some(p) = &protection {
                tracing::debug!(
                    %peer,
                    qop = %p.qop(),
                    cipher = p.cipher_suite().unwrap_or("none"),
                    "data transfer protection negotiated"
                );
            }
            sasl::protect(r, w.into_inner(), protection)
        }
    };
    let mut c = Conn {
        r: BufReader::with_capacity(128 * 1024, r),
        w: BufWriter::with_capacity(128 * 1024, w),
        peer,
        local,
    };
    let mut first = true;
    loop {
        let wait = if first {
            shared.config.socket_timeout
        } else {
            shared.config.keepalive_timeout
        };
        first = false;
        // Idle between ops up to `wait`; once an op has begun, its bytes must keep
        // coming within the socket timeout.
        match tokio::time::timeout(wait, c.r.fill_buf()).await {
            Err(_) => return Ok(()), // idle: close quietly
            Ok(Ok([])) => return Ok(()),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(e.into()),
        }
        let op = match timed(shared.config.socket_timeout, "an op", read_op(&mut c.r)).await? {
            None => return Ok(()),
            Some(op) => op,
        };
        tracing::debug!(%peer, op = ?op.op_code(), "data transfer op");
        // Block token first (Hadoop's checkAccess): a refused op gets no byte of data
        // and makes no replica; the connection ends.
        let access = match &op {
            OpRequest::WriteBlock(m) => {
                Some((&m.header.base_header, AccessMode::Write, "WRITE_BLOCK"))
            }
            OpRequest::ReadBlock(m) => {
                Some((&m.header.base_header, AccessMode::Read, "READ_BLOCK"))
            }
            OpRequest::BlockChecksum(m) => Some((&m.header, AccessMode::Read, "BLOCK_CHECKSUM")),
            OpRequest::TransferBlock(m) => {
                Some((&m.header.base_header, AccessMode::Copy, "TRANSFER_BLOCK"))
            }
            OpRequest::CopyBlock(m) => Some((&m.header, AccessMode::Copy, "COPY_BLOCK")),
            OpRequest::ReplaceBlock(m) => Some((&m.header, AccessMode::Replace, "REPLACE_BLOCK")),
            OpRequest::Unsupported(_) => None,
        };
        if let Some((header, mode, name)) = access {
            let token = header.token.as_ref();
            if !check_access(shared, &mut c, token, &header.block, mode, name).await? {
                return Ok(());
            }
        }
        let keep = match op {
            OpRequest::WriteBlock(m) => write::write_block(shared, &mut c, m).await?,
            OpRequest::ReadBlock(m) => read::read_block(shared, &mut c, m).await?,
            OpRequest::BlockChecksum(m) => read::block_checksum(shared, &mut c, m).await?,
            OpRequest::TransferBlock(m) => transfer::transfer_block_op(shared, &mut c, m).await?,
            OpRequest::CopyBlock(m) => replace::copy_block(shared, &mut c, m).await?,
            OpRequest::ReplaceBlock(m) => replace::replace_block(shared, &mut c, m).await?,
            other => {
                let resp = op_response(
                    Status::ErrorUnsupported,
                    format!("op {:?} is not supported by this DataNode", other.op_code()),
                );
                send_response(shared, &mut c, &resp).await?;
                false
            }
        };
        if !keep {
            return Ok(());
        }
    }
}

pub(crate) async fn send_response(
    shared: &Shared,
    c: &mut Conn,
    resp: &hafs_datatransfer::BlockOpResponseProto,
) -> XResult<()> {
    let d = shared.config.socket_timeout;
    timed(d, "writing a response", write_op_response(&mut c.w, resp)).await?;
    timed(d, "writing a response", c.w.flush()).await?;
    Ok(())
}

/// `ip:xferPort` of a DataNode, as Hadoop names pipeline members (`firstBadLink`).
pub(crate) fn xfer_addr(dn: &DatanodeInfoProto) -> String {
    format!("{}:{}", dn.id.ip_addr, dn.id.xfer_port)
}

/// Checks an op's block token for `mode`. On refusal the peer gets
/// `ERROR_ACCESS_TOKEN` (with this node as `firstBadLink` on a write) and the caller
/// ends the connection without serving a byte. Always true when tokens are off.
pub(crate) async fn check_access(
    shared: &Shared,
    c: &mut Conn,
    token: Option<&TokenProto>,
    block: &hafs_proto::hdfs::ExtendedBlockProto,
    mode: AccessMode,
    op: &str,
) -> XResult<bool> {
    let Err(reason) = shared
        .config
        .security
        .check(token, &block.pool_id, block.block_id, mode)
    else {
        return Ok(true);
    };
    tracing::warn!(
        "Block token verification failed: op={op}, remoteAddress={}, message={reason}",
        c.peer
    );
    let mut resp = op_response(
        Status::ErrorAccessToken,
        format!("Block token verification failed: op={op}, message={reason}"),
    );
    if mode == AccessMode::Write {
        resp.first_bad_link = Some(c.local.to_string());
    }
    send_response(shared, c, &resp).await?;
    Ok(false)
}

/// Connects to a DataNode's data port for an op carrying `token`, with the SASL
/// handshake first when this DataNode's data transfer is protected.
pub(crate) async fn connect_peer(
    config: &XceiverConfig,
    dn: &DatanodeInfoProto,
    token: Option<&TokenProto>,
) -> XResult<(BufReader<BoxRead>, BufWriter<BoxWrite>)> {
    let stream = connect(config, dn).await?;
    let (r, w) = stream.into_split();
    let (r, w): (BoxRead, BoxWrite) = match (config.security.protection(), token) {
        (Some(qops), Some(t)) if !t.identifier.is_empty() => {
            let mut r = BufReader::new(r);
            let mut w = BufWriter::new(w);
            let addr = xfer_addr(dn);
            let handshake = sasl::client_handshake_with_cipher(
                &mut r,
                &mut w,
                &t.identifier,
                &t.password,
                qops,
                config.security.cipher(),
            );
            let protection = timed(config.socket_timeout, "the SASL handshake", handshake)
                .await
                .map_err(|e| XceiverError::Downstream(addr, e.to_string()))?;
            sasl::protect(r, w.into_inner(), protection)
        }
        _ => (Box::new(r), Box::new(w)),
    };
    Ok((
        BufReader::with_capacity(128 * 1024, r),
        BufWriter::with_capacity(128 * 1024, w),
    ))
}

/// Connects to a DataNode's data port.
pub(crate) async fn connect(
    shared_config: &XceiverConfig,
    dn: &DatanodeInfoProto,
) -> XResult<TcpStream> {
    let addr = xfer_addr(dn);
    let s = timed(
        shared_config.connect_timeout,
        "connecting downstream",
        TcpStream::connect(addr.as_str()),
    )
    .await
    .map_err(|e| XceiverError::Downstream(addr.clone(), e.to_string()))?;
    let _ = s.set_nodelay(true);
    Ok(s)
}

/// The status to answer a storage error with.
pub(crate) fn status_of(e: &DnStorageError) -> Status {
    match e {
        DnStorageError::Checksum { .. } => Status::ErrorChecksum,
        DnStorageError::ReplicaAlreadyExists(..) => Status::ErrorExists,
        DnStorageError::Invalid(_) => Status::ErrorInvalid,
        _ => Status::Error,
    }
}
