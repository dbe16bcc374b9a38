//! Responses: a status, headers, and a body that is either in memory or streamed from
//! a task (an fsimage, an fsck report) through a small bounded channel, so a slow
//! reader holds back the producer instead of filling memory.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::StatusCode;
use http_body::Frame;
use tokio::sync::mpsc;

/// A response body: whole, empty, or streamed.
pub enum Body {
    Full(Option<Bytes>),
    Stream(mpsc::Receiver<std::io::Result<Bytes>>),
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            Body::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::Stream(rx) => rx.poll_recv(cx).map(|o| o.map(|r| r.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(None))
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match self {
            Body::Full(Some(b)) => http_body::SizeHint::with_exact(b.len() as u64),
            Body::Full(None) => http_body::SizeHint::with_exact(0),
            Body::Stream(_) => http_body::SizeHint::default(),
        }
    }
}

pub type Response = http::Response<Body>;

pub const TEXT: &str = "text/plain; charset=utf-8";
pub const JSON: &str = "application/json; charset=utf-8";

/// A whole-body response of `content_type`.
pub fn full(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response {
    let mut r = http::Response::new(Body::Full(Some(body.into())));
    *r.status_mut() = status_code(status);
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(CONTENT_TYPE, v);
    }
    r
}

/// A plain-text response.
pub fn text(status: u16, body: impl Into<String>) -> Response {
    full(status, TEXT, body.into())
}

/// A JSON response.
pub fn json(status: u16, body: impl Into<String>) -> Response {
    full(status, JSON, body.into())
}

/// 404 naming the path.
pub fn not_found(path: &str) -> Response {
    text(404, format!("not found: {path}\n"))
}

/// 405.
pub fn method_not_allowed() -> Response {
    text(405, "method not allowed\n")
}

/// A streamed response of `content_type` and the sender its producer writes to; the
/// channel holds `depth` pieces. With `len` the response has a Content-Length (the
/// producer must send exactly that many bytes), else it is chunked.
pub fn streamed(
    status: u16,
    content_type: &str,
    len: Option<u64>,
    depth: usize,
) -> (Response, mpsc::Sender<std::io::Result<Bytes>>) {
    let (tx, rx) = mpsc::channel(depth.max(1));
    let mut r = http::Response::new(Body::Stream(rx));
    *r.status_mut() = status_code(status);
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(CONTENT_TYPE, v);
    }
    if let Some(len) = len {
        r.headers_mut()
            .insert(http::header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    (r, tx)
}

/// Adds a header; a value that could break the framing (control characters) is
/// dropped rather than sent.
pub fn with_header(mut r: Response, name: &'static str, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(HeaderName::from_static(name), v);
    }
    r
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
