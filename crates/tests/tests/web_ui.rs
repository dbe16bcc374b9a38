//! The NameNode web UI in a real browser (headless Chromium driven by Playwright): a
//! page opened on the Standby shows nn1 Active and nn2 Standby with the JournalNodes
//! and DataNodes; a killed JournalNode and a killed DataNode show as such; after kill -9
//! of the Active the same page shows nn2 Active, nn1 unreachable and a new failover
//! row; a file uploaded through the page's file browser is in `hafs dfs -ls` with its
//! bytes. The page raises no console errors other than the killed NameNode's refused
//! connections. Screenshots of each step go to `target/ui-screenshots/` (or
//! `HAFS_UI_SCREENSHOTS`).

use std::time::{Duration, Instant};

use hafs_tests::{hafs_dfs, Backend, Browser, MiniCluster};

/// Liveness bound for what the page must come to show (a failover, a DataNode going
/// dead after the recheck interval): generous, the figures are printed.
const BOUND: Duration = Duration::from_secs(60);

fn state_of(nn: &str) -> String {
    format!("(document.querySelector('tr[data-nn=\"{nn}\"] td.state') || {{}}).textContent")
}

#[track_caller]
fn wait_for(b: &mut Browser, what: &str, js: &str) -> Duration {
    let started = Instant::now();
    if let Err(e) = b.wait(js, BOUND) {
        let name: String = what
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let shot = b.screenshot(&format!("failed-{name}"));
        let text = b.eval("document.body.innerText");
        panic!(
            "the page never showed {what} ({e}); screenshot {}\n{}",
            shot.display(),
            text.as_str().unwrap_or("")
        );
    }
    started.elapsed()
}

#[test]
fn the_ui_follows_a_failover_dead_nodes_and_uploads_a_file() {
    let mut c = MiniCluster::builder()
        .label("web-ui")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(3)
        .automatic_failover(Backend::Journal)
        .conf("dfs.replication", "2")
        .conf("dfs.heartbeat.interval", "1")
        .conf("dfs.namenode.heartbeat.recheck-interval", "1000")
        .start();
    c.wait_for_state(1, "standby", Duration::from_secs(30));
    c.wait_for_block_reports(0, BOUND);
    let target = c.client_target();
    let src = c.dir().join("before");
    std::fs::write(&src, b"written before the browser looked").unwrap();
    hafs_dfs(&target, &["-put", src.to_str().unwrap(), "/before"]).ok();
    let (nn1, nn2) = (c.nn_id(0).to_string(), c.nn_id(1).to_string());
    let nn1_http = c.nn_http_addr_of(0).to_string();

    // The page on the Standby: the whole nameservice, read from both NameNodes.
    let mut b = Browser::launch();
    b.open(&format!("http://{}/", c.nn_http_addr_of(1)));
    wait_for(
        &mut b,
        "the first refresh",
        "document.body.dataset.loaded === '1'",
    );
    wait_for(
        &mut b,
        "nn1 active",
        &format!("{} === 'active'", state_of(&nn1)),
    );
    wait_for(
        &mut b,
        "nn2 standby",
        &format!("{} === 'standby'", state_of(&nn2)),
    );
    let election = b.eval("document.getElementById('election').textContent");
    assert!(
        election
            .as_str()
            .unwrap()
            .contains(&format!("held by {nn1}")),
        "{election}"
    );
    wait_for(
        &mut b,
        "three JournalNodes in sync",
        "[...document.querySelectorAll('#journalnodes td.status')].filter(t => t.textContent === 'in sync').length === 3",
    );
    wait_for(
        &mut b,
        "three live DataNodes",
        "document.querySelectorAll('#datanodes td.state.live').length === 3",
    );
    wait_for(
        &mut b,
        "nn1's failover row",
        &format!(
            "document.querySelector('#failovers tr.row[data-nn=\"{nn1}\"][data-to=\"active\"]')"
        ),
    );
    b.screenshot("1-standby-page-nn1-active");

    // A JournalNode killed: the Active's next write fails on it and the page says so.
    let jn_addr = c.journalnodes().addr(2).to_string();
    c.journalnodes().kill(2);
    hafs_dfs(&target, &["-mkdir", "/after-jn-kill"]).ok();
    wait_for(
        &mut b,
        "the killed JournalNode failing",
        &format!("((document.querySelector('tr[data-jn=\"{jn_addr}\"] td.status') || {{}}).textContent || '').startsWith('failing')"),
    );

    // A DataNode killed: dead once the NameNode's recheck interval passes.
    let dn_key = format!("127.0.0.1:{}", c.datanode_xfer_addr(2).port());
    c.kill_datanode(2);
    let took = wait_for(
        &mut b,
        "the killed DataNode dead",
        &format!("(document.querySelector('tr[data-dn=\"{dn_key}\"] td.state') || {{}}).textContent === 'dead'"),
    );
    println!("the page showed the DataNode dead {took:?} after the kill");
    b.screenshot("2-journalnode-and-datanode-down");

    // kill -9 the Active: the page (served by nn2) shows nn2 Active, nn1 unreachable,
    // and nn2's transition in the failover history.
    c.kill_nn(0);
    let took = wait_for(
        &mut b,
        "nn2 active after the kill",
        &format!(
            "{} === 'active' && {} === 'unreachable' && document.querySelector('#failovers tr.row[data-nn=\"{nn2}\"][data-to=\"active\"]')",
            state_of(&nn2),
            state_of(&nn1)
        ),
    );
    println!("the page showed the new Active {took:?} after kill -9 of the old one");
    b.screenshot("3-after-kill-9-nn2-active");

    // The file browser on what is now the Active: upload a file as a user who may
    // write to /, then the shell sees it with the same bytes.
    let upload = c.dir().join("from-the-browser.txt");
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&upload, &payload).unwrap();
    wait_for(
        &mut b,
        "the file browser listing /",
        "document.body.dataset.browsed === '/' && document.querySelector('#listing tr[data-name=\"before\"]')",
    );
    let me = std::env::var("USER").unwrap_or_else(|_| "root".into());
    b.fill("#upload-user", &me);
    b.set_file("#upload-file", &upload);
    b.click("#upload-form button");
    wait_for(
        &mut b,
        "the upload finished",
        "document.body.dataset.uploaded === '/from-the-browser.txt' && document.querySelector('#listing tr[data-name=\"from-the-browser.txt\"]')",
    );
    b.screenshot("4-uploaded-in-the-browser");
    let ls = hafs_dfs(&target, &["-ls", "/"]).ok();
    assert!(ls.stdout.contains("/from-the-browser.txt"), "{ls}");
    let back = c.dir().join("back.txt");
    hafs_dfs(
        &target,
        &["-get", "/from-the-browser.txt", back.to_str().unwrap()],
    )
    .ok();
    assert!(std::fs::read(&back).unwrap() == payload, "bytes differ");

    // No console errors, except the refused connections to the NameNode killed above.
    let errors = b.console_errors();
    let unexpected: Vec<_> = errors
        .iter()
        .filter(|e| !(e.url.contains(&nn1_http) && e.text.contains("ERR_CONNECTION_REFUSED")))
        .collect();
    assert!(unexpected.is_empty(), "console errors: {unexpected:#?}");
    println!("screenshots in {}", hafs_tests::screenshot_dir().display());
}
