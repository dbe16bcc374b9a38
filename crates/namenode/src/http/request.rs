//! Reading one HTTP/1.1 request head (request line and headers) from a socket, with
//! every length bounded. The body, if any, is left on the stream for the handler.

use std::collections::HashMap;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

/// Longest request head (request line + headers) accepted: Hadoop's default
/// (`hadoop.http.max.request.header.size`), room for a Kerberos ticket with a large PAC
/// in `Authorization: Negotiate`.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most headers accepted in one request.
pub const MAX_HEADERS: usize = 64;
/// Most query parameters accepted.
pub const MAX_PARAMS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The path without the query string, percent-decoded.
    pub path: String,
    pub params: HashMap<String, String>,
    /// Header names lower-cased.
    pub headers: HashMap<String, String>,
    /// Bytes read past the head (the start of the body).
    pub body_start: Vec<u8>,
    /// Header lines (each ending in CRLF) every successful response to this request
    /// carries: the SPNEGO mutual-authentication reply in secure mode.
    pub reply_headers: String,
}

/// Why a request head could not be read; each maps to a status code.
#[derive(thiserror::Error, Debug, PartialEq, Eq)]
pub enum HeadError {
    #[error("the connection closed before a request arrived")]
    Closed,
    #[error("timed out reading the request head")]
    Timeout,
    #[error("request head larger than {MAX_HEAD_BYTES} bytes")]
    TooLarge,
    #[error("bad request: {0}")]
    Bad(String),
    #[error("read failed: {0}")]
    Io(String),
}

impl HeadError {
    pub fn status(&self) -> u16 {
        match self {
            HeadError::TooLarge => 431,
            HeadError::Timeout => 408,
            _ => 400,
        }
    }
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// The declared body length: `None` without a Content-Length. Chunked bodies are
    /// refused (the image transfer always knows its length).
    pub fn content_length(&self) -> Result<Option<u64>, String> {
        if self
            .header("transfer-encoding")
            .is_some_and(|v| !v.eq_ignore_ascii_case("identity"))
        {
            return Err("Transfer-Encoding is not supported; send a Content-Length".into());
        }
        match self.header("content-length") {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| format!("bad Content-Length '{v}'")),
        }
    }
}

/// Reads a request head within `timeout`.
pub async fn read_head<R: AsyncRead + Unpin>(
    stream: &mut R,
    timeout: Duration,
) -> Result<Request, HeadError> {
    let (head, rest) = read_raw_head(stream, timeout).await?;
    let mut req = parse_head(&head)?;
    req.body_start = rest;
    Ok(req)
}

/// Reads up to the blank line ending a head (request or response) within `timeout`.
/// Returns the head without its blank line, and any bytes read past it.
pub async fn read_raw_head<R: AsyncRead + Unpin>(
    stream: &mut R,
    timeout: Duration,
) -> Result<(Vec<u8>, Vec<u8>), HeadError> {
    match tokio::time::timeout(timeout, read_raw_inner(stream)).await {
        Ok(r) => r,
        Err(_) => Err(HeadError::Timeout),
    }
}

