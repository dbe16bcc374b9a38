//! The shared HTTP server under real sockets: chunked and `Expect: 100-continue`
//! uploads, keep-alive, a body that never ends (413, and the server keeps serving), a
//! head that never ends (431), a client that never reads, and a connection flood
//! answered 200 or 503, never left hanging.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hafs_http::response::{self, Response};
use hafs_http::{Bean, Endpoints, HttpConfig, HttpServer, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Echoes the length of what was uploaded (at most 1 MiB), answers `/slow` after a
/// pause.
struct Echo;

#[async_trait]
impl Endpoints for Echo {
    async fn serve(&self, mut req: Request) -> Response {
        match req.path.as_str() {
            "/upload" => match req.read_body(1 << 20).await {
                Ok(b) => response::text(200, format!("got {}\n", b.len())),
                Err(e) => response::text(e.status(), format!("{e}\n")),
            },
            "/slow" => {
                tokio::time::sleep(Duration::from_millis(300)).await;
                response::text(200, "slow\n")
            }
            "/big" => response::text(200, "x".repeat(32 << 20)),
            other => response::not_found(other),
        }
    }

    fn beans(&self) -> Vec<Bean> {
        vec![Bean::new("Hadoop:service=Test,name=Echo", "Echo").attr("Answer", 42)]
    }
}

async fn server(max_connections: usize) -> HttpServer {
    let mut c = HttpConfig::new("127.0.0.1:0".parse().unwrap(), "Test");
    c.max_connections = max_connections;
    c.head_timeout = Duration::from_secs(2);
    c.io_timeout = Duration::from_secs(2);
    HttpServer::start(c, Arc::new(Echo)).await.unwrap()
}

/// Reads one response (head and a Content-Length body) from `s`.
async fn response(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(end) = out.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&out[..end]).to_ascii_lowercase();
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if out.len() >= end + 4 + len {
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
    assert!(
        read.is_ok(),
        "no complete answer within 10 s: {:?}",
        String::from_utf8_lossy(&out)
    );
    String::from_utf8_lossy(&out).to_string()
}

fn status(r: &str) -> u16 {
    r.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

async fn alive(addr: SocketAddr) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /jmx?qry=Hadoop:service=Test,name=* HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let r = response(&mut s).await;
    assert_eq!(status(&r), 200, "{r}");
    assert!(r.contains("\"Answer\" : 42"), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_and_continue_uploads_on_a_kept_alive_connection() {
    let srv = server(8).await;
    let a = srv.local_addr();
    let mut s = TcpStream::connect(a).await.unwrap();
    // Expect: 100-continue: the server asks for the body before it is sent.
    s.write_all(
        b"PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
    )
    .await
    .unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("a 100 Continue")
        .unwrap();
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 100 Continue"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    s.write_all(b"hello").await.unwrap();
    let r = response(&mut s).await;
    assert_eq!(status(&r), 200, "{r}");
    assert!(r.ends_with("got 5\n"), "{r}");
    // The same connection: a chunked upload.
    s.write_all(
        b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n",
    )
    .await
    .unwrap();
    let r = response(&mut s).await;
    assert!(r.ends_with("got 7\n"), "{r}");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_bodies_get_413_and_endless_heads_431() {
    let srv = server(8).await;
    let a = srv.local_addr();
    // A chunked body that never ends: refused once past the handler's 1 MiB.
    let mut s = TcpStream::connect(a).await.unwrap();
    s.write_all(b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        .await
        .unwrap();
    let (mut rd, mut wr) = s.into_split();
    let writer = tokio::spawn(async move {
        let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "z".repeat(64 * 1024));
        // Bounded: 64 MiB at most, far past the limit.
        for _ in 0..1024 {
            if wr.write_all(chunk.as_bytes()).await.is_err() {
                break;
            }
        }
    });
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while !out.windows(4).any(|w| w == b"\r\n\r\n") {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let r = String::from_utf8_lossy(&out).to_string();
    assert_eq!(status(&r), 413, "{r}");
    writer.abort();
    // A declared length over the limit: 413 before any byte is read.
    let mut s = TcpStream::connect(a).await.unwrap();
    s.write_all(b"PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(status(&response(&mut s).await), 413);
    // A head that never ends: 431.
    let mut s = TcpStream::connect(a).await.unwrap();
    let mut huge = b"GET / HTTP/1.1\r\nX-Long: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 70 * 1024));
    let _ = s.write_all(&huge).await;
    assert_eq!(status(&response(&mut s).await), 431);
    alive(a).await;
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_gets_answers_or_503_and_a_client_that_never_reads_is_dropped() {
    let srv = server(16).await;
    let a = srv.local_addr();
    let mut tasks = Vec::new();
    for _ in 0..200 {
        tasks.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(a).await.unwrap();
            s.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            status(&response(&mut s).await)
        }));
    }
    let mut ok = 0;
    let mut busy = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => ok += 1,
            503 => busy += 1,
            other => panic!("status {other}"),
        }
    }
    assert_eq!(ok + busy, 200);
    assert!(ok >= 16 && busy > 0, "ok {ok} busy {busy}");
    // A client asks for 32 MiB and never reads: its connection is closed after the
    // write timeout, and its slot comes back.
    let mut idle = Vec::new();
    for _ in 0..16 {
        let mut s = TcpStream::connect(a).await.unwrap();
        s.write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        idle.push(s);
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    alive(a).await;
    drop(idle);
    srv.stop().await;
}
