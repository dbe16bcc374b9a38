//! A fake NameNode (DatanodeProtocol served by a real hafs_ipc::Server in-process) and
//! a fake DataNode storage, for the actor tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hafs_datanode::actor::{ActiveNameNode, BlockCommand, DataNodeOps, JoinError, NamespaceInfo};
use hafs_datanode::storage::{ReplicaReport, ReplicaState, StorageReport};
use hafs_ipc::{decode_request, encode_response, CallContext, RpcError, RpcService};
use hafs_proto::hdfs::datanode::nnha_status_heartbeat_proto::State;
use hafs_proto::hdfs::datanode::*;
use hafs_proto::hdfs::DatanodeIdProto;
use hafs_testkit::RpcServerTask;

pub const CLUSTER: &str = "CID-test";
pub const BPID: &str = "BP-1-127.0.0.1-1";

/// Every call a fake NameNode received, in order.
#[derive(Default)]
pub struct Recorded {
    pub calls: Vec<String>,
    pub registrations: Vec<DatanodeRegistrationProto>,
    pub heartbeats: Vec<HeartbeatRequestProto>,
    pub block_reports: Vec<BlockReportRequestProto>,
    pub ibrs: Vec<BlockReceivedAndDeletedRequestProto>,
    pub bad_blocks: Vec<ReportBadBlocksRequestProto>,
    pub errors: Vec<ErrorReportRequestProto>,
    pub commits: Vec<CommitBlockSynchronizationRequestProto>,
}

/// What the fake NameNode answers.
pub struct Behaviour {
    pub state: State,
    pub txid: u64,
    pub cluster_id: String,
    /// Commands for the next heartbeat reply (taken once).
    pub commands: Vec<DatanodeCommandProto>,
    /// Answer calls other than versionRequest/registerDatanode with
    /// UnregisteredNodeException until the DataNode registers again.
    pub forget_datanode: bool,
}

pub struct FakeNameNode {
    pub rec: Mutex<Recorded>,
    pub behaviour: Mutex<Behaviour>,
}

impl FakeNameNode {
    pub fn new(state: State, txid: u64) -> Arc<Self> {
        Arc::new(FakeNameNode {
            rec: Mutex::new(Recorded::default()),
            behaviour: Mutex::new(Behaviour {
                state,
                txid,
                cluster_id: CLUSTER.to_string(),
                commands: Vec::new(),
                forget_datanode: false,
            }),
        })
    }

    pub fn set_ha(&self, state: State, txid: u64) {
        let mut b = self.behaviour.lock().unwrap();
        b.state = state;
        b.txid = txid;
    }

    pub fn push_command(&self, cmd: DatanodeCommandProto) {
        self.behaviour.lock().unwrap().commands.push(cmd);
    }

    pub fn rec<T>(&self, f: impl FnOnce(&Recorded) -> T) -> T {
        f(&self.rec.lock().unwrap())
    }
}

fn unregistered() -> RpcError {
    RpcError::new(
        "org.apache.hadoop.hdfs.protocol.UnregisteredNodeException",
        "Data node is not registered",
    )
}

#[async_trait::async_trait]
impl RpcService for FakeNameNode {
    fn protocol_name(&self) -> &'static str {
        "org.apache.hadoop.hdfs.server.protocol.DatanodeProtocol"
    }

    async fn call(&self, _ctx: &CallContext, method: &str, req: Bytes) -> Result<Bytes, RpcError> {
        self.rec.lock().unwrap().calls.push(method.to_string());
        let forget = self.behaviour.lock().unwrap().forget_datanode;
        if forget && method != "versionRequest" && method != "registerDatanode" {
            return Err(unregistered());
        }
        match method {
            "versionRequest" => {
                let b = self.behaviour.lock().unwrap();
                Ok(encode_response(&VersionResponseProto {
                    info: NamespaceInfoProto {
                        build_version: "test".into(),
                        unused: 0,
                        block_pool_id: BPID.into(),
                        storage_info: StorageInfoProto {
                            layout_version: 1,
                            namespce_id: 42,
                            cluster_id: b.cluster_id.clone(),
                            c_time: 0,
                        },
                        software_version: "test".into(),
                        capabilities: None,
                        state: None,
                    },
                }))
            }
            "registerDatanode" => {
                let r: RegisterDatanodeRequestProto = decode_request(&req)?;
                self.behaviour.lock().unwrap().forget_datanode = false;
                self.rec
                    .lock()
                    .unwrap()
                    .registrations
                    .push(r.registration.clone());
                Ok(encode_response(&RegisterDatanodeResponseProto {
                    registration: r.registration,
                }))
            }
            "sendHeartbeat" => {
                let r: HeartbeatRequestProto = decode_request(&req)?;
                self.rec.lock().unwrap().heartbeats.push(r);
                let mut b = self.behaviour.lock().unwrap();
                let cmds = std::mem::take(&mut b.commands);
                Ok(encode_response(&HeartbeatResponseProto {
                    cmds,
                    ha_status: NnhaStatusHeartbeatProto {
                        state: b.state as i32,
                        txid: b.txid,
                    },
                    full_block_report_lease_id: None,
                }))
            }
            "blockReport" => {
                let r: BlockReportRequestProto = decode_request(&req)?;
                self.rec.lock().unwrap().block_reports.push(r);
                Ok(encode_response(&BlockReportResponseProto { cmd: None }))
            }
            "blockReceivedAndDeleted" => {
                let r: BlockReceivedAndDeletedRequestProto = decode_request(&req)?;
                self.rec.lock().unwrap().ibrs.push(r);
                Ok(encode_response(&BlockReceivedAndDeletedResponseProto {}))
            }
            "reportBadBlocks" => {
                let r: ReportBadBlocksRequestProto = decode_request(&req)?;
                self.rec.lock().unwrap().bad_blocks.push(r);
                Ok(encode_response(&ReportBadBlocksResponseProto {}))
            }
            "errorReport" => {
                let r: ErrorReportRequestProto = decode_request(&req)?;
                self.rec.lock().unwrap().errors.push(r);
                Ok(encode_response(&ErrorReportResponseProto {}))
            }
            "commitBlockSynchronization" => {
                let r: CommitBlockSynchronizationRequestProto = decode_request(&req)?;
                self.rec.lock().unwrap().commits.push(r);
                Ok(encode_response(&CommitBlockSynchronizationResponseProto {}))
            }
            other => Err(RpcError::no_such_method("DatanodeProtocol", other)),
        }
    }
}

