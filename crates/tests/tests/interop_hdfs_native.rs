//! Interop with the hdfs-native client (Rust core, Python API): namespace operations
//! asserted inside Python, and their effects checked again from Rust through
//! `hafs dfs` and the Java shell.

use hafs_tests::{current_user, hafs_dfs, java_fs, python, MiniCluster};

const PRELUDE: &str = "\
import os, sys
from hdfs_native import Client, WriteOptions
c = Client(os.environ['HAFS_FS_URI'])

def exists(path):
    try:
        c.get_file_info(path)
        return True
    except FileNotFoundError:
        return False

def expect_error(what, fn, *names):
    try:
        fn()
    except Exception as e:
        text = type(e).__name__ + ': ' + str(e)
        if names and not any(n in text for n in names):
            sys.exit(f'{what}: expected one of {names}, got {text}')
        return text
    sys.exit(f'{what}: succeeded but should have failed')
";

fn start(label: &str) -> MiniCluster {
    MiniCluster::builder().label(label).start()
}

fn run(cluster: &MiniCluster, body: &str) -> Vec<String> {
    let out = python(cluster, &format!("{PRELUDE}\n{body}")).ok();
    out.stdout_lines().into_iter().map(str::to_string).collect()
}

#[test]
fn mkdirs_list_status_and_get_file_info() {
    let cluster = start("py-mkdirs");
    let user = current_user();
    let lines = run(
        &cluster,
        r#"
c.mkdirs('/py/a/b', 0o755, True)
c.mkdirs('/py/c', 0o700)
print('list', ' '.join(sorted(s.path for s in c.list_status('/py'))))
print('recursive', ' '.join(sorted(s.path for s in c.list_status('/py', True))))
st = c.get_file_info('/py/c')
assert st.isdir and st.length == 0, st
print('c', oct(st.permission), st.owner, st.group)
assert not exists('/py/nope')
expect_error('mkdirs without parent', lambda: c.mkdirs('/py/x/y', 0o755, False), 'FileNotFound')
assert not exists('/py/x')
print('done')
"#,
    );
    assert_eq!(
        lines,
        vec![
            "list /py/a /py/c".to_string(),
            "recursive /py/a /py/a/b /py/c".to_string(),
            format!("c 0o700 {user} supergroup"),
            "done".to_string(),
        ]
    );
    let stat = hafs_dfs(&cluster, &["-stat", "%F %a %u %g", "/py/c", "/py/a/b"]).ok();
    assert_eq!(
        stat.stdout_lines(),
        vec![
            format!("directory 700 {user} supergroup"),
            format!("directory 755 {user} supergroup")
        ]
    );
}

#[test]
fn create_empty_file_read_it_and_summarise() {
    let cluster = start("py-create");
    let lines = run(
        &cluster,
        r#"
w = c.create('/e/empty', WriteOptions(create_parent=True))
w.close()
st = c.get_file_info('/e/empty')
assert not st.isdir and st.length == 0, st
print('blocksize-positive', st.blocksize is not None and st.blocksize > 0)
with c.read('/e/empty') as r:
    print('read', repr(r.read()))
expect_error('create existing', lambda: c.create('/e/empty').close(), 'AlreadyExists', 'FileExists')
c.create('/e/empty', WriteOptions(overwrite=True)).close()
cs = c.get_content_summary('/e')
print('summary', cs.directory_count, cs.file_count, cs.length)
print('done')
"#,
    );
    assert_eq!(
        lines,
        vec![
            "blocksize-positive True",
            "read b''",
            "summary 1 1 0",
            "done"
        ]
    );
    java_fs(&cluster, &["-test", "-f", "/e/empty"]).expect_code(0);
    java_fs(&cluster, &["-test", "-z", "/e/empty"]).expect_code(0);
    hafs_dfs(&cluster, &["-test", "-d", "/e"]).expect_code(0);
}

#[test]
fn rename_and_delete() {
    let cluster = start("py-rename");
    let lines = run(
        &cluster,
        r#"
c.mkdirs('/r/src/sub', 0o755, True)
c.create('/r/src/sub/f').close()
c.rename('/r/src', '/r/dst')
assert not exists('/r/src')
assert exists('/r/dst/sub/f') and not c.get_file_info('/r/dst/sub/f').isdir
c.create('/r/other').close()
expect_error('rename onto existing', lambda: c.rename('/r/other', '/r/dst/sub/f'), 'AlreadyExists', 'FileExists')
c.rename('/r/other', '/r/dst/sub/f', True)
assert not exists('/r/other')
print('delete file', c.delete('/r/dst/sub/f'))
expect_error('delete non-empty', lambda: c.delete('/r/dst'), 'NotEmpty', 'not empty')
print('delete tree', c.delete('/r/dst', True))
print('delete missing', c.delete('/r/nope'))
print('left', [s.path for s in c.list_status('/r')])
"#,
    );
    assert_eq!(
        lines,
        vec![
            "delete file True",
            "delete tree True",
            "delete missing False",
            "left []"
        ]
    );
    hafs_dfs(&cluster, &["-test", "-d", "/r"]).expect_code(0);
    hafs_dfs(&cluster, &["-test", "-e", "/r/dst"]).expect_code(1);
    let ls = java_fs(&cluster, &["-ls", "/r"]).ok();
    assert!(ls.stdout_lines().is_empty(), "{ls}");
}

#[test]
fn set_permission_and_owner() {
    let cluster = start("py-perm");
    let lines = run(
        &cluster,
        r#"
c.create('/p/f', WriteOptions(create_parent=True)).close()
c.set_permission('/p/f', 0o640)
c.set_owner('/p/f', 'alice', 'staff')
c.set_owner('/p/f', None, 'eng')
st = c.get_file_info('/p/f')
print(oct(st.permission), st.owner, st.group)
c.set_permission('/p', 0o1777)
print(oct(c.get_file_info('/p').permission))
"#,
    );
    assert_eq!(lines, vec!["0o640 alice eng", "0o1777"]);
    let ours = hafs_dfs(&cluster, &["-stat", "%a %u %g", "/p/f"]).ok();
    assert_eq!(ours.stdout.trim(), "640 alice eng");
    let java = java_fs(&cluster, &["-stat", "%a %u %g", "/p/f"]).ok();
    assert_eq!(java.stdout, ours.stdout);
}
