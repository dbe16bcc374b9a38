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

/// A user command: connections authenticate with the ticket cache `kinit` filled.
pub fn login_user(conf: &Configuration) -> anyhow::Result<()> {
    set_process_login(settings(conf)?.user_login());
    Ok(())
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
