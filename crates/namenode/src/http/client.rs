//! The client side of image transfer: download an fsimage from a NameNode's HTTP server
//! (bootstrapStandby) and upload one to it (Standby checkpoints). One request per
//! connection, every read and write under a timeout, every image verified.
//!
//! In secure mode each request carries `Authorization: Negotiate` for
//! `HTTP/<server host>`, made with this NameNode's keytab, and the server must prove
//! itself in its reply (mutual authentication) before an image is accepted from it or
//! sent to it. Redirects are never followed: a 3xx is a refusal, so the credentials
//! and the image go to the configured address only (CVE-2020-9492).

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use hafs_journal::storage::StorageType;
use hafs_journal::StorageInfo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::auth::spnego_host;
use super::image_store::{
    format_checksum, parse_checksum, ImageMeta, ImageVerifier, TxidSpec, MAX_IMAGE_LEN,
};
use hafs_http::query::percent_encode;

use super::head::{parse_headers, read_raw_head, HeadError};
use super::server::storage_info_string;
use hafs_security::spnego::{ClientExchange, SpnegoInitiator};

#[derive(thiserror::Error, Debug)]
pub enum TransferError {
    #[error("cannot reach {addr}: {reason}")]
    Connect { addr: String, reason: String },
    #[error("{addr} answered {status}: {message}")]
    Refused {
        addr: String,
        status: u16,
        message: String,
    },
    #[error("image transfer with {addr}: {reason}")]
    Protocol { addr: String, reason: String },
    #[error("image transfer with {addr}: {source}")]
    Io {
        addr: String,
        source: std::io::Error,
    },
}

/// What a download brought: the image (at the destination path, fsynced and verified)
/// and the serving NameNode's namespace identity and progress.
#[derive(Debug, Clone)]
pub struct FetchedImage {
    pub meta: ImageMeta,
    pub info: StorageInfo,
    /// The serving NameNode's last applied txid.
    pub last_txid: u64,
    pub ha_state: String,
}

struct Response {
    status: u16,
    headers: HashMap<String, String>,
    rest: Vec<u8>,
}

async fn connect(addr: &str, timeout: Duration) -> Result<TcpStream, TransferError> {
    let err = |reason: String| TransferError::Connect {
        addr: addr.to_string(),
        reason,
    };
    let s = tokio::time::timeout(timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| err("connect timed out".into()))?
        .map_err(|e| err(e.to_string()))?;
    let _ = s.set_nodelay(true);
    Ok(s)
}

async fn read_response(
    stream: &mut TcpStream,
    addr: &str,
    timeout: Duration,
) -> Result<Response, TransferError> {
    let proto = |reason: String| TransferError::Protocol {
        addr: addr.to_string(),
        reason,
    };
    let (head, rest) = read_raw_head(stream, timeout).await.map_err(|e| match e {
        HeadError::Closed => proto("the server closed the connection without answering".into()),
        e => proto(e.to_string()),
    })?;
    let text =
        std::str::from_utf8(&head).map_err(|_| proto("response head is not UTF-8".into()))?;
    let mut lines = text.split("\r\n");
    let line = lines.next().unwrap_or_default();
    let mut parts = line.splitn(3, ' ');
    let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
        return Err(proto(format!("malformed status line '{line}'")));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(proto(format!("not an HTTP/1 response: '{line}'")));
    }
    let status: u16 = code
        .parse()
        .map_err(|_| proto(format!("bad status code in '{line}'")))?;
    let headers =
        parse_headers(lines.filter(|l| !l.is_empty())).map_err(|e| proto(e.to_string()))?;
    Ok(Response {
        status,
        headers,
        rest,
    })
}

