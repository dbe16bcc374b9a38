//! The KERBEROS/GSSAPI SASL mechanism (crates/security kerberos.rs over gssapi.rs)
//! against a real MIT KDC and the real MIT library, and against Java 17's own SASL
//! GSSAPI (javax.security.sasl, what Hadoop's IPC uses) through
//! crates/tests/java/HafsSaslPeer.java, both ways, at every quality of protection.
//!
//! The MIT library reads `KRB5_CONFIG` and `KRB5RCACHEDIR` from this process's
//! environment, so the whole binary shares one KDC, whose environment is set once
//! before the first GSS call (every test starts with [`realm`]).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::OnceLock;

use hafs_cluster::kdc::Kdc;
use hafs_security::gssapi::InitiatorSource;
use hafs_security::kerberos::{acceptor_credential, GssapiClient, GssapiServer, ServiceTarget};
use hafs_security::sasl::{Qop, SaslClientSession, SaslError, SaslServerSession, SaslStep};
use hafs_tests::XorShift64;

const ALL: [Qop; 3] = [Qop::Privacy, Qop::Integrity, Qop::Authentication];

struct Realm {
    kdc: &'static Kdc,
    nn_keytab: PathBuf,
    dn_keytab: PathBuf,
    alice_ccache: PathBuf,
    bob_keytab: PathBuf,
}

fn realm() -> &'static Realm {
    static REALM: OnceLock<Realm> = OnceLock::new();
    REALM.get_or_init(|| {
        let kdc = hafs_tests::process_kdc("gssapi-kdc");
        let nn_keytab = kdc.add_service("nn", "localhost").unwrap();
        let dn_keytab = kdc.add_service("dn", "localhost").unwrap();
        let alice_ccache = kdc.user_ccache("alice").unwrap();
        let bob_keytab = kdc.add_user_keytab("bob").unwrap();
        Realm {
            kdc,
            nn_keytab,
            dn_keytab,
            alice_ccache,
            bob_keytab,
        }
    })
}

fn nn_server(allowed: &[Qop]) -> GssapiServer {
    let r = realm();
    let cred = acceptor_credential("nn/localhost@HAFS.TEST", &r.nn_keytab).unwrap();
    GssapiServer::new(cred, allowed).unwrap()
}

fn alice_client(target: &ServiceTarget, allowed: &[Qop]) -> GssapiClient {
    let r = realm();
    GssapiClient::new(
        target,
        &InitiatorSource::Ccache(r.alice_ccache.display().to_string()),
        allowed,
    )
    .unwrap()
}

fn nn_principal() -> ServiceTarget {
    ServiceTarget::Principal("nn/localhost@HAFS.TEST".into())
}

fn continue_token(step: SaslStep) -> Vec<u8> {
    match step {
        SaslStep::Continue(t) => t,
        other => panic!("expected Continue, got {other:?}"),
    }
}

/// Runs the exchange in memory, checking the message sequence Java 17 produces under
/// Hadoop IPC: AP-REQ, AP-REP, empty, layer offer, choice, success with no token.
fn handshake(client: &mut GssapiClient, server: &mut GssapiServer) -> Result<(), SaslError> {
    let ap_req = client.initial_response()?.expect("GSSAPI speaks first");
    assert!(!ap_req.is_empty());
    let ap_rep = continue_token(server.evaluate(&ap_req)?);
    assert!(!ap_rep.is_empty(), "mutual authentication sends an AP-REP");
    let empty = continue_token(client.evaluate(&ap_rep)?);
    assert!(
        empty.is_empty(),
        "the client answers the AP-REP with nothing"
    );
    let offer = continue_token(server.evaluate(&empty)?);
    let choice = match client.evaluate(&offer)? {
        SaslStep::Complete(Some(t)) => t,
        other => panic!("expected the client's layer choice, got {other:?}"),
    };
    assert!(client.is_complete());
    assert_eq!(server.evaluate(&choice)?, SaslStep::Complete(None));
    assert!(server.is_complete());
    Ok(())
}

