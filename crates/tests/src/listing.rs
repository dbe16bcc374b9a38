//! Parsing what `fs -ls`, `-count` and `-du` print (Java's FsShell formats, which
//! `hafs dfs` must match), so tests can compare fields rather than padding.

/// One line of `-ls` output:
/// `drwxr-xr-x   - alice supergroup          0 2024-05-01 12:00 /a/b`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LsEntry {
    /// `drwxr-xr-x`, `-rw-r--r--`, with a trailing `+` when an ACL is set.
    pub permissions: String,
    /// Replication for files, `-` for directories.
    pub replication: String,
    pub owner: String,
    pub group: String,
    pub size: u64,
    pub date: String,
    pub time: String,
    pub path: String,
}

impl LsEntry {
    pub fn is_dir(&self) -> bool {
        self.permissions.starts_with('d')
    }

    /// Everything except the modification date and time.
    pub fn without_times(&self) -> (String, String, String, String, u64, String) {
        (
            self.permissions.clone(),
            self.replication.clone(),
            self.owner.clone(),
            self.group.clone(),
            self.size,
            self.path.clone(),
        )
    }
}

/// Parses one `-ls` line; `None` for anything else (e.g. `Found 2 items`).
pub fn parse_ls_line(line: &str) -> Option<LsEntry> {
    let mut rest = line.trim_end();
    let mut fields = Vec::with_capacity(7);
    for _ in 0..7 {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace)?;
        fields.push(&rest[..end]);
        rest = &rest[end..];
    }
    // The path is the remainder after one separating space: it may contain spaces.
    let path = rest.strip_prefix(' ')?;
    let perms = fields[0];
    if perms.len() < 10 || !"d-l".contains(&perms[..1]) {
        return None;
    }
    Some(LsEntry {
        permissions: perms.to_string(),
        replication: fields[1].to_string(),
        owner: fields[2].to_string(),
        group: fields[3].to_string(),
        size: fields[4].parse().ok()?,
        date: fields[5].to_string(),
        time: fields[6].to_string(),
        path: path.to_string(),
    })
}

/// All entries of an `-ls` output, ignoring `Found N items` headers.
pub fn parse_ls(stdout: &str) -> Vec<LsEntry> {
    stdout.lines().filter_map(parse_ls_line).collect()
}

/// Whitespace-separated fields of each non-empty line (for `-count`, `-du`).
pub fn fields(stdout: &str) -> Vec<Vec<String>> {
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_directory_and_file_lines() {
        let out = "Found 2 items\n\
                   drwxr-xr-x   - alice supergroup          0 2024-05-01 12:00 /a/b\n\
                   -rw-r--r--   1 bob   eng              42 2024-05-02 01:02 /a/with space\n";
        let entries = parse_ls(out);
        assert_eq!(entries.len(), 2);
        assert!(entries[0].is_dir());
        assert_eq!(entries[0].replication, "-");
        assert_eq!(entries[0].owner, "alice");
        assert_eq!(entries[0].group, "supergroup");
        assert_eq!(entries[0].path, "/a/b");
        assert!(!entries[1].is_dir());
        assert_eq!(entries[1].size, 42);
        assert_eq!(entries[1].time, "01:02");
        assert_eq!(entries[1].path, "/a/with space");
        assert_eq!(parse_ls_line("Found 2 items"), None);
    }
}
