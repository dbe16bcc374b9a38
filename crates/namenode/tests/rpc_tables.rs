//! The NameNode's RPC tables over real IPC: a method without a row answers
//! RpcNoSuchMethodException worded as Hadoop's, on each of the three protocols the
//! RPC port serves, and a row's request that does not decode is an IOException.

use bytes::Bytes;
use hafs_ipc::{exceptions, RpcErrorCode};
use hafs_proto::hdfs as pb;

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_methods_and_bad_requests_answer_as_before() {
    let dir = temp_dir("rpc_tables");
    format(&dir);
    let nn = start(&dir).await;
    let client_id = Bytes::from(vec![7u8; 16]);
    let protocols = [
        hafs_namenode::client_protocol::PROTOCOL,
        hafs_namenode::ha_service::PROTOCOL,
        hafs_namenode::datanode_protocol::PROTOCOL,
    ];
    for (i, protocol) in protocols.into_iter().enumerate() {
        let c = connect_to(&nn.addr, protocol, &client_id).await;
        let err = call::<_, pb::MkdirsResponseProto>(
            &c,
            "noSuchCall",
            &pb::MsyncRequestProto {},
            i as i32,
            0,
        )
        .await
        .unwrap_err();
        let err = err.remote().expect("a remote error").clone();
        assert_eq!(err.class_name, exceptions::RPC_NO_SUCH_METHOD);
        assert_eq!(err.code, RpcErrorCode::ErrorNoSuchMethod);
        assert_eq!(
            err.message,
            format!("Unknown method noSuchCall called on {protocol} protocol.")
        );
    }

    // A known method whose request does not decode (a string field cut short).
    let c = connect(&nn.addr, &client_id).await;
    let raw = c
        .call_raw(
            "getFileInfo",
            Bytes::from_static(&[0x0a, 0x05, b'/']),
            10,
            0,
            std::time::Duration::from_secs(30),
        )
        .await
        .unwrap_err();
    let err = raw.remote().expect("a remote error");
    assert_eq!(err.class_name, exceptions::IO);
    assert!(
        err.message.contains("GetFileInfoRequestProto"),
        "{}",
        err.message
    );

    stop(nn).await;
    let _ = std::fs::remove_dir_all(&dir);
}
