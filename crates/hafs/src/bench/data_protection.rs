//! `hafs bench dataprotection`: what `dfs.data.transfer.protection` costs on the data
//! path. A loopback connection runs the DataNode's SASL handshake (the `0xDEADBEEF`
//! magic, DIGEST-MD5 keyed by a block token, the real code of both ends), then streams
//! block-sized data in packet-sized writes through the negotiated layer, as a client
//! writing to a DataNode does. Measured against the same stream with no handshake (the
//! baseline, in the same run) at authentication, integrity and privacy, and at privacy
//! with AES/CTR negotiated after the handshake (`privacy+AES/CTR`,
//! `dfs.encrypt.data.transfer.cipher.suites`, 128-bit keys); it reports MB/s, the
//! ratio, and the handshake time.
//!
//! This is the protection layer alone: a real write adds checksums, disk and the
//! pipeline, which are the same at every level, so the ratios here are the upper bound
//! of what protection takes from a DataNode's throughput.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use hafs_datatransfer::sasl::{self, Protection, TokenPasswordLookup, TransferCipher};
use hafs_security::sasl::Qop;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::report::ratio;

const USAGE: &str = "\
Usage: hafs bench dataprotection [-mb N] [-packet BYTES] [-handshakes N]

  -mb          MiB streamed per protection level (default 256)
  -packet      bytes per write, a DataNode packet (default 65536)
  -handshakes  fresh connections timed for the SASL handshake (default 50)";

/// A block token's identifier and password stand-ins: the handshake only needs both
/// ends to agree on them.
const IDENTIFIER: &[u8] = b"bench-block-token-identifier";
const PASSWORD: &[u8] = b"bench-block-token-password-0123456789";

struct Settings {
    bytes: u64,
    packet: usize,
    handshakes: usize,
}

fn parse(args: &[String]) -> anyhow::Result<Option<Settings>> {
    let mut s = Settings {
        bytes: 256 << 20,
        packet: 64 * 1024,
        handshakes: 50,
    };
    let mut i = 0;
    while i < args.len() {
        let value = |i: usize| -> anyhow::Result<u64> {
            args.get(i + 1)
                .with_context(|| format!("{} needs a value", args[i]))?
                .parse()
                .with_context(|| format!("{} needs a number", args[i]))
        };
        match args[i].as_str() {
            "-mb" => s.bytes = value(i)?.saturating_mul(1 << 20),
            "-packet" => s.packet = value(i)? as usize,
            "-handshakes" => s.handshakes = value(i)? as usize,
            "-h" | "-help" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => bail!("unknown option '{other}'\n{USAGE}"),
        }
        i += 2;
    }
    if s.bytes == 0 || s.packet == 0 || s.packet > 16 << 20 {
        bail!("-mb must be at least 1 and -packet between 1 and 16777216");
    }
    Ok(Some(s))
}

pub async fn run(args: &[String]) -> anyhow::Result<i32> {
    let Some(s) = parse(args)? else {
        return Ok(0);
    };
    println!(
        "dataprotection: {} MiB per level in {}-byte writes over loopback; {} handshakes",
        s.bytes >> 20,
        s.packet,
        s.handshakes
    );
    let aes = Some(TransferCipher { key_bits: 128 });
    let levels: [(&str, Option<Qop>, Option<TransferCipher>); 5] = [
        ("none", None, None),
        ("authentication", Some(Qop::Authentication), None),
        ("integrity", Some(Qop::Integrity), None),
        ("privacy", Some(Qop::Privacy), None),
        ("privacy+AES/CTR", Some(Qop::Privacy), aes),
    ];
    println!(
        "{:<16} {:>10} {:>8} {:>14}",
        "protection", "MB/s", "vs none", "handshake ms"
    );
    // Warm up (the first stream of a process runs slower: page faults, TCP windows).
    stream(None, None, &s).await?;
    let mut base = None;
    for (name, qop, cipher) in levels {
        let mb_per_s = stream(qop, cipher, &s).await?;
        let handshake_ms = match qop {
            None => 0.0,
            Some(q) => {
                let started = Instant::now();
                for _ in 0..s.handshakes {
                    let (client, server) = pair().await?;
                    handshake(client, server, q, cipher).await?;
                }
                started.elapsed().as_secs_f64() * 1000.0 / s.handshakes.max(1) as f64
            }
        };
        let base_mb = *base.get_or_insert(mb_per_s);
        println!(
            "{:<16} {:>10.1} {:>8} {:>14.2}",
            name,
            mb_per_s,
            ratio(mb_per_s / base_mb),
            handshake_ms
        );
    }
    Ok(0)
}

