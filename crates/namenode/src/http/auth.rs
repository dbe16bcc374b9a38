//! Who may use the NameNode's HTTP server in secure mode, and how this NameNode
//! authenticates to the others' (Hadoop's `NameNodeHttpServer` SPNEGO setup and
//! `ImageServlet.isValidRequestor`).
//!
//! With `hadoop.security.authentication=kerberos` every request must carry
//! `Authorization: Negotiate` for the HTTP principal (`user.name` is never read), and
//! `/imagetransfer` serves only the nameservice's NameNode principals: the fsimage holds
//! the whole namespace and the delegation-token master keys.

use std::path::Path;
use std::sync::Arc;

use hafs_conf::keys::{
    DFS_CLUSTER_ADMINISTRATORS, DFS_NAMENODE_KERBEROS_INTERNAL_SPNEGO_PRINCIPAL,
    DFS_WEB_AUTHENTICATION_KERBEROS_KEYTAB, DFS_WEB_AUTHENTICATION_KERBEROS_PRINCIPAL,
    HADOOP_SECURITY_GROUPS_CACHE_SECS, HADOOP_SECURITY_GROUPS_CACHE_SECS_DEFAULT,
    HADOOP_USER_GROUP_STATIC_MAPPING_OVERRIDES, HADOOP_USER_GROUP_STATIC_MAPPING_OVERRIDES_DEFAULT,
};
use hafs_conf::{ConfError, Configuration};
use hafs_ipc::auth::kerberos::canonical_host;
use hafs_ipc::auth::{SecuritySettings, ServiceRole};
use hafs_security::acl::AccessControlList;
use hafs_security::groups::{parse_static_overrides, GroupMapping};
use hafs_security::gssapi::InitiatorSource;
use hafs_security::kerberos_name::substitute_host;
use hafs_security::kerberos_name::AuthToLocal;
use hafs_security::spnego::{SpnegoAcceptor, SpnegoInitiator};

/// Hadoop's refusal of a non-NameNode caller of `/imagetransfer`.
pub const IMAGE_TRANSFER_FORBIDDEN: &str =
    "Only Namenode, Secondary Namenode, and administrators may access this servlet";

/// The secure-mode HTTP settings of a NameNode.
#[derive(Debug)]
pub struct HttpSecurity {
    /// Accepts `Negotiate` for this server's HTTP principal.
    pub acceptor: Arc<SpnegoAcceptor>,
    /// The principals `/imagetransfer` serves: every NameNode of the nameservice.
    pub image_transfer_principals: Vec<String>,
    /// `dfs.cluster.administrators`, whom `/imagetransfer` serves too, as Hadoop's
    /// admin ACL (users by short name, and groups).
    administrators: AccessControlList,
    groups: Arc<GroupMapping>,
    to_local: Arc<AuthToLocal>,
    /// This NameNode's own login (its keytab), for uploading to and downloading from
    /// the other NameNodes.
    pub client: SpnegoInitiator,
}