/// Reads a short (error) body: at most 4 KiB, within the timeout.
async fn short_body(stream: &mut TcpStream, mut rest: Vec<u8>, timeout: Duration) -> String {
    let mut buf = [0u8; 1024];
    let _ = tokio::time::timeout(timeout, async {
        while rest.len() < 4096 {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => rest.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    rest.truncate(4096);
    String::from_utf8_lossy(&rest).trim().to_string()
}

fn header<'a>(r: &'a Response, name: &str) -> Option<&'a str> {
    r.headers.get(name).map(String::as_str)
}

/// Downloads an fsimage from the NameNode HTTP server at `addr` into `dest` (created
/// new; removed again on any failure), verifying it on the way.
pub async fn fetch_image(
    addr: &str,
    spec: TxidSpec,
    dest: &Path,
    timeout: Duration,
    spnego: Option<&SpnegoInitiator>,
) -> Result<FetchedImage, TransferError> {
    let r = fetch_inner(addr, spec, dest, timeout, spnego).await;
    if r.is_err() {
        let _ = tokio::fs::remove_file(dest).await;
    }
    r
}

async fn fetch_inner(
    addr: &str,
    spec: TxidSpec,
    dest: &Path,
    timeout: Duration,
    spnego: Option<&SpnegoInitiator>,
) -> Result<FetchedImage, TransferError> {
    let io = |source| TransferError::Io {
        addr: addr.to_string(),
        source,
    };
    let proto = |reason: String| TransferError::Protocol {
        addr: addr.to_string(),
        reason,
    };
    let txid = match spec {
        TxidSpec::Latest => "latest".to_string(),
        TxidSpec::Exactly(t) => t.to_string(),
    };
    let target = format!("/imagetransfer?getimage=1&txid={txid}");
    let (mut stream, resp) = get_ok(addr, &target, spnego, timeout).await?;
    let num = |name: &str| -> Result<i64, TransferError> {
        header(&resp, name)
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or_else(|| proto(format!("missing or bad {name} header")))
    };
    let len = num("content-length")?;
    let len = u64::try_from(len).map_err(|_| proto("negative Content-Length".into()))?;
    if len > MAX_IMAGE_LEN {
        return Err(proto(format!(
            "image of {len} bytes is larger than any image"
        )));
    }
    let declared = header(&resp, "x-image-checksum")
        .and_then(parse_checksum)
        .ok_or_else(|| proto("missing or bad X-Image-Checksum header".into()))?;
    let declared_txid = num("x-image-txid")? as u64;
    let info = StorageInfo {
        layout_version: num("x-layout-version")? as i32,
        namespace_id: u32::try_from(num("x-namespace-id")?)
            .map_err(|_| proto("bad X-Namespace-Id".into()))?,
        cluster_id: header(&resp, "x-cluster-id")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| proto("missing X-Cluster-Id".into()))?
            .to_string(),
        block_pool_id: header(&resp, "x-block-pool-id")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| proto("missing X-Block-Pool-Id".into()))?
            .to_string(),
        ctime: num("x-ctime")?,
        storage_type: StorageType::NameNode,
    };
    let last_txid = num("x-last-txid")? as u64;
    let ha_state = header(&resp, "x-ha-state").unwrap_or("unknown").to_string();
    if resp.rest.len() as u64 > len {
        return Err(proto("more bytes than the Content-Length".into()));
    }
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dest)
        .await
        .map_err(io)?;
    let mut v = ImageVerifier::new();
    v.update(&resp.rest);
    file.write_all(&resp.rest).await.map_err(io)?;
    let mut left = len - resp.rest.len() as u64;
    let mut buf = vec![0u8; 256 * 1024];
    // Bounded by the declared length.
    while left > 0 {
        let want = buf.len().min(left as usize);
        let n = timed(timeout, stream.read(&mut buf[..want]))
            .await
            .map_err(io)?;
        if n == 0 {
            return Err(proto(format!("the image ended {left} bytes early")));
        }
        v.update(&buf[..n]);
        file.write_all(&buf[..n]).await.map_err(io)?;
        left -= n as u64;
    }
    file.flush().await.map_err(io)?;
    file.sync_all().await.map_err(io)?;
    let meta = v
        .finish()
        .map_err(|e| proto(format!("the downloaded image does not verify: {e}")))?;
    if meta.checksum != declared {
        return Err(proto(format!(
            "checksum mismatch: the server declared {}, the bytes give {}",
            format_checksum(declared),
            format_checksum(meta.checksum)
        )));
    }
    if meta.txid != declared_txid {
        return Err(proto(format!(
            "the image holds txid {}, the server declared {declared_txid}",
            meta.txid
        )));
    }
    Ok(FetchedImage {
        meta,
        info,
        last_txid,
        ha_state,
    })
}

/// Uploads the verified image at `path` to the NameNode HTTP server at `addr`.
/// A 409 (it already has this image or a newer one) comes back as `Refused`.
pub async fn upload_image(
    addr: &str,
    path: &Path,
    meta: ImageMeta,
    info: &StorageInfo,
    timeout: Duration,
    spnego: Option<&SpnegoInitiator>,
) -> Result<(), TransferError> {
    upload_with_checksum(addr, path, meta, meta.checksum, info, timeout, spnego).await
}