fn exchange_messages(client: &mut GssapiClient, server: &mut GssapiServer) {
    for i in 0..3 {
        let msg = format!("call {i} from the client");
        let wrapped = client.wrap(msg.as_bytes()).unwrap();
        assert_eq!(server.unwrap(&wrapped).unwrap(), msg.as_bytes());
        let reply = format!("response {i} from the server");
        let wrapped = server.wrap(reply.as_bytes()).unwrap();
        assert_eq!(client.unwrap(&wrapped).unwrap(), reply.as_bytes());
    }
}

#[test]
fn rust_client_and_server_agree_at_every_protection() {
    realm();
    for qop in ALL {
        let mut server = nn_server(&ALL);
        let mut client = alice_client(&nn_principal(), &[qop]);
        handshake(&mut client, &mut server).unwrap();
        assert_eq!(server.authorization_id(), Some("alice@HAFS.TEST"));
        assert_eq!((client.qop(), server.qop()), (qop, qop));
        if qop.wraps() {
            exchange_messages(&mut client, &mut server);
            assert_eq!(client.peer_max_buffer(), 65_536);
            // Privacy hides the plaintext; integrity carries it in the clear.
            let marker = b"MARKER-PLAINTEXT-0123456789";
            let wrapped = client.wrap(marker).unwrap();
            let visible = wrapped.windows(marker.len()).any(|w| w == marker);
            assert_eq!(visible, qop == Qop::Integrity, "{qop}");
            server.unwrap(&wrapped).unwrap();
        } else {
            assert!(client.wrap(b"x").is_err(), "nothing is wrapped at auth");
            assert!(server.unwrap(b"x").is_err());
        }
    }
}

#[test]
fn the_server_keeps_its_own_list_and_the_client_its_preference() {
    realm();
    // The server offers integrity only; a client preferring privacy settles for it.
    let mut server = nn_server(&[Qop::Integrity]);
    let mut client = alice_client(&nn_principal(), &[Qop::Privacy, Qop::Integrity]);
    handshake(&mut client, &mut server).unwrap();
    assert_eq!(server.qop(), Qop::Integrity);
    // The client's list order decides when the server offers all.
    let mut server = nn_server(&ALL);
    let mut client = alice_client(&nn_principal(), &[Qop::Authentication, Qop::Privacy]);
    handshake(&mut client, &mut server).unwrap();
    assert_eq!(server.qop(), Qop::Authentication);
    // Nothing in common.
    let mut server = nn_server(&[Qop::Authentication]);
    let mut client = alice_client(&nn_principal(), &[Qop::Privacy]);
    let err = handshake(&mut client, &mut server).unwrap_err();
    assert!(matches!(err, SaslError::NoCommonQop), "{err}");
    assert_eq!(
        err.to_string(),
        "No common protection layer between client and server"
    );
}

#[test]
fn host_based_target_and_client_keytab_work() {
    let r = realm();
    let target = ServiceTarget::HostBased {
        service: "nn".into(),
        host: "localhost".into(),
    };
    let mut client = GssapiClient::new(
        &target,
        &InitiatorSource::ClientKeytab {
            keytab: r.bob_keytab.display().to_string(),
            principal: "bob@HAFS.TEST".into(),
        },
        &[Qop::Privacy],
    )
    .unwrap();
    let mut server = nn_server(&ALL);
    handshake(&mut client, &mut server).unwrap();
    // A client-keytab credential names its principal as the authorization id.
    assert_eq!(server.authorization_id(), Some("bob@HAFS.TEST"));
    exchange_messages(&mut client, &mut server);
}

#[test]
fn tampered_replayed_and_downgraded_messages_are_rejected() {
    realm();
    for qop in [Qop::Integrity, Qop::Privacy] {
        let mut server = nn_server(&ALL);
        let mut client = alice_client(&nn_principal(), &[qop]);
        handshake(&mut client, &mut server).unwrap();
        let wrapped = client.wrap(b"setPermission /secret 777").unwrap();
        for i in [wrapped.len() / 2, wrapped.len() - 1] {
            let mut bad = wrapped.clone();
            bad[i] ^= 0x01;
            let err = server.unwrap(&bad).unwrap_err();
            assert!(matches!(err, SaslError::Integrity(_)), "{qop}: {err}");
        }
        assert_eq!(
            server.unwrap(&wrapped).unwrap(),
            b"setPermission /secret 777"
        );
        let err = server.unwrap(&wrapped).unwrap_err();
        assert!(
            err.to_string()
                .contains("The token was a duplicate of an earlier token"),
            "{qop}: a replayed message: {err}"
        );
        // A message with the other protection than the negotiated one.
        let forged = client
            .security_context_mut()
            .wrap(b"downgraded", qop == Qop::Integrity)
            .unwrap();
        let err = server.unwrap(&forged).unwrap_err();
        assert!(err.to_string().contains("encrypted at"), "{qop}: {err}");
    }
}

