//! Manual failovers back and forth every few seconds while three kinds of clients write
//! and read without pause for more than 30 s: our client (`hafs dfs`), the Java shell
//! and hdfs-native, all configured by nothing but the HA nameservice's conf dir. Every
//! write a client saw acknowledged must then be present and byte-exact, and no client
//! may see an error: a failover is only retries to them.

use std::time::{Duration, Instant};

use hafs_tests::{sleep_until, verify_acked, MiniCluster, Writer};

/// How long the clients write.
const LOAD: Duration = Duration::from_secs(32);
/// Time between failovers.
const FAILOVER_EVERY: Duration = Duration::from_secs(4);

#[test]
fn manual_failovers_under_continuous_load_lose_no_acknowledged_write() {
    let mut c = MiniCluster::builder()
        .label("ha-load")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(3)
        .start();
    assert_eq!(c.active_index(), Some(0), "nn1 starts Active");
    c.wait_for_state(1, "standby", Duration::from_secs(10));

    let target = c.client_target();
    let scratch = c.dir().join("scratch");
    let started = Instant::now();
    let writers = vec![
        Writer::hafs(target.clone(), "/load/hafs", scratch.clone()),
        Writer::java(target.clone(), "/load/java", scratch.clone()),
        Writer::hdfs_native(target.clone(), "/load/native", LOAD.as_secs()),
    ];

    let mut failovers = Vec::new();
    let mut active = 0;
    let mut next = started + FAILOVER_EVERY;
    while started.elapsed() + FAILOVER_EVERY < LOAD {
        sleep_until(next);
        let to = 1 - active;
        let t = Instant::now();
        c.failover(active, to);
        failovers.push(t.elapsed());
        assert_eq!(
            c.ha_state(active),
            Ok("standby"),
            "{} is Standby after failing over to {}",
            c.nn_id(active),
            c.nn_id(to)
        );
        active = to;
        next += FAILOVER_EVERY;
    }
    sleep_until(started + LOAD);
    let reports: Vec<_> = writers.into_iter().map(Writer::stop).collect();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(30),
        "the load ran {elapsed:?}"
    );
    assert!(failovers.len() >= 6, "only {} failovers", failovers.len());

    let mut summary = String::new();
    for r in &reports {
        summary.push_str(&format!(
            "{}: {} writes acknowledged, {} reads verified, {} failures\n",
            r.client,
            r.acked.len(),
            r.reads_ok,
            r.failures.len()
        ));
    }
    eprintln!(
        "{} failovers ({failovers:?}) in {elapsed:?}\n{summary}",
        failovers.len()
    );

    // Each client kept working through the failovers.
    for r in &reports {
        assert!(
            r.acked.len() >= 5,
            "{} wrote only {} files in {elapsed:?}\n{summary}",
            r.client,
            r.acked.len()
        );
        assert!(r.reads_ok >= 1, "{} verified no read\n{summary}", r.client);
    }
    let failures: Vec<&String> = reports.iter().flat_map(|r| &r.failures).collect();
    assert!(
        failures.is_empty(),
        "clients saw errors across failovers:\n{summary}{}",
        failures
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );

    // After one more failover, every acknowledged file is there, byte for byte.
    c.failover(active, 1 - active);
    let problems = verify_acked(&target, &reports);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    c.stop();
}
