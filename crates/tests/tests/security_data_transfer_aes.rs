//! AES/CTR on the data path (`dfs.encrypt.data.transfer.cipher.suites=AES/CTR/NoPadding`
//! with `dfs.data.transfer.protection=privacy`): after the DIGEST-MD5 handshake the
//! DataNode hands out AES keys and the stream is raw AES-CTR, in both directions and on
//! every data connection — client to DataNode (read, write, checksum) and DataNode to
//! DataNode (the write pipeline). The real clients (Java `hadoop fs` 3.5.0,
//! hdfs-native, `hafs dfs`) against a Kerberos cluster, bytes compared; every
//! DataNode's log shows what each connection negotiated. A tap on a DataNode's port
//! sees no plaintext where the `authentication` control does. A client that offers AES
//! to DataNodes without the suite falls back to the SASL privacy layer, as Hadoop does.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use hafs_datatransfer::sasl::{self, TransferCipher};
use hafs_datatransfer::{read_op_response, write_op, OpReadBlockProto, OpRequest, Status};
use hafs_proto::hdfs::{BaseHeaderProto, ClientOperationHeaderProto, LocatedBlockProto};
use hafs_security::sasl::Qop;
use hafs_tests::{hafs_dfs, java_fs, test_bytes, MiniCluster, TEST_BLOCK_SIZE};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpStream};

const SUITE: &str = "AES/CTR/NoPadding";
const SUITES_KEY: &str = "dfs.encrypt.data.transfer.cipher.suites";
/// DataNodes log each connection's negotiated protection at debug.
const NEGOTIATED: &str = "data transfer protection negotiated";
const DN_DEBUG: &str = "info,hafs_datanode::xceiver=debug";

/// A Kerberos cluster at privacy (RPC and data path) with 3 DataNodes (replication 3,
/// so every write crosses the pipeline), the suite set on every daemon and client
/// when `aes`.
fn privacy_cluster(label: &str, aes: bool) -> MiniCluster {
    let mut b = MiniCluster::builder()
        .label(label)
        .kerberos("privacy")
        .datanodes(3)
        .daemon_env("HAFS_LOG", DN_DEBUG);
    if aes {
        b = b.conf(SUITES_KEY, SUITE);
    }
    let c = b.start();
    let hdfs = c.as_user("hdfs");
    java_fs(&hdfs, &["-mkdir", "-p", "/tmp"]).ok();
    java_fs(&hdfs, &["-chmod", "1777", "/tmp"]).ok();
    c
}

/// Every handshake line of every DataNode's log: (lines, of which with AES).
fn negotiated(c: &MiniCluster) -> Vec<(usize, usize, usize)> {
    (0..c.datanode_count())
        .map(|i| {
            let log = c.datanode_log(i);
            let lines: Vec<&str> = log.lines().filter(|l| l.contains(NEGOTIATED)).collect();
            let aes = lines.iter().filter(|l| l.contains(SUITE)).count();
            let privacy = lines.iter().filter(|l| l.contains("privacy")).count();
            (lines.len(), aes, privacy)
        })
        .collect()
}

