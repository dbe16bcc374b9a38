//! Seed inputs for every target: valid messages and files made by our own encoders, so
//! the fuzzer starts past the first length and magic checks. `tests/corpus.rs` replays
//! them on every run and writes them under `fuzz/corpus/<target>/seed-*` with
//! `HAFS_BLESS=1`.

use bytes::Bytes;
use hafs_conf::site_xml_string;
use hafs_datatransfer::delimited::encode_delimited as encode_delimited_vec;
use hafs_datatransfer::{op_response, pipeline_ack, DataChecksum, OpRequest, Packet, Status};
use hafs_ipc::frame::{
    encode_preamble, out_of_band_frame, request_frame, response_frame, AuthProtocol,
};
use hafs_journal::election::{encode_lease, PersistedLease};
use hafs_journal::record;
use hafs_journal::segment::SegmentWriter;
use hafs_journal::server::{encode_state, PersistedState};
use hafs_namenode::namespace::{Namespace, NamespaceConfig};
use hafs_proto::common::{
    IpcConnectionContextProto, RequestHeaderProto, RpcKindProto, RpcRequestHeaderProto,
    RpcResponseHeaderProto, RpcSaslProto, UserInformationProto,
};
use hafs_proto::hafs::{edit_op::Op, AddFileOp, Block, EditOp, MkDirOp, NewDir, RenameOp};
use hafs_security::block_token::{AccessMode, BlockTokenIdentifier};
use hafs_security::digest_md5::{DigestMd5Client, DigestMd5Server};
use hafs_security::sasl::{Qop, SaslClientSession, SaslServerSession, SaslStep};
use hafs_security::token::storage::{Credentials, Format};
use hafs_security::token::{base64, DelegationTokenIdentifier, Token};
use hafs_storage::{StorageInfo, StorageType};
use prost::Message;

/// A seed: the target it is for, a short name, the bytes.
pub struct Seed {
    pub target: &'static str,
    pub name: String,
    pub bytes: Vec<u8>,
}

fn seed(target: &'static str, name: &str, bytes: impl Into<Vec<u8>>) -> Seed {
    Seed {
        target,
        name: name.to_string(),
        bytes: bytes.into(),
    }
}

/// Every seed of every target.
pub fn seeds() -> Vec<Seed> {
    let mut out = Vec::new();
    ipc(&mut out);
    rpc_requests(&mut out);
    sasl(&mut out);
    tokens(&mut out);
    datatransfer(&mut out);
    edit_log(&mut out);
    files(&mut out);
    out
}

fn rpc_header(call_id: i32) -> RpcRequestHeaderProto {
    RpcRequestHeaderProto {
        rpc_kind: Some(RpcKindProto::RpcProtocolBuffer as i32),
        rpc_op: Some(0),
        call_id,
        client_id: Bytes::from_static(b"0123456789abcdef"),
        retry_count: Some(-1),
        ..Default::default()
    }
}

const CLIENT_PROTOCOL: &str = "org.apache.hadoop.hdfs.protocol.ClientProtocol";