#[test]
fn a_replayed_ap_req_is_refused() {
    realm();
    let mut client = alice_client(&nn_principal(), &ALL);
    let ap_req = client.initial_response().unwrap().unwrap();
    let mut first = nn_server(&ALL);
    continue_token(first.evaluate(&ap_req).unwrap());
    let mut second = nn_server(&ALL);
    let err = second.evaluate(&ap_req).unwrap_err();
    assert!(matches!(err, SaslError::Authentication(_)), "{err}");
    assert!(err.to_string().contains("Request is a replay"), "{err}");
    assert!(!second.is_complete());
    assert!(
        second.evaluate(b"").is_err(),
        "a failed session stays failed"
    );
}

#[test]
fn a_ticket_for_another_service_is_refused() {
    let r = realm();
    // alice asks for dn/localhost and presents it to the nn acceptor (which holds the
    // nn key only).
    let mut client = alice_client(
        &ServiceTarget::Principal("dn/localhost@HAFS.TEST".into()),
        &ALL,
    );
    let ap_req = client.initial_response().unwrap().unwrap();
    let err = nn_server(&ALL).evaluate(&ap_req).unwrap_err();
    assert!(matches!(err, SaslError::Authentication(_)), "{err}");
    assert!(
        err.to_string()
            .contains("Cannot decrypt ticket for dn/localhost@HAFS.TEST using keytab key for nn/localhost@HAFS.TEST"),
        "{err}"
    );
    // The dn acceptor takes the same kind of ticket (a control for the refusal).
    let cred = acceptor_credential("dn/localhost@HAFS.TEST", &r.dn_keytab).unwrap();
    let mut client = alice_client(
        &ServiceTarget::Principal("dn/localhost@HAFS.TEST".into()),
        &ALL,
    );
    let ap_req = client.initial_response().unwrap().unwrap();
    GssapiServer::new(cred, &ALL)
        .unwrap()
        .evaluate(&ap_req)
        .unwrap();
    // An acceptor for nn cannot be had from dn's keytab.
    let err = acceptor_credential("nn/localhost@HAFS.TEST", &r.dn_keytab).unwrap_err();
    assert!(matches!(err, SaslError::Gss(_)), "{err}");
    assert!(
        err.to_string()
            .contains("No key table entry found for nn/localhost@HAFS.TEST"),
        "{err}"
    );
}

#[test]
fn no_ticket_cache_and_garbage_tokens_are_refused() {
    let r = realm();
    let missing = r.kdc.dir().join("no-such-ccache");
    let err = GssapiClient::new(
        &nn_principal(),
        &InitiatorSource::Ccache(missing.display().to_string()),
        &ALL,
    )
    .map(|_| ())
    .unwrap_err();
    assert!(matches!(err, SaslError::Gss(_)), "{err}");
    assert!(
        err.to_string()
            .contains("No Kerberos credentials available")
            || err.to_string().contains("No credentials cache found"),
        "{err}"
    );
    // The default cache here is empty too (KRB5CCNAME points nowhere).
    assert!(GssapiClient::new(&nn_principal(), &InitiatorSource::DefaultCcache, &ALL).is_err());

    let mut server = nn_server(&ALL);
    let err = server.evaluate(&vec![0x60; 64 * 1024 + 1]).unwrap_err();
    assert!(err.to_string().contains("limit"), "{err}");
    for junk in [&b""[..], b"\x60\x82\xff\xff", b"GET / HTTP/1.1\r\n\r\n"] {
        let err = nn_server(&ALL).evaluate(junk).unwrap_err();
        assert!(matches!(err, SaslError::Authentication(_)), "{err}");
    }
}

