//! WebHDFS on the DataNode (`/webhdfs/v1/<path>?op=…&namenoderpcaddress=…`), the second
//! step of the data operations the NameNode redirects here (Hadoop's `WebHdfsHandler`):
//!
//! - `PUT op=CREATE`: the body (Content-Length or chunked, `Expect: 100-continue`
//!   honoured) becomes the file; `201 Created`, `Location: hdfs://<nn><path>`.
//! - `POST op=APPEND`: the body is appended; 200.
//! - `GET op=OPEN` (`offset`, `length`): the bytes, streamed with a Content-Length.
//! - `GET op=GETFILECHECKSUM`: `{"FileChecksum":{…}}` as `hadoop fs -checksum` prints.
//!
//! The work is done with hafs's client library, acting as the caller (`user.name`,
//! `doas`), against `namenoderpcaddress`: a nameservice of this DataNode's
//! configuration (the client then follows a failover) or one of the NameNodes it
//! reports to; any other address is refused, so the DataNode cannot be used to reach
//! arbitrary hosts. Bodies stream through in pieces: memory stays bounded whatever the
//! file size.

use bytes::Bytes;
use hafs_client::{
    file_checksum, ClientError, CreateOptions, DfsClient, DfsInputStream, DfsOutputStream,
};
use hafs_conf::Configuration;
use hafs_http::response::{self, Response};
use hafs_http::webhdfs::{class, fs_path, ok_json, Params, WebHdfsError, STATIC_WEB_USER};
use hafs_http::{Method, Request};
use serde_json::json;
use tracing::{info, warn};

/// What the DataNode's WebHDFS needs from its configuration.
#[derive(Debug, Clone)]
pub struct WebHdfsConfig {
    /// The configuration clients are built from (nameservices, failover, timeouts).
    pub conf: Configuration,
    /// `dfs.nameservices`: ids `namenoderpcaddress` may name.
    pub nameservices: Vec<String>,
    /// The NameNode RPC addresses this DataNode reports to.
    pub namenodes: Vec<String>,
    /// Secure mode: data operations would need the caller's delegation token.
    pub secure: bool,
}

/// Largest piece sent at once when reading.
const READ_PIECE: usize = 64 * 1024;

fn client_err(e: ClientError) -> WebHdfsError {
    WebHdfsError::new(e.class_name().unwrap_or(class::IO), e.user_message())
}

/// Serves one `/webhdfs/v1` request.
pub async fn serve(config: &WebHdfsConfig, req: Request) -> Response {
    if req.method == Method::OPTIONS {
        return cors_preflight(&req);
    }
    let path = match fs_path(&req.path) {
        Some(Ok(p)) => p,
        Some(Err(e)) => return e.response(),
        None => return response::not_found(&req.path),
    };
    match dispatch(config, req, &path).await {
        Ok(r) => r,
        Err(e) => {
            info!(%path, "WebHDFS refused: {e}");
            e.response()
        }
    }
}

/// A browser's CORS preflight before it PUTs a file's bytes here from a page on the
/// NameNode (another origin): allowed for CREATE, as Hadoop's DataNode allows it
/// (WebHdfsHandler's allowCORSOnCreate), so the web UI's upload works. Nothing else is
/// offered cross-origin.
fn cors_preflight(req: &Request) -> Response {
    let p = Params::of(req);
    if p.op().as_deref() != Some("CREATE") {
        return response::method_not_allowed();
    }
    let mut r = response::full(200, "text/plain", Bytes::new());
    for (name, value) in [
        ("access-control-allow-origin", "*"),
        ("access-control-allow-methods", "PUT, POST"),
        ("access-control-allow-headers", "Content-Type"),
        ("access-control-max-age", "1728000"),
    ] {
        r = response::with_header(r, name, value);
    }
    r
}

