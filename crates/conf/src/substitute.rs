//! `${var}` expansion, as Hadoop's `Configuration.substituteVars` does it.
//!
//! A variable is `${name}` where name has no `}`, `$` or space. It resolves to:
//! - `${env.NAME}`: environment variable NAME; `${env.NAME:-fallback}` uses fallback
//!   when NAME is unset or empty, `${env.NAME-fallback}` only when unset;
//! - one of the Java system properties Hadoop configurations refer to, which we
//!   emulate: `user.name`, `user.home`, `java.io.tmpdir` (always `/tmp`);
//! - otherwise another configuration key (set or defaulted).
//!
//! An unresolvable variable is left in place, as Hadoop does. Expansion stops after
//! [`MAX_SUBST`] substitutions, Hadoop's bound; reaching it means a loop.

use std::sync::OnceLock;

use crate::{ConfError, Configuration};

/// Hadoop's bound on substitutions per value.
pub const MAX_SUBST: usize = 20;

impl Configuration {
    /// Expands `${var}` references in `value`; `key` names the value in errors.
    pub fn substitute_vars(&self, key: &str, value: &str) -> Result<String, ConfError> {
        let mut eval = value.to_string();
        let mut from = 0;
        let mut substitutions = 0;
        while let Some((start, end)) = find_variable(&eval, from) {
            let name = &eval[start + 2..end - 1];
            match self.resolve_variable(name) {
                None => from = end,
                Some(replacement) => {
                    substitutions += 1;
                    if substitutions > MAX_SUBST {
                        return Err(ConfError::SubstitutionDepth {
                            key: key.to_string(),
                            value: value.to_string(),
                            max: MAX_SUBST,
                        });
                    }
                    eval.replace_range(start..end, &replacement);
                    // Rescan from the replacement: it may hold variables itself.
                    from = start;
                }
            }
        }
        Ok(eval)
    }

    fn resolve_variable(&self, name: &str) -> Option<String> {
        if let Some(env) = name.strip_prefix("env.").filter(|e| !e.is_empty()) {
            if let Some(value) = resolve_env(env) {
                return Some(value);
            }
        } else if let Some(value) = system_property(name) {
            return Some(value);
        }
        self.get_raw(name).map(str::to_string)
    }
}

/// Byte range of the first well-formed `${name}` at or after `from`.
fn find_variable(s: &str, from: usize) -> Option<(usize, usize)> {
    let mut at = from;
    while let Some(offset) = s.get(at..)?.find("${") {
        let start = at + offset;
        let body_start = start + 2;
        let body_len = s[body_start..]
            .find(['}', '$', ' '])
            .filter(|&n| n > 0 && s[body_start + n..].starts_with('}'));
        if let Some(n) = body_len {
            return Some((start, body_start + n + 1));
        }
        at = start + 1;
    }
    None
}

/// `NAME`, `NAME:-fallback` or `NAME-fallback`.
fn resolve_env(spec: &str) -> Option<String> {
    let lookup = |name: &str| std::env::var(name).ok();
    match spec.find([':', '-']) {
        Some(i) if spec[i..].starts_with(":-") => lookup(&spec[..i])
            .filter(|v| !v.is_empty())
            .or_else(|| Some(spec[i + 2..].to_string())),
        Some(i) if spec.as_bytes()[i] == b'-' => {
            lookup(&spec[..i]).or_else(|| Some(spec[i + 1..].to_string()))
        }
        _ => lookup(spec),
    }
}

/// The Java system properties that Hadoop configurations commonly reference.
pub fn system_property(name: &str) -> Option<String> {
    match name {
        "user.name" => Some(current_user_name().to_string()),
        "user.home" => std::env::var("HOME").ok().filter(|h| !h.is_empty()),
        "java.io.tmpdir" => Some("/tmp".to_string()),
        _ => None,
    }
}

/// The login name of this process's user, as the JVM's `user.name` would be: the
/// password-database name of the real uid, else `$USER`/`$LOGNAME`.
pub fn current_user_name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        passwd_name_of_current_uid()
            .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
            .or_else(|| std::env::var("LOGNAME").ok().filter(|u| !u.is_empty()))
            .unwrap_or_else(|| "unknown".to_string())
    })
}

