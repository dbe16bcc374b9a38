//! The IPC server: accepts connections and dispatches calls by protocol name to
//! [`RpcService`]s. Each connection has a reader (this module's `connection`) and a
//! writer task; calls run concurrently and their responses go out as they complete.

mod connection;
mod metrics;
mod response;

pub use metrics::{RpcMetrics, RpcSnapshot};

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use crate::service::RpcService;
use crate::DEFAULT_MAX_DATA_LENGTH;

/// Server limits. [`ServerConfig::new`] gives Hadoop's defaults.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    /// `ipc.maximum.data.length`: largest request frame accepted (128 MiB).
    pub max_data_length: usize,
    /// `ipc.server.max.connections`: connections beyond this are closed at once.
    /// 0 means no limit, as in Hadoop.
    pub max_connections: usize,
    /// Calls of one connection executing or waiting to send their response; when
    /// reached, the server stops reading that connection until one finishes.
    pub max_calls_in_flight_per_connection: usize,
    /// Calls in flight on the whole server (Hadoop's call queue: handlers ×
    /// `ipc.server.handler.queue.size`, 10 × 100). When reached, readers wait.
    pub max_queued_calls: usize,
    /// A connection with no calls in flight that sends nothing for this long is closed
    /// (Hadoop: 2 × `ipc.client.connection.maxidletime`, 20 s).
    pub idle_timeout: Duration,
    /// How callers authenticate (`hadoop.security.authentication`): SIMPLE by default.
    pub auth: crate::auth::ServerAuth,
    /// Hadoop's server-side AlignmentContext: when set, every call's response header
    /// carries `stateId` (the NameNode's, with `dfs.namenode.state.context.enabled`).
    pub alignment: Option<std::sync::Arc<dyn crate::service::AlignmentContext>>,
}

impl ServerConfig {
    pub fn new(bind: SocketAddr) -> Self {
        ServerConfig {
            bind,
            max_data_length: DEFAULT_MAX_DATA_LENGTH,
            max_connections: 0,
            max_calls_in_flight_per_connection: 256,
            max_queued_calls: 1000,
            idle_timeout: Duration::from_secs(20),
            auth: crate::auth::ServerAuth::default(),
            alignment: None,
        }
    }
}

/// State shared by all connections of one server.
pub(crate) struct Shared {
    pub config: ServerConfig,
    pub services: HashMap<&'static str, Arc<dyn RpcService>>,
    /// Server-wide bound on calls in flight.
    pub call_slots: Arc<Semaphore>,
    pub metrics: Arc<RpcMetrics>,
}

pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
    shared: Arc<Shared>,
}

/// How long `run` waits for connections to wind down after shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

impl Server {
    /// Binds the listening socket. Fails on a bind error, on two services claiming the
    /// same protocol, or on zero limits.
    pub async fn bind(
        config: ServerConfig,
        services: Vec<Arc<dyn RpcService>>,
    ) -> std::io::Result<Server> {
        let invalid = |msg: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, msg);
        if config.max_calls_in_flight_per_connection == 0 || config.max_queued_calls == 0 {
            return Err(invalid(
                "max_calls_in_flight_per_connection and max_queued_calls must be at least 1".into(),
            ));
        }
        if config.max_data_length == 0 || config.max_data_length > i32::MAX as usize {
            return Err(invalid(format!(
                "max_data_length {} is out of range 1..={}",
                config.max_data_length,
                i32::MAX
            )));
        }
        let mut map: HashMap<&'static str, Arc<dyn RpcService>> = HashMap::new();
        for s in services {
            let name = s.protocol_name();
            if map.insert(name, s).is_some() {
                return Err(invalid(format!("two services for protocol {name}")));
            }
        }
        let listener = TcpListener::bind(config.bind).await?;
        let local_addr = listener.local_addr()?;
        let call_slots = Arc::new(Semaphore::new(config.max_queued_calls));
        let metrics = Arc::new(RpcMetrics::new(config.max_queued_calls, call_slots.clone()));
        Ok(Server {
            listener,
            local_addr,
            shared: Arc::new(Shared {
                config,
                services: map,
                call_slots,
                metrics,
            }),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The server's own figures (connections, queue and processing times), for the
    /// daemon's `/jmx` and `/prom`. Live: keep the handle and snapshot it per scrape.
    pub fn metrics(&self) -> Arc<RpcMetrics> {
        self.shared.metrics.clone()
    }

    /// Serves until `shutdown` resolves, then stops accepting, closes connections and
    /// returns once they are gone (or after a short grace period).
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        let Server {
            listener,
            local_addr,
            shared,
        } = self;
        info!(%local_addr, protocols = ?shared.services.keys().collect::<Vec<_>>(), "IPC server listening");
        let (stop_tx, stop_rx) = watch::channel(false);
        let open = shared.metrics.open_connections.clone();
        let max = shared.config.max_connections;
        let mut conns = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        if max != 0 && open.load(Ordering::SeqCst) >= max {
                            warn!(%peer, max, "too many IPC connections; closing new one");
                            shared.metrics.connection_dropped();
                            drop(stream);
                            continue;
                        }
                        let guard = OpenGuard::new(open.clone());
                        debug!(%peer, "IPC connection accepted");
                        conns.spawn(connection::serve(
                            stream,
                            peer,
                            shared.clone(),
                            stop_rx.clone(),
                            guard,
                        ));
                    }
                    Err(e) => {
                        // Typically out of file descriptors: back off rather than spin.
                        warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
            }
        }
        drop(listener);
        let _ = stop_tx.send(true);
        let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while conns.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            conns.abort_all();
        }
        info!(%local_addr, "IPC server stopped");
    }
}

/// Counts a connection as open for as long as it lives.
pub(crate) struct OpenGuard(Arc<AtomicUsize>);

impl OpenGuard {
    fn new(c: Arc<AtomicUsize>) -> Self {
        c.fetch_add(1, Ordering::SeqCst);
        OpenGuard(c)
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
