//! The NameNode's HTTP server (`dfs.namenode.http-address`), on the shared
//! [`hafs_http`] foundation: its endpoints here, the limits, SPNEGO, `/jmx` and `/prom`
//! there.
//!
//! - `GET /` (also `/index.html`, `/dfshealth.html`) — the web UI ([`super::ui`]).
//! - `GET /status` — plain-text status (HA state, last txid, newest image) for scripts.
//! - `GET /imagetransfer?getimage=1&txid=<N|latest>` — streams an fsimage that
//!   verifies, with `X-Image-Txid`, `X-Image-Checksum` and the namespace identity
//!   (`X-Cluster-Id`, `X-Namespace-Id`, `X-Block-Pool-Id`, `X-Layout-Version`,
//!   `X-Ctime`) and this node's `X-Last-Txid` in the headers.
//! - `GET /fsck?ugi=<user>&path=<p>[&files=1&blocks=1&locations=1…]` — Hadoop's fsck
//!   report ([`crate::fsck`]), streamed as the walk makes it, as the calling user (in
//!   simple mode `user.name`, else `ugi`, else Hadoop's static web user `dr.who`; in
//!   secure mode the SPNEGO principal's short name).
//! - `PUT /imagetransfer?putimage=1&txid=<N>&checksum=crc32c:<hex>&storageinfo=<..>` —
//!   receives an fsimage (Content-Length or chunked, `Expect: 100-continue` honoured),
//!   verifies it as it arrives, and installs it in every name dir. 400 on a bad
//!   checksum or framing, 403 for another namespace, 409 when not newer than the
//!   newest image held, 413 past the largest image.
//! - `GET /jmx`, `GET /prom` — the beans of [`HttpBackend::beans`] (see
//!   [`crate::metrics`]).
//!
//! In secure mode ([`HttpConfig::security`]) every request must first authenticate with
//! SPNEGO (the foundation's), and `/imagetransfer` serves only NameNode principals
//! (403).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use hafs_http::response::{self, Response};
use hafs_http::Method;
use hafs_http::{Bean, Endpoints, PromText, Request};
use hafs_journal::StorageInfo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;
use tracing::{info, warn};

use super::auth::{HttpSecurity, IMAGE_TRANSFER_FORBIDDEN};
use super::image_store::{
    format_checksum, parse_checksum, ImageStore, ImageVerifier, TxidSpec, MAX_IMAGE_LEN,
};
use super::webhdfs::{self, WebLogin};
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
    /// The beans `/jmx` lists.
    fn beans(&self) -> Vec<Bean> {
        Vec::new()
    }
    /// The `hafs_*` series `/prom` adds.
    fn prometheus(&self, _out: &mut PromText) {}
    /// A `/webhdfs/v1` request from `login` (already authenticated); `None` when
    /// this server has no namespace (answered 404).
    async fn webhdfs(&self, _req: Request, _login: WebLogin) -> Option<Response> {
        None
    }
}

#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub bind: SocketAddr,
    /// Time to receive a request head (and to keep an idle connection).
    pub head_timeout: Duration,
    /// Longest wait for any one read or write of a body.
    pub io_timeout: Duration,
    /// Connections served at once; more are answered 503.
    pub max_connections: usize,
    /// Secure mode: every request authenticates with SPNEGO, image transfer only for
    /// NameNodes. `None`: no authentication (simple mode).
    pub security: Option<Arc<HttpSecurity>>,
    /// Serve `/prom` (`hadoop.prometheus.endpoint.enabled`).
    pub prometheus: bool,
    /// Serve `/webhdfs/v1` (`dfs.webhdfs.enabled`).
    pub webhdfs: bool,
}

