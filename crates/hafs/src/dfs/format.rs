//! Output formatting of `hafs dfs`, matching Hadoop 3's FsShell byte for byte
//! (pure functions; the commands feed them file statuses).

use std::fmt::Write as _;

/// Hadoop's `TraditionalBinaryPrefix.long2String(n, "", 1)`: bytes below 1024 as a
/// plain number, else one decimal place (omitted when exact) and a prefix letter:
/// `1536` → `1.5 K`, `1024` → `1 K`, `1000` → `1000`.
pub fn human_size(n: i64) -> String {
    const SYMBOLS: [char; 6] = ['K', 'M', 'G', 'T', 'P', 'E'];
    if n == i64::MIN {
        return "-8 E".to_string();
    }
    let (neg, v) = (n < 0, n.unsigned_abs());
    let sign = if neg { "-" } else { "" };
    if v < 1024 {
        return format!("{sign}{v}");
    }
    // The largest prefix not above the value: 10 bits per step.
    let mut i = 0;
    while i + 1 < SYMBOLS.len() && v >> (10 * (i + 2)) > 0 {
        i += 1;
    }
    let shift = 10 * (i as u32 + 1);
    if v & ((1u64 << shift) - 1) == 0 {
        return format!("{sign}{} {}", v >> shift, SYMBOLS[i]);
    }
    // One decimal, rounded half up (Java's Formatter), computed exactly in integers.
    let unit = 1u128 << shift;
    let mut tenths = (u128::from(v) * 10 + unit / 2) / unit;
    if tenths >= 10240 && i + 1 < SYMBOLS.len() {
        // Rounded up to "1024.0": Hadoop moves to the next prefix instead.
        i += 1;
        let unit = unit << 10;
        tenths = (u128::from(v) * 10 + unit / 2) / unit;
    }
    format!("{sign}{}.{} {}", tenths / 10, tenths % 10, SYMBOLS[i])
}

/// Size column: human-readable or plain bytes.
pub fn size(n: u64, human: bool) -> String {
    if human {
        human_size(n as i64)
    } else {
        n.to_string()
    }
}

/// `rwxr-xr-x`, with the sticky bit shown in the last place as `t` (or `T` when
/// others lack execute), as Hadoop's FsPermission prints it.
pub fn perm_string(perm: u16) -> String {
    let mut s = String::with_capacity(9);
    for shift in [6, 3, 0] {
        let bits = (perm >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    if perm & 0o1000 != 0 {
        s.pop();
        s.push(if perm & 1 != 0 { 't' } else { 'T' });
    }
    s
}

pub use hafs_util::clock::civil_from_days;

/// `yyyy-MM-dd HH:mm:ss` in UTC (`-stat %y`).
pub fn utc_seconds(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

/// `yyyy-MM-dd HH:mm` in the local time zone (`-ls`).
pub fn local_minutes(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let t: libc::time_t = secs as libc::time_t;
    // SAFETY: localtime_r only writes the tm we own; we use it only when it succeeds.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    if !ok {
        let s = utc_seconds(ms);
        return s[..16].to_string();
    }
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        tm.tm_year as i64 + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min
    )
}

/// What `-ls` shows of one path.
#[derive(Debug, Clone, PartialEq)]
pub struct LsEntry {
    pub is_dir: bool,
    pub is_file: bool,
    pub perm: u16,
    pub has_acl: bool,
    pub replication: u16,
    pub owner: String,
    pub group: String,
    pub length: u64,
    pub mtime_ms: i64,
    pub display: String,
}

/// Column widths of `-ls`. Like Hadoop's they start at replication 3 and size 10,
/// and only grow as more entries are listed (one instance per command run).
#[derive(Debug, Clone, PartialEq)]
pub struct LsWidths {
    repl: usize,
    len: usize,
    owner: usize,
    group: usize,
}

impl Default for LsWidths {
    fn default() -> Self {
        LsWidths {
            repl: 3,
            len: 10,
            owner: 0,
            group: 0,
        }
    }
}

impl LsWidths {
    /// Widens the columns for a batch about to be printed. Sizes are measured as plain
    /// numbers even with `-h`, as Hadoop does.
    pub fn adjust(&mut self, batch: &[LsEntry]) {
        for e in batch {
            self.repl = self.repl.max(e.replication.to_string().len());
            self.len = self.len.max(e.length.to_string().len());
            self.owner = self.owner.max(e.owner.chars().count());
            self.group = self.group.max(e.group.chars().count());
        }
    }

    /// One `-ls` line: `drwxr-xr-x   - alice supergroup          0 2026-11-21 10:00 /p`.
    pub fn line(&self, e: &LsEntry, human: bool, time: &str) -> String {
        let mut s = String::new();
        s.push(if e.is_dir { 'd' } else { '-' });
        s.push_str(&perm_string(e.perm));
        s.push(if e.has_acl { '+' } else { ' ' });
        let repl = if e.is_file {
            e.replication.to_string()
        } else {
            "-".to_string()
        };
        let _ = write!(s, "{repl:>w$} ", w = self.repl);
        if self.owner > 0 {
            let _ = write!(s, "{:<w$} ", e.owner, w = self.owner);
        } else {
            s.push_str(&e.owner);
        }
        if self.group > 0 {
            let _ = write!(s, "{:<w$} ", e.group, w = self.group);
        } else {
            s.push_str(&e.group);
        }
        let _ = write!(s, "{:>w$} ", size(e.length, human), w = self.len);
        let _ = write!(s, "{time} {}", e.display);
        s
    }
}

/// What `-stat` can show of one path.
#[derive(Debug, Clone, PartialEq)]
pub struct StatEntry {
    pub kind: &'static str,
    pub perm: u16,
    pub length: u64,
    pub block_size: u64,
    pub replication: u16,
    pub owner: String,
    pub group: String,
    pub name: String,
    pub mtime_ms: i64,
    pub atime_ms: i64,
}

/// Expands a `-stat` format: %a octal permission, %A symbolic permission, %b length,
/// %F type, %g group, %n name, %o block size, %r replication, %u owner, %x/%y
/// access/modification time as UTC `yyyy-MM-dd HH:mm:ss`, %X/%Y the same in
/// milliseconds. An unknown `%c` prints `c`; a trailing `%` is dropped (Hadoop's
/// behaviour).
pub fn stat_line(format: &str, e: &StatEntry) -> String {
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(f) = chars.next() else { break };
        match f {
            'a' => {
                let _ = write!(out, "{:o}", e.perm);
            }
            'A' => out.push_str(&perm_string(e.perm)),
            'b' => {
                let _ = write!(out, "{}", e.length);
            }
            'F' => out.push_str(e.kind),
            'g' => out.push_str(&e.group),
            'n' => out.push_str(&e.name),
            'o' => {
                let _ = write!(out, "{}", e.block_size);
            }
            'r' => {
                let _ = write!(out, "{}", e.replication);
            }
            'u' => out.push_str(&e.owner),
            'x' => out.push_str(&utc_seconds(e.atime_ms)),
            'X' => {
                let _ = write!(out, "{}", e.atime_ms);
            }
            'y' => out.push_str(&utc_seconds(e.mtime_ms)),
            'Y' => {
                let _ = write!(out, "{}", e.mtime_ms);
            }
            other => out.push(other),
        }
    }
    out
}

