//! The key table in `src/keys.rs` is complete and documented.
//!
//! * No non-test source file of the workspace holds a string literal naming a
//!   configuration key that the table lacks, so no key is read (or written into a site
//!   file) without [`Configuration::validate`](hafs_conf::Configuration::validate)
//!   knowing its syntax. Code that builds a suffixed key with `format!("dfs.x.{ns}")`
//!   counts as naming `dfs.x`, which must then be a per-nameservice key.
//! * docs/configuration.md carries the reference table generated from the key table,
//!   and every key it mentions elsewhere is in the table.
//!
//! To refresh the generated part of the doc after changing the table:
//! `HAFS_BLESS=1 cargo test -p hafs-conf --test registry`.

use std::path::{Path, PathBuf};

use hafs_conf::keys::{canonical_key, spec_for, KeySpec, ValueKind, DEPRECATED_KEYS, KEY_SPECS};
use hafs_conf::TimeUnit;

/// How the string literals that name configuration keys begin (Hadoop's namespaces
/// plus hafs's own).
const KEY_PREFIXES: &[&str] = &[
    "dfs.",
    "hadoop.",
    "hafs.",
    "ha.",
    "fs.",
    "ipc.",
    "io.",
    "internal.",
];

/// Literals that look like keys but are not keys hafs reads, each with the reason.
const NOT_KEYS: &[(&str, &str)] = &[
    (
        "io.bytes.per.checksum",
        "quoted inside Hadoop's own checksum-mismatch message, which the client repeats \
         word for word (the key is dfs.bytes-per-checksum)",
    ),
    (
        "hadoop.security.service.user.name.key",
        "written into the secure sandbox's conf for Java's HAAdmin; hafs does not read it",
    ),
    (
        "hadoop.proxyuser",
        "the prefix of the per-user family hadoop.proxyuser.<user>.{users,groups,hosts}; \
         proxy_users.rs reads every key under it",
    ),
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file under `dir`, skipping test-only directories.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if path.is_dir() {
            if name != "tests" && name != "benches" && name != "target" {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") && name != "tests.rs" {
            out.push(path);
        }
    }
}

/// The workspace's non-test source files: each crate's `src/`, except the process-test
/// crate `crates/tests`, which is test code throughout.
fn non_test_sources() -> Vec<PathBuf> {
    let crates = workspace_root().join("crates");
    let mut files = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&crates)
        .expect("crates/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n != "tests"))
        .collect();
    dirs.sort();
    for dir in dirs {
        rust_files(&dir.join("src"), &mut files);
    }
    assert!(files.len() > 50, "found only {} source files", files.len());
    files
}

/// The lines of `text` outside `#[cfg(test)]` items and comments. rustfmt closes an
/// item at the indentation it opened at, which is how the end of a test module is found.
fn code_lines(text: &str) -> Vec<(usize, &str)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            let indent = &line[..line.len() - trimmed.len()];
            // Skip the attribute and the item after it.
            i += 1;
            let item_is_block = lines.get(i).is_some_and(|l| l.trim_end().ends_with('{'));
            if item_is_block {
                let close = format!("{indent}}}");
                while i < lines.len() && lines[i].trim_end() != close {
                    i += 1;
                }
            }
            i += 1;
            continue;
        }
        if !trimmed.starts_with("//") {
            out.push((i + 1, line));
        }
        i += 1;
    }
    out
}

/// The `Configuration` getters. Code outside hafs-conf passes them a `keys::` constant,
/// never a literal, so each key's spelling lives in the table alone.
const READERS: &[&str] = &[
    ".get(",
    ".try_get(",
    ".get_trimmed(",
    ".get_or(",
    ".get_trimmed_strings(",
    ".get_u32(",
    ".get_u64(",
    ".get_i64(",
    ".get_bool(",
    ".get_f64(",
    ".get_time_duration(",
    ".get_size_bytes(",
    ".source(",
];