async fn dispatch(
    config: &WebHdfsConfig,
    req: Request,
    path: &str,
) -> Result<Response, WebHdfsError> {
    let p = Params::of(&req);
    let op = p.op().ok_or_else(|| {
        WebHdfsError::illegal_argument("Invalid value for webhdfs parameter \"op\": no op given")
    })?;
    if !matches!(
        op.as_str(),
        "OPEN" | "GETFILECHECKSUM" | "CREATE" | "APPEND"
    ) {
        return Err(WebHdfsError::new(
            class::UNSUPPORTED_OPERATION,
            format!(
                "Invalid value for webhdfs parameter \"op\": {} is not a DataNode operation",
                hafs_http::webhdfs::truncate(&op, 100)
            ),
        ));
    }
    if config.secure {
        return Err(WebHdfsError::new(
            class::SECURITY,
            "WebHDFS data operations on a secure DataNode need a delegation token, which \
             hafs does not hand out over WebHDFS yet; use hdfs:// (RPC) in secure mode",
        ));
    }
    let client = client_for(config, &p).await?;
    match (&req.method, op.as_str()) {
        (&Method::GET, "OPEN") => open(&client, &p, path).await,
        (&Method::GET, "GETFILECHECKSUM") => checksum(&client, path).await,
        (&Method::PUT, "CREATE") => create(&client, req, path).await,
        (&Method::POST, "APPEND") => append(&client, req, path).await,
        (m, op) => Err(WebHdfsError::new(
            class::UNSUPPORTED_OPERATION,
            format!("{op} is not a {m} operation"),
        )),
    }
}

/// A client of `namenoderpcaddress` acting as the caller.
async fn client_for(config: &WebHdfsConfig, p: &Params<'_>) -> Result<DfsClient, WebHdfsError> {
    let nn = p.get("namenoderpcaddress").ok_or_else(|| {
        WebHdfsError::illegal_argument("Required param namenoderpcaddress is missing")
    })?;
    let known = config.nameservices.iter().any(|ns| ns == nn)
        || config.namenodes.iter().any(|a| a == nn)
        || same_address_as_a_namenode(config, nn).await;
    if !known {
        return Err(WebHdfsError::illegal_argument(format!(
            "namenoderpcaddress {} is neither a nameservice of this DataNode nor a \
             NameNode it reports to",
            hafs_http::webhdfs::truncate(nn, 200)
        )));
    }
    let user = p.get("user.name").unwrap_or(STATIC_WEB_USER);
    let doas = p.get("doas").filter(|d| *d != user);
    DfsClient::new_for_user(&config.conf, Some(&format!("hdfs://{nn}")), user, doas)
        .map_err(client_err)
}

/// Whether `addr` (`host:port`) resolves to an address of a NameNode this DataNode
/// reports to (a NameNode without HA names itself by the host its caller used, which
/// may be another name for the same machine).
async fn same_address_as_a_namenode(config: &WebHdfsConfig, addr: &str) -> bool {
    async fn resolve(a: &str) -> Vec<std::net::SocketAddr> {
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            tokio::net::lookup_host(a),
        )
        .await
        .ok()
        .and_then(Result::ok)
        .map(|it| it.collect())
        .unwrap_or_default()
    }
    let theirs = resolve(addr).await;
    if theirs.is_empty() {
        return false;
    }
    for nn in &config.namenodes {
        if resolve(nn).await.iter().any(|a| theirs.contains(a)) {
            return true;
        }
    }
    false
}

async fn open(client: &DfsClient, p: &Params<'_>, path: &str) -> Result<Response, WebHdfsError> {
    let offset = p.i64("offset", 0, i64::MAX)?.unwrap_or(0) as u64;
    let length = p.i64("length", 0, i64::MAX)?.map(|l| l as u64);
    let mut input = DfsInputStream::open(client, path)
        .await
        .map_err(client_err)?;
    let len = input.len();
    if offset > len {
        return Err(WebHdfsError::io(format!(
            "Offset={offset} out of the range [0, {len}]; OPEN offset must not be past the end of {path}"
        )));
    }
    let count = length.map_or(len - offset, |l| l.min(len - offset));
    input.seek(offset).map_err(client_err)?;
    let (resp, tx) = response::streamed(200, "application/octet-stream", Some(count), 4);
    let path = path.to_string();
    tokio::spawn(async move {
        let mut left = count;
        let mut buf = vec![0u8; READ_PIECE];
        while left > 0 {
            let want = (left as usize).min(READ_PIECE);
            let n = match input.read(&mut buf[..want]).await {
                Ok(0) => {
                    let e = std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        format!("{path} ended {left} bytes early"),
                    );
                    let _ = tx.send(Err(e)).await;
                    return;
                }
                Ok(n) => n,
                Err(e) => {
                    warn!(%path, "WebHDFS OPEN failed while sending: {e}");
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                    return;
                }
            };
            if tx
                .send(Ok(Bytes::copy_from_slice(&buf[..n])))
                .await
                .is_err()
            {
                return;
            }
            left -= n as u64;
        }
    });
    Ok(response::with_header(
        resp,
        "access-control-allow-origin",
        "*",
    ))
}

