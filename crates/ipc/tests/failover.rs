//! The failover proxy: past a Standby and a dead address, one call id throughout.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use hafs_ipc::{exceptions, FailoverConfig, FailoverProxy};

fn fast_failover() -> FailoverConfig {
    FailoverConfig {
        max_attempts: 15,
        sleep_base: Duration::from_millis(1),
        sleep_max: Duration::from_millis(5),
        connection_retries: 0,
    }
}

/// An address nothing listens on: bind, note the port, close.
async fn dead_addr() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = l.local_addr().unwrap();
    drop(l);
    a.to_string()
}

fn req(text: &str) -> EchoRequestProto {
    EchoRequestProto {
        text: text.into(),
        delay_ms: 0,
    }
}

#[tokio::test]
async fn standby_then_active_reuses_the_call_id() {
    let standby = Arc::new(StandbyService::default());
    let active = Arc::new(EchoService::default());
    let s1 = start(config(), standby.clone()).await;
    let s2 = start(config(), active.clone()).await;
    let proxy = FailoverProxy::new(
        vec![s1.addr.to_string(), s2.addr.to_string()],
        TEST_PROTOCOL,
        client_config(),
        fast_failover(),
    );
    let resp: EchoResponseProto = proxy.call("echo", &req("hello")).await.unwrap();
    assert_eq!(resp.text, "hello");

    let on_standby = standby.seen.lock().unwrap().clone();
    let on_active = active.seen.lock().unwrap().clone();
    assert_eq!(on_standby.len(), 1);
    assert_eq!(on_active.len(), 1);
    let (id, retry, _) = &on_standby[0];
    assert_eq!(*retry, 0);
    assert_eq!(on_active[0].0, *id, "the retry must carry the same call id");
    assert_eq!(on_active[0].1, 1);
    assert_eq!(proxy.current_addr(), Some(s2.addr.to_string().as_str()));
}

#[tokio::test]
async fn past_standby_and_dead_address_then_remembers_the_active() {
    let standby = Arc::new(StandbyService::default());
    let active = Arc::new(EchoService::default());
    let s1 = start(config(), standby.clone()).await;
    let s3 = start(config(), active.clone()).await;
    let proxy = FailoverProxy::new(
        vec![s1.addr.to_string(), dead_addr().await, s3.addr.to_string()],
        TEST_PROTOCOL,
        client_config(),
        fast_failover(),
    );
    let resp: EchoResponseProto = proxy.call("echo", &req("one")).await.unwrap();
    assert_eq!(resp.text, "one");
    let (id, retry, _) = standby.seen.lock().unwrap()[0].clone();
    assert_eq!(retry, 0);
    let first_on_active = active.seen.lock().unwrap()[0].clone();
    assert_eq!(first_on_active.0, id);
    assert_eq!(
        first_on_active.1, 2,
        "standby (0), dead address (1), active (2)"
    );

    // The next call starts at the address that answered: a new id, no retries.
    let resp: EchoResponseProto = proxy.call("echo", &req("two")).await.unwrap();
    assert_eq!(resp.text, "two");
    assert_eq!(standby.seen.lock().unwrap().len(), 1);
    let second = active.seen.lock().unwrap()[1].clone();
    assert_ne!(second.0, id);
    assert_eq!(second.1, 0);
}

#[tokio::test]
async fn all_standby_gives_up_after_max_attempts() {
    let a = Arc::new(StandbyService::default());
    let b = Arc::new(StandbyService::default());
    let s1 = start(config(), a.clone()).await;
    let s2 = start(config(), b.clone()).await;
    let mut fo = fast_failover();
    fo.max_attempts = 5;
    let proxy = FailoverProxy::new(
        vec![s1.addr.to_string(), s2.addr.to_string()],
        TEST_PROTOCOL,
        client_config(),
        fo,
    );
    let err = proxy
        .call::<_, EchoResponseProto>("echo", &req("x"))
        .await
        .unwrap_err();
    assert!(err.is_standby(), "{err:?}");
    let mut all: Vec<_> = a.seen.lock().unwrap().clone();
    all.extend(b.seen.lock().unwrap().iter().cloned());
    all.sort_by_key(|(_, retry, _)| *retry);
    assert_eq!(all.len(), 6, "first attempt plus max_attempts retries");
    let id = all[0].0;
    for (i, (call_id, retry, _)) in all.iter().enumerate() {
        assert_eq!(*call_id, id);
        assert_eq!(*retry, i as i32);
    }
}

#[tokio::test]
async fn other_remote_errors_are_returned_at_once() {
    let active = Arc::new(EchoService::default());
    let standby = Arc::new(StandbyService::default());
    let s1 = start(config(), active.clone()).await;
    let s2 = start(config(), standby.clone()).await;
    let proxy = FailoverProxy::new(
        vec![s1.addr.to_string(), s2.addr.to_string()],
        TEST_PROTOCOL,
        client_config(),
        fast_failover(),
    );
    let err = proxy
        .call::<_, EchoResponseProto>("fail", &req("x"))
        .await
        .unwrap_err();
    assert_eq!(err.remote().unwrap().class_name, exceptions::FILE_NOT_FOUND);
    assert_eq!(active.seen.lock().unwrap().len(), 1);
    assert!(standby.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn only_dead_addresses_fail_with_a_connection_error() {
    let mut fo = fast_failover();
    fo.max_attempts = 3;
    let proxy = FailoverProxy::new(
        vec![dead_addr().await, dead_addr().await],
        TEST_PROTOCOL,
        client_config(),
        fo,
    );
    let err = proxy
        .call::<_, EchoResponseProto>("echo", &req("x"))
        .await
        .unwrap_err();
    assert!(err.is_connection_failure(), "{err:?}");
}
