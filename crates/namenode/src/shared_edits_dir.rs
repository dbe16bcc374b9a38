//! `dfs.namenode.shared.edits.dir = file:///…`: the shared-storage (NFS) edits mode.
//! The journal itself is [`hafs_journal::shared_dir::SharedDirJournal`]; this reads the
//! setting and refuses what Hadoop refuses.

use std::path::PathBuf;

use hafs_conf::keys::{DFS_HA_FENCING_METHODS, DFS_NAMENODE_SHARED_EDITS_DIR};
use hafs_conf::{ConfError, Configuration};
use hafs_journal::shared_dir::parse_shared_dir_uri;

/// The shared edits dir when `dfs.namenode.shared.edits.dir` is a `file:` URI (`None`
/// when unset or a `qjournal://` URI). `ha`: this NameNode is one of an HA
/// nameservice's, which then must have `dfs.ha.fencing.methods`: a shared dir cannot
/// refuse a stale writer by itself, so the old Active must be fenced before a new one
/// writes.
pub fn from_conf(conf: &Configuration, ha: bool) -> Result<Option<PathBuf>, ConfError> {
    let Some(v) = conf
        .get_trimmed(DFS_NAMENODE_SHARED_EDITS_DIR)
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    let Some(parsed) = parse_shared_dir_uri(&v) else {
        return Ok(None);
    };
    let dir = parsed.map_err(|e| ConfError::BadValue {
        key: DFS_NAMENODE_SHARED_EDITS_DIR.to_string(),
        value: v.clone(),
        expected: e,
    })?;
    let fencing = conf.get_trimmed(DFS_HA_FENCING_METHODS).unwrap_or_default();
    if ha && fencing.trim().is_empty() {
        return Err(ConfError::NotSet {
            key: DFS_HA_FENCING_METHODS.to_string(),
            hint: format!(
                "HA with a shared edits dir ({v}) requires a fencing method: a shared \
                 directory cannot refuse a stale Active by itself, so it must be fenced \
                 (e.g. shell(/path/to/power-off-script) or sshfence) before another \
                 NameNode writes. Configure {DFS_HA_FENCING_METHODS}, or use a quorum \
                 journal (qjournal://)"
            ),
        });
    }
    Ok(Some(dir))
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
    fn file_uris_and_the_fencing_requirement() {
        assert_eq!(from_conf(&conf(&[]), true).unwrap(), None);
        let q = conf(&[(DFS_NAMENODE_SHARED_EDITS_DIR, "qjournal://a:1;b:2;c:3/ns")]);
        assert_eq!(from_conf(&q, true).unwrap(), None);
        let f = conf(&[(DFS_NAMENODE_SHARED_EDITS_DIR, "file:///mnt/shared")]);
        assert_eq!(
            from_conf(&f, false).unwrap(),
            Some(PathBuf::from("/mnt/shared"))
        );
        let err = from_conf(&f, true).unwrap_err().to_string();
        assert!(err.contains(DFS_HA_FENCING_METHODS), "{err}");
        let fenced = conf(&[
            (DFS_NAMENODE_SHARED_EDITS_DIR, "file:///mnt/shared"),
            (DFS_HA_FENCING_METHODS, "shell(/bin/true)"),
        ]);
        assert_eq!(
            from_conf(&fenced, true).unwrap(),
            Some(PathBuf::from("/mnt/shared"))
        );
        let rel = conf(&[(DFS_NAMENODE_SHARED_EDITS_DIR, "file:rel")]);
        assert!(from_conf(&rel, false).is_err());
    }
}
