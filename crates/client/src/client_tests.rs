//! DfsClient against a fake NameNode that records requests and plays canned replies.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hafs_ipc::exceptions;
use hafs_proto::hdfs::*;
use prost::Message;

use crate::lease::RENEW_INTERVAL;
use crate::{ClientError, ClientSettings, CreateOptions, DfsClient, NamenodeTransport};

type Reply = Result<Vec<u8>, ClientError>;

#[derive(Default)]
struct State {
    calls: Vec<(String, Vec<u8>)>,
    replies: VecDeque<Reply>,
    /// Answer any `renewLease` with an empty response, outside the reply queue.
    auto_renew: bool,
}

#[derive(Clone, Default)]
struct FakeNn(Arc<Mutex<State>>);

impl FakeNn {
    fn reply<M: Message>(&self, m: M) {
        self.0
            .lock()
            .unwrap()
            .replies
            .push_back(Ok(m.encode_to_vec()));
    }
    fn fail(&self, class: &str, msg: &str) {
        self.0
            .lock()
            .unwrap()
            .replies
            .push_back(Err(ClientError::remote(class, msg)));
    }
    fn calls(&self) -> Vec<(String, Vec<u8>)> {
        self.0.lock().unwrap().calls.clone()
    }
    fn request<M: Message + Default>(&self, i: usize) -> (String, M) {
        let (m, b) = self.calls()[i].clone();
        (m, M::decode(b.as_slice()).expect("request decodes"))
    }
}