async fn checksum(client: &DfsClient, path: &str) -> Result<Response, WebHdfsError> {
    let sum = file_checksum::get_file_checksum(client, path)
        .await
        .map_err(client_err)?
        .ok_or_else(|| WebHdfsError::io(format!("no checksum for {path}")))?;
    Ok(ok_json(json!({
        "FileChecksum": {
            "algorithm": sum.algorithm_name(),
            "bytes": sum.hex(),
            "length": sum.bytes().len(),
        }
    })))
}

async fn create(
    client: &DfsClient,
    mut req: Request,
    path: &str,
) -> Result<Response, WebHdfsError> {
    let p = Params::of(&req);
    let opts = CreateOptions {
        permission: p.permission("permission")?.unwrap_or(0o644),
        overwrite: p.bool("overwrite", false)?,
        create_parent: p.bool("createparent", true)?,
        replication: p
            .i64("replication", 1, i64::from(i16::MAX))?
            .map(|r| r as u16),
        block_size: p.i64("blocksize", 1, i64::MAX)?.map(|b| b as u64),
    };
    let out = DfsOutputStream::create(client, path, &opts)
        .await
        .map_err(client_err)?;
    let written = stream_body(&mut req, out, path).await?;
    info!(%path, bytes = written, user = %client.user(), "WebHDFS CREATE");
    let nn = client.settings().authority.clone();
    let r = response::full(201, "application/octet-stream", Bytes::new());
    let r = response::with_header(r, "location", &format!("hdfs://{nn}{path}"));
    // The web UI's upload reads this answer from the NameNode's origin.
    Ok(response::with_header(r, "access-control-allow-origin", "*"))
}

async fn append(
    client: &DfsClient,
    mut req: Request,
    path: &str,
) -> Result<Response, WebHdfsError> {
    let out = DfsOutputStream::append(client, path)
        .await
        .map_err(client_err)?;
    let written = stream_body(&mut req, out, path).await?;
    info!(%path, bytes = written, user = %client.user(), "WebHDFS APPEND");
    Ok(response::full(
        200,
        "application/octet-stream",
        Bytes::new(),
    ))
}

/// Writes the request body to `out` piece by piece and closes it. A body that breaks
/// off (client gone, stalled past the read timeout) still closes the file with what
/// arrived, as Hadoop's DataNode does, so no lease is left held; the caller is told.
async fn stream_body(
    req: &mut Request,
    mut out: DfsOutputStream,
    path: &str,
) -> Result<u64, WebHdfsError> {
    let mut written = 0u64;
    loop {
        let piece = match req.next_chunk().await {
            Ok(Some(piece)) => piece,
            Ok(None) => break,
            Err(e) => {
                warn!(%path, written, "WebHDFS upload broke off: {e}");
                if let Err(c) = out.close().await {
                    warn!(%path, "closing the partial file failed: {c}");
                }
                return Err(WebHdfsError::io(format!(
                    "the upload of {path} broke off after {written} bytes: {e}"
                )));
            }
        };
        if let Err(e) = out.write(&piece).await {
            // The pipeline failed for good: the stream has given up the file (its
            // lease is recovered by the NameNode).
            drop(out);
            return Err(client_err(e));
        }
        written += piece.len() as u64;
    }
    out.close().await.map_err(client_err)?;
    Ok(written)
}
