//! The combined JSON hosts file (Hadoop's CombinedHostFileManager and
//! CombinedHostsFileReader): one file, `dfs.hosts`, naming every DataNode with its
//! admin state, chosen by `dfs.namenode.hosts.provider.classname`.
//!
//! The file is a JSON array of objects, or (the older form) JSON objects one after
//! another:
//!
//! ```json
//! [
//!   {"hostName": "dn1.example.com"},
//!   {"hostName": "10.0.0.2", "port": 9866, "upgradeDomain": "ud1"},
//!   {"hostName": "dn3.example.com", "adminState": "DECOMMISSIONED"},
//!   {"hostName": "dn4.example.com", "adminState": "IN_MAINTENANCE",
//!    "maintenanceExpireTimeInMS": 1767225600000}
//! ]
//! ```
//!
//! Hadoop's meaning, kept: a `DECOMMISSIONED` entry is what the exclude file was (the
//! node is decommissioned); an `IN_MAINTENANCE` entry puts the node into maintenance
//! until its expiry (milliseconds since the epoch; none: for ever). Every entry is
//! also the include list, except that a file with no `NORMAL` entry admits every
//! DataNode (Hadoop's "no in-service node listed" rule). Port 0 or none: any port.
//! As Jackson does for Hadoop, an unknown field or admin state is an error, not a
//! silent default — an operator's typo must not put a node back in service.

use std::collections::HashMap;
use std::net::IpAddr;

use serde_json::Value;

use super::host_file::{HostEntry, HostFileError, HostLists, HostSet};

/// Entries read from one file; the file size is bounded before this, this bounds the
/// number of entries (each holds resolved addresses).
const MAX_ENTRIES: usize = 1_000_000;

/// The admin state an entry asks for (Hadoop's AdminStates names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryAdminState {
    Normal,
    Decommissioned,
    InMaintenance,
}

/// One DataNode of the file (Hadoop's DatanodeAdminProperties).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminEntry {
    pub host: HostEntry,
    pub upgrade_domain: Option<String>,
    pub admin_state: EntryAdminState,
    /// Milliseconds since the epoch; `u64::MAX` (Hadoop's Long.MAX_VALUE default)
    /// when not given.
    pub maintenance_expire_ms: u64,
}

/// Parses the file's text; an error names the file, the entry (1-based) and what is
/// wrong with it.
pub fn parse_combined_hosts(text: &str, file: &str) -> Result<Vec<AdminEntry>, HostFileError> {
    let bad = |entry: usize, reason: String| HostFileError::Malformed {
        path: file.to_string(),
        reason: if entry == 0 {
            reason
        } else {
            format!("entry {entry}: {reason}")
        },
    };
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    let values: Vec<Value> = if trimmed.is_empty() {
        Vec::new()
    } else if trimmed.starts_with('[') {
        match serde_json::from_str::<Value>(trimmed) {
            Ok(Value::Array(items)) => items,
            Ok(_) => return Err(bad(0, "not a JSON array".into())),
            Err(e) => return Err(bad(0, format!("not valid JSON: {e}"))),
        }
    } else {
        // The older form: objects one after another.
        let mut out = Vec::new();
        for (i, v) in serde_json::Deserializer::from_str(trimmed)
            .into_iter::<Value>()
            .enumerate()
        {
            if i >= MAX_ENTRIES {
                break;
            }
            out.push(v.map_err(|e| bad(i + 1, format!("not valid JSON: {e}")))?);
        }
        out
    };
    if values.len() > MAX_ENTRIES {
        return Err(bad(
            0,
            format!(
                "{} entries, more than the {MAX_ENTRIES} allowed",
                values.len()
            ),
        ));
    }
    values
        .iter()
        .enumerate()
        .map(|(i, v)| parse_entry(v).map_err(|reason| bad(i + 1, reason)))
        .collect()
}

