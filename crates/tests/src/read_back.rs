//! Reading a scenario's files back with two clients no one here wrote: one Java
//! `hadoop fs -get` of the whole tree, and hdfs-native reading each file; both must
//! give exactly the bytes written. Shared by the scale-out scenarios on hafs and their
//! control on the real HDFS, so that "reads never fail" means the same on both.

use std::collections::BTreeMap;
use std::path::Path;

use crate::tools::{java_fs, python, ConfTarget};

/// Reads every file of `expected` (absolute paths under `root`) with Java (one `-get`
/// of `root` into `local`) and hdfs-native; panics naming `when` and the file on any
/// difference or failure.
pub fn read_back_with_java_and_hdfs_native(
    target: &impl ConfTarget,
    local: &Path,
    root: &str,
    expected: &BTreeMap<String, Vec<u8>>,
    when: &str,
) {
    let got = local.join(format!("got-{}", when.replace(' ', "-")));
    java_fs(target, &["-get", root, &got.display().to_string()]).ok();
    let mut check = String::from(
        "import os, sys\nfrom hdfs_native import Client\nc = Client(os.environ['HAFS_FS_URI'])\nbad = []\n",
    );
    for (path, data) in expected {
        let rel = path.trim_start_matches(root).trim_start_matches('/');
        let read = std::fs::read(got.join(rel)).unwrap_or_else(|e| panic!("{when}: {rel}: {e}"));
        assert!(
            read == *data,
            "{when}: Java read {path}: {} bytes differ from the {} written",
            read.len(),
            data.len()
        );
        let copy = local.join(format!("expected-{}", rel.replace('/', "-")));
        std::fs::write(&copy, data).unwrap();
        check.push_str(&format!(
            "with c.read('{path}') as r:\n    d = r.read()\nif d != open('{}', 'rb').read():\n    bad.append('{path}')\n",
            copy.display()
        ));
    }
    check.push_str(
        "if bad:\n    sys.exit('hdfs-native read different bytes: ' + ', '.join(bad))\nprint('native ok')\n",
    );
    let out = python(target, &check).ok();
    assert!(out.stdout.contains("native ok"), "{when}: {}", out.stdout);
}
