//! SPNEGO on the NameNode's HTTP server, against a secure HA cluster with a real KDC:
//! `curl --negotiate` as the NameNode principal gets an fsimage, as alice a 403,
//! without a ticket a 401 naming `Negotiate`; `user.name` is ignored (the 2017
//! open-WebHDFS wipes do nothing); forged, fuzzed and oversized tokens are refused
//! while the server keeps serving; the Standby's checkpoint upload and
//! `-bootstrapStandby` still work, authenticated with the NameNodes' keytabs.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use hafs_security::block_token::base64_encode;
use hafs_tests::{
    fsimage_txids, hafs_bin, hafs_cmd, hafs_dfs, parse_ls, run_with_timeout, CmdOutput,
    MiniCluster, XorShift64,
};

/// What a raw HTTP exchange returned.
struct Reply {
    status: u16,
    head: String,
    body: String,
}

/// Sends `request` as is and reads the whole answer (the server closes).
fn raw_http(addr: SocketAddr, request: &[u8]) -> Reply {
    let timeout = Duration::from_secs(10);
    let mut s = TcpStream::connect_timeout(&addr, timeout).expect("connect");
    s.set_read_timeout(Some(timeout)).unwrap();
    s.set_write_timeout(Some(timeout)).unwrap();
    // The server may answer and close before taking every byte of a huge head.
    let _ = s.write_all(request);
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    Reply {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

fn get(addr: SocketAddr, target: &str, extra: &str) -> Reply {
    raw_http(
        addr,
        format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n{extra}Connection: close\r\n\r\n")
            .as_bytes(),
    )
}

/// `curl --negotiate` with the ticket cache `ccache` (none: no ticket); returns the
/// status code, the response head and the body file.
fn curl(
    c: &MiniCluster,
    ccache: Option<&Path>,
    method: &str,
    url: &str,
    out: &Path,
) -> (u16, String) {
    let realm = c.realm().unwrap();
    let head = out.with_extension("head");
    let mut cmd = Command::new("curl");
    cmd.envs(realm.daemon_env())
        .env(
            "KRB5CCNAME",
            match ccache {
                Some(p) => format!("FILE:{}", p.display()),
                None => format!("FILE:{}", realm.kdc().dir().join("no-ccache").display()),
            },
        )
        .args(["-sS", "--negotiate", "-u", ":", "-X", method, "-o"])
        .arg(out)
        .arg("-D")
        .arg(&head)
        .args(["-w", "%{http_code}", url]);
    let r = run_with_timeout(cmd, Duration::from_secs(30));
    assert!(r.success(), "curl failed to run: {r}");
    let code = r.stdout.trim().parse().unwrap_or_else(|_| panic!("{r}"));
    (code, std::fs::read_to_string(&head).unwrap_or_default())
}

/// A ticket cache for a service principal from its keytab (`kinit -kt`).
fn service_ccache(c: &MiniCluster, principal: &str, keytab: &Path, name: &str) -> PathBuf {
    let kdc = c.realm().unwrap().kdc();
    let ccache = kdc.dir().join(name);
    let mut cmd = kdc.command("kinit").unwrap();
    cmd.arg("-c")
        .arg(format!("FILE:{}", ccache.display()))
        .arg("-kt")
        .arg(keytab)
        .arg(principal);
    let out = run_with_timeout(cmd, Duration::from_secs(20));
    assert!(out.success(), "{out}");
    ccache
}

fn bootstrap(c: &MiniCluster, i: usize) -> CmdOutput {
    let mut cmd = Command::new(hafs_bin());
    cmd.env_remove("HADOOP_CONF_DIR")
        .envs(c.realm().unwrap().daemon_env())
        .arg("--config")
        .arg(c.nn_conf_dir(i))
        .args(["namenode", "-bootstrapStandby", "-force", "-nonInteractive"]);
    run_with_timeout(cmd, Duration::from_secs(60))
}

#[test]
fn the_namenode_http_server_requires_spnego_and_namenode_principals() {
    let mut c = MiniCluster::builder()
        .label("krb-spnego")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(1)
        .kerberos("authentication")
        .conf("dfs.namenode.checkpoint.txns", "20")
        .conf("dfs.namenode.checkpoint.check.period", "1")
        .conf("dfs.cluster.administrators", "bob")
        .start();
    c.wait_for_state(1, "standby", Duration::from_secs(30));
    let hdfs = c.as_user("hdfs");
    hafs_dfs(&hdfs, &["-mkdir", "-p", "/tmp/keep"]).ok();
    let active = c.nn_http_addr_of(0);
    let url = |path: &str| format!("http://localhost:{}{path}", active.port());
    let scratch = c.dir().join("spnego");
    std::fs::create_dir_all(&scratch).unwrap();
    let realm = c.realm().unwrap();
    let nn_cc = service_ccache(&c, "nn/localhost@HAFS.TEST", realm.nn_keytab(), "ccache-nn");
    let alice_cc = realm.kdc().user_ccache("alice").unwrap();

    // The NameNode principal gets the image, with SPNEGO done by curl.
    let image = scratch.join("image");
    let (code, head) = curl(
        &c,
        Some(&nn_cc),
        "GET",
        &url("/imagetransfer?getimage=1&txid=latest"),
        &image,
    );
    assert_eq!(code, 200, "{head}");
    assert!(head.contains("X-Image-Txid:"), "{head}");
    assert!(
        // Header names are case-insensitive; hyper writes `Www-Authenticate`.
        head.to_ascii_lowercase()
            .contains("www-authenticate: negotiate "),
        "the mutual-authentication reply: {head}"
    );
    assert!(std::fs::metadata(&image).unwrap().len() > 0);

    // alice is authenticated but is no NameNode: 403 with Hadoop's message; the
    // status page is open to her.
    let (code, _) = curl(
        &c,
        Some(&alice_cc),
        "GET",
        &url("/imagetransfer?getimage=1&txid=latest"),
        &scratch.join("alice"),
    );
    assert_eq!(code, 403);
    let body = std::fs::read_to_string(scratch.join("alice")).unwrap();
    assert!(
        body.contains(
            "Only Namenode, Secondary Namenode, and administrators may access this servlet"
        ),
        "{body}"
    );
    // An administrator (dfs.cluster.administrators) may fetch it, as in Hadoop.
    let bob_cc = realm.kdc().user_ccache("bob").unwrap();
    let (code, _) = curl(
        &c,
        Some(&bob_cc),
        "GET",
        &url("/imagetransfer?getimage=1&txid=latest"),
        &scratch.join("bob"),
    );
    assert_eq!(code, 200);
    let (code, _) = curl(
        &c,
        Some(&alice_cc),
        "GET",
        &url("/status"),
        &scratch.join("st"),
    );
    assert_eq!(code, 200);
    assert!(std::fs::read_to_string(scratch.join("st"))
        .unwrap()
        .contains("state: active"));

    // fsck runs as the authenticated caller: alice's report names her principal and
    // walks what she may list; a directory only hdfs may list ends her walk with
    // Hadoop's permission error and FAILED (which DFSck exits -1 on), whatever
    // `ugi`/`user.name` claim.
    hafs_dfs(&hdfs, &["-mkdir", "-p", "/private/inner"]).ok();
    hafs_dfs(&hdfs, &["-chmod", "700", "/private"]).ok();
    let (code, head) = curl(
        &c,
        Some(&alice_cc),
        "GET",
        &url("/fsck?ugi=alice&path=%2Ftmp"),
        &scratch.join("fsck"),
    );
    assert_eq!(code, 200, "{head}");
    let body = std::fs::read_to_string(scratch.join("fsck")).unwrap();
    assert!(
        body.starts_with("FSCK started by alice@HAFS.TEST (auth:KERBEROS_SSL) from /")
            && body.contains(" for path /tmp at "),
        "{body}"
    );
    assert!(
        body.ends_with("The filesystem under path '/tmp' is HEALTHY"),
        "{body}"
    );
    for query in [
        "/fsck?ugi=alice&path=%2Fprivate",
        "/fsck?ugi=hdfs&user.name=hdfs&path=%2Fprivate",
    ] {
        let (code, _) = curl(
            &c,
            Some(&alice_cc),
            "GET",
            &url(query),
            &scratch.join("fsck"),
        );
        assert_eq!(code, 200);
        let body = std::fs::read_to_string(scratch.join("fsck")).unwrap();
        assert!(
            body.contains("Permission denied: user=alice"),
            "{query}: {body}"
        );
        assert!(
            body.ends_with("Fsck on path '/private' FAILED"),
            "{query}: {body}"
        );
        assert!(!body.contains("/private/inner"), "{query}: {body}");
    }
    // WebHDFS in secure mode: the caller is the SPNEGO principal, `user.name` is
    // ignored, the namespace's permissions apply, and no ticket is a 401.
    hafs_dfs(&hdfs, &["-mkdir", "/shared"]).ok();
    hafs_dfs(&hdfs, &["-chmod", "777", "/shared"]).ok();
    let (code, head) = curl(
        &c,
        Some(&alice_cc),
        "PUT",
        &url("/webhdfs/v1/shared/alice?op=MKDIRS&user.name=hdfs"),
        &scratch.join("web"),
    );
    assert_eq!(code, 200, "{head}");
    let (code, _) = curl(
        &c,
        Some(&alice_cc),
        "GET",
        &url("/webhdfs/v1/shared/alice?op=GETFILESTATUS&user.name=hdfs"),
        &scratch.join("web"),
    );
    assert_eq!(code, 200);
    let st = std::fs::read_to_string(scratch.join("web")).unwrap();
    assert!(st.contains(r#""owner":"alice""#), "{st}");
    let (code, _) = curl(
        &c,
        Some(&alice_cc),
        "GET",
        &url("/webhdfs/v1/private?op=LISTSTATUS&user.name=hdfs"),
        &scratch.join("web"),
    );
    assert_eq!(code, 403);
    let body = std::fs::read_to_string(scratch.join("web")).unwrap();
    assert!(
        body.contains(r#""exception":"AccessControlException""#) && body.contains("alice"),
        "{body}"
    );
    let (code, head) = curl(
        &c,
        None,
        "GET",
        &url("/webhdfs/v1/shared?op=LISTSTATUS&user.name=hdfs"),
        &scratch.join("web"),
    );
    assert_eq!(code, 401, "{head}");
    // The data ops' DataNode step would need the caller's delegation token, which
    // hafs does not hand out over WebHDFS yet: a clear 403, not a SIMPLE login.
    let (code, head) = curl(
        &c,
        Some(&alice_cc),
        "PUT",
        &url("/webhdfs/v1/shared/f?op=CREATE&noredirect=true"),
        &scratch.join("web"),
    );
    assert_eq!(code, 200, "{head}");
    let loc = std::fs::read_to_string(scratch.join("web")).unwrap();
    let loc: serde_json::Value = serde_json::from_str(&loc).unwrap();
    let dn_url = loc["Location"]
        .as_str()
        .unwrap()
        .replace("127.0.0.1", "localhost");
    let (code, head) = curl(&c, Some(&alice_cc), "PUT", &dn_url, &scratch.join("web"));
    let body = std::fs::read_to_string(scratch.join("web")).unwrap();
    assert_eq!(code, 403, "{head}{body}");
    assert!(body.contains("delegation token"), "{body}");

    // hdfs, the superuser, walks it.
    let hdfs_cc = realm.kdc().user_ccache("hdfs").unwrap();
    let (code, _) = curl(
        &c,
        Some(&hdfs_cc),
        "GET",
        &url("/fsck?ugi=hdfs&files=1&path=%2Fprivate"),
        &scratch.join("fsck"),
    );
    assert_eq!(code, 200);
    let body = std::fs::read_to_string(scratch.join("fsck")).unwrap();
    assert!(body.contains("/private/inner <dir>"), "{body}");
    assert!(body.ends_with("is HEALTHY"), "{body}");
    // `hafs fsck` is a client of the same /fsck, with SPNEGO from the user's ticket.
    let alice = c.as_user("alice");
    let out = hafs_cmd(&alice, &["fsck", "/tmp"]);
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(
        out.stdout.contains("FSCK started by alice@HAFS.TEST"),
        "{out}"
    );
    let out = hafs_cmd(&alice, &["fsck", "/private"]);
    assert_eq!(out.code(), Some(255), "DFSck's -1: {out}");
    assert!(
        out.stdout.contains("Permission denied: user=alice"),
        "{out}"
    );

    // No ticket: 401 naming the scheme, on every path.
    let (code, head) = curl(
        &c,
        None,
        "GET",
        &url("/imagetransfer?getimage=1&txid=latest"),
        &scratch.join("none"),
    );
    assert_eq!(code, 401, "{head}");
    for target in [
        "/",
        "/imagetransfer?getimage=1&txid=latest",
        "/fsck?ugi=hdfs&user.name=hdfs&path=%2F",
        "/no/such/page",
    ] {
        let r = get(active, target, "");
        assert_eq!(r.status, 401, "{target}: {}", r.head);
        assert!(
            r.head
                .to_ascii_lowercase()
                .contains("www-authenticate: negotiate"),
            "{target}: {}",
            r.head
        );
        assert!(r.body.contains("Authentication required"), "{}", r.body);
    }

    // user.name is ignored: claiming hdfs without Negotiate gets nothing, and the
    // 2017 open-WebHDFS wipe does nothing.
    let r = get(
        active,
        "/imagetransfer?getimage=1&txid=latest&user.name=hdfs",
        "",
    );
    assert_eq!(r.status, 401, "{}", r.head);
    let r = raw_http(
        active,
        b"DELETE /webhdfs/v1/tmp?op=DELETE&recursive=true&user.name=hdfs HTTP/1.1\r\n\
          Host: localhost\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 401, "{}", r.head);
    let (code, _) = curl(
        &c,
        None,
        "DELETE",
        &url("/webhdfs/v1/tmp?op=DELETE&recursive=true&user.name=hdfs"),
        &scratch.join("wipe"),
    );
    assert_eq!(code, 401);
    let ls = hafs_dfs(&hdfs, &["-ls", "/tmp"]).ok();
    assert!(ls.stdout.contains("/tmp/keep"), "{ls}");

    // Forged, fuzzed and oversized tokens: refused (403, as Hadoop's filter), never a
    // crash; a head over 64 KiB is refused whole.
    let r = get(
        active,
        "/",
        "Authorization: Negotiate YIIBfjCCAXqgAwIBAqEDAgEO\r\n",
    );
    assert_eq!(r.status, 403, "{} {}", r.head, r.body);
    assert!(r.body.contains("GSSException"), "{}", r.body);
    let r = get(active, "/", "Authorization: Negotiate ****\r\n");
    assert_eq!(r.status, 403, "{}", r.body);
    let big = "A".repeat(60 * 1024);
    let r = get(active, "/", &format!("Authorization: Negotiate {big}\r\n"));
    assert_eq!(r.status, 403, "{}", r.body);
    let huge = "A".repeat(70 * 1024);
    let r = get(active, "/", &format!("Authorization: Negotiate {huge}\r\n"));
    assert_eq!(r.status, 431, "{}", r.head);
    let mut rng = XorShift64::new(0x5eed_5be6);
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..200 {
        let len = 1 + (rng.next_u64() % 3000) as usize;
        // A real SPNEGO prefix (0x60 … 06 06 2b 06 01 05 05 02) half the time, so the
        // fuzz reaches past the outer tag.
        let mut token: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        if i % 2 == 0 && len > 12 {
            token[..10]
                .copy_from_slice(&[0x60, 0x82, 0x01, 0x00, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05]);
        }
        let b64 = base64_encode(&token);
        let r = get(active, "/", &format!("Authorization: Negotiate {b64}\r\n"));
        *statuses.entry(r.status).or_insert(0) += 1;
    }
    assert_eq!(
        statuses.keys().copied().collect::<Vec<_>>(),
        vec![403],
        "{statuses:?}"
    );
    // Still serving the real thing.
    let (code, _) = curl(
        &c,
        Some(&nn_cc),
        "GET",
        &url("/imagetransfer?getimage=1&txid=latest"),
        &scratch.join("again"),
    );
    assert_eq!(code, 200);

    // The Standby's checkpoint reaches the Active through SPNEGO.
    let before = fsimage_txids(c.nn_name_dir_of(0));
    let dirs: Vec<String> = (0..30).map(|i| format!("/cp/d{i:02}")).collect();
    let mut args = vec!["-mkdir", "-p"];
    args.extend(dirs.iter().map(String::as_str));
    hafs_dfs(&hdfs, &args).ok();
    let deadline = Instant::now() + Duration::from_secs(60);
    let uploaded = loop {
        let now = fsimage_txids(c.nn_name_dir_of(0));
        if let Some(&t) = now.iter().rev().find(|t| !before.contains(t) && **t >= 20) {
            break t;
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint reached nn1: {now:?}\n{}",
            c.nn_log(1)
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(fsimage_txids(c.nn_name_dir_of(1)).contains(&uploaded));
    assert!(
        c.nn_log(0)
            .contains("received and saved an uploaded fsimage"),
        "{}",
        c.nn_log(0)
    );

    // bootstrapStandby of a brand-new nn2 downloads from nn1 with nn2's keytab.
    c.stop_nn(1);
    let dir = c.nn_name_dir_of(1).to_path_buf();
    std::fs::remove_dir_all(&dir).unwrap();
    let out = bootstrap(&c, 1);
    assert!(out.success(), "{out}");
    assert!(!fsimage_txids(&dir).is_empty(), "{out}");
    c.start_nn(1);
    c.wait_for_state(1, "standby", Duration::from_secs(30));
    c.failover(0, 1);
    c.wait_for_state(1, "active", Duration::from_secs(30));
    let ls = hafs_dfs(&hdfs, &["-ls", "/cp"]).ok();
    let names: Vec<String> = parse_ls(&ls.stdout).into_iter().map(|e| e.path).collect();
    assert_eq!(names, dirs);
    c.stop();
}
