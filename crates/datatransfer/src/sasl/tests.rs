use super::*;
use hafs_security::block_token::{base64_decode, token_password};
use tokio::io::{duplex, split, AsyncReadExt, AsyncWriteExt};

const KEY: &[u8] = b"a block key of some length";

fn token() -> (Vec<u8>, Vec<u8>) {
    let id = b"\x8a\x01\x02\x03\x04\x05\x06an identifier".to_vec();
    let pwd = token_password(&id, KEY);
    (id, pwd)
}

/// What a DataNode does: decode the base64 identifier, recompute its password.
fn lookup() -> TokenPasswordLookup {
    Box::new(|user: &str| {
        let id = base64_decode(user).ok_or_else(|| "bad user name".to_string())?;
        if !id.starts_with(b"\x8a") {
            return Err("Block token with garbage is expired.".to_string());
        }
        Ok(base64_encode(&token_password(&id, KEY)).into_bytes())
    })
}

/// Runs both ends over an in-memory pipe and returns what each negotiated.
async fn pair(
    client_qops: &[Qop],
    server_qops: &[Qop],
    id: Vec<u8>,
    pwd: Vec<u8>,
) -> (
    Result<(Option<Protection>, tokio::io::DuplexStream), SaslTransferError>,
    Result<(Option<Protection>, tokio::io::DuplexStream), SaslTransferError>,
) {
    pair_with_cipher(client_qops, server_qops, None, None, id, pwd).await
}

/// [`pair`] with each end's cipher setting.
async fn pair_with_cipher(
    client_qops: &[Qop],
    server_qops: &[Qop],
    client_cipher: Option<TransferCipher>,
    server_cipher: Option<TransferCipher>,
    id: Vec<u8>,
    pwd: Vec<u8>,
) -> (
    Result<(Option<Protection>, tokio::io::DuplexStream), SaslTransferError>,
    Result<(Option<Protection>, tokio::io::DuplexStream), SaslTransferError>,
) {
    let (a, b) = duplex(1 << 20);
    let cq = client_qops.to_vec();
    let sq = server_qops.to_vec();
    let client = tokio::spawn(async move {
        let mut a = a;
        let (mut r, mut w) = split(&mut a);
        let p = client_handshake_with_cipher(&mut r, &mut w, &id, &pwd, &cq, client_cipher).await?;
        Ok::<_, SaslTransferError>((p, a))
    });
    let server = tokio::spawn(async move {
        let mut b = b;
        let (mut r, mut w) = split(&mut b);
        read_magic(&mut r).await?;
        let p = server_handshake_with_cipher(&mut r, &mut w, &sq, server_cipher, lookup()).await?;
        Ok::<_, SaslTransferError>((p, b))
    });
    (client.await.unwrap(), server.await.unwrap())
}

async fn exchange_at(qop: Qop) {
    let (id, pwd) = token();
    let (c, s) = pair(&[qop], &[qop], id, pwd).await;
    let (cp, cs) = c.unwrap();
    let (sp, ss) = s.unwrap();
    assert_eq!(cp.is_some(), qop.wraps());
    if let Some(p) = &cp {
        assert_eq!(p.qop(), qop);
        assert_eq!(p.cipher_suite(), None);
    }
    stream_both_ways(cp, cs, sp, ss).await;
}

/// Streams small and large messages both ways over the negotiated protection.
async fn stream_both_ways(
    cp: Option<Protection>,
    cs: tokio::io::DuplexStream,
    sp: Option<Protection>,
    ss: tokio::io::DuplexStream,
) {
    let (cr, cw) = split(cs);
    let (sr, sw) = split(ss);
    let (mut cr, mut cw) = protect(cr, cw, cp);
    let (mut sr, mut sw) = protect(sr, sw, sp);
    // Many small writes merged into one flush, and one large write split in frames.
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7) as u8).collect();
    let big2 = big.clone();
    let writer = tokio::spawn(async move {
        for i in 0..100u8 {
            cw.write_all(&[i; 3]).await.unwrap();
        }
        cw.flush().await.unwrap();
        cw.write_all(&big2).await.unwrap();
        cw.flush().await.unwrap();
        let mut back = vec![0u8; 5];
        cr.read_exact(&mut back).await.unwrap();
        back
    });
    let mut small = vec![0u8; 300];
    sr.read_exact(&mut small).await.unwrap();
    assert_eq!(&small[..6], &[0, 0, 0, 1, 1, 1]);
    let mut got = vec![0u8; big.len()];
    // Read in odd pieces so frames split across reads.
    let mut at = 0;
    while at < got.len() {
        let end = (at + 777).min(got.len());
        let n = sr.read(&mut got[at..end]).await.unwrap();
        assert!(n > 0);
        at += n;
    }
    assert_eq!(got, big);
    sw.write_all(b"hello").await.unwrap();
    sw.flush().await.unwrap();
    assert_eq!(writer.await.unwrap(), b"hello");
}

