//! How a foreground process (a daemon, the sandbox, a benchmark) learns it should stop.

/// Resolves on SIGINT or SIGTERM: Ctrl-C in a terminal, or `kill` / a supervisor
/// (the sandbox stops its children with SIGTERM).
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {},
                _ = tokio::signal::ctrl_c() => {},
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