fn parse_entry(v: &Value) -> Result<AdminEntry, String> {
    let Value::Object(fields) = v else {
        return Err(format!("{} is not a JSON object", snippet(v)));
    };
    let mut host_name: Option<String> = None;
    let mut port: Option<u16> = None;
    let mut upgrade_domain = None;
    let mut admin_state = EntryAdminState::Normal;
    let mut maintenance_expire_ms = u64::MAX;
    for (key, value) in fields {
        match key.as_str() {
            "hostName" => {
                let h = value
                    .as_str()
                    .ok_or_else(|| format!("hostName {} is not a string", snippet(value)))?;
                host_name = Some(h.to_string());
            }
            "port" => {
                let p = value
                    .as_u64()
                    .filter(|p| *p <= u64::from(u16::MAX))
                    .ok_or_else(|| format!("port {} is not a port number", snippet(value)))?;
                port = Some(p as u16).filter(|p| *p != 0);
            }
            "upgradeDomain" => {
                upgrade_domain = match value {
                    Value::Null => None,
                    Value::String(s) if s.len() <= 256 => Some(s.clone()),
                    other => {
                        return Err(format!(
                            "upgradeDomain {} is not a string of at most 256 bytes",
                            snippet(other)
                        ))
                    }
                }
            }
            "adminState" => {
                admin_state = match value.as_str() {
                    Some("NORMAL") => EntryAdminState::Normal,
                    Some("DECOMMISSIONED") => EntryAdminState::Decommissioned,
                    Some("IN_MAINTENANCE") => EntryAdminState::InMaintenance,
                    _ => {
                        return Err(format!(
                            "adminState {} is not one of NORMAL, DECOMMISSIONED, IN_MAINTENANCE",
                            snippet(value)
                        ))
                    }
                }
            }
            "maintenanceExpireTimeInMS" => {
                // Java's long: a negative time is already past.
                maintenance_expire_ms = match (value.as_u64(), value.as_i64()) {
                    (Some(t), _) => t,
                    (None, Some(_)) => 0,
                    _ => {
                        return Err(format!(
                            "maintenanceExpireTimeInMS {} is not a whole number of milliseconds",
                            snippet(value)
                        ))
                    }
                }
            }
            other => {
                return Err(format!(
                    "unknown field \"{}\" (known: hostName, port, upgradeDomain, adminState, maintenanceExpireTimeInMS)",
                    other.chars().take(64).collect::<String>()
                ))
            }
        }
    }
    let host_name = host_name.ok_or_else(|| "no hostName".to_string())?;
    let word = match port {
        Some(p) if host_name.contains(':') => format!("[{host_name}]:{p}"),
        Some(p) => format!("{host_name}:{p}"),
        None => host_name.clone(),
    };
    let host = super::host_file::parse_entry(&word).ok_or_else(|| {
        format!(
            "hostName \"{}\" is not a host name or IP address",
            host_name.chars().take(64).collect::<String>()
        )
    })?;
    Ok(AdminEntry {
        host,
        upgrade_domain,
        admin_state,
        maintenance_expire_ms,
    })
}

/// A value as an error message shows it: its JSON, cut short.
fn snippet(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 64 {
        format!("{}…", s.chars().take(64).collect::<String>())
    } else {
        s
    }
}

