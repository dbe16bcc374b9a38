//! `hafs dfs` data commands against real NameNode and DataNode processes (issue 3,
//! part 7), compared with the Java `hadoop fs` shell where both print something: the
//! same stdout, the same error text on stderr, the same exit status.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use hafs_tests::{hafs_dfs, test_bytes, CmdOutput, MiniCluster, StreamingClient};

const MIB: usize = 1024 * 1024;

fn cluster(label: &str) -> MiniCluster {
    MiniCluster::builder().label(label).datanodes(3).start()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Both shells exit with the same code and print the same stderr (after the command
/// name, which is the same too) and stdout.
#[track_caller]
fn assert_same_outcome(ours: &CmdOutput, java: &CmdOutput) {
    assert_eq!(
        ours.code(),
        java.code(),
        "exit codes differ\nours:\n{ours}\njava:\n{java}"
    );
    assert_eq!(
        ours.stdout, java.stdout,
        "stdout differs\nours:\n{ours}\njava:\n{java}"
    );
    assert_eq!(
        ours.stderr.trim_end(),
        java.stderr.trim_end(),
        "stderr differs\nours:\n{ours}\njava:\n{java}"
    );
}

/// Feeds `data` to `hafs dfs <args>` (or the Java shell) on stdin and waits.
#[track_caller]
fn run_with_stdin(c: &MiniCluster, java: bool, args: &[&str], data: &[u8]) {
    let log = scratch(c, "stdin-client.log");
    let mut client = if java {
        StreamingClient::java(c, args, &log)
    } else {
        StreamingClient::hafs_dfs(c, args, &log)
    };
    client.write(data);
    let r = client.finish(Duration::from_secs(120));
    assert!(r.status.success(), "{args:?} failed:\n{}", r.output);
}

#[test]
fn put_variants_and_errors_match_hadoop() {
    let c = cluster("cli-put");
    let data = test_bytes(31, 2 * MIB + 333);
    let local = write_scratch(&c, "put-src", &data);
    hafs_dfs(&c, &["-mkdir", "/p"]).ok();

    hafs_dfs(&c, &["-put", s(&local), "/p/a"]).ok();
    assert_same_bytes(&get_with_java(&c, "/p/a"), &data, "java reads hafs -put");
    // copyFromLocal into a directory takes the local file's name.
    hafs_dfs(&c, &["-copyFromLocal", s(&local), "/p"]).ok();
    let name = local.file_name().unwrap().to_str().unwrap();
    assert_same_bytes(
        &get_with_hafs(&c, &format!("/p/{name}")),
        &data,
        "copyFromLocal into a directory",
    );

    // An existing target without -f: "File exists", exit 1, as Java says it.
    let ours = hafs_dfs(&c, &["-put", s(&local), "/p/a"]);
    let java = c.shell().run(&["-put", s(&local), "/p/a"]);
    assert_same_outcome(&ours, &java);
    assert_eq!(ours.code(), Some(1));
    assert!(ours.stderr.contains("`/p/a': File exists"), "{ours}");
    let ours = hafs_dfs(&c, &["-copyFromLocal", s(&local), "/p/a"]);
    let java = c.shell().run(&["-copyFromLocal", s(&local), "/p/a"]);
    assert_same_outcome(&ours, &java);

    // -f replaces it.
    let other = test_bytes(32, MIB / 2 + 1);
    let local2 = write_scratch(&c, "put-src2", &other);
    hafs_dfs(&c, &["-put", "-f", s(&local2), "/p/a"]).ok();
    assert_same_bytes(&get_with_java(&c, "/p/a"), &other, "after -put -f");
    let ls = hafs_dfs(&c, &["-ls", "/p"]).ok();
    assert!(
        !ls.stdout.contains("_COPYING_"),
        "a temporary file was left behind:\n{ls}"
    );

    // Missing local source, missing parent dir: same words as Java.
    let ours = hafs_dfs(&c, &["-put", "/nonexistent/local", "/p/x"]);
    let java = c.shell().run(&["-put", "/nonexistent/local", "/p/x"]);
    assert_same_outcome(&ours, &java);
    for args in [
        vec!["-put", s(&local2), "/nodir/x"],
        vec!["-put", s(&local2), "/p/a/under-a-file"],
        vec!["-cp", "/p/a", "/nodir/x"],
        vec!["-cp", "/p/a", "/p/a/under-a-file"],
    ] {
        let ours = hafs_dfs(&c, &args);
        let java = c.shell().run(&args);
        assert_same_outcome(&ours, &java);
    }

    // From stdin, through both shells, read back by the other.
    let piped = test_bytes(33, MIB + 17);
    run_with_stdin(&c, false, &["-put", "-", "/p/stdin-hafs"], &piped);
    assert_same_bytes(&get_with_java(&c, "/p/stdin-hafs"), &piped, "hafs -put -");
    run_with_stdin(&c, true, &["-put", "-", "/p/stdin-java"], &piped);
    assert_same_bytes(&get_with_hafs(&c, "/p/stdin-java"), &piped, "java -put -");
}

#[test]
fn put_and_get_preserve_times_and_permissions() {
    let c = cluster("cli-preserve");
    let data = test_bytes(34, 70_000);
    let local = write_scratch(&c, "preserve-src", &data);
    std::fs::set_permissions(&local, std::fs::Permissions::from_mode(0o640)).unwrap();
    // A modification time well in the past, on a whole second.
    let mtime_s: i64 = 1_500_000_000;
    set_mtime(&local, mtime_s);

    hafs_dfs(&c, &["-put", "-p", s(&local), "/pp"]).ok();
    let ours = hafs_dfs(&c, &["-stat", "%a %Y", "/pp"]).ok();
    assert_eq!(
        ours.stdout.trim(),
        format!("640 {}", mtime_s * 1000),
        "{ours}"
    );
    c.shell().run(&["-put", "-p", s(&local), "/pj"]).ok();
    let java = hafs_dfs(&c, &["-stat", "%a %Y", "/pj"]).ok();
    assert_eq!(ours.stdout, java.stdout, "-put -p differs from Java's");

    // Without -p: default permission (666 & ~022) and a current time.
    hafs_dfs(&c, &["-put", s(&local), "/pn"]).ok();
    let plain = hafs_dfs(&c, &["-stat", "%a", "/pn"]).ok();
    assert_eq!(plain.stdout.trim(), "644", "{plain}");

    // -get -p gives the local copy the file's times and permission.
    hafs_dfs(&c, &["-chmod", "600", "/pp"]).ok();
    let stat = hafs_dfs(&c, &["-stat", "%Y", "/pp"]).ok();
    let remote_mtime_ms: i64 = stat.stdout.trim().parse().unwrap();
    let got = scratch(&c, "get-p");
    hafs_dfs(&c, &["-get", "-p", "/pp", s(&got)]).ok();
    let md = std::fs::metadata(&got).unwrap();
    assert_eq!(md.mode() & 0o7777, 0o600, "permission not preserved");
    assert_eq!(md.mtime() * 1000, remote_mtime_ms, "mtime not preserved");
    assert_eq!(std::fs::read(&got).unwrap(), data);
    // (Java's `-get -p` also chowns the local copy to the file's owner and group, which
    // fails here: there is no local group "supergroup". Times and mode are compared above
    // on the put side.)
}

fn set_mtime(path: &Path, secs: i64) {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    let ts = libc_timespec(secs);
    let times = [ts, ts];
    // SAFETY: valid NUL-terminated path, two timespecs.
    let r = unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), times.as_ptr(), 0) };
    assert_eq!(r, 0, "utimensat {}", path.display());
}

