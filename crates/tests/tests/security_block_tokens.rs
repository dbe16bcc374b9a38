//! Block access tokens and SASL data-transfer protection (issue 12, part 5) on real
//! NameNode and DataNode processes: `dfs.block.access.token.enable=true` with
//! `dfs.data.transfer.protection` at each QOP and SIMPLE IPC authentication (a legal
//! Hadoop configuration for testing the data path). The hafs client round-trips
//! multi-block files through a 3-DataNode pipeline; a killed DataNode's blocks are
//! re-replicated (DataNode-signed tokens, DataNode-to-DataNode SASL); and a raw
//! attacker built on the data-transfer codec is refused: plain ops, forged and
//! mismatched tokens, READ tokens used to write, empty tokens — with no bytes served
//! and no replica created.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::*;
use hafs_datatransfer::sasl::{self, SaslTransferError};
use hafs_datatransfer::{
    read_op_response, write_op, BlockConstructionStage, ChecksumProto, OpReadBlockProto, OpRequest,
    OpWriteBlockProto, Status,
};
use hafs_proto::common::TokenProto;
use hafs_proto::hdfs::{
    BaseHeaderProto, ChecksumTypeProto, ClientOperationHeaderProto, ExtendedBlockProto,
    LocatedBlockProto,
};
use hafs_security::block_token::{AccessMode, BlockTokenIdentifier};
use hafs_security::sasl::Qop;
use hafs_tests::{test_bytes, MiniCluster};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::TcpStream;

const MIB: usize = 1024 * 1024;
const HEAL_TIMEOUT: Duration = Duration::from_secs(120);

fn secure_cluster(label: &str, datanodes: usize, protection: &str) -> MiniCluster {
    MiniCluster::builder()
        .label(label)
        .datanodes(datanodes)
        .conf("dfs.block.access.token.enable", "true")
        .conf("dfs.data.transfer.protection", protection)
        .start()
}

fn round_trip(protection: &str) {
    let mut c = secure_cluster(&format!("bt-rt-{protection}"), 3, protection);
    // 3.5 blocks with an odd tail.
    let data = test_bytes(11, 3 * MIB + MIB / 2 + 77);
    put_with_hafs(&c, "/sec/f", &data);
    assert_same_bytes(&get_with_hafs(&c, "/sec/f"), &data, "hafs -get");
    wait_replicated(&mut c, &data, 3, Duration::from_secs(20));
    // Append (append's WRITE token, PIPELINE_SETUP_APPEND) and the file checksum
    // (BLOCK_CHECKSUM with READ tokens) go through the same checks.
    let more = test_bytes(18, MIB / 3 + 5);
    let local = write_scratch(&c, "append-src", &more);
    hafs_tests::hafs_dfs(&c, &["-appendToFile", local.to_str().unwrap(), "/sec/f"]).ok();
    let mut all = data.clone();
    all.extend_from_slice(&more);
    assert_same_bytes(&get_with_hafs(&c, "/sec/f"), &all, "hafs -get after append");
    let sum = hafs_tests::hafs_dfs(&c, &["-checksum", "/sec/f"]).ok();
    assert!(sum.stdout.contains("MD5-of-"), "{sum}");
    let nn_log = c.namenode_log();
    assert!(
        nn_log.contains("block access tokens enabled"),
        "NameNode log:\n{nn_log}"
    );
}

#[test]
fn hafs_client_round_trips_at_authentication() {
    round_trip("authentication");
}

#[test]
fn hafs_client_round_trips_at_integrity() {
    round_trip("integrity");
}

#[test]
fn hafs_client_round_trips_at_privacy() {
    round_trip("privacy");
}

#[test]
fn killed_datanode_blocks_are_re_replicated_over_protected_transfers() {
    let mut c = secure_cluster("bt-rerepl", 4, "privacy");
    let data = test_bytes(12, 2 * MIB + 999);
    put_with_hafs(&c, "/sec/r", &data);
    wait_replicated(&mut c, &data, 3, Duration::from_secs(20));
    let victim = (0..4).max_by_key(|&i| c.replicas_on(i).len()).unwrap();
    c.kill_datanode(victim);
    wait_replicated(&mut c, &data, 3, HEAL_TIMEOUT);
    assert_same_bytes(
        &get_with_hafs(&c, "/sec/r"),
        &data,
        "read after re-replication",
    );
}

