//! The SASL exchange and WRAP framing between the real IPC server and client on
//! loopback. The mechanism is a stand-in written for this test (a password check and a
//! keyed, numbered seal), because what is under test here is the IPC layer's part —
//! NEGOTIATE/INITIATE/CHALLENGE/SUCCESS, identity rules, sealing every frame in order and
//! refusing anything unsealed; the real mechanisms (Kerberos, DIGEST-MD5) are tested
//! against the MIT library and Java in their own crate and in the process tests.

mod common;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use hafs_ipc::auth::{
    AuthMethod, AuthenticatedUser, ClientAuth, ClientMechanism, ImpersonationPolicy, SaslMethod,
    ServerAuth, SIMPLE_FALLBACK_REFUSED,
};
use hafs_ipc::{exceptions, Connection, IpcError, RpcError, RpcErrorCode};
use hafs_proto::common::rpc_sasl_proto::SaslAuth;
use hafs_security::sasl::{Qop, SaslClientSession, SaslError, SaslServerSession, SaslStep};
use prost::Message;
use tokio::io::AsyncWriteExt;

/// A keyed, numbered seal: enough that a missing seal, a reordered or replayed message
/// and a flipped bit are all detected, as a real mechanism's would be.
struct Seal {
    key: u8,
    send_seq: u32,
    recv_seq: u32,
}

impl Seal {
    fn wrap(&mut self, data: &[u8]) -> Vec<u8> {
        let seq = self.send_seq;
        self.send_seq += 1;
        let mut out: Vec<u8> = data.iter().map(|b| b ^ self.key ^ seq as u8).collect();
        let sum = data.iter().fold(seq.wrapping_mul(31), |a, b| {
            a.wrapping_mul(17).wrapping_add(*b as u32)
        });
        out.extend(sum.to_be_bytes());
        out.extend(seq.to_be_bytes());
        out
    }

    fn unwrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError> {
        if data.len() < 8 {
            return Err(SaslError::Integrity("short".into()));
        }
        let (body, trailer) = data.split_at(data.len() - 8);
        let seq = u32::from_be_bytes(trailer[4..8].try_into().unwrap());
        if seq != self.recv_seq {
            return Err(SaslError::Integrity(format!(
                "sequence {seq}, expected {}",
                self.recv_seq
            )));
        }
        let plain: Vec<u8> = body.iter().map(|b| b ^ self.key ^ seq as u8).collect();
        let sum = plain.iter().fold(seq.wrapping_mul(31), |a, b| {
            a.wrapping_mul(17).wrapping_add(*b as u32)
        });
        if sum.to_be_bytes() != trailer[..4] {
            return Err(SaslError::Integrity("checksum mismatch".into()));
        }
        self.recv_seq += 1;
        Ok(plain)
    }
}

struct TestServerSession {
    qop: Qop,
    user: Option<String>,
    seal: Seal,
}

impl SaslServerSession for TestServerSession {
    fn mechanism(&self) -> &'static str {
        "X-TEST"
    }
    fn evaluate(&mut self, response: &[u8]) -> Result<SaslStep, SaslError> {
        let text =
            std::str::from_utf8(response).map_err(|_| SaslError::Malformed("utf8".into()))?;
        let (user, password) = text
            .split_once('\0')
            .ok_or_else(|| SaslError::Malformed("no separator".into()))?;
        if password != format!("pw-{user}") {
            return Err(SaslError::Authentication(format!(
                "bad password for {user}"
            )));
        }
        self.user = Some(user.to_string());
        Ok(SaslStep::Complete(Some(b"welcome".to_vec())))
    }
    fn is_complete(&self) -> bool {
        self.user.is_some()
    }
    fn authorization_id(&self) -> Option<&str> {
        self.user.as_deref()
    }
    fn qop(&self) -> Qop {
        self.qop
    }
    fn wrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError> {
        Ok(self.seal.wrap(data))
    }
    fn unwrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError> {
        self.seal.unwrap(data)
    }
}

struct TestMethod {
    qop: Qop,
}

impl SaslMethod for TestMethod {
    fn method(&self) -> AuthMethod {
        AuthMethod::Kerberos
    }
    fn mechanism(&self) -> &'static str {
        "X-TEST"
    }
    fn protocol(&self) -> &str {
        "nn"
    }
    fn server_id(&self) -> &str {
        "localhost"
    }
    fn start(&self) -> Result<Box<dyn SaslServerSession>, SaslError> {
        Ok(Box::new(TestServerSession {
            qop: self.qop,
            user: None,
            seal: Seal {
                key: 0x5a,
                send_seq: 0,
                recv_seq: 0,
            },
        }))
    }
    fn authenticated_user(&self, id: &str) -> Result<AuthenticatedUser, RpcError> {
        let short = id.split(['/', '@']).next().unwrap_or(id).to_string();
        Ok(AuthenticatedUser {
            name: id.to_string(),
            short_name: short,
            real_user: None,
            token_identifier: None,
        })
    }
}

