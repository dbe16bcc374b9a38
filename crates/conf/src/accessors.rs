//! Typed accessors. Each reads the substituted, trimmed value (Hadoop's getTrimmed),
//! falls back to the caller's default only when the key has neither a value nor a
//! Hadoop default, and turns a malformed value into `ConfError::BadValue` naming the
//! key, the value and what was expected.

use std::time::Duration;

use crate::keys::{
    spec_for, ValueKind, FS_PERMISSIONS_UMASK_MODE, FS_PERMISSIONS_UMASK_MODE_DEFAULT,
};
use crate::parse::{
    parse_bool, parse_duration, parse_float, parse_int, parse_size, parse_umask, split_trimmed,
    TimeUnit,
};
use crate::{ConfError, Configuration};

pub(crate) const EXPECT_INT: &str = "an integer";
pub(crate) const EXPECT_BOOL: &str = "true or false";
pub(crate) const EXPECT_FLOAT: &str = "a number";
pub(crate) const EXPECT_SIZE: &str =
    "a non-negative size in bytes, optionally with a suffix k, m, g, t, p or e (e.g. 128m)";
pub(crate) const EXPECT_UMASK: &str =
    "an octal umask such as 022 or a symbolic one such as u=rwx,g=r-x,o=r-x";

pub(crate) fn expect_duration(default_unit: TimeUnit) -> String {
    format!(
        "a non-negative time duration: a whole number with an optional unit ns, us, ms, s, m, h \
         or d (a bare number is in {})",
        default_unit.suffix()
    )
}

/// What an integer in `min..=max` looks like, in words.
pub(crate) fn expect_int_range(min: i128, max: i128) -> String {
    match (min, max) {
        (0, max) if max >= i64::MAX as i128 => "a non-negative integer".to_string(),
        (min, max) if max >= i64::MAX as i128 && min > i64::MIN as i128 => {
            format!("an integer of at least {min}")
        }
        (min, max) => format!("an integer from {min} to {max}"),
    }
}

impl Configuration {
    /// Substituted and trimmed value, for typed parsing.
    fn typed_value(&self, key: &str) -> Result<Option<String>, ConfError> {
        Ok(self.try_get(key)?.map(|v| v.trim().to_string()))
    }

    /// An integer within `min..=max`, further narrowed by the key's declared range.
    fn get_int_in(&self, key: &str, min: i128, max: i128) -> Result<Option<i128>, ConfError> {
        let Some(value) = self.typed_value(key)? else {
            return Ok(None);
        };
        let n = parse_int(&value).ok_or_else(|| ConfError::bad_value(key, &value, EXPECT_INT))?;
        let (min, max) = match spec_for(key).map(|s| s.kind) {
            Some(ValueKind::Int {
                min: spec_min,
                max: spec_max,
            }) => (min.max(spec_min as i128), max.min(spec_max as i128)),
            _ => (min, max),
        };
        if n < min || n > max {
            return Err(ConfError::bad_value(
                key,
                &value,
                expect_int_range(min, max),
            ));
        }
        Ok(Some(n))
    }

    /// A signed integer (decimal or `0x` hex).
    pub fn get_i64(&self, key: &str, default: i64) -> Result<i64, ConfError> {
        let n = self.get_int_in(key, i64::MIN as i128, i64::MAX as i128)?;
        // In range by construction.
        Ok(n.map_or(default, |n| n as i64))
    }

    /// A non-negative integer.
    pub fn get_u64(&self, key: &str, default: u64) -> Result<u64, ConfError> {
        let n = self.get_int_in(key, 0, u64::MAX as i128)?;
        Ok(n.map_or(default, |n| n as u64))
    }

    /// A non-negative integer that fits 32 bits.
    pub fn get_u32(&self, key: &str, default: u32) -> Result<u32, ConfError> {
        let n = self.get_int_in(key, 0, u32::MAX as i128)?;
        Ok(n.map_or(default, |n| n as u32))
    }

    /// `true` or `false`, any case. (Hadoop silently uses the default for anything
    /// else; we report it, so a typo does not quietly flip a setting.)
    pub fn get_bool(&self, key: &str, default: bool) -> Result<bool, ConfError> {
        match self.typed_value(key)? {
            None => Ok(default),
            Some(v) => parse_bool(&v).ok_or_else(|| ConfError::bad_value(key, &v, EXPECT_BOOL)),
        }
    }

    /// A finite number; Java's `f`/`d` suffix is accepted (`0.999f`).
    pub fn get_f64(&self, key: &str, default: f64) -> Result<f64, ConfError> {
        match self.typed_value(key)? {
            None => Ok(default),
            Some(v) => parse_float(&v).ok_or_else(|| ConfError::bad_value(key, &v, EXPECT_FLOAT)),
        }
    }