fn checksum_of(out: &str) -> String {
    out.split_whitespace()
        .last()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn java_hdfs_native_and_hafs_move_bytes_over_aes_ctr_on_every_connection() {
    let c = privacy_cluster("aes-clients", true);
    let block = TEST_BLOCK_SIZE as usize;
    let sizes = [0, 1, 1024 * 1024 + 1, 3 * block + block / 2 + 7];
    for (i, &len) in sizes.iter().enumerate() {
        let data = test_bytes(40 + i as u64, len);
        // Java writes (client → DataNode → DataNode → DataNode), everyone reads.
        let path = format!("/tmp/java-{len}");
        put_with_java(&c, &path, &data);
        assert_same_bytes(&get_with_java(&c, &path), &data, "java -get");
        assert_same_bytes(&get_with_native(&c, &path), &data, "hdfs-native read");
        assert_same_bytes(&get_with_hafs(&c, &path), &data, "hafs -get");
        // hdfs-native and hafs write their own copies; Java reads them back.
        let native = format!("/tmp/native-{len}");
        put_with_native(&c, &native, &data);
        assert_same_bytes(
            &get_with_java(&c, &native),
            &data,
            "java -get of hdfs-native's",
        );
        let ours = format!("/tmp/hafs-{len}");
        put_with_hafs(&c, &ours, &data);
        assert_same_bytes(&get_with_java(&c, &ours), &data, "java -get of hafs's");
        assert_same_bytes(
            &get_with_native(&c, &ours),
            &data,
            "hdfs-native read of hafs's",
        );
    }
    // BLOCK_CHECKSUM over AES: Java and hafs agree on the multi-block files.
    let big = sizes[3];
    for path in [format!("/tmp/java-{big}"), format!("/tmp/hafs-{big}")] {
        let java = java_fs(&c, &["-checksum", &path]).ok();
        let ours = hafs_dfs(&c, &["-checksum", &path]).ok();
        assert!(java.stdout.contains("MD5-of-"), "{java}");
        assert_eq!(
            checksum_of(&java.stdout),
            checksum_of(&ours.stdout),
            "{java}\n{ours}"
        );
    }
    // Every connection every DataNode accepted — clients and upstream DataNodes —
    // negotiated privacy with AES; the pipeline put connections on all three.
    let per_dn = negotiated(&c);
    for (i, &(lines, aes, privacy)) in per_dn.iter().enumerate() {
        assert!(lines > 0, "DataNode {i} logged no handshake: {per_dn:?}");
        assert_eq!(
            aes, lines,
            "DataNode {i}: a connection without AES: {per_dn:?}"
        );
        assert_eq!(privacy, lines, "DataNode {i}: {per_dn:?}");
    }
}

/// Java's `-cat` bytes, exactly (its stdout is captured as text by the harness, so
/// the payload is text).
#[test]
fn java_cat_streams_a_multi_block_text_file_over_aes() {
    let c = privacy_cluster("aes-cat", true);
    let text: String = (0..(2 * TEST_BLOCK_SIZE as usize + 12_345))
        .map(|i| (b'a' + ((i * 7 + i / 251) % 26) as u8) as char)
        .collect();
    put_with_java(&c, "/tmp/text", text.as_bytes());
    let cat = java_fs(&c, &["-cat", "/tmp/text"]).ok();
    assert!(
        cat.stdout == text,
        "java -cat differs ({} bytes)",
        cat.stdout.len()
    );
    put_with_java(&c, "/tmp/one", b"z");
    assert_eq!(java_fs(&c, &["-cat", "/tmp/one"]).ok().stdout, "z");
    let per_dn = negotiated(&c);
    assert!(
        per_dn.iter().all(|&(l, a, _)| l > 0 && a == l),
        "{per_dn:?}"
    );
}

/// Hadoop's rule for a mismatch: the DataNode picks no cipher for a client that offers
/// one it does not have, and both stay on SASL privacy; nothing fails.
#[test]
fn clients_offering_aes_to_datanodes_without_it_fall_back_to_sasl_privacy() {
    let c = privacy_cluster("aes-fallback", false);
    let offer = format!("-D{SUITES_KEY}={SUITE}");
    let data = test_bytes(77, TEST_BLOCK_SIZE as usize + 4321);
    let local = write_scratch(&c, "fallback", &data);
    java_fs(
        &c,
        &[&offer, "-put", local.to_str().unwrap(), "/tmp/fallback"],
    )
    .ok();
    let back = scratch(&c, "fallback-java");
    java_fs(
        &c,
        &[&offer, "-get", "/tmp/fallback", back.to_str().unwrap()],
    )
    .ok();
    assert_same_bytes(&std::fs::read(&back).unwrap(), &data, "java -get");
    let ours = scratch(&c, "fallback-hafs");
    hafs_dfs(
        &c,
        &[&offer, "-get", "/tmp/fallback", ours.to_str().unwrap()],
    )
    .ok();
    assert_same_bytes(&std::fs::read(&ours).unwrap(), &data, "hafs -get");
    // hdfs-native always offers AES at privacy.
    assert_same_bytes(&get_with_native(&c, "/tmp/fallback"), &data, "hdfs-native");
    let per_dn = negotiated(&c);
    for &(lines, aes, privacy) in &per_dn {
        assert_eq!(aes, 0, "{per_dn:?}");
        assert_eq!(privacy, lines, "{per_dn:?}");
    }
    assert!(per_dn.iter().any(|&(l, _, _)| l > 0), "{per_dn:?}");
    // A suite Hadoop does not know is refused by name.
    let bad = hafs_dfs(
        &c,
        &[
            "-Ddfs.encrypt.data.transfer.cipher.suites=SM4/CTR/NoPadding",
            "-cat",
            "/tmp/fallback",
        ],
    );
    assert!(!bad.success(), "{bad}");
    assert!(bad.stderr.contains("Invalid cipher suite"), "{bad}");
}

// ---------------------------------------------------------------------------------
// On the wire
// ---------------------------------------------------------------------------------

/// A loopback proxy to `server` that records what the server sends, for one
/// connection.
async fn tap(server: SocketAddr) -> (SocketAddr, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let rec = seen.clone();
    tokio::spawn(async move {
        let (client, _) = listener.accept().await.unwrap();
        let upstream = TcpStream::connect(server).await.unwrap();
        let (mut cr, mut cw) = client.into_split();
        let (mut ur, mut uw) = upstream.into_split();
        tokio::spawn(async move {
            let _ = tokio::io::copy(&mut cr, &mut uw).await;
            let _ = uw.shutdown().await;
        });
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match ur.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    rec.lock().unwrap().extend_from_slice(&buf[..n]);
                    if cw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            }
        }
    });
    (addr, seen)
}

