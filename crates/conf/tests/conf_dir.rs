//! Loading real files: conf dirs, `-conf` resources, and the write → load round trip.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use hafs_conf::{keys, write_site_xml, ConfError, Configuration};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("hafs-conf-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn write_then_load_round_trips_tricky_values() {
    let dir = TempDir::new("roundtrip");
    let props = [
        (keys::FS_DEFAULT_FS, "hdfs://mycluster"),
        (keys::DFS_NAMESERVICES, "mycluster"),
        ("dfs.ha.namenodes.mycluster", "nn1,nn2"),
        ("dfs.namenode.rpc-address.mycluster.nn1", "127.0.0.1:18020"),
        ("dfs.namenode.rpc-address.mycluster.nn2", "127.0.0.1:18021"),
        (keys::DFS_HA_FENCING_METHODS, "shell(/bin/true)\nsshfence"),
        ("odd.value", " <a href=\"x\">&amp;'</a> "),
        ("uses.var", "${hadoop.tmp.dir}/x"),
    ];
    write_site_xml(&dir.path().join("hdfs-site.xml"), &props).unwrap();

    let conf = Configuration::load(Some(dir.path())).unwrap();
    for (k, v) in &props {
        assert_eq!(conf.get_raw(k), Some(*v), "{k}");
    }
    assert_eq!(
        conf.client_namenode_addresses("mycluster").unwrap(),
        ["127.0.0.1:18020", "127.0.0.1:18021"]
    );
    conf.validate().unwrap();
    // Only the target file is left behind: the temporary one was renamed.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["hdfs-site.xml"]);
}

#[test]
fn rewriting_replaces_the_whole_file() {
    let dir = TempDir::new("rewrite");
    let path = dir.path().join("core-site.xml");
    write_site_xml(&path, &[("a", "1"), ("b", "2")]).unwrap();
    write_site_xml(&path, &[("a", "3")]).unwrap();
    let conf = Configuration::load(Some(dir.path())).unwrap();
    assert_eq!(conf.get("a").as_deref(), Some("3"));
    assert_eq!(conf.get("b"), None);
}

#[test]
fn missing_site_files_mean_defaults() {
    let dir = TempDir::new("empty");
    let conf = Configuration::load(Some(dir.path())).unwrap();
    assert!(conf.resources().is_empty());
    assert_eq!(conf.get("fs.defaultFS").as_deref(), Some("file:///"));
    assert_eq!(
        conf.get_size_bytes(keys::DFS_BLOCKSIZE, 0).unwrap(),
        keys::DFS_BLOCKSIZE_DEFAULT
    );
}

#[test]
fn missing_explicit_conf_dir_is_an_error() {
    let dir = TempDir::new("gone");
    let missing = dir.path().join("nope");
    let err = Configuration::load(Some(&missing)).unwrap_err();
    assert!(matches!(err, ConfError::Io { .. }));
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn core_then_hdfs_then_conf_file_with_final() {
    let dir = TempDir::new("order");
    write_site_xml(
        &dir.path().join("core-site.xml"),
        &[("a", "core"), ("b", "core"), ("c", "core")],
    )
    .unwrap();
    std::fs::write(
        dir.path().join("hdfs-site.xml"),
        "<configuration>\
           <property><name>b</name><value>hdfs</value><final>true</final></property>\
           <property><name>c</name><value>hdfs</value></property>\
         </configuration>",
    )
    .unwrap();
    let extra = dir.path().join("extra.xml");
    write_site_xml(&extra, &[("b", "extra"), ("c", "extra")]).unwrap();

    let mut conf = Configuration::load(Some(dir.path())).unwrap();
    conf.add_resource(&extra).unwrap();
    assert_eq!(conf.get("a").as_deref(), Some("core"));
    assert_eq!(
        conf.get("b").as_deref(),
        Some("hdfs"),
        "final in hdfs-site.xml"
    );
    assert_eq!(conf.get("c").as_deref(), Some("extra"));
    assert!(conf.source("b").unwrap().ends_with("hdfs-site.xml"));
    conf.set_definition("b=cli").unwrap();
    assert_eq!(conf.get("b").as_deref(), Some("cli"), "-D beats final");
}

#[test]
fn malformed_site_file_error_names_file_and_line() {
    let dir = TempDir::new("malformed");
    std::fs::write(
        dir.path().join("hdfs-site.xml"),
        "<configuration>\n<property>\n<name>a</name>\n<value>1</value>\n</propert>\n</configuration>\n",
    )
    .unwrap();
    let err = Configuration::load(Some(dir.path())).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("hdfs-site.xml"), "{text}");
    assert!(text.contains("line 5"), "{text}");
    assert!(matches!(err, ConfError::Xml { line: 5, .. }));
}

#[test]
fn non_utf8_site_file_is_an_error_with_position() {
    let dir = TempDir::new("utf8");
    std::fs::write(
        dir.path().join("core-site.xml"),
        b"<configuration>\n<property><name>\xff</name></property></configuration>".as_slice(),
    )
    .unwrap();
    let err = Configuration::load(Some(dir.path())).unwrap_err();
    assert!(
        matches!(
            err,
            ConfError::Xml {
                line: 2,
                column: 17,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn missing_conf_file_resource_is_an_error() {
    let dir = TempDir::new("noconf");
    let mut conf = Configuration::new();
    let err = conf
        .add_resource(&dir.path().join("absent.xml"))
        .unwrap_err();
    assert!(err.to_string().contains("absent.xml"), "{err}");
}
