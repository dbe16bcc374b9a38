//! `hafs dfs`: output formats, error messages and exit codes, which follow Hadoop's
//! FsShell so scripts written for `hdfs dfs` work unchanged.

use std::process::Command;

use hafs_tests::{
    current_user, fields, hafs_bin, hafs_dfs, parse_ls, run_with_timeout, MiniCluster, TempDir,
    DEFAULT_CMD_TIMEOUT,
};

fn start(label: &str) -> MiniCluster {
    MiniCluster::builder().label(label).start()
}

#[test]
fn ls_of_a_missing_path_fails_like_hadoop() {
    let cluster = start("cli-ls-missing");
    let out = hafs_dfs(&cluster, &["-ls", "/nope"]).expect_code(1);
    assert!(out.stdout.is_empty(), "{out}");
    assert!(
        out.stderr
            .contains("ls: `/nope': No such file or directory"),
        "{out}"
    );
    // An empty root lists nothing and succeeds.
    let root = hafs_dfs(&cluster, &["-ls", "/"]).ok();
    assert!(root.stdout_lines().is_empty(), "{root}");
}

#[test]
fn ls_output_format() {
    let cluster = start("cli-ls");
    let user = current_user();
    hafs_dfs(&cluster, &["-mkdir", "-p", "/x/y"]).ok();
    hafs_dfs(&cluster, &["-touchz", "/x/f"]).ok();

    let ls = hafs_dfs(&cluster, &["-ls", "/x"]).ok();
    let lines = ls.stdout_lines();
    assert_eq!(lines.len(), 3, "{ls}");
    assert_eq!(lines[0], "Found 2 items");
    let entries = parse_ls(&ls.stdout);
    assert_eq!(entries.len(), 2, "{ls}");
    let (f, y) = (&entries[0], &entries[1]);
    assert_eq!(
        (
            f.permissions.as_str(),
            f.replication.as_str(),
            f.owner.as_str(),
            f.group.as_str(),
            f.size,
            f.path.as_str()
        ),
        ("-rw-r--r--", "1", user.as_str(), "supergroup", 0, "/x/f"),
        "{ls}"
    );
    assert_eq!(
        (
            y.permissions.as_str(),
            y.replication.as_str(),
            y.path.as_str()
        ),
        ("drwxr-xr-x", "-", "/x/y"),
        "{ls}"
    );
    for e in &entries {
        // yyyy-MM-dd HH:mm
        let date_ok =
            e.date.len() == 10 && e.date.as_bytes()[4] == b'-' && e.date.as_bytes()[7] == b'-';
        let time_ok = e.time.len() == 5 && e.time.as_bytes()[2] == b':';
        assert!(date_ok && time_ok, "bad date/time in {e:?}");
    }

    // -d lists the directory itself; a file lists as one entry without a header.
    let d = hafs_dfs(&cluster, &["-ls", "-d", "/x"]).ok();
    assert_eq!(
        parse_ls(&d.stdout)
            .iter()
            .map(|e| e.path.as_str())
            .collect::<Vec<_>>(),
        vec!["/x"]
    );
    assert_eq!(d.stdout_lines().len(), 1, "{d}");
    let file = hafs_dfs(&cluster, &["-ls", "/x/f"]).ok();
    assert_eq!(file.stdout_lines().len(), 1, "{file}");

    let rec = hafs_dfs(&cluster, &["-ls", "-R", "/"]).ok();
    let paths: Vec<String> = parse_ls(&rec.stdout).into_iter().map(|e| e.path).collect();
    assert_eq!(paths, vec!["/x", "/x/f", "/x/y"], "{rec}");
}

#[test]
fn mkdir_errors_and_p() {
    let cluster = start("cli-mkdir");
    hafs_dfs(&cluster, &["-mkdir", "/a/b"])
        .expect_code(1)
        .expect_stderr_contains("mkdir: ")
        .expect_stderr_contains("No such file or directory");
    hafs_dfs(&cluster, &["-mkdir", "/d"]).ok();
    hafs_dfs(&cluster, &["-mkdir", "/d"])
        .expect_code(1)
        .expect_stderr_contains("mkdir: `/d': File exists");
    hafs_dfs(&cluster, &["-mkdir", "-p", "/d", "/d/e/f"]).ok();
    hafs_dfs(&cluster, &["-test", "-d", "/d/e/f"]).expect_code(0);
    hafs_dfs(&cluster, &["-touchz", "/file"]).ok();
    hafs_dfs(&cluster, &["-mkdir", "-p", "/file"])
        .expect_code(1)
        .expect_stderr_contains("Is not a directory");
}

