//! Interop with the real Java `hadoop fs` shell (Hadoop 3.5.0 client): every namespace
//! command a Hadoop user reaches for, run against a hafs NameNode, with the results
//! checked from Java's own output and cross-checked with `hafs dfs`.

use hafs_tests::{current_user, fields, hafs_dfs, parse_ls, CmdOutput, LsEntry, MiniCluster};

fn start(label: &str) -> MiniCluster {
    MiniCluster::builder().label(label).start()
}

/// The `-ls` entries of a command's output, ignoring dates and times.
fn entries(out: &CmdOutput) -> Vec<(String, String, String, String, u64, String)> {
    parse_ls(&out.stdout)
        .iter()
        .map(LsEntry::without_times)
        .collect()
}

fn entry(
    perms: &str,
    repl: &str,
    owner: &str,
    group: &str,
    path: &str,
) -> (String, String, String, String, u64, String) {
    (
        perms.into(),
        repl.into(),
        owner.into(),
        group.into(),
        0,
        path.into(),
    )
}

#[test]
fn mkdir_ls_and_stat_agree_with_hafs() {
    let cluster = start("java-mkdir");
    let user = current_user();

    cluster.shell().run(&["-mkdir", "-p", "/a/b/c"]).ok();
    cluster.shell().run(&["-mkdir", "/a/d"]).ok();

    let ls = cluster.shell().run(&["-ls", "/a"]).ok();
    assert_eq!(ls.stdout_lines()[0], "Found 2 items", "{ls}");
    // New directories: 777 minus the default umask 022, owned by the caller, group
    // inherited from the root (the superuser group).
    assert_eq!(
        entries(&ls),
        vec![
            entry("drwxr-xr-x", "-", &user, "supergroup", "/a/b"),
            entry("drwxr-xr-x", "-", &user, "supergroup", "/a/d"),
        ],
        "{ls}"
    );
    let ours = hafs_dfs(&cluster, &["-ls", "/a"]).ok();
    assert_eq!(
        entries(&ours),
        entries(&ls),
        "hafs dfs -ls differs from Java:\n{ours}"
    );

    let format = "%F %u %g %a %n";
    let stat = cluster.shell().run(&["-stat", format, "/a/b/c", "/a"]).ok();
    assert_eq!(
        stat.stdout_lines(),
        vec![
            format!("directory {user} supergroup 755 c"),
            format!("directory {user} supergroup 755 a"),
        ],
        "{stat}"
    );
    let ours = hafs_dfs(&cluster, &["-stat", format, "/a/b/c", "/a"]).ok();
    assert_eq!(
        ours.stdout, stat.stdout,
        "hafs dfs -stat differs from Java:\n{ours}"
    );

    // Creating what exists, or below what does not, fails the Java way.
    cluster
        .shell()
        .run(&["-mkdir", "/a/b"])
        .expect_code(1)
        .expect_stderr_contains("File exists");
    cluster
        .shell()
        .run(&["-mkdir", "/x/y"])
        .expect_code(1)
        .expect_stderr_contains("No such file or directory");
    hafs_dfs(&cluster, &["-test", "-e", "/x"]).expect_code(1);
}

#[test]
fn touchz_and_test_flags() {
    let cluster = start("java-test");
    let user = current_user();
    cluster.shell().run(&["-mkdir", "/t"]).ok();
    cluster.shell().run(&["-touchz", "/t/empty"]).ok();

    for (flag, path, code) in [
        ("-e", "/t/empty", 0),
        ("-f", "/t/empty", 0),
        ("-z", "/t/empty", 0),
        ("-d", "/t/empty", 1),
        ("-d", "/t", 0),
        ("-f", "/t", 1),
        ("-e", "/t/missing", 1),
    ] {
        let out = cluster
            .shell()
            .run(&["-test", flag, path])
            .expect_code(code);
        assert!(out.stdout.is_empty(), "-test prints nothing:\n{out}");
        hafs_dfs(&cluster, &["-test", flag, path]).expect_code(code);
    }

    // A file: 666 minus umask 022, replication from dfs.replication (1), empty.
    let ls = cluster.shell().run(&["-ls", "/t/empty"]).ok();
    assert_eq!(
        entries(&ls),
        vec![entry("-rw-r--r--", "1", &user, "supergroup", "/t/empty")],
        "{ls}"
    );
    let stat = cluster
        .shell()
        .run(&["-stat", "%F %u %g %a %b %r %n", "/t/empty"])
        .ok();
    assert_eq!(
        stat.stdout.trim(),
        format!("regular file {user} supergroup 644 0 1 empty")
    );
    let ours = hafs_dfs(&cluster, &["-stat", "%F %u %g %a %b %r %n", "/t/empty"]).ok();
    assert_eq!(ours.stdout, stat.stdout, "{ours}");
}

