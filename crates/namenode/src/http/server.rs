//! The NameNode's HTTP server (`dfs.namenode.http-address`): a small hand-written
//! HTTP/1.1 server, one request per connection, for image transfer and a status page.
//!
//! - `GET /` — plain-text status (HA state, last txid, newest image).
//! - `GET /imagetransfer?getimage=1&txid=<N|latest>` — streams an fsimage that
//!   verifies, with `X-Image-Txid`, `X-Image-Checksum` and the namespace identity
//!   (`X-Cluster-Id`, `X-Namespace-Id`, `X-Block-Pool-Id`, `X-Layout-Version`,
//!   `X-Ctime`) and this node's `X-Last-Txid` in the headers.
//! - `GET /fsck?ugi=<user>&path=<p>[&files=1&blocks=1&locations=1…]` — Hadoop's fsck
//!   report ([`crate::fsck`]), streamed as the walk makes it, as the calling user (in
//!   simple mode `user.name`, else `ugi`, else Hadoop's static web user `dr.who`; in
//!   secure mode the SPNEGO principal's short name).
//! - `PUT /imagetransfer?putimage=1&txid=<N>&checksum=crc32c:<hex>&storageinfo=<..>` —
//!   receives an fsimage (Content-Length required, `Expect: 100-continue` honoured),
//!   verifies it as it arrives, and installs it in every name dir. 400 on a bad
//!   checksum or framing, 403 for another namespace, 409 when not newer than the
//!   newest image held.
//!
//! In secure mode ([`HttpConfig::security`]) every request must first authenticate with
//! SPNEGO (401 `WWW-Authenticate: Negotiate` without it, 403 for a token Kerberos
//! refuses), and `/imagetransfer` serves only NameNode principals (403); successful
//! answers carry the server's mutual-authentication reply.
//!
//! Every read has a timeout, heads are bounded, connections are capped, and no input
//! makes it panic.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hafs_journal::StorageInfo;
use hafs_security::spnego::SpnegoRefusal;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Mutex, Semaphore};
use tracing::{debug, info, warn};

use super::auth::{HttpSecurity, IMAGE_TRANSFER_FORBIDDEN};
use super::image_store::{
    format_checksum, parse_checksum, ImageStore, ImageVerifier, TxidSpec, MAX_IMAGE_LEN,
};
use super::request::{read_head, HeadError, Request};
use crate::fsck::FsckRequest;

/// What the status page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeStatus {
    /// "active", "standby", "initializing".
    pub state: String,
    /// Last txid applied to this node's namespace.
    pub last_txid: u64,
}

/// What the HTTP server needs from the NameNode.
#[async_trait]
pub trait HttpBackend: Send + Sync + 'static {
    fn status(&self) -> NodeStatus;
    fn storage_info(&self) -> StorageInfo;
    /// Called after an uploaded image was installed; `oldest_retained` is the oldest
    /// image txid still kept (an Active purges older edits from the journal).
    async fn image_received(&self, txid: u64, oldest_retained: Option<u64>);
    /// `GET /fsck`: starts the fsck report for `req` and returns the receiving end of
    /// its pieces (the walk stops when it is dropped); `None` when this server has no
    /// namespace to check (answered 404).
    fn fsck(&self, _req: FsckRequest) -> Option<tokio::sync::mpsc::Receiver<String>> {
        None
    }
}

#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub bind: SocketAddr,
    /// Time to receive a request head.
    pub head_timeout: Duration,
    /// Longest wait for any one read or write of a body.
    pub io_timeout: Duration,
    /// Connections served at once; more are answered 503.
    pub max_connections: usize,
    /// Secure mode: every request authenticates with SPNEGO, image transfer only for
    /// NameNodes. `None`: no authentication (simple mode).
    pub security: Option<Arc<HttpSecurity>>,
}

impl HttpConfig {
    pub fn new(bind: SocketAddr) -> HttpConfig {
        HttpConfig {
            bind,
            head_timeout: Duration::from_secs(10),
            io_timeout: Duration::from_secs(60),
            max_connections: 32,
            security: None,
        }
    }
}

