//! Startup validation: every known key that is set must parse as its declared type.

use crate::accessors::{
    expect_duration, expect_int_range, EXPECT_BOOL, EXPECT_FLOAT, EXPECT_INT, EXPECT_SIZE,
    EXPECT_UMASK,
};
use crate::hdfs::{parse_fs_name, FsUri};
use crate::keys::{spec_for, KeySpec, ValueKind, DFS_NAMENODE_RPC_PORT_DEFAULT, FS_DEFAULT_FS};
use crate::parse::{
    parse_bool, parse_duration, parse_float, parse_host_port, parse_int, parse_size, parse_umask,
};
use crate::{ConfError, Configuration};

impl Configuration {
    /// Checks every explicitly set key that hafs knows, and that each nameservice in
    /// `dfs.nameservices` has resolvable NameNode RPC addresses. Returns the first
    /// problem; daemons call this at startup so a bad value stops them with a message
    /// naming the key. Unknown keys are ignored, as in Hadoop.
    pub fn validate(&self) -> Result<(), ConfError> {
        match self.validation_errors().into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Every problem [`validate`](Self::validate) would report, in key order.
    pub fn validation_errors(&self) -> Vec<ConfError> {
        let mut errors = Vec::new();
        for (key, _) in self.iter() {
            let Some(spec) = spec_for(key) else {
                continue;
            };
            let value = match self.try_get(key) {
                Ok(Some(v)) => v,
                Ok(None) => continue,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            if let Err(e) = check_value(spec, key, value.trim()) {
                errors.push(e);
            }
        }
        if errors.is_empty() {
            for ns in self.nameservices() {
                if let Err(e) = self.namenode_rpc_addresses(Some(&ns)) {
                    errors.push(e);
                }
            }
        }
        errors
    }
}

/// Checks one (substituted, trimmed) value against its key's declared syntax.
pub(crate) fn check_value(spec: &KeySpec, key: &str, value: &str) -> Result<(), ConfError> {
    let bad = |expected: String| Err(ConfError::bad_value(key, value, expected));
    match spec.kind {
        ValueKind::Text | ValueKind::List => Ok(()),
        ValueKind::Int { min, max } => match parse_int(value) {
            None => bad(EXPECT_INT.to_string()),
            Some(n) if n < min as i128 || n > max as i128 => {
                bad(expect_int_range(min as i128, max as i128))
            }
            Some(_) => Ok(()),
        },
        ValueKind::Bool => match parse_bool(value) {
            Some(_) => Ok(()),
            None => bad(EXPECT_BOOL.to_string()),
        },
        ValueKind::Float => match parse_float(value) {
            Some(_) => Ok(()),
            None => bad(EXPECT_FLOAT.to_string()),
        },
        ValueKind::Duration(unit) => match parse_duration(value, unit) {
            Some(_) => Ok(()),
            None => bad(expect_duration(unit)),
        },
        ValueKind::Size => match parse_size(value) {
            Some(n) if n >= 0 => Ok(()),
            _ => bad(EXPECT_SIZE.to_string()),
        },
        ValueKind::Umask => match parse_umask(value) {
            Some(_) => Ok(()),
            None => bad(EXPECT_UMASK.to_string()),
        },
        ValueKind::Address => match parse_host_port(value, DFS_NAMENODE_RPC_PORT_DEFAULT) {
            Some(_) => Ok(()),
            None => bad("host:port".to_string()),
        },
        ValueKind::Uri => {
            let parsed = if spec.name == FS_DEFAULT_FS {
                parse_fs_name(value)
            } else {
                FsUri::parse(value)
            };
            match parsed {
                Some(_) => Ok(()),
                None => bad("a URI such as hdfs://host:port/ or file:///path".to_string()),
            }
        }
        ValueKind::Choice(words) => {
            if words.iter().any(|w| w.eq_ignore_ascii_case(value)) {
                Ok(())
            } else {
                bad(format!("one of: {}", words.join(", ")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KEY_SPECS;

    #[test]
    fn defaults_alone_are_valid() {
        Configuration::new().validate().unwrap();
    }

    #[test]
    fn every_default_parses_as_its_kind() {
        let conf = Configuration::new();
        for spec in KEY_SPECS {
            if let Some(default) = spec.default {
                let value = conf.substitute_vars(spec.name, default).unwrap();
                check_value(spec, spec.name, value.trim())
                    .unwrap_or_else(|e| panic!("default of {}: {e}", spec.name));
            }
        }
    }

    #[test]
    fn reports_first_bad_value_naming_the_key() {
        let mut conf = Configuration::new();
        conf.set("dfs.replication", "three");
        conf.set("some.unknown.key", "whatever ${x}");
        let err = conf.validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"invalid value "three" for dfs.replication: expected an integer"#
        );
    }

    #[test]
    fn reports_all_problems() {
        let mut conf = Configuration::new();
        conf.set("dfs.blocksize", "big");
        conf.set("dfs.heartbeat.interval", "-3s");
        conf.set("dfs.permissions.enabled", "maybe");
        conf.set("fs.permissions.umask-mode", "u=rwz");
        conf.set("dfs.namenode.rpc-address.ns1.nn1", "host:99999");
        conf.set("hadoop.security.authentication", "token");
        conf.set("dfs.namenode.safemode.threshold-pct", "most");
        conf.set("fs.defaultFS", "hdfs://nn:8020/");
        conf.set("dfs.ha.namenodes.ns1", "nn1");
        conf.set("ipc.maximum.data.length", "${ipc.maximum.data.length}");
        let keys: Vec<String> = conf
            .validation_errors()
            .into_iter()
            .map(|e| match e {
                ConfError::BadValue { key, .. } | ConfError::SubstitutionDepth { key, .. } => key,
                other => panic!("unexpected {other}"),
            })
            .collect();
        assert_eq!(
            keys,
            [
                "dfs.blocksize",
                "dfs.heartbeat.interval",
                "dfs.namenode.rpc-address.ns1.nn1",
                "dfs.namenode.safemode.threshold-pct",
                "dfs.permissions.enabled",
                "fs.permissions.umask-mode",
                "hadoop.security.authentication",
                "ipc.maximum.data.length",
            ]
        );
    }

    /// Keys that used to be read with their own literals, outside the table, and so
    /// were never checked at startup.
    #[test]
    fn daemon_keys_outside_the_namenode_are_validated() {
        for (key, value) in [
            ("dfs.qjournal.write-txns.timeout.ms", "20s"),
            ("dfs.journalnode.sync.interval", "-1"),
            ("hafs.ha.election.lease.ms", "long"),
            ("ha.zookeeper.session-timeout.ms", "ten"),
            ("dfs.datanode.max.transfer.threads", "lots"),
            (
                "dfs.client.block.write.replace-datanode-on-failure.policy",
                "SOMETIMES",
            ),
            ("dfs.ha.zkfc.port.ns1.nn1", "x"),
        ] {
            let mut conf = Configuration::new();
            conf.set(key, value);
            let err = conf.validate().unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("invalid value {value:?} for {key}: expected ")),
                "{key}={value}: {err}"
            );
        }
    }

    #[test]
    fn good_values_pass() {
        let mut conf = Configuration::new();
        for (k, v) in [
            ("dfs.replication", "1"),
            ("dfs.blocksize", "1m"),
            ("dfs.heartbeat.interval", "500ms"),
            ("fs.permissions.umask-mode", "077"),
            ("fs.defaultFS", "hdfs://mycluster"),
            ("dfs.nameservices", "mycluster"),
            ("dfs.ha.namenodes.mycluster", "nn1,nn2"),
            ("dfs.namenode.rpc-address.mycluster.nn1", "127.0.0.1:8020"),
            ("dfs.namenode.rpc-address.mycluster.nn2", "[::1]:8021"),
            (
                "dfs.namenode.shared.edits.dir",
                "qjournal://a:8485;b:8485/mycluster",
            ),
            ("hadoop.security.authentication", "SIMPLE"),
            ("fs.trash.interval", "1.5"),
        ] {
            conf.set(k, v);
        }
        conf.validate().unwrap();
    }

    #[test]
    fn nameservice_without_addresses_is_reported() {
        let mut conf = Configuration::new();
        conf.set("dfs.nameservices", "ns");
        conf.set("dfs.ha.namenodes.ns", "nn1,nn2");
        conf.set("dfs.namenode.rpc-address.ns.nn1", "a:8020");
        let err = conf.validate().unwrap_err();
        assert!(
            err.to_string()
                .starts_with("dfs.namenode.rpc-address.ns.nn2 is not set"),
            "{err}"
        );
    }
}
