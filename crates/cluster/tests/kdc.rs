//! The throwaway KDC against the real MIT tools: it starts and stops quickly, issues
//! tickets for keytab and password users, serves service tickets, and two fixtures run
//! side by side without meeting.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use hafs_cluster::kdc::{Kdc, REALM};

fn scratch(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hafs-kdc-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs an MIT client tool with the fixture's environment; panics with its output on
/// failure.
fn run(kdc: &Kdc, program: &str, args: &[&str]) -> String {
    let out = kdc
        .command(program)
        .expect("MIT tool (scripts/test-deps.sh)")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{program} {args:?} failed:\n{text}");
    text
}

fn exercise(kdc: &Kdc) {
    let nn = kdc.add_service("nn", "localhost").unwrap();
    let dn = kdc.add_service("dn", "localhost").unwrap();
    assert_ne!(nn, dn, "one keytab per principal");
    let err = kdc.add_service("nn", "localhost").unwrap_err().to_string();
    assert!(err.contains("already exists"), "{err}");
    let err = kdc
        .add_service("nn; rm", "localhost")
        .unwrap_err()
        .to_string();
    assert!(err.contains("letters, digits"), "{err}");
    let listing = run(kdc, "klist", &["-kt", nn.to_str().unwrap()]);
    assert!(
        listing.contains(&format!("nn/localhost@{REALM}")),
        "{listing}"
    );
    assert!(!listing.contains("dn/localhost"), "{listing}");

    // A service logs in from its keytab and gets a ticket for another service.
    let cc = kdc.dir().join("ccache-dn-login");
    let cc_arg = format!("FILE:{}", cc.display());
    run(
        kdc,
        "kinit",
        &["-c", &cc_arg, "-kt", dn.to_str().unwrap(), "dn/localhost"],
    );
    let kvno = run(
        kdc,
        "kvno",
        &["-c", &cc_arg, &format!("nn/localhost@{REALM}")],
    );
    assert!(
        kvno.contains(&format!("nn/localhost@{REALM}: kvno = ")),
        "{kvno}"
    );

    // Users: one with a keytab, one with a password, each with a FILE ccache.
    let alice = kdc.user_ccache("alice").unwrap();
    kdc.add_user("bob", "bob-secret").unwrap();
    let bob = kdc.user_ccache("bob").unwrap();
    for (user, cc) in [("alice", &alice), ("bob", &bob)] {
        let cc_arg = format!("FILE:{}", cc.display());
        let klist = run(kdc, "klist", &["-c", &cc_arg]);
        assert!(
            klist.contains(&format!("Default principal: {user}@{REALM}")),
            "{klist}"
        );
        let kvno = run(kdc, "kvno", &["-c", &cc_arg, "nn/localhost"]);
        assert!(kvno.contains("nn/localhost@HAFS.TEST: kvno"), "{kvno}");
    }
}

#[test]
fn a_kdc_starts_serves_tickets_and_stops_quickly() {
    let dir = scratch("one");
    let t = Instant::now();
    let mut kdc = Kdc::start(&dir).expect("start the KDC");
    let started = t.elapsed();
    assert!(
        started < Duration::from_secs(3),
        "KDC took {started:?} to start"
    );
    assert!(kdc.java_option().starts_with("-Djava.security.krb5.conf="));
    let env = kdc.env();
    for key in ["KRB5_CONFIG", "KRB5_KDC_PROFILE", "KRB5RCACHEDIR"] {
        assert!(
            env.iter().any(|(k, _)| *k == key),
            "{key} missing from {env:?}"
        );
    }
    exercise(&kdc);

    let port = kdc.port();
    let t = Instant::now();
    kdc.stop();
    assert!(t.elapsed() < Duration::from_secs(2));
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the KDC still listens after stop"
    );
    // No KDC, no tickets.
    let out = kdc
        .command("kinit")
        .unwrap()
        .args(["-c", &format!("FILE:{}/cc-after", dir.display()), "-kt"])
        .arg(dir.join("keytabs/nn_localhost.keytab"))
        .arg("nn/localhost")
        .output()
        .unwrap();
    assert!(!out.status.success());
    drop(kdc);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_kdcs_run_side_by_side_without_meeting() {
    let dirs = [scratch("a"), scratch("b")];
    let kdcs: Vec<Kdc> = std::thread::scope(|s| {
        let hs: Vec<_> = dirs
            .iter()
            .map(|d| s.spawn(|| Kdc::start(d).unwrap()))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_ne!(kdcs[0].port(), kdcs[1].port());
    std::thread::scope(|s| {
        for k in &kdcs {
            s.spawn(|| exercise(k));
        }
    });
    // A keytab from one realm database is useless at the other KDC (same realm name,
    // different keys): kinit with a's nn keytab against b fails.
    let a_nn = kdcs[0].dir().join("keytabs/nn_localhost.keytab");
    let out = kdcs[1]
        .command("kinit")
        .unwrap()
        .args([
            "-c",
            &format!("FILE:{}/cc-cross", kdcs[1].dir().display()),
            "-kt",
        ])
        .arg(&a_nn)
        .arg("nn/localhost")
        .output()
        .unwrap();
    assert!(!out.status.success(), "a foreign keytab got a ticket");
    drop(kdcs);
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}