struct TestClientSession {
    user: String,
    password: String,
    qop: Qop,
    done: bool,
    seal: Seal,
}

impl SaslClientSession for TestClientSession {
    fn mechanism(&self) -> &'static str {
        "X-TEST"
    }
    fn initial_response(&mut self) -> Result<Option<Vec<u8>>, SaslError> {
        Ok(Some(
            format!("{}\0{}", self.user, self.password).into_bytes(),
        ))
    }
    fn evaluate(&mut self, challenge: &[u8]) -> Result<SaslStep, SaslError> {
        if challenge != b"welcome" {
            return Err(SaslError::Authentication(
                "server did not prove itself".into(),
            ));
        }
        self.done = true;
        Ok(SaslStep::Complete(None))
    }
    fn is_complete(&self) -> bool {
        self.done
    }
    fn qop(&self) -> Qop {
        self.qop
    }
    fn wrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError> {
        Ok(self.seal.wrap(data))
    }
    fn unwrap(&mut self, data: &[u8]) -> Result<Vec<u8>, SaslError> {
        self.seal.unwrap(data)
    }
}

struct TestClientMechanism {
    user: String,
    password: String,
    qop: Qop,
}

impl ClientMechanism for TestClientMechanism {
    fn method(&self) -> AuthMethod {
        AuthMethod::Kerberos
    }
    fn mechanism(&self) -> &'static str {
        "X-TEST"
    }
    fn start(
        &self,
        offered: &SaslAuth,
        protocol: &str,
        server_host: &str,
    ) -> Result<Option<Box<dyn SaslClientSession>>, SaslError> {
        assert_eq!(server_host, "127.0.0.1");
        assert_eq!(protocol, TEST_PROTOCOL);
        if offered.protocol.as_deref() != Some("nn") {
            return Err(SaslError::Config(
                "Server has invalid Kerberos principal".into(),
            ));
        }
        Ok(Some(Box::new(TestClientSession {
            user: self.user.clone(),
            password: self.password.clone(),
            qop: self.qop,
            done: false,
            seal: Seal {
                key: 0x5a,
                send_seq: 0,
                recv_seq: 0,
            },
        })))
    }
}

/// Lets `oozie` act for anyone but `hdfs`.
struct OozieMayProxy;

impl ImpersonationPolicy for OozieMayProxy {
    fn authorize(
        &self,
        real: &AuthenticatedUser,
        effective: &str,
        _peer: IpAddr,
    ) -> Result<(), String> {
        if real.short_name == "oozie" && effective != "hdfs" {
            Ok(())
        } else {
            Err(format!(
                "User: {} is not allowed to impersonate {effective}",
                real.name
            ))
        }
    }
}

async fn secure_server(qop: Qop) -> Running {
    let mut cfg = config();
    cfg.auth = ServerAuth {
        methods: vec![Arc::new(TestMethod { qop })],
        impersonation: Some(Arc::new(OozieMayProxy)),
        client_principals: None,
    };
    start(cfg, Arc::new(EchoService::default())).await
}

fn secure_client(
    principal: &str,
    claimed: &str,
    password: &str,
    qop: Qop,
) -> hafs_ipc::ClientConfig {
    let mut cfg = client_config();
    cfg.user = claimed.to_string();
    // A secure client claims another user only when it proxies.
    if claimed != principal {
        cfg.real_user = Some(principal.to_string());
    }
    cfg.auth = ClientAuth {
        mechanisms: vec![Arc::new(TestClientMechanism {
            user: principal.to_string(),
            password: password.to_string(),
            qop,
        })],
    };
    cfg
}

async fn echo(conn: &Connection, text: &str) -> Result<EchoResponseProto, IpcError> {
    let req = EchoRequestProto {
        text: text.to_string(),
        delay_ms: 0,
    };
    let body = conn
        .call_raw(
            "echo",
            Bytes::from(req.encode_to_vec()),
            hafs_ipc::next_call_id(),
            0,
            Duration::from_secs(30),
        )
        .await?;
    Ok(EchoResponseProto::decode(body).unwrap())
}

