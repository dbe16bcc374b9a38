//! `qjournal://host1:port1;host2:port2;host3:port3/<journalId>`.

/// A parsed shared-edits URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QjournalUri {
    pub addrs: Vec<String>,
    pub journal_id: String,
}

pub const SCHEME: &str = "qjournal://";
/// Hadoop's default JournalNode RPC port, used when an address has none.
pub const DEFAULT_PORT: u16 = 8485;

impl QjournalUri {
    pub fn is_qjournal(s: &str) -> bool {
        s.trim().starts_with(SCHEME)
    }

    pub fn parse(s: &str) -> Result<QjournalUri, String> {
        let rest = s
            .trim()
            .strip_prefix(SCHEME)
            .ok_or_else(|| format!("'{s}' is not a qjournal:// URI"))?;
        let (hosts, jid) = rest.split_once('/').ok_or_else(|| {
            format!("'{s}' names no journal id (qjournal://h1:p;h2:p;h3:p/<journalId>)")
        })?;
        let jid = jid.trim_end_matches('/');
        if jid.is_empty() || jid.contains('/') {
            return Err(format!("'{s}': bad journal id '{jid}'"));
        }
        let mut addrs = Vec::new();
        for h in hosts.split(';') {
            let h = h.trim();
            if h.is_empty() {
                return Err(format!("'{s}': empty JournalNode address"));
            }
            addrs.push(if h.contains(':') {
                h.to_string()
            } else {
                format!("{h}:{DEFAULT_PORT}")
            });
        }
        if addrs.len() > 15 {
            return Err(format!(
                "'{s}': {} JournalNodes is more than 15",
                addrs.len()
            ));
        }
        let mut seen = addrs.clone();
        seen.sort();
        seen.dedup();
        if seen.len() != addrs.len() {
            return Err(format!("'{s}' names a JournalNode twice"));
        }
        Ok(QjournalUri {
            addrs,
            journal_id: jid.to_string(),
        })
    }
}

impl std::fmt::Display for QjournalUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{SCHEME}{}/{}", self.addrs.join(";"), self.journal_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hadoop_uris() {
        let u = QjournalUri::parse("qjournal://a:1;b:2;c/mycluster").unwrap();
        assert_eq!(u.addrs, vec!["a:1", "b:2", "c:8485"]);
        assert_eq!(u.journal_id, "mycluster");
        assert_eq!(u.to_string(), "qjournal://a:1;b:2;c:8485/mycluster");
        for bad in [
            "file:///x",
            "qjournal://a:1",
            "qjournal://a:1;;b:2/j",
            "qjournal://a:1/",
            "qjournal://a:1;a:1/j",
        ] {
            assert!(QjournalUri::parse(bad).is_err(), "{bad}");
        }
    }
}