fn ipc(out: &mut Vec<Seed>) {
    let context = IpcConnectionContextProto {
        user_info: Some(UserInformationProto {
            effective_user: Some("alice".into()),
            real_user: None,
        }),
        protocol: Some(CLIENT_PROTOCOL.into()),
    };
    let mkdirs = hafs_proto::hdfs::MkdirsRequestProto {
        src: "/user/alice/dir".into(),
        masked: hafs_proto::hdfs::FsPermissionProto { perm: 0o755 },
        create_parent: true,
        unmasked: None,
    };
    let call = RequestHeaderProto {
        method_name: "mkdirs".into(),
        declaring_class_protocol_name: CLIENT_PROTOCOL.into(),
        client_protocol_version: 1,
    };
    let mut simple = encode_preamble(AuthProtocol::None).to_vec();
    simple.extend_from_slice(&out_of_band_frame(&rpc_header(-3), Some(&context)));
    simple.extend_from_slice(&request_frame(
        &rpc_header(0),
        &call,
        &mkdirs.encode_to_vec(),
    ));
    out.push(seed("ipc_connection", "simple-mkdirs", simple));

    let negotiate = RpcSaslProto {
        state: 1,
        ..Default::default()
    };
    let mut sasl = encode_preamble(AuthProtocol::Sasl).to_vec();
    sasl.extend_from_slice(&out_of_band_frame(&rpc_header(-33), Some(&negotiate)));
    out.push(seed("ipc_connection", "sasl-negotiate", sasl));

    let ok = RpcResponseHeaderProto {
        call_id: 0,
        status: 0,
        ..Default::default()
    };
    let resp = hafs_proto::hdfs::MkdirsResponseProto { result: true };
    out.push(seed(
        "ipc_response",
        "mkdirs-success",
        response_frame(&ok, Some(&resp.encode_to_vec())).to_vec(),
    ));
    let error = RpcResponseHeaderProto {
        call_id: 1,
        status: 1,
        exception_class_name: Some("org.apache.hadoop.ipc.StandbyException".into()),
        error_msg: Some("Operation category READ is not supported in state standby".into()),
        error_detail: Some(1),
        ..Default::default()
    };
    out.push(seed(
        "ipc_response",
        "standby-error",
        response_frame(&error, None).to_vec(),
    ));
    let sasl_ok = RpcResponseHeaderProto {
        call_id: -33i32 as u32,
        status: 0,
        ..Default::default()
    };
    out.push(seed(
        "ipc_response",
        "sasl-negotiate",
        response_frame(&sasl_ok, Some(&negotiate.encode_to_vec())).to_vec(),
    ));
}

fn rpc_requests(out: &mut Vec<Seed>) {
    // One input per method: its selector and an empty message (every field default).
    for (protocol, method) in crate::rpc_request::methods() {
        let sel = crate::rpc_request::selector(protocol, method).expect("a listed method");
        let short = protocol.rsplit('.').next().unwrap_or(protocol);
        out.push(seed(
            "rpc_request",
            &format!("{short}-{method}"),
            sel.to_vec(),
        ));
    }
    if let Some(sel) = crate::rpc_request::selector(CLIENT_PROTOCOL, "mkdirs") {
        let mkdirs = hafs_proto::hdfs::MkdirsRequestProto {
            src: "/a/b".into(),
            masked: hafs_proto::hdfs::FsPermissionProto { perm: 0o755 },
            create_parent: false,
            unmasked: None,
        };
        let mut b = sel.to_vec();
        b.extend_from_slice(&mkdirs.encode_to_vec());
        out.push(seed("rpc_request", "ClientProtocol-mkdirs-full", b));
    }
}

fn delegation_id() -> DelegationTokenIdentifier {
    DelegationTokenIdentifier {
        owner: "alice@HAFS.TEST".into(),
        renewer: "yarn".into(),
        real_user: String::new(),
        issue_date: 1_700_000_000_000,
        max_date: 1_700_604_800_000,
        sequence_number: 7,
        master_key_id: 3,
    }
}

