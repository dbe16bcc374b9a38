//! The operator's HTTP surface with real processes: every daemon's `/jmx` and `/prom`
//! read the way Ambari's HA alert and Datadog's `hdfs_namenode` check read them, the
//! output parsed by the Prometheus client library's text parser, across a kill -9
//! failover and a block that loses its only replica; and a NameNode's HTTP port under
//! 200 concurrent connections and hostile heads.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use hafs_tests::{hafs_dfs, python, Backend, MiniCluster};
use serde_json::Value;

/// Longest a kill-to-new-Active, or a dead DataNode's blocks turning missing, may take.
const BOUND: Duration = Duration::from_secs(40);

/// What Ambari's `alert_ha_namenode_health.py` and Datadog's `hdfs_namenode` check
/// read, done by a script: NameNodeStatus.State from each NameNode, FSNamesystemState
/// and FSNamesystem fields (each must be a number), and `/prom` through
/// `prometheus_client.parser`. Prints one JSON object; an unreachable NameNode is
/// `{"error": …}`.
const CHECK: &str = r#"
import json, urllib.request
from prometheus_client.parser import text_string_to_metric_families

def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()

def bean(addr, name):
    status, ctype, body = get("http://%s/jmx?qry=%s" % (addr, name))
    assert status == 200 and ctype.startswith("application/json"), (status, ctype)
    beans = json.loads(body)["beans"]
    assert len(beans) == 1, beans
    assert beans[0]["name"] == name, beans[0]
    return beans[0]

DATADOG_STATE = ["CapacityTotal", "CapacityUsed", "CapacityRemaining", "TotalLoad",
    "FsLockQueueLength", "BlocksTotal", "MaxObjects", "FilesTotal",
    "PendingReplicationBlocks", "UnderReplicatedBlocks", "ScheduledReplicationBlocks",
    "PendingDeletionBlocks", "NumLiveDataNodes", "NumDeadDataNodes",
    "NumDecomLiveDataNodes", "NumDecomDeadDataNodes", "NumDecommissioningDataNodes",
    "NumStaleDataNodes"]
DATADOG_FS = ["MissingBlocks", "CorruptBlocks", "UnderReplicatedBlocks",
    "CapacityTotal", "CapacityUsed", "CapacityRemaining", "BlocksTotal", "FilesTotal",
    "TotalLoad", "NumLiveDataNodes", "NumDeadDataNodes", "LastWrittenTransactionId",
    "LastCheckpointTime", "MillisSinceLastLoadedEdits"]

def number(b, k):
    v = b[k]
    assert isinstance(v, (int, float)) and not isinstance(v, bool), (k, v)
    return v

def prom(addr):
    status, ctype, body = get("http://%s/prom" % addr)
    assert status == 200 and ctype.startswith("text/plain"), (status, ctype)
    out = {}
    for fam in text_string_to_metric_families(body):
        for s in fam.samples:
            out.setdefault(s.name, []).append([s.labels, s.value])
    return out

report = {}
for nn, addr in NAMENODES:
    try:
        st = bean(addr, "Hadoop:service=NameNode,name=NameNodeStatus")
        fss = bean(addr, "Hadoop:service=NameNode,name=FSNamesystemState")
        fs = bean(addr, "Hadoop:service=NameNode,name=FSNamesystem")
        info = bean(addr, "Hadoop:service=NameNode,name=NameNodeInfo")
        ha = bean(addr, "hafs:service=NameNode,name=HAStatus")
        # A pattern query lists every NameNode bean; get= one attribute.
        _, _, all_nn = get("http://%s/jmx?qry=Hadoop:service=NameNode,name=*" % addr)
        names = sorted(b["name"] for b in json.loads(all_nn)["beans"])
        _, _, one = get("http://%s/jmx?get=Hadoop:service=NameNode,name=NameNodeStatus::State" % addr)
        report[nn] = {
            "State": st["State"],
            "HostAndPort": st["HostAndPort"],
            "LastHATransitionTime": number(st, "LastHATransitionTime"),
            "SecurityEnabled": st["SecurityEnabled"],
            "FSState": fss["FSState"],
            "state": {k: number(fss, k) for k in DATADOG_STATE},
            "fs": {k: number(fs, k) for k in DATADOG_FS},
            "HAStateTag": fs["tag.HAState"],
            "LiveNodes": json.loads(info["LiveNodes"]),
            "ClusterId": info["ClusterId"],
            "JournalTransactionInfo": json.loads(info["JournalTransactionInfo"]),
            "history": ha["FailoverHistory"],
            "ElectionBackend": ha["ElectionBackend"],
            "names": names,
            "get": json.loads(one)["beans"][0],
            "prom": prom(addr),
        }
    except Exception as e:
        report[nn] = {"error": repr(e)}
