//! KERBEROS/GSSAPI on Hadoop IPC: the server's [`SaslMethod`] and the client's
//! [`ClientMechanism`], over the MIT library through `hafs_security::kerberos`.

use std::path::Path;
use std::sync::Arc;

use hafs_proto::common::rpc_sasl_proto::SaslAuth;
use hafs_security::gssapi::{Credential, InitiatorSource};
use hafs_security::kerberos::{acceptor_credential, GssapiClient, GssapiServer, ServiceTarget};
use hafs_security::kerberos_name::{substitute_host, AuthToLocal, KerberosName};
use hafs_security::sasl::{Qop, SaslClientSession, SaslError, SaslServerSession};

use super::client::ClientMechanism;
use super::server::{AuthenticatedUser, SaslMethod};
use super::AuthMethod;
use crate::error::{RpcError, RpcErrorCode};
use crate::exceptions;

/// The mechanism name Hadoop advertises with KERBEROS.
pub const GSSAPI: &str = "GSSAPI";

/// A server's KERBEROS method: it accepts tickets for its own service principal.
pub struct KerberosMethod {
    principal: String,
    protocol: String,
    server_id: String,
    credential: Arc<Credential>,
    qops: Vec<Qop>,
    to_local: Arc<AuthToLocal>,
}

impl KerberosMethod {
    /// Acquires the acceptor credential for `principal` (already `_HOST`-substituted)
    /// from `keytab` now, so a missing keytab or principal stops the daemon at startup
    /// rather than failing every connection.
    pub fn new(
        principal: &str,
        keytab: &Path,
        qops: &[Qop],
        to_local: Arc<AuthToLocal>,
    ) -> Result<KerberosMethod, SaslError> {
        let name = KerberosName::parse(principal).map_err(SaslError::from)?;
        let (Some(host), Some(_realm)) = (name.host_name(), name.realm()) else {
            return Err(SaslError::Config(format!(
                "Kerberos principal name {principal} is not of the form service/host@REALM"
            )));
        };
        let credential = acceptor_credential(principal, keytab)?;
        Ok(KerberosMethod {
            principal: principal.to_string(),
            protocol: name.service_name().to_string(),
            server_id: host.to_string(),
            credential,
            qops: qops.to_vec(),
            to_local,
        })
    }

    pub fn principal(&self) -> &str {
        &self.principal
    }
}

impl SaslMethod for KerberosMethod {
    fn method(&self) -> AuthMethod {
        AuthMethod::Kerberos
    }
    fn mechanism(&self) -> &'static str {
        GSSAPI
    }
    fn protocol(&self) -> &str {
        &self.protocol
    }
    fn server_id(&self) -> &str {
        &self.server_id
    }
    fn start(&self) -> Result<Box<dyn SaslServerSession>, SaslError> {
        Ok(Box::new(GssapiServer::new(
            self.credential.clone(),
            &self.qops,
        )?))
    }
    fn authenticated_user(&self, authorization_id: &str) -> Result<AuthenticatedUser, RpcError> {
        let short = self.to_local.short_name_of(authorization_id).map_err(|e| {
            RpcError::new(exceptions::ACCESS_CONTROL, e.to_string())
                .with_code(RpcErrorCode::FatalUnauthorized)
        })?;
        Ok(AuthenticatedUser {
            name: authorization_id.to_string(),
            short_name: short,
            real_user: None,
            token_identifier: None,
        })
    }
}

/// Where a Kerberos client's tickets come from.
#[derive(Clone)]
pub enum ClientLogin {
    /// A user after `kinit`: the ticket cache is read at each connection, so a renewed
    /// ticket is picked up without a restart.
    TicketCache,
    /// A daemon: its keytab, one credential for every connection.
    Keytab(Arc<Credential>),
}

/// Maps a protocol to the server principal its servers run as (Hadoop's
/// `@KerberosInfo(serverPrincipal = …)` on each protocol interface), unsubstituted.
pub type ServerPrincipals = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// A client's KERBEROS mechanism.
pub struct KerberosClient {
    login: ClientLogin,
    server_principals: ServerPrincipals,
    qops: Vec<Qop>,
}

