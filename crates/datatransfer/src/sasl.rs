//! SASL data-transfer protection (`dfs.data.transfer.protection`), both ends.
//!
//! Before its first op, a client of a protected DataNode proves it holds the block
//! token with DIGEST-MD5 (Hadoop's `SaslDataTransferClient` / `SaslDataTransferServer`):
//!
//! 1. the client writes the int32 magic `0xDEADBEEF`;
//! 2. it sends a `DataTransferEncryptorMessageProto{SUCCESS, payload: empty}`;
//! 3. the DataNode answers with the DIGEST-MD5 challenge (realm `0`);
//! 4. the client sends its response (digest-uri `hdfs/0`), user name = base64 of the
//!    token identifier, password = base64 of the token password;
//! 5. the DataNode answers SUCCESS with `rspauth`, or ERROR with a message (and
//!    `accessTokenError` when the token was refused).
//!
//! Every message is varint-length-delimited. At `integrity` or `privacy` everything
//! after the handshake travels in frames `u32 length | wrapped bytes`, in both
//! directions ([`SaslReader`], [`SaslWriter`]); at `authentication` the stream stays
//! plain. The session's wrap and unwrap keep separate sequence numbers and cipher
//! states per direction, so the two halves of a split socket share one session.
//!
//! AES instead of the SASL privacy layer (`dfs.encrypt.data.transfer.cipher.suites` =
//! `AES/CTR/NoPadding`): a client that asks for privacy offers the suite in step 4 (a
//! `CipherOptionProto` with only the suite set). If privacy was negotiated and the
//! DataNode is configured for the suite, its SUCCESS in step 5 carries the chosen
//! option: random keys (`dfs.encrypt.data.transfer.cipher.key.bitlength`) and IVs for
//! both directions, each key wrapped by the just-negotiated SASL session (the IVs
//! travel plain). From then on the stream is raw AES/CTR ([`crate::cipher_stream`]):
//! the client writes with `inKey`/`inIv` and reads with `outKey`/`outIv`, the DataNode
//! the other way round. An offer the DataNode does not take leaves the SASL privacy
//! layer, as in Hadoop.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use hafs_proto::hdfs::data_transfer_encryptor_message_proto::DataTransferEncryptorStatus as SaslStatus;
use hafs_proto::hdfs::{CipherOptionProto, CipherSuiteProto, DataTransferEncryptorMessageProto};
use hafs_security::aes_ctr::{random_bytes, AesCtr, AES_BLOCK_SIZE};
use hafs_security::block_token::base64_encode;
use hafs_security::digest_md5::{DigestMd5Client, DigestMd5Server};
use hafs_security::sasl::{Qop, SaslClientSession, SaslError, SaslServerSession, SaslStep};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::cipher_stream::{CipherReader, CipherWriter};
use crate::delimited::{read_delimited, write_delimited};
use crate::error::DataTransferError;

/// The int32 a client writes before the handshake.
pub const SASL_TRANSFER_MAGIC: u32 = 0xDEAD_BEEF;
/// DIGEST-MD5 protocol and server name for data transfer (digest-uri `hdfs/0`).
pub const PROTOCOL: &str = "hdfs";
pub const SERVER_NAME: &str = "0";
/// Largest wrapped frame accepted: the biggest DIGEST-MD5 maxbuf (2^24 - 1) plus room.
pub const MAX_WRAPPED_FRAME: usize = 16 * 1024 * 1024;
/// Plain bytes per wrapped frame when the peer's buffer size is unknown.
const DEFAULT_MAX_PLAIN: usize = 64 * 1024 - 64;
/// The one cipher suite of encrypted data transfer, as configured and logged.
pub const AES_CTR_NOPADDING: &str = "AES/CTR/NoPadding";
/// Hadoop's key for the suites a client offers and a DataNode accepts.
pub const CIPHER_SUITES_KEY: &str = "dfs.encrypt.data.transfer.cipher.suites";
/// Hadoop's key for the AES key length the DataNode generates.
pub const CIPHER_KEY_BITLENGTH_KEY: &str = "dfs.encrypt.data.transfer.cipher.key.bitlength";

/// AES/CTR for the data stream after the handshake (see the module docs). A client
/// only offers the suite; the DataNode generates keys of `key_bits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransferCipher {
    pub key_bits: usize,
}