/// A key-like literal found in code: the name, whether a suffix follows it in a
/// `format!` string (`"dfs.ha.namenodes.{ns}"`), and whether it is passed straight to
/// a getter.
#[derive(Debug)]
struct Found {
    name: String,
    suffixed: bool,
    read: bool,
}

/// The key-like literals on one line: text right after a `"` that starts with a key
/// prefix, up to the first character a key cannot hold.
fn key_literals(line: &str) -> Vec<Found> {
    let is_key_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    let mut found = Vec::new();
    for (at, _) in line.match_indices('"') {
        let rest = &line[at + 1..];
        if !KEY_PREFIXES.iter().any(|p| rest.starts_with(p)) {
            continue;
        }
        let end = rest.find(|c| !is_key_char(c)).unwrap_or(rest.len());
        let run = &rest[..end];
        let suffixed = run.ends_with('.') && rest[end..].starts_with('{');
        let read = READERS.iter().any(|r| line[..at].ends_with(r));
        found.push(Found {
            name: run.trim_end_matches('.').to_string(),
            suffixed,
            read,
        });
    }
    found
}

fn registered(found: &Found) -> bool {
    if NOT_KEYS.iter().any(|(name, _)| *name == found.name) {
        return true;
    }
    if found.suffixed {
        return KEY_SPECS
            .iter()
            .any(|s| s.name == found.name && s.per_nameservice);
    }
    // Deprecated names, and the current names Hadoop maps them to (hafs keeps
    // Hadoop's whole mapping, including keys it does not read).
    spec_for(&found.name).is_some()
        || canonical_key(&found.name) != found.name
        || DEPRECATED_KEYS.iter().any(|(_, new)| *new == found.name)
}

#[test]
fn every_key_named_in_code_is_in_the_table() {
    let root = workspace_root();
    let mut missing = Vec::new();
    let mut literal_reads = Vec::new();
    let mut seen = 0;
    for path in non_test_sources() {
        let text = std::fs::read_to_string(&path).unwrap();
        for (line_no, line) in code_lines(&text) {
            let in_conf = path.starts_with(root.join("crates/conf"));
            for found in key_literals(line) {
                seen += 1;
                if found.read && !in_conf {
                    let shown = path.strip_prefix(&root).unwrap_or(&path).display();
                    literal_reads.push(format!("{shown}:{line_no}: {}", found.name));
                }
                if !registered(&found) {
                    let shown = path.strip_prefix(&root).unwrap_or(&path).display();
                    let what = if found.suffixed {
                        "is built with a suffix but is not a per-nameservice key"
                    } else {
                        "is not in the table"
                    };
                    missing.push(format!("{shown}:{line_no}: {} {what}", found.name));
                }
            }
        }
    }
    assert!(
        seen > 100,
        "found only {seen} key literals; is the scan broken?"
    );
    assert!(
        missing.is_empty(),
        "configuration keys named in code but missing from crates/conf/src/keys.rs \
         (add a row to the keys! table, or to NOT_KEYS here if it is not a key):\n{}",
        missing.join("\n")
    );
    assert!(
        literal_reads.is_empty(),
        "keys read with a literal instead of their hafs_conf::keys constant:\n{}",
        literal_reads.join("\n")
    );
}

#[test]
fn the_scan_finds_keys_and_skips_test_code() {
    let text = r#"
fn f(conf: &Configuration) {
    conf.get_u64("dfs.some.key", 1);
    conf.set("dfs.some.key", "2");
    let k = format!("dfs.ha.namenodes.{ns}");
    // conf.get("dfs.in.a.comment")
}

#[cfg(test)]
mod tests {
    fn g() {
        conf.set("dfs.only.in.tests", "1");
    }
}

fn h() -> &'static str {
    "hafs.after.tests is empty"
}
"#;
    let names: Vec<_> = code_lines(text)
        .into_iter()
        .flat_map(|(_, l)| key_literals(l))
        .map(|f| (f.name, f.suffixed, f.read))
        .collect();
    assert_eq!(
        names,
        [
            ("dfs.some.key".to_string(), false, true),
            ("dfs.some.key".to_string(), false, false),
            ("dfs.ha.namenodes".to_string(), true, false),
            ("hafs.after.tests".to_string(), false, false),
        ]
    );
    let found = |name: &str, suffixed| Found {
        name: name.to_string(),
        suffixed,
        read: false,
    };
    assert!(registered(&found("dfs.ha.namenodes", true)));
    assert!(!registered(&found("dfs.replication", true)));
    assert!(registered(&found("fs.default.name", false)));
}