async fn read_raw_inner<R: AsyncRead + Unpin>(
    stream: &mut R,
) -> Result<(Vec<u8>, Vec<u8>), HeadError> {
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    // Bounded: each pass adds at least one byte and the buffer is capped.
    loop {
        if let Some(end) = find_head_end(&buf) {
            let rest = buf[end..].to_vec();
            buf.truncate(end - 4);
            return Ok((buf, rest));
        }
        if buf.len() >= MAX_HEAD_BYTES {
            return Err(HeadError::TooLarge);
        }
        let want = chunk.len().min(MAX_HEAD_BYTES + 4 - buf.len());
        let n = stream
            .read(&mut chunk[..want])
            .await
            .map_err(|e| HeadError::Io(e.to_string()))?;
        if n == 0 {
            return Err(if buf.is_empty() {
                HeadError::Closed
            } else {
                HeadError::Bad("the connection closed in the middle of the head".into())
            });
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Parses `name: value` header lines (lower-cased names), bounded in number.
pub fn parse_headers<'a>(
    lines: impl Iterator<Item = &'a str>,
) -> Result<HashMap<String, String>, HeadError> {
    let mut headers = HashMap::new();
    for l in lines {
        if headers.len() >= MAX_HEADERS {
            return Err(HeadError::Bad(format!("more than {MAX_HEADERS} headers")));
        }
        let (name, value) = l
            .split_once(':')
            .ok_or_else(|| HeadError::Bad(format!("malformed header line '{l}'")))?;
        if name.is_empty()
            || name
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(HeadError::Bad(format!("bad header name '{name}'")));
        }
        let name = name.to_ascii_lowercase();
        if (name == "content-length" || name == "transfer-encoding") && headers.contains_key(&name)
        {
            // Two lengths is how request smuggling starts; refuse outright.
            return Err(HeadError::Bad(format!("duplicate {name} header")));
        }
        headers.insert(name, value.trim().to_string());
    }
    Ok(headers)
}

/// The offset just past the blank line ending the head.
fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// Parses a request head (without the final blank line). Never panics.
pub fn parse_head(head: &[u8]) -> Result<Request, HeadError> {
    let text = std::str::from_utf8(head)
        .map_err(|_| HeadError::Bad("the request head is not UTF-8".into()))?;
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    let line = lines
        .next()
        .ok_or_else(|| HeadError::Bad("empty request".into()))?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Bad(format!("malformed request line '{line}'")));
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(HeadError::Bad(format!("bad method '{method}'")));
    }
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(HeadError::Bad(format!("unsupported version '{version}'")));
    }
    if !target.starts_with('/') {
        return Err(HeadError::Bad(format!("bad request target '{target}'")));
    }
    let (raw_path, query) = target.split_once('?').unwrap_or((target, ""));
    let path =
        percent_decode(raw_path).ok_or_else(|| HeadError::Bad("bad path encoding".into()))?;
    let mut params = HashMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        if params.len() >= MAX_PARAMS {
            return Err(HeadError::Bad("too many query parameters".into()));
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_decode(k).ok_or_else(|| HeadError::Bad("bad query encoding".into()))?;
        let v = percent_decode(v).ok_or_else(|| HeadError::Bad("bad query encoding".into()))?;
        params.insert(k, v);
    }
    let headers = parse_headers(lines)?;
    Ok(Request {
        method: method.to_string(),
        path,
        params,
        headers,
        body_start: Vec::new(),
        reply_headers: String::new(),
    })
}

/// Decodes `%XX` escapes and `+` (as a space, form style). `None` on a bad escape or
/// a result that is not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Encodes a query value: unreserved characters stay, everything else is `%XX`.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_request() {
        let r = parse_head(
            b"GET /imagetransfer?getimage=1&txid=latest HTTP/1.1\r\nHost: x\r\nContent-Length: 5",
        )
        .unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/imagetransfer");
        assert_eq!(r.param("txid"), Some("latest"));
        assert_eq!(r.header("host"), Some("x"));
        assert_eq!(r.content_length(), Ok(Some(5)));
    }

    #[test]
    fn refuses_bad_heads() {
        for bad in [
            &b""[..],
            b"GET",
            b"GET / HTTP/2.0",
            b"get / HTTP/1.1",
            b"GET nope HTTP/1.1",
            b"GET / HTTP/1.1 extra",
            b"GET /%zz HTTP/1.1",
            b"GET / HTTP/1.1\r\nno colon",
            b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2",
            b"GET /\xff HTTP/1.1",
        ] {
            assert!(
                parse_head(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn percent_round_trip() {
        let s = "CID-a b/c%d";
        assert_eq!(percent_decode(&percent_encode(s)).as_deref(), Some(s));
        assert_eq!(percent_decode("%4"), None);
    }
}