impl HttpSecurity {
    /// `None` unless Kerberos is on. `http_host` is the host clients reach this HTTP
    /// server at (`_HOST` of the HTTP principal); `own_rpc` this NameNode's RPC address
    /// (`_HOST` of its own principal); `namenodes` the RPC addresses of every NameNode
    /// of its nameservice (one, without HA).
    pub fn from_conf(
        conf: &Configuration,
        http_host: &str,
        own_rpc: &str,
        namenodes: &[String],
    ) -> Result<Option<Arc<HttpSecurity>>, ConfError> {
        let security = SecuritySettings::from_conf(conf).map_err(|e| ConfError::Security(e.0))?;
        if !security.is_kerberos() {
            return Ok(None);
        }
        let host_of = |addr: &str| canonical_host(addr.rsplit_once(':').map_or(addr, |(h, _)| h));
        let (nn_principal, nn_keytab) = security
            .service_login(ServiceRole::NameNode, &host_of(own_rpc))
            .map_err(|e| ConfError::Security(e.0))?;
        let pattern = conf
            .get_trimmed(DFS_NAMENODE_KERBEROS_INTERNAL_SPNEGO_PRINCIPAL)
            .or_else(|| conf.get_trimmed(DFS_WEB_AUTHENTICATION_KERBEROS_PRINCIPAL))
            .ok_or_else(|| {
                ConfError::Security(format!(
                    "{DFS_WEB_AUTHENTICATION_KERBEROS_PRINCIPAL} is not set; a secure NameNode's \
                     HTTP server needs its SPNEGO principal (e.g. HTTP/_HOST@REALM)"
                ))
            })?;
        let http_principal = substitute_host(&pattern, &canonical_host(http_host));
        let keytab = conf
            .get_trimmed(DFS_WEB_AUTHENTICATION_KERBEROS_KEYTAB)
            .unwrap_or_else(|| nn_keytab.clone());
        let acceptor = SpnegoAcceptor::new(&http_principal, Path::new(&keytab)).map_err(|e| {
            ConfError::Security(format!(
                "cannot log in as {http_principal} from {keytab} (set \
                 {DFS_WEB_AUTHENTICATION_KERBEROS_PRINCIPAL} and \
                 {DFS_WEB_AUTHENTICATION_KERBEROS_KEYTAB}): {e}"
            ))
        })?;
        let client = SpnegoInitiator::new(&InitiatorSource::ClientKeytab {
            keytab: nn_keytab.clone(),
            principal: nn_principal.clone(),
        })
        .map_err(|e| {
            ConfError::Security(format!(
                "cannot log in as {nn_principal} from {nn_keytab}: {e}"
            ))
        })?;
        let mut image_transfer_principals = vec![nn_principal];
        for rpc in namenodes {
            let (p, _) = security
                .service_login(ServiceRole::NameNode, &host_of(rpc))
                .map_err(|e| ConfError::Security(e.0))?;
            if !image_transfer_principals.contains(&p) {
                image_transfer_principals.push(p);
            }
        }
        let administrators =
            AccessControlList::parse(&conf.get_or(DFS_CLUSTER_ADMINISTRATORS, " "));
        let groups = Arc::new(GroupMapping::new(
            conf.get_time_duration(
                HADOOP_SECURITY_GROUPS_CACHE_SECS,
                std::time::Duration::from_secs(HADOOP_SECURITY_GROUPS_CACHE_SECS_DEFAULT),
                hafs_conf::TimeUnit::Seconds,
            )?,
            parse_static_overrides(&conf.get_or(
                HADOOP_USER_GROUP_STATIC_MAPPING_OVERRIDES,
                HADOOP_USER_GROUP_STATIC_MAPPING_OVERRIDES_DEFAULT,
            )),
        ));
        Ok(Some(Arc::new(HttpSecurity {
            acceptor: Arc::new(acceptor),
            image_transfer_principals,
            client,
            administrators,
            groups,
            to_local: security.auth_to_local().clone(),
        })))
    }

    /// The local user an authenticated principal acts as (`hadoop.security.auth_to_local`);
    /// `None` when no rule maps it.
    pub fn short_name(&self, principal: &str) -> Option<String> {
        self.to_local.short_name_of(principal).ok()
    }

    /// May `principal` (authenticated) use `/imagetransfer`? The NameNodes, and the
    /// administrators by short name.
    pub fn may_transfer_images(&self, principal: &str) -> bool {
        if self
            .image_transfer_principals
            .iter()
            .any(|p| p == principal)
        {
            return true;
        }
        match self.to_local.short_name_of(principal) {
            Ok(user) => self
                .administrators
                .allows(&user, &|u: &str| self.groups.groups_of(u)),
            Err(_) => false,
        }
    }
}

/// The host to address a NameNode's HTTP server at `addr` (`host:port`) with SPNEGO:
/// the canonical name of its host, as the RPC client names servers.
pub fn spnego_host(addr: &str) -> String {
    canonical_host(addr.rsplit_once(':').map_or(addr, |(h, _)| h))
}