#[test]
fn hafs_writer_recovers_its_pipeline_after_a_datanode_dies_at_privacy() {
    // Pipeline recovery exercises every token mode: getAdditionalDatanode's COPY token
    // for TRANSFER_BLOCK, the DataNode's own WRITE token for the TRANSFER_RBW copy,
    // and updateBlockForPipeline's WRITE token for the new pipeline.
    let mut c = secure_cluster("bt-kill-mid-write", 4, "privacy");
    let data = test_bytes(15, 3 * MIB + 12345);
    let log = c.dir().join("writer.log");
    let mut writer = hafs_tests::StreamingClient::hafs_dfs(&c, &["-put", "-", "/w"], &log);
    let first = MIB + MIB / 2;
    writer.write(&data[..first]);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let victim = loop {
        let rbw: Vec<usize> = c
            .running_datanodes()
            .into_iter()
            .filter(|&i| c.replicas_on(i).iter().any(|r| !r.finalized))
            .collect();
        if let Some(&v) = rbw.first() {
            break v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no replica being written"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    c.kill_datanode(victim);
    writer.write(&data[first..]);
    let result = writer.finish(Duration::from_secs(180));
    assert!(
        result.status.success(),
        "writer failed after dn{} died:\n{}",
        victim + 1,
        result.output
    );
    assert_same_bytes(&get_with_hafs(&c, "/w"), &data, "hafs -get after recovery");
    wait_replicated(&mut c, &data, 3, HEAL_TIMEOUT);
}

/// hdfs-native's view of the cluster: the same configuration plus
/// `hadoop.security.authentication=kerberos`, which is what makes it do the data
/// transfer handshake (observed with 0.14.7: with SIMPLE it sends its ops plain, and the
/// DataNode drops them: "Received 0x1c50a9 instead of 0xdeadbeef"). Against this SIMPLE
/// NameNode its IPC falls back to SIMPLE, so the data path is what is tested.
fn native_target(c: &MiniCluster) -> hafs_tests::ClientTarget {
    let conf = c.dir().join("native-conf");
    std::fs::create_dir_all(&conf).unwrap();
    for f in ["core-site.xml", "hdfs-site.xml"] {
        let mut text = std::fs::read_to_string(c.conf_dir().join(f)).unwrap();
        if f == "core-site.xml" {
            text = text.replacen(
                "<configuration>",
                "<configuration><property><name>hadoop.security.authentication</name>\
                 <value>kerberos</value></property>",
                1,
            );
        }
        std::fs::write(conf.join(f), text).unwrap();
    }
    hafs_tests::ClientTarget {
        conf_dir: conf,
        fs_uri: c.fs_uri(),
        env: Vec::new(),
    }
}

fn native_round_trip(protection: &str) {
    let c = secure_cluster(&format!("bt-native-{protection}"), 3, protection);
    let target = native_target(&c);
    let data = test_bytes(16, 2 * MIB + 4321);
    let local = write_scratch(&c, "native-src", &data);
    let back = scratch(&c, "native-back");
    put_with_hafs(&c, "/sec/h", &data);
    let script = format!(
        "import os\nfrom hdfs_native import Client, WriteOptions\n\
         c = Client(os.environ['HAFS_FS_URI'])\n\
         data = open({local:?}, 'rb').read()\n\
         with c.create('/sec/n', WriteOptions(overwrite=True)) as w:\n\
         \x20   for i in range(0, len(data), 100000):\n\
         \x20       w.write(data[i:i + 100000])\n\
         with c.read('/sec/n') as r:\n    assert r.read() == data\n\
         with c.read('/sec/h') as r:\n    open({back:?}, 'wb').write(r.read())\n\
         print('ok')\n",
        local = local.display().to_string(),
        back = back.display().to_string(),
    );
    let out = hafs_tests::python(&target, &script).ok();
    assert!(out.stdout.contains("ok"), "{out}");
    assert_same_bytes(
        &std::fs::read(&back).unwrap(),
        &data,
        "hdfs-native read of hafs's file",
    );
    assert_same_bytes(
        &get_with_hafs(&c, "/sec/n"),
        &data,
        "hafs read of hdfs-native's file",
    );
}

#[test]
fn hdfs_native_round_trips_at_integrity() {
    native_round_trip("integrity");
}

#[test]
fn hdfs_native_round_trips_at_privacy() {
    native_round_trip("privacy");
}

/// Each NameNode signs with keys from its own id range and DataNodes keep both sets, so
/// after a failover the new Active's tokens are accepted at once.
#[test]
fn tokens_of_the_new_active_are_accepted_after_a_failover() {
    let mut c = MiniCluster::builder()
        .label("bt-ha")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(3)
        .conf("dfs.block.access.token.enable", "true")
        .conf("dfs.data.transfer.protection", "integrity")
        .start();
    let target = c.client_target();
    let data = test_bytes(17, 2 * MIB + 333);
    let local = c.dir().join("ha-src");
    std::fs::write(&local, &data).unwrap();
    let local_s = local.to_str().unwrap();
    hafs_tests::hafs_dfs(&target, &["-put", local_s, "/before"]).ok();

    c.kill_nn(0);
    let id = c.nn_id(1).to_string();
    c.haadmin(&["-transitionToActive", "--forceactive", &id])
        .ok();
    c.wait_for_state(1, "active", Duration::from_secs(30));

    let got = c.dir().join("ha-got");
    let got_s = got.to_str().unwrap();
    hafs_tests::hafs_dfs(&target, &["-get", "/before", got_s]).ok();
    assert_same_bytes(
        &std::fs::read(&got).unwrap(),
        &data,
        "read via nn2's tokens",
    );
    hafs_tests::hafs_dfs(&target, &["-put", local_s, "/after"]).ok();
    let _ = std::fs::remove_file(&got);
    hafs_tests::hafs_dfs(&target, &["-get", "/after", got_s]).ok();
    assert_same_bytes(
        &std::fs::read(&got).unwrap(),
        &data,
        "write and read via nn2",
    );
}

// ---------------------------------------------------------------- the attacker

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The first block of `path` as the NameNode hands it out (with a READ token).
async fn first_block(c: &MiniCluster, path: &str) -> LocatedBlockProto {
    let mut conf = hafs_conf::Configuration::new();
    conf.set("fs.defaultFS", c.fs_uri());
    let client = hafs_client::DfsClient::new(&conf, None).unwrap();
    let l = client
        .get_block_locations(path, 0, 1)
        .await
        .unwrap()
        .expect("file exists");
    l.blocks.into_iter().next().expect("a block")
}

fn token(identifier: Vec<u8>, password: Vec<u8>) -> TokenProto {
    TokenProto {
        identifier: Bytes::from(identifier),
        password: Bytes::from(password),
        kind: "HDFS_BLOCK_TOKEN".into(),
        service: String::new(),
    }
}

fn read_op(block: &ExtendedBlockProto, t: Option<TokenProto>) -> OpRequest {
    OpRequest::ReadBlock(OpReadBlockProto {
        header: ClientOperationHeaderProto {
            base_header: BaseHeaderProto {
                block: block.clone(),
                token: t,
                trace_info: None,
            },
            client_name: "attacker".into(),
        },
        offset: 0,
        len: 4096,
        send_checksums: Some(true),
        caching_strategy: None,
    })
}

fn write_op_for(block: &ExtendedBlockProto, t: Option<TokenProto>) -> OpRequest {
    OpRequest::WriteBlock(OpWriteBlockProto {
        header: ClientOperationHeaderProto {
            base_header: BaseHeaderProto {
                block: block.clone(),
                token: t,
                trace_info: None,
            },
            client_name: "attacker".into(),
        },
        stage: BlockConstructionStage::PipelineSetupCreate as i32,
        pipeline_size: 1,
        latest_generation_stamp: block.generation_stamp,
        requested_checksum: ChecksumProto {
            r#type: ChecksumTypeProto::ChecksumCrc32c as i32,
            bytes_per_checksum: 512,
        },
        ..Default::default()
    })
}

type Halves = (
    BufReader<hafs_datatransfer::sasl::BoxRead>,
    BufWriter<hafs_datatransfer::sasl::BoxWrite>,
);

/// Connects and, with `proof`, does the SASL handshake at `qop` with that token.
async fn connect(
    addr: std::net::SocketAddr,
    proof: Option<&TokenProto>,
    qop: Qop,
) -> Result<Halves, SaslTransferError> {
    let s = TcpStream::connect(addr).await?;
    let (r, w) = s.into_split();
    let (r, w) = match proof {
        None => (Box::new(r) as sasl::BoxRead, Box::new(w) as sasl::BoxWrite),
        Some(t) => {
            let mut r = BufReader::new(r);
            let mut w = BufWriter::new(w);
            let p =
                sasl::client_handshake(&mut r, &mut w, &t.identifier, &t.password, &[qop]).await?;
            sasl::protect(r, w.into_inner(), p)
        }
    };
    Ok((BufReader::new(r), BufWriter::new(w)))
}

/// Sends `op` and returns the response, or `None` when the DataNode closed the
/// connection without one.
async fn send(h: &mut Halves, op: &OpRequest) -> Option<hafs_datatransfer::BlockOpResponseProto> {
    write_op(&mut h.1, op).await.ok()?;
    h.1.flush().await.ok()?;
    tokio::time::timeout(Duration::from_secs(20), read_op_response(&mut h.0))
        .await
        .ok()?
        .ok()
}

/// After a refusal nothing more comes: no packet, no data.
async fn assert_nothing_more(h: &mut Halves, what: &str) {
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), h.0.read_to_end(&mut rest)).await;
    assert!(rest.is_empty(), "{what}: {} more bytes served", rest.len());
}