/// The `storageinfo` query value of an upload: `layout:namespaceId:ctime:clusterId`.
pub fn storage_info_string(info: &StorageInfo) -> String {
    format!(
        "{}:{}:{}:{}",
        info.layout_version, info.namespace_id, info.ctime, info.cluster_id
    )
}

struct Shared {
    config: HttpConfig,
    store: ImageStore,
    backend: Arc<dyn HttpBackend>,
    /// One upload at a time: "newer than what we hold" is checked and acted on under it.
    upload: Mutex<()>,
    slots: Arc<Semaphore>,
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
        store: ImageStore,
        backend: Arc<dyn HttpBackend>,
    ) -> std::io::Result<HttpServer> {
        let listener = TcpListener::bind(config.bind).await?;
        let local_addr = listener.local_addr()?;
        let (stop, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            slots: Arc::new(Semaphore::new(config.max_connections.max(1))),
            config,
            store,
            backend,
            upload: Mutex::new(()),
        });
        let task = tokio::spawn(accept_loop(listener, shared, stop_rx));
        info!(http = %local_addr, "NameNode HTTP server serving");
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
        let shared = shared.clone();
        match shared.slots.clone().try_acquire_owned() {
            Ok(permit) => {
                tokio::spawn(async move {
                    serve_connection(stream, peer, &shared).await;
                    drop(permit);
                });
            }
            Err(_) => {
                tokio::spawn(async move {
                    let mut stream = stream;
                    let _ = tokio::time::timeout(
                        Duration::from_secs(2),
                        respond_text(&mut stream, 503, "too many connections, try again\n"),
                    )
                    .await;
                });
            }
        }
    }
}

async fn serve_connection(mut stream: TcpStream, peer: SocketAddr, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let req = match read_head(&mut stream, shared.config.head_timeout).await {
        Ok(r) => r,
        Err(HeadError::Closed) => return,
        Err(e) => {
            debug!(%peer, "bad HTTP request: {e}");
            let _ = write_timed(
                shared,
                respond_text(&mut stream, e.status(), &format!("{e}\n")),
            )
            .await;
            return;
        }
    };
    debug!(%peer, method = %req.method, path = %req.path, "HTTP request");
    let mut req = req;
    // The authenticated caller's principal (secure mode only).
    let mut principal = None;
    if let Some(security) = &shared.config.security {
        match authenticate(security, &req).await {
            Ok(accepted) => {
                if let Some(v) = accepted.www_authenticate {
                    req.reply_headers = format!("WWW-Authenticate: {v}\r\n");
                }
                if req.path == "/imagetransfer"
                    && !security.may_transfer_images(&accepted.principal)
                {
                    info!(%peer, principal = %accepted.principal, "ImageServlet rejecting");
                    let body = format!("{IMAGE_TRANSFER_FORBIDDEN}\n");
                    let _ = write_timed(shared, respond_text(&mut stream, 403, &body)).await;
                    linger(&mut stream).await;
                    return;
                }
                debug!(%peer, principal = %accepted.principal, "authenticated HTTP request");
                principal = Some(accepted.principal);
            }
            Err(refusal) => {
                let status = refusal.status();
                if status == 403 {
                    warn!(%peer, "HTTP authentication failed: {refusal}");
                }
                // 401 names the scheme, so clients know to send a ticket.
                let extra = if status == 401 {
                    "WWW-Authenticate: Negotiate\r\n"
                } else {
                    ""
                };
                let body = format!("{refusal}\n");
                let _ = write_timed(shared, respond(&mut stream, status, extra, &body)).await;
                linger(&mut stream).await;
                return;
            }
        }
    }
    let result = route(&mut stream, req, peer, principal.as_deref(), shared).await;
    if let Err(e) = result {
        debug!(%peer, "HTTP connection ended: {e}");
    }
    linger(&mut stream).await;
}

