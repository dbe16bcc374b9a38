//! A process's security settings and its login, read from the configuration once at
//! startup (Hadoop's `UserGroupInformation.setConfiguration` and login user).
//!
//! Which server principal a client expects depends on the protocol it speaks, as
//! Hadoop's `@KerberosInfo(serverPrincipal = …)` annotations say: NameNode protocols
//! expect `dfs.namenode.kerberos.principal`, QJournalProtocol the JournalNode's,
//! ClientDatanodeProtocol and InterDatanodeProtocol the DataNode's. Like Hadoop's login
//! user, the client side is process-wide ([`set_process_login`]): every
//! [`ClientConfig`](crate::ClientConfig) made afterwards authenticates with it, so the
//! many places a daemon opens connections need not each carry credentials.

use std::path::Path;
use std::sync::{Arc, RwLock};

use hafs_conf::{keys, Configuration};
use hafs_security::gssapi::{Credential, InitiatorSource};
use hafs_security::kerberos_name::{substitute_host, AuthToLocal};
use hafs_security::sasl::Qop;

use super::client::ClientAuth;
use super::kerberos::{ClientLogin, KerberosClient, KerberosMethod, ServerPrincipals};
use super::server::ServerAuth;

/// A daemon that runs as a Kerberos service principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceRole {
    NameNode,
    DataNode,
    JournalNode,
}

impl ServiceRole {
    fn principal_key(self) -> &'static str {
        match self {
            ServiceRole::NameNode => keys::DFS_NAMENODE_KERBEROS_PRINCIPAL,
            ServiceRole::DataNode => keys::DFS_DATANODE_KERBEROS_PRINCIPAL,
            ServiceRole::JournalNode => keys::DFS_JOURNALNODE_KERBEROS_PRINCIPAL,
        }
    }

    fn keytab_key(self) -> &'static str {
        match self {
            ServiceRole::NameNode => keys::DFS_NAMENODE_KEYTAB_FILE,
            ServiceRole::DataNode => keys::DFS_DATANODE_KEYTAB_FILE,
            ServiceRole::JournalNode => keys::DFS_JOURNALNODE_KEYTAB_FILE,
        }
    }

    /// The role whose principal the servers of `protocol` run as.
    pub fn serving(protocol: &str) -> Option<ServiceRole> {
        match protocol {
            "org.apache.hadoop.hdfs.protocol.ClientProtocol"
            | "org.apache.hadoop.hdfs.server.protocol.DatanodeProtocol"
            | "org.apache.hadoop.hdfs.server.protocol.NamenodeProtocol"
            | "org.apache.hadoop.ha.HAServiceProtocol"
            | "org.apache.hadoop.ha.ZKFCProtocol"
            | "org.apache.hadoop.tools.GetUserMappingsProtocol"
            | "org.apache.hadoop.security.RefreshUserMappingsProtocol"
            | "org.apache.hadoop.security.authorize.RefreshAuthorizationPolicyProtocol" => {
                Some(ServiceRole::NameNode)
            }
            "org.apache.hadoop.hdfs.qjournal.protocol.QJournalProtocol"
            | "org.apache.hadoop.hdfs.qjournal.protocol.InterQJournalProtocol" => {
                Some(ServiceRole::JournalNode)
            }
            "org.apache.hadoop.hdfs.protocol.ClientDatanodeProtocol"
            | "org.apache.hadoop.hdfs.server.protocol.InterDatanodeProtocol" => {
                Some(ServiceRole::DataNode)
            }
            _ => None,
        }
    }
}

/// A security setting that cannot work; the daemon or command stops with it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SecurityConfigError(pub String);

/// The security part of a configuration.
#[derive(Clone)]
pub struct SecuritySettings {
    kerberos: bool,
    /// `hadoop.security.authorization`: pin daemon protocols to daemon principals.
    authorization: bool,
    qops: Vec<Qop>,
    to_local: Arc<AuthToLocal>,
    /// (principal pattern, keytab) per role, as configured.
    logins: [(Option<String>, Option<String>); 3],
}

impl std::fmt::Debug for SecuritySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecuritySettings")
            .field("kerberos", &self.kerberos)
            .field("qops", &self.qops)
            .field("logins", &self.logins)
            .finish()
    }
}

fn role_index(role: ServiceRole) -> usize {
    match role {
        ServiceRole::NameNode => 0,
        ServiceRole::DataNode => 1,
        ServiceRole::JournalNode => 2,
    }
}

