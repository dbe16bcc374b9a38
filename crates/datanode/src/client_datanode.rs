//! ClientDatanodeProtocol (`org.apache.hadoop.hdfs.protocol.ClientDatanodeProtocol`) on
//! `dfs.datanode.ipc.address`: `getReplicaVisibleLength`, which Hadoop's client calls
//! before reading the last block of a file still being written (`-tail -f`, reading
//! while another client hflushes or appends). Other methods answer
//! RpcNoSuchMethodException.

use async_trait::async_trait;
use bytes::Bytes;
use hafs_ipc::{decode_request, encode_response, CallContext, RpcError, RpcService};
use hafs_proto::hdfs::{GetReplicaVisibleLengthRequestProto, GetReplicaVisibleLengthResponseProto};

use crate::storage::{DataNodeStorage, ReplicaState};

pub const CLIENT_DATANODE_PROTOCOL: &str = "org.apache.hadoop.hdfs.protocol.ClientDatanodeProtocol";

pub struct ClientDatanodeService {
    storage: DataNodeStorage,
}

impl ClientDatanodeService {
    pub fn new(storage: DataNodeStorage) -> Self {
        ClientDatanodeService { storage }
    }

    /// Hadoop's FsDatasetImpl#getReplicaVisibleLength: the replica must exist with a
    /// generation stamp at least the client's; its visible length is the acknowledged
    /// bytes (a finalized replica: its length).
    fn visible_length(&self, req: &GetReplicaVisibleLengthRequestProto) -> Result<u64, RpcError> {
        let b = &req.block;
        let Some(r) = self.storage.get_replica(&b.pool_id, b.block_id) else {
            return Err(RpcError::new(
                "org.apache.hadoop.hdfs.server.datanode.ReplicaNotFoundException",
                format!(
                    "Replica not found for {}:blk_{}_{}",
                    b.pool_id, b.block_id, b.generation_stamp
                ),
            ));
        };
        if r.gen_stamp < b.generation_stamp {
            return Err(RpcError::io(format!(
                "replica.getGenerationStamp() < block.getGenerationStamp(), block=blk_{}_{}, replica gen stamp {}",
                b.block_id, b.generation_stamp, r.gen_stamp
            )));
        }
        Ok(match r.state {
            ReplicaState::Finalized => r.bytes_on_disk,
            _ => r.visible_length,
        })
    }
}

#[async_trait]
impl RpcService for ClientDatanodeService {
    fn protocol_name(&self) -> &'static str {
        CLIENT_DATANODE_PROTOCOL
    }

    async fn call(
        &self,
        _ctx: &CallContext,
        method: &str,
        request: Bytes,
    ) -> Result<Bytes, RpcError> {
        match method {
            "getReplicaVisibleLength" => {
                let req: GetReplicaVisibleLengthRequestProto = decode_request(&request)?;
                let length = self.visible_length(&req)?;
                Ok(encode_response(&GetReplicaVisibleLengthResponseProto {
                    length,
                }))
            }
            other => Err(RpcError::no_such_method(CLIENT_DATANODE_PROTOCOL, other)),
        }
    }
}