#[test]
fn an_authorization_id_other_than_the_principal_is_refused() {
    realm();
    let mut server = nn_server(&ALL);
    let mut client = alice_client(&nn_principal(), &ALL);
    client.set_authorization_id(Some("hdfs@HAFS.TEST".into()));
    let err = handshake(&mut client, &mut server).unwrap_err();
    assert!(err.to_string().contains("may not act as"), "{err}");
    assert_eq!(server.authorization_id(), None);
}

// ------------------------------------------------------------------ Java interop

/// The directory holding HafsSaslPeer.class (compiled once per source text).
fn compiled_peer() -> PathBuf {
    hafs_tests::compiled_java_class("HafsSaslPeer")
}

/// A running Java peer speaking the framed protocol of HafsSaslPeer.java.
struct JavaPeer {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    stderr_log: PathBuf,
}

impl JavaPeer {
    fn start(args: &[&str]) -> JavaPeer {
        let r = realm();
        let classes = compiled_peer();
        let stderr_log = r
            .kdc
            .dir()
            .join(format!("java-{}-{}.log", args[0], args[1]));
        let mut cmd = Command::new("java");
        cmd.args(["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"])
            .arg(r.kdc.java_option())
            .arg("-cp")
            .arg(&classes)
            .arg("HafsSaslPeer")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr_log).unwrap());
        let mut child = cmd
            .spawn()
            .expect("run java (a JDK 17; scripts/test-deps.sh)");
        JavaPeer {
            stdin: child.stdin.take().unwrap(),
            stdout: child.stdout.take().unwrap(),
            child,
            stderr_log,
        }
    }

    fn send(&mut self, tag: u8, data: &[u8]) {
        let mut frame = vec![tag];
        frame.extend_from_slice(&(data.len() as u32).to_be_bytes());
        frame.extend_from_slice(data);
        self.stdin.write_all(&frame).unwrap();
        self.stdin.flush().unwrap();
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr_log).unwrap_or_default()
    }

    /// The next frame; an 'E' frame (or a closed pipe) panics with Java's error.
    fn recv(&mut self) -> (u8, Vec<u8>) {
        let mut head = [0u8; 5];
        if let Err(e) = self.stdout.read_exact(&mut head) {
            panic!("java peer closed ({e}):\n{}", self.log());
        }
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let mut data = vec![0u8; len];
        self.stdout.read_exact(&mut data).unwrap();
        if head[0] == b'E' {
            panic!(
                "java peer failed: {}\n{}",
                String::from_utf8_lossy(&data),
                self.log()
            );
        }
        (head[0], data)
    }

    fn finish(mut self) {
        drop(self.stdin);
        let status = self.child.wait().unwrap();
        assert!(status.success(), "java peer exited {status}:\n{}", {
            let mut s = String::new();
            let _ =
                std::fs::File::open(&self.stderr_log).and_then(|mut f| f.read_to_string(&mut s));
            s
        });
    }
}

fn java_client_against_rust_server(qop: Qop) {
    java_client_with_list_against_rust_server(qop.sasl_name(), qop);
}

/// Java's client offered `list` (javax.security.sasl.qop) against a server allowing
/// all; `qop` is what must be negotiated.
fn java_client_with_list_against_rust_server(list: &str, qop: Qop) {
    let r = realm();
    let mut java = JavaPeer::start(&[
        "client",
        list,
        r.alice_ccache.to_str().unwrap(),
        "alice@HAFS.TEST",
    ]);
    let mut server = nn_server(&ALL);
    let mut seen = Vec::new();
    loop {
        let (tag, token) = java.recv();
        assert_eq!(tag, b'T');
        seen.push(token.len());
        match server.evaluate(&token).unwrap() {
            SaslStep::Continue(t) => java.send(b'T', &t),
            SaslStep::Complete(t) => {
                java.send(b'C', &t.unwrap_or_default());
                break;
            }
        }
    }
    // INITIATE (AP-REQ), RESPONSE (empty), RESPONSE (choice): as measured with Hadoop.
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[1], 0);
    assert_eq!(server.authorization_id(), Some("alice@HAFS.TEST"));
    assert_eq!(server.qop(), qop);
    let (tag, negotiated) = java.recv();
    assert_eq!(
        (tag, negotiated.as_slice()),
        (b'Q', qop.sasl_name().as_bytes())
    );
    if qop.wraps() {
        for i in 0..3 {
            let msg = format!("rust server message {i}");
            let w = server.wrap(msg.as_bytes()).unwrap();
            java.send(b'W', &w);
            let (tag, echo) = java.recv();
            assert_eq!(tag, b'W');
            assert_eq!(
                server.unwrap(&echo).unwrap(),
                format!("echo:{msg}").as_bytes()
            );
        }
    }
    java.send(b'D', b"");
    java.finish();
}

