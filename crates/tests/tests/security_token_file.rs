//! Token storage files (`HADOOP_TOKEN_FILE_LOCATION`) between hafs and Hadoop's own
//! classes: Java's `Credentials.readTokenStorageFile` reads the files hafs-security writes
//! (format 0 Writable and 1 protobuf) and decodes the identifier with Hadoop's
//! `DelegationTokenIdentifier`; hafs reads the files Java writes in both formats; URL
//! strings agree both ways.
//!
//! The Java side is crates/tests/java/HafsTokenFile.java, compiled here against the
//! Hadoop client jars ($HAFS_JARS) and cached under $HAFS_CACHE by the source's hash.

use std::path::{Path, PathBuf};
use std::process::Command;

use hafs_security::token::storage::{Credentials, Format};
use hafs_security::token::{create_password, DelegationTokenIdentifier, Token};
use hafs_tests::{hafs_cache, jars_dir, run_with_timeout, workspace_root, DEFAULT_CMD_TIMEOUT};

/// The directory holding HafsTokenFile.class (compiled once per source text).
fn compiled_helper() -> PathBuf {
    hafs_tests::compiled_java_class("HafsTokenFile")
}

fn java(args: &[&str]) -> String {
    let classes = compiled_helper();
    let home = hafs_cache().join("hadoop-home");
    std::fs::create_dir_all(&home).unwrap();
    let log4j = workspace_root().join("scripts/hadoop-fs-log4j2.properties");
    let mut cmd = Command::new("java");
    cmd.args(["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"])
        .arg(format!("-Dhadoop.home.dir={}", home.display()))
        .arg(format!("-Dlog4j2.configurationFile={}", log4j.display()))
        .arg("-cp")
        .arg(format!("{}:{}/*", classes.display(), jars_dir().display()))
        .arg("HafsTokenFile")
        .args(args);
    let res = run_with_timeout(cmd, DEFAULT_CMD_TIMEOUT);
    assert!(res.success(), "HafsTokenFile {args:?}:\n{res}");
    res.stdout.clone()
}

fn sample(seq: i32, service: &str) -> (DelegationTokenIdentifier, Token) {
    let id = DelegationTokenIdentifier {
        owner: "alice@HAFS.TEST".into(),
        renewer: "yarn".into(),
        real_user: if seq % 2 == 0 {
            "oozie@HAFS.TEST".into()
        } else {
            String::new()
        },
        issue_date: 1_765_000_000_123 + seq as i64,
        max_date: 1_765_604_800_123 + seq as i64,
        sequence_number: seq,
        master_key_id: 1000 + seq,
    };
    let password = create_password(&id.encode(), b"master key bytes");
    (id.clone(), Token::delegation(&id, password, service))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn expected_line(alias: &str, id: &DelegationTokenIdentifier, t: &Token) -> String {
    format!(
        "TOKEN {alias}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
        t.kind,
        t.service,
        id.owner,
        id.renewer,
        id.real_user,
        id.issue_date,
        id.max_date,
        id.sequence_number,
        id.master_key_id,
        hex(&t.password),
        t.encode_to_url_string()
    )
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hafs-tokenfile-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn lines_sorted(out: &str) -> Vec<String> {
    let mut v: Vec<String> = out
        .lines()
        .filter(|l| l.starts_with("TOKEN "))
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

#[test]
fn java_reads_the_token_files_hafs_writes_in_both_formats() {
    let mut creds = Credentials::default();
    let (id1, t1) = sample(1, "ha-hdfs:ns1");
    let (id2, t2) = sample(2, "127.0.0.1:8020");
    creds.add_token(t1.clone());
    creds.add_token(t2.clone());
    for format in [Format::Writable, Format::Protobuf] {
        let path = tmp(&format!("hafs-{format:?}"));
        std::fs::write(&path, creds.write_storage_file(format)).unwrap();
        let out = java(&["read", path.to_str().unwrap()]);
        let mut want = vec![
            expected_line("ha-hdfs:ns1", &id1, &t1),
            expected_line("127.0.0.1:8020", &id2, &t2),
        ];
        want.sort();
        assert_eq!(lines_sorted(&out), want, "{format:?}:\n{out}");
        assert!(out.contains("SECRETS 0"), "{out}");
    }
}

#[test]
fn hafs_reads_the_token_files_java_writes_in_both_formats() {
    let (_, t) = sample(3, "ha-hdfs:ns1");
    for format in ["WRITABLE", "PROTOBUF"] {
        let path = tmp(&format!("java-{format}"));
        let _ = std::fs::remove_file(&path);
        let out = java(&[
            "write",
            path.to_str().unwrap(),
            format,
            &t.encode_to_url_string(),
        ]);
        assert!(out.contains("WROTE"), "{out}");
        let creds = Credentials::read_storage_file(&std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{format}: {e}"));
        assert_eq!(
            creds.tokens,
            vec![("ha-hdfs:ns1".to_string(), t.clone())],
            "{format}"
        );
        assert_eq!(
            creds.tokens[0].1.delegation_identifier().unwrap(),
            sample(3, "").0
        );
        remove(&path);
    }
}

fn remove(p: &Path) {
    let _ = std::fs::remove_file(p);
}

/// The identifier's string, which every secret-manager message embeds, is Hadoop's.
#[test]
fn identifier_strings_are_hadoops() {
    let mut creds = Credentials::default();
    let (id, t) = sample(5, "ha-hdfs:ns1");
    creds.add_token(t);
    let path = tmp("string");
    std::fs::write(&path, creds.write_storage_file(Format::Writable)).unwrap();
    let out = java(&["read", path.to_str().unwrap()]);
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("STRING "))
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(line, id.to_string());
    remove(&path);
}