fn remote(e: IpcError) -> RpcError {
    match e {
        IpcError::Remote(r) => r,
        other => panic!("expected a remote error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_run_as_the_authenticated_user_at_every_protection() {
    for qop in [Qop::Authentication, Qop::Integrity, Qop::Privacy] {
        let server = secure_server(qop).await;
        let cfg = secure_client("alice@TEST", "alice@TEST", "pw-alice@TEST", qop);
        let conn = Arc::new(
            Connection::connect(&server.addr.to_string(), TEST_PROTOCOL, &cfg)
                .await
                .unwrap(),
        );
        // Concurrent calls of many sizes: frames sealed in wire order, responses
        // unsealed from a stream cut at WRAP boundaries, large ones spanning reads.
        let mut tasks = Vec::new();
        for i in 0..40usize {
            let conn = conn.clone();
            tasks.push(tokio::spawn(async move {
                let text = "x".repeat(i * i * 97 % 300_000) + &i.to_string();
                let resp = echo(&conn, &text).await.unwrap();
                assert_eq!(resp.text, text);
                assert_eq!(resp.user, "alice");
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn a_simple_client_is_refused_by_a_secure_server() {
    let server = secure_server(Qop::Privacy).await;
    let err = Connection::connect(&server.addr.to_string(), TEST_PROTOCOL, &client_config()).await;
    let err = match err {
        Ok(conn) => echo(&conn, "hi").await.unwrap_err(),
        Err(e) => e,
    };
    let err = remote(err);
    assert_eq!(err.class_name, exceptions::ACCESS_CONTROL);
    assert_eq!(
        err.message,
        "SIMPLE authentication is not enabled.  Available:[KERBEROS]"
    );
    assert_eq!(err.code, RpcErrorCode::FatalUnauthorized);
    // A SASL-speaking client without credentials for any offered method is refused by
    // itself, before sending anything it could not prove.
    let mut cfg = client_config();
    cfg.sasl = true;
    let err = Connection::connect(&server.addr.to_string(), TEST_PROTOCOL, &cfg)
        .await
        .err()
        .expect("a SIMPLE client must not get through");
    let err = remote(err);
    assert!(
        err.message
            .contains("Client cannot authenticate via:[KERBEROS]"),
        "{err}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_secure_client_refuses_a_server_offering_simple() {
    let server = start(config(), Arc::new(EchoService::default())).await;
    let cfg = secure_client("alice@TEST", "alice@TEST", "pw-alice@TEST", Qop::Privacy);
    let err = Connection::connect(&server.addr.to_string(), TEST_PROTOCOL, &cfg)
        .await
        .err()
        .expect("fallback to SIMPLE must be refused");
    let err = remote(err);
    assert_eq!(err.message, SIMPLE_FALLBACK_REFUSED);
    server.stop().await;
}

#[tokio::test]
async fn a_wrong_password_is_a_fatal_sasl_error() {
    let server = secure_server(Qop::Integrity).await;
    let cfg = secure_client("alice@TEST", "alice@TEST", "guess", Qop::Integrity);
    let err = Connection::connect(&server.addr.to_string(), TEST_PROTOCOL, &cfg).await;
    let err = match err {
        Ok(conn) => echo(&conn, "hi").await.unwrap_err(),
        Err(e) => e,
    };
    let err = remote(err);
    assert_eq!(err.class_name, exceptions::SASL);
    assert!(err.message.contains("bad password for alice@TEST"), "{err}");
    server.stop().await;
}

#[tokio::test]
async fn impersonation_follows_the_policy() {
    let server = secure_server(Qop::Integrity).await;
    let addr = server.addr.to_string();
    // oozie may act as alice: calls run as alice.
    let cfg = secure_client("oozie@TEST", "alice", "pw-oozie@TEST", Qop::Integrity);
    let conn = Connection::connect(&addr, TEST_PROTOCOL, &cfg)
        .await
        .unwrap();
    assert_eq!(echo(&conn, "as alice").await.unwrap().user, "alice");
    // …but not as hdfs, and alice may act as nobody.
    for (principal, claimed) in [("oozie@TEST", "hdfs"), ("alice@TEST", "hdfs")] {
        let pw = format!("pw-{principal}");
        let cfg = secure_client(principal, claimed, &pw, Qop::Integrity);
        let conn = Connection::connect(&addr, TEST_PROTOCOL, &cfg)
            .await
            .unwrap();
        let err = remote(echo(&conn, "as hdfs").await.unwrap_err());
        assert_eq!(err.class_name, exceptions::AUTHORIZATION);
        assert_eq!(
            err.message,
            format!("User: {principal} is not allowed to impersonate hdfs")
        );
        // The server refuses the connection context with a FATAL and closes, often
        // before the client's first call is registered: a call made after the close
        // still gets the server's reason, not a bare "connection closed".
        let conn = Connection::connect(&addr, TEST_PROTOCOL, &cfg)
            .await
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !conn.is_closed() {
            assert!(std::time::Instant::now() < deadline, "server never closed");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let err = remote(echo(&conn, "as hdfs").await.unwrap_err());
        assert_eq!(err.class_name, exceptions::AUTHORIZATION);
    }
    server.stop().await;
}

/// After integrity was negotiated, a frame the client did not seal — as a man in the
/// middle would inject — closes the connection with nothing run.
#[tokio::test]
async fn an_unsealed_frame_after_negotiation_closes_the_connection() {
    let server = secure_server(Qop::Integrity).await;
    let mut s = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    s.write_all(b"hrpc\x09\x00\xdf").await.unwrap();
    // NEGOTIATE, then INITIATE X-TEST with a good password, by hand.
    let sasl = |msg: hafs_proto::common::RpcSaslProto| {
        let header = hafs_proto::common::RpcRequestHeaderProto {
            rpc_kind: Some(hafs_proto::common::RpcKindProto::RpcProtocolBuffer as i32),
            rpc_op: Some(0),
            call_id: -33,
            client_id: Bytes::new(),
            retry_count: Some(-1),
            ..Default::default()
        };
        hafs_ipc::frame::out_of_band_frame(&header, Some(&msg))
    };
    use hafs_proto::common::rpc_sasl_proto::SaslState;
    s.write_all(&sasl(hafs_proto::common::RpcSaslProto {
        state: SaslState::Negotiate as i32,
        ..Default::default()
    }))
    .await
    .unwrap();
    let (_, _) = read_response(&mut s).await;
    s.write_all(&sasl(hafs_proto::common::RpcSaslProto {
        state: SaslState::Initiate as i32,
        token: Some(Bytes::from_static(b"bob@TEST\0pw-bob@TEST")),
        auths: vec![SaslAuth {
            method: "KERBEROS".into(),
            mechanism: "X-TEST".into(),
            protocol: Some("nn".into()),
            server_id: Some("localhost".into()),
            challenge: None,
        }],
        ..Default::default()
    }))
    .await
    .unwrap();
    let (h, _) = read_response(&mut s).await;
    assert_eq!(h.status, 0, "SASL should succeed: {h:?}");
    // Now an unsealed connection context: refused, connection closed.
    s.write_all(&context_frame()).await.unwrap();
    // The refusal itself travels sealed, like everything after SUCCESS.
    let (h, body) = read_response(&mut s).await;
    assert_eq!(h.call_id as i32, -33, "{h:?}");
    let msg = hafs_proto::common::RpcSaslProto::decode(body).unwrap();
    assert_eq!(msg.state, SaslState::Wrap as i32);
    let mut seal = Seal {
        key: 0x5a,
        send_seq: 0,
        recv_seq: 0,
    };
    let plain = seal.unwrap(msg.token.as_deref().unwrap()).unwrap();
    let (h, _) = hafs_ipc::frame::parse_response(Bytes::from(plain).slice(4..)).unwrap();
    assert_eq!(h.status, 2, "expected FATAL, got {h:?}");
    assert!(h.error_msg.unwrap_or_default().contains("unwrapped"));
    assert_closed(&mut s).await;
    server.stop().await;
}

/// Service-level authorization: a protocol pinned to a daemon principal refuses every
/// other authenticated user, naming the principal it expected for the caller's host.
#[tokio::test]
async fn a_pinned_protocol_admits_only_its_principal() {
    let mut cfg = config();
    cfg.auth = ServerAuth {
        methods: vec![Arc::new(TestMethod {
            qop: Qop::Integrity,
        })],
        impersonation: None,
        client_principals: Some(Arc::new(|protocol: &str| {
            (protocol == TEST_PROTOCOL).then(|| "dn/_HOST@TEST".to_string())
        })),
    };
    let server = start(cfg, Arc::new(EchoService::default())).await;
    let addr = server.addr.to_string();
    let host = hafs_ipc::auth::kerberos::canonical_host("127.0.0.1");
    let dn = format!("dn/{host}@TEST");
    let cfg = secure_client(&dn, &dn, &format!("pw-{dn}"), Qop::Integrity);
    let conn = Connection::connect(&addr, TEST_PROTOCOL, &cfg)
        .await
        .unwrap();
    assert_eq!(echo(&conn, "report").await.unwrap().text, "report");

    for who in ["alice@TEST", "dn/elsewhere@TEST"] {
        let cfg = secure_client(who, who, &format!("pw-{who}"), Qop::Integrity);
        let conn = Connection::connect(&addr, TEST_PROTOCOL, &cfg)
            .await
            .unwrap();
        let err = remote(echo(&conn, "report").await.unwrap_err());
        assert_eq!(err.class_name, exceptions::AUTHORIZATION);
        assert_eq!(
            err.message,
            format!(
                "User {who} (KERBEROS) is not authorized for protocol {TEST_PROTOCOL}, expected client Kerberos principal is {dn}"
            )
        );
    }
    server.stop().await;
}
