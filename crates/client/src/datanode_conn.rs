//! A connection to one DataNode's data port (DataTransferProtocol): connect with a
//! deadline, buffered halves, every read bounded by the socket timeout.

use std::future::Future;
use std::time::Duration;

use hafs_datatransfer::sasl::{self, BoxRead, BoxWrite};
use hafs_datatransfer::{
    read_op_response, response_status, write_op, BlockOpResponseProto, DataTransferError,
    OpRequest, Status,
};
use hafs_proto::common::TokenProto;
use tokio::io::{AsyncWriteExt, BufReader, BufWriter};
use tokio::net::TcpStream;

use crate::error::{ClientError, IO_EXCEPTION};
use crate::settings::TransferProtection;

/// Buffer sizes of the halves: a whole default packet fits.
const BUF_SIZE: usize = 128 * 1024;

pub type DnReader = BufReader<BoxRead>;
pub type DnWriter = BufWriter<BoxWrite>;

/// One open data connection.
pub struct DnConn {
    pub addr: String,
    pub reader: DnReader,
    pub writer: DnWriter,
    pub timeout: Duration,
}

/// A data-path error naming the DataNode.
pub fn dn_error(addr: &str, what: &str, e: impl std::fmt::Display) -> ClientError {
    ClientError::data_path(IO_EXCEPTION, format!("{what} {addr}: {e}"))
}

/// Runs `fut` with the socket timeout; a timeout is an error naming the DataNode.
pub async fn timed<T>(
    addr: &str,
    timeout: Duration,
    what: &str,
    fut: impl Future<Output = Result<T, DataTransferError>>,
) -> Result<T, ClientError> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(dn_error(addr, what, e)),
        Err(_) => Err(dn_error(
            addr,
            what,
            format!("no answer within {} ms", timeout.as_millis()),
        )),
    }
}

impl DnConn {
    /// Connects; with `protection` set and a non-empty `token`, proves the token in the
    /// SASL handshake first (hdfs-native's rule: no token, no handshake), offering
    /// AES/CTR when the protection has a cipher.
    pub async fn connect(
        addr: &str,
        timeout: Duration,
        protection: Option<&TransferProtection>,
        token: &TokenProto,
    ) -> Result<DnConn, ClientError> {
        let stream = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(dn_error(addr, "cannot connect to DataNode", e)),
            Err(_) => {
                return Err(dn_error(
                    addr,
                    "cannot connect to DataNode",
                    "connect timed out",
                ))
            }
        };
        let _ = stream.set_nodelay(true);
        let (r, w) = stream.into_split();
        let (r, w): (BoxRead, BoxWrite) = match protection {
            Some(p) if !token.identifier.is_empty() => {
                let mut r = BufReader::new(r);
                let mut w = BufWriter::new(w);
                let handshake = sasl::client_handshake_with_cipher(
                    &mut r,
                    &mut w,
                    &token.identifier,
                    &token.password,
                    &p.qops,
                    p.cipher,
                );
                let protection = match tokio::time::timeout(timeout, handshake).await {
                    Ok(Ok(p)) => p,
                    Ok(Err(e)) => return Err(dn_error(addr, "SASL handshake with DataNode", e)),
                    Err(_) => {
                        return Err(dn_error(addr, "SASL handshake with DataNode", "timed out"))
                    }
                };
                if let Some(n) = &protection {
                    tracing::debug!(
                        datanode = addr,
                        qop = %n.qop(),
                        cipher = n.cipher_suite().unwrap_or("none"),
                        "data transfer protection negotiated"
                    );
                }
                sasl::protect(r, w.into_inner(), protection)
            }
            _ => (Box::new(r), Box::new(w)),
        };
        Ok(DnConn {
            addr: addr.to_string(),
            reader: BufReader::with_capacity(BUF_SIZE, r),
            writer: BufWriter::with_capacity(BUF_SIZE, w),
            timeout,
        })
    }

    /// Sends an op and flushes it.
    pub async fn send_op(&mut self, op: &OpRequest) -> Result<(), ClientError> {
        let addr = self.addr.clone();
        let w = &mut self.writer;
        timed(&addr, self.timeout, "sending op to", async move {
            write_op(w, op).await?;
            w.flush().await?;
            Ok(())
        })
        .await
    }

    /// Reads the DataNode's answer to an op.
    pub async fn read_response(&mut self) -> Result<BlockOpResponseProto, ClientError> {
        let addr = self.addr.clone();
        timed(
            &addr,
            self.timeout,
            "reading op response from",
            read_op_response(&mut self.reader),
        )
        .await
    }
}

/// An error for a non-SUCCESS op response.
pub fn response_error(addr: &str, what: &str, resp: &BlockOpResponseProto) -> ClientError {
    let status = response_status(resp);
    let class = if status == Status::ErrorChecksum {
        crate::error::CHECKSUM_EXCEPTION
    } else {
        IO_EXCEPTION
    };
    let msg = resp.message.clone().unwrap_or_default();
    ClientError::data_path(
        class,
        format!("{what} failed at DataNode {addr}: {status:?} {msg}")
            .trim_end()
            .to_string(),
    )
}
