//! The DataNode's HTTP server (`dfs.datanode.http.address`, default 0.0.0.0:9864) on
//! the shared [`hafs_http`] foundation: `/jmx` with Hadoop's DataNode beans
//! (`DataNodeInfo`, `FSDatasetState`), `/prom`, and a plain-text status at `/` and
//! `/status`. WebHDFS's DataNode side ([`crate::webhdfs`]) under `/webhdfs/v1`.

use std::sync::Arc;

use async_trait::async_trait;
use hafs_http::response::{self, Response};
use hafs_http::{Bean, Endpoints, Method, PromText, Request};
use serde_json::{json, Value};

use crate::storage::DataNodeStorage;
use crate::webhdfs::WebHdfsConfig;

/// What the beans show besides the storage.
#[derive(Debug, Clone)]
pub struct DataNodeIdentity {
    pub hostname: String,
    pub xfer_port: u16,
    pub ipc_port: u16,
    pub http_port: u16,
    /// NameNode RPC addresses; `refreshNamenodes` replaces them.
    pub namenodes: Arc<std::sync::RwLock<Vec<String>>>,
}

pub struct DataNodeEndpoints {
    pub storage: DataNodeStorage,
    pub identity: std::sync::OnceLock<DataNodeIdentity>,
    /// The IPC server's figures, once it is bound.
    pub rpc: std::sync::OnceLock<Arc<hafs_ipc::RpcMetrics>>,
    /// WebHDFS's DataNode side (`dfs.webhdfs.enabled`).
    pub webhdfs: Option<WebHdfsConfig>,
}

impl DataNodeEndpoints {
    pub fn new(storage: DataNodeStorage, webhdfs: Option<WebHdfsConfig>) -> Arc<DataNodeEndpoints> {
        Arc::new(DataNodeEndpoints {
            storage,
            identity: std::sync::OnceLock::new(),
            rpc: std::sync::OnceLock::new(),
            webhdfs,
        })
    }

    fn status_page(&self) -> Response {
        let reports = self.storage.storage_reports();
        let mut body = format!(
            "hafs DataNode\nuuid: {}\ncluster id: {}\nblock pools: {}\n",
            self.storage.datanode_uuid(),
            self.storage.cluster_id().unwrap_or_default(),
            self.storage.block_pools().join(",")
        );
        for r in reports {
            body.push_str(&format!(
                "volume {} {}: capacity {} used {} remaining {}{}\n",
                r.storage_id,
                r.dir.display(),
                r.capacity,
                r.used,
                r.remaining,
                if r.failed { " FAILED" } else { "" }
            ));
        }
        response::text(200, body)
    }
}

#[async_trait]
impl Endpoints for DataNodeEndpoints {
    async fn serve(&self, req: Request) -> Response {
        let get = matches!(req.method, Method::GET | Method::HEAD);
        if let Some(webhdfs) = &self.webhdfs {
            if req.path.starts_with(hafs_http::webhdfs::PREFIX) {
                return crate::webhdfs::serve(webhdfs, req).await;
            }
        }
        match req.path.as_str() {
            "/" | "/status" if get => self.status_page(),
            "/" | "/status" => response::method_not_allowed(),
            other => response::not_found(other),
        }
    }

    fn beans(&self) -> Vec<Bean> {
        let reports = self.storage.storage_reports();
        let failures = self.storage.volume_failures();
        let live: Vec<_> = reports.iter().filter(|r| !r.failed).collect();
        let capacity: u64 = live.iter().map(|r| r.capacity).sum();
        let used: u64 = live.iter().map(|r| r.used).sum();
        let remaining: u64 = live.iter().map(|r| r.remaining).sum();
        let last_failure = failures
            .iter()
            .filter_map(|f| f.failed_at.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as u64)
            .max()
            .unwrap_or(0);
        let id = self.identity.get().cloned().unwrap_or(DataNodeIdentity {
            hostname: String::new(),
            xfer_port: 0,
            ipc_port: 0,
            http_port: 0,
            namenodes: Arc::default(),
        });
        let pools = self.storage.block_pools();
        let namenodes: serde_json::Map<String, Value> = id
            .namenodes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|nn| {
                (
                    nn.clone(),
                    Value::String(pools.first().cloned().unwrap_or_default()),
                )
            })
            .collect();
        let volumes: serde_json::Map<String, Value> = reports
            .iter()
            .map(|r| {
                (
                    r.dir.display().to_string(),
                    json!({
                        "usedSpace": r.used,
                        "freeSpace": r.remaining,
                        "reservedSpace": 0,
                        "reservedSpaceForReplicas": 0,
                        "numBlocks": 0,
                        "storageType": "DISK",
                        "failed": r.failed,
                    }),
                )
            })
            .collect();
        let info = Bean::new(
            "Hadoop:service=DataNode,name=DataNodeInfo",
            "org.apache.hadoop.hdfs.server.datanode.DataNode",
        )
        .attr("Version", concat!("hafs ", env!("CARGO_PKG_VERSION")))
        .attr("SoftwareVersion", env!("CARGO_PKG_VERSION"))
        .attr("ClusterId", self.storage.cluster_id().unwrap_or_default())
        .attr("DatanodeHostname", id.hostname.clone())
        .attr("DataPort", id.xfer_port.to_string())
        .attr("RpcPort", id.ipc_port.to_string())
        .attr("HttpPort", id.http_port.to_string())
        .attr("NamenodeAddresses", Value::Object(namenodes).to_string())
        .attr("VolumeInfo", Value::Object(volumes).to_string())
        .attr("DatanodeUuid", self.storage.datanode_uuid())
        .attr("XceiverCount", 0)
        .attr("DatanodeNetworkCounts", "{}")
        .attr("SecurityEnabled", false);
        let dataset = Bean::new(
            "Hadoop:service=DataNode,name=FSDatasetState",
            "org.apache.hadoop.hdfs.server.datanode.fsdataset.impl.FsDatasetImpl",
        )
        .record("FSDatasetState")
        .tag("Context", "FSDatasetState")
        .tag("StorageInfo", self.storage.datanode_uuid())
        .tag("Hostname", id.hostname.clone())
        .gauge("Capacity", capacity)
        .gauge("DfsUsed", used)
        .gauge("Remaining", remaining)
        .gauge("NumFailedVolumes", failures.len() as u64)
        .gauge("LastVolumeFailureDate", last_failure)
        .gauge("EstimatedCapacityLostTotal", 0)
        .gauge("CacheUsed", 0)
        .gauge("CacheCapacity", 0)
        .gauge("NumBlocksCached", 0)
        .gauge("NumBlocksFailedToCache", 0)
        .gauge("NumBlocksFailedToUnCache", 0);
        let mut beans = vec![info, dataset];
        if let Some(rpc) = self.rpc.get() {
            beans.extend(hafs_http::rpc_beans(
                "DataNode",
                id.ipc_port,
                &id.hostname,
                &rpc.snapshot(),
            ));
        }
        beans
    }

    fn prometheus(&self, out: &mut PromText) {
        if let (Some(rpc), Some(id)) = (self.rpc.get(), self.identity.get()) {
            hafs_http::rpc_prometheus(out, id.ipc_port, &rpc.snapshot());
        }
    }
}
