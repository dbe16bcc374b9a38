//! Proxy users: which authenticated users may act for others, from
//! `hadoop.proxyuser.<user>.{users,groups,hosts}` — Hadoop's `ProxyUsers` with its
//! default impersonation provider.
//!
//! A service (Oozie, Hive, a gateway) authenticates as itself and names, in the
//! connection context, the user it acts for. It may do so only when
//! - the effective user is listed in `.users`, or is in a group listed in `.groups`
//!   (`*` in either: everyone), and
//! - the connection comes from an address in `.hosts` (IPs, CIDR ranges, host names
//!   resolved when the configuration is read; `*`: anywhere).
//!
//! A user with no `hadoop.proxyuser.<user>.*` keys may impersonate nobody. The keys are
//! found by the real user's short name (`oozie` for `oozie/host@REALM`), as in Hadoop.

use std::collections::HashMap;
use std::net::{IpAddr, ToSocketAddrs};

use hafs_conf::Configuration;
use tracing::warn;

use super::server::{AuthenticatedUser, ImpersonationPolicy};

const PREFIX: &str = "hadoop.proxyuser.";
/// Bound on the entries of one list, so a hostile or mistaken configuration cannot make
/// every connection scan without end.
const MAX_ENTRIES: usize = 10_000;

pub use hafs_security::groups::GroupsOf;

/// A user/group list as Hadoop's `AccessControlList` reads `users` and `groups`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Acl {
    all_users: bool,
    users: Vec<String>,
    all_groups: bool,
    groups: Vec<String>,
}

/// Hosts as Hadoop's `MachineList`: `*`, addresses, CIDR ranges, names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct MachineList {
    all: bool,
    addresses: Vec<IpAddr>,
    ranges: Vec<(IpAddr, u8)>,
}

/// One real user's rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Rule {
    acl: Acl,
    hosts: Option<MachineList>,
}

/// Every `hadoop.proxyuser.*` rule of a configuration; plain data, read once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyUserRules {
    by_real_user: HashMap<String, Rule>,
}

impl ProxyUserRules {
    /// Reads the rules. A list entry that is neither an address, a range nor a name that
    /// resolves is skipped with a warning, as Hadoop does.
    pub fn from_conf(conf: &Configuration) -> ProxyUserRules {
        let mut by_real_user: HashMap<String, Rule> = HashMap::new();
        for (key, _) in conf.iter() {
            let Some(rest) = key.strip_prefix(PREFIX) else {
                continue;
            };
            // The user is everything up to the last dot: user names may hold dots.
            let Some((user, what)) = rest.rsplit_once('.') else {
                continue;
            };
            if user.is_empty() {
                continue;
            }
            // `get` substitutes `${var}`s, as Hadoop's Configuration does.
            let value = conf.get(key).unwrap_or_default();
            let rule = by_real_user.entry(user.to_string()).or_default();
            match what {
                "users" => {
                    let (all, users) = list(&value);
                    rule.acl.all_users = all;
                    rule.acl.users = users;
                }
                "groups" => {
                    let (all, groups) = list(&value);
                    rule.acl.all_groups = all;
                    rule.acl.groups = groups;
                }
                "hosts" => rule.hosts = Some(MachineList::parse(key, &value)),
                _ => {}
            }
        }
        ProxyUserRules { by_real_user }
    }

    pub fn is_empty(&self) -> bool {
        self.by_real_user.is_empty()
    }

    /// Hadoop's `DefaultImpersonationProvider.authorize`: `Err` holds its message.
    pub fn authorize(
        &self,
        real_short: &str,
        real_full: &str,
        effective: &str,
        groups_of: &dyn Fn(&str) -> Vec<String>,
        peer: IpAddr,
    ) -> Result<(), String> {
        let rule = self.by_real_user.get(real_short);
        let allowed = rule.is_some_and(|r| r.acl.allows(effective, groups_of));
        if !allowed {
            return Err(format!(
                "User: {real_full} is not allowed to impersonate {effective}"
            ));
        }
        let from_host = rule
            .and_then(|r| r.hosts.as_ref())
            .is_some_and(|h| h.includes(peer));
        if !from_host {
            return Err(format!(
                "Unauthorized connection for super-user: {real_full} from IP {peer}"
            ));
        }
        Ok(())
    }
}