fn forged(t: &TokenProto, edit: impl FnOnce(&mut BlockTokenIdentifier)) -> TokenProto {
    let mut id = BlockTokenIdentifier::decode(&t.identifier).unwrap();
    edit(&mut id);
    token(id.encode(), t.password.to_vec())
}

#[test]
fn attacks_on_a_protected_datanode_are_refused() {
    let c = secure_cluster("bt-attacks", 3, "integrity");
    let data = test_bytes(13, 100_000);
    put_with_hafs(&c, "/sec/a", &data);
    let before: Vec<usize> = (0..3).map(|i| c.replicas_on(i).len()).collect();
    let rt = rt();
    let lb = rt.block_on(first_block(&c, "/sec/a"));
    let read_token = lb.block_token.clone();
    assert!(
        !read_token.identifier.is_empty(),
        "the NameNode issued no token"
    );
    let id = BlockTokenIdentifier::decode(&read_token.identifier).unwrap();
    assert_eq!(id.modes, vec![AccessMode::Read]);
    assert_eq!(id.block_id as u64, lb.b.block_id);
    let port = lb.locs[0].id.xfer_port as u16;
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let other_block = ExtendedBlockProto {
        block_id: lb.b.block_id + 1000,
        ..lb.b.clone()
    };

    rt.block_on(async {
        // Control: the real token reads.
        let mut h = connect(addr, Some(&read_token), Qop::Integrity)
            .await
            .unwrap();
        let ok = send(&mut h, &read_op(&lb.b, Some(read_token.clone())))
            .await
            .expect("a response");
        assert_eq!(ok.status, Status::Success as i32, "{ok:?}");

        // A plain op, no handshake: the connection is dropped unanswered.
        let mut h = connect(addr, None, Qop::Integrity).await.unwrap();
        assert!(send(&mut h, &read_op(&lb.b, Some(read_token.clone())))
            .await
            .is_none());
        assert_nothing_more(&mut h, "plain op").await;
        let mut h = connect(addr, None, Qop::Integrity).await.unwrap();
        let plain_write = write_op_for(&other_block, Some(read_token.clone()));
        assert!(send(&mut h, &plain_write).await.is_none());
        assert_nothing_more(&mut h, "plain write op").await;

        // Handshakes with forged tokens fail: the password no longer matches.
        let forgeries = [
            (
                "mode",
                forged(&read_token, |i| {
                    i.modes = vec![AccessMode::Read, AccessMode::Write]
                }),
            ),
            (
                "expiry",
                forged(&read_token, |i| i.expiry_date += 86_400_000),
            ),
            (
                "key id",
                forged(&read_token, |i| i.key_id = i.key_id.wrapping_add(1)),
            ),
            ("block id", forged(&read_token, |i| i.block_id += 1)),
            ("user", forged(&read_token, |i| i.user_id = "hdfs".into())),
            ("password", {
                let mut p = read_token.password.to_vec();
                p[0] ^= 1;
                token(read_token.identifier.to_vec(), p)
            }),
            ("empty", token(Vec::new(), Vec::new())),
        ];
        for (what, t) in &forgeries {
            match connect(addr, Some(t), Qop::Integrity).await {
                Err(SaslTransferError::Refused { .. })
                | Err(SaslTransferError::Io(_))
                | Err(SaslTransferError::Protocol(_))
                | Err(SaslTransferError::Sasl(_)) => {}
                Err(e) => panic!("forged {what}: unexpected error {e}"),
                Ok(_) => panic!("forged {what}: handshake accepted"),
            }
        }

        // With a valid handshake, the op's own token is checked too.
        let refusals = [
            (
                "READ token used to write",
                write_op_for(&other_block, Some(read_token.clone())),
            ),
            (
                "READ token for another block",
                read_op(&other_block, Some(read_token.clone())),
            ),
            ("no token", read_op(&lb.b, None)),
            (
                "empty token",
                read_op(&lb.b, Some(token(Vec::new(), Vec::new()))),
            ),
            (
                "forged mode in the op",
                write_op_for(
                    &lb.b,
                    Some(forged(&read_token, |i| i.modes = vec![AccessMode::Write])),
                ),
            ),
        ];
        for (what, op) in &refusals {
            let mut h = connect(addr, Some(&read_token), Qop::Integrity)
                .await
                .unwrap();
            let resp = send(&mut h, op)
                .await
                .unwrap_or_else(|| panic!("{what}: no answer"));
            assert_eq!(
                resp.status,
                Status::ErrorAccessToken as i32,
                "{what}: {resp:?}"
            );
            let msg = resp.message.clone().unwrap_or_default();
            assert!(
                msg.contains("Block token verification failed"),
                "{what}: {msg}"
            );
            if matches!(op, OpRequest::WriteBlock(_)) {
                assert!(
                    resp.first_bad_link
                        .as_deref()
                        .is_some_and(|l| !l.is_empty()),
                    "{what}: {resp:?}"
                );
            }
            assert_nothing_more(&mut h, what).await;
        }
    });

    // Nothing was created anywhere, and the file is intact.
    std::thread::sleep(Duration::from_secs(1));
    let after: Vec<usize> = (0..3).map(|i| c.replicas_on(i).len()).collect();
    assert_eq!(before, after, "replicas before and after the attacks");
    for i in 0..3 {
        assert!(
            c.replicas_on(i)
                .iter()
                .all(|r| r.block_id != other_block.block_id),
            "a replica of the attacker's block appeared on dn{}",
            i + 1
        );
    }
    assert_same_bytes(
        &get_with_hafs(&c, "/sec/a"),
        &data,
        "read after the attacks",
    );
}