#[test]
fn mv_and_rm() {
    let cluster = start("java-mv");
    cluster.shell().run(&["-mkdir", "-p", "/src/sub"]).ok();
    cluster.shell().run(&["-touchz", "/src/sub/f"]).ok();

    cluster.shell().run(&["-mv", "/src", "/dst"]).ok();
    hafs_dfs(&cluster, &["-test", "-e", "/src"]).expect_code(1);
    let tree = hafs_dfs(&cluster, &["-ls", "-R", "/dst"]).ok();
    let paths: Vec<String> = parse_ls(&tree.stdout).into_iter().map(|e| e.path).collect();
    assert_eq!(paths, vec!["/dst/sub", "/dst/sub/f"], "{tree}");

    // Renaming a file, then moving it into an existing directory.
    cluster.shell().run(&["-mv", "/dst/sub/f", "/dst/g"]).ok();
    hafs_dfs(&cluster, &["-test", "-f", "/dst/g"]).expect_code(0);
    hafs_dfs(&cluster, &["-test", "-e", "/dst/sub/f"]).expect_code(1);
    cluster.shell().run(&["-mv", "/dst/g", "/dst/sub"]).ok();
    hafs_dfs(&cluster, &["-test", "-f", "/dst/sub/g"]).expect_code(0);
    cluster
        .shell()
        .run(&["-mv", "/nope", "/elsewhere"])
        .expect_code(1)
        .expect_stderr_contains("No such file or directory");

    cluster
        .shell()
        .run(&["-rm", "/dst"])
        .expect_code(1)
        .expect_stderr_contains("Is a directory");
    let rm = cluster.shell().run(&["-rm", "-r", "/dst"]).ok();
    assert!(rm.stdout.contains("Deleted /dst"), "{rm}");
    hafs_dfs(&cluster, &["-test", "-e", "/dst"]).expect_code(1);
    let root = cluster.shell().run(&["-ls", "/"]).ok();
    assert!(
        root.stdout_lines().is_empty(),
        "root should be empty:\n{root}"
    );
}

#[test]
fn chmod_octal_symbolic_and_recursive() {
    let cluster = start("java-chmod");
    cluster.shell().run(&["-mkdir", "-p", "/m/d"]).ok();
    cluster.shell().run(&["-touchz", "/m/f"]).ok();
    let mode = |path: &str| -> String {
        let out = cluster.shell().run(&["-stat", "%a", path]).ok();
        let ours = hafs_dfs(&cluster, &["-stat", "%a", path]).ok();
        assert_eq!(
            ours.stdout, out.stdout,
            "hafs and Java disagree on {path}:\n{ours}"
        );
        out.stdout.trim().to_string()
    };

    cluster.shell().run(&["-chmod", "600", "/m/f"]).ok();
    assert_eq!(mode("/m/f"), "600");
    cluster.shell().run(&["-chmod", "g+w,o+r", "/m/f"]).ok();
    assert_eq!(mode("/m/f"), "624");
    // Hadoop's parser lets the last clause naming a class decide it: u gets +x on its
    // old rw (7), g and o get -w: 704, not 504.
    cluster.shell().run(&["-chmod", "a-w,u+x", "/m/f"]).ok();
    assert_eq!(mode("/m/f"), "704");
    hafs_dfs(&cluster, &["-chmod", "600", "/m/f"]).ok();
    hafs_dfs(&cluster, &["-chmod", "g+w,o+r", "/m/f"]).ok();
    hafs_dfs(&cluster, &["-chmod", "a-w,u+x", "/m/f"]).ok();
    assert_eq!(
        mode("/m/f"),
        "704",
        "hafs dfs -chmod must match the Java shell"
    );

    cluster.shell().run(&["-chmod", "-R", "700", "/m"]).ok();
    let stat = cluster
        .shell()
        .run(&["-stat", "%a %n", "/m", "/m/d", "/m/f"])
        .ok();
    assert_eq!(
        stat.stdout_lines(),
        vec!["700 m", "700 d", "700 f"],
        "{stat}"
    );

    // The sticky bit shows in octal and as `t` in the listing.
    cluster.shell().run(&["-chmod", "1777", "/m/d"]).ok();
    assert_eq!(mode("/m/d"), "1777");
    let ls = hafs_dfs(&cluster, &["-ls", "/m"]).ok();
    let d = parse_ls(&ls.stdout).into_iter().find(|e| e.path == "/m/d");
    assert_eq!(
        d.map(|e| e.permissions),
        Some("drwxrwxrwt".to_string()),
        "{ls}"
    );
}