fn rust_client_against_java_server(qop: Qop) {
    let r = realm();
    let mut java = JavaPeer::start(&[
        "server",
        "auth-conf,auth-int,auth",
        r.nn_keytab.to_str().unwrap(),
        "nn/localhost@HAFS.TEST",
    ]);
    // As Hadoop's client does: the protocol and server id from NEGOTIATE.
    let target = ServiceTarget::HostBased {
        service: "nn".into(),
        host: "localhost".into(),
    };
    let mut client = alice_client(&target, &[qop]);
    java.send(b'T', &client.initial_response().unwrap().unwrap());
    loop {
        let (tag, token) = java.recv();
        match tag {
            b'T' => match client.evaluate(&token).unwrap() {
                SaslStep::Continue(t) => java.send(b'T', &t),
                SaslStep::Complete(t) => java.send(b'T', &t.unwrap_or_default()),
            },
            b'C' => {
                assert!(token.is_empty(), "Java's server completes with no token");
                break;
            }
            other => panic!("unexpected frame {}", other as char),
        }
    }
    assert!(client.is_complete());
    assert_eq!(client.qop(), qop);
    let (tag, negotiated) = java.recv();
    assert_eq!(
        (tag, negotiated.as_slice()),
        (b'Q', qop.sasl_name().as_bytes())
    );
    let (tag, authz) = java.recv();
    assert_eq!((tag, authz.as_slice()), (b'A', &b"alice@HAFS.TEST"[..]));
    if qop.wraps() {
        for i in 0..3 {
            let (tag, w) = java.recv();
            assert_eq!(tag, b'W');
            let msg = client.unwrap(&w).unwrap();
            assert_eq!(msg, format!("java server message {i}").as_bytes());
            let mut echo = b"echo:".to_vec();
            echo.extend_from_slice(&msg);
            java.send(b'W', &client.wrap(&echo).unwrap());
        }
    }
    let (tag, _) = java.recv();
    assert_eq!(tag, b'D');
    java.finish();
}

#[test]
fn java_client_talks_to_the_rust_server_at_every_protection() {
    for qop in ALL {
        java_client_against_rust_server(qop);
    }
}

#[test]
fn java_clients_pick_the_first_of_their_list_that_the_server_offers() {
    java_client_with_list_against_rust_server("auth-conf,auth-int,auth", Qop::Privacy);
    java_client_with_list_against_rust_server("auth,auth-conf", Qop::Authentication);
    java_client_with_list_against_rust_server("auth-int,auth-conf", Qop::Integrity);
}

#[test]
fn a_java_server_without_a_common_layer_is_refused_by_the_rust_client() {
    let r = realm();
    let mut java = JavaPeer::start(&[
        "server",
        "auth",
        r.nn_keytab.to_str().unwrap(),
        "nn/localhost@HAFS.TEST",
    ]);
    let mut client = alice_client(&nn_principal(), &[Qop::Privacy, Qop::Integrity]);
    java.send(b'T', &client.initial_response().unwrap().unwrap());
    let err = loop {
        let (tag, token) = java.recv();
        assert_eq!(tag, b'T');
        match client.evaluate(&token) {
            Ok(SaslStep::Continue(t)) => java.send(b'T', &t),
            Ok(SaslStep::Complete(_)) => panic!("completed without a common layer"),
            Err(e) => break e,
        }
    };
    assert!(matches!(err, SaslError::NoCommonQop), "{err}");
    assert!(!client.is_complete());
    let _ = java.child.kill();
    let _ = java.child.wait();
}

