//! WebHDFS with real clients against one HA cluster (two NameNodes on JournalNodes,
//! three DataNodes): curl through every op (JSON shapes, RemoteException bodies and
//! their status codes, the Standby's 403 StandbyException, `/isActive`, ranged reads,
//! hostile paths and bodies), the Java `hadoop fs` shell on `webhdfs://ns1` compared
//! with the same commands over `hdfs://`, HdfsCLI given both NameNode URLs, fsspec's
//! webhdfs, a 300 MB upload read back byte-exact, and kill -9 of the Active in the
//! middle of an upload.
//!
//! One cluster serves every scenario (CI time); the destructive one (the kill) is last.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hafs_tests::{
    current_user, hafs_cmd, hafs_dfs, java_fs, jaxrs_shim_jar, parse_ls, python, run_with_timeout,
    ClientTarget, LsEntry, MiniCluster, NAMESERVICE,
};
use serde_json::Value;

/// `dfs.ls.limit` for the cluster: small, so that listings take several pages.
const LS_LIMIT: usize = 3;

/// An HTTP exchange as curl saw it.
struct Http {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Http {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}), status {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn header(&self, name: &str) -> Option<String> {
        // With -L, several responses' heads are in the file: the last one counts.
        self.headers
            .lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
            .next_back()
    }

    /// Asserts a RemoteException of `class` (simple name) with `status`; returns the
    /// message.
    #[track_caller]
    fn expect_remote(&self, status: u16, class: &str) -> String {
        assert_eq!(self.status, status, "{}", self.text());
        let v = self.json();
        let e = &v["RemoteException"];
        assert_eq!(e["exception"], class, "{v}");
        let java = e["javaClassName"].as_str().unwrap_or_default();
        assert!(java.ends_with(&format!(".{class}")), "{v}");
        e["message"].as_str().unwrap_or_default().to_string()
    }
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// Runs curl with `args`; the head and body go to files in `dir`.
#[track_caller]
fn curl(dir: &Path, args: &[&str]) -> Http {
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let head = dir.join(format!("curl-{n}.head"));
    let body = dir.join(format!("curl-{n}.body"));
    let mut cmd = Command::new("curl");
    cmd.arg("-sS")
        .arg("-D")
        .arg(&head)
        .arg("-o")
        .arg(&body)
        .arg("-w")
        .arg("%{http_code}")
        .args(args);
    let out = run_with_timeout(cmd, Duration::from_secs(300));
    assert!(
        out.success(),
        "curl {args:?} failed (is curl installed?): {out}"
    );
    let status = out
        .stdout
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{out}"));
    let r = Http {
        status,
        headers: std::fs::read_to_string(&head).unwrap_or_default(),
        body: std::fs::read(&body).unwrap_or_default(),
    };
    let _ = std::fs::remove_file(&head);
    let _ = std::fs::remove_file(&body);
    r
}

struct Web {
    nn: [SocketAddr; 2],
    scratch: PathBuf,
    /// The cluster as our RPC client sees it (hdfs://ns1).
    target: ClientTarget,
}

impl Web {
    fn url(&self, nn: usize, path: &str, query: &str) -> String {
        format!("http://{}/webhdfs/v1{path}?{query}", self.nn[nn])
    }

    #[track_caller]
    fn op(&self, method: &str, path: &str, query: &str) -> Http {
        curl(&self.scratch, &["-X", method, &self.url(0, path, query)])
    }

    #[track_caller]
    fn status_of(&self, path: &str, user: &str) -> Value {
        let r = self.op("GET", path, &format!("op=GETFILESTATUS&user.name={user}"));
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["FileStatus"].clone()
    }

    #[track_caller]
    fn absent(&self, path: &str) {
        let r = self.op("GET", path, "op=GETFILESTATUS&user.name=alice");
        r.expect_remote(404, "FileNotFoundException");
    }

    /// CREATE the two-step way (curl follows the 307 and sends the file).
    #[track_caller]
    fn create(&self, path: &str, data: &Path, query: &str) -> Http {
        let q = format!("op=CREATE&user.name=alice&{query}");
        curl(
            &self.scratch,
            &[
                "-L",
                "-X",
                "PUT",
                "-T",
                &data.display().to_string(),
                &self.url(0, path, &q),
            ],
        )
    }

