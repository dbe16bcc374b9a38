//! Delegation tokens end to end on an in-process NameNode with security on: a client
//! holding a token authenticates over the real IPC server with TOKEN/DIGEST-MD5 at each
//! quality of protection and its calls run as the token's owner; forged, cancelled,
//! expired and foreign tokens are refused with Hadoop's exceptions; tokens survive a
//! restart from the edit log and from an fsimage.
//!
//! Kerberos is not available to these tests, so tokens are issued through the secret
//! manager's plan directly (what getDelegationToken does after its Kerberos check).

mod common;

use std::path::Path;
use std::sync::Arc;

use common::*;
use hafs_ipc::auth::token::TokenMechanism;
use hafs_ipc::auth::ClientAuth;
use hafs_ipc::{exceptions, ClientConfig, Connection, IpcError, RpcError};
use hafs_namenode::namesystem::Namesystem;
use hafs_namenode::security::token_method::now_ms;
use hafs_namenode::security::{DelegationTokenConfig, DelegationTokens};
use hafs_namenode::{NameNode, NameNodeConfig};
use hafs_proto::common as cpb;
use hafs_proto::hdfs as pb;
use hafs_security::sasl::Qop;
use hafs_security::token::{Token, HDFS_DELEGATION_KIND};

const DAY: i64 = 86_400_000;

fn secure_config(dir: &Path, qop: Qop) -> NameNodeConfig {
    let mut c = config(dir);
    c.security_enabled = true;
    c.rpc_protection = vec![qop];
    c
}

async fn start_secure(dir: &Path, qop: Qop) -> Running {
    let mut tries = 0;
    loop {
        match NameNode::start(secure_config(dir, qop)).await {
            Ok(nn) => return spawn(nn),
            Err(e) if tries < 50 && e.to_string().contains("locked") => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("NameNode start: {e}"),
        }
    }
}

/// Issues a token as getDelegationToken would for a Kerberos caller, at time `now`.
async fn issue(fsn: &Namesystem, now: i64, owner: &str, renewer: &str) -> Token {
    fsn.roll_master_key_if_due(now).await.unwrap();
    let cfg = fsn.config.delegation_tokens;
    let (token, _) = fsn
        .mutate_op("issue delegation token", None, |ns| {
            let (edit, token) = ns
                .delegation_tokens()
                .plan_issue(now, &cfg, owner, renewer, "")
                .unwrap();
            Ok((Some(edit), token))
        })
        .await
        .unwrap();
    token
}

async fn cancel(fsn: &Namesystem, token: &Token, canceller: &str, short: &str) {
    fsn.mutate_op("cancel delegation token", None, |ns| {
        let edit = ns
            .delegation_tokens()
            .plan_cancel(token, canceller, short)
            .unwrap();
        Ok((Some(edit), ()))
    })
    .await
    .unwrap();
}

fn token_client(token: &Token, service: &str, qop: Qop) -> ClientConfig {
    // The user in the connection context is the token owner's short name, as Java's.
    let mut cfg = ClientConfig::new("alice");
    let mut held = token.clone();
    held.service = service.to_string();
    cfg.auth = ClientAuth {
        mechanisms: vec![Arc::new(TokenMechanism::new(
            vec![held],
            HDFS_DELEGATION_KIND,
            service,
            vec![qop],
        ))],
    };
    cfg
}

async fn connect_with(addr: &str, cfg: &ClientConfig) -> Result<Connection, IpcError> {
    Connection::connect(addr, hafs_namenode::client_protocol::PROTOCOL, cfg).await
}