/// `*` or a comma-separated list (blanks around entries ignored, empty entries dropped).
fn list(value: &str) -> (bool, Vec<String>) {
    let value = value.trim();
    if value == "*" {
        return (true, Vec::new());
    }
    let entries = value
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .take(MAX_ENTRIES)
        .map(str::to_string)
        .collect();
    (false, entries)
}

impl Acl {
    fn allows(&self, user: &str, groups_of: &dyn Fn(&str) -> Vec<String>) -> bool {
        if self.all_users || self.all_groups || self.users.iter().any(|u| u == user) {
            return true;
        }
        if self.groups.is_empty() {
            return false;
        }
        groups_of(user).iter().any(|g| self.groups.contains(g))
    }
}

impl MachineList {
    fn parse(key: &str, value: &str) -> MachineList {
        let (all, entries) = list(value);
        let mut m = MachineList {
            all,
            ..MachineList::default()
        };
        for entry in entries {
            if let Ok(ip) = entry.parse::<IpAddr>() {
                m.addresses.push(ip);
            } else if let Some((net, bits)) = entry.split_once('/') {
                match (net.parse::<IpAddr>(), bits.parse::<u8>()) {
                    (Ok(ip), Ok(b)) if b <= if ip.is_ipv4() { 32 } else { 128 } => {
                        m.ranges.push((ip, b))
                    }
                    _ => warn!(key, entry, "not a CIDR range; ignored"),
                }
            } else {
                match (entry.as_str(), 0).to_socket_addrs() {
                    Ok(addrs) => m.addresses.extend(addrs.map(|a| a.ip())),
                    Err(e) => warn!(key, entry, error = %e, "host name does not resolve; ignored"),
                }
            }
        }
        m
    }

    fn includes(&self, peer: IpAddr) -> bool {
        let peer = canonical(peer);
        self.all
            || self.addresses.iter().any(|a| canonical(*a) == peer)
            || self
                .ranges
                .iter()
                .any(|(net, bits)| in_range(peer, canonical(*net), *bits))
    }
}

/// An IPv4 address seen through an IPv6 socket (`::ffff:a.b.c.d`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn in_range(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// The rules with the server's group mapping: the policy an IPC server enforces.
pub struct ProxyUsers {
    rules: std::sync::RwLock<ProxyUserRules>,
    groups_of: GroupsOf,
}

impl ProxyUsers {
    pub fn new(rules: ProxyUserRules, groups_of: GroupsOf) -> ProxyUsers {
        ProxyUsers {
            rules: std::sync::RwLock::new(rules),
            groups_of,
        }
    }

    /// `dfsadmin -refreshSuperUserGroupsConfiguration`: the rules of the configuration
    /// as re-read replace the old ones for every later connection.
    pub fn refresh(&self, rules: ProxyUserRules) {
        *self.rules.write().unwrap_or_else(|p| p.into_inner()) = rules;
    }
}