async fn pair() -> anyhow::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let (client, server) = (client?, accepted?.0);
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    Ok((client, server))
}

type Halves = (sasl::BoxRead, sasl::BoxWrite);

/// Runs both ends' handshakes at `qop` (with `cipher` on both ends) and returns each
/// end's protected halves.
async fn handshake(
    client: TcpStream,
    server: TcpStream,
    qop: Qop,
    cipher: Option<TransferCipher>,
) -> anyhow::Result<(Halves, Halves)> {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let client_side = async {
        let p: Option<Protection> = sasl::client_handshake_with_cipher(
            &mut cr,
            &mut cw,
            IDENTIFIER,
            PASSWORD,
            &[qop],
            cipher,
        )
        .await?;
        anyhow::Ok(p)
    };
    let server_side = async {
        sasl::read_magic(&mut sr).await?;
        let lookup: TokenPasswordLookup = Box::new(|_user: &str| {
            Ok(hafs_security::block_token::base64_encode(PASSWORD).into_bytes())
        });
        let p =
            sasl::server_handshake_with_cipher(&mut sr, &mut sw, &[qop], cipher, lookup).await?;
        anyhow::Ok(p)
    };
    let (c, s) = tokio::join!(client_side, server_side);
    let (c, s) = (
        c.context("client handshake")?,
        s.context("server handshake")?,
    );
    if c.as_ref()
        .map(Protection::qop)
        .unwrap_or(Qop::Authentication)
        != qop
    {
        bail!("the handshake negotiated another protection than {qop}");
    }
    let negotiated = (
        c.as_ref().and_then(Protection::cipher_suite),
        s.as_ref().and_then(Protection::cipher_suite),
    );
    if cipher.is_some()
        && negotiated != (Some(sasl::AES_CTR_NOPADDING), Some(sasl::AES_CTR_NOPADDING))
    {
        bail!("the handshake did not negotiate AES/CTR: {negotiated:?}");
    }
    Ok((sasl::protect(cr, cw, c), sasl::protect(sr, sw, s)))
}

/// Streams `s.bytes` from the client end to the server end; MB/s from the first write
/// to the last byte read (and checked).
async fn stream(
    qop: Option<Qop>,
    cipher: Option<TransferCipher>,
    s: &Settings,
) -> anyhow::Result<f64> {
    let (client, server) = pair().await?;
    let ((_cr, mut w), (mut r, _sw)): (Halves, Halves) = match qop {
        Some(q) => handshake(client, server, q, cipher).await?,
        None => {
            let (cr, cw) = client.into_split();
            let (sr, sw) = server.into_split();
            (sasl::protect(cr, cw, None), sasl::protect(sr, sw, None))
        }
    };
    let packet: Vec<u8> = (0..s.packet).map(|i| (i * 31 % 251) as u8).collect();
    let expected_sum: u64 = packet.iter().map(|&b| u64::from(b)).sum();
    let total = s.bytes;
    let started = Instant::now();
    let writer = async {
        let mut sent = 0u64;
        while sent < total {
            let n = (total - sent).min(packet.len() as u64) as usize;
            w.write_all(&packet[..n]).await?;
            sent += n as u64;
        }
        w.flush().await?;
        w.shutdown().await?;
        anyhow::Ok(())
    };
    let reader = async {
        let mut buf = vec![0u8; 256 * 1024];
        let mut got = 0u64;
        let mut sum = 0u64;
        while got < total {
            let n = tokio::time::timeout(Duration::from_secs(60), r.read(&mut buf))
                .await
                .context("no data for 60 s")??;
            if n == 0 {
                bail!("the stream ended after {got} of {total} bytes");
            }
            sum += buf[..n].iter().map(|&b| u64::from(b)).sum::<u64>();
            got += n as u64;
        }
        anyhow::Ok(sum)
    };
    let (wrote, read) = tokio::join!(writer, reader);
    wrote.context("writing")?;
    let sum = read.context("reading")?;
    let elapsed = started.elapsed();
    // Whole packets sum to a known total; a short last packet is checked by length.
    if total.is_multiple_of(s.packet as u64) && sum != expected_sum * (total / s.packet as u64) {
        bail!("the bytes read differ from the bytes written");
    }
    Ok(total as f64 / elapsed.as_secs_f64() / 1e6)
}