/// The numbers `-count` prints (from a ContentSummary).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CountEntry {
    pub directories: u64,
    pub files: u64,
    pub length: u64,
    /// Namespace quota; Hadoop sends -1 (as all ones) for none.
    pub quota: i64,
    pub space_consumed: u64,
    pub space_quota: i64,
}

/// `-count -v` header, without the trailing `PATHNAME`.
pub fn count_header(quota: bool) -> String {
    let mut s = String::new();
    if quota {
        let _ = write!(
            s,
            "{:>12} {:>15} {:>15} {:>15} ",
            "QUOTA", "REM_QUOTA", "SPACE_QUOTA", "REM_SPACE_QUOTA"
        );
    }
    let _ = write!(
        s,
        "{:>12} {:>12} {:>18} ",
        "DIR_COUNT", "FILE_COUNT", "CONTENT_SIZE"
    );
    s
}

/// One `-count` line without the path (Hadoop's ContentSummary.toString(q, h)).
pub fn count_line(c: &CountEntry, quota: bool, human: bool) -> String {
    let fmt = |n: i64| {
        if human {
            human_size(n)
        } else {
            n.to_string()
        }
    };
    let mut s = String::new();
    if quota {
        let (mut q, mut q_rem) = ("none".to_string(), "inf".to_string());
        let (mut sq, mut sq_rem) = ("none".to_string(), "inf".to_string());
        if c.quota > 0 {
            q = fmt(c.quota);
            q_rem = fmt(c.quota - (c.directories + c.files) as i64);
        }
        if c.space_quota >= 0 {
            sq = fmt(c.space_quota);
            sq_rem = fmt(c.space_quota - c.space_consumed as i64);
        }
        let _ = write!(s, "{q:>12} {q_rem:>15} {sq:>15} {sq_rem:>15} ");
    }
    let _ = write!(
        s,
        "{:>12} {:>12} {:>18} ",
        fmt(c.directories as i64),
        fmt(c.files as i64),
        fmt(c.length as i64)
    );
    s
}