impl ImpersonationPolicy for ProxyUsers {
    fn authorize(
        &self,
        real: &AuthenticatedUser,
        effective: &str,
        peer: IpAddr,
    ) -> Result<(), String> {
        self.rules
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .authorize(
                &real.short_name,
                &real.name,
                effective,
                self.groups_of.as_ref(),
                peer,
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(pairs: &[(&str, &str)]) -> ProxyUserRules {
        let mut conf = Configuration::new();
        for (k, v) in pairs {
            conf.set(k, *v);
        }
        ProxyUserRules::from_conf(&conf)
    }

    fn groups(user: &str) -> Vec<String> {
        match user {
            "bob" => vec!["bob".into(), "analysts".into()],
            _ => Vec::new(),
        }
    }

    const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn users_groups_and_hosts_each_gate_impersonation() {
        let r = rules(&[
            ("hadoop.proxyuser.oozie.users", "carol, dave"),
            ("hadoop.proxyuser.oozie.groups", "analysts"),
            ("hadoop.proxyuser.oozie.hosts", "10.1.0.0/16,127.0.0.1"),
        ]);
        let full = "oozie/gw.example.com@EXAMPLE.COM";
        for who in ["carol", "dave", "bob"] {
            assert_eq!(r.authorize("oozie", full, who, &groups, LOCAL), Ok(()));
        }
        assert_eq!(
            r.authorize("oozie", full, "hdfs", &groups, LOCAL),
            Err(format!("User: {full} is not allowed to impersonate hdfs"))
        );
        let inside: IpAddr = "10.1.200.3".parse().unwrap();
        assert_eq!(r.authorize("oozie", full, "carol", &groups, inside), Ok(()));
        let outside: IpAddr = "10.2.0.1".parse().unwrap();
        assert_eq!(
            r.authorize("oozie", full, "carol", &groups, outside),
            Err(format!(
                "Unauthorized connection for super-user: {full} from IP 10.2.0.1"
            ))
        );
        // An IPv4 peer seen through an IPv6 socket is the same peer.
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(r.authorize("oozie", full, "carol", &groups, mapped), Ok(()));
    }

    #[test]
    fn no_rule_no_hosts_or_another_real_user_refuse() {
        let r = rules(&[("hadoop.proxyuser.oozie.users", "*")]);
        // Users allowed, but no hosts key: from nowhere.
        assert!(r
            .authorize("oozie", "oozie@R", "alice", &groups, LOCAL)
            .unwrap_err()
            .starts_with("Unauthorized connection for super-user"));
        assert_eq!(
            r.authorize("hive", "hive@R", "alice", &groups, LOCAL),
            Err("User: hive@R is not allowed to impersonate alice".into())
        );
        assert!(rules(&[]).is_empty());
    }

    #[test]
    fn wildcards_dotted_user_names_and_bad_entries() {
        let r = rules(&[
            ("hadoop.proxyuser.svc.etl.groups", "*"),
            ("hadoop.proxyuser.svc.etl.hosts", "*"),
            ("hadoop.proxyuser.gw.users", "alice"),
            (
                "hadoop.proxyuser.gw.hosts",
                "not-an-ip/33, 300.1.1.1/8, localhost",
            ),
        ]);
        let anywhere: IpAddr = "192.0.2.9".parse().unwrap();
        assert_eq!(
            r.authorize("svc.etl", "svc.etl@R", "anyone", &groups, anywhere),
            Ok(())
        );
        // The bad entries are skipped; localhost still resolves to loopback.
        assert_eq!(r.authorize("gw", "gw@R", "alice", &groups, LOCAL), Ok(()));
        assert!(r
            .authorize("gw", "gw@R", "alice", &groups, anywhere)
            .is_err());
    }

    #[test]
    fn cidr_edges() {
        let net: IpAddr = "10.0.0.0".parse().unwrap();
        assert!(in_range("10.255.255.255".parse().unwrap(), net, 8));
        assert!(!in_range("11.0.0.0".parse().unwrap(), net, 8));
        assert!(in_range("1.2.3.4".parse().unwrap(), net, 0));
        assert!(in_range(net, net, 32));
        assert!(!in_range("10.0.0.1".parse().unwrap(), net, 32));
        let v6: IpAddr = "fd00::".parse().unwrap();
        assert!(in_range("fd00::1".parse().unwrap(), v6, 64));
        assert!(!in_range("fd01::1".parse().unwrap(), v6, 64));
        assert!(!in_range(LOCAL, v6, 0));
    }
}
