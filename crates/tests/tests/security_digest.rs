//! hafs's DIGEST-MD5 (hafs-security) against the JDK's own (`com.sun.security.sasl.digest`,
//! what Hadoop's IPC and data-transfer code drive), both directions, at every quality of
//! protection, with the service names Hadoop uses: protocol "" / server "default" for IPC
//! and "hdfs" / "0" for data transfer.
//!
//! The Java side is crates/tests/java/HafsDigestPeer.java, compiled here with javac and
//! cached under $HAFS_CACHE by the source's hash. It speaks over stdin/stdout with
//! length-prefixed tokens; after the handshake the client wraps a run of messages and the
//! server answers each with its bytes reversed, and both sides check what they unwrap.

use std::io::{BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hafs_security::digest_md5::{DigestMd5Client, DigestMd5Server, PasswordLookup};
use hafs_security::sasl::{Qop, SaslClientSession, SaslError, SaslServerSession, SaslStep};

/// A Hadoop-shaped credential: base64 of a token identifier and of its password.
const USER: &str = "AAZhbGljZUBIQUZTLlRFU1QEaGRmcwCKAZNl8fGKAZOKAn0BAg==";
const PASSWORD: &str = "q8Jm0aT1xXhQGq0R6xP2l7kzR1c=";
/// Messages each way per session at integrity and privacy.
const MESSAGES: usize = 40;
/// A Java peer that takes longer than this is hung; it is killed and the test fails.
const PEER_TIMEOUT: Duration = Duration::from_secs(120);
/// The largest frame accepted from the Java peer.
const MAX_FRAME: usize = 1 << 20;

/// IPC's (protocol, server name), then data transfer's.
const SERVICES: [(&str, &str); 2] = [("", "default"), ("hdfs", "0")];

/// The directory holding HafsDigestPeer.class (compiled once per source text).
fn compiled_peer() -> PathBuf {
    hafs_tests::compiled_java_class("HafsDigestPeer")
}

/// The message both sides build for index `i` (HafsDigestPeer.message).
fn message(i: usize) -> Vec<u8> {
    let len = 1 + (i * 997) % 4999;
    (0..len).map(|j| (i + j * 31) as u8).collect()
}

fn reversed(b: &[u8]) -> Vec<u8> {
    b.iter().rev().copied().collect()
}

/// One running HafsDigestPeer.
struct JavaPeer {
    child: Arc<Mutex<Child>>,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    done: Arc<AtomicBool>,
}

impl JavaPeer {
    fn start(role: &str, qop: &str, service: (&str, &str), password: &str) -> JavaPeer {
        let classes = compiled_peer();
        let mut cmd = Command::new("java");
        cmd.args(["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp"])
            .arg(&classes)
            .arg("HafsDigestPeer")
            .args([role, qop, service.0, service.1, USER, password])
            .arg(MESSAGES.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .expect("start java (is a JDK installed? scripts/test-deps.sh)");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let child = Arc::new(Mutex::new(child));
        let done = Arc::new(AtomicBool::new(false));
        // A hung peer would block a read forever: kill it after the timeout instead.
        let (c, d) = (child.clone(), done.clone());
        std::thread::spawn(move || {
            let start = Instant::now();
            while !d.load(Ordering::Relaxed) {
                if start.elapsed() > PEER_TIMEOUT {
                    let _ = c.lock().unwrap().kill();
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        JavaPeer {
            child,
            stdin,
            stdout,
            done,
        }
    }

    fn send(&mut self, token: &[u8]) {
        let len = u32::try_from(token.len()).unwrap();
        // A peer that already quit shows up at the next recv, with its stderr.
        let _ = self.stdin.write_all(&len.to_be_bytes());
        let _ = self.stdin.write_all(token);
        let _ = self.stdin.flush();
    }

    /// The next frame, or None when the peer closed its end (it failed or finished).
    fn recv(&mut self) -> Option<Vec<u8>> {
        let mut len = [0u8; 4];
        self.stdout.read_exact(&mut len).ok()?;
        let len = u32::from_be_bytes(len) as usize;
        assert!(len <= MAX_FRAME, "frame of {len} bytes from the Java peer");
        let mut b = vec![0u8; len];
        self.stdout.read_exact(&mut b).ok()?;
        Some(b)
    }

    fn recv_or_fail(&mut self, what: &str) -> Vec<u8> {
        match self.recv() {
            Some(b) => b,
            None => {
                let (code, stderr) = self.finish();
                panic!("Java peer closed before {what} (exit {code:?}):\n{stderr}")
            }
        }
    }

    /// Waits for the peer to exit: its exit code and stderr.
    fn finish(&mut self) -> (Option<i32>, String) {
        let mut child = self.child.lock().unwrap();
        let status = child.wait().expect("wait for java");
        self.done.store(true, Ordering::Relaxed);
        let mut stderr = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut stderr);
        }
        (status.code(), stderr)
    }

    /// After the handshake: the peer's "ok QOP AUTHZID" line.
    fn outcome(&mut self) -> String {
        String::from_utf8(self.recv_or_fail("its outcome line")).unwrap()
    }
}

impl Drop for JavaPeer {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        let mut child = self.child.lock().unwrap();
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn lookup() -> PasswordLookup {
    Box::new(|user: &str| {
        if user == USER {
            Ok(PASSWORD.as_bytes().to_vec())
        } else {
            Err(SaslError::Authentication(format!(
                "token for {user} can't be found"
            )))
        }
    })
}

fn qops() -> [Qop; 3] {
    [Qop::Authentication, Qop::Integrity, Qop::Privacy]
}

/// Java client, Rust server: the handshake, then MESSAGES wrapped each way.
fn java_client_rust_server(qop: Qop, service: (&str, &str)) {
    java_client_rust_server_offering(&[qop], qop, service)
}

/// Java client asking for `qop` from a Rust server offering `server_qops`.
fn java_client_rust_server_offering(server_qops: &[Qop], qop: Qop, service: (&str, &str)) {
    let mut peer = JavaPeer::start("client", qop.sasl_name(), service, PASSWORD);
    let mut server = DigestMd5Server::new(service.0, service.1, server_qops, lookup()).unwrap();
    let SaslStep::Continue(challenge) = server.evaluate(&[]).unwrap() else {
        panic!("the server speaks first")
    };
    peer.send(&challenge);
    let response = peer.recv_or_fail("its response");
    let text = String::from_utf8_lossy(&response).into_owned();
    // What Java sends, as measured: the digest-uri Hadoop expects, and 3des at privacy.
    assert!(
        text.contains(&format!("digest-uri=\"{}/{}\"", service.0, service.1)),
        "{text}"
    );
    if qop == Qop::Privacy {
        assert!(text.contains("cipher=\"3des\""), "{text}");
    }
    let step = server
        .evaluate(&response)
        .unwrap_or_else(|e| panic!("Rust server refused Java's response {text}: {e}"));
    let SaslStep::Complete(Some(rspauth)) = step else {
        panic!("expected rspauth, got {step:?}")
    };
    peer.send(&rspauth);
    assert_eq!(peer.outcome(), format!("ok {} -", qop.sasl_name()));
    assert_eq!(server.authorization_id(), Some(USER));
    assert_eq!(server.qop(), qop);
    if qop.wraps() {
        for i in 0..MESSAGES {
            let wrapped = peer.recv_or_fail("a wrapped message");
            let msg = server
                .unwrap(&wrapped)
                .unwrap_or_else(|e| panic!("message {i} at {qop}: {e}"));
            assert_eq!(msg, message(i), "message {i} at {qop}");
            peer.send(&server.wrap(&reversed(&msg)).unwrap());
        }
    }
    let (code, stderr) = peer.finish();
    assert_eq!(code, Some(0), "Java client failed at {qop}:\n{stderr}");
}

/// Rust client, Java server.
fn rust_client_java_server(
    java_qops: &str,
    client_qops: &[Qop],
    expect: Qop,
    service: (&str, &str),
) {
    let mut peer = JavaPeer::start("server", java_qops, service, PASSWORD);
    let mut client =
        DigestMd5Client::new(USER, PASSWORD.as_bytes(), service.0, service.1, client_qops).unwrap();
    assert_eq!(client.initial_response().unwrap(), None);
    let challenge = peer.recv_or_fail("its challenge");
    let text = String::from_utf8_lossy(&challenge).into_owned();
    assert!(text.contains(&format!("realm=\"{}\"", service.1)), "{text}");
    let step = client
        .evaluate(&challenge)
        .unwrap_or_else(|e| panic!("Rust client refused Java's challenge {text}: {e}"));
    let SaslStep::Continue(response) = step else {
        panic!("expected a response, got {step:?}")
    };
    peer.send(&response);
    let rspauth = peer.recv_or_fail("rspauth");
    assert_eq!(client.evaluate(&rspauth).unwrap(), SaslStep::Complete(None));
    assert!(client.is_complete());
    assert_eq!(client.qop(), expect);
    assert_eq!(peer.outcome(), format!("ok {} {USER}", expect.sasl_name()));
    if expect.wraps() {
        for i in 0..MESSAGES {
            let msg = message(i);
            peer.send(&client.wrap(&msg).unwrap());
            let wrapped = peer.recv_or_fail("a wrapped reply");
            let reply = client
                .unwrap(&wrapped)
                .unwrap_or_else(|e| panic!("reply {i} at {expect}: {e}"));
            assert_eq!(reply, reversed(&msg), "reply {i} at {expect}");
        }
    }
    let (code, stderr) = peer.finish();
    assert_eq!(code, Some(0), "Java server failed at {expect}:\n{stderr}");
}

#[test]
fn java_client_authenticates_to_rust_server_for_ipc_at_every_qop() {
    for qop in qops() {
        java_client_rust_server(qop, SERVICES[0]);
    }
}

#[test]
fn java_client_authenticates_to_rust_server_for_data_transfer_at_every_qop() {
    for qop in qops() {
        java_client_rust_server(qop, SERVICES[1]);
    }
}

#[test]
fn rust_client_authenticates_to_java_server_for_ipc_at_every_qop() {
    for qop in qops() {
        rust_client_java_server(qop.sasl_name(), &[qop], qop, SERVICES[0]);
    }
}

#[test]
fn rust_client_authenticates_to_java_server_for_data_transfer_at_every_qop() {
    for qop in qops() {
        rust_client_java_server(qop.sasl_name(), &[qop], qop, SERVICES[1]);
    }
}

/// A Java server offering everything (and its whole cipher list, 3des among rc4 and des):
/// the Rust client takes its own first preference and 3des.
#[test]
fn rust_client_picks_its_preference_and_3des_from_javas_full_offer() {
    rust_client_java_server(
        "auth-conf,auth-int,auth",
        &[Qop::Privacy, Qop::Integrity],
        Qop::Privacy,
        SERVICES[0],
    );
    rust_client_java_server(
        "auth-conf,auth-int,auth",
        &[Qop::Integrity],
        Qop::Integrity,
        SERVICES[1],
    );
}

/// hadoop.rpc.protection=privacy,integrity,authentication on the server: a Java client
/// configured for integrity gets integrity.
#[test]
fn java_client_takes_its_choice_from_a_rust_server_offering_every_qop() {
    let all = [Qop::Privacy, Qop::Integrity, Qop::Authentication];
    java_client_rust_server_offering(&all, Qop::Integrity, SERVICES[0]);
    java_client_rust_server_offering(&all, Qop::Privacy, SERVICES[1]);
}

#[test]
fn java_client_with_the_wrong_password_is_refused_by_rust_server() {
    let mut peer = JavaPeer::start("client", "auth-conf", SERVICES[0], "d3JvbmcgcGFzc3dvcmQ=");
    let mut server = DigestMd5Server::new("", "default", &[Qop::Privacy], lookup()).unwrap();
    let SaslStep::Continue(challenge) = server.evaluate(&[]).unwrap() else {
        panic!()
    };
    peer.send(&challenge);
    let response = peer.recv_or_fail("its response");
    let err = server.evaluate(&response).unwrap_err();
    assert!(err.to_string().contains("Mismatched response"), "{err}");
    assert!(!server.is_complete());
}

#[test]
fn rust_client_with_the_wrong_password_is_refused_by_java_server() {
    let mut peer = JavaPeer::start("server", "auth-int", SERVICES[1], PASSWORD);
    let mut client = DigestMd5Client::new(
        USER,
        b"d3JvbmcgcGFzc3dvcmQ=",
        "hdfs",
        "0",
        &[Qop::Integrity],
    )
    .unwrap();
    let challenge = peer.recv_or_fail("its challenge");
    let SaslStep::Continue(response) = client.evaluate(&challenge).unwrap() else {
        panic!()
    };
    peer.send(&response);
    assert_eq!(peer.recv(), None, "Java must refuse and close");
    let (code, stderr) = peer.finish();
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("SaslException"), "{stderr}");
    assert!(!client.is_complete());
}

/// A message Java wrapped, replayed or altered on the way, is refused by the Rust side.
#[test]
fn rust_server_refuses_replayed_and_altered_java_messages() {
    for qop in [Qop::Integrity, Qop::Privacy] {
        let mut peer = JavaPeer::start("client", qop.sasl_name(), SERVICES[0], PASSWORD);
        let mut server = DigestMd5Server::new("", "default", &[qop], lookup()).unwrap();
        let SaslStep::Continue(challenge) = server.evaluate(&[]).unwrap() else {
            panic!()
        };
        peer.send(&challenge);
        let response = peer.recv_or_fail("its response");
        let SaslStep::Complete(Some(rspauth)) = server.evaluate(&response).unwrap() else {
            panic!()
        };
        peer.send(&rspauth);
        peer.outcome();
        let first = peer.recv_or_fail("message 0");
        // An altered copy is refused, and so is everything after on that layer.
        let mut altered = first.clone();
        altered[0] ^= 0x80;
        assert!(server.unwrap(&altered).is_err(), "altered at {qop}");
        assert!(
            server.unwrap(&first).is_err(),
            "closed after a rejection at {qop}"
        );

        // A fresh session: the genuine message passes once, and its replay fails.
        drop(peer);
        let mut peer = JavaPeer::start("client", qop.sasl_name(), SERVICES[0], PASSWORD);
        let mut server = DigestMd5Server::new("", "default", &[qop], lookup()).unwrap();
        let SaslStep::Continue(challenge) = server.evaluate(&[]).unwrap() else {
            panic!()
        };
        peer.send(&challenge);
        let response = peer.recv_or_fail("its response");
        let SaslStep::Complete(Some(rspauth)) = server.evaluate(&response).unwrap() else {
            panic!()
        };
        peer.send(&rspauth);
        peer.outcome();
        let first = peer.recv_or_fail("message 0");
        assert_eq!(server.unwrap(&first).unwrap(), message(0));
        assert!(server.unwrap(&first).is_err(), "replay at {qop}");
    }
}