impl NamenodeTransport for FakeNn {
    async fn call<Req, Resp>(&self, method: &'static str, req: &Req) -> Result<Resp, ClientError>
    where
        Req: Message + Sync,
        Resp: Message + Default + Send,
    {
        let reply = {
            let mut s = self.0.lock().unwrap();
            s.calls.push((method.to_string(), req.encode_to_vec()));
            if method == "renewLease" && s.auto_renew {
                Ok(Vec::new())
            } else {
                s.replies
                    .pop_front()
                    .unwrap_or_else(|| panic!("unexpected call {method}"))
            }
        };
        let bytes = reply?;
        Ok(Resp::decode(bytes.as_slice()).expect("canned reply decodes"))
    }
}

fn client() -> (DfsClient<FakeNn>, FakeNn) {
    let nn = FakeNn::default();
    let settings = ClientSettings {
        authority: "ns".into(),
        namenodes: vec!["nn1:8020".into()],
        replication: 2,
        block_size: 1 << 20,
        umask: 0o022,
        trash_interval_minutes: 0.0,
        data: Default::default(),
    };
    let c = DfsClient::with_transport(
        nn.clone(),
        settings,
        "alice".into(),
        "DFSClient_NONMAPREDUCE_1_1".into(),
    );
    (c, nn)
}

fn file(name: &str) -> HdfsFileStatusProto {
    HdfsFileStatusProto {
        file_type: hdfs_file_status_proto::FileType::IsFile as i32,
        path: Bytes::copy_from_slice(name.as_bytes()),
        permission: FsPermissionProto { perm: 0o644 },
        owner: "alice".into(),
        group: "supergroup".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn mkdirs_resolves_relative_path_and_applies_umask() {
    let (c, nn) = client();
    nn.reply(MkdirsResponseProto { result: true });
    assert!(c.mkdirs("data//x/", 0o777, true).await.unwrap());
    let (method, req): (_, MkdirsRequestProto) = nn.request(0);
    assert_eq!(method, "mkdirs");
    assert_eq!(req.src, "/user/alice/data/x");
    assert_eq!(req.masked.perm, 0o755);
    assert_eq!(req.unmasked.map(|p| p.perm), Some(0o777));
    assert!(req.create_parent);
}

#[tokio::test]
async fn list_status_follows_pages_from_the_last_name() {
    let (c, nn) = client();
    nn.reply(GetListingResponseProto {
        dir_list: Some(DirectoryListingProto {
            partial_listing: vec![file("a"), file("b")],
            remaining_entries: 1,
        }),
    });
    nn.reply(GetListingResponseProto {
        dir_list: Some(DirectoryListingProto {
            partial_listing: vec![file("c")],
            remaining_entries: 0,
        }),
    });
    let all = c.list_status("hdfs://ns/d").await.unwrap();
    let names: Vec<_> = all
        .iter()
        .map(|s| String::from_utf8_lossy(&s.path).into_owned())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    let (_, first): (_, GetListingRequestProto) = nn.request(0);
    let (_, second): (_, GetListingRequestProto) = nn.request(1);
    assert_eq!(first.src, "/d");
    assert!(first.start_after.is_empty());
    assert_eq!(&second.start_after[..], b"b");
}

#[tokio::test]
async fn missing_directory_listing_is_file_not_found() {
    let (c, nn) = client();
    nn.reply(GetListingResponseProto { dir_list: None });
    let e = c.list_status("/nope").await.unwrap_err();
    assert!(e.is_file_not_found(), "{e}");
}

#[tokio::test]
async fn remote_errors_keep_their_java_class() {
    let (c, nn) = client();
    nn.fail(
        exceptions::ACCESS_CONTROL,
        "Permission denied: user=alice, access=WRITE",
    );
    let e = c.delete("/x", false).await.unwrap_err();
    assert!(e.is_access_control());
    assert_eq!(
        e.user_message(),
        "Permission denied: user=alice, access=WRITE"
    );
}

#[tokio::test]
async fn wrong_fs_uri_is_refused_without_a_call() {
    let (c, nn) = client();
    let e = c.get_file_info("hdfs://elsewhere/x").await.unwrap_err();
    assert!(matches!(e, ClientError::InvalidPath(_)), "{e}");
    assert!(nn.calls().is_empty());
}

#[tokio::test]
async fn create_takes_lease_and_complete_releases_it() {
    let (c, nn) = client();
    nn.reply(CreateResponseProto {
        fs: Some(file("f")),
    });
    let opts = CreateOptions {
        overwrite: true,
        ..Default::default()
    };
    c.create("/f", &opts).await.unwrap();
    let (_, req): (_, CreateRequestProto) = nn.request(0);
    assert_eq!(
        req.create_flag,
        CreateFlagProto::Create as u32 | CreateFlagProto::Overwrite as u32
    );
    assert_eq!(req.masked.perm, 0o644);
    assert_eq!(req.replication, 2);
    assert_eq!(req.block_size, 1 << 20);
    assert_eq!(req.client_name, "DFSClient_NONMAPREDUCE_1_1");
    assert_eq!(c.open_files(), 1);

    nn.reply(CompleteResponseProto { result: false });
    assert!(!c.complete("/f", 7, None).await.unwrap());
    assert_eq!(c.open_files(), 1, "an incomplete close keeps the lease");
    nn.reply(CompleteResponseProto { result: true });
    assert!(c.complete("/f", 7, None).await.unwrap());
    assert_eq!(c.open_files(), 0);
    let (_, req): (_, CompleteRequestProto) = nn.request(2);
    assert_eq!(req.file_id, Some(7));
}

#[tokio::test(start_paused = true)]
async fn lease_renewer_renews_while_files_are_open_then_stops() {
    let (c, nn) = client();
    nn.0.lock().unwrap().auto_renew = true;
    nn.reply(CreateResponseProto {
        fs: Some(file("f")),
    });
    c.create("/f", &CreateOptions::default()).await.unwrap();
    let renewals = || nn.calls().iter().filter(|(m, _)| m == "renewLease").count();

    tokio::time::sleep(RENEW_INTERVAL * 2 + Duration::from_secs(1)).await;
    assert_eq!(renewals(), 2);
    let (_, req): (_, RenewLeaseRequestProto) = nn.request(1);
    assert_eq!(req.client_name, "DFSClient_NONMAPREDUCE_1_1");

    c.forget_lease("/f");
    tokio::time::sleep(RENEW_INTERVAL * 3).await;
    assert_eq!(renewals(), 2, "no renewals once no file is open");
}

#[tokio::test]
async fn ha_state_and_defaults_decode() {
    let (c, nn) = client();
    nn.reply(HaServiceStateResponseProto {
        state: NameNodeHaStateProto::Standby as i32,
    });
    assert_eq!(
        c.get_ha_service_state().await.unwrap(),
        NameNodeHaStateProto::Standby
    );
    nn.reply(GetServerDefaultsResponseProto {
        server_defaults: FsServerDefaultsProto {
            block_size: 1 << 27,
            bytes_per_checksum: 512,
            write_packet_size: 65536,
            replication: 3,
            file_buffer_size: 4096,
            ..Default::default()
        },
    });
    assert_eq!(
        c.get_server_defaults().await.unwrap().bytes_per_checksum,
        512
    );
}