#[test]
fn rust_client_talks_to_the_java_server_at_every_protection() {
    for qop in ALL {
        rust_client_against_java_server(qop);
    }
}

#[test]
fn java_refuses_a_rust_server_without_a_common_layer() {
    let r = realm();
    let mut java = JavaPeer::start(&[
        "client",
        "auth-conf",
        r.alice_ccache.to_str().unwrap(),
        "alice@HAFS.TEST",
    ]);
    let mut server = nn_server(&[Qop::Authentication]);
    loop {
        let (tag, token) = java.recv_frame_or_error();
        if tag == b'E' {
            let text = String::from_utf8_lossy(&token).into_owned();
            assert!(
                text.contains("No common protection layer between client and server"),
                "{text}"
            );
            break;
        }
        match server.evaluate(&token).unwrap() {
            SaslStep::Continue(t) => java.send(b'T', &t),
            SaslStep::Complete(_) => panic!("the server completed without a common layer"),
        }
    }
    assert!(!server.is_complete());
    let status = java.child.wait().unwrap();
    assert!(!status.success());
}

impl JavaPeer {
    fn recv_frame_or_error(&mut self) -> (u8, Vec<u8>) {
        let mut head = [0u8; 5];
        self.stdout.read_exact(&mut head).unwrap();
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let mut data = vec![0u8; len];
        self.stdout.read_exact(&mut data).unwrap();
        (head[0], data)
    }
}

/// Random bytes of a random length below `max`, some starting like a GSS token.
fn junk(rng: &mut XorShift64, max: usize) -> Vec<u8> {
    let len = (rng.next_u64() % max as u64) as usize;
    let mut v: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
    if len > 2 && rng.next_u64() & 1 == 0 {
        // The GSS framing tag and a Kerberos wrap-token id, so the library parses further.
        v[0] = 0x60;
        if len > 4 && rng.next_u64() & 1 == 0 {
            v[0] = 0x05;
            v[1] = 0x04;
        }
    }
    v
}

#[test]
fn random_tokens_at_every_step_fail_cleanly() {
    realm();
    let seed = XorShift64::seed_from_time();
    let mut rng = XorShift64::new(seed);
    for round in 0..150 {
        let ctx = format!("seed {seed} round {round}");
        // The server's first step.
        let err = nn_server(&ALL)
            .evaluate(&junk(&mut rng, 600))
            .expect_err(&ctx);
        assert!(matches!(err, SaslError::Authentication(_)), "{ctx}: {err}");
        // The client's answer to the AP-REP, and the layer offer.
        let mut client = alice_client(&nn_principal(), &ALL);
        let mut server = nn_server(&ALL);
        let ap_req = client.initial_response().unwrap().unwrap();
        let ap_rep = continue_token(server.evaluate(&ap_req).unwrap());
        if round & 1 == 0 {
            assert!(client.evaluate(&junk(&mut rng, 300)).is_err(), "{ctx}");
            continue;
        }
        let empty = continue_token(client.evaluate(&ap_rep).unwrap());
        // The offer moves the server to its layer-choice step.
        continue_token(server.evaluate(&empty).unwrap());
        // The server's layer-choice step and the client's offer step.
        assert!(server.evaluate(&junk(&mut rng, 300)).is_err(), "{ctx}");
        assert!(client.evaluate(&junk(&mut rng, 300)).is_err(), "{ctx}");
        assert!(!server.is_complete() && !client.is_complete(), "{ctx}");
    }
    // Established sessions: junk to unwrap.
    let mut server = nn_server(&ALL);
    let mut client = alice_client(&nn_principal(), &[Qop::Privacy]);
    handshake(&mut client, &mut server).unwrap();
    for _ in 0..300 {
        assert!(server.unwrap(&junk(&mut rng, 400)).is_err());
        assert!(client.unwrap(&junk(&mut rng, 400)).is_err());
    }
    // And they still work afterwards.
    exchange_messages(&mut client, &mut server);
}