#[test]
fn chown_and_chgrp() {
    let cluster = start("java-chown");
    cluster.shell().run(&["-touchz", "/o"]).ok();
    let owner = |path: &str| -> String {
        cluster
            .shell()
            .run(&["-stat", "%u %g", path])
            .ok()
            .stdout
            .trim()
            .to_string()
    };

    cluster.shell().run(&["-chown", "alice:staff", "/o"]).ok();
    assert_eq!(owner("/o"), "alice staff");
    cluster.shell().run(&["-chown", "bob", "/o"]).ok();
    assert_eq!(owner("/o"), "bob staff");
    cluster.shell().run(&["-chgrp", "eng", "/o"]).ok();
    assert_eq!(owner("/o"), "bob eng");
    cluster.shell().run(&["-chown", ":ops", "/o"]).ok();
    assert_eq!(owner("/o"), "bob ops");
    let ls = hafs_dfs(&cluster, &["-ls", "/o"]).ok();
    let e = &parse_ls(&ls.stdout)[0];
    assert_eq!((e.owner.as_str(), e.group.as_str()), ("bob", "ops"), "{ls}");

    cluster.shell().run(&["-mkdir", "-p", "/r/s"]).ok();
    cluster.shell().run(&["-chown", "-R", "carol:c", "/r"]).ok();
    let stat = cluster
        .shell()
        .run(&["-stat", "%u %g %n", "/r", "/r/s"])
        .ok();
    assert_eq!(
        stat.stdout_lines(),
        vec!["carol c r", "carol c s"],
        "{stat}"
    );
}

#[test]
fn permissions_are_enforced_for_other_users() {
    let cluster = start("java-perm");
    cluster.shell().run(&["-mkdir", "/locked", "/pub"]).ok();
    cluster.shell().run(&["-chmod", "777", "/pub"]).ok();

    // /locked is 755 and owned by the superuser: mallory may not write in it or chown it.
    cluster
        .shell()
        .run_as("mallory", &["-mkdir", "/locked/x"])
        .expect_code(1)
        .expect_stderr_contains("Permission denied");
    cluster
        .shell()
        .run_as("mallory", &["-chown", "mallory", "/locked"])
        .expect_code(1)
        .expect_stderr_contains("Permission denied");
    hafs_dfs(&cluster, &["-test", "-e", "/locked/x"]).expect_code(1);

    // In a world-writable dir she can; the new dir is hers, group from the parent.
    cluster
        .shell()
        .run_as("mallory", &["-mkdir", "/pub/m"])
        .ok();
    let stat = cluster.shell().run(&["-stat", "%u %g", "/pub/m"]).ok();
    assert_eq!(stat.stdout.trim(), "mallory supergroup");
}

#[test]
fn count_and_du() {
    let cluster = start("java-count");
    cluster.shell().run(&["-mkdir", "-p", "/q/a", "/q/b"]).ok();
    cluster
        .shell()
        .run(&["-touchz", "/q/a/f1", "/q/b/f2", "/q/f3"])
        .ok();

    // DIR_COUNT FILE_COUNT CONTENT_SIZE PATHNAME; a directory counts itself.
    let count = cluster.shell().run(&["-count", "/q", "/q/a"]).ok();
    assert_eq!(
        fields(&count.stdout),
        vec![vec!["3", "3", "0", "/q"], vec!["1", "1", "0", "/q/a"]],
        "{count}"
    );
    let ours = hafs_dfs(&cluster, &["-count", "/q", "/q/a"]).ok();
    assert_eq!(fields(&ours.stdout), fields(&count.stdout), "{ours}");

    // With quotas: none set, so `none inf none inf`.
    let quota = cluster.shell().run(&["-count", "-q", "/q"]).ok();
    assert_eq!(
        fields(&quota.stdout),
        vec![vec!["none", "inf", "none", "inf", "3", "3", "0", "/q"]],
        "{quota}"
    );

    // SIZE DISK_SPACE_CONSUMED PATH, one line per child; -s summarises.
    let du = cluster.shell().run(&["-du", "/q"]).ok();
    assert_eq!(
        fields(&du.stdout),
        vec![
            vec!["0", "0", "/q/a"],
            vec!["0", "0", "/q/b"],
            vec!["0", "0", "/q/f3"]
        ],
        "{du}"
    );
    let du_s = cluster.shell().run(&["-du", "-s", "/q"]).ok();
    assert_eq!(fields(&du_s.stdout), vec![vec!["0", "0", "/q"]], "{du_s}");
    let ours = hafs_dfs(&cluster, &["-du", "-s", "/q"]).ok();
    assert_eq!(fields(&ours.stdout), fields(&du_s.stdout), "{ours}");
}
