//! NamenodeProtocol (`org.apache.hadoop.hdfs.server.protocol.NamenodeProtocol`), the
//! protocol Hadoop's Balancer, SecondaryNameNode and tools speak to a NameNode. hafs
//! serves `versionRequest` (the namespace's identity: cluster id, block pool id,
//! layout), which Hadoop's own `NNThroughputBenchmark -fs` asks for before it drives a
//! remote NameNode; the other methods answer RpcNoSuchMethodException until the
//! balancer needs them (issue 16).
//!
//! The answer is DatanodeProtocol's `versionRequest`, the same message on the wire.

use std::sync::{Arc, LazyLock};

use bytes::Bytes;
use hafs_ipc::{decode_request, CallContext, MethodTable, ProtocolService, RpcError, RpcService};
use hafs_proto::hdfs::datanode as dpb;
use prost::Message;

use crate::datanode_protocol::DatanodeProtocolService;

pub const PROTOCOL: &str = "org.apache.hadoop.hdfs.server.protocol.NamenodeProtocol";

pub struct NamenodeProtocolService {
    pub datanode: Arc<DatanodeProtocolService>,
}

impl NamenodeProtocolService {
    fn table() -> MethodTable<Self> {
        MethodTable::new(PROTOCOL).method("versionRequest", Self::version_request)
    }

    async fn version_request(
        &self,
        ctx: &CallContext,
        r: dpb::VersionRequestProto,
    ) -> Result<dpb::VersionResponseProto, RpcError> {
        let body = self
            .datanode
            .call(ctx, "versionRequest", Bytes::from(r.encode_to_vec()))
            .await?;
        decode_request(&body)
    }
}

impl ProtocolService for NamenodeProtocolService {
    fn methods() -> &'static MethodTable<Self> {
        static METHODS: LazyLock<MethodTable<NamenodeProtocolService>> =
            LazyLock::new(NamenodeProtocolService::table);
        &METHODS
    }
}