/// A cipher setting that cannot be used: the key, its value and why (Hadoop's words).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CipherConfigError {
    pub key: &'static str,
    pub value: String,
    pub message: String,
}

impl TransferCipher {
    /// Reads the values of `dfs.encrypt.data.transfer.cipher.suites` and
    /// `dfs.encrypt.data.transfer.cipher.key.bitlength` (default 128): `None` when no
    /// suite is set. Hadoop's message for any suite but `AES/CTR/NoPadding`.
    pub fn from_conf_values(
        suites: Option<&str>,
        key_bits: Option<&str>,
    ) -> Result<Option<TransferCipher>, CipherConfigError> {
        let suites = suites.map(str::trim).unwrap_or("");
        if suites.is_empty() {
            return Ok(None);
        }
        if suites != AES_CTR_NOPADDING {
            return Err(CipherConfigError {
                key: CIPHER_SUITES_KEY,
                value: suites.to_string(),
                message: format!("Invalid cipher suite, {CIPHER_SUITES_KEY}={suites}"),
            });
        }
        let key_bits = match key_bits.map(str::trim) {
            None | Some("") => 128,
            Some(v) => match v.parse::<usize>() {
                Ok(b @ (128 | 192 | 256)) => b,
                _ => {
                    return Err(CipherConfigError {
                        key: CIPHER_KEY_BITLENGTH_KEY,
                        value: v.to_string(),
                        message: format!(
                        "Invalid {CIPHER_KEY_BITLENGTH_KEY}={v}: AES keys are 128, 192 or 256 bits"
                    ),
                    })
                }
            },
        };
        Ok(Some(TransferCipher { key_bits }))
    }
}

/// Why a handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum SaslTransferError {
    #[error("{0}")]
    Protocol(#[from] DataTransferError),
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("SASL: {0}")]
    Sasl(#[from] SaslError),
    /// Not a SASL client (Hadoop's InvalidMagicNumberException wording).
    #[error("Received {0:#x} instead of {SASL_TRANSFER_MAGIC:#x} from client.")]
    BadMagic(u32),
    /// The peer answered ERROR.
    #[error("{message}")]
    Refused {
        message: String,
        access_token_error: bool,
    },
    #[error("SASL handshake: {0}")]
    Handshake(String),
}

/// One end's negotiated SASL session.
pub enum SaslSession {
    Server(Box<dyn SaslServerSession>),
    Client(Box<dyn SaslClientSession>),
}

impl SaslSession {
    pub fn qop(&self) -> Qop {
        match self {
            SaslSession::Server(s) => s.qop(),
            SaslSession::Client(c) => c.qop(),
        }
    }

    fn wrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError> {
        match self {
            SaslSession::Server(s) => s.wrap(data),
            SaslSession::Client(c) => c.wrap(data),
        }
    }

    fn unwrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError> {
        match self {
            SaslSession::Server(s) => s.unwrap(data),
            SaslSession::Client(c) => c.unwrap(data),
        }
    }
}

/// A session shared by the read and write halves of one connection.
pub type SharedSession = Arc<Mutex<SaslSession>>;

/// What a handshake at integrity or privacy leaves: the session, and the largest
/// message to wrap so the peer's announced buffer (its maxbuf) is respected.
pub struct Protection {
    pub session: SharedSession,
    pub max_plain: Option<usize>,
    /// Set when an AES/CTR cipher option was negotiated: the stream is encrypted with
    /// it instead of being wrapped by the session.
    pub cipher: Option<CipherStreams>,
}

impl Protection {
    pub fn qop(&self) -> Qop {
        lock(&self.session).qop()
    }

    /// The negotiated cipher suite, if the stream is AES-encrypted.
    pub fn cipher_suite(&self) -> Option<&'static str> {
        self.cipher.as_ref().map(|_| AES_CTR_NOPADDING)
    }
}

/// One end's AES/CTR streams: `read` decrypts what arrives, `write` encrypts what
/// leaves.
pub struct CipherStreams {
    pub read: AesCtr,
    pub write: AesCtr,
}

fn lock(s: &SharedSession) -> std::sync::MutexGuard<'_, SaslSession> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

fn message(status: SaslStatus, payload: Vec<u8>) -> DataTransferEncryptorMessageProto {
    DataTransferEncryptorMessageProto {
        status: status as i32,
        payload: Some(Bytes::from(payload)),
        ..Default::default()
    }
}

