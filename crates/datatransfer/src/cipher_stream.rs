//! The two halves of a connection encrypted with AES/CTR after the SASL handshake
//! negotiated a cipher option (`dfs.encrypt.data.transfer.cipher.suites`): raw
//! keystream-XORed bytes, no framing, no MAC — Hadoop's `CryptoInputStream` /
//! `CryptoOutputStream` over the socket.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use hafs_security::aes_ctr::AesCtr;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Most plain bytes taken per write before the ciphertext must drain.
const MAX_PENDING: usize = 64 * 1024;

/// Decrypts what it reads.
pub struct CipherReader<R> {
    inner: R,
    cipher: AesCtr,
}

impl<R> CipherReader<R> {
    pub fn new(inner: R, cipher: AesCtr) -> Self {
        CipherReader { inner, cipher }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for CipherReader<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        this.cipher.apply_keystream(&mut buf.filled_mut()[before..]);
        Poll::Ready(Ok(()))
    }
}

/// Encrypts what is written. Bytes are encrypted when taken (the keystream position
/// moves with them), so ciphertext the socket has not accepted yet waits in `out`.
pub struct CipherWriter<W> {
    inner: W,
    cipher: AesCtr,
    out: Vec<u8>,
    out_pos: usize,
}

impl<W> CipherWriter<W> {
    pub fn new(inner: W, cipher: AesCtr) -> Self {
        CipherWriter {
            inner,
            cipher,
            out: Vec::new(),
            out_pos: 0,
        }
    }
}

impl<W: AsyncWrite + Unpin> CipherWriter<W> {
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        crate::sasl::poll_write_pending(&mut self.inner, &mut self.out, &mut self.out_pos, cx)
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for CipherWriter<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        ready!(this.poll_drain(cx))?;
        let n = buf.len().min(MAX_PENDING);
        this.out.extend_from_slice(&buf[..n]);
        this.cipher.apply_keystream(&mut this.out);
        // Start sending now; what the socket does not take goes out on the next write
        // or flush (the bytes are already accepted and encrypted).
        if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_flush(cx))?;
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt};

    const KEY: [u8; 16] = [7; 16];
    const IV: [u8; 16] = [0xff; 16]; // wraps after the first block

    #[tokio::test]
    async fn a_stream_survives_any_split_and_a_slow_peer() {
        // A 1 KiB pipe: writes are taken in part and the writer must keep the rest.
        let (a, b) = duplex(1024);
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 13 + i / 7) as u8).collect();
        let sent = data.clone();
        let writer = tokio::spawn(async move {
            let mut w = CipherWriter::new(a, AesCtr::new(&KEY, &IV).unwrap());
            w.write_all(&sent[..1]).await.unwrap();
            w.write_all(&sent[1..70_001]).await.unwrap();
            for piece in sent[70_001..].chunks(333) {
                w.write_all(piece).await.unwrap();
            }
            w.shutdown().await.unwrap();
        });
        let mut wire = Vec::new();
        let mut b = b;
        b.read_to_end(&mut wire).await.unwrap();
        writer.await.unwrap();
        assert_eq!(wire.len(), data.len());
        assert_ne!(&wire[..64], &data[..64], "the wire carries ciphertext");
        // The ciphertext is exactly the keystream XOR, read back in odd pieces.
        let mut r = CipherReader::new(&wire[..], AesCtr::new(&KEY, &IV).unwrap());
        let mut got = vec![0u8; data.len()];
        let mut at = 0;
        while at < got.len() {
            let end = (at + 4097).min(got.len());
            let n = r.read(&mut got[at..end]).await.unwrap();
            assert!(n > 0);
            at += n;
        }
        assert_eq!(got, data);
    }
}
