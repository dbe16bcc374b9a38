//! Namespace tests: unit cases, a randomized model check with replay equivalence,
//! fsimage round trips and corruption, and the 1M-file memory estimate.

mod acl;
mod basic;
mod concat;
mod image;
mod memory;
mod model;
mod permissions;
mod quota;
mod snapshot;
mod truncate;

use super::*;

pub(super) fn new_ns() -> Namespace {
    Namespace::new(NamespaceConfig::default(), "hdfs", "supergroup", 1000)
}

pub(super) fn su() -> Caller {
    Caller::superuser("hdfs")
}

/// Applies a plan's op (if any) and returns the client-visible boolean.
pub(super) fn run(
    ns: &mut Namespace,
    plan: impl FnOnce(&Namespace) -> Result<Planned, NamespaceError>,
) -> Result<bool, NamespaceError> {
    match plan(ns)? {
        Planned::Apply(op) => {
            ns.apply(&op).expect("a planned op applies");
            Ok(true)
        }
        Planned::Done(b) => Ok(b),
    }
}

pub(super) fn run_op(
    ns: &mut Namespace,
    plan: impl FnOnce(&Namespace) -> Result<EditOp, NamespaceError>,
) -> Result<ApplyOutcome, NamespaceError> {
    let op = plan(ns)?;
    Ok(ns.apply(&op).expect("a planned op applies"))
}

/// A closed file at `p` (overwriting one there) with one block per length in `lens`;
/// returns its inode id.
pub(super) fn write_file(ns: &mut Namespace, p: &str, lens: &[u64], block_size: u64) -> u64 {
    let c = su();
    run_op(ns, |ns| {
        ns.plan_create(
            &c,
            p,
            0o644,
            "w",
            "127.0.0.1",
            true,
            true,
            3,
            block_size,
            3000,
        )
    })
    .unwrap();
    let mut previous = None;
    for &len in lens {
        let plan = ns.plan_add_block("w", p, 0, previous).unwrap();
        ns.apply(&plan.op.expect("a new block")).unwrap();
        previous = Some(BlockInfo {
            num_bytes: len,
            ..plan.block.block
        });
    }
    let (op, _) = ns.plan_complete("w", p, 0, previous, 4000).unwrap();
    ns.apply(&op).unwrap();
    ns.get_file_info(&c, p).unwrap().unwrap().inode_id
}

pub(super) fn mkdirs(ns: &mut Namespace, c: &Caller, p: &str) -> Result<bool, NamespaceError> {
    run(ns, |ns| ns.plan_mkdirs(c, p, 0o755, true, 2000))
}

pub(super) fn create(
    ns: &mut Namespace,
    c: &Caller,
    p: &str,
    client: &str,
) -> Result<ApplyOutcome, NamespaceError> {
    run_op(ns, |ns| {
        ns.plan_create(
            c,
            p,
            0o644,
            client,
            "127.0.0.1",
            false,
            true,
            3,
            128 << 20,
            3000,
        )
    })
}

/// The seeded xorshift64* of randomized tests.
pub(super) use hafs_util::XorShift64 as Rng;
