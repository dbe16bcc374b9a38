//! A server running as a task of the test until the test stops it: the shape every
//! in-process fixture (JournalNode, RPC services, NameNode) has.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use hafs_ipc::{RpcService, Server, ServerConfig};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The future a server's `run` is given: it resolves when the test stops the server.
pub type StopSignal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A spawned server and the switch that stops it.
pub struct ServerTask {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl ServerTask {
    /// Spawns `run(stop_signal)` (e.g. `|stop| server.run(stop)`).
    pub fn spawn<Fut>(run: impl FnOnce(StopSignal) -> Fut) -> ServerTask
    where
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (stop, stopped) = oneshot::channel::<()>();
        let signal: StopSignal = Box::pin(async move {
            let _ = stopped.await;
        });
        ServerTask {
            stop: Some(stop),
            task: Some(tokio::spawn(run(signal))),
        }
    }

    /// Signals the server to stop and waits until its task ended (like a crash as far
    /// as clients can tell; what it held, such as dir locks, is released).
    pub async fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

/// An IPC server for `services`, bound to `addr` (port 0 for any).
pub struct RpcServerTask {
    pub addr: SocketAddr,
    task: ServerTask,
}

impl RpcServerTask {
    pub async fn start(services: Vec<Arc<dyn RpcService>>, addr: SocketAddr) -> RpcServerTask {
        let server = Server::bind(ServerConfig::new(addr), services)
            .await
            .unwrap_or_else(|e| panic!("binding an IPC server on {addr}: {e}"));
        let addr = server.local_addr();
        RpcServerTask {
            addr,
            task: ServerTask::spawn(|stop| server.run(stop)),
        }
    }

    pub async fn stop(mut self) {
        self.task.stop().await;
    }
}