#[test]
fn a_datanode_without_protection_refuses_forged_tokens_in_ops() {
    // Tokens on, no SASL: the op-level check alone.
    let c = MiniCluster::builder()
        .label("bt-ops")
        .datanodes(1)
        .conf("dfs.block.access.token.enable", "true")
        .conf("dfs.replication", "1")
        .start();
    let data = test_bytes(14, 10_000);
    put_with_hafs(&c, "/sec/o", &data);
    let rt = rt();
    let lb = rt.block_on(first_block(&c, "/sec/o"));
    let t = lb.block_token.clone();
    let port = lb.locs[0].id.xfer_port as u16;
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    rt.block_on(async {
        let mut h = connect(addr, None, Qop::Authentication).await.unwrap();
        let ok = send(&mut h, &read_op(&lb.b, Some(t.clone())))
            .await
            .unwrap();
        assert_eq!(ok.status, Status::Success as i32, "{ok:?}");
        let bad = [
            ("expiry", forged(&t, |i| i.expiry_date += 1)),
            (
                "key id",
                forged(&t, |i| i.key_id = i.key_id.wrapping_add(7)),
            ),
            ("mode", forged(&t, |i| i.modes = vec![AccessMode::Write])),
            ("password", token(t.identifier.to_vec(), vec![0; 20])),
            ("empty", token(Vec::new(), Vec::new())),
        ];
        for (what, forged) in bad {
            let mut h = connect(addr, None, Qop::Authentication).await.unwrap();
            let resp = send(&mut h, &read_op(&lb.b, Some(forged))).await.unwrap();
            assert_eq!(
                resp.status,
                Status::ErrorAccessToken as i32,
                "{what}: {resp:?}"
            );
            assert_nothing_more(&mut h, what).await;
        }
    });
}