fn passwd_name_of_current_uid() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let _password = fields.next()?;
        (fields.next()? == uid && !name.is_empty()).then(|| name.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_variables_like_hadoop_pattern() {
        assert_eq!(find_variable("a${b}c", 0), Some((1, 5)));
        assert_eq!(find_variable("${}", 0), None);
        assert_eq!(find_variable("${a b}${c}", 0), Some((6, 10)));
        assert_eq!(find_variable("${a${b}}", 0), Some((3, 7)));
        assert_eq!(find_variable("${unterminated", 0), None);
        assert_eq!(find_variable("x${a}", 2), None);
    }

    #[test]
    fn substitutes_from_configuration_and_defaults() {
        let mut conf = Configuration::new();
        conf.set("hadoop.tmp.dir", "/data/tmp");
        assert_eq!(
            conf.get("dfs.namenode.name.dir").as_deref(),
            Some("file:///data/tmp/dfs/name")
        );
        // Two levels: edits.dir defaults to ${dfs.namenode.name.dir}.
        assert_eq!(
            conf.get("dfs.namenode.edits.dir").as_deref(),
            Some("file:///data/tmp/dfs/name")
        );
        conf.set("x", "${a}-${b}");
        conf.set("a", "1");
        conf.set("b", "${a}2");
        assert_eq!(conf.get("x").as_deref(), Some("1-12"));
    }

    #[test]
    fn default_tmp_dir_uses_user_name() {
        let conf = Configuration::new();
        let expected = format!("/tmp/hadoop-{}", current_user_name());
        assert_eq!(conf.get("hadoop.tmp.dir"), Some(expected));
        assert!(!current_user_name().is_empty());
    }

    #[test]
    fn system_properties() {
        let mut conf = Configuration::new();
        conf.set("t", "${java.io.tmpdir}/x");
        assert_eq!(conf.get("t").as_deref(), Some("/tmp/x"));
        // System properties win over configuration keys of the same name, as in Hadoop.
        conf.set("user.name", "someone-else");
        conf.set("u", "${user.name}");
        assert_eq!(conf.get("u").as_deref(), Some(current_user_name()));
    }

    #[test]
    fn environment_variables_and_fallbacks() {
        // A name no other test uses, so setting it cannot race with them.
        std::env::set_var("HAFS_CONF_TEST_SUBST_ENV", "from-env");
        std::env::set_var("HAFS_CONF_TEST_SUBST_EMPTY", "");
        let mut conf = Configuration::new();
        conf.set("a", "${env.HAFS_CONF_TEST_SUBST_ENV}/x");
        conf.set("b", "${env.HAFS_CONF_TEST_SUBST_UNSET:-fb}");
        conf.set("c", "${env.HAFS_CONF_TEST_SUBST_EMPTY:-fb}");
        conf.set("d", "${env.HAFS_CONF_TEST_SUBST_EMPTY-fb}");
        conf.set("e", "${env.HAFS_CONF_TEST_SUBST_UNSET-fb}");
        conf.set("f", "${env.HAFS_CONF_TEST_SUBST_UNSET}");
        assert_eq!(conf.get("a").as_deref(), Some("from-env/x"));
        assert_eq!(conf.get("b").as_deref(), Some("fb"));
        assert_eq!(conf.get("c").as_deref(), Some("fb"));
        assert_eq!(conf.get("d").as_deref(), Some(""));
        assert_eq!(conf.get("e").as_deref(), Some("fb"));
        assert_eq!(
            conf.get("f").as_deref(),
            Some("${env.HAFS_CONF_TEST_SUBST_UNSET}")
        );
    }

    #[test]
    fn unresolved_variables_stay_and_others_still_expand() {
        let mut conf = Configuration::new();
        conf.set("a", "${nope}/${b}");
        conf.set("b", "B");
        assert_eq!(conf.get("a").as_deref(), Some("${nope}/B"));
    }

    #[test]
    fn loops_are_errors_naming_the_key() {
        let mut conf = Configuration::new();
        conf.set("self", "x${self}");
        conf.set("ping", "${pong}");
        conf.set("pong", "${ping}");
        let err = conf.try_get("self").unwrap_err();
        assert!(matches!(err, ConfError::SubstitutionDepth { ref key, .. } if key == "self"));
        let err = conf.try_get("ping").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("ping"), "{text}");
        assert!(text.contains("depth too large (20)"), "{text}");
        // get() degrades to the raw value rather than failing.
        assert_eq!(conf.get("ping").as_deref(), Some("${pong}"));
    }

    #[test]
    fn twenty_substitutions_are_allowed() {
        let mut conf = Configuration::new();
        conf.set("v", "x");
        conf.set("many", "${v}".repeat(20));
        assert_eq!(conf.get("many"), Some("x".repeat(20)));
        conf.set("too.many", "${v}".repeat(21));
        assert!(conf.try_get("too.many").is_err());
    }
}