    /// A time duration (Hadoop's getTimeDuration): `30s`, `500ms`, `2m`, ...; a bare
    /// number is in `default_unit`.
    pub fn get_time_duration(
        &self,
        key: &str,
        default: Duration,
        default_unit: TimeUnit,
    ) -> Result<Duration, ConfError> {
        match self.typed_value(key)? {
            None => Ok(default),
            Some(v) => parse_duration(&v, default_unit)
                .ok_or_else(|| ConfError::bad_value(key, &v, expect_duration(default_unit))),
        }
    }

    /// A byte count (Hadoop's getLongBytes): `134217728`, `128m`, `1g`, ...
    pub fn get_size_bytes(&self, key: &str, default: u64) -> Result<u64, ConfError> {
        match self.typed_value(key)? {
            None => Ok(default),
            Some(v) => parse_size(&v)
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| ConfError::bad_value(key, &v, EXPECT_SIZE)),
        }
    }

    /// Comma-separated values, each trimmed, empty ones dropped; empty when unset.
    pub fn get_trimmed_strings(&self, key: &str) -> Vec<String> {
        self.get(key).map(|v| split_trimmed(&v)).unwrap_or_default()
    }

    /// The umask from `fs.permissions.umask-mode` (octal or symbolic), as the bits
    /// to clear, e.g. `0o022`.
    pub fn get_octal_umask(&self) -> Result<u16, ConfError> {
        let key = FS_PERMISSIONS_UMASK_MODE;
        match self.typed_value(key)? {
            None => Ok(FS_PERMISSIONS_UMASK_MODE_DEFAULT),
            Some(v) => parse_umask(&v).ok_or_else(|| ConfError::bad_value(key, &v, EXPECT_UMASK)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf_with(key: &str, value: &str) -> Configuration {
        let mut conf = Configuration::new();
        conf.set(key, value);
        conf
    }

    fn message<T: std::fmt::Debug>(r: Result<T, ConfError>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn integers_good_values() {
        let conf = conf_with("n", " 42 ");
        assert_eq!(conf.get_i64("n", 0).unwrap(), 42);
        assert_eq!(conf.get_u64("n", 0).unwrap(), 42);
        assert_eq!(conf.get_u32("n", 0).unwrap(), 42);
        assert_eq!(conf_with("n", "0x10").get_u32("n", 0).unwrap(), 16);
        assert_eq!(conf_with("n", "-5").get_i64("n", 0).unwrap(), -5);
        assert_eq!(conf.get_u32("unset", 7).unwrap(), 7);
        // Hadoop's default wins over the caller's when the key has one.
        assert_eq!(
            Configuration::new().get_u32("dfs.replication", 99).unwrap(),
            3
        );
    }

    #[test]
    fn integers_bad_values() {
        assert_eq!(
            message(conf_with("dfs.replication", "abc").get_u32("dfs.replication", 3)),
            r#"invalid value "abc" for dfs.replication: expected an integer"#
        );
        assert_eq!(
            message(conf_with("n", "-1").get_u64("n", 0)),
            r#"invalid value "-1" for n: expected a non-negative integer"#
        );
        assert_eq!(
            message(conf_with("n", "4294967296").get_u32("n", 0)),
            r#"invalid value "4294967296" for n: expected an integer from 0 to 4294967295"#
        );
        assert_eq!(
            message(conf_with("n", "99999999999999999999").get_i64("n", 0)),
            r#"invalid value "99999999999999999999" for n: expected an integer from -9223372036854775808 to 9223372036854775807"#
        );
        assert!(conf_with("n", "").get_i64("n", 0).is_err());
        assert!(conf_with("n", "1.5").get_i64("n", 0).is_err());
    }

    #[test]
    fn integers_respect_declared_ranges() {
        assert_eq!(
            message(conf_with("dfs.replication", "0").get_u32("dfs.replication", 3)),
            r#"invalid value "0" for dfs.replication: expected an integer from 1 to 32767"#
        );
        assert_eq!(
            message(
                conf_with("dfs.namenode.handler.count", "0")
                    .get_u32("dfs.namenode.handler.count", 10)
            ),
            r#"invalid value "0" for dfs.namenode.handler.count: expected an integer from 1 to 2147483647"#
        );
    }

    #[test]
    fn booleans() {
        assert!(conf_with("b", "TRUE").get_bool("b", false).unwrap());
        assert!(!conf_with("b", " false ").get_bool("b", true).unwrap());
        assert!(conf_with("x", "1").get_bool("unset", true).unwrap());
        assert_eq!(
            message(
                conf_with("dfs.permissions.enabled", "yes")
                    .get_bool("dfs.permissions.enabled", true)
            ),
            r#"invalid value "yes" for dfs.permissions.enabled: expected true or false"#
        );
    }

    #[test]
    fn floats() {
        let conf = Configuration::new();
        assert_eq!(
            conf.get_f64("dfs.namenode.safemode.threshold-pct", 0.0)
                .unwrap(),
            0.999
        );
        assert_eq!(conf_with("f", "1.5").get_f64("f", 0.0).unwrap(), 1.5);
        assert_eq!(conf.get_f64("unset", 2.5).unwrap(), 2.5);
        assert_eq!(
            message(conf_with("f", "half").get_f64("f", 0.0)),
            r#"invalid value "half" for f: expected a number"#
        );
    }

    #[test]
    fn durations() {
        let conf = Configuration::new();
        let d = |c: &Configuration, k| c.get_time_duration(k, Duration::ZERO, TimeUnit::Seconds);
        assert_eq!(
            d(&conf, "dfs.heartbeat.interval").unwrap(),
            Duration::from_secs(3)
        );
        assert_eq!(
            d(&conf, "dfs.namenode.checkpoint.period").unwrap(),
            Duration::from_secs(3600)
        );
        assert_eq!(
            d(
                &conf_with("dfs.heartbeat.interval", "500ms"),
                "dfs.heartbeat.interval"
            )
            .unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(
            d(
                &conf_with("dfs.heartbeat.interval", "2"),
                "dfs.heartbeat.interval"
            )
            .unwrap(),
            Duration::from_secs(2)
        );
        assert_eq!(
            conf.get_time_duration("unset", Duration::from_millis(7), TimeUnit::Millis)
                .unwrap(),
            Duration::from_millis(7)
        );
        let msg = message(d(
            &conf_with("dfs.heartbeat.interval", "3 sec"),
            "dfs.heartbeat.interval",
        ));
        assert!(
            msg.starts_with(r#"invalid value "3 sec" for dfs.heartbeat.interval: expected a non-negative time duration"#),
            "{msg}"
        );
    }

    #[test]
    fn sizes() {
        let conf = Configuration::new();
        assert_eq!(
            conf.get_size_bytes("dfs.blocksize", 0).unwrap(),
            134_217_728
        );
        assert_eq!(
            conf_with("dfs.blocksize", "64m")
                .get_size_bytes("dfs.blocksize", 0)
                .unwrap(),
            64 << 20
        );
        assert_eq!(
            conf_with("dfs.blocksize", "1G")
                .get_size_bytes("dfs.blocksize", 0)
                .unwrap(),
            1 << 30
        );
        assert_eq!(conf.get_size_bytes("unset", 5).unwrap(), 5);
        let msg = message(conf_with("dfs.blocksize", "64mb").get_size_bytes("dfs.blocksize", 0));
        assert!(
            msg.starts_with(
                r#"invalid value "64mb" for dfs.blocksize: expected a non-negative size in bytes"#
            ),
            "{msg}"
        );
        assert!(conf_with("dfs.blocksize", "-1")
            .get_size_bytes("dfs.blocksize", 0)
            .is_err());
    }

    #[test]
    fn trimmed_strings() {
        let conf = conf_with("dfs.ha.namenodes.ns", " nn1, nn2 ,nn3,");
        assert_eq!(
            conf.get_trimmed_strings("dfs.ha.namenodes.ns"),
            ["nn1", "nn2", "nn3"]
        );
        assert!(conf.get_trimmed_strings("unset").is_empty());
    }

    #[test]
    fn umask() {
        assert_eq!(Configuration::new().get_octal_umask().unwrap(), 0o022);
        let key = "fs.permissions.umask-mode";
        assert_eq!(conf_with(key, "077").get_octal_umask().unwrap(), 0o077);
        assert_eq!(
            conf_with(key, "u=rwx,g=r-x,o=r-x")
                .get_octal_umask()
                .unwrap(),
            0o022
        );
        assert_eq!(
            conf_with(key, "u=rwx,g=rwx,o=").get_octal_umask().unwrap(),
            0o007
        );
        let msg = message(conf_with(key, "999").get_octal_umask());
        assert!(
            msg.starts_with(
                r#"invalid value "999" for fs.permissions.umask-mode: expected an octal umask"#
            ),
            "{msg}"
        );
    }

    #[test]
    fn substitution_loops_surface_from_typed_accessors() {
        let conf = conf_with("dfs.replication", "${dfs.replication}");
        assert!(matches!(
            conf.get_u32("dfs.replication", 3),
            Err(ConfError::SubstitutionDepth { .. })
        ));
    }
}