#[tokio::test]
async fn handshake_and_stream_at_authentication() {
    exchange_at(Qop::Authentication).await;
}

#[tokio::test]
async fn handshake_and_stream_at_integrity() {
    exchange_at(Qop::Integrity).await;
}

#[tokio::test]
async fn handshake_and_stream_at_privacy() {
    exchange_at(Qop::Privacy).await;
}

#[tokio::test]
async fn the_server_picks_its_preferred_common_qop() {
    let (id, pwd) = token();
    let (c, s) = pair(
        &[Qop::Privacy, Qop::Integrity, Qop::Authentication],
        &[Qop::Integrity],
        id,
        pwd,
    )
    .await;
    assert_eq!(c.unwrap().0.unwrap().qop(), Qop::Integrity);
    assert_eq!(s.unwrap().0.unwrap().qop(), Qop::Integrity);
}

#[tokio::test]
async fn a_wrong_password_is_refused_on_both_ends() {
    let (id, mut pwd) = token();
    pwd[0] ^= 1;
    let (c, s) = pair(&[Qop::Privacy], &[Qop::Privacy], id, pwd).await;
    assert!(s.is_err());
    match c {
        Err(SaslTransferError::Refused { .. }) => {}
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn a_refused_token_is_reported_as_an_access_token_error() {
    let (mut id, pwd) = token();
    id[0] = 0x01;
    let (c, _s) = pair(&[Qop::Integrity], &[Qop::Integrity], id, pwd).await;
    match c {
        Err(SaslTransferError::Refused {
            message,
            access_token_error,
        }) => {
            assert!(access_token_error);
            assert!(message.contains("expired"), "{message}");
        }
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn no_common_qop_fails() {
    let (id, pwd) = token();
    let (c, s) = pair(&[Qop::Authentication], &[Qop::Privacy], id, pwd).await;
    assert!(c.is_err());
    assert!(s.is_err());
}

#[tokio::test]
async fn a_plain_op_is_not_the_magic() {
    let mut bytes: &[u8] = &[0x00, 0x1c, 0x51, 0x0a, 0, 0];
    match read_magic(&mut bytes).await {
        Err(SaslTransferError::BadMagic(m)) => assert_eq!(m, 0x001c_510a),
        other => panic!("{:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn tampered_frames_and_huge_lengths_fail_without_panic() {
    let (id, pwd) = token();
    let (c, s) = pair(&[Qop::Integrity], &[Qop::Integrity], id, pwd).await;
    let (cp, cs) = c.unwrap();
    let (sp, ss) = s.unwrap();
    // Build a wrapped frame from the client's session, flip one bit, feed the server.
    let mut frame = Vec::new();
    {
        let mut w = SaslWriter::new(&mut frame, cp.unwrap().session, None);
        w.write_all(b"some op bytes").await.unwrap();
        w.flush().await.unwrap();
    }
    let last = frame.len() - 8;
    frame[last] ^= 0x10;
    let mut r = SaslReader::new(&frame[..], sp.as_ref().unwrap().session.clone());
    let mut out = Vec::new();
    assert!(r.read_to_end(&mut out).await.is_err());
    // A length beyond the limit.
    let huge = (MAX_WRAPPED_FRAME as u32 + 1).to_be_bytes();
    let mut r = SaslReader::new(&huge[..], sp.unwrap().session);
    assert!(r.read_to_end(&mut out).await.is_err());
    drop((cs, ss));
}

const AES128: TransferCipher = TransferCipher { key_bits: 128 };

#[tokio::test]
async fn aes_ctr_is_negotiated_at_privacy_and_carries_the_stream() {
    for bits in [128, 192, 256] {
        let (id, pwd) = token();
        let server = TransferCipher { key_bits: bits };
        let (c, s) = pair_with_cipher(
            &[Qop::Privacy],
            &[Qop::Privacy],
            Some(AES128),
            Some(server),
            id,
            pwd,
        )
        .await;
        let (cp, cs) = c.unwrap();
        let (sp, ss) = s.unwrap();
        let (cpr, spr) = (cp.as_ref().unwrap(), sp.as_ref().unwrap());
        assert_eq!(cpr.cipher_suite(), Some(AES_CTR_NOPADDING));
        assert_eq!(spr.cipher_suite(), Some(AES_CTR_NOPADDING));
        // The DataNode's key length decides; the client takes what it is given.
        assert_eq!(cpr.cipher.as_ref().unwrap().read.key_bits(), bits);
        assert_eq!(cpr.cipher.as_ref().unwrap().write.key_bits(), bits);
        stream_both_ways(cp, cs, sp, ss).await;
    }
}

/// Hadoop's fallback: an offer the DataNode does not take, or no offer, leaves the
/// SASL privacy layer on both ends.
#[tokio::test]
async fn without_both_sides_privacy_stays_on_the_sasl_layer() {
    for (client, server) in [(Some(AES128), None), (None, Some(AES128))] {
        let (id, pwd) = token();
        let (c, s) =
            pair_with_cipher(&[Qop::Privacy], &[Qop::Privacy], client, server, id, pwd).await;
        let (cp, cs) = c.unwrap();
        let (sp, ss) = s.unwrap();
        assert_eq!(cp.as_ref().unwrap().cipher_suite(), None);
        assert_eq!(sp.as_ref().unwrap().cipher_suite(), None);
        assert_eq!(cp.as_ref().unwrap().qop(), Qop::Privacy);
        stream_both_ways(cp, cs, sp, ss).await;
    }
}

/// No cipher below privacy: integrity keeps its HMAC frames even if both ends set the
/// suite.
#[tokio::test]
async fn aes_is_not_negotiated_below_privacy() {
    let (id, pwd) = token();
    let (c, s) = pair_with_cipher(
        &[Qop::Privacy, Qop::Integrity],
        &[Qop::Integrity],
        Some(AES128),
        Some(AES128),
        id,
        pwd,
    )
    .await;
    let (cp, cs) = c.unwrap();
    let (sp, ss) = s.unwrap();
    assert_eq!(cp.as_ref().unwrap().qop(), Qop::Integrity);
    assert_eq!(cp.as_ref().unwrap().cipher_suite(), None);
    assert_eq!(sp.as_ref().unwrap().cipher_suite(), None);
    stream_both_ways(cp, cs, sp, ss).await;
}

#[test]
fn cipher_settings_are_read_as_hadoop_reads_them() {
    assert_eq!(
        TransferCipher::from_conf_values(None, Some("256")),
        Ok(None)
    );
    assert_eq!(TransferCipher::from_conf_values(Some(" "), None), Ok(None));
    assert_eq!(
        TransferCipher::from_conf_values(Some("AES/CTR/NoPadding"), None),
        Ok(Some(AES128))
    );
    assert_eq!(
        TransferCipher::from_conf_values(Some("AES/CTR/NoPadding"), Some("192")),
        Ok(Some(TransferCipher { key_bits: 192 }))
    );
    assert_eq!(
        TransferCipher::from_conf_values(Some("SM4/CTR/NoPadding"), None)
            .unwrap_err()
            .to_string(),
        "Invalid cipher suite, dfs.encrypt.data.transfer.cipher.suites=SM4/CTR/NoPadding"
    );
    let e = TransferCipher::from_conf_values(Some("AES/CTR/NoPadding"), Some("100")).unwrap_err();
    assert_eq!(e.key, CIPHER_KEY_BITLENGTH_KEY);
    assert!(
        e.message
            .contains("dfs.encrypt.data.transfer.cipher.key.bitlength=100"),
        "{e}"
    );
}

/// A chosen option of another suite, or without its keys, is refused by name before
/// the session is asked to unwrap anything.
#[test]
fn a_malformed_cipher_option_is_refused() {
    use hafs_security::digest_md5::DigestMd5Client;
    let mut client =
        DigestMd5Client::new("u", b"p", PROTOCOL, SERVER_NAME, &[Qop::Privacy]).unwrap();
    let wrong_suite = CipherOptionProto {
        suite: CipherSuiteProto::Sm4CtrNopadding as i32,
        ..Default::default()
    };
    let e = client_cipher(&wrong_suite, &mut client).err().unwrap();
    assert!(e.to_string().contains("unsupported cipher suite"), "{e}");
    let no_keys = offered_option();
    let e = client_cipher(&no_keys, &mut client).err().unwrap();
    assert!(e.to_string().contains("inKey is missing"), "{e}");
}
