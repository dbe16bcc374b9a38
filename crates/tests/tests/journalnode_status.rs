//! `hafs journalnode -status` shows, beside each JournalNode's journal state, its view of
//! the built-in election's lease for the journal id: holder, term, live, remaining ms
//! and whose breadcrumb it keeps. With automatic failover over the JournalNodes, nn1's
//! controller holds it on every node.

use std::time::Duration;

use hafs_tests::{hafs_cmd, Backend, MiniCluster, NAMESERVICE};

#[test]
fn status_names_the_lease_holder_on_every_journalnode() {
    let mut c = MiniCluster::builder()
        .label("jn-status-lease")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(1)
        .automatic_failover(Backend::Journal)
        .start();
    assert_eq!(c.active_index(), Some(0), "nn1's controller made it Active");
    c.wait_for_state(1, "standby", Duration::from_secs(10));

    let out = hafs_cmd(&c.client_target(), &["journalnode", "-status"]).ok();
    let leases: Vec<&str> = out
        .stdout
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("lease: "))
        .collect();
    assert_eq!(leases.len(), 3, "one lease line per JournalNode:\n{out}");
    let holder = format!("holder={NAMESERVICE}.nn1@");
    for line in &leases {
        assert!(
            line.contains(&holder),
            "not nn1's controller: {line}\n{out}"
        );
        assert!(line.contains(" live=true "), "{line}");
        let remaining: u64 = line
            .split(" remainingMs=")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| panic!("no remainingMs: {line}"));
        assert!(remaining > 0, "{line}");
        // The breadcrumb (written after the lease was won) names the same holder.
        let crumb = line.split(" breadcrumb=").nth(1).unwrap_or("");
        assert!(crumb.starts_with(&format!("{NAMESERVICE}.nn1@")), "{line}");
    }
    c.stop();
}