async fn first_block(c: &MiniCluster, path: &str) -> LocatedBlockProto {
    let mut conf = hafs_conf::Configuration::new();
    conf.set("fs.defaultFS", c.fs_uri());
    let client = hafs_client::DfsClient::new(&conf, None).unwrap();
    let l = client
        .get_block_locations(path, 0, 1)
        .await
        .unwrap()
        .expect("file exists");
    l.blocks.into_iter().next().expect("a block")
}

/// Reads the start of the block through a tap with the given protection and returns
/// (the plaintext the client got after the op response, the bytes the tap saw).
async fn read_through_tap(
    lb: &LocatedBlockProto,
    qop: Qop,
    cipher: Option<TransferCipher>,
) -> (Vec<u8>, Vec<u8>, Option<&'static str>) {
    let dn: SocketAddr = format!("127.0.0.1:{}", lb.locs[0].id.xfer_port)
        .parse()
        .unwrap();
    let (addr, seen) = tap(dn).await;
    let s = TcpStream::connect(addr).await.unwrap();
    let (r, w) = s.into_split();
    let mut r = BufReader::new(r);
    let mut w = BufWriter::new(w);
    let t = &lb.block_token;
    let p = sasl::client_handshake_with_cipher(
        &mut r,
        &mut w,
        &t.identifier,
        &t.password,
        &[qop],
        cipher,
    )
    .await
    .unwrap();
    let suite = p.as_ref().and_then(|p| p.cipher_suite());
    let (r, w) = sasl::protect(r, w.into_inner(), p);
    let (mut r, mut w) = (BufReader::new(r), BufWriter::new(w));
    let op = OpRequest::ReadBlock(OpReadBlockProto {
        header: ClientOperationHeaderProto {
            base_header: BaseHeaderProto {
                block: lb.b.clone(),
                token: Some(lb.block_token.clone()),
                trace_info: None,
            },
            client_name: "tap-test".into(),
        },
        offset: 0,
        len: 200_000,
        send_checksums: Some(true),
        caching_strategy: None,
    });
    write_op(&mut w, &op).await.unwrap();
    w.flush().await.unwrap();
    let resp = read_op_response(&mut r).await.unwrap();
    assert_eq!(resp.status, Status::Success as i32, "{resp:?}");
    let mut plain = vec![0u8; 150_000];
    tokio::time::timeout(Duration::from_secs(30), r.read_exact(&mut plain))
        .await
        .expect("packets within 30 s")
        .unwrap();
    drop((r, w));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let wire = seen.lock().unwrap().clone();
    (plain, wire, suite)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A tap between a client and a DataNode sees no file bytes once AES/CTR runs, while
/// the client reads them; at `authentication` (the control) the same tap sees them.
#[test]
fn a_tap_on_the_data_port_sees_no_plaintext_over_aes() {
    const MARKER: &[u8] = b"<<plaintext marker: the tap must not see this>>";
    let data: Vec<u8> = MARKER.iter().cycle().take(300_000).copied().collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for (protection, qop, cipher, visible) in [
        (
            "privacy",
            Qop::Privacy,
            Some(TransferCipher { key_bits: 256 }),
            false,
        ),
        ("authentication", Qop::Authentication, None, true),
    ] {
        // SIMPLE RPC with block tokens: the data path alone is under test.
        let c = MiniCluster::builder()
            .label(&format!("aes-tap-{protection}"))
            .datanodes(1)
            .conf("dfs.block.access.token.enable", "true")
            .conf("dfs.data.transfer.protection", protection)
            .conf(SUITES_KEY, SUITE)
            .conf("dfs.encrypt.data.transfer.cipher.key.bitlength", "256")
            .start();
        put_with_hafs(&c, "/tap/f", &data);
        let lb = rt.block_on(first_block(&c, "/tap/f"));
        let (plain, wire, suite) = rt.block_on(read_through_tap(&lb, qop, cipher));
        assert!(
            contains(&plain, MARKER),
            "{protection}: the client read no file bytes"
        );
        assert!(
            wire.len() > 100_000,
            "{protection}: the tap saw {} bytes",
            wire.len()
        );
        assert_eq!(
            contains(&wire, MARKER),
            visible,
            "{protection}: marker on the wire"
        );
        if qop == Qop::Privacy {
            assert_eq!(suite, Some(SUITE));
            assert!(
                !contains(&wire, &MARKER[..12]),
                "a piece of plaintext leaked"
            );
        }
    }
}
