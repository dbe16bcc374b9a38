//! The process's Kerberos login, made once at startup from the configuration (Hadoop's
//! `SecurityUtil.login` for daemons, the ticket cache for user commands). With
//! `hadoop.security.authentication=simple` these do nothing.

use anyhow::Context;
use hafs_conf::Configuration;
use hafs_ipc::auth::{
    kerberos::canonical_host, set_process_login, SecuritySettings, ServerAuth, ServiceRole,
};

/// The settings, with the configuration's errors named for the operator.
pub fn settings(conf: &Configuration) -> anyhow::Result<SecuritySettings> {
    SecuritySettings::from_conf(conf).context("invalid security configuration")
}

/// A user command: connections authenticate with a delegation token from
/// `HADOOP_TOKEN_FILE_LOCATION` for the default file system, else with the ticket cache
/// `kinit` filled.
pub fn login_user(conf: &Configuration) -> anyhow::Result<()> {
    let settings = settings(conf)?;
    let login = match token_service(conf) {
        Some(service) => settings.user_login_with_tokens(&service)?,
        None => settings.user_login(),
    };
    set_process_login(login);
    Ok(())
}

/// The token service of `fs.defaultFS`'s NameNode, as Hadoop's client names it:
/// `ha-hdfs:<nameservice>` for an HA nameservice, else `ip:port`.
pub fn token_service(conf: &Configuration) -> Option<String> {
    use std::net::ToSocketAddrs;
    let fs = conf.default_fs().ok()?;
    if fs.scheme != "hdfs" {
        return None;
    }
    if conf.is_logical_nameservice(&fs.authority) {
        return Some(hafs_ipc::auth::token::ha_token_service(&fs.authority));
    }
    let (host, port) = fs.host_port(hafs_conf::keys::DFS_NAMENODE_RPC_PORT_DEFAULT)?;
    let addr = (host.as_str(), port).to_socket_addrs().ok()?.next()?;
    Some(hafs_ipc::auth::token::address_token_service(addr))
}

/// A daemon of `role` on `host`: outgoing connections authenticate with its keytab.
pub fn login_daemon(conf: &Configuration, role: ServiceRole, host: &str) -> anyhow::Result<()> {
    let settings = settings(conf)?;
    set_process_login(settings.daemon_login(role, &canonical_host(host))?);
    Ok(())
}

/// How a server of `role` on `host` that builds its own RPC server (JournalNode,
/// controller) authenticates callers.
pub fn server_auth(
    conf: &Configuration,
    role: ServiceRole,
    host: &str,
) -> anyhow::Result<ServerAuth> {
    Ok(settings(conf)?.server_auth(role, &canonical_host(host))?)
}

/// The host part of `host:port`.
pub fn host_of(addr: &str) -> &str {
    addr.rsplit_once(':').map_or(addr, |(h, _)| h)
}
