//! Reading request bodies: every read under a timeout, every body under a limit, and
//! chunked bodies treated like any other (hyper decodes the framing and sends
//! `100 Continue` when the handler first reads a body the client held back).

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("request body larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("request body stalled for {0:?}")]
    TimedOut(Duration),
    #[error("request body: {0}")]
    Broken(String),
}

impl BodyError {
    /// The status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            BodyError::TooLarge { .. } => 413,
            BodyError::TimedOut(_) => 408,
            BodyError::Broken(_) => 400,
        }
    }
}

/// The next piece of `body`, `None` at its end; waits at most `timeout` for it.
pub async fn next_chunk(
    body: &mut Incoming,
    timeout: Duration,
) -> Result<Option<Bytes>, BodyError> {
    loop {
        let frame = tokio::time::timeout(timeout, body.frame())
            .await
            .map_err(|_| BodyError::TimedOut(timeout))?;
        match frame {
            None => return Ok(None),
            Some(Err(e)) => return Err(BodyError::Broken(e.to_string())),
            Some(Ok(f)) => {
                // Trailers carry nothing we use.
                if let Ok(data) = f.into_data() {
                    if !data.is_empty() {
                        return Ok(Some(data));
                    }
                }
            }
        }
    }
}

/// The whole of `body`, refused once it passes `limit` bytes (whatever its
/// Content-Length claimed, and for chunked bodies that never end).
pub async fn read_limited(
    body: &mut Incoming,
    limit: u64,
    timeout: Duration,
) -> Result<Bytes, BodyError> {
    let mut out = BytesMut::new();
    while let Some(piece) = next_chunk(body, timeout).await? {
        if out.len() as u64 + piece.len() as u64 > limit {
            return Err(BodyError::TooLarge { limit });
        }
        out.extend_from_slice(&piece);
    }
    Ok(out.freeze())
}
