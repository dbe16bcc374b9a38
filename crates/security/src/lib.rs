//! Hadoop's security building blocks, below the IPC layer and free of it.
//!
//! - [`sasl`]: the mechanism seam the IPC server and client drive (Java's `SaslServer` /
//!   `SaslClient`), quality of protection, and the error type.
//! - [`gssapi`]: a small FFI over the system's MIT `libgssapi_krb5.so.2`, loaded at run
//!   time so that building hafs needs no Kerberos headers and SIMPLE deployments need no
//!   Kerberos library at all.
//! - [`kerberos`]: the KERBEROS/GSSAPI SASL mechanism (RFC 4752's security layer) on top.
//! - [`digest_md5`]: the TOKEN/DIGEST-MD5 SASL mechanism (RFC 2831), written here because
//!   no maintained crate has it.
//! - [`token`]: delegation token identifiers, tokens, their HMAC passwords and token
//!   storage files (HDTS).
//! - [`block_token`]: block access tokens: identifier, keys, secret manager.
//! - [`kerberos_name`]: principals, `_HOST` substitution and `hadoop.security.auth_to_local`.
//! - [`spnego`]: Kerberos over HTTP (`Negotiate`), server and client sides, free of any
//!   HTTP implementation.

pub mod acl;
pub mod aes_ctr;
pub mod block_token;
pub mod digest_md5;
pub mod groups;
pub mod gssapi;
pub mod kerberos;
pub mod kerberos_name;
pub mod sasl;
pub mod spnego;
pub mod token;
