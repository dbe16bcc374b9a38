//! Which journal ids a JournalNode accepts. The id names a directory under
//! `dfs.journalnode.edits.dir`, so it must be one plain path component.

use super::error::QjError;

/// Longest journal id (a file name).
pub const MAX_JOURNAL_ID_LEN: usize = 255;

/// `Ok` for ids of letters, digits, '.', '_' and '-' (not `.` or `..`), at most
/// [`MAX_JOURNAL_ID_LEN`] bytes; `QjError::IllegalArgument` naming the id otherwise.
pub fn check_journal_id(jid: &str) -> Result<(), QjError> {
    let ok = !jid.is_empty()
        && jid.len() <= MAX_JOURNAL_ID_LEN
        && jid != "."
        && jid != ".."
        && jid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(QjError::IllegalArgument(format!(
            "bad journal id '{jid}': use letters, digits, '.', '_' and '-'"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_path_components_only() {
        for good in ["mycluster", "ns-1", "a.b_c"] {
            assert!(check_journal_id(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "a b", &"x".repeat(256)] {
            assert!(check_journal_id(bad).is_err(), "{bad}");
        }
    }
}