    #[track_caller]
    fn read(&self, path: &str, query: &str) -> Vec<u8> {
        let q = format!("op=OPEN&user.name=alice&{query}");
        let r = curl(&self.scratch, &["-L", &self.url(0, path, &q)]);
        assert_eq!(r.status, 200, "{}", r.text());
        r.body
    }
}

fn bytes(len: usize, seed: u64) -> Vec<u8> {
    hafs_tests::XorShift64::new(seed | 1).bytes(len)
}

fn write_file(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

#[test]
fn webhdfs_with_real_clients() {
    let mut c = MiniCluster::builder()
        .label("webhdfs")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(3)
        .conf("dfs.ls.limit", LS_LIMIT.to_string())
        // carol may act for alice (doas), from anywhere.
        .conf("hadoop.proxyuser.carol.users", "alice")
        .conf("hadoop.proxyuser.carol.hosts", "*")
        .start();
    assert_eq!(c.active_index(), Some(0));
    c.wait_for_state(1, "standby", Duration::from_secs(20));
    let scratch = c.dir().join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let web = Web {
        nn: [c.nn_http_addr_of(0), c.nn_http_addr_of(1)],
        scratch: scratch.clone(),
        target: c.client_target(),
    };
    // A world-writable work dir, made by the superuser (whoever runs the NameNodes).
    let su = current_user();
    let r = web.op(
        "PUT",
        "/w",
        &format!("op=MKDIRS&permission=777&user.name={su}"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), serde_json::json!({"boolean": true}));

    curl_metadata_ops(&web);
    curl_data_ops(&web);
    curl_errors_and_ha(&web);
    curl_bad_input(&web);
    java_shell(&c, &web);
    python_clients(&c, &web);
    large_upload(&web);
    kill_active_mid_upload(&mut c, &web);
}

/// Every metadata op with curl, the JSON checked field by field.
fn curl_metadata_ops(web: &Web) {
    let r = web.op(
        "PUT",
        "/w/meta/sub",
        "op=MKDIRS&permission=750&user.name=alice",
    );
    assert_eq!(r.json(), serde_json::json!({"boolean": true}));
    let st = web.status_of("/w/meta/sub", "alice");
    assert_eq!(st["type"], "DIRECTORY");
    assert_eq!(st["permission"], "750");
    assert_eq!(st["owner"], "alice");
    assert_eq!(st["pathSuffix"], "");
    assert_eq!(st["length"], 0);
    assert!(st["fileId"].as_u64().unwrap() > 0, "{st}");
    assert_eq!(st["childrenNum"], 0);
    for k in [
        "group",
        "accessTime",
        "modificationTime",
        "blockSize",
        "replication",
        "storagePolicy",
    ] {
        assert!(!st[k].is_null(), "FileStatus lacks {k}: {st}");
    }
    // Parameter names and op values in any case; unknown parameters ignored.
    let r = web.op(
        "GET",
        "/w/meta/sub",
        "OP=getFileStatus&User.Name=alice&tempdir=/tmp",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("content-type").unwrap(),
        "application/json; charset=utf-8"
    );

    // A file, then its status.
    let data = bytes(5000, 1);
    let f = write_file(&web.scratch, "meta.bin", &data);
    let r = web.create("/w/meta/f", &f, "replication=2&permission=640");
    assert_eq!(r.status, 201, "{}", r.text());
    let st = web.status_of("/w/meta/f", "alice");
    assert_eq!(st["type"], "FILE");
    assert_eq!(st["length"], 5000);
    assert_eq!(st["replication"], 2);
    assert_eq!(st["permission"], "640");
    assert_eq!(st["blockSize"], hafs_tests::TEST_BLOCK_SIZE);

    // LISTSTATUS across several getListing pages (dfs.ls.limit = 3), and the batches.
    for i in 0..7 {
        let r = web.op("PUT", &format!("/w/list/d{i}"), "op=MKDIRS&user.name=alice");
        assert_eq!(r.status, 200);
    }
    let r = web.op("GET", "/w/list", "op=LISTSTATUS&user.name=alice");
    assert_eq!(r.status, 200, "{}", r.text());
    let names: Vec<String> = r.json()["FileStatuses"]["FileStatus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["pathSuffix"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, (0..7).map(|i| format!("d{i}")).collect::<Vec<_>>());
    let mut batched = Vec::new();
    let mut after = String::new();
    loop {
        let r = web.op(
            "GET",
            "/w/list",
            &format!("op=LISTSTATUS_BATCH&user.name=alice&startAfter={after}"),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        let page = v["DirectoryListing"]["partialListing"]["FileStatuses"]["FileStatus"]
            .as_array()
            .unwrap()
            .clone();
        assert!(page.len() <= LS_LIMIT);
        for s in &page {
            batched.push(s["pathSuffix"].as_str().unwrap().to_string());
        }
        if v["DirectoryListing"]["remainingEntries"] == 0 {
            break;
        }
        after = batched.last().unwrap().clone();
    }
    assert_eq!(batched, names);
    web.op("GET", "/w/nothing", "op=LISTSTATUS&user.name=alice")
        .expect_remote(404, "FileNotFoundException");

    let r = web.op("GET", "/w/meta", "op=GETCONTENTSUMMARY&user.name=alice");
    let cs = &r.json()["ContentSummary"];
    assert_eq!(cs["fileCount"], 1, "{cs}");
    assert_eq!(cs["directoryCount"], 2, "{cs}");
    assert_eq!(cs["length"], 5000, "{cs}");
    assert_eq!(cs["spaceConsumed"], 10000, "{cs}");
    assert_eq!(cs["quota"], -1, "{cs}");

    let r = web.op("GET", "/", "op=GETHOMEDIRECTORY&user.name=alice");
    assert_eq!(r.json(), serde_json::json!({"Path": "/user/alice"}));
    let r = web.op("GET", "/w", "op=GETTRASHROOT&user.name=alice");
    assert_eq!(r.json(), serde_json::json!({"Path": "/user/alice/.Trash"}));
    let r = web.op("GET", "/", "op=GETSERVERDEFAULTS&user.name=alice");
    let d = &r.json()["FsServerDefaults"];
    assert_eq!(d["blockSize"], hafs_tests::TEST_BLOCK_SIZE, "{d}");
    assert_eq!(d["checksumType"], 2, "{d}");
    assert!(d["bytesPerChecksum"].as_u64().unwrap() > 0, "{d}");

    // The changes.
    let r = web.op(
        "PUT",
        "/w/meta/f",
        "op=SETPERMISSION&permission=604&user.name=alice",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(web.status_of("/w/meta/f", "alice")["permission"], "604");
    let r = web.op(
        "PUT",
        "/w/meta/f",
        "op=SETREPLICATION&replication=3&user.name=alice",
    );
    assert_eq!(r.json(), serde_json::json!({"boolean": true}));
    assert_eq!(web.status_of("/w/meta/f", "alice")["replication"], 3);
    let r = web.op(
        "PUT",
        "/w/meta/f",
        "op=SETTIMES&modificationtime=1000000&accesstime=2000000&user.name=alice",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let st = web.status_of("/w/meta/f", "alice");
    assert_eq!(st["modificationTime"], 1_000_000);
    assert_eq!(st["accessTime"], 2_000_000);
    // Only the superuser gives a file away.
    web.op("PUT", "/w/meta/f", "op=SETOWNER&owner=bob&user.name=alice")
        .expect_remote(403, "AccessControlException");
    let su = current_user();
    let r = web.op(
        "PUT",
        "/w/meta/f",
        &format!("op=SETOWNER&owner=bob&group=staff&user.name={su}"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let st = web.status_of("/w/meta/f", "alice");
    assert_eq!(
        (st["owner"].as_str(), st["group"].as_str()),
        (Some("bob"), Some("staff"))
    );
    web.op("PUT", "/w/meta/f", &format!("op=SETOWNER&user.name={su}"))
        .expect_remote(400, "IllegalArgumentException");

    // RENAME, plain and with renameoptions.
    let r = web.op(
        "PUT",
        "/w/meta/sub",
        "op=RENAME&destination=/w/meta/sub2&user.name=alice",
    );
    assert_eq!(r.json(), serde_json::json!({"boolean": true}));
    web.absent("/w/meta/sub");
    let r = web.op("PUT", "/w/meta/sub2", "op=MKDIRS&user.name=alice");
    assert_eq!(r.status, 200);
    let a = write_file(&web.scratch, "a.bin", b"aaaa");
    let b = write_file(&web.scratch, "b.bin", b"bb");
    assert_eq!(web.create("/w/meta/a", &a, "").status, 201);
    assert_eq!(web.create("/w/meta/b", &b, "").status, 201);
    web.op(
        "PUT",
        "/w/meta/a",
        "op=RENAME&destination=/w/meta/b&renameoptions=NONE&user.name=alice",
    )
    .expect_remote(403, "FileAlreadyExistsException");
    let r = web.op(
        "PUT",
        "/w/meta/a",
        "op=RENAME&destination=/w/meta/b&renameoptions=OVERWRITE&user.name=alice",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(web.read("/w/meta/b", ""), b"aaaa");

    // CONCAT.
    let c1 = write_file(&web.scratch, "c1.bin", b"11111");
    let c2 = write_file(&web.scratch, "c2.bin", b"222");
    assert_eq!(web.create("/w/meta/c1", &c1, "").status, 201);
    assert_eq!(web.create("/w/meta/c2", &c2, "").status, 201);
    let r = web.op(
        "POST",
        "/w/meta/b",
        "op=CONCAT&sources=/w/meta/c1,/w/meta/c2&user.name=alice",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(web.read("/w/meta/b", ""), b"aaaa11111222");
    web.absent("/w/meta/c1");

    // TRUNCATE: ClientProtocol's truncate. Inside a block it answers false and the
    // length changes once the block's recovery commits; then the bytes are the prefix.
    let r = web.op(
        "POST",
        "/w/meta/b",
        "op=TRUNCATE&newlength=4&user.name=alice",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["boolean"].is_boolean(), "{}", r.text());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let st = web.status_of("/w/meta/b", "alice");
        if st["length"] == 4 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the truncate never completed: {st}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(web.read("/w/meta/b", ""), b"aaaa");
    web.op(
        "POST",
        "/w/meta/b",
        "op=TRUNCATE&newlength=9&user.name=alice",
    )
    .expect_remote(400, "HadoopIllegalArgumentException");

    // DELETE: a non-empty dir needs recursive.
    web.op("DELETE", "/w/meta", "op=DELETE&user.name=alice")
        .expect_remote(403, "PathIsNotEmptyDirectoryException");
    let r = web.op(
        "DELETE",
        "/w/meta",
        "op=DELETE&recursive=True&user.name=alice",
    );
    assert_eq!(r.json(), serde_json::json!({"boolean": true}));
    web.absent("/w/meta");
    let r = web.op("DELETE", "/w/meta", "op=DELETE&user.name=alice");
    assert_eq!(r.json(), serde_json::json!({"boolean": false}));
}

/// The two-step data ops: 307s, noredirect, the DataNode's 201, ranged reads, APPEND,
/// GETFILECHECKSUM equal to `hadoop fs -checksum` over hdfs://.
fn curl_data_ops(web: &Web) {
    let data = bytes(3 * 1024 * 1024 + 123, 2);
    let f = write_file(&web.scratch, "data.bin", &data);

    // The NameNode's answer alone.
    let r = web.op(
        "PUT",
        "/w/data/f",
        "op=CREATE&user.name=alice&overwrite=true",
    );
    assert_eq!(r.status, 307, "{}", r.text());
    let loc = r.header("location").expect("a Location");
    assert!(loc.contains("/webhdfs/v1/w/data/f?op=CREATE"), "{loc}");
    assert!(
        loc.contains(&format!("namenoderpcaddress={NAMESERVICE}")),
        "{loc}"
    );
    assert!(
        loc.contains("user.name=alice") && loc.contains("overwrite=true"),
        "{loc}"
    );
    let r = web.op(
        "PUT",
        "/w/data/f",
        "op=CREATE&user.name=alice&noredirect=true",
    );
    assert_eq!(r.status, 200);
    let loc2 = r.json()["Location"].as_str().unwrap().to_string();
    assert!(
        loc2.starts_with("http://") && loc2.contains("op=CREATE"),
        "{loc2}"
    );
    // Nothing exists until the DataNode step.
    web.absent("/w/data/f");

    // The DataNode step, as a client that follows the Location itself.
    let r = curl(
        &web.scratch,
        &["-X", "PUT", "-T", &f.display().to_string(), &loc],
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.header("location").as_deref(),
        Some(format!("hdfs://{NAMESERVICE}/w/data/f").as_str())
    );
    assert_eq!(web.read("/w/data/f", ""), data);

    // Ranged reads, byte-exact, across block boundaries.
    for (off, len) in [
        (0usize, 10usize),
        (1024 * 1024 - 5, 10),
        (2 * 1024 * 1024 + 7, 1024 * 1024),
        (data.len() - 3, 100),
    ] {
        let got = web.read("/w/data/f", &format!("offset={off}&length={len}"));
        let end = (off + len).min(data.len());
        assert_eq!(got, &data[off..end], "offset {off} length {len}");
    }
    let r = curl(
        &web.scratch,
        &[
            "-L",
            &web.url(0, "/w/data/f", "op=OPEN&user.name=alice&offset=0&length=7"),
        ],
    );
    assert_eq!(r.header("content-length").as_deref(), Some("7"));
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    // Past the end: a clean refusal.
    let r = curl(
        &web.scratch,
        &[
            "-L",
            &web.url(
                0,
                "/w/data/f",
                &format!("op=OPEN&user.name=alice&offset={}", data.len() + 1),
            ),
        ],
    );
    r.expect_remote(403, "IOException");
    // OPEN with noredirect names a DataNode holding the block.
    let r = web.op(
        "GET",
        "/w/data/f",
        "op=OPEN&user.name=alice&noredirect=true&offset=5",
    );
    assert!(r.json()["Location"].as_str().unwrap().contains("offset=5"));

    // APPEND (two steps, POST).
    let more = bytes(70_000, 3);
    let m = write_file(&web.scratch, "more.bin", &more);
    let r = curl(
        &web.scratch,
        &[
            "-L",
            "-X",
            "POST",
            "-T",
            &m.display().to_string(),
            &web.url(0, "/w/data/f", "op=APPEND&user.name=alice"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let mut both = data.clone();
    both.extend_from_slice(&more);
    assert_eq!(web.read("/w/data/f", ""), both);

    // Overwrite refused unless asked for.
    web.create("/w/data/f", &m, "")
        .expect_remote(403, "FileAlreadyExistsException");
    // A 0-byte file.
    let empty = write_file(&web.scratch, "empty.bin", b"");
    assert_eq!(web.create("/w/data/empty", &empty, "").status, 201);
    assert_eq!(web.status_of("/w/data/empty", "alice")["length"], 0);
    assert_eq!(web.read("/w/data/empty", ""), b"");

    // GETFILECHECKSUM equals what our client prints over RPC.
    let r = curl(
        &web.scratch,
        &[
            "-L",
            &web.url(0, "/w/data/f", "op=GETFILECHECKSUM&user.name=alice"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let sum = r.json()["FileChecksum"].clone();
    assert_eq!(sum["length"], 28, "{sum}");
    let algorithm = sum["algorithm"].as_str().unwrap();
    assert!(
        algorithm.starts_with("MD5-of-") && algorithm.ends_with("CRC32C"),
        "{sum}"
    );
    let rpc = web.rpc_checksum("/w/data/f");
    assert!(
        rpc.contains(algorithm) && rpc.contains(sum["bytes"].as_str().unwrap()),
        "webhdfs {sum} vs hdfs:// {rpc}"
    );
}

impl Web {
    fn rpc_checksum(&self, path: &str) -> String {
        hafs_dfs(&self.target, &["-checksum", path]).ok().stdout
    }
}

/// Errors: unknown and unsupported ops, bad values, permissions, the Standby.
fn curl_errors_and_ha(web: &Web) {
    let m = web
        .op("GET", "/w", "op=NOSUCHOP&user.name=alice")
        .expect_remote(400, "IllegalArgumentException");
    assert!(m.contains("NOSUCHOP"), "{m}");
    web.op("GET", "/w", "op=GETACLSTATUS&user.name=alice")
        .expect_remote(400, "UnsupportedOperationException");
    web.op("GET", "/w", "op=MKDIRS&user.name=alice")
        .expect_remote(400, "UnsupportedOperationException");
    web.op("GET", "/w", "user.name=alice")
        .expect_remote(400, "IllegalArgumentException");
    let m = web
        .op("PUT", "/w/x", "op=MKDIRS&permission=999&user.name=alice")
        .expect_remote(400, "IllegalArgumentException");
    assert!(m.contains("permission"), "{m}");
    web.op("DELETE", "/w", "op=DELETE&recursive=maybe&user.name=alice")
        .expect_remote(400, "IllegalArgumentException");
    web.op("GET", "/w", "op=GETFILESTATUS&user.name=a%20b")
        .expect_remote(400, "IllegalArgumentException");
    web.absent("/w/x");

    // Permissions are the namespace's.
    let r = web.op(
        "PUT",
        "/w/private",
        "op=MKDIRS&permission=700&user.name=alice",
    );
    assert_eq!(r.status, 200);
    let m = web
        .op("PUT", "/w/private/x", "op=MKDIRS&user.name=bob")
        .expect_remote(403, "AccessControlException");
    assert!(m.contains("bob"), "{m}");
    web.op("GET", "/w/private", "op=LISTSTATUS&user.name=bob")
        .expect_remote(403, "AccessControlException");
    // doas: only as the hadoop.proxyuser rules allow, on the NameNode and on the
    // DataNode step (whose client connects as carol for alice).
    let m = web
        .op("GET", "/w", "op=GETFILESTATUS&user.name=bob&doas=alice")
        .expect_remote(403, "AuthorizationException");
    assert!(m.contains("bob") && m.contains("impersonate alice"), "{m}");
    web.op("GET", "/w", "op=GETFILESTATUS&user.name=carol&doas=bob")
        .expect_remote(403, "AuthorizationException");
    let r = web.op("PUT", "/w/doas", "op=MKDIRS&user.name=carol&doas=alice");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(web.status_of("/w/doas", "alice")["owner"], "alice");
    let d = write_file(&web.scratch, "doas.bin", b"for alice");
    let r = curl(
        &web.scratch,
        &[
            "-L",
            "-X",
            "PUT",
            "-T",
            &d.display().to_string(),
            &web.url(0, "/w/doas/f", "op=CREATE&user.name=carol&doas=alice"),
        ],
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(web.status_of("/w/doas/f", "alice")["owner"], "alice");

    // The Standby refuses with StandbyException (403), which Java and HdfsCLI fail
    // over on; /isActive tells load balancers which one to use.
    for (method, q) in [
        ("GET", "op=GETFILESTATUS&user.name=alice"),
        ("PUT", "op=MKDIRS&user.name=alice"),
        ("PUT", "op=CREATE&user.name=alice"),
        ("GET", "op=OPEN&user.name=alice"),
    ] {
        let r = curl(&web.scratch, &["-X", method, &web.url(1, "/w", q)]);
        let m = r.expect_remote(403, "StandbyException");
        assert!(
            r.json()["RemoteException"]["javaClassName"]
                == "org.apache.hadoop.ipc.StandbyException",
            "{m}"
        );
    }
    web.absent("/w/x");
    let r = curl(&web.scratch, &[&format!("http://{}/isActive", web.nn[0])]);
    assert_eq!((r.status, r.text().as_str()), (200, "I am Active!"));
    let r = curl(&web.scratch, &[&format!("http://{}/isActive", web.nn[1])]);
    assert_eq!(r.status, 405);
}

/// Hostile paths and bodies: refused with a clear error, nothing created, memory
/// bounded.
fn curl_bad_input(web: &Web) {
    let before = web.op("GET", "/", "op=LISTSTATUS&user.name=alice").json();
    for path in ["/w/../etc", "/w/./x", "/w/a%00b", "/w/a:b", "/w//x"] {
        let r = curl(
            &web.scratch,
            &[
                "--path-as-is",
                "-X",
                "PUT",
                &web.url(0, path, "op=MKDIRS&user.name=alice"),
            ],
        );
        let m = r.expect_remote(400, "InvalidPathException");
        assert!(m.contains("Invalid"), "{path}: {m}");
    }
    // Dot-segments spelled with escapes are decoded first, then refused the same way.
    let r = curl(
        &web.scratch,
        &[
            "--path-as-is",
            "-X",
            "PUT",
            &web.url(0, "/w/%2e%2e/etc", "op=MKDIRS&user.name=alice"),
        ],
    );
    r.expect_remote(400, "InvalidPathException");
    let long = format!("/w/{}", "a".repeat(9000));
    let r = web.op("PUT", &long, "op=MKDIRS&user.name=alice");
    let m = r.expect_remote(400, "InvalidPathException");
    assert!(m.contains("8000"), "{m}");
    web.op(
        "PUT",
        "/w/y",
        "op=RENAME&destination=/w/../etc&user.name=alice",
    )
    .expect_remote(400, "InvalidPathException");
    let after = web.op("GET", "/", "op=LISTSTATUS&user.name=alice").json();
    assert_eq!(before, after, "a hostile path changed the root listing");
    web.absent("/etc");

    // A DataNode refuses a namenoderpcaddress it does not know (it is no open proxy).
    let r = web.op("PUT", "/w/p", "op=CREATE&user.name=alice&noredirect=true");
    let loc = r.json()["Location"].as_str().unwrap().to_string();
    let evil = loc.replace(
        &format!("namenoderpcaddress={NAMESERVICE}"),
        "namenoderpcaddress=192.0.2.1%3A8020",
    );
    let r = curl(&web.scratch, &["-X", "PUT", "--data-binary", "x", &evil]);
    let m = r.expect_remote(400, "IllegalArgumentException");
    assert!(m.contains("192.0.2.1:8020"), "{m}");
    web.absent("/w/p");

    // An upload that breaks off at the DataNode (1 MiB of a declared 10 MB, then the
    // connection closes): the DataNode closes the file with what arrived, so no lease
    // is left held.
    let r = web.op(
        "PUT",
        "/w/broken",
        "op=CREATE&user.name=alice&noredirect=true",
    );
    let loc = r.json()["Location"].as_str().unwrap().to_string();
    let rest = loc.strip_prefix("http://").unwrap();
    let (authority, target) = rest.split_at(rest.find('/').unwrap());
    let mut s = TcpStream::connect(authority).unwrap();
    write!(
        s,
        "PUT {target} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: 10000000\r\n\r\n"
    )
    .unwrap();
    s.write_all(&bytes(1024 * 1024, 5)).unwrap();
    drop(s);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let st = web.op("GET", "/w/broken", "op=GETFILESTATUS&user.name=alice");
        let fsck = hafs_cmd(
            &web.target,
            &["fsck", "/w/broken", "-files", "-openforwrite"],
        );
        if st.status == 200 && !fsck.stdout.contains("OPENFORWRITE") && fsck.success() {
            let len = st.json()["FileStatus"]["length"].as_u64().unwrap();
            assert!(len <= 1024 * 1024, "{len}");
            break;
        }
        assert!(Instant::now() < deadline, "/w/broken still open: {fsck}");
        std::thread::sleep(Duration::from_millis(500));
    }

    // An endless chunked body sent to the NameNode's CREATE: answered 307 without
    // reading it, and the connection closed, within seconds.
    let mut s = TcpStream::connect(web.nn[0]).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "PUT /webhdfs/v1/w/endless?op=CREATE&user.name=alice HTTP/1.1\r\nHost: x\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    )
    .unwrap();
    let chunk = format!("100000\r\n{}\r\n", "z".repeat(0x100000));
    let started = Instant::now();
    let mut sent = 0usize;
    while started.elapsed() < Duration::from_secs(20) {
        if s.write_all(chunk.as_bytes()).is_err() {
            break;
        }
        sent += 1;
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the NameNode kept reading an endless body ({sent} MiB)"
    );
    let mut head = vec![0u8; 4096];
    let n = s.read(&mut head).unwrap_or(0);
    let head = String::from_utf8_lossy(&head[..n]);
    assert!(
        head.is_empty() || head.starts_with("HTTP/1.1 307"),
        "{head}"
    );
    web.absent("/w/endless");
    // The NameNode still serves.
    assert_eq!(
        web.op("GET", "/w", "op=GETFILESTATUS&user.name=alice")
            .status,
        200
    );
}

/// The Java shell on webhdfs://ns1 (failing over from a Standby it may try first):
/// the same results as over hdfs://.
fn java_shell(c: &MiniCluster, web: &Web) {
    jaxrs_shim_jar();
    let target = c.client_target();
    let w = format!("webhdfs://{NAMESERVICE}");
    let h = format!("hdfs://{NAMESERVICE}");
    let sizes = [0usize, 1, 3 * 1024 * 1024 + 17];
    java_fs(&target, &["-fs", &w, "-mkdir", "-p", "/w/java/in"]).ok();
    for (i, n) in sizes.iter().enumerate() {
        let local = write_file(
            &web.scratch,
            &format!("java{i}.bin"),
            &bytes(*n, 10 + i as u64),
        );
        java_fs(
            &target,
            &[
                "-fs",
                &w,
                "-put",
                &local.display().to_string(),
                &format!("/w/java/in/f{i}"),
            ],
        )
        .ok();
    }
    let over_web = java_fs(&target, &["-fs", &w, "-ls", "/w/java/in"]).ok();
    let over_rpc = java_fs(&target, &["-fs", &h, "-ls", "/w/java/in"]).ok();
    let norm = |out: &hafs_tests::CmdOutput| -> Vec<_> {
        parse_ls(&out.stdout)
            .iter()
            .map(LsEntry::without_times)
            .collect()
    };
    assert_eq!(norm(&over_web), norm(&over_rpc));
    assert_eq!(norm(&over_web).len(), sizes.len());
    let rec_web = java_fs(&target, &["-fs", &w, "-ls", "-R", "/w/java"]).ok();
    let rec_rpc = java_fs(&target, &["-fs", &h, "-ls", "-R", "/w/java"]).ok();
    assert_eq!(norm(&rec_web), norm(&rec_rpc));
    for (i, n) in sizes.iter().enumerate() {
        let want = bytes(*n, 10 + i as u64);
        let out = web.scratch.join(format!("java-get{i}.bin"));
        java_fs(
            &target,
            &[
                "-fs",
                &w,
                "-get",
                &format!("/w/java/in/f{i}"),
                &out.display().to_string(),
            ],
        )
        .ok();
        assert!(std::fs::read(&out).unwrap() == want, "-get of f{i} differs");
    }
    let text = "one line\nand another\n";
    let t = write_file(&web.scratch, "java.txt", text.as_bytes());
    java_fs(
        &target,
        &["-fs", &w, "-put", &t.display().to_string(), "/w/java/t.txt"],
    )
    .ok();
    let cat = java_fs(&target, &["-fs", &w, "-cat", "/w/java/t.txt"]).ok();
    assert_eq!(cat.stdout, text);
    java_fs(
        &target,
        &["-fs", &w, "-mv", "/w/java/in/f1", "/w/java/moved"],
    )
    .ok();
    java_fs(&target, &["-fs", &w, "-chmod", "600", "/w/java/moved"]).ok();
    let ls = java_fs(&target, &["-fs", &h, "-ls", "/w/java/moved"]).ok();
    assert!(ls.stdout.starts_with("-rw-------"), "{ls}");
    java_fs(&target, &["-fs", &w, "-rm", "-r", "/w/java/in"]).ok();
    web.absent("/w/java/in");
}

/// HdfsCLI with both NameNodes' URLs (the Standby first: it fails over), and fsspec's
/// webhdfs on the Active.
fn python_clients(c: &MiniCluster, web: &Web) {
    let script = format!(
        r#"
import hashlib, io
from hdfs import InsecureClient
c = InsecureClient("http://{nn2};http://{nn1}", user="alice")
data = bytes(range(256)) * 4096 + b"tail"
c.makedirs("/w/py")
c.write("/w/py/cli.bin", data=data, overwrite=True)
with c.write("/w/py/cli2.bin", overwrite=True) as w:
    for i in range(10):
        w.write(data[i * 1000:(i + 1) * 1000])
assert sorted(c.list("/w/py")) == ["cli.bin", "cli2.bin"], c.list("/w/py")
with c.read("/w/py/cli.bin") as r:
    assert r.read() == data
with c.read("/w/py/cli.bin", offset=1000, length=5000) as r:
    assert r.read() == data[1000:6000]
st = c.status("/w/py/cli.bin")
assert st["length"] == len(data) and st["type"] == "FILE", st
assert c.content("/w/py")["length"] == len(data) + 10000
import fsspec
fs = fsspec.filesystem("webhdfs", host="{host}", port={port}, user="alice")
with fs.open("/w/py/fs.bin", "wb") as f:
    f.write(data)
assert fs.cat_file("/w/py/fs.bin") == data
assert fs.cat_file("/w/py/fs.bin", start=10, end=20) == data[10:20]
names = sorted(p.rsplit("/", 1)[1] for p in fs.ls("/w/py", detail=False))
assert names == ["cli.bin", "cli2.bin", "fs.bin"], names
assert fs.info("/w/py/fs.bin")["size"] == len(data)
print("python ok")
"#,
        nn1 = web.nn[0],
        nn2 = web.nn[1],
        host = web.nn[0].ip(),
        port = web.nn[0].port(),
    );
    let out = python(&c.client_target(), &script).ok();
    assert!(out.stdout.contains("python ok"), "{out}");
    // And what they wrote reads the same over RPC.
    let local = web.scratch.join("cli2.out");
    hafs_dfs(
        &c.client_target(),
        &["-get", "/w/py/cli2.bin", &local.display().to_string()],
    )
    .ok();
    let want: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    assert!(
        std::fs::read(&local).unwrap() == want,
        "HdfsCLI's streamed write differs"
    );
}

/// 300 MB through curl, read back whole and ranged, byte-exact.
fn large_upload(web: &Web) {
    const LEN: usize = 300 * 1024 * 1024;
    let data = bytes(LEN, 42);
    let f = write_file(&web.scratch, "large.bin", &data);
    let started = Instant::now();
    let r = web.create("/w/large", &f, "");
    assert_eq!(r.status, 201, "{}", r.text());
    eprintln!("300 MB WebHDFS upload: {:?}", started.elapsed());
    let started = Instant::now();
    let got = web.read("/w/large", "");
    eprintln!("300 MB WebHDFS read: {:?}", started.elapsed());
    assert!(got == data, "the 300 MB read differs");
    drop(got);
    let off = 123 * 1024 * 1024 + 7;
    let got = web.read("/w/large", &format!("offset={off}&length=5000000"));
    assert!(got == data[off..off + 5_000_000], "the ranged read differs");
    let _ = std::fs::remove_file(&f);
}

/// kill -9 of the Active while curl uploads: the upload ends in success or a clean
/// error, and afterwards the file is complete and byte-exact, or closed (its lease
/// recovered), never left open.
fn kill_active_mid_upload(c: &mut MiniCluster, web: &Web) {
    const LEN: usize = 200 * 1024 * 1024;
    let data = bytes(LEN, 77);
    let f = write_file(&web.scratch, "killed.bin", &data);
    // The DataNode URL from the Active first; the upload is slowed so that the kill
    // lands in its middle.
    let r = web.op(
        "PUT",
        "/w/killed",
        "op=CREATE&user.name=alice&noredirect=true",
    );
    let loc = r.json()["Location"].as_str().unwrap().to_string();
    let mut cmd = Command::new("curl");
    cmd.args([
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--limit-rate",
        "20M",
        "-X",
        "PUT",
        "-T",
    ])
    .arg(&f)
    .arg(&loc);
    let upload = std::thread::spawn(move || run_with_timeout(cmd, Duration::from_secs(300)));
    std::thread::sleep(Duration::from_secs(3));
    c.kill_nn(0);
    // A dead Active cannot be asked to step down: --forceactive, as the runbook says.
    let id = c.nn_id(1).to_string();
    c.haadmin(&["-transitionToActive", "--forceactive", &id])
        .ok();
    let out = upload.join().unwrap();
    let status = out.stdout.trim().to_string();
    eprintln!("upload across the kill: {status} {}", out.stderr.trim());
    let target = c.client_target();
    let local = web.scratch.join("killed.out");
    if status == "201" {
        hafs_dfs(
            &target,
            &["-get", "/w/killed", &local.display().to_string()],
        )
        .ok();
        assert!(
            std::fs::read(&local).unwrap() == data,
            "the file differs after the kill"
        );
        let _ = std::fs::remove_file(&local);
    } else {
        // A clean error: an HTTP error status with a RemoteException, or a connection
        // the DataNode closed; never a hang (run_with_timeout bounds it).
        assert!(status.len() == 3, "{out}");
    }
    // Whatever happened, the file is not left open: it is closed now, or the new
    // Active recovers its lease when asked (recoverLease answers true once closed).
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let r = hafs_cmd(
            &target,
            &[
                "debug",
                "recoverLease",
                "-path",
                "/w/killed",
                "-retries",
                "1",
            ],
        );
        if r.stdout.contains("SUCCEEDED") || r.stderr.contains("FileNotFoundException") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "/w/killed still open after 90 s: {r}"
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    let _ = std::fs::remove_file(&f);
}

/// Without HA the redirect names the NameNode by its RPC address; the DataNode also
/// accepts another name of a NameNode it reports to (`localhost` for `127.0.0.1`),
/// and no other address.
#[test]
fn webhdfs_without_ha() {
    let c = MiniCluster::builder()
        .label("webhdfs-one")
        .datanodes(1)
        .conf("dfs.replication", "1")
        .start();
    let scratch = c.dir().join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let http = c.nn_http_addr();
    let rpc = c.nn_rpc_addr();
    let data = bytes(2 * 1024 * 1024 + 1, 9);
    let f = write_file(&scratch, "one.bin", &data);
    let su = current_user();
    let ours = format!("namenoderpcaddress={}%3A{}", rpc.ip(), rpc.port());
    for (name, nn) in [
        ("by-ip", ours.clone()),
        (
            "by-name",
            format!("namenoderpcaddress=localhost%3A{}", rpc.port()),
        ),
    ] {
        let url = format!("http://{http}/webhdfs/v1/{name}?op=CREATE&user.name={su}");
        let r = curl(&scratch, &["-X", "PUT", &url]);
        assert_eq!(r.status, 307, "{}", r.text());
        let loc = r.header("location").unwrap();
        assert!(loc.contains(&ours), "{loc}");
        let loc = loc.replace(&ours, &nn);
        let r = curl(
            &scratch,
            &["-X", "PUT", "-T", &f.display().to_string(), &loc],
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let got = curl(
            &scratch,
            &["-L", &format!("http://{http}/webhdfs/v1/{name}?op=OPEN")],
        );
        assert!(got.status == 200 && got.body == data, "read back {name}");
        // Another port on the same host is no NameNode of this DataNode.
        let other = loc.replace(&nn, "namenoderpcaddress=localhost%3A1");
        let r = curl(&scratch, &["-X", "PUT", "--data-binary", "x", &other]);
        r.expect_remote(400, "IllegalArgumentException");
    }
}