// ---------------------------------------------------------------------------------
// docs/configuration.md
// ---------------------------------------------------------------------------------

const BEGIN: &str = "<!-- BEGIN KEY TABLE: generated from crates/conf/src/keys.rs; \
                     HAFS_BLESS=1 cargo test -p hafs-conf --test registry rewrites it -->";
const END: &str = "<!-- END KEY TABLE -->";

fn describe(kind: &ValueKind) -> String {
    let unit = |u: &TimeUnit| u.suffix();
    match kind {
        ValueKind::Text => "text".into(),
        ValueKind::Int { min, max } => match (*min, *max) {
            (0, max) if max >= i32::MAX as i64 => "integer ≥ 0".into(),
            (1, max) if max >= i32::MAX as i64 => "integer ≥ 1".into(),
            (min, max) if min <= i32::MIN as i64 && max >= i32::MAX as i64 => "integer".into(),
            (min, max) => format!("integer {min}..{max}"),
        },
        ValueKind::Bool => "boolean".into(),
        ValueKind::Float => "number".into(),
        ValueKind::Duration(u) => format!("duration (bare number: {})", unit(u)),
        ValueKind::Size => "size (`128m` style)".into(),
        ValueKind::Umask => "umask".into(),
        ValueKind::Address => "host:port".into(),
        ValueKind::Uri => "URI".into(),
        ValueKind::List => "comma-separated list".into(),
        ValueKind::Choice(words) => format!("one of {}", words.join(", ")),
    }
}

fn table_row(spec: &KeySpec) -> String {
    let name = if spec.per_nameservice {
        format!("`{}[.<ns>[.<nn>]]`", spec.name)
    } else {
        format!("`{}`", spec.name)
    };
    let default = match spec.default {
        Some("") => "(empty)".to_string(),
        Some(d) => format!("`{d}`"),
        None => "—".to_string(),
    };
    let meaning = spec
        .doc
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|");
    format!(
        "| {name} | {default} | {} | {meaning} |",
        describe(&spec.kind)
    )
}

fn generated_table() -> String {
    let mut out = vec![
        BEGIN.to_string(),
        String::new(),
        "| key | default | value | meaning |".to_string(),
        "|---|---|---|---|".to_string(),
    ];
    out.extend(KEY_SPECS.iter().map(table_row));
    out.push(String::new());
    out.push(END.to_string());
    out.join("\n")
}

#[test]
fn docs_carry_the_generated_key_table() {
    let path = workspace_root().join("docs/configuration.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (Some(begin), Some(end)) = (doc.find(BEGIN), doc.find(END)) else {
        panic!("docs/configuration.md lacks the {BEGIN} ... {END} section");
    };
    let current = &doc[begin..end + END.len()];
    let wanted = generated_table();
    if current != wanted {
        if std::env::var_os("HAFS_BLESS").is_some() {
            let updated = format!("{}{wanted}{}", &doc[..begin], &doc[end + END.len()..]);
            std::fs::write(&path, updated).unwrap();
        } else {
            panic!(
                "docs/configuration.md's key table is out of date; run \
                 HAFS_BLESS=1 cargo test -p hafs-conf --test registry"
            );
        }
    }
}

