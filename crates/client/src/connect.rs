//! Building a [`DfsClient`] from the configuration: NameNode addresses, user, and the
//! failover proxy.

use hafs_conf::Configuration;
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
        let settings = ClientSettings::from_conf(conf, fs_uri)?;
        let user = identity::current_user();
        let ipc = ClientConfig::new(user.clone());
        let mut failover = FailoverConfig::default();
        if let Some(v) = conf.get_trimmed("dfs.client.failover.max.attempts") {
            failover.max_attempts = v.parse().map_err(|_| {
                ClientError::Config(format!(
                    "dfs.client.failover.max.attempts: bad value '{v}', expected a count"
                ))
            })?;
        }
        let proxy = FailoverProxy::new(settings.namenodes.clone(), CLIENT_PROTOCOL, ipc, failover);
        Ok(DfsClient::with_transport(
            proxy,
            settings,
            user,
            identity::new_client_name(),
        ))
    }
}
