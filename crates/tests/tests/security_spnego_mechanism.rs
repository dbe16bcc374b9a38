//! SPNEGO for HTTP (crates/security spnego.rs over gssapi.rs) against a real MIT KDC,
//! in process: the NameNode's keytab login authenticates to `HTTP/localhost`, a raw
//! Kerberos token (what Hadoop's Java authenticator may send) is accepted too, and
//! replayed, misdirected, fuzzed and oversized tokens are refused without a panic. The
//! image-transfer client refuses a server that does not prove itself.
//!
//! The MIT library reads `KRB5_CONFIG` and `KRB5RCACHEDIR` from this process's
//! environment, so the binary shares one KDC, set up once before the first GSS call.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use hafs_cluster::kdc::Kdc;
use hafs_namenode::http::client::{fetch_image, TransferError};
use hafs_namenode::http::TxidSpec;
use hafs_security::block_token::base64_encode;
use hafs_security::gssapi::{
    Credential, InitiatorSource, Mechanism, Name, NameType, SecurityContext, MUTUAL_FLAG,
};
use hafs_security::spnego::{SpnegoAcceptor, SpnegoInitiator, SpnegoRefusal};
use hafs_tests::XorShift64;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Realm {
    kdc: &'static Kdc,
    nn_keytab: PathBuf,
    http_keytab: PathBuf,
}

fn realm() -> &'static Realm {
    static REALM: OnceLock<Realm> = OnceLock::new();
    REALM.get_or_init(|| {
        let kdc = hafs_tests::process_kdc("spnego-kdc");
        let nn_keytab = kdc.add_service("nn", "localhost").unwrap();
        let http_keytab = kdc.add_service("HTTP", "localhost").unwrap();
        kdc.add_user("alice", "alice-password").unwrap();
        Realm {
            kdc,
            nn_keytab,
            http_keytab,
        }
    })
}

fn acceptor() -> SpnegoAcceptor {
    let r = realm();
    SpnegoAcceptor::new("HTTP/localhost@HAFS.TEST", &r.http_keytab).unwrap()
}

fn nn_login() -> SpnegoInitiator {
    let r = realm();
    SpnegoInitiator::new(&InitiatorSource::ClientKeytab {
        keytab: r.nn_keytab.display().to_string(),
        principal: "nn/localhost@HAFS.TEST".into(),
    })
    .unwrap()
}

fn refused(r: Result<hafs_security::spnego::Accepted, SpnegoRefusal>) -> String {
    match r {
        Err(SpnegoRefusal::Refused(m)) => m,
        other => panic!("expected a 403 refusal, got {other:?}"),
    }
}

#[test]
fn a_namenode_login_authenticates_both_ways() {
    let server = acceptor();
    let exchange = nn_login().begin("localhost").unwrap();
    let accepted = server
        .accept(Some(&exchange.authorization))
        .expect("accepted");
    assert_eq!(accepted.principal, "nn/localhost@HAFS.TEST");
    let reply = accepted
        .www_authenticate
        .expect("a mutual-authentication reply");
    assert!(reply.starts_with("Negotiate "), "{reply}");
    exchange
        .finish(Some(&reply))
        .expect("the server proved itself");

    // The same Authorization again is a replay.
    let again = nn_login().begin("localhost").unwrap();
    let header = again.authorization.clone();
    server.accept(Some(&header)).unwrap();
    let m = refused(server.accept(Some(&header)));
    assert!(m.contains("GSSException") && m.contains("replay"), "{m}");
}

#[test]
fn a_raw_kerberos_token_is_accepted_too() {
    let r = realm();
    let cred = Credential::initiator(&InitiatorSource::ClientKeytab {
        keytab: r.nn_keytab.display().to_string(),
        principal: "nn/localhost@HAFS.TEST".into(),
    })
    .unwrap();
    let target = Name::import("HTTP@localhost", NameType::HostBasedService).unwrap();
    let mut ctx =
        SecurityContext::initiator_for(Arc::new(cred), target, MUTUAL_FLAG, Mechanism::Kerberos)
            .unwrap();
    let token = ctx.step(None).unwrap().token;
    let accepted = acceptor()
        .accept(Some(&format!("Negotiate {}", base64_encode(&token))))
        .unwrap();
    assert_eq!(accepted.principal, "nn/localhost@HAFS.TEST");
}

