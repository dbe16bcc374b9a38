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
