//! The client's view of the configuration: which file system, which NameNodes, and the
//! defaults for new files. Built once from a `hafs_conf::Configuration` (pure; no IO).

use hafs_conf::{keys, Configuration};

use crate::paths;
use crate::ClientError;

/// Port of a NameNode RPC address written without one (Hadoop's default).
pub const DEFAULT_NAMENODE_PORT: u16 = 8020;
const DEFAULT_REPLICATION: u16 = 3;
const DEFAULT_BLOCK_SIZE: u64 = 128 * 1024 * 1024;
const DEFAULT_UMASK: u16 = 0o022;

/// When a write pipeline loses a DataNode, whether to ask the NameNode for a
/// replacement (`dfs.client.block.write.replace-datanode-on-failure.policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplaceDatanodePolicy {
    /// Never replace; keep writing to the remaining DataNodes.
    Never,
    /// Hadoop's DEFAULT: with replication >= 3, replace when at most half the pipeline
    /// remains, or when the block was appended to or hflushed.
    Default,
    /// Replace whenever a DataNode is lost.
    Always,
}

/// Settings of the data path (DataTransferProtocol), with Hadoop's keys and defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSettings {
    /// `dfs.bytes-per-checksum`: bytes covered by one CRC32C.
    pub bytes_per_checksum: u32,
    /// `dfs.client-write-packet-size`: most bytes of one packet.
    pub write_packet_size: u32,
    /// `dfs.client.write.max-packets-in-flight`: packets sent but not yet acknowledged.
    pub max_packets_in_flight: usize,
    /// `dfs.client.block.write.locateFollowingBlock.retries`: attempts of addBlock and
    /// complete while the NameNode answers "not yet" (previous block under-replicated).
    pub locate_following_block_retries: u32,
    /// `dfs.client.block.write.retries`: pipeline set-ups tried for one new block.
    pub block_write_retries: u32,
    /// `dfs.client.block.write.replace-datanode-on-failure.enable` + `.policy`.
    pub replace_datanode_policy: ReplaceDatanodePolicy,
    /// `dfs.client.block.write.replace-datanode-on-failure.best-effort`: keep writing
    /// when no replacement can be added.
    pub replace_datanode_best_effort: bool,
    /// `dfs.client.socket-timeout` (ms): reads and connects on the data port.
    pub socket_timeout_ms: u64,
    /// `dfs.client.use.datanode.hostname`: connect by host name instead of IP.
    pub use_datanode_hostname: bool,
    /// `dfs.data.transfer.protection`: when set, every data connection that carries a
    /// block token starts with the SASL handshake (as the Java client does when its own
    /// configuration has the key).
    pub data_transfer_protection: Option<TransferProtection>,
}

/// What a protected data connection negotiates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferProtection {
    /// `dfs.data.transfer.protection`, most preferred first.
    pub qops: Vec<hafs_security::sasl::Qop>,
    /// `dfs.encrypt.data.transfer.cipher.suites`: offer AES/CTR at privacy.
    pub cipher: Option<hafs_datatransfer::sasl::TransferCipher>,
}

impl Default for DataSettings {
    fn default() -> Self {
        DataSettings {
            bytes_per_checksum: 512,
            write_packet_size: 64 * 1024,
            max_packets_in_flight: 80,
            locate_following_block_retries: 5,
            block_write_retries: 3,
            replace_datanode_policy: ReplaceDatanodePolicy::Default,
            replace_datanode_best_effort: false,
            socket_timeout_ms: 60_000,
            use_datanode_hostname: false,
            data_transfer_protection: None,
        }
    }
}

