//! The NameNode's HTTP side: the server on `dfs.namenode.http-address` (image transfer
//! and a status page) and the matching client used by Standby checkpoints and
//! `hafs namenode -bootstrapStandby`.

pub mod auth;
pub mod client;
pub mod head;
pub mod image_store;
pub mod server;
pub mod ui;
pub mod webhdfs;

pub use auth::HttpSecurity;
pub use client::{fetch_image, get_streamed, upload_image, FetchedImage, TransferError};
pub use image_store::{ImageMeta, ImageStore, TxidSpec};
pub use server::{HttpBackend, HttpConfig, HttpServer, NodeStatus};

use hafs_conf::keys::{DFS_NAMENODE_HTTP_ADDRESS, DFS_NAMENODE_HTTP_ADDRESS_DEFAULT};
use hafs_conf::{ConfError, Configuration};

/// This NameNode's HTTP address: `dfs.namenode.http-address.<ns>.<nn>` in an HA
/// nameservice, else `dfs.namenode.http-address.<ns>`, else
/// `dfs.namenode.http-address` (default `0.0.0.0:9870`).
pub fn http_address(
    conf: &Configuration,
    nameservice: Option<&str>,
    namenode_id: Option<&str>,
) -> Result<String, ConfError> {
    let mut keys = Vec::new();
    if let Some(ns) = nameservice.filter(|s| !s.is_empty()) {
        if let Some(nn) = namenode_id.filter(|s| !s.is_empty()) {
            keys.push(format!("{DFS_NAMENODE_HTTP_ADDRESS}.{ns}.{nn}"));
        }
        keys.push(format!("{DFS_NAMENODE_HTTP_ADDRESS}.{ns}"));
    }
    keys.push(DFS_NAMENODE_HTTP_ADDRESS.to_string());
    for k in &keys {
        if let Some(v) = conf.try_get(k)? {
            let v = v.trim();
            if !v.is_empty() {
                return check_host_port(k, v);
            }
        }
    }
    Ok(DFS_NAMENODE_HTTP_ADDRESS_DEFAULT.to_string())
}

fn check_host_port(key: &str, v: &str) -> Result<String, ConfError> {
    let ok = v
        .rsplit_once(':')
        .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
    if ok {
        Ok(v.to_string())
    } else {
        Err(ConfError::BadValue {
            key: key.to_string(),
            value: v.to_string(),
            expected: "host:port".to_string(),
        })
    }
}

/// The address to reach a NameNode's HTTP server at: a wildcard host (0.0.0.0) is
/// replaced by the host of its RPC address.
pub fn reachable(http: &str, rpc: &str) -> String {
    match http.rsplit_once(':') {
        Some(("0.0.0.0" | "[::]" | "::", port)) => {
            let host = rpc.rsplit_once(':').map_or(rpc, |(h, _)| h);
            format!("{host}:{port}")
        }
        _ => http.to_string(),
    }
}

/// This NameNode's place in an HA nameservice, for [`HttpSettings::from_conf`]:
/// (nameservice, own NameNode id, every NameNode's (id, RPC address)).
pub type HaPlace<'a> = (&'a str, &'a str, &'a [(String, String)]);

/// Where this NameNode serves HTTP and where the other NameNodes of its nameservice
/// do (a Standby uploads its checkpoints to them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// host:port to bind to.
    pub bind: String,
    /// The other NameNodes: (id, reachable host:port of their HTTP server).
    pub peers: Vec<(String, String)>,
    /// WebHDFS (`dfs.webhdfs.*`).
    pub webhdfs: WebHdfsSettings,
}

/// `dfs.webhdfs.enabled` and `dfs.webhdfs.user.provider.user.pattern`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebHdfsSettings {
    pub enabled: bool,
    /// Checked when read, so a bad pattern stops the NameNode at startup.
    pub user_pattern: String,
}

impl WebHdfsSettings {
    pub fn from_conf(conf: &Configuration) -> Result<WebHdfsSettings, ConfError> {
        use hafs_conf::keys::{
            DFS_WEBHDFS_ENABLED, DFS_WEBHDFS_ENABLED_DEFAULT, DFS_WEBHDFS_USER_PATTERN,
            DFS_WEBHDFS_USER_PATTERN_DEFAULT,
        };
        let user_pattern = conf.get_or(DFS_WEBHDFS_USER_PATTERN, DFS_WEBHDFS_USER_PATTERN_DEFAULT);
        if let Err(e) = regex_lite::Regex::new(&user_pattern) {
            return Err(ConfError::BadValue {
                key: DFS_WEBHDFS_USER_PATTERN.to_string(),
                value: user_pattern,
                expected: format!("a regular expression ({e})"),
            });
        }
        Ok(WebHdfsSettings {
            enabled: conf.get_bool(DFS_WEBHDFS_ENABLED, DFS_WEBHDFS_ENABLED_DEFAULT)?,
            user_pattern,
        })
    }
}

impl HttpSettings {
    /// `ha`: (nameservice, own NameNode id, every NameNode's (id, RPC address)) when
    /// this NameNode is one of an HA nameservice's.
    pub fn from_conf(
        conf: &Configuration,
        ha: Option<HaPlace<'_>>,
    ) -> Result<HttpSettings, ConfError> {
        let Some((ns, own, namenodes)) = ha else {
            return Ok(HttpSettings {
                bind: http_address(conf, None, None)?,
                peers: Vec::new(),
                webhdfs: WebHdfsSettings::from_conf(conf)?,
            });
        };
        let mut peers = Vec::new();
        for (id, rpc) in namenodes {
            if id == own {
                continue;
            }
            let http = http_address(conf, Some(ns), Some(id))?;
            peers.push((id.clone(), reachable(&http, rpc)));
        }
        Ok(HttpSettings {
            bind: http_address(conf, Some(ns), Some(own))?,
            peers,
            webhdfs: WebHdfsSettings::from_conf(conf)?,
        })
    }
}