/// A Kerberos DataNode on an unprivileged port without `dfs.data.transfer.protection`
/// would serve block data to anyone: it refuses to start, with Hadoop's message.
#[test]
fn a_secure_datanode_without_protection_refuses_to_start() {
    let dir = hafs_tests::TempDir::new("bt-insecure-dn");
    let conf = dir.join("conf");
    std::fs::create_dir_all(&conf).unwrap();
    let kv = |k: &str, v: &str| (k.to_string(), v.to_string());
    hafs_tests::write_site_xml(
        &conf.join("core-site.xml"),
        &[
            kv("fs.defaultFS", "hdfs://127.0.0.1:1"),
            kv("hadoop.security.authentication", "kerberos"),
        ],
    );
    hafs_tests::write_site_xml(
        &conf.join("hdfs-site.xml"),
        &[
            kv("dfs.block.access.token.enable", "true"),
            kv("dfs.datanode.data.dir", dir.join("data").to_str().unwrap()),
        ],
    );
    let mut cmd = std::process::Command::new(hafs_tests::hafs_bin());
    cmd.arg("--config").arg(&conf).arg("datanode");
    let out = hafs_tests::run_with_timeout(cmd, Duration::from_secs(30));
    assert!(!out.success(), "the DataNode started:\n{out}");
    assert!(
        out.stderr
            .contains("Cannot start secure DataNode due to incorrect config"),
        "{out}"
    );
}
