//! Fake DataNodes speaking DatanodeProtocol over real IPC to an in-process NameNode:
//! they register, heartbeat with one storage, report blocks and wait for commands.

use std::time::{Duration, Instant};

use bytes::Bytes;
use hafs_ipc::{ClientConfig, Connection, IpcError};
use hafs_namenode::datanode_protocol::PROTOCOL;
use hafs_proto::block_list::{encode_legacy_block_list, ReportedReplica};
use hafs_proto::hdfs as pb;
use hafs_proto::hdfs::datanode as dpb;
use prost::Message;

use dpb::block_command_proto::Action;

pub struct FakeDn {
    pub conn: Connection,
    pub reg: dpb::DatanodeRegistrationProto,
    pub storage: String,
    pub bpid: String,
}

pub async fn call<Req: Message, Resp: Message + Default>(
    c: &Connection,
    method: &str,
    req: &Req,
) -> Result<Resp, IpcError> {
    let b = c
        .call_raw(
            method,
            Bytes::from(req.encode_to_vec()),
            hafs_ipc::next_call_id(),
            0,
            Duration::from_secs(10),
        )
        .await?;
    Ok(Resp::decode(b).unwrap())
}

pub fn registration(port: u32, cluster: &str, uuid: &str) -> dpb::DatanodeRegistrationProto {
    dpb::DatanodeRegistrationProto {
        datanode_id: pb::DatanodeIdProto {
            ip_addr: "127.0.0.1".into(),
            host_name: "localhost".into(),
            datanode_uuid: uuid.into(),
            xfer_port: port,
            info_port: port + 1,
            ipc_port: port + 2,
            info_secure_port: None,
        },
        storage_info: dpb::StorageInfoProto {
            layout_version: 1,
            namespce_id: 0,
            cluster_id: cluster.into(),
            c_time: 0,
        },
        keys: None,
        software_version: "3.5.0".into(),
    }
}

impl FakeDn {
    /// Registers DataNode number `n` (uuid `dn-<n>`, storage `DS-<n>`) and heartbeats once.
    pub async fn join(addr: &str, n: u32) -> FakeDn {
        let cfg = ClientConfig::new("datanode");
        let conn = Connection::connect(addr, PROTOCOL, &cfg).await.unwrap();
        let v: dpb::VersionResponseProto =
            call(&conn, "versionRequest", &dpb::VersionRequestProto {})
                .await
                .unwrap();
        assert_eq!(v.info.storage_info.cluster_id, super::CLUSTER_ID);
        let reg = registration(
            40000 + 10 * n,
            &v.info.storage_info.cluster_id,
            &format!("dn-{n}"),
        );
        let r: dpb::RegisterDatanodeResponseProto = call(
            &conn,
            "registerDatanode",
            &dpb::RegisterDatanodeRequestProto { registration: reg },
        )
        .await
        .unwrap();
        let dn = FakeDn {
            conn,
            reg: r.registration,
            storage: format!("DS-{n}"),
            bpid: v.info.block_pool_id,
        };
        dn.heartbeat().await;
        dn
    }

    #[allow(deprecated)]
    pub async fn heartbeat(&self) -> dpb::HeartbeatResponseProto {
        let req = dpb::HeartbeatRequestProto {
            registration: self.reg.clone(),
            reports: vec![pb::StorageReportProto {
                storage_uuid: self.storage.clone(),
                failed: Some(false),
                capacity: Some(100 << 30),
                dfs_used: Some(1 << 30),
                remaining: Some(90 << 30),
                block_pool_used: Some(1 << 30),
                storage: Some(pb::DatanodeStorageProto {
                    storage_uuid: self.storage.clone(),
                    state: None,
                    storage_type: None,
                }),
                non_dfs_used: None,
                mount: None,
            }],
            ..Default::default()
        };
        call(&self.conn, "sendHeartbeat", &req).await.unwrap()
    }

    pub async fn full_report(&self, blocks: &[(u64, u64, u64)]) -> Result<(), IpcError> {
        let req = dpb::BlockReportRequestProto {
            registration: self.reg.clone(),
            block_pool_id: self.bpid.clone(),
            reports: vec![dpb::StorageBlockReportProto {
                storage: pb::DatanodeStorageProto {
                    storage_uuid: self.storage.clone(),
                    state: None,
                    storage_type: None,
                },
                number_of_blocks: None,
                blocks: encode_legacy_block_list(
                    &blocks
                        .iter()
                        .map(|&(id, gs, len)| ReportedReplica {
                            block_id: id,
                            gen_stamp: gs,
                            num_bytes: len,
                            state: dpb::ReplicaStateProto::Finalized,
                        })
                        .collect::<Vec<_>>(),
                ),
            }],
            context: None,
        };
        call::<_, dpb::BlockReportResponseProto>(&self.conn, "blockReport", &req)
            .await
            .map(|_| ())
    }

    #[allow(deprecated)]
    pub async fn received(&self, id: u64, gs: u64, len: u64) {
        use dpb::received_deleted_block_info_proto::BlockStatus;
        let req = dpb::BlockReceivedAndDeletedRequestProto {
            registration: self.reg.clone(),
            block_pool_id: self.bpid.clone(),
            blocks: vec![dpb::StorageReceivedDeletedBlocksProto {
                storage_uuid: self.storage.clone(),
                blocks: vec![dpb::ReceivedDeletedBlockInfoProto {
                    block: pb::BlockProto {
                        block_id: id,
                        gen_stamp: gs,
                        num_bytes: Some(len),
                    },
                    delete_hint: None,
                    status: BlockStatus::Received as i32,
                }],
                storage: None,
            }],
        };
        let _: dpb::BlockReceivedAndDeletedResponseProto =
            call(&self.conn, "blockReceivedAndDeleted", &req)
                .await
                .unwrap();
    }

    /// Heartbeats (keeping `others` alive too) until a block command with `action`
    /// arrives; returns it.
    pub async fn await_command(
        &self,
        action: Action,
        others: &[&FakeDn],
    ) -> dpb::BlockCommandProto {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            for o in others {
                o.heartbeat().await;
            }
            let r = self.heartbeat().await;
            for c in r.cmds {
                if let Some(b) = c.blk_cmd {
                    if b.action == action as i32 {
                        return b;
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "no {action:?} command for {}",
                self.reg.datanode_id.datanode_uuid
            );
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    pub fn uuid(&self) -> &str {
        &self.reg.datanode_id.datanode_uuid
    }
}
