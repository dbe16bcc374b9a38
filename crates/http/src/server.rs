//! The server: hyper's HTTP/1.1 connection handling behind an accept loop that caps
//! connections, with the limits applied to every connection.
//!
//! - Heads: at most [`HttpConfig::max_head`] bytes (431 beyond) and
//!   [`HttpConfig::max_headers`] header lines (431), received within
//!   [`HttpConfig::head_timeout`] of starting to wait for them; the same timeout ends
//!   an idle keep-alive connection.
//! - Bodies: read by handlers through [`Request::next_chunk`] / [`Request::read_body`],
//!   each read under [`HttpConfig::io_timeout`], each body under the handler's limit
//!   (413); chunked bodies and `Expect: 100-continue` are hyper's.
//! - Writes: a client that stops reading for [`HttpConfig::io_timeout`] loses its
//!   connection, so it cannot hold a slot forever.
//! - Connections: [`HttpConfig::max_connections`] served at once; the next ones get a
//!   503 and are closed.
//! - Secure mode ([`HttpConfig::spnego`]): every request, on every path, first
//!   authenticates with SPNEGO (401 `WWW-Authenticate: Negotiate` without a token, 403
//!   for one Kerberos refuses; `user.name` is never read), and successful answers carry
//!   the server's mutual-authentication reply.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use hafs_security::spnego::{Accepted, SpnegoAcceptor, SpnegoRefusal};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tracing::{debug, info, warn};

use crate::jmx::{self, Bean};
use crate::process;
use crate::prom::{self, PromText};
use crate::query::{parse_query, path_decode};
use crate::request::Request;
use crate::response::{self, Response};

/// What a daemon serves over HTTP.
#[async_trait]
pub trait Endpoints: Send + Sync + 'static {
    /// Answers a request for any path but `/jmx` and `/prom` ([`response::not_found`]
    /// for a path the daemon does not serve). In secure mode `req.principal` is set.
    async fn serve(&self, req: Request) -> Response;

    /// The beans `/jmx` lists (and `/prom` renders those marked as metrics records).
    fn beans(&self) -> Vec<Bean> {
        Vec::new()
    }

    /// Series `/prom` adds to those of [`Endpoints::beans`] (the `hafs_*` series).
    fn prometheus(&self, _out: &mut PromText) {}
}

#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub bind: SocketAddr,
    /// Which daemon this is, for logs ("NameNode", "DataNode", "JournalNode").
    pub daemon: &'static str,
    /// Time to receive a request head once the server waits for one; also how long an
    /// idle keep-alive connection is kept.
    pub head_timeout: Duration,
    /// Longest wait for any one read of a body or write of a response.
    pub io_timeout: Duration,
    /// Connections served at once; more are answered 503.
    pub max_connections: usize,
    /// Largest request head, in bytes (at least 8 KiB).
    pub max_head: usize,
    /// Most header lines in a request head.
    pub max_headers: usize,
    /// Secure mode: every request authenticates with SPNEGO for this acceptor.
    pub spnego: Option<Arc<SpnegoAcceptor>>,
    /// Serve `/prom` (`hadoop.prometheus.endpoint.enabled`).
    pub prometheus: bool,
}

impl HttpConfig {
    pub fn new(bind: SocketAddr, daemon: &'static str) -> HttpConfig {
        HttpConfig {
            bind,
            daemon,
            head_timeout: Duration::from_secs(10),
            io_timeout: Duration::from_secs(60),
            max_connections: 128,
            max_head: 64 * 1024,
            max_headers: 64,
            spnego: None,
            prometheus: false,
        }
    }
}

struct Shared {
    config: HttpConfig,
    endpoints: Arc<dyn Endpoints>,
}