fn sasl(out: &mut Vec<Seed>) {
    let user = base64::encode(&delegation_id().encode());
    let qops = [Qop::Privacy, Qop::Integrity, Qop::Authentication];
    let mut server =
        DigestMd5Server::new("", "default", &qops, Box::new(|_: &str| Ok(b"pw".to_vec())))
            .expect("server");
    let mut client = DigestMd5Client::new(&user, b"pw", "", "default", &qops).expect("client");
    let Ok(SaslStep::Continue(challenge)) = server.evaluate(b"") else {
        panic!("no challenge");
    };
    let Ok(SaslStep::Continue(response)) = client.evaluate(&challenge) else {
        panic!("no response");
    };
    let Ok(SaslStep::Complete(Some(rspauth))) = server.evaluate(&response) else {
        panic!("no rspauth");
    };
    let _ = client.evaluate(&rspauth);
    out.push(seed("sasl_digest_server", "response", response.clone()));
    let mut two = vec![((challenge.len() * 255) / (challenge.len() + rspauth.len())) as u8];
    two.extend_from_slice(&challenge);
    two.extend_from_slice(&rspauth);
    out.push(seed("sasl_digest_client", "challenge-rspauth", two));
    if let Ok(wrapped) = client.wrap(b"a wrapped IPC frame") {
        let mut b = vec![1u8];
        b.extend_from_slice(&wrapped);
        out.push(seed("sasl_unwrap", "privacy", b));
        let mut b = vec![0u8];
        b.extend_from_slice(&wrapped);
        out.push(seed("sasl_unwrap", "integrity", b));
    }
    // The DataNode handshake: magic, then the client's opening message.
    let mut dt = 0xDEAD_BEEFu32.to_be_bytes().to_vec();
    let opening = hafs_proto::hdfs::DataTransferEncryptorMessageProto {
        status: 0,
        payload: Some(Bytes::new()),
        ..Default::default()
    };
    dt.extend_from_slice(&encode_delimited_vec(&opening));
    let answer = hafs_proto::hdfs::DataTransferEncryptorMessageProto {
        status: 0,
        payload: Some(Bytes::from(response)),
        ..Default::default()
    };
    dt.extend_from_slice(&encode_delimited_vec(&answer));
    out.push(seed("datatransfer_sasl", "handshake", dt));
}

fn block_id() -> BlockTokenIdentifier {
    BlockTokenIdentifier {
        expiry_date: 1_700_000_000_000,
        key_id: 5,
        user_id: "alice".into(),
        block_pool_id: "BP-1-127.0.0.1-1".into(),
        block_id: 1_073_741_825,
        modes: vec![AccessMode::Read, AccessMode::Write],
        storage_types: vec!["DISK".into()],
        storage_ids: vec!["DS-1".into()],
        handshake_secret: vec![],
    }
}

fn tokens(out: &mut Vec<Seed>) {
    out.push(seed(
        "tokens",
        "delegation-identifier",
        delegation_id().encode(),
    ));
    out.push(seed("tokens", "block-identifier", block_id().encode()));
    let token = Token::delegation(&delegation_id(), vec![1; 20], "ha-hdfs:mycluster");
    let mut creds = Credentials::default();
    creds.add_token(token.clone());
    out.push(seed(
        "tokens",
        "credentials-writable",
        creds.write_storage_file(Format::Writable),
    ));
    out.push(seed(
        "tokens",
        "credentials-protobuf",
        creds.write_storage_file(Format::Protobuf),
    ));
    out.push(seed("tokens", "url-string", token.encode_to_url_string()));
    out.push(seed(
        "tokens",
        "token-proto",
        token.to_proto().encode_to_vec(),
    ));
}