fn libc_timespec(secs: i64) -> libc::timespec {
    libc::timespec {
        tv_sec: secs as libc::time_t,
        tv_nsec: 0,
    }
}

#[test]
fn get_onto_existing_local_file_and_cat_of_a_directory_match_hadoop() {
    let c = cluster("cli-get-errors");
    let data = test_bytes(35, 5000);
    put_with_hafs(&c, "/g/f", &data);
    let existing = write_scratch(&c, "existing", b"keep me");
    let ours = hafs_dfs(&c, &["-get", "/g/f", s(&existing)]);
    let java = c.shell().run(&["-get", "/g/f", s(&existing)]);
    assert_same_outcome(&ours, &java);
    assert_eq!(ours.code(), Some(1));
    assert_eq!(std::fs::read(&existing).unwrap(), b"keep me");
    let ours = hafs_dfs(&c, &["-copyToLocal", "/g/f", s(&existing)]);
    let java = c.shell().run(&["-copyToLocal", "/g/f", s(&existing)]);
    assert_same_outcome(&ours, &java);
    // -f replaces it.
    hafs_dfs(&c, &["-get", "-f", "/g/f", s(&existing)]).ok();
    assert_eq!(std::fs::read(&existing).unwrap(), data);

    for args in [
        vec!["-cat", "/g"],
        vec!["-cat", "/g/missing"],
        vec!["-get", "/g/missing", "/tmp/never-written-by-hafs-test"],
        vec!["-head", "/g"],
        vec!["-tail", "/g"],
        vec!["-cat", "/g/f/under-a-file"],
    ] {
        let ours = hafs_dfs(&c, &args);
        let java = c.shell().run(&args);
        assert_same_outcome(&ours, &java);
        assert_ne!(ours.code(), Some(0), "{ours}");
    }
}