/// As [`upload_image`] but declaring `checksum` (tests declare a wrong one).
pub async fn upload_with_checksum(
    addr: &str,
    path: &Path,
    meta: ImageMeta,
    checksum: u32,
    info: &StorageInfo,
    timeout: Duration,
    spnego: Option<&SpnegoInitiator>,
) -> Result<(), TransferError> {
    let io = |source| TransferError::Io {
        addr: addr.to_string(),
        source,
    };
    let mut file = tokio::fs::File::open(path).await.map_err(io)?;
    let mut stream = connect(addr, timeout).await?;
    if spnego.is_some() {
        // The image holds the delegation-token keys: only to a server that proved
        // itself. A `100 Continue` carries no headers, so the proof comes first, on this
        // same connection, in the answer to an authenticated `GET /status`.
        prove_server(&mut stream, addr, spnego, timeout).await?;
    }
    let exchange = begin_spnego(addr, spnego, timeout).await?;
    let req = format!(
        "PUT /imagetransfer?putimage=1&txid={}&checksum={}&storageinfo={} HTTP/1.1\r\n\
         Host: {addr}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\
         {}Expect: 100-continue\r\nConnection: close\r\n\r\n",
        meta.txid,
        percent_encode(&format_checksum(checksum)),
        percent_encode(&storage_info_string(info)),
        meta.len,
        authorization_line(&exchange),
    );
    timed(timeout, stream.write_all(req.as_bytes()))
        .await
        .map_err(io)?;
    // The server answers 100 Continue once it wants the image, or refuses at once.
    let first = read_response(&mut stream, addr, timeout).await?;
    if first.status != 100 {
        return Err(refusal(&mut stream, addr, first, timeout).await);
    }
    let mut buf = vec![0u8; 256 * 1024];
    let mut left = meta.len;
    // Bounded by the image's length.
    while left > 0 {
        let want = buf.len().min(left as usize);
        let n = file.read(&mut buf[..want]).await.map_err(io)?;
        if n == 0 {
            return Err(TransferError::Protocol {
                addr: addr.to_string(),
                reason: format!("{} shrank while being sent", path.display()),
            });
        }
        timed(timeout, stream.write_all(&buf[..n]))
            .await
            .map_err(io)?;
        left -= n as u64;
    }
    stream.flush().await.map_err(io)?;
    let resp = read_response(&mut stream, addr, timeout).await?;
    if resp.status != 200 {
        return Err(refusal(&mut stream, addr, resp, timeout).await);
    }
    finish_spnego(addr, exchange, &resp)?;
    let _ = short_body(&mut stream, resp.rest, timeout).await;
    Ok(())
}

/// An authenticated `GET /status` on a kept-alive connection whose answer must carry
/// the server's mutual-authentication reply; its (short) body is read whole so the
/// next request can follow on the same connection.
async fn prove_server(
    stream: &mut TcpStream,
    addr: &str,
    spnego: Option<&SpnegoInitiator>,
    timeout: Duration,
) -> Result<(), TransferError> {
    let io = |source| TransferError::Io {
        addr: addr.to_string(),
        source,
    };
    let exchange = begin_spnego(addr, spnego, timeout).await?;
    let req = format!(
        "GET /status HTTP/1.1\r\nHost: {addr}\r\n{}\r\n",
        authorization_line(&exchange)
    );
    timed(timeout, stream.write_all(req.as_bytes()))
        .await
        .map_err(io)?;
    let resp = read_response(stream, addr, timeout).await?;
    if resp.status != 200 {
        return Err(refusal(stream, addr, resp, timeout).await);
    }
    finish_spnego(addr, exchange, &resp)?;
    let len = header(&resp, "content-length")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n <= 64 * 1024)
        .ok_or_else(|| TransferError::Protocol {
            addr: addr.to_string(),
            reason: "the status answer has no usable Content-Length".into(),
        })?;
    let mut have = resp.rest.len();
    let mut buf = [0u8; 4096];
    // Bounded by the checked length above.
    while have < len {
        let n = timed(timeout, stream.read(&mut buf)).await.map_err(io)?;
        if n == 0 {
            return Err(TransferError::Protocol {
                addr: addr.to_string(),
                reason: "the connection closed after the status answer".into(),
            });
        }
        have += n;
    }
    Ok(())
}

