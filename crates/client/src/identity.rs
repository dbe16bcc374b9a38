//! Who the client is: the user name sent to the NameNode and the client name that
//! holds leases.

use std::sync::atomic::{AtomicU32, Ordering};

/// The user, as Hadoop picks it under simple authentication: `HADOOP_USER_NAME` if set,
/// else the operating-system user.
pub fn current_user() -> String {
    if let Ok(u) = std::env::var("HADOOP_USER_NAME") {
        if !u.trim().is_empty() {
            return u.trim().to_string();
        }
    }
    os_user()
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "hafs".to_string())
}

/// `HADOOP_PROXY_USER`, as Hadoop's shell reads it: the user to act for. The login user
/// then connects as the real user and the NameNode checks `hadoop.proxyuser.*`.
pub fn proxy_user() -> Option<String> {
    std::env::var("HADOOP_PROXY_USER")
        .ok()
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
}

/// The login name of the process's real uid, from the password database.
fn os_user() -> Option<String> {
    // SAFETY: getpwuid_r writes into the buffers we own and sized; we read pw_name
    // only when it reports success and a non-null result.
    unsafe {
        let uid = libc::getuid();
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 4096];
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        let name = std::ffi::CStr::from_ptr(pwd.pw_name)
            .to_string_lossy()
            .into_owned();
        (!name.is_empty()).then_some(name)
    }
}

static CLIENT_SEQ: AtomicU32 = AtomicU32::new(1);

/// A lease-holder name in Hadoop's form, `DFSClient_NONMAPREDUCE_<random>_<n>`, unique
/// per client in this process and (by the random part) across processes.
pub fn new_client_name() -> String {
    let mut b = [0u8; 4];
    // Without randomness the name still differs per process by pid.
    let random = if getrandom::fill(&mut b).is_ok() {
        i32::from_le_bytes(b)
    } else {
        std::process::id() as i32
    };
    let n = CLIENT_SEQ.fetch_add(1, Ordering::Relaxed);
    format!("DFSClient_NONMAPREDUCE_{random}_{n}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_names_have_hadoop_form_and_differ() {
        let a = new_client_name();
        let b = new_client_name();
        assert!(a.starts_with("DFSClient_NONMAPREDUCE_"), "{a}");
        assert_eq!(a.split('_').count(), 4, "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn current_user_is_not_empty() {
        assert!(!current_user().is_empty());
    }
}
