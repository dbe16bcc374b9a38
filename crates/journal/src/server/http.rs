//! The JournalNode's HTTP server (`dfs.journalnode.http-address`, default
//! 0.0.0.0:8480) on the shared [`hafs_http`] foundation: `/jmx` with Hadoop's
//! `Journal-<jid>` and `JournalNodeInfo` beans plus hafs's election lease, `/prom`,
//! and a plain-text status at `/` and `/status`.

use std::sync::Arc;

use async_trait::async_trait;
use hafs_http::response::{self, Response};
use hafs_http::{Bean, Endpoints, Method, Request};
use serde_json::{json, Value};

use super::service::JournalNode;

pub struct JournalNodeEndpoints {
    pub node: Arc<JournalNode>,
    /// The RPC address, for `JournalNodeInfo.HostAndPort`.
    pub rpc_addr: String,
    /// The IPC server's figures.
    pub rpc: Arc<hafs_ipc::RpcMetrics>,
}

#[async_trait]
impl Endpoints for JournalNodeEndpoints {
    async fn serve(&self, req: Request) -> Response {
        let get = matches!(req.method, Method::GET | Method::HEAD);
        match req.path.as_str() {
            "/" | "/status" if get => {
                let mut body = format!("hafs JournalNode\nrpc: {}\n", self.rpc_addr);
                for (jid, s, _) in self.node.opened_journal_status() {
                    body.push_str(&format!(
                        "journal {jid}: promised epoch {} writer epoch {} committed txid {} written txid {}\n",
                        s.last_promised_epoch,
                        s.last_writer_epoch,
                        s.committed_txid,
                        s.highest_written_txid
                    ));
                }
                response::text(200, body)
            }
            "/" | "/status" => response::method_not_allowed(),
            other => response::not_found(other),
        }
    }

    fn beans(&self) -> Vec<Bean> {
        let mut beans = Vec::new();
        let journals = self.node.opened_journal_status();
        let mut status = serde_json::Map::new();
        for (jid, s, _) in &journals {
            status.insert(jid.clone(), json!({"Formatted": s.formatted.to_string()}));
            let lag = s.committed_txid.saturating_sub(s.highest_written_txid);
            beans.push(
                Bean::new(
                    format!("Hadoop:service=JournalNode,name=Journal-{jid}"),
                    format!("Journal-{jid}"),
                )
                .record(&format!("Journal-{jid}"))
                .tag("Context", "dfs")
                .tag("Hostname", host_of(&self.rpc_addr))
                .gauge("LastWriterEpoch", s.last_writer_epoch)
                .gauge("LastPromisedEpoch", s.last_promised_epoch)
                .gauge("LastWrittenTxId", s.highest_written_txid)
                .gauge("LastCommittedTxId", s.committed_txid)
                .gauge("CurrentLagTxns", lag),
            );
        }
        for (jid, v) in self.node.opened_lease_views() {
            beans.push(
                Bean::new(
                    format!("hafs:service=JournalNode,name=ElectionLease-{jid}"),
                    "ElectionLease",
                )
                .attr("Journal", jid)
                .attr("Term", v.term)
                .attr("Holder", v.holder.map_or(Value::Null, Value::String))
                .attr("Live", v.live)
                .attr("RemainingMillis", v.remaining_ms)
                .attr("DurationMillis", v.duration_ms),
            );
        }
        let cluster_ids: Vec<String> = journals.iter().filter_map(|(_, _, c)| c.clone()).collect();
        beans.push(
            Bean::new(
                "Hadoop:service=JournalNode,name=JournalNodeInfo",
                "org.apache.hadoop.hdfs.qjournal.server.JournalNode",
            )
            .attr("JournalsStatus", Value::Object(status).to_string())
            .attr(
                "ClusterIds",
                Value::Array(cluster_ids.into_iter().map(Value::String).collect()),
            )
            .attr("Version", concat!("hafs ", env!("CARGO_PKG_VERSION")))
            .attr("HostAndPort", self.rpc_addr.clone())
            .attr("RpcPort", port_of(&self.rpc_addr)),
        );
        if let Ok(port) = port_of(&self.rpc_addr).parse::<u16>() {
            beans.extend(hafs_http::rpc_beans(
                "JournalNode",
                port,
                &host_of(&self.rpc_addr),
                &self.rpc.snapshot(),
            ));
        }
        beans
    }

    fn prometheus(&self, out: &mut hafs_http::PromText) {
        if let Ok(port) = port_of(&self.rpc_addr).parse::<u16>() {
            hafs_http::rpc_prometheus(out, port, &self.rpc.snapshot());
        }
    }
}

fn host_of(addr: &str) -> String {
    addr.rsplit_once(':').map_or(addr, |(h, _)| h).to_string()
}

fn port_of(addr: &str) -> String {
    addr.rsplit_once(':').map_or("", |(_, p)| p).to_string()
}

/// Starts the JournalNode's HTTP server on `dfs.journalnode.http-address` (SPNEGO in
/// secure mode, `/prom` when `hadoop.prometheus.endpoint.enabled`).
pub async fn start(
    conf: &hafs_conf::Configuration,
    node: Arc<JournalNode>,
    rpc_addr: std::net::SocketAddr,
    rpc: Arc<hafs_ipc::RpcMetrics>,
) -> Result<hafs_http::HttpServer, String> {
    use hafs_conf::keys::{
        DFS_JOURNALNODE_HTTP_ADDRESS, DFS_JOURNALNODE_HTTP_ADDRESS_DEFAULT,
        DFS_JOURNALNODE_KEYTAB_FILE, HADOOP_PROMETHEUS_ENDPOINT_ENABLED,
        HADOOP_PROMETHEUS_ENDPOINT_ENABLED_DEFAULT,
    };
    let bind_text = conf
        .get_trimmed(DFS_JOURNALNODE_HTTP_ADDRESS)
        .unwrap_or_else(|| DFS_JOURNALNODE_HTTP_ADDRESS_DEFAULT.to_string());
    let bind = tokio::net::lookup_host(&bind_text)
        .await
        .map_err(|e| format!("{DFS_JOURNALNODE_HTTP_ADDRESS} {bind_text}: {e}"))?
        .next()
        .ok_or_else(|| format!("{DFS_JOURNALNODE_HTTP_ADDRESS} {bind_text}: no address"))?;
    let host = if bind.ip().is_unspecified() {
        rpc_addr.ip().to_string()
    } else {
        bind.ip().to_string()
    };
    let host = hafs_ipc::auth::kerberos::canonical_host(&host);
    let mut config = hafs_http::HttpConfig::new(bind, "JournalNode");
    config.spnego = hafs_http::spnego::acceptor_from_conf(conf, &host, DFS_JOURNALNODE_KEYTAB_FILE)
        .map_err(|e| e.to_string())?;
    config.prometheus = conf
        .get_bool(
            HADOOP_PROMETHEUS_ENDPOINT_ENABLED,
            HADOOP_PROMETHEUS_ENDPOINT_ENABLED_DEFAULT,
        )
        .map_err(|e| e.to_string())?;
    let endpoints = Arc::new(JournalNodeEndpoints {
        node,
        rpc_addr: rpc_addr.to_string(),
        rpc,
    });
    hafs_http::HttpServer::start(config, endpoints)
        .await
        .map_err(|e| format!("cannot serve HTTP on {bind} ({DFS_JOURNALNODE_HTTP_ADDRESS}): {e}"))
}
