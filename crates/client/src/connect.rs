//! Building a [`DfsClient`] from the configuration: NameNode addresses, user, and the
//! failover proxy.

use std::time::Duration;

use hafs_conf::{keys, Configuration, TimeUnit};
use hafs_ipc::{ClientConfig, FailoverConfig, FailoverProxy};

use crate::client::CLIENT_PROTOCOL;
use crate::identity;
use crate::settings::ClientSettings;
use crate::{ClientError, DfsClient};

impl DfsClient<FailoverProxy> {
    /// A client of the file system `fs_uri` (`hdfs://nameservice` or
    /// `hdfs://host:port`), else of `fs.defaultFS`. No connection is made until the
    /// first call.
    pub fn new(conf: &Configuration, fs_uri: Option<&str>) -> Result<Self, ClientError> {
        DfsClient::new_for_user(
            conf,
            fs_uri,
            &identity::current_user(),
            identity::proxy_user().as_deref(),
        )
    }

    /// A client acting as `login` (SIMPLE authentication), or for `proxy` with `login`
    /// as the real user (the NameNode checks `hadoop.proxyuser.*`): what a server
    /// serving many users (the DataNode's WebHDFS) uses, instead of the process's
    /// identity.
    pub fn new_for_user(
        conf: &Configuration,
        fs_uri: Option<&str>,
        login: &str,
        proxy: Option<&str>,
    ) -> Result<Self, ClientError> {
        let (settings, user, proxy) = failover_proxy(conf, fs_uri, login, proxy, CLIENT_PROTOCOL)?;
        Ok(DfsClient::with_transport(
            proxy,
            settings,
            user,
            identity::new_client_name(),
        ))
    }
}

/// A failover proxy speaking `protocol` to the NameNodes of `fs_uri` (else
/// `fs.defaultFS`) as the process's user, with the client's timeouts and retries: what
/// tools that call a NameNode protocol other than ClientProtocol (the balancer's
/// NamenodeProtocol) use.
pub fn protocol_proxy(
    conf: &Configuration,
    fs_uri: Option<&str>,
    protocol: &'static str,
) -> Result<FailoverProxy, ClientError> {
    let user = identity::current_user();
    let proxy_user = identity::proxy_user();
    failover_proxy(conf, fs_uri, &user, proxy_user.as_deref(), protocol).map(|(_, _, p)| p)
}

fn failover_proxy(
    conf: &Configuration,
    fs_uri: Option<&str>,
    login: &str,
    proxy: Option<&str>,
    protocol: &'static str,
) -> Result<(ClientSettings, String, FailoverProxy), ClientError> {
    {
        let settings = ClientSettings::from_conf(conf, fs_uri)?;
        let login = login.to_string();
        let user = proxy.map_or_else(|| login.clone(), str::to_string);
        let mut ipc = ClientConfig::new(user.clone());
        if proxy.is_some() {
            ipc.real_user = Some(login);
        }
        let ms = |key: &str, default: u64| -> Result<Duration, ClientError> {
            conf.get_time_duration(key, Duration::from_millis(default), TimeUnit::Millis)
                .map_err(|e| ClientError::Config(e.to_string()))
        };
        // Hadoop's keys: how long to wait for a connection and for an answer. A NameNode
        // that is paused (not dead) accepts connections but never answers; only the
        // call timeout moves the client on to the next NameNode.
        ipc.connect_timeout = ms(
            keys::IPC_CLIENT_CONNECT_TIMEOUT,
            keys::IPC_CLIENT_CONNECT_TIMEOUT_DEFAULT_MS,
        )?;
        ipc.call_timeout = ms(
            keys::IPC_CLIENT_RPC_TIMEOUT_MS,
            keys::IPC_CLIENT_RPC_TIMEOUT_MS_DEFAULT,
        )?;
        let count = |key: &str, default: u32| -> Result<u32, ClientError> {
            conf.get_u32(key, default)
                .map_err(|e| ClientError::Config(e.to_string()))
        };
        let defaults = FailoverConfig::default();
        let failover = FailoverConfig {
            max_attempts: count(
                keys::DFS_CLIENT_FAILOVER_MAX_ATTEMPTS,
                defaults.max_attempts,
            )?,
            sleep_base: ms(
                keys::DFS_CLIENT_FAILOVER_SLEEP_BASE_MILLIS,
                keys::DFS_CLIENT_FAILOVER_SLEEP_BASE_MILLIS_DEFAULT,
            )?,
            sleep_max: ms(
                keys::DFS_CLIENT_FAILOVER_SLEEP_MAX_MILLIS,
                keys::DFS_CLIENT_FAILOVER_SLEEP_MAX_MILLIS_DEFAULT,
            )?,
            connection_retries: count(
                keys::DFS_CLIENT_FAILOVER_CONNECTION_RETRIES,
                defaults.connection_retries,
            )?,
        };
        let proxy = FailoverProxy::new(settings.namenodes.clone(), protocol, ipc, failover);
        Ok((settings, user, proxy))
    }
}