fn datatransfer(out: &mut Vec<Seed>) {
    use hafs_proto::hdfs::{
        BaseHeaderProto, ChecksumProto, ChecksumTypeProto, ClientOperationHeaderProto,
        ExtendedBlockProto, OpReadBlockProto, OpWriteBlockProto,
    };
    let header = ClientOperationHeaderProto {
        base_header: BaseHeaderProto {
            block: ExtendedBlockProto {
                pool_id: "BP-1-127.0.0.1-1".into(),
                block_id: 1_073_741_825,
                generation_stamp: 1001,
                num_bytes: Some(0),
            },
            token: Some(
                Token {
                    identifier: block_id().encode(),
                    password: vec![2; 20],
                    kind: "HDFS_BLOCK_TOKEN".into(),
                    service: String::new(),
                }
                .to_proto(),
            ),
            trace_info: None,
        },
        client_name: "DFSClient_fuzz".into(),
    };
    let checksum = DataChecksum::crc32c_default();
    let write = OpWriteBlockProto {
        header: header.clone(),
        stage: 6, // PIPELINE_SETUP_CREATE
        pipeline_size: 1,
        min_bytes_rcvd: 0,
        max_bytes_rcvd: 0,
        latest_generation_stamp: 1001,
        requested_checksum: ChecksumProto {
            r#type: ChecksumTypeProto::ChecksumCrc32c as i32,
            bytes_per_checksum: checksum.bytes_per_checksum(),
        },
        ..Default::default()
    };
    let data = Bytes::from_static(b"hello, hafs");
    let packet = Packet::new(
        0,
        0,
        false,
        false,
        Bytes::from(checksum.compute(&data)),
        data,
    );
    let last = Packet::last_in_block(11, 1, false);
    let mut w = OpRequest::WriteBlock(write).encode();
    w.extend_from_slice(&packet.encode().expect("a small packet"));
    w.extend_from_slice(&last.encode().expect("an empty packet"));
    out.push(seed("datatransfer_op", "write-block", w));
    let read = OpReadBlockProto {
        header,
        offset: 0,
        len: 11,
        send_checksums: Some(true),
        caching_strategy: None,
    };
    out.push(seed(
        "datatransfer_op",
        "read-block",
        OpRequest::ReadBlock(read).encode(),
    ));

    let mut p = packet.encode().expect("a small packet");
    p.extend_from_slice(&last.encode().expect("an empty packet"));
    out.push(seed("datatransfer_packet", "packets", p));
    out.push(seed(
        "datatransfer_packet",
        "ack",
        encode_delimited_vec(&pipeline_ack(3, &[Status::Success, Status::Success], 0)),
    ));
    out.push(seed(
        "datatransfer_packet",
        "op-response",
        encode_delimited_vec(&op_response(
            Status::ErrorAccessToken,
            "Block token is expired",
        )),
    ));
    out.push(seed(
        "datatransfer_packet",
        "meta-header",
        checksum.meta_header().to_vec(),
    ));
}

fn edit_ops() -> Vec<EditOp> {
    let dir = |path: &str, id: u64| NewDir {
        path: path.into(),
        inode_id: id,
        perm: 0o755,
        owner: "alice".into(),
        group: "supergroup".into(),
        mtime: 1,
    };
    let op = |o: Op| EditOp {
        retry_cache: None,
        op: Some(o),
    };
    vec![
        op(Op::Mkdir(MkDirOp {
            dirs: vec![dir("/user", 16386), dir("/user/alice", 16387)],
        })),
        op(Op::AddFile(AddFileOp {
            path: "/user/alice/f".into(),
            inode_id: 16388,
            perm: 0o644,
            owner: "alice".into(),
            group: "supergroup".into(),
            mtime: 2,
            replication: 3,
            block_size: 134_217_728,
            client_name: "DFSClient_1".into(),
            client_machine: "127.0.0.1".into(),
            overwrite: false,
            parents: vec![],
        })),
        op(Op::AddBlock(hafs_proto::hafs::AddBlockOp {
            path: "/user/alice/f".into(),
            inode_id: 16388,
            previous: None,
            block: Some(Block {
                block_id: 1_073_741_825,
                gen_stamp: 1001,
                num_bytes: 0,
            }),
        })),
        op(Op::Rename(RenameOp {
            src: "/user/alice/f".into(),
            dst: "/user/alice/g".into(),
            mtime: 3,
            overwrite: false,
        })),
        // An access ACL with a named user and a default ACL (what `setfacl -m
        // user:bob:r-x,default:user:bob:rwx` logs), so inputs reach ACL storage and
        // the fsimage's ACL records.
        op(Op::SetAcl(hafs_proto::hafs::SetAclOp {
            path: "/user/alice".into(),
            entries: [
                (0, 0, 7, ""),
                (0, 0, 5, "bob"),
                (0, 1, 5, ""),
                (0, 2, 5, ""),
                (0, 3, 5, ""),
                (1, 0, 7, ""),
                (1, 0, 7, "bob"),
                (1, 1, 5, ""),
                (1, 2, 7, ""),
                (1, 3, 5, ""),
            ]
            .into_iter()
            .map(|(scope, kind, perm, name)| hafs_proto::hafs::AclEntry {
                scope,
                r#type: kind,
                perm,
                name: name.into(),
            })
            .collect(),
        })),
    ]
}