/// Checks the request's `Authorization: Negotiate` off the async threads (GSS reads
/// the keytab and the replay cache). `user.name` is never consulted.
async fn authenticate(
    security: &Arc<HttpSecurity>,
    req: &Request,
) -> Result<hafs_security::spnego::Accepted, SpnegoRefusal> {
    let security = security.clone();
    let authorization = req.header("authorization").map(str::to_string);
    tokio::task::spawn_blocking(move || security.acceptor.accept(authorization.as_deref()))
        .await
        .unwrap_or_else(|e| {
            Err(SpnegoRefusal::Refused(format!(
                "authentication failed: {e}"
            )))
        })
}

/// Closes our side, then reads (and drops) what the client may still be sending for a
/// moment, so a refusal sent before its upload finished is not lost to a reset.
async fn linger(stream: &mut TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.shutdown()).await;
    let mut buf = [0u8; 16 * 1024];
    let mut drained = 0usize;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while drained < (4 << 20) {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => drained += n,
            }
        }
    })
    .await;
}

async fn write_timed<F: std::future::Future<Output = std::io::Result<()>>>(
    shared: &Shared,
    f: F,
) -> std::io::Result<()> {
    tokio::time::timeout(shared.config.io_timeout, f)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "write timed out"))?
}

async fn route(
    stream: &mut TcpStream,
    req: Request,
    peer: SocketAddr,
    principal: Option<&str>,
    shared: &Shared,
) -> std::io::Result<()> {
    match (req.method.as_str(), req.path.as_str()) {
        ("GET" | "HEAD", "/") => {
            let s = shared.backend.status();
            let info = shared.backend.storage_info();
            let newest = shared
                .store
                .newest_txid()
                .map_or("none".to_string(), |t| t.to_string());
            let body = format!(
                "hafs NameNode\nstate: {}\nlast txid: {}\nnewest fsimage txid: {newest}\ncluster id: {}\nblock pool id: {}\n",
                s.state, s.last_txid, info.cluster_id, info.block_pool_id
            );
            write_timed(shared, respond(stream, 200, &req.reply_headers, &body)).await
        }
        ("GET", "/imagetransfer") => get_image(stream, &req, shared).await,
        ("PUT" | "POST", "/imagetransfer") => put_image(stream, &req, shared).await,
        ("GET", "/fsck") => fsck(stream, &req, peer, principal, shared).await,
        (_, "/" | "/imagetransfer" | "/fsck") => {
            write_timed(shared, respond_text(stream, 405, "method not allowed\n")).await
        }
        _ => {
            let body = format!("not found: {}\n", req.path);
            write_timed(shared, respond_text(stream, 404, &body)).await
        }
    }
}

async fn get_image(stream: &mut TcpStream, req: &Request, shared: &Shared) -> std::io::Result<()> {
    if req.param("getimage") != Some("1") {
        return write_timed(
            shared,
            respond_text(stream, 400, "GET /imagetransfer needs getimage=1\n"),
        )
        .await;
    }
    let Some(spec) = req.param("txid").and_then(TxidSpec::parse) else {
        return write_timed(
            shared,
            respond_text(stream, 400, "txid must be a number or 'latest'\n"),
        )
        .await;
    };
    let store = shared.store.clone();
    let found = tokio::task::spawn_blocking(move || store.find(spec))
        .await
        .unwrap_or_else(|e| Err(format!("image lookup failed: {e}")));
    let (path, meta) = match found {
        Ok(x) => x,
        Err(e) => return write_timed(shared, respond_text(stream, 404, &format!("{e}\n"))).await,
    };
    let mut file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(e) => {
            let body = format!("cannot open {}: {e}\n", path.display());
            return write_timed(shared, respond_text(stream, 500, &body)).await;
        }
    };
    let info = shared.backend.storage_info();
    let status = shared.backend.status();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\
         X-Image-Txid: {}\r\nX-Image-Checksum: {}\r\nX-Cluster-Id: {}\r\nX-Namespace-Id: {}\r\n\
         X-Block-Pool-Id: {}\r\nX-Layout-Version: {}\r\nX-Ctime: {}\r\nX-Last-Txid: {}\r\n\
         X-Ha-State: {}\r\n{}Connection: close\r\n\r\n",
        meta.len,
        meta.txid,
        format_checksum(meta.checksum),
        header_safe(&info.cluster_id),
        info.namespace_id,
        header_safe(&info.block_pool_id),
        info.layout_version,
        info.ctime,
        status.last_txid,
        header_safe(&status.state),
        req.reply_headers,
    );
    write_timed(shared, stream.write_all(head.as_bytes())).await?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut left = meta.len;
    // Bounded by the image's verified length.
    while left > 0 {
        let want = buf.len().min(left as usize);
        let n = file.read(&mut buf[..want]).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("{} shrank while being sent", path.display()),
            ));
        }
        write_timed(shared, stream.write_all(&buf[..n])).await?;
        left -= n as u64;
    }
    info!(txid = meta.txid, bytes = meta.len, "sent fsimage");
    stream.flush().await
}