#[test]
fn cat_head_and_tail_print_what_java_prints() {
    let c = cluster("cli-cat-head-tail");
    // Binary content across a block boundary; head and tail are 1 KiB.
    let text: String = (0..60_000).map(|i| format!("row {i}\n")).collect();
    put_with_hafs(&c, "/t/f", text.as_bytes());
    for args in [
        vec!["-cat", "/t/f"],
        vec!["-head", "/t/f"],
        vec!["-tail", "/t/f"],
    ] {
        let ours = hafs_dfs(&c, &args).ok();
        let java = c.shell().run(&args).ok();
        assert_same_outcome(&ours, &java);
    }
    let head = hafs_dfs(&c, &["-head", "/t/f"]).ok();
    assert_eq!(head.stdout.as_bytes(), &text.as_bytes()[..1024]);
    let tail = hafs_dfs(&c, &["-tail", "/t/f"]).ok();
    assert_eq!(
        tail.stdout.as_bytes(),
        &text.as_bytes()[text.len() - 1024..]
    );
    // Short files: everything.
    put_with_hafs(&c, "/t/short", b"just a little\n");
    for cmd in ["-head", "-tail"] {
        let ours = hafs_dfs(&c, &[cmd, "/t/short"]).ok();
        assert_eq!(ours.stdout, "just a little\n");
    }
    // Several files to -cat, one of them missing: the others still print, exit 1.
    let ours = hafs_dfs(&c, &["-cat", "/t/short", "/t/none", "/t/short"]);
    let java = c.shell().run(&["-cat", "/t/short", "/t/none", "/t/short"]);
    assert_same_outcome(&ours, &java);
}