impl DataSettings {
    fn from_conf(conf: &Configuration) -> Result<Self, ClientError> {
        let d = DataSettings::default();
        let bool_key = |key: &str, default: bool| -> Result<bool, ClientError> {
            match conf.get_trimmed(key) {
                None => Ok(default),
                Some(v) => match v.to_ascii_lowercase().as_str() {
                    "true" => Ok(true),
                    "false" => Ok(false),
                    _ => Err(bad(key, &v, "true or false")),
                },
            }
        };
        let enabled = bool_key(
            keys::DFS_CLIENT_BLOCK_WRITE_REPLACE_DATANODE_ON_FAILURE_ENABLE,
            true,
        )?;
        let policy_key = keys::DFS_CLIENT_BLOCK_WRITE_REPLACE_DATANODE_ON_FAILURE_POLICY;
        let policy = match conf.get_trimmed(policy_key) {
            None => ReplaceDatanodePolicy::Default,
            Some(v) => match v.to_ascii_uppercase().as_str() {
                "NEVER" => ReplaceDatanodePolicy::Never,
                "DEFAULT" => ReplaceDatanodePolicy::Default,
                "ALWAYS" => ReplaceDatanodePolicy::Always,
                _ => return Err(bad(policy_key, &v, "NEVER, DEFAULT or ALWAYS")),
            },
        };
        let bytes_per_checksum = num_key(conf, keys::DFS_BYTES_PER_CHECKSUM, d.bytes_per_checksum)?;
        if bytes_per_checksum == 0 || bytes_per_checksum > 1 << 20 {
            return Err(bad(
                keys::DFS_BYTES_PER_CHECKSUM,
                &bytes_per_checksum.to_string(),
                "1..1048576",
            ));
        }
        let write_packet_size = num_key(
            conf,
            keys::DFS_CLIENT_WRITE_PACKET_SIZE,
            d.write_packet_size,
        )?;
        if !(512..=16 << 20).contains(&write_packet_size) {
            return Err(bad(
                keys::DFS_CLIENT_WRITE_PACKET_SIZE,
                &write_packet_size.to_string(),
                "512..16777216",
            ));
        }
        Ok(DataSettings {
            bytes_per_checksum,
            write_packet_size,
            max_packets_in_flight: num_key(
                conf,
                keys::DFS_CLIENT_WRITE_MAX_PACKETS_IN_FLIGHT,
                d.max_packets_in_flight,
            )?
            .clamp(1, 1000),
            locate_following_block_retries: num_key(
                conf,
                keys::DFS_CLIENT_BLOCK_WRITE_LOCATEFOLLOWINGBLOCK_RETRIES,
                d.locate_following_block_retries,
            )?
            .min(20),
            block_write_retries: num_key(
                conf,
                keys::DFS_CLIENT_BLOCK_WRITE_RETRIES,
                d.block_write_retries,
            )?
            .min(20),
            replace_datanode_policy: if enabled {
                policy
            } else {
                ReplaceDatanodePolicy::Never
            },
            replace_datanode_best_effort: bool_key(
                keys::DFS_CLIENT_BLOCK_WRITE_REPLACE_DATANODE_ON_FAILURE_BEST_EFFORT,
                false,
            )?,
            socket_timeout_ms: num_key(conf, keys::DFS_CLIENT_SOCKET_TIMEOUT, d.socket_timeout_ms)?
                .max(100),
            use_datanode_hostname: bool_key(keys::DFS_CLIENT_USE_DATANODE_HOSTNAME, false)?,
            data_transfer_protection: match conf
                .get_trimmed(keys::DFS_DATA_TRANSFER_PROTECTION)
                .filter(|v| !v.is_empty())
            {
                None => None,
                Some(v) => Some(TransferProtection {
                    qops: hafs_security::sasl::Qop::parse_hadoop_list(&v).map_err(|_| {
                        bad(
                            keys::DFS_DATA_TRANSFER_PROTECTION,
                            &v,
                            "authentication, integrity and/or privacy",
                        )
                    })?,
                    cipher: hafs_datatransfer::sasl::TransferCipher::from_conf_values(
                        conf.get_trimmed(keys::DFS_ENCRYPT_DATA_TRANSFER_CIPHER_SUITES)
                            .as_deref(),
                        conf.get_trimmed(keys::DFS_ENCRYPT_DATA_TRANSFER_CIPHER_KEY_BITLENGTH)
                            .as_deref(),
                    )
                    .map_err(|e| ClientError::Config(e.to_string()))?,
                }),
            },
        })
    }
}

