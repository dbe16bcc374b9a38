//! The `dfsadmin` commands addressed to one DataNode's IPC port
//! (ClientDatanodeProtocol): `-refreshNamenodes` and `-deleteBlockPool`, which as in
//! Hadoop print nothing on success, and `-getBalancerBandwidth` and
//! `-getDatanodeInfo`, which operators use beside the balancer. A refusal is
//! `<command>: <first line of the DataNode's message>` and exit status -1.

use hafs_client::ClientError;
use hafs_datanode::client_datanode::CLIENT_DATANODE_PROTOCOL;
use hafs_proto::hdfs::{
    DeleteBlockPoolRequestProto, DeleteBlockPoolResponseProto, GetBalancerBandwidthRequestProto,
    GetBalancerBandwidthResponseProto, GetDatanodeInfoRequestProto, GetDatanodeInfoResponseProto,
    RefreshNamenodesRequestProto, RefreshNamenodesResponseProto,
};

use super::Failure;

pub const REFRESH_NAMENODES_USAGE: &str =
    "Usage: hafs dfsadmin [-refreshNamenodes datanode-host:port]";
pub const GET_BALANCER_BANDWIDTH_USAGE: &str =
    "Usage: hafs dfsadmin [-getBalancerBandwidth <datanode_host:ipc_port>]";
pub const GET_DATANODE_INFO_USAGE: &str =
    "Usage: hafs dfsadmin [-getDatanodeInfo <datanode_host:ipc_port>]";
pub const DELETE_BLOCK_POOL_USAGE: &str =
    "Usage: hafs dfsadmin [-deleteBlockPool datanode-host:port blockpoolId [force]]";

/// A client of the DataNode at `host:port` (its `dfs.datanode.ipc.address`).
fn datanode_proxy(addr: &str) -> Result<hafs_ipc::RpcClient, Failure> {
    match hafs_conf::parse::parse_host_port(addr, 0) {
        Some((host, port)) if !host.is_empty() && port != 0 => Ok(hafs_ipc::RpcClient::new(
            hafs_conf::parse::format_host_port(&host, port),
            CLIENT_DATANODE_PROTOCOL,
            hafs_ipc::ClientConfig::new(hafs_client::identity::current_user()),
        )),
        _ => Err(Failure(format!(
            "Does not contain a valid host:port authority: {addr}"
        ))),
    }
}

fn remote(e: hafs_ipc::IpcError) -> Failure {
    Failure(ClientError::from(e).user_message())
}

/// `-refreshNamenodes <datanode_host:ipc_port>`.
pub async fn refresh_namenodes(args: &[String]) -> Option<Result<i32, Failure>> {
    let [addr] = args else {
        eprintln!("{REFRESH_NAMENODES_USAGE}");
        return None;
    };
    Some(
        async {
            let dn = datanode_proxy(addr)?;
            let _: RefreshNamenodesResponseProto = dn
                .call("refreshNamenodes", &RefreshNamenodesRequestProto {})
                .await
                .map_err(remote)?;
            Ok(0)
        }
        .await,
    )
}

/// `-deleteBlockPool <datanode_host:ipc_port> <blockpoolId> [force]`.
pub async fn delete_block_pool(args: &[String]) -> Option<Result<i32, Failure>> {
    let (addr, block_pool, force) = match args {
        [addr, bpid] => (addr, bpid, false),
        [addr, bpid, word] if word == "force" => (addr, bpid, true),
        _ => {
            eprintln!("{DELETE_BLOCK_POOL_USAGE}");
            return None;
        }
    };
    Some(
        async {
            let dn = datanode_proxy(addr)?;
            let _: DeleteBlockPoolResponseProto = dn
                .call(
                    "deleteBlockPool",
                    &DeleteBlockPoolRequestProto {
                        block_pool: block_pool.clone(),
                        force,
                    },
                )
                .await
                .map_err(remote)?;
            Ok(0)
        }
        .await,
    )
}

/// `-getBalancerBandwidth <datanode_host:ipc_port>`: "Balancer bandwidth is N bytes per
/// second."; any failure is reported as Hadoop's "Datanode unreachable. …".
pub async fn get_balancer_bandwidth(args: &[String]) -> Option<Result<i32, Failure>> {
    let [addr] = args else {
        eprintln!("{GET_BALANCER_BANDWIDTH_USAGE}");
        return None;
    };
    Some(
        async {
            let dn = datanode_proxy(addr)?;
            let r: GetBalancerBandwidthResponseProto = dn
                .call("getBalancerBandwidth", &GetBalancerBandwidthRequestProto {})
                .await
                .map_err(|e| Failure(format!("Datanode unreachable. {}", remote(e).0)))?;
            println!("Balancer bandwidth is {} bytes per second.", r.bandwidth);
            Ok(0)
        }
        .await,
    )
}

/// `-getDatanodeInfo <datanode_host:ipc_port>`: "Uptime: …, Software version: …, Config
/// version: …"; any failure is reported as Hadoop's "Datanode unreachable. …".
pub async fn get_datanode_info(args: &[String]) -> Option<Result<i32, Failure>> {
    let [addr] = args else {
        eprintln!("{GET_DATANODE_INFO_USAGE}");
        return None;
    };
    Some(
        async {
            let dn = datanode_proxy(addr)?;
            let r: GetDatanodeInfoResponseProto = dn
                .call("getDatanodeInfo", &GetDatanodeInfoRequestProto {})
                .await
                .map_err(|e| Failure(format!("Datanode unreachable. {}", remote(e).0)))?;
            let i = r.local_info;
            println!(
                "Uptime: {}, Software version: {}, Config version: {}",
                i.uptime, i.software_version, i.config_version
            );
            Ok(0)
        }
        .await,
    )
}
