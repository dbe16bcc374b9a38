//! The dfsadmin commands answered by one DataNode (ClientDatanodeProtocol on its
//! `dfs.datanode.ipc.address`): `-getBalancerBandwidth` and `-getDatanodeInfo`, which
//! operators use beside the balancer.

use hafs_ipc::{ClientConfig, RpcClient};
use hafs_proto::hdfs as pb;

use super::Failure;

const CLIENT_DATANODE_PROTOCOL: &str = "org.apache.hadoop.hdfs.protocol.ClientDatanodeProtocol";

/// Which DataNode question to ask.
#[derive(Clone, Copy)]
pub(super) enum Question {
    BalancerBandwidth,
    DatanodeInfo,
}

impl Question {
    pub(super) fn parse(cmd: &str) -> Option<Question> {
        match cmd {
            "-getBalancerBandwidth" => Some(Question::BalancerBandwidth),
            "-getDatanodeInfo" => Some(Question::DatanodeInfo),
            _ => None,
        }
    }

    fn usage(self) -> &'static str {
        match self {
            Question::BalancerBandwidth => {
                "Usage: hafs dfsadmin [-getBalancerBandwidth <datanode_host:ipc_port>]"
            }
            Question::DatanodeInfo => {
                "Usage: hafs dfsadmin [-getDatanodeInfo <datanode_host:ipc_port>]"
            }
        }
    }
}

/// Asks the DataNode at `args[0]` and prints Hadoop's line; `None` (after the usage)
/// when the arguments are wrong.
pub(super) async fn run(q: Question, args: &[String]) -> Option<Result<i32, Failure>> {
    let [addr] = args else {
        eprintln!("{}", q.usage());
        return None;
    };
    let rpc = RpcClient::new(
        addr.clone(),
        CLIENT_DATANODE_PROTOCOL,
        ClientConfig::new(hafs_client::identity::current_user()),
    );
    // Hadoop's words for any failure of the call, whatever the cause.
    let unreachable = |e: hafs_ipc::IpcError| Failure(format!("Datanode unreachable. {e}"));
    Some(match q {
        Question::BalancerBandwidth => rpc
            .call::<_, pb::GetBalancerBandwidthResponseProto>(
                "getBalancerBandwidth",
                &pb::GetBalancerBandwidthRequestProto {},
            )
            .await
            .map(|r| {
                println!("Balancer bandwidth is {} bytes per second.", r.bandwidth);
                0
            })
            .map_err(unreachable),
        Question::DatanodeInfo => rpc
            .call::<_, pb::GetDatanodeInfoResponseProto>(
                "getDatanodeInfo",
                &pb::GetDatanodeInfoRequestProto {},
            )
            .await
            .map(|r| {
                let i = r.local_info;
                println!(
                    "Uptime: {}, Software version: {}, Config version: {}",
                    i.uptime, i.software_version, i.config_version
                );
                0
            })
            .map_err(unreachable),
    })
}