async fn send<W: AsyncWrite + Unpin>(
    w: &mut W,
    m: &DataTransferEncryptorMessageProto,
) -> Result<(), SaslTransferError> {
    write_delimited(w, m).await?;
    w.flush().await?;
    Ok(())
}

/// Reads the peer's message; ERROR statuses become [`SaslTransferError::Refused`].
async fn receive_message<R: AsyncRead + Unpin>(
    r: &mut R,
) -> Result<DataTransferEncryptorMessageProto, SaslTransferError> {
    let m: DataTransferEncryptorMessageProto = read_delimited(r, "a SASL message").await?;
    if m.status != SaslStatus::Success as i32 {
        return Err(SaslTransferError::Refused {
            message: m
                .message
                .unwrap_or_else(|| "SASL handshake refused".to_string()),
            access_token_error: m.access_token_error.unwrap_or(false),
        });
    }
    Ok(m)
}

/// Reads the peer's message and returns its payload.
async fn receive<R: AsyncRead + Unpin>(r: &mut R) -> Result<Vec<u8>, SaslTransferError> {
    Ok(payload_of(receive_message(r).await?))
}

fn payload_of(m: DataTransferEncryptorMessageProto) -> Vec<u8> {
    m.payload.map(|p| p.to_vec()).unwrap_or_default()
}

/// The option a client offers: the suite alone.
fn offered_option() -> CipherOptionProto {
    CipherOptionProto {
        suite: CipherSuiteProto::AesCtrNopadding as i32,
        ..Default::default()
    }
}

fn cipher_error(what: impl std::fmt::Display) -> SaslTransferError {
    SaslTransferError::Handshake(format!("negotiated cipher option: {what}"))
}

/// The client's streams from the DataNode's chosen option, keys unwrapped by the
/// session.
fn client_cipher(
    option: &CipherOptionProto,
    session: &mut dyn SaslClientSession,
) -> Result<CipherStreams, SaslTransferError> {
    if option.suite != CipherSuiteProto::AesCtrNopadding as i32 {
        return Err(cipher_error(format_args!(
            "unsupported cipher suite {}",
            option.suite
        )));
    }
    let field = |v: &Option<Bytes>, name: &str| {
        v.as_ref()
            .map(|b| b.to_vec())
            .ok_or_else(|| cipher_error(format_args!("{name} is missing")))
    };
    let in_key = session.unwrap(&field(&option.in_key, "inKey")?)?;
    let out_key = session.unwrap(&field(&option.out_key, "outKey")?)?;
    let in_iv = field(&option.in_iv, "inIv")?;
    let out_iv = field(&option.out_iv, "outIv")?;
    Ok(CipherStreams {
        read: AesCtr::new(&out_key, &out_iv).map_err(cipher_error)?,
        write: AesCtr::new(&in_key, &in_iv).map_err(cipher_error)?,
    })
}

/// The DataNode's choice for a client that offered AES/CTR: fresh random keys and IVs;
/// returns the option to send (keys wrapped by the session) and its own streams.
fn server_cipher(
    cipher: TransferCipher,
    session: &mut dyn SaslServerSession,
) -> Result<(CipherOptionProto, CipherStreams), SaslTransferError> {
    let key_len = cipher.key_bits / 8;
    let (in_key, in_iv) = (random_bytes(key_len), random_bytes(AES_BLOCK_SIZE));
    let (out_key, out_iv) = (random_bytes(key_len), random_bytes(AES_BLOCK_SIZE));
    let streams = CipherStreams {
        read: AesCtr::new(&in_key, &in_iv).map_err(cipher_error)?,
        write: AesCtr::new(&out_key, &out_iv).map_err(cipher_error)?,
    };
    let option = CipherOptionProto {
        suite: CipherSuiteProto::AesCtrNopadding as i32,
        in_key: Some(Bytes::from(session.wrap(&in_key)?)),
        in_iv: Some(Bytes::from(in_iv)),
        out_key: Some(Bytes::from(session.wrap(&out_key)?)),
        out_iv: Some(Bytes::from(out_iv)),
    };
    Ok((option, streams))
}

/// The client's half: proves `identifier`/`password` (a block token) to the DataNode.
/// Returns the session when the negotiated QOP wraps the stream, `None` at
/// authentication.
pub async fn client_handshake<R, W>(
    r: &mut R,
    w: &mut W,
    identifier: &[u8],
    password: &[u8],
    qops: &[Qop],
) -> Result<Option<Protection>, SaslTransferError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    client_handshake_with_cipher(r, w, identifier, password, qops, None).await
}

