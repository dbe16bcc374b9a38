//! Fencing (`dfs.ha.fencing.methods`): `shell(...)` environment, order, abort when every
//! method fails, the shell timeout; `sshfence` against a real sshd started by the test on
//! loopback with a generated key; and fencing inside `hafs haadmin -failover` on an HA
//! MiniCluster.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hafs_conf::Configuration;
use hafs_ha::{HaTarget, NodeFencer};
use hafs_tests::{current_user, free_port, python_bin, wait_for_port, MiniCluster, TempDir};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn target(port: u16) -> HaTarget {
    HaTarget {
        nameservice_id: "ns1".into(),
        namenode_id: "nn1".into(),
        address: format!("127.0.0.1:{port}"),
        host: "127.0.0.1".into(),
        port,
        auto_failover_enabled: false,
    }
}

fn fencer(conf: &Configuration) -> NodeFencer {
    NodeFencer::from_conf(conf)
        .expect("valid fencing config")
        .expect("fencing methods set")
}

fn fence(f: &NodeFencer, t: &HaTarget) -> bool {
    runtime().block_on(f.fence(t))
}

#[test]
fn shell_fencer_sees_target_and_configuration_in_its_environment() {
    let dir = TempDir::new("fence-env");
    let out = dir.join("env.txt");
    let mut conf = Configuration::new();
    conf.set("my.custom-key", "custom value");
    conf.set(
        "dfs.ha.fencing.methods",
        format!("shell(env > {}; exit 0)", out.display()),
    );
    assert!(fence(&fencer(&conf), &target(8020)));
    let env = std::fs::read_to_string(&out).expect("the script ran");
    for line in [
        "target_host=127.0.0.1",
        "target_port=8020",
        "target_address=127.0.0.1:8020",
        "target_nameserviceid=ns1",
        "target_namenodeid=nn1",
        "my_custom_key=custom value",
    ] {
        assert!(
            env.lines().any(|l| l == line),
            "{line} missing from:\n{env}"
        );
    }
    assert!(env
        .lines()
        .any(|l| l.starts_with("dfs_ha_fencing_methods=shell(")));
}

#[test]
fn methods_are_tried_in_order_until_one_succeeds() {
    let dir = TempDir::new("fence-order");
    let log = dir.join("log");
    let l = log.display();
    let mut conf = Configuration::new();
    conf.set(
        "dfs.ha.fencing.methods",
        format!(
            "shell(echo first >> {l}; exit 1)\n# a comment\n  shell(echo second >> {l})\nshell(echo third >> {l})"
        ),
    );
    assert!(fence(&fencer(&conf), &target(8020)));
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "first\nsecond\n");
}

#[test]
fn fencing_fails_when_every_method_fails() {
    let dir = TempDir::new("fence-allfail");
    let log = dir.join("log");
    let l = log.display();
    let mut conf = Configuration::new();
    // `bash -e`: a failing command in the middle fails the method.
    conf.set(
        "dfs.ha.fencing.methods",
        format!("shell(echo one >> {l}; false; echo unreachable >> {l})\nshell(echo two >> {l}; exit 3)"),
    );
    assert!(!fence(&fencer(&conf), &target(8020)));
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "one\ntwo\n");
}

#[test]
fn a_shell_method_running_past_its_timeout_is_killed_and_counts_as_failed() {
    let dir = TempDir::new("fence-timeout");
    let log = dir.join("log");
    let l = log.display();
    let mut conf = Configuration::new();
    conf.set("dfs.ha.fencing.shell.timeout", "1s");
    conf.set(
        "dfs.ha.fencing.methods",
        format!("shell(sleep 30; echo late >> {l})\nshell(echo next >> {l})"),
    );
    let start = Instant::now();
    assert!(fence(&fencer(&conf), &target(8020)));
    let took = start.elapsed();
    assert!(took < Duration::from_secs(10), "fencing took {took:?}");
    // The killed method never reached its echo (its whole process group died).
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "next\n");
}

#[test]
fn bad_fencing_configuration_is_an_error() {
    for spec in ["shell()", "sshfence(root:port)", "org.example.MyFencer(x)"] {
        let mut conf = Configuration::new();
        conf.set("dfs.ha.fencing.methods", spec);
        assert!(NodeFencer::from_conf(&conf).is_err(), "{spec} accepted");
    }
    assert!(NodeFencer::from_conf(&Configuration::new())
        .unwrap()
        .is_none());
}

// ------------------------------------------------------------------------- sshfence

/// An sshd of the test's own on 127.0.0.1, accepting one generated key for the current
/// user. Killed on drop.
struct Sshd {
    child: Child,
    port: u16,
    key: std::path::PathBuf,
    log: std::path::PathBuf,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path) {
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen is not installed: run scripts/test-deps.sh (openssh-client)");
    assert!(st.success(), "ssh-keygen failed");
}