pub struct HttpServer {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl HttpServer {
    /// Binds and starts serving in the background.
    pub async fn start(
        config: HttpConfig,
        endpoints: Arc<dyn Endpoints>,
    ) -> std::io::Result<HttpServer> {
        let listener = TcpListener::bind(config.bind).await?;
        let local_addr = listener.local_addr()?;
        let (stop, stop_rx) = watch::channel(false);
        info!(http = %local_addr, daemon = config.daemon, "HTTP server serving");
        process::start_time_ms();
        let shared = Arc::new(Shared { config, endpoints });
        let task = tokio::spawn(accept_loop(listener, shared, stop_rx));
        Ok(HttpServer {
            local_addr,
            stop,
            task,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting; requests under way finish on their own tasks.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(shared.config.max_connections.max(1)));
    // Refusals are cheap but not free (a socket and a small buffer for about a second):
    // past this many at once, close without a word.
    let refusals = Arc::new(Semaphore::new(
        MAX_REFUSALS.max(4 * shared.config.max_connections),
    ));
    loop {
        let (stream, peer) = tokio::select! {
            _ = stop.changed() => return,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of descriptors and the like: back off rather than spin.
                    warn!("HTTP accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        if let Ok(permit) = slots.clone().try_acquire_owned() {
            let shared = shared.clone();
            tokio::spawn(async move {
                serve_connection(stream, peer, shared).await;
                drop(permit);
            });
        } else if let Ok(permit) = refusals.clone().try_acquire_owned() {
            tokio::spawn(async move {
                refuse_busy(stream).await;
                drop(permit);
            });
        }
    }
}

/// Connections over the cap being answered 503 at once, at least.
const MAX_REFUSALS: usize = 1024;

/// 503 to a connection over the cap, then a moment to read what it already sent, so
/// the answer is not lost to a reset.
async fn refuse_busy(mut stream: TcpStream) {
    let body = "too many connections, try again\n";
    let msg = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        stream.write_all(msg.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
    let mut buf = [0u8; 8192];
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let mut drained = 0usize;
        while drained < (1 << 20) {
            match tokio::io::AsyncReadExt::read(&mut stream, &mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => drained += n,
            }
        }
    })
    .await;
}

async fn serve_connection(stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let io = TokioIo::new(TimedWrites::new(stream, shared.config.io_timeout));
    let config = &shared.config;
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(config.head_timeout)
        .max_buf_size(config.max_head.max(8192))
        .max_header_size(config.max_head)
        .max_headers(config.max_headers)
        // Header names as Hadoop's Jetty writes them; some scripts grep for them.
        .title_case_headers(true)
        .keep_alive(true);
    let svc_shared = shared.clone();
    let svc = service_fn(move |req| {
        let shared = svc_shared.clone();
        async move { Ok::<_, Infallible>(handle(&shared, peer, req).await) }
    });
    if let Err(e) = builder.serve_connection(io, svc).await {
        debug!(%peer, "HTTP connection ended: {e}");
    }
}

async fn handle(
    shared: &Shared,
    peer: SocketAddr,
    req: hyper::Request<hyper::body::Incoming>,
) -> Response {
    let (parts, body) = req.into_parts();
    let Some(path) = path_decode(parts.uri.path()) else {
        return response::text(400, "bad escape in the path\n");
    };
    let Some(params) = parse_query(parts.uri.query().unwrap_or("")) else {
        return response::text(400, "bad escape in the query, or too many parameters\n");
    };
    debug!(%peer, method = %parts.method, %path, "HTTP request");
    let mut request = Request::new(parts, path, params, body, peer, shared.config.io_timeout);
    let mut www_authenticate = None;
    if let Some(acceptor) = &shared.config.spnego {
        match authenticate(acceptor, request.header("authorization")).await {
            Ok(accepted) => {
                debug!(%peer, principal = %accepted.principal, "authenticated HTTP request");
                request.principal = Some(accepted.principal);
                www_authenticate = accepted.www_authenticate;
            }
            Err(refusal) => return refused(peer, refusal),
        }
    }
    let mut resp = route(shared, request).await;
    if let Some(v) = www_authenticate {
        if let Ok(v) = http::HeaderValue::from_str(&v) {
            resp.headers_mut().insert(http::header::WWW_AUTHENTICATE, v);
        }
    }
    resp
}

async fn route(shared: &Shared, req: Request) -> Response {
    let get = matches!(req.method, http::Method::GET | http::Method::HEAD);
    match req.path.as_str() {
        "/jmx" if get => jmx::serve(&req, beans(shared)),
        "/prom" if get && shared.config.prometheus => {
            let mut out = PromText::new();
            out.add_beans(&beans(shared));
            shared.endpoints.prometheus(&mut out);
            process::prometheus(&mut out);
            prom::response(out)
        }
        "/jmx" | "/prom" if !get => response::method_not_allowed(),
        _ => shared.endpoints.serve(req).await,
    }
}

/// The daemon's beans and the process bean.
fn beans(shared: &Shared) -> Vec<Bean> {
    let mut beans = shared.endpoints.beans();
    beans.push(process::bean(shared.config.daemon));
    beans
}

fn refused(peer: SocketAddr, refusal: SpnegoRefusal) -> Response {
    let status = refusal.status();
    if status == 403 {
        warn!(%peer, "HTTP authentication failed: {refusal}");
    }
    let resp = response::text(status, format!("{refusal}\n"));
    // 401 names the scheme, so clients know to send a ticket.
    if status == 401 {
        response::with_header(resp, "www-authenticate", "Negotiate")
    } else {
        resp
    }
}

/// Checks `Authorization: Negotiate` off the async threads (GSS reads the keytab and
/// the replay cache).
async fn authenticate(
    acceptor: &Arc<SpnegoAcceptor>,
    authorization: Option<&str>,
) -> Result<Accepted, SpnegoRefusal> {
    let acceptor = acceptor.clone();
    let authorization = authorization.map(str::to_string);
    tokio::task::spawn_blocking(move || acceptor.accept(authorization.as_deref()))
        .await
        .unwrap_or_else(|e| {
            Err(SpnegoRefusal::Refused(format!(
                "authentication failed: {e}"
            )))
        })
}

/// A connection whose writes fail once the peer has not taken any bytes for the
/// timeout: hyper has no write timeout of its own.
struct TimedWrites {
    inner: TcpStream,
    timeout: Duration,
    stalled_since: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl TimedWrites {
    fn new(inner: TcpStream, timeout: Duration) -> TimedWrites {
        TimedWrites {
            inner,
            timeout,
            stalled_since: None,
        }
    }

    fn check<T>(
        &mut self,
        cx: &mut Context<'_>,
        r: Poll<std::io::Result<T>>,
    ) -> Poll<std::io::Result<T>> {
        match r {
            Poll::Ready(r) => {
                self.stalled_since = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let timeout = self.timeout;
                let sleep = self
                    .stalled_since
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                if sleep.as_mut().poll(cx).is_ready() {
                    self.stalled_since = None;
                    Poll::Ready(Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the client stopped reading the response",
                    )))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

impl AsyncRead for TimedWrites {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for TimedWrites {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.check(cx, r)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.check(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_flush(cx);
        this.check(cx, r)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