/// `GET target` on the NameNode HTTP server at `addr` (SPNEGO when `spnego` is given,
/// the server's reply checked), handing the body to `out` as it arrives until the
/// server closes: for reports made as they are sent, such as `/fsck`. `timeout` bounds
/// each read (a walk may pause between pieces), not the whole answer.
pub async fn get_streamed(
    addr: &str,
    target: &str,
    spnego: Option<&SpnegoInitiator>,
    timeout: Duration,
    out: &mut (dyn FnMut(&[u8]) + Send),
) -> Result<(), TransferError> {
    let io = |source| TransferError::Io {
        addr: addr.to_string(),
        source,
    };
    let (mut stream, resp) = get_ok(addr, target, spnego, timeout).await?;
    out(&resp.rest);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = timed(timeout, stream.read(&mut buf)).await.map_err(io)?;
        if n == 0 {
            return Ok(());
        }
        out(&buf[..n]);
    }
}

/// `GET target` with SPNEGO when `spnego` is given: the connection and a 200 response
/// whose mutual-authentication reply checked out (anything else is the refusal).
/// HTTP/1.0, so a body of unknown length (a streamed report) ends with the connection
/// rather than coming chunked.
async fn get_ok(
    addr: &str,
    target: &str,
    spnego: Option<&SpnegoInitiator>,
    timeout: Duration,
) -> Result<(TcpStream, Response), TransferError> {
    let exchange = begin_spnego(addr, spnego, timeout).await?;
    let mut stream = connect(addr, timeout).await?;
    let req = format!(
        "GET {target} HTTP/1.0\r\nHost: {addr}\r\n{}Connection: close\r\n\r\n",
        authorization_line(&exchange)
    );
    timed(timeout, stream.write_all(req.as_bytes()))
        .await
        .map_err(|source| TransferError::Io {
            addr: addr.to_string(),
            source,
        })?;
    let resp = read_response(&mut stream, addr, timeout).await?;
    if resp.status != 200 {
        return Err(refusal(&mut stream, addr, resp, timeout).await);
    }
    finish_spnego(addr, exchange, &resp)?;
    Ok((stream, resp))
}

/// A non-success answer as an error. A redirect is reported, never followed: the
/// `Authorization` header and the image must not go to a host nobody configured.
async fn refusal(
    stream: &mut TcpStream,
    addr: &str,
    resp: Response,
    timeout: Duration,
) -> TransferError {
    let location = header(&resp, "location").map(str::to_string);
    let status = resp.status;
    let mut message = short_body(stream, resp.rest, timeout).await;
    if (300..400).contains(&status) {
        message = format!(
            "redirect to {} not followed (image transfer goes to the configured address only)",
            location.as_deref().unwrap_or("nowhere")
        );
    }
    TransferError::Refused {
        addr: addr.to_string(),
        status,
        message,
    }
}

/// The first SPNEGO step towards `HTTP/<host of addr>`, off the async threads (it may
/// ask the KDC for a service ticket).
async fn begin_spnego(
    addr: &str,
    spnego: Option<&SpnegoInitiator>,
    timeout: Duration,
) -> Result<Option<ClientExchange>, TransferError> {
    let Some(initiator) = spnego.cloned() else {
        return Ok(None);
    };
    let host = spnego_host(addr);
    let auth_err = |reason: String| TransferError::Protocol {
        addr: addr.to_string(),
        reason,
    };
    let task = tokio::task::spawn_blocking(move || initiator.begin(&host));
    let exchange = tokio::time::timeout(timeout, task)
        .await
        .map_err(|_| auth_err("getting a Kerberos service ticket timed out".into()))?
        .map_err(|e| auth_err(format!("SPNEGO task failed: {e}")))?
        .map_err(|e| auth_err(format!("cannot authenticate with SPNEGO: {e}")))?;
    Ok(Some(exchange))
}

fn authorization_line(exchange: &Option<ClientExchange>) -> String {
    exchange.as_ref().map_or(String::new(), |x| {
        format!("Authorization: {}\r\n", x.authorization)
    })
}

/// Checks the server's SPNEGO reply on a success response (local crypto only).
fn finish_spnego(
    addr: &str,
    exchange: Option<ClientExchange>,
    resp: &Response,
) -> Result<(), TransferError> {
    let Some(exchange) = exchange else {
        return Ok(());
    };
    exchange
        .finish(header(resp, "www-authenticate"))
        .map_err(|reason| TransferError::Protocol {
            addr: addr.to_string(),
            reason,
        })
}

async fn timed<T>(
    timeout: Duration,
    f: impl std::future::Future<Output = std::io::Result<T>>,
) -> std::io::Result<T> {
    tokio::time::timeout(timeout, f)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out"))?
}