/// Hadoop's default `hadoop.http.staticuser.user`: who an unnamed simple-mode web
/// caller is.
const STATIC_WEB_USER: &str = "dr.who";

/// `GET /fsck`: the report streams as plain text until the connection closes (no
/// Content-Length: its length is known only at the end), which is how `DFSck` reads it.
async fn fsck(
    stream: &mut TcpStream,
    req: &Request,
    peer: SocketAddr,
    principal: Option<&str>,
    shared: &Shared,
) -> std::io::Result<()> {
    let (user, shown_as) = match (&shared.config.security, principal) {
        (Some(security), Some(principal)) => match security.short_name(principal) {
            Some(user) => (user, format!("{principal} (auth:KERBEROS_SSL)")),
            None => {
                let body = format!("no local user for principal {principal}\n");
                return write_timed(shared, respond_text(stream, 403, &body)).await;
            }
        },
        // Authentication ran first; a secure server never gets here without a principal.
        (Some(_), None) => {
            return write_timed(
                shared,
                respond_text(stream, 401, "authentication required\n"),
            )
            .await
        }
        (None, _) => {
            let user = req
                .param("user.name")
                .or_else(|| req.param("ugi").and_then(|u| u.split(',').next()))
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .unwrap_or(STATIC_WEB_USER)
                .to_string();
            let shown = format!("{user} (auth:SIMPLE)");
            (user, shown)
        }
    };
    let fsck_req = FsckRequest {
        user,
        shown_as,
        remote: peer.ip(),
        params: req.params.clone(),
    };
    let Some(mut pieces) = shared.backend.fsck(fsck_req) else {
        return write_timed(shared, respond_text(stream, 404, "not found: /fsck\n")).await;
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n{}Connection: close\r\n\r\n",
        req.reply_headers
    );
    write_timed(shared, stream.write_all(head.as_bytes())).await?;
    while let Some(piece) = pieces.recv().await {
        write_timed(shared, stream.write_all(piece.as_bytes())).await?;
    }
    stream.flush().await
}

