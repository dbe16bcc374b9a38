//! A request as handlers see it: method, decoded path and query, headers, the caller
//! (peer address and, in secure mode, the SPNEGO principal), and the body to read.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method};
use hyper::body::Incoming;

use crate::body::{self, BodyError};

pub struct Request {
    pub method: Method,
    /// The path, percent-decoded.
    pub path: String,
    /// The query parameters, decoded, in order.
    pub params: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub peer: SocketAddr,
    /// The authenticated caller's full principal (secure mode only).
    pub principal: Option<String>,
    body: Incoming,
    io_timeout: Duration,
}

impl Request {
    pub(crate) fn new(
        parts: http::request::Parts,
        path: String,
        params: Vec<(String, String)>,
        body: Incoming,
        peer: SocketAddr,
        io_timeout: Duration,
    ) -> Request {
        Request {
            method: parts.method,
            path,
            params,
            headers: parts.headers,
            peer,
            principal: None,
            body,
            io_timeout,
        }
    }

    /// The first value of the query parameter `name` (exact name).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, its case ignored (WebHDFS parameters).
    pub fn param_ignore_case(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A header's value, when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The declared Content-Length (hyper has already refused a malformed or
    /// conflicting one).
    pub fn content_length(&self) -> Option<u64> {
        self.header("content-length")
            .and_then(|v| v.trim().parse().ok())
    }

    /// Whether the body is sent with `Transfer-Encoding: chunked`.
    pub fn is_chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }

    /// The next piece of the body, `None` at its end. The first call answers a held
    /// back upload's `Expect: 100-continue`.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, BodyError> {
        body::next_chunk(&mut self.body, self.io_timeout).await
    }

    /// The whole body, refused (413) past `limit` bytes.
    pub async fn read_body(&mut self, limit: u64) -> Result<Bytes, BodyError> {
        if self.content_length().is_some_and(|n| n > limit) {
            return Err(BodyError::TooLarge { limit });
        }
        body::read_limited(&mut self.body, limit, self.io_timeout).await
    }
}