fn edit_log(out: &mut Vec<Seed>) {
    let ops = edit_ops();
    let mut records = bytes::BytesMut::new();
    for (i, op) in ops.iter().enumerate() {
        record::encode(&mut records, 1 + i as u64, &op.encode_to_vec()).expect("a small record");
    }
    out.push(seed("edit_records", "five-ops", records.to_vec()));
    let mut delimited = Vec::new();
    for op in &ops {
        delimited.extend_from_slice(&op.encode_length_delimited_to_vec());
    }
    out.push(seed("edit_ops_apply", "five-ops", delimited));

    // Unique per call: tests may generate seeds on several threads at once.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("hafs-fuzz-seed-{}-{call}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let mut w = SegmentWriter::create(&dir, 1).expect("a segment");
    w.append_durably(&records, ops.len() as u32)
        .expect("append");
    let bytes = std::fs::read(w.path()).expect("the segment");
    drop(w);
    let _ = std::fs::remove_dir_all(&dir);
    out.push(seed("edit_segment", "five-ops", bytes));

    let mut ns = Namespace::new(NamespaceConfig::default(), "hdfs", "supergroup", 0);
    for op in &ops {
        ns.apply(op).expect("our own ops apply");
    }
    let image = ns.save_image();
    out.push(seed(
        "fsimage",
        "framed",
        hafs_namenode::fsimage::encode(4, &image),
    ));
    out.push(seed("fsimage", "body", image));
}

fn files(out: &mut Vec<Seed>) {
    out.push(seed(
        "control_files",
        "journal-state",
        encode_state(&PersistedState::default()),
    ));
    out.push(seed(
        "control_files",
        "lease-state",
        encode_lease(&PersistedLease::default()),
    ));
    let info = StorageInfo {
        layout_version: -66,
        namespace_id: 12345,
        cluster_id: "CID-fuzz".into(),
        block_pool_id: "BP-1-127.0.0.1-1".into(),
        ctime: 0,
        storage_type: StorageType::NameNode,
    };
    out.push(seed(
        "version_files",
        "namenode-version",
        info.to_version_text(),
    ));
    out.push(seed("version_files", "seen-txid", "42\n"));
    let xml = site_xml_string(&[
        ("fs.defaultFS", "hdfs://mycluster"),
        ("dfs.blocksize", "128m"),
        ("dfs.heartbeat.interval", "3s"),
        ("hadoop.tmp.dir", "/tmp/hadoop-${user.name}"),
        ("dfs.namenode.name.dir", "file://${hadoop.tmp.dir}/dfs/name"),
        ("dfs.permissions.enabled", "true"),
    ])
    .expect("site xml");
    out.push(seed("conf_xml", "site", xml));
    out.push(seed(
        "http_request_head",
        "imagetransfer",
        "GET /imagetransfer?getimage=1&txid=42&storageInfo=-66:12345:0:CID-fuzz HTTP/1.1\r\nHost: nn1:9870\r\nUser-Agent: Java/17\r\n\r\n",
    ));
    out.push(seed(
        "http_request_head",
        "webhdfs-put",
        "PUT /webhdfs/v1/user/alice/f?op=CREATE&user.name=alice&overwrite=true HTTP/1.1\r\nHost: nn1:9870\r\nContent-Length: 5\r\n\r\nhello",
    ));
}
