//! The order a local HA cluster comes up in, as Hadoop's HA guide has an operator
//! follow: JournalNodes; per nameservice, format its first NameNode (which formats
//! its journal), start it, `-bootstrapStandby` each other NameNode from it and start
//! it (all come up Standby); then per nameservice make the first NameNode Active, by
//! hand or (automatic failover) by starting its controller first and the others once
//! it won; DataNodes last, so that they register with NameNodes that serve.
//!
//! [`steps`] lists it; `HaCluster` (async, for the sandbox and benchmarks) and the
//! process tests' MiniCluster and Federation (which keep their own process handles)
//! walk the same list.

/// `hafs namenode -format` of a nameservice's first NameNode: no questions, an
/// earlier format of its dirs replaced, and `cluster_id` if given (every nameservice
/// of a federation shares one, so that the DataNodes serve them all).
pub fn format_args(cluster_id: Option<&str>) -> Vec<&str> {
    let mut args = vec!["namenode", "-format", "-nonInteractive", "-force"];
    if let Some(id) = cluster_id {
        args.extend(["-clusterid", id]);
    }
    args
}

/// `hafs namenode -bootstrapStandby`: copy the namespace from the running NameNode.
pub const BOOTSTRAP_STANDBY_ARGS: &[&str] =
    &["namenode", "-bootstrapStandby", "-force", "-nonInteractive"];

/// `hafs zkfc -formatZK`: the nameservice's parent znode, replacing one of an earlier
/// run (no controller runs yet, so nothing depends on it).
pub const FORMAT_ZK_ARGS: &[&str] = &["zkfc", "-formatZK", "-force", "-nonInteractive"];

/// The line a NameNode logs once it serves (`namenode ready: rpc <addr> ...`): an HA
/// NameNode opens its port before it has loaded its namespace and settled in its
/// state.
pub const NAMENODE_READY: &str = "namenode ready:";
/// The line a failover controller logs once it serves ZKFCProtocol.
pub const ZKFC_READY: &str = "zkfc ready:";
/// The line a DataNode logs once it serves.
pub const DATANODE_READY: &str = "datanode ready";
/// The line a JournalNode logs once it serves.
pub const JOURNALNODE_READY: &str = "journalnode ready:";

/// One step of bringing a cluster up. `ns` and `nn` are indexes (from 0) into the
/// caller's nameservices and into that nameservice's NameNodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Start every JournalNode (and wait until each serves).
    StartJournalNodes,
    /// `namenode -format` the nameservice's first NameNode (on a fresh name dir),
    /// which formats its journal too.
    Format { ns: usize },
    /// `namenode -bootstrapStandby -force -nonInteractive`: NameNode `nn` copies the
    /// namespace of the running first NameNode (on a fresh name dir).
    BootstrapStandby { ns: usize, nn: usize },
    /// Start NameNode `nn` and wait until it serves.
    StartNameNode { ns: usize, nn: usize },
    /// `zkfc -formatZK`: the nameservice's parent znode (ZooKeeper election only).
    FormatZooKeeper { ns: usize },
    /// Start NameNode `nn`'s failover controller and wait until it serves.
    StartController { ns: usize, nn: usize },
    /// Make NameNode `nn` Active over HAServiceProtocol (manual failover).
    TransitionToActive { ns: usize, nn: usize },
    /// Wait until NameNode `nn` reports Active (its controller won the election).
    WaitActive { ns: usize, nn: usize },
    /// Start every DataNode (they serve every nameservice, one block pool each).
    StartDataNodes,
}

/// How the Active NameNode of each nameservice is chosen, for [`steps`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// By hand: `TransitionToActive` of the first NameNode.
    Manual,
    /// Controllers electing through the JournalNodes' lease.
    Controllers,
    /// Controllers electing through ZooKeeper, formatted first.
    ZooKeeperControllers,
}

/// The bring-up of `nameservices` nameservices of `namenodes` NameNodes each (1: a
/// single NameNode, not HA: nothing to bootstrap or make Active), JournalNodes first
/// when `journalnodes`.
pub fn steps(
    nameservices: usize,
    namenodes: usize,
    journalnodes: bool,
    activation: Activation,
) -> Vec<Step> {
    let mut steps = Vec::new();
    if journalnodes {
        steps.push(Step::StartJournalNodes);
    }
    for ns in 0..nameservices {
        steps.push(Step::Format { ns });
        steps.push(Step::StartNameNode { ns, nn: 0 });
        for nn in 1..namenodes {
            steps.push(Step::BootstrapStandby { ns, nn });
            steps.push(Step::StartNameNode { ns, nn });
        }
    }
    if namenodes > 1 {
        for ns in 0..nameservices {
            match activation {
                Activation::Manual => {
                    steps.push(Step::TransitionToActive { ns, nn: 0 });
                    steps.push(Step::WaitActive { ns, nn: 0 });
                }
                Activation::Controllers | Activation::ZooKeeperControllers => {
                    if activation == Activation::ZooKeeperControllers {
                        steps.push(Step::FormatZooKeeper { ns });
                    }
                    // The first controller alone: it wins, and the others find the
                    // election taken and keep their NameNodes Standby.
                    steps.push(Step::StartController { ns, nn: 0 });
                    steps.push(Step::WaitActive { ns, nn: 0 });
                    for nn in 1..namenodes {
                        steps.push(Step::StartController { ns, nn });
                    }
                }
            }
        }
    }
    steps.push(Step::StartDataNodes);
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use Step::*;

    #[test]
    fn single_namenode() {
        assert_eq!(
            steps(1, 1, false, Activation::Manual),
            vec![
                Format { ns: 0 },
                StartNameNode { ns: 0, nn: 0 },
                StartDataNodes
            ]
        );
    }

    #[test]
    fn two_nameservices_by_hand() {
        assert_eq!(
            steps(2, 2, true, Activation::Manual),
            vec![
                StartJournalNodes,
                Format { ns: 0 },
                StartNameNode { ns: 0, nn: 0 },
                BootstrapStandby { ns: 0, nn: 1 },
                StartNameNode { ns: 0, nn: 1 },
                Format { ns: 1 },
                StartNameNode { ns: 1, nn: 0 },
                BootstrapStandby { ns: 1, nn: 1 },
                StartNameNode { ns: 1, nn: 1 },
                TransitionToActive { ns: 0, nn: 0 },
                WaitActive { ns: 0, nn: 0 },
                TransitionToActive { ns: 1, nn: 0 },
                WaitActive { ns: 1, nn: 0 },
                StartDataNodes,
            ]
        );
    }

    #[test]
    fn controllers_start_after_every_namenode_and_the_first_wins() {
        let s = steps(1, 3, true, Activation::ZooKeeperControllers);
        let tail = &s[s.len() - 6..];
        assert_eq!(
            tail,
            [
                FormatZooKeeper { ns: 0 },
                StartController { ns: 0, nn: 0 },
                WaitActive { ns: 0, nn: 0 },
                StartController { ns: 0, nn: 1 },
                StartController { ns: 0, nn: 2 },
                StartDataNodes,
            ]
        );
    }
}