fn start_sshd(dir: &TempDir) -> Sshd {
    let sshd = Path::new("/usr/sbin/sshd");
    assert!(
        sshd.exists(),
        "/usr/sbin/sshd is missing: run scripts/test-deps.sh (openssh-server)"
    );
    assert!(
        Command::new("ssh").arg("-V").output().is_ok(),
        "ssh is missing: run scripts/test-deps.sh (openssh-client)"
    );
    // sshd's privilege separation directory.
    std::fs::create_dir_all("/run/sshd").expect("create /run/sshd");
    let host_key = dir.join("host_key");
    keygen(&host_key);
    let key = dir.join("user_key");
    keygen(&key);
    let auth = dir.join("authorized_keys");
    std::fs::copy(dir.join("user_key.pub"), &auth).unwrap();
    let port = free_port();
    let config = dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "ListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\nPidFile {}\n\
             StrictModes no\nUsePAM no\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n\
             PubkeyAuthentication yes\nLogLevel VERBOSE\n",
            host_key.display(),
            auth.display(),
            dir.join("sshd.pid").display()
        ),
    )
    .unwrap();
    let log = dir.join("sshd.log");
    let child = Command::new(sshd)
        .arg("-D")
        .arg("-e")
        .arg("-f")
        .arg(&config)
        .arg("-p")
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start sshd");
    let sshd = Sshd {
        child,
        port,
        key,
        log,
    };
    assert!(
        wait_for_port(([127, 0, 0, 1], port).into(), Duration::from_secs(15)),
        "sshd did not listen on {port}:\n{}",
        std::fs::read_to_string(&sshd.log).unwrap_or_default()
    );
    sshd
}

/// A process (not this one: fuser kills whatever holds the port) listening on `port`.
fn dummy_listener(port: u16) -> Child {
    let child = Command::new(python_bin())
        .arg("-c")
        .arg(format!(
            "import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
             s.bind(('127.0.0.1',{port}))\ns.listen()\ntime.sleep(600)\n"
        ))
        .stdin(Stdio::null())
        .spawn()
        .expect("start the dummy listener");
    assert!(
        wait_for_port(([127, 0, 0, 1], port).into(), Duration::from_secs(15)),
        "dummy listener did not come up"
    );
    child
}

fn ssh_conf(sshd: &Sshd, key: &Path) -> Configuration {
    let mut conf = Configuration::new();
    conf.set(
        "dfs.ha.fencing.methods",
        format!("sshfence({}:{})", current_user(), sshd.port),
    );
    conf.set(
        "dfs.ha.fencing.ssh.private-key-files",
        key.display().to_string(),
    );
    conf.set("dfs.ha.fencing.ssh.connect-timeout", "5000");
    conf
}

fn wait_exit(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(st) = child.try_wait().unwrap() {
            return Some(st);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn sshfence_kills_the_process_listening_on_the_target_port() {
    let dir = TempDir::new("sshfence");
    let sshd = start_sshd(&dir);
    let port = free_port();
    let mut victim = dummy_listener(port);

    let fenced = fence(&fencer(&ssh_conf(&sshd, &sshd.key)), &target(port));
    let status = wait_exit(&mut victim, Duration::from_secs(10));
    if status.is_none() {
        let _ = victim.kill();
    }
    assert!(
        fenced,
        "sshfence failed; sshd log:\n{}",
        std::fs::read_to_string(&sshd.log).unwrap_or_default()
    );
    let status = status.expect("the listener survived sshfence");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");

    // Nothing listens any more: fuser finds nothing, the port check says it is down,
    // and that counts as fenced (as in Hadoop).
    assert!(fence(&fencer(&ssh_conf(&sshd, &sshd.key)), &target(port)));
}

#[test]
fn sshfence_fails_when_ssh_is_refused() {
    let dir = TempDir::new("sshfence-refused");
    let sshd = start_sshd(&dir);
    let port = free_port();
    let mut victim = dummy_listener(port);
    // A key sshd does not accept.
    let stranger = dir.join("stranger_key");
    keygen(&stranger);
    let fenced = fence(&fencer(&ssh_conf(&sshd, &stranger)), &target(port));
    let alive = victim.try_wait().unwrap().is_none();
    let _ = victim.kill();
    let _ = victim.wait();
    assert!(!fenced, "sshfence claimed success without a session");
    assert!(alive, "the listener was killed without a session");
}

// ------------------------------------------------- fencing inside haadmin -failover

#[test]
fn haadmin_failover_fences_the_old_active_and_aborts_when_fencing_fails() {
    let dir = TempDir::new("failover-fence");
    let record = dir.join("fenced.env");
    let mut c = MiniCluster::builder()
        .label("failover-fence")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(0)
        .start();
    c.wait_for_state(0, "active", Duration::from_secs(30));

    // --forcefence: the old Active is fenced even after stepping down gracefully.
    let methods = format!(
        "dfs.ha.fencing.methods=shell(false)\nshell(env > {})",
        record.display()
    );
    let out = c.haadmin(&["-D", &methods, "-failover", "--forcefence", "nn1", "nn2"]);
    assert!(out.success(), "{out}");
    assert!(
        out.stdout.contains("Failover from nn1 to nn2 successful"),
        "{out}"
    );
    let env = std::fs::read_to_string(&record).expect("the second fencing method ran");
    assert!(env.lines().any(|l| l == "target_namenodeid=nn1"), "{env}");
    assert!(
        env.lines()
            .any(|l| l == format!("target_port={}", c.nn_rpc_addr_of(0).port())),
        "{env}"
    );
    assert_eq!(c.ha_state(1), Ok("active"));
    assert_eq!(c.ha_state(0), Ok("standby"));

    // Every method fails: the failover aborts before the target is made Active.
    let out = c.haadmin(&[
        "-D",
        "dfs.ha.fencing.methods=shell(exit 1)",
        "-failover",
        "--forcefence",
        "nn2",
        "nn1",
    ]);
    assert_eq!(out.code(), Some(255), "{out}");
    assert!(
        out.stderr
            .contains("Failover failed: Unable to fence NameNode at")
            && out.stderr.contains("Fencing failed."),
        "{out}"
    );
    assert_eq!(
        c.ha_state(0),
        Ok("standby"),
        "the target must not become Active"
    );
    c.stop();
}