/// A running IPC server (the kit's; `stop` shuts it down).
pub type Served = RpcServerTask;

pub async fn serve(services: Vec<Arc<dyn RpcService>>, addr: SocketAddr) -> Served {
    RpcServerTask::start(services, addr).await
}

pub async fn serve_nn(nn: &Arc<FakeNameNode>) -> Served {
    serve(
        vec![nn.clone() as Arc<dyn RpcService>],
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
}

/// A fake storage: fixed replicas and volumes; records the commands it executes.
pub struct FakeOps {
    pub cluster_id: String,
    pub replicas: Mutex<Vec<ReplicaReport>>,
    pub executed: Mutex<Vec<BlockCommand>>,
    pub joins: Mutex<u32>,
}

impl FakeOps {
    pub fn new() -> Arc<Self> {
        Arc::new(FakeOps {
            cluster_id: CLUSTER.to_string(),
            replicas: Mutex::new(vec![
                ReplicaReport {
                    storage_id: "DS-1".into(),
                    block_id: 1001,
                    gen_stamp: 7,
                    num_bytes: 1024,
                    state: ReplicaState::Finalized,
                },
                ReplicaReport {
                    storage_id: "DS-2".into(),
                    block_id: 1002,
                    gen_stamp: 8,
                    num_bytes: 10,
                    state: ReplicaState::Rbw,
                },
            ]),
            executed: Mutex::new(Vec::new()),
            joins: Mutex::new(0),
        })
    }

    pub fn executed(&self) -> Vec<BlockCommand> {
        self.executed.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl DataNodeOps for FakeOps {
    async fn join_block_pool(&self, ns: &NamespaceInfo) -> Result<(), JoinError> {
        *self.joins.lock().unwrap() += 1;
        if ns.cluster_id != self.cluster_id {
            return Err(JoinError::WrongCluster(format!(
                "Incompatible clusterIDs: datanode clusterID = {}; namenode clusterID = {}",
                self.cluster_id, ns.cluster_id
            )));
        }
        Ok(())
    }
    fn storage_usage(&self, _bpid: &str) -> Vec<StorageReport> {
        ["DS-1", "DS-2"]
            .iter()
            .map(|s| StorageReport {
                storage_id: s.to_string(),
                storage_type: hafs_proto::hdfs::StorageTypeProto::Disk as i32,
                dir: format!("/data/{s}").into(),
                failed: false,
                capacity: 1000,
                used: 100,
                remaining: 800,
                non_dfs_used: 100,
            })
            .collect()
    }
    fn failed_volumes(&self) -> u32 {
        0
    }
    fn xceiver_count(&self) -> u32 {
        3
    }
    fn xmits_in_progress(&self) -> u32 {
        0
    }
    async fn block_report(&self, _bpid: &str) -> Result<Vec<ReplicaReport>, String> {
        Ok(self.replicas.lock().unwrap().clone())
    }
    async fn execute(&self, cmd: BlockCommand, _active: ActiveNameNode) -> Result<(), String> {
        self.executed.lock().unwrap().push(cmd);
        Ok(())
    }
}

pub fn datanode_id() -> DatanodeIdProto {
    DatanodeIdProto {
        ip_addr: "127.0.0.1".into(),
        host_name: "localhost".into(),
        datanode_uuid: "dn-uuid-1".into(),
        xfer_port: 9866,
        info_port: 9864,
        ipc_port: 9867,
        info_secure_port: None,
    }
}

pub fn fast_settings() -> hafs_datanode::actor::ActorSettings {
    hafs_datanode::actor::ActorSettings {
        heartbeat_interval: Duration::from_millis(50),
        block_report_interval: Duration::from_secs(3600),
        max_backoff: Duration::from_millis(200),
        call_timeout: Duration::from_secs(5),
        ..Default::default()
    }
}

/// Polls `cond` every 10 ms for up to `secs` seconds.
pub async fn wait_for(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !cond() {
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn invalidate_cmd(block_id: u64) -> DatanodeCommandProto {
    use hafs_proto::hdfs::datanode::datanode_command_proto::Type;
    DatanodeCommandProto {
        cmd_type: Type::BlockCommand as i32,
        blk_cmd: Some(BlockCommandProto {
            action: block_command_proto::Action::Invalidate as i32,
            block_pool_id: BPID.into(),
            blocks: vec![hafs_proto::hdfs::BlockProto {
                block_id,
                gen_stamp: 1,
                num_bytes: Some(0),
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn register_cmd() -> DatanodeCommandProto {
    use hafs_proto::hdfs::datanode::datanode_command_proto::Type;
    DatanodeCommandProto {
        cmd_type: Type::RegisterCommand as i32,
        register_cmd: Some(RegisterCommandProto {}),
        ..Default::default()
    }
}