/// Waits until `client`'s output contains `needle`.
#[track_caller]
fn wait_output(client: &StreamingClient, needle: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while !client.output().contains(needle) {
        assert!(
            Instant::now() < deadline,
            "{needle:?} not printed within {timeout:?}; output so far:\n{}",
            client.output()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn tail_f_follows_appends_by_other_writers() {
    let c = cluster("cli-tail-f");
    put_with_hafs(&c, "/tf/log", b"first line\n");
    // Our shell only: the Java client reading a file while another client appends asks
    // the DataNodes for the replica's visible length (ClientDatanodeProtocol
    // getReplicaVisibleLength), which hafs DataNodes do not serve yet.
    {
        let java = false;
        let log = scratch(&c, "tail-f.log");
        let args = ["-tail", "-f", "-s", "200", "/tf/log"];
        let tail = StreamingClient::hafs_dfs(&c, &args, &log);
        wait_output(&tail, "first line\n", Duration::from_secs(60));
        // Another writer appends twice; both appear, in order.
        for (i, line) in ["second line\n", "third line\n"].iter().enumerate() {
            let part = write_scratch(&c, "tail-append", line.as_bytes());
            if i == 0 {
                hafs_dfs(&c, &["-appendToFile", s(&part), "/tf/log"]).ok();
            } else {
                c.shell().run(&["-appendToFile", s(&part), "/tf/log"]).ok();
            }
            wait_output(&tail, line, Duration::from_secs(30));
        }
        let out = tail.output();
        assert!(
            out.starts_with("first line\nsecond line\nthird line\n"),
            "java={java}: {out:?}"
        );
        tail.kill();
    }
}

#[test]
fn cp_and_append_to_file() {
    let c = cluster("cli-cp-append");
    let data = test_bytes(36, 2 * MIB + 5);
    put_with_hafs(&c, "/c/src", &data);
    hafs_dfs(&c, &["-cp", "/c/src", "/c/dst"]).ok();
    assert_same_bytes(&get_with_java(&c, "/c/dst"), &data, "-cp copy");
    // Existing target: File exists, as Java; -f replaces.
    put_with_hafs(&c, "/c/other", b"other");
    let ours = hafs_dfs(&c, &["-cp", "/c/other", "/c/dst"]);
    let java = c.shell().run(&["-cp", "/c/other", "/c/dst"]);
    assert_same_outcome(&ours, &java);
    assert_eq!(ours.code(), Some(1));
    hafs_dfs(&c, &["-cp", "-f", "/c/other", "/c/dst"]).ok();
    assert_eq!(get_with_native(&c, "/c/dst"), b"other");
    // Into a directory, several sources.
    hafs_dfs(&c, &["-mkdir", "/c/dir"]).ok();
    hafs_dfs(&c, &["-cp", "/c/src", "/c/other", "/c/dir"]).ok();
    assert_same_bytes(&get_with_hafs(&c, "/c/dir/src"), &data, "-cp into dir");
    assert_eq!(get_with_hafs(&c, "/c/dir/other"), b"other");
    // Several sources onto a file: Java's error.
    let ours = hafs_dfs(&c, &["-cp", "/c/src", "/c/other", "/c/dst"]);
    let java = c.shell().run(&["-cp", "/c/src", "/c/other", "/c/dst"]);
    assert_same_outcome(&ours, &java);

    // -appendToFile with several local files, to a new file then an existing one.
    let parts: Vec<Vec<u8>> = (0..3)
        .map(|i| test_bytes(40 + i, 300_000 + i as usize))
        .collect();
    let locals: Vec<_> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| write_scratch(&c, &format!("part{i}"), p))
        .collect();
    let mut args = vec!["-appendToFile"];
    args.extend(locals.iter().map(|p| s(p)));
    args.push("/c/appended");
    hafs_dfs(&c, &args).ok();
    hafs_dfs(&c, &args).ok();
    let want: Vec<u8> = parts.concat().repeat(2);
    assert_same_bytes(&get_with_java(&c, "/c/appended"), &want, "-appendToFile");
    // A missing local source: same as Java.
    let ours = hafs_dfs(&c, &["-appendToFile", "/no/such/local", "/c/appended"]);
    let java = c
        .shell()
        .run(&["-appendToFile", "/no/such/local", "/c/appended"]);
    assert_same_outcome(&ours, &java);
    // From stdin.
    run_with_stdin(
        &c,
        false,
        &["-appendToFile", "-", "/c/appended"],
        b"tail bytes",
    );
    let mut want = want;
    want.extend_from_slice(b"tail bytes");
    assert_same_bytes(
        &get_with_native(&c, "/c/appended"),
        &want,
        "append from stdin",
    );
}

#[test]
fn setrep_on_a_directory_and_df_match_hadoop() {
    let c = cluster("cli-setrep-df");
    put_with_hafs(&c, "/r/a", &test_bytes(37, 1000));
    put_with_hafs(&c, "/r/sub/b", &test_bytes(38, 2000));
    let ours = hafs_dfs(&c, &["-setrep", "2", "/r"]).ok();
    let java = c.shell().run(&["-setrep", "2", "/r"]).ok();
    assert_same_outcome(&ours, &java);
    let ours = hafs_dfs(&c, &["-setrep", "-w", "1", "/r/a"]).ok();
    assert!(
        ours.stdout
            .starts_with("Replication 1 set: /r/a\nWaiting for /r/a ..."),
        "{ours}"
    );
    assert!(ours.stdout.trim_end().ends_with("done"), "{ours}");
    let stat = c.shell().run(&["-stat", "%r", "/r/a", "/r/sub/b"]).ok();
    assert_eq!(stat.stdout, "1\n2\n");
    let ours = hafs_dfs(&c, &["-setrep", "0", "/r/a"]);
    let java = c.shell().run(&["-setrep", "0", "/r/a"]);
    assert_eq!(ours.code(), java.code(), "ours:\n{ours}\njava:\n{java}");
    let ours = hafs_dfs(&c, &["-setrep", "2", "/r/missing"]);
    let java = c.shell().run(&["-setrep", "2", "/r/missing"]);
    assert_same_outcome(&ours, &java);

    // -df: the same header and layout; capacity and usage come from the live disks and
    // can change between the two runs, so only the shape and the file system compare.
    for human in [false, true] {
        let args: &[&str] = if human { &["-df", "-h"] } else { &["-df"] };
        let ours = hafs_dfs(&c, args).ok();
        let java = c.shell().run(args).ok();
        let o: Vec<Vec<&str>> = ours
            .stdout
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        let j: Vec<Vec<&str>> = java
            .stdout
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(o.len(), 2, "{ours}");
        assert_eq!(o[0], j[0], "header differs\nours:\n{ours}\njava:\n{java}");
        assert_eq!(
            o[1].len(),
            j[1].len(),
            "columns differ\nours:\n{ours}\njava:\n{java}"
        );
        assert_eq!(o[1][0], j[1][0], "file system differs");
        assert_eq!(o[1][0], c.fs_uri());
        assert_eq!(o[0].join(" "), "Filesystem Size Used Available Use%");
        if !human {
            let size: u64 = o[1][1].parse().unwrap();
            let jsize: u64 = j[1][1].parse().unwrap();
            assert!(size > 0);
            // The same disks: within 1% of each other.
            assert!(size.abs_diff(jsize) <= jsize / 100, "{ours}\n{java}");
        }
    }
}

#[test]
fn truncate_matches_java() {
    let c = cluster("cli-truncate");
    let data = test_bytes(39, 2 * MIB + 1000);
    put_with_hafs(&c, "/tr/f", &data);
    // To a block boundary (no recovery needed), then inside a block (-w waits).
    let ours = hafs_dfs(&c, &["-truncate", &MIB.to_string(), "/tr/f"]);
    let java_put = write_scratch(&c, "tr-java", &data);
    c.shell().run(&["-put", s(&java_put), "/tr/j"]).ok();
    let java = c.shell().run(&["-truncate", &MIB.to_string(), "/tr/j"]);
    assert!(ours.success() && java.success(), "{ours}\n{java}");
    // The same words, for its own path.
    assert_eq!(
        ours.stdout.replace("/tr/f", "/tr/j"),
        java.stdout,
        "{ours}\n{java}"
    );
    assert_same_bytes(&get_with_java(&c, "/tr/f"), &data[..MIB], "truncated");
    let ours = hafs_dfs(&c, &["-truncate", "-w", "1000", "/tr/f"]).ok();
    assert!(
        ours.stdout.contains("Truncated /tr/f to length: 1000"),
        "{ours}"
    );
    assert_same_bytes(&get_with_native(&c, "/tr/f"), &data[..1000], "truncated -w");
}

#[test]
fn progress_bar_only_on_a_terminal() {
    let c = cluster("cli-progress");
    let data = test_bytes(40, 12 * MIB);
    let local = write_scratch(&c, "big", &data);
    // No terminal: nothing on stderr.
    let plain = hafs_dfs(&c, &["-put", s(&local), "/big-plain"]).ok();
    assert_eq!(plain.stderr, "", "{plain}");
    let got = scratch(&c, "big-get");
    let plain = hafs_dfs(&c, &["-get", "/big-plain", s(&got)]).ok();
    assert_eq!(plain.stderr, "", "{plain}");

    // A terminal (script(1) gives the command a pty): the bar shows, and ends at 100%.
    let script = which("script");
    let cmdline = format!(
        "{} --config {} dfs -put {} /big-tty",
        hafs_tests::hafs_bin().display(),
        c.conf_dir().display(),
        s(&local)
    );
    let mut cmd = std::process::Command::new(script);
    cmd.args(["-qec", &cmdline, "/dev/null"])
        .env_remove("HADOOP_CONF_DIR");
    let tty = hafs_tests::run_with_timeout(cmd, Duration::from_secs(120)).ok();
    assert!(tty.stdout.contains("/big-tty"), "{tty}");
    assert!(tty.stdout.contains("100%"), "{tty}");
    assert!(tty.stdout.contains('#'), "{tty}");
    assert_same_bytes(&get_with_hafs(&c, "/big-tty"), &data, "put on a tty");
}

fn which(tool: &str) -> String {
    let out = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .expect("run sh");
    let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        !p.is_empty(),
        "`{tool}` is missing: run scripts/test-deps.sh (it installs bsdutils)"
    );
    p
}