for name, addr in OTHERS:
    try:
        _, _, body = get("http://%s/jmx" % addr)
        report[name] = {"names": sorted(b["name"] for b in json.loads(body)["beans"]),
                        "prom": prom(addr)}
    except OSError as e:
        report[name] = {"error": repr(e)}
print(json.dumps(report))
"#;

fn check(c: &MiniCluster) -> Value {
    let nns: Vec<String> = (0..2)
        .map(|i| format!("(\"{}\", \"{}\")", c.nn_id(i), c.nn_http_addr_of(i)))
        .collect();
    let mut others = vec![format!("(\"dn1\", \"{}\")", c.datanode_http_addr(0))];
    for i in 0..3 {
        others.push(format!(
            "(\"jn{}\", \"{}\")",
            i + 1,
            c.journalnode_http_addr(i)
        ));
    }
    let script = format!(
        "NAMENODES = [{}]\nOTHERS = [{}]\n{CHECK}",
        nns.join(", "),
        others.join(", ")
    );
    let out = python(&c.client_target(), &script).ok();
    serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// The value of the series `name` whose labels include `want`.
fn series(report: &Value, name: &str, want: &[(&str, &str)]) -> Option<f64> {
    report["prom"][name].as_array()?.iter().find_map(|s| {
        let labels = &s[0];
        want.iter()
            .all(|(k, v)| labels[*k].as_str() == Some(*v))
            .then(|| s[1].as_f64())
            .flatten()
    })
}

/// The metric names the Grafana dashboard in docs/ queries, and its `__name__=~`
/// patterns: every identifier of a PromQL expression that is neither a function (followed
/// by `(`), a keyword, nor inside a label matcher, range or `by (…)` list.
fn dashboard_metrics() -> (Vec<String>, Vec<String>) {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/grafana/hafs-ha.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let dash: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let name_pattern = regex_lite::Regex::new(r#"__name__=~"([^"]+)""#).unwrap();
    let strip = [
        regex_lite::Regex::new(r"\{[^}]*\}").unwrap(),
        regex_lite::Regex::new(r"\[[^\]]*\]").unwrap(),
        regex_lite::Regex::new(r"\b(by|without|on|ignoring)\s*\([^)]*\)").unwrap(),
    ];
    let ident = regex_lite::Regex::new(r"[A-Za-z_][A-Za-z0-9_]*(\s*\()?").unwrap();
    let (mut names, mut patterns) = (Vec::new(), Vec::new());
    for panel in dash["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("expr");
            for c in name_pattern.captures_iter(expr) {
                patterns.push(format!("^(?:{})$", &c[1]));
            }
            let mut e = expr.to_string();
            for re in &strip {
                e = re.replace_all(&e, " ").into_owned();
            }
            for m in ident.captures_iter(&e) {
                let word = m[0].trim_end_matches(|c: char| c == '(' || c.is_whitespace());
                if m.get(1).is_none() && !["and", "or", "unless", "bool", "offset"].contains(&word)
                {
                    names.push(word.to_string());
                }
            }
        }
    }
    names.sort();
    names.dedup();
    (names, patterns)
}

#[test]
fn jmx_and_prom_read_like_ambari_and_datadog_across_a_kill_9_failover() {
    let mut c = MiniCluster::builder()
        .label("http-jmx")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(1)
        .automatic_failover(Backend::Journal)
        .conf("hadoop.prometheus.endpoint.enabled", "true")
        .conf("dfs.replication", "1")
        .conf("dfs.heartbeat.interval", "1")
        .conf("dfs.namenode.heartbeat.recheck-interval", "1000")
        .start();
    c.wait_for_state(1, "standby", Duration::from_secs(30));
    c.wait_for_block_reports(0, BOUND);
    let target = c.client_target();
    let src = c.dir().join("one-replica");
    std::fs::write(&src, vec![7u8; 100_000]).unwrap();
    hafs_dfs(&target, &["-put", src.to_str().unwrap(), "/one-replica"]).ok();

    // Ambari's HA alert: exactly one active and one standby.
    let r = check(&c);
    let (nn1, nn2) = (c.nn_id(0).to_string(), c.nn_id(1).to_string());
    assert_eq!(r[&nn1]["State"], "active", "{r}");
    assert_eq!(r[&nn2]["State"], "standby", "{r}");
    assert_eq!(r[&nn1]["HAStateTag"], "active");
    assert_eq!(r[&nn1]["FSState"], "Operational");
    assert_eq!(r[&nn1]["SecurityEnabled"], false);
    assert_eq!(r[&nn1]["ElectionBackend"], "journal");
    assert_eq!(r[&nn1]["state"]["NumLiveDataNodes"], 1);
    assert!(r[&nn1]["state"]["FilesTotal"].as_u64().unwrap() >= 2, "{r}");
    assert!(r[&nn1]["fs"]["LastWrittenTransactionId"].as_u64().unwrap() > 0);
    assert_eq!(r[&nn1]["fs"]["MissingBlocks"], 0);
    assert_eq!(r[&nn1]["LiveNodes"].as_object().unwrap().len(), 1, "{r}");
    assert_eq!(
        r[&nn1]["HostAndPort"].as_str().unwrap(),
        c.nn_rpc_addr_of(0).to_string()
    );
    let rpc_port = c.nn_rpc_addr_of(0).port();
    assert_eq!(
        r[&nn1]["names"],
        serde_json::json!([
            "Hadoop:service=NameNode,name=FSNamesystem",
            "Hadoop:service=NameNode,name=FSNamesystemState",
            "Hadoop:service=NameNode,name=NameNodeActivity",
            "Hadoop:service=NameNode,name=NameNodeInfo",
            "Hadoop:service=NameNode,name=NameNodeStatus",
            format!("Hadoop:service=NameNode,name=RpcActivityForPort{rpc_port}"),
            format!("Hadoop:service=NameNode,name=RpcDetailedActivityForPort{rpc_port}"),
        ])
    );
    assert_eq!(r[&nn1]["get"]["State"], "active");
    assert_eq!(r[&nn1]["get"].as_object().unwrap().len(), 3, "{r}");
    // nn1 became Active through its controller: one row in its history.
    let history = r[&nn1]["history"].as_array().unwrap();
    assert_eq!(history.len(), 1, "{r}");
    assert_eq!(history[0]["to"], "active");
    assert_eq!(history[0]["why"], "zkfc");
    // /prom: Hadoop's names, the hafs HA series, and DataNode / JournalNode beans.
    let labels = [("hastate", "active")];
    assert_eq!(
        series(&r[&nn1], "fs_namesystem_missing_blocks", &labels),
        Some(0.0)
    );
    assert_eq!(
        series(&r[&nn1], "fs_namesystem_num_live_data_nodes", &labels),
        Some(1.0)
    );
    assert!(series(&r[&nn1], "fs_namesystem_capacity_total", &labels).unwrap() > 0.0);
    assert_eq!(
        series(&r[&nn1], "hafs_namenode_ha_state", &[("state", "active")]),
        Some(1.0)
    );
    assert_eq!(
        series(&r[&nn2], "hafs_namenode_ha_state", &[("state", "active")]),
        Some(0.0)
    );
    assert_eq!(
        series(&r[&nn1], "hafs_namenode_failovers_total", &[]),
        Some(1.0)
    );
    assert!(series(&r[&nn2], "hafs_namenode_tailing_lag_seconds", &[]).is_some());
    // RPC figures under Hadoop's names (the parser adds `_total` to counters) and
    // per-method histograms: the -put above called create, addBlock and complete on
    // the Active; the Standby wrote no edits.
    let port = rpc_port.to_string();
    let on_port = [("port", port.as_str())];
    assert!(series(&r[&nn1], "rpc_rpc_processing_time_num_ops_total", &on_port).unwrap() >= 3.0);
    assert!(series(&r[&nn1], "rpcdetailed_complete_num_ops_total", &on_port).unwrap() >= 1.0);
    for method in ["create", "addBlock", "complete"] {
        let n = series(
            &r[&nn1],
            "hafs_rpc_processing_seconds_count",
            &[("port", &port), ("method", method)],
        );
        assert!(n.unwrap_or(0.0) >= 1.0, "{method}: {n:?}");
        assert_eq!(
            series(
                &r[&nn1],
                "hafs_rpc_processing_seconds_bucket",
                &[("method", method), ("le", "+Inf")]
            ),
            n
        );
    }
    assert!(series(&r[&nn1], "hafs_namenode_journal_sync_seconds_count", &[]).unwrap() >= 3.0);
    assert_eq!(
        series(&r[&nn2], "hafs_namenode_journal_sync_seconds_count", &[]),
        Some(0.0)
    );
    assert!(series(&r[&nn1], "process_resident_memory_bytes", &[]).unwrap() > 0.0);
    let dn = &r["dn1"];
    assert!(dn["names"]
        .as_array()
        .unwrap()
        .contains(&Value::from("Hadoop:service=DataNode,name=FSDatasetState")));
    assert!(
        series(dn, "fs_dataset_state_capacity", &[]).unwrap() > 0.0,
        "{dn}"
    );
    let jn = &r["jn1"];
    assert!(jn["names"].as_array().unwrap().contains(&Value::from(
        "Hadoop:service=JournalNode,name=JournalNodeInfo"
    )));
    // The JournalNode's IPC server took the Active's journal calls.
    assert!(
        series(jn, "rpcdetailed_journal_num_ops_total", &[]).unwrap() >= 1.0,
        "{jn}"
    );
    assert!(
        series(dn, "hafs_rpc_queue_seconds_count", &[]).is_some(),
        "{dn}"
    );
    // Journal-<jid>'s LastWrittenTxId, under Hadoop's name rule.
    assert!(
        jn["prom"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.starts_with("journal_") && k.ends_with("_last_written_tx_id")),
        "{jn}"
    );

    // Every series the Grafana dashboard in docs/ draws is one some daemon serves (the
    // parser adds `_total` to counter names).
    let served: Vec<String> = ["ns", "dn1", "jn1"]
        .iter()
        .flat_map(|k| {
            let report = if *k == "ns" { &r[&nn1] } else { &r[*k] };
            report["prom"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        })
        .collect();
    let (names, patterns) = dashboard_metrics();
    assert!(names.len() >= 10, "{names:?}");
    for name in &names {
        assert!(
            served.contains(name) || served.contains(&format!("{name}_total")),
            "the dashboard queries {name}, which no daemon serves"
        );
    }
    for p in &patterns {
        let re = regex_lite::Regex::new(p).unwrap();
        assert!(
            served.iter().any(|s| re.is_match(s)),
            "no series matches {p}"
        );
    }

    // kill -9 the Active: nn2 reports active, with a row for it in its history, and
    // the HA-state series moves.
    c.kill_nn(0);
    let deadline = Instant::now() + BOUND;
    let r = loop {
        let r = check(&c);
        if r[&nn2]["State"] == "active" || Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(r[&nn2]["State"], "active", "{r}");
    assert!(
        r[&nn1]["error"].is_string(),
        "the killed NameNode answers nothing: {r}"
    );
    let history = r[&nn2]["history"].as_array().unwrap();
    let last = history.last().expect("a failover row");
    assert_eq!(
        (last["from"].as_str(), last["to"].as_str()),
        (Some("standby"), Some("active"))
    );
    assert!(
        last["tookMillis"].is_u64() && last["time"].as_u64().unwrap() > 0,
        "{last}"
    );
    assert!(r[&nn2]["LastHATransitionTime"].as_u64().unwrap() > 0);
    assert_eq!(
        series(&r[&nn2], "hafs_namenode_ha_state", &[("state", "active")]),
        Some(1.0)
    );
    assert_eq!(
        series(&r[&nn2], "hafs_namenode_failovers_total", &[]),
        Some(1.0)
    );

    // The only DataNode dies: the file's block has no replica left, and missing
    // blocks rise in /jmx and /prom.
    c.kill_datanode(0);
    let deadline = Instant::now() + BOUND;
    let r = loop {
        let r = check(&c);
        if r[&nn2]["fs"]["MissingBlocks"].as_u64().unwrap_or(0) > 0 || Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(r[&nn2]["fs"]["MissingBlocks"], 1, "{r}");
    assert_eq!(r[&nn2]["state"]["NumDeadDataNodes"], 1);
    assert_eq!(
        series(
            &r[&nn2],
            "fs_namesystem_missing_blocks",
            &[("hastate", "active")]
        ),
        Some(1.0)
    );
}

/// One HTTP/1.1 exchange with a read timeout: the status code, or 0 for no answer.
fn exchange(addr: SocketAddr, request: &[u8]) -> u16 {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(10)) else {
        return 0;
    };
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out)
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_namenode_http_port_under_200_connections_and_hostile_heads() {
    let c = MiniCluster::builder()
        .label("http-flood")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(1)
        .start();
    c.wait_for_state(1, "standby", Duration::from_secs(30));
    let addr = c.nn_http_addr_of(0);
    let (tx, rx) = std::sync::mpsc::channel();
    for _ in 0..200 {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let code = exchange(
                addr,
                b"GET /jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState HTTP/1.1\r\n\
                  Host: x\r\nConnection: close\r\n\r\n",
            );
            let _ = tx.send(code);
        });
    }
    drop(tx);
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut ok, mut busy) = (0, 0);
    for _ in 0..200 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(200) => ok += 1,
            Ok(503) => busy += 1,
            Ok(other) => panic!("a connection got {other} (0: no answer)"),
            Err(_) => panic!("connections still hanging after 60 s: {ok} ok, {busy} busy"),
        }
    }
    assert_eq!(ok + busy, 200);
    assert!(ok > 0, "{busy} busy");
    // A head over the limit: 431; a declared upload larger than any image: 413.
    let mut huge = b"GET /jmx HTTP/1.1\r\nX-Big: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 256 * 1024));
    assert_eq!(exchange(addr, &huge), 431);
    let too_big = format!(
        "PUT /imagetransfer?putimage=1&txid=5&checksum=crc32c:00000000&storageinfo=x HTTP/1.1\r\n\
         Host: x\r\nContent-Length: {}\r\n\r\n",
        u64::MAX / 2
    );
    assert_eq!(exchange(addr, too_big.as_bytes()), 413);
    // And it still serves; /prom is off unless hadoop.prometheus.endpoint.enabled.
    assert_eq!(
        exchange(
            addr,
            b"GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        ),
        200
    );
    assert_eq!(
        exchange(
            addr,
            b"GET /prom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        ),
        404
    );
}