/// [`client_handshake`], offering AES/CTR when `cipher` is set and `qops` include
/// privacy (Hadoop's `SaslDataTransferClient`).
pub async fn client_handshake_with_cipher<R, W>(
    r: &mut R,
    w: &mut W,
    identifier: &[u8],
    password: &[u8],
    qops: &[Qop],
    cipher: Option<TransferCipher>,
) -> Result<Option<Protection>, SaslTransferError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut client = DigestMd5Client::new(
        &base64_encode(identifier),
        base64_encode(password).as_bytes(),
        PROTOCOL,
        SERVER_NAME,
        qops,
    )?;
    w.write_all(&SASL_TRANSFER_MAGIC.to_be_bytes()).await?;
    send(w, &message(SaslStatus::Success, Vec::new())).await?;
    let challenge = receive(r).await?;
    let response = match client.evaluate(&challenge)? {
        SaslStep::Continue(resp) => resp,
        SaslStep::Complete(_) => {
            return Err(SaslTransferError::Handshake(
                "DIGEST-MD5 completed before the client's response".into(),
            ))
        }
    };
    let mut step4 = message(SaslStatus::Success, response);
    if cipher.is_some() && qops.contains(&Qop::Privacy) {
        step4.cipher_option.push(offered_option());
    }
    send(w, &step4).await?;
    let last = receive_message(r).await?;
    let chosen = last.cipher_option.first().cloned();
    match client.evaluate(&payload_of(last))? {
        SaslStep::Complete(None) => {}
        _ => {
            return Err(SaslTransferError::Handshake(
                "DIGEST-MD5 did not complete after rspauth".into(),
            ))
        }
    }
    let qop = client.qop();
    if !qops.contains(&qop) {
        return Err(SaslTransferError::Handshake(format!(
            "negotiated protection {qop} was not requested"
        )));
    }
    let max_plain = client.max_send_size();
    // The DataNode only chooses an option at privacy; one sent otherwise is ignored,
    // as Hadoop's client does.
    let cipher = match chosen {
        Some(option) if qop == Qop::Privacy => Some(client_cipher(&option, &mut client)?),
        _ => None,
    };
    Ok(qop.wraps().then(|| Protection {
        session: Arc::new(Mutex::new(SaslSession::Client(Box::new(client)))),
        max_plain,
        cipher,
    }))
}

/// Checks a token identifier (the DIGEST user name, base64) and returns its password as
/// the DIGEST password (base64 of the HMAC), or the reason it is refused.
pub type TokenPasswordLookup = Box<dyn Fn(&str) -> Result<Vec<u8>, String> + Send>;

/// The DataNode's half after the caller read and checked the magic
/// ([`read_magic`]). Returns the session when the QOP wraps, `None` at
/// authentication. On failure the client has been sent an ERROR message.
pub async fn server_handshake<R, W>(
    r: &mut R,
    w: &mut W,
    qops: &[Qop],
    lookup: TokenPasswordLookup,
) -> Result<Option<Protection>, SaslTransferError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    server_handshake_with_cipher(r, w, qops, None, lookup).await
}