/// Renders `-du` rows as Hadoop's TableBuilder does: columns left-aligned to their
/// widest cell, two spaces apart, the last column unpadded.
pub fn table(rows: &[Vec<String>]) -> Vec<String> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    rows.iter()
        .map(|r| {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                if i + 1 == cols {
                    line.push_str(c);
                } else {
                    let _ = write!(line, "{c:<w$}", w = widths[i]);
                }
            }
            line
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes_match_hadoop() {
        assert_eq!(human_size(0), "0");
        assert_eq!(human_size(1023), "1023");
        assert_eq!(human_size(1024), "1 K");
        assert_eq!(human_size(1536), "1.5 K");
        assert_eq!(human_size(1280), "1.3 K"); // 1.25 rounds half up, as Java does
        assert_eq!(human_size(128 << 20), "128 M");
        assert_eq!(human_size((1 << 30) + (1 << 29)), "1.5 G");
        assert_eq!(human_size(1024 * 1024 - 1), "1.0 M"); // "1024.0 K" moves to the next prefix
        assert_eq!(human_size(-2048), "-2 K");
    }

    #[test]
    fn permission_strings() {
        assert_eq!(perm_string(0o755), "rwxr-xr-x");
        assert_eq!(perm_string(0o644), "rw-r--r--");
        assert_eq!(perm_string(0o1777), "rwxrwxrwt");
        assert_eq!(perm_string(0o1776), "rwxrwxrwT");
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc_seconds(0), "1970-01-01 00:00:00");
        assert_eq!(utc_seconds(1_795_258_800_000), "2026-11-21 11:00:00");
        assert_eq!(utc_seconds(951_782_400_000), "2000-02-29 00:00:00");
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    fn entry(is_dir: bool, repl: u16, owner: &str, len: u64, path: &str) -> LsEntry {
        LsEntry {
            is_dir,
            is_file: !is_dir,
            perm: if is_dir { 0o755 } else { 0o644 },
            has_acl: false,
            replication: repl,
            owner: owner.into(),
            group: "supergroup".into(),
            length: len,
            mtime_ms: 0,
            display: path.into(),
        }
    }

    #[test]
    fn ls_lines_use_hadoop_columns() {
        let batch = vec![
            entry(true, 0, "alice", 0, "/d"),
            entry(false, 3, "bob", 1536, "/f"),
        ];
        let mut w = LsWidths::default();
        w.adjust(&batch);
        let t = "2026-11-21 10:00";
        assert_eq!(
            w.line(&batch[0], false, t),
            "drwxr-xr-x   - alice supergroup          0 2026-11-21 10:00 /d"
        );
        assert_eq!(
            w.line(&batch[1], false, t),
            "-rw-r--r--   3 bob   supergroup       1536 2026-11-21 10:00 /f"
        );
        assert_eq!(
            w.line(&batch[1], true, t),
            "-rw-r--r--   3 bob   supergroup      1.5 K 2026-11-21 10:00 /f"
        );
        // Widths only grow: a later batch with a longer size widens the column.
        w.adjust(&[entry(false, 3, "bob", 12_345_678_901, "/big")]);
        assert!(w
            .line(&batch[1], false, t)
            .contains("supergroup        1536 "));
    }

    #[test]
    fn stat_formats() {
        let e = StatEntry {
            kind: "regular file",
            perm: 0o644,
            length: 42,
            block_size: 134_217_728,
            replication: 3,
            owner: "alice".into(),
            group: "sg".into(),
            name: "f.txt".into(),
            mtime_ms: 1_795_258_800_123,
            atime_ms: 0,
        };
        assert_eq!(stat_line("%y", &e), "2026-11-21 11:00:00");
        assert_eq!(
            stat_line("%F %a %A %b %o %r %u:%g %n %Y %X %x", &e),
            "regular file 644 rw-r--r-- 42 134217728 3 alice:sg f.txt 1795258800123 0 1970-01-01 00:00:00"
        );
        assert_eq!(stat_line("%q 100%", &e), "q 100");
    }

    #[test]
    fn count_lines_and_headers() {
        let c = CountEntry {
            directories: 2,
            files: 3,
            length: 1536,
            quota: -1,
            space_consumed: 4608,
            space_quota: -1,
        };
        assert_eq!(
            count_header(false),
            "   DIR_COUNT   FILE_COUNT       CONTENT_SIZE "
        );
        assert_eq!(
            count_header(true),
            "       QUOTA       REM_QUOTA     SPACE_QUOTA REM_SPACE_QUOTA    DIR_COUNT   FILE_COUNT       CONTENT_SIZE "
        );
        assert_eq!(
            count_line(&c, false, false),
            "           2            3               1536 "
        );
        assert_eq!(
            count_line(&c, false, true),
            "           2            3              1.5 K "
        );
        assert_eq!(
            count_line(&c, true, false),
            "        none             inf            none             inf            2            3               1536 "
        );
        let q = CountEntry {
            quota: 10,
            space_quota: 10_000,
            ..c
        };
        assert_eq!(
            count_line(&q, true, false),
            "          10               5           10000            5392            2            3               1536 "
        );
    }

    #[test]
    fn du_table_aligns_left_with_two_spaces() {
        let rows = vec![
            vec!["1536".to_string(), "4608".to_string(), "/a/f".to_string()],
            vec!["0".to_string(), "0".to_string(), "/a/d".to_string()],
        ];
        assert_eq!(table(&rows), vec!["1536  4608  /a/f", "0     0     /a/d"]);
    }
}