/// Connects and makes one call; the error of whichever step refused.
async fn try_call(
    addr: &str,
    cfg: &ClientConfig,
) -> Result<pb::GetFileInfoResponseProto, RpcError> {
    let remote = |e: IpcError| match e {
        IpcError::Remote(r) => r,
        other => panic!("expected a remote error, got {other:?}"),
    };
    let conn = connect_with(addr, cfg).await.map_err(remote)?;
    call(
        &conn,
        "getFileInfo",
        &pb::GetFileInfoRequestProto { src: "/".into() },
        1,
        0,
    )
    .await
    .map_err(remote)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_authenticates_at_every_protection_and_calls_run_as_its_owner() {
    for qop in [Qop::Authentication, Qop::Integrity, Qop::Privacy] {
        let dir = temp_dir(&format!("dt-qop-{}", qop.hadoop_name()));
        format(&dir);
        let nn = start_secure(&dir, qop).await;
        let token = issue(&nn.fsn, now_ms(), "alice@HAFS.TEST", "yarn").await;
        let conn = connect_with(&nn.addr, &token_client(&token, &nn.addr, qop))
            .await
            .unwrap();
        // Calls run as alice: the root directory (root's, 0755) refuses her a mkdir,
        // and the refusal names her.
        let err = call::<_, pb::MkdirsResponseProto>(
            &conn,
            "mkdirs",
            &pb::MkdirsRequestProto {
                src: "/alice-dir".into(),
                masked: pb::FsPermissionProto { perm: 0o755 },
                create_parent: true,
                ..Default::default()
            },
            1,
            0,
        )
        .await
        .unwrap_err();
        let IpcError::Remote(err) = err else {
            panic!("{err:?}")
        };
        assert_eq!(err.class_name, exceptions::ACCESS_CONTROL);
        assert!(
            err.message
                .starts_with("Permission denied: user=alice, access=WRITE"),
            "{err}"
        );
        let st: pb::GetFileInfoResponseProto = call(
            &conn,
            "getFileInfo",
            &pb::GetFileInfoRequestProto { src: "/".into() },
            2,
            0,
        )
        .await
        .unwrap();
        assert!(st.fs.is_some(), "at {qop}");
        // A token holder cannot get more tokens: only Kerberos callers can.
        let err = call::<_, cpb::GetDelegationTokenResponseProto>(
            &conn,
            "getDelegationToken",
            &cpb::GetDelegationTokenRequestProto {
                renewer: "yarn".into(),
            },
            3,
            0,
        )
        .await
        .unwrap_err();
        let IpcError::Remote(err) = err else {
            panic!("{err:?}")
        };
        assert_eq!(err.class_name, exceptions::IO);
        assert_eq!(
            err.message,
            "Delegation Token can be issued only with kerberos or web authentication"
        );
        // Only yarn renews; alice (the caller) is refused with Hadoop's message.
        let err = call::<_, cpb::RenewDelegationTokenResponseProto>(
            &conn,
            "renewDelegationToken",
            &cpb::RenewDelegationTokenRequestProto {
                token: token.to_proto(),
            },
            4,
            0,
        )
        .await
        .unwrap_err();
        let IpcError::Remote(err) = err else {
            panic!("{err:?}")
        };
        // Renewal also needs Kerberos.
        assert_eq!(
            err.message,
            "Delegation Token can be renewed only with kerberos or web authentication"
        );
        // The owner cancels over its own token's connection; the next connection
        // with it is refused.
        let _: cpb::CancelDelegationTokenResponseProto = call(
            &conn,
            "cancelDelegationToken",
            &cpb::CancelDelegationTokenRequestProto {
                token: token.to_proto(),
            },
            5,
            0,
        )
        .await
        .unwrap();
        let err = try_call(&nn.addr, &token_client(&token, &nn.addr, qop))
            .await
            .unwrap_err();
        assert_eq!(err.class_name, exceptions::INVALID_TOKEN);
        assert!(err.message.ends_with(") can't be found in cache"), "{err}");
        stop(nn).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_cancelled_expired_and_foreign_tokens_are_refused() {
    let dir = temp_dir("dt-refusals");
    format(&dir);
    let qop = Qop::Integrity;
    let nn = start_secure(&dir, qop).await;
    let now = now_ms();
    let good = issue(&nn.fsn, now, "alice@HAFS.TEST", "yarn").await;
    assert!(try_call(&nn.addr, &token_client(&good, &nn.addr, qop))
        .await
        .is_ok());

    // A forged password: DIGEST-MD5 finds the response wrong.
    let mut forged = good.clone();
    forged.password[0] ^= 1;
    let err = try_call(&nn.addr, &token_client(&forged, &nn.addr, qop))
        .await
        .unwrap_err();
    assert_eq!(err.class_name, exceptions::SASL);
    assert_eq!(
        err.message,
        "DIGEST-MD5: digest response format violation. Mismatched response."
    );

    // Expired: issued two days ago and never renewed.
    let old = issue(&nn.fsn, now - 2 * DAY, "alice@HAFS.TEST", "yarn").await;
    let err = try_call(&nn.addr, &token_client(&old, &nn.addr, qop))
        .await
        .unwrap_err();
    assert_eq!(err.class_name, exceptions::INVALID_TOKEN);
    assert!(
        err.message.starts_with(
            "token (token for alice: HDFS_DELEGATION_TOKEN owner=alice@HAFS.TEST, renewer=yarn"
        ),
        "{err}"
    );
    assert!(
        err.message.contains(") is expired, current time: "),
        "{err}"
    );

    // Cancelled.
    let doomed = issue(&nn.fsn, now, "alice@HAFS.TEST", "yarn").await;
    cancel(&nn.fsn, &doomed, "alice@HAFS.TEST", "alice").await;
    let err = try_call(&nn.addr, &token_client(&doomed, &nn.addr, qop))
        .await
        .unwrap_err();
    assert_eq!(err.class_name, exceptions::INVALID_TOKEN);
    assert!(err.message.ends_with(") can't be found in cache"), "{err}");

    // Foreign: another secret manager's token (its own key) is unknown here.
    let mut other = DelegationTokens::default();
    let cfg = DelegationTokenConfig::default();
    let roll = other.plan_roll_master_key(now, &cfg, vec![7; 64]);
    other.apply(roll.op.as_ref().unwrap()).unwrap().unwrap();
    let (_, foreign) = other
        .plan_issue(now, &cfg, "alice@HAFS.TEST", "yarn", "")
        .unwrap();
    // Its identifier equals our first token's (same names, numbers and time): only the
    // key differs, and DIGEST-MD5 finds the proof wrong.
    assert_eq!(foreign.identifier, good.identifier);
    let err = try_call(&nn.addr, &token_client(&foreign, &nn.addr, qop))
        .await
        .unwrap_err();
    assert_eq!(err.class_name, exceptions::SASL);
    assert!(err.message.ends_with("Mismatched response."), "{err}");
    // One we never issued is unknown.
    let (_, foreign) = other
        .plan_issue(now + 1, &cfg, "alice@HAFS.TEST", "yarn", "")
        .unwrap();
    let err = try_call(&nn.addr, &token_client(&foreign, &nn.addr, qop))
        .await
        .unwrap_err();
    assert_eq!(err.class_name, exceptions::INVALID_TOKEN);
    assert!(err.message.ends_with(") can't be found in cache"), "{err}");

    // A token for another service is not even tried; nothing else is held, so the
    // client refuses to go on.
    let mut cfg = token_client(&good, "ha-hdfs:elsewhere", qop);
    let held = good.clone();
    cfg.auth = ClientAuth {
        mechanisms: vec![Arc::new(TokenMechanism::new(
            vec![Token {
                service: "ha-hdfs:elsewhere".into(),
                ..held
            }],
            HDFS_DELEGATION_KIND,
            &nn.addr,
            vec![qop],
        ))],
    };
    let err = try_call(&nn.addr, &cfg).await.unwrap_err();
    assert!(
        err.message
            .contains("Client cannot authenticate via:[TOKEN]"),
        "{err}"
    );

    // A token holder cannot claim to be someone else (no impersonation with tokens).
    let mut mallory = token_client(&good, &nn.addr, qop);
    // A secure client names another user in its connection context only when it acts
    // for that user (proxies); the server must refuse that with a token.
    mallory.user = "mallory".into();
    mallory.real_user = Some("alice".into());
    let err = try_call(&nn.addr, &mallory).await.unwrap_err();
    assert_eq!(err.class_name, exceptions::ACCESS_CONTROL);
    assert_eq!(
        err.message,
        "Authenticated user (alice@HAFS.TEST) doesn't match what the client claims to be (mallory)"
    );

    // SIMPLE is refused by a secure NameNode.
    let err = try_call(&nn.addr, &ClientConfig::new("alice"))
        .await
        .unwrap_err();
    assert_eq!(err.class_name, exceptions::ACCESS_CONTROL);
    assert_eq!(
        err.message,
        "SIMPLE authentication is not enabled.  Available:[TOKEN]"
    );
    stop(nn).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_survive_restarts_from_edits_and_from_an_image() {
    let dir = temp_dir("dt-restart");
    format(&dir);
    let qop = Qop::Privacy;
    let nn = start_secure(&dir, qop).await;
    let now = now_ms();
    let kept = issue(&nn.fsn, now, "alice@HAFS.TEST", "yarn").await;
    let gone = issue(&nn.fsn, now, "alice@HAFS.TEST", "yarn").await;
    cancel(&nn.fsn, &gone, "yarn/rm@HAFS.TEST", "yarn").await;
    let before = nn.fsn.read().delegation_tokens().clone();
    stop(nn).await;

    // From the edit log.
    let nn = start_secure(&dir, qop).await;
    assert_eq!(*nn.fsn.read().delegation_tokens(), before);
    assert!(try_call(&nn.addr, &token_client(&kept, &nn.addr, qop))
        .await
        .is_ok());
    let err = try_call(&nn.addr, &token_client(&gone, &nn.addr, qop))
        .await
        .unwrap_err();
    assert_eq!(err.class_name, exceptions::INVALID_TOKEN);
    // Sequence numbers go on from where they were.
    let next = issue(&nn.fsn, now, "bob@HAFS.TEST", "").await;
    assert_eq!(next.delegation_identifier().unwrap().sequence_number, 3);
    nn.fsn.save_namespace().await.unwrap();
    let before = nn.fsn.read().delegation_tokens().clone();
    stop(nn).await;

    // From the fsimage (and the few edits after it).
    let nn = start_secure(&dir, qop).await;
    assert_eq!(*nn.fsn.read().delegation_tokens(), before);
    assert!(try_call(&nn.addr, &token_client(&kept, &nn.addr, qop))
        .await
        .is_ok());
    let mut bob = token_client(&next, &nn.addr, qop);
    bob.user = "bob".into();
    assert!(try_call(&nn.addr, &bob).await.is_ok());
    stop(nn).await;
}

/// A token issued by nn1 is known to nn2 once nn2 has tailed the edits, and stays valid
/// after a failover; the Standby issues nothing. (SIMPLE mode here: the harness's HA
/// transitions use SIMPLE connections; the TOKEN exchange itself is covered above.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_issued_by_nn1_is_valid_on_nn2_after_a_failover() {
    use common::ha::{assert_standby_equal, to_active, to_standby, HaCluster};
    use hafs_namenode::namesystem::HaState;

    let dir = temp_dir("dt-ha");
    let cluster = HaCluster::new(&dir, "dtns", &[("dfs.ha.tail-edits.period", "20ms")]).await;
    cluster.format().await;
    let nn1 = cluster.start("nn1").await;
    let nn2 = cluster.start("nn2").await;
    to_active(&nn1.addr).await;
    let now = now_ms();
    let token = issue(&nn1.fsn, now, "alice@HAFS.TEST", "yarn").await;
    let doomed = issue(&nn1.fsn, now, "alice@HAFS.TEST", "yarn").await;
    cancel(&nn1.fsn, &doomed, "alice@HAFS.TEST", "alice").await;
    assert_standby_equal(&nn1.fsn, &nn2.fsn).await;
    assert_eq!(
        *nn2.fsn.read().delegation_tokens(),
        *nn1.fsn.read().delegation_tokens()
    );

    // The Standby refuses to issue: StandbyException, so clients fail over.
    let conn = connect(&nn2.addr, &bytes::Bytes::from_static(&[3u8; 16])).await;
    let err = call::<_, cpb::GetDelegationTokenResponseProto>(
        &conn,
        "getDelegationToken",
        &cpb::GetDelegationTokenRequestProto {
            renewer: "yarn".into(),
        },
        1,
        0,
    )
    .await
    .unwrap_err();
    assert!(err.is_standby(), "{err:?}");

    to_standby(&nn1.addr).await;
    to_active(&nn2.addr).await;
    assert_eq!(nn2.fsn.ha_state(), HaState::Active);
    let later = now_ms();
    let tokens = nn2.fsn.read().delegation_tokens().clone();
    assert_eq!(
        tokens.retrieve_password(later, &token.identifier).unwrap(),
        token.password
    );
    assert!(tokens.retrieve_password(later, &doomed.identifier).is_err());
    // The new Active renews and issues, continuing the sequence numbers.
    let cfg = nn2.fsn.config.delegation_tokens;
    let (_, expiry) = tokens.plan_renew(later, &cfg, &token, "yarn").unwrap();
    assert!(expiry > now);
    let next = issue(&nn2.fsn, later, "bob@HAFS.TEST", "").await;
    assert_eq!(next.delegation_identifier().unwrap().sequence_number, 3);
    stop(nn1).await;
    stop(nn2).await;
    cluster.shutdown().await;
}

/// Secure HA pair: a Standby refuses TOKEN authentication with StandbyException (so the
/// client fails over); after a failover the token nn1 issued authenticates on nn2 and
/// calls run as its owner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_refuses_tokens_and_the_new_active_honours_nn1s() {
    use common::ha::{assert_standby_equal, HaCluster};

    let qop = Qop::Integrity;
    let dir = temp_dir("dt-ha-secure");
    let cluster = HaCluster::new(&dir, "dtsec", &[("dfs.ha.tail-edits.period", "20ms")]).await;
    cluster.format().await;
    let secure = |id: &str| {
        let mut c = cluster.conf(id);
        c.security_enabled = true;
        c.rpc_protection = vec![qop];
        c
    };
    let nn1 = NameNode::start(secure("nn1")).await.unwrap();
    let nn2 = NameNode::start(secure("nn2")).await.unwrap();
    let (ha1, ha2) = (nn1.ha.clone(), nn2.ha.clone());
    let (nn1, nn2) = (spawn(nn1), spawn(nn2));
    ha1.transition_to_active().await.unwrap();
    let token = issue(&nn1.fsn, now_ms(), "alice@HAFS.TEST", "yarn").await;
    assert!(try_call(&nn1.addr, &token_client(&token, &nn1.addr, qop))
        .await
        .is_ok());
    assert_standby_equal(&nn1.fsn, &nn2.fsn).await;

    let err = try_call(&nn2.addr, &token_client(&token, &nn2.addr, qop))
        .await
        .unwrap_err();
    assert_eq!(err.class_name, exceptions::STANDBY, "{err}");
    assert!(
        err.message
            .starts_with("Operation category READ is not supported in state standby"),
        "{err}"
    );

    ha1.transition_to_standby().await.unwrap();
    ha2.transition_to_active().await.unwrap();
    let st = try_call(&nn2.addr, &token_client(&token, &nn2.addr, qop))
        .await
        .unwrap();
    assert!(st.fs.is_some());
    let err = try_call(&nn1.addr, &token_client(&token, &nn1.addr, qop))
        .await
        .unwrap_err();
    assert_eq!(err.class_name, exceptions::STANDBY, "{err}");
    stop(nn1).await;
    stop(nn2).await;
    cluster.shutdown().await;
}

/// Without security (the default) Hadoop's secret manager does not run: a SIMPLE
/// caller asking for a token gets none, and nothing is logged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simple_namenode_issues_no_token() {
    let dir = temp_dir("dt-simple");
    format(&dir);
    let nn = start(&dir).await;
    let conn = connect(&nn.addr, &bytes::Bytes::from_static(&[5u8; 16])).await;
    let resp: cpb::GetDelegationTokenResponseProto = call(
        &conn,
        "getDelegationToken",
        &cpb::GetDelegationTokenRequestProto {
            renewer: "yarn".into(),
        },
        1,
        0,
    )
    .await
    .unwrap();
    assert!(resp.token.is_none());
    assert_eq!(
        *nn.fsn.read().delegation_tokens(),
        DelegationTokens::default()
    );
    stop(nn).await;
}

/// The three RPC handlers with Kerberos callers (contexts made here, as no KDC is
/// available): the owner is the caller's principal, the renewer its short name, a proxy
/// user's token names its real user; only the renewer renews, the owner or the renewer
/// cancels, with Hadoop's messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_renew_and_cancel_follow_hadoops_rules_for_kerberos_callers() {
    use hafs_ipc::auth::AuthMethod;
    use hafs_ipc::CallContext;
    use hafs_namenode::client_protocol::ClientProtocolService;

    let dir = temp_dir("dt-rpc-rules");
    format(&dir);
    let nn = start_secure(&dir, Qop::Authentication).await;
    let svc = ClientProtocolService {
        fsn: nn.fsn.clone(),
    };
    let ctx = |user: &str, principal: &str, real: Option<&str>, method: AuthMethod| CallContext {
        user: user.into(),
        real_user: real.map(str::to_string),
        auth_method: method,
        principal: Some(principal.into()),
        token_identifier: None,
        client_id: bytes::Bytes::from_static(&[9u8; 16]),
        call_id: 1,
        retry_count: 0,
        peer: "127.0.0.1:1".parse().unwrap(),
        state_id: None,
    };
    let alice = ctx("alice", "alice@HAFS.TEST", None, AuthMethod::Kerberos);
    let yarn = ctx("yarn", "yarn/rm@HAFS.TEST", None, AuthMethod::Kerberos);
    let mallory = ctx("mallory", "mallory@HAFS.TEST", None, AuthMethod::Kerberos);
    let get = |renewer: &str| cpb::GetDelegationTokenRequestProto {
        renewer: renewer.into(),
    };

    let before = now_ms();
    let token = svc
        .get_delegation_token(&alice, get("yarn/rm@HAFS.TEST"))
        .await
        .unwrap()
        .token
        .unwrap();
    let token = Token::from_proto(&token).unwrap();
    assert_eq!(token.kind, HDFS_DELEGATION_KIND);
    assert_eq!(token.service, "", "the client sets the service");
    let id = token.delegation_identifier().unwrap();
    assert_eq!(
        (
            id.owner.as_str(),
            id.renewer.as_str(),
            id.real_user.as_str()
        ),
        ("alice@HAFS.TEST", "yarn", "")
    );
    assert!(id.issue_date >= before && id.max_date == id.issue_date + 7 * DAY);

    // A proxy user's token: owner the effective user, realUser the authenticated one.
    let proxied = ctx(
        "bob",
        "oozie@HAFS.TEST",
        Some("oozie"),
        AuthMethod::Kerberos,
    );
    let t = svc
        .get_delegation_token(&proxied, get(""))
        .await
        .unwrap()
        .token
        .unwrap();
    let pid = Token::from_proto(&t)
        .unwrap()
        .delegation_identifier()
        .unwrap();
    assert_eq!(
        (
            pid.owner.as_str(),
            pid.renewer.as_str(),
            pid.real_user.as_str()
        ),
        ("bob", "", "oozie@HAFS.TEST")
    );
    assert_eq!(pid.sequence_number, id.sequence_number + 1);

    // Over a token connection: refused.
    let via_token = ctx("alice", "alice@HAFS.TEST", None, AuthMethod::Token);
    let err = svc
        .get_delegation_token(&via_token, get("yarn"))
        .await
        .unwrap_err();
    assert_eq!(err.class_name, exceptions::IO);

    let renew = || cpb::RenewDelegationTokenRequestProto {
        token: token.to_proto(),
    };
    let expiry = svc
        .renew_delegation_token(&yarn, renew())
        .await
        .unwrap()
        .new_expiry_time as i64;
    assert!(expiry >= before + DAY && expiry <= now_ms() + DAY);
    let err = svc
        .renew_delegation_token(&alice, renew())
        .await
        .unwrap_err();
    assert_eq!(err.class_name, exceptions::ACCESS_CONTROL);
    assert!(
        err.message
            .starts_with("alice tries to renew a token (token for alice: ")
            && err.message.ends_with(") with non-matching renewer yarn"),
        "{err}"
    );

    let cancel = || cpb::CancelDelegationTokenRequestProto {
        token: token.to_proto(),
    };
    let err = svc
        .cancel_delegation_token(&mallory, cancel())
        .await
        .unwrap_err();
    assert_eq!(err.class_name, exceptions::ACCESS_CONTROL);
    assert!(
        err.message.starts_with(
            "mallory@HAFS.TEST is not authorized to cancel the token (token for alice"
        ),
        "{err}"
    );
    svc.cancel_delegation_token(&yarn, cancel()).await.unwrap();
    let err = svc
        .renew_delegation_token(&yarn, renew())
        .await
        .unwrap_err();
    assert_eq!(err.class_name, exceptions::INVALID_TOKEN);
    assert!(
        err.message
            .starts_with("Renewal request for unknown token ("),
        "{err}"
    );
    let err = svc
        .cancel_delegation_token(&alice, cancel())
        .await
        .unwrap_err();
    assert_eq!(err.class_name, exceptions::INVALID_TOKEN);
    assert!(err.message.starts_with("Token not found ("), "{err}");
    stop(nn).await;
}