#[test]
fn test_flags_exit_codes() {
    let cluster = start("cli-test");
    hafs_dfs(&cluster, &["-mkdir", "/dir"]).ok();
    hafs_dfs(&cluster, &["-touchz", "/dir/empty"]).ok();
    for (flag, path, code) in [
        ("-e", "/dir", 0),
        ("-d", "/dir", 0),
        ("-f", "/dir", 1),
        ("-e", "/dir/empty", 0),
        ("-f", "/dir/empty", 0),
        ("-z", "/dir/empty", 0),
        ("-d", "/dir/empty", 1),
        ("-e", "/missing", 1),
        ("-d", "/missing", 1),
    ] {
        let out = hafs_dfs(&cluster, &["-test", flag, path]).expect_code(code);
        assert!(
            out.stdout.is_empty() && out.stderr.is_empty(),
            "-test is silent:\n{out}"
        );
    }
}

#[test]
fn rm_and_mv_messages() {
    let cluster = start("cli-rm");
    hafs_dfs(&cluster, &["-rm", "/nope"])
        .expect_code(1)
        .expect_stderr_contains("rm: `/nope': No such file or directory");
    hafs_dfs(&cluster, &["-rm", "-f", "/nope"]).ok();
    hafs_dfs(&cluster, &["-mkdir", "-p", "/dir/sub"]).ok();
    hafs_dfs(&cluster, &["-rm", "/dir"])
        .expect_code(1)
        .expect_stderr_contains("rm: `/dir': Is a directory");
    hafs_dfs(&cluster, &["-mv", "/nope", "/other"])
        .expect_code(1)
        .expect_stderr_contains("mv: `/nope': No such file or directory");
    hafs_dfs(&cluster, &["-mv", "/dir", "/moved"]).ok();
    let rm = hafs_dfs(&cluster, &["-rm", "-r", "/moved"]).ok();
    assert_eq!(rm.stdout_lines(), vec!["Deleted /moved"], "{rm}");
    hafs_dfs(&cluster, &["-test", "-e", "/moved"]).expect_code(1);
}

#[test]
fn stat_count_and_du() {
    let cluster = start("cli-stat");
    let user = current_user();
    hafs_dfs(&cluster, &["-mkdir", "-p", "/s/a"]).ok();
    hafs_dfs(&cluster, &["-touchz", "/s/a/f", "/s/g"]).ok();
    hafs_dfs(&cluster, &["-chmod", "640", "/s/g"]).ok();
    let stat = hafs_dfs(
        &cluster,
        &["-stat", "%F|%u|%g|%a|%A|%b|%r|%n", "/s/a", "/s/g"],
    )
    .ok();
    assert_eq!(
        stat.stdout_lines(),
        vec![
            format!("directory|{user}|supergroup|755|rwxr-xr-x|0|0|a"),
            format!("regular file|{user}|supergroup|640|rw-r-----|0|1|g"),
        ],
        "{stat}"
    );
    let count = hafs_dfs(&cluster, &["-count", "/s"]).ok();
    assert_eq!(
        fields(&count.stdout),
        vec![vec!["2", "2", "0", "/s"]],
        "{count}"
    );
    let du = hafs_dfs(&cluster, &["-du", "/s"]).ok();
    assert_eq!(
        fields(&du.stdout),
        vec![vec!["0", "0", "/s/a"], vec!["0", "0", "/s/g"]],
        "{du}"
    );
}

#[test]
fn unknown_command_is_an_error() {
    let cluster = start("cli-unknown");
    hafs_dfs(&cluster, &["-bogus"])
        .expect_failure()
        .expect_stderr_contains("-bogus: Unknown command");
}

/// The default file system can come from `-fs`, `-D fs.defaultFS=` or HADOOP_CONF_DIR.
#[test]
fn generic_options_and_hadoop_conf_dir() {
    let cluster = start("cli-generic");
    hafs_dfs(&cluster, &["-mkdir", "/marker"]).ok();
    let empty = TempDir::new("cli-empty-conf");
    let uri = cluster.fs_uri();

    let run = |expected: &str, configure: &dyn Fn(&mut Command)| {
        let mut cmd = Command::new(hafs_bin());
        cmd.env_remove("HADOOP_CONF_DIR");
        configure(&mut cmd);
        let out = run_with_timeout(cmd, DEFAULT_CMD_TIMEOUT).ok();
        let paths: Vec<String> = parse_ls(&out.stdout).into_iter().map(|e| e.path).collect();
        assert_eq!(paths, vec![expected.to_string()], "{out}");
    };
    run("/marker", &|c| {
        c.arg("--config")
            .arg(empty.path())
            .args(["dfs", "-fs", &uri, "-ls", "/"]);
    });
    run("/marker", &|c| {
        c.arg("--config").arg(empty.path()).args([
            "dfs",
            "-D",
            &format!("fs.defaultFS={uri}"),
            "-ls",
            "/",
        ]);
    });
    run("/marker", &|c| {
        c.env("HADOOP_CONF_DIR", cluster.conf_dir())
            .args(["dfs", "-ls", "/"]);
    });
    // A full URI as the path works without any default file system (and, as in
    // Hadoop, the listing then shows full URIs).
    run(&format!("{uri}/marker"), &|c| {
        c.arg("--config")
            .arg(empty.path())
            .args(["dfs", "-ls", &format!("{uri}/")]);
    });
}