/// Identity strings are ours, but never let one break the response framing.
fn header_safe(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

async fn put_image(stream: &mut TcpStream, req: &Request, shared: &Shared) -> std::io::Result<()> {
    macro_rules! refuse {
        ($code:expr, $($arg:tt)*) => {{
            let msg = format!($($arg)*);
            warn!("refused an fsimage upload: {msg}");
            return write_timed(shared, respond_text(stream, $code, &format!("{msg}\n"))).await;
        }};
    }
    if req.param("putimage") != Some("1") {
        refuse!(400, "PUT /imagetransfer needs putimage=1");
    }
    let Some(txid) = req.param("txid").and_then(|t| t.parse::<u64>().ok()) else {
        refuse!(400, "txid must be a number");
    };
    let Some(checksum) = req.param("checksum").and_then(parse_checksum) else {
        refuse!(400, "checksum must be crc32c:<8 hex digits>");
    };
    let len = match req.content_length() {
        Ok(Some(n)) => n,
        Ok(None) => refuse!(411, "a Content-Length is required"),
        Err(e) => refuse!(400, "{e}"),
    };
    if len > MAX_IMAGE_LEN {
        refuse!(413, "image of {len} bytes is larger than any image");
    }
    let ours = storage_info_string(&shared.backend.storage_info());
    match req.param("storageinfo") {
        Some(theirs) if theirs == ours => {}
        Some(theirs) => refuse!(
            403,
            "the image belongs to another namespace ({theirs}; this NameNode is {ours})"
        ),
        None => refuse!(400, "storageinfo is required"),
    }
    let _one_at_a_time = shared.upload.lock().await;
    if let Some(newest) = shared.store.newest_txid() {
        if newest >= txid {
            refuse!(
                409,
                "not newer: this NameNode already has an fsimage at txid {newest} (offered {txid})"
            );
        }
    }
    if req.body_start.len() as u64 > len {
        refuse!(400, "more bytes than the Content-Length");
    }
    if req
        .header("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    {
        // The SPNEGO reply rides on the 100 too: the client checks who we are before it
        // sends the image.
        let cont = format!("HTTP/1.1 100 Continue\r\n{}\r\n", req.reply_headers);
        write_timed(shared, stream.write_all(cont.as_bytes())).await?;
    }
    let tmp = shared.store.temp_path(txid);
    let received = receive_body(stream, req, len, &tmp, shared).await;
    let meta = match received {
        Ok(v) => match v.finish() {
            Ok(m) => m,
            Err(e) => {
                shared.store.discard(&tmp);
                refuse!(400, "the uploaded image does not verify: {e}");
            }
        },
        Err(e) => {
            shared.store.discard(&tmp);
            warn!("fsimage upload of txid {txid} failed: {e}");
            return Err(e);
        }
    };
    if meta.checksum != checksum {
        shared.store.discard(&tmp);
        refuse!(
            400,
            "checksum mismatch: the upload declared {}, its bytes give {}",
            format_checksum(checksum),
            format_checksum(meta.checksum)
        );
    }
    if meta.txid != txid {
        shared.store.discard(&tmp);
        refuse!(
            400,
            "the uploaded image holds txid {}, not the declared {txid}",
            meta.txid
        );
    }
    let store = shared.store.clone();
    let tmp2 = tmp.clone();
    let installed = tokio::task::spawn_blocking(move || store.install(&tmp2, txid))
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
    let oldest = match installed {
        Ok(o) => o,
        Err(e) => {
            shared.store.discard(&tmp);
            refuse!(500, "cannot save the image: {e}");
        }
    };
    info!(
        txid,
        bytes = meta.len,
        "received and saved an uploaded fsimage"
    );
    shared.backend.image_received(txid, oldest).await;
    write_timed(
        shared,
        respond(
            stream,
            200,
            &req.reply_headers,
            &format!("fsimage {txid} saved\n"),
        ),
    )
    .await
}

/// Streams the body into `tmp` (fsynced), verifying as it goes.
async fn receive_body(
    stream: &mut TcpStream,
    req: &Request,
    len: u64,
    tmp: &PathBuf,
    shared: &Shared,
) -> std::io::Result<ImageVerifier> {
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(tmp)
        .await?;
    let mut v = ImageVerifier::new();
    v.update(&req.body_start);
    file.write_all(&req.body_start).await?;
    let mut left = len - req.body_start.len() as u64;
    let mut buf = vec![0u8; 256 * 1024];
    // Bounded by the declared length.
    while left > 0 {
        let want = buf.len().min(left as usize);
        let n = tokio::time::timeout(shared.config.io_timeout, stream.read(&mut buf[..want]))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "upload stalled"))??;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("upload ended {left} bytes early"),
            ));
        }
        v.update(&buf[..n]);
        file.write_all(&buf[..n]).await?;
        left -= n as u64;
    }
    file.flush().await?;
    file.sync_all().await?;
    Ok(v)
}

pub fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    }
}

async fn respond_text(stream: &mut TcpStream, code: u16, body: &str) -> std::io::Result<()> {
    respond(stream, code, "", body).await
}

/// A plain-text response; `extra` is header lines, each ending in CRLF.
async fn respond(
    stream: &mut TcpStream,
    code: u16,
    extra: &str,
    body: &str,
) -> std::io::Result<()> {
    let msg = format!(
        "HTTP/1.1 {code} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
        reason(code),
        body.len()
    );
    stream.write_all(msg.as_bytes()).await?;
    stream.flush().await
}
