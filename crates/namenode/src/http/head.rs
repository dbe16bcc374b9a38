//! Reading the head of an HTTP response from another NameNode (the image-transfer
//! and fsck clients): status line and headers, with every length bounded. The body, if
//! any, is left on the stream. (Requests to this NameNode are read by `hafs_http`.)

use std::collections::HashMap;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

/// Longest head accepted: Hadoop's default (`hadoop.http.max.request.header.size`).
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most headers accepted in one head.
pub const MAX_HEADERS: usize = 64;

/// Why a head could not be read.
#[derive(thiserror::Error, Debug, PartialEq, Eq)]
pub enum HeadError {
    #[error("the connection closed before a head arrived")]
    Closed,
    #[error("timed out reading the head")]
    Timeout,
    #[error("head larger than {MAX_HEAD_BYTES} bytes")]
    TooLarge,
    #[error("bad head: {0}")]
    Bad(String),
    #[error("read failed: {0}")]
    Io(String),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_a_head_and_leaves_the_body() {
        let mut r = &b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"[..];
        let (head, rest) = read_raw_head(&mut r, Duration::from_secs(1)).await.unwrap();
        assert_eq!(head, b"HTTP/1.1 200 OK\r\nContent-Length: 3");
        assert_eq!(rest, b"abc");
        let text = std::str::from_utf8(&head).unwrap();
        let headers = parse_headers(text.split("\r\n").skip(1)).unwrap();
        assert_eq!(headers.get("content-length").map(String::as_str), Some("3"));
    }

    #[tokio::test]
    async fn refuses_bad_and_endless_heads() {
        let mut r = &b"HTTP/1.1 200 OK\r\n"[..];
        assert!(matches!(
            read_raw_head(&mut r, Duration::from_secs(1)).await,
            Err(HeadError::Bad(_))
        ));
        let endless = vec![b'a'; MAX_HEAD_BYTES + 10];
        let mut r = &endless[..];
        assert_eq!(
            read_raw_head(&mut r, Duration::from_secs(1)).await,
            Err(HeadError::TooLarge)
        );
        for bad in [
            "no colon",
            "Content-Length: 1\r\nContent-Length: 2",
            "bad name: x",
        ] {
            assert!(parse_headers(bad.split("\r\n")).is_err(), "{bad}");
        }
    }
}