fn num_key<N: std::str::FromStr>(
    conf: &Configuration,
    key: &str,
    default: N,
) -> Result<N, ClientError> {
    match conf.get_trimmed(key) {
        None => Ok(default),
        Some(v) => v.parse::<N>().map_err(|_| bad(key, &v, "a number")),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClientSettings {
    /// `nameservice` or `host:port`, as written in the file system URI.
    pub authority: String,
    /// RPC addresses (`host:port`) of every NameNode serving the file system, in the
    /// order the client tries them.
    pub namenodes: Vec<String>,
    pub replication: u16,
    pub block_size: u64,
    /// Bits removed from the permission of new files and directories.
    pub umask: u16,
    /// `fs.trash.interval` in minutes; 0 disables the trash.
    pub trash_interval_minutes: f64,
    /// The data path: packets, checksums, pipeline recovery.
    pub data: DataSettings,
}

impl ClientSettings {
    /// Reads the settings for the file system `fs_uri` (else `fs.defaultFS`).
    pub fn from_conf(conf: &Configuration, fs_uri: Option<&str>) -> Result<Self, ClientError> {
        let uri = match fs_uri {
            Some(u) => u.trim().to_string(),
            None => conf.get_trimmed(keys::FS_DEFAULT_FS).ok_or_else(|| {
                ClientError::Config(format!(
                    "{} is not set (expected hdfs://<authority>)",
                    keys::FS_DEFAULT_FS
                ))
            })?,
        };
        let authority = match paths::split_uri(&uri) {
            Ok((Some(a), _)) if !a.is_empty() => a.to_string(),
            _ => {
                return Err(ClientError::Config(format!(
                    "{}: '{uri}' is not an hdfs://<authority> URI",
                    keys::FS_DEFAULT_FS
                )))
            }
        };
        let namenodes = namenode_addresses(conf, &authority)?;
        let replication =
            match conf.get_trimmed(keys::DFS_REPLICATION) {
                Some(v) => v.parse::<u16>().ok().filter(|r| *r > 0).ok_or_else(|| {
                    bad(keys::DFS_REPLICATION, &v, "a replication factor 1..32767")
                })?,
                None => DEFAULT_REPLICATION,
            };
        let block_size = match conf.get_trimmed(keys::DFS_BLOCKSIZE) {
            Some(v) => parse_size(&v)
                .ok_or_else(|| bad(keys::DFS_BLOCKSIZE, &v, "a size like 134217728 or 128m"))?,
            None => DEFAULT_BLOCK_SIZE,
        };
        let umask = match conf.get_trimmed(keys::FS_PERMISSIONS_UMASK_MODE) {
            Some(v) => u16::from_str_radix(&v, 8)
                .ok()
                .filter(|m| *m <= 0o777)
                .ok_or_else(|| {
                    bad(
                        keys::FS_PERMISSIONS_UMASK_MODE,
                        &v,
                        "an octal umask like 022",
                    )
                })?,
            None => DEFAULT_UMASK,
        };
        let trash_interval_minutes = match conf.get_trimmed(keys::FS_TRASH_INTERVAL) {
            Some(v) => v
                .trim_end_matches(['f', 'F'])
                .parse::<f64>()
                .ok()
                .filter(|m| m.is_finite() && *m >= 0.0)
                .ok_or_else(|| bad(keys::FS_TRASH_INTERVAL, &v, "minutes (a number >= 0)"))?,
            None => 0.0,
        };
        Ok(ClientSettings {
            authority,
            namenodes,
            replication,
            block_size,
            umask,
            trash_interval_minutes,
            data: DataSettings::from_conf(conf)?,
        })
    }

    /// `hdfs://<authority>`.
    pub fn fs_uri(&self) -> String {
        format!("{}://{}", paths::SCHEME, self.authority)
    }
}

fn bad(key: &str, value: &str, expected: &str) -> ClientError {
    ClientError::Config(format!("{key}: bad value '{value}', expected {expected}"))
}

/// The NameNodes behind `authority`: the HA NameNodes when it names a configured
/// nameservice, else the authority itself as `host[:port]`.
pub fn namenode_addresses(
    conf: &Configuration,
    authority: &str,
) -> Result<Vec<String>, ClientError> {
    let nameservices = conf.get_trimmed(keys::DFS_NAMESERVICES).unwrap_or_default();
    let is_nameservice = nameservices
        .split(',')
        .map(str::trim)
        .any(|ns| ns == authority);
    let ha_key = keys::with_suffixes(keys::DFS_HA_NAMENODES_PREFIX, &[authority]);
    if is_nameservice || conf.get_trimmed(&ha_key).is_some() {
        let nns = conf.get_trimmed(&ha_key).unwrap_or_default();
        let mut addrs = Vec::new();
        for nn in nns.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let key = keys::with_suffixes(keys::DFS_NAMENODE_RPC_ADDRESS, &[authority, nn]);
            let addr = conf.get_trimmed(&key).ok_or_else(|| {
                ClientError::Config(format!("{key} is not set (NameNode {nn} of {authority})"))
            })?;
            addrs.push(with_default_port(&addr));
        }
        if addrs.is_empty() {
            // A nameservice with a single NameNode may give just the unsuffixed key.
            let key = keys::with_suffixes(keys::DFS_NAMENODE_RPC_ADDRESS, &[authority]);
            match conf.get_trimmed(&key) {
                Some(addr) => addrs.push(with_default_port(&addr)),
                None => {
                    return Err(ClientError::Config(format!(
                        "{ha_key} lists no NameNodes for nameservice {authority}"
                    )))
                }
            }
        }
        return Ok(addrs);
    }
    Ok(vec![with_default_port(authority)])
}

fn with_default_port(addr: &str) -> String {
    let addr = addr.trim();
    let has_port = match addr.rfind(':') {
        // "[v6]" without port ends in ']'.
        Some(i) => !addr[i..].contains(']') && addr[i + 1..].parse::<u16>().is_ok(),
        None => false,
    };
    if has_port {
        addr.to_string()
    } else {
        format!("{addr}:{DEFAULT_NAMENODE_PORT}")
    }
}

/// A byte count with an optional binary suffix (k, m, g, t, p, e), Hadoop's syntax.
fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()?.to_ascii_lowercase() {
        'k' => (&s[..s.len() - 1], 1u64 << 10),
        'm' => (&s[..s.len() - 1], 1 << 20),
        'g' => (&s[..s.len() - 1], 1 << 30),
        't' => (&s[..s.len() - 1], 1 << 40),
        'p' => (&s[..s.len() - 1], 1 << 50),
        'e' => (&s[..s.len() - 1], 1 << 60),
        _ => (s, 1),
    };
    num.trim()
        .parse::<u64>()
        .ok()?
        .checked_mul(mult)
        .filter(|v| *v > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(pairs: &[(&str, &str)]) -> Configuration {
        let mut c = Configuration::new();
        for (k, v) in pairs {
            c.set(k, *v);
        }
        c
    }

    #[test]
    fn the_cipher_suite_rides_with_the_protection() {
        let base = [("fs.defaultFS", "hdfs://a")];
        let s = ClientSettings::from_conf(&conf(&base), None).unwrap();
        assert_eq!(s.data.data_transfer_protection, None);
        let c = conf(&[
            base[0],
            ("dfs.data.transfer.protection", "privacy"),
            (
                "dfs.encrypt.data.transfer.cipher.suites",
                "AES/CTR/NoPadding",
            ),
        ]);
        let p = ClientSettings::from_conf(&c, None)
            .unwrap()
            .data
            .data_transfer_protection
            .unwrap();
        assert_eq!(p.qops, vec![hafs_security::sasl::Qop::Privacy]);
        assert!(p.cipher.is_some());
        let c = conf(&[
            base[0],
            ("dfs.data.transfer.protection", "privacy"),
            ("dfs.encrypt.data.transfer.cipher.suites", "RC4"),
        ]);
        let e = ClientSettings::from_conf(&c, None).unwrap_err().to_string();
        assert!(
            e.contains("Invalid cipher suite, dfs.encrypt.data.transfer.cipher.suites=RC4"),
            "{e}"
        );
    }

    #[test]
    fn ha_nameservice_lists_every_namenode_in_order() {
        let c = conf(&[
            ("fs.defaultFS", "hdfs://mycluster"),
            ("dfs.nameservices", "mycluster"),
            ("dfs.ha.namenodes.mycluster", "nn1, nn2"),
            ("dfs.namenode.rpc-address.mycluster.nn1", "host1:8020"),
            ("dfs.namenode.rpc-address.mycluster.nn2", "host2"),
        ]);
        let s = ClientSettings::from_conf(&c, None).unwrap();
        assert_eq!(s.authority, "mycluster");
        assert_eq!(s.namenodes, vec!["host1:8020", "host2:8020"]);
        assert_eq!(s.fs_uri(), "hdfs://mycluster");
    }

    #[test]
    fn plain_authority_is_the_namenode_and_defaults_apply() {
        let c = conf(&[("fs.defaultFS", "hdfs://nn.example:9000/")]);
        let s = ClientSettings::from_conf(&c, None).unwrap();
        assert_eq!(s.namenodes, vec!["nn.example:9000"]);
        assert_eq!(s.replication, 3);
        assert_eq!(s.block_size, 128 << 20);
        assert_eq!(s.umask, 0o022);
        assert_eq!(s.trash_interval_minutes, 0.0);
        let s = ClientSettings::from_conf(&c, Some("hdfs://other")).unwrap();
        assert_eq!(s.namenodes, vec!["other:8020"]);
    }

    #[test]
    fn bad_values_name_the_key() {
        let c = conf(&[("fs.defaultFS", "hdfs://a"), ("dfs.blocksize", "lots")]);
        let e = ClientSettings::from_conf(&c, None).unwrap_err().to_string();
        assert!(e.contains("dfs.blocksize"), "{e}");
        let c = conf(&[("fs.defaultFS", "file:///")]);
        assert!(ClientSettings::from_conf(&c, None).is_err());
        let c = conf(&[
            ("fs.defaultFS", "hdfs://a"),
            ("dfs.blocksize", "64m"),
            ("fs.permissions.umask-mode", "077"),
        ]);
        let s = ClientSettings::from_conf(&c, None).unwrap();
        assert_eq!(s.block_size, 64 << 20);
        assert_eq!(s.umask, 0o077);
    }

    #[test]
    fn nameservice_without_rpc_address_is_an_error() {
        let c = conf(&[
            ("fs.defaultFS", "hdfs://ns"),
            ("dfs.nameservices", "ns"),
            ("dfs.ha.namenodes.ns", "nn1"),
        ]);
        let e = ClientSettings::from_conf(&c, None).unwrap_err().to_string();
        assert!(e.contains("dfs.namenode.rpc-address.ns.nn1"), "{e}");
    }
}