impl HttpConfig {
    pub fn new(bind: SocketAddr) -> HttpConfig {
        let base = hafs_http::HttpConfig::new(bind, "NameNode");
        HttpConfig {
            bind,
            head_timeout: base.head_timeout,
            io_timeout: base.io_timeout,
            max_connections: base.max_connections,
            security: None,
            prometheus: false,
            webhdfs: false,
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

struct NameNodeEndpoints {
    security: Option<Arc<HttpSecurity>>,
    store: ImageStore,
    backend: Arc<dyn HttpBackend>,
    webhdfs_enabled: bool,
    /// One upload at a time: "newer than what we hold" is checked and acted on under it.
    upload: Mutex<()>,
}

pub struct HttpServer {
    inner: hafs_http::HttpServer,
}

impl HttpServer {
    /// Binds and starts serving in the background.
    pub async fn start(
        config: HttpConfig,
        store: ImageStore,
        backend: Arc<dyn HttpBackend>,
    ) -> std::io::Result<HttpServer> {
        let mut base = hafs_http::HttpConfig::new(config.bind, "NameNode");
        base.head_timeout = config.head_timeout;
        base.io_timeout = config.io_timeout;
        base.max_connections = config.max_connections;
        base.prometheus = config.prometheus;
        base.spnego = config.security.as_ref().map(|s| s.acceptor.clone());
        let endpoints = Arc::new(NameNodeEndpoints {
            security: config.security,
            store,
            backend,
            webhdfs_enabled: config.webhdfs,
            upload: Mutex::new(()),
        });
        let inner = hafs_http::HttpServer::start(base, endpoints).await?;
        Ok(HttpServer { inner })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr()
    }

    /// Stops accepting; requests under way finish on their own tasks.
    pub async fn stop(self) {
        self.inner.stop().await;
    }
}

#[async_trait]
impl Endpoints for NameNodeEndpoints {
    async fn serve(&self, req: Request) -> Response {
        if req.path == "/imagetransfer" {
            if let (Some(security), Some(principal)) = (&self.security, &req.principal) {
                if !security.may_transfer_images(principal) {
                    info!(peer = %req.peer, %principal, "ImageServlet rejecting");
                    return response::text(403, format!("{IMAGE_TRANSFER_FORBIDDEN}\n"));
                }
            }
        }
        let get = matches!(req.method, Method::GET | Method::HEAD);
        if req.path.starts_with(hafs_http::webhdfs::PREFIX) && self.webhdfs_enabled {
            return self.webhdfs(req).await;
        }
        if get {
            if let Some(page) = super::ui::asset(&req.path) {
                return page;
            }
        }
        match req.path.as_str() {
            "/status" if get => self.status_page(),
            "/isActive" if get => webhdfs::is_active(&self.backend.status().state),
            "/imagetransfer" if req.method == Method::GET => self.get_image(&req).await,
            "/imagetransfer" if matches!(req.method, Method::PUT | Method::POST) => {
                self.put_image(req).await
            }
            "/fsck" if req.method == Method::GET => self.fsck(&req),
            "/" | "/status" | "/imagetransfer" | "/fsck" | "/isActive" | "/index.html"
            | "/dfshealth.html" => response::method_not_allowed(),
            other => response::not_found(other),
        }
    }

    fn beans(&self) -> Vec<Bean> {
        self.backend.beans()
    }

    fn prometheus(&self, out: &mut PromText) {
        self.backend.prometheus(out)
    }
}

/// Hadoop's default `hadoop.http.staticuser.user`: who an unnamed simple-mode web
/// caller is.
const STATIC_WEB_USER: &str = hafs_http::webhdfs::STATIC_WEB_USER;

impl NameNodeEndpoints {
    /// `/webhdfs/v1`: the caller is the SPNEGO principal's short name in secure mode,
    /// else `user.name`.
    async fn webhdfs(&self, req: Request) -> Response {
        let login = match (&self.security, &req.principal) {
            (Some(security), Some(principal)) => match security.short_name(principal) {
                Some(user) => WebLogin {
                    user,
                    principal: Some(principal.clone()),
                },
                None => {
                    return hafs_http::webhdfs::WebHdfsError::new(
                        hafs_http::webhdfs::class::SECURITY,
                        format!("no local user for principal {principal}"),
                    )
                    .response()
                }
            },
            (Some(_), None) => return response::text(401, "authentication required\n"),
            (None, _) => webhdfs::simple_login(&req),
        };
        let path = req.path.clone();
        match self.backend.webhdfs(req, login).await {
            Some(r) => r,
            None => response::not_found(&path),
        }
    }

    fn status_page(&self) -> Response {
        let s = self.backend.status();
        let info = self.backend.storage_info();
        let newest = self
            .store
            .newest_txid()
            .map_or("none".to_string(), |t| t.to_string());
        response::text(
            200,
            format!(
                "hafs NameNode\nstate: {}\nlast txid: {}\nnewest fsimage txid: {newest}\ncluster id: {}\nblock pool id: {}\n",
                s.state, s.last_txid, info.cluster_id, info.block_pool_id
            ),
        )
    }

    async fn get_image(&self, req: &Request) -> Response {
        if req.param("getimage") != Some("1") {
            return response::text(400, "GET /imagetransfer needs getimage=1\n");
        }
        let Some(spec) = req.param("txid").and_then(TxidSpec::parse) else {
            return response::text(400, "txid must be a number or 'latest'\n");
        };
        let store = self.store.clone();
        let found = tokio::task::spawn_blocking(move || store.find(spec))
            .await
            .unwrap_or_else(|e| Err(format!("image lookup failed: {e}")));
        let (path, meta) = match found {
            Ok(x) => x,
            Err(e) => return response::text(404, format!("{e}\n")),
        };
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) => return response::text(500, format!("cannot open {}: {e}\n", path.display())),
        };
        let info = self.backend.storage_info();
        let status = self.backend.status();
        let (mut resp, tx) = response::streamed(200, "application/octet-stream", Some(meta.len), 4);
        for (name, value) in [
            ("x-image-txid", meta.txid.to_string()),
            ("x-image-checksum", format_checksum(meta.checksum)),
            ("x-cluster-id", info.cluster_id.clone()),
            ("x-namespace-id", info.namespace_id.to_string()),
            ("x-block-pool-id", info.block_pool_id.clone()),
            ("x-layout-version", info.layout_version.to_string()),
            ("x-ctime", info.ctime.to_string()),
            ("x-last-txid", status.last_txid.to_string()),
            ("x-ha-state", status.state.clone()),
        ] {
            resp = response::with_header(resp, name, &value);
        }
        tokio::spawn(async move {
            let mut left = meta.len;
            // Bounded by the image's verified length.
            while left > 0 {
                let mut buf = vec![0u8; (256 * 1024).min(left as usize)];
                let n = match file.read(&mut buf).await {
                    Ok(0) => {
                        let e = std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            format!("{} shrank while being sent", path.display()),
                        );
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                    Ok(n) => n,
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                };
                buf.truncate(n);
                if tx.send(Ok(Bytes::from(buf))).await.is_err() {
                    return;
                }
                left -= n as u64;
            }
            info!(txid = meta.txid, bytes = meta.len, "sent fsimage");
        });
        resp
    }

    /// `GET /fsck`: the report streams as plain text as the walk makes it.
    fn fsck(&self, req: &Request) -> Response {
        let (user, shown_as) = match (&self.security, &req.principal) {
            (Some(security), Some(principal)) => match security.short_name(principal) {
                Some(user) => (user, format!("{principal} (auth:KERBEROS_SSL)")),
                None => {
                    return response::text(
                        403,
                        format!("no local user for principal {principal}\n"),
                    )
                }
            },
            // The foundation authenticated first; a secure server never gets here
            // without a principal.
            (Some(_), None) => return response::text(401, "authentication required\n"),
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
            remote: req.peer.ip(),
            params: req.params.iter().cloned().collect(),
        };
        let Some(mut pieces) = self.backend.fsck(fsck_req) else {
            return response::not_found("/fsck");
        };
        let (resp, tx) = response::streamed(200, response::TEXT, None, 4);
        tokio::spawn(async move {
            while let Some(piece) = pieces.recv().await {
                if tx.send(Ok(Bytes::from(piece))).await.is_err() {
                    return;
                }
            }
        });
        resp
    }

    async fn put_image(&self, mut req: Request) -> Response {
        macro_rules! refuse {
            ($code:expr, $($arg:tt)*) => {{
                let msg = format!($($arg)*);
                warn!("refused an fsimage upload: {msg}");
                return response::text($code, format!("{msg}\n"));
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
        match req.content_length() {
            Some(len) if len > MAX_IMAGE_LEN => {
                refuse!(413, "image of {len} bytes is larger than any image")
            }
            Some(_) => {}
            // Chunked: bounded as it arrives.
            None if req.is_chunked() => {}
            None => refuse!(411, "a Content-Length is required"),
        }
        let ours = storage_info_string(&self.backend.storage_info());
        match req.param("storageinfo") {
            Some(theirs) if theirs == ours => {}
            Some(theirs) => refuse!(
                403,
                "the image belongs to another namespace ({theirs}; this NameNode is {ours})"
            ),
            None => refuse!(400, "storageinfo is required"),
        }
        let _one_at_a_time = self.upload.lock().await;
        if let Some(newest) = self.store.newest_txid() {
            if newest >= txid {
                refuse!(
                    409,
                    "not newer: this NameNode already has an fsimage at txid {newest} (offered {txid})"
                );
            }
        }
        let tmp = self.store.temp_path(txid);
        let meta = match receive_body(&mut req, &tmp).await {
            Ok(v) => match v.finish() {
                Ok(m) => m,
                Err(e) => {
                    self.store.discard(&tmp);
                    refuse!(400, "the uploaded image does not verify: {e}");
                }
            },
            Err((status, e)) => {
                self.store.discard(&tmp);
                refuse!(status, "fsimage upload of txid {txid} failed: {e}");
            }
        };
        if meta.checksum != checksum {
            self.store.discard(&tmp);
            refuse!(
                400,
                "checksum mismatch: the upload declared {}, its bytes give {}",
                format_checksum(checksum),
                format_checksum(meta.checksum)
            );
        }
        if meta.txid != txid {
            self.store.discard(&tmp);
            refuse!(
                400,
                "the uploaded image holds txid {}, not the declared {txid}",
                meta.txid
            );
        }
        let store = self.store.clone();
        let tmp2 = tmp.clone();
        let installed = tokio::task::spawn_blocking(move || store.install(&tmp2, txid))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
        let oldest = match installed {
            Ok(o) => o,
            Err(e) => {
                self.store.discard(&tmp);
                refuse!(500, "cannot save the image: {e}");
            }
        };
        info!(
            txid,
            bytes = meta.len,
            "received and saved an uploaded fsimage"
        );
        self.backend.image_received(txid, oldest).await;
        response::text(200, format!("fsimage {txid} saved\n"))
    }
}

/// Streams the body into `tmp` (fsynced), verifying as it goes; at most
/// [`MAX_IMAGE_LEN`] bytes. The error carries the status to answer with.
async fn receive_body(req: &mut Request, tmp: &PathBuf) -> Result<ImageVerifier, (u16, String)> {
    let io = |e: std::io::Error| (500, format!("{}: {e}", tmp.display()));
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(tmp)
        .await
        .map_err(io)?;
    let mut v = ImageVerifier::new();
    let mut received = 0u64;
    loop {
        let piece = match req.next_chunk().await {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => return Err((e.status(), e.to_string())),
        };
        received += piece.len() as u64;
        if received > MAX_IMAGE_LEN {
            return Err((
                413,
                format!("more than {MAX_IMAGE_LEN} bytes, larger than any image"),
            ));
        }
        v.update(&piece);
        file.write_all(&piece).await.map_err(io)?;
    }
    file.flush().await.map_err(io)?;
    file.sync_all().await.map_err(io)?;
    Ok(v)
}
