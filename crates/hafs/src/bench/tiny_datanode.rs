//! A DataNode that stores nothing, for `nnthroughput -blocksPerFile 1` (Hadoop's
//! NNThroughputBenchmark has the same kind, TinyDatanode): it registers over
//! DatanodeProtocol with one storage, heartbeats so the NameNode keeps placing blocks
//! on it, and reports each block a client "wrote" as received, so `complete` succeeds.

use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use hafs_ipc::{ClientConfig, Connection};
use hafs_namenode::datanode_protocol::PROTOCOL;
use hafs_proto::hdfs as pb;
use hafs_proto::hdfs::datanode as dpb;
use prost::Message;

const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Dfs.heartbeat.interval's default.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(3);
const STORAGE: &str = "DS-nnbench-tiny-datanode";

pub struct TinyDatanode {
    conn: Connection,
    reg: dpb::DatanodeRegistrationProto,
    bpid: String,
}

async fn call<Req: Message, Resp: Message + Default>(
    c: &Connection,
    method: &str,
    req: &Req,
) -> anyhow::Result<Resp> {
    let body = Bytes::from(req.encode_to_vec());
    let b = c
        .call_raw(method, body, hafs_ipc::next_call_id(), 0, CALL_TIMEOUT)
        .await
        .with_context(|| format!("DatanodeProtocol.{method}"))?;
    Resp::decode(b).with_context(|| format!("decoding the answer to {method}"))
}

impl TinyDatanode {
    /// Registers with the NameNode at `addr` (host:port) and heartbeats once.
    pub async fn join(addr: &str) -> anyhow::Result<TinyDatanode> {
        let conn = Connection::connect(addr, PROTOCOL, &ClientConfig::new("datanode")).await?;
        let v: dpb::VersionResponseProto =
            call(&conn, "versionRequest", &dpb::VersionRequestProto {}).await?;
        let registration = dpb::DatanodeRegistrationProto {
            datanode_id: pb::DatanodeIdProto {
                ip_addr: "127.0.0.1".into(),
                host_name: "localhost".into(),
                datanode_uuid: format!("nnbench-{}", std::process::id()),
                // Nothing listens there: clients of this benchmark never connect.
                xfer_port: 1,
                info_port: 2,
                ipc_port: 3,
                info_secure_port: None,
            },
            storage_info: dpb::StorageInfoProto {
                layout_version: 1,
                namespce_id: v.info.storage_info.namespce_id,
                cluster_id: v.info.storage_info.cluster_id.clone(),
                c_time: 0,
            },
            keys: None,
            software_version: hafs_proto::HADOOP_VERSION.into(),
        };
        let r: dpb::RegisterDatanodeResponseProto = call(
            &conn,
            "registerDatanode",
            &dpb::RegisterDatanodeRequestProto { registration },
        )
        .await?;
        let dn = TinyDatanode {
            conn,
            reg: r.registration,
            bpid: v.info.block_pool_id,
        };
        dn.heartbeat().await?;
        Ok(dn)
    }

    fn storage() -> pb::DatanodeStorageProto {
        pb::DatanodeStorageProto {
            storage_uuid: STORAGE.into(),
            state: None,
            storage_type: None,
        }
    }

    #[allow(deprecated)]
    pub async fn heartbeat(&self) -> anyhow::Result<()> {
        let req = dpb::HeartbeatRequestProto {
            registration: self.reg.clone(),
            reports: vec![pb::StorageReportProto {
                storage_uuid: STORAGE.into(),
                failed: Some(false),
                capacity: Some(1 << 50),
                dfs_used: Some(0),
                remaining: Some(1 << 50),
                block_pool_used: Some(0),
                storage: Some(Self::storage()),
                non_dfs_used: None,
                mount: None,
            }],
            ..Default::default()
        };
        let _: dpb::HeartbeatResponseProto = call(&self.conn, "sendHeartbeat", &req).await?;
        Ok(())
    }

    /// Reports `block` (with `len` bytes) as received and finalized.
    #[allow(deprecated)]
    pub async fn received(&self, block: &pb::ExtendedBlockProto, len: u64) -> anyhow::Result<()> {
        use dpb::received_deleted_block_info_proto::BlockStatus;
        let req = dpb::BlockReceivedAndDeletedRequestProto {
            registration: self.reg.clone(),
            block_pool_id: self.bpid.clone(),
            blocks: vec![dpb::StorageReceivedDeletedBlocksProto {
                storage_uuid: STORAGE.into(),
                blocks: vec![dpb::ReceivedDeletedBlockInfoProto {
                    block: pb::BlockProto {
                        block_id: block.block_id,
                        gen_stamp: block.generation_stamp,
                        num_bytes: Some(len),
                    },
                    delete_hint: None,
                    status: BlockStatus::Received as i32,
                }],
                storage: Some(Self::storage()),
            }],
        };
        let _: dpb::BlockReceivedAndDeletedResponseProto =
            call(&self.conn, "blockReceivedAndDeleted", &req).await?;
        Ok(())
    }
}
