//! Hadoop's `AccessControlList` syntax for admin ACLs such as
//! `dfs.cluster.administrators`: `*` (everyone), or `users groups` — two comma-separated
//! lists with one blank between them. A leading blank means "no users, only groups".

/// Bound on the entries of one list: a configuration value, but checked on every call.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessControlList {
    everyone: bool,
    users: Vec<String>,
    groups: Vec<String>,
}

impl AccessControlList {
    pub fn parse(value: &str) -> AccessControlList {
        if value.trim() == "*" {
            return AccessControlList {
                everyone: true,
                ..AccessControlList::default()
            };
        }
        // Split at the first blank before trimming, as Hadoop does.
        let mut parts = value.splitn(2, char::is_whitespace);
        let names = |list: Option<&str>| -> Vec<String> {
            list.unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .take(MAX_ENTRIES)
                .map(str::to_string)
                .collect()
        };
        let users = names(parts.next());
        let groups = names(parts.next().map(str::trim));
        AccessControlList {
            everyone: false,
            users,
            groups,
        }
    }

    /// Is `user` (a short name) listed, or in a listed group?
    pub fn allows(&self, user: &str, groups_of: &dyn Fn(&str) -> Vec<String>) -> bool {
        if user.is_empty() {
            return false;
        }
        if self.everyone || self.users.iter().any(|u| u == user) {
            return true;
        }
        !self.groups.is_empty() && groups_of(user).iter().any(|g| self.groups.contains(g))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groups::GroupsOf;
    use std::sync::Arc;

    #[test]
    fn users_then_groups_after_the_first_blank() {
        let groups_of: GroupsOf = Arc::new(|user: &str| match user {
            "dave" => vec!["dave".into(), "admins".into()],
            "erin" => vec!["erin".into(), "ops-readonly".into()],
            _ => Vec::new(),
        });
        let acl = AccessControlList::parse("ops,carol admins,sre");
        assert!(acl.allows("carol", groups_of.as_ref()));
        assert!(acl.allows("ops", groups_of.as_ref()));
        assert!(acl.allows("dave", groups_of.as_ref()));
        assert!(!acl.allows("erin", groups_of.as_ref()));
        // A group's name is not a user's.
        assert!(!acl.allows("admins", groups_of.as_ref()));
        let by_group = AccessControlList::parse(" admins");
        assert!(by_group.allows("dave", groups_of.as_ref()));
        assert!(!by_group.allows("carol", groups_of.as_ref()));
        assert!(AccessControlList::parse(" * ").allows("alice", groups_of.as_ref()));
        let nobody = AccessControlList::parse(" ");
        assert!(!nobody.allows("", groups_of.as_ref()));
        assert!(!nobody.allows("dave", groups_of.as_ref()));
        assert_eq!(AccessControlList::parse(""), nobody);
    }
}
