//! A real NameNode in-process on a loopback port, driven over real IPC: the retry cache
//! answers a retried at-most-once call with its original answer even after a restart
//! (its entries travel in the edit log), group commit shares fsyncs between concurrent
//! calls, a saved namespace is used at the next start, and a torn edit-log tail is cut.

use std::time::Duration;

use bytes::Bytes;
use hafs_namenode::NameNode;
use hafs_proto::hdfs as pb;

mod common;

use common::*;
fn create_req(src: &str) -> pb::CreateRequestProto {
    pb::CreateRequestProto {
        src: src.into(),
        masked: pb::FsPermissionProto { perm: 0o644 },
        client_name: "DFSClient_test".into(),
        create_flag: 0x01,
        create_parent: true,
        replication: 1,
        block_size: 134_217_728,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retried_calls_get_their_original_answer_across_restart() {
    let dir = temp_dir("retry");
    format(&dir);
    let client_id = Bytes::from_static(&[9u8; 16]);
    let nn = start(&dir).await;
    let c = connect(&nn.addr, &client_id).await;

    let first: pb::CreateResponseProto = call(&c, "create", &create_req("/d/f"), 100, 0)
        .await
        .unwrap();
    let file_id = first.fs.as_ref().unwrap().file_id;
    // The same call again (a retry): the original answer, not FileAlreadyExists.
    let again: pb::CreateResponseProto = call(&c, "create", &create_req("/d/f"), 100, 1)
        .await
        .unwrap();
    assert_eq!(again.fs.unwrap().file_id, file_id);
    // A new call for the same path is a different request and fails.
    let err = call::<_, pb::CreateResponseProto>(&c, "create", &create_req("/d/f"), 101, 0)
        .await
        .unwrap_err();
    assert!(
        err.remote()
            .is_some_and(|e| e.class_name.ends_with("FileAlreadyExistsException")
                || e.class_name.ends_with("AlreadyBeingCreatedException")),
        "{err}"
    );
    let del = pb::DeleteRequestProto {
        src: "/d".into(),
        recursive: true,
    };
    let r: pb::DeleteResponseProto = call(&c, "delete", &del, 102, 0).await.unwrap();
    assert!(r.result);
    drop(c);
    stop(nn).await;

    // After a restart the cache is rebuilt from the edit log.
    let nn = start(&dir).await;
    let c = connect(&nn.addr, &client_id).await;
    let r: pb::DeleteResponseProto = call(&c, "delete", &del, 102, 1).await.unwrap();
    assert!(
        r.result,
        "a retried delete must answer true, as the original did"
    );
    // A fresh delete of the now-missing path answers false.
    let r: pb::DeleteResponseProto = call(&c, "delete", &del, 103, 0).await.unwrap();
    assert!(!r.result);
    let again: pb::CreateResponseProto = call(&c, "create", &create_req("/d/f"), 100, 2)
        .await
        .unwrap();
    // The file was deleted since, so the replayed create answers with no status; what
    // matters is that it is not re-run: the path must not exist.
    assert!(again.fs.is_none());
    let info: pb::GetFileInfoResponseProto = call(
        &c,
        "getFileInfo",
        &pb::GetFileInfoRequestProto { src: "/d/f".into() },
        104,
        0,
    )
    .await
    .unwrap();
    assert!(
        info.fs.is_none(),
        "a retried create must not create the file again"
    );
    drop(c);
    stop(nn).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_mkdirs_share_fsyncs_and_survive_restart_with_checkpoint() {
    let dir = temp_dir("group");
    format(&dir);
    let nn = start(&dir).await;
    let before = nn.fsn.edit_log.stats();
    let mut tasks = Vec::new();
    for t in 0..16 {
        let addr = nn.addr.clone();
        tasks.push(tokio::spawn(async move {
            let c = connect(&addr, &hafs_ipc::ClientConfig::new("x").client_id).await;
            for i in 0..50 {
                let req = pb::MkdirsRequestProto {
                    src: format!("/g/t{t}/d{i}"),
                    masked: pb::FsPermissionProto { perm: 0o755 },
                    create_parent: true,
                    unmasked: None,
                };
                let r: pb::MkdirsResponseProto = call(&c, "mkdirs", &req, i, 0).await.unwrap();
                assert!(r.result);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let after = nn.fsn.edit_log.stats();
    let txns = after.txns - before.txns;
    let syncs = after.syncs - before.syncs;
    assert_eq!(txns, 16 * 50);
    assert!(
        syncs < txns,
        "16 concurrent writers must share journal syncs: {txns} edits in {syncs} syncs"
    );

    // saveNamespace needs safe mode, as in Hadoop.
    let c = connect(&nn.addr, &Bytes::from_static(&[1u8; 16])).await;
    let err = call::<_, pb::SaveNamespaceResponseProto>(
        &c,
        "saveNamespace",
        &pb::SaveNamespaceRequestProto::default(),
        1,
        0,
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("Safe mode should be turned ON"),
        "{err}"
    );
    let on = pb::SetSafeModeRequestProto {
        action: pb::SafeModeActionProto::SafemodeEnter as i32,
        checked: None,
    };
    let _: pb::SetSafeModeResponseProto = call(&c, "setSafeMode", &on, 2, 0).await.unwrap();
    let _: pb::SaveNamespaceResponseProto = call(
        &c,
        "saveNamespace",
        &pb::SaveNamespaceRequestProto::default(),
        3,
        0,
    )
    .await
    .unwrap();
    let off = pb::SetSafeModeRequestProto {
        action: pb::SafeModeActionProto::SafemodeLeave as i32,
        checked: None,
    };
    let _: pb::SetSafeModeResponseProto = call(&c, "setSafeMode", &off, 4, 0).await.unwrap();
    // One more edit after the image.
    let req = pb::MkdirsRequestProto {
        src: "/after-image".into(),
        masked: pb::FsPermissionProto { perm: 0o755 },
        create_parent: false,
        unmasked: None,
    };
    let _: pb::MkdirsResponseProto = call(&c, "mkdirs", &req, 5, 0).await.unwrap();
    drop(c);
    stop(nn).await;

    let images = hafs_namenode::fsimage::list(&dir.join("n1/current")).unwrap();
    assert!(
        images[0].0 >= 800,
        "a new image must have been saved: {images:?}"
    );

    let nn = start(&dir).await;
    let c = connect(&nn.addr, &Bytes::from_static(&[2u8; 16])).await;
    for p in ["/g/t0/d0", "/g/t15/d49", "/after-image"] {
        let info: pb::GetFileInfoResponseProto = call(
            &c,
            "getFileInfo",
            &pb::GetFileInfoRequestProto { src: p.into() },
            1,
            0,
        )
        .await
        .unwrap();
        assert!(info.fs.is_some(), "{p} lost across restart");
    }
    drop(c);
    stop(nn).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torn_tail_is_cut_and_corrupt_middle_stops_startup() {
    let dir = temp_dir("torn");
    format(&dir);
    let nn = start(&dir).await;
    let c = connect(&nn.addr, &Bytes::from_static(&[3u8; 16])).await;
    for i in 0..20 {
        let req = pb::MkdirsRequestProto {
            src: format!("/t/d{i}"),
            masked: pb::FsPermissionProto { perm: 0o755 },
            create_parent: true,
            unmasked: None,
        };
        let _: pb::MkdirsResponseProto = call(&c, "mkdirs", &req, i, 0).await.unwrap();
    }
    drop(c);
    // Simulate a crash: abort the server without finalizing the segment.
    nn.task.abort();
    let _ = nn.task.await;
    drop(nn.stop);
    drop(nn.fsn);
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Append half a record to every in-progress segment: a write torn by the crash.
    for d in ["n1", "n2"] {
        let cur = dir.join(d).join("current");
        let seg = std::fs::read_dir(&cur)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with("edits_inprogress_")
            })
            .expect("an in-progress segment");
        let mut bytes = std::fs::read(&seg).unwrap();
        bytes.extend_from_slice(&[0, 0, 0, 40, 0, 0, 0]);
        std::fs::write(&seg, bytes).unwrap();
    }
    let nn = start(&dir).await;
    let c = connect(&nn.addr, &Bytes::from_static(&[4u8; 16])).await;
    let l: pb::GetListingResponseProto = call(
        &c,
        "getListing",
        &pb::GetListingRequestProto {
            src: "/t".into(),
            start_after: Bytes::new(),
            need_location: false,
        },
        1,
        0,
    )
    .await
    .unwrap();
    assert_eq!(
        l.dir_list.unwrap().partial_listing.len(),
        20,
        "every acknowledged mkdir survives"
    );
    drop(c);
    stop(nn).await;

    // Now damage a finalized segment in its middle, in both dirs: startup must refuse.
    for d in ["n1", "n2"] {
        let cur = dir.join(d).join("current");
        let seg = std::fs::read_dir(&cur)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                let n = p.file_name().unwrap().to_str().unwrap().to_string();
                n.starts_with("edits_") && !n.contains("inprogress")
            })
            .expect("a finalized segment");
        let mut bytes = std::fs::read(&seg).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0xff;
        std::fs::write(&seg, bytes).unwrap();
    }
    let err = match NameNode::start(config(&dir)).await {
        Ok(_) => panic!("startup must refuse a corrupt finalized segment"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("edits_") && err.contains("offset"),
        "error must name file and offset: {err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