/// [`server_handshake`], choosing AES/CTR with `cipher`'s key length when the client
/// offered it and privacy was negotiated (Hadoop's `SaslDataTransferServer`).
pub async fn server_handshake_with_cipher<R, W>(
    r: &mut R,
    w: &mut W,
    qops: &[Qop],
    cipher: Option<TransferCipher>,
    lookup: TokenPasswordLookup,
) -> Result<Option<Protection>, SaslTransferError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    // Remember a token refusal so the client is told it was the token.
    let token_error: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let seen = token_error.clone();
    let password: hafs_security::digest_md5::PasswordLookup = Box::new(move |user: &str| {
        lookup(user).map_err(|e| {
            *seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.clone());
            SaslError::Authentication(e)
        })
    });
    let mut server = DigestMd5Server::new(PROTOCOL, SERVER_NAME, qops, password)?;
    let result = async {
        let opening = receive(r).await?;
        let challenge = match server.evaluate(&opening)? {
            SaslStep::Continue(c) => c,
            SaslStep::Complete(_) => {
                return Err(SaslTransferError::Handshake(
                    "DIGEST-MD5 server completed without a challenge".into(),
                ))
            }
        };
        send(w, &message(SaslStatus::Success, challenge)).await?;
        let response = receive_message(r).await?;
        let offered = response
            .cipher_option
            .iter()
            .any(|o| o.suite == CipherSuiteProto::AesCtrNopadding as i32);
        let rspauth = match server.evaluate(&payload_of(response))? {
            SaslStep::Complete(rspauth) => rspauth.unwrap_or_default(),
            SaslStep::Continue(_) => {
                return Err(SaslTransferError::Handshake(
                    "DIGEST-MD5 did not complete after the client's response".into(),
                ))
            }
        };
        let mut last = message(SaslStatus::Success, rspauth);
        let chosen = match cipher {
            Some(c) if offered && server.qop() == Qop::Privacy => {
                let (option, streams) = server_cipher(c, &mut server)?;
                last.cipher_option.push(option);
                Some(streams)
            }
            _ => None,
        };
        Ok((last, chosen))
    }
    .await;
    match result {
        Ok((last, cipher)) => {
            send(w, &last).await?;
            let qop = server.qop();
            let max_plain = server.max_send_size();
            Ok(qop.wraps().then(|| Protection {
                session: Arc::new(Mutex::new(SaslSession::Server(Box::new(server)))),
                max_plain,
                cipher,
            }))
        }
        Err(e) => {
            let token = token_error.lock().unwrap_or_else(|p| p.into_inner()).take();
            let refusal = DataTransferEncryptorMessageProto {
                status: SaslStatus::Error as i32,
                message: Some(token.clone().unwrap_or_else(|| e.to_string())),
                access_token_error: token.is_some().then_some(true),
                ..Default::default()
            };
            // Best effort: the peer may be gone or not speaking SASL at all.
            if !matches!(e, SaslTransferError::Io(_)) {
                let _ = send(w, &refusal).await;
            }
            Err(e)
        }
    }
}

/// Reads the int32 that must open a protected connection.
pub async fn read_magic<R: AsyncRead + Unpin>(r: &mut R) -> Result<(), SaslTransferError> {
    let m = r.read_u32().await?;
    if m != SASL_TRANSFER_MAGIC {
        return Err(SaslTransferError::BadMagic(m));
    }
    Ok(())
}

/// Reads `u32 length | wrapped` frames and yields the unwrapped bytes.
pub struct SaslReader<R> {
    inner: R,
    session: SharedSession,
    header: [u8; 4],
    header_len: usize,
    frame: Vec<u8>,
    frame_filled: usize,
    in_body: bool,
    plain: Vec<u8>,
    plain_pos: usize,
}

impl<R> SaslReader<R> {
    pub fn new(inner: R, session: SharedSession) -> Self {
        SaslReader {
            inner,
            session,
            header: [0; 4],
            header_len: 0,
            frame: Vec::new(),
            frame_filled: 0,
            in_body: false,
            plain: Vec::new(),
            plain_pos: 0,
        }
    }
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

impl<R: AsyncRead + Unpin> AsyncRead for SaslReader<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.plain_pos < this.plain.len() {
                let n = buf.remaining().min(this.plain.len() - this.plain_pos);
                buf.put_slice(&this.plain[this.plain_pos..this.plain_pos + n]);
                this.plain_pos += n;
                return Poll::Ready(Ok(()));
            }
            if this.in_body {
                while this.frame_filled < this.frame.len() {
                    let mut rb = ReadBuf::new(&mut this.frame[this.frame_filled..]);
                    ready!(Pin::new(&mut this.inner).poll_read(cx, &mut rb))?;
                    let n = rb.filled().len();
                    if n == 0 {
                        return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into()));
                    }
                    this.frame_filled += n;
                }
                let plain = lock(&this.session)
                    .unwrap(&this.frame)
                    .map_err(|e| invalid(e.to_string()))?;
                this.plain = plain;
                this.plain_pos = 0;
                this.in_body = false;
                this.header_len = 0;
                continue;
            }
            while this.header_len < 4 {
                let mut rb = ReadBuf::new(&mut this.header[this.header_len..]);
                ready!(Pin::new(&mut this.inner).poll_read(cx, &mut rb))?;
                let n = rb.filled().len();
                if n == 0 {
                    if this.header_len == 0 {
                        return Poll::Ready(Ok(())); // a clean end between frames
                    }
                    return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into()));
                }
                this.header_len += n;
            }
            let len = u32::from_be_bytes(this.header) as usize;
            if len > MAX_WRAPPED_FRAME {
                return Poll::Ready(Err(invalid(format!(
                    "wrapped frame of {len} bytes exceeds the limit of {MAX_WRAPPED_FRAME}"
                ))));
            }
            if len == 0 {
                this.header_len = 0;
                continue;
            }
            this.frame.clear();
            this.frame.resize(len, 0);
            this.frame_filled = 0;
            this.in_body = true;
        }
    }
}

