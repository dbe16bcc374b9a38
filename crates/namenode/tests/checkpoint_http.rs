//! The NameNode HTTP server and image transfer: bad input never hurts it, images round
//! trip byte-exact between two servers, and uploads that do not verify (bad checksum,
//! damaged bytes, other namespace, not newer) are refused with a 4xx and leave nothing.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use hafs_journal::test_util::TempDir;
use hafs_journal::{StorageInfo, StorageType};
use hafs_namenode::fsimage;
use hafs_namenode::http::client::{fetch_image, upload_image, upload_with_checksum, TransferError};
use hafs_namenode::http::image_store::verify_file;
use hafs_namenode::http::{HttpBackend, HttpConfig, HttpServer, ImageStore, NodeStatus, TxidSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const T: Duration = Duration::from_secs(10);

struct Fake {
    info: StorageInfo,
    received: Mutex<Vec<(u64, Option<u64>)>>,
}

#[async_trait]
impl HttpBackend for Fake {
    fn status(&self) -> NodeStatus {
        NodeStatus {
            state: "standby".into(),
            last_txid: 1234,
        }
    }
    fn storage_info(&self) -> StorageInfo {
        self.info.clone()
    }
    async fn image_received(&self, txid: u64, oldest: Option<u64>) {
        self.received.lock().unwrap().push((txid, oldest));
    }
}

fn info() -> StorageInfo {
    StorageInfo {
        layout_version: -1,
        namespace_id: 77,
        cluster_id: "CID-http-test".into(),
        block_pool_id: "BP-77-127.0.0.1-5".into(),
        ctime: 0,
        storage_type: StorageType::NameNode,
    }
}

struct Node {
    _tmp: TempDir,
    dirs: Vec<PathBuf>,
    backend: Arc<Fake>,
    server: HttpServer,
}

impl Node {
    fn addr(&self) -> String {
        self.server.local_addr().to_string()
    }
}

async fn node(name: &str, retained: usize, head_timeout: Duration) -> Node {
    let tmp = TempDir::new(name);
    let dirs: Vec<PathBuf> = (0..2)
        .map(|i| {
            let d = tmp.path().join(format!("name{i}")).join("current");
            std::fs::create_dir_all(&d).unwrap();
            d
        })
        .collect();
    let backend = Arc::new(Fake {
        info: info(),
        received: Mutex::new(Vec::new()),
    });
    let mut cfg = HttpConfig::new("127.0.0.1:0".parse().unwrap());
    cfg.head_timeout = head_timeout;
    cfg.io_timeout = Duration::from_secs(2);
    let server = HttpServer::start(
        cfg,
        ImageStore::new(dirs.clone(), retained),
        backend.clone(),
    )
    .await
    .unwrap();
    Node {
        _tmp: tmp,
        dirs,
        backend,
        server,
    }
}

fn image_bytes(txid: u64, size: usize) -> Vec<u8> {
    let body: Vec<u8> = (0..size).map(|i| (i * 31 + txid as usize) as u8).collect();
    fsimage::encode(txid, &body)
}

fn put_image_file(dir: &Path, txid: u64, size: usize) -> PathBuf {
    fsimage::save(dir, txid, &image_bytes(txid, size)).unwrap()
}

/// Sends raw bytes, returns the server's first response: its head and its body (by
/// Content-Length, else until the server closes); the connection may be kept alive.
async fn raw(addr: &str, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let _ = s.write_all(bytes).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(T, async {
        let mut buf = [0u8; 8192];
        loop {
            if let Some(end) = out.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&out[..end]).to_ascii_lowercase();
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok());
                if len.is_some_and(|n| out.len() >= end + 4 + n) {
                    return;
                }
            }
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    String::from_utf8_lossy(&out).to_string()
}

fn status_of(resp: &str) -> u16 {
    resp.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

async fn assert_alive(addr: &str) {
    let r = raw(addr, b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(status_of(&r), 200, "{r}");
    assert!(
        r.contains("state: standby") && r.contains("last txid: 1234"),
        "{r}"
    );
}

#[tokio::test]
async fn bad_input_gets_4xx_and_never_hurts_the_server() {
    let n = node("http-bad", 2, Duration::from_millis(500)).await;
    let a = n.addr();
    assert_alive(&a).await;
    // Malformed heads: refused by hyper's parser, before any handler runs.
    let malformed: Vec<(Vec<u8>, u16)> = vec![
        (b"garbage\r\n\r\n".to_vec(), 400),
        (b"GET / HTTP/9.9\r\n\r\n".to_vec(), 400),
        (b"GET / HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 2\r\n\r\n".to_vec(), 400),
        (b"PUT /imagetransfer?putimage=1&txid=5&checksum=crc32c:00000000 HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n".to_vec(), 400),
        (b"GET /\xff\xfe HTTP/1.1\r\n\r\n".to_vec(), 400),
    ];
    for (req, want) in malformed {
        let r = raw(&a, &req).await;
        assert_eq!(
            status_of(&r),
            want,
            "{:?} -> {r}",
            String::from_utf8_lossy(&req)
        );
    }
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (b"GET /nope HTTP/1.1\r\n\r\n".to_vec(), 404),
        (b"DELETE /imagetransfer HTTP/1.1\r\n\r\n".to_vec(), 405),
        (b"GET /imagetransfer HTTP/1.1\r\n\r\n".to_vec(), 400),
        (b"GET /imagetransfer?getimage=1&txid=abc HTTP/1.1\r\n\r\n".to_vec(), 400),
        (b"GET /imagetransfer?getimage=1&txid=latest HTTP/1.1\r\n\r\n".to_vec(), 404),
        (b"GET /imagetransfer?getimage=1&txid=5 HTTP/1.1\r\n\r\n".to_vec(), 404),
        (b"PUT /imagetransfer?putimage=1&txid=5 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc".to_vec(), 400),
        (b"PUT /imagetransfer?putimage=1&txid=5&checksum=crc32c:00000000&storageinfo=x HTTP/1.1\r\n\r\n".to_vec(), 411),
        (b"PUT /imagetransfer?putimage=1&txid=5&checksum=crc32c:00000000 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(), 400),
        (b"PUT /imagetransfer?putimage=1&txid=5&checksum=crc32c:00000000&storageinfo=x HTTP/1.1\r\nContent-Length: 99999999999999\r\n\r\n".to_vec(), 413),
        (b"GET /%zz HTTP/1.1\r\n\r\n".to_vec(), 400),
    ];
    for (req, want) in cases {
        let r = raw(&a, &req).await;
        assert_eq!(
            status_of(&r),
            want,
            "{:?} -> {r}",
            String::from_utf8_lossy(&req)
        );
        assert!(r.contains("Content-Type: text/plain"), "{r}");
    }
    // A head that never ends: 431, not unbounded memory.
    let mut huge = b"GET / HTTP/1.1\r\n".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 64 * 1024));
    assert_eq!(status_of(&raw(&a, &huge).await), 431);
    // Too many headers: 431 too.
    let mut many = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..100 {
        many.extend(format!("h{i}: v\r\n").as_bytes());
    }
    many.extend(b"\r\n");
    assert_eq!(status_of(&raw(&a, &many).await), 431);
    // A client that sends half a head and stalls is disconnected once the head
    // timeout passes (hyper closes without an answer).
    let started = std::time::Instant::now();
    let r = raw(&a, b"GET / HTTP/1.1\r\nHost").await;
    assert_eq!(r, "", "{r}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // Connect and close at once, many times.
    for _ in 0..50 {
        drop(TcpStream::connect(&a).await.unwrap());
    }
    // An upload that stops half-way leaves no file behind.
    let img = image_bytes(9, 10_000);
    let v = hafs_namenode::http::image_store::format_checksum(crc_of(&img));
    let head = format!(
        "PUT /imagetransfer?putimage=1&txid=9&checksum={v}&storageinfo={} HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
        hafs_http::query::percent_encode(&hafs_namenode::http::server::storage_info_string(&info())),
        img.len()
    );
    let mut s = TcpStream::connect(&a).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&img[..5000]).await.unwrap();
    drop(s);
    tokio::time::sleep(Duration::from_millis(300)).await;
    for d in &n.dirs {
        let names: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(
            names.is_empty(),
            "left behind in {}: {names:?}",
            d.display()
        );
    }
    assert_alive(&a).await;
}

fn crc_of(img: &[u8]) -> u32 {
    u32::from_be_bytes(img[img.len() - 4..].try_into().unwrap())
}

#[tokio::test]
async fn images_round_trip_between_two_servers_and_old_ones_are_purged() {
    let a = node("http-a", 2, T).await;
    let b = node("http-b", 2, T).await;
    put_image_file(&a.dirs[0], 10, 100);
    put_image_file(&a.dirs[1], 20, 300_000);
    let tmp = TempDir::new("http-dl");
    // latest = 20, with the namespace identity in the headers.
    let dest = tmp.path().join("dl");
    let got = fetch_image(&a.addr(), TxidSpec::Latest, &dest, T, None)
        .await
        .unwrap();
    assert_eq!(got.meta.txid, 20);
    assert_eq!(got.info, info());
    assert_eq!(got.last_txid, 1234);
    assert_eq!(std::fs::read(&dest).unwrap(), image_bytes(20, 300_000));
    // An exact txid.
    let dest10 = tmp.path().join("dl10");
    let got10 = fetch_image(&a.addr(), TxidSpec::Exactly(10), &dest10, T, None)
        .await
        .unwrap();
    assert_eq!(got10.meta.txid, 10);
    assert_eq!(std::fs::read(&dest10).unwrap(), image_bytes(10, 100));
    // A missing txid: 404, and no file left.
    let dest11 = tmp.path().join("dl11");
    match fetch_image(&a.addr(), TxidSpec::Exactly(11), &dest11, T, None).await {
        Err(TransferError::Refused { status: 404, .. }) => {}
        other => panic!("{other:?}"),
    }
    assert!(!dest11.exists());
    // Upload 10 then 20 to b: both land in every dir.
    upload_image(&b.addr(), &dest10, got10.meta, &info(), T, None)
        .await
        .unwrap();
    upload_image(&b.addr(), &dest, got.meta, &info(), T, None)
        .await
        .unwrap();
    for d in &b.dirs {
        assert_eq!(
            std::fs::read(d.join(fsimage::file_name(20))).unwrap(),
            image_bytes(20, 300_000)
        );
        assert_eq!(
            verify_file(&d.join(fsimage::file_name(10))).unwrap().txid,
            10
        );
    }
    // A third, newer image: retention 2 purges txid 10 everywhere.
    let p30 = put_image_file(tmp.path(), 30, 5000);
    let m30 = verify_file(&p30).unwrap();
    upload_image(&b.addr(), &p30, m30, &info(), T, None)
        .await
        .unwrap();
    for d in &b.dirs {
        let mut names: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        assert_eq!(names, vec![fsimage::file_name(20), fsimage::file_name(30)]);
    }
    assert_eq!(
        *b.backend.received.lock().unwrap(),
        vec![(10, Some(10)), (20, Some(10)), (30, Some(20))]
    );
    // And b serves what it received.
    let back = tmp.path().join("back");
    let g = fetch_image(&b.addr(), TxidSpec::Latest, &back, T, None)
        .await
        .unwrap();
    assert_eq!(g.meta.txid, 30);
    assert_eq!(std::fs::read(&back).unwrap(), image_bytes(30, 5000));
}

#[tokio::test]
async fn uploads_that_do_not_verify_are_refused_and_leave_nothing() {
    let b = node("http-refuse", 2, T).await;
    let tmp = TempDir::new("http-refuse-src");
    let p = put_image_file(tmp.path(), 50, 20_000);
    let meta = verify_file(&p).unwrap();
    let refused = |r: Result<(), TransferError>| match r {
        Err(TransferError::Refused {
            status, message, ..
        }) => (status, message),
        other => panic!("expected a refusal, got {other:?}"),
    };
    // Wrong declared checksum.
    let (status, msg) = refused(
        upload_with_checksum(&b.addr(), &p, meta, meta.checksum ^ 1, &info(), T, None).await,
    );
    assert_eq!(status, 400);
    assert!(msg.contains("checksum mismatch"), "{msg}");
    // Bytes damaged in the file, declared checksum that of the good image.
    let mut bad = std::fs::read(&p).unwrap();
    bad[1000] ^= 0x10;
    let bad_path = tmp.path().join("bad");
    std::fs::write(&bad_path, &bad).unwrap();
    let (status, msg) = refused(upload_image(&b.addr(), &bad_path, meta, &info(), T, None).await);
    assert_eq!(status, 400);
    assert!(msg.contains("does not verify"), "{msg}");
    // Another namespace.
    let mut other = info();
    other.namespace_id = 78;
    let (status, _) = refused(upload_image(&b.addr(), &p, meta, &other, T, None).await);
    assert_eq!(status, 403);
    // Nothing was installed, no temp file remains.
    for d in &b.dirs {
        assert_eq!(std::fs::read_dir(d).unwrap().count(), 0, "{}", d.display());
    }
    assert!(b.backend.received.lock().unwrap().is_empty());
    // The good one is accepted; offering it (or an older one) again is 409.
    upload_image(&b.addr(), &p, meta, &info(), T, None)
        .await
        .unwrap();
    let (status, msg) = refused(upload_image(&b.addr(), &p, meta, &info(), T, None).await);
    assert_eq!(status, 409);
    assert!(msg.contains("not newer"), "{msg}");
    let p40 = put_image_file(tmp.path(), 40, 100);
    let (status, _) = refused(
        upload_image(
            &b.addr(),
            &p40,
            verify_file(&p40).unwrap(),
            &info(),
            T,
            None,
        )
        .await,
    );
    assert_eq!(status, 409);
    assert_eq!(*b.backend.received.lock().unwrap(), vec![(50, Some(50))]);
}

#[tokio::test]
async fn a_corrupt_newest_image_is_not_served_an_older_one_is() {
    let a = node("http-corrupt", 2, T).await;
    put_image_file(&a.dirs[0], 5, 1000);
    let p = put_image_file(&a.dirs[0], 6, 1000);
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&p, bytes).unwrap();
    let tmp = TempDir::new("http-corrupt-dl");
    let got = fetch_image(&a.addr(), TxidSpec::Latest, &tmp.path().join("x"), T, None)
        .await
        .unwrap();
    assert_eq!(got.meta.txid, 5);
    match fetch_image(
        &a.addr(),
        TxidSpec::Exactly(6),
        &tmp.path().join("y"),
        T,
        None,
    )
    .await
    {
        Err(TransferError::Refused {
            status: 404,
            message,
            ..
        }) => {
            assert!(message.contains("checksum"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

/// A server that answers every request with a 307 to `location`, counting requests.
async fn redirector(location: String) -> (String, Arc<Mutex<usize>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let hits = Arc::new(Mutex::new(0usize));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            *counter.lock().unwrap() += 1;
            let location = location.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let _ = s.read(&mut buf).await;
                let resp = format!(
                    "HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}\r\n\
                     Content-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = s.write_all(resp.as_bytes()).await;
            });
        }
    });
    (addr, hits)
}

/// CVE-2020-9492: the image-transfer client never follows a redirect (its credentials
/// and the image go to the configured address only).
#[tokio::test]
async fn the_client_follows_no_redirect() {
    let (elsewhere, elsewhere_hits) = redirector("http://127.0.0.1:1/".into()).await;
    let (addr, hits) = redirector(format!(
        "http://{elsewhere}/imagetransfer?getimage=1&txid=latest"
    ))
    .await;
    let tmp = TempDir::new("http-redirect");
    let dest = tmp.path().join("image");
    match fetch_image(&addr, TxidSpec::Latest, &dest, T, None).await {
        Err(TransferError::Refused {
            status: 307,
            message,
            ..
        }) => assert!(message.contains("not followed"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert!(!dest.exists(), "nothing is kept from a redirect");
    std::fs::create_dir_all(tmp.path().join("src")).unwrap();
    let p = put_image_file(&tmp.path().join("src"), 7, 1000);
    let meta = verify_file(&p).unwrap();
    match upload_image(&addr, &p, meta, &info(), T, None).await {
        Err(TransferError::Refused { status: 307, .. }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(*hits.lock().unwrap(), 2, "one request per transfer");
    assert_eq!(
        *elsewhere_hits.lock().unwrap(),
        0,
        "the redirect target was never contacted"
    );
}

/// Path traversal in image-transfer parameters (the CVE-2018-8009 class): txids are
/// numbers, so no file name is ever built from what a request says; such requests are
/// refused and nothing appears outside the name dirs.
#[tokio::test]
async fn path_traversal_in_transfer_parameters_is_refused() {
    let n = node("http-traversal", 2, T).await;
    let a = n.addr();
    put_image_file(&n.dirs[0], 5, 1000);
    let si = hafs_http::query::percent_encode(&hafs_namenode::http::server::storage_info_string(
        &info(),
    ));
    let mut cases: Vec<(String, u16)> = Vec::new();
    for txid in [
        "../../../../tmp/hafs-pwned",
        "%2e%2e%2f%2e%2e%2fhafs-pwned",
        "5/../../hafs-pwned",
        "-1",
        "5%00",
        "0x5",
    ] {
        cases.push((
            format!("GET /imagetransfer?getimage=1&txid={txid} HTTP/1.1\r\n\r\n"),
            400,
        ));
        cases.push((
            format!(
                "PUT /imagetransfer?putimage=1&txid={txid}&checksum=crc32c:00000000&storageinfo={si} \
                 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
            ),
            400,
        ));
    }
    cases.push(("GET /../../etc/passwd HTTP/1.1\r\n\r\n".into(), 404));
    cases.push((
        "GET /imagetransfer/../../fsimage HTTP/1.1\r\n\r\n".into(),
        404,
    ));
    cases.push(("GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\n\r\n".into(), 404));
    for (req, want) in &cases {
        let r = raw(&a, req.as_bytes()).await;
        assert_eq!(status_of(&r), *want, "{req:?} -> {r}");
    }
    // Only the image put there, in the name dir; nothing anywhere else.
    let mut files = Vec::new();
    let mut stack = vec![n._tmp.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                files.push(e.path());
            }
        }
    }
    for f in &files {
        assert!(f.starts_with(&n.dirs[0]), "unexpected file {}", f.display());
    }
    assert!(!Path::new("/tmp/hafs-pwned").exists());
    assert_alive(&a).await;
}
