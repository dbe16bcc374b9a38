//! `hafs sandbox`: one command brings up a local HA cluster (3 JournalNodes, two
//! NameNodes with failover controllers, 3 DataNodes) whose conf dir works for real
//! clients across a failover, and SIGTERM takes all of it down cleanly. The ready line
//! names the Active's pid; kill -9 of it makes the other NameNode Active by itself,
//! with the built-in election (default) and with ZooKeeper (`--zookeeper`). The
//! sandbox supervises every daemon (see `supervision`). `--racks` and `--nameservices`
//! shape the cluster.

#[path = "sandbox/supervision.rs"]
mod supervision;

use std::process::Command;
use std::time::{Duration, Instant};

use hafs_tests::{
    hafs_bin, hafs_cmd, hafs_dfs, java_fs, processes_matching, python, ClientTarget, Daemon,
    TempDir,
};

/// The value of `name` in a Hadoop XML file (enough for the keys we read here).
fn xml_value(xml: &str, name: &str) -> Option<String> {
    let at = xml.find(&format!("<name>{name}</name>"))?;
    let rest = &xml[at..];
    let start = rest.find("<value>")? + "<value>".len();
    let end = rest[start..].find("</value>")?;
    Some(rest[start..start + end].trim().to_string())
}

/// The pid in the ready line's `try kill -9 PID`.
fn pid_to_kill(ready: &str) -> u32 {
    let at = ready
        .find("try kill -9 ")
        .unwrap_or_else(|| panic!("ready line says no pid to kill: {ready:?}"));
    ready[at + "try kill -9 ".len()..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no pid after 'try kill -9': {ready:?}"))
}

/// One sandbox at a time: each prefers port 8020 for nn1, and two starting together
/// could both see it free.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Starts `hafs sandbox --dir DIR <extra>` and returns it with its ready line, after
/// checking that the line lists every daemon with a pid and names nn1 Active.
fn start_sandbox(dir: &TempDir, logs: &TempDir, extra: &[&str]) -> (Daemon, String) {
    let dir_str = dir.path().display().to_string();
    let mut cmd = Command::new(hafs_bin());
    cmd.env_remove("HADOOP_CONF_DIR")
        .args(["sandbox", "--dir", &dir_str])
        .args(extra);
    let mut sandbox = Daemon::spawn("sandbox", cmd, &logs.join("sandbox.log"));
    let ready = sandbox.wait_for_log_line("sandbox ready:", Duration::from_secs(180));
    assert!(ready.starts_with("sandbox ready:"), "ready line: {ready:?}");
    for daemon in [
        "jn1 ", "jn2 ", "jn3 ", "nn1 ", "nn2 ", "dn1 ", "dn2 ", "dn3 ",
    ] {
        assert!(
            ready.contains(daemon),
            "ready line lists no {daemon}: {ready:?}"
        );
    }
    assert!(
        ready.contains("active nn1"),
        "ready line names nn1 Active: {ready:?}"
    );
    assert!(
        ready.matches("(pid ").count() >= 8,
        "ready line gives pids: {ready:?}"
    );
    (sandbox, ready)
}

/// The sandbox's conf dir as a client target.
fn target_of(dir: &TempDir) -> ClientTarget {
    let conf_dir = dir.join("conf");
    let core = std::fs::read_to_string(conf_dir.join("core-site.xml"))
        .unwrap_or_else(|e| panic!("sandbox wrote no {}/core-site.xml: {e}", conf_dir.display()));
    let fs_uri = xml_value(&core, "fs.defaultFS").expect("core-site.xml sets fs.defaultFS");
    ClientTarget {
        conf_dir,
        fs_uri,
        env: Vec::new(),
    }
}

/// `haadmin -getServiceState nn`, or the error text.
fn service_state(target: &ClientTarget, nn: &str) -> String {
    let out = hafs_cmd(target, &["haadmin", "-getServiceState", nn]);
    out.stdout.trim().to_string()
}

/// kill -9 of the pid the ready line names (nn1), then waits until nn2 reports
/// Active by itself; the sandbox reports the change and brings nn1 back as Standby.
fn kill_active_and_wait_for_takeover(sandbox: &mut Daemon, ready: &str, target: &ClientTarget) {
    let pid = pid_to_kill(ready);
    assert!(
        ready.contains(&format!("nn1 is Active (pid {pid})"))
            && ready.contains(&format!("(pid {pid}, active")),
        "the pid to kill is the Active NameNode's: {ready:?}"
    );
    // SAFETY: kill(2) of a process of the sandbox this test started.
    let r = unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    assert_eq!(r, 0, "kill -9 {pid}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if service_state(target, "nn2") == "active" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "nn2 did not become Active within 60 s of kill -9 of nn1; sandbox log:\n{}",
            sandbox.log_tail(60)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    sandbox.wait_for_log_line("sandbox: nn2 is now Active", Duration::from_secs(30));
    sandbox.wait_for_log_line("sandbox: nn1 is back", Duration::from_secs(120));
    let deadline = Instant::now() + Duration::from_secs(60);
    while service_state(target, "nn1") != "standby" {
        assert!(
            Instant::now() < deadline,
            "the restarted nn1 did not report Standby; sandbox log:\n{}",
            sandbox.log_tail(60)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(service_state(target, "nn2"), "active", "nn2 stays Active");
}

/// SIGTERM: the sandbox stops everything it started (ZooKeeper too) and exits 0.
fn stop_and_check_nothing_left(mut sandbox: Daemon, dir: &TempDir) {
    let dir_str = dir.path().display().to_string();
    let pgid = sandbox.pid();
    sandbox.signal(libc::SIGTERM);
    let status = sandbox
        .wait_timeout(Duration::from_secs(60))
        .unwrap_or_else(|| {
            panic!(
                "sandbox did not exit within 60 s of SIGTERM; log:\n{}",
                sandbox.log_tail(100)
            )
        });
    assert_eq!(
        status.code(),
        Some(0),
        "sandbox exit: {status}; log:\n{}",
        sandbox.log_tail(100)
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = processes_matching(&dir_str, Some(pgid));
        if left.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            panic!("processes left behind by the sandbox: {left:#?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// kill -9 of nn2's controller (pid from the ready line) while nn2 is Active: the
/// sandbox starts it again, its lease or session runs out, one of the controllers
/// wins, and a NameNode is Active again.
fn kill_active_controller_and_wait(sandbox: &mut Daemon, ready: &str, target: &ClientTarget) {
    let at = ready
        .find("nn2 ")
        .and_then(|i| ready[i..].find("controller ").map(|j| i + j))
        .unwrap_or_else(|| panic!("ready line names no controller of nn2: {ready:?}"));
    let pid: u32 = ready[at..]
        .split(" pid ")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no pid of nn2's controller in {ready:?}"));
    // SAFETY: kill(2) of a process of the sandbox this test started.
    let r = unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    assert_eq!(r, 0, "kill -9 {pid}");
    sandbox.wait_for_log_line("sandbox: zkfc-nn2 is back", Duration::from_secs(120));
    // The new controller first finds the dead one's lease still live (2 s in the
    // sandbox) and keeps nn2 Standby; look once that lease has run out.
    std::thread::sleep(Duration::from_secs(3));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let states = [service_state(target, "nn1"), service_state(target, "nn2")];
        if states.iter().filter(|s| *s == "active").count() == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no single Active within 60 s of killing nn2's controller ({states:?}); log:\n{}",
            sandbox.log_tail(60)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `-put` of a fresh file through the conf dir and `-cat` of it back.
fn put_and_cat(target: &ClientTarget, logs: &TempDir, name: &str) {
    let local = logs.join(name);
    let text: String = (0..2000).map(|i| format!("{name} line {i}\n")).collect();
    std::fs::write(&local, &text).unwrap();
    let remote = format!("/sandbox-check/{name}");
    hafs_dfs(target, &["-mkdir", "-p", "/sandbox-check"]).ok();
    hafs_dfs(target, &["-put", local.to_str().unwrap(), &remote]).ok();
    let cat = hafs_dfs(target, &["-cat", &remote]).ok();
    assert!(
        cat.stdout == text,
        "hafs -cat of {remote} differs from what was put"
    );
}

#[test]
fn sandbox_serves_real_clients_fails_over_by_itself_and_stops_cleanly() {
    let _serial = one_at_a_time();
    let dir = TempDir::new("sandbox");
    let logs = TempDir::new("sandbox-log");
    let (mut sandbox, ready) = start_sandbox(&dir, &logs, &[]);
    assert!(
        ready.contains("built-in election"),
        "the default is the built-in election: {ready:?}"
    );

    let conf_dir = dir.join("conf");
    let core = std::fs::read_to_string(conf_dir.join("core-site.xml"))
        .unwrap_or_else(|e| panic!("sandbox wrote no {}/core-site.xml: {e}", conf_dir.display()));
    let fs_uri = xml_value(&core, "fs.defaultFS").expect("core-site.xml sets fs.defaultFS");
    assert_eq!(fs_uri, "hdfs://hafs", "fs.defaultFS names the nameservice");
    let hdfs = std::fs::read_to_string(conf_dir.join("hdfs-site.xml")).unwrap();
    assert_eq!(
        xml_value(&hdfs, "dfs.nameservices").as_deref(),
        Some("hafs")
    );
    assert_eq!(
        xml_value(&hdfs, "dfs.ha.namenodes.hafs").as_deref(),
        Some("nn1,nn2")
    );
    let target = ClientTarget {
        conf_dir,
        fs_uri,
        env: Vec::new(),
    };
    let state = hafs_cmd(&target, &["haadmin", "-getServiceState", "nn1"]).ok();
    assert_eq!(state.stdout.trim(), "active", "{state}");
    let state = hafs_cmd(&target, &["haadmin", "-getServiceState", "nn2"]).ok();
    assert_eq!(state.stdout.trim(), "standby", "{state}");

    // The Java client, configured by nothing but the sandbox's conf dir.
    java_fs(&target, &["-mkdir", "-p", "/sandbox-check/dir"]).ok();
    java_fs(&target, &["-touchz", "/sandbox-check/f"]).ok();
    let ls = java_fs(&target, &["-ls", "/sandbox-check"]).ok();
    assert!(
        ls.stdout.contains("/sandbox-check/dir") && ls.stdout.contains("/sandbox-check/f"),
        "{ls}"
    );
    hafs_dfs(&target, &["-test", "-f", "/sandbox-check/f"]).expect_code(0);

    // Data: written by Java, replicated 3 times over the sandbox's DataNodes, read by hafs.
    let local = logs.join("data.txt");
    let text: String = (0..5000).map(|i| format!("sandbox line {i}\n")).collect();
    std::fs::write(&local, &text).unwrap();
    java_fs(
        &target,
        &["-put", local.to_str().unwrap(), "/sandbox-check/data"],
    )
    .ok();
    let cat = hafs_dfs(&target, &["-cat", "/sandbox-check/data"]).ok();
    assert!(
        cat.stdout == text,
        "hafs -cat of a Java-written file differs"
    );
    let stat = java_fs(&target, &["-stat", "%r", "/sandbox-check/data"]).ok();
    assert_eq!(stat.stdout.trim(), "3", "{stat}");

    // kill -9 of the Active the ready line names: nn2 takes over by itself, and every
    // client follows to it through the same conf dir.
    kill_active_and_wait_for_takeover(&mut sandbox, &ready, &target);
    put_and_cat(&target, &logs, "after-failover");
    // The Active's controller dies too: it is started again, and the cluster serves.
    kill_active_controller_and_wait(&mut sandbox, &ready, &target);
    put_and_cat(&target, &logs, "after-controller-restart");
    let cat = java_fs(&target, &["-cat", "/sandbox-check/data"]).ok();
    assert!(cat.stdout == text, "Java -cat after the failover differs");
    let native = python(
        &target,
        "import os\nfrom hdfs_native import Client\nc = Client(os.environ['HAFS_FS_URI'])\n\
         c.mkdirs('/sandbox-check/native')\n\
         print(sorted(s.path for s in c.list_status('/sandbox-check')))\n",
    )
    .ok();
    assert!(native.stdout.contains("native"), "{native}");
    hafs_dfs(&target, &["-test", "-d", "/sandbox-check/native"]).expect_code(0);

    stop_and_check_nothing_left(sandbox, &dir);
}

#[test]
fn sandbox_with_zookeeper_fails_over_by_itself() {
    let _serial = one_at_a_time();
    let dir = TempDir::new("sandbox-zk");
    let logs = TempDir::new("sandbox-zk-log");
    let (mut sandbox, ready) = start_sandbox(&dir, &logs, &["--zookeeper"]);
    assert!(
        ready.contains("ZooKeeper election (zookeeper pid "),
        "the ready line names the ZooKeeper election: {ready:?}"
    );
    let target = target_of(&dir);
    let hdfs = std::fs::read_to_string(target.conf_dir.join("hdfs-site.xml")).unwrap();
    assert!(
        xml_value(&hdfs, "ha.zookeeper.quorum").is_some_and(|q| q.starts_with("127.0.0.1:")),
        "the conf names the sandbox's ZooKeeper"
    );
    put_and_cat(&target, &logs, "before-failover");
    kill_active_and_wait_for_takeover(&mut sandbox, &ready, &target);
    put_and_cat(&target, &logs, "after-failover");
    let cat = hafs_dfs(&target, &["-cat", "/sandbox-check/before-failover"]).ok();
    assert!(cat.stdout.contains("before-failover line 1999"), "{cat}");
    stop_and_check_nothing_left(sandbox, &dir);
}

#[test]
fn sandbox_with_manual_failover_runs_no_controllers() {
    let _serial = one_at_a_time();
    let dir = TempDir::new("sandbox-manual");
    let logs = TempDir::new("sandbox-manual-log");
    let (sandbox, ready) = start_sandbox(&dir, &logs, &["--manual-failover"]);
    assert!(
        ready.contains("manual failover") && !ready.contains("controller"),
        "{ready:?}"
    );
    let target = target_of(&dir);
    hafs_cmd(&target, &["haadmin", "-failover", "nn1", "nn2"]).ok();
    assert_eq!(service_state(&target, "nn2"), "active");
    assert_eq!(service_state(&target, "nn1"), "standby");
    put_and_cat(&target, &logs, "manual");
    stop_and_check_nothing_left(sandbox, &dir);
}

/// `hafs sandbox --racks 2`: each DataNode on its own address, placed on two racks by
/// the topology script the sandbox writes, as the NameNode reports them.
#[test]
fn sandbox_with_racks_places_datanodes_on_racks() {
    let _serial = one_at_a_time();
    let dir = TempDir::new("sandbox-racks");
    let logs = TempDir::new("sandbox-racks-log");
    let (sandbox, ready) = start_sandbox(&dir, &logs, &["--manual-failover", "--racks", "2"]);
    for dn in ["dn1 127.0.0.2:", "dn2 127.0.0.3:", "dn3 127.0.0.4:"] {
        assert!(ready.contains(dn), "ready line lists {dn}: {ready:?}");
    }
    let target = target_of(&dir);
    let out = hafs_cmd(&target, &["dfsadmin", "-printTopology"]).ok();
    let racks: Vec<(String, Vec<String>)> = out
        .stdout
        .split("Rack: ")
        .skip(1)
        .map(|block| {
            let mut lines = block.lines();
            let rack = lines.next().unwrap_or_default().to_string();
            let hosts = lines
                .filter_map(|l| l.trim().split(':').next().filter(|h| !h.is_empty()))
                .map(str::to_string)
                .collect();
            (rack, hosts)
        })
        .collect();
    assert_eq!(
        racks,
        vec![
            (
                "/rack1".to_string(),
                vec!["127.0.0.2".to_string(), "127.0.0.3".to_string()]
            ),
            ("/rack2".to_string(), vec!["127.0.0.4".to_string()]),
        ],
        "printTopology:\n{}",
        out.stdout
    );
    put_and_cat(&target, &logs, "racks");
    stop_and_check_nothing_left(sandbox, &dir);
}

/// `hafs sandbox --secure`: a Kerberos realm beside the cluster. The ready line says
/// which krb5.conf and ticket cache to use; with them Java and hdfs-native work as alice
/// in her home directory, without them nothing gets in, and a kill -9 of the Active
/// still fails over by itself (every daemon authenticates to the others).
#[test]
fn secure_sandbox_serves_kerberos_clients_and_fails_over() {
    let _serial = one_at_a_time();
    let dir = TempDir::new("sandbox-krb");
    let logs = TempDir::new("sandbox-krb-log");
    let (mut sandbox, ready) = start_sandbox(&dir, &logs, &["--secure", "integrity"]);
    let word_after = |needle: &str| -> String {
        let at = ready
            .find(needle)
            .unwrap_or_else(|| panic!("ready line has no {needle:?}: {ready:?}"));
        ready[at + needle.len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    let krb5_conf = word_after("export KRB5_CONFIG=");
    let ccache = word_after("KRB5CCNAME=");
    let mut target = target_of(&dir);
    let no_ticket = ClientTarget {
        env: vec![
            ("KRB5_CONFIG".into(), krb5_conf.clone()),
            (
                "KRB5CCNAME".into(),
                format!("FILE:{}", logs.join("none").display()),
            ),
            (
                "HADOOP_FS_JAVA_OPTS".into(),
                format!("-Djava.security.krb5.conf={krb5_conf}"),
            ),
        ],
        ..target.clone()
    };
    target.env = vec![
        ("KRB5_CONFIG".into(), krb5_conf.clone()),
        ("KRB5CCNAME".into(), ccache),
        (
            "HADOOP_FS_JAVA_OPTS".into(),
            format!("-Djava.security.krb5.conf={krb5_conf}"),
        ),
    ];
    let local = logs.join("payload");
    std::fs::write(&local, "kerberos sandbox\n".repeat(500)).unwrap();
    java_fs(
        &target,
        &["-put", local.to_str().unwrap(), "/user/alice/java"],
    )
    .ok();
    let out = python(
        &target,
        r#"
import os
from hdfs_native import Client
c = Client(os.environ["HAFS_FS_URI"])
with c.read("/user/alice/java") as f:
    data = f.read()
print(c.get_file_info("/user/alice/java").owner, len(data))
"#,
    )
    .ok();
    assert!(out.stdout.contains("alice 8500"), "{out}");
    let refused = java_fs(&no_ticket, &["-ls", "/user/alice"]);
    assert!(!refused.success(), "{refused}");

    kill_active_and_wait_for_takeover(&mut sandbox, &ready, &target);
    let cat = java_fs(&target, &["-cat", "/user/alice/java"]).ok();
    assert_eq!(cat.stdout, "kerberos sandbox\n".repeat(500));
    stop_and_check_nothing_left(sandbox, &dir);
}

/// `hafs sandbox --nameservices 2`: two HA nameservices sharing the JournalNodes and
/// DataNodes behind the ViewFs mount table of the conf dir. Java's `hadoop fs -put`
/// into each mount lands in that nameservice (read through its own `hdfs://nsK`),
/// other paths fall back to ns1, `hafs dfs -ls /` lists the mounts, and a kill -9 of
/// ns2's Active is taken over within ns2 while ns1 keeps its Active.
#[test]
fn sandbox_with_two_nameservices_mounts_each_and_fails_over_each() {
    let _serial = one_at_a_time();
    let dir = TempDir::new("sandbox-fed");
    let logs = TempDir::new("sandbox-fed-log");
    let dir_str = dir.path().display().to_string();
    let mut cmd = Command::new(hafs_bin());
    cmd.env_remove("HADOOP_CONF_DIR")
        .args(["sandbox", "--dir", &dir_str, "--nameservices", "2"]);
    let mut sandbox = Daemon::spawn("sandbox", cmd, &logs.join("sandbox.log"));
    let ready = sandbox.wait_for_log_line("sandbox ready:", Duration::from_secs(240));
    for needle in [
        "nameservices hdfs://ns1, hdfs://ns2",
        "mount table viewfs://hafs",
        "active ns1-nn1, ns2-nn1",
        "ns1-nn1 ",
        "ns1-nn2 ",
        "ns2-nn1 ",
        "ns2-nn2 ",
        "jn3 ",
        "dn3 ",
    ] {
        assert!(
            ready.contains(needle),
            "ready line lacks {needle:?}: {ready:?}"
        );
    }
    let target = target_of(&dir);
    assert_eq!(target.fs_uri, "viewfs://hafs");

    // Java writes into each mount and into a path outside them.
    for (path, text) in [
        ("/ns1/one.txt", "written to ns1\n"),
        ("/ns2/two.txt", "written to ns2\n"),
        ("/fallback/three.txt", "written outside the mounts\n"),
    ] {
        let local = logs.join(path.rsplit('/').next().unwrap());
        std::fs::write(&local, text).unwrap();
        let parent = &path[..path.rfind('/').unwrap()];
        java_fs(&target, &["-mkdir", "-p", parent]).ok();
        java_fs(&target, &["-put", local.to_str().unwrap(), path]).ok();
    }
    // Each file is in its own nameservice, read through that nameservice's URI.
    let on = |ns: &str, path: &str| format!("hdfs://{ns}{path}");
    for (uri, text) in [
        (on("ns1", "/one.txt"), "written to ns1\n"),
        (on("ns2", "/two.txt"), "written to ns2\n"),
        (
            on("ns1", "/fallback/three.txt"),
            "written outside the mounts\n",
        ),
    ] {
        let cat = hafs_dfs(&target, &["-cat", &uri]).ok();
        assert_eq!(cat.stdout, text, "{uri}");
    }
    for uri in [on("ns2", "/one.txt"), on("ns1", "/two.txt")] {
        let out = hafs_dfs(&target, &["-test", "-e", &uri]);
        assert_eq!(out.status.code(), Some(1), "{uri} must not exist: {out}");
    }
    let ls = hafs_dfs(&target, &["-ls", "/"]).ok();
    for mount in ["/ns1", "/ns2", "/fallback"] {
        assert!(
            ls.stdout.lines().any(|l| l.ends_with(&format!(" {mount}"))),
            "`hafs dfs -ls /` lists no {mount}:\n{}",
            ls.stdout
        );
    }

    // kill -9 of ns2's Active: ns2-nn2 takes over, ns1 is untouched, and the sandbox
    // brings ns2-nn1 back as Standby.
    let pid = ready
        .split("ns2-nn1 ")
        .nth(1)
        .and_then(|r| r.split("(pid ").nth(1))
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|p| p.parse::<i32>().ok())
        .unwrap_or_else(|| panic!("no pid of ns2-nn1 in {ready:?}"));
    // SAFETY: kill(2) of a process of the sandbox this test started.
    assert_eq!(
        unsafe { libc::kill(pid, libc::SIGKILL) },
        0,
        "kill -9 {pid}"
    );
    sandbox.wait_for_log_line("sandbox: ns2-nn2 is now Active", Duration::from_secs(60));
    sandbox.wait_for_log_line("sandbox: ns2-nn1 is back", Duration::from_secs(120));
    let state = |ns: &str, nn: &str| {
        let out = hafs_cmd(&target, &["haadmin", "-ns", ns, "-getServiceState", nn]);
        out.stdout.trim().to_string()
    };
    assert_eq!(state("ns1", "nn1"), "active");
    assert_eq!(state("ns2", "nn2"), "active");
    assert_eq!(state("ns2", "nn1"), "standby");
    let cat = hafs_dfs(&target, &["-cat", "/ns2/two.txt"]).ok();
    assert_eq!(cat.stdout, "written to ns2\n");
    stop_and_check_nothing_left(sandbox, &dir);
}