#[test]
fn missing_misdirected_and_bad_tokens_are_refused() {
    let server = acceptor();
    assert_eq!(server.accept(None), Err(SpnegoRefusal::Required));
    assert_eq!(
        server.accept(Some("Basic aGRmczo=")),
        Err(SpnegoRefusal::Required)
    );
    assert_eq!(
        server.accept(Some("Negotiate")),
        Err(SpnegoRefusal::Required)
    );
    // A ticket for nn/localhost presented to the HTTP service cannot be decrypted.
    let r = realm();
    let alice = r.kdc.user_ccache("alice").unwrap();
    let to_nn =
        SpnegoInitiator::new(&InitiatorSource::Ccache(alice.display().to_string())).unwrap();
    let cred = Credential::initiator_for(
        &InitiatorSource::Ccache(alice.display().to_string()),
        Mechanism::Spnego,
    )
    .unwrap();
    let target = Name::import("nn/localhost@HAFS.TEST", NameType::Principal).unwrap();
    let mut ctx =
        SecurityContext::initiator_for(Arc::new(cred), target, MUTUAL_FLAG, Mechanism::Spnego)
            .unwrap();
    let wrong = ctx.step(None).unwrap().token;
    let m = refused(server.accept(Some(&format!("Negotiate {}", base64_encode(&wrong)))));
    assert!(m.contains("GSSException"), "{m}");
    // alice authenticates fine to the right service.
    let ok = to_nn.begin("localhost").unwrap();
    assert_eq!(
        server.accept(Some(&ok.authorization)).unwrap().principal,
        "alice@HAFS.TEST"
    );
    // Not base64, empty after decoding, over the limit.
    refused(server.accept(Some("Negotiate ***")));
    refused(server.accept(Some("Negotiate ====")));
    let huge = format!("Negotiate {}", "A".repeat(70 * 1024));
    assert!(refused(server.accept(Some(&huge))).contains("limit"));
}

#[test]
fn fuzzed_tokens_are_refused_without_a_panic() {
    let server = acceptor();
    let real = nn_login().begin("localhost").unwrap().authorization;
    let real = hafs_security::block_token::base64_decode(&real["Negotiate ".len()..]).unwrap();
    let mut rng = XorShift64::new(0xf022_5be6);
    let rss_before = rss_kib();
    for i in 0..3000 {
        let token: Vec<u8> = if i % 2 == 0 {
            // Bit flips and truncations of a real token reach deep into the parsers.
            let mut t = real.clone();
            let cut = 1 + (rng.next_u64() as usize % t.len());
            t.truncate(cut);
            for _ in 0..1 + rng.next_u64() % 4 {
                let at = rng.next_u64() as usize % t.len();
                t[at] ^= 1 << (rng.next_u64() % 8);
            }
            t
        } else {
            let len = 1 + (rng.next_u64() % 4096) as usize;
            (0..len).map(|_| rng.next_u64() as u8).collect()
        };
        let header = format!("Negotiate {}", base64_encode(&token));
        match server.accept(Some(&header)) {
            Err(SpnegoRefusal::Refused(_)) => {}
            other => panic!("fuzz case {i} was not refused: {other:?}"),
        }
    }
    // Every refused context is released: 3000 of them leave the process about as
    // large as before (a leak of one token each would show as megabytes).
    let grew = rss_kib().saturating_sub(rss_before);
    assert!(grew < 32 * 1024, "resident set grew by {grew} KiB");
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// A server that answers 200 with an image's headers but no Negotiate reply: the
/// client must not take the image.
#[test]
fn the_client_refuses_a_server_that_does_not_prove_itself() {
    let r = realm();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 65536];
                    let _ = s.read(&mut buf).await;
                    let body = b"not an image";
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Image-Txid: 1\r\n\
                         X-Image-Checksum: crc32c:00000000\r\nX-Cluster-Id: c\r\n\
                         X-Namespace-Id: 1\r\nX-Block-Pool-Id: b\r\nX-Layout-Version: -1\r\n\
                         X-Ctime: 0\r\nX-Last-Txid: 1\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = s.write_all(head.as_bytes()).await;
                    let _ = s.write_all(body).await;
                });
            }
        });
        let dest = r.kdc.dir().join("rogue-image");
        let login = nn_login();
        let got = fetch_image(
            &format!("localhost:{port}"),
            TxidSpec::Latest,
            &dest,
            Duration::from_secs(10),
            Some(&login),
        )
        .await;
        match got {
            Err(TransferError::Protocol { reason, .. }) => assert!(
                reason.contains("did not authenticate itself as HTTP/localhost"),
                "{reason}"
            ),
            other => panic!("{other:?}"),
        }
        assert!(!dest.exists());
    });
}