/// Names in docs/ that look like keys but are not keys hafs reads, each with the reason.
const DOC_NOT_KEYS: &[(&str, &str)] = &[
    (
        "hadoop.rpc.socket.factory.class.default",
        "reference-hdfs.md: set on the reference cluster's Apache DataNodes, not read by hafs",
    ),
    (
        "hadoop.proxyuser.*",
        "security.md: the family hadoop.proxyuser.<user>.{users,groups,hosts}, one per real user",
    ),
    (
        "hadoop.security.service.user.name.key",
        "security.md: a key of Java's HAAdmin, not read by hafs",
    ),
    (
        "dfs.encrypt.data.transfer",
        "security.md: Hadoop's older switch for encrypted data transfer (data encryption keys), not supported yet",
    ),
    (
        "dfs.encrypt.data.transfer.algorithm",
        "security.md: the SASL cipher of dfs.encrypt.data.transfer, not supported yet",
    ),
    (
        "dfs.namenode.rpc-bind-host",
        "deploy.md: listed among the Hadoop keys hafs does not support",
    ),
    (
        "hafs.qjournal.batches-in-flight",
        "quorum-journal.md: the knob of a pipelining experiment that was not merged",
    ),
    (
        "dfs.client.block.write.locateFollowingBlock.initial.delay.ms",
        "benchmarks.md: a setting of the Java client in a comparison",
    ),
    (
        "dfs.datanode.sync.behind.writes",
        "benchmarks.md: a Hadoop DataNode setting in a comparison",
    ),
    (
        "dfs.namenode.datanode.registration.ip-hostname-check",
        "reference-hdfs.md: set for the Apache NameNodes of the reference cluster only",
    ),
    (
        "dfs.datanode.synconclose",
        "benchmarks.md: a Hadoop DataNode setting of the reference cluster in a comparison (hafs's DataNodes always sync on finalize)",
    ),
    (
        "dfs.client.read.shortcircuit",
        "benchmarks.md: a Hadoop feature hafs does not have",
    ),
    (
        "hafs.base",
        "benchmarks.md: the file name of an older binary",
    ),
    ("io.RawIOBase", "benchmarks.md: a Python class"),
    ("hadoop.common", "architecture.md: a protobuf package"),
    ("hadoop.hdfs", "architecture.md: a protobuf package"),
    (
        "hadoop.hdfs.datanode",
        "architecture.md: a protobuf package",
    ),
    (
        "hadoop.hdfs.qjournal",
        "architecture.md: a protobuf package",
    ),
];

/// The operator docs name only keys of the table (in `backticks`), so none documents a
/// key hafs does not read.
#[test]
fn every_key_the_docs_mention_is_in_the_table() {
    let mut docs: Vec<_> = std::fs::read_dir(workspace_root().join("docs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    assert!(docs.iter().any(|p| p.ends_with("configuration.md")));
    let mut unknown = Vec::new();
    for path in docs {
        let doc = std::fs::read_to_string(&path).unwrap();
        for line in doc.lines() {
            for (at, _) in line.match_indices('`') {
                let rest = &line[at + 1..];
                if !KEY_PREFIXES.iter().any(|p| rest.starts_with(p)) {
                    continue;
                }
                let end = rest
                    .find(['`', ' ', '[', '=', '{', ',', ')'])
                    .unwrap_or(rest.len());
                let name = &rest[..end];
                // `dfs.x.{a,b}` names a family of keys: its prefix must begin some key.
                let known = spec_for(name).is_some()
                    || DEPRECATED_KEYS.iter().any(|(old, _)| *old == name)
                    || (name.ends_with('.') && KEY_SPECS.iter().any(|s| s.name.starts_with(name)))
                    || DOC_NOT_KEYS.iter().any(|(n, _)| *n == name);
                if !known {
                    let file = path.file_name().unwrap().to_string_lossy();
                    unknown.push(format!("{file}: {name}"));
                }
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "docs/ mention keys missing from crates/conf/src/keys.rs (add them to the table, \
         or to DOC_NOT_KEYS with the reason): {unknown:#?}"
    );
}