impl SecuritySettings {
    /// Reads and checks `hadoop.security.authentication`, `hadoop.rpc.protection`,
    /// `hadoop.security.auth_to_local` and the daemons' principals and keytabs.
    pub fn from_conf(conf: &Configuration) -> Result<SecuritySettings, SecurityConfigError> {
        let auth = conf.get_or(
            keys::HADOOP_SECURITY_AUTHENTICATION,
            keys::HADOOP_SECURITY_AUTHENTICATION_DEFAULT,
        );
        let kerberos = match auth.trim().to_ascii_lowercase().as_str() {
            "simple" => false,
            "kerberos" => true,
            other => {
                return Err(SecurityConfigError(format!(
                    "{} is '{other}': expected simple or kerberos",
                    keys::HADOOP_SECURITY_AUTHENTICATION
                )))
            }
        };
        let protection = conf.get_or(
            keys::HADOOP_RPC_PROTECTION,
            keys::HADOOP_RPC_PROTECTION_DEFAULT,
        );
        let qops = Qop::parse_hadoop_list(&protection)
            .map_err(|e| SecurityConfigError(format!("{}: {e}", keys::HADOOP_RPC_PROTECTION)))?;
        let logins = [
            ServiceRole::NameNode,
            ServiceRole::DataNode,
            ServiceRole::JournalNode,
        ]
        .map(|r| {
            (
                conf.get_trimmed(r.principal_key()),
                conf.get_trimmed(r.keytab_key()),
            )
        });
        let rules = conf.get_or(
            keys::HADOOP_SECURITY_AUTH_TO_LOCAL,
            keys::HADOOP_SECURITY_AUTH_TO_LOCAL_DEFAULT,
        );
        let realm = default_realm(&logins);
        let to_local = AuthToLocal::parse(&rules, &realm).map_err(|e| {
            SecurityConfigError(format!("{}: {e}", keys::HADOOP_SECURITY_AUTH_TO_LOCAL))
        })?;
        let authorization = conf
            .get_bool(
                keys::HADOOP_SECURITY_AUTHORIZATION,
                keys::HADOOP_SECURITY_AUTHORIZATION_DEFAULT,
            )
            .map_err(|e| SecurityConfigError(e.to_string()))?;
        Ok(SecuritySettings {
            kerberos,
            authorization,
            qops,
            to_local: Arc::new(to_local),
            logins,
        })
    }

    pub fn is_kerberos(&self) -> bool {
        self.kerberos
    }

    pub fn qops(&self) -> &[Qop] {
        &self.qops
    }

    pub fn auth_to_local(&self) -> &Arc<AuthToLocal> {
        &self.to_local
    }

    /// `role`'s principal with `_HOST` replaced by `host`, and its keytab.
    pub fn service_login(
        &self,
        role: ServiceRole,
        host: &str,
    ) -> Result<(String, String), SecurityConfigError> {
        let (principal, keytab) = &self.logins[role_index(role)];
        let principal = principal.as_deref().ok_or_else(|| {
            SecurityConfigError(format!(
                "{} is not set; a secure {role:?} needs its Kerberos principal (e.g. {}/_HOST@REALM)",
                role.principal_key(),
                match role {
                    ServiceRole::NameNode => "nn",
                    ServiceRole::DataNode => "dn",
                    ServiceRole::JournalNode => "jn",
                }
            ))
        })?;
        let keytab = keytab.as_deref().ok_or_else(|| {
            SecurityConfigError(format!(
                "{} is not set; a secure {role:?} needs the keytab of {principal}",
                role.keytab_key()
            ))
        })?;
        Ok((
            substitute_host(principal, &host.to_ascii_lowercase()),
            keytab.to_string(),
        ))
    }

    /// How a server of `role` listening as `host` authenticates callers. SIMPLE unless
    /// Kerberos is on; then KERBEROS with the role's keytab (checked now).
    pub fn server_auth(
        &self,
        role: ServiceRole,
        host: &str,
    ) -> Result<ServerAuth, SecurityConfigError> {
        if !self.kerberos {
            return Ok(ServerAuth::default());
        }
        let (principal, keytab) = self.service_login(role, host)?;
        let method = KerberosMethod::new(
            &principal,
            Path::new(&keytab),
            &self.qops,
            self.to_local.clone(),
        )
        .map_err(|e| {
            SecurityConfigError(format!("cannot log in as {principal} from {keytab}: {e}"))
        })?;
        Ok(ServerAuth {
            methods: vec![Arc::new(method)],
            impersonation: None,
            client_principals: self.authorization.then(|| self.client_principals()),
        })
    }

