//! The read guard over real IPC (docs/election.md): an Active NameNode whose guard
//! deadline has passed answers reads and writes with StandbyException, so clients
//! fail over; a renewed guard serves them again; a NameNode without automatic failover
//! refuses to take a guard from anyone.

use std::time::Duration;

use bytes::Bytes;
use hafs_ipc::{ClientConfig, Connection};
use hafs_namenode::ha::active_guard::monotonic_nanos;
use hafs_namenode::namesystem::HaState;
use hafs_proto::common as cpb;
use hafs_proto::hdfs as pb;
use prost::Message;

mod common;

use common::*;

const HA_PROTOCOL: &str = "org.apache.hadoop.ha.HAServiceProtocol";

fn mkdirs(src: &str) -> Vec<u8> {
    pb::MkdirsRequestProto {
        src: src.into(),
        masked: pb::FsPermissionProto { perm: 0o755 },
        create_parent: true,
        ..Default::default()
    }
    .encode_to_vec()
}

fn get_file_info(src: &str) -> Vec<u8> {
    pb::GetFileInfoRequestProto { src: src.into() }.encode_to_vec()
}

#[tokio::test]
async fn an_expired_guard_refuses_reads_and_writes_and_a_renewed_one_serves() {
    let dir = temp_dir("active-guard");
    format(&dir);
    let nn = start(&dir).await;
    assert_eq!(nn.fsn.ha_state(), HaState::Active);
    let c = connect(&nn.addr, &Bytes::from_static(&[3u8; 16])).await;
    let mut call_id = 0;
    let mut run = |method: &'static str, req: Vec<u8>| {
        call_id += 1;
        let id = call_id;
        let c = &c;
        async move {
            c.call_raw(method, Bytes::from(req), id, 0, Duration::from_secs(30))
                .await
        }
    };

    // Unguarded (never set): served as before.
    run("mkdirs", mkdirs("/before")).await.unwrap();

    // A guard in the past: Active, but every read and write is a StandbyException.
    nn.fsn.active_guard.extend(monotonic_nanos() - 1).unwrap();
    for (method, req) in [
        ("mkdirs", mkdirs("/during")),
        ("getFileInfo", get_file_info("/before")),
        ("getListing", {
            pb::GetListingRequestProto {
                src: "/".into(),
                start_after: Bytes::new(),
                need_location: false,
            }
            .encode_to_vec()
        }),
    ] {
        let e = run(method, req).await.unwrap_err();
        assert!(e.is_standby(), "{method} behind an expired guard: {e:?}");
        assert!(e.to_string().contains("expired failover lease"), "{e}");
    }
    assert_eq!(nn.fsn.ha_state(), HaState::Active);

    // Renewed: served again, and the refused write never happened.
    nn.fsn
        .active_guard
        .extend(monotonic_nanos() + 30_000_000_000)
        .unwrap();
    run("mkdirs", mkdirs("/after")).await.unwrap();
    let info = run("getFileInfo", get_file_info("/during")).await.unwrap();
    let info = pb::GetFileInfoResponseProto::decode(info).unwrap();
    assert!(
        info.fs.is_none(),
        "a write refused by the guard was applied"
    );
    let info = run("getFileInfo", get_file_info("/after")).await.unwrap();
    assert!(pb::GetFileInfoResponseProto::decode(info)
        .unwrap()
        .fs
        .is_some());

    // It lapses by itself once the deadline passes.
    nn.fsn.active_guard.clear();
    nn.fsn
        .active_guard
        .extend(monotonic_nanos() + 300_000_000)
        .unwrap();
    run("getFileInfo", get_file_info("/after")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let e = run("getFileInfo", get_file_info("/after"))
        .await
        .unwrap_err();
    assert!(e.is_standby(), "{e:?}");

    // Only a NameNode under automatic failover takes a guard over HAServiceProtocol.
    let mut cfg = ClientConfig::new(hafs_conf::current_user_name());
    cfg.client_id = Bytes::from_static(&[4u8; 16]);
    let ha = Connection::connect(&nn.addr, HA_PROTOCOL, &cfg)
        .await
        .unwrap();
    let req = cpb::HafsRenewActiveGuardRequestProto {
        until_monotonic_nanos: monotonic_nanos() + 10_000_000_000,
    };
    let e = ha
        .call_raw(
            "hafsRenewActiveGuard",
            Bytes::from(req.encode_to_vec()),
            1,
            0,
            Duration::from_secs(30),
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("automatic failover"),
        "a guard taken without automatic failover: {e:?}"
    );
    stop(nn).await;
    let _ = std::fs::remove_dir_all(&dir);
}