impl KerberosClient {
    pub fn new(login: ClientLogin, server_principals: ServerPrincipals, qops: &[Qop]) -> Self {
        KerberosClient {
            login,
            server_principals,
            qops: qops.to_vec(),
        }
    }
}

impl ClientMechanism for KerberosClient {
    fn method(&self) -> AuthMethod {
        AuthMethod::Kerberos
    }
    fn mechanism(&self) -> &'static str {
        GSSAPI
    }
    fn start(
        &self,
        offered: &SaslAuth,
        protocol: &str,
        server_host: &str,
    ) -> Result<Option<Box<dyn SaslClientSession>>, SaslError> {
        let pattern = (self.server_principals)(protocol).ok_or_else(|| {
            SaslError::Config(format!(
                "no Kerberos principal is configured for the servers of {protocol}"
            ))
        })?;
        // Hadoop's client checks the principal the server advertises against the one
        // its own configuration names for that host, so a server holding some other
        // valid key (a rogue with a DataNode keytab) cannot pose as the NameNode.
        let expected = substitute_host(&pattern, &canonical_host(server_host));
        let realm = KerberosName::parse(&expected)
            .ok()
            .and_then(|n| n.realm().map(str::to_string))
            .unwrap_or_default();
        let advertised = format!(
            "{}/{}@{realm}",
            offered.protocol.as_deref().unwrap_or(""),
            offered.server_id.as_deref().unwrap_or("")
        );
        if advertised != expected {
            return Err(SaslError::Config(format!(
                "Server has invalid Kerberos principal: {advertised}, expecting: {expected}"
            )));
        }
        let target = ServiceTarget::Principal(expected);
        let credential = match &self.login {
            ClientLogin::Keytab(c) => c.clone(),
            ClientLogin::TicketCache => Arc::new(
                Credential::initiator(&InitiatorSource::DefaultCcache)
                    .map_err(|e| SaslError::Gss(format!("{e} (no valid ticket? run kinit)")))?,
            ),
        };
        Ok(Some(Box::new(GssapiClient::with_credential(
            credential, &target, &self.qops,
        )?)))
    }
}

/// The host name a client puts in place of `_HOST`: a name as given (lower case), an
/// address by its reverse lookup, as Java's `SecurityUtil.getServerPrincipal` does with
/// `getCanonicalHostName`.
pub fn canonical_host(host: &str) -> String {
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => reverse_lookup(ip).unwrap_or_else(|| host.to_string()),
        Err(_) => host.to_ascii_lowercase(),
    }
}

fn reverse_lookup(ip: std::net::IpAddr) -> Option<String> {
    let sock: std::net::SocketAddr = (ip, 0).into();
    let (storage, len) = sockaddr_of(&sock);
    let mut host = [0 as libc::c_char; 1025];
    // SAFETY: `storage` holds a valid sockaddr of `len` bytes; `host` is a writable
    // buffer of the length passed; no service buffer is requested.
    let rc = unsafe {
        libc::getnameinfo(
            &storage as *const libc::sockaddr_storage as *const libc::sockaddr,
            len,
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: getnameinfo wrote a NUL-terminated string into `host` on success.
    let name = unsafe { std::ffi::CStr::from_ptr(host.as_ptr()) };
    Some(name.to_string_lossy().to_ascii_lowercase())
}

fn sockaddr_of(addr: &std::net::SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: an all-zero sockaddr_storage is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        std::net::SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and suitably aligned for sockaddr_in.
            unsafe {
                std::ptr::write(
                    &mut storage as *mut libc::sockaddr_storage as *mut libc::sockaddr_in,
                    sin,
                )
            };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        std::net::SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: 0,
            };
            // SAFETY: sockaddr_storage is larger than and suitably aligned for sockaddr_in6.
            unsafe {
                std::ptr::write(
                    &mut storage as *mut libc::sockaddr_storage as *mut libc::sockaddr_in6,
                    sin6,
                )
            };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_canonicalizes_like_java() {
        // Java's getCanonicalHostName of 127.0.0.1 is the first name /etc/hosts gives it.
        let name = canonical_host("127.0.0.1");
        assert!(!name.is_empty());
        assert_eq!(canonical_host("LocalHost"), "localhost");
    }
}
