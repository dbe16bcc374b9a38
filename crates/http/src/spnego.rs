//! The SPNEGO acceptor of a DataNode's or JournalNode's HTTP server in secure mode
//! (the NameNode builds its own, with the image-transfer rules): Hadoop's
//! `dfs.web.authentication.kerberos.principal` (`HTTP/_HOST@REALM`) and
//! `dfs.web.authentication.kerberos.keytab`, falling back to the daemon's own keytab.

use std::path::Path;
use std::sync::Arc;

use hafs_conf::keys::{
    DFS_WEB_AUTHENTICATION_KERBEROS_KEYTAB, DFS_WEB_AUTHENTICATION_KERBEROS_PRINCIPAL,
    HADOOP_SECURITY_AUTHENTICATION,
};
use hafs_conf::{ConfError, Configuration};
use hafs_security::kerberos_name::substitute_host;
use hafs_security::spnego::SpnegoAcceptor;

/// `None` unless `hadoop.security.authentication` is `kerberos`. `http_host` replaces
/// `_HOST`; `daemon_keytab_key` names the daemon's keytab key, used when
/// `dfs.web.authentication.kerberos.keytab` is unset.
pub fn acceptor_from_conf(
    conf: &Configuration,
    http_host: &str,
    daemon_keytab_key: &str,
) -> Result<Option<Arc<SpnegoAcceptor>>, ConfError> {
    let kerberos = conf
        .get_trimmed(HADOOP_SECURITY_AUTHENTICATION)
        .is_some_and(|v| v.eq_ignore_ascii_case("kerberos"));
    if !kerberos {
        return Ok(None);
    }
    let pattern = conf
        .get_trimmed(DFS_WEB_AUTHENTICATION_KERBEROS_PRINCIPAL)
        .ok_or_else(|| {
            ConfError::Security(format!(
                "{DFS_WEB_AUTHENTICATION_KERBEROS_PRINCIPAL} is not set; a secure HTTP server \
                 needs its SPNEGO principal (e.g. HTTP/_HOST@REALM)"
            ))
        })?;
    let keytab = conf
        .get_trimmed(DFS_WEB_AUTHENTICATION_KERBEROS_KEYTAB)
        .or_else(|| conf.get_trimmed(daemon_keytab_key))
        .ok_or_else(|| {
            ConfError::Security(format!(
                "neither {DFS_WEB_AUTHENTICATION_KERBEROS_KEYTAB} nor {daemon_keytab_key} is set"
            ))
        })?;
    let principal = substitute_host(&pattern, &http_host.to_ascii_lowercase());
    let acceptor = SpnegoAcceptor::new(&principal, Path::new(&keytab)).map_err(|e| {
        ConfError::Security(format!("cannot log in as {principal} from {keytab}: {e}"))
    })?;
    Ok(Some(Arc::new(acceptor)))
}