/// The host lists the entries amount to (names resolved now, as Hadoop does when it
/// reads the file).
pub fn host_lists(entries: &[AdminEntry], file: &str) -> HostLists {
    let all: Vec<HostEntry> = entries.iter().map(|e| e.host.clone()).collect();
    let of_state = |s: EntryAdminState| -> Vec<HostEntry> {
        entries
            .iter()
            .filter(|e| e.admin_state == s)
            .map(|e| e.host.clone())
            .collect()
    };
    let any_in_service = entries
        .iter()
        .any(|e| e.admin_state == EntryAdminState::Normal);
    let mut maintenance: HashMap<(IpAddr, Option<u16>), u64> = HashMap::new();
    for e in entries
        .iter()
        .filter(|e| e.admin_state == EntryAdminState::InMaintenance)
    {
        for key in HostSet::resolve(std::slice::from_ref(&e.host), file).iter() {
            let t = maintenance.entry(key).or_insert(0);
            *t = (*t).max(e.maintenance_expire_ms);
        }
    }
    HostLists {
        include: if any_in_service {
            HostSet::resolve(&all, file)
        } else {
            HostSet::default()
        },
        exclude: HostSet::resolve(&of_state(EntryAdminState::Decommissioned), file),
        maintenance,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<AdminEntry>, String> {
        parse_combined_hosts(text, "/etc/hadoop/dfs.hosts.json").map_err(|e| e.to_string())
    }

    #[test]
    fn reads_the_array_form_with_every_field() {
        let e = parse(
            r#"[
              {"hostName": "127.0.0.2"},
              {"hostName": "127.0.0.3", "port": 9866, "upgradeDomain": "ud1"},
              {"hostName": "127.0.0.4", "port": 0, "adminState": "DECOMMISSIONED"},
              {"hostName": "127.0.0.5", "adminState": "IN_MAINTENANCE",
               "maintenanceExpireTimeInMS": 1767225600000}
            ]"#,
        )
        .unwrap();
        assert_eq!(e.len(), 4);
        assert_eq!(e[0].admin_state, EntryAdminState::Normal);
        assert_eq!(e[0].maintenance_expire_ms, u64::MAX);
        assert_eq!(e[1].host.port, Some(9866));
        assert_eq!(e[1].upgrade_domain.as_deref(), Some("ud1"));
        assert_eq!(e[2].host.port, None);
        assert_eq!(e[2].admin_state, EntryAdminState::Decommissioned);
        assert_eq!(e[3].admin_state, EntryAdminState::InMaintenance);
        assert_eq!(e[3].maintenance_expire_ms, 1_767_225_600_000);
    }

    #[test]
    fn reads_the_older_one_object_after_another_form() {
        let e = parse(
            "{\"hostName\": \"127.0.0.2\"}\n{\"hostName\": \"::1\", \"port\": 50010, \"adminState\": \"IN_MAINTENANCE\"}\n",
        )
        .unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].host.host, "::1");
        assert_eq!(e[1].host.port, Some(50010));
        assert!(parse("").unwrap().is_empty());
        assert!(parse("[]").unwrap().is_empty());
    }

    #[test]
    fn hostile_input_is_refused_naming_the_file_and_the_entry() {
        let cases = [
            (
                "[{\"hostName\": \"a\"}, 7]",
                "entry 2: 7 is not a JSON object",
            ),
            ("[{\"port\": 1}]", "entry 1: no hostName"),
            (
                "[{\"hostName\": \"a\", \"adminState\": \"MAINTENANCE\"}]",
                "entry 1: adminState \"MAINTENANCE\" is not one of",
            ),
            (
                "[{\"hostName\": \"a\", \"port\": 70000}]",
                "entry 1: port 70000 is not a port number",
            ),
            (
                "[{\"hostName\": \"a\", \"hostname\": \"b\"}]",
                "entry 1: unknown field \"hostname\"",
            ),
            (
                "[{\"hostName\": \"h@st\"}]",
                "entry 1: hostName \"h@st\" is not a host name",
            ),
            (
                "[{\"hostName\": \"a\", \"maintenanceExpireTimeInMS\": \"soon\"}]",
                "entry 1: maintenanceExpireTimeInMS \"soon\" is not a whole number",
            ),
            ("[{\"hostName\": \"a\"", "not valid JSON"),
            (
                "{\"hostName\": \"a\"} {\"hostName\": ",
                "entry 2: not valid JSON",
            ),
            (
                "\"just a string\"",
                "entry 1: \"just a string\" is not a JSON object",
            ),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err();
            assert!(
                err.starts_with("host file /etc/hadoop/dfs.hosts.json is malformed: "),
                "{text}: {err}"
            );
            assert!(err.contains(want), "{text}: {err}");
        }
        // Deep nesting stops at the parser's recursion limit, not the stack.
        let deep = format!("[{}{}]", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(&deep).unwrap_err().contains("not valid JSON"));
        // A long value is cut short in the message.
        let long = format!(
            "[{{\"hostName\": \"a\", \"port\": \"{}\"}}]",
            "9".repeat(10_000)
        );
        assert!(parse(&long).unwrap_err().len() < 300);
    }

    #[test]
    fn entries_become_include_exclude_and_maintenance_lists() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let e = parse(
            r#"[{"hostName": "127.0.0.2"},
                {"hostName": "127.0.0.4", "adminState": "DECOMMISSIONED"},
                {"hostName": "127.0.0.5", "port": 9866, "adminState": "IN_MAINTENANCE",
                 "maintenanceExpireTimeInMS": 5000}]"#,
        )
        .unwrap();
        let lists = host_lists(&e, "f");
        assert!(lists.is_included(ip("127.0.0.2"), 1));
        assert!(lists.is_included(ip("127.0.0.4"), 1));
        assert!(!lists.is_included(ip("127.0.0.9"), 1));
        assert!(lists.is_excluded(ip("127.0.0.4"), 1));
        assert!(!lists.is_excluded(ip("127.0.0.5"), 9866));
        assert_eq!(lists.maintenance_expiry(ip("127.0.0.5"), 9866), 5000);
        assert_eq!(lists.maintenance_expiry(ip("127.0.0.5"), 9867), 0);
        assert_eq!(lists.maintenance_expiry(ip("127.0.0.2"), 9866), 0);
        // No NORMAL entry: every DataNode may register (Hadoop's empty in-service list).
        let e = parse(r#"[{"hostName": "127.0.0.5", "adminState": "IN_MAINTENANCE"}]"#).unwrap();
        let lists = host_lists(&e, "f");
        assert!(lists.is_included(ip("127.0.0.9"), 1));
        assert_eq!(lists.maintenance_expiry(ip("127.0.0.5"), 1), u64::MAX);
    }
}
