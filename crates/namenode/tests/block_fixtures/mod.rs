//! What the BlockManager tests (blocks_manager.rs, blocks_decommission.rs) build their
//! block managers and fake DataNodes from: one namespace identity and DataNode `n` at
//! 10.0.0.n.

use hafs_namenode::blockmanagement::NamespaceIdentity;
use hafs_proto::hdfs as pb;
use hafs_proto::hdfs::datanode as dpb;

/// The block pool of [`identity`].
pub const BPID: &str = "BP-1-127.0.0.1-1";

pub fn identity() -> NamespaceIdentity {
    NamespaceIdentity {
        cluster_id: "CID-t".into(),
        block_pool_id: BPID.into(),
        namespace_id: 7,
        layout_version: -66,
        ctime: 0,
    }
}

/// DataNode `n`'s registration: 10.0.0.n, host `dn<n>`, uuid `dn-<n>`.
pub fn reg(n: u8) -> dpb::DatanodeRegistrationProto {
    dpb::DatanodeRegistrationProto {
        datanode_id: pb::DatanodeIdProto {
            ip_addr: format!("10.0.0.{n}"),
            host_name: format!("dn{n}"),
            datanode_uuid: format!("dn-{n}"),
            xfer_port: 9866,
            info_port: 9864,
            ipc_port: 9867,
            info_secure_port: None,
        },
        storage_info: dpb::StorageInfoProto {
            layout_version: 1,
            namespce_id: 7,
            cluster_id: "CID-t".into(),
            c_time: 0,
        },
        keys: None,
        software_version: "3.5.0".into(),
    }
}