    /// The principal callers of each daemon-only protocol must be (Hadoop's
    /// `@KerberosInfo(clientPrincipal = …)`): only DataNodes speak DatanodeProtocol and
    /// InterDatanodeProtocol, only NameNodes write to JournalNodes or fetch from another
    /// NameNode. Other protocols (ClientProtocol, HAServiceProtocol) are open to every
    /// authenticated user; their operations check the caller themselves.
    fn client_principals(&self) -> ServerPrincipals {
        let logins = self.logins.clone();
        Arc::new(move |protocol: &str| {
            let role = match protocol {
                "org.apache.hadoop.hdfs.server.protocol.DatanodeProtocol"
                | "org.apache.hadoop.hdfs.server.protocol.InterDatanodeProtocol" => {
                    ServiceRole::DataNode
                }
                "org.apache.hadoop.hdfs.qjournal.protocol.QJournalProtocol"
                | "org.apache.hadoop.hdfs.server.protocol.NamenodeProtocol" => {
                    ServiceRole::NameNode
                }
                "org.apache.hadoop.hdfs.qjournal.protocol.InterQJournalProtocol" => {
                    ServiceRole::JournalNode
                }
                _ => return None,
            };
            logins[role_index(role)].0.clone()
        })
    }

    fn server_principals(&self) -> ServerPrincipals {
        let logins = self.logins.clone();
        Arc::new(move |protocol: &str| {
            let role = ServiceRole::serving(protocol)?;
            logins[role_index(role)].0.clone()
        })
    }

    /// The client login of a daemon of `role` on `host`: its keytab.
    pub fn daemon_login(
        &self,
        role: ServiceRole,
        host: &str,
    ) -> Result<ClientAuth, SecurityConfigError> {
        if !self.kerberos {
            return Ok(ClientAuth::default());
        }
        let (principal, keytab) = self.service_login(role, host)?;
        let credential = Credential::initiator(&InitiatorSource::ClientKeytab {
            keytab: keytab.clone(),
            principal: principal.clone(),
        })
        .map_err(|e| {
            SecurityConfigError(format!("cannot log in as {principal} from {keytab}: {e}"))
        })?;
        Ok(ClientAuth {
            mechanisms: vec![Arc::new(KerberosClient::new(
                ClientLogin::Keytab(Arc::new(credential)),
                self.server_principals(),
                &self.qops,
            ))],
        })
    }

    /// The client login of a user: the ticket cache `kinit` filled.
    pub fn user_login(&self) -> ClientAuth {
        if !self.kerberos {
            return ClientAuth::default();
        }
        ClientAuth {
            mechanisms: vec![Arc::new(KerberosClient::new(
                ClientLogin::TicketCache,
                self.server_principals(),
                &self.qops,
            ))],
        }
    }

    /// As [`SecuritySettings::user_login`], preceded by the delegation tokens of
    /// `$HADOOP_TOKEN_FILE_LOCATION` for the NameNode whose token service is
    /// `service` (`ha-hdfs:<nameservice>` or `ip:port`): a job's tasks authenticate with
    /// their token and need no ticket, as with Hadoop's clients.
    pub fn user_login_with_tokens(&self, service: &str) -> Result<ClientAuth, SecurityConfigError> {
        let mut auth = self.user_login();
        if !self.kerberos {
            return Ok(auth);
        }
        if let Some(tokens) = super::token::TokenMechanism::from_env(service, self.qops.clone()) {
            let tokens = tokens.map_err(SecurityConfigError)?;
            auth.mechanisms.insert(0, Arc::new(tokens));
        }
        Ok(auth)
    }
}

/// The realm `DEFAULT` rules strip: krb5.conf's `default_realm` (as Java's
/// `KerberosName` takes it), else the realm of a configured service principal.
fn default_realm(logins: &[(Option<String>, Option<String>); 3]) -> String {
    if let Some(r) = krb5_conf_default_realm() {
        return r;
    }
    logins
        .iter()
        .filter_map(|(p, _)| p.as_deref())
        .find_map(|p| p.rsplit_once('@').map(|(_, r)| r.to_string()))
        .unwrap_or_default()
}

fn krb5_conf_default_realm() -> Option<String> {
    let paths = std::env::var("KRB5_CONFIG").unwrap_or_else(|_| "/etc/krb5.conf".into());
    for path in paths.split(':').filter(|p| !p.is_empty()) {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let mut in_libdefaults = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                in_libdefaults = line == "[libdefaults]";
                continue;
            }
            if !in_libdefaults {
                continue;
            }
            if let Some((k, v)) = line.split_once('=') {
                if k.trim() == "default_realm" && !v.trim().is_empty() {
                    return Some(v.trim().to_string());
                }
            }
        }
    }
    None
}

static PROCESS_LOGIN: RwLock<Option<ClientAuth>> = RwLock::new(None);

/// Makes `auth` the login every later [`ClientConfig`](crate::ClientConfig) of this
/// process authenticates with.
pub fn set_process_login(auth: ClientAuth) {
    *PROCESS_LOGIN.write().unwrap_or_else(|e| e.into_inner()) = Some(auth);
}

/// The process's login (SIMPLE until [`set_process_login`]).
pub fn process_login() -> ClientAuth {
    PROCESS_LOGIN
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_default()
}