/// Collects written bytes and sends them as `u32 length | wrapped` frames, one frame
/// per flush or per `max_plain` bytes.
pub struct SaslWriter<W> {
    inner: W,
    session: SharedSession,
    plain: Vec<u8>,
    out: Vec<u8>,
    out_pos: usize,
    max_plain: usize,
}

impl<W> SaslWriter<W> {
    /// `max_plain`: the largest message to wrap (the peer's buffer size less the
    /// wrapping overhead); `None` for 64 KiB less a margin.
    pub fn new(inner: W, session: SharedSession, max_plain: Option<usize>) -> Self {
        let max_plain = max_plain
            .unwrap_or(DEFAULT_MAX_PLAIN)
            .clamp(1, MAX_WRAPPED_FRAME / 2);
        SaslWriter {
            inner,
            session,
            plain: Vec::with_capacity(max_plain),
            out: Vec::new(),
            out_pos: 0,
            max_plain,
        }
    }

    fn seal(&mut self) -> io::Result<()> {
        if self.plain.is_empty() {
            return Ok(());
        }
        let wrapped = lock(&self.session)
            .wrap(&self.plain)
            .map_err(|e| invalid(e.to_string()))?;
        self.plain.clear();
        self.out
            .extend_from_slice(&(wrapped.len() as u32).to_be_bytes());
        self.out.extend_from_slice(&wrapped);
        Ok(())
    }
}

/// Writes `out[*pos..]` to `inner`, then empties `out`: the pending bytes of a writer
/// that transforms what it is given (SASL-wrapped frames, AES-CTR ciphertext) before
/// taking more, so its memory stays bounded.
pub(crate) fn poll_write_pending<W: AsyncWrite + Unpin>(
    inner: &mut W,
    out: &mut Vec<u8>,
    pos: &mut usize,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    while *pos < out.len() {
        let n = ready!(Pin::new(&mut *inner).poll_write(cx, &out[*pos..]))?;
        if n == 0 {
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        *pos += n;
    }
    out.clear();
    *pos = 0;
    Poll::Ready(Ok(()))
}

impl<W: AsyncWrite + Unpin> SaslWriter<W> {
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        crate::sasl::poll_write_pending(&mut self.inner, &mut self.out, &mut self.out_pos, cx)
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for SaslWriter<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // Sealed frames go out before more is taken, so memory stays bounded.
        ready!(this.poll_drain(cx))?;
        let n = buf.len().min(this.max_plain - this.plain.len());
        this.plain.extend_from_slice(&buf[..n]);
        if this.plain.len() >= this.max_plain {
            this.seal()?;
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.seal()?;
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_flush(cx))?;
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// A connection's read side, plain or unwrapped.
pub type BoxRead = Box<dyn AsyncRead + Send + Sync + Unpin>;
/// A connection's write side, plain or wrapped.
pub type BoxWrite = Box<dyn AsyncWrite + Send + Sync + Unpin>;

/// Puts the two halves of a connection behind the session's protection, or leaves them
/// plain (no session: no protection, or `authentication`).
pub fn protect<R, W>(r: R, w: W, protection: Option<Protection>) -> (BoxRead, BoxWrite)
where
    R: AsyncRead + Send + Sync + Unpin + 'static,
    W: AsyncWrite + Send + Sync + Unpin + 'static,
{
    match protection {
        None => (Box::new(r), Box::new(w)),
        Some(Protection {
            cipher: Some(c), ..
        }) => (
            Box::new(CipherReader::new(r, c.read)),
            Box::new(CipherWriter::new(w, c.write)),
        ),
        Some(p) => (
            Box::new(SaslReader::new(r, p.session.clone())),
            Box::new(SaslWriter::new(w, p.session, p.max_plain)),
        ),
    }
}

#[cfg(test)]
mod tests;
