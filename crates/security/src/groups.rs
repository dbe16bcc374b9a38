//! User → groups, like Hadoop's default ShellBasedUnixGroupsMapping: the groups the
//! daemon's host knows for that user (none for a user it does not know), cached for
//! `hadoop.security.groups.cache.secs`.

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The groups a user belongs to, as a service asks for them (a [`GroupMapping`] in a
/// daemon, a fixed table in a test).
pub type GroupsOf = std::sync::Arc<dyn Fn(&str) -> Vec<String> + Send + Sync>;

/// Bound on the groups read for one user.
const MAX_GROUPS: usize = 1024;

#[derive(Debug)]
pub struct GroupMapping {
    ttl: Duration,
    /// `hadoop.user.group.static.mapping.overrides`: answered without asking the OS.
    overrides: Mutex<HashMap<String, Vec<String>>>,
    cache: Mutex<HashMap<String, (Instant, Vec<String>)>>,
}

/// Reads `user=group1,group2;user2=;…` (Hadoop's static mapping overrides). Entries
/// without `=` or with an empty user are ignored; blanks around names are dropped.
pub fn parse_static_overrides(value: &str) -> HashMap<String, Vec<String>> {
    value
        .split(';')
        .filter_map(|entry| {
            let (user, groups) = entry.split_once('=')?;
            let user = user.trim();
            (!user.is_empty()).then(|| {
                let groups = groups
                    .split(',')
                    .map(str::trim)
                    .filter(|g| !g.is_empty())
                    .take(MAX_GROUPS)
                    .map(str::to_string)
                    .collect();
                (user.to_string(), groups)
            })
        })
        .collect()
}

impl GroupMapping {
    pub fn new(ttl: Duration, overrides: HashMap<String, Vec<String>>) -> GroupMapping {
        GroupMapping {
            ttl,
            overrides: Mutex::new(overrides),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// `dfsadmin -refreshUserToGroupsMappings`: forgets every cached answer and takes
    /// the static overrides of the configuration as re-read.
    pub fn refresh(&self, overrides: HashMap<String, Vec<String>>) {
        *self.overrides.lock().expect("group overrides") = overrides;
        self.cache.lock().expect("group cache").clear();
    }

    pub fn groups_of(&self, user: &str) -> Vec<String> {
        if let Some(groups) = self.overrides.lock().expect("group overrides").get(user) {
            return groups.clone();
        }
        if let Some((at, g)) = self.cache.lock().expect("group cache").get(user) {
            if at.elapsed() < self.ttl {
                return g.clone();
            }
        }
        let groups = os_groups(user);
        let mut cache = self.cache.lock().expect("group cache");
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(user.to_string(), (Instant::now(), groups.clone()));
        groups
    }
}

/// The user's primary group first, then the others, from the OS user database.
fn os_groups(user: &str) -> Vec<String> {
    let Ok(cuser) = CString::new(user) else {
        return Vec::new();
    };
    // SAFETY: getpwnam_r/getgrouplist/getgrgid_r are given buffers we own, with their
    // sizes; results are read only when the calls report success.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 16 * 1024];
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwnam_r(
            cuser.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        );
        if rc != 0 || result.is_null() {
            return Vec::new();
        }
        let primary = pwd.pw_gid;
        let mut gids = vec![0 as libc::gid_t; MAX_GROUPS];
        let mut n = MAX_GROUPS as libc::c_int;
        if libc::getgrouplist(cuser.as_ptr(), primary, gids.as_mut_ptr(), &mut n) < 0 {
            n = 0;
        }
        gids.truncate(n.max(0) as usize);
        let mut out = Vec::new();
        for gid in std::iter::once(primary).chain(gids) {
            let mut grp: libc::group = std::mem::zeroed();
            let mut gbuf = vec![0 as libc::c_char; 16 * 1024];
            let mut gres: *mut libc::group = std::ptr::null_mut();
            let rc = libc::getgrgid_r(gid, &mut grp, gbuf.as_mut_ptr(), gbuf.len(), &mut gres);
            if rc == 0 && !gres.is_null() {
                let name = CStr::from_ptr(grp.gr_name).to_string_lossy().into_owned();
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_in_root_group_and_unknown_users_have_none() {
        let m = GroupMapping::new(Duration::from_secs(60), HashMap::new());
        assert_eq!(
            m.groups_of("root").first().map(String::as_str),
            Some("root")
        );
        assert!(m.groups_of("no-such-user-hafs").is_empty());
    }

    #[test]
    fn static_overrides_come_before_the_os() {
        let o = parse_static_overrides(" bob = analysts, etl ;root=;=x;junk; dr.who=;");
        assert_eq!(o.len(), 3);
        let m = GroupMapping::new(Duration::from_secs(60), o);
        assert_eq!(m.groups_of("bob"), ["analysts", "etl"]);
        // An empty list overrides the OS's groups too.
        assert!(m.groups_of("root").is_empty());
        assert!(m.groups_of("dr.who").is_empty());
    }
}
